// GitHub: the REST API (api.github.com, route templates from docs.github.com/rest), GraphQL, file
// hosts, and git smart HTTP on github.com (clone/fetch = upload-pack, push = receive-pack).
import type { Effect, RequestInfo, ServiceInfo } from '../../engine/types.ts';
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
  { route: `GET ${R}/collaborators`, operation: 'repos.list_collaborators', effect: 'read' },
  { route: `PUT ${R}/collaborators/{username}`, operation: 'repos.add_collaborator', effect: 'admin' },
  { route: `DELETE ${R}/collaborators/{username}`, operation: 'repos.remove_collaborator', effect: 'admin' },
  { route: `GET ${R}/hooks`, operation: 'repos.list_webhooks', effect: 'read' },
  { route: `POST ${R}/hooks`, operation: 'repos.create_webhook', effect: 'admin' },
  { route: `PATCH ${R}/hooks/{hook_id}`, operation: 'repos.update_webhook', effect: 'admin' },
  { route: `DELETE ${R}/hooks/{hook_id}`, operation: 'repos.delete_webhook', effect: 'admin' },
  { route: `GET ${R}/keys`, operation: 'repos.list_deploy_keys', effect: 'read' },
  { route: `POST ${R}/keys`, operation: 'repos.create_deploy_key', effect: 'admin' },
  { route: `DELETE ${R}/keys/{key_id}`, operation: 'repos.delete_deploy_key', effect: 'admin' },
  { route: `GET ${R}/branches`, operation: 'repos.list_branches', effect: 'read' },
  { route: `GET ${R}/branches/{branch}`, operation: 'repos.get_branch', effect: 'read' },
  { route: `PUT ${R}/branches/{branch}/protection`, operation: 'repos.update_branch_protection', effect: 'admin' },
  { route: `DELETE ${R}/branches/{branch}/protection`, operation: 'repos.delete_branch_protection', effect: 'admin' },
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
  { route: `POST ${R}/pulls/{pull_number}/reviews`, operation: 'pulls.create_review', effect: 'send' },
  { route: `POST ${R}/pulls/{pull_number}/comments`, operation: 'pulls.create_review_comment', effect: 'send' },
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
  { route: 'PUT /orgs/{org}/actions/secrets/{secret_name}', operation: 'actions.create_or_update_org_secret', effect: 'admin' },
  { route: 'POST /user/keys', operation: 'users.create_public_ssh_key_for_authenticated_user', effect: 'admin' },
  { route: 'DELETE /user/keys/{key_id}', operation: 'users.delete_public_ssh_key_for_authenticated_user', effect: 'admin' },
  { route: 'POST /user/gpg_keys', operation: 'users.create_gpg_key_for_authenticated_user', effect: 'admin' },
  { route: 'GET /gists', operation: 'gists.list', effect: 'read' },
  { route: 'POST /gists', operation: 'gists.create', effect: 'send' }, // publishes data, possibly publicly
  { route: 'PATCH /gists/{gist_id}', operation: 'gists.update', effect: 'send' },
  { route: 'DELETE /gists/{gist_id}', operation: 'gists.delete', effect: 'delete' },
  // Search (read-only)
  { route: 'GET /search/{kind}', operation: 'search', effect: 'read' },
];

const restTable = new RouteTable(rest);

/** Mutation field names → effect, checked in order (first match wins). Anything else is a write. */
const mutationEffects: Array<[RegExp, Effect]> = [
  [/^(delete|remove)/i, 'delete'],
  [/^(archive|unarchive|transfer|updateRepository|updateBranchProtectionRule|createBranchProtectionRule|updateRulesets?|createRuleset|updateEnterprise|updateOrganization|updateTeam|addEnterprise|inviteEnterprise|updateIpAllowList|createIpAllowList|regenerate|revoke|grant|setRepositoryInteractionLimit|updateRefs?$)/i, 'admin'],
  [/^(addComment|addPullRequestReview|submitPullRequestReview|addDiscussionComment|createDiscussion|createIssue|updateIssueComment|createGist)/i, 'send'],
];
const effectRank: Record<Effect, number> = { read: 0, write: 1, send: 2, delete: 3, pay: 3, admin: 3 };

/**
 * GraphQL: a document without the word `mutation` reads. Otherwise every `name(` in it is taken as
 * a mutation field (aliases, fragments and comments included — false positives only make it
 * stricter) and the most severe one decides, so `deleteRepository` over GraphQL is a delete just
 * like `DELETE /repos/{owner}/{repo}`.
 */
function graphql(request: RequestInfo): ServiceInfo {
  const body = jsonObject(request);
  const query = request.method === 'POST' ? body?.query : request.query.query?.[0];
  const read = request.method === 'POST' || request.method === 'GET' || request.method === 'HEAD';
  if (read && typeof query === 'string' && !/mutation/i.test(query)) {
    return { name: 'github', operation: 'graphql.query', params: {}, effect: 'read' };
  }
  if (typeof query !== 'string') return { name: 'github', operation: 'graphql.mutation', params: {}, effect: 'write' };
  const fields = [...new Set(calledNames(query))].filter((f) => f !== 'mutation' && f !== 'query');
  let effect: Effect = 'write';
  for (const f of fields) {
    const e = mutationEffects.find(([re]) => re.test(f))?.[1] ?? 'write';
    if (effectRank[e] > effectRank[effect]) effect = e;
  }
  return { name: 'github', operation: 'graphql.mutation', params: { mutations: fields.sort() }, effect };
}

const isNameStart = (c: number): boolean => c === 95 || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isNameChar = (c: number): boolean => isNameStart(c) || (c >= 48 && c <= 57);
const whitespace = /\s/;

/**
 * Every GraphQL name directly followed by `(` (whitespace allowed between), in order: what the
 * pattern /([_A-Za-z][_0-9A-Za-z]*)\s*\(/g finds, in one pass. That pattern backtracks
 * quadratically over a long name with no `(` after it (a 1 MiB query froze the proxy).
 */
export function calledNames(query: string): string[] {
  const names: string[] = [];
  let i = 0;
  while (i < query.length) {
    if (!isNameStart(query.charCodeAt(i))) {
      i++;
      continue;
    }
    let end = i + 1;
    while (end < query.length && isNameChar(query.charCodeAt(end))) end++;
    let next = end;
    while (next < query.length && whitespace.test(query[next]!)) next++;
    if (query[next] === '(') {
      names.push(query.slice(i, end));
      i = next + 1;
    } else {
      i = next;
    }
  }
  return names;
}

function restApi(request: RequestInfo): ServiceInfo {
  const segs = request.segments;
  if (segs.length === 1 && segs[0] === 'graphql') return graphql(request);
  const info = fromTable('github', restTable, request);
  // A ref update with force: true rewrites history like `git push --force`.
  if (info.operation === 'git.update_ref' && jsonObject(request)?.force === true) info.params.force = true;
  return info;
}

export const github: ServiceAdapter = {
  name: 'github',
  hosts: hostIs('api.github.com', 'github.com', 'uploads.github.com', 'raw.githubusercontent.com', 'codeload.github.com', 'objects.githubusercontent.com'),
  describe(request) {
    switch (request.host) {
      case 'api.github.com':
        return restApi(request);
      case 'uploads.github.com':
        if (request.method === 'POST' && /^repos\/[^/]+\/[^/]+\/releases\/[^/]+\/assets$/.test(request.segments.join('/'))) {
          const [, owner, repo, , release_id] = request.segments;
          return { name: 'github', operation: 'repos.upload_release_asset', params: { owner, repo, release_id }, effect: 'write' };
        }
        return unknownOperation('github', request);
      case 'github.com':
        return gitSmartHttp('github', request) ?? unknownOperation('github', request);
      default:
        // Raw file and archive hosts only serve downloads.
        return unknownOperation('github', request);
    }
  },
};
