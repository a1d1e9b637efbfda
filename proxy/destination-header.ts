// WebDAV's second target. COPY and MOVE (RFC 4918 §9.8, §9.9) write the resource the `Destination`
// header names, not only the request line's: `COPY /public/a.txt` with `Destination: /admin/a.txt`
// creates /admin/a.txt on Go's golang.org/x/net/webdav, Apache mod_dav, nginx's dav module and
// SabreDAV (Nextcloud), while the policy judged a request to /public. The pipeline decides the
// destination too (proxy/pipeline.ts); this module reads the header. Pure.
import { serverHeaderKey } from '../lib/text.ts';
import { parseAuthority, sameAuthority } from './http-util.ts';
import { pathAmbiguity, rawPathOf } from '../describe/path-ambiguity.ts';

export type DestinationTarget =
  | { kind: 'none' }
  | { kind: 'url'; url: string }
  | { kind: 'bad'; detail: string }
  | { kind: 'misdirected'; detail: string };

const none: DestinationTarget = { kind: 'none' };

/**
 * The absolute URL a request's `Destination` header names (a server reads it for COPY and MOVE;
 * any method is read, since an override may make a POST one of them), or why it is refused: more
 * than one (servers take the first or the last), a value that is no http(s) URL, a path that can
 * mean two things, another origin than the request's (a server hosting both would write there).
 */
export function destinationTarget(rawHeaders: readonly string[], requestUrl: string): DestinationTarget {
  let value: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.length < 11 || serverHeaderKey(rawHeaders[i]!) !== 'destination') continue;
    if (value !== undefined) return { kind: 'bad', detail: 'more than one Destination header (servers read the first or the last)' };
    value = rawHeaders[i + 1]!.trim();
  }
  if (value === undefined) return none;
  // RFC 4918 §10.3: an absolute URI or an absolute path. Servers read anything else their own way
  // (Go roots `deny/x` as /deny/x and takes `http:/deny/x` as that path), so it is refused.
  if (!/^https?:\/\/[^/]/i.test(value) && !/^\/(?!\/)/.test(value)) {
    return { kind: 'bad', detail: `a Destination header that is neither an absolute URL nor an absolute path (${JSON.stringify(value.slice(0, 80))})` };
  }
  let dest: URL;
  try {
    dest = new URL(value, requestUrl);
  } catch {
    return { kind: 'bad', detail: `a Destination header that is not a URL (${JSON.stringify(value.slice(0, 80))})` };
  }
  const base = new URL(requestUrl);
  const scheme = base.protocol.slice(0, -1);
  const there = parseAuthority(dest.host, scheme);
  const here = parseAuthority(base.host, scheme);
  if (dest.protocol !== base.protocol || dest.username || dest.password || !there || !here || !sameAuthority(there, here)) {
    return { kind: 'misdirected', detail: `its Destination header names ${JSON.stringify(value.slice(0, 80))}, another origin than the request's (a server hosting both would write there)` };
  }
  const ambiguous = pathAmbiguity(rawPathOf(value));
  if (ambiguous) return { kind: 'bad', detail: `its Destination path can mean two things: it holds ${ambiguous}` };
  dest.hash = '';
  return { kind: 'url', url: dest.href };
}
