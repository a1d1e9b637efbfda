// Small JSON state documents (agents, approvals, grants, secrets, buckets…) on lowdb, one file per
// document in the state folder. lowdb's JSONFile writes atomically (temp file + rename). A corrupt
// or unreadable file is reported with its path and never overwritten: losing state silently is
// worse than refusing to start. Behind the Document interface so another backend can replace it.
import fs from 'node:fs';
import path from 'node:path';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import { terminalText } from '../lib/text.ts';

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
export function fileStamp(file: string): string {
  try {
    const st = fs.statSync(file);
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    return 'missing';
  }
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
export async function openDocument<T extends object>(file: string, defaults: T, opts: { mode?: number; check?: (data: T) => string | undefined } = {}): Promise<Document<T>> {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const db = new Low<T>(new JSONFile<T>(file), structuredClone(defaults));
  try {
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
