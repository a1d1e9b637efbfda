// One agent's share of the audit log's disk. A record carries the description the policy saw, and a
// description carries the request's parsed body (up to the 1 MiB capture cap): an agent sending
// large denied requests in a loop wrote ~1.5 MB of audit per request and could fill the disk, after
// which every agent is refused (503 audit-unavailable). Each agent may record descriptions whole up
// to a byte budget that refills over time; past it, a large description is left out of the record
// (its size and reason are kept), while the record itself (who, what URL, which decision, outcome)
// is always written: no request goes unaudited.
//
// Thirteenth pass: only descriptions over 16 KiB were charged, and the record's URL never: denied
// GETs with a 7 KB query (a 14 KB description, the URL again beside it) wrote 21 KB of audit each,
// at the rate the policy decides them (~300 a second on one connection of a loaded box: 22 GB an
// hour), uncharged. A record's URL is charged with its description now, from 4 KiB; past the
// budget the URL is cut to AUDIT_URL_KEPT characters too (its length is kept), so a record past the
// budget stays a few KiB whatever the agent sent.
/** A description and URL at most this long together (JSON text) are always recorded whole: an ordinary request's are 1-3 KB. */
export const AUDIT_SMALL_DESCRIPTION = 4 * 1024;
/** The characters of a URL a record keeps when its agent is past its share. */
export const AUDIT_URL_KEPT = 1024;
/** The text of large descriptions one agent may record whole per minute (and at once, as a burst). */
export const AUDIT_AGENT_BYTES_PER_MINUTE = 64 * 1024 * 1024;

export interface OmittedDescription {
  /** Length of the description's JSON text. */
  bytes: number;
  reason: string;
  /** The length of the URL, when it was cut. */
  url_bytes?: number;
}

export class AuditBudget {
  /** In the order they were last charged. */
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  /** Agents with a bucket (one charged within the last minute, or since). */
  get size(): number {
    return this.buckets.size;
  }

  constructor(private readonly perMinute = AUDIT_AGENT_BYTES_PER_MINUTE, private readonly now: () => number = Date.now) {}

  /** Whether `agent` may record a description of `bytes` whole now; charges the budget when it may. */
  admit(agent: string, bytes: number): boolean {
    if (bytes <= AUDIT_SMALL_DESCRIPTION) return true;
    const now = this.now();
    let b = this.buckets.get(agent);
    if (b) this.buckets.delete(agent);
    else b = { tokens: this.perMinute, at: now };
    // Least recently charged first: a bucket untouched for a minute has refilled, as a new one
    // starts, so it goes (a bucket for every agent that ever recorded a large description stayed).
    for (const [name, old] of this.buckets) {
      if (now - old.at < 60_000) break;
      this.buckets.delete(name);
    }
    this.buckets.set(agent, b);
    b.tokens = Math.min(this.perMinute, b.tokens + ((now - b.at) * this.perMinute) / 60_000);
    b.at = now;
    if (b.tokens < bytes) return false;
    b.tokens -= bytes;
    return true;
  }

  /** What a record says in place of a description left out (and, for a long URL, what was cut of it). */
  omitted(bytes: number, urlBytes?: number): OmittedDescription {
    return {
      bytes,
      reason: `this agent recorded more than ${Math.round(this.perMinute / 1024 / 1024)} MiB of large request descriptions and URLs in the last minute; the record keeps who, where and the decision${urlBytes !== undefined ? ` (its URL cut to ${AUDIT_URL_KEPT} of ${urlBytes} characters)` : ''}`,
      ...(urlBytes !== undefined ? { url_bytes: urlBytes } : {}),
    };
  }

  /**
   * The record as its agent's share allows: a large description and a long URL past the budget are
   * left out or cut. While the log is `behind` (a slow disk) they are, whatever the share: one
   * agent's 2 MB records at its share's pace filled the backlog of a disk taking 1 MB/s within
   * seconds, and past it every agent's request is refused (503 audit-unavailable).
   */
  bound(record: { agent?: string; url?: string; description?: unknown; description_omitted?: OmittedDescription }, text: string | undefined, behind = false): void {
    if (!record.agent) return;
    const url = record.url ?? '';
    if (!text && url.length <= AUDIT_URL_KEPT) return;
    const bytes = (text?.length ?? 0) + url.length;
    if (behind ? bytes <= AUDIT_SMALL_DESCRIPTION : this.admit(record.agent, bytes)) return;
    const cut = url.length > AUDIT_URL_KEPT ? url.length : undefined;
    if (cut !== undefined) record.url = `${url.slice(0, AUDIT_URL_KEPT)}…`;
    if (text) delete record.description;
    record.description_omitted = behind ? { ...this.omitted(text?.length ?? 0, cut), reason: `the audit log's disk is behind (records wait in memory to be written); large descriptions are left out until it catches up: the record keeps who, where and the decision${cut !== undefined ? ` (its URL cut to ${AUDIT_URL_KEPT} of ${cut} characters)` : ''}` } : this.omitted(text?.length ?? 0, cut);
  }
}

// Fourteenth pass: a record past the share is a few KiB, but nothing bounded how many there are.
// Refusals cost the agent nothing (no rate limit is charged for a denied request), and one agent's
// 64 keep-alive loops of denied GETs were decided ~1,000 a second on a loaded box: 1.3 MB of audit a
// second, 4.7 GB an hour, plus a JSON line and a write per refusal on the main thread. Each agent
// may record refusals (nothing left Airlock, no human was asked) one by one up to a count that
// refills over time; past it, they are counted and written as one summary record per agent per
// second (`outcome: "refusals-summarized"`: how many, between which times, grouped by outcome,
// status, host and rule). Requests that reached an upstream or a person are always recorded whole.
/** Refusals one agent may record one by one per minute (and at once, as a burst). */
export const AUDIT_AGENT_REFUSALS_PER_MINUTE = 1200;
/** Outcomes where nothing left Airlock and no approval was made: the ones counted past the rate. */
const COUNTABLE = new Set(['denied', 'rate-limited', 'rejected', 'destination-blocked', 'unauthenticated', 'auth-challenge']);
/** Groups of one summary (outcome × status × host × rule); the rest are counted as `others`. */
const SUMMARY_GROUPS = 32;
/** How long refusals past the rate are counted before their summary is written. */
const SUMMARY_MS = 1000;

export interface RefusalGroup {
  outcome: string;
  status?: number;
  host?: string;
  rule?: string;
  count: number;
}

interface Counted {
  count: number;
  from: string;
  to: string;
  groups: Map<string, RefusalGroup>;
  others: number;
}

/** The summary record of one agent's refusals past its rate. */
export interface RefusalSummaryRecord {
  time: string;
  id: string;
  agent?: string;
  outcome: 'refusals-summarized';
  detail: string;
  extra: { refusals: { count: number; from: string; to: string; groups: RefusalGroup[]; others: number } };
}

/** Agents whose refusal budgets are kept apart, at most; past it newcomers share one (`crowd`). */
export const REFUSAL_BUCKETS = 4096;

export class RefusalRate {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  /** The budget agents past REFUSAL_BUCKETS share while every bucket is in use. */
  private readonly crowd: { tokens: number; at: number };
  private readonly counted = new Map<string, Counted>();
  private timer: NodeJS.Timeout | undefined;
  private serial = 0;

  constructor(
    private readonly emit: (summary: RefusalSummaryRecord) => void,
    private readonly perMinute = AUDIT_AGENT_REFUSALS_PER_MINUTE,
    private readonly now: () => number = Date.now,
  ) {
    this.crowd = { tokens: perMinute, at: now() };
  }

  /** Whether the record is written on its own; false: it was counted into its agent's next summary. */
  admit(record: { agent?: string; outcome: string; time: string; host?: string; status?: number; decision?: { rule?: string } }): boolean {
    if (!COUNTABLE.has(record.outcome)) return true;
    const key = record.agent ?? '';
    const now = this.now();
    let b = this.buckets.get(key);
    if (b) {
      // Least recently used first: the map's order is the order of last use.
      this.buckets.delete(key);
      this.buckets.set(key, b);
    } else {
      if (this.buckets.size >= REFUSAL_BUCKETS) this.dropFull(now);
      if (this.buckets.size < REFUSAL_BUCKETS) {
        b = { tokens: this.perMinute, at: now };
        this.buckets.set(key, b);
      } else {
        b = this.crowd; // every bucket is in use: the newcomer shares one, nobody's is reset
      }
    }
    b.tokens = Math.min(this.perMinute, b.tokens + ((now - b.at) * this.perMinute) / 60_000);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return true;
    }
    let c = this.counted.get(key);
    if (!c) {
      c = { count: 0, from: record.time, to: record.time, groups: new Map(), others: 0 };
      this.counted.set(key, c);
    }
    c.count++;
    c.to = record.time;
    const group = { outcome: record.outcome, ...(record.status !== undefined ? { status: record.status } : {}), ...(record.host ? { host: record.host.slice(0, 256) } : {}), ...(record.decision?.rule ? { rule: record.decision.rule.slice(0, 256) } : {}) };
    const gk = JSON.stringify(group);
    const g = c.groups.get(gk);
    if (g) g.count++;
    else if (c.groups.size < SUMMARY_GROUPS) c.groups.set(gk, { ...group, count: 1 });
    else c.others++;
    this.timer ??= setTimeout(() => this.flush(), SUMMARY_MS).unref();
    return false;
  }

  /** Writes every agent's counted refusals as its summary (on a timer, and when the proxy closes). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const counted = [...this.counted];
    this.counted.clear();
    for (const [agent, c] of counted) {
      this.emit({
        time: new Date(this.now()).toISOString(),
        id: `refusals-${Date.now().toString(36)}-${(this.serial++).toString(36)}`,
        ...(agent ? { agent } : {}),
        outcome: 'refusals-summarized',
        detail: `${c.count} refusals ${agent ? `of agent ${agent}` : 'of unauthenticated requests'} past its record rate (${this.perMinute} a minute), counted here, not recorded one by one`,
        extra: { refusals: { count: c.count, from: c.from, to: c.to, groups: [...c.groups.values()].sort((a, b) => b.count - a.count), others: c.others } },
      });
    }
  }

  /**
   * Buckets that refilled are no different from absent ones: forget them, least recently used first,
   * up to the first that has not (agent names are unbounded input when unauthenticated). A bucket
   * in use is never dropped: past REFUSAL_BUCKETS all were cleared, so 4,096 agents refusing at once
   * reset every flooder's budget with each newcomer (twenty-first pass, follow-up).
   */
  private dropFull(now: number): void {
    for (const [k, b] of this.buckets) {
      if (b.tokens + ((now - b.at) * this.perMinute) / 60_000 < this.perMinute) return;
      this.buckets.delete(k);
    }
  }
}
