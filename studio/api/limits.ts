// REST for the rate limiter, mounted by studio/server.ts behind the studio login.
//
//   GET  /api/limits             {available, buckets}
//   POST /api/limits/reset       {key}  refills every bucket with that key
import type { FastifyInstance } from 'fastify';
import type { RateLimits } from '../../state/stores.ts';
import type { Broadcast, ErrorAnswer, LimitResetAnswer, LimitResetBody, LimitsAnswer, Untrusted } from './wire.ts';

export interface LimitRoutesOptions {
  /** The limiter of the proxy in this process; without it the routes say it is not available here. */
  limiter: RateLimits | undefined;
  broadcast: Broadcast;
}

export async function limitRoutes(app: FastifyInstance, opts: LimitRoutesOptions): Promise<void> {
  const limiter = opts.limiter;
  const unavailable = { available: false as const, reason: 'the rate limiter runs inside the proxy; start Airlock with `airlock start` to see it here' };

  app.get<{ Reply: LimitsAnswer }>('/api/limits', async () => (limiter ? { available: true, buckets: await limiter.snapshot() } : unavailable));

  app.post<{ Body: Untrusted<LimitResetBody> | undefined; Reply: LimitResetAnswer | ErrorAnswer }>('/api/limits/reset', async (req, reply) => {
    if (!limiter) return reply.code(503).send({ error: unavailable.reason });
    const key = req.body?.key;
    if (typeof key !== 'string' || !key || key.length > 500) return reply.code(400).send({ error: 'key is required' });
    const reset = await limiter.reset(key);
    if (!reset) return reply.code(404).send({ error: `no bucket ${key} (a full bucket is not stored)` });
    opts.broadcast('limits', { event: 'reset', key });
    return { ok: true, reset };
  });
}
