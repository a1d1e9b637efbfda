// Paths that mean two things. The policy decides on the description's path and segments; the
// upstream routes on the bytes it receives, and servers disagree about what some bytes mean:
//
//   nginx        decodes %2F to "/", merges "//", then resolves dot-segments (so /a/..%2Fb is /b)
//   Go net/http  URL.Path is percent-decoded (%2F is "/"); ServeMux cleans "//" and dot-segments
//   Express      routes on the raw path, decodes parameters (:name of a%2Fb is "a/b")
//   Apache       404 for %2F/%5C by default (AllowEncodedSlashes Off); decodes %2E before resolving
//   Tomcat/Jetty strip ";params" from each segment before resolving (/a/..;/b is /b); 400 for %2F
//   IIS          "\" is "/", %u002f is "/", historically decoded twice (%252f)
//   front proxies that decode before passing the path on (nginx with $uri in proxy_pass, Apache
//                mod_rewrite before 2.4.60) let the next server split %3F and %23 off as query
//                and fragment: /public/..%3F/x is / there
//
// So a path is ambiguous when any of those readings gives a different segment structure from
// the plain one (split on "/", decode each segment once). Spring Security's StrictHttpFirewall
// refuses the same shapes by default. Airlock refuses them (400) unless the policy opts in for the
// request with `raw_path: true` (docs/policies.md), so the policy and the upstream always agree
// on which resource a request names. Pure; reads the request target as the agent sent it.

import { serverHeaderKey } from '../lib/text.ts';

/** The path of a request target as sent (absolute-form or origin-form), without query and fragment. */
export function rawPathOf(target: string): string {
  let rest = target;
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#\\]*/.exec(rest);
  if (scheme) rest = rest.slice(scheme[0].length);
  const end = rest.search(/[?#]/);
  return end < 0 ? rest : rest.slice(0, end);
}

const escapes = /%[0-9A-Fa-f]{2}/g;

/**
 * Percent-decodes one segment as UTF-8; undefined when the bytes are not valid UTF-8.
 * decodeURIComponent refuses overlong forms (%c0%af) and lone surrogates, as a strict decoder must.
 */
function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/**
 * Characters Windows' "best fit" code-page conversion turns into "/" or "\\" (division and fraction
 * slash, big solidus; yen and won are "\\" in the Japanese and Korean code pages): a server that
 * converts the decoded path to an ANSI code page (IIS, CGI on Windows) splits on them. NFKC, tried
 * next, covers the full-width and small forms.
 */
const bestFitSeparators = /[\u2215\u2044\u29f8\u2216\u29f9\u00a5\u20a9]/;

/**
 * A character that compatibility normalization (NFKC) turns into ASCII, or undefined: full-width
 * letters and digits (`ａ` is `a`), ligatures (`ﬁ` is `fi`), the long s (`ſ` is `s`), the Kelvin
 * sign (`K` is `K`), superscripts, Roman numerals, compatibility spaces. A server that normalizes a
 * path before routing it (NFKC-normalizing frameworks; Windows' best-fit conversion does the same
 * to full-width forms) reads `/ａdmin` as `/admin`, a name the policy compared against `ａdmin`.
 * Characters NFKC keeps outside ASCII (`é` in either form, CJK, half-width kana) are names alike
 * to both. One code point at a time: composition never yields ASCII.
 */
function compatibilityAscii(decoded: string): string | undefined {
  for (const ch of decoded) {
    if (ch.charCodeAt(0) < 0x80) continue;
    const n = ch.normalize('NFKC');
    if (n !== ch && /[\x00-\x7f]/.test(n)) return ch;
  }
  return undefined;
}

/** What a segment becomes after decoding that a server would treat as structure, or undefined. */
function decodedStructure(decoded: string): string | undefined {
  if (/[/\\]/.test(decoded)) return 'an encoded "/" or "\\" (nginx, Go and IIS split on it after decoding)';
  if (/%(?:[0-9A-Fa-f]{2}|[uU][0-9A-Fa-f]{4})/.test(decoded)) return 'a double-encoded escape (an escape that decodes to another escape, such as %25u002f or %25%32%66, which servers that decode twice read as the character itself)';
  if (bestFitSeparators.test(decoded)) return 'a character Windows\' best-fit conversion reads as "/" or "\\" (U+2215, U+2044, U+29F8, ¥, ₩ …)';
  if (/[\u0000-\u001f\u007f]/.test(decoded)) return 'an encoded control character (C servers stop at %00; %0A splits lines)';
  if (decoded.includes(';')) return 'an encoded ";" (Tomcat, Jetty and Spring cut path parameters at it)';
  if (/[?#]/.test(decoded)) return 'an encoded "?" or "#" (a front proxy that decodes the path before passing it on, such as nginx with $uri or Apache mod_rewrite before 2.4.60, makes the next server end the path there)';
  if (/^\s*\.\.?\s*$/.test(decoded)) return 'an encoded dot-segment (servers that decode before resolving read it as "." or "..")';
  return undefined;
}

/**
 * Why this raw path (as sent) can be read with a different segment structure than the plain one,
 * or undefined when every reading agrees.
 */
export function pathAmbiguity(rawPath: string): string | undefined {
  // Most paths hold none of the characters any rule looks at.
  if (!rawPath.includes('%') && !rawPath.includes('\\') && !rawPath.includes(';') && !rawPath.includes('//')) return undefined;
  if (rawPath.includes('\\')) return 'a "\\" (a path separator to IIS and to URL parsers)';
  if (/%(?![0-9A-Fa-f]{2})/.test(rawPath)) return 'a malformed escape (a "%" without two hex digits; IIS reads %u002f as "/")';
  if (/%25[0-9A-Fa-f]{2}/.test(rawPath)) return 'a double-encoded escape (%25XX, which servers that decode twice read as the character itself)';
  const segments = rawPath.split('/');
  for (let i = 0; i < segments.length; i++) {
    const raw = segments[i]!;
    if (raw === '' && i > 0 && i < segments.length - 1) return 'an empty segment ("//", which nginx and Go merge into one "/")';
    if (raw.includes(';')) return 'a ";" (Tomcat, Jetty and Spring cut path parameters at it, so /a/..;/b is /b to them)';
    if (!raw.includes('%')) continue;
    const decoded = decodeSegment(raw);
    if (decoded === undefined) return 'an escape that is not valid UTF-8 (overlong forms such as %c0%af decode to "/" in lenient decoders)';
    const why = decodedStructure(decoded) ?? (/[^\x00-\x7f]/.test(decoded) ? decodedStructure(decoded.normalize('NFKC')) : undefined);
    if (why) return why;
    const compat = /[^\x00-\x7f]/.test(decoded) ? compatibilityAscii(decoded) : undefined;
    if (compat !== undefined) {
      return `a character Unicode normalization (NFKC) turns into ASCII (${JSON.stringify(compat)} is ${JSON.stringify(compat.normalize('NFKC'))}: full-width letters, ligatures, ſ, K), which servers that normalize the path read as another name`;
    }
  }
  return undefined;
}

/** Headers some servers take the path from instead of the request line (CGI spells them with `_`). */
export const pathRewriteHeaders = new Set(['x-original-url', 'x-rewrite-url']);

/**
 * A header naming another path than the request line's: IIS URL Rewrite, older Symfony and Zend
 * run the path an `X-Original-URL` or `X-Rewrite-URL` names, so `GET /public` with
 * `X-Original-URL: /admin` is `/admin` to them. Undefined when the request carries none.
 */
export function pathHeaderAmbiguity(rawHeaders: readonly string[]): string | undefined {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = serverHeaderKey(rawHeaders[i]!);
    if (pathRewriteHeaders.has(name)) return `an ${rawHeaders[i]!.slice(0, 40)} header (IIS URL Rewrite, older Symfony and Zend run the path it names instead of the request line's)`;
  }
  return undefined;
}

/** Unreserved characters (RFC 3986 §2.3): an escape of one of them means the character itself. */
const unreserved = /[A-Za-z0-9\-._~]/;

/**
 * The path in its normal form (RFC 3986 §6.2.2): escapes of unreserved characters decoded
 * (/%61dmin is /admin, for the policy and the upstream alike), every other escape in upper case.
 * So a policy that compares path strings sees one spelling of each resource.
 */
export function normalizePathEscapes(path: string): string {
  if (!path.includes('%')) return path;
  return path.replace(escapes, (e) => {
    const c = String.fromCharCode(parseInt(e.slice(1), 16));
    return unreserved.test(c) ? c : e.toUpperCase();
  });
}

/**
 * RFC 3986 §5.2.4 remove_dot_segments on an absolute path. The WHATWG URL parser is meant to do
 * this, but Node 20's (ada) leaves "/a/.b/../.." as it is when a segment starts with a dot, which
 * any server then resolves to "/": so Airlock resolves them itself.
 */
export function removeDotSegments(path: string): string {
  if (!path.includes('.')) return path;
  const segments = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i]!;
    const last = i === segments.length - 1;
    if (s === '.' || s === '..') {
      if (s === '..') out.pop();
      if (last) out.push('');
      continue;
    }
    out.push(s);
  }
  return `/${out.join('/')}`;
}

/** The path as the policy sees it and the upstream receives it: escapes normalized, dot-segments resolved. */
export function normalizePath(path: string): string {
  return removeDotSegments(normalizePathEscapes(path));
}
