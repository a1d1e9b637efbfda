// Service recognition for the describe step: which known API a request calls (`input.service`)
// and what SQL it carries (`input.sql`). Pure and synchronous; SQL is read once loadAdapters() has
// resolved (sql-engines.ts: the proxy loads the engines when SQL first arrives).
// Adding a service is one module exporting a ServiceAdapter, listed in `adapters` below.
import { requestCookies, type AmbiguityReason, type RequestInfo, type ServiceInfo, type SqlInfo } from '../types.ts';
import { namesPersistedQuery, urlGraphqlParams, urlNamesStoredDocument, type GraphqlRequest } from '../graphql.ts';
import type { ServiceAdapter, SqlSource } from './adapter.ts';
import { anthropic } from './anthropic.ts';
import { cloudflare } from './cloudflare.ts';
import { git } from './git.ts';
import { github } from './github.ts';
import { gmail } from './gmail.ts';
import { neon } from './neon.ts';
import { openai } from './openai.ts';
import { slack } from './slack.ts';
import { telegram } from './telegram.ts';
import { analyzeSqlIn } from './sql-dialects.ts';
import { clickhouseSettingEffect, loadSqlParser, MAX_SQL_BYTES, reachesOutside } from './sql.ts';
import { unreadSqlEffect } from './sql-clickhouse.ts';
import { loadSqliteEngine } from './sql-sqlite.ts';
import { stripe } from './stripe.ts';
import { mongoDataApiSql, prismaSql } from './sql-prisma.ts';
import { upstashSql } from './sql-redis.ts';
import { cqlText, otherLanguageSql } from './sql-languages.ts';
import { emptyMap, entriesOnce } from '../../lib/records.ts';
import { postgrestSql } from './sql-postgrest.ts';
import { hasuraHoldsForEveryRow } from './sql-hasura.ts';
import { boundValues, chatSqlCommand, isRpcPath, magicReadings, rpcSql, sqlArgument, sqlFromBody } from './sql-body.ts';
import { formEntries, formWithSemicolonSplit, paramsByServerName } from '../body.ts';
import { supabase } from './supabase.ts';
import { trimTrailing } from '../../lib/text.ts';

export type { ServiceAdapter, SqlSource } from './adapter.ts';

/** In order: the first adapter that owns the host and describes the request wins. `git` (any host) is last. */
export const adapters: readonly ServiceAdapter[] = [github, stripe, gmail, slack, telegram, supabase, neon, cloudflare, openai, anthropic, git];

/** Loads what reading SQL needs (PostgreSQL's parser and SQLite, as WASM); until then SQL is unparsed. */
export function loadAdapters(): Promise<void> {
  return Promise.all([loadSqlParser(), loadSqliteEngine()]).then(() => undefined);
}

export interface Recognized {
  service?: ServiceInfo;
  sql?: SqlInfo;
  /** Set when the SQL reads differently under the grammars the endpoint might speak. */
  ambiguity?: AmbiguityReason;
  /**
   * Set when SQL no service owns holds a statement that writes (INSERT, UPDATE, DELETE, DDL,
   * CALL …): a GET carrying it is judged as the POST the server runs (describe.ts, `query:sql`).
   */
  sqlWrites?: boolean;
}

/**
 * Path names that mark a generic SQL-over-HTTP endpoint taking `{query}` or `{statement}` (GraphQL
 * never lives here): `/sql`, `/query`, Snowflake and Databricks `…/statements`, BigQuery `…/queries`,
 * Trino `/v1/statement`.
 */
// `cql`: Stargate's and Astra's CQL over REST (`POST /v2/cql`, `/api/rest/v2/cql?keyspaceQP=…`, the
// statement as the text body; twenty-eighth pass: `TRUNCATE users` and `DROP KEYSPACE ks` were plain POSTs).
const sqlEndpointNames = new Set(['sql', 'query', 'execute', 'exec', 'raw', 'statement', 'statements', 'queries', 'cql']);

/**
 * SQL in a request no adapter claims: `{sql: "…"}` (JSON or form) anywhere, `{query: "…"}` to an
 * SQL-looking path. The dialect is unknown, so it is read with every known grammar.
 */
function genericSql(request: RequestInfo): SqlSource | undefined {
  // Twenty-sixth pass: query languages other than SQL (Elasticsearch, Cypher, SPARQL, InfluxQL,
  // Prometheus, Firestore, Webdis), each read in its own grammar and judged as its SQL twin.
  const other = otherLanguageSql(request);
  if (other) return other;
  const clickhouse = clickhouseSql(request);
  if (clickhouse) return clickhouse;
  const postgrest = postgrestSql(request);
  if (postgrest) return postgrest;
  return bodyAndUrlSql(request.method, bodySql(request), urlSql(request));
}

/**
 * A body's SQL and the URL's together (twenty-ninth pass). Servers bind a handler's parameter from
 * the query and the body merged, and not all give the body the last word: Rails' `params` merges
 * the query over the body (`request_parameters.merge(query_parameters)`), Spring's `@RequestParam`
 * and a servlet's `getParameter` take the query's value first, Flask's `request.values.get` too,
 * Express handlers often read `req.query.sql ?? req.body.sql`. So `POST /v1/run?sql=DROP TABLE
 * users` with `{"sql": "SELECT 1"}` (or the form `sql=SELECT+1`) runs the DROP there, while the
 * URL was read only when the body held no SQL: the SELECT alone was judged. Both are read now; a
 * URL text no grammar reads statements in (`?sql=red shoes`) adds nothing, as on its own.
 */
function bodyAndUrlSql(method: string, body: SqlSource | undefined, url: SqlSource | undefined): SqlSource | undefined {
  if (!body || !url) return body ?? url;
  if ('error' in body) return body;
  if ('error' in url) return url;
  // The URL's texts are SQL only when a grammar reads statements in them (they are sniffed).
  const kept = body.sniffed === true ? url : eachSniffed(url, method);
  if (!kept || !('texts' in kept) || kept.texts.length === 0) return body;
  const texts = [...body.texts, ...kept.texts];
  const params = body.params ? [...body.params, ...kept.texts.map(() => undefined)] : undefined;
  return { ...body, texts, ...(params ? { params } : {}) };
}

/**
 * Trino's (and Presto's) roles for a statement come in a header, not a statement: its protocol
 * keeps a session's state on the client, which sends `X-Trino-Role: system=ROLE{admin}` (and
 * `catalog=ALL`) with each statement to run it in that role (twenty-eighth pass: `SELECT …` under
 * `X-Trino-Role: system=ROLE{admin}` was the SELECT alone, while `SET ROLE admin` in the text is a
 * privilege change). Each role a header names is read as the `SET ROLE` it stands for, before the
 * statement; `NONE` (no role) adds none. The price: a client that keeps sending the role after an
 * approved `SET ROLE` has each later statement held as that change.
 */
function withTrinoRoles(request: RequestInfo, source: SqlSource): SqlSource {
  if (!('texts' in source)) return source;
  const values = [...(request.headers['x-trino-role'] ?? []), ...(request.headers['x-presto-role'] ?? [])];
  // Twenty-ninth pass: session properties come the same way (`X-Trino-Session: hive.insert_existing_partitions_behavior=OVERWRITE`),
  // each read as the setting it stands for (`SET name = 'value'`; values percent-encoded, as Trino's client sends them).
  const sessions: string[] = [];
  for (const entry of [...(request.headers['x-trino-session'] ?? []), ...(request.headers['x-presto-session'] ?? [])].join(',').split(',').slice(0, 64)) {
    const eq = entry.indexOf('=');
    if (eq <= 0) continue;
    let v = entry.slice(eq + 1).trim();
    try {
      v = decodeURIComponent(v);
    } catch {
      // (kept as sent)
    }
    const name = entry.slice(0, eq).trim();
    // A property's name is an identifier, or a catalog's and its own (`hive.x`); Trino refuses others.
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,127}(\.[A-Za-z_][A-Za-z0-9_]{0,127})?$/.test(name)) continue;
    sessions.push(`SET ${name} = '${v.slice(0, 1000).replaceAll("'", "''").replaceAll('\\', '\\\\')}'`);
  }
  if (!values.length && !sessions.length) return source;
  const roles: string[] = [...sessions];
  for (const entry of values.length ? values.join(',').split(',').slice(0, 64) : []) {
    const v = entry.slice(entry.indexOf('=') + 1).trim();
    if (/^none$/i.test(v)) continue;
    const named = /^ROLE\{(.{0,200})\}$/i.exec(v);
    roles.push(`SET ROLE "${(named ? named[1]! : v.slice(0, 200)).replaceAll('"', '""')}"`);
  }
  return roles.length ? { ...source, texts: [...roles, ...source.texts], ...(source.params ? { params: [...roles.map(() => undefined), ...source.params] } : {}) } : source;
}

/** The last path segment as a server routes it: `/v1/query;jsessionid=…` (path parameters, which Java servers drop) and `/v1/query.json` (a format suffix, which Rails and others drop) route to `/v1/query`. */
function lastSegment(request: RequestInfo): string {
  return (request.segments[request.segments.length - 1]?.toLowerCase() ?? '').split(';')[0]!.replace(/\.(json|xml|csv|txt|sql)$/, '');
}

function isSqlPath(request: RequestInfo): boolean {
  return sqlEndpointNames.has(lastSegment(request)) && !request.segments.some((s) => s.toLowerCase() === 'graphql');
}

/**
 * SQL in the URL's parameters, whatever the method (a server may run a GET's SQL too): `?sql=`
 * anywhere, `?query=`, `?statement=` and `?q=` to an SQL-looking path. SQL when a grammar reads statements
 * in it, otherwise not SQL (`?query=red+shoes`).
 */
function urlSql(request: RequestInfo): SqlSource | undefined {
  // PostgREST anywhere, called with GET: `…/rpc/exec_sql?query=…`.
  if (isRpcPath(request.segments)) {
    const rpc = rpcSql(request);
    if (rpc) return rpc;
  }
  // `q` too on an SQL path: InfluxDB's `/query?q=DROP DATABASE …` (ninth pass).
  // `script`, `command` and `cmd` anywhere (seventeenth pass: `?script=DELETE FROM users` was an
  // allowed read): SQL only when a grammar reads statements in them, as `?sql=` is.
  const names = isSqlPath(request) ? ['sql', 'query', 'statement', 'stmt', 'q', 'script', 'command', 'cmd'] : ['sql', 'script', 'command', 'cmd'];
  // Under every name PHP or Rack 2 reads as one of them (`?%20sql=`, `?[sql]=`), and as Rack 2
  // splits the query on `;` (`?x=1;sql=DROP …`).
  const query = paramsByServerName(request.query, names, request.url.includes(';') ? new URL(request.url).search.slice(1) : undefined);
  const texts = names.flatMap((n) => query[n] ?? []).filter((v) => v.trim() !== '');
  // Other names that say SQL, on any path (sixteenth pass): phpMyAdmin's `sql_query`, `sqlQuery`,
  // `rawSql` (as MCP arguments are named), each SQL when a grammar reads statements in it.
  for (const v of sqlNamedValues(request.query)) if (texts.length < MAX_URL_SQL_TEXTS) texts.push(v);
  // Twenty-ninth pass: the same names in a cookie. PHP's `$_REQUEST` (no php.ini, as in the official
  // Docker images: `request_order` unset, so `EGPCS`, the cookie last and winning) and classic
  // ASP.NET's `Request["sql"]` (query, form, then cookies) bind the parameter from a cookie:
  // `GET /run?sql=SELECT 1` with `Cookie: sql=DROP+TABLE+users` was an allowed read.
  // And in a path segment's matrix parameters (`/v1/run;sql=DROP%20TABLE%20users`), which JAX-RS's
  // `@MatrixParam` (Jersey, RESTEasy) and Spring's `@MatrixVariable` bind.
  for (const params of [cookieParams(request), matrixParams(request.path)]) {
    if (!params) continue;
    const named = paramsByServerName(params, names);
    for (const v of [...names.flatMap((n) => named[n] ?? []), ...sqlNamedValues(params)]) if (v.trim() !== '' && texts.length < MAX_URL_SQL_TEXTS) texts.push(v);
  }
  // Seventeenth pass: a parameter whose value is a JSON object or list (`?q={"sql": "DELETE FROM
  // users"}`, `?params=[{"sql": …}]`: a body carried in the URL, as servers that take one read it)
  // holds SQL where a JSON body would; and a segment after an SQL path name is a statement
  // (`GET /api/query/DELETE%20FROM%20users`). Each SQL when a grammar reads statements in it.
  for (const vs of Object.values(request.query)) {
    for (const v of vs) if (texts.length < MAX_URL_SQL_TEXTS) for (const x of jsonParamSql(v, isSqlPath(request))) if (texts.length < MAX_URL_SQL_TEXTS) texts.push(x);
  }
  // Nineteenth pass: any other name (`?expr=DROP TABLE users`, `?filter=`, `?run=`): a GET of it
  // was an allowed read. A phrase or a read under such a name stays no SQL; a statement that a
  // grammar reads whole and that writes, or that grammars read differently, is SQL.
  let tried = 0;
  for (const [k, vs] of Object.entries(request.query)) {
    if (names.includes(k) || phraseNames.has(k.toLowerCase())) continue;
    // Twentieth pass: base64 or twice percent-encoded there too (`?expr=RFJPUCBUQUJMRSB1c2Vycw==`
    // was an allowed read; only names that say SQL were decoded).
    for (const v of vs.flatMap((x) => [x, ...encodedReadings(x)])) {
      if (texts.length >= MAX_URL_SQL_TEXTS || texts.includes(v) || !writeWord.test(v)) continue;
      // Each reading costs the grammars' time: past a bound the values are read as if SQL (unread).
      if (++tried > MAX_UNNAMED_READINGS) return { error: `more than ${MAX_UNNAMED_READINGS} URL parameters holding SQL's words` };
      if (writingStatement(v)) texts.push(v);
    }
  }
  for (const [i, seg] of request.segments.entries()) {
    const next = request.segments[i + 1];
    if (next === undefined || !sqlEndpointNames.has(seg.toLowerCase())) continue;
    // Segments come decoded (describe.ts), as the server routes them.
    if (next.trim() !== '' && texts.length < MAX_URL_SQL_TEXTS) texts.push(next);
  }
  return texts.length ? { texts, sniffed: true } : undefined;
}

/** Names that hold what people write (a search, a title, a message): `?query=drop table tennis` off an SQL path is a search. */
const phraseNames = new Set(['query', 'q', 'search', 's', 'term', 'terms', 'keyword', 'keywords', 'text', 'title', 'subject', 'message', 'msg', 'comment', 'description', 'content', 'prompt', 'name']);
/** Longest value under a name that says nothing of SQL read for a statement that writes. */
const MAX_UNNAMED_SQL = 16 * 1024;
/** Values under other names read by the grammars per request, at most. */
const MAX_UNNAMED_READINGS = 16;
/** A word that begins or makes a statement that writes, in any grammar (a cheap test before the grammars). */
const writeWord = /\b(drop|delete|update|insert|truncate|alter|create|grant|revoke|replace|merge|call|exec|execute|do|copy|set|attach|detach|pragma|vacuum|load|rename|upsert|lock|comment|reindex|cluster|refresh|kill|shutdown|handler|into|prepare|deallocate|import|export|install|begin|declare|select)\b/i;

/** Whether a text under a name that says nothing of SQL is a statement that writes as a grammar reads it whole. */
function writingStatement(v: string): boolean {
  if (v.length > MAX_UNNAMED_SQL || v.trim().length < 6 || !writeWord.test(v)) return false;
  const a = analyzeSqlIn([v], 'unknown');
  // Two plain words that happen to be a maintenance statement (`vacuum cleaner`, `analyze results`) are a phrase.
  if (/^\s*[A-Za-z]+\s+[A-Za-z]+\s*$/.test(v) && !a.info.destructive) return false;
  return a.ambiguity !== undefined || (a.info.parsed && a.info.statements.length > 0 && !a.readOnly);
}

/** Longest URL parameter value parsed as JSON for the SQL it may carry. */
const MAX_JSON_PARAM = 64 * 1024;

/** SQL-carrying fields (nestedSqlFields; `query`/`statement` too on an SQL path, as in a body) of a parameter value that is a JSON object or list; none for any other value. */
function jsonParamSql(value: string, sqlPath: boolean): string[] {
  const c = value.trimStart()[0];
  if ((c !== '{' && c !== '[') || value.length > MAX_JSON_PARAM) return [];
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    return [];
  }
  if (!json || typeof json !== 'object') return [];
  const items = Array.isArray(json) ? json.slice(0, MAX_URL_SQL_TEXTS) : [json];
  const out: string[] = [];
  for (const item of items) {
    if (typeof item === 'string' && sqlPath) out.push(item);
    if (!isObject(item)) continue;
    if (sqlPath) for (const k of ['query', 'statement', 'stmt']) if (typeof item[k] === 'string') out.push(item[k] as string);
    out.push(...nestedSqlFields(item).texts);
  }
  return out.filter((t) => t.trim() !== '');
}

/** The values of parameters whose name holds `sql` but is not `sql` itself (`_`, `-`, blanks, brackets and letter case aside), at most MAX_URL_SQL_TEXTS. */
function sqlNamedValues(params: Record<string, string[]>): string[] {
  const out: string[] = [];
  for (const [k, vs] of formEntries(params)) {
    const folded = k.toLowerCase().replace(/[_\-\s[\]]/g, '');
    if (folded === 'sql' || !folded.includes('sql')) continue;
    for (const v of vs) if (v.trim() !== '' && out.length < MAX_URL_SQL_TEXTS) out.push(v);
  }
  return out;
}

/**
 * A request's cookies as the parameters PHP and classic ASP.NET bind from them: each name and value
 * as sent (ASP.NET) and URL-decoded (PHP decodes both, `+` as a blank). Undefined when there are none.
 */
function cookieParams(request: RequestInfo): Record<string, string[]> | undefined {
  const pairs = request[requestCookies];
  if (!pairs?.length) return undefined;
  const out = emptyMap<string[]>();
  const decoded = (x: string): string => new URLSearchParams(`a=${x.replaceAll('&', '%26')}`).get('a') ?? x;
  for (const [n, v] of pairs) {
    for (const [name, value] of [[n, v], [decoded(n), decoded(v)]] as const) {
      const list = (out[name] ??= []);
      if (!list.includes(value)) list.push(value);
    }
  }
  return out;
}

/** Matrix parameters read per path, at most. */
const MAX_MATRIX_PARAMS = 64;

/**
 * A path's matrix parameters (`;name=value` after a segment, split on the raw `;` as JAX-RS and
 * Spring split them, each name and value percent-decoded).
 * Undefined when the path has none.
 */
function matrixParams(path: string): Record<string, string[]> | undefined {
  if (!path.includes(';')) return undefined;
  const out = emptyMap<string[]>();
  let n = 0;
  const decoded = (x: string): string => {
    try {
      return decodeURIComponent(x);
    } catch {
      return x;
    }
  };
  for (const segment of path.split('/')) {
    const pieces = segment.split(';');
    for (const piece of pieces.slice(1)) {
      if (++n > MAX_MATRIX_PARAMS) return out;
      const eq = piece.indexOf('=');
      if (eq <= 0) continue;
      const name = decoded(piece.slice(0, eq));
      const value = decoded(piece.slice(eq + 1));
      (out[name] ??= []).push(value);
    }
  }
  return out;
}

/** Texts read from a URL's parameters, at most (eachSniffed reads each on its own). */
const MAX_URL_SQL_TEXTS = 64;

/** SQL in the body of a POST or PUT no adapter claims. */
function bodySql(request: RequestInfo): SqlSource | undefined {
  if (request.method !== 'POST' && request.method !== 'PUT') return undefined;
  // PostgREST anywhere (self-hosted, a platform no module names): `…/rpc/exec_sql {query}`.
  if (isRpcPath(request.segments)) {
    const rpc = rpcSql(request);
    if (rpc) return rpc;
  }
  const body = request.body;
  if (body.content_type === 'application/sql' && body.text !== undefined) return sqlFromBody(request);
  const last = lastSegment(request);
  const sqlPath = isSqlPath(request);
  // A body Airlock cannot decode (a charset it has no decoder for: ASP.NET and servlets decode a
  // form in EBCDIC `ibm037`; a broken coding) to an SQL-looking path, or a form or JSON anywhere
  // (`sql` is SQL in either): the server may read any statement in it, so its SQL is unread.
  if (body.decode_error && (sqlPath || body.content_type === 'application/x-www-form-urlencoded' || /[/+]json$/.test(body.content_type))) return sqlFromBody(request);
  const keys = ['query', 'sql', 'statement'];
  // JSON sent as a form (`curl -d '{"sql": …}'`) is read here as the JSON it is: its form reading
  // is an alternate of its own (describe/readings.ts). Read first, the form's field cut at the
  // statement's `=` (`{"sql":"UPDATE users SET admin ` = ` true"}`) hid the JSON's SQL (seventeenth pass).
  const formFields = body.json === undefined ? body.form : undefined;
  // Form fields under every name PHP or Rack 2 reads as one of them (` sql`, `[sql]`, ` q`).
  // And as Rack 2 splits it on `;` (`x=1;sql=DROP …`).
  const form = formFields ? paramsByServerName(formWithSemicolonSplit(formFields), [...keys, 'q']) : undefined;
  if (form && (form.sql?.length || (sqlPath && (form.query?.length || form.statement?.length)))) return sqlFromBody({ ...request, body: { ...body, form } }, { keys: sqlPath ? keys : ['sql'] });
  // A form's `q` to an SQL path (InfluxDB's POST /query): SQL when a grammar reads statements in it.
  if (form && sqlPath && form.q?.some((v) => v.trim() !== '')) return { texts: form.q.filter((v) => v.trim() !== ''), sniffed: true };
  // Other form fields whose name says SQL (phpMyAdmin's `sql_query`), as a JSON body's and a URL's are (sixteenth pass).
  const formSql = formFields ? sqlNamedValues(formFields) : [];
  if (formSql.length) return { texts: formSql, sniffed: true };
  if (formFields) {
    const named = paramsByServerName(formWithSemicolonSplit(formFields), formSqlNames);
    const texts = formSqlNames.flatMap((n) => named[n] ?? []).filter((v) => v.trim() !== '').slice(0, MAX_URL_SQL_TEXTS);
    // Twentieth pass: a field whose value is a JSON object (Hue's `snippet={"statement": "DROP TABLE
    // users"}` to `/notebook/api/execute/sql`) holds SQL where a JSON body would, as a URL parameter's does.
    for (const [, vs] of formEntries(formFields).slice(0, MAX_URL_SQL_TEXTS)) {
      for (const v of vs.slice(0, MAX_URL_SQL_TEXTS)) for (const x of jsonParamSql(v, sqlPath)) if (texts.length < MAX_URL_SQL_TEXTS) texts.push(x);
    }
    // A slash command naming a database (Slack's `command=/sql&text=DROP TABLE users`): its `text` is the statement.
    if ((named.command ?? []).some((c) => chatSqlCommand(c.trim()))) for (const v of (formFields.text ?? []).slice(0, MAX_URL_SQL_TEXTS)) if (v.trim() !== '') texts.push(v);
    if (texts.length) return { texts, sniffed: true };
  }
  // libSQL's Hrana over protobuf (`/v3-protobuf/pipeline`, `…/cursor`), and a binary encoding of
  // structured data to an SQL-looking path (PlanetScale's Connect `…/Database/Execute` as
  // `application/proto`, gRPC, MessagePack, CBOR): the SQL is in a body Airlock does not decode.
  if ((last === 'pipeline' || last === 'cursor') && request.segments.some((s) => s.toLowerCase() === 'v3-protobuf') && body.size > 0) {
    return { error: 'a Hrana protobuf body (libSQL): its SQL is not read' };
  }
  if (sqlPath && body.size > 0 && binaryStructured.test(body.content_type)) return { error: `an ${body.content_type} body to an SQL endpoint: its SQL is not read` };
  const json = body.json;
  // Trino takes the statement as the plain body of `POST /v1/statement`.
  if (json === undefined && sqlPath && last === 'statement' && body.size > 0) return withTrinoRoles(request, sqlFromBody({ ...request, body: { ...body, content_type: 'application/sql' } }));
  // Stargate's and Astra's CQL over REST takes the statement as the text body: read as CQL, and
  // unread where no grammar reads it (a CQL endpoint's body is a statement, never a phrase).
  if (json === undefined && sqlPath && last === 'cql' && body.size > 0) {
    return body.text === undefined || body.text_truncated ? { error: 'a CQL body Airlock did not read whole' } : { texts: [cqlText(body.text)] };
  }
  // Other SQL-looking paths take it so too (ClickHouse-style `/query`, `/sql`): SQL when a grammar
  // reads statements in the text, as a `{query}` elsewhere.
  if (json === undefined && sqlPath && body.text !== undefined && !body.text_truncated && body.text.trim() !== '') return { texts: [body.text], sniffed: true };
  // Upstash's Redis REST API: each command as its SQL twin (sql-redis.ts).
  const redis = upstashSql(request, json, body.text);
  if (redis) return redis;
  // A JSON array of statements, or of `[statement, …params]` (rqlite's `/db/execute`, `/db/query`
  // and `/db/request`), to any path: SQL when a grammar reads statements in them. A batch of
  // JSON-RPC calls: each call's SQL.
  if (Array.isArray(json)) return statementList(json) ?? jsonRpcSql(json);
  if (!json || typeof json !== 'object') return undefined;
  const o = json as Record<string, unknown>;
  const rpc = jsonRpcSql([o]);
  if (rpc) return rpc;
  if (typeof o.sql === 'string') {
    const params = boundValues(o);
    if (params && 'error' in params) return params;
    return params ? { texts: [o.sql], params: [params] } : { texts: [o.sql] };
  }
  if (typeof o.stmt === 'string' && o.stmt.trim() !== '') return crateSql(o.stmt, o, sqlPath || last === '_sql');
  const prisma = prismaSql(o) ?? mongoDataApiSql(o, request.segments);
  if (prisma) return prisma;
  const carried = carriedSql(o, last, request.segments.length === 0 || sqlPath, request.segments);
  if (carried) return carried;
  const named = namedFieldSql(o, last);
  if (named) return named;
  // Databricks' command execution API (`POST /api/1.2/commands/execute {language, command}`): SQL
  // when the language is SQL; Python, Scala or R run anything on the cluster, SQL included, unread.
  if (sqlPath && typeof o.command === 'string' && typeof o.language === 'string') {
    return o.language.trim().toLowerCase() === 'sql' ? { texts: [o.command] } : { error: `a ${o.language.slice(0, 20)} command: code Airlock does not read, which may run any SQL` };
  }
  // BigQuery's jobs.insert: {configuration: {query: {query}}}, and what the job writes besides.
  const jobQuery = (o.configuration as { query?: { query?: unknown } } | undefined)?.query;
  const job = jobQuery?.query;
  const written = isObject(o.configuration) ? bigQueryJobWrites(o.configuration) : undefined;
  if (written && 'error' in written) return written;
  if (typeof job === 'string') {
    const params = boundValues(jobQuery);
    if (params && 'error' in params) return params;
    const texts = [job, ...(written ?? [])];
    return params ? { texts, params: [params, ...(written ?? []).map(() => undefined)] } : { texts };
  }
  if (written?.length) return { texts: written };
  // JSON-RPC calls (MCP's `tools/call` included) have their SQL read by their own readers.
  const nested = typeof o.method === 'string' ? { texts: [], named: false } : nestedSqlFields(o);
  // A field named `sql` below the top level is SQL as a top-level one is (unreadable: unread SQL).
  if (nested.named) return { texts: nested.texts };
  if (!sqlPath) {
    // `{query}` or `{statement}` to any other path (`/api/v1/run`): SQL when a grammar reads
    // statements in it (a grant for one statement there must not cover another), else not SQL.
    const texts = [o.query, o.statement, ...commandTexts(o), ...nested.texts].filter((v): v is string => typeof v === 'string' && v.trim() !== '');
    return texts.length ? { texts, sniffed: true } : undefined;
  }
  if (typeof o.query === 'string' || typeof o.statement === 'string' || Array.isArray(o.queries)) return sqlFromBody(request, { keys });
  const texts = [...commandTexts(o), ...nested.texts];
  return texts.length ? { texts, sniffed: true } : undefined;
}

/**
 * `command`, `cmd` and `script` fields (seventeenth pass: a WebSocket's `{"command": "DROP TABLE
 * users"}` went on as no SQL), and `code` (eighteenth pass: a notebook cell, a sandbox's run, a
 * Jupyter-style message): SQL when a grammar reads statements in them, a shell command, other
 * code or an authorization code not.
 */
const commandNames = ['command', 'cmd', 'script', 'code'];
function commandName(k: string): boolean {
  return commandNames.includes(k.toLowerCase());
}

function commandTexts(o: Record<string, unknown>): string[] {
  return commandNames.map((k) => o[k]).filter((v): v is string => typeof v === 'string' && v.trim() !== '');
}

/**
 * Form fields under the names a JSON body's SQL is read under on any path (eighteenth pass:
 * `query=DROP TABLE users` or `command=…` as a form to `/api/run` was a plain medium POST while its
 * JSON twin was destructive): SQL when a grammar reads statements in them, as there.
 */
const formSqlNames = ['query', 'statement', 'stmt', ...commandNames];

/**
 * CrateDB's HTTP endpoint (sixteenth pass): `POST /_sql {stmt, args}`, and `bulk_args` (a list of
 * lists) runs the statement once per list. `{stmt: "DROP TABLE users"}` was a plain medium POST.
 * On `/_sql` or another SQL-looking path the text is SQL; elsewhere SQL when a grammar reads
 * statements in it, as a `{query}` is. Each bulk list is bound as its own run; more lists than
 * are read fail closed.
 */
const MAX_BULK_LISTS = 64;

function crateSql(stmt: string, o: Record<string, unknown>, sqlPath: boolean): SqlSource {
  const sniffed = sqlPath ? {} : { sniffed: true as const };
  const bulk = o.bulk_args;
  if (Array.isArray(bulk) && bulk.length > 0) {
    if (bulk.length > MAX_BULK_LISTS) return { error: `a statement bound to ${bulk.length} lists of bulk_args: more than ${MAX_BULK_LISTS} are not read` };
    if (Array.isArray(o.args)) return { error: 'a statement with both args and bulk_args: which the server binds is not known' };
    const params: unknown[][] = [];
    for (const list of bulk) {
      const v = Array.isArray(list) ? boundValues({ args: list }) : undefined;
      if (!v || 'error' in v) return { error: 'bulk_args holding something other than lists of values' };
      params.push(v);
    }
    return { texts: bulk.map(() => stmt), params, ...sniffed };
  }
  const params = boundValues(o);
  if (params && 'error' in params) return params;
  return params ? { texts: [stmt], params: [params], ...sniffed } : { texts: [stmt], ...sniffed };
}

/** Objects and lists a JSON body is looked through for SQL-named fields below its top level, at most. */
const MAX_NESTED_SQL_NODES = 100_000;
const MAX_NESTED_SQL_DEPTH = 64;

/**
 * SQL under an SQL-named field below a JSON body's top level (fourteenth pass), where a server's
 * own envelope puts it: tRPC's `{json: {sql}}` and its batches `{"0": {json: {sql}}}`, `{input:
 * {sql}}`, `{data: {sqlQuery}}`, Grafana's `{queries: [{rawSql}]}`, Metabase's `{native: {query}}`.
 * Any name with `sql` in it (letter case, `_`, `-` aside), and `query` under `native`; SQL when a
 * grammar reads statements in it (the caller sniffs), and always under a field named `sql`
 * (`named`), as at the top level. Linear in the body's nodes, bounded.
 */
function nestedSqlFields(o: Record<string, unknown>): { texts: string[]; named: boolean } {
  const texts: string[] = [];
  let named = false;
  let nodes = 0;
  const take = (x: unknown, exact: boolean): void => {
    for (const m of Array.isArray(x) ? x : [x]) {
      if (typeof m !== 'string' || m.trim() === '' || texts.length >= MAX_CARRIED_REQUESTS) continue;
      texts.push(m);
      if (exact) named = true;
    }
  };
  const walk = (v: unknown, depth: number, native: boolean): void => {
    if (!v || typeof v !== 'object' || ++nodes > MAX_NESTED_SQL_NODES || depth > MAX_NESTED_SQL_DEPTH) return;
    if (Array.isArray(v)) {
      for (const x of v) walk(x, depth + 1, false);
      return;
    }
    for (const [k, x] of entriesOnce(v as object)) {
      if ((k.toLowerCase().replace(/[_-]/g, '').includes('sql') || (native && k === 'query'))) take(x, k.toLowerCase() === 'sql');
      walk(x, depth + 1, k === 'native');
    }
  };
  walk(o, 0, false);
  return { texts, named };
}

/**
 * The statements of a JSON array of SQL texts or `[text, …params]` lists (rqlite), sniffed: SQL only
 * when a grammar reads statements in them. Undefined when any member is something else.
 */
function statementList(json: unknown[]): SqlSource | undefined {
  if (json.length === 0 || json.length > MAX_CARRIED_REQUESTS) return undefined;
  const texts: string[] = [];
  const params: Array<unknown[] | undefined> = [];
  for (const m of json) {
    const text = typeof m === 'string' ? m : Array.isArray(m) && typeof m[0] === 'string' ? m[0] : undefined;
    if (text === undefined) return undefined;
    texts.push(text);
    params.push(Array.isArray(m) ? m.slice(1) : undefined);
  }
  if (!texts.some((t) => t.trim() !== '')) return undefined;
  return params.some((p) => p !== undefined) ? { texts, params, sniffed: true } : { texts, sniffed: true };
}

/**
 * What a BigQuery job writes besides its SQL, as the statements that do the same: a query's
 * `destinationTable` (a SELECT that replaces a table under `WRITE_TRUNCATE`, or adds rows), a copy
 * or load job's destination. An extract job writes a table's rows to any Cloud Storage URI, outside
 * the database: not SQL Airlock can weigh, so it fails closed. Undefined when the job writes none.
 */
function bigQueryJobWrites(configuration: Record<string, unknown>): string[] | { error: string } | undefined {
  const extract = configuration.extract;
  if (isObject(extract) && (extract.destinationUris !== undefined || extract.destinationUri !== undefined)) return { error: 'a BigQuery extract job: it writes a table\'s rows to a storage URI outside the database' };
  const out: string[] = [];
  for (const kind of ['query', 'copy', 'load'] as const) {
    const c = configuration[kind];
    if (!isObject(c)) continue;
    const dest = c.destinationTable;
    if (dest === undefined) continue;
    if (!isObject(dest) || typeof dest.tableId !== 'string') return { error: `a BigQuery ${kind} job whose destination table cannot be read` };
    const name = [dest.datasetId, dest.tableId].filter((p): p is string => typeof p === 'string').map((p) => `"${p.replace(/"/g, '""')}"`).join('.');
    // WRITE_TRUNCATE (and WRITE_TRUNCATE_DATA) replaces every row; the default of a query job with
    // a destination is WRITE_EMPTY, of copy and load jobs WRITE_EMPTY/WRITE_APPEND: rows are added.
    const disposition = typeof c.writeDisposition === 'string' ? c.writeDisposition.toUpperCase() : '';
    out.push(disposition.startsWith('WRITE_TRUNCATE') ? `DELETE FROM ${name}` : `INSERT INTO ${name} SELECT 1`);
    if (c.createDisposition === undefined || String(c.createDisposition).toUpperCase() === 'CREATE_IF_NEEDED') out.push(`CREATE TABLE IF NOT EXISTS ${name} (airlock_bigquery_job int)`);
  }
  return out.length ? out : undefined;
}

/** JSON-RPC methods (the last part of a dotted or slashed name) that run the SQL in their parameters. */
const sqlMethods = new Set(['query', 'sql', 'execute', 'exec', 'run', 'runsql', 'executesql', 'execsql', 'rawquery', 'statement', 'statements']);

/**
 * SQL in JSON-RPC calls (1.0 or 2.0; SurrealDB's `{method: "query", params: ["…", vars]}`, a
 * database's own `{method: "execute", params: {sql}}`): the string parameters of a method that
 * runs SQL, and `sql`/`query`/`statement` among named parameters of any method. SQL when a grammar
 * reads statements in them. Undefined when the body holds no such call.
 */
function jsonRpcSql(calls: unknown[]): SqlSource | undefined {
  if (calls.length > MAX_CARRIED_REQUESTS) return undefined;
  const texts: string[] = [];
  for (const c of calls) {
    if (!isObject(c) || typeof c.method !== 'string' || c.params === undefined) continue;
    const name = c.method.split(/[./:]/).pop()!.replace(/[-_]/g, '').toLowerCase();
    if (sqlMethods.has(name)) {
      // A method that runs SQL takes it under any name or place (`params: {text}`, `[{sql}]`,
      // `{query: {text}}`; thirteenth pass: only positional strings were read): every string of
      // its parameters, a few levels down, is SQL when a grammar reads statements in it.
      if (!stringsWithin(c.params, texts)) return { error: `a ${c.method.slice(0, 40)} call with more than ${MAX_CARRIED_REQUESTS} parameters: its SQL is not all read` };
    } else if (isObject(c.params)) {
      for (const k of ['sql', 'query', 'statement', 'stmt']) {
        const v = c.params[k];
        if (typeof v === 'string' && v.trim() !== '') texts.push(v);
      }
    }
  }
  return texts.length ? { texts, sniffed: true } : undefined;
}

/**
 * The non-blank strings in `v` (objects and lists, up to 8 levels down) appended to `out`; false
 * past MAX_CARRIED_REQUESTS of them or deeper (their SQL would go unread: the caller fails closed).
 */
function stringsWithin(v: unknown, out: string[], depth = 0): boolean {
  if (typeof v === 'string') {
    if (v.trim() !== '') out.push(v);
    return out.length <= MAX_CARRIED_REQUESTS;
  }
  if (!v || typeof v !== 'object') return true;
  if (depth >= 8) return false;
  const items = Array.isArray(v) ? v : Object.values(v as Record<string, unknown>);
  if (items.length > MAX_CARRIED_REQUESTS) return false;
  return items.every((item) => stringsWithin(item, out, depth + 1));
}

/** Media types of binary encodings of structured data (protobuf, gRPC, Connect, MessagePack, CBOR, Avro, Thrift). */
/**
 * Encodings of structured data Airlock does not decode: protobuf, gRPC and Connect (any codec: a
 * `+json` one is still a length-prefixed envelope), MessagePack, CBOR, Avro, Thrift, BSON, Ion.
 * Eighteenth pass: gRPC-web (`application/grpc-web+proto`, `grpc-web-text`, base64 of the frames),
 * `grpc+json`, `connect+json`, `vnd.google.protobuf` were not on the list, so `DROP TABLE users` to
 * PlanetScale's `…/Database/Execute` was a plain write (grantable from any other POST there).
 */
const binaryStructured = /^application\/(x-|vnd\.google\.|vnd\.apache\.)?(proto|protobuf|google-protobuf|grpc(-web(-text)?)?(\+[a-z0-9.-]+)?|connect\+[a-z0-9.-]+|msgpack|cbor|avro(\+binary)?|thrift(\.[a-z]+)?|x-thrift|bson|ion|amzn-ion)$/;

/** Requests of one body whose SQL is looked at, at most (more fails closed). */
const MAX_CARRIED_REQUESTS = 1000;

/**
 * SQL in the JSON envelopes of SQL-over-HTTP protocols whose path says nothing: libSQL/Turso's
 * Hrana pipeline (`{requests: [{type: "execute", stmt: {sql}}, {type: "batch", batch: {steps:
 * [{stmt: {sql}}]}}, {type: "sequence", sql}, {type: "store_sql", sql}]}` to `…/pipeline`) and
 * its older `{statements: ["…" | {q}]}` (to `/` or an SQL-looking path), and Hasura's schema API (`{type: "run_sql", args: {sql}}`,
 * inside `{type: "bulk", args: […]}` too). A statement named only by a stored id is not in the
 * request: that fails closed. Undefined when the body is none of these.
 */
function carriedSql(o: Record<string, unknown>, last: string, sqlPath: boolean, segments: readonly string[]): SqlSource | undefined {
  const texts: string[] = [];
  const params: Array<unknown[] | undefined> = [];
  let unseen: string | undefined;
  let seen = 0;
  const stmt = (s: unknown): void => {
    const sql = (s as { sql?: unknown } | null)?.sql;
    const values = boundValues(s);
    if (values && 'error' in values) unseen ??= values.error;
    else if (typeof sql === 'string') texts.push(sql), params.push(values);
    else unseen ??= 'a statement named by a stored id (sql_id) or without its SQL';
  };
  const hrana = (r: unknown): void => {
    if (++seen > MAX_CARRIED_REQUESTS) {
      unseen ??= `more than ${MAX_CARRIED_REQUESTS} requests in one body`;
      return;
    }
    const req = (r ?? {}) as { type?: unknown; stmt?: unknown; batch?: { steps?: unknown }; sql?: unknown; sql_id?: unknown };
    if (req.type === 'execute') stmt(req.stmt);
    else if (req.type === 'batch') {
      const steps = req.batch?.steps;
      if (Array.isArray(steps)) for (const step of steps) stmt((step as { stmt?: unknown } | null)?.stmt);
      else unseen ??= 'a batch without its steps';
    } else if (req.type === 'sequence' || req.type === 'store_sql') stmt(req);
  };
  const hasura = (q: unknown, depth: number): void => {
    const query = (q ?? {}) as { type?: unknown; args?: unknown };
    if (++seen > MAX_CARRIED_REQUESTS || depth > 8) {
      unseen ??= 'a Hasura bulk query too large or too deep';
      return;
    }
    if (hasuraRunSql(query.type)) stmt(query.args);
    else if (hasuraBulk(query.type)) {
      if (Array.isArray(query.args)) for (const a of query.args) hasura(a, depth + 1);
      else unseen ??= 'a bulk query without its list';
    } else if (hasuraApi) {
      const twin = hasuraMetadataTwin(query.type, query.args);
      if (twin !== undefined) texts.push(twin), params.push(undefined), twins++;
    }
  };
  const hasuraApi = hasuraPath(segments);
  let twins = 0;
  if (Array.isArray(o.requests) && last === 'pipeline') for (const r of o.requests) hrana(r);
  // libSQL's Hrana over HTTP v1 (`/v1/execute {stmt}`, `/v1/batch {batch: {steps}}`) and v3's
  // cursor (`/v3/cursor {baton, batch: {steps}}`): the shapes alone say what they are.
  else if (isObject(o.stmt) && (typeof o.stmt.sql === 'string' || o.stmt.sql_id !== undefined)) hrana({ type: 'execute', stmt: o.stmt });
  else if (isObject(o.batch) && Array.isArray(o.batch.steps)) hrana({ type: 'batch', batch: o.batch });
  else if (hasuraRunSql(o.type) || (hasuraBulk(o.type) && Array.isArray(o.args)) || (hasuraApi && hasuraMetadataTwin(o.type, o.args) !== undefined)) hasura(o, 0);
  else if (Array.isArray(o.statements) && sqlPath) {
    for (const st of o.statements) {
      if (typeof st === 'string') texts.push(st), params.push(undefined);
      else stmt({ sql: (st as { q?: unknown } | null)?.q });
    }
  } else return undefined;
  if (unseen) return { error: `the SQL is not all in the request: ${unseen}` };
  if (texts.length === 0) return undefined;
  // Twins of metadata calls alone are written in PostgreSQL's grammar (its quoting of names).
  if (twins === texts.length) return { texts, dialect: 'postgresql' };
  return params.some((p) => p !== undefined) ? { texts, params } : { texts };
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * Hasura's run_sql under each database's prefix (fourteenth pass): `pg_run_sql`, `mssql_run_sql`,
 * `citus_run_sql`, `cockroach_run_sql`, `bigquery_run_sql`, and a data connector's own prefix
 * (`snowflake_run_sql`). SQL Server's `EXEC('DROP TABLE users')` and BigQuery's `EXECUTE IMMEDIATE`
 * under them were no SQL to any grammar Airlock has, so a plain POST; as run_sql, unread SQL.
 */
const hasuraRunSql = (type: unknown): boolean => typeof type === 'string' && /^([a-z0-9]+_)?run_sql$/i.test(type);
/** A Hasura boolean expression with the query API's `$eq`-style operators written as `_eq` (bounded depth). */
function dollarOperators(v: unknown, depth = 0): unknown {
  if (depth > 8 || !v || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => dollarOperators(x, depth + 1));
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k.startsWith('$') ? `_${k.slice(1)}` : k, dollarOperators(x, depth + 1)]));
}

/** Hasura's metadata and schema APIs: `/v1/metadata`, `/v1/query`, `/v2/query`. */
function hasuraPath(segments: readonly string[]): boolean {
  const n = segments.length;
  const last = segments[n - 1]?.toLowerCase();
  const version = segments[n - 2]?.toLowerCase();
  return (last === 'metadata' && version === 'v1') || (last === 'query' && (version === 'v1' || version === 'v2'));
}

const hasuraPermission = /^(?:[a-z0-9]+_)?(create|drop)_(select|insert|update|delete)_permission$/;
/** Metadata that sends rows or calls to a URL the call names (a webhook, a remote schema, an action's handler), or connects another database. */
const hasuraOutbound = /^(?:[a-z0-9]+_)?(create_event_trigger|create_remote_relationship|add_source|update_source|create_cron_trigger|create_scheduled_event|create_action|update_action|add_remote_schema|update_remote_schema|create_remote_schema_remote_relationship|add_host_to_tls_allowlist|invoke_event_trigger|redeliver_event|test_webhook_transform)$/;
/** Metadata that stops serving what the API served (a table, a source, every permission). */
const hasuraDropping = /^(?:[a-z0-9]+_)?(clear_metadata|replace_metadata|drop_inconsistent_metadata|untrack_table|untrack_tables|untrack_function|drop_source|remove_remote_schema|drop_action|delete_cron_trigger|delete_event_trigger|drop_relationship|delete_scheduled_event|drop_rest_endpoint|drop_inherited_role)$/;

/**
 * Hasura's metadata calls that change who reads what, send rows out, or stop serving data, as the
 * SQL statements that do the same (fifteenth pass): `pg_create_select_permission {role: anonymous,
 * permission: {filter: {}}}` is a GRANT (every row to every anonymous client), a
 * `pg_create_event_trigger` with a webhook posts each row written to that URL as a trigger calling
 * pg_net would, `clear_metadata` drops what the API serves. They were plain medium POSTs, where
 * their SQL twins are critical. Undefined for other calls (`pg_track_table`, `export_metadata`).
 */
function hasuraMetadataTwin(type: unknown, args: unknown): string | undefined {
  if (typeof type !== 'string') return undefined;
  const t = type.toLowerCase();
  const a = isObject(args) ? args : {};
  const quote = (v: unknown): string => `"${String(v ?? '?').slice(0, 200).replaceAll('"', '""')}"`;
  const table = isObject(a.table) ? `${quote(a.table.schema ?? 'public')}.${quote(a.table.name)}` : quote(a.table);
  const permission = hasuraPermission.exec(t);
  if (permission) return permission[1] === 'create' ? `GRANT ${permission[2]!.toUpperCase()} ON ${table} TO ${quote(a.role)}` : `REVOKE ${permission[2]!.toUpperCase()} ON ${table} FROM ${quote(a.role)}`;
  const outbound = hasuraOutbound.exec(t);
  if (outbound) return a.table !== undefined ? `CREATE TRIGGER ${quote(a.name ?? outbound[1])} AFTER INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION airlock_hasura_webhook()` : `CREATE SERVER ${quote(`hasura_${outbound[1]}`)} FOREIGN DATA WRAPPER airlock_hasura`;
  // The query API's own statements (`/v1/query`): `{type: "delete", args: {table, where: {}}}` is the
  // `DELETE FROM users` its GraphQL twin `delete_users(where: {})` runs (operators spelled `$eq` or `_eq`).
  if (t === 'delete' || t === 'update') {
    const every = hasuraHoldsForEveryRow(dollarOperators(a.where));
    const where = every ? '' : ' WHERE airlock_hasura_where = 1';
    return t === 'delete' ? `DELETE FROM ${table}${where}` : `UPDATE ${table} SET airlock_hasura_set = 1${where}`;
  }
  if (t === 'insert') {
    const conflict = isObject(a.on_conflict) ? a.on_conflict : undefined;
    const updates = conflict && (!Array.isArray(conflict.update_columns) || conflict.update_columns.length > 0);
    return updates ? `INSERT INTO ${table} (airlock_hasura_key) VALUES (1) ON CONFLICT (airlock_hasura_key) DO UPDATE SET airlock_hasura_key = 1` : `INSERT INTO ${table} DEFAULT VALUES`;
  }
  const dropping = hasuraDropping.exec(t);
  if (dropping) return a.table !== undefined ? `DROP VIEW ${table}` : `DROP VIEW ${quote(`hasura_${dropping[1]}`)}`;
  return undefined;
}

/** Hasura's lists of queries: `bulk`, `concurrent_bulk`, and the Metadata API's `bulk_atomic`, `bulk_keep_going`. */
const hasuraBulk = (type: unknown): boolean => type === 'bulk' || type === 'concurrent_bulk' || type === 'bulk_atomic' || type === 'bulk_keep_going';

/**
 * An Athena query with its `ExecutionParameters` written in: each `?` outside strings, quoted
 * names and comments (Trino's lexing: `'…'` and `"…"` with doubled quotes, `--` to the line's end,
 * `/* … *\/`) replaced by the next parameter's text in parentheses, as Athena binds each as one
 * literal. A parameter that is not text, or more than 1,000 of them, leaves a `?` no grammar binds
 * (a list Athena refuses is no list it runs).
 */
export function withExecutionParameters(sql: string, params: readonly unknown[]): string {
  if (params.length === 0 || params.length > 1000 || !params.every((p) => typeof p === 'string')) return sql;
  const out: string[] = [];
  let next = 0;
  let from = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      let j = i + 1;
      for (; j < sql.length; j++) {
        if (sql[j] === c) {
          if (sql[j + 1] === c) j++;
          else break;
        }
      }
      i = j;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 1;
    } else if (c === '?' && next < params.length) {
      out.push(sql.slice(from, i), ` (${params[next++] as string}) `);
      from = i + 1;
    }
  }
  out.push(sql.slice(from));
  return out.join('');
}

/**
 * SQL under the field names of SQL APIs whose path says nothing: Snowflake's driver API
 * (`/queries/v1/query-request {sqlText}`, what every Snowflake connector sends), and the AWS JSON
 * protocol's (`POST /` with `X-Amz-Target`): Redshift Data `ExecuteStatement {Sql}` and
 * `BatchExecuteStatement {Sqls: […]}`, Athena `StartQueryExecution {QueryString}` and
 * `CreatePreparedStatement {QueryStatement}`, DynamoDB's PartiQL `ExecuteStatement {Statement}`,
 * `BatchExecuteStatement {Statements: [{Statement}]}`, `ExecuteTransaction {TransactStatements:
 * [{Statement}]}`. SQL when a grammar reads statements in them (Snowflake's own path: always).
 */
function namedFieldSql(o: Record<string, unknown>, last: string): SqlSource | undefined {
  const texts: string[] = [];
  const add = (v: unknown): void => {
    if (typeof v === 'string' && v.trim() !== '') texts.push(v);
  };
  for (const k of ['sqlText', 'Sql', 'QueryStatement', 'Statement']) add(o[k]);
  // Athena's `ExecutionParameters` are SQL literals written into the query's `?` in order
  // (twenty-seventh pass: `DELETE FROM users WHERE email LIKE ?` with `["'%'"]` was judged as the
  // bare `?`, a narrow write, while Athena deleted every row the pattern matches).
  add(typeof o.QueryString === 'string' && Array.isArray(o.ExecutionParameters) ? withExecutionParameters(o.QueryString, o.ExecutionParameters) : o.QueryString);
  // Athena writes a query's results to the S3 location its request names (thirteenth pass): read
  // as the INSERT into that place it is, so a grant for one query's results bucket covers no other.
  const output = (o.ResultConfiguration as { OutputLocation?: unknown } | undefined)?.OutputLocation;
  if (typeof o.QueryString === 'string' && output !== undefined) add(`INSERT INTO "${String(output).slice(0, 1000).replaceAll('"', '""')}" SELECT 1`);
  for (const k of ['Sqls', 'Statements', 'TransactStatements']) {
    const list = o[k];
    if (!Array.isArray(list)) continue;
    for (const m of list.slice(0, MAX_CARRIED_REQUESTS)) add(isObject(m) ? m.Statement : m);
    if (list.length > MAX_CARRIED_REQUESTS) return { error: `more than ${MAX_CARRIED_REQUESTS} statements in one body` };
  }
  if (texts.length === 0) return undefined;
  return last === 'query-request' && typeof o.sqlText === 'string' ? { texts } : { texts, sniffed: true };
}

/**
 * A statement without its trailing `FORMAT <name>` (ClickHouse's choice of how rows are read or
 * written: `INSERT INTO t FORMAT CSV` takes rows from the body, `SELECT … FORMAT JSON` answers in
 * JSON), which the other grammars do not know; undefined when it has none.
 */
function withoutFormat(sql: string): string | undefined {
  const trimmed = trimTrailing(trimTrailing(sql.trimEnd(), ';').trimEnd(), ';');
  const name = trimmed.lastIndexOf(' ');
  const format = name > 0 ? trimmed.lastIndexOf(' ', name - 1) : -1;
  if (format < 0 || trimmed.slice(format + 1, name).toUpperCase() !== 'FORMAT' || !/^[A-Za-z0-9_]+$/.test(trimmed.slice(name + 1))) return undefined;
  return trimmed.slice(0, format);
}

/**
 * ClickHouse's HTTP interface (port 8123, ClickHouse Cloud's `*.clickhouse.cloud`, or any request
 * with `X-ClickHouse-*` headers): a GET runs its `query` URL parameter read-only, a POST runs the SQL of its `query` URL parameter followed by its
 * body (or the body alone), on the path `/`, which no path rule tells apart. A grant for one
 * INSERT would otherwise cover a DROP TABLE. The body is rows, not SQL, after `… FORMAT <name>`.
 */
function clickhouseSql(request: RequestInfo): SqlSource | undefined {
  const signalled = request.host.endsWith('.clickhouse.cloud') || request.port === 8123 || Object.keys(request.headers).some((h) => h.startsWith('x-clickhouse-'));
  const queries = request.query.query ?? [];
  // The same interface behind another name or port (a proxy, `https://ch.example/?query=…`): its
  // SQL when a grammar reads statements in it. A GET runs read-only there: judged, never failed closed
  // (its SELECT answers with rows: read as SQL, it brings what SQL brings, `private` by default).
  const sniffed = !signalled || request.method === 'GET' || request.method === 'HEAD';
  // Twentieth pass: the statement as the whole body of a POST to `/` (`curl --data-binary 'DROP
  // TABLE users' https://ch.example/`, typed as a form by curl) was a plain write there.
  const bodyOnly = request.method === 'POST' && queries.length === 0 && textBodyAtRoot(request);
  if (!signalled && !(request.segments.length === 0 && (queries.length > 0 || bodyOnly) && ['POST', 'GET', 'HEAD'].includes(request.method))) return undefined;
  const found = clickhouseText(request, queries);
  if (!found || !sniffed) return found;
  // Twentieth pass: ClickHouse's own statements no grammar reads (`ALTER TABLE users DELETE WHERE
  // 1`, `ALTER … UPDATE`, `OPTIMIZE … FINAL`, `EXCHANGE TABLES`, `CREATE TABLE … ENGINE = URL(…)`)
  // POSTed there were taken for a phrase: a plain write.
  return 'texts' in found ? { ...found, sniffed: true, interfaceShaped: request.method === 'POST' } : undefined;
}

/** A POST body to `/` read as text: untyped, `text/plain`, or a form's text (what curl's `-d` types; body.ts reads it as text too). */
function textBodyAtRoot(request: RequestInfo): boolean {
  const body = request.body;
  if (request.segments.length !== 0 || body.size === 0 || body.json !== undefined || body.form !== undefined || body.text === undefined || body.text.trim() === '') return false;
  return ['', 'text/plain', 'application/octet-stream', 'application/x-www-form-urlencoded'].includes(body.content_type ?? '');
}

function clickhouseText(request: RequestInfo, queries: string[]): SqlSource | undefined {
  const body = request.body;
  if (queries.length === 0 && body.size === 0) return undefined;
  if (queries.length > 1) return { error: 'several query parameters: which SQL ClickHouse runs is not known' };
  const query = queries[0];
  // ClickHouse takes the URL's other parameters as settings for the query (twenty-seventh pass:
  // `?query=INSERT INTO logs …&engine_file_truncate_on_insert=1` emptied the table first, a narrow
  // INSERT to Airlock): those that change what it does are read as the SET they are.
  const settings = Object.keys(request.query).slice(0, 256).flatMap((k) => (request.query[k] ?? []).slice(0, 4).filter((v) => clickhouseSettingEffect(k, v) !== undefined).map((v) => `SET ${k.replace(/[^A-Za-z0-9_]/g, '_')} = '${v.slice(0, 64).replaceAll("'", "''")}'`));
  const rowsFollow = query !== undefined ? withoutFormat(query) : undefined;
  // `INSERT INTO t [(a, b)] FORMAT CSV`: the rows are the body, read as one row of defaults.
  if (rowsFollow !== undefined) return { texts: [...settings, /^\s*insert\s/i.test(rowsFollow) ? `${rowsFollow} VALUES (DEFAULT)` : rowsFollow] };
  if (body.size > 0 && (body.truncated || body.text_truncated || body.text === undefined)) return { error: 'the SQL in the request body is not fully visible' };
  const text = query === undefined ? body.text! : body.size > 0 ? `${query}\n${body.text}` : query;
  return { texts: [...settings, withoutFormat(text) ?? text] };
}

/** SQL-carrying GraphQL arguments read per request, at most (the rest are not looked at). */
const MAX_GRAPHQL_SQL_TEXTS = 64;
/** Objects and lists deep the arguments are looked through for SQL. */
const MAX_GRAPHQL_SQL_DEPTH = 16;

/**
 * SQL in the arguments of GraphQL mutations (`executeSql(sql: "…")`, `runQuery(input: {statement:
 * "…"})`): one URL runs every statement, so without reading it a grant for one covered a DROP.
 * Arguments are SQL when a grammar reads statements in them (`query: "open bugs"` is not).
 */
function graphqlSql(graphql: GraphqlRequest): SqlSource | undefined {
  const texts: string[] = [];
  // At any depth, in lists too (`run(input: {db: {sql}})`, `run(steps: [{sql}])`, `run(sqls: […])`:
  // ninth pass, one object down only was read); the arguments are already bounded (MAX_CALL_ARGUMENT_NODES).
  const walk = (v: unknown, named: boolean, depth: number, says: (k: string) => boolean = sqlArgument): void => {
    if (texts.length >= MAX_GRAPHQL_SQL_TEXTS || depth > MAX_GRAPHQL_SQL_DEPTH) return;
    if (typeof v === 'string') {
      if (named && v.trim() !== '') texts.push(v);
    } else if (Array.isArray(v)) {
      for (const x of v) walk(x, named, depth + 1, says);
    } else if (v && typeof v === 'object') {
      for (const [k, x] of entriesOnce(v as object)) walk(x, says(k), depth + 1, says);
    }
  };
  // A query's or subscription's fields too, under names that say SQL (sixteenth pass: the server
  // runs the SQL it is given whatever the operation); a search's `query` there stays a phrase
  // (`search(query: "drop table lamp")`).
  // `command`, `cmd` and `script` too (seventeenth pass), in queries and mutations: SQL only when a grammar reads statements in them.
  const says = (k: string): boolean => k.toLowerCase().includes('sql') || commandName(k);
  for (const call of graphql.readCalls ?? []) walk(call.args, false, 0, says);
  if (graphql.readArgumentsUnread && graphql.documents.some((d) => /sql/i.test(d))) return { error: 'a GraphQL query naming SQL whose arguments are too large to read' };
  for (const call of graphql.calls ?? []) {
    walk(call.args, false, 0, (k) => sqlArgument(k) || commandName(k));
    // Hasura's generated mutations, judged as the SQL they run (fourteenth pass): `delete_orders(where: {})`
    // deletes every row, as `DELETE FROM orders` does; so does a `where` every row meets.
    const args = (call.args ?? {}) as Record<string, unknown>;
    // An insert that updates the rows it conflicts with (twenty-first pass: `insert_users(objects: […],
    // on_conflict: {constraint: users_pkey, update_columns: [role]})` was a narrow insert, while its
    // query-API and SQL twins, `INSERT … ON CONFLICT DO UPDATE`, overwrite rows): judged as that upsert.
    // A nested insert's own `on_conflict` (`objects: [{posts: {data: […], on_conflict: …}}]`) too.
    const insert = /^insert_(.+?)(_one)?$/.exec(call.field);
    if (insert && texts.length < MAX_GRAPHQL_SQL_TEXTS && upsertsOnConflict(args)) {
      texts.push(`INSERT INTO "${insert[1]!.slice(0, 200).replaceAll('"', '""')}" (airlock_hasura_key) VALUES (1) ON CONFLICT (airlock_hasura_key) DO UPDATE SET airlock_hasura_key = 1`);
    }
    const hasura = /^(delete|update)_(.+?)(_many)?$/.exec(call.field);
    if (!hasura || call.field.endsWith('_by_pk') || texts.length >= MAX_GRAPHQL_SQL_TEXTS) continue;
    const wheres = hasura[3] ? (Array.isArray(args.updates) ? args.updates.map((u) => (u as Record<string, unknown> | null)?.where) : []) : [args.where];
    // `where` is required (Hasura refuses a call without it): absent, the call runs nothing.
    if (wheres.some((w) => w !== undefined && hasuraHoldsForEveryRow(w))) {
      const table = `"${hasura[2]!.slice(0, 200).replaceAll('"', '""')}"`;
      texts.push(hasura[1] === 'delete' ? `DELETE FROM ${table}` : `UPDATE ${table} SET airlock_hasura_set = 1`);
    }
  }
  const sql = texts.filter((text) => {
    const a = analyzeSqlIn([text], 'unknown');
    // Unread for one of Airlock's limits: its statements are unknown, so it counts as SQL.
    return a.info.statements.length > 0 || a.ambiguity !== undefined || a.limited === true;
  });
  return sql.length ? { texts: sql, sniffed: true } : undefined;
}

/** Whether a Hasura insert's arguments hold, at any depth, an `on_conflict` that updates columns (bounded). */
function upsertsOnConflict(v: unknown, budget = { n: 2000 }, depth = 0): boolean {
  if (--budget.n < 0 || depth > MAX_GRAPHQL_SQL_DEPTH) return false;
  if (Array.isArray(v)) return v.some((x) => upsertsOnConflict(x, budget, depth + 1));
  if (!isObject(v)) return false;
  const conflict = v.on_conflict;
  if (isObject(conflict) && (!Array.isArray(conflict.update_columns) || conflict.update_columns.length > 0)) return true;
  return Object.values(v).some((x) => upsertsOnConflict(x, budget, depth + 1));
}

/** Longest text decoded again (base64, percent-encoding) for the SQL it may carry. */
const MAX_ENCODED_TEXT = 64 * 1024;
const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A text's other readings as a server that decodes it once more reads it (eighteenth pass:
 * `?sql=RFJPUCBUQUJMRSB1c2Vycw==`, the base64 of `DROP TABLE users`, and `?sql=DROP%2520TABLE%2520users`
 * were allowed reads): percent-decoded when it holds `%XX`; base64 or base64url-decoded when it is
 * nothing else and decodes to printable UTF-8 text with a blank in it (a token or an image does not).
 */
function encodedReadings(v: string): string[] {
  if (v.length > MAX_ENCODED_TEXT) return [];
  const out: string[] = [];
  out.push(...magicReadings(v));
  if (/%[0-9a-fA-F]{2}/.test(v)) {
    try {
      const d = decodeURIComponent(v);
      if (d !== v) out.push(d);
    } catch {
      // Not percent-encoding as a server decodes it.
    }
  }
  const t = v.trim();
  if (t.length >= 8 && /^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) {
    try {
      const d = fatalUtf8.decode(Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
      if (/\s/.test(d) && !/[\u0000-\u0008\u000e-\u001f\u007f\ufffd]/.test(d)) out.push(d);
    } catch {
      // Bytes that are not UTF-8: no text.
    }
  }
  return out;
}

/** A sniffed source with each text's encodedReadings beside it (each read on its own by eachSniffed). */
function withEncodedReadings(source: Extract<SqlSource, { texts: string[] }>): SqlSource {
  const texts = [...source.texts];
  const params = source.params ? [...source.params] : undefined;
  source.texts.forEach((text, i) => {
    for (const d of encodedReadings(text)) {
      if (texts.length >= 2 * MAX_URL_SQL_TEXTS) return;
      texts.push(d);
      params?.push(source.params![i]);
    }
  });
  return texts.length === source.texts.length ? source : { ...source, texts, ...(params ? { params } : {}) };
}

/** The texts of a sniffed source that read as SQL one by one (with their params); undefined when none does. */
function eachSniffed(source: Extract<SqlSource, { texts: string[] }>, method: string): SqlSource | undefined {
  const keep = source.texts.map((text, i) => {
    const a = analyzeSqlIn([text], source.dialect ?? 'unknown', source.params ? [source.params[i]] : undefined);
    return a.info.statements.length > 0 || a.ambiguity !== undefined || (readMethods.has(method) && !a.info.parsed && firstUnreadEffect([text]) !== undefined);
  });
  const texts = source.texts.filter((_t, i) => keep[i]);
  if (texts.length === 0) return undefined;
  const params = source.params?.filter((_p, i) => keep[i]);
  return { ...source, texts, ...(params ? { params } : {}) };
}

/** Parser messages quote the text they stopped at; keep them short enough for a policy's reason. */
const MAX_ERROR_CHARS = 500;

function sqlInfo(source: SqlSource, dialect: 'postgresql' | 'sqlite' | 'unknown'): { info: SqlInfo; readOnly: boolean; privilegeOnly: boolean; ambiguity?: AmbiguityReason; limited?: boolean } {
  if ('error' in source) return { info: { dialect, parsed: false, error: source.error.slice(0, MAX_ERROR_CHARS), statements: [], destructive: true }, readOnly: false, privilegeOnly: false };
  const a = analyzeSqlIn(source.texts, source.dialect ?? dialect, source.params, source.written !== true && !carriedWritten);
  if (a.info.error && a.info.error.length > MAX_ERROR_CHARS) a.info.error = `${a.info.error.slice(0, MAX_ERROR_CHARS)}…`;
  return { ...a, privilegeOnly: a.privilegeOnly === true };
}

/**
 * Whether a service names this request's URL as one of its GraphQL endpoints (any method), or —
 * on a host no service module owns (an allowed host: Linear, Shopify, Hasura, GitLab …) — the URL
 * looks like one and the request carries something to run. Every operation of such an endpoint
 * is one URL, so without its parse a grant given for one query would cover any mutation.
 */
export function isGraphqlEndpoint(request: RequestInfo): boolean {
  let owned = false;
  for (const adapter of adapters) {
    if (adapter === git || !adapter.hosts(request.host)) continue;
    owned = true;
    if (adapter.graphqlEndpoint && adapter.graphqlEndpoint(request)) return true;
  }
  return !owned && genericGraphqlEndpoint(request);
}

/**
 * A request on a host no service module owns that has the shape of a GraphQL request whatever its
 * URL (`api.monday.com/v2`, gqlgen's `/query`): a JSON body `{query: "<text>"}` (or a batch of
 * them), a `query` URL parameter (GraphQL over GET), or an `application/graphql` body. Read as
 * GraphQL when it parses as such (describe.ts), since one URL then carries every operation; a
 * search API's `?query=shoes` does not parse and is left alone.
 */
export function carriesGraphql(request: RequestInfo): boolean {
  if (ownedHost(request.host)) return false;
  const json = request.body.json;
  const one = (v: unknown): boolean => !!v && typeof v === 'object' && !Array.isArray(v) && typeof (v as { query?: unknown }).query === 'string';
  if (one(json) || (Array.isArray(json) && json.length > 0 && json.every(one))) return true;
  return (urlGraphqlParams(request.query).query?.length ?? 0) > 0 || (request.body.content_type === 'application/graphql' && request.body.size > 0) || namesPersistedQuery(request);
}

/** Whether a service module (not the git catch-all) describes the host's requests. */
export function ownedHost(host: string): boolean {
  return adapters.some((a) => a !== git && a.hosts(host));
}

/** Last path segments of GraphQL endpoints: `/graphql`, Shopify's `…/graphql.json`, `/gql`. */
const graphqlNames = new Set(['graphql', 'graphql.json', 'gql']);

/**
 * A GraphQL-looking URL on a host no service module owns (`/graphql`, `/v1/graphql`,
 * `/admin/api/2024-10/graphql.json`, `/graphql/v1`) with a body or a `query` parameter; a bare GET
 * of the endpoint (an IDE page) is not a GraphQL request.
 */
function genericGraphqlEndpoint(request: RequestInfo): boolean {
  const segs = request.segments.map((s) => s.toLowerCase());
  const last = segs[segs.length - 1] ?? '';
  const label = request.host.split('.')[0] ?? '';
  const named = graphqlNames.has(last) || (segs[segs.length - 2] === 'graphql' && /^v\d+$/.test(last)) || label === 'graphql' || label === 'gql';
  // A GET naming a persisted query (APQ's `extensions`, a document id) runs it: GraphQL too.
  return named && (request.body.size > 0 || (urlGraphqlParams(request.query).query?.length ?? 0) > 0 || urlNamesStoredDocument(request.query, true));
}

/** Recognizes the service, operation and SQL of a described request. Never throws on request content. */
/**
 * The dialect SQL on a host no service owns is read in while `fn` runs, instead of every known one:
 * a statement carried by a protocol that names its server (PostgreSQL's wire protocol inside a
 * WebSocket tunnel, proxy/tunnel-sql.ts) is read in that server's grammar.
 */
let carriedDialect: 'postgresql' | undefined;
/** The statement is one Airlock wrote for a command a tunnel carries (a MongoDB or Redis twin): see SqlSource's `written`. */
let carriedWritten = false;
export function withSqlDialect<T>(dialect: 'postgresql' | 'written' | undefined, fn: () => T): T {
  if (dialect === undefined) return fn();
  const before = [carriedDialect, carriedWritten] as const;
  if (dialect === 'written') carriedWritten = true;
  else carriedDialect = dialect;
  try {
    return fn();
  } finally {
    [carriedDialect, carriedWritten] = before;
  }
}

export function recognize(request: RequestInfo, graphql?: GraphqlRequest): Recognized {
  const out: Recognized = {};
  let owner: ServiceAdapter | undefined;
  for (const adapter of adapters) {
    if (!adapter.hosts(request.host)) continue;
    const service = adapter.describe(request, graphql);
    if (service) {
      out.service = service;
      owner = adapter;
      break;
    }
  }
  const found = out.service && owner?.sql ? owner.sql(request, out.service) : out.service ? undefined : genericSql(request);
  // A body read as GraphQL is not also SQL by its look; its mutations' SQL-carrying arguments may be.
  let source = found && 'sniffed' in found && found.sniffed && graphql !== undefined ? graphqlSql(graphql) : found ?? (graphql ? graphqlSql(graphql) : undefined);
  // Several places that carry SQL only sometimes (`?sql=red shoes&sql=DROP TABLE users`, `query`
  // beside `statement`, a value and its `%u`-decoded reading): each is SQL on its own when a grammar
  // reads statements in it, so a text that is none does not hide one that is.
  if (source && 'texts' in source && source.sniffed === true) source = withEncodedReadings(source);
  if (source && 'texts' in source && source.sniffed === true && source.texts.length > 1) source = eachSniffed(source, request.method);
  if (source) {
    // Generic endpoints may speak any dialect; a known service's adapter names its own.
    const sniffed = 'sniffed' in source && source.sniffed === true;
    const { info, readOnly, privilegeOnly, ambiguity, limited } = sqlInfo(source, owner && !sniffed ? 'postgresql' : carriedDialect ?? 'unknown');
    // Text that carries SQL only sometimes is not SQL when no grammar reads statements in it, but
    // text unread for one of Airlock's limits (`?sql=DROP TABLE users; --` and 6,000 dashes) is.
    let unread = ambiguity;
    if (sniffed && !info.parsed && info.statements.length === 0 && !ambiguity && !limited) {
      // A read's SQL no grammar reads is still SQL when it writes or calls what reaches outside the
      // database (fifteenth pass): ClickHouse answers a GET read-only but runs its table functions,
      // `SELECT * FROM file('/etc/passwd', LineAsString) SETTINGS max_threads = 1` (`SETTINGS` is its
      // own syntax); `?sql=DELETE LOW_PRIORITY FROM users` (MySQL's) was an allowed GET.
      const effect = 'texts' in source && (readMethods.has(request.method) || source.interfaceShaped === true) ? firstUnreadEffect(source.texts) : undefined;
      if (effect === undefined) return out;
      info.error = `SQL no grammar Airlock has reads, with ${effect}: ${info.error ?? ''}`.slice(0, MAX_ERROR_CHARS);
      unread = { code: 'sql_dialects_disagree', detail: `PostgreSQL and SQLite read no statement; lexed as ClickHouse or standard SQL it holds ${effect}`.slice(0, 300) };
    }
    out.sql = info;
    if (unread) out.ambiguity = unread;
    if (!out.service && info.parsed && !readOnly && info.statements.some((st) => !readKinds.has(st.kind))) out.sqlWrites = true;
    // A pure SQL endpoint's effect is its SQL's: read-only queries read, privilege changes are
    // admin, other destructive SQL deletes.
    if (out.service && out.service.effect === 'write' && isSqlEndpoint(out.service)) {
      if (info.destructive) out.service.effect = privilegeOnly ? 'admin' : 'delete';
      else if (readOnly && info.statements.length > 0) out.service.effect = 'read';
    }
  }
  return out;
}

/**
 * Statement kinds that read (a SELECT calling a function nobody proves read-only stays one: a
 * ClickHouse GET, run read-only there, calls many such).
 */
const readKinds = new Set(['select', 'explain', 'show', 'transaction']);

/** Methods the policy may take for reads: their sniffed SQL is scanned for outside calls when no grammar reads it. */
const readMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

/** What makes sniffed texts no grammar reads SQL that writes or reaches outside (sql-clickhouse.ts unreadSqlEffect), bounded in total length. */
function firstUnreadEffect(texts: string[]): string | undefined {
  let chars = 0;
  for (const t of texts) {
    chars += t.length;
    if (chars > MAX_SQL_BYTES) return 'SQL past the size Airlock reads';
    const effect = unreadSqlEffect(t, reachesOutside);
    if (effect !== undefined) return effect;
  }
  return undefined;
}

const sqlOperations = new Set(['sql.query', 'database.query', 'd1.database.query', 'd1.database.raw']);

function isSqlEndpoint(service: ServiceInfo): boolean {
  return sqlOperations.has(service.operation);
}
