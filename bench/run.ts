// `npm run bench`: Airlock side by side with peer proxies on this machine, in one go.
//
//   1. an origin server in its own process (bench/lib/upstream-server.ts)
//   2. for each contestant — direct (no proxy), Airlock, tinyproxy, mitmproxy, smokescreen — in its
//      own process: a closed-loop load of small GETs through it (bench/lib/loadgen.ts: req/s, p50,
//      p99) while sampling its RSS, then 1,000 idle keep-alive connections (RSS per connection)
//   3. Airlock only: a 1 GiB streamed upload and download (RSS growth must stay under 64 MiB)
//   4. the proxy engineer's own benchmarks under bench/proxy/, when present, run as they are
//
// Prints markdown tables (ratios to direct) and writes everything as JSON to bench/results/.
// Usage: npm run bench -- [--duration 10] [--connections 32] [--only airlock,tinyproxy]
//                         [--idle 1000] [--stream-mib 1024] [--no-memory] [--no-proxy-bench]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runLoad, type LoadResult, type Target } from './lib/loadgen.ts';
import { peers, startPeer, type RunningProxy } from './lib/peers.ts';
import { readJsonLine, rssSampler, start, type Proc } from './lib/proc.ts';
import { idleConnections, streamThrough, type IdleResult, type StreamResult } from './memory/memory.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
    only: { type: 'string' },
    idle: { type: 'string', default: '1000' },
    'stream-mib': { type: 'string', default: '1024' },
    'no-memory': { type: 'boolean', default: false },
    'no-proxy-bench': { type: 'boolean', default: false },
  },
});
const durationMs = Number(values.duration) * 1000;
const connections = Number(values.connections);
const idleCount = Number(values.idle);
const streamBytes = Number(values['stream-mib']) * 1024 * 1024;
const only = values.only ? new Set(values.only.split(',').map((s) => s.trim())) : undefined;
const wanted = (name: string): boolean => name === 'direct' || !only || only.has(name);
const tsRunner = [path.join(root, 'bin', 'run-ts.js')];
const MiB = 1024 * 1024;

interface Row {
  name: string;
  note: string;
  load?: LoadResult;
  rssPeakMiB?: number;
  idle?: IdleResult;
  missing?: string;
  error?: string;
}

function log(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

async function startOrigin(): Promise<{ proc: Proc; port: number }> {
  const proc = start('origin', process.execPath, [...tsRunner, path.join(root, 'bench/lib/upstream-server.ts')]);
  const { port } = await readJsonLine<{ port: number }>(proc);
  return { proc, port };
}

async function startAirlockChild(originPort: number): Promise<RunningProxy> {
  const proc = start('airlock', process.execPath, [...tsRunner, path.join(root, 'bench/lib/airlock-child.ts'), String(originPort)]);
  const ready = await readJsonLine<{ port: number; auth: string; pid: number }>(proc, 60_000);
  return { name: 'airlock', proxyUrl: `http://127.0.0.1:${ready.port}`, proc, proxyAuthorization: ready.auth, note: 'Airlock: describe + Rego/WASM decision + audit log per request' };
}

async function measure(row: Row, target: Target, pid: number): Promise<void> {
  log(`${row.name}: ${connections} connections for ${durationMs / 1000} s`);
  const sampler = rssSampler(pid);
  row.load = await runLoad(target, { connections, durationMs, maxRequests: 5_000_000 });
  row.rssPeakMiB = Math.round((sampler.stop() / MiB) * 10) / 10;
  log(`${row.name}: ${row.load.rps} req/s, p50 ${row.load.p50Ms} ms, p99 ${row.load.p99Ms} ms, ${row.load.errors} errors, ${row.load.non2xx} non-2xx${row.load.firstError ? ` (${row.load.firstError})` : ''}`);
  if (!values['no-memory']) {
    row.idle = await idleConnections(target, pid, idleCount);
    log(`${row.name}: ${row.idle.opened}/${idleCount} idle connections, ${row.idle.rssWithIdleMiB} MiB (${row.idle.perConnectionKiB} KiB each)`);
  }
}

const ratio = (x: number | undefined, base: number | undefined): string => (x === undefined || !base ? '–' : `${(x / base).toFixed(2)}×`);
const fmt = (x: number | undefined, digits = 2): string => (x === undefined ? '–' : x.toFixed(digits));

function table(rows: Row[]): string {
  const direct = rows.find((r) => r.name === 'direct');
  const lines = [
    '| proxy | req/s | × direct | p50 ms | × direct | p99 ms | × direct | peak RSS MiB | × direct | errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    if (r.missing || r.error) {
      lines.push(`| ${r.name} | ${r.missing ?? `failed: ${r.error}`} | | | | | | | | |`);
      continue;
    }
    const l = r.load!;
    lines.push(`| ${r.name} | ${Math.round(l.rps)} | ${ratio(l.rps, direct?.load?.rps)} | ${fmt(l.p50Ms)} | ${ratio(l.p50Ms, direct?.load?.p50Ms)} | ${fmt(l.p99Ms)} | ${ratio(l.p99Ms, direct?.load?.p99Ms)} | ${fmt(r.rssPeakMiB, 1)} | ${ratio(r.rssPeakMiB, direct?.rssPeakMiB)} | ${l.errors + l.non2xx} |`);
  }
  return lines.join('\n');
}

function idleTable(rows: Row[]): string {
  const lines = [`| proxy | RSS before MiB | RSS with ${idleCount} idle keep-alive connections MiB | KiB per connection | opened |`, '|---|---:|---:|---:|---:|'];
  for (const r of rows) if (r.idle) lines.push(`| ${r.name} | ${r.idle.rssBeforeMiB} | ${r.idle.rssWithIdleMiB} | ${r.idle.perConnectionKiB} | ${r.idle.opened}/${r.idle.connections} |`);
  return lines.join('\n');
}

function streamTable(results: StreamResult[]): string {
  const lines = ['| Airlock, streamed | bytes | ok | MiB/s | RSS before MiB | RSS peak MiB | growth MiB | under 64 MiB |', '|---|---:|---|---:|---:|---:|---:|---|'];
  for (const s of results) lines.push(`| ${s.direction} | ${(s.bytes / MiB).toFixed(0)} MiB | ${s.ok ? 'yes' : `no: ${s.error}`} | ${s.mibPerSecond} | ${s.rssBeforeMiB} | ${s.rssPeakMiB} | ${s.rssGrowthMiB} | ${s.rssGrowthMiB < 64 ? 'yes' : '**NO**'} |`);
  return lines.join('\n');
}

/** The proxy's own benchmark (bench/proxy/proxy.ts: HTTP sizes, HTTPS interception), run as it is, output kept. */
function runProxyBenchmarks(): Array<{ file: string; status: number | null; output: string; json?: unknown }> {
  const file = path.join(root, 'bench', 'proxy', 'proxy.ts');
  if (!fs.existsSync(file)) return [];
  log('bench/proxy/proxy.ts');
  const jsonFile = path.join(tmp, 'proxy-bench.json');
  const r = spawnSync(process.execPath, [...tsRunner, file, '--duration', String(Math.max(1, Math.round(durationMs / 2000))), '--json', jsonFile], { cwd: root, encoding: 'utf8', timeout: 10 * 60_000 });
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(jsonFile, 'utf8'));
  } catch { /* the script failed or wrote no JSON: its output says why */ }
  return [{ file: 'bench/proxy/proxy.ts', status: r.status, output: `${r.stdout ?? ''}${r.status ? r.stderr ?? '' : ''}`.trim(), ...(json ? { json } : {}) }];
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-bench-run-'));
const origin = await startOrigin();
const url = `http://127.0.0.1:${origin.port}/hello`;
const rows: Row[] = [];
const streams: StreamResult[] = [];
try {
  const direct: Row = { name: 'direct', note: 'no proxy: the load generator talks to the origin' };
  await measure(direct, { connectTo: `http://127.0.0.1:${origin.port}`, url, viaProxy: false }, origin.proc.pid);
  rows.push(direct);

  const contestants: Array<{ name: string; start: () => Promise<RunningProxy | { name: string; missing: string }> }> = [
    { name: 'airlock', start: () => startAirlockChild(origin.port) },
    ...peers.map((p) => ({ name: p.name, start: () => startPeer(p, tmp) })),
  ];
  for (const c of contestants) {
    if (!wanted(c.name)) continue;
    const row: Row = { name: c.name, note: '' };
    rows.push(row);
    let running: RunningProxy | undefined;
    try {
      const started = await c.start();
      if ('missing' in started) {
        row.missing = started.missing;
        log(`${c.name}: ${started.missing}`);
        continue;
      }
      running = started;
      row.note = running.note;
      const target: Target = { connectTo: running.proxyUrl, url, viaProxy: true, ...(running.proxyAuthorization ? { proxyAuthorization: running.proxyAuthorization } : {}) };
      await measure(row, target, running.proc.pid);
      if (c.name === 'airlock' && !values['no-memory']) {
        for (const direction of ['upload', 'download'] as const) {
          log(`airlock: ${(streamBytes / MiB).toFixed(0)} MiB ${direction}`);
          const s = await streamThrough(target, running.proc.pid, direction, streamBytes);
          streams.push(s);
          log(`airlock: ${direction} ${s.ok ? 'ok' : `FAILED ${s.error}`}, ${s.mibPerSecond} MiB/s, RSS growth ${s.rssGrowthMiB} MiB`);
        }
      }
    } catch (err) {
      row.error = (err as Error).message.split('\n')[0]!.slice(0, 200);
      log(`${c.name}: ${row.error}`);
    } finally {
      await running?.proc.stop();
    }
  }
} finally {
  await origin.proc.stop();
}
const proxyBench = values['no-proxy-bench'] ? [] : runProxyBenchmarks();

const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.type()} ${os.release()}`;
const report = [
  `## Airlock vs peers (${new Date().toISOString().slice(0, 10)}, ${machine})`,
  '',
  `Closed loop, ${connections} keep-alive connections, ${durationMs / 1000} s per proxy, 12-byte GET from a local origin, absolute-form HTTP through each proxy. Ratios are to direct (no proxy); direct's RSS is the origin server's.`,
  '',
  table(rows),
  '',
  ...rows.filter((r) => r.note).map((r) => `- ${r.name}: ${r.note}`),
  '',
  ...(rows.some((r) => r.idle) ? [idleTable(rows), ''] : []),
  ...(streams.length ? [streamTable(streams), ''] : []),
  ...proxyBench.flatMap((b) => [`### ${b.file}${b.status ? ` (exit ${b.status})` : ''}`, '', '```', b.output.slice(-4000), '```', '']),
].join('\n');
process.stdout.write(`${report}\n`);

const resultsDir = path.join(root, 'bench', 'results');
fs.mkdirSync(resultsDir, { recursive: true });
const file = path.join(resultsDir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
fs.writeFileSync(file, `${JSON.stringify({ time: new Date().toISOString(), machine, options: { durationMs, connections, idleCount, streamBytes }, rows, streams, proxyBench, markdown: report }, null, 2)}\n`);
log(`results: ${path.relative(root, file)}`);
fs.rmSync(tmp, { recursive: true, force: true });
const streamFailed = streams.some((s) => !s.ok || s.rssGrowthMiB >= 64);
process.exit(streamFailed ? 1 : 0);
