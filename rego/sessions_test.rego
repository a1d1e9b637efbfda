package airlock_test

import rego.v1

import data.airlock

arrival(id, host) := {"request_id": id, "host": host, "time": "2026-01-02T03:00:00Z"}

in_session(i, labels) := object.union(i, {"session": {
	"id": "s_1", "started": "2026-01-02T03:00:00Z", "labels": labels, "requests": 3, "egress_bytes": 100,
}})

both := {"untrusted": arrival("r-issue", "api.github.com"), "private": arrival("r-db", "abc.supabase.co")}

gh_issue_read := object.union(svc("GET", "api.github.com", "/repos/oss/lib/issues/1", "github", "issues.get", "read"), {"service": {"params": {"owner": "oss", "repo": "lib"}}})

gh_content := object.union(svc("GET", "api.github.com", "/repos/acme/app/contents/x", "github", "repos.get_content", "read"), {"service": {"params": {"owner": "acme", "repo": "app"}}})

# --- labels -----------------------------------------------------------------------------------

test_issue_read_is_untrusted if {
	d := airlock.decision with input as gh_issue_read
	d.action == "allow"
	d.labels == ["untrusted"]
}

test_owned_repo_issue_is_not_untrusted if {
	d := airlock.decision with input as gh_issue_read with data.config.labels.owned_repos as ["OSS/*"]
	not d.labels
}

# Files of a repository nobody listed as owned were written by others: untrusted as well.
test_repo_content_is_private_unless_public_and_untrusted_unless_owned if {
	d := airlock.decision with input as gh_content
	d.labels == ["private", "untrusted"]
	o := airlock.decision with input as gh_content with data.config.labels.owned_repos as ["acme/*"]
	o.labels == ["private"]
	p := airlock.decision with input as gh_content with data.config.labels.public_repos as ["acme/app"] with data.config.labels.owned_repos as ["acme/*"]
	not p.labels
}

# Git to other hosts: clones carry what others wrote; the lists name repositories with their host,
# so an owner's name listed for GitHub is nobody's on GitLab.
test_git_clone_elsewhere_is_untrusted_unless_listed_with_its_host if {
	i := object.union(svc("GET", "gitlab.com", "/acme/app.git/info/refs", "git", "git.fetch", "read"), {"service": {"params": {"repository": "acme/app", "owner": "acme", "repo": "app"}}})
	d := airlock.decision with input as i with data.config.allowed_hosts as ["gitlab.com"] with data.config.labels.owned_repos as ["acme/*"]
	d.labels == ["private", "untrusted"]
	o := airlock.decision with input as i with data.config.allowed_hosts as ["gitlab.com"] with data.config.labels.owned_repos as ["GitLab.com/acme/*"]
	o.labels == ["private"]
}

# A read of a route Airlock does not name brings both: its content is unknown (fails closed).
test_unknown_github_read_is_both_unless_listed if {
	i := object.union(svc("GET", "api.github.com", "/repos/oss/lib/milestones/1", "github", "unknown", "read"), {"service": {"params": {"owner": "oss", "repo": "lib"}}})
	d := airlock.decision with input as i
	d.labels == ["private", "untrusted"]
	o := airlock.decision with input as i with data.config.labels.owned_repos as ["oss/lib"] with data.config.labels.public_repos as ["oss/lib"]
	not o.labels
}

# On a public repository anyone writes issues, pull requests and their comments: an owned one's
# review comments stay untrusted (ninth pass).
test_public_owned_repo_discussion_stays_untrusted if {
	i := object.union(svc("GET", "api.github.com", "/repos/oss/lib/pulls/1/comments", "github", "unknown", "read"), {"service": {"params": {"owner": "oss", "repo": "lib"}}})
	o := airlock.decision with input as i with data.config.labels.owned_repos as ["oss/lib"] with data.config.labels.public_repos as ["oss/lib"]
	o.labels == ["untrusted"]
	p := airlock.decision with input as i with data.config.labels.owned_repos as ["oss/lib"]
	p.labels == ["private"]
}

test_email_body_is_both if {
	d := airlock.decision with input as svc("GET", "gmail.googleapis.com", "/gmail/v1/users/me/messages/1", "gmail", "messages.get", "read")
	d.labels == ["private", "untrusted"]
}

test_write_answer_brings_no_label if {
	d := airlock.decision with input as gh_issue
	not d.labels
}

test_allowed_host_page_is_untrusted if {
	d := airlock.decision with input as req("GET", "docs.python.org", "/3/") with data.config.allowed_hosts as ["docs.python.org"]
	d.action == "allow"
	d.labels == ["untrusted"]
}

# An account of the agent's own read with a token in the body is private data as one in a header is.
test_allowed_host_read_with_own_token_in_body_is_private if {
	form := object.union(req("POST", "hooks.corp.dev", "/api/conversations.history"), {"request": {"body": {"size": 30, "sha256": "", "content_type": "application/x-www-form-urlencoded", "truncated": false, "form": {"Token": ["xoxb-1"], "channel": ["C1"]}}}})
	airlock.response_labels == {"private", "untrusted", "wrote:hooks.corp.dev"} with input as form with data.config.allowed_hosts as ["hooks.corp.dev"]
	json := object.union(req("POST", "hooks.corp.dev", "/api/x"), {"request": {"body": {"size": 30, "sha256": "", "content_type": "application/json", "truncated": false, "json": {"access_token": "t"}}}})
	airlock.response_labels == {"private", "untrusted", "wrote:hooks.corp.dev"} with input as json with data.config.allowed_hosts as ["hooks.corp.dev"]
	plain := object.union(req("POST", "hooks.corp.dev", "/api/x"), {"request": {"body": {"size": 30, "sha256": "", "content_type": "application/json", "truncated": false, "json": {"tokens_used": 1}}}})
	airlock.response_labels == {"untrusted", "wrote:hooks.corp.dev"} with input as plain with data.config.allowed_hosts as ["hooks.corp.dev"]
}

# npm sends `npm-auth-type: web` with every request: it names how to log in, and carries no credential.
test_auth_type_header_is_no_credential if {
	i := object.union(req("GET", "hooks.corp.dev", "/x"), {"request": {"headers": {"npm-auth-type": ["web"], "npm-command": ["install"]}}})
	airlock.response_labels == {"untrusted"} with input as i with data.config.allowed_hosts as ["hooks.corp.dev"]
	k := object.union(req("GET", "hooks.corp.dev", "/x"), {"request": {"headers": {"x-auth-token": ["t"]}}})
	airlock.response_labels == {"private", "untrusted"} with input as k with data.config.allowed_hosts as ["hooks.corp.dev"]
}

test_host_labels_override if {
	d := airlock.decision with input as req("GET", "wiki.corp", "/x") with data.config.allowed_hosts as ["wiki.corp"] with data.config.labels.hosts as {"*.corp": ["private"]}
	d.labels == ["private"]
}

test_denied_request_carries_no_labels if {
	d := airlock.decision with input as req("GET", "evil.example", "/x")
	not d.labels
}

# --- the trifecta -------------------------------------------------------------------------------

test_fresh_session_write_is_medium if {
	d := airlock.decision with input as in_session(gh_issue, {})
	d.rule == "effect.write"
	d.approval.risk == "medium"
	not d.approval.because
}

test_one_label_is_no_trifecta if {
	d := airlock.decision with input as in_session(gh_issue, {"untrusted": arrival("r1", "x")})
	d.rule == "effect.write"
}

test_trifecta_holds_writes_high_naming_both if {
	d := airlock.decision with input as in_session(gh_issue, both)
	d.action == "approve"
	d.rule == "session.trifecta"
	d.approval.risk == "high"
	d.approval.because == ["r-issue", "r-db"]
	contains(d.reason, "r-issue")
	contains(d.reason, "r-db")
}

test_trifecta_holds_reads_to_untrusted_sinks if {
	d := airlock.decision with input as in_session(req("GET", "docs.python.org", "/3/?q=secret"), both) with data.config.allowed_hosts as ["docs.python.org"]
	d.action == "approve"
	d.rule == "session.trifecta"
}

test_trifecta_lets_reads_of_trusted_services_pass if {
	d := airlock.decision with input as in_session(gh_read, both)
	d.action == "allow"
	d.rule == "effect.read"
}

test_trifecta_keeps_critical if {
	d := airlock.decision with input as in_session(gh_delete, both)
	d.approval.risk == "critical"
	d.approval.because == ["r-issue", "r-db"]
}

test_trifecta_deny_mode if {
	d := airlock.decision with input as in_session(gh_issue, both) with data.config.trifecta.mode as "deny"
	d.action == "deny"
	d.rule == "session.trifecta"
}

test_trifecta_off if {
	d := airlock.decision with input as in_session(gh_issue, both) with data.config.trifecta.mode as "off"
	d.rule == "effect.write"
}

test_grant_never_covers_trifecta if {
	g := with_grant(in_session(gh_issue, both), {"operation": "issues.create", "risk": "high"})
	d := airlock.decision with input as g
	d.action == "approve"
	d.rule == "session.trifecta"
}

test_unknown_host_stays_denied_in_trifecta if {
	d := airlock.decision with input as in_session(req("GET", "evil.example", "/x"), both)
	d.action == "deny"
}

# --- browsing by provenance ---------------------------------------------------------------------

page(provenance) := object.union(req("GET", "blog.example", "/post"), {"request": {"provenance": provenance}})

search_seen := {"seen": true, "request_id": "r-search", "host": "api.search.brave.com"}

test_seen_link_from_source_is_allowed_untrusted_and_limited if {
	d := airlock.decision with input as in_session(page(search_seen), {})
	d.action == "allow"
	d.rule == "browse.link"
	d.labels == ["untrusted"]
	some l in d.rate_limits
	l.key == "browse:s_1"
	l.limit == 30
}

test_unseen_link_is_denied_saying_why if {
	d := airlock.decision with input as in_session(page({"seen": false, "host_seen": true}), {})
	d.action == "deny"
	d.rule == "browse.unseen"
	contains(d.reason, "exactly as a response served them")
	n := airlock.decision with input as in_session(page({"seen": false, "host_seen": false}), {})
	n.rule == "host.unknown"
}

test_link_from_a_non_source_is_denied if {
	d := airlock.decision with input as in_session(page({"seen": true, "request_id": "r9", "host": "evil.example"}), {})
	d.rule == "browse.source"
}

test_link_from_allowed_host_is_followable if {
	d := airlock.decision with input as in_session(page({"seen": true, "request_id": "r9", "host": "docs.python.org"}), {}) with data.config.allowed_hosts as ["docs.python.org"]
	d.rule == "browse.link"
}

test_browse_needs_get_without_body if {
	post := object.union(page(search_seen), {"request": {"method": "POST"}})
	d := airlock.decision with input as in_session(post, {})
	d.action == "deny"
	body := object.union(page(search_seen), {"request": {"body": {"size": 3}}})
	b := airlock.decision with input as in_session(body, {})
	b.action == "deny"
}

test_browse_off if {
	d := airlock.decision with input as in_session(page(search_seen), {}) with data.config.browse.enabled as false
	d.rule == "host.unknown"
}

test_browse_in_trifecta_is_held if {
	d := airlock.decision with input as in_session(page(search_seen), both)
	d.action == "approve"
	d.rule == "session.trifecta"
}

# A service added to Airlock with no labels.services entry: its reads are unknown content (both
# labels), its writes bring nothing; an entry naming it, even {}, decides instead.
acme_read := svc("GET", "api.acme.dev", "/v2/widgets", "acme", "widgets.list", "read")

test_unlisted_service_read_brings_both_labels if {
	airlock.response_labels == {"private", "untrusted"} with input as acme_read
	count(airlock.response_labels) == 0 with input as svc("POST", "api.acme.dev", "/v2/widgets", "acme", "widgets.create", "write")
	count(airlock.response_labels) == 0 with input as acme_read with data.config.labels.services.acme as {}
	airlock.response_labels == {"private"} with input as acme_read with data.config.labels.services.acme as {"private": ["widgets.*"]}
	airlock.response_labels == {"untrusted"} with input as acme_read with data.config.labels.unlisted_services as ["untrusted"]
}

# --- a connection that stays open -----------------------------------------------------------------
# A WebSocket carries what the agent sends for as long as it is open, after its own answer brought
# its labels: one whose labels complete the trifecta (a chat socket, untrusted, in a session that
# read private data; a Supabase Realtime socket, both at once) is a way out of a trifecta session.

ws_chat := in_session(
	object.union(req("GET", "chat.example", "/socket"), {"request": {"upgrade": "websocket", "id": "r-ws"}}),
	{"private": arrival("r-db", "abc.supabase.co")},
)

test_socket_completing_the_trifecta_is_held_naming_itself if {
	d := airlock.decision with input as ws_chat with data.config.allowed_hosts as ["chat.example"]
	d.action == "approve"
	d.approval.risk == "high"
	d.approval.because == ["r-ws", "r-db"]
	d.labels == ["untrusted", "wrote:chat.example"] # and the host holds what it carries (browsing)
}

test_socket_completing_the_trifecta_is_denied_in_deny_mode if {
	d := airlock.decision with input as ws_chat with data.config.allowed_hosts as ["chat.example"] with data.config.trifecta.mode as "deny"
	d.action == "deny"
	d.rule == "session.trifecta"
}

test_socket_completing_the_trifecta_is_no_grant_s if {
	d := airlock.decision with input as with_grant(ws_chat, {"risk": "high"}) with data.config.allowed_hosts as ["chat.example"]
	d.action == "approve"
	d.approval.because == ["r-ws", "r-db"]
}

# Controls: the same socket in a fresh session, and a plain GET to that host with private data
# held (its answer arrives once; nothing is sent after it).
test_socket_in_a_fresh_session_is_an_ordinary_upgrade if {
	d := airlock.decision with input as with_grant(json.patch(ws_chat, [{"op": "replace", "path": "/session/labels", "value": {}}]), {"risk": "high"}) with data.config.allowed_hosts as ["chat.example"]
	d.action == "allow"
	d.rule == "grant.matched"
}

test_plain_get_completing_the_trifecta_goes_on if {
	d := airlock.decision with input as in_session(req("GET", "chat.example", "/page"), {"private": arrival("r-db", "abc.supabase.co")}) with data.config.allowed_hosts as ["chat.example"]
	d.action == "allow"
	d.rule == "host.allowed"
}

# A socket to a trusted service is no read of it: what the agent sends over it later is not
# inspected (an OpenAI Realtime `session.update` can name a remote MCP server at evil/?d=…, which
# the provider calls). In the trifecta it is held like any way out, and no grant stands in.
rt_socket := object.union(
	svc("GET", "api.openai.com", "/v1/realtime", "openai", "unknown", "read"),
	{"request": {"upgrade": "websocket"}, "agent": {"id": "agent-1"}},
)

test_trifecta_holds_a_socket_to_a_trusted_service if {
	d := airlock.decision with input as with_grant(in_session(rt_socket, both), {"risk": "high"}) with data.config.agents as {"*": {"services": ["openai"]}}
	d.action == "approve"
	d.approval.because == ["r-issue", "r-db"]
	e := airlock.decision with input as in_session(rt_socket, both) with data.config.agents as {"*": {"services": ["openai"]}} with data.config.trifecta.mode as "deny"
	e.action == "deny"
	e.rule == "session.trifecta"
}

# --- model calls whose provider reads an account (eighth pass) --------------------------------

model_call(params) := object.union(svc("POST", "api.openai.com", "/v1/responses", "openai", "responses.create", "send"), {"service": {"params": params}})

# Every tool kind that has the provider call an MCP server or connector, or that Airlock cannot
# see, brings both labels (labels.remote_accounts); a fetch or a search brings untrusted only.
test_remote_account_tools_bring_both_labels if {
	every kind in ["mcp", "connector", "unread_members", "realtime_session_unread"] {
		d := airlock.decision with input as model_call({"remote_tools": [kind]})
		d.labels == ["private", "untrusted"]
	}
	p := airlock.decision with input as model_call({"search_tools": ["prompt:pmpt_1"]})
	p.labels == ["private", "untrusted"]
	every kind in ["url_content", "web_fetch_20250910", "url_context", "browser_rendering"] {
		d := airlock.decision with input as model_call({"remote_tools": [kind]})
		d.labels == ["untrusted"]
	}
	s := airlock.decision with input as model_call({"search_tools": ["web_search"]})
	s.labels == ["untrusted"]
	c := airlock.decision with input as model_call({"remote_tools": ["mcp"]}) with data.config.labels.remote_accounts as ["untrusted"]
	c.labels == ["untrusted"]
}

# A host given as a bare string takes writes a human approves (and a GET whose URL carries a URL
# writes): `wrote:<host>` is the session's, and that host's links are followed no more. A label name
# is 64 characters at most: a longer host keeps its last 58 (a shorter suffix matches more hosts),
# and an IPv6 literal loses its brackets; every such label is a valid label name.
test_written_host_label if {
	long := concat("", [concat("", ["a" | some _ in numbers.range(1, 70)]), ".notes.example"])
	labels := airlock.response_labels with input as req("POST", long, "/n") with data.config.allowed_hosts as [long] with data.config.browse.enabled as true
	some l in labels
	startswith(l, "wrote:")
	count(l) == 64
	endswith(long, substring(l, 6, -1))
	regex.match(`^[a-z0-9][a-z0-9_.:-]{0,63}$`, l)
	v6 := airlock.response_labels with input as req("POST", "[::1]", "/n") with data.config.allowed_hosts as ["[::1]"] with data.config.browse.enabled as true
	"wrote:::1" in v6
	airlock.browse_source(long) with input as {"session": {"labels": {}}} with data.config.allowed_hosts as [long] with data.config.browse.enabled as true
	not airlock.browse_source(long) with input as {"session": {"labels": {l: {"request_id": "r1", "host": long}}}} with data.config.allowed_hosts as [long] with data.config.browse.enabled as true
}

# A search API's key pays for public results: a keyed read of a named browsing source is `untrusted`
# only; one on your own network keeps the network's `private`.
test_keyed_search_of_a_named_source if {
	brave := object.union(req("GET", "api.search.brave.com", "/res/v1/web/search"), {"request": {"headers": {"x-subscription-token": ["[redacted]"]}}})
	airlock.response_labels == {"untrusted"} with input as brave with data.config.allowed_hosts as ["api.search.brave.com"]
	inside := object.union(req("GET", "search.acme.internal", "/q"), {"request": {"headers": {"x-subscription-token": ["[redacted]"]}}})
	airlock.response_labels == {"private", "untrusted"} with input as inside with data.config.allowed_hosts as ["search.acme.internal"] with data.config.browse.sources as ["search.acme.internal"]
}

# A `*.` pattern over a public suffix (data.public_suffixes: the Public Suffix List, with its
# wildcard and exception rules) spans owners; one over a name below it does not (fourteenth pass).
test_wildcard_spans_owners if {
	airlock.wildcard_spans_owners("*.workers.dev", "x.workers.dev")
	airlock.wildcard_spans_owners("*.workers.dev", "a.x.workers.dev")
	not airlock.wildcard_spans_owners("*.acme.workers.dev", "x.acme.workers.dev")
	airlock.wildcard_spans_owners("*.gov.bd", "a.gov.bd") # `*.bd`: every name under bd is a suffix
	not airlock.wildcard_spans_owners("*.www.ck", "a.www.ck") # `!www.ck` is an exception
	not airlock.wildcard_spans_owners("*.acme.example", "x.acme.example")
}

test_host_site if {
	airlock.host_site("api.paste.example") == "paste.example"
	airlock.host_site("a.b.example.co.uk") == "example.co.uk"
	airlock.host_site("10.1.2.3") == "10.1.2.3"
	airlock.host_site("fd12::5") == "fd12::5"
	airlock.host_site("jenkins") == "jenkins"
}

test_host_site_by_the_list if {
	airlock.host_site("attacker.github.io") == "attacker.github.io"
	airlock.host_site("a.b.acme.s3.amazonaws.com") == "acme.s3.amazonaws.com"
	airlock.host_site("github.io") == "github.io"
}

# A reader's URL (a fetch of another site) that a browsing source served is forwarded bare, as a
# followed link is; the same URL the agent wrote is held (fourteenth pass: host.fetches_url).
reader_read := object.union(req("GET", "r.reader.example", "/https://blog.example/post"), {"request": {"provenance": {"seen": true, "request_id": "r-s", "host": "api.search.brave.com"}}})

test_served_reader_url_goes_bare if {
	d := airlock.decision with input as reader_read with data.config.allowed_hosts as ["r.reader.example", "api.search.brave.com"]
	d.action == "allow"
	d.bare_headers == true
}

test_written_reader_url_is_held if {
	i := object.union(reader_read, {"request": {"provenance": {"seen": false, "host_seen": false}}})
	d := airlock.decision with input as i with data.config.allowed_hosts as ["r.reader.example"]
	d.action == "approve"
	d.rule == "host.fetches_url"
	not d.bare_headers
}

# --- the Public Suffix List's buckets (seventeenth pass) -----------------------------------------

# Every rule is found where rule_bucket looks for it, the split top-level domains' (`com`, `jp`)
# included, and a name no rule is under is none.
test_every_public_suffix_rule_is_found if {
	missing := [r |
		some s in data.public_suffixes.by_tld
		some r in split(trim(s, "\n"), "\n")
		not airlock.public_rule(r)
	]
	missing == []
	count(data.public_suffixes.split) > 0
	airlock.public_suffix("s3.amazonaws.com")
	airlock.public_suffix("x.compute.amazonaws.com") # `*.compute.amazonaws.com`
	not airlock.public_suffix("amazonaws.com")
	not airlock.public_suffix("evil.com")
	airlock.host_site("a.b.c.d.e.f.g.h.i.j.evil.com") == "evil.com"
	airlock.host_site("bucket.s3.amazonaws.com") == "bucket.s3.amazonaws.com"
	airlock.host_site("x.y.hokkaido.jp") == "y.hokkaido.jp"
}
