// A small world for `airlock run` tests: a real Airlock (startAirlock, test policy in
// test/sandbox/fixtures/policy), an HTTP and an HTTPS upstream on 127.0.0.1 that record what
// reaches them, a tiny DNS server on 127.0.0.1 that records every query, and a helper that runs
// the real CLI (`node bin/airlock.js run ...`) as a child process.
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import dns from 'node:dns';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAirlock, type Airlock } from '../../runtime/airlock.ts';
import { startDns } from '../dns-server.ts';
import { upstreamCert } from '../upstream-cert.ts';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const airlockBin = path.join(repo, 'bin', 'airlock.js');
export const policyDir = path.join(repo, 'test', 'sandbox', 'fixtures', 'policy');

export interface Hit {
  method: string;
  url: string;
  host: string;
  headers: http.IncomingHttpHeaders;
}

export interface World {
  /** Temporary root: holds home/, work/ and scratch files; removed on close. */
  dir: string;
  home: string;
  /** Working directory for runs (outside the state folder, which the sandbox hides). */
  work: string;
  agent: string;
  airlock: Airlock;
  http: { port: number; hits: Hit[] };
  https: { port: number; hits: Hit[] };
  /** A second HTTPS upstream (other.test): allowed by the policy, but no credential is bound to it. */
  other: { port: number; hits: Hit[] };
  dns: { port: number; queries: string[] };
  close(): Promise<void>;
}

function recordingHandler(hits: Hit[]): http.RequestListener {
  return (req, res) => {
    hits.push({ method: req.method ?? '', url: req.url ?? '', host: req.headers.host ?? '', headers: req.headers });
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'text/plain');
      // Echoes the credential it received, so tests can see what the agent would read back.
      res.end(`upstream saw ${req.method} ${req.url} authorization=${req.headers.authorization ?? '-'}\n`);
    });
  };
}

function listen(server: net.Server | dgram.Socket): Promise<number> {
  return new Promise((resolve) => {
    if (server instanceof dgram.Socket) server.bind(0, '127.0.0.1', () => resolve(server.address().port));
    else server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
}

/** Names the DNS server answers (with 127.0.0.1); everything else gets NXDOMAIN. */
const dnsAnswers = new Set(['dns-allowed.test']);

export async function startWorld(opts: { before?: (home: string) => Promise<void> } = {}): Promise<World> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-test-world-'));
  const home = path.join(dir, 'home');
  const work = path.join(dir, 'work');
  fs.mkdirSync(work);
  // The HTTPS upstream's certificate, trusted by Airlock through upstreamCa.
  const upstream = upstreamCert(dir, ['allowed.test', 'denied.test', 'creds.test', 'other.test']);

  const httpHits: Hit[] = [];
  const httpsHits: Hit[] = [];
  const queries: string[] = [];
  const httpServer = http.createServer(recordingHandler(httpHits));
  const otherHits: Hit[] = [];
  const tlsFiles = { key: upstream.key, cert: upstream.cert };
  const httpsServer = https.createServer(tlsFiles, recordingHandler(httpsHits));
  const otherServer = https.createServer(tlsFiles, recordingHandler(otherHits));
  const dnsServer = startDns((name) => (dnsAnswers.has(name) ? 'address' : 'nxdomain'), queries);
  const [httpPort, httpsPort, otherPort, dnsPort] = await Promise.all([listen(httpServer), listen(httpsServer), listen(otherServer), listen(dnsServer)]);
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  await opts.before?.(home);

  const airlock = await startAirlock({
    home,
    policy: policyDir,
    proxy: '127.0.0.1:0',
    studio: false,
    threads: 1,
    allowPrivate: ['127.0.0.1/32'],
    upstreamCa: [upstream.certFile],
    resolve: ['allowed.test=127.0.0.1', 'denied.test=127.0.0.1', 'creds.test=127.0.0.1', 'other.test=127.0.0.1'],
  });
  // Names Airlock does not pin are resolved through the test DNS server, so the tests can see
  // which names the proxy looked up. (The guard's lookup is a constructor option that
  // startAirlock does not expose yet; set the instance field.)
  const resolver = new dns.promises.Resolver({ timeout: 1000, tries: 1 });
  resolver.setServers([`127.0.0.1:${dnsPort}`]);
  (airlock.guard as unknown as { lookup: (h: string) => Promise<string[]> }).lookup = (h) => resolver.resolve4(h);
  await airlock.agents.add('bot');

  return {
    dir, home, work, agent: 'bot', airlock,
    http: { port: httpPort, hits: httpHits },
    https: { port: httpsPort, hits: httpsHits },
    other: { port: otherPort, hits: otherHits },
    dns: { port: dnsPort, queries },
    async close() {
      await airlock.close();
      httpServer.closeAllConnections();
      httpsServer.closeAllConnections();
      otherServer.closeAllConnections();
      await Promise.all([
        new Promise((r) => httpServer.close(r)),
        new Promise((r) => httpsServer.close(r)),
        new Promise((r) => otherServer.close(r)),
        new Promise((r) => dnsServer.close(() => r(undefined))),
      ]);
      // A run's last writes (its token revoked, its planted-file report) may still land in the
      // folder for a moment on a loaded machine: try again for a few seconds, then leave it in /tmp.
      for (let i = 0; ; i++) {
        try {
          fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10 });
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOTEMPTY' || i >= 5) {
            console.error(`# left behind ${dir}: ${(err as Error).message}`);
            break;
          }
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    },
  };
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `airlock run ARGS` as a real process; killed after timeoutMs (a bound, not an assertion). */
export function runAirlock(
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; onSpawn?: (child: ChildProcess) => void; /** Node binary to run the CLI with. */ node?: string },
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(opts.node ?? process.execPath, [airlockBin, 'run', ...args], {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    opts.onSpawn?.(child);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** `name=value` lines printed by a probe script, as an object. */
export function results(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const m = /^([a-z_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** Processes (any namespace) whose command line contains `marker` (and, if given, run `program`). */
export function processesWith(marker: string, program?: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (!argv.includes(marker)) continue;
      if (program && path.basename(argv.split('\0')[0] ?? '') !== program) continue;
      found.push(Number(entry));
    } catch {
      /* exited meanwhile */
    }
  }
  return found;
}

/** Waits (bounded) until `check` is true; returns whether it became true. */
export async function eventually(check: () => boolean, { tries = 400, everyMs = 50 } = {}): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return check();
}

/**
 * python3, run as the agent: finds the sandbox's bridge (inside.mjs, the same user, holding the
 * Node IPC channel to `airlock run` on the host) and tries every way to take it over: ptrace,
 * pidfd_getfd of each descriptor the bridge has (property over its fd numbers and 0–63),
 * /proc/PID/mem, /proc/PID/fd/N, /proc/PID/environ. A descriptor it gets that is a socket is used
 * as the channel: a forged `exit` message with code 77 (the agent itself exits 0). Prints
 * `bridges=`, `ptrace=`, `getfd=`, `mem=`, `fdlink=`, `environ=`, `forged=` lines.
 */
export const bridgeProbe = `
import ctypes, os, socket, stat
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
mark = ('inside' + '.mjs').encode()
me = os.getpid()
bridges = []
for e in os.listdir('/proc'):
    if not e.isdigit() or int(e) == me:
        continue
    try:
        if mark in open('/proc/%s/cmdline' % e, 'rb').read():
            bridges.append(int(e))
    except OSError:
        pass
print('bridges=%d' % len(bridges))
err = lambda: os.strerror(ctypes.get_errno())
got, links, forged = [], [], []
for pid in bridges:
    if libc.ptrace(16, pid, 0, 0) == 0:
        print('ptrace=attached')
        libc.ptrace(17, pid, 0, 0)
    else:
        print('ptrace=' + err())
    try:
        numbers = sorted(set(int(n) for n in os.listdir('/proc/%d/fd' % pid)) | set(range(64)))
    except OSError:
        numbers = list(range(64))
    pfd = libc.syscall(434, pid, 0)
    if pfd < 0:
        print('pidfd_open=' + err())
    for n in numbers:
        if pfd >= 0:
            fd = libc.syscall(438, pfd, n, 0)
            if fd >= 0:
                got.append(n)
                if stat.S_ISSOCK(os.fstat(fd).st_mode):
                    try:
                        socket.socket(fileno=fd).sendall(b'{"type":"exit","code":77,"signal":null}\\n')
                        forged.append(n)
                    except OSError:
                        pass
        try:
            os.close(os.open('/proc/%d/fd/%d' % (pid, n), os.O_RDONLY))
            links.append(n)
        except OSError:
            pass
    try:
        open('/proc/%d/mem' % pid, 'r+b').close()
        print('mem=opened')
    except OSError as e:
        print('mem=' + e.strerror)
    try:
        open('/proc/%d/environ' % pid, 'rb').read()
        print('environ=read')
    except OSError as e:
        print('environ=' + e.strerror)
print('getfd=' + ','.join(map(str, got)))
print('fdlink=' + ','.join(map(str, links)))
print('forged=' + ','.join(map(str, forged)))
`;
