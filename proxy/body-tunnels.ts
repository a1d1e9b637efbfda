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
import { InnerSessionScan } from '../describe/tunnel-inner.ts';
import { bridgeTargets } from './bridge-targets.ts';
import type { SecondTarget } from './second-targets.ts';
import type { Rejection } from './enforcers.ts';
import type { CapturedBody } from './request-body.ts';

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
/** At most this many JSON strings and form values are decoded and read. */
const MAX_VALUES = 64;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

export function bodyTunnel(rawHeaders: string[], requestUrl: string, captured: CapturedBody): SecondTarget[] | { refusal: Rejection } | undefined {
  const headers: Array<[string, string]> = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) headers.push([rawHeaders[i]!.toLowerCase(), rawHeaders[i + 1]!.trim()]);
  const found = sessionIn(captured.captured, headers.find(([k]) => k === 'content-type')?.[1] ?? '', captured.truncated);
  if (found) return { refusal: tunnelled(found) };
  return connectTargets(rawHeaders, headers, requestUrl);
}

/** The session a body opens, read as it came and, when it is base64 (whole, or a form's values), decoded. */
function sessionIn(body: Buffer, contentType: string, truncated: boolean): string | undefined {
  if (!body.length) return undefined;
  // A body that is an HTTP message (a batch's call, `message/http`) is read as such by the second-target readers.
  const httpMessage = /^\s*(?:application|message)\/http\b/i.test(contentType);
  const read = (b: Buffer): string | undefined => {
    // gRPC's length-prefixed messages (gRPC, gRPC-web) start with zeros a proxy start reads too: each message is read instead.
    const messages = grpcMessages(b, truncated);
    if (messages) {
      for (const m of messages) {
        const found = new InnerSessionScan({ body: true }).read(m);
        if (found) return found;
      }
      return undefined;
    }
    const found = new InnerSessionScan({ body: true }).read(b);
    return found === 'an HTTP request' && httpMessage ? undefined : found;
  };
  const direct = read(body);
  if (direct) return direct;
  const encoded = (text: string): string | undefined => {
    const t = text.trim();
    if (t.length < MIN_BASE64 || !BASE64.test(t)) return undefined;
    const found = read(Buffer.from(t, /[-_]/.test(t) ? 'base64url' : 'base64'));
    return found ? `${found} (in base64)` : undefined;
  };
  const text = body.toString('latin1');
  const whole = encoded(text);
  if (whole) return whole;
  // A JSON string's (a bridge's `{"data": "<base64>"}`), then a form's values.
  let n = 0;
  for (const m of text.matchAll(/"([A-Za-z0-9+/_-]{12,}={0,2})"/g)) {
    if (++n > MAX_VALUES) return undefined;
    const inString = encoded(m[1]!);
    if (inString) return inString;
  }
  if (!/^\s*application\/x-www-form-urlencoded\b/i.test(contentType) && !/^[^=&\s]+=[^&]*(?:&|$)/.test(text)) return undefined;
  for (const [, value] of new URLSearchParams(text)) {
    if (++n > MAX_VALUES) break;
    const inValue = encoded(value);
    if (inValue) return inValue;
  }
  return undefined;
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
