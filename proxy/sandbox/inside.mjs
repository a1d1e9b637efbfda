// The first process inside an Airlock sandbox (plain JavaScript so it starts without a loader).
// It is the agent's only way out: it listens on the sandbox's own loopback and forwards each TCP
// connection to Airlock's proxy through a Unix socket bind-mounted into the sandbox, then runs
// the agent's command as its child and reports how it ended.
//
//   node inside.mjs --relay PORT=SOCKET [--relay ...] -- COMMAND [ARGS...]
//
// Each --relay is one loopback port forwarded to one Unix socket. Today there is one (the HTTP
// proxy); a policy-checked TCP relay (e.g. Postgres) is another --relay to another Airlock socket.
//
// fd 3, when present, is a control channel to `airlock run` outside: it sends signal names to
// deliver to the command (one per line); this process answers one JSON line {code, signal} when
// the command ends. When the channel closes (airlock run died), the command is killed.
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import { spawn } from 'node:child_process';

const argv = process.argv.slice(2);
const relays = [];
let i = 0;
for (; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--') {
    i++;
    break;
  }
  if (a === '--relay' && argv[i + 1]) {
    const spec = argv[++i];
    const eq = spec.indexOf('=');
    const port = Number(spec.slice(0, eq));
    if (eq < 0 || !Number.isInteger(port) || port <= 0 || port > 65535) fail(`bad --relay ${spec}`);
    relays.push({ port, socket: spec.slice(eq + 1) });
    continue;
  }
  fail(`unknown argument ${a}`);
}
const command = argv.slice(i);
if (command.length === 0) fail('no command');

function fail(msg) {
  process.stderr.write(`airlock sandbox: ${msg}\n`);
  process.exit(125);
}

/** Forwards one accepted connection to the Unix socket; either side closing closes both. */
function forward(client, socketPath) {
  const upstream = net.connect(socketPath);
  const done = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', done).on('close', done);
  upstream.on('error', done).on('close', done);
  client.pipe(upstream);
  upstream.pipe(client);
}

const servers = await Promise.all(
  relays.map(
    (r) =>
      new Promise((resolve) => {
        const server = net.createServer((c) => forward(c, r.socket));
        server.once('error', (err) => fail(`cannot listen on 127.0.0.1:${r.port}: ${err.message}`));
        server.listen(r.port, '127.0.0.1', () => resolve(server));
      }),
  ),
);

let control;
try {
  fs.fstatSync(3);
  control = new net.Socket({ fd: 3, readable: true, writable: true });
} catch {
  control = undefined;
}

// The command inherits stdin/stdout/stderr only (libuv does not pass fd 3 on), stays in our
// process group so a terminal's Ctrl-C reaches it directly, and gets our environment.
const child = spawn(command[0], command.slice(1), { stdio: 'inherit' });

// Signals aimed at this process are for the command; a terminal's SIGINT already reached it.
for (const sig of ['SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2']) process.on(sig, () => child.kill(sig));
for (const sig of ['SIGINT', 'SIGQUIT']) process.on(sig, () => {});

if (control) {
  let buf = '';
  control.setEncoding('utf8');
  control.on('data', (chunk) => {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const sig = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (/^SIG[A-Z0-9]+$/.test(sig)) {
        try {
          child.kill(sig);
        } catch {
          /* unknown signal name: ignore */
        }
      }
    }
  });
  // airlock run is gone: nobody can report or revoke for us, so the agent stops now.
  control.on('close', () => child.kill('SIGKILL'));
  control.on('error', () => child.kill('SIGKILL'));
}

child.on('error', (err) => {
  process.stderr.write(`airlock sandbox: cannot start ${command[0]}: ${err.message}\n`);
  finish(127, null);
});
child.on('exit', (code, signal) => finish(code, signal));

let finished = false;
function finish(code, signal) {
  if (finished) return;
  finished = true;
  for (const s of servers) s.close();
  const status = JSON.stringify({ code, signal }) + '\n';
  const exit = () => process.exit(signal ? 128 + (signalNumber(signal) ?? 0) : (code ?? 1));
  if (control && control.writable) control.end(status, exit);
  else exit();
}

function signalNumber(name) {
  return os.constants.signals[name];
}
