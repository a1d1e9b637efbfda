// The approvals queue without sockets: persistence, holding, single use, retry binding, grants,
// step-up with TOTP, events, and the webhook (a real local HTTP server).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import t, { type Test } from 'tap';
import { requireOpa } from '../../engine/toolchain.ts';
import { ApprovalQueue, ApprovalError, pathMatches, publicSummary, requestHash, type ApprovalEvent } from '../../state/approvals.ts';
import { TotpStore } from '../../state/totp.ts';
import { WebhookNotifier } from '../../state/webhook.ts';
import type { RequestDescription } from '../../describe/types.ts';
import type { EngineDecision } from '../../engine/decision.ts';

function home(t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-ap-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10 }));
  return dir;
}

function describe(over: { method?: string; host?: string; path?: string; agent?: string; sha?: string; operation?: string; truncated?: boolean } = {}): RequestDescription {
  const host = over.host ?? 'api.example.com';
  const p = over.path ?? '/repos/acme/site';
  return {
    request: {
      id: 'r1', time: new Date().toISOString(), method: over.method ?? 'DELETE', url: `https://${host}${p}`, scheme: 'https', host, port: 443,
      path: p, segments: p.split('/').filter(Boolean), query: {}, headers: { authorization: ['[redacted]'] },
      body: { size: 0, sha256: over.sha ?? 'e3b0c442', content_type: '', truncated: over.truncated ?? false }, egress_bytes: 10,
    },
    agent: { id: over.agent ?? 'bot', labels: {} },
    ...(over.operation ? { service: { name: 'github', operation: over.operation, params: {}, effect: 'delete' as const } } : {}),
    placeholders: [],
    grants: [],
  };
}

const decision = (over: Partial<EngineDecision> = {}): EngineDecision => ({
  action: 'approve', reason: 'deleting a repository needs a human', rule: 'github.delete', approval: { risk: 'high' },
  policy_version: 'v1', decision_us: 1, ...over,
});

t.test('records persist across a restart; held requests are released once', async (t) => {
  const dir = home(t);
  const q = await ApprovalQueue.open(dir, { sweepMs: 0 });
  const events: ApprovalEvent[] = [];
  q.onChange((e) => events.push(e));
  const a = await q.create(describe(), decision());
  t.match(a.id, /^ap_[0-9a-f]{16}$/);
  t.equal(a.status, 'pending');
  t.equal(a.request_hash, requestHash(describe()));
  t.equal(fs.statSync(q.file).mode & 0o777, 0o600, 'approvals file is private');
  await q.close();

  const q2 = await ApprovalQueue.open(dir, { sweepMs: 0 });
  t.teardown(() => q2.close());
  t.same(q2.list({ status: 'pending' }).map((x) => x.id), [a.id], 'the pending approval survived the restart');
  t.equal(q2.get(a.id.slice(0, 8)).id, a.id, 'a unique prefix finds it');

  const held1 = q2.wait(a.id, { timeoutMs: 10_000 });
  const held2 = q2.wait(a.id, { timeoutMs: 10_000 });
  t.equal(q2.isHeld(a.id), true);
  const { approval } = await q2.approve(a.id, { by: 'cli', message: 'ok' });
  t.equal(await held1, 'approved', 'the first held request proceeds');
  t.equal(await held2, 'used', 'a second one on the same approval does not (single use)');
  t.equal(approval.status, 'approved');
  t.ok(approval.used_at);
  t.same(approval.resolution?.by, 'cli');
  await t.rejects(q2.approve(a.id, { by: 'cli' }), { code: 'not-pending' });
  t.same(events.map((e) => e.type), ['created']);
});

t.test('deny reaches the held request with the message; events fire for every change', async (t) => {
  const q = await ApprovalQueue.open(home(t), { sweepMs: 0 });
  t.teardown(() => q.close());
  const events: string[] = [];
  q.onChange((e) => events.push(e.type));
  const a = await q.create(describe(), decision());
  const held = q.wait(a.id, { timeoutMs: 10_000 });
  await q.deny(a.id, { by: 'studio', message: 'not today\n\u0007please' });
  t.equal(await held, 'denied');
  t.equal(q.get(a.id).resolution?.message, 'not today please', 'control characters removed');
  t.same(events, ['created', 'held', 'resolved'], 'held when the request starts waiting; no "released" after a decision');
  t.same((await q.claimRetry(a.id, describe())).kind, 'denied', 'a retry of a denied approval stays denied');
});

t.test('timeout, then a late approval is used once by the identical retry', async (t) => {
  let now = Date.parse('2026-01-01T00:00:00Z');
  const q = await ApprovalQueue.open(home(t), { sweepMs: 0, now: () => now });
  t.teardown(() => q.close());
  const a = await q.create(describe(), decision({ approval: { risk: 'high', timeout: 0 } }));
  t.equal(await q.wait(a.id, { timeoutMs: 0 }), 'timeout');
  t.equal(q.get(a.id).status, 'pending', 'still approvable after the hold');
  t.equal((await q.claimRetry(a.id, describe())).kind, 'pending', 'a retry before the human decided holds again');

  await q.approve(a.id, { by: 'studio' });
  t.match(await q.claimRetry(a.id, describe({ path: '/repos/acme/other' })), { kind: 'refused', reason: /different request/ }, 'another URL does not match');
  t.match(await q.claimRetry(a.id, describe({ sha: 'ffff' })), { kind: 'refused' }, 'another body does not match');
  t.match(await q.claimRetry(a.id, describe({ agent: 'other' })), { kind: 'refused' }, 'another agent does not match');
  t.match(await q.claimRetry('ap_nope', describe()), { kind: 'refused', reason: /no approval/ });
  t.match(await q.claimRetry(a.id.slice(0, 10), describe()), { kind: 'refused' }, 'a retry must name the full id');
  t.equal((await q.claimRetry(a.id, describe())).kind, 'approved', 'the identical retry passes');
  t.match(await q.claimRetry(a.id, describe()), { kind: 'refused', reason: /already used/ }, 'and only once');

  const b = await q.create(describe(), decision());
  // Fourteenth pass: approved in its window, the retry held back for days (up to the week the
  // record is kept) still went: the person approved it for then, not for whenever the agent likes.
  const late = await q.create(describe(), decision());
  await q.approve(late.id, { by: 'studio' });
  now += 25 * 3_600_000;
  t.match(await q.claimRetry(b.id, describe()), { kind: 'refused', reason: /expired/ }, 'after the retry window it expires');
  await t.rejects(q.approve(b.id, { by: 'cli' }), { code: 'not-pending' });
  t.match(await q.claimRetry(late.id, describe()), { kind: 'refused', reason: /approved but not used by .* it expired/ }, 'an approval not used in its retry window is not used after it');
  t.equal(q.get(late.id).used_at, undefined, 'nor spent');

  const c = await q.create(describe({ truncated: true }), decision());
  await q.approve(c.id, { by: 'cli' });
  t.match(await q.claimRetry(c.id, describe({ truncated: true })), { kind: 'refused', reason: /capture cap/ }, 'a body beyond the cap cannot be matched by hash');
});

t.test('the hold ends when the agent goes away', async (t) => {
  const q = await ApprovalQueue.open(home(t), { sweepMs: 0 });
  t.teardown(() => q.close());
  const a = await q.create(describe(), decision());
  const ac = new AbortController();
  const held = q.wait(a.id, { timeoutMs: 10_000, signal: ac.signal });
  const events: ApprovalEvent[] = [];
  q.onChange((e) => events.push(e));
  ac.abort();
  t.equal(await held, 'aborted');
  t.equal(q.isHeld(a.id), false);
  t.same(events.map((e) => [e.type, 'approval' in e && e.approval.id]), [['released', a.id]], 'subscribers learn that nobody waits on it any more');

  // A retry holds it again (an event says so), and its timeout releases it again.
  const again = q.wait(a.id, { timeoutMs: 0 });
  t.equal(await again, 'timeout');
  t.same(events.map((e) => e.type), ['released', 'held', 'released']);
  t.equal(q.get(a.id).status, 'pending', 'still approvable for the retry');
});

t.test('grants: same agent, method, host and operation or path pattern, until they expire', async (t) => {
  let now = Date.parse('2026-01-01T00:00:00Z');
  const q = await ApprovalQueue.open(home(t), { sweepMs: 0, now: () => now });
  t.teardown(() => q.close());
  const events: string[] = [];
  q.onChange((e) => events.push(e.type));

  const byOp = await q.create(describe({ operation: 'repos.delete' }), decision());
  await t.rejects(q.approve(byOp.id, { by: 'studio', grantMinutes: 30 }), /explicit choice/, 'a grant for a high-risk approval must be chosen explicitly');
  const { grant } = await q.approve(byOp.id, { by: 'studio', grantMinutes: 30, grantHigh: true });
  t.match(grant, { agent: 'bot', method: 'DELETE', host: 'api.example.com', operation: 'repos.delete', risk: 'high' });
  t.equal(grant!.path_pattern, undefined);
  t.same(q.matchingGrants(describe({ operation: 'repos.delete', path: '/repos/acme/other' })).map((g) => g.id), [grant!.id], 'another repo, same operation');
  t.same(q.matchingGrants(describe({ operation: 'repos.delete', host: 'evil.example' })), [], 'not another host');
  t.same(q.matchingGrants(describe({ operation: 'repos.delete', agent: 'other' })), [], 'not another agent');
  t.same(q.matchingGrants(describe({ operation: 'repos.delete', method: 'POST' })), [], 'not another method');
  t.same(q.matchingGrants(describe({ operation: 'issues.delete' })), [], 'not another operation');

  const byPath = await q.create(describe({ path: '/v1/items/42' }), decision({ approval: { risk: 'medium' } }));
  const g2 = (await q.approve(byPath.id, { by: 'cli', grantMinutes: 5, pathPattern: '/v1/items/*' })).grant!;
  t.equal(g2.path_pattern, '/v1/items/*');
  t.equal(q.matchingGrants(describe({ path: '/v1/items/43' })).length, 1);
  t.equal(q.matchingGrants(describe({ path: '/v1/items/43/x' })).length, 0);
  now += 5 * 60_000;
  t.equal(q.matchingGrants(describe({ path: '/v1/items/43' })).length, 0, 'expired after 5 minutes');
  t.equal(q.matchingGrants(describe({ operation: 'repos.delete' })).length, 1, 'the 30-minute grant still holds');
  await q.revokeGrant(grant!.id);
  t.equal(q.matchingGrants(describe({ operation: 'repos.delete' })).length, 0, 'revoked');
  t.ok(events.includes('grant-created') && events.includes('grant-revoked'));

  const crit = await q.create(describe(), decision({ approval: { risk: 'critical' } }));
  await t.rejects(q.approve(crit.id, { by: 'cli', grantMinutes: 10 }), /one at a time/);
  await t.rejects(q.approve(crit.id, { by: 'cli', grantMinutes: 0 }), { code: 'bad-request' });
  const stepUp = await q.create(describe(), decision({ approval: { risk: 'medium', step_up: true } }));
  await t.rejects(q.approve(stepUp.id, { by: 'cli', grantMinutes: 10 }), /one at a time/, 'no grant for a step-up approval');
  const unknown = await q.create(describe({ operation: 'unknown', path: '/v9/x' }), decision({ approval: { risk: 'medium' } }));
  const g3 = (await q.approve(unknown.id, { by: 'cli', grantMinutes: 5 })).grant!;
  t.match(g3, { path_pattern: '/v9/x', risk: 'medium' }, 'an unrecognized route is granted by its path, not as operation "unknown"');
  t.equal(g3.operation, undefined);
  const bad = await q.create(describe(), decision());
  await t.rejects(q.approve(bad.id, { by: 'cli', grantMinutes: 5, pathPattern: 'no-slash' }), { code: 'bad-request' });
});

t.test('path patterns agree with Rego glob.match(pattern, ["/"], path), which the base policy uses', async (t) => {
  const cases: Array<[string, string]> = [];
  const patterns = ['/a/*/c', '/a/*', '/a/**', '/a', '/v1/items-*', '/repos/acme/*/issues/**', '/x?z', '/a.b/*'];
  const paths = ['/a/b/c', '/a//c', '/a/b', '/a/b/c/d', '/a', '/a/', '/ab', '/v1/items-42', '/v1/items-4/2', '/repos/acme/site/issues/1/comments', '/xyz', '/x/z', '/a.b/c', '/aXb/c'];
  for (const p of patterns) for (const q of paths) cases.push([p, q]);
  const query = `x := [glob.match(c[0], ["/"], c[1]) | some c in input]`;
  // opa eval reads the cases as input on stdin.
  const child = execFile(requireOpa(), ['eval', '--format', 'json', '--stdin-input', query], { timeout: 30_000 });
  child.stdin!.end(JSON.stringify(cases));
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  await new Promise((r) => child.on('close', r));
  const expected = JSON.parse(out).result[0].bindings.x as boolean[];
  t.equal(expected.length, cases.length);
  const mismatches = cases.filter(([p, q], i) => pathMatches(p, q) !== expected[i]).map(([p, q]) => `${p} ~ ${q}`);
  t.same(mismatches, [], 'same answer as Rego for every case');
  t.ok(pathMatches('/a/*/c', '/a/b/c'));
  t.notOk(pathMatches('/a/*', '/a/b/c'));
});

t.test('step-up: TOTP required for critical or step_up approvals once enrolled, codes single use', async (t) => {
  const dir = home(t);
  let now = Date.parse('2026-03-01T12:00:00Z');
  const totp = new TotpStore(dir, () => now);
  const q = await ApprovalQueue.open(dir, { sweepMs: 0, now: () => now, totp });
  t.teardown(() => q.close());

  const early = await q.create(describe(), decision({ approval: { risk: 'critical' } }));
  t.equal(q.needsStepUp(early), false, 'without enrollment nothing to check');
  const { secret, uri } = await totp.enroll({ label: 'me' });
  t.match(uri, /^otpauth:\/\/totp\/Airlock:me\?.*secret=/);
  await t.rejects(totp.enroll(), /already enrolled/);
  t.equal(fs.statSync(totp.file).mode & 0o777, 0o600);
  t.equal(q.needsStepUp(early), true);

  await t.rejects(q.approve(early.id, { by: 'cli' }), { code: 'step-up-required' });
  await t.rejects(q.approve(early.id, { by: 'cli', totp: '000000' === TotpStore.codeFor(secret, now) ? '111111' : '000000' }), { code: 'totp-invalid' });
  await t.rejects(q.approve(early.id, { by: 'cli', totp: 'abc' }), { code: 'totp-invalid' });
  t.equal(q.get(early.id).status, 'pending', 'refusals leave it pending');
  const code = TotpStore.codeFor(secret, now);
  const done = await q.approve(early.id, { by: 'cli', totp: code });
  t.equal(done.approval.resolution?.step_up, true);

  const stepUp = await q.create(describe(), decision({ approval: { risk: 'low', step_up: true } }));
  await t.rejects(q.approve(stepUp.id, { by: 'cli', totp: code }), { code: 'totp-invalid' }, 'the same code cannot be replayed');
  now += 30_000;
  await q.approve(stepUp.id, { by: 'cli', totp: TotpStore.codeFor(secret, now) });

  const plain = await q.create(describe(), decision({ approval: { risk: 'high' } }));
  await q.approve(plain.id, { by: 'cli' });
  t.equal(q.get(plain.id).status, 'approved', 'high risk without step_up needs no code');
  t.equal(await totp.unenroll(), true);
  t.equal(totp.enrolled(), false);
});

t.test('step-up: guessing codes is throttled (five wrong codes a minute), in every process sharing the state', async (t) => {
  const dir = home(t);
  let now = Date.parse('2026-03-01T12:00:00Z');
  const totp = new TotpStore(dir, () => now);
  const q = await ApprovalQueue.open(dir, { sweepMs: 0, now: () => now, totp });
  t.teardown(() => q.close());
  const { secret } = await totp.enroll();
  const a = await q.create(describe(), decision({ approval: { risk: 'critical' } }));
  const right = TotpStore.codeFor(secret, now);
  const wrongs = ['000000', '111111', '222222', '333333', '444444', '555555'].filter((c) => c !== right).slice(0, 5);
  for (const w of wrongs) await t.rejects(q.approve(a.id, { by: 'studio', totp: w }), { code: 'totp-invalid' });
  // The sixth attempt, with the right code: refused without being checked.
  await t.rejects(q.approve(a.id, { by: 'studio', totp: right }), { code: 'totp-locked', message: /no code is checked for 60 s/ });
  t.equal(await new TotpStore(dir, () => now).retryAfter(), 60, 'another process sharing the folder sees the same throttle');
  t.equal(await new TotpStore(dir, () => now).verify(right), false, 'and refuses codes too');
  t.equal(q.get(a.id).status, 'pending');
  now += 61_000;
  const done = await q.approve(a.id, { by: 'studio', totp: TotpStore.codeFor(secret, now) });
  t.equal(done.approval.status, 'approved', 'after the window a right code works');
  t.equal(await totp.retryAfter(), 0, 'and clears the count');
});

t.test('pending approvals are capped per agent', async (t) => {
  const q = await ApprovalQueue.open(home(t), { sweepMs: 0, maxPendingPerAgent: 2 });
  t.teardown(() => q.close());
  await q.create(describe(), decision());
  await q.create(describe(), decision());
  await t.rejects(q.create(describe(), decision()), { code: 'too-many' });
  await q.create(describe({ agent: 'other' }), decision());
  t.ok(new ApprovalError('not-found', 'x') instanceof Error);
});

t.test('webhook: summary without secrets, retried with backoff, never blocking', async (t) => {
  const bodies: unknown[] = [];
  let calls = 0;
  let first: http.ServerResponse | undefined;
  const server = http.createServer((req, res) => {
    calls++;
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      if (calls === 1) {
        first = res; // held open until the test has seen that create() did not wait for it
        return;
      }
      if (calls < 3) {
        res.statusCode = 503; // the first two attempts fail
        return res.end();
      }
      bodies.push({ contentType: req.headers['content-type'], body: JSON.parse(text) });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook?token=chat-token`;
  const logs: string[] = [];
  const hook = new WebhookNotifier({ url, baseDelayMs: 20, log: (l) => logs.push(l) });
  t.teardown(() => hook.close());
  const q = await ApprovalQueue.open(home(t), { sweepMs: 0, notify: (e) => hook.notify(e) });
  t.teardown(() => q.close());
  const d = describe({ operation: 'repos.delete' });
  d.request.url += '?access_token=airlock-ph-SHOULDNOTLEAK';
  d.request.query = { access_token: ['airlock-ph-SHOULDNOTLEAK'] };
  const a = await q.create(d, decision());
  for (let i = 0; i < 500 && !first; i++) await new Promise((r) => setTimeout(r, 10));
  t.ok(first && !first.writableEnded, 'create() returned while the webhook had not answered yet');
  first!.statusCode = 503;
  first!.end();
  await hook.idle(5000);
  t.equal(calls, 3, 'delivered on the third attempt');
  t.equal(hook.stats.delivered, 1);
  t.equal(bodies.length, 1);
  const sent = bodies[0] as { contentType: string; body: { type: string; approval: Record<string, unknown> } };
  t.equal(sent.contentType, 'application/json');
  t.equal(sent.body.type, 'approval.created');
  t.match(sent.body.approval, { id: a.id, agent: 'bot', method: 'DELETE', host: 'api[.]example[.]com', path: '/repos/acme/site', operation: 'github:repos.delete', risk: 'high' });
  t.notMatch(JSON.stringify(sent.body), /SHOULDNOTLEAK|redacted|authorization/, 'no query, headers or body in the payload');

  // Fifteenth pass: a chat that unfurls links fetches what a message holds before anyone reads it,
  // so a held request's host and path relayed into one (`<data>.evil.example`, `/c/<data>`, a URL
  // in the path, the reason naming the host) left without a human. Property over where the data
  // sits and which dot spells it: nothing in the payload reads as a host name or a URL.
  const linkish = /[\p{L}\p{N}_-][.\u3002\uff0e\uff61][\p{L}\p{N}_-]|:\/\//u;
  const word = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,10}$/);
  fc.assert(fc.property(word, word, fc.constantFrom('.', '\u3002', '\uff0e', '\uff61'), fc.constantFrom('path', 'url-in-path', 'reason'), (data, tld, dot, where) => {
    const host = `${data}${dot}evil${dot}${tld}x`;
    const p = where === 'url-in-path' ? `/r/https://${host}/c` : `/c/${data}${dot}${tld}/x.png`;
    const record = { id: 'ap_1', agent: 'bot', summary: { method: 'GET', host, path: p }, reason: `GET ${host}${p} can carry data out.`, risk: 'high', step_up: false, status: 'pending', created: '', expires: '' };
    const sent = publicSummary(record as unknown as Parameters<typeof publicSummary>[0]);
    return !linkish.test(sent.host) && !linkish.test(sent.path) && !linkish.test(sent.reason) && sent.reason.endsWith('out.');
  }), { numRuns: 50 });

  const dead = new WebhookNotifier({ url: 'http://127.0.0.1:1/hook?token=abc', attempts: 2, baseDelayMs: 10, log: (l) => logs.push(l) });
  dead.notify({ x: 1 });
  await dead.idle(5000);
  t.equal(dead.stats.failed, 1);
  t.match(logs.at(-1), /failed after 2 attempt/);
  t.notMatch(logs.join('\n'), /token=abc|chat-token/, 'the URL query (chat tokens) is never printed');
});

// Tenth pass: a grant whose write failed (a full disk, a read-only state folder) stayed in memory
// and allowed similar requests until a restart, while the person was told approving failed.
t.test('a grant that cannot be stored does not live on in memory', async (t) => {
  const q = await ApprovalQueue.open(home(t), { sweepMs: 0 });
  t.teardown(() => q.close());
  const events: string[] = [];
  q.onChange((e) => events.push(e.type));
  const a = await q.create(describe({ path: '/v1/items/1' }), decision({ approval: { risk: 'medium' } }));
  const doc = (q as unknown as { doc: { write: () => Promise<void> } }).doc;
  const write = doc.write.bind(doc);
  doc.write = () => Promise.reject(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }));
  await t.rejects(q.approve(a.id, { by: 'studio', grantMinutes: 30 }), /ENOSPC/, 'approving says it failed');
  doc.write = write;
  t.same(q.grants(), [], 'no grant is active');
  t.same(q.matchingGrants(describe({ path: '/v1/items/1' })), [], 'and none matches');
  t.ok(events.includes('grant-revoked'), 'watchers are told it is gone');
});

t.test('a grant whose revocation cannot be stored allows nothing more, can be revoked again, and stays revoked across a restart (twenty-sixth pass)', async (t) => {
  const dir = home(t);
  const q = await ApprovalQueue.open(dir, { sweepMs: 0 });
  const d = describe({ path: '/v1/items/2' });
  const a = await q.create(d, decision({ approval: { risk: 'medium' } }));
  const { grant } = await q.approve(a.id, { by: 'studio', grantMinutes: 30 });
  t.equal(q.matchingGrants(d).length, 1, 'the grant covers the request');
  const doc = (q as unknown as { doc: { write: () => Promise<void> } }).doc;
  const write = doc.write.bind(doc);
  doc.write = () => Promise.reject(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }));
  await t.rejects(q.revokeGrant(grant!.id), /ENOSPC/, 'revoking says it failed');
  t.same(q.matchingGrants(d), [], 'from the click on it allows nothing');
  t.same(q.grants().map((g) => g.id), [grant!.id], 'and it is still listed, as the disk still holds it');
  // Airlock stops here without a clean close (killed): what the disk holds is what comes back.
  const crashed = await ApprovalQueue.open(dir, { sweepMs: 0 });
  t.equal(crashed.matchingGrants(d).length, 1, '(the disk still holds it: the person was told revoking failed)');
  await crashed.close();
  doc.write = write;
  await q.revokeGrant(grant!.id);
  t.same(q.grants().map((g) => g.id), [], 'revoked again: gone');
  await q.close();
  const again = await ApprovalQueue.open(dir, { sweepMs: 0 });
  t.teardown(() => again.close());
  t.same(again.matchingGrants(d), [], 'and after a restart it is still revoked');
});

t.test("webhook: one agent's burst of held requests does not put a neighbour's notification behind it, nor drop it", async (t) => {
  // Sixteenth pass: one queue for every agent, first come first served: a neighbour's request held
  // after another agent's burst of 50 was told to the person only after all of them (with an
  // endpoint taking seconds, a minute later: its hold over); past the bound the oldest went, whoever's.
  const order: string[] = [];
  const slow = (async (_url: string, init: { body: string }) => {
    await new Promise((r) => setTimeout(r, 5));
    order.push((JSON.parse(init.body) as { approval: { agent: string } }).approval.agent);
    return new Response(null, { status: 204 });
  }) as unknown as typeof fetch;
  const event = (agent: string, i = 0): unknown => ({ type: 'approval.created', approval: { id: `ap_${agent}_${i}`, agent } });
  const hook = new WebhookNotifier({ url: 'http://127.0.0.1:9/hook', fetch: slow, maxQueue: 20 });
  t.teardown(() => hook.close());
  for (let i = 0; i < 40; i++) hook.notify(event('hostile', i));
  hook.notify(event('neighbour'));
  await hook.idle(5000);
  const at = order.indexOf('neighbour');
  t.ok(at >= 0 && at <= 5, `the neighbour's notification went out in its turn (${at + 1} of ${order.length})`);
  t.equal(order.length + hook.stats.dropped, 41, "past the bound the hostile agent's oldest were dropped (the neighbour's went out)");
});

t.test('one approval lets one request go, also when its use or its resolution could not be written, across a restart (twenty-sixth pass)', async (t) => {
  // The disk refuses one approval's writes while `refuse` lasts (its record file is a directory:
  // the rename over it fails); `heal` puts back what the disk held, and the queue is opened again
  // from it (a restart). Across both, every approval lets at most one request go, and one that
  // let none go is still usable: fail closed, lose nothing.
  const refuse = (q: ApprovalQueue, id: string): (() => void) => {
    const file = path.join(q.folder, `${id}.json`);
    const kept = fs.readFileSync(file);
    fs.rmSync(file);
    fs.mkdirSync(file);
    fs.writeFileSync(path.join(file, 'x'), '');
    return () => {
      fs.rmSync(file, { recursive: true, force: true });
      fs.writeFileSync(file, kept);
    };
  };
  // where: the agent's retry claims it (the use not written), the person approves while the request
  // is held (the resolution not written, which the person is told), or while none is.
  await fc.assert(fc.asyncProperty(fc.constantFrom('retry', 'held', 'unheld'), fc.boolean(), async (where, deny) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-ap-'));
    try {
      const d = describe({ path: `/r/${where}` });
      const q = await ApprovalQueue.open(dir, { sweepMs: 0 });
      const a = await q.create(d, decision());
      let sent = 0;
      if (where === 'retry') await q.approve(a.id, { by: 'studio' });
      const held = where === 'held' ? q.wait(a.id, { timeoutMs: 200 }) : undefined;
      const heal = refuse(q, a.id);
      let told = 'ok';
      if (where === 'retry') {
        if ((await q.claimRetry(a.id, d)).kind === 'approved') sent++;
      } else {
        const decide = deny ? q.deny(a.id, { by: 'studio' }) : q.approve(a.id, { by: 'studio' });
        told = await decide.then(() => 'ok', () => 'failed');
        if (held && (await held) === 'approved') sent++;
        if (where === 'unheld' && told === 'ok' && (await q.claimRetry(a.id, d)).kind === 'approved') sent++;
      }
      await q.close();
      heal();
      const again = await ApprovalQueue.open(dir, { sweepMs: 0 });
      try {
        // Told it failed, the person decides again; the agent retries.
        if (again.get(a.id).status === 'pending') await (deny && where !== 'retry' ? again.deny(a.id, { by: 'studio' }) : again.approve(a.id, { by: 'studio' }));
        if ((await again.claimRetry(a.id, d)).kind === 'approved') sent++;
        const approved = where === 'retry' || !deny;
        if (sent !== (approved ? 1 : 0)) throw new Error(`${where}${deny ? ' (denied)' : ''}: ${sent} requests went on one approval (told: ${told})`);
      } finally {
        await again.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10 });
    }
  }), { numRuns: 20 });
  t.pass('one request per approval');
});
