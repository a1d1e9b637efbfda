// REST for agent sessions (docs/sessions.md), mounted by studio/server.ts behind the studio login:
// the list, one session's labels and timeline, and the two things a human may do — clear a label,
// reset the session. Both are recorded in the audit log (outcomes session-label-cleared and
// session-reset), and every change to a session is broadcast to open browsers
// ({type: "session", data: {event, session}}).
//
//   GET  /api/sessions[?agent=NAME][&live=true|false]
//   GET  /api/sessions/:id                 {session: {…, events, timeline}}
//   POST /api/sessions/:id/clear           {label, reason?, via?}
//   POST /api/sessions/:id/reset           {reason?, via?}
import type { FastifyInstance, FastifyReply } from 'fastify';
import { clearLabelAudited, resetAudited, SessionError, type SessionAudit } from '../../state/sessions.ts';
import type { AgentSessions } from '../../state/stores.ts';
import type {
  AgentSessionAnswer, AgentSessionsAnswer, Broadcast, ErrorAnswer, SessionClearBody, SessionResetBody, Untrusted,
} from './wire.ts';

export interface SessionRoutesOptions {
  /** The sessions of the proxy in this process; without them the routes say they are not available here. */
  sessions: AgentSessions | undefined;
  /** Where clears and resets are recorded. */
  audit: SessionAudit | undefined;
  broadcast: Broadcast;
}

const statusOf: Record<SessionError['code'], number> = { 'not-found': 404, ambiguous: 400, 'bad-request': 400, 'not-live': 409 };
const VIA = new Set(['studio', 'cli', 'api']);

function fail(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof SessionError) return reply.code(statusOf[err.code]).send({ error: err.message });
  throw err;
}

const text = (v: unknown, max: number): string | undefined => (typeof v === 'string' && v.trim() ? v.trim().slice(0, max) : undefined);

export async function sessionRoutes(app: FastifyInstance, opts: SessionRoutesOptions): Promise<void> {
  const { sessions: store, audit } = opts;
  const unavailable = { available: false as const, reason: 'sessions live inside the proxy; start Airlock with `airlock start` to see them here' };
  if (store) {
    const stop = store.onChange((c) => opts.broadcast('session', { event: c.type, session: c.session, ...(c.type === 'cleared' ? { label: c.label } : {}) }));
    app.addHook('onClose', async () => stop());
  }

  app.get<{ Reply: AgentSessionsAnswer }>('/api/sessions', async (req) => {
    if (!store) return unavailable;
    const q = req.query as { agent?: string; live?: string };
    return {
      available: true,
      sessions: store.list({ ...(q.agent ? { agent: q.agent } : {}), ...(q.live === 'true' ? { live: true } : q.live === 'false' ? { live: false } : {}) }),
    };
  });

  app.get<{ Params: { id: string }; Reply: AgentSessionAnswer | ErrorAnswer }>('/api/sessions/:id', async (req, reply) => {
    if (!store) return reply.code(503).send({ error: unavailable.reason });
    try {
      return { session: store.get((req.params as { id: string }).id) };
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.post<{ Params: { id: string }; Body: Untrusted<SessionClearBody> | undefined; Reply: AgentSessionAnswer | ErrorAnswer }>('/api/sessions/:id/clear', async (req, reply) => {
    if (!store) return reply.code(503).send({ error: unavailable.reason });
    const body = req.body ?? {};
    const label = text(body.label, 64);
    if (!label) return reply.code(400).send({ error: 'label is required (e.g. "untrusted")' });
    const by = typeof body.via === 'string' && VIA.has(body.via) ? body.via : 'studio';
    try {
      return { session: await clearLabelAudited(store, audit, (req.params as { id: string }).id, label, by, text(body.reason, 500)) };
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.post<{ Params: { id: string }; Body: Untrusted<SessionResetBody> | undefined; Reply: AgentSessionAnswer | ErrorAnswer }>('/api/sessions/:id/reset', async (req, reply) => {
    if (!store) return reply.code(503).send({ error: unavailable.reason });
    const body = req.body ?? {};
    const by = typeof body.via === 'string' && VIA.has(body.via) ? body.via : 'studio';
    try {
      return { session: await resetAudited(store, audit, (req.params as { id: string }).id, by, text(body.reason, 500)) };
    } catch (err) {
      return fail(reply, err);
    }
  });
}
