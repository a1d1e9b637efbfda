package airlock.services.stripe_test

import rego.v1

import data.airlock
import data.airlock.services.test_helpers.call

test_stripe if {
	d := airlock.decision with input as call("POST", "api.stripe.com", "/v1/payment_intents", "stripe", "payment_intents.create", "pay", {})
	d.rule == "effect.pay"
	d.approval.step_up
	d.credentials == [{"secret": "stripe_key", "in": "header", "name": "Authorization", "format": "Bearer {}"}]
}
