// How a decoder could read a piece of request text: escapes of every family decoded, quoted-
// printable decoded, line breaks and whitespace removed (wrapped base64 and hex). Detection of
// placeholders and of real secret values searches each reading for a few exact strings, which is
// much cheaper on the hot path than matching every spelling (proxy/spellings.ts) directly. Pure.
import { lookupTable } from '../lib/records.ts';

const namedRefs: Readonly<Record<string, string>> = lookupTable({
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", sol: '/', plus: '+', equals: '=', percnt: '%', colon: ':', semi: ';',
  num: '#', excl: '!', quest: '?', commat: '@', lowbar: '_', period: '.', comma: ',', dollar: '$', bsol: '\\', ast: '*',
  lpar: '(', rpar: ')', lsqb: '[', rsqb: ']', lcub: '{', rcub: '}', verbar: '|', grave: '`', Hat: '^', NewLine: '\n', Tab: '\t',
});

const utf8Latin1 = (cp: number): string => Buffer.from(String.fromCodePoint(cp), 'utf8').toString('latin1');

/** Every escape family decoded, left to right (latin1 in, latin1 UTF-8 bytes out). */
const ESCAPES = /%([0-9A-Fa-f]{2})|\\x([0-9A-Fa-f]{2})|\\u([dD][89aAbB][0-9A-Fa-f]{2})\\u([dD][c-fC-F][0-9A-Fa-f]{2})|\\u([0-9A-Fa-f]{4})|\\u\{([0-9A-Fa-f]{1,6})\}|&#[xX]([0-9A-Fa-f]{1,6});?|&#([0-9]{1,7});?|&([A-Za-z]{2,8});|\\([^A-Za-z0-9])|\\([nrtbfv])/g;
const shortEscapes: Readonly<Record<string, string>> = lookupTable({ n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', v: '\v' });

/** Every escape family decoded, left to right, and again (up to three times) for doubly encoded text (%2561). */
export function unescapeAll(text: string): string {
  let out = unescapeOnce(text);
  for (let i = 0; i < 2 && /[%\\&]/.test(out); i++) {
    const again = unescapeOnce(out);
    if (again === out) break;
    out = again;
  }
  return out;
}

function unescapeOnce(text: string): string {
  return text.replace(ESCAPES, (m, pct?: string, x?: string, hi?: string, lo?: string, u?: string, ub?: string, hx?: string, dec?: string, name?: string, ident?: string, short?: string) => {
    if (pct ?? x) return String.fromCharCode(parseInt((pct ?? x)!, 16));
    if (hi && lo) return utf8Latin1(0x10000 + ((parseInt(hi, 16) - 0xd800) << 10) + (parseInt(lo, 16) - 0xdc00));
    const cp = u ? parseInt(u, 16) : ub ? parseInt(ub, 16) : hx ? parseInt(hx, 16) : dec ? Number(dec) : undefined;
    if (cp !== undefined) return cp <= 0x10ffff ? utf8Latin1(cp) : m;
    if (name) return namedRefs[name] ?? m;
    if (ident) return ident;
    return shortEscapes[short!] ?? m;
  });
}

/** Quoted-printable decoded: =XX and soft line breaks. */
export function unQuotedPrintable(text: string): string {
  return text.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** Line breaks and whitespace removed (wrapped base64 or hex reads as one run), also JSON's "\n". */
export function unwrap(text: string): string {
  return text.replace(/\s+|\\[rnt]|=\r?\n/g, '');
}

const isBase64Char = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2b || c === 0x2f || c === 0x5f || c === 0x2d;

/** Whether the 8 characters before `end` are base64/hex characters. */
function runBefore(text: string, end: number): boolean {
  if (end < 8) return false;
  for (let k = end - 8; k < end; k++) if (!isBase64Char(text.charCodeAt(k))) return false;
  return true;
}

/**
 * The readings of `text` a decoder could make, each to be searched for exact forms. `spaces`: look
 * for a form-encoded reading too ('+' as a space), only worth it when some value has a space.
 */
export function readings(text: string, spaces = true): string[] {
  const out = [text];
  // A reading is made only when its decoder would change something, and kept only when it did.
  const add = (r: string): void => void (r !== text && out.push(r));
  if (/[%\\&]/.test(text)) add(unescapeAll(text));
  if (spaces && text.includes('+')) add(unescapeAll(text.replace(/\+/g, ' ')));
  if (/=(?:[0-9A-Fa-f]{2}|\r?\n)/.test(text)) add(unQuotedPrintable(text));
  if (mayBeWrapped(text)) for (const r of [...out]) out.push(unwrap(r));
  return out;
}

/**
 * Whether `text` may hold a spelling wrapped over lines (so unwrap(text) is worth a look): a line
 * break (also quoted-printable's "=\r\n", JSON's "\n", a tab) right after 8 base64/hex characters.
 */
export function mayBeWrapped(text: string): boolean {
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) {
    let end = i;
    if (text.charCodeAt(end - 1) === 0x0d) end--;
    if (text.charCodeAt(end - 1) === 0x3d) end--;
    if (runBefore(text, end)) return true;
  }
  for (const brk of ['\\n', '\\r', '\t']) {
    for (let i = text.indexOf(brk); i !== -1; i = text.indexOf(brk, i + 1)) if (runBefore(text, i)) return true;
  }
  return false;
}

