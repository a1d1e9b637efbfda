// bench/decide: decisions per second and p50/p99 latency of Airlock's in-process evaluation vs the
// same policy served by `opa run --server` over HTTP (how most users call OPA), in one run.
// Usage: node bin/run-ts.js bench/decide/decide.ts [--iterations N]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { PolicyEngine } from '../../engine/engine.ts';
import { requireOpa } from '../../engine/toolchain.ts';
import { description, writePolicy } from './workload.ts';

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '20000' } } });
const N = Number(values.iterations);

function stats(samplesUs: number[], wallMs: number): { perSec: number; p50: number; p99: number } {
  const s = [...samplesUs].sort((a, b) => a - b);
  return { perSec: Math.round((s.length / wallMs) * 1000), p50: s[Math.floor(s.length * 0.5)]!, p99: s[Math.floor(s.length * 0.99)]! };
}

async function measure(n: number, fn: () => Promise<unknown> | unknown): Promise<ReturnType<typeof stats>> {
  for (let i = 0; i < Math.min(2000, n); i++) await fn(); // warm-up
  const samples: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await fn();
    samples.push((performance.now() - s) * 1000);
  }
  return stats(samples, performance.now() - t0);
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-bench-decide-'));
writePolicy(dir);
const input = description();
const inputJson = JSON.stringify({ input });
console.log(`policy: ${dir}/policy.rego (${fs.readFileSync(path.join(dir, 'policy.rego'), 'utf8').split('\n').filter((l) => l.includes(' if ')).length} rules), input ${JSON.stringify(input).length} bytes, ${N} iterations`);

const inline = new PolicyEngine({ mode: 'inline' });
await inline.loadFolder(dir);
const first = await inline.decide(input);
if (first.action !== 'allow') throw new Error(`unexpected decision ${JSON.stringify(first)}`);
const rInline = await measure(N, () => inline.decide(input));

const isolated = new PolicyEngine({ mode: 'isolated', threads: 1 });
await isolated.loadFolder(dir);
const rIsolated = await measure(Math.min(N, 10_000), () => isolated.decide(input));

const port = await freePort();
const opa = spawn(requireOpa(), ['run', '--server', '--addr', `127.0.0.1:${port}`, '--log-level', 'error', dir], { stdio: 'ignore' });
const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 1 });
const call = async (): Promise<unknown> => {
  const r = await pool.request({ method: 'POST', path: '/v1/data/airlock/decision', body: inputJson, headers: { 'content-type': 'application/json' } });
  return r.body.json();
};
for (let i = 0; i < 100; i++) {
  try {
    const r = (await call()) as { result?: { action?: string } };
    if (r.result?.action !== 'allow') throw new Error(`OPA server disagrees: ${JSON.stringify(r)}`);
    break;
  } catch (err) {
    if (i === 99) throw err;
    await new Promise((r) => setTimeout(r, 100));
  }
}
const rServer = await measure(Math.min(N, 10_000), call);
await pool.close();
opa.kill();
await isolated.close();
fs.rmSync(dir, { recursive: true, force: true });

const row = (name: string, r: ReturnType<typeof stats>): string =>
  `| ${name} | ${r.perSec.toLocaleString('en')} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${(rServer.p50 / r.p50).toFixed(1)}x |`;
console.log('\n| evaluation | decisions/s | p50 µs | p99 µs | p50 speed-up vs OPA server |');
console.log('|---|---|---|---|---|');
console.log(row('Airlock in-process (inline)', rInline));
console.log(row('Airlock in-process (isolated thread, deadline)', rIsolated));
console.log(row('opa run --server over HTTP (keep-alive)', rServer));
