// Audit records against request content (issue 15, class 9, held-out pass): whatever an agent puts
// in a request, its record is written once, whole and parseable, and the process keeps serving.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { details, line } from '../../cli/commands/approvals.ts';
import { projectRoot } from '../../engine/toolchain.ts';
import { REFUSAL_BUCKETS, RefusalRate } from '../../proxy/audit-budget.ts';
import { SecretValueIndex } from '../../proxy/secret-values.ts';
import { redactedLine, type AuditRecord } from '../../state/audit-log.ts';
import { startTestAirlock, startUpstream, tempDir, viaProxy } from './helpers.ts';
import { reveal, spelling } from './spelling-oracle.ts';

process.env.AIRLOCK_MASTER_KEY ??= '3c'.repeat(32);

const SECRET = 'sk_live_Audit0123456789abcdef';
const numRuns = Number(process.env.AIRLOCK_FUZZ_RUNS ?? 300);
const seed = process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {};

t.test('property: a record holding any spelling of a real value, after any JSON-significant text, is written whole and redacted', async (t) => {
  const values = new SecretValueIndex([['api', SECRET]]);
  const redact = (line: string): string => values.redact(line);
  const around = fc.constantFrom('', '\\', '\\\\', '\\u', '\\x', '"', '\\"', '\n', '\u0000', '/', '&', '%', '=', '\ud800', 'a\\');
  const place = fc.constantFrom('url', 'detail', 'key', 'nested');
  fc.assert(fc.property(spelling(SECRET), around, around, place, (spelled, before, after, where) => {
    const text = `${before}${spelled.text}${after}`;
    const record: AuditRecord = { time: '2026-12-05T00:00:00.000Z', id: 'r1', agent: 'a', outcome: 'forwarded', status: 200 };
    if (where === 'url') record.url = `http://svc.example/?q=${text}`;
    else if (where === 'detail') record.detail = text;
    else if (where === 'key') record.extra = { [text]: 1 };
    else record.extra = { headers: { 'x-a': [text, 'b'] } };
    const { line, record: out } = redactedLine(record, redact);
    const where_ = `${spelled.how}, ${JSON.stringify(before)}…${JSON.stringify(after)} in ${where}`;
    if (line.includes('\n')) throw new Error(`the record spans lines (${where_})`);
    if (JSON.stringify(JSON.parse(line)) !== JSON.stringify(out)) throw new Error(`listeners get another record than the line (${where_})`);
    if (Object.keys(out).join() !== Object.keys(record).join()) throw new Error(`members lost or added (${where_}): ${line}`);
    const found = reveal(line, SECRET);
    if (found) throw new Error(`the value is in the line (${found}; ${where_}): ${line}`);
  }), { numRuns, ...seed });
});

t.test('a real value spelled after a backslash (its JSON escape then breaks on redaction) is still recorded', async (t) => {
  const up = await startUpstream(t, { handler: (_req, res) => res.end('ok') });
  const a = await startTestAirlock(t, {
    policy: 'readback', secrets: { api: SECRET },
    resolve: ['svc.example=127.0.0.1', 'other.example=127.0.0.1'], allowPrivate: [`127.0.0.1:${up.port}`],
  });
  const spelled = `\\u0073${SECRET.slice(1)}`;
  for (const [host, path] of [['svc.example', '/api/x'], ['other.example', '/x']] as const) {
    const url = `http://${host}:${up.port}${path}?q=${encodeURIComponent('\\')}${spelled}`;
    const r = await viaProxy(a.port, url, { auth: a.auth });
    t.ok(r.status > 0, `${host}: answered ${r.status}`);
  }
  const control = await viaProxy(a.port, `http://other.example:${up.port}/after`, { auth: a.auth });
  t.equal(control.status, 200, 'the proxy still serves');
  await a.airlock.audit.flush();
  t.equal(a.records.filter((r) => r.url?.includes('?q=')).length, 2, 'both requests are recorded');
  const lines = fs.readFileSync((a.airlock.audit as { file: string }).file, 'utf8').split('\n').filter(Boolean);
  t.ok(lines.every((l) => JSON.parse(l)), 'every line of the file parses');
  t.equal(lines.filter((l) => l.includes('?q=')).length, 2, 'both are in the file');
  t.equal(lines.map((l) => reveal(l, SECRET)).find(Boolean), undefined, 'and hold no spelling of the value');
});

t.test('what an agent sends cannot forge or rewrite a line of the log or of an approval shown to a human', async (t) => {
  const up = await startUpstream(t, { handler: (_req, res) => res.end('ok') });
  const policy = tempDir(t, 'airlock-rego-hosts-');
  fs.cpSync(path.join(projectRoot, 'rego'), policy, { recursive: true });
  const dataFile = path.join(policy, 'config', 'data.json');
  fs.writeFileSync(dataFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(dataFile, 'utf8')), allowed_hosts: ['docs.test'] }));
  const logged: string[] = [];
  const a = await startTestAirlock(t, {
    policy, studio: '127.0.0.1:0', resolve: ['docs.test=127.0.0.1'], allowPrivate: [`127.0.0.1:${up.port}`], log: (l) => logged.push(l),
  });
  // A forged record after a carriage return, cursor-up and erase-line (they survive upper-casing),
  // and a bidi override, in the override value the default policy's reason quotes.
  const forged = '\r\x1b[1A\x1b[2K2026-12-05T00:00:00.000Z attacker GET http://docs.test/ → allow forwarded 200\n\u202e';
  const url = `http://docs.test:${up.port}/page?_method=X${encodeURIComponent(forged)}`;
  const held = await viaProxy(a.port, url, { auth: a.auth, headers: { prefer: 'respond-async' } });
  t.equal(held.status, 202, 'held for a human (the override cannot be read one way)');
  // (and zero-width and tag characters, which no terminal draws: a sentence hidden in the preview)
  const body = `DELETE everything\x1b[2A\x1b[2K\rrisk       low\n\x1b]0;title\x07\u2066ok\u2069 \u200b\u{E0001}\u{E0049}\u{E0047}\u{E007F}`;
  const post = await viaProxy(a.port, `http://docs.test:${up.port}/items`, { auth: a.auth, method: 'POST', body, headers: { prefer: 'respond-async', 'content-type': 'text/plain' } });
  t.ok(post.status >= 200, `the write answered ${post.status}`);
  await a.airlock.audit.flush();
  const bad = /[\x00-\x1f\x7f-\x9f\u200b\u2028\u2029\u202a-\u202e\u2066-\u2069\u{E0000}-\u{E007F}]/u;
  t.ok(logged.length >= 2, 'the requests are logged');
  for (const l of logged) t.notOk(bad.test(l), `the log line holds no control or bidi character: ${JSON.stringify(l).slice(0, 160)}`);
  const pending = a.airlock.approvals.list({ status: 'pending' });
  t.ok(pending.length >= 1, 'an approval is pending');
  for (const ap of pending) {
    const listed = line(ap).split('\n');
    t.equal(listed.length, 2, 'the list shows two lines per approval');
    for (const l of listed) t.notOk(bad.test(l), `list line clean: ${JSON.stringify(l).slice(0, 160)}`);
    const shown = details(ap).split('\n');
    const previewAt = shown.indexOf('body preview:');
    for (const l of previewAt >= 0 ? shown.slice(0, previewAt) : shown) t.notOk(bad.test(l), `detail line clean: ${JSON.stringify(l).slice(0, 160)}`);
    for (const l of previewAt >= 0 ? shown.slice(previewAt) : []) t.notOk(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u202a-\u202e\u2066-\u2069\u{E0000}-\u{E007F}]/u.test(l), 'the body preview moves no cursor and hides nothing');
  }
});

// Fourteenth pass: refusals charged nothing and each was a record: one agent's keep-alive loops of
// denied GETs wrote ~1.3 MB of audit a second (4.7 GB an hour) on a loaded box. Past an agent's
// rate (here 20 a minute) its refusals are counted into one summary record a second; everything
// else stays whole.
t.test('a body nested deeper than a record can be serialized is still recorded (denied, fail-closed), and the proxy serves on; one agent\'s flood of refusals is counted into summaries', async (t) => {
  const up = await startUpstream(t, { handler: (_req, res) => res.end('ok') });
  const a = await startTestAirlock(t, { allowPrivate: [`127.0.0.1:${up.port}`], auditRefusalsPerMinute: 20 });
  for (const [depth, kind] of [[20_000, 'arrays'], [50_000, 'objects']] as const) {
    const body = kind === 'arrays' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    const r = await viaProxy(a.port, `http://127.0.0.1:${up.port}/deep-${kind}`, { auth: a.auth, method: 'POST', body, headers: { 'content-type': 'application/json' } });
    t.equal(r.status, 403, `${depth} nested ${kind}: denied`);
  }
  t.same(up.received.filter((x) => x.url.startsWith('/deep')), [], 'nothing reached the upstream');
  t.equal((await viaProxy(a.port, `http://127.0.0.1:${up.port}/after`, { auth: a.auth })).status, 200, 'the proxy still serves');
  await a.airlock.audit.flush();
  const lines = fs.readFileSync((a.airlock.audit as { file: string }).file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditRecord);
  for (const kind of ['arrays', 'objects']) {
    const rec = lines.filter((r) => r.url?.endsWith(`/deep-${kind}`));
    t.equal(rec.length, 1, `${kind}: one record`);
    t.equal(rec[0]?.outcome, 'denied', `${kind}: recorded as denied`);
    t.equal(rec[0]?.decision?.fail_closed, 'error', `${kind}: the policy failed closed`);
  }
  // The same depth in a record that also holds a real value (redacted member by member).
  const values = new SecretValueIndex([['api', SECRET]]);
  const deep = JSON.parse('['.repeat(20_000) + ']'.repeat(20_000)) as unknown;
  const { line } = redactedLine({ time: 't', id: 'd', outcome: 'denied', url: `http://x/?k=${SECRET}`, extra: { deep } }, (l) => values.redact(l));
  t.notOk(line.includes(SECRET), 'a deep record holding a value is written redacted');

  // The flood: requests the destination guard refuses (nothing is dialed).
  const neighbour = await a.airlock.agents.add('neighbour');
  const N = `Basic ${Buffer.from(`neighbour:${neighbour.token}`).toString('base64')}`;
  const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 8 });
  t.teardown(() => keepAlive.destroy());
  const ask = (auth: string, url: string): Promise<number> => new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: a.port, path: url, agent: keepAlive, setHost: false, headers: { host: new URL(url).host, 'proxy-authorization': auth } });
    req.on('error', reject);
    req.on('response', (res) => res.resume().on('end', () => resolve(res.statusCode ?? 0)));
    req.end();
  });
  const FLOOD = 80;
  const statuses = await Promise.all(Array.from({ length: FLOOD }, (_, i) => ask(a.auth, `http://127.0.0.1:1/x${i}`)));
  t.same([...new Set(statuses)], [403], 'every request of the flood was refused');
  t.equal(await ask(a.auth, `http://127.0.0.1:${up.port}/after-flood`), 200, 'the flooding agent\'s forwarded request');
  t.equal(await ask(N, 'http://127.0.0.1:1/neighbour'), 403, 'the neighbour\'s refused request');
  // Each summary is written within a second of the first refusal it counts (bounded wait: on a
  // loaded machine the flood may span more than one).
  type Summary = AuditRecord & { extra: { refusals: { count: number; groups: Array<Record<string, unknown>> } } };
  const mine = (r: AuditRecord): boolean => r.agent === a.agent && Boolean(r.url?.startsWith('http://127.0.0.1:1/x'));
  const counted = (): number => a.records.filter((r) => r.outcome === 'refusals-summarized').reduce((n, r) => n + (r as Summary).extra.refusals.count, 0);
  for (let i = 0; i < 80 && counted() + a.records.filter(mine).length < FLOOD; i++) await new Promise((r) => setTimeout(r, 50));
  await a.airlock.audit.flush();
  const after = fs.readFileSync((a.airlock.audit as { file: string }).file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditRecord);
  const whole = after.filter(mine);
  const summaries = after.filter((r) => r.outcome === 'refusals-summarized') as Summary[];
  t.ok(whole.length >= 15 && whole.length < 30, `the agent's first refusals (after the two above) are recorded one by one (${whole.length})`);
  t.ok(whole.every((r) => r.detail && r.status === 403), 'whole, each with its reason');
  t.ok(summaries.length >= 1, `the rest are summary records, at most one a second (${summaries.length})`);
  t.ok(summaries.every((x) => x.agent === a.agent), 'each names the agent');
  const total = summaries.reduce((n, x) => n + x.extra.refusals.count, 0);
  t.equal(total + whole.length, FLOOD, 'every refusal is recorded or counted');
  t.ok(summaries.every((x) => JSON.stringify(x.extra.refusals.groups) === JSON.stringify([{ outcome: 'destination-blocked', status: 403, host: '127.0.0.1', rule: 'allow-all', count: x.extra.refusals.count }])), 'grouped by outcome, status, host and rule');
  t.ok(after.some((r) => r.agent === a.agent && r.outcome === 'forwarded' && r.url?.endsWith('/after-flood') && r.description), 'the agent\'s forwarded request is recorded whole');
  t.ok(after.some((r) => r.agent === 'neighbour' && r.outcome === 'destination-blocked' && r.url?.endsWith('/neighbour')), 'the neighbour\'s refusal is recorded whole');
});


// Twenty-first pass (follow-up): past 4,096 agents refusing at once, every refusal bucket was cleared
// for the newcomer, so each new agent name (unauthenticated names are the sender's choice) reset every
// flooder's budget: their refusals were recorded one by one again. Buckets in use are kept now; the
// refilled ones are dropped, least recently used first, and a newcomer past the bound shares one.
t.test("refusal budgets past 4,096 agents at once: no flooder's budget is reset mid-flood; a newcomer's refusals are still counted under its name", async (t) => {
  let clock = 1_000_000;
  const summaries: Array<{ agent?: string; count: number }> = [];
  const rate = new RefusalRate((s) => summaries.push({ ...(s.agent ? { agent: s.agent } : {}), count: s.extra.refusals.count }), 3, () => clock);
  t.teardown(() => rate.flush());
  const refused = (agent: string): boolean => rate.admit({ agent, outcome: 'denied', time: new Date(clock).toISOString(), host: 'h.example', status: 403 });
  const flood = [1, 2, 3, 4, 5].map(() => refused('flooder'));
  t.same(flood, [true, true, true, false, false], 'the flooder past its budget: counted into summaries');
  for (let i = 0; i < REFUSAL_BUCKETS + 50; i++) refused(`name-${i}`); // each its first refusal: none refilled
  t.equal(refused('flooder'), false, "the flooder's budget is not reset by 4,146 more agents");
  // Names past the bound share one budget (the fifty spent it): a newcomer's refusal is counted under its name, not lost.
  t.equal(refused('neighbour'), false, 'a newcomer past the bound meets the shared budget');
  clock += 60_000; // every bucket refilled: the least recently used are dropped for newcomers
  t.equal(refused('later'), true, 'a minute later a newcomer is recorded');
  t.equal(refused('flooder'), true, 'and the flooder, its budget refilled');
  rate.flush();
  t.ok(summaries.some((x) => x.agent === 'flooder') && summaries.some((x) => x.agent === 'neighbour' && x.count === 1), "the counted refusals are summarized, each under its agent's name");
});
