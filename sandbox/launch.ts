// Starts an agent's command with Airlock as its only way out, and waits for it.
//
// Sandboxed (Linux): bubblewrap puts the command in new network, PID and IPC namespaces (plus a
// user namespace when not root), with no capabilities and a seccomp filter that forbids creating
// Unix sockets. The network namespace has only loopback. inside.mjs, the first process in it,
// listens on 127.0.0.1:3128 there and hands that listening socket to this process over the Node
// IPC channel; this process accepts the agent's connections on it and forwards them to Airlock's
// <home>/proxy.sock. No other route exists: no DNS, no TCP, no Unix sockets; the state folder
// (keys, secrets, CA key) is hidden behind an empty tmpfs. When the command ends, the PID namespace
// ends and every process the agent left behind dies with it; if this process dies,
// --die-with-parent and the closed channel end the sandbox.
//
// Unsandboxed (--no-sandbox): the same relay listens on 127.0.0.1:<ephemeral> on the host and the
// command only gets environment variables, which a determined agent can ignore.
import { globMatch } from '../lib/glob.ts';
import { hostProgram } from '../lib/plantable.ts';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tty from 'node:tty';
import { fileURLToPath } from 'node:url';
import { agentEnv, type AgentEnvOptions } from './env.ts';
import { relayConnections, startRelay, type Relay } from './relay.ts';
import { withMountAliases } from './mount-aliases.ts';
import { historySecrets, homeSecretValueFiles, otherNames, workSecretFiles } from './work-secrets.ts';
import { sshConfigFiles } from './entry-files.ts';
import { seccompProgram } from './seccomp.ts';
import { namespaceFlags, privatePropagation } from './support.ts';
import { packageCaches, privateCacheFolder } from './package-caches.ts';
import { configLines, inside, isDir, realPath } from './paths.ts';
import { removeTaskCgroup, taskCgroup } from './task-cgroup.ts';

/** The proxy port inside the sandbox: its loopback is private, so the conventional port is free. */
export const SANDBOX_PROXY_PORT = 3128;
/** The sandbox's most processes and threads: inside.mjs's RLIMIT_NPROC; run by root, a pids cgroup (task-cgroup.ts). */
export const SANDBOX_TASKS = 8192;
/** Where the run folder (CA certificate) appears inside the sandbox. */
export const SANDBOX_RUN_DIR = '/run/airlock';

const insideScript = fileURLToPath(new URL('./inside.mjs', import.meta.url));
const fetchPreload = fileURLToPath(new URL('./node-fetch-proxy.cjs', import.meta.url));

/**
 * Writes the run's helper files into the run folder: the Node preload that points fetch() at the
 * proxy (with the path of Airlock's own undici filled in) and, when given, Java's trust store.
 */
function writeRunFiles(runDir: string, javaTrustStore: string | undefined): { preload: string; trustStore?: string } {
  const undici = createRequire(import.meta.url).resolve('undici');
  const preload = path.join(runDir, 'node-fetch-proxy.cjs');
  fs.writeFileSync(preload, fs.readFileSync(fetchPreload, 'utf8').replace('__UNDICI_PATH__', JSON.stringify(undici)), { mode: 0o644 });
  if (!javaTrustStore) return { preload };
  const trustStore = path.join(runDir, 'truststore.p12');
  fs.copyFileSync(javaTrustStore, trustStore);
  fs.chmodSync(trustStore, 0o644);
  return { preload, trustStore };
}

export interface SandboxSpec {
  bwrap: string;
  userNamespace: boolean;
  /** Start the command in a user namespace of its own inside (see inside.mjs); false where nesting is refused. */
  nested?: boolean;
  /** Let the agent create Unix sockets (then host socket files on the shared filesystem are reachable). */
  allowUnixSockets?: boolean;
  /** Read-only filesystem except the working directory, the temp folder and these paths. */
  readOnly?: { writable: string[] };
  /** Run by root: the system's folders (SYSTEM_FOLDERS) read-only, except these paths inside them (and the working directory, the temp folders). */
  systemReadOnly?: { writable: string[] };
}

/**
 * What a root run may not write unless asked (`airlock run --writable-system`): what the host runs
 * and loads, during the run too (cron reads /etc/cron.d every minute; every process maps the
 * libraries under /usr) — the rest of the filesystem stays as writable as it is.
 */
export const SYSTEM_FOLDERS = ['/usr', '/etc', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/boot', '/opt', '/var', '/srv'];

/** The bind arguments of a root run's read-only system: each system folder, then the paths inside them that stay writable. */
export function systemReadOnlyArgs(writable: string[]): string[] {
  const args: string[] = [];
  const folders = SYSTEM_FOLDERS.filter((f) => {
    try {
      return fs.lstatSync(f).isDirectory(); // a merged-/usr link (/bin -> usr/bin) is covered by its target
    } catch {
      return false;
    }
  });
  for (const f of folders) args.push('--ro-bind', f, f);
  for (const p of new Set(writable.map((w) => realPath(w)))) {
    if (folders.some((f) => inside(p, f)) && isDir(p)) args.push('--bind', p, p);
  }
  return args;
}

/** Who the agent is and which secrets its environment may show: as for agentEnv(). */
export interface LaunchOptions extends Pick<AgentEnvOptions, 'agent' | 'token' | 'placeholders' | 'realValues' | 'onReplaced' | 'onCredentials'> {
  command: string[];
  /** Airlock's proxy socket on the host. */
  proxySocket: string;
  /** Airlock's CA certificate on the host. */
  caCert: string;
  /** The state folder: hidden inside the sandbox. */
  home: string;
  /** false = environment variables only. */
  sandbox: SandboxSpec | false;
  /** Files or folders to hide inside the sandbox besides the state folder. */
  hide?: string[];
  /**
   * Files or folders the agent may read but not change, even inside a writable folder: what a
   * later `airlock start` would load (the policy folder, Airlock's own code).
   */
  protect?: string[];
  /**
   * A hidden or read-only path the host replaced during the run (see pathIdentities): the sandbox
   * hid or protected it by its path, and from then on the agent saw the new one. `moved`: a code
   * cache, set aside (to that path) so that nothing the agent put there is loaded.
   */
  onPathReplaced?: (p: string, kind: 'hidden' | 'protected' | 'cache', moved?: string) => void;
  /**
   * A file of the working directory holding a real secret value (work-secrets.ts): the agent reads
   * a copy with placeholders (`hidden`: one that could not be rewritten is hidden instead).
   */
  onMasked?: (p: string, secrets: string[], hidden: boolean) => void;
  /** The repository's objects could not all be read for real values within the bounds (historySecrets). */
  onHistoryUnchecked?: () => void;
  /** The user's home folder (default: os.homedir()), whose rc files are looked at too. */
  userHome?: string;
  /** A PKCS12 trust store with Airlock's CA (for JAVA_TOOL_OPTIONS), when one could be made. */
  javaTrustStore?: string;
  baseEnv?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface AgentExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const forwarded: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

export class LaunchError extends Error {}

/** The bubblewrap argument list for a sandboxed run (exported for tests). */
export function bwrapArgs(o: {
  /** The bubblewrap inside.mjs nests the command's user namespace with; none: no nesting. */
  bwrap?: string; userNamespace: boolean; home: string; runDir: string; cwd: string; hide: string[]; command: string[]; seccompFd: number;
  /** Mount points covered with an empty folder without being looked at (remoteMounts). */
  mounts?: string[];
  /** undefined: the filesystem is writable as usual; a list: read-only except these folders. */
  writable?: string[];
  /** Run by root: the system's folders read-only except these (systemReadOnlyArgs). */
  systemWritable?: string[];
  /** Read-only whatever else is writable (bound after the writable folders). */
  protect?: string[];
  /** Device nodes of the run's own (privateDevices) to put over bubblewrap's binds of the host's. */
  devices?: string[];
  /** [copy, path]: the working directory's files with a real secret value, as the agent reads them (read-only). */
  masked?: Array<[string, string]>;
  /** [folder, path]: package caches of the home folder, each replaced by the agent's own folder (package-caches.ts). */
  privateCaches?: Array<[string, string]>;
}): string[] {
  // --new-session: no controlling terminal inside, so TIOCSTI cannot push keystrokes into the
  // user's shell (CVE-2017-5226); `airlock run` forwards the terminal's signals instead.
  const args = [...namespaceFlags(o.userNamespace, o.bwrap !== undefined), '--new-session', '--seccomp', String(o.seccompFd)];
  if (o.writable) {
    args.push('--ro-bind', '/', '/');
    for (const p of o.writable) if (fs.existsSync(p)) args.push('--bind', p, p);
  } else {
    args.push('--bind', '/', '/');
    if (o.systemWritable) args.push(...systemReadOnlyArgs(o.systemWritable));
  }
  // An agent that rewrites the policy or Airlock's code would be obeyed by the next start, with no
  // human having said yes: those stay read-only, also inside a writable working directory. A
  // read-only bind keeps a folder's content, not its name: the agent moved a folder above it aside
  // (a rename asks write access to that folder's parent only: the user's, for a project) and put a
  // policy of its own at the old path. A mount point cannot be renamed (EBUSY), so each folder
  // above a protected path that could be renamed is bound onto itself first, writable as it was.
  // The same above the state folder and every hidden path: moved aside, the state folder would be
  // gone for the next `airlock start` there (which makes a new one: the agent's, if it put one at
  // the old path), and one moved while another run starts is hidden at a path it no longer has.
  // `-try`: a folder removed between this list and bubblewrap's mounts (another project's state
  // folder deleted meanwhile: test suites make and remove them by the dozen) has nothing left to
  // keep, and must not make the run fail.
  for (const a of renamableAncestors([...(o.protect ?? []), o.home, ...o.hide, ...(o.privateCaches ?? []).map(([, p]) => p)], o.writable, o.systemWritable)) args.push('--bind-try', a, a);
  for (const p of o.protect ?? []) if (fs.existsSync(p)) args.push('--ro-bind-try', p, p);
  // Hidden after the writable binds, so a state folder inside the working directory stays hidden.
  args.push('--proc', '/proc');
  // The sysctls are the host's (all but the namespaced net.*), and the kernel asks them only that the
  // writer's user id be root on the host: an agent run by root (no capability) wrote
  // kernel.core_pattern (a `|program` the kernel runs as root outside every namespace at the next
  // crash), kernel.modprobe, dev.tty.legacy_tiocsti. bubblewrap means to make /proc/sys read-only
  // but skips it when access(W_OK) fails, which it always does there (sysctl directories refuse
  // writes even to root). Read-only here; the source is the host's /proc/sys, which shows each
  // reader its own namespaces' values as the new /proc's does.
  if (fs.existsSync('/proc/sys')) args.push('--ro-bind', '/proc/sys', '/proc/sys');
  // The same interfaces mounted elsewhere (a chroot's or a container root's /proc and /sys, a
  // debugfs or tracefs outside /sys): read-only too. A procfs is hidden whole (twenty-ninth pass):
  // it is the host's PID namespace's, and read-only is no bar to reading it — every host process's
  // command line (a `mysql -p…`, `sshpass -p`, a bearer token on curl's), its mounts, its network
  // namespace's sockets; the sandbox's own /proc shows the sandbox's processes only.
  const procfs = procMounts();
  for (const p of kernelMounts()) {
    if (procfs.includes(p)) args.push('--tmpfs', p);
    else if (!procfs.some((q) => inside(p, q))) args.push('--ro-bind-try', p, p);
  }
  // sysfs is the host's, and the kernel asks nothing but file permissions of most of it: an agent
  // running as root (no capabilities needed) could set /sys/kernel/uevent_helper, which the kernel
  // then runs as root outside every namespace, or change the host's cgroups. Read-only, with its
  // submounts (/proc/sys: see above).
  if (fs.existsSync('/sys')) args.push('--ro-bind', '/sys', '/sys');
  // A minimal /dev (null, zero, random, tty, pts, ...): the host's block devices would let an agent
  // running as root read the hidden state folder straight off the disk.
  args.push('--dev', '/dev', '--perms', '1777', '--tmpfs', '/dev/shm');
  // bubblewrap's /dev binds the host's own device nodes, writable: an agent run by root owns them
  // (no capability needed) and `chmod 000 /dev/null` broke the machine for everyone. Run by root,
  // Airlock's own go on top (privateDevices).
  for (const d of o.devices ?? []) args.push('--dev-bind', d, path.join('/dev', path.basename(d)));
  // Host services listen on Unix sockets under /run (nscd and systemd-resolved answer DNS there,
  // D-Bus, container runtimes): an empty /run cuts them off.
  args.push('--tmpfs', '/run');
  if (isDir('/var/run')) args.push('--tmpfs', '/var/run');
  args.push('--tmpfs', o.home);
  for (const p of o.hide) {
    if (!fs.existsSync(p)) continue;
    args.push(...(fs.statSync(p).isDirectory() ? ['--tmpfs', p] : ['--ro-bind', '/dev/null', p]));
  }
  // Network filesystems and FUSE mounts (see remoteMounts): an empty folder over each, unlooked at.
  for (const p of o.mounts ?? []) args.push('--tmpfs', p);
  for (const [copy, p] of o.masked ?? []) args.push('--ro-bind', copy, p);
  // Writable under --read-only too: the agent's npm, pip, cargo work with a cache of their own.
  for (const [own, p] of o.privateCaches ?? []) args.push('--bind', own, p);
  args.push('--ro-bind', o.runDir, SANDBOX_RUN_DIR, '--chdir', o.cwd);
  // inside.mjs starts the command in a user namespace of its own with this bubblewrap (see there).
  args.push('--', process.execPath, insideScript, ...(o.bwrap ? ['--bwrap', o.bwrap] : []), '--listen', String(SANDBOX_PROXY_PORT), '--', ...o.command);
  return args;
}

/**
 * How descriptor 0, 1 or 2 reaches the sandbox. They go to the agent as they are, and one that is a
 * socket of the host's network namespace leads out if it can be re-aimed: a TCP socket connects
 * anywhere again after connect(AF_UNSPEC), a UDP or Unix datagram socket sends anywhere with
 * sendto, an unconnected Unix socket connects to any socket file. (inetd, systemd's
 * StandardInput=socket, socat's nofork and remote-execution harnesses start programs so.) A
 * connected Unix stream or seqpacket socket (what Node gives a child for a pipe) is kept; a TCP
 * stream is relayed through a pipe; any other socket is refused, and so is a folder. Read from /proc/self/net, which
 * lists this network namespace's sockets by inode: a socket not found there is refused too.
 * Of the rest only what stdio is for passes: a regular file, a pipe, a terminal, /dev/null and its
 * kin. A kernel object (an anonymous inode: an io_uring ring creates and connects sockets through
 * its queue, which the seccomp filter never sees; a pidfd, fanotify, userfaultfd, BPF or perf
 * descriptor acts on processes, files and memory outside), a block device (the disk under what the
 * sandbox hides) and any other device (a tun, FUSE or vhost descriptor the launcher set up) are refused.
 */
export function stdioMode(fd: number): 'inherit' | 'relay' | { refuse: string } {
  let inode: string | undefined;
  const name = ['stdin', 'stdout', 'stderr'][fd];
  try {
    const st = fs.fstatSync(fd);
    // A folder's descriptor walks the host's mounts, not the sandbox's: /proc/self/fd/0/.airlock/…
    // (or openat) reaches what the sandbox hides below it.
    if (st.isDirectory()) return { refuse: `${name} (descriptor ${fd}) is a folder: through it the agent would open files the sandbox hides; start airlock run with a terminal, a file or a pipe as its ${name}` };
    if (!st.isSocket()) {
      const other = notStdio(fd, st);
      return other ? { refuse: `${name} (descriptor ${fd}) is ${other}; start airlock run with a terminal, a file or a pipe as its ${name}` } : 'inherit';
    }
    inode = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/self/fd/${fd}`))?.[1];
  } catch {
    return 'inherit'; // not open: nothing to pass on
  }
  const table = (name: string): string[][] => {
    try {
      return fs.readFileSync(`/proc/self/net/${name}`, 'utf8').split('\n').slice(1).map((l) => l.trim().split(/\s+/));
    } catch {
      return [];
    }
  };
  if (inode) {
    // unix: Num RefCount Protocol Flags Type St Inode [Path]; Type 0001 stream, 0005 seqpacket; St 03 connected.
    const unix = table('unix').find((f) => f[6] === inode);
    if (unix && (unix[4] === '0001' || unix[4] === '0005') && unix[5] === '03') return 'inherit';
    // tcp, tcp6: sl local remote st tx:rx tr:when retrnsmt uid timeout inode
    if (!unix && [...table('tcp'), ...table('tcp6')].some((f) => f[9] === inode)) return 'relay';
  }
  return { refuse: `${name} (descriptor ${fd}) is a socket the agent could aim anywhere outside the sandbox (a datagram socket, or one not connected); start airlock run with a terminal, a file or a pipe as its ${name}` };
}

/** Why `airlock run` must not start a sandboxed agent with its descriptors 0–2 (see stdioMode), if so. */
export function stdioRefusal(modes: ReturnType<typeof stdioMode>[] = [0, 1, 2].map(stdioMode)): string | undefined {
  for (const m of modes) if (typeof m === 'object') return m.refuse;
  return undefined;
}

/** The memory-class devices stdio may be (the host's /dev/null, zero, full, random, urandom). */
let nullDevices: Set<number> | undefined;

/**
 * Why descriptor `fd` (not a socket nor a folder) is no stdio the agent may hold, if so: see
 * stdioMode. An anonymous inode has no file type, or (newer kernels) a regular one, so its
 * /proc/self/fd link (`anon_inode:[io_uring]`) names it.
 */
function notStdio(fd: number, st: fs.Stats): string | undefined {
  if (st.isFIFO()) return undefined;
  let link = '';
  try {
    link = fs.readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    /* no /proc: the file type alone decides */
  }
  const anon = /^anon_inode:|^\[?(?:pidfd|io_uring|eventpoll|eventfd|signalfd|timerfd|inotify|fanotify|userfaultfd|bpf|perf_event)/.exec(link);
  if (st.isFile() && !anon) return undefined;
  if (st.isCharacterDevice()) {
    if (tty.isatty(fd)) return undefined;
    nullDevices ??= new Set(DEV_NODES.filter((n) => n !== 'tty').flatMap((n) => {
      try {
        return [fs.statSync(path.join('/dev', n)).rdev];
      } catch {
        return [];
      }
    }));
    if (nullDevices.has(st.rdev)) return undefined;
    return `a device (${link || 'character device'}) the agent would drive outside the sandbox (a tun, FUSE or vhost descriptor reaches the host's network or files)`;
  }
  if (st.isBlockDevice()) return `a block device (${link || 'disk'}): the agent would read the disk under the files the sandbox hides`;
  return `a kernel object (${link || 'anonymous inode'}) the sandbox cannot confine: an io_uring ring creates and connects sockets the seccomp filter never sees, a pidfd, fanotify, userfaultfd, BPF or perf descriptor acts on processes, files or memory outside`;
}

/**
 * With --allow-unix-sockets the agent can connect to any socket file on the shared filesystem. The
 * ones of the user's session that hold keys or run commands are hidden anyway: the ssh-agent and
 * gpg-agent (sign and decrypt with the user's keys), tmux and screen (send-keys runs commands in the
 * user's shells), X11 (keystrokes into any window), the editor's IPC (VS Code's CLI and its git
 * askpass handle, which hands out the user's git credentials; Neovim, Emacs servers), terminal and
 * window-manager control sockets (kitty, WezTerm, Alacritty, i3, sway: they spawn commands), the
 * D-Bus session bus and Docker when outside /run (which is empty inside anyway). Named by the
 * environment or at their usual places; what exists is hidden (a socket behind /dev/null, a folder
 * behind an empty one). Every other socket the host has bound outside the working directory is
 * hidden too (boundSockets); the agent's own, made during the run, work: that is what the flag is for.
 */
export function sessionSockets(env: NodeJS.ProcessEnv, homeDir: string = os.homedir(), cwd: string = process.cwd(), root = '/'): string[] {
  const uid = process.getuid?.() ?? 0;
  const tmp = [...new Set([os.tmpdir(), '/tmp', env.TMUX_TMPDIR].filter((d): d is string => !!d))];
  const gnupg = env.GNUPGHOME || path.join(homeDir, '.gnupg');
  const named = [
    env.SSH_AUTH_SOCK, env.TMUX?.split(',')[0], env.GPG_AGENT_INFO?.split(':')[0],
    env.VSCODE_IPC_HOOK, env.VSCODE_IPC_HOOK_CLI, env.VSCODE_GIT_IPC_HANDLE, env.NVIM, env.NVIM_LISTEN_ADDRESS,
    env.KITTY_LISTEN_ON?.replace(/^unix:/, ''), env.WEZTERM_UNIX_SOCKET, env.ALACRITTY_SOCKET, env.I3SOCK, env.SWAYSOCK,
    env.SCREENDIR, env.DOCKER_HOST?.startsWith('unix://') ? env.DOCKER_HOST.slice(7) : undefined,
    ...(env.DBUS_SESSION_BUS_ADDRESS ?? '').split(';').map((a) => /(?:^|[:,])path=([^,]+)/.exec(a)?.[1]),
    ...tmp.flatMap((d) => [`tmux-${uid}`, '.X11-unix', '.ICE-unix', `emacs${uid}`, `zellij-${uid}`].map((n) => path.join(d, n))),
    path.join(homeDir, '.screen'),
    // Twenty-first pass: where no runtime folder is set (containers, WSL, a login without
    // logind), every Neovim listens in `<tmp>/nvim.<user>/…/nvim.<pid>.0` (`nvim --server … --remote-send
    // ':!cmd<CR>'` runs commands there), tmate's server in `<tmp>/tmate-<uid>` (tmux's MSG_EXEC), and
    // abduco's sessions (a shell to type into) in `~/.abduco` or `<tmp>/abduco/<user>`.
    ...tmp.flatMap((d) => [...userNames(env).map((u) => `nvim.${u}`), `tmate-${uid}`, 'abduco'].map((n) => path.join(d, n))),
    path.join(homeDir, '.abduco'), env.ABDUCO_SOCKET_DIR,
    ...['S.gpg-agent', 'S.gpg-agent.ssh', 'S.gpg-agent.extra', 'S.gpg-agent.browser', 'S.scdaemon', 'S.keyboxd'].map((n) => path.join(gnupg, n)),
    // Not only the ones the environment names: every ssh-agent of the user's other sessions
    // (OpenSSH's ssh-agent and sshd's forwarded agents live in <tmp>/ssh-XXXX/agent.PID), VS Code's
    // and dev containers' forwarded agents and git askpass handles of other windows, D-Bus buses
    // dbus-launch made, and PostgreSQL's socket (peer authentication: whoever connects as the user
    // is the user; Airlock's own --store may be there) and Redis's (Airlock's --limits: the
    // agent's own rate and egress budgets).
    ...tmp.flatMap((d) => sessionSocketsIn(d)),
    // Password managers' ssh agents at their usual places (1Password's, Bitwarden's), and every
    // agent and connection-sharing socket the user's ssh config names: an IdentityAgent signs as
    // the user; a ControlMaster's socket (ControlPath) runs commands on the remote host through
    // the user's open connection, a way out that never meets Airlock.
    path.join(homeDir, '.1password', 'agent.sock'), path.join(homeDir, '.bitwarden-ssh-agent.sock'),
    ...sshConfigSockets(homeDir),
    // Sixteenth pass: git's credential cache (`credential.helper = cache`): its daemon hands the
    // passwords and tokens it holds to whoever connects (`git credential-cache get`).
    path.join(homeDir, '.git-credential-cache'), path.join(env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(homeDir, '.cache'), 'git', 'credential'),
    // Container engines whose socket is in the home folder (Docker Desktop, Rancher Desktop,
    // Colima, Lima, podman machine) and those docker contexts name: a container that mounts the
    // home folder and has the network is everything the sandbox takes away.
    ...['.docker/run/docker.sock', '.docker/desktop/docker.sock', '.docker/desktop/docker-cli.sock', '.rd/docker.sock', '.colima', '.lima', '.local/share/containers/podman/machine']
      .map((p) => path.join(homeDir, p)),
    ...dockerContextSockets(env.DOCKER_CONFIG || path.join(homeDir, '.docker')),
    // Fourteenth pass: the session's runtime folder holds the user's systemd manager
    // (`systemd/private`: `systemd-run --user` runs any command outside), the D-Bus bus, Wayland,
    // PipeWire and PulseAudio, podman's and rootless Docker's sockets, gpg-agent's and the
    // keyring's. Under /run it is gone inside anyway; elsewhere (WSLg's /mnt/wslg/runtime-dir, a
    // container's /tmp/runtime-$USER) it is hidden whole (see runtimeFolder), and so is a Wayland
    // or PulseAudio socket named by its path.
    runtimeFolder(env.XDG_RUNTIME_DIR, homeDir, cwd),
    env.WAYLAND_DISPLAY && path.isAbsolute(env.WAYLAND_DISPLAY) ? env.WAYLAND_DISPLAY : undefined,
    env.PULSE_SERVER?.startsWith('unix:') ? env.PULSE_SERVER.slice(5) : undefined,
    // System container and VM managers whose socket is outside /run: LXD's and Incus's (a member of
    // their group starts a privileged container with the host's / mounted: root on the host),
    // Multipass's (VMs that mount the user's folders).
    ...SYSTEM_ENGINE_SOCKETS.map((p) => path.join(root, p)),
  ];
  return [...new Set(named.filter((p): p is string => !!p && path.isAbsolute(p) && fs.existsSync(p)).map((p) => realPath(p)))];
}

/** At most this many bound socket files of the host are hidden (see boundSockets). */
const BOUND_SOCKETS = 512;

/**
 * Every socket file the host has bound when the run starts, outside the working directory
 * (twenty-third pass): the list above names the session's known key and command sockets, and each
 * pass found more that no name covered (a MySQL or MariaDB socket whose unix_socket login lets the
 * user in without a password, as root for root; a keybase or password manager's service; a Jupyter
 * kernel; a language server; a daemon's control socket). The kernel's table of Unix sockets
 * (`/proc/net/unix`, read in the host's network namespace) lists each one bound to a path, known or
 * not; abstract ones are cut off by the sandbox's network namespace already. The working
 * directory's own stay reachable (the project's services), and so does every socket the agent
 * makes during the run: what the flag is for. A service that binds its socket only after the run
 * started is not hidden.
 *
 * The table keeps the name a socket was bound with, which need not be where it is now (twenty-ninth
 * pass): OpenSSH's ControlMaster binds `<ControlPath>.<random>`, links the ControlPath to it and
 * removes the first name; a service binds a temporary name and renames it into place; one binds a
 * relative name in its own folder (shown as given). A name that is gone, or is no socket now, stands
 * for every socket file in its folder (rename and link stay on one filesystem, and in practice in
 * one folder); a relative one is read against the folder of the process holding the socket (found
 * by the socket's inode among /proc/PID/fd: this user's processes, within a budget). Other names
 * of a bound socket (hard links) are found with the hidden files' (otherNames). Left open: a socket
 * whose folder itself was renamed since, and one of a process this user cannot look into.
 */
export function boundSockets(cwd: string, table = '/proc/net/unix', proc = '/proc', homeDir: string = os.homedir()): string[] {
  let text: string;
  try {
    text = fs.readFileSync(table, 'utf8');
  } catch {
    return [];
  }
  const project = projectFolder(cwd, homeDir);
  const own = (p: string): boolean => project !== undefined && inside(p, project);
  const out = new Set<string>();
  const add = (p: string): void => {
    if (out.size < BOUND_SOCKETS && !own(p) && isSocket(p)) out.add(p);
  };
  /** Folders of names that are gone or no socket now (see above). */
  const folders = new Set<string>();
  /** Socket inode → relative name as bound. */
  const relative = new Map<string, string>();
  /** Socket inode → absolute name as bound, no socket on the host now (another mount namespace's, or moved). */
  const gone = new Map<string, string>();
  // Num RefCount Protocol Flags Type St Inode Path: the path is the rest of the line (spaces too).
  for (const line of text.split('\n')) {
    if (out.size >= BOUND_SOCKETS) break;
    const m = /^\s*[0-9a-f]+:(?:\s+[0-9A-Fa-f]+){5}\s+(\d+) (.+)$/.exec(line);
    if (!m) continue;
    const [, inode, bound] = m as unknown as [string, string, string];
    if (bound.startsWith('@')) continue; // abstract: cut off by the network namespace
    if (!bound.startsWith('/')) {
      if (relative.size < 64) relative.set(inode, bound);
      continue;
    }
    const p = realPath(bound);
    if (isSocket(p)) add(p);
    else {
      if (folders.size < 64) folders.add(realPath(path.dirname(bound)));
      if (gone.size < 64) gone.set(inode, bound);
    }
  }
  const mounts = mountTables(proc);
  for (const [inode, pid] of socketOwners(new Set([...relative.keys(), ...gone.keys()]), proc)) {
    const rel = relative.get(inode);
    if (rel === undefined) {
      // Bound in another mount namespace (a container on the host's network, a snap's private
      // /tmp): the name as that process sees it, turned into the host's path.
      const host = hostPathOf(proc, pid, gone.get(inode)!, mounts);
      if (host) add(realPath(host));
      continue;
    }
    let folder: string;
    try {
      folder = fs.readlinkSync(path.join(proc, pid, 'cwd'));
    } catch {
      continue; // gone meanwhile
    }
    const p = realPath(path.resolve(folder, rel));
    if (isSocket(p)) add(p);
    else if (folders.size < 128) folders.add(realPath(path.dirname(p)));
  }
  for (const dir of folders) {
    if (own(dir)) continue; // the project's own sockets stay reachable
    let names: string[];
    try {
      names = fs.readdirSync(dir).slice(0, 4096);
    } catch {
      continue; // gone too (a folder renamed since: left open), or bound in another mount namespace
    }
    for (const n of names) add(path.join(dir, n));
  }
  return [...out];
}

/**
 * Socket files bound in other network namespaces (twenty-ninth pass): the kernel's table lists
 * only this namespace's, but a socket file on the shared filesystem is reached from any: a
 * container's database bound on a folder of the host's (Docker's official PostgreSQL image trusts
 * every local connection), another sandbox's agent's own services, anything started under
 * `unshare -n`. Each namespace's table is read through one of its processes (/proc/PID/net/unix,
 * which any user may read), and each name as that process sees it (its mounts: /proc/PID/mountinfo)
 * is turned into the host's path of the same file (device and inode checked where this user may
 * look into the process's root; a root-run container's is taken unchecked). The project's own
 * stay reachable, as in boundSockets; at most 4096 processes and 256 namespaces are looked at.
 */
export function foreignSockets(cwd: string, homeDir: string = os.homedir(), proc = '/proc'): string[] {
  const project = projectFolder(cwd, homeDir);
  const out = new Set<string>();
  // A namespace is known by its table's inode (each network namespace has its own): unlike
  // /proc/PID/ns/net, it can be read of another user's process too (a container run by root's).
  const tableOf = (pid: string): string => {
    const st = fs.statSync(path.join(proc, pid, 'net', 'unix'));
    return `${st.dev}:${st.ino}`;
  };
  let pids: string[];
  const seen = new Set<string>();
  try {
    seen.add(tableOf('self'));
    pids = fs.readdirSync(proc).filter((n) => /^\d+$/.test(n)).slice(0, 4096);
  } catch {
    return [];
  }
  const mounts = mountTables(proc);
  for (const pid of pids) {
    if (seen.size > 256 || out.size >= BOUND_SOCKETS) break;
    let text: string;
    try {
      const ns = tableOf(pid);
      if (seen.has(ns)) continue;
      seen.add(ns);
      text = fs.readFileSync(path.join(proc, pid, 'net', 'unix'), 'utf8');
    } catch {
      continue; // gone, or not to be read
    }
    for (const line of text.split('\n')) {
      if (out.size >= BOUND_SOCKETS) break;
      const bound = /^\s*[0-9a-f]+:(?:\s+[0-9A-Fa-f]+){6} (\/.*)$/.exec(line)?.[1];
      if (!bound) continue;
      const host = hostPathOf(proc, pid, bound, mounts);
      if (host && !(project !== undefined && inside(realPath(host), project))) out.add(realPath(host));
    }
  }
  return [...out];
}

interface MountEntry { device: string; root: string; point: string }

/** The mount tables of the host (`self`) and of each process, each read once. */
function mountTables(proc: string): (pid: string) => MountEntry[] {
  const read = new Map<string, MountEntry[]>();
  return (pid) => {
    let t = read.get(pid);
    if (!t) read.set(pid, (t = mountEntries(path.join(proc, pid, 'mountinfo'))));
    return t;
  };
}

/**
 * The host's path of the socket file `bound` names as process `pid` sees it: the same name where
 * it is a socket on the host too, else the filesystem path of the process's mount it sits in, found
 * again among the host's mounts. Device and inode are checked where this user may look into the
 * process's root (`/proc/PID/root`); another user's process (a root-run container) is taken unchecked.
 */
function hostPathOf(proc: string, pid: string, bound: string, mounts: (pid: string) => MountEntry[]): string | undefined {
  let file: fs.Stats | undefined;
  try {
    file = fs.statSync(path.join(proc, pid, 'root', bound));
  } catch {
    /* not looked into: unchecked below */
  }
  const same = (p: string): boolean => {
    try {
      const st = fs.lstatSync(p);
      return st.isSocket() && (!file || (st.dev === file.dev && st.ino === file.ino));
    } catch {
      return false;
    }
  };
  if (same(bound)) return bound;
  if (file !== undefined && !file.isSocket()) return undefined;
  const m = mounts(pid).filter((e) => inside(bound, e.point)).sort((a, b) => b.point.length - a.point.length)[0];
  if (!m) return undefined;
  const within = path.join(m.root, path.relative(m.point, bound));
  for (const h of mounts('self').filter((e) => e.device === m.device && inside(within, e.root))) {
    const candidate = path.join(h.point, path.relative(h.root, within));
    if (same(candidate)) return candidate;
  }
  return undefined;
}

/** A mount table's entries (mountinfo: id parent major:minor root point …), at most 4096. */
function mountEntries(file: string): MountEntry[] {
  const unescape = (p: string): string => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(0, 4096).map((l) => l.split(' ')).filter((f) => f.length > 4)
      .map((f) => ({ device: f[2]!, root: unescape(f[3]!), point: unescape(f[4]!) }));
  } catch {
    return [];
  }
}

/**
 * The working directory as a project whose own sockets stay reachable (see boundSockets), or none
 * when it is no project's folder (twenty-ninth pass): the home folder or one above it (`airlock
 * run` started in ~ left every socket of the user's tools there reachable: an ssh ControlMaster's
 * under ~/.ansible/cp, a Jupyter kernel's, a keybase service's), the root, or a temp folder itself.
 */
export function projectFolder(cwd: string, homeDir: string): string | undefined {
  const real = realPath(cwd);
  if (real === path.parse(real).root || inside(realPath(homeDir), real)) return undefined;
  if ([os.tmpdir(), '/tmp', '/var/tmp'].some((t) => realPath(t) === real)) return undefined;
  return real;
}

function isSocket(p: string): boolean {
  try {
    return fs.lstatSync(p).isSocket();
  } catch {
    return false; // gone, or bound in another mount namespace (a container's)
  }
}

/**
 * A process holding each socket inode of `inodes`, among those this user may look into; at most
 * 4096 processes and 100,000 descriptors looked at.
 */
function socketOwners(inodes: Set<string>, proc: string): Map<string, string> {
  const found = new Map<string, string>();
  if (!inodes.size) return found;
  let pids: string[];
  try {
    pids = fs.readdirSync(proc).filter((n) => /^\d+$/.test(n)).slice(0, 4096);
  } catch {
    return found;
  }
  let budget = 100_000;
  for (const pid of pids) {
    if (found.size === inodes.size || budget <= 0) break;
    let fds: string[];
    try {
      fds = fs.readdirSync(path.join(proc, pid, 'fd'));
    } catch {
      continue; // another user's, or gone
    }
    for (const fd of fds) {
      if (--budget < 0) break;
      let link: string;
      try {
        link = fs.readlinkSync(path.join(proc, pid, 'fd', fd));
      } catch {
        continue;
      }
      const inode = link.startsWith('socket:[') ? link.slice(8, -1) : undefined;
      if (inode && inodes.has(inode) && !found.has(inode)) found.set(inode, pid);
    }
  }
  return found;
}

/** The user's name as programs put it in their socket folders' names (the environment's, the password database's). */
function userNames(env: NodeJS.ProcessEnv): string[] {
  let own: string | undefined;
  try {
    own = os.userInfo().username;
  } catch {
    /* no entry in the password database (a container's arbitrary uid) */
  }
  return [...new Set([env.USER, env.LOGNAME, own].filter((u): u is string => !!u && !u.includes('/') && u !== '.' && u !== '..'))];
}

/** Container and VM managers' sockets outside /run (see sessionSockets), relative to the root. */
const SYSTEM_ENGINE_SOCKETS = ['var/lib/lxd/unix.socket', 'var/snap/lxd/common/lxd/unix.socket', 'var/lib/incus/unix.socket', 'var/lib/incus/unix.socket.user', 'var/snap/multipass/common/multipass_socket'];

/**
 * `$XDG_RUNTIME_DIR` when it is a folder of its own to hide: not under /run (empty inside anyway),
 * and never the root, a temp folder itself, the home folder or one holding the working directory
 * (a runtime folder set to /tmp would otherwise hide the agent's work).
 */
export function runtimeFolder(dir: string | undefined, homeDir: string, cwd: string): string | undefined {
  if (!dir || !path.isAbsolute(dir) || !isDir(dir)) return undefined;
  const real = realPath(dir);
  if (inside(real, '/run') || real === path.parse(real).root) return undefined;
  if ([os.tmpdir(), '/tmp', homeDir].some((t) => realPath(t) === real) || inside(realPath(cwd), real)) return undefined;
  return real;
}

/**
 * The sockets `~/.ssh/config` names (IdentityAgent, ControlPath; top-level file only). A path with
 * `%` tokens (`/tmp/ssh-%r@%h:%p`) stands for every existing socket of that shape in its folder.
 */
export function sshConfigSockets(homeDir: string): string[] {
  const out: string[] = [];
  // With the files it includes (twenty-seventh pass: a container manager's own, outside ~/.ssh).
  for (const line of sshConfigFiles(homeDir).flatMap((f) => configLines(f))) {
    const m = /^\s*(identityagent|controlpath)(?:\s*=\s*|\s+)("[^"]*"|\S+)/i.exec(line);
    if (!m) continue;
    let value = m[2]!.replace(/^"|"$/g, '');
    if (/^(none|SSH_AUTH_SOCK)$/i.test(value) || value.startsWith('$')) continue;
    value = value.replace(/^~(?=\/)/, homeDir).replace(/%d/g, homeDir).replace(/%%/g, '%');
    if (!path.isAbsolute(value)) continue;
    if (!value.includes('%')) {
      out.push(value);
      continue;
    }
    // The folder must be fixed; the name becomes a pattern (each token any run of characters).
    const dir = path.dirname(value);
    if (dir.includes('%')) continue;
    // A glob matched by an automaton (lib/glob.ts), not a regular expression: `.*a.*b` backtracks.
    const shape = path.basename(value).split(/%[a-zA-Z]/).map((part) => part.replace(/[*?\\]/g, '\\$&')).join('*');
    try {
      for (const name of fs.readdirSync(dir).slice(0, 4096)) if (globMatch(shape, name)) out.push(path.join(dir, name));
    } catch {
      /* no such folder */
    }
  }
  return out.slice(0, 256);
}

/** The Unix sockets docker's contexts name (`<config>/contexts/meta/<id>/meta.json`). */
export function dockerContextSockets(configDir: string): string[] {
  const out: string[] = [];
  const meta = path.join(configDir, 'contexts', 'meta');
  let ids: string[];
  try {
    ids = fs.readdirSync(meta).slice(0, 64);
  } catch {
    return [];
  }
  for (const id of ids) {
    try {
      const doc = JSON.parse(fs.readFileSync(path.join(meta, id, 'meta.json'), 'utf8').slice(0, 64 * 1024)) as { Endpoints?: Record<string, { Host?: unknown }> };
      for (const e of Object.values(doc.Endpoints ?? {})) {
        if (typeof e?.Host === 'string' && e.Host.startsWith('unix://')) out.push(e.Host.slice('unix://'.length));
      }
    } catch {
      /* not a context */
    }
  }
  return out;
}

/** Socket names sessions leave in a temp folder (see sessionSockets). */
const TEMP_SESSION_SOCKETS = /^(?:ssh-[A-Za-z0-9]+|vscode-(?:ssh-auth|git|ipc|remote-containers-ipc)-.*\.sock|dbus-[A-Za-z0-9]+|\.s\.PGSQL\.\d+|mysqld?\.sock|redis[\w.-]*\.sock)$/;

function sessionSocketsIn(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  // Real sockets and folders only: a symlink an agent left in the temp folder under such a name
  // would aim the next run's hiding at a folder of its choice (its working directory).
  return names.filter((n) => TEMP_SESSION_SOCKETS.test(n)).slice(0, 256).map((n) => path.join(dir, n)).filter((p) => {
    try {
      const st = fs.lstatSync(p);
      return st.isSocket() || st.isDirectory();
    } catch {
      return false;
    }
  });
}

/**
 * Session folders a server of the user makes in the temp folder and its clients trust when they find
 * it (mode 0700, the user's): missing at the start of a run, the agent (with --allow-unix-sockets)
 * could make it and listen there, and the user's next `tmux` would talk to the agent's server, which
 * may tell the client to run any command (tmux's MSG_EXEC). Made (private) first, so they exist and
 * are hidden like the rest; tmux makes them the same way.
 */
export function sessionFoldersToMake(env: NodeJS.ProcessEnv): string[] {
  const uid = process.getuid?.() ?? 0;
  const tmp = [...new Set([os.tmpdir(), '/tmp', env.TMUX_TMPDIR].filter((d): d is string => !!d && path.isAbsolute(d)))];
  const out: string[] = [];
  for (const d of tmp) {
    const p = path.join(d, `tmux-${uid}`);
    try {
      fs.mkdirSync(p, { mode: 0o700 });
    } catch {
      /* there already (then sessionSockets hides it), or no temp folder */
    }
    try {
      // Only a real folder of ours: a symlink an agent left there would aim the hiding elsewhere.
      const st = fs.lstatSync(p);
      if (st.isDirectory() && st.uid === uid) out.push(p);
    } catch {
      /* no temp folder */
    }
  }
  return out;
}

/**
 * Caches of compiled code that tools keep in the temp folder, shared with the sandbox, and load
 * again as they find them: tsx's (`tsx-<uid>`: transpiled modules as JSON, keyed by a hash of the
 * source; it runs Airlock's sources where no bundle can be built, `bin/run-ts.js` and Airlock's own
 * tests), v8-compile-cache's and Node's own compile cache (V8 code caches), jiti's. An agent that
 * rewrote an entry had its code run by the next host process that loaded that module. Each is made
 * (private) when missing, so the agent cannot make it first, and hidden behind an empty folder: the
 * agent's own tools get a cache of their own.
 */
export function tempCodeCaches(tmp: string = os.tmpdir()): string[] {
  const uid = process.geteuid?.() ?? process.getuid?.();
  // Jest's default cacheDirectory is <tmp>/jest_<uid in base 36>: transformed test and source files
  // it runs as it finds them (ts-jest and babel-jest keep theirs there too).
  const names = [`tsx-${uid}`, `v8-compile-cache-${uid}`, 'node-compile-cache', 'jiti', uid === undefined ? 'jest' : `jest_${uid.toString(36)}`];
  const out: string[] = [];
  for (const dir of new Set([tmp, '/tmp'].map((d) => path.join(realPath(d), '')))) {
    for (const name of names) {
      const p = path.join(dir, name);
      try {
        fs.mkdirSync(p, { mode: 0o700 });
      } catch {
        /* there already */
      }
      try {
        // Only a real folder of ours: another user's is not ours to hide (nor the agent's to write).
        const st = fs.lstatSync(p);
        if (st.isDirectory() && st.uid === process.getuid?.()) out.push(p);
      } catch {
        /* cannot be made here (no temp folder): nothing to plant either */
      }
    }
  }
  return out;
}

/**
 * Code caches the environment moves (wherever they are): Node's compile cache (`NODE_COMPILE_CACHE`),
 * Python's bytecode (`PYTHONPYCACHEPREFIX`: a .pyc there is loaded in place of the source it names,
 * its recorded source size and time are the agent's to copy), numba's, v8-compile-cache's and jiti's. Made
 * (private) when missing, so the agent cannot make one first, and hidden like tempCodeCaches.
 */
export function envCodeCaches(env: NodeJS.ProcessEnv, cwd: string = process.cwd()): string[] {
  const temps = [os.tmpdir(), '/tmp'].map((t) => realPath(t));
  // Build caches whose objects end up in what the host builds (Go's, ccache's, sccache's): only
  // where they sit in a temp folder, which --read-only leaves writable; hidden elsewhere they would
  // cost the agent's builds a cold cache in memory for nothing the home folder does not give anyway.
  const inTemp = [env.GOCACHE, env.CCACHE_DIR, env.SCCACHE_DIR].filter((p) => p && path.isAbsolute(p) && temps.some((t) => inside(realPath(path.resolve(p)), t)));
  // NUMBA_CACHE_DIR (nineteenth pass): numba loads its index there with pickle.load.
  const named = [env.NODE_COMPILE_CACHE, env.PYTHONPYCACHEPREFIX, env.NUMBA_CACHE_DIR, env.V8_COMPILE_CACHE_CACHE_DIR, env.JITI_CACHE, env.JITI_FS_CACHE, ...inTemp];
  const out: string[] = [];
  for (const p of named) {
    if (!p || !path.isAbsolute(p)) continue; // jiti's also take "true"/"false"
    const dir = path.resolve(p);
    // Never a folder holding the working directory, nor the root or a temp folder itself.
    if (inside(realPath(cwd), realPath(dir)) || dir === path.parse(dir).root || [os.tmpdir(), '/tmp'].some((t) => realPath(t) === realPath(dir))) continue;
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch {
      /* cannot be made: nothing to plant either */
    }
    if (isDir(dir)) out.push(realPath(dir));
  }
  return out;
}

/**
 * The folders above `paths` (outer first) whose parent the agent could write, so could rename them:
 * writable by this user on the host, or, read-only (`writable` given), inside a writable folder.
 */
export function renamableAncestors(paths: string[], writable?: string[], systemWritable?: string[]): string[] {
  const out = new Set<string>();
  for (const p of paths) {
    if (!fs.existsSync(p)) continue;
    const chain: string[] = [];
    for (let a = path.dirname(p); a !== path.dirname(a); a = path.dirname(a)) chain.unshift(a);
    for (const a of chain) {
      const parent = path.dirname(a);
      // Run by root with the system read-only: a system folder is a mount point (never renamed), and
      // what is inside one is renamed only in the writable paths there.
      const readOnlySystem = systemWritable !== undefined && SYSTEM_FOLDERS.some((f) => inside(a, f)) && !systemWritable.some((w) => inside(parent, w));
      const renamable = writable ? writable.some((w) => inside(parent, w)) : canWrite(parent) && !readOnlySystem;
      if (renamable) out.add(a);
    }
  }
  return [...out].sort((x, y) => x.split(path.sep).length - y.split(path.sep).length);
}

/**
 * Mount points of kernel-interface filesystems outside /proc, /sys and /dev (which the sandbox
 * replaces or binds read-only): procfs's sysctls and sysfs take file permissions only, so a root
 * agent would write the host's kernel settings through a chroot's /proc or a second sysfs.
 */
export function kernelMounts(mountinfo?: string): string[] {
  return mountPoints((type) => KERNEL_FS.has(type), mountinfo);
}

/** Mount points of procfs outside /proc (a chroot's, a build root's): hidden inside (see bwrapArgs). */
export function procMounts(mountinfo?: string): string[] {
  return mountPoints((type) => type === 'proc', mountinfo);
}

/**
 * Mount points of network filesystems and FUSE mounts (twenty-third pass): NFS, SMB/CIFS, Ceph,
 * AFS, automount points, … and sshfs, rclone's cloud drives, s3fs, gcsfuse, davfs, a keybase or encrypted vault.
 * Each is a way out of the sandbox that never meets Airlock: what the agent writes there goes to
 * the server (a cloud drive, a production host over sshfs), what it reads comes from it, whatever
 * the policy says; an unlocked vault holds what the user keeps secret. Hidden, but never one
 * holding a path of `keep` (the working directory, the home folder: a home on NFS is where the
 * project lives; the Node and the Airlock the sandbox runs, the command named by its path), nor the
 * read-only program images snaps and AppImages mount. One mounted after the run started never
 * reaches the sandbox where privatePropagation can be had.
 */
export function remoteMounts(keep: string[], mountinfo?: string): string[] {
  // Not looked at (no stat): a hard NFS mount whose server is gone blocks whoever looks.
  const points = mountPoints((type) => REMOTE_FS.has(type) || (/^fuse(?:$|\.)/.test(type) && !LOCAL_FUSE.has(type)), mountinfo, false)
    // AppImage's runtime mounts its program image at <tmp>/.mount_<name>… as `fuse.<name>`.
    .filter((p) => !keep.some((k) => inside(k, p)) && !path.basename(p).startsWith('.mount_'));
  const covered: string[] = [];
  for (const p of points) {
    // One inside another already covered is hidden with it; one in a folder this user cannot enter
    // (another user's sshfs under their 0700 home) the agent cannot reach either, and the sandbox
    // could not make its mount point there: `airlock run` failed as a user, for a mount not theirs.
    // Its parent is looked at, never the mount itself.
    if (covered.some((c) => inside(c, p)) || !reachable(path.dirname(p))) continue;
    covered.push(p);
  }
  return covered;
}

/** Whether this process may enter `dir` (search permission on it and every folder above); refused only for want of permission. */
function reachable(dir: string): boolean {
  try {
    fs.accessSync(dir, fs.constants.X_OK);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'EACCES';
  }
}

/** Mount points outside /proc, /sys and /dev whose filesystem type `wanted` takes, shallowest first. */
function mountPoints(wanted: (type: string) => boolean, mountinfo?: string, existing = true): string[] {
  let text = mountinfo;
  if (text === undefined) {
    try {
      text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
    } catch {
      return [];
    }
  }
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    const dash = f.indexOf('-');
    if (dash < 0 || !wanted(f[dash + 1] ?? '')) continue;
    const point = f[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (['/proc', '/sys', '/dev'].some((d) => point === d || point.startsWith(`${d}/`))) continue;
    out.add(point);
  }
  return [...out].filter((p) => !existing || fs.existsSync(p)).sort((a, b) => a.split('/').length - b.split('/').length);
}

// autofs (twenty-fourth pass): an automount point (`/net`'s hosts map, a systemd `.automount` of a
// share) has the host's daemon resolve and mount whatever name the agent looks up under it, a DNS
// name of its choosing included, whether or not the mount then reaches the sandbox.
const REMOTE_FS = new Set(['autofs', 'nfs', 'nfs4', 'cifs', 'smb3', 'smbfs', 'ceph', 'glusterfs', 'afs', 'lustre', 'beegfs', 'gpfs', 'orangefs', 'ncpfs', 'coda', 'davfs', 'pvfs2', 'moosefs']);
/** FUSE filesystems that are local program images or the kernel's own views (lxcfs under /proc, /sys). */
const LOCAL_FUSE = new Set(['fuse.snapfuse', 'fuse.squashfuse', 'fuse.AppImage', 'fuse.lxcfs', 'fuse-overlayfs', 'fuse.fuse-overlayfs', 'fuse.portal', 'fuse.gvfsd-fuse', 'fusectl']);

const KERNEL_FS = new Set(['proc', 'sysfs', 'securityfs', 'debugfs', 'tracefs', 'configfs', 'bpf', 'efivarfs', 'binfmt_misc', 'cgroup', 'cgroup2', 'fusectl', 'pstore', 'mqueue', 'hugetlbfs', 'devtmpfs']);

function canWrite(dir: string): boolean {
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export async function launchAgent(o: LaunchOptions): Promise<AgentExit> {
  // Real paths: a state folder reached through a symlink must be hidden where it really is.
  const cwd = realPath(path.resolve(o.cwd ?? process.cwd()));
  const home = realPath(path.resolve(o.home));
  if (o.sandbox && inside(cwd, home)) {
    throw new LaunchError(`the working directory ${cwd} is inside the state folder ${home}, which the sandbox hides; run from elsewhere`);
  }
  // The run folder holds what the agent's programs load (the Node preload named by NODE_OPTIONS,
  // the CA, Java's trust store). It lives in the state folder, which every sandbox of this Airlock
  // hides: in the temp folder another run's sandboxed agent (same user, the host's filesystem)
  // could rewrite it, and a --no-sandbox run's Node would load that code outside any sandbox.
  const runsDir = path.join(home, 'runs');
  fs.mkdirSync(runsDir, { recursive: true, mode: 0o700 });
  // The git airlock run reads the repository with after the run: found and pinned now, before the
  // agent can put one of its own early on PATH (hostProgram, twenty-seventh pass).
  hostProgram('git');
  // Only here: run folders older versions left in the temp folder stay. A tree there is the agent's
  // to shape (same user), and removing one recursively from the host would walk whatever folder or
  // symlink it swaps in meanwhile (rm -rf's race), outside any --read-only confinement.
  sweepStaleRunDirs(runsDir);
  const runDir = fs.mkdtempSync(path.join(runsDir, 'airlock-run-'));
  fs.chmodSync(runDir, 0o700);
  fs.writeFileSync(path.join(runDir, 'pid'), String(process.pid));
  const files = writeRunFiles(runDir, o.javaTrustStore);
  const seen = (file: string | undefined): string | undefined => (file && o.sandbox ? `${SANDBOX_RUN_DIR}/${path.basename(file)}` : file);
  let relay: Relay | undefined;
  const listeners: Array<{ close(): Promise<void> }> = [];
  let filterFd: number | undefined;
  const handlers = new Map<NodeJS.Signals, () => void>();
  const cleanups: Array<() => Promise<void> | void> = [];
  const watched = new Map<string, { id: string | undefined; kind: 'hidden' | 'protected' | 'cache' }>();
  const listedAt = Date.now();
  try {
    let child: ChildProcess;
    let deliver: (sig: NodeJS.Signals) => void;
    let status: Promise<AgentExit | undefined> = Promise.resolve(undefined);
    if (o.sandbox) {
      fs.copyFileSync(o.caCert, path.join(runDir, 'ca.pem'));
      fs.chmodSync(path.join(runDir, 'ca.pem'), 0o644);
      const filterFile = path.join(runDir, 'seccomp.bpf');
      fs.writeFileSync(filterFile, seccompProgram({ allowUnixSockets: o.sandbox.allowUnixSockets }));
      filterFd = fs.openSync(filterFile, 'r');
      const env = agentEnv(o.baseEnv ?? process.env, {
        agent: o.agent, token: o.token, proxyHost: '127.0.0.1', proxyPort: SANDBOX_PROXY_PORT,
        caCert: `${SANDBOX_RUN_DIR}/ca.pem`, placeholders: o.placeholders, sandboxed: true,
        realValues: o.realValues, onReplaced: o.onReplaced, onCredentials: o.onCredentials, nodePreload: seen(files.preload), javaTrustStore: seen(files.trustStore),
      });
      // Hidden and protected under every path that reaches them: a bind mount of the state folder,
      // or of a folder above it, elsewhere is the same folder under another name (mount-aliases.ts).
      const caches = [...tempCodeCaches(), ...envCodeCaches(o.baseEnv ?? process.env, cwd), ...(o.sandbox.allowUnixSockets ? sessionFoldersToMake(o.baseEnv ?? process.env) : [])];
      const sockets = o.sandbox.allowUnixSockets ? sessionSockets(o.baseEnv ?? process.env, os.homedir(), cwd) : [];
      // Not watched for replacement after the run: services come and go (see boundSockets).
      const bound = new Set(o.sandbox.allowUnixSockets ? [...boundSockets(realPath(cwd), '/proc/net/unix', '/proc', o.userHome ?? os.homedir()), ...foreignSockets(realPath(cwd), o.userHome ?? os.homedir())].filter((p) => !sockets.includes(p)) : []);
      const hide = [...new Set(withMountAliases([home, ...(o.hide ?? []).map((p) => realPath(path.resolve(p))), ...caches, ...sockets, ...bound]))].filter((p) => p !== home);
      const protect = withMountAliases((o.protect ?? []).map((p) => realPath(path.resolve(p))));
      // The home folder's package caches (run later by the host's installs and builds): the agent's own.
      const privateCaches = packageCaches(o.userHome ?? os.homedir(), o.baseEnv ?? process.env, cwd, [os.tmpdir(), '/tmp'])
        .filter((c) => !hide.some((h) => inside(c.path, h) || inside(h, c.path)) && !protect.some((q) => inside(q, c.path) || inside(c.path, q)))
        // Under every path a bind mount gives the cache too (mount-aliases.ts).
        .flatMap((c) => withMountAliases([c.path]).map((p): [string, string] => [privateCacheFolder(home, o.agent, c.name), p]));
      for (const [, p] of privateCaches) watched.set(p, { id: pathIdentity(p), kind: 'cache' });
      const cacheSet = new Set(caches.map((c) => realPath(c)));
      for (const p of hide) if (!bound.has(p)) watched.set(p, { id: pathIdentity(p), kind: cacheSet.has(p) ? 'cache' : 'hidden' });
      for (const p of protect) if (!watched.has(p)) watched.set(p, { id: pathIdentity(p), kind: 'protected' });
      // fd 3: the IPC channel to inside.mjs; fd 4: the seccomp program for bubblewrap.
      // detached: bwrap gets its own session too, so a terminal's Ctrl-C reaches only this process
      // (which forwards it) instead of killing bwrap and, with it, the sandbox.
      const writable = o.sandbox.readOnly ? [cwd, os.tmpdir(), ...o.sandbox.readOnly.writable.map((p) => path.resolve(p))] : undefined;
      const systemWritable = o.sandbox.systemReadOnly ? [cwd, os.tmpdir(), '/var/tmp', ...o.sandbox.systemReadOnly.writable.map((p) => path.resolve(p))] : undefined;
      const modes = [0, 1, 2].map(stdioMode);
      const refused = stdioRefusal(modes);
      if (refused) throw new LaunchError(refused);
      const stdio = modes.map((m) => (m === 'relay' ? 'pipe' : 'inherit')) as Array<'pipe' | 'inherit'>;
      const devices = process.getuid?.() === 0 ? privateDevices(home) : [];
      // The working directory's .env and the like holding a real value: a copy with placeholders.
      const masked: Array<[string, string]> = [];
      const withValues = [...workSecretFiles(cwd, o.realValues ?? [], o.userHome ?? os.homedir()), ...homeSecretValueFiles(o.userHome ?? os.homedir(), o.realValues ?? [])];
      // A file hidden anyway, or inside a hidden folder (a config holding another credential too; a
      // planted `.env` symlink into ~/.config/gh), stays hidden: the copy would show what else it holds.
      // A hidden file (a history, a credential store) with other names (hard links an earlier run
      // left): hidden under each found in the working directory, the home folder and (twenty-fourth
      // pass) the temp folders every sandbox shares (a name elsewhere is warned of by airlock run,
      // as before; seventeenth pass).
      const linkedHidden = hide.filter((p) => {
        try {
          const st = fs.lstatSync(p);
          // A host socket too (twenty-ninth pass): a second name of it reaches the same service.
          return (st.isFile() || st.isSocket()) && st.nlink > 1;
        } catch {
          return false;
        }
      });
      if (linkedHidden.length) for (const names of otherNames(linkedHidden, [cwd, o.userHome ?? os.homedir(), os.tmpdir(), '/tmp'].map((r) => realPath(r))).names.values()) hide.push(...withMountAliases(names));
      const hiddenAlready = (p: string): boolean => hide.some((h) => inside(realPath(p), h));
      const valued = [...new Map(withValues.map((f) => [f.path, f])).values()].filter((f) => !hiddenAlready(f.path));
      // Each other name (hard link) of such a file shows what the file holds: replaced too, and the
      // run refused when a name is nowhere airlock run looks (seventeenth pass).
      const linked = otherNames(valued.map((f) => f.path), [cwd, o.userHome ?? os.homedir(), os.tmpdir(), '/tmp'].map((r) => realPath(r)));
      for (const [file, n] of linked.missing) {
        const f = valued.find((v) => v.path === file)!;
        throw new LaunchError(`${file} holds the real value of secret ${f.secrets.join(', ')} and has ${n} more name${n === 1 ? '' : 's'} (hard link${n === 1 ? '' : 's'}) outside the working directory, the home folder and the temp folder, through which the agent would read it; remove ${n === 1 ? 'that link' : 'those links'} (find / -xdev -samefile ${JSON.stringify(file)}) and run again`);
      }
      // The repository's objects keep what a copy cannot cover: every version of a .env committed,
      // stashed or staged once, which git show reads inside (eighteenth pass). Refused: nothing can
      // take a blob out of a pack file for one run.
      const history = historySecrets(cwd, o.realValues ?? []);
      if (history.secrets.length) {
        throw new LaunchError(`the git repository's history here holds the real value of secret ${history.secrets.join(', ')} (a file such as .env committed, stashed or staged once): the agent would read it with git show or git log -p. Rotate the secret (a value in a repository's history is as good as published), give Airlock the new one (airlock secret set), and run again`);
      }
      if (!history.complete) o.onHistoryUnchecked?.();
      for (const [i, f] of valued.entries()) {
        o.onMasked?.(f.path, f.secrets, f.text === undefined);
        // And under every path a bind mount gives it (mount-aliases.ts), as hidden files are.
        const names = withMountAliases([f.path, ...(linked.names.get(f.path) ?? [])]);
        if (f.text === undefined) {
          hide.push(...names);
        } else {
          const copy = path.join(runDir, `masked-${i}`);
          fs.writeFileSync(copy, f.text, { mode: 0o600 });
          for (const p of names) masked.push([copy, p]);
        }
        for (const p of names) watched.set(p, { id: pathIdentity(p), kind: 'hidden' });
      }
      const args = bwrapArgs({ ...(o.sandbox.nested !== false ? { bwrap: o.sandbox.bwrap } : {}), userNamespace: o.sandbox.userNamespace, home, runDir, cwd, hide, protect, command: o.command, seccompFd: 4, writable, ...(systemWritable ? { systemWritable } : {}), devices, masked, privateCaches,
        mounts: remoteMounts([cwd, realPath(o.userHome ?? os.homedir()), realPath(process.execPath), realPath(insideScript), ...(o.sandbox.bwrap ? [realPath(o.sandbox.bwrap)] : []),
          ...(path.isAbsolute(o.command[0] ?? '') ? [realPath(o.command[0]!)] : [])]) });
      // Run by root, RLIMIT_NPROC binds nothing: a pids cgroup does, joined by bubblewrap before it
      // starts anything (a shell writes its own pid, then execs bubblewrap).
      const tasks = process.getuid?.() === 0 ? taskCgroup(SANDBOX_TASKS) : undefined;
      if (tasks) cleanups.push(() => removeTaskCgroup(tasks.dir));
      // In a mount namespace of its own, private: the host's later mounts stay out (privatePropagation).
      const command = [...privatePropagation(), o.sandbox.bwrap, ...args];
      const sandboxed = spawn(tasks ? '/bin/sh' : command[0]!, tasks ? ['-c', 'echo $$ 2>/dev/null > "$0" || echo "airlock: warning: could not join the run\'s pids cgroup $0; the agent\'s processes are bounded by the machine\'s limit only" >&2; exec "$@"', tasks.procs, ...command] : command.slice(1), {
        env, cwd, stdio: [...stdio, 'ipc', filterFd], detached: true, serialization: 'json',
      });
      if (stdio.includes('pipe')) relayStdio(sandboxed, stdio, cleanups);
      child = sandboxed;
      const proxySocket = o.proxySocket;
      status = new Promise((resolve) => {
        sandboxed.on('message', (msg: { type?: string; port?: number; code?: unknown; signal?: unknown }, handle: unknown) => {
          if (msg?.type === 'listener' && handle instanceof net.Server && listeners.length === 0) {
            // The sandbox's listening socket, accepted on here: connections go to Airlock only.
            listeners.push(relayConnections(handle, proxySocket));
          } else if (handle) {
            // One listener is handed over, before the command starts; anything else is not ours.
            const h = handle as { destroy?: () => void; close?: () => void };
            if (typeof h.destroy === 'function') h.destroy();
            else if (typeof h.close === 'function') h.close();
          } else if (msg?.type === 'exit') {
            resolve({ code: typeof msg.code === 'number' ? msg.code : null, signal: typeof msg.signal === 'string' ? (msg.signal as NodeJS.Signals) : null });
          }
        });
        // The channel closes after the last message was read: no report by then means none comes.
        sandboxed.on('disconnect', () => resolve(undefined));
        sandboxed.on('error', () => resolve(undefined));
      });
      deliver = (sig) => {
        if (sandboxed.connected) sandboxed.send({ type: 'signal', signal: sig });
      };
    } else {
      relay = await startRelay({ host: '127.0.0.1' }, o.proxySocket);
      const port = (relay.listening as { port: number }).port;
      const env = agentEnv(o.baseEnv ?? process.env, {
        agent: o.agent, token: o.token, proxyHost: '127.0.0.1', proxyPort: port,
        caCert: o.caCert, placeholders: o.placeholders, sandboxed: false,
        realValues: o.realValues, onReplaced: o.onReplaced, onCredentials: o.onCredentials, nodePreload: files.preload, javaTrustStore: files.trustStore,
      });
      child = spawn(o.command[0]!, o.command.slice(1), { env, cwd, stdio: 'inherit' });
      deliver = (sig) => {
        child.kill(sig);
      };
    }

    for (const sig of forwarded) {
      const h = (): void => {
        // Unsandboxed, the agent shares our process group: a terminal's Ctrl-C, Ctrl-\\ and resize
        // already reached it. The sandbox has its own session, so there every signal is forwarded.
        if (!o.sandbox && (sig === 'SIGINT' || sig === 'SIGQUIT' || sig === 'SIGWINCH') && process.stdin.isTTY) return;
        deliver(sig);
      };
      handlers.set(sig, h);
      process.on(sig, h);
    }

    const exited = new Promise<AgentExit>((resolve) => {
      // As a shell answers: 127 for a command that is not there, 126 for one that cannot be run.
      child.once('error', (err: NodeJS.ErrnoException) => {
        const found = err.code !== 'ENOENT';
        const why = found ? (err.code === 'EACCES' ? 'permission denied (not an executable file)' : err.message) : 'command not found';
        process.stderr.write(`airlock: cannot start ${o.sandbox ? 'bubblewrap' : o.command[0]}: ${why}\n`);
        resolve({ code: found ? 126 : 127, signal: null });
      });
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    const outer = await exited;
    // The sandbox's own report says how the command ended; bwrap's status is the fallback.
    return (await status) ?? outer;
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
    for (const c of cleanups) await c();
    // What airlock run prints from here on (the files the agent changed that run later, paths
    // replaced during the run) must reach the user's eyes: set back what the agent left the
    // terminal in (twenty-fifth pass).
    resetTerminalForReport();
    await relay?.close();
    await Promise.all(listeners.map((l) => l.close()));
    if (filterFd !== undefined) fs.closeSync(filterFd);
    fs.rmSync(runDir, { recursive: true, force: true });
    replacedPaths(watched, listedAt, o.onPathReplaced);
  }
}

/** The device nodes bubblewrap's --dev binds from the host (but /dev/console, the terminal's). */
export const DEV_NODES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'];

/**
 * Run by root, the agent is the owner of the host's device nodes bubblewrap binds into its /dev
 * (no capability needed to chmod what one owns, and bubblewrap cannot bind a device read-only: its
 * read-only binds are nodev): `chmod 000 /dev/null` there broke every program on the machine. So
 * the sandbox gets nodes of Airlock's own, bound over the host's: made once with the system's
 * mknod(1) in the state folder (hidden from every sandbox), the same numbers as the host's, and set
 * back to the host's modes and owners at each run's start (a few system calls; mknod costs an exec,
 * which is paid only the first time). Runs of one state folder at the same time share them. Where
 * they cannot be made or opened (a state folder on a `nodev` mount, no mknod) the list is empty and
 * the host's stay, as before.
 */
export function privateDevices(home: string): string[] {
  const dir = path.join(home, 'devices');
  const made: string[] = [];
  try {
    fs.mkdirSync(dir, { mode: 0o755, recursive: true });
    for (const name of DEV_NODES) {
      const host = fs.statSync(path.join('/dev', name));
      if (!host.isCharacterDevice()) return [];
      const p = path.join(dir, name);
      let st: fs.Stats | undefined;
      try {
        st = fs.lstatSync(p);
      } catch {
        /* not made yet */
      }
      if (!st || !st.isCharacterDevice() || st.rdev !== host.rdev) {
        // The system's mknod, never one on PATH (a folder the agent may have written: this runs as root).
        const mknod = ['/usr/bin/mknod', '/bin/mknod'].find((m) => fs.existsSync(m));
        if (!mknod) return [];
        const major = Number(((BigInt(host.rdev) >> 8n) & 0xfffn) | ((BigInt(host.rdev) >> 32n) & ~0xfffn));
        const minor = Number((BigInt(host.rdev) & 0xffn) | ((BigInt(host.rdev) >> 12n) & ~0xffn));
        fs.rmSync(p, { force: true, recursive: true });
        execFileSync(mknod, ['-m', '600', p, 'c', String(major), String(minor)], { stdio: 'ignore', timeout: 5000 });
      }
      fs.chownSync(p, host.uid, host.gid);
      fs.chmodSync(p, host.mode & 0o7777);
      made.push(p);
    }
    // A node on a nodev mount cannot be opened: the host's are kept then.
    fs.closeSync(fs.openSync(path.join(dir, 'null'), 'r+'));
    return made;
  } catch {
    return [];
  }
}

/**
 * What a path is now: device, inode, type and birth time (undefined when missing). Writes to it
 * change none of these; a new file or folder in its place does (the birth time also when a removed
 * one's inode number is used again, as ext4 does at once).
 */
function pathIdentity(p: string): string | undefined {
  try {
    const st = fs.lstatSync(p);
    return `${st.dev}:${st.ino}:${st.mode & fs.constants.S_IFMT}|${st.birthtimeMs}`;
  } catch {
    return undefined;
  }
}

/** Whether two identities are of different files: another inode, or the same number born again. */
function replacedIdentity(then: string, now: string): boolean {
  const [thenFile, thenBirth] = then.split('|');
  const [nowFile, nowBirth] = now.split('|');
  return thenFile !== nowFile || (thenBirth !== nowBirth && realBirthTimes());
}

let birthTimesChecked: boolean | undefined;

/**
 * Whether this system reports birth times. Where statx is refused (older kernels, some container
 * sandboxes) libuv falls back to stat and reports the change time as the birth time: every write
 * into a hidden folder (another Airlock's state folder in use, a cache the host's npm fills) read
 * as a new folder in its place, named as replaced and, for a cache, set aside. Asked once, only
 * when a birth time moved: a file changed well after it was made has an older birth time.
 */
function realBirthTimes(): boolean {
  if (birthTimesChecked !== undefined) return birthTimesChecked;
  let dir: string | undefined;
  try {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-btime-'));
    const probe = path.join(dir, 'probe');
    fs.writeFileSync(probe, '');
    // Past the file system's coarse clock tick (a few milliseconds), so that the change time moves.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30);
    fs.chmodSync(probe, 0o600);
    const st = fs.statSync(probe);
    birthTimesChecked = st.birthtimeMs !== st.ctimeMs;
  } catch {
    birthTimesChecked = false;
  } finally {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
  return birthTimesChecked;
}

/**
 * Whether `p` is the mount point bubblewrap made on the host because what was there vanished
 * between the listing and its start (nineteenth pass): the sandbox's root is the host's, so
 * bubblewrap made an empty read-only file there, which outlived the run — a history or ticket cache
 * the user's tools could no longer write. Removed when it is that: an empty file without write
 * permission, made since the listing, the user's. A name only, never followed.
 */
function mountPointLeft(p: string, listedAt: number): boolean {
  try {
    const st = fs.lstatSync(p);
    if (Math.max(st.birthtimeMs, st.ctimeMs) < listedAt || st.uid !== process.getuid?.()) return false;
    // Not an empty folder: one the host made in its place looks the same, and an empty folder
    // blocks no tool.
    if (!st.isFile() || st.size !== 0 || (st.mode & 0o222) !== 0) return false;
    fs.unlinkSync(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * The sandbox hides and protects by mounting over a path, and a mount sits on the directory entry:
 * when a program outside replaces that entry during the run (a rename over it, as editors, `git
 * config`, git's credential store, fish, zsh and readline save their files; a removal and a new
 * one, as `jest --clearCache` and temp cleaners do), the kernel takes the mount away in every
 * namespace, and the agent sees the new file or folder as it is on the host: a secret it can read,
 * a file it can change, a cache folder it can fill. Nothing inside can stop that; after the run each
 * such path is named, and a code cache is set aside (renamed, which follows no link the agent may
 * have put there) so that the next program on the host makes a new one instead of loading the
 * agent's code.
 */
function replacedPaths(watched: Map<string, { id: string | undefined; kind: 'hidden' | 'protected' | 'cache' }>, listedAt: number, report?: LaunchOptions['onPathReplaced']): void {
  for (const [p, { id, kind }] of watched) {
    if (id === undefined) continue;
    const now = pathIdentity(p);
    // Gone is not replaced: there is nothing new to read, change or load.
    if (now === undefined || !replacedIdentity(id, now)) continue;
    if (mountPointLeft(p, listedAt)) continue;

    if (kind === 'cache') {
      const aside = `${p}.airlock-replaced-${process.pid}-${Date.now()}`;
      try {
        fs.renameSync(p, aside);
        report?.(p, kind, aside);
        continue;
      } catch {
        /* named below */
      }
    }
    report?.(p, kind);
  }
}

/**
 * Copies between this process's socket stdio (TCP; see stdioMode) and the pipes the sandbox got
 * instead. Output is drained before the run ends; stdin stops being read.
 */
function relayStdio(child: ChildProcess, stdio: Array<'pipe' | 'inherit'>, cleanups: Array<() => Promise<void> | void>): void {
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  if (stdio[0] === 'pipe') {
    child.stdin!.on('error', () => {});
    process.stdin.on('error', () => child.stdin!.end()).pipe(child.stdin!);
    cleanups.push(() => {
      process.stdin.unpipe();
      process.stdin.destroy();
    });
  }
  for (const fd of [1, 2] as const) {
    if (stdio[fd] !== 'pipe') continue;
    const out = fd === 1 ? process.stdout : process.stderr;
    out.on('error', () => {});
    child.stdio[fd]!.pipe(out, { end: false });
  }
  // The pipes close when every process of the sandbox is gone; what they held is written by then.
  cleanups.push(() => Promise.race([closed, new Promise<void>((r) => setTimeout(r, 2000).unref())]));
}

/**
 * Removes run folders left by an `airlock run` that was killed (SIGKILL gives no chance to clean
 * up): ours by owner and name, with a pid file naming a process that no longer exists.
 */
export function sweepStaleRunDirs(dir: string): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    if (!/^airlock-run-[A-Za-z0-9]{6}$/.test(name)) continue;
    const full = path.join(dir, name);
    try {
      const st = fs.lstatSync(full);
      if (!st.isDirectory() || st.uid !== process.getuid?.()) continue;
      const pid = Number(fs.readFileSync(path.join(full, 'pid'), 'utf8'));
      if (!Number.isInteger(pid) || pid <= 0 || isAlive(pid)) continue;
      fs.rmSync(full, { recursive: true, force: true });
    } catch {
      /* not ours, or being created right now: leave it */
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** At most this many bytes are read from a terminal's input queue after the run (see discardTerminalInput). */
const TERMINAL_QUEUE = 1 << 16;
/** How long discardTerminalInput waits, in all, for the terminal's answer to its own question. */
const TERMINAL_FENCE_MS = 1000;

/**
 * After the run (twenty-fifth pass), throws away what waits in the input queue of each terminal
 * among descriptors 0–2: what the agent left there reaches the next reader, the user's shell. The
 * agent cannot push input itself (TIOCSTI is refused), but it can make the terminal type: it
 * prints a request the terminal answers on its input (a window title report `CSI 21 t` answering
 * with a title the agent set, DECRQSS, an OSC colour or font query, a DSR), ending with a newline
 * or a title of its choosing, and exits before reading the answer; the shell then reads, and runs,
 * the answer as a line the user typed. Read in non-canonical mode, so an answer with no newline
 * (left to prefix the user's next line) goes too. Not done when `airlock run` is in the background
 * of that terminal (reading it would stop this process). The price: what the user typed ahead
 * while the agent was ending is thrown away too. Answers still on their way (a terminal far away
 * over a slow link) are caught by a question of its own whose answer comes after them
 * (waited for at most a second: a terminal that never answers, a harness's pseudo-terminal, costs
 * that second at the end of the run). Returns the bytes thrown away.
 */
export function discardTerminalInput(fds: number[] = [0, 1, 2], fenceMs = TERMINAL_FENCE_MS, env: NodeJS.ProcessEnv = process.env): number {
  let thrown = 0;
  const seen = new Set<number>();
  // A terminal answers in the order it was asked: the answer to a question of ours (DSR, the
  // cursor's place, which every VT100-like terminal answers) comes after every answer to the
  // agent's. Waited for (at most fenceMs in all), so an answer still on its way over a slow link
  // (ssh from far away) is thrown away too. Not asked of a dumb terminal.
  const fence = fenceMs > 0 && env.TERM !== 'dumb';
  const deadline = Date.now() + fenceMs;
  for (const fd of fds) {
    if (!tty.isatty(fd)) continue;
    let rdev: number;
    try {
      rdev = fs.fstatSync(fd).rdev;
    } catch {
      continue;
    }
    if (seen.has(rdev)) continue;
    seen.add(rdev);
    if (inBackgroundOf(fd)) continue;
    let own: number | undefined;
    let stream: tty.ReadStream | undefined;
    try {
      const flags = fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY;
      let writable = true;
      try {
        own = fs.openSync(`/proc/self/fd/${fd}`, fs.constants.O_RDWR | flags);
      } catch {
        own = fs.openSync(`/proc/self/fd/${fd}`, fs.constants.O_RDONLY | flags);
        writable = false;
      }
      stream = new tty.ReadStream(own);
      stream.setRawMode(true);
      const buf = Buffer.alloc(4096);
      let read = 0;
      let tail = '';
      const drain = (): void => {
        while (read < TERMINAL_QUEUE) {
          let n: number;
          try {
            n = fs.readSync(own!, buf, 0, buf.length, null);
          } catch {
            return; // EAGAIN: nothing (more) waiting
          }
          if (n <= 0) return;
          read += n;
          thrown += n;
          tail = (tail + buf.toString('latin1', 0, n)).slice(-64);
        }
      };
      drain();
      if (fence && writable && Date.now() < deadline) {
        tail = '';
        fs.writeSync(own, '\x1b[6n');
        const nap = new Int32Array(new SharedArrayBuffer(4));
        // The answer: ESC [ row ; column R.
        while (!/\x1b\[\d+;\d+R/.test(tail) && read < TERMINAL_QUEUE && Date.now() < deadline) {
          Atomics.wait(nap, 0, 0, 5);
          drain();
        }
      }
    } catch {
      /* not readable (or writable) here: nothing (more) to throw away */
    } finally {
      try {
        if (stream?.isRaw) stream.setRawMode(false);
      } catch {
        /* the terminal went away */
      }
      if (stream) stream.destroy();
      else if (own !== undefined) fs.closeSync(own);
    }
  }
  return thrown;
}

/**
 * Ends whatever the agent left the terminal in that would hide what airlock run prints after the
 * run (twenty-fifth pass): the report of the files it changed that run later is the review the
 * sandbox relies on, and the agent writes to the same terminal first. Left open, an OSC (a window
 * title: `ESC ] 0;`), DCS, APC, PM or SOS string swallows every later byte into a title or nothing
 * until its end; a half-written escape eats the report's first characters; SGR conceal or the
 * same colour on both grounds hides it; the DEC line-drawing set (`ESC ( 0`, or `ESC ) 0` and SO)
 * turns its letters to line pieces; a scroll region with origin mode, insert mode, a hidden
 * cursor, no autowrap, palette and default colours the agent redefined (OSC 4, 10, 11) do their
 * part; local echo (SRM reset: a terminal that allows it shows the next password typed), mouse
 * and focus reports outlive the run. CAN aborts any sequence in progress and ST ends any string
 * (harmless in the ground state); the rest set each mode back to its default. Nothing moves the cursor or clears the screen: the
 * agent's last output stays as it was. Written only to a terminal (stderr: where the report goes).
 */
export const TERMINAL_RESET = '\x18\x1b\\' // CAN, ST
  + '\x1b[0m' // SGR: attributes and colours
  + '\x1b(B\x1b)B\x0f' // G0 and G1 ASCII, shifted in
  + '\x1b[r\x1b[?6l\x1b[4l\x1b[?25h\x1b[?7h' // scroll region, origin mode, insert mode, cursor shown, autowrap
  // No local echo (SRM set: reset, a terminal that allows it shows what you type, your next
  // password too), no mouse or focus reports typed into your shell, synchronized output ended.
  + '\x1b[12h\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1005l\x1b[?1006l\x1b[?1015l\x1b[?1004l\x1b[?2026l'
  + '\x1b]104\x1b\\\x1b]110\x1b\\\x1b]111\x1b\\'; // palette, default foreground and background

/**
 * Whether terminal `fd` is this process's controlling terminal and another process group is its
 * foreground (`airlock run … &`): a read, a settings change or (with `tostop`) a write would stop
 * this process. Unknown (no /proc) counts as background.
 */
function inBackgroundOf(fd: number): boolean {
  try {
    // pid (comm) state ppid pgrp session tty_nr tpgid …: after the last ')'.
    const s = fs.readFileSync('/proc/self/stat', 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // tty_nr and a terminal's rdev encode its numbers alike.
    return fs.fstatSync(fd).rdev === Number(f[4]) && Number(f[5]) !== Number(f[2]);
  } catch {
    return true;
  }
}

/** Writes TERMINAL_RESET to stderr when it is a terminal (see there) of which airlock run is not in the background. */
export function resetTerminalForReport(fd = 2): void {
  if (!tty.isatty(fd) || inBackgroundOf(fd)) return;
  try {
    fs.writeSync(fd, TERMINAL_RESET);
  } catch {
    /* a terminal gone (hung up): nothing to reset */
  }
}
