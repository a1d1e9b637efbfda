# METADATA
# title: Airlock default policy
# description: |
#   Deny by default. Known services are allowed per agent (config/data.json); reads pass,
#   writes and outbound messages wait for a human, deletes, payments, admin changes and
#   destructive SQL wait for a human with critical risk and step-up. Credentials are bound to
#   each service's own hosts (services/*.rego). Every request gets exactly one decision with a
#   stable rule id (docs/policies.md lists them).
package airlock

import rego.v1

# ---------------------------------------------------------------------------------------------
# Configuration: rego/config/data.json (data.config). Every key has a safe default.

default config := {}

config := data.config

# An agent listed by id uses its own entry; otherwise the entries of "agent_labels" whose
# "name=value" key matches one of its labels (merged); otherwise "*".
default agent_config := {}

agent_config := c if {
	c := config.agents[input.agent.id]
} else := c if {
	count(label_entries) > 0
	c := {
		"services": {s | some e in label_entries; some s in object.get(e, "services", [])},
		"hosts": [h | some e in label_entries; some h in object.get(e, "hosts", [])],
	}
} else := c if {
	c := config.agents["*"]
}

label_entries := [e |
	some key, e in object.get(config, "agent_labels", {})
	parts := split(key, "=")
	count(parts) == 2
	input.agent.labels[parts[0]] == parts[1]
]

# A list or a set; only membership is asked of it (no set is built per request).
agent_services := object.get(agent_config, "services", [])

approval_timeout := object.get(config, "approval_timeout", "15m")

# ---------------------------------------------------------------------------------------------
# Which hosts this agent may reach.

# Services whose module (services/*.rego) claims the request's host.
owning_services contains name if {
	some name
	data.airlock.services[name].owns_host
}

enabled_services contains name if {
	some name in owning_services
	name in agent_services
}

# The recognized service is enabled for this agent and its module owns the host: credentials may bind.
# (The same as `input.service.name in enabled_services`, without asking every module about the host.)
service_enabled if {
	data.airlock.services[input.service.name].owns_host
	input.service.name in agent_services
}

# Extra hosts: strings ("pypi.org", "*.example.com") or {"host": …, "methods": ["GET", "POST"]}.
extra_host_entries := array.concat(object.get(config, "allowed_hosts", []), object.get(agent_config, "hosts", []))

host_matches(pattern, host) if pattern == host

host_matches(pattern, host) if {
	startswith(pattern, "*.")
	endswith(host, substring(pattern, 1, -1))
}

# An entry written in Unicode (`wiki.bücher.example`) names the host requests carry in punycode
# (`wiki.xn--bcher-kva.example`): `input.request.host_unicode` is its Unicode form.
host_matches(pattern, host) if {
	host == input.request.host
	unicode_host_matches(lower(pattern), input.request.host_unicode)
}

unicode_host_matches(pattern, u) if pattern == u

unicode_host_matches(pattern, u) if {
	startswith(pattern, "*.")
	endswith(u, substring(pattern, 1, -1))
}

entry_host(entry) := entry if is_string(entry)

entry_host(entry) := entry.host if is_object(entry)

matching_extra_hosts := [e | some e in extra_host_entries; host_matches(entry_host(e), input.request.host)]

extra_host_allowed if count(matching_extra_hosts) > 0

# Methods an extra host entry allows without asking (a bare string allows only reads).
extra_host_methods := {upper(m) | some e in matching_extra_hosts; is_object(e); some m in object.get(e, "methods", [])}

mcp_server := config.mcp_servers[input.request.host]

mcp_host_allowed if {
	"mcp" in agent_services
	mcp_server
}

# Cheapest first: most requests are to a recognized, enabled service.
default host_allowed := false

host_allowed if {
	service_enabled
} else if {
	count(enabled_services) > 0
} else if {
	extra_host_allowed
} else if {
	mcp_host_allowed
} else if {
	preset_host_allowed
}

read_methods := {"GET", "HEAD", "OPTIONS"}

# Every method the upstream may run: the request line's and any method override's
# (input.request.method_override, docs/policies.md). A request only reads if all of them read.
request_methods := ({input.request.method} | {m | some m in object.get(input.request, ["method_override", "values"], [])}) | graphql_methods

# A GraphQL mutation or subscription in a GET's URL: servers that do not refuse it (graphql-ruby
# runs whatever the controller routes) change state as for a POST, so the request does not only read.
graphql_changes if {
	some op in input.graphql.operations
	op.type != "query"
}

default graphql_methods := set()

graphql_methods := {"POST"} if graphql_changes

reads_only if {
	every m in request_methods {
		m in read_methods
	}
}

# ---------------------------------------------------------------------------------------------
# Credentials: only the recognized, enabled service's module binds its secrets, only over HTTPS
# to the standard port of that service's own hosts.

default credentials := []

credentials := [c | some c in data.airlock.services[input.service.name].credentials] if {
	service_enabled
	input.request.scheme == "https"
	input.request.port == 443
}

authorized_secrets := {c.secret | some c in credentials}

# Where a placeholder may appear for the directive that replaces it.
placeholder_location := {"header": "header", "basic": "header", "query": "query", "body": "body"}

allowed_locations(name) := {placeholder_location[c.in] | some c in credentials; c.secret == name}

unauthorized_placeholders := {p.name | some p in input.placeholders; not p.name in authorized_secrets}

misplaced_placeholders := {p.name |
	some p in input.placeholders
	p.name in authorized_secrets
	some w in p.where
	not w in allowed_locations(p.name)
}

# ---------------------------------------------------------------------------------------------
# Verdict helpers. Service modules use them too (data.airlock.approve(...)).

risk_priority := {"low": 100, "medium": 200, "high": 300, "critical": 400}

deny(rule, reason, priority) := {"action": "deny", "rule": rule, "reason": reason, "priority": priority}

# Specific rules (SQL, MCP, service modules) outrank the generic effect rule at the same risk.
approve(rule, reason, risk) := {
	"action": "approve", "rule": rule, "reason": reason, "risk": risk,
	"priority": risk_priority[risk] + 10,
}

effect_approve(rule, reason, risk) := {
	"action": "approve", "rule": rule, "reason": reason, "risk": risk,
	"priority": risk_priority[risk],
}

allow(rule, reason) := {"action": "allow", "rule": rule, "reason": reason, "priority": 0}

# "github repos.delete" — how reasons name the recognized operation.
operation_label := concat(" ", [input.service.name, input.service.operation])

host := input.request.host

# ---------------------------------------------------------------------------------------------
# Verdicts: every rule that has an opinion adds one. The most severe wins (deny > approve by risk
# > allow); ties go to the smallest rule id, so the decision is always exactly one.

# (Helper rules, because `not f(input.x)` is undefined rather than true when input.x is missing.)
request_valid if is_object(input.request)

agent_valid if is_string(input.agent.id)

verdicts contains deny("input.invalid", "the request description is missing request or agent fields", 1000) if {
	not request_valid
}

verdicts contains deny("input.invalid", "the request description is missing request or agent fields", 1000) if {
	not agent_valid
}

verdicts contains deny(
	"placeholder.unauthorized",
	concat("", [
		"the request carries the placeholder of secret(s) ", concat(", ", sort(unauthorized_placeholders)),
		" but no credential for ", host, " is bound to them: secrets go only to their own service",
		expected_secrets_hint,
	]),
	950,
) if {
	count(unauthorized_placeholders) > 0
}

# When the destination does take a secret, the likeliest cause is a value stored under another
# name: say which name this host takes.
default expected_secrets_hint := ""

expected_secrets_hint := concat("", [
	"; ", host, " takes secret ", concat(" or ", sort(authorized_secrets)),
	" (store the value under that name: airlock secret set ", sort(authorized_secrets)[0], ")",
]) if {
	count(authorized_secrets) > 0
}

verdicts contains deny(
	"placeholder.misplaced",
	concat("", [
		"the placeholder of secret(s) ", concat(", ", sort(misplaced_placeholders)),
		" appears outside the place its credential is injected (e.g. in the body or URL instead of the header)",
	]),
	940,
) if {
	count(misplaced_placeholders) > 0
}

verdicts contains deny(
	"service.not_allowed",
	concat("", [host, " belongs to service(s) ", concat(", ", sort(owning_services)), " which agent ", input.agent.id, " may not use"]),
	900,
) if {
	not host_allowed
	count(owning_services) > 0
}

verdicts contains deny("host.unknown", concat("", [host, " is not a known service or an allowed host: Airlock denies unknown destinations", preset_hint, allowed_host_hint]), 900) if {
	not host_allowed
	count(owning_services) == 0
	not browse_allowed # a link a response of this session served (sessions.rego)
}

# For the host.unknown reason: an "allowed_hosts" that is not a list, or an entry written as a URL
# or with a port, matches nothing; say so instead of leaving the user to wonder why the host is
# unknown.
default allowed_host_hint := ""

allowed_host_hint := "; \"allowed_hosts\" in the policy's config/data.json must be a list, e.g. [\"pypi.org\"]" if {
	not is_array(object.get(config, "allowed_hosts", []))
} else := concat("", ["; \"allowed_hosts\" lists ", json.marshal(misspelt_hosts[0]), ", which matches no host: write the host alone, ", json.marshal(host)]) if {
	count(misspelt_hosts) > 0
}

misspelt_hosts := [e |
	some e in object.get(config, "allowed_hosts", [])
	is_string(e)
	contains(e, host)
	regex.match(`[/:@]`, e)
]

# Effects of a recognized service operation. A table, so only the verdict this request needs is
# built (this runs for every request).
effect_specs := {
	"read": {"rule": "effect.read", "says": " only reads", "risk": ""},
	"write": {"rule": "effect.write", "says": " changes data: a human must approve", "risk": "medium"},
	"send": {"rule": "effect.send", "says": " sends or publishes on your behalf: a human must approve", "risk": "high"},
	"delete": {"rule": "effect.delete", "says": " deletes data: a human must approve (critical)", "risk": "critical"},
	"pay": {"rule": "effect.pay", "says": " moves money: a human must approve (critical)", "risk": "critical"},
	"admin": {"rule": "effect.admin", "says": " changes access or configuration: a human must approve (critical)", "risk": "critical"},
}

verdicts contains allow(spec.rule, concat("", [operation_label, spec.says])) if {
	host_allowed
	spec := effect_specs[input.service.effect]
	spec.risk == ""
}

verdicts contains effect_approve(spec.rule, concat("", [operation_label, spec.says]), spec.risk) if {
	host_allowed
	spec := effect_specs[input.service.effect]
	spec.risk != ""
}

# An effect outside the contract fails closed.
verdicts contains deny("effect.unknown", concat("", [operation_label, " has an unknown effect"]), 890) if {
	host_allowed
	not effect_specs[input.service.effect]
	input.service.effect
}

# Service modules add their own verdicts (force pushes, payouts …).
verdicts contains v if {
	host_allowed
	some v in data.airlock.services[input.service.name].verdicts
}

# A git push whose options ask the server to merge what it pushes (GitLab's
# `merge_request.merge_when_pipeline_succeeds` and `merge_request.auto_merge`) ships code as a merge does.
merging_push_options := {"merge_request.merge_when_pipeline_succeeds", "merge_request.auto_merge"}

verdicts contains approve("git.push_merge", concat("", ["a push asking the server to merge it (", concat(", ", merging_options), ") can ship code: a human must approve"]), "high") if {
	host_allowed
	count(merging_options) > 0
}

merging_options contains o if {
	input.service.operation == "git.push"
	some o in object.get(input.service.params, "push_options", [])
	is_string(o)
	push_option_key(o) in merging_push_options
}

# Gerrit creates a change and submits it at once, review bypassed, for a push to
# `refs/for/<branch>%submit` (options after `%`, comma-separated) or with the push option `submit`
# (seventeenth pass).
merging_options contains ref if {
	input.service.operation == "git.push"
	some ref in object.get(input.service.params, "refs", [])
	is_string(ref)
	contains(ref, "%")
	some o in split(substring(ref, indexof(ref, "%") + 1, -1), ",")
	lower(trim_space(split(o, "=")[0])) == "submit"
}

merging_options contains o if {
	input.service.operation == "git.push"
	some o in object.get(input.service.params, "push_options", [])
	is_string(o)
	lower(trim_space(split(o, "=")[0])) == "submit"
}

# An option's `namespace.key` as GitLab reads it (Gitlab::PushOptions): the namespace up to the
# first `.`, the key up to the first `=`, each trimmed, and `mr` for `merge_request`
# (seventeenth pass: `-o mr.merge_when_pipeline_succeeds` merged, read as no merge).
push_option_key(o) := concat(".", [object.get(push_option_aliases, ns, ns), key]) if {
	name := split(o, "=")[0]
	dot := indexof(name, ".")
	dot > 0
	ns := lower(trim_space(substring(name, 0, dot)))
	key := lower(trim_space(substring(name, dot + 1, -1)))
}

push_option_aliases := {"mr": "merge_request"}

# SQL carried over HTTP (input.sql), whatever the service.
verdicts contains deny("sql.drop_database", "DROP DATABASE is never approved from a chat: run it yourself if you mean it", 850) if {
	host_allowed
	some s in input.sql.statements
	s.kind == "drop_database"
}

verdicts contains approve("sql.unparsed", concat("", ["SQL that could not be parsed is treated as destructive: ", object.get(input.sql, "error", "unparsed")]), "critical") if {
	host_allowed
	input.sql.parsed == false
}

destructive_statements := sort({s.kind | some s in input.sql.statements; s.destructive})

# Parsed SQL flagged destructive, by its statements or (for other producers of input.sql) as a whole.
sql_destructive if count(destructive_statements) > 0

sql_destructive if {
	input.sql.destructive == true
	input.sql.parsed != false
}

verdicts contains approve("sql.destructive", concat("", ["destructive SQL (", concat(", ", destructive_statements), "): a human must approve (critical)"]), "critical") if {
	host_allowed
	sql_destructive
}

# Bodies servers read in more than one way (duplicate JSON keys, a Content-Type the body
# contradicts, conflicting charsets, SQL two grammars read differently): the description already
# carries the worst reading, and the request is held at least at high risk, so a reading this
# policy rates lower can never pass unseen. input.request.body.ambiguous_reasons says why.
body_ambiguous if {
	input.request.body.ambiguous == true
	not benign_ambiguity
}

ambiguity_codes := sort({r.code | some r in input.request.body.ambiguous_reasons})

# One ambiguity is everyday and harmless: JSON typed as a form or text by a plain client
# (`curl -d '{…}'`). When that is the only one and the worst reading is still a recognized read
# (no SQL, no JSON-RPC), every server reads a read, so it is decided as one. Duplicate keys,
# conflicting charsets or Content-Types and SQL dialect disagreements are always held.
benign_ambiguity if {
	ambiguity_codes == ["content_type_mismatch"]
	input.service.effect == "read"
	not input.sql
	not input.mcp
	not input.graphql
}

verdicts contains approve("body.ambiguous", concat("", ["the request body reads differently to different servers (", concat(", ", ambiguity_codes), "): a human must approve"]), "high") if {
	host_allowed
	body_ambiguous
}

# A body to a configured MCP server that is not a readable JSON-RPC message (cut off at the
# capture limit, undecodable, not JSON-RPC) fails closed rather than passing as a plain write.
# JSON-RPC responses the client posts (answers to sampling or elicitation) are readable: they
# stay ordinary writes.
jsonrpc_body if input.request.body.json.jsonrpc == "2.0"

jsonrpc_body if {
	is_array(input.request.body.json)
	count(input.request.body.json) > 0
	every m in input.request.body.json {
		m.jsonrpc == "2.0"
	}
}

verdicts contains approve("mcp.unreadable", "the body to this MCP server could not be read as JSON-RPC (truncated, undecodable or not JSON-RPC): a human must approve (critical)", "critical") if {
	plain_host_request
	mcp_host_allowed
	not input.request.method in {"GET", "HEAD", "DELETE", "OPTIONS"}
	not jsonrpc_body
}

# A method override that cannot be read one way (unknown verb, conflicting values, several places,
# a body not seen whole): the service was already judged by its most dangerous reading; the
# request is held at least at high risk whatever that reading was.
verdicts contains approve(
	"request.method_override",
	concat("", ["the request's method override cannot be read one way (", object.get(input.request.method_override, "reason", "ambiguous"), "): a human must approve"]),
	"high",
) if {
	host_allowed
	input.request.method_override.ambiguous == true
}

# A body to a GraphQL endpoint that is not readable GraphQL: what it would run is unknown.
verdicts contains approve(
	"graphql.unparsed",
	concat("", ["the GraphQL request could not be read (", object.get(input.graphql, "error", "unparsed"), "): a human must approve"]),
	"high",
) if {
	host_allowed
	input.graphql.parsed == false
}

# Upgraded connections (WebSocket) are not inspected after the handshake.
verdicts contains approve("request.upgrade", concat("", ["a ", input.request.upgrade, " connection to ", host, " is not inspected after it opens: a human must approve"]), "high") if {
	host_allowed
	input.request.upgrade
}

# Extra allowed hosts without a recognized service: reads pass, other methods ask.
plain_host_request if {
	not input.service
	not input.mcp
}

verdicts contains allow("host.allowed", concat("", [host, " is an allowed host and ", input.request.method, " only reads"])) if {
	plain_host_request
	extra_host_allowed
	reads_only
}

# Methods beyond reads that no entry for this host lists.
unlisted_methods := {m | some m in request_methods; not m in read_methods; not m in extra_host_methods}

verdicts contains allow("host.allowed_method", concat("", [concat(", ", sort(request_methods)), " is allowed for ", host, " by configuration"])) if {
	plain_host_request
	extra_host_allowed
	not reads_only
	count(unlisted_methods) == 0
}

verdicts contains approve("host.write", concat("", [concat(", ", sort(unlisted_methods)), " to ", host, " sends data out: a human must approve"]), "medium") if {
	plain_host_request
	host_allowed
	not preset_host_request
	count(unlisted_methods) > 0
}

# MCP server transport without a JSON-RPC call (the SSE stream, session end).
verdicts contains allow("mcp.transport", "MCP transport request to a configured MCP server") if {
	plain_host_request
	mcp_host_allowed
	every m in request_methods {
		m in {"GET", "HEAD", "DELETE"}
	}
}

# ---------------------------------------------------------------------------------------------
# MCP (JSON-RPC over HTTP): listing and reading pass, tool calls ask unless configured read-only.

mcp_calls := input.mcp.batch if {
	is_array(input.mcp.batch)
} else := [input.mcp] if {
	input.mcp
}

mcp_read_methods := {
	"initialize", "ping", "tools/list", "resources/list", "resources/templates/list", "resources/read",
	"prompts/list", "prompts/get", "completion/complete", "logging/setLevel",
	"resources/subscribe", "resources/unsubscribe",
}

mcp_read_only_tools := {t | some t in object.get(mcp_server, "read_only_tools", [])}

mcp_call_is_read(c) if c.method in mcp_read_methods

mcp_call_is_read(c) if startswith(c.method, "notifications/")

mcp_call_is_read(c) if {
	c.method == "tools/call"
	c.tool in mcp_read_only_tools
	not mcp_sql_writes(object.get(c, "sql", {}))
}

# SQL a tool call carries that writes (INSERT, UPDATE, DELETE, DDL, CALL …): the server runs it
# whatever the tool is named, so a tool configured read-only is not read for that call (sixteenth
# pass: `search_issues {sql: "UPDATE users SET role = 'admin' WHERE id = 7"}` was allowed). A
# SELECT stays a read; a search phrase no grammar reads has no statements.
mcp_sql_read_kinds := {"select", "explain", "show", "transaction"}

mcp_sql_writes(sql) if {
	some s in object.get(sql, "statements", [])
	not s.kind in mcp_sql_read_kinds
}

mcp_tool_calls := {object.get(c, "tool", "(no tool name)") | some c in mcp_calls; c.method == "tools/call"; not mcp_call_is_read(c)}

mcp_other_methods := {c.method | some c in mcp_calls; c.method != "tools/call"; not mcp_call_is_read(c)}

verdicts contains allow("mcp.read", "MCP request that only lists or reads") if {
	host_allowed
	count(mcp_calls) > 0
	every c in mcp_calls {
		mcp_call_is_read(c)
	}
}

verdicts contains approve("mcp.tool_call", concat("", ["MCP tool call(s) ", concat(", ", sort(mcp_tool_calls)), " on ", host, ": a human must approve"]), "high") if {
	host_allowed
	count(mcp_tool_calls) > 0
}

# SQL a tool call carries in its arguments (input.mcp.sql: Supabase execute_sql, Neon run_sql …)
# is judged as SQL: destructive statements are critical whatever the tool, read-only ones included.
mcp_destructive_sql_tools := {object.get(c, "tool", "(no tool name)") |
	some c in mcp_calls
	c.method == "tools/call"
	mcp_sql_destructive(c.sql)
}

mcp_sql_destructive(sql) if {
	sql.parsed == true
	sql.destructive == true
}

# A destructive statement in one argument, whatever another argument beside it holds (a phrase
# that is not SQL, in a field the server ignores, leaves the call unparsed as a whole).
mcp_sql_destructive(sql) if {
	some s in sql.statements
	s.destructive == true
}

# Past the request's budget of SQL analysis (many calls carrying SQL): not seen, so held as the worst.
mcp_sql_destructive(sql) if sql.limited == true

verdicts contains approve("mcp.sql_destructive", concat("", ["MCP tool call(s) ", concat(", ", sort(mcp_destructive_sql_tools)), " on ", host, " carry destructive SQL: a human must approve (critical)"]), "critical") if {
	host_allowed
	count(mcp_destructive_sql_tools) > 0
}

verdicts contains approve("mcp.method", concat("", ["MCP method(s) ", concat(", ", sort(mcp_other_methods)), ": a human must approve"]), "medium") if {
	host_allowed
	count(mcp_other_methods) > 0
}

# ---------------------------------------------------------------------------------------------
# Choosing one verdict.

top_priority := max({v.priority | some v in verdicts})

chosen_rule := min({v.rule | some v in verdicts; v.priority == top_priority})

chosen := sort([v | some v in verdicts; v.priority == top_priority; v.rule == chosen_rule])[0]

# Human grants ("allow requests like this for an hour") that match this request exactly.
grant_matches(g) if {
	g.agent == input.agent.id
	upper(g.method) == input.request.method
	g.host == input.request.host
	grant_operation_ok(g)
	grant_path_ok(g)
	time.parse_rfc3339_ns(g.expires) > time.now_ns()
}

grant_operation_ok(g) if not g.operation

grant_operation_ok(g) if {
	g.operation != "unknown"
	g.operation == input.service.operation
}

grant_path_ok(g) if not g.path_pattern

grant_path_ok(g) if glob.match(g.path_pattern, ["/"], input.request.path)

# A grant covers requests at the risk of the approval it came from, or lower (absent: medium).
grant_risk_ok(g) if risk_priority[chosen.risk] <= risk_priority[object.get(g, "risk", "medium")]

matching_grants := sort({g.id | some g in input.grants; grant_matches(g); grant_risk_ok(g)})

# Grants never stand in for a critical approval, nor for a body servers read in several ways, nor
# for a hold the session's history caused (the trifecta).
# (The engine also offers a grant only for an approve of the same operation at the grant's risk
# or lower: engine/grants.ts.)
outcome := allow("grant.matched", concat("", ["allowed by human grant ", matching_grants[0], " (", chosen.rule, ")"])) if {
	chosen.action == "approve"
	chosen.risk != "critical"
	not body_ambiguous
	not trifecta_hold
	count(matching_grants) > 0
} else := chosen

# ---------------------------------------------------------------------------------------------
# Directives: rate limits (per agent, service and effect) and egress budgets (per agent and host).

# Built-in defaults; config/data.json "rate_limits" overrides them kind by kind.
default_rate_limits := {
	"read": {"limit": 600, "window": "1m"},
	"write": {"limit": 60, "window": "1h"},
	"send": {"limit": 20, "window": "1h"},
	"delete": {"limit": 10, "window": "1h"},
	"pay": {"limit": 10, "window": "1h"},
	"admin": {"limit": 10, "window": "1h"},
	"host": {"limit": 120, "window": "1m"},
	"mcp": {"limit": 120, "window": "1m"},
	"browse": {"limit": 30, "window": "10m"},
}

service_rate_conf := config.services[input.service.name].rate_limits

# The service's own setting, else config/data.json "rate_limits", else the built-in default.
limit_for(kind) := l if {
	l := service_rate_conf[kind]
} else := l if {
	l := config.rate_limits[kind]
} else := l if {
	l := default_rate_limits[kind]
}

# Which bucket pays is read from what the destination is, never from the body's shape alone: a
# JSON-RPC body ({"jsonrpc": "2.0", "method": "ping", …}, which GitHub or Slack ignore) on a
# service's host is still that service's effect (a comment is a send: 20/h, not MCP's 120/min), and
# on a plain allowed host the host's limit. MCP's limit is for the configured MCP servers.
request_limit_key := concat(":", ["browse", input.session.id]) if {
	browses
} else := concat(":", [input.service.name, input.service.effect, input.agent.id]) if {
	input.service
} else := concat(":", ["mcp", host, input.agent.id]) if {
	input.mcp
	mcp_server
} else := concat(":", ["host", limit_host, input.agent.id])

request_limit_kind := "browse" if {
	browses
} else := input.service.effect if {
	input.service
} else := "mcp" if {
	input.mcp
	mcp_server
} else := "host"

# A served link followed, or one followed through an allowed host that fetches it (a reader URL a
# browsing source served, `r.jina.ai/https://…`): both reach a host nobody allowed, and which of the
# served links the agent picks is data, a few bits a request. The session's browse bucket bounds
# that channel (sixteenth pass: the reader's fetches paid the host's 120 a minute, 40 times the
# browse limit).
browses if browse_allowed

browses if fetch_served_bare

request_rate_limit := {"key": request_limit_key, "limit": l.limit, "window": l.window, "cost": request_cost} if {
	l := limit_for(request_limit_kind)
}

# What one request does, counted: each mutation a GraphQL document (or batch) runs, aliased
# selections included, each message of a JSON-RPC batch, each call of a service's batch. A request
# of N sends pays N (an SQL text of many statements is one call: a migration pays once)
# (seventeenth pass: 1,000 aliased `addComment`s in one document paid one of the 20 sends an hour).
request_cost := input.graphql.mutation_calls if {
	input.graphql.mutation_calls > 1
} else := count(input.mcp.batch) if {
	count(input.mcp.batch) > 1
} else := input.service.params.calls if {
	# A service's batch endpoint (Gmail's `batch`: up to 100 calls, each send a send)
	is_number(input.service.params.calls)
	input.service.params.calls > 1
} else := envelope_calls if {
	envelope_calls > 1
} else := 1

# The calls of a batch envelope on a host no module describes (eighteenth pass: Microsoft Graph's
# `$batch` of 20 sends paid one of the host's 120 a minute): `{requests}` or `{compositeRequest}`,
# a bare array, or Facebook's `batch` field, of members naming a method and a URL (in any letter
# case, as the grant's scope reads them), and an OData multipart `$batch`'s `application/http`
# parts, JMAP's `methodCalls`, Hasura's `bulk`, XML-RPC's `system.multicall`. A bare array of rows
# names no method: it is one call. (Bulk data — an Elasticsearch `_bulk`, Firestore's `writes`, a
# Docs `batchUpdate` — is one call: thousands of rows in one request are routine there.)
envelope_calls := count([c | some c in envelope_members; envelope_call(c)]) if {
	not input.service
	envelope_members
} else := count([c | some c in input.request.body.json.methodCalls; is_array(c)]) if {
	# JMAP: each `[name, arguments, id]` of `methodCalls` is a call (an `EmailSubmission/set` sends).
	not input.service
	is_array(input.request.body.json.methodCalls)
} else := count(input.request.body.json.args) if {
	# Hasura's schema and metadata API: a `bulk` runs each of its `args`.
	not input.service
	lower(input.request.body.json.type) == "bulk"
	is_array(input.request.body.json.args)
} else := count(split(lower(input.request.body.text), "<name>methodname</name>")) - 1 if {
	# XML-RPC's `system.multicall`: each struct naming a `methodName` is a call.
	not input.service
	contains(input.request.body.text, "system.multicall")
} else := count(split(lower(input.request.body.text), "application/http")) - 1 if {
	not input.service
	startswith(lower(input.request.body.content_type), "multipart/")
}

envelope_members := m if {
	some k, m in input.request.body.json
	lower(k) in {"requests", "compositerequest"}
	is_array(m)
} else := input.request.body.json if {
	is_array(input.request.body.json)
} else := json.unmarshal(input.request.body.form.batch[0])

envelope_call(c) if {
	keys := {lower(k) | some k, _ in c}
	"method" in keys
	some target in ["url", "relative_url", "relativeurl", "path", "uri", "href"]
	target in keys
}

# The name the host limit and the egress budget are kept under. Under a wildcard entry of
# allowed_hosts ("*.example.com") the agent chooses the name, and every name had buckets of its own:
# a budget of 64 MiB per hour per name is no budget (x1.…, x2.…). Such names share the entry's
# buckets; a host an exact entry names, or a service's, keeps its own.
limit_host := broadest_wildcard if {
	not input.service
	not exact_extra_host
	broadest_wildcard
} else := host

exact_extra_host if {
	some e in matching_extra_hosts
	entry_host(e) == host
}

wildcard_entries := [p | some e in matching_extra_hosts; p := entry_host(e); startswith(p, "*.")]

# The shortest matching pattern (the fewest labels: the widest), the first in order among equals.
broadest_wildcard := sort([p | some p in wildcard_entries; count(p) == shortest])[0] if {
	shortest := min({count(p) | some p in wildcard_entries})
}

# A name with a budget of its own keeps its bucket (one key, one shape: a bucket charged under two
# limits would refill at the larger one's pace).
egress_host := host if {
	config.egress_budgets[host]
} else := input.request.host_unicode if {
	config.egress_budgets[input.request.host_unicode]
} else := api_alias_of[input.service.name][host] if {
	api_alias_of[input.service.name][host]
} else := limit_host

# One API under two names shares one budget (seventeenth pass): Gmail's calls through
# www.googleapis.com/gmail/ are gmail.googleapis.com's, and alternating the names doubled it.
# (Eighteenth pass) The same for a service's other hosts: GitHub's uploads, git and content hosts,
# Slack's and Stripe's file and hook hosts each kept 64 MiB an hour of their own.
api_alias_of := {
	"gmail": {"www.googleapis.com": "gmail.googleapis.com"},
	"github": {h: "api.github.com" | some h in data.airlock.services.github.hosts; h != "api.github.com"},
	"slack": {"api.slack.com": "slack.com", "files.slack.com": "slack.com", "hooks.slack.com": "slack.com"},
	"stripe": {"files.stripe.com": "api.stripe.com"},
}

egress_conf := b if {
	b := config.egress_budgets[egress_host]
} else := b if {
	b := config.egress_budget
} else := {"limit": 67108864, "window": "1h"}

egress_rate_limit := {
	"key": concat(":", ["egress", egress_host, input.agent.id]), "limit": egress_conf.limit,
	"window": egress_conf.window, "unit": "egress_bytes",
}

# A list built directly (no set to build and convert): the request's own limit, then egress.
rate_limits := [request_rate_limit, egress_rate_limit] if {
	request_rate_limit
} else := [egress_rate_limit]

# ---------------------------------------------------------------------------------------------
# The decision.

default decision := {"action": "deny", "reason": "no rule allowed this request (deny by default)", "rule": "default.deny"}

# Spelled out per action rather than merged from parts: this runs for every request.
decision := {"action": "deny", "reason": outcome.reason, "rule": outcome.rule} if {
	outcome.action == "deny"
} else := object.union(labelled, {"credentials": credentials}) if {
	count(credentials) > 0
} else := object.union(labelled, {"raw_path": true}) if {
	preset_raw_path
} else := object.union(labelled, {"bare_headers": true}) if {
	browse_allowed # a followed link carries no header of the agent's (sessions.rego)
} else := object.union(labelled, {"bare_headers": true}) if {
	fetch_served_bare # nor does a served link through a host that fetches it
} else := labelled

# What the response brings into the session (sessions.rego), when it brings anything.
labelled := object.union(permitted, {"labels": sort(response_labels)}) if {
	count(response_labels) > 0
} else := permitted

permitted := {
	"action": "approve", "reason": outcome.reason, "rule": outcome.rule, "rate_limits": rate_limits,
	"approval": approval_directive,
} if {
	outcome.action == "approve"
} else := {"action": outcome.action, "reason": outcome.reason, "rule": outcome.rule, "rate_limits": rate_limits}

# The approval card names the earlier requests that made this one need a human (the trifecta).
approval_directive := {
	"risk": outcome.risk, "timeout": approval_timeout, "step_up": outcome.risk == "critical",
	"because": trifecta_because,
} if {
	trifecta_hold
} else := {"risk": outcome.risk, "timeout": approval_timeout, "step_up": outcome.risk == "critical"}
