# METADATA
# title: Cloudflare
# description: |
#   The Cloudflare API v4 (api.cloudflare.com/client/v4), including D1 SQL. The token acts on the
#   account or zone a path names (/accounts/{id}/…, /zones/{id}/…), which may be any account the
#   token can reach (an invitation accepted is enough); it is injected only for accounts and zones
#   named in services.cloudflare.accounts / zones, other ones are denied with what to configure.
package airlock.services.cloudflare

import rego.v1

owns_host if input.request.host == "api.cloudflare.com"

conf := object.get(data.airlock.config, ["services", "cloudflare"], {})

secret := object.get(conf, "secret", "cloudflare_api_token")

configured_accounts := {a | some a in object.get(conf, "accounts", [])}

configured_zones := {z | some z in object.get(conf, "zones", [])}

segments := object.get(input.request, "segments", [])

# Path segments after /client/v4 (decoded, dot-segments resolved by the describe step).
api_segments := array.slice(segments, 2, count(segments)) if {
	segments[0] == "client"
	segments[1] == "v4"
} else := segments

account := api_segments[1] if api_segments[0] == "accounts"

zone := api_segments[1] if api_segments[0] == "zones"

scope_not_configured if {
	account
	not account in configured_accounts
}

scope_not_configured if {
	zone
	not zone in configured_zones
}

credentials contains {"secret": secret, "in": "header", "name": "Authorization", "format": "Bearer {}"} if {
	not scope_not_configured
}

# Above placeholder.unauthorized (950): the reason that says what to configure wins.
verdicts contains data.airlock.deny(
	"cloudflare.account_not_allowed",
	concat("", [
		"Cloudflare account ", account, " is not a configured account: Airlock uses your API token only on accounts you name. ",
		"If it is yours, add \"", account, "\" to services.cloudflare.accounts in the policy's config/data.json",
	]),
	960,
) if {
	account
	not account in configured_accounts
}

verdicts contains data.airlock.deny(
	"cloudflare.zone_not_allowed",
	concat("", [
		"Cloudflare zone ", zone, " is not a configured zone: Airlock uses your API token only on zones you name. ",
		"If it is yours, add \"", zone, "\" to services.cloudflare.zones in the policy's config/data.json",
	]),
	960,
) if {
	zone
	not zone in configured_zones
}
