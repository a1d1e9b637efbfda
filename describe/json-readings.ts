// JSON with duplicate keys: servers disagree on which value counts (JSON.parse, Go, Python: the
// last; several Java and C parsers and JSON-RPC stacks: the first; others reject the body). This
// module finds duplicate keys at any depth and builds the first-wins reading, so the describe step
// can classify a body by the worse of both readings. One iterative pass (no recursion: deep
// nesting cannot overflow the stack), linear in the body length. Run it only on text JSON.parse
// accepted: it relies on the text being valid JSON.

import { entriesOnce } from '../lib/records.ts';

/** A duplicate key: the JSON path of the object holding it, and the key. */
export interface DuplicateKey {
  path: string;
  key: string;
}

export interface JsonScan {
  /** The first few duplicate keys (at most MAX_REPORTED), with their paths. */
  duplicates: DuplicateKey[];
  /** How many duplicate keys the body has in all. */
  duplicateCount: number;
  /** A number a 64-bit float cannot hold (JSON.parse makes it ±Infinity). */
  nonFinite: boolean;
  /** An integer JSON.parse rounds to another one (past 2^53), as the policy reads it (inexactInteger). */
  inexact: boolean;
  /** The first-wins reading; built only when asked for (and only differs when there are duplicates, or in inexact integers, kept as their exact text). */
  firstWins?: unknown;
}

const MAX_REPORTED = 5;
/** A reported path names at most this many of the innermost containers (`$…` stands for the rest). */
const MAX_PATH_PARTS = 32;

interface Frame {
  /** The enclosing frame and where this container sits in it (its path is built only when reported). */
  parent?: Frame;
  at: string | number | undefined;
  /** Object frames: keys seen so far, the key being read; array frames: undefined. */
  keys?: Set<string>;
  key?: string;
  index: number;
  value?: Record<string, unknown> | unknown[];
}

// Bounded in the depth: a path through 200,000 nested arrays is not built (nor held) per duplicate.
function pathOf(frame: Frame | undefined): string {
  const parts: Array<string | number> = [];
  let f = frame;
  for (; f?.parent && parts.length < MAX_PATH_PARTS; f = f.parent) parts.push(f.at!);
  let path = f?.parent ? '$…' : '$';
  for (let k = parts.length - 1; k >= 0; k--) {
    const p = parts[k]!;
    path = typeof p === 'number' ? `${path}[${p}]` : childPath(path, p);
  }
  return path;
}

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** The index after the closing quote of the JSON string that starts at `i`. */
function stringEnd(text: string, i: number): number {
  let j = i + 1;
  for (;;) {
    const q = text.indexOf('"', j);
    if (q < 0) return text.length;
    let b = q - 1;
    while (b > i && text.charCodeAt(b) === 0x5c) b--;
    if ((q - 1 - b) % 2 === 0) return q + 1; // an even number of backslashes: the quote is not escaped
    j = q + 1;
  }
}

const plainKey = /^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/;

function childPath(path: string, key: string): string {
  return plainKey.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key.slice(0, 64))}]`;
}

function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  // defineProperty, like JSON.parse: "__proto__" is an own data property, never the prototype.
  Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
}

/** Scans valid JSON text for duplicate keys; with `build`, also returns the first-wins reading. */
export function scanJson(text: string, build: boolean): JsonScan {
  const duplicates: DuplicateKey[] = [];
  let duplicateCount = 0;
  const stack: Frame[] = [];
  let root: unknown;
  let nonFinite = false;
  let inexact = false;
  let expectKey = false;
  let i = 0;
  const n = text.length;

  /** Places a finished value into the current container (first value of a key wins). */
  const place = (value: unknown): void => {
    const top = stack[stack.length - 1];
    if (!top) {
      root = value;
      return;
    }
    if (!build) return;
    if (top.keys) {
      const o = top.value as Record<string, unknown>;
      if (!Object.prototype.hasOwnProperty.call(o, top.key!)) setOwn(o, top.key!, value);
    } else (top.value as unknown[]).push(value);
  };

  while (i < n) {
    const c = text.charCodeAt(i);
    if (isWs(c) || c === 0x3a /* : */) {
      i++;
      continue;
    }
    const top = stack[stack.length - 1];
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const isObject = c === 0x7b;
      const frame: Frame = { parent: top, at: top ? (top.keys ? top.key : top.index) : undefined, index: 0 };
      if (isObject) frame.keys = new Set();
      if (build) frame.value = isObject ? {} : [];
      stack.push(frame);
      expectKey = isObject;
      i++;
      continue;
    }
    if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      const done = stack.pop()!;
      place(done.value);
      expectKey = false;
      i++;
      continue;
    }
    if (c === 0x2c /* , */) {
      if (top && !top.keys) top.index++;
      expectKey = !!top?.keys;
      i++;
      continue;
    }
    let end: number;
    const isKey = expectKey && !!top?.keys;
    if (c === 0x22 /* " */) {
      end = stringEnd(text, i);
      if (!isKey && !build) {
        i = end; // a string value: nothing to record
        continue;
      }
    } else {
      end = i + 1;
      while (end < n) {
        const d = text.charCodeAt(end);
        if (d === 0x2c || d === 0x7d || d === 0x5d || isWs(d)) break;
        end++;
      }
    }
    // Only a long number or one with an exponent can overflow a double: check just those.
    const isNumber = c === 0x2d || (c >= 0x30 && c <= 0x39);
    if (isNumber && (end - i > 15 || /[eE]/.test(text.slice(i, Math.min(end, i + 400))))) {
      if (!Number.isFinite(Number(text.slice(i, end)))) nonFinite = true;
      else if (!inexact && inexactInteger(text.slice(i, end))) inexact = true;
    }
    const token = isKey || build ? text.slice(i, end) : '';
    i = end;
    if (isKey) {
      // Keys are compared unescaped, as parsers compare them ("a" and "\u0061" are one key).
      const key = token.includes('\\') ? (JSON.parse(token) as string) : token.slice(1, -1);
      if (top!.keys!.has(key)) {
        if (duplicates.length < MAX_REPORTED) duplicates.push({ path: pathOf(top), key: key.slice(0, 64) });
        duplicateCount++;
      } else top!.keys!.add(key);
      top!.key = key;
      expectKey = false;
      continue;
    }
    // (An integer JSON.parse would round is kept as its exact text, as a non-finite one is.)
    if (build) place(isNumber && token.length > 15 && inexactInteger(token) ? token : finiteOrText(JSON.parse(token)));
  }
  return build ? { duplicates, duplicateCount, nonFinite, inexact, firstWins: root } : { duplicates, duplicateCount, nonFinite, inexact };
}

/**
 * Whether a JSON integer literal (no fraction, no exponent) names another integer than the one the
 * policy reads: JSON.parse rounds past 2^53 to the nearest double, and the description is written
 * with JSON.stringify, so `9007199254740993` reaches the policy as `9007199254740992` (and
 * `1234567890123456789` as `1234567890123456800`), while Python, Go decoding into an integer,
 * Java's `long` and PostgreSQL's `bigint` read the literal exactly: another id or amount than the
 * one decided (twenty-seventh pass). A literal the double writes back as itself
 * (`12345678901234567000`) is read alike.
 */
export function inexactInteger(token: string): boolean {
  for (let k = 0; k < token.length; k++) {
    const c = token.charCodeAt(k);
    if (c === 0x2e || c === 0x65 || c === 0x45) return false; // `.`, `e`, `E`: a float to every reader
  }
  const value = Number(token);
  if (!Number.isFinite(value) || Number.isSafeInteger(value)) return false;
  let exact: bigint;
  try {
    exact = BigInt(token);
  } catch {
    return false;
  }
  return exact !== writtenInteger(JSON.stringify(value));
}

/** The integer a JSON number as JSON.stringify writes an integral double names: `-123`, `1.2345e+25`. */
function writtenInteger(text: string): bigint {
  const e = text.indexOf('e');
  if (e < 0) return BigInt(text);
  const mantissa = text.slice(0, e);
  const dot = mantissa.indexOf('.');
  const digits = dot < 0 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  const shift = Number(text.slice(e + 1)) - (dot < 0 ? 0 : mantissa.length - dot - 1);
  return shift >= 0 ? BigInt(digits) * 10n ** BigInt(shift) : BigInt(digits) / 10n ** BigInt(-shift);
}

/**
 * A number too large for a double (`1e999`) as the text "Infinity"/"-Infinity": JSON.parse would
 * make it a non-finite number, which is not JSON and reaches a policy as null. The body is then
 * also marked ambiguous (servers reject, saturate or read it as a big number).
 */
export function finiteOrText(value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}

/** `$.params.name, $.id` (at most five, then a count). */
export function describeDuplicates(dups: DuplicateKey[], count = dups.length): string {
  const shown = dups.slice(0, MAX_REPORTED).map((d) => childPath(d.path, d.key));
  return shown.join(', ') + (count > shown.length ? ` and ${count - shown.length} more` : '');
}

// Keys that differ only in letter case. Go's encoding/json (and .NET or Jackson set to ignore case)
// match object keys to fields case-insensitively — with Unicode simple folding, so `ſ` is `s` and
// the Kelvin sign `K` is `k` — and the last matching key wins: `{"method":"tools/list",
// "Method":"tools/call"}` is a tools/call to such a server, while JSON.parse keeps both keys.

/** Case folding as EqualFold compares (upper then lower maps ſ → s and K → k); over-folds `ß`, which only widens. */
const fold = (key: string): string => key.toUpperCase().toLowerCase();
/** Already folded: distinct such keys can never fold together. */
const folded = (key: string): boolean => /^[^A-Z\u0080-\uffff]*$/.test(key);

/** Calls `visit` on every object in a parsed JSON value with its depth in objects, iteratively (deep nesting cannot blow the stack). */
function eachObject(root: unknown, visit: (obj: Record<string, unknown>, path: string, depth: number, parent: string | undefined) => void): void {
  const stack: Array<[unknown, string, number, string | undefined]> = [[root, '$', 0, undefined]];
  while (stack.length) {
    const [v, path, depth, parent] = stack.pop()!;
    if (!v || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${path}[${i}]`, depth, parent]);
      continue;
    }
    const obj = v as Record<string, unknown>;
    visit(obj, path, depth, parent);
    for (const [k, child] of entriesOnce(obj)) if (child && typeof child === 'object') stack.push([child, childPath(path, k), depth + 1, k]);
  }
}

/**
 * The fields Airlock reads a request by (JSON-RPC, GraphQL, SQL bodies, method overrides, GitHub's
 * force): in the top two levels of objects, a key that folds to one of them (`Method`, `PARAMS`,
 * `\u017Fql` for `sql`) is that field to a case-insensitive server. Deeper (tool arguments, GraphQL
 * variables) only keys that fold together in one object count.
 */
const structural = ['jsonrpc', 'id', 'method', 'params', 'name', 'arguments', 'query', 'sql', 'queries', 'statement', 'stmt', 'batch', 'operationName', 'variables', 'extensions', '_method', 'force'];
const structuralByFold = new Map(structural.map((c) => [fold(c), c]));
const STRUCTURAL_DEPTH = 1;

/**
 * Whether a structural field spelled in another case (alone: no key of its own spelling beside it)
 * is read where it stands (twenty-second pass, follow-up). A tool call's `name` and `arguments` are
 * read in a `params` object only, and a JSON-RPC `id` beside a `method` or `jsonrpc` only: a .NET,
 * OData or AWS body's own `{"Name": …, "Id": 5}` is no call to anyone, and no ambiguity.
 */
function readWhereItStands(field: string, obj: Record<string, unknown>, depth: number, parent: string | undefined, value?: unknown): boolean {
  if (field === 'name' || field === 'arguments') return depth === 1 && parent !== undefined && fold(parent) === 'params';
  // (Twenty-ninth pass) an SQL text under `Statement`, `STMT`, `ſtatement` (an ASP.NET Core or Go
  // handler binds it to `statement`); an IAM policy's `Statement` list is no SQL, and no ambiguity.
  if (field === 'statement' || field === 'stmt') return typeof value === 'string';
  if (field === 'id') return entriesOnce(obj).some(([k]) => fold(k) === 'method' || fold(k) === 'jsonrpc');
  return true;
}

/** Each group of keys of `obj` that a case-insensitive server reads as one field, with the field's name when it is structural. */
function fieldGroups(obj: Record<string, unknown>, depth: number, parent?: string): Array<{ keys: string[]; field?: string }> {
  const keys = entriesOnce(obj).map(([k]) => k);
  if (keys.every(folded)) return [];
  const groups = new Map<string, string[]>();
  for (const k of keys) {
    const f = fold(k);
    const g = groups.get(f);
    if (g) g.push(k);
    else groups.set(f, [k]);
  }
  const out: Array<{ keys: string[]; field?: string }> = [];
  for (const [f, g] of groups) {
    const field = depth <= STRUCTURAL_DEPTH ? structuralByFold.get(f) : undefined;
    if (g.length > 1 || (field !== undefined && g[0] !== field && readWhereItStands(field, obj, depth, parent, obj[g[0]!]))) out.push({ keys: g, ...(field !== undefined ? { field } : {}) });
  }
  return out;
}

/**
 * The readings of case-insensitive parsers when some object has keys equal but for letter case, or
 * a structural field spelled in another case: every spelling (and the field's own name) set to the
 * last one's value, and to the first one's. Undefined when there is none. `places` names them.
 */
export function caseFoldedReadings(value: unknown): { last: unknown; first: unknown; places: string[] } | undefined {
  const places: string[] = [];
  eachObject(value, (obj, path, depth, parent) => {
    for (const g of fieldGroups(obj, depth, parent)) if (places.length < MAX_REPORTED) places.push(`${path}: ${g.keys.slice(0, 3).join(', ')}`.slice(0, 120));
  });
  if (places.length === 0) return undefined;
  const reading = (pick: (keys: string[]) => string): unknown => {
    const copy = structuredClone(value);
    eachObject(copy, (obj, _path, depth, parent) => {
      for (const g of fieldGroups(obj, depth, parent)) {
        const v = obj[pick(g.keys)];
        for (const k of g.keys) obj[k] = v;
        if (g.field !== undefined) obj[g.field] = v;
      }
    });
    return copy;
  };
  return { last: reading((keys) => keys[keys.length - 1]!), first: reading((keys) => keys[0]!), places };
}
