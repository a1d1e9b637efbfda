// The approval enforcer without sockets: grants offered to the policy, the header stripped on every
// request, holds resolved by approve/deny/timeout/abort, the backlog cap, retries.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { ApprovalQueue, requestHash } from '../../state/approvals.ts';
import type { RequestDescription } from '../../describe/types.ts';
import type { EngineDecision } from '../../engine/decision.ts';
import { approvalEnforcer, HOLDS_PER_APPROVAL, leavesApproval } from '../../proxy/approval-enforcer.ts';
import type { Rejection, RequestContext } from '../../proxy/enforcers.ts';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'al-enf-'));
t.teardown(() => fs.rmSync(home, { recursive: true, force: true, maxRetries: 10 }));
const queue = await ApprovalQueue.open(home, { sweepMs: 0, maxPendingPerAgent: 3 });
t.teardown(() => queue.close());
const e = approvalEnforcer(queue);

function description(p = '/v1/send', agent = 'bot'): RequestDescription {
  return {
    request: {
      id: 'r', time: new Date().toISOString(), method: 'POST', url: `https://mail.example${p}`, scheme: 'https', host: 'mail.example', port: 443,
      path: p, segments: [], query: {}, headers: {}, body: { size: 2, sha256: 'abc', content_type: 'application/json', truncated: false }, egress_bytes: 2,
    },
    agent: { id: agent, labels: {} }, placeholders: [], grants: [],
  };
}

function ctx(d: RequestDescription, decision: Partial<EngineDecision>, headers: Array<[string, string]> = [], signal = new AbortController().signal): RequestContext {
  return {
    description: d,
    decision: { action: 'approve', reason: 'needs a human', rule: 'r', approval: { risk: 'high', timeout: '10s' }, policy_version: 'v', decision_us: 1, ...decision },
    outgoing: { method: 'POST', url: new URL(d.request.url), headers: [['content-type', 'application/json'], ...headers], bodyTransforms: [] },
    audit: {},
    signal,
  };
}

async function pendingFor(p: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const a = queue.list({ status: 'pending' }).find((x) => x.summary.path === p && queue.isHeld(x.id));
    if (a) return a.id;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('no held approval');
}

t.test('allow decisions pass untouched except for the stripped header', async (t) => {
  const c = ctx(description(), { action: 'allow' }, [['Airlock-Approval', 'ap_x']]);
  t.equal(await e.beforeForward!(c), undefined);
  t.same(c.outgoing.headers, [['content-type', 'application/json']]);
  t.equal(queue.list().length, 0, 'no approval for an allow');
});

t.test('approve holds until approved; deny carries the message', async (t) => {
  const c1 = ctx(description('/a'), {});
  const held = e.beforeForward!(c1);
  await queue.approve(await pendingFor('/a'), { by: 'api' });
  t.equal(await held, undefined);
  t.match(c1.audit, { approval: 'approved', approved_by: 'api' });

  const c2 = ctx(description('/b'), {});
  const held2 = e.beforeForward!(c2);
  const id = await pendingFor('/b');
  await queue.deny(id, { by: 'api', message: 'no' });
  t.match(await held2, { status: 403, type: 'approval-denied', extra: { approval_id: id, message: 'no' }, outcome: 'approval-denied' });
});

t.test('timeout and abort', async (t) => {
  const r = (await e.beforeForward!(ctx(description('/c'), { approval: { risk: 'low', timeout: 0 } }))) as Rejection;
  t.match(r, { status: 403, type: 'approval-timeout', extra: { retry_header: 'Airlock-Approval' } });
  t.match(r.detail, /Airlock-Approval: ap_/);
  const ac = new AbortController();
  const held = e.beforeForward!(ctx(description('/d'), {}, [], ac.signal));
  await pendingFor('/d');
  ac.abort();
  t.match(await held, { status: 499, outcome: 'client-aborted' });
});

t.test('retries: the header is honoured for the identical request only, and once', async (t) => {
  const timedOut = (await e.beforeForward!(ctx(description('/e'), { approval: { risk: 'low', timeout: 0 } }))) as Rejection;
  const id = timedOut.extra!.approval_id as string;
  await queue.approve(id, { by: 'api' });
  const other = await e.beforeForward!(ctx(description('/e', 'intruder'), {}, [['airlock-approval', id]]));
  t.match(other, { status: 403, type: 'approval-invalid' }, 'another agent cannot use it');
  // Decided again at the approved risk (one decided riskier is refused: approval-binding.test.ts).
  const c = ctx(description('/e'), { approval: { risk: 'low' } }, [['airlock-approval', id]]);
  t.equal(await e.beforeForward!(c), undefined, 'the identical retry passes');
  t.same(c.outgoing.headers, [['content-type', 'application/json']], 'header stripped');
  t.match(c.audit, { approval_id: id, approval: 'approved-retry' });
  t.match(await e.beforeForward!(ctx(description('/e'), { approval: { risk: 'low' } }, [['airlock-approval', id]])), { status: 403, type: 'approval-invalid' });
});

t.test('grants reach the policy through describe', async (t) => {
  const c = ctx(description('/g'), {});
  const held = e.beforeForward!(c);
  await queue.approve(await pendingFor('/g'), { by: 'api', grantMinutes: 5, grantHigh: true });
  await held;
  const d = description('/g');
  await e.describe!(d);
  t.equal(d.grants.length, 1);
  const elsewhere = description('/h');
  await e.describe!(elsewhere);
  t.equal(elsewhere.grants.length, 0);
});

t.test('a backlog of pending approvals is refused with 429', async (t) => {
  for (let i = 0; i < 3; i++) await e.beforeForward!(ctx(description(`/f${i}`, 'flood'), { approval: { risk: 'low', timeout: 0 } }));
  t.match(await e.beforeForward!(ctx(description('/f9', 'flood'), {})), { status: 429, type: 'approvals-backlog', headers: { 'retry-after': '60' } });
});

// Twentieth pass: a retry naming a pending approval was held again with no bound: the held-data
// budget counts each approval's description once, and held requests are not weighed against the
// agent's bound of descriptions, yet each retry keeps its own captured body and parsed description
// (a 1 MiB body of tiny JSON objects: ~9 MiB of heap) until the person answers. One agent's 500
// retries of one held upload were gigabytes. Past two holds of one approval, a retry is refused.
t.test('retries held again on one pending approval are bounded; the first holds and its answer reaches them', async (t) => {
  const c0 = ctx(description('/again', 'repeater'), {});
  const first = e.beforeForward!(c0);
  const id = await pendingFor('/again');
  const answered: Array<Rejection | undefined> = [];
  const holds = Array.from({ length: 12 }, () => Promise.resolve(e.beforeForward!(ctx(description('/again', 'repeater'), {}, [['airlock-approval', id]]))).then((r: Rejection | undefined) => {
    answered.push(r);
    return r;
  }));
  await new Promise((r) => setTimeout(r, 100));
  t.equal(answered.length, 12 + 1 - HOLDS_PER_APPROVAL, `the retries past the bound are answered at once (${answered.length} of 12)`);
  t.ok(answered.every((r) => r?.status === 429 && /already held/.test(r.detail ?? '')), 'with 429, saying why');
  t.equal(queue.get(id).status, 'pending', 'the approval is still pending');
  await queue.deny(id, { by: 'api' });
  t.match(await first, { status: 403, type: 'approval-denied' }, 'the first hold gets the answer');
  const all = await Promise.all(holds);
  t.ok(all.some((r) => r?.type === 'approval-denied'), 'so does the retry held beside it');
});

// Twenty-seventh pass: what stops a released request before anything of it leaves decides whether
// the person's yes is spent. Property over attempts of one approved request (its retries under
// Airlock-Approval), each released and then forwarded or refused by a later step: the approval
// lets exactly one attempt be forwarded; a refusal that says "try again" (a bucket short 429, the
// agent gone 499, a store, the audit log or a name unavailable 5xx) leaves it to the next attempt;
// one saying the approval no longer holds (a newer policy's 403, approval-invalid, a revoked
// token's 407) or a destination refused spends it, as before.
t.test('a refusal after release leaves the approval to the identical retry exactly when it says try again (twenty-seventh pass)', async (t) => {
  const refusals: Array<Pick<Rejection, 'status' | 'type'>> = [
    { status: 429, type: 'rate-limited' }, { status: 499, type: 'client-closed' }, { status: 503, type: 'store-unavailable' }, { status: 502, type: 'upstream-unresolvable' },
    { status: 500, type: 'internal' }, { status: 403, type: 'policy-denied' }, { status: 403, type: 'approval-invalid' }, { status: 403, type: 'destination-blocked' },
    { status: 407, type: 'proxy-auth-required' },
  ];
  const step = fc.oneof(fc.constant<'forward'>('forward'), fc.constantFrom(...refusals));
  let run = 0;
  await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 5 }), async (steps) => {
    const d = description(`/giveback/${run++}`, 'returner');
    const headers: Array<[string, string]> = [['content-type', 'application/json']];
    const a = await queue.create(d, { action: 'approve', reason: 'r', rule: 'r', approval: { risk: 'high' }, policy_version: 'v', decision_us: 1 }, requestHash(d, headers));
    await queue.approve(a.id, { by: 'api' });
    let available = true;
    let forwarded = 0;
    for (const s of steps) {
      const c = ctx(d, {}, [['Airlock-Approval', a.id]]);
      const r = await e.beforeForward!(c);
      if (!available) {
        if (r?.type !== 'approval-invalid' || !/already used/.test(r.detail ?? '')) throw new Error(`a spent approval released an attempt: ${JSON.stringify(r)}`);
        continue;
      }
      if (r !== undefined) throw new Error(`the unused approval did not release its identical retry: ${r.detail}`);
      if (s === 'forward') {
        forwarded++;
        available = false;
        continue;
      }
      await e.onRefused!(c, { ...s, title: s.type, detail: s.type, outcome: s.type });
      available = leavesApproval(s);
      if (Boolean(queue.get(a.id).used_at) === available) throw new Error(`after ${s.status} ${s.type} the approval is ${available ? 'still spent' : 'unused'}`);
    }
    if (forwarded > 1) throw new Error('one approval, two requests forwarded');
  }), { numRuns: 40 });
  t.ok(leavesApproval({ status: 503 }) && leavesApproval({ status: 429 }) && !leavesApproval({ status: 403 }) && !leavesApproval({ status: 407 }));
});
