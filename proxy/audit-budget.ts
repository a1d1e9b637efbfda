// One agent's share of the audit log's disk. A record carries the description the policy saw, and a
// description carries the request's parsed body (up to the 1 MiB capture cap): an agent sending
// large denied requests in a loop wrote ~1.5 MB of audit per request and could fill the disk, after
// which every agent is refused (503 audit-unavailable). Each agent may record descriptions whole up
// to a byte budget that refills over time; past it, a large description is left out of the record
// (its size and reason are kept), while the record itself (who, what URL, which decision, outcome)
// is always written: no request goes unaudited.

/** A description at most this long (JSON text) is always recorded whole. */
export const AUDIT_SMALL_DESCRIPTION = 16 * 1024;
/** The text of large descriptions one agent may record whole per minute (and at once, as a burst). */
export const AUDIT_AGENT_BYTES_PER_MINUTE = 64 * 1024 * 1024;

export interface OmittedDescription {
  /** Length of the description's JSON text. */
  bytes: number;
  reason: string;
}

export class AuditBudget {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly perMinute = AUDIT_AGENT_BYTES_PER_MINUTE, private readonly now: () => number = Date.now) {}

  /** Whether `agent` may record a description of `bytes` whole now; charges the budget when it may. */
  admit(agent: string, bytes: number): boolean {
    if (bytes <= AUDIT_SMALL_DESCRIPTION) return true;
    const now = this.now();
    let b = this.buckets.get(agent);
    if (!b) {
      b = { tokens: this.perMinute, at: now };
      this.buckets.set(agent, b);
    }
    b.tokens = Math.min(this.perMinute, b.tokens + ((now - b.at) * this.perMinute) / 60_000);
    b.at = now;
    if (b.tokens < bytes) return false;
    b.tokens -= bytes;
    return true;
  }

  /** What a record says in place of a description left out. */
  omitted(bytes: number): OmittedDescription {
    return { bytes, reason: `this agent recorded more than ${Math.round(this.perMinute / 1024 / 1024)} MiB of large request descriptions in the last minute; the record keeps who, where and the decision` };
  }
}
