// REST for human approval, mounted by studio/server.ts behind the studio login (session cookie +
// CSRF header on every POST/DELETE): the proxy never routes to the studio, so an agent cannot
// approve its own request. Every change in the queue — from this API, the CLI or the engine API —
// is broadcast to every connected browser the moment it happens: {type: "approval", data: {event:
//
// created|held|released|resolved|expired|used, approval}} ("released": nobody waits on it any more,
// it stays approvable for the agent's retry) and {type: "grants", data: {event, grant}}.
//
// A person must be able to read what they approve. `body_view` says how much of the body the
// record shows; while the request is held, GET …/body returns its bytes as the agent sent them
// (secret values redacted). An approval whose body cannot be shown whole (past the capture cap, or
// no longer held and only previewed) is refused unless the call says `accept_unseen_body: true`.
//
// An action names what the person saw: `request_hash` (the card's) and `body_sha256` (of the bytes
// GET …/body showed). An approval bound to another request or body refuses it (409
// `not-what-was-seen`), so a mixed-up id or a stale page cannot decide a request nobody looked at.
// A body shown whole while held still counts as seen after the hold ended (the card moved to
// "waiting for the agent to retry"): its retry is bound to the same bytes.
//
//   GET    /api/approvals[?status=pending|approved|denied|expired][&limit=200]  (all pending + newest resolved)
//   GET    /api/approvals/:id
//   GET    /api/approvals/:id/body      {size, captured, truncated, content_type, sha256, text | base64}
//   POST   /api/approvals/:id/approve   {message?, totp?, grant_minutes?, path_pattern?, grant_high?, accept_unseen_body?, request_hash?, body_sha256?, via?}
//   POST   /api/approvals/:id/grant     {minutes, path_pattern?, grant_high?, totp?, message?, accept_unseen_body?, request_hash?, body_sha256?, via?}
//   POST   /api/approvals/:id/deny      {message?, request_hash?, body_sha256?, via?}
//   GET    /api/grants
//   DELETE /api/grants/:id
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { bodyVisibility, cookieParamsText, cookieValuesText, upgradeText, unseenBodyText } from '../../state/approval-body.ts';
import { ApprovalError, agentCredentialHeaders, bodyCut, type ApprovalEvent, type ApprovalRecord, type ApprovalStatus } from '../../state/approvals.ts';
import type { Approvals } from '../../state/stores.ts';
import type { HeldBodies } from '../../proxy/held-bodies.ts';
import type { BodySummary } from '../../describe/types.ts';
import { decodeHeldBody } from '../body-decoding.ts';
import { serverReading } from '../body-reading.ts';
import type {
  ApprovalAnswer, ApprovalView, Broadcast, ApprovalsAnswer, ApproveBody, DenyBody, ErrorAnswer, GrantBody, GrantRevokedAnswer, GrantsAnswer, HeldBodyAnswer,
  ResolveAnswer, SeenFields, Unavailable, Untrusted,
} from './wire.ts';

export interface ApprovalRoutesOptions {
  /** The approvals of the proxy in this process; without them every route says approvals are not available here. */
  approvals: Approvals | undefined;
  /** Bodies of requests held right now. */
  heldBodies: HeldBodies | undefined;
  /** The audit trail's redaction: secret values an agent put in a body are shown as [secret:NAME]. */
  redact: ((text: string) => string) | undefined;
  broadcast: Broadcast;
}

const statusOf: Record<ApprovalError['code'], number> = {
  'not-found': 404,
  ambiguous: 400,
  'bad-request': 400,
  'not-pending': 409,
  'step-up-required': 403,
  'totp-invalid': 403,
  'totp-locked': 429,
  'too-many': 429,
};

/** A card's moves between "Held now" and "Waiting for a retry" are shown at most FLIP_BURST times in FLIP_MS. */
export const FLIP_MS = 3000;
/** Two: a hold that ended and the agent's retry held again (the ordinary retry) show at once. */
const FLIP_BURST = 2;
const STATUSES = new Set<ApprovalStatus>(['pending', 'approved', 'denied', 'expired']);
const VIA = new Set(['studio', 'cli', 'api']);

/**
 * A record as the API shows it: the stored record plus live facts (held now, step-up needed, how
 * much of the body can be read). `heldNow` overrides the hold state (a new approval is announced
 * just before its request starts waiting).
 */
/**
 * Whether the studio shows an approval as needing a code. When the enrollment cannot be read (a
 * damaged totp.json, a disk that stalls) it shows "yes" rather than failing the whole list: the
 * approval itself then fails closed (state/approvals.ts `approve`), with the reason.
 */
function shownStepUp(q: Pick<Approvals, 'needsStepUp'>, a: Pick<ApprovalRecord, 'step_up' | 'risk'>): boolean {
  try {
    return q.needsStepUp(a);
  } catch {
    return a.step_up || a.risk === 'critical';
  }
}

export function approvalView(q: Pick<Approvals, 'isHeld' | 'needsStepUp'>, a: ApprovalRecord, bodies?: HeldBodies, heldNow?: boolean, redact: (text: string) => string = (t) => t): ApprovalView {
  // A record written before copies kept the request's shape may lack its body summary: shown as cut.
  const kept = a.description?.request?.body as BodySummary | undefined;
  const body: BodySummary = kept && typeof kept.size === 'number' ? kept : { size: 1, sha256: '', content_type: '', truncated: false };
  const bytes = bodies?.get(a.id);
  const cut = bodyCut(a) || body !== kept;
  const held = heldNow ?? q.isHeld(a.id);
  // Cookie values come from the held request's memory: only while it is held (its release event included).
  const cookies = held && bytes ? bytes.cookies ?? [] : undefined;
  const cookiesUnseen = a.status === 'pending' ? cookieValuesText(a.description?.request ?? {}, cookies) : undefined;
  return {
    ...a,
    held,
    needs_step_up: a.status === 'pending' && shownStepUp(q, a),
    own_credentials: agentCredentialHeaders(a),
    // Cookie values the record keeps redacted (a tenant or account cookie beside the session), while held.
    ...(a.status === 'pending' && cookies?.length ? { held_cookies: cookies.map(([n, v]): [string, string] => [redact(n), redact(v)]) } : {}),
    // Cookies whose values the card cannot show (past its bound, cut, or the hold ended): approving needs the choice.
    ...(cookiesUnseen !== undefined ? { cookies_unseen: cookiesUnseen } : {}),
    body_view: {
      size: body.size,
      visibility: bodyVisibility(body, cut),
      /** The held request's bytes can be fetched from …/body now. */
      available: bytes !== undefined,
      captured: bytes?.bytes.length ?? null,
      /** Why approving needs accept_unseen_body (undefined: the whole body can be shown). */
      unseen: unseenBodyText(body, bytes?.bytes.length, cut),
    },
  };
}

/** The body as text when it is UTF-8 with no control characters but tab and line ends; else undefined (binary). */
function asText(bytes: Buffer): string | undefined {
  try {
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? undefined : text;
  } catch {
    return undefined;
  }
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

/** Why an action does not match the approval it names (another request or body than the one seen), or undefined. */
function notWhatWasSeen(a: ApprovalRecord, bodySha256: string, seen: Untrusted<SeenFields>): string | undefined {
  const what = `${a.summary.method} ${a.summary.host}${a.summary.path}`;
  if (seen.request_hash !== undefined && seen.request_hash !== a.request_hash) {
    return `approval ${a.id} (${what}) is bound to another request than the one you saw: nothing was done. Reload the approvals and look again`;
  }
  if (seen.body_sha256 !== undefined && seen.body_sha256 !== bodySha256) {
    return `approval ${a.id} (${what}) is bound to another body than the one you saw: nothing was done. Reload the approvals and look again`;
  }
  return undefined;
}

/** Bodies a studio was shown whole (GET …/body) while held: approval id → sha256 of the bytes. */
const SHOWN_MAX = 10_000;

function via(v: unknown): string {
  return typeof v === 'string' && VIA.has(v) ? v : 'studio';
}

export async function approvalRoutes(app: FastifyInstance, opts: ApprovalRoutesOptions): Promise<void> {
  const queue = opts.approvals;
  const bodies = opts.heldBodies;
  // Secret values an agent put in a body are shown as [secret:NAME], as in the audit log.
  const redact = (text: string): string => opts.redact?.(text) ?? text;
  const view = (a: ApprovalRecord, heldNow?: boolean) => approvalView(queue!, a, bodies, heldNow, redact);
  const shown = new Map<string, string>();
  const remember = (id: string, sha256: string): void => {
    if (shown.size >= SHOWN_MAX) shown.delete(shown.keys().next().value!);
    shown.set(id, sha256);
  };
  /** Why the action does not match what the person saw, or undefined (a string: a reply would be awaited as a thenable). */
  const mismatch = async (a: ApprovalRecord, seen: Untrusted<SeenFields>): Promise<string | undefined> => {
    // The record's copy may be shortened past its body's hash: the whole description has it.
    const sha = a.description_complete === false && seen.body_sha256 !== undefined ? ((await queue!.fullDescription(a.id)) ?? a.description).request.body.sha256 : a.description.request.body.sha256;
    return notWhatWasSeen(a, sha, seen);
  };
  /**
   * The description a held body is read by: the whole one. The record's copy may have cut the
   * headers that say how (a 65th Content-Type, the last Content-Encoding). Undefined in the moment
   * before a new approval's whole description is stored.
   */
  const readable = async (a: ApprovalRecord): Promise<ApprovalRecord['description'] | undefined> =>
    a.description_complete === false ? queue!.fullDescription(a.id) : a.description;
  const fail = (reply: FastifyReply, err: unknown) => {
    if (err instanceof ApprovalError) return reply.code(statusOf[err.code] ?? 400).send({ error: err.message, code: err.code });
    throw err;
  };

  if (queue) {
    const broadcast = opts.broadcast;
    // A pending card moves between "Held now" and "Waiting for a retry" as its request holds and
    // lets go, and every card after it moves with it. An agent that retried one approval and hung up
    // in a loop (every 400 ms) kept every card of the inbox "changed just now", so the person could
    // approve or deny none, its own or another agent's (twentieth pass). Those moves are shown at
    // most FLIP_BURST times per FLIP_MS per approval, the state as it is then: a click after a look
    // is taken. (Once per FLIP_MS kept an ordinary retry, held again right after its hold ended, off
    // the card for longer than a short hold lasts.)
    const flips = new Map<string, { shown: number[]; held: boolean; timer?: NodeJS.Timeout }>();
    const sendFlip = (a: ApprovalRecord, f: { shown: number[]; held: boolean }): void => {
      f.shown = [...f.shown, Date.now()].slice(-FLIP_BURST);
      f.held = queue.isHeld(a.id);
      broadcast('approval', { event: f.held ? 'held' : 'released', approval: view(a) });
    };
    const off = queue.onChange((e: ApprovalEvent) => {
      // A new approval is created by the request that is about to wait on it.
      if ('approval' in e) {
        const a = e.approval;
        if (a.status !== 'pending') shown.delete(a.id);
        if ((e.type === 'held' || e.type === 'released') && a.status === 'pending') {
          const f = flips.get(a.id);
          if (!f) {
            if (flips.size >= SHOWN_MAX) flips.delete(flips.keys().next().value!);
            flips.set(a.id, { shown: [], held: false });
            return sendFlip(a, flips.get(a.id)!);
          }
          if (f.timer) return; // one is due: it shows the state then
          const wait = f.shown.length < FLIP_BURST ? 0 : f.shown[0]! + FLIP_MS - Date.now();
          if (wait <= 0) return sendFlip(a, f);
          f.timer = setTimeout(() => {
            f.timer = undefined;
            if (a.status === 'pending' && queue.isHeld(a.id) !== f.held) sendFlip(a, f);
          }, wait);
          f.timer.unref();
          return;
        }
        if (a.status !== 'pending') {
          clearTimeout(flips.get(a.id)?.timer);
          flips.delete(a.id);
        }
        broadcast('approval', { event: e.type, approval: view(a, e.type === 'created' ? true : undefined) });
      }
      else broadcast('grants', { event: e.type, grant: e.grant });
    });
    app.addHook('onClose', async () => {
      off();
      for (const f of flips.values()) clearTimeout(f.timer);
    });
  }

  const unavailable: Unavailable = { available: false, reason: 'approvals run inside the proxy; start Airlock with `airlock start` to use them here' };

  app.get<{ Reply: ApprovalsAnswer | ErrorAnswer }>('/api/approvals', async (req, reply) => {
    if (!queue) return unavailable;
    const q = req.query as { status?: string; limit?: string };
    const status = q.status;
    if (status !== undefined && !STATUSES.has(status as ApprovalStatus)) return reply.code(400).send({ error: `status must be one of ${[...STATUSES].join(', ')}` });
    // Every pending approval, and the newest `limit` (default 200) resolved ones.
    const limit = Math.min(2000, Math.max(0, Number(q.limit ?? 200) || 0));
    let resolved = 0;
    // One read of the enrollment per listing, off the event loop (it was one synchronous read per approval listed).
    await queue.refreshStepUp();
    const list = queue.list(status ? { status: status as ApprovalStatus } : {}).filter((a) => a.status === 'pending' || resolved++ < limit);
    return { available: true, approvals: list.map((a) => view(a)), step_up_enrolled: shownStepUp(queue, { step_up: true, risk: 'critical' }) };
  });

  app.get<{ Params: { id: string }; Reply: ApprovalAnswer | ErrorAnswer }>('/api/approvals/:id', async (req, reply) => {
    if (!queue) return reply.code(503).send({ error: unavailable.reason });
    try {
      // One approval with its whole description (lists and events carry a bounded copy).
      const a = queue.get(req.params.id);
      await queue.refreshStepUp();
      const full = await queue.fullDescription(a.id);
      // The record's copy is bounded: never passed off as whole when the whole one is not stored.
      if (!full && a.description_complete === false) return reply.code(503).header('retry-after', '1').send({ error: 'the whole request is not stored (yet): load it again in a moment', code: 'description-unavailable' });
      const description = full ?? a.description;
      const answer = { ...view({ ...a, description, description_complete: true, body_cut: false }), description_complete: true as const };
      // The whole parsed body went out: approving it later (no longer held) counts it as seen.
      if (a.status === 'pending' && bodyCut(a) && answer.body_view.visibility === 'whole') remember(a.id, description.request.body.sha256);
      return { approval: answer };
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.get<{ Params: { id: string }; Reply: HeldBodyAnswer | ErrorAnswer }>('/api/approvals/:id/body', async (req, reply) => {
    if (!queue) return reply.code(503).send({ error: unavailable.reason });
    let a: ApprovalRecord;
    try {
      a = queue.get(req.params.id);
    } catch (err) {
      return fail(reply, err);
    }
    const held = bodies?.get(a.id);
    if (!held) return reply.code(404).send({ error: 'the body can be read only while the request is held; the record keeps a preview', code: 'body-unavailable' });
    const described = await readable(a);
    if (!described) return reply.code(503).header('retry-after', '1').send({ error: 'the request is still being stored: load the body again in a moment', code: 'body-unavailable' });
    const body = described.request.body;
    // What the server will read: Content-Encoding undone (bounded); the raw bytes when that fails.
    const decoded = await decodeHeldBody(held, described.request.headers['content-encoding']);
    const bytes = decoded.ok ? decoded.bytes : held.bytes;
    const text = asText(bytes);
    // The hash of these bytes is the one the approval is bound to: the body shown is the body approved.
    const sha256 = crypto.createHash('sha256').update(held.bytes).digest('hex');
    // Escaped, encoded or in another charset, the bytes as sent may not read as the server reads them.
    const reading = decoded.ok && !held.truncated ? serverReading(bytes, described.request.headers, text) : undefined;
    if (decoded.ok && !held.truncated && a.status === 'pending' && !(reading && 'error' in reading)) remember(a.id, sha256);
    return {
      size: body.size,
      captured: held.bytes.length,
      truncated: held.truncated,
      content_type: held.contentType,
      sha256,
      ...(decoded.codings.length ? { content_encoding: decoded.codings, ...(decoded.ok ? { decoded_size: bytes.length } : { decode_error: decoded.error }) } : {}),
      ...(reading && 'error' in reading ? { reading_error: reading.error } : reading ? { reading: { how: reading.how, text: redact(reading.text) } } : {}),
      ...(text !== undefined
        ? { text: redact(text) }
        : { base64: Buffer.from(redact(bytes.toString('latin1')), 'latin1').toString('base64') }),
    };
  });

  const approve = async (id: string, body: Untrusted<ApproveBody & GrantBody>, reply: FastifyReply, grantField: 'grant_minutes' | 'minutes'): Promise<ResolveAnswer | FastifyReply> => {
    if (!queue) return reply.code(503).send({ error: unavailable.reason });
    try {
      const record = queue.get(id);
      const stale = await mismatch(record, body);
      if (stale) return reply.code(409).send({ error: stale, code: 'not-what-was-seen' });
      const held = bodies?.get(record.id);
      // Shown whole while it was held: still seen once the hold ended (a retry is bound to these bytes).
      const seenWhole = typeof body.body_sha256 === 'string' && shown.get(record.id) === body.body_sha256;
      let unseen = record.status === 'pending' && !seenWhole ? unseenBodyText(record.description.request.body, held?.bytes.length, bodyCut(record)) : undefined;
      if (!unseen && held && record.status === 'pending') {
        const described = await readable(record);
        const decoded = described ? await decodeHeldBody(held, described.request.headers['content-encoding']) : undefined;
        const reading = described && decoded?.ok && !held.truncated ? serverReading(decoded.bytes, described.request.headers, asText(decoded.bytes)) : undefined;
        if (!described || !decoded) unseen = 'the request is still being stored, so its body could not be read yet';
        else if (!decoded.ok) unseen = decoded.error;
        else if (reading && 'error' in reading) unseen = reading.error;
      }
      // A parameter the server may read from a cookie the card shows redacted: not seen either; nor
      // what an upgraded connection carries once open (the card asked for the choice, the API did not).
      if (!unseen && record.status === 'pending') {
        const request = (await readable(record))?.request ?? record.description.request;
        unseen = cookieParamsText(request) ?? upgradeText(request) ?? cookieValuesText(request, held && queue.isHeld(record.id) ? held.cookies ?? [] : undefined);
      }
      if (unseen && body.accept_unseen_body !== true) {
        return reply.code(403).send({ error: `not approved: ${unseen}. Deny it, or approve it knowingly with accept_unseen_body: true`, code: 'body-not-shown' });
      }
      const grantMinutes = optionalInt(body[grantField], grantField);
      if (grantField === 'minutes' && grantMinutes === undefined) throw new ApprovalError('bad-request', 'minutes is required for a grant');
      const pathPattern = optionalString(body.path_pattern, 'path_pattern', 500);
      const result = await queue.approve(record.id, {
        by: via(body.via),
        ...(optionalString(body.message, 'message') !== undefined ? { message: body.message as string } : {}),
        ...(optionalString(body.totp, 'totp', 20) !== undefined ? { totp: body.totp as string } : {}),
        ...(grantMinutes !== undefined ? { grantMinutes } : {}),
        ...(pathPattern !== undefined ? { pathPattern } : {}),
        ...(body.grant_high === true ? { grantHigh: true } : {}),
      });
      return { approval: view(result.approval), ...(result.grant ? { grant: result.grant } : {}) };
    } catch (err) {
      return fail(reply, err);
    }
  };

  app.post<{ Params: { id: string }; Body: Untrusted<ApproveBody> | undefined; Reply: ResolveAnswer | ErrorAnswer }>('/api/approvals/:id/approve', async (req, reply) =>
    approve(req.params.id, req.body ?? {}, reply, 'grant_minutes'));

  app.post<{ Params: { id: string }; Body: Untrusted<GrantBody> | undefined; Reply: ResolveAnswer | ErrorAnswer }>('/api/approvals/:id/grant', async (req, reply) =>
    approve(req.params.id, req.body ?? {}, reply, 'minutes'));

  app.post<{ Params: { id: string }; Body: Untrusted<DenyBody> | undefined; Reply: ResolveAnswer | ErrorAnswer }>('/api/approvals/:id/deny', async (req, reply) => {
    if (!queue) return reply.code(503).send({ error: unavailable.reason });
    const body = req.body ?? {};
    try {
      const message = optionalString(body.message, 'message');
      // The record named now is the one decided, whatever a prefix would match after the awaits.
      const record = queue.get(req.params.id);
      const stale = await mismatch(record, body);
      if (stale) return reply.code(409).send({ error: stale, code: 'not-what-was-seen' });
      const a = await queue.deny(record.id, { by: via(body.via), ...(message !== undefined ? { message } : {}) });
      return { approval: view(a) };
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.get<{ Reply: GrantsAnswer }>('/api/grants', async () => {
    if (!queue) return unavailable;
    return { available: true, grants: queue.grants() };
  });

  app.delete<{ Params: { id: string }; Reply: GrantRevokedAnswer | ErrorAnswer }>('/api/grants/:id', async (req, reply) => {
    if (!queue) return reply.code(503).send({ error: unavailable.reason });
    try {
      return { grant: await queue.revokeGrant(req.params.id) };
    } catch (err) {
      return fail(reply, err);
    }
  });
}
