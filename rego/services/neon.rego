# METADATA
# title: Neon
# description: |
#   SQL over HTTP on the user's endpoints (the hosts in services.neon.endpoints, as in the
#   connection string) and the console API (console.neon.tech). Anyone can create a Neon endpoint,
#   so the connection string goes only to configured endpoint hosts; any other *.neon.tech host
#   is denied with what to configure.
package airlock.services.neon

import rego.v1

owns_host if endswith(input.request.host, ".neon.tech")

conf := object.get(data.airlock.config, ["services", "neon"], {})

configured_endpoints := {lower(e) | some e in object.get(conf, "endpoints", [])}

console_host if input.request.host == "console.neon.tech"

endpoint_configured if input.request.host in configured_endpoints

# The serverless driver authenticates SQL with the whole connection string in a header.
credentials contains {"secret": object.get(conf, "secret", "neon_connection_string"), "in": "header", "name": "Neon-Connection-String", "format": "{}"} if {
	input.service.operation == "sql.query"
	endpoint_configured
}

credentials contains {"secret": object.get(conf, "api_secret", "neon_api_key"), "in": "header", "name": "Authorization", "format": "Bearer {}"} if {
	console_host
}

# Above placeholder.unauthorized (950): the reason that says what to configure wins.
verdicts contains data.airlock.deny(
	"neon.endpoint_not_allowed",
	concat("", [
		input.request.host, " is not a configured Neon endpoint: anyone can create one, so Airlock sends your connection ",
		"string only to endpoints you name. If it is yours (the host in your connection string), add \"", input.request.host,
		"\" to services.neon.endpoints in the policy's config/data.json",
	]),
	960,
) if {
	not console_host
	not endpoint_configured
}
