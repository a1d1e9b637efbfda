// PostgREST's row filters (`?id=gt.5&or=(a.eq.1,b.is.null)`), and pg_graphql's `filter`, written as
// the SQL condition they run, so that a PATCH or DELETE is judged by the SQL reader as its statement would be
// (twenty-second pass: the filters were judged by a list of spellings, so `id=gt.-1000000000000`,
// `created_at=lt.infinity`, `id=not.lt.-1` and `email=match.(?:)`, each true for every row, were
// narrow updates while their SQL twins are destructive). As sql-hasura.ts does for Hasura's `where`.
import type { RequestInfo } from '../types.ts';
import type { SqlSource } from './adapter.ts';
import { analyzeSqlIn } from './sql-dialects.ts';
import { lookupTable } from '../../lib/records.ts';

const MAX_DEPTH = 8;
const MAX_NODES = 200;

const comparisons: Readonly<Record<string, string>> = lookupTable({ eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=', like: 'LIKE', ilike: 'ILIKE', match: '~', imatch: '~*', isdistinct: 'IS DISTINCT FROM' });
const isValues: Readonly<Record<string, string>> = lookupTable({ null: 'NULL', not_null: 'NOT NULL', true: 'TRUE', false: 'FALSE', unknown: 'UNKNOWN' });

/** PostgreSQL's special date inputs that mean the clock (`expires_at=lt.now()` is `expires_at < now()`). */
const clockInputs: Readonly<Record<string, string>> = lookupTable({ now: 'now()', 'now()': 'now()', today: 'CURRENT_DATE', yesterday: 'CURRENT_DATE - 1', tomorrow: 'CURRENT_DATE + 1' });

/**
 * A value as PostgREST binds it: numbers as they are, the clock as the clock, `true`/`false` as the
 * truth values PostgreSQL casts them to beside a boolean column (twenty-fifth pass: `active=in.(true,
 * false)` and `active=gte.false` were narrow, their SQL twins every row; beside a text column the
 * reading only adds risk), anything else as text PostgreSQL casts to the column's type.
 */
function literal(v: string): string {
  if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(v)) return v;
  if (/^(true|false)$/i.test(v)) return v.toUpperCase();
  return clockInputs[v.trim().toLowerCase()] ?? `'${v.replaceAll("'", "''")}'`;
}

/**
 * The items of a PostgREST list, `(a,"b,c")` for `in` or `{a,"b,c"}` for the `(any)`/`(all)`
 * modifiers, with quotes as PostgREST reads them; undefined when `list` is not one or a quote is
 * left open (PostgREST refuses such a list).
 */
export function postgrestItems(list: string, open: '(' | '{', close: ')' | '}'): string[] | undefined {
  if (!list.startsWith(open) || !list.endsWith(close)) return undefined;
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 1; i < list.length - 1; i++) {
    const c = list[i]!;
    if (quoted && c === '\\') cur += list[++i] ?? '';
    else if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) out.push(cur), (cur = '');
    else cur += c;
  }
  out.push(cur);
  return quoted ? undefined : out;
}

/**
 * What a filter not written here stands for (an operator on arrays, ranges, full text, a JSON path,
 * a modifier): a condition that may name rows, as the list's reading takes it (an OR with a wide
 * branch, or its negation, still holds for every row).
 */
const UNREAD = 'airlock_unread = 1';

/** One `column=[not.]op.value` as SQL, UNREAD for what is not written here. */
function fieldSql(column: string, value: string, budget: { n: number }): string {
  if (--budget.n < 0 || !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(column)) return UNREAD;
  const negated = value.startsWith('not.');
  const rest = negated ? value.slice(4) : value;
  const dot = rest.indexOf('.');
  if (dot < 0) return UNREAD;
  const op = rest.slice(0, dot);
  const arg = rest.slice(dot + 1);
  let sql: string | undefined;
  if (op === 'is') sql = isValues[arg.toLowerCase()] === undefined ? undefined : `${column} IS ${isValues[arg.toLowerCase()]}`;
  else if (op === 'in') {
    const items = postgrestItems(arg, '(', ')');
    sql = items === undefined ? undefined : items.length === 0 ? 'FALSE' : `${column} IN (${items.slice(0, 1000).map(literal).join(', ')})`;
  } else if (op === 'like' || op === 'ilike') sql = `${column} ${comparisons[op]} ${literal(arg.replaceAll('*', '%'))}`;
  else if (op === 'match' || op === 'imatch') sql = `${column} ${comparisons[op]} '${arg.replaceAll("'", "''")}'`;
  else if (comparisons[op]) sql = `${column} ${comparisons[op]} ${literal(arg)}`;
  if (sql === undefined) return UNREAD;
  return negated ? `NOT (${sql})` : sql;
}

/** `(a.eq.1,and(b.gt.2,c.is.null))`'s branches as SQL, joined by `joiner`; undefined when not read. */
function groupSql(value: string, joiner: 'AND' | 'OR', branches: (v: string) => string[] | undefined, budget: { n: number }, depth: number): string | undefined {
  if (depth > MAX_DEPTH || --budget.n < 0) return undefined;
  const parts = branches(value);
  if (!parts || parts.length === 0) return undefined;
  const out: string[] = [];
  for (const b of parts) {
    const group = /^(not\.)?(or|and)(\(.*)$/s.exec(b);
    if (group) {
      const inner = groupSql(group[3]!, group[2] === 'or' ? 'OR' : 'AND', branches, budget, depth + 1);
      if (inner === undefined) return undefined;
      out.push(group[1] ? `NOT (${inner})` : `(${inner})`);
      continue;
    }
    const dot = b.indexOf('.');
    if (dot <= 0) return undefined;
    out.push(fieldSql(b.slice(0, dot), b.slice(dot + 1), budget));
  }
  return out.join(` ${joiner} `);
}

/** The branches of `(a.eq.1,b.is.null,and(c.gt.1,d.lt.2))`, split at top-level commas (quoted values read as PostgREST's pQuotedValue does); undefined when unbalanced. */
export function logicalBranches(value: string): string[] | undefined {
  if (!value.startsWith('(') || !value.endsWith(')')) return undefined;
  const inner = value.slice(1, -1);
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    // Inside quotes PostgREST reads `\` as escaping the next character (`"a\"b"` is one value).
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    // A PostgreSQL array as a value (`tags.cs.{a,b}`, `name.like(any).{a*,b*}`): PostgREST reads
    // it whole (pPgArray), its commas inside; unclosed, the tree is not read one way.
    else if (!quoted && c === '{' && inner[i - 1] === '.') {
      const end = closingBrace(inner, i);
      if (end < 0) return undefined;
      i = end;
    } else if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')') depth--;
    else if (!quoted && depth === 0 && c === ',') {
      out.push(inner.slice(start, i));
      start = i + 1;
    }
    if (depth < 0) return undefined;
  }
  if (depth !== 0 || quoted) return undefined;
  out.push(inner.slice(start));
  return out;
}

/** The index of the `}` closing the array that opens at `from` (nested arrays and quoted items read), or -1. */
function closingBrace(text: string, from: number): number {
  let depth = 0;
  let quoted = false;
  for (let j = from; j < text.length; j++) {
    const c = text[j];
    if (quoted && c === '\\') j++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && c === '{') depth++;
    else if (!quoted && c === '}' && --depth === 0) return j;
  }
  return -1;
}

/**
 * A PATCH's or DELETE's root filters, ANDed as PostgREST runs them, as one SQL condition ('' for
 * none); undefined when a group is not read (PostgREST would not parse it one way). Filters on
 * embedded resources (a key with a `.`) narrow no row of the table.
 */
function postgrestWhere(filters: Array<[string, string]>): string | undefined {
  const budget = { n: MAX_NODES };
  const parts: string[] = [];
  for (const [key, value] of filters) {
    const negatedGroup = /^not\.(or|and)$/.exec(key);
    if (key.includes('.') && !negatedGroup) continue;
    if (key === 'or' || key === 'and' || negatedGroup) {
      const inner = groupSql(value, (negatedGroup?.[1] ?? key) === 'or' ? 'OR' : 'AND', logicalBranches, budget, 0);
      if (inner === undefined) return undefined;
      parts.push(negatedGroup ? `NOT (${inner})` : `(${inner})`);
    } else parts.push(fieldSql(key, value, budget));
    if (budget.n < 0) return undefined;
  }
  return parts.join(' AND ');
}

/**
 * Whether a PATCH's or DELETE's root filters hold for every row as the SQL reader judges their
 * condition. A filter not read is no proof.
 */
export function postgrestHoldsForEveryRow(filters: Array<[string, string]>): boolean {
  const where = postgrestWhere(filters);
  if (where === undefined) return false;
  if (where === '') return true;
  return analyzeSqlIn([`DELETE FROM airlock_postgrest WHERE ${where}`], 'postgresql').info.destructive;
}

/** Query keys PostgREST reads as no filter. */
const reservedKeys = new Set(['select', 'order', 'limit', 'offset', 'on_conflict', 'columns']);
/** A filter's value in PostgREST's syntax: `[not.]op[(any|all)].value`. */
const filterValue = /^(?:not\.)?(?:eq|neq|gt|gte|lt|lte|like|ilike|match|imatch|in|is|isdistinct|fts|plfts|phfts|wfts|cs|cd|ov|sl|sr|nxr|nxl|adj)(?:\((?:any|all)\))?\./;
/** `Prefer` tokens only PostgREST takes (`return=representation` is OData's and Graph's too). */
const postgrestPrefer = /(?:^|[,;\s])(?:tx\s*=\s*(?:commit|rollback)|max-affected\s*=|missing\s*=\s*default|handling\s*=\s*(?:strict|lenient)|count\s*=\s*(?:exact|planned|estimated))/i;

/**
 * A PATCH or DELETE to a PostgREST no module owns (self-hosted, a platform no module names), as the
 * SQL statement PostgREST runs (twenty-third pass: `DELETE /rest/v1/users` without a filter, which
 * deletes every row, was a plain medium write there, as `DELETE /users?id=eq.5` is). Taken for
 * PostgREST by what only PostgREST says: Supabase's `/rest/v1/<table>` layout, a filter in its
 * syntax (`id=eq.5`, `or=(…)`), its profile headers, its media type, or a `Prefer` token of its own.
 */
export function postgrestSql(request: RequestInfo): SqlSource | undefined {
  if (request.method !== 'PATCH' && request.method !== 'DELETE') return undefined;
  const segs = request.segments;
  const at = segs.findIndex((s, i) => s.toLowerCase() === 'rest' && segs[i + 1]?.toLowerCase() === 'v1');
  const restLayout = at >= 0 && segs.length === at + 3;
  const table = segs[segs.length - 1];
  if (!table || (at >= 0 && !restLayout) || segs[segs.length - 2]?.toLowerCase() === 'rpc') return undefined;
  const filters = Object.entries(request.query).filter(([k]) => !reservedKeys.has(k)).flatMap(([k, vs]) => vs.map((v): [string, string] => [k, v]));
  const h = request.headers;
  const said =
    restLayout ||
    filters.some(([k, v]) => filterValue.test(v) || (/^(?:not\.)?(?:or|and)$/.test(k) && v.startsWith('('))) ||
    h['content-profile'] !== undefined ||
    h['accept-profile'] !== undefined ||
    (h['accept'] ?? []).some((v) => /application\/vnd\.pgrst\./i.test(v)) ||
    (h['prefer'] ?? []).some((v) => postgrestPrefer.test(v));
  if (!said) return undefined;
  const where = postgrestWhere(filters);
  const quote = (id: string): string => `"${id.replaceAll('"', '""')}"`;
  // The schema the write acts in (`Content-Profile: auth`): `auth.users` is not `users`, for a grant too.
  const profiles = [...new Set([...(h['content-profile'] ?? []), ...(h['accept-profile'] ?? [])].map((v) => v.trim()))].sort();
  const name = profiles.length ? `${quote(profiles.join(','))}.${quote(table)}` : quote(table);
  const cond = where === undefined ? ' WHERE airlock_unread = 1' : where === '' ? '' : ` WHERE ${where}`;
  if (request.method === 'DELETE') return { texts: [`DELETE FROM ${name}${cond}`], dialect: 'postgresql' };
  const json = request.body.json;
  const sets = json && typeof json === 'object' && !Array.isArray(json)
    ? Object.entries(json as Record<string, unknown>).slice(0, 64).map(([k, v]) => `"${k.replaceAll('"', '""')}" = '${JSON.stringify(v ?? null).replaceAll("'", "''")}'`)
    : [];
  return { texts: [`UPDATE ${name} SET ${sets.length ? sets.join(', ') : 'airlock_body = 1'}${cond}`], dialect: 'postgresql' };
}

const graphqlComparisons: Readonly<Record<string, string>> = lookupTable({ eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=', like: 'LIKE', ilike: 'ILIKE', regex: '~', iregex: '~*' });

/** A pg_graphql value as SQL: numbers as they are, the rest as text the column's type takes. */
function graphqlLiteral(v: unknown): string {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (typeof v === 'string') return literal(v);
  return UNREAD_VALUE;
}
const UNREAD_VALUE = "'airlock-unread'";

/**
 * pg_graphql's `filter` (`{id: {gt: 5}, or: [...], not: {...}}`, `AND`/`OR`/`NOT` before 1.0) as
 * the SQL condition it runs; an operator not written here (`startsWith`, `contains`, `in` …) is a
 * condition that may name rows. Undefined past the bounds.
 */
function graphqlFilterSql(filter: unknown, budget: { n: number }, depth: number): string | undefined {
  if (depth > MAX_DEPTH || --budget.n < 0) return undefined;
  if (!filter || typeof filter !== 'object' || Array.isArray(filter)) return undefined;
  const parts: string[] = [];
  for (const [key, cond] of Object.entries(filter as Record<string, unknown>)) {
    const k = key === 'AND' || key === 'OR' || key === 'NOT' ? key.toLowerCase() : key;
    if (k === 'and' || k === 'or') {
      if (!Array.isArray(cond)) return undefined;
      if (cond.length === 0) continue;
      const inner = cond.map((c) => graphqlFilterSql(c, budget, depth + 1));
      if (inner.some((x) => x === undefined)) return undefined;
      parts.push(`(${inner.map((x) => `(${x})`).join(k === 'and' ? ' AND ' : ' OR ')})`);
    } else if (k === 'not') {
      const inner = graphqlFilterSql(cond, budget, depth + 1);
      if (inner === undefined) return undefined;
      parts.push(`NOT (${inner})`);
    } else {
      if (!cond || typeof cond !== 'object' || Array.isArray(cond) || !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(k)) return undefined;
      // The column quoted as pg_graphql names it (`userId` stays `userId`, so the SQL reader knows a
      // key by its name: twenty-fifth pass, `{userId: {gte: 1}}` was read as `userid`, no key).
      const col = `"${k}"`;
      for (const [op, v] of Object.entries(cond as Record<string, unknown>)) {
        if (--budget.n < 0) return undefined;
        if (graphqlComparisons[op]) parts.push(v === null ? 'TRUE' : `${col} ${graphqlComparisons[op]} ${graphqlLiteral(v)}`);
        else if (op === 'is') parts.push(v === 'NULL' ? `${col} IS NULL` : v === 'NOT_NULL' ? `${col} IS NOT NULL` : UNREAD);
        // `in: [true, false]` (twenty-fifth pass: an operator not written here, read as naming rows).
        else if (op === 'in' && Array.isArray(v) && v.length <= 1000) parts.push(v.length === 0 ? `${col} IN (NULL)` : `${col} IN (${v.map(graphqlLiteral).join(', ')})`); // none, as a condition on the column
        else parts.push(UNREAD);
      }
    }
  }
  return parts.length ? parts.join(' AND ') : 'TRUE';
}

/** A pg_graphql `filter` as the SQL condition it runs (`TRUE` for none), undefined past the bounds. */
export function pgGraphqlFilterSql(filter: unknown): string | undefined {
  if (filter === undefined || filter === null) return 'TRUE';
  return graphqlFilterSql(filter, { n: MAX_NODES }, 0);
}

/** Whether a pg_graphql `filter` holds for every row, as the SQL reader judges the statement it runs. */
export function pgGraphqlHoldsForEveryRow(filter: unknown): boolean {
  const condition = graphqlFilterSql(filter, { n: MAX_NODES }, 0);
  if (condition === undefined) return false;
  return analyzeSqlIn([`DELETE FROM airlock_postgrest WHERE ${condition}`], 'postgresql').info.destructive;
}
