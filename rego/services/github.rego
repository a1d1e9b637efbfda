# METADATA
# title: GitHub
# description: REST and GraphQL on api.github.com, git smart HTTP on github.com, file hosts.
package airlock.services.github

import rego.v1

# GitHub's content hosts serve what its routes redirect to (archives, release assets, LFS files,
# issue attachments) and gists' raw files: a secret gist or a private repository's attachment is
# private data, and the service's labels of unnamed reads (both) come with it.
hosts := {
	"api.github.com", "github.com", "uploads.github.com", "raw.githubusercontent.com",
	"codeload.github.com", "objects.githubusercontent.com", "gist.githubusercontent.com",
	"media.githubusercontent.com", "release-assets.githubusercontent.com", "private-user-images.githubusercontent.com",
}

owns_host if input.request.host in hosts

secret := object.get(data.airlock.config, ["services", "github", "secret"], "github_token")

# The token goes as a bearer header to the API hosts…
credentials contains {"secret": secret, "in": "header", "name": "Authorization", "format": "Bearer {}"} if {
	input.request.host in {"api.github.com", "uploads.github.com", "raw.githubusercontent.com"}
}

# …and as HTTP basic auth for git over HTTPS: user x-access-token, password the token
# (the basic pair is `format` with {} replaced by the secret).
credentials contains {"secret": secret, "in": "basic", "name": "x-access-token", "format": "x-access-token:{}"} if {
	input.request.host == "github.com"
}

# The operations a request performs: a REST call has one; a GraphQL document lists the REST twin
# of each mutation it runs (params.operations), so both forms of one change get one risk.
operations contains input.service.operation

operations contains op if some op in input.service.params.operations

# A ref update with force: true rewrites history, like `git push --force` (REST or GraphQL updateRef).
verdicts contains data.airlock.approve(
	"github.force_push",
	concat("", ["force-updating ", object.get(input.service.params, "ref", "a ref"), " rewrites history: a human must approve (critical)"]),
	"critical",
) if {
	"git.update_ref" in operations
	input.service.params.force == true
}

# Deleting a whole organization is never approved from a chat.
verdicts contains data.airlock.deny(
	"github.org_delete",
	"deleting a GitHub organization is never approved from a chat: do it yourself in the GitHub settings",
	800,
) if {
	"orgs.delete" in operations
}

# Merging can ship code (deploys run from the default branch): high risk.
verdicts contains data.airlock.approve("github.merge", "merging a pull request can ship code: a human must approve", "high") if {
	"pulls.merge" in operations
}

# Merging one branch into another directly (REST /merges, GraphQL mergeBranch) or syncing a fork
# ships code the same way, without a pull request's review.
verdicts contains data.airlock.approve("github.merge", "merging a branch can ship code: a human must approve", "high") if {
	some op in {"repos.merge", "repos.merge_upstream"}
	op in operations
}
