// Could this user have written a file, or swapped it for another? What an agent in `airlock run`'s
// sandbox can write is what the user can: a program Airlock runs on the host (bubblewrap, the JDK's
// keytool, opa) or loads (the Node that runs it) must not be one the agent could have planted.
import fs from 'node:fs';
import path from 'node:path';

/**
 * Whether this user could have written `file` or swapped it: it or a folder above it (symlinks
 * resolved) is this user's (root excepted: root owns the system) or writable by group or others
 * (a sticky folder only for what is ours in it).
 */
export function plantable(file: string): boolean {
  const me = process.getuid?.();
  let p: string;
  try {
    p = fs.realpathSync(file);
  } catch {
    return true;
  }
  for (;;) {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      return true;
    }
    const sticky = st.isDirectory() && (st.mode & 0o1000) !== 0;
    if ((me !== 0 && st.uid === me) || ((st.mode & 0o022) !== 0 && !sticky)) return true;
    const up = path.dirname(p);
    if (up === p) return false;
    p = up;
  }
}

/** A program Airlock runs on the host (see hostProgram): the file to run, or why there is none. */
export type HostProgram = { file: string } | { changed: string } | { missing: true };

const pinned = new Map<string, { file: string; id: string } | null>();

function identity(file: string): string | undefined {
  try {
    const st = fs.statSync(file);
    return st.isFile() ? `${st.dev}:${st.ino}:${st.size}:${st.mode}:${st.uid}:${st.mtimeMs}:${st.ctimeMs}` : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The program `name` (git) as `airlock run` runs it on the host, before and after the agent's run
 * (twenty-seventh pass): found on PATH once, the first time it is asked for (before the agent
 * starts), as a real file no one but root could have planted (see plantable; a folder of the
 * user's early on PATH, `~/.local/bin`, `~/.cargo/bin`, a version manager's shims, is the agent's
 * to write), and pinned there. After the run the review of the repository ran `git` from PATH as
 * the user, outside every namespace, before the report: a `git` the agent had put in such a folder
 * ran with what the sandbox hides in reach. Asked again, it is the pinned file only while it is
 * the same file (device, inode, size, mode, owner, times: a rewrite in place by an agent that may
 * write it, run by root, changes them): `changed` then, and it is not run.
 */
export function hostProgram(name: string, searchPath: string | undefined = process.env.PATH): HostProgram {
  let pin = pinned.get(name);
  if (pin === undefined) {
    pin = null;
    for (const dir of (searchPath ?? '/usr/bin:/bin').split(path.delimiter)) {
      if (!path.isAbsolute(dir)) continue;
      const candidate = path.join(dir, name);
      try {
        fs.accessSync(candidate, fs.constants.X_OK);
      } catch {
        continue;
      }
      if (plantable(candidate)) continue;
      let file: string;
      try {
        file = fs.realpathSync(candidate);
      } catch {
        continue;
      }
      const id = identity(file);
      if (id === undefined) continue;
      pin = { file, id };
      break;
    }
    pinned.set(name, pin);
  }
  if (!pin) return { missing: true };
  return identity(pin.file) === pin.id ? { file: pin.file } : { changed: pin.file };
}
