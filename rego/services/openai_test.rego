package airlock.services.openai_test

import rego.v1

import data.airlock
import data.airlock.services.test_helpers.call
import data.airlock.services.test_helpers.secrets

test_openai_inference_reads if {
	d := airlock.decision with input as call("POST", "api.openai.com", "/v1/chat/completions", "openai", "chat.completions.create", "read", {})
	d.action == "allow"
	secrets(d) == {"openai_api_key"}
}
