// A reload loads the new bundle into the evaluation threads that run: no thread is started, every
// thread swaps between two evaluations or none does, an evaluation already handed to a thread
// finishes on the old bundle, and a bundle that cannot be loaded leaves the old one live (and its
// version reported). A thread replaced after a timeout starts on the bundle current then.
import t from 'tap';
import { PolicyEngine } from '../../engine/engine.ts';
import { compilePolicy } from '../../engine/compile.ts';
import type { RequestDescription } from '../../describe/types.ts';

const policy = (reason: string): string => `package airlock

import rego.v1

default decision := {"action": "allow", "reason": "${reason}"}

decision := {"action": "allow", "reason": "${reason} slow"} if {
\tinput.request.method == "POST"
\tcount([x | some i in numbers.range(1, input.n); some j in numbers.range(1, input.n); x := i * j]) > 0
}
`;

/** A POST costs n² steps of the policy. */
const input = (method: string, agent = 'a', n = 200): RequestDescription =>
  ({ request: { time: '2026-01-01T00:00:00Z', method }, agent: { id: agent, labels: {} }, n }) as unknown as RequestDescription;

/** Counts threads the process starts from now on (Node emits 'worker' for each new Worker). */
function threadCounter(t: { teardown: (fn: () => void) => void }): () => number {
  let n = 0;
  const on = (): void => void n++;
  process.on('worker', on);
  t.teardown(() => void process.off('worker', on));
  return () => n;
}

t.test('reloads swap the policy in every thread without starting one; a bad bundle leaves the old one live', async (t) => {
  const engine = new PolicyEngine({ mode: 'isolated', threads: 2, timeoutMs: 60_000, limits: { memoryBytes: 1024 * 1024 * 1024 } });
  t.teardown(() => engine.close());
  const dir = t.testdir({ v1: { 'p.rego': policy('v1') }, v2: { 'p.rego': policy('v2') }, v3: { 'p.rego': policy('v3') } });
  const v1 = await engine.loadFolder(`${dir}/v1`);
  const started = threadCounter(t);

  const v2 = await compilePolicy(`${dir}/v2`);
  // Handed to a thread before the reload is asked for: it finishes on v1 and says so.
  const inFlight = engine.decide(input('POST'));
  const versions: string[] = [];
  engine.onReload((v) => versions.push(v));
  await engine.load(v2);
  const before = await inFlight;
  t.match(before, { action: 'allow', reason: 'v1 slow', policy_version: v1.version }, 'the evaluation in flight finished on the old policy');
  t.equal(engine.version, v2.version);
  t.same(versions, [v2.version]);
  // Enough at once that both threads answer.
  const after = await Promise.all(Array.from({ length: 8 }, (_, i) => engine.decide(input('GET', `agent${i}`))));
  for (const d of after) t.match(d, { action: 'allow', reason: 'v2', policy_version: v2.version });
  t.equal(started(), 0, 'no thread was started by the reload');

  // Bytes that are not WebAssembly, and a module that compiles but lacks the policy's exports.
  const emptyModule = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  for (const [what, wasm] of [['not WebAssembly', Buffer.from([1, 2, 3, 4])], ['not a policy', emptyModule]] as const) {
    await t.rejects(engine.load({ ...v2, wasm, version: `bad-${what}` }), `a bundle that is ${what} is refused`);
    t.equal(engine.version, v2.version, 'the version reported stays the old one');
    const ds = await Promise.all(Array.from({ length: 8 }, (_, i) => engine.decide(input('GET', `agent${i}`))));
    for (const d of ds) t.match(d, { action: 'allow', reason: 'v2', policy_version: v2.version }, 'every thread still runs the old policy');
  }
  t.same(versions, [v2.version], 'a refused bundle is not announced');

  // A good bundle after refused ones loads as usual.
  const v3 = await engine.loadFolder(`${dir}/v3`);
  const ds = await Promise.all(Array.from({ length: 8 }, (_, i) => engine.decide(input('GET', `agent${i}`))));
  for (const d of ds) t.match(d, { reason: 'v3', policy_version: v3.version });
  t.equal(started(), 0, 'still no thread started');
});

t.test('a thread replaced after a timeout starts on the policy current then', async (t) => {
  const engine = new PolicyEngine({ mode: 'isolated', threads: 1, timeoutMs: 50, limits: { memoryBytes: 1024 * 1024 * 1024 } });
  t.teardown(() => engine.close());
  const dir = t.testdir({ v1: { 'p.rego': policy('v1') }, v2: { 'p.rego': policy('v2') } });
  await engine.loadFolder(`${dir}/v1`);
  const v2 = await engine.loadFolder(`${dir}/v2`);
  const started = threadCounter(t);
  const runaway = await engine.decide(input('POST', 'a', 3000));
  t.match(runaway, { action: 'deny', fail_closed: 'timeout' });
  const next = await engine.decide(input('GET'));
  t.match(next, { action: 'allow', reason: 'v2', policy_version: v2.version }, 'the replacement thread runs the current policy');
  t.equal(started(), 1, 'one thread replaced the one ended');
});

t.test('closing the engine during a reload ends the reload at once', { timeout: 20_000 }, async (t) => {
  const engine = new PolicyEngine({ mode: 'isolated', threads: 1, timeoutMs: 60_000 });
  const dir = t.testdir({ v1: { 'p.rego': policy('v1') }, v2: { 'p.rego': policy('v2') } });
  await engine.loadFolder(`${dir}/v1`);
  const v2 = await compilePolicy(`${dir}/v2`);
  // The thread is busy, so the reload waits behind this evaluation when the engine closes.
  const busy = engine.decide(input('POST', 'a', 400));
  const reload = engine.load(v2);
  await new Promise((r) => setImmediate(r)); // the thread has been asked to load v2
  await engine.close();
  // Otherwise it would wait out its deadline (30 s, past this test's bound).
  await t.rejects(reload, /closed/);
  t.match(await busy, { action: 'deny', fail_closed: 'no-policy' });
});
