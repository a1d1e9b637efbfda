// The first process inside an Airlock sandbox (plain JavaScript so it starts without a loader).
//
//   node inside.mjs --listen PORT [--listen PORT ...] -- COMMAND [ARGS...]
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
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { spawn } from 'node:child_process';

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
let i = 0;
for (; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--') {
    i++;
    break;
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
child = spawn(command[0], command.slice(1), { stdio: 'inherit' });

// Signals aimed at this process are for the command.
for (const sig of ['SIGTERM', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2']) process.on(sig, () => child.kill(sig));

process.on('message', (msg) => {
  if (msg && msg.type === 'signal' && typeof msg.signal === 'string' && /^SIG[A-Z0-9]+$/.test(msg.signal)) {
    try {
      child.kill(msg.signal);
    } catch {
      /* unknown signal name: ignore */
    }
  }
});

// As a shell answers: 127 for a command that is not there, 126 for one that cannot be run.
child.on('error', (err) => {
  const found = err.code !== 'ENOENT';
  const why = found ? (err.code === 'EACCES' ? 'permission denied (not an executable file)' : err.message) : 'command not found';
  process.stderr.write(`airlock sandbox: cannot start ${command[0]}: ${why}\n`);
  finish(found ? 126 : 127, null);
});
child.on('exit', (code, signal) => finish(code, signal));

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

let finished = false;
function finish(code, signal) {
  if (finished) return;
  finished = true;
  const exit = () => process.exit(signal ? 128 + (os.constants.signals[signal] ?? 0) : (code ?? 1));
  if (process.connected) process.send({ type: 'exit', code, signal }, () => exit());
  else exit();
}
