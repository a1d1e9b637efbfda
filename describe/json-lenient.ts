// JSON as lenient parsers read it. Strict JSON.parse refuses a body with `NaN`, a comment, a trailing
// comma, single quotes or an unquoted key, but servers run it: Python's json (and FastAPI, pydantic)
// take NaN and Infinity; Json.NET (ASP.NET, Web API) takes all of them; JSON5 and JSONC readers take
// comments and trailing commas. Gson's `fromJson` (Java servers that bind bodies with Gson: Spark,
// Ktor's and Spring's Gson converters, hand-written servlets) reads in its lenient mode, as its
// JsonReader documents (twenty-eighth pass, checked against Gson 2.11): `#` end-of-line comments,
// `=` or `=>` between a name and its value, `;` between members and elements, names and string
// values unquoted (`{callback.url = https}`, `{"op": delete}`), `true`/`false`/`null` in any letter
// case, an element left out of an array (`[1,,2]`: a null), and an XSSI prefix `)]}'` and a newline
// before the document. A body only such parsers read is one servers disagree on: describe/
// body.ts reads it this way and marks it ambiguous, so `{"sql": "DROP TABLE users", "n": NaN}` is
// not a harmless text to Airlock while a Python service drops the table.
//
// One pass over the text, no backtracking; nesting is bounded (deeper is reported, not read).

/** Nesting past this is not read (the caller treats the body as ambiguous and unread). */
export const MAX_LENIENT_DEPTH = 512;

/**
 * `trailing`: the text goes on after its first JSON value (another value, NDJSON, or anything).
 * Jackson by default (`FAIL_ON_TRAILING_TOKENS` off, so Spring), Go's `json.NewDecoder(body).Decode`
 * and Gson's `JsonReader` read that first value and never look at the rest.
 */
export type LenientResult = { value: unknown; trailing?: true; more?: unknown[] } | { tooDeep: true } | undefined;

/** Values after the first one read (`more`), at most: a server that reads a stream of values (NDJSON) may run them. */
export const MAX_TRAILING_VALUES = 8;

class Stop extends Error {}

const keywords: ReadonlyArray<readonly [string, boolean | null]> = [['true', true], ['false', false], ['null', null]];

const identStart = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c === '$';
const identPart = (c: string): boolean => identStart(c) || (c >= '0' && c <= '9');
/** A character of an unquoted name or value to Gson (JsonReader.isLiteral): all but these delimiters. */
const literalPart = (c: string | undefined): boolean => c !== undefined && !'/\\;#={}[]:, \t\f\r\n'.includes(c);
/** Gson's XSSI guard, skipped before the document in its lenient mode. */
export const NON_EXECUTE_PREFIX = ")]}'\n";

/** Whether bytes begin (after blanks) with Gson's XSSI guard: a JSON document follows it to Gson. */
export function gsonPrefixed(bytes: Buffer): boolean {
  let at = 0;
  while (at < bytes.length && at < 1024 && (bytes[at] === 0x20 || bytes[at] === 0x09 || bytes[at] === 0x0a || bytes[at] === 0x0d)) at++;
  return bytes.toString('latin1', at, at + NON_EXECUTE_PREFIX.length) === NON_EXECUTE_PREFIX;
}

/**
 * The value of a lenient JSON text (its first value, `trailing` when more follows), `{tooDeep}` past
 * MAX_LENIENT_DEPTH, or undefined when no lenient reader reads it.
 */
export function parseLenientJson(text: string): LenientResult {
  let i = 0;
  let tooDeep = false;
  // Whether only Gson reads what was read (it then reads the whole text, or nothing: assertFullConsumption).
  let gsonOnly = false;
  const fail = (): never => {
    throw new Stop();
  };
  const blank = (): void => {
    for (;;) {
      const c = text[i];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\uFEFF' || c === '\u00A0' || c === '\u2028' || c === '\u2029' || c === '\v' || c === '\f') i++;
      else if ((c === '/' && text[i + 1] === '/') || c === '#') {
        if (c === '#') gsonOnly = true;
        i += c === '#' ? 1 : 2;
        while (i < text.length && text[i] !== '\n' && text[i] !== '\r') i++;
      } else if (c === '/' && text[i + 1] === '*') {
        const end = text.indexOf('*/', i + 2);
        if (end < 0) fail();
        i = end + 2;
      } else return;
    }
  };
  const string = (quote: string): string => {
    i++; // the opening quote
    let out = '';
    let from = i;
    for (;;) {
      if (i >= text.length) fail();
      const c = text[i]!;
      if (c === quote) {
        out += text.slice(from, i);
        i++;
        return out;
      }
      if (c === '\n' || c === '\r') fail();
      if (c !== '\\') {
        i++;
        continue;
      }
      out += text.slice(from, i);
      const e = text[i + 1];
      if (e === undefined) fail();
      i += 2;
      if (e === 'u') {
        const hex = text.slice(i, i + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail();
        out += String.fromCharCode(parseInt(hex, 16));
        i += 4;
      } else if (e === 'x') {
        const hex = text.slice(i, i + 2);
        if (!/^[0-9a-fA-F]{2}$/.test(hex)) fail();
        out += String.fromCharCode(parseInt(hex, 16));
        i += 2;
      } else if (e === '\r') {
        if (text[i] === '\n') i++; // a line continuation
      } else if (e !== '\n') {
        out += ({ b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '0': '\0' } as Record<string, string>)[e!] ?? e;
      }
      from = i;
    }
  };
  const number = (): unknown => {
    const start = i;
    if (text[i] === '+' || text[i] === '-') i++;
    const rest = text.slice(i, i + 8);
    if (rest.startsWith('Infinity')) {
      i += 8;
      return text[start] === '-' ? '-Infinity' : 'Infinity'; // kept as text: the description stays JSON
    }
    if (rest.startsWith('NaN')) {
      i += 3;
      return 'NaN';
    }
    if (text[i] === '0' && (text[i + 1] === 'x' || text[i + 1] === 'X')) {
      i += 2;
      const from = i;
      while (i < text.length && /[0-9a-fA-F]/.test(text[i]!)) i++;
      if (i === from) fail();
      const v = parseInt(text.slice(from, i), 16) * (text[start] === '-' ? -1 : 1);
      return Number.isFinite(v) ? v : text.slice(start, i);
    }
    let digits = 0;
    while (text[i]! >= '0' && text[i]! <= '9') (i++, digits++);
    if (text[i] === '.') {
      i++;
      while (text[i]! >= '0' && text[i]! <= '9') (i++, digits++);
    }
    if (digits === 0) fail();
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      const from = i;
      while (text[i]! >= '0' && text[i]! <= '9') i++;
      if (i === from) fail();
    }
    const v = Number(text.slice(start, i).replace(/^\+/, ''));
    return Number.isFinite(v) ? v : text.slice(start, i);
  };
  const value = (depth: number): unknown => {
    if (depth > MAX_LENIENT_DEPTH) {
      tooDeep = true;
      fail();
    }
    blank();
    const c = text[i];
    if (c === '{') {
      i++;
      const entries: Array<[string, unknown]> = [];
      for (;;) {
        blank();
        if (text[i] === '}') {
          i++;
          return Object.fromEntries(entries);
        }
        let key: string;
        const k = text[i];
        if (k === '"' || k === "'") key = string(k);
        else if (literalPart(k)) {
          key = literal();
          if (!identStart(key[0]!) || ![...key].every(identPart)) gsonOnly = true;
        } else return fail();
        blank();
        // (`:`, or Gson's `=` and `=>`.)
        if (text[i] === '=') (i += text[i + 1] === '>' ? 2 : 1, gsonOnly = true);
        else if (text[i] === ':') i++;
        else fail();
        entries.push([key, value(depth + 1)]);
        blank();
        if (text[i] === ';') gsonOnly = true;
        if (text[i] === ',' || text[i] === ';') i++;
        else if (text[i] !== '}') fail();
      }
    }
    if (c === '[') {
      i++;
      const items: unknown[] = [];
      for (;;) {
        blank();
        if (text[i] === ']') {
          i++;
          return items;
        }
        // (Gson: an element left out between separators is a null.)
        if (text[i] === ',' || text[i] === ';') (items.push(null), gsonOnly = true);
        else items.push(value(depth + 1));
        blank();
        if (text[i] === ';') gsonOnly = true;
        if (text[i] === ',' || text[i] === ';') i++;
        else if (text[i] !== ']') fail();
      }
    }
    if (c === '"' || c === "'") return string(c);
    // (Gson takes the keywords in any letter case, when no literal character follows.)
    for (const [word, v] of keywords) {
      if (text.slice(i, i + word.length).toLowerCase() === word && !literalPart(text[i + word.length])) {
        if (!text.startsWith(word, i)) gsonOnly = true;
        return ((i += word.length), v);
      }
    }
    if (c !== undefined && (c === '-' || c === '+' || c === '.' || c === 'N' || c === 'I' || (c >= '0' && c <= '9'))) {
      const from = i;
      try {
        const n = number();
        if (depth === 0 || !literalPart(text[i])) return n;
      } catch (err) {
        if (!(err instanceof Stop) || depth === 0) throw err;
      }
      i = from;
    }
    // Gson: any other run of literal characters inside a document is an unquoted string.
    if (depth > 0 && literalPart(c)) return ((gsonOnly = true), literal());
    return fail();
  };
  /** A run of Gson's literal characters (an unquoted name or value). */
  const literal = (): string => {
    const from = i;
    while (i < text.length && literalPart(text[i])) i++;
    if (i === from) fail();
    return text.slice(from, i);
  };
  try {
    blank();
    if (text.startsWith(NON_EXECUTE_PREFIX, i)) (i += NON_EXECUTE_PREFIX.length, gsonOnly = true);
    const v = value(0);
    blank();
    if (i === text.length) return { value: v };
    if (gsonOnly) return undefined;
    // The values that follow, as a server reading a stream of them would (up to text that is none).
    const more: unknown[] = [];
    try {
      while (i < text.length && more.length < MAX_TRAILING_VALUES) {
        more.push(value(0));
        blank();
      }
    } catch (err) {
      if (!(err instanceof Stop)) throw err;
    }
    return { value: v, trailing: true, ...(more.length ? { more } : {}) };
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
    return tooDeep ? { tooDeep: true } : undefined;
  }
}
