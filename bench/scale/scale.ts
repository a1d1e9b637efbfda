// Embedded state folder vs PostgreSQL + Redis (docs/deploy.md):
//  1. CPU per request of the proxy process at the same fixed request rate, for a plain allowed GET
//     and one charging two rate limits (Redis on the shared side), audit log included (file vs
//     batched rows).
//  2. Across replicas: a request held on A until it shows in B's studio (WebSocket event), and
//     from the human's click on B (POST approve) until A releases the request to the agent.
// PostgreSQL and Redis are started here on loopback in temporary folders (as the tests do).
// Usage: node bin/run-ts.js bench/scale/scale.ts [--rps 300] [--seconds 10] [--approvals 20]
import fs from 'node:fs';
import os from 'node:os';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProxyAgent, request } from 'undici';
import WebSocket from 'ws';
import { runRate } from '../lib/loadgen.ts';
import { readJsonLine, start, type Proc } from '../lib/proc.ts';
import { warmUntilSteady } from '../lib/warm-up.ts';
import { startPostgres, startRedis } from '../../test/helpers/pg-redis.ts';
import type { CompiledPolicy } from '../../engine/compile.ts';
import { PgState } from '../../state/postgres/db.ts';
import { PgPolicyVersions } from '../../state/postgres/policy-versions.ts';
import { VersionStore } from '../../studio/versions.ts';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const rps = arg('rps', 300);
const seconds = arg('seconds', 10);
const approvals = arg('approvals', 20);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const teardowns: Array<() => unknown> = [];
const t = { teardown: (fn: () => unknown) => void teardowns.push(fn) };

interface Child { proc: Proc; port: number; studio: string; home: string; auth?: string }

async function replica(originPort: number, store?: string, limits?: string, agent = false): Promise<Child> {
  const proc = start('replica', process.execPath, [path.join(root, 'bin/run-ts.js'), path.join(root, 'bench/scale/replica-child.ts'), String(originPort), store ?? '-', limits ?? '-', agent ? 'agent' : ''], { AIRLOCK_MASTER_KEY: 'bench master key passphrase' });
  const info = await readJsonLine<{ port: number; studio: string; home: string; auth?: string }>(proc, 60_000);
  teardowns.push(() => proc.stop());
  return { proc, ...info };
}

/** utime + stime of a process, in ms (from /proc; 10 ms ticks). */
function cpuMs(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

async function cpuPerRequest(c: Child, originPort: number, route: string): Promise<{ usPerRequest: number; rps: number; errors: number; non2xx: number; p50Ms: number; p99Ms: number }> {
  const target = { connectTo: `http://127.0.0.1:${c.port}`, url: `http://127.0.0.1:${originPort}${route}`, viaProxy: true, proxyAuthorization: c.auth! };
  // Until the CPU per request settles (V8 compiles for a fresh process's first seconds): 2–30 s.
  const warm = await warmUntilSteady(c.proc.pid, async (s) => (await runRate(target, { rps, durationMs: s * 1000, connections: 16 })).requests, 2, 30);
  process.stderr.write(`scale: ${route}: warmed up in ${warm.seconds} s, CPU µs/req per window ${warm.cpuPerRequestUs.join(' → ')}\n`);
  await new Promise((r) => setTimeout(r, 300));
  const before = cpuMs(c.proc.pid);
  const r = await runRate(target, { rps, durationMs: seconds * 1000, connections: 16 });
  await new Promise((res) => setTimeout(res, 300)); // batched audit writes land
  const used = cpuMs(c.proc.pid) - before;
  return { usPerRequest: Math.round((used * 1000) / r.requests), rps: Math.round(r.rps), errors: r.errors, non2xx: r.non2xx, p50Ms: r.p50Ms, p99Ms: r.p99Ms };
}

async function login(c: Child): Promise<{ cookie: string; csrf: string }> {
  const token = fs.readFileSync(path.join(c.home, 'studio-token'), 'utf8').trim();
  const r = await fetch(`${c.studio}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  return { cookie: (r.headers.get('set-cookie') ?? '').split(';')[0]!, csrf: ((await r.json()) as { csrf: string }).csrf };
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 10) / 10;
};

try {
  const origin = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  teardowns.push(() => origin.close());
  const originPort = (origin.address() as { port: number }).port;
  const pg = await startPostgres(t);
  const redis = await startRedis(t);
  const store = await pg.createDatabase('bench');

  const results: Record<string, unknown> = {};
  const embedded = await replica(originPort);
  results.embedded = { plain: await cpuPerRequest(embedded, originPort, '/plain'), limited: await cpuPerRequest(embedded, originPort, '/limited') };
  await embedded.proc.stop();
  const shared = await replica(originPort, store, redis.url, true);
  results.shared = { plain: await cpuPerRequest(shared, originPort, '/plain'), limited: await cpuPerRequest(shared, originPort, '/limited') };

  // Approvals across replicas: the agent's request held on A, approved in B's studio.
  const b = await replica(originPort, store, redis.url);
  const a = shared;
  const session = await login(b);
  const ws = new WebSocket(`${b.studio.replace('http', 'ws')}/api/ws`, { headers: { cookie: session.cookie, origin: b.studio } });
  await new Promise((r) => ws.once('open', r));
  const viaA = new ProxyAgent({ uri: `http://127.0.0.1:${a.port}`, token: a.auth! });
  const shownMs: number[] = [];
  const releasedMs: number[] = [];
  for (let i = 0; i < approvals; i++) {
    const t0 = performance.now();
    const created = new Promise<string>((resolve) => {
      const on = (m: WebSocket.RawData): void => {
        const msg = JSON.parse(String(m)) as { type: string; data: { event?: string; approval?: { id: string; summary: { path: string } } } };
        if (msg.type === 'approval' && msg.data.event === 'created') {
          ws.off('message', on);
          resolve(msg.data.approval!.id);
        }
      };
      ws.on('message', on);
    });
    const held = request(`http://127.0.0.1:${originPort}/approve`, {
      method: 'POST', body: `{"n":${i}}`, headers: { 'content-type': 'application/json' }, dispatcher: viaA,
    }).then(async (r) => { await r.body.text(); return { status: r.statusCode, at: performance.now() }; });
    const id = await created;
    shownMs.push(performance.now() - t0);
    // Wait until A holds it (the studio shows "held"), as a human would see it before clicking.
    for (let k = 0; k < 200; k++) {
      const v = await fetch(`${b.studio}/api/approvals/${id}`, { headers: { cookie: session.cookie } }).then((r) => r.json() as Promise<{ approval?: { held?: boolean } }>);
      if (v.approval?.held) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const click = performance.now();
    const r = await fetch(`${b.studio}/api/approvals/${id}/approve`, { method: 'POST', headers: { cookie: session.cookie, 'x-airlock-csrf': session.csrf, 'content-type': 'application/json' }, body: '{}' });
    if (r.status !== 200) throw new Error(`approve: ${r.status} ${await r.text()}`);
    const done = await held;
    if (done.status !== 200) throw new Error(`held request answered ${done.status}`);
    releasedMs.push(done.at - click);
  }
  ws.close();
  results.approvalsAcrossReplicas = {
    n: approvals,
    heldOnA_shownInB_ms: { p50: pct(shownMs, 50), p95: pct(shownMs, 95), max: pct(shownMs, 100) },
    clickOnB_releasedOnA_ms: { p50: pct(releasedMs, 50), p95: pct(releasedMs, 95), max: pct(releasedMs, 100) },
  };
  // A publish: from the moment it is stored (live on the publishing replica) until every other
  // replica decides with it, as their studios report. The bundle travels with the sources, as a
  // publish from a studio sends it.
  const publishMs: number[] = [];
  const db = await PgState.open(store, { listen: false });
  const pubHome = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-scale-pub-'));
  teardowns.push(() => fs.rmSync(pubHome, { recursive: true, force: true }));
  const doc = await PgPolicyVersions.open(db, pubHome);
  const versions = VersionStore.over(pubHome, doc);
  const sessionA = await login(a);
  for (let i = 0; i < 5; i++) {
    const draft = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-scale-draft-'));
    fs.cpSync(path.join(root, 'bench/approvals/policy'), draft, { recursive: true });
    fs.appendFileSync(path.join(draft, 'airlock.rego'), `\n# publish ${i} ${Date.now()}\n`);
    let compiled: CompiledPolicy | undefined;
    doc.artifact = (v) => (compiled?.version === v ? { wasm: compiled.wasm, data: compiled.data } : undefined);
    const record = await versions.publish(draft, async (c) => void (compiled = c), async () => ({ ok: true, passed: 0, failed: 0, output: '', failures: [] }));
    const t0 = performance.now();
    for (const [r, s2] of [[a, sessionA], [b, session]] as const) {
      for (let k = 0; k < 1000; k++) {
        const v = await fetch(`${r.studio}/api/policy/versions`, { headers: { cookie: s2.cookie } }).then((x) => x.json() as Promise<{ running?: string }>);
        if (v.running === record.version) break;
        await new Promise((res) => setTimeout(res, 5));
      }
    }
    publishMs.push(performance.now() - t0);
    fs.rmSync(draft, { recursive: true, force: true });
  }
  await db.close();
  results.publishLiveOnAllReplicas_ms = { n: publishMs.length, p50: pct(publishMs, 50), max: pct(publishMs, 100) };

  const e = results.embedded as { plain: { usPerRequest: number }; limited: { usPerRequest: number } };
  const s = results.shared as typeof e;
  results.ratio = { plain: Math.round((s.plain.usPerRequest / e.plain.usPerRequest) * 100) / 100, limited: Math.round((s.limited.usPerRequest / e.limited.usPerRequest) * 100) / 100 };
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  fs.mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  fs.writeFileSync(path.join(root, `bench/results/scale-${Date.now()}.json`), JSON.stringify({ rps, seconds, ...results }, null, 2));
} finally {
  for (const fn of teardowns.reverse()) await fn();
}
