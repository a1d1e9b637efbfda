// Small JSON state documents (agents, approvals, grants, secrets, buckets…) on lowdb, one file per
// document in the state folder. lowdb's JSONFile writes atomically (temp file + rename). A corrupt
// or unreadable file is reported with its path and never overwritten: losing state silently is
// worse than refusing to start. Behind the Document interface so another backend can replace it.
import fs from 'node:fs';
import path from 'node:path';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';

export class StateFileError extends Error {
  constructor(readonly file: string, detail: string) {
    super(`state file ${file} is unreadable (${detail}); fix or move it aside — Airlock will not overwrite it`);
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

/** Opens one JSON document of the state folder (`file` as state/home.ts names it), creating its folder. */
export async function openDocument<T extends object>(file: string, defaults: T, opts: { mode?: number } = {}): Promise<Document<T>> {
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
