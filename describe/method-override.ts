// Method overrides: servers that run another method than the request line says.
//
// Frameworks honour the method named in `X-HTTP-Method-Override`, `X-HTTP-Method` or
// `X-Method-Override` (Google APIs, ASP.NET, Express method-override), or in a `_method` parameter
// of the query or the body (Rails and Rack: form bodies; Laravel/Symfony: form, multipart and JSON
// bodies; PHP turns `.`, ` ` and `[` in parameter names into `_`, so `.method` is `_method` there).
// Airlock cannot know which of these the upstream honours, so it reads every spelling, and the
// request is classified by its most dangerous reading: the method on the request line or any
// override. An override that cannot be read one way — an unknown verb, values that disagree,
// spellings in more than one place, or a body that may hold one but was not seen whole — is
// marked ambiguous, and the default policy holds it.
import type { BodySummary, MethodOverride, RequestInfo } from './types.ts';
import { isJsonType, type BodyReading } from './body.ts';
import type { GraphqlRequest } from './graphql.ts';
import { recognize, type Recognized } from './adapters/index.ts';
import { dispositionName } from './content-disposition.ts';

export const overrideHeaders = ['x-http-method-override', 'x-http-method', 'x-method-override'];

/** Methods an override may name and be understood; anything else is an unknown verb. */
const knownMethods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Parameter names a server reads as `_method` (PHP rewrites `.`, space and `[` in names to `_`). */
function isMethodParam(name: string): boolean {
  return name.length === 7 && name.endsWith('method') && (name[0] === '_' || name[0] === '.' || name[0] === ' ' || name[0] === '[');
}

/** At most this many multipart parts are looked at; past it the body counts as not seen whole. */
const MAX_PARTS = 1000;

export interface OverrideInput {
  method: string;
  url: URL;
  headers: Array<[string, string]>;
  body: Buffer;
  bodyTruncated: boolean;
  /** Media type of the body, lower-case, without parameters. */
  contentType: string;
  /** The full Content-Type header value (multipart needs its boundary). */
  contentTypeHeader: string;
  /**
   * The body as servers read it (describe/body.ts): content codings undone, the charset decoded,
   * JSON recognized across its media types, and its other readings. Without it the raw body is read.
   */
  read?: { summary: BodySummary; alternates: BodyReading[]; decoded?: Buffer };
}

export interface OverrideReading {
  /** `request.effective_method`; undefined when the override is ambiguous (then the most dangerous reading's method). */
  effective?: string;
  /** `request.method_override`, when any spelling is present. */
  override?: MethodOverride;
  /** The methods the request may be run as: overrides first, the request line's method last. */
  readings: string[];
}

function multipartMethodValues(body: Buffer, header: string): { values: string[]; complete: boolean } {
  const m = /;\s*boundary=(?:"([^"]{1,200})"|([^\s;]{1,200}))/i.exec(header);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) return { values: [], complete: false };
  const text = body.toString('latin1');
  const delimiter = `--${boundary}`;
  const values: string[] = [];
  let at = text.indexOf(delimiter);
  let parts = 0;
  while (at >= 0) {
    const start = at + delimiter.length;
    if (text.startsWith('--', start)) return { values, complete: true };
    const next = text.indexOf(delimiter, start);
    if (next < 0 || ++parts > MAX_PARTS) return { values, complete: false };
    const part = text.slice(start, next);
    const split = part.indexOf('\r\n\r\n');
    if (split >= 0) {
      const head = part.slice(0, split);
      const name = dispositionName(head);
      if (name !== undefined && isMethodParam(name)) values.push(part.slice(split + 4).replace(/\r\n$/, ''));
    }
    at = next;
  }
  return { values, complete: false };
}

/** Reads every override spelling of a raw request. Linear in the size of headers, URL and body. */
export function readMethodOverride(input: OverrideInput): OverrideReading {
  const values: string[] = [];
  const sources: string[] = [];
  let unseen: string | undefined;
  const add = (source: string, value: string): void => {
    const v = value.trim().toUpperCase();
    if (!v) return;
    values.push(v);
    if (!sources.includes(source)) sources.push(source);
  };
  for (const [rawName, value] of input.headers) {
    const name = rawName.toLowerCase();
    if (!overrideHeaders.includes(name)) continue;
    for (const v of value.split(',')) add(`header:${name}`, v);
  }
  for (const [name, value] of input.url.searchParams) if (isMethodParam(name)) add('query:_method', value);

  const type = input.contentType;
  const form = type === 'application/x-www-form-urlencoded';
  const multipart = type === 'multipart/form-data';
  const json = isJsonType(type);
  const read = input.read;
  if ((form || multipart || json) && input.bodyTruncated) unseen = 'the body may carry _method but was larger than the capture';
  else if (read) {
    // The body as the server reads it: gzip/deflate/br undone, UTF-16 or a BOM decoded, JSON under
    // any JSON media type (Laravel reads `_method` from every `/json` and `+json` body), and every
    // other reading of an ambiguous body (first-wins JSON, a form beside sniffed JSON).
    const readings: Array<{ form?: Record<string, string[]>; json?: unknown }> = [{ form: read.summary.form, json: read.summary.json }, ...read.alternates];
    for (const r of readings) {
      if (r.form) for (const name of Object.keys(r.form)) if (isMethodParam(name)) for (const v of r.form[name]!) add('form:_method', v);
      if (r.json && typeof r.json === 'object' && !Array.isArray(r.json)) {
        for (const [name, value] of Object.entries(r.json)) {
          if (!isMethodParam(name)) continue;
          if (typeof value === 'string') add('json:_method', value);
          else unseen = 'the JSON body has a _method that is not a string';
        }
      }
    }
    if (multipart && read.decoded) {
      const found = multipartMethodValues(read.decoded, input.contentTypeHeader);
      for (const v of found.values) add('multipart:_method', v);
      if (!found.complete && read.decoded.length > 0) unseen = 'the multipart body could not be read to its end';
    }
    if ((form || multipart || json) && read.summary.decode_error) unseen = `the body may carry _method but could not be decoded (${read.summary.decode_error.slice(0, 100)})`;
  } else if (form) {
    // Parsed only when a `_method` could be in it (literally, or percent-encoded): most forms cost one scan.
    const text = input.body.toString('utf8');
    if (text.includes('method') || text.includes('%')) {
      for (const [name, value] of new URLSearchParams(text)) if (isMethodParam(name)) add('form:_method', value);
    }
  } else if (multipart) {
    const found = multipartMethodValues(input.body, input.contentTypeHeader);
    for (const v of found.values) add('multipart:_method', v);
    if (!found.complete && input.body.length > 0) unseen = 'the multipart body could not be read to its end';
  } else if (json && (input.body.includes('method') || input.body.includes('\\u'))) {
    // (A key spelled with \u escapes is still `_method` to a JSON parser.)
    try {
      const parsed = JSON.parse(input.body.toString('utf8')) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        for (const [name, value] of Object.entries(parsed)) {
          if (!isMethodParam(name)) continue;
          if (typeof value === 'string') add('json:_method', value);
          else unseen = 'the JSON body has a _method that is not a string';
        }
      }
    } catch {
      /* not JSON: no _method a JSON parser would see */
    }
  }

  if (values.length === 0 && !unseen) return { effective: input.method, readings: [input.method] };
  const distinct = [...new Set(values)];
  const unknown = distinct.filter((v) => !knownMethods.has(v));
  let reason: string | undefined;
  if (unseen) reason = unseen;
  else if (unknown.length) reason = `unknown method ${unknown.slice(0, 3).join(', ').slice(0, 100)}`;
  else if (distinct.length > 1) reason = `conflicting overrides ${distinct.join(', ')}`;
  else if (sources.length > 1) reason = `overrides in more than one place (${sources.join(', ')})`;
  const override: MethodOverride = { values: values.slice(0, 20), sources, ambiguous: reason !== undefined, ...(reason ? { reason } : {}) };
  const readings = [...new Set([...distinct.filter((v) => knownMethods.has(v)), ...(unknown.length || unseen ? ['DELETE', 'PATCH', 'PUT', 'POST'] : []), input.method])];
  return { ...(reason === undefined ? { effective: distinct[0]! } : {}), override, readings };
}

const effectRank: Record<string, number> = { read: 0, write: 1, send: 2, delete: 3, pay: 3, admin: 3 };

function methodRank(method: string): number {
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return 0;
  return method === 'DELETE' ? 3 : 1;
}

function readingRank(r: Recognized, method: string): number {
  let rank = methodRank(method);
  if (r.service) rank = effectRank[r.service.effect] ?? 3;
  if (r.sql) rank = Math.max(rank, r.sql.destructive ? 3 : 1);
  return rank;
}

/**
 * Recognizes the request under each reading and keeps the most dangerous one (ties go to the
 * earlier reading: an override before the request line's method). Returns the method it chose.
 */
export function recognizeWorstReading(request: RequestInfo, readings: string[], graphql?: GraphqlRequest): { recognized: Recognized; method: string } {
  if (readings.length <= 1 && readings[0] === request.method) return { recognized: recognize(request, graphql), method: request.method };
  let best: { recognized: Recognized; method: string; rank: number } | undefined;
  for (const method of readings) {
    const recognized = recognize(method === request.method ? request : { ...request, method }, graphql);
    const rank = readingRank(recognized, method);
    if (!best || rank > best.rank) best = { recognized, method, rank };
  }
  return best!;
}
