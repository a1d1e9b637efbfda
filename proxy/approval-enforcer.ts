// Holds requests the policy answered `approve` for until a human decides.
//
// describe: offers the policy the human grants that match the request (input.grants), so a grant
//   works only where the policy honours it.
// beforeForward (action "approve"): creates an approval record — or, when the agent retries with
//   `Airlock-Approval: ID`, claims that approval if it is bound to this exact request — then holds
//   the connection until approved (continue), denied (403 with the human's message) or timed out
//   (403 with the approval id to retry with). The Airlock-Approval header never leaves the proxy.
//
// What the agent is told (docs/approvals.md, "For agent authors"): every answer about a held request
// carries `Airlock-Approval-Id` and where a human approves it. An agent that prefers to poll sends
// `Prefer: respond-async` (RFC 7240, optionally `wait=N`) and gets `202` + `Retry-After` at once,
// then retries with `Airlock-Approval`. With no way to approve (no studio in this process, so
// neither the studio nor `airlock approvals` can resolve it) the answer is an immediate 403
// `approval-unavailable`: nobody would ever see the request.
import { AbortFlag, type AbortLike } from '../lib/abort-flag.ts';
import { Tally } from '../lib/tally.ts';
import { ApprovalError, holdMs, newApprovalId, requestHash, retryExceedsApproval, type ApprovalRecord, type RetryClaim } from '../state/approvals.ts';
import type { Approvals } from '../state/stores.ts';
import type { HeldBodies } from './held-bodies.ts';
import { heldCookieValues } from '../describe/describe.ts';
import type { Enforcer, Rejection, RequestContext } from './enforcers.ts';

export const APPROVAL_HEADER = 'airlock-approval';
/** Response header naming the approval in every answer about a held request. */
export const APPROVAL_ID_HEADER = 'Airlock-Approval-Id';
/** Seconds an agent that polls is asked to wait between retries. */
export const POLL_SECONDS = 10;

/** Where a human can resolve approvals now, or undefined when nobody can. */
export interface ApprovalChannel {
  /** The studio's base URL (its Approvals page, and the API `airlock approvals` uses). */
  studio: string;
}

export interface ApprovalEnforcerOptions {
  /** Asked per request (the studio starts after the enforcers). Default: always available, no hints. */
  channel?: () => ApprovalChannel | undefined;
  /** Where held requests' bodies are registered while they wait, for the studio to show. */
  bodies?: HeldBodies;
  /** Raised when Airlock begins to stop: a request still held is answered then, its approval kept. */
  stopping?: AbortLike;
}

/** How a human approves `id`: the studio page and the CLI command. */
function approveHints(id: string, channel: ApprovalChannel | undefined): Record<string, string> {
  return {
    ...(channel ? { approve_at: `${channel.studio}/#/approvals` } : {}),
    approve_cli: `airlock approvals approve ${id}`,
  };
}

/** `Prefer: respond-async[, wait=N]` (RFC 7240): the agent would rather poll than wait. */
export function preferAsync(headers: Record<string, string[] | undefined>): { waitMs: number } | undefined {
  const prefs = (headers.prefer ?? []).join(',').split(',').map((p) => p.trim().toLowerCase());
  if (!prefs.some((p) => p === 'respond-async' || p.startsWith('respond-async;'))) return undefined;
  const wait = prefs.map((p) => /^wait\s*=\s*"?(\d{1,6})"?$/.exec(p)).find(Boolean);
  return { waitMs: wait ? Number(wait[1]) * 1000 : 0 };
}

/** Removes the preferences Airlock answered from the Prefer header that goes upstream. */
function stripAsyncPreference(ctx: RequestContext): void {
  const h = ctx.outgoing.headers;
  for (let i = h.length - 1; i >= 0; i--) {
    if (h[i]![0].toLowerCase() !== 'prefer') continue;
    const kept = h[i]![1].split(',').map((p) => p.trim()).filter((p) => p && !/^(respond-async|wait)\b/i.test(p));
    if (kept.length) h[i] = [h[i]![0], kept.join(', ')];
    else h.splice(i, 1);
  }
}

function headerValue(ctx: RequestContext): string | undefined {
  const fromOutgoing = ctx.outgoing.headers.find(([k]) => k.toLowerCase() === APPROVAL_HEADER)?.[1];
  return fromOutgoing ?? ctx.description.request.headers[APPROVAL_HEADER]?.[0];
}

function stripHeader(ctx: RequestContext): void {
  const h = ctx.outgoing.headers;
  for (let i = h.length - 1; i >= 0; i--) if (h[i]![0].toLowerCase() === APPROVAL_HEADER) h.splice(i, 1);
}

function denied(a: ApprovalRecord, reason: string): Rejection {
  const msg = a.resolution?.message;
  return {
    status: 403,
    type: 'approval-denied',
    title: 'Denied by a human',
    detail: `${reason} — denied${a.resolution ? ` by ${a.resolution.by}` : ''}${msg ? `: ${msg}` : ''}`,
    headers: { [APPROVAL_ID_HEADER]: a.id },
    extra: { approval_id: a.id, ...(msg ? { message: msg } : {}) },
    outcome: 'approval-denied',
  };
}

function timedOut(a: ApprovalRecord, waitedMs: number, channel: ApprovalChannel | undefined): Rejection {
  const where = channel ? ` in the studio (${channel.studio}/#/approvals) or with \`airlock approvals approve ${a.id}\`` : '';
  return {
    status: 403,
    type: 'approval-timeout',
    title: 'Approval pending',
    detail: `${a.reason} — no one approved within ${Math.round(waitedMs / 1000)} s. The approval stays open until ${a.retry_until}: once a human approves it${where}, send the identical request again with the header "Airlock-Approval: ${a.id}".`,
    headers: { [APPROVAL_ID_HEADER]: a.id },
    extra: { approval_id: a.id, retry_header: 'Airlock-Approval', approvable_until: a.retry_until, ...approveHints(a.id, channel) },
    outcome: 'approval-timeout',
  };
}

/** The immediate answer to an agent that asked to poll (`Prefer: respond-async`). */
function pending(a: ApprovalRecord, channel: ApprovalChannel | undefined): Rejection {
  return {
    status: 202,
    type: 'approval-pending',
    title: 'Held for a human',
    detail: `${a.reason}. Held for a human${channel ? ` (studio: ${channel.studio}/#/approvals, or \`airlock approvals approve ${a.id}\`)` : ''}: retry the identical request with the header "Airlock-Approval: ${a.id}" every ${POLL_SECONDS} s; until someone decides, the answer is 202 again.`,
    headers: { [APPROVAL_ID_HEADER]: a.id, 'retry-after': String(POLL_SECONDS), 'preference-applied': 'respond-async' },
    extra: { approval_id: a.id, retry_header: 'Airlock-Approval', retry_after: POLL_SECONDS, approvable_until: a.retry_until, ...approveHints(a.id, channel) },
    outcome: 'approval-pending',
  };
}

/** Airlock stopped while the request was held: the approval outlives the process (it is stored). */
function interrupted(a: ApprovalRecord, channel: ApprovalChannel | undefined): Rejection {
  return {
    status: 503,
    type: 'airlock-stopping',
    title: 'Airlock is stopping',
    detail: `${a.reason} — Airlock stopped while this request waited for a human. The approval stays open until ${a.retry_until}: once a human approves it (after Airlock is back), send the identical request again with the header "Airlock-Approval: ${a.id}".`,
    headers: { [APPROVAL_ID_HEADER]: a.id, 'retry-after': String(POLL_SECONDS), connection: 'close' },
    extra: { approval_id: a.id, retry_header: 'Airlock-Approval', approvable_until: a.retry_until, ...approveHints(a.id, channel) },
    outcome: 'approval-interrupted',
  };
}

/** Nobody can approve: no studio runs in this Airlock (see ApprovalChannel). */
function unavailable(reason: string): Rejection {
  return {
    status: 403,
    type: 'approval-unavailable',
    title: 'Approval required',
    detail: `${reason} — but no approver is running (Airlock runs without its studio, so neither the studio nor \`airlock approvals\` can approve it): denied at once`,
    outcome: 'denied',
  };
}

function refused(detail: string, approvalId?: string): Rejection {
  return {
    status: 403, type: 'approval-invalid', title: 'Approval does not apply', detail,
    ...(approvalId ? { headers: { [APPROVAL_ID_HEADER]: approvalId }, extra: { approval_id: approvalId } } : {}),
    outcome: 'approval-refused',
  };
}

/**
 * Requests held on one approval at once, at most: the one that made it and one retry (a client that
 * sent it again before its first connection was seen to close). Each keeps its own captured body and
 * parsed description while it waits (a 1 MiB body of tiny JSON objects: ~9 MiB of heap), which the
 * held-data budget counts once per approval: one agent's 500 retries of one held upload held
 * gigabytes (twentieth pass). Past it a retry is refused at once; the answer reaches the ones held.
 */
export const HOLDS_PER_APPROVAL = 2;

/** What the enforcer asks of the approvals store. */
export type ApprovalHolds = Pick<Approvals, 'matchingGrants' | 'claimRetry' | 'create' | 'wait'> & Partial<Pick<Approvals, 'giveBack'>>;

/**
 * Whether a refusal after an approval released its request leaves the approval to the agent's
 * identical retry: one that says "try again" (a bucket short, the agent gone, a store, the audit
 * log, a name or the policy's store unavailable for a moment: 429, 499, 5xx). Not one that says
 * the approval no longer holds (a newer policy refuses it, the agent's token was revoked) nor a
 * destination refused: those keep it spent, as before.
 */
export function leavesApproval(r: Pick<Rejection, 'status'>): boolean {
  return r.status === 429 || r.status === 499 || r.status >= 500;
}

export function approvalEnforcer(queue: ApprovalHolds, opts: ApprovalEnforcerOptions = {}): Enforcer {
  // The approval each released request used, and the use it made (what onRefused may undo).
  const approvedIds = new WeakMap<RequestContext, { id: string; usedAt: string | undefined }>();
  const bodies = opts.bodies;
  const holding = new Tally();
  return {
    name: 'approvals',
    handlesApproval: true,

    describe(d) {
      const grants = queue.matchingGrants(d);
      if (grants instanceof Promise) return grants.then((g) => void (d.grants = g));
      d.grants = grants;
    },

    async beforeForward(ctx: RequestContext): Promise<Rejection | undefined> {
      const retryId = headerValue(ctx);
      stripHeader(ctx);
      if (ctx.decision.action !== 'approve') return undefined;

      // Airlock answers respond-async itself and never forwards it: it is not part of what the
      // human approves, so an agent may poll with or without it.
      const asks = preferAsync(ctx.description.request.headers);
      if (asks) stripAsyncPreference(ctx);
      // Bound to the method, URL, body, agent and every end-to-end header going upstream (the
      // Airlock-Approval header was stripped above): a retry must be the request the human saw.
      const hash = requestHash(ctx.description, ctx.outgoing.headers);
      const channel = opts.channel ? opts.channel() : { studio: '' };
      const hints = channel?.studio ? channel : undefined;
      let approval: ApprovalRecord;
      let heldEarly: (() => void) | undefined;
      const holdBody = (id: string): (() => void) | undefined =>
        (ctx.body ? bodies?.hold(id, { bytes: ctx.body.bytes, truncated: ctx.body.truncated, contentType: ctx.description.request.body.content_type, cookies: heldCookieValues(ctx.outgoing.headers) }) : undefined) || undefined;
      if (retryId) {
        const claimed = queue.claimRetry(retryId, ctx.description, hash);
        const claim: RetryClaim = claimed instanceof Promise ? await claimed : claimed;
        if (claim.approval) ctx.audit.approval_id = claim.approval.id;
        // The same request, decided again now: riskier than approved, or with other secrets, is
        // not what the human approved (the approval is spent on it all the same: fail closed).
        const exceeds = claim.kind === 'approved' || claim.kind === 'pending' ? retryExceedsApproval(claim.approval, ctx.decision) : undefined;
        if (exceeds && claim.kind === 'approved') return refused(exceeds, claim.approval.id);
        if (claim.kind === 'approved') {
          ctx.audit.approval = 'approved-retry';
          ctx.outgoing.freshConnection = true;
          approvedIds.set(ctx, { id: claim.approval.id, usedAt: claim.approval.used_at });
          if (ctx.refusalHeaders) ctx.refusalHeaders[APPROVAL_ID_HEADER] = claim.approval.id;
          return undefined;
        }
        if (claim.kind === 'denied') return denied(claim.approval, ctx.decision.reason);
        if (claim.kind === 'refused') return refused(claim.reason, claim.approval?.id);
        if (!channel) return unavailable(ctx.decision.reason);
        if (exceeds) return refused(exceeds, claim.approval.id);
        approval = claim.approval; // still pending: hold again on the same approval
        if (holding.of(approval.id) >= HOLDS_PER_APPROVAL && asks?.waitMs !== 0) {
          return {
            status: 429, type: 'approvals-backlog', title: 'Approval already held', headers: { 'retry-after': '10' }, extra: { approval_id: approval.id, retry_after: 10 }, outcome: 'approval-refused',
            detail: `approval ${approval.id} is already held by ${holding.of(approval.id)} of this agent's requests (at most ${HOLDS_PER_APPROVAL}): wait for the answer on one of them, or retry once it has ended`,
          };
        }
      } else {
        if (!channel) return unavailable(ctx.decision.reason);
        // The bytes are held before the approval is announced, so its first card can show them
        // (a request that only asks to be told later is not held, nor are its bytes).
        const id = newApprovalId();
        heldEarly = asks?.waitMs === 0 ? undefined : holdBody(id);
        try {
          approval = await queue.create(ctx.description, ctx.decision, hash, id);
        } catch (err) {
          heldEarly?.();
          if (err instanceof ApprovalError && err.code === 'too-many') {
            return { status: 429, type: 'approvals-backlog', title: 'Too many pending approvals', detail: err.message, headers: { 'retry-after': '60' }, extra: { retry_after: 60 }, outcome: 'approval-refused' };
          }
          throw err;
        }
        ctx.audit.approval_id = approval.id;
      }

      // Hold until the record's own expiry (a retry holds at most what is left, at least the policy's hold).
      let timeoutMs = retryId ? holdMs(ctx.decision) : Math.max(0, Date.parse(approval.expires) - Date.now());
      if (asks) {
        // The agent polls: hold at most what it asked to wait (RFC 7240 `wait`), then answer 202.
        if (asks.waitMs === 0) {
          ctx.audit.approval = 'pending-async';
          return pending(approval, hints);
        }
        timeoutMs = Math.min(timeoutMs, asks.waitMs);
      }
      const started = Date.now();
      const release = heldEarly ?? holdBody(approval.id);
      const leave = holding.hold(approval.id, 1);
      // The hold ends when the agent goes away or when Airlock stops, whichever comes first.
      const ended = new AbortFlag();
      const end = (): void => ended.abort();
      ctx.signal.addEventListener('abort', end);
      opts.stopping?.addEventListener('abort', end);
      if (ctx.signal.aborted || opts.stopping?.aborted) end();
      let outcome;
      try {
        outcome = await queue.wait(approval.id, { timeoutMs, signal: ended });
      } finally {
        leave();
        release?.();
        ctx.signal.removeEventListener('abort', end);
        opts.stopping?.removeEventListener('abort', end);
      }
      if (outcome === 'aborted' && !ctx.signal.aborted && opts.stopping?.aborted) return interrupted(approval, hints);
      ctx.audit.approval = outcome;
      switch (outcome) {
        case 'approved':
          ctx.outgoing.freshConnection = true;
          if (approval.resolution) ctx.audit.approved_by = approval.resolution.by;
          approvedIds.set(ctx, { id: approval.id, usedAt: approval.used_at });
          if (ctx.refusalHeaders) ctx.refusalHeaders[APPROVAL_ID_HEADER] = approval.id;
          return undefined;
        case 'denied':
          return denied(approval, ctx.decision.reason);
        case 'timeout':
          if (asks) {
            ctx.audit.approval = 'pending-async';
            return pending(approval, hints);
          }
          return timedOut(approval, Date.now() - started, hints);
        case 'used':
          return refused(`approval ${approval.id} was used by another request (approvals are single-use)`, approval.id);
        case 'aborted':
        default:
          return { status: 499, type: 'client-closed', title: 'Client closed the request', detail: 'the agent went away while the request was held for approval', extra: { approval_id: approval.id }, outcome: 'client-aborted' };
      }
    },

    onResponse(ctx, head) {
      const used = approvedIds.get(ctx);
      if (used) head.headers.push([APPROVAL_ID_HEADER, used.id]);
      return undefined;
    },

    // Released, then refused before anything left (a rate limit's Redis or PostgreSQL unreachable,
    // the audit log unavailable, a bucket short): the use is undone, so the person's yes is not
    // lost and the identical retry with Airlock-Approval goes once (it is decided again from the start).
    onRefused(ctx, rejection) {
      const used = approvedIds.get(ctx);
      if (!used?.usedAt || !queue.giveBack || !leavesApproval(rejection)) return;
      approvedIds.delete(ctx);
      return queue.giveBack(used.id, used.usedAt).catch(() => undefined);
    },
  };
}
