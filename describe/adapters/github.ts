// GitHub: the REST API (api.github.com, route templates from docs.github.com/rest), GraphQL
// (./github-graphql.ts, parsed by ../graphql.ts), file
// hosts, and git smart HTTP on github.com (clone/fetch = upload-pack, push = receive-pack).
import { createHash } from 'node:crypto';
import type { RequestInfo, ServiceInfo } from '../types.ts';
import type { GraphqlRequest } from '../graphql.ts';
import { controlsRepository, githubGraphql } from './github-graphql.ts';
import { hostIs, type ServiceAdapter } from './adapter.ts';
import { gitSmartHttp } from './git.ts';
import { fromTable, jsonObject, RouteTable, type RouteSpec, unknownOperation } from './routes.ts';

const R = '/repos/{owner}/{repo}';

const rest: RouteSpec[] = [
  // Repositories
  { route: `GET ${R}`, operation: 'repos.get', effect: 'read' },
  { route: `PATCH ${R}`, operation: 'repos.update', effect: 'admin' }, // visibility, archiving, default branch
  { route: `DELETE ${R}`, operation: 'repos.delete', effect: 'delete' },
  { route: 'GET /user/repos', operation: 'repos.list_for_authenticated_user', effect: 'read' },
  { route: 'GET /users/{username}/repos', operation: 'repos.list_for_user', effect: 'read' },
  { route: 'GET /orgs/{org}/repos', operation: 'repos.list_for_org', effect: 'read' },
  { route: 'POST /user/repos', operation: 'repos.create', effect: 'write' },
  { route: 'POST /orgs/{org}/repos', operation: 'repos.create_in_org', effect: 'write' },
  { route: `POST ${R}/forks`, operation: 'repos.create_fork', effect: 'write' },
  { route: `POST ${R}/generate`, operation: 'repos.create_using_template', effect: 'write' },
  { route: `POST ${R}/transfer`, operation: 'repos.transfer', effect: 'admin' },
  { route: `PUT ${R}/topics`, operation: 'repos.replace_topics', effect: 'write' },
  { route: `POST ${R}/dispatches`, operation: 'repos.create_dispatch_event', effect: 'write' },
  { route: `POST ${R}/merges`, operation: 'repos.merge', effect: 'write' },
  // Syncing a fork merges the upstream branch into it, as /merges does.
  { route: `POST ${R}/merge-upstream`, operation: 'repos.merge_upstream', effect: 'write' },
  // A deployment (of `ref`, to `environment`: production when none is named) runs the workflows
  // and apps listening for deployments of the repository.
  { route: `POST ${R}/deployments`, operation: 'repos.create_deployment', effect: 'write' },
  // A Pages site serves the repository's files (from a private repository too; `public: true`
  // opens it to anyone on the internet): creating one or changing who can read it is admin.
  { route: `POST|PUT ${R}/pages`, operation: 'repos.update_pages', effect: 'admin' },
  { route: `GET ${R}/collaborators`, operation: 'repos.list_collaborators', effect: 'read' },
  { route: `PUT ${R}/collaborators/{username}`, operation: 'repos.add_collaborator', effect: 'admin' },
  { route: `DELETE ${R}/collaborators/{username}`, operation: 'repos.remove_collaborator', effect: 'admin' },
  { route: `GET ${R}/hooks`, operation: 'repos.list_webhooks', effect: 'read' },
  { route: `POST ${R}/hooks`, operation: 'repos.create_webhook', effect: 'admin' },
  { route: `PATCH ${R}/hooks/{hook_id}`, operation: 'repos.update_webhook', effect: 'admin' },
  // Where a webhook delivers (its URL and secret) is its config.
  { route: `PATCH ${R}/hooks/{hook_id}/config`, operation: 'repos.update_webhook_config_for_repo', effect: 'admin' },
  { route: `DELETE ${R}/hooks/{hook_id}`, operation: 'repos.delete_webhook', effect: 'admin' },
  { route: `GET ${R}/keys`, operation: 'repos.list_deploy_keys', effect: 'read' },
  { route: `POST ${R}/keys`, operation: 'repos.create_deploy_key', effect: 'admin' },
  { route: `DELETE ${R}/keys/{key_id}`, operation: 'repos.delete_deploy_key', effect: 'admin' },
  { route: `GET ${R}/branches`, operation: 'repos.list_branches', effect: 'read' },
  { route: `GET ${R}/branches/{branch}`, operation: 'repos.get_branch', effect: 'read' },
  { route: `PUT ${R}/branches/{branch}/protection`, operation: 'repos.update_branch_protection', effect: 'admin' },
  { route: `DELETE ${R}/branches/{branch}/protection`, operation: 'repos.delete_branch_protection', effect: 'admin' },
  // Protection's parts (required reviews, status checks, admin enforcement, restrictions): each weakens it.
  { route: `POST|PUT|PATCH|DELETE ${R}/branches/{branch}/protection/{setting+}`, operation: 'repos.update_branch_protection', effect: 'admin' },
  { route: `PUT|POST ${R}/environments/{environment_name}`, operation: 'repos.create_or_update_environment', effect: 'admin' },
  { route: `DELETE ${R}/environments/{environment_name}`, operation: 'repos.delete_an_environment', effect: 'delete' },
  { route: `POST|PUT|PATCH|DELETE ${R}/environments/{environment_name}/{setting+}`, operation: 'repos.update_environment_settings', effect: 'admin' },
  { route: `PUT|DELETE ${R}/vulnerability-alerts`, operation: 'repos.set_vulnerability_alerts', effect: 'admin' },
  { route: `PUT|DELETE ${R}/automated-security-fixes`, operation: 'repos.set_automated_security_fixes', effect: 'admin' },
  { route: `PATCH ${R}/dependabot/alerts/{alert_number}`, operation: 'dependabot.update_alert', effect: 'admin' },
  { route: `PATCH ${R}/code-scanning/alerts/{alert_number}`, operation: 'code_scanning.update_alert', effect: 'admin' },
  { route: `PATCH ${R}/secret-scanning/alerts/{alert_number}`, operation: 'secret_scanning.update_alert', effect: 'admin' },
  { route: `PUT|DELETE ${R}/interaction-limits`, operation: 'interactions.set_restrictions_for_repo', effect: 'admin' },
  { route: `PATCH|DELETE ${R}/invitations/{invitation_id}`, operation: 'repos.update_invitation', effect: 'admin' },
  { route: `POST ${R}/branches/{branch}/rename`, operation: 'repos.rename_branch', effect: 'admin' },
  { route: `POST ${R}/rulesets`, operation: 'repos.create_repo_ruleset', effect: 'admin' },
  { route: `PUT ${R}/rulesets/{ruleset_id}`, operation: 'repos.update_repo_ruleset', effect: 'admin' },
  { route: `DELETE ${R}/rulesets/{ruleset_id}`, operation: 'repos.delete_repo_ruleset', effect: 'admin' },
  { route: `GET ${R}/commits`, operation: 'repos.list_commits', effect: 'read' },
  { route: `GET ${R}/commits/{ref}`, operation: 'repos.get_commit', effect: 'read' },
  { route: `GET ${R}/compare/{basehead}`, operation: 'repos.compare_commits', effect: 'read' },
  { route: `GET ${R}/releases`, operation: 'repos.list_releases', effect: 'read' },
  { route: `POST ${R}/releases`, operation: 'repos.create_release', effect: 'write' },
  { route: `PATCH ${R}/releases/{release_id}`, operation: 'repos.update_release', effect: 'write' },
  { route: `DELETE ${R}/releases/{release_id}`, operation: 'repos.delete_release', effect: 'delete' },
  { route: `DELETE ${R}/releases/assets/{asset_id}`, operation: 'repos.delete_release_asset', effect: 'delete' },
  { route: `GET ${R}/tarball/{ref}`, operation: 'repos.download_tarball_archive', effect: 'read' },
  { route: `GET ${R}/zipball/{ref}`, operation: 'repos.download_zipball_archive', effect: 'read' },
  { route: `GET ${R}/readme`, operation: 'repos.get_readme', effect: 'read' },
  // Contents
  { route: `GET ${R}/contents`, operation: 'repos.get_content', effect: 'read' },
  { route: `GET ${R}/contents/{path+}`, operation: 'repos.get_content', effect: 'read' },
  { route: `PUT ${R}/contents/{path+}`, operation: 'repos.create_or_update_file_contents', effect: 'write' },
  { route: `DELETE ${R}/contents/{path+}`, operation: 'repos.delete_file', effect: 'delete' },
  // Git database: refs (branches and tags), blobs, trees, commits, tags
  { route: `GET ${R}/git/ref/{ref+}`, operation: 'git.get_ref', effect: 'read' },
  { route: `GET ${R}/git/matching-refs/{ref+}`, operation: 'git.list_matching_refs', effect: 'read' },
  { route: `POST ${R}/git/refs`, operation: 'git.create_ref', effect: 'write' },
  { route: `PATCH ${R}/git/refs/{ref+}`, operation: 'git.update_ref', effect: 'write' },
  { route: `DELETE ${R}/git/refs/{ref+}`, operation: 'git.delete_ref', effect: 'delete' },
  { route: `GET ${R}/git/{kind}/{sha}`, operation: 'git.get_object', effect: 'read' },
  { route: `POST ${R}/git/blobs`, operation: 'git.create_blob', effect: 'write' },
  { route: `POST ${R}/git/trees`, operation: 'git.create_tree', effect: 'write' },
  { route: `POST ${R}/git/commits`, operation: 'git.create_commit', effect: 'write' },
  { route: `POST ${R}/git/tags`, operation: 'git.create_tag', effect: 'write' },
  // Issues
  { route: 'GET /issues', operation: 'issues.list', effect: 'read' },
  { route: `GET ${R}/issues`, operation: 'issues.list_for_repo', effect: 'read' },
  { route: `GET ${R}/issues/{issue_number}`, operation: 'issues.get', effect: 'read' },
  { route: `POST ${R}/issues`, operation: 'issues.create', effect: 'write' },
  { route: `PATCH ${R}/issues/{issue_number}`, operation: 'issues.update', effect: 'write' },
  { route: `PUT ${R}/issues/{issue_number}/lock`, operation: 'issues.lock', effect: 'write' },
  { route: `DELETE ${R}/issues/{issue_number}/lock`, operation: 'issues.unlock', effect: 'write' },
  { route: `GET ${R}/issues/{issue_number}/comments`, operation: 'issues.list_comments', effect: 'read' },
  { route: `POST ${R}/issues/{issue_number}/comments`, operation: 'issues.create_comment', effect: 'send' },
  { route: `GET ${R}/issues/comments`, operation: 'issues.list_comments_for_repo', effect: 'read' },
  { route: `GET ${R}/issues/comments/{comment_id}`, operation: 'issues.get_comment', effect: 'read' },
  { route: `PATCH ${R}/issues/comments/{comment_id}`, operation: 'issues.update_comment', effect: 'send' },
  { route: `DELETE ${R}/issues/comments/{comment_id}`, operation: 'issues.delete_comment', effect: 'delete' },
  { route: `POST ${R}/issues/{issue_number}/labels`, operation: 'issues.add_labels', effect: 'write' },
  { route: `DELETE ${R}/issues/{issue_number}/labels/{name}`, operation: 'issues.remove_label', effect: 'write' },
  { route: `POST ${R}/issues/{issue_number}/assignees`, operation: 'issues.add_assignees', effect: 'write' },
  { route: `DELETE ${R}/issues/{issue_number}/assignees`, operation: 'issues.remove_assignees', effect: 'write' },
  // Pull requests
  { route: `GET ${R}/pulls`, operation: 'pulls.list', effect: 'read' },
  { route: `GET ${R}/pulls/{pull_number}`, operation: 'pulls.get', effect: 'read' },
  { route: `GET ${R}/pulls/{pull_number}/files`, operation: 'pulls.list_files', effect: 'read' },
  { route: `GET ${R}/pulls/{pull_number}/commits`, operation: 'pulls.list_commits', effect: 'read' },
  { route: `GET ${R}/pulls/{pull_number}/merge`, operation: 'pulls.check_if_merged', effect: 'read' },
  { route: `POST ${R}/pulls`, operation: 'pulls.create', effect: 'write' },
  { route: `PATCH ${R}/pulls/{pull_number}`, operation: 'pulls.update', effect: 'write' },
  { route: `PUT ${R}/pulls/{pull_number}/merge`, operation: 'pulls.merge', effect: 'write' },
  { route: `PUT ${R}/pulls/{pull_number}/update-branch`, operation: 'pulls.update_branch', effect: 'write' },
  { route: `POST ${R}/pulls/{pull_number}/requested_reviewers`, operation: 'pulls.request_reviewers', effect: 'write' },
  { route: `DELETE ${R}/pulls/{pull_number}/requested_reviewers`, operation: 'pulls.remove_requested_reviewers', effect: 'write' },
  { route: `POST ${R}/pulls/{pull_number}/reviews`, operation: 'pulls.create_review', effect: 'send' },
  { route: `POST ${R}/pulls/{pull_number}/reviews/{review_id}/events`, operation: 'pulls.submit_review', effect: 'send' },
  { route: `PUT ${R}/pulls/{pull_number}/reviews/{review_id}`, operation: 'pulls.update_review', effect: 'send' },
  // Dismissing an approving or blocking review gets around required reviews.
  { route: `PUT ${R}/pulls/{pull_number}/reviews/{review_id}/dismissals`, operation: 'pulls.dismiss_review', effect: 'admin' },
  { route: `POST ${R}/pulls/{pull_number}/comments`, operation: 'pulls.create_review_comment', effect: 'send' },
  // The REST twins of GraphQL's addPullRequestReviewThreadReply and updatePullRequestReviewComment (send).
  { route: `POST ${R}/pulls/{pull_number}/comments/{comment_id}/replies`, operation: 'pulls.create_reply_for_review_comment', effect: 'send' },
  { route: `PATCH ${R}/pulls/comments/{comment_id}`, operation: 'pulls.update_review_comment', effect: 'send' },
  { route: `DELETE ${R}/pulls/comments/{comment_id}`, operation: 'pulls.delete_review_comment', effect: 'delete' },
  // Commit comments publish text like issue comments.
  { route: `POST ${R}/commits/{commit_sha}/comments`, operation: 'repos.create_commit_comment', effect: 'send' },
  { route: `PATCH ${R}/comments/{comment_id}`, operation: 'repos.update_commit_comment', effect: 'send' },
  { route: `DELETE ${R}/comments/{comment_id}`, operation: 'repos.delete_commit_comment', effect: 'delete' },
  // Actions
  { route: `GET ${R}/actions/workflows`, operation: 'actions.list_repo_workflows', effect: 'read' },
  { route: `GET ${R}/actions/runs`, operation: 'actions.list_workflow_runs_for_repo', effect: 'read' },
  { route: `GET ${R}/actions/runs/{run_id}`, operation: 'actions.get_workflow_run', effect: 'read' },
  { route: `GET ${R}/actions/runs/{run_id}/logs`, operation: 'actions.download_workflow_run_logs', effect: 'read' },
  { route: `GET ${R}/actions/artifacts`, operation: 'actions.list_artifacts_for_repo', effect: 'read' },
  { route: `POST ${R}/actions/workflows/{workflow_id}/dispatches`, operation: 'actions.create_workflow_dispatch', effect: 'write' },
  { route: `PUT ${R}/actions/workflows/{workflow_id}/enable`, operation: 'actions.enable_workflow', effect: 'admin' },
  { route: `PUT ${R}/actions/workflows/{workflow_id}/disable`, operation: 'actions.disable_workflow', effect: 'admin' },
  { route: `POST ${R}/actions/runs/{run_id}/rerun`, operation: 'actions.re_run_workflow', effect: 'write' },
  { route: `POST ${R}/actions/runs/{run_id}/cancel`, operation: 'actions.cancel_workflow_run', effect: 'write' },
  { route: `DELETE ${R}/actions/runs/{run_id}`, operation: 'actions.delete_workflow_run', effect: 'delete' },
  { route: `DELETE ${R}/actions/runs/{run_id}/logs`, operation: 'actions.delete_workflow_run_logs', effect: 'delete' },
  { route: `DELETE ${R}/actions/artifacts/{artifact_id}`, operation: 'actions.delete_artifact', effect: 'delete' },
  { route: `GET ${R}/actions/secrets`, operation: 'actions.list_repo_secrets', effect: 'read' },
  { route: `GET ${R}/actions/secrets/public-key`, operation: 'actions.get_repo_public_key', effect: 'read' },
  { route: `PUT ${R}/actions/secrets/{secret_name}`, operation: 'actions.create_or_update_repo_secret', effect: 'admin' },
  { route: `DELETE ${R}/actions/secrets/{secret_name}`, operation: 'actions.delete_repo_secret', effect: 'admin' },
  { route: `POST ${R}/actions/variables`, operation: 'actions.create_repo_variable', effect: 'admin' },
  { route: `PATCH ${R}/actions/variables/{name}`, operation: 'actions.update_repo_variable', effect: 'admin' },
  { route: `DELETE ${R}/actions/variables/{name}`, operation: 'actions.delete_repo_variable', effect: 'admin' },
  { route: `PUT ${R}/actions/permissions`, operation: 'actions.set_github_actions_permissions_repository', effect: 'admin' },
  { route: `POST|PUT|PATCH|DELETE ${R}/actions/permissions/{setting+}`, operation: 'actions.set_github_actions_permissions_repository', effect: 'admin' },
  { route: `POST ${R}/actions/runs/{run_id}/pending_deployments`, operation: 'actions.review_pending_deployments_for_run', effect: 'admin' },
  { route: `POST ${R}/actions/runs/{run_id}/deployment_protection_rule`, operation: 'actions.review_custom_gates_for_run', effect: 'admin' },
  // Organizations, users, keys, gists
  { route: 'GET /user', operation: 'users.get_authenticated', effect: 'read' },
  { route: 'GET /users/{username}', operation: 'users.get_by_username', effect: 'read' },
  { route: 'GET /orgs/{org}', operation: 'orgs.get', effect: 'read' },
  { route: 'PATCH /orgs/{org}', operation: 'orgs.update', effect: 'admin' },
  { route: 'DELETE /orgs/{org}', operation: 'orgs.delete', effect: 'delete' },
  { route: 'GET /orgs/{org}/members', operation: 'orgs.list_members', effect: 'read' },
  { route: 'DELETE /orgs/{org}/members/{username}', operation: 'orgs.remove_member', effect: 'admin' },
  { route: 'PUT /orgs/{org}/memberships/{username}', operation: 'orgs.set_membership_for_user', effect: 'admin' },
  { route: 'DELETE /orgs/{org}/memberships/{username}', operation: 'orgs.remove_membership_for_user', effect: 'admin' },
  { route: 'POST /orgs/{org}/hooks', operation: 'orgs.create_webhook', effect: 'admin' },
  { route: 'PATCH /orgs/{org}/hooks/{hook_id}', operation: 'orgs.update_webhook', effect: 'admin' },
  { route: 'PATCH /orgs/{org}/hooks/{hook_id}/config', operation: 'orgs.update_webhook_config_for_org', effect: 'admin' },
  { route: 'PUT /orgs/{org}/actions/secrets/{secret_name}', operation: 'actions.create_or_update_org_secret', effect: 'admin' },
  // Dependabot and Codespaces secrets are secrets like Actions': who sets them chooses what builds run with.
  { route: `PUT ${R}/dependabot/secrets/{secret_name}`, operation: 'dependabot.create_or_update_repo_secret', effect: 'admin' },
  { route: 'PUT /orgs/{org}/dependabot/secrets/{secret_name}', operation: 'dependabot.create_or_update_org_secret', effect: 'admin' },
  { route: `PUT ${R}/codespaces/secrets/{secret_name}`, operation: 'codespaces.create_or_update_repo_secret', effect: 'admin' },
  { route: 'PUT /orgs/{org}/codespaces/secrets/{secret_name}', operation: 'codespaces.create_or_update_org_secret', effect: 'admin' },
  { route: 'PUT /user/codespaces/secrets/{secret_name}', operation: 'codespaces.create_or_update_secret_for_authenticated_user', effect: 'admin' },
  // A token that registers a self-hosted runner: whoever holds it runs the repository's jobs, secrets included.
  { route: `POST ${R}/actions/runners/{kind}`, operation: 'actions.create_runner_token_for_repo', effect: 'admin' },
  { route: 'POST /orgs/{org}/actions/runners/{kind}', operation: 'actions.create_runner_token_for_org', effect: 'admin' },
  // Teams: who may do what in which repository.
  { route: 'PUT /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}', operation: 'teams.add_or_update_repo_permissions_in_org', effect: 'admin' },
  { route: 'DELETE /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}', operation: 'teams.remove_repo_in_org', effect: 'admin' },
  { route: 'PUT|DELETE /orgs/{org}/teams/{team_slug}/memberships/{username}', operation: 'teams.update_membership_for_user_in_org', effect: 'admin' },
  // The legacy team routes (by team id) do the same.
  { route: 'PUT|DELETE /teams/{team_id}/repos/{owner}/{repo}', operation: 'teams.add_or_update_repo_permissions_legacy', effect: 'admin' },
  { route: 'POST /orgs/{org}/teams/{team_slug}/discussions', operation: 'teams.create_discussion_in_org', effect: 'send' },
  { route: 'POST /orgs/{org}/teams/{team_slug}/discussions/{discussion_number}/comments', operation: 'teams.create_discussion_comment_in_org', effect: 'send' },
  { route: 'POST /orgs/{org}/invitations', operation: 'orgs.create_invitation', effect: 'admin' },
  { route: 'PUT|DELETE /orgs/{org}/outside_collaborators/{username}', operation: 'orgs.update_outside_collaborator', effect: 'admin' },
  { route: 'PUT|DELETE /orgs/{org}/interaction-limits', operation: 'interactions.set_restrictions_for_org', effect: 'admin' },
  { route: 'PUT|DELETE /user/interaction-limits', operation: 'interactions.set_restrictions_for_authenticated_user', effect: 'admin' },
  { route: 'POST /user/keys', operation: 'users.create_public_ssh_key_for_authenticated_user', effect: 'admin' },
  { route: 'DELETE /user/keys/{key_id}', operation: 'users.delete_public_ssh_key_for_authenticated_user', effect: 'admin' },
  { route: 'POST /user/gpg_keys', operation: 'users.create_gpg_key_for_authenticated_user', effect: 'admin' },
  { route: 'GET /gists', operation: 'gists.list', effect: 'read' },
  { route: 'POST /gists', operation: 'gists.create', effect: 'send' }, // publishes data, possibly publicly
  { route: 'PATCH /gists/{gist_id}', operation: 'gists.update', effect: 'send' },
  { route: 'DELETE /gists/{gist_id}', operation: 'gists.delete', effect: 'delete' },
  { route: 'POST /gists/{gist_id}/comments', operation: 'gists.create_comment', effect: 'send' },
  { route: 'PATCH /gists/{gist_id}/comments/{comment_id}', operation: 'gists.update_comment', effect: 'send' },
  // Search (read-only)
  { route: 'GET /search/{kind}', operation: 'search', effect: 'read' },
];

const restTable = new RouteTable(rest);

/**
 * A REST route the table does not name (GitHub adds routes every month) that changes something is
 * judged by the words of its path, failing towards the stricter effect, as GraphQL mutations the
 * table does not name are (github-graphql.ts): secrets, keys, webhooks, runners, permissions,
 * members and protection change who can do what (admin); comments, replies, reviews and discussions
 * publish text (send). The owner, repository and organization names are not words of the route.
 */
const adminWords = new Set([
  'secrets', 'variables', 'hooks', 'keys', 'gpg_keys', 'ssh_signing_keys', 'runners', 'runner-groups', 'permissions',
  'collaborators', 'outside_collaborators', 'members', 'memberships', 'invitations', 'protection', 'rulesets', 'environments',
  'installations', 'access_tokens', 'tokens', 'personal-access-tokens', 'personal-access-token-requests',
  'credential-authorizations', 'security-managers', 'security-and-analysis', 'code-security', 'oidc', 'blocks',
  'deployment-protection-rules', 'private-vulnerability-reporting', 'default-setup', 'vulnerability-alerts',
  'automated-security-fixes', 'transfer', 'visibility', 'organization-roles', 'roles',
  // Security gates: approving a first-time contributor's workflow run, bypassing push protection,
  // a commit status or check run reporting success for a check branch protection requires.
  'approve', 'push-protection-bypasses', 'bypass-requests', 'statuses', 'check-runs',
  // Accepting an invitation to another's repository gives the token a place to push to.
  'repository_invitations',
  // An address added to the account can, once its owner verifies it, reset the account's password.
  'emails',
  // A migration archives every repository it names for download and, with `lock_repositories`,
  // locks them until it is deleted.
  'migrations',
]);
const sendWords = new Set(['comments', 'replies', 'reviews', 'discussions']);
/** Billing routes that change what is paid for (Copilot seats added, budgets raised). */
const payWords = new Set(['billing', 'budgets']);

function unknownRouteEffect(segments: string[]): 'write' | 'send' | 'admin' | 'pay' {
  // /repos/{owner}/{repo}/…, /orgs/{org}/…, /users/{username}/…: names, not route words.
  const named = segments[0] === 'repos' ? 3 : segments[0] === 'orgs' || segments[0] === 'users' || segments[0] === 'enterprises' ? 2 : 1;
  const words = segments.slice(named);
  if (words.some((w) => payWords.has(w))) return 'pay';
  if (words.some((w) => adminWords.has(w))) return 'admin';
  // The resource acted on is the last word, or the one before an id (`/comments/{id}`): a reaction
  // to a comment is no comment.
  const last = words.length - 1;
  if (sendWords.has(words[last] ?? '') || (last > 0 && sendWords.has(words[last - 1]!) && !/^[a-z_-]+$/.test(words[last]!))) return 'send';
  return 'write';
}

/**
 * `/repositories/{id}/…` and `/organizations/{id}/…` are the same API as `/repos/{owner}/{repo}/…`
 * and `/orgs/{org}/…` (GitHub's own pagination links use them, and they serve writes too): they
 * are matched against the same routes, so `PATCH /repositories/1296269` is `repos.update`.
 */
function byIdAlias(segments: string[]): [string[], Record<string, string> | undefined] {
  const [first, id, ...rest] = segments;
  if (id === undefined) return [segments, undefined];
  if (first === 'repositories') return [['repos', `#${id}`, `#${id}`, ...rest], { repository_id: id }];
  if (first === 'organizations') return [['orgs', `#${id}`, ...rest], { organization_id: id }];
  return [segments, undefined];
}

const isGraphql = (request: RequestInfo): boolean =>
  request.host === 'api.github.com' && request.segments.length === 1 && request.segments[0] === 'graphql';

function restApi(request: RequestInfo, graphql?: GraphqlRequest): ServiceInfo {
  if (isGraphql(request)) {
    // Described by describe/graphql.ts from the raw body; without it (a caller that skipped the
    // describe step) the request is unreadable GraphQL, which fails closed.
    return githubGraphql(graphql ?? { info: { parsed: false, error: 'GraphQL body not parsed', operations: [] }, documents: [], variables: [] });
  }
  const [segments, alias] = byIdAlias(request.segments);
  const info = fromTable('github', restTable, request, segments);
  if (alias) {
    // The repository or organization is named by id, not by name: that id is the place.
    delete info.params.owner;
    delete info.params.repo;
    delete info.params.org;
    Object.assign(info.params, alias);
  }
  if (info.operation === 'unknown' && info.effect === 'write') info.effect = unknownRouteEffect(segments);
  // Writing or deleting a workflow, an action or CODEOWNERS changes what CI runs and who reviews.
  if (info.operation === 'repos.create_or_update_file_contents' && controlsRepository(String(info.params.path ?? ''))) {
    info.effect = 'admin';
    info.params.controls_repository = true;
  }
  // A repository generated from a template is public unless `private: true` (GitHub's default is
  // public): it publishes a copy of the template's files, a private template's included, as making
  // a repository public does (admin).
  if (info.operation === 'repos.create_using_template' && templateCopyIsPublic(request)) info.effect = 'admin';
  // A tree made through the Git database API is the same change by another route: an entry at
  // `.github/…` (or a CODEOWNERS file) becomes the repository's once a commit of it lands.
  if (info.operation === 'git.create_tree' && request.body.size > 0 && treeControlsRepository(jsonObject(request)?.tree)) {
    info.effect = 'admin';
    info.params.controls_repository = true;
  }
  // Which branch a file is written to (`branch`, absent: the default branch) and which ref is
  // created (`ref`: a branch, or a tag a release workflow deploys from) are where the change
  // lands: the place a grant records, as a push's refs are its scope. A grant for commits to a
  // feature branch does not cover one to the default branch.
  if (info.operation === 'repos.create_or_update_file_contents' || info.operation === 'repos.delete_file' || info.operation === 'git.create_ref') {
    const field = info.operation === 'git.create_ref' ? 'ref' : 'branch';
    const json = jsonObject(request)?.[field];
    const named = [...(json === undefined ? [] : [json]), ...(request.body.form?.[field] ?? [])];
    info.params.branch = named.length === 0 ? '(default)' : named.length === 1 && typeof named[0] === 'string' ? named[0] : '?';
  }
  // A fork or a template's copy lands in the account its body names (a fork's `organization`, a
  // copy's `owner`; absent: the token's user): a private repository's code forked into another
  // organization is readable by that organization's members. The place a grant records.
  if (info.operation === 'repos.create_fork' || info.operation === 'repos.create_using_template') {
    const field = info.operation === 'repos.create_fork' ? 'organization' : 'owner';
    const json = jsonObject(request)?.[field];
    const named = [...(json === undefined || json === null ? [] : [json]), ...(request.body.form?.[field] ?? [])];
    info.params.destination = named.length === 0 ? '(own account)' : named.length === 1 && typeof named[0] === 'string' ? named[0] : '?';
  }
  // A dispatch runs what its body names: a workflow dispatch the workflow of the path on the ref
  // of its body (`ref`: which version of the workflow runs, and which environments' secrets it
  // may use) with its `inputs`; a repository dispatch every workflow listening for its
  // `event_type`, with its `client_payload`. The place a grant records: a grant for running CI on
  // a feature branch does not cover a deploy workflow, the default branch or `environment: production`.
  if (info.operation === 'actions.create_workflow_dispatch' || info.operation === 'repos.create_dispatch_event') {
    const workflow = info.operation === 'actions.create_workflow_dispatch';
    const json = jsonObject(request);
    const one = (field: string): string => {
      const named = [...(json?.[field] === undefined ? [] : [json[field]]), ...(request.body.form?.[field] ?? [])];
      return named.length === 1 && typeof named[0] === 'string' ? named[0] : '?';
    };
    if (workflow) info.params.branch = one('ref');
    else info.params.event_type = one('event_type');
    // The arguments by digest: only the same ones are covered.
    const field = workflow ? 'inputs' : 'client_payload';
    const given = json?.[field] ?? request.body.form?.[field];
    info.params.inputs = given === undefined ? '(none)' : `sha256-${createHash('sha256').update(JSON.stringify(given)).digest('hex').slice(0, 32)}`;
  }
  // Who can read what a request creates, and whether it publishes: a repository created public
  // (GitHub's default) or private, a gist public or secret, a release published (its tag created
  // at `target_commitish`, release workflows run) or kept a draft. The place a grant records: a
  // grant for a private repository, a secret gist or a draft release covers none that is public.
  const op = info.operation;
  if (op === 'repos.create' || op === 'repos.create_in_org') info.params.visibility = repoVisibility(request);
  if (op === 'gists.create') info.params.visibility = flag(bodyValues(request, 'public'), 'public', 'secret');
  if (op === 'repos.create_release' || op === 'repos.update_release') {
    info.params.tag = single(bodyValues(request, 'tag_name'));
    info.params.draft = flag(bodyValues(request, 'draft'), 'draft', 'published');
    info.params.branch = single(bodyValues(request, 'target_commitish'));
  }
  // A merge lands on its `base` (a fork sync on its `branch`) and brings in its `head`; a
  // deployment deploys `ref` to `environment`: where the change lands, the place a grant records.
  if (op === 'repos.merge') {
    info.params.branch = single(bodyValues(request, 'base'));
    info.params.merge_head = single(bodyValues(request, 'head'));
  }
  if (op === 'repos.merge_upstream') info.params.branch = single(bodyValues(request, 'branch'));
  // A pull request is opened onto its `base` from its `head` (`owner:branch` names another
  // account's fork), and an update may retarget it onto another `base`: which branch it asks to
  // change and whose code it brings (fourteenth pass). A grant for pull requests from a feature
  // branch into `dev` does not cover one from an outsider's fork into `main`.
  if (op === 'pulls.create' || op === 'pulls.update') {
    info.params.branch = single(bodyValues(request, 'base'));
    if (op === 'pulls.create') info.params.merge_head = single(bodyValues(request, 'head'));
  }
  if (op === 'repos.create_deployment') {
    info.params.branch = single(bodyValues(request, 'ref'));
    info.params.environment = single(bodyValues(request, 'environment'));
  }
  // A ref update with force: true rewrites history like `git push --force`.
  if (info.operation === 'git.update_ref' && jsonObject(request)?.force === true) info.params.force = true;
  return info;
}

/** A body field's values, JSON and form alike (GitHub reads either). */
function bodyValues(request: RequestInfo, field: string): unknown[] {
  const json = jsonObject(request)?.[field];
  return [...(json === undefined ? [] : [json]), ...(request.body.form?.[field] ?? [])];
}

/** One string value, `(default)` when absent, `?` when repeated or not a string. */
function single(values: unknown[]): string {
  if (values.length === 0) return '(default)';
  return values.length === 1 && typeof values[0] === 'string' ? values[0] : '?';
}

/** A boolean field: `yes` when true, `no` when false, `(default)` when absent, `?` otherwise. */
function flag(values: unknown[], yes: string, no: string): string {
  if (values.length === 0) return '(default)';
  if (values.length > 1) return '?';
  const v = values[0];
  return v === true || v === 'true' ? yes : v === false || v === 'false' ? no : '?';
}

/** A new repository's visibility from `visibility` and `private`: one word, `?` when they disagree or cannot be read. */
function repoVisibility(request: RequestInfo): string {
  const named = single(bodyValues(request, 'visibility'));
  const byFlag = flag(bodyValues(request, 'private'), 'private', 'public');
  if (named === '?' || byFlag === '?') return '?';
  if (named === '(default)') return byFlag;
  const word = named.toLowerCase();
  return byFlag === '(default)' || byFlag === word ? word : '?';
}

/** Whether a template's copy would not be private: `private` not true (JSON or form, any reading). */
function templateCopyIsPublic(request: RequestInfo): boolean {
  const values = [jsonObject(request)?.private, ...(request.body.form?.private ?? [])];
  return !values.some((v) => v === true || v === 'true') || values.some((v) => v === false || v === 'false');
}

/** Whether a tree's entries (`[{path, mode, type, sha|content}]`) write CI or review rules; a list not read whole counts as doing so. */
function treeControlsRepository(tree: unknown): boolean {
  if (!Array.isArray(tree)) return true;
  return tree.some((e) => {
    const path = (e as { path?: unknown } | null)?.path;
    return typeof path !== 'string' || controlsRepository(path);
  });
}

/**
 * An operation the tables do not name still names its repository when its path does
 * (`/repos/{owner}/{repo}/…` on the API, `/{owner}/{repo}/…` on the web, raw and archive hosts):
 * the label waivers (labels.owned_repos, labels.public_repos) apply to it. Reads only: nothing
 * else looks at these params.
 */
function namingRepository(info: ServiceInfo, request: RequestInfo): ServiceInfo {
  if (info.operation !== 'unknown' || info.effect !== 'read') return info;
  // Git LFS files are served as media.githubusercontent.com/media/{owner}/{repo}/{ref}/{path}.
  const s = request.host === 'api.github.com' ? (request.segments[0] === 'repos' ? request.segments.slice(1) : [])
    : request.host === 'media.githubusercontent.com' ? (request.segments[0] === 'media' ? request.segments.slice(1) : [])
    : request.segments;
  const owner = s[0];
  const repo = s[1]?.replace(/\.git$/, '');
  if (!owner || !repo) return info;
  return { ...info, params: { ...info.params, owner, repo } };
}

export const github: ServiceAdapter = {
  name: 'github',
  hosts: hostIs(
    'api.github.com', 'github.com', 'uploads.github.com', 'raw.githubusercontent.com', 'codeload.github.com', 'objects.githubusercontent.com',
    'gist.githubusercontent.com', 'media.githubusercontent.com', 'release-assets.githubusercontent.com', 'private-user-images.githubusercontent.com',
  ),
  graphqlEndpoint: isGraphql,
  describe(request, graphql) {
    return namingRepository(describeGithub(request, graphql), request);
  },
};

function describeGithub(request: RequestInfo, graphql?: GraphqlRequest): ServiceInfo {
  switch (request.host) {
    case 'api.github.com':
      return restApi(request, graphql);
    case 'uploads.github.com':
      if (request.method === 'POST' && /^repos\/[^/]+\/[^/]+\/releases\/[^/]+\/assets$/.test(request.segments.join('/'))) {
        const [, owner, repo, , release_id] = request.segments;
        return { name: 'github', operation: 'repos.upload_release_asset', params: { owner, repo, release_id }, effect: 'write' };
      }
      return unknownOperation('github', request);
    case 'github.com':
      return gitSmartHttp('github', request) ?? unknownOperation('github', request);
    default:
      // Raw file, gist, archive, asset and attachment hosts only serve downloads.
      return unknownOperation('github', request);
  }
}
