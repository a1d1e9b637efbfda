package airlock.services.neon_test

import rego.v1

import data.airlock
import data.airlock.services.test_helpers.call
import data.airlock.services.test_helpers.secrets

test_neon if {
	d := airlock.decision with input as call("POST", "ep-x.us-east-2.aws.neon.tech", "/sql", "neon", "sql.query", "read", {})
		with data.config.services.neon.endpoints as ["ep-x.us-east-2.aws.neon.tech"]
	d.credentials == [{"secret": "neon_connection_string", "in": "header", "name": "Neon-Connection-String", "format": "{}"}]
	d2 := airlock.decision with input as call("GET", "console.neon.tech", "/api/v2/projects", "neon", "projects.get", "read", {})
	secrets(d2) == {"neon_api_key"}
}

# Anyone can create an endpoint: the connection string goes only to the user's endpoint hosts.
test_neon_unconfigured_endpoint_gets_no_connection_string if {
	i := call("POST", "ep-attacker-1.us-east-2.aws.neon.tech", "/sql", "neon", "sql.query", "read", {})
	d := airlock.decision with input as i with data.config.services.neon.endpoints as ["ep-x.us-east-2.aws.neon.tech"]
	d.action == "deny"
	d.rule == "neon.endpoint_not_allowed"
	contains(d.reason, "services.neon.endpoints")
	not d.credentials
	d2 := airlock.decision with input as i
	d2.rule == "neon.endpoint_not_allowed"
}
