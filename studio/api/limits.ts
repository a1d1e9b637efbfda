// REST for the rate limiter, mounted by studio/server.ts behind the studio login.
//
//   GET  /api/limits             {available, buckets}  (registered here unless the studio already has it)
//   POST /api/limits/reset       {key}  refills every bucket with that key
import type { FastifyInstance } from 'fastify';
import type { RateLimiter } from '../../state/ratelimit.ts';

export interface LimitsPluginOptions {
  limiter?: RateLimiter;
  runtime?: { limiter?: unknown };
  broadcast?: (type: string, data: unknown) => void;
}

function limiterOf(opts: LimitsPluginOptions): RateLimiter | undefined {
  const l = (opts.limiter ?? opts.runtime?.limiter) as RateLimiter | undefined;
  return l && typeof l.snapshot === 'function' && typeof l.reset === 'function' ? l : undefined;
}

export default async function limitsPlugin(app: FastifyInstance, opts: LimitsPluginOptions): Promise<void> {
  const limiter = limiterOf(opts);
  const unavailable = { available: false, reason: 'the rate limiter runs inside the proxy; start Airlock with `airlock start` to see it here' };

  // studio/api/system.ts serves the same answer when it has the route; never register it twice.
  if (!app.hasRoute({ method: 'GET', url: '/api/limits' })) {
    app.get('/api/limits', async () => (limiter ? { available: true, buckets: await limiter.snapshot() } : unavailable));
  }

  app.post('/api/limits/reset', async (req, reply) => {
    if (!limiter) return reply.code(503).send({ error: unavailable.reason });
    const key = (req.body as { key?: unknown } | undefined)?.key;
    if (typeof key !== 'string' || !key || key.length > 500) return reply.code(400).send({ error: 'key is required' });
    const reset = await limiter.reset(key);
    if (!reset) return reply.code(404).send({ error: `no bucket ${key} (a full bucket is not stored)` });
    opts.broadcast?.('limits', { event: 'reset', key });
    return { ok: true, reset };
  });
}
