// Studio API through fastify inject: access control (login, cookie flags, CSRF, Origin, Host,
// rate-limited logins), draft files (path traversal refused), compile problems at file/line/col,
// formatting, evaluation, describe, data files. Publish, versions and replay are in api-publish.test.ts.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { PolicyEngine } from '../../engine/engine.ts';
import { buildStudioApp } from '../../studio/server.ts';
import { LoginLimiter } from '../../studio/auth.ts';
import { StoreUnavailableError } from '../../state/unavailable.ts';
import type { RateLimits } from '../../state/stores.ts';
import { HOST, ORIGIN, TOKEN, basePolicy, description, loginSession, makeProject } from './helpers.ts';

const project = makeProject();
t.teardown(project.cleanup);
const engine = new PolicyEngine({ mode: 'inline' });
await engine.loadFolder(project.policy);
t.teardown(() => engine.close());
let clock = 1_000_000;
const app = await buildStudioApp({
  home: project.home,
  projectRoot: project.root,
  services: { home: project.home, policyDir: project.policy, engine },
  token: TOKEN,
  loginLimiter: new LoginLimiter(5, 60_000, () => clock),
});
t.teardown(() => app.close());
const s = await loginSession(app);

t.test('every API route needs the session cookie and its token, reads included', async (t) => {
  const routes: Array<[string, string]> = [
    ['GET', '/api/session'], ['GET', '/api/status'], ['GET', '/api/policy/files'], ['GET', '/api/policy/file?path=airlock.rego'],
    ['PUT', '/api/policy/file'], ['DELETE', '/api/policy/file?path=airlock.rego'], ['POST', '/api/policy/check'], ['POST', '/api/policy/fmt'],
    ['POST', '/api/policy/evaluate'], ['POST', '/api/policy/explain'], ['POST', '/api/policy/publish'], ['POST', '/api/policy/rollback'], ['GET', '/api/policy/versions'], ['GET', '/api/policy/diff'],
    ['POST', '/api/policy/draft/reset'], ['GET', '/api/traffic/recent'], ['GET', '/api/captures'], ['GET', '/api/agents'], ['POST', '/api/agents'], ['DELETE', '/api/agents/x'],
    ['GET', '/api/secrets'], ['PUT', '/api/secrets/x'], ['GET', '/api/limits'], ['GET', '/api/replay/sources'], ['POST', '/api/replay'],
    ['GET', '/api/approvals'], ['GET', '/api/nonexistent'],
  ];
  for (const [method, url] of routes) {
    const res = await app.inject({ method: method as 'GET', url, headers: { host: HOST, origin: ORIGIN }, payload: method === 'GET' || method === 'DELETE' ? undefined : {} });
    t.equal(res.statusCode, 401, `${method} ${url} without a session`);
    // Browsers send the cookie to every port of this host: the cookie alone must open nothing.
    const payload = method === 'GET' || method === 'DELETE' ? undefined : {};
    const bare = await app.inject({ method: method as 'GET', url, headers: { host: HOST, origin: ORIGIN, cookie: s.cookie }, payload });
    t.equal(bare.statusCode, 403, `${method} ${url} with the cookie alone`);
    t.notMatch(bare.body, s.csrf, 'the token is never handed out');
  }
  const misplaced: Array<[string, Record<string, string>]> = [
    ['in the query', {}], ['as a cookie', { cookie: `${s.cookie}; x-airlock-csrf=${s.csrf}` }], ['in Authorization', { authorization: `Bearer ${s.csrf}` }],
    ['cut short', { 'x-airlock-csrf': s.csrf.slice(0, -1) }], ['with a byte more', { 'x-airlock-csrf': `${s.csrf}x` }], ['in another case', { 'x-airlock-csrf': s.csrf.toUpperCase() }],
  ];
  for (const [how, headers] of misplaced) {
    const res = await app.inject({ method: 'GET', url: `/api/session${how === 'in the query' ? `?csrf=${s.csrf}` : ''}`, headers: { host: HOST, origin: ORIGIN, cookie: s.cookie, ...headers } });
    t.equal(res.statusCode, 403, `the token ${how} does not count`);
  }
  t.equal((await s.call({ method: 'HEAD', url: '/api/status', headers: { 'x-airlock-csrf': '' } })).statusCode, 403, 'HEAD too');
  t.same((await s.call({ method: 'GET', url: '/api/session' })).json(), { ok: true, csrf: s.csrf }, 'with the token, the session answers');
  for (const url of ['/%61pi/status', '/%61%70%69/policy/file?path=airlock.rego', '/API/status', '/api%2Fstatus', '/api//status', '/api/status/']) {
    const res = await app.inject({ method: 'GET', url, headers: { host: HOST } });
    t.notOk(res.statusCode === 200 && res.body.startsWith('{'), `${url} gives no data without a session (got ${res.statusCode})`);
    t.notMatch(res.body, /package airlock|"proxy"/);
  }
  const encodedPut = await app.inject({ method: 'PUT', url: '/%61pi/policy/file', headers: { host: HOST }, payload: { path: 'x.rego', content: 'package x' } });
  t.equal(encodedPut.statusCode, 401);
  const forged = await app.inject({ method: 'GET', url: '/api/status', headers: { host: HOST, cookie: 'airlock_session=forged' } });
  t.equal(forged.statusCode, 401, 'an unknown session id is refused');
  const ok = await s.call({ method: 'GET', url: '/api/status' });
  t.equal(ok.statusCode, 200);
});

t.test('a session whose cookie another port replaced or evicted is taken back only with its token and its page key (nineteenth pass)', async (t) => {
  // The page's key, made as the studio page makes it (WebCrypto, unextractable; studio/app/session-key.ts).
  const keyPair = async () => {
    const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey);
    return { pair, jwk: { kty, crv, x, y } };
  };
  const sign = async (key: CryptoKey, challenge: string) =>
    Buffer.from(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, new TextEncoder().encode(`airlock-session-resume:${challenge}`))).toString('base64url');
  const mine = await keyPair();
  const other = await keyPair();
  const login = await app.inject({ method: 'POST', url: '/api/login', headers: { host: HOST, origin: ORIGIN }, payload: { token: TOKEN, key: mine.jwk } });
  t.equal(login.statusCode, 200);
  const cookie = String(login.headers['set-cookie']).split(';')[0]!;
  const csrf = (login.json() as { csrf: string }).csrf;
  const asPage = (headers: Record<string, string>, url = '/api/status', method: 'GET' | 'POST' = 'GET', payload?: object) =>
    app.inject({ method, url, headers: { host: HOST, origin: ORIGIN, ...headers }, ...(payload ? { payload } : {}) });

  // The token without the cookie (a neighbour's Path=/ cookie in its place, or none): nothing is answered but a challenge.
  for (const jar of ['', 'airlock_session=planted', `airlock_session=planted; ${s.cookie}`]) {
    const res = await asPage({ 'x-airlock-csrf': csrf, ...(jar ? { cookie: jar } : {}) });
    t.equal(res.statusCode, 401, `the token with cookies "${jar.slice(0, 24)}" reads nothing`);
    t.equal(res.json().code, 'cookie-lost');
    t.notMatch(res.body, /"proxy"|"policy"/);
  }
  // The neighbour holds the cookie (and learns the name and the session id): it gets no challenge, and cannot resume.
  const bare = await asPage({ cookie });
  t.equal(bare.statusCode, 403);
  t.notOk(bare.json().challenge, 'the cookie alone gets no challenge');
  const { challenge } = (await asPage({ 'x-airlock-csrf': csrf })).json() as { challenge: string };
  for (const [how, headers, body] of [
    ['without the token', { cookie }, { challenge, signature: await sign(mine.pair.privateKey, challenge) }],
    ['signed by another key', { 'x-airlock-csrf': csrf }, { challenge, signature: await sign(other.pair.privateKey, challenge) }],
    ['a challenge never given', { 'x-airlock-csrf': csrf }, { challenge: 'made-up', signature: await sign(mine.pair.privateKey, 'made-up') }],
    ['a signature of the challenge alone', { 'x-airlock-csrf': csrf }, { challenge, signature: Buffer.from(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, mine.pair.privateKey, new TextEncoder().encode(challenge))).toString('base64url') }],
  ] as const) {
    const res = await asPage(headers as Record<string, string>, '/api/session/resume', 'POST', body);
    t.equal(res.statusCode, 403, `a resume ${how} is refused`);
    t.notOk(res.headers['set-cookie'], 'and sets no cookie');
  }
  // A failed try spent that challenge; a fresh one, signed by the page's key, takes the session back once.
  const fresh = ((await asPage({ 'x-airlock-csrf': csrf })).json() as { challenge: string }).challenge;
  const signature = await sign(mine.pair.privateKey, fresh);
  const crossSite = await app.inject({ method: 'POST', url: '/api/session/resume', headers: { host: HOST, origin: 'http://127.0.0.1:3000', 'x-airlock-csrf': csrf }, payload: { challenge: fresh, signature } });
  t.equal(crossSite.statusCode, 403, 'another origin cannot resume');
  const resumed = await asPage({ 'x-airlock-csrf': csrf }, '/api/session/resume', 'POST', { challenge: fresh, signature });
  t.equal(resumed.statusCode, 200, 'the page takes its session back');
  t.equal(String(resumed.headers['set-cookie']).split(';')[0], cookie, 'its cookie is set again');
  t.match(String(resumed.headers['set-cookie']), /HttpOnly/);
  t.equal((await asPage({ cookie, 'x-airlock-csrf': csrf })).statusCode, 200);
  const replayed = await asPage({ 'x-airlock-csrf': csrf }, '/api/session/resume', 'POST', { challenge: fresh, signature });
  t.equal(replayed.statusCode, 403, 'a signature is good once');

  // A session logged out cannot be taken back; one logged in without a key (the CLI) gets no challenge.
  await asPage({ cookie, 'x-airlock-csrf': csrf }, '/api/logout', 'POST', {});
  t.equal((await asPage({ 'x-airlock-csrf': csrf })).statusCode, 401);
  t.notOk((await asPage({ 'x-airlock-csrf': csrf })).json().challenge, 'a logged-out session gets no challenge');
  const cli = await loginSession(app);
  t.notOk((await asPage({ 'x-airlock-csrf': cli.csrf })).json().challenge, 'a session without a key gets no challenge');
  for (const key of [{ ...mine.jwk, d: 'AAAA' }, { ...mine.jwk, crv: 'P-384' }, { kty: 'RSA', n: 'AQAB', e: 'AQAB' }, 'key', { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' }]) {
    const res = await app.inject({ method: 'POST', url: '/api/login', headers: { host: HOST, origin: ORIGIN }, payload: { token: TOKEN, key } });
    t.equal(res.statusCode, 400, `a login offering ${JSON.stringify(key).slice(0, 40)} is refused`);
  }
});

t.test('login sets an HttpOnly SameSite=Strict session cookie; the app shell needs no login', async (t) => {
  const res = await app.inject({ method: 'POST', url: '/api/login', headers: { host: HOST, origin: ORIGIN }, payload: { token: TOKEN } });
  t.equal(res.statusCode, 200);
  const cookie = String(res.headers['set-cookie']);
  t.match(cookie, /^airlock_session=[A-Za-z0-9_-]{40,};/);
  t.match(cookie, /HttpOnly/);
  t.match(cookie, /SameSite=Strict/);
  t.match(cookie, /Path=\//);
  t.notMatch(res.body, TOKEN, 'the admin token is never echoed');
  t.match(res.headers['content-security-policy'], /default-src 'self'/);
  t.equal(res.headers['cache-control'], 'no-store');
});

t.test('failed logins are rate-limited per client; the right token always logs in', async (t) => {
  for (let i = 0; i < 5; i++) {
    const r = await app.inject({ method: 'POST', url: '/api/login', headers: { host: HOST }, payload: { token: `wrong-${i}` }, remoteAddress: '127.0.0.9' });
    t.equal(r.statusCode, 401);
  }
  const blocked = await app.inject({ method: 'POST', url: '/api/login', headers: { host: HOST }, payload: { token: 'wrong-5' }, remoteAddress: '127.0.0.9' });
  t.equal(blocked.statusCode, 429, 'wrong tokens wait once the limit is hit');
  t.ok(Number(blocked.headers['retry-after']) >= 1);
  // Seventeenth pass: every local process (another user's too) shares 127.0.0.1, so one sending
  // wrong tokens kept the person's browser and CLI out a minute at a time, for as long as it liked.
  const owner = await app.inject({ method: 'POST', url: '/api/login', headers: { host: HOST }, payload: { token: TOKEN }, remoteAddress: '127.0.0.9' });
  t.equal(owner.statusCode, 200, 'the right token logs in from the same address meanwhile');
  const still = await app.inject({ method: 'POST', url: '/api/login', headers: { host: HOST }, payload: { token: 'wrong-6' }, remoteAddress: '127.0.0.9' });
  t.equal(still.statusCode, 429, "the owner's login does not reset the limit for the wrong tries");
  const other = await app.inject({ method: 'POST', url: '/api/login', headers: { host: HOST }, payload: { token: 'wrong-0' }, remoteAddress: '127.0.0.10' });
  t.equal(other.statusCode, 401, 'another client has its own count');
  clock += 61_000;
  const later = await app.inject({ method: 'POST', url: '/api/login', headers: { host: HOST }, payload: { token: 'wrong-7' }, remoteAddress: '127.0.0.9' });
  t.equal(later.statusCode, 401, 'the window passes');
});

t.test('mutations need the CSRF token and a same-origin Origin; foreign Host names are refused', async (t) => {
  const payload = { path: 'x.rego', content: 'package airlock\n' };
  const noCsrf = await app.inject({ method: 'PUT', url: '/api/policy/file', headers: { host: HOST, origin: ORIGIN, cookie: s.cookie }, payload });
  t.equal(noCsrf.statusCode, 403);
  const badCsrf = await s.call({ method: 'PUT', url: '/api/policy/file', headers: { 'x-airlock-csrf': 'nope' }, payload });
  t.equal(badCsrf.statusCode, 403);
  const crossSite = await s.call({ method: 'PUT', url: '/api/policy/file', headers: { origin: 'http://evil.example' }, payload });
  t.equal(crossSite.statusCode, 403);
  t.match(crossSite.json(), { error: /cross-origin/ });
  const loginCrossSite = await app.inject({ method: 'POST', url: '/api/login', headers: { host: HOST, origin: 'http://evil.example' }, payload: { token: TOKEN } });
  t.equal(loginCrossSite.statusCode, 403, 'login CSRF refused too');
  const rebinding = await s.call({ method: 'GET', url: '/api/status', headers: { host: 'evil.example:8081' } });
  t.equal(rebinding.statusCode, 421, 'DNS rebinding: a foreign Host is refused');
  t.notOk(fs.existsSync(path.join(project.home, 'draft', 'x.rego')), 'nothing was written');
  const logout = await s.call({ method: 'POST', url: '/api/logout' });
  t.equal(logout.statusCode, 200);
  t.equal((await s.call({ method: 'GET', url: '/api/status' })).statusCode, 401, 'logged out session is dead');
});

const s2 = await loginSession(app);

t.test('the draft starts as a copy of the live policy; path traversal is refused', async (t) => {
  const files = (await s2.call({ method: 'GET', url: '/api/policy/files' })).json() as { files: Array<{ path: string; test: boolean }> };
  t.same(files.files.map((f) => f.path).sort(), ['airlock.rego', 'airlock_test.rego']);
  const read = await s2.call({ method: 'GET', url: '/api/policy/file?path=airlock.rego' });
  t.equal(read.json().content, basePolicy);

  fs.writeFileSync(path.join(project.root, 'secret.rego'), 'package leak\n');
  fs.symlinkSync(path.join(project.root, 'secret.rego'), path.join(project.home, 'draft', 'link.rego'));
  const bad = ['../secret.rego', '../../etc/passwd', '/etc/passwd', 'a/../../secret.rego', '.hidden.rego', 'x\\..\\y.rego', 'link.rego', 'ok.sh', '', 'a//b.rego', '%2e%2e/secret.rego'];
  for (const p of bad) {
    const r = await s2.call({ method: 'GET', url: `/api/policy/file?path=${encodeURIComponent(p)}` });
    t.equal(r.statusCode, 400, `read ${JSON.stringify(p)} refused`);
    const w = await s2.call({ method: 'PUT', url: '/api/policy/file', payload: { path: p, content: 'package x\n' } });
    t.equal(w.statusCode, 400, `write ${JSON.stringify(p)} refused`);
  }
  const del = await s2.call({ method: 'DELETE', url: `/api/policy/file?path=${encodeURIComponent('../rego/airlock.rego')}` });
  t.equal(del.statusCode, 400);
  t.ok(fs.existsSync(path.join(project.policy, 'airlock.rego')), 'the live policy is untouched');
  fs.rmSync(path.join(project.home, 'draft', 'link.rego'));
  t.equal(fs.readFileSync(path.join(project.root, 'secret.rego'), 'utf8'), 'package leak\n');
});

t.test('check reports problems at file, line and column, with unsaved buffers laid over the draft', async (t) => {
  const clean = await s2.call({ method: 'POST', url: '/api/policy/check', payload: {} });
  t.same(clean.json(), { ok: true, problems: [] });
  const broken = basePolicy.replace('input.request.method == "GET"', 'input.request.method == "GET');
  const r = await s2.call({ method: 'POST', url: '/api/policy/check', payload: { files: { 'airlock.rego': broken } } });
  const body = r.json() as { ok: boolean; problems: Array<{ file: string; line: number; column: number; message: string }> };
  t.equal(body.ok, false);
  t.equal(body.problems[0]!.file, 'airlock.rego');
  t.equal(body.problems[0]!.line, 8);
  t.equal(body.problems[0]!.column, 26);
  t.match(body.problems[0]!.message, /rego_parse_error: non-terminated string/);
  const typeErr = await s2.call({ method: 'POST', url: '/api/policy/check', payload: { files: { 'svc/extra.rego': 'package airlock.svc\n\nimport rego.v1\n\nx if {\n\tcount(1, 2) > 0\n}\n' } } });
  t.match(typeErr.json().problems[0], { file: 'svc/extra.rego', line: 6, column: 2 });
  t.equal(fs.readFileSync(path.join(project.home, 'draft', 'airlock.rego'), 'utf8'), basePolicy, 'checking never writes the draft');
  const traversal = await s2.call({ method: 'POST', url: '/api/policy/check', payload: { files: { '../evil.rego': 'package x' } } });
  t.equal(traversal.statusCode, 400);
});

t.test('opa fmt formats a file or reports where it cannot', async (t) => {
  const ugly = 'package airlock\nimport rego.v1\nx:=1\n';
  const r = await s2.call({ method: 'POST', url: '/api/policy/fmt', payload: { path: 'airlock.rego', content: ugly } });
  t.equal(r.json().ok, true);
  t.equal(r.json().content, 'package airlock\n\nimport rego.v1\n\nx := 1\n');
  const bad = await s2.call({ method: 'POST', url: '/api/policy/fmt', payload: { path: 'airlock.rego', content: 'package airlock\n\nx := "abc\n' } });
  t.equal(bad.json().ok, false);
  t.match(bad.json().problems[0], { file: 'airlock.rego', line: 3 });
  t.notMatch(JSON.stringify(bad.json()), /\/tmp\//, 'temporary paths do not leak into messages');
});

t.test('data files are checked as you type, with file:line:col', async (t) => {
  const r = await s2.call({ method: 'POST', url: '/api/policy/check', payload: { files: { 'config/data.json': '{\n  "agents": {\n    "bot": ["github",]\n  }\n}\n' } } });
  t.match(r.json(), { ok: false, problems: [{ file: 'config/data.json', line: 3, column: 21, message: /trailing comma/ }] });
  const ok = await s2.call({ method: 'POST', url: '/api/policy/check', payload: { files: { 'config/data.json': '{"agents": {}}' } } });
  t.same(ok.json(), { ok: true, problems: [] });
});

t.test('describe makes a request into the description the proxy would build (service block included)', async (t) => {
  const r = await s2.call({ method: 'POST', url: '/api/policy/describe', payload: { method: 'DELETE', url: 'https://api.github.com/repos/acme/app', agent: 'bot', headers: [['User-Agent', 'x']] } });
  t.equal(r.statusCode, 200, r.body);
  t.match(r.json().input, { request: { method: 'DELETE', host: 'api.github.com', headers: { 'user-agent': ['x'] } }, agent: { id: 'bot' }, service: { name: 'github', operation: 'repos.delete', effect: 'delete' } });
  const bad = await s2.call({ method: 'POST', url: '/api/policy/describe', payload: { method: 'GET' } });
  t.equal(bad.statusCode, 400);
  t.match(bad.json().error, /method.*url/);
  const badUrl = await s2.call({ method: 'POST', url: '/api/policy/describe', payload: { method: 'GET', url: 'ftp://x' } });
  t.equal(badUrl.statusCode, 400);
});

t.test('evaluate decides with the draft (unsaved buffers included) and shows the live decision beside it', async (t) => {
  const input = description('DELETE', 'https://api.github.com/repos/acme/app');
  const changed = basePolicy.replace('input.request.method == "GET"', 'input.request.method in {"GET", "DELETE"}');
  const r = await s2.call({ method: 'POST', url: '/api/policy/evaluate', payload: { input, files: { 'airlock.rego': changed } } });
  const body = r.json();
  t.equal(body.draft.ok, true);
  t.equal(body.draft.decision.action, 'allow');
  t.equal(body.live.action, 'deny');
  t.equal(body.live.rule, 'default');
  const notDesc = await s2.call({ method: 'POST', url: '/api/policy/evaluate', payload: { input: [1] } });
  t.equal(notDesc.statusCode, 400);
});

t.test('explain names the rule that decided and where the others stopped (the draft, unsaved buffers included)', async (t) => {
  const input = description('DELETE', 'https://api.github.com/repos/acme/app');
  const r = await s2.call({ method: 'POST', url: '/api/policy/explain', payload: { input } });
  const x = r.json().explanation;
  t.equal(r.json().ok, true);
  t.equal(x.decision.rule, 'default');
  const read = x.rules.find((rule: { head: string }) => rule.head.startsWith('decision := {"action": "allow"'));
  t.match(read, { applied: false, kind: 'decision', failed: { file: 'airlock.rego', line: 8, expression: 'input.request.method == "GET"' } }, 'the read rule stopped at its method check');
  const changed = basePolicy.replace('input.request.method == "GET"', 'input.request.method in {"GET", "DELETE"}');
  const r2 = await s2.call({ method: 'POST', url: '/api/policy/explain', payload: { input, files: { 'airlock.rego': changed } } });
  t.equal(r2.json().explanation.decision.rule, 'read');
  t.match(r2.json().explanation.decided_by, { rule: 'read', file: 'airlock.rego', line: 7 });
  const notDesc = await s2.call({ method: 'POST', url: '/api/policy/explain', payload: { input: [1] } });
  t.equal(notDesc.statusCode, 400);
});

t.test('secrets: names and bindings are listed, a value can be set, never read', async (t) => {
  const canary = 'canary-secret-value-7f3a9';
  const set = await s2.call({ method: 'PUT', url: '/api/secrets/github-token', payload: { value: canary, hosts: ['api.github.com'] } });
  t.equal(set.statusCode, 200, set.body);
  t.notMatch(set.body, canary);
  const list = await s2.call({ method: 'GET', url: '/api/secrets' });
  t.match(list.json().secrets, [{ name: 'github-token', hosts: ['api.github.com'] }]);
  t.notMatch(list.body, canary);
  const bad = await s2.call({ method: 'PUT', url: '/api/secrets/..%2Fx', payload: { value: 'v' } });
  t.equal(bad.statusCode, 400);
  for (const f of fs.readdirSync(project.home)) {
    const full = path.join(project.home, f);
    if (fs.statSync(full).isFile()) t.notMatch(fs.readFileSync(full, 'utf8'), canary, `${f} holds no plaintext`);
  }
});

t.test('agents: add shows the token once, list never does, remove', async (t) => {
  const add = await s2.call({ method: 'POST', url: '/api/agents', payload: { name: 'coder', labels: { team: 'web' } } });
  t.equal(add.statusCode, 200, add.body);
  const token = add.json().token as string;
  t.ok(token.length >= 40);
  const list = await s2.call({ method: 'GET', url: '/api/agents' });
  t.match(list.json().agents, [{ name: 'coder', labels: { team: 'web' } }]);
  t.notMatch(list.body, token, 'the token is never listed');
  t.notMatch(fs.readFileSync(path.join(project.home, 'agents.json'), 'utf8'), token, 'only its hash is stored');
  t.equal((await s2.call({ method: 'POST', url: '/api/agents', payload: { name: 'coder' } })).statusCode, 400, 'no duplicate');
  t.equal((await s2.call({ method: 'POST', url: '/api/agents', payload: { name: '../x' } })).statusCode, 400);
  t.equal((await s2.call({ method: 'DELETE', url: '/api/agents/coder' })).statusCode, 200);
  t.equal((await s2.call({ method: 'DELETE', url: '/api/agents/coder' })).statusCode, 404);
});

t.test('the admin token file is created with mode 0600', async (t) => {
  const { ensureAdminToken } = await import('../../studio/auth.ts');
  const home = path.join(project.root, 'home2');
  const first = ensureAdminToken(home);
  t.equal(first.created, true);
  t.equal(fs.statSync(first.file).mode & 0o777, 0o600);
  const again = ensureAdminToken(home);
  t.equal(again.created, false);
  t.equal(again.token, first.token);
  fs.chmodSync(first.file, 0o644);
  t.throws(() => ensureAdminToken(home), /readable by other users/);
});

t.test('a shared store that cannot be reached is a 503 naming it, not an internal error', async (t) => {
  const down = { snapshot: () => Promise.reject(new StoreUnavailableError('Redis (rate limits)', 'redis://10.0.0.9:6379: Connection is closed.')) } as unknown as RateLimits;
  const other = await buildStudioApp({
    home: project.home, projectRoot: project.root, services: { home: project.home, policyDir: project.policy, engine, limiter: down }, token: TOKEN,
  });
  t.teardown(() => other.close());
  const res = await (await loginSession(other)).call({ method: 'GET', url: '/api/limits' });
  t.equal(res.statusCode, 503);
  t.equal(res.headers['retry-after'], '1');
  t.match(res.json(), { error: /^Redis \(rate limits\) is unreachable: / });
});

// Twenty-third pass (follow-up): a FIFO named like a policy file in the draft (or the policy folder)
// was listed, read whole by the version hash and copied by the draft's resets and checks: each
// open(2) blocked the whole process, every agent and the studio, for as long as nobody wrote to
// it. Must hold: never listed nor copied, a read of it refused at once, the studio answering.
t.test('a FIFO named like a policy file in the draft is never opened: listed no more, read refused, checks answer', async (t) => {
  t.equal((await s2.call({ method: 'GET', url: '/api/policy/files' })).statusCode, 200, 'control: the draft exists');
  const draft = path.join(project.home, 'draft');
  const { execFileSync } = await import('node:child_process');
  execFileSync('mkfifo', ['-m', '600', path.join(draft, 'planted.rego'), path.join(draft, 'planted.json')]);
  t.teardown(() => {
    for (const f of ['planted.rego', 'planted.json']) fs.rmSync(path.join(draft, f), { force: true });
  });
  const files = (await s2.call({ method: 'GET', url: '/api/policy/files' })).json() as { files: Array<{ path: string }> };
  t.notOk(files.files.some((f) => f.path.startsWith('planted')), 'the FIFOs are not listed');
  const read = await s2.call({ method: 'GET', url: '/api/policy/file?path=planted.rego' });
  t.equal(read.statusCode, 409, 'reading one is refused');
  t.match(read.body, /not a regular file/);
  const check = await s2.call({ method: 'POST', url: '/api/policy/check', payload: {} });
  t.equal(check.statusCode, 200, 'the draft is checked without them');
  t.equal((await s2.call({ method: 'GET', url: '/api/status' })).statusCode, 200, 'and the studio answers');
});
