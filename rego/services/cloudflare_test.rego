package airlock.services.cloudflare_test

import rego.v1

import data.airlock
import data.airlock.services.test_helpers.call
import data.airlock.services.test_helpers.secrets

test_cloudflare if {
	d := airlock.decision with input as call("DELETE", "api.cloudflare.com", "/client/v4/zones/z/dns_records/r", "cloudflare", "dns.records.delete", "delete", {})
		with data.config.services.cloudflare.zones as ["z"]
	d.rule == "effect.delete"
	secrets(d) == {"cloudflare_api_token"}
	l := airlock.decision with input as call("GET", "api.cloudflare.com", "/client/v4/zones", "cloudflare", "zones.list", "read", {})
	l.rule == "effect.read"
	secrets(l) == {"cloudflare_api_token"}
}

# The token acts on whatever account or zone a path names: only on the user's own.
test_cloudflare_unconfigured_account_and_zone if {
	i := call("GET", "api.cloudflare.com", "/client/v4/accounts/attacker/storage/kv/namespaces/n/values/k", "cloudflare", "kv.values.get", "read", {})
	d := airlock.decision with input as i with data.config.services.cloudflare.accounts as ["mine"]
	d.rule == "cloudflare.account_not_allowed"
	contains(d.reason, "services.cloudflare.accounts")
	not d.credentials
	d2 := airlock.decision with input as i with data.config.services.cloudflare.accounts as ["attacker"]
	d2.rule == "effect.read"
	z := airlock.decision with input as call("GET", "api.cloudflare.com", "/client/v4/zones/other/dns_records", "cloudflare", "dns.records.list", "read", {})
	z.rule == "cloudflare.zone_not_allowed"
	u := airlock.decision with input as call("GET", "api.cloudflare.com", "/client/v4/accounts/x/unknown/route", "cloudflare", "unknown", "read", {})
	u.rule == "cloudflare.account_not_allowed"
}
