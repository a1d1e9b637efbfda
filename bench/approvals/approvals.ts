// bench/approvals: (1) the rate limiter's overhead per request — the charge itself against a no-op
// enforcer call, and whole requests through the proxy with and without rate_limits in the decision;
// (2) approval latency — from a human's resolution (engine API and studio REST) to the held
// request leaving the proxy (arriving at a local upstream), and from a new approval to the
// studio's WebSocket broadcast. Results are ratios and percentiles, printed as JSON and a summary.
// Usage: node bin/run-ts.js bench/approvals/approvals.ts [--seconds S] [--approvals N]
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { BucketTable } from '../../state/ratelimit.ts';
import type { ApprovalQueue } from '../../state/approvals.ts';
import type { RateLimitDirective } from '../../engine/decision.ts';
import { startAirlock } from '../../runtime/airlock.ts';
import { runLoad } from '../lib/loadgen.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '4' }, approvals: { type: 'string', default: '40' } } });
const seconds = Number(values.seconds);
const approvalsN = Number(values.approvals);
const here = path.dirname(fileURLToPath(import.meta.url));

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}
const r3 = (n: number) => Math.round(n * 1000) / 1000;

// ─── 1a. the charge itself ─────────────────────────────────────────────────────────────────────
function micro(): Record<string, number> {
  const N = 200_000;
  const table = new BucketTable();
  const desc = { request: { egress_bytes: 300 } } as never;
  const one: RateLimitDirective[] = [{ key: 'gh:write:bot', limit: 1e9, window: '1s' }];
  const three: RateLimitDirective[] = [...one, { key: 'global', limit: 1e9, window: '1m' }, { key: 'bytes', limit: 1e12, window: '1h', unit: 'egress_bytes' }];
  const noop = { beforeForward: (_c: unknown) => undefined as unknown };
  const time = (fn: () => unknown): number => {
    for (let i = 0; i < 20_000; i++) fn();
    const t0 = performance.now();
    for (let i = 0; i < N; i++) fn();
    return ((performance.now() - t0) * 1e6) / N; // ns per call
  };
  const noopNs = time(() => noop.beforeForward(desc));
  const oneNs = time(() => table.charge(one, desc));
  const threeNs = time(() => table.charge(three, desc));
  return { noop_ns: r3(noopNs), charge_1_key_ns: r3(oneNs), charge_3_keys_ns: r3(threeNs) };
}

// ─── shared running Airlock ────────────────────────────────────────────────────────────────────
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-bench-ap-'));
const arrivals = new Map<string, number>();
const upstream = http.createServer((req, res) => {
  arrivals.set(req.url ?? '', performance.now());
  req.resume();
  req.on('end', () => res.end('ok'));
});
await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
const upPort = (upstream.address() as { port: number }).port;
const airlock = await startAirlock({
  home, policy: path.join(here, 'policy'), proxy: '127.0.0.1:0', studio: '127.0.0.1:0', unixSocket: false,
  allowPrivate: [`127.0.0.1:${upPort}`], resolve: ['bench.example=127.0.0.1'],
});
const { token } = await airlock.agents.add('bench');
const auth = `Basic ${Buffer.from(`bench:${token}`).toString('base64')}`;
const proxyAt = `http://127.0.0.1:${airlock.proxyAddress.port}`;
const queue = (airlock as unknown as { approvals: ApprovalQueue }).approvals;

try {
  // ─── 1b. whole requests with and without rate limits ─────────────────────────────────────────
  const load = (p: string) => runLoad(
    { connectTo: proxyAt, url: `http://bench.example:${upPort}${p}`, viaProxy: true, proxyAuthorization: auth },
    { connections: 8, durationMs: seconds * 1000, maxRequests: 2_000_000, warmupRequests: 300 },
  );
  // Interleave to spread machine noise over both.
  const plain1 = await load('/plain');
  const limited1 = await load('/limited');
  const plain2 = await load('/plain');
  const limited2 = await load('/limited');
  const plainRps = (plain1.rps + plain2.rps) / 2;
  const limitedRps = (limited1.rps + limited2.rps) / 2;
  const errors = plain1.errors + plain2.errors + limited1.errors + limited2.errors + plain1.non2xx + plain2.non2xx + limited1.non2xx + limited2.non2xx;

  // ─── 2. approval latency ─────────────────────────────────────────────────────────────────────
  const studio = `http://127.0.0.1:${airlock.studioAddress!.port}`;
  const login = await fetch(`${studio}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: fs.readFileSync(path.join(home, 'studio-token'), 'utf8').trim() }) });
  const { csrf } = (await login.json()) as { csrf: string };
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const ws = new WebSocket(`${studio.replace('http', 'ws')}/api/ws`, { headers: { cookie, origin: studio } });
  await new Promise<void>((res, rej) => { ws.once('open', () => res()); ws.once('error', rej); });
  const wsSeen = new Map<string, number>();
  ws.on('message', (m) => {
    const msg = JSON.parse(String(m)) as { type: string; data?: { event?: string; approval?: { id: string } } };
    if (msg.type === 'approval' && msg.data?.event === 'created' && msg.data.approval) wsSeen.set(msg.data.approval.id, performance.now());
  });
  const created = new Map<string, number>();
  queue.onChange((e) => { if (e.type === 'created') created.set(e.approval.id, performance.now()); });

  const oneApproval = async (i: number, via: 'engine' | 'rest'): Promise<{ resolveToLeave: number; createdToWs?: number }> => {
    const p = `/approve?i=${via}-${i}`;
    // The agent: an absolute-form request to the proxy (bench.example is pinned to 127.0.0.1 there).
    const agentReq = new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: airlock.proxyAddress.port, method: 'POST', path: `http://bench.example:${upPort}${p}`, headers: { host: `bench.example:${upPort}`, 'proxy-authorization': auth, 'content-length': '1' }, agent: false });
      req.on('response', (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); });
      req.on('error', reject);
      req.end('x');
    });
    let id: string | undefined;
    for (let k = 0; k < 2000 && !id; k++) {
      id = queue.list({ status: 'pending' }).find((a) => a.summary.path === '/approve' && a.description.request.query.i?.[0] === `${via}-${i}`)?.id;
      if (!id) await new Promise((r) => setTimeout(r, 2));
    }
    if (!id) throw new Error('approval not created');
    for (let k = 0; k < 500 && !wsSeen.has(id); k++) await new Promise((r) => setTimeout(r, 2));
    const t0 = performance.now();
    if (via === 'engine') await queue.approve(id, { by: 'bench' });
    else {
      const res = await fetch(`${studio}/api/approvals/${id}/approve`, { method: 'POST', headers: { cookie, 'x-airlock-csrf': csrf, 'content-type': 'application/json' }, body: '{}' });
      if (!res.ok) throw new Error(`REST approve failed: ${res.status}`);
    }
    const status = await agentReq;
    if (status !== 200) throw new Error(`held request answered ${status}`);
    const arrived = arrivals.get(p);
    if (arrived === undefined) throw new Error('request never arrived');
    return { resolveToLeave: arrived - t0, ...(wsSeen.has(id) && created.has(id) ? { createdToWs: wsSeen.get(id)! - created.get(id)! } : {}) };
  };
  const engineLat: number[] = [];
  const restLat: number[] = [];
  const wsLat: number[] = [];
  for (let i = 0; i < approvalsN; i++) {
    const a = await oneApproval(i, 'engine');
    engineLat.push(a.resolveToLeave);
    if (a.createdToWs !== undefined) wsLat.push(a.createdToWs);
    const b = await oneApproval(i, 'rest');
    restLat.push(b.resolveToLeave);
    if (b.createdToWs !== undefined) wsLat.push(b.createdToWs);
  }
  ws.terminate();

  const result = {
    machine: { cpus: os.cpus().length, load: os.loadavg().map(r3) },
    limiter_micro: micro(),
    limiter_through_proxy: {
      seconds_per_run: seconds, runs: 2, connections: 8,
      plain_rps: Math.round(plainRps), limited_rps: Math.round(limitedRps),
      ratio_limited_vs_plain: r3(limitedRps / plainRps),
      p50_ms: { plain: r3((plain1.p50Ms + plain2.p50Ms) / 2), limited: r3((limited1.p50Ms + limited2.p50Ms) / 2) },
      errors,
    },
    approval_latency_ms: {
      samples_each: approvalsN,
      engine_api: { p50: r3(pct(engineLat, 50)), p90: r3(pct(engineLat, 90)), max: r3(Math.max(...engineLat)) },
      studio_rest: { p50: r3(pct(restLat, 50)), p90: r3(pct(restLat, 90)), max: r3(Math.max(...restLat)) },
      created_to_websocket: { p50: r3(pct(wsLat, 50)), p90: r3(pct(wsLat, 90)), max: r3(Math.max(...wsLat)), samples: wsLat.length },
    },
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  await airlock.close();
  await new Promise<void>((r) => upstream.close(() => r()));
  fs.rmSync(home, { recursive: true, force: true });
}
