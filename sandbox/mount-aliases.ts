// Every other path a file or folder is reachable under, through the mounts of this namespace. The
// sandbox hides the state folder (and protects the policy) by mounting over its path; a bind mount
// of it or of a folder above it elsewhere (a dev container's second view of the project, a
// `mount --bind` of a data disk, the same btrfs subvolume mounted twice) is the same folder under
// another name, and the agent read the master key and the CA key through it. Read from
// /proc/self/mountinfo: each mount names its filesystem (major:minor), the folder of that
// filesystem it shows (root) and where (mount point).
import fs from 'node:fs';
import path from 'node:path';

interface Mount {
  dev: string;
  root: string;
  point: string;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function parseMountinfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length < 5 || !f[3]!.startsWith('/') || !f[4]!.startsWith('/')) continue;
    mounts.push({ dev: f[2]!, root: unescape(f[3]!), point: unescape(f[4]!) });
  }
  return mounts;
}

function within(child: string, parent: string): boolean {
  return child === parent || parent === '/' || child.startsWith(`${parent}/`);
}

function sameFile(a: string, b: string): boolean {
  try {
    const x = fs.statSync(a);
    const y = fs.statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

/**
 * The other paths `target` (absolute, symlinks resolved) is reachable under: for the mount it is
 * on, every other mount of the same filesystem whose root holds it. Only paths that are the same
 * file now (a later mount over one hides it already) are returned.
 */
export function mountAliases(target: string, mounts: Mount[] = readMounts()): string[] {
  let on: Mount | undefined;
  // The mount point nearest the target; of mounts stacked on one point, the last listed is on top.
  for (const m of mounts) if (within(target, m.point) && (!on || m.point.length >= on.point.length)) on = m;
  if (!on) return [];
  const inFs = path.posix.join(on.root, path.posix.relative(on.point, target));
  const aliases = new Set<string>();
  for (const m of mounts) {
    if (m.dev !== on.dev || !within(inFs, m.root)) continue;
    const alias = path.posix.join(m.point, path.posix.relative(m.root, inFs));
    if (alias !== target && !within(alias, target) && sameFile(alias, target)) aliases.add(alias);
  }
  return [...aliases].sort();
}

let cached: { at: number; mounts: Mount[] } | undefined;

function readMounts(): Mount[] {
  // One read per launch: several paths are asked about within the same few milliseconds.
  if (cached && Date.now() - cached.at < 1000) return cached.mounts;
  let text = '';
  try {
    text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    /* no /proc: no aliases known */
  }
  cached = { at: Date.now(), mounts: parseMountinfo(text) };
  return cached.mounts;
}

/** The paths with every alias of each added (deduplicated, order kept). */
export function withMountAliases(paths: string[]): string[] {
  const out = new Set<string>();
  for (const p of paths) {
    out.add(p);
    for (const a of mountAliases(p)) out.add(a);
  }
  return [...out];
}
