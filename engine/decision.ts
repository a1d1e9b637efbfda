// The decision: what policies answer (`data.airlock.decision`) and what the engine returns for
// it, validated against the contract (engine/decision-contract.ts). Field names here are public
// API — see README "Policies".
import type { Risk } from '../describe/types.ts';

export type Action = 'allow' | 'deny' | 'approve';

/** What the engine did with the grants a request came with (engine/grants.ts). */
export interface GrantNotes {
  /** Grants offered to the policy as input.grants in the deciding evaluation. */
  offered: string[];
  /** Grants held back, each with the reason. */
  withheld: Array<{ id: string; reason: string }>;
  /** The request's own decision without grants. */
  own: { action: Action; rule?: string; risk?: Risk };
}

export interface CredentialDirective {
  secret: string;
  in: 'header' | 'query' | 'basic' | 'body';
  name?: string;
  format?: string;
}

export interface RateLimitDirective {
  key: string;
  limit: number;
  /** Window as a duration string ("1h", "30s") or seconds. */
  window: string | number;
  cost?: number;
  /** What the bucket counts: requests (default) or the request's egress bytes. */
  unit?: 'requests' | 'egress_bytes';
}

export interface ApprovalDirective {
  risk: Risk;
  timeout?: string | number;
  step_up?: boolean;
  /**
   * Ids of earlier requests of this session that make this one need a human (the trifecta's two
   * halves): shown on the approval card. A hold that comes from the session's history is never
   * covered by a grant (engine/grants.ts).
   */
  because?: string[];
}

export interface Decision {
  action: Action;
  reason: string;
  rule?: string;
  credentials?: CredentialDirective[];
  rate_limits?: RateLimitDirective[];
  approval?: ApprovalDirective;
  /** Forward a path whose decoded form has another segment structure (encoded "/", ";", …) instead of refusing it (400). */
  raw_path?: boolean;
  /**
   * Forward none of the agent's headers: the upstream gets Host and fixed `User-Agent` and
   * `Accept` values only (following a served link: a header would carry data the URL may not).
   */
  bare_headers?: boolean;
  /**
   * What the response to this request brings into the agent's context ("untrusted", "private",
   * …): added to the session when a 2xx (or 101) response arrives.
   */
  labels?: string[];
}

/** A decision as the engine returns it: validated, with provenance. */
export interface EngineDecision extends Decision {
  /** Hash of the policy sources that decided. */
  policy_version: string;
  /** Microseconds spent deciding. */
  decision_us: number;
  /** Set when the engine itself produced a deny (fail closed) rather than the policy. */
  fail_closed?: 'undefined' | 'conflict' | 'invalid' | 'error' | 'timeout' | 'no-policy';
  /** Present when the request came with grants: which the engine offered to the policy and why others were held back. */
  grants?: GrantNotes;
}
