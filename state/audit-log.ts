// The audit log: one JSON line per request the proxy decided (or refused before deciding), in
// <home>/audit.jsonl, append-only. Records carry the redacted description the policy saw — never a
// secret value — so replay can re-decide them against a draft policy. Appends are buffered by a
// write stream (the hot path never waits on the disk); listeners (the CLI log line, the studio's
// live view) get each record as it is appended. The reader streams the file line by line, filtered
// by time, agent and host, so a large log is never loaded whole.
import fs from 'node:fs';
import path from 'node:path';
import type { RequestDescription } from '../describe/types.ts';
import { streamLines } from '../lib/lines.ts';
import { jsonUnescaped } from '../lib/text.ts';
import { STATE_FILES, stateFile } from './home.ts';
import { AuditShares, droppedSummary } from './audit-shares.ts';
import type { Action } from '../engine/decision.ts';

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
  /** Instead of the description, when its agent was past its share of the audit log (proxy/audit-budget.ts). */
  description_omitted?: { bytes: number; reason: string; url_bytes?: number };
  /** Extra values enforcers recorded (approval id, limits charged, credentials injected by name…). */
  extra?: Record<string, unknown>;
  /** A human's change to a session (a label cleared, the session reset): replay applies it in order. */
  session_event?: SessionEvent;
}

/** A human's change to a session, as the audit log records it. */
export interface SessionEvent {
  session: string;
  type: 'label-cleared' | 'reset';
  label?: string;
  /** studio, cli or api. */
  by: string;
  reason?: string;
}

/**
 * Which records to take: the one filter of `airlock capture export`, `airlock replay`, the
 * studio's captures and its replay. Times are instants (a Date, RFC 3339 text or epoch ms).
 */
export interface AuditFilter {
  /** Inclusive. */
  since?: Date | string | number;
  /** Exclusive. */
  until?: Date | string | number;
  agent?: string;
  host?: string;
  outcome?: string;
  /** Stop after this many matching records. */
  limit?: number;
}

/**
 * The record's audit line with every real value taken out (`redact`), and the record as that line
 * says: what listeners see is what was written.
 */
export function redactedLine(record: AuditRecord, redact: ((line: string) => string) | undefined): { line: string; record: AuditRecord } {
  const line = auditLine(record);
  if (!redact) return { line, record };
  // Looked for in the line and in the text its strings hold (JSON's escapes hide spellings: a
  // `\x63` in a string is `\\x63` in the line).
  const view = jsonUnescaped(line);
  if (redact(line) === line && (view === line || redact(view) === view)) return { line, record };
  // A value is in the record: redacted string by string, never across the JSON text, where a match
  // can start inside an escape (`\\` then `u0073…`) or span members and break or reshape the line.
  const clean = redactStrings(JSON.parse(line), redact) as AuditRecord;
  return { line: JSON.stringify(clean), record: clean };
}

/**
 * A copy of a JSON value with `redact` applied to every string in it, member names included
 * (order kept), and what lies deeper than MAX_RECORD_DEPTH replaced by a marker.
 */
function redactStrings(value: unknown, redact: (text: string) => string, depth = 0): unknown {
  if (typeof value === 'string') return redact(value);
  if (!value || typeof value !== 'object') return value;
  if (depth >= MAX_RECORD_DEPTH) return DEEPER;
  if (Array.isArray(value)) return value.map((v) => redactStrings(v, redact, depth + 1));
  const out = Object.create(null) as Record<string, unknown>; // a member named __proto__ stays a member
  for (const [k, v] of Object.entries(value)) out[redact(k)] = redactStrings(v, redact, depth + 1);
  return out;
}

/** Nesting kept in a record that cannot be written whole (JSON.stringify recurses: 20,000 nested arrays overflow the stack). */
const MAX_RECORD_DEPTH = 200;
const DEEPER = `[cut: nested deeper than ${MAX_RECORD_DEPTH} levels]`;

/**
 * One record as a JSON line. A record too deeply nested to serialize (a description with a JSON
 * body of thousands of nested arrays; the policy could not be asked, the request was denied) is
 * written with its deepest parts cut, never dropped: every request has its record.
 */
export function auditLine(record: AuditRecord): string {
  try {
    return wholeLine(record);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    return wholeLine(redactStrings(record, (text) => text) as AuditRecord); // a copy cut at MAX_RECORD_DEPTH
  }
}

/**
 * The line with the description as its last member: replay then hands the description's text to
 * the policy as it stands in the line instead of serializing it again (splitAtDescription below).
 * Member order means nothing to any other JSON reader.
 */
function wholeLine(record: AuditRecord): string {
  if (!record.description) return JSON.stringify(record);
  const { description, ...rest } = record;
  const text = evaluatedAs.get(description);
  if (text === undefined) return JSON.stringify({ ...rest, description });
  const head = JSON.stringify(rest);
  return `${head.length > 2 ? `${head.slice(0, -1)},` : '{'}"description":${text}}`;
}

/**
 * The JSON text a description was handed to the policy as (the proxy sets it when it decides):
 * the record carries that very text, instead of the description being serialized a second time.
 */
export const evaluatedAs = new WeakMap<RequestDescription, string>();

const isObject = (v: unknown): v is Record<string, any> => !!v && typeof v === 'object' && !Array.isArray(v);

const DESCRIPTION_MEMBER = ',"description":';

/**
 * An audit record whose last member is "description" (as auditLine writes it), split into the
 * record without it and the description's own text, each parsed on its own: as much parsing as the
 * whole line, and the text can go to the policy as it is instead of being serialized again.
 * Sound without scanning the line:
 *  - `head + "}"` parses as an object with members only if the first ',"description":' separates
 *    members of the top-level object (inside a string or a nested value the cut leaves a string
 *    or a bracket open);
 *  - `tail` parses as exactly one JSON value (JSON.parse refuses anything after it);
 * so the line is that object with one more, last member "description": tail. A last member wins
 * over an earlier one of the same name, in JSON.parse as in OPA. Anything else: undefined, and the
 * caller parses the whole line.
 * Two cheap looks come first, so that lines of another layout (audit logs written before the
 * description moved last have "decision" and more after it) are not parsed twice: the line must
 * end with the description object's `}` and the record's, and not go on to a "decision" member.
 * They only ever skip the split; the parses alone decide that it is right.
 */
export function splitAtDescription(text: string): { record: Record<string, any>; descriptionJson: string } | undefined {
  const at = text.indexOf(DESCRIPTION_MEMBER);
  if (at < 0 || !text.endsWith('}}') || text.includes(',"decision":', at)) return undefined;
  try {
    const record: unknown = JSON.parse(`${text.slice(0, at)}}`);
    if (!isObject(record) || Object.keys(record).length === 0) return undefined;
    const descriptionJson = text.slice(at + DESCRIPTION_MEMBER.length, -1);
    record.description = JSON.parse(descriptionJson);
    return { record, descriptionJson };
  } catch {
    return undefined;
  }
}

/** Outcome of the refusal the proxy answers while the log cannot be written. */
export const AUDIT_UNAVAILABLE = 'audit-unavailable';

/** How often, at most, the writer checks that the log's path still names the file it writes. */
const PATH_CHECK_MS = 50;

export interface AuditLogOptions {
  /** First retry after a failed write (ms; doubles up to retryMaxMs). */
  retryMs?: number;
  retryMaxMs?: number;
  /**
   * Records kept in memory while the disk refuses or has not yet taken them; beyond this the log
   * counts as unavailable (a disk that stalls or cannot keep up), and audit-unavailable refusals
   * are only counted.
   */
  maxPendingBytes?: number;
  /** Where a failure and the recovery are reported (default: stderr). */
  warn?: (line: string) => void;
}

/** Whether the file open on `fd` (readable) ends inside a line: a torn last write. */
export function endsInsideLine(fd: number): boolean {
  const size = fs.fstatSync(fd).size;
  if (size === 0) return false;
  const last = Buffer.alloc(1);
  fs.readSync(fd, last, 0, 1, size - 1);
  return last[0] !== 0x0a;
}

/**
 * The writer: appends go to an in-memory queue that one write at a time drains to the file
 * (batched: everything queued goes in one write). When a write fails — ENOSPC on a full disk,
 * EDQUOT, EIO — the unwritten bytes stay at the head of the queue, `available` turns false (the
 * proxy then answers 503 audit-unavailable instead of forwarding anything), and the write is
 * retried with backoff until it succeeds; then the queue drains in order and `available` is true
 * again. A short write leaves the rest of its line queued, so lines are never torn. Every record
 * appended is written once space returns, except refusals of this very kind beyond
 * `maxPendingBytes`, which are counted and written as one summary record. A write that does not
 * return (a stalled disk, a hung network file system) is not an error, but the records waiting
 * behind it are: past `maxPendingBytes` the log is unavailable too, until they are written.
 */
/**
 * Under load, writes at least this far apart. Each write wakes one of libuv's pool threads (a
 * futex wake, on a VM an interrupt to the other core: ~15 µs of the main thread per write); at a
 * few thousand requests a second one write per turn was one per ~4 requests. A lone request's
 * record is still written at the end of its turn; records wait in memory at most this long more.
 */
const WRITE_GAP_MS = 4;

const pumpLog = (log: AuditLog): void => log.scheduledPump();

export class AuditLog {
  readonly file: string;
  private fd: number;
  /** The file the descriptor is open on (device and inode), to notice it removed or renamed. */
  private opened: { dev: number; ino: number };
  /** The path no longer names the open file: the next write first opens it again. */
  private reopenPending = false;
  /** The state folder Airlock started with (device and inode): a log is reopened only inside it. */
  private readonly folder: { dev: number; ino: number };
  /** The state folder was moved or replaced; the open file (still named, in the moved folder) is kept. */
  private detached = false;
  /**
   * What was written since the path was last confirmed to name the open file (at most every
   * PATH_CHECK_MS: a stat per write would cost every request): written again if the file turns out removed.
   */
  private unconfirmed: Buffer[] = [];
  private checkedAt = 0;
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  /** Whose bytes wait in `queue`, oldest first ([agent, bytes], '' for none; from `ownersHead` on): see `shares`. */
  private owners: Array<[string, number]> = [];
  private ownersHead = 0;
  /** The waiting bytes per agent (state/audit-shares.ts), and the refusals counted instead of queued. */
  private readonly shares: AuditShares;
  private writing = false;
  private pumpScheduled = false;
  /** When the last write was handed to the disk (performance.now()). */
  private lastWriteAt = -Infinity;
  private failure: NodeJS.ErrnoException | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay: number;
  /** The backlog was reported (once per episode). */
  private backlogReported = false;
  private closed = false;
  private fdClosed = false;
  private drained: Array<() => void> = [];
  private readonly listeners = new Set<(r: AuditRecord) => void>();
  private readonly opts: Required<AuditLogOptions>;

  constructor(home: string, name: string = STATE_FILES.audit, opts: AuditLogOptions = {}) {
    this.file = path.join(home, name);
    fs.mkdirSync(home, { recursive: true, mode: 0o700 });
    // Readable too: a torn last line is looked for below.
    this.fd = fs.openSync(this.file, 'a+', 0o600);
    this.opened = identity(fs.fstatSync(this.fd));
    this.folder = identity(fs.statSync(home));
    this.opts = {
      retryMs: opts.retryMs ?? 250,
      retryMaxMs: opts.retryMaxMs ?? 2000,
      maxPendingBytes: opts.maxPendingBytes ?? 32 * 1024 * 1024,
      warn: opts.warn ?? ((line) => process.stderr.write(`${line}\n`)),
    };
    this.retryDelay = this.opts.retryMs;
    this.shares = new AuditShares(this.opts.maxPendingBytes);
    // A process killed mid-write left its last line torn: end it, or the first record appended
    // now is glued to the fragment and read back as one malformed line (skipped: lost).
    if (endsInsideLine(this.fd)) this.enqueue('\n');
  }

  /**
   * Last line of defence for "no secret value ever reaches the audit log": the secrets module sets
   * this to replace every form of every real secret value in a serialized record (e.g. a value an
   * agent learned elsewhere and sent in a query). Listeners then get the redacted record too.
   */
  redact: ((line: string) => string) | undefined;

  /** False while records cannot be written (disk full, I/O error): nothing may be forwarded then. */
  get available(): boolean {
    return this.failure === undefined && !this.backlogged;
  }

  /**
   * The disk is behind: an eighth of the bound waits in memory (a healthy disk takes that in
   * milliseconds). Large descriptions are then left out of records (proxy/audit-budget.ts), so one
   * agent's large records cannot fill the backlog past which every agent is refused.
   */
  get behind(): boolean {
    return this.queuedBytes > this.opts.maxPendingBytes / 8;
  }

  /**
   * The agent's records waiting for the disk are past its share (state/audit-shares.ts): its
   * requests are refused until they are written, while other agents are served.
   */
  overShare(agent: string): string | undefined {
    return this.shares.over(agent) ? this.shares.overReason(agent, 'the audit disk') : undefined;
  }

  /** Behind, and `agent` has records among those waiting: its large descriptions are left out. */
  behindFor(agent: string): boolean {
    return this.behind && this.shares.heavy(agent);
  }

  /** More is waiting in memory than the bound: the disk is not taking records as fast as they come. */
  private get backlogged(): boolean {
    return this.queuedBytes > this.opts.maxPendingBytes;
  }

  /** Why the log cannot be written right now, for the 503 the proxy answers. */
  get unavailableReason(): string | undefined {
    if (this.failure) return `${this.failure.code ?? 'error'} writing ${path.basename(this.file)}`;
    return this.backlogged ? `${path.basename(this.file)} is not taking records (${Math.round(this.queuedBytes / 1024)} KiB waiting for the disk)` : undefined;
  }

  append(given: AuditRecord): void {
    const { line, record } = redactedLine(given, this.redact);
    if (record.outcome === AUDIT_UNAVAILABLE && (this.backlogged || (record.agent !== undefined && this.shares.over(record.agent)))) {
      // Memory stays bounded under a flood of refusals; they are summed up once the disk is back
      // (or their agent's records are written).
      this.shares.count(record.agent);
    } else {
      this.enqueue(`${line}\n`, record.agent);
    }
    for (const l of this.listeners) {
      try {
        l(record);
      } catch {
        /* a broken listener must not break the proxy */
      }
    }
  }

  private enqueue(text: string, agent = ''): void {
    const buf = Buffer.from(text);
    this.queue.push(buf);
    this.queuedBytes += buf.length;
    this.owners.push([agent, buf.length]);
    this.shares.add(agent, buf.length);
    if (this.backlogged && !this.backlogReported && !this.failure) {
      this.backlogReported = true;
      this.opts.warn(`airlock: audit log ${this.file}: the disk is not taking records (${Math.round(this.queuedBytes / 1024)} KiB waiting); requests are refused (503 audit-unavailable) until they are written`);
    }
    // Written at the end of this turn of the event loop, with every record appended in it: one
    // write for many requests; under load at most one write per WRITE_GAP_MS. A failed write still
    // turns `available` false before the proxy forwards anything further (it checks before
    // forwarding and again before dialing).
    this.schedulePump();
  }

  /** A write at the end of this turn, or once WRITE_GAP_MS have passed since the last one began. */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    const wait = this.lastWriteAt + WRITE_GAP_MS - performance.now();
    if (wait > 0) setTimeout(pumpLog, wait, this);
    else setImmediate(pumpLog, this);
  }

  /** The scheduled write (enqueue): runs what was queued since. */
  scheduledPump(): void {
    this.pumpScheduled = false;
    this.pump();
  }

  /** Keeps one write running while anything is queued; paused while failing (the retry timer resumes). */
  private pump(): void {
    if (this.writing || this.failure || this.fdClosed) return;
    if (this.queue.length === 0) {
      // Someone waits for the records to be on disk (flush, close): confirm they are at the path.
      if (this.drained.length && this.unconfirmed.length) {
        this.confirmPath();
        if (this.queue.length || this.reopenPending) return this.writeBatch();
      }
      for (const done of this.drained.splice(0)) done();
      return;
    }
    this.writeBatch();
  }

  private writeBatch(): void {
    if (this.reopenPending) {
      const err = this.reopen();
      if (err) return this.failed(err);
    }
    this.writing = true;
    this.lastWriteAt = performance.now();
    const taken = this.queue.length;
    const batch = taken === 1 ? this.queue[0]! : Buffer.concat(this.queue);
    fs.write(this.fd, batch, 0, batch.length, null, (err, written) => {
      this.writing = false;
      const done = err ? 0 : written;
      // What was written leaves the queue; the rest of a short or failed write stays at its head.
      this.queue.splice(0, taken, ...(done < batch.length ? [batch.subarray(done)] : []));
      this.queuedBytes -= done;
      this.written(done);
      if (done > 0) this.unconfirmed.push(batch.subarray(0, done));
      if (err) return this.failed(err);
      if (this.reopenPending || Date.now() - this.checkedAt >= PATH_CHECK_MS) this.confirmPath();
      if (this.reopenPending) {
        const failure = this.reopen();
        if (failure) return this.failed(failure);
      }
      if (this.failure) this.recovered();
      else if (this.backlogReported && !this.backlogged) {
        this.backlogReported = false;
        this.opts.warn(`airlock: audit log ${this.file} caught up; requests flow`);
        this.summarizeDropped();
      } else if (this.shares.dropped.size) this.summarizeDropped();
      // What came in meanwhile waits for the gap too (written at once here, the gap held only for
      // the first write of a burst), unless someone waits for it or the disk is behind.
      if (this.queue.length && !this.drained.length && !this.backlogged && !this.failure) this.schedulePump();
      else this.pump();
    });
  }

  /**
   * A log removed underneath (rm, a cleanup) would take every later record into a file nobody can
   * open, and one renamed (logrotate) would keep them from the path that replay and the studio
   * read: the path is checked, and what went into a removed file since the last check is queued
   * again, ahead of the rest (the reopen follows before the next write).
   */
  private confirmPath(): void {
    this.checkedAt = Date.now();
    if (this.movedAway() && this.removed() && this.unconfirmed.length) {
      const lost = this.unconfirmed;
      this.queue.unshift(...lost);
      let bytes = 0;
      for (const b of lost) bytes += b.length;
      this.queuedBytes += bytes;
      this.owners.splice(this.ownersHead, 0, ['', bytes]); // written again, counted to nobody
    }
    this.unconfirmed = [];
  }

  /** Whether the log's path no longer names the open file (removed, renamed or replaced); notes it for a reopen. */
  private movedAway(): boolean {
    let now: { dev: number; ino: number } | undefined;
    try {
      now = identity(fs.statSync(this.file));
    } catch {
      now = undefined;
    }
    if (now && now.dev === this.opened.dev && now.ino === this.opened.ino) return false;
    this.reopenPending = true;
    return true;
  }

  /** Whether the open file has no name left (its records are lost with it). */
  private removed(): boolean {
    try {
      return fs.fstatSync(this.fd).nlink === 0;
    } catch {
      return true;
    }
  }

  /**
   * Opens the log at its path again, inside the state folder Airlock started with; the error when
   * it cannot be. A folder moved away or replaced (another folder or a symlink at its path, made by
   * whoever can write its parent) is never followed: records would go where someone else chose.
   * Then the open file is kept while it still has a name (in the moved folder), else the log is
   * unavailable.
   */
  private reopen(): NodeJS.ErrnoException | undefined {
    const dir = path.dirname(this.file);
    let here: { dev: number; ino: number } | undefined;
    try {
      here = identity(fs.statSync(dir));
    } catch {
      here = undefined;
    }
    if (!here || here.dev !== this.folder.dev || here.ino !== this.folder.ino) {
      if (this.removed()) return Object.assign(new Error(`the state folder ${dir} was moved or replaced while in use, and the log in it removed`), { code: 'ESTALE' });
      this.reopenPending = false;
      if (!this.detached) this.opts.warn(`airlock: the state folder ${dir} was moved or replaced while in use; the audit log goes on in the file already open, wherever it was moved (restart Airlock to use the folder at that path)`);
      this.detached = true;
      return undefined;
    }
    let fd: number;
    try {
      // Non-blocking: a FIFO put at the path must not hang the process in open(2).
      fd = fs.openSync(this.file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_NONBLOCK, 0o600);
    } catch (err) {
      return err as NodeJS.ErrnoException;
    }
    if (!fs.fstatSync(fd).isFile()) {
      fs.closeSync(fd);
      return Object.assign(new Error(`${this.file} is not a regular file`), { code: 'EINVAL' });
    }
    const old = this.fd;
    this.fd = fd;
    this.opened = identity(fs.fstatSync(fd));
    this.reopenPending = false;
    fs.close(old, () => undefined);
    this.opts.warn(`airlock: audit log ${this.file} was removed or replaced while in use; records go on in a new file at that path`);
    return undefined;
  }

  private failed(err: NodeJS.ErrnoException): void {
    if (!this.failure) {
      this.opts.warn(`airlock: audit log ${this.file}: ${err.code ?? err.message}; requests are refused (503 audit-unavailable) until records can be written again`);
    }
    this.failure = err;
    if (this.closed) {
      for (const done of this.drained.splice(0)) done();
      return;
    }
    clearTimeout(this.retryTimer);
    // `available` stays false during the retry: only a write that succeeds turns it back.
    this.retryTimer = setTimeout(() => {
      if (!this.writing) this.writeBatch();
    }, this.retryDelay);
    this.retryDelay = Math.min(this.retryDelay * 2, this.opts.retryMaxMs);
  }

  private recovered(): void {
    this.failure = undefined;
    this.retryDelay = this.opts.retryMs;
    this.opts.warn(`airlock: audit log ${this.file} is writable again; requests flow`);
    this.summarizeDropped();
  }

  /** `done` bytes from the queue's head were written: they no longer count against their agents. */
  private written(done: number): void {
    let left = done;
    while (left > 0 && this.ownersHead < this.owners.length) {
      const entry = this.owners[this.ownersHead]!;
      const take = Math.min(left, entry[1]);
      entry[1] -= take;
      left -= take;
      this.shares.remove(entry[0], take);
      if (entry[1] === 0) this.ownersHead++;
    }
    if (this.ownersHead > 1024 && this.ownersHead * 2 > this.owners.length) {
      this.owners = this.owners.slice(this.ownersHead);
      this.ownersHead = 0;
    }
  }

  /** The refusals counted instead of queued, as one record per agent once it may write again. */
  private summarizeDropped(): void {
    if (this.backlogged || this.failure) return;
    for (const [agent, n] of this.shares.takeDropped((a) => !a || !this.shares.over(a))) {
      this.enqueue(`${JSON.stringify(droppedSummary(agent, n, 'the audit log could not be written'))}\n`, agent);
    }
  }

  /** The records written so far that match the filter, oldest first. */
  read(filter: AuditFilter = {}): AsyncGenerator<AuditRecord> {
    return readAudit(this.file, filter);
  }

  /** Subscribes to records as they are appended; returns the unsubscribe function. */
  onRecord(fn: (r: AuditRecord) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Resolves when everything appended so far is handed to the OS (waits while the log is failing). */
  flush(): Promise<void> {
    if (this.fdClosed || (this.queue.length === 0 && !this.writing && this.unconfirmed.length === 0)) return Promise.resolve();
    const flushed = new Promise<void>((resolve) => this.drained.push(resolve));
    if (!this.writing && !this.pumpScheduled) this.pump();
    return flushed;
  }

  /** Writes what is queued (one last attempt if the log is failing), then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    if (!this.failure && !this.writing) await this.flush();
    if (this.failure && !this.writing && this.queue.length) this.writeBatch(); // one last attempt
    // (An attempt that failed before writing, the log unable to be opened again, is over already.)
    if (this.writing || (this.queue.length && !this.failure)) await new Promise<void>((resolve) => this.drained.push(resolve));
    if (this.queue.length) this.opts.warn(`airlock: audit log ${this.file}: ${this.queue.length} records could not be written before stopping (${this.failure?.code ?? 'error'})`);
    this.fdClosed = true;
    fs.closeSync(this.fd);
  }
}

function identity(st: fs.Stats): { dev: number; ino: number } {
  return { dev: st.dev, ino: st.ino };
}

function toMs(t: Date | string | number | undefined): number | undefined {
  if (t === undefined) return undefined;
  const ms = typeof t === 'number' ? t : t instanceof Date ? t.getTime() : Date.parse(t);
  if (Number.isNaN(ms)) throw new Error(`not a time: ${String(t)}`);
  return ms;
}

/** What a filter looks at: a record's own fields, or those of a bare description (replay). */
export interface FilterFields {
  time?: string;
  agent?: string;
  host?: string;
  outcome?: string;
}

/** The filter as a test of one record; its times are read once, here (a bad time throws). */
export function compileFilter(f: AuditFilter = {}): (r: FilterFields) => boolean {
  const since = toMs(f.since);
  const until = toMs(f.until);
  const host = f.host?.toLowerCase();
  return (r) => {
    if (f.agent !== undefined && r.agent !== f.agent) return false;
    if (host !== undefined && r.host !== host) return false;
    if (f.outcome !== undefined && r.outcome !== f.outcome) return false;
    if (since !== undefined || until !== undefined) {
      const t = Date.parse(r.time ?? '');
      if (since !== undefined && !(t >= since)) return false;
      if (until !== undefined && !(t < until)) return false;
    }
    return true;
  };
}

/**
 * Streams the records of an audit log file, oldest first, keeping only those matching the filter.
 * Malformed lines (a torn last line after a crash) are skipped, not fatal.
 */
export async function* readAudit(file: string, filter: AuditFilter = {}): AsyncGenerator<AuditRecord> {
  if (!fs.existsSync(file)) return;
  const matches = compileFilter(filter);
  const input = fs.createReadStream(file, { highWaterMark: 256 * 1024 });
  let n = 0;
  try {
    for await (const lines of streamLines(input)) {
      for (const line of lines) {
        if (!line) continue;
        let r: AuditRecord;
        try {
          r = JSON.parse(line) as AuditRecord;
        } catch {
          continue;
        }
        if (!r || typeof r !== 'object' || typeof r.time !== 'string') continue;
        if (!matches(r)) continue;
        yield r;
        if (filter.limit !== undefined && ++n >= filter.limit) return;
      }
    }
  } finally {
    input.destroy();
  }
}

export function auditFile(home: string): string {
  return stateFile(home, 'audit');
}
