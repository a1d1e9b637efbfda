// Every way a policy can fail must end in a deny that says why (DESIGN: "Airlock fails closed").
import t from 'tap';
import { PolicyEngine } from '../../engine/engine.ts';
import { compilePolicy } from '../../engine/compile.ts';
import type { RequestDescription } from '../../describe/types.ts';

const header = 'package airlock\n\nimport rego.v1\n\n';

function input(over: Partial<RequestDescription['request']> = {}): RequestDescription {
  return {
    request: {
      id: 'r1', time: '2026-01-02T03:04:05Z', method: 'GET', url: 'https://api.example.com/x', scheme: 'https',
      host: 'api.example.com', port: 443, path: '/x', segments: ['x'], query: {}, headers: {},
      body: { size: 0, sha256: '', content_type: '', truncated: false }, egress_bytes: 2, ...over,
    },
    agent: { id: 'agent-1', labels: {} },
    placeholders: [],
    grants: [],
  };
}

const samplePolicy = `${header}default decision := {"action": "deny", "reason": "not allowed", "rule": "default"}

decision := {"action": "allow", "reason": "reads are fine", "rule": "read"} if input.request.method == "GET"

decision := {
\t"action": "approve", "reason": "writes need a human", "rule": "write",
\t"approval": {"risk": "high", "timeout": "2m"},
\t"credentials": [{"secret": "gh", "in": "header", "name": "authorization", "format": "Bearer {}"}],
\t"rate_limits": [{"key": concat(":", ["w", input.agent.id]), "limit": 10, "window": "1h"}],
} if input.request.method == "POST"
`;

for (const mode of ['inline', 'isolated'] as const) {
  t.test(`${mode}: decisions of a sample policy`, async (t) => {
    const engine = new PolicyEngine({ mode, threads: 1 });
    t.teardown(() => engine.close());
    const compiled = await engine.loadFolder(t.testdir({ 'p.rego': samplePolicy }));
    const get = await engine.decide(input());
    t.match(get, { action: 'allow', rule: 'read', policy_version: compiled.version });
    t.notOk(get.fail_closed);
    t.type(get.decision_us, 'number');
    t.match(await engine.decide(input({ method: 'POST' })), {
      action: 'approve', approval: { risk: 'high' },
      credentials: [{ secret: 'gh', in: 'header', name: 'authorization' }],
      rate_limits: [{ key: 'w:agent-1', limit: 10 }],
    });
    t.match(await engine.decide(input({ method: 'DELETE' })), { action: 'deny', rule: 'default' });
  });
}

const failing: Array<[string, string, RegExp, string]> = [
  ['undefined decision', `${header}decision := {"action": "allow", "reason": "x"} if input.nope`, /no decision/, 'undefined'],
  ['conflicting decisions', `${header}decision := {"action": "allow", "reason": "a"} if input.request.method == "GET"\n\ndecision := {"action": "deny", "reason": "b"} if input.agent.id == "agent-1"\n`, /conflicting/, 'conflict'],
  ['unknown action', `${header}decision := {"action": "maybe", "reason": "x"}`, /must be one of allow, deny, approve/, 'invalid'],
  ['missing reason', `${header}decision := {"action": "allow"}`, /must have required property 'reason'/, 'invalid'],
  ['wrong type', `${header}decision := {"action": "allow", "reason": 42}`, /\/reason must be string/, 'invalid'],
  ['unknown field', `${header}decision := {"action": "allow", "reason": "x", "sudo": true}`, /unknown field "sudo"/, 'invalid'],
  ['bad credential directive', `${header}decision := {"action": "allow", "reason": "x", "credentials": [{"secret": "gh", "in": "header"}]}`, /name/, 'invalid'],
  ['not an object', `${header}decision := "allow"`, /must be object/, 'invalid'],
  // (A builtin's error is no evaluation error: its expression is undefined, as under `opa eval`.)
  ['builtin error', `${header}decision := {"action": "allow", "reason": "x"} if time.parse_rfc3339_ns("yesterday") > 0`, /no decision/, 'undefined'],
  ['evaluation error', `${header}decision := {"action": "allow", "reason": "x"} if count(numbers.range(1, 1000000)) > 0`, /evaluation failed: .*malloc/, 'error'],
];

for (const [name, policy, reason, kind] of failing) {
  t.test(`fails closed: ${name}`, async (t) => {
    // A small memory budget: the evaluation error is the policy outgrowing it.
    const engine = new PolicyEngine({ mode: 'inline', limits: { memoryBytes: 4 * 1024 * 1024 } });
    await engine.loadFolder(t.testdir({ 'p.rego': policy }));
    const d = await engine.decide(input());
    t.equal(d.action, 'deny');
    t.equal(d.fail_closed, kind);
    t.equal(d.rule, `airlock.fail_closed.${kind}`);
    t.match(d.reason, reason);
  });
}

t.test('fails closed: no policy loaded', async (t) => {
  const d = await new PolicyEngine({ mode: 'inline' }).decide(input());
  t.match(d, { action: 'deny', fail_closed: 'no-policy', policy_version: 'none' });
});

// A policy that burns CPU far past the budget: the isolated engine kills the thread and denies,
// then keeps serving with a fresh thread.
const slowPolicy = `${header}default decision := {"action": "allow", "reason": "fast path"}

decision := {"action": "allow", "reason": "slow"} if {
\tinput.request.method == "POST"
\tcount([x | some i in numbers.range(1, 3000); some j in numbers.range(1, 3000); x := i * j]) > 0
}
`;

t.test('fails closed: evaluation over its time budget (isolated: thread killed)', async (t) => {
  const engine = new PolicyEngine({ mode: 'isolated', timeoutMs: 50, threads: 1, limits: { memoryBytes: 1024 * 1024 * 1024 } });
  t.teardown(() => engine.close());
  await engine.loadFolder(t.testdir({ 'p.rego': slowPolicy }));
  const d = await engine.decide(input({ method: 'POST' }));
  t.match(d, { action: 'deny', fail_closed: 'timeout', reason: /time budget of 50 ms/ });
  t.match(await engine.decide(input()), { action: 'allow', reason: 'fast path' }, 'a fresh thread serves the next request');
});

t.test('fails closed: evaluation over its time budget (inline: measured in this thread\'s CPU time)', async (t) => {
  // A budget of 10 ms: the work below ran 61–148 ms of CPU here (the fast path 0.1–0.3 ms), and at 50 ms one full run came in under it.
  const engine = new PolicyEngine({ mode: 'inline', timeoutMs: 10, limits: { memoryBytes: 1024 * 1024 * 1024 } });
  // A hundredth of the isolated test's work (90,000 products): inline evaluations run to the end before they are judged.
  await engine.loadFolder(t.testdir({ 'p.rego': slowPolicy.replaceAll('numbers.range(1, 3000)', 'numbers.range(1, 300)') }));
  t.match(await engine.decide(input({ method: 'POST' })), { action: 'deny', fail_closed: 'timeout', reason: /time budget of 10 ms/ }, 'the runaway evaluation is denied after it ends');
  t.match(await engine.decide(input()), { action: 'allow', reason: 'fast path' });
});

t.test('fails closed: evaluation over its memory budget', async (t) => {
  const engine = new PolicyEngine({ mode: 'inline', timeoutMs: 60_000, limits: { memoryBytes: 8 * 1024 * 1024 } });
  await engine.loadFolder(t.testdir({ 'p.rego': slowPolicy }));
  const d = await engine.decide(input({ method: 'POST' }));
  t.equal(d.action, 'deny');
  t.equal(d.fail_closed, 'error');
});

t.test('a policy needing a builtin Airlock lacks is refused at load; the old policy stays live', async (t) => {
  const engine = new PolicyEngine({ mode: 'inline' });
  const good = await engine.loadFolder(t.testdir({ 'p.rego': samplePolicy }));
  const bad = t.testdir({ 'p.rego': `${header}decision := {"action": "allow", "reason": x} if x := http.send({"method": "GET", "url": "http://x"}).body` });
  await t.rejects(engine.loadFolder(bad), /does not provide: http\.send/);
  t.equal(engine.version, good.version);
  t.equal((await engine.decide(input())).action, 'allow');
});

// Decisions already handed to a thread finish on the old bundle; those still waiting in the
// engine's queue when the threads swap run on the new one. Either way a decision is made wholly by
// one bundle and names it.
t.test('hot reload: atomic swap, in-flight decisions finish on the old bundle', async (t) => {
  const engine = new PolicyEngine({ mode: 'isolated', threads: 2 });
  t.teardown(() => engine.close());
  const a = await engine.loadFolder(t.testdir({ 'p.rego': `${header}decision := {"action": "allow", "reason": "version A"}\n` }));
  const b = await compilePolicy(t.testdir({ 'p.rego': `${header}decision := {"action": "deny", "reason": "version B"}\n` }));
  const seen: string[] = [];
  engine.onReload((v) => seen.push(v));
  const inflight = Array.from({ length: 200 }, () => engine.decide(input()));
  await engine.load(b);
  const after = await Promise.all(Array.from({ length: 20 }, () => engine.decide(input())));
  const before = await Promise.all(inflight);
  const onA = (d: (typeof before)[number]): boolean => d.action === 'allow' && d.policy_version === a.version && d.reason === 'version A';
  const onB = (d: (typeof before)[number]): boolean => d.action === 'deny' && d.policy_version === b.version && d.reason === 'version B';
  t.ok(onA(before[0]!), 'the first, handed to a thread before the swap, finished on A');
  t.ok(before.every((d) => onA(d) || onB(d)), 'each decision was made by the bundle it names');
  const firstB = before.findIndex(onB);
  t.ok(firstB === -1 || before.slice(firstB).every(onB), 'none started on A after one ran on B');
  t.ok(after.every((d) => d.action === 'deny' && d.policy_version === b.version), 'later decisions use B');
  t.same(seen, [b.version]);
});

t.test('replay: time builtins see the captured request time', async (t) => {
  const engine = new PolicyEngine({ mode: 'inline' });
  await engine.loadFolder(t.testdir({
    'p.rego': `${header}default decision := {"action": "deny", "reason": "outside office hours"}

decision := {"action": "allow", "reason": sprintf("it is %d:00 on %s", [h, day])} if {
\t[h, _, _] := time.clock(time.now_ns())
\tday := time.weekday(time.now_ns())
\th >= 9
\th < 17
}
`,
  }));
  const req = input({ time: '2026-03-04T10:30:00Z' });
  const a = await engine.decide(req, { replay: true });
  const b = await engine.decide(req, { replay: true });
  t.match(a, { action: 'allow', reason: 'it is 10:00 on Wednesday' });
  t.same({ ...a, decision_us: 0 }, { ...b, decision_us: 0 }, 'deterministic');
  t.match(await engine.decide(input({ time: '2026-03-04T22:00:00.123456789Z' }), { replay: true }), { action: 'deny' });
});

for (const mode of ['inline', 'isolated'] as const) {
  t.test(`${mode}: a caller holding the description's text has it evaluated as is`, async (t) => {
    const engine = new PolicyEngine({ mode, threads: 1 });
    t.teardown(() => engine.close());
    await engine.loadFolder(t.testdir({
      'p.rego': `${header}decision := {"action": "allow", "reason": input.agent.id}\n`,
    }));
    const req = input();
    t.match(await engine.decide(req), { action: 'allow', reason: 'agent-1' });
    const text = JSON.stringify(req).replace('"id":"agent-1"', '"id":"as-written"');
    t.match(await engine.decide(req, { inputJson: text }), { action: 'allow', reason: 'as-written' }, 'the text, not a serialization of the object');
  });
}

t.test('an isolated engine holds the process only while it works', async (t) => {
  const { execFile } = await import('node:child_process');
  const path = await import('node:path');
  const dir = t.testdir({
    policy: { 'p.rego': `${header}decision := {"action": "allow", "reason": "ok"}\n` },
    'main.mts': `import { PolicyEngine } from ${JSON.stringify(path.resolve('engine/engine.ts'))};
const e = new PolicyEngine({ mode: 'isolated', threads: 1 });
await e.loadFolder(process.argv[2]);
const d = await e.decide({ request: { time: '2026-01-01T00:00:00Z' } });
console.log(d.action); // then end without closing the engine
`,
  });
  // env -u: tap's process hooks must not ride along into the child.
  const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
    execFile('env', ['-u', 'NODE_OPTIONS', process.execPath, 'bin/run-ts.js', path.join(dir, 'main.mts'), path.join(dir, 'policy')], { timeout: 30_000 },
      (err, stdout) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout }));
  });
  t.equal(r.out.trim(), 'allow', 'the evaluation in flight kept the process alive until it answered');
  t.equal(r.code, 0, 'an idle, unclosed engine let the process exit (no timeout kill)');
});
