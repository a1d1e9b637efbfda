# METADATA
# title: Supabase
# description: |
#   Project APIs on {ref}.supabase.co (PostgREST, Storage, Auth, Functions, /pg/query SQL) and the
#   Management API on api.supabase.com. Anyone can create a project, so the key goes only to the
#   projects the user names in services.supabase.projects (config/data.json); any other project
#   (and the Management API acting on one) is denied with what to configure.
package airlock.services.supabase

import rego.v1

owns_host if endswith(input.request.host, ".supabase.co")

owns_host if endswith(input.request.host, ".supabase.in")

owns_host if input.request.host == "api.supabase.com"

conf := object.get(data.airlock.config, ["services", "supabase"], {})

secret := object.get(conf, "secret", "supabase_service_key")

management_secret := object.get(conf, "management_secret", "supabase_access_token")

configured_projects := {p | some p in object.get(conf, "projects", [])}

project_host if input.request.host != "api.supabase.com"

# The project ref of a project host: exactly one label before supabase.co / supabase.in.
project := ref if {
	some suffix in [".supabase.co", ".supabase.in"]
	endswith(input.request.host, suffix)
	ref := trim_suffix(input.request.host, suffix)
	not contains(ref, ".")
	ref != ""
}

# The Management API names the project it acts on in the path.
project := input.service.params.ref if not project_host

project_configured if project in configured_projects

# Management API routes that name no project (listing projects, organizations) act on the account.
management_without_project if {
	not project_host
	not input.service.params.ref
}

# PostgREST and the other project APIs take the key twice: as `apikey` and as a bearer token.
credentials contains {"secret": secret, "in": "header", "name": "apikey", "format": "{}"} if {
	project_host
	project_configured
}

credentials contains {"secret": secret, "in": "header", "name": "Authorization", "format": "Bearer {}"} if {
	project_host
	project_configured
}

credentials contains {"secret": management_secret, "in": "header", "name": "Authorization", "format": "Bearer {}"} if {
	not project_host
	management_may_inject
}

management_may_inject if management_without_project

management_may_inject if project_configured

# How a reason names the project: its ref, or the host when it is not a project host at all.
project_text := project if project_host_ref

project_text := input.request.host if not project_host_ref

project_host_ref if {
	project_host
	project
}

# Above placeholder.unauthorized (950): the reason that says what to configure wins.
verdicts contains data.airlock.deny(
	"supabase.project_not_allowed",
	concat("", [
		input.request.host, " is not a configured Supabase project: anyone can create a project, so Airlock sends ",
		"your Supabase key only to projects you name. If ", project_text, " is yours, add its ref to ",
		"services.supabase.projects in the policy's config/data.json",
	]),
	960,
) if {
	project_host
	not project_configured
}

verdicts contains data.airlock.deny(
	"supabase.project_not_allowed",
	concat("", [
		input.request.host, " is not a configured Supabase project: anyone can create a project, so Airlock sends ",
		"your Supabase key only to projects you name. If ", object.get({"r": project}, "r", input.request.host),
		" is yours, add its ref to services.supabase.projects in the policy's config/data.json",
		" (\"services\": {\"supabase\": {\"projects\": [\"", object.get({"r": project}, "r", "<ref>"), "\"]}})",
	]),
	960,
) if {
	project_host
	not project_configured
}

verdicts contains data.airlock.deny(
	"supabase.project_not_allowed",
	concat("", [
		"Supabase project ", project, " is not a configured project: Airlock acts only on projects you name. ",
		"If it is yours, add \"", project, "\" to services.supabase.projects in the policy's config/data.json",
	]),
	960,
) if {
	not project_host
	project
	not project_configured
}

# PATCH without a filter rewrites every row of the table, and so does one whose filters hold for
# every row or name only the rows spared (`id=neq.7`).
verdicts contains data.airlock.approve(
	"supabase.update_all_rows",
	concat("", ["updating every row of ", input.service.params.table, " (no filter, or one that spares only the rows it names): a human must approve (critical)"]),
	"critical",
) if {
	input.service.operation == "rows.update"
	input.service.params.all_rows == true
}
