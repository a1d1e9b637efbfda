// Live events for the browser: a hub that fans messages out to every authenticated WebSocket, a
// tail of the audit log (JSON Lines) that turns each appended decision into a "traffic" event, and
// the bounded buffer of recent traffic the studio keeps. Agents choose what their requests carry
// (a denied request may hold a 1 MiB JSON body), so the live view keeps bounded summaries, never
// whole descriptions: the audit log on disk has the full record.
import fs from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { WebSocket } from 'ws';
import { boundedCopy } from '../lib/bounded.ts';
import type { LiveEvents } from './api/wire.ts';
import { openRegularSync } from '../lib/regular-file.ts';

export { boundedCopy };

export interface LiveMessage {
  type: string;
  data: unknown;
}

export class Hub {
  private readonly clients = new Set<WebSocket>();
  private readonly sessions = new Map<WebSocket, string>();

  /** Adds a client; `session` lets a logout end that session's live feeds at once. */
  add(ws: WebSocket, session?: string): void {
    this.clients.add(ws);
    if (session) this.sessions.set(ws, session);
    const drop = (): void => {
      this.clients.delete(ws);
      this.sessions.delete(ws);
    };
    ws.on('close', drop);
    ws.on('error', drop);
  }

  closeSession(session: string): void {
    for (const [ws, s] of this.sessions) if (s === session) ws.close(4001, 'logged out');
  }

  get size(): number {
    return this.clients.size;
  }

  broadcast<K extends keyof LiveEvents>(type: K, data: LiveEvents[K]): void {
    const text = JSON.stringify({ type, data });
    for (const ws of this.clients) {
      // A client that cannot keep up (4 MiB queued) is dropped; it reconnects and reloads.
      if (ws.bufferedAmount > 4 * 1024 * 1024) ws.terminate();
      else if (ws.readyState === ws.OPEN) ws.send(text);
    }
  }

  closeAll(): void {
    for (const ws of this.clients) ws.terminate();
    this.clients.clear();
    this.sessions.clear();
  }
}

/** How much of one record the live view keeps and sends (serialized), and how much it keeps in all. */
export const LIVE_RECORD_BYTES = 16 * 1024;
export const LIVE_BUFFER_BYTES = 4 * 1024 * 1024;

/** An audit record as the live view keeps it: everything but the description as is, the description bounded. */
export function liveRecord<T extends { description?: unknown }>(record: T, budget = LIVE_RECORD_BYTES): T & { cut?: string } {
  if (!record || typeof record !== 'object') return record;
  const { description, ...rest } = record;
  const small = boundedCopy(rest, budget / 4);
  const out = small.value as T & { cut?: string };
  if (description !== undefined) {
    const d = boundedCopy(description, budget);
    (out as { description?: unknown }).description = d.value;
    if (d.cut || small.cut) out.cut = 'large parts of this record were cut for the live view; the audit log has all of it';
  } else if (small.cut) {
    out.cut = 'large parts of this record were cut for the live view; the audit log has all of it';
  }
  return out;
}

/**
 * What one agent's records may put on the live view whole, per second (refilling) and at once.
 * Every studio tab gets every record: one agent's flood of requests carrying 16 KiB of headers
 * sent each tab ~16 KiB a request, and a slow tab was dropped at 4 MiB queued (eighteenth pass).
 * Past this the agent's records are shown brief (without the description) until it refills.
 */
export const LIVE_AGENT_BYTES_PER_SECOND = 64 * 1024;
export const LIVE_AGENT_BURST_BYTES = 512 * 1024;
/** How much of a brief record is kept (its fields but the description). */
const BRIEF_RECORD_BYTES = 2 * 1024;

/**
 * Recent traffic, newest last, bounded in count and in bytes (each entry's serialized size is
 * counted). Entries are bounded copies, so nothing here holds a body. Past a bound the oldest
 * record of the agent keeping the most goes first, not the oldest of all: one agent's flood of
 * requests pushed a neighbour's out of the recent list (eighteenth pass).
 */
export class LiveBuffer<T extends { description?: unknown; agent?: string }> {
  private readonly byAgent = new Map<string, { entries: Array<{ seq: number; record: T; bytes: number }>; bytes: number }>();
  private readonly rates = new Map<string, { left: number; at: number }>();
  private count = 0;
  private total = 0;
  private seq = 0;

  constructor(readonly maxRecords = 500, readonly maxBytes = LIVE_BUFFER_BYTES, private readonly now: () => number = Date.now) {}

  /** Keeps a bounded copy of `record` (brief past its agent's rate, unless `rated` is false: records of the past loaded at start); returns it (what to broadcast). */
  push(record: T, rated = true): T {
    const agent = typeof record?.agent === 'string' ? record.agent : '';
    let small = liveRecord(record);
    let bytes = Buffer.byteLength(JSON.stringify(small));
    if (rated && !this.spend(agent, bytes)) {
      small = liveRecord({ ...record, description: undefined }, BRIEF_RECORD_BYTES * 4);
      delete (small as { description?: unknown }).description;
      small.cut = 'this agent\'s records passed their share of the live view: shown without the request description; the audit log has all of it';
      bytes = Buffer.byteLength(JSON.stringify(small));
    }
    let own = this.byAgent.get(agent);
    if (!own) this.byAgent.set(agent, (own = { entries: [], bytes: 0 }));
    own.entries.push({ seq: this.seq++, record: small, bytes });
    own.bytes += bytes;
    this.count++;
    this.total += bytes;
    while (this.count > this.maxRecords || (this.total > this.maxBytes && this.count > 1)) this.evict(this.count > this.maxRecords);
    return small;
  }

  /** Takes `bytes` from the agent's refilling allowance; false past it. */
  private spend(agent: string, bytes: number): boolean {
    const now = this.now();
    const r = this.rates.get(agent) ?? { left: LIVE_AGENT_BURST_BYTES, at: now };
    r.left = Math.min(LIVE_AGENT_BURST_BYTES, r.left + ((now - r.at) / 1000) * LIVE_AGENT_BYTES_PER_SECOND);
    r.at = now;
    const ok = r.left >= bytes;
    if (ok) r.left -= bytes;
    this.rates.set(agent, r);
    // Agents are the directory's (and '' for requests without one); forget the full ones now and then.
    if (this.rates.size > 1000) for (const [k, v] of this.rates) if (v.left >= LIVE_AGENT_BURST_BYTES) this.rates.delete(k);
    return ok;
  }

  /** Drops the oldest record of the agent keeping the most records (`byCount`) or bytes. */
  private evict(byCount: boolean): void {
    let worst: { entries: Array<{ bytes: number }>; bytes: number } | undefined;
    let worstKey = '';
    for (const [k, v] of this.byAgent) {
      if (!worst || (byCount ? v.entries.length > worst.entries.length : v.bytes > worst.bytes)) {
        worst = v;
        worstKey = k;
      }
    }
    const gone = worst!.entries.shift()!;
    worst!.bytes -= gone.bytes;
    if (!worst!.entries.length) this.byAgent.delete(worstKey);
    this.count--;
    this.total -= gone.bytes;
  }

  records(limit = this.count): T[] {
    const all: Array<{ seq: number; record: T }> = [];
    for (const v of this.byAgent.values()) all.push(...v.entries);
    all.sort((a, b) => a.seq - b.seq);
    return all.slice(-limit).map((e) => e.record);
  }

  get bytes(): number {
    return this.total;
  }
}

/**
 * Follows an append-only JSON Lines file: reads what was appended since the last read, keeps the
 * last `keep` records in memory, and calls `onRecord` for each new one. Starts at the end of the
 * existing file (after loading its tail), survives the file not existing yet and being truncated.
 */
export class JsonlTail {
  private offset = 0;
  private partial = '';
  private decoder = new StringDecoder('utf8');
  private readonly recent: unknown[] = [];
  private watcher: fs.FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reading = false;
  private again = false;

  /** `map` turns each parsed line into what is kept and emitted (the live view keeps bounded copies). */
  constructor(
    readonly file: string,
    private readonly onRecord: (record: unknown) => void,
    private readonly keep = 500,
    private readonly map: (record: unknown) => unknown = (r) => r,
  ) {}

  start(): void {
    this.loadExisting();
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      this.watcher = fs.watch(path.dirname(this.file), (_e, name) => {
        if (!name || name === path.basename(this.file)) this.poll();
      });
      this.watcher.on('error', () => undefined);
    } catch {
      /* watching is an optimisation; the timer below still polls */
    }
    this.timer = setInterval(() => this.poll(), 1000);
    this.timer.unref();
  }

  stop(): void {
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
  }

  /** The last `keep` records that were in the file when it was loaded. */
  records(): unknown[] {
    return [...this.recent];
  }

  /** Reads whatever was appended. Public so tests and the server can force a read. */
  poll(): void {
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    try {
      do {
        this.again = false;
        this.readNew(true);
      } while (this.again);
    } finally {
      this.reading = false;
    }
  }

  /** Loads the last records already in the file (reads at most its last 2 MiB). */
  loadExisting(): void {
    let size: number;
    try {
      size = fs.statSync(this.file).size;
    } catch {
      return;
    }
    // Only the last 2 MiB matter for the "recent" list.
    this.offset = Math.max(0, size - 2 * 1024 * 1024);
    const skipFirst = this.offset > 0;
    this.readNew(false);
    if (skipFirst && this.recent.length) this.recent.shift();
  }

  private readNew(emit: boolean): void {
    let fd: number;
    try {
      fd = openRegularSync(this.file);
    } catch {
      return;
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size < this.offset) {
        this.offset = 0; // truncated or rotated
        this.partial = '';
        this.decoder = new StringDecoder('utf8');
      }
      while (this.offset < size) {
        const buf = Buffer.alloc(Math.min(1024 * 1024, size - this.offset));
        const n = fs.readSync(fd, buf, 0, buf.length, this.offset);
        if (n <= 0) break;
        this.offset += n;
        const text = this.partial + this.decoder.write(buf.subarray(0, n));
        const lines = text.split('\n');
        this.partial = lines.pop() ?? '';
        for (const line of lines) {
          if (!line.trim()) continue;
          let record: unknown;
          try {
            record = this.map(JSON.parse(line));
          } catch {
            continue;
          }
          // Only what was in the file at start is kept; later records go to onRecord alone.
          if (emit) {
            this.onRecord(record);
          } else {
            this.recent.push(record);
            if (this.recent.length > this.keep) this.recent.shift();
          }
        }
      }
    } finally {
      fs.closeSync(fd);
    }
  }
}
