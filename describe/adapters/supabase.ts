// Supabase: per-project hosts ({ref}.supabase.co) serve PostgREST (/rest/v1), Storage, Auth, Edge
// Functions and the pg-meta SQL endpoint (/pg/query); api.supabase.com is the Management API,
// whose /v1/projects/{ref}/database/query runs SQL. SQL bodies are `{"query": "…"}`.
import { createHash } from 'node:crypto';
import type { RequestInfo, ServiceInfo } from '../types.ts';
import { hostUnder, hostIs, type ServiceAdapter, type SqlSource } from './adapter.ts';
import { effectByMethod, fromTable, jsonObject, RouteTable, type RouteSpec } from './routes.ts';
import { rpcSql, sqlFromBody } from './sql-body.ts';
import { logicalBranches, pgGraphqlHoldsForEveryRow, postgrestHoldsForEveryRow, postgrestItems } from './sql-postgrest.ts';
import { describeGraphql, type GraphqlRequest } from '../graphql.ts';

/** pg_graphql (`/graphql/v1`): collection mutations map to the PostgREST operations on the same table. */
function pgGraphqlMutation(field: string): [string, ServiceInfo['effect']] {
  if (/^insertInto.+Collection$/.test(field)) return ['rows.insert', 'write'];
  if (/^update.+Collection$/.test(field)) return ['rows.update', 'write'];
  if (/^deleteFrom.+Collection$/.test(field)) return ['rows.delete', 'delete'];
  return [`graphql.${field}`, 'write'];
}

/** A pg_graphql filter that selects every row: absent, null, `{}`, or a variable not given. */
function isEmptyFilter(filter: unknown): boolean {
  return filter === undefined || filter === null || (typeof filter === 'object' && !Array.isArray(filter) && Object.keys(filter).length === 0);
}

const isGraphql = (request: RequestInfo): boolean =>
  request.host !== 'api.supabase.com' && request.segments.length === 2 && request.segments[0] === 'graphql' && request.segments[1] === 'v1';

/** PostgREST query parameters that are not row filters. */
const postgrestReserved = new Set(['select', 'order', 'limit', 'offset', 'on_conflict', 'columns']);

/**
 * pg_graphql's form of the same (`filter: {id: {is: NOT_NULL}}`, `{email: {like: "%"}}`, `or: [...]`
 * with such a branch, `and: [...]` of them): every column condition in it holds for any row.
 */
function filterHoldsForEveryRow(filter: unknown, depth = 0): boolean {
  if (depth > 8 || !filter || typeof filter !== 'object' || Array.isArray(filter)) return false;
  const entries = Object.entries(filter as Record<string, unknown>);
  if (entries.length === 0) return true;
  return entries.every(([key, cond]) => {
    // pg_graphql before 1.0 spelled the compound filters `AND`, `OR`, `NOT` (fourteenth pass).
    const k = key === 'AND' || key === 'OR' || key === 'NOT' ? key.toLowerCase() : key;
    if (k === 'or' || k === 'and') {
      if (!Array.isArray(cond)) return false;
      // An empty list filters nothing: pg_graphql's own tests return every row for `{AND: []}` and `{OR: []}`.
      if (cond.length === 0) return true;
      const holds = cond.map((c) => filterHoldsForEveryRow(c, depth + 1));
      return k === 'or' ? holds.some(Boolean) : holds.every(Boolean);
    }
    // `not: {id: {eq: 7}}`, `not: {name: {like: "a%"}}`, `not: {and: […]}` (NOT of conditions)
    // spare only the rows they name, as SQL's `NOT (…)` does.
    if (k === 'not') return negationSparesRows(cond);
    if (!cond || typeof cond !== 'object' || Array.isArray(cond)) return false;
    const ops = Object.entries(cond as Record<string, unknown>);
    // `neq` names the rows spared, not the rows touched (SQL's `id <> 7`, adapters/sql.ts); a
    // pattern every string matches (`like: "%"`, `startsWith: ""`, `regex: ".*"`), and an array
    // that contains the empty one (`contains: []`), hold for every row but NULLs.
    return ops.length > 0 && ops.every(([op, v]) =>
      (op === 'is' && v === 'NOT_NULL') || op === 'neq' || ((op === 'like' || op === 'ilike') && typeof v === 'string' && /^%+$/.test(v))
      || (op === 'startsWith' && v === '') || ((op === 'regex' || op === 'iregex') && typeof v === 'string' && regexAnything.has(v))
      || (op === 'contains' && Array.isArray(v) && v.length === 0));
  });
}

const rangeOps = new Set(['gt', 'gte', 'lt', 'lte']);

/**
 * Whether a pg_graphql `not: {…}` names the rows it spares: any negated condition does but a
 * negated range (`not: {id: {gt: 5}}` is `id <= 5`, a range of its own). `not: {}` matches no row.
 */
function negationSparesRows(filter: unknown): boolean {
  if (!filter || typeof filter !== 'object' || Array.isArray(filter)) return false;
  const entries = Object.entries(filter as Record<string, unknown>);
  return entries.length > 0 && !entries.every(([key, cond]) => {
    if (/^(and|or|not)$/i.test(key) || !cond || typeof cond !== 'object' || Array.isArray(cond)) return false;
    const ops = Object.keys(cond as Record<string, unknown>);
    return ops.length > 0 && ops.every((op) => rangeOps.has(op));
  });
}

/** Patterns every value matches: `like.*` (PostgREST's `*` is `%`), `match..*` and friends. */
const likeAnything = /^[*%]+$/;
const regexAnything = new Set(['', '.*', '^', '$', '^.*', '.*$', '^.*$', '(.*)', '.*?']);

/**
 * True when a PostgREST filter (`column=op.value`, or `or`/`and=(…)`) holds for every row whatever
 * the data: `not.is.null`, `like.*`, `ilike.%`, `match..*`, an `or` with such a branch, an `and` of
 * such conditions. Anything else (a value to compare with) may spare rows.
 */
function holdsForEveryRow(key: string, value: string, depth = 0): boolean {
  if (depth > 8) return false;
  if (key === 'or' || key === 'and') {
    const branches = logicalBranches(value);
    // Not read one way (PostgREST takes a `(` inside an unquoted value as text: `name.eq.a(b` is a
    // value, so its branches split where these do not): as unreadable SQL, it counts as every row.
    if (!branches) return true;
    const holds = branches.map((b) => {
      // `not.and(…)` and `not.or(…)` negate a group: they name the rows spared, as SQL's `NOT (a AND b)` does.
      if (/^not\.(or|and)\(/.test(b)) return true;
      const m = /^(or|and)(\(.*)$/s.exec(b);
      if (m) return holdsForEveryRow(m[1]!, m[2]!, depth + 1);
      const dot = b.indexOf('.');
      return dot > 0 && holdsForEveryRow(b.slice(0, dot), b.slice(dot + 1), depth + 1);
    });
    return key === 'or' ? holds.some(Boolean) : holds.every(Boolean);
  }
  if (value === 'not.is.null' || value === 'is.not_null' || value === 'isdistinct.null') return true;
  // Conditions that name the rows spared, not the rows touched, as SQL's `id <> 7`, `id NOT IN (…)`,
  // `NOT (id = 7)` and `id IS DISTINCT FROM 7` do (adapters/sql.ts): `neq.7`, `not.eq.7`,
  // `not.in.(7,8)`, `isdistinct.7`.
  // PostgREST's `not.` negates any operator (`not.like.x*`, `not.fts.word`, `not.cs.{a}`,
  // `not.is.true`): each names the rows spared, as SQL's `NOT LIKE` and `NOT (…)` do. Only the
  // negated ranges (`not.gt.5`, a range of its own) may name the rows touched.
  if (/^(neq|isdistinct)\./.test(value) || (value.startsWith('not.') && !/^not\.(gt|gte|lt|lte)\./.test(value))) return true;
  const dot = value.indexOf('.');
  if (dot < 0) return false;
  const arg = value.slice(dot + 1);
  // Operator modifiers (fourteenth pass): `like(any).{*,x}` holds when one pattern matches
  // everything, `like(all).{*}` when each does (PostgREST's `LIKE ANY/ALL ('{…}')`).
  const modified = /^([a-z]+)\((any|all)\)$/.exec(value.slice(0, dot));
  const op = modified ? modified[1]! : value.slice(0, dot);
  const args = modified ? postgrestItems(arg, '{', '}') : [arg];
  // A list with a quote left open is held as every row: Airlock cannot say which patterns it holds.
  if (args === undefined) return arg.startsWith('{') && arg.endsWith('}');
  if (args.length === 0) return false;
  const each = (test: (a: string) => boolean): boolean => (modified?.[2] === 'all' ? args.every(test) : args.some(test));
  if (op === 'like' || op === 'ilike') return each((a) => likeAnything.test(a));
  if (op === 'match' || op === 'imatch') return each((a) => regexAnything.has(a));
  // An array or JSON value that contains the empty array or object: every row but NULLs (`IS NOT NULL`).
  if (op === 'cs' && !modified) return arg === '{}' || arg === '[]';
  return false;
}


/**
 * The schema PostgREST acts in: `Accept-Profile` (reads) or `Content-Profile` (writes) names one of
 * the exposed schemas, else the first. `billing.todos` is not `public.todos`: a grant records it.
 * Every value either header carries is listed (which one a request is run by is PostgREST's choice).
 */
function postgrestSchema(request: RequestInfo): string {
  const named = [...new Set([...(request.headers['accept-profile'] ?? []), ...(request.headers['content-profile'] ?? [])].map((v) => v.trim()))].sort();
  return named.length ? named.join(',') : 'default';
}

function postgrest(request: RequestInfo, project: string, rest: string[]): ServiceInfo {
  const m = request.method;
  const schema = postgrestSchema(request);
  if (rest[0] === 'rpc' && rest.length === 2) {
    // PostgREST runs GET/HEAD RPC calls in a read-only transaction.
    return { name: 'supabase', operation: 'rpc.call', params: { project, schema, function: rest[1] }, effect: m === 'GET' || m === 'HEAD' ? 'read' : 'write' };
  }
  if (rest.length !== 1) return { name: 'supabase', operation: 'unknown', params: { project }, effect: effectByMethod(m) };
  const filters = Object.keys(request.query).filter((k) => !postgrestReserved.has(k)).sort();
  const params: Record<string, unknown> = { project, schema, table: rest[0], filters };
  const ops: Record<string, [string, ServiceInfo['effect']]> = {
    GET: ['rows.select', 'read'], HEAD: ['rows.select', 'read'], OPTIONS: ['rows.select', 'read'],
    POST: ['rows.insert', 'write'], PUT: ['rows.upsert', 'write'], PATCH: ['rows.update', 'write'], DELETE: ['rows.delete', 'delete'],
  };
  const [listed, effect] = ops[m] ?? ['unknown', 'write'];
  let operation = listed;
  // A POST with `Prefer: resolution=merge-duplicates` is an upsert: it overwrites the rows it
  // collides with, as PUT does. A grant for inserting rows does not cover overwriting them.
  if (m === 'POST' && (request.headers['prefer'] ?? []).some((v) => /resolution\s*=\s*merge-duplicates/i.test(v))) operation = 'rows.upsert';
  // PATCH or DELETE without a filter touches every row of the table, and so does one whose every
  // filter holds for any row (`id=not.is.null`, `name=like.*`, `or=(id.lt.0,id.not.is.null)`), as
  // SQL's `WHERE id IS NOT NULL` does (adapters/sql.ts).
  // A filter on an embedded resource (`orders.id=eq.1`, `orders.or=(…)`: a key with a `.`) only
  // narrows what the answer embeds; PostgREST's UPDATE and DELETE take their WHERE from the root
  // filters alone, so such a filter spares no row of the table.
  const everyRow = filters.every((k) => k.includes('.') || (request.query[k] ?? []).every((v) => holdsForEveryRow(k, v)))
    // The filters as the SQL condition they run, judged by the SQL reader (sql-postgrest.ts): it only adds risk.
    || ((m === 'PATCH' || m === 'DELETE') && postgrestHoldsForEveryRow(filters.flatMap((k) => (request.query[k] ?? []).map((v): [string, string] => [k, v]))));
  if ((m === 'PATCH' || m === 'DELETE') && everyRow) params.all_rows = true;
  return { name: 'supabase', operation, params, effect };
}

/**
 * `verify_jwt` false where a deploy or update takes it: the query, a JSON or form body. (A
 * multipart deploy's metadata part is not read here: that deploy stays a write.)
 */
function opensFunction(request: RequestInfo): boolean {
  const values = [...(request.query.verify_jwt ?? []), ...(request.body.form?.verify_jwt ?? []), jsonObject(request)?.verify_jwt];
  return values.some((v) => ajvBoolean(v) === false || (typeof v === 'string' && v.trim().toLowerCase() === 'false'));
}

/**
 * A JSON value as a boolean field reads it in Supabase's Fastify services (Storage, pg-meta):
 * Fastify's default Ajv (`coerceTypes: 'array'`) turns `1`, `"true"` and `[true]` into true and
 * `0`, `"false"`, `null` and `[0]` into false before the handler sees them, so `{"rls_enabled": 0}`
 * turns row-level security off as `false` does. undefined for anything else (refused there, 400).
 */
export function ajvBoolean(v: unknown): boolean | undefined {
  if (Array.isArray(v)) return v.length === 1 ? ajvBoolean(v[0]) : undefined;
  if (v === true || v === 'true' || v === 1) return true;
  if (v === false || v === 'false' || v === 0 || v === null) return false;
  return undefined;
}

/**
 * pg-meta resources whose every change is a privilege change: who may read or write what. A
 * publication too (`{tables: null}` is `CREATE PUBLICATION … FOR ALL TABLES`, a list `ALTER
 * PUBLICATION … SET TABLE`): every later change to its tables streams to any server that
 * subscribes, as the SQL twins (critical) say.
 */
const pgMetaPrivileges = new Set(['policies', 'roles', 'table-privileges', 'column-privileges', 'publications']);

/**
 * What a pg-meta change (`/pg/{kind}[/{id}]`) does, as its SQL twin is judged (adapters/sql.ts):
 * policies, roles and privileges are `admin`; a table PATCH that turns row-level security off
 * (`rls_enabled` or `rls_forced` false) too; a function made `SECURITY DEFINER` too; any other
 * function, trigger or extension is code others run (a delete, as CREATE [OR REPLACE] FUNCTION,
 * CREATE TRIGGER, CREATE EXTENSION); a column PATCH that changes its type rewrites every row (a
 * delete, as `ALTER COLUMN … TYPE`).
 */
function pgMetaEffect(info: ServiceInfo, request: RequestInfo): void {
  const kind = String(info.params.kind ?? '');
  info.operation = `pg_meta.${kind}.${request.method.toLowerCase()}`;
  const body = jsonObject(request) ?? {};
  // (`Object.hasOwn`: a `null` that is there is false to pg-meta, an absent field no change.)
  const isFalse = (k: string): boolean => Object.hasOwn(body, k) && ajvBoolean(body[k]) === false;
  if (pgMetaPrivileges.has(kind)) info.effect = 'admin';
  else if (kind === 'tables' && (isFalse('rls_enabled') || isFalse('rls_forced'))) info.effect = 'admin';
  else if (kind === 'functions' && ajvBoolean(body.security_definer) === true) info.effect = 'admin';
  // Code others' statements run, which the request's JSON does not show as SQL: a function's
  // definition (new or replaced), a trigger, an extension's functions (their SQL twins are destructive).
  else if (kind === 'functions' || kind === 'triggers' || kind === 'extensions') info.effect = 'delete';
  else if (kind === 'columns' && request.method !== 'POST' && body.type !== undefined) info.effect = 'delete';
}

/**
 * The SQL a pg-meta column change writes into its DDL as it stands: `default_value` with
 * `default_value_format: "expression"` (`DEFAULT ${default_value}`) and `check` (`CHECK (${check})`).
 * `{default_value: "1; DROP TABLE users", default_value_format: "expression"}` runs the DROP; an
 * expression also runs on every later INSERT (`pg_read_file(…)`). Read as PostgreSQL in the place
 * pg-meta puts it. Undefined when the change carries neither.
 */
function pgMetaColumnSql(request: RequestInfo): SqlSource | undefined {
  const body = jsonObject(request);
  if (!body) return undefined;
  const texts: string[] = [];
  if (body.default_value_format === 'expression' && body.default_value !== undefined) texts.push(`SELECT ${String(body.default_value)}`);
  if (typeof body.check === 'string') texts.push(`SELECT (${body.check})`);
  return texts.length ? { texts, dialect: 'postgresql' } : undefined;
}

/**
 * Where a Storage object call acts: its bucket (a grant for uploads to `avatars` does not cover a
 * copy into a public bucket), both buckets of a move or copy. An upload with `x-upsert: true`
 * overwrites the object already there: another operation than adding one.
 */
function storagePlace(info: ServiceInfo, request: RequestInfo): void {
  const path = typeof info.params.path === 'string' ? info.params.path.split('/') : [];
  // /object/public/{bucket}/…, /object/authenticated/{bucket}/…, /object/info/{bucket}/… (reads).
  const bucket = ['public', 'authenticated', 'info'].includes(path[0] ?? '') && info.operation === 'storage.objects.get' ? path[1] : path[0];
  if (info.operation === 'storage.objects.move' || info.operation === 'storage.objects.copy') {
    const body = jsonObject(request) ?? {};
    const from = typeof body.bucketId === 'string' ? body.bucketId : '?';
    const to = body.destinationBucket === undefined ? from : typeof body.destinationBucket === 'string' ? body.destinationBucket : '?';
    info.params.bucket = [...new Set([from, to])].sort();
  } else if (typeof info.params.bucket !== 'string' && bucket !== undefined) {
    info.params.bucket = bucket;
  }
  if (info.operation === 'storage.objects.upload' && (request.headers['x-upsert'] ?? []).some((v) => v.trim().toLowerCase() !== 'false')) info.operation = 'storage.objects.upsert';
  // A signed URL is a public link to the objects it names (the path, or a bulk body's `paths`):
  // what it publishes is the place. A grant for a link to the logo covers none to another file.
  if (info.operation === 'storage.objects.sign_url') {
    const paths = jsonObject(request)?.paths;
    const named = Array.isArray(paths) ? paths.map((p) => (typeof p === 'string' ? `${bucket}/${p}` : '?')) : [String(info.params.path ?? '?')];
    // Names holding the place's own separators, or long, by digest (equal names stay equal).
    const safe = (v: string): string => (v === '?' || (v.length <= 200 && !/[;=,|?()]/.test(v)) ? v : `sha256-${createHash('sha256').update(v).digest('hex').slice(0, 32)}`);
    info.params.objects = named.length > 50 || named.length === 0 ? ['?'] : [...new Set(named.map(safe))].sort();
  }
}

/**
 * Storage's S3-compatible endpoint (/storage/v1/s3/{bucket}/{key}): S3's operations, where
 * `DeleteObjects` is a POST to the bucket with `?delete` (its keys in an XML body).
 */
function storageS3(request: RequestInfo, project: string, rest: string[]): ServiceInfo {
  const m = request.method;
  const params: Record<string, unknown> = { project, bucket: rest[0] ?? '' };
  if (m === 'POST' && request.query.delete !== undefined) return { name: 'supabase', operation: 'storage.s3.delete_objects', params, effect: 'delete' };
  return { name: 'supabase', operation: `storage.s3.${m.toLowerCase()}`, params, effect: effectByMethod(m) };
}

const management = new RouteTable([
  { route: 'GET /v1/projects', operation: 'projects.list', effect: 'read' },
  { route: 'POST /v1/projects', operation: 'projects.create', effect: 'admin' },
  { route: 'GET /v1/projects/{ref}', operation: 'projects.get', effect: 'read' },
  { route: 'DELETE /v1/projects/{ref}', operation: 'projects.delete', effect: 'delete' },
  { route: 'POST /v1/projects/{ref}/pause', operation: 'projects.pause', effect: 'admin' },
  { route: 'POST /v1/projects/{ref}/restore', operation: 'projects.restore', effect: 'admin' },
  { route: 'POST /v1/projects/{ref}/database/query', operation: 'database.query', effect: 'write' },
  // The same SQL as `supabase_read_only_user` (which still runs dblink, pg_net and the like): read as SQL alike.
  { route: 'POST /v1/projects/{ref}/database/query/read-only', operation: 'database.query', effect: 'write' },
  { route: 'GET /v1/projects/{ref}/secrets', operation: 'secrets.list', effect: 'read' },
  { route: 'POST /v1/projects/{ref}/secrets', operation: 'secrets.create', effect: 'admin' },
  { route: 'DELETE /v1/projects/{ref}/secrets', operation: 'secrets.delete', effect: 'admin' },
  { route: 'GET /v1/projects/{ref}/api-keys', operation: 'api_keys.list', effect: 'admin' }, // returns live keys
  // One key (`?reveal=true` shows a secret key whole), a new key, a key changed or removed, the
  // legacy keys switched on or off: each hands out or changes a credential.
  { route: 'GET|PATCH|DELETE /v1/projects/{ref}/api-keys/{id}', operation: 'api_keys.get', effect: 'admin' },
  { route: 'POST /v1/projects/{ref}/api-keys', operation: 'api_keys.create', effect: 'admin' },
  { route: 'PUT /v1/projects/{ref}/api-keys/legacy', operation: 'api_keys.update_legacy', effect: 'admin' },
  // A preview branch's details carry its database password and JWT secret (a service-role token
  // can be minted with it); pgsodium's config is Vault's root key, and replacing it makes every
  // value encrypted with the old one unreadable.
  { route: 'GET /v1/branches/{branch_id}', operation: 'branches.get', effect: 'admin' },
  { route: 'GET|PUT /v1/projects/{ref}/pgsodium', operation: 'pgsodium.config', effect: 'admin' },
  // A CLI login role is a database role with a temporary password, handed back in the answer (the
  // CLI steps up to `postgres` with it); the database password reset sets the superuser's.
  { route: 'POST|DELETE /v1/projects/{ref}/cli/login-role', operation: 'cli.login_role', effect: 'admin' },
  { route: 'PATCH /v1/projects/{ref}/database/password', operation: 'database.password.update', effect: 'admin' },
  // Compute size, PITR, read replicas, custom domains: add-ons are recurring charges on the card.
  { route: 'PATCH /v1/projects/{ref}/billing/addons', operation: 'billing.addons.apply', effect: 'pay' },
  // A migration is SQL run against the database (read as SQL below, like database/query).
  { route: 'POST|PUT /v1/projects/{ref}/database/migrations', operation: 'database.migrations.apply', effect: 'write' },
  // Restoring a backup (point in time, or a restore point) or resetting a branch throws away
  // everything written since: a delete.
  { route: 'POST /v1/projects/{ref}/database/backups/{action}', operation: 'database.backups.restore', effect: 'delete' },
  { route: 'POST /v1/projects/{ref}/database/backups/restore-point', operation: 'database.backups.create_restore_point', effect: 'write' },
  { route: 'POST /v1/branches/{branch_id}/reset', operation: 'branches.reset', effect: 'delete' },
  // Merging a preview branch applies its migrations to production: schema changes (drops
  // included) Airlock cannot see from the request.
  { route: 'POST /v1/branches/{branch_id}/merge', operation: 'branches.merge', effect: 'admin' },
  // Which schemas the Data API exposes to the anon key, which addresses may connect, whether SSL is
  // required: who can reach the data.
  { route: 'PATCH /v1/projects/{ref}/postgrest', operation: 'postgrest.config.update', effect: 'admin' },
  { route: 'POST|PUT|PATCH /v1/projects/{ref}/network-restrictions', operation: 'network_restrictions.update', effect: 'admin' },
  { route: 'POST|PUT|PATCH /v1/projects/{ref}/network-restrictions/{path+}', operation: 'network_restrictions.update', effect: 'admin' },
  { route: 'PUT /v1/projects/{ref}/ssl-enforcement', operation: 'ssl_enforcement.update', effect: 'admin' },
  { route: 'PUT|PATCH|POST|DELETE /v1/projects/{ref}/config/{path+}', operation: 'config.update', effect: 'admin' },
  { route: 'DELETE /v1/projects/{ref}/functions/{slug}', operation: 'functions.delete', effect: 'delete' },
  { route: 'POST /v1/projects/{ref}/functions', operation: 'functions.deploy', effect: 'write' },
  { route: 'POST /v1/projects/{ref}/functions/deploy', operation: 'functions.deploy', effect: 'write' },
  { route: 'PATCH /v1/projects/{ref}/functions/{slug}', operation: 'functions.update', effect: 'write' },
  { route: 'DELETE /v1/projects/{ref}/branches/{branch_id}', operation: 'branches.delete', effect: 'delete' },
  { route: 'DELETE /v1/branches/{branch_id}', operation: 'branches.delete', effect: 'delete' },
] satisfies RouteSpec[]);

const projectApi = new RouteTable([
  { route: 'POST /pg/query', operation: 'sql.query', effect: 'write' },
  // pg-meta's REST forms of the same statements (the SQL twins are privilege changes, critical):
  // row-level security policies, roles, table and column privileges (GRANT/REVOKE).
  { route: 'POST|PUT|PATCH /pg/{kind}', operation: 'pg_meta.update', effect: 'write' },
  { route: 'POST|PUT|PATCH /pg/{kind}/{id}', operation: 'pg_meta.update', effect: 'write' },
  { route: 'DELETE /pg/{kind}/{id}', operation: 'pg_meta.delete', effect: 'delete' },
  { route: 'GET /storage/v1/bucket', operation: 'storage.buckets.list', effect: 'read' },
  { route: 'POST /storage/v1/bucket', operation: 'storage.buckets.create', effect: 'write' },
  { route: 'DELETE /storage/v1/bucket/{bucket}', operation: 'storage.buckets.delete', effect: 'delete' },
  // A bucket's settings say who may read it: `public: true` serves every file in it to anyone.
  { route: 'PUT|PATCH /storage/v1/bucket/{bucket}', operation: 'storage.buckets.update', effect: 'admin' },
  { route: 'POST /storage/v1/bucket/{bucket}/empty', operation: 'storage.buckets.empty', effect: 'delete' },
  { route: 'GET /storage/v1/object/{path+}', operation: 'storage.objects.get', effect: 'read' },
  { route: 'POST /storage/v1/object/list/{bucket}', operation: 'storage.objects.list', effect: 'read' },
  { route: 'POST|PUT /storage/v1/object/{path+}', operation: 'storage.objects.upload', effect: 'write' },
  { route: 'DELETE /storage/v1/object/{path+}', operation: 'storage.objects.delete', effect: 'delete' },
  { route: 'POST /storage/v1/object/sign/{path+}', operation: 'storage.objects.sign_url', effect: 'send' }, // a public link to private data
  // Moving or copying names its buckets in the body (`bucketId`, `destinationBucket`); a signed
  // upload URL lets whoever holds it write the object.
  { route: 'POST /storage/v1/object/move', operation: 'storage.objects.move', effect: 'write' },
  { route: 'POST /storage/v1/object/copy', operation: 'storage.objects.copy', effect: 'write' },
  { route: 'POST /storage/v1/object/upload/sign/{path+}', operation: 'storage.objects.sign_upload_url', effect: 'write' },
  { route: 'GET /auth/v1/user', operation: 'auth.get_user', effect: 'read' },
  { route: 'GET /auth/v1/admin/users', operation: 'auth.admin.list_users', effect: 'read' },
  { route: 'POST|PUT|DELETE /auth/v1/admin/{path+}', operation: 'auth.admin', effect: 'admin' },
  // Inviting creates a user who can sign in (service role only, like auth.admin); the others
  // mail a sign-in link or code to any address.
  { route: 'POST /auth/v1/invite', operation: 'auth.invite', effect: 'admin' },
  { route: 'POST /auth/v1/otp', operation: 'auth.otp', effect: 'send' },
  { route: 'POST /auth/v1/magiclink', operation: 'auth.magiclink', effect: 'send' },
  { route: 'POST /auth/v1/recover', operation: 'auth.recover', effect: 'send' },
  { route: 'POST /auth/v1/resend', operation: 'auth.resend', effect: 'send' },
  // A sign-up creates a user with the password the caller chose (signed in at once where
  // confirmation is off), as an invitation does.
  { route: 'POST /auth/v1/signup', operation: 'auth.signup', effect: 'admin' },
  { route: 'GET|POST|PUT|PATCH|DELETE /functions/v1/{path+}', operation: 'functions.invoke', effect: 'write' },
] satisfies RouteSpec[]);

/** Management API path words of routes that change what the organization is billed for. */
const managementPayWords = new Set(['billing', 'read-replicas', 'addons']);
/** Management API path words of routes that change who can act on the organization's projects. */
const managementAdminWords = new Set(['members', 'invitations', 'roles']);

/** Auth calls that send a sign-in link or code, or a password reset, to an address or number. */
const authSends = new Set(['auth.otp', 'auth.magiclink', 'auth.recover', 'auth.resend']);
/** Where GoTrue and supabase-js name the page a link leads to (the query, as supabase-js sends it, or the body). */
const redirectFields = ['redirect_to', 'email_redirect_to', 'redirectTo', 'emailRedirectTo'];

/**
 * Who receives a sign-in link, code or reset (`email`, `phone`) and where its link leads
 * (`redirect_to`): the place a grant records. A grant for a link to a colleague covers none to an
 * outsider (with `create_user`, an account on the app), nor one whose link hands the session to
 * another site. `?` when the body names no recipient, or one that is not text.
 */
function authPlace(info: ServiceInfo, request: RequestInfo): void {
  const json = jsonObject(request);
  const values = (o: Record<string, unknown> | undefined, k: string): unknown[] => (o?.[k] === undefined ? [] : [o[k]]);
  const to = new Set<string>();
  for (const k of ['email', 'phone']) {
    for (const v of [...values(json, k), ...(request.body.form?.[k] ?? [])]) to.add(typeof v === 'string' ? v.trim().toLowerCase() : '?');
  }
  info.params.recipients = to.size ? [...to].sort() : ['?'];
  const options = json?.options && typeof json.options === 'object' ? (json.options as Record<string, unknown>) : undefined;
  const links = new Set<string>();
  for (const k of redirectFields) {
    for (const v of [...(request.query[k] ?? []), ...values(json, k), ...values(options, k), ...(request.body.form?.[k] ?? [])]) links.add(typeof v === 'string' ? v : '?');
  }
  info.params.redirect_to = links.size ? [...links].sort() : ['(default)'];
}

function describeSupabase(request: RequestInfo, graphql?: GraphqlRequest): ServiceInfo {
  if (request.host === 'api.supabase.com') {
    const info = fromTable('supabase', management, request);
    // The project is where the call acts: a grant for one project's call does not cover another's.
    if (typeof info.params.ref === 'string') info.params.project = info.params.ref;
    // `verify_jwt: false` serves an Edge Function to anyone, without a key: who can reach it.
    if ((info.operation === 'functions.deploy' || info.operation === 'functions.update') && opensFunction(request)) info.effect = 'admin';
    // A route the table does not name that adds what is billed (a read replica is an add-on
    // charged by the hour, as billing/addons is) is a payment.
    if (info.operation === 'unknown' && info.effect === 'write' && request.segments.some((w) => managementPayWords.has(w))) info.effect = 'pay';
    // Members, invitations and roles of an organization decide who reaches every project in it.
    else if (info.operation === 'unknown' && info.effect === 'write' && request.segments.some((w) => managementAdminWords.has(w))) info.effect = 'admin';
    return info;
  }
  const project = request.host.split('.')[0]!;
  if (isGraphql(request)) {
    const info = describeGraphql('supabase', graphql, pgGraphqlMutation);
    info.params.project = project;
    // update…Collection without a filter (or with an empty one) rewrites every row, as a PATCH
    // without a filter does over REST: the same operation gets the same risk.
    const unfiltered = (graphql?.calls ?? []).find((c) => /^update.+Collection$/.test(c.field) && (isEmptyFilter(c.args.filter) || filterHoldsForEveryRow(c.args.filter) || pgGraphqlHoldsForEveryRow(c.args.filter)));
    if (unfiltered && info.effect === 'write') {
      info.operation = 'rows.update';
      info.params.all_rows = true;
      info.params.table = unfiltered.field.slice('update'.length, -'Collection'.length);
    }
    return info;
  }
  const segs = request.segments;
  if (segs[0] === 'rest' && segs[1] === 'v1') return postgrest(request, project, segs.slice(2));
  if (segs[0] === 'storage' && segs[1] === 'v1' && segs[2] === 's3') return storageS3(request, project, segs.slice(3));
  const info = fromTable('supabase', projectApi, request);
  info.params.project = project;
  if (authSends.has(info.operation)) authPlace(info, request);
  if (info.operation.startsWith('storage.objects.')) storagePlace(info, request);
  // A bucket created public serves every file put in it to anyone, as a bucket updated to public does.
  if (info.operation === 'storage.buckets.create' && [jsonObject(request)?.public, ...(request.body.form?.public ?? [])].some((v) => ajvBoolean(v) === true)) info.effect = 'admin';
  // Each Edge Function is its own program, and its path below the name its own route: a grant
  // for invoking one does not cover another function, nor another of its routes.
  if (info.operation === 'functions.invoke' && typeof info.params.path === 'string') info.params.function = info.params.path;
  if (info.operation === 'pg_meta.update') pgMetaEffect(info, request);
  return info;
}

export const supabase: ServiceAdapter = {
  name: 'supabase',
  hosts: (host) => hostUnder('supabase.co', 'supabase.in')(host) || hostIs('api.supabase.com')(host),
  describe: describeSupabase,
  graphqlEndpoint: isGraphql,
  sql(request, service) {
    if (service.operation === 'sql.query' || service.operation === 'database.query' || service.operation === 'database.migrations.apply') return sqlFromBody(request, { dialect: 'postgresql' });
    if (service.operation === 'pg_meta.columns.post' || service.operation === 'pg_meta.columns.patch') return pgMetaColumnSql(request);
    // PostgREST RPC to a function that takes a query (exec_sql and friends).
    if (service.operation === 'rpc.call') return rpcSql(request);
    return undefined;
  },
};
