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

/** Whether `p` is a regular file itself (a symlink to one is not). */
export function isFile(p: string): boolean {
  try {
    return fs.lstatSync(p).isFile();
  } catch {
    return false;
  }
}

/** Whether `child` is `parent` or lies below it (both resolved the same way by the caller). */
export function inside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** The path with its symlinks resolved, or as given when it does not exist. */
export function realPath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

/**
 * Whether each folder from `base` down along `rel` is a real folder or missing (no symlink, which
 * the agent may have left in place of a folder: mkdir would follow it).
 */
export function realFolders(base: string, rel: string): boolean {
  let p = base;
  for (const part of rel.split(/[\\/]/).filter((x) => x && x !== '.')) {
    p = path.join(p, part);
    try {
      if (!fs.lstatSync(p).isDirectory()) return false;
    } catch {
      return true; // missing from here down: mkdir makes real folders
    }
  }
  return true;
}

/**
 * A file and where editors leave a copy of its text beside it: backups (`~`, `.bak`, `.orig`,
 * `.old`, nano's `.save`), vim's swap (`F.swp` for a dotfile, `.F.swp` otherwise) and Emacs's
 * auto-save (`#F#`). What the file holds (a token, a history), the copy holds too.
 */
export function withEditorCopies(p: string): string[] {
  const dir = path.dirname(p);
  const base = path.basename(p);
  return [p, ...['~', '.bak', '.orig', '.old', '.save', '.swp'].map((x) => `${p}${x}`), path.join(dir, `#${base}#`), ...(base.startsWith('.') ? [] : [path.join(dir, `.${base}.swp`)])];
}

/** A config file's text (its first 256 KiB: what a user writes by hand), undefined when it cannot be read. */
export function configText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').slice(0, 256 * 1024);
  } catch {
    return undefined;
  }
}

/** A config file's lines (see configText), none when it cannot be read. */
export function configLines(file: string): string[] {
  return configText(file)?.split('\n') ?? [];
}
