// bench/describe: the describe step's cost for bodies and SQL — a plain JSON body, a 1 MiB JSON body
// (duplicate-key scan included), a UTF-16 JSON-RPC body, and SQL per dialect (PostgreSQL's parser,
// SQLite's engine with its synthesized schema, both for an endpoint of unknown dialect).
// Usage: node bin/run-ts.js bench/describe/describe.ts [--iterations N]
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadAdapters } from '../../describe/adapters/index.ts';
import { describeRequest, type RawRequest } from '../../describe/describe.ts';

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '2000' } } });
const N = Number(values.iterations);
await loadAdapters();

const agent = { agent: { id: 'bench', labels: {} } };
function raw(url: string, body: Buffer | string, type = 'application/json'): RawRequest {
  return { method: 'POST', url, headers: [['content-type', type]], body: typeof body === 'string' ? Buffer.from(body) : body, bodyTruncated: false };
}
const D1 = 'https://api.cloudflare.com/client/v4/accounts/a/d1/database/d/query';
const NEON = 'https://ep-x-1.us-east-2.aws.neon.tech/sql';
const GENERIC = 'https://db.example.com/v1/sql';
const read = 'SELECT id, email FROM users WHERE id = ?1 AND deleted_at IS NULL ORDER BY created_at DESC LIMIT 10';
const write = "DELETE FROM sessions WHERE expires_at < datetime('now')";
const msgs = Array.from({ length: 2000 }, (_, i) => ({ role: i % 2 ? 'user' : 'assistant', content: `${'lorem ipsum dolor sit amet '.repeat(20)}${i}` }));

const cases: Array<[string, RawRequest]> = [
  ['JSON body, 2 KB', raw('https://api.github.com/repos/a/b/issues', JSON.stringify({ title: 'x', body: 'y'.repeat(2000) }))],
  ['JSON body, 1.1 MB (inference)', raw('https://api.openai.com/v1/chat/completions', JSON.stringify({ model: 'gpt-4o', messages: msgs }))],
  ['JSON-RPC, UTF-16LE with BOM', raw('https://mcp.example.com/mcp', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{}}}', 'utf16le')]))],
  ['SQL read, PostgreSQL (Neon)', raw(NEON, JSON.stringify({ query: read.replace('?1', '$1'), params: [1] }))],
  ['SQL read, SQLite (D1)', raw(D1, JSON.stringify({ sql: read, params: [1] }))],
  ['SQL delete, SQLite (D1, sample run)', raw(D1, JSON.stringify({ sql: write }))],
  ['SQL read, unknown dialect (both)', raw(GENERIC, JSON.stringify({ sql: read }))],
];

console.log(`| request | p50 µs | p99 µs |\n|---|---|---|`);
for (const [name, r] of cases) {
  for (let i = 0; i < Math.min(200, N); i++) describeRequest(r, agent);
  const samples: number[] = [];
  const n = name.includes('1.1 MB') ? Math.ceil(N / 20) : N;
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    describeRequest(r, agent);
    samples.push((performance.now() - s) * 1000);
  }
  samples.sort((a, b) => a - b);
  console.log(`| ${name} | ${samples[Math.floor(n * 0.5)]!.toFixed(0)} | ${samples[Math.floor(n * 0.99)]!.toFixed(0)} |`);
}
