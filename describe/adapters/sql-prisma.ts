// Prisma's JSON protocol, what Prisma Client sends to Accelerate, Prisma Postgres and self-hosted
// data proxies (`{modelName, action, query: {arguments}}`, or `{batch: [...]}`), read as the SQL
// its query engine runs, so the SQL reader judges it as it judges that statement; and MongoDB's
// Data API actions (`…/action/deleteMany`), read with the same MongoDB rules.
import type { SqlSource } from './adapter.ts';
import { lookupTable } from '../../lib/records.ts';

const MAX_OPERATIONS = 1000;
/** Deepest `where` read, and most conditions in one; past either the statement is unread SQL. */
const MAX_DEPTH = 16;
const MAX_CONDITIONS = 2000;

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
/** PostgreSQL's reserved words (and those that may not name a column bare): such a name stays quoted. */
const pgReserved = new Set(('all analyse analyze and any array as asc asymmetric authorization binary both case cast check collate collation column ' +
  'concurrently constraint create cross current_catalog current_date current_role current_schema current_time current_timestamp current_user ' +
  'default deferrable desc distinct do else end except false fetch for foreign freeze from full grant group having ilike in initially inner ' +
  'intersect into is isnull join lateral leading left like limit localtime localtimestamp natural not notnull null offset on only or order ' +
  'outer overlaps placing primary references returning right select session_user similar some symmetric system_user table tablesample then ' +
  'to trailing true union unique user using variadic verbose when where window with').split(' '));

/**
 * A model, collection or field as the twin names it: bare where it is a plain word (twenty-second
 * pass): a quoted `"age"` that names no column is the text 'age' to SQLite's reading of
 * double-quoted strings, after every number, so `{age: {gt: 65}}` read as every row; the field is a
 * column (or a document's field) to Prisma's engine and MongoDB, never a string.
 */
const ident = (s: string): string => (/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(s) && !pgReserved.has(s.toLowerCase()) ? s : `"${s.slice(0, 200).replaceAll('"', '""')}"`);

class Unreadable extends Error {}

/**
 * A value as SQL: Prisma's tagged values (`{$type: "BigInt", value}`, `DateTime`, `Decimal`) as
 * their text, and a field reference (`{$type: "FieldRef", value: {_ref: "id"}}`, which compares a
 * column with a column: `{id: {equals: <ref id>}}` is every row) as the column.
 */
function literal(v: unknown): string {
  if (v === null) return 'NULL';
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (typeof v === 'string') return `'${v.slice(0, 10_000).replaceAll("'", "''")}'`;
  if (isObject(v) && typeof v.$type === 'string') {
    if (v.$type === 'FieldRef' && isObject(v.value) && typeof v.value._ref === 'string') return ident(v.value._ref);
    if (typeof v.value === 'string' || typeof v.value === 'number') return literal(String(v.value));
  }
  throw new Unreadable();
}

const comparisons: Readonly<Record<string, string>> = lookupTable({ equals: '=', lt: '<', lte: '<=', gt: '>', gte: '>=' });

/**
 * Prisma's `where` as an SQL condition (nineteenth pass: only an absent or empty `where` was read,
 * so `{id: {not: -1}}`, `{OR: [{}, {id: 1}]}`, `{email: {contains: ""}}` or `{id: {equals: <field
 * ref id>}}`, which every row meets, were narrow writes, and a grant for one `where` covered any
 * other). Relation filters read as `EXISTS` over the related model; an unknown operator is unread.
 */
function condition(where: unknown, depth: number, budget: { n: number }): string {
  if (depth > MAX_DEPTH || --budget.n < 0) throw new Unreadable();
  if (where === undefined || where === null) return 'TRUE';
  if (!isObject(where)) throw new Unreadable();
  const parts: string[] = [];
  for (const [key, cond] of Object.entries(where)) {
    if (key === 'AND' || key === 'OR' || key === 'NOT') {
      const list = Array.isArray(cond) ? cond : [cond];
      const inner = list.map((c) => condition(c, depth + 1, budget));
      if (key === 'OR') parts.push(inner.length ? `(${inner.join(' OR ')})` : 'FALSE');
      else if (key === 'AND') parts.push(inner.length ? `(${inner.join(' AND ')})` : 'TRUE');
      else parts.push(inner.length ? `NOT (${inner.join(' OR ')})` : 'TRUE');
      continue;
    }
    parts.push(fieldCondition(key, cond, depth + 1, budget));
  }
  return parts.length ? parts.join(' AND ') : 'TRUE';
}

function fieldCondition(field: string, cond: unknown, depth: number, budget: { n: number }): string {
  const col = ident(field);
  if (!isObject(cond) || (typeof cond.$type === 'string')) return cond === null ? `${col} IS NULL` : `${col} = ${literal(cond)}`;
  const parts: string[] = [];
  const insensitive = cond.mode === 'insensitive';
  for (const [op, v] of Object.entries(cond)) {
    if (--budget.n < 0) throw new Unreadable();
    if (op === 'mode') continue;
    if (op in comparisons) parts.push(v === null && op === 'equals' ? `${col} IS NULL` : `${col} ${comparisons[op]} ${literal(v)}`);
    else if (op === 'not') parts.push(v === null ? `${col} IS NOT NULL` : isObject(v) && typeof v.$type !== 'string' ? `NOT (${fieldCondition(field, v, depth + 1, budget)})` : `${col} <> ${literal(v)}`);
    else if (op === 'in' || op === 'notIn') {
      if (!Array.isArray(v)) throw new Unreadable();
      const list = v.slice(0, MAX_CONDITIONS).map(literal);
      parts.push(list.length === 0 ? (op === 'in' ? 'FALSE' : 'TRUE') : `${col} ${op === 'in' ? 'IN' : 'NOT IN'} (${list.join(', ')})`);
    } else if (op === 'contains' || op === 'startsWith' || op === 'endsWith') {
      if (typeof v !== 'string') throw new Unreadable();
      const escaped = v.replace(/[\\%_]/g, (c) => `\\${c}`);
      const pattern = op === 'contains' ? `%${escaped}%` : op === 'startsWith' ? `${escaped}%` : `%${escaped}`;
      parts.push(`${col} ${insensitive ? 'ILIKE' : 'LIKE'} ${literal(pattern)}`);
    } else if (op === 'some' || op === 'is') parts.push(`EXISTS (SELECT 1 FROM ${col} WHERE ${condition(v, depth + 1, budget)})`);
    else if (op === 'none' || op === 'isNot') parts.push(`NOT EXISTS (SELECT 1 FROM ${col} WHERE ${condition(v, depth + 1, budget)})`);
    else if (op === 'every') parts.push(`NOT EXISTS (SELECT 1 FROM ${col} WHERE NOT (${condition(v, depth + 1, budget)}))`);
    else throw new Unreadable();
  }
  // A relation's filter written without an operator (`{author: {name: "a"}}`): the related row's condition.
  if (parts.length === 0 && Object.keys(cond).length > 0) return `EXISTS (SELECT 1 FROM ${col} WHERE ${condition(cond, depth + 1, budget)})`;
  return parts.length ? parts.join(' AND ') : 'TRUE';
}

/** The statement a many-action runs: every row its `where` meets, of the model. */
function manyStatement(action: string, model: string, where: unknown): string | undefined {
  if (action !== 'deleteMany' && action !== 'updateMany' && action !== 'updateManyAndReturn') return undefined;
  const w = condition(where, 0, { n: MAX_CONDITIONS });
  const filter = w === 'TRUE' ? '' : ` WHERE ${w}`;
  return action === 'deleteMany' ? `DELETE FROM ${ident(model)}${filter}` : `UPDATE ${ident(model)} SET prisma_data = prisma_data${filter}`;
}

/**
 * A raw query's values: Prisma Client sends them as a JSON text of a list (`parameters:
 * "[\"%\"]"`), tagged values as `{prisma__type, prisma__value}` (nineteenth pass: not bound, so
 * `DELETE FROM users WHERE email LIKE $1` with `%` was a narrow delete).
 */
function rawParameters(p: unknown): unknown[] | undefined {
  let list = p;
  if (typeof p === 'string') {
    try {
      list = JSON.parse(p);
    } catch {
      throw new Unreadable();
    }
  }
  if (list === undefined) return undefined;
  if (!Array.isArray(list)) throw new Unreadable();
  return list.slice(0, 10_000).map((v) => (isObject(v) && 'prisma__value' in v ? v.prisma__value : v));
}

/**
 * The statements a write's nested relation operations run (twentieth pass: `updateOne {data:
 * {posts: {deleteMany: {}}}}` deletes every post of the user, and was read as the user's update):
 * `deleteMany` and `updateMany` as the DELETE or UPDATE of the related model under their `where`
 * (the parent's scope aside: the worse reading), `set` of a list of records as the UPDATE of every
 * related row but those (`set: []`, which a scalar list takes too, as every row), `delete` and
 * `disconnect` as the narrow statements they are; `update` and `upsert` are read through, to any
 * depth (bounded with the `where`s).
 */
function nestedStatements(data: unknown, depth: number, budget: { n: number }, out: string[]): void {
  if (!isObject(data)) return;
  if (depth > MAX_DEPTH || --budget.n < 0) throw new Unreadable();
  for (const [field, v] of Object.entries(data)) {
    if (!isObject(v) || typeof v.$type === 'string') continue;
    const model = ident(field);
    const each = (x: unknown): unknown[] => (Array.isArray(x) ? x.slice(0, MAX_CONDITIONS) : [x]);
    const filtered = (w: unknown): string => {
      const c = condition(w, depth + 1, budget);
      return c === 'TRUE' ? '' : ` WHERE ${c}`;
    };
    for (const [op, arg] of Object.entries(v)) {
      if (--budget.n < 0) throw new Unreadable();
      if (op === 'deleteMany') for (const w of each(arg)) out.push(`DELETE FROM ${model}${filtered(w)}`);
      else if (op === 'updateMany') for (const u of each(arg)) out.push(`UPDATE ${model} SET prisma_data = prisma_data${filtered(isObject(u) ? u.where : undefined)}`);
      else if (op === 'set' && Array.isArray(arg) && arg.every(isObject)) {
        const kept = arg.slice(0, MAX_CONDITIONS).map((w) => condition(w, depth + 1, budget));
        out.push(`UPDATE ${model} SET prisma_parent = NULL${kept.length ? ` WHERE NOT (${kept.join(' OR ')})` : ''}`);
      } else if (op === 'delete' || op === 'disconnect') {
        for (const w of each(arg)) {
          // `true` (a to-one relation): the one related row.
          const where = w === true ? ' WHERE prisma_parent = 1' : w === false ? undefined : filtered(w);
          if (where === '') throw new Unreadable();
          if (where !== undefined) out.push(op === 'delete' ? `DELETE FROM ${model}${where}` : `UPDATE ${model} SET prisma_parent = NULL${where}`);
        }
      } else if (op === 'update') for (const u of each(arg)) nestedStatements(isObject(u) && 'data' in u ? u.data : u, depth + 1, budget, out);
      else if (op === 'upsert') for (const u of each(arg)) if (isObject(u)) for (const d of [u.update, u.create]) nestedStatements(d, depth + 1, budget, out);
    }
  }
}

/** Actions whose arguments hold data a nested relation operation may sit in. */
const dataActions = new Set(['updateOne', 'upsertOne', 'createOne', 'update', 'upsert', 'create']);

const raw = new Set(['executeRaw', 'queryRaw']);

/** MongoDB commands a `runCommandRaw` may run that only read. */
const mongoReads = new Set(['find', 'count', 'distinct', 'listcollections', 'listindexes', 'dbstats', 'collstats', 'ping', 'buildinfo', 'hello', 'ismaster', 'serverstatus', 'explain', 'getmore', 'killcursors', 'listdatabases', 'connectionstatus']);

/**
 * The twin of a read of the server's credential store (twenty-eighth pass): `usersInfo` with
 * `showCredentials` hands back every user's SCRAM salt, stored and server keys, and a `find`,
 * `aggregate` (its `$lookup`/`$unionWith` too), `count` or `distinct` of `admin.system.users` the
 * same documents (`system.keys`: the keys that sign cluster time); each was a read that went on.
 * Read as SQL's twin, PostgreSQL's own store read (the SQL analysis holds it as reading secrets).
 */
export const MONGO_SECRET_READ = 'SELECT rolpassword FROM pg_authid';
const secretCollections = new Set(['system.users', 'system.keys', 'system.external_validation_keys']);

/** The collections that are MongoDB's accounts and roles (in `admin`). */
const accountCollections = new Set(['system.users', 'system.roles']);
const secretName = (v: unknown): boolean => typeof v === 'string' && secretCollections.has(v);

/** Whether a pipeline's stages read a credential collection (`$lookup`, `$graphLookup`, `$unionWith`, nested pipelines too), bounded: past it, taken as reading one. */
function pipelineReadsSecrets(p: unknown, budget: { n: number }, depth: number): boolean {
  if (!Array.isArray(p)) return false;
  if (depth > 16) return true;
  return p.some((st) => {
    if (--budget.n < 0) return true;
    if (!isObject(st)) return false;
    return Object.entries(st).some(([op, arg]) => {
      if (op === '$unionWith' && secretName(arg)) return true;
      if (!isObject(arg)) return false;
      if ((op === '$lookup' || op === '$graphLookup' || op === '$unionWith') && (secretName(arg.from) || secretName(arg.coll))) return true;
      return pipelineReadsSecrets(arg.pipeline, budget, depth + 1) || (op === '$facet' && Object.values(arg).some((x) => pipelineReadsSecrets(x, budget, depth + 1)));
    });
  });
}

/** Whether a command reads the credential store (MONGO_SECRET_READ): `showCredentials` as MongoDB's safeBool reads it (any value but false, 0 and null). */
function readsMongoSecrets(name: string, cmd: Record<string, unknown>, depth = 0): boolean {
  if (name === 'usersinfo' && cmd.showCredentials !== undefined && cmd.showCredentials !== false && cmd.showCredentials !== 0 && cmd.showCredentials !== null) return true;
  const first = Object.keys(cmd)[0] ?? '';
  if (name === 'explain' && isObject(cmd.explain) && depth < 4) return readsMongoSecrets((Object.keys(cmd.explain)[0] ?? '').toLowerCase(), cmd.explain, depth + 1);
  if (secretName(cmd[first])) return true;
  return pipelineReadsSecrets(cmd.pipeline, { n: 10_000 }, 0);
}

/** Whether an aggregation pipeline writes (`$out`, `$merge`), bounded. */
const pipelineWrites = (p: unknown): boolean => Array.isArray(p) && p.slice(0, 1000).some((st) => isObject(st) && ('$out' in st || '$merge' in st));

/**
 * Prisma's raw MongoDB actions (nineteenth pass: plain POSTs whatever they ran): `runCommandRaw
 * {command: {dropDatabase: 1}}` runs any command of the database, `aggregateRaw` with a `$out` or
 * `$merge` stage replaces or rewrites a collection. The first is unread unless its command only
 * reads; the second is the emptying of the collection it writes. Undefined for other actions.
 */
function mongoRaw(action: string, model: string | undefined, args: Record<string, unknown>): string | { error: string } | undefined {
  if (action === 'runCommandRaw') {
    const command = isObject(args.command) ? args.command : undefined;
    const name = command ? Object.keys(command)[0]?.toLowerCase() : undefined;
    if (name !== undefined && readsMongoSecrets(name, command!)) return MONGO_SECRET_READ;
    if (name === 'aggregate' && !pipelineWrites(command!.pipeline)) return undefined;
    if (name !== undefined && mongoReads.has(name)) return undefined;
    return { error: `a raw MongoDB command (${String(name ?? '?').slice(0, 40)}) Airlock does not read` };
  }
  if (action === 'aggregateRaw' && pipelineWrites(args.pipeline)) {
    const stages = (args.pipeline as unknown[]).filter((st): st is Record<string, unknown> => isObject(st) && ('$out' in st || '$merge' in st));
    const target = (st: Record<string, unknown>): string => {
      const v = st.$out ?? st.$merge;
      const into = isObject(v) ? (v.into ?? v.coll) : v;
      return typeof into === 'string' ? into : isObject(into) && typeof into.coll === 'string' ? into.coll : model ?? '?';
    };
    return stages.map((st) => `DELETE FROM ${ident(target(st))}`).join('; ');
  }
  return undefined;
}

/** More commands a MongoDB client sends that only read, or only open, end or steer its session. */
const mongoSessionReads = new Set([
  'aggregate', 'countdocuments', 'saslstart', 'saslcontinue', 'authenticate', 'getnonce', 'logout', 'endsessions', 'startsession', 'refreshsessions',
  'committransaction', 'aborttransaction', 'getlasterror', 'getparameter', 'hostinfo', 'whatsmyuri', 'listcommands', 'getcmdlineopts', 'getlog',
  'usersinfo', 'rolesinfo', 'replsetgetstatus', 'dbhash', 'datasize', 'currentop', 'top', 'lockinfo', 'getdefaultrwconcern', 'listsearchindexes',
  'geonear', 'validate', 'getmore', 'killcursors', 'features', 'isdbgrid', 'ismaster', 'hello', 'atlasversion', 'connpoolstats', 'shardingstate',
]);
/** Commands that drop what they name (`drop` its collection, `dropDatabase` all of them). */
const mongoDrops = new Set(['drop', 'dropdatabase', 'dropindexes', 'deleteindexes', 'dropsearchindex', 'dropconnections']);
/** Commands that change a collection's shape or place (DDL): `renameCollection` (with `dropTarget`), `collMod`, `convertToCapped`. */
const mongoSchema = new Set(['create', 'createindexes', 'createsearchindexes', 'updatesearchindex', 'collmod', 'converttocapped', 'clonecollectionascapped', 'renamecollection', 'compact', 'cleanuporphaned', 'reindex']);

/** Whether any member of a value names server-side code (`$where`, `$function`, `$accumulator`), bounded. */
function runsCode(v: unknown, budget = { n: 10_000 }, depth = 0): boolean {
  if (--budget.n < 0 || depth > 100) return true;
  if (Array.isArray(v)) return v.some((x) => runsCode(x, budget, depth + 1));
  if (!isObject(v)) return false;
  return Object.entries(v).some(([k, x]) => k === '$where' || k === '$function' || k === '$accumulator' || k === '$code' || runsCode(x, budget, depth + 1));
}

/**
 * A MongoDB command (as a driver sends it over the wire: `{delete: "users", deletes: [{q: {}, limit: 0}], $db}`)
 * as the SQL statements that do the same to a table named for its collection, or undefined when it
 * only reads (twenty-first pass: MongoDB's wire protocol through a bridge went on undecided).
 * A delete or multi-update of every document the filter matches is the DELETE/UPDATE under the
 * filter as the Data API's is read (a filter with operators: every document, the worse reading);
 * one document's write is narrow; a drop is a DROP; a writing pipeline the emptying of what it
 * writes; server code and commands that change the server a program run on it. A command Airlock
 * does not know is taken for one that changes the server.
 */
export function mongoCommandSql(cmd: Record<string, unknown>): string | undefined {
  const first = Object.keys(cmd)[0] ?? '';
  const name = first.toLowerCase();
  const coll = typeof cmd[first] === 'string' ? (cmd[first] as string) : String(cmd.$db ?? 'mongo');
  const server = `COPY mongo FROM PROGRAM ${literal(`mongodb ${first.slice(0, 64)}`)}`;
  if (runsCode(cmd) || name === 'eval' || name === '$eval' || name === 'mapreduce') return server;
  if (name === 'aggregate' || name === 'explain') {
    const written = mongoRaw('aggregateRaw', coll, { pipeline: isObject(cmd.explain) ? cmd.explain.pipeline : cmd.pipeline });
    if (typeof written === 'string') return written;
    if (name === 'aggregate') return readsMongoSecrets(name, cmd) ? MONGO_SECRET_READ : undefined;
  }
  if (mongoReads.has(name) || mongoSessionReads.has(name)) return readsMongoSecrets(name, cmd) ? MONGO_SECRET_READ : undefined;
  // A write into the accounts or roles themselves (`insert` of a user with chosen credentials and
  // roles, an `update` adding `root`): who may do what, as createUser/grantRolesToUser are
  // (twenty-eighth pass: a narrow INSERT or UPDATE before).
  if (/^(insert|update|delete|findandmodify)$/.test(name) && typeof cmd[first] === 'string' && accountCollections.has(cmd[first] as string)) return 'GRANT ALL ON SCHEMA mongo TO mongo_user';
  if (mongoDrops.has(name)) return name === 'dropdatabase' ? 'DROP SCHEMA mongo CASCADE' : name === 'drop' ? `DROP TABLE ${ident(coll)}` : `DROP INDEX ${ident(`${coll}_index`)}`;
  const where = (filter: unknown): string => {
    try {
      const w = mongoCondition(filter, { n: MAX_CONDITIONS });
      return w === 'TRUE' ? '' : ` WHERE ${w}`;
    } catch (e) {
      if (e instanceof Unreadable) return '';
      throw e;
    }
  };
  const list = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v : [v]).slice(0, MAX_CONDITIONS).filter(isObject);
  if (name === 'delete') {
    const out = list(cmd.deletes).map((d) => (d.limit === 1 ? `DELETE FROM ${ident(coll)} WHERE mongo_one = 1` : `DELETE FROM ${ident(coll)}${where(d.q)}`));
    return out.length ? out.join('; ') : undefined;
  }
  if (name === 'update') {
    const out = list(cmd.updates).map((u) => (u.multi === true ? `UPDATE ${ident(coll)} SET mongo_data = mongo_data${where(u.q)}` : `UPDATE ${ident(coll)} SET mongo_data = mongo_data WHERE mongo_one = 1`));
    return out.length ? out.join('; ') : undefined;
  }
  if (name === 'insert') return `INSERT INTO ${ident(coll)} (mongo_data) VALUES (1)`;
  if (name === 'findandmodify') return cmd.remove === true ? `DELETE FROM ${ident(coll)} WHERE mongo_one = 1` : `UPDATE ${ident(coll)} SET mongo_data = mongo_data WHERE mongo_one = 1`;
  if (name === 'renamecollection' && cmd.dropTarget === true) return `DROP TABLE ${ident(String(cmd.to ?? coll))}`;
  if (mongoSchema.has(name)) return `ALTER TABLE ${ident(coll)} ADD COLUMN mongo_${name} int`;
  return server;
}

/** An Extended JSON value (`{$oid: "…"}`, `{$date: …}`, `{$numberLong: "7"}`) as its text; undefined for another object. */
function extendedJson(v: Record<string, unknown>): string | undefined {
  const keys = Object.keys(v);
  if (keys.length !== 1 || !/^\$(oid|date|numberLong|numberInt|numberDouble|numberDecimal|uuid)$/.test(keys[0]!)) return undefined;
  const x = v[keys[0]!];
  return typeof x === 'string' || typeof x === 'number' ? String(x) : undefined;
}

/**
 * A document field (a dotted path too: `profile.age`) as a bare column of the twin: a quoted name
 * is a string to SQLite's double-quoted-string reading, so `"profile.age" > 65` would read as every
 * document. Other characters become `_`; a reserved word or a leading digit gets a prefix.
 */
function mongoColumn(field: string): string {
  const word = field.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 60);
  return /^[A-Za-z_]/.test(word) && !pgReserved.has(word.toLowerCase()) ? word : `f_${word}`;
}

/** A MongoDB value as SQL: an Extended JSON value as its text (a number's as the number), any other object unread. */
function mongoLiteral(v: unknown): string {
  if (isObject(v) && extendedJson(v) !== undefined) {
    const text = extendedJson(v)!;
    return /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text) ? text : literal(text);
  }
  if (isObject(v) || Array.isArray(v)) throw new Unreadable();
  return literal(v);
}

const mongoComparisons: Readonly<Record<string, string>> = lookupTable({ $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' });



/**
 * One field's operators as SQL (twenty-second pass, left open by the twenty-first: any operator was
 * unread, so `deleteMany({age: {$gt: 65}})` was held as every document). Each is the condition
 * MongoDB runs, a missing field taken as NULL: `$ne` and `$nin` also match documents without the
 * field, `$exists` is IS [NOT] NULL, `$regex` PostgreSQL's `~` (`~*` under the `i` option), `$not`
 * the negation. Operators on arrays, types, text, geometry or code stay unread (fail closed).
 */
function mongoField(col: string, ops: Record<string, unknown>, budget: { n: number }, depth: number): string {
  if (depth > MAX_DEPTH) throw new Unreadable();
  const parts: string[] = [];
  for (const [op, v] of Object.entries(ops)) {
    if (--budget.n < 0) throw new Unreadable();
    if (op === '$eq') parts.push(v === null ? `${col} IS NULL` : `${col} = ${mongoLiteral(v)}`);
    else if (op === '$ne') parts.push(v === null ? `${col} IS NOT NULL` : `(${col} <> ${mongoLiteral(v)} OR ${col} IS NULL)`);
    else if (op in mongoComparisons) parts.push(`${col} ${mongoComparisons[op]} ${mongoLiteral(v)}`);
    else if (op === '$in' || op === '$nin') {
      if (!Array.isArray(v)) throw new Unreadable();
      const nulls = v.includes(null);
      const list = v.slice(0, MAX_CONDITIONS).filter((x) => x !== null).map(mongoLiteral);
      const inList = [list.length ? `${col} IN (${list.join(', ')})` : '', nulls ? `${col} IS NULL` : ''].filter(Boolean).join(' OR ') || 'FALSE';
      parts.push(op === '$in' ? `(${inList})` : `NOT (${inList})`);
    } else if (op === '$exists') parts.push(v === false || v === 0 ? `${col} IS NULL` : `${col} IS NOT NULL`);
    else if (op === '$regex') {
      const flags = typeof ops.$options === 'string' ? ops.$options : '';
      if (typeof v !== 'string' || /[^imsx]/.test(flags)) throw new Unreadable();
      // PCRE's `x` drops blanks and `#` comments from the pattern (`" .* "` is `.*`): PostgreSQL's `(?x)` does the same.
      parts.push(`${col} ${flags.includes('i') ? '~*' : '~'} ${literal(flags.includes('x') ? `(?x)${v}` : v)}`);
    } else if (op === '$options' && '$regex' in ops) continue;
    else if (op === '$not' && isObject(v)) parts.push(`NOT (${mongoField(col, v, budget, depth + 1)})`);
    else throw new Unreadable();
  }
  return parts.length ? parts.join(' AND ') : 'TRUE';
}

/**
 * A MongoDB filter as an SQL condition: `{}` every document, fields equal to plain values,
 * operators as mongoField reads them, `$and`/`$or`/`$nor` of filters; what runs code or is not
 * read (`$where`, `$expr`, `$text`, an embedded document's equality) is unread, which fails closed.
 */
export function mongoCondition(filter: unknown, budget: { n: number }, depth = 0): string {
  if (filter === undefined || filter === null) return 'TRUE';
  if (!isObject(filter) || depth > MAX_DEPTH) throw new Unreadable();
  const parts: string[] = [];
  for (const [field, v] of Object.entries(filter)) {
    if (--budget.n < 0) throw new Unreadable();
    if (field === '$and' || field === '$or' || field === '$nor') {
      if (!Array.isArray(v) || v.length === 0) throw new Unreadable();
      const inner = v.slice(0, MAX_CONDITIONS).map((f) => `(${mongoCondition(f, budget, depth + 1)})`);
      parts.push(field === '$and' ? `(${inner.join(' AND ')})` : field === '$or' ? `(${inner.join(' OR ')})` : `NOT (${inner.join(' OR ')})`);
      continue;
    }
    if (field.startsWith('$')) throw new Unreadable();
    const col = mongoColumn(field);
    if (v === null) parts.push(`${col} IS NULL`);
    else if (!isObject(v) || extendedJson(v) !== undefined) parts.push(`${col} = ${mongoLiteral(v)}`);
    else if (Object.keys(v).length > 0 && Object.keys(v).every((k) => k.startsWith('$'))) parts.push(mongoField(col, v, budget, depth + 1));
    else throw new Unreadable();
  }
  return parts.length ? parts.join(' AND ') : 'TRUE';
}

/**
 * MongoDB's Data API (`POST …/action/deleteMany {collection, filter}`, as Atlas served it and
 * compatible servers do; twentieth pass: a plain write whatever it deleted): a many-action is the
 * DELETE or UPDATE of the collection under its filter (`{}` every document, destructive); a filter
 * with operators, or a one-document action's filter running code (`$where`, `$function`, `$expr`),
 * is unread; an `aggregate` writing with `$out`/`$merge` the emptying of what it writes.
 * Undefined for other requests.
 */
export function mongoDataApiSql(o: Record<string, unknown>, segments: readonly string[]): SqlSource | undefined {
  const action = segments[segments.length - 1] ?? '';
  if (segments[segments.length - 2]?.toLowerCase() !== 'action' || typeof o.collection !== 'string') return undefined;
  try {
    // The API's own member only (`filter`): a body naming its rows otherwise is left as it was.
    if ((action === 'deleteMany' || action === 'updateMany') && isObject(o.filter)) {
      const w = mongoCondition(o.filter, { n: MAX_CONDITIONS });
      const filter = w === 'TRUE' ? '' : ` WHERE ${w}`;
      return { texts: [action === 'deleteMany' ? `DELETE FROM ${ident(o.collection)}${filter}` : `UPDATE ${ident(o.collection)} SET mongo_data = mongo_data${filter}`], written: true };
    }
    if (/^(find|findOne|aggregate)$/.test(action) && readsMongoSecrets(action.toLowerCase(), { [action]: o.collection, pipeline: o.pipeline })) return { texts: [MONGO_SECRET_READ], written: true };
    if (action === 'aggregate') {
      const written = mongoRaw('aggregateRaw', o.collection, { pipeline: o.pipeline });
      return typeof written === 'string' ? { texts: [written], written: true } : undefined;
    }
    if (/^(deleteOne|updateOne|replaceOne|findOne|find)$/.test(action) && JSON.stringify(o.filter ?? {}).length < 100_000 && /"\$(where|function|accumulator|expr)"/.test(JSON.stringify(o.filter ?? {}))) {
      return { error: 'a MongoDB filter that runs code ($where, $function, $expr): not read' };
    }
  } catch (e) {
    if (e instanceof Unreadable) return { error: 'a MongoDB filter Airlock does not read' };
    throw e;
  }
  return undefined;
}

/**
 * Prisma's operations (eighteenth pass: raw actions' SQL and a many-action without a `where`;
 * nineteenth: any `where`, and raw actions' values). Undefined when the body is no Prisma request
 * that writes or runs SQL.
 */
export function prismaSql(o: Record<string, unknown>): SqlSource | undefined {
  const ops = Array.isArray(o.batch) ? o.batch.slice(0, MAX_OPERATIONS + 1) : [o];
  if (ops.length > MAX_OPERATIONS) return { error: `a Prisma batch of more than ${MAX_OPERATIONS} operations` };
  const texts: string[] = [];
  const params: Array<unknown[] | undefined> = [];
  let rawText = false;
  try {
    for (const op of ops) {
      if (!isObject(op) || typeof op.action !== 'string' || !isObject(op.query)) continue;
      const args = isObject(op.query.arguments) ? op.query.arguments : {};
      if (raw.has(op.action) && typeof args.query === 'string') {
        texts.push(args.query);
        params.push(rawParameters(args.parameters));
        rawText = true;
      }
      const mongo = mongoRaw(op.action, typeof op.modelName === 'string' ? op.modelName : undefined, args);
      if (mongo !== undefined) {
        if (typeof mongo !== 'string') return mongo;
        texts.push(mongo);
        params.push(undefined);
      }
      const many = typeof op.modelName === 'string' ? manyStatement(op.action, op.modelName, args.where) : undefined;
      if (many) {
        texts.push(many);
        params.push(undefined);
      }
      if (dataActions.has(op.action)) {
        const nested: string[] = [];
        const budget = { n: MAX_CONDITIONS };
        for (const d of [args.data, args.update, args.create]) nestedStatements(d, 0, budget, nested);
        for (const n of nested) texts.push(n), params.push(undefined);
      }
    }
  } catch (e) {
    if (e instanceof Unreadable) return { error: 'a Prisma operation whose where or values Airlock does not read' };
    throw e;
  }
  if (!texts.length) return undefined;
  const source: SqlSource = params.some((p) => p !== undefined) ? { texts, params } : { texts };
  // Only raw SQL is the agent's text: the rest Airlock wrote from typed fields (Prisma checks a value's type).
  return rawText ? source : { ...source, written: true };
}
