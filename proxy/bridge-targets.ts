// The destination a WebSocket upgrade names for a bridge to dial: a TCP-over-WebSocket bridge
// (wstunnel, a websockify or `websocat` front with a target parameter, the tunnels chat and DB
// consoles ship) connects to whatever host and port the upgrade asks for, so an upgrade allowed
// to the bridge reached every service behind it, decided by the bridge's URL only (twenty-first
// pass, left open by the twentieth: `decideSecondTargets` was not run for upgrades). Each named
// destination is a second target (proxy/second-targets.ts): decided as a WebSocket upgrade to
// that host and port, the strictest decision winning (Neon's own proxy names the endpoint it
// fronts, `?address=<the same host>:5432`).
//
// Read: wstunnel's JWT in `Sec-WebSocket-Protocol` (`authorization.bearer.<jwt>`, claims `r` and
// `rp`; its server does not check the signature unless told to), its older path form
// (`/…/tcp/<host>/<port>`), and a query naming a host with a port (`?host=db&port=5432`,
// `?target=db:5432`, `remote`, `dest`, …, also written as a URL: `tcp://db:5432`). Twenty-second pass: a host without a port too, dialled
// at the bridge's own default (WeTTY's `?host=admin.example` is its ssh port 22), when it is a
// dotted name, an address or `localhost` (a chat's `?to=alice` names none); and the query of the
// upgrade's `Referer` as well, which WeTTY merges into its ssh options (`host`, `port`), read on
// upgrades and on socket.io's handshake (`EIO=`), whose first request is the socket's own there.
import { isIPv6 } from 'node:net';
import { bodilessTarget, type SecondTarget } from './second-targets.ts';
import type { Rejection } from './enforcers.ts';
import { refusals } from './refusals.ts';

/** Query names under which a bridge takes the host it dials, and those under which it takes the port. */
// (Not `server` or `backend`: chat and game sockets name a shard so, `?server=eu1&port=443`.)
// Names are compared as `nameKey` spells them (twenty-fourth pass: `target_host`, RFC 9298's
// `{target_host}`/`{target_port}` template, `dst`, `Remote-Addr`, `target[]` were none).
const HOST_NAMES = new Set(['host', 'hostname', 'target', 'dest', 'destination', 'remote', 'remotehost', 'rhost', 'upstream', 'addr', 'address',
  'dst', 'dsthost', 'dstaddr', 'targethost', 'targetaddr', 'targetaddress', 'desthost', 'destaddr', 'destinationhost', 'destinationaddress', 'remoteaddr', 'remoteaddress', 'connect', 'forward']);
/**
 * Of those, the names that mean nothing but where to dial (twenty-seventh pass): a single label
 * without a port under one of them is a target too (`?target=db`: a bridge in a compose network
 * or a pod dials its own service `db` at its default port). `host`, `hostname`, `addr` and
 * `address` are not among them: a game's `?host=eu1`, a wallet's `?address=0x…`.
 */
const DIAL_NAMES = new Set(['target', 'dest', 'destination', 'remote', 'remotehost', 'rhost', 'upstream', 'dst', 'dsthost', 'targethost', 'desthost', 'destinationhost']);
/** Words such a value holds that name no host (a flag, a window's name). */
const NO_HOST = new Set(['true', 'false', 'yes', 'no', 'on', 'off', 'null', 'none', 'undefined', 'auto', 'default', 'self', 'blank', 'top', 'parent']);
const PORT_NAMES = new Set(['port', 'remoteport', 'rport', 'rp', 'dport', 'targetport', 'destport', 'dstport', 'destinationport']);
/** URLs of the protocols a TCP or UDP bridge carries (not web ones: a link to a page is no destination of a bridge). */
const STREAM_URL = /^\s*(?:tcp|udp|ssh|telnet|socks[45]?h?|postgres(?:ql)?|mysql|redis|rediss|mongodb|amqps?|mqtts?|vnc|rdp):\/\//i;
/** A parameter's name as bridges spell one name: any case, `_`, `-` or `.` between words, a `[]` after it. */
const nameKey = (k: string): string => k.toLowerCase().replace(/\[\]$/, '').replace(/[_.-]/g, '');
/** More destinations than this in one upgrade are refused, not decided one by one. */
const MAX_BRIDGE_TARGETS = 8;

/** A host (a name, an IPv4 or a bracketed IPv6 literal) with an optional port, as a bridge dials it. */
const HOST_PORT = /^(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.?)(?::(\d{1,5}))?$/i;

/** Whether a plain request is socket.io's handshake or one of its session's requests (the socket's request there is its first). */
export const socketIoRequest = (requestUrl: string): boolean => /[?&]EIO=\d/.test(requestUrl);

export function bridgeTargets(rawHeaders: string[], requestUrl: string): SecondTarget[] | { refusal: Rejection } | undefined {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return undefined;
  }
  const named: Array<{ host: string; port: string | undefined; why: string }> = [];
  const add = (given: string, port: string | undefined, why: string, dialName = false): void => {
    // A target written as a URL (`tcp://admin.example:22`, `ssh://root@admin.example/`) names its authority.
    const value = given.trim().replace(/^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?([^/?#]*).*$/is, '$1');
    // A bare IPv6 literal (`?host=::1`) is dialled as one.
    const m = HOST_PORT.exec(isIPv6(value) ? `[${value}]` : value);
    const p = m?.[2] ?? port;
    if (!m) return;
    if (p !== undefined) {
      if (/^\d{1,5}$/.test(p) && Number(p) <= 65535) named.push({ host: m[1]!, port: p, why });
      return;
    }
    // Without a port the bridge dials its default: only a host no word of a chat or a game spells.
    const host = m[1]!.replace(/\.$/, '');
    if (host.includes('.') || host.startsWith('[') || host.toLowerCase() === 'localhost') named.push({ host: m[1]!, port: undefined, why });
    // A single label under a name that means nothing but where to dial (not a number: a page's `?dest=2`).
    else if (dialName && /[a-z]/i.test(host) && !NO_HOST.has(host.toLowerCase())) named.push({ host, port: undefined, why });
  };
  // The query: a host-naming parameter with its port in it, or beside it; the Referer's as WeTTY reads it.
  const queries: Array<[URLSearchParams, string]> = [[url.searchParams, '']];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() !== 'referer') continue;
    try {
      queries.push([new URL(rawHeaders[i + 1]!.trim()).searchParams, 'Referer\'s ']);
    } catch {
      // Not a URL: nothing a bridge reads.
    }
  }
  for (const [query, whose] of queries) {
    const params = [...query].map(([k, v]) => [nameKey(k), v, k] as const);
    // The port as `parseInt` and `Number('+22')` read it (`22abc`, ` +22`).
    const portOf = (names: (k: string) => boolean): string | undefined => params.map(([k, v]) => (names(k) ? /^\s*\+?(\d{1,5})/.exec(v)?.[1] : undefined)).find((v) => v !== undefined);
    const port = portOf((k) => PORT_NAMES.has(k));
    for (const [k, v, raw] of params) if (HOST_NAMES.has(k)) add(v, port, `the bridge target its ${whose}?${raw}= names`, DIAL_NAMES.has(k));
    // A value that is a URL of a stream protocol names what a bridge dials, under any name (`?url=tcp://admin.example:22`).
    for (const [k, v, raw] of params) if (!HOST_NAMES.has(k) && STREAM_URL.test(v)) add(v, undefined, `the bridge target its ${whose}?${raw}= names`);
    // RFC 9298's short template (`/masque?h={target_host}&p={target_port}`): `h` names a host beside
    // a port `p` only, and only a dotted name, an address or `localhost` (a video's `?h=720&p=2` none).
    const p = portOf((k) => k === 'p');
    if (p !== undefined) for (const [k, v, raw] of params) if (k === 'h' && /[.:]|^localhost$/i.test(v.trim())) add(v, p, `the bridge target its ${whose}?${raw}= names`);
  }
  // wstunnel's older path: …/tcp/<host>/<port> (also MASQUE's `/.well-known/masque/udp/<host>/<port>/`), or <host>:<port> there.
  const path = /\/(?:tcp|udp)\/([^/]+)\/(\d{1,5})(?:\/|$)/i.exec(url.pathname) ?? /\/(?:tcp|udp)\/([^/]+?)(?::|%3a)(\d{1,5})(?:\/|$)/i.exec(url.pathname);
  if (path) add(safeDecode(path[1]!), path[2], 'the bridge target its path names');
  // MASQUE's IP proxying template (`/.well-known/masque/ip/<target>/<ipproto>/`): every port of the host.
  const ip = /\/masque\/ip\/([^/]+)\/[^/]+(?:\/|$)/i.exec(url.pathname);
  if (ip) add(safeDecode(ip[1]!), undefined, 'the host its IP proxying path names');
  // wstunnel's JWT among the subprotocols.
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() !== 'sec-websocket-protocol') continue;
    for (const token of rawHeaders[i + 1]!.split(',')) {
      const t = token.trim();
      if (!/^authorization\.bearer\./i.test(t)) continue;
      const claims = jwtClaims(t.slice('authorization.bearer.'.length));
      if (claims && typeof claims.r === 'string' && (typeof claims.rp === 'number' || typeof claims.rp === 'string')) {
        add(claims.r.includes(':') && !claims.r.startsWith('[') ? `[${claims.r}]` : claims.r, String(claims.rp), 'the bridge target its wstunnel token names');
      }
    }
  }
  if (!named.length) return undefined;
  if (named.length > MAX_BRIDGE_TARGETS) return { refusal: refusals.bad(`the upgrade names more than ${MAX_BRIDGE_TARGETS} destinations for a bridge to dial`) };
  // Each as the upgrade it amounts to (a policy allowing a host's WebSocket allows its bridge target there).
  return named.map(({ host, port: p, why }) => {
    const at = p === undefined ? host : `${host}:${p}`;
    const target = bodilessTarget(rawHeaders, 'GET', `ws://${at}/`, `${why} (${at}${p === undefined ? ', at the bridge\'s own default port' : ''}, dialled behind the upgrade)`);
    if (!target.request.headers.some(([k]) => k.toLowerCase() === 'upgrade')) target.request.headers.push(['Upgrade', 'websocket']);
    return target;
  });
}

/** A path segment decoded, or as it stands where its escapes are malformed. */
function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** A JWT's claims (its signature unchecked, as such a bridge reads them), or undefined. */
function jwtClaims(jwt: string): Record<string, unknown> | undefined {
  const part = jwt.split('.')[1];
  if (!part || part.length > 8192) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}
