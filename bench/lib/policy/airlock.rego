# The benchmark's policy: a handful of rules in the shape real policies take, allowing the local
# origin server. Every request is still described, decided in WebAssembly and audited.
package airlock

import rego.v1

default decision := {"action": "deny", "reason": "not the bench origin", "rule": "default-deny"}

decision := {"action": "allow", "reason": "bench origin", "rule": "bench-origin"} if {
	input.request.host == "127.0.0.1"
	input.request.method in {"GET", "HEAD", "POST"}
	not forbidden
}

forbidden if startswith(input.request.path, "/admin")

forbidden if count(input.placeholders) > 0

forbidden if input.request.egress_bytes > 2147483648
