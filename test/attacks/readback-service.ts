// A service that behaves as real ones do, for the read-back attacks: it records every request
// (headers, URL, body) and shows the record back on another request — `/log`, a request-bin or
// debug page — in the representation the client asks for: JSON (plain, Go-style, everything
// escaped), HTML, XML, quoted-printable, MIME base64, base64url, hex, percent or form encoding; in
// the charset it asks for (Accept-Charset, or forced with ?charset=) with or without a BOM; and in
// pieces, honouring Range (single, suffix, open, several as multipart/byteranges) and If-Range.
// It also answers a WebSocket upgrade on /ws with the record, echoes requests on /api/echo, and
// serves ordinary content (JSON, gzip, a binary download) for the positive controls. And it tails
// its log live, as request inspectors, log viewers and webhook testers do: `/tail` (server-sent
// events, optionally gzip-flushed per event), `/wait` (a long poll answered by the next request)
// and a WebSocket on `/ws-tail`, each showing requests recorded after the channel was opened.
// With `?all=1`, `/log` and the live channels show the requests to every name the server answers
// to, as a single-tenant server that ignores Host does.
import crypto from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import util from 'node:util';
import zlib from 'node:zlib';
import { WebSocketServer } from 'ws';
import { B32HEX, BASE85, base32, base85, rot13, rot47 } from './spelling-oracle.ts';

export interface Recorded {
  method: string;
  url: string;
  headers: Array<[string, string]>;
  body: string;
}

export const formats = ['json', 'go-json', 'escape-all', 'html', 'html-numeric', 'xml', 'qp', 'base64-mime', 'base64url', 'hex', 'HEX', 'percent', 'form', 'upper', 'lower', 'css', 'base32', 'percent-twice', 'node-buffer', 'go-bytes', 'wrapped', 'node-buffer-pretty', 'typed-array', 'inspect', 'c-array', 'html-padded', 'js-padded', 'java-chars', 'python-chars', 'reversed', 'rot13', 'rot47', 'ascii85', 'z85', 'base85', 'base32-lower', 'base32hex', 'base32hex-lower', 'grouped', 'caesar3', 'atbash', 'lolcat', 'css-fullwidth', 'grouped3', 'truecolor', 'man-bold', 'truncated', 'key-end', 'xxd', 'rows-md', 'rows-json', 'rows-csv', 'tags', 'braille', 'digits-fa', 'regional', 'rev-rot13', 'rows-wide', 'jwt-php', 'jwt-go', 'state-query', 'small-caps', 'caesar7-upper', 'enclosed', 'bin-list', 'bcrypt64', 'crypt64', 'h64', 'xxencode', 'binhex', 'base45', 'rtf-hex', 'rtf-u', 'rtf-json', 'tex', 'zlib-field', 'vb-chr', 'java-uuu', 'helm-secret', 'morse', 'nato', 'py-names', 'base64-thrice', 'hex-base64', 'rot13-base64'] as const;
export type Format = typeof formats[number];
export const charsets = ['utf-8', 'utf-16le', 'utf-16be', 'utf-16', 'utf-32le', 'utf-32be', 'iso-8859-1', 'us-ascii', 'windows-1252', 'utf-7', 'ibm037', 'iso-2022-jp', 'shift_jis'] as const;
export type Charset = typeof charsets[number];

/** A binary download for the positive control (256 KiB, every byte value, NULs included): the same bytes every time. */
export const binaryBytes = Buffer.concat(Array.from({ length: 4096 }, (_, i) => crypto.createHash('sha512').update(`block ${i}`).digest()));

const escapeAll = (s: string): string => [...s].map((c) => (/[A-Za-z0-9]/.test(c) ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)).join('');
const htmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

function quotedPrintable(s: string): string {
  const bytes = Buffer.from(s, 'utf8');
  let line = '';
  let out = '';
  for (const b of bytes) {
    const ch = b >= 33 && b <= 126 && b !== 61 ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
    if (line.length + ch.length > 75) {
      out += `${line}=\r\n`;
      line = '';
    }
    line += ch;
  }
  return out + line;
}

const SMALL_CAPS: Record<string, string> = Object.fromEntries([...'abcdefghijklmnopqrstuvwyz'].map((c, i) => [c, [...'ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘǫʀꜱᴛᴜᴠᴡʏᴢ'][i]!]));

/** Twenty-seventh pass: base64 in another alphabet (big-endian, as base64 packs bits), and crypt's little-endian packing. */
export const ALPHABETS64 = {
  std: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/',
  crypt: './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
  bcrypt: './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789',
  xxencode: '+-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
  binhex: '!"#$%&\'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr',
} as const;
export const otherBase64 = (bytes: Buffer, alphabet: string): string => bytes.toString('base64').replace(/=+$/, '').replace(/[^=]/g, (c) => alphabet[ALPHABETS64.std.indexOf(c)]!);
/** passlib's `h64`, SHA-crypt's `b64_from_24bit`: each 3 bytes low byte first, six bits at a time from the low end. */
export function h64(bytes: Buffer): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    let v = bytes[i]! | ((bytes[i + 1] ?? 0) << 8) | ((bytes[i + 2] ?? 0) << 16);
    for (let k = 0; k < Math.min(4, Math.ceil(((Math.min(3, bytes.length - i)) * 8) / 6)); k++, v >>= 6) out += ALPHABETS64.crypt[v & 63];
  }
  return out;
}
export const BASE45 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';
/** RFC 9285 Base45. */
export function base45(bytes: Buffer): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 2) {
    if (i + 1 < bytes.length) {
      const n = bytes[i]! * 256 + bytes[i + 1]!;
      out += BASE45[n % 45]! + BASE45[Math.floor(n / 45) % 45]! + BASE45[Math.floor(n / 2025)]!;
    } else {
      out += BASE45[bytes[i]! % 45]! + BASE45[Math.floor(bytes[i]! / 45)]!;
    }
  }
  return out;
}
/** An RTF document of a text: every character as `\'hh` (its UTF-8 bytes) or as `\uN?`, a line break every 16. */
function rtf(text: string, how: 'hex' | 'u'): string {
  const escapes = how === 'hex' ? [...Buffer.from(text)].map((b) => `\\'${b.toString(16).padStart(2, '0')}`) : [...text].map((c) => `\\u${c.codePointAt(0)}?`);
  // A line break every 16 escapes (a writer wraps between them; a reader skips it).
  const body = escapes.map((e, i) => (i % 16 === 15 ? `${e}\r\n` : e)).join('');
  return `{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Courier;}}\r\n\\f0\\fs20 ${body}\\par\r\n}`;
}
/** TeX: each character in turn as `^^hh`, `\char N `, `\symbol{N}` or itself. */
const tex = (text: string): string => `\\ttfamily ${[...text].map((c, i) => [`^^${c.charCodeAt(0).toString(16).padStart(2, '0')}`, `\\char${c.charCodeAt(0)} `, `\\symbol{${c.charCodeAt(0)}}`, c][i % 4]).join('')}`;

/** Twenty-eighth pass: International Morse code and the NATO alphabet, as "spell it out" tools carry them. */
export const MORSE: Readonly<Record<string, string>> = Object.assign(Object.create(null) as Record<string, string>, Object.fromEntries([...'abcdefghijklmnopqrstuvwxyz0123456789_/+=&.:'].map((c, i) => [c, '.- -... -.-. -.. . ..-. --. .... .. .--- -.- .-.. -- -. --- .--. --.- .-. ... - ..- ...- .-- -..- -.-- --.. ----- .---- ..--- ...-- ....- ..... -.... --... ---.. ----. ..--.- -..-. .-.-. -...- .-... .-.-.- ---...'.split(' ')[i]!])));
export const NATO: Readonly<Record<string, string>> = Object.assign(Object.create(null) as Record<string, string>, Object.fromEntries([...'abcdefghijklmnopqrstuvwxyz0123456789_/+='].map((c, i) => [c, 'Alfa Bravo Charlie Delta Echo Foxtrot Golf Hotel India Juliett Kilo Lima Mike November Oscar Papa Quebec Romeo Sierra Tango Uniform Victor Whiskey X-ray Yankee Zulu Zero One Two Three Four Five Six Seven Eight Nine Underscore Slash Plus Equals'.split(' ')[i]!])));
const PUNCTUATION_NAMES: Readonly<Record<string, string>> = Object.assign(Object.create(null) as Record<string, string>, { '_': 'LOW LINE', '/': 'SOLIDUS', '+': 'PLUS SIGN', '=': 'EQUALS SIGN', '&': 'AMPERSAND', '<': 'LESS-THAN SIGN', '>': 'GREATER-THAN SIGN', '%': 'PERCENT SIGN', '~': 'TILDE', '-': 'HYPHEN-MINUS', '.': 'FULL STOP', ':': 'COLON', '\\': 'REVERSE SOLIDUS' });
/** Python's `\N{…}` of a character (its Unicode name), or the character where it has none here. */
const pyName = (c: string): string => {
  if (/[a-z]/.test(c)) return `\\N{LATIN SMALL LETTER ${c.toUpperCase()}}`;
  if (/[A-Z]/.test(c)) return `\\N{LATIN CAPITAL LETTER ${c}}`;
  if (/[0-9]/.test(c)) return `\\N{DIGIT ${'ZERO ONE TWO THREE FOUR FIVE SIX SEVEN EIGHT NINE'.split(' ')[Number(c)]!}}`;
  return PUNCTUATION_NAMES[c] ? `\\N{${PUNCTUATION_NAMES[c]}}` : c;
};
/** Each run of 16 or more characters (a token) of the record's JSON spelt out by `spell`. */
const spelt = (json: string, spell: (word: string) => string): string => json.replace(/[^\s"]{16,}/g, spell);

/** The record in a representation; returns the body text and its media type. */
export function represent(log: Recorded[], format: Format): { text: string; type: string } {
  const json = JSON.stringify(log);
  switch (format) {
    case 'json': return { text: json, type: 'application/json' };
    case 'go-json': return { text: json.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026'), type: 'application/json' };
    // Every character of every string but letters and digits as \uXXXX (what some serializers and obfuscators emit).
    case 'escape-all': return { text: json.replace(/"((?:[^"\\]|\\.)*)"/g, (_, inner: string) => `"${escapeAll(JSON.parse(`"${inner}"`) as string)}"`), type: 'application/json' };
    case 'html': return { text: `<!doctype html><html><head><meta charset="utf-8"></head><body><pre>${htmlEscape(json)}</pre></body></html>`, type: 'text/html' };
    case 'html-numeric': return { text: `<pre>${[...json].map((c) => (/[A-Za-z0-9]/.test(c) ? c : `&#${c.codePointAt(0)};`)).join('')}</pre>`, type: 'text/html' };
    case 'xml': return { text: `<?xml version="1.0"?><log>${log.map((r) => `<request url="${htmlEscape(r.url)}">${r.headers.map(([k, v]) => `<h name="${htmlEscape(k)}">${htmlEscape(v)}</h>`).join('')}</request>`).join('')}</log>`, type: 'application/xml' };
    case 'qp': return { text: quotedPrintable(json), type: 'text/plain' };
    case 'base64-mime': return { text: Buffer.from(json).toString('base64').replace(/.{76}(?=.)/g, '$&\r\n'), type: 'text/plain' };
    case 'base64url': return { text: Buffer.from(json).toString('base64url'), type: 'text/plain' };
    case 'hex': return { text: Buffer.from(json).toString('hex'), type: 'text/plain' };
    case 'HEX': return { text: Buffer.from(json).toString('hex').toUpperCase(), type: 'text/plain' };
    case 'percent': return { text: encodeURIComponent(json), type: 'text/plain' };
    case 'form': return { text: new URLSearchParams(log.flatMap((r) => r.headers)).toString(), type: 'application/x-www-form-urlencoded' };
    // An error page or a log viewer that shouts (or a normalizer that lower-cases) what it shows.
    case 'upper': return { text: json.toUpperCase(), type: 'application/json' };
    case 'lower': return { text: json.toLowerCase(), type: 'application/json' };
    // A stylesheet generated from the record (a badge, a theme preview): every character a CSS escape.
    case 'css': return { text: `.log::after{content:"${[...json].map((c) => `\\${c.codePointAt(0)!.toString(16)} `).join('')}"}`, type: 'text/css' };
    case 'base32': return { text: base32(Buffer.from(json)), type: 'text/plain' };
    // A Node service that keeps the raw request as a Buffer and serializes it; a Go one printing a []byte.
    case 'node-buffer': return { text: JSON.stringify({ raw: Buffer.from(json) }), type: 'application/json' };
    case 'go-bytes': return { text: `raw=[${[...Buffer.from(json)].join(' ')}]`, type: 'text/plain' };
    // Eleventh pass: the same bytes pretty-printed (Express's `json spaces`, Python's json.dumps(indent=)
    // and pprint, Rust's {:#?}: one number a line), a typed array's JSON keyed by index
    // (`JSON.stringify(new TextEncoder().encode(…))`), `console.log` of a Uint8Array (numbers padded
    // to a column over wrapped lines), and a C array of hex bytes (`xxd -i`: 12 a line, indented).
    // Character references and JavaScript/PHP code point escapes with many leading zeros (HTML,
    // Python's html.unescape and JavaScript read any number).
    case 'html-padded': return { text: `<pre>${[...json].map((c) => `&#0000000${c.codePointAt(0)};`).join('')}</pre>`, type: 'text/html' };
    case 'js-padded': return { text: `var log = "${[...json].map((c) => `\\u{0000000${c.codePointAt(0)!.toString(16)}}`).join('')}";`, type: 'application/javascript' };
    // The record as a list of its characters: Java's Arrays.toString of a char[] (Lombok's
    // @ToString of a password field), Python's repr of list(s).
    case 'java-chars': return { text: `[${[...json].join(', ')}]`, type: 'text/plain' };
    case 'python-chars': return { text: `[${[...json].map((c) => (c === "'" ? `"'"` : `'${c === '\\' ? '\\\\' : c}'`)).join(', ')}]`, type: 'text/plain' };
    // Fourteenth pass: the record reversed (a log viewer's "newest first" by character, a puzzle
    // encoder), rotated (ROT13, ROT47), in base85 (Python's a85encode, b85encode — git's binary
    // patches —, ZeroMQ's Z85) and in base32 in lower case or the extended-hex alphabet.
    case 'reversed': return { text: [...json].reverse().join(''), type: 'text/plain' };
    case 'rot13': return { text: rot13(json), type: 'text/plain' };
    case 'rot47': return { text: rot47(json), type: 'text/plain' };
    case 'ascii85': return { text: base85(Buffer.from(json), BASE85.ascii85), type: 'text/plain' };
    case 'z85': return { text: base85(Buffer.from(json), BASE85.z85), type: 'text/plain' };
    case 'base85': return { text: base85(Buffer.from(json), BASE85.rfc1924), type: 'text/plain' };
    case 'base32-lower': return { text: base32(Buffer.from(json)).toLowerCase(), type: 'text/plain' };
    case 'base32hex': return { text: [...base32(Buffer.from(json))].map((c) => (c === '=' ? c : B32HEX['ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'.indexOf(c)])).join(''), type: 'text/plain' };
    case 'base32hex-lower': return { text: [...base32(Buffer.from(json))].map((c) => (c === '=' ? c : B32HEX['ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'.indexOf(c)])).join('').toLowerCase(), type: 'text/plain' };
    // Nineteenth pass: long tokens grouped by fours (a recovery-code layout), a Caesar cipher and
    // Atbash, every character coloured (lolcat: a 256-colour sequence before each), and a
    // stylesheet writing the record in full-width letters as CSS escapes.
    case 'grouped': return { text: json.replace(/[^\s"]{16,}/g, (w) => w.match(/.{1,4}/g)!.join('-')), type: 'text/plain' };
    case 'caesar3': return { text: json.replace(/[a-z]/gi, (c) => String.fromCharCode(((c.toLowerCase().charCodeAt(0) - 97 + 3) % 26) + (c <= 'Z' ? 65 : 97))), type: 'text/plain' };
    case 'atbash': return { text: json.replace(/[a-z]/gi, (c) => String.fromCharCode((c <= 'Z' ? 155 : 219) - c.charCodeAt(0))), type: 'text/plain' };
    case 'lolcat': return { text: `${[...json].map((c, i) => `\x1b[38;5;${16 + (i % 200)}m${c}`).join('')}\x1b[0m\n`, type: 'text/plain' };
    case 'css-fullwidth': return { text: `.log::after{content:"${[...json].map((c) => (c > ' ' && c <= '~' ? `\\${(c.charCodeAt(0) + 0xfee0).toString(16)} ` : c)).join('')}"}`, type: 'text/css' };
    // Twentieth pass: long tokens grouped by threes with dots, every character in 24-bit colour, a
    // man page's bold (each character overstruck), and long tokens cut short at 30 characters (a
    // request inspector truncating what it shows).
    case 'grouped3': return { text: json.replace(/[^\s"]{16,}/g, (w) => w.match(/.{1,3}/g)!.join('.')), type: 'text/plain' };
    case 'truecolor': return { text: `${[...json].map((c, i) => `\x1b[38;2;${i % 256};${(i * 7) % 256};200m${c}`).join('')}\x1b[0m\n`, type: 'text/plain' };
    case 'man-bold': return { text: [...json].map((c) => (c > ' ' && c <= '~' ? `${c}\b${c}` : c)).join(''), type: 'text/plain' };
    case 'truncated': return { text: json.replace(/[^\s"]{31,}/g, (w) => `${w.slice(0, 30)}...`), type: 'text/plain' };
    // Twenty-first pass: long tokens shown by their end (a log column keeping the last 30 characters).
    case 'key-end': return { text: json.replace(/[^\s"]{31,}/g, (w) => `…${w.slice(-30)}`), type: 'text/plain' };
    // Twenty-first pass: a hex dump of the record as `xxd` writes it (a debug page's raw request).
    case 'xxd': return { text: xxd(Buffer.from(json)), type: 'text/plain' };
    // Twenty-third pass (follow-up): long tokens a character per labelled row (a Markdown table
    // with row numbers, an array of objects, CSV): a reader takes the second column.
    case 'rows-md': return { text: json.replace(/[^\s"]{16,}/g, (w) => `\n| n | c |\n|---|---|\n${[...w].map((c, i) => `| ${i} | ${c} |\n`).join('')}`), type: 'text/markdown' };
    case 'rows-json': return { text: JSON.stringify(json.match(/[^\s"]{16,}/g)!.map((w) => [...w].map((c, i) => ({ i, c })))), type: 'application/json' };
    case 'rows-csv': return { text: json.match(/[^\s"]{16,}/g)!.map((w) => `i,c\r\n${[...w].map((c, i) => `${i},${c}\r\n`).join('')}`).join(''), type: 'text/csv' };
    // Twenty-fourth pass: long tokens in Unicode tag characters (an "ASCII smuggling" view: nothing
    // shows, a model reads it), as Braille dots of their bytes (hexyl's braille table), and every
    // digit written as a page localized for `Accept-Language: fa` writes it.
    case 'tags': return { text: json.replace(/[^\s"]{16,}/g, (w) => [...w].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('')), type: 'application/json' };
    case 'braille': return { text: json.replace(/[^\s"]{16,}/g, (w) => [...w].map((c) => String.fromCodePoint(0x2800 + c.charCodeAt(0))).join('')), type: 'text/plain' };
    case 'digits-fa': return { text: json.replace(/[0-9]/g, (d) => String.fromCodePoint(0x6f0 + Number(d))), type: 'application/json' };
    // Twenty-fifth pass: long tokens' letters as regional indicators with a zero-width space after
    // each (an "emojify" bot: no two make a flag), long tokens reversed and ROT13'd (`rev | tr`), and
    // long tokens a character per row of a 12-column CSV export (the piece in the last column).
    case 'regional': return { text: json.replace(/[^\s"]{16,}/g, (w) => [...w].map((c) => (/[a-z]/i.test(c) ? `${String.fromCodePoint(0x1f1e6 + c.toUpperCase().charCodeAt(0) - 65)}\u200b` : c)).join('')), type: 'text/plain; charset=utf-8' };
    case 'rev-rot13': return { text: json.replace(/[^\s"]{16,}/g, (w) => rot13([...w].reverse().join(''))), type: 'text/plain' };
    case 'rows-wide': return { text: json.match(/[^\s"]{16,}/g)!.map((w) => `id,at,method,path,status,ms,ip,agent,ref,lang,n,c\r\n${[...w].map((c, i) => `${i},2026-12-07,GET,/log,200,${i % 9},127.0.0.1,curl,-,en,${i % 3},${c}\r\n`).join('')}`).join(''), type: 'text/csv' };
    // Twenty-sixth pass: the record as a token's claims (php-jwt: json_encode's `\/`; a Go JWT
    // library: `\u0026`), base64 of a query string of its headers (an OAuth `state`), long tokens in
    // small capitals, shifted 7 and upper-cased, in parenthesized letters and dingbat digits, and as
    // Python's `[bin(b) for b in token]`.
    case 'jwt-php': return { text: `{"token":"eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.${Buffer.from(json.replace(/\//g, '\\/')).toString('base64url')}.c2ln"}`, type: 'application/json' };
    case 'jwt-go': return { text: `{"token":"eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.${Buffer.from(json.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026')).toString('base64url')}.c2ln"}`, type: 'application/json' };
    case 'state-query': return { text: Buffer.from(new URLSearchParams(log.flatMap((r) => r.headers)).toString()).toString('base64'), type: 'text/plain' };
    case 'small-caps': return { text: json.replace(/[^\s"]{16,}/g, (w) => [...w].map((c) => SMALL_CAPS[c.toLowerCase()] ?? c).join('')), type: 'text/plain; charset=utf-8' };
    case 'caesar7-upper': return { text: json.replace(/[^\s"]{16,}/g, (w) => w.replace(/[a-z]/gi, (c) => String.fromCharCode(((c.toLowerCase().charCodeAt(0) - 97 + 7) % 26) + 65))), type: 'text/plain' };
    case 'enclosed': return { text: json.replace(/[^\s"]{16,}/g, (w) => [...w].map((c) => (/[a-z]/.test(c) ? String.fromCodePoint(0x249c + c.charCodeAt(0) - 97) : /[A-Z]/.test(c) ? String.fromCodePoint(0x1f110 + c.charCodeAt(0) - 65) : /[1-9]/.test(c) ? String.fromCodePoint(0x2776 + c.charCodeAt(0) - 49) : c)).join('')), type: 'text/plain; charset=utf-8' };
    case 'bin-list': return { text: JSON.stringify(json.match(/[^\s"]{16,}/g)!.map((w) => `[${[...Buffer.from(w)].map((b) => `'0b${b.toString(2)}'`).join(', ')}]`)), type: 'application/json' };
    // Twenty-seventh pass: the record in other base64 alphabets (crypt's, bcrypt's, xxencode's,
    // BinHex's), in crypt's little-endian packing, in Base45, as an RTF export (every character
    // `\'hh`, or `\uN?`; the document also inside a JSON string), as TeX escapes, and zlib in base64.
    case 'bcrypt64': return { text: otherBase64(Buffer.from(json), ALPHABETS64.bcrypt), type: 'text/plain' };
    case 'crypt64': return { text: otherBase64(Buffer.from(json), ALPHABETS64.crypt), type: 'text/plain' };
    case 'h64': return { text: h64(Buffer.from(json)), type: 'text/plain' };
    case 'xxencode': return { text: otherBase64(Buffer.from(json), ALPHABETS64.xxencode), type: 'text/plain' };
    case 'binhex': return { text: otherBase64(Buffer.from(json), ALPHABETS64.binhex), type: 'text/plain' };
    case 'base45': return { text: base45(Buffer.from(json)), type: 'text/plain' };
    case 'rtf-hex': return { text: rtf(json, 'hex'), type: 'application/rtf' };
    case 'rtf-u': return { text: rtf(json, 'u'), type: 'text/rtf' };
    case 'rtf-json': return { text: JSON.stringify({ name: 'log.rtf', document: rtf(json, 'hex') }), type: 'application/json' };
    case 'tex': return { text: tex(json), type: 'application/x-tex' };
    // A macro or a Java source generated from the record: its long tokens as `Chr(115) & Chr(107) & …`, or as `\uuu0073` escapes.
    case 'vb-chr': return { text: json.replace(/[^\s"]{16,}/g, (w) => `" & ${[...w].map((c) => `Chr(${c.charCodeAt(0)})`).join(' & ')} & "`), type: 'text/plain' };
    case 'java-uuu': return { text: `String log = "${json.replace(/[^\s"]{16,}/g, (w) => [...w].map((c) => `\\uuu${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')).replace(/"/g, '\\"')}";`, type: 'text/x-java' };
    // Python's `base64.b64encode(zlib.compress(record, 9))` in a JSON field.
    // The record as a Helm release in a Kubernetes Secret (`kubectl get secret -o json`): base64 of base64 of gzip.
    // Twenty-eighth pass: a "spell it out" view of each token — Morse code (a mark it has no code for
    // as `?`), the NATO alphabet (`capital` before an upper-case letter, a mark as itself), Python's
    // `\N{…}` names (an `ascii()`-like dump that names each character).
    case 'morse': return { text: spelt(json, (w) => ` ${[...w.toLowerCase()].map((c) => MORSE[c] ?? '?').join(' ')} `), type: 'text/plain' };
    case 'nato': return { text: spelt(json, (w) => ` ${[...w].map((c) => (/[A-Z]/.test(c) ? 'capital ' : '') + (NATO[c.toLowerCase()] ?? c)).join(', ')} `), type: 'text/plain' };
    case 'py-names': return { text: spelt(json, (w) => [...w].map(pyName).join('')), type: 'text/plain' };
    // Twenty-eighth pass: the record base64 three layers deep, its hex as base64, its base64 under ROT13, in a JSON export's field.
    case 'base64-thrice': return { text: JSON.stringify({ kind: 'Export', id: 7, data: Buffer.from(Buffer.from(Buffer.from(json).toString('base64')).toString('base64')).toString('base64') }), type: 'application/json' };
    case 'hex-base64': return { text: JSON.stringify({ kind: 'Export', id: 7, data: Buffer.from(Buffer.from(json).toString('hex')).toString('base64') }), type: 'application/json' };
    case 'rot13-base64': return { text: JSON.stringify({ kind: 'Export', id: 7, data: rot13(Buffer.from(json).toString('base64')) }), type: 'application/json' };
    case 'helm-secret': return { text: JSON.stringify({ kind: 'Secret', type: 'helm.sh/release.v1', data: { release: Buffer.from(zlib.gzipSync(Buffer.from(json)).toString('base64')).toString('base64') } }), type: 'application/json' };
    case 'zlib-field': return { text: JSON.stringify({ export: zlib.deflateSync(Buffer.from(json), { level: 9 }).toString('base64') }), type: 'application/json' };
    case 'node-buffer-pretty': return { text: JSON.stringify({ raw: Buffer.from(json) }, null, 2), type: 'application/json' };
    case 'typed-array': return { text: JSON.stringify({ raw: new Uint8Array(Buffer.from(json)) }), type: 'application/json' };
    case 'inspect': return { text: util.inspect(new Uint8Array(Buffer.from(json)), { maxArrayLength: null }), type: 'text/plain' };
    case 'c-array': return { text: `unsigned char raw[] = {\n${[...Buffer.from(json)].map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(', ').replace(/((?:0x.., ){12})/g, '$1\n').replace(/ \n/g, '\n  ')}\n};`, type: 'text/plain' };
    // A plain-text view wrapped to a narrow column, long words broken (Python's textwrap and
    // Jinja's `wordwrap`, PHP's `wordwrap(…, true)`, `fold`), continuation lines indented.
    case 'wrapped': return { text: json.replace(/.{20}(?=.)/g, '$&\n    '), type: 'text/plain' };
    // A login redirect's page: the request URL (with the record) as the `next=` of another URL.
    case 'percent-twice': return { text: `<a href="/login?next=${encodeURIComponent(encodeURIComponent(json))}">sign in</a>`, type: 'text/html' };
  }
}

const ebcdic037: Record<string, number> = Object.fromEntries([
  ...'abcdefghi'.split('').map((c, i) => [c, 0x81 + i]), ...'jklmnopqr'.split('').map((c, i) => [c, 0x91 + i]), ...'stuvwxyz'.split('').map((c, i) => [c, 0xa2 + i]),
  ...'ABCDEFGHI'.split('').map((c, i) => [c, 0xc1 + i]), ...'JKLMNOPQR'.split('').map((c, i) => [c, 0xd1 + i]), ...'STUVWXYZ'.split('').map((c, i) => [c, 0xe2 + i]),
  ...'0123456789'.split('').map((c, i) => [c, 0xf0 + i]),
  [' ', 0x40], ['.', 0x4b], ['<', 0x4c], ['(', 0x4d], ['+', 0x4e], ['&', 0x50], ['!', 0x5a], ['$', 0x5b], ['*', 0x5c], [')', 0x5d], [';', 0x5e], ['-', 0x60], ['/', 0x61],
  [',', 0x6b], ['%', 0x6c], ['_', 0x6d], ['>', 0x6e], ['?', 0x6f], [':', 0x7a], ['#', 0x7b], ['@', 0x7c], ["'", 0x7d], ['=', 0x7e], ['"', 0x7f], ['[', 0xba], [']', 0xbb],
  ['{', 0xc0], ['}', 0xd0], ['\\', 0xe0], ['~', 0xa1], ['^', 0xb0], ['|', 0x4f], ['`', 0x79], ['\n', 0x25], ['\r', 0x0d],
]);

function utf7(text: string): string {
  const direct = /[A-Za-z0-9'(),\-./:? \r\n]/;
  let out = '';
  let pending = '';
  const flush = (): void => {
    if (!pending) return;
    out += `+${Buffer.from(pending, 'utf16le').swap16().toString('base64').replace(/=+$/, '')}-`;
    pending = '';
  };
  for (const c of text) {
    if (direct.test(c)) {
      flush();
      out += c;
    } else {
      pending += c;
    }
  }
  flush();
  return out;
}

/** Text in a charset, the way a server transcoding for Accept-Charset writes it. */
export function transcode(text: string, charset: Charset, bom: boolean): Buffer {
  switch (charset) {
    case 'utf-8': return Buffer.concat([bom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0), Buffer.from(text, 'utf8')]);
    case 'utf-16le': return Buffer.from((bom ? '\ufeff' : '') + text, 'utf16le');
    case 'utf-16be': return Buffer.from((bom ? '\ufeff' : '') + text, 'utf16le').swap16();
    case 'utf-16': return Buffer.from('\ufeff' + text, 'utf16le').swap16();
    case 'utf-32le':
    case 'utf-32be': {
      const cps = [...((bom ? '\ufeff' : '') + text)].map((c) => c.codePointAt(0)!);
      const b = Buffer.alloc(cps.length * 4);
      cps.forEach((cp, i) => (charset === 'utf-32le' ? b.writeUInt32LE(cp, i * 4) : b.writeUInt32BE(cp, i * 4)));
      return b;
    }
    case 'iso-8859-1':
    case 'windows-1252':
    case 'us-ascii':
    case 'shift_jis': return Buffer.from(text, 'latin1');
    case 'iso-2022-jp': return Buffer.from(`\x1b(B${text}\x1b(B`, 'latin1');
    case 'utf-7': return Buffer.from((bom ? '+/v8-' : '') + utf7(text), 'latin1');
    case 'ibm037': return Buffer.from([...text].map((c) => ebcdic037[c] ?? 0x6f));
  }
}

/** The first charset of an Accept-Charset value this service can write (q-values in order). */
function negotiate(accept: string | undefined): Charset {
  const wanted = (accept ?? '').split(',').map((p) => {
    const [name, ...params] = p.trim().split(';');
    const q = Number(params.find((x) => x.trim().startsWith('q='))?.trim().slice(2) ?? 1);
    return { name: name!.trim().toLowerCase(), q };
  }).filter((x) => x.name && x.q > 0).sort((a, b) => b.q - a.q);
  return (wanted.map((w) => w.name).find((n) => (charsets as readonly string[]).includes(n)) as Charset | undefined) ?? 'utf-8';
}

interface ByteRange {
  start: number;
  end: number;
}

/** RFC 9110 ranges of a representation of `size` bytes, or undefined when the header does not apply. */
function parseRanges(header: string, size: number): ByteRange[] | undefined {
  const m = /^\s*bytes\s*=\s*(.+)$/i.exec(header);
  if (!m) return undefined;
  const out: ByteRange[] = [];
  for (const spec of m[1]!.split(',')) {
    const r = /^\s*(\d*)\s*-\s*(\d*)\s*$/.exec(spec);
    if (!r || (!r[1] && !r[2])) return undefined;
    if (!r[1]) out.push({ start: Math.max(0, size - Number(r[2])), end: size - 1 });
    else out.push({ start: Number(r[1]), end: r[2] ? Math.min(size - 1, Number(r[2])) : size - 1 });
  }
  return out.filter((x) => x.start <= x.end && x.start < size);
}

export function sendRepresentation(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, type: string): void {
  const etag = `"${crypto.createHash('sha1').update(body).digest('hex').slice(0, 16)}"`;
  res.setHeader('accept-ranges', 'bytes');
  res.setHeader('etag', etag);
  const range = req.headers.range;
  const ifRange = req.headers['if-range'];
  const ranges = range && (!ifRange || ifRange === etag) ? parseRanges(range, body.length) : undefined;
  if (!ranges || !ranges.length) {
    res.writeHead(200, { ...(type ? { 'content-type': type } : {}), 'content-length': body.length });
    res.end(body);
    return;
  }
  if (ranges.length === 1) {
    const { start, end } = ranges[0]!;
    res.writeHead(206, { 'content-type': type, 'content-range': `bytes ${start}-${end}/${body.length}`, 'content-length': end - start + 1 });
    res.end(body.subarray(start, end + 1));
    return;
  }
  const boundary = `b${crypto.randomBytes(6).toString('hex')}`;
  const parts = ranges.map(({ start, end }) => Buffer.concat([
    Buffer.from(`--${boundary}\r\ncontent-type: ${type}\r\ncontent-range: bytes ${start}-${end}/${body.length}\r\n\r\n`),
    body.subarray(start, end + 1), Buffer.from('\r\n'),
  ]));
  const all = Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`)]);
  res.writeHead(206, { 'content-type': `multipart/byteranges; boundary=${boundary}`, 'content-length': all.length });
  res.end(all);
}

export interface Service {
  handler: (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void;
  /** Hooks WebSocket upgrades (/ws) onto the server. */
  attach(server: http.Server): void;
  /** What the service recorded, by Host (without port). */
  log(host: string): Recorded[];
  /** Live channels (tail, long poll, WebSocket tail) open on a host ('*': on every name), waiting for its next request. */
  watching(host: string): number;
}

export function readbackService(): Service {
  const logs = new Map<string, Recorded[]>();
  const watchers = new Map<string, Set<(r: Recorded) => void>>();
  const hostOf = (req: http.IncomingMessage): string => String(req.headers.host ?? '').replace(/:\d+$/, '');
  /** Calls `fn` with each request to /api/ on `host` from now on; returns the unsubscribe. */
  const watch = (host: string, fn: (r: Recorded) => void): (() => void) => {
    const set = watchers.get(host) ?? watchers.set(host, new Set()).get(host)!;
    set.add(fn);
    return () => set.delete(fn);
  };
  const record = (req: http.IncomingMessage, body: Buffer): void => {
    const list = logs.get(hostOf(req)) ?? [];
    const headers: Array<[string, string]> = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
    const form = req.url?.startsWith('/api/form') ? formAsJetty(body, String(req.headers['content-type'] ?? '')) : undefined;
    const r = { method: req.method ?? '', url: req.url ?? '', headers, body: form ?? body.toString('utf8') };
    list.push(r);
    if (list.length > 500) list.shift();
    logs.set(hostOf(req), list);
    if (r.url.startsWith('/api/')) for (const fn of [...(watchers.get(hostOf(req)) ?? []), ...(watchers.get('*') ?? [])]) fn(r);
  };
  /** How a live channel shows one record: ?format= (default json), or ?only=<header> for that header's values. */
  const show = (url: URL, r: Recorded): string => {
    const only = url.searchParams.get('only');
    return only ? r.headers.filter(([k]) => k.toLowerCase() === only).map(([, v]) => v).join('\n') : represent([r], (url.searchParams.get('format') ?? 'json') as Format).text;
  };
  const wss = new WebSocketServer({ noServer: true });
  return {
    log: (host) => logs.get(host) ?? [],
    watching: (host) => watchers.get(host)?.size ?? 0,
    attach(server) {
      server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
        const url = new URL(req.url ?? '/', 'http://x');
        if (url.pathname === '/ws-tail') {
          // Each request recorded from now on, one message each (binary with ?binary=1).
          wss.handleUpgrade(req, socket, head, (ws) => {
            const off = watch(url.searchParams.get('all') === '1' ? '*' : hostOf(req), (r) => ws.send(show(url, r), { binary: url.searchParams.get('binary') === '1' }));
            ws.on('close', off);
          });
          return;
        }
        if (url.pathname === '/tail' || url.pathname === '/wait') {
          // No WebSocket here: the handshake is answered as the plain GET it also is (200, not 101).
          const res = new http.ServerResponse(req);
          res.assignSocket(socket);
          res.shouldKeepAlive = false;
          socket.on('end', () => socket.destroy());
          this.handler(req, res, Buffer.alloc(0));
          return;
        }
        const log = (logs.get(hostOf(req)) ?? []).filter((r) => r.url.startsWith('/api/'));
        const format = new URL(req.url ?? '/', 'http://x').searchParams.get('format') as Format | null;
        wss.handleUpgrade(req, socket, head, (ws) => {
          ws.send(format ? represent(log, format).text : JSON.stringify(log));
          ws.close();
        });
      });
    },
    handler(req, res, body) {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/log') {
        // The record of the requests to /api/ on this host (what an agent wants to read back), or
        // with ?all=1 on every name the server answers to (a single-tenant server ignores Host).
        const log = (url.searchParams.get('all') === '1' ? [...logs.values()].flat() : logs.get(hostOf(req)) ?? []).filter((r) => r.url.startsWith('/api/'));
        const only = url.searchParams.get('only');
        const format = (url.searchParams.get('format') ?? 'json') as Format;
        const charset = (url.searchParams.get('charset') as Charset | null) ?? negotiate(req.headers['accept-charset'] as string | undefined);
        const bom = url.searchParams.get('bom') === '1';
        const label = url.searchParams.get('label') !== '0';
        const { text, type } = only
          ? { text: log.flatMap((r) => r.headers.filter(([k]) => k.toLowerCase() === only).map(([, v]) => v)).join('\n'), type: 'text/plain' }
          : represent(log, format);
        record(req, body);
        const part = url.searchParams.get('part');
        if (part !== null) {
          // A multipart answer (or a message/rfc822 export) whose part declares its own charset,
          // as MIME readers (Python's email package, mail clients) decode it; the envelope has none.
          const headerLines = `Content-Type: text/plain; charset=${charset}\r\n\r\n`;
          // Twenty-ninth pass: ?words=b12 / q7 — the record also as the Subject, RFC 2047 encoded-words
          // (B or Q) of that many bytes each, as a mailer's header encoder splits a long value (Python's
          // email.header: at its line length), blanks (or, with ?fold=1, a folded line) between.
          const words = url.searchParams.get('words');
          const subject = words ? encodedWords(text, words[0] === 'q' ? 'q' : 'b', Math.max(1, Number(words.slice(1)) || 1), url.searchParams.get('fold') === '1' ? '\r\n ' : ' ') : 'request log';
          const page = part === 'message/rfc822'
            ? Buffer.concat([Buffer.from(`Subject: ${subject}\r\n${headerLines}`), transcode(words ? 'see the subject' : text, charset, false)])
            : Buffer.concat([Buffer.from(`--part-b\r\n${headerLines}`), transcode(text, charset, false), Buffer.from('\r\n--part-b--\r\n')]);
          const cut = url.searchParams.get('cut');
          if (words && cut !== null) {
            // Written in two pieces (a chunk boundary inside the run of words).
            const at = Math.min(page.length, Number(cut));
            res.writeHead(200, { 'content-type': part });
            res.write(page.subarray(0, at));
            setTimeout(() => res.end(page.subarray(at)), 15);
            return;
          }
          sendRepresentation(req, res, page, part === 'message/rfc822' ? part : `${part}; boundary=part-b`);
          return;
        }
        const meta = url.searchParams.get('meta');
        if (meta !== null) {
          // An HTML page that declares its charset only in a <meta> tag, after `meta` bytes of head
          // (inline styles): parsers that look further than the standard's 1,024-byte prescan
          // (Beautiful Soup: 2,048 bytes or 5%; libxml2: anywhere in the head) decode it so.
          // The markup stays ASCII (Python's UTF-7 encoder writes < = " directly); the text is in the charset.
          const page = Buffer.concat([
            Buffer.from(`<!doctype html><html><head><style>${' '.repeat(Number(meta))}</style><meta charset="${charset}"></head><body><pre>`),
            transcode(htmlEscape(text), charset, false), Buffer.from('</pre></body></html>'),
          ]);
          sendRepresentation(req, res, page, 'text/html');
          return;
        }
        // ?type=0: no Content-Type at all (Python's http.server, a raw socket server); ?type=bin: a download.
        const as = { '0': '', bin: 'application/octet-stream' }[url.searchParams.get('type') ?? ''] ?? type;
        sendRepresentation(req, res, transcode(text, charset, bom), label && as ? `${as}; charset=${charset}` : as);
        return;
      }
      if (url.pathname === '/tail' || url.pathname === '/wait') {
        record(req, body);
        const charset = (url.searchParams.get('charset') as Charset | null) ?? negotiate(req.headers['accept-charset'] as string | undefined);
        if (url.pathname === '/wait') {
          // A long poll: answered by the next request recorded (in the representation and byte range asked for).
          const timer = setTimeout(() => { off(); res.writeHead(204).end(); }, 8000);
          const off = watch(url.searchParams.get('all') === '1' ? '*' : hostOf(req), (r) => {
            off();
            clearTimeout(timer);
            sendRepresentation(req, res, transcode(show(url, r), charset, false), `text/plain; charset=${charset}`);
          });
          res.on('close', () => { off(); clearTimeout(timer); });
          return;
        }
        // Server-sent events: a comment at once, then one event per request recorded; gzip flushed per event as compression middleware does.
        const gzip = url.searchParams.get('gzip') === '1';
        // ?as=: another Content-Type (a stream that clients parse whatever its type: sseclient, a fetch loop).
        res.writeHead(200, { 'content-type': `${url.searchParams.get('as') ?? 'text/event-stream'}; charset=${charset}`, 'cache-control': 'no-cache', ...(gzip ? { 'content-encoding': 'gzip' } : {}) });
        const z = gzip ? zlib.createGzip() : undefined;
        z?.pipe(res);
        const send = (text: string): void => {
          const bytes = transcode(text, charset, false);
          if (z) {
            z.write(bytes);
            z.flush(zlib.constants.Z_SYNC_FLUSH);
          } else {
            res.write(bytes);
          }
        };
        send(': ready\n\n');
        // Twelfth pass: ?cut=N sends the text N characters an event, each written on its own as a
        // terminal or a build log streams its output (?fields=1: with `id:` and `event:` lines,
        // ?ping=1: a keep-alive comment between events, ?crlf=1: CRLF line ends).
        const cut = Number(url.searchParams.get('cut') ?? 0);
        const eol = url.searchParams.get('crlf') === '1' ? '\r\n' : '\n';
        let id = 0;
        const event = (text: string): string => `${url.searchParams.get('fields') === '1' ? `id: ${++id}${eol}event: log${eol}` : ''}data: ${text.replace(/\r?\n/g, `${eol}data: `)}${eol}${eol}`;
        const off = watch(url.searchParams.get('all') === '1' ? '*' : hostOf(req), (r) => {
          const text = show(url, r);
          if (!cut) return send(event(text));
          const pieces = text.match(new RegExp(`[^]{1,${cut}}`, 'g')) ?? [];
          const next = (): void => {
            const piece = pieces.shift();
            if (piece === undefined || res.destroyed) return;
            send(event(piece) + (url.searchParams.get('ping') === '1' ? `: ping${eol}${eol}` : ''));
            setImmediate(next);
          };
          next();
        });
        res.on('close', off);
        return;
      }
      record(req, body);
      if (url.pathname === '/api/echo') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ url: req.url, headers: req.headers, body: body.toString('utf8') }));
        return;
      }
      if (url.pathname === '/api/download') {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': binaryBytes.length });
        res.end(binaryBytes);
        return;
      }
      if (url.pathname === '/api/gzip') {
        const json = Buffer.from(JSON.stringify({ items: Array.from({ length: 200 }, (_, i) => ({ i, name: `item ${i}` })) }));
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        res.end(zlib.gzipSync(json));
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ok: true, path: url.pathname }));
    },
  };
}

/**
 * A multipart form's fields as Jetty stores them (RFC 7578 §4.6): each in its part's own charset,
 * else the `_charset_` field's, else the request's `charset` parameter, else UTF-8; as JSON. A
 * charset Node cannot decode is kept as the bytes' latin1 (the test then looks at the refusal).
 */
function formAsJetty(body: Buffer, contentType: string): string | undefined {
  const boundary = /boundary=("?)([^";]+)\1/i.exec(contentType)?.[2];
  if (!boundary) return undefined;
  const parts = body.toString('latin1').split(`--${boundary}`).slice(1, -1).map((raw) => {
    const split = raw.indexOf('\r\n\r\n');
    const head = raw.slice(0, split);
    return { name: /name="([^"]*)"/.exec(head)?.[1] ?? '', charset: /content-type:[^\r\n]*charset=([^;\s\r\n]+)/i.exec(head)?.[1], content: Buffer.from(raw.slice(split + 4, -2), 'latin1') };
  });
  const fallback = parts.filter((p) => p.name === '_charset_').at(-1)?.content.toString('latin1') ?? /charset=([^;\s]+)/i.exec(contentType)?.[1] ?? 'utf-8';
  const decode = (b: Buffer, cs: string): string => { try { return new TextDecoder(cs).decode(b); } catch { return b.toString('latin1'); } };
  return JSON.stringify(Object.fromEntries(parts.map((p) => [p.name, decode(p.content, p.charset ?? fallback)])));
}

/** Splits a multipart/byteranges body into its parts' bytes (what a client reassembles). */
export function byteranges(body: Buffer, contentType: string): Buffer[] {
  const boundary = /boundary=("?)([^";]+)\1/.exec(contentType)?.[2];
  if (!boundary) return [body];
  const text = body.toString('latin1');
  return text.split(`--${boundary}`).slice(1, -1).map((p) => Buffer.from(p.slice(p.indexOf('\r\n\r\n') + 4).replace(/\r\n$/, ''), 'latin1'));
}

/** `xxd`'s layout: an 8-digit offset, 16 bytes as groups of 4 hex digits, two blanks and the bytes as text. */
function xxd(bytes: Buffer): string {
  const lines: string[] = [];
  for (let at = 0; at < bytes.length; at += 16) {
    const row = bytes.subarray(at, at + 16);
    const hex = (row.toString('hex').match(/.{1,4}/g) ?? []).join(' ');
    lines.push(`${at.toString(16).padStart(8, '0')}: ${hex.padEnd(39)}  ${[...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('')}`);
  }
  return `${lines.join('\n')}\n`;
}

/** `text` as RFC 2047 encoded-words in UTF-8, `size` bytes each (B: base64; Q: Python's quoprimime.header_encode), `gap` between. */
export function encodedWords(text: string, kind: 'b' | 'q', size: number, gap: string): string {
  const bytes = Buffer.from(text, 'utf8');
  const out: string[] = [];
  for (let i = 0; i < bytes.length; i += size) {
    const piece = bytes.subarray(i, i + size);
    const body = kind === 'b' ? piece.toString('base64') : [...piece].map((b) => (b === 0x20 ? '_' : /[A-Za-z0-9!*+\-/]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
    out.push(`=?utf-8?${kind}?${body}?=`);
  }
  return out.join(gap);
}
