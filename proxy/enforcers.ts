// The seam between the proxy's socket code and the decision's directives. The proxy core handles
// allow/deny and forwarding; everything a decision can additionally ask for — hold for approval,
// charge rate limits, inject credentials, scrub responses — is an Enforcer, run in order for every
// request. The socket code has no special cases for any directive.
import type { Transform } from 'node:stream';
import type { EngineDecision, RequestDescription } from '../engine/types.ts';

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
}

export interface RequestContext {
  /** The description the policy saw (already redacted). */
  readonly description: RequestDescription;
  readonly decision: EngineDecision;
  readonly outgoing: OutgoingRequest;
  /** Values for the audit record (approval id, limits charged, credentials injected by name …). */
  readonly audit: Record<string, unknown>;
  /** Aborted when the agent's connection goes away (e.g. while held for approval). */
  readonly signal: AbortSignal;
  /** The body as the agent sent it, up to the capture cap (what a human approving it must be able to read). */
  readonly body?: { readonly bytes: Buffer; readonly truncated: boolean };
}

export interface ResponseHead {
  statusCode: number;
  /** The upstream's reason phrase (used only while statusCode is unchanged). */
  statusMessage?: string;
  headers: Array<[string, string]>;
}

export interface Enforcer {
  readonly name: string;
  /** Enriches the description before the policy sees it (grants, placeholders). */
  describe?(description: RequestDescription): void | Promise<void>;
  /**
   * Runs after the decision and before dialing, in enforcer order, for allow and approve
   * decisions. Returning a Rejection stops the request. May wait (a held approval).
   * The proxy itself rejects an `approve` decision that no enforcer handled: fail closed.
   */
  beforeForward?(ctx: RequestContext): Promise<Rejection | undefined> | Rejection | undefined;
  /** Marks that this enforcer took responsibility for `approve` decisions. */
  readonly handlesApproval?: boolean;
  /** Rewrites the upstream response head and/or returns a transform for its body (scrubbing). */
  onResponse?(ctx: RequestContext, head: ResponseHead): Transform | undefined;
}
