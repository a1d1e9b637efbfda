// PostgREST's row filters (`?id=gt.5&or=(a.eq.1,b.is.null)`), and pg_graphql's `filter`, written as
// the SQL condition they run, so that a PATCH or DELETE is judged by the SQL reader as its statement would be
// (twenty-second pass: the filters were judged by a list of spellings, so `id=gt.-1000000000000`,
// `created_at=lt.infinity`, `id=not.lt.-1` and `email=match.(?:)`, each true for every row, were
// narrow updates while their SQL twins are destructive). As sql-hasura.ts does for Hasura's `where`.
import { analyzeSqlIn } from './sql-dialects.ts';

const MAX_DEPTH = 8;
const MAX_NODES = 200;

const comparisons: Record<string, string> = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=', like: 'LIKE', ilike: 'ILIKE', match: '~', imatch: '~*', isdistinct: 'IS DISTINCT FROM' };
const isValues: Record<string, string> = { null: 'NULL', not_null: 'NOT NULL', true: 'TRUE', false: 'FALSE', unknown: 'UNKNOWN' };

/** PostgreSQL's special date inputs that mean the clock (`expires_at=lt.now()` is `expires_at < now()`). */
const clockInputs: Record<string, string> = { now: 'now()', 'now()': 'now()', today: 'CURRENT_DATE', yesterday: 'CURRENT_DATE - 1', tomorrow: 'CURRENT_DATE + 1' };

/** A value as PostgREST binds it: numbers as they are, the clock as the clock, anything else as text PostgreSQL casts to the column's type. */
function literal(v: string): string {
  if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(v)) return v;
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

/**
 * Whether a PATCH's or DELETE's root filters, ANDed as PostgREST runs them, hold for every row as
 * the SQL reader judges their condition. Filters on embedded resources (a key with a `.`) narrow
 * no row of the table. A filter not read (a group PostgREST would not parse one way) is no proof.
 */
export function postgrestHoldsForEveryRow(filters: Array<[string, string]>, branches: (v: string) => string[] | undefined): boolean {
  const budget = { n: MAX_NODES };
  const parts: string[] = [];
  for (const [key, value] of filters) {
    const negatedGroup = /^not\.(or|and)$/.exec(key);
    if (key.includes('.') && !negatedGroup) continue;
    if (key === 'or' || key === 'and' || negatedGroup) {
      const inner = groupSql(value, (negatedGroup?.[1] ?? key) === 'or' ? 'OR' : 'AND', branches, budget, 0);
      if (inner === undefined) return false;
      parts.push(negatedGroup ? `NOT (${inner})` : `(${inner})`);
    } else parts.push(fieldSql(key, value, budget));
    if (budget.n < 0) return false;
  }
  if (parts.length === 0) return true;
  return analyzeSqlIn([`DELETE FROM airlock_postgrest WHERE ${parts.join(' AND ')}`], 'postgresql').info.destructive;
}

const graphqlComparisons: Record<string, string> = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=', like: 'LIKE', ilike: 'ILIKE', regex: '~', iregex: '~*' };

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
      for (const [op, v] of Object.entries(cond as Record<string, unknown>)) {
        if (--budget.n < 0) return undefined;
        if (graphqlComparisons[op]) parts.push(v === null ? 'TRUE' : `${k} ${graphqlComparisons[op]} ${graphqlLiteral(v)}`);
        else if (op === 'is') parts.push(v === 'NULL' ? `${k} IS NULL` : v === 'NOT_NULL' ? `${k} IS NOT NULL` : UNREAD);
        else parts.push(UNREAD);
      }
    }
  }
  return parts.length ? parts.join(' AND ') : 'TRUE';
}

/** Whether a pg_graphql `filter` holds for every row, as the SQL reader judges the statement it runs. */
export function pgGraphqlHoldsForEveryRow(filter: unknown): boolean {
  const condition = graphqlFilterSql(filter, { n: MAX_NODES }, 0);
  if (condition === undefined) return false;
  return analyzeSqlIn([`DELETE FROM airlock_postgrest WHERE ${condition}`], 'postgresql').info.destructive;
}
