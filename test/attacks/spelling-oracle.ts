// The attacker's spellings and the defender's oracle, written independently of Airlock's own code
// (nothing here imports proxy/): `spelling(secret)` is a fast-check arbitrary over the ways a
// secret's bytes can be written — escape families mixed per character, quoted-printable soft
// breaks, base64/base64url at any alignment with or without padding and wrapped at any width,
// hex with separators — and `reveal(bytes, secret)` is a brute-force reader that finds the secret
// in a body however it is spelled and whatever text encoding carries it (UTF-8, UTF-16, UTF-32,
// NULs stripped), decoding up to two layers deep. A test asserts `reveal` finds nothing.
import fc from 'fast-check';

export type DocEncoding = 'utf8' | 'utf16le' | 'utf16be' | 'utf32le' | 'utf32be';
export const docEncodings: DocEncoding[] = ['utf8', 'utf16le', 'utf16be', 'utf32le', 'utf32be'];

const latin1 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

/** Text (any JS string) in a document encoding. */
export function encodeDoc(text: string, enc: DocEncoding, bom = false): Buffer {
  if (enc === 'utf8') return Buffer.concat([bom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0), Buffer.from(text, 'utf8')]);
  if (enc === 'utf16le' || enc === 'utf16be') {
    const b = Buffer.from((bom ? '\ufeff' : '') + text, 'utf16le');
    return enc === 'utf16le' ? b : b.swap16();
  }
  const cps = [...((bom ? '\ufeff' : '') + text)].map((c) => c.codePointAt(0)!);
  const out = Buffer.alloc(cps.length * 4);
  cps.forEach((cp, i) => (enc === 'utf32le' ? out.writeUInt32LE(cp, i * 4) : out.writeUInt32BE(cp, i * 4)));
  return out;
}

function decodeDoc(b: Buffer, enc: DocEncoding): string {
  if (enc === 'utf8') return b.toString('latin1');
  if (enc === 'utf16le') return latin1(b.subarray(0, b.length & ~1).toString('utf16le'));
  if (enc === 'utf16be') return latin1(Buffer.from(b.subarray(0, b.length & ~1)).swap16().toString('utf16le'));
  let s = '';
  for (let i = 0; i + 4 <= b.length; i += 4) {
    const cp = enc === 'utf32le' ? b.readUInt32LE(i) : b.readUInt32BE(i);
    s += cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
  }
  return latin1(s);
}

const hex2 = (n: number, upper: boolean): string => {
  const h = n.toString(16).padStart(2, '0');
  return upper ? h.toUpperCase() : h;
};
const named: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '/': '&sol;', '+': '&plus;', '=': '&equals;', '%': '&percnt;', ':': '&colon;', '_': '&lowbar;', '.': '&period;' };
const isAlnum = (c: string): boolean => /^[A-Za-z0-9]$/.test(c);

/** One character (code point) in one escape family, by index; a family that does not apply gives the raw character. */
function spellChar(ch: string, family: number, upper: boolean): string {
  const cp = ch.codePointAt(0)!;
  const bytes = [...Buffer.from(ch, 'utf8')];
  switch (family) {
    case 1: return bytes.map((b) => `%${hex2(b, upper)}`).join('');
    case 2: return bytes.map((b) => `=${hex2(b, true)}`).join('');
    case 3: return bytes.map((b) => `\\x${hex2(b, upper)}`).join('');
    case 4: {
      const units = cp > 0xffff ? [0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff)] : [cp];
      return units.map((u) => `\\u${u.toString(16).padStart(4, '0')}`).map((s) => (upper ? s.toUpperCase().replace('\\U', '\\u') : s)).join('');
    }
    case 5: return `&#${cp};`;
    case 6: return `&#x${upper ? cp.toString(16).toUpperCase() : cp.toString(16)};`;
    case 7: return named[ch] ?? ch;
    case 8: return cp < 0x80 && !isAlnum(ch) && ch !== ' ' ? `\\${ch}` : ch;
    case 9: {
      // %uXXXX: IIS and ASP.NET (HttpUtility.UrlDecode), JavaScript's unescape.
      const units = cp > 0xffff ? [0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff)] : [cp];
      return units.map((u) => `%u${upper ? u.toString(16).padStart(4, '0').toUpperCase() : u.toString(16).padStart(4, '0')}`).join('');
    }
    // \ooo octal per byte (C, Python, a quoted cookie to Python's http.cookies and Werkzeug).
    case 10: return bytes.map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('');
    // \UXXXXXXXX (YAML, Python) and \u{X} (JavaScript, Ruby, PHP).
    case 11: return `\\U${hex2(cp, upper).padStart(8, '0')}`;
    case 12: return `\\u{${upper ? cp.toString(16).toUpperCase() : cp.toString(16)}}`;
    default: return latin1(ch);
  }
}

export interface Spelled {
  /** The spelling, latin1 (one char per byte) before the document encoding. */
  text: string;
  how: string;
}

/** Text families: every character raw or escaped, families mixed, optional quoted-printable soft breaks. */
function textSpelling(secret: string): fc.Arbitrary<Spelled> {
  const chars = [...secret];
  return fc.record({
    families: fc.array(fc.integer({ min: 0, max: 12 }), { minLength: chars.length, maxLength: chars.length }),
    upper: fc.boolean(),
    breaks: fc.array(fc.boolean(), { minLength: chars.length, maxLength: chars.length }),
    softBreaks: fc.boolean(),
  }).map(({ families, upper, breaks, softBreaks }) => ({
    text: chars.map((c, i) => spellChar(c, families[i]!, upper) + (softBreaks && breaks[i] && i < chars.length - 1 ? '=\r\n' : '')).join(''),
    how: `text families [${families.join('')}]${softBreaks ? ' with soft breaks' : ''}`,
  }));
}

/** base64 / base64url of the secret after 0–5 other bytes, padded or not, wrapped or not, punctuation percent-escaped or not. */
function base64Spelling(secret: string): fc.Arbitrary<Spelled> {
  return fc.record({
    before: fc.uint8Array({ maxLength: 5 }),
    after: fc.uint8Array({ maxLength: 3 }),
    url: fc.boolean(),
    pad: fc.boolean(),
    width: fc.constantFrom(0, 0, 4, 16, 64, 76),
    eol: fc.constantFrom('\r\n', '\n', '\\n', ' '),
    escapePunct: fc.boolean(),
  }).map(({ before, after, url, pad, width, eol, escapePunct }) => {
    const bytes = Buffer.concat([Buffer.from(before), Buffer.from(secret, 'utf8'), Buffer.from(after)]);
    let s = bytes.toString(url ? 'base64url' : 'base64');
    if (!pad) s = s.replace(/=+$/, '');
    else if (url) s += '='.repeat((4 - (s.length % 4)) % 4);
    if (width) s = s.replace(new RegExp(`(.{${width}})(?=.)`, 'g'), `$1${eol}`);
    if (escapePunct) s = s.replace(/[+/=]/g, (c) => `%${hex2(c.charCodeAt(0), true)}`);
    return { text: s, how: `${url ? 'base64url' : 'base64'} +${before.length}${pad ? ' padded' : ''}${width ? ` wrapped at ${width} by ${JSON.stringify(eol)}` : ''}${escapePunct ? ' %-escaped' : ''}` };
  });
}

function hexSpelling(secret: string): fc.Arbitrary<Spelled> {
  return fc.record({ upper: fc.boolean(), sep: fc.constantFrom('', '', ' ', ':', ',0x', '\n', ', 0x', ',\n  0x', "',\n '0x") }).map(({ upper, sep }) => {
    const pairs = [...Buffer.from(secret, 'utf8')].map((b) => hex2(b, upper));
    return { text: (sep.endsWith('0x') ? '0x' : '') + pairs.join(sep), how: `hex ${upper ? 'upper' : 'lower'} sep ${JSON.stringify(sep)}` };
  });
}

/** Every way the suite spells a secret. */
export function spelling(secret: string): fc.Arbitrary<Spelled> {
  return fc.oneof(textSpelling(secret), textSpelling(secret), base64Spelling(secret), hexSpelling(secret));
}

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 of bytes, padded to 8 characters or not. */
export function base32(bytes: Buffer, pad = true): string {
  let bits = '';
  for (const b of bytes) bits += b.toString(2).padStart(8, '0');
  let out = '';
  for (let i = 0; i < bits.length; i += 5) out += B32[parseInt(bits.slice(i, i + 5).padEnd(5, '0'), 2)];
  return pad ? out.padEnd(Math.ceil(out.length / 8) * 8, '=') : out;
}

/** CSS escapes (a stylesheet's `content: "…"`, CSS.escape, cssesc): `\73 ` or six digits `\000073`. */
function cssSpelling(secret: string): fc.Arbitrary<Spelled> {
  return fc.record({ six: fc.boolean(), upper: fc.boolean(), all: fc.boolean() }).map(({ six, upper, all }) => ({
    text: latin1([...secret].map((c) => {
      if (!all && /[A-Za-z]/.test(c)) return c;
      const h = c.codePointAt(0)!.toString(16);
      const hh = upper ? h.toUpperCase() : h;
      return six ? `\\${hh.padStart(6, '0')}` : `\\${hh} `;
    }).join('')),
    how: `CSS escapes${six ? ', six digits' : ''}${all ? ', every character' : ''}`,
  }));
}

/**
 * How services show what they recorded beyond the escapes an agent would use: upper- or
 * lower-cased (an error message, a normalized URL host), CSS-escaped, base32 after 0–4 other
 * bytes, percent-encoded twice, decimal byte lists.
 */
export function echoSpelling(secret: string): fc.Arbitrary<Spelled> {
  const cased = fc.record({ spelled: textSpelling(secret), upper: fc.boolean() }).map(({ spelled, upper }) => ({
    // Only the characters written as themselves change case (escapes keep their code point).
    text: spelled.text.replace(/(\\[uU]\{?[0-9a-fA-F]+\}?|\\x[0-9a-fA-F]{2}|[%=][0-9a-fA-F]{2}|%u[0-9a-fA-F]{4}|&#?[xX]?[0-9a-zA-Z]+;?|\\[0-7]{3})|[A-Za-z]/g, (m, esc?: string) => (esc ? m : upper ? m.toUpperCase() : m.toLowerCase())),
    how: `${spelled.how}, ${upper ? 'upper' : 'lower'}-cased`,
  }));
  const b32 = fc.record({ before: fc.uint8Array({ maxLength: 4 }), after: fc.uint8Array({ maxLength: 4 }), pad: fc.boolean() }).map(({ before, after, pad }) => ({
    text: base32(Buffer.concat([Buffer.from(before), Buffer.from(secret, 'utf8'), Buffer.from(after)]), pad),
    how: `base32 +${before.length}${pad ? ' padded' : ''}`,
  }));
  // Bytes as decimal numbers: Node's JSON of a Buffer, Go's %v of a []byte, Python's list(b).
  // Also pretty-printed (one a line, indented; padded to a column) and keyed by index (a typed array's JSON).
  const decimal = fc.record({ sep: fc.constantFrom(',', ', ', ' ', ',\n  ', ',\n    ', ',  ', '\n', '   ', ',\r\n\t'), keyed: fc.boolean(), at: fc.nat({ max: 100_000 }) }).map(({ sep, keyed, at }) => ({
    text: [...Buffer.from(secret, 'utf8')].map((b, i) => (keyed ? `"${at + i}":${b}` : String(b))).join(keyed ? ',' : sep),
    how: keyed ? 'decimal bytes keyed by index' : `decimal bytes sep ${JSON.stringify(sep)}`,
  }));
  // Percent-encoded twice: a URL holding the value put in another URL's query (a login redirect's `next=`).
  const twice = fc.boolean().map((upper) => ({
    text: encodeURIComponent(encodeURIComponent(secret)).replace(/%[0-9A-F]{2}/g, (m) => (upper ? m : m.toLowerCase())),
    how: `percent-encoded twice${upper ? '' : ', lower-case hex'}`,
  }));
  // A list of the characters: Java's Arrays.toString of a char[], Gson's JSON of one, Python's list(s).
  const chars = fc.constantFrom<[string, string]>(['', ', '], ['"', ','], ["'", ', '], ["'", ' '], ['', ',\n  ']).map(([q, sep]) => ({
    text: `[${[...secret].map((c) => `${q}${c}${q}`).join(sep)}]`,
    how: `a list of characters (${JSON.stringify(q + sep)})`,
  }));
  return fc.oneof(spelling(secret), cased, cssSpelling(secret), b32, twice, decimal, chars);
}

// ─── the oracle ──────────────────────────────────────────────────────────────────────────────

const utf16be = (b: Buffer): string => Buffer.from(b.subarray(0, b.length & ~1)).swap16().toString('utf16le');
const utf8Of = (cp: number): string => (cp <= 0x10ffff ? latin1(String.fromCodePoint(cp)) : '');
const unNamed = Object.fromEntries(Object.entries(named).map(([k, v]) => [v, k]));

const decoders: Array<(t: string) => string> = [
  // JSON / JavaScript / C escapes
  (t) => t.replace(/\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})/g, (_, h: string, l: string) => utf8Of(0x10000 + ((parseInt(h, 16) - 0xd800) << 10) + parseInt(l, 16) - 0xdc00))
    .replace(/[\\%]u([0-9a-fA-F]{4})/g, (_, h: string) => utf8Of(parseInt(h, 16)))
    .replace(/\\U([0-9a-fA-F]{8})/g, (_, h: string) => utf8Of(parseInt(h, 16)))
    .replace(/\\u\{0*([0-9a-fA-F]{1,6})\}/g, (_, h: string) => utf8Of(parseInt(h, 16)))
    .replace(/\\([0-3][0-7]{2})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))
    .replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
    .replace(/\\([^A-Za-z0-9])/g, '$1'),
  // HTML / XML references
  (t) => t.replace(/&#[xX]([0-9a-fA-F]+);?/g, (_, h: string) => utf8Of(parseInt(h, 16))).replace(/&#([0-9]+);?/g, (_, d: string) => utf8Of(Number(d)))
    .replace(/&[A-Za-z]+;/g, (m) => unNamed[m] ?? m),
  // NULs of UTF-16/32 text found under another layer (percent-escaped, base64)
  (t) => t.replace(/\0/g, ''),
  // UTF-7: +<base64 of UTF-16BE>- runs, +- for +
  (t) => t.replace(/\+([A-Za-z0-9+/]*)-?/g, (m, b: string) => (b ? latin1(utf16be(Buffer.from(b, 'base64'))) : m === '+-' ? '+' : m)),
  // CSS escapes: 1–6 hex digits and one optional blank
  (t) => t.replace(/\\([0-9a-fA-F]{1,6})(?:\r\n|[ \t\n\r\f])?/g, (_, h: string) => utf8Of(parseInt(h, 16))),
  // percent
  (t) => t.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
  (t) => t.replace(/\+/g, ' ').replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
  // quoted-printable
  (t) => t.replace(/=\r?\n/g, '').replace(/=([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
  // line breaks and whitespace (also JSON's "\n")
  (t) => t.replace(/\s+|\\[rnt]/g, ''),
  // a list of characters (Java's Arrays.toString of a char[], Python's list(s), JSON of one)
  (t) => t.replace(/[\s,'"]+/g, ''),
  // every family at once, left to right, after quoted-printable soft breaks (a spelling may mix them all)
  (t) => t.replace(/=\r?\n/g, '').replace(/[%=]([0-9a-fA-F]{2})|\\x([0-9a-fA-F]{2})|[\\%]u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})|\\u\{0*([0-9a-fA-F]{1,6})\}|\\([0-3][0-7]{2})|&#[xX]([0-9a-fA-F]+);?|&#([0-9]+);?|(&[A-Za-z]+;)|\\([^A-Za-z0-9])/g,
    (m, b?: string, x?: string, u?: string, u8?: string, ub?: string, o?: string, hx?: string, d?: string, n?: string, id?: string) => {
      if (b ?? x) return String.fromCharCode(parseInt((b ?? x)!, 16));
      if (o) return String.fromCharCode(parseInt(o, 8));
      if (u ?? u8 ?? ub ?? hx) return utf8Of(parseInt((u ?? u8 ?? ub ?? hx)!, 16));
      if (d) return utf8Of(Number(d));
      if (n) return unNamed[n] ?? m;
      return id ?? m;
    }),
];

function unBase32(run: string): string {
  let bits = '';
  for (const c of run) bits += B32.indexOf(c).toString(2).padStart(5, '0');
  let out = '';
  for (let i = 0; i + 8 <= bits.length; i += 8) out += String.fromCharCode(parseInt(bits.slice(i, i + 8), 2));
  return out;
}

/** base64, base32 and hex runs decoded at every alignment. */
function blobs(t: string): string[] {
  const out: string[] = [];
  const flat = t.replace(/\s+|\\[rnt]|=\r?\n/g, '');
  for (const m of flat.matchAll(/[A-Za-z0-9+/_-]{8,}/g)) {
    for (let s = 0; s < 4 && s < m[0].length - 4; s++) {
      out.push(Buffer.from(m[0].slice(s), 'base64').toString('latin1'), Buffer.from(m[0].slice(s), 'base64url').toString('latin1'));
    }
  }
  // base32 (either case) at each of its eight character alignments
  for (const m of flat.matchAll(/[A-Za-z2-7]{8,}/g)) {
    const run = m[0].toUpperCase();
    for (let s = 0; s < 8 && s < run.length - 8; s++) out.push(unBase32(run.slice(s)));
  }
  // decimal byte lists
  // (also pretty-printed over indented lines, or a typed array's JSON keyed by index: `{"0":115,"1":107}`)
  const sep = String.raw`(?:,\s*(?:"\d+":\s*)?|\s+)`;
  for (const m of t.matchAll(new RegExp(String.raw`\d{1,3}${sep}\d{1,3}(?:${sep}\d{1,3}){2,}`, 'g'))) {
    out.push(String.fromCharCode(...m[0].split(new RegExp(sep)).map((n) => Number(n) & 0xff)));
  }
  for (const m of flat.matchAll(/(?:[0-9a-fA-F]{2}(?:[:,'"-]|0x)*){6,}/g)) {
    const h = m[0].replace(/[:,'"-]|0x/g, '');
    out.push(Buffer.from(h, 'hex').toString('latin1'), Buffer.from(h.slice(1), 'hex').toString('latin1'));
  }
  return out;
}

/** The base85 alphabets: Ascii85 (Adobe, Python's a85encode), Z85, RFC 1924 (git, Python's b85encode). */
export const BASE85 = {
  ascii85: Array.from({ length: 85 }, (_, i) => String.fromCharCode(33 + i)).join(''),
  z85: '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#',
  rfc1924: '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~',
};
export const B32HEX = '0123456789ABCDEFGHIJKLMNOPQRSTUV';
const BASE85_TABLES = Object.values(BASE85).map((alphabet) => {
  const table = new Int16Array(256).fill(-1);
  [...alphabet].forEach((c, i) => (table[c.charCodeAt(0)] = i));
  return table;
});

/** base85 in one alphabet, the last group cut as Ascii85 does (no `z`, no delimiters). */
export function base85(bytes: Buffer, alphabet: string): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 4) {
    const group = Buffer.alloc(4);
    bytes.copy(group, 0, i, i + 4);
    let n = group.readUInt32BE(0);
    let chars = '';
    for (let k = 0; k < 5; k++) {
      chars = alphabet[n % 85]! + chars;
      n = Math.floor(n / 85);
    }
    out += chars.slice(0, Math.min(4, bytes.length - i) + 1);
  }
  return out;
}

export const rot13 = (t: string): string => t.replace(/[A-Za-z]/g, (c) => String.fromCharCode(((c.charCodeAt(0) - (c <= 'Z' ? 65 : 97) + 13) % 26) + (c <= 'Z' ? 65 : 97)));
export const rot47 = (t: string): string => t.replace(/[!-~]/g, (c) => String.fromCharCode(33 + ((c.charCodeAt(0) - 33 + 47) % 94)));

/**
 * Whole-text transforms a service may show a record through (read one layer deep, at the top
 * only): reversed, ROT13, ROT47, base85 in each alphabet at each of its five alignments, base32's
 * extended-hex alphabet in either case at each of its eight.
 */
export function ciphers(t: string): { whole: string[]; runs: string[] } {
  const out = [[...t].reverse().join(''), rot13(t), rot47(t)];
  const runs: string[] = [];
  for (const table of BASE85_TABLES) {
    const digits: number[] = [];
    for (let i = 0; i < t.length; i++) {
      const d = table[t.charCodeAt(i) & 0xff]!;
      if (d >= 0 && t.charCodeAt(i) < 0x100) digits.push(d);
    }
    for (let s = 0; s < 5 && s < digits.length; s++) {
      const bytes = Buffer.alloc(Math.floor((digits.length - s) / 5) * 4);
      for (let i = s, o = 0; i + 5 <= digits.length; i += 5, o += 4) {
        let n = 0;
        for (let k = 0; k < 5; k++) n = n * 85 + digits[i + k]!;
        bytes.writeUInt32BE(n % 2 ** 32, o);
      }
      out.push(bytes.toString('latin1'));
    }
  }
  for (const m of t.matchAll(/[0-9A-Va-v]{8,}/g)) {
    const run = m[0].toUpperCase();
    for (let shift = 0; shift < 8 && shift < run.length - 8; shift++) {
      const bytes: number[] = [];
      let acc = 0;
      let bits = 0;
      for (let i = shift; i < run.length; i++) {
        acc = ((acc << 5) | B32HEX.indexOf(run[i]!)) & 0xfff;
        bits += 5;
        if (bits >= 8) {
          bits -= 8;
          bytes.push((acc >> bits) & 0xff);
        }
      }
      runs.push(Buffer.from(bytes).toString('latin1'));
    }
  }
  return { whole: out, runs };
}

/** How `secret` can be read out of `body` (undefined when it cannot): the suite's leak check. */
export function reveal(body: Buffer | string, secret: string): string | undefined {
  const needle = latin1(secret);
  // Letters in either case: an upper- or lower-cased value is one a handful of guesses away.
  const folded = needle.toLowerCase();
  const buf = typeof body === 'string' ? Buffer.from(body, 'latin1') : body;
  const views: Array<[string, string]> = docEncodings.map((e) => [e, decodeDoc(buf, e)]);
  views.push(['NULs removed', buf.toString('latin1').replace(/\0/g, '')]);
  for (const [label, view] of views) {
    const seen = new Set<string>();
    let layer = [view];
    for (let depth = 0; depth < 3 && layer.length; depth++) {
      const next: string[] = [];
      for (const t of layer) {
        if (t.includes(needle)) return `${label}, ${depth} decoding step(s)`;
        if (t.toLowerCase().includes(folded)) return `${label}, ${depth} decoding step(s), letters case-changed`;
        // The transforms on the text as bytes and with NULs removed (UTF-16/32 of ASCII text): the other views add nothing to them.
        if (depth === 0 && (label === 'utf8' || (label === 'NULs removed' && t !== views[0]![1]))) {
          const { whole, runs } = ciphers(t);
          for (const c of [...whole, ...runs]) if (c.toLowerCase().includes(folded)) return `${label}, reversed, rotated, base85 or base32hex`;
        }
        if (depth === 2) continue;
        for (const d of [...decoders.map((f) => f(t)), ...blobs(t)]) {
          if (d !== t && d.length >= needle.length && !seen.has(d)) {
            seen.add(d);
            next.push(d);
          }
        }
      }
      layer = next;
    }
  }
  return undefined;
}
