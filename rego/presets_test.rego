package airlock_test

import rego.v1

import data.airlock

registries := {"presets": ["package_registries"]}

npm_get := req("GET", "registry.npmjs.org", "/left-pad")

test_registries_off_by_default_and_the_denial_says_how_to_enable if {
	d := airlock.decision with input as npm_get
	d.rule == "host.unknown"
	contains(d.reason, "it is in host preset package_registries: enable it with \"presets\": [\"package_registries\"]")
}

test_install_reads_allowed if {
	every i in [npm_get, req("GET", "pypi.org", "/simple/requests/"), req("GET", "files.pythonhosted.org", "/packages/x.whl"), req("HEAD", "index.crates.io", "/3/s/serde")] {
		d := airlock.decision with input as i with data.config.presets as registries.presets
		d.rule == "preset.read"
		d.action == "allow"
		not d.credentials
	}
}

test_npm_audit_is_a_read if {
	d := airlock.decision with input as req("POST", "registry.npmjs.org", "/-/npm/v1/security/advisories/bulk") with data.config.presets as registries.presets
	d.rule == "preset.read_post"
	d.action == "allow"
}

test_publish_held_high if {
	every i in [req("PUT", "registry.npmjs.org", "/left-pad"), req("POST", "upload.pypi.org", "/legacy/"), req("PUT", "crates.io", "/api/v1/crates/new"), req("POST", "registry.npmjs.org", "/-/npm/v1/security/other")] {
		d := airlock.decision with input as i with data.config.presets as registries.presets
		d.rule == "preset.write"
		d.action == "approve"
		d.approval.risk == "high"
	}
}

test_unpublish_held_critical if {
	d := airlock.decision with input as req("DELETE", "registry.npmjs.org", "/left-pad/-rev/1") with data.config.presets as registries.presets
	d.rule == "preset.delete"
	d.approval.risk == "critical"
	d.approval.step_up
}

test_per_agent_preset if {
	cfg := {"agent-1": {"services": [], "hosts": [], "presets": ["package_registries"]}}
	d := airlock.decision with input as npm_get with data.config.agents as cfg
	d.rule == "preset.read"
	d2 := airlock.decision with input as object.union(npm_get, {"agent": {"id": "other", "labels": {}}}) with data.config.agents as cfg
	d2.rule == "host.unknown"
}

test_placeholders_still_refused_on_registries if {
	d := airlock.decision with input as with_placeholder(npm_get, "github_token", ["header"]) with data.config.presets as registries.presets
	d.rule == "placeholder.unauthorized"
}

test_unlisted_host_not_covered if {
	d := airlock.decision with input as req("GET", "evil-registry.example", "/x") with data.config.presets as registries.presets
	d.rule == "host.unknown"
}

# A read on the request line with a method override is judged by every method it may run.
test_method_override_is_not_a_read if {
	i := json.patch(npm_get, [{"op": "add", "path": "/request/method_override", "value": {"values": ["PUT"], "where": ["header"]}}])
	d := airlock.decision with input as i with data.config.presets as registries.presets
	d.rule == "preset.write"
	i2 := json.patch(req("POST", "registry.npmjs.org", "/-/npm/v1/security/advisories/bulk"), [{"op": "add", "path": "/request/method_override", "value": {"values": ["DELETE"], "where": ["header"]}}])
	d2 := airlock.decision with input as i2 with data.config.presets as registries.presets
	d2.rule == "preset.delete"
}

# npm's scoped packages: "/@scope%2fname" is forwarded as sent on the registry hosts that list it.
test_npm_scoped_package_path_as_sent if {
	d := airlock.decision with input as req("GET", "registry.npmjs.org", "/@acme%2Fthing") with data.config.presets as registries.presets
	d.rule == "preset.read"
	d.raw_path == true
	d2 := airlock.decision with input as req("GET", "pypi.org", "/simple/requests/") with data.config.presets as registries.presets
	not d2.raw_path
	d3 := airlock.decision with input as req("GET", "registry.npmjs.org", "/@acme%2Fthing")
	not d3.raw_path
}
