// Where SQL sits in the bodies of SQL-over-HTTP endpoints: `{query}`, `{sql}`, and batches
// (Neon `{queries: [{query}]}`, Cloudflare D1 `[{sql}]` / `{batch: [{sql}]}`), the same fields in a
// form-encoded body (PostgREST takes RPC arguments as a form too), or an `application/sql` text
// body. Every SQL field present is examined (servers differ on which one they run). A body whose
// SQL cannot be seen is reported as such, which fails closed.
import type { RequestInfo } from '../types.ts';
import type { SqlSource } from './adapter.ts';
import { jsonObject } from './routes.ts';
import { formEntries } from '../body.ts';

export interface SqlBodyOptions {
  /** The fields that carry SQL, in the order the service reads them. */
  keys?: string[];
  dialect?: 'postgresql' | 'sqlite';
}

/** The SQL text(s) of a request body, or why there are none. */
export function sqlFromBody(request: RequestInfo, options: SqlBodyOptions = {}): SqlSource {
  const keys = options.keys ?? ['query', 'sql'];
  const found = (texts: string[], params?: Array<unknown[] | undefined>): SqlSource => {
    const source: SqlSource = options.dialect ? { texts, dialect: options.dialect } : { texts };
    if (params?.some((p) => p !== undefined)) source.params = params;
    return source;
  };
  const body = request.body;
  if (body.truncated) return { error: 'request body larger than the capture limit: SQL not fully visible' };
  if (body.decode_error) return { error: `request body could not be decoded: ${body.decode_error}` };
  const json = body.json;
  const pick = (o: unknown): string[] | undefined => {
    if (!o || typeof o !== 'object' || Array.isArray(o)) return undefined;
    const texts = keys.map((k) => (o as Record<string, unknown>)[k]).filter((v): v is string => typeof v === 'string');
    return texts.length ? texts : undefined;
  };
  let conflict: string | undefined;
  const paramsOf = (o: unknown): unknown[] | undefined => {
    const v = boundValues(o);
    if (v && 'error' in v) {
      conflict ??= v.error;
      return undefined;
    }
    return v;
  };
  // The top-level fields and the batches (Neon `{queries: [{query}]}`, Cloudflare D1 `[{sql}]` /
  // `{batch: [{sql}]}`) alike: a body that carries both may be run either way.
  const texts = pick(json) ?? [];
  const params: Array<unknown[] | undefined> = texts.map(() => paramsOf(json));
  // Snowflake's array binding runs the statement once per element (twenty-seventh pass).
  const batch = batchBindings(json);
  if (batch && 'error' in batch) return batch;
  if (batch && texts.length) {
    const once = texts.splice(0);
    params.splice(0);
    for (const text of once) for (const row of batch) texts.push(text), params.push(row);
  }
  const lists = Array.isArray(json) ? [json] : [jsonObject(request)?.queries, jsonObject(request)?.batch].filter((l) => l !== undefined);
  for (const list of lists) {
    const members = Array.isArray(list) && list.length > 0 ? list.map(pick) : [undefined];
    if (!members.every((t): t is string[] => t !== undefined)) {
      if (texts.length) return { error: 'the body carries SQL and a batch whose SQL cannot be read' };
      continue;
    }
    for (const [i, m] of members.entries()) for (const text of m) texts.push(text), params.push(paramsOf((list as unknown[])[i]));
  }
  if (conflict) return { error: conflict };
  if (texts.length) return found(texts, params);
  if (body.form) {
    const texts = keys.flatMap((k) => body.form![k] ?? []);
    if (texts.length) return found(texts);
  }
  if (json === undefined && body.text !== undefined && body.size > 0) {
    if (body.content_type !== 'application/sql') return { error: 'SQL request body is not JSON' };
    return body.text_truncated ? { error: 'SQL body longer than the description keeps: SQL not fully visible' } : found([body.text]);
  }
  return { error: 'no SQL found in the request body' };
}

/**
 * Whether a member names a set of values a statement object may carry, each the list one server
 * binds (see boundValues): `params`, `parameters`, `args`, `bindings`, BigQuery's `queryParameters`,
 * mysql2's `values`, `bind`, `binds`, `replacements`, `arguments`; twentieth pass: the names the
 * other drivers and APIs take them by (`named_params`, `namedParameters`, `variables`, `vars`,
 * ArangoDB's `bindVars`, `parameterValues`, `query_params`, `placeholders`) were not bound, so `LIKE
 * :p` with `%` was a narrow write. Hrana's `named_args` beside `args` is read on its own.
 */
const valueList = (k: string): boolean => {
  const f = k.toLowerCase().replace(/[_-]/g, '');
  return f !== 'namedargs' && /^(named|query|sql|stmt|statement|bind|parameter|param)?(params?|parameters?|args?|arguments?|bindings?|binds?|vars?|variables?|values?|replacements?|placeholders?|substitutions?)$/.test(f);
};

/** Rows of an array binding read, at most (more fail closed). */
const MAX_BATCH_ROWS = 64;

/**
 * Snowflake's SQL API binds an array as a batch (`bindings: {"1": {type: "TEXT", value: ["a",
 * "%"]}}`): the statement runs once per element, so `DELETE FROM users WHERE email LIKE ?` with
 * `["a@b.example", "%"]` deletes every row the second time (twenty-seventh pass: the array was
 * bound whole, as no value a pattern matches, a narrow write). Each row's values, a scalar binding
 * repeated in every row; undefined when no binding is such an array (an `ARRAY`, `OBJECT` or
 * `VARIANT` binding is one value).
 */
export function batchBindings(o: unknown): unknown[][] | undefined | { error: string } {
  if (!o || typeof o !== 'object' || Array.isArray(o)) return undefined;
  const b = (o as Record<string, unknown>).bindings;
  if (!b || typeof b !== 'object' || Array.isArray(b)) return undefined;
  const slots: Array<{ at: number; type: unknown; value: unknown }> = [];
  for (const [k, v] of Object.entries(b as Record<string, unknown>).slice(0, 10_000)) {
    if (!/^\d{1,4}$/.test(k) || !v || typeof v !== 'object' || Array.isArray(v)) return undefined;
    slots.push({ at: Number(k) - 1, type: (v as { type?: unknown }).type, value: (v as { value?: unknown }).value });
  }
  const batched = slots.filter((s) => Array.isArray(s.value) && !(typeof s.type === 'string' && /array|object|variant/i.test(s.type)));
  if (batched.length === 0) return undefined;
  const rows = Math.max(...batched.map((s) => (s.value as unknown[]).length));
  if (rows > MAX_BATCH_ROWS) return { error: `an array binding of ${rows} rows: more than ${MAX_BATCH_ROWS} are not read` };
  const out: unknown[][] = [];
  for (let r = 0; r < rows; r++) {
    const row: unknown[] = [];
    for (const s of slots) row[s.at] = plainValue({ type: s.type, value: batched.includes(s) ? (s.value as unknown[])[r] : s.value });
    out.push(row);
  }
  return out;
}

/** A value bound to a named parameter (`:id`, `@id`, `$id`), matched by name in the sample run. */
export interface NamedValue {
  readonly named: string;
  readonly value: unknown;
}

/** Type names of the wrappers whose value is a number or a boolean written as text (Snowflake, Databricks, BigQuery, Hrana). */
const numericType = /^(integer|int|int64|bigint|smallint|tinyint|fixed|real|float|float64|double|decimal|numeric|number|bignumeric)$/i;
const booleanType = /^bool(ean)?$/i;
const rdsFields = new Set(['stringValue', 'longValue', 'doubleValue', 'booleanValue', 'blobValue']);

/**
 * A value as given, or inside its protocol's wrapper (Hrana `{type, value}`, Snowflake `{type:
 * "FIXED", value: "-1"}`, Databricks `{name, value, type}`, BigQuery `{parameterType: {type},
 * parameterValue: {value}}`): numbers and booleans sent as text are bound as the server converts
 * them (the sample run compares them as numbers, as the server does).
 */
function plainValue(v: unknown): unknown {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
  // The RDS Data API's and Aurora's typed field (`{stringValue: "%"}`, `{longValue: -1}`; twentieth pass).
  const typed = Object.keys(v).find((k) => rdsFields.has(k));
  if (typed !== undefined && Object.keys(v).length === 1) return (v as Record<string, unknown>)[typed];
  const o = v as { type?: unknown; value?: unknown; base64?: unknown; parameterType?: { type?: unknown }; parameterValue?: { value?: unknown } };
  // Hrana's blob (`{type: "blob", base64: "JQ=="}`: `%`, which SQLite's LIKE matches as text; a blob
  // sorts after every number and text): bound as the bytes it is (twentieth pass: it was its JSON text).
  if (typeof o.type === 'string' && /^blob$/i.test(o.type) && typeof o.base64 === 'string') return new Uint8Array(Buffer.from(o.base64.slice(0, 20_000), 'base64'));
  const value = o.parameterValue && typeof o.parameterValue === 'object' ? o.parameterValue.value : 'value' in o ? o.value : v;
  if (value === v) return v;
  const type = typeof o.type === 'string' ? o.type : typeof o.parameterType?.type === 'string' ? o.parameterType.type : '';
  if (typeof value === 'string' && numericType.test(type) && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  if (typeof value === 'string' && booleanType.test(type)) return /^(true|1)$/i.test(value.trim()) ? 1 : 0;
  return value;
}

/**
 * The values a request binds to an object's statement: `params` (D1, Neon, `{sql, params}`),
 * `parameters` (Supabase's Management API and pg-meta; Databricks' `[{name, value}]`), `args` and
 * `named_args` (libSQL's Hrana, `{type, value}` each), `bindings` (Snowflake's `{"1": {type,
 * value}}`), `queryParameters` (BigQuery's `[{name, parameterValue: {value}}]`); values with a
 * name bind to that parameter. A statement carrying two of the lists is read with neither (each
 * server binds its own): `error`.
 */
export function boundValues(o: unknown): unknown[] | undefined | { error: string } {
  if (!o || typeof o !== 'object' || Array.isArray(o)) return undefined;
  const r = o as Record<string, unknown>;
  // Lists first: `args: {verbose: true}` beside `params` is no second list. Without a list, an
  // object of values (Snowflake's bindings by position; nineteenth pass: by name, as the drivers
  // an SQL proxy hands its body to take them: libSQL's `args: {p}`, mysql2's `values`,
  // Sequelize's `bind` and `replacements`, node-oracledb's `binds`; they were not bound, so
  // `LIKE :p` with `%` was a narrow write).
  const names = Object.keys(r).slice(0, 256).filter(valueList);
  let present: string[] = names.filter((k) => Array.isArray(r[k]));
  if (present.length === 0) present = names.filter((k) => !!r[k] && typeof r[k] === 'object');
  if (present.length > 1) return { error: `the statement carries several lists of bound values (${present.join(', ')}): which one the server binds is not known` };
  let list = present.length ? r[present[0]!] : undefined;
  const values: unknown[] = [];
  if (list && typeof list === 'object' && !Array.isArray(list)) {
    const arr: unknown[] = [];
    for (const [k, v] of Object.entries(list as Record<string, unknown>).slice(0, 10_000)) {
      if (/^\d{1,4}$/.test(k)) arr[Number(k) - 1] = v;
      else values.push({ named: k.replace(/^[:@$]/, ''), value: plainValue(v) } satisfies NamedValue);
    }
    list = arr;
  }
  const add = (v: unknown): void => {
    const name = v && typeof v === 'object' && !Array.isArray(v) ? (v as { name?: unknown }).name : undefined;
    // Hrana names carry their sigil (`:e`), Databricks and BigQuery do not.
    // Hrana's named value wraps a typed one: `{name, value: {type, value}}`.
    const inner = typeof name === 'string' && (v as { value?: unknown }).value && typeof (v as { value?: unknown }).value === 'object' ? (v as { value: unknown }).value : v;
    values.push(typeof name === 'string' ? ({ named: name.replace(/^[:@$]/, ''), value: plainValue(inner) } satisfies NamedValue) : plainValue(v));
  };
  if (Array.isArray(list)) for (const v of list.slice(0, 10_000)) add(v);
  if (Array.isArray(r.named_args)) for (const v of r.named_args.slice(0, 10_000)) add(v);
  return present.length || Array.isArray(r.named_args) ? values : undefined;
}

/**
 * SQL in the arguments of a PostgREST RPC call (`POST …/rpc/{function}`) to a function that takes a
 * query (`exec_sql` and friends), read as PostgreSQL (PostgREST serves nothing else): JSON or form
 * arguments with SQL-looking names (sqlArgument: `query`, `sql`, `sql_query`, `statement`, `stmt`,
 * `sql_text` …), or a text/plain body (passed whole to a function with a single unnamed text
 * parameter), or for GET and HEAD the URL's parameters of such names. Undefined when the call carries none.
 */
export function rpcSql(request: RequestInfo): SqlSource | undefined {
  // GET and HEAD take the arguments from the URL (PostgREST runs them in a READ ONLY transaction,
  // which still lets `dblink_exec` write through a new connection, `http_get` send rows out and
  // `pg_terminate_backend` end sessions). The other parameters are filters (`?id=eq.1`), so a
  // value is SQL only when a grammar reads statements in it: `?query=red shoes` stays a search.
  if (request.method === 'GET' || request.method === 'HEAD') {
    const fn = request.segments[request.segments.length - 1] ?? '';
    const texts = Object.keys(request.query)
      .filter((k) => sqlArgument(k) || runsItsArgument(fn))
      .slice(0, 64)
      .flatMap((k) => request.query[k] ?? [])
      .filter((v) => v.trim() !== '');
    return texts.length ? { texts, dialect: 'postgresql', sniffed: true } : undefined;
  }
  const body = request.body;
  if (body.content_type === 'text/plain' && body.json === undefined && body.text) {
    return body.truncated || body.text_truncated ? { error: 'request body longer than the description keeps: SQL not fully visible' } : { texts: [body.text], dialect: 'postgresql' };
  }
  // PostgREST passes other bodies whole to a function of one unnamed parameter (thirteenth pass):
  // JSON that is a string (`"DROP TABLE users"` to a json parameter) is SQL when a grammar reads
  // statements in it; `application/octet-stream` (bytea), `text/xml` (xml) or another type to a
  // function whose name says it runs SQL is not read, so it fails closed.
  if (typeof body.json === 'string' && body.json.trim() !== '') return { texts: [body.json], dialect: 'postgresql', sniffed: true };
  const fnName = request.segments[request.segments.length - 1] ?? '';
  if (runsItsArgument(fnName) && body.size > 0 && body.json === undefined && body.form === undefined && body.content_type !== 'text/plain') {
    return { error: `a ${body.content_type || 'untyped'} body PostgREST passes whole to ${fnName.slice(0, 40)}, a function that runs SQL: not read` };
  }
  // The function's parameters are its author's names: any SQL-looking one (`sql_text`, `stmt`,
  // `query_text`, `sqlQuery` as well as `query`, `sql`), in the object or in each of an array's.
  const json = body.json;
  const objects = (Array.isArray(json) ? json : [json]).filter((o): o is Record<string, unknown> => !!o && typeof o === 'object' && !Array.isArray(o));
  const formKeys = body.form ? formEntries(body.form).map(([k]) => k) : [];
  const keys = [...new Set([...objects.flatMap((o) => Object.keys(o)), ...formKeys])].filter(sqlArgument).slice(0, 64);
  if (keys.length === 0) return sqlFunctionArguments(request, objects);
  const s = sqlFromBody(request, { keys, dialect: 'postgresql' });
  return 'texts' in s ? s : undefined;
}

/** Function names that say they run SQL: `exec_sql`, `run_sql`, `sql`, `run_query`, `execute_statement` (not `exec` or `run` alone: their arguments may be anything). */
const runsItsArgument = (fn: string): boolean => sqlArgument(fn) || /[_-](query|statement|stmt)s?$/i.test(fn);

/**
 * The arguments of a call to a function whose name says it runs SQL (`exec_sql {cmd}`, `run
 * {text}`), under names that do not (the parameter names are its author's): every text argument,
 * SQL when a grammar reads statements in it (tenth pass: `{cmd: "DROP TABLE users"}` was a plain call).
 */
function sqlFunctionArguments(request: RequestInfo, objects: Array<Record<string, unknown>>): SqlSource | undefined {
  const fn = request.segments[request.segments.length - 1] ?? '';
  if (!runsItsArgument(fn)) return undefined;
  const texts: string[] = [];
  for (const o of objects.slice(0, 64)) for (const v of Object.values(o).slice(0, 64)) if (typeof v === 'string' && v.trim() !== '') texts.push(v);
  // A JSON array of texts, passed whole to a json parameter.
  if (Array.isArray(request.body.json)) for (const v of request.body.json.slice(0, 64)) if (typeof v === 'string' && v.trim() !== '') texts.push(v);
  for (const [, vs] of formEntries(request.body.form ?? {}).slice(0, 64)) for (const v of vs) if (v.trim() !== '') texts.push(v);
  if (texts.length === 0) return undefined;
  if (request.body.truncated || request.body.decode_error) return { error: 'request body not fully visible: SQL not read' };
  return { texts: texts.slice(0, 64), dialect: 'postgresql', sniffed: true };
}

/** Whether a path is a PostgREST RPC call: its last two segments are `rpc/{function}`. */
export const isRpcPath = (segments: readonly string[]): boolean => segments.length >= 2 && segments[segments.length - 2] === 'rpc';

/**
 * Whether an argument carries SQL, by its name (letter case, `_` and `-` aside): `query`, `queries`,
 * `statement(s)`, `stmt(s)`, or any name with `sql` in it — Supabase `execute_sql {query}`, Neon
 * `run_sql {params: {sql}}`, `run_sql_transaction {params: {sqlStatements: […]}}`,
 * `prepare_database_migration {params: {migrationSql}}`, `sql_query`, `sqls`.
 */
export function sqlArgument(name: string): boolean {
  const k = name.toLowerCase().replace(/[_-]/g, '');
  return k.includes('sql') || k === 'query' || k === 'queries' || k === 'statement' || k === 'statements' || k === 'stmt' || k === 'stmts';
}

/**
 * A text's readings past a notebook's magic before the statement (twentieth pass: `%%sql⏎DROP
 * TABLE users` in Jupyter's ipython-sql and Databricks, `%%bigquery --project p⏎…`, Zeppelin's
 * `%jdbc(pg) …`, `%sql DELETE …`: the kernel runs the rest as SQL, and no grammar read past the
 * `%`): after the magic's name, and after its line. None for a text that begins otherwise.
 */
export function magicReadings(v: string): string[] {
  // A chat command naming a database (`/sql DROP TABLE users` to Mattermost's command API, `!psql
  // …` to a bot) likewise.
  const chat = /^\s*[/!][\w.-]{0,40}\s+/.exec(v);
  if (chat && chatSqlCommand(chat[0].trim())) return [v.slice(chat[0].length)];
  const magic = /^\s*%%?[A-Za-z][\w.]{0,40}(\([^)\n]{0,200}\))?/.exec(v);
  if (!magic) return [];
  const nl = v.indexOf('\n');
  return nl > 0 ? [v.slice(magic[0].length), v.slice(nl + 1)] : [v.slice(magic[0].length)];
}

/** Whether a chat command's name (`/sql`, `!psql`, `/db-query`) says it runs SQL (twentieth pass). */
export function chatSqlCommand(name: string): boolean {
  return /^[/!][\w.-]{0,40}$/.test(name) && /sql|query|queries|psql|mysql|sqlite|clickhouse|duckdb|(^|[^a-z])db([^a-z]|$)/i.test(name.slice(1));
}
