// Policy failure: a policy that errors, returns nothing, returns two conflicting decisions, runs
// past its time budget, or answers with an action that does not exist. Through the real proxy,
// every one must deny (403 problem+json), record why in the audit log, and forward nothing.
import t from 'tap';
import path from 'node:path';
import { compilePolicy } from '../../engine/compile.ts';
import { eventually, fixtures, isProblem, startTestAirlock, startUpstream, viaProxy } from './helpers.ts';

// One Airlock; each broken policy is published into it in turn (engine.loadFolder, what a policy
// reload does), so the proxy under test is the same long-running one a user has.
const up = await startUpstream(t);
// The evaluation budget is set here, not inherited: policy-loop must outrun the time budget well
// before it could exhaust the evaluation's memory budget.
const a = await startTestAirlock(t, { policy: 'strict', resolve: ['allowed.example=127.0.0.1'], allowPrivate: [`127.0.0.1:${up.port}`], evalTimeoutMs: 100 });

const failures: Array<[policy: string, failClosed: string]> = [
  ['policy-error', 'error'],
  ['policy-undefined', 'undefined'],
  ['policy-conflict', 'conflict'],
  ['policy-loop', 'timeout'],
  ['policy-unknown-action', 'invalid'],
];

// Compiled up front, side by side (opa build is the slow part), then loaded one at a time.
const compiled = new Map(await Promise.all(failures.map(async ([policy]) => [policy, await compilePolicy(path.join(fixtures, policy))] as const)));

t.test('control: the strict policy forwards allowed.example', async (t) => {
  const r = await viaProxy(a.port, `http://allowed.example:${up.port}/ok`, { auth: a.auth });
  t.equal(r.status, 200);
  t.equal(up.received.length, 1);
});

for (const [policy, failClosed] of failures) {
  t.test(`${policy}: denies, says why, forwards nothing`, async (t) => {
    await a.airlock.engine.load(compiled.get(policy)!);
    const mark = a.records.length;
    const before = up.received.length;
    const r = await viaProxy(a.port, `http://allowed.example:${up.port}/2026-01-01T00:00:00Z`, { auth: a.auth });
    t.equal(r.status, 403, 'denied');
    t.ok(isProblem(r), 'problem+json');
    t.match(JSON.parse(r.body), { type: /policy-denied/ });
    // A second request on the same proxy: the failure is not a one-off and nothing is cached as allow.
    const again = await viaProxy(a.port, `http://allowed.example:${up.port}/again`, { auth: a.auth, method: 'POST', body: 'x' });
    t.equal(again.status, 403, 'the next request is denied too');
    t.equal(up.received.length, before, 'the upstream received nothing');
    await eventually(() => a.records.length >= mark + 2);
    const rec = a.records[mark];
    t.equal(rec?.decision?.action, 'deny');
    t.equal(rec?.decision?.fail_closed, failClosed, `the audit record says fail_closed=${failClosed}`);
    t.equal(rec?.outcome, 'denied');
  });
}
