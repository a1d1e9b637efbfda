// Reading the credential back in the head of an answer rather than its body: a service that
// recorded the Authorization header it received shows it back in a redirect's Location, a Link,
// WWW-Authenticate, Set-Cookie, ETag, Content-Disposition or the reason phrase — raw or encoded as
// servers encode header values (percent, base64, base64url, hex, RFC 8187 `filename*=UTF-8''…`,
// quoted with backslashes), in trailers or a 103 Early Hints, or cut into pieces a client joins
// (two numbered headers, a repeated header, a chunked cookie) — on a request that injects
// nothing, to the host that got the credential or another name of its server. Read with the
// suite's brute-force oracle.
import crypto from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import fc from 'fast-check';
import t, { type Test } from 'tap';
import { startAirlock, type Airlock } from '../../runtime/airlock.ts';
import { SecretStore } from '../../state/secrets/store.ts';
import { fixtures, startUpstream, tempDir } from './helpers.ts';
import { reveal } from './spelling-oracle.ts';
import { tarEntry } from '../helpers/tar.ts';
import { ascii85, pdfTextStreams } from '../helpers/ascii85.ts';

process.env.AIRLOCK_MASTER_KEY ??= '3c'.repeat(32);
const numRuns = Number(process.env.AIRLOCK_FUZZ_RUNS_LIVE ?? 40);
const seed = process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {};
const SECRET = 'sk_live_H3ader/Canary+Key=&<x>%~0123456789';

const encodings = {
  raw: (v: string) => v,
  percent: (v: string) => encodeURIComponent(v),
  base64: (v: string) => Buffer.from(v).toString('base64'),
  base64url: (v: string) => Buffer.from(v).toString('base64url'),
  hex: (v: string) => Buffer.from(v).toString('hex'),
  quoted: (v: string) => `"${v.replace(/["\\]/g, '\\$&')}"`,
  // Text in a charset the header declares itself (eighth pass): RFC 8187 and MIME encoded-words.
  'rfc8187-utf16': (v: string) => `t*=utf-16le''${[...Buffer.from(v, 'utf16le')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')}`,
  'mime-utf16': (v: string) => `=?utf-16be?B?${Buffer.from(v, 'utf16le').swap16().toString('base64')}?=`,
  // Fifteenth pass: compressed and written as base64 — a Flask or Django signed session cookie
  // (`.` + base64url of zlib, readable though signed), a gzip payload a debug header carries.
  'session-zlib': (v: string) => `.${zlib.deflateSync(Buffer.from(JSON.stringify({ _fresh: true, token: v }))).toString('base64url')}.Z1x2Yw.c2lnbmF0dXJl`,
  'gzip-base64': (v: string) => zlib.gzipSync(v).toString('base64'),
  'mime-utf7': (v: string) => `=?utf-7?Q?${v.replace(/[^A-Za-z0-9'(),\-./:]+/g, (run) => `+${Buffer.from(run, 'utf16le').swap16().toString('base64').replace(/=+$/, '')}-`).replace(/[=?_ ]/g, (c) => `=${c.charCodeAt(0).toString(16).toUpperCase()}`)}?=`,
} as const;
type Enc = keyof typeof encodings;
const places = ['location', 'link', 'www-authenticate', 'set-cookie', 'etag', 'content-disposition', 'x-debug', 'reason', 'refresh', 'content-location', 'trailer', 'early-hints', 'status-text-301', 'split-headers', 'split-repeated', 'split-cookies', 'split-cookies-between', 'split-cookies-unordered'] as const;

// Content-Type declarations that a real client reads as UTF-7 while the first `charset=` says
// UTF-8 or nothing: requests takes the last `charset` and strips quotes from parameter names;
// Python's email package (urllib's get_content_charset(), httpx, any MIME part) reads RFC 2231
// `charset*=` and its continuations, skips a `;` inside a quoted value, and unfolds a folded line.
const declarations: Array<{ type: string; part?: boolean }> = [
  { type: 'text/plain; charset=utf-8; charset=utf-7' },
  { type: 'application/json;charset=utf-8;charset="utf-7"' },
  { type: 'text/plain; a="x;charset=utf-8"; charset=utf-7' },
  { type: 'text/plain; "charset"=utf-7' },
  { type: "text/plain; charset*=utf-8''utf-7" },
  { type: "text/plain; CHARSET*=us-ascii'en'utf%2D7" },
  { type: "text/plain; charset*0*=utf-8''utf; charset*1=-7" },
  { type: 'charset=utf-7' },
  { type: "text/plain; charset*=''utf-7", part: true },
  { type: 'text/plain;\r\n charset="utf-7"', part: true },
  { type: 'text/plain; name="a-long-file-name.txt";\r\n\tcharset*=utf-8\'\'utf-7', part: true },
];

// The record in the header lines of a MIME body's part or enclosed message, in a charset that
// line declares itself, which Python's email package decodes (get_filename(), a Subject).
const pct16 = (v: string): string => [...Buffer.from(v, 'utf16le')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
/** uuencode (as Python's binascii.b2a_uu writes it, a backtick for zero), in a begin/end block. */
function uuencode(v: string): string {
  const b = Buffer.from(v);
  let out = 'begin 644 log.txt\n';
  for (let i = 0; i < b.length; i += 45) {
    const c = b.subarray(i, i + 45);
    let line = String.fromCharCode(32 + c.length);
    for (let j = 0; j < c.length; j += 3) {
      const x = (c[j]! << 16) | ((c[j + 1] ?? 0) << 8) | (c[j + 2] ?? 0);
      for (const shift of [18, 12, 6, 0]) line += String.fromCharCode(((x >> shift) & 63 || 64) + 32);
    }
    out += `${line}\n`;
  }
  return `${out}\`\nend\n`;
}
const mimeShows: Array<(v: string) => { type: string; body: string }> = [
  // A part (or a message) in the uuencode transfer encoding, which get_payload(decode=True) undoes.
  (v) => ({ type: 'multipart/mixed; boundary=b', body: `--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\n${uuencode(v)}\r\n--b--\r\n` }),
  (v) => ({ type: 'message/rfc822', body: `Subject: log\r\nContent-Transfer-Encoding: uuencode\r\n\r\n${uuencode(v)}` }),
  (v) => ({ type: 'multipart/mixed; boundary=b', body: `--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename*=utf-16le''${pct16(v)}\r\n\r\nx\r\n--b--\r\n` }),
  (v) => ({ type: 'multipart/related; boundary=b', body: `--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment;\r\n filename*0*=utf-16le''${pct16(v.slice(0, 9))};\r\n filename*1*=${pct16(v.slice(9))}\r\n\r\nx\r\n--b--\r\n` }),
  (v) => ({ type: 'message/rfc822', body: `From: log@svc.example\r\nSubject: =?utf-16be?B?${Buffer.from(v, 'utf16le').swap16().toString('base64')}?=\r\n\r\nrecorded\r\n` }),
  (v) => ({ type: 'multipart/mixed; boundary=b', body: `--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: ${encodings['mime-utf7'](v)}\r\n\r\nx\r\n--b--\r\n` }),
];

// Thirteenth pass: the record inside compressed data that no Content-Encoding declares, as a
// service offers a log export (`.gz`, a zip archive, a zlib blob, a `.gz` among other bytes or in a
// multipart part), which the agent unpacks itself.
/** A zip archive (as Python's zipfile writes it) of a stored entry and a deflated one holding `text`. */
function zipOf(text: Buffer): Buffer {
  const entries = [{ name: 'README.txt', method: 0, data: Buffer.from('exported by svc.example\n') }, { name: 'requests.log', method: 8, data: text }];
  const local: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const packed = e.method === 8 ? zlib.deflateRawSync(e.data) : e.data;
    const name = Buffer.from(e.name);
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0); h.writeUInt16LE(20, 4); h.writeUInt16LE(e.method, 8);
    h.writeUInt32LE(zlib.crc32 ? zlib.crc32(e.data) : 0, 14); h.writeUInt32LE(packed.length, 18); h.writeUInt32LE(e.data.length, 22); h.writeUInt16LE(name.length, 26);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0); c.writeUInt16LE(20, 4); c.writeUInt16LE(20, 6); c.writeUInt16LE(e.method, 10);
    h.copy(c, 16, 14, 26); c.writeUInt16LE(name.length, 28); c.writeUInt32LE(offset, 42);
    local.push(h, name, packed);
    central.push(c, name);
    offset += h.length + name.length + packed.length;
  }
  const dir = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(entries.length, 8); end.writeUInt16LE(entries.length, 10); end.writeUInt32LE(dir.length, 12); end.writeUInt32LE(offset, 16);
  return Buffer.concat([...local, dir, end]);
}
const noise = Buffer.from(Array.from({ length: 700 }, (_, i) => (i * 37 + 11) & 0xff));
const packs = {
  gzip: (d: Buffer) => zlib.gzipSync(d),
  zlib: (d: Buffer) => zlib.deflateSync(d),
  zip: zipOf,
  // A second gzip member (cat a.gz b.gz), a .gz after other bytes (a tar's member), a multipart part.
  'gzip-members': (d: Buffer) => Buffer.concat([zlib.gzipSync('first member\n'), zlib.gzipSync(d)]),
  'gzip-inside': (d: Buffer) => Buffer.concat([noise, zlib.gzipSync(d), noise]),
  // A PDF export: the text in a FlateDecode content stream (reportlab, a standard font: the text as a string).
  pdf: (d: Buffer) => {
    const content = zlib.deflateSync(Buffer.concat([Buffer.from('BT /F1 9 Tf 20 800 Td ('), Buffer.from(d.toString('latin1').replace(/[()\\]/g, '\\$&'), 'latin1'), Buffer.from(') Tj ET')]));
    return Buffer.concat([Buffer.from(`%PDF-1.4\n4 0 obj\n<< /Length ${content.length} /Filter /FlateDecode >>\nstream\r\n`), content, Buffer.from('\r\nendstream\nendobj\n%%EOF\n')]);
  },
  'gzip-part': (d: Buffer) => Buffer.concat([Buffer.from('--b\r\nContent-Type: application/gzip\r\n\r\n'), zlib.gzipSync(d), Buffer.from('\r\n--b--\r\n')]),
  // Seventeenth pass: a zlib stream after other bytes — a tar's member (`log.z` in a `.tar` backup)
  // and a PNG's zTXt chunk (a chart export carrying the record as a text chunk).
  'tar-member': (d: Buffer) => Buffer.concat([tarEntry('README', Buffer.from('exported by svc.example\n')), tarEntry('requests.log.z', zlib.deflateSync(d)), Buffer.alloc(1024)]),
  'png-ztxt': (d: Buffer) => {
    const chunk = (type: string, data: Buffer): Buffer => {
      const head = Buffer.alloc(8);
      head.writeUInt32BE(data.length);
      head.write(type, 4);
      const crc = Buffer.alloc(4);
      crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), data])));
      return Buffer.concat([head, data, crc]);
    };
    return Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), chunk('IHDR', Buffer.from('00000001000000010800000000', 'hex')), chunk('zTXt', Buffer.concat([Buffer.from('Comment\0\0'), zlib.deflateSync(d)])), chunk('IDAT', zlib.deflateSync(Buffer.alloc(2))), chunk('IEND', Buffer.alloc(0))]);
  },
  // Eighteenth pass: a `.gz` log inside a `.tar.gz` backup and inside a zip, and a PDF export as
  // ReportLab writes it by default (`/Filter [/ASCII85Decode /FlateDecode]`).
  'tgz-gz': (d: Buffer) => zlib.gzipSync(Buffer.concat([tarEntry('README', Buffer.from('exported by svc.example\n')), tarEntry('requests.log.gz', zlib.gzipSync(d)), Buffer.alloc(1024)])),
  'zip-of-gz': (d: Buffer) => zipOf(zlib.gzipSync(d)),
  'pdf-a85': (d: Buffer) => {
    const content = ascii85(zlib.deflateSync(Buffer.concat([Buffer.from('BT /F1 9 Tf 20 800 Td ('), Buffer.from(d.toString('latin1').replace(/[()\\]/g, '\\$&'), 'latin1'), Buffer.from(') Tj ET')])));
    return Buffer.concat([Buffer.from(`%PDF-1.4\n4 0 obj\n<< /Length ${content.length} /Filter [ /ASCII85Decode /FlateDecode ] >>\nstream\n${content}\nendstream\nendobj\n%%EOF\n`)]);
  },
} as const;
type Pack = keyof typeof packs;
const packedDocs = {
  log: (v: string) => `GET /api/x HTTP/1.1\nauthorization: ${v}\n`,
  json: (v: string) => JSON.stringify([{ headers: { authorization: v } }]),
  base64: (v: string) => Buffer.from(v).toString('base64'),
  control: () => `an export with nothing recorded in it ${'0123456789abcdef'.repeat(40)}`,
};
/** Express's ETag of a body (the `etag` module): weak, its length in hex and 27 characters of its SHA-1 in base64. */
function expressEtag(body: string): string {
  return `W/"${Buffer.byteLength(body).toString(16)}-${crypto.createHash('sha1').update(body).digest('base64').slice(0, 27)}"`;
}
/** What an agent inflates from each base64 run of a head (a session cookie's `.eJw…`), whole or joined from pieces. */
function inflatedRuns(text: string): string {
  return [...text.matchAll(/[A-Za-z0-9+/_-]{16,}/g)].map((m) => unpacked(Buffer.from(m[0], 'base64'))).join('\n');
}
/** Everything an agent can unpack from `body`: each gzip, zlib or zip stream in it, read as far as it came, and what those hold (three layers). */
function unpacked(body: Buffer, depth = 0): string {
  const out: string[] = [body.toString('latin1')];
  if (depth > 3) return out[0]!;
  const sync = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
  const tryInflate = (f: () => Buffer): void => {
    try { out.push(f().toString('latin1')); } catch { /* not such a stream */ }
  };
  for (let i = 0; i < body.length - 2; i++) {
    // A gzip member read raw past its 10-byte header, as a reader that ignores what follows it does.
    if (body[i] === 0x1f && body[i + 1] === 0x8b) tryInflate(() => zlib.inflateRawSync(body.subarray(i + 10), sync));
    if (body[i] === 0x78) tryInflate(() => zlib.inflateSync(body.subarray(i), sync));
    // (An unpacked piece may be shorter than a zip header: read only where one fits.)
    if (i + 30 <= body.length && body.readUInt32LE(i) === 0x04034b50) tryInflate(() => zlib.inflateRawSync(body.subarray(i + 30 + body.readUInt16LE(i + 26) + body.readUInt16LE(i + 28)), sync));
  }
  for (const d of pdfTextStreams(body.toString('latin1'))) tryInflate(() => zlib.inflateSync(d, sync));
  return [out[0], ...out.slice(1).map((o) => unpacked(Buffer.from(o, 'latin1'), depth + 1))].join('\n');
}

// Thirteenth pass: the record handed out a few characters per document, as a streaming API sends
// text (OpenAI's and Anthropic's event streams, Ollama's NDJSON, a log tail's JSON lines).
const pieceFormats = {
  openai: { type: 'text/event-stream', path: ['choices', 0, 'delta', 'content'], doc: (p: string, i: number) => `data: ${JSON.stringify({ id: 'chatcmpl-7', object: 'chat.completion.chunk', created: 1700000000 + i, model: 'gpt-4o', choices: [{ index: 0, delta: { content: p }, finish_reason: null }] })}\n\n` },
  anthropic: { type: 'text/event-stream', path: ['delta', 'text'], doc: (p: string) => `event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: p } })}\n\n` },
  ollama: { type: 'application/x-ndjson', path: ['response'], doc: (p: string, i: number) => `${JSON.stringify({ model: 'llama3', created_at: `2026-12-06T07:00:${String(i % 60).padStart(2, '0')}Z`, response: p, done: false })}\n` },
  'log-lines': { type: 'application/jsonl', path: ['line'], doc: (p: string, i: number) => `${JSON.stringify({ seq: i, stream: 'stdout', line: p })}\r\n` },
} as const;
type PieceFormat = keyof typeof pieceFormats;
/** What a reader joins from a stream of documents: the one field, across every line that parses. */
function joinedPieces(body: string, format: PieceFormat): string {
  let out = '';
  for (const raw of body.split('\n')) {
    const line = raw.replace(/\r$/, '').replace(/^data: ?/, '');
    try {
      let v: unknown = JSON.parse(line);
      for (const k of pieceFormats[format].path) v = (v as Record<string | number, unknown>)[k];
      if (typeof v === 'string') out += v;
    } catch { /* not a document */ }
  }
  return out;
}

let recorded = '';
const up = await startUpstream(t, {
  handler: (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/api/page') {
      // A page whose og:url is the request URL as received (the injected query key in it).
      res.setHeader('content-type', 'text/html');
      res.end(`<!doctype html><html><head><meta property="og:url" content="http://${req.headers.host}${req.url}"></head><body>hi</body></html>`);
      return;
    }
    if (url.pathname.startsWith('/api/')) {
      recorded = String(req.headers.authorization ?? '');
      res.end('{"ok":true}');
      return;
    }
    if (url.pathname === '/body') {
      // The record as UTF-7 text, every character in a base64 run (Python decodes any run), under
      // a charset declaration one of the real clients reads as UTF-7 (ninth pass).
      const text = `+${Buffer.from(recorded, 'utf16le').swap16().toString('base64').replace(/=+$/, '')}-`;
      const d = declarations[Number(url.searchParams.get('d'))]!;
      res.setHeader('content-type', d.part ? 'multipart/mixed; boundary=b' : d.type);
      res.end(d.part ? `--b\r\nContent-Type: ${d.type}\r\n\r\n${text}\r\n--b--\r\n` : text);
      return;
    }
    if (url.pathname === '/declared') {
      // A document that declares UTF-7 in its very first bytes — an XML declaration (libxml2 and
      // Beautiful Soup decode the rest so, whatever the Content-Type says) or a <meta> — in one
      // write, or flushed in two with the encoding in the second.
      res.setHeader('content-type', url.searchParams.get('type') ?? 'text/plain');
      const text = `+${Buffer.from(recorded, 'utf16le').swap16().toString('base64').replace(/=+$/, '')}-`;
      const [first, rest] = url.searchParams.get('kind') === 'meta'
        ? ['<meta ', `charset="utf-7"><pre>${text}</pre>`]
        : ['<?xml version="1.0" ', `encoding="utf-7"?><log>${text}</log>`];
      if (url.searchParams.get('split') !== '1') {
        res.end(first + rest);
        return;
      }
      res.write(first);
      setTimeout(() => res.end(rest), 40);
      return;
    }
    if (url.pathname === '/etag-record') {
      // Fifteenth pass: the record as Express sends it — a weak ETag of its length and SHA-1
      // (the `etag` module), also on HEAD (with its Content-Length) and on a 304 to If-None-Match.
      const body = JSON.stringify({ headers: { authorization: recorded } });
      const tag = expressEtag(body);
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.setHeader('etag', tag);
      res.setHeader('content-md5', crypto.createHash('md5').update(body).digest('base64'));
      if (req.headers['if-none-match'] === tag || (req.headers['if-match'] !== undefined && req.headers['if-match'] !== tag)) {
        res.statusCode = req.headers['if-match'] !== undefined ? 412 : 304;
        res.end();
        return;
      }
      res.setHeader('content-length', Buffer.byteLength(body));
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    if (url.pathname === '/packed') {
      // The record (or, for the control, other text) packed, sent in writes of `w` bytes.
      const doc = Buffer.from(packedDocs[url.searchParams.get('doc') as keyof typeof packedDocs](recorded));
      let body = packs[url.searchParams.get('pack') as Pack](doc);
      if (url.searchParams.get('ce') === '1') {
        res.setHeader('content-encoding', 'gzip');
        body = zlib.gzipSync(body);
      }
      if (url.searchParams.get('type')) res.setHeader('content-type', url.searchParams.get('type')!);
      const w = Number(url.searchParams.get('w') ?? body.length);
      let at = 0;
      const next = (): void => {
        if (at >= body.length) return void res.end();
        res.write(body.subarray(at, (at += w)));
        setImmediate(next);
      };
      next();
      return;
    }
    if (url.pathname === '/pieces') {
      // The record (or other text for the control) `n` characters a document, each flushed apart.
      const f = pieceFormats[url.searchParams.get('f') as PieceFormat];
      const control = url.searchParams.get('doc') === 'control';
      const text = control ? 'Hello! Here is an ordinary answer streamed a few characters at a time.' : url.searchParams.get('doc') === 'base64' ? Buffer.from(recorded).toString('base64') : recorded;
      const n = Number(url.searchParams.get('n'));
      res.setHeader('content-type', url.searchParams.get('type') || f.type);
      const docs = Array.from({ length: Math.ceil(text.length / n) }, (_, i) => f.doc(text.slice(i * n, (i + 1) * n), i));
      let i = 0;
      const next = (): void => {
        if (i >= docs.length) return void res.end(url.searchParams.get('f') === 'openai' ? 'data: [DONE]\n\n' : '');
        res.write(docs[i++]);
        setImmediate(next);
      };
      next();
      return;
    }
    if (url.pathname === '/fullwidth') {
      // Thirteenth pass: the record in full-width characters (U+FF01–FF5E), as a page that shows
      // text in zenkaku does; NFKC (and a person) reads them as ASCII. `mix`: only every other one.
      const mix = url.searchParams.get('mix') === '1';
      const text = url.searchParams.get('doc') === 'control' ? 'ＡＰＩキー：ｓｋ＿ｌｉｖｅ＿ではありません（全角）' : [...recorded].map((c, i) => (c > ' ' && c <= '~' && (!mix || i % 2) ? String.fromCodePoint(c.charCodeAt(0) + 0xfee0) : c)).join('');
      res.setHeader('content-type', url.searchParams.get('type') ?? 'text/plain; charset=utf-8');
      res.end(url.searchParams.get('type') === 'application/json' ? JSON.stringify({ authorization: text }) : text);
      return;
    }
    if (url.pathname === '/mime-control') {
      // Control: such text in a part's body (not its headers) is no declaration.
      res.setHeader('content-type', 'multipart/mixed; boundary=b');
      res.end(`--b\r\nContent-Type: text/plain\r\n\r\nNote: x *= y' and =?utf-7?Q?+AGE-?= in text\r\n--b--\r\n`);
      return;
    }
    if (url.pathname === '/mime') {
      const { type, body } = mimeShows[Number(url.searchParams.get('d'))]!(recorded);
      res.setHeader('content-type', type);
      res.end(body);
      return;
    }
    const v = encodings[(url.searchParams.get('enc') ?? 'raw') as Enc](recorded);
    const place = url.searchParams.get('place');
    const status = place === 'location' ? 302 : place === 'www-authenticate' ? 401 : 200;
    switch (place) {
      case 'location': res.setHeader('location', `https://elsewhere.example/cb?token=${v}`); break;
      case 'link': res.setHeader('link', `<https://svc.example/next?t=${v}>; rel="next"`); break;
      case 'www-authenticate': res.setHeader('www-authenticate', `Bearer realm="api", error="invalid_token", error_description=${v}`); break;
      case 'set-cookie': res.setHeader('set-cookie', [`sess=${v}; Path=/; HttpOnly`]); break;
      case 'etag': res.setHeader('etag', `W/"${v}"`); break;
      case 'content-disposition': res.setHeader('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(recorded)}; x=${v}`); break;
      case 'refresh': res.setHeader('refresh', `0; url=/cb?t=${v}`); break;
      case 'content-location': res.setHeader('content-location', `/r/${v}`); break;
      case 'trailer':
        res.setHeader('trailer', 'x-checksum');
        res.write('body');
        res.addTrailers({ 'x-checksum': v.replace(/[^\t\x20-\x7e]/g, '?') });
        break;
      case 'early-hints':
        // Node accepts only Link values of its own shape: others go in a header of the final answer.
        try {
          res.writeEarlyHints({ link: `</style.css?t=${v}>; rel=preload; as=style` });
        } catch {
          res.setHeader('x-debug', v);
        }
        break;
      case 'status-text-301': res.statusCode = 301; res.setHeader('location', `/${v}`); res.end(); return;
      // Pieces a client joins (eighth pass): two numbered headers with another between, one header
      // repeated, a chunked cookie (ASP.NET's and NextAuth's chunking of a large cookie).
      case 'split-headers': res.setHeader('x-token-2', v.slice(v.length >> 1)); res.setHeader('x-request-id', 'r-1'); res.setHeader('x-token-1', v.slice(0, v.length >> 1)); break;
      case 'split-repeated': res.setHeader('x-token', [v.slice(0, v.length >> 1), v.slice(v.length >> 1)]); break;
      case 'split-cookies': res.setHeader('set-cookie', [`tok.0=${v.slice(0, v.length >> 1)}; Path=/`, `tok.1=${v.slice(v.length >> 1)}; Path=/`]); break;
      // Eleventh pass: another cookie set between the chunks (a CSRF cookie from other middleware),
      // or the chunks in no particular order (set from a map: Go's iteration order is random).
      case 'split-cookies-between': res.setHeader('set-cookie', [`tok.0=${v.slice(0, v.length >> 1)}; Path=/`, 'csrf=c5f1a2; Path=/', `tok.1=${v.slice(v.length >> 1)}; Path=/`]); break;
      case 'split-cookies-unordered': res.setHeader('set-cookie', [`tok.1=${v.slice(v.length >> 1)}; Path=/`, `tok.0=${v.slice(0, v.length >> 1)}; Path=/`]); break;
      case 'reason': res.statusMessage = `OK ${v}`.replace(/[^\t\x20-\x7e]/g, '?'); break;
      default: res.setHeader('x-debug', v);
    }
    res.statusCode = status;
    res.end('');
  },
});
const origin = (h: string): string => `http://${h}:${up.port}`;
const hosts = ['svc.example', 'other.example'];
const home = tempDir(t, 'airlock-home-');
const placeholder = (await (await SecretStore.open(home)).set('api', SECRET)).placeholder;
const start = (): Promise<Airlock> => startAirlock({ studio: false, unixSocket: false, proxy: '127.0.0.1:0', threads: 1, home, policy: path.join(fixtures, 'readback'), resolve: [...hosts, 'query.example'].map((h) => `${h}=127.0.0.1`), allowPrivate: [`127.0.0.1:${up.port}`] });

function send(port: number, auth: string, url: string, headers: Record<string, string> = {}): Promise<{ status: number; head: string; body: Buffer; complete: boolean }> {
  return new Promise((resolve, reject) => {
    let early = '';
    const req = http.request({ host: '127.0.0.1', port, path: url, agent: false, headers: { host: new URL(url).host, 'proxy-authorization': `Basic ${Buffer.from(auth).toString('base64')}`, ...headers } }, (res) => {
      // And what a client joins from pieces: values in the order of their names, cookie values in order.
      const pairs = Array.from({ length: res.rawHeaders.length / 2 }, (_, i) => [res.rawHeaders[2 * i]!.toLowerCase(), res.rawHeaders[2 * i + 1]!] as const);
      const joined = [...pairs].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, v]) => v).join('');
      const cookiePairs = pairs.filter(([n]) => n === 'set-cookie').map(([, v]) => v.split(';')[0]!.split('=')).map(([n, ...v]) => [n!, v.join('=')] as const);
      const cookies = cookiePairs.map(([, v]) => v).join('');
      // Chunked cookies (`tok.0`, `tok.1`) are read in the order of their names, whatever the header order.
      const cookiesByName = [...cookiePairs].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, v]) => v).join('');
      const head = `${early}${res.statusCode} ${res.statusMessage}\n${res.rawHeaders.join('\n')}\n${joined}\n${cookies}\n${cookiesByName}`;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      const done = (): void => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, head: `${head}\n${body.toString('latin1')}\n${res.rawTrailers.join('\n')}`, body, complete: res.complete });
      };
      res.on('end', done);
      res.on('aborted', done);
      res.on('error', done);
    });
    req.on('information', (info) => { early += `${info.statusCode} ${info.rawHeaders.join('\n')}\n`; });
    req.setTimeout(5000, () => req.destroy(new Error(`no answer within 5 s: ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

const readBack = fc.record({ place: fc.constantFrom(...places), enc: fc.constantFrom(...(Object.keys(encodings) as Enc[])), host: fc.constantFrom(...hosts) });

async function headsShowNothing(t: Test, port: number, auth: string, label: string): Promise<void> {
  await fc.assert(fc.asyncProperty(readBack, async ({ place, enc, host }) => {
    const r = await send(port, auth, `${origin(host)}/show?place=${place}&enc=${enc}`);
    const found = reveal(r.head, SECRET) ?? (inflatedRuns(r.head).includes(SECRET) ? 'base64 of a compressed stream, inflated' : undefined);
    if (found) throw new Error(`${label}: ${place} (${enc}) via ${host} showed the value (${found}): ${r.head.slice(0, 300)}`);
  }), { numRuns, ...seed });
  t.pass(`${label}: no header showed the value`);
}

t.test('the credential read back in the head of an answer', async (t) => {
  const a = await start();
  t.teardown(() => a.close());
  const { token } = await a.agents.add('attacker');
  const auth = `attacker:${token}`;
  const injected = await send(a.proxyAddress.port, auth, `${origin('svc.example')}/api/x`, { authorization: `Bearer ${placeholder}` });
  t.equal(injected.status, 200);
  t.equal(recorded, `Bearer ${SECRET}`, 'the service recorded the real value');
  const control = await send(a.proxyAddress.port, auth, `${origin('svc.example')}/show?place=location&enc=raw`);
  t.match(control.head, `Bearer ${placeholder}`, 'control: the head reaches the agent, the value replaced by its placeholder');
  await headsShowNothing(t, a.proxyAddress.port, auth, 'read back in the head');
  // Fifteenth pass: a session cookie's zlib as base64 in every place (whole, or in pieces a client joins).
  for (const place of places) {
    const r = await send(a.proxyAddress.port, auth, `${origin('svc.example')}/show?place=${place}&enc=session-zlib`);
    if (inflatedRuns(r.head).includes(SECRET)) t.fail(`${place} (session-zlib): ${r.status}, the value inflated from the head`);
  }
  t.pass('no head showed the value as base64 of zlib');
  // Eleventh pass: a chunked cookie with another cookie between its chunks, or its chunks out of order.
  for (const place of ['split-cookies-between', 'split-cookies-unordered']) {
    for (const enc of ['raw', 'base64']) {
      const r = await send(a.proxyAddress.port, auth, `${origin('svc.example')}/show?place=${place}&enc=${enc}`);
      const found = reveal(r.head, SECRET);
      if (found || r.status !== 502) t.fail(`${place} (${enc}): ${r.status}${found ? `, the value readable (${found})` : ', not 502'}`);
    }
  }
  // Ninth pass: the body in UTF-7 under a declaration the scrubber read one way and a client another
  // (every declaration, under the host's name and another name of its server).
  for (const [d, decl] of declarations.entries()) {
    for (const host of hosts) {
      const r = await send(a.proxyAddress.port, auth, `${origin(host)}/body?d=${d}`);
      const found = reveal(r.head, SECRET);
      if (found || r.status !== 502) t.fail(`a body declared ${JSON.stringify(decl)} via ${host}: ${r.status}${found ? `, the value readable (${found})` : ', not 502'}`);
    }
  }
  t.pass('no declaration a client reads as UTF-7 let the body through');
  // Ninth pass: a refusal's detail quoted what the body sniffer read before scrubbing — a <meta>
  // whose og:url holds the request URL with `charset=` put right before the injected key.
  for (const q of [`charset=&key=${placeholder}`, `x=1&charset=%20&key=${placeholder}`]) {
    const r = await send(a.proxyAddress.port, auth, `http://query.example:${up.port}/api/page?${q}`);
    const forms = [SECRET, encodeURIComponent(SECRET)];
    const piece = forms.flatMap((f) => Array.from({ length: f.length - 7 }, (_, i) => f.slice(i, i + 8))).find((p) => r.head.includes(p));
    t.equal(piece, undefined, `og:url with ${q.split('&key')[0]}: no piece of the value in what the agent got (${r.status})`);
  }
  t.equal((await send(a.proxyAddress.port, auth, `${origin('svc.example')}/mime-control`)).status, 200, 'control: such text in a part body passes');
  // Ninth pass: a declaration at the body's first byte was never read (the sniffer looked for the
  // tag's end only past its start), nor one flushed across two writes.
  for (const [kind, type, split] of [['xml', 'text/plain', '0'], ['xml', 'application/xml', '0'], ['meta', 'text/html', '0'], ['xml', 'text/plain', '1'], ['xml', 'application/octet-stream', '1'], ['xml', 'application/json', '1']] as const) {
    const r = await send(a.proxyAddress.port, auth, `${origin('svc.example')}/declared?kind=${kind}&split=${split}&type=${encodeURIComponent(type)}`);
    const what = `a UTF-7 ${kind} declaration at the first byte (${type}${split === '1' ? ', flushed in two writes' : ''})`;
    t.equal(reveal(r.head, SECRET), undefined, `${what}: nothing shown`);
    t.equal(r.status, 502, `${what}: withheld`);
  }
  for (const [d, host] of mimeShows.map((_, i) => [i, hosts[i % 2]!] as const)) {
    const r = await send(a.proxyAddress.port, auth, `${origin(host)}/mime?d=${d}`);
    t.equal(reveal(r.head, SECRET), undefined, `MIME header lines of the body (${d}) via ${host} show nothing`);
    t.equal(r.status, 502, `MIME header lines of the body (${d}): withheld`);
  }
  // Thirteenth pass: the record inside compressed data that no Content-Encoding declares.
  const packed = fc.record({
    pack: fc.constantFrom(...(Object.keys(packs) as Pack[])),
    doc: fc.constantFrom('log', 'json', 'base64'),
    w: fc.constantFrom(3, 64, 1000, 100_000),
    ce: fc.boolean(),
    type: fc.constantFrom('application/gzip', 'application/octet-stream', 'application/zip', 'text/plain', ''),
    host: fc.constantFrom(...hosts),
  });
  await fc.assert(fc.asyncProperty(packed, async ({ pack, doc, w, ce, type, host }) => {
    const r = await send(a.proxyAddress.port, auth, `${origin(host)}/packed?pack=${pack}&doc=${doc}&w=${w}&ce=${ce ? 1 : 0}&type=${encodeURIComponent(type)}`);
    const found = reveal(unpacked(r.body), SECRET);
    if (found) throw new Error(`${pack} (${doc}, writes of ${w}${ce ? ', declared gzip over it' : ''}, ${type || 'no type'}) via ${host}: ${r.status}, unpacked the value (${found})`);
    if (r.status === 200 && r.complete) throw new Error(`${pack} (${doc}) via ${host}: passed whole`);
  }), { numRuns: Math.ceil(numRuns / 2), ...seed });
  // Controls: an archive without the value passes byte for byte, in any writes, also under a declared coding.
  for (const [k, pack] of (Object.keys(packs) as Pack[]).entries()) {
    for (const [w, ce] of [[[100_000, 5, 333][k % 3]!, k % 2 === 1]] as const) {
      const r = await send(a.proxyAddress.port, auth, `${origin('svc.example')}/packed?pack=${pack}&doc=control&w=${w}&ce=${ce ? 1 : 0}&type=application%2Fgzip`);
      const sent = packs[pack](Buffer.from(packedDocs.control()));
      if (r.status !== 200 || !r.complete || !r.body.equals(sent)) t.fail(`control ${pack} (writes of ${w}${ce ? ', declared gzip' : ''}): ${r.status}, ${r.body.length} of ${sent.length} bytes${r.body.equals(sent) ? '' : ', not the bytes sent'}`);
    }
  }
  t.pass('controls: archives without the value pass byte for byte');
  // Fifteenth pass: a validator derived from the unscrubbed body (Express's ETag, Content-MD5) let
  // the agent check a guess offline: the scrubbed body with the guess in the placeholder's place,
  // hashed, equals it (a password, a short key: a dictionary); its length prefix and a HEAD's
  // Content-Length gave the secret's length.
  for (const method of ['GET', 'HEAD'] as const) {
    const r = await new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: a.proxyAddress.port, method, path: `${origin('svc.example')}/etag-record`, agent: false, headers: { host: `svc.example:${up.port}`, 'proxy-authorization': `Basic ${Buffer.from(auth).toString('base64')}` } }, (res) => {
        let body = '';
        res.setEncoding('latin1');
        res.on('data', (c: string) => { body += c; });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });
    const real = JSON.stringify({ headers: { authorization: recorded } });
    const shown = Object.entries(r.headers).map(([k, v]) => `${k}: ${String(v)}`).join('\n');
    t.equal(r.status, 200, `${method}: answered`);
    if (method === 'GET') t.equal(r.body.replace(placeholder, SECRET), real, 'GET: the scrubbed body is the record with the placeholder where the value was');
    t.notOk(shown.includes(expressEtag(real).slice(3, -1).split('-')[1]!), `${method}: no ETag hashing the real record (a guess checked offline)`);
    t.notOk(shown.includes(crypto.createHash('md5').update(real).digest('base64')), `${method}: no Content-MD5 of the real record`);
    // The Date header is left out: its clock's minutes and seconds are any two digits (81 is 0x51: at :51 it matched).
    const undated = Object.entries(r.headers).filter(([k]) => k !== 'date').map(([k, v]) => `${k}: ${String(v)}`).join('\n');
    t.notOk(new RegExp(`\\b(${Buffer.byteLength(real)}|${Buffer.byteLength(real).toString(16)})\\b`).test(undated), `${method}: nothing gives the real record's length`);
  }
  // And asked the other way: the agent computes the tag itself (the scrubbed body, the guess where
  // the placeholder is) and sends it as If-None-Match or If-Match: a 304 or a 412 would confirm it.
  const real = JSON.stringify({ headers: { authorization: recorded } });
  for (const [name, guess] of [['if-none-match', SECRET], ['if-match', SECRET], ['if-none-match', 'sk_live_wrong'], ['if-match', 'sk_live_wrong']] as const) {
    const r = await send(a.proxyAddress.port, auth, `${origin('svc.example')}/etag-record`, { [name]: expressEtag(real.replace(SECRET, guess)) });
    t.equal(r.status, 200, `${name} with the tag of ${guess === SECRET ? 'the right' : 'a wrong'} guess: the same full answer`);
  }
  // Seventeenth pass: on a write the tag stayed (dropped, the write would be unconditional), so a
  // PUT with If-Match (or If-None-Match) of a computed guess answered it: 412 or not. Now the tags
  // the host sends are sealed and get their value back; one Airlock did not hand out that a body
  // could give (Express's, Rack's, nginx's shapes) matches nothing; an opaque version goes on.
  const call = (method: string, headers: Record<string, string>): Promise<{ status: number; etag: string }> => new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: a.proxyAddress.port, method, path: `${origin('svc.example')}/etag-record`, agent: false, headers: { host: `svc.example:${up.port}`, 'proxy-authorization': `Basic ${Buffer.from(auth).toString('base64')}`, ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, etag: String(res.headers.etag ?? '') }));
    });
    req.on('error', reject);
    req.end(method === 'PUT' ? '{}' : undefined);
  });
  const guessed = await Promise.all([SECRET, 'sk_live_wrong'].flatMap((guess) => ['if-match', 'if-none-match'].map(async (name) => {
    const tag = expressEtag(real.replace(SECRET, guess));
    return `${name} ${guess === SECRET ? 'right' : 'wrong'}: ${(await call('PUT', { [name]: tag })).status}/${(await call('PUT', { [name]: tag.slice(2) })).status}`;
  })));
  t.same(guessed.map((g) => g.replace(/ (right|wrong):/, ':')), ['if-match: 412/412', 'if-none-match: 200/200', 'if-match: 412/412', 'if-none-match: 200/200'], 'PUT with a computed guess (weak or strong): the same answer for the right and a wrong guess');
  const issued = await call('GET', {});
  t.ok(issued.etag && !issued.etag.includes(expressEtag(real).slice(3, -1)), `GET: a sealed tag (${issued.etag.slice(0, 16)}…), not the real one`);
  t.equal((await call('PUT', { 'if-match': issued.etag })).status, 200, 'control: PUT with If-Match of the tag Airlock handed out: the conditional write goes through');
  t.equal((await call('GET', { 'if-none-match': issued.etag })).status, 304, 'control: GET with If-None-Match of the tag handed out: 304 (revalidation works)');
  const opaque = 'W/"JzEtVGFzayAgQEBAQEBAQEBAQEBAQEBAWCc="';
  t.equal((await call('PUT', { 'if-match': opaque })).status, 412, 'control: an opaque version (Graph\'s @odata.etag) is compared by the service');
  t.equal(up.received.at(-1)?.headers['if-match'], opaque, 'control: … and reaches it as it was sent');
  // Thirteenth pass: the record a few characters per document of a stream (event stream, NDJSON).
  const pieces = fc.record({
    f: fc.constantFrom(...(Object.keys(pieceFormats) as PieceFormat[])),
    n: fc.integer({ min: 1, max: 9 }),
    doc: fc.constantFrom('raw', 'base64'),
    type: fc.constantFrom('', 'text/plain', 'application/octet-stream'),
    host: fc.constantFrom(...hosts),
  });
  await fc.assert(fc.asyncProperty(pieces, async ({ f, n, doc, type, host }) => {
    // A stream declared as something else is read as one by what sniffs it (an event stream's `data:`); NDJSON only as declared.
    const declared = pieceFormats[f].type === 'text/event-stream' ? type : '';
    // A token of its own: 10 or more characters of the value kept back trip the secret-probe wire,
    // which revokes the token (proxy/secret-probe.ts).
    const own = `attacker:${(await a.agents.issueToken('attacker', { label: 'pieces' })).token}`;
    const r = await send(a.proxyAddress.port, own, `${origin(host)}/pieces?f=${f}&n=${n}&doc=${doc}&type=${encodeURIComponent(declared)}`);
    const joined = joinedPieces(r.body.toString('utf8'), f);
    const shown = doc === 'base64' ? Buffer.from(joined, 'base64').toString('latin1') : joined;
    const found = reveal(joined, SECRET) ?? reveal(shown, SECRET) ?? (Array.from({ length: SECRET.length - 7 }, (_, i) => SECRET.slice(i, i + 8)).find((p) => shown.includes(p)));
    if (found) throw new Error(`${f} (${n} a document, ${doc}, ${declared || pieceFormats[f].type}) via ${host}: ${r.status}, joined the value (${found})`);
  }), { numRuns: Math.ceil(numRuns / 2), ...seed });
  for (const f of Object.keys(pieceFormats) as PieceFormat[]) {
    const r = await send(a.proxyAddress.port, auth, `${origin('svc.example')}/pieces?f=${f}&n=3&doc=control`);
    t.equal(joinedPieces(r.body.toString('utf8'), f), 'Hello! Here is an ordinary answer streamed a few characters at a time.', `control: an ordinary ${f} stream arrives whole`);
  }
  // Thirteenth pass: the record in full-width characters, whole or every other one.
  for (const [mix, type] of [['0', 'text/plain; charset=utf-8'], ['1', 'text/html'], ['0', 'application/json']] as const) {
    const r = await send(a.proxyAddress.port, auth, `${origin('svc.example')}/fullwidth?mix=${mix}&type=${encodeURIComponent(type)}`);
    const nfkc = r.body.toString('utf8').normalize('NFKC');
    t.equal(reveal(Buffer.from(nfkc), SECRET) ?? reveal(r.head, SECRET), undefined, `full-width${mix === '1' ? ', every other character' : ''} (${type}): NFKC shows nothing`);
  }
  const fw = await send(a.proxyAddress.port, auth, `${origin('svc.example')}/fullwidth?doc=control`);
  t.equal(fw.body.toString('utf8'), 'ＡＰＩキー：ｓｋ＿ｌｉｖｅ＿ではありません（全角）', 'control: other full-width text passes unchanged');
});
