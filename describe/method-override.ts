// Method overrides: servers that run another method than the request line says.
//
// Frameworks honour the method named in `X-HTTP-Method-Override`, `X-HTTP-Method` or
// `X-Method-Override` (Google APIs, ASP.NET, Express method-override), or in a `_method` parameter
// of the query or the body (Rails and Rack: form bodies; Laravel/Symfony: form, multipart and JSON
// bodies; Slim: `_METHOD` in the body; Salesforce: `_HttpMethod` in the query; Google APIs:
// `$httpMethod` in the query; ASP.NET MVC: `X-HTTP-Method-Override` as a form field or query
// parameter; Flask's method-rewrite snippet: `__METHOD_OVERRIDE__` in the query; PHP turns `.`,
// ` ` and `[` in parameter names into `_`, so `.method` is `_method` there). Names are compared
// without letter case.
// CGI, WSGI and Rack servers see `X_HTTP_Method_Override` as the same header as the hyphenated one.
// Airlock cannot know which of these the upstream honours, so it reads every spelling, and the
// request is classified by its most dangerous reading: the method on the request line or any
// override. An override that cannot be read one way — an unknown verb, values that disagree,
// spellings in more than one place, or a body that may hold one but was not seen whole — is
// marked ambiguous, and the default policy holds it.
import type { BodySummary, MethodOverride, RequestInfo } from './types.ts';
import { formEntries, parameterNames, rackTwoParams, type BodyReading } from './body.ts';
import type { GraphqlRequest } from './graphql.ts';
import { ownedHost, recognize, type Recognized } from './adapters/index.ts';
import { redisReadCommands, upstashHost } from './adapters/sql-redis.ts';
import { multipartFields } from './multipart.ts';
import { scanJson } from './json-readings.ts';
import { serverHeaderKey } from '../lib/text.ts';
import { entriesOnce, lookupTable } from '../lib/records.ts';

export const overrideHeaders = ['x-http-method-override', 'x-http-method', 'x-method-override'];

/** Methods an override may name and be understood; anything else is an unknown verb. */
const knownMethods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Methods the policy reads as reads, whose body (when they carry one) a server may run as a POST's. */
const bodilessReads = new Set(['GET', 'HEAD', 'OPTIONS']);

function isMethodSpelling(name: string): boolean {
  const n = name.toLowerCase();
  // Salesforce's REST API takes `_HttpMethod=PATCH|DELETE` on a POST; Google APIs take the system
  // parameter `$httpMethod` (the query form of `X-HTTP-Method-Override`) on any call.
  if (n === '_httpmethod' || n === '$httpmethod') return true;
  // Flask's method-rewrite middleware (flask.pocoo.org snippet 38, copied into many apps) runs the
  // method `?__METHOD_OVERRIDE__=` names, whatever the request line's.
  if (n === '__method_override__') return true;
  // ASP.NET MVC (`GetHttpMethodOverride`, what `Html.HttpMethodOverride` renders) reads the header
  // name as a form field and as a query parameter too, compared without letter case.
  if (overrideHeaders.includes(n)) return true;
  return n.length === 7 && n.endsWith('method') && (n[0] === '_' || n[0] === '.' || n[0] === ' ' || n[0] === '[');
}

/**
 * Parameter names a server reads as `_method`. PHP rewrites `.`, space and `[` in names to `_`,
 * drops leading spaces and reads a name only up to a NUL byte; Rack 2 drops leading `[`/`]` and
 * trailing `]` (`[_method]` is `_method`).
 */
function isMethodParam(name: string): boolean {
  if (isMethodSpelling(name)) return true;
  if (name.length > 64 || !hasMethodWord(name)) return false;
  const nul = name.indexOf('\0');
  let end = nul >= 0 ? nul : name.length;
  let start = 0;
  while (start < end && name[start] === ' ') start++;
  if (isMethodSpelling(name.slice(start, end))) return true;
  while (start < end && (name[start] === ' ' || name[start] === '[' || name[start] === ']')) start++;
  while (end > start && name[end - 1] === ']') end--;
  return isMethodSpelling(name.slice(start, end));
}

/** `method` in any letter case: Slim reads `_METHOD`, Salesforce `_HttpMethod`. */
function hasMethodWord(text: string): boolean {
  return /method/i.test(text);
}

/** Header names as CGI, WSGI and Rack servers see them: `X_HTTP_Method` is `X-HTTP-Method` there. */
function headerKey(name: string): string {
  return serverHeaderKey(name);
}

export interface OverrideInput {
  method: string;
  url: URL;
  headers: Array<[string, string]>;
  body: Buffer;
  bodyTruncated: boolean;
  /** Media type of the body, lower-case, without parameters. */
  contentType: string;
  /** Every Content-Type header value, whole (servers differ on which of several they take; multipart needs its boundary). */
  contentTypeHeaders: string[];
  /**
   * The body as servers decode it (describe/body.ts): content codings undone, the charset decoded,
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

/** The command of an Upstash Redis REST request (Upstash's or Vercel KV's host), lower-cased, if its path names one. */
function upstashCommand(url: URL): string | undefined {
  const host = url.hostname.toLowerCase();
  if (!upstashHost(host)) return undefined;
  const first = url.pathname.split('/').find((s) => s !== '');
  if (first === undefined) return undefined;
  try {
    return decodeURIComponent(first).toLowerCase();
  } catch {
    return first.toLowerCase(); // a malformed escape: not a read command either way
  }
}

/** The `Action` of an AWS Query API request (a host under amazonaws.com), if it names one. */
function awsQueryAction(url: URL): string | undefined {
  const host = url.hostname.toLowerCase(); // (trailing dots were removed by parseTarget)
  if (!host.endsWith('.amazonaws.com') && !host.endsWith('.amazonaws.com.cn')) return undefined;
  const actions = url.searchParams.getAll('Action');
  // Several Action parameters: whichever the server takes, the request is not one read.
  if (actions.length > 1) return actions.find((a) => !awsReadAction(a)) ?? 'Unknown';
  return actions[0];
}

/**
 * Get… actions that hand out a credential: STS session and federation tokens (fresh keys for the
 * account), EC2's Windows administrator password. A read that returns a key is not a harmless read.
 */
const awsCredentialActions = new Set(['GetSessionToken', 'GetFederationToken', 'GetPasswordData']);

/** AWS Query actions that only read: Describe…, List…, Get… (AWS's naming for reads), but those that hand out a credential. */
function awsReadAction(action: string): boolean {
  return /^(Describe|List|Get)[A-Z]/.test(action) && !awsCredentialActions.has(action);
}

/** URL parameters by which RPC-style APIs name the operation (as engine/grant-scope.ts reads them). */
const operationParamNames = new Set(['action', 'method', 'op', 'operation', 'cmd', 'command']);
/**
 * First words of operation names that change or remove state. Solr's collection and core admin APIs
 * run `GET /solr/admin/collections?action=DELETE&name=…` (and `UNLOAD`, `DELETEALIAS` …) as it is.
 */
const changingWords = new Set(['delete', 'deletealias', 'deletereplica', 'deleteshard', 'deletenode', 'remove', 'drop', 'destroy', 'purge', 'unload', 'truncate', 'wipe', 'reset', 'flush', 'flushall', 'kill', 'shutdown', 'uninstall', 'revoke', 'disable', 'terminate', 'erase']);

/** The first word of an operation name, lower-case: `deleteIndex`, `DELETE`, `delete_all` are `delete`. */
function firstWord(value: string): string {
  const letters = /^[A-Za-z]+/.exec(value.trim())?.[0] ?? '';
  let end = letters.length;
  for (let i = 1; i < letters.length; i++) {
    if (letters[i - 1]! >= 'a' && letters[i - 1]! <= 'z' && letters[i]! >= 'A' && letters[i]! <= 'Z') {
      end = i;
      break;
    }
  }
  return letters.slice(0, end).toLowerCase();
}

/**
 * A URL parameter naming an operation that changes state (`action=DELETE`, `cmd=purge`) on a host no
 * service module describes: such APIs run it whatever the method. Names as PHP and Rack 2 read them.
 */
function changingOperationParam(url: URL, headers: ReadonlyArray<[string, string]>): string | undefined {
  const cookies = cookieHeaders(headers);
  const matrix = url.pathname.includes(';');
  if ((url.search.length < 4 && !cookies.length && !matrix) || ownedHost(url.hostname.toLowerCase())) return undefined;
  for (const [name, value] of url.searchParams) {
    if (!parameterNames(name).some((n) => operationParamNames.has(n.toLowerCase()))) continue;
    if (changingWords.has(firstWord(value))) return name;
  }
  // And a path segment's matrix parameter (`/admin/collections;action=DELETE`), as JAX-RS's
  // `@MatrixParam` and Spring's `@MatrixVariable` bind it (twenty-ninth pass).
  if (matrix) {
    let n = 0;
    for (const segment of url.pathname.split('/')) {
      for (const piece of segment.split(';').slice(1)) {
        if (++n > MAX_COOKIES) break;
        const pair = new URLSearchParams(piece.replaceAll('&', '%26'));
        for (const [name, v] of pair) if (operationParamNames.has(name.trim().toLowerCase()) && changingWords.has(firstWord(v))) return `path ${name}`;
      }
    }
  }
  // Twenty-ninth pass: in a cookie too. PHP's `$_REQUEST` (no php.ini: `EGPCS`, the cookie merged
  // last, over the query) and classic ASP.NET's `Request["action"]` bind the parameter from a
  // cookie, so `GET /admin.php?action=LIST` with `Cookie: action=delete` deletes there. Names and
  // values as sent and URL-decoded (PHP decodes both).
  let seen = 0;
  for (const value of cookies) {
    for (const piece of value.split(';')) {
      if (++seen > MAX_COOKIES) return undefined;
      const eq = piece.indexOf('=');
      if (eq <= 0) continue;
      const pair = new URLSearchParams(`${piece.slice(0, eq).trim().replaceAll('&', '%26')}=${piece.slice(eq + 1).trim().replaceAll('&', '%26')}`);
      for (const [name, v] of pair) {
        if (!parameterNames(name).some((n) => operationParamNames.has(n.toLowerCase()))) continue;
        if (changingWords.has(firstWord(v))) return `cookie ${name}`;
      }
    }
  }
  return undefined;
}

/** Cookies looked at per request for an operation's name. */
const MAX_COOKIES = 200;

function cookieHeaders(headers: ReadonlyArray<[string, string]>): string[] {
  const out: string[] = [];
  for (const [n, v] of headers) if (n.length === 6 && n.toLowerCase() === 'cookie') out.push(v);
  return out;
}

/** Top-level `_method` values of a JSON object, of the last-wins and the first-wins reading. */
function jsonMethodValues(text: string): { values: string[]; odd: boolean } {
  const values: string[] = [];
  let odd = false;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { values, odd }; // not JSON: no _method a JSON parser would see
  }
  // Only a body with a `_method` key can hold a duplicate one: the first-wins reading is built then.
  const top = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? Object.keys(parsed) : [];
  if (!top.some(isMethodParam)) return { values, odd };
  const readings = scanJson(text, false).duplicates.length ? [parsed, scanJson(text, true).firstWins] : [parsed];
  for (const reading of readings) {
    if (!reading || typeof reading !== 'object' || Array.isArray(reading)) continue;
    for (const [name, value] of Object.entries(reading)) {
      if (!isMethodParam(name)) continue;
      if (typeof value === 'string') values.push(value);
      else odd = true;
    }
  }
  return { values, odd };
}

/** Reads every override spelling of a raw request. Linear in the size of headers, URL and body. */
/**
 * Facebook's and Instagram's Graph API take the method as a plain `method` parameter, in the query or
 * the body (`POST /{object-id}` with `method=delete` deletes the object; a GET `?method=post`
 * posts). Elsewhere `method` is an ordinary field (JSON-RPC's, a form's own), so only there.
 */
const graphApiHosts = new Set(['graph.facebook.com', 'graph-video.facebook.com', 'graph.beta.facebook.com', 'graph.instagram.com']);

export function readMethodOverride(input: OverrideInput): OverrideReading {
  const graphApi = graphApiHosts.has(input.url.hostname.toLowerCase().replace(/\.$/, ''));
  const isParam = (name: string): boolean => isMethodParam(name) || (graphApi && name.trim().toLowerCase() === 'method');
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
    const name = headerKey(rawName);
    if (!overrideHeaders.includes(name)) continue;
    for (const v of value.split(',')) add(`header:${name}`, v);
  }
  for (const [name, value] of input.url.searchParams) if (isParam(name)) add('query:_method', value);
  // AWS Query APIs (EC2, IAM, STS, SQS, SNS, SES …) run the `Action` the URL names whatever the
  // method: a signed GET `?Action=TerminateInstances` changes state like a POST.
  const action = awsQueryAction(input.url);
  if (action !== undefined && !awsReadAction(action) && (input.method === 'GET' || input.method === 'HEAD')) add('query:Action', 'POST');
  // Upstash's Redis REST API runs the command the path names whatever the method: a GET
  // `/flushall` or `/set/k/v` changes state like a POST.
  const command = upstashCommand(input.url);
  if (command !== undefined && !redisReadCommands.has(command) && (input.method === 'GET' || input.method === 'HEAD')) add('path:redis-command', 'POST');
  // An RPC-style API runs the operation its URL names whatever the method: a GET
  // `?action=DELETE&name=orders` (Solr's collection admin API) removes like a POST.
  if ((input.method === 'GET' || input.method === 'HEAD') && action === undefined) {
    const named = changingOperationParam(input.url, input.headers);
    if (named !== undefined) add(named.startsWith('cookie ') ? 'cookie:action' : named.startsWith('path ') ? 'path:action' : 'query:action', 'POST');
  }
  // A body on a GET, HEAD or OPTIONS (Airlock forwards it, framed): a server that routes a path
  // whatever the method reads it as it reads a POST's (Go's `http.HandleFunc` without a method in
  // the pattern, Flask's `methods=['GET', 'POST']` with `request.get_json()`, Express's `app.all`,
  // a PHP script reading `php://input`), so `GET /api/run {"sql": "DROP TABLE users"}` runs the DROP.
  if ((input.body.length > 0 || input.bodyTruncated) && bodilessReads.has(input.method)) add('body:read-method', 'POST');

  // Bodies are read as the servers that honour `_method` read them: Rack reads an untyped POST as a
  // form, PHP reads the type only up to `;`, `,` or a blank, Laravel takes any Content-Type
  // containing `/json` or `+json` as JSON. Of several Content-Type headers, each is one some
  // server reads the body by.
  const types = input.contentTypeHeaders.map((h) => h.trim().toLowerCase());
  // Rack parses multipart/related and multipart/mixed bodies for form fields as it does
  // multipart/form-data (its PARSEABLE_DATA_MEDIA_TYPES): any multipart type may carry `_method`.
  const multipartHeader = input.contentTypeHeaders.find((h) => h.trim().toLowerCase().startsWith('multipart/'));
  const untypedPost = input.contentType === '' && types.every((h) => h === '') && input.method === 'POST';
  const form = untypedPost || types.some((h) => h.startsWith('application/x-www-form-urlencoded'));
  const json = types.some((h) => h.includes('/json') || h.includes('+json'));
  // Content codings undone (gzip, deflate, br, stacked), as servers that inflate request bodies read them.
  const bytes = input.read?.decoded ?? input.body;
  if ((form || multipartHeader !== undefined || json) && input.bodyTruncated) unseen = 'the body may carry _method but was larger than the capture';
  else if ((form || multipartHeader !== undefined || json) && input.read?.summary.decode_error) {
    unseen = `the body may carry _method but could not be decoded (${input.read.summary.decode_error.slice(0, 100)})`;
  } else if (bytes.length > 0) {
    if (multipartHeader !== undefined) {
      const found = multipartFields(bytes, multipartHeader, isParam);
      for (const [, v] of found.fields) add('multipart:_method', v);
      if (!found.complete) unseen = 'the multipart body could not be read to its end';
    }
    const text = form || json ? bytes.toString('utf8').replace(/^\uFEFF/, '') : '';
    // Parsed only when a `_method` could be in it (literally, or escaped): most bodies cost one scan.
    if (form && (hasMethodWord(text) || text.includes('%'))) {
      for (const [name, value] of new URLSearchParams(text)) if (isParam(name)) add('form:_method', value);
      // Rack 2 also splits forms on `;`.
      if (text.includes(';')) for (const [name, value] of rackTwoParams(text)) if (isParam(name)) add('form:_method', value);
    }
    // (A key spelled with \u escapes is still `_method` to a JSON parser.)
    if (json && (hasMethodWord(text) || text.includes('\\u'))) {
      const found = jsonMethodValues(text);
      for (const v of found.values) add('json:_method', v);
      if (found.odd) unseen = 'the JSON body has a _method that is not a string';
    }
    // And every reading describe/body.ts made: UTF-16/32 and byte order marks decoded, JSON under
    // any JSON media type or sniffed, the first-wins reading, a form beside sniffed JSON.
    const read = input.read;
    const readings: Array<{ form?: Record<string, string[]>; json?: unknown }> = read ? [{ form: read.summary.form, json: read.summary.json }, ...read.alternates] : [];
    for (const r of readings) {
      if (r.form) for (const [name, vs] of formEntries(r.form)) if (isParam(name)) for (const v of vs) add('form:_method', v);
      if (r.json && typeof r.json === 'object' && !Array.isArray(r.json)) {
        for (const [name, value] of entriesOnce(r.json)) {
          if (!isParam(name)) continue;
          if (typeof value === 'string') add('json:_method', value);
          else unseen = 'the JSON body has a _method that is not a string';
        }
      }
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

const effectRank: Readonly<Record<string, number>> = lookupTable({ read: 0, write: 1, send: 2, delete: 3, pay: 3, admin: 3 });

function methodRank(method: string): number {
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return 0;
  return method === 'DELETE' ? 3 : 1;
}

/**
 * How dangerous a reading is: its effect first; at the same effect, one whose body makes the
 * operation riskier (a ref update with `force`, an update of every row: as describe/readings.ts
 * ranks body readings), then a reading a service names (a merge: the policy may hold it higher than
 * its effect says) above one no route names. A server that ignores the override (PostgREST, and
 * any that does not implement them) runs the request line's method, so a `PUT …/merge` or an
 * unfiltered PostgREST `PATCH` sent with `X-HTTP-Method-Override: POST` is the merge or the update
 * of every row, not an unknown POST or an insert.
 */
function readingRank(r: Recognized, method: string): number {
  let rank = methodRank(method);
  if (r.service) rank = effectRank[r.service.effect] ?? 3;
  // SQL that cannot be read is judged as destructive (policies hold it so).
  if (r.sql) rank = Math.max(rank, r.sql.destructive || !r.sql.parsed ? 3 : 1);
  const p = r.service?.params as { force?: unknown; all_rows?: unknown } | undefined;
  const riskier = p?.force === true || p?.all_rows === true || (r.sql && (r.sql.destructive || !r.sql.parsed)) ? 1 : 0;
  return rank * 4 + riskier * 2 + (r.service && r.service.operation !== 'unknown' ? 1 : 0);
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
