# METADATA
# title: Supabase
# description: |
#   Project APIs on {ref}.supabase.co (PostgREST, Storage, Auth, Functions, /pg/query SQL) and the
#   Management API on api.supabase.com. services.supabase.projects in config/data.json optionally
#   limits which project refs agents may reach.
package airlock.services.supabase

import rego.v1

owns_host if endswith(input.request.host, ".supabase.co")

owns_host if endswith(input.request.host, ".supabase.in")

owns_host if input.request.host == "api.supabase.com"

conf := object.get(data.airlock.config, ["services", "supabase"], {})

secret := object.get(conf, "secret", "supabase_service_key")

management_secret := object.get(conf, "management_secret", "supabase_access_token")

project_host if input.request.host != "api.supabase.com"

# PostgREST and the other project APIs take the key twice: as `apikey` and as a bearer token.
credentials contains {"secret": secret, "in": "header", "name": "apikey", "format": "{}"} if project_host

credentials contains {"secret": secret, "in": "header", "name": "Authorization", "format": "Bearer {}"} if project_host

credentials contains {"secret": management_secret, "in": "header", "name": "Authorization", "format": "Bearer {}"} if {
	input.request.host == "api.supabase.com"
}

project := split(input.request.host, ".")[0] if project_host

project := input.service.params.ref if not project_host

verdicts contains data.airlock.deny(
	"supabase.project_not_allowed",
	concat("", ["Supabase project ", project, " is not in services.supabase.projects"]),
	800,
) if {
	is_array(conf.projects)
	project
	not project in conf.projects
}

# PATCH without a filter rewrites every row of the table.
verdicts contains data.airlock.approve(
	"supabase.update_all_rows",
	concat("", ["updating every row of ", input.service.params.table, " (no filter): a human must approve (critical)"]),
	"critical",
) if {
	input.service.operation == "rows.update"
	input.service.params.all_rows == true
}
