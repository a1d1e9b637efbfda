// Malformed-input fuzzing against the live proxy's parser: fast-check generates raw request bytes
// (methods, targets, versions, headers, line endings, bodies, pipelined follow-ups, CONNECT
// preambles) and sends each on its own socket. Properties, checked after every run:
//   - the proxy never crashes (it still serves a well-formed request at the end, in-process);
//   - it never forwards an undecided request: every request the upstream received has a
//     matching "forwarded" audit record with an allow decision, and nothing under /deny arrives;
//   - every rejection is a well-formed problem+json response, or a closed connection.
import t from 'tap';
import { MAX_HEADER_FIELDS, MAX_QUERY_PARAMS, queryParamCount } from '../../proxy/pipeline.ts';
import fc from 'fast-check';
import net from 'node:net';
import { isProblem, parseResponses, startTestAirlock, startUpstream, viaProxy } from './helpers.ts';

const numRuns = Number(process.env.AIRLOCK_FUZZ_RUNS_LIVE ?? 100);
/** AIRLOCK_FUZZ_SEED=<seed printed by a failure> replays that run. */
const seed = process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {};
const up = await startUpstream(t);
const a = await startTestAirlock(t, {
  policy: 'strict', resolve: ['allowed.example=127.0.0.1', 'evil.example=127.0.0.1'], allowPrivate: [`127.0.0.1:${up.port}`],
  timeouts: { headersMs: 1000 },
});
const P = up.port;

/** Sends bytes on a fresh connection; resolves once a complete response arrived, the peer closed, or 1.5 s passed. */
function send(bytes: Buffer): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(a.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed });
    };
    const timer = setTimeout(() => finish(false), 1500);
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      const text = Buffer.concat(chunks).toString('latin1');
      // A CONNECT 200 is only a preamble; otherwise stop after the first complete response.
      const body = text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, '');
      const [r] = parseResponses(body);
      if (r && body.length >= body.indexOf('\r\n\r\n') + 4 + Number(r.headers['content-length'] ?? 0) && r.headers['content-length'] !== undefined) setTimeout(() => finish(false), 30);
    });
    s.on('close', () => finish(true));
    s.on('error', () => finish(true));
    s.on('connect', () => s.write(bytes));
  });
}

const auth = `Proxy-Authorization: ${a.auth}`;
const token = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!#$%&\'*+^`|~'.split('')), minLength: 1, maxLength: 12 });
const anyText = fc.string({ unit: 'binary', maxLength: 24 });
const method = fc.oneof(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'CONNECT', 'TRACE', 'PATCH', 'get', 'G ET', ''), token);
const path = fc.oneof(fc.constantFrom('/ok', '/deny/x', '/%2e%2e/deny/x', '/ok/../deny/x', '/ok?x=1', '/ok#frag', '/\u0000', '/ok%00', '/' + 'a'.repeat(3000)), anyText.map((s) => `/${s}`));
const target = fc.oneof(
  path.map((p) => `http://allowed.example:${P}${p}`),
  path.map((p) => `http://evil.example:${P}${p}`),
  path.map((p) => `HTTP://ALLOWED.EXAMPLE.:${P}${p}`),
  path,
  fc.constantFrom(`allowed.example:${P}`, '*', `http://allowed.example:${P}`, `http://allowed.example:99999/`, 'http://[::1/', `http://127.0.0.1:${a.port}/`, 'http:///x', `https://allowed.example:${P}/ok`, `ws://allowed.example:${P}/`),
  anyText,
);
const version = fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/0.9', 'HTTP/2.0', 'HTTP/1.1 x', 'http/1.1', 'HTTP/1.10', '');
const header = fc.oneof(
  fc.constantFrom(`Host: allowed.example:${P}`, `Host: evil.example:${P}`, 'Host:', `Host: allowed.example:${P}\r\nHost: evil.example:${P}`, auth, auth, auth, 'Proxy-Authorization: Basic Zm9vOmJhcg==', 'Proxy-Authorization: Basic',
    'Content-Length: 5', 'Content-Length: -1', 'Content-Length: 99999999999999999999', 'Content-Length: 0x10', 'Transfer-Encoding: chunked', 'Transfer-Encoding: gzip, chunked', 'Transfer-Encoding: chunked, identity',
    'Connection: close', 'Connection: keep-alive, Upgrade', 'Upgrade: h2c', 'Upgrade: websocket', 'Expect: 100-continue', ' leading: space', 'X-Folded: a\r\n b', 'Bad Header: x', ':colon', 'X: \u0000', 'X-Long: ' + 'v'.repeat(20_000)),
  fc.tuple(token, anyText).map(([k, v]) => `${k}: ${v}`),
);
const eol = fc.constantFrom('\r\n', '\r\n', '\r\n', '\n', '\r');
const body = fc.oneof(fc.constant(''), anyText, fc.constantFrom('5\r\nhello\r\n0\r\n\r\n', '0\r\n\r\n', 'zz\r\n', `GET http://allowed.example:${P}/deny/piggyback HTTP/1.1\r\nHost: allowed.example:${P}\r\n${auth}\r\n\r\n`));
const preamble = `CONNECT allowed.example:${P} HTTP/1.1\r\nHost: allowed.example:${P}\r\n${auth}\r\n\r\n`;
/** Anything goes: method, target, version, headers, line endings, body. */
const wild = fc.record({ method, target, version, headers: fc.array(header, { maxLength: 6 }), eol, body, connectFirst: fc.boolean() })
  .map((r) => {
    const head = `${r.method} ${r.target} ${r.version}`.replace(/ $/, '');
    return { method: r.method, bytes: Buffer.from(`${r.connectFirst ? preamble : ''}${[head, ...r.headers].join(r.eol)}${r.eol}${r.eol}${r.body}`, 'latin1') };
  });
/** Well-formed up to one hostile header or body: gets past the parser, so the decision path is exercised. */
const nearlyValid = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS'), host: fc.constantFrom('allowed.example', 'allowed.example', 'evil.example', 'ALLOWED.example.'),
  path, extra: fc.array(header, { maxLength: 2 }), body, tunneled: fc.boolean(),
}).map((r) => {
  const authority = `${r.host}:${P}`;
  const line = r.tunneled ? `${r.method} ${r.path} HTTP/1.1` : `${r.method} http://${authority}${r.path} HTTP/1.1`;
  const headers = [`Host: ${r.tunneled ? `allowed.example:${P}` : authority}`, ...(r.tunneled ? [] : [auth]), ...r.extra, `Content-Length: ${Buffer.byteLength(r.body, 'latin1')}`];
  return { method: r.method, bytes: Buffer.from(`${r.tunneled ? preamble : ''}${line}\r\n${headers.join('\r\n')}\r\n\r\n${r.body}`, 'latin1') };
});
const request = fc.oneof(nearlyValid, wild);

t.test('hostile bytes: no crash, no undecided request forwarded, every rejection well-formed', async (t) => {
  let problems = 0;
  let forwarded = 0;
  await fc.assert(fc.asyncProperty(request, async ({ method: m, bytes }) => {
    const r = await send(bytes);
    const text = r.text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, '');
    if (text.length > 0 && !/^HTTP\/1\.[01] \d{3} /.test(text)) throw new Error(`the proxy answered with something that is not HTTP: ${JSON.stringify(text.slice(0, 60))}`);
    const [res] = parseResponses(text);
    if (res && res.status >= 400) {
      // A response to HEAD has no body (what follows its head is the next response, when the
      // bytes pipelined another request): there the problem type must still be announced.
      const afterHead = text.slice(text.indexOf('\r\n\r\n') + 4);
      const headOnly = m.toUpperCase() === 'HEAD' && res.headers['content-type']?.startsWith('application/problem+json') && (afterHead === '' || /^HTTP\/1\.[01] \d{3} /.test(afterHead));
      if (!isProblem(res) && !headOnly) throw new Error(`rejection ${res.status} is not problem+json: ${JSON.stringify(text.slice(0, 300))}`);
      problems++;
    }
    if (res && res.status < 300) forwarded++;
    // What the upstream's own parser saw as requests (a /deny path inside a framed body is just data).
    const denied = up.received.find((x) => /\/deny\//.test(x.url));
    if (denied) throw new Error(`a request under /deny reached the upstream: ${denied.method} ${denied.url}`);
  }), { numRuns, interruptAfterTimeLimit: Number(process.env.AIRLOCK_FUZZ_LIVE_MS ?? 12_000), ...seed });

  // Every request the upstream received was decided: it has a forwarded audit record with an allow.
  const allowed = a.records.filter((r) => r.outcome === 'forwarded' && r.decision?.action === 'allow').map((r) => new URL(r.url ?? '', 'http://x').pathname);
  const leftover = [...allowed];
  const undecided: string[] = [];
  for (const got of up.received) {
    const i = leftover.indexOf(new URL(got.url, 'http://x').pathname);
    if (i >= 0) leftover.splice(i, 1);
    else undecided.push(`${got.method} ${got.url.slice(0, 60)}`);
  }
  t.same(undecided, [], `every one of the ${up.received.length} requests the upstream received has an allow decision in the audit log`);
  t.notOk(up.received.some((x) => /\/deny\//.test(x.url)), 'nothing under /deny ever reached the upstream');
  const alive = await viaProxy(a.port, `http://allowed.example:${P}/alive`, { auth: a.auth });
  t.equal(alive.status, 200, 'the proxy still serves a well-formed request after the fuzzing');
  t.comment(`${numRuns} hostile requests: ${problems} problem+json rejections, ${forwarded} forwarded, upstream saw ${up.received.length}`);
});

t.test('a request without Host is refused with problem+json, like every other rejection', async (t) => {
  for (const bytes of [`GET http://allowed.example:${P}/ok HTTP/1.1\r\n${auth}\r\n\r\n`, 'GET /ok HTTP/1.1\r\n\r\n', `${preamble}GET /ok HTTP/1.1\r\n\r\n`]) {
    const r = await send(Buffer.from(bytes));
    const [res] = parseResponses(r.text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, ''));
    t.ok(res === undefined ? r.closed : res.status >= 400 && isProblem(res), `${JSON.stringify(bytes.slice(0, 50))}: ${res ? `${res.status} ${res.headers['content-type'] ?? 'no content-type'}` : 'closed'}`);
  }
});

t.test('oversized and never-ending request heads are cut off with problem+json', async (t) => {
  const huge = await send(Buffer.from(`GET http://allowed.example:${P}/ok HTTP/1.1\r\nHost: allowed.example:${P}\r\n${auth}\r\nX-Big: ${'b'.repeat(64 * 1024)}\r\n\r\n`));
  const [big] = parseResponses(huge.text);
  t.equal(big?.status, 431, 'a 64 KiB header: 431');
  t.ok(big && isProblem(big), 'problem+json');
  // Fifteenth pass: each field is described and searched on the main thread (~4 ms for 1,000 short
  // ones within 16 KiB); past MAX_HEADER_FIELDS the request is refused before any of that.
  const fields = (n: number, tag: string): string => Array.from({ length: n }, (_, i) => `X-${tag}-${i}: 1\r\n`).join('');
  const many = await send(Buffer.from(`GET http://allowed.example:${P}/ok HTTP/1.1\r\nHost: allowed.example:${P}\r\n${auth}\r\n${fields(MAX_HEADER_FIELDS, 'many')}\r\n`));
  const [tooMany] = parseResponses(many.text);
  t.equal(tooMany?.status, 431, `${MAX_HEADER_FIELDS + 2} header fields: 431`);
  t.ok(tooMany && isProblem(tooMany) && /header fields/.test(tooMany.body), 'problem+json naming the bound');
  t.notOk(up.received.some((r) => r.headers['x-many-0']), 'nothing of it reached the upstream');
  const enough = await send(Buffer.from(`GET http://allowed.example:${P}/ok HTTP/1.1\r\nHost: allowed.example:${P}\r\n${auth}\r\n${fields(MAX_HEADER_FIELDS - 3, 'enough')}Connection: close\r\n\r\n`));
  t.equal(parseResponses(enough.text)[0]?.status, 200, `${MAX_HEADER_FIELDS} fields are read and forwarded`);
  // Slowloris: headers trickle in and never end; the proxy's header timeout (1 s here) ends it.
  const slow = await new Promise<{ text: string; closed: boolean }>((resolve) => {
    const s = net.connect(a.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let n = 0;
    const drip = setInterval(() => { if (!s.destroyed) s.write(`X-Drip-${n++}: 1\r\n`); }, 200);
    const stop = (closed: boolean): void => { clearInterval(drip); clearTimeout(hard); s.destroy(); resolve({ text: Buffer.concat(chunks).toString('latin1'), closed }); };
    const hard = setTimeout(() => stop(false), 8000);
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('close', () => stop(true));
    s.on('error', () => stop(true));
    s.on('connect', () => s.write(`GET http://allowed.example:${P}/ok HTTP/1.1\r\nHost: allowed.example:${P}\r\n${auth}\r\n`));
  });
  t.ok(slow.closed, 'the connection was closed by the proxy');
  const [res] = parseResponses(slow.text);
  t.ok(res === undefined || (res.status === 408 && isProblem(res)), `a 408 problem+json or a bare close (${res?.status ?? 'closed'})`);
  t.notOk(up.received.some((r) => r.headers['x-drip-0']), 'the trickled request never reached the upstream');
});

// Twenty-second pass: each query parameter is read on the main thread under every name a server
// takes for SQL, as JSON, base64 and twice encoded: a 14 KB URL of 2,600 short parameters took
// ~85 ms to describe on a loaded box, one agent's four slots of them at a time. Past
// MAX_QUERY_PARAMS the request is refused before the describe step, as for header fields.
t.test('twenty-second pass: a URL past the query parameters Airlock reads is refused before it is described; at the bound it is forwarded', async (t) => {
  const names = (n: number, seps: string[]): string => Array.from({ length: n }, (_, i) => `p${i.toString(36)}=${i}`).reduce((q, p, i) => (i === 0 ? p : `${q}${seps[i % seps.length]}${p}`), '');
  await fc.assert(fc.asyncProperty(fc.array(fc.constantFrom('&', ';', '&&', ';&'), { minLength: 1, maxLength: 4 }), fc.boolean(), async (seps, fragment) => {
    const tail = fragment ? `#${'&f'.repeat(50)}` : '';
    const over = await send(Buffer.from(`GET http://allowed.example:${P}/ok/params?${names(MAX_QUERY_PARAMS + 1, seps)}${tail} HTTP/1.1\r\nHost: allowed.example:${P}\r\n${auth}\r\nConnection: close\r\n\r\n`));
    const [res] = parseResponses(over.text);
    if (res?.status !== 414 || !isProblem(res) || !/query parameters/.test(res.body)) throw new Error(`${MAX_QUERY_PARAMS + 1} parameters: ${res?.status}`);
    const at = await send(Buffer.from(`GET http://allowed.example:${P}/ok/params-at?${names(MAX_QUERY_PARAMS, seps)}${tail} HTTP/1.1\r\nHost: allowed.example:${P}\r\n${auth}\r\nConnection: close\r\n\r\n`));
    if (parseResponses(at.text)[0]?.status !== 200) throw new Error(`${MAX_QUERY_PARAMS} parameters: ${parseResponses(at.text)[0]?.status}`);
  }), { numRuns: Math.min(numRuns, 8), ...seed });
  t.notOk(up.received.some((r) => r.url.includes('/ok/params?')), 'nothing past the bound reached the upstream');
  t.equal(queryParamCount('http://x/?a&&b;c=1#d&e'), 3, 'empty runs and the fragment are not parameters');
});

// Twenty-second pass: Node's parser hands each chunk of a chunked body over on its own, a couple of
// microseconds of the main thread each whatever its size: one agent's uploads of 1 MiB in 1-byte
// chunks (6 MiB on the wire, a million pieces each) made a neighbour's GET take 3–9 s. Past
// FREE_PIECES a body averaging under MIN_PIECE_BYTES a piece is refused, its connection closed
// after the read at hand; a body in small pieces (a generator yielding lines) is still forwarded.
t.test('twenty-second pass: a chunked body in 1-byte pieces is refused after a read, a neighbour is served meanwhile; small pieces pass', async (t) => {
  const { token } = await a.airlock.agents.add('pieces-neighbour', {});
  const neighbour = `Basic ${Buffer.from(`pieces-neighbour:${token}`).toString('base64')}`;
  const head = (path: string): string => `POST http://allowed.example:${P}${path} HTTP/1.1\r\nHost: allowed.example:${P}\r\n${auth}\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`;
  const upload = (path: string, body: Buffer): Promise<{ text: string; ms: number }> => new Promise((resolve) => {
    const started = performance.now();
    const s = net.connect(a.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const done = (): void => { clearTimeout(hard); s.destroy(); resolve({ text: Buffer.concat(chunks).toString('latin1'), ms: performance.now() - started }); };
    const hard = setTimeout(done, 30_000);
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('close', done);
    s.on('error', done);
    // Not ended: a client's half-close aborts a request still in the steps (Node's httpAllowHalfOpen).
    s.on('connect', () => { s.write(head(path)); s.write(body); });
  });
  // Control: 1,000,000 bytes in 20,000 pieces of 50 (lines a generator yields) are forwarded whole.
  const lines = Buffer.from(`32\r\n${'a'.repeat(49)}\n\r\n`.repeat(20_000) + '0\r\n\r\n');
  const control = await upload('/ok/pieces-lines', lines);
  t.equal(parseResponses(control.text)[0]?.status, 200, `control: a body in 50-byte pieces is forwarded`);
  t.equal(up.received.find((r) => r.url.endsWith('/ok/pieces-lines'))?.body.length, 1_000_000, 'and reaches the upstream whole');
  const tiny = Buffer.from(`${'1\r\nx\r\n'.repeat(1 << 20)}0\r\n\r\n`);
  let flooding = true;
  const answers: Array<{ text: string; ms: number }> = [];
  const floods = Array.from({ length: 4 }, async (_, k) => {
    for (let i = 0; flooding && i < 6; i++) answers.push(await upload(`/ok/pieces-${k}-${i}`, tiny));
  });
  await new Promise((r) => setTimeout(r, 500));
  const took: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    const r = await viaProxy(a.port, `http://allowed.example:${P}/ok?pieces-neighbour=${i}`, { auth: neighbour });
    took.push(Math.round(performance.now() - started));
    t.equal(r.status, 200, `the neighbour's GET ${i} is served meanwhile (${took.at(-1)} ms)`);
  }
  flooding = false;
  await Promise.all(floods);
  took.sort((x, y) => x - y);
  t.ok(took[2]! < 2000, `the neighbour's median GET stays under 2 s (${took}; 3–9 s before)`);
  for (const r of answers) {
    const [res] = parseResponses(r.text);
    t.ok(res === undefined || (res.status === 400 && isProblem(res) && /pieces/.test(res.body)), `a 1-byte-piece upload: 400 problem+json naming the pieces, or closed (${res?.status ?? 'closed'}, ${Math.round(r.ms)} ms)`);
  }
  // The refusal itself, where the agent has no more on the way to be reset by the close: 9,000 pieces of a byte.
  const [refused] = parseResponses((await upload('/ok/pieces-probe', Buffer.from('1\r\nx\r\n'.repeat(9000)))).text);
  t.equal(refused?.status, 400, 'a body of 9,000 pieces of a byte: 400');
  t.ok(refused && isProblem(refused) && /pieces/.test(refused.body), 'problem+json naming the pieces');
  t.ok(a.records.some((r) => (r.url ?? '').includes('/ok/pieces-probe') && r.outcome === 'rejected'), 'and recorded');
  t.notOk(up.received.some((r) => /\/ok\/pieces-(\d|probe)/.test(r.url)), 'no upload in 1-byte pieces reached the upstream');
});

// Seventeenth pass: Node's parser hands every request of a pipelined packet over in one turn of
// the event loop, and each went into the steps at once: one agent's four packets of 1,000 GETs
// held the event loop 0.4–0.7 s (a neighbour's GET up to 2 s), and past the agent's 260 waiting
// places the rest were refused and the connection closed. A connection's requests now go in turns
// of PIPELINE_WINDOW, answered in order; those whose turn never came are recorded together.
t.test('hundreds of requests pipelined in one packet: a few at a time, every one answered in order', async (t) => {
  const n = 270;
  const pipelined = (i: number): string => `GET http://allowed.example:${P}/ok?pipelined=${i} HTTP/1.1\r\nHost: allowed.example:${P}\r\n${auth}\r\n\r\n`;
  const answers = await new Promise<string>((resolve) => {
    const s = net.connect(a.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const stop = (): void => { clearTimeout(hard); s.destroy(); resolve(Buffer.concat(chunks).toString('latin1')); };
    const hard = setTimeout(stop, 20_000);
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      if (parseResponses(Buffer.concat(chunks).toString('latin1')).length >= n) stop();
    });
    s.on('close', stop);
    s.on('error', stop);
    s.on('connect', () => s.write(Array.from({ length: n }, (_, i) => pipelined(i)).join('')));
  });
  const got = parseResponses(answers);
  t.equal(got.length, n, `${n} answers (before: 260, then 429 agent-busy and a close)`);
  t.ok(got.every((r) => r.status === 200), 'every one forwarded');
  t.same(got.map((r) => (JSON.parse(r.body) as { url: string }).url), Array.from({ length: n }, (_, i) => `/ok?pipelined=${i}`), 'in order');
  // A client that leaves after its first answer: the rest are neither decided nor forwarded, and recorded.
  const before = up.received.length;
  await new Promise<void>((resolve) => {
    const s = net.connect(a.port, '127.0.0.1');
    s.on('data', () => s.destroy());
    s.on('close', () => resolve());
    s.on('error', () => undefined);
    s.on('connect', () => s.write(Array.from({ length: 100 }, (_, i) => pipelined(1000 + i)).join('')));
  });
  let unread: { detail?: string } | undefined;
  for (let i = 0; i < 100 && !unread; i++) {
    await new Promise((r) => setTimeout(r, 20));
    unread = a.records.find((r) => r.outcome === 'client-aborted' && /pipelined requests on this connection were neither decided nor forwarded/.test(r.detail ?? ''));
  }
  t.ok(unread, `those whose turn never came are recorded (${unread?.detail?.slice(0, 60)})`);
  t.ok(up.received.length - before < 20, `and not forwarded (${up.received.length - before} of 100 were)`);
});

t.test('WebSocket upgrades are decided like any other request', async (t) => {
  const ws = (path: string): string => `GET http://allowed.example:${P}${path} HTTP/1.1\r\nHost: allowed.example:${P}\r\n${auth}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;
  const before = up.received.length;
  const denied = await send(Buffer.from(ws('/deny/socket')));
  const [res] = parseResponses(denied.text);
  t.equal(res?.status, 403, 'an upgrade to a denied path: 403');
  t.ok(res && isProblem(res), 'problem+json');
  const toEvil = await send(Buffer.from(ws('/x').replace(/allowed\.example/g, 'evil.example')));
  t.equal(parseResponses(toEvil.text)[0]?.status, 403, 'an upgrade to a denied host: 403');
  // By content, not by count: the test before leaves pipelined GETs that may still land here.
  t.same(up.received.slice(before).filter((r) => r.headers.upgrade !== undefined || !r.url.includes('pipelined=')), [], 'the upstream saw neither upgrade');
  t.notMatch(up.bytes(), /\/deny\/socket/);
});
