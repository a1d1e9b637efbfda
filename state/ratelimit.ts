// Rate limits and byte budgets from the decision's `rate_limits`. Each entry names a token bucket
// by `key` (policies build keys such as "github:write:" + agent, so the key decides who shares a
// bucket). A bucket holds at most `limit` tokens and refills continuously at limit/window, so "10
// per minute" allows a burst of 10 and then one every 6 s. `unit: "egress_bytes"` makes the bucket
// count the request's egress bytes instead of requests: a byte budget that caps a slow drip.
// The decision charges what the description counted; bytes that leave later (a streamed body past
// the captured prefix, WebSocket frames) are charged as they leave with chargeEgress.
//
// Charging is all-or-nothing across every entry of one decision: when any bucket is short, none is
// charged and the caller gets the longest wait. The core (BucketTable) is pure, with an injected
// clock; RateLimiter adds persistence in the state folder, flushed periodically and on close —
// a crash loses at most the charges of the last flush interval (default 5 s), which can only make
// buckets look fuller than they were, never emptier.
import { durationMs } from '../engine/decision-contract.ts';
import { openDocument, recordsProblem, type Document } from './document.ts';
import type { RequestDescription } from '../describe/types.ts';
import type { RateLimitDirective } from '../engine/decision.ts';
import { stateFile } from './home.ts';
import { emptyMap } from '../lib/records.ts';

/** What charging reads from a description: its egress bytes, and the agent (who pays for new buckets). */
export type Chargeable = { request: Pick<RequestDescription['request'], 'egress_bytes'>; agent?: { id: string } };

export type LimitUnit = 'requests' | 'egress_bytes';

/** Stored state of one bucket: tokens as of `updated` (epoch ms). */
export interface BucketState {
  key: string;
  unit: LimitUnit;
  limit: number;
  window_ms: number;
  tokens: number;
  updated: number;
  /** The agent whose request started it (counted against MAX_BUCKETS_PER_AGENT, across restarts too). */
  owner?: string;
}

/** A bucket as shown to people (CLI, studio): tokens refilled up to now. */
export interface BucketView {
  key: string;
  unit: LimitUnit;
  limit: number;
  window_s: number;
  /** Tokens available now (rounded down to 3 decimals). */
  available: number;
  /** Seconds until the bucket is full again. */
  full_in_s: number;
  updated: string;
}

export interface Charge {
  key: string;
  unit: LimitUnit;
  cost: number;
  limit: number;
  /** Tokens left after the charge (or available, when the charge was refused). */
  remaining: number;
}

export type ChargeResult =
  | { ok: true; charged: Charge[] }
  | {
      ok: false;
      /** Whole seconds to wait before the same charge can succeed (≥ 1). */
      retryAfter: number;
      /** The buckets that were short. */
      short: Charge[];
      /** True when a cost exceeds a bucket's whole capacity: waiting will never help. */
      impossible: boolean;
      /** Set when the charge was refused for another reason than a short bucket (said in full). */
      reason?: string;
    };

/** Tolerance for float drift in refill arithmetic (tokens are compared, never accumulated past limit). */
const EPSILON = 1e-9;

export class RateLimitError extends Error {}

function bucketId(key: string, unit: LimitUnit): string {
  return unit === 'requests' ? key : `${key}\u0000bytes`;
}

/** One bucket charge a decision plans: which bucket, its unit and size, and the cost. */
export interface Planned {
  id: string;
  key: string;
  unit: LimitUnit;
  limit: number;
  windowMs: number;
  cost: number;
}

/** Turns a decision's directives into costs, summing entries that name the same bucket. */
export function planCharges(directives: RateLimitDirective[] | undefined, description?: Chargeable): Planned[] {
  const byId = new Map<string, Planned>();
  for (const d of directives ?? []) {
    const unit: LimitUnit = d.unit ?? 'requests';
    const windowMs = durationMs(d.window);
    if (!(windowMs > 0) || !(d.limit > 0) || !Number.isFinite(d.limit)) {
      throw new RateLimitError(`rate limit ${JSON.stringify(d.key)} needs a positive limit and window`);
    }
    const multiplier = d.cost ?? 1;
    if (!(multiplier >= 0) || !Number.isFinite(multiplier)) throw new RateLimitError(`rate limit ${JSON.stringify(d.key)} has an invalid cost`);
    const cost = unit === 'egress_bytes' ? (description?.request.egress_bytes ?? 0) * multiplier : multiplier;
    const id = bucketId(d.key, unit);
    const prev = byId.get(id);
    // Several entries for one bucket in one decision: their costs add up, the latest shape wins.
    byId.set(id, { id, key: d.key, unit, limit: d.limit, windowMs, cost: (prev?.cost ?? 0) + cost });
  }
  return [...byId.values()];
}

/**
 * Buckets not yet full that one agent's requests started, at most. Policies key buckets by host
 * (every request to a host is charged to `host:NAME` and its egress budget for an hour): an agent
 * allowed a wildcard of hosts made a bucket per name, kept in memory and rewritten on every flush,
 * without bound. Past this its requests that need a new bucket are refused (429) until some refill.
 */
export const MAX_BUCKETS_PER_AGENT = 10_000;
/** Why a request of an agent at its bound of buckets is refused (embedded and Redis alike). */
export function tooManyBuckets(max: number): string {
  return `this agent's requests already use ${max} rate-limit buckets that have not refilled (a bucket per host or key); a request that needs another is refused until some refill`;
}
/** Full buckets are swept at most this often when an agent is at its bound (a sweep reads every bucket). */
const SWEEP_MS = 1000;

/** The pure core: buckets in memory, time from the injected clock. */
export class BucketTable {
  private readonly buckets = new Map<string, BucketState>();
  /** Which agent's request started each bucket, and how many live buckets each agent started. */
  private readonly ownerOf = new Map<string, string>();
  private readonly owned = new Map<string, number>();
  private sweptAt = -Infinity;
  /**
   * Every bucket seen since start (its last state), so people see full ones too: a full bucket is
   * dropped from `buckets` (and never stored) but still listed. Bounded: the oldest go first.
   */
  private readonly known = new Map<string, BucketState>();
  static readonly MAX_KNOWN = 10_000;
  /** Set whenever state changed since the last `takeDirty()`. */
  private dirty = false;

  constructor(private readonly now: () => number = Date.now, initial: Record<string, BucketState> = emptyMap()) {
    for (const [id, b] of Object.entries(initial)) {
      if (validState(b)) {
        this.buckets.set(id, { ...b });
        this.remember(id, b);
        // Who started it: a restart must not hand an agent at its bound a fresh allowance.
        if (typeof b.owner === 'string') {
          this.ownerOf.set(id, b.owner);
          this.owned.set(b.owner, (this.owned.get(b.owner) ?? 0) + 1);
        }
      }
    }
  }

  private remember(id: string, b: BucketState): void {
    this.known.delete(id);
    this.known.set(id, { ...b });
    if (this.known.size > BucketTable.MAX_KNOWN) this.known.delete(this.known.keys().next().value!);
  }

  /** Tokens a bucket holds at time t (refill since its last update, capped at its limit). */
  private level(b: BucketState, t: number): number {
    const elapsed = Math.max(0, t - b.updated);
    return Math.min(b.limit, b.tokens + (elapsed * b.limit) / b.window_ms);
  }

  /** Charges every directive of one decision, or none of them. */
  charge(directives: RateLimitDirective[] | undefined, description?: Chargeable): ChargeResult {
    const plan = planCharges(directives, description);
    if (plan.length === 0) return { ok: true, charged: [] };
    const t = this.now();
    const owner = description?.agent?.id;
    const fresh = owner === undefined ? 0 : plan.filter((p) => !this.buckets.has(p.id)).length;
    if (owner !== undefined && fresh > 0 && (this.owned.get(owner) ?? 0) + fresh > MAX_BUCKETS_PER_AGENT) {
      if (t - this.sweptAt >= SWEEP_MS) this.sweep(t);
      if ((this.owned.get(owner) ?? 0) + fresh > MAX_BUCKETS_PER_AGENT) {
        const waitMs = Math.min(...plan.map((p) => p.windowMs));
        return {
          ok: false, retryAfter: Math.max(1, Math.ceil(waitMs / 1000)), impossible: false,
          short: plan.filter((p) => !this.buckets.has(p.id)).map((p) => ({ key: p.key, unit: p.unit, cost: p.cost, limit: p.limit, remaining: p.limit })),
          reason: tooManyBuckets(MAX_BUCKETS_PER_AGENT),
        };
      }
    }
    const short: Charge[] = [];
    let wait = 0;
    let impossible = false;
    const levels = plan.map((p) => {
      const b = this.buckets.get(p.id);
      // A bucket whose shape (limit/window) changed keeps its level, capped at the new limit.
      const level = b ? Math.min(p.limit, this.level(b, t)) : p.limit;
      if (level + EPSILON < p.cost) {
        short.push({ key: p.key, unit: p.unit, cost: p.cost, limit: p.limit, remaining: floor3(level) });
        if (p.cost > p.limit + EPSILON) {
          impossible = true;
          wait = Math.max(wait, p.windowMs);
        } else {
          wait = Math.max(wait, ((p.cost - level) * p.windowMs) / p.limit);
        }
      }
      return level;
    });
    if (short.length) return { ok: false, retryAfter: Math.max(1, Math.ceil(wait / 1000 - EPSILON)), short, impossible };
    const charged = plan.map((p, i) => {
      const remaining = Math.max(0, levels[i]! - p.cost);
      if (owner !== undefined && !this.buckets.has(p.id)) {
        this.ownerOf.set(p.id, owner);
        this.owned.set(owner, (this.owned.get(owner) ?? 0) + 1);
      }
      const by = this.ownerOf.get(p.id);
      const state: BucketState = { key: p.key, unit: p.unit, limit: p.limit, window_ms: p.windowMs, tokens: remaining, updated: notBefore(t, this.buckets.get(p.id)), ...(by !== undefined ? { owner: by } : {}) };
      this.buckets.set(p.id, state);
      this.remember(p.id, state);
      return { key: p.key, unit: p.unit, cost: p.cost, limit: p.limit, remaining: floor3(remaining) };
    });
    this.dirty = true;
    return { ok: true, charged };
  }

  /**
   * Charges `bytes` that are leaving now to every egress_bytes bucket of a decision (all or none;
   * request-count buckets were charged once with the decision).
   */
  chargeEgress(directives: RateLimitDirective[] | undefined, bytes: number): ChargeResult {
    return this.charge(egressDirectives(directives), { request: { egress_bytes: bytes } });
  }

  /** Every bucket seen since start, full ones included, refilled to now, sorted by key. */
  list(): BucketView[] {
    const t = this.now();
    return [...this.known.entries()]
      .map(([id, seen]) => this.buckets.get(id) ?? { ...seen, tokens: seen.limit })
      .map((b) => {
        const level = this.level(b, t);
        return {
          key: b.key,
          unit: b.unit,
          limit: b.limit,
          window_s: b.window_ms / 1000,
          available: floor3(level),
          full_in_s: Math.ceil((((b.limit - level) * b.window_ms) / b.limit) / 1000 - EPSILON),
          updated: new Date(b.updated).toISOString(),
        };
      })
      .sort((a, b) => a.key.localeCompare(b.key) || a.unit.localeCompare(b.unit));
  }

  /** Refills a bucket (or all buckets with `key` for every unit); returns how many were reset. */
  reset(key: string): number {
    let n = 0;
    for (const unit of ['requests', 'egress_bytes'] as const) if (this.drop(bucketId(key, unit))) n++;
    if (n) this.dirty = true;
    return n;
  }

  /**
   * State to persist. Full buckets are dropped: a missing bucket is a full one, so this bounds
   * memory by the keys actually in use within a window.
   */
  snapshot(): Record<string, BucketState> {
    const t = this.now();
    const out: Record<string, BucketState> = emptyMap();
    for (const [id, b] of this.buckets) {
      const level = this.level(b, t);
      if (level >= b.limit - EPSILON) {
        this.drop(id);
        continue;
      }
      out[id] = { ...b, tokens: level, updated: notBefore(t, b) };
    }
    return out;
  }

  /** Drops the buckets that have refilled (a missing bucket is a full one). */
  private sweep(t: number): void {
    this.sweptAt = t;
    for (const [id, b] of this.buckets) if (this.level(b, t) >= b.limit - EPSILON) this.drop(id);
  }

  private drop(id: string): boolean {
    if (!this.buckets.delete(id)) return false;
    const owner = this.ownerOf.get(id);
    if (owner !== undefined) {
      this.ownerOf.delete(id);
      const n = (this.owned.get(owner) ?? 1) - 1;
      if (n > 0) this.owned.set(owner, n);
      else this.owned.delete(owner);
    }
    return true;
  }

  takeDirty(): boolean {
    const d = this.dirty;
    this.dirty = false;
    return d;
  }

  get size(): number {
    return this.buckets.size;
  }
}

/**
 * When a bucket's level is as of: now, but never earlier than it already was. A clock set back (an
 * NTP step, a host restored from a snapshot) would otherwise date the level back, and once the
 * clock is put right the bucket would refill for the same time twice; meanwhile it just does not
 * refill (fail closed).
 */
function notBefore(t: number, b: BucketState | undefined): number {
  return b !== undefined && b.updated > t ? b.updated : t;
}

/** The directives of a decision that count bytes (undefined when there are none). */
export function egressDirectives(directives: RateLimitDirective[] | undefined): RateLimitDirective[] | undefined {
  const out = directives?.filter((d) => d.unit === 'egress_bytes');
  return out?.length ? out : undefined;
}

function floor3(n: number): number {
  return Math.floor(n * 1000 + EPSILON) / 1000;
}

function validState(b: unknown): b is BucketState {
  const s = b as BucketState;
  return !!s && typeof s.key === 'string' && (s.unit === 'requests' || s.unit === 'egress_bytes') &&
    s.limit > 0 && s.window_ms > 0 && typeof s.tokens === 'number' && s.tokens >= 0 && typeof s.updated === 'number';
}

interface LimiterDoc {
  version: 1;
  buckets: Record<string, BucketState>;
}

/** What is wrong with ratelimits.json's buckets, if anything. */
function bucketsProblem(d: LimiterDoc): string | undefined {
  return recordsProblem(d.buckets, 'buckets', (b) =>
    ['limit', 'window_ms', 'tokens', 'updated'].every((k) => typeof b[k] === 'number' && Number.isFinite(b[k])) ? undefined : '"limit", "window_ms", "tokens" and "updated" must be numbers');
}

export interface RateLimiterOptions {
  now?: () => number;
  /** How often changed buckets are written to disk (ms; default 5000). */
  flushMs?: number;
}

/** The limiter of a running Airlock: BucketTable + persistence in <home>/ratelimits.json. */
export class RateLimiter {
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(readonly table: BucketTable, private readonly doc: Document<LimiterDoc> | undefined) {}

  /** Opens the limiter with its state from the state folder (or in memory only, without a home). */
  static async open(home: string | undefined, opts: RateLimiterOptions = {}): Promise<RateLimiter> {
    const doc = home ? await openDocument<LimiterDoc>(stateFile(home, 'ratelimits'), { version: 1, buckets: {} }, { mode: 0o600, check: bucketsProblem }) : undefined;
    const limiter = new RateLimiter(new BucketTable(opts.now ?? Date.now, doc?.data.buckets ?? {}), doc);
    if (doc) {
      limiter.timer = setInterval(() => void limiter.flush().catch(() => undefined), opts.flushMs ?? 5000);
      limiter.timer.unref();
    }
    return limiter;
  }

  charge(directives: RateLimitDirective[] | undefined, description?: Chargeable): ChargeResult {
    return this.table.charge(directives, description);
  }

  chargeEgress(directives: RateLimitDirective[] | undefined, bytes: number): ChargeResult {
    return this.table.chargeEgress(directives, bytes);
  }

  /** The buckets as they stand now (for `airlock limits` and the studio). */
  snapshot(): BucketView[] {
    return this.table.list();
  }

  reset(key: string): number {
    return this.table.reset(key);
  }

  /** Writes the buckets when they changed since the last flush. */
  async flush(force = false): Promise<void> {
    if (!this.doc) return;
    if (!this.table.takeDirty() && !force) return;
    const buckets = this.table.snapshot();
    await this.doc.update((d) => {
      d.version = 1;
      d.buckets = buckets;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.flush(true);
  }
}

/** Reads persisted buckets without a running limiter (the CLI when Airlock is not running). */
export async function readBuckets(home: string, now: () => number = Date.now): Promise<BucketView[]> {
  const doc = await openDocument<LimiterDoc>(stateFile(home, 'ratelimits'), { version: 1, buckets: {} }, { mode: 0o600, check: bucketsProblem });
  return new BucketTable(now, doc.data.buckets).list();
}
