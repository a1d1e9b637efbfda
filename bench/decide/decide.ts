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
import type { RequestDescription } from '../../engine/types.ts';

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '20000' } } });
const N = Number(values.iterations);

/** ~50 rules in the shape real policies take: per-service, per-method, per-path, per-label checks. */
function writePolicy(dir: string): void {
  const rules: string[] = [];
  for (let i = 0; i < 20; i++) {
    rules.push(`allow_read contains "svc${i}" if {\n\tinput.request.host == "api${i}.example.com"\n\tinput.request.method in {"GET", "HEAD"}\n}`);
  }
  for (let i = 0; i < 15; i++) {
    rules.push(`needs_approval contains "write${i}" if {\n\tinput.request.host == "api${i}.example.com"\n\tinput.request.method in {"POST", "PUT", "PATCH"}\n\tstartswith(input.request.path, "/v1/objects${i}")\n}`);
  }
  for (let i = 0; i < 10; i++) {
    rules.push(`forbidden contains "label${i}" if {\n\tinput.agent.labels.team == "team${i}"\n\tinput.request.body.size > ${1_000_000 + i}\n}`);
  }
  rules.push(`forbidden contains "placeholder" if count(input.placeholders) > 0`);
  rules.push(`forbidden contains "query-exfil" if {\n\tsome name, vals in input.request.query\n\tsome v in vals\n\tcount(v) > 512\n}`);
  rules.push(`forbidden contains "json-secret" if {\n\tsome k, v in input.request.body.json\n\tis_string(v)\n\tregex.match("^sk_live_[A-Za-z0-9]{24}$", v)\n}`);
  const policy = `package airlock

import rego.v1

${rules.join('\n\n')}

default decision := {"action": "deny", "reason": "unknown destination", "rule": "default"}

decision := {"action": "deny", "reason": "forbidden", "rule": concat(",", forbidden)} if count(forbidden) > 0

else := {"action": "approve", "reason": "write", "rule": "write", "approval": {"risk": "medium"}} if count(needs_approval) > 0

else := {
\t"action": "allow", "reason": "read", "rule": "read",
\t"rate_limits": [{"key": concat(":", ["read", input.agent.id]), "limit": 1000, "window": "1h"}],
} if count(allow_read) > 0
`;
  fs.writeFileSync(path.join(dir, 'policy.rego'), policy);
}

function description(): RequestDescription {
  const items = Array.from({ length: 20 }, (_, i) => ({ id: i, name: `item-${i}`, tags: ['a', 'b', 'c'], price: i * 3.5, note: 'x'.repeat(40) }));
  const body = JSON.stringify({ items, customer: 'cus_123', description: 'a realistic order payload' });
  return {
    request: {
      id: '7c1f0a3e-2f59-4a0a-9d8f-3b2a1c0d9e8f', time: new Date().toISOString(), method: 'GET',
      url: 'https://api7.example.com/v1/objects7/list?limit=50&cursor=abc', scheme: 'https', host: 'api7.example.com', port: 443,
      path: '/v1/objects7/list', segments: ['v1', 'objects7', 'list'], query: { limit: ['50'], cursor: ['abc'] },
      headers: {
        accept: ['application/json'], 'user-agent': ['agent/1.0 (node)'], authorization: ['Bearer [redacted]'],
        'content-type': ['application/json'], 'x-request-id': ['r-1234567890'], 'accept-encoding': ['gzip, br'],
        'content-length': [String(body.length)],
      },
      body: { size: body.length, sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', content_type: 'application/json', json: JSON.parse(body), truncated: false },
      egress_bytes: body.length + 200,
    },
    agent: { id: 'agent-1', labels: { team: 'team3' } },
    placeholders: [],
    grants: [],
  };
}

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
