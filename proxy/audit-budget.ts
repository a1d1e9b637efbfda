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

  /** What a record says in place of a description left out (and, for a long URL, what was cut of it). */
  omitted(bytes: number, urlBytes?: number): OmittedDescription {
    return {
      bytes,
      reason: `this agent recorded more than ${Math.round(this.perMinute / 1024 / 1024)} MiB of large request descriptions and URLs in the last minute; the record keeps who, where and the decision${urlBytes !== undefined ? ` (its URL cut to ${AUDIT_URL_KEPT} of ${urlBytes} characters)` : ''}`,
      ...(urlBytes !== undefined ? { url_bytes: urlBytes } : {}),
    };
  }

  /** The record as its agent's share allows: a large description and a long URL past the budget are left out or cut. */
  bound(record: { agent?: string; url?: string; description?: unknown; description_omitted?: OmittedDescription }, text: string | undefined): void {
    if (!record.agent) return;
    const url = record.url ?? '';
    if (!text && url.length <= AUDIT_URL_KEPT) return;
    if (this.admit(record.agent, (text?.length ?? 0) + url.length)) return;
    const cut = url.length > AUDIT_URL_KEPT ? url.length : undefined;
    if (cut !== undefined) record.url = `${url.slice(0, AUDIT_URL_KEPT)}…`;
    if (text) delete record.description;
    record.description_omitted = this.omitted(text?.length ?? 0, cut);
  }
}
