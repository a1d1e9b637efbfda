// The approvals queue: requests a policy answered `approve` for, waiting on a human.
//
// A record holds a bounded copy of the redacted description, the policy's reason/rule/risk, its
// expiry and the request hash (method + URL + end-to-end headers + body sha256 + agent) it is bound
// to. Each approval is a file of its own in <home>/approvals/ (the whole description beside it, in
// <id>.request.json, read only when someone asks for it), so a change rewrites one small file and
// memory per approval is bounded whatever the agent sent; grants and settings live in
// <home>/approvals.json. A restart keeps everything. Every change is emitted to subscribers at once
// (the studio broadcasts them over its WebSocket).
//
// Lifecycle: pending → approved | denied | expired. While pending, the agent's request is held
// (`wait`) until the hold timeout. When the hold times out the record stays pending until
// `retry_until` (default 24 h): a human can still approve it, and the agent's identical retry
// carrying `Airlock-Approval: ID` then passes (`claimRetry`). An approval is used at most once
// (`used_at`): by the held request if one is waiting, otherwise by the first matching retry.
//
// Grants ("allow similar for N minutes") are stored here and offered to the policy as
// input.grants by the approval enforcer's describe hook. A grant records the approval's risk and
// semantic scope (engine/grant-scope.ts); the engine lets it stand in only for an approve of the
// same operation at that risk or lower (engine/grants.ts), and the policy stays the authority.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { boundedCopy } from '../lib/bounded.ts';
import { equalPart } from '../lib/tally.ts';
import type { AbortLike } from '../lib/abort-flag.ts';
import { openDocument, StateFileError, type Document } from './document.ts';
import { stateFile } from './home.ts';
import { RecordDir } from './record-dir.ts';
import type { TotpStore } from './totp.ts';
import type { Grant, RequestDescription, RequestInfo, Risk } from '../describe/types.ts';
import { credentialHeaderNamed } from '../describe/describe.ts';
import { credentialQueryParams } from '../describe/body.ts';
import type { CredentialDirective, EngineDecision } from '../engine/decision.ts';
import { durationMs } from '../engine/decision-contract.ts';
import { globMatch } from '../lib/glob.ts';
import { boundHeaders, escapeGlob } from './approval-binding.ts';
import { grantTarget, opaqueScope, opaqueTarget, operationScope, pathPatternCovers } from '../engine/grant-scope.ts';
import { credentialSlot } from '../engine/grants.ts';
import { ChangeFeed } from '../lib/change-feed.ts';

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired';

export interface Resolution {
  /** Who resolved it: the channel ("studio", "cli", "api") or "timeout". */
  by: string;
  message?: string;
  at: string;
  grant_id?: string;
  /** True when a TOTP code was checked for this resolution. */
  step_up?: boolean;
}

export interface ApprovalRecord {
  id: string;
  agent: string;
  /**
   * The redacted description the policy saw, cut to about 16 KiB (long strings, lists and bodies
   * shortened with a marker) when `description_complete` is false; the whole one is on disk
   * (ApprovalQueue.fullDescription).
   */
  description: RequestDescription;
  description_complete: boolean;
  /** Size of the whole description, serialized (what a held request of this agent costs). */
  description_bytes: number;
  /** One-line summary for lists and notifications. */
  summary: { method: string; host: string; path: string; operation?: string; effect?: string };
  reason: string;
  rule?: string;
  risk: Risk;
  step_up: boolean;
  /** Earlier requests of the agent's session that made this one need a human (decision approval.because). */
  because?: string[];
  /** The session the request belongs to. */
  session?: string;
  policy_version?: string;
  /**
   * The secrets Airlock puts into the request once it is approved (the decision's credential
   * directives, names and slots only): the card says whose credentials it acts with, and that a
   * credential header no directive writes is the agent's own.
   */
  credentials?: Array<{ secret: string; in: CredentialDirective['in']; name?: string }>;
  created: string;
  /** End of the hold: the agent's request gets 403 approval-timeout at this time. */
  expires: string;
  /** Until when the approval can still be resolved and used by a retry. */
  retry_until: string;
  status: ApprovalStatus;
  resolution?: Resolution;
  /** sha256 of method + URL + body sha256 + agent + end-to-end headers (requestHash). */
  request_hash: string;
  /** Whether the body hash covers the whole body (false when the body exceeded the capture cap). */
  body_complete: boolean;
  /**
   * The body in `description` is a shortened copy (the whole one is in fullDescription). Records
   * written before this field existed: read `description_complete === false` as cut (bodyCut).
   */
  body_cut?: boolean;
  /** When the approval was consumed by a request (single use). */
  used_at?: string;
}

export interface GrantRecord extends Grant {
  created: string;
  approval_id: string;
  by: string;
}

export type ApprovalEvent =
  /** held: a request waits on it now (again); released: the last one stopped waiting (timeout, agent gone) while it is still pending. */
  | { type: 'created' | 'resolved' | 'expired' | 'used' | 'held' | 'released'; approval: ApprovalRecord }
  | { type: 'grant-created' | 'grant-revoked'; grant: GrantRecord };

export type WaitOutcome = 'approved' | 'denied' | 'timeout' | 'aborted' | 'used';

export type RetryClaim =
  | { kind: 'approved'; approval: ApprovalRecord }
  | { kind: 'pending'; approval: ApprovalRecord }
  | { kind: 'denied'; approval: ApprovalRecord }
  | { kind: 'refused'; reason: string; approval?: ApprovalRecord };

export type ApprovalErrorCode = 'not-found' | 'ambiguous' | 'not-pending' | 'step-up-required' | 'totp-invalid' | 'totp-locked' | 'bad-request' | 'too-many';

export class ApprovalError extends Error {
  constructor(readonly code: ApprovalErrorCode, message: string) {
    super(message);
  }
}

interface ApprovalsDoc {
  /** 1: approvals were kept in this document (migrated to <home>/approvals/ on open); 2: grants and settings only. */
  version: 1 | 2;
  approvals?: ApprovalRecord[];
  grants: GrantRecord[];
  settings: { webhook?: string };
}

/** How much of a description an approval keeps in memory (and sends in lists and events). */
export const APPROVAL_DESCRIPTION_BYTES = 16 * 1024;

export interface ApprovalQueueOptions {
  now?: () => number;
  totp?: Pick<TotpStore, 'enrolled' | 'verify'> & Partial<Pick<TotpStore, 'retryAfter'>> & { refresh?(): Promise<void> };
  /** Called (never awaited) with each new approval: the webhook. */
  notify?: (event: { type: 'approval.created'; approval: ReturnType<typeof publicSummary> }) => void;
  /** How long an unresolved approval stays approvable for a retry (ms, default 24 h). */
  retryWindowMs?: number;
  /** Pending approvals allowed per agent / in total before new ones are refused (50 / 1000). */
  maxPendingPerAgent?: number;
  maxPending?: number;
  /**
   * Serialized bytes of the descriptions of requests within their hold, per agent / in total
   * (16 MiB / 64 MiB): past it new holds are refused, so held uploads cannot exhaust memory.
   */
  maxHeldBytesPerAgent?: number;
  maxHeldBytes?: number;
  /** Resolved approvals kept for the record (default 7 days, at most 2000). */
  keepResolvedMs?: number;
  /** Sweep interval for expiries (ms, default 30 s; 0 = none). */
  sweepMs?: number;
  /**
   * Whether a use, a decision and the grants document are synced to the disk before they count
   * (default true; RecordDir.writeText). False only where no disk matters: tests of what a grant
   * covers, which give a thousand grants.
   */
  durable?: boolean;
}

export interface ApproveOptions {
  by: string;
  message?: string;
  totp?: string;
  /** Also create a grant: allow similar requests for this many minutes. */
  grantMinutes?: number;
  /** Path pattern for the grant when the request has no recognized operation (default: its path). */
  pathPattern?: string;
  /** A grant for a high-risk approval needs this explicit choice. */
  grantHigh?: boolean;
}

export const DEFAULT_HOLD_MS = 2 * 60_000;
/** A policy cannot hold an agent's connection longer than this. */
export const MAX_HOLD_MS = 60 * 60_000;
export const MAX_GRANT_MINUTES = 7 * 24 * 60;
const MAX_MESSAGE = 1000;

/**
 * The hash an approval is bound to: method, normalized URL, body sha256, agent, and the end-to-end
 * headers that go upstream (`headers`: hop-by-hop ones and Airlock-Approval already removed). A
 * retry that changes any of them (X-HTTP-Method-Override, Stripe-Account, Content-Type, a cookie)
 * is another request, which the human did not see.
 */
export function requestHash(d: RequestDescription, headers: ReadonlyArray<readonly [string, string]> = []): string {
  return crypto
    .createHash('sha256')
    // The agent's registration time too (when known): an agent removed and added again under the
    // same name cannot retry what was approved for the earlier one.
    .update(JSON.stringify([d.request.method.toUpperCase(), d.request.url, d.request.body.sha256, d.agent.id, boundHeaders(headers), ...(d.agent.created ? [d.agent.created] : [])]))
    .digest('hex');
}

/**
 * Why a retry under `Airlock-Approval` is not the request the approval was given for, or undefined
 * when it is: the same request (requestHash: method, URL, body, end-to-end headers, agent and its
 * registration) from the same session. A session is one token's life — one `airlock run`, or a
 * long-lived token until a human resets it — and the person approved the request of that one: the
 * agent's other runs (another sandbox, another task, a context nobody looked at) may not take its
 * single use, nor its answer (twenty-ninth pass). An approval recorded without a session (a proxy
 * that keeps none) is bound by the hash alone.
 */
export function retryNotFor(a: Pick<ApprovalRecord, 'id' | 'agent' | 'request_hash' | 'session'>, description: RequestDescription, hash: string): string | undefined {
  if (a.agent !== description.agent.id || a.request_hash !== hash) {
    return `approval ${a.id} was given for a different request (method, URL, headers, body and agent must be identical)`;
  }
  if (a.session !== undefined && a.session !== description.session?.id) {
    return `approval ${a.id} was given for a request of another session of agent ${a.agent} (another run or token, or a session since reset): only that session may use it; send the request without Airlock-Approval to ask a human again`;
  }
  return undefined;
}

const riskOrder: Record<Risk, number> = { low: 1, medium: 2, high: 3, critical: 4 };

/**
 * Why an approval does not cover a retry decided now, or undefined when it does. The retry is the
 * same request (requestHash), but the decision may have changed since the human approved (another
 * policy version, other data, other session labels): a riskier verdict, a step-up the approval
 * did not have, or a secret the card did not say would be sent is not what the human approved.
 */
export function retryExceedsApproval(a: Pick<ApprovalRecord, 'id' | 'risk' | 'step_up' | 'credentials' | 'resolution'>, decision: Pick<EngineDecision, 'approval' | 'credentials'>): string | undefined {
  const risk = decision.approval?.risk ?? 'medium';
  if ((riskOrder[risk] ?? 4) > (riskOrder[a.risk] ?? 4)) return `approval ${a.id} was given at ${a.risk} risk and the request is now decided at ${risk} risk (the policy or its data changed): it needs a new approval`;
  if (decision.approval?.step_up === true && !a.step_up && a.resolution?.step_up !== true) return `approval ${a.id} was given without step-up and the request now asks for it: it needs a new approval`;
  const approved = new Set((Array.isArray(a.credentials) ? a.credentials : []).map(credentialSlot));
  const extra = (decision.credentials ?? []).map(credentialSlot).filter((c) => !approved.has(c));
  if (extra.length) return `approval ${a.id} did not say the request would carry ${extra.slice(0, 3).join(', ')} (the policy or its data changed): it needs a new approval`;
  return undefined;
}

/** The hold time a decision asks for: approval.timeout, default 2 min, at most 1 h. */
export function holdMs(decision: Pick<EngineDecision, 'approval'>): number {
  const t = decision.approval?.timeout;
  if (t === undefined) return DEFAULT_HOLD_MS;
  const ms = durationMs(t);
  return Number.isFinite(ms) && ms >= 0 ? Math.min(ms, MAX_HOLD_MS) : DEFAULT_HOLD_MS;
}

/** A human's message as it may reach the agent: one line, bounded. */
export function cleanMessage(m: string | undefined): string | undefined {
  if (m === undefined) return undefined;
  const s = m.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim().slice(0, MAX_MESSAGE);
  return s || undefined;
}


/**
 * Query parameters that carry a credential. With a credential directive Airlock takes the agent's
 * own `access_token`, `api_key`, `apikey`, `api-key`, `private_token`, `auth_token` and `token` out
 * of the request (proxy/credential-placement.ts CREDENTIAL_PARAMS); the others here (Google's
 * `key`, OAuth's `client_secret`) go out whatever the decision.
 */
const REMOVED_WITH_A_DIRECTIVE = new Set(['access_token', 'api_key', 'apikey', 'api-key', 'private_token', 'auth_token', 'token']);
const CREDENTIAL_PARAMS = credentialQueryParams;

/**
 * Credentials the agent sent of its own, that no credential directive of the decision writes: their
 * values are the agent's (a placeholder anywhere but a directive's slot is refused by the proxy),
 * so the request acts as whoever they belong to — an attacker's account, when an injected prompt
 * handed the token over. Header names: the credential headers the description shows redacted
 * (`Bearer [redacted]`: describe/describe.ts redactHeaderValue, the person's and the agent's alike)
 * and headers named as credentials; `query parameter NAME` for a credential in the query
 * (`?access_token=`, Google's `?key=`), which the card showed in the URL with no word of whose it is.
 */
export function agentCredentialHeaders(a: Pick<ApprovalRecord, 'credentials' | 'description'>): string[] {
  const written = new Set<string>();
  const directives = Array.isArray(a.credentials) ? a.credentials : [];
  for (const c of directives) {
    if (c.in === 'header' && c.name) written.add(c.name.toLowerCase());
    else if (c.in === 'basic') written.add('authorization');
    else if (c.in === 'query' && c.name) written.add(`?${c.name.toLowerCase()}`);
  }
  const request = a.description?.request;
  const headers = request?.headers && typeof request.headers === 'object' ? request.headers : {};
  const own = Object.entries(headers)
    .filter(([n, vs]) => {
      const name = n.toLowerCase();
      if (written.has(name)) return false;
      return (Array.isArray(vs) ? vs : [vs]).some((v) => String(v).endsWith('[redacted]')) || credentialHeaderNamed(name);
    })
    .map(([n]) => n);
  const query = request?.query && typeof request.query === 'object' ? request.query : {};
  for (const n of Object.keys(query)) {
    const name = n.toLowerCase();
    if (!CREDENTIAL_PARAMS.has(name) || written.has(`?${name}`) || (directives.length && REMOVED_WITH_A_DIRECTIVE.has(name))) continue;
    own.push(`query parameter ${n}`);
  }
  return own;
}

/** What leaves the process in notifications: a summary, never headers, body or query string. */
/**
 * Text the agent chose, made unreadable as a link: a dot between two letters or digits (any of the
 * dots URL parsers read as one) becomes `[.]`, `://` becomes `[:]//`. A chat that unfurls links
 * fetches what it finds in a message before anyone reads it, so a held request's host and path
 * (`<data>.evil.example`, `/c/<data>`) relayed into one would leave without a human (fifteenth pass).
 */
export function defanged(text: string): string {
  return text.replace(/:\/\//g, '[:]//').replace(/(?<=[\p{L}\p{N}_-])[.\u3002\uff0e\uff61](?=[\p{L}\p{N}_-])/gu, '[.]');
}

/** The summary the approval webhook sends: host, path and reason defanged (chats unfurl links). */
export function publicSummary(a: ApprovalRecord) {
  return {
    id: a.id,
    agent: a.agent,
    method: a.summary.method,
    host: defanged(a.summary.host),
    path: defanged(a.summary.path),
    ...(a.summary.operation ? { operation: a.summary.operation } : {}),
    reason: defanged(a.reason),
    ...(a.rule ? { rule: a.rule } : {}),
    risk: a.risk,
    step_up: a.step_up,
    status: a.status,
    created: a.created,
    expires: a.expires,
  };
}

/**
 * Path glob with the semantics of Rego's `glob.match(pattern, ["/"], path)`, which the base policy
 * re-checks: `*` is any run of characters within one segment, `**` any run across segments, `?`
 * one character within a segment.
 */
export function pathMatches(pattern: string, path: string): boolean {
  return globMatch(pattern, path);
}

function checkPathPattern(pattern: string): void {
  // Brackets, braces and backslashes only escaped (\[ \{ \\ \* \?): Rego's glob gives them meanings this matcher does not.
  const unescaped = pattern.replace(/\\[*?[\]{}\\]/g, '');
  if (!pattern.startsWith('/') || pattern.length > 500 || /[\s#[\]{}\\]/.test(unescaped)) {
    throw new ApprovalError('bad-request', 'path pattern must start with "/" and hold no spaces, "#", or unescaped brackets, braces or backslashes (* = within one segment, ** = across segments, ? = one character, \\* = a literal star)');
  }
}

function mib(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '');
}

/** The bounded copy of a description an approval record keeps (the whole one is stored beside it). */
export function boundedDescription(description: RequestDescription, full: string): Pick<ApprovalRecord, 'description' | 'description_complete' | 'description_bytes' | 'body_cut'> {
  // Strings up to 8 KiB stay whole, so a body preview (4 KiB by default) is kept as the policy saw it.
  const copy = boundedCopy(description, APPROVAL_DESCRIPTION_BYTES, { maxString: 8 * 1024 });
  const value = copy.cut ? withEssentials(copy.value as RequestDescription, description) : (copy.value as RequestDescription);
  // A parsed body cut in the copy must not be shown (or approved) as the whole body.
  const bodyCut = copy.cut && JSON.stringify(value.request?.body) !== JSON.stringify(description.request.body);
  return { description: value, description_complete: !copy.cut, description_bytes: Buffer.byteLength(full), body_cut: bodyCut };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A shortened copy keeps the request's shape whatever the agent spent the budget on (a URL and a
 * query of 8 KiB each used it all): method, URL, host, path, the body's size, hash and type, and
 * the headers that say how to read the body. Everything reading a record relies on them.
 */
function withEssentials(copy: RequestDescription, d: RequestDescription): RequestDescription {
  const r = d.request;
  const max = 8 * 1024;
  const cut = (s: string): string => (s.length <= max ? s : `${s.slice(0, max)}… (${s.length - max} more characters)`);
  const c: Partial<RequestInfo> = isObject(copy.request) ? copy.request : {};
  const body = isObject(c.body) && typeof c.body.size === 'number' && typeof c.body.sha256 === 'string' ? c.body
    : { size: r.body.size, sha256: r.body.sha256, content_type: r.body.content_type, truncated: r.body.truncated };
  const headers: Record<string, string[]> = isObject(c.headers) ? { ...c.headers } : {};
  for (const name of ['content-type', 'content-encoding']) {
    const v = r.headers[name];
    if (v && !Array.isArray(headers[name])) headers[name] = v.map(cut);
  }
  return {
    ...copy,
    agent: isObject(copy.agent) ? copy.agent : ({ id: d.agent.id } as RequestDescription['agent']),
    request: { ...c, id: r.id, time: r.time, method: r.method, url: cut(r.url), scheme: r.scheme, host: cut(r.host), port: r.port, path: cut(r.path), headers, body } as RequestInfo,
  };
}

/**
 * Why an approved approval's retry is refused once its retry window (`retry_until`, the agent's
 * `approvable_until`) has passed: a person approved the request for then, not for a later week.
 */
export function pastRetryWindow(a: Pick<ApprovalRecord, 'id' | 'retry_until'>): string {
  return `approval ${a.id} was approved but not used by ${a.retry_until} (approvable_until): it expired; send the request again to have it approved as things stand now`;
}

/** Whether the record's copy of the body is shortened (see ApprovalRecord.body_cut). */
export function bodyCut(a: Pick<ApprovalRecord, 'body_cut' | 'description_complete'>): boolean {
  return a.body_cut ?? a.description_complete === false;
}

/**
 * Refuses a new hold past the bounds: pending approvals per agent and in all, and the bytes of
 * descriptions of requests within their hold (held uploads cannot exhaust memory). Past a bound
 * in all, an agent is refused only while it would hold more than its equal part (lib/tally.ts
 * `equalPart`: the room left under one and a half bounds, shared by the agents holding some,
 * itself counted): a fixed part each (16 of 64 MiB, 50 of 1,000) let four agents' uploads (twenty
 * agents' requests) at once refuse every other agent's held request (eighteenth pass); a part of the
 * bound itself let agents arriving one after another add up to bound × (1 + 1/2 + … + 1/n) and left
 * a newcomer a part below one request (twentieth). A newcomer always has one request, or
 * `APPROVAL_DESCRIPTION_BYTES` of data, held.
 */
export function checkCapacity(pending: ApprovalRecord[], agent: string, bytes: number, t: number, opts: Pick<ApprovalQueueOptions, 'maxPending' | 'maxPendingPerAgent' | 'maxHeldBytes' | 'maxHeldBytesPerAgent'>): void {
  const maxAgent = opts.maxPendingPerAgent ?? 50;
  const maxAll = opts.maxPending ?? 1000;
  const mineCount = pending.filter((a) => a.agent === agent).length;
  const pendingAgents = new Set(pending.map((a) => a.agent));
  const countPart = equalPart(maxAll, pending.length, pendingAgents.size, mineCount === 0);
  if (mineCount >= maxAgent || (pending.length >= maxAll && mineCount >= countPart)) {
    throw new ApprovalError('too-many', `too many pending approvals${mineCount >= maxAgent ? ` for agent ${agent}` : ` (agent ${agent} holds its equal part, ${countPart}, of what is left of ${maxAll} among ${pendingAgents.add(agent).size} agents)`}; resolve some first`);
  }
  const holding = pending.filter((a) => Date.parse(a.expires) > t);
  const heldBy = (who?: string): number => holding.reduce((n, a) => n + (who === undefined || a.agent === who ? a.description_bytes ?? 0 : 0), 0);
  const maxAgentBytes = opts.maxHeldBytesPerAgent ?? 16 * 1024 * 1024;
  const maxAllBytes = opts.maxHeldBytes ?? 64 * 1024 * 1024;
  const agentBytes = heldBy(agent);
  const holders = new Set(holding.filter((a) => (a.description_bytes ?? 0) > 0).map((a) => a.agent));
  const mine = agentBytes + bytes > maxAgentBytes;
  const bytesPart = equalPart(maxAllBytes, heldBy(), holders.size, agentBytes === 0, APPROVAL_DESCRIPTION_BYTES);
  if (mine || (heldBy() + bytes > maxAllBytes && agentBytes + bytes > bytesPart)) {
    throw new ApprovalError('too-many', `requests held for approval${mine ? ` by agent ${agent}` : ''} already hold ${mib(mine ? agentBytes : heldBy())} MiB of request data (at most ${mib(mine ? maxAgentBytes : maxAllBytes)} MiB${mine ? '' : `, agent ${agent} past its equal part of what is left among ${holders.add(agent).size} agents`}); resolve some first`);
  }
}

/** A new pending approval for a request the policy answered `approve` for (not stored yet). */
/** A fresh approval id (a request may take one before its approval is created: its bytes are held under it). */
export function newApprovalId(): string {
  return `ap_${crypto.randomBytes(8).toString('hex')}`;
}

export function newApprovalRecord(description: RequestDescription, decision: EngineDecision, hash: string, full: string, t: number, retryWindowMs?: number, id = newApprovalId()): ApprovalRecord {
  const r = description.request;
  return {
    id,
    agent: description.agent.id,
    ...boundedDescription(description, full),
    summary: {
      method: r.method.toUpperCase(),
      host: r.host,
      path: r.path,
      ...(description.service ? { operation: `${description.service.name}:${description.service.operation}`, effect: description.service.effect } : {}),
    },
    reason: decision.reason,
    ...(decision.rule ? { rule: decision.rule } : {}),
    risk: decision.approval?.risk ?? 'medium',
    step_up: decision.approval?.step_up === true,
    ...(decision.approval?.because?.length ? { because: [...decision.approval.because] } : {}),
    ...(description.session ? { session: description.session.id } : {}),
    ...(decision.policy_version ? { policy_version: decision.policy_version } : {}),
    ...(decision.credentials?.length ? { credentials: decision.credentials.map((c) => ({ secret: c.secret, in: c.in, ...(c.name ? { name: c.name } : {}) })) } : {}),
    created: new Date(t).toISOString(),
    expires: new Date(t + holdMs(decision)).toISOString(),
    retry_until: new Date(t + Math.max(holdMs(decision), retryWindowMs ?? 24 * 3_600_000)).toISOString(),
    status: 'pending',
    request_hash: hash,
    body_complete: !r.body.truncated,
  };
}

export type GrantSpec = Omit<GrantRecord, 'id' | 'created' | 'approval_id' | 'by' | 'expires'>;

/**
 * The grant an approval asks for ("allow similar for N minutes"), checked: none for critical or
 * step-up requests, an explicit choice for high risk, its scope from the whole description.
 */
export async function planGrant(a: ApprovalRecord, opts: ApproveOptions, whole: () => Promise<RequestDescription | undefined>): Promise<{ spec: GrantSpec; ms: number } | undefined> {
  if (opts.grantMinutes === undefined) return undefined;
  if (!Number.isInteger(opts.grantMinutes) || opts.grantMinutes < 1 || opts.grantMinutes > MAX_GRANT_MINUTES) {
    throw new ApprovalError('bad-request', `grant minutes must be a whole number from 1 to ${MAX_GRANT_MINUTES}`);
  }
  if (a.risk === 'critical') throw new ApprovalError('bad-request', 'critical requests are approved one at a time: no grant for similar requests');
  if (a.step_up) throw new ApprovalError('bad-request', 'step-up requests are approved one at a time: no grant for similar requests');
  if (a.because?.length) throw new ApprovalError('bad-request', 'this request is held because of what its session has read (untrusted content and private data): such requests are approved one at a time, no grant for similar requests');
  if (a.risk === 'high' && opts.grantHigh !== true) {
    throw new ApprovalError('bad-request', 'this request is high risk: allowing similar requests without asking needs an explicit choice (grant_high: true, or --grant-high)');
  }
  if (opts.pathPattern !== undefined) checkPathPattern(opts.pathPattern);
  // The grant's scope comes from the whole description (the record keeps a bounded copy).
  const d = (await whole()) ?? a.description;
  // An unrecognized route is no operation to grant: such grants are bound to the path.
  const op = d.service?.operation;
  const byOperation = op !== undefined && op !== 'unknown' && opts.pathPattern === undefined;
  const scope = operationScope(d);
  const opaque = opaqueScope(scope);
  if (opaque.length) throw new ApprovalError('bad-request', `what this request does cannot be read (${opaque.join(', ')}): it is approved one at a time, no grant for similar requests`);
  // Where it acted (its repository, channel, table …): similar requests elsewhere are not covered.
  const target = grantTarget(d);
  if (target !== undefined && opaqueTarget(target)) throw new ApprovalError('bad-request', `where this request acts is not in it (${target}): it is approved one at a time, no grant for similar requests`);
  return {
    spec: {
      agent: a.agent,
      // Which agent of that name: one removed and added again is not covered.
      ...(typeof d.agent?.created === 'string' ? { agent_created: d.agent.created } : {}),
      method: a.summary.method,
      host: a.summary.host,
      scheme: d.request.scheme,
      port: d.request.port,
      // By default exactly the approved path: its own * ? [ ] { } \ are literal characters, not wildcards.
      ...(byOperation ? { operation: op } : { path_pattern: opts.pathPattern ?? escapeGlob(a.summary.path) }),
      risk: a.risk,
      ...(scope.length ? { scope } : {}),
      // `""`: the approved request named no place (the key's default project, say); such a grant
      // covers only requests that name none (engine/grants.ts).
      target: target ?? '',
      // Whose credentials the human saw it sent with (the card names them).
      credentials: (Array.isArray(a.credentials) ? a.credentials : []).map(credentialSlot),
      // Whose account of the agent's own it was sent with (a digest, never a value; `""`: none).
      own_credentials: typeof d.request.own_credentials === 'string' ? d.request.own_credentials : '',
    },
    ms: opts.grantMinutes * 60_000,
  };
}

/** Active grants that match a request: same agent, method and host, and operation or path pattern. */
export function grantsMatching(grants: GrantRecord[], d: RequestDescription, t: number): Grant[] {
  const out: Grant[] = [];
  for (const g of grants) {
    if (Date.parse(g.expires) <= t) continue;
    if (g.agent !== d.agent.id || g.method !== d.request.method.toUpperCase() || g.host !== d.request.host) continue;
    if (g.agent_created !== undefined && g.agent_created !== d.agent.created) continue;
    if ((g.scheme !== undefined && g.scheme !== d.request.scheme) || (g.port !== undefined && g.port !== d.request.port)) continue;
    if (g.operation !== undefined) {
      if (d.service?.operation !== g.operation) continue;
    } else if (g.path_pattern === undefined || !pathPatternCovers(g.path_pattern, d.request.path)) {
      continue;
    }
    out.push({
      id: g.id, agent: g.agent, method: g.method, host: g.host, expires: g.expires,
      ...(g.agent_created !== undefined ? { agent_created: g.agent_created } : {}),
      ...(g.scheme !== undefined ? { scheme: g.scheme } : {}),
      ...(g.port !== undefined ? { port: g.port } : {}),
      ...(g.operation !== undefined ? { operation: g.operation } : {}),
      ...(g.path_pattern !== undefined ? { path_pattern: g.path_pattern } : {}),
      ...(g.risk !== undefined ? { risk: g.risk } : {}),
      ...(g.scope !== undefined ? { scope: g.scope } : {}),
      ...(g.target !== undefined ? { target: g.target } : {}),
      ...(Array.isArray(g.credentials) ? { credentials: g.credentials } : {}),
      ...(typeof g.own_credentials === 'string' ? { own_credentials: g.own_credentials } : {}),
    });
  }
  return out;
}

export class ApprovalQueue {
  private readonly changes = new ChangeFeed<ApprovalEvent>();
  private readonly waiters = new Map<string, Array<(o: WaitOutcome) => void>>();
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  private constructor(
    private readonly doc: Document<ApprovalsDoc>,
    private readonly records: RecordDir,
    private approvals: ApprovalRecord[],
    private readonly opts: ApprovalQueueOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  static async open(home: string, opts: ApprovalQueueOptions = {}): Promise<ApprovalQueue> {
    // Durable: a grant revoked (or created and reported) stays so across a power loss.
    const doc = await openDocument<ApprovalsDoc>(stateFile(home, 'approvals'), { version: 2, grants: [], settings: {} }, { mode: 0o600, durable: opts.durable !== false });
    if ((doc.data.approvals !== undefined && !Array.isArray(doc.data.approvals)) || !Array.isArray(doc.data.grants)) {
      throw new StateFileError(doc.file, 'approvals and grants must be lists');
    }
    if (!fs.existsSync(doc.file)) await doc.write();
    const records = RecordDir.open(stateFile(home, 'approvalRecords'));
    const approvals: ApprovalRecord[] = [];
    for (const name of records.names()) {
      if (name.endsWith('.request')) continue;
      const r = records.readSync(name) as ApprovalRecord | undefined;
      if (!r || typeof r !== 'object' || typeof r.id !== 'string' || typeof r.status !== 'string') {
        throw new StateFileError(path.join(records.dir, `${name}.json`), 'not an approval record');
      }
      approvals.push(r);
    }
    const q = new ApprovalQueue(doc, records, approvals, opts);
    await q.migrate();
    await q.sweep();
    const every = opts.sweepMs ?? 30_000;
    if (every > 0) {
      q.timer = setInterval(() => void q.sweep().catch(() => undefined), every);
      q.timer.unref();
    }
    return q;
  }

  get file(): string {
    return this.doc.file;
  }

  /** The folder holding one file per approval (and its whole description). */
  get folder(): string {
    return this.records.dir;
  }

  /**
   * Moves approvals from a version-1 approvals.json (descriptions inline) to one file each. The
   * files are written before the document is rewritten without them, so a crash in between
   * repeats the move on the next open and loses nothing.
   */
  private async migrate(): Promise<void> {
    const old = this.doc.data.approvals;
    if (old === undefined) return;
    const known = new Set(this.approvals.map((a) => a.id));
    for (const legacy of old) {
      if (!legacy || typeof legacy.id !== 'string' || known.has(legacy.id)) continue;
      const full = JSON.stringify(legacy.description ?? null);
      const record = { ...legacy, ...boundedDescription(legacy.description, full) };
      await this.records.writeText(`${legacy.id}.request`, full);
      await this.records.write(legacy.id, record);
      this.approvals.push(record);
    }
    await this.doc.update((d) => {
      delete d.approvals;
      d.version = 2;
    });
  }

  /**
   * Persists one approval's record (its own file only). `durable` for what must happen once (a use,
   * a person's decision): on the disk itself before it counts (RecordDir.writeText), so a power
   * loss after the request left cannot bring the approval back unused for its identical retry.
   */
  private save(a: ApprovalRecord, durable = false): Promise<void> {
    return this.records.write(a.id, a, { durable: durable && this.opts.durable !== false });
  }

  /** The whole description an approval was created for (the record keeps a bounded copy). */
  async fullDescription(id: string): Promise<RequestDescription | undefined> {
    const a = this.get(id);
    if (a.description_complete !== false) return a.description;
    return (await this.records.read(`${a.id}.request`)) as RequestDescription | undefined;
  }

  // ─── subscription ────────────────────────────────────────────────────────────────────────────

  /** Calls `fn` for every change (created, held, released, resolved, expired, used, grants); returns unsubscribe. */
  onChange(fn: (e: ApprovalEvent) => void): () => void {
    return this.changes.subscribe(fn);
  }

  private emit(e: ApprovalEvent): void {
    this.changes.emit(e);
  }

  // ─── reading ─────────────────────────────────────────────────────────────────────────────────

  list(filter: { status?: ApprovalStatus; agent?: string } = {}): ApprovalRecord[] {
    return this.approvals
      .filter((a) => (!filter.status || a.status === filter.status) && (!filter.agent || a.agent === filter.agent))
      .slice()
      .sort((a, b) => b.created.localeCompare(a.created));
  }

  /** Finds a record by id or by a unique id prefix of at least 6 characters. */
  get(idOrPrefix: string): ApprovalRecord {
    const all = this.approvals;
    const exact = all.find((a) => a.id === idOrPrefix);
    if (exact) return exact;
    if (idOrPrefix.length < 6) {
      throw new ApprovalError('bad-request', `"${idOrPrefix.slice(0, 40)}" is too short to name an approval: give its whole id or at least 6 characters of it (e.g. ap_3f9; see airlock approvals list)`);
    }
    const hits = all.filter((a) => a.id.startsWith(idOrPrefix));
    if (hits.length === 1) return hits[0]!;
    if (hits.length > 1) throw new ApprovalError('ambiguous', `approval id prefix ${idOrPrefix} matches ${hits.length} approvals; give more of it`);
    throw new ApprovalError('not-found', `no approval ${idOrPrefix}`);
  }

  async refreshStepUp(): Promise<void> {
    await this.opts.totp?.refresh?.();
  }

  /** Whether approving this record needs a TOTP code right now. */
  needsStepUp(a: Pick<ApprovalRecord, 'step_up' | 'risk'>): boolean {
    return (a.step_up || a.risk === 'critical') && (this.opts.totp?.enrolled() ?? false);
  }

  grants(includeExpired = false): GrantRecord[] {
    const t = this.now();
    return this.doc.data.grants.filter((g) => includeExpired || Date.parse(g.expires) > t);
  }

  /** Active grants that match a request: same agent, method and host, and operation or path pattern. */
  matchingGrants(d: RequestDescription): Grant[] {
    return grantsMatching(this.revoked.size ? this.doc.data.grants.filter((g) => !this.revoked.has(g.id)) : this.doc.data.grants, d, this.now());
  }

  get settings(): Readonly<ApprovalsDoc['settings']> {
    return this.doc.data.settings;
  }

  async setWebhook(url: string | undefined): Promise<void> {
    await this.doc.update((d) => {
      if (url) d.settings.webhook = url;
      else delete d.settings.webhook;
    });
  }

  // ─── creating and holding ────────────────────────────────────────────────────────────────────

  /** Creates a pending approval for a request the policy answered `approve` for. */
  async create(description: RequestDescription, decision: EngineDecision, hash = requestHash(description), id?: string): Promise<ApprovalRecord> {
    const t = this.now();
    const full = JSON.stringify(description);
    checkCapacity(this.approvals.filter((a) => a.status === 'pending'), description.agent.id, Buffer.byteLength(full), t, this.opts);
    const record = newApprovalRecord(description, decision, hash, full, t, this.opts.retryWindowMs, id);
    // Visible (and broadcast) at once; the request is held only once the record is on disk.
    this.approvals.push(record);
    this.emit({ type: 'created', approval: record });
    this.opts.notify?.({ type: 'approval.created', approval: publicSummary(record) });
    if (!record.description_complete) await this.records.writeText(`${record.id}.request`, full);
    await this.save(record);
    return record;
  }

  /**
   * Holds until the approval is resolved, `timeoutMs` passes or `signal` aborts. 'approved' means
   * this caller consumed the approval (single use); a second waiter on the same approval gets 'used'.
   */
  wait(id: string, opts: { timeoutMs: number; signal?: AbortLike }): Promise<WaitOutcome> {
    const a = this.approvals.find((x) => x.id === id);
    if (!a) return Promise.resolve('denied');
    if (a.status === 'denied' || a.status === 'expired') return Promise.resolve(a.status === 'denied' ? 'denied' : 'timeout');
    if (a.status === 'approved') {
      // A disk that cannot take the use rejects (a 503 at the proxy), never "used".
      const claim = this.consume(a);
      return claim === false ? Promise.resolve('used') : claim.then((ok) => (ok ? 'approved' : 'used'));
    }
    return new Promise((resolve) => {
      let done = false;
      const finish = (o: WaitOutcome): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        const list = this.waiters.get(id);
        if (list) {
          const i = list.indexOf(finish);
          if (i >= 0) list.splice(i, 1);
          if (!list.length) this.waiters.delete(id);
        }
        // Nobody waits any more but it can still be approved for the agent's retry: say so.
        if (!this.waiters.has(id) && a.status === 'pending') this.emit({ type: 'released', approval: a });
        resolve(o);
      };
      const onAbort = (): void => finish('aborted');
      const timer = setTimeout(() => finish('timeout'), opts.timeoutMs);
      if (opts.signal?.aborted) return finish('aborted');
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const list = this.waiters.get(id) ?? [];
      list.push(finish);
      this.waiters.set(id, list);
      if (list.length === 1) this.emit({ type: 'held', approval: a });
    });
  }

  /** Whether a request is being held on this approval right now. */
  isHeld(id: string): boolean {
    return (this.waiters.get(id)?.length ?? 0) > 0;
  }

  /**
   * A retry carrying `Airlock-Approval: ID`: the approval must exist, belong to the same agent and
   * be bound to the same request hash. Approved and unused → consumed now.
   */
  claimRetry(id: string, description: RequestDescription, hash = requestHash(description)): RetryClaim | Promise<RetryClaim> {
    let a: ApprovalRecord | undefined;
    try {
      a = this.get(id.trim());
      if (a.id !== id.trim()) a = undefined; // retries must name the full id
    } catch {
      a = undefined;
    }
    if (!a) return { kind: 'refused', reason: `no approval ${id.trim().slice(0, 40)}` };
    const other = retryNotFor(a, description, hash);
    if (other) return { kind: 'refused', reason: other, approval: a };
    if (!a.body_complete || description.request.body.truncated) {
      return { kind: 'refused', reason: `approval ${a.id} cannot be reused: the body is larger than the capture cap, so its hash does not cover it`, approval: a };
    }
    this.expireIfDue(a);
    switch (a.status) {
      case 'approved': {
        if (!a.used_at && Date.parse(a.retry_until) <= this.now()) return { kind: 'refused', reason: pastRetryWindow(a), approval: a };
        const used = { kind: 'refused' as const, reason: `approval ${a.id} was already used (approvals are single-use)`, approval: a };
        const claim = this.consume(a);
        if (claim === false) return used;
        // The use is on disk before the retry goes: a restart (or a write that failed) after the
        // retry left must not leave the approval unused for another one.
        return claim.then((ok) => (ok ? { kind: 'approved' as const, approval: a } : used), (err: Error) => ({
          kind: 'refused' as const, approval: a,
          reason: `approval ${a.id} could not be marked used (${String(err?.message ?? err).slice(0, 120)}), so the request was not sent; it is still approved: retry it`,
        }));
      }
      case 'pending':
        return { kind: 'pending', approval: a };
      case 'denied':
        return { kind: 'denied', approval: a };
      default:
        return { kind: 'refused', reason: `approval ${a.id} expired`, approval: a };
    }
  }

  /**
   * Undoes the use `usedAt` of an approval: its request was refused before anything of it left
   * (the audit log or a rate limit's store unavailable, a bucket short). The approval is unused
   * again, written before the agent is told, so its identical retry goes once within the window:
   * a person's yes is not lost to a moment's outage. Any other use (a later claim) is left alone;
   * a write that fails leaves it used (fail closed).
   */
  async giveBack(id: string, usedAt: string): Promise<void> {
    const a = this.approvals.find((x) => x.id === id);
    if (!a || a.status !== 'approved' || a.used_at !== usedAt) return;
    delete a.used_at;
    try {
      await this.save(a);
    } catch (err) {
      if (a.used_at === undefined) a.used_at = usedAt;
      throw err;
    }
    this.emit({ type: 'resolved', approval: a });
  }

  /**
   * Claims the single use of an approved approval: false at once when it was used; otherwise a
   * promise that resolves true once the use is on disk, and rejects (the approval unused again)
   * when it could not be written. Claimed in memory before the write (a second claim meanwhile is
   * refused); a use written only after the request left was lost to a restart or a failed write
   * (twenty-sixth pass), and the approval let the same request through again.
   */
  private consume(a: ApprovalRecord): false | Promise<boolean> {
    if (a.used_at) return false;
    const at = new Date(this.now()).toISOString();
    a.used_at = at;
    return this.save(a, true).then(() => {
      this.emit({ type: 'used', approval: a });
      return true;
    }, (err: unknown) => {
      if (a.used_at === at) delete a.used_at;
      throw err;
    });
  }

  // ─── resolving ───────────────────────────────────────────────────────────────────────────────

  async approve(id: string, opts: ApproveOptions): Promise<{ approval: ApprovalRecord; grant?: GrantRecord }> {
    const a = this.pendingRecord(id);
    const message = cleanMessage(opts.message);
    const planned = await planGrant(a, opts, () => this.fullDescription(a.id));
    if (a.status !== 'pending') throw new ApprovalError('not-pending', `approval ${a.id} is already ${a.status}`);
    const grantSpec = planned?.spec;
    const grantMs = planned?.ms ?? 0;
    // The enrollment as it is now (an `airlock totp enroll` a moment ago counts), read off the event loop.
    if (a.step_up || a.risk === 'critical') await this.opts.totp?.refresh?.();
    if (a.status !== 'pending') throw new ApprovalError('not-pending', `approval ${a.id} is already ${a.status}`);
    const stepUp = this.needsStepUp(a);
    if (stepUp) {
      if (!opts.totp) throw new ApprovalError('step-up-required', `approval ${a.id} is ${a.risk === 'critical' ? 'critical' : 'marked step-up'}: approving needs a TOTP code`);
      const wait = (await this.opts.totp!.retryAfter?.()) ?? 0;
      if (wait > 0) throw new ApprovalError('totp-locked', `too many wrong TOTP codes: no code is checked for ${wait} s`);
      if (!(await this.opts.totp!.verify(opts.totp))) throw new ApprovalError('totp-invalid', 'TOTP code is wrong, expired or already used');
      // The code check awaited: make sure nobody resolved it meanwhile.
      if (a.status !== 'pending') throw new ApprovalError('not-pending', `approval ${a.id} is already ${a.status}`);
    }
    const t = this.now();
    let grant: GrantRecord | undefined;
    if (grantSpec) {
      grant = { id: `gr_${crypto.randomBytes(8).toString('hex')}`, ...grantSpec, expires: new Date(t + grantMs).toISOString(), created: new Date(t).toISOString(), approval_id: a.id, by: opts.by };
    }
    const at = new Date(t).toISOString();
    // A request held now takes the approval (single use): its use is written with the resolution.
    const patch: Pick<ApprovalRecord, 'status' | 'resolution' | 'used_at'> = {
      status: 'approved',
      resolution: { by: opts.by, at, ...(message ? { message } : {}), ...(grant ? { grant_id: grant.id } : {}), ...(stepUp ? { step_up: true } : {}) },
      ...(this.isHeld(a.id) ? { used_at: at } : {}),
    };
    // On disk before any request goes: a held request released before the resolution was written
    // went, and a restart or a failed write (the person told approving failed) left the approval
    // pending, to be approved and sent again (twenty-sixth pass). Not written: nothing changed.
    await this.resolveDurably(a, patch);
    if (grant) this.doc.data.grants.push(grant);
    const [first, ...rest] = this.waiters.get(a.id) ?? [];
    for (const w of rest) w('used');
    if (first && a.used_at) first('approved');
    else if (first) {
      // Held while the resolution was written: it takes the approval once its use is written too
      // (not written: it waits on, and its retry may take the approval later).
      const claim = this.consume(a);
      if (claim === false) first('used');
      else claim.then((ok) => first(ok ? 'approved' : 'used'), () => undefined);
    } else if (a.used_at) {
      // The hold ended while the resolution was written: no request used it, so it is the retry's.
      delete a.used_at;
      void this.save(a).catch(() => undefined);
    }
    this.emit({ type: 'resolved', approval: a });
    if (first && a.used_at) this.emit({ type: 'used', approval: a });
    if (grant) this.emit({ type: 'grant-created', grant });
    if (grant) {
      try {
        await this.doc.write();
      } catch (err) {
        // Not stored: the person is told approving failed, so the grant must not live on in memory
        // (allowing similar requests until a restart drops it).
        const i = this.doc.data.grants.indexOf(grant);
        if (i >= 0) this.doc.data.grants.splice(i, 1);
        this.emit({ type: 'grant-revoked', grant });
        throw err;
      }
    }
    return { approval: a, ...(grant ? { grant } : {}) };
  }

  async deny(id: string, opts: { by: string; message?: string }): Promise<ApprovalRecord> {
    const a = this.pendingRecord(id);
    const message = cleanMessage(opts.message);
    await this.resolveDurably(a, { status: 'denied', resolution: { by: opts.by, at: new Date(this.now()).toISOString(), ...(message ? { message } : {}) } });
    for (const w of [...(this.waiters.get(a.id) ?? [])]) w('denied');
    this.emit({ type: 'resolved', approval: a });
    return a;
  }

  /** Approvals whose resolution is being written: a second decision meanwhile is refused. */
  private readonly deciding = new Set<string>();

  /**
   * Writes a pending approval's resolution, then takes it into the record in memory: until the
   * write lands the approval is pending to everyone (a retry holds on it), and a write that fails
   * changes nothing (the person is told, and may decide again).
   */
  private async resolveDurably(a: ApprovalRecord, patch: Partial<ApprovalRecord>): Promise<void> {
    if (this.deciding.has(a.id) || a.status !== 'pending') throw new ApprovalError('not-pending', `approval ${a.id} is ${a.status === 'pending' ? 'being decided' : `already ${a.status}`}`);
    this.deciding.add(a.id);
    try {
      await this.records.write(a.id, { ...a, ...patch }, { durable: this.opts.durable !== false });
    } finally {
      this.deciding.delete(a.id);
    }
    Object.assign(a, patch);
  }

  /**
   * Grants a person revoked whose removal is not on disk yet (the write failed): they match no
   * request from the click on, and stay listed, so revoking again writes it. Dropped from memory
   * at once, a grant whose write failed could not be revoked again ("no grant") and came back with
   * the next restart, allowing similar requests for its remaining minutes (twenty-sixth pass).
   */
  private readonly revoked = new Set<string>();

  async revokeGrant(id: string): Promise<GrantRecord> {
    const g = this.doc.data.grants.find((x) => x.id === id);
    if (!g) throw new ApprovalError('not-found', `no grant ${id}`);
    this.revoked.add(id);
    this.doc.data.grants = this.doc.data.grants.filter((x) => x !== g);
    try {
      await this.doc.write();
    } catch (err) {
      // Not stored: still in the document (a later write keeps it), but it allows nothing more.
      if (!this.doc.data.grants.includes(g)) this.doc.data.grants.push(g);
      throw err;
    }
    this.revoked.delete(id);
    this.emit({ type: 'grant-revoked', grant: g });
    return g;
  }

  private pendingRecord(id: string): ApprovalRecord {
    const a = this.get(id);
    this.expireIfDue(a);
    if (a.status !== 'pending') {
      throw new ApprovalError('not-pending', `approval ${a.id} is already ${a.status}${a.resolution ? ` (by ${a.resolution.by} at ${a.resolution.at})` : ''}`);
    }
    return a;
  }

  private expireIfDue(a: ApprovalRecord): boolean {
    if (a.status !== 'pending' || Date.parse(a.retry_until) > this.now() || this.isHeld(a.id) || this.deciding.has(a.id)) return false;
    a.status = 'expired';
    a.resolution = { by: 'timeout', at: new Date(this.now()).toISOString() };
    void this.save(a).catch(() => undefined);
    this.emit({ type: 'expired', approval: a });
    return true;
  }

  /** Expires overdue approvals, drops expired grants and old resolved records. */
  async sweep(): Promise<void> {
    const t = this.now();
    for (const a of this.approvals) this.expireIfDue(a);
    const keep = this.opts.keepResolvedMs ?? 7 * 24 * 3_600_000;
    let resolved = this.approvals.filter((a) => a.status !== 'pending');
    const tooOld = new Set(resolved.filter((a) => t - Date.parse(a.resolution?.at ?? a.created) > keep).map((a) => a.id));
    resolved = resolved.filter((a) => !tooOld.has(a.id)).sort((a, b) => a.created.localeCompare(b.created));
    for (const a of resolved.slice(0, Math.max(0, resolved.length - 2000))) tooOld.add(a.id);
    if (tooOld.size) {
      this.approvals = this.approvals.filter((a) => !tooOld.has(a.id));
      for (const id of tooOld) await Promise.all([this.records.remove(id), this.records.remove(`${id}.request`)]);
    }
    const grants = this.doc.data.grants.length;
    this.doc.data.grants = this.doc.data.grants.filter((g) => Date.parse(g.expires) > t);
    if (grants !== this.doc.data.grants.length) await this.doc.write();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const [, list] of this.waiters) for (const w of [...list]) w('aborted');
    await this.records.flush().catch(() => undefined);
    await this.doc.write().catch(() => undefined);
  }
}
