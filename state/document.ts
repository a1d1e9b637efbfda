// Small JSON state documents (agents, approvals, grants, secrets, buckets…) on lowdb, one file per
// document in the state folder. lowdb's JSONFile writes atomically (temp file + rename). A corrupt
// or unreadable file is reported with its path and never overwritten: losing state silently is
// worse than refusing to start. Behind the Document interface so another backend can replace it.
import fs from 'node:fs';
import path from 'node:path';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import { syncPath } from '../lib/disk-sync.ts';
import { NotRegularFileError } from '../lib/regular-file.ts';
import { terminalText } from '../lib/text.ts';
import { StoreUnavailableError } from './unavailable.ts';

export class StateFileError extends Error {
  constructor(readonly file: string, detail: string) {
    // The detail may quote the file's bytes (JSON.parse does): control characters are shown, never sent to the terminal.
    super(`state file ${file} is unreadable (${terminalText(detail)}); fix or move it aside — Airlock will not overwrite it`);
  }
}

/**
 * The identity of a state file as last written (inode, size, mtime), or "missing": comparing two
 * stamps tells whether another process (the CLI) replaced the file. Atomic writes rename a new
 * file in, so the inode changes even when size and mtime do not.
 */
/**
 * Runs `fn` while this process holds `<file>.lock` (created exclusively), so that processes sharing
 * a document (`airlock start`, each `airlock run` minting its token, `airlock agent add`) read,
 * change and write it one at a time: two at once lost one's change, or failed renaming lowdb's one
 * temp file the other had just renamed. A lock whose process is gone, or older than `staleMs`, is
 * taken over; one held past `waitMs` is an error naming the lock file.
 */
export async function withFileLock<T>(file: string, fn: () => Promise<T>, opts: { waitMs?: number; staleMs?: number } = {}): Promise<T> {
  const { waitMs = 10_000, staleMs = 30_000 } = opts;
  const lock = `${file}.lock`;
  const deadline = Date.now() + waitMs;
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = fs.openSync(lock, 'wx', 0o600);
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = lockHolder(lock, staleMs);
      if (holder === 'released') continue;
      if (holder === 'stale') {
        fs.rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new StateFileError(file, `another Airlock process holds ${lock}; if no airlock command is running, remove it`);
      await new Promise((r) => setTimeout(r, Math.min(50, 2 + attempt * 2) + Math.random() * 5));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

/** Whether a lock is held, was released meanwhile, or is left by a process that is gone (or too old). */
function lockHolder(lock: string, staleMs: number): 'held' | 'released' | 'stale' {
  let st: fs.Stats;
  let pid: number;
  try {
    st = fs.lstatSync(lock);
    // Not a file Airlock made (a FIFO, a device, a link): never read, which could block the whole
    // process in open(2) or read(2); it holds the lock until someone removes it (the error names it).
    if (!st.isFile()) return 'held';
    pid = Number(fs.readFileSync(lock, 'utf8').trim());
  } catch {
    return 'released';
  }
  if (Date.now() - st.mtimeMs > staleMs) return 'stale';
  // Its pid not written yet (or garbage): held for now, stale once it stays so.
  if (!Number.isInteger(pid) || pid <= 0) return Date.now() - st.mtimeMs > 1000 ? 'stale' : 'held';
  try {
    process.kill(pid, 0);
    return 'held';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH' ? 'stale' : 'held';
  }
}

export function fileStamp(file: string): string {
  try {
    return stampOf(fs.statSync(file));
  } catch {
    return 'missing';
  }
}

const stampOf = (st: fs.Stats): string => `${st.ino}:${st.size}:${st.mtimeMs}`;

/** How long a state file's disk may take to answer a look while Airlock runs before the file counts as unavailable. */
export const STALLED_DISK_MS = 5000;

/**
 * Waits for `pending` (begun at `since`, performance.now()) at most until `boundMs` after it
 * began; past that, a StoreUnavailableError naming `file`. What waits is a pool thread, never
 * the event loop: a disk that stalls (a hung network or FUSE mount) holds the callers that need
 * this file, and only for the bound, while every other request and the studio go on.
 */
export async function withinStall<T>(file: string, pending: Promise<T>, since: number, boundMs = STALLED_DISK_MS): Promise<T> {
  const left = boundMs - (performance.now() - since);
  const stalled = (): StoreUnavailableError => new StoreUnavailableError('the state folder\'s disk', `${file} did not answer within ${boundMs} ms`);
  if (left <= 0) throw stalled();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(stalled()), left);
    timer.unref();
  });
  try {
    return await Promise.race([pending, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A state file's stamp (fileStamp), looked at off the event loop: the change checks run on
 * requests (the agents file once a second, the secrets file), where a synchronous stat froze
 * every agent and the studio for as long as a stalled disk did (twenty-third pass, follow-up).
 * One look at a time per file, shared by every caller, so a stalled disk holds one of libuv's four
 * pool threads, not all of them (which would stall every other file operation); a look that has
 * not answered within STALLED_DISK_MS makes the file unavailable (withinStall) until it answers.
 */
export class StampCheck {
  private looking: { since: number; done: Promise<string> } | undefined;

  constructor(readonly file: string, private readonly boundMs = STALLED_DISK_MS) {}

  async now(): Promise<string> {
    if (!this.looking) {
      const look = { since: performance.now(), done: fs.promises.stat(this.file).then(stampOf, () => 'missing') };
      this.looking = look;
      void look.done.finally(() => {
        if (this.looking === look) this.looking = undefined;
      });
    }
    return withinStall(this.file, this.looking.done, this.looking.since, this.boundMs);
  }
}

/**
 * Calls `fn` when `file` may have changed (a watch on its folder, where atomic writes rename a new
 * file in); returns the stop function, or undefined without watch support.
 */
export function watchStateFile(file: string, fn: () => void): (() => void) | undefined {
  let watcher: fs.FSWatcher;
  try {
    watcher = fs.watch(path.dirname(file), { persistent: false }, (_event, name) => {
      if (name === null || String(name) === path.basename(file)) fn();
    });
  } catch {
    return undefined;
  }
  // A watch that breaks later reports once more, so the change it may have missed is looked at.
  watcher.on('error', () => fn());
  return () => watcher.close();
}

export interface Document<T> {
  readonly file: string;
  readonly data: T;
  /** Applies a change and persists it atomically. Writes are serialized per document. */
  update(fn: (data: T) => void): Promise<void>;
  write(): Promise<void>;
}

/** A JSON object (not null, not an array). */
export const isJsonObject = (v: unknown): v is Record<string, any> => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * What is wrong with an object of records keyed by name (agents, buckets, secrets), as
 * `what "name": problem`, or undefined when `check` accepts every record.
 */
export function recordsProblem(records: unknown, what: string, check: (record: Record<string, any>) => string | undefined): string | undefined {
  if (!isJsonObject(records)) return `"${what}" must be an object`;
  for (const [name, record] of Object.entries(records)) {
    const problem = isJsonObject(record) ? check(record) : 'must be an object';
    if (problem) return `${what} ${JSON.stringify(name.slice(0, 64))}: ${problem}`;
  }
  return undefined;
}

/**
 * Opens one JSON document of the state folder (`file` as state/home.ts names it), creating its
 * folder. `check` names what is wrong with a document of the wrong shape (valid JSON, wrong
 * types): it is refused like unreadable JSON, never used half-way or overwritten.
 */
export async function openDocument<T extends object>(file: string, defaults: T, opts: { mode?: number; check?: (data: T) => string | undefined; durable?: boolean } = {}): Promise<Document<T>> {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const db = new Low<T>(new JSONFile<T>(file), structuredClone(defaults));
  try {
    // Not a regular file (a FIFO, a device): never opened. Its open(2) waits on a pool thread for a
    // writer that may never come, and the reload every agent's authentication awaits with it.
    const st = await fs.promises.stat(file).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
    if (st && !st.isFile()) throw new NotRegularFileError(file);
    await db.read();
  } catch (err) {
    throw new StateFileError(file, (err as Error).message);
  }
  if (db.data === null || typeof db.data !== 'object' || Array.isArray(db.data)) {
    throw new StateFileError(file, 'not a JSON object');
  }
  db.data = { ...structuredClone(defaults), ...db.data };
  const problem = opts.check?.(db.data);
  if (problem) throw new StateFileError(file, problem);
  let chain: Promise<void> = Promise.resolve();
  const write = (): Promise<void> => {
    chain = chain.then(async () => {
      await db.write();
      if (opts.mode !== undefined) fs.chmodSync(file, opts.mode);
      // `durable`: the new file's data and its rename on the disk itself before the write counts
      // (lowdb renames a temporary file into place without fsync: a power loss could bring back
      // the document before the change, a revoked grant with it; twenty-eighth pass).
      if (opts.durable) {
        await syncPath(file);
        await syncPath(path.dirname(file));
      }
    });
    return chain;
  };
  return {
    file,
    get data() {
      return db.data;
    },
    async update(fn) {
      fn(db.data);
      await write();
    },
    write,
  };
}
