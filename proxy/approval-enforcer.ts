// Holds requests the policy answered `approve` for until a human decides.
//
// describe: offers the policy the human grants that match the request (input.grants), so a grant
//   works only where the policy honours it.
// beforeForward (action "approve"): creates an approval record — or, when the agent retries with
//   `Airlock-Approval: ID`, claims that approval if it is bound to this exact request — then holds
//   the connection until approved (continue), denied (403 with the human's message) or timed out
//   (403 with the approval id to retry with). The Airlock-Approval header never leaves the proxy.
import { ApprovalError, ApprovalQueue, holdMs, requestHash, type ApprovalRecord } from '../engine/approvals.ts';
import { TotpStore } from '../engine/totp.ts';
import { WebhookNotifier } from '../engine/webhook.ts';
import type { Enforcer, Rejection, RequestContext } from './enforcers.ts';
import type { AirlockParts } from './runtime.ts';

export const APPROVAL_HEADER = 'airlock-approval';

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
    extra: { approval_id: a.id, ...(msg ? { message: msg } : {}) },
    outcome: 'approval-denied',
  };
}

function timedOut(a: ApprovalRecord, waitedMs: number): Rejection {
  return {
    status: 403,
    type: 'approval-timeout',
    title: 'Approval pending',
    detail: `${a.reason} — no one approved within ${Math.round(waitedMs / 1000)} s. The approval stays open until ${a.retry_until}: once a human approves it, send the identical request again with the header "Airlock-Approval: ${a.id}".`,
    extra: { approval_id: a.id, retry_header: 'Airlock-Approval', approvable_until: a.retry_until },
    outcome: 'approval-timeout',
  };
}

function refused(detail: string, approvalId?: string): Rejection {
  return { status: 403, type: 'approval-invalid', title: 'Approval does not apply', detail, ...(approvalId ? { extra: { approval_id: approvalId } } : {}), outcome: 'approval-refused' };
}

export function approvalEnforcer(queue: ApprovalQueue): Enforcer {
  return {
    name: 'approvals',
    handlesApproval: true,

    describe(d) {
      d.grants = queue.matchingGrants(d);
    },

    async beforeForward(ctx: RequestContext): Promise<Rejection | undefined> {
      const retryId = headerValue(ctx);
      stripHeader(ctx);
      if (ctx.decision.action !== 'approve') return undefined;

      // Bound to the method, URL, body, agent and every end-to-end header going upstream (the
      // Airlock-Approval header was stripped above): a retry must be the request the human saw.
      const hash = requestHash(ctx.description, ctx.outgoing.headers);
      let approval: ApprovalRecord;
      if (retryId) {
        const claim = queue.claimRetry(retryId, ctx.description, hash);
        if (claim.approval) ctx.audit.approval_id = claim.approval.id;
        if (claim.kind === 'approved') {
          ctx.audit.approval = 'approved-retry';
          return undefined;
        }
        if (claim.kind === 'denied') return denied(claim.approval, ctx.decision.reason);
        if (claim.kind === 'refused') return refused(claim.reason, claim.approval?.id);
        approval = claim.approval; // still pending: hold again on the same approval
      } else {
        try {
          approval = await queue.create(ctx.description, ctx.decision, hash);
        } catch (err) {
          if (err instanceof ApprovalError && err.code === 'too-many') {
            return { status: 429, type: 'approvals-backlog', title: 'Too many pending approvals', detail: err.message, headers: { 'retry-after': '60' }, extra: { retry_after: 60 }, outcome: 'approval-refused' };
          }
          throw err;
        }
        ctx.audit.approval_id = approval.id;
      }

      // Hold until the record's own expiry (a retry holds at most what is left, at least the policy's hold).
      const timeoutMs = retryId ? holdMs(ctx.decision) : Math.max(0, Date.parse(approval.expires) - Date.now());
      const started = Date.now();
      const outcome = await queue.wait(approval.id, { timeoutMs, signal: ctx.signal });
      ctx.audit.approval = outcome;
      switch (outcome) {
        case 'approved':
          if (approval.resolution) ctx.audit.approved_by = approval.resolution.by;
          return undefined;
        case 'denied':
          return denied(approval, ctx.decision.reason);
        case 'timeout':
          return timedOut(approval, Date.now() - started);
        case 'used':
          return refused(`approval ${approval.id} was used by another request (approvals are single-use)`, approval.id);
        case 'aborted':
        default:
          return { status: 499, type: 'client-closed', title: 'Client closed the request', detail: 'the agent went away while the request was held for approval', extra: { approval_id: approval.id }, outcome: 'client-aborted' };
      }
    },
  };
}

/**
 * Builds the approvals part of a running Airlock (proxy/runtime.ts enforcer list): the queue in the
 * state folder, TOTP step-up, the webhook (config `approvalWebhook`, AIRLOCK_APPROVAL_WEBHOOK, or
 * `airlock approvals webhook URL`), and the enforcer. Exposes the queue as `parts.approvals` for
 * the studio.
 */
export async function approvalPart(parts: AirlockParts): Promise<Enforcer> {
  const totp = new TotpStore(parts.home);
  let hook: WebhookNotifier | undefined;
  let hookUrl: string | undefined;
  const notify = (event: unknown): void => {
    const url = (parts.config as unknown as Record<string, unknown>).approvalWebhook as string | undefined
      ?? process.env.AIRLOCK_APPROVAL_WEBHOOK
      ?? queue.settings.webhook;
    if (!url) return;
    if (url !== hookUrl) {
      hook?.close();
      hookUrl = url;
      try {
        hook = new WebhookNotifier({ url });
      } catch (err) {
        hook = undefined;
        process.stderr.write(`airlock: approval webhook not used: ${(err as Error).message}\n`);
      }
    }
    hook?.notify(event);
  };
  const queue: ApprovalQueue = await ApprovalQueue.open(parts.home, { totp, notify });
  (parts as AirlockParts & { approvals?: ApprovalQueue; totp?: TotpStore }).approvals = queue;
  (parts as AirlockParts & { totp?: TotpStore }).totp = totp;
  parts.onClose.push(async () => {
    hook?.close();
    await queue.close();
  });
  return approvalEnforcer(queue);
}
