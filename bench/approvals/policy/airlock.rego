# Bench policy: the same allow with and without rate limits (limiter overhead), and an approval.
package airlock

import rego.v1

default decision := {"action": "deny", "reason": "bench: not covered", "rule": "default"}

decision := {"action": "allow", "reason": "bench: plain", "rule": "plain"} if {
	input.request.method == "GET"
	input.request.path == "/plain"
}

decision := {
	"action": "allow", "reason": "bench: limited", "rule": "limited",
	"rate_limits": [
		{"key": concat(":", ["bench", input.agent.id]), "limit": 1000000000, "window": "1s"},
		{"key": "bench-bytes", "limit": 1000000000000, "window": "1h", "unit": "egress_bytes"},
	],
} if {
	input.request.method == "GET"
	input.request.path == "/limited"
}

decision := {"action": "approve", "reason": "bench: approval", "rule": "approve", "approval": {"risk": "low", "timeout": "60s"}} if {
	input.request.method == "POST"
	input.request.path == "/approve"
}
