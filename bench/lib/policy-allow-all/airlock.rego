# The benchmark's allow-all policy: one unconditional allow. What remains per request is the
# proxy's own machinery (authentication, description, a WebAssembly evaluation on the evaluation
# thread, destination safety, audit), which is what the allow-all figure measures.
package airlock

import rego.v1

default decision := {"action": "allow", "reason": "bench: allow all", "rule": "bench-allow-all"}
