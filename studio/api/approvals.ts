// REST for human approval, mounted by studio/server.ts behind the studio login (session cookie +
// CSRF header on every POST/DELETE): the proxy never routes to the studio, so an agent cannot
// approve its own request. Every change in the queue — from this API, the CLI or the engine API —
// is broadcast to every connected browser the moment it happens: {type: "approval", data: {event:
// created|resolved|expired|used, approval}} and {type: "grants", data: {event, grant}}.
//
//   GET    /api/approvals[?status=pending|approved|denied|expired][&limit=200]  (all pending + newest resolved)
//   GET    /api/approvals/:id
//   POST   /api/approvals/:id/approve   {message?, totp?, grant_minutes?, path_pattern?, grant_high?, via?}
//   POST   /api/approvals/:id/grant     {minutes, path_pattern?, grant_high?, totp?, message?, via?}
//   POST   /api/approvals/:id/deny      {message?, via?}
//   GET    /api/grants
//   DELETE /api/grants/:id
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ApprovalError, type ApprovalEvent, type ApprovalQueue, type ApprovalRecord, type ApprovalStatus } from '../../engine/approvals.ts';

export interface ApprovalsPluginOptions {
  /** The queue directly (tests), else `runtime.approvals`. */
  approvals?: ApprovalQueue;
  runtime?: { approvals?: unknown };
  home?: string;
  broadcast?: (type: string, data: unknown) => void;
}

const statusOf: Record<ApprovalError['code'], number> = {
  'not-found': 404,
  ambiguous: 400,
  'bad-request': 400,
  'not-pending': 409,
  'step-up-required': 403,
  'totp-invalid': 403,
  'too-many': 429,
};

const STATUSES = new Set<ApprovalStatus>(['pending', 'approved', 'denied', 'expired']);
const VIA = new Set(['studio', 'cli', 'api']);

function queueOf(opts: ApprovalsPluginOptions): ApprovalQueue | undefined {
  const q = (opts.approvals ?? opts.runtime?.approvals) as ApprovalQueue | undefined;
  return q && typeof q.approve === 'function' && typeof q.onChange === 'function' ? q : undefined;
}

/** A record as the API shows it: the stored record plus live facts (held now, step-up needed). */
export function approvalView(q: ApprovalQueue, a: ApprovalRecord) {
  return { ...a, held: q.isHeld(a.id), needs_step_up: a.status === 'pending' && q.needsStepUp(a) };
}

function optionalString(v: unknown, name: string, max = 1000): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || v.length > max) throw new ApprovalError('bad-request', `${name} must be a string of at most ${max} characters`);
  return v;
}

function optionalInt(v: unknown, name: string): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new ApprovalError('bad-request', `${name} must be a whole number`);
  return n;
}

function via(v: unknown): string {
  return typeof v === 'string' && VIA.has(v) ? v : 'studio';
}

export default async function approvalsPlugin(app: FastifyInstance, opts: ApprovalsPluginOptions): Promise<void> {
  const queue = queueOf(opts);
  const fail = (reply: FastifyReply, err: unknown) => {
    if (err instanceof ApprovalError) return reply.code(statusOf[err.code] ?? 400).send({ error: err.message, code: err.code });
    throw err;
  };

  if (queue && opts.broadcast) {
    const broadcast = opts.broadcast;
    const off = queue.onChange((e: ApprovalEvent) => {
      if ('approval' in e) broadcast('approval', { event: e.type, approval: approvalView(queue, e.approval) });
      else broadcast('grants', { event: e.type, grant: e.grant });
    });
    app.addHook('onClose', async () => off());
  }

  const unavailable = { available: false, reason: 'approvals run inside the proxy; start Airlock with `airlock start` to use them here' };

  app.get('/api/approvals', async (req, reply) => {
    if (!queue) return unavailable;
    const q = req.query as { status?: string; limit?: string };
    const status = q.status;
    if (status !== undefined && !STATUSES.has(status as ApprovalStatus)) return reply.code(400).send({ error: `status must be one of ${[...STATUSES].join(', ')}` });
    // Every pending approval, and the newest `limit` (default 200) resolved ones.
    const limit = Math.min(2000, Math.max(0, Number(q.limit ?? 200) || 0));
    let resolved = 0;
    const list = queue.list(status ? { status: status as ApprovalStatus } : {}).filter((a) => a.status === 'pending' || resolved++ < limit);
    return { available: true, approvals: list.map((a) => approvalView(queue, a)), step_up_enrolled: queue.needsStepUp({ step_up: true, risk: 'critical' }) };
  });

  app.get<{ Params: { id: string } }>('/api/approvals/:id', async (req, reply) => {
    if (!queue) return reply.code(503).send({ error: unavailable.reason });
    try {
      return { approval: approvalView(queue, queue.get(req.params.id)) };
    } catch (err) {
      return fail(reply, err);
    }
  });

  const approve = async (id: string, body: Record<string, unknown>, reply: FastifyReply, grantField: 'grant_minutes' | 'minutes') => {
    if (!queue) return reply.code(503).send({ error: unavailable.reason });
    try {
      const grantMinutes = optionalInt(body[grantField], grantField);
      if (grantField === 'minutes' && grantMinutes === undefined) throw new ApprovalError('bad-request', 'minutes is required for a grant');
      const pathPattern = optionalString(body.path_pattern, 'path_pattern', 500);
      const result = await queue.approve(id, {
        by: via(body.via),
        ...(optionalString(body.message, 'message') !== undefined ? { message: body.message as string } : {}),
        ...(optionalString(body.totp, 'totp', 20) !== undefined ? { totp: body.totp as string } : {}),
        ...(grantMinutes !== undefined ? { grantMinutes } : {}),
        ...(pathPattern !== undefined ? { pathPattern } : {}),
        ...(body.grant_high === true ? { grantHigh: true } : {}),
      });
      return { approval: approvalView(queue, result.approval), ...(result.grant ? { grant: result.grant } : {}) };
    } catch (err) {
      return fail(reply, err);
    }
  };

  app.post<{ Params: { id: string } }>('/api/approvals/:id/approve', async (req, reply) =>
    approve(req.params.id, (req.body ?? {}) as Record<string, unknown>, reply, 'grant_minutes'));

  app.post<{ Params: { id: string } }>('/api/approvals/:id/grant', async (req, reply) =>
    approve(req.params.id, (req.body ?? {}) as Record<string, unknown>, reply, 'minutes'));

  app.post<{ Params: { id: string } }>('/api/approvals/:id/deny', async (req, reply) => {
    if (!queue) return reply.code(503).send({ error: unavailable.reason });
    const body = (req.body ?? {}) as Record<string, unknown>;
    try {
      const message = optionalString(body.message, 'message');
      const a = await queue.deny(req.params.id, { by: via(body.via), ...(message !== undefined ? { message } : {}) });
      return { approval: approvalView(queue, a) };
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.get('/api/grants', async () => {
    if (!queue) return unavailable;
    return { available: true, grants: queue.grants() };
  });

  app.delete<{ Params: { id: string } }>('/api/grants/:id', async (req, reply) => {
    if (!queue) return reply.code(503).send({ error: unavailable.reason });
    try {
      return { grant: await queue.revokeGrant(req.params.id) };
    } catch (err) {
      return fail(reply, err);
    }
  });
}
