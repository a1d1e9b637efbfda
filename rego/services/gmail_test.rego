package airlock.services.gmail_test

import rego.v1

import data.airlock
import data.airlock.services.test_helpers.call
import data.airlock.services.test_helpers.secrets

test_gmail_send if {
	d := airlock.decision with input as call("POST", "gmail.googleapis.com", "/gmail/v1/users/me/messages/send", "gmail", "messages.send", "send", {})
	d.rule == "effect.send"
	secrets(d) == {"gmail_token"}
}

test_gmail_on_shared_google_host_only_for_gmail if {
	d := airlock.decision with input as call("GET", "www.googleapis.com", "/gmail/v1/users/me/messages", "gmail", "messages.list", "read", {})
	d.rule == "effect.read"
	secrets(d) == {"gmail_token"}
	other := object.remove(call("GET", "www.googleapis.com", "/drive/v3/files", "x", "x", "read", {}), ["service"])
	d2 := airlock.decision with input as other
	d2.rule == "host.unknown"
}
