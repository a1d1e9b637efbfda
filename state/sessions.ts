// Sessions: what each agent session has brought into its context (labels), how much it sent,
// which links its responses carried (provenance) and its recent requests. A session is one token's
// life — one `airlock run`, or a long-lived token until a human resets it — so the agent cannot
// start a fresh one by itself.
//
// `AgentSessions` (state/stores.ts) is the port the proxy, the studio and the CLI use;
// `JournalSessionStore` is the embedded implementation: state in memory, every change appended to <home>/sessions.jsonl
// (one JSON object per line), replayed on open, compacted into a snapshot when the journal has
// grown to twice its last compacted size. Writes are incremental: a request appends a line, it never
// rewrites other sessions. Every change applies to memory at once (what is enforced) and its line
// joins a queue that one write at a time, off the main thread, hands to the disk in order: a write
// that stalls (a hung network file system, a full device under retry) once froze the event loop,
// and with it every agent. Labels, clears and resets resolve only once their line is written (the
// proxy holds the response that brought a label until then, so a restart never forgets a label
// that was enforced), and past `durableMs` they fail as unavailable (503). While a write fails, new
// requests are refused (503), as the audit log does; nothing queued is dropped, it is written when
// the disk comes back. What waits is counted per agent as the audit log's records are
// (state/audit-shares.ts): an agent whose lines (links, its timeline) wait past its share of
// `maxPendingBytes` is refused by itself, others are served; past twice the bound, everyone is. Counters, links and the timeline are
// batched once a second (a crash forgets at most that second: fewer links seen, which fails closed).
//
// Bounded (SESSION_LIMITS): links per session (count and bytes, oldest evicted first), link bytes
// over all sessions (the least recently active session's links go first), timeline and label events
// per session, and ended sessions kept. A live session's labels are never evicted: losing them
// would launder what the agent read.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { LabelArrival, SessionInfo } from '../describe/types.ts';
import type { AuditRecord, SessionEvent } from './audit-log.ts';
import { StateFileError, isJsonObject } from './document.ts';
import { ChangeFeed } from '../lib/change-feed.ts';
import { StoreUnavailableError } from './unavailable.ts';
import { AuditShares } from './audit-shares.ts';

export const SESSION_LIMITS = {
  /** Links remembered per session; past it the oldest are forgotten. */
  linksPerSession: 5000,
  /** Bytes of link text remembered per session. */
  linkBytesPerSession: 1024 * 1024,
  /** Bytes of link text over all sessions: the least recently active sessions' links go first. */
  linkBytesTotal: 64 * 1024 * 1024,
  /** Longer URLs are not remembered (nor followable). */
  urlChars: 2048,
  /** Requests kept in a session's timeline. */
  timelinePerSession: 200,
  /** Label events (added, cleared, reset) kept per session. */
  labelEventsPerSession: 200,
  /** Ended sessions (reset, or their token gone) kept for the record, newest first. */
  endedSessionsKept: 500,
} as const;

export type SessionLimits = { [K in keyof typeof SESSION_LIMITS]: number };

/** One request in a session's timeline (from its audit record). */
export interface TimelineEntry {
  id: string;
  time: string;
  method: string;
  /** At most 300 characters. */
  url: string;
  host: string;
  action?: string;
  rule?: string;
  outcome: string;
  status?: number;
  labels_added?: string[];
}

export interface LabelEvent {
  time: string;
  kind: 'added' | 'cleared' | 'reset';
  label?: string;
  /** added: the request whose response brought it. */
  request_id?: string;
  host?: string;
  /** cleared / reset: who (studio, cli, api) and why. */
  by?: string;
  reason?: string;
}

export interface SessionRecord {
  id: string;
  agent: string;
  /** The id of the token (never the token itself). */
  token: string;
  started: string;
  last_seen: string;
  /** Set when a human reset the session: the token's next request starts a new one. */
  ended?: { time: string; by: string; reason?: string };
  labels: Record<string, LabelArrival>;
  requests: number;
  egress_bytes: number;
  links: number;
  link_bytes: number;
  events: LabelEvent[];
  timeline: TimelineEntry[];
}

export type SessionSummary = Omit<SessionRecord, 'events' | 'timeline'>;

export interface Entered {
  session: SessionInfo;
  /** Where the URL was seen before in this session (when asked and seen). */
  seen?: { request_id: string; host: string };
  /** When asked and not seen: whether links to the URL's host were seen (a changed link, likely). */
  hostSeen?: boolean;
}

export type SessionChange =
  /** `remote`: the change was made through another replica (a shared store's notice). */
  | { type: 'started' | 'ended' | 'labels'; session: SessionSummary; labels?: string[]; remote?: true }
  | { type: 'cleared'; session: SessionSummary; label: string; by: string };

export class SessionError extends Error {
  constructor(readonly code: 'not-found' | 'ambiguous' | 'bad-request' | 'not-live', message: string) {
    super(message);
    this.name = 'SessionError';
  }
}

type JournalLine =
  | { e: 'open'; id: string; agent: string; token: string; time: string }
  | { e: 'label'; id: string; label: string; request_id: string; host: string; time: string }
  | { e: 'count'; id: string; requests: number; egress: number; time: string }
  | { e: 'links'; id: string; r: string; h: string; u: string[] }
  | { e: 'clear'; id: string; label: string; by: string; time: string; reason?: string }
  | { e: 'reset'; id: string; by: string; time: string; reason?: string }
  | { e: 'req'; id: string; entry: TimelineEntry };

/** Members each journal line must hold as text (all but the kind, checked first). */
const JOURNAL_TEXT: Record<JournalLine['e'], readonly string[]> = {
  open: ['id', 'agent', 'token', 'time'],
  label: ['id', 'label', 'request_id', 'host', 'time'],
  count: ['id', 'time'],
  links: ['id', 'r', 'h'],
  clear: ['id', 'label', 'by', 'time'],
  reset: ['id', 'by', 'time'],
  req: ['id'],
};

/** What is wrong with one parsed journal line, if anything (a damaged journal is refused, never half-read). */
function journalLineProblem(v: unknown): string | undefined {
  if (!isJsonObject(v) || typeof v.e !== 'string' || !Object.hasOwn(JOURNAL_TEXT, v.e)) return 'not a session journal entry';
  const missing = JOURNAL_TEXT[v.e as JournalLine['e']].find((k) => typeof v[k] !== 'string');
  if (missing) return `"${missing}" of a "${v.e}" entry must be text`;
  if (v.e === 'count' && !(Number.isFinite(v.requests) && Number.isFinite(v.egress))) return '"requests" and "egress" of a "count" entry must be numbers';
  if (v.e === 'links' && !(Array.isArray(v.u) && v.u.every((u: unknown) => typeof u === 'string'))) return '"u" of a "links" entry must be a list of URLs';
  if (v.e === 'req' && !(isJsonObject(v.entry) && typeof v.entry.url === 'string')) return '"entry" of a "req" entry must be a timeline entry';
  if ((v.e === 'clear' || v.e === 'reset') && v.reason !== undefined && typeof v.reason !== 'string') return '"reason" must be text';
  return undefined;
}

interface Live {
  rec: SessionRecord;
  /** url → where it was first seen; insertion order is age. */
  links: Map<string, { request_id: string; host: string }>;
  /** host → how many remembered links point to it. */
  hosts: Map<string, number>;
}

/** Bytes a remembered link costs besides its text (what the byte bounds count). */
export const LINK_OVERHEAD = 48;

export interface JournalOptions {
  /** Batched lines are written this often (ms, default 1000). */
  flushMs?: number;
  /** Compact when the journal is larger than this and twice its last compacted size (bytes, default 4 MiB). */
  compactBytes?: number;
  limits?: Partial<SessionLimits>;
  /** Token ids that still authenticate: sessions of others count as ended when the journal is compacted. */
  liveTokens?: () => Set<string> | undefined;
  /** Told when a compaction failed (the journal is kept as it was; tried again a minute later; default stderr), and when the disk stalls or fails. */
  warn?: (message: string) => void;
  /** Lines kept in memory for the disk: an agent past its share of this is refused until its lines are written, everyone past twice it (bytes, default 16 MiB). */
  maxPendingBytes?: number;
  /** How long a label, clear or reset waits for its line to be written before it fails as unavailable (ms, default 5000). */
  durableMs?: number;
}

/** Lines waiting for the disk, with the number of the last line each holds. */
interface Queued {
  buf: Buffer;
  seq: number;
  /** Whose lines these are (agent → bytes), counted in `shares` until written. */
  by?: Map<string, number>;
}

const SESSIONS_JOURNAL = 'session journal (sessions.jsonl)';
/**
 * What of the bound an agent may always have waiting: an admitted request's answer adds its links
 * whatever the share, so a flooder overshoots it, and the neighbour's few lines (its session, a
 * label, its counters) stuck behind must not make it over a share the flooder took to nothing.
 */
const NEIGHBOUR_SHARE = 1 / 64;

/** The embedded AgentSessions (state/stores.ts; runtime/services.ts holds it as that port). */
export class JournalSessionStore {
  readonly file: string;
  private fd: number;
  private readonly sessions = new Map<string, Live>();
  /** Lines not yet written, oldest first; one write at a time drains them (pump). */
  private queue: Queued[] = [];
  private queuedBytes = 0;
  /** The queued bytes per agent: one agent's link-heavy answers on a slow disk refuse that agent, not everyone (twenty-third pass). */
  private shares: AuditShares;
  /** Number of the last line queued, and of the last one the journal holds. */
  private seq = 0;
  private writtenSeq = 0;
  private writing = false;
  /** A compaction is putting its file in place: nothing is written to the old one meanwhile. */
  private holding = false;
  private failure: NodeJS.ErrnoException | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay = 250;
  private stallReported = false;
  /** Callers waiting for their line to be written (label, clear, reset, flush, close). */
  private waiters: Array<{ seq: number; done: (err?: Error) => void }> = [];
  private idle: Array<() => void> = [];
  /** Told when the write running ends (a compaction waits for it). */
  private writeEnded: Array<() => void> = [];
  /** agent\0token → live session id. */
  private readonly byToken = new Map<string, string>();
  private pending: string[] = [];
  /** Whose the batched lines are (agent → bytes). */
  private pendingBy = new Map<string, number>();
  private dirtyCounts = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private size = 0;
  private compactedSize = 0;
  private linkBytes = 0;
  private readonly changes = new ChangeFeed<SessionChange>();
  private readonly limits: SessionLimits;
  private closed = false;
  /** The compaction running, if any. */
  private compacting: Promise<void> | undefined;
  /** While one runs: what was queued for the journal since its copy of the state was taken. */
  private since: Queued[] | undefined;
  private compactFailedAt = -Infinity;

  private constructor(file: string, private readonly opts: JournalOptions) {
    this.file = file;
    this.limits = { ...SESSION_LIMITS, ...(opts.limits ?? {}) };
    this.shares = new AuditShares(this.bound, this.bound * NEIGHBOUR_SHARE);
    this.fd = -1;
  }

  static open(home: string, opts: JournalOptions = {}): JournalSessionStore {
    fs.mkdirSync(home, { recursive: true, mode: 0o700 });
    const store = new JournalSessionStore(path.join(home, 'sessions.jsonl'), opts);
    // Opened first, read and write: a FIFO at the path (a disk that takes nothing, in the tests)
    // does not block open(2), and is not read (it holds no journal).
    store.fd = fs.openSync(store.file, 'a+', 0o600);
    try {
      store.load();
    } catch (err) {
      fs.closeSync(store.fd);
      throw err;
    }
    const every = opts.flushMs ?? 1000;
    if (every > 0) {
      store.timer = setInterval(() => store.flush(), every);
      store.timer.unref();
    }
    return store;
  }

  // ─── loading ─────────────────────────────────────────────────────────────────────────────────

  private load(): void {
    let text: string;
    try {
      if (!fs.fstatSync(this.fd).isFile()) return;
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new StateFileError(this.file, (err as Error).message);
    }
    this.size = this.compactedSize = Buffer.byteLength(text);
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (!line) continue;
      let v: JournalLine;
      try {
        v = JSON.parse(line) as JournalLine;
      } catch {
        // A crash can tear the last line (cut it off, so the next line starts clean); anything else
        // is damage, and forgetting labels is not an option.
        if (i === lines.length - 1) {
          const keep = text.length - line.length;
          fs.truncateSync(this.file, Buffer.byteLength(text.slice(0, keep)));
          this.size = this.compactedSize = Buffer.byteLength(text.slice(0, keep));
          break;
        }
        throw new StateFileError(this.file, `line ${i + 1} is not JSON`);
      }
      const problem = journalLineProblem(v);
      if (problem) throw new StateFileError(this.file, `line ${i + 1}: ${problem}`);
      this.apply(v);
    }
  }

  /** Applies one journal line to memory (loading, and live changes alike). */
  private apply(v: JournalLine): void {
    if (v.e === 'open') {
      const rec: SessionRecord = {
        id: v.id, agent: v.agent, token: v.token, started: v.time, last_seen: v.time,
        labels: {}, requests: 0, egress_bytes: 0, links: 0, link_bytes: 0, events: [], timeline: [],
      };
      this.sessions.set(v.id, { rec, links: new Map(), hosts: new Map() });
      this.byToken.set(tokenKey(v.agent, v.token), v.id);
      return;
    }
    const s = this.sessions.get(v.id);
    if (!s) return;
    const rec = s.rec;
    switch (v.e) {
      case 'label':
        if (!rec.labels[v.label]) {
          rec.labels[v.label] = { request_id: v.request_id, host: v.host, time: v.time };
          this.pushEvent(rec, { time: v.time, kind: 'added', label: v.label, request_id: v.request_id, host: v.host });
        }
        break;
      case 'count':
        rec.requests = v.requests;
        rec.egress_bytes = v.egress;
        if (v.time > rec.last_seen) rec.last_seen = v.time;
        break;
      case 'links':
        this.rememberLinks(s, { request_id: v.r, host: v.h }, v.u);
        break;
      case 'clear':
        delete rec.labels[v.label];
        this.pushEvent(rec, { time: v.time, kind: 'cleared', label: v.label, by: v.by, ...(v.reason ? { reason: v.reason } : {}) });
        break;
      case 'reset':
        rec.ended = { time: v.time, by: v.by, ...(v.reason ? { reason: v.reason } : {}) };
        this.pushEvent(rec, { time: v.time, kind: 'reset', by: v.by, ...(v.reason ? { reason: v.reason } : {}) });
        if (this.byToken.get(tokenKey(rec.agent, rec.token)) === rec.id) this.byToken.delete(tokenKey(rec.agent, rec.token));
        break;
      case 'req':
        rec.timeline.push(v.entry);
        if (rec.timeline.length > this.limits.timelinePerSession) rec.timeline.splice(0, rec.timeline.length - this.limits.timelinePerSession);
        break;
    }
  }

  private pushEvent(rec: SessionRecord, e: LabelEvent): void {
    rec.events.push(e);
    if (rec.events.length > this.limits.labelEventsPerSession) rec.events.splice(0, rec.events.length - this.limits.labelEventsPerSession);
  }

  private rememberLinks(s: Live, from: { request_id: string; host: string }, urls: readonly string[]): void {
    for (const u of urls) {
      if (u.length > this.limits.urlChars || s.links.has(u)) continue;
      s.links.set(u, from);
      const h = hostOf(u);
      s.hosts.set(h, (s.hosts.get(h) ?? 0) + 1);
      const cost = u.length + LINK_OVERHEAD;
      s.rec.link_bytes += cost;
      this.linkBytes += cost;
    }
    // Oldest first, per session.
    while (s.links.size > this.limits.linksPerSession || s.rec.link_bytes > this.limits.linkBytesPerSession) {
      const oldest = s.links.keys().next().value as string;
      s.links.delete(oldest);
      const h = hostOf(oldest);
      const n = (s.hosts.get(h) ?? 1) - 1;
      if (n > 0) s.hosts.set(h, n);
      else s.hosts.delete(h);
      s.rec.link_bytes -= oldest.length + LINK_OVERHEAD;
      this.linkBytes -= oldest.length + LINK_OVERHEAD;
    }
    s.rec.links = s.links.size;
    if (this.linkBytes > this.limits.linkBytesTotal) this.evictLinks(s);
  }

  /** Over the total: the least recently active other sessions forget their links. */
  private evictLinks(keep: Live): void {
    const others = [...this.sessions.values()].filter((x) => x !== keep && x.links.size > 0).sort((a, b) => a.rec.last_seen.localeCompare(b.rec.last_seen));
    for (const o of others) {
      if (this.linkBytes <= this.limits.linkBytesTotal) return;
      this.linkBytes -= o.rec.link_bytes;
      o.links.clear();
      o.hosts.clear();
      o.rec.links = 0;
      o.rec.link_bytes = 0;
    }
  }

  // ─── writing ─────────────────────────────────────────────────────────────────────────────────

  /** Queued at once, ahead of nothing batched before it: labels, clears, resets, new sessions. Returns its line's number. */
  private writeNow(v: JournalLine, agent?: string): number {
    this.moveBatched();
    const text = `${JSON.stringify(v)}\n`;
    return this.writeText(text, agent === undefined ? undefined : new Map([[agent, text.length]]));
  }

  private later(v: JournalLine & { id: string }): void {
    const line = JSON.stringify(v);
    this.pending.push(line);
    this.charge(this.pendingBy, v.id, line.length + 1);
  }

  /** Adds a line of session `id` to its agent's count in `by`. */
  private charge(by: Map<string, number>, id: string, bytes: number): void {
    const agent = this.sessions.get(id)?.rec.agent;
    if (agent !== undefined) by.set(agent, (by.get(agent) ?? 0) + bytes);
  }

  private writeText(text: string, by?: Map<string, number>): number {
    if (this.closed) return this.seq;
    const q: Queued = { buf: Buffer.from(text), seq: ++this.seq, ...(by?.size ? { by } : {}) };
    this.queue.push(q);
    this.queuedBytes += q.buf.length;
    if (q.by) for (const [agent, n] of q.by) this.shares.add(agent, n);
    this.size += q.buf.length;
    this.since?.push(q);
    if (this.backlogged && !this.stallReported && !this.failure) {
      this.stallReported = true;
      this.warn(`airlock: ${this.file}: the disk is not taking session lines (${Math.round(this.queuedBytes / 1024)} KiB waiting); requests are refused (503) until they are written`);
    }
    this.pump();
    return q.seq;
  }

  private warn(line: string): void {
    (this.opts.warn ?? ((l: string) => process.stderr.write(`${l}\n`)))(line);
  }

  private get bound(): number {
    return this.opts.maxPendingBytes ?? 16 * 1024 * 1024;
  }

  /** Past twice the bound everyone is refused (the agents' shares keep what they add under about one bound; the rest is unattributed). */
  private get backlogged(): boolean {
    return this.queuedBytes > 2 * this.bound;
  }

  /** False while the journal cannot take lines (a write failing, or more than the bound waiting for a stalled disk). */
  get available(): boolean {
    return this.failure === undefined && !this.backlogged;
  }

  /** Refuses a request while the journal is unavailable (to `agent`, past its share): what it would add could not be kept. */
  private mustBeAvailable(agent?: string): void {
    if (this.failure) throw new StoreUnavailableError(SESSIONS_JOURNAL, `${this.failure.code ?? 'error'} writing ${this.file}`);
    if (this.backlogged) throw new StoreUnavailableError(SESSIONS_JOURNAL, `the disk is not taking lines (${Math.round(this.queuedBytes / 1024)} KiB waiting)`);
    if (agent !== undefined && this.shares.over(agent)) throw new StoreUnavailableError(SESSIONS_JOURNAL, this.shares.overReason(agent, 'the disk'));
  }

  /** Resolves once line `seq` is in the journal; fails as unavailable past `durableMs` (the line stays queued). */
  private durable(seq: number): Promise<void> {
    if (this.writtenSeq >= seq || this.closed) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const w = {
        seq,
        done: (err?: Error) => {
          clearTimeout(timer);
          if (err) reject(err);
          else resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new StoreUnavailableError(SESSIONS_JOURNAL, `${this.failure?.code ?? 'the disk'} did not take a line of ${this.file} within ${this.opts.durableMs ?? 5000} ms`));
      }, this.opts.durableMs ?? 5000);
      timer.unref();
      this.waiters.push(w);
    });
  }

  /** Line `seq` and all before it are in the journal. */
  private wrote(seq: number): void {
    if (seq <= this.writtenSeq) return;
    this.writtenSeq = seq;
    if (!this.waiters.length) return;
    const ready = this.waiters.filter((w) => w.seq <= seq);
    this.waiters = this.waiters.filter((w) => w.seq > seq);
    for (const w of ready) w.done();
  }

  /** Keeps one write running while lines are queued, off the main thread; never while failing (the retry resumes) or a compaction swaps files. */
  private pump(retry = false): void {
    if (this.writing || (this.failure && !retry) || this.holding || this.fd < 0) return;
    if (!this.queue.length) {
      for (const done of this.idle.splice(0)) done();
      return;
    }
    this.writing = true;
    const taken = this.queue.length;
    const batch = taken === 1 ? this.queue[0]!.buf : Buffer.concat(this.queue.map((q) => q.buf));
    fs.write(this.fd, batch, 0, batch.length, null, (err, written) => {
      this.writing = false;
      for (const ended of this.writeEnded.splice(0)) ended();
      let left = err ? 0 : written;
      this.queuedBytes -= left;
      // Whole lines written leave the queue; the rest of a short write stays at its head (never torn).
      let n = 0;
      while (n < taken && left >= this.queue[n]!.buf.length) left -= this.queue[n++]!.buf.length;
      if (n) this.wrote(this.queue[n - 1]!.seq);
      if (left > 0) this.queue[n] = { ...this.queue[n]!, buf: this.queue[n]!.buf.subarray(left) };
      for (const q of this.queue.splice(0, n)) this.uncharge(q);
      if (err) return this.failed(err);
      if (this.failure) {
        this.failure = undefined;
        this.retryDelay = 250;
        this.warn(`airlock: ${this.file} is writable again; requests flow`);
      }
      if (this.stallReported && !this.backlogged) {
        this.stallReported = false;
        this.warn(`airlock: ${this.file} caught up; requests flow`);
      }
      this.pump();
    });
  }

  private uncharge(q: Queued): void {
    if (q.by) for (const [agent, n] of q.by) this.shares.remove(agent, n);
  }

  private failed(err: NodeJS.ErrnoException): void {
    if (!this.failure) this.warn(`airlock: ${this.file}: ${err.code ?? err.message}; requests are refused (503) until session lines can be written again`);
    this.failure = err;
    if (this.closed) return;
    clearTimeout(this.retryTimer);
    // `available` stays false during the retry: only a write that succeeds turns it back.
    this.retryTimer = setTimeout(() => this.pump(true), this.retryDelay);
    this.retryTimer.unref();
    this.retryDelay = Math.min(this.retryDelay * 2, 2000);
  }

  /** Moves the batched lines (counters, links, timeline) to the write queue, in order. */
  private moveBatched(): void {
    if (this.closed) return;
    for (const id of this.dirtyCounts) {
      const s = this.sessions.get(id);
      if (s) this.later({ e: 'count', id, requests: s.rec.requests, egress: s.rec.egress_bytes, time: s.rec.last_seen });
    }
    this.dirtyCounts.clear();
    if (this.pending.length) {
      const text = `${this.pending.join('\n')}\n`;
      const by = this.pendingBy;
      this.pending = [];
      this.pendingBy = new Map();
      this.writeText(text, by);
    }
  }

  /** Writes batched lines (counters, links, timeline); compacts when the journal has doubled. Resolves once what is queued is written. */
  flush(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.moveBatched();
    const threshold = Math.max(this.opts.compactBytes ?? 4 * 1024 * 1024, 2 * this.compactedSize);
    if (this.size > threshold && !this.compacting && performance.now() - this.compactFailedAt >= 60_000) {
      void this.compact().catch((err: Error) => {
        this.compactFailedAt = performance.now();
        this.warn(`airlock: compacting ${this.file} failed (${err.message}); the journal is kept as it was`);
      });
    }
    return this.durable(this.seq).catch(() => undefined);
  }

  /**
   * Rewrites the journal as a snapshot of what is in memory (temp file, fsync, rename). The snapshot
   * of every session at its bounds is tens of MB (64 sessions holding their links: 61 MB, 3 s of
   * JSON, writing and fsync on a loaded box), and one agent whose answers carry new links grows the
   * journal to the next compaction as often as it likes: done in one go on the main thread it froze
   * every agent's requests and the studio for seconds (twenty-first pass). So the state is copied at
   * once (cheap: arrays of the same entries), written from the copy in slices, each a turn of its
   * own, and the lines written to the journal meanwhile follow the snapshot in the new file, which
   * takes the old one's place in the same turn as they are copied: nothing falls between.
   */
  compact(): Promise<void> {
    this.compacting ??= this.compactInSlices().finally(() => {
      this.compacting = undefined;
    });
    return this.compacting;
  }

  private async compactInSlices(): Promise<void> {
    this.pruneEnded();
    // Batched lines join the queue first: what the copy holds is then exactly the lines up to `copied`.
    this.moveBatched();
    const copied = this.seq;
    // A link keeps where it was first seen for as long as it is remembered: its URLs are copied, where
    // they were seen is read in the slices (one forgotten meanwhile is left out: fewer links, which
    // fails closed, as a crash does). Copying the pairs took 0.2–0.5 s for 320,000 links.
    const copies = [...this.sessions.values()].map(({ rec, links }) => ({
      rec: { ...rec, labels: { ...rec.labels }, events: rec.events.slice(), timeline: rec.timeline.slice() },
      urls: [...links.keys()],
      links,
    }));
    const since: Queued[] = [];
    this.since = since;
    const tmp = `${this.file}.${crypto.randomBytes(4).toString('hex')}.tmp`;
    let done = false;
    let fd: number | undefined;
    try {
      fd = await fsOpen(tmp, 'w', 0o600);
      let written = 0;
      let lines: string[] = [];
      let chars = 0;
      const out = async (chunk: Buffer): Promise<void> => {
        await writeAll(fd!, chunk);
        written += chunk.length;
      };
      for (const c of copies) {
        for (const line of snapshotLines(c.rec, c.urls, c.links)) {
          lines.push(line);
          chars += line.length;
          if (chars >= COMPACT_SLICE_CHARS) {
            await out(Buffer.from(`${lines.join('\n')}\n`));
            lines = [];
            chars = 0;
          }
        }
      }
      if (lines.length) await out(Buffer.from(`${lines.join('\n')}\n`));
      const snapshot = written;
      // Nothing more goes to the old file (the write running, if any, ends first): the lines queued
      // since the copy follow the snapshot in the new one, in slices, then it takes the old one's place.
      this.holding = true;
      if (this.writing) await new Promise<void>((resolve) => this.writeEnded.push(resolve));
      let inFile = copied;
      for (let rounds = 0; rounds < 64 && since.length; rounds++) {
        const part = since.splice(0);
        await out(part.length === 1 ? part[0]!.buf : Buffer.concat(part.map((q) => q.buf)));
        inFile = part[part.length - 1]!.seq;
      }
      await fsFsync(fd);
      if (this.closed) return;
      await fs.promises.rename(tmp, this.file);
      // In place. In this same turn: what the queue held is in it (the snapshot, the slices), except
      // the lines queued since the last slice, which become the queue of the new file (its end).
      const rest = since.splice(0);
      this.queue = rest;
      this.queuedBytes = rest.reduce((n, q) => n + q.buf.length, 0);
      this.shares = new AuditShares(this.bound, this.bound * NEIGHBOUR_SHARE);
      for (const q of rest) if (q.by) for (const [agent, n] of q.by) this.shares.add(agent, n);
      const old = this.fd;
      this.fd = fd;
      fd = undefined;
      fs.close(old, () => undefined);
      this.size = written + this.queuedBytes;
      this.compactedSize = snapshot;
      this.failure = undefined; // the old file's failure, if any, is gone with it
      this.wrote(inFile);
      done = true;
    } finally {
      if (this.since === since) this.since = undefined;
      this.holding = false;
      if (fd !== undefined) fs.close(fd, () => undefined);
      if (!done) await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
      this.pump();
    }
  }

  /**
   * Ended sessions (reset, or their token no longer exists) beyond the newest N are dropped, but for
   * the newest holder of each `wrote:` label no kept session holds: that host still serves what the
   * session stored there, and every session is decided as holding the `wrote:` labels of all
   * (twenty-ninth pass: past 500 ended runs a compaction forgot them, and after a restart a paste an
   * old run stored was a followable link again). At most one session per such label stays.
   */
  private pruneEnded(): void {
    const live = this.opts.liveTokens?.();
    const isEnded = (rec: SessionRecord): boolean => Boolean(rec.ended || (live !== undefined && !live.has(rec.token)));
    const ended = [...this.sessions.values()].filter(({ rec }) => isEnded(rec));
    ended.sort((a, b) => b.rec.last_seen.localeCompare(a.rec.last_seen));
    const written = new Set<string>();
    const noteWritten = (rec: SessionRecord): void => {
      for (const l of Object.keys(rec.labels)) if (l.startsWith('wrote:')) written.add(l);
    };
    for (const { rec } of this.sessions.values()) if (!isEnded(rec)) noteWritten(rec);
    for (const s of ended.slice(0, this.limits.endedSessionsKept)) noteWritten(s.rec);
    for (const s of ended.slice(this.limits.endedSessionsKept)) {
      if (Object.keys(s.rec.labels).some((l) => l.startsWith('wrote:') && !written.has(l))) {
        noteWritten(s.rec);
        continue;
      }
      this.sessions.delete(s.rec.id);
      this.linkBytes -= s.rec.link_bytes;
      const k = tokenKey(s.rec.agent, s.rec.token);
      if (this.byToken.get(k) === s.rec.id) this.byToken.delete(k);
    }
  }

  // ─── the proxy's calls ───────────────────────────────────────────────────────────────────────

  async enter(agent: string, token: string, time: string, link?: { url: string; host: string }): Promise<Entered> {
    this.mustBeAvailable(agent);
    const key = tokenKey(agent, token);
    let id = this.byToken.get(key);
    let s = id === undefined ? undefined : this.sessions.get(id);
    if (!s) {
      id = `s_${crypto.randomBytes(8).toString('hex')}`;
      const open: JournalLine = { e: 'open', id, agent, token, time };
      this.apply(open);
      this.writeNow(open, agent);
      s = this.sessions.get(id)!;
      this.emit({ type: 'started', session: summary(s.rec) });
    }
    const rec = s.rec;
    const session: SessionInfo = { id: rec.id, started: rec.started, labels: { ...rec.labels }, requests: rec.requests, egress_bytes: rec.egress_bytes };
    rec.requests++;
    if (time > rec.last_seen) rec.last_seen = time;
    this.dirtyCounts.add(rec.id);
    if (!link) return { session };
    const seen = s.links.get(link.url);
    return seen ? { session, seen } : { session, hostSeen: s.hosts.has(link.host) };
  }

  addEgress(id: string, bytes: number): void {
    const s = this.sessions.get(id);
    if (!s || !(bytes > 0)) return;
    s.rec.egress_bytes += bytes;
    this.dirtyCounts.add(id);
  }

  async addLabels(id: string, labels: readonly string[], arrival: LabelArrival): Promise<string[]> {
    const s = this.sessions.get(id);
    if (!s) return [];
    const added: string[] = [];
    let last = 0;
    for (const label of labels) {
      if (s.rec.labels[label]) continue;
      const line: JournalLine = { e: 'label', id, label, ...arrival };
      // Enforced from memory at once, whatever the disk does; written in order behind what came before.
      this.apply(line);
      last = this.writeNow(line, s.rec.agent);
      added.push(label);
    }
    if (added.length) this.emit({ type: 'labels', session: summary(s.rec), labels: added });
    if (!added.length) return added;
    // The response that brought it is held until the label is in the journal: a restart must not forget it.
    if (this.failure) this.mustBeAvailable();
    await this.durable(last);
    return added;
  }

  addLinks(id: string, from: { request_id: string; host: string }, urls: readonly string[]): void {
    const s = this.sessions.get(id);
    if (!s || urls.length === 0) return;
    const fresh = urls.filter((u) => u.length <= this.limits.urlChars && !s.links.has(u));
    if (!fresh.length) return;
    this.rememberLinks(s, from, fresh);
    this.later({ e: 'links', id, r: from.request_id, h: from.host, u: fresh });
  }

  noteRequest(id: string, entry: TimelineEntry): void {
    const s = this.sessions.get(id);
    if (!s) return;
    const line: JournalLine = { e: 'req', id, entry: { ...entry, url: entry.url.slice(0, 300) } };
    this.apply(line);
    this.later(line);
  }

  // ─── human actions ───────────────────────────────────────────────────────────────────────────

  async clearLabel(idOrPrefix: string, label: string, by: string, reason?: string): Promise<SessionRecord> {
    const rec = this.get(idOrPrefix);
    if (!rec.labels[label]) throw new SessionError('bad-request', `session ${rec.id} does not hold the label ${JSON.stringify(label.slice(0, 64))} (it holds ${Object.keys(rec.labels).sort().join(', ') || 'none'})`);
    this.mustBeAvailable();
    const line: JournalLine = { e: 'clear', id: rec.id, label, by, time: new Date().toISOString(), ...(reason ? { reason: reason.slice(0, 500) } : {}) };
    this.apply(line);
    const seq = this.writeNow(line);
    this.emit({ type: 'cleared', session: summary(rec), label, by });
    await this.durable(seq);
    return rec;
  }

  async reset(idOrPrefix: string, by: string, reason?: string): Promise<SessionRecord> {
    const rec = this.get(idOrPrefix);
    if (rec.ended) throw new SessionError('not-live', `session ${rec.id} already ended (${rec.ended.time}, by ${rec.ended.by})`);
    this.mustBeAvailable();
    const line: JournalLine = { e: 'reset', id: rec.id, by, time: new Date().toISOString(), ...(reason ? { reason: reason.slice(0, 500) } : {}) };
    this.apply(line);
    const seq = this.writeNow(line);
    this.emit({ type: 'ended', session: summary(rec) });
    await this.durable(seq);
    return rec;
  }

  // ─── reading ─────────────────────────────────────────────────────────────────────────────────

  get(idOrPrefix: string): SessionRecord {
    const exact = this.sessions.get(idOrPrefix);
    if (exact) return exact.rec;
    if (idOrPrefix.length < 6) throw new SessionError('bad-request', `"${idOrPrefix.slice(0, 40)}" is too short to name a session: give its id or at least 6 characters of it (airlock sessions list)`);
    const hits = [...this.sessions.keys()].filter((k) => k.startsWith(idOrPrefix));
    if (hits.length === 1) return this.sessions.get(hits[0]!)!.rec;
    if (hits.length > 1) throw new SessionError('ambiguous', `session id prefix ${idOrPrefix} matches ${hits.length} sessions; give more of it`);
    throw new SessionError('not-found', `no session ${idOrPrefix.slice(0, 80)}`);
  }

  list(filter: { agent?: string; live?: boolean } = {}): SessionSummary[] {
    const out: SessionSummary[] = [];
    for (const { rec } of this.sessions.values()) {
      if (filter.agent !== undefined && rec.agent !== filter.agent) continue;
      if (filter.live !== undefined && filter.live === Boolean(rec.ended)) continue;
      out.push(summary(rec));
    }
    return out.sort((a, b) => b.last_seen.localeCompare(a.last_seen));
  }

  /** Every session with its remembered links, oldest link first (`airlock migrate-state`). */
  *exportAll(): Iterable<{ record: SessionRecord; links: Array<{ url: string; request_id: string; host: string }> }> {
    for (const { rec, links } of this.sessions.values()) {
      yield { record: rec, links: [...links].map(([url, from]) => ({ url, ...from })) };
    }
  }

  /** Where a URL was seen in a session (tests, explain). */
  seen(id: string, url: string): { request_id: string; host: string } | undefined {
    return this.sessions.get(id)?.links.get(url);
  }

  onChange(fn: (c: SessionChange) => void): () => void {
    return this.changes.subscribe(fn);
  }

  private emit(c: SessionChange): void {
    this.changes.emit(c);
  }

  /** Writes what is queued (waiting at most `durableMs` for a stalled or failing disk), then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    await this.flush();
    await this.compacting?.catch(() => undefined);
    if (this.queue.length || this.writing) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([new Promise<void>((resolve) => this.idle.push(resolve)), new Promise<void>((resolve) => (timer = setTimeout(resolve, this.opts.durableMs ?? 5000)))]);
      clearTimeout(timer);
    }
    if (this.queue.length) this.warn(`airlock: ${this.file}: ${this.queue.length} batches of session lines could not be written before stopping (${this.failure?.code ?? 'the disk did not take them'})`);
    this.closed = true;
    clearTimeout(this.retryTimer);
    for (const w of this.waiters.splice(0)) w.done(new StoreUnavailableError(SESSIONS_JOURNAL, 'closed before the line was written'));
    fs.close(this.fd, () => undefined);
  }
}

const fsOpen = promisify(fs.open);
const fsWrite = promisify(fs.write);
const fsFsync = promisify(fs.fsync);

async function writeAll(fd: number, buf: Buffer): Promise<void> {
  for (let off = 0; off < buf.length;) off += (await fsWrite(fd, buf, off, buf.length - off, null)).bytesWritten;
}

/** Characters of journal lines a compaction writes in one slice (a turn of its own), about. */
const COMPACT_SLICE_CHARS = 256 * 1024;

/**
 * One session as the journal lines that rebuild it: opened, label history (clears, then the labels
 * held now, so a reload ends with exactly today's labels and their first arrivals), counters,
 * links by where they were seen, timeline, end.
 */
function* snapshotLines(rec: SessionRecord, urls: readonly string[], links: ReadonlyMap<string, { request_id: string; host: string }>): Generator<string> {
  yield JSON.stringify({ e: 'open', id: rec.id, agent: rec.agent, token: rec.token, time: rec.started } satisfies JournalLine);
  for (const ev of rec.events) {
    if (ev.kind === 'cleared') yield JSON.stringify({ e: 'clear', id: rec.id, label: ev.label!, by: ev.by ?? 'unknown', time: ev.time, ...(ev.reason ? { reason: ev.reason } : {}) } satisfies JournalLine);
  }
  for (const [label, a] of Object.entries(rec.labels)) yield JSON.stringify({ e: 'label', id: rec.id, label, request_id: a.request_id, host: a.host, time: a.time } satisfies JournalLine);
  yield JSON.stringify({ e: 'count', id: rec.id, requests: rec.requests, egress: rec.egress_bytes, time: rec.last_seen } satisfies JournalLine);
  const groups = new Map<string, { from: { request_id: string; host: string }; urls: string[] }>();
  for (const u of urls) {
    const from = links.get(u);
    if (!from) continue;
    const k = `${from.request_id}\0${from.host}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { from, urls: [] }));
    g.urls.push(u);
  }
  for (const g of groups.values()) yield JSON.stringify({ e: 'links', id: rec.id, r: g.from.request_id, h: g.from.host, u: g.urls } satisfies JournalLine);
  for (const entry of rec.timeline) yield JSON.stringify({ e: 'req', id: rec.id, entry } satisfies JournalLine);
  if (rec.ended) yield JSON.stringify({ e: 'reset', id: rec.id, by: rec.ended.by, time: rec.ended.time, ...(rec.ended.reason ? { reason: rec.ended.reason } : {}) } satisfies JournalLine);
}

/** The host of a normalized link (as the description writes hosts: no brackets). */
export function hostOf(url: string): string {
  const start = url.indexOf('//') + 2;
  let end = start;
  while (end < url.length && url[end] !== '/' && url[end] !== '?') end++;
  let authority = url.slice(start, end);
  if (authority.startsWith('[')) return authority.slice(1, authority.indexOf(']'));
  const colon = authority.lastIndexOf(':');
  if (colon >= 0) authority = authority.slice(0, colon);
  return authority;
}

/** A session's timeline line for an audit record of one of its requests. */
export function timelineEntry(r: AuditRecord): TimelineEntry {
  const labels = (r.extra?.session as { labels?: unknown } | undefined)?.labels;
  return {
    id: r.id, time: r.time, method: r.method ?? '', url: r.url ?? '', host: r.host ?? '',
    ...(r.decision ? { action: r.decision.action, ...(r.decision.rule ? { rule: r.decision.rule } : {}) } : {}),
    outcome: r.outcome,
    ...(r.status !== undefined ? { status: r.status } : {}),
    ...(Array.isArray(labels) && labels.length ? { labels_added: labels as string[] } : {}),
  };
}

/** What a human may do to a session (AgentSessions' two writes). */
export interface SessionHumanActions {
  clearLabel(id: string, label: string, by: string, reason?: string): Promise<SessionRecord>;
  reset(id: string, by: string, reason?: string): Promise<SessionRecord>;
}

/** Where a human's session changes are recorded (the audit log). */
export interface SessionAudit {
  append(record: AuditRecord): void;
}

/** A human clears a label, recorded in the audit log (outcome `session-label-cleared`). */
export async function clearLabelAudited(store: SessionHumanActions, audit: SessionAudit | undefined, id: string, label: string, by: string, reason?: string): Promise<SessionRecord> {
  const rec = await store.clearLabel(id, label, by, reason);
  audit?.append(humanRecord(rec, 'label-cleared', by, reason, label));
  return rec;
}

/** A human resets a session, recorded in the audit log (outcome `session-reset`). */
export async function resetAudited(store: SessionHumanActions, audit: SessionAudit | undefined, id: string, by: string, reason?: string): Promise<SessionRecord> {
  const rec = await store.reset(id, by, reason);
  audit?.append(humanRecord(rec, 'reset', by, reason));
  return rec;
}

function humanRecord(rec: SessionRecord, type: SessionEvent['type'], by: string, reason: string | undefined, label?: string): AuditRecord {
  const detail = type === 'reset'
    ? `session ${rec.id} of agent ${rec.agent} reset by ${by}${reason ? `: ${reason}` : ''}`
    : `label ${label} cleared from session ${rec.id} of agent ${rec.agent} by ${by}${reason ? `: ${reason}` : ''}`;
  return {
    time: new Date().toISOString(), id: `se_${crypto.randomBytes(8).toString('hex')}`, agent: rec.agent,
    outcome: type === 'reset' ? 'session-reset' : 'session-label-cleared', detail,
    session_event: { session: rec.id, type, ...(label ? { label } : {}), by, ...(reason ? { reason } : {}) },
  };
}

function tokenKey(agent: string, token: string): string {
  return `${agent}\0${token}`;
}

function summary(rec: SessionRecord): SessionSummary {
  const { events: _e, timeline: _t, ...rest } = rec;
  return { ...rest, labels: { ...rec.labels } };
}
