// Hasura's boolean expressions (`where: {id: {_gt: 5}}`) read as the SQL condition Hasura runs, so
// the SQL reader judges whether a delete or update reaches every row (twenty-first pass: the
// expression was judged by a list of operators, and `_ceq: "id"` (`id = id`), `_regex: "a*"`,
// `_not` of a range below every value, `_similar: "%|x"` were narrow writes).
import { analyzeSqlIn } from './sql-dialects.ts';
import { lookupTable } from '../../lib/records.ts';

/** Nodes of an expression read; past them (or deeper than MAX_DEPTH) it is taken to hold for every row. */
const MAX_NODES = 200;
const MAX_DEPTH = 12;

const comparisons: Readonly<Record<string, string>> = lookupTable({
  _eq: '=', _neq: '<>', _gt: '>', _gte: '>=', _lt: '<', _lte: '<=',
  _like: 'LIKE', _nlike: 'NOT LIKE', _ilike: 'ILIKE', _nilike: 'NOT ILIKE',
  _similar: 'SIMILAR TO', _nsimilar: 'NOT SIMILAR TO',
  _regex: '~', _nregex: '!~', _iregex: '~*', _niregex: '!~*',
});
/** Column comparison operators (`{id: {_ceq: "owner_id"}}`, `["$", "id"]` for the root table's). */
const columnComparisons: Readonly<Record<string, string>> = lookupTable({ _ceq: '=', _cneq: '<>', _cgt: '>', _cgte: '>=', _clt: '<', _clte: '<=' });

class Unread extends Error {}

/**
 * An lquery every path (or every path of a label or more) matches: each item a star (`*`,
 * `*{0,}`, `*{1,}`) or a negated label (`!a`, one label of nearly any name), with room for any
 * length. `*` matches every ltree (checked on a real PostgreSQL 15).
 */
function lqueryMatchesAll(pattern: string): boolean {
  const items = pattern.trim().split('.');
  if (items.length > 64) return false;
  let least = 0;
  let unbounded = false;
  for (const item of items) {
    if (/^![^.]+$/.test(item)) {
      least += 1;
      continue;
    }
    // (The comma and what follows it are one optional group: `(\d*)(,?)(\d*)` splits a run of digits
    // in n ways, quadratic on `*{000…0,`.)
    const star = /^\*(?:\{(\d*)(?:(,)(\d*))?\})?$/.exec(item);
    if (!star) return false;
    const [, lo = '', comma, hi = ''] = star;
    least += lo === '' ? 0 : Number(lo);
    if (star[0] === '*' || (comma === ',' && hi === '')) unbounded = true;
  }
  return least <= 1 && unbounded;
}

/** How far PostGIS reaches on Earth, in metres: a distance past it holds for every geography (and projected geometry). */
const EARTH_REACH_METRES = 4e7;

/**
 * Hasura operators whose SQL is not written here (ltree, PostGIS, full text over ltree) given a
 * value that every row meets: `path: {_matches: "*"}`, `{_descendant: ""}` (every path descends
 * from the empty one), `_matches_fulltext: "!x"` (every path without x), `_st_d_within` farther
 * than the Earth reaches (twenty-second pass, follow-up: each read as a narrow comparison).
 */
function reachesEveryRow(op: string, v: unknown): boolean {
  const list = (x: unknown): unknown[] => (Array.isArray(x) ? x : [x]);
  if (op === '_matches' || op === '_matches_any') return list(v).some((p) => typeof p === 'string' && lqueryMatchesAll(p));
  if (op === '_descendant' || op === '_descendant_any') return list(v).some((p) => typeof p === 'string' && p.trim() === '');
  if (op === '_matches_fulltext') return typeof v === 'string' && /(^|[|(]\s*)!/.test(v.trim());
  if (op === '_st_d_within' || op === '_st_3d_d_within') {
    const distance = Number((v as { distance?: unknown } | null)?.distance);
    return !Number.isFinite(distance) || distance >= EARTH_REACH_METRES;
  }
  return false;
}

/**
 * The SQL condition a Hasura boolean expression runs, over columns renamed `c0`, `c1`, … (one name
 * each, so `_ceq` of a column with itself stays `c0 = c0`). Operators it does not know read as a
 * comparison with a value of their own (narrow, and under `_not` every other row: the worse
 * reading); a null value, as Hasura's `V1_BOOLEAN_NULL_COLLAPSE` reads it, as no condition.
 */
export function hasuraWhereSql(where: unknown): string | undefined {
  const columns = new Map<string, string>();
  let nodes = 0;
  // Each column a name of its own that keeps the last word of Hasura's (`c0_user_id` for `userId`):
  // the SQL reader knows a key by it (twenty-fifth pass: `{id: {_gt: 0}}` and `{_not: {id: {_lt: 1}}}`
  // were narrow, read as `c0 > 0`, while their SQL twins are every row).
  const column = (name: string): string => {
    let c = columns.get(name);
    if (c === undefined) {
      const last = (name.split('.').pop() ?? '').replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(-40);
      columns.set(name, (c = `c${columns.size}_${last}`));
    }
    return c;
  };
  const value = (v: unknown, numeric: boolean): string => {
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
    // Hasura takes bigint and numeric values as strings.
    if (numeric && typeof v === 'string' && /^\s*-?\d+(\.\d+)?(e[+-]?\d+)?\s*$/i.test(v)) return String(Number(v));
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    return `'${text.replaceAll("'", "''")}'`;
  };
  const compare = (lhs: string, op: string, v: unknown, unknownOp: number): string => {
    if (v === null || v === undefined) return 'TRUE';
    if (op === '_is_null') return v === true || v === 'true' ? `${lhs} IS NULL` : `${lhs} IS NOT NULL`;
    if (op === '_in' || op === '_nin') {
      const list = Array.isArray(v) ? v : [v];
      // An empty list: in none (a condition on the column, so its NOT holds for every row), out of every one.
      if (list.length === 0) return op === '_in' ? `${lhs} IN (NULL)` : 'TRUE';
      if (list.length > MAX_NODES) throw new Unread();
      return `${lhs} ${op === '_in' ? 'IN' : 'NOT IN'} (${list.map((x) => value(x, true)).join(', ')})`;
    }
    const sqlOp = comparisons[op];
    if (sqlOp) return `${lhs} ${sqlOp} ${value(v, ['>', '<', '>=', '<=', '=', '<>'].includes(sqlOp))}`;
    const colOp = columnComparisons[op];
    if (colOp) {
      const other = Array.isArray(v) ? v[v.length - 1] : v;
      if (typeof other !== 'string') throw new Unread();
      return `${lhs} ${colOp} ${column(other)}`;
    }
    // `_cast: {String: {_like: "%"}}`: the column cast to the named type, its operators over that
    // (twenty-second pass: an operator of its own, narrow, while `id::text LIKE '%'` is every row).
    if (op === '_cast' && v && typeof v === 'object' && !Array.isArray(v)) {
      const casts = Object.entries(v as Record<string, unknown>);
      if (casts.length === 0) return 'TRUE';
      return casts.map(([type, inner]) => {
        if (!inner || typeof inner !== 'object' || Array.isArray(inner) || !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(type)) throw new Unread();
        return operators(`(${lhs})::${type === 'String' ? 'text' : type.toLowerCase()}`, Object.entries(inner as Record<string, unknown>));
      }).join(' AND ');
    }
    // jsonb: every value contains the empty object and has every key of an empty list.
    if ((op === '_contains' && v && typeof v === 'object' && Object.keys(v).length === 0) || ((op === '_has_keys_all') && Array.isArray(v) && v.length === 0)) return `${lhs} IS NOT NULL`;
    if (reachesEveryRow(op, v)) return `${lhs} IS NOT NULL`;
    return `${lhs} = 'airlock-hasura-${unknownOp}'`;
  };
  const operators = (lhs: string, ops: Array<[string, unknown]>): string => `(${ops.map(([op, v], i) => compare(lhs, op, v, nodes * 16 + i)).join(' AND ')})`;
  const expr = (w: unknown, depth: number, prefix: string): string => {
    if (++nodes > MAX_NODES || depth > MAX_DEPTH) throw new Unread();
    if (w === null || w === undefined) return 'TRUE';
    if (typeof w !== 'object' || Array.isArray(w)) throw new Unread();
    const parts = Object.entries(w as Record<string, unknown>).map(([key, cond]): string => {
      if (key === '_and' || key === '_or') {
        const list = Array.isArray(cond) ? cond : [cond];
        // An empty `_and` or `_or` filters nothing.
        if (list.length === 0) return 'TRUE';
        return `(${list.map((c) => expr(c, depth + 1, prefix)).join(key === '_and' ? ' AND ' : ' OR ')})`;
      }
      if (key === '_not') return `NOT (${expr(cond, depth + 1, prefix)})`;
      // `_exists` over another table: the worse reading takes it to hold when its own condition may.
      if (key === '_exists') return expr((cond as Record<string, unknown> | null)?._where, depth + 1, `${prefix}exists.`);
      if (cond === null || typeof cond !== 'object' || Array.isArray(cond)) throw new Unread();
      const ops = Object.entries(cond as Record<string, unknown>);
      if (ops.length > 0 && ops.every(([op]) => op.startsWith('_'))) return operators(column(`${prefix}${key}`), ops);
      // An aggregate's predicate (`posts_aggregate: {count: {predicate: {_gte: 0}}}`): over a count.
      const count = (cond as Record<string, unknown>).count as Record<string, unknown> | undefined;
      if (key.endsWith('_aggregate') && count && typeof count === 'object' && 'predicate' in count) {
        const predicate = count.predicate;
        if (!predicate || typeof predicate !== 'object' || Array.isArray(predicate)) throw new Unread();
        // A count is never below zero, as no absolute value is.
        return operators(`abs(${column(`${prefix}${key}.count`)})`, Object.entries(predicate as Record<string, unknown>));
      }
      // A relationship (its keys are the related table's columns): the related rows' expression.
      return expr(cond, depth + 1, `${prefix}${key}.`);
    });
    return parts.length === 0 ? 'TRUE' : parts.join(' AND ');
  };
  try {
    return expr(where, 0, '');
  } catch (e) {
    if (e instanceof Unread) return undefined;
    throw e;
  }
}

/**
 * Whether a Hasura boolean expression holds for every row, as the SQL reader judges the DELETE
 * it runs (an expression too large or deep to read is taken to).
 */
export function hasuraHoldsForEveryRow(where: unknown): boolean {
  const condition = hasuraWhereSql(where);
  if (condition === undefined) return true;
  return analyzeSqlIn([`DELETE FROM airlock_hasura WHERE ${condition}`], 'postgresql').info.destructive;
}
