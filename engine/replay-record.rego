# Built into every policy bundle next to the user's modules (engine/compile.ts). Replay evaluates
# an audit-record line through this entrypoint, so the line is parsed once, inside WASM, instead
# of parsed in JavaScript and the description serialized again for the policy.
# The package name is reserved.
package airlock_internal.replay

import rego.v1

# Defined only for a record whose "description" is an object (replay reads anything else in
# JavaScript). `decisions` holds the policy's decision for that description, if it made one;
# `skeleton` carries the fields replay checks before it counts a record (descriptionProblem in
# engine/replay.ts), as they are.
record := {
	"decisions": [d | d := data.airlock.decision with input as input.description],
	"recorded": object.get(input, "decision", null),
	"skeleton": {"request": request_fields, "agent": agent_fields},
} if {
	is_object(input.description)
}

request_fields := {
	"method": object.get(r, "method", null),
	"host": object.get(r, "host", null),
	"time": object.get(r, "time", null),
} if {
	r := input.description.request
	is_object(r)
} else := null

agent_fields := {"id": object.get(a, "id", null)} if {
	a := input.description.agent
	is_object(a)
} else := null
