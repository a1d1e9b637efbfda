// Small HTTP helpers of the proxy: problem+json bodies (RFC 9457), hop-by-hop header handling
// (RFC 9110 §7.6.1), authority parsing. Pure.
import { unmappedHost } from '../lib/ip-literal.ts';
import { otherSeparator, serverHeaderKey, trimTrailing } from '../lib/text.ts';
import type { Rejection } from './enforcers.ts';
import { emptyMap, lookupTable } from '../lib/records.ts';
import { boundaryReadingsFull } from '../describe/multipart.ts';

export const problemBase = 'https://airlock.dev/problems/';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  rule?: string;
  request_id?: string;
  [k: string]: unknown;
}

export function problemBody(status: number, type: string, title: string, detail: string, extra: Record<string, unknown> = emptyMap()): string {
  const p: Problem = { type: problemBase + type, title, status, detail, ...extra };
  return JSON.stringify(p);
}

export function rejectionBody(r: Rejection, requestId: string, rule?: string): string {
  return problemBody(r.status, r.type, r.title, r.detail, { ...(rule ? { rule } : {}), request_id: requestId, ...(r.extra ?? {}) });
}

/** Headers that describe one connection, never forwarded (RFC 9110 §7.6.1, plus proxy credentials). */
export const hopByHop = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'http2-settings',
]);

/** Header pairs from Node's rawHeaders, without hop-by-hop headers and those named in Connection. */
export function endToEnd(raw: string[], extraDrop?: Set<string>): Array<[string, string]> {
  let named: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === 'connection') {
      named ??= new Set();
      for (const n of raw[i + 1]!.split(',')) named.add(n.trim().toLowerCase());
    }
  }
  const out: Array<[string, string]> = [];
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (hopByHop.has(lower) || named?.has(lower) || extraDrop?.has(lower)) continue;
    out.push([raw[i]!, raw[i + 1]!]);
  }
  return out;
}

/**
 * Headers that decide how a server frames a request or reads its body, by their dashed names.
 * CGI-style servers key headers by name upper-cased with `-` as `_` (`HTTP_TRANSFER_ENCODING`,
 * `CONTENT_TYPE`), so `Transfer_Encoding` is Transfer-Encoding to them: Rack's Puma before 6.4.3
 * and 5.6.9 frames a body as chunked, or takes its length or media type, from such a spelling
 * (CVE-2024-45614; Werkzeug and gunicorn drop such names now), while Node and the policy read an
 * ordinary header and Airlock frames the body by its own Content-Length.
 */
const framingNames = new Set(['content-length', 'transfer-encoding', 'content-type', 'content-encoding', 'keep-alive', 'proxy-connection']);

/**
 * Why a request header would be read by a server (a CGI-style one: headers as `HTTP_` + the name
 * upper-cased, `-` as `_`) as something Airlock and the policy did not read, or undefined:
 * - one of `framingNames` spelled with another separator than `-` (`Transfer_Encoding`,
 *   `content_length`, `Content.Type`: lighttpd keys every non-alphanumeric as `_`): such a server
 *   frames or reads the body otherwise than Airlock and the policy did (a chunked terminator in a
 *   body ends it there, and what follows is a request nobody decided);
 * - a second Content-Type header (servers take the first, the last or both), or one holding a byte
 *   outside ASCII (Python's frameworks strip NEL and no-break space around the type);
 * - `Proxy` (any case): it becomes `HTTP_PROXY`, the variable HTTP clients take for their proxy,
 *   so the service's own outgoing requests (and what it sends in them) go to the server it names
 *   ("httpoxy": PHP's Guzzle, Go's net/http/cgi, Python under CGI). No client needs to send it.
 */
export function misreadHeader(raw: readonly string[]): string | undefined {
  let types = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    // Content-Type is one value (RFC 9110 §8.3): of two, Node and Go read the first, ASP.NET Core
    // joins them, Airlock's readers the one they look for; a batch read under one boundary ran
    // under the other.
    if (name.length === 12 && name.toLowerCase() === 'content-type') {
      if (++types > 1) return 'more than one Content-Type header, which servers read differently (the first, the last, or both joined): send one';
      // A byte outside ASCII (obs-text) in it (twenty-seventh pass): Python's str.strip() drops NEL
      // (0x85) and a no-break space around the type, so Werkzeug (Flask), Django and Python's email
      // read `application/x-www-form-urlencoded<NEL>` as a form, and `<NEL>multipart/form-data` as
      // multipart, while Node, Go (which refuses it), PHP and Airlock's readers read another type,
      // and no field of it. A media type and its parameters are ASCII (RFC 9110 §8.3.1).
      if (!isAscii(raw[i + 1]!)) return 'a Content-Type holding a byte outside ASCII, which servers read as different types (Python\'s frameworks strip NEL and no-break space around it, Go refuses it, Node keeps it): send the media type in ASCII';
      // Boundaries read in more ways than Airlock reads: the one a server takes may be unread.
      if (boundaryReadingsFull(raw[i + 1]!)) return 'a Content-Type whose boundary servers read in more ways than Airlock reads (repeated or malformed boundary parameters): send one boundary';
    }
    if (name.length === 5 && name.toLowerCase() === 'proxy') {
      return 'a "Proxy" header, which CGI-style servers hand their application as HTTP_PROXY, the proxy its own HTTP clients then use ("httpoxy"): send none';
    }
    if (!otherSeparator(name)) continue;
    const key = serverHeaderKey(name);
    if (framingNames.has(key)) {
      return `header ${JSON.stringify(name.slice(0, 40))}, ${key} spelled with other separators than dashes, which servers that key headers by an environment name (CGI, lighttpd's FastCGI, Rack's Puma) frame or read the body by, while Airlock does not: send it with dashes, or not at all`;
    }
  }
  return undefined;
}

/** Whether every character of a header value (Node reads its bytes as Latin-1) is ASCII. */
function isAscii(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * A request transfer coding other than chunked (`Transfer-Encoding: gzip, chunked`), or undefined.
 * Node's parser undoes the chunking only and leaves the gzip on the body; Transfer-Encoding is
 * hop-by-hop, so the upstream got the coded bytes under no label at all, and the policy judged
 * coded bytes as the body (a JSON body the agent meant, gzip to both). RFC 9112 §6.1: a server
 * answers a transfer coding it does not implement with 501; no client sends one in a request.
 */
export function requestTransferCoding(raw: readonly string[]): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length !== 17 || raw[i]!.toLowerCase() !== 'transfer-encoding') continue;
    for (const c of raw[i + 1]!.split(',')) {
      const coding = c.trim().toLowerCase();
      if (coding !== 'chunked') return coding;
    }
  }
  return undefined;
}

/**
 * Headers a Connection header may name that the description keeps: describe reads them (an
 * upgrade, a body's declared size) and counts none as egress; and a WebSocket handshake's, which
 * Airlock sends upstream itself from the agent's offer whatever Connection says.
 */
const describedAnyway = new Set([...hopByHop, 'host', 'content-length', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol', 'sec-websocket-extensions']);

/**
 * Node's rawHeaders without the end-to-end headers the request's Connection names, for the
 * description: RFC 9110 §7.6.1 has a proxy remove them, Airlock does (`endToEnd`), so the policy
 * must not judge them either. `Connection: Content-Type` with `Content-Type: text/plain` had the
 * policy read a text body while the upstream got an untyped one, which Rack reads as a form (and
 * runs its `_method=DELETE`); any header that makes a request look safer worked the same way.
 * The same array when Connection names nothing else (the usual case: no copy per request).
 */
export function withoutNamedHeaders(raw: string[]): string[] {
  let named: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length !== 10 || raw[i]!.toLowerCase() !== 'connection') continue;
    for (const token of raw[i + 1]!.split(',')) {
      const n = token.trim().toLowerCase();
      if (n && !describedAnyway.has(n) && n !== 'close') (named ??= new Set()).add(n);
    }
  }
  if (!named) return raw;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (!named.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  return out;
}

/**
 * A response's end-to-end headers. A transfer coding other than chunked (`Transfer-Encoding: gzip,
 * chunked`: Node's parser undoes the chunking and leaves the gzip on the body) is passed on as the
 * content coding it amounts to, after the others — it was applied last — so the agent's client
 * and the scrubber decode it instead of seeing compressed bytes under no label at all.
 */
export function responseHeaders(raw: string[], extraDrop?: Set<string>): Array<[string, string]> {
  const out = endToEnd(raw, extraDrop);
  const codings: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'transfer-encoding') continue;
    for (const c of raw[i + 1]!.split(',')) {
      const coding = c.trim().toLowerCase();
      if (coding && coding !== 'chunked' && coding !== 'identity') codings.push(coding);
    }
  }
  if (codings.length) out.push(['content-encoding', codings.join(', ')]);
  return out;
}

export function pairsOf(raw: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

export function flatten(pairs: Array<[string, string]>): string[] {
  const out: string[] = [];
  for (const [k, v] of pairs) out.push(k, v);
  return out;
}

const defaultPort: Readonly<Record<string, number>> = lookupTable({ http: 80, https: 443, ws: 80, wss: 443 });

export interface Authority {
  /** Normalized host: lowercase, punycode, numeric IPv4 forms canonical, IPv6 without brackets, no trailing dot. */
  hostname: string;
  port: number;
}

/** Parses a host[:port] authority the way the WHATWG URL parser does (so 0x7f.1 becomes 127.0.0.1). */
export function parseAuthority(authority: string, scheme: string): Authority | undefined {
  if (!authority || /[\s/?#@\\]/.test(authority)) return undefined;
  let url: URL;
  try {
    url = new URL(`${scheme === 'ws' || scheme === 'wss' ? scheme.replace('ws', 'http') : scheme}://${authority}`);
  } catch {
    return undefined;
  }
  let hostname = trimTrailing(url.hostname, '.');
  if (hostname.startsWith('[')) hostname = unmappedHost(hostname.slice(1, -1));
  if (!hostname) return undefined;
  return { hostname, port: url.port ? Number(url.port) : defaultPort[scheme]! };
}

export function sameAuthority(a: Authority, b: Authority): boolean {
  return a.hostname === b.hostname && a.port === b.port;
}

/** The authority as it goes into a URL / Host header. */
export function formatAuthority(a: Authority, scheme: string): string {
  const host = a.hostname.includes(':') ? `[${a.hostname}]` : a.hostname;
  return a.port === defaultPort[scheme] ? host : `${host}:${a.port}`;
}

/**
 * Headers that name the request's host to a server configured to trust them, each a comma list:
 * `X-Forwarded-Host` (Express with `trust proxy`, Django's USE_X_FORWARDED_HOST, Symfony, Spring,
 * Rails), `X-Original-Host` (what Azure's front ends and IIS ARR pass on, which the applications
 * behind them read as their host), `X-Host` and `X-HTTP-Host-Override` (older PHP frameworks and
 * hand-written front controllers), `X-Forwarded-Server` (Apache's mod_proxy sets it to the name it
 * served, and applications behind it build their host from it).
 */
const hostHeaders = new Set(['x-forwarded-host', 'x-original-host', 'x-host', 'x-http-host-override', 'x-forwarded-server']);

/**
 * A forwarding header naming another host than the request's (`hostHeaders`, or `Forwarded:
 * host=`): a request the policy allowed for allowed.example is served as admin.example by a server
 * hosting both that trusts the header. Undefined when every such header names the request's own
 * host (a port, when given, included).
 */
export function otherForwardedHost(rawHeaders: readonly string[], target: Authority, scheme: string): string | undefined {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = serverHeaderKey(rawHeaders[i]!);
    const value = rawHeaders[i + 1]!;
    let hosts: string[];
    if (hostHeaders.has(name)) hosts = value.split(',');
    else if (name === 'forwarded') {
      hosts = [];
      for (const element of value.split(',')) {
        for (const pair of element.split(';')) {
          const eq = pair.indexOf('=');
          if (eq > 0 && pair.slice(0, eq).trim().toLowerCase() === 'host') hosts.push(pair.slice(eq + 1).trim().replace(/^"|"$/g, ''));
        }
      }
    } else continue;
    for (const raw of hosts) {
      const h = raw.trim();
      const a = parseAuthority(h, scheme);
      const explicitPort = /:\d+$/.test(h);
      if (!a || a.hostname !== target.hostname || (explicitPort && a.port !== target.port)) {
        return `${rawHeaders[i]!.slice(0, 40)} names ${JSON.stringify(h.slice(0, 80))}, another host than the request's ${formatAuthority(target, scheme)} (servers that trust forwarding headers serve that host)`;
      }
    }
  }
  return undefined;
}
