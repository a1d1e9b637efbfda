// Small questions about host paths the sandbox asks in several places.
import fs from 'node:fs';
import path from 'node:path';

/** Whether `p` is a folder itself (a symlink to one is not). */
export function isDir(p: string): boolean {
  try {
    return fs.lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Whether `child` is `parent` or lies below it (both resolved the same way by the caller). */
export function inside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
