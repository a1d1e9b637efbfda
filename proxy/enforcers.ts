// The seam between the proxy's socket code and the decision's directives. The proxy core handles
// allow/deny and forwarding; everything a decision can additionally ask for — hold for approval,
// charge rate limits, inject credentials, scrub responses — is an Enforcer, run in order for every
// request. The socket code has no special cases for any directive.
//
// Two stream-level hooks reach past the request head: an egress meter charged with every byte
// that leaves after the decision (the body past the part the description counted, WebSocket
// frames to the upstream), and a per-message hook for WebSocket messages in both directions
// (scrubbing, guards). Both are opt-in per request, so plain requests pay nothing for them.
import { Transform, type TransformCallback } from 'node:stream';
import type { AgentInfo, RequestDescription } from '../describe/types.ts';
import type { EngineDecision } from '../engine/decision.ts';
import type { AbortLike } from '../lib/abort-flag.ts';

/** Why the proxy did not forward a request; rendered as application/problem+json (RFC 9457). */
export interface Rejection {
  status: number;
  /** Short, stable title ("Denied by policy", "Rate limit exceeded", …). */
  title: string;
  /** Human-readable detail. Never contains a secret value. */
  detail: string;
  /** Problem type URI suffix, e.g. "policy-denied" → https://airlock.dev/problems/policy-denied */
  type: string;
  /** Extra response headers (e.g. Retry-After). */
  headers?: Record<string, string>;
  /** Extra problem members (approval_id, retry_after, …). */
  extra?: Record<string, unknown>;
  /** Audit outcome: "denied", "rate-limited", "approval-denied", "approval-timeout", … */
  outcome: string;
  /** For the audit log and Airlock's own log only (e.g. an internal error naming a state file). */
  logDetail?: string;
}

/** The request as it will leave the proxy. Enforcers may change it before the upstream is dialed. */
export interface OutgoingRequest {
  method: string;
  /** Absolute URL; its scheme, host and port are the destination and cannot be changed by enforcers. */
  url: URL;
  /** Header pairs; hop-by-hop headers are already removed. */
  headers: Array<[string, string]>;
  /** Optional transforms applied, in order, to the request body stream. */
  bodyTransforms: Transform[];
  /**
   * Dial a new connection instead of a pooled one: the request waited (for a human), and a pooled
   * connection may have been closed by the upstream meanwhile, which would cost it its approval.
   */
  freshConnection?: boolean;
}

export interface RequestContext {
  /** The description the policy saw (already redacted). */
  readonly description: RequestDescription;
  readonly decision: EngineDecision;
  readonly outgoing: OutgoingRequest;
  /** Values for the audit record (approval id, limits charged, credentials injected by name …). */
  readonly audit: Record<string, unknown>;
  /** Aborted when the agent's connection goes away (e.g. while held for approval). */
  readonly signal: AbortLike;
  /** The body as the agent sent it, up to the capture cap (what a human approving it must be able to read). */
  readonly body?: { readonly bytes: Buffer; readonly truncated: boolean };
  /**
   * Headers an enforcer wants on every refusal Airlock answers this request with from here on
   * (the destination does not resolve, the upstream fails): the approval a human gave, say.
   * Upstream answers get theirs through `onResponse`.
   */
  readonly refusalHeaders?: Record<string, string>;
  /**
   * The rate limits that meter the rest of a lasting request (an upload past the capture, a
   * WebSocket) when a newer policy version decided it again and still lets it through
   * (proxy/lasting-request.ts); the decision's own until then.
   */
  meteredLimits?: EngineDecision['rate_limits'];
  /**
   * A tunnel's read of its own upstream judged as a twin (a database behind a WebSocket bridge read
   * as a sign-in: proxy/tunnel-sql.ts `withDatabaseRead`): what it brings keeps that tunnel current,
   * as a WebSocket's 101 does (its further statements are each decided with the new labels).
   */
  readonly carriedRead?: true;
}

export interface ResponseHead {
  statusCode: number;
  /** The upstream's reason phrase (used only while statusCode is unchanged). */
  statusMessage?: string;
  headers: Array<[string, string]>;
}

/** One WebSocket message crossing an allowed upgrade (fragments reassembled by `ws`), or a control frame. */
export interface RelayedMessage {
  /** Where it is going: 'upstream' was sent by the agent, 'agent' by the upstream. */
  readonly to: 'upstream' | 'agent';
  readonly kind: 'text' | 'binary' | 'ping' | 'pong' | 'close';
  /** The payload, uncompressed (for 'close', the reason). An enforcer may replace it (scrubbing). */
  data: Buffer;
  /**
   * Set by an enforcer: the message ends with what may be the start of a secret, whose rest may
   * come in the next message. The relay keeps it back until a message that does not continue it;
   * if none comes in time (or the stream ends first), the tunnel is closed with this refusal.
   */
  hold?: Rejection;
  /**
   * Set with `hold` when what is kept back is 10 or more characters of a secret's start (the
   * tripwire, proxy/secret-probe.ts): called when it is dropped rather than completed — nothing
   * followed in time, or the tunnel ended — and its refusal closes the tunnel instead of `hold`.
   */
  probe?: () => Rejection;
}

/** Charges bytes as they leave; a Rejection means the budget is empty and the stream is cut there. */
/** A chunk may have to wait for the answer (a limiter shared by replicas asking its store). */
export type EgressMeter = (bytes: number) => Rejection | undefined | Promise<Rejection | undefined>;

/** Asked before each chunk of a response body goes to the agent; a Rejection cuts the response there. */
export type ResponseGuard = () => Rejection | undefined;

/**
 * A stream stage (body transform, meter) stopping a request that is already under way, as a
 * refusal rather than an upstream failure: the proxy answers `rejection` when it still can, and
 * records its outcome either way.
 */
export class StreamStop extends Error {
  constructor(readonly rejection: Rejection) {
    super(rejection.detail);
  }
}

/** A stage asking `guard` before each chunk goes on; a refusal stops the stream. */
export function guardStage(guard: () => Rejection | undefined): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      const stop = guard();
      if (stop) cb(new StreamStop(stop));
      else cb(null, chunk);
    },
  });
}

/** Who sent a request, beyond what the description says: the token the agent authenticated with. */
export interface RequestOrigin {
  /** The id of the agent's token (never the token): a session is one token's life. */
  readonly token?: string | undefined;
  /**
   * Present while the token is not yet confirmed against a shared directory's table. A describe
   * hook whose store confirms it in a round trip it makes anyway (the session's entry) puts the
   * answer here: the agent as the table holds it now, or null once the token no longer
   * authenticates. The pipeline confirms the token itself when no hook did.
   */
  readonly unconfirmed?: { confirmed?: AgentInfo | null };
}

export interface Enforcer {
  readonly name: string;
  /** Enriches the description before the policy sees it (grants, placeholders, the session). */
  describe?(description: RequestDescription, origin?: RequestOrigin): void | Promise<void>;
  /**
   * Runs after the decision and before dialing, in enforcer order, for allow and approve
   * decisions. Returning a Rejection stops the request. May wait (a held approval).
   * The proxy itself rejects an `approve` decision that no enforcer handled: fail closed.
   */
  beforeForward?(ctx: RequestContext): Promise<Rejection | undefined> | Rejection | undefined;
  /**
   * Told the address a forwarded request is about to be sent to (destination safety checked it),
   * after every beforeForward and before dialing: the outgoing headers may still change here,
   * the destination may not. May wait (a record written before the request leaves); a Rejection
   * stops the request.
   */
  onDestination?(ctx: RequestContext, address: string, port: number): Promise<Rejection | undefined> | Rejection | undefined | void;
  /**
   * The request was refused after the enforcers' beforeForward hooks ran (by a later one, the audit
   * log's check, destination safety, an error thrown on the way), before it was dialed: nothing of
   * it left; or its upstream connection was never made (refused, unreachable). An enforcer undoes
   * here what its beforeForward spent on it (an approval's single use), before the agent is told
   * (bounded: at most REFUSED_HOOK_MS is waited for; refusedBeforeSending).
   */
  onRefused?(ctx: RequestContext, rejection: Rejection): void | Promise<void>;
  /** Marks that this enforcer took responsibility for `approve` decisions. */
  readonly handlesApproval?: boolean;
  /** Rewrites the upstream response head and/or returns a transform for its body (scrubbing). */
  onResponse?(ctx: RequestContext, head: ResponseHead): Transform | undefined;
  /**
   * For a response whose head onResponse let through untouched: a check before each chunk of its
   * body goes to the agent. No stage is added (the common case stays a plain pipe); a Rejection
   * cuts the response where it is, because what this enforcer would have done to the body became
   * necessary while it streamed (a credential injected into the same host meanwhile).
   */
  responseGuard?(ctx: RequestContext): ResponseGuard | undefined;
  /**
   * Called once per forwarded request, before dialing: a meter for the bytes that leave after the
   * decision (the request body beyond the part the description counted, every WebSocket frame to
   * the upstream), or undefined when this request is not metered.
   */
  egressMeter?(ctx: RequestContext): EgressMeter | undefined;
  /**
   * Every WebSocket message of an upgrade this request opened, both ways, before it is sent on.
   * May rewrite `message.data`; a Rejection closes the tunnel (its outcome goes to the record).
   */
  onMessage?(ctx: RequestContext, message: RelayedMessage): Rejection | undefined;
  /**
   * A statement an open tunnel carries (proxy/tunnel-sql.ts) was let through, before it is relayed:
   * its answer comes back over the tunnel, with no response head of its own. `statement` is its
   * twin's context (description, decision), `tunnel` the upgrade's. May wait (labels written before
   * the statement leaves); a Rejection closes the tunnel.
   */
  onCarried?(tunnel: RequestContext | undefined, statement: RequestContext): Promise<Rejection | undefined> | Rejection | undefined;
}

/** The checks of each enforcer, as one: the first refusal wins (undefined when there is none). */
function firstRefusal<A extends unknown[]>(checks: Array<(...args: A) => Rejection | undefined>): ((...args: A) => Rejection | undefined) | undefined {
  if (checks.length <= 1) return checks[0];
  return (...args) => {
    for (const c of checks) {
      const r = c(...args);
      if (r) return r;
    }
    return undefined;
  };
}

/** How long a refusal waits for the enforcers to undo what they spent on the request (an approval's use written back). */
export const REFUSED_HOOK_MS = 2_000;

/**
 * Tells each enforcer that the request was refused before anything of it left (`onRefused`), and
 * waits for what they undo, at most REFUSED_HOOK_MS, before the agent is told (its retry may follow
 * at once). What could not be undone stays done: fail closed.
 */
export async function refusedBeforeSending(enforcers: readonly Enforcer[], ctx: RequestContext, r: Rejection): Promise<void> {
  const undone: Array<Promise<void>> = [];
  for (const e of enforcers) {
    try {
      const p = e.onRefused?.(ctx, r);
      if (p) undone.push(p.catch(() => undefined));
    } catch {
      // Left done.
    }
  }
  if (!undone.length) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(undone), new Promise<void>((resolve) => { timer = setTimeout(resolve, REFUSED_HOOK_MS); })]);
  clearTimeout(timer);
}

/** The enforcers' egress meters for one request, as one (undefined when none meters it). */
export function egressMeterOf(enforcers: readonly Enforcer[], ctx: RequestContext): EgressMeter | undefined {
  let meters: EgressMeter[] | undefined; // allocated only when some enforcer meters (this runs per request)
  for (const e of enforcers) {
    const m = e.egressMeter?.(ctx);
    if (m) (meters ??= []).push(m);
  }
  if (!meters) return undefined;
  if (meters.length === 1) return meters[0];
  const all = meters;
  // In order, the first refusal wins; a meter that waits holds the ones after it until it answered.
  const from = (i: number, bytes: number): ReturnType<EgressMeter> => {
    for (; i < all.length; i++) {
      const r = all[i]!(bytes);
      if (r instanceof Promise) {
        const next = i + 1;
        return r.then((refused) => refused ?? from(next, bytes));
      }
      if (r) return r;
    }
    return undefined;
  };
  return (bytes) => from(0, bytes);
}

/** The enforcers' response guards for one request, as one (undefined when none guards it). */
export function responseGuardOf(enforcers: readonly Enforcer[], ctx: RequestContext): ResponseGuard | undefined {
  let guards: ResponseGuard[] | undefined;
  for (const e of enforcers) {
    const g = e.responseGuard?.(ctx);
    if (g) (guards ??= []).push(g);
  }
  return guards && firstRefusal(guards);
}

/** Runs the enforcers' onResponse on a response head; the body transforms they return, in order. */
export function responseStages(enforcers: readonly Enforcer[], ctx: RequestContext, head: ResponseHead): Transform[] {
  const stages: Transform[] = [];
  for (const e of enforcers) {
    if (!e.onResponse) continue;
    const t = e.onResponse(ctx, head);
    if (t) stages.push(contained(t));
  }
  return stages;
}

/**
 * A body stage whose own reading never throws out of the stream (twenty-seventh pass): a stage's
 * transform runs inside the write of the stage before it, ultimately the socket's 'data' listener,
 * and a reader that threw there on a hostile body (anything but a refusal, which a stage passes to
 * its callback) was an uncaught exception that stopped the process, every agent's requests and the
 * studio with it. A throw is the stage's error instead: the body is cut or refused, and recorded,
 * as any stage's error is (proxy/upstream.ts). Applied to every response stage and body transform.
 */
export function contained<T extends Transform>(stage: T): T {
  const transform = stage._transform.bind(stage);
  stage._transform = (chunk: unknown, enc: BufferEncoding, cb: TransformCallback): void => {
    try {
      transform(chunk, enc, cb);
    } catch (err) {
      cb(err instanceof Error ? err : new Error(String(err)));
    }
  };
  const flush = stage._flush?.bind(stage);
  if (flush) {
    stage._flush = (cb: TransformCallback): void => {
      try {
        flush(cb);
      } catch (err) {
        cb(err instanceof Error ? err : new Error(String(err)));
      }
    };
  }
  return stage;
}
