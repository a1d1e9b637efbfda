// Tunnels carried in plain HTTP request bodies (issue 15; twenty-third pass, left open): a TCP
// stream split over ordinary POSTs to a server that dials on — Xray's XHTTP/`splithttp` (a VLESS
// request, then the agent's own TLS, in the uploads), reGeorg-style SOCKS over POSTs (`X-CMD:
// CONNECT`, `X-TARGET`, `X-PORT`, then the stream's bytes as `FORWARD` bodies), meek (the agent's
// TLS in opaque bodies), `httptunnel` — reached services the policy never saw. Read as a class:
// - a body (or the base64 a whole body or a form value is) that starts a session another protocol
//   runs (SOCKS, VLESS, Trojan, gost's relay, a multiplexer, a VPN, a TLS or SSH opening, …), read by
//   the tunnels' own reader (describe/tunnel-inner.ts) in its body mode: refused, as in a WebSocket;
// - a tunnel command naming the host and port to connect to (reGeorg's `X-CMD: CONNECT` with
//   `X-TARGET`/`X-PORT`, its older `?cmd=connect&target=…&port=…`): that destination is a second
//   target decided as the connection it amounts to (proxy/bridge-targets.ts), the strictest decision winning.
import zlib from 'node:zlib';
import { trimTrailing } from '../lib/text.ts';
import { InnerSessionScan, MAX_HELD_PIECES, byteLists, hexBytes, jsonStrings, printableOpening, quotable, startsCarried } from '../describe/tunnel-inner.ts';
import { bridgeTargets } from './bridge-targets.ts';
import { percentBytes } from './charset-readings.ts';
import { bodilessTarget } from './second-targets.ts';
import type { SecondTarget } from './second-targets.ts';
import type { Rejection } from './enforcers.ts';
import type { CapturedBody } from './request-body.ts';
import { DecodeFailure, undoContentCoding } from '../describe/body.ts';
import { multipartFields } from '../describe/multipart.ts';
import { packedPayloads } from '../describe/tunnel-sql.ts';

/** A body that opens another protocol's session: nothing after its handshake is decided here. */
const tunnelled = (what: string): Rejection => ({
  status: 403, type: 'policy-denied', title: 'A tunnel in the request body',
  detail: `the request body holds ${what}: a session carried over HTTP requests, whose traffic is not decided here (send HTTP through the proxy)`,
  outcome: 'denied',
});

/** Header and query names a tunnel's command is given under, and the verbs that open a connection. */
const COMMAND_NAMES = new Set(['cmd', 'x-cmd', 'command', 'x-command', 'action', 'x-action']);
const CONNECT_VERBS = new Set(['connect', 'open']);
/** Base64 this long or more (a whole body, a form value) is decoded and read too. */
const MIN_BASE64 = 12;
/** At most this many distinct values (form, query, JSON strings, multipart fields) are read; shorter ones hold no opening. */
const MAX_PIECES = 4096;
const MIN_PIECE = 3;
const PRINTABLE = /^[\x20-\x7e]*$/;
/** Base64 texts longer than this are not decoded (past a MiB: the capture's bound). */
const MAX_BASE64_TEXT = 1024 * 1024 + 4;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;
/** Base64 whose padding may end a segment mid-text (gRPC-web text: each message base64'd on its own, joined). */
const BASE64_SEGMENTS = /^[A-Za-z0-9+/_-][A-Za-z0-9+/_=-]*$/;

/**
 * Base64 as a decoder that reads it in groups of four reads it (twenty-sixth pass): gRPC-web's
 * text mode (`application/grpc-web-text`, Envoy's and grpcwebproxy's filters, the JS client)
 * base64s each message on its own and joins them, so padding may stand mid-text
 * (`AAAAAAEA…=AAAAAC8W…`). Node's decoder stops at the first `=` and the whole-text test refused
 * such text, so a hello in the second message went unread. Each run between paddings is decoded
 * and the bytes joined; undefined for text that is not base64 so read.
 */
export function base64Segments(t: string): Buffer | undefined {
  if (!BASE64_SEGMENTS.test(t)) return undefined;
  const encoding = /[-_]/.test(t) ? 'base64url' : 'base64';
  if (!t.includes('=')) return Buffer.from(t, encoding);
  const out: Buffer[] = [];
  let at = 0;
  while (at < t.length) {
    let end = t.indexOf('=', at);
    if (end === -1) end = t.length;
    if (end > at) out.push(Buffer.from(t.slice(at, end), encoding));
    const run = end - at;
    at = end;
    // One or two `=` end a group of four (`data=AQAW…` is a form, no such text).
    let pad = 0;
    while (t[at] === '=') {
      if (++pad > 2) return undefined;
      at++;
    }
    if (pad && (run + pad) % 4 !== 0) return undefined;
  }
  return Buffer.concat(out);
}

/** A head's raw name/value list as pairs, names lower-cased and values trimmed. */
function lowerPairs(rawHeaders: string[]): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) headers.push([rawHeaders[i]!.toLowerCase(), rawHeaders[i + 1]!.trim()]);
  return headers;
}

/** The content codings a body was given, in order, `identity` left out. */
function contentCodings(headers: Array<[string, string]>): string[] {
  return headers.filter(([k]) => k === 'content-encoding').flatMap(([, v]) => v.split(',')).map((c) => c.trim().toLowerCase()).filter((c) => c && c !== 'identity');
}

export function bodyTunnel(rawHeaders: string[], requestUrl: string, captured: CapturedBody): SecondTarget[] | { refusal: Rejection } | undefined {
  const headers = lowerPairs(rawHeaders);
  const found = sessionIn(captured, headers, requestUrl);
  if (found) return { refusal: tunnelled(found) };
  const looked = dnsQueryTargets(headers, requestUrl, captured);
  if (looked && 'refusal' in looked) return looked;
  const dialled = connectTargets(rawHeaders, headers, requestUrl);
  if (dialled && 'refusal' in dialled) return dialled;
  return looked && dialled ? [...looked, ...dialled] : looked ?? dialled;
}

/** At most this many names in one DNS query are decided; more are refused. */
const MAX_DNS_NAMES = 8;
/**
 * The names of a message that is a DNS query whole (twenty-seventh pass, left open by the
 * twenty-sixth: DNS over a WebSocket or a UDP/TCP bridge to a resolver): a header with QR 0 and
 * opcode 0, 1–8 questions and no answer or authority records, at most an EDNS OPT record, each
 * name in labels without compression, a class DNS defines, nothing after; over TCP behind its
 * 2-byte length. Undefined for anything else (a binary message is rarely all of that).
 */
export function dnsQueryNames(b: Buffer): string[] | undefined {
  const m = b.length >= 19 && b.readUInt16BE(0) === b.length - 2 ? b.subarray(2) : b;
  if (m.length < 17 || m[2]! & 0xf8) return undefined;
  const qd = m.readUInt16BE(4);
  if (qd < 1 || qd > MAX_DNS_NAMES || m.readUInt16BE(6) !== 0 || m.readUInt16BE(8) !== 0 || m.readUInt16BE(10) > 1) return undefined;
  const names: string[] = [];
  let at = 12;
  for (let q = 0; q < qd; q++) {
    const labels: string[] = [];
    for (;;) {
      const len = m[at];
      if (len === undefined || len > 63) return undefined;
      at++;
      if (len === 0) break;
      if (at + len > m.length) return undefined;
      labels.push(m.subarray(at, at + len).toString('latin1').replaceAll('.', '\\.'));
      at += len;
    }
    if (!labels.length || at + 4 > m.length || ![1, 3, 254, 255].includes(m.readUInt16BE(at + 2))) return undefined;
    at += 4;
    names.push(labels.join('.'));
  }
  if (m.readUInt16BE(10) === 1) {
    // EDNS's OPT: the root name, type 41, a payload size, a TTL, its data.
    if (at + 11 > m.length || m[at] !== 0 || m.readUInt16BE(at + 1) !== 41) return undefined;
    at += 11 + m.readUInt16BE(at + 9);
  }
  return at === m.length ? names : undefined;
}

/** Whether a name is spelled as a host is (labels of 1–63 letters, digits, `-`, `_`, not starting or ending in `-`; 253 characters at most). */
export function hostSpelled(name: string): boolean {
  if (name.length > 253) return false;
  for (const label of name.split('.')) {
    if (!label.length || label.length > 63 || label.startsWith('-') || label.endsWith('-')) return false;
    for (let i = 0; i < label.length; i++) {
      const c = label.charCodeAt(i);
      if (!(((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f)) return false;
    }
  }
  return true;
}

/**
 * The names a DNS-over-HTTPS query asks about (twenty-sixth pass), each a second target decided as
 * a request to that host: a DoH resolver the policy allows (RFC 8484: `GET ?dns=<base64url>`,
 * `POST` of `application/dns-message`; the JSON API's `/resolve?name=`, `/dns-query?name=`) sends
 * every query on to the name's own name servers, so iodine's and dnstt's data in query names
 * (`<base32 of the stream>.t.evil.example`, TXT answers back) was a channel both ways to any
 * domain the agent's server answered for, through an allowed resolver. A name is asked only of
 * what the policy lets the agent reach (as Airlock resolves no name of a denied request); a name
 * no host is spelled as (raw bytes in labels, iodine's 8-bit encodings, a dot inside a label) is
 * refused, as is a query whose message cannot be read.
 */
function dnsQueryTargets(headers: Array<[string, string]>, requestUrl: string, captured: CapturedBody): SecondTarget[] | { refusal: Rejection } | undefined {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return undefined;
  }
  const messages: Buffer[] = [];
  const names: string[] = [];
  let bodyMessage: Buffer | undefined;
  for (const v of url.searchParams.getAll('dns')) {
    const m = base64Segments(v.trim());
    if (m && m.length >= 12) messages.push(m);
  }
  const contentType = headers.find(([k]) => k === 'content-type')?.[1] ?? '';
  if (/^\s*application\/dns-message\s*(?:;|$)/i.test(contentType) && captured.captured.length) {
    if (captured.truncated) return badDns('a DNS message longer than Airlock reads');
    messages.push(captured.captured);
  } else if (!captured.truncated && dnsQueryNames(captured.captured)) {
    // Twenty-seventh pass: a body that is a DNS query whole, under any type (a tunnel server or bridge
    // writing it to a resolver), behind DNS over TCP's length or not.
    const b = captured.captured;
    bodyMessage = b.length >= 19 && b.readUInt16BE(0) === b.length - 2 && dnsQueryNames(b.subarray(2)) ? b.subarray(2) : b;
    messages.push(bodyMessage);
  }
  // The JSON API (Google's `/resolve`, Cloudflare's and others' `/dns-query` with `application/dns-json`).
  const last = trimTrailing(url.pathname, '/').split('/').pop()!.toLowerCase();
  const accept = headers.filter(([k]) => k === 'accept').map(([, v]) => v).join(',');
  if (last === 'resolve' || last === 'dns-query' || /application\/dns-json/i.test(accept) || /dns-json/i.test(url.searchParams.get('ct') ?? '') || /^\s*application\/dns-json\b/i.test(contentType)) {
    names.push(...url.searchParams.getAll('name'));
    // Twenty-seventh pass: the JSON API POSTed (`{"name": …, "type": "TXT"}`, or a list of such questions).
    // (Under a DNS type or to `/dns-query` only: an application's own `/resolve` takes JSON naming other things.)
    const dnsJson = last === 'dns-query' || /application\/dns-json/i.test(accept) || /^\s*application\/dns-json\b/i.test(contentType);
    if (dnsJson && captured.captured.length && /^\s*[[{]/.test(captured.captured.subarray(0, 64).toString('latin1'))) {
      if (captured.truncated) return badDns('a DNS-over-HTTPS JSON body longer than Airlock reads');
      let doc: unknown;
      try {
        doc = JSON.parse(captured.captured.toString('utf8'));
      } catch {
        doc = undefined;
      }
      for (const q of (Array.isArray(doc) ? doc : [doc, ...(doc && typeof doc === 'object' && Array.isArray((doc as { questions?: unknown }).questions) ? (doc as { questions: unknown[] }).questions : [])])) {
        if (q && typeof q === 'object' && typeof (q as { name?: unknown }).name === 'string') names.push((q as { name: string }).name);
      }
    }
  }
  for (const m of messages) {
    const read = dnsQuestions(m);
    if (read === undefined) {
      // A `dns=` parameter that is no DNS message is some other page's; a DNS message body must read.
      if (m !== captured.captured && m !== bodyMessage) continue;
      return badDns('a DNS message Airlock cannot read');
    }
    names.push(...read);
  }
  if (!names.length) return undefined;
  if (names.length > MAX_DNS_NAMES) return badDns(`more than ${MAX_DNS_NAMES} names in one DNS query`);
  const out: SecondTarget[] = [];
  for (const given of names) {
    const name = given.trim().replace(/\.$/, '').toLowerCase();
    if (!name) continue;
    if (!hostSpelled(name)) return badDns(`a DNS query for a name no host is spelled as (${JSON.stringify(given.slice(0, 80))})`);
    out.push(bodilessTarget([], 'GET', `https://${name}/`, `the name its DNS query asks about (${name}), sent on by the resolver to that domain's name servers`));
  }
  return out.length ? out : undefined;
}

const badDns = (what: string): { refusal: Rejection } => ({
  refusal: { status: 403, type: 'policy-denied', title: 'A DNS query Airlock cannot decide', detail: `the request carries ${what}: a DNS-over-HTTPS resolver sends its names on to their own servers (a channel to any domain)`, outcome: 'denied' },
});

/**
 * The question names of a DNS message (RFC 1035 §4.1: a 12-byte header, QDCOUNT questions of a
 * name, a type and a class; labels of up to 63 bytes, compression pointers followed backwards only),
 * each label's bytes as Latin-1 (a dot inside a label kept as `\.`, so it never reads as a host);
 * undefined for what is no query DNS reads.
 */
export function dnsQuestions(m: Buffer): string[] | undefined {
  if (m.length < 12 || m[2]! & 0x80) return undefined;
  const count = m.readUInt16BE(4);
  if (count < 1 || count > MAX_DNS_NAMES * 4) return undefined;
  const names: string[] = [];
  let at = 12;
  for (let q = 0; q < count; q++) {
    const labels: string[] = [];
    let p = at;
    let jumped = false;
    for (let hops = 0; ; hops++) {
      if (p >= m.length || hops > 128) return undefined;
      const len = m[p]!;
      if (len === 0) {
        if (!jumped) at = p + 1;
        break;
      }
      if ((len & 0xc0) === 0xc0) {
        if (p + 1 >= m.length) return undefined;
        const to = ((len & 0x3f) << 8) | m[p + 1]!;
        if (to >= p) return undefined;
        if (!jumped) at = p + 2;
        jumped = true;
        p = to;
        continue;
      }
      if (len > 63 || p + 1 + len > m.length) return undefined;
      labels.push(m.subarray(p + 1, p + 1 + len).toString('latin1').replaceAll('.', '\\.'));
      p += 1 + len;
    }
    if (at + 4 > m.length) return undefined;
    at += 4;
    names.push(labels.join('.'));
  }
  return names;
}

/**
 * The session a request's data opens: the body as it came and as its content codings decode, a
 * multipart body's parts, a form's values as bytes (`%05%01%00…`), JSON strings, the query's
 * values; each read as it is and, when it is base64, decoded (Neo-reGeorg's and many bridges' framing).
 */
function sessionIn(captured: CapturedBody, headers: Array<[string, string]>, requestUrl: string): string | undefined {
  const contentType = headers.find(([k]) => k === 'content-type')?.[1] ?? '';
  const read = (b: Buffer, carried = false): string | undefined => {
    if (carried) return new InnerSessionScan({ body: true, carried: true }).read(b);
    // gRPC's length-prefixed messages (gRPC, gRPC-web) start with zeros a proxy start reads too: each message is read instead.
    const messages = grpcMessages(b, captured.truncated);
    if (messages) {
      for (const m of messages) {
        const found = new InnerSessionScan({ body: true }).read(m);
        if (found) return found;
      }
      // A tunnel's messages wrap its bytes in a protobuf field (Xray's and V2Ray's gRPC transport, `gun`: `Hunk {bytes data = 1}`): read joined.
      const carried = protobufPayload(messages);
      return carried ? new InnerSessionScan({ body: true }).read(carried) : undefined;
    }
    return new InnerSessionScan({ body: true }).read(b);
  };
  // A value's own text may quote a banner (a search for `SSH-2.0-OpenSSH_9.6`): as it came, only a
  // body's is read so; decoded from base64, any is. (Every other opening holds a byte no printable
  // text does, a line's CRLF at least; XMPP's, whose session is all printable, is read there too.)
  const both = (b: Buffer, value: boolean): string | undefined => {
    let found: string | undefined;
    if (!value) found = read(b);
    else if (!PRINTABLE.test(b.toString('latin1'))) {
      found = read(b);
      if (found === 'an SSH session') found = undefined;
    } else found = printableOpening(b);
    if (found || b.length < MIN_PIECE || b.length > MAX_BASE64_TEXT) return found;
    const t = b.toString('latin1').trim();
    const bytes = t.length < MIN_BASE64 ? undefined : base64Segments(t);
    const decoded = bytes && read(bytes);
    if (decoded) return `${decoded} (in base64)`;
    // (Twenty-ninth pass: in hex, every opening; it was read there only for a TLS hello, SSH's line and HTTP/2's preface.)
    const hex = hexBytes(t);
    const inHex = hex && startsCarried(hex) ? read(hex, true) : undefined;
    return inHex ? `${inHex} (in hex)` : undefined;
  };
  // Each distinct piece once, MAX_PIECES of them (a value costs ~20 µs: 350,000 `a=&` would be seconds).
  const seen = new Set<string>();
  for (const [piece, value, carried] of pieces(captured, headers, contentType, requestUrl)) {
    if (value) {
      const key = piece.length <= 256 ? piece.toString('latin1') : undefined;
      if (piece.length < MIN_PIECE || (key !== undefined && seen.has(key))) continue;
      if (key !== undefined) seen.add(key);
      if (seen.size > MAX_PIECES) return undefined;
    }
    const found = carried ? read(piece, true) : both(piece, value);
    if (found) return carried ? `${found} (in byte numbers or packed bytes)` : found;
  }
  return undefined;
}

/** The pieces of a request a tunnel server may take its stream from, the body first (see sessionIn). */
function* pieces(captured: CapturedBody, headers: Array<[string, string]>, contentType: string, requestUrl: string): Generator<[Buffer, boolean, boolean?]> {
  const codings = contentCodings(headers);
  let body = captured.captured;
  if (body.length) yield [body, false];
  if (codings.length && body.length) {
    try {
      body = undoContentCoding(body, codings, captured.truncated, true);
      yield [body, false];
    } catch (err) {
      // Not decodable here: the body guard and the description say so; its raw bytes were read.
      if (!(err instanceof DecodeFailure)) throw err;
    }
  }
  if (body.length) {
    const text = body.toString('latin1');
    if (/^\s*multipart\//i.test(contentType)) {
      // A file's part is read as a body is, a field's as a value.
      for (const file of [true, false]) {
        for (const [, v] of multipartFields(body, contentType, (_, f) => f === file).fields) yield [Buffer.from(v, 'latin1'), !file];
      }
    }
    for (const m of text.slice(0, MAX_BASE64_TEXT).matchAll(/"([A-Za-z0-9+/_-]{12,}={0,2})"/g)) yield [Buffer.from(m[1]!, 'latin1'), true];
    // Lists of byte numbers (twenty-ninth pass: Node's `{"type":"Buffer","data":[…]}`, `Array.from(chunk)`), each read as the bytes a relay writes.
    for (const list of byteLists(text)) if (startsCarried(list)) yield [list, false, true];
    // A MessagePack or CBOR body's byte strings (a relay's packed envelope: packedPayloads).
    const packed = body[0]! >= 0x80 || body[0]! <= 0x05 ? packedPayloads(body) : undefined;
    for (const b of [packed?.last, packed?.longest]) if (b && startsCarried(b)) yield [b, false, true];
    if (/^\s*application\/x-www-form-urlencoded\b/i.test(contentType) || /^[^=&\s]+=[^&]*(?:&|$)/.test(text)) yield* formValues(text);
  }
  const q = requestUrl.indexOf('?');
  if (q !== -1) yield* formValues(requestUrl.slice(q + 1).replace(/#.*$/s, ''));
  // The path's segments, cookies and the tunnel's own headers (twenty-ninth pass: see headValues), as values.
  for (const [, v] of headValues(requestUrl, headers.flat())) yield [v, true];
}

/** A form's (or a query's) values as the bytes PHP and Go hand a program: `+` a space, `%XX` a byte (one pass, no copy per value). */
function* formValues(text: string): Generator<[Buffer, boolean]> {
  const src = Buffer.from(text, 'latin1');
  const out = Buffer.allocUnsafe(src.length);
  const hex = (c: number): number => (c >= 0x30 && c <= 0x39 ? c - 0x30 : (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66 ? (c | 0x20) - 0x57 : -1);
  let i = 0;
  while (i < src.length) {
    let end = src.indexOf(0x26, i);
    if (end === -1) end = src.length;
    // (`=` looked for in this pair only: a body of `a&a&…` is not read again for each.)
    const at = src.subarray(i, end).indexOf(0x3d);
    if (at !== -1) {
      let n = 0;
      const from = i + at + 1;
      for (let k = from; k < end; k++) {
        const c = src[k]!;
        const hi = c === 0x25 && k + 2 < end ? hex(src[k + 1]!) : -1;
        const lo = hi >= 0 ? hex(src[k + 2]!) : -1;
        if (lo >= 0) {
          out[from + n++] = hi * 16 + lo;
          k += 2;
        } else out[from + n++] = c === 0x2b ? 0x20 : c;
      }
      if (n >= MIN_PIECE) yield [out.subarray(from, from + n), true];
    }
    i = end + 1;
  }
}

/**
 * The destination a tunnel command names: a header or query command `CONNECT` with the host and
 * port beside it, in headers (`X-Target`, `X-Port`: reGeorg's) or the query (`target`, `port`).
 */
function connectTargets(rawHeaders: string[], headers: Array<[string, string]>, requestUrl: string): SecondTarget[] | { refusal: Rejection } | undefined {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return undefined;
  }
  const commands = [...headers, ...[...url.searchParams].map(([k, v]) => [k.toLowerCase(), v] as const)]
    .filter(([k]) => COMMAND_NAMES.has(k)).map(([, v]) => v.trim().toLowerCase());
  if (!commands.some((c) => CONNECT_VERBS.has(c))) return undefined;
  // The query as the bridge reader reads one, with the headers' names (`X-Target`) as parameters.
  const query = new URLSearchParams(url.search);
  for (const [k, v] of headers) if (k.startsWith('x-')) query.append(k.slice(2), v);
  const asked = new URL(url.href);
  asked.search = query.toString();
  return bridgeTargets(rawHeaders, asked.href);
}

/** At most this many gRPC messages of one body are read. */
const MAX_GRPC_MESSAGES = 256;
/**
 * The messages of a body that is gRPC's framing whole (a flag byte 0 or 1, or gRPC-web's trailer
 * flag 0x80/0x81, a 4-byte length, the message) to the body's end (or past what was captured);
 * otherwise undefined.
 */
function grpcMessages(b: Buffer, truncated: boolean): Buffer[] | undefined {
  const out: Buffer[] = [];
  let at = 0;
  let budget = GRPC_INFLATE_BUDGET;
  while (at < b.length) {
    if (out.length >= MAX_GRPC_MESSAGES || at + 5 > b.length || (b[at]! & 0x7e) !== 0) return undefined;
    const length = b.readUInt32BE(at + 1);
    let m = b.subarray(at + 5, at + 5 + length);
    if (at + 5 + length > b.length && !truncated) return undefined;
    // A compressed message (flag 1, not a gRPC-web trailer): read as the server inflates it.
    if (b[at] === 1 && m.length && budget > 0) {
      const inflated = grpcInflate(m, budget);
      if (inflated) {
        budget -= inflated.length;
        m = inflated;
      }
    }
    out.push(m);
    at += 5 + length;
  }
  return out.length ? out : undefined;
}

/** What one body's compressed gRPC messages may inflate to, in all (a bomb stops there). */
const GRPC_INFLATE_BUDGET = 1024 * 1024;
/**
 * A compressed gRPC message inflated (twenty-eighth pass): gRPC's per-message compression
 * (`grpc-encoding: gzip` or `deflate`, grpc-go's and grpc-java's compressors; flag 1 before the
 * length) hid any opening in a tunnel's messages (a VLESS request, a hello, SSH's line, in a
 * Hunk or raw) from every reading. gzip by its magic, zlib's deflate by its header; at most
 * `most` bytes out, cut input read as far as it goes; undefined for anything else.
 */
function grpcInflate(m: Buffer, most: number): Buffer | undefined {
  const gzip = m[0] === 0x1f && m[1] === 0x8b;
  const deflate = m.length > 1 && (m[0]! & 0x0f) === 8 && ((m[0]! << 8) | m[1]!) % 31 === 0;
  if (!gzip && !deflate) return undefined;
  const opts = { maxOutputLength: most, finishFlush: zlib.constants.Z_SYNC_FLUSH };
  // (A message inflating past `most` is read from a shorter start of its input: an opening stands first, before any padding.)
  for (const input of [m.length, 4096, 512, 64]) {
    if (input > m.length) continue;
    try {
      const part = m.subarray(0, input);
      return gzip ? zlib.gunzipSync(part, opts) : zlib.inflateSync(part, opts);
    } catch {
      // Past `most`, or not compressed data after all: a shorter start, then none.
    }
  }
  return undefined;
}

/** At most this many fields of one protobuf message are read. */
const MAX_PROTOBUF_FIELDS = 256;
/**
 * The bytes a tunnel's gRPC messages carry in a protobuf field (twenty-sixth pass): Xray's and
 * V2Ray's gRPC transport (`gun`) sends the stream as `Hunk {bytes data = 1}` (or `MultiHunk
 * {repeated bytes data = 1}`), so each message starts `0a <length>` and VLESS, SOCKS or a hello
 * stood two bytes into it, where the stream-start readings never looked. Each message read as
 * protobuf whole (every field's tag, wire type and length agreeing, to its end); the bytes of its
 * first length-delimited field number, every occurrence in order, joined across messages.
 * Undefined when a message is no such protobuf or none carries such a field.
 */
export function protobufPayload(messages: Buffer[]): Buffer | undefined {
  const out: Buffer[] = [];
  let field: number | undefined;
  for (const m of messages) {
    let at = 0;
    let n = 0;
    const varintAt = (): number | undefined => {
      let v = 0;
      for (let shift = 0; shift < 35 && at < m.length; shift += 7) {
        const c = m[at++]!;
        v += (c & 0x7f) * 2 ** shift;
        if (!(c & 0x80)) return v;
      }
      return undefined;
    };
    while (at < m.length) {
      if (++n > MAX_PROTOBUF_FIELDS) return undefined;
      const tag = varintAt();
      if (tag === undefined || tag < 8) return undefined;
      const type = tag & 7;
      if (type === 0) {
        if (varintAt() === undefined) return undefined;
      } else if (type === 1 || type === 5) {
        at += type === 1 ? 8 : 4;
      } else if (type === 2) {
        const length = varintAt();
        if (length === undefined || at + length > m.length) return undefined;
        field ??= tag >>> 3;
        if (tag >>> 3 === field) out.push(m.subarray(at, at + length));
        at += length;
      } else return undefined;
      if (at > m.length) return undefined;
    }
  }
  return out.length ? Buffer.concat(out) : undefined;
}

/** A stream's start read across bodies this far past each body's own start (every opening read there is shorter). */
const STREAM_START = 2048;
/** At most this many streams (one begun at each recent body) per agent and destination, and destinations kept. */
const MAX_LANES = 32;
const MAX_DESTINATIONS = 1024;
/** Agents whose tables are kept (each agent's own bound is MAX_DESTINATIONS streams). */
const MAX_AGENTS = 256;
/** Pieces of a sequenced session kept (and the run read back from one), and sessions kept in all. */
const MAX_SEQUENCE_PIECES = 64;
const SEQUENCE_BYTES = 16 * 1024;
/** Sequenced sessions kept per agent. */
const MAX_SEQUENCE_SESSIONS = 16;
/** Streams kept in all agents' tables together. */
const MAX_ALL_DESTINATIONS = 8192;

/**
 * A tunnel cut across requests (twenty-fifth pass, left open by the twenty-fourth): a tunnel
 * server joins the bodies of successive POSTs into one stream (meek and reGeorg's `FORWARD` by
 * session, Xray's XHTTP packet-up by the sequence in its path, httptunnel, a long-poll bridge),
 * so an opening cut into pieces — `SSH-2` then `.0-OpenSSH_9.6\r\n`, a TLS record's header then
 * its hello, a SOCKS greeting then its request, one byte a POST — passed, each body holding no
 * opening alone. Each agent's bodies to one destination (host and port: the server may take a
 * session's pieces under any path) are read as the streams they may continue: a stream begun at
 * each of the last MAX_LANES bodies, read by the tunnels' own reader in its body mode (the same
 * readings as one body, carried across), for its first STREAM_START bytes. A body that completes
 * an opening is refused; its bytes are not taken into the streams (the server never gets them).
 */
/**
 * A stream a BodyStreams lane reads: its scan, the bytes fed so far, and, while the stream is one
 * piece sent `times` times over (`run`), that piece; `times` is -1 once it is anything else.
 */
interface Lane {
  scan: InnerSessionScan;
  fed: number;
  run: string;
  times: number;
}

/** Pieces up to this long are remembered as runs (a path's segment, a cookie, a poll's small body). */
const MAX_RUN_PIECE = 256;
/** Runs looked up to this many pieces (the streams a poll keeps open at their start are its last few; the oldest reads on). */
const MAX_RUN_TIMES = 16;
/** Readings of runs remembered, for every agent and destination: each is the same for all of them. */
const MAX_SCAN_RUNS = 1024;
/**
 * What reading a piece sent n times over (from a stream's start, never continued) finds, and the
 * scan after it: a pure function of the piece, n and the scan's options, so an agent that polls
 * one path (each request starting a stream of its own and going on with those begun before: a
 * dozen readings a request) pays for each (piece, n) once. Keyed by options, n and the piece.
 */
const scanRuns = new Map<string, { scan: InnerSessionScan; found: string | undefined }>();
/** Forgets every remembered run (tests compare readings with and without them). */
export function forgetScanRuns(): void {
  scanRuns.clear();
}
function rememberRun(key: string, value: { scan: InnerSessionScan; found: string | undefined }): void {
  scanRuns.set(key, value);
  while (scanRuns.size > MAX_SCAN_RUNS) scanRuns.delete(scanRuns.keys().next().value!);
}

export class BodyStreams {
  /** Reading a server's answers (twenty-seventh pass): its openings, not a client's (InnerSessionScan's `answer`). */
  private readonly answer: boolean;
  constructor(opts: { answer?: boolean } = {}) {
    this.answer = opts.answer === true;
  }

  /** What one document opens alone, each stream form read from its start (an answer's text cut across chunks: AnswerTunnels). */
  readAlone(captured: CapturedBody, rawHeaders: string[]): string | undefined {
    for (const [kind, data] of streamForms(captured, rawHeaders)) {
      if (carriedShort(kind, data)) continue;
      const found = new InnerSessionScan({ body: true, answer: this.answer, carried: carriedForm(kind) }).read(data.subarray(0, STREAM_START));
      if (found && !this.excused(kind, found)) return kind === 'raw' ? found : `${found} (${kind})`;
    }
    return undefined;
  }

  /** A value's text may quote a banner, as sessionIn reads one: an SSH line there is a ticket's or a log's (in answers a greeting too). */
  private excused(kind: StreamForm, found: string): boolean {
    return kind.startsWith('in a value') && quotable(found.replace(/ \(.*$/s, ''), this.answer);
  }

  /**
   * Each agent's own table of streams (twenty-sixth pass: one table for all agents let an agent
   * posting to 1,024 origins push a neighbour's half-sent opening out), the agents themselves in
   * the order they last posted, at most MAX_AGENTS of them.
   */
  private readonly agents = new Map<string, Map<string, Lane[]>>();
  /** Streams kept in all tables. */
  private total = 0;
  /** Each agent's and destination's pieces of hex or byte numbers held until they may begin a stream (twenty-ninth pass: startsCarried). */
  private readonly held = new Map<string, Buffer[]>();
  /** Sessions whose pieces a sequence number orders (inSequence): each piece's stream forms by its number. */
  private readonly sessions = new Map<string, Map<string, Map<number, Map<StreamForm, Buffer>>>>();

  /**
   * The opening `captured` completes in `agent`'s stream of bodies to `destination`, or undefined
   * (and the body is taken in). A body's stream bytes are read three ways, each a stream of its own:
   * as they came (its content coding undone, gRPC's frames unwrapped), decoded from base64 (the
   * whole body, or its longest base64 value), and as its longest form value's or JSON string's bytes.
   */
  read(agent: string, destination: string, captured: CapturedBody, rawHeaders: string[] = [], url?: string, only?: 'raw' | 'framed', continued = false): string | undefined {
    const forms = only === 'raw' ? (captured.captured.length ? [['raw', captured.captured] as [StreamForm, Buffer]] : [])
      : [...streamForms(captured, rawHeaders).filter(([kind]) => only !== 'framed' || kind !== 'raw'), ...(url === undefined || this.answer ? [] : [...queryForms(url), ...headForms(url, rawHeaders)])];
    const taken: Array<() => void> = [];
    const sequenced = url === undefined ? undefined : this.inSequence(agent, url, forms, rawHeaders);
    if (typeof sequenced === 'string') return sequenced;
    if (sequenced) taken.push(sequenced);
    for (const [kind, data] of forms) {
      const key = `${destination}\u0000${kind}`;
      let table = this.agents.get(agent);
      if (!table) {
        table = new Map();
        this.agents.set(agent, table);
        while (this.agents.size > MAX_AGENTS) {
          const oldest = this.agents.keys().next().value!;
          this.total -= this.agents.get(oldest)!.size;
          this.agents.delete(oldest);
        }
      }
      // (A value's own text may quote a banner, as sessionIn reads one: an SSH line there is a ticket's or a log's.)
      // A piece in hex or byte numbers that may not begin a stream (a version's `[5,1,0]`, a SOCKS
      // greeting alone) goes on the streams begun before and is held: the next piece of that form
      // begins one with it (`[5,1,0]` then `[5,1,0,3,13,97,…]` is a SOCKS request).
      const carried = carriedForm(kind);
      const heldKey = `${agent}\u0000${key}`;
      const pending = carried ? [...(this.held.get(heldKey) ?? []), data.subarray(0, STREAM_START)].slice(-MAX_HELD_PIECES) : [data];
      // A stream begins at each held piece that, with those after it, may begin one (the first held may be a header's list); the rest stay held.
      const starts: Buffer[] = [];
      while (carried && starts.length < pending.length) {
        const start = Buffer.concat(pending.slice(starts.length));
        if (!startsCarried(start)) break;
        starts.push(start);
      }
      const r = this.lanes(table, key, data, captured.truncated, (found) => this.excused(kind, found), continued || (carried && !starts.length), carried ? starts : [data], carried);
      if (carried && typeof r !== 'string') {
        taken.push(() => {
          this.held.delete(heldKey);
          if (starts.length < pending.length) this.held.set(heldKey, pending.slice(starts.length));
          while (this.held.size > MAX_DESTINATIONS) this.held.delete(this.held.keys().next().value!);
        });
      }
      if (typeof r === 'string') return kind === 'raw' ? r : `${r} (${kind})`;
      taken.push(r);
    }
    for (const take of taken) take();
    // (The agent is the last to have posted: kept longest.)
    const table = this.agents.get(agent);
    if (table) {
      this.agents.delete(agent);
      this.agents.set(agent, table);
    }
    return undefined;
  }

  /**
   * Pieces a server puts in order by a sequence number in the path (twenty-sixth pass, left open
   * by the twenty-fifth): Xray's XHTTP packet-up posts each piece to `/<path>/<session>/<seq>`
   * and writes them to its stream by `seq`, whatever order they came in, so `.0-OpenSSH_9.6\r\n`
   * as seq 1 then `SSH-2` as seq 0 joined on the server, where the lanes (arrival order) read two
   * fragments. A body whose path ends in a number is a piece of the session the rest of the path
   * names; each stream form of the run of consecutive numbers it falls in is read in the server's
   * order, from each piece's start up to STREAM_START bytes before it. What it completes, how to
   * take it in, or undefined for a body no sequence names.
   */
  private inSequence(agent: string, url: string, forms: Array<[StreamForm, Buffer]>, rawHeaders: string[]): string | (() => void) | undefined {
    const found = sequenceOf(url, rawHeaders);
    if (!found) return undefined;
    const { seq, key } = found;
    let sessions = this.sessions.get(agent);
    const session = sessions?.get(key) ?? new Map<number, Map<StreamForm, Buffer>>();
    const mine = new Map(forms.map(([kind, data]) => [kind, data.subarray(0, STREAM_START)]));
    for (const [kind] of forms) {
      const at = (n: number): Buffer | undefined => (n === seq ? mine.get(kind) : session.get(n)?.get(kind));
      let from = seq;
      while (from > 0 && at(from - 1) && seq - from < MAX_SEQUENCE_PIECES) from--;
      // Read from each piece's start within STREAM_START bytes before this one, to the run's end (or STREAM_START).
      let before = 0;
      for (let start = seq; start >= from && before < STREAM_START; start--) {
        const parts: Buffer[] = [];
        let length = 0;
        for (let n = start; length < STREAM_START && at(n); n++) {
          parts.push(at(n)!);
          length += at(n)!.length;
        }
        const joined = Buffer.concat(parts).subarray(0, STREAM_START);
        // (Hex or byte numbers begin a stream only as startsCarried says: `/items/050100` is no SOCKS greeting.)
        const found = carriedShort(kind, joined) ? undefined : new InnerSessionScan({ body: true, answer: this.answer, carried: carriedForm(kind) }).read(joined);
        if (found && !this.excused(kind, found)) {
          return `${found}${kind === 'raw' ? '' : ` (${kind})`} (pieces a server puts in order by the sequence number in their paths)`;
        }
        if (start > from) before += at(start - 1)!.length;
      }
    }
    return () => {
      session.delete(seq);
      session.set(seq, mine);
      // A session keeps its last MAX_SEQUENCE_PIECES pieces, SEQUENCE_BYTES of them at most.
      const bytes = (): number => [...session.values()].reduce((n, f) => n + [...f.values()].reduce((k, b) => k + b.length, 0), 0);
      while (session.size > 1 && (session.size > MAX_SEQUENCE_PIECES || bytes() > SEQUENCE_BYTES)) session.delete(session.keys().next().value!);
      if (!sessions) {
        sessions = new Map();
        this.sessions.set(agent, sessions);
        while (this.sessions.size > MAX_AGENTS) this.sessions.delete(this.sessions.keys().next().value!);
      }
      sessions.delete(key);
      sessions.set(key, session);
      while (sessions.size > MAX_SEQUENCE_SESSIONS) sessions.delete(sessions.keys().next().value!);
    };
  }

  /** One stream form's lanes read on with `data`: what it completes, or how to take `data` in. */
  private lanes(destinations: Map<string, Lane[]>, key: string, data: Buffer, truncated: boolean, excused: (found: string) => boolean, continued = false, starts: Buffer[] = [data], carried = false): string | (() => void) {
    const lanes = destinations.get(key) ?? [];
    const next: Lane[] = [];
    // (`continued`: bytes that go on a message begun before, where no stream starts. `starts`: what
    // each new stream begins with, this body's bytes or pieces held before them too: streamForms' hex and byte numbers.)
    const fresh = continued ? [] : starts.map((start) => ({ scan: new InnerSessionScan({ body: true, answer: this.answer, carried }), fed: 0, start, run: '', times: 0 }));
    const dataText = !continued && data.length <= MAX_RUN_PIECE ? data.toString('latin1') : undefined;
    for (const lane of [...lanes.map((l) => ({ ...l, start: data })), ...fresh]) {
      const bytes = lane.start;
      const room = STREAM_START - lane.fed;
      // A stream that so far is one piece sent again and again (a poll's path, the same body) reads
      // on as every such stream does: its reading is looked up, not repeated (scanRuns).
      const text = lane.times === 0 ? (!continued && bytes.length <= MAX_RUN_PIECE ? bytes.toString('latin1') : undefined) : dataText;
      const inRun = text !== undefined && bytes.length < room && (lane.times === 0 || (lane.times > 0 && lane.run === text));
      const runKey = inRun && lane.times < MAX_RUN_TIMES ? `${this.answer ? 1 : 0}${carried ? 1 : 0}${lane.times + 1}\u0000${text}` : undefined;
      const known = runKey === undefined ? undefined : scanRuns.get(runKey);
      let scan: InnerSessionScan;
      let found: string | undefined;
      if (known) {
        scan = known.scan.clone();
        found = known.found;
      } else {
        scan = lane.scan.clone();
        found = scan.read(bytes.subarray(0, room), continued && lane.fed > 0);
        if (runKey !== undefined) rememberRun(runKey, { scan: scan.clone(), found });
      }
      if (found && !excused(found)) return lane.fed ? `${found} (begun ${lane.fed} bytes before, in earlier requests to the same destination)` : found;
      // (An excused reading's stream reads on: an SSH line a value may quote is followed by its KEXINIT in the next piece.)
      // A stream past its start, or past what was captured of this body, is read no further.
      if (bytes.length < room && !truncated) next.push({ scan, fed: lane.fed + bytes.length, run: inRun ? text! : '', times: inRun ? lane.times + 1 : -1 });
    }
    return () => {
      const before = destinations.size;
      destinations.delete(key);
      // A stream whose start readings have all ended reads on only what the oldest one reads too (a
      // hello or preface cut at a body's edge): the oldest is kept, and those still open at their start.
      const kept = next.filter((lane, i) => i === 0 || lane.scan.startOpen());
      if (kept.length) destinations.set(key, kept.length > MAX_LANES ? [kept[0]!, ...kept.slice(1 - MAX_LANES)] : kept);
      while (destinations.size > MAX_DESTINATIONS) destinations.delete(destinations.keys().next().value!);
      this.total += destinations.size - before;
      // Past the bound of all agents' streams, the agent holding the most gives up its oldest (never a neighbour's for its own).
      while (this.total > MAX_ALL_DESTINATIONS) {
        let most: Map<string, unknown> | undefined;
        for (const t of this.agents.values()) if (!most || t.size > most.size) most = t;
        if (!most?.size) break;
        most.delete(most.keys().next().value!);
        this.total--;
      }
    };
  }
}

/** A name a sequence number is given under (`seq`, `X-Seq`, `sequence`, `seq_no`, any case). */
const SEQUENCE_NAME = /^(?:x)?seq(?:uence)?(?:no|num|number|id)?$/;
/** Query names of padding (XHTTP's `x_padding`), left out of a session's key. */
const PADDING_NAME = /pad/i;

/**
 * The sequence number a tunnel server orders a body's piece by, and the session it belongs to
 * (twenty-sixth pass): XHTTP places it as the path's last segment by default, or (its
 * `seqPlacement`) in a query parameter, a header or a cookie under a key of the operator's; a
 * number under a name that says sequence is read in each. The session is the origin, the path
 * (without a number read from it) and the query's other parameters but padding (its session id
 * may be one); undefined when no sequence is named.
 */
function sequenceOf(url: string, rawHeaders: string[]): { seq: number; key: string } | undefined {
  const m = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)((?:\/[^?#]*)?)(\?[^#]*)?/i.exec(url);
  if (!m) return undefined;
  let path = trimTrailing(m[2]!, '/');
  const nameKey = (k: string): string => k.toLowerCase().replace(/[_.-]/g, '');
  const number = (v: string): number | undefined => (/^\s*\d{1,9}\s*$/.test(v) ? Number(v) : undefined);
  let seq: number | undefined;
  const cut = path.lastIndexOf('/');
  if (cut >= 0 && /^\d{1,9}$/.test(path.slice(cut + 1))) {
    seq = Number(path.slice(cut + 1));
    path = path.slice(0, cut);
  }
  const params = new URLSearchParams(m[3] ?? '');
  const rest: string[] = [];
  for (const [k, v] of params) {
    if (seq === undefined && SEQUENCE_NAME.test(nameKey(k)) && number(v) !== undefined) seq = number(v);
    else if (!PADDING_NAME.test(k)) rest.push(`${k}=${v}`);
  }
  for (let i = 0; seq === undefined && i + 1 < rawHeaders.length; i += 2) {
    const k = rawHeaders[i]!.toLowerCase();
    if (SEQUENCE_NAME.test(nameKey(k))) seq = number(rawHeaders[i + 1]!);
    else if (k === 'cookie') {
      for (const pair of rawHeaders[i + 1]!.split(';')) {
        const at = pair.indexOf('=');
        if (at > 0 && SEQUENCE_NAME.test(nameKey(pair.slice(0, at).trim()))) seq ??= number(pair.slice(at + 1));
      }
    }
  }
  return seq === undefined ? undefined : { seq, key: `${m[1]!.toLowerCase()}${path}?${rest.sort().join('&')}` };
}


/** A stream form of hex or byte numbers (twenty-ninth pass), and one that may not begin a stream (startsCarried: too short, or small numbers only). */
const carriedForm = (kind: StreamForm): boolean => kind.startsWith('in hex') || kind === 'in byte numbers' || kind === 'in packed bytes';
const carriedShort = (kind: StreamForm, data: Buffer): boolean => carriedForm(kind) && !startsCarried(data);

/** Base64 of at least one byte, whole (a piece of a stream may be a byte: `Fg==`). */
const PIECE_BASE64 = /^[A-Za-z0-9+/_-]{2,}={0,2}$/;
/** At most this much of a body is looked through for its values (the streams read 2 KiB of each). */
const FORM_SCAN = 64 * 1024;

/** The stream bytes a body may carry, by how a tunnel server takes them (see BodyStreams.read); a form absent is skipped. */
type StreamForm = string;
/** Values read by their names besides the longest (streamForms). */
const MAX_NAMED_VALUES = 4;
function streamForms(captured: CapturedBody, rawHeaders: string[]): Array<[StreamForm, Buffer]> {
  const headers = lowerPairs(rawHeaders);
  let body = captured.captured;
  const codings = contentCodings(headers);
  if (codings.length && body.length) {
    try {
      body = undoContentCoding(body, codings, captured.truncated, true);
    } catch (err) {
      if (!(err instanceof DecodeFailure)) throw err;
    }
  }
  const messages = grpcMessages(body, captured.truncated);
  const raw = messages ? Buffer.concat(messages) : body;
  // The bytes as sent are the stream, and gRPC's messages unwrapped another: bytes that only happen
  // to parse as frames (a piece of a hello whose random is zeros: `00 00 00 00 00` is an empty
  // message) are what a tunnel server that frames nothing writes.
  const out: Array<[StreamForm, Buffer]> = body.length ? [['raw', body]] : [];
  if (messages && raw.length) out.push(['in gRPC frames', raw]);
  if (!raw.length) return out;
  // gRPC messages whose protobuf field carries the stream (Xray's `gun` Hunk), and gRPC-web text's base64 of framed messages.
  const carried = messages && protobufPayload(messages);
  if (carried?.length) out.push(['in gRPC messages', carried]);
  const text = raw.subarray(0, FORM_SCAN).toString('latin1');
  const contentType = headers.find(([k]) => k === 'content-type')?.[1] ?? '';
  // A form's or a JSON body's longest value (a tunnel's envelope: `data=%16%03…`, `{"data": "\u0016…"}`).
  let value: Buffer | undefined;
  // Each value by its name too (twenty-sixth pass: `{"sid": "<a 64-character id>", "data": "<one byte>"}` had the id read as the stream).
  let values = new Map<string, Buffer>();
  const named = (name: string, v: Buffer): void => {
    if (v.length && !values.has(name) && values.size < MAX_NAMED_VALUES) values.set(name, v);
  };
  if (/^\s*application\/x-www-form-urlencoded\b/i.test(contentType) || /^[^=&\s]+=[^&]*(?:&|$)/.test(text)) {
    for (const pair of text.split('&', 1024)) {
      const at = pair.indexOf('=');
      if (at === -1) continue;
      const v = percentBytes(pair.slice(at + 1), true); // as PHP and Go hand a form value over
      if (!value || v.length >= value.length) value = v;
      named(pair.slice(0, at), v);
    }
  }
  // (A socket.io packet's JSON after its type digits and namespace, `42["data", …]`, `42/chat,[…]`, is read as JSON too.)
  if (/^\s*(?:\d{1,20}(?:\/[^,]{0,200},)?)?[[{]/.test(text)) {
    let n = 0;
    value = undefined;
    values = new Map();
    let name = '';
    let nameless = 0;
    // (Read as the UTF-8 a JSON body is; a string of bytes under 256 is the bytes a relay writes with `latin1`.)
    for (const [literal, key] of jsonStrings(raw.subarray(0, FORM_SCAN).toString('utf8'))) {
      if (++n > MAX_PIECES) break;
      if (key) {
        name = literal;
        continue;
      }
      // (A value with no name of its own — an array's, socket.io's `42["data", sid, piece]` — by its place among them.)
      const at = name || `#${nameless++}`;
      name = '';
      // (A value under a name already read, or past the named ones, is read only when it is the longest.)
      const wanted = values.size < MAX_NAMED_VALUES && !values.has(at);
      if (!wanted && value && literal.length - 2 < value.length) continue;
      try {
        const str = JSON.parse(literal) as string;
        const v = Buffer.from(str, /[^\x00-\xff]/.test(str) ? 'utf8' : 'latin1');
        if (!value || v.length >= value.length) value = v;
        named(at, v);
      } catch {
        // Not a JSON string: no value.
      }
    }
  }
  const b64 = (t: string): Buffer | undefined => (PIECE_BASE64.test(t) ? Buffer.from(t, /[-_]/.test(t) ? 'base64url' : 'base64') : t.length >= 4 ? base64Segments(t) : undefined);
  let decoded = b64(text.trim()) ?? (value ? b64(value.toString('latin1').trim()) : undefined);
  const framed = decoded && grpcMessages(decoded, captured.truncated);
  if (framed) {
    const inner = protobufPayload(framed);
    if (inner?.length && !carried?.length) out.push(['in gRPC messages', inner]);
    decoded = Buffer.concat(framed);
  }
  if (decoded?.length) out.push(['in base64', decoded]);
  // (Twenty-ninth pass) the whole body or its longest value in hex, and its longest list of byte numbers (see byteLists).
  const hex = hexBytes(text) ?? (value ? hexBytes(value.toString('latin1')) : undefined);
  if (hex?.length) out.push(['in hex', hex]);
  const lists = byteLists(text);
  if (lists.length) out.push(['in byte numbers', lists.reduce((a, l) => (l.length > a.length ? l : a))]);
  const packed = raw[0]! >= 0x80 || raw[0]! <= 0x05 ? packedPayloads(raw) : undefined;
  if (packed?.last) out.push(['in packed bytes', packed.last]);
  if (value?.length) out.push(['in a value', value]);
  // (The longest too, under its name: which value is longest may change from piece to piece.)
  for (const [k, v] of values) {
    const label = k.slice(0, 40);
    out.push([`in a value (${label})`, v]);
    const d = b64(v.toString('latin1').trim());
    if (d?.length) out.push([`in base64 (${label})`, d]);
    const h = hexBytes(v.toString('latin1'));
    if (h?.length) out.push([`in hex (${label})`, h]);
  }
  return out;
}

/**
 * The stream bytes a request's query may carry (twenty-seventh pass): a tunnel whose client side
 * rides GETs (`/t?seq=0&d=U1NILTIu`, then `?seq=1&d=MC1PcGVu…`) had each piece read alone, never
 * joined. Its values as PHP and Go hand them over (`+` a space, `%XX` a byte), the longest and the
 * first MAX_NAMED_VALUES by name, each also decoded from base64; read as a value's text is (a
 * search for `SSH-2.0-…` is none).
 */
function queryForms(url: string): Array<[StreamForm, Buffer]> {
  const q = url.indexOf('?');
  if (q === -1) return [];
  const query = url.slice(q + 1).replace(/#.*$/s, '');
  const out: Array<[StreamForm, Buffer]> = [];
  let longest: Buffer | undefined;
  let named = 0;
  for (const pair of query.split('&', 256)) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    const v = percentBytes(pair.slice(at + 1), true);
    if (!v.length) continue;
    if (!longest || v.length >= longest.length) longest = v;
    if (named++ >= MAX_NAMED_VALUES) continue;
    const label = pair.slice(0, Math.min(at, 40));
    out.push([`in a value (the query's ${label})`, v]);
    const t = v.toString('latin1').trim();
    const d = PIECE_BASE64.test(t) ? Buffer.from(t, /[-_]/.test(t) ? 'base64url' : 'base64') : undefined;
    if (d?.length) out.push([`in base64 (the query's ${label})`, d]);
  }
  if (longest && named > MAX_NAMED_VALUES) out.push(['in a value (the query\'s longest)', longest]);
  return out;
}

/**
 * Headers a request's own machinery writes (framing, content negotiation, the handshake, Airlock's
 * own credential), whose values carry no stream of the agent's; any other header's may (headForms).
 */
const MACHINERY_HEADERS = new Set(['host', 'connection', 'proxy-connection', 'keep-alive', 'content-length', 'content-type', 'content-encoding', 'transfer-encoding', 'te', 'trailer',
  'upgrade', 'expect', 'proxy-authorization', 'accept', 'accept-encoding', 'accept-language', 'accept-charset', 'user-agent', 'referer', 'origin', 'cache-control', 'pragma', 'date',
  'range', 'if-none-match', 'if-match', 'if-modified-since', 'if-unmodified-since', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol',
  'sec-fetch-site', 'sec-fetch-mode', 'sec-fetch-dest', 'sec-fetch-user', 'sec-ch-ua', 'sec-ch-ua-mobile', 'sec-ch-ua-platform', 'dnt', 'priority', 'cookie']);
/** At most this many of a request's headers and cookies are looked at. */
const MAX_HEAD_VALUES = 64;

/**
 * The values of a request's head a tunnel's client may carry its stream in besides the query
 * (twenty-ninth pass): a GET long-poll whose path carries each piece (`/t/<seq>/U1NILTIu…`), a
 * cookie (Cobalt Strike's default profile sends its metadata so; a malleable profile puts data in
 * any header), a header of the tunnel's own (`X-Data: BQEA…`, `Authorization: Bearer <base64>`):
 * nothing read them, so a stream of GETs with no body carried any opening. The path's last and
 * longest segments (%-decoded), each cookie's value (as PHP and Go decode it) and each other
 * header's last word, as [label, bytes].
 */
function headValues(url: string, rawHeaders: string[]): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = [];
  const q = url.search(/[?#]/);
  const path = (q === -1 ? url : url.slice(0, q)).replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '');
  const segments = path.split('/').filter(Boolean).slice(-256);
  if (segments.length) {
    const last = segments[segments.length - 1]!;
    const longest = segments.reduce((a, b) => (b.length > a.length ? b : a));
    out.push(['the path\'s last segment', percentBytes(last, false)]);
    if (longest !== last) out.push(['the path\'s longest segment', percentBytes(longest, false)]);
  }
  let seen = 0;
  for (let i = 0; i + 1 < rawHeaders.length && seen < MAX_HEAD_VALUES; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!;
    if (name === 'cookie') {
      for (const pair of value.split(';', MAX_HEAD_VALUES)) {
        const at = pair.indexOf('=');
        if (at === -1 || seen++ >= MAX_HEAD_VALUES) continue;
        out.push([`the cookie ${pair.slice(0, at).trim().slice(0, 40)}`, percentBytes(pair.slice(at + 1).trim(), false)]);
      }
    } else if (!MACHINERY_HEADERS.has(name)) {
      seen++;
      const words = value.trim().split(/[ \t]/);
      out.push([`the header ${name.slice(0, 40)}`, Buffer.from(words[words.length - 1]!, 'latin1')]);
    }
  }
  return out.filter(([, v]) => v.length > 0);
}

/**
 * The stream forms of a request's head (headValues) for BodyStreams: the path's last segment,
 * the longest cookie value and the longest other header's value, each as it is, from base64 and from hex.
 */
function headForms(url: string, rawHeaders: string[]): Array<[StreamForm, Buffer]> {
  const values = headValues(url, rawHeaders);
  const pick = (prefix: string): [string, Buffer] | undefined => values.filter(([k]) => k.startsWith(prefix)).reduce<[string, Buffer] | undefined>((a, v) => (!a || v[1].length > a[1].length ? v : a), undefined);
  const out: Array<[StreamForm, Buffer]> = [];
  for (const [label, prefix] of [['the path', 'the path\'s last'], ['a cookie', 'the cookie '], ['a header', 'the header ']] as const) {
    const v = pick(prefix);
    if (!v) continue;
    const t = v[1].toString('latin1').trim();
    out.push([`in a value (${label})`, v[1]]);
    const d = PIECE_BASE64.test(t) ? Buffer.from(t, /[-_]/.test(t) ? 'base64url' : 'base64') : undefined;
    if (d?.length) out.push([`in base64 (${label})`, d]);
    const h = hexBytes(t);
    if (h?.length) out.push([`in hex (${label})`, h]);
  }
  return out;
}

/** A refusal for an opening that a body completes across requests (BodyStreams). */
export const tunnelAcross = (what: string): Rejection => tunnelled(what);

/** Of each answer, this much (decoded) is read for a tunnel's other half; pieces (chunks, events) at most ANSWER_PIECES. */
const ANSWER_SCAN = 64 * 1024;
const ANSWER_PIECES = 256;
/** An answer's text so far is read again whole while it is this short, at most ANSWER_REREADS times (a JSON document cut across chunks). */
const ANSWER_WHOLE = 16 * 1024;
const ANSWER_REREADS = 32;
/** Raw bytes of a content-coded answer kept to decode its start again as it grows. */
const ANSWER_RAW = 64 * 1024;
/** How long a destination whose answers opened another protocol's session stays refused to the agent. */
const MARK_MS = 10 * 60_000;
/** Destinations so marked, per agent and agents in all. */
const MAX_MARKS = 64;
/** The mark that refuses every destination to an agent (AnswerTunnels.mark). */
const EVERY_DESTINATION = '*';
/** Destinations each agent sent bodies to (their answers are read), and agents kept. */
const MAX_CARRIERS = 1024;
const MAX_CARRIER_AGENTS = 256;

const answerTunnel = (what: string, destination: string): Rejection => ({
  status: 502, type: 'policy-denied', title: 'A tunnel in the answers',
  detail: `${destination} answers with ${what}: a session of another protocol carried back over HTTP answers (a tunnel server's far end), whose traffic is not decided here; this answer is cut and the agent's requests there are refused for ${MARK_MS / 60_000} minutes`,
  outcome: 'denied',
});

/**
 * The answer side of a body tunnel (twenty-seventh pass, left open by the twenty-sixth): a tunnel
 * server carries its service's bytes back to the agent in answers — reGeorg's `READ`, an SSE
 * stream's events, meek's answers, XHTTP's stream-down, a long poll's JSON — while POSTs carry the
 * client's side. For a protocol whose server speaks first (SMTP, FTP, POP3, IMAP, VNC, MySQL) the
 * client's part is replies that need no opening of their own (`EHLO`, then `MAIL FROM:`), so
 * nothing was read: an SMTP server behind an allowed tunnel server took mail undecided. Each
 * agent's answers from one destination are read as the streams they may continue (BodyStreams,
 * with a server's openings): each chunk or event, its content coding undone, as it came, in
 * base64, and as its values (JSON, a form). An answer that opens such a session is cut before
 * that chunk leaves, and the destination is refused to the agent for MARK_MS (its requests would
 * carry the client's side).
 */
export class AnswerTunnels {
  private readonly streams = new BodyStreams({ answer: true });
  private readonly marks = new Map<string, Map<string, { what: string; until: number }>>();
  /** Each agent's destinations that its requests carried data to (a body, a method that sends one): the last MAX_CARRIERS. */
  private readonly carriers = new Map<string, Set<string>>();

  /**
   * Whether an answer is read: to a request that carried data (a body, a method other than GET,
   * HEAD or OPTIONS, a query of 32 characters or more), from a destination the agent carried data
   * to before (a long poll's GET beside the POSTs), or streamed (no length: SSE, a stream-down,
   * chunks). A plain page fetched by GET with its length, the most of a browsing agent's traffic,
   * costs nothing.
   */
  private wanted(agent: string, destination: string, method: string, url: string, bodyLength: number, headers: Array<[string, string]>): boolean {
    const q = url.indexOf('?');
    const carries = bodyLength > 0 || !['GET', 'HEAD', 'OPTIONS'].includes(method) || (q !== -1 && url.length - q > 32);
    let mine = this.carriers.get(agent);
    if (carries) {
      if (!mine) {
        mine = new Set();
        this.carriers.set(agent, mine);
        while (this.carriers.size > MAX_CARRIER_AGENTS) this.carriers.delete(this.carriers.keys().next().value!);
      }
      mine.delete(destination);
      mine.add(destination);
      if (mine.size > MAX_CARRIERS) mine.delete(mine.values().next().value!);
      return true;
    }
    return mine?.has(destination) === true || !headers.some(([k]) => k.toLowerCase() === 'content-length');
  }

  /** A refusal for `agent`'s request to `destination` while its answers are marked as a tunnel's. */
  refused(agent: string, destination: string): Rejection | undefined {
    const mine = this.marks.get(agent);
    const key = mine?.has(destination) ? destination : EVERY_DESTINATION;
    const mark = mine?.get(key);
    if (!mark) return undefined;
    if (mark.until < performance.now()) {
      mine!.delete(key);
      return key === destination ? this.refused(agent, destination) : undefined;
    }
    return { ...answerTunnel(mark.what, destination), status: 403, title: 'A tunnel server' };
  }

  private mark(agent: string, destination: string, what: string): void {
    let mine = this.marks.get(agent);
    if (!mine) {
      mine = new Map();
      this.marks.set(agent, mine);
      while (this.marks.size > MAX_MARKS * 4) this.marks.delete(this.marks.keys().next().value!);
    }
    const now = performance.now();
    mine.delete(destination);
    mine.set(destination, { what, until: now + MARK_MS });
    if (mine.size <= MAX_MARKS) return;
    // Twenty-eighth pass: the oldest mark was dropped past MAX_MARKS, so an agent that had 64 other
    // destinations (servers of its own) answer with a banner had its first destination's mark
    // dropped and tunnelled there again. Expired marks go; if none has, every destination is
    // refused to the agent until the newest mark expires (an agent with 64 tunnels in 10 minutes).
    for (const [d, m] of mine) if (m.until < now) mine.delete(d);
    if (mine.size <= MAX_MARKS) return;
    mine.clear();
    mine.set(EVERY_DESTINATION, { what: `${what} (and ${MAX_MARKS} destinations more within ${MARK_MS / 60_000} minutes)`, until: now + MARK_MS });
  }

  /**
   * A reader for one answer of `agent` from `destination` (headers as it will be sent): given each
   * chunk of its body before it leaves, a refusal once it completes another protocol's opening.
   */
  watch(agent: string, destination: string, request: { method: string; url: string; bodyLength: number }, headers: Array<[string, string]>): AnswerWatch | undefined {
    if (!this.wanted(agent, destination, request.method, request.url, request.bodyLength, headers)) return undefined;
    const lower = lowerPairs(headers.flat());
    const codings = contentCodings(lower);
    const contentType = lower.find(([k]) => k === 'content-type')?.[1] ?? '';
    const events = /^\s*text\/event-stream\b/i.test(contentType) ? new EventPieces() : undefined;
    const pieceHeaders = events ? [] : ['content-type', contentType];
    let raw: Buffer[] | undefined = codings.length ? [] : undefined;
    let rawLength = 0;
    // The answer's length, when it says one: the chunk that completes it is its last (read once, whole).
    const declared = Number(lower.find(([k]) => k === 'content-length')?.[1] ?? NaN);
    let came = 0;
    let read = 0;
    let pieces = 0;
    let done = false;
    const whole: Buffer[] = [];
    let rereads = 0;
    const chunk = (chunk: Buffer): Rejection | undefined => {
      if (done || !chunk.length) return undefined;
      came += chunk.length;
      const last = came === declared;
      let data = chunk;
      if (raw) {
        raw.push(chunk);
        rawLength += chunk.length;
        if (rawLength > ANSWER_RAW) {
          done = true;
          return undefined;
        }
        try {
          data = undoContentCoding(Buffer.concat(raw), codings, true, true).subarray(read);
        } catch (err) {
          if (!(err instanceof DecodeFailure)) throw err;
          // Not decodable (an unknown coding): read as it came.
          raw = undefined;
        }
      }
      data = data.subarray(0, ANSWER_SCAN - read);
      read += data.length;
      if (read >= ANSWER_SCAN) done = true;
      if (!events && read <= ANSWER_WHOLE) whole.push(data);
      for (const piece of events ? events.feed(data) : [data]) {
        if (++pieces > ANSWER_PIECES) {
          done = true;
          return undefined;
        }
        if (!piece.length) continue;
        // An event is whole: read in every form. A chunk may cut a document's framing anywhere: its
        // bytes go on the streams as they came; the answer's text so far is read whole, alone (and,
        // at its end, on the streams: end below).
        // (An answer whole in one chunk, the usual, is read once in every form, as a body is.)
        const found = events || (last && whole.length === 1) ? this.streams.read(agent, destination, { captured: piece, truncated: false }, pieceHeaders)
          : this.streams.read(agent, destination, { captured: piece, truncated: false }, pieceHeaders, undefined, 'raw', read > data.length)
            ?? (last ? undefined : read <= ANSWER_WHOLE && rereads++ < ANSWER_REREADS ? this.streams.readAlone({ captured: whole.length === 1 ? whole[0]! : Buffer.concat(whole), truncated: false }, pieceHeaders) : undefined)
            ?? (last ? this.streams.read(agent, destination, { captured: Buffer.concat(whole), truncated: false }, pieceHeaders, undefined, 'framed') : undefined);
        if (found) {
          done = true;
          this.mark(agent, destination, found);
          return answerTunnel(found, destination);
        }
      }
      if (last) done = true;
      return undefined;
    };
    // At its end, an answer read in chunks is read whole too, its framing's values (JSON, base64)
    // joined with the answers before and after it: a long poll's documents, each cut across chunks.
    const end = (): void => {
      if (done || events || !whole.length) return;
      done = true;
      const found = this.streams.read(agent, destination, { captured: Buffer.concat(whole), truncated: false }, pieceHeaders, undefined, 'framed');
      if (found) this.mark(agent, destination, found);
    };
    return { chunk, end };
  }
}

/** An answer's reader (AnswerTunnels.watch): each chunk before it leaves (a refusal cuts the answer there), then its end. */
export interface AnswerWatch {
  chunk(chunk: Buffer): Rejection | undefined;
  end(): void;
}

/** An event stream's events (the HTML standard's parsing): each event's data, its `data:` lines joined by LF, as it completes. */
class EventPieces {
  private line = '';
  private data: string[] = [];
  *feed(chunk: Buffer): Generator<Buffer> {
    const text = this.line + chunk.toString('latin1');
    let at = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 0x0a && c !== 0x0d) continue;
      const line = text.slice(at, i);
      if (c === 0x0d && text.charCodeAt(i + 1) === 0x0a) i++;
      at = i + 1;
      if (line === '') {
        // (An event of one line of text is a line a relay took its line end from: read with it, as its server sent it.)
        if (this.data.length) yield Buffer.from(this.data.length === 1 && /^[\x20-\x7e\t]+$/.test(this.data[0]!) ? `${this.data[0]!}\r\n` : this.data.join('\n'), 'latin1');
        this.data = [];
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      if (field === 'data') this.data.push(colon === -1 ? '' : line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1)));
      if (this.data.length > 1024) this.data = this.data.slice(-1);
    }
    // (A line longer than an answer is read is cut: bounded.)
    this.line = text.slice(at).slice(-ANSWER_SCAN);
  }
}
