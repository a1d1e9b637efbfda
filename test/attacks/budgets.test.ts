// Egress byte budgets count every byte that leaves, as it leaves. The decision pays for what the
// description counted (path, headers, the captured body prefix); a chunked upload past the capture
// cap and every WebSocket frame to the upstream are charged as they stream, and when the bucket
// runs dry the stream is cut: the request fails as a limit (429 problem+json while the agent has
// no answer yet, outcome "rate-limited"), never as an upstream error, and the upstream never gets
// more than the budget. Checked by property over upload sizes and chunkings, and message sizes,
// against budgets on both sides of the exact boundary (read from the audit record's description).
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import fc from 'fast-check';
import { HttpProxyAgent } from 'http-proxy-agent';
import t from 'tap';
import { WebSocket } from 'ws';
import type { AuditRecord } from '../../state/audit-log.ts';
import path from 'node:path';
import { compilePolicy } from '../../engine/compile.ts';
import { eventually, fixtures, isProblem, parseResponses, rawToProxy, startTestAirlock, viaProxy } from './helpers.ts';
import { startWsUpstream } from './websocket-helpers.ts';

const numRuns = Number(process.env.AIRLOCK_FUZZ_RUNS ?? 25);
const seed = process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {};
const BODY_CAP = 2048;

/** An upload target that counts the body bytes of every request as they arrive, finished or not. */
const uploads = new Map<string, { bytes: number; ended: boolean; pieces: number }>();
const server = http.createServer((req, res) => {
  const key = new URL(req.url ?? '/', 'http://x').searchParams.get('key') ?? '';
  const u = { bytes: 0, ended: false, pieces: 0 };
  uploads.set(key, u);
  req.on('data', (c: Buffer) => { u.bytes += c.length; u.pieces++; });
  req.on('end', () => {
    u.ended = true;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ received: u.bytes }));
  });
  req.on('error', () => undefined);
});
const sockets = new Set<net.Socket>();
server.on('connection', (s: net.Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
t.teardown(() => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }));
const P = (server.address() as net.AddressInfo).port;
const sink = await startWsUpstream(t);
/**
 * An upstream that resets a reused connection once it has read a request on it (a colluding server
 * or one with a short idle timeout): the proxy sends that request again on a new connection. It
 * counts every copy of the agent's data that arrives, answered or not.
 */
let resetArrivals = 0;
const resetter = net.createServer((s) => {
  let seen = 0;
  let buf = '';
  s.on('data', (c: Buffer) => {
    buf += c.toString('latin1');
    let end: number;
    while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
      const head = buf.slice(0, end);
      buf = buf.slice(end + 4);
      if (/^x-data: /im.test(head)) resetArrivals++;
      if (++seen > 1) return void s.resetAndDestroy();
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok');
    }
  });
  s.on('error', () => undefined);
});
await new Promise<void>((r) => resetter.listen(0, '127.0.0.1', r));
t.teardown(() => new Promise<void>((r) => resetter.close(() => r())));
const R = (resetter.address() as net.AddressInfo).port;

const a = await startTestAirlock(t, {
  policy: 'streams', resolve: ['allowed.example=127.0.0.1'], allowPrivate: [`127.0.0.1:${P}`, `127.0.0.1:${sink.port}`, `127.0.0.1:${R}`], bodyCap: BODY_CAP,
});
const final = (key: string, urlPart = `key=${key}&`): AuditRecord | undefined =>
  a.records.find((r) => r.url?.includes(urlPart) && r.outcome !== 'pending' && r.description);
/** What the decision counted besides the body: path, query and headers (from the record's description). */
const headBytes = (r: AuditRecord): number => r.description!.request.egress_bytes - r.description!.request.body.size;

/** One chunk of a chunked body: `n` bytes of `x`. */
const chunk = (n: number): string => `${n.toString(16)}\r\n${'x'.repeat(n)}\r\n`;

/**
 * A chunked upload to the test upstream through a raw socket, its first chunk past the capture sent:
 * the socket, and what the agent has been answered so far.
 */
async function streamingUpload(query: string, auth: string): Promise<{ sock: net.Socket; reply: () => string }> {
  const sock = net.connect(a.port, '127.0.0.1');
  let reply = '';
  sock.on('data', (c: Buffer) => { reply += c.toString('latin1'); });
  sock.on('error', () => undefined);
  await new Promise((r) => sock.once('connect', r));
  sock.write(`POST http://allowed.example:${P}/upload?${query} HTTP/1.1\r\nHost: allowed.example:${P}\r\nProxy-Authorization: ${auth}\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(BODY_CAP + 1000)}`);
  return { sock, reply: () => reply };
}

t.test('eleventh pass: an upload of 1-byte chunks leaves in pieces, metered whole; a neighbour is served meanwhile', async (t) => {
  // Each chunk the parser handed over was forwarded (and metered) on its own before the next was
  // parsed: a write with its own framing per byte of the agent's, ~1 s stalls of the event loop
  // and a neighbour's request waiting 2-4 s. Pieces that arrive together now leave together.
  // (Twenty-second pass: past 4,096 pieces a body must average 16 bytes a piece: 4,000 here, the
  // refusal of 60,000 below.)
  const tiny = 4000;
  const { sock } = await streamingUpload('key=tiny&budget=10000000', a.auth);
  sock.write(`${'1\r\nx\r\n'.repeat(tiny)}0\r\n\r\n`);
  const t0 = performance.now();
  const neighbour = await viaProxy(a.port, `http://allowed.example:${P}/upload?key=tiny-neighbour`, { auth: a.auth, method: 'POST', body: 'x' });
  const waited = performance.now() - t0;
  t.equal(neighbour.status, 200, `a neighbour's request is answered meanwhile (${Math.round(waited)} ms)`);
  t.ok(waited < 3000, 'within a bound (6.5 s before)');
  t.ok(await eventually(() => uploads.get('tiny')?.ended === true, 20_000), 'the upload arrives whole');
  const u = uploads.get('tiny')!;
  t.equal(u.bytes, BODY_CAP + 1000 + tiny, 'every byte arrives once');
  t.ok(u.pieces <= tiny / 50, `in ${u.pieces} pieces, not one per chunk sent (${tiny})`);
  await eventually(() => final('tiny') !== undefined, 5000);
  const rec = final('tiny');
  t.equal((rec?.extra as { egress_streamed?: number } | undefined)?.egress_streamed, BODY_CAP + 1000 + tiny - (rec?.description?.request.body.size ?? 0), 'every byte past the described prefix is metered');
  sock.destroy();
});

t.test('twenty-second pass: an upload of 60,000 1-byte chunks past the capture is refused as in too many pieces; a neighbour is served meanwhile', async (t) => {
  const many = 60_000;
  const { sock, reply } = await streamingUpload('key=pieces&budget=10000000', a.auth);
  sock.write(`${'1\r\nx\r\n'.repeat(many)}0\r\n\r\n`);
  const neighbour = await viaProxy(a.port, `http://allowed.example:${P}/upload?key=pieces-neighbour`, { auth: a.auth, method: 'POST', body: 'x' });
  t.equal(neighbour.status, 200, 'a neighbour\'s request is answered meanwhile');
  t.ok(await eventually(() => /^HTTP\/1\.1 400/m.test(reply()), 10_000), 'the agent is answered 400');
  const [res] = parseResponses(reply());
  t.ok(res && isProblem(res) && /pieces/.test(res.body), 'problem+json naming the pieces');
  const u = uploads.get('pieces');
  t.ok(u === undefined || !(u.ended && u.bytes === BODY_CAP + 1000 + many), `the upload does not arrive whole (${u?.bytes ?? 'no'} bytes)`);
  sock.destroy();
});

t.test('property: a chunked upload leaves only while the budget lasts; past it the request fails as a limit', async (t) => {
  let n = 0;
  const arb = fc.record({
    chunks: fc.array(fc.integer({ min: 1, max: 9000 }), { maxLength: 10 }),
    slack: fc.integer({ min: -6000, max: 6000 }),
  });
  await fc.assert(fc.asyncProperty(arb, async ({ chunks, slack }) => {
    const key = `up${n++}`;
    const total = chunks.reduce((x, y) => x + y, 0);
    const budget = Math.max(1, 330 + total + slack);
    const url = `http://allowed.example:${P}/upload?key=${key}&budget=${budget}`;
    const head = `POST ${url} HTTP/1.1\r\nHost: allowed.example:${P}\r\nProxy-Authorization: ${a.auth}\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const parts = [head, ...chunks.map((c) => `${c.toString(16)}\r\n${'x'.repeat(c)}\r\n`), '0\r\n\r\n'];
    const reply = await rawToProxy(a.port, parts, { gapMs: 2, responses: 1, maxMs: 8000 });
    const [res] = parseResponses(reply.text);
    if (!(await eventually(() => final(key) !== undefined, 3000))) throw new Error('no audit record');
    const rec = final(key)!;
    const fits = headBytes(rec) + total <= budget;
    const up = uploads.get(key);
    if (fits) {
      if (res?.status !== 200 || rec.outcome !== 'forwarded') throw new Error(`within budget (${headBytes(rec)} + ${total} ≤ ${budget}) it passes, got ${res?.status} ${rec.outcome}: ${rec.detail}`);
      if (!up?.ended || up.bytes !== total) throw new Error('the upstream got the whole body');
      const extra = rec.extra as { rate_limits: Array<{ cost: number }>; egress_streamed?: number };
      const charged = extra.rate_limits[0]!.cost + (extra.egress_streamed ?? 0);
      if (charged !== headBytes(rec) + total) throw new Error(`every byte is charged once: ${charged} ≠ ${headBytes(rec) + total}`);
    } else {
      if (rec.outcome !== 'rate-limited') throw new Error(`over budget (${headBytes(rec)} + ${total} > ${budget}) it is a limit, got ${rec.outcome}: ${rec.detail}`);
      if (res !== undefined && !(res.status === 429 && isProblem(res))) throw new Error(`the agent gets a 429 problem+json or a closed connection, got ${res.status}`);
      if (up?.ended) throw new Error('the upstream must never get a complete request');
      if ((up?.bytes ?? 0) > Math.max(0, budget - headBytes(rec))) throw new Error(`the upstream got ${up?.bytes} body bytes, more than the budget left (${budget - headBytes(rec)})`);
    }
  }), { numRuns, ...seed });
  t.pass(`${n} uploads checked`);
});

t.test('a Content-Length upload past the capture cap is charged whole, before it leaves', async (t) => {
  const big = Buffer.alloc(50_000, 0x61);
  const over = await viaProxy(a.port, `http://allowed.example:${P}/upload?key=cl1&budget=20000`, { auth: a.auth, method: 'PUT', body: big });
  t.equal(over.status, 429, 'over budget: refused at once');
  t.ok(isProblem(over as never));
  t.notOk(uploads.has('cl1'), 'the upstream was never asked');
  const ok = await viaProxy(a.port, `http://allowed.example:${P}/upload?key=cl2&budget=60000`, { auth: a.auth, method: 'PUT', body: big });
  t.equal(ok.status, 200);
  t.same(JSON.parse(ok.body), { received: 50_000 });
});

t.test('a request sent again after a reused connection was reset is charged again: the budget bounds every copy that leaves', async (t) => {
  const data = 'd'.repeat(1000);
  const url = `http://allowed.example:${R}/?key=retry&budget=8000`;
  const statuses: number[] = [];
  for (let i = 0; i < 12; i++) statuses.push((await viaProxy(a.port, url, { auth: a.auth, headers: { 'x-data': data } })).status);
  const E = a.records.find((r) => r.url?.includes('key=retry') && r.description)!.description!.request.egress_bytes;
  t.ok(statuses.includes(200) && statuses.includes(429), `some pass, then the budget is spent (${statuses.join(',')})`);
  t.ok(resetArrivals * E <= 8000, `every copy that reached the upstream was paid for: ${resetArrivals} × ${E} bytes ≤ 8000`);
  t.ok(a.records.some((r) => (r.extra as { upstream_retry?: string } | undefined)?.upstream_retry), 'requests were sent again');
});

// Ninth pass: an upload streaming past the capture cap is one request that lasts, as a WebSocket
// is; a token revoked (or an agent removed) while it streams let the rest of it leave, for as long
// as the agent kept sending: an operator who revokes a misbehaving agent did not stop its upload.
t.test('an upload still streaming when its token is revoked is cut at the next re-check; nothing leaves after', async (t) => {
  const { token } = await a.airlock.agents.add('leaver');
  const key = 'revoked-upload';
  const { sock, reply: answered } = await streamingUpload(`key=${key}&budget=100000000`, `Basic ${Buffer.from(`leaver:${token}`).toString('base64')}`);
  t.ok(await eventually(() => (uploads.get(key)?.bytes ?? 0) >= BODY_CAP + 1000, 3000), 'the upload streams to the upstream');
  await a.airlock.agents.revokeToken('leaver', token);
  let sent = 0;
  for (let i = 0; i < 30 && !sock.destroyed && !answered(); i++) {
    sock.write(chunk(100));
    sent++;
    await new Promise((r) => setTimeout(r, 60));
  }
  await new Promise((r) => setTimeout(r, 50));
  const atReply = uploads.get(key)!.bytes;
  for (let i = 0; i < 3; i++) sock.write(chunk(100));
  await new Promise((r) => setTimeout(r, 150));
  sock.destroy();
  const rec = await eventually(() => a.records.some((r) => r.url?.includes(`key=${key}`) && r.outcome === 'unauthenticated'), 3000);
  t.ok(rec, 'the upload is recorded as cut for its credentials');
  t.match(answered(), /^HTTP\/1\.1 407 /, 'the agent gets a 407 (it had no answer yet)');
  t.notOk(uploads.get(key)!.ended, 'the upstream never gets a complete request');
  t.ok(sent < 30, `the upload was cut within the re-check (${sent} chunks of 100 sent after the revocation)`);
  t.equal(uploads.get(key)!.bytes, atReply, 'and nothing left after the refusal');
});

// Ninth pass: a WebSocket or an upload opened under one policy version went on under the next: a
// rollback of a policy found too permissive (here or through another replica) stopped every new
// request at once, and none of the streams already open, which the agent could keep sending on.
t.test('a WebSocket and an upload open when a policy that denies them goes live are ended; nothing leaves after', async (t) => {
  const [denyAll, streams] = await Promise.all([compilePolicy(path.join(fixtures, 'policy-undefined')), compilePolicy(path.join(fixtures, 'streams'))]);
  const wsPath = '/open-across-a-publish';
  const client = new WebSocket(`ws://allowed.example:${sink.port}${wsPath}`, { agent: new HttpProxyAgent(a.proxyUrl), perMessageDeflate: false });
  const closed = new Promise<number>((resolve) => client.on('close', (code: number) => resolve(code)));
  client.on('error', () => undefined);
  await new Promise((r) => client.once('open', r));
  client.send('before');
  const key = 'upload-across-a-publish';
  const { sock, reply: answered } = await streamingUpload(`key=${key}`, a.auth);
  t.ok(await eventually(() => (uploads.get(key)?.bytes ?? 0) >= BODY_CAP + 1000 && sink.conn(wsPath)?.messages.length === 1, 3000), 'both stream to the upstream');
  await a.airlock.engine.load(denyAll);
  t.teardown(() => a.airlock.engine.load(streams));
  t.equal(await Promise.race([closed, new Promise((r) => setTimeout(() => r('open'), 2000))]), 1008, 'the WebSocket is closed 1008');
  t.ok(await eventually(() => answered() !== '', 2000), 'the upload is answered');
  t.match(answered(), /^HTTP\/1\.1 403 /, 'with a 403 (the agent had no answer yet)');
  const atReply = uploads.get(key)!.bytes;
  if (!sock.destroyed) sock.write(chunk(100));
  await new Promise((r) => setTimeout(r, 100));
  sock.destroy();
  t.equal(uploads.get(key)!.bytes, atReply, 'nothing of the upload left after');
  t.notOk(uploads.get(key)!.ended, 'the upstream never got a complete request');
  t.equal(sink.conn(wsPath)!.messages.length, 1, 'no message left after');
  t.ok(await eventually(() => a.records.filter((r) => (r.url?.includes(key) || r.url?.includes(wsPath)) && r.outcome === 'denied' && /now denies this request/.test(r.detail ?? '')).length === 2, 2000), 'both recorded as denied by the live policy');
  await a.airlock.engine.load(streams);
});

// Ninth pass: a budget lowered by a new policy version bound new requests only; an upload already
// streaming was metered against the limit of the version that opened it, to its end.
t.test('a budget lowered while an upload streams meters the rest of it', async (t) => {
  const source = fs.readFileSync(path.join(fixtures, 'streams', 'policy.rego'), 'utf8');
  const lowered = source.replace('"limit": to_number(input.request.query.budget[0]),', '"limit": to_number(input.request.query.budget[0]) / 100,');
  t.not(lowered, source, 'the variant lowers the budget a hundredfold');
  const dir = t.testdir({ 'policy.rego': lowered });
  const [low, streams] = await Promise.all([compilePolicy(dir), compilePolicy(path.join(fixtures, 'streams'))]);
  const key = 'lowered-midway';
  const { sock, reply: answered } = await streamingUpload(`key=${key}&budget=100000`, a.auth);
  t.ok(await eventually(() => (uploads.get(key)?.bytes ?? 0) >= BODY_CAP + 1000, 3000), 'the upload streams under a budget of 100,000 bytes');
  await a.airlock.engine.load(low);
  t.teardown(() => a.airlock.engine.load(streams));
  await new Promise((r) => setTimeout(r, 150));
  const before = uploads.get(key)!.bytes;
  sock.write(chunk(2000));
  t.ok(await eventually(() => answered() !== '', 2000), 'the next chunk is answered');
  t.match(answered(), /^HTTP\/1\.1 429 /, 'with a 429: the budget is 1,000 bytes now');
  sock.destroy();
  t.equal(uploads.get(key)!.bytes, before, 'the chunk the lowered budget cannot pay for never left');
  await a.airlock.engine.load(streams);
});

// Twentieth pass: a stream opened under no byte budget was never metered: the meter was made only
// when the opening decision had a budget, so a policy version that adds one (an operator who saw an
// agent exfiltrating through an open tunnel or upload) bound new requests only, and the open
// WebSocket and upload went on sending without bound.
t.test('a budget added while a WebSocket and an upload stream meters the rest of them', async (t) => {
  const source = fs.readFileSync(path.join(fixtures, 'streams', 'policy.rego'), 'utf8');
  const added = source.replace('decision := {"action": "allow", "reason": "allowed host", "rule": "allowed-host"} if {',
    'decision := {"action": "allow", "reason": "allowed host", "rule": "allowed-host", "rate_limits": [{"key": "egress:added", "limit": 3000, "window": "1000h", "unit": "egress_bytes"}]} if {');
  t.not(added, source, 'the variant puts the allowed host under a budget of 3,000 bytes');
  const [withBudget, streams] = await Promise.all([compilePolicy(t.testdir({ 'policy.rego': added })), compilePolicy(path.join(fixtures, 'streams'))]);
  const wsPath = '/open-before-a-budget';
  const client = new WebSocket(`ws://allowed.example:${sink.port}${wsPath}`, { agent: new HttpProxyAgent(a.proxyUrl), perMessageDeflate: false });
  const closed = new Promise<number>((resolve) => client.on('close', (code: number) => resolve(code)));
  client.on('error', () => undefined);
  await new Promise((r) => client.once('open', r));
  client.send('before');
  const key = 'upload-before-a-budget';
  const { sock, reply: answered } = await streamingUpload(`key=${key}`, a.auth);
  t.ok(await eventually(() => (uploads.get(key)?.bytes ?? 0) >= BODY_CAP + 1000 && sink.conn(wsPath)?.messages.length === 1, 3000), 'both stream, under no budget');
  await a.airlock.engine.load(withBudget);
  t.teardown(() => a.airlock.engine.load(streams));
  await new Promise((r) => setTimeout(r, 150));
  // 2,000 bytes of each fit the new bucket once: the second stream to send them is cut.
  for (let i = 0; i < 3 && client.readyState === WebSocket.OPEN; i++) client.send(Buffer.alloc(1000, 0x62));
  const code = await Promise.race([closed, new Promise((r) => setTimeout(() => r('open'), 2000))]);
  t.equal(code, 1008, 'the WebSocket is closed 1008 once the added budget is spent');
  t.equal(sink.conn(wsPath)!.messages.length, 3, 'the upstream got the two messages the budget paid for, no more');
  const before = uploads.get(key)!.bytes;
  sock.write(chunk(2000));
  t.ok(await eventually(() => answered() !== '', 2000), 'the next chunk of the upload is answered');
  t.match(answered(), /^HTTP\/1\.1 429 /, 'with a 429: the added budget is spent');
  sock.destroy();
  t.equal(uploads.get(key)!.bytes, before, 'the chunk the added budget cannot pay for never left');
  await a.airlock.engine.load(streams);
});

/** Bytes of one masked frame carrying `n` payload bytes (RFC 6455 §5.2): what leaves per message. */
const frameBytes = (n: number): number => 2 + (n > 65535 ? 8 : n > 125 ? 2 : 0) + 4 + n;

t.test('property: WebSocket messages to the upstream are charged as frames; the first that does not fit closes the tunnel', async (t) => {
  let n = 0;
  const arb = fc.record({
    sizes: fc.array(fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 60_000, max: 70_000 })), { minLength: 1, maxLength: 8 }),
    slack: fc.integer({ min: -70_000, max: 2000 }),
  });
  await fc.assert(fc.asyncProperty(arb, async ({ sizes, slack }) => {
    const key = `ws${n++}`;
    const total = sizes.reduce((x, s) => x + frameBytes(s), 0);
    const budget = Math.max(1, 420 + total + slack);
    const path = `/meter?key=${key}&budget=${budget}`;
    const client = new WebSocket(`ws://allowed.example:${sink.port}${path}`, { agent: new HttpProxyAgent(a.proxyUrl), perMessageDeflate: false });
    const outcome = await new Promise<{ status?: number; code?: number }>((resolve) => {
      client.on('unexpected-response', (_req, res) => resolve({ status: res.statusCode }));
      client.on('open', () => {
        for (const s of sizes) client.send(Buffer.alloc(s, 0x62));
        client.close(1000);
      });
      client.on('close', (code: number) => resolve({ code }));
      client.on('error', () => undefined);
    });
    if (!(await eventually(() => final(key) !== undefined, 3000))) throw new Error('no audit record of the upgrade');
    const opened = final(key)!;
    const H = headBytes(opened);
    if (H > budget) {
      if (outcome.status !== 429 || opened.outcome !== 'rate-limited') throw new Error(`the handshake alone is over budget: 429, got ${JSON.stringify(outcome)}`);
      return;
    }
    let spent = H;
    let fit = 0;
    while (fit < sizes.length && spent + frameBytes(sizes[fit]!) <= budget) spent += frameBytes(sizes[fit++]!);
    // The agent's close frame (code 1000, no reason) leaves too.
    const closeFits = fit === sizes.length && spent + frameBytes(2) <= budget;
    if (closeFits) spent += frameBytes(2);
    const conn = sink.conn(path);
    if (!conn) throw new Error('the upstream got the upgrade');
    await eventually(() => conn.close !== undefined, 4000);
    if (conn.messages.length !== fit || conn.messages.some((m, i) => m.data.length !== sizes[i])) {
      throw new Error(`the upstream got ${conn.messages.length} messages, expected the ${fit} that fit in ${budget} bytes`);
    }
    if (!(await eventually(() => a.records.some((r) => r.id === opened.id && r.outcome !== 'forwarded'), 3000))) throw new Error('no record of the tunnel end');
    const ended = a.records.find((r) => r.id === opened.id && r.outcome !== 'forwarded')!;
    if (!closeFits) {
      if (fit < sizes.length && outcome.code !== 1008) throw new Error(`cut with 1008, got ${outcome.code}`);
      if (ended.outcome !== 'rate-limited') throw new Error(`recorded as a limit, got ${ended.outcome}`);
      if (((ended.extra as { egress_streamed?: number }).egress_streamed ?? 0) !== spent - H) throw new Error('the record says what was charged');
      if (conn.close?.code === 1000) throw new Error('the close the budget could not carry was not relayed as sent');
    } else if (ended.outcome !== 'websocket-closed' || conn.close?.code !== 1000) {
      throw new Error(`within budget the tunnel closes normally, got ${ended.outcome}: ${ended.detail}`);
    }
  }), { numRuns, ...seed });
  t.pass(`${n} tunnels checked`);
});

// Ninth pass: the session's egress count (`input.session.egress_bytes`, what a policy may budget a
// session by) counted a streamed body twice (a Content-Length upload past the cap: its whole body)
// and each WebSocket message twice (its payload and its frame), so a session budget cut early.
t.test('the session counts what a stream sends once, as the byte budgets do', async (t) => {
  await viaProxy(a.port, `http://allowed.example:${P}/upload?key=count-first`, { auth: a.auth, method: 'POST', body: 'x' });
  t.ok(await eventually(() => final('count-first', 'count-first') !== undefined, 3000));
  const sid = (final('count-first', 'count-first')!.extra as { session: { id: string } }).session.id;
  const sent = async (key: string, send: () => Promise<unknown>): Promise<{ delta: number; rec: AuditRecord }> => {
    const before = a.airlock.sessions.get(sid).egress_bytes;
    await send();
    if (!(await eventually(() => final(key, key) !== undefined, 3000))) throw new Error('no record');
    await new Promise((r) => setTimeout(r, 50));
    return { delta: a.airlock.sessions.get(sid).egress_bytes - before, rec: final(key, key)! };
  };
  const cl = await sent('count-cl', () => viaProxy(a.port, `http://allowed.example:${P}/upload?key=count-cl`, { auth: a.auth, method: 'PUT', body: Buffer.alloc(10_000, 0x61) }));
  t.equal(cl.delta, cl.rec.description!.request.egress_bytes, 'a Content-Length upload past the cap: what the description counted, its whole body once');
  const sizes = [3000, 4000, 500];
  const chunked = await sent('count-chunked', () => rawToProxy(a.port, [
    `POST http://allowed.example:${P}/upload?key=count-chunked HTTP/1.1\r\nHost: allowed.example:${P}\r\nProxy-Authorization: ${a.auth}\r\nTransfer-Encoding: chunked\r\n\r\n`,
    ...sizes.map((n) => `${n.toString(16)}\r\n${'y'.repeat(n)}\r\n`), '0\r\n\r\n',
  ], { gapMs: 2, responses: 1, maxMs: 8000 }));
  const total = sizes.reduce((x, y) => x + y, 0);
  t.equal(chunked.delta, chunked.rec.description!.request.egress_bytes + total - chunked.rec.description!.request.body.size, 'a chunked upload past the cap: the head and every body byte once');
  const wsPath = '/counted?key=count-ws';
  const ws = await sent('count-ws', async () => {
    const client = new WebSocket(`ws://allowed.example:${sink.port}${wsPath}`, { agent: new HttpProxyAgent(a.proxyUrl), perMessageDeflate: false });
    client.on('error', () => undefined);
    await new Promise((r) => client.once('open', r));
    for (const n of [10, 200]) client.send(Buffer.alloc(n, 0x63));
    client.close(1000);
    await new Promise((r) => client.once('close', r));
  });
  t.equal(ws.delta, ws.rec.description!.request.egress_bytes + frameBytes(10) + frameBytes(200) + frameBytes(2), 'a WebSocket: the handshake, then each frame at its size on the wire, once');
});
