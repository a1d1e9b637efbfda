// GitHub REST route templates and git smart HTTP, as documented by GitHub and git-scm.
import t from 'tap';
import { describeRequest } from '../../describe/describe.ts';
import { loadAdapters, recognize } from '../../describe/adapters/index.ts';
import { parseLine, requestOf } from './helpers.ts';

await loadAdapters();

const cases: Array<[string, string, string, Record<string, unknown>?]> = [
  ['GET https://api.github.com/repos/acme/app', 'repos.get:read', 'github', { owner: 'acme', repo: 'app' }],
  ['DELETE https://api.github.com/repos/acme/app', 'repos.delete:delete', 'github', { owner: 'acme', repo: 'app' }],
  ['PATCH https://api.github.com/repos/acme/app', 'repos.update:admin', 'github'],
  ['POST https://api.github.com/user/repos', 'repos.create:write', 'github'],
  ['POST https://api.github.com/repos/acme/app/transfer', 'repos.transfer:admin', 'github'],
  ['PUT https://api.github.com/repos/acme/app/collaborators/eve', 'repos.add_collaborator:admin', 'github', { username: 'eve' }],
  ['POST https://api.github.com/repos/acme/app/hooks', 'repos.create_webhook:admin', 'github'],
  ['POST https://api.github.com/repos/acme/app/keys', 'repos.create_deploy_key:admin', 'github'],
  ['DELETE https://api.github.com/repos/acme/app/branches/main/protection', 'repos.delete_branch_protection:admin', 'github'],
  ['GET https://api.github.com/repos/acme/app/issues?state=open', 'issues.list_for_repo:read', 'github'],
  ['GET https://api.github.com/repos/acme/app/issues/7', 'issues.get:read', 'github', { issue_number: '7' }],
  ['POST https://api.github.com/repos/acme/app/issues', 'issues.create:write', 'github'],
  ['PATCH https://api.github.com/repos/acme/app/issues/7', 'issues.update:write', 'github'],
  ['POST https://api.github.com/repos/acme/app/issues/7/comments', 'issues.create_comment:send', 'github'],
  ['GET https://api.github.com/repos/acme/app/issues/comments/99', 'issues.get_comment:read', 'github', { comment_id: '99' }],
  ['DELETE https://api.github.com/repos/acme/app/issues/comments/99', 'issues.delete_comment:delete', 'github'],
  ['GET https://api.github.com/repos/acme/app/pulls/3', 'pulls.get:read', 'github', { pull_number: '3' }],
  ['POST https://api.github.com/repos/acme/app/pulls', 'pulls.create:write', 'github'],
  ['PUT https://api.github.com/repos/acme/app/pulls/3/merge', 'pulls.merge:write', 'github'],
  ['POST https://api.github.com/repos/acme/app/pulls/3/reviews', 'pulls.create_review:send', 'github'],
  ['GET https://api.github.com/repos/acme/app/contents', 'repos.get_content:read', 'github'],
  ['GET https://api.github.com/repos/acme/app/contents/src/deep/file.ts?ref=main', 'repos.get_content:read', 'github', { path: 'src/deep/file.ts' }],
  ['PUT https://api.github.com/repos/acme/app/contents/README.md', 'repos.create_or_update_file_contents:write', 'github', { path: 'README.md' }],
  ['DELETE https://api.github.com/repos/acme/app/contents/a/b.txt', 'repos.delete_file:delete', 'github', { path: 'a/b.txt' }],
  ['GET https://api.github.com/repos/acme/app/git/ref/heads/main', 'git.get_ref:read', 'github', { ref: 'heads/main' }],
  ['GET https://api.github.com/repos/acme/app/git/matching-refs/tags', 'git.list_matching_refs:read', 'github'],
  ['POST https://api.github.com/repos/acme/app/git/refs', 'git.create_ref:write', 'github'],
  ['PATCH https://api.github.com/repos/acme/app/git/refs/heads/feature/x', 'git.update_ref:write', 'github', { ref: 'heads/feature/x' }],
  ['DELETE https://api.github.com/repos/acme/app/git/refs/heads/main', 'git.delete_ref:delete', 'github', { ref: 'heads/main' }],
  ['GET https://api.github.com/repos/acme/app/git/commits/abc123', 'git.get_object:read', 'github', { kind: 'commits', sha: 'abc123' }],
  ['POST https://api.github.com/repos/acme/app/git/trees', 'git.create_tree:write', 'github'],
  ['GET https://api.github.com/repos/acme/app/actions/runs', 'actions.list_workflow_runs_for_repo:read', 'github'],
  ['POST https://api.github.com/repos/acme/app/actions/workflows/ci.yml/dispatches', 'actions.create_workflow_dispatch:write', 'github', { workflow_id: 'ci.yml' }],
  ['DELETE https://api.github.com/repos/acme/app/actions/runs/5', 'actions.delete_workflow_run:delete', 'github'],
  ['PUT https://api.github.com/repos/acme/app/actions/secrets/NPM_TOKEN', 'actions.create_or_update_repo_secret:admin', 'github'],
  ['GET https://api.github.com/repos/acme/app/actions/secrets/public-key', 'actions.get_repo_public_key:read', 'github'],
  ['DELETE https://api.github.com/orgs/acme', 'orgs.delete:delete', 'github'],
  ['DELETE https://api.github.com/orgs/acme/members/bob', 'orgs.remove_member:admin', 'github'],
  ['POST https://api.github.com/user/keys', 'users.create_public_ssh_key_for_authenticated_user:admin', 'github'],
  ['POST https://api.github.com/gists', 'gists.create:send', 'github'],
  ['GET https://api.github.com/search/code?q=x', 'search:read', 'github'],
  ['HEAD https://api.github.com/repos/acme/app', 'repos.get:read', 'github'],
  // Unknown routes fall back to the method's effect, failing closed for anything but reads.
  ['GET https://api.github.com/repos/acme/app/traffic/views', 'unknown:read', 'github'],
  ['POST https://api.github.com/repos/acme/app/something-new', 'unknown:write', 'github'],
  ['DELETE https://api.github.com/repos/acme/app/something-new', 'unknown:delete', 'github'],
  ['PURGE https://api.github.com/repos/acme/app', 'unknown:write', 'github'],
  // Trailing slashes and percent-encoding are normalized before matching.
  ['DELETE https://api.github.com/repos/acme/app/', 'repos.delete:delete', 'github'],
  ['DELETE https://api.github.com/repos/acme/%61pp', 'repos.delete:delete', 'github', { repo: 'app' }],
  ['DELETE https://api.github.com/repos/acme/x/../app', 'repos.delete:delete', 'github', { repo: 'app' }],
  // Git smart HTTP.
  ['GET https://github.com/acme/app.git/info/refs?service=git-upload-pack', 'git.fetch:read', 'github', { owner: 'acme', repo: 'app' }],
  ['POST https://github.com/acme/app.git/git-upload-pack', 'git.fetch:read', 'github'],
  ['GET https://github.com/acme/app/info/refs?service=git-receive-pack', 'git.push:write', 'github', { repository: 'acme/app' }],
  ['POST https://github.com/acme/app.git/git-receive-pack', 'git.push:write', 'github'],
  ['GET https://github.com/acme/app.git/info/refs?service=git-upload-pack&service=git-receive-pack', 'git.push:write', 'github'],
  ['GET https://github.com/acme/app.git/info/refs?service=bogus', 'git.push:write', 'github'],
  ['GET https://github.com/acme/app/pulls', 'unknown:read', 'github'],
  ['POST https://gitlab.com/group/sub/proj.git/git-receive-pack', 'git.push:write', 'git', { repository: 'group/sub/proj' }],
  ['GET https://git.example.org/r.git/info/refs?service=git-upload-pack', 'git.fetch:read', 'git', { repository: 'r' }],
  ['POST https://uploads.github.com/repos/acme/app/releases/1/assets?name=a.zip', 'repos.upload_release_asset:write', 'github'],
  ['GET https://raw.githubusercontent.com/acme/app/main/README.md', 'unknown:read', 'github'],
];

t.test('GitHub REST and git smart HTTP route table', async (t) => {
  for (const [line, want, name, params] of cases) {
    const { service } = recognize(requestOf(parseLine(line)));
    t.equal(service && `${service.operation}:${service.effect}`, want, line);
    t.equal(service?.name, name, `${line}: service name`);
    if (params) t.match(service?.params, params, `${line}: params`);
  }
});

t.test('force on a ref update is a parameter policies can see', async (t) => {
  const forced = recognize(requestOf({ method: 'PATCH', url: 'https://api.github.com/repos/a/b/git/refs/heads/main', json: { sha: 'x', force: true } }));
  t.equal(forced.service?.params.force, true);
  const plain = recognize(requestOf({ method: 'PATCH', url: 'https://api.github.com/repos/a/b/git/refs/heads/main', json: { sha: 'x', force: 'true' } }));
  t.equal(plain.service?.params.force, undefined, 'only a JSON true forces, as GitHub reads it');
});

t.test('GraphQL: queries read, mutations take the operation and effect of their most severe field (test/adapters/graphql.test.ts has more)', async (t) => {
  const describe = (method: string, url: string, body = '') =>
    describeRequest({ method, url, headers: body ? [['content-type', 'application/json']] : [], body: Buffer.from(body), bodyTruncated: false }, { agent: { id: 'a', labels: {} } }).service;
  const q = (query: unknown) => describe('POST', 'https://api.github.com/graphql', JSON.stringify({ query }));
  t.match(q('query { viewer { login } }'), { operation: 'graphql.query', effect: 'read' });
  t.match(q('{ viewer { login } }'), { operation: 'graphql.query', effect: 'read' });
  t.match(q('mutation { deleteRepository(input: {}) { clientMutationId } }'), { operation: 'repos.delete', effect: 'delete' });
  t.match(q('# hidden\n  MUTATION X { a }'), { operation: 'graphql.unparsed', effect: 'write' }, 'not GraphQL (keywords are case-sensitive): unparsed');
  t.match(q(42), { operation: 'graphql.unparsed' }, 'a body that is not a query fails closed');
  t.match(q('mutation($id: ID!) { addComment(input: {subjectId: $id, body: "hi"}) { clientMutationId } }'), { operation: 'issues.create_comment', effect: 'send', params: { mutations: ['addComment'] } });
  t.match(q('mutation { createPullRequest(input: {}) { pullRequest { id } } }'), { operation: 'pulls.create', effect: 'write' });
  t.match(q('mutation { a: createPullRequest(input: {}) { x } b: deleteRepository(input: {repositoryId: "R"}) { x } }'), { effect: 'delete' }, 'the most severe field decides, aliases included');
  t.match(q('mutation { updateRepository(input: {visibility: PUBLIC}) { x } }'), { operation: 'repos.update', effect: 'admin' });
  t.match(q('mutation { archiveRepository(input: {}) { x } }'), { effect: 'admin' });
  t.match(q('mutation { updateRef(input: {force: true}) { x } }'), { operation: 'git.update_ref', params: { force: true } });
  t.notOk(q('mutation { updateRef(input: {oid: "a"}) { x } }')?.params.force, 'no force, no force push');
  t.match(q('fragment F on Mutation { deleteRef (input: {}) { x } } mutation { ...F }'), { operation: 'git.delete_ref', effect: 'delete' });
  const get = describe('GET', 'https://api.github.com/graphql?query=mutation%7BdeleteRepository(input%3A%7B%7D)%7Bx%7D%7D');
  t.match(get, { operation: 'repos.delete', effect: 'delete' }, 'a mutation in the query string is still a mutation');
});

t.test('hosts GitHub does not own are not GitHub', async (t) => {
  t.equal(recognize(requestOf(parseLine('DELETE https://api.github.com.evil.example/repos/a/b'))).service, undefined);
  t.equal(recognize(requestOf(parseLine('DELETE https://evilgithub.com/repos/a/b'))).service, undefined);
});

t.test('a push that deletes a ref is a delete when the body is visible', async (t) => {
  const z = '0'.repeat(40);
  const a = 'a'.repeat(40);
  const b = 'b'.repeat(40);
  const pkt = (line: string) => (line.length + 4).toString(16).padStart(4, '0') + line;
  const push = (body: string) => recognize(requestOf({ method: 'POST', url: 'https://github.com/acme/app.git/git-receive-pack', text: body })).service;
  const del = push(`${pkt(`${a} ${z} refs/heads/main\0 report-status side-band-64k\n`)}${pkt(`${a} ${b} refs/heads/dev\n`)}0000PACK`);
  t.match(del, { operation: 'git.push', effect: 'delete', params: { refs: ['refs/heads/main', 'refs/heads/dev'], deletes: ['refs/heads/main'] } });
  const update = push(`${pkt(`${a} ${b} refs/heads/dev\0 report-status\n`)}0000PACK`);
  t.match(update, { effect: 'write', params: { refs: ['refs/heads/dev'] } });
  t.notOk(update?.params.deletes);
  t.match(push('garbage'), { effect: 'delete', params: { refs_incomplete: true } }, 'an unreadable body fails closed: it may hide a deletion');
  const cut = push(pkt(`${a} ${b} refs/heads/dev\0 report-status\n`) + pkt(`${a} ${b} refs/heads/x\n`).slice(0, 30));
  t.match(cut, { effect: 'delete', params: { refs_incomplete: true } }, 'a command list cut off by the preview fails closed');
  // Push options follow the commands' flush when the client names the capability (gitprotocol-pack).
  const opts = push(`${pkt(`${a} ${b} refs/heads/dev\0 report-status push-options\n`)}0000${pkt('merge_request.create\n')}${pkt('ci.skip\n')}0000PACK`);
  t.match(opts, { effect: 'write', params: { refs: ['refs/heads/dev'], push_options: ['merge_request.create', 'ci.skip'] } });
  t.notOk(opts?.params.refs_incomplete);
  t.notOk(push(`${pkt(`${a} ${b} refs/heads/dev\0 report-status\n`)}0000PACK`)?.params.push_options, 'without the capability what follows is the pack');
  t.match(push(`${pkt(`${a} ${b} refs/heads/dev\0 push-options\n`)}0000${pkt('ci.skip\n')}`), { effect: 'delete', params: { refs_incomplete: true } }, 'options cut off fail closed');
});

t.test('a git repository at any depth names its owner (the namespace) and name', async (t) => {
  const svc = (url: string) => recognize(requestOf({ method: 'POST', url, text: '' })).service;
  t.match(svc('https://gitlab.com/group/sub/proj.git/git-receive-pack'), { params: { owner: 'group/sub', repo: 'proj', repository: 'group/sub/proj' } });
  t.match(svc('https://git.example.org/r.git/git-upload-pack'), { params: { repo: 'r', repository: 'r' } });
});
