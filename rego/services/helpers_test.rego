# Shared helpers for the service module tests (a test file, so never part of the policy bundle).
package airlock.services.test_helpers

import rego.v1

# A recognized service call as the proxy describes it (only the fields the policy reads).
call(method, host, path, name, operation, effect, params) := {
	"request": {
		"method": method, "scheme": "https", "host": host, "port": 443, "path": path,
		"segments": [s | some s in split(path, "/"); s != ""],
		"query": {}, "headers": {}, "egress_bytes": 1,
	},
	"agent": {"id": "a"},
	"service": {"name": name, "operation": operation, "params": params, "effect": effect},
	"placeholders": [],
	"grants": [],
}

secrets(d) := {c.secret | some c in d.credentials}
