// Benchmark of the proxy (a script, not a test): requests/s and p50/p99 latency
//   - plain HTTP, keep-alive, 1 KiB and 64 KiB responses, 50 concurrent connections:
//     direct to the upstream vs through Airlock vs through tinyproxy (a peer forward proxy);
//   - HTTPS with interception through Airlock, keep-alive and a new connection per request,
//     vs HTTPS direct.
// The upstream and Airlock (`airlock start`, the real product with its built-in enforcers) run in
// their own processes; the load generator (undici, bounded by duration and request count) here.
//
//   node bin/run-ts.js bench/proxy/proxy.ts [--duration SECONDS] [--json FILE] [--profile DIR]
// --profile writes a V8 CPU profile of the Airlock process to DIR (open it in Chrome DevTools) and
// prints its top functions (bench/lib/profile.ts; start-up included: `npm run bench -- --profile`
// profiles the load phase alone, with the default policy).
import { execFileSync } from 'node:child_process';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client, Pool, ProxyAgent, type Dispatcher } from 'undici';
import type { SourceMapPayload } from 'node:module';
import { pathToFileURL } from 'node:url';
import { AgentStore } from '../../state/agents.ts';
import { profileTables, summarize } from '../lib/profile.ts';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const args = process.argv.slice(2);
const argOf = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const durationMs = Number(argOf('--duration') ?? 5) * 1000;
const jsonOut = argOf('--json');
const maxRequests = 2_000_000;

interface Result {
  name: string;
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
}

// ─── processes ─────────────────────────────────────────────────────────────────────────────────

const children: ChildProcess[] = [];
function spawnChild(cmd: string, argv: string[]): ChildProcess {
  const c = spawn(cmd, argv, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(c);
  return c;
}
function cleanup(): void {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
}
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

function waitForLine(c: ChildProcess, re: RegExp, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}: ${err.slice(-500)}`)), timeoutMs);
    c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    c.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const line = buf.split('\n').find((l) => re.test(l));
      if (line) {
        clearTimeout(timer);
        resolve(line);
      }
    });
    c.once('exit', (code) => reject(new Error(`process exited (${code}) before ${re}: ${err.slice(-500)}`)));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

async function waitForPort(port: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); r(true); });
      s.once('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} did not open`);
}

// ─── load generation ───────────────────────────────────────────────────────────────────────────

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Closed loop: `concurrency` workers each send the next request when the previous one finished. */
async function load(name: string, concurrency: number, once: () => Promise<void>, ms = durationMs): Promise<Result> {
  // Warm-up: connections, TLS sessions, JIT — not measured.
  await Promise.all(Array.from({ length: concurrency }, () => once().catch(() => undefined)));
  const lat = new Float64Array(maxRequests);
  let n = 0;
  let errors = 0;
  const t0 = performance.now();
  const end = t0 + ms;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end && n < maxRequests) {
      const s = performance.now();
      try {
        await once();
        lat[n++] = performance.now() - s;
      } catch (err) {
        errors++;
        if (errors > 1000) throw new Error(`${name}: too many errors (${(err as Error).message})`);
      }
    }
  }));
  const elapsed = performance.now() - t0;
  const sorted = lat.subarray(0, n).sort();
  const r: Result = { name, requests: n, errors, rps: Math.round((n / elapsed) * 1000), p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)) };
  process.stdout.write(`${name.padEnd(44)} ${String(r.rps).padStart(7)} req/s  p50 ${r.p50.toFixed(3).padStart(7)} ms  p99 ${r.p99.toFixed(3).padStart(7)} ms  (${n} requests, ${errors} errors)\n`);
  return r;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

async function consume(res: Dispatcher.ResponseData): Promise<void> {
  if (res.statusCode !== 200) {
    const text = await res.body.text();
    throw new Error(`status ${res.statusCode}: ${text.slice(0, 200)}`);
  }
  for await (const _ of res.body) { /* drain */ }
}

// ─── main ──────────────────────────────────────────────────────────────────────────────────────

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-bench-proxy-'));
process.on('exit', () => {
  try {
    fs.rmSync(tmp, { recursive: true, force: true });
  } catch {
    /* a child may still be writing; the OS cleans /tmp */
  }
});
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(tmp, 'up-key.pem'), '-out', path.join(tmp, 'up.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
const upstreamCa = fs.readFileSync(path.join(tmp, 'up.pem'), 'utf8');

const up = spawnChild(process.execPath, ['bin/run-ts.js', 'bench/proxy/upstream.ts', path.join(tmp, 'up-key.pem'), path.join(tmp, 'up.pem')]);
const ports = JSON.parse(await waitForLine(up, /^\{"http"/)) as { http: number; https: number };

const home = path.join(tmp, 'home');
const store = await AgentStore.open(home);
const { token } = await store.add('bench');
const airlockPort = await freePort();
const profileDir = argOf('--profile');
const profileFlags = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir)}`, '--import', pathToFileURL(path.join(root, 'bench/lib/source-maps-at-exit.mjs')).href] : [];
if (profileDir) Object.assign(process.env, { AIRLOCK_BENCH_SOURCE_MAPS: path.resolve(profileDir, 'source-maps.json'), AIRLOCK_BENCH_ROOT: root });
const airlock = spawnChild(process.execPath, [...profileFlags, 'bin/airlock.js', 'start', '--home', home, '--policy', 'bench/proxy/policy', '--proxy', `127.0.0.1:${airlockPort}`, '--no-studio', '--allow-private', '127.0.0.1', '--upstream-ca', path.join(tmp, 'up.pem'), '--quiet']);
await waitForLine(airlock, /proxy on/);
const airlockCa = fs.readFileSync(path.join(home, 'ca.pem'), 'utf8');
const proxyAuth = `Basic ${Buffer.from(`bench:${token}`).toString('base64')}`;

let tinyPort: number | undefined;
if (fs.existsSync('/usr/bin/tinyproxy')) {
  tinyPort = await freePort();
  const conf = path.join(tmp, 'tinyproxy.conf');
  fs.writeFileSync(conf, [`Port ${tinyPort}`, 'Listen 127.0.0.1', 'Timeout 60', 'MaxClients 2000', 'LogLevel Critical', `PidFile "${path.join(tmp, 'tinyproxy.pid')}"`, 'DisableViaHeader Yes', ''].join('\n'));
  spawnChild('/usr/bin/tinyproxy', ['-d', '-c', conf]);
  await waitForPort(tinyPort);
}

const bare = spawnChild(process.execPath, ['bin/run-ts.js', 'bench/lib/bare-relay.ts']);
const barePort = (JSON.parse(await waitForLine(bare, /^\{"port"/)) as { port: number }).port;

process.stdout.write(`bench/proxy: ${durationMs / 1000}s per scenario, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), node ${process.version}\n\n`);
const results: Record<string, Result> = {};
const conc = 50;

{
  // Added latency, measured without queueing: one connection, one request at a time.
  const url = `http://127.0.0.1:${ports.http}/1k`;
  const direct = new Pool(`http://127.0.0.1:${ports.http}`, { connections: 1, pipelining: 1 });
  results['direct-serial'] = await load('HTTP 1k keep-alive, 1 connection, direct', 1, async () => consume(await direct.request({ path: '/1k', method: 'GET' })));
  await direct.close();
  const via = new Pool(`http://127.0.0.1:${airlockPort}`, { connections: 1, pipelining: 1 });
  results['airlock-serial'] = await load('HTTP 1k keep-alive, 1 connection, Airlock', 1, async () => consume(await via.request({ path: url, method: 'GET', headers: { 'proxy-authorization': proxyAuth } })));
  await via.close();
}

for (const size of ['1k', '64k']) {
  const url = `http://127.0.0.1:${ports.http}/${size}`;
  const direct = new Pool(`http://127.0.0.1:${ports.http}`, { connections: conc, pipelining: 1 });
  results[`direct-${size}`] = await load(`HTTP ${size} keep-alive, direct`, conc, async () => consume(await direct.request({ path: `/${size}`, method: 'GET' })));
  await direct.close();

  const viaAirlock = new Pool(`http://127.0.0.1:${airlockPort}`, { connections: conc, pipelining: 1 });
  results[`airlock-${size}`] = await load(`HTTP ${size} keep-alive, through Airlock`, conc, async () => consume(await viaAirlock.request({ path: url, method: 'GET', headers: { 'proxy-authorization': proxyAuth } })));
  await viaAirlock.close();

  const viaBare = new Pool(`http://127.0.0.1:${barePort}`, { connections: conc, pipelining: 1 });
  results[`bare-${size}`] = await load(`HTTP ${size} keep-alive, through bare Node proxy`, conc, async () => consume(await viaBare.request({ path: url, method: 'GET' })));
  await viaBare.close();

  if (tinyPort) {
    const viaTiny = new Pool(`http://127.0.0.1:${tinyPort}`, { connections: conc, pipelining: 1 });
    results[`tinyproxy-${size}`] = await load(`HTTP ${size} keep-alive, through tinyproxy`, conc, async () => consume(await viaTiny.request({ path: url, method: 'GET' })));
    await viaTiny.close();
  }
}

{
  const origin = `https://localhost:${ports.https}`;
  const direct = new Pool(origin, { connections: conc, pipelining: 1, connect: { ca: upstreamCa, servername: 'localhost', host: '127.0.0.1' } as never });
  results['https-direct'] = await load('HTTPS 1k keep-alive, direct', conc, async () => consume(await direct.request({ path: '/1k', method: 'GET' })));
  await direct.close();

  const agent = new ProxyAgent({ uri: `http://127.0.0.1:${airlockPort}`, token: proxyAuth, requestTls: { ca: airlockCa } });
  results['https-airlock'] = await load('HTTPS 1k keep-alive, Airlock interception', conc, async () => consume(await agent.request({ origin, path: '/1k', method: 'GET' })));
  await agent.close();

  const newConc = 10;
  results['https-direct-new'] = await load(`HTTPS 1k new connection each, direct (${newConc} conc.)`, newConc, async () => {
    const c = new Client(origin, { connect: { ca: upstreamCa, servername: 'localhost', host: '127.0.0.1' } as never });
    try {
      await consume(await c.request({ path: '/1k', method: 'GET', headers: { connection: 'close' } }));
    } finally {
      await c.close();
    }
  });
  results['https-airlock-new'] = await load(`HTTPS 1k new connection each, Airlock (${newConc} conc.)`, newConc, async () => {
    const a = new ProxyAgent({ uri: `http://127.0.0.1:${airlockPort}`, token: proxyAuth, requestTls: { ca: airlockCa } });
    try {
      await consume(await a.request({ origin, path: '/1k', method: 'GET' }));
    } finally {
      await a.close();
    }
  });
}

const ratio = (a?: Result, b?: Result): string => (a && b && b.rps ? `${((a.rps / b.rps) * 100).toFixed(0)}%` : 'n/a');
const added = (a?: Result, b?: Result): string => (a && b ? `${(a.p50 - b.p50).toFixed(3)} ms` : 'n/a');
process.stdout.write('\nratios (throughput relative to direct; added p50 latency):\n');
process.stdout.write(`  HTTP 1k, 1 connection: Airlock adds ${added(results['airlock-serial'], results['direct-serial'])} at p50 (${ratio(results['airlock-serial'], results['direct-serial'])} of direct throughput)\n`);
for (const size of ['1k', '64k']) {
  process.stdout.write(`  HTTP ${size} keep-alive: Airlock ${ratio(results[`airlock-${size}`], results[`direct-${size}`])} of direct, +${added(results[`airlock-${size}`], results[`direct-${size}`])} p50; tinyproxy ${ratio(results[`tinyproxy-${size}`], results[`direct-${size}`])}, +${added(results[`tinyproxy-${size}`], results[`direct-${size}`])} p50; bare Node proxy ${ratio(results[`bare-${size}`], results[`direct-${size}`])} (Airlock = ${ratio(results[`airlock-${size}`], results[`bare-${size}`])} of bare Node)\n`);
}
process.stdout.write(`  HTTPS keep-alive: Airlock interception ${ratio(results['https-airlock'], results['https-direct'])} of direct, +${added(results['https-airlock'], results['https-direct'])} p50\n`);
process.stdout.write(`  HTTPS new connection: Airlock ${ratio(results['https-airlock-new'], results['https-direct-new'])} of direct, +${added(results['https-airlock-new'], results['https-direct-new'])} p50\n`);
if (jsonOut) fs.writeFileSync(jsonOut, `${JSON.stringify(results, null, 2)}\n`);
if (profileDir) {
  // The profile is written when Airlock exits.
  const exited = new Promise((r) => airlock.once('exit', r));
  airlock.kill('SIGTERM');
  await exited;
  const dir = path.resolve(profileDir);
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile') && f.includes(`.${airlock.pid}.`)).map((f) => path.join(dir, f));
  const mapsFile = path.join(dir, 'source-maps.json');
  const maps = fs.existsSync(mapsFile) ? JSON.parse(fs.readFileSync(mapsFile, 'utf8')) as Record<string, SourceMapPayload> : {};
  process.stdout.write(`\nCPU profile of Airlock (whole run, start-up included; ${files.length} thread files in ${profileDir}):\n\n${profileTables(summarize(files, undefined, root, maps))}\n`);
}
cleanup();
process.exit(0);
