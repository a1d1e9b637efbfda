// An unbound placeholder or secret value is refused before anyone is asked to approve the request:
// a human must never be shown (and tempted to approve) a request that could only be refused.
import t from 'tap';
import path from 'node:path';
import type { ApprovalQueue } from '../../state/approvals.ts';
import { startTestAirlock, startUpstream, viaProxy } from '../attacks/helpers.ts';

const up = await startUpstream(t);
const a = await startTestAirlock(t, {
  policy: path.resolve('test/secrets/fixtures/approve-all'),
  secrets: { stripe_key: 'sk_live_guardordercanary0001' },
  resolve: ['api.example.com=127.0.0.1'],
  allowPrivate: [`127.0.0.1:${up.port}`],
});
const queue = (a.airlock as unknown as { approvals: ApprovalQueue }).approvals;

for (const [what, headers] of [
  ['placeholder', { authorization: `Bearer ${a.placeholders.stripe_key}` }],
  ['real value', { authorization: 'Bearer sk_live_guardordercanary0001' }],
] as const) {
  t.test(`an unbound ${what} under an approve decision is refused at once, with no approval created`, async (t) => {
    const before = queue.list().length;
    const r = await viaProxy(a.port, `http://api.example.com:${up.port}/v1/charges`, { auth: a.auth, headers });
    t.equal(r.status, 403);
    t.match(JSON.parse(r.body), { type: /not-bound/ });
    t.equal(queue.list().length, before, 'nobody was asked');
    t.equal(up.received.length, 0, 'the upstream received nothing');
  });
}
