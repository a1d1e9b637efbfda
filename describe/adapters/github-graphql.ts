// GitHub's GraphQL API (POST api.github.com/graphql): every mutation of GitHub's public schema
// (docs.github.com/graphql/reference/mutations, checked against @octokit/graphql-schema in
// test/adapters/github-graphql.test.ts), classified into the operation and effect the REST form of
// the same change gets, so `mergePullRequest` is `pulls.merge` and `deleteRef` is `git.delete_ref`
// whichever API the agent uses. Mutations without a REST twin get `graphql.<field>`.
import type { Effect, ServiceInfo } from '../types.ts';
import { mutationFields, type GraphqlRequest } from '../graphql.ts';

type Spec = [operation: string, effect: Effect];

const same = (effect: Effect, names: string[]): Array<[string, Spec]> => names.map((n) => [n, [`graphql.${n}`, effect]]);

/** Mutation → [operation, effect]. REST twins first, then the rest of the schema by effect. */
const mutations = new Map<string, Spec>([
  // Repositories
  ['createRepository', ['repos.create', 'write']],
  ['cloneTemplateRepository', ['repos.create_using_template', 'write']],
  ['updateRepository', ['repos.update', 'admin']],
  ['archiveRepository', ['repos.update', 'admin']],
  ['unarchiveRepository', ['repos.update', 'admin']],
  ['deleteRepository', ['repos.delete', 'delete']], // not in today's schema; named so a future one is a delete
  ['updateTopics', ['repos.replace_topics', 'write']],
  ['mergeBranch', ['repos.merge', 'write']],
  ['removeOutsideCollaborator', ['repos.remove_collaborator', 'admin']],
  ['createBranchProtectionRule', ['repos.update_branch_protection', 'admin']],
  ['updateBranchProtectionRule', ['repos.update_branch_protection', 'admin']],
  ['deleteBranchProtectionRule', ['repos.delete_branch_protection', 'admin']],
  ['createRepositoryRuleset', ['repos.create_repo_ruleset', 'admin']],
  ['updateRepositoryRuleset', ['repos.update_repo_ruleset', 'admin']],
  ['deleteRepositoryRuleset', ['repos.delete_repo_ruleset', 'admin']],
  ['createEnvironment', ['repos.create_or_update_environment', 'admin']],
  ['updateEnvironment', ['repos.create_or_update_environment', 'admin']],
  ['deleteEnvironment', ['repos.delete_an_environment', 'delete']],
  ['updateTeamsRepository', ['teams.add_or_update_repo_permissions_in_org', 'admin']],
  ['approveDeployments', ['actions.review_pending_deployments_for_run', 'admin']],
  ['rejectDeployments', ['actions.review_pending_deployments_for_run', 'admin']],
  ['setRepositoryInteractionLimit', ['interactions.set_restrictions_for_repo', 'admin']],
  ['setOrganizationInteractionLimit', ['interactions.set_restrictions_for_org', 'admin']],
  ['setUserInteractionLimit', ['interactions.set_restrictions_for_authenticated_user', 'admin']],
  // Refs and commits
  ['createRef', ['git.create_ref', 'write']],
  ['updateRef', ['git.update_ref', 'write']],
  ['updateRefs', ['git.update_ref', 'write']],
  ['deleteRef', ['git.delete_ref', 'delete']],
  ['createCommitOnBranch', ['repos.create_or_update_file_contents', 'write']],
  // Issues and comments
  ['createIssue', ['issues.create', 'write']],
  ['updateIssue', ['issues.update', 'write']],
  ['closeIssue', ['issues.update', 'write']],
  ['reopenIssue', ['issues.update', 'write']],
  ['addComment', ['issues.create_comment', 'send']],
  ['updateIssueComment', ['issues.update_comment', 'send']],
  ['deleteIssueComment', ['issues.delete_comment', 'delete']],
  ['addLabelsToLabelable', ['issues.add_labels', 'write']],
  ['removeLabelsFromLabelable', ['issues.remove_label', 'write']],
  ['clearLabelsFromLabelable', ['issues.remove_label', 'write']],
  ['addAssigneesToAssignable', ['issues.add_assignees', 'write']],
  ['removeAssigneesFromAssignable', ['issues.remove_assignees', 'write']],
  ['lockLockable', ['issues.lock', 'write']],
  ['unlockLockable', ['issues.unlock', 'write']],
  // Pull requests
  ['createPullRequest', ['pulls.create', 'write']],
  ['updatePullRequest', ['pulls.update', 'write']],
  ['closePullRequest', ['pulls.update', 'write']],
  ['reopenPullRequest', ['pulls.update', 'write']],
  ['convertPullRequestToDraft', ['pulls.update', 'write']],
  ['markPullRequestReadyForReview', ['pulls.update', 'write']],
  ['revertPullRequest', ['pulls.create', 'write']],
  ['mergePullRequest', ['pulls.merge', 'write']],
  ['enablePullRequestAutoMerge', ['pulls.merge', 'write']], // merges once checks pass
  ['enqueuePullRequest', ['pulls.merge', 'write']], // the merge queue merges it
  ['updatePullRequestBranch', ['pulls.update_branch', 'write']],
  ['requestReviews', ['pulls.request_reviewers', 'write']],
  ['addPullRequestReview', ['pulls.create_review', 'send']],
  ['submitPullRequestReview', ['pulls.submit_review', 'send']],
  ['updatePullRequestReview', ['pulls.update_review', 'send']],
  ['addPullRequestReviewComment', ['pulls.create_review_comment', 'send']],
  ['addPullRequestReviewThread', ['pulls.create_review_comment', 'send']],
  ['addPullRequestReviewThreadReply', ['pulls.create_review_comment', 'send']],
  ['updatePullRequestReviewComment', ['pulls.create_review_comment', 'send']],
  ['dismissPullRequestReview', ['pulls.dismiss_review', 'admin']],
  ['createTeamDiscussion', ['teams.create_discussion_in_org', 'send']],
  ['createTeamDiscussionComment', ['teams.create_discussion_comment_in_org', 'send']],
  // Discussions and team discussions publish text on your behalf
  ...same('send', [
    'createDiscussion', 'updateDiscussion', 'addDiscussionComment', 'updateDiscussionComment',
    'updateTeamDiscussion', 'updateTeamDiscussionComment',
    'createGist', // not in today's schema (REST gists.create is send)
  ]),
  // Deletes
  ...same('delete', [
    'deleteIssue', 'deletePullRequestReview', 'deletePullRequestReviewComment', 'deleteDiscussion',
    'deleteDiscussionComment', 'deleteTeamDiscussion', 'deleteTeamDiscussionComment', 'deleteLabel', 'deleteLinkedBranch',
    'deletePackageVersion', 'deleteProject', 'deleteProjectCard', 'deleteProjectColumn', 'deleteProjectV2',
    'deleteProjectV2Field', 'deleteProjectV2Item', 'deleteProjectV2StatusUpdate', 'deleteProjectV2Workflow',
    'deleteUserList', 'deleteDeployment',
  ]),
  // Access, security gates, settings, enterprise and organization administration, migrations
  ...same('admin', [
    'transferIssue', 'dismissRepositoryVulnerabilityAlert',
    // A check run's conclusion can satisfy a check branch protection requires (REST check-runs, statuses).
    'createCheckRun', 'updateCheckRun',
    'updateProjectV2Collaborators', // who may read and edit a project (its items may be private issues)
    'updateTeamReviewAssignment',
    'accessUserNamespaceRepository', 'createAttributionInvitation', 'createIpAllowListEntry', 'updateIpAllowListEntry',
    'deleteIpAllowListEntry', 'updateIpAllowListEnabledSetting', 'updateIpAllowListForInstalledAppsEnabledSetting',
    'addVerifiableDomain', 'approveVerifiableDomain', 'verifyVerifiableDomain', 'deleteVerifiableDomain',
    'regenerateVerifiableDomainToken', 'regenerateEnterpriseIdentityProviderRecoveryCodes', 'setEnterpriseIdentityProvider',
    'removeEnterpriseIdentityProvider', 'acceptEnterpriseAdministratorInvitation', 'acceptEnterpriseMemberInvitation',
    'inviteEnterpriseAdmin', 'inviteEnterpriseMember', 'cancelEnterpriseAdminInvitation', 'cancelEnterpriseMemberInvitation',
    'addEnterpriseOrganizationMember', 'removeEnterpriseMember', 'removeEnterpriseAdmin', 'removeEnterpriseOrganization',
    'addEnterpriseSupportEntitlement', 'removeEnterpriseSupportEntitlement', 'createEnterpriseOrganization',
    'transferEnterpriseOrganization', 'updateEnterpriseAdministratorRole', 'updateEnterpriseOwnerOrganizationRole',
    'updateEnterpriseProfile', 'updateEnterpriseAllowPrivateRepositoryForkingSetting',
    'updateEnterpriseDefaultRepositoryPermissionSetting', 'updateEnterpriseDeployKeySetting',
    'updateEnterpriseMembersCanChangeRepositoryVisibilitySetting', 'updateEnterpriseMembersCanCreateRepositoriesSetting',
    'updateEnterpriseMembersCanDeleteIssuesSetting', 'updateEnterpriseMembersCanDeleteRepositoriesSetting',
    'updateEnterpriseMembersCanInviteCollaboratorsSetting', 'updateEnterpriseMembersCanMakePurchasesSetting',
    'updateEnterpriseMembersCanUpdateProtectedBranchesSetting', 'updateEnterpriseMembersCanViewDependencyInsightsSetting',
    'updateEnterpriseOrganizationProjectsSetting', 'updateEnterpriseRepositoryProjectsSetting',
    'updateEnterpriseTeamDiscussionsSetting', 'updateEnterpriseTwoFactorAuthenticationDisallowedMethodsSetting',
    'updateEnterpriseTwoFactorAuthenticationRequiredSetting', 'updateNotificationRestrictionSetting',
    'updateOrganizationAllowPrivateRepositoryForkingSetting', 'updateOrganizationWebCommitSignoffSetting',
    'updateRepositoryWebCommitSignoffSetting',
    'grantEnterpriseOrganizationsMigratorRole', 'grantMigratorRole',
    'revokeEnterpriseOrganizationsMigratorRole', 'revokeMigratorRole', 'startOrganizationMigration',
    'startRepositoryMigration', 'abortQueuedMigrations', 'abortRepositoryMigration', 'createMigrationSource',
  ]),
  // Sponsorships spend money
  ...same('pay', ['createSponsorship', 'createSponsorships']),
  // Everything else changes data of your own (medium)
  ...same('write', [
    'acceptTopicSuggestion', 'declineTopicSuggestion', 'addDiscussionPollVote', 'addProjectCard', 'addProjectColumn',
    'addProjectV2DraftIssue', 'addProjectV2ItemById', 'addReaction', 'removeReaction', 'addStar', 'removeStar', 'addSubIssue',
    'removeSubIssue', 'reprioritizeSubIssue', 'addUpvote', 'removeUpvote', 'archiveProjectV2Item', 'unarchiveProjectV2Item',
    'cancelSponsorship', 'changeUserStatus', 'clearProjectV2ItemFieldValue', 'cloneProject', 'closeDiscussion', 'reopenDiscussion',
    'convertProjectCardNoteToIssue', 'convertProjectV2DraftIssueItemToIssue', 'copyProjectV2', 'createCheckSuite', 'rerequestCheckSuite', 'updateCheckSuitePreferences', 'createDeployment',
    'createDeploymentStatus', 'createLabel', 'updateLabel', 'createLinkedBranch', 'createProject', 'createProjectV2',
    'createProjectV2Field', 'createProjectV2StatusUpdate', 'createSponsorsListing', 'createSponsorsTier', 'publishSponsorsTier',
    'retireSponsorsTier', 'updateSponsorshipPreferences', 'updatePatreonSponsorability', 'createUserList', 'updateUserList',
    'updateUserListsForItem', 'disablePullRequestAutoMerge', 'dequeuePullRequest', 'followOrganization', 'unfollowOrganization',
    'followUser', 'unfollowUser', 'importProject', 'linkProjectV2ToRepository', 'linkProjectV2ToTeam',
    'linkRepositoryToProject', 'unlinkProjectV2FromRepository', 'unlinkProjectV2FromTeam', 'unlinkRepositoryFromProject',
    'markDiscussionCommentAsAnswer', 'unmarkDiscussionCommentAsAnswer', 'markFileAsViewed', 'unmarkFileAsViewed',
    'markProjectV2AsTemplate', 'unmarkProjectV2AsTemplate', 'minimizeComment', 'unminimizeComment', 'moveProjectCard',
    'moveProjectColumn', 'pinEnvironment', 'reorderEnvironment', 'pinIssue', 'unpinIssue', 'resolveReviewThread',
    'unresolveReviewThread', 'unmarkIssueAsDuplicate', 'updateProject', 'updateProjectCard',
    'updateProjectColumn', 'updateProjectV2', 'updateProjectV2DraftIssue',
    'updateProjectV2Field', 'updateProjectV2ItemFieldValue', 'updateProjectV2ItemPosition', 'updateProjectV2StatusUpdate',
    'updateSubscription',
  ]),
]);

/** A mutation GitHub adds after this table was written: judged by its name, failing towards the stricter effect. */
function byName(field: string): Spec {
  if (/^delete/.test(field)) return [`graphql.${field}`, 'delete'];
  if (/(Enterprise|Organization|Migrat|IpAllowList|VerifiableDomain|Ruleset|Protection|Permission|Role|Setting|Collaborator|Deploy|Environment|Secret|Key)|^(grant|revoke|regenerate|transfer|invite|set|remove|dismiss|approve|reject)/.test(field)) {
    return [`graphql.${field}`, 'admin'];
  }
  if (/Sponsor/.test(field)) return [`graphql.${field}`, 'pay'];
  if (/Comment|Discussion|Review/.test(field)) return [`graphql.${field}`, 'send'];
  return [`graphql.${field}`, 'write'];
}

export function classifyMutation(field: string): Spec {
  return mutations.get(field) ?? byName(field);
}

/** Every classified mutation name (tests check it against GitHub's schema). */
export function knownMutations(): string[] {
  return [...mutations.keys()];
}

/** How the default policy ranks what a field does: deletes/payments/admin, then merges, sends, writes. */
function rank(operation: string, effect: Effect): number {
  if (effect === 'delete' || effect === 'pay' || effect === 'admin') return 4;
  if (operation === 'pulls.merge') return 3;
  if (effect === 'send') return 2;
  return effect === 'write' ? 1 : 0;
}

/** `force` anywhere in an updateRef(s) call or its variables: it may rewrite history. */
function mayForce(gql: GraphqlRequest): boolean {
  return gql.documents.some((d) => /force/i.test(d)) || gql.variables.some((v) => /force/i.test(v));
}

/**
 * Files that say what CI runs and who must review: workflows and actions under `.github/` (they
 * run with the repository's secrets and deploy), Dependabot's config, and CODEOWNERS wherever it
 * lives. GitHub asks for a token scope of its own (`workflow`) to change workflows for this
 * reason: writing or deleting one is an `admin` change, whichever API carries it.
 */
export function controlsRepository(path: string): boolean {
  // Read as a path (empty and `.` segments dropped, `..` climbing): `./.github/…` and
  // `docs/../.github/…` name the same file wherever a server normalizes them.
  const segs: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') segs.pop();
    else segs.push(seg);
  }
  const top = segs[0] ?? '';
  return top === '.github' || segs[segs.length - 1] === 'CODEOWNERS' || ciTopFolders.has(top) || (segs.length === 1 && ciRootFiles.has(top));
}

/**
 * What else runs or decides with the repository's trust (fourteenth pass): other CI services'
 * configurations (they run with those services' secrets, as a workflow does with GitHub's), the
 * repository's own action (`action.yml`: every workflow that `uses:` it runs it with its secrets),
 * submodules (CI checks out the URL they name) and a dependency bot's rules (automerge).
 */
const ciTopFolders = new Set(['.circleci', '.buildkite', '.gitlab', '.azure-pipelines', '.woodpecker', '.drone', '.semaphore', '.teamcity', '.husky']);
const ciRootFiles = new Set([
  '.gitlab-ci.yml', '.travis.yml', '.drone.yml', 'azure-pipelines.yml', 'bitbucket-pipelines.yml', 'Jenkinsfile', 'appveyor.yml', '.appveyor.yml',
  'cloudbuild.yaml', 'cloudbuild.yml', 'buildspec.yml', 'codemagic.yaml', '.woodpecker.yml', 'action.yml', 'action.yaml', '.gitmodules',
  'renovate.json', 'renovate.json5', '.renovaterc', '.renovaterc.json',
]);

/** The file paths createCommitOnBranch calls add or delete; undefined when a call's changes are not in the request. */
function committedPaths(gql: GraphqlRequest): string[] | undefined {
  const paths: string[] = [];
  for (const call of gql.calls ?? []) {
    if (call.field !== 'createCommitOnBranch') continue;
    const input = call.args.input as { fileChanges?: { additions?: unknown; deletions?: unknown } } | undefined;
    const changes = input?.fileChanges;
    if (!changes || typeof changes !== 'object') return undefined;
    for (const list of [changes.additions, changes.deletions]) {
      if (list === undefined || list === null) continue;
      if (!Array.isArray(list)) return undefined;
      for (const c of list) {
        const path = (c as { path?: unknown } | null)?.path;
        if (typeof path !== 'string') return undefined;
        paths.push(path);
      }
    }
  }
  return paths;
}

/** The values of `input.<key>` in every call of a mutation field, sorted and joined; `(default)` for a call without one, `?` for one not read as text. */
function inputValues(gql: GraphqlRequest, field: string, key: string): string {
  if (gql.argumentsUnread) return '?';
  const out = new Set<string>();
  for (const call of gql.calls ?? []) {
    if (call.field !== field) continue;
    const v = (call.args.input as Record<string, unknown> | undefined)?.[key];
    out.add(typeof v === 'string' && !/[;=,?|]/.test(v) ? v : v === undefined ? '(default)' : '?');
  }
  return [...out].sort().join(',') || '?';
}

/** The branch names createCommitOnBranch calls commit to, joined; `?` for one not in the request. */
function commitBranches(gql: GraphqlRequest): string {
  if (gql.argumentsUnread) return '?';
  const names = new Set<string>();
  for (const call of gql.calls ?? []) {
    if (call.field !== 'createCommitOnBranch') continue;
    const b = (call.args.input as { branch?: { branchName?: unknown } } | undefined)?.branch;
    // Named by branch id only: the id is a node id (already the place); the name is not in the request.
    const name = b && typeof b === 'object' ? b.branchName : undefined;
    names.add(typeof name === 'string' && !/[;=,?|]/.test(name) ? name : b && typeof b === 'object' && name === undefined && (b as { id?: unknown }).id !== undefined ? '(by id)' : '?');
  }
  return [...names].sort().join(',') || '?';
}

/**
 * Whether updateRefs calls may set a ref to the all-zero id (`refUpdates[].afterOid`), which
 * deletes it (GitHub's reference says so), or an updateRef call names that id as its `oid`. For
 * updateRefs a value not in the request (a variable not given, arguments past the reading budget, a
 * list that is not one) may be zeros: it counts as a deletion.
 */
function mayDeleteRefs(gql: GraphqlRequest, field: 'updateRefs' | 'updateRef'): boolean {
  const isZero = (v: unknown): boolean => typeof v === 'string' && /^0+$/.test(v.trim());
  if (field === 'updateRef') return (gql.calls ?? []).some((c) => c.field === field && isZero((c.args.input as { oid?: unknown } | undefined)?.oid));
  if (gql.argumentsUnread) return true;
  const zero = (v: unknown): boolean => typeof v !== 'string' || isZero(v);
  for (const call of gql.calls ?? []) {
    if (call.field !== field) continue;
    const input = call.args.input as { refUpdates?: unknown } | undefined;
    if (!input || typeof input !== 'object') return true;
    if (!Array.isArray(input.refUpdates)) return true;
    if (input.refUpdates.some((u) => !u || typeof u !== 'object' || zero((u as { afterOid?: unknown }).afterOid))) return true;
  }
  return false;
}

/**
 * The node ids a mutation acts on (`input.subjectId`, `repositoryId`, `pullRequestId`, `labelIds`
 * …), sorted and unique; `?` for one whose value is not in the request (a variable not given).
 * GraphQL names the place by id where REST names it by path: a grant records them
 * (engine/grant-scope.ts) so "allow similar" for a comment on one issue does not cover a comment
 * on another repository's.
 */
function nodeIds(gql: GraphqlRequest): string[] {
  if (gql.argumentsUnread) return ['?'];
  const ids = new Set<string>();
  for (const call of gql.calls ?? []) {
    const input = call.args.input;
    if (!input || typeof input !== 'object' || Array.isArray(input)) continue;
    for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
      // A branch named by repository and name (createCommitOnBranch): the repository is the place.
      // Both spellings given: which one GitHub goes by is its choice, so both are the place.
      if (key === 'branch' && value && typeof value === 'object' && !Array.isArray(value)) {
        const b = value as { repositoryNameWithOwner?: unknown; id?: unknown };
        const named = [b.repositoryNameWithOwner, b.id].filter((v) => v !== undefined && v !== null);
        if (named.length === 0) ids.add('?');
        for (const v of named) ids.add(typeof v === 'string' ? v : '?');
        continue;
      }
      // (clientMutationId is the client's own label for the call, not a place.)
      if (!/Ids?$/.test(key) || key === 'clientMutationId') continue;
      for (const v of Array.isArray(value) ? value : [value]) ids.add(typeof v === 'string' ? v : '?');
    }
  }
  // Past 50 the list is cut and marked `?`: a cut list would let a grant for 50 nodes cover a 51st.
  return [...ids].sort().slice(0, 50).concat(ids.size > 50 ? ['?'] : []);
}

/**
 * The service description of a GitHub GraphQL request: a read for queries; for mutations the
 * operation and effect of the most dangerous root field (all of them in params.mutations, their
 * REST twins in params.operations). Unparseable bodies are `graphql.unparsed` (write; the default
 * policy holds them at high risk on `input.graphql.parsed == false`).
 */
export function githubGraphql(gql: GraphqlRequest): ServiceInfo {
  const { info } = gql;
  const writes = info.operations.some((o) => o.type === 'mutation');
  // A reading that cannot be read beside mutations that can: judged by the mutations (the default
  // policy holds the unreadable reading at high risk on `input.graphql.parsed == false` as well).
  if (!info.parsed && !writes) return { name: 'github', operation: 'graphql.unparsed', params: {}, effect: 'write' };
  const fields = mutationFields(info);
  if (!writes) return { name: 'github', operation: 'graphql.query', params: {}, effect: 'read' };
  let best: { operation: string; effect: Effect; rank: number } = { operation: 'graphql.mutation', effect: 'write', rank: 0 };
  const operations = new Set<string>();
  let force = false;
  for (const f of fields) {
    let [operation, effect] = classifyMutation(f);
    // A commit that changes CI or review rules (or whose changes are not in the request) is admin.
    if (f === 'createCommitOnBranch') {
      const paths = committedPaths(gql);
      if (paths === undefined || paths.some(controlsRepository)) effect = 'admin';
    }
    // A repository made from a template that is not private publishes a copy of the template's
    // files (a private template's too): the REST twin's rule (github.ts `templateCopyIsPublic`).
    if (f === 'cloneTemplateRepository' && (gql.argumentsUnread || (gql.calls ?? []).some((c) => c.field === f && (c.args.input as { visibility?: unknown } | undefined)?.visibility !== 'PRIVATE'))) effect = 'admin';
    // updateRefs deletes every ref whose afterOid is all zeros (GitHub's reference says so), as a
    // push of a zero id does: the REST twin is the ref's deletion.
    if ((f === 'updateRefs' || f === 'updateRef') && mayDeleteRefs(gql, f)) [operation, effect] = ['git.delete_ref', 'delete'];
    operations.add(operation);
    if (operation === 'git.update_ref' && mayForce(gql)) force = true;
    const r = rank(operation, effect) + (operation === 'git.update_ref' && force ? 3 : 0);
    if (r > best.rank) best = { operation, effect, rank: r };
  }
  const params: Record<string, unknown> = { mutations: fields, operations: [...operations].sort() };
  if (force) params.force = true;
  const ids = nodeIds(gql);
  if (ids.length) params.node_ids = ids;
  // The branch a commit lands on (`branch.branchName`): the place, with its repository, as the
  // REST file write's `branch` is (github.ts).
  if (fields.includes('createCommitOnBranch')) params.branch = commitBranches(gql);
  // The REST twins' places (github.ts): where a merge lands and what it brings in, who can read
  // a repository created.
  if (fields.includes('mergeBranch')) {
    params.branch = [params.branch, inputValues(gql, 'mergeBranch', 'base')].filter((b) => b !== undefined).join(',');
    params.merge_head = inputValues(gql, 'mergeBranch', 'head');
  }
  if (fields.includes('createRepository')) params.visibility = inputValues(gql, 'createRepository', 'visibility').toLowerCase();
  // A pull request opened onto `baseRefName` from `headRefName` (another repository's with
  // `headRepositoryId`, a node id above), or retargeted onto another base: the REST twin's places.
  for (const f of ['createPullRequest', 'updatePullRequest']) {
    if (!fields.includes(f)) continue;
    params.branch = [params.branch, inputValues(gql, f, 'baseRefName')].filter((b) => b !== undefined).join(',');
    if (f === 'createPullRequest') params.merge_head = [params.merge_head, inputValues(gql, f, 'headRefName')].filter((b) => b !== undefined).join(',');
  }
  return { name: 'github', operation: best.operation, params, effect: best.effect };
}
