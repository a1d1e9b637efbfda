// The request body as the server will read it: content codings undone (bounded), the charset of
// the byte order mark, of RFC 8259's UTF-16/32 detection or of the `charset` parameter, JSON
// recognized across its media type family (application/json, text/json, application/*+json,
// application/json-rpc, …) and sniffed where no type or a contradicting type is declared. Where
// servers would read a body in more than one way, the summary is marked `ambiguous` with reasons
// and the other readings are returned, so the describe step can classify the request by the worst.
// Every step is linear in the body length.
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import type { AmbiguityReason, BodySummary } from './types.ts';
import { caseFoldedReadings, describeDuplicates, finiteOrText, scanJson } from './json-readings.ts';
import { NON_EXECUTE_PREFIX, parseLenientJson } from './json-lenient.ts';
import { multipartBoundaries, multipartFields } from './multipart.ts';
import { extendedParamValues } from './content-disposition.ts';
import { xmlDoctype } from './xml-doctype.ts';
import { startsXmlRpc, xmlBoundJson } from './xmlrpc.ts';
import { encodedMessageAddresses } from './message-headers.ts';
import { yamlReadings, yamlType } from './yaml-body.ts';
import { appendAll } from '../lib/arrays.ts';
import { emptyMap } from '../lib/records.ts';

/** A body as a server might read it, besides the reading in the summary itself. */
export interface BodyReading {
  label: string;
  json?: unknown;
  form?: Record<string, string[]>;
  text?: string;
  textTruncated?: boolean;
}

export interface SummarizedBody {
  summary: BodySummary;
  /** Other readings of an ambiguous body (empty when there is one reading). */
  alternates: BodyReading[];
  /** The bytes with content codings undone (the body itself when it has none; absent when they could not be undone). */
  decoded?: Buffer;
}

export interface BodyInput {
  body: Buffer;
  truncated: boolean;
  /** Lower-case header name → values, as the description has them. */
  headers: Record<string, string[]>;
  previewBytes: number;
}

/**
 * Decoded (decompressed) bodies larger than this are not read (`decode_error`, which fails closed
 * like a body past the capture cap). It is the default capture cap: a compressed body costs the
 * describe step and the policy no more than a plain one (a 12 KB gzip body of 8 MiB of tiny JSON
 * objects took the evaluator's memory and stalled every agent's requests for seconds).
 */
export const MAX_DECODED_BYTES = 1024 * 1024;
/** How much of an `application/sql` body the description keeps (the SQL parsers' own limit). */
const MAX_SQL_TEXT = 1024 * 1024;
/** A batch body (multipart/mixed) is kept whole up to this; a longer one is not read (fails closed). */
const MAX_BATCH_TEXT = 256 * 1024;
/** How much of a git receive-pack body's command section the description keeps. */
const GIT_COMMANDS_BYTES = 64 * 1024;

/**
 * A query or form as Rack 2 reads it (Ruby servers: Rails, Sinatra, GitHub, Stripe): `;` separates
 * parameters as `&` does, so `a=1;b=2` is two parameters where other servers see one value.
 */
export function rackTwoParams(text: string): URLSearchParams {
  return new URLSearchParams(text.replaceAll(';', '&'));
}

/**
 * A parameter name as PHP (and HHVM, which Slack's API runs on) registers it: leading blanks
 * dropped, the name read up to a NUL byte, `.` and blanks before the first `[` turned into `_`,
 * `a[…]` an array under `a` (a `[` with no `]` is turned into `_` too, and since PHP 8 so are the
 * blanks, dots and `[` after it). So ` channel` and `channel[]` are `channel`, and `channel.id` is
 * `channel_id`. The studio's page has its own copy (studio/app/param-names.ts: the browser app
 * imports nothing of the server); test/approvals/cli-show.test.ts holds the two to one answer.
 */
export function phpName(raw: string): string {
  const nul = raw.indexOf('\0');
  let name = nul >= 0 ? raw.slice(0, nul) : raw;
  let start = 0;
  while (name[start] === ' ') start++;
  name = name.slice(start);
  const open = name.indexOf('[');
  const base = (open < 0 ? name : name.slice(0, open)).replace(/[ .]/g, '_');
  if (open < 0) return base;
  return name.indexOf(']', open) > 0 ? base : `${base}_${name.slice(open + 1).replace(/[ .[]/g, '_')}`;
}

/** The deepest nesting PHP registers (its `max_input_nesting_level` default). */
const PHP_MAX_NESTING = 64;

/**
 * What PHP registers under `base` from parameters given as `base[a][b]=v`, `base[]=v` (phpName's
 * nested names): the nested arrays, each whose keys are 0…n as a list (as a JSON encoder writes
 * it), undefined when none is nested there. Prototype-free maps: `__proto__` is just a key.
 */
export function phpNested(pairs: Iterable<readonly [string, string]>, base: string): unknown {
  const paths: Array<[string[], string]> = [];
  let named = false;
  for (const [raw, value] of pairs) {
    if (phpName(raw) !== base) continue;
    const nul = raw.indexOf('\0');
    const name = nul >= 0 ? raw.slice(0, nul) : raw;
    let at = name.indexOf('[');
    if (at < 0) continue;
    const keys = [base];
    for (let depth = 0; name[at] === '[' && depth < PHP_MAX_NESTING; depth++) {
      const close = name.indexOf(']', at);
      if (close < 0) break;
      keys.push(name.slice(at + 1, close));
      at = close + 1;
    }
    named = true;
    if (keys.length > 1) paths.push([keys, value]);
  }
  // (A name whose first subscript never closes registers the base, empty.)
  return named ? (boundNested(paths, PHP_MAX_NESTING + 1) as Record<string, unknown> | undefined)?.[base] ?? [] : undefined;
}

/**
 * The object servers bind from nested names given as key paths (`a[b][]=v` as `["a", "b", ""]`: PHP,
 * Rack and qs; Spring's `a.b` too): an empty key appends, a map whose keys are 0…n is a list (as a
 * JSON encoder writes it), undefined when no path is given. Prototype-free maps: `__proto__` is
 * just a key. Paths past `maxDepth` keys are read to that depth.
 */
export function boundNested(paths: Iterable<readonly [readonly string[], unknown]>, maxDepth: number): unknown {
  let root: Record<string, unknown> | undefined;
  // Each map's count of keys, kept as keys are added (twenty-fifth pass): counted per `[]`, a form
  // of 40,000 `batch[]=1` (360 KB) to any host held the event loop for 35 s.
  const sizes = new WeakMap<object, number>();
  const put = (node: Record<string, unknown>, key: string, value: unknown): void => {
    if (!Object.hasOwn(node, key)) sizes.set(node, (sizes.get(node) ?? 0) + 1);
    node[key] = value;
  };
  for (const [keys, value] of paths) {
    if (!keys.length) continue;
    root ??= emptyMap();
    let node = root;
    const last = Math.min(keys.length, maxDepth) - 1;
    for (let n = 0; n <= last; n++) {
      const k = keys[n]!;
      const key = k === '' ? String(sizes.get(node) ?? 0) : k;
      if (n === last) {
        put(node, key, value);
        break;
      }
      if (typeof node[key] !== 'object' || node[key] === null) put(node, key, emptyMap());
      node = node[key] as Record<string, unknown>;
    }
  }
  const listed = (x: unknown, depth: number): unknown => {
    if (x === null || typeof x !== 'object' || depth > maxDepth) return x;
    const entries = Object.entries(x).map(([k, y]) => [k, listed(y, depth + 1)] as const);
    if (entries.length && entries.every(([k], i) => k === String(i))) return entries.map(([, y]) => y);
    const out = emptyMap<unknown>();
    for (const [k, y] of entries) out[k] = y;
    return out;
  };
  return root === undefined ? undefined : listed(root, 0);
}

/** Form field names that carry SQL to some server (adapters/index.ts reads them), looked for in multipart bodies. */
const sqlFormFields = new Set(['sql', 'query', 'statement', 'q']);

/**
 * Query, form and JSON field names services take a credential in (GitLab's `private_token`,
 * OAuth's `access_token`, Slack's form `token`): proxy/credential-placement.ts takes them out of a
 * request Airlock injects into, and multipart bodies are read for them (rego/sessions.rego keeps
 * the same list as `agent_credential_params`). Lower case.
 */
export const credentialParams: ReadonlySet<string> = new Set(['access_token', 'api_key', 'apikey', 'api-key', 'private_token', 'auth_token', 'token']);
/** Query parameter names that carry a credential (Google's `?key=` besides the above), lower case. */
export const credentialQueryParams: ReadonlySet<string> = new Set([...credentialParams, 'key', 'client_secret', 'api_token', 'access_key', 'password', 'auth']);
/**
 * A query parameter naming the server session a request runs in: MCP's HTTP+SSE transport posts each
 * message to `/messages?sessionId=…` (the TypeScript SDK; the Python SDK's `?session_id=`). Compared,
 * as Streamable HTTP's `Mcp-Session-Id` header, in `request.own_credentials` (twenty-fifth pass).
 */
export function sessionQueryParam(name: string): boolean {
  const n = name.toLowerCase().replace(/[-_.\s]/g, '');
  return n === 'sessionid' || n === 'mcpsessionid';
}

/**
 * The names servers register a query or form parameter under: PHP's (`phpName`) and Rack 2's, which
 * drops leading `[`/`]` and reads up to the next bracket (`[action]` and `action[]` are `action`).
 */
export function parameterNames(raw: string): string[] {
  const php = phpName(raw);
  let start = 0;
  while (raw[start] === '[' || raw[start] === ']') start++;
  let end = start;
  while (end < raw.length && raw[end] !== '[' && raw[end] !== ']') end++;
  const rack = raw.slice(start, end);
  return php === rack ? [php] : [php, rack];
}

/**
 * The values of the parameters `names` in a query or form, under every name PHP or Rack 2 registers
 * (` sql`, `sql%00x`, `[sql]` are `sql` there; of several, they run the last) and in any letter
 * case (ASP.NET's query and form collections, classic and Core, and its model binding compare names
 * without case: `?SQL=` is `sql` there): name → values.
 */
export function paramsByServerName(params: Record<string, string[]>, names: readonly string[], raw?: string): Record<string, string[]> {
  const out: Record<string, string[]> = emptyMap();
  const byFolded = new Map(names.map((n) => [n.toLowerCase(), n]));
  for (const [rawKey, rawValues] of formEntries(withSemicolonSplit(params, raw))) {
    // Classic ASP.NET (HttpUtility.UrlDecode) and IIS also decode `%uXXXX`, which other parsers
    // leave as text: `?sql=DROP%u0020TABLE%u0020users`, `?%u0073ql=…`. Both readings count.
    const key = rawKey.includes('%u') || rawKey.includes('%U') ? percentU(rawKey) : rawKey;
    // Nothing allocated for a name that is none of `names` (twenty-sixth pass: a form of ~110,000
    // distinct names is read here twice per request).
    let found: Set<string> | undefined;
    for (const k of key === rawKey ? [rawKey] : [rawKey, key]) {
      for (const name of names.includes(k) ? [k] : parameterNames(k)) {
        const wanted = names.includes(name) ? name : byFolded.get(name.toLowerCase());
        if (wanted !== undefined) (found ??= new Set()).add(wanted);
      }
    }
    if (found === undefined) continue;
    const values = rawValues.some((v) => v.includes('%u') || v.includes('%U')) ? [...rawValues, ...rawValues.map(percentU).filter((v, i) => v !== rawValues[i])] : rawValues;
    for (const name of found) appendAll(out[name] ??= [], values);
  }
  return out;
}

/**
 * The parameters of a query or form (`raw`, undecoded) as both readings give them: split on `&`
 * (`params`) and, when the text holds a `;`, also on `;` as Rack 2, Python before 3.9.2 and Go before
 * 1.17 split it (`x=1;sql=DROP …` is a second parameter there). Pairs the split adds are appended.
 */
export function withSemicolonSplit(params: Record<string, string[]>, raw: string | undefined): Record<string, string[]> {
  if (raw === undefined || !raw.includes(';')) return params;
  const { values, done } = copied(params);
  // Each name's values as a set (twenty-fifth pass): an array search per pair was quadratic in the
  // pairs of one name (`a=0;a=1;…`).
  const had = new Map<string, Set<string>>();
  for (const [k, v] of rackTwoParams(raw)) {
    let seen = had.get(k);
    if (seen === undefined) had.set(k, (seen = new Set(params[k] ?? [])));
    if (!seen.has(v)) values(k).push(v);
  }
  return done();
}

/** A copy of a form map, the values of a name in it (added when new), and the copy listed (formEntries) once it is made. */
function copied(params: Record<string, string[]>): { out: Record<string, string[]>; values: (k: string) => string[]; done: () => Record<string, string[]> } {
  const out = emptyMap<string[]>();
  const entries: Array<[string, string[]]> = [];
  for (const [k, vs] of formEntries(params)) entries.push([k, (out[k] = [...vs])]);
  return { out, values: (k) => out[k] ?? (entries.push([k, (out[k] = [])]), out[k]), done: () => listed(out, entries) };
}

/**
 * A parsed form as a `;`-splitting server reads it, when its raw text is no longer at hand: a value
 * holding `;` is cut there, each later piece a `name=value` of its own (a `%3B` the client escaped
 * is cut too: a reading more, never one fewer).
 */
export function formWithSemicolonSplit(params: Record<string, string[]>): Record<string, string[]> {
  const listing = formEntries(params);
  if (!listing.some(([, vs]) => vs.some((v) => v.includes(';')))) return params;
  const { out, values, done } = copied(params);
  // Each name's values as a set (twenty-fifth pass): an array search per piece was quadratic in the
  // values of one name: a 1 MiB form of `a=1;b=<n>` pairs held the event loop for half a minute.
  const seen = new Map<string, Set<string>>();
  const add = (k: string, v: string): void => {
    let have = seen.get(k);
    if (have === undefined) seen.set(k, (have = new Set(out[k] ?? [])));
    if (have.has(v)) return;
    have.add(v);
    values(k).push(v);
  };
  for (const [k, vs] of listing) {
    for (const v of vs) {
      if (!v.includes(';')) continue;
      const [first, ...rest] = v.split(';');
      add(k, first!);
      for (const piece of rest) {
        const eq = piece.indexOf('=');
        if (piece) add(eq < 0 ? piece : piece.slice(0, eq), eq < 0 ? '' : piece.slice(eq + 1));
      }
    }
  }
  return done();
}

/** `%uXXXX` escapes (IIS, classic ASP.NET) decoded; the rest as is. */
export function percentU(text: string): string {
  return text.replace(/%[uU]([0-9A-Fa-f]{4})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

export function multiMap(params: URLSearchParams): Record<string, string[]> {
  const out = emptyMap<string[]>();
  const entries: Array<[string, string[]]> = [];
  for (const [k, v] of params) {
    const vs = out[k];
    if (vs) vs.push(v);
    else entries.push([k, (out[k] = [v])]);
  }
  return listed(out, entries);
}

/**
 * The names and values of a query or form map, in order, listed once when the map was made
 * (`multiMap`, the `;`-split readings) and shared by every reader of the request. Twenty-seventh
 * pass: each `Object.entries`, `Object.keys` or `Object.values` of a map of ~110,000 names (a
 * 1 MiB form of `k0=1&k1=1…`; such a map is a dictionary V8 sorts at each listing) cost ~100 ms of
 * the event loop, and the describe step listed one form eight times (SQL fields under every server's
 * spelling, the `;` reading, credential fields, cookies named as parameters, Webdis, `_method`):
 * ~0.9 s a request. A map made otherwise is listed as it is.
 */
export function formEntries<T>(map: Record<string, T>): ReadonlyArray<readonly [string, T]> {
  return (entryLists.get(map) as Array<[string, T]> | undefined) ?? Object.entries(map);
}

/** Maps whose entries were listed as they were made (formEntries); none is changed after. */
const entryLists = new WeakMap<object, ReadonlyArray<readonly [string, unknown]>>();

/** `map` with its entries (in the order they were added) kept for formEntries, in the order Object.entries gives: array indices first, ascending. */
function listed<T>(map: Record<string, T>, entries: Array<[string, T]>): Record<string, T> {
  let ordered = entries;
  if (entries.some(([k]) => arrayIndex(k))) {
    const indices = entries.filter(([k]) => arrayIndex(k)).sort((a, b) => Number(a[0]) - Number(b[0]));
    ordered = [...indices, ...entries.filter(([k]) => !arrayIndex(k))];
  }
  entryLists.set(map, ordered);
  return map;
}

/** A name JavaScript lists first among an object's keys: an array index (a canonical integer below 2³² − 1). */
function arrayIndex(k: string): boolean {
  const c = k.charCodeAt(0);
  if (k.length === 0 || k.length > 10 || c < 0x30 || c > 0x39 || (c === 0x30 && k.length > 1)) return false;
  for (let i = 1; i < k.length; i++) if (k.charCodeAt(i) < 0x30 || k.charCodeAt(i) > 0x39) return false;
  return Number(k) < 4294967295;
}

/** `type/subtype` lower-case, and the parameters of a Content-Type value. */
function unquote(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

export function parseMediaType(value: string): { type: string; params: Record<string, string> } {
  const parts = value.split(';');
  const params = emptyMap<string>();
  for (const p of parts.slice(1)) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    params[p.slice(0, eq).trim().toLowerCase()] ??= unquote(p.slice(eq + 1).trim());
  }
  return { type: parts[0]!.trim().toLowerCase(), params };
}

/** At most this many Content-Type values are read for their readings (a header repeated beyond is no new reading). */
const MAX_TYPE_VALUES = 8;

/** The parameters of a Content-Type value read with quoted strings (RFC 9110 §5.6.4): `;` inside quotes is no separator. */
export function quotedParams(value: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let i = value.indexOf(';');
  for (let steps = 0; i >= 0 && i < value.length && steps < 64; steps++) {
    let j = i + 1;
    const eq = value.indexOf('=', j);
    const semi = value.indexOf(';', j);
    if (eq < 0) break;
    if (semi >= 0 && semi < eq) { i = semi; continue; }
    const name = value.slice(j, eq).trim().toLowerCase();
    j = eq + 1;
    while (value[j] === ' ' || value[j] === '\t') j++;
    let v = '';
    if (value[j] === '"') {
      j++;
      while (j < value.length && value[j] !== '"') {
        if (value[j] === '\\' && j + 1 < value.length) j++;
        v += value[j++];
      }
      j = value.indexOf(';', j);
    } else {
      const end = value.indexOf(';', j);
      v = value.slice(j, end < 0 ? value.length : end).trim();
      j = end;
    }
    out.push([name, v]);
    i = j;
  }
  return out;
}

/** A JSON value's structure: its keys, nesting and types, every string the same. */
function jsonShape(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'string' ? '' : x));
}

/**
 * Every media type (`type` and its `charset`) a server may take from a request's Content-Type
 * headers, distinct, the one the description reads first: servers take the first header or the
 * last; of a repeated parameter the first (PHP, Go refuses) or the last (Node's content-type,
 * Python's cgi); some read quoted strings (`a="x;charset=utf-8"` is one parameter), some split on
 * every `;`; PHP cuts the type at the first `;`, `,` or blank, so `application/x-www-form-urlencoded,
 * text/plain` is a form there. More than one means the body itself can be read in more than one way.
 */
export function contentTypeReadings(values: string[]): Array<{ type: string; charset?: string }> {
  const out: Array<{ type: string; charset?: string }> = [];
  const add = (type: string, charset: string | undefined): void => {
    const c = charset?.trim().toLowerCase() || undefined;
    if (!out.some((r) => r.type === type && r.charset === c)) out.push(c === undefined ? { type } : { type, charset: c });
  };
  const picked = values.length > MAX_TYPE_VALUES ? [...values.slice(0, MAX_TYPE_VALUES - 1), values[values.length - 1]!] : values;
  for (const value of picked) {
    const { type, params } = parseMediaType(value);
    const naive = value.split(';').slice(1).filter((p) => p.includes('=') && p.slice(0, p.indexOf('=')).trim().toLowerCase() === 'charset').map((p) => unquote(p.slice(p.indexOf('=') + 1).trim()));
    const quoted = quotedParams(value).filter(([n]) => n === 'charset');
    const cut = /^[^;,\s]*/.exec(value.trim().toLowerCase())![0];
    add(type, params.charset);
    for (const c of [naive[naive.length - 1], quoted[0]?.[1], quoted[quoted.length - 1]?.[1]]) add(type, c);
    // RFC 2231 `charset*=utf-8''utf-7` (or `charset*0=`, `charset*1=` pieces): Werkzeug, Django and
    // Python's email package take it for the charset, over a plain `charset=` too.
    for (const c of extendedParamValues(value.split(';').slice(1), 'charset')) add(type, c);
    if (cut !== type) add(cut, params.charset);
  }
  return out;
}

/** The JSON media type family: what JSON servers and JSON-RPC stacks accept as JSON. */
export function isJsonType(type: string): boolean {
  if (type.endsWith('+json')) return type.indexOf('/') > 0;
  return type === 'application/json' || type === 'text/json' || type === 'application/x-json' ||
    type === 'application/json-rpc' || type === 'application/jsonrequest' || type === 'text/x-json';
}

/** Media types of a stream of JSON values (NDJSON, JSON Lines, JSON text sequences). */
const streamTypes = new Set(['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines', 'application/jsonlines', 'application/json-seq']);

const textualApplication = new Set(['application/xml', 'application/javascript', 'application/x-www-form-urlencoded', 'application/graphql', 'application/sql', 'application/sparql-update', 'application/sparql-query', 'application/vnd.flux', 'application/x-ndjson', 'application/x-git-receive-pack-request', 'application/x-git-upload-pack-request']);

/** The media types servers bind as XML: `application/xml`, `text/xml`, `…+xml` (SOAP 1.2's `application/soap+xml` among them). */
const xmlBodyType = (type: string): boolean => type === 'application/xml' || type === 'text/xml' || type.endsWith('+xml');
/** The longest XML text bound as JSON (htmlparser2 reads ~50 MB/s: ~5 ms). */
const MAX_BOUND_XML = 256 * 1024;

function isTextual(type: string): boolean {
  // (`message/rfc822`, `message/global`: a mail message, whose header block names whom it reaches.)
  return type.startsWith('text/') || type.startsWith('message/') || isJsonType(type) || type.endsWith('+xml') || textualApplication.has(type) || type === 'multipart/mixed';
}

type Encoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'utf-32le' | 'utf-32be';

/** The encoding a byte order mark announces, and its length. */
export function bomOf(b: Buffer): { encoding: Encoding; length: number } | undefined {
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xfe && b[2] === 0 && b[3] === 0) return { encoding: 'utf-32le', length: 4 };
  if (b.length >= 4 && b[0] === 0 && b[1] === 0 && b[2] === 0xfe && b[3] === 0xff) return { encoding: 'utf-32be', length: 4 };
  if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return { encoding: 'utf-8', length: 3 };
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return { encoding: 'utf-16le', length: 2 };
  if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) return { encoding: 'utf-16be', length: 2 };
  return undefined;
}

/** RFC 4627 §3: JSON text starts with two ASCII characters, so the NUL pattern of the first four bytes tells UTF-16/32. */
function sniffJsonEncoding(b: Buffer): Encoding | undefined {
  if (b.length < 4) return b.length >= 2 && b[0] === 0 && b[1] !== 0 ? 'utf-16be' : b.length >= 2 && b[0] !== 0 && b[1] === 0 ? 'utf-16le' : undefined;
  const z = [b[0] === 0, b[1] === 0, b[2] === 0, b[3] === 0];
  if (z[0] && z[1] && z[2] && !z[3]) return 'utf-32be';
  if (!z[0] && z[1] && z[2] && z[3]) return 'utf-32le';
  if (z[0] && !z[1] && z[2] && !z[3]) return 'utf-16be';
  if (!z[0] && z[1] && !z[2] && z[3]) return 'utf-16le';
  return undefined;
}

/**
 * XML's own detection where no byte order mark stands (XML 1.0 Appendix F, as expat reads it, so
 * Python's xmlrpc.server, ElementTree and lxml given the bytes): a NUL first byte is UTF-16BE, a NUL
 * second byte UTF-16LE, whatever the Content-Type says (twenty-eighth pass: a UTF-16 XML-RPC call
 * without a BOM under `text/xml` was read here as UTF-8, a text of NULs naming no method, and a grant
 * for one call covered every other). Only a text that so begins with `<` (after blanks).
 */
function sniffXmlEncoding(b: Buffer): 'utf-16le' | 'utf-16be' | undefined {
  // (An odd length is no UTF-16 text: expat refuses it, so nothing reads it as XML.)
  if (b.length < 4 || b.length % 2 === 1) return undefined;
  const encoding = b[0] === 0 && b[1] !== 0 ? 'utf-16be' : b[0] !== 0 && b[1] === 0 ? 'utf-16le' : undefined;
  if (!encoding) return undefined;
  for (let i = 0; i + 1 < b.length && i < 512; i += 2) {
    const c = encoding === 'utf-16le' ? b[i]! | (b[i + 1]! << 8) : (b[i]! << 8) | b[i + 1]!;
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue;
    return c === 0x3c ? encoding : undefined;
  }
  return undefined;
}

/** Charset labels that name one of the Unicode encodings above. */
export function unicodeLabel(label: string): Encoding | 'utf-16' | 'utf-32' | undefined {
  switch (label) {
    case 'utf-8': case 'utf8': case 'unicode-1-1-utf-8': return 'utf-8';
    case 'utf-16le': return 'utf-16le';
    case 'utf-16be': return 'utf-16be';
    case 'utf-16': case 'ucs-2': case 'iso-10646-ucs-2': case 'unicode': return 'utf-16';
    case 'utf-32le': return 'utf-32le';
    case 'utf-32be': return 'utf-32be';
    case 'utf-32': case 'ucs-4': case 'iso-10646-ucs-4': return 'utf-32';
    default: return undefined;
  }
}

export class DecodeFailure extends Error {
  /** `tooLarge`: the body decodes, to more than MAX_DECODED_BYTES (a reader of its whole text read none of it). */
  constructor(message: string, readonly tooLarge = false) {
    super(message);
  }
}

function decodeUtf32(b: Buffer, littleEndian: boolean, surrogates = false): string {
  if (b.length % 4 !== 0) throw new DecodeFailure('UTF-32 body length is not a multiple of 4');
  const parts: string[] = [];
  let chunk: number[] = [];
  for (let i = 0; i < b.length; i += 4) {
    const cp = littleEndian ? b.readUInt32LE(i) : b.readUInt32BE(i);
    const surrogate = cp >= 0xd800 && cp <= 0xdfff;
    if (cp > 0x10ffff || (surrogate && !surrogates)) throw new DecodeFailure(`invalid UTF-32 code point at byte ${i}`);
    chunk.push(surrogate ? 0xfffd : cp);
    if (chunk.length === 8192) {
      parts.push(String.fromCodePoint(...chunk));
      chunk = [];
    }
  }
  parts.push(String.fromCodePoint(...chunk));
  return parts.join('');
}

/** `surrogates`: an unpaired surrogate read as U+FFFD rather than refused (Python's `json.loads` decodes with `surrogatepass`). */
function decodeAs(b: Buffer, encoding: Encoding, surrogates = false): string {
  switch (encoding) {
    case 'utf-8':
      return b.toString('utf8'); // invalid sequences become U+FFFD, as Node, Go and most JSON servers read them
    case 'utf-16le':
    case 'utf-16be':
      if (b.length % 2 !== 0) throw new DecodeFailure('UTF-16 body has an odd number of bytes');
      try {
        return new TextDecoder(encoding, { fatal: !surrogates, ignoreBOM: true }).decode(b);
      } catch {
        throw new DecodeFailure(`invalid ${encoding.toUpperCase()} (unpaired surrogate)`);
      }
    case 'utf-32le':
      return decodeUtf32(b, true, surrogates);
    case 'utf-32be':
      return decodeUtf32(b, false, surrogates);
  }
}

/**
 * A body's bytes as the UTF-8 a server's parser reads when it follows a byte order mark, a UTF-16 or
 * UTF-32 charset, or (JSON) the NUL pattern of the first bytes (Python's `json.loads`, Jackson, .NET):
 * undefined when it reads them as UTF-8 already (nearly every body: a few byte comparisons). Other
 * charsets keep ASCII where it is. Throws DecodeFailure for bytes no such reading accepts (an odd
 * UTF-16 length, a code point past U+10FFFF; an unpaired surrogate is read as U+FFFD).
 */
export function unicodeText(bytes: Buffer, contentType: string | undefined): Buffer | undefined {
  const bom = bomOf(bytes);
  const named = contentType === undefined ? undefined : unicodeLabel(parseMediaType(contentType).params.charset?.toLowerCase() ?? '');
  let encoding: Encoding | undefined = bom?.encoding ?? sniffJsonEncoding(bytes);
  if (!bom && named && named !== 'utf-8') encoding = named === 'utf-16' ? (encoding?.startsWith('utf-16') ? encoding : 'utf-16be') : named === 'utf-32' ? (encoding?.startsWith('utf-32') ? encoding : 'utf-32be') : named;
  if (!encoding || (encoding === 'utf-8' && !bom)) return undefined;
  // (An unpaired surrogate is no refusal here: Python's `json.loads` reads it (`surrogatepass`), so a
  // `batch` after one ran while every reader skipped the body as unreadable: eighteenth pass.)
  return Buffer.from(decodeAs(bom ? bytes.subarray(bom.length) : bytes, encoding, true), 'utf8');
}

/**
 * Content codings a body may stack (`gzip, gzip`), identity not counted. Each layer is inflated
 * whole, up to MAX_DECODED_BYTES, on the event loop, and stored-block gzip costs nothing in size:
 * 2,800 layers around 600 KB (a 970 KB body, 14 KB of Content-Encoding) held the main thread 5 s,
 * for every agent, in each of the places that read the decoded body. More is not decoded (fails closed).
 */
export const MAX_CONTENT_CODINGS = 4;

/**
 * Whether a `deflate` body starts with a zlib header (RFC 1950: method 8, header a multiple of 31),
 * as RFC 9110 says it should; else it is raw deflate, which servers take too (ASP.NET Core's request
 * decompression reads `deflate` with DeflateStream, raw only; Netty's ZLIB_OR_NONE either): read
 * as zlib only, a raw deflate batch did not decode and the readers of any host's body skipped it
 * (eighteenth pass).
 */
export function zlibWrapped(b: Buffer): boolean {
  return b.length < 2 || ((b[0]! & 0x0f) === 8 && ((b[0]! << 8) | b[1]!) % 31 === 0);
}

/**
 * Undoes Content-Encoding (`gzip`, `x-gzip`, `deflate`, `br`, stacked), bounded in output size and
 * layers. `prefix`: the body is the start of a longer one, and what its start decodes to is returned.
 * `lenient`: a layer that does not decode whole is read as lenient decoders read it (`leniently`),
 * for the readings of what a server acts on; the body guard keeps the strict reading (refused).
 */
export function undoContentCoding(body: Buffer, codings: string[], prefix = false, lenient = false): Buffer {
  let out = body;
  const layers = codings.filter((c) => c !== 'identity').length;
  if (layers > MAX_CONTENT_CODINGS) throw new DecodeFailure(`${layers} stacked content codings (at most ${MAX_CONTENT_CODINGS} are decoded)`);
  for (const coding of [...codings].reverse()) {
    const opts = { maxOutputLength: MAX_DECODED_BYTES, ...(prefix ? { finishFlush: zlib.constants.Z_SYNC_FLUSH } : {}) };
    try {
      if (coding === 'gzip' || coding === 'x-gzip') out = zlib.gunzipSync(out, opts);
      else if (coding === 'deflate') out = zlibWrapped(out) ? zlib.inflateSync(out, opts) : zlib.inflateRawSync(out, opts);
      else if (coding === 'br') out = zlib.brotliDecompressSync(out, { maxOutputLength: MAX_DECODED_BYTES, ...(prefix ? { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH } : {}) });
      else if (coding !== 'identity') throw new DecodeFailure(`unknown content coding "${coding.slice(0, 40)}"`);
    } catch (err) {
      if (err instanceof DecodeFailure) throw err;
      const code = (err as { code?: string }).code;
      const failure = new DecodeFailure(code === 'ERR_BUFFER_TOO_LARGE' ? `${coding} body decodes to more than ${MAX_DECODED_BYTES} bytes` : `${coding} body does not decode (${(err as Error).message})`, code === 'ERR_BUFFER_TOO_LARGE');
      if (!lenient || failure.tooLarge) throw failure;
      out = leniently(coding, out, failure);
    }
  }
  return out;
}

/**
 * A layer as lenient decoders read it (nineteenth pass), when it does not decode whole: Go's
 * compress/gzip (and its zlib and flate readers) and Java's GZIPInputStream hand over the data
 * before they read the trailer, so a JSON decoder has its value before the missing or wrong CRC or
 * Adler-32, the cut end, or the bytes after the member are an error; .NET's GZipStream and
 * DeflateStream check no trailer at all. A gzip'd Graph API batch without its 8-byte trailer was
 * unreadable to Airlock, its calls undecided, while such servers ran them. Gzip members are read one
 * after another as Go's multistream reader does, each up to where its deflate data ends; what is
 * read before an error stands. Nothing read: the strict failure.
 */
function leniently(coding: string, b: Buffer, failure: DecodeFailure): Buffer {
  const flush = { maxOutputLength: MAX_DECODED_BYTES, finishFlush: zlib.constants.Z_SYNC_FLUSH };
  const read = (f: () => Buffer): Buffer => {
    try {
      return f();
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new DecodeFailure(`${coding} body decodes to more than ${MAX_DECODED_BYTES} bytes`, true);
      return Buffer.alloc(0);
    }
  };
  let out: Buffer = Buffer.alloc(0);
  if (coding === 'br') out = read(() => zlib.brotliDecompressSync(b, { maxOutputLength: MAX_DECODED_BYTES, finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH }));
  else if (coding === 'deflate') out = read(() => zlib.inflateRawSync(zlibWrapped(b) && b.length >= 2 ? b.subarray(2) : b, flush));
  else {
    const pieces: Buffer[] = [];
    let size = 0;
    // (Bounded: each member takes at least its 10-byte header and one byte of deflate data.)
    for (let at = 0, members = 0; at < b.length && members < 64; members++) {
      const start = gzipDataStart(b, at);
      if (start === undefined) break;
      let used = 0;
      const piece = read(() => {
        const r = zlib.inflateRawSync(b.subarray(start), { ...flush, info: true }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
        used = r.engine.bytesWritten;
        return r.buffer;
      });
      size += piece.length;
      if (size > MAX_DECODED_BYTES) throw new DecodeFailure(`${coding} body decodes to more than ${MAX_DECODED_BYTES} bytes`, true);
      pieces.push(piece);
      if (!used) break;
      at = start + used + 8;
    }
    out = Buffer.concat(pieces);
  }
  if (!out.length) throw failure;
  return out;
}

/** Where a gzip member's deflate data starts (RFC 1952 §2.3: its header and optional fields), or undefined. */
function gzipDataStart(b: Buffer, at: number): number | undefined {
  if (b[at] !== 0x1f || b[at + 1] !== 0x8b || b[at + 2] !== 8) return undefined;
  const flags = b[at + 3]!;
  let p = at + 10;
  if (flags & 4) p += 2 + (b.readUInt16LE(Math.min(p, b.length - 2)) || 0);
  for (const bit of [8, 16]) {
    if (!(flags & bit)) continue;
    const nul = b.indexOf(0, p);
    if (nul < 0) return undefined;
    p = nul + 1;
  }
  if (flags & 2) p += 2;
  return p < b.length ? p : undefined;
}

/** The git receive-pack command section (pkt-lines before the pack), as latin1 text for the git adapter. */
function gitCommandSection(b: Buffer): string {
  let i = 0;
  while (i + 4 <= b.length && i < GIT_COMMANDS_BYTES) {
    if (b.toString('latin1', i, i + 4) === 'PACK') break;
    const len = parseInt(b.toString('latin1', i, i + 4), 16);
    if (!/^[0-9a-fA-F]{4}$/.test(b.toString('latin1', i, i + 4))) break;
    i += len < 4 ? 4 : len;
  }
  return b.toString('latin1', 0, Math.min(i, b.length, GIT_COMMANDS_BYTES + 4));
}

/**
 * SQL bodies are kept whole (within the SQL size limit), like JSON, and so are batches of HTTP
 * requests (multipart/mixed, Google's batch endpoints: each part is a call an adapter judges);
 * other text is previewed.
 */
function textKept(type: string, previewBytes: number): number {
  if (type === 'application/sql') return Math.max(previewBytes, MAX_SQL_TEXT);
  return type === 'multipart/mixed' ? Math.max(previewBytes, MAX_BATCH_TEXT) : previewBytes;
}

/**
 * Whether the only places two readings of a JSON body differ in a number (parsed: a double;
 * exact: the literal's digits as text) are JSON-RPC messages' own `id` (the message, or a batch's
 * entries, carrying `jsonrpc` or `method`). Iterative, visiting each value once.
 */
function onlyRpcIdsDiffer(parsed: unknown, exact: unknown): boolean {
  const stack: Array<[unknown, unknown, number, string | number | undefined, unknown]> = [[parsed, exact, 0, undefined, undefined]];
  while (stack.length) {
    const [a, b, depth, key, holder] = stack.pop()!;
    if (typeof a === 'number' && typeof b === 'string') {
      const rpc = holder !== null && typeof holder === 'object' && !Array.isArray(holder) && ('jsonrpc' in holder || 'method' in holder);
      if (!(key === 'id' && rpc && depth <= 2)) return false;
      continue;
    }
    if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') continue;
    if (Array.isArray(a) && Array.isArray(b)) {
      for (let i = 0; i < a.length && i < b.length; i++) stack.push([a[i], b[i], depth + 1, i, a]);
    } else if (!Array.isArray(a) && !Array.isArray(b)) {
      for (const k of Object.keys(a)) if (Object.hasOwn(b, k)) stack.push([(a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], depth + 1, k, a]);
    }
  }
  return true;
}

/** What a form encoder never leaves raw in a body it writes (URLSearchParams, browsers, curl's `--data-urlencode`). */
const rawFormText = /[\s()'";`/]/;

function parseJson(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

/** Most requests have no body: its digest is known. */
const emptySha256 = crypto.createHash('sha256').digest('hex');

/** Summarizes a body: size, hash, media type, and its parsed content read the way servers read it. */
/** The JSON of a `multipart/related` body's first part when it is a BigQuery job (an object with a `configuration` object). */
function relatedJobPart(bytes: Buffer, header: string): unknown {
  const boundary = multipartBoundaries(header)[0];
  if (boundary === undefined) return undefined;
  const text = bytes.subarray(0, 1024 * 1024).toString('latin1');
  const delimiter = `--${boundary}`;
  const start = text.indexOf(delimiter);
  if (start < 0) return undefined;
  const end = text.indexOf(delimiter, start + delimiter.length);
  const part = text.slice(start + delimiter.length, end < 0 ? undefined : end);
  const blank = part.search(/\r?\n\r?\n/);
  if (blank < 0) return undefined;
  try {
    const o = JSON.parse(Buffer.from(part.slice(blank).trim(), 'latin1').toString('utf8')) as unknown;
    const configuration = o && typeof o === 'object' && !Array.isArray(o) ? (o as { configuration?: unknown }).configuration : undefined;
    return configuration && typeof configuration === 'object' && !Array.isArray(configuration) ? o : undefined;
  } catch {
    return undefined;
  }
}

export function summarizeBody(input: BodyInput): SummarizedBody {
  const { body, truncated, headers, previewBytes } = input;
  const contentTypes = headers['content-type'] ?? [];
  const { type: content_type, params } = parseMediaType(contentTypes[0] ?? '');
  const declared = Number(headers['content-length']?.[0]);
  const summary: BodySummary = {
    size: truncated && Number.isFinite(declared) ? declared : body.length,
    sha256: body.length === 0 ? emptySha256 : crypto.createHash('sha256').update(body).digest('hex'),
    content_type,
    truncated,
  };
  const alternates: BodyReading[] = [];
  const reasons: AmbiguityReason[] = [];
  const ambiguous = (code: AmbiguityReason['code'], detail: string): void => {
    if (!reasons.some((r) => r.code === code && r.detail === detail)) reasons.push({ code, detail: detail.slice(0, 300) });
  };
  let decoded: Buffer | undefined = body;
  const finish = (): SummarizedBody => {
    if (reasons.length) {
      summary.ambiguous = true;
      summary.ambiguous_reasons = reasons;
    }
    return decoded ? { summary, alternates, decoded } : { summary, alternates };
  };

  // Content-Type headers (or parameters) that disagree: servers take the first, the last, or refuse.
  const typeReadings = contentTypes.length ? contentTypeReadings(contentTypes) : [];
  const distinctTypes = new Set(typeReadings.map((r) => r.type));
  if (distinctTypes.size > 1) ambiguous('content_type_conflict', `servers read the Content-Type as different types: ${[...distinctTypes].join(' | ').slice(0, 200)}`);
  const charsets = new Set(typeReadings.map((r) => r.charset ?? '(none)'));
  if (charsets.size > 1) ambiguous('charset_conflict', `servers read the Content-Type's charset in more than one way: ${[...charsets].join(' | ').slice(0, 200)}`);
  if (body.length === 0) return finish();

  // Content codings the server undoes before it reads the body.
  const codings = (headers['content-encoding'] ?? []).flatMap((v) => v.split(',')).map((s) => s.trim().toLowerCase()).filter(Boolean);
  let bytes = body;
  if (codings.length) {
    decoded = undefined;
    if (truncated) return finish();
    try {
      // (As lenient servers read it: the policy judges what such a server acts on.)
      bytes = undoContentCoding(body, codings, false, true);
    } catch (err) {
      summary.decode_error = (err as Error).message;
      return finish();
    }
    decoded = bytes;
  }

  // multipart/form-data: its fields, as the form fields Flask (`request.form`), PHP (`$_POST`),
  // Rails and Spring (`params`, `@RequestParam`) and Express (multer) read them, so that what a form
  // names (Slack's `channel`, an `action=` operation) is read the same whether the body is
  // urlencoded or multipart. Parts naming a file are uploads, not fields, except under a name that
  // carries SQL (`curl -F sql=@q.sql`, which some servers read as the field) or a credential (Slack's
  // `files.upload` takes `token`).
  if (content_type === 'multipart/form-data' && !truncated) {
    const header = contentTypes.find((h) => multipartBoundaries(h).length > 0);
    if (header !== undefined) {
      const mp = multipartFields(bytes, header, (n, file) => !file || parameterNames(n).some((x) => sqlFormFields.has(x.toLowerCase()) || credentialParams.has(x.toLowerCase())));
      if (mp.fields.length) {
        const form: Record<string, string[]> = emptyMap();
        for (const [name, value] of mp.fields) (form[name] ??= []).push(Buffer.from(value, 'latin1').toString('utf8'));
        summary.form = form;
      }
    }
  }

  // Google's multipart upload (`multipart/related`, `uploadType=multipart`): the first part is the
  // resource's JSON metadata, the data after it. A BigQuery job's (`{configuration: …}`: a load
  // with `WRITE_TRUNCATE`, a query) is one more reading of the body, judged as its JSON twin to
  // `…/jobs` is (twenty-seventh pass: it was a plain medium POST there).
  if (content_type === 'multipart/related' && !truncated) {
    const header = contentTypes.find((h) => multipartBoundaries(h).length > 0);
    const job = header === undefined ? undefined : relatedJobPart(bytes, header);
    if (job !== undefined) alternates.push({ label: 'multipart/related metadata part', json: job });
  }

  if (content_type === 'application/x-git-receive-pack-request') {
    summary.text = gitCommandSection(bytes);
    return finish();
  }

  // Which encoding: the byte order mark, else the charset parameter, else (JSON) the NUL pattern.
  const bom = bomOf(bytes);
  const jsonDeclared = isJsonType(content_type);
  const label = params.charset?.toLowerCase();
  const named = label === undefined ? undefined : unicodeLabel(label);
  let encoding: Encoding | undefined;
  let other: string | undefined; // a non-Unicode charset (latin1, windows-1252, …), decoded by TextDecoder
  let start = 0;
  if (bom) {
    encoding = bom.encoding;
    start = bom.length;
    if (named && named !== encoding && !encoding.startsWith(named)) ambiguous('charset_conflict', `charset=${label} but the body starts with a ${encoding.toUpperCase()} byte order mark`);
    else if (label !== undefined && !named) ambiguous('charset_conflict', `charset=${label.slice(0, 40)} but the body starts with a ${encoding.toUpperCase()} byte order mark`);
  } else if (label !== undefined) {
    if (named === 'utf-16') encoding = 'utf-16be'; // RFC 2781: big-endian without a byte order mark
    else if (named === 'utf-32') encoding = 'utf-32be';
    else if (named) encoding = named;
    else other = label;
    const sniffed = (jsonDeclared || !content_type ? sniffJsonEncoding(bytes) : undefined) ?? (content_type.startsWith('multipart/') ? undefined : sniffXmlEncoding(bytes));
    if (sniffed && sniffed !== encoding) {
      // JSON parsers that detect the encoding themselves (RFC 4627) read it as the NUL pattern says,
      // and XML parsers given the bytes (expat) as their own detection says.
      ambiguous('charset_conflict', `charset=${label.slice(0, 40)} but the body's first bytes are ${sniffed.toUpperCase()} ${jsonDeclared || !content_type ? 'JSON' : 'XML'}`);
      encoding = sniffed;
      other = undefined;
    } else if (!sniffed && (named === 'utf-16' || named === 'utf-32')) {
      // No byte order mark and a charset that names no byte order: big-endian by RFC 2781 (Java),
      // little-endian in Python and .NET. The same bytes are two texts.
      ambiguous('charset_conflict', `charset=${label.slice(0, 40)} names no byte order and the body has no byte order mark: servers read it big-endian (RFC 2781, Java) or little-endian (Python, .NET)`);
    }
  } else {
    encoding = (jsonDeclared || !content_type || !isTextual(content_type) ? sniffJsonEncoding(bytes) : undefined) ?? (content_type.startsWith('multipart/') ? undefined : sniffXmlEncoding(bytes)) ?? 'utf-8';
  }
  if (encoding && encoding !== 'utf-8') summary.charset = encoding;
  else if (other) summary.charset = other;

  let text: string;
  try {
    if (other !== undefined) {
      try {
        text = new TextDecoder(other, { fatal: true }).decode(bytes);
      } catch (err) {
        throw new DecodeFailure(err instanceof RangeError && /not supported|invalid/i.test(err.message) ? `unknown charset "${other.slice(0, 40)}"` : `body is not valid ${other.slice(0, 40)}`);
      }
    } else text = decodeAs(start ? bytes.subarray(start) : bytes, encoding!);
  } catch (err) {
    if (!(err instanceof DecodeFailure)) throw err;
    summary.decode_error = err.message;
    return finish();
  }

  // JSON: declared (any of the family), or sniffed when no type or another type is declared.
  const trimmed = text.trimStart();
  // (Gson skips its XSSI guard `)]}'` before the document: twenty-eighth pass.)
  const looksJson = trimmed.startsWith('{') || trimmed.startsWith('[') || trimmed.startsWith(NON_EXECUTE_PREFIX);
  if (!truncated && (jsonDeclared || looksJson)) {
    // JSON is UTF-8 (RFC 8259): Go, Node (Fastify, Express's raw readers) and Rust read the bytes
    // so whatever `charset` says; servlets and Spring decode them by it. Under SJIS, BIG5 or GBK a
    // `\` byte can end a character, so the two read other strings, even other keys (thirteenth pass).
    if (other !== undefined && bytes !== undefined) {
      const raw = bytes.toString('utf8');
      if (raw !== text) {
        const strict = parseJson(raw);
        const lenient = strict ? undefined : parseLenientJson(raw);
        const value = strict ? strict.value : lenient && 'value' in lenient ? lenient.value : undefined;
        // Both readings are judged (the worse stands); other strings alone (a Latin-1 label on
        // UTF-8 text) are no ambiguity, another structure or no JSON at all is.
        if (value !== undefined) alternates.push({ label: 'JSON (charset ignored)', json: value });
        const declared = parseJson(text);
        if (!strict || !declared || jsonShape(strict.value) !== jsonShape(declared.value)) {
          ambiguous('charset_conflict', `charset=${(label ?? '').slice(0, 40)} but servers that read JSON as UTF-8 (as RFC 8259 says) read the body otherwise`);
        }
      }
    }
    const parsed = parseJson(text);
    if (parsed) {
      const scan = scanJson(text, false);
      // JSON.parse turns 1e999 into Infinity, which is not JSON: read it again with such numbers as
      // text; and an integer it rounds (past 2^53) as its exact text, so the policy and the person
      // asked see the digits the server reads (from the scan's reading, which is the same value but
      // for duplicate keys).
      // (A JSON-RPC message's own `id` is only echoed back: rounded, it changes nothing the server does.)
      const exact = scan.inexact ? scanJson(text, true).firstWins : undefined;
      const inexact = exact !== undefined && !onlyRpcIdsDiffer(parsed.value, exact);
      summary.json = inexact && !scan.duplicates.length ? exact
        : scan.nonFinite ? JSON.parse(text, (_k, v: unknown) => finiteOrText(v)) : parsed.value;
      if (scan.nonFinite) ambiguous('json_number_out_of_range', 'a number too large for a 64-bit float (servers reject it, saturate it or read it exactly)');
      if (inexact) ambiguous('json_number_out_of_range', 'an integer past 2^53 that JavaScript, and so the policy, reads rounded to another integer, while Python, Go (into an integer), Java and databases read it exactly: another id or amount than the one decided');
      if (scan.duplicates.length) {
        ambiguous('json_duplicate_key', `duplicate keys (first-wins and last-wins parsers read different values): ${describeDuplicates(scan.duplicates, scan.duplicateCount)}`);
        alternates.push({ label: 'first-wins', json: scanJson(text, true).firstWins });
      }
      const folds = caseFoldedReadings(summary.json);
      if (folds) {
        ambiguous('json_duplicate_key', `keys equal but for letter case (parsers that match keys case-insensitively, like Go's, read one for the other): ${folds.places.join('; ')}`);
        alternates.push({ label: 'case-folded (last wins)', json: folds.last }, { label: 'case-folded (first wins)', json: folds.first });
      }
      if (content_type && !jsonDeclared) {
        ambiguous('content_type_mismatch', `Content-Type ${content_type.slice(0, 80)} but the body is JSON (servers that sniff the body read JSON)`);
        if (content_type === 'application/x-www-form-urlencoded') {
          const form = multiMap(new URLSearchParams(text));
          summary.form = form;
          alternates.push({ label: 'form', form });
        } else if (isTextual(content_type)) {
          const keep = textKept(content_type, previewBytes);
          alternates.push({ label: 'text', text: text.slice(0, keep), textTruncated: text.length > keep });
        }
      }
      return finish();
    }
    // Not JSON to JSON.parse, but JSON to lenient parsers (Python's NaN, Json.NET's comments,
    // quotes and trailing commas): servers disagree on it, and the lenient reading is the one that runs.
    let lenient = parseLenientJson(text);
    if (lenient && 'tooDeep' in lenient) {
      ambiguous('json_lenient', 'a body only lenient JSON parsers read, nested too deep to read here');
      return finish();
    }
    // A stream of values under a type that declares one (NDJSON, JSON Lines: Elasticsearch's
    // `_bulk`) is what every server reads as such: text, as before, not an ambiguity.
    if (lenient && 'value' in lenient && lenient.trailing && streamTypes.has(content_type)) lenient = undefined;
    if (lenient) {
      summary.json = lenient.value;
      ambiguous('json_lenient', lenient.trailing
        ? 'the body goes on after its first JSON value: strict JSON parsers refuse it; Jackson (by default), Go\'s json.Decoder and Gson run that first value'
        : 'strict JSON parsers refuse the body; lenient ones (NaN or Infinity, comments, trailing commas, single quotes, unquoted keys) read it');
      // A server reading a stream of values (NDJSON) runs the ones after the first too.
      for (const [n, json] of (lenient.more ?? []).entries()) alternates.push({ label: `JSON value ${n + 2}`, json });
      return finish();
    }
  }
  // XML (an XML-RPC call, a SOAP envelope) under a type that says otherwise: servers that read the
  // raw body run it whatever the Content-Type (Python's xmlrpc.server, WordPress's xmlrpc.php), so
  // its text is kept; under a form type a form reader reads something else: ambiguous.
  const formType = content_type === 'application/x-www-form-urlencoded';
  if (content_type && trimmed.startsWith('<') && (formType ? trimmed.startsWith('<?xml') || startsXmlRpc(trimmed) : !isTextual(content_type))) {
    const keep = textKept(content_type, previewBytes);
    summary.text = text.slice(0, keep);
    if (truncated || text.length > keep) summary.text_truncated = true;
    if (formType) ambiguous('content_type_mismatch', `Content-Type ${content_type} but the body is XML (servers that read the raw body read XML)`);
  }
  // A whole mail message under a type that says bytes (`application/octet-stream`): a send API
  // that reads the raw body sends it, so its text is kept and whom its header block names read
  // (twenty-third pass; engine/grant-scope.ts).
  if (content_type && !isTextual(content_type) && !content_type.startsWith('multipart/') && summary.text === undefined && encodedMessageAddresses(trimmed, !truncated) !== undefined) {
    const keep = textKept('text/plain', previewBytes);
    summary.text = text.slice(0, keep);
    if (truncated || text.length > keep) summary.text_truncated = true;
  }
  // An XML body with a DTD (an internal subset, an external one): parsers that expand its entities
  // and default attributes (Python's ElementTree, xmlrpc.server and expat, lxml, REXML) read other
  // elements, text and method names than Airlock's reader, which does not (seventeenth pass).
  if (trimmed.startsWith('<')) {
    const dtd = xmlDoctype(text, content_type.includes('html'));
    if (dtd) ambiguous('xml_dtd', `the XML body declares ${dtd}: parsers that expand its entities and default attributes read another document than those that do not`);
  }
  if (!truncated && content_type === 'application/x-www-form-urlencoded') {
    summary.form = multiMap(new URLSearchParams(text));
    // Characters no form encoder leaves raw (a blank, a quote, a parenthesis: curl's `-d 'DROP
    // TABLE users'` types its text as a form): servers that read the raw body (ClickHouse's `POST /`)
    // read that text (twentieth pass), so it is read as text too.
    if (rawFormText.test(text)) {
      const keep = textKept('text/plain', previewBytes);
      alternates.push({ label: 'text (a form no encoder wrote)', text: text.slice(0, keep), textTruncated: text.length > keep });
    }
    // Rack, PHP and Go read a form's bytes whatever its `charset` says; servlets decode them by it.
    // A charset under which the bytes read otherwise (`charset=utf-16` over ASCII) gives two forms.
    if (bytes !== undefined && (encoding !== undefined ? encoding !== 'utf-8' : other !== undefined)) {
      const raw = bytes.toString('utf8');
      if (raw !== text) {
        ambiguous('charset_conflict', `charset=${(label ?? '').slice(0, 40)} but servers that ignore it read the form's bytes otherwise`);
        alternates.push({ label: 'form (charset ignored)', form: multiMap(new URLSearchParams(raw)) });
      }
    }
    return finish();
  }
  // An XML body under an XML type: what a server that binds XML to an object reads (Jackson's XML
  // module, ASP.NET Core's XML formatters, JAXB), as a JSON reading (twenty-ninth pass).
  if (!truncated && xmlBodyType(content_type) && trimmed.startsWith('<') && text.length <= MAX_BOUND_XML) {
    const bound = xmlBoundJson(text);
    if (bound !== undefined) alternates.push({ label: 'XML (bound as JSON)', json: bound });
    // (.NET names an element by its property, `<Sql>`: read as the field it binds, as in JSON.)
    const folds = bound === undefined ? undefined : caseFoldedReadings(bound);
    if (folds) alternates.push({ label: 'XML (bound as JSON, case-folded)', json: folds.last });
  }
  // A YAML body: what a server that binds YAML reads, as JSON readings (describe/yaml-body.ts).
  if (!truncated && yamlType(content_type)) {
    const yaml = yamlReadings(text);
    for (const r of yaml.readings) alternates.push(r);
    if (yaml.duplicateKeys) ambiguous('json_duplicate_key', 'a YAML mapping gives a key twice (PyYAML, SnakeYAML and Jackson take the last, Go\'s yaml.v3 refuses the body)');
  }
  if (isTextual(content_type) || !content_type) {
    const keep = textKept(content_type, previewBytes);
    summary.text = text.slice(0, keep);
    if (truncated || text.length > keep) summary.text_truncated = true;
  }
  return finish();
}
