// Traffic test files: format checks with clear errors, expectations compared field by field, and
// `airlock test` as CI runs it (real subprocess): failures explained, closing line, exit codes.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import t from 'tap';
import YAML from 'yaml';
import { openPolicy } from '../../offline/replay.ts';
import {
  compareExpectation, expectationOf, parseTrafficTests, prepareCase, prepareCases, runTrafficTests, testPlaceholder,
} from '../../offline/traffic-tests.ts';

const root = path.resolve(import.meta.dirname, '..', '..');

const policy = `package airlock

import rego.v1

default decision := {"action": "deny", "reason": "unknown destination", "rule": "default.unknown_host"}

decision := {"action": "deny", "reason": "placeholder for another service", "rule": "placeholders.unauthorized"} if {
\tsome p in input.placeholders
\tp.name != "github_token"
} else := {
\t"action": "allow", "reason": "reads are fine", "rule": "github.read",
\t"credentials": [{"secret": "github_token", "in": "header", "name": "authorization", "format": "Bearer {}"}],
\t"rate_limits": [{"key": concat(":", ["github", input.agent.id]), "limit": 100, "window": "1h"}],
} if {
\tinput.request.host == "api.github.com"
\tinput.request.method == "GET"
} else := {
\t"action": "approve", "reason": "deleting a repository", "rule": "github.delete",
\t"approval": {"risk": "critical", "step_up": true},
} if {
\tinput.request.host == "api.github.com"
\tinput.request.method == "DELETE"
}
`;

const regoTests = `package airlock_test

import rego.v1

import data.airlock

test_get_allowed if airlock.decision.action == "allow" with input as {"request": {"host": "api.github.com", "method": "GET"}, "placeholders": [], "agent": {"id": "a"}}
`;

const passing = `# GitHub under the sample policy
agent: coder
cases:
  - name: read a repository
    request:
      method: GET
      url: https://api.github.com/repos/acme/widgets
      headers:
        Authorization: Bearer {{placeholder:github_token}}
    expect:
      action: allow
      rule: github.read
      credentials: [github_token]
      rate_limits: ["github:coder"]
  - name: delete a repository
    request:
      method: DELETE
      url: https://api.github.com/repos/acme/widgets
    expect:
      action: approve
      rule: github.delete
      approval: {risk: critical, step_up: true}
  - name: stripe key sent to github
    request:
      method: GET
      url: https://api.github.com/search/code?q={{placeholder:stripe_key}}
    expect: {action: deny, rule: placeholders.unauthorized}
`;

const failing = `cases:
  - name: delete expected to be allowed
    request: {method: DELETE, url: "https://api.github.com/repos/acme/widgets", agent: ops}
    expect: {action: allow, rule: github.read}
  - name: wrong risk
    request: {method: DELETE, url: "https://api.github.com/repos/acme/widgets"}
    expect: {action: approve, approval: {risk: high}}
  - name: still fine
    request: {method: GET, url: "https://api.github.com/user"}
    expect: {action: allow}
`;


function airlock(args: string[], cwd = root): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'airlock.js'), ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

t.test('format errors name the file and the case', async (t) => {
  const bad: Array<[string, RegExp]> = [
    ['cases: 3', /a traffic test file is an object with a "cases" list/],
    ['cases:\n  - request: {method: GET, url: "https://x.test/"}\n    expect: {action: allow}', /case 1: needs a "name"/],
    ['cases:\n  - name: a\n    expect: {action: allow}', /case "a": needs exactly one of "request" or "description"/],
    ['cases:\n  - name: a\n    request: {method: GET, url: "https://x.test/"}\n    expect: {action: maybe}', /expect.action must be allow, deny or approve/],
    ['cases:\n  - name: a\n    request: {method: GET, url: "https://x.test/"}\n    expect: {action: allow, risk: high}', /unknown expectation "risk"/],
    ['cases:\n  - name: a\n    request: {method: GET, url: "https://x.test/"}\n    expect: {action: approve, approval: {risk: extreme}}', /approval.risk must be low, medium, high or critical/],
    ['cases:\n  - name: a\n    request: {method: GET, url: "https://x.test/"}\n    expect: {action: allow}\n  - name: a\n    request: {method: GET, url: "https://x.test/"}\n    expect: {action: allow}', /two cases are named "a"/],
    ['cases: [\n', /^f\.yaml:2:1: Flow sequence/],
    ['cases:\n  - name: a\n    description: {request: {method: GET, host: x.test}, agent: {id: a}}\n    expect: {action: allow}', /description.request.time must be an RFC 3339 time/],
  ];
  for (const [text, re] of bad) t.throws(() => parseTrafficTests(text, 'f.yaml'), re, text.split('\n').at(-1) ?? text);
});

t.test('cases are described like live traffic, placeholders included', async (t) => {
  await prepareCases();
  const file = parseTrafficTests(passing, 'github.yaml');
  const p = prepareCase(file, file.cases[0]!, 0);
  t.ok(p.ok);
  if (!p.ok) return;
  t.equal(p.input.agent.id, 'coder');
  t.equal(p.input.request.time, '2026-01-05T10:00:00.000Z', 'a fixed default time keeps tests deterministic');
  t.same(p.input.placeholders, [{ name: 'github_token', where: ['header'] }]);
  t.same(p.input.request.headers.authorization, ['Bearer [redacted]']);
  t.match(p.input.service, { name: 'github', operation: 'repos.get' });
  const q = prepareCase(file, file.cases[2]!, 2);
  t.ok(q.ok && q.input.placeholders.some((u) => u.name === 'stripe_key' && u.where.includes('query')));
  t.match(testPlaceholder('x'), /^airlock-ph-x-/);
});

t.test('expectations compared field by field; expectationOf round-trips', async (t) => {
  const d = {
    action: 'approve' as const, reason: 'r', rule: 'x',
    credentials: [{ secret: 'b', in: 'header' as const, name: 'authorization' }, { secret: 'a', in: 'query' as const, name: 'k' }],
    rate_limits: [{ key: 'k1', limit: 1, window: '1h' }],
    approval: { risk: 'high' as const, step_up: false },
  };
  t.same(compareExpectation(expectationOf(d), d), []);
  t.same(compareExpectation({ action: 'approve', credentials: ['a', 'b', 'a'] }, d), [], 'sets, not lists');
  t.same(compareExpectation({ action: 'deny', rule: 'y', credentials: ['a'], rate_limits: [], approval: { risk: 'critical', step_up: true } }, d), [
    'action: expected deny, got approve',
    'rule: expected y, got x',
    'credentials: expected [a], got [a, b]',
    'rate_limits: expected [], got [k1]',
    'approval.risk: expected critical, got high',
    'approval.step_up: expected true, got false',
  ]);
});

t.test('runTrafficTests: pass, fail, and a file that does not load', async (t) => {
  const dir = t.testdir({ 'ok.yaml': passing, 'bad.yaml': failing, 'broken.json': '{"cases": [', policy: { 'policy.rego': policy } });
  const engine = await openPolicy(path.join(dir, 'policy'));
  t.teardown(() => engine.close());
  const s = await runTrafficTests(engine, ['ok.yaml', 'bad.yaml', 'broken.json'].map((f) => path.join(dir, f)));
  t.equal(s.passed, 4);
  t.equal(s.failed, 3);
  t.equal(s.fileErrors.length, 1);
  t.match(s.fileErrors[0]!.error, /broken.json/);
  const bad = s.results.filter((r) => !r.passed);
  t.same(bad.map((r) => r.name), ['delete expected to be allowed', 'wrong risk']);
  t.same(bad[0]!.problems, ['action: expected allow, got approve', 'rule: expected github.read, got github.delete']);
  t.equal(bad[0]!.input?.agent.id, 'ops', 'the case agent wins over the file default');
});

t.test('airlock test: CI output and exit codes', async (t) => {
  const dir = t.testdir({
    policy: { 'policy.rego': policy, 'policy_test.rego': regoTests },
    tests: { 'github.yaml': passing },
    failing: { 'bad.yaml': failing },
    badrego: { 'policy.rego': policy, 'policy_test.rego': regoTests.replace('"allow"', '"deny"') },
    nocompile: { 'policy.rego': 'package airlock\n\nimport rego.v1\n\ndecision := {' },
  });
  const ok = airlock(['test', '--policy', path.join(dir, 'policy'), path.join(dir, 'tests')]);
  t.equal(ok.code, 0, ok.stdout + ok.stderr);
  t.match(ok.stdout, /opa test .*: 1 passed, 0 failed/);
  t.equal(ok.stdout.trim().split('\n').at(-1), '4 passed, 0 failed', 'ends with the plain summary line');

  const bad = airlock(['test', '--no-rego', '--policy', path.join(dir, 'policy'), path.join(dir, 'tests'), path.join(dir, 'failing', 'bad.yaml')]);
  t.equal(bad.code, 1);
  t.match(bad.stdout, /FAIL .*bad\.yaml › delete expected to be allowed\n {2}request: {2}DELETE https:\/\/api\.github\.com\/repos\/acme\/widgets.*\n {2}expected: allow rule github\.read\n {2}actual: {3}approve \(critical\) rule github\.delete: deleting a repository/);
  t.match(bad.stdout, /approval\.risk: expected high, got critical/);
  t.equal(bad.stdout.trim().split('\n').at(-1), '4 passed, 2 failed');
  t.notMatch(bad.stdout, /opa test/, '--no-rego skips the Rego tests');

  const rego = airlock(['test', '--policy', path.join(dir, 'badrego'), path.join(dir, 'tests')]);
  t.equal(rego.code, 1);
  t.match(rego.stdout, /FAIL \S*policy_test\.rego:\d+ data\.airlock_test\.test_get_allowed: failed/);
  t.equal(rego.stdout.trim().split('\n').at(-1), '3 passed, 1 failed');

  const broken = airlock(['test', '--policy', path.join(dir, 'nocompile'), '--no-rego', path.join(dir, 'tests')]);
  t.equal(broken.code, 1);
  t.match(broken.stdout, /does not compile/);
  t.equal(broken.stdout.trim().split('\n').at(-1), '0 passed, 1 failed');

  const missing = airlock(['test', '--no-rego', '--policy', path.join(dir, 'policy'), path.join(dir, 'nope.yaml')]);
  t.equal(missing.code, 1);
  t.match(missing.stdout, /nope\.yaml: no such file or folder/);
});

t.test('exported tests (description form) run as they are', async (t) => {
  const file = parseTrafficTests(passing, 'github.yaml');
  const p = prepareCase(file, file.cases[1]!, 1);
  if (!p.ok) throw new Error(p.error);
  const exported = YAML.stringify({ cases: [{ name: 'exported', description: p.input, expect: { action: 'approve', approval: { risk: 'critical' } } }] });
  const loaded = parseTrafficTests(exported, 'exported.yaml');
  const dir = t.testdir({ 'exported.yaml': exported, policy: { 'policy.rego': policy } });
  const engine = await openPolicy(path.join(dir, 'policy'));
  t.teardown(() => engine.close());
  const s = await runTrafficTests(engine, [path.join(dir, 'exported.yaml')]);
  t.equal(loaded.cases.length, 1);
  t.equal(s.passed, 1, JSON.stringify(s.results[0]?.problems));
});
