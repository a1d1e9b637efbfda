// Class: approvals and grants cover more than the human saw.
//
// (a) The human approves "POST /v1/charges" with the headers shown in the studio. The agent's retry
//     under `Airlock-Approval` may not change anything that reaches the upstream: not a header
//     that changes the meaning (X-HTTP-Method-Override: DELETE, Stripe-Account, Content-Type, a
//     cookie), not the method, URL or body. The upstream here behaves like real servers do: it
//     honours X-HTTP-Method-Override (Express's method-override, Rails, many gateways), acts for the
//     Stripe-Account it is given, and stores and replays every header it received.
// (b) "Allow similar for N minutes" without a pattern means this exact path: a path that holds
//     glob characters (*, ?, [ ], { }) must not become a wildcard, in the engine's matcher or in
//     the policy's glob.match.
import t from 'tap';
import fc from 'fast-check';
import { execFile, execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type http from 'node:http';
import fs from 'node:fs';
import { ApprovalQueue, requestHash, retryExceedsApproval, retryNotFor } from '../../state/approvals.ts';
import { serverHeaderKey } from '../../lib/text.ts';
import { compilePolicy } from '../../engine/compile.ts';
import type { EngineDecision } from '../../engine/decision.ts';
import { describeRequest } from '../../describe/describe.ts';
import { curl, parseResponses, rawToProxy, startTestAirlock, startUpstream, tempDir } from './helpers.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const runs = Number(process.env.AIRLOCK_FUZZ_RUNS ?? 200);
const seed = process.env.AIRLOCK_FUZZ_SEED ? Number(process.env.AIRLOCK_FUZZ_SEED) : undefined;

// An upstream that acts on what it is sent, as payment and admin APIs do.
const stored: Array<{ effective: string; url: string; headers: http.IncomingHttpHeaders; body: string; cgiAccount?: string }> = [];
const up = await startUpstream(t, {
  handler: (req, res, body) => {
    const override = req.headers['x-http-method-override'];
    const effective = typeof override === 'string' ? override.toUpperCase() : req.method ?? '';
    // As CGI, FastCGI (PHP-FPM) and Python's wsgiref key headers: `X_Account` is `X-Account`, their values joined in order, the first read.
    let cgiAccount: string | undefined;
    for (let i = 0; i < req.rawHeaders.length && cgiAccount === undefined; i += 2) if (serverHeaderKey(req.rawHeaders[i]!) === 'x-account') cgiAccount = req.rawHeaders[i + 1];
    stored.push({ effective, url: req.url ?? '', headers: req.headers, body: body.toString('utf8'), ...(cgiAccount !== undefined ? { cgiAccount } : {}) });
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ effective, account: req.headers['stripe-account'] ?? 'platform', replayed_headers: req.headers }));
  },
});
// A studio runs, so a human could approve (without one, holds are refused at once).
const a = await startTestAirlock(t, { policy: 'approvals', studio: '127.0.0.1:0', resolve: ['pay.test=127.0.0.1'], allowPrivate: [`127.0.0.1:${up.port}`] });
const queue = (a.airlock as unknown as { approvals: ApprovalQueue }).approvals;

interface Req {
  method: string;
  path: string;
  headers: Array<[string, string]>;
  body: string;
}

/** Sends one request in absolute-form with exactly these header lines (order, case, duplicates). */
async function send(r: Req, extra: Array<[string, string]> = []): Promise<{ status: number; body: string; problem?: { type?: string; approval_id?: string } }> {
  const lines = [`${r.method} http://pay.test:${up.port}${r.path} HTTP/1.1`, `Host: pay.test:${up.port}`, `Proxy-Authorization: ${a.auth}`];
  for (const [k, v] of [...r.headers, ...extra]) lines.push(`${k}: ${v}`);
  lines.push(`Content-Length: ${Buffer.byteLength(r.body)}`, 'Connection: close', '', '');
  const reply = await rawToProxy(a.port, lines.join('\r\n') + r.body, { responses: 1, maxMs: 10_000 });
  const [res] = parseResponses(reply.text);
  if (!res) return { status: 0, body: reply.text };
  let problem: { type?: string; approval_id?: string } | undefined;
  if (res.headers['content-type']?.startsWith('application/problem+json')) problem = JSON.parse(res.body) as typeof problem;
  return { status: res.status, body: res.body, ...(problem ? { problem } : {}) };
}

/** The original request is held, times out, and a human approves it afterwards: returns the approval id. */
async function approvedAfterTimeout(r: Req): Promise<string> {
  const first = await send(r);
  if (first.status !== 403 || !/approval-timeout$/.test(first.problem?.type ?? '')) throw new Error(`expected approval-timeout, got ${first.status} ${first.body.slice(0, 200)}`);
  const id = first.problem!.approval_id!;
  await queue.approve(id, { by: 'test' });
  return id;
}

const arrived = (p: string): number => stored.filter((s) => s.url === p).length;

let n = 0;
const charge = (): Req => ({
  method: 'POST',
  path: `/v1/charges/${n++}?expand=customer`,
  headers: [['Content-Type', 'application/x-www-form-urlencoded'], ['Stripe-Version', '2024-06-20'], ['Accept', 'application/json'], ['X-Request-Id', 'req-1'], ['Cookie', 'session=s1']],
  body: 'amount=100&currency=usd',
});

t.test('a retry that adds, changes or drops a meaningful header is refused; the identical retry passes once', async (t) => {
  const cases: Array<[string, (r: Req) => Req]> = [
    ['X-HTTP-Method-Override: DELETE added', (r) => ({ ...r, headers: [...r.headers, ['X-HTTP-Method-Override', 'DELETE']] })],
    ['Stripe-Account: acct_evil added', (r) => ({ ...r, headers: [...r.headers, ['Stripe-Account', 'acct_evil']] })],
    ['Content-Type changed', (r) => ({ ...r, headers: r.headers.map(([k, v]) => [k, k === 'Content-Type' ? 'application/json' : v]) })],
    ['another cookie', (r) => ({ ...r, headers: r.headers.map(([k, v]) => [k, k === 'Cookie' ? 'session=admin' : v]) })],
    ['a header dropped', (r) => ({ ...r, headers: r.headers.filter(([k]) => k !== 'Stripe-Version') })],
    ['a header repeated', (r) => ({ ...r, headers: [...r.headers, ['Accept', 'text/csv']] })],
  ];
  for (const [what, mutate] of cases) {
    const original = charge();
    const id = await approvedAfterTimeout(original);
    const evil = await send(mutate(original), [['Airlock-Approval', id]]);
    t.equal(evil.status, 403, `${what}: 403`);
    t.match(evil.problem?.type, /approval-invalid$/, `${what}: approval-invalid`);
    t.equal(arrived(original.path.split('?')[0]! + '?expand=customer'), 0, `${what}: nothing reached the upstream`);
    const same = await send(original, [['Airlock-Approval', id]]);
    t.equal(same.status, 200, `${what}: the identical retry passes (the approval was still unused)`);
  }
  t.ok(stored.every((s) => s.effective === 'POST' && s.headers['stripe-account'] === undefined), 'the upstream only ever acted as the approved POST, for the platform account');
});

t.test('header names in another case, the same values: still the same request', async (t) => {
  const original = charge();
  const id = await approvedAfterTimeout(original);
  const shouted = await send({ ...original, headers: original.headers.map(([k, v]) => [k.toUpperCase(), v]) }, [['airlock-approval', id]]);
  t.equal(shouted.status, 200, 'field names are case-insensitive (RFC 9110 §5.1)');
});

t.test('real clients: curl and Python requests retry the identical request and pass; with an override header they are refused', async (t) => {
  const url = `http://pay.test:${up.port}/v1/refunds/curl`;
  const args = ['-x', a.proxyUrl, '-X', 'POST', '-H', 'Content-Type: application/json', '-d', '{"charge":"ch_1"}', '-o', '-', '-w', '\n%{http_code}'];
  const first = await curl([...args, url]);
  const id = (JSON.parse(first.stdout.split('\n')[0]!) as { approval_id: string }).approval_id;
  await queue.approve(id, { by: 'test' });
  const evil = await curl([...args, '-H', `Airlock-Approval: ${id}`, '-H', 'X-HTTP-Method-Override: DELETE', url]);
  t.match(evil.stdout, /approval-invalid[\s\S]*\n403$/, 'curl with an override header: 403 approval-invalid');
  const ok = await curl([...args, '-H', `Airlock-Approval: ${id}`, url]);
  t.match(ok.stdout, /"effective":"POST"[\s\S]*\n200$/, 'curl identical retry: 200, acted on as POST');

  let py = '';
  const child = execFile('python3', ['-c', `
import requests, sys
p = {'http': '${a.proxyUrl}'}
u = 'http://pay.test:${up.port}/v1/refunds/python'
h = {'Stripe-Version': '2024-06-20'}
r = requests.post(u, json={'charge': 'ch_2'}, headers=h, proxies=p, timeout=10)
aid = r.json()['approval_id']
print('first', r.status_code, flush=True)
sys.stdin.readline()
r = requests.post(u, json={'charge': 'ch_2'}, headers={**h, 'Stripe-Account': 'acct_evil', 'Airlock-Approval': aid}, proxies=p, timeout=10)
print('evil', r.status_code, r.json().get('type'))
r = requests.post(u, json={'charge': 'ch_2'}, headers={**h, 'Airlock-Approval': aid}, proxies=p, timeout=10)
print('same', r.status_code)
`], { timeout: 30_000 }, (err, stdout, stderr) => (py += err ? `ERROR ${stderr}` : ''));
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (py += c));
  const done = new Promise((resolve) => child.on('close', resolve));
  // The script waits on stdin once its request timed out: a human approves, then it retries.
  for (let i = 0; i < 300 && !/first/.test(py); i++) await new Promise((r) => setTimeout(r, 50));
  const pending = queue.list({ status: 'pending' }).find((x) => x.summary.path === '/v1/refunds/python');
  if (pending) await queue.approve(pending.id, { by: 'test' });
  child.stdin!.end('\n');
  await done;
  t.match(py, /first 403/, 'requests: held, then timed out');
  t.match(py, /evil 403 https:\/\/airlock\.dev\/problems\/approval-invalid/, 'requests with Stripe-Account added: refused');
  t.match(py, /same 200/, 'requests identical retry: 200');
  t.equal(stored.filter((s) => s.url === '/v1/refunds/python').length, 1, 'the upstream got it once');
});

// Mutations of the approved request: every one changes what the upstream would act on.
const meaningful: Array<[string, string]> = [
  ['X-HTTP-Method-Override', 'DELETE'], ['X-HTTP-Method', 'PUT'], ['X-Method-Override', 'PATCH'], ['Stripe-Account', 'acct_evil'],
  ['Stripe-Context', 'ctx_x'], ['X-Forwarded-Host', 'evil.example'], ['X-Original-URL', '/admin'], ['Authorization', 'Bearer other'],
  ['Idempotency-Key', 'other-key'], ['Prefer', 'return=representation'], ['If-Match', '*'], ['Range', 'bytes=0-10'], ['Accept-Charset', 'utf-16'],
];
const token = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/);
const value = fc.stringMatching(/^[!-~]([ -~]{0,20}[!-~])?$/);
type Mutation = (r: Req) => Req;
const mutation: fc.Arbitrary<[string, Mutation]> = fc.oneof(
  fc.constantFrom(...meaningful).map(([k, v]): [string, Mutation] => [`+${k}`, (r) => ({ ...r, headers: [...r.headers, [k, v]] })]),
  fc.tuple(token, value).filter(([k]) => !['content-length', 'host', 'connection', 'proxy-authorization', 'airlock-approval', 'transfer-encoding', 'keep-alive', 'te', 'trailer', 'upgrade', 'proxy-connection', 'expect'].includes(k.toLowerCase()))
    .map(([k, v]): [string, Mutation] => [`+${k}: ${v}`, (r) => ({ ...r, headers: [...r.headers, [k, v]] })]),
  fc.nat(4).map((i): [string, Mutation] => [`-header ${i}`, (r) => ({ ...r, headers: r.headers.filter((_, j) => j !== i) })]),
  fc.tuple(fc.nat(4), value).map(([i, v]): [string, Mutation] => [`header ${i} = ${v}`, (r) => ({ ...r, headers: r.headers.map(([k, x], j) => [k, j === i && x !== v ? v : x]) })]),
  fc.constantFrom('PUT', 'PATCH', 'DELETE').map((m): [string, Mutation] => [`method ${m}`, (r) => ({ ...r, method: m })]),
  fc.constantFrom('&expand=all', '&x=1').map((q): [string, Mutation] => [`query ${q}`, (r) => ({ ...r, path: r.path + q })]),
  fc.constantFrom('&amount=1', '0', ' ').map((b): [string, Mutation] => [`body +${JSON.stringify(b)}`, (r) => ({ ...r, body: r.body + b })]),
);

t.test('property: no retry that differs in method, URL, end-to-end headers or body is released', async (t) => {
  await fc.assert(
    fc.asyncProperty(mutation, async ([what, mutate]) => {
      const original = charge();
      const changed = mutate(original);
      if (JSON.stringify(changed) === JSON.stringify(original)) return;
      const id = await approvedAfterTimeout(original);
      const before = stored.length;
      const evil = await send(changed, [['Airlock-Approval', id]]);
      if (evil.status !== 403 || stored.length !== before) throw new Error(`${what}: released (${evil.status}) ${evil.body.slice(0, 200)}`);
      const same = await send(original, [['Airlock-Approval', id]]);
      if (same.status !== 200) throw new Error(`${what}: the identical retry got ${same.status} ${same.body.slice(0, 200)}`);
    }),
    { numRuns: Math.min(runs, 15), ...(seed !== undefined ? { seed } : {}) },
  );
  t.pass('every changed retry refused, every identical one released');
});

t.test('a retry that swaps two headers a CGI-style server reads as one is refused; other headers in another order still pass (twenty-sixth pass)', async (t) => {
  // Approved: `X-Account: acct_platform` then `X_Account: acct_evil`, which wsgiref, PHP-FPM and
  // Rack read as one header, its first value acct_platform. The retry swaps them: the same header
  // lines, sorted by name the same bound headers, and the server acts for acct_evil.
  const base = charge();
  const original: Req = { ...base, headers: [...base.headers, ['X-Account', 'acct_platform'], ['X_Account', 'acct_evil']] };
  const p = original.path;
  const id = await approvedAfterTimeout(original);
  const swapped: Req = { ...original, headers: [...base.headers, ['X_Account', 'acct_evil'], ['X-Account', 'acct_platform']] };
  const evil = await send(swapped, [['Airlock-Approval', id]]);
  t.equal(evil.status, 403, 'the swapped retry: 403');
  t.match(evil.problem?.type, /approval-invalid$/);
  t.equal(stored.filter((x) => x.url === p).length, 0, 'nothing reached the upstream');
  // Control: headers a server keys apart, in another order (and in another case), are the same request.
  const reordered: Req = { ...original, headers: [['accept', 'application/json'], ...base.headers.filter(([k]) => k !== 'Accept').reverse(), ['X-Account', 'acct_platform'], ['X_Account', 'acct_evil']] };
  const ok = await send(reordered, [['Airlock-Approval', id]]);
  t.equal(ok.status, 200, 'other headers reordered: the same request, released');
  t.same(stored.filter((x) => x.url === p).map((x) => x.cgiAccount), ['acct_platform'], 'acting for the approved account, once');
});

t.test('property: the bound headers differ exactly when some header a server keys by its name reads other values (twenty-sixth pass)', async (t) => {
  const d = describeRequest({ method: 'POST', url: 'http://pay.test/v1/charges', headers: [], body: Buffer.alloc(0), bodyTruncated: false }, { agent: { id: 'bot', labels: {} } });
  const names = ['X-Account', 'x_account', 'X.Account', 'X-ACCOUNT', 'Accept', 'X-Request-Id', 'x-request_id', 'Cookie'];
  const header = fc.tuple(fc.constantFrom(...names), fc.constantFrom('a', 'b'));
  // What a server reads: per key, the (name, value) lines in the order sent.
  const read = (h: Array<[string, string]>): string => {
    const by = new Map<string, string[]>();
    for (const [k, v] of h) by.set(serverHeaderKey(k), [...(by.get(serverHeaderKey(k)) ?? []), `${k.toLowerCase()}:${v}`]);
    return JSON.stringify([...by].sort((x, y) => (x[0] < y[0] ? -1 : 1)));
  };
  fc.assert(
    fc.property(fc.array(header, { maxLength: 6 }), fc.array(fc.nat(), { minLength: 6, maxLength: 6 }), (h, order) => {
      const other = h.map((x, i) => [order[i]!, i, x] as const).sort((x, y) => x[0] - y[0] || x[1] - y[1]).map(([, , x]) => x);
      const same = requestHash(d, h) === requestHash(d, other);
      if (same !== (read(h) === read(other))) throw new Error(`${JSON.stringify(h)} / ${JSON.stringify(other)}: bound ${same ? 'the same' : 'apart'}`);
    }),
    { numRuns: 60, ...(seed !== undefined ? { seed } : {}) },
  );
  t.pass('bound exactly as read');
});

// ─── grants ────────────────────────────────────────────────────────────────────────────────────

t.test('a grant made from a path holding "*" does not cover other paths', async (t) => {
  const original: Req = { method: 'POST', path: '/files/*', headers: [['Content-Type', 'text/plain']], body: 'x' };
  const first = await send(original);
  const id = first.problem!.approval_id!;
  const { grant } = await queue.approve(id, { by: 'test', grantMinutes: 5 });
  t.equal(grant?.path_pattern, '/files/\\*', 'the default pattern is the path with its glob characters escaped');
  const other = await send({ ...original, path: '/files/secret' });
  t.equal(other.status, 403, 'another path under /files is not covered: held again (and timed out)');
  t.equal(arrived('/files/secret'), 0);
  const same = await send(original);
  t.equal(same.status, 200, 'the granted path itself is allowed by the grant');
});

t.test('property: a default grant matches its own path and no other, in the engine and in Rego\'s glob.match', async (t) => {
  const home = tempDir(t, 'airlock-grants-');
  const q = await ApprovalQueue.open(home, { sweepMs: 0, maxPendingPerAgent: 100_000, maxPending: 100_000 });
  t.teardown(() => q.close());
  const agent = { id: 'bot', labels: {} };
  const decision: EngineDecision = { action: 'approve', reason: 'r', rule: 'r', approval: { risk: 'low' }, policy_version: 'v', decision_us: 1 };
  const piece = fc.constantFrom('a', 'b', 'files', '*', '**', '?', '[', ']', '[a-z]', '{a,b}', '{', '}', '\\', '%2A', '%5B', '.', 'x.y', '-', '!', '^', '$', '(', ')', '+', '|');
  const rawPath = fc.array(fc.array(piece, { minLength: 1, maxLength: 3 }).map((p) => p.join('')), { minLength: 1, maxLength: 4 }).map((s) => `/${s.join('/')}`);
  const describe = (p: string) => describeRequest({ method: 'POST', url: `http://g.test${p}`, headers: [], body: Buffer.alloc(0), bodyTruncated: false }, { agent });
  const pairs: Array<{ pattern: string; path: string; same: boolean }> = [];
  await fc.assert(
    fc.asyncProperty(rawPath, fc.array(rawPath, { minLength: 1, maxLength: 6 }), async (granted, others) => {
      const d = describe(granted);
      const approval = await q.create(d, decision);
      const { grant } = await q.approve(approval.id, { by: 'test', grantMinutes: 5 });
      for (const o of [granted, ...others]) {
        const od = describe(o);
        const same = od.request.path === d.request.path;
        const matched = q.matchingGrants(od).some((g) => g.id === grant!.id);
        if (matched !== same) throw new Error(`grant for ${d.request.path} (pattern ${grant!.path_pattern}) ${matched ? 'matches' : 'misses'} ${od.request.path}`);
        pairs.push({ pattern: grant!.path_pattern!, path: od.request.path, same });
      }
      await q.revokeGrant(grant!.id);
    }),
    { numRuns: Math.min(runs, 150), ...(seed !== undefined ? { seed } : {}) },
  );
  // The default policy re-checks grants with glob.match: the same pairs through OPA itself.
  const opa = path.join(repo, '.tools', 'bin', 'opa');
  const out = execFileSync(opa, ['eval', '--stdin-input', '--format', 'raw', '[p | some p in input; glob.match(p.pattern, ["/"], p.path) != p.same]'], { input: JSON.stringify(pairs), maxBuffer: 16 << 20 }).toString();
  t.same(JSON.parse(out), [], `Rego's glob.match agrees on all ${pairs.length} pattern/path pairs`);
});

// Tenth pass: the retry is the same request, but its decision now is not what the human approved.
t.test('a request approved while held, after a policy version that denies it or holds it riskier went live, does not leave (thirteenth pass)', async (t) => {
  const fixture = path.join(repo, 'test', 'attacks', 'fixtures', 'approvals');
  const source = fs.readFileSync(path.join(fixture, 'airlock.rego'), 'utf8');
  const held = '"approval": {"risk": "medium", "timeout": "300ms"}';
  const versions = {
    longer: source.replace(held, '"approval": {"risk": "medium", "timeout": "10s"}'),
    // Another version (a comment) that decides the same: the approval still goes through.
    same: source.replace(held, '"approval": {"risk": "medium", "timeout": "10s"}') + '\n# the same decisions\n',
    critical: source.replace(held, '"approval": {"risk": "critical", "step_up": true, "timeout": "10s"}'),
    denies: source.replace('default decision := {"action": "allow"', 'default decision := {"action": "deny"').replace(/decision := \{"action": "approve"[^\n]*\n/, 'x_unused := {"approve": "nothing"} if {\n'),
  };
  t.not(versions.denies, source, 'the denying version denies writes');
  const dir = t.testdir(Object.fromEntries(Object.entries(versions).map(([k, v]) => [k, { 'airlock.rego': v }])));
  const compiled = Object.fromEntries(await Promise.all(Object.keys(versions).map(async (k) => [k, await compilePolicy(path.join(dir, k))] as const))) as Record<keyof typeof versions, Awaited<ReturnType<typeof compilePolicy>>>;
  const original = await compilePolicy(fixture);
  t.teardown(() => a.airlock.engine.load(original));
  for (const [next, expect] of [['critical', /given at medium risk and the request is now decided at critical risk/], ['denies', /live policy .*now denies this request/], ['same', undefined]] as const) {
    await a.airlock.engine.load(compiled.longer);
    const r = charge();
    const reply = send(r);
    let id: string | undefined;
    for (const deadline = Date.now() + 5000; !id && Date.now() < deadline; await new Promise((ok) => setTimeout(ok, 10))) {
      id = queue.list({ status: 'pending' }).find((x) => x.description.request.path === r.path.split('?')[0])?.id;
    }
    t.ok(id, `${next}: held`);
    await a.airlock.engine.load(compiled[next]);
    await queue.approve(id!, { by: 'test' });
    const res = await reply;
    if (!expect) {
      t.equal(res.status, 200, `${next}: a version that decides the same lets the approved request go`);
      t.equal(arrived(r.path), 1);
      continue;
    }
    t.equal(res.status, 403, `${next}: refused`);
    t.match(res.body, expect);
    t.equal(arrived(r.path), 0, `${next}: nothing reached the upstream`);
  }
});

t.test('a retry decided riskier than approved (a policy published meanwhile) is refused; one decided the same still passes', async (t) => {
  const fixture = path.join(repo, 'test', 'attacks', 'fixtures', 'approvals');
  const source = fs.readFileSync(path.join(fixture, 'airlock.rego'), 'utf8');
  const stricter = source.replace('"approval": {"risk": "medium", "timeout": "300ms"}', '"approval": {"risk": "critical", "step_up": true, "timeout": "300ms"}');
  t.not(stricter, source, 'the new version holds writes as critical, with step-up');
  const [critical, original] = await Promise.all([compilePolicy(t.testdir({ 'airlock.rego': stricter })), compilePolicy(fixture)]);
  t.teardown(() => a.airlock.engine.load(original));
  const r = charge();
  const id = await approvedAfterTimeout(r);
  await a.airlock.engine.load(critical);
  const retry = await send(r, [['Airlock-Approval', id]]);
  t.equal(retry.status, 403, 'refused');
  t.match(retry.problem, { type: /approval-invalid$/, approval_id: id });
  t.match(retry.body, /given at medium risk and the request is now decided at critical risk/);
  t.equal(arrived(r.path), 0, 'nothing reached the upstream');
  await a.airlock.engine.load(original);
  const r2 = charge();
  const id2 = await approvedAfterTimeout(r2);
  t.equal((await send(r2, [['Airlock-Approval', id2]])).status, 200, 'a retry decided as approved passes');
  // Secrets: a directive the card did not name (names and slots) is not approved either.
  const record = { id: 'ap_x', risk: 'medium' as const, step_up: false, credentials: [{ secret: 'stripe_test', in: 'header' as const, name: 'Authorization' }] };
  t.equal(retryExceedsApproval(record, { approval: { risk: 'medium' }, credentials: [{ secret: 'stripe_test', in: 'header', name: 'Authorization' }] } as never), undefined, 'the same secret in the same slot');
  t.match(retryExceedsApproval(record, { approval: { risk: 'medium' }, credentials: [{ secret: 'stripe_live', in: 'header', name: 'Authorization' }] } as never), /did not say the request would carry stripe_live/);
  t.match(retryExceedsApproval({ ...record, risk: 'critical' }, { approval: { risk: 'critical', step_up: true }, credentials: record.credentials } as never), /without step-up/, 'critical without a code is not critical with step-up');
  t.equal(retryExceedsApproval({ ...record, resolution: { by: 'studio', at: '', step_up: true } }, { approval: { risk: 'medium', step_up: true }, credentials: record.credentials } as never), undefined, 'unless a code was checked');
});

// Twenty-ninth pass (who the yes was for): a session is one token's life (one `airlock run`, or a
// long-lived token until a human resets it). A person approved a request one run of the agent
// made; another run of the same agent (another token: another sandbox, another task, a context the
// person never looked at) retried it under `Airlock-Approval` and took the single use — and the
// answer — away from the run the person had approved it for.
t.test('an approval is used only by the session it was given in: another run of the same agent is refused, the approved run still passes once (twenty-ninth pass)', async (t) => {
  const agents = (a.airlock as unknown as { agents: { issueToken(name: string, o: { ttlMs: number; label: string }): Promise<{ token: string }> } }).agents;
  const other = await agents.issueToken(a.agent, { ttlMs: 600_000, label: 'airlock run other (pid 2)' });
  const otherAuth = `Basic ${Buffer.from(`${a.agent}:${other.token}`).toString('base64')}`;
  /** Sends `r` through the proxy with another of the agent's tokens (Proxy-Authorization replaced). */
  const sendAs = async (auth: string, r: Req, extra: Array<[string, string]>): Promise<{ status: number; body: string; problem?: { type?: string } }> => {
    const lines = [`${r.method} http://pay.test:${up.port}${r.path} HTTP/1.1`, `Host: pay.test:${up.port}`, `Proxy-Authorization: ${auth}`];
    for (const [k, v] of [...r.headers, ...extra]) lines.push(`${k}: ${v}`);
    lines.push(`Content-Length: ${Buffer.byteLength(r.body)}`, 'Connection: close', '', '');
    const reply = await rawToProxy(a.port, lines.join('\r\n') + r.body, { responses: 1, maxMs: 10_000 });
    const [res] = parseResponses(reply.text);
    return { status: res?.status ?? 0, body: res?.body ?? reply.text, ...(res?.headers['content-type']?.startsWith('application/problem+json') ? { problem: JSON.parse(res.body) as { type?: string } } : {}) };
  };
  const r = charge();
  const id = await approvedAfterTimeout(r);
  const record = queue.get(id);
  t.ok(record.session, 'the approval names the session its request came from');
  const stolen = await sendAs(otherAuth, r, [['Airlock-Approval', id]]);
  t.equal(stolen.status, 403, 'another session of the same agent: refused');
  t.match(stolen.problem?.type, /approval-invalid$/);
  t.match(stolen.body, /session/);
  t.equal(arrived(r.path), 0, 'nothing reached the upstream');
  t.notOk(queue.get(id).used_at, 'the approval is still unused');
  const own = await send(r, [['Airlock-Approval', id]]);
  t.equal(own.status, 200, 'the session the person approved it for: passes');
  t.equal(arrived(r.path), 1, 'once');
  // Held in one session, retried from another while still pending: not held on it either.
  const r2 = charge();
  const first = await send(r2);
  t.match(first.problem?.type, /approval-timeout$/);
  const pendingId = first.problem!.approval_id!;
  const meanwhile = await sendAs(otherAuth, r2, [['Airlock-Approval', pendingId], ['Prefer', 'respond-async']]);
  t.equal(meanwhile.status, 403, 'a pending approval of another session is not waited on from this one');
  t.match(meanwhile.problem?.type, /approval-invalid$/);
});

t.test('property: a retry is taken exactly when it is the same request of the same agent in the session the approval was given in, or one recorded without a session (twenty-ninth pass)', async (t) => {
  const sessions = fc.constantFrom(undefined, 's_1', 's_2', 's_10');
  fc.assert(fc.property(fc.constantFrom('coder', 'other'), fc.constantFrom('h1', 'h2'), sessions, sessions, (agent, hash, recorded, sent) => {
    const record = { id: 'ap_0123456789abcdef', agent: 'coder', request_hash: 'h1', ...(recorded !== undefined ? { session: recorded } : {}) };
    const d = { agent: { id: agent }, ...(sent !== undefined ? { session: { id: sent } } : {}) } as never;
    const taken = retryNotFor(record, d, hash) === undefined;
    return taken === (agent === 'coder' && hash === 'h1' && (recorded === undefined || recorded === sent));
  }), { numRuns: 60, ...(seed !== undefined ? { seed } : {}) });
  t.pass('checked');
});
