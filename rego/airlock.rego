package airlock
import rego.v1
default decision := {"action": "deny", "reason": "default deny", "rule": "default"}
decision := {"action": "allow", "reason": "get ok", "rule": "get", "rate_limits": [{"key": "k", "limit": 10, "window": "1m"}]} if {
  input.request.method == "GET"
  time.now_ns() > time.parse_rfc3339_ns("2020-01-01T00:00:00Z")
  crypto.sha256("x") != ""
}
