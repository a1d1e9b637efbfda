package airlock.services.slack_test

import rego.v1

import data.airlock
import data.airlock.services.test_helpers.call
import data.airlock.services.test_helpers.secrets

test_slack_webhook_gets_no_token if {
	d := airlock.decision with input as call("POST", "hooks.slack.com", "/services/T/B/X", "slack", "incoming_webhook.send", "send", {})
	d.rule == "effect.send"
	not d.credentials
	d2 := airlock.decision with input as call("POST", "slack.com", "/api/chat.postMessage", "slack", "chat.postMessage", "send", {})
	secrets(d2) == {"slack_token"}
}
