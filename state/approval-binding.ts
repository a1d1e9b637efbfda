// What an approval and a grant cover: exactly what the human saw, nothing wider.
//
// An approval is bound to a hash of the request (state/approvals.ts requestHash); the headers in
// it are the end-to-end headers that go upstream, in a canonical form. A grant's default path
// pattern is the approved path with its glob characters escaped, so a path that happens to hold
// "*" or "[" cannot become a wildcard. Pure.
import { serverHeaderKey } from '../lib/text.ts';

/**
 * Not part of what was approved: the retry header itself (never forwarded), and the WebSocket
 * handshake nonce, which RFC 6455 makes fresh for every connection and which means nothing to
 * the service (a WebSocket retry could never match otherwise).
 */
const unbound = new Set(['airlock-approval', 'sec-websocket-key']);

/**
 * Headers in the form an approval is bound to: names lower-cased, values as sent, sorted by the
 * name a server keys them by (the order of different headers means nothing; the order of one
 * header's values does, so it is kept). That key is the name with every separator read as `-`
 * (lib/text.ts serverHeaderKey): CGI, FastCGI (PHP-FPM), Python's wsgiref and Rack read
 * `X-Account` and `X_Account` as one header, the first or the last of them, so their order is
 * kept too: sorted by name, a retry that swapped them matched the approval and the server acted
 * for the other account (twenty-sixth pass). Names of letters, digits and dashes only (nearly
 * every header) are their own key, so their order is as before. The caller passes what goes
 * upstream: hop-by-hop headers are already gone.
 */
export function boundHeaders(headers: ReadonlyArray<readonly [string, string]>): Array<[string, string]> {
  const out: Array<{ key: string; pair: [string, string] }> = [];
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (!unbound.has(lower)) out.push({ key: serverHeaderKey(lower), pair: [lower, value] });
  }
  // Array.prototype.sort is stable: values of one key keep their order.
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((x) => x.pair);
}

/** A path as a glob that matches that path and nothing else (kept in lib/glob.ts, which the engine reads too). */
export { escapeGlob } from '../lib/glob.ts';
