// Small linear-time string helpers for text an agent controls. They stand in for regular
// expressions like /\.+$/ that backtrack quadratically on long runs (test/fuzz/redos.test.ts
// checks every regular expression in the tree with a ReDoS checker).
import { lookupTable } from './records.ts';

/** `text` without any trailing run of `char` (a single character): "a.b.." → "a.b". */
export function trimTrailing(text: string, char: string): string {
  let end = text.length;
  while (end > 0 && text[end - 1] === char) end--;
  return end === text.length ? text : text.slice(0, end);
}

/** `text` without its leading and trailing characters (UTF-16 units) that `trimmed` says go. */
export function trimWhere(text: string, trimmed: (c: string) => boolean): string {
  let start = 0;
  let end = text.length;
  while (start < end && trimmed(text[start]!)) start++;
  while (end > start && trimmed(text[end - 1]!)) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/** Go's `strings.Trim(text, cutset)`: every leading and trailing character found in `cutset`. */
export function trimAny(text: string, cutset: string): string {
  return trimWhere(text, (c) => cutset.includes(c));
}

const unprintable = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\u2800]/gu;

/**
 * Text an agent chose (a URL, a policy's reason quoting the request, a tool name, a body), made
 * safe to print on a terminal or in a log read as lines: C0 and C1 control characters (ESC starts
 * the sequences that move the cursor, erase lines and recolour; CR rewrites a line), DEL, line
 * separators, the bidirectional marks that reorder what is shown and every character no font
 * draws (zero-width ones, variation selectors, the tag characters that spell hidden sentences)
 * become visible escapes (`\x1b`, `\u202e`, `\u{e0041}`). With `lines`, line feeds and tabs stay; otherwise they are escaped too, so
 * a one-line entry stays one line and cannot print a forged one.
 */
export function terminalText(text: string, lines = false): string {
  return text.replace(unprintable, (c) => {
    if (lines && (c === '\n' || c === '\t')) return c;
    const code = c.codePointAt(0)!;
    if (code < 0x100) return `\\x${code.toString(16).padStart(2, '0')}`;
    return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/**
 * A value as JSON for a terminal (`--json`): the same JSON, with every character terminalText
 * escapes that JSON.stringify leaves raw (DEL, C1 controls such as U+009B, a CSI to terminals that
 * read 8-bit controls; bidi overrides; zero-width and other invisible characters) written as a
 * `\uXXXX` escape, which every JSON parser reads back as the same character.
 */
export function terminalJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(unprintable, (c) => {
    // JSON.stringify escapes C0 controls in strings: a raw line feed is the layout's own.
    if (c === '\n') return c;
    let out = '';
    for (let i = 0; i < c.length; i++) out += `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`;
    return out;
  });
}

const lookalike = /[\p{Script=Cyrillic}\p{Script=Greek}\p{Script=Armenian}\p{Script=Cherokee}\p{Script=Coptic}\p{Script=Lisu}]/u;
const latinLetter = /\p{Script=Latin}/u;
const wordLike = /[\p{L}\p{M}\p{N}._@-]+/gu;

/**
 * Characters that pass for ASCII letters and digits within the Latin script or none (the studio's
 * `studio/app/body-view.ts` marks the same): small capitals, dotless ı and ȷ, script ɑ ɡ, the click
 * ǀ; what NFKC folds to ASCII (fullwidth, mathematical letters and digits, the Kelvin sign, Roman
 * numerals, ſ, ﬁ); an ASCII letter under a dot or line below, precomposed or as a mark after it.
 */
const asciiAlikeCandidate = /[\u0131\u0237\u01C0\u017F\u0251\u0261\u0262\u0269\u026A\u0274\u0280\u028F\u0299\u029C\u029F\u0323\u0324\u0331\u1D00-\u1D22\u1E00-\u1EFF\u2100-\u218F\uA730\uA731\uFB00-\uFB06\uFF10-\uFF5A]|[\u{1D400}-\u{1D7FF}]|(?![0-9])\p{Nd}/u;
const otherDigit = /^(?![0-9])\p{Nd}$/u;
const smallCapitals = /[\u0131\u0237\u01C0\u0251\u0261\u0262\u0269\u026A\u0274\u0280\u028F\u0299\u029C\u029F\u1D00\u1D04\u1D05\u1D07\u1D0A\u1D0B\u1D0D\u1D0F\u1D18\u1D1B\u1D1C\u1D20\u1D21\u1D22\uA730\uA731]/u;
const belowMark = /^[\u0323\u0324\u0331]$/;

/**
 * Whether `c` (after `prev`) passes for an ASCII letter or digit. A decimal digit of another script
 * (Python's `int()` reads `5٠٠٠٠`, Arabic-Indic zeros drawn as dots, as 50000) counts in a word
 * that holds ASCII letters or digits, or no letter at all (`digits`).
 */
export function passesForAscii(c: string, prev: string, digits = true): boolean {
  if (!asciiAlikeCandidate.test(c)) return false;
  if (otherDigit.test(c) && c.normalize('NFKC') === c) return digits;
  if (smallCapitals.test(c)) return true;
  if (belowMark.test(c)) return /^[A-Za-z]$/.test(prev);
  const folded = c.normalize('NFKC');
  if (folded !== c && /^[A-Za-z0-9]+$/.test(folded)) return true;
  const parts = c.normalize('NFD');
  return parts.length === 2 && /^[A-Za-z]$/.test(parts[0]!) && belowMark.test(parts[1]!);
}

const escaped = (c: string): string => {
  const code = c.codePointAt(0)!;
  return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
};

/**
 * Letters of scripts that pass for Latin ones (Cyrillic о, Greek ο, Armenian օ, Cherokee Ꭺ …)
 * inside a word, host or address that also holds Latin letters, escaped (`boss@c\u043erp.com`):
 * printed as they are, they read as the Latin word (the studio's cards highlight them). A word
 * wholly in one script is left alone. Characters that pass for ASCII (`passesForAscii`: `\u1d04orp`)
 * are escaped wherever they stand.
 */
export function lookalikesEscaped(text: string): string {
  const mixed = lookalike.test(text);
  if (!mixed && !asciiAlikeCandidate.test(text)) return text;
  return text.replace(wordLike, (w) => {
    const mixedWord = mixed && latinLetter.test(w) && lookalike.test(w);
    const digits = /[A-Za-z0-9]/.test(w) || !/\p{L}/u.test(w);
    let prev = '';
    let out = '';
    for (const c of w) {
      out += (mixedWord && lookalike.test(c)) || passesForAscii(c, prev, digits) ? escaped(c) : c;
      prev = c;
    }
    return out;
  });
}

const jsonLetters: Readonly<Record<string, string>> = lookupTable({ b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' });

/**
 * JSON's string escapes undone in place (`\u0073` → `s`, `\n` → a line break); anything else is
 * left as it is. What a JSON text's strings read as, or what a server that puts text into JSON
 * unescaped hands its reader.
 */
export function jsonUnescaped(s: string): string {
  if (!s.includes('\\')) return s;
  // A scan, not a replace with a callback per escape: a MiB of `\u0041` cost ~0.4 s of callbacks.
  const out: string[] = [];
  let from = 0;
  for (let i = s.indexOf('\\'); i >= 0 && i + 1 < s.length; i = s.indexOf('\\', i)) {
    const c = s[i + 1]!;
    let one: string | undefined;
    let end = i + 2;
    if (c === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) {
      one = String.fromCharCode(parseInt(s.slice(i + 2, i + 6), 16));
      end = i + 6;
    } else if ('"\\/bfnrt'.includes(c)) one = jsonLetters[c] ?? c;
    if (one === undefined) {
      i++;
      continue;
    }
    out.push(s.slice(from, i), one);
    from = i = end;
  }
  out.push(s.slice(from));
  return out.join('');
}

/** A path as one word a shell reads back unchanged, for hints the user pastes. */
export function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * A header name as servers that key headers by an environment name read it: lower case, every
 * character but a letter or a digit read as `-`. lighttpd hands CGI, FastCGI and SCGI backends
 * (PHP-FPM) `HTTP_` + the name with every such character as `_` (its http_cgi_encode_varname), and
 * Rack, Puma and Python's CGI read `-` and `_` alike, so `X-HTTP-Method.Override`,
 * `X_HTTP_Method+Override` and `X-HTTP-Method-Override` are one header to them (and PHP's
 * frameworks, which rebuild header names from those keys).
 */
export function serverHeaderKey(name: string): string {
  const lower = name.toLowerCase();
  return dashedName.test(lower) ? lower : lower.replace(/[^a-z0-9]/g, '-');
}

/** A name of letters, digits and dashes only (nearly every header): its key is itself, no copy. */
const dashedName = /^[a-z0-9-]*$/;

/** Whether a header name has a separator other than `-` (the names whose key differs from the name). */
export function otherSeparator(name: string): boolean {
  return otherSeparatorRe.test(name);
}

const otherSeparatorRe = /[^A-Za-z0-9-]/;

/** `text` with its ASCII capitals lowered (every other character kept, so indexes stay the same). */
function asciiLower(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out += c >= 65 && c <= 90 ? String.fromCharCode(c + 32) : text[i]!;
  }
  return out;
}

const isBlank = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';

/**
 * Whether `word` (ASCII, lower-case) begins a statement of an SQL text, in any letter case, where
 * `accept` takes what follows (it is given the index just after the word). A statement begins at the text's start, after a `;`, a `(`, a
 * line's end, a comment's end (`*\/`) or MySQL's executable comment's start (`/*!`, `/*!50000`),
 * blanks between. A plain scan, linear in the text (each blank run and digit run is read back once).
 */
export function startsStatement(text: string, word: string, accept: (after: number) => boolean): boolean {
  const lower = asciiLower(text);
  for (let i = lower.indexOf(word); i >= 0; i = lower.indexOf(word, i + 1)) {
    let j = i - 1;
    let newline = false;
    while (j >= 0 && isBlank(lower[j])) {
      if (lower[j] === '\n') newline = true;
      j--;
    }
    const c = lower[j];
    let k = j;
    while (k >= 0 && lower[k]! >= '0' && lower[k]! <= '9') k--;
    if ((j < 0 || newline || c === ';' || c === '(' || (c === '/' && lower[j - 1] === '*') || (lower[k] === '!' && lower[k - 1] === '*' && lower[k - 2] === '/')) && accept(i + word.length)) return true;
  }
  return false;
}
