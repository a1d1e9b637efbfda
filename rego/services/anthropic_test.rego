package airlock.services.anthropic_test

import rego.v1

import data.airlock
import data.airlock.services.test_helpers.call

test_anthropic_key_header if {
	d := airlock.decision with input as call("POST", "api.anthropic.com", "/v1/messages", "anthropic", "messages.create", "read", {})
	d.credentials == [{"secret": "anthropic_api_key", "in": "header", "name": "x-api-key", "format": "{}"}]
	d2 := airlock.decision with input as call("POST", "api.anthropic.com", "/v1/messages", "anthropic", "messages.create", "send", {"remote_tools": ["mcp"]})
	d2.rule == "effect.send"
}
