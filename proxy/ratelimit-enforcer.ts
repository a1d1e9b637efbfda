// Charges the decision's `rate_limits` before a request is forwarded. When any bucket is short the
// request does not leave: 429 problem+json with Retry-After (RFC 9110 §10.2.3) and `retry_after`.
// Runs after the approval enforcer, so a held request is charged only once a human said yes.
import { RateLimitError, RateLimiter } from '../engine/ratelimit.ts';
import type { Enforcer, Rejection, RequestContext } from './enforcers.ts';
import type { AirlockParts } from './runtime.ts';

export function rateLimitEnforcer(limiter: Pick<RateLimiter, 'charge'>): Enforcer {
  return {
    name: 'rate-limits',
    beforeForward(ctx: RequestContext): Rejection | undefined {
      const directives = ctx.decision.rate_limits;
      if (!directives?.length) return undefined;
      let result;
      try {
        result = limiter.charge(directives, ctx.description);
      } catch (err) {
        // A directive the limiter cannot apply fails closed (the contract check should prevent it).
        if (!(err instanceof RateLimitError)) throw err;
        return { status: 403, type: 'policy-invalid', title: 'Invalid rate limit in decision', detail: err.message, outcome: 'denied' };
      }
      if (result.ok) {
        ctx.audit.rate_limits = result.charged.map((c) => ({ key: c.key, unit: c.unit, cost: c.cost, remaining: c.remaining }));
        return undefined;
      }
      const keys = result.short.map((s) => `${s.key}${s.unit === 'egress_bytes' ? ' (egress bytes)' : ''}`).join(', ');
      ctx.audit.rate_limited = result.short.map((s) => ({ key: s.key, unit: s.unit, cost: s.cost, available: s.remaining, limit: s.limit }));
      return {
        status: 429,
        type: 'rate-limited',
        title: 'Rate limit exceeded',
        detail: result.impossible
          ? `this request costs more than the whole budget of ${keys}; it can never pass as is`
          : `rate limit ${keys} exhausted; retry after ${result.retryAfter} s`,
        headers: { 'retry-after': String(result.retryAfter) },
        extra: {
          retry_after: result.retryAfter,
          limits: result.short.map((s) => ({ key: s.key, unit: s.unit, limit: s.limit, cost: s.cost, available: s.remaining })),
        },
        outcome: 'rate-limited',
      };
    },
  };
}

/** Builds the limiter of a running Airlock (state in <home>/ratelimits.json), exposed as `parts.limiter`. */
export async function rateLimitPart(parts: AirlockParts): Promise<Enforcer> {
  const limiter = await RateLimiter.open(parts.home);
  (parts as AirlockParts & { limiter?: RateLimiter }).limiter = limiter;
  parts.onClose.push(() => limiter.close());
  return rateLimitEnforcer(limiter);
}
