// The stores as the rest of Airlock uses them. Each interface is a port with its embedded
// implementation in this folder (agents.ts, approvals.ts, ratelimit.ts, audit-log.ts, totp.ts,
// sessions.ts, secrets/); runtime/services.ts opens one of each and hands every part only the ports it needs, so
// another backend (docs/architecture.md, "Adding a store backend") replaces a store without the
// proxy, the studio or the enforcers knowing.
//
// Three rules shape the methods:
//  - What may cross a network is a promise: writes, waits, authentication, reading what a store
//    does not keep in memory.
//  - What the proxy asks per request answers from the store's view in memory, or is `Awaitable`
//    where a networked store has to ask (a Redis charge); the egress meter runs per chunk of a
//    stream and stays synchronous: a networked limiter charges a local lease it refills.
//  - A change made elsewhere (`airlock` in another process, another replica) reaches this process
//    as an event (`onChange`, `onRecord`, `watch`), so held requests, the proxy's secrets and the
//    studio see it without polling.
import type { AgentInfo, Grant, LabelArrival, RequestDescription } from '../describe/types.ts';
import type { EngineDecision, RateLimitDirective } from '../engine/decision.ts';
import type { AbortLike } from '../lib/abort-flag.ts';
import type { AgentSummary, IssuedToken } from './agents.ts';
import type { ApprovalEvent, ApprovalRecord, ApprovalStatus, ApproveOptions, GrantRecord, RetryClaim, WaitOutcome } from './approvals.ts';
import type { AuditFilter, AuditRecord } from './audit-log.ts';
import type { BucketView, Chargeable, ChargeResult } from './ratelimit.ts';
import type { SecretInfo } from './secrets/store.ts';
import type { Entered, SessionChange, SessionRecord, SessionSummary, TimelineEntry } from './sessions.ts';

export type Awaitable<T> = T | Promise<T>;

/** An agent a token authenticates, and the id of that token. */
export interface Identified {
  agent: AgentInfo;
  token: string;
  /**
   * Present when the directory answered from its view (identify's `deferConfirm`): the token as the
   * table holds it now, with the agent's labels and the token's secrets; undefined once revoked.
   */
  confirm?: () => Promise<AgentInfo | undefined>;
}

/** Who may use the proxy: agents, their labels and tokens. Embedded: AgentStore (agents.json). */
export interface AgentDirectory {
  /** Checks a token; the proxy asks on every request, so a removed agent or revoked token stops at once. */
  authenticate(name: string, token: string): Promise<AgentInfo | undefined>;
  /**
   * The same check, also naming the token that matched: a session is one token's life. With
   * `deferConfirm`, a shared directory may answer from its view and leave the confirmation against
   * its table to the caller (`confirm`), who must run it (or have the session store's `enter` do it)
   * before anything is decided.
   */
  identify(name: string, token: string, opts?: { deferConfirm?: boolean }): Promise<Identified | undefined>;
  /** Ids of the tokens that still authenticate (sessions of other tokens count as ended). */
  liveTokenIds(): Set<string>;
  /** Brings the view `list` reads up to date with changes made elsewhere. */
  refresh(): Promise<void>;
  list(): AgentSummary[];
  add(name: string, opts?: { labels?: Record<string, string>; label?: string; ttlMs?: number }): Promise<IssuedToken>;
  /** Another token for an agent (`airlock run` mints one per run, with the run's secrets). */
  issueToken(name: string, opts?: { ttlMs?: number; label?: string; secrets?: string[]; unixOnly?: boolean }): Promise<IssuedToken>;
  revokeToken(name: string, idOrToken: string): Promise<boolean>;
  remove(name: string): Promise<boolean>;
}

/**
 * The record of every request. Embedded: AuditLog (audit.jsonl). Appends never wait: a networked
 * trail queues and batches them, and while it cannot write, `available` is false (the proxy then
 * forwards nothing) and what it holds is kept until it can.
 */
export interface AuditTrail {
  append(record: AuditRecord): void;
  readonly available: boolean;
  readonly unavailableReason: string | undefined;
  /** Records wait in memory for a slow disk: large descriptions are left out meanwhile (the embedded log). */
  readonly behind?: boolean;
  /**
   * Why `agent`'s requests are refused while others are served: its own records waiting are past
   * its share of what may wait (state/audit-shares.ts); undefined when they are not.
   */
  overShare?(agent: string): string | undefined;
  /** Behind, and `agent` has records among those waiting: its large descriptions are left out (others' are not). */
  behindFor?(agent: string): boolean;
  /** Each record as it is appended in this process (the log line, the studio's live view). */
  onRecord(fn: (record: AuditRecord) => void): () => void;
  /** Replaces every real secret value in a serialized record; set by the proxy's secrets. */
  redact: ((line: string) => string) | undefined;
  /** Records matching the filter, oldest first. */
  read(filter?: AuditFilter): AsyncIterable<AuditRecord>;
  /** Resolves when everything appended so far is written. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Requests held for a human, and the grants humans gave. Embedded: ApprovalQueue (approvals.json
 * and one file per approval). Reads come from the queue's view in memory, which a networked
 * queue keeps current from its change events; `onChange` carries every change, including those
 * made on another replica, and a `wait` ends when any replica resolves the approval.
 */
export interface Approvals {
  /** Active grants that may stand in for this request's approval (the policy sees them as input.grants). */
  matchingGrants(description: RequestDescription): Awaitable<Grant[]>;
  /** A retry carrying `Airlock-Approval: ID`: claims that approval when it is bound to this exact request. */
  claimRetry(id: string, description: RequestDescription, hash: string): Awaitable<RetryClaim>;
  /** `id`: one the request took beforehand (its bytes are held under it before the approval is announced). */
  create(description: RequestDescription, decision: EngineDecision, hash: string, id?: string): Promise<ApprovalRecord>;
  /** Holds until resolved, timed out or aborted; 'approved' means this caller used the approval. */
  wait(id: string, opts: { timeoutMs: number; signal?: AbortLike }): Promise<WaitOutcome>;
  /**
   * Undoes the use a released request made of an approval (`usedAt`: the use it made, nothing
   * else) when that request was refused before anything of it left (a store or the audit log
   * unavailable, a rate limit): the approval is unused again, for the agent's identical retry
   * within its window. A use that could not be undone stays (fail closed).
   */
  giveBack(id: string, usedAt: string): Promise<void>;
  onChange(fn: (event: ApprovalEvent) => void): () => void;
  list(filter?: { status?: ApprovalStatus; agent?: string }): ApprovalRecord[];
  /** By id or a unique prefix of at least 6 characters; throws ApprovalError. */
  get(idOrPrefix: string): ApprovalRecord;
  /** The whole description (records keep a bounded copy). */
  fullDescription(id: string): Promise<RequestDescription | undefined>;
  /** Whether a request in this process waits on it now. */
  isHeld(id: string): boolean;
  needsStepUp(approval: Pick<ApprovalRecord, 'step_up' | 'risk'>): boolean;
  /** Reads the step-up enrollment afresh (off the event loop; bounded), so `needsStepUp` shows an enrollment made elsewhere a moment ago. */
  refreshStepUp(): Promise<void>;
  approve(id: string, opts: ApproveOptions): Promise<{ approval: ApprovalRecord; grant?: GrantRecord }>;
  deny(id: string, opts: { by: string; message?: string }): Promise<ApprovalRecord>;
  grants(includeExpired?: boolean): GrantRecord[];
  revokeGrant(id: string): Promise<GrantRecord>;
  /** Settings kept with the approvals (`airlock approvals webhook URL`). */
  readonly settings: Readonly<{ webhook?: string }>;
  close(): Promise<void>;
}

/** Rate-limit and egress-byte buckets. Embedded: RateLimiter (ratelimits.json, flushed every 5 s). */
export interface RateLimits {
  /** Charges a decision's directives at once, or none when any bucket is short. */
  charge(directives: RateLimitDirective[] | undefined, description?: Chargeable): Awaitable<ChargeResult>;
  /** Charges bytes as they leave (per chunk of a stream): synchronous, see the rules above. */
  chargeEgress(directives: RateLimitDirective[] | undefined, bytes: number): ChargeResult;
  /**
   * Charges a chunk of a stream as chargeEgress does, unless the limiter's own estimate cannot vouch
   * for it: a store shared by replicas (Redis) asks the store about a large chunk first, and the
   * chunk waits for the answer (absent: chargeEgress).
   */
  meterEgress?(directives: RateLimitDirective[] | undefined, bytes: number): ChargeResult | Promise<ChargeResult>;
  snapshot(): Awaitable<BucketView[]>;
  /** Refills every bucket with this key; the number of buckets reset. */
  reset(key: string): Awaitable<number>;
  close(): Promise<void>;
}

/** TOTP step-up for critical approvals. Embedded: TotpStore (totp.json, read on every check). */
export interface StepUp {
  enrolled(): boolean;
  /** Re-reads whether TOTP is enrolled (a shared store: enrolled through another replica a moment ago). */
  refresh?(): Promise<void>;
  /** Accepts a code once (replay protection across every process sharing the store); refuses every code while too many wrong ones were given. */
  verify(code: string): Promise<boolean>;
  /** Seconds until codes are checked again after too many wrong ones (state/totp.ts MAX_FAILURES), or 0. */
  retryAfter?(): Promise<number>;
}

/**
 * The encrypted secrets, as the proxy reads them. Embedded: SecretStore (secrets.json, under a
 * master key that is never in the store). The proxy keeps indexes built from `list` and `reveal`
 * and rebuilds them when `version` changes or `watch` says something did.
 */
export interface SecretVault {
  list(): SecretInfo[];
  has(name: string): boolean;
  /** The real value; needs `unlock` first. */
  reveal(name: string): string;
  unlock(): Promise<void>;
  /** Re-reads the secrets (after a change made elsewhere). */
  reload(): Promise<void>;
  /** Changes whenever the stored secrets change, wherever they were changed (a file's: looked at off the event loop). */
  version(): Awaitable<string>;
  /**
   * Calls `fn` soon after a change made elsewhere; returns the stop function, or undefined when
   * changes cannot be watched (the proxy then asks `version` on every use).
   */
  watch(fn: () => void): (() => void) | undefined;
}

/** A place a secret was injected into, and a form it left in there: never the value. */
export interface InjectedPlace {
  /** A host name (lowercase, as described), an address key (`@[address]:port`), or `*` (everywhere, past the bound). */
  place: string;
  /** The secret's name; `*` for every secret (what a damaged record stands for). */
  secret: string;
  /** How the value left (proxy/injected-hosts.ts: `value`, `basic:<pair>`, `query:<template>`). */
  form: string;
}

/**
 * Where secrets were injected (proxy/injected-hosts.ts scrubs what comes back from there), kept
 * beyond the process and shared by replicas. Embedded: InjectionJournal (injected.jsonl); shared:
 * PgInjectionLedger (the `injected_places` table, NOTIFY airlock_injected).
 */
export interface InjectionLedger {
  /** Every pair known: read at open, and announced by other processes since. */
  pairs(): InjectedPlace[];
  /**
   * Writes the pairs not written yet; resolves once they are durable (and announced), so the
   * request that carries them leaves only then. Undefined when there is nothing to write.
   */
  record(pairs: readonly InjectedPlace[]): Promise<void> | undefined;
  /** Pairs written by another process (replica), as they are announced. */
  onRecord(fn: (pairs: InjectedPlace[]) => void): () => void;
  /**
   * A shared ledger that learned (from the request's session entry) that the table moved past
   * what it has read: reads the rest, so this request is scrubbed by it whether or not the
   * notice has arrived. Undefined when there is nothing to read.
   */
  catchUp?(): Promise<void> | undefined;
  close(): Promise<void>;
}

/**
 * Agent sessions: the labels each one's responses brought, its counters, the links it was served
 * and its timeline (docs/sessions.md). Embedded: JournalSessionStore (sessions.jsonl); shared:
 * PgSessions (state/postgres/sessions.ts). What may
 * cross a network is a promise; counters, links and the timeline are fire-and-forget. `enter`
 * runs for every request, so it is one round trip: the session (started on the token's first
 * request), counted, with the URL's provenance.
 */
export interface AgentSessions {
  /** The token's live session before this request, counting the request; `link` asks where its URL was seen. */
  enter(agent: string, token: string, time: string, link?: { url: string; host: string }): Promise<Entered>;
  /**
   * `enter` for a token the directory has not confirmed yet (identify's `deferConfirm`), confirmed
   * in the same statement: undefined when the token no longer authenticates (nothing is counted),
   * otherwise the session and the agent as the table holds it now. Only a store that shares the
   * directory's database has it.
   */
  enterConfirming?(agent: string, token: string, time: string, link?: { url: string; host: string }): Promise<(Entered & { agent: AgentInfo }) | undefined>;
  /** Bytes of agent-chosen data that left (the request's description, streamed body, WebSocket frames). */
  addEgress(id: string, bytes: number): void;
  /** Adds labels a response brought; returns the ones that were new to the session (written before returning). */
  addLabels(id: string, labels: readonly string[], arrival: LabelArrival): Promise<string[]>;
  /**
   * Links a response carried (normalized absolute URLs), with the request that brought them; the
   * proxy awaits it before ending the response, so a shared store can commit them first.
   */
  addLinks(id: string, from: { request_id: string; host: string }, urls: readonly string[]): Awaitable<void>;
  /** Appends a request to the session's timeline. */
  noteRequest(id: string, entry: TimelineEntry): void;
  /** A human clears a label: it no longer counts until a response brings it again. */
  clearLabel(id: string, label: string, by: string, reason?: string): Promise<SessionRecord>;
  /** A human ends the session: the token's next request starts a new, empty one. */
  reset(id: string, by: string, reason?: string): Promise<SessionRecord>;
  /** A session by id or unique id prefix (at least 6 characters). */
  get(idOrPrefix: string): SessionRecord;
  list(filter?: { agent?: string; live?: boolean }): SessionSummary[];
  onChange(fn: (c: SessionChange) => void): () => void;
  close(): Promise<void>;
}
