// Live events for the browser: a hub that fans messages out to every authenticated WebSocket, and a
// tail of the audit log (JSON Lines) that turns each appended decision into a "traffic" event.
import fs from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { WebSocket } from 'ws';

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

  broadcast(type: string, data: unknown): void {
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

  constructor(
    readonly file: string,
    private readonly onRecord: (record: unknown) => void,
    private readonly keep = 500,
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
      fd = fs.openSync(this.file, 'r');
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
            record = JSON.parse(line);
          } catch {
            continue;
          }
          this.recent.push(record);
          if (this.recent.length > this.keep) this.recent.shift();
          if (emit) this.onRecord(record);
        }
      }
    } finally {
      fs.closeSync(fd);
    }
  }
}
