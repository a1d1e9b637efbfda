package airlock.services.cloudflare_test

import rego.v1

import data.airlock
import data.airlock.services.test_helpers.call
import data.airlock.services.test_helpers.secrets

test_cloudflare if {
	d := airlock.decision with input as call("DELETE", "api.cloudflare.com", "/client/v4/zones/z/dns_records/r", "cloudflare", "dns.records.delete", "delete", {})
	d.rule == "effect.delete"
	secrets(d) == {"cloudflare_api_token"}
}
