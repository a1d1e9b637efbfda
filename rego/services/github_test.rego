package airlock.services.github_test

import rego.v1

import data.airlock

gh(method, host, path, operation, effect, params) := {
	"request": {
		"method": method, "scheme": "https", "host": host, "port": 443, "path": path,
		"query": {}, "headers": {}, "egress_bytes": 1,
	},
	"agent": {"id": "a"},
	"service": {"name": "github", "operation": operation, "params": params, "effect": effect},
	"placeholders": [{"name": "github_token", "where": ["header"]}],
	"grants": [],
}

test_api_gets_bearer_token if {
	d := airlock.decision with input as gh("GET", "api.github.com", "/user", "users.get_authenticated", "read", {})
	d.rule == "effect.read"
	d.credentials == [{"secret": "github_token", "in": "header", "name": "Authorization", "format": "Bearer {}"}]
}

test_git_gets_basic_auth if {
	d := airlock.decision with input as gh("GET", "github.com", "/a/b.git/info/refs", "git.fetch", "read", {"owner": "a", "repo": "b"})
	d.action == "allow"
	d.credentials == [{"secret": "github_token", "in": "basic", "name": "x-access-token", "format": "x-access-token:{}"}]
}

test_push_needs_approval if {
	d := airlock.decision with input as gh("POST", "github.com", "/a/b.git/git-receive-pack", "git.push", "write", {})
	d.rule == "effect.write"
	d.approval.risk == "medium"
}

test_repo_delete_is_critical if {
	d := airlock.decision with input as gh("DELETE", "api.github.com", "/repos/a/b", "repos.delete", "delete", {"owner": "a", "repo": "b"})
	d.action == "approve"
	d.rule == "effect.delete"
	d.approval.step_up
}

test_force_push_is_critical if {
	d := airlock.decision with input as gh("PATCH", "api.github.com", "/repos/a/b/git/refs/heads/main", "git.update_ref", "write", {"ref": "heads/main", "force": true})
	d.rule == "github.force_push"
	d.approval.risk == "critical"
	d2 := airlock.decision with input as gh("PATCH", "api.github.com", "/repos/a/b/git/refs/heads/main", "git.update_ref", "write", {"ref": "heads/main"})
	d2.rule == "effect.write"
}

test_org_delete_denied if {
	d := airlock.decision with input as gh("DELETE", "api.github.com", "/orgs/acme", "orgs.delete", "delete", {"org": "acme"})
	d.action == "deny"
	d.rule == "github.org_delete"
}

test_merge_is_high if {
	d := airlock.decision with input as gh("PUT", "api.github.com", "/repos/a/b/pulls/1/merge", "pulls.merge", "write", {})
	d.rule == "github.merge"
	d.approval.risk == "high"
}

test_token_not_for_codeload if {
	d := airlock.decision with input as gh("GET", "codeload.github.com", "/a/b/tar.gz/main", "unknown", "read", {})
	d.rule == "placeholder.unauthorized"
}

test_graphql_merge_is_the_rest_merge if {
	d := airlock.decision with input as gh("POST", "api.github.com", "/graphql", "graphql.addStar", "write", {"mutations": ["addStar", "mergePullRequest"], "operations": ["graphql.addStar", "pulls.merge"]})
	d.rule == "github.merge"
	d.approval.risk == "high"
}

test_graphql_forced_update_ref_is_a_force_push if {
	d := airlock.decision with input as gh("POST", "api.github.com", "/graphql", "git.update_ref", "write", {"mutations": ["updateRef"], "operations": ["git.update_ref"], "force": true})
	d.rule == "github.force_push"
	d.approval.risk == "critical"
}
