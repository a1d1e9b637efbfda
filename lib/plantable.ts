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
