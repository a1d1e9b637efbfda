// `npm run bench`: what a request costs in Airlock against a bare Node relay and peer proxies, side
// by side in one run on this machine (bench/README.md explains every figure).
//
//   1. an origin server in its own process (bench/lib/upstream-server.ts): HTTP and HTTPS, 1 KiB answers
//   2. contestants, each in its own process on loopback: direct (no proxy), the bare Node relay,
//      squid, tinyproxy, smokescreen, mitmproxy, Airlock with an allow-all policy and Airlock with
//      the default policy (a GitHub read pinned to the origin) — and the same two Airlocks from
//      another checkout with --baseline
//   2b. each contestant is warmed up until its CPU per request settles (V8 compiles while it runs;
//      see warmUntilSteady), the same way for all, and its warm-up windows are reported
//   3. plain HTTP keep-alive: wrk, 1 thread, N connections; the proxy's own CPU time per request
//      (utime + stime of its process from /proc, all threads, across the measured phase / requests
//      served), req/s, p50/p99, the origin's CPU per request
//   4. one connection, one request at a time: added p50 latency against direct
//   5. HTTPS interception with keep-alive: Airlock against a bare Node TLS relay (TLS on both hops);
//      the default policy injects the stored GitHub credential (the origin counts it)
//   6. RSS with 1,000 idle keep-alive connections; a 1 GiB upload and download through Airlock
//   7. CPU starvation: a busy loop per core while Airlock serves a fixed rate of GitHub reads; how
//      many were denied for overrunning the evaluation budget (audit: fail_closed = timeout)
//   8. --profile: a CPU profile of Airlock (default policy, or --profile-policy allow-all) under the
//      HTTP and the HTTPS load, its top functions by self time printed
//
// Prints markdown tables (ratios to the bare relay and to squid) and writes JSON to bench/results/.
// Usage: npm run bench -- [--duration 10] [--warmup 2] [--warmup-max 30] [--connections 50] [--rounds 1]
//   [--only bare,squid,airlock] [--serial 5] [--idle 1000] [--stream-mib 1024] [--starve 60]
//   [--starve-rps 200] [--starve-burners CORES] [--no-https] [--no-memory] [--profile] [--profile-only] [--profile-policy default|allow-all] [--baseline REF|DIR]
//   [--proxy-bench]
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { SourceMapPayload } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startAirlock, type AirlockPolicy, type RunningAirlock } from './lib/airlock.ts';
import { runLoad, type LoadResult, type Target } from './lib/loadgen.ts';
import { peers, startPeer } from './lib/peers.ts';
import { profileTables, summarize, type ProfileSummary } from './lib/profile.ts';
import { cpuTimeUs, ioSyscalls, machineCpuUs, readJsonLine, rssSampler, selfCpuUs, start, type Proc } from './lib/proc.ts';
import { WARM_WINDOW_S, warmUntilSteady as warmUp, type WarmUp } from './lib/warm-up.ts';
import { findWrk, runWrk, wrkErrors, wrkInstall, type WrkResult, type WrkTarget } from './lib/wrk.ts';
import { idleConnections, streamThrough, type IdleResult, type StreamResult } from './memory/memory.ts';
import { starvation, type StarvationResult } from './soak/starve.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    'warmup-max': { type: 'string', default: '30' },
    connections: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '1' },
    only: { type: 'string' },
    serial: { type: 'string', default: '5' },
    idle: { type: 'string', default: '1000' },
    'stream-mib': { type: 'string', default: '1024' },
    starve: { type: 'string', default: '60' },
    'starve-rps': { type: 'string', default: '200' },
    'starve-burners': { type: 'string', default: String(os.cpus().length) },
    'no-https': { type: 'boolean', default: false },
    'no-memory': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'profile-only': { type: 'boolean', default: false },
    'profile-policy': { type: 'string', default: 'default' },
    baseline: { type: 'string' },
    'proxy-bench': { type: 'boolean', default: false },
  },
});
const seconds = Number(values.duration);
const warmup = Number(values.warmup);
const warmupMax = Math.max(warmup, Number(values['warmup-max']));
const connections = Number(values.connections);
const rounds = Math.max(1, Number(values.rounds));
const serialSeconds = Number(values.serial);
const idleCount = Number(values.idle);
const streamBytes = Number(values['stream-mib']) * 1024 * 1024;
const starveSeconds = Number(values.starve);
const starveRps = Number(values['starve-rps']);
const starveBurners = Number(values['starve-burners']);
const profileOnly = values['profile-only'];
const only = values.only ? new Set(values.only.split(',').map((s) => s.trim())) : undefined;
// --only names: direct is always measured; `airlock` means both policies; a baseline's Airlocks follow this checkout's names.
const wanted = (key: string): boolean => {
  const k = key.replace(/^airlock@[^-]+/, 'airlock');
  return !profileOnly && (k === 'direct' || !only || only.has(k) || (k.startsWith('airlock') && only.has('airlock')));
};
const runner = path.join(root, 'bin', 'run-ts.js');
const MiB = 1024 * 1024;
const githubPath = '/repos/airlock/bench';

function log(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}
const loadavg = (): number[] => os.loadavg().map((x) => Math.round(x * 100) / 100);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : NaN;
};

/** Warm-up until the contestant's CPU per request settles (bench/lib/warm-up.ts), within --warmup and --warmup-max. */
const warmUntilSteady = (pid: number, run: (s: number) => Promise<number>): Promise<WarmUp> => warmUp(pid, run, warmup, warmupMax);

// ─── setup ─────────────────────────────────────────────────────────────────────────────────────

const wrk = findWrk();
if (!wrk) {
  process.stderr.write(`bench: wrk is required for the plain-HTTP figures and is not installed; install with: ${wrkInstall}\n`);
  process.exit(2);
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-bench-run-'));
const procs: Proc[] = [];
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
process.on('SIGINT', () => process.exit(130));

function selfSigned(name: string): { key: string; cert: string } {
  const key = path.join(tmp, `${name}-key.pem`);
  const cert = path.join(tmp, `${name}.pem`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
    '-subj', '/CN=api.github.com', '-addext', 'subjectAltName=DNS:api.github.com,DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  return { key, cert };
}
const upstreamTls = selfSigned('origin');
const relayTls = selfSigned('relay');

/** Another checkout to compare with: a directory, or a git ref exported (git archive) into the scratch folder. */
function baselineRoot(spec: string): { dir: string; label: string } {
  if (fs.existsSync(path.join(spec, 'bin', 'airlock.js'))) return { dir: path.resolve(spec), label: path.basename(path.resolve(spec)) };
  const sha = execFileSync('git', ['-C', root, 'rev-parse', '--short', spec], { encoding: 'utf8' }).trim();
  const dir = path.join(tmp, `baseline-${sha}`);
  fs.mkdirSync(dir);
  const archive = spawnSync('sh', ['-c', `git -C "${root}" archive "${sha}" | tar -x -C "${dir}"`], { stdio: 'inherit' });
  if (archive.status !== 0) throw new Error(`--baseline ${spec}: git archive failed`);
  for (const link of ['node_modules', '.tools']) if (fs.existsSync(path.join(root, link))) fs.symlinkSync(path.join(root, link), path.join(dir, link));
  return { dir, label: sha };
}

const origin = start('origin', process.execPath, [runner, path.join(root, 'bench/lib/upstream-server.ts'), upstreamTls.key, upstreamTls.cert, 'ghp_benchmarkTokenNotARealOne0123456789']);
procs.push(origin);
const originPorts = await readJsonLine<{ http: number; https: number }>(origin);
const originUrl = `http://127.0.0.1:${originPorts.http}${githubPath}`;
const originStats = async (): Promise<{ requests: number; withCredential: number }> => (await fetch(`http://127.0.0.1:${originPorts.http}/__stats`)).json() as Promise<{ requests: number; withCredential: number }>;

// ─── contestants ───────────────────────────────────────────────────────────────────────────────

interface Contestant {
  key: string;
  name: string;
  note: string;
  pid: number;
  proc?: Proc;
  http: WrkTarget;
  airlock?: RunningAirlock & { policy: AirlockPolicy };
  missing?: string;
  error?: string;
}

interface HttpRound {
  wrk: WrkResult;
  cpuPerRequestUs: number;
  /** Read/write system calls of the proxy per request (/proc/PID/io). */
  syscallsPerRequest: number;
  originCpuPerRequestUs: number;
  /** Share of the machine's CPU (all cores) that went to processes outside this run: other people's work. */
  othersPct: number;
  loadavg: number[];
  rssPeakMiB: number;
}

interface HttpRow {
  name: string;
  note: string;
  missing?: string;
  error?: string;
  rounds: HttpRound[];
  cpuPerRequestUs?: number;
  syscallsPerRequest?: number;
  originCpuPerRequestUs?: number;
  rps?: number;
  p50Ms?: number;
  p99Ms?: number;
  errors?: number;
  rssPeakMiB?: number;
  othersPct?: number;
  serial?: WrkResult;
  idle?: IdleResult;
  warmUp?: WarmUp;
}

const contestants: Contestant[] = [];
if (wanted('direct')) contestants.push({ key: 'direct', name: 'direct', note: 'no proxy: wrk talks to the origin (CPU column: the origin\'s)', pid: origin.pid, http: { connectTo: `http://127.0.0.1:${originPorts.http}`, url: originUrl, viaProxy: false } });

async function addContestant(key: string, name: string, startIt: () => Promise<Omit<Contestant, 'key' | 'name'>>): Promise<void> {
  if (!wanted(key)) return;
  log(`starting ${name}`);
  try {
    const c = await startIt();
    if (c.proc) procs.push(c.proc);
    contestants.push({ key, name, ...c });
  } catch (err) {
    const error = (err as Error).message.split('\n')[0]!.slice(0, 300);
    log(`${name}: FAILED TO START — ${error}`);
    contestants.push({ key, name, note: '', pid: 0, http: { connectTo: '', url: '', viaProxy: true }, error });
  }
}

await addContestant('bare', 'bare Node relay', async () => {
  const proc = start('bare relay', process.execPath, [runner, path.join(root, 'bench/lib/bare-relay.ts')]);
  const { port } = await readJsonLine<{ port: number }>(proc);
  return { proc, pid: proc.pid, note: '`http.createServer` + keep-alive `http.Agent`, nothing else (bench/lib/bare-relay.ts)', http: { connectTo: `http://127.0.0.1:${port}`, url: originUrl, viaProxy: true } };
});
for (const peer of peers) {
  await addContestant(peer.name, peer.name, async () => {
    const started = await startPeer(peer, tmp);
    if ('missing' in started) {
      log(`SKIPPED ${peer.name}: ${started.missing}`);
      return { pid: 0, note: '', http: { connectTo: '', url: '', viaProxy: true }, missing: started.missing };
    }
    return { proc: started.proc, pid: started.proc.pid, note: started.note, http: { connectTo: started.proxyUrl, url: originUrl, viaProxy: true } };
  });
}

async function addAirlock(checkout: string, label: string | undefined, policy: AirlockPolicy): Promise<void> {
  const name = `Airlock${label ? `@${label}` : ''}, ${policy === 'default' ? 'default policy' : 'allow-all'}`;
  await addContestant(`airlock${label ? `@${label}` : ''}-${policy}`, name, async () => {
    const a = await startAirlock({ root: checkout, policy, tmp, origin: originPorts, upstreamCa: upstreamTls.cert, label: name });
    // The default policy sees a GitHub read (api.github.com pinned to the origin); allow-all the same request as the peers.
    const url = policy === 'default' ? `http://api.github.com${githubPath}` : originUrl;
    const note = policy === 'default'
      ? '`airlock start`, the default policy (rego/; rate limits raised), GET http://api.github.com/repos/… pinned to the origin, a secret stored'
      : '`airlock start`, one unconditional allow (bench/lib/policy-allow-all); log line per decision, audit';
    return { proc: a.proc, pid: a.proc.pid, note, airlock: { ...a, policy }, http: { connectTo: a.proxyUrl, url, viaProxy: true, proxyAuthorization: a.proxyAuthorization, idleAuthorizations: a.idleAuthorizations } };
  });
}
await addAirlock(root, undefined, 'allow-all');
await addAirlock(root, undefined, 'default');
const baseline = values.baseline ? baselineRoot(values.baseline) : undefined;
if (baseline) {
  await addAirlock(baseline.dir, baseline.label, 'allow-all');
  await addAirlock(baseline.dir, baseline.label, 'default');
}
const running = contestants.filter((c) => !c.missing && !c.error);
const airlocks = running.filter((c) => c.airlock);
const loadavgStart = loadavg();
log(`load average ${loadavgStart.join(' ')}; ${running.length} contestants running`);

// ─── plain HTTP keep-alive (wrk) ───────────────────────────────────────────────────────────────

const rows = new Map<string, HttpRow>(contestants.map((c) => [c.key, { name: c.name, note: c.note, rounds: [], ...(c.missing ? { missing: c.missing } : {}), ...(c.error ? { error: c.error } : {}) }]));

async function measureHttp(c: Contestant): Promise<HttpRound> {
  const cpu0 = cpuTimeUs(c.pid);
  const io0 = ioSyscalls(c.pid);
  const origin0 = cpuTimeUs(origin.pid);
  const box0 = machineCpuUs();
  const self0 = selfCpuUs();
  const sampler = rssSampler(c.pid);
  const r = await runWrk(wrk!, c.http, { connections, seconds, tmp });
  const rss = sampler.stop();
  const box1 = machineCpuUs();
  const served = Math.max(1, r.requests);
  const proxyUs = cpuTimeUs(c.pid) - cpu0;
  const originUs = cpuTimeUs(origin.pid) - origin0;
  // This run's own CPU: the proxy, the origin, wrk (reaped, so in this process's cutime) and this process.
  const ours = (c.pid === origin.pid ? 0 : proxyUs) + originUs + selfCpuUs() - self0;
  return {
    wrk: r,
    cpuPerRequestUs: Math.round(proxyUs / served * 10) / 10,
    syscallsPerRequest: Math.round(((ioSyscalls(c.pid) - io0) / served) * 10) / 10,
    originCpuPerRequestUs: Math.round(originUs / served * 10) / 10,
    othersPct: Math.max(0, Math.round(((box1.busyUs - box0.busyUs - ours) / Math.max(1, box1.totalUs - box0.totalUs)) * 100)),
    loadavg: loadavg(),
    rssPeakMiB: Math.round((rss / MiB) * 10) / 10,
  };
}

for (let round = 1; round <= rounds; round++) {
  // Every other round in reverse order, so a change in the machine's load does not always hit the same contestants.
  for (const c of round % 2 ? running : [...running].reverse()) {
    const row = rows.get(c.key)!;
    try {
      if (round === 1 && warmup > 0) {
        row.warmUp = await warmUntilSteady(c.pid, async (s) => (await runWrk(wrk, c.http, { connections, seconds: s, tmp })).requests);
        log(`${c.name}: warmed up in ${row.warmUp.seconds} s, CPU µs/req per ${WARM_WINDOW_S} s window ${row.warmUp.cpuPerRequestUs.join(' → ')}`);
      }
      const m = await measureHttp(c);
      row.rounds.push(m);
      log(`${c.name} [round ${round}/${rounds}]: ${c.key === 'direct' ? 'origin' : 'proxy'} ${c.key === 'direct' ? m.originCpuPerRequestUs : m.cpuPerRequestUs} µs CPU/req, ${m.wrk.rps} req/s, p50 ${m.wrk.p50Ms} ms, p99 ${m.wrk.p99Ms} ms, ${wrkErrors(m.wrk)} errors, ${m.syscallsPerRequest} read/write syscalls/req, other work ${m.othersPct}% of the machine, load ${m.loadavg.join(' ')}`);
    } catch (err) {
      row.error = (err as Error).message.slice(0, 300);
      log(`${c.name}: ${row.error}`);
    }
  }
}
for (const [key, row] of rows) {
  if (!row.rounds.length) continue;
  row.cpuPerRequestUs = key === 'direct' ? undefined : median(row.rounds.map((r) => r.cpuPerRequestUs));
  row.syscallsPerRequest = median(row.rounds.map((r) => r.syscallsPerRequest));
  row.originCpuPerRequestUs = median(row.rounds.map((r) => r.originCpuPerRequestUs));
  row.rps = median(row.rounds.map((r) => r.wrk.rps));
  row.p50Ms = median(row.rounds.map((r) => r.wrk.p50Ms));
  row.p99Ms = median(row.rounds.map((r) => r.wrk.p99Ms));
  row.errors = row.rounds.reduce((n, r) => n + wrkErrors(r.wrk), 0);
  row.rssPeakMiB = Math.max(...row.rounds.map((r) => r.rssPeakMiB));
  row.othersPct = median(row.rounds.map((r) => r.othersPct));
}

// ─── one connection: added latency without queueing ────────────────────────────────────────────

if (serialSeconds > 0) {
  const serialRounds = new Map<string, WrkResult[]>();
  for (let round = 1; round <= rounds; round++) {
    for (const c of running.filter((x) => x.key === 'direct' || x.key === 'bare' || x.airlock)) {
      try {
        const r = await runWrk(wrk, c.http, { connections: 1, seconds: serialSeconds, tmp });
        serialRounds.set(c.key, [...(serialRounds.get(c.key) ?? []), r]);
        log(`${c.name}, one connection [round ${round}/${rounds}]: p50 ${r.p50Ms} ms`);
      } catch (err) {
        log(`${c.name}, one connection: ${(err as Error).message}`);
      }
    }
  }
  // The round with the median p50 stands for the contestant.
  for (const [key, rs] of serialRounds) rows.get(key)!.serial = [...rs].sort((a, b) => a.p50Ms - b.p50Ms)[Math.floor((rs.length - 1) / 2)];
}

// ─── HTTPS interception with keep-alive ────────────────────────────────────────────────────────

interface HttpsRow {
  name: string;
  load?: LoadResult;
  cpuPerRequestUs?: number;
  originCpuPerRequestUs?: number;
  credentialInjected?: { requests: number; withCredential: number };
  syscallsPerRequest?: number;
  othersPct?: number;
  error?: string;
  warmUp?: WarmUp;
}
const httpsRows: HttpsRow[] = [];
const httpsTarget = (c: { proxyUrl: string; caPem: string; proxyAuthorization?: string }): Target => ({
  connectTo: c.proxyUrl, url: `https://api.github.com${githubPath}`, viaProxy: true, tunnelCa: c.caPem,
  ...(c.proxyAuthorization ? { proxyAuthorization: c.proxyAuthorization } : {}),
});

async function measureHttps(name: string, pid: number, target: Target, warm: boolean): Promise<HttpsRow> {
  let warmUp: WarmUp | undefined;
  if (warm && warmup > 0) {
    warmUp = await warmUntilSteady(pid, async (s) => (await runLoad(target, { connections, durationMs: s * 1000 })).requests);
    log(`${name} (HTTPS): warmed up in ${warmUp.seconds} s, CPU µs/req per ${WARM_WINDOW_S} s window ${warmUp.cpuPerRequestUs.join(' → ')}`);
  }
  const cpu0 = cpuTimeUs(pid);
  const io0 = ioSyscalls(pid);
  const origin0 = cpuTimeUs(origin.pid);
  const stats0 = await originStats();
  const box0 = machineCpuUs();
  const self0 = selfCpuUs();
  const load = await runLoad(target, { connections, durationMs: seconds * 1000, maxRequests: 5_000_000 });
  const served = Math.max(1, load.requests);
  const proxyUs = cpuTimeUs(pid) - cpu0;
  const originUs = cpuTimeUs(origin.pid) - origin0;
  const box1 = machineCpuUs();
  const ours = proxyUs + originUs + selfCpuUs() - self0;
  const stats1 = await originStats();
  const row: HttpsRow = {
    name, load,
    cpuPerRequestUs: Math.round(proxyUs / served * 10) / 10,
    syscallsPerRequest: Math.round(((ioSyscalls(pid) - io0) / served) * 10) / 10,
    originCpuPerRequestUs: Math.round(originUs / served * 10) / 10,
    othersPct: Math.max(0, Math.round(((box1.busyUs - box0.busyUs - ours) / Math.max(1, box1.totalUs - box0.totalUs)) * 100)),
    credentialInjected: { requests: stats1.requests - stats0.requests - 1, withCredential: stats1.withCredential - stats0.withCredential },
    ...(warmUp ? { warmUp } : {}),
  };
  log(`HTTPS ${name}: ${row.cpuPerRequestUs} µs CPU/req, ${load.rps} req/s, p50 ${load.p50Ms} ms, ${load.errors + load.non2xx} errors${load.firstError ? ` (${load.firstError.slice(0, 120)})` : ''}, credential on ${row.credentialInjected!.withCredential}/${row.credentialInjected!.requests} upstream requests`);
  return row;
}

if (!values['no-https'] && !profileOnly) {
  const relay = start('bare TLS relay', process.execPath, [runner, path.join(root, 'bench/lib/bare-tls-relay.ts'), relayTls.key, relayTls.cert, upstreamTls.cert,
    JSON.stringify({ 'api.github.com:443': `127.0.0.1:${originPorts.https}` })]);
  procs.push(relay);
  const relayPort = readJsonLine<{ port: number }>(relay);
  const subjects: Array<{ name: string; pid: number; target: () => Promise<Target> }> = [
    { name: 'bare Node TLS relay', pid: relay.pid, target: async () => httpsTarget({ proxyUrl: `http://127.0.0.1:${(await relayPort).port}`, caPem: fs.readFileSync(relayTls.cert, 'utf8') }) },
    ...airlocks.map((c) => ({ name: c.name, pid: c.pid, target: async () => httpsTarget(c.airlock!) })),
  ];
  const measured = new Map<string, HttpsRow[]>();
  const failed = new Map<string, string>();
  for (let round = 1; round <= rounds; round++) {
    for (const x of round % 2 ? subjects : [...subjects].reverse()) {
      if (failed.has(x.name)) continue;
      try {
        const r = await measureHttps(x.name, x.pid, await x.target(), round === 1);
        measured.set(x.name, [...(measured.get(x.name) ?? []), r]);
      } catch (err) {
        failed.set(x.name, (err as Error).message.slice(0, 300));
        log(`HTTPS ${x.name}: ${(err as Error).message}`);
      }
    }
  }
  await relay.stop();
  // The round with the median CPU per request stands for the contestant.
  for (const x of subjects) {
    const rs = measured.get(x.name);
    httpsRows.push(rs ? [...rs].sort((a, b) => a.cpuPerRequestUs! - b.cpuPerRequestUs!)[Math.floor((rs.length - 1) / 2)]! : { name: x.name, error: failed.get(x.name) ?? 'not measured' });
  }
}

// ─── memory: idle keep-alive connections, streamed bodies ──────────────────────────────────────

const streams: StreamResult[] = [];
if (!values['no-memory']) {
  for (const c of running) {
    try {
      const idle = await idleConnections(c.http, c.pid, idleCount);
      rows.get(c.key)!.idle = idle;
      log(`${c.name}: ${idle.opened}/${idleCount} idle connections opened, ${idle.stillOpen} still open when measured, RSS ${idle.rssBeforeMiB} → ${idle.rssWithIdleMiB} MiB, ${idle.rssIdleMiB} MiB after 12 s idle`);
    } catch (err) {
      log(`${c.name}, idle connections: ${(err as Error).message}`);
    }
  }
  const a = airlocks.find((c) => c.key === 'airlock-allow-all');
  if (a && streamBytes > 0) {
    for (const direction of ['upload', 'download'] as const) {
      const s = await streamThrough(a.http, a.pid, direction, streamBytes);
      streams.push(s);
      log(`Airlock: ${(streamBytes / MiB).toFixed(0)} MiB ${direction} ${s.ok ? 'ok' : `FAILED ${s.error}`}, ${s.mibPerSecond} MiB/s, RSS growth ${s.rssGrowthMiB} MiB`);
    }
  }
}

// ─── CPU starvation ────────────────────────────────────────────────────────────────────────────

let starved: (StarvationResult & { name: string }) | undefined;
const defaultAirlock = airlocks.find((c) => c.key === 'airlock-default');
if (starveSeconds > 0 && defaultAirlock) {
  log(`CPU starvation: ${starveBurners} busy loops, ${starveRps} req/s of GitHub reads through ${defaultAirlock.name} for ${starveSeconds} s`);
  starved = { name: defaultAirlock.name, ...await starvation(defaultAirlock.http, defaultAirlock.airlock!.home, { seconds: starveSeconds, rps: starveRps, burners: starveBurners }) };
  log(`CPU starvation: ${starved.load.requests} requests, ${starved.timeoutDenials} denied for overrunning the evaluation budget, ${starved.load.non2xx} non-2xx, ${starved.load.errors} errors, p99 ${starved.load.p99Ms} ms`);
}

for (const p of procs) if (p !== origin) await p.stop();

// ─── profile ───────────────────────────────────────────────────────────────────────────────────

interface ProfileRun { subject: string; phase: string; cpuPerRequestUs: number; requests: number; summary: ProfileSummary }
const profiles: ProfileRun[] = [];
let profileDir: string | undefined;

/** `run(s)` loads the process for s seconds and resolves with the requests served. */
interface ProfilePhase { phase: string; run: (s: number) => Promise<number> }

/** Runs `phases` (each warmed up first, outside the window) against a process started with --cpu-prof, stops it, and summarizes each phase's window. */
async function profile(subject: string, proc: Proc, sourceMapsFile: string, phases: ProfilePhase[]): Promise<void> {
  const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);
  const windows: Array<{ phase: string; fromUs: number; toUs: number; cpuUs: number; requests: number }> = [];
  for (const p of phases) {
    if (warmup > 0) await warmUntilSteady(proc.pid, p.run);
    const cpu0 = cpuTimeUs(proc.pid);
    const fromUs = nowUs();
    const requests = await p.run(seconds);
    windows.push({ phase: p.phase, fromUs, toUs: nowUs(), cpuUs: cpuTimeUs(proc.pid) - cpu0, requests });
  }
  // The profile is written when the process exits: give it time.
  await proc.stop(60_000);
  fs.writeFileSync(path.join(profileDir!, `windows-${proc.pid}.json`), `${JSON.stringify({ subject, pid: proc.pid, windows }, null, 2)}\n`);
  const files = fs.readdirSync(profileDir!).filter((f) => f.endsWith('.cpuprofile') && f.includes(`.${proc.pid}.`)).map((f) => path.join(profileDir!, f));
  const sourceMaps = fs.existsSync(sourceMapsFile) ? JSON.parse(fs.readFileSync(sourceMapsFile, 'utf8')) as Record<string, SourceMapPayload> : {};
  if (!files.length) log(`profile: no .cpuprofile of ${subject} (pid ${proc.pid}) in ${profileDir} (did it exit cleanly?)`);
  for (const w of windows) {
    profiles.push({ subject, phase: w.phase, requests: w.requests, cpuPerRequestUs: Math.round((w.cpuUs / Math.max(1, w.requests)) * 10) / 10, summary: summarize(files, w, root, sourceMaps) });
  }
}

if (values.profile || profileOnly) {
  profileDir = path.join(root, 'bench', 'results', `profile-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  fs.mkdirSync(profileDir, { recursive: true });
  const profFlags = (name: string): { nodeFlags: string[]; env: NodeJS.ProcessEnv; maps: string } => {
    const maps = path.join(profileDir!, `source-maps-${name}.json`);
    return {
      nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '--import', pathToFileURL(path.join(root, 'bench/lib/source-maps-at-exit.mjs')).href],
      env: { AIRLOCK_BENCH_SOURCE_MAPS: maps, AIRLOCK_BENCH_ROOT: root },
      maps,
    };
  };
  const wrkPhase = (phase: string, target: WrkTarget): ProfilePhase => ({ phase, run: async (s) => (await runWrk(wrk, target, { connections, seconds: s, tmp })).requests });

  const profiled: AirlockPolicy = values['profile-policy'] === 'allow-all' ? 'allow-all' : 'default';
  log(`profiling Airlock (${profiled} policy) → ${path.relative(root, profileDir)}`);
  const af = profFlags('airlock');
  const a = await startAirlock({ root, policy: profiled, tmp, origin: originPorts, upstreamCa: upstreamTls.cert, label: `Airlock, ${profiled} policy (profiled)`, nodeFlags: af.nodeFlags, env: af.env });
  await profile(`Airlock, ${profiled} policy`, a.proc, af.maps, [
    wrkPhase('plain HTTP keep-alive (wrk), GitHub read', { connectTo: a.proxyUrl, url: `http://api.github.com${githubPath}`, viaProxy: true, proxyAuthorization: a.proxyAuthorization }),
    ...(values['no-https'] ? [] : [{
      phase: 'HTTPS interception keep-alive, GitHub read with the credential injected',
      run: async (s: number) => (await runLoad(httpsTarget(a), { connections, durationMs: s * 1000 })).requests,
    }]),
  ]);

  // The floor, profiled the same way: which of Airlock's costs every Node relay pays too.
  log('profiling the bare Node relay');
  const bf = profFlags('bare');
  const relay = start('bare relay (profiled)', process.execPath, [...bf.nodeFlags, runner, path.join(root, 'bench/lib/bare-relay.ts')], bf.env);
  const { port } = await readJsonLine<{ port: number }>(relay);
  await profile('bare Node relay', relay, bf.maps, [wrkPhase('plain HTTP keep-alive (wrk)', { connectTo: `http://127.0.0.1:${port}`, url: originUrl, viaProxy: true })]);
}
await origin.stop();

// ─── report ────────────────────────────────────────────────────────────────────────────────────

const fmt = (x: number | undefined, digits = 2): string => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(digits));
const times = (x: number | undefined, base: number | undefined): string => (x === undefined || !base ? '–' : `${(x / base).toFixed(2)}×`);
const int = (x: number | undefined): string => (x === undefined ? '–' : Math.round(x).toLocaleString('en-US'));
const bare = rows.get('bare');
const squid = rows.get('squid');
const ordered = [...rows.entries()];

function httpTable(): string {
  const lines = [
    '| contestant | CPU µs/req | × bare relay | req/s | × squid | p50 ms | p99 ms | errors | read+write syscalls/req | origin CPU µs/req | peak RSS MiB | other work % |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [, r] of ordered) {
    if (r.missing || (r.error && !r.rounds.length)) {
      lines.push(`| ${r.name} | ${r.missing ? `skipped — ${r.missing}` : `failed: ${r.error}`} | | | | | | | | | | |`);
      continue;
    }
    lines.push(`| ${r.name} | ${fmt(r.cpuPerRequestUs, 0)} | ${times(r.cpuPerRequestUs, bare?.cpuPerRequestUs)} | ${int(r.rps)} | ${times(r.rps, squid?.rps)} | ${fmt(r.p50Ms)} | ${fmt(r.p99Ms)} | ${r.errors} | ${r.name === 'direct' ? '–' : fmt(r.syscallsPerRequest, 1)} | ${fmt(r.originCpuPerRequestUs, 0)} | ${fmt(r.rssPeakMiB, 1)} | ${fmt(r.othersPct, 0)} |`);
  }
  return lines.join('\n');
}

function serialTable(): string {
  const direct = rows.get('direct')?.serial;
  const lines = ['| contestant | p50 ms | added p50 ms vs direct | p99 ms | req/s |', '|---|---:|---:|---:|---:|'];
  for (const [, r] of ordered) if (r.serial) lines.push(`| ${r.name} | ${fmt(r.serial.p50Ms, 3)} | ${direct ? fmt(r.serial.p50Ms - direct.p50Ms, 3) : '–'} | ${fmt(r.serial.p99Ms, 3)} | ${int(r.serial.rps)} |`);
  return lines.join('\n');
}

function httpsTable(): string {
  const base = httpsRows.find((r) => r.name === 'bare Node TLS relay')?.cpuPerRequestUs;
  const lines = ['| contestant | CPU µs/req | × bare TLS relay | req/s | p50 ms | p99 ms | errors | credential injected | read+write syscalls/req | origin CPU µs/req | other work % |', '|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|'];
  for (const r of httpsRows) {
    if (!r.load) {
      lines.push(`| ${r.name} | failed: ${r.error} | | | | | | | | | |`);
      continue;
    }
    const cred = r.credentialInjected!;
    lines.push(`| ${r.name} | ${fmt(r.cpuPerRequestUs, 0)} | ${times(r.cpuPerRequestUs, base)} | ${int(r.load.rps)} | ${fmt(r.load.p50Ms)} | ${fmt(r.load.p99Ms)} | ${r.load.errors + r.load.non2xx} | ${cred.withCredential ? `${int(cred.withCredential)} of ${int(cred.requests)}` : 'none'} | ${fmt(r.syscallsPerRequest, 1)} | ${fmt(r.originCpuPerRequestUs, 0)} | ${fmt(r.othersPct, 0)} |`);
  }
  return lines.join('\n');
}

/** Each contestant's warm-up: CPU per request in each window until it settled (the first: a fresh process). */
function warmUpTable(): string {
  const lines = [`| contestant | phase | settled after | CPU µs/req per ${WARM_WINDOW_S} s window |`, '|---|---|---:|---|'];
  for (const [, r] of ordered) if (r.warmUp) lines.push(`| ${r.name} | HTTP | ${r.warmUp.seconds} s | ${r.warmUp.cpuPerRequestUs.join(' → ')} |`);
  for (const r of httpsRows) if (r.warmUp) lines.push(`| ${r.name} | HTTPS | ${r.warmUp.seconds} s | ${r.warmUp.cpuPerRequestUs.join(' → ')} |`);
  return lines.join('\n');
}

function idleTable(): string {
  const lines = [`| contestant | RSS before MiB | RSS with ${idleCount} idle keep-alive connections MiB (1 s) | the same after 12 s idle MiB | KiB per connection | opened | still open when measured |`, '|---|---:|---:|---:|---:|---:|---:|'];
  for (const [, r] of ordered) if (r.idle) lines.push(`| ${r.name} | ${r.idle.rssBeforeMiB} | ${r.idle.rssWithIdleMiB} | ${r.idle.rssIdleMiB} | ${r.idle.perConnectionKiB} | ${r.idle.opened}/${r.idle.connections} | ${r.idle.stillOpen} |`);
  return lines.join('\n');
}

function streamTable(): string {
  const lines = ['| Airlock (allow-all), streamed | bytes | ok | MiB/s | RSS before MiB | RSS peak MiB | growth MiB | under 64 MiB |', '|---|---:|---|---:|---:|---:|---:|---|'];
  for (const s of streams) lines.push(`| ${s.direction} | ${(s.bytes / MiB).toFixed(0)} MiB | ${s.ok ? 'yes' : `no: ${s.error}`} | ${s.mibPerSecond} | ${s.rssBeforeMiB} | ${s.rssPeakMiB} | ${s.rssGrowthMiB} | ${s.rssGrowthMiB < 64 ? 'yes' : '**NO**'} |`);
  return lines.join('\n');
}

/** Issue 20's goals against this run's figures (met / not met), for each step of the optimisation to check. */
function goals(): string {
  const d = rows.get('airlock-default');
  const dSerial = d?.serial && rows.get('direct')?.serial ? d.serial.p50Ms - rows.get('direct')!.serial!.p50Ms : undefined;
  const httpsBase = httpsRows.find((r) => r.name === 'bare Node TLS relay')?.cpuPerRequestUs;
  const httpsDefault = httpsRows.find((r) => r.name === d?.name)?.cpuPerRequestUs;
  const check = (ok: boolean | undefined): string => (ok === undefined ? 'not measured' : ok ? 'met' : '**not met**');
  const lines = ['| goal (issue 20) | this run | |', '|---|---|---|'];
  const cpuRatio = d?.cpuPerRequestUs !== undefined && bare?.cpuPerRequestUs ? d.cpuPerRequestUs / bare.cpuPerRequestUs : undefined;
  lines.push(`| default policy CPU/req ≤ 2× bare relay | ${cpuRatio === undefined ? '–' : `${cpuRatio.toFixed(2)}×`} | ${check(cpuRatio === undefined ? undefined : cpuRatio <= 2)} |`);
  const rpsRatio = d?.rps !== undefined && squid?.rps ? d.rps / squid.rps : undefined;
  lines.push(`| default policy req/s ≥ squid's | ${rpsRatio === undefined ? '–' : `${rpsRatio.toFixed(2)}×`} | ${check(rpsRatio === undefined ? undefined : rpsRatio >= 1)} |`);
  lines.push(`| added p50, one connection < 0.3 ms | ${dSerial === undefined ? '–' : `${dSerial.toFixed(3)} ms`} | ${check(dSerial === undefined ? undefined : dSerial < 0.3)} |`);
  // Idle: the connections sat 12 s after opening (1 s after, the figure earlier rounds gave, is in the idle table).
  const idle = d?.idle?.rssIdleMiB;
  lines.push(`| RSS with ${idleCount} idle keep-alive connections ≤ 150 MiB (after 12 s idle) | ${idle === undefined ? '–' : `${idle} MiB (1 s: ${d?.idle?.rssWithIdleMiB} MiB)`} | ${check(idle === undefined ? undefined : idle <= 150)} |`);
  const httpsRatio = httpsDefault !== undefined && httpsBase ? httpsDefault / httpsBase : undefined;
  lines.push(`| HTTPS interception CPU/req ≤ 2× bare TLS relay | ${httpsRatio === undefined ? '–' : `${httpsRatio.toFixed(2)}×`} | ${check(httpsRatio === undefined ? undefined : httpsRatio <= 2)} |`);
  lines.push(`| no request denied for overrunning the budget under CPU starvation | ${starved ? `${starved.timeoutDenials} of ${starved.load.requests}` : '–'} | ${check(starved ? starved.timeoutDenials === 0 : undefined)} |`);
  return lines.join('\n');
}

const loadavgEnd = loadavg();
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.type()} ${os.release()}`;
const commit = spawnSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
const report = [
  `## Airlock vs a bare Node relay and peer proxies (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, commit ${commit})`,
  '',
  `${machine}. Load average (1/5/15 min) at the start ${loadavgStart.join(' / ')}, at the end ${loadavgEnd.join(' / ')}.`,
  '',
  ...(contestants.length ? [
    `### Plain HTTP, keep-alive: wrk, 1 thread, ${connections} connections, ${seconds} s${rounds > 1 ? ` × ${rounds} rounds (medians)` : ''}, 1 KiB answers`,
    '',
    'CPU µs/req is the proxy process\'s own CPU time (utime + stime, all threads, /proc) over the measured phase divided by the requests it served: the figure that depends least on how the cores were shared. Other work % is the share of the machine\'s CPU that went to processes outside this run during the phase (other people\'s work on a shared box).',
    '',
    httpTable(),
    '',
    ...contestants.filter((c) => c.note).map((c) => `- ${c.name}: ${c.note}`),
    '',
  ] : []),
  ...([...rows.values()].some((r) => r.warmUp) || httpsRows.some((r) => r.warmUp) ? [
    `### Warm-up (before the measured phases; until two ${WARM_WINDOW_S} s windows agree within 7 %, ${warmup}–${warmupMax} s)`, '',
    'V8 compiles JavaScript and WebAssembly while a process runs: the first window is what a freshly started process costs, the last is close to what the measured phases see.', '',
    warmUpTable(), ''] : []),
  ...([...rows.values()].some((r) => r.serial) ? [`### One connection, one request at a time (wrk -c1, ${serialSeconds} s${rounds > 1 ? ` × ${rounds} rounds, the median round` : ''})`, '', serialTable(), ''] : []),
  ...(httpsRows.length ? [`### HTTPS interception, keep-alive (CONNECT api.github.com:443, ${connections} connections, ${seconds} s${rounds > 1 ? ` × ${rounds} rounds, the median round` : ''}, undici ProxyAgent)`, '', httpsTable(), '',
    '- bare Node TLS relay: CONNECT, TLS terminated with one certificate, relayed over a keep-alive `https.Agent` (TLS to the origin), nothing else (bench/lib/bare-tls-relay.ts)', ''] : []),
  ...(rows.size && [...rows.values()].some((r) => r.idle) ? [idleTable(), ''] : []),
  ...(streams.length ? [streamTable(), ''] : []),
  ...(starved ? [`### CPU starvation (${starved.burners} busy loops, one per core; ${starved.rps} req/s for ${starved.seconds} s through ${starved.name})`, '',
    '| requests | denied for overrunning the evaluation budget | other non-2xx | errors | p50 ms | p99 ms | max ms | fail-closed by kind | load average after |', '|---:|---:|---:|---:|---:|---:|---:|---|---|',
    `| ${starved.load.requests} | ${starved.timeoutDenials} | ${starved.load.non2xx - starved.timeoutDenials} | ${starved.load.errors} | ${starved.load.p50Ms} | ${starved.load.p99Ms} | ${starved.load.maxMs} | ${JSON.stringify(starved.audit.failClosed)} | ${starved.loadavgAfter.join(' / ')} |`, ''] : []),
  ...profiles.flatMap((p) => [`### CPU profile: ${p.subject} — ${p.phase} (${p.requests} requests, ${p.cpuPerRequestUs} µs CPU/req with the profiler on)`, '', profileTables(p.summary, p.cpuPerRequestUs, p.subject.startsWith('bare') ? 12 : undefined), '']),
  ...(profileDir ? [`Profiles (open in Chrome DevTools → Performance): ${path.relative(root, profileDir)}/`, ''] : []),
  ...(contestants.length ? ['### Goals', '', goals(), ''] : []),
].join('\n');

let proxyBench: { status: number | null; output: string } | undefined;
if (values['proxy-bench']) {
  log('bench/proxy/proxy.ts');
  const r = spawnSync(process.execPath, [runner, path.join(root, 'bench/proxy/proxy.ts'), '--duration', String(Math.max(1, Math.round(seconds / 2)))], { cwd: root, encoding: 'utf8', timeout: 10 * 60_000 });
  proxyBench = { status: r.status, output: `${r.stdout ?? ''}${r.status ? r.stderr ?? '' : ''}`.trim() };
}
const full = proxyBench ? `${report}\n### bench/proxy/proxy.ts${proxyBench.status ? ` (exit ${proxyBench.status})` : ''}\n\n\`\`\`\n${proxyBench.output.slice(-4000)}\n\`\`\`\n` : report;
process.stdout.write(`${full}\n`);

const resultsDir = path.join(root, 'bench', 'results');
fs.mkdirSync(resultsDir, { recursive: true });
const file = path.join(resultsDir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
fs.writeFileSync(file, `${JSON.stringify({
  time: new Date().toISOString(), commit, machine, loadavgStart, loadavgEnd,
  options: { seconds, warmup, connections, rounds, serialSeconds, idleCount, streamBytes, starveSeconds, starveRps, starveBurners, baseline: values.baseline },
  http: Object.fromEntries(rows), https: httpsRows, streams, starvation: starved, profiles, proxyBench, markdown: full,
}, null, 2)}\n`);
log(`results: ${path.relative(root, file)}`);
const streamFailed = streams.some((s) => !s.ok || s.rssGrowthMiB >= 64);
process.exit(streamFailed ? 1 : 0);
