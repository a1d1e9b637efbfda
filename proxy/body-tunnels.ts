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
import { InnerSessionScan, jsonStrings } from '../describe/tunnel-inner.ts';
import { bridgeTargets } from './bridge-targets.ts';
import type { SecondTarget } from './second-targets.ts';
import type { Rejection } from './enforcers.ts';
import type { CapturedBody } from './request-body.ts';
import { DecodeFailure, undoContentCoding } from '../describe/body.ts';
import { multipartFields } from '../describe/multipart.ts';

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

export function bodyTunnel(rawHeaders: string[], requestUrl: string, captured: CapturedBody): SecondTarget[] | { refusal: Rejection } | undefined {
  const headers: Array<[string, string]> = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) headers.push([rawHeaders[i]!.toLowerCase(), rawHeaders[i + 1]!.trim()]);
  const found = sessionIn(captured, headers, requestUrl);
  if (found) return { refusal: tunnelled(found) };
  return connectTargets(rawHeaders, headers, requestUrl);
}

/**
 * The session a request's data opens: the body as it came and as its content codings decode, a
 * multipart body's parts, a form's values as bytes (`%05%01%00…`), JSON strings, the query's
 * values; each read as it is and, when it is base64, decoded (Neo-reGeorg's and many bridges' framing).
 */
function sessionIn(captured: CapturedBody, headers: Array<[string, string]>, requestUrl: string): string | undefined {
  const contentType = headers.find(([k]) => k === 'content-type')?.[1] ?? '';
  const read = (b: Buffer): string | undefined => {
    // gRPC's length-prefixed messages (gRPC, gRPC-web) start with zeros a proxy start reads too: each message is read instead.
    const messages = grpcMessages(b, captured.truncated);
    if (messages) {
      for (const m of messages) {
        const found = new InnerSessionScan({ body: true }).read(m);
        if (found) return found;
      }
      return undefined;
    }
    return new InnerSessionScan({ body: true }).read(b);
  };
  // A value's own text may quote a banner (a search for `SSH-2.0-OpenSSH_9.6`): as it came, only a
  // body's is read so; decoded from base64, any is. (Every other opening holds a byte no printable
  // text does, a line's CRLF at least.)
  const both = (b: Buffer, value: boolean): string | undefined => {
    let found: string | undefined;
    if (!value) found = read(b);
    else if (!PRINTABLE.test(b.toString('latin1'))) {
      found = read(b);
      if (found === 'an SSH session') found = undefined;
    }
    if (found || b.length < MIN_BASE64 || b.length > MAX_BASE64_TEXT) return found;
    const t = b.toString('latin1').trim();
    if (t.length < MIN_BASE64 || !BASE64.test(t)) return undefined;
    const decoded = read(Buffer.from(t, /[-_]/.test(t) ? 'base64url' : 'base64'));
    return decoded ? `${decoded} (in base64)` : undefined;
  };
  // Each distinct piece once, MAX_PIECES of them (a value costs ~20 µs: 350,000 `a=&` would be seconds).
  const seen = new Set<string>();
  for (const [piece, value] of pieces(captured, headers, contentType, requestUrl)) {
    if (value) {
      const key = piece.length <= 256 ? piece.toString('latin1') : undefined;
      if (piece.length < MIN_PIECE || (key !== undefined && seen.has(key))) continue;
      if (key !== undefined) seen.add(key);
      if (seen.size > MAX_PIECES) return undefined;
    }
    const found = both(piece, value);
    if (found) return found;
  }
  return undefined;
}

/** The pieces of a request a tunnel server may take its stream from, the body first (see sessionIn). */
function* pieces(captured: CapturedBody, headers: Array<[string, string]>, contentType: string, requestUrl: string): Generator<[Buffer, boolean]> {
  const codings = headers.filter(([k]) => k === 'content-encoding').flatMap(([, v]) => v.split(',')).map((c) => c.trim().toLowerCase()).filter((c) => c && c !== 'identity');
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
    if (/^\s*application\/x-www-form-urlencoded\b/i.test(contentType) || /^[^=&\s]+=[^&]*(?:&|$)/.test(text)) yield* formValues(text);
  }
  const q = requestUrl.indexOf('?');
  if (q !== -1) yield* formValues(requestUrl.slice(q + 1).replace(/#.*$/s, ''));
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
  while (at < b.length) {
    if (out.length >= MAX_GRPC_MESSAGES || at + 5 > b.length || (b[at]! & 0x7e) !== 0) return undefined;
    const length = b.readUInt32BE(at + 1);
    const m = b.subarray(at + 5, at + 5 + length);
    if (at + 5 + length > b.length && !truncated) return undefined;
    out.push(m);
    at += 5 + length;
  }
  return out.length ? out : undefined;
}

/** A stream's start read across bodies this far past each body's own start (every opening read there is shorter). */
const STREAM_START = 2048;
/** At most this many streams (one begun at each recent body) per agent and destination, and destinations kept. */
const MAX_LANES = 32;
const MAX_DESTINATIONS = 1024;

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
export class BodyStreams {
  private readonly destinations = new Map<string, Array<{ scan: InnerSessionScan; fed: number }>>();

  /**
   * The opening `captured` completes in `agent`'s stream of bodies to `destination`, or undefined
   * (and the body is taken in). A body's stream bytes are read three ways, each a stream of its own:
   * as they came (its content coding undone, gRPC's frames unwrapped), decoded from base64 (the
   * whole body, or its longest base64 value), and as its longest form value's or JSON string's bytes.
   */
  read(agent: string, destination: string, captured: CapturedBody, rawHeaders: string[] = []): string | undefined {
    const forms = streamForms(captured, rawHeaders);
    const taken: Array<() => void> = [];
    for (const [kind, data] of forms) {
      const key = `${agent}\u0000${destination}\u0000${kind}`;
      // (A value's own text may quote a banner, as sessionIn reads one: an SSH line there is a ticket's or a log's.)
      const r = this.lanes(key, data, captured.truncated, kind === 'in a value' ? (found) => found.startsWith('an SSH session') : () => false);
      if (typeof r === 'string') return kind === 'raw' ? r : `${r} (${kind})`;
      taken.push(r);
    }
    for (const take of taken) take();
    return undefined;
  }

  /** One stream form's lanes read on with `data`: what it completes, or how to take `data` in. */
  private lanes(key: string, data: Buffer, truncated: boolean, excused: (found: string) => boolean): string | (() => void) {
    const lanes = this.destinations.get(key) ?? [];
    const next: Array<{ scan: InnerSessionScan; fed: number }> = [];
    for (const lane of [...lanes, { scan: new InnerSessionScan({ body: true }), fed: 0 }]) {
      const room = STREAM_START - lane.fed;
      const scan = lane.scan.clone();
      const found = scan.read(data.subarray(0, room));
      if (found && !excused(found)) return lane.fed ? `${found} (begun ${lane.fed} bytes before, in earlier requests to the same destination)` : found;
      if (found) continue;
      // A stream past its start, or past what was captured of this body, is read no further.
      if (data.length < room && !truncated) next.push({ scan, fed: lane.fed + data.length });
    }
    return () => {
      this.destinations.delete(key);
      // A stream whose start readings have all ended reads on only what the oldest one reads too (a
      // hello or preface cut at a body's edge): the oldest is kept, and those still open at their start.
      const kept = next.filter((lane, i) => i === 0 || lane.scan.startOpen());
      if (kept.length) this.destinations.set(key, kept.length > MAX_LANES ? [kept[0]!, ...kept.slice(1 - MAX_LANES)] : kept);
      while (this.destinations.size > MAX_DESTINATIONS) this.destinations.delete(this.destinations.keys().next().value!);
    };
  }
}

/** A form value's bytes as PHP and Go hand them over (`+` a space, `%XX` a byte). */
function percentBytes(v: string): Buffer {
  const out: number[] = [];
  for (let k = 0; k < v.length; k++) {
    const c = v.charCodeAt(k);
    const hex = c === 0x25 ? /^[0-9a-fA-F]{2}/.exec(v.slice(k + 1, k + 3)) : null;
    if (hex) {
      out.push(parseInt(hex[0], 16));
      k += 2;
    } else out.push(c === 0x2b ? 0x20 : c & 0xff);
  }
  return Buffer.from(out);
}

/** Base64 of at least one byte, whole (a piece of a stream may be a byte: `Fg==`). */
const PIECE_BASE64 = /^[A-Za-z0-9+/_-]{2,}={0,2}$/;
/** At most this much of a body is looked through for its values (the streams read 2 KiB of each). */
const FORM_SCAN = 64 * 1024;

/** The stream bytes a body may carry, by how a tunnel server takes them (see BodyStreams.read); a form absent is skipped. */
function streamForms(captured: CapturedBody, rawHeaders: string[]): Array<['raw' | 'in base64' | 'in a value', Buffer]> {
  const headers: Array<[string, string]> = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) headers.push([rawHeaders[i]!.toLowerCase(), rawHeaders[i + 1]!.trim()]);
  let body = captured.captured;
  const codings = headers.filter(([k]) => k === 'content-encoding').flatMap(([, v]) => v.split(',')).map((c) => c.trim().toLowerCase()).filter((c) => c && c !== 'identity');
  if (codings.length && body.length) {
    try {
      body = undoContentCoding(body, codings, captured.truncated, true);
    } catch (err) {
      if (!(err instanceof DecodeFailure)) throw err;
    }
  }
  const messages = grpcMessages(body, captured.truncated);
  const raw = messages ? Buffer.concat(messages) : body;
  if (!raw.length) return [];
  const out: Array<['raw' | 'in base64' | 'in a value', Buffer]> = [['raw', raw]];
  const text = raw.subarray(0, FORM_SCAN).toString('latin1');
  const contentType = headers.find(([k]) => k === 'content-type')?.[1] ?? '';
  // A form's or a JSON body's longest value (a tunnel's envelope: `data=%16%03…`, `{"data": "\u0016…"}`).
  let value: Buffer | undefined;
  if (/^\s*application\/x-www-form-urlencoded\b/i.test(contentType) || /^[^=&\s]+=[^&]*(?:&|$)/.test(text)) {
    for (const pair of text.split('&', 1024)) {
      const at = pair.indexOf('=');
      if (at === -1) continue;
      const v = percentBytes(pair.slice(at + 1));
      if (!value || v.length >= value.length) value = v;
    }
  }
  if (/^\s*[[{]/.test(text)) {
    let n = 0;
    value = undefined;
    // (Read as the UTF-8 a JSON body is; a string of bytes under 256 is the bytes a relay writes with `latin1`.)
    for (const [literal, key] of jsonStrings(raw.subarray(0, FORM_SCAN).toString('utf8'))) {
      if (++n > MAX_PIECES) break;
      if (key || (value && literal.length - 2 < value.length)) continue;
      try {
        const str = JSON.parse(literal) as string;
        const v = Buffer.from(str, /[^\x00-\xff]/.test(str) ? 'utf8' : 'latin1');
        if (!value || v.length >= value.length) value = v;
      } catch {
        // Not a JSON string: no value.
      }
    }
  }
  const b64 = (t: string): Buffer | undefined => (PIECE_BASE64.test(t) ? Buffer.from(t, /[-_]/.test(t) ? 'base64url' : 'base64') : undefined);
  const decoded = b64(text.trim()) ?? (value ? b64(value.toString('latin1').trim()) : undefined);
  if (decoded?.length) out.push(['in base64', decoded]);
  if (value?.length) out.push(['in a value', value]);
  return out;
}

/** A refusal for an opening that a body completes across requests (BodyStreams). */
export const tunnelAcross = (what: string): Rejection => tunnelled(what);
