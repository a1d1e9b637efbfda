// Reading the real credential back. The agent holds only a placeholder; Airlock injects the value
// into the one slot the policy names. Attacks, against a service that behaves as real ones do
// (test/attacks/readback-service.ts: it records every request and shows the record back, in the
// representation, charset and byte range the client asks for, and over WebSocket):
//   - plant the placeholder anywhere else — another header, a header's name, a cookie, the query,
//     the path, the body, raw or encoded — hoping the service records the real value there
//   - read the record back on a request that injects nothing, in every representation and charset,
//     in pieces (Range, If-Range, multipart/byteranges), over a WebSocket
//   - hide a placeholder or a real value in a header name or in line-wrapped MIME base64
//   - find the real value in the environment `airlock run` hands the agent, in any spelling
// Every check decodes whatever the agent (or a host that must not get the value) received with the
// suite's own brute-force reader (test/attacks/spelling-oracle.ts). Positive controls: Bearer, Basic
// and query-key injection with curl, Python requests and Node undici, JSON, gzip and a binary
// download from a host that got a secret.
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import fc from 'fast-check';
import t from 'tap';
import type { Test } from 'tap';
import { agentEnv } from '../../sandbox/env.ts';
import { curl, fixtures, isProblem, startTestAirlock, startUpstream, tempDir } from './helpers.ts';
import { ALPHABETS64, BASE45, MORSE, NATO, binaryBytes, byteranges, charsets, formats, readbackService, transcode, type Charset } from './readback-service.ts';
import { ciphers, reveal, spelling } from './spelling-oracle.ts';

process.env.AIRLOCK_MASTER_KEY ??= '3c'.repeat(32);
const numRuns = Number(process.env.AIRLOCK_FUZZ_RUNS_LIVE ?? 40);
const seed = process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {};

/** The credential, with the punctuation that has escapes in every family. */
const SECRET = 'sk_live_R3adBack/Canary+Key=&<x>%~0123456789';
/** A long credential (an AWS session token: ~700 bytes of base64), injected into long.example. */
const LONG = `FwoGZXIvYXdzE${Array.from({ length: 8 }, (_, i) => crypto.createHash('sha512').update(`session ${i}`).digest('base64').replace(/=+$/, '')).join('')}`;
/** A secret bound nowhere (its real value must never leave at all). */
const LOOSE = 'ghp_Loose0123456789ABCDEFabcdef0123456789';

const service = readbackService();
const up = await startUpstream(t, { handler: service.handler });
// The service's WebSocket side (/ws), on a port of its own: same host names, so same record.
const wsServer = http.createServer((req, res) => {
  const body: Buffer[] = [];
  req.on('data', (c: Buffer) => body.push(c));
  req.on('end', () => service.handler(req, res, Buffer.concat(body)));
});
service.attach(wsServer);
await new Promise<void>((resolve) => wsServer.listen(0, '127.0.0.1', () => resolve()));
t.teardown(() => new Promise<void>((resolve) => {
  wsServer.closeAllConnections();
  wsServer.close(() => resolve());
}));
const wsPort = (wsServer.address() as net.AddressInfo).port;
const hosts = ['svc.example', 'basic.example', 'query.example', 'body.example', 'field.example', 'other.example', 'long.example'];
const a = await startTestAirlock(t, {
  policy: 'readback', secrets: { api: SECRET, loose: LOOSE, long: LONG },
  resolve: hosts.map((h) => `${h}=127.0.0.1`),
  allowPrivate: [`127.0.0.1:${up.port}`, `127.0.0.1:${wsPort}`],
});
const PH = a.placeholders.api!;
const PH_LOOSE = a.placeholders.loose!;
const origin = (host: string): string => `http://${host}:${up.port}`;

interface Got {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The connection broke before the body ended (a response Airlock refused once its head was out); status 0 when before any byte. */
  broken: boolean;
}

/** One request through the proxy with Node's http client; a broken body is returned as far as it came. */
function send(url: string, opts: { method?: string; headers?: Array<[string, string]>; body?: string | Buffer } = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const headers: string[] = ['Host', new URL(url).host, 'Proxy-Authorization', a.auth];
    for (const [k, v] of opts.headers ?? []) headers.push(k, v);
    const req = http.request({ host: '127.0.0.1', port: a.port, method: opts.method ?? 'GET', path: url, headers, agent: false, setHost: false });
    req.setTimeout(10_000, () => req.destroy(new Error('client timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => {
      // The proxy cut the answer before a byte of it left: the agent got nothing.
      if (err.code === 'ECONNRESET' || err.message === 'socket hang up') resolve({ status: 0, headers: {}, body: Buffer.alloc(0), broken: true });
      else reject(err);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let done = false;
      const finish = (broken: boolean): void => {
        if (done) return;
        done = true;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), broken });
      };
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => finish(false));
      res.on('error', () => finish(true));
      res.on('aborted', () => finish(true));
      res.on('close', () => finish(!res.complete));
    });
    req.end(opts.body);
  });
}

/** Everything an agent can make of a response: the body, and each part of a multipart/byteranges answer. */
const seenBy = (g: Got): Buffer => Buffer.concat([
  Buffer.from(Object.entries(g.headers).map(([k, v]) => `${k}: ${String(v)}\n`).join(''), 'latin1'),
  ...byteranges(g.body, String(g.headers['content-type'] ?? '')),
]);

/** Makes a request that injects the credential (the service records its Authorization header). */
async function inject(host = 'svc.example'): Promise<void> {
  const r = await send(`${origin(host)}/api/x`, { headers: [['Authorization', `Bearer ${PH}`]] });
  if (r.status !== 200) throw new Error(`control injection to ${host} failed: ${r.status} ${r.body.toString()}`);
}

t.test('control: the bound slot gets the real value; what comes back is scrubbed', async (t) => {
  const r = await send(`${origin('svc.example')}/api/echo`, { headers: [['Authorization', `Bearer ${PH}`]] });
  t.equal(r.status, 200);
  t.equal(service.log('svc.example').at(-1)?.headers.find(([k]) => k.toLowerCase() === 'authorization')?.[1], `Bearer ${SECRET}`, 'the service got the real value in Authorization');
  t.equal(reveal(seenBy(r), SECRET), undefined, 'the echo is scrubbed');
  t.match(r.body.toString(), PH, 'the agent sees its placeholder');
});

// ─── class 2(a): a placeholder goes only into its slot ─────────────────────────────────────────

/** Places the placeholder somewhere other than the slot, in one spelling. */
const PLACES = ['header', 'header name', 'cookie', 'query value', 'query name', 'path', 'json body', 'form body', 'multipart text', 'multipart base64', 'text body'] as const;
interface Placement {
  where: typeof PLACES[number];
  header: string;
  prefix: string;
  encoding: string;
  host: string;
  placeholderValue: string;
}
const placement = fc.record({
  where: fc.constantFrom(...PLACES),
  header: fc.constantFrom('X-Note', 'User-Agent', 'Referer', 'X-Forwarded-For', 'Accept', 'X-Request-Id', 'From', 'X-Api-Key', 'Prefer', 'If-None-Match', 'X-Amz-Meta-Note', 'Proxy-Authorization-Info'),
  prefix: fc.constantFrom('', 'note ', 'k=', 'Bearer ', 'Basic '),
  encoding: fc.constantFrom('raw', 'raw', 'base64', 'base64url', 'hex', 'HEX', 'percent'),
  host: fc.constantFrom('svc.example', 'basic.example', 'query.example'),
});

function encodeAs(value: string, encoding: string): string {
  const b = Buffer.from(value);
  switch (encoding) {
    case 'base64': return b.toString('base64');
    case 'base64url': return b.toString('base64url');
    case 'hex': return b.toString('hex');
    case 'HEX': return b.toString('hex').toUpperCase();
    case 'percent': return [...b].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('');
    default: return value;
  }
}

function planted(p: Placement): { url: string; method: string; headers: Array<[string, string]>; body?: string } {
  const v = encodeAs(p.placeholderValue, p.encoding);
  const base = `${origin(p.host)}/api/x`;
  // The slot itself gets the placeholder too, as a real client would send it.
  const slot: Array<[string, string]> = p.host === 'svc.example' ? [['Authorization', `Bearer ${PH}`]] : p.host === 'basic.example' ? [['Authorization', `Basic ${Buffer.from(`user:${PH}`).toString('base64')}`]] : [];
  const url = (q: string): string => `${base}?${p.host === 'query.example' ? `key=${PH}&` : ''}${q}`;
  const boundary = 'xYzBoundary0123';
  const multipart = (part: string, headers: string): string => `--${boundary}\r\nContent-Disposition: form-data; name="note"\r\n${headers}\r\n${part}\r\n--${boundary}--\r\n`;
  switch (p.where) {
    case 'header': return { url: url('a=1'), method: 'GET', headers: [...slot, [p.header, `${p.prefix}${v}`]] };
    case 'header name': return { url: url('a=1'), method: 'GET', headers: [...slot, [`X-${encodeAs(p.placeholderValue, p.encoding === 'percent' || p.encoding === 'base64' ? 'hex' : p.encoding)}`, '1']] };
    case 'cookie': return { url: url('a=1'), method: 'GET', headers: [...slot, ['Cookie', `session=abc; note=${v}`]] };
    case 'query value': return { url: url(`note=${encodeURIComponent(v)}`), method: 'GET', headers: slot };
    case 'query name': return { url: url(`${encodeURIComponent(v)}=1`), method: 'GET', headers: slot };
    case 'path': return { url: `${origin(p.host)}/api/files/${encodeURIComponent(v)}${p.host === 'query.example' ? `?key=${PH}` : ''}`, method: 'GET', headers: slot };
    case 'json body': return { url: url('a=1'), method: 'POST', headers: [...slot, ['Content-Type', 'application/json']], body: JSON.stringify({ note: `${p.prefix}${v}` }) };
    case 'form body': return { url: url('a=1'), method: 'POST', headers: [...slot, ['Content-Type', 'application/x-www-form-urlencoded']], body: `note=${encodeURIComponent(v)}` };
    case 'multipart text': return { url: url('a=1'), method: 'POST', headers: [...slot, ['Content-Type', `multipart/form-data; boundary=${boundary}`]], body: multipart(v, '') };
    case 'multipart base64': return {
      url: url('a=1'), method: 'POST', headers: [...slot, ['Content-Type', `multipart/form-data; boundary=${boundary}`]],
      body: multipart(Buffer.from(`a note to self: ${p.placeholderValue} (kept)`).toString('base64').replace(/.{76}(?=.)/g, '$&\r\n'), 'Content-Transfer-Encoding: base64\r\n'),
    };
    case 'text body': return { url: url('a=1'), method: 'POST', headers: [...slot, ['Content-Type', 'text/plain']], body: `${p.prefix}${v}` };
  }
}

t.test('2(a): a placeholder anywhere but its slot is refused, even to the bound host, and the value is never planted', async (t) => {
  const sample = placement.map((p) => ({ ...p, placeholderValue: PH }));
  await fc.assert(fc.asyncProperty(sample, async (p) => {
    const req = planted(p);
    const before = service.log(p.host).length;
    const r = await send(req.url, { method: req.method, headers: req.headers, ...(req.body !== undefined ? { body: req.body } : {}) });
    const got = service.log(p.host).slice(before);
    // What the service recorded, minus the slot the directive fills (Authorization, or ?key=).
    const recorded = got.map((g) => JSON.stringify({ url: g.url.replace(/[?&]key=[^&]*/g, ''), body: g.body, headers: g.headers.filter(([k]) => k.toLowerCase() !== 'authorization') })).join('\n');
    const plantedValue = reveal(recorded, SECRET);
    if (plantedValue) throw new Error(`${p.where} (${p.encoding}) on ${p.host}: the service recorded the real value outside the slot (${plantedValue})`);
    // A doubly encoded path is refused even earlier, as one servers would read differently (400).
    const refused = r.status === 403 || (p.where === 'path' && r.status === 400 && /path can mean two things/.test(r.body.toString()));
    if (!refused || !isProblem({ status: r.status, headers: r.headers, body: r.body.toString() })) {
      throw new Error(`${p.where} (${p.encoding}) on ${p.host}: expected a 403 problem+json, got ${r.status} ${r.body.toString().slice(0, 200)}`);
    }
    if (got.length) throw new Error(`${p.where} on ${p.host}: the refused request reached the service`);
  }), { numRuns, ...seed });
});

t.test('2(a): each directive fills its own slot, and only it', async (t) => {
  const cases: Array<[string, string, Array<[string, string]>, string | undefined, number]> = [
    ['header slot', `${origin('svc.example')}/api/x`, [['Authorization', `Bearer ${PH}`]], undefined, 200],
    ['basic slot', `${origin('basic.example')}/api/x`, [['Authorization', `Basic ${Buffer.from(`user:${PH}`).toString('base64')}`]], undefined, 200],
    ['query slot', `${origin('query.example')}/api/x?key=${PH}&q=1`, [], undefined, 200],
    ['body slot', `${origin('body.example')}/api/x`, [['Content-Type', 'application/json']], JSON.stringify({ token: PH }), 200],
    ['query directive, placeholder in a header', `${origin('query.example')}/api/x?key=${PH}`, [['X-Key', PH]], undefined, 403],
    ['body directive, placeholder in Authorization', `${origin('body.example')}/api/x`, [['Authorization', `Bearer ${PH}`]], JSON.stringify({ token: PH }), 403],
    ['basic directive, the pair in another header', `${origin('basic.example')}/api/x`, [['X-Authorization', `Basic ${Buffer.from(`user:${PH}`).toString('base64')}`]], undefined, 403],
    // Twelfth pass: a body directive naming a field fills that field only. Anywhere else in the body
    // (a gist's content, an issue's text, a message) the service would store the real value and
    // show it back, on another host too (gist.githubusercontent.com for api.github.com).
    ['named body slot (JSON)', `${origin('field.example')}/api/x`, [['Content-Type', 'application/json']], JSON.stringify({ token: PH, note: 'hi' }), 200],
    ['named body slot, nested (JSON)', `${origin('field.example')}/api/x`, [['Content-Type', 'application/json']], JSON.stringify({ auth: { token: PH } }), 200],
    ['named body slot (form)', `${origin('field.example')}/api/x`, [['Content-Type', 'application/x-www-form-urlencoded']], `token=${PH}&text=hello`, 200],
    ['named body slot, and in another field', `${origin('field.example')}/api/x`, [['Content-Type', 'application/json']], JSON.stringify({ token: PH, files: { 'a.txt': { content: PH } } }), 403],
    ['named body slot, inside text of its field', `${origin('field.example')}/api/x`, [['Content-Type', 'application/json']], JSON.stringify({ token: `key: ${PH}` }), 403],
    ['named body slot, only in another field', `${origin('field.example')}/api/x`, [['Content-Type', 'application/x-www-form-urlencoded']], `text=${PH}`, 403],
    ['named body slot, in a form field and the text', `${origin('field.example')}/api/x`, [['Content-Type', 'application/x-www-form-urlencoded']], `token=${PH}&text=my%20key%20${PH}`, 403],
    ['named body slot, in a key', `${origin('field.example')}/api/x`, [['Content-Type', 'application/json']], JSON.stringify({ token: PH, [PH]: 1 }), 403],
    ['named body slot, a plain-text body', `${origin('field.example')}/api/x`, [['Content-Type', 'text/plain']], `token=${PH}`, 403],
    // Twenty-second pass: a body the slot's reading takes for a form while it is JSON to a server that
    // reads JSON whatever the type says (Go's json.Decoder, GitHub's API): the value would land in `note`.
    ['named body slot, a form that is JSON', `${origin('field.example')}/api/x`, [['Content-Type', 'application/x-www-form-urlencoded']], `{"note": "x&token=${PH}&"}`, 403],
    ['named body slot, a form that is JSON, untyped', `${origin('field.example')}/api/x`, [], `{"note": "x&token=${PH}&"}`, 403],
    ['named body slot, base64 of it elsewhere', `${origin('field.example')}/api/x`, [['Content-Type', 'application/json']], JSON.stringify({ token: PH, note: Buffer.from(PH).toString('base64') }), 403],
  ];
  for (const [label, url, headers, body, status] of cases) {
    const host = new URL(url).hostname;
    const before = service.log(host).length;
    const r = await send(url, { method: body ? 'POST' : 'GET', headers, ...(body ? { body } : {}) });
    t.equal(r.status, status, `${label}: ${status}`);
    if (status !== 200) {
      t.equal(service.log(host).length, before, `${label}: nothing reached the service`);
      continue;
    }
    const got = service.log(host).at(-1)!;
    const text = JSON.stringify(got);
    t.ok(text.includes(JSON.stringify(SECRET).slice(1, -1)) || text.includes(Buffer.from(`user:${SECRET}`).toString('base64')) || text.includes(encodeURIComponent(SECRET)), `${label}: the slot got the value`);
    t.notOk(text.includes(PH), `${label}: no placeholder left`);
    t.equal(reveal(seenBy(r), SECRET), undefined, `${label}: the answer is scrubbed`);
  }
});

// ─── class 2(b): every answer from a host that got a secret is scrubbed ──────────────────────────

const RANGES = ['none', 'single', 'suffix', 'open', 'several', 'if-range', 'if-range-stale', 'odd-spelling'] as const;
const readBack = fc.record({
  host: fc.constantFrom('svc.example', 'basic.example', 'query.example'),
  format: fc.constantFrom(...formats),
  only: fc.boolean(),
  charset: fc.constantFrom(...charsets),
  how: fc.constantFrom('accept-charset', 'accept-charset', 'forced', 'none'),
  bom: fc.boolean(),
  label: fc.boolean(),
  range: fc.constantFrom(...RANGES),
  size: fc.integer({ min: 3, max: 24 }),
});

/** Reads a host's record the way the sample says; returns all the bytes the agent got. */
async function readRecord(s: typeof readBack extends fc.Arbitrary<infer R> ? R : never): Promise<{ seen: Buffer; statuses: number[] }> {
  const q = new URLSearchParams({ format: s.format });
  if (s.only) q.set('only', 'authorization');
  if (s.how === 'forced') q.set('charset', s.charset);
  // Unlabelled text only with a BOM (an honest server says what it sends, one way or the other).
  const wide = /^utf-(16|32)/.test(s.charset) || s.charset === 'utf-7';
  if (s.bom) q.set('bom', '1');
  if (!s.label && s.bom && wide) q.set('label', '0');
  const url = `${origin(s.host)}/log?${q}`;
  const headers: Array<[string, string]> = s.how === 'accept-charset' ? [['Accept-Charset', `${s.charset}, utf-8;q=0.1`]] : [];
  const seen: Buffer[] = [];
  const statuses: number[] = [];
  if (s.range === 'none') {
    const r = await send(url, { headers });
    return { seen: seenBy(r), statuses: [r.status] };
  }
  // Read it in pieces, as long as the server keeps answering with pieces (bounded).
  const probe = await send(url, { headers });
  const etag = String(probe.headers.etag ?? '');
  seen.push(seenBy(probe));
  statuses.push(probe.status);
  for (let start = 0, i = 0; i < 60; i++, start += s.size) {
    const end = start + s.size - 1;
    const spec = { single: `bytes=${start}-${end}`, suffix: `bytes=-${s.size * (i + 1)}`, open: `bytes=${start}-`, several: `bytes=${start}-${end},${end + 1}-${end + s.size},${end + s.size + 1}-${end + 2 * s.size}`, 'if-range': `bytes=${start}-${end}`, 'if-range-stale': `bytes=${start}-${end}`, 'odd-spelling': `BYTES = ${start} - ${end}` }[s.range];
    const h: Array<[string, string]> = [...headers, [i % 2 ? 'Range' : 'range', spec]];
    if (s.range === 'if-range') h.push(['If-Range', etag]);
    if (s.range === 'if-range-stale') h.push(['If-Range', '"stale"']);
    const r = await send(url, { headers: h });
    seen.push(seenBy(r));
    statuses.push(r.status);
    if (r.status !== 206) break;
    if (s.range === 'several') start += 2 * s.size;
  }
  return { seen: Buffer.concat(seen), statuses };
}

t.test('2(b): reading the record back — any representation, charset or range — never shows the value', async (t) => {
  for (const h of ['svc.example', 'basic.example', 'query.example']) {
    const url = h === 'query.example' ? `${origin(h)}/api/x?key=${PH}` : `${origin(h)}/api/x`;
    const auth: Array<[string, string]> = h === 'svc.example' ? [['Authorization', `Bearer ${PH}`]] : h === 'basic.example' ? [['Authorization', `Basic ${Buffer.from(`user:${PH}`).toString('base64')}`]] : [];
    t.equal((await send(url, { headers: auth })).status, 200, `${h}: a credential was injected there`);
  }
  await fc.assert(fc.asyncProperty(readBack, async (s) => {
    const { seen, statuses } = await readRecord(s);
    const found = reveal(seen, SECRET);
    if (found) throw new Error(`read back from ${s.host} as ${s.format}${s.only ? ' (authorization only)' : ''} in ${s.charset} (${s.how}${s.bom ? ', BOM' : ''}), ranges ${s.range}/${s.size}: statuses ${statuses.join(',')}; the value is readable (${found})`);
    if (statuses.includes(206)) throw new Error(`a 206 reached the agent from ${s.host} (${s.range})`);
  }), { numRuns, ...seed });
});

// Eighth pass: a service that shows what it recorded transformed — upper- or lower-cased, every
// character a CSS escape, base32, percent-encoded twice, bytes as decimal numbers — and a long credential (an AWS session token) shown wrapped
// (MIME base64, quoted-printable), hex-encoded or escaped, which was matched whole and canonical only.
t.test('2(b): the record shown case-changed, CSS-escaped, in base32 or percent-encoded twice, and a long credential in any representation', async (t) => {
  await inject();
  const transformed = fc.record({ format: fc.constantFrom('upper', 'lower', 'css', 'base32', 'percent-twice', 'node-buffer', 'go-bytes', 'wrapped', 'node-buffer-pretty', 'typed-array', 'inspect', 'c-array', 'html-padded', 'js-padded', 'java-chars', 'python-chars') as fc.Arbitrary<typeof formats[number]>, only: fc.boolean(), charset: fc.constantFrom<Charset>('utf-8', 'utf-16le', 'iso-8859-1') });
  await fc.assert(fc.asyncProperty(transformed, async ({ format, only, charset }) => {
    const seen = (await readRecord({ host: 'svc.example', format, only, charset, how: 'forced', bom: false, label: true, range: 'none', size: 3 })).seen;
    const found = reveal(seen, SECRET);
    if (found) throw new Error(`the record shown as ${format} (${charset}) reveals the value (${found})`);
  }), { numRuns: Math.min(numRuns, 16), ...seed });
  // Tenth pass: the value broken by a line break (and the next line's indentation) was not matched.
  for (const charset of ['utf-8', 'utf-16le'] as const) {
    const seen = (await readRecord({ host: 'svc.example', format: 'wrapped', only: false, charset, how: 'forced', bom: false, label: true, range: 'none', size: 3 })).seen;
    t.notOk(reveal(seen, SECRET), `the record wrapped to a narrow column (${charset}) does not show the value`);
  }
  const r = await send(`${origin('long.example')}/api/x`);
  t.equal(r.status, 200, 'the long credential was injected');
  t.equal(service.log('long.example').at(-1)?.headers.find(([k]) => k.toLowerCase() === 'x-amz-security-token')?.[1], LONG, 'the service recorded it');
  await fc.assert(fc.asyncProperty(fc.constantFrom(...formats), fc.boolean(), async (format, only) => {
    const q = new URLSearchParams({ format, ...(only ? { only: 'x-amz-security-token' } : {}) });
    const seen = seenBy(await send(`${origin('long.example')}/log?${q}`));
    for (const [what, part] of [['the value', LONG], ['its first 64 bytes', LONG.slice(0, 64)], ['its last 64 bytes', LONG.slice(-64)]] as const) {
      const found = reveal(seen, part);
      if (found) throw new Error(`the long credential shown as ${format}${only ? ' (that header only)' : ''}: ${what} readable (${found})`);
    }
  }), { numRuns: Math.min(numRuns, 16), ...seed });
});

// Fourteenth pass: the record reversed, in ROT13 or ROT47, in base85 (Ascii85, Z85, RFC 1924) or
// in base32 in lower case or the extended-hex alphabet: exact strings no spelling matched (tried
// as literals and anchors in the twelfth and thirteenth passes and left for their cost); now found
// by sampling (proxy/sampled-forms.ts). Each form on each host (the Basic pair and the query value
// are forms of their own), in UTF-8 and UTF-16.
t.test('2(b): the record reversed, rotated, in base85 or in lower-case or extended-hex base32 never shows the value', async (t) => {
  for (const h of ['svc.example', 'basic.example', 'query.example']) {
    const url = h === 'query.example' ? `${origin(h)}/api/x?key=${PH}` : `${origin(h)}/api/x`;
    const auth: Array<[string, string]> = h === 'svc.example' ? [['Authorization', `Bearer ${PH}`]] : h === 'basic.example' ? [['Authorization', `Basic ${Buffer.from(`user:${PH}`).toString('base64')}`]] : [];
    t.equal((await send(url, { headers: auth })).status, 200, `${h}: a credential was injected there`);
  }
  const ciphered = ['reversed', 'rot13', 'rot47', 'ascii85', 'z85', 'base85', 'base32-lower', 'base32hex', 'base32hex-lower'] as const;
  const hosts = ['svc.example', 'basic.example', 'query.example'] as const;
  for (const [i, format] of ciphered.entries()) {
    for (const host of i % 3 ? ['svc.example'] as const : ['svc.example', hosts[1 + ((i / 3) % 2)]!] as const) {
      const { seen, statuses } = await readRecord({ host, format, only: false, charset: 'utf-8', how: 'forced', bom: false, label: true, range: 'none', size: 3 });
      // The transform undone first, then read as deep as any record (the Basic pair's base64 and the query's percent-encoding under it).
      const found = reveal(seen, SECRET) ?? (host === 'svc.example' ? undefined : ciphers(seen.toString('latin1')).whole.map((c) => reveal(c, SECRET)).find(Boolean));
      t.notOk(found, `the record of ${host} as ${format} does not show the value (status ${statuses.join(',')})`);
    }
  }
});

// Nineteenth pass: the record shown grouped by fours, Caesar-shifted, mirrored (Atbash), coloured a
// character at a time (lolcat) or as a stylesheet of full-width letters in CSS escapes: each
// undone by the oracle a reader would apply (join the groups, shift back, strip the colours, decode
// the escapes and read them under NFKC).
t.test('2(b) nineteenth pass: the record grouped, Caesar-shifted, mirrored, coloured a character at a time or as full-width CSS escapes never shows the value', async (t) => {
  await inject();
  const undo: Record<string, (x: string) => string> = {
    grouped: (x) => x.replace(/-/g, ''),
    caesar3: (x) => x.replace(/[a-z]/gi, (c) => String.fromCharCode(((c.toLowerCase().charCodeAt(0) - 97 + 23) % 26) + (c <= 'Z' ? 65 : 97))),
    atbash: (x) => x.replace(/[a-z]/gi, (c) => String.fromCharCode((c <= 'Z' ? 155 : 219) - c.charCodeAt(0))),
    lolcat: (x) => x.replace(/\x1b\[[0-9;]*m/g, ''),
    'css-fullwidth': (x) => x.replace(/\\([0-9a-fA-F]{1,6}) ?/g, (_, h: string) => String.fromCodePoint(parseInt(h, 16))).normalize('NFKC'),
  };
  for (const format of ['grouped', 'caesar3', 'atbash', 'lolcat', 'css-fullwidth'] as const) {
    const { seen, statuses } = await readRecord({ host: 'svc.example', format, only: false, charset: 'utf-8', how: 'none', bom: false, label: true, range: 'none', size: 3 });
    const read = undo[format]!(seen.toString('utf8'));
    t.notOk(read.includes(SECRET.slice(0, 24)), `the record as ${format} does not show the value (status ${statuses.join(',')})`);
    t.ok(seen.toString('utf8').includes(PH), `the record as ${format} shows the placeholder`);
  }
});

// Twentieth pass: the record grouped by threes, in 24-bit colour a character at a time, overstruck
// as a man page's bold, or cut short at 30 characters: each undone by what a reader does (join the
// groups, strip the colours, let the terminal overstrike; the start it shows is most of the key).
t.test('2(b) twentieth pass: the record grouped by threes, in 24-bit colour, overstruck or cut short never shows the value', async (t) => {
  await inject();
  const undo: Record<string, (x: string) => string> = {
    grouped3: (x) => x.replace(/\./g, ''),
    truecolor: (x) => x.replace(/\x1b\[[0-9;:?]*[@-~]/g, ''),
    'man-bold': (x) => x.replace(/[^\x08]\x08/g, ''),
    truncated: (x) => x,
  };
  for (const format of ['grouped3', 'truecolor', 'man-bold', 'truncated'] as const) {
    const { seen, statuses } = await readRecord({ host: 'svc.example', format, only: false, charset: 'utf-8', how: 'none', bom: false, label: true, range: 'none', size: 3 });
    const read = undo[format]!(seen.toString('utf8'));
    t.notOk(read.includes(SECRET.slice(0, 24)), `the record as ${format} does not show the value (status ${statuses.join(',')})`);
    t.ok(undo[format]!(seen.toString('utf8')).includes(PH), `the record as ${format} shows the placeholder`);
  }
});

// Twenty-first pass (left open by the twentieth): the record with long tokens shown by their end, and as a hex dump
// (`…` and the last 30 characters): the key without its public prefix is the whole secret.
t.test('2(b) twenty-first pass: the record showing long tokens by their end, or as a hex dump, never shows half the secret in a row', async (t) => {
  await inject();
  const { seen, statuses } = await readRecord({ host: 'svc.example', format: 'key-end', only: false, charset: 'utf-8', how: 'none', bom: false, label: true, range: 'none', size: 3 });
  const text = seen.toString('utf8');
  const least = Math.max(12, Math.min(24, Math.ceil((SECRET.length - 8) / 2)));
  const run = Array.from({ length: SECRET.length - 8 - least + 1 }, (_, i) => SECRET.slice(8 + i, 8 + i + least)).find((r) => text.includes(r));
  t.notOk(run, `the record by its tokens' ends shows no ${least} characters of the secret in a row (status ${statuses.join(',')})`);
  t.ok(text.includes(PH), 'it shows the placeholder');
  // A hex dump of the record (`xxd`): its hex read back joined over lines, as `xxd -r` does.
  const dumped = (await readRecord({ host: 'svc.example', format: 'xxd', only: false, charset: 'utf-8', how: 'none', bom: false, label: true, range: 'none', size: 3 })).seen.toString('latin1');
  const hex = dumped.split('\n').map((l) => (/^[0-9a-f]{8}: (.{0,39})/.exec(l)?.[1] ?? '').replace(/[^0-9a-f]/g, '')).join('');
  t.notOk(Buffer.from(hex, 'hex').toString('latin1').includes(SECRET.slice(8, 8 + least)), 'the record as a hex dump: its hex does not read as the secret');
  t.ok(dumped.includes(PH), 'it shows the placeholder');
});

// Twenty-third pass (follow-up): the record's long tokens a character per labelled row — a
// Markdown table with row numbers, an array of `{"i":…,"c":…}`, CSV — read back by taking the
// column of characters: no 8 characters of the secret in a row reach the reader.
t.test('2(b) twenty-third pass (follow-up): the record a character per labelled row (Markdown, JSON rows, CSV) never shows 8 characters of the value in its column', async (t) => {
  await inject();
  const column: Record<string, (x: string) => string> = {
    'rows-md': (x) => [...x.matchAll(/^\| \d+ \| (.*) \|$/gm)].map((m) => m[1]).join(''),
    'rows-json': (x) => [...x.matchAll(/"c":"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string).join(''),
    'rows-csv': (x) => [...x.matchAll(/^\d+,(.*)\r$/gm)].map((m) => m[1]).join(''),
  };
  for (const format of ['rows-md', 'rows-json', 'rows-csv'] as const) {
    const { seen, statuses } = await readRecord({ host: 'svc.example', format, only: false, charset: 'utf-8', how: 'none', bom: false, label: true, range: 'none', size: 3 });
    const read = column[format]!(seen.toString('utf8'));
    const run = Array.from({ length: SECRET.length - 7 }, (_, i) => SECRET.slice(i, i + 8)).find((r) => read.includes(r));
    t.notOk(run, `the record as ${format}: its column shows no 8 characters of the secret in a row (status ${statuses.join(',')}; ${JSON.stringify(run)})`);
  }
});

// Twenty-fourth pass: the record's long tokens in tag characters or Braille dots of their bytes, and
// its digits as a Persian-localized page writes them: each undone as a reader does (a model reads
// tag characters; subtract the block's start; `int()` reads Persian digits).
t.test('2(b) twenty-fourth pass: the record in tag characters, Braille dots or Persian digits never shows the value', async (t) => {
  await inject();
  const undo = (x: string): string => [...x].map((c) => {
    const cp = c.codePointAt(0)!;
    return cp >= 0xe0020 && cp <= 0xe007e ? String.fromCharCode(cp - 0xe0000) : cp >= 0x2820 && cp <= 0x287e ? String.fromCharCode(cp - 0x2800) : cp >= 0x6f0 && cp <= 0x6f9 ? String(cp - 0x6f0) : c;
  }).join('');
  for (const format of ['tags', 'braille', 'digits-fa'] as const) {
    const { seen, statuses } = await readRecord({ host: 'svc.example', format, only: false, charset: 'utf-8', how: 'none', bom: false, label: true, range: 'none', size: 3 });
    const read = undo(seen.toString('utf8'));
    // As for the key's end shown alone (twenty-first pass): no run of half its rest past the public prefix.
    const least = Math.max(12, Math.min(24, Math.ceil((SECRET.length - 8) / 2)));
    const run = Array.from({ length: SECRET.length - least + 1 }, (_, i) => SECRET.slice(i, i + least)).find((r) => read.includes(r));
    t.notOk(run, `the record as ${format} shows no ${least} characters of the value in a row (status ${statuses.join(',')}; ${JSON.stringify(run)})`);
    t.ok(read.includes(PH), `the record as ${format} shows the placeholder`);
  }
});

// Twenty-fifth pass: the record's long tokens as regional indicators (zero-width spaces between),
// reversed and ROT13'd, and a character per row of a 12-column CSV: each undone as a reader does.
t.test('2(b) twenty-fifth pass: the record as regional indicators, reversed ROT13 or a wide CSV never shows the value', async (t) => {
  await inject();
  const rot13 = (x: string): string => x.replace(/[a-z]/gi, (c) => String.fromCharCode(((c.toLowerCase().charCodeAt(0) - 97 + 13) % 26) + (c <= 'Z' ? 65 : 97)));
  const undo: Record<string, (x: string) => string> = {
    regional: (x) => [...x].map((c) => (c.codePointAt(0)! >= 0x1f1e6 && c.codePointAt(0)! <= 0x1f1ff ? String.fromCharCode(c.codePointAt(0)! - 0x1f1e6 + 65) : c === '\u200b' ? '' : c)).join('').toLowerCase(),
    'rev-rot13': (x) => [...rot13(x)].reverse().join(''),
    'rows-wide': (x) => [...x.matchAll(/^\d+,(?:[^,\r\n]*,){10}(.*)\r$/gm)].map((m) => m[1]).join(''),
  };
  for (const format of ['regional', 'rev-rot13', 'rows-wide'] as const) {
    const { seen, statuses } = await readRecord({ host: 'svc.example', format, only: false, charset: 'utf-8', how: 'none', bom: false, label: true, range: 'none', size: 3 });
    const read = undo[format]!(seen.toString('utf8'));
    const secret = format === 'regional' ? SECRET.toLowerCase() : SECRET;
    // As for the key's end shown alone (twenty-first pass): no run of half its rest past the public prefix (8 in a column).
    const least = format === 'rows-wide' ? 8 : Math.max(12, Math.min(24, Math.ceil((SECRET.length - 8) / 2)));
    const run = Array.from({ length: secret.length - least + 1 }, (_, i) => secret.slice(i, i + least)).find((r) => read.includes(r));
    t.notOk(run, `the record as ${format} shows no ${least} characters of the value in a row (status ${statuses.join(',')}; ${JSON.stringify(run)})`);
    if (format !== 'rows-wide') t.ok(undo[format]!(seen.toString('utf8')).includes(format === 'regional' ? PH.toLowerCase() : PH) || seen.toString('utf8').includes(PH), `the record as ${format} shows the placeholder`);
  }
});

// Twenty-sixth pass: the record as a JWT's claims escaped by PHP's or Go's JSON, as base64 of a
// query string, its long tokens in small capitals, shifted 7 and upper-cased, in enclosed letters
// and digits, or as a list of `0b` numbers: each undone as a reader does.
t.test('2(b) twenty-sixth pass: the record in escaped JWT claims, a base64 query, small capitals, an upper-cased shift, enclosed letters or binary numbers never shows the value', async (t) => {
  await inject();
  const claims = (x: string): string => [...x.matchAll(/eyJ[A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)\./g)].map((m) => Buffer.from(m[1]!, 'base64url').toString('utf8').replace(/\\u([0-9a-f]{4})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))).replace(/\\\//g, '/')).join('\n');
  const small = [...'ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘǫʀꜱᴛᴜᴠᴡʏᴢ'];
  const undo: Record<string, (x: string) => string> = {
    'jwt-php': claims,
    'jwt-go': claims,
    'state-query': (x) => [...new URLSearchParams(Buffer.from(x.trim(), 'base64').toString('utf8')).values()].join('\n'),
    'small-caps': (x) => [...x].map((c) => (small.includes(c) ? 'abcdefghijklmnopqrstuvwyz'[small.indexOf(c)]! : c)).join('').toLowerCase(),
    'caesar7-upper': (x) => x.replace(/[A-Z]/g, (c) => String.fromCharCode(((c.charCodeAt(0) - 65 + 19) % 26) + 97)).toLowerCase(),
    enclosed: (x) => [...x].map((c) => {
      const cp = c.codePointAt(0)!;
      return cp >= 0x249c && cp <= 0x24b5 ? String.fromCharCode(cp - 0x249c + 97) : cp >= 0x1f110 && cp <= 0x1f129 ? String.fromCharCode(cp - 0x1f110 + 65) : cp >= 0x2776 && cp <= 0x277e ? String(cp - 0x2776 + 1) : c;
    }).join(''),
    'bin-list': (x) => Buffer.from([...x.matchAll(/0b([01]+)/g)].map((m) => parseInt(m[1]!, 2))).toString('latin1'),
  };
  for (const format of Object.keys(undo) as Array<typeof formats[number]>) {
    const { seen, statuses } = await readRecord({ host: 'svc.example', format, only: false, charset: 'utf-8', how: 'none', bom: false, label: true, range: 'none', size: 3 });
    const read = undo[format]!(seen.toString('utf8'));
    const lossy = format === 'small-caps' || format === 'caesar7-upper';
    const secret = lossy ? SECRET.toLowerCase() : SECRET;
    const least = Math.max(12, Math.min(24, Math.ceil((SECRET.length - 8) / 2)));
    const run = Array.from({ length: secret.length - least + 1 }, (_, i) => secret.slice(i, i + least)).find((r) => read.includes(r));
    t.notOk(run, `the record as ${format} shows no ${least} characters of the value in a row (status ${statuses.join(',')}; ${JSON.stringify(run)})`);
  }
});

// Twenty-seventh pass: the record in base64 of other alphabets (crypt's and bcrypt's `./`,
// xxencode's, BinHex's), in crypt's little-endian packing (SHA-crypt, phpass, passlib's h64), in
// Base45 (RFC 9285), as an RTF export (`\'hh` or `\uN?` escapes, also inside a JSON string) and in
// TeX's escapes (`^^hh`, `\char N`, `\symbol{N}`), zlib at level 9 in base64 in a JSON field
// (`"eN…"`) or as a Helm release in a Kubernetes Secret (base64 of base64 of gzip), a macro's
// `Chr(115) & …` and Java's `\uuu0073`: each undone as its reader does, at each alignment.
t.test('2(b) twenty-seventh pass: the record in crypt, bcrypt, xxencode, BinHex or Base45 alphabets, an RTF export, TeX escapes or zlib in base64 never shows the value', async (t) => {
  await inject();
  const fromAlphabet = (alphabet: string) => (x: string): string => Array.from({ length: 4 }, (_, k) => Buffer.from([...x.slice(k)].map((c) => ALPHABETS64.std[alphabet.indexOf(c)] ?? '').join(''), 'base64').toString('latin1')).join('\n');
  const fromH64 = (x: string): string => Array.from({ length: 4 }, (_, k) => {
    const out: number[] = [];
    const six = [...x.slice(k)].map((c) => ALPHABETS64.crypt.indexOf(c)).filter((v) => v >= 0);
    for (let i = 0; i + 4 <= six.length; i += 4) {
      const v = six[i]! | (six[i + 1]! << 6) | (six[i + 2]! << 12) | (six[i + 3]! << 18);
      out.push(v & 255, (v >> 8) & 255, (v >> 16) & 255);
    }
    return Buffer.from(out).toString('latin1');
  }).join('\n');
  const fromBase45 = (x: string): string => Array.from({ length: 3 }, (_, k) => {
    const out: number[] = [];
    const d = [...x.slice(k)].map((c) => BASE45.indexOf(c));
    for (let i = 0; i + 3 <= d.length; i += 3) {
      const n = d[i]! + d[i + 1]! * 45 + d[i + 2]! * 2025;
      if (d[i]! >= 0 && d[i + 1]! >= 0 && d[i + 2]! >= 0 && n < 65536) out.push(n >> 8, n & 255);
    }
    return Buffer.from(out).toString('latin1');
  }).join('\n');
  const fromRtf = (x: string): string => Buffer.from(x.replace(/\r\n/g, '').replace(/\\'([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))).replace(/\\u(\d+) ?\??/g, (_, n: string) => String.fromCodePoint(Number(n))), 'latin1').toString('utf8');
  const undo: Record<string, (x: string) => string> = {
    bcrypt64: fromAlphabet(ALPHABETS64.bcrypt),
    crypt64: fromAlphabet(ALPHABETS64.crypt),
    xxencode: fromAlphabet(ALPHABETS64.xxencode),
    binhex: fromAlphabet(ALPHABETS64.binhex),
    h64: fromH64,
    base45: fromBase45,
    'rtf-hex': fromRtf,
    'rtf-u': fromRtf,
    // The document as the JSON string holds it: its backslashes doubled, its line breaks `\r\n`.
    'rtf-json': (x) => fromRtf(x.replace(/\\r\\n/g, '').replace(/\\\\/g, '\\')),
    'zlib-field': (x) => [...x.matchAll(/"export":"([A-Za-z0-9+/=]+)/g)].map((m) => {
      try { return zlib.inflateSync(Buffer.from(m[1]!, 'base64'), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString('latin1'); } catch { return ''; }
    }).join('\n'),
    'helm-secret': (x) => [...x.matchAll(/"release":"([A-Za-z0-9+/=]+)/g)].map((m) => {
      try { return zlib.gunzipSync(Buffer.from(Buffer.from(m[1]!, 'base64').toString('latin1'), 'base64'), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString('latin1'); } catch { return ''; }
    }).join('\n'),
    'vb-chr': (x) => x.replace(/Chr\((\d+)\)(?: & )?/g, (_, n: string) => String.fromCharCode(Number(n))),
    'java-uuu': (x) => x.replace(/\\u+([0-9a-f]{4})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
    tex: (x) => x.replace(/\^\^([0-9a-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))).replace(/\\char(\d+) ?/g, (_, n: string) => String.fromCharCode(Number(n))).replace(/\\symbol\{(\d+)\}/g, (_, n: string) => String.fromCharCode(Number(n))),
  };
  for (const format of Object.keys(undo) as Array<typeof formats[number]>) {
    const { seen, statuses } = await readRecord({ host: 'svc.example', format, only: false, charset: 'utf-8', how: 'none', bom: false, label: true, range: 'none', size: 3 });
    const read = undo[format]!(seen.toString('latin1'));
    const least = Math.max(12, Math.min(24, Math.ceil((SECRET.length - 8) / 2)));
    const run = Array.from({ length: SECRET.length - least + 1 }, (_, i) => SECRET.slice(i, i + least)).find((r) => read.includes(r));
    t.notOk(run, `the record as ${format} shows no ${least} characters of the value in a row (status ${statuses.join(',')}; ${JSON.stringify(run)})`);
  }
});

// Twenty-eighth pass (left open since the twenty-sixth): the record spelt out — in Morse code, in the
// NATO alphabet, or as Python's `\N{…}` character names. Morse and the NATO words carry no case (a
// reader tries the cases, or the service takes the key in any): read back case-folded.
t.test('2(b) twenty-eighth pass: the record in Morse code, the NATO alphabet or Python\'s \\N{} names, base64 three deep, hex in base64 or ROT13 of base64 never shows the value', async (t) => {
  await inject();
  const fromMorse = Object.fromEntries(Object.entries(MORSE).map(([c, code]) => [code, c]));
  const fromNato = Object.fromEntries(Object.entries(NATO).map(([c, word]) => [word.toLowerCase(), c]));
  const names = (x: string): string => x.replace(/\\N\{([A-Z -]+)\}/g, (_, n: string) => {
    const m = /^(?:LATIN (?:SMALL|CAPITAL) LETTER|DIGIT) (.+)$/.exec(n);
    if (!m) return ({ 'LOW LINE': '_', SOLIDUS: '/', 'PLUS SIGN': '+', 'EQUALS SIGN': '=', AMPERSAND: '&', 'LESS-THAN SIGN': '<', 'GREATER-THAN SIGN': '>', 'PERCENT SIGN': '%', TILDE: '~', 'HYPHEN-MINUS': '-', 'FULL STOP': '.', COLON: ':' } as Record<string, string>)[n] ?? '';
    const digit = 'ZERO ONE TWO THREE FOUR FIVE SIX SEVEN EIGHT NINE'.split(' ').indexOf(m[1]!);
    return digit >= 0 ? String(digit) : n.includes('SMALL') ? m[1]!.toLowerCase() : m[1]!;
  });
  /** The export's `data` field, as the record's reader takes it out. */
  const field = (x: string): string => /"data":"([^"]*)"/.exec(x)?.[1] ?? '';
  const undo: Record<string, (x: string) => string> = {
    morse: (x) => x.replace(/[.-]+(?: [.-]+| \?)*/g, (run) => run.split(' ').map((code) => fromMorse[code] ?? '').join('')),
    nato: (x) => x.replace(/(?:(?:capital )?[A-Za-z-]+(?:, |(?=[ "])))+/g, (run) => run.split(', ').map((w) => fromNato[w.replace(/^capital /, '').trim().toLowerCase()] ?? w.trim()).join('')),
    'py-names': names,
    'base64-thrice': (x) => [0, 1, 2].reduce((t) => Buffer.from(t, 'base64').toString('latin1'), field(x)),
    'hex-base64': (x) => Buffer.from(Buffer.from(field(x), 'base64').toString('latin1'), 'hex').toString('latin1'),
    'rot13-base64': (x) => Buffer.from(field(x).replace(/[A-Za-z]/g, (c) => String.fromCharCode(((c.charCodeAt(0) - (c <= 'Z' ? 65 : 97) + 13) % 26) + (c <= 'Z' ? 65 : 97))), 'base64').toString('latin1'),
  };
  for (const format of Object.keys(undo) as Array<typeof formats[number]>) {
    const { seen, statuses } = await readRecord({ host: 'svc.example', format, only: false, charset: 'utf-8', how: 'none', bom: false, label: true, range: 'none', size: 3 });
    const read = undo[format]!(seen.toString('latin1')).toLowerCase();
    const least = Math.max(12, Math.min(24, Math.ceil((SECRET.length - 8) / 2)));
    // Letters and digits only: a mark Morse has no code for is `?` there.
    const key = SECRET.toLowerCase().replace(/[^a-z0-9]/g, '');
    const run = Array.from({ length: key.length - least + 1 }, (_, i) => key.slice(i, i + least)).find((r) => read.replace(/[^a-z0-9]/g, '').includes(r));
    t.notOk(run, `the record as ${format} shows no ${least} letters and digits of the value in a row (status ${statuses.join(',')}; ${JSON.stringify(run)})`);
  }
});

// Eighth pass: an HTML page labelled only by a <meta charset> past the first 1,024 bytes (which
// was all the sniffer read), in a charset the scrubber cannot read — Beautiful Soup looks 2,048
// bytes or 5% of the page far, libxml2 anywhere in the head.
// Twenty-first pass (follow-up): the placeholder substituted, as ASCII, into a multipart field the
// server decodes in another charset (the part's own, the form's `_charset_` field, the request's
// `charset`: RFC 7578 §4.6, Jetty): the service stores the value as other text (UTF-16 read of its
// bytes: CJK), which no scrubber of the record matches, and the agent encodes it back.
t.test('2(b): the value injected into a multipart field a server decodes in UTF-16 or EBCDIC is never readable back', async (t) => {
  const B = 'rb-form';
  const field = (head: string): string => `--${B}\r\nContent-Disposition: form-data; name="note"\r\n${head}\r\n${PH}\r\n`;
  const charsetField = (cs: string): string => `--${B}\r\nContent-Disposition: form-data; name="_charset_"\r\n\r\n${cs}\r\n`;
  const shapes: Record<string, (cs: string) => { type: string; body: string }> = {
    '_charset_ field': (cs) => ({ type: `multipart/form-data; boundary=${B}`, body: `${charsetField(cs)}${field('')}--${B}--\r\n` }),
    '_charset_ field last': (cs) => ({ type: `multipart/form-data; boundary=${B}`, body: `${field('')}${charsetField(cs)}--${B}--\r\n` }),
    'top-level charset': (cs) => ({ type: `multipart/form-data; boundary=${B}; charset=${cs}`, body: `${field('')}--${B}--\r\n` }),
    "the part's own charset": (cs) => ({ type: `multipart/form-data; boundary=${B}`, body: `${field(`Content-Type: text/plain; charset=${cs}\r\n`)}--${B}--\r\n` }),
  };
  await fc.assert(fc.asyncProperty(fc.constantFrom(...Object.keys(shapes)), fc.constantFrom('utf-16le', 'utf-16be', 'utf-16', 'cp037', 'utf-7'), async (shape, cs) => {
    const f = shapes[shape]!(cs);
    const sent = await send(`${origin('body.example')}/api/form`, { method: 'POST', headers: [['Content-Type', f.type]], body: f.body });
    const back = (await send(`${origin('body.example')}/log`)).body.toString('utf8');
    const wide = Buffer.from(back, 'utf16le');
    const found = reveal(Buffer.concat([wide, Buffer.from(wide).swap16()]), SECRET);
    if (found) throw new Error(`the value injected under ${shape} = ${cs} (${sent.status}) is read back as UTF-16 (${found})`);
    if (sent.status < 400) throw new Error(`the placeholder substituted into a field read in ${cs} (${shape}) was sent: ${sent.status}`);
  }), { numRuns: Math.max(12, Math.ceil(numRuns / 2)), ...seed });
  // Controls: the same forms in UTF-8 are injected as before.
  for (const cs of ['UTF-8', 'iso-8859-1']) {
    const f = shapes['_charset_ field']!(cs);
    const r = await send(`${origin('body.example')}/api/form`, { method: 'POST', headers: [['Content-Type', f.type]], body: f.body });
    t.equal(r.status, 200, `control: the placeholder in a form under _charset_=${cs} is injected`);
  }
});

t.test('2(b): a page declaring UTF-7 in a late <meta> never shows the value', async (t) => {
  await inject();
  const late = fc.record({ charset: fc.constant<Charset>('utf-7'), at: fc.constantFrom(0, 1100, 1500, 1900, 3000, 20_000, 70_000) });
  await fc.assert(fc.asyncProperty(late, async ({ charset, at }) => {
    const r = await send(`${origin('svc.example')}/log?only=authorization&charset=${charset}&meta=${at}`);
    const spelled = transcode(SECRET.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'), charset, false);
    if (r.body.includes(spelled)) throw new Error(`a page in ${charset} declared by a <meta> after ${at} bytes reached the agent with the value (status ${r.status})`);
    if (r.status === 200 && !r.broken) throw new Error(`a page in ${charset} declared by a <meta> after ${at} bytes passed whole`);
  }), { numRuns: Math.min(numRuns, 12), ...seed });
});

// Eighth pass: a multipart answer (or a message/rfc822 export) whose part declares UTF-7 or EBCDIC;
// only the envelope's Content-Type was checked.
t.test('2(b): a multipart or message answer with a part in UTF-7 or EBCDIC never shows the value', async (t) => {
  await inject();
  const parts = fc.record({ charset: fc.constantFrom<Charset>('utf-7', 'ibm037'), part: fc.constantFrom('multipart/mixed', 'multipart/related', 'multipart/alternative', 'message/rfc822') });
  await fc.assert(fc.asyncProperty(parts, async ({ charset, part }) => {
    const r = await send(`${origin('svc.example')}/log?only=authorization&charset=${charset}&part=${encodeURIComponent(part)}`);
    if (r.body.includes(transcode(SECRET, charset, false))) throw new Error(`a ${part} answer with a part in ${charset} reached the agent with the value (status ${r.status})`);
  }), { numRuns: Math.min(numRuns, 8), ...seed });
});

// Twenty-ninth pass: a message export (`message/rfc822`: an `.eml` download, a mail catcher's raw
// message) whose Subject is the record as MIME encoded-words, B or Q, split every few bytes: a
// reader joins words side by side (RFC 2047 §6.2; Python's email package under its default policy,
// read here as the agent would), and no word held a spelling of the key. A head's runs were read;
// a body's were not (on main: Python read the value out of every such Subject, status 200).
t.test('2(b) twenty-ninth pass: a message export whose Subject holds the record as encoded-words split anywhere never shows the value', async (t) => {
  await inject();
  const bodies: string[] = [];
  const cases = fc.record({ kind: fc.constantFrom('b', 'q'), size: fc.integer({ min: 3, max: 40 }), fold: fc.boolean(), cut: fc.nat() });
  await fc.assert(fc.asyncProperty(cases, async ({ kind, size, fold, cut }) => {
    const r = await send(`${origin('svc.example')}/log?only=authorization&part=message%2Frfc822&words=${kind}${size}&fold=${fold ? 1 : 0}${cut % 3 ? `&cut=${9 + (cut % 240)}` : ''}`);
    if (r.status === 200) bodies.push(r.body.toString('latin1'));
  }), { numRuns: Math.min(numRuns, 24), ...seed });
  t.ok(bodies.length, 'the exports were answered');
  // Python's email package reads every answer's Subject, as an agent's script would.
  const read = await new Promise<string>((resolve, reject) => execFile('python3', ['-c', 'import email, email.policy, json, sys\nprint(json.dumps([str(email.message_from_string(b, policy=email.policy.default)["subject"]) for b in json.load(sys.stdin)]))'], (err, out) => (err ? reject(err) : resolve(out))).stdin!.end(JSON.stringify(bodies)));
  const subjects = JSON.parse(read) as string[];
  t.equal(subjects.filter((s) => s.includes(SECRET.slice(8, 30))).length, 0, 'no Subject a reader decodes shows the value');
  t.ok(subjects.some((s) => s.includes(PH)), 'the record is shown with the placeholder');
});

t.test('2(b): Range, If-Range and Accept-Charset never reach a host that got a secret; 206 and undeclarable text are refused', async (t) => {
  await inject();
  const before = service.log('svc.example').length;
  const r = await send(`${origin('svc.example')}/log?only=authorization`, { headers: [['Range', 'bytes=0-9'], ['If-Range', '"x"'], ['Accept-Charset', 'utf-16le']] });
  t.equal(r.status, 200, 'the whole representation, not a piece');
  const seen = service.log('svc.example').at(-1)!;
  t.equal(service.log('svc.example').length, before + 1, 'the service got the read-back request');
  const names = seen.headers.map(([k]) => k.toLowerCase());
  t.notOk(names.includes('range') || names.includes('if-range'), 'Range and If-Range were dropped');
  t.same(seen.headers.filter(([k]) => k.toLowerCase() === 'accept-charset').map(([, v]) => v), ['utf-8'], 'UTF-8 was asked for');
  t.equal(reveal(seenBy(r), SECRET), undefined);
  // A server that answers in a charset the scrubber cannot read anyway (forced by a parameter).
  for (const charset of ['utf-16le', 'utf-32be', 'utf-7', 'ibm037', 'iso-2022-jp'] satisfies Charset[]) {
    const forced = await send(`${origin('svc.example')}/log?only=authorization&charset=${charset}`);
    t.equal(forced.status, 502, `${charset}: withheld`);
    t.ok(isProblem({ status: forced.status, headers: forced.headers, body: forced.body.toString() }), `${charset}: problem+json`);
    t.match(forced.body.toString(), /response-unscrubbable/);
  }
  // The same without a declared charset: found by looking at the body's start, and still answered
  // with a problem (the head waits for the first scrubbed byte), not a cut connection.
  for (const charset of ['utf-16le', 'utf-16be', 'utf-32le', 'utf-32be'] satisfies Charset[]) {
    const sniffed = await send(`${origin('svc.example')}/log?only=authorization&charset=${charset}&label=0`);
    t.equal(sniffed.status, 502, `${charset} (undeclared): withheld`);
    t.ok(isProblem({ status: sniffed.status, headers: sniffed.headers, body: sniffed.body.toString() }), `${charset} (undeclared): problem+json`);
    t.equal(reveal(seenBy(sniffed), SECRET), undefined);
  }
  const latin1 = await send(`${origin('svc.example')}/log?only=authorization&charset=iso-8859-1`);
  t.equal(latin1.status, 200, 'ASCII-compatible charsets are scrubbed, not refused (the secret is ASCII)');
  t.equal(reveal(seenBy(latin1), SECRET), undefined);
});

t.test('2(b): a WebSocket to a host that got a secret never carries the value', async (t) => {
  await inject();
  // Eleventh pass: also as references with many leading zeros (the message is refused, the tunnel closed).
  for (const q of ['', '?format=html-padded', '?format=node-buffer-pretty', '?format=java-chars']) await readOverWebSocket(t, q);
});

/** Whether what a server sent holds a whole answer that is not a 101, or a 101 and then a close frame. */
function closed(data: Buffer): boolean {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return false;
  if (!data.subarray(0, end).toString('latin1').startsWith('HTTP/1.1 101')) return true;
  for (let i = end + 4; i + 2 <= data.length;) {
    const len7 = data[i + 1]! & 0x7f;
    const head = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0);
    if (i + head > data.length) return false;
    const len = len7 === 126 ? data.readUInt16BE(i + 2) : len7 === 127 ? Number(data.readBigUInt64BE(i + 2)) : len7;
    if ((data[i]! & 0x0f) === 8) return true;
    i += head + len;
  }
  return false;
}

async function readOverWebSocket(t: Test, q: string): Promise<void> {
  const key = crypto.randomBytes(16).toString('base64');
  const socket = net.connect(a.port, '127.0.0.1');
  const data = await new Promise<Buffer>((resolve) => {
    const chunks: Buffer[] = [];
    const done = (): void => resolve(Buffer.concat(chunks));
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      // Done at the server's close frame (or a refusal's answer): no need to wait for the timer.
      if (closed(Buffer.concat(chunks))) socket.destroy();
    });
    socket.on('close', done);
    socket.on('error', done);
    setTimeout(() => socket.destroy(), 3000);
    socket.write(`GET http://svc.example:${wsPort}/ws${q} HTTP/1.1\r\nHost: svc.example:${wsPort}\r\nProxy-Authorization: ${a.auth}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`);
  });
  t.equal(reveal(data, SECRET), undefined, `no form of the value in what came back${q ? ` (${q})` : ''} (${data.toString('latin1').split('\r\n')[0]})`);
}

// ─── class 3: header names, line-wrapped base64 ─────────────────────────────────────────────

t.test('3: a placeholder or a real value in a header name, or in line-wrapped base64, is caught', async (t) => {
  const o = `${origin('other.example')}/anything`;
  const wrapped = (v: string, eol: string): string => Buffer.from(`note: ${v} end`).toString('base64').replace(/.{76}(?=.)/g, `$&${eol}`);
  const boundary = 'b0undary';
  const mime = (v: string): string => `--${boundary}\r\nContent-Disposition: form-data; name="f"; filename="n.txt"\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n${wrapped(v, '\r\n')}\r\n--${boundary}--\r\n`;
  const attempts: Array<[string, Parameters<typeof send>[1]]> = [];
  for (const [what, v] of [['placeholder', PH], ['placeholder of an unbound secret', PH_LOOSE], ['real value', LOOSE]] as const) {
    attempts.push(
      [`${what} as a header name`, { headers: [[`X-${v.replace(/[^A-Za-z0-9_-]/g, '')}`, '1']] }],
      [`${what} as a header name, hex`, { headers: [[`X-${Buffer.from(v).toString('hex')}`, '1']] }],
      [`${what} as a header name, base64url`, { headers: [[`X-${Buffer.from(v).toString('base64url')}`, '1']] }],
      [`${what} in a multipart part, MIME base64 (76 columns, CRLF)`, { method: 'POST', headers: [['Content-Type', `multipart/form-data; boundary=${boundary}`]], body: mime(v) }],
      [`${what} in PEM-style base64 (64 columns, LF)`, { method: 'POST', headers: [['Content-Type', 'text/plain']], body: Buffer.from(`x${v}y`).toString('base64').replace(/.{8}(?=.)/g, '$&\n') }],
      [`${what} in base64 with "\\n" inside a JSON string`, { method: 'POST', headers: [['Content-Type', 'application/json']], body: JSON.stringify({ blob: wrapped(v, '\n') }) }],
      [`${what} in base64 with spaces and tabs`, { method: 'POST', headers: [['Content-Type', 'text/plain']], body: wrapped(v, '\n\t ') }],
    );
  }
  const before = up.received.length;
  for (const [label, opts] of attempts) {
    const r = await send(o, opts);
    t.ok(r.status === 403 || r.status === 502, `${label}: refused (${r.status})`);
    t.ok(isProblem({ status: r.status, headers: r.headers, body: r.body.toString() }), `${label}: problem+json`);
  }
  t.equal(up.received.length, before, 'other.example received none of them');
  t.equal(reveal(up.bytes(), LOOSE), undefined, 'nor any byte of the real value');
});

// ─── class 2(c): the environment of `airlock run` ─────────────────────────────────────────────

t.test('2(c): a real value left in the environment, in any spelling, never reaches the agent', async (t) => {
  const value = 'ghp_EnvCanary/Value+42=xyz0123';
  const placeholder = 'airlock-ph-gh-0123456789abcdef0123456789abcdef';
  const shaped = fc.oneof(
    spelling(value).map((sp) => ({ text: sp.text, how: sp.how })),
    fc.constantFrom('user', 'x-access-token', 'git').map((u) => ({ text: `Basic ${Buffer.from(`${u}:${value}`).toString('base64')}`, how: 'Basic pair' })),
    fc.constantFrom('https', 'postgres', 'redis').map((s) => ({ text: `${s}://user:${encodeURIComponent(value)}@db.example:5432/app`, how: `${s} URL userinfo` })),
  );
  await fc.assert(fc.property(shaped, fc.constantFrom('GH_PAT', 'DATABASE_URL', 'NOTE'), (sp, name) => {
    if (!reveal(sp.text, value)) return;
    const seenVars: string[] = [];
    const env = agentEnv({ [name]: sp.text, PATH: '/usr/bin' }, {
      agent: 'a', token: 't', proxyHost: '127.0.0.1', proxyPort: 1, caCert: '/ca.pem', sandboxed: true,
      realValues: [{ secret: 'gh', value, placeholder }], onReplaced: (v) => seenVars.push(v),
    });
    const leaked = Object.entries(env).map(([k, v]) => [k, reveal(`${k}=${v}`, value)] as const).filter(([, r]) => r);
    if (leaked.length) throw new Error(`${sp.how}: ${leaked.map(([k, r]) => `${k} (${r})`).join(', ')} still holds the value: ${JSON.stringify(env[name])}`);
    if (!seenVars.includes(name)) throw new Error(`${sp.how}: the user was not told about ${name}`);
  }), { numRuns: numRuns * 3, ...seed });
});

t.test('2(c): a value two encodings deep (a base64 registry config, a base64 or hex blob of any spelling) never reaches the agent', async (t) => {
  const value = 'ghp_EnvCanary/Value+42=xyz0123';
  const placeholder = 'airlock-ph-gh-0123456789abcdef0123456789abcdef';
  // What tools keep in one variable: a Kubernetes .dockerconfigjson (base64 of JSON whose "auth" is
  // the base64 of user:token), a base64 or hex blob of a config file holding the value in any spelling.
  const inner = fc.oneof(
    spelling(value).map((sp) => sp.text),
    fc.constantFrom('user', 'x-access-token').map((u) => JSON.stringify({ auths: { 'ghcr.io': { auth: Buffer.from(`${u}:${value}`).toString('base64') } } })),
    fc.constant(`//registry.npmjs.org/:_authToken=${value}\nalways-auth=true\n`),
  );
  const wrap = fc.constantFrom('base64', 'base64url', 'base64-mime', 'hex');
  await fc.assert(fc.property(inner, wrap, (text, how) => {
    const b = Buffer.from(text, 'latin1');
    const blob = how === 'hex' ? b.toString('hex') : how === 'base64url' ? b.toString('base64url') : how === 'base64-mime' ? b.toString('base64').replace(/.{76}(?=.)/g, '$&\n') : b.toString('base64');
    if (!reveal(blob, value)) return;
    const seenVars: string[] = [];
    const env = agentEnv({ REGISTRY_AUTH: blob, PATH: '/usr/bin' }, {
      agent: 'a', token: 't', proxyHost: '127.0.0.1', proxyPort: 1, caCert: '/ca.pem', sandboxed: true,
      realValues: [{ secret: 'gh', value, placeholder }], onReplaced: (v) => seenVars.push(v),
    });
    const left = env.REGISTRY_AUTH === undefined ? undefined : reveal(env.REGISTRY_AUTH, value);
    if (left) throw new Error(`${how} of ${JSON.stringify(text.slice(0, 60))}: REGISTRY_AUTH still holds the value (${left})`);
    if (!seenVars.includes('REGISTRY_AUTH')) throw new Error(`${how}: the user was not told about REGISTRY_AUTH`);
  }), { numRuns: numRuns * 2, ...seed });
});

// ─── legitimate use keeps working: real clients ──────────────────────────────────────────────

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, timeout: 25_000, maxBuffer: 8 * 1024 * 1024, encoding: 'latin1' }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

t.test('real clients: injection works, the read-back is scrubbed, JSON/gzip/binary downloads arrive intact', async (t) => {
  const dir = tempDir(t, 'airlock-readback-clients-');
  // Each client asks for pieces (Range: bytes=0-9) in UTF-16/32; with `token` it sends the placeholder in Authorization.
  const clients: Record<string, (url: string, token: boolean) => Promise<{ code: number; stdout: string; stderr: string }>> = {
    curl: (url, token) => run('curl', ['-sS', '-w', '\n%{http_code}', '-x', a.proxyUrl, ...(token ? ['-H', `Authorization: Bearer ${PH}`] : []), '-r', '0-9', '-H', 'Accept-Charset: utf-16', url]),
    python: (url, token) => run('python3', [path.join(fixtures, 'clients', 'requests_client.py'), url], { ...process.env, PROXY_URL: a.proxyUrl, TOKEN: token ? PH : '' }),
    node: (url, token) => run('node', [path.join(fixtures, 'clients', 'fetch.mjs'), url], { ...process.env, PROXY_URL: a.proxyUrl, TOKEN: token ? PH : '' }),
  };
  for (const [name, call] of Object.entries(clients)) {
    const echo = await call(`${origin('svc.example')}/api/echo`, true);
    t.equal(echo.code, 0, `${name}: ran (${echo.stderr.slice(0, 200)})`);
    t.match(echo.stdout, /\b200\b/, `${name}: injected request answered`);
    t.equal(service.log('svc.example').at(-1)?.headers.find(([k]) => k.toLowerCase() === 'authorization')?.[1], `Bearer ${SECRET}`, `${name}: the service got the real value`);
    t.equal(reveal(echo.stdout, SECRET), undefined, `${name}: the echo is scrubbed`);
    const back = await call(`${origin('svc.example')}/log?only=authorization`, false);
    t.match(back.stdout, /^200\n|\n200$/, `${name}: the whole answer, not a 206 piece`);
    t.equal(reveal(back.stdout, SECRET), undefined, `${name}: the read-back shows no form of the value`);
  }
  // Ninth pass: the record in EBCDIC with no charset label (no Content-Type, or a download):
  // requests decodes it by itself (charset_normalizer guesses cp037) and prints the text.
  for (const q of ['only=authorization&type=0', 'format=json&type=bin']) {
    const back = await clients.python!(`${origin('svc.example')}/log?${q}&charset=ibm037&label=0`, false);
    t.match(back.stdout, /^200\n/, `python, EBCDIC unlabelled (${q}): answered`);
    t.equal(reveal(back.stdout, SECRET), undefined, `python, EBCDIC unlabelled (${q}): requests' r.text shows no form of the value`);
    // (Where requests guesses with chardet instead, the text is not decoded at all.)
    if (/Bearer/.test(back.stdout)) t.match(back.stdout, PH, `python, EBCDIC unlabelled (${q}): decoded, the placeholder in its place`);
  }
  // Ordinary content from a host that got a secret: JSON, gzip, binary.
  const gz = await run('curl', ['-sS', '--compressed', '-x', a.proxyUrl, '-H', `Authorization: Bearer ${PH}`, `${origin('svc.example')}/api/gzip`]);
  t.equal((JSON.parse(gz.stdout) as { items: unknown[] }).items.length, 200, 'gzip JSON arrives whole');
  const file = path.join(dir, 'download.bin');
  const dl = await run('curl', ['-sS', '-o', file, '-x', a.proxyUrl, '-H', `Authorization: Bearer ${PH}`, `${origin('svc.example')}/api/download`]);
  t.equal(dl.code, 0, dl.stderr);
  t.equal(crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex'), crypto.createHash('sha256').update(binaryBytes).digest('hex'), 'a binary download arrives byte for byte');
  const basic = await curl(['-sS', '-x', a.proxyUrl, '-u', `user:${PH}`, `${origin('basic.example')}/api/echo`]);
  t.match(basic.stdout, /"ok"|authorization/i, 'curl -u: Basic injected');
  t.equal(service.log('basic.example').at(-1)?.headers.find(([k]) => k.toLowerCase() === 'authorization')?.[1], `Basic ${Buffer.from(`user:${SECRET}`).toString('base64')}`);
  const query = await curl(['-sS', '-x', a.proxyUrl, `${origin('query.example')}/api/echo?key=${PH}&page=2`]);
  t.equal(reveal(query.stdout, SECRET), undefined, 'query key injected, echo scrubbed');
  t.match(service.log('query.example').at(-1)?.url ?? '', `page=2&key=${encodeURIComponent(SECRET)}`);
});
