// Studio API through fastify inject: publish (refused when the draft does not compile or fails the
// same tests as `airlock test`, Rego and traffic tests), the initial policy as a rollback target,
// diffs between versions, rollback with a note, and replay of the draft as edited (unsaved buffers).
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { PolicyEngine } from '../../engine/engine.ts';
import { buildStudioApp } from '../../studio/server.ts';
import { TOKEN, basePolicy, description, loginSession, makeProject } from './helpers.ts';

const project = makeProject();
t.teardown(project.cleanup);
const engine = new PolicyEngine({ mode: 'inline' });
await engine.loadFolder(project.policy);
t.teardown(() => engine.close());
const app = await buildStudioApp({ home: project.home, projectRoot: project.root, services: { home: project.home, policyDir: project.policy, engine }, token: TOKEN });
t.teardown(() => app.close());
const s2 = await loginSession(app);

t.test('publish refuses a draft that does not compile or fails its tests; a good one goes live; rollback', async (t) => {
  const put = (content: string, file = 'airlock.rego') => s2.call({ method: 'PUT', url: '/api/policy/file', payload: { path: file, content } });
  const startVersion = engine.version;

  t.equal((await put(basePolicy.replace('"GET"', '"GET'))).statusCode, 200);
  let r = await s2.call({ method: 'POST', url: '/api/policy/publish', payload: {} });
  t.equal(r.statusCode, 422);
  t.match(r.json(), { ok: false, error: /does not compile/, problems: [{ file: 'airlock.rego', line: 8 }] });
  t.equal(engine.version, startVersion, 'the live policy did not change');

  await put(basePolicy.replace('"GET"', '"HEAD"'));
  r = await s2.call({ method: 'POST', url: '/api/policy/publish', payload: {} });
  t.equal(r.statusCode, 422);
  t.match(r.json(), { error: /fails its tests/, tests: { output: /test_get_allowed/, failures: [{ kind: 'rego', file: 'airlock_test.rego', line: 7, inDraft: true }] } });
  t.equal(engine.version, startVersion);

  // Rego tests pass, a traffic test (fixtures/tests/, as `airlock test` runs them) fails: not published.
  await put(basePolicy.replace('input.request.method == "GET"', 'input.request.method == "GET"\n\tnot input.request.host == "api.github.com"'));
  r = await s2.call({ method: 'POST', url: '/api/policy/publish', payload: {} });
  t.equal(r.statusCode, 422);
  t.match(r.json().tests, {
    failed: 1,
    failures: [{ kind: 'traffic', file: 'fixtures/tests/basic.yaml', line: 3, name: 'reads are allowed', message: /action: expected allow, got deny/, input: { request: { host: 'api.github.com' } } }],
    output: /FAIL fixtures\/tests\/basic\.yaml › reads are allowed[\s\S]*1 passed, 1 failed/,
  });
  t.equal(engine.version, startVersion);
  // The same suite runs from the "Run tests" button, on unsaved buffers too.
  const run = (await s2.call({ method: 'POST', url: '/api/policy/test', payload: { files: { 'airlock.rego': basePolicy } } })).json();
  t.match(run, { ok: true, failed: 0, failures: [] });
  t.equal(run.passed, 3, '1 Rego test + 2 traffic cases');

  const v2 = basePolicy.replace('"GET"', '"GET"\n\tnot input.request.host == "blocked.example"');
  await put(v2);
  await put('package airlock\n\nimport rego.v1\n\nextra := 1\n', 'extra.rego');
  const diff = (await s2.call({ method: 'GET', url: '/api/policy/diff' })).json().files as Array<{ path: string; status: string; patch: string }>;
  t.same(diff.map((f) => [f.path, f.status]), [['airlock.rego', 'changed'], ['extra.rego', 'added']]);
  t.match(diff[0]!.patch, /\n\+\tnot input\.request\.host == "blocked\.example"\n/);
  t.equal((await s2.call({ method: 'DELETE', url: '/api/policy/file?path=extra.rego' })).statusCode, 200);
  r = await s2.call({ method: 'POST', url: '/api/policy/publish', payload: { note: 'block one host' } });
  t.equal(r.statusCode, 200, r.body);
  const v2version = r.json().record.version as string;
  t.equal(engine.version, v2version, 'the runtime engine was hot-reloaded');
  t.ok(fs.existsSync(path.join(project.home, 'policies', v2version, 'airlock.rego')), 'stored as a version');
  const blocked = await engine.decide(description('GET', 'https://blocked.example/x') as never);
  t.equal(blocked.action, 'deny');

  const again = await s2.call({ method: 'POST', url: '/api/policy/publish', payload: {} });
  t.equal(again.statusCode, 422);
  t.match(again.json().error, /nothing to publish/);

  const v3 = v2.replace('"blocked.example"', '"other.example"');
  await put(v3);
  r = await s2.call({ method: 'POST', url: '/api/policy/publish', payload: {} });
  t.equal(r.statusCode, 200);
  const v3version = r.json().record.version as string;
  t.not(v3version, v2version);

  const versions = (await s2.call({ method: 'GET', url: '/api/policy/versions' })).json();
  t.equal(versions.current, v3version);
  t.same(versions.history.map((h: { version: string }) => h.version), [v3version, v2version, startVersion], 'the policy as first loaded is in the history');
  t.equal(versions.history[1].note, 'block one host');
  t.match(versions.history[2], { initial: true, note: /first loaded/ });

  // Any two versions compare, file by file.
  const d = (await s2.call({ method: 'GET', url: `/api/policy/versions/diff?from=${startVersion}&to=${v3version}` })).json();
  t.match(d.files, [{ path: 'airlock.rego', status: 'changed', patch: /\+\tnot input\.request\.host == "other\.example"/ }]);
  t.equal((await s2.call({ method: 'GET', url: `/api/policy/versions/diff?from=${v2version}&to=draft` })).statusCode, 200);
  t.equal((await s2.call({ method: 'GET', url: '/api/policy/versions/diff?from=deadbeefdeadbeef&to=draft' })).statusCode, 404);
  t.equal((await s2.call({ method: 'GET', url: '/api/policy/versions/diff?from=..%2F..&to=draft' })).statusCode, 400);

  r = await s2.call({ method: 'POST', url: '/api/policy/rollback', payload: { version: v2version, note: 'other.example is fine after all' } });
  t.equal(r.statusCode, 200, r.body);
  t.equal(engine.version, v2version, 'rollback made the old version live');
  t.equal((await engine.decide(description('GET', 'https://blocked.example/x') as never)).action, 'deny');
  const after = (await s2.call({ method: 'GET', url: '/api/policy/versions' })).json();
  t.equal(after.current, v2version);
  t.match(after.history[0], { rollback_of: v2version, note: 'other.example is fine after all' }, 'the rollback keeps its note');

  r = await s2.call({ method: 'POST', url: '/api/policy/rollback', payload: { version: startVersion } });
  t.equal(r.statusCode, 200, r.body);
  t.equal(engine.version, startVersion, 'back to the policy as first loaded');

  const unknown = await s2.call({ method: 'POST', url: '/api/policy/rollback', payload: { version: 'deadbeefdeadbeef' } });
  t.equal(unknown.statusCode, 404);
  const traversal = await s2.call({ method: 'POST', url: '/api/policy/rollback', payload: { version: '../../etc' } });
  t.equal(traversal.statusCode, 400);
});

t.test('replay runs a fixtures file against the draft and the live policy', async (t) => {
  const sources = (await s2.call({ method: 'GET', url: '/api/replay/sources' })).json();
  t.equal(sources.available, true);
  t.same(sources.fixtures.map((f: { path: string }) => f.path), ['fixtures/sample.jsonl', 'fixtures/tests/basic.yaml']);
  await s2.call({ method: 'PUT', url: '/api/policy/file', payload: { path: 'airlock.rego', content: basePolicy.replace('input.request.method == "GET"', 'input.request.method in {"GET", "POST"}') } });
  const r = await s2.call({ method: 'POST', url: '/api/replay', payload: { source: 'fixture', file: 'fixtures/sample.jsonl' } });
  t.equal(r.statusCode, 200, r.body);
  t.same(r.json().unsaved, [], 'the saved draft');
  const rep = r.json().report;
  t.equal(rep.decided, 3);
  t.same(rep.after, { allow: 2, deny: 1, approve: 0 });
  t.same(rep.before, { allow: 1, deny: 2, approve: 0 });
  t.equal(rep.changed, 1);
  t.match(rep.changedRows[0], { input: { request: { method: 'POST' } }, before: { action: 'deny' }, after: { action: 'allow', rule: 'read' } });
  const outside = await s2.call({ method: 'POST', url: '/api/replay', payload: { source: 'fixture', file: '../../etc/passwd' } });
  t.equal(outside.statusCode, 400);

  // Unsaved buffers are replayed as the editor shows them (as Evaluate does).
  const unsaved = await s2.call({ method: 'POST', url: '/api/replay', payload: { source: 'fixture', file: 'fixtures/sample.jsonl', files: { 'airlock.rego': basePolicy.replace('input.request.method == "GET"', 'input.request.method in {"GET", "POST", "DELETE"}') } } });
  t.equal(unsaved.statusCode, 200, unsaved.body);
  t.same(unsaved.json().unsaved, ['airlock.rego']);
  t.same(unsaved.json().report.after, { allow: 3, deny: 0, approve: 0 }, 'the unsaved edit decided');
  const bad = await s2.call({ method: 'POST', url: '/api/replay', payload: { source: 'fixture', file: 'fixtures/sample.jsonl', files: { '../x.rego': 'package x' } } });
  t.equal(bad.statusCode, 400, 'buffer paths stay inside the draft');
});

