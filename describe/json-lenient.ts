// JSON as lenient parsers read it. Strict JSON.parse refuses a body with `NaN`, a comment, a trailing
// comma, single quotes or an unquoted key, but servers run it: Python's json (and FastAPI, pydantic)
// take NaN and Infinity; Json.NET (ASP.NET, Web API) takes all of them; JSON5 and JSONC readers take
// comments and trailing commas. A body only such parsers read is one servers disagree on: describe/
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

const identStart = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c === '$';
const identPart = (c: string): boolean => identStart(c) || (c >= '0' && c <= '9');

/**
 * The value of a lenient JSON text (its first value, `trailing` when more follows), `{tooDeep}` past
 * MAX_LENIENT_DEPTH, or undefined when no lenient reader reads it.
 */
export function parseLenientJson(text: string): LenientResult {
  let i = 0;
  let tooDeep = false;
  const fail = (): never => {
    throw new Stop();
  };
  const blank = (): void => {
    for (;;) {
      const c = text[i];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\uFEFF' || c === '\u00A0' || c === '\u2028' || c === '\u2029' || c === '\v' || c === '\f') i++;
      else if (c === '/' && text[i + 1] === '/') {
        i += 2;
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
        else if (k !== undefined && identStart(k)) {
          const from = i;
          while (i < text.length && identPart(text[i]!)) i++;
          key = text.slice(from, i);
        } else return fail();
        blank();
        if (text[i] !== ':') fail();
        i++;
        entries.push([key, value(depth + 1)]);
        blank();
        if (text[i] === ',') i++;
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
        items.push(value(depth + 1));
        blank();
        if (text[i] === ',') i++;
        else if (text[i] !== ']') fail();
      }
    }
    if (c === '"' || c === "'") return string(c);
    if (text.startsWith('true', i)) return ((i += 4), true);
    if (text.startsWith('false', i)) return ((i += 5), false);
    if (text.startsWith('null', i)) return ((i += 4), null);
    if (c !== undefined && (c === '-' || c === '+' || c === '.' || c === 'N' || c === 'I' || (c >= '0' && c <= '9'))) return number();
    return fail();
  };
  try {
    const v = value(0);
    blank();
    if (i === text.length) return { value: v };
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
