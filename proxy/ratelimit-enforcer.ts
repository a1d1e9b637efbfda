// Charges the decision's `rate_limits` before a request is forwarded. When any bucket is short the
// request does not leave: 429 problem+json with Retry-After (RFC 9110 §10.2.3) and `retry_after`.
// Runs after the approval enforcer, so a held request is charged only once a human said yes.
//
// Byte budgets (`unit: "egress_bytes"`) are charged twice over: the decision pays for what the
// description counted (path, headers, the body it saw), and a meter pays for every byte that
// leaves after that — a streamed body past the captured prefix, each WebSocket frame to the
// upstream — as it leaves. When the bucket runs dry the meter cuts the stream: the request fails
// as a limit (429 while the agent has no answer yet), never as an upstream error.
import { egressDirectives, RateLimitError, type ChargeResult } from '../state/ratelimit.ts';
import type { RateLimits } from '../state/stores.ts';
import type { EgressMeter, Enforcer, Rejection, RequestContext } from './enforcers.ts';

/** What the enforcer asks of the limiter: charges, answered at once by an in-process limiter. */
type Limiter = Pick<RateLimits, 'charge' | 'chargeEgress' | 'meterEgress'>;

export function rateLimitEnforcer(limiter: Limiter): Enforcer {
  return {
    name: 'rate-limits',
    beforeForward(ctx: RequestContext): Promise<Rejection | undefined> | Rejection | undefined {
      const directives = ctx.decision.rate_limits;
      if (!directives?.length) return undefined;
      const settle = (result: ChargeResult): Rejection | undefined => {
        if (!result.ok) return limited(ctx, result);
        ctx.audit.rate_limits = result.charged.map((c) => ({ key: c.key, unit: c.unit, cost: c.cost, remaining: c.remaining }));
        return undefined;
      };
      try {
        const result = limiter.charge(directives, ctx.description);
        // An in-process limiter answers at once: no promise, no extra turn for the request.
        return result instanceof Promise ? result.then(settle, invalid) : settle(result);
      } catch (err) {
        return invalid(err);
      }
    },
    egressMeter(ctx: RequestContext): EgressMeter {
      // A meter even when the decision set no byte budget: a stream that lasts (an upload, a
      // WebSocket) is decided again when another policy version goes live, and a budget that
      // version adds meters the rest of it (twentieth pass: one read at the opening only bound
      // new requests, and an open tunnel went on sending without bound).
      let source = ctx.decision.rate_limits;
      let egress = egressDirectives(source);
      // The decision already paid for the body bytes the description counted.
      let covered = ctx.description.request.body.size;
      let streamed = 0;
      return (bytes) => {
        const prepaid = Math.min(covered, bytes);
        covered -= prepaid;
        const cost = bytes - prepaid;
        if (cost <= 0) return undefined;
        // A newer policy version decided the stream again: its budgets meter the rest.
        if (ctx.meteredLimits !== undefined && ctx.meteredLimits !== source) {
          source = ctx.meteredLimits;
          egress = egressDirectives(source);
        }
        if (!egress) return undefined;
        const settle = (result: ChargeResult): Rejection | undefined => {
          if (!result.ok) return limited(ctx, result, streamed);
          streamed += cost;
          ctx.audit.egress_streamed = streamed;
          return undefined;
        };
        // A limiter shared by replicas may ask its store about a large chunk: it waits for the answer.
        const result = limiter.meterEgress ? limiter.meterEgress(egress, cost) : limiter.chargeEgress(egress, cost);
        return result instanceof Promise ? result.then(settle) : settle(result);
      };
    },
  };
}

/** A directive the limiter cannot apply fails closed (the contract check should prevent it). */
function invalid(err: unknown): Rejection {
  if (!(err instanceof RateLimitError)) throw err;
  return { status: 403, type: 'policy-invalid', title: 'Invalid rate limit in decision', detail: err.message, outcome: 'denied' };
}

/** The 429 for a short bucket: at the decision, or (with `streamed`) mid-stream, where the rest is not sent. */
function limited(ctx: RequestContext, result: Exclude<ChargeResult, { ok: true }>, streamed?: number): Rejection {
  const keys = result.short.map((s) => `${s.key}${s.unit === 'egress_bytes' ? ' (egress bytes)' : ''}`).join(', ');
  ctx.audit.rate_limited = result.short.map((s) => ({ key: s.key, unit: s.unit, cost: s.cost, available: s.remaining, limit: s.limit }));
  let detail = result.reason !== undefined
    ? `${result.reason}; retry after ${result.retryAfter} s`
    : result.impossible
      ? `this request costs more than the whole budget of ${keys}; it can never pass as is`
      : `rate limit ${keys} exhausted; retry after ${result.retryAfter} s`;
  if (streamed !== undefined) {
    detail = result.reason !== undefined
      ? `${result.reason}; the stream was cut after ${streamed} metered bytes, the rest was not sent (retry after ${result.retryAfter} s)`
      : `egress budget ${keys} ran out after ${streamed} streamed bytes; the rest was not sent (retry after ${result.retryAfter} s)`;
  }
  return {
    status: 429,
    type: 'rate-limited',
    title: 'Rate limit exceeded',
    detail,
    headers: { 'retry-after': String(result.retryAfter) },
    extra: {
      retry_after: result.retryAfter,
      limits: result.short.map((s) => ({ key: s.key, unit: s.unit, limit: s.limit, cost: s.cost, available: s.remaining })),
      ...(streamed !== undefined ? { streamed_bytes: streamed } : {}),
    },
    outcome: 'rate-limited',
  };
}
