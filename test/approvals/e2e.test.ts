// Approvals and rate limits end to end: a real Airlock (proxy + studio), a local upstream, real
// agent clients (curl, undici), resolution through the studio REST API with its live WebSocket
// feed, TOTP step-up, 429s. The CLI channel is in cli.test.ts, restarts in restart.test.ts.
import http from 'node:http';
import path from 'node:path';
import t from 'tap';
import WebSocket from 'ws';
import { wsProtocols } from '../../studio/auth.ts';
import { TotpStore } from '../../state/totp.ts';
import type { ApprovalRecord } from '../../state/approvals.ts';
import { curl, startRunning, startTlsUpstream, startUpstream, tempHome, undiciRequest, type AgentReply } from './helpers.ts';

const home = tempHome(t);
const up = await startUpstream(t);
const tlsUp = await startTlsUpstream(t);

// A webhook receiver (what a chat integration would be): notified of each new approval.
const hooks: Array<{ type: string; approval: Record<string, unknown> }> = [];
const hookServer = http.createServer((req, res) => {
  let text = '';
  req.on('data', (c) => (text += c));
  req.on('end', () => {
    hooks.push(JSON.parse(text));
    res.end();
  });
});
await new Promise<void>((res) => hookServer.listen(0, '127.0.0.1', res));
t.teardown(() => hookServer.close());
process.env.AIRLOCK_APPROVAL_WEBHOOK = `http://127.0.0.1:${(hookServer.address() as { port: number }).port}/hook`;
t.teardown(() => delete process.env.AIRLOCK_APPROVAL_WEBHOOK);

const r = await startRunning(t, home, up, undefined, { upstreamCa: [tlsUp.caFile], allowPrivate: [`127.0.0.1:${tlsUp.port}`] });
const url = (host: string, p: string) => `http://${host}:${up.port}${p}`;
const arrived = (p: string) => up.received.filter((x) => x.url === p).length;

// A live studio client: every approval change must reach it.
const events: Array<{ type: string; data: { event?: string; approval?: ApprovalRecord } }> = [];
const ws = new WebSocket(`${r.studio.replace('http', 'ws')}/api/ws`, wsProtocols(r.api.csrf), { headers: { cookie: r.api.cookie, origin: r.studio } });
ws.on('message', (m) => events.push(JSON.parse(String(m))));
await new Promise<void>((resolve, reject) => {
  ws.once('open', () => resolve());
  ws.once('error', reject);
});
t.teardown(() => ws.terminate());

async function waitFor(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((res) => setTimeout(res, 25));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

t.test('held request approved through the REST API arrives upstream once', async (t) => {
  const reply = undiciRequest(r, 'POST', url('api.example', '/send/rest'), { body: '{"to":"x@example.com"}' });
  const [a] = await r.api.pending(1);
  t.equal(a!.summary.path, '/send/rest');
  t.equal(a!.risk, 'high');
  t.equal(arrived('/send/rest'), 0, 'nothing reaches the upstream while held');
  t.equal((await r.api.call('POST', `/api/approvals/${a!.id}/approve`, {}, { csrf: false })).status, 403, 'no CSRF token, no approval');
  t.equal((await r.api.call('POST', `/api/approvals/${a!.id}/approve`, {}, { cookie: false })).status, 401, 'no login, no approval');
  const ok = await r.api.call('POST', `/api/approvals/${a!.id}/approve`, { message: 'fine' });
  t.equal(ok.status, 200);
  const res = await reply;
  t.equal(res.status, 200);
  t.same(res.json(), { ok: true, n: up.received.length });
  t.equal(arrived('/send/rest'), 1, 'arrived exactly once');
  t.equal(up.received.at(-1)!.body, '{"to":"x@example.com"}', 'with its body');
  await waitFor(() => events.some((e) => e.type === 'approval' && e.data.event === 'resolved' && e.data.approval?.id === a!.id), 'the resolved event');
  const created = events.find((e) => e.type === 'approval' && e.data.event === 'created' && e.data.approval?.id === a!.id);
  t.ok(created, 'the studio saw it created');
  // Announced with its bytes already readable: a first card saying "body not kept" would tell the person wrong.
  t.match((created?.data.approval as { body_view?: unknown } | undefined)?.body_view, { available: true, visibility: 'whole' }, 'the first announcement can show the whole body');
  const again = await r.api.call('POST', `/api/approvals/${a!.id}/approve`, {});
  t.equal(again.status, 409, 'a resolved approval cannot be resolved again');
});

t.test('denied through REST: never arrives, the message reaches the agent, a retry stays denied', async (t) => {
  const reply = curl(r, 'POST', url('api.example', '/send/deny'), { body: '{}' });
  const [a] = await r.api.pending(1);
  t.equal((await r.api.call('POST', `/api/approvals/${a!.id}/deny`, { message: 'not to that address' })).status, 200);
  const res = await reply;
  t.equal(res.status, 403);
  t.match(res.headers['content-type'], /application\/problem\+json/);
  t.match(res.json(), { type: 'https://airlock.dev/problems/approval-denied', approval_id: a!.id, message: 'not to that address', rule: 'send' });
  const retry = await curl(r, 'POST', url('api.example', '/send/deny'), { body: '{}', headers: { 'Airlock-Approval': a!.id } });
  t.equal(retry.status, 403, 'a retry naming the denied approval is denied too');
  t.equal(arrived('/send/deny'), 0);
});

t.test('a held HTTPS request (CONNECT + TLS interception) approved through REST arrives once', async (t) => {
  const reply = curl(r, 'POST', `https://api.example:${tlsUp.port}/send/tls`, { body: '{"tls":true}', cacert: path.join(home, 'ca.pem') });
  const [a] = await r.api.pending(1);
  t.equal(a!.description.request.scheme, 'https');
  t.equal(tlsUp.received.length, 0);
  t.equal((await r.api.call('POST', `/api/approvals/${a!.id}/approve`, {})).status, 200);
  const res = await reply;
  t.equal(res.status, 200);
  t.equal(tlsUp.received.filter((x) => x.url === '/send/tls').length, 1);
  t.equal(tlsUp.received[0]!.body, '{"tls":true}');
});

t.test('the webhook was told about each new approval, without secrets', async (t) => {
  for (let i = 0; i < 200 && hooks.length < 3; i++) await new Promise((res) => setTimeout(res, 25));
  t.equal(hooks.length, 3, 'one notification per approval so far');
  t.match(hooks[0], { type: 'approval.created', approval: { agent: 'bot', method: 'POST', host: 'api[.]example', path: '/send/rest', risk: 'high', reason: 'sending needs a human' } });
  t.notMatch(JSON.stringify(hooks), /x@example\.com|authorization|"description"/, 'no body, headers or description');
});

t.test('timed-out requests never arrive; a later approval lets the identical retry through once', async (t) => {
  const res = await curl(r, 'POST', url('api.example', '/quick/1'), { body: '{"v":1}' });
  t.equal(res.status, 403);
  const p = res.json();
  t.match(p, { type: 'https://airlock.dev/problems/approval-timeout', retry_header: 'Airlock-Approval' });
  const id = p.approval_id as string;
  t.match(id, /^ap_/);
  t.equal(arrived('/quick/1'), 0);

  t.equal((await r.api.call('POST', `/api/approvals/${id}/approve`, {})).status, 200, 'approved after the timeout');
  const other = await curl(r, 'POST', url('api.example', '/quick/1'), { body: '{"v":2}', headers: { 'Airlock-Approval': id } });
  t.equal(other.status, 403, 'a different body does not match the approval');
  t.match(other.json(), { type: 'https://airlock.dev/problems/approval-invalid' });
  const retry = await curl(r, 'POST', url('api.example', '/quick/1'), { body: '{"v":1}', headers: { 'Airlock-Approval': id } });
  t.equal(retry.status, 200, 'the identical retry passes');
  t.equal(arrived('/quick/1'), 1);
  t.equal(up.received.at(-1)!.headers['airlock-approval'], undefined, 'the Airlock-Approval header does not leave the proxy');
  const twice = await curl(r, 'POST', url('api.example', '/quick/1'), { body: '{"v":1}', headers: { 'Airlock-Approval': id } });
  t.equal(twice.status, 403, 'approvals are single-use');
  t.match(twice.json().detail, /already used/);
  t.equal(arrived('/quick/1'), 1);
});

t.test('a grant lets a similar request through without asking, not one to another host', async (t) => {
  // (A send's text is its content: another text is a similar request; what it names is compared, twenty-second pass.)
  const first = curl(r, 'POST', url('api.example', '/send/grant'), { body: '{"text":"hello"}' });
  const [a] = await r.api.pending(1);
  const refused = await r.api.call('POST', `/api/approvals/${a!.id}/grant`, { minutes: 10 });
  t.equal(refused.status, 400, 'a grant for a high-risk request needs the explicit choice');
  const g = await r.api.call('POST', `/api/approvals/${a!.id}/grant`, { minutes: 10, grant_high: true });
  t.equal(g.status, 200);
  t.match(g.body.grant, { agent: 'bot', method: 'POST', host: 'api.example', path_pattern: '/send/grant', risk: 'high' });
  t.equal((await first).status, 200);
  const before = (await r.api.call('GET', '/api/approvals')).body.approvals as unknown[];
  const second = await curl(r, 'POST', url('api.example', '/send/grant'), { body: '{"text":"hello again"}' });
  t.equal(second.status, 200, 'the second similar request passes');
  t.equal(arrived('/send/grant'), 2);
  const after = (await r.api.call('GET', '/api/approvals')).body.approvals as unknown[];
  t.equal(after.length, before.length, 'without a new approval');
  const grants = await r.api.call('GET', '/api/grants');
  t.match(grants.body.grants, [{ method: 'POST', host: 'api.example', path_pattern: '/send/grant' }]);

  const elsewhere = curl(r, 'POST', url('other.example', '/send/grant'), { body: '{"text":"hello"}' });
  const [b] = await r.api.pending(1);
  t.equal(b!.summary.host, 'other.example', 'another host is held for approval');
  await r.api.call('POST', `/api/approvals/${b!.id}/deny`, {});
  t.equal((await elsewhere).status, 403);
  t.equal(up.received.filter((x) => x.host.startsWith('other.example')).length, 0);
});

t.test('critical approvals: TOTP required and checked once enrolled', async (t) => {
  const { secret } = await new TotpStore(home).enroll({ label: 'test' });
  const reply: Promise<AgentReply> = curl(r, 'DELETE', url('api.example', '/repos/x'));
  const [a] = await r.api.pending(1);
  t.equal(a!.risk, 'critical');
  t.equal((a as unknown as { needs_step_up: boolean }).needs_step_up, true);
  const without = await r.api.call('POST', `/api/approvals/${a!.id}/approve`, {});
  t.equal(without.status, 403, 'approving a critical request without a code is refused');
  t.equal(without.body.code, 'step-up-required');
  const code = TotpStore.codeFor(secret);
  const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
  const bad = await r.api.call('POST', `/api/approvals/${a!.id}/approve`, { totp: wrong });
  t.equal(bad.status, 403);
  t.equal(bad.body.code, 'totp-invalid');
  const grant = await r.api.call('POST', `/api/approvals/${a!.id}/grant`, { minutes: 5, totp: code });
  t.equal(grant.status, 400, 'no grants for critical requests');
  t.equal(arrived('/repos/x'), 0, 'still held, nothing arrived');
  const ok = await r.api.call('POST', `/api/approvals/${a!.id}/approve`, { totp: code });
  t.equal(ok.status, 200);
  t.equal((ok.body.approval as ApprovalRecord).resolution?.step_up, true);
  t.equal((await reply).status, 200);
  t.equal(arrived('/repos/x'), 1);
});

t.test('rate limits: exact count, 429 problem+json with Retry-After, visible in `airlock limits`', async (t) => {
  const statuses: number[] = [];
  let last: AgentReply | undefined;
  for (let i = 0; i < 4; i++) {
    last = await curl(r, 'GET', url('api.example', `/read/${i}`));
    statuses.push(last.status);
  }
  t.same(statuses, [200, 200, 200, 429], 'three per hour, the fourth refused');
  // One token per 20 minutes; the wall clock moved a little since the first read (exact values
  // with an injected clock are in test/ratelimit).
  const retryAfter = Number(last!.headers['retry-after']);
  t.ok(retryAfter > 1100 && retryAfter <= 1200, `Retry-After ${retryAfter} is about 20 minutes`);
  t.match(last!.headers['content-type'], /application\/problem\+json/);
  t.match(last!.json(), { type: 'https://airlock.dev/problems/rate-limited', status: 429, retry_after: retryAfter, limits: [{ key: 'reads:bot', limit: 3, cost: 1 }] });
  t.ok((last!.json().limits as Array<{ available: number }>)[0]!.available < 1, 'less than one token left');
  t.equal(arrived('/read/3'), 0, 'the refused request did not leave');
  const limits = await r.api.call('GET', '/api/limits');
  t.match(limits.body, { available: true, buckets: [{ key: 'egress', unit: 'egress_bytes', limit: 2000 }, { key: 'reads:bot', unit: 'requests', limit: 3 }] });
  t.ok(((limits.body.buckets as Array<{ available: number }>)[1]!.available) < 1, 'reads:bot is empty');
  t.equal((await r.api.call('POST', '/api/limits/reset', { key: 'reads:bot' })).status, 200);
  t.equal((await curl(r, 'GET', url('api.example', '/read/4'))).status, 200, 'reset refills the bucket');
  // The egress budget (2000 bytes/h) is shared with the reads above; one big URL exhausts it.
  const big = await curl(r, 'GET', url('api.example', `/read/5?q=${'x'.repeat(2500)}`));
  t.equal(big.status, 429);
  t.match(big.json().detail, /egress bytes/);
});

t.test('an agent that went away while its request was being decided: it is not shown as held (waited on) for the whole hold', async (t) => {
  const net = await import('node:net');
  const { host, port } = r.airlock.proxyAddress;
  const auth = `Basic ${Buffer.from(`${r.agent}:${r.token}`).toString('base64')}`;
  const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));
  // A body that takes the describe step a while (many tiny JSON objects), sent whole, and the
  // agent hangs up at once: its connection closes while the request is being described and decided.
  const body = `[${'{"a":1},'.repeat(60_000)}{"a":1}]`;
  const s = net.connect(port, host);
  s.on('error', () => undefined);
  s.end(`DELETE ${url('api.example', '/gone-before-held')} HTTP/1.1\r\nHost: api.example:${up.port}\r\nProxy-Authorization: ${auth}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  // Either no approval (the proxy saw the agent leave before holding it) or one nobody waits on.
  const find = async () => ((await r.api.call('GET', '/api/approvals?status=pending')).body.approvals as Array<{ id: string; held: boolean; summary: { path: string } }>).find((a) => a.summary.path === '/gone-before-held');
  let seen: { id: string; held: boolean } | undefined;
  // Until the request's record is written (it ended), or an approval was held for half a second.
  const ended = async () => ((await r.api.call('GET', '/api/traffic/recent?limit=20')).body.records as Array<{ url?: string }>).some((x) => x.url?.endsWith('/gone-before-held'));
  const until = Date.now() + 3000;
  let heldSince: number | undefined;
  for (let i = 0; i < 200 && (Date.now() < until || heldSince !== undefined); i++) {
    seen = await find();
    if (seen?.held) heldSince ??= Date.now();
    else heldSince = undefined;
    if (heldSince !== undefined && Date.now() - heldSince > 500) break;
    if (heldSince === undefined && await ended()) break;
    await sleep(50);
  }
  t.notOk(heldSince !== undefined && Date.now() - heldSince > 500, 'no approval is shown as held (waited on) for an agent that left');
  if (seen) await r.api.call('POST', `/api/approvals/${seen.id}/deny`, {});
});

t.test('the studio cannot be reached through the proxy (an agent cannot approve itself)', async (t) => {
  const res = await curl(r, 'GET', `${r.studio}/api/approvals`);
  t.equal(res.status, 403);
  t.notMatch(res.body, /"approvals"/);
});

t.test('the session cookie alone (what a server on another port of 127.0.0.1 receives) reads and approves nothing', async (t) => {
  // Browsers send a host's cookies to every port of it: a dev server the agent started, opened by
  // the logged-in person ("see http://127.0.0.1:3000"), receives the studio's session cookie. It is
  // no browser, so it forges any Origin. What it lacks is the token the studio's page keeps in
  // localStorage (per origin, port included), which the studio now asks of every request.
  const reply = undiciRequest(r, 'POST', url('api.example', '/send/own'), { body: '{"to":"me"}' });
  const [a] = await r.api.pending(1);
  const stolen = { cookie: r.api.cookie, origin: r.studio };
  const neighbour = async (method: string, p: string, extra: Record<string, string> = {}): Promise<{ status: number; text: string }> => {
    const res = await fetch(`${r.studio}${p}`, { method, headers: { ...stolen, ...extra, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) }, ...(method === 'POST' ? { body: '{}' } : {}) });
    return { status: res.status, text: await res.text() };
  };
  const session = await neighbour('GET', '/api/session');
  t.equal(session.status, 403, 'GET /api/session with the cookie alone is refused');
  t.notMatch(session.text, r.api.csrf, 'and does not hand out the token');
  t.equal((await neighbour('GET', '/api/approvals')).status, 403, 'the approvals list is not readable');
  t.equal((await neighbour('GET', `/api/approvals/${a!.id}`)).status, 403, 'nor one approval');
  t.equal((await neighbour('GET', '/api/status')).status, 403, 'nor the status');
  t.equal((await neighbour('POST', `/api/approvals/${a!.id}/approve`)).status, 403, 'the approval is refused');
  t.equal((await neighbour('POST', `/api/approvals/${a!.id}/approve`, { 'x-airlock-csrf': 'guessed' })).status, 403, 'so is a guessed token');
  t.equal((await neighbour('POST', '/api/logout')).status, 403, 'nor can it end the session');
  const tryWs = (protocols: string[], path = '/api/ws'): Promise<number> => new Promise((resolve) => {
    const ws = new WebSocket(`${r.studio.replace('http', 'ws')}${path}`, protocols, { headers: stolen });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => (ws.close(), resolve(101)));
    ws.on('error', () => resolve(-1));
  });
  t.equal(await tryWs([]), 403, 'the live feed does not open with the cookie alone');
  t.equal(await tryWs(wsProtocols('guessed')), 403, 'nor with a guessed token');
  t.equal(await tryWs([], `/api/ws?csrf=${r.api.csrf}`), 403, 'the token counts only as a subprotocol (it stays out of URLs and their logs)');
  t.match((await r.api.call('GET', `/api/approvals/${a!.id}`)).body.approval, { status: 'pending' }, 'the request is still held');
  t.equal(arrived('/send/own'), 0, 'nothing arrived');

  // The studio's own page holds the token: the same requests work.
  t.equal((await neighbour('GET', '/api/session', { 'x-airlock-csrf': r.api.csrf })).status, 200, 'with the token the session answers');
  t.equal((await r.api.call('GET', '/api/approvals')).status, 200);
  t.equal(await tryWs(wsProtocols(r.api.csrf)), 101, 'and the live feed opens');
  t.equal((await r.api.call('POST', `/api/approvals/${a!.id}/approve`, {})).status, 200, 'and the person approves');
  t.equal((await reply).status, 200);
  t.equal(arrived('/send/own'), 1);
});

// Twenty-seventh pass: a person's yes is not lost to what stops the released request before
// anything of it leaves (here a rate limit's bucket, charged only once a request is released; with
// replicas, Redis or PostgreSQL unreachable: test/scale/replica-attacks.test.ts). The approval was
// spent all the same, and the identical retry was "already used": the person had to be asked again.
t.test('an approval released into a short bucket is not lost: the identical retry goes once when it refills (twenty-seventh pass)', async (t) => {
  const body = '{"to":"team@corp.example"}';
  const used = async (id: string) => ((await r.api.call('GET', `/api/approvals/${id}`)).body.approval as ApprovalRecord).used_at;
  // The bucket's one token: a first metered request, held and approved, goes.
  const first = undiciRequest(r, 'POST', url('api.example', '/metered/1'), { body });
  const [a] = await r.api.pending(1);
  t.equal((await r.api.call('POST', `/api/approvals/${a!.id}/approve`, {})).status, 200);
  t.equal((await first).status, 200);
  t.equal(arrived('/metered/1'), 1);
  // Another, approved while held: the bucket is short, nothing leaves, and the approval is still unused.
  const held = undiciRequest(r, 'POST', url('api.example', '/metered/2'), { body });
  const [b] = await r.api.pending(1);
  t.equal((await r.api.call('POST', `/api/approvals/${b!.id}/approve`, {})).status, 200);
  const short = await held;
  t.equal(short.status, 429, 'the released request meets the empty bucket');
  t.equal(short.headers['airlock-approval-id'], b!.id, 'and is told which approval it was');
  t.equal(arrived('/metered/2'), 0, 'nothing left');
  t.equal(await used(b!.id), undefined, 'the approval is not spent on a request that did not leave');
  const retry = () => undiciRequest(r, 'POST', url('api.example', '/metered/2'), { body, headers: { 'Airlock-Approval': b!.id } });
  t.equal((await retry()).status, 429, 'its retry while the bucket is short: 429 again');
  t.equal(await used(b!.id), undefined, 'still not spent');
  t.equal((await r.api.call('POST', '/api/limits/reset', { key: 'metered:bot' })).status, 200, 'the bucket refills');
  t.equal((await retry()).status, 200, 'the identical retry goes');
  t.equal(arrived('/metered/2'), 1);
  t.ok(await used(b!.id), 'and spends the approval');
  const again = await retry();
  t.equal(again.status, 403, 'once');
  t.match(again.json().detail, /already used/);
  t.equal(arrived('/metered/2'), 1);
});
