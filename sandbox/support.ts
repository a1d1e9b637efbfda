// Can this machine run an agent in its own network namespace? Answered by trying: bubblewrap is
// found and a probe sandbox with the same namespaces a run uses starts and exits cleanly. Kernels
// and containers differ too much (userns sysctls, AppArmor, seccomp in Docker) to guess from files.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { plantable } from '../lib/plantable.ts';
import { seccompProgram, seccompSupported } from './seccomp.ts';

export { plantable };

export type SandboxSupport =
  | {
    available: true; bwrap: string; /** unprivileged: a user namespace is needed too */ userNamespace: boolean;
    /** The command can get a user namespace of its own inside (see inside.mjs); false where the kernel or an LSM refuses nesting. */
    nested: boolean;
  }
  | { available: false; reason: string };

/**
 * bubblewrap on PATH, or AIRLOCK_BWRAP (also how tests simulate a machine without it). A bwrap on
 * PATH that a sandboxed agent could have put there is passed over: the agent writes what you can
 * (`~/.local/bin`, which profiles put before /usr/bin, a relative PATH entry in the working
 * directory), and a bwrap of its making would start the next run with no namespace at all.
 */
export function findBwrap(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const forced = env.AIRLOCK_BWRAP;
  if (forced !== undefined) return isExecutable(forced) ? forced : undefined;
  for (const dir of (env.PATH ?? '/usr/bin:/bin').split(path.delimiter)) {
    if (!path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, 'bwrap');
    if (isExecutable(candidate) && !plantable(candidate)) return candidate;
  }
  return undefined;
}

/** The bwrap files on PATH passed over as plantable (for the refusal's reason). */
export function plantedBwraps(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, 'bwrap')).filter((c) => path.isAbsolute(c) && isExecutable(c) && plantable(c));
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * The command that starts bubblewrap in a mount namespace of its own whose propagation is private
 * (twenty-fourth pass), or none where this machine refuses one (a container without
 * CAP_SYS_ADMIN, an LSM that forbids unprivileged user namespaces to all but bubblewrap, an
 * unshare too old for --map-current-user): bubblewrap makes the sandbox's mounts slaves of the
 * host's and has no flag to change that, so a share the host mounted after the run started (the
 * user's sshfs, NFS an automount point mounts when the agent looks in it) appeared inside, past
 * the empty folders `remoteMounts` puts over those mounted before. util-linux's unshare at a
 * system path only: one on PATH the agent could have planted. Tried once per process.
 */
export function privatePropagation(): string[] {
  if (propagationWrapper !== undefined) return propagationWrapper;
  const unshare = ['/usr/bin/unshare', '/bin/unshare'].find((f) => isExecutable(f) && !plantable(f));
  const wrapper = unshare ? [unshare, ...(process.getuid?.() === 0 ? [] : ['--user', '--map-current-user']), '--mount', '--propagation', 'private', '--'] : [];
  const tried = wrapper.length ? spawnSync(wrapper[0]!, [...wrapper.slice(1), '/bin/true'], { stdio: 'ignore', timeout: 5000 }) : undefined;
  propagationWrapper = tried?.status === 0 ? wrapper : [];
  return propagationWrapper;
}
let propagationWrapper: string[] | undefined;

/** The namespace flags a run uses; shared with the probe so the probe tests what runs need. */
export function namespaceFlags(userNamespace: boolean, nested: boolean): string[] {
  // --cap-drop ALL: bwrap started by root keeps every capability otherwise, and with CAP_SYS_ADMIN
  // the agent could unmount what hides the state folder, or the fresh /proc to reach the host's
  // namespaces. (Unprivileged, bwrap drops them by default; saying so costs nothing.)
  //
  // Run by root, the sandbox's first process (inside.mjs) keeps CAP_SETFCAP alone: without it, a
  // root process cannot map itself into the user namespace the command is started in (Linux 5.12+
  // asks CAP_SETFCAP to map uid 0), and the command gets none (the nested bwrap drops all). Run by
  // anyone else, the sandbox's own user namespace lets it nest one more without any capability.
  // Without nesting the command is that first process's child and would inherit the capability
  // (bubblewrap raises added ones as ambient): it could set file capabilities on a file it can
  // write, which a host user later runs. So only when the command is nested.
  return ['--unshare-net', '--unshare-pid', '--unshare-ipc', ...(userNamespace ? ['--unshare-user'] : []), '--die-with-parent', '--cap-drop', 'ALL',
    ...(userNamespace || !nested ? [] : ['--cap-add', 'CAP_SETFCAP'])];
}

/** The nested sandbox inside.mjs starts the command in: a user namespace of its own, nothing else. */
export function nestedFlags(cwd: string): string[] {
  return ['--unshare-user', '--die-with-parent', '--cap-drop', 'ALL', '--dev-bind', '/', '/', '--chdir', cwd];
}

let cached: SandboxSupport | undefined;

export function sandboxSupport(opts: { fresh?: boolean } = {}): SandboxSupport {
  if (cached && !opts.fresh && process.env.AIRLOCK_BWRAP === undefined) return cached;
  cached = probe();
  return cached;
}

function probe(): SandboxSupport {
  if (process.platform !== 'linux') {
    return { available: false, reason: `network namespaces are a Linux feature; this machine runs ${process.platform}` };
  }
  const bwrap = findBwrap();
  if (!bwrap) {
    return {
      available: false,
      reason: process.env.AIRLOCK_BWRAP !== undefined
        ? `AIRLOCK_BWRAP=${process.env.AIRLOCK_BWRAP} is not an executable`
        : plantedBwraps().length
          ? `the bwrap on PATH (${plantedBwraps().join(', ')}) is in a place your user (so an agent) can write; install bubblewrap system-wide (e.g. apt install bubblewrap) or name one with AIRLOCK_BWRAP`
          : 'bubblewrap (bwrap) is not installed; install it (e.g. apt install bubblewrap, dnf install bubblewrap)',
    };
  }
  if (!seccompSupported()) {
    return { available: false, reason: `the sandbox's seccomp filter supports x64 and arm64; this machine is ${process.arch}` };
  }
  // root can create namespaces directly; anyone else needs a user namespace to do so.
  const userNamespace = process.getuid?.() !== 0;
  // The filter reaches bubblewrap on a pipe (its stdin), not as a file in the temp folder: an agent
  // in another run's sandbox sees that folder as the same user, and a filter it swapped in that
  // refuses nesting would make this probe settle for a run without the command's own namespace.
  const filter = seccompProgram();
  const attempt = (inner: string[], nest: boolean): SpawnSyncReturns<string> =>
    spawnSync(bwrap, [...namespaceFlags(userNamespace, nest), '--seccomp', '0', '--dev-bind', '/', '/', '--proc', '/proc', '--', ...inner], {
      encoding: 'utf8',
      timeout: 10_000,
      input: filter,
      stdio: ['pipe', 'ignore', 'pipe'],
    });
  let nested = true;
  // Nested as a run nests: the command's own user namespace inside the sandbox's. Where that is
  // refused (an LSM, a kernel without it), the sandbox alone, without nesting.
  let r = attempt([bwrap, ...nestedFlags('/'), '--', 'true'], true);
  if (r.status !== 0) {
    nested = false;
    r = attempt(['true'], false);
  }
  if (r.status === 0) return { available: true, bwrap, userNamespace, nested };
  const detail = (r.error?.message ?? r.stderr ?? '').trim().split('\n')[0] || `exit status ${r.status ?? r.signal}`;
  const hint = userNamespace
    ? ' (unprivileged user namespaces look disabled: see kernel.unprivileged_userns_clone, user.max_user_namespaces or AppArmor\'s apparmor_restrict_unprivileged_userns; in Docker, the default seccomp profile blocks them)'
    : '';
  return { available: false, reason: `bubblewrap cannot create the namespaces: ${detail}${hint}` };
}
