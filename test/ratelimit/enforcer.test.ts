// The rate-limit enforcer: charges on allow, 429 problem fields and Retry-After when short,
// an impossible cost said plainly, an invalid directive fails closed, nothing charged when refused.
import t from 'tap';
import { BucketTable, RateLimiter } from '../../state/ratelimit.ts';
import type { RequestDescription } from '../../describe/types.ts';
import type { EngineDecision } from '../../engine/decision.ts';
import type { RequestContext } from '../../proxy/enforcers.ts';
import { rateLimitEnforcer } from '../../proxy/ratelimit-enforcer.ts';

function ctx(decision: Partial<EngineDecision>, egress = 100): RequestContext {
  return {
    description: { request: { egress_bytes: egress } } as RequestDescription,
    decision: { action: 'allow', reason: 'ok', policy_version: 'v', decision_us: 1, ...decision },
    outgoing: { method: 'GET', url: new URL('http://x.example/'), headers: [], bodyTransforms: [] },
    audit: {},
    signal: new AbortController().signal,
  };
}

t.test('charges, then refuses with 429 and Retry-After', async (t) => {
  let now = 0;
  const limiter = await RateLimiter.open(undefined, { now: () => now });
  const e = rateLimitEnforcer(limiter);
  const rl = [{ key: 'k', limit: 2, window: '10s' }];
  const c1 = ctx({ rate_limits: rl });
  t.equal(e.beforeForward!(c1), undefined);
  t.same(c1.audit.rate_limits, [{ key: 'k', unit: 'requests', cost: 1, remaining: 1 }]);
  t.equal(e.beforeForward!(ctx({ rate_limits: rl })), undefined);
  const r = e.beforeForward!(ctx({ rate_limits: rl })) as Exclude<ReturnType<NonNullable<typeof e.beforeForward>>, Promise<unknown>>;
  t.match(r, { status: 429, type: 'rate-limited', outcome: 'rate-limited', headers: { 'retry-after': '5' }, extra: { retry_after: 5 } });
  t.match(r!.detail, /rate limit k exhausted; retry after 5 s/);
  now += 5000;
  t.equal(e.beforeForward!(ctx({ rate_limits: rl })), undefined, 'after Retry-After it passes');
  t.equal(e.beforeForward!(ctx({})), undefined, 'a decision without rate_limits is not charged');
  await limiter.close();
});

t.test('impossible costs and invalid directives', async (t) => {
  const table = new BucketTable(() => 0);
  const e = rateLimitEnforcer(table);
  const big = e.beforeForward!(ctx({ rate_limits: [{ key: 'b', limit: 50, window: '1m', unit: 'egress_bytes' }] }, 51));
  t.match(big, { status: 429, headers: { 'retry-after': '60' } });
  t.match((big as { detail: string }).detail, /costs more than the whole budget of b \(egress bytes\)/);
  const bad = e.beforeForward!(ctx({ rate_limits: [{ key: 'z', limit: 5, window: '0s' }] }));
  t.match(bad, { status: 403, outcome: 'denied' }, 'a directive the limiter cannot apply fails closed');
  t.equal(table.size, 0, 'nothing was charged');
});
