# Benchmark policy: a realistic shape (default deny, a host allow-list, a denied path) so the
# measured decision is not a constant.
package airlock

import rego.v1

default decision := {"action": "deny", "reason": "host not on the allow-list", "rule": "default"}

allowed_hosts := {"127.0.0.1", "localhost", "bench.local"}

decision := {"action": "allow", "reason": "bench upstream", "rule": "bench-allow"} if {
	input.request.host in allowed_hosts
	input.request.method in {"GET", "HEAD"}
	not startswith(input.request.path, "/admin")
}
