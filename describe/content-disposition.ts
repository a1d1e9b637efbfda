// The `name` parameter of a multipart part's Content-Disposition header, read in one pass. It
// gives the answers of the patterns
//   /content-disposition:[^\r\n]*;\s*name="([^"]*)"/i, else /content-disposition:[^\r\n]*;\s*name=([^\s;]+)/i
// (the first header line that has one, its last `name=` parameter), which backtrack
// quadratically over a part head an agent fills with "content-disposition:" or `;name="`.

const LABEL = 'content-disposition:';
const isSpace = (c: string): boolean => /\s/.test(c);
/** ASCII-only lower case, like a non-Unicode /i pattern compares (and index for index the same text). */
const asciiLower = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** [start, end) of the rest of each line after the first occurrence of the label on it. */
function segments(head: string, lower: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let from = 0;
  for (;;) {
    const at = lower.indexOf(LABEL, from);
    if (at < 0) return out;
    let end = at + LABEL.length;
    while (end < head.length && head[end] !== '\r' && head[end] !== '\n') end++;
    out.push([at + LABEL.length, end]);
    from = end;
  }
}

/**
 * The value of the last `;\s*name=` parameter whose `;` lies in [start, end): quoted or bare. What
 * follows the `;` may run past the line, as `\s*` and `[^"]*` do in the patterns.
 */
function lastName(head: string, lower: string, [start, end]: [number, number], quoted: boolean, lastQuote: number): string | undefined {
  for (let i = head.lastIndexOf(';', end - 1); i >= start; i = i > 0 ? head.lastIndexOf(';', i - 1) : -1) {
    let p = i + 1;
    while (p < head.length && isSpace(head[p]!)) p++;
    if (!lower.startsWith('name=', p)) continue;
    const v = p + 5;
    if (quoted) {
      if (head[v] !== '"' || lastQuote <= v) continue;
      return head.slice(v + 1, head.indexOf('"', v + 1));
    }
    let stop = v;
    while (stop < head.length && head[stop] !== ';' && !isSpace(head[stop]!)) stop++;
    if (stop > v) return head.slice(v, stop);
  }
  return undefined;
}

export function dispositionName(head: string): string | undefined {
  const lower = asciiLower(head);
  const segs = segments(head, lower);
  const lastQuote = head.lastIndexOf('"');
  for (const quoted of [true, false]) {
    for (const s of segs) {
      const name = lastName(head, lower, s, quoted, lastQuote);
      if (name !== undefined) return name;
    }
  }
  return undefined;
}

/** Continuations of one extended parameter read at most (`name*0*`, `name*1*` …). */
const MAX_CONTINUATIONS = 32;

/** An RFC 2231 / 5987 extended value (`utf-8'en'%71uery`) decoded; the text as is when it cannot be. */
function extendedValue(value: string, encoded: boolean): string {
  let v = value.trim();
  if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1);
  if (!encoded) return v;
  const first = v.indexOf("'");
  const second = first < 0 ? -1 : v.indexOf("'", first + 1);
  const charset = second < 0 ? 'utf-8' : v.slice(0, first).toLowerCase();
  const text = second < 0 ? v : v.slice(second + 1);
  // Percent-escapes are bytes of the named charset (UTF-8 or Latin-1).
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const hex = text[i] === '%' ? text.slice(i + 1, i + 3) : '';
    if (hex.length === 2 && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(...Buffer.from(text[i]!, 'utf8'));
  }
  return Buffer.from(bytes).toString(charset === 'iso-8859-1' || charset === 'latin1' ? 'latin1' : 'utf8');
}

/**
 * The RFC 2231 extended values of the parameter `name` among `params` (each `key=value` as split at
 * `;`): every `name*=` decoded, and the `name*0*`, `name*1` … continuations joined in order, as
 * Werkzeug, Django and Python's email package read them (`charset*=utf-8''utf-7` is the charset
 * `utf-7` to them). Bounded by MAX_CONTINUATIONS pieces.
 */
export function extendedParamValues(params: string[], name: string): string[] {
  const out: string[] = [];
  const pieces: Array<[number, string, boolean]> = [];
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq < 0) continue;
    const key = asciiLower(param.slice(0, eq).trim());
    const value = param.slice(eq + 1);
    if (key === `${name}*`) out.push(extendedValue(value, true));
    else if (key.startsWith(`${name}*`) && pieces.length < MAX_CONTINUATIONS) {
      const rest = key.slice(name.length + 1);
      const encoded = rest.endsWith('*');
      const index = Number(encoded ? rest.slice(0, -1) : rest);
      if (Number.isInteger(index) && index >= 0) pieces.push([index, value, encoded]);
    }
  }
  if (pieces.length) {
    pieces.sort((a, b) => a[0] - b[0]);
    // (The charset prefix is on the first piece only.)
    out.push(pieces.map(([i, v, enc]) => (enc && i > 0 ? extendedValue(`''${v.trim()}`, true) : extendedValue(v, enc))).join(''));
  }
  return out;
}

/**
 * Every name parsers read a part by: the `name=` parameter as dispositionName reads it (the last),
 * the first of several `name=` parameters (Python's email package keeps the first), and the RFC
 * 2231 extended `name*=utf-8''…` (with its `name*0*`, `name*1*` continuations), which Werkzeug,
 * Django, Python's email package and busboy decode and take for the name, also on a header spelled
 * with blanks before its colon, as Werkzeug joins pieces (wzOptions) and as @fastify/busboy reads
 * it (busboyParam). One pass over each
 * Content-Disposition line.
 */
export function dispositionNames(raw: string): string[] {
  // Python's blanks (twenty-seventh pass): str.strip() and `\s` take the separators 0x1c-0x1f for
  // whitespace, as they do VT and FF, so Python's email package and Django (which strip each
  // parameter and its value) and Werkzeug (whose patterns skip `\s`, and which strips a header's
  // name) read `;\x1fname="batch"`, `name\x1c=\x1dbatch` and `Content-Disposition\x1f:` as the
  // name `batch`, where JavaScript's trim and `\s` leave those bytes in: the part was read by no
  // name. Such a head is read a second time with them as blanks.
  if (!pythonBlank.test(raw)) return namesOf(raw);
  return [...new Set([...namesOf(raw), ...namesOf(raw.replace(pythonBlanks, ' '))])];
}

/** Bytes Python's str.strip() and `\s` take for blanks that JavaScript's do not (VT and FF for the patterns here too). */
const pythonBlank = /[\x0b\x0c\x1c-\x1f]/;
const pythonBlanks = /[\x0b\x0c\x1c-\x1f]/g;

function namesOf(raw: string): string[] {
  const out = new Set<string>();
  // Werkzeug (and other parsers that split a header at `:` and trim) read
  // `Content-Disposition : form-data; name="…"` too.
  const head = raw.replace(/(content-disposition)[ \t]+:/gi, '$1:');
  const plain = dispositionName(head);
  if (plain !== undefined) out.add(plain);
  const lower = asciiLower(head);
  // A part with no name is named by its Content-ID, as Rack (and so Rails) names it (twenty-fourth
  // pass: `/Content-ID:\s*([^\r\n]*)/i`, the first occurrence, anywhere in the head).
  // And with neither (or an empty name), by its Content-Type and `[]` (twenty-fifth pass: Rack's
  // `"#{content_type || TEXT_PLAIN}[]"`, so `Content-Type: callback_url` is the list `callback_url`).
  if (!plain) {
    const id = plain === undefined ? headValue(head, lower, 'content-id:') : undefined;
    if (id) out.add(id);
    else {
      const type = headValue(head, lower, 'content-type:');
      if (type) out.add(`${type}[]`);
    }
  }
  for (const [start, end] of segments(head, lower)) {
    const params = head.slice(start, end).split(';').slice(1);
    let firstPlain: string | undefined;
    let lastPlain: string | undefined;
    for (const param of params) {
      const eq = param.indexOf('=');
      if (eq >= 0 && asciiLower(param.slice(0, eq).trim()) === 'name') {
        lastPlain = extendedValue(param.slice(eq + 1), false);
        firstPlain ??= lastPlain;
      }
    }
    // (Every Content-Disposition line of the part: parsers take the first header or the last.)
    if (firstPlain !== undefined) out.add(firstPlain);
    if (lastPlain !== undefined) out.add(lastPlain);
    for (const v of extendedParamValues(params, 'name')) out.add(v);
    // And as Flask reads it (continuations in the order they stand, appended to a plain value).
    const wz = wzOptions(head.slice(start, end)).get('name');
    if (wz !== undefined) out.add(wz);
    // And as Fastify's multipart plugin reads it (blanks dropped, quoted pieces joined).
    const bb = busboyParam(head.slice(start, end), 'name');
    if (bb !== undefined) out.add(bb);
  }
  return [...out];
}

/** The rest of the line after the first `label` in a part head (any case, anywhere, blanks before it skipped), as Rack's patterns read it; at most 1 KiB. */
function headValue(head: string, lower: string, label: string): string | undefined {
  const at = lower.indexOf(label);
  return at < 0 ? undefined : /^\s*([^\r\n]*)/.exec(head.slice(at + label.length, at + label.length + 1024))![1]!;
}

/** Werkzeug's parameter key, token value and RFC 2231 charset marker (werkzeug/http.py, ASCII `\w`). */
const wzKey = /[\w!#$%&'*+\-.^`|~]+=/y;
const wzToken = /[\w!#$%&'*+\-.^`|~]+/y;
const wzCharset = /^([\w!#$%&*+\-.^`|~]*)'[\w!#$%&*+\-.^`|~]*'([\w!#$%&'*+\-.^`|~]+)/;
const wzContinuation = /\*(\d+)$/;
/** Parameters of one header read at most by wzOptions. */
const MAX_WZ_PARAMS = 256;

/**
 * A header's parameters as Werkzeug 2.3+ reads them (`parse_options_header`: Flask's form fields
 * and its multipart boundary), which differs from RFC 2231 (twenty-third pass): continuations are
 * joined in the order they stand, whatever their numbers (`name*1=bat; name*0=ch` is `batch`), and
 * appended to a plain value of the same key (`name=bat; name*1=ch` is `batch`); an extended piece
 * without a charset takes the last one given to any key; `%22` in a quoted value is `"`. One pass
 * (each quoted string scanned once); at most MAX_WZ_PARAMS parameters.
 */
export function wzOptions(header: string): Map<string, string> {
  const options = new Map<string, string>();
  const semi = header.indexOf(';');
  if (semi < 0 || header.slice(0, semi).trim() === '') return options;
  const parts: Array<[string, string]> = [];
  // Where a quoted string starting at a position ends (-1: unclosed): shared by scans that meet.
  const closeOf = new Map<number, number>();
  const quotedEnd = (open: number): number => {
    const path: number[] = [];
    let pos = open + 1;
    let end = -1;
    while (pos < header.length) {
      const known = closeOf.get(pos);
      if (known !== undefined) {
        end = known;
        break;
      }
      path.push(pos);
      const two = header.slice(pos, pos + 2);
      if (two === '\\\\' || two === '\\"') pos += 2;
      else if (header[pos] === '"') {
        end = pos;
        break;
      } else pos++;
    }
    for (const p of path) closeOf.set(p, end);
    return end;
  };
  let at = semi + 1;
  while (at < header.length && /\s/.test(header[at]!)) at++;
  for (let n = 0; n < MAX_WZ_PARAMS && at < header.length; n++) {
    wzKey.lastIndex = at;
    const key = wzKey.exec(header);
    if (key) {
      at += key[0].length;
      wzToken.lastIndex = at;
      const token = wzToken.exec(header);
      const pk = asciiLower(key[0].slice(0, -1));
      if (token) parts.push([pk, token[0]]);
      else if (header[at] === '"') {
        const end = quotedEnd(at);
        if (end >= 0) {
          parts.push([pk, header.slice(at, end + 1)]);
          at = end + 1;
        }
      }
    }
    const next = header.indexOf(';', at);
    if (next < 0) break;
    at = next + 1;
    while (at < header.length && /\s/.test(header[at]!)) at++;
  }
  let continued: string | undefined;
  for (let [pk, pv] of parts) {
    if (pk.endsWith('*')) {
      pk = pk.slice(0, -1);
      const m = wzCharset.exec(pv);
      let encoding: string | undefined;
      if (m) {
        encoding = m[1]!.toLowerCase();
        pv = m[2]!;
      }
      if (!encoding) encoding = continued;
      if (encoding === 'ascii' || encoding === 'us-ascii' || encoding === 'utf-8' || encoding === 'iso-8859-1') {
        continued = encoding;
        pv = extendedValue(`${encoding === 'iso-8859-1' ? 'iso-8859-1' : 'utf-8'}''${pv}`, true);
      }
    }
    if (pv.length >= 2 && pv.startsWith('"') && pv.endsWith('"')) pv = pv.slice(1, -1).replaceAll('\\\\', '\\').replaceAll('\\"', '"').replaceAll('%22', '"');
    const cont = wzContinuation.exec(pk);
    if (cont) {
      pk = pk.slice(0, cont.index);
      options.set(pk, (options.get(pk) ?? '') + pv);
    } else options.set(pk, pv);
  }
  return options;
}

/**
 * The value of parameter `name` (any letter case; the last given) as @fastify/busboy reads a header
 * (Fastify's multipart plugin; twenty-third pass): blanks and tabs outside quotes are dropped from
 * keys and values alike (`na me=batch`, `name=ba tch`), a quoted piece ends the parameter wherever
 * it closes and joins what stood before it (`name=ba"tch"` is `batch`), `\` escapes only `"` and
 * `\` inside quotes, a `*` ends the key and an RFC 2231 charset and language follow it. The last
 * one given (a part's name) or, with `first`, the first (the boundary, as busboy takes it). Linear.
 */
export function busboyParam(header: string, name: string, first = false): string | undefined {
  if (!header.includes(';')) return undefined;
  let found: string | undefined;
  let key: string | undefined; // undefined: a piece with no `=` or `*` (the type, or no parameter)
  let type = true;
  let state: 'key' | 'value' | 'charset' | 'lang' = 'key';
  let charset = '';
  let inquote = false;
  let escaping = false;
  let tmp = '';
  const finish = (): void => {
    let v = tmp;
    if (charset && v) {
      // (Escapes are undone whatever the charset; one no decoder knows leaves the bytes as they are.)
      v = v.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
      try {
        v = new TextDecoder(charset).decode(Buffer.from(v, 'latin1'));
      } catch {
        // (kept)
      }
    }
    if (!type && key !== undefined && asciiLower(key) === name && !(first && found !== undefined)) found = v;
    type = false;
    key = undefined;
    charset = '';
    tmp = '';
  };
  for (let i = 0; i < header.length; i++) {
    const c = header[i]!;
    if (c === '\\' && inquote) {
      if (!escaping) {
        escaping = true;
        continue;
      }
      escaping = false;
    } else if (c === '"') {
      if (!escaping) {
        if (inquote) {
          inquote = false;
          state = 'key';
          // What follows a closing quote up to the next `;` is dropped.
          while (i + 1 < header.length && header[i + 1] !== ';') i++;
        } else inquote = true;
        continue;
      }
      escaping = false;
    } else {
      if (escaping && inquote) tmp += '\\';
      escaping = false;
      if ((state === 'charset' || state === 'lang') && c === "'") {
        if (state === 'charset') charset = tmp.slice(1);
        state = state === 'charset' ? 'lang' : 'value';
        tmp = '';
        continue;
      } else if (state === 'key' && (c === '*' || c === '=') && !type) {
        state = c === '*' ? 'charset' : 'value';
        key = tmp;
        tmp = '';
        continue;
      } else if (!inquote && c === ';') {
        state = 'key';
        finish();
        continue;
      } else if (!inquote && (c === ' ' || c === '\t')) continue;
    }
    tmp += c;
  }
  finish();
  return found;
}
