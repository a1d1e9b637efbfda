package airlock.services.neon_test

import rego.v1

import data.airlock
import data.airlock.services.test_helpers.call
import data.airlock.services.test_helpers.secrets

test_neon if {
	d := airlock.decision with input as call("POST", "ep-x.us-east-2.aws.neon.tech", "/sql", "neon", "sql.query", "read", {})
	d.credentials == [{"secret": "neon_connection_string", "in": "header", "name": "Neon-Connection-String", "format": "{}"}]
	d2 := airlock.decision with input as call("GET", "console.neon.tech", "/api/v2/projects", "neon", "api.get", "read", {})
	secrets(d2) == {"neon_api_key"}
}
