// The policy draft: a working copy of the live policy in <home>/draft/ that the studio edits.
// Every path from the browser goes through resolveDraftPath, which refuses anything that could
// leave the draft folder (.., absolute paths, hidden files, symlinks, unknown extensions).
import fs from 'node:fs';
import path from 'node:path';
import { listPolicyFiles } from '../engine/compile.ts';
import { NotRegularFileError, readRegularFileSync } from '../lib/regular-file.ts';

export const MAX_POLICY_FILE_BYTES = 1024 * 1024;
const editableExt = new Set(['.rego', '.json', '.yaml', '.yml']);

export class DraftPathError extends Error {
  readonly statusCode = 400;
}

export interface DraftFile {
  path: string;
  size: number;
  test: boolean;
}

/** Validates a browser-supplied relative path and returns its absolute location inside root. */
export function resolveDraftPath(root: string, rel: unknown): string {
  if (typeof rel !== 'string' || rel.length === 0 || rel.length > 200) throw new DraftPathError('file path is missing or too long');
  if (rel.includes('\0') || rel.includes('\\')) throw new DraftPathError('file path has forbidden characters');
  if (path.isAbsolute(rel) || path.posix.isAbsolute(rel)) throw new DraftPathError('file path must be relative to the policy folder');
  const segments = rel.split('/');
  for (const s of segments) {
    if (s === '' || s === '.' || s === '..' || s.startsWith('.')) throw new DraftPathError(`file path segment "${s}" is not allowed`);
    if (!/^[A-Za-z0-9_\-.]+$/.test(s)) throw new DraftPathError('file names may use letters, digits, "_", "-" and "."');
  }
  if (!editableExt.has(path.extname(rel))) throw new DraftPathError('only .rego, .json, .yaml and .yml files belong in a policy folder');
  const abs = path.resolve(root, ...segments);
  const rootAbs = path.resolve(root);
  if (!abs.startsWith(rootAbs + path.sep)) throw new DraftPathError('file path leaves the policy folder');
  // No symlinks anywhere on the way: a link could point outside the draft.
  let cur = rootAbs;
  for (const s of segments) {
    cur = path.join(cur, s);
    try {
      if (fs.lstatSync(cur).isSymbolicLink()) throw new DraftPathError('symbolic links are not followed');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') break;
      throw err;
    }
  }
  return abs;
}

export class DraftStore {
  constructor(readonly dir: string) {}

  exists(): boolean {
    return fs.existsSync(this.dir);
  }

  /** Creates the draft as a copy of `from` when it does not exist yet. */
  ensure(from: string | undefined): void {
    if (this.exists()) return;
    this.resetFrom(from);
  }

  /** Replaces the draft with a copy of `from` (the live policy). */
  resetFrom(from: string | undefined): void {
    const tmp = `${this.dir}.tmp-${process.pid}-${Date.now()}`;
    fs.mkdirSync(tmp, { recursive: true, mode: 0o700 });
    if (from && fs.existsSync(from)) copyPolicyFolder(from, tmp);
    fs.rmSync(this.dir, { recursive: true, force: true });
    fs.renameSync(tmp, this.dir);
  }

  list(): DraftFile[] {
    if (!this.exists()) return [];
    return listPolicyFiles(this.dir).map((f) => ({
      path: f.split(path.sep).join('/'),
      size: fs.statSync(path.join(this.dir, f)).size,
      test: f.endsWith('_test.rego'),
    }));
  }

  read(rel: unknown): string {
    const abs = resolveDraftPath(this.dir, rel);
    if (!fs.existsSync(abs)) throw Object.assign(new Error(`${String(rel)} does not exist in the draft`), { statusCode: 404 });
    try {
      return readRegularFileSync(abs);
    } catch (err) {
      // A FIFO or a device at the path: refused, never a blocked open(2).
      if (err instanceof NotRegularFileError) throw Object.assign(new Error(`${String(rel)} in the draft is not a regular file`), { statusCode: 409 });
      throw err;
    }
  }

  write(rel: unknown, content: unknown): void {
    const abs = resolveDraftPath(this.dir, rel);
    if (typeof content !== 'string') throw new DraftPathError('content must be a string');
    if (Buffer.byteLength(content) > MAX_POLICY_FILE_BYTES) throw new DraftPathError('file is larger than 1 MiB');
    fs.mkdirSync(path.dirname(abs), { recursive: true, mode: 0o700 });
    const tmp = `${abs}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, content, { mode: 0o600 });
    fs.renameSync(tmp, abs);
  }

  remove(rel: unknown): void {
    const abs = resolveDraftPath(this.dir, rel);
    if (!fs.existsSync(abs)) throw Object.assign(new Error(`${String(rel)} does not exist in the draft`), { statusCode: 404 });
    fs.rmSync(abs);
  }

  /** A throwaway copy of the draft with some files replaced (unsaved editor buffers). */
  overlay(files: Record<string, string>, into: string): void {
    if (this.exists()) copyPolicyFolder(this.dir, into);
    for (const [rel, content] of Object.entries(files)) {
      const abs = resolveDraftPath(into, rel);
      if (typeof content !== 'string' || Buffer.byteLength(content) > MAX_POLICY_FILE_BYTES) throw new DraftPathError(`content of ${rel} is not usable`);
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      fs.writeFileSync(abs, content);
    }
  }
}

/** Copies the policy sources (only .rego/.json/.yaml files, no hidden files, no links) of one folder into another. */
export function copyPolicyFolder(from: string, to: string): void {
  for (const rel of listPolicyFiles(from)) {
    const src = path.join(from, rel);
    if (fs.lstatSync(src).isSymbolicLink()) continue;
    const dst = path.join(to, rel);
    fs.mkdirSync(path.dirname(dst), { recursive: true, mode: 0o700 });
    fs.copyFileSync(src, dst);
  }
}
