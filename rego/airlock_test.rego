package airlock_test

import rego.v1

import data.airlock
import data.airlock.services.test_helpers.call

# A request description as the proxy builds it (only the fields the policy reads).
req(method, host, path) := {
	"request": {
		"id": "r1", "time": "2026-01-02T03:04:05Z", "method": method,
		"url": concat("", ["https://", host, path]), "scheme": "https", "host": host, "port": 443,
		"path": path, "segments": [s | some s in split(trim(path, "/"), "/"); s != ""], "query": {},
		"headers": {}, "body": {"size": 0, "sha256": "", "content_type": "", "truncated": false},
		"egress_bytes": 10,
	},
	"agent": {"id": "agent-1", "labels": {}},
	"placeholders": [],
	"grants": [],
}

svc(method, host, path, name, operation, effect) := object.union(req(method, host, path), {"service": {
	"name": name, "operation": operation, "params": {}, "effect": effect,
}})

gh_read := svc("GET", "api.github.com", "/repos/a/b", "github", "repos.get", "read")

gh_delete := svc("DELETE", "api.github.com", "/repos/a/b", "github", "repos.delete", "delete")

gh_issue := svc("POST", "api.github.com", "/repos/a/b/issues", "github", "issues.create", "write")

with_placeholder(i, name, where) := object.union(i, {"placeholders": [{"name": name, "where": where}]})

with_grant(i, g) := object.union(i, {"grants": [object.union(
	{"id": "g1", "agent": "agent-1", "method": i.request.method, "host": i.request.host, "expires": "2099-01-01T00:00:00Z"},
	g,
)]})

# --- deny by default ------------------------------------------------------------------------

test_unknown_host_denied if {
	d := airlock.decision with input as req("GET", "evil.example", "/x")
	d.action == "deny"
	d.rule == "host.unknown"
	not d.credentials
	not d.rate_limits
}

test_missing_request_denied if {
	d := airlock.decision with input as {"agent": {"id": "a"}}
	d.action == "deny"
	d.rule == "input.invalid"
}

test_missing_agent_denied if {
	d := airlock.decision with input as object.remove(gh_read, ["agent"])
	d.rule == "input.invalid"
}

test_service_not_configured_for_agent_denied if {
	cfg := {"agents": {"agent-1": {"services": ["stripe"]}, "*": {"services": ["github"]}}}
	d := airlock.decision with input as gh_read with data.config as cfg
	d.action == "deny"
	d.rule == "service.not_allowed"
}

test_other_agents_use_star_entry if {
	cfg := {"agents": {"someone-else": {"services": []}, "*": {"services": ["github"]}}}
	d := airlock.decision with input as gh_read with data.config as cfg
	d.rule == "effect.read"
}

test_no_config_denies_everything if {
	d := airlock.decision with input as gh_read with data.config as {}
	d.rule == "service.not_allowed"
}

test_unknown_effect_denied if {
	d := airlock.decision with input as svc("GET", "api.github.com", "/x", "github", "x", "teleport")
	d.action == "deny"
	d.rule == "effect.unknown"
}

# --- effects --------------------------------------------------------------------------------

test_read_allowed_with_credential_and_limits if {
	d := airlock.decision with input as gh_read
	d.action == "allow"
	d.rule == "effect.read"
	d.credentials == [{"secret": "github_token", "in": "header", "name": "Authorization", "format": "Bearer {}"}]
	{"key": "github:read:agent-1", "limit": 600, "window": "1m", "cost": 1} in d.rate_limits
	{"key": "egress:api.github.com:agent-1", "limit": 67108864, "window": "1h", "unit": "egress_bytes"} in d.rate_limits
	not d.approval
}

test_write_needs_medium_approval if {
	d := airlock.decision with input as gh_issue
	d.action == "approve"
	d.rule == "effect.write"
	d.approval == {"risk": "medium", "timeout": "15m", "step_up": false}
	{"key": "github:write:agent-1", "limit": 60, "window": "1h", "cost": 1} in d.rate_limits
}

test_send_needs_high_approval if {
	d := airlock.decision with input as svc("POST", "gmail.googleapis.com", "/gmail/v1/users/me/messages/send", "gmail", "messages.send", "send")
	d.rule == "effect.send"
	d.approval.risk == "high"
}

test_critical_effects_need_step_up if {
	every effect in ["delete", "pay", "admin"] {
		d := airlock.decision with input as svc("POST", "api.stripe.com", "/v1/x", "stripe", "x.y", effect)
		d.action == "approve"
		d.rule == concat(".", ["effect", effect])
		d.approval == {"risk": "critical", "timeout": "15m", "step_up": true}
	}
}

test_approval_timeout_from_config if {
	d := airlock.decision with input as gh_issue with data.config.approval_timeout as "2m"
	d.approval.timeout == "2m"
}

test_per_service_rate_limit_override if {
	d := airlock.decision with input as gh_issue with data.config.services.github.rate_limits as {"write": {"limit": 5, "window": "1d"}}
	{"key": "github:write:agent-1", "limit": 5, "window": "1d", "cost": 1} in d.rate_limits
}

test_per_host_egress_budget if {
	d := airlock.decision with input as gh_read with data.config.egress_budgets as {"api.github.com": {"limit": 1000, "window": "1m"}}
	{"key": "egress:api.github.com:agent-1", "limit": 1000, "window": "1m", "unit": "egress_bytes"} in d.rate_limits
}

# Ninth pass: the bucket that pays follows the destination, not the body's shape. A JSON-RPC body
# on a service's host (a GitHub comment carrying "jsonrpc"/"method", which GitHub ignores) was
# charged MCP's 120/min instead of the service's send limit of 20/h; on a plain allowed host it
# escaped the host's own limit.
test_jsonrpc_body_does_not_choose_the_bucket if {
	comment := object.union(svc("POST", "api.github.com", "/repos/a/b/issues/1/comments", "github", "issues.create_comment", "send"), {"mcp": {"method": "ping"}})
	d := airlock.decision with input as comment
	{"key": "github:send:agent-1", "limit": 20, "window": "1h", "cost": 1} in d.rate_limits
	plain := object.union(req("POST", "hooks.example.com", "/x"), {"mcp": {"method": "ping"}})
	d2 := airlock.decision with input as plain with data.config.allowed_hosts as [{"host": "hooks.example.com", "methods": ["POST"]}] with data.config.rate_limits.host as {"limit": 5, "window": "1h"}
	{"key": "host:hooks.example.com:agent-1", "limit": 5, "window": "1h", "cost": 1} in d2.rate_limits
}

# Ninth pass: names under a wildcard entry are the agent's choice; they share the entry's buckets.
test_wildcard_hosts_share_their_buckets if {
	every name in ["x1.example.com", "x2.a.example.com"] {
		d := airlock.decision with input as req("GET", name, "/") with data.config.allowed_hosts as ["*.example.com", "docs.example.com"]
		{"key": "host:*.example.com:agent-1", "limit": 120, "window": "1m", "cost": 1} in d.rate_limits
		{"key": "egress:*.example.com:agent-1", "limit": 67108864, "window": "1h", "unit": "egress_bytes"} in d.rate_limits
	}
	exact := airlock.decision with input as req("GET", "docs.example.com", "/") with data.config.allowed_hosts as ["*.example.com", "docs.example.com"]
	{"key": "egress:docs.example.com:agent-1", "limit": 67108864, "window": "1h", "unit": "egress_bytes"} in exact.rate_limits
	widest := airlock.decision with input as req("GET", "x.a.example.com", "/") with data.config.allowed_hosts as ["*.a.example.com", "*.example.com"] with data.config.egress_budgets as {"*.example.com": {"limit": 1000, "window": "1h"}}
	{"key": "egress:*.example.com:agent-1", "limit": 1000, "window": "1h", "unit": "egress_bytes"} in widest.rate_limits
	own := airlock.decision with input as req("GET", "big.example.com", "/") with data.config.allowed_hosts as ["*.example.com"] with data.config.egress_budgets as {"big.example.com": {"limit": 5000, "window": "1h"}}
	{"key": "egress:big.example.com:agent-1", "limit": 5000, "window": "1h", "unit": "egress_bytes"} in own.rate_limits
}

# --- placeholders and credentials -----------------------------------------------------------

test_placeholder_in_bound_header_allowed if {
	d := airlock.decision with input as with_placeholder(gh_read, "github_token", ["header"])
	d.rule == "effect.read"
}

test_placeholder_in_body_denied if {
	d := airlock.decision with input as with_placeholder(gh_issue, "github_token", ["header", "body"])
	d.action == "deny"
	d.rule == "placeholder.misplaced"
}

test_foreign_placeholder_denied if {
	d := airlock.decision with input as with_placeholder(gh_read, "stripe_key", ["header"])
	d.action == "deny"
	d.rule == "placeholder.unauthorized"
	contains(d.reason, "stripe_key")
}

test_placeholder_to_unknown_host_denied_as_credential_leak if {
	d := airlock.decision with input as with_placeholder(req("POST", "evil.example", "/collect"), "stripe_key", ["body"])
	d.rule == "placeholder.unauthorized"
}

test_no_credential_over_plain_http if {
	i := json.patch(gh_read, [{"op": "replace", "path": "/request/scheme", "value": "http"}])
	d := airlock.decision with input as i
	d.rule == "effect.read"
	not d.credentials
	d2 := airlock.decision with input as with_placeholder(i, "github_token", ["header"])
	d2.rule == "placeholder.unauthorized"
}

test_no_credential_on_other_port if {
	i := json.patch(gh_read, [{"op": "replace", "path": "/request/port", "value": 8443}])
	d := airlock.decision with input as i
	not d.credentials
}

test_secret_name_from_config if {
	d := airlock.decision with input as gh_read with data.config.services.github.secret as "gh_work"
	d.credentials[0].secret == "gh_work"
}

# --- grants ---------------------------------------------------------------------------------

test_grant_allows_medium if {
	d := airlock.decision with input as with_grant(gh_issue, {})
	d.action == "allow"
	d.rule == "grant.matched"
	contains(d.reason, "g1")
	d.credentials[0].secret == "github_token"
}

test_grant_never_allows_critical if {
	d := airlock.decision with input as with_grant(gh_delete, {})
	d.action == "approve"
	d.rule == "effect.delete"
}

test_expired_grant_ignored if {
	d := airlock.decision with input as with_grant(gh_issue, {"expires": "2001-01-01T00:00:00Z"})
	d.rule == "effect.write"
}

test_grant_for_other_agent_ignored if {
	d := airlock.decision with input as with_grant(gh_issue, {"agent": "other"})
	d.rule == "effect.write"
}

test_grant_operation_must_match if {
	d := airlock.decision with input as with_grant(gh_issue, {"operation": "issues.update"})
	d.rule == "effect.write"
	d2 := airlock.decision with input as with_grant(gh_issue, {"operation": "issues.create"})
	d2.rule == "grant.matched"
}

test_grant_path_pattern if {
	d := airlock.decision with input as with_grant(gh_issue, {"path_pattern": "/repos/a/*/issues"})
	d.rule == "grant.matched"
	d2 := airlock.decision with input as with_grant(gh_issue, {"path_pattern": "/repos/z/*/issues"})
	d2.rule == "effect.write"
}

test_grant_does_not_override_deny if {
	d := airlock.decision with input as with_grant(req("GET", "evil.example", "/"), {})
	d.rule == "host.unknown"
}

# --- SQL ------------------------------------------------------------------------------------

# SQL to a configured Supabase project (tests add `with data.config.services.supabase.projects as ["p1"]`).
sql_req(sql) := object.union(svc("POST", "p1.supabase.co", "/pg/query", "supabase", "sql.query", "write"), {"sql": sql})

test_destructive_sql_is_critical if {
	d := airlock.decision with input as sql_req({"parsed": true, "destructive": true, "statements": [{"kind": "drop_table", "tables": ["users"], "destructive": true}]}) with data.config.services.supabase.projects as ["p1"]
	d.action == "approve"
	d.rule == "sql.destructive"
	d.approval.risk == "critical"
	d.approval.step_up == true
	contains(d.reason, "drop_table")
}

test_unparsed_sql_is_critical if {
	d := airlock.decision with input as sql_req({"parsed": false, "error": "syntax error", "destructive": true, "statements": []}) with data.config.services.supabase.projects as ["p1"]
	d.rule == "sql.unparsed"
	d.approval.risk == "critical"
}

test_drop_database_denied if {
	d := airlock.decision with input as sql_req({"parsed": true, "destructive": true, "statements": [
		{"kind": "select", "tables": [], "destructive": false},
		{"kind": "drop_database", "tables": [], "destructive": true},
	]})
		with data.config.services.supabase.projects as ["p1"]
	d.action == "deny"
	d.rule == "sql.drop_database"
}

test_read_only_sql_allowed if {
	i := json.patch(sql_req({"parsed": true, "destructive": false, "statements": [{"kind": "select", "tables": ["t"], "destructive": false}]}), [{"op": "replace", "path": "/service/effect", "value": "read"}])
	d := airlock.decision with input as i with data.config.services.supabase.projects as ["p1"]
	d.rule == "effect.read"
}

test_sql_to_unknown_host_still_denied if {
	i := object.union(req("POST", "db.example", "/sql"), {"sql": {"parsed": true, "destructive": true, "statements": [{"kind": "truncate", "tables": ["t"], "destructive": true}]}})
	d := airlock.decision with input as i
	d.rule == "host.unknown"
}

test_sql_on_extra_host_is_checked if {
	i := object.union(req("POST", "db.example", "/sql"), {"sql": {"parsed": true, "destructive": true, "statements": [{"kind": "truncate", "tables": ["t"], "destructive": true}]}})
	d := airlock.decision with input as i with data.config.allowed_hosts as ["db.example"]
	d.rule == "sql.destructive"
}

# --- extra hosts ----------------------------------------------------------------------------

test_extra_host_reads if {
	d := airlock.decision with input as req("GET", "pypi.org", "/simple/x/") with data.config.allowed_hosts as ["pypi.org"]
	d.action == "allow"
	d.rule == "host.allowed"
	{"key": "host:pypi.org:agent-1", "limit": 120, "window": "1m", "cost": 1} in d.rate_limits
	not d.credentials
}

test_extra_host_write_needs_approval if {
	d := airlock.decision with input as req("POST", "pypi.org", "/x") with data.config.allowed_hosts as ["pypi.org"]
	d.rule == "host.write"
	d.approval.risk == "medium"
}

test_extra_host_methods if {
	cfg := [{"host": "hooks.example.com", "methods": ["post"]}]
	d := airlock.decision with input as req("POST", "hooks.example.com", "/x") with data.config.allowed_hosts as cfg
	d.rule == "host.allowed_method"
	d2 := airlock.decision with input as req("DELETE", "hooks.example.com", "/x") with data.config.allowed_hosts as cfg
	d2.rule == "host.write"
}

test_extra_host_wildcard if {
	d := airlock.decision with input as req("GET", "a.b.example.com", "/") with data.config.allowed_hosts as ["*.example.com"]
	d.rule == "host.allowed"
	d2 := airlock.decision with input as req("GET", "example.com", "/") with data.config.allowed_hosts as ["*.example.com"]
	d2.rule == "host.unknown"
	d3 := airlock.decision with input as req("GET", "evilexample.com", "/") with data.config.allowed_hosts as ["*.example.com"]
	d3.rule == "host.unknown"
}

test_agent_specific_hosts if {
	cfg := {"agents": {"agent-1": {"services": [], "hosts": ["docs.example.org"]}}}
	d := airlock.decision with input as req("GET", "docs.example.org", "/") with data.config as cfg
	d.rule == "host.allowed"
	other := json.patch(req("GET", "docs.example.org", "/"), [{"op": "replace", "path": "/agent/id", "value": "agent-2"}])
	d2 := airlock.decision with input as other with data.config as cfg
	d2.rule == "host.unknown"
}

test_upgrade_needs_approval if {
	i := json.patch(req("GET", "pypi.org", "/ws"), [{"op": "add", "path": "/request/upgrade", "value": "websocket"}])
	d := airlock.decision with input as i with data.config.allowed_hosts as ["pypi.org"]
	d.rule == "request.upgrade"
	d.approval.risk == "high"
}

# --- MCP ------------------------------------------------------------------------------------

mcp_req(mcp) := object.union(req("POST", "mcp.example.com", "/mcp"), {"mcp": mcp})

mcp_cfg := {"mcp.example.com": {"read_only_tools": ["search_docs"]}}

test_mcp_list_allowed if {
	d := airlock.decision with input as mcp_req({"method": "tools/list", "id": 1}) with data.config.mcp_servers as mcp_cfg
	d.action == "allow"
	d.rule == "mcp.read"
	{"key": "mcp:mcp.example.com:agent-1", "limit": 120, "window": "1m", "cost": 1} in d.rate_limits
}

test_mcp_tool_call_needs_approval if {
	d := airlock.decision with input as mcp_req({"method": "tools/call", "tool": "delete_page", "arguments": {}}) with data.config.mcp_servers as mcp_cfg
	d.action == "approve"
	d.rule == "mcp.tool_call"
	d.approval.risk == "high"
	contains(d.reason, "delete_page")
}

test_mcp_read_only_tool_allowed if {
	d := airlock.decision with input as mcp_req({"method": "tools/call", "tool": "search_docs", "arguments": {}}) with data.config.mcp_servers as mcp_cfg
	d.rule == "mcp.read"
}

test_mcp_destructive_sql_in_arguments_is_critical if {
	sql := {"parsed": true, "destructive": true, "statements": [{"kind": "drop_table", "tables": ["notes"], "destructive": true}]}
	d := airlock.decision with input as mcp_req({"method": "tools/call", "tool": "execute_sql", "arguments": {"query": "DROP TABLE notes"}, "sql": sql}) with data.config.mcp_servers as mcp_cfg
	d.action == "approve"
	d.rule == "mcp.sql_destructive"
	d.approval.risk == "critical"
	r := airlock.decision with input as mcp_req({"method": "tools/call", "tool": "search_docs", "arguments": {"query": "DROP TABLE notes"}, "sql": sql}) with data.config.mcp_servers as mcp_cfg
	r.approval.risk == "critical"
}

test_mcp_read_only_tool_carrying_sql_that_writes_is_a_tool_call if {
	sql := {"parsed": true, "destructive": false, "statements": [{"kind": "update", "tables": ["users"], "destructive": false}]}
	d := airlock.decision with input as mcp_req({"method": "tools/call", "tool": "search_docs", "arguments": {"sql": "UPDATE users SET role = 'admin' WHERE id = 7"}, "sql": sql}) with data.config.mcp_servers as mcp_cfg
	d.rule == "mcp.tool_call"
	d.approval.risk == "high"
	read := {"parsed": true, "destructive": false, "statements": [{"kind": "select", "tables": ["users"], "destructive": false}]}
	r := airlock.decision with input as mcp_req({"method": "tools/call", "tool": "search_docs", "arguments": {"sql": "SELECT id FROM users"}, "sql": read}) with data.config.mcp_servers as mcp_cfg
	r.rule == "mcp.read"
}

test_mcp_sql_past_the_analysis_budget_is_critical if {
	sql := {"parsed": false, "destructive": true, "statements": [], "limited": true, "error": "not analyzed"}
	d := airlock.decision with input as mcp_req({"method": "tools/call", "tool": "execute_sql", "arguments": {"query": "SELECT 1"}, "sql": sql}) with data.config.mcp_servers as mcp_cfg
	d.rule == "mcp.sql_destructive"
	d.approval.risk == "critical"
}

test_mcp_search_phrase_is_not_sql if {
	sql := {"parsed": false, "destructive": true, "statements": [], "error": "syntax error"}
	d := airlock.decision with input as mcp_req({"method": "tools/call", "tool": "search_docs", "arguments": {"query": "open bugs"}, "sql": sql}) with data.config.mcp_servers as mcp_cfg
	d.rule == "mcp.read"
	h := airlock.decision with input as mcp_req({"method": "tools/call", "tool": "execute_sql", "arguments": {"query": "SELECT 1"}, "sql": {"parsed": true, "destructive": false, "statements": [{"kind": "select", "tables": [], "destructive": false}]}}) with data.config.mcp_servers as mcp_cfg
	h.rule == "mcp.tool_call"
	h.approval.risk == "high"
}

test_mcp_batch_with_one_unsafe_call_needs_approval if {
	batch := [
		{"method": "tools/call", "tool": "search_docs"},
		{"method": "tools/call", "tool": "send_email"},
		{"method": "tools/call"},
	]
	d := airlock.decision with input as mcp_req({"method": "tools/call", "tool": "search_docs", "batch": batch}) with data.config.mcp_servers as mcp_cfg
	d.rule == "mcp.tool_call"
	contains(d.reason, "send_email")
	contains(d.reason, "(no tool name)")
}

test_mcp_other_method_needs_approval if {
	d := airlock.decision with input as mcp_req({"method": "sampling/createMessage"}) with data.config.mcp_servers as mcp_cfg
	d.rule == "mcp.method"
}

test_mcp_unconfigured_server_denied if {
	d := airlock.decision with input as mcp_req({"method": "tools/list"})
	d.rule == "host.unknown"
}

test_mcp_needs_mcp_service_for_agent if {
	cfg := {"agents": {"*": {"services": ["github"]}}, "mcp_servers": mcp_cfg}
	d := airlock.decision with input as mcp_req({"method": "tools/list"}) with data.config as cfg
	d.rule == "host.unknown"
}

test_mcp_transport_get_allowed if {
	d := airlock.decision with input as req("GET", "mcp.example.com", "/mcp") with data.config.mcp_servers as mcp_cfg
	d.rule == "mcp.transport"
}

# --- one decision, always -------------------------------------------------------------------

test_every_decision_has_action_reason_rule if {
	inputs := [
		gh_read, gh_delete, gh_issue, req("GET", "evil.example", "/"),
		with_placeholder(gh_issue, "github_token", ["body"]),
		with_placeholder(with_grant(gh_issue, {}), "stripe_key", ["header"]),
		{}, {"request": 1}, mcp_req({"method": "tools/list"}),
	]
	every i in inputs {
		d := airlock.decision with input as i
		d.action in {"allow", "deny", "approve"}
		is_string(d.reason)
		is_string(d.rule)
	}
}

# --- git smart HTTP on hosts without a service module ---------------------------------------

test_git_on_other_hosts_needs_allowed_host if {
	i := call("POST", "gitlab.com", "/a/b.git/git-receive-pack", "git", "git.push", "write", {})
	d := airlock.decision with input as i
	d.rule == "host.unknown"
	d2 := airlock.decision with input as i with data.config.allowed_hosts as ["gitlab.com"]
	d2.rule == "effect.write"
	not d2.credentials
}

test_git_push_options_that_merge_are_high if {
	opts := {"push_options": ["merge_request.create", "merge_request.target=main", "merge_request.merge_when_pipeline_succeeds"]}
	i := call("POST", "gitlab.com", "/a/b.git/git-receive-pack", "git", "git.push", "write", opts)
	d := airlock.decision with input as i with data.config.allowed_hosts as ["gitlab.com"]
	d.rule == "git.push_merge"
	d.approval.risk == "high"
	plain := call("POST", "gitlab.com", "/a/b.git/git-receive-pack", "git", "git.push", "write", {"push_options": ["merge_request.create", "ci.skip"]})
	d2 := airlock.decision with input as plain with data.config.allowed_hosts as ["gitlab.com"]
	d2.rule == "effect.write"
}

# GitLab reads `mr.` as `merge_request.` and trims each part (Gitlab::PushOptions NAMESPACE_ALIASES).
test_git_push_options_that_merge_under_the_mr_alias_are_high if {
	every o in ["mr.merge_when_pipeline_succeeds", " mr . merge_when_pipeline_succeeds ", "MR.merge_when_pipeline_succeeds=true", "merge_request. merge_when_pipeline_succeeds"] {
		i := call("POST", "gitlab.com", "/a/b.git/git-receive-pack", "git", "git.push", "write", {"push_options": ["mr.create", o]})
		d := airlock.decision with input as i with data.config.allowed_hosts as ["gitlab.com"]
		d.rule == "git.push_merge"
	}
}

# Gerrit: `refs/for/main%submit` (or `-o submit`) creates a change and merges it, review bypassed.
test_gerrit_push_that_submits_is_high if {
	every opts in [
		{"refs": ["refs/for/main%submit"]},
		{"refs": ["refs/for/main%topic=x,Submit"]},
		{"refs": ["refs/for/main"], "push_options": ["submit"]},
	] {
		i := call("POST", "review.example", "/a/b/git-receive-pack", "git", "git.push", "write", opts)
		d := airlock.decision with input as i with data.config.allowed_hosts as ["review.example"]
		d.rule == "git.push_merge"
	}
	review := call("POST", "review.example", "/a/b/git-receive-pack", "git", "git.push", "write", {"refs": ["refs/for/main%topic=submit-form,wip"]})
	d2 := airlock.decision with input as review with data.config.allowed_hosts as ["review.example"]
	d2.rule == "effect.write"
}

test_git_push_options_mr_alias_other_keys_stay_writes if {
	i := call("POST", "gitlab.com", "/a/b.git/git-receive-pack", "git", "git.push", "write", {"push_options": ["mr.create", "mr.target=main", "mr.title=merge_when_pipeline_succeeds"]})
	d := airlock.decision with input as i with data.config.allowed_hosts as ["gitlab.com"]
	d.rule == "effect.write"
}

test_partial_rate_limit_config_keeps_defaults if {
	d := airlock.decision with input as gh_delete with data.config.rate_limits as {"read": {"limit": 1, "window": "1s"}}
	{"key": "github:delete:agent-1", "limit": 10, "window": "1h", "cost": 1} in d.rate_limits
	d2 := airlock.decision with input as gh_read with data.config.rate_limits as {"read": {"limit": 1, "window": "1s"}}
	{"key": "github:read:agent-1", "limit": 1, "window": "1s", "cost": 1} in d2.rate_limits
}

test_egress_budget_default_without_config if {
	d := airlock.decision with input as gh_read with data.config as {"agents": {"*": {"services": ["github"]}}}
	{"key": "egress:api.github.com:agent-1", "limit": 67108864, "window": "1h", "unit": "egress_bytes"} in d.rate_limits
}

test_sql_destructive_flag_alone_is_critical if {
	d := airlock.decision with input as sql_req({"parsed": true, "destructive": true, "statements": []}) with data.config.services.supabase.projects as ["p1"]
	d.rule == "sql.destructive"
	d.approval.risk == "critical"
}

test_agent_labels_select_services if {
	cfg := {
		"agents": {"*": {"services": ["github"]}, "pinned": {"services": []}},
		"agent_labels": {"team=billing": {"services": ["stripe"]}, "tier=trusted": {"services": ["slack"], "hosts": ["docs.example.org"]}},
	}
	billing := json.patch(svc("GET", "api.stripe.com", "/v1/charges", "stripe", "charges.list", "read"), [{"op": "replace", "path": "/agent/labels", "value": {"team": "billing", "tier": "trusted"}}])
	d := airlock.decision with input as billing with data.config as cfg
	d.rule == "effect.read"
	d2 := airlock.decision with input as json.patch(billing, [{"op": "replace", "path": "/request/host", "value": "docs.example.org"}, {"op": "remove", "path": "/service"}]) with data.config as cfg
	d2.rule == "host.allowed"
	gh := json.patch(gh_read, [{"op": "replace", "path": "/agent/labels", "value": {"team": "billing"}}])
	d3 := airlock.decision with input as gh with data.config as cfg
	d3.rule == "service.not_allowed"
	other := json.patch(gh_read, [{"op": "replace", "path": "/agent/labels", "value": {"team": "ops"}}])
	d4 := airlock.decision with input as other with data.config as cfg
	d4.rule == "effect.read"
	pinned := json.patch(billing, [{"op": "replace", "path": "/agent/id", "value": "pinned"}])
	d5 := airlock.decision with input as pinned with data.config as cfg
	d5.rule == "service.not_allowed"
}

# --- grants never widen risk (the policy's own check; the engine enforces it for any policy) ----

gh_comment := svc("POST", "api.github.com", "/repos/a/b/issues/1/comments", "github", "issues.create_comment", "send")

test_grant_without_risk_covers_only_medium if {
	d := airlock.decision with input as with_grant(gh_comment, {})
	d.rule == "effect.send"
	d.action == "approve"
}

test_grant_at_high_risk_covers_high if {
	d := airlock.decision with input as with_grant(gh_comment, {"risk": "high"})
	d.rule == "grant.matched"
}

test_grant_at_low_risk_does_not_cover_medium if {
	d := airlock.decision with input as with_grant(gh_issue, {"risk": "low"})
	d.rule == "effect.write"
}

test_grant_for_unknown_operation_covers_nothing if {
	i := svc("POST", "api.github.com", "/x/y", "github", "unknown", "write")
	d := airlock.decision with input as with_grant(i, {"operation": "unknown"})
	d.rule == "effect.write"
}

# --- method overrides -------------------------------------------------------------------------

with_override(i, values, ambiguous) := object.union(i, {"request": {"method_override": {
	"values": values, "sources": ["header:x-http-method-override"], "ambiguous": ambiguous,
	"reason": "conflicting overrides",
}}})

test_ambiguous_override_held_high if {
	d := airlock.decision with input as with_override(gh_read, ["GET", "HEAD"], true)
	d.rule == "request.method_override"
	d.approval.risk == "high"
}

test_ambiguous_override_does_not_lower_a_critical_reading if {
	d := airlock.decision with input as with_override(gh_delete, ["DELETE", "PURGE"], true)
	d.rule == "effect.delete"
	d.approval.risk == "critical"
}

test_allowed_host_get_overridden_to_delete_is_not_a_read if {
	i := with_override(req("GET", "pypi.org", "/simple/x"), ["DELETE"], false)
	d := airlock.decision with input as i with data.config.allowed_hosts as ["pypi.org"]
	d.rule == "host.write"
	plain := airlock.decision with input as req("GET", "pypi.org", "/simple/x") with data.config.allowed_hosts as ["pypi.org"]
	plain.rule == "host.allowed"
}

test_allowed_host_methods_cover_every_reading if {
	i := with_override(req("POST", "hooks.example.com", "/h"), ["DELETE"], false)
	d := airlock.decision with input as i with data.config.allowed_hosts as [{"host": "hooks.example.com", "methods": ["POST"]}]
	d.rule == "host.write"
	d2 := airlock.decision with input as req("POST", "hooks.example.com", "/h") with data.config.allowed_hosts as [{"host": "hooks.example.com", "methods": ["POST"]}]
	d2.rule == "host.allowed_method"
}

# --- GraphQL ------------------------------------------------------------------------------------

test_unparsed_graphql_held_high if {
	i := object.union(svc("POST", "api.github.com", "/graphql", "github", "graphql.unparsed", "write"), {"graphql": {"parsed": false, "error": "syntax error", "operations": []}})
	d := airlock.decision with input as i
	d.rule == "graphql.unparsed"
	d.approval.risk == "high"
}

# --- ambiguous and unreadable bodies ----------------------------------------------------------

ambiguous(i, code) := object.union(i, {"request": {"body": {"ambiguous": true, "ambiguous_reasons": [{"code": code, "detail": "d"}]}}})

test_ambiguous_read_held_high if {
	d := airlock.decision with input as ambiguous(gh_read, "json_duplicate_key")
	d.action == "approve"
	d.rule == "body.ambiguous"
	d.approval.risk == "high"
	contains(d.reason, "json_duplicate_key")
}

test_json_typed_as_form_on_a_read_is_a_read if {
	d := airlock.decision with input as ambiguous(gh_read, "content_type_mismatch")
	d.action == "allow"
	d.rule == "effect.read"
}

test_json_typed_as_form_on_a_write_is_held_high if {
	d := airlock.decision with input as ambiguous(gh_issue, "content_type_mismatch")
	d.action == "approve"
	d.rule == "body.ambiguous"
	d.approval.risk == "high"
}

test_duplicate_keys_on_a_read_still_held if {
	i := object.union(ambiguous(gh_read, "json_duplicate_key"), {"request": {"body": {"ambiguous_reasons": [
		{"code": "content_type_mismatch", "detail": "d"},
		{"code": "json_duplicate_key", "detail": "d"},
	]}}})
	d := airlock.decision with input as i
	d.rule == "body.ambiguous"
}

test_ambiguous_delete_stays_critical if {
	d := airlock.decision with input as ambiguous(gh_delete, "content_type_mismatch")
	d.rule == "effect.delete"
	d.approval.risk == "critical"
}

test_ambiguous_body_never_granted if {
	i := with_grant(ambiguous(gh_issue, "json_duplicate_key"), {})
	d := airlock.decision with input as i
	d.action == "approve"
	d.rule == "body.ambiguous"
}

test_grant_still_applies_to_unambiguous_body if {
	d := airlock.decision with input as with_grant(gh_issue, {})
	d.rule == "grant.matched"
}

test_unreadable_mcp_body_critical if {
	i := req("POST", "mcp.example.com", "/mcp")
	d := airlock.decision with input as i with data.config.mcp_servers as mcp_cfg
	d.rule == "mcp.unreadable"
	d.approval.risk == "critical"
}

test_mcp_transport_get_still_allowed if {
	d := airlock.decision with input as req("GET", "mcp.example.com", "/mcp") with data.config.mcp_servers as mcp_cfg
	d.rule == "mcp.transport"
}

test_mcp_jsonrpc_response_is_a_plain_write if {
	i := object.union(req("POST", "mcp.example.com", "/mcp"), {"request": {"body": {"json": {"jsonrpc": "2.0", "id": 4, "result": {}}}}})
	d := airlock.decision with input as i with data.config.mcp_servers as mcp_cfg
	d.rule == "host.write"
	d.approval.risk == "medium"
}

test_mcp_json_string_body_unreadable if {
	i := object.union(req("POST", "mcp.example.com", "/mcp"), {"request": {"body": {"json": "tools/call"}}})
	d := airlock.decision with input as i with data.config.mcp_servers as mcp_cfg
	d.rule == "mcp.unreadable"
}

# An "allowed_hosts" entry written as a URL (or with a port), or a string instead of a list, allows
# nothing: the refusal says what was meant.
test_allowed_host_written_as_url_is_named if {
	d := airlock.decision with input as req("GET", "pypi.org", "/simple/")
		with data.config.allowed_hosts as ["docs.python.org", "https://pypi.org/"]
	d.rule == "host.unknown"
	endswith(d.reason, `; "allowed_hosts" lists "https://pypi.org/", which matches no host: write the host alone, "pypi.org"`)
}

test_allowed_hosts_not_a_list_is_named if {
	d := airlock.decision with input as req("GET", "pypi.org", "/simple/")
		with data.config.allowed_hosts as "pypi.org"
	d.rule == "host.unknown"
	contains(d.reason, `"allowed_hosts" in the policy's config/data.json must be a list`)
}

test_unknown_host_reason_unchanged_when_config_is_well_formed if {
	d := airlock.decision with input as req("GET", "docs.example.org", "/")
		with data.config.allowed_hosts as ["example.org:443", "https://other.example/"]
	d.reason == "docs.example.org is not a known service or an allowed host: Airlock denies unknown destinations"
}

# Eighteenth pass (left open by the seventeenth): a batch envelope on a host no module describes
# (Microsoft Graph `$batch`, Salesforce composite, a bare array of calls, Facebook's `batch` field, an
# OData multipart `$batch`) paid one request of the host's limit whatever it carried.
batch_call(i) := {"id": sprintf("%d", [i]), "method": "POST", "url": sprintf("/me/sendMail?n=%d", [i])}

test_batch_envelope_pays_per_call if {
	hosts := [{"host": "graph.example.com", "methods": ["POST"]}]
	graph := object.union(req("POST", "graph.example.com", "/v1.0/$batch"), {"request": {"body": {"json": {"requests": [batch_call(i) | some i in numbers.range(1, 20)]}}}})
	d := airlock.decision with input as graph with data.config.allowed_hosts as hosts
	{"key": "host:graph.example.com:agent-1", "limit": 120, "window": "1m", "cost": 20} in d.rate_limits
	composite := object.union(req("POST", "graph.example.com", "/composite"), {"request": {"body": {"json": {"allOrNone": true, "compositeRequest": [{"method": "GET", "url": "/a", "referenceId": "a"}, {"Method": "DELETE", "URL": "/b", "referenceId": "b"}]}}}})
	d1 := airlock.decision with input as composite with data.config.allowed_hosts as hosts
	{"key": "host:graph.example.com:agent-1", "limit": 120, "window": "1m", "cost": 2} in d1.rate_limits
	bare := object.union(req("POST", "graph.example.com", "/batch"), {"request": {"body": {"json": [{"method": "GET", "relative_url": "me"}, {"method": "POST", "relative_url": "me/feed"}, {"method": "POST", "relative_url": "me/feed"}]}}})
	d2 := airlock.decision with input as bare with data.config.allowed_hosts as hosts
	{"key": "host:graph.example.com:agent-1", "limit": 120, "window": "1m", "cost": 3} in d2.rate_limits
	form := object.union(req("POST", "graph.example.com", "/"), {"request": {"body": {"form": {"batch": [json.marshal([batch_call(1), batch_call(2), batch_call(3), batch_call(4)])]}}}})
	d3 := airlock.decision with input as form with data.config.allowed_hosts as hosts
	{"key": "host:graph.example.com:agent-1", "limit": 120, "window": "1m", "cost": 4} in d3.rate_limits
	part := "--b\r\nContent-Type: application/http\r\n\r\nDELETE /_api/web/lists(1) HTTP/1.1\r\n\r\n"
	odata := object.union(req("POST", "graph.example.com", "/_api/$batch"), {"request": {"body": {"content_type": "multipart/mixed; boundary=b", "text": concat("", [part, part, part, part, part, "--b--\r\n"])}}})
	d4 := airlock.decision with input as odata with data.config.allowed_hosts as hosts
	{"key": "host:graph.example.com:agent-1", "limit": 120, "window": "1m", "cost": 5} in d4.rate_limits
}

test_jmap_and_hasura_bulk_pay_per_call if {
	hosts := [{"host": "graph.example.com", "methods": ["POST"]}]
	jmap := object.union(req("POST", "graph.example.com", "/jmap/api/"), {"request": {"body": {"json": {"using": ["urn:ietf:params:jmap:submission"], "methodCalls": [["EmailSubmission/set", {}, "a"], ["EmailSubmission/set", {}, "b"], ["EmailSubmission/set", {}, "c"]]}}}})
	d1 := airlock.decision with input as jmap with data.config.allowed_hosts as hosts
	{"key": "host:graph.example.com:agent-1", "limit": 120, "window": "1m", "cost": 3} in d1.rate_limits
	bulk := object.union(req("POST", "graph.example.com", "/v2/query"), {"request": {"body": {"json": {"type": "bulk", "args": [{"type": "delete", "args": {}}, {"type": "delete", "args": {}}]}}}})
	d2 := airlock.decision with input as bulk with data.config.allowed_hosts as hosts
	{"key": "host:graph.example.com:agent-1", "limit": 120, "window": "1m", "cost": 2} in d2.rate_limits
}

test_xmlrpc_multicall_pays_per_call if {
	hosts := [{"host": "graph.example.com", "methods": ["POST"]}]
	call := "<value><struct><member><name>methodName</name><value>wp.deletePost</value></member></struct></value>"
	text := concat("", ["<?xml version=\"1.0\"?><methodCall><methodName>system.multicall</methodName><params><param><value><array><data>", call, call, call, call, "</data></array></value></param></params></methodCall>"])
	multicall := object.union(req("POST", "graph.example.com", "/xmlrpc.php"), {"request": {"body": {"content_type": "text/xml", "text": text}}})
	d := airlock.decision with input as multicall with data.config.allowed_hosts as hosts
	{"key": "host:graph.example.com:agent-1", "limit": 120, "window": "1m", "cost": 4} in d.rate_limits
}

test_rows_and_single_calls_pay_one if {
	hosts := [{"host": "graph.example.com", "methods": ["POST"]}]
	rows := object.union(req("POST", "graph.example.com", "/rows"), {"request": {"body": {"json": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}}})
	d5 := airlock.decision with input as rows with data.config.allowed_hosts as hosts
	{"key": "host:graph.example.com:agent-1", "limit": 120, "window": "1m", "cost": 1} in d5.rate_limits
	one := object.union(req("POST", "graph.example.com", "/v1.0/$batch"), {"request": {"body": {"json": {"requests": [batch_call(1)]}}}})
	d6 := airlock.decision with input as one with data.config.allowed_hosts as hosts
	{"key": "host:graph.example.com:agent-1", "limit": 120, "window": "1m", "cost": 1} in d6.rate_limits
}

# Eighteenth pass (left open by the seventeenth): a service's hosts keep one egress budget: GitHub's
# API, uploads, git and content hosts, Slack's and Stripe's hosts each had 64 MiB an hour of their own.
test_a_service_hosts_share_one_egress_budget if {
	every host in ["api.github.com", "uploads.github.com", "github.com", "codeload.github.com", "gist.githubusercontent.com"] {
		d := airlock.decision with input as svc("GET", host, "/x", "github", "unknown", "read")
		{"key": "egress:api.github.com:agent-1", "limit": 67108864, "window": "1h", "unit": "egress_bytes"} in d.rate_limits
	}
	every host in ["slack.com", "files.slack.com", "hooks.slack.com", "api.slack.com"] {
		d := airlock.decision with input as svc("POST", host, "/x", "slack", "unknown", "write")
		{"key": "egress:slack.com:agent-1", "limit": 67108864, "window": "1h", "unit": "egress_bytes"} in d.rate_limits
	}
	d := airlock.decision with input as svc("POST", "files.stripe.com", "/v1/files", "stripe", "files.create", "write")
	{"key": "egress:api.stripe.com:agent-1", "limit": 67108864, "window": "1h", "unit": "egress_bytes"} in d.rate_limits

	# A host with a budget of its own keeps it.
	own := airlock.decision with input as svc("POST", "uploads.github.com", "/x", "github", "unknown", "write") with data.config.egress_budgets as {"uploads.github.com": {"limit": 5, "window": "1h"}}
	{"key": "egress:uploads.github.com:agent-1", "limit": 5, "window": "1h", "unit": "egress_bytes"} in own.rate_limits
}
