// The first process inside an Airlock sandbox (plain JavaScript so it starts without a loader).
//
//   node inside.mjs [--bwrap PATH] --listen PORT [--listen PORT ...] -- COMMAND [ARGS...]
//
// It opens each listening port on the sandbox's own loopback (the namespace's 127.0.0.1) and hands
// the listening socket to `airlock run` outside over the Node IPC channel it inherited; airlock run
// accepts the agent's connections on it and forwards them to Airlock's proxy. So nothing inside
// needs a Unix socket (the seccomp filter forbids creating one), and the only way out is a socket
// the agent can reach only by connecting to 127.0.0.1:PORT. Today there is one port (the HTTP
// proxy); a policy-checked TCP relay (e.g. Postgres) is one more --listen that airlock run routes
// to another Airlock socket.
//
// Then it runs the command as its child and reports how it ended. Messages on the channel:
//   out: {type:'listener', port} + server handle; {type:'exit', code, signal}
//   in:  {type:'signal', signal}: deliver to the command
// When the channel closes (airlock run died), the command is killed.
//
// The command runs in a user namespace of its own, nested below this process's (bubblewrap again,
// --unshare-user, nothing else changed): this process runs as the same user, so otherwise the agent
// could ptrace it, take its descriptors with pidfd_getfd or write /proc/PID/mem, and so hold the
// channel to airlock run on the host. The kernel lets a process trace or inspect another only from
// the same user namespace or with CAP_SYS_PTRACE over the other's; the agent has neither.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { spawn } from 'node:child_process';

/** The command's nice value and its limit of processes and threads (see where they are set). */
const AGENT_NICE = 10;
const MAX_TASKS = 8192;

function fail(msg) {
  process.stderr.write(`airlock sandbox: ${msg}\n`);
  process.exit(125);
}

if (typeof process.send !== 'function') fail('no channel to airlock run (this script is started by airlock run)');

// airlock run is gone: nobody can relay, report or revoke for us, so the agent stops now. Set up
// first: airlock run may die while the listeners are still being handed over.
let child;
process.on('disconnect', () => {
  if (child) child.kill('SIGKILL');
  else process.exit(125);
});

const argv = process.argv.slice(2);
const ports = [];
let bwrap;
let i = 0;
for (; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--') {
    i++;
    break;
  }
  if (a === '--bwrap' && argv[i + 1]) {
    bwrap = argv[++i];
    continue;
  }
  if (a === '--listen' && argv[i + 1]) {
    const port = Number(argv[++i]);
    if (!Number.isInteger(port) || port <= 0 || port > 65535) fail(`bad --listen ${argv[i]}`);
    ports.push(port);
    continue;
  }
  fail(`unknown argument ${a}`);
}
const command = argv.slice(i);
if (command.length === 0) fail('no command');

for (const port of ports) {
  const server = net.createServer();
  await new Promise((resolve) => {
    server.once('error', (err) => fail(`cannot listen on 127.0.0.1:${port}: ${err.message}`));
    server.listen(port, '127.0.0.1', resolve);
  });
  // Hand the listening socket over; once sent, our copy is closed so only airlock run accepts.
  const sent = await new Promise((resolve) => process.send({ type: 'listener', port }, server, (err) => resolve(!err)));
  if (!sent) process.exit(125);
  server.close();
}

// The command inherits stdin/stdout/stderr only (libuv marks the channel close-on-exec, and Node
// removed NODE_CHANNEL_FD from our environment), and gets our environment. Descriptors leaked by
// whatever started `airlock run` (fd >= 3 without close-on-exec: a connected socket, a file the
// sandbox hides, a pipe) came through bubblewrap to us: closed here, the last step before exec.
if (!process.connected) process.exit(125);
closeInheritedDescriptors(new Set([process.channel?.fd].filter((fd) => Number.isInteger(fd))));
// The sandbox shares the host's memory (no cgroup of its own): an agent that fills it (a runaway
// build, a prompt-injected allocation loop) would have the kernel's OOM killer choose among every
// process on the machine, Airlock's and the user's session included. The command and all it starts
// are its first choice instead (1000: killed before any process left at the default 0). Raising
// one's own score needs no privilege; the command may lower it again only to where it was.
try {
  fs.writeFileSync('/proc/self/oom_score_adj', '1000');
} catch {
  /* no /proc: the command starts as before */
}
// Nor a cgroup for CPU and processes. CPU: the command and all it starts run at nice 10 (the
// priority is inherited, and lowering it again needs CAP_SYS_NICE over the host's namespace, which
// no one inside has), so a busy loop yields to Airlock and the user's session. Processes: a fork
// bomb grew until the user's own limit (tens of thousands, shared with every process of theirs:
// the user's shell, editor and Airlock could then start nothing). The command gets a limit of its
// own (RLIMIT_NPROC, soft and hard), set by a shell inside its user namespace: the kernel counts a
// namespace's processes apart from the user's others, and raising the hard limit needs
// CAP_SYS_RESOURCE over the host's namespace. (The kernel exempts the host's root from it: run
// by root, airlock run puts the sandbox in a pids cgroup instead, sandbox/task-cgroup.ts.)
try {
  os.setPriority(AGENT_NICE);
} catch {
  /* not allowed here: as before */
}
// And no real-time scheduling: where the user's limits allow it (audio setups give `rtprio 95`),
// a SCHED_FIFO busy loop would starve every other process of a core, nice or not (RLIMIT_RTPRIO
// 0; RLIMIT_NICE 0 too where the shell can set it: bash, not dash).
const limited = ['/bin/sh', '-c', `ulimit -r 0 2>/dev/null; ulimit -e 0 2>/dev/null; ulimit -u ${MAX_TASKS} 2>/dev/null || ulimit -p ${MAX_TASKS}; exec "$@"`, 'sh', ...command];

let commandPid;
let exited = false;
const pending = [];
let finished = false;

// As a shell answers: 127 for a command that is not there, 126 for one that cannot be run. Checked
// here because bubblewrap answers 1 for both.
const unrunnable = checkRunnable(command[0]);
if (unrunnable) {
  process.stderr.write(`airlock sandbox: cannot start ${command[0]}: ${unrunnable.why}\n`);
  finish(unrunnable.code, null);
} else if (!bwrap) {
  // No --bwrap: this machine cannot nest a user namespace (airlock run warned); the command is our
  // child in our namespace.
  child = spawn(limited[0], limited.slice(1), { stdio: 'inherit' });
  commandPid = child.pid;
  child.on('error', (err) => {
    process.stderr.write(`airlock sandbox: cannot start ${command[0]}: ${err.message}\n`);
    finish(126, null);
  });
  child.on('exit', (code, signal) => {
    exited = true;
    finish(code, signal);
  });
} else {
  // fd 3: bubblewrap's --info-fd, which names the command's pid (signals go to it, not to bwrap,
  // whose death would SIGKILL the command through --die-with-parent). bubblewrap closes it before
  // the command starts.
  // The flags are support.ts's nestedFlags() (the probe starts the same), plus the info fd.
  const nested = ['--unshare-user', '--die-with-parent', '--cap-drop', 'ALL', '--dev-bind', '/', '/', '--chdir', process.cwd(), '--info-fd', '3', '--', ...limited];
  child = spawn(bwrap, nested, { stdio: ['inherit', 'inherit', 'inherit', 'pipe'] });
  let info = '';
  child.stdio[3].setEncoding('utf8');
  child.stdio[3].on('data', (c) => {
    if (info.length < 4096) info += c;
    const pid = Number(/"child-pid"\s*:\s*(\d+)/.exec(info)?.[1]);
    if (Number.isInteger(pid) && pid > 0 && commandPid === undefined) {
      commandPid = pid;
      for (const sig of pending.splice(0)) deliver(sig);
    }
  });
  child.stdio[3].on('error', () => {});
  child.on('error', (err) => {
    process.stderr.write(`airlock sandbox: cannot start bubblewrap (${bwrap}): ${err.message}\n`);
    finish(126, null);
  });
  // bubblewrap exits with the command's code, or 128+N when signal N ended it.
  child.on('exit', (code, signal) => {
    exited = true;
    if (signal) return finish(null, signal);
    const name = code > 128 ? signalName(code - 128) : undefined;
    finish(name ? null : code, name ?? null);
  });
}

function deliver(sig) {
  if (exited) return;
  if (commandPid === undefined) {
    if (pending.length < 16) pending.push(sig);
    return;
  }
  try {
    process.kill(commandPid, sig);
  } catch {
    /* gone already, or an unknown signal name */
  }
}

function signalName(n) {
  return Object.entries(os.constants.signals).find(([, v]) => v === n)?.[0];
}

/** Why `file` (a command name, looked up on PATH as execvp does, or a path) cannot be run, if so. */
function checkRunnable(file) {
  const candidates = file.includes('/') ? [file] : (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':').map((d) => `${d || '.'}/${file}`);
  let denied = false;
  for (const c of candidates) {
    let st;
    try {
      st = fs.statSync(c);
    } catch {
      continue;
    }
    try {
      fs.accessSync(c, fs.constants.X_OK);
      if (st.isFile()) return undefined;
      denied = true;
    } catch {
      denied = true;
    }
  }
  return denied ? { code: 126, why: 'permission denied (not an executable file)' } : { code: 127, why: 'command not found' };
}

// Signals aimed at this process are for the command.
for (const sig of ['SIGTERM', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2']) process.on(sig, () => deliver(sig));

process.on('message', (msg) => {
  if (msg && msg.type === 'signal' && typeof msg.signal === 'string' && /^SIG[A-Z0-9]+$/.test(msg.signal) && msg.signal in os.constants.signals) deliver(msg.signal);
});

/**
 * Closes every descriptor >= 3 that would survive exec (no close-on-exec flag), except `keep`.
 * Node's and libuv's own descriptors are all close-on-exec, so what this closes is exactly what was
 * inherited. /proc/self/fdinfo/N reports O_CLOEXEC (02000000) in `flags` for close-on-exec ones.
 * Fails closed: without /proc the command is not started.
 */
function closeInheritedDescriptors(keep) {
  let names;
  try {
    names = fs.readdirSync('/proc/self/fd');
  } catch (err) {
    fail(`cannot list inherited descriptors (${err.code ?? err.message}); refusing to start the command`);
  }
  for (const name of names) {
    const fd = Number(name);
    if (!Number.isInteger(fd) || fd < 3 || keep.has(fd)) continue;
    let flags;
    try {
      flags = /^flags:\s*([0-7]+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
    } catch {
      continue; // the directory's own descriptor, closed once listed
    }
    if (flags !== undefined && (parseInt(flags, 8) & 0o2000000) !== 0) continue;
    try {
      fs.closeSync(fd);
    } catch {
      /* already gone */
    }
  }
}

function finish(code, signal) {
  if (finished) return;
  finished = true;
  const exit = () => process.exit(signal ? 128 + (os.constants.signals[signal] ?? 0) : (code ?? 1));
  if (process.connected) process.send({ type: 'exit', code, signal }, () => exit());
  else exit();
}
