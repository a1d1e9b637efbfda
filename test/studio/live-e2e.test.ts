// A whole Airlock (proxy + studio, as `airlock start` runs it) and a real browser: a real client's
// request (curl through the proxy) is held by an `approve` decision, shows up in the studio's inbox
// over the WebSocket, is approved in the browser, and the client gets the upstream's response. A
// second request is denied with a message that reaches the client. The live traffic view shows
// both. The WebSocket refuses a foreign Origin and a missing session.
import t from 'tap';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { look, openBrowser } from './helpers.ts';
import WebSocket from 'ws';
import { wsProtocols } from '../../studio/auth.ts';
import { startAirlock } from '../../runtime/airlock.ts';
import { TotpStore } from '../../state/totp.ts';

const run = promisify(execFile);
const artifacts = path.resolve('test-artifacts', 'studio');
fs.mkdirSync(artifacts, { recursive: true });

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-studio-live-'));
t.teardown(() => fs.rmSync(root, { recursive: true, force: true, maxRetries: 10 }));
const policy = path.join(root, 'policy');
fs.mkdirSync(policy);
fs.writeFileSync(
  path.join(policy, 'airlock.rego'),
  `package airlock

import rego.v1

default decision := {"action": "deny", "reason": "not allowed", "rule": "default"}

decision := {"action": "allow", "reason": "reads are fine", "rule": "read", "rate_limits": [{"key": concat(":", ["reads", input.agent.id]), "limit": 100, "window": "1h"}]} if input.request.method == "GET"

decision := {"action": "approve", "reason": "writes need a human", "rule": "write", "approval": {"risk": "high", "timeout": "60s"}} if {
	input.request.method == "POST"
	count(input.grants) == 0
}

decision := {"action": "allow", "reason": "a human granted requests like this", "rule": "granted"} if {
	input.request.method == "POST"
	count(input.grants) > 0
}

decision := {"action": "approve", "reason": "deleting needs step-up", "rule": "delete", "approval": {"risk": "critical", "timeout": "60s", "step_up": true}} if input.request.method == "DELETE"
`,
);

const received: Array<{ method: string; url: string; body: string }> = [];
const upstream = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    received.push({ method: req.method ?? '', url: req.url ?? '', body });
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ created: true, n: received.length }));
  });
});
await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
const upPort = (upstream.address() as { port: number }).port;
t.teardown(() => new Promise<void>((r) => (upstream.closeAllConnections(), upstream.close(() => r()))));

const home = path.join(root, 'home');
const lines: string[] = [];
const airlock = await startAirlock({
  home,
  policy,
  proxy: '127.0.0.1:0',
  studio: '127.0.0.1:0',
  threads: 1,
  unixSocket: false,
  allowPrivate: [`127.0.0.1:${upPort}`],
  resolve: ['api.example=127.0.0.1'],
  log: (l) => lines.push(l),
});
t.teardown(() => airlock.close());
const { token: agentToken } = await airlock.agents.add('bot');
const proxyUrl = airlock.proxyUrl('bot', agentToken);
const studioBase = `http://127.0.0.1:${airlock.studioAddress!.port}`;
const adminToken = fs.readFileSync(path.join(home, 'studio-token'), 'utf8').trim();
t.equal(fs.statSync(path.join(home, 'studio-token')).mode & 0o777, 0o600, 'admin token file is private');

function curl(method: string, url: string, body?: string): Promise<{ status: number; body: string }> {
  const args = ['-sS', '--max-time', '60', '-x', proxyUrl, '-X', method, '-o', '-', '-w', '\n%{http_code}'];
  if (body !== undefined) args.push('-H', 'content-type: application/json', '--data-binary', body);
  args.push(url);
  return run('curl', args).then(({ stdout }) => {
    const i = stdout.lastIndexOf('\n');
    return { status: Number(stdout.slice(i + 1)), body: stdout.slice(0, i) };
  });
}

t.test('the WebSocket needs the session cookie, its token and the studio Origin', async (t) => {
  const tryWs = (headers: Record<string, string>, protocols: string[] = []) =>
    new Promise<number>((resolve) => {
      const ws = new WebSocket(`${studioBase.replace('http', 'ws')}/api/ws`, protocols, { headers });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => (ws.close(), resolve(101)));
      ws.on('error', () => resolve(-1));
    });
  t.equal(await tryWs({ origin: studioBase }), 401, 'no cookie');
  const login = await fetch(`${studioBase}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: adminToken }) });
  const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
  const { csrf } = (await login.json()) as { csrf: string };
  const token = wsProtocols(csrf);
  t.equal(await tryWs({ origin: 'http://evil.example', cookie }, token), 403, 'foreign Origin');
  t.equal(await tryWs({ cookie }, token), 403, 'no Origin at all');
  t.equal(await tryWs({ origin: studioBase, cookie, host: 'evil.example' }, token), 421, 'foreign Host (DNS rebinding)');
  t.equal(await tryWs({ origin: studioBase, cookie }), 403, 'the cookie alone (no token)');
  t.equal(await tryWs({ origin: studioBase, cookie }, wsProtocols('x'.repeat(csrf.length))), 403, 'a wrong token');
  t.equal(await tryWs({ origin: studioBase, cookie }, token), 101, 'the studio itself connects');

  // Logging out ends that session's live feed at once.
  const ws = new WebSocket(`${studioBase.replace('http', 'ws')}/api/ws`, token, { headers: { origin: studioBase, cookie } });
  await new Promise((r) => ws.once('open', r));
  t.equal(ws.protocol, 'airlock', 'the handshake names the feed, never the token');
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  const out = await fetch(`${studioBase}/api/logout`, { method: 'POST', headers: { cookie, 'x-airlock-csrf': csrf } });
  t.equal(out.status, 200);
  t.equal(await closed, 4001, 'the socket was closed by the logout');
  t.equal(await tryWs({ origin: studioBase, cookie }, token), 401, 'the old cookie no longer opens one');
});

t.test('a held request is approved in the browser and the client gets its response', async (t) => {
  const { page } = await openBrowser(t);
  await page.goto(`${studioBase}/#token=${adminToken}`);
  await page.waitForSelector('.cm-content');
  // Record desktop notifications instead of showing them (headless has no notification centre).
  // (A string, not a function: tsx's transpiled classes reference a helper the page doesn't have.)
  await page.evaluate(`
    window.__notes = [];
    window.Notification = function (title, opts) { window.__notes.push({ title, body: (opts || {}).body }); };
    window.Notification.permission = 'granted';
    window.Notification.requestPermission = async () => 'granted';
  `);
  await page.click('nav >> a[href="#/approvals"]');
  await page.waitForSelector('[data-testid=approvals-empty]');
  await page.waitForFunction(() => document.querySelector('[data-testid=conn]')?.textContent?.includes('live'));
  t.match(await page.textContent('.status'), /proxy 127\.0\.0\.1:\d+/, 'the status bar shows the running proxy');

  // The agent's request: held until a human decides.
  const pending = curl('POST', `http://api.example:${upPort}/v1/things`, '{"name":"widget"}');
  await page.waitForSelector('[data-approval]');
  t.equal(received.length, 0, 'nothing reached the upstream while held');
  t.match(await page.textContent('[data-approval]'), /bot[\s\S]*POST http:\/\/api\.example:\d+\/v1\/things[\s\S]*writes need a human/);
  await page.waitForFunction(() => document.title.startsWith('(1)'));
  t.equal(await page.textContent('[data-testid=pending-badge]'), '1', 'badge in the navigation');
  await page.screenshot({ path: path.join(artifacts, '10-approval-held.png') });

  await look(page);
  await page.click('[data-approval] [data-action=approve]');
  const reply = await pending;
  t.equal(reply.status, 200, 'the client got the upstream response');
  t.match(JSON.parse(reply.body), { created: true });
  t.equal(received.length, 1);
  t.equal(received[0]!.body, '{"name":"widget"}');
  await page.waitForSelector('[data-testid=approvals-empty]');
  await page.waitForFunction(() => document.title === 'Airlock Studio');

  // A second one is denied with a message the agent sees.
  const denied = curl('POST', `http://api.example:${upPort}/v1/other`, '{}');
  await page.waitForSelector('[data-approval]');
  await page.fill('[data-approval] input[name=message]', 'not today');
  await look(page);
  await page.click('[data-approval] [data-action=deny]');
  const d = await denied;
  t.equal(d.status, 403);
  t.match(d.body, /not today/);
  t.equal(received.length, 1, 'the denied request never arrived');
  await page.screenshot({ path: path.join(artifacts, '11-approvals-resolved.png') });

  // Allow similar for N minutes: a grant lets the next similar request through without asking.
  const first = curl('POST', `http://api.example:${upPort}/v1/things`, '{"n":1}');
  await page.waitForSelector('[data-approval]');
  await page.fill('[data-approval] input[name=minutes]', '5');
  await look(page);
  // A grant for a high-risk request is an explicit choice: the studio asks first.
  const confirmed = new Promise<string>((resolve) => page.once('dialog', (dialog) => {
    resolve(dialog.message());
    void dialog.accept();
  }));
  await page.click('[data-approval] [data-action=grant]');
  t.match(await confirmed, /high risk/, 'the human confirms a grant for a high-risk request');
  t.equal((await first).status, 200);
  await page.waitForSelector('[data-testid=grants] tbody tr');
  t.match(await page.textContent('[data-testid=grants]'), /bot[\s\S]*POST api\.example/);
  // What it is tied to (twenty-second pass): its risk and place, not "any query, body and headers".
  t.match(await page.textContent('[data-testid=grant-ties]'), /up to high risk; naming no place/);
  const second = await curl('POST', `http://api.example:${upPort}/v1/things`, '{"n":2}');
  t.equal(second.status, 200, 'the similar request passed without being held');
  t.equal(received.length, 3);
  await page.screenshot({ path: path.join(artifacts, '11a-grant.png') });
  await page.click('[data-testid=grants] button');
  await page.waitForSelector('[data-testid=grants]', { state: 'detached' });

  // Step-up: a critical request needs a TOTP code; without one or with a wrong one it stays held.
  const { secret } = await new TotpStore(home).enroll();
  // While the human looks at another page, a new approval raises a desktop notification.
  await page.click('nav >> a[href="#/traffic"]');
  // Its query carries a right-to-left override (decoded in the description every view shows).
  const critical = curl('DELETE', `http://api.example:${upPort}/v1/things/1?note=%E2%80%AEevil`);
  await page.waitForFunction(() => (window as unknown as { __notes: unknown[] }).__notes.length === 1, undefined, { timeout: 5000 }).catch(async (err) => {
    const dbg = await page.evaluate(() => JSON.stringify([typeof Notification, (Notification as unknown as { permission: string }).permission, document.hasFocus(), (window as unknown as { __notes: unknown }).__notes, document.querySelector('approvals-view')?.textContent?.slice(0, 200)]));
    throw new Error(`${err.message} ${dbg}`);
  });
  const note = await page.evaluate(() => (window as unknown as { __notes: Array<{ title: string; body?: string }> }).__notes[0]!);
  t.match(note, { title: /approval needed/, body: /bot: DELETE http:\/\/api\.example:\d+\/v1\/things\/1/ });
  await page.waitForSelector('[data-testid=pending-badge]');
  // While it is held, Traffic shows it (its audit record only comes when it ends) with a link to its approval.
  await page.waitForSelector('tr.held-row:has-text("DELETE http://api.example"):has-text("/v1/things/1")');
  await page.click('tr.held-row');
  await page.screenshot({ path: path.join(artifacts, '12a-traffic-held.png') });
  await page.click('[data-action=open-approval]');
  await page.waitForFunction(() => document.activeElement?.matches('[data-approval]') === true);
  t.match(page.url(), /#\/approvals$/, 'the link leads to the approval');
  await page.waitForSelector('[data-approval] input[name=totp]');
  t.ok(await page.isDisabled('[data-approval] [data-action=grant]'), 'no "allow similar" for critical risk');
  await look(page);
  await page.click('[data-approval] [data-action=approve]');
  await page.waitForSelector('[data-approval] [data-testid=card-error] >> text=/code/');
  await page.fill('[data-approval] input[name=totp]', TotpStore.codeFor(secret) === '000000' ? '111111' : '000000');
  await page.click('[data-approval] [data-action=approve]');
  await page.waitForSelector('[data-approval] [data-testid=card-error] >> text=/TOTP code is wrong/');
  t.equal(received.length, 3, 'still held after a wrong code');
  await page.screenshot({ path: path.join(artifacts, '11b-step-up.png') });
  await page.fill('[data-approval] input[name=totp]', TotpStore.codeFor(secret));
  await page.click('[data-approval] [data-action=approve]');
  const c = await critical;
  t.equal(c.status, 200, 'approved with a valid TOTP code');
  t.equal(received.length, 4);
  await page.click('nav >> a[href="#/traffic"]');
  await page.waitForSelector('tr.held-row', { state: 'detached' });

  // The live traffic view received both decisions over the WebSocket.
  await page.click('nav >> a[href="#/traffic"]');
  await page.waitForFunction(() => (document.querySelector('[data-testid=traffic-table]')?.textContent?.match(/approve/g)?.length ?? 0) >= 4);
  const get = await curl('GET', `http://api.example:${upPort}/v1/things`);
  t.equal(get.status, 200);
  await page.waitForFunction(() => document.querySelector('[data-testid=traffic-table] tbody tr')?.textContent?.includes('GET'));
  // Pause keeps events without showing them; resume shows them.
  await page.click('#pause');
  await curl('GET', `http://api.example:${upPort}/v1/paused`);
  await page.waitForFunction(() => document.querySelector('#pause')?.textContent?.includes('1 new'));
  t.notMatch(await page.textContent('[data-testid=traffic-table]'), /\/v1\/paused/, 'not shown while paused');
  await page.screenshot({ path: path.join(artifacts, '12-traffic-paused.png') });
  await page.click('#pause');
  t.match(await page.textContent('[data-testid=traffic-table] tbody tr'), /\/v1\/paused/, 'shown after resume, nothing lost');
  // Newest request first (by when it arrived), durations readable, the deciding policy version shown.
  const times = await page.$$eval('[data-testid=traffic-table] tbody tr[data-request] td:first-child', (tds) => tds.map((td) => td.getAttribute('title')!));
  t.same(times, [...times].sort().reverse(), 'ordered by request time');
  t.match(await page.textContent('[data-testid=traffic-table] tbody tr'), /forwarded · 200 · \d+(\.\d+)? (ms|s)/);
  t.match(await page.textContent('[data-testid=traffic-table] tbody tr td:nth-child(5)'), /^[0-9a-f]{8}$/);
  await page.screenshot({ path: path.join(artifacts, '13-traffic.png') });
  // From a traffic row to Evaluate.
  // (Its row is still open from when it was held: the record took the held row's place.)
  if (!(await page.locator('[data-action=evaluate]').count())) await page.click('[data-testid=traffic-table] tbody tr:has-text("DELETE")');
  // The row's description shows what the agent chose with its invisible characters spelled out.
  const detail = (await page.textContent('tr.detail .input-json')) ?? '';
  t.match(detail, /⟨U\+202E⟩evil/, 'the override in the decoded query is shown as a code point');
  t.notMatch(detail, /\u202E/, 'and not drawn');
  await page.click('[data-action=evaluate]');
  await page.waitForSelector('evaluate-pane [data-testid=decision]');
  t.match(await page.inputValue('#eval-input'), /"method": "DELETE"/, 'Evaluate has the request');
  t.match(await page.textContent('.decisions'), /approve[\s\S]*delete[\s\S]*deleting needs step-up/);

  // Evaluate a captured request against the draft: search the audit log for it.
  await page.click('nav >> a[href="#/policy"]');
  await page.click('role=tab[name="Evaluate"]');
  await page.focus('#capture-search');
  await page.fill('#capture-search', 'delete things');
  await page.waitForSelector('[data-testid=capture-list] button.capture');
  t.equal(await page.locator('[data-testid=capture-list] button.capture').count(), 1, 'the search narrows the list');
  await page.fill('#eval-input', '');
  await page.click('[data-testid=capture-list] button.capture');
  t.match(await page.inputValue('#eval-input'), /"method": "DELETE"/);
  await page.click('#evaluate');
  await page.waitForSelector('[data-testid=decision]');
  t.match(await page.textContent('.decisions'), /approve[\s\S]*delete[\s\S]*deleting needs step-up/);
  await page.screenshot({ path: path.join(artifacts, '14-evaluate-captured.png') });

  // The GETs above charged a rate-limit bucket; the Limits page shows it and can refill it.
  await page.click('nav >> a[href="#/limits"]');
  await page.waitForSelector('limits-view table >> text=reads:bot');
  t.match(await page.textContent('limits-view table'), /reads:bot[\s\S]*9[678] requests[\s\S]*100 requests per hour/, 'readable units');
  await page.screenshot({ path: path.join(artifacts, '15-limits.png') });
  page.once('dialog', (d) => void d.accept());
  await page.click('[data-bucket="reads:bot"] button');
  await page.waitForSelector('[data-bucket="reads:bot"] >> text=full');
  t.match(await page.textContent('[data-bucket="reads:bot"]'), /100 requests/, 'a full bucket stays listed');
});
