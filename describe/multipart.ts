// multipart/form-data fields, read as the servers that take form fields from it read them (Rails,
// PHP, Laravel, Spring): every part between two delimiters, past a close delimiter too (parsers
// differ on what follows it), with a head that ends in a blank line of CRLFs or of bare LFs (PHP
// takes both). Linear in the body; at most MAX_PARTS parts.
import { busboyParam, dispositionNames, wzOptions } from './content-disposition.ts';
import { unQuotedPrintable } from './text-decodings.ts';
import { appendAll } from '../lib/arrays.ts';

/** At most this many parts are looked at; past it the body counts as not seen whole. */
export const MAX_PARTS = 1000;

export interface MultipartFields {
  /** [name, value] of every part with a form-data name, values as latin1 text (bytes kept). */
  fields: Array<[string, string]>;
  /** False when the body has no close delimiter or too many parts: what was not read may hold more. */
  complete: boolean;
  /** Names of wanted fields whose part declares a charset no decoder here knows (UTF-7, EBCDIC). */
  undecodable?: string[];
}

/** The boundary of a multipart Content-Type header value, or undefined. */
export function multipartBoundary(header: string): string | undefined {
  // (No length bound but the header's: a boundary cut short is a prefix that also stands where the
  // real one does not, and Go, Werkzeug and busboy take boundaries of any length; twenty-third pass.)
  const m = /;\s*boundary=(?:"([^"]+)"|([^\s;]+))/i.exec(header);
  return m?.[1] ?? m?.[2];
}

/** At most this many boundaries of one header are read (a header that gives this many is refused: boundaryReadingsFull). */
const MAX_BOUNDARIES = 4;

/**
 * Whether a Content-Type gives as many boundary readings as are read (MAX_BOUNDARIES), so a
 * server's may be among those not read (twenty-seventh pass: three more `boundary=` parameters
 * pushed Python's reading of the first out of the list). A sent form gives one.
 */
export function boundaryReadingsFull(header: string): boolean {
  return multipartBoundaries(header).length >= MAX_BOUNDARIES;
}

/**
 * Every boundary a server may take from a Content-Type value: PHP and most parsers the first
 * `boundary` parameter, Rack the last text `boundary=` anywhere in the value (its pattern is
 * `multipart/.*boundary="?([^";,]+)`, so `xboundary=` counts there). Distinct values, in order.
 */
export function multipartBoundaries(header: string): string[] {
  const out: string[] = [];
  const add = (b: string): void => {
    if (b && !out.includes(b) && out.length < MAX_BOUNDARIES) out.push(b);
  };
  const first = multipartBoundary(header);
  if (first) add(first);
  // (The first parameter as Python's email and cgi read it, next: they take the first one.)
  const python = emailParamValues(header, 'boundary');
  if (python[0] !== undefined) add(python[0]);
  const lower = header.toLowerCase();
  // The last occurrence first (Rack's reading), so a cap reached by repeated parameters never drops it.
  const last = lower.lastIndexOf('boundary=');
  if (last >= 0) for (const b of boundaryValuesAt(header, last)) add(b);
  // (Go's and Python's before the other repeated ones: a repeated plain one is read above.)
  for (const b of parameterReadings(header, 'boundary')) add(b);
  for (const b of python) add(b);
  for (let at = lower.indexOf('boundary='); at >= 0 && out.length < MAX_BOUNDARIES; at = lower.indexOf('boundary=', at + 1)) {
    for (const b of boundaryValuesAt(header, at)) add(b);
  }
  return out;
}

/**
 * A parameter's values as Python's `email` package (`Message.get_boundary`, `get_param`) and `cgi`
 * read them (twenty-seventh pass): the header split at each `;` outside an odd count of unescaped
 * quotes, name and value stripped, the value unquoted only when it both starts and ends with `"`
 * (and `<…>` taken off), a boundary's trailing blanks dropped. So `boundary="B"x` is the boundary
 * `"B"x` and `boundary="B` is `"B` to them, whose delimiter lines Airlock's readings (`B`) never
 * met: no part of the body was read while the server read every one. One pass.
 */
export function emailParamValues(header: string, name: string): string[] {
  const out: string[] = [];
  let start = header.indexOf(';');
  if (start < 0) return out;
  let inQuotes = false;
  for (let i = start + 1; i <= header.length; i++) {
    const c = header[i];
    if (c === '"' && header[i - 1] !== '\\') inQuotes = !inQuotes;
    if (i < header.length && (c !== ';' || inQuotes)) continue;
    const param = header.slice(start + 1, i);
    start = i;
    const eq = param.indexOf('=');
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== name) continue;
    let value = param.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1).replaceAll('\\\\', '\\').replaceAll('\\"', '"');
    else if (value.length >= 2 && value.startsWith('<') && value.endsWith('>')) value = value.slice(1, -1);
    value = value.trimEnd();
    if (value && !out.includes(value)) out.push(value);
    if (out.length >= MAX_BOUNDARIES) break;
  }
  return out;
}

/**
 * A parameter's values as Go's `mime.ParseMediaType` and Python's `email` (Django, Werkzeug and
 * python-multipart read parameters so too) read them (eighteenth pass): blanks around `=`
 * (`boundary = X`), a quoted string's `\` escapes (`"A\"B"` is `A"B`), RFC 2231's extended value
 * (`boundary*=utf-8''X`, escapes as the bytes they name) and continuations (`boundary*0=X;
 * boundary*1=Y` is `XY`). The patterns above found no boundary in these, so no part of such a body
 * was read while those servers read every one. Each reading found, distinct.
 */
export function parameterReadings(header: string, name: string): string[] {
  const out: string[] = [];
  const pieces = new Map<number, string>();
  let i = header.indexOf(';');
  if (i < 0) return out;
  const n = header.length;
  while (i < n) {
    while (i < n && (header[i] === ';' || header[i] === ' ' || header[i] === '\t')) i++;
    let end = i;
    while (end < n && !'=;'.includes(header[end]!)) end++;
    const key = header.slice(i, end).trim().toLowerCase();
    i = end;
    if (header[i] !== '=') continue;
    i++;
    while (i < n && (header[i] === ' ' || header[i] === '\t')) i++;
    let value = '';
    if (header[i] === '"') {
      for (i++; i < n && header[i] !== '"'; i++) value += header[i] === '\\' && i + 1 < n ? header[++i] : header[i];
      i++;
    } else {
      end = i;
      while (end < n && !'; \t'.includes(header[end]!)) end++;
      value = header.slice(i, end);
      i = end;
    }
    if (!key.startsWith(name)) continue;
    const rest = key.slice(name.length);
    const extended = rest.endsWith('*');
    const decoded = (v: string): string => v.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    if (rest === '') out.push(value);
    else if (rest === '*') out.push(decoded(value.slice(value.indexOf("'", value.indexOf("'") + 1) + 1)));
    else {
      const m = /^\*(\d{1,3})\*?$/.exec(rest);
      // (The first piece of an extended continuation carries the charset and language.)
      if (m) pieces.set(Number(m[1]), extended ? decoded(m[1] === '0' ? value.slice(value.indexOf("'", value.indexOf("'") + 1) + 1) : value) : value);
    }
  }
  if (pieces.size) {
    let joined = '';
    for (let k = 0; pieces.has(k); k++) joined += pieces.get(k)!;
    out.push(joined);
  }
  // And as Werkzeug joins them (twenty-third pass: `boundary=a; boundary*1=b` is `ab` to Flask).
  const wz = wzOptions(header).get(name);
  if (wz !== undefined) out.push(wz);
  // And as @fastify/busboy reads them (`bound ary=X`, `boundary=X"Y"` is `XY` to Fastify).
  const bb = busboyParam(header, name, true);
  if (bb !== undefined) out.push(bb);
  return [...new Set(out.filter((v) => v.length > 0))];
}

/** The value of a `boundary=` at `at`: as most parsers end it (at a blank), and as Rack does (at `"`, `;` or `,`). */
function boundaryValuesAt(header: string, at: number): string[] {
  let v = at + 'boundary='.length;
  const quoted = header[v] === '"';
  if (quoted) v++;
  const out: string[] = [];
  for (const stop of quoted ? ['"'] : ['";,\t\r\n ', '";,']) {
    let end = v;
    while (end < header.length && !stop.includes(header[end]!)) end++;
    out.push(header.slice(v, end));
  }
  return out;
}

/**
 * The wanted fields of a multipart body, read under every boundary its Content-Type may give
 * (multipartBoundaries): the fields of each reading, complete only when every reading is.
 */
export function multipartFields(body: Buffer, header: string, wanted: (name: string, file: boolean) => boolean): MultipartFields {
  const boundaries = multipartBoundaries(header);
  if (boundaries.length === 0) return { fields: [], complete: false };
  const fields: Array<[string, string]> = [];
  const undecodable: string[] = [];
  let complete = true;
  const defaults = defaultCharsets(body, header, boundaries);
  for (const boundary of boundaries) {
    const one = fieldsUnder(body, boundary, wanted, false, defaults);
    appendAll(fields, one.fields);
    complete &&= one.complete;
    if (one.undecodable) appendAll(undecodable, one.undecodable);
    // Where the delimiter also stands mid-line, the reading of RFC 2046 parsers too (Python's email,
    // Go, busboy, Rack 3: a delimiter begins a line): a `--X` inside a part's own head (`name="batch";
    // x="--X"`) cut that head for the reading above, which lost the field (eighteenth pass). And where
    // it begins a line but more follows it (`--XQ: x`, a header line to Go and Werkzeug, which take a
    // delimiter line only as the delimiter and blanks): that cut the head too (twenty-third pass).
    if (looseDelimiter(body, `--${boundary}`)) {
      const lines = fieldsUnder(body, boundary, wanted, true, defaults);
      const seen = new Map<string, number>();
      for (const [n, v] of one.fields) seen.set(`${n}\u0000${v}`, (seen.get(`${n}\u0000${v}`) ?? 0) + 1);
      for (const f of lines.fields) {
        const k = `${f[0]}\u0000${f[1]}`;
        const left = seen.get(k) ?? 0;
        if (left > 0) seen.set(k, left - 1);
        else fields.push(f);
      }
      complete &&= lines.complete;
      if (lines.undecodable) appendAll(undecodable, lines.undecodable);
    }
    // And as Werkzeug (Flask) reads it where a bare CR stands (twenty-seventh pass): its line
    // breaks are CRLF, LF and CR alone, its blank line `\r\n\r\n`, `\n\n` or `\r\r`, so
    // `--X\rContent-Disposition: form-data; name="batch"\r\r[...]` is the field `batch` to Flask
    // and no part to a reader of CRLF and LF lines. Its parts, written again with CRLF, are read too.
    // And as Python's email package reads lines (universal newlines: CRLF, CR or LF ends a line,
    // so `\r\r\n` is a line and a blank one): every line break written as CRLF.
    if (hasBareCr(body)) {
      const text = body.toString('latin1');
      for (const canonical of [werkzeugCanonical(text, boundary), text.split(/\r\n|\r|\n/).join('\r\n')]) {
        if (canonical === undefined) continue;
        const again = fieldsUnder(Buffer.from(canonical, 'latin1'), boundary, wanted, true, defaults);
        appendAll(fields, again.fields);
        complete &&= again.complete;
        if (again.undecodable) appendAll(undecodable, again.undecodable);
      }
    }
  }
  return undecodable.length ? { fields, complete, undecodable } : { fields, complete };
}

/** Whether a CR stands without an LF after it. */
function hasBareCr(body: Buffer): boolean {
  for (let i = body.indexOf(0x0d); i >= 0; i = body.indexOf(0x0d, i + 1)) if (body[i + 1] !== 0x0a) return true;
  return false;
}

/** The length of the line break (CRLF, CR or LF, as Werkzeug reads them) at `i`, 0 when none. */
function breakAt(text: string, i: number): number {
  if (text[i] === '\r') return text[i + 1] === '\n' ? 2 : 1;
  return text[i] === '\n' ? 1 : 0;
}

/** The length of the line break that ends just before `i` (CRLF, CR or LF), 0 when none. */
function breakBefore(text: string, i: number): number {
  if (text[i - 1] === '\n') return text[i - 2] === '\r' ? 2 : 1;
  return text[i - 1] === '\r' ? 1 : 0;
}

/** Werkzeug's blanks inside a delimiter line (`[^\S\n\r]`: whitespace but CR and LF). */
const lineBlank = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\x0b' || c === '\x0c' || (c !== undefined && c >= '\x1c' && c <= '\x1f');

/**
 * A multipart body as Werkzeug's MultipartDecoder splits it (werkzeug/sansio/multipart.py): a
 * delimiter `--B` at the start or after a line break, then `--` or blanks and a line break; a
 * part's head up to the first `\r\n\r\n`, `\r\r` or `\n\n`; its data up to the line break
 * before the next delimiter. Written again with CRLF line breaks (head lines split at CRLF, CR or
 * LF), closed; undefined when no part is found. One pass, at most MAX_PARTS parts.
 */
export function werkzeugCanonical(text: string, boundary: string): string | undefined {
  const delimiter = `--${boundary}`;
  /** The position after a delimiter line starting at `at` (-1: not one; -2: the close). */
  const delimiterEnd = (at: number): number => {
    let i = at + delimiter.length;
    if (text.startsWith('--', i)) return -2;
    while (lineBlank(text[i])) i++;
    const lb = breakAt(text, i);
    return lb ? i + lb : -1;
  };
  let out = '';
  let parts = 0;
  let at = text.startsWith(delimiter) ? 0 : -1;
  for (let from = 0; at < 0;) {
    const next = text.indexOf(delimiter, from);
    if (next < 0) return undefined;
    if (breakBefore(text, next) && delimiterEnd(next) >= 0) at = next;
    from = next + 1;
  }
  while (at >= 0 && parts < MAX_PARTS) {
    const start = delimiterEnd(at);
    if (start < 0) break;
    const blanks = [text.indexOf('\r\n\r\n', start), text.indexOf('\r\r', start), text.indexOf('\n\n', start)];
    let blank = -1;
    let blankLength = 0;
    for (const [k, b] of blanks.entries()) if (b >= 0 && (blank < 0 || b < blank)) [blank, blankLength] = [b, k === 0 ? 4 : 2];
    if (blank < 0) break;
    // The data runs to the line break before the next delimiter line (or the close).
    let end = -1;
    for (let from = blank + blankLength; ;) {
      const next = text.indexOf(delimiter, from);
      if (next < 0) break;
      const lb = breakBefore(text, next);
      if (lb && delimiterEnd(next) !== -1) {
        end = next;
        break;
      }
      from = next + 1;
    }
    if (end < 0) break;
    // (Werkzeug skips empty head lines: `--X\n\rContent-Disposition: …` names the part.)
    const head = text.slice(start, blank).split(/\r\n|\r|\n/).filter((line) => line.trim() !== '').join('\r\n');
    out += `${delimiter}\r\n${head}\r\n\r\n${text.slice(blank + blankLength, end - breakBefore(text, end))}\r\n`;
    parts++;
    at = end;
  }
  return parts ? `${out}${delimiter}--\r\n` : undefined;
}

/** At most this many default charsets of one form are read (each costs a decoding of every field without its own). */
const MAX_DEFAULT_CHARSETS = 4;

/**
 * The charsets a server decodes a field that declares none in (twenty-first pass), as RFC 7578
 * §4.6 says: Jetty takes a `_charset_` field's value, Tomcat and Spring's multipart readers the
 * request's own `charset` parameter (every reading of it, parameterReadings). A `batch` field in
 * UTF-16 under `_charset_=utf-16le` ran its calls while it named none to a UTF-8 reading. Lower
 * case, UTF-8 and ASCII left out.
 */
function defaultCharsets(body: Buffer, header: string, boundaries: readonly string[]): string[] {
  const out = new Set(parameterReadings(header, 'charset').map((l) => l.trim().toLowerCase()));
  if (body.includes('_charset_') || body.includes('_CHARSET_')) {
    for (const boundary of boundaries) {
      // A server takes one `_charset_` field, the first or the last: those two of each reading, so
      // that leading harmless ones cannot push the one a server takes out of the bound below.
      const values = fieldsUnder(body, boundary, (n, file) => !file && n.toLowerCase() === '_charset_', false, []).fields;
      for (const [, v] of values.length > 1 ? [values[0]!, values[values.length - 1]!] : values) out.add(v.trim().toLowerCase());
    }
  }
  const labels = [...out].filter((l) => l && !isUtf8Label(l));
  // Past the bound, a label no decoder knows stands for the rest: what cannot be read is refused.
  return labels.length > MAX_DEFAULT_CHARSETS ? [...labels.slice(0, MAX_DEFAULT_CHARSETS), TOO_MANY_CHARSETS] : labels;
}

/** Not a charset: what readers are handed when a form names more default charsets than they read. */
export const TOO_MANY_CHARSETS = 'more default charsets than are read';

/**
 * The charsets a server decodes a multipart form's fields that declare none in (defaultCharsets),
 * for the credential guard's readings; [] when the body is no multipart or names none but UTF-8.
 */
export function formDefaultCharsets(body: Buffer, header: string): string[] {
  const boundaries = multipartBoundaries(header);
  return boundaries.length ? defaultCharsets(body, header, boundaries) : [];
}

/** Whether a part's head names a file (servers hand its bytes over as they are, undecoded). */
export function isFileHead(head: string): boolean {
  if (!fileHead.test(head)) return false;
  // An empty file name (`filename=""`, `filename*=utf-8''`) names no file to Go's mime/multipart:
  // `Part.FileName()` is "" and `ReadForm` (so `r.FormValue`, MinIO's form uploads) keeps the part
  // as a form value (twenty-seventh pass: a Graph `batch` part with `filename=""` ran its calls
  // while Airlock's readers skipped it as an upload). Only a name with text in it makes a file.
  // And a name Werkzeug (Flask) cannot parse as a parameter (`filename=/etc/x`, `filename=(x)`,
  // `filename= "a"`, a bare non-ASCII name: not a token or quoted string right after `=`) leaves it
  // no file name, and Flask's `request.form` holds the part: a file only when both read one.
  let named = false;
  for (const m of head.matchAll(fileHeads)) {
    if (fileNameValue(head, m.index + m[0].length, m[0].includes('*')) !== '') named = true;
  }
  return named && werkzeugFileName(head);
}

/**
 * Whether Werkzeug's parameter reading (wzOptions) finds a file name on a Content-Disposition line
 * of the head, or in `head` itself when it is that header's value alone (proxy/charset-readings.ts).
 */
function werkzeugFileName(head: string): boolean {
  const has = (value: string): boolean => {
    const options = wzOptions(value.trim());
    return options.has('filename') || options.has('filename*');
  };
  let lines = 0;
  for (const line of head.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0 || line.slice(0, colon).trim().toLowerCase() !== 'content-disposition') continue;
    lines++;
    if (has(line.slice(colon + 1))) return true;
  }
  return lines === 0 && has(head);
}

/** A `filename` parameter's value starting at `at` (quoted or a token; of `filename*`, the text after `charset'lang'`). */
function fileNameValue(head: string, at: number, extended: boolean): string {
  let i = at;
  while (head[i] === ' ' || head[i] === '\t') i++;
  let value = '';
  if (head[i] === '"') {
    for (i++; i < head.length && head[i] !== '"'; i++) value += head[i] === '\\' && i + 1 < head.length ? head[++i] : head[i];
  } else {
    let end = i;
    while (end < head.length && head[end] !== ';' && head[end] !== '\r' && head[end] !== '\n' && head[end] !== ' ' && head[end] !== '\t') end++;
    value = head.slice(i, end);
  }
  if (!extended) return value;
  const first = value.indexOf("'");
  const second = first < 0 ? -1 : value.indexOf("'", first + 1);
  return second < 0 ? value : value.slice(second + 1);
}

/**
 * Whether `delimiter` occurs in the body anywhere but as a whole delimiter line (strictDelimiterAt):
 * mid-line, or with more than blanks or `--` after it. Parsers differ there: describe both readings.
 */
export function looseDelimiter(body: Buffer, delimiter: string): boolean {
  const text = body.toString('latin1');
  for (let at = text.indexOf(delimiter); at >= 0; at = text.indexOf(delimiter, at + delimiter.length)) {
    if (!strictDelimiterAt(text, at, delimiter)) return true;
  }
  return false;
}

/**
 * Whether the `delimiter` at `at` is one to RFC 2046 parsers (Go's mime/multipart, Python's email;
 * Werkzeug but for a close): at a line's start, then `--` (the close) or not, then blanks to the
 * line's end. Go reads `--XQ: x`, `--X-y` or `--X--y` in a part head as a header line, where a
 * reading that splits at any `--X` lost the `name` the head gave before it (twenty-third pass).
 */
export function strictDelimiterAt(text: string, at: number, delimiter: string): boolean {
  if (at > 0 && text[at - 1] !== '\n') return false;
  let i = at + delimiter.length;
  if (text.startsWith('--', i)) i += 2;
  while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
  return i >= text.length || text[i] === '\n' || (text[i] === '\r' && (i + 1 >= text.length || text[i + 1] === '\n'));
}

/** The next delimiter from `from`: wherever it stands, or (`strict`) only a whole delimiter line (strictDelimiterAt). */
export function nextDelimiter(text: string, delimiter: string, from: number, strict: boolean): number {
  let at = text.indexOf(delimiter, from);
  while (strict && at >= 0 && !strictDelimiterAt(text, at, delimiter)) at = text.indexOf(delimiter, at + delimiter.length);
  return at;
}

/**
 * A part head with its folded lines joined (a line break before a blank or tab removed), as Go's
 * textproto, Werkzeug, Python's email and busboy read it (twenty-third pass): `form-data<CRLF>
 * ; name="batch"` or `name=<CRLF> "batch"` named no field to a reading line by line.
 */
export function unfoldHead(head: string): string {
  return head.includes('\n ') || head.includes('\n\t') ? head.replace(/\r?\n(?=[ \t])/g, '') : head;
}

/** A part head naming a file (`filename=`, `filename*=`): servers hand it over as an upload, not a form field. */
const fileHead = /;\s*filename\*?\s*=/i;
const fileHeads = /;\s*filename\*?\s*=/gi;

/** `strict`: delimiters only as whole lines (RFC 2046, strictDelimiterAt), else wherever they stand; `defaults`: the charsets of a field that declares none (defaultCharsets). */
function fieldsUnder(body: Buffer, boundary: string, wanted: (name: string, file: boolean) => boolean, strict: boolean, defaults: readonly string[]): MultipartFields {
  const text = body.toString('latin1');
  const delimiter = `--${boundary}`;
  const find = (from: number): number => nextDelimiter(text, delimiter, from, strict);
  const fields: Array<[string, string]> = [];
  let undecodable: string[] | undefined;
  let closed = false;
  let at = find(0);
  let parts = 0;
  while (at >= 0) {
    const start = at + delimiter.length;
    if (text.startsWith('--', start)) closed = true;
    const next = find(start);
    if (next < 0) break;
    if (++parts > MAX_PARTS) return { fields, complete: false };
    const part = text.slice(start, next);
    const crlf = part.indexOf('\r\n\r\n');
    const lf = part.indexOf('\n\n');
    const split = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf : lf;
    if (split >= 0) {
      // Under every name a parser may read the part by (RFC 2231 `name*`, the first or last `name=`).
      const head = unfoldHead(part.slice(0, split));
      const file = isFileHead(head);
      const value = part.slice(split + (split === crlf ? 4 : 2)).replace(/\r?\n$/, '');
      // And as MIME-aware servers read it (Python's email, Django, python-multipart): its
      // Content-Transfer-Encoding undone (eighteenth pass: a base64 `batch` part ran its calls).
      const cte = /^[ \t]*content-transfer-encoding[ \t]*:[ \t]*(base64|quoted-printable)[ \t]*$/im.exec(head)?.[1]?.toLowerCase();
      const decoded = cte === 'base64' ? Buffer.from(value, 'base64').toString('latin1') : cte ? unQuotedPrintable(value) : undefined;
      // And in the charset its own Content-Type declares, as busboy (multer, fastify-multipart)
      // decodes a field (twentieth pass: a `batch` part in `charset=utf-16le` ran its calls), or
      // when it declares none in the form's default ones (defaultCharsets).
      const declared = partCharset(head);
      const charsets = declared === undefined ? defaults : isUtf8Label(declared) ? [] : [declared];
      const names = dispositionNames(head).filter((name) => wanted(name, file));
      for (const name of names) {
        fields.push([name, value]);
        if (decoded !== undefined && decoded !== value) fields.push([name, decoded]);
      }
      for (const charset of names.length ? charsets : []) {
        const inCharset = textIn(Buffer.from(decoded ?? value, 'latin1'), charset);
        for (const name of names) {
          if (inCharset === null) (undecodable ??= []).push(name);
          else if (inCharset !== (decoded ?? value)) fields.push([name, inCharset]);
        }
      }
    }
    at = next;
  }
  return undecodable ? { fields, complete: closed, undecodable } : { fields, complete: closed };
}

/** The charset a part's own Content-Type declares, lower case, or undefined when it declares none. */
function partCharset(head: string): string | undefined {
  const type = /^[ \t]*content-type[ \t]*:([^\r\n]*)/im.exec(head)?.[1];
  return type === undefined ? undefined : /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(type)?.[1]?.toLowerCase();
}

/** Labels whose text is the bytes as sent (UTF-8, ASCII). */
function isUtf8Label(label: string): boolean {
  return label === 'utf-8' || label === 'utf8' || label === 'us-ascii';
}

/** A part's bytes decoded in `charset`, as latin1 of their UTF-8 (the fields' form); null for a charset no decoder here knows. */
function textIn(bytes: Buffer, charset: string): string | null {
  try {
    return Buffer.from(new TextDecoder(charset).decode(bytes)).toString('latin1');
  } catch {
    return null;
  }
}
