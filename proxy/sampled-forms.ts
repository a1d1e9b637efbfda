// Forms of a secret that are exact strings written in the characters ordinary text is made of:
// base85 (Ascii85, Z85, RFC 1924 — git, Python's `b85encode`), base32 in lower case and in the
// extended-hex alphabet, the value reversed, ROT13 and ROT47 (and more since: below, `formsOf`). A service that shows its record of a
// credential that way hands the value over past every spelling of proxy/spellings.ts.
//
// Matching them as more literals of the scrubber's regexes made scrubbing about twice as slow (a
// literal starting with a common letter starts an attempt almost everywhere; twelfth pass), and
// through an anchor 15–60 % slower (thirteenth pass). Here they are found by sampling instead: every
// form is at least `min` characters long, so any occurrence covers one of the positions every
// `step = min - Q + 1` characters together with the Q characters from there. Only those positions
// are read (their Q-gram looked up in a bitmap of the forms' Q-grams), and a hit is checked against
// the forms holding that gram. A text is read at one position in `step` (~20 for a 30-character
// key): a few per cent of the scrubber's regex scan.

import { base32Cores } from './spellings.ts';
import { base64Cores } from '../describe/placeholders.ts';

/** Characters per sampled gram. */
const Q = 4;
/** Bitmap size (bits of the gram's hash). */
const HASH_BITS = 16;
/** A form shorter than this is not looked for (too short to be read back as a key). */
const MIN_FORM = 8;

const ASCII85 = Array.from({ length: 85 }, (_, i) => String.fromCharCode(33 + i)).join('');
const Z85 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';
const RFC1924 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~';
const BASE32HEX = '0123456789ABCDEFGHIJKLMNOPQRSTUV';
/** Crockford's base32 (ULIDs, `base32-crockford`) and z-base-32 (Tahoe-LAFS, `zbase32`): twenty-third pass. */
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const ZBASE32 = 'ybndrfg8ejkmcpqxot1uwisza345h769';

/**
 * The base85 characters of `bytes` that do not depend on what surrounds them: the whole 4-byte
 * groups when a group starts at each of the four byte offsets of the value.
 */
function base85Cores(bytes: Buffer, alphabet: string): string[] {
  const cores: string[] = [];
  for (let from = 0; from < 4; from++) {
    let out = '';
    for (let i = from; i + 4 <= bytes.length; i += 4) {
      let n = bytes.readUInt32BE(i);
      let group = '';
      for (let k = 0; k < 5; k++) {
        group = alphabet[n % 85]! + group;
        n = Math.floor(n / 85);
      }
      out += group;
    }
    if (out) cores.push(out);
  }
  return cores;
}

function rot13(s: string): string {
  return s.replace(/[A-Za-z]/g, (c) => {
    const base = c <= 'Z' ? 65 : 97;
    return String.fromCharCode(((c.charCodeAt(0) - base + 13) % 26) + base);
  });
}

function rot47(s: string): string {
  return s.replace(/[!-~]/g, (c) => String.fromCharCode(33 + ((c.charCodeAt(0) - 33 + 47) % 94)));
}

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** Bytes as one base58 number (Bitcoin's alphabet: base58 of a whole field, as `bs58`, `base58` write it). */
function base58(bytes: Buffer): string {
  return wholeNumber(bytes, BASE58);
}

/** Bytes as one number in the base of `alphabet` (leading zero bytes as its zero digit, as `base-x` writes them). */
function wholeNumber(bytes: Buffer, alphabet: string): string {
  const base = BigInt(alphabet.length);
  let n = BigInt(`0x${bytes.toString('hex') || '0'}`);
  let out = '';
  while (n > 0n) {
    out = alphabet[Number(n % base)]! + out;
    n /= base;
  }
  for (let i = 0; i < bytes.length && bytes[i] === 0; i++) out = alphabet[0]! + out;
  return out;
}
const DIGITS = '0123456789';
const BASE36 = '0123456789abcdefghijklmnopqrstuvwxyz';
/** base62 as `base-x`, Python's `base62` and GMP write it, and with the cases swapped (other libraries). */
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BASE62_LOWER_FIRST = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Bytes as yEnc writes them (each byte + 42, the critical ones — NUL, LF, CR, `=` — as `=` and the byte + 64). */
function yenc(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) {
    const c = (b + 42) & 0xff;
    out += c === 0 || c === 0x0a || c === 0x0d || c === 0x3d ? `=${String.fromCharCode((c + 64) & 0xff)}` : String.fromCharCode(c);
  }
  return out;
}

/**
 * The uuencode characters of `bytes` that do not depend on what surrounds them, at each of the
 * three byte offsets of a 3-byte group: GNU `uuencode` writes a zero as `` ` ``, Python's
 * `binascii.b2a_uu` (and so the `uu` codec) as a blank.
 */
function uuCores(bytes: Buffer): string[] {
  return base64Cores(bytes).flatMap((core) => {
    const six = [...core].map((c) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.indexOf(c));
    return [six.map((v) => (v === 0 ? '`' : String.fromCharCode(32 + v))).join(''), six.map((v) => String.fromCharCode(32 + v)).join('')];
  });
}

/** Letters shifted `k` places (ROT13 is k = 13; digits and marks kept). */
function caesar(s: string, k: number): string {
  return s.replace(/[A-Za-z]/g, (c) => {
    const base = c <= 'Z' ? 65 : 97;
    return String.fromCharCode(((c.charCodeAt(0) - base + k) % 26) + base);
  });
}
const CAESAR_SHIFTS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25];
/** Digits shifted `k` places mod 10 (ROT5 is k = 5). */
const rotateDigits = (s: string, k: number): string => s.replace(/[0-9]/g, (d) => String((Number(d) + k) % 10));
/** Letters mirrored in the alphabet (a↔z). */
const atbash = (s: string): string => s.replace(/[A-Za-z]/g, (c) => String.fromCharCode((c <= 'Z' ? 155 : 219) - c.charCodeAt(0)));
const GROUP_SIZES = [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
const GROUP_MARKS = ['-', '.', ':', '/', '|', '_'];
/** `s` in groups of `n` characters from its start, `mark` between them. */
function grouped(s: string, n: number, mark: string): string {
  const chars = [...s];
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += n) out.push(chars.slice(i, i + n).join(''));
  return out.join(mark);
}

/** The value's characters in the reverse order. */
const reversedText = (s: string): string => [...s].reverse().join('');

const swapCase = (s: string): string => s.replace(/[A-Za-z]/g, (c) => String.fromCharCode(c.charCodeAt(0) ^ 0x20));

/** The value as each form family writes it (latin1: one character per byte), in a fixed order. */
function formsOf(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const reversed = Buffer.from([...value].reverse().join(''), 'utf8').toString('latin1');
  const r13 = Buffer.from(rot13(value), 'utf8').toString('latin1');
  const cased = (s: string): string[] => [s, s.toLowerCase(), s.toUpperCase()];
  // The value's UTF-16 bytes encoded (PowerShell's `-EncodedCommand`, .NET's `Encoding.Unicode`
  // then base64 or hex, a Java `char[]` dumped): each of those bytes in base64 or hex.
  // Twenty-ninth pass (left open by the twenty-eighth): and its UTF-32 bytes (Python's
  // `v.encode('utf-32-le')`, a `wchar_t` dump on Linux, .NET's `Encoding.UTF32`) so.
  const utf32 = Buffer.from([...value].flatMap((c) => { const cp = c.codePointAt(0)!; return [cp & 0xff, (cp >> 8) & 0xff, cp >> 16, 0]; }));
  const wide = [Buffer.from(value, 'utf16le'), Buffer.from(value, 'utf16le').swap16(), utf32, Buffer.from(utf32).swap32()];
  return [
    ...base85Cores(bytes, ASCII85), ...base85Cores(bytes, Z85), ...base85Cores(bytes, RFC1924),
    ...base32Cores(bytes).map((c) => c.toLowerCase()),
    ...base32Cores(bytes, BASE32HEX), ...base32Cores(bytes, BASE32HEX).map((c) => c.toLowerCase()),
    ...base32Cores(bytes, CROCKFORD), ...base32Cores(bytes, CROCKFORD).map((c) => c.toLowerCase()), ...base32Cores(bytes, ZBASE32),
    ...cased(reversed), ...cased(r13),
    Buffer.from(rot47(value), 'utf8').toString('latin1'),
    // Sixteenth pass: each of these read the key back past every other form.
    swapCase(reversed),
    ...wide.flatMap((w) => [...base64Cores(w), ...base64Cores(w, true), w.toString('hex'), w.toString('hex').toUpperCase()]),
    base58(bytes), yenc(bytes), ...uuCores(bytes),
    // Seventeenth pass: two layers of those — the reversed value in base64 or hex, and the value's
    // base64 or hex reversed (a puzzle encoder, `rev | base64`, `base64 | rev`).
    ...[Buffer.from(reversed, 'latin1')].flatMap((r) => [...base64Cores(r), ...base64Cores(r, true), r.toString('hex'), r.toString('hex').toUpperCase()]),
    ...[...base64Cores(bytes), ...base64Cores(bytes, true), bytes.toString('hex'), bytes.toString('hex').toUpperCase()].map((e) => [...e].reverse().join('')),
    // (Bytes as binary digits or octal numbers were tried: their 4-grams are digits and blanks,
    // which numbers in ordinary JSON hit at every sample, ~10% slower scrubbing.)
    // Nineteenth pass: the other Caesar shifts and Atbash (a "masking" viewer, a puzzle encoder), and
    // the value grouped from its start every 4–16 characters by `-`, `.`, `:`, `/`, `|` or `_` (a
    // license-key or recovery-code layout, `fold`-like grouping for reading aloud).
    ...[...CAESAR_SHIFTS.map((k) => caesar(value, k)), atbash(value), ...GROUP_SIZES.flatMap((n) => GROUP_MARKS.map((mark) => grouped(value, n, mark)))].map((f) => Buffer.from(f, 'utf8').toString('latin1')),
    // Twenty-third pass: base64 inside base64 (a Kubernetes image pull secret: base64 of a JSON whose
    // `auth` is base64 of `user:token`; a signed token inside a base64 envelope), the outer layer
    // standard or URL-safe, and such base64 shown as hex: each inner core at each outer alignment.
    ...base64Cores(bytes).flatMap((inner) => {
      const text = Buffer.from(inner, 'latin1');
      return [...base64Cores(text), ...base64Cores(text, true), text.toString('hex'), text.toString('hex').toUpperCase()];
    }),
    // Twenty-fourth pass: every character doubled (a terminal that echoes twice, local echo over a
    // remote one: `sskk__lliivvee`), and the bytes as one number in base 36 (`BigInt#toString(36)`),
    // base 62 (ID and short-link encoders) or decimal (`int.from_bytes`), as base58 above.
    Buffer.from([...value].map((c) => c + c).join(''), 'utf8').toString('latin1'),
    wholeNumber(bytes, BASE36), wholeNumber(bytes, BASE62), wholeNumber(bytes, BASE62_LOWER_FIRST), wholeNumber(bytes, DIGITS),
    // Twenty-fifth pass: the reversed value under each of those letter substitutions (ROT13 and the
    // other Caesar shifts, Atbash: `rev | tr`, a puzzle encoder's two steps), ROT13's and Atbash's
    // also upper- and lower-cased (only the value itself was reversed, and each substitution unreversed).
    ...[...cased(rot13(reversedText(value))), ...cased(atbash(reversedText(value))), ...CAESAR_SHIFTS.map((k) => caesar(reversedText(value), k))].map((f) => Buffer.from(f, 'utf8').toString('latin1')),
    // Twenty-sixth pass: the other Caesar shifts (and Atbash), forward or reversed, in the other
    // letter cases — lower- or upper-cased (a service that cases what it shows, `tr a-z A-Z` after
    // the shift): only ROT13 and Atbash were cased, and only reversed. (Swapped case too cost 52
    // more forms a secret for a case mix no producer was found to write.)
    ...[value, reversedText(value)].flatMap((v) => [...CAESAR_SHIFTS.map((k) => caesar(v, k)), atbash(v)].flatMap((f) => [f.toLowerCase(), f.toUpperCase()]))
      .map((f) => Buffer.from(f, 'utf8').toString('latin1')),
    // Twenty-sixth pass: the shifts over digits too (CyberChef's ROT13 with "rotate numbers": the
    // digits by the same amount mod 10; ROT18 = ROT13 + ROT5, its case changed; ROT5 alone), forward or reversed.
    ...[value, reversedText(value)].flatMap((v) => [...CAESAR_SHIFTS, 13].map((k) => rotateDigits(caesar(v, k), k)).concat(rotateDigits(v, 5), ...cased(rotateDigits(rot13(v), 5))))
      .map((f) => Buffer.from(f, 'utf8').toString('latin1')),
    // Twenty-sixth pass: the value as a serializer writes it into a text, then that text in base64
    // (standard or URL-safe: a JWT's claims, a signed cookie, an OAuth `state`) or hex: PHP's
    // `json_encode` (`\/`: php-jwt), Go's and Rails' JSON (`\u0026`, `\u003c`), a query string or a
    // form (`%2F`, `%2f`, Python's `quote`), HTML-escaped. An AWS secret key's `/` and `+`, a key's
    // `=` or `&`, so spelled inside the base64, matched no base64 of the value's own bytes.
    ...textsOf(value).flatMap((text) => {
      const bytes = Buffer.from(text, 'utf8');
      return [...base64Cores(bytes), ...base64Cores(bytes, true), bytes.toString('hex'), bytes.toString('hex').toUpperCase()];
    }),
    // Twenty-seventh pass: the bytes in the other base64 alphabets, crypt's little-endian packing and Base45.
    ...OTHER_BASE64.flatMap((alphabet) => otherBase64Cores(bytes, alphabet)), ...cryptLittleEndianCores(bytes), ...base45Cores(bytes),
    // Twenty-eighth pass (left open by the twenty-seventh: base64 three layers deep, hex inside
    // base64): base64 of base64 of base64 (a manifest holding a Secret's `data` stored base64 again:
    // a GitOps store, a Helm value, a CI variable), the outer layer standard or URL-safe; the value's
    // hex written as base64 (a digest-like field encoded for transport); and base64 under ROT13 (a
    // record of a Basic credential or a base64 token shown rotated).
    ...base64Cores(bytes).flatMap((inner) => base64Cores(Buffer.from(inner, 'latin1'))).flatMap((middle) => {
      const text = Buffer.from(middle, 'latin1');
      return [...base64Cores(text), ...base64Cores(text, true)];
    }),
    ...[bytes.toString('hex'), bytes.toString('hex').toUpperCase()].flatMap((hex) => [...base64Cores(Buffer.from(hex, 'latin1')), ...base64Cores(Buffer.from(hex, 'latin1'), true)]),
    ...[...base64Cores(bytes), ...base64Cores(bytes, true)].map(rot13),
    // Twenty-eighth pass: the bytes as one number in octal (Python's `oct(int.from_bytes(…))`, Ruby's
    // `to_s(8)`, `BigInt#toString(8)`) and in base 36 upper-cased (Java's `BigInteger.toString(36)`
    // shown upper-case, a ticket id): decimal, base 36, 58 and 62 were forms since the twenty-fourth.
    wholeNumber(bytes, '01234567'), wholeNumber(bytes, BASE36).toUpperCase(),
  ];
}

/**
 * Twenty-seventh pass: base64 in the other alphabets libraries write — crypt's and bcrypt's
 * (`./0-9A-Za-z`, `./A-Za-z0-9`: passlib's `h64big`, `bcrypt.encode_base64`, OpenBSD's), xxencode's
 * (`+-0-9A-Za-z`) and BinHex 4.0's — each at the value's three byte alignments, as base64Cores
 * cuts them; and the little-endian packing of crypt's `b64_from_24bit` (SHA-crypt, MD5-crypt,
 * phpass, passlib's `h64`: each 3 bytes read low byte first, six bits at a time from the low end).
 */
const STD64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const CRYPT64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const OTHER_BASE64 = [
  CRYPT64,
  './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789',
  '+-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
  '!"#$%&\'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr',
];

/** The base64 cores of `bytes` (base64Cores) written in another alphabet of 64 characters. */
function otherBase64Cores(bytes: Buffer, alphabet: string): string[] {
  return base64Cores(bytes).map((core) => [...core].map((c) => alphabet[STD64.indexOf(c)]!).join(''));
}

/** crypt's little-endian packing of the whole 3-byte groups from each of the three byte offsets. */
function cryptLittleEndianCores(bytes: Buffer): string[] {
  const cores: string[] = [];
  for (let from = 0; from < 3; from++) {
    let out = '';
    for (let i = from; i + 3 <= bytes.length; i += 3) {
      let v = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16);
      for (let k = 0; k < 4; k++, v >>= 6) out += CRYPT64[v & 63];
    }
    if (out) cores.push(out);
  }
  return cores;
}

/**
 * Twenty-seventh pass: Base45 (RFC 9285: EU health certificates' QR payloads, `base45` on npm
 * and PyPI): each two bytes, as one number, three characters low digit first; a lone last byte
 * two. The whole pairs from each of the two byte offsets.
 */
const BASE45 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';
function base45Cores(bytes: Buffer): string[] {
  const cores: string[] = [];
  for (let from = 0; from < 2; from++) {
    let out = '';
    for (let i = from; i + 2 <= bytes.length; i += 2) {
      const n = bytes[i]! * 256 + bytes[i + 1]!;
      out += BASE45[n % 45]! + BASE45[Math.floor(n / 45) % 45]! + BASE45[Math.floor(n / 2025)]!;
    }
    if (out) cores.push(out);
  }
  return cores;
}

/** The value as serializers write it into a text (each a string in a fixed order; the value itself where it needs no escape). */
function textsOf(value: string): string[] {
  const json = JSON.stringify(value).slice(1, -1);
  const percent = encodeURIComponent(value);
  return [
    json.replace(/\//g, '\\/'),
    json.replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`),
    percent,
    percent.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
    new URLSearchParams({ v: value }).toString().slice(2),
    percent.replace(/%2F/g, '/'),
    value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#x27;' })[c]!),
  ];
}

export interface SampledForm {
  text: string;
  /** The owner's rule (the scrubber's index). */
  rule: number;
  /** Leading characters of this form every key of its kind shares (its public prefix), plus 2: a held start shorter than this is no probe. */
  probeMin: number;
}

/**
 * Leading characters of each form that the value's public prefix alone decides (the tripwire counts
 * a held start past them, proxy/secret-probe.ts): the forms of two values that share only that
 * prefix agree that far.
 */
function decidedByPrefix(value: string, forms: string[], p: number, formsOf: (value: string) => string[]): number[] {
  const chars = [...value];
  const other = (a: string, b: string): string => chars.map((c, i) => (i < p ? c : c === a ? b : a)).join('');
  const alt = [formsOf(other('A', 'B')), formsOf(other('C', 'D'))];
  return forms.map((f, i) => {
    let n = f.length;
    for (const o of alt) {
      const g = o[i] ?? '';
      let k = 0;
      while (k < n && k < g.length && f.charCodeAt(k) === g.charCodeAt(k)) k++;
      n = k;
    }
    return n;
  });
}

/** A form's text as JSON writes it into a string, as PHP's `json_encode` does (`\/` too), and as HTML text. */
const jsonString = (text: string): string => JSON.stringify(text).slice(1, -1);
const FORM_ESCAPES: Array<(text: string) => string> = [
  jsonString,
  (text) => jsonString(text).replace(/\//g, '\\/'),
  (text) => text.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;')),
];

/**
 * Twenty-seventh pass: the value's bytes in an alphabet holding marks a serializer escapes — base85's
 * (`"`, `\`, `&`, `<`), BinHex's, crypt's, bcrypt's and xxencode's (`/`), Base45's — as written into
 * a JSON string (PHP's `\/` too) or HTML text: an Ascii85 or BinHex blob in a JSON field passed.
 * Only these encodings' forms (in a fixed order, '' where no escape changes one): the text forms'
 * marks are the value's own (escaping every Caesar, grouped and reversed form too doubled an AWS
 * key's forms and cost a JSON scan ~10% for marks `&amp;` hit).
 */
function escapedFormsOf(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const blobs = [
    ...base85Cores(bytes, ASCII85), ...base85Cores(bytes, Z85), ...base85Cores(bytes, RFC1924),
    ...OTHER_BASE64.flatMap((alphabet) => otherBase64Cores(bytes, alphabet)), ...cryptLittleEndianCores(bytes), ...base45Cores(bytes),
  ];
  return blobs.flatMap((text) => FORM_ESCAPES.map((escape) => {
    const written = escape(text);
    return written === text ? '' : written;
  }));
}

function gramAt(text: string, i: number): number {
  return ((text.charCodeAt(i) << 24) | (text.charCodeAt(i + 1) << 16) | (text.charCodeAt(i + 2) << 8) | text.charCodeAt(i + 3)) >>> 0;
}

/** Values longer than this (bytes) are looked for by their first and last END_BYTES bytes. */
const LONG_VALUE = 256;
const END_BYTES = 64;

/** The first and the last END_BYTES bytes of a value, cut at character boundaries. */
function endsOf(value: string): [string, string] {
  const take = (chars: string[]): string[] => {
    const out: string[] = [];
    let size = 0;
    for (const ch of chars) {
      size += Buffer.byteLength(ch);
      if (size > END_BYTES) break;
      out.push(ch);
    }
    return out;
  };
  const chars = [...value];
  return [take(chars).join(''), take([...chars].reverse()).reverse().join('')];
}

const slotOf = (gram: number): number => Math.imul(gram, 0x9e3779b1) >>> (32 - HASH_BITS);

const NONE: SampledHit[] = [];

export interface SampledHit {
  start: number;
  end: number;
  rule: number;
}

/** The sampled forms of a scrubber's own secrets. */
export class SampledForms {
  private readonly forms: SampledForm[] = [];
  /** A bit per hash slot that some form's gram falls in (8 KiB: stays in the first-level cache). */
  private readonly bitmap = new Uint32Array(1 << (HASH_BITS - 5));
  /** Gram → [form index, offset in the form]. */
  private readonly grams = new Map<number, Array<[number, number]>>();
  /** Prefixes of the forms shorter than Q (a chunk's tail may end in one). */
  private readonly shortStarts = new Set<string>();
  /** First grams of the forms, as bitmap slots: a longer tail that may start one begins with one of them. */
  private readonly firstGrams = new Uint8Array(1 << HASH_BITS);
  /** The forms' first characters. */
  private readonly firstChars = new Uint8Array(256);
  /** Every character of the forms: a text ending in another (a line end, most often) ends in no start. */
  private readonly anyChars = new Uint8Array(256);
  private readonly step: number;
  readonly maxLength: number;

  /**
   * The forms of each secret (undefined when none is long enough); `more`: further exact forms of
   * a value, in a fixed order (the scrubber's EBCDIC spellings).
   */
  static of(secrets: Array<{ value: string; rule: number }>, publicPrefixLength: (value: string) => number, more: (value: string) => string[] = () => []): SampledForms | undefined {
    const forms: SampledForm[] = [];
    const seen = new Set<string>();
    for (const { value: whole, rule } of secrets) {
      if (Buffer.byteLength(whole) < MIN_FORM) continue;
      // A long value (a PEM key, a session token) by its two ends, as its other spellings (proxy/spellings.ts).
      for (const value of Buffer.byteLength(whole) > LONG_VALUE ? endsOf(whole) : [whole]) {
        const all = (v: string): string[] => [...formsOf(v), ...escapedFormsOf(v), ...more(v)];
        const texts = all(value);
        const decided = decidedByPrefix(value, texts, value === whole || whole.startsWith(value) ? publicPrefixLength(whole) : 0, all);
        texts.forEach((text, i) => {
          // A form equal to the value itself (a value with no letters reversed onto itself) is the scrubber's own.
          if (text.length < MIN_FORM || seen.has(text) || text === value) return;
          seen.add(text);
          forms.push({ text, rule, probeMin: decided[i]! + 2 });
        });
      }
    }
    return forms.length ? new SampledForms(forms) : undefined;
  }

  private constructor(forms: SampledForm[]) {
    this.forms = forms;
    const min = Math.min(...forms.map((f) => f.text.length));
    this.step = min - Q + 1;
    this.maxLength = Math.max(...forms.map((f) => f.text.length));
    forms.forEach((f, index) => {
      for (let k = 1; k < Q; k++) this.shortStarts.add(f.text.slice(0, k));
      this.firstGrams[slotOf(gramAt(f.text, 0))] = 1;
      this.firstChars[f.text.charCodeAt(0)] = 1;
      for (let i = 0; i < f.text.length; i++) this.anyChars[f.text.charCodeAt(i)] = 1;
      for (let off = 0; off + Q <= f.text.length; off++) {
        const g = gramAt(f.text, off);
        this.bitmap[slotOf(g) >>> 5]! |= 1 << (slotOf(g) & 31);
        let list = this.grams.get(g);
        if (!list) this.grams.set(g, (list = []));
        list.push([index, off]);
      }
    });
  }

  /** Every occurrence starting before `hold` (unsorted, possibly repeated). */
  find(text: string, hold: number): SampledHit[] {
    let hits: SampledHit[] | undefined;
    const last = text.length - Q;
    const { bitmap, step } = this;
    for (let p = 0; p <= last; p += step) {
      const g = ((text.charCodeAt(p) << 24) | (text.charCodeAt(p + 1) << 16) | (text.charCodeAt(p + 2) << 8) | text.charCodeAt(p + 3)) >>> 0;
      const slot = Math.imul(g, 0x9e3779b1) >>> (32 - HASH_BITS);
      if ((bitmap[slot >>> 5]! & (1 << (slot & 31))) === 0) continue;
      const list = this.grams.get(g);
      if (!list) continue;
      for (const [index, off] of list) {
        const start = p - off;
        const f = this.forms[index]!;
        if (start < 0 || start >= hold || !text.startsWith(f.text, start)) continue;
        (hits ??= []).push({ start, end: start + f.text.length, rule: f.rule });
      }
    }
    return hits ?? NONE;
  }

  /**
   * Start of the earliest suffix of `text` that is a proper prefix of some form (text.length if
   * none): what a stream holds back until the next chunk.
   */
  earliestPrefix(text: string): number {
    const n = text.length;
    if (n === 0 || this.anyChars[text.charCodeAt(n - 1) & 0xff] === 0) return n;
    const firsts = this.firstChars;
    for (let i = n > this.maxLength ? n - this.maxLength + 1 : 0; i < n; i++) {
      if (firsts[text.charCodeAt(i) & 0xff] === 0) continue;
      if (n - i < Q) {
        if (this.shortStarts.has(text.slice(i))) return i;
      } else if (this.firstGrams[slotOf(gramAt(text, i))] && this.startsSome(text, i)) {
        return i;
      }
    }
    return text.length;
  }

  private startsSome(text: string, i: number): boolean {
    const tail = text.slice(i);
    return this.forms.some((f) => f.text.length > tail.length && f.text.startsWith(tail));
  }

  /**
   * The rules of which `text` ends with a proper prefix of a form at least `min` (and, `decided`,
   * the form's probeMin) characters long: the tripwire's question (proxy/secret-probe.ts), and
   * without `decided` a WebSocket hold's (Scrubber.spellsAtEnd).
   */
  startsAtEnd(text: string, min: number, decided = true): Set<number> {
    const rules = new Set<number>();
    const from = Math.max(0, text.length - this.maxLength + 1);
    for (let i = from; i + min <= text.length; i++) {
      const tail = text.slice(i);
      for (const f of this.forms) if (f.text.length > tail.length && (!decided || tail.length >= f.probeMin) && f.text.startsWith(tail)) rules.add(f.rule);
    }
    return rules;
  }
}
