# Host presets: named lists of hosts agents may use without a service module (config/data.json
# "host_presets"), switched on with "presets" at the top of the config (every agent) or in an
# agent's entry. The default config defines one, "package_registries": the public npm, PyPI,
# crates.io, Go module proxy, Maven Central and RubyGems registries. Installing is reading
# (allowed); a listed read-only POST (npm's audit) is allowed; publishing is held for a human
# (high risk), deleting/unpublishing with critical risk. No credential is ever injected here.
package airlock

import rego.v1

enabled_presets contains name if {
	some name in object.get(config, "presets", [])
}

enabled_presets contains name if {
	some name in object.get(agent_config, "presets", [])
}

# Presets (enabled or not) that list the request's host.
presets_of_host contains name if {
	some name, preset in object.get(config, "host_presets", {})
	some h in object.get(preset, "hosts", [])
	host_matches(h, input.request.host)
}

preset_host_allowed if {
	some name in presets_of_host
	name in enabled_presets
}

preset_host_request if {
	plain_host_request
	preset_host_allowed
}

preset_label := concat(", ", sort({n | some n in presets_of_host; n in enabled_presets}))

# POSTs a preset declares read-only ("host/path"), e.g. npm's audit: it sends the dependency list
# and gets advisories back.
preset_read_post if {
	request_methods == {"POST"}
	some name in presets_of_host
	name in enabled_presets
	some entry in object.get(config.host_presets[name], "read_posts", [])
	entry == concat("", [input.request.host, input.request.path])
}

verdicts contains allow("preset.read", concat("", [host, " is in host preset ", preset_label, " and ", input.request.method, " only reads"])) if {
	preset_host_request
	reads_only
}

verdicts contains allow("preset.read_post", concat("", ["POST ", host, input.request.path, " only reads (declared read-only by host preset ", preset_label, ")"])) if {
	preset_host_request
	preset_read_post
}

# Every method the upstream may run counts (request_methods: the request line's and any override's).
verdicts contains approve("preset.write", concat("", [concat(", ", sort(request_methods)), " to ", host, " publishes or changes something on a registry (host preset ", preset_label, "): a human must approve"]), "high") if {
	preset_host_request
	not reads_only
	not "DELETE" in request_methods
	not preset_read_post
}

verdicts contains approve("preset.delete", concat("", ["DELETE to ", host, " removes something from a registry (host preset ", preset_label, "): a human must approve (critical)"]), "critical") if {
	preset_host_request
	"DELETE" in request_methods
}

# Hosts a preset lists under "raw_path_hosts" get the path as sent: npm names a scoped package
# "/@scope%2fname", an encoded slash that is otherwise refused as a path that can mean two things.
preset_raw_path if {
	preset_host_request
	some name in presets_of_host
	name in enabled_presets
	some h in object.get(config.host_presets[name], "raw_path_hosts", [])
	host_matches(h, input.request.host)
}

# For the host.unknown reason: a listed host whose preset is off says how to switch it on.
default preset_hint := ""

preset_hint := concat("", [
	"; it is in host preset ", concat(", ", sort(presets_of_host)),
	": enable it with \"presets\": [\"", sort(presets_of_host)[0], "\"] in rego/config/data.json and restart Airlock (or publish it from the studio)",
]) if {
	count(presets_of_host) > 0
	not preset_host_allowed
}
