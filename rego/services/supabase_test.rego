package airlock.services.supabase_test

import rego.v1

import data.airlock
import data.airlock.services.test_helpers.call
import data.airlock.services.test_helpers.secrets

test_supabase_project_keys if {
	d := airlock.decision with input as call("GET", "p1.supabase.co", "/rest/v1/users", "supabase", "rows.select", "read", {"table": "users"})
		with data.config.services.supabase.projects as ["p1"]
	d.rule == "effect.read"
	{"secret": "supabase_service_key", "in": "header", "name": "apikey", "format": "{}"} in d.credentials
	{"secret": "supabase_service_key", "in": "header", "name": "Authorization", "format": "Bearer {}"} in d.credentials
	d2 := airlock.decision with input as call("POST", "api.supabase.com", "/v1/projects/p1/database/query", "supabase", "database.query", "write", {"ref": "p1"})
		with data.config.services.supabase.projects as ["p1"]
	d2.credentials == [{"secret": "supabase_access_token", "in": "header", "name": "Authorization", "format": "Bearer {}"}]
}

test_supabase_update_all_rows_is_critical if {
	d := airlock.decision with input as call("PATCH", "p1.supabase.co", "/rest/v1/users", "supabase", "rows.update", "write", {"table": "users", "all_rows": true})
		with data.config.services.supabase.projects as ["p1"]
	d.rule == "supabase.update_all_rows"
	d.approval.risk == "critical"
}

# Anyone can create a project: the key goes only to projects the user named.
test_supabase_unconfigured_project_gets_no_key if {
	i := call("GET", "attacker.supabase.co", "/functions/v1/collect", "supabase", "functions.invoke", "write", {})
	d := airlock.decision with input as i
	d.action == "deny"
	d.rule == "supabase.project_not_allowed"
	contains(d.reason, "services.supabase.projects")
	not d.credentials
	d2 := airlock.decision with input as i with data.config.services.supabase.projects as ["p1"]
	d2.rule == "supabase.project_not_allowed"
	creds := data.airlock.services.supabase.credentials with input as i with data.config.services.supabase.projects as ["p1"]
	count(creds) == 0
}

test_supabase_only_project_hosts_count if {
	d := airlock.decision with input as call("GET", "p1.evil.supabase.co", "/rest/v1/users", "supabase", "rows.select", "read", {})
		with data.config.services.supabase.projects as ["p1"]
	d.rule == "supabase.project_not_allowed"
	d2 := airlock.decision with input as call("GET", "p1.supabase.in", "/rest/v1/users", "supabase", "rows.select", "read", {})
		with data.config.services.supabase.projects as ["p1"]
	d2.rule == "effect.read"
}

test_supabase_management_api if {
	m := call("POST", "api.supabase.com", "/v1/projects/p3/database/query", "supabase", "database.query", "write", {"ref": "p3"})
	d := airlock.decision with input as m with data.config.services.supabase.projects as ["p1"]
	d.rule == "supabase.project_not_allowed"
	contains(d.reason, "p3")
	l := airlock.decision with input as call("GET", "api.supabase.com", "/v1/projects", "supabase", "projects.list", "read", {})
	l.rule == "effect.read"
	secrets(l) == {"supabase_access_token"}
}
