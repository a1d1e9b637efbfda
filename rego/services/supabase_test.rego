package airlock.services.supabase_test

import rego.v1

import data.airlock
import data.airlock.services.test_helpers.call

test_supabase_project_keys if {
	d := airlock.decision with input as call("GET", "p1.supabase.co", "/rest/v1/users", "supabase", "rows.select", "read", {"table": "users"})
	d.rule == "effect.read"
	{"secret": "supabase_service_key", "in": "header", "name": "apikey", "format": "{}"} in d.credentials
	{"secret": "supabase_service_key", "in": "header", "name": "Authorization", "format": "Bearer {}"} in d.credentials
	d2 := airlock.decision with input as call("POST", "api.supabase.com", "/v1/projects/p1/database/query", "supabase", "database.query", "write", {"ref": "p1"})
	d2.credentials == [{"secret": "supabase_access_token", "in": "header", "name": "Authorization", "format": "Bearer {}"}]
}

test_supabase_update_all_rows_is_critical if {
	d := airlock.decision with input as call("PATCH", "p1.supabase.co", "/rest/v1/users", "supabase", "rows.update", "write", {"table": "users", "all_rows": true})
	d.rule == "supabase.update_all_rows"
	d.approval.risk == "critical"
}

test_supabase_project_allow_list if {
	i := call("GET", "p2.supabase.co", "/rest/v1/users", "supabase", "rows.select", "read", {})
	d := airlock.decision with input as i with data.config.services.supabase.projects as ["p1"]
	d.rule == "supabase.project_not_allowed"
	d2 := airlock.decision with input as i with data.config.services.supabase.projects as ["p2"]
	d2.rule == "effect.read"
	m := call("POST", "api.supabase.com", "/v1/projects/p3/database/query", "supabase", "database.query", "write", {"ref": "p3"})
	d3 := airlock.decision with input as m with data.config.services.supabase.projects as ["p1"]
	d3.rule == "supabase.project_not_allowed"
}
