// The audit log: one JSON line per request the proxy decided (or refused before deciding), in
// <home>/audit.jsonl, append-only. Records carry the redacted description the policy saw — never a
// secret value — so replay can re-decide them against a draft policy. Appends are buffered by a
// write stream (the hot path never waits on the disk); listeners (the CLI log line, the studio's
// live view) get each record as it is appended. The reader streams the file line by line, filtered
// by time, agent and host, so a large log is never loaded whole.
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { Action, RequestDescription } from './types.ts';

export interface AuditRecord {
  /** RFC 3339 time the request arrived. */
  time: string;
  /** The request id (also in the problem responses the agent sees). */
  id: string;
  agent?: string;
  method?: string;
  url?: string;
  host?: string;
  /** The decision, when one was made. */
  decision?: { action: Action; reason: string; rule?: string; fail_closed?: string };
  policy_version?: string;
  /** forwarded | denied | unauthenticated | rejected | destination-blocked | upstream-error | upstream-timeout | client-aborted | rate-limited | approval-* … */
  outcome: string;
  /** Status the agent received. */
  status?: number;
  /** Status the upstream answered with, when it was reached. */
  upstream_status?: number;
  decision_us?: number;
  total_ms?: number;
  /** Short human detail for refusals and errors (never a secret). */
  detail?: string;
  /** The redacted request description the policy saw. */
  description?: RequestDescription;
  /** Extra values enforcers recorded (approval id, limits charged, credentials injected by name…). */
  extra?: Record<string, unknown>;
}

export interface AuditFilter {
  since?: Date | string;
  until?: Date | string;
  agent?: string;
  host?: string;
  outcome?: string;
  /** Stop after this many matching records. */
  limit?: number;
}

/**
 * One record as a JSON line, with the description as its last member: replay then hands the
 * description's text to the policy as it stands in the line instead of serializing it again
 * (splitAtDescription in replay.ts). Member order means nothing to any other JSON reader.
 */
export function auditLine(record: AuditRecord): string {
  if (!record.description) return JSON.stringify(record);
  const { description, ...rest } = record;
  return JSON.stringify({ ...rest, description });
}

export class AuditLog {
  readonly file: string;
  private stream: fs.WriteStream;
  private readonly listeners = new Set<(r: AuditRecord) => void>();

  constructor(home: string, name = 'audit.jsonl') {
    this.file = path.join(home, name);
    fs.mkdirSync(home, { recursive: true, mode: 0o700 });
    const fd = fs.openSync(this.file, 'a', 0o600);
    this.stream = fs.createWriteStream(this.file, { fd, flags: 'a' });
    this.stream.on('error', (err) => process.stderr.write(`airlock: audit log ${this.file}: ${err.message}\n`));
  }

  /**
   * Last line of defence for "no secret value ever reaches the audit log": the secrets module sets
   * this to replace every form of every real secret value in a serialized record (e.g. a value an
   * agent learned elsewhere and sent in a query). Listeners then get the redacted record too.
   */
  redact: ((line: string) => string) | undefined;

  append(record: AuditRecord): void {
    let line = auditLine(record);
    if (this.redact) {
      const redacted = this.redact(line);
      if (redacted !== line) {
        line = redacted;
        record = JSON.parse(redacted) as AuditRecord;
      }
    }
    this.stream.write(`${line}\n`);
    for (const l of this.listeners) {
      try {
        l(record);
      } catch {
        /* a broken listener must not break the proxy */
      }
    }
  }

  /** Subscribes to records as they are appended; returns the unsubscribe function. */
  onRecord(fn: (r: AuditRecord) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Resolves when everything appended so far is handed to the OS. */
  flush(): Promise<void> {
    // The write callback of an empty chunk runs once every earlier chunk has been written.
    return new Promise((resolve) => {
      if (this.stream.closed || this.stream.writableEnded) return resolve();
      this.stream.write('', () => resolve());
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.stream.end(() => resolve()));
  }
}

function toMs(t: Date | string | undefined): number | undefined {
  if (t === undefined) return undefined;
  const ms = t instanceof Date ? t.getTime() : Date.parse(t);
  if (Number.isNaN(ms)) throw new Error(`not a time: ${String(t)}`);
  return ms;
}

export function matchesFilter(r: AuditRecord, f: AuditFilter, since?: number, until?: number): boolean {
  if (f.agent !== undefined && r.agent !== f.agent) return false;
  if (f.host !== undefined && r.host !== f.host.toLowerCase()) return false;
  if (f.outcome !== undefined && r.outcome !== f.outcome) return false;
  if (since !== undefined || until !== undefined) {
    const t = Date.parse(r.time);
    if (since !== undefined && !(t >= since)) return false;
    if (until !== undefined && !(t < until)) return false;
  }
  return true;
}

/**
 * Streams the records of an audit log file, oldest first, keeping only those matching the filter.
 * Malformed lines (a torn last line after a crash) are skipped, not fatal.
 */
export async function* readAudit(file: string, filter: AuditFilter = {}): AsyncGenerator<AuditRecord> {
  if (!fs.existsSync(file)) return;
  const since = toMs(filter.since);
  const until = toMs(filter.until);
  const input = fs.createReadStream(file, { encoding: 'utf8' });
  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const line of lines) {
      if (!line) continue;
      let r: AuditRecord;
      try {
        r = JSON.parse(line) as AuditRecord;
      } catch {
        continue;
      }
      if (!r || typeof r !== 'object' || typeof r.time !== 'string') continue;
      if (!matchesFilter(r, filter, since, until)) continue;
      yield r;
      if (filter.limit !== undefined && ++n >= filter.limit) break;
    }
  } finally {
    lines.close();
    input.destroy();
  }
}

export function auditFile(home: string): string {
  return path.join(home, 'audit.jsonl');
}
