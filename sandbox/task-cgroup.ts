// Run by root, a pids cgroup bounds the sandbox's processes and threads. inside.mjs gives the
// command RLIMIT_NPROC (8192), which the kernel counts per user namespace, but it exempts the
// host's root from that limit: an agent run by root could fork until the machine's task limit,
// after which Airlock, the user's shell and every service could start nothing. A cgroup binds root
// too. Made below airlock run's own cgroup (or, on cgroup v2, the nearest cgroup above it that may
// have pids children), so every limit the launcher is under (a container's, a systemd slice's)
// still holds; bubblewrap joins it before it starts anything (a shell writes its own pid, then
// execs bubblewrap), so nothing of the sandbox is ever outside it. Where no pids controller can be
// used (not root, none mounted) the sandbox runs as before.
import fs from 'node:fs';
import path from 'node:path';

const PREFIX = 'airlock-run-';

/** Where the pids controller is mounted and airlock run's cgroup in it, from /proc/self (mountinfo, cgroup). */
export function pidsHierarchy(mountinfo: string, cgroups: string): { v1: boolean; mount: string; own: string } | undefined {
  let v2: string | undefined;
  for (const line of mountinfo.split('\n')) {
    const [pre, post] = line.split(' - ');
    const fields = pre?.split(' ');
    const [fstype, , opts] = (post ?? '').split(' ');
    const point = fields?.[4]?.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (!point) continue;
    if (fstype === 'cgroup' && (opts ?? '').split(',').includes('pids')) {
      // /proc/self/cgroup: `ID:controllers:path` (the path may hold a colon).
      for (const l of cgroups.split('\n')) {
        const a = l.indexOf(':');
        const b = l.indexOf(':', a + 1);
        if (a > 0 && b > a && l.slice(a + 1, b).split(',').includes('pids')) return { v1: true, mount: point, own: l.slice(b + 1) };
      }
    }
    if (fstype === 'cgroup2' && !v2) v2 = point;
  }
  const own = /^0::(.*)$/m.exec(cgroups)?.[1];
  return v2 && own !== undefined ? { v1: false, mount: v2, own } : undefined;
}

function controls(dir: string): boolean {
  try {
    return fs.readFileSync(path.join(dir, 'cgroup.subtree_control'), 'utf8').split(/\s+/).includes('pids');
  } catch {
    return false;
  }
}

/** Removes cgroups an `airlock run` killed with SIGKILL left behind (empty ones: rmdir refuses others). */
function sweep(parent: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(name.startsWith(PREFIX) ? name.slice(PREFIX.length) : NaN);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    try {
      process.kill(pid, 0);
      continue;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EPERM') continue;
    }
    try {
      fs.rmdirSync(path.join(parent, name));
    } catch {
      /* still holds processes, or not ours to remove */
    }
  }
}

/**
 * A pids cgroup limited to `max` tasks for this run, or undefined (not root, no pids controller).
 * `procs` is the file a process writes its pid to, to join it.
 */
export function taskCgroup(max: number, proc = '/proc/self'): { dir: string; procs: string } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  let h: ReturnType<typeof pidsHierarchy>;
  try {
    h = pidsHierarchy(fs.readFileSync(`${proc}/mountinfo`, 'utf8'), fs.readFileSync(`${proc}/cgroup`, 'utf8'));
  } catch {
    return undefined;
  }
  if (!h || h.own.includes('..')) return undefined;
  let parent = path.join(h.mount, h.own);
  // cgroup v2: a cgroup with processes (ours) cannot enable controllers for its children; the
  // nearest one above that has pids for its children does.
  if (!h.v1) while (!controls(parent) && parent !== h.mount) parent = path.dirname(parent);
  if (!h.v1 && !controls(parent)) return undefined;
  sweep(parent);
  const dir = path.join(parent, `${PREFIX}${process.pid}`);
  try {
    fs.mkdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return undefined;
  }
  try {
    fs.writeFileSync(path.join(dir, 'pids.max'), String(max));
    return { dir, procs: path.join(dir, 'cgroup.procs') };
  } catch {
    removeTaskCgroup(dir);
    return undefined;
  }
}

/** Removes the run's cgroup once its last process is gone (the kernel reaps the sandbox's shortly after it ends). */
export async function removeTaskCgroup(dir: string, waitMs = 2000): Promise<void> {
  const until = Date.now() + waitMs;
  for (;;) {
    try {
      fs.rmdirSync(dir);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EBUSY' || Date.now() > until) return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
