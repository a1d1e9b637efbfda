// Every spelling of a secret's bytes that an upstream (or an agent) could produce. A fixed list of
// encodings misses the next one somebody asks for, so a secret is described once as a small
// pattern tree covering whole families, compiled to one RegExp (the scan runs in V8's native regex
// code) and walked in JS only to tell whether the tail of a streamed chunk could be the start of a
// spelling (so streaming holds back as little as possible).
//
// Families, mixed freely character by character (a spelling may escape any subset):
//   text     raw bytes; %XX (percent, either hex case; form '+'); =XX and soft line breaks
//            (quoted-printable); \xXX and \ooo (C, Python, shell, quoted cookies); \uXXXX and
//            surrogate pairs (JSON, JavaScript), \UXXXXXXXX (YAML, Python), \u{X} (JavaScript, Ruby,
//            PHP), \x{X} (Perl), %uXXXX (IIS, ASP.NET, JavaScript's unescape); \/ and other identity escapes of
//            punctuation; &#N; &#xH; and &name; (HTML, XML); doubled quotes (SQL, CSV)
//   base64   standard and URL alphabets at every byte alignment inside a larger blob, padded or
//            not, wrapped by line breaks or whitespace (MIME's 76 columns, PEM, JSON "\n"), its
//            punctuation in any text spelling (%2B, \/ …)
//   wrapped  raw bytes (either case) with a line break and indentation between any two
//   hex      either case, optionally separated per byte (de:ad, de ad, de_ad, de.ad, 0xde,0xad)
//   base32   RFC 4648 (upper case) at every byte alignment
//   decimal  bytes as a list of numbers (Node's JSON of a Buffer, Go's []byte, Python's list(b))
// Letters written as themselves match in either case (a service that upper- or lower-cases what
// it shows); CSS escapes (\73 ) are a text family too, and so are full-width forms (ｓｋ＿, read
// as ASCII by NFKC) in UTF-8.
// UTF-16 and UTF-32 text is matched by scanning it with its NULs removed (proxy/scrub.ts).
//
// A value longer than FULL_SPELLING_MAX bytes (an AWS session token, an Azure or GCP JWT) is
// matched whole in its canonical spellings (raw, JSON, the usual percent-encodings, HTML-escaped,
// base64 and hex without separators), and its first and last WINDOW_BYTES in every spelling: a
// per-character pattern of the whole value would compile to a regex too large to be fast.
import { base64Cores } from '../describe/placeholders.ts';
import { lookupTable } from '../lib/records.ts';

/** A pattern: one character out of a set, a sequence, alternatives, or 0..max repetitions. */
export type Node =
  | { k: 'set'; c: string; fill?: true }
  | { k: 'seq'; n: Node[] }
  | { k: 'alt'; n: Node[] }
  | { k: 'rep'; n: Node; max: number };

/** Encoded forms (base64, hex) shorter than this are not looked for: they would match innocent text. */
export const MIN_ENCODED_LENGTH = 4;
/** Values up to this many bytes are matched in every spelling; longer ones in canonical spellings. */
export const FULL_SPELLING_MAX = 256;

const set = (c: string): Node => ({ k: 'set', c });
const EMPTY: Node = { k: 'seq', n: [] };

function seq(...items: Node[]): Node {
  const n: Node[] = [];
  for (const i of items) {
    if (i.k === 'seq') n.push(...i.n);
    else n.push(i);
  }
  return n.length === 1 ? n[0]! : { k: 'seq', n };
}

const headOf = (n: Node): Node | undefined => (n.k === 'seq' ? n.n[0] : n);
const tailOf = (n: Node): Node => (n.k === 'seq' ? seq(...n.n.slice(1)) : EMPTY);
const isEmpty = (n: Node): boolean => n.k === 'seq' && n.n.length === 0;

/**
 * Alternatives, factored like a trie (options starting with the same one-character set share it)
 * and with single-character options merged into one set: a much smaller and faster regex.
 */
function alt(...options: Node[]): Node {
  const flat: Node[] = [];
  for (const o of options) {
    if (o.k === 'alt') flat.push(...o.n);
    else flat.push(o);
  }
  const groups = new Map<string, Node[]>();
  const repHeads = new Map<string, Node>();
  const order: string[] = [];
  const others: Node[] = [];
  let empty = false;
  for (const o of flat) {
    if (isEmpty(o)) {
      empty = true;
      continue;
    }
    const head = headOf(o)!;
    if (head.k !== 'set' && !(head.k === 'rep' && fillOf(head))) {
      others.push(o);
      continue;
    }
    // A gap's repetition as head (the extra backslashes of an escape escaped again) is shared like a set.
    const key = head.k === 'set' ? head.c : `\0${regexSource(head)}${fillOf(head) ? '\0f' : ''}`;
    if (head.k === 'rep') repHeads.set(key, head);
    if (!groups.has(key)) {
      groups.set(key, []);
      order.push(key);
    }
    groups.get(key)!.push(tailOf(o));
  }
  const factored: Node[] = [];
  let singles = '';
  for (const key of order) {
    const tails = groups.get(key)!;
    const shared = repHeads.get(key);
    if (shared) {
      factored.push(tails.every(isEmpty) ? shared : seq(shared, tails.length === 1 ? tails[0]! : alt(...tails)));
      continue;
    }
    if (tails.every(isEmpty)) {
      // Only single characters: merged into one set below.
      for (const ch of key) if (!singles.includes(ch)) singles += ch;
      continue;
    }
    factored.push(seq(set(key), tails.length === 1 ? tails[0]! : alt(...tails)));
  }
  const n = [...factored, ...(singles ? [set(singles)] : []), ...others];
  const body = n.length === 1 ? n[0]! : { k: 'alt' as const, n };
  return empty ? (n.length ? rep(body, 1) : EMPTY) : body;
}

const rep = (n: Node, max: number): Node => ({ k: 'rep', n, max });

/**
 * A gap between a spelling's characters (line breaks, blanks, separators), marked so the tripwire
 * counts a held start in what spells the value, not in what a gap lets in (PrefixAutomaton.heldSpelled):
 * a run of blanks or `=\r\n` after a key's public prefix is no characters of the key.
 */
function filler(n: Node): Node {
  switch (n.k) {
    case 'set': return { k: 'set', c: n.c, fill: true };
    case 'seq': return { k: 'seq', n: n.n.map(filler) };
    case 'alt': return { k: 'alt', n: n.n.map(filler) };
    case 'rep': return { k: 'rep', n: filler(n.n), max: n.max };
  }
}

/**
 * Twenty-sixth pass: a pattern whose letters match in either case (the sets' ASCII letters with
 * their other case added): where a stream may hold a start of a key cut short or a run of it as
 * the reading view reads it (regional indicators, small capitals: one case).
 */
export function eitherCase(n: Node): Node {
  switch (n.k) {
    case 'set': {
      let c = n.c;
      for (const ch of n.c) if (/[A-Za-z]/.test(ch) && !c.includes(String.fromCharCode(ch.charCodeAt(0) ^ 0x20))) c += String.fromCharCode(ch.charCodeAt(0) ^ 0x20);
      return n.fill ? { k: 'set', c, fill: true } : { k: 'set', c };
    }
    case 'seq': return { k: 'seq', n: n.n.map(eitherCase) };
    case 'alt': return { k: 'alt', n: n.n.map(eitherCase) };
    case 'rep': return { k: 'rep', n: eitherCase(n.n), max: n.max };
  }
}

const opt = (n: Node): Node => rep(n, 1);
const fillOf = (n: Node): boolean => (n.k === 'set' ? n.fill === true : n.k === 'rep' ? fillOf(n.n) : false);

/**
 * An escape's backslash, escaped again up to twice more (twenty-second pass, follow-up): a JSON
 * string inside a JSON string (`\\u0073`: a log line or an API gateway's record of a body) or
 * three levels deep (`\\\\u0073`), which a reader parsing each level reads as the character.
 * The extra backslashes spell nothing of the value (a gap's, for the tripwire's count). So for
 * a reference escaped again by a template (`&amp;#115;`, `&amp;amp;#115;`).
 */
const amp = (): Node => seq(set('&'), filler(rep(str('amp;'), 2)));
const backslash = (): Node => seq(set('\\'), filler(rep(set('\\'), 7)));

/** HTML5 named references of ASCII characters (those a serializer or an encoder may emit). */
const namedRefs: Readonly<Record<string, string[]>> = lookupTable({
  '\t': ['Tab'], '\n': ['NewLine'], '!': ['excl'], '"': ['quot', 'QUOT'], '#': ['num'], $: ['dollar'], '%': ['percnt'],
  '&': ['amp', 'AMP'], "'": ['apos'], '(': ['lpar'], ')': ['rpar'], '*': ['ast', 'midast'], '+': ['plus'], ',': ['comma'],
  '.': ['period'], '/': ['sol'], ':': ['colon'], ';': ['semi'], '<': ['lt', 'LT'], '=': ['equals'], '>': ['gt', 'GT'],
  '?': ['quest'], '@': ['commat'], '[': ['lsqb', 'lbrack'], '\\': ['bsol'], ']': ['rsqb', 'rbrack'], '^': ['Hat'],
  _: ['lowbar', 'UnderBar'], '`': ['grave', 'DiacriticalGrave'], '{': ['lcub', 'lbrace'], '|': ['verbar', 'vert', 'VerticalLine'],
  '}': ['rcub', 'rbrace'],
});
/** References HTML still decodes without their semicolon. */
const legacyRefs = new Set(['amp', 'AMP', 'lt', 'LT', 'gt', 'GT', 'quot', 'QUOT']);
const jsShortEscapes: Readonly<Record<string, string>> = lookupTable({ '\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't', '\v': 'v' });

const isAlnum = (cp: number): boolean => (cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a);
const str = (s: string): Node => seq(...[...s].map((c) => set(c)));

function hexDigit(v: number): Node {
  const h = v.toString(16);
  return set(h === h.toUpperCase() ? h : h + h.toUpperCase());
}

/** `v` in hex with exactly `digits` digits, either case. */
function hex(v: number, digits: number): Node {
  const out: Node[] = [];
  for (let i = digits - 1; i >= 0; i--) out.push(hexDigit((v >> (4 * i)) & 15));
  return seq(...out);
}

const hexMin = (v: number): Node => hex(v, v.toString(16).length);
const zeros = (): Node => rep(set('0'), 4);

/** One byte as an escape: %XX and =XX (percent, quoted-printable), \xXX, \ooo (octal: C, Python, quoted cookies). */
function byteEscapes(b: number, again = false): Node[] {
  const bs = (): Node => (again ? backslash() : set('\\'));
  // %25XX: percent-encoded twice (a URL holding the value, put in another URL's query: a login
  // redirect's `next=`, an OAuth `redirect_uri`).
  return [seq(set('%='), hex(b, 2)), seq(str('%25'), hex(b, 2)), seq(bs(), set('x'), hex(b, 2)), seq(bs(), str(b.toString(8).padStart(3, '0')))].concat(
    // Twenty-sixth pass: octal with no leading zero (`\65` for `5`, `\137` for `_`): C, Python,
    // JavaScript's legacy escapes, PHP, Ruby, Go's `\ooo` reads one to three digits; a writer that
    // escapes each byte by `'\\' + b.toString(8)` writes a digit or a mark below `@` so.
    b < 0o100 ? [seq(bs(), str(b.toString(8)))] : [],
  );
}

/** One code point as an escape: JSON/JS \u, \u{}, HTML/XML character references, and the like. */
function cpEscapes(cp: number, again = false): Node[] {
  const out: Node[] = [];
  const bs = (): Node => (again ? backslash() : set('\\'));
  const and = (): Node => (again ? amp() : set('&'));
  // \uXXXX (JSON, JavaScript) and %uXXXX (IIS, ASP.NET's HttpUtility.UrlDecode, JavaScript's unescape).
  const u = (): Node => (again ? seq(backslash(), set('u')) : seq(set('\\%'), set('u')));
  if (cp <= 0xffff) {
    out.push(seq(u(), hex(cp, 4)));
  } else {
    const hi = 0xd800 + ((cp - 0x10000) >> 10);
    const lo = 0xdc00 + ((cp - 0x10000) & 0x3ff);
    out.push(seq(u(), hex(hi, 4), u(), hex(lo, 4)));
  }
  out.push(seq(bs(), set('U'), hex(cp, 8))); // YAML, Python, C
  out.push(seq(bs(), str('u{'), zeros(), hexMin(cp), set('}'))); // JavaScript, Ruby, PHP
  out.push(seq(bs(), str('x{'), zeros(), hexMin(cp), set('}'))); // Perl, PCRE, Tcl
  // CSS: a backslash, 1–6 hex digits and one optional blank (CSS.escape, cssesc, a stylesheet's content: "…").
  out.push(seq(bs(), zeros(), hexMin(cp), opt(alt(str('\r\n'), set(' \t\n\r\f')))));
  out.push(seq(and(), set('#'), zeros(), str(String(cp)), opt(set(';'))));
  out.push(seq(and(), set('#'), set('xX'), zeros(), hexMin(cp), opt(set(';'))));
  const ch = String.fromCodePoint(cp);
  for (const name of namedRefs[ch] ?? []) out.push(seq(and(), str(name), legacyRefs.has(name) ? opt(set(';')) : set(';')));
  if (cp < 0x80 && cp > 0x20 && !isAlnum(cp)) out.push(seq(bs(), set(ch))); // identity escape: \/ \" \+ …
  if (ch === "'" || ch === '"') out.push(str(ch + ch)); // SQL, CSV
  if (ch === ' ') out.push(set('+')); // form encoding
  if (jsShortEscapes[ch]) out.push(seq(bs(), set(jsShortEscapes[ch])));
  return out;
}

/** A byte as a set: ASCII letters in both cases. */
function caseless(b: number): string {
  const c = String.fromCharCode(b);
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) ? c + String.fromCharCode(b ^ 0x20) : c;
}

const charCache = new Map<number, Node>();

/**
 * A code point in any text spelling: its UTF-8 bytes (each raw or escaped), or an escape of the
 * whole character; `again`: its escapes escaped again too (escapedAgainForm).
 */
function char(cp: number, again = false): Node {
  const key = again ? -1 - cp : cp;
  let n = charCache.get(key);
  if (!n) {
    const bytes = [...Buffer.from(String.fromCodePoint(cp), 'utf8')];
    // A letter in either case: a service that upper- or lower-cases what it shows (an error
    // message, a normalized URL host, a case-insensitive key) hands out a value whose letters an
    // agent recovers with a handful of guesses, all of them when the value has one case (hex keys).
    const literal = seq(...bytes.map((b) => alt(set(caseless(b)), ...byteEscapes(b, again))));
    n = alt(literal, ...fullwidth(cp), ...cpEscapes(cp, again));
    if (charCache.size < 4096) charCache.set(key, n);
  }
  return n;
}

/**
 * A printable ASCII character as its full-width form (U+FF01–FF5E, in UTF-8; either case for a
 * letter): NFKC (Python's `unicodedata.normalize`, JavaScript's `normalize('NFKC')`) reads it as
 * the ASCII one, as does a person.
 */
function fullwidth(cp: number): Node[] {
  if (cp < 0x21 || cp > 0x7e) return [];
  const wide = (c: number): Node => str(Buffer.from(String.fromCodePoint(c + 0xfee0), 'utf8').toString('latin1'));
  const other = (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a) ? cp ^ 0x20 : undefined;
  return other === undefined ? [wide(cp)] : [wide(cp), wide(other)];
}

/** Quoted-printable soft line break: "=" at the end of a line, which decoders drop. */
/** Every latin1 character but an ASCII letter or digit: what a reader skips between a key's characters. */
const NOT_ALNUM = Array.from({ length: 256 }, (_, c) => String.fromCharCode(c)).filter((c) => !/[0-9A-Za-z]/.test(c)).join('');

const softBreak = (): Node => seq(set('='), opt(set('\r')), set('\n'));

/**
 * The value as its raw bytes (letters in either case) with line breaks inside it: a text view
 * that wraps a word too long for its column (Python's textwrap and Jinja's `wordwrap`, PHP's
 * `wordwrap(…, true)` and `chunk_split`, `fold -w`), the next line indented. A form of its own:
 * line breaks between the escape spellings of textForm made every scan 25–45% slower.
 * Also the value as a list of its characters (blanks, commas and quotes between them): Java's
 * `Arrays.toString` of a `char[]` (`[s, k, _]`: Lombok's `@ToString` of a password field), Gson's
 * JSON of one (`["s","k"]`), Python's `list(s)` (`['s', 'k']`), Go's `%q` of a `[]rune`.
 * Twentieth pass: any byte that is no letter or digit between them, as a reader skips it — the key
 * grouped by any mark every 1–3 characters or from before its start (a whole blob grouped), no-break
 * and thin spaces, combining marks (`s̶k̶`: strikethrough text), bidi controls, variation selectors,
 * tag characters, a Hangul or Mongolian filler, man-page underline (`_\bs`).
 */
function wrappedForm(value: string): Node {
  const gap = filler(rep(set(NOT_ALNUM), 20));
  const out: Node[] = [];
  [...Buffer.from(value, 'utf8')].forEach((b, i) => {
    if (i > 0) out.push(gap);
    out.push(set(caseless(b)));
  });
  return seq(...out);
}

/** The value as text: each character in any text spelling, soft line breaks allowed between them; `again`: escapes escaped again. */
function textForm(value: string, again = false): Node {
  // At most 4 (not 1): V8 unrolls quantifiers up to {0,3}, which makes the regex far costlier to compile.
  const gap = filler(rep(softBreak(), 4));
  const out: Node[] = [];
  [...value].forEach((c, i) => {
    if (i > 0) out.push(gap);
    out.push(char(c.codePointAt(0)!, again));
  });
  return seq(...out);
}

/**
 * A base64 core at one alignment, standard and URL alphabets at once: letters and digits as they
 * are, punctuation in any text spelling, line breaks and whitespace anywhere between characters.
 */
function base64Form(std: string, url: string): Node {
  const gap = filler(rep(alt(set(WHITESPACE), seq(set('\\'), set('rnt')), softBreak()), 8));
  const out: Node[] = [];
  for (let i = 0; i < std.length; i++) {
    if (i > 0) out.push(gap);
    const c = std[i]!;
    const u = url[i]!;
    const spell = (x: string): Node => (isAlnum(x.charCodeAt(0)) ? set(x) : char(x.charCodeAt(0)));
    out.push(c === u ? spell(c) : alt(spell(c), spell(u)));
  }
  return seq(...out);
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * The base32 (RFC 4648) characters of `bytes` that do not depend on what surrounds them, when the
 * bytes start at each of the five byte offsets of a 40-bit group inside a larger blob.
 */
export function base32Cores(bytes: Buffer, alphabet = BASE32): string[] {
  const cores: string[] = [];
  for (let shift = 0; shift < 5; shift++) {
    const bits = (shift + bytes.length) * 8;
    let out = '';
    // Characters wholly inside the value's bits: from the first after the shift's bits to the last complete one.
    for (let i = Math.ceil((shift * 8) / 5); (i + 1) * 5 <= bits; i++) {
      let v = 0;
      for (let k = 0; k < 5; k++) {
        const bit = i * 5 + k - shift * 8;
        v = (v << 1) | ((bytes[bit >> 3]! >> (7 - (bit & 7))) & 1);
      }
      out += alphabet[v];
    }
    if (out) cores.push(out);
  }
  return cores;
}

/**
 * Bytes in hex, either case, optionally separated per byte (de:ad, de ad, de_ad, de.ad, 0xde,0xad), also as a
 * source array wrapped over indented lines (`xxd -i`: `0x5f,\n  0x6c`; a pretty-printed list of
 * quoted hex strings: `'0x5f',\n '0x6c'`).
 */
function hexForm(bytes: Buffer): Node {
  const gap = filler(rep(alt(set(' \t\r\n:,-_.\'"'), seq(set('0'), set('xX'))), 8));
  const out: Node[] = [];
  bytes.forEach((b, i) => {
    if (i > 0) out.push(gap);
    out.push(hex(b, 2));
  });
  return seq(...out);
}

/**
 * Twenty-second pass: bytes as hex 16-bit little-endian words, each word's two bytes swapped —
 * `hexdump`'s default and `od -x` (`6b73 6c5f 7669` for `sk_live`), the value from an even byte
 * (`from` 0) or an odd one (1: its first byte shares a word with the byte before it), its last
 * byte dropped when it shares a word with the byte after. Blanks between words; a dump's line
 * breaks and offsets are read past by proxy/reading-view.ts. Follow-up: 32- and 64-bit words too
 * (`od -t x4`, `od -t x8`, `od -X`, `hexdump -e '4/4 "%08x "'`), from each byte of a word.
 */
function wordsForm(bytes: Buffer, from: number, size = 2): Node {
  // Wider words with a blank at least between them (as every dump writes them): the cue their scan waits for (NOTATION_CUE).
  const gap = filler(size > 2 ? seq(set(' \t'), rep(set(' \t'), 3)) : rep(set(' \t'), 4));
  const out: Node[] = [];
  for (let i = from; i + size <= bytes.length; i += size) {
    if (i > from) out.push(gap);
    for (let k = size - 1; k >= 0; k--) out.push(hex(bytes[i + k]!, 2));
  }
  return seq(...out);
}

/**
 * Twenty-second pass, follow-up: bytes as eight binary digits each with blanks between — `xxd -b`
 * (`01110011 01101011` for `sk`), Python's `' '.join(f'{b:08b}' …)`; a dump's line ends are read
 * past by proxy/reading-view.ts. Twenty-third pass: or nothing between — a bare bit string
 * (`basenc --base2msbf`, whose 76-column lines break between a byte's halves; `''.join(f'{b:08b}')`)
 * — and nibbles grouped (`0111 0011`), a line break between halves or bytes.
 */
function binaryForm(bytes: Buffer): Node {
  const half = filler(rep(set(' \t\r\n'), 2));
  // Twenty-sixth pass: a list's commas and quotes between bytes too (`['0b1110011', '0b1101011']`,
  // `01110011,01101011`; quotes JSON-escaped, `\", \"`), and each byte with a `0b` prefix or without its leading zeros: Python's
  // `[bin(b) for b in data]`, JavaScript's `b.toString(2)`, `format(b, '#010b')`.
  const gap = filler(rep(alt(set(' \t\r\n,\'"'), seq(set('\\'), set('rnt"'))), 6));
  const prefix = seq(set('0'), set('bB'));
  const out: Node[] = [];
  bytes.forEach((b, i) => {
    if (i > 0) out.push(gap);
    const bits = b.toString(2).padStart(8, '0');
    out.push(alt(seq(str(bits.slice(0, 4)), half, str(bits.slice(4))), seq(prefix, str(bits)), seq(opt(prefix), str(b.toString(2)))));
  });
  return seq(...out);
}

/**
 * Twenty-second pass: bytes as three octal digits each with blanks between — `od -b`, `hexdump -b`
 * (`163 153 137` for `sk_`); a dump's line breaks and offsets are read past by proxy/reading-view.ts.
 */
function octalForm(bytes: Buffer): Node {
  const gap = filler(rep(set(' \t'), 4));
  const out: Node[] = [];
  bytes.forEach((b, i) => {
    if (i > 0) out.push(gap);
    out.push(str(b.toString(8).padStart(3, '0')));
  });
  return seq(...out);
}

/**
 * Twenty-sixth pass: bytes as octal numbers in a list, each with its prefix — C's and JavaScript's
 * `0163` (`'0' + b.toString(8)`), Python's `0o163` (`[oct(b) for b in data]`) — blanks, commas or
 * quotes between them. A notation (its cue: two such numbers, led by `0`).
 */
function octalListForm(bytes: Buffer): Node {
  const gap = filler(rep(alt(set(' \t\r\n,\'"'), seq(set('\\'), set('rnt"'))), 6));
  const out: Node[] = [];
  bytes.forEach((b, i) => {
    if (i > 0) out.push(gap);
    out.push(seq(set('0'), opt(set('oO')), rep(set('0'), 2), str(b.toString(8))));
  });
  return seq(...out);
}

/**
 * Twenty-seventh pass: the value as a document format escapes its characters — RTF's `\'73` (a
 * byte in hex) and `\u115?` (a code point in decimal, a space and a fallback character after it:
 * Word, LibreOffice, pandoc, PyRTF write text so), TeX's `^^73`, `\char115`, `\char"73` and
 * LaTeX's `\symbol{115}`, and a mark escaped by a backslash (`\{`, `\_`) — any of them character
 * by character among the raw ones (either case), line breaks and braces between (an RTF reader
 * skips both: writers wrap lines at 255 columns and put a group around a styled character; in a
 * JSON string the breaks are `\r\n` escapes). The
 * backslash may be escaped again (an RTF document inside a JSON string: `\\'73`). A notation:
 * its cue is one such escape of an ASCII character.
 */
function documentForm(value: string): Node {
  // As a JSON string holds them, the line breaks are `\r\n` escapes.
  const gap = filler(rep(alt(set('\r\n{}'), seq(set('\\'), set('rn'))), 4));
  const num = filler(opt(set(' ')));
  const out: Node[] = [];
  [...value].forEach((c, i) => {
    if (i > 0) out.push(gap);
    const cp = c.codePointAt(0)!;
    const bytes = [...Buffer.from(c, 'utf8')];
    const options: Node[] = [
      seq(...bytes.map((b) => alt(set(caseless(b)), seq(backslash(), set("'"), hex(b, 2)), seq(str('^^'), hex(b, 2))))),
      seq(backslash(), set('u'), str(String(cp)), num, filler(opt(set('?')))),
      seq(backslash(), str('char'), alt(str(String(cp)), seq(set('"'), hex(cp, Math.max(2, cp.toString(16).length)))), num),
      seq(backslash(), str('symbol{'), str(String(cp)), set('}')),
    ];
    // Java reads a Unicode escape with any number of `u`s (`\uuu0073`: JLS 3.3, what a tool that escapes source again writes).
    if (cp <= 0xffff) options.push(seq(backslash(), str('uu'), filler(rep(set('u'), 6)), hex(cp, 4)));
    if (cp > 0x20 && cp < 0x80 && !isAlnum(cp)) options.push(seq(backslash(), set(c)));
    out.push(alt(...options));
  });
  return seq(...out);
}

/**
 * Twenty-eighth pass (left open since the twenty-sixth): the value spelt out — each character by its
 * Unicode name (`namesForm`), in Morse code (`morseForm`) or in the NATO alphabet (`spokenForm`).
 * Matched only in what comes back (a scrubber's own secrets, not the audit log's redaction), where
 * their cue is (SPOKEN_CUE): a separate automaton, so the notation spellings' scan and the audit
 * lines' redaction cost what they did.
 */
export function spokenSpellingsOf(value: string): Node[] {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > FULL_SPELLING_MAX) return endsOf(value).flatMap(spokenSpellingsOf);
  return [namesForm(value), morseForm(value), spokenForm(value)].filter((n): n is Node => n !== undefined);
}
/**
 * What those spellings hold: a `\\N{` and a name's first letter; two Morse codes after a blank; two
 * words of the NATO alphabet in a row (one such word is common English: `Delta`, `echo`, `Hotel`),
 * after a blank, a line break or a dash.
 */
export const SPOKEN_CUE = /\\N\{[A-Za-z]| (?:[.-]{1,6} [ \/|]{0,2}[.-]|(?:[Aa](?:lfa|LFA)|[Aa](?:lpha|LPHA)|[Bb](?:ravo|RAVO)|[Cc](?:harlie|HARLIE)|[Dd](?:elta|ELTA)|[Ee](?:cho|CHO)|[Ff](?:oxtrot|OXTROT)|[Gg](?:olf|OLF)|[Hh](?:otel|OTEL)|[Ii](?:ndia|NDIA)|[Jj](?:uliet|ULIET)|[Kk](?:ilo|ILO)|[Ll](?:ima|IMA)|[Mm](?:ike|IKE)|[Nn](?:ovember|OVEMBER)|[Oo](?:scar|SCAR)|[Pp](?:apa|APA)|[Qq](?:uebec|UEBEC)|[Rr](?:omeo|OMEO)|[Ss](?:ierra|IERRA)|[Tt](?:ango|ANGO)|[Uu](?:niform|NIFORM)|[Vv](?:ictor|ICTOR)|[Ww](?:hisk|HISK)|[Xx](?:-ray|-RAY)|[Xx](?:ray|RAY)|[Yy](?:ankee|ANKEE)|[Zz](?:ulu|ULU))[a-zA-Z]{0,3}[ ,\/|\r\n-]{1,4}(?:[Cc]apital |CAPITAL )?(?:[Aa](?:lfa|LFA)|[Aa](?:lpha|LPHA)|[Bb](?:ravo|RAVO)|[Cc](?:harlie|HARLIE)|[Dd](?:elta|ELTA)|[Ee](?:cho|CHO)|[Ff](?:oxtrot|OXTROT)|[Gg](?:olf|OLF)|[Hh](?:otel|OTEL)|[Ii](?:ndia|NDIA)|[Jj](?:uliet|ULIET)|[Kk](?:ilo|ILO)|[Ll](?:ima|IMA)|[Mm](?:ike|IKE)|[Nn](?:ovember|OVEMBER)|[Oo](?:scar|SCAR)|[Pp](?:apa|APA)|[Qq](?:uebec|UEBEC)|[Rr](?:omeo|OMEO)|[Ss](?:ierra|IERRA)|[Tt](?:ango|ANGO)|[Uu](?:niform|NIFORM)|[Vv](?:ictor|ICTOR)|[Ww](?:hisk|HISK)|[Xx](?:-ray|-RAY)|[Xx](?:ray|RAY)|[Yy](?:ankee|ANKEE)|[Zz](?:ulu|ULU)))|[\n-](?:[Aa](?:lfa|LFA)|[Aa](?:lpha|LPHA)|[Bb](?:ravo|RAVO)|[Cc](?:harlie|HARLIE)|[Dd](?:elta|ELTA)|[Ee](?:cho|CHO)|[Ff](?:oxtrot|OXTROT)|[Gg](?:olf|OLF)|[Hh](?:otel|OTEL)|[Ii](?:ndia|NDIA)|[Jj](?:uliet|ULIET)|[Kk](?:ilo|ILO)|[Ll](?:ima|IMA)|[Mm](?:ike|IKE)|[Nn](?:ovember|OVEMBER)|[Oo](?:scar|SCAR)|[Pp](?:apa|APA)|[Qq](?:uebec|UEBEC)|[Rr](?:omeo|OMEO)|[Ss](?:ierra|IERRA)|[Tt](?:ango|ANGO)|[Uu](?:niform|NIFORM)|[Vv](?:ictor|ICTOR)|[Ww](?:hisk|HISK)|[Xx](?:-ray|-RAY)|[Xx](?:ray|RAY)|[Yy](?:ankee|ANKEE)|[Zz](?:ulu|ULU))[a-zA-Z]{0,3}[ ,\/|\r\n-]{1,4}(?:[Cc]apital |CAPITAL )?(?:[Aa](?:lfa|LFA)|[Aa](?:lpha|LPHA)|[Bb](?:ravo|RAVO)|[Cc](?:harlie|HARLIE)|[Dd](?:elta|ELTA)|[Ee](?:cho|CHO)|[Ff](?:oxtrot|OXTROT)|[Gg](?:olf|OLF)|[Hh](?:otel|OTEL)|[Ii](?:ndia|NDIA)|[Jj](?:uliet|ULIET)|[Kk](?:ilo|ILO)|[Ll](?:ima|IMA)|[Mm](?:ike|IKE)|[Nn](?:ovember|OVEMBER)|[Oo](?:scar|SCAR)|[Pp](?:apa|APA)|[Qq](?:uebec|UEBEC)|[Rr](?:omeo|OMEO)|[Ss](?:ierra|IERRA)|[Tt](?:ango|ANGO)|[Uu](?:niform|NIFORM)|[Vv](?:ictor|ICTOR)|[Ww](?:hisk|HISK)|[Xx](?:-ray|-RAY)|[Xx](?:ray|RAY)|[Yy](?:ankee|ANKEE)|[Zz](?:ulu|ULU))/;
/**
 * Where a spelt-out spelling of a key with these marks (its characters that are no letter or digit)
 * may start in a tail: the earliest such place at or after `from`, text.length if none (the
 * automaton then reads the tail from there only). A name (`\\N{`) needs a backslash; Morse and the
 * NATO words are made of few characters (MORSE_TAIL, SAID_TAIL and the marks), so a start is in the
 * text's trailing run of those, and read back from the end only over that run.
 * Twenty-ninth pass: this was one regex over the whole tail (as long as a spelling can be, so most of
 * a 1 KiB answer): ~5 µs of every scrubbed answer; now a JSON or HTML answer ends the runs at its
 * last `"`, `}` or `>`, and prose at its last word that is none of the alphabet's.
 */
export function mayHoldSpoken(text: string, from: number, marks = ''): number {
  // A character's name: `\N` in the tail, or a backslash ending it (a JSON string's `\n` or `\"` starts none).
  if (text.indexOf('\\N', from) >= 0 || text.endsWith('\\')) return from;
  return Math.min(morseStart(text, from, marks), saidStart(text, from, marks));
}
/** The key's marks (what Morse and the NATO spelling may write as themselves), for mayHoldSpoken. */
export function spokenMarks(value: string): string {
  return [...new Set([...value].filter((c) => !isAlnum(c.charCodeAt(0))))].join('');
}

/** Morse's codes, gaps (MORSE_GAP) and the marks written for a character it has no code for. */
const MORSE_TAIL = '.-?#* /|\t\r\n';
/**
 * The start of the trailing run of Morse's characters when it holds a code (not a sentence's full
 * stop: not right after a letter, digit, `.` or `-`), else text.length.
 */
function morseStart(text: string, from: number, marks: string): number {
  let run = text.length;
  while (run > from && (MORSE_TAIL.includes(text[run - 1]!) || marks.includes(text[run - 1]!))) run--;
  for (let q = run; q < text.length; q++) {
    const c = text.charCodeAt(q);
    if (c !== 0x2e && c !== 0x2d) continue;
    if (q > 0 && /[0-9A-Za-z.-]/.test(text[q - 1]!)) continue;
    let end = q;
    while (end < text.length && end - q <= 6 && (text.charCodeAt(end) === 0x2e || text.charCodeAt(end) === 0x2d)) end++;
    if (end - q <= 6 && (end === text.length || ' \t\r\n/|'.includes(text[end]!))) return run;
  }
  return text.length;
}

/** Characters between the NATO words (SPOKEN_GAP), `?` for a mark: with letters and the marks, all a spelling holds. */
const SAID_GAP = ' ,-/|\t\r\n';
const isLetter = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
/**
 * The start of the earliest word in the run of the spelling's words that ends the text: each a word
 * of the alphabet, of a digit or mark said or of a case said (`x-ray`, `low line`: each part), `?`
 * or one of the key's marks; the last one cut short (the text ends in it) a start of one, after a
 * gap; the run's first one may be glued to a word before it (`keySierra`: the spellings' regexes
 * need no boundary), so a word ending it counts.
 */
function saidStart(text: string, from: number, marks: string): number {
  const { words, starts } = saidWords();
  let start = text.length;
  let end = text.length;
  while (end > from) {
    // The word ending at `end` (after gaps).
    let b = end;
    while (b > from && SAID_GAP.includes(text[b - 1]!)) b--;
    let a = b;
    while (a > from && a > b - 64 && !SAID_GAP.includes(text[a - 1]!) && (isLetter(text.charCodeAt(a - 1)) || text[a - 1] === '?' || marks.includes(text[a - 1]!))) a--;
    if (a === b) break;
    const word = text.slice(a, b).toLowerCase();
    const last = b === text.length;
    // After a gap or anything else that is no letter (`"Sierra`, `=Kilo`), or where the tail begins.
    const whole = a === from || a === 0 || !isLetter(text.charCodeAt(a - 1));
    if (whole && ((last ? starts : words).has(word) || (word.length === 1 && (word === '?' || marks.includes(word))))) {
      start = a;
      end = a;
      continue;
    }
    // Glued to what is before it (or cut by `from`): a word of the alphabet ending it, the cut one at a letter's case changing.
    for (let k = Math.max(a, b - SAID_LONGEST); k < b; k++) {
      const tail = word.slice(k - a);
      if (last ? starts.has(tail) && k > a && /[a-z]/.test(text[k - 1]!) && /[A-Z]/.test(text[k]!) : words.has(tail)) return k;
    }
    break;
  }
  return start;
}
/** The words of spokenForm (each part of one with a blank or dash in it), lower-cased, and every start of one. */
let said: { words: Set<string>; starts: Set<string> } | undefined;
function saidWords(): { words: Set<string>; starts: Set<string> } {
  if (said) return said;
  const words = new Set<string>();
  for (const w of [...Object.values(SPOKEN).flat(), ...CASE_SAID]) for (const part of w.split(/[ -]/)) words.add(part);
  const starts = new Set<string>();
  for (const w of words) for (let i = 1; i <= w.length; i++) starts.add(w.slice(0, i));
  return (said = { words, starts });
}
const SAID_LONGEST = 12;

/**
 * A character by its Unicode name — Python's and Perl's `\N{LATIN SMALL LETTER S}` (any case) — or
 * Perl's `\N{U+73}`, each character so or as itself (a generator naming some, a JSON string's
 * backslash doubled).
 */
function namesForm(value: string): Node | undefined {
  const out: Node[] = [];
  let named = 0;
  for (const c of value) {
    const cp = c.codePointAt(0)!;
    const name = unicodeName(cp);
    if (!name) {
      out.push(set(c));
      continue;
    }
    named++;
    out.push(alt(set(c), seq(backslash(), str('N{'), alt(seq(...[...name].map((n) => set(caseless(n.charCodeAt(0))))), seq(set('uU'), set('+'), zeros(), hexMin(cp))), set('}'))));
  }
  return named >= 4 ? seq(...out) : undefined;
}

/** Unicode's names of the ASCII punctuation a key may hold (letters and digits are named by rule). */
const PUNCTUATION_NAMES: Readonly<Record<string, string>> = lookupTable({
  '!': 'EXCLAMATION MARK', '"': 'QUOTATION MARK', '#': 'NUMBER SIGN', $: 'DOLLAR SIGN', '%': 'PERCENT SIGN', '&': 'AMPERSAND', "'": 'APOSTROPHE',
  '(': 'LEFT PARENTHESIS', ')': 'RIGHT PARENTHESIS', '*': 'ASTERISK', '+': 'PLUS SIGN', ',': 'COMMA', '-': 'HYPHEN-MINUS', '.': 'FULL STOP',
  '/': 'SOLIDUS', ':': 'COLON', ';': 'SEMICOLON', '<': 'LESS-THAN SIGN', '=': 'EQUALS SIGN', '>': 'GREATER-THAN SIGN', '?': 'QUESTION MARK',
  '@': 'COMMERCIAL AT', '[': 'LEFT SQUARE BRACKET', '\\': 'REVERSE SOLIDUS', ']': 'RIGHT SQUARE BRACKET', '^': 'CIRCUMFLEX ACCENT', _: 'LOW LINE',
  '`': 'GRAVE ACCENT', '{': 'LEFT CURLY BRACKET', '|': 'VERTICAL LINE', '}': 'RIGHT CURLY BRACKET', '~': 'TILDE',
});
const DIGIT_NAMES = ['ZERO', 'ONE', 'TWO', 'THREE', 'FOUR', 'FIVE', 'SIX', 'SEVEN', 'EIGHT', 'NINE'];

/** An ASCII character's Unicode name (what `\N{…}` takes), or undefined. */
function unicodeName(cp: number): string | undefined {
  if (cp >= 0x61 && cp <= 0x7a) return `LATIN SMALL LETTER ${String.fromCharCode(cp - 0x20)}`;
  if (cp >= 0x41 && cp <= 0x5a) return `LATIN CAPITAL LETTER ${String.fromCharCode(cp)}`;
  if (cp >= 0x30 && cp <= 0x39) return `DIGIT ${DIGIT_NAMES[cp - 0x30]!}`;
  return cp < 0x80 ? PUNCTUATION_NAMES[String.fromCharCode(cp)] : undefined;
}

/** International Morse code of the letters, digits and marks it has (ITU-R M.1677-1, and `_` as most tables write it). */
const MORSE: Readonly<Record<string, string>> = lookupTable({
  a: '.-', b: '-...', c: '-.-.', d: '-..', e: '.', f: '..-.', g: '--.', h: '....', i: '..', j: '.---', k: '-.-', l: '.-..', m: '--',
  n: '-.', o: '---', p: '.--.', q: '--.-', r: '.-.', s: '...', t: '-', u: '..-', v: '...-', w: '.--', x: '-..-', y: '-.--', z: '--..',
  0: '-----', 1: '.----', 2: '..---', 3: '...--', 4: '....-', 5: '.....', 6: '-....', 7: '--...', 8: '---..', 9: '----.',
  '.': '.-.-.-', ',': '--..--', '?': '..--..', "'": '.----.', '!': '-.-.--', '/': '-..-.', '(': '-.--.', ')': '-.--.-', '&': '.-...',
  ':': '---...', ';': '-.-.-.', '=': '-...-', '+': '.-.-.', '-': '-....-', _: '..--.-', '"': '.-..-.', $: '...-..-', '@': '.--.-.',
});

/**
 * Twenty-eighth pass (left open since the twenty-sixth): the value in Morse code — a code a
 * character, blanks (or `/`, `|`) between — as a "spell it out" service, a chat bot or a CTF-style
 * tool writes it. Morse has no case: a reader gets the key's letters and tries the cases (or the
 * service takes it in any case). A character Morse has no code for is left out, kept as it is or
 * written `?`, `#` or `*`.
 */
const MORSE_GAP = ' /|\t\r\n';
function morseForm(value: string): Node | undefined {
  const gap = filler(seq(set(MORSE_GAP), rep(set(MORSE_GAP), 7)));
  const out: Node[] = [];
  let coded = 0;
  let uncoded: Node[] = [];
  for (const c of value.toLowerCase()) {
    const code = MORSE[c];
    if (!isAlnum(c.charCodeAt(0))) {
      // A mark in its code, left out (the gaps before and after it then meet), written as `?` or as itself.
      uncoded.push(opt(seq(alt(filler(set('?#*')), ...(code ? [str(code)] : []), ...(MORSE_GAP.includes(c) ? [] : [set(c)])), gap)));
      continue;
    }
    if (!code) return undefined;
    if (out.length) out.push(gap, ...uncoded);
    uncoded = [];
    out.push(str(code));
    coded++;
  }
  // A value Morse writes too little of (a few characters) would match innocent dots and dashes.
  return coded >= 8 ? seq(...out) : undefined;
}

/** The NATO (ICAO) spelling alphabet, with the spellings in common use, and the words said for digits and marks. */
const SPOKEN: Readonly<Record<string, string[]>> = lookupTable({
  a: ['alfa', 'alpha'], b: ['bravo'], c: ['charlie'], d: ['delta'], e: ['echo'], f: ['foxtrot'], g: ['golf'], h: ['hotel'], i: ['india'],
  j: ['juliett', 'juliet'], k: ['kilo'], l: ['lima'], m: ['mike'], n: ['november'], o: ['oscar'], p: ['papa'], q: ['quebec'], r: ['romeo'],
  s: ['sierra'], t: ['tango'], u: ['uniform'], v: ['victor'], w: ['whiskey', 'whisky'], x: ['x-ray', 'xray', 'x ray'], y: ['yankee'], z: ['zulu'],
  0: ['zero'], 1: ['one', 'wun'], 2: ['two', 'too'], 3: ['three', 'tree'], 4: ['four', 'fower'], 5: ['five', 'fife'], 6: ['six'],
  7: ['seven'], 8: ['eight', 'ait'], 9: ['nine', 'niner'],
  _: ['underscore', 'low line'], '-': ['dash', 'hyphen', 'minus'], '.': ['dot', 'period', 'point', 'full stop'], '/': ['slash', 'forward slash'],
  '+': ['plus'], '=': ['equals', 'equal'], '&': ['ampersand', 'and'], ':': ['colon'], '@': ['at'], '%': ['percent'], '~': ['tilde'],
  '<': ['less than'], '>': ['greater than'], '#': ['hash', 'pound'], '!': ['exclamation'], '*': ['asterisk', 'star'], '$': ['dollar'],
});
/** How a letter's case is said before its word. */
const CASE_SAID = ['capital', 'cap', 'uppercase', 'upper case', 'upper', 'lowercase', 'lower case', 'lower', 'small'];
const caselessWord = (w: string): Node => seq(...[...w].map((c) => set(caseless(c.charCodeAt(0)))));

/**
 * Twenty-eighth pass (left open since the twenty-sixth): the value spelled out in the NATO alphabet
 * (`Sierra Kilo Underscore Lima …`: a "spell it out" helper, a support bot reading a code over the
 * phone, a text-to-speech script), a word a character, blanks, `-`, `,` or `/` between, a letter's
 * case said before it (`capital`, `uppercase`, `lower`) or by the word's own case, or not at all.
 * Read in any case: the words carry the letters, and a reader tries the cases that are not said.
 */
const SPOKEN_GAP = ' ,-/|\t\r\n';
function spokenForm(value: string): Node | undefined {
  const gap = filler(seq(set(SPOKEN_GAP), rep(set(SPOKEN_GAP), 7)));
  const said = filler(opt(seq(alt(...CASE_SAID.map(caselessWord)), gap)));
  const out: Node[] = [];
  let spoken = 0;
  let unsaid: Node[] = [];
  for (const c of value) {
    const words = SPOKEN[c.toLowerCase()];
    if (!isAlnum(c.charCodeAt(0))) {
      // A mark said, left out, written as `?` or as itself.
      unsaid.push(opt(seq(alt(filler(set('?')), ...(words ?? []).map(caselessWord), ...(SPOKEN_GAP.includes(c) ? [] : [set(c)])), gap)));
      continue;
    }
    if (!words) return undefined;
    if (out.length) out.push(gap, ...unsaid);
    unsaid = [];
    out.push(said, alt(...words.map(caselessWord)));
    spoken++;
  }
  return spoken >= 8 ? seq(...out) : undefined;
}

/**
 * Twenty-second pass, follow-up: notations of a character that are a call or a code, each with the
 * separator or operator after it (spelling nothing of the value): Unicode notation (`U+0073 U+006B`,
 * `U+0073, U+006B`; ICU's `uconv -x any-hex/unicode` writes `U+0073U+006B`) and a character as a
 * database writes it back in a query (`CHAR(115)+CHAR(107)` SQL Server, `CHR(115)||CHR(107)` Oracle
 * and PostgreSQL, `CONCAT(CHAR(115),CHAR(107))` MySQL, `NCHAR(115)`).
 * Twenty-seventh pass: the same call as the languages write and join it — Visual Basic's and VBA's
 * `Chr(115) & ChrW(107)`, old BASIC's `CHR$(115)`, an Excel formula's `CHAR(115)&CHAR(107)`, PHP's
 * `chr(115).chr(107)`, Python's `chr(115) + chr(107)` — and Ruby's `115.chr + 107.chr`.
 */
function callForms(value: string): Node[] {
  const cps = [...value].map((c) => c.codePointAt(0)!);
  const unicode = seq(...cps.map((cp) => seq(set('uU'), set('+'), zeros(), hexMin(cp), filler(rep(set(' ,;'), 2)))));
  const call = seq(opt(set('nN')), set('cC'), set('hH'), opt(set('aA')), set('rR'), opt(set('wW$')), set('('), filler(rep(set(' '), 2)));
  const joins = filler(rep(set(' +|,&.'), 4));
  const sql = seq(...cps.map((cp) => seq(call, str(String(cp)), filler(rep(set(' '), 2)), set(')'), joins)));
  const ruby = seq(...cps.map((cp) => seq(str(String(cp)), str('.chr'), filler(rep(set(' +'), 4)))));
  return [unicode, sql, ruby];
}

/**
 * The value's escapes escaped again (a JSON string inside a JSON string, `\\\\u0073`; a template's
 * `&amp;#115;`), scanned for only where text holds their cue (AGAIN_CUE), as notationSpellingsOf's; kept
 * apart from them since its automaton is held to a cue of its own (mayHoldAgain).
 */
export function againSpellingsOf(value: string): Node[] {
  const bytes = Buffer.from(value, 'utf8');
  return bytes.length > FULL_SPELLING_MAX ? endsOf(value).flatMap(againSpellingsOf) : [textForm(value, true)];
}
/** What a spelling of againSpellingsOf holds: an ASCII character's escape (or `\/`) after a backslash escaped again, a numeric reference's `&` escaped again. */
export const AGAIN_CUE = /\\\\(?:u00[2-7]|x[2-7]|[0-3][0-7]{2}|[2-7][0-9a-fA-F] |U0000[2-7]|[ux]\{|\/)|&amp;(?:amp;)?#/;
/**
 * Whether the end of `text` from `from` may hold the start of such a spelling that no other spelling
 * holds: a backslash escaped again, a reference's `&amp;#`, or an `&` close to the end (one cut
 * there); a start before either is the value's raw characters, which its text spelling holds. Native scans: the automaton of these spellings is as costly to
 * run over every chunk's tail as the one of all the others.
 */
export function mayHoldAgain(text: string, from: number): boolean {
  if (text.indexOf('&amp;#', from) >= 0 || text.indexOf('&', text.length - 10) >= 0) return true;
  // Each run of backslashes escaped again, then what follows it (one pass: the tail is at most the spelling's length).
  for (let i = text.indexOf('\\\\', from); i >= 0; i = text.indexOf('\\\\', i)) {
    while (text.charCodeAt(i) === 0x5c) i++;
    AGAIN_AFTER.lastIndex = i;
    if (AGAIN_AFTER.test(text)) return true;
  }
  return false;
}
/** What AGAIN_CUE needs after a backslash escaped again, or the text cut before the end of that. */
const AGAIN_AFTER = /u00[2-7]|x[2-7]|[0-3][0-7]{2}|[2-7][0-9a-fA-F] |U0000[2-7]|[ux]\{|\/|(?:u(?:00?)?|x|[0-3][0-7]?|[2-7][0-9a-fA-F]?|U0{0,4})?$/y;

/**
 * Spellings scanned for only where text holds their cue (NOTATION_CUE): the notations of callForms,
 * bytes as binary digits (`xxd -b`: `01110011 01101011`; a bit string) and as hex 32- and 64-bit
 * little-endian words (`od -t x4`, `od -t x8`, `od -X`, `hexdump -e '4/4 "%08x "'`). As more
 * alternatives of the value's one regex they pushed it past the size a regex is scanned in one pass
 * at (REGEX_SOURCE_BUDGET): a second pass over every text, ~17% slower JSON.
 */
/**
 * Whether the end of `text` from `from` holds a character a notation spelling may start with (a
 * hex digit, `U+`'s or `NCHAR(`'s first letter): a tail of NULs or other binary bytes, read once per
 * strided view per secret, need not be walked.
 */
export function mayHoldNotation(text: string, from: number): boolean {
  NOTATION_START.lastIndex = from;
  return NOTATION_START.test(text);
}
const NOTATION_START = /[0-9a-fA-FnNuU\\^]/g;

export function notationSpellingsOf(value: string): Node[] {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > FULL_SPELLING_MAX) return endsOf(value).flatMap(notationSpellingsOf);
  const forms = [...callForms(value), documentForm(value)];
  if (bytes.length * 2 >= MIN_ENCODED_LENGTH + 4) forms.push(binaryForm(bytes), octalListForm(bytes));
  // Wider words only for a value that fills two of them from every alignment (a shorter one's hex is most of its bytes' own).
  for (const size of [4, 8]) if (bytes.length >= 3 * size) forms.push(alt(...Array.from({ length: size }, (_, from) => wordsForm(bytes, from, size))));
  return forms;
}
/**
 * What every notation spelling of a value long enough for it holds: a binary byte or a hex word
 * after a blank, `U+` and two digits, a call's `R(` and a digit. Each alternative starts with one
 * character, so V8 scans for it at ~1–2 GB/s (alternatives starting with a class, `[uU]\+`,
 * `[hH][aA]?[rR]\(`, at ~90 MB/s: a third of a scrub's time). So does AGAIN_CUE (not
 * `\\\\u00e9`, which every JSON log of a JSON body with an accent holds).
 */
// A bit string's cue (twenty-third pass): two bytes of seven bits or fewer (every ASCII character's),
// blanks or a line break between their halves as binaryForm lets; led by one character, `0`.
// Twenty-sixth pass: commas or quotes between them, a `0b` byte, or two bytes of six or seven bits
// without their leading zeros (led by `1`).
export const NOTATION_CUE = /\\(?:'[2-7][0-9a-fA-F]|u[0-9]{2,3}[? \\]|char[0-9"]|symbol\{[0-9]|uu{1,7}00[2-7])|\.chr[ +]{0,4}[0-9]|W\( {0,2}[0-9]|w\( {0,2}[0-9]|\$\( {0,2}[0-9]|\^\^[2-7][0-9a-fA-F]| [0-9a-fA-F]{8}|U\+[0-9a-fA-F]{2}|u\+[0-9a-fA-F]{2}|R\( {0,2}[0-9]|r\( {0,2}[0-9]|0[01]{3}[ \t\r\n]{0,2}[01]{4}[ \t\r\n,'"\\nrt]{0,6}0[01]{3}[ \t\r\n]{0,2}[01]{4}|0[bB][01]{6}|1[01]{5,6}[ \t\r\n,'"\\nrt]{1,6}1[01]{5,6}|0[oO]?[0-7]{2,3}[ \t\r\n,'"\\nrt]{1,6}0[oO]?[0-7]{2,3}/;

/** The exact strings a long value is looked for as (latin1: one character per byte). */
function canonicalForms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const latin1 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');
  const json = JSON.stringify(value).slice(1, -1);
  const hexLower = bytes.toString('hex');
  const forms = [
    bytes.toString('latin1'),
    latin1(json),
    latin1(json.replace(/\//g, '\\/')),
    encodeURIComponent(value),
    encodeURIComponent(value).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
    encodeURIComponent(value).replace(/%20/g, '+'),
    encodeURI(value),
    hexLower.replace(/(..)/g, '%$1'),
    hexLower.toUpperCase().replace(/(..)/g, '%$1'),
    latin1(value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')),
    ...base64Cores(bytes),
    ...base64Cores(bytes, true),
    hexLower,
    hexLower.toUpperCase(),
  ];
  return [...new Set(forms)];
}

/** Bytes of one window of a long value matched in every spelling. */
const WINDOW_BYTES = 64;

/** The first and the last (at most) WINDOW_BYTES bytes of a long value, cut at character boundaries. */
function endsOf(value: string): [string, string] {
  const chars = [...value];
  const take = (list: string[]): string => {
    let out = '';
    let size = 0;
    for (const ch of list) {
      size += Buffer.byteLength(ch);
      if (size > WINDOW_BYTES) break;
      out += ch;
    }
    return out;
  };
  return [take(chars), [...take([...chars].reverse())].reverse().join('')];
}

/** Every spelling of `value`, as a list of patterns (one per family and alignment). */
export function spellingsOf(value: string): Node[] {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > FULL_SPELLING_MAX) {
    const canonical = canonicalForms(value).filter((f, i) => i === 0 || f.length >= MIN_ENCODED_LENGTH).map(literalPattern);
    // Its first and last WINDOW_BYTES in every spelling too: a service that shows a long token
    // wrapped (MIME base64, quoted-printable), hex with separators or escaped its own way shows
    // both ends in that spelling, and each is replaced. What is left between them is no usable
    // credential (the missing ends are hundreds of random bits), and matching every piece of the
    // value would cost a pattern as large as the value (a 1 KiB token: ~15 MiB/s).
    const [head, tail] = endsOf(value);
    return [...canonical, ...spellingsOf(head), ...spellingsOf(tail)];
  }
  // The value reversed in that form too (twentieth pass): reversed and grouped, or reversed and
  // case-changed, which the sampled exact reversal (proxy/sampled-forms.ts) does not match.
  const forms: Node[] = [textForm(value), wrappedForm(value), wrappedForm([...value].reverse().join(''))];
  encodedForms(bytes, forms);
  return forms;
}

/**
 * The value cut short (twentieth pass; left open by the nineteenth): its raw bytes from the first
 * through at least the `least`-th, as far as they go on — a request inspector that truncates a
 * header value at a width (`Bearer sk_live_51HxYzAbCdEf0…`), a page or a log showing a key's
 * start. Past a public prefix and half the rest, what is shown is most of the key. One pattern
 * (nested optional characters), so a key shown whole is one match and costs no second literal.
 * Undefined for a value too short to have half its rest shown safely.
 */
export function truncatedForm(value: string, least: number): Node | undefined {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length < TRUNCATED_MIN || bytes.length > FULL_SPELLING_MAX || least >= bytes.length) return undefined;
  let rest: Node = EMPTY;
  for (let i = bytes.length - 1; i >= least; i--) rest = opt(seq(set(String.fromCharCode(bytes[i]!)), rest));
  return seq(str(bytes.subarray(0, least).toString('latin1')), rest);
}
/** A value shorter than this is never matched cut short: half of a short password's rest is common text. */
const TRUNCATED_MIN = 20;

/**
 * Any `least` bytes in a row of the value from its `from`-th on (twenty-first pass; left open by
 * the twentieth): the key's end without its start — a page showing `…NNEL_CANARY_0123456789abcdef`,
 * a log column keeping a value's end, a service that drops a key's public prefix (`sk_live_`)
 * before showing the rest, which is the whole secret. One window per start, factored as a trie:
 * a longer run is windows back to back, so what is left shown of it is shorter than `least`.
 * Undefined where truncatedForm is.
 */
export function runForm(value: string, from: number, least: number): Node | undefined {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length < TRUNCATED_MIN || bytes.length > FULL_SPELLING_MAX || from + least > bytes.length) return undefined;
  const windows: Node[] = [];
  for (let i = from; i + least <= bytes.length; i++) windows.push(str(bytes.subarray(i, i + least).toString('latin1')));
  return alt(...windows);
}

/** The base64, hex and base32 forms of `bytes`, added to `forms`. */
function encodedForms(bytes: Buffer, forms: Node[]): void {
  const std = base64Cores(bytes);
  const url = base64Cores(bytes, true);
  std.forEach((core, i) => {
    if (core.length >= MIN_ENCODED_LENGTH) forms.push(base64Form(core, url[i]!));
  });
  if (bytes.length * 2 >= MIN_ENCODED_LENGTH) forms.push(hexForm(bytes));
  if (bytes.length * 2 >= MIN_ENCODED_LENGTH + 4) forms.push(alt(wordsForm(bytes, 0), wordsForm(bytes, 1)), octalForm(bytes));
  // base32 as RFC 4648 encoders write it (Python, Go, Java: upper case). Lower case, letters mixed
  // per character or blanks between groups made the scan of ordinary (lower-case) text 2–3× slower.
  for (const core of base32Cores(bytes)) if (core.length >= MIN_ENCODED_LENGTH) forms.push(str(core));
  if (bytes.length >= MIN_ENCODED_LENGTH) forms.push(decimalForm(bytes));
}

/**
 * Bytes as decimal numbers in a list: Node's JSON of a Buffer (`{"type":"Buffer","data":[115,107,…]}`),
 * Python's `list(b)` and Java's `Arrays.toString` (`115, 107`), Go's `%v` of a []byte (`[115 107 …]`);
 * pretty-printed, one number a line or padded to a column (JSON with an indent — Express's
 * `json spaces` —, Python's `pprint` and `json.dumps(indent=)`, Rust's `{:#?}`, Node's
 * `util.inspect` of a Uint8Array, `od -tu1`); a typed array's JSON, keyed by index
 * (`{"0":115,"1":107}`, `JSON.stringify(new TextEncoder().encode(…))`).
 */
function decimalForm(bytes: Buffer): Node {
  // Bounded tightly: the longest gap sets maxLength, the tail a stream holds back and re-reads.
  const blank = set(' \t\r\n');
  const key = seq(set('"'), rep(set('0123456789'), 7), set('"'), set(':'), opt(set(' ')));
  const gap = filler(alt(seq(set(','), rep(blank, 12), opt(key)), seq(blank, rep(blank, 11))));
  const out: Node[] = [];
  bytes.forEach((b, i) => {
    if (i > 0) out.push(gap);
    out.push(str(String(b)));
  });
  return seq(...out);
}

/** An exact string (latin1), as a pattern. */
export function literalPattern(text: string): Node {
  return str(text);
}

// ─── compiling and walking ─────────────────────────────────────────────────────────────────────

/** The characters of a latin1 text RegExp's \s (so the walker and the regex agree). */
const WHITESPACE = ' \t\n\v\f\r\xa0';
const printable = /^[A-Za-z0-9 !"#%&',:;<=>@_`~-]$/;
const controlEscapes: Readonly<Record<string, string>> = lookupTable({ '\t': '\\t', '\n': '\\n', '\r': '\\r' });

function esc(ch: string): string {
  if (printable.test(ch)) return ch;
  if (controlEscapes[ch]) return controlEscapes[ch]!;
  const code = ch.charCodeAt(0);
  if (code > 0x20 && code < 0x7f) return `\\${ch}`;
  return `\\x${code.toString(16).padStart(2, '0')}`;
}

/** RegExp source of a pattern (latin1 text, no flags needed). */
export function regexSource(n: Node): string {
  switch (n.k) {
    case 'set': {
      if (n.c.length === 1) return esc(n.c);
      if (n.c === WHITESPACE) return '\\s';
      if (n.c === NOT_ALNUM) return '[^0-9A-Za-z]';
      // Inside a class "-" and "^" need escaping wherever they are.
      return `[${[...n.c].map((c) => (c === '-' || c === '^' ? `\\${c}` : esc(c))).join('')}]`;
    }
    case 'seq': return n.n.map((x) => (x.k === 'alt' ? `(?:${regexSource(x)})` : regexSource(x))).join('');
    case 'alt': return n.n.map(regexSource).join('|');
    case 'rep': {
      const inner = n.n.k === 'set' ? regexSource(n.n) : `(?:${regexSource(n.n)})`;
      return `${inner}${n.max === 1 ? '?' : `{0,${n.max}}`}`;
    }
  }
}

/** The longest text a pattern can match. */
export function maxLength(n: Node): number {
  switch (n.k) {
    case 'set': return 1;
    case 'seq': return n.n.reduce((s, x) => s + maxLength(x), 0);
    case 'alt': return Math.max(...n.n.map(maxLength));
    case 'rep': return n.max * maxLength(n.n);
  }
}

const ACCEPT = -1;

/**
 * Patterns compiled to one Thompson NFA, simulated over a chunk's tail in a single pass (no
 * recursion, no closures): where could a match still be under way when the text ends? That is the
 * tail a streaming scrubber must hold back until the next chunk.
 */
export class PrefixAutomaton {
  /** Per character state: which bytes it accepts (bitmaps shared between equal sets). */
  private readonly bits: Uint8Array[] = [];
  /** Per character state: the character states reachable after it (ACCEPT when a match completes). */
  private readonly follow: Int32Array[] = [];
  /** Character states a match can start in. */
  private readonly starts: Int32Array;
  /** Bytes a match can start with. */
  readonly first = new Uint8Array(256);
  /** Bytes any state reads (earliestPrefix: a prefix under way at the end is made of them only). */
  private readonly alphabet = new Uint8Array(256);
  /** Scratch for the simulation: per state, the step it was last added in and where. */
  private readonly stamp: Int32Array;
  private readonly slot: Int32Array;
  private readonly threadsA: Int32Array;
  private readonly threadsB: Int32Array;
  private readonly startsA: Int32Array;
  private readonly startsB: Int32Array;
  /** Per character state: 1 when it is a gap's (a filler between a spelling's characters: filler()). */
  private readonly fill: Uint8Array;
  /** Scratch for heldSpelled: per thread, the characters it read that were no gap's (made on first use). */
  private spelled?: [Int32Array, Int32Array];
  private epoch = 0;

  constructor(patterns: Node[]) {
    // Thompson construction: character states and split (epsilon) states. A bounded repetition
    // becomes a loop: the automaton then accepts a few more prefixes than the regex (it may hold
    // back a little more), never fewer, and stays small. Holding is bounded by the scan window.
    const out: number[] = []; // char state → successor
    const splitOut: number[][] = []; // split state → successors
    const isChar: boolean[] = [];
    const fills: number[] = [];
    const bitmaps = new Map<string, Uint8Array>();
    const charState = (chars: string, successor: number, fill: boolean): number => {
      let b = bitmaps.get(chars);
      if (!b) {
        b = new Uint8Array(256);
        for (const c of chars) b[c.charCodeAt(0) & 0xff] = 1;
        bitmaps.set(chars, b);
      }
      const id = isChar.length;
      isChar.push(true);
      if (fill) fills.push(id);
      this.bits[id] = b;
      out[id] = successor;
      return id;
    };
    const split = (successors: number[]): number => {
      const id = isChar.length;
      isChar.push(false);
      splitOut[id] = successors;
      return id;
    };
    const build = (n: Node, successor: number): number => {
      switch (n.k) {
        case 'set': return charState(n.c, successor, n.fill === true);
        case 'seq': {
          let e = successor;
          for (let i = n.n.length - 1; i >= 0; i--) e = build(n.n[i]!, e);
          return e;
        }
        case 'alt': return split(n.n.map((o) => build(o, successor)));
        case 'rep': {
          const loop = split([]);
          splitOut[loop] = [build(n.n, loop), successor];
          return loop;
        }
      }
    };
    const entries = patterns.map((p) => build(p, ACCEPT));
    const count = isChar.length;
    // Epsilon closures: the character states (and ACCEPT) a state leads to without consuming.
    const visited = new Int32Array(count);
    let pass = 0;
    const closure = (id: number): Int32Array => {
      pass++;
      const found: number[] = [];
      const stack = [id];
      while (stack.length) {
        const st = stack.pop()!;
        if (st === ACCEPT) {
          if (!found.includes(ACCEPT)) found.push(ACCEPT);
          continue;
        }
        if (visited[st] === pass) continue;
        visited[st] = pass;
        if (isChar[st]) found.push(st);
        else for (const x of splitOut[st]!) stack.push(x);
      }
      return Int32Array.from(found);
    };
    const memo = new Map<number, Int32Array>();
    for (let id = 0; id < count; id++) {
      if (!isChar[id]) continue;
      const o = out[id]!;
      let f = memo.get(o);
      if (!f) memo.set(o, (f = closure(o)));
      this.follow[id] = f;
    }
    const starts = new Set<number>();
    for (const e of entries) for (const st of closure(e)) if (st !== ACCEPT) starts.add(st);
    this.starts = Int32Array.from(starts);
    for (const st of this.starts) for (let c = 0; c < 256; c++) if (this.bits[st]![c]) this.first[c] = 1;
    for (const b of bitmaps.values()) for (let c = 0; c < 256; c++) if (b[c]) this.alphabet[c] = 1;
    this.stamp = new Int32Array(count);
    this.slot = new Int32Array(count);
    this.threadsA = new Int32Array(count);
    this.threadsB = new Int32Array(count);
    this.startsA = new Int32Array(count);
    this.startsB = new Int32Array(count);
    this.fill = new Uint8Array(count);
    for (const id of fills) this.fill[id] = 1;
  }

  /**
   * The earliest position p >= from where text[p..] is a proper prefix of a match (the text ran out
   * inside a possible spelling), or text.length when there is none. Complete matches do not count.
   */
  earliestPrefix(text: string, from: number): number {
    // Twenty-ninth pass: a proper prefix under way at the end reads only bytes some state reads, so
    // it starts in the text's trailing run of them: the simulation runs over that run only (a JSON
    // answer's closing `"}]` ends it at once). Exact: the same answer as from `from`, found sooner.
    let run = text.length;
    while (run > from && this.alphabet[text.charCodeAt(run - 1) & 0xff] === 1) run--;
    from = run;
    // Threads: (state, start) pairs in two typed-array buffers swapped each step; no allocation per byte.
    let cur = this.threadsA;
    let curStart = this.startsA;
    let nxt = this.threadsB;
    let nxtStart = this.startsB;
    let curLen = 0;
    for (let i = from; i < text.length; i++) {
      const c = text.charCodeAt(i) & 0xff;
      const fresh = this.first[c] === 1;
      if (curLen === 0 && !fresh) continue;
      if (++this.epoch === 0x7fffffff) {
        this.epoch = 1;
        this.stamp.fill(0);
      }
      const epoch = this.epoch;
      let nxtLen = 0;
      // Threads under way, then (if this byte can start a match) new threads starting here.
      const total = curLen + (fresh ? this.starts.length : 0);
      for (let k = 0; k < total; k++) {
        const s = k < curLen ? cur[k]! : this.starts[k - curLen]!;
        if (this.bits[s]![c] !== 1) continue;
        const start = k < curLen ? curStart[k]! : i;
        const f = this.follow[s]!;
        for (let j = 0; j < f.length; j++) {
          const t = f[j]!;
          if (t === ACCEPT) continue; // a complete match: the scan finds it, nothing to hold
          if (this.stamp[t] !== epoch) {
            this.stamp[t] = epoch;
            this.slot[t] = nxtLen;
            nxt[nxtLen] = t;
            nxtStart[nxtLen++] = start;
          } else if (nxtStart[this.slot[t]!]! > start) {
            nxtStart[this.slot[t]!] = start;
          }
        }
      }
      [cur, nxt] = [nxt, cur];
      [curStart, nxtStart] = [nxtStart, curStart];
      curLen = nxtLen;
    }
    let earliest = text.length;
    for (let k = 0; k < curLen; k++) earliest = Math.min(earliest, curStart[k]!);
    return earliest;
  }

  /**
   * How much of a spelling the held start of `text` (earliestPrefix) reads, gaps left out: of the
   * readings that start where it does, the fewest characters that were no gap's (line breaks,
   * blanks, separators, soft breaks between the value's characters). The tripwire's count
   * (Scrubber.startsAtEnd): every spelling of a character is at least one such character, so this
   * is never less than the characters of the value the start spells, and a run of blanks or
   * `=\r\n` adds none. 0 when nothing is held. Asked only of held text (a tail), so kept apart
   * from earliestPrefix, which every chunk runs. `most`: the most any reading under way at the
   * end spells instead (a WebSocket hold's measure: a key's `_` a gap may also take is counted).
   */
  heldSpelled(text: string, from: number, most = false): number {
    const n = this.stamp.length;
    const [spelledA, spelledB] = (this.spelled ??= [new Int32Array(n), new Int32Array(n)]);
    let cur = this.threadsA;
    let curStart = this.startsA;
    let curSpelled = spelledA;
    let nxt = this.threadsB;
    let nxtStart = this.startsB;
    let nxtSpelled = spelledB;
    let curLen = 0;
    for (let i = from; i < text.length; i++) {
      const c = text.charCodeAt(i) & 0xff;
      const fresh = this.first[c] === 1;
      if (curLen === 0 && !fresh) continue;
      if (++this.epoch === 0x7fffffff) {
        this.epoch = 1;
        this.stamp.fill(0);
      }
      const epoch = this.epoch;
      let nxtLen = 0;
      const total = curLen + (fresh ? this.starts.length : 0);
      for (let k = 0; k < total; k++) {
        const s = k < curLen ? cur[k]! : this.starts[k - curLen]!;
        if (this.bits[s]![c] !== 1) continue;
        const start = k < curLen ? curStart[k]! : i;
        const spelled = (k < curLen ? curSpelled[k]! : 0) + (this.fill[s] === 1 ? 0 : 1);
        const f = this.follow[s]!;
        for (let j = 0; j < f.length; j++) {
          const t = f[j]!;
          if (t === ACCEPT) continue;
          if (this.stamp[t] !== epoch) {
            this.stamp[t] = epoch;
            this.slot[t] = nxtLen;
            nxt[nxtLen] = t;
            nxtStart[nxtLen] = start;
            nxtSpelled[nxtLen++] = spelled;
          } else {
            // Per state the earliest start, and of those the fewest characters spelled: what
            // follows adds the same to every thread in a state, so the order is kept.
            const at = this.slot[t]!;
            if (most ? nxtSpelled[at]! < spelled : nxtStart[at]! > start || (nxtStart[at] === start && nxtSpelled[at]! > spelled)) {
              nxtStart[at] = start;
              nxtSpelled[at] = spelled;
            }
          }
        }
      }
      [cur, nxt] = [nxt, cur];
      [curStart, nxtStart] = [nxtStart, curStart];
      [curSpelled, nxtSpelled] = [nxtSpelled, curSpelled];
      curLen = nxtLen;
    }
    let earliest = text.length;
    let fewest = 0;
    if (most) {
      for (let k = 0; k < curLen; k++) fewest = Math.max(fewest, curSpelled[k]!);
      return fewest;
    }
    for (let k = 0; k < curLen; k++) {
      const start = curStart[k]!;
      if (start < earliest || (start === earliest && curSpelled[k]! < fewest)) {
        earliest = start;
        fewest = curSpelled[k]!;
      }
    }
    return fewest;
  }

}
