// Request text in the charset it declares, read as the server will decode it, for the credential
// guard. The guard's matcher reads UTF-8 and every ASCII-compatible charset as bytes, and UTF-16/32
// through strided views; what it cannot read as bytes is text whose ASCII letters are spelled
// otherwise: ISO-2022-JP, where escape sequences between letters decode to nothing
// (`ESC ( B s ESC ( B k` is "sk" to Python's and the WHATWG decoder), percent-escaped bytes that a
// form parser decodes in the form's declared charset (`%73%00%6B%00` under `charset=utf-16le`, as
// Django's QueryDict does), a multipart part's own `charset` (busboy, Python's email package), and
// RFC 2231/5987 extended parameters (`filename*=utf-16le''%73%00…`, decoded by Werkzeug, busboy,
// Python's email package). These readings are made here, so the guard can look at them too; a
// charset no decoder here knows (UTF-7, EBCDIC code pages: Python decodes both) is reported, so
// the guard refuses what it cannot read. Pure.
import { parseMediaType } from '../describe/body.ts';
import { formDefaultCharsets, isFileHead } from '../describe/multipart.ts';
import { multipartParts, type MimePart } from './mime-parts.ts';
import { charsetParams, charsetProblem } from './scrubbable.ts';
import { asLatin1 } from './secret-values.ts';
import { appendAll } from '../lib/arrays.ts';

/** A label as written in a parameter: unquoted, lowercase. */
function cleanLabel(label: string): string {
  return label.trim().replace(/^["']|["']$/g, '').toLowerCase();
}

/** Labels that are not charsets but say "bytes as they are" (servers do not decode them). */
const notCharsets = new Set(['binary', '8bit', '7bit']);

/**
 * Whether text under `label` must be decoded to be matched: a charset whose bytes do not spell
 * every secret as UTF-8 does (`asciiOnly`: every secret is ASCII, so ASCII-compatible charsets
 * spell it the same).
 */
export function needsDecoding(label: string, asciiOnly: boolean): boolean {
  const name = cleanLabel(label);
  if (!name || notCharsets.has(name)) return false;
  return charsetProblem(name, asciiOnly) !== undefined;
}

/** The UTF-16 and UTF-32 labels (the guard's strided views read such text as bytes). */
export function isWideLabel(label: string): boolean {
  return /^(utf-?(16|32)(le|be)?|ucs-?[24]|iso-10646-ucs-[24]|unicode)$/.test(cleanLabel(label));
}

function utf32(bytes: Buffer, littleEndian: boolean): string {
  let out = '';
  for (let i = 0; i + 4 <= bytes.length; i += 4) {
    const cp = littleEndian ? bytes.readUInt32LE(i) : bytes.readUInt32BE(i);
    out += cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? String.fromCodePoint(cp) : '\ufffd';
  }
  return out;
}

/**
 * `bytes` decoded under `label` (both byte orders where the label leaves it open, invalid
 * sequences replaced as lenient servers do), or undefined for a charset no decoder here knows.
 */
export function decodeIn(bytes: Buffer, label: string): string[] | undefined {
  const name = cleanLabel(label);
  if (/^(utf-?32|ucs-?4|iso-10646-ucs-4)$/.test(name)) return [utf32(bytes, true), utf32(bytes, false)];
  if (name === 'utf-32le' || name === 'utf32le') return [utf32(bytes, true)];
  if (name === 'utf-32be' || name === 'utf32be') return [utf32(bytes, false)];
  // "utf-16" without a byte order mark: little-endian to WHATWG and most servers, big-endian to RFC 2781.
  const labels = /^(utf-?16|ucs-?2|iso-10646-ucs-2|unicode)$/.test(name) ? ['utf-16le', 'utf-16be'] : [name];
  try {
    return labels.map((l) => decoderFor(l).decode(bytes));
  } catch {
    return undefined; // an unknown label, or one WHATWG maps to "replacement" (ISO-2022-KR, HZ)
  }
}

/**
 * One decoder per label, reused: a form is decoded field by field, and constructing a TextDecoder
 * costs more than decoding a short field (a MiB form of `a=&` in UTF-16, 700,000 constructions,
 * held the event loop ~3 s). Only labels TextDecoder knows are kept (a few dozen in all).
 */
const decoders = new Map<string, TextDecoder>();
function decoderFor(label: string): TextDecoder {
  let d = decoders.get(label);
  if (!d) {
    d = new TextDecoder(label); // throws for an unknown label: nothing kept
    decoders.set(label, d);
  }
  return d;
}

/** The value of a hex digit's character code, or -1. */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x57 : -1;
}

/** Percent escapes undone to bytes (`+` as a blank when `plus`), the rest of the text as it is (latin1). */
export function percentBytes(text: string, plus: boolean): Buffer {
  const out = Buffer.allocUnsafe(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const hi = c === 0x25 && i + 2 < text.length ? hexValue(text.charCodeAt(i + 1)) : -1;
    const lo = hi >= 0 ? hexValue(text.charCodeAt(i + 2)) : -1;
    if (lo >= 0) {
      out[n++] = hi * 16 + lo;
      i += 2;
    } else out[n++] = plus && c === 0x2b ? 0x20 : c & 0xff;
  }
  return out.subarray(0, n);
}

export interface Readings {
  /** Decoded texts (latin1 UTF-8, as the matcher reads) to look at besides the bytes as sent. */
  texts: string[];
  /** Set when some text declares a charset no decoder here knows: what and where. */
  unknown?: string;
}

/**
 * The RFC 2231/5987 extended parameters of a header value (`name*=charset'lang'%XX…`, also in
 * continuations `name*0*=`, `name*1*=`, `name*1=`), decoded in their charset.
 */
export function extendedParameters(value: string, out: Readings): void {
  if (!value.includes('*')) return;
  const groups = new Map<string, Array<{ index: number; encoded: boolean; text: string }>>();
  for (const segment of value.split(';')) {
    const eq = segment.indexOf('=');
    if (eq < 0) continue;
    const key = segment.slice(0, eq).trim().toLowerCase();
    const star = key.indexOf('*');
    if (star < 0) continue;
    const rest = key.slice(star + 1);
    const encoded = rest.endsWith('*') || rest === '';
    const index = Number(rest.replace(/\*$/, '') || '0');
    if (!Number.isInteger(index) || index < 0 || index > 999) continue;
    const text = segment.slice(eq + 1).trim().replace(/^"|"$/g, '');
    const list = groups.get(key.slice(0, star)) ?? [];
    list.push({ index, encoded, text });
    groups.set(key.slice(0, star), list);
  }
  for (const [name, parts] of groups) {
    parts.sort((a, b) => a.index - b.index);
    const first = parts[0]!;
    if (!first.encoded) continue;
    const q1 = first.text.indexOf("'");
    const q2 = q1 < 0 ? -1 : first.text.indexOf("'", q1 + 1);
    if (q2 < 0) continue;
    const charset = first.text.slice(0, q1) || 'utf-8';
    const bytes = Buffer.concat(parts.map((p, i) => {
      const text = i === 0 ? p.text.slice(q2 + 1) : p.text;
      return p.encoded ? percentBytes(text, false) : Buffer.from(text, 'latin1');
    }));
    const decoded = decodeIn(bytes, charset);
    if (decoded) appendAll(out.texts, decoded.map(asLatin1));
    else out.unknown ??= `the parameter ${name.slice(0, 40)}* declares charset ${JSON.stringify(charset.slice(0, 40))}`;
  }
}

/**
 * Fields of a form (or query string) decoded one by one in a charset, at most. Each costs a decoder
 * call and two buffers: a MiB form of `a=&` in UTF-16 (700,000 fields) held the event loop 3-6 s
 * before the request was forwarded. No real form in UTF-16 or EBCDIC has so many.
 */
export const MAX_DECODED_FORM_FIELDS = 10_000;

/**
 * A form's (or a query string's) names and values, percent-decoded to bytes and decoded in the
 * charset `label`. Django decodes the query string too in the charset of the request's
 * Content-Type, so a GET can carry one. `error` when the charset is unknown or the form has more
 * than MAX_DECODED_FORM_FIELDS fields (it cannot be checked: fail closed).
 */
export function formTexts(text: string, label: string): { texts: string[] } | { error: string } {
  const pairs = text.split(/[&;]/);
  if (pairs.length > MAX_DECODED_FORM_FIELDS / 2) {
    return { error: `has more than ${MAX_DECODED_FORM_FIELDS / 2} fields in charset ${JSON.stringify(label.slice(0, 40))}` };
  }
  const texts: string[] = [];
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    for (const field of eq < 0 ? [pair] : [pair.slice(0, eq), pair.slice(eq + 1)]) {
      const bytes = percentBytes(field, true);
      if (!bytes.length) continue;
      const decoded = decodeIn(bytes, label);
      if (!decoded) return { error: `declares charset ${JSON.stringify(label.slice(0, 40))}` };
      appendAll(texts, decoded);
    }
  }
  return { texts };
}

/**
 * The encoding an XML document declares in its first line (`<?xml version="1.0" encoding="…"?>`):
 * an XML parser given the body's bytes (lxml, Java's) decodes it so, whatever the Content-Type says.
 */
function xmlDeclared(bytes: Buffer): string | undefined {
  let head = bytes.subarray(0, 512).toString('latin1');
  if (head.startsWith('\xef\xbb\xbf')) head = head.slice(3);
  head = head.trimStart();
  if (!head.startsWith('<?xml')) return undefined;
  const end = head.indexOf('?>');
  return /\bencoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']/.exec(head.slice(5, end < 0 ? head.length : end))?.[1];
}

/** The first and the last of a list (what first-wins and last-wins readers take), once each. */
export function firstAndLast<T>(list: T[]): T[] {
  return list.length <= 1 ? list : list[0] === list[list.length - 1] ? [list[0]!] : [list[0]!, list[list.length - 1]!];
}

/**
 * The `charset` parameters of Content-Type values that some server reads: of a repeated
 * parameter the first (Python's email package) and the last (Werkzeug, Django), of repeated
 * headers the first (Node) and the last.
 */
export function charsetsOf(contentTypes: string[]): string[] {
  const out: string[] = [];
  for (const value of firstAndLast(contentTypes)) {
    const labels: string[] = [];
    for (const p of value.split(';').slice(1)) {
      const eq = p.indexOf('=');
      if (eq > 0 && p.slice(0, eq).trim().toLowerCase() === 'charset') labels.push(cleanLabel(p.slice(eq + 1)));
    }
    out.push(...firstAndLast(labels));
  }
  return [...new Set(out.filter(Boolean))];
}

/** The charsets a body is declared in: its Content-Types' `charset`s, an XML declaration's encoding. */
export function declaredCharsets(bytes: Buffer, contentTypes: string[]): string[] {
  const xml = xmlDeclared(bytes);
  return [...new Set([...charsetsOf(contentTypes), ...(xml ? [cleanLabel(xml)] : [])])];
}

/**
 * The readings of a whole request body (content codings already undone) that its declared
 * charsets call for: the body in each charset (its Content-Types', its XML declaration's), a
 * form's fields in the form's charsets, each multipart part in its own charsets (a field without one in the form's default, formDefaultCharsets), and the parts'
 * extended parameters. Only charsets the matcher cannot read as bytes are decoded, so an ordinary
 * UTF-8 body costs a look at its type and first bytes.
 */
export function bodyReadings(bytes: Buffer, contentTypes: string[], asciiOnly: boolean): Readings {
  const out: Readings = { texts: [] };
  const types = contentTypes.map((v) => parseMediaType(v).type);
  const form = types.includes('application/x-www-form-urlencoded');
  for (const label of declaredCharsets(bytes, contentTypes)) {
    if (!needsDecoding(label, asciiOnly)) continue;
    const fields = form ? formTexts(bytes.toString('latin1'), label) : { texts: [] };
    if ('error' in fields && decodeIn(Buffer.alloc(0), label)) {
      out.unknown ??= `the form body ${fields.error}`;
      continue;
    }
    const texts = [...(decodeIn(bytes, label) ?? []), ...('texts' in fields ? fields.texts : [])];
    if (texts.length || !bytes.length) appendAll(out.texts, texts.map(asLatin1));
    else out.unknown ??= `the body declares charset ${JSON.stringify(label.slice(0, 40))}`;
  }
  for (const contentType of firstAndLast(contentTypes).filter((v) => /^\s*multipart\//i.test(v))) {
    // A field that declares no charset is decoded in the form's default one (RFC 7578 §4.6: Jetty's
    // `_charset_` field, Tomcat's and Spring's top-level `charset`): twenty-first pass follow-up.
    const defaults = formDefaultCharsets(bytes, contentType).filter((l) => needsDecoding(l, asciiOnly));
    for (const part of multipartParts(bytes, contentType)) {
      const own = charsetsOf(part.headers['content-type'] ? [part.headers['content-type']] : []);
      for (const partLabel of own.length ? own : textField(part) ? defaults : []) {
        if (!needsDecoding(partLabel, asciiOnly)) continue;
        const texts = decodeIn(Buffer.from(part.content, 'latin1'), partLabel);
        if (texts) appendAll(out.texts, texts.map(asLatin1));
        else if (own.length) out.unknown ??= `a multipart part declares charset ${JSON.stringify(partLabel.slice(0, 40))}`;
        else out.unknown ??= `a multipart field declares no charset, and the form's default charset (its _charset_ field or its Content-Type's) is ${JSON.stringify(partLabel.slice(0, 40))}`;
      }
      for (const name of ['content-disposition', 'content-type']) {
        const v = part.headers[name];
        if (v) extendedParameters(v, out);
      }
    }
  }
  return out;
}

/**
 * Where a body substitution would put a real value into text its server decodes in a charset that
 * reads the value's bytes as other text (twenty-first pass follow-up): the body's declared charset,
 * a multipart part's own, a field's default one (formDefaultCharsets). The service would store the
 * value so (ASCII read as UTF-16 is CJK), no scrubber of what it shows back matches it, and the
 * agent encodes it back. `swaps`: each placeholder with the value it becomes. `anywhere`: the body
 * is cut at the capture cap, so the rest (where a placeholder may stand) is unseen. Undefined when
 * every such text reads the values as they are.
 */
export function misreadSubstitution(bytes: Buffer, contentTypes: string[], swaps: Array<{ placeholder: string; value: string }>, anywhere: boolean): string | undefined {
  const misread = (label: string): boolean => swaps.some(({ value }) => {
    const read = decodeIn(Buffer.from(value), label);
    return !read || read.some((r) => r !== value);
  });
  const holds = (text: string): boolean => anywhere || swaps.some(({ placeholder }) => text.includes(placeholder));
  const whole = bytes.toString('latin1');
  for (const label of declaredCharsets(bytes, contentTypes)) {
    if (!notCharsets.has(label) && misread(label) && holds(whole)) return `the body declares charset ${JSON.stringify(label.slice(0, 40))}`;
  }
  for (const contentType of firstAndLast(contentTypes).filter((v) => /^\s*multipart\//i.test(v))) {
    const defaults = formDefaultCharsets(bytes, contentType);
    for (const part of multipartParts(bytes, contentType)) {
      const own = charsetsOf(part.headers['content-type'] ? [part.headers['content-type']] : []);
      const label = (own.length ? own : textField(part) ? defaults : []).find((l) => !notCharsets.has(l) && misread(l));
      if (label !== undefined && holds(part.content)) return `a multipart field is read in charset ${JSON.stringify(label.slice(0, 40))}`;
    }
    if (anywhere && defaults.some(misread)) return `the form's default charset is ${JSON.stringify(defaults.find(misread)!.slice(0, 40))}`;
  }
  return undefined;
}

/**
 * Whether a part is a form field a server decodes as text: not a file (handed over as bytes), not
 * a multipart of its own, not the `_charset_` field that names the default (ASCII by definition).
 */
function textField(part: MimePart): boolean {
  const disposition = part.headers['content-disposition'] ?? '';
  // (A named field only: what follows the closing delimiter is no part, and servers skip a part without a name.)
  if (!/;\s*name\*?\s*=/i.test(disposition) || isFileHead(disposition) || /^\s*multipart\//i.test(part.headers['content-type'] ?? '')) return false;
  return !/;\s*name\s*=\s*"?_charset_"?\s*(;|$)/i.test(disposition);
}

/**
 * The charsets other than UTF-8 (and the UTF-16/32 that describe/body.ts unicodeText reads) a server
 * that follows the request's Content-Type label decodes its body by: Spring's Jackson converter reads
 * JSON through a reader in that charset, Django REST Framework's JSONParser and Django's form and
 * multipart parsing decode by `request.encoding` (the label, when Python's codecs know it), servlets
 * decode forms so. `legacy`: TextDecoder's names for the ones read here (Shift_JIS, where `\x81\`
 * is one character, so a quote after it ends a string that a UTF-8 reading continues; ISO-2022-JP,
 * whose escape sequences decode to nothing); `unknown`: labels no decoder here knows (UTF-7, whose
 * `+AGI-atch` is `batch`; EBCDIC code pages, whose every byte differs from ASCII's).
 */
export function serverCharsets(contentType: string | undefined): { legacy: string[]; unknown: string[] } {
  const out = { legacy: [] as string[], unknown: [] as string[] };
  if (contentType === undefined || !/charset/i.test(contentType)) return out;
  for (const raw of charsetParams(contentType)) {
    const name = cleanLabel(raw);
    if (!name || notCharsets.has(name) || isWideLabel(name) || name === 'utf-8' || name === 'utf8') continue;
    let canonical: string;
    try {
      canonical = new TextDecoder(name).encoding;
    } catch {
      if (!out.unknown.includes(name)) out.unknown.push(name.slice(0, 40));
      continue;
    }
    if (canonical === 'utf-8' || canonical.startsWith('utf-16')) continue;
    if (!out.legacy.includes(canonical)) out.legacy.push(canonical);
  }
  return out;
}
