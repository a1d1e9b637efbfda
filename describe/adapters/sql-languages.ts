// Query languages that are not SQL, read in their own grammar and judged as the SQL statement that
// does the same to a table (their twin), as MongoDB's and Redis's are (sql-prisma.ts, sql-redis.ts).
// Twenty-sixth pass: on a host no module owns, Elasticsearch's and OpenSearch's
// `_delete_by_query {query: {match_all: {}}}`, Neo4j's `MATCH (n) DETACH DELETE n`, SPARQL's
// `DELETE WHERE {?s ?p ?o}` and `DROP ALL`, InfluxQL's `DROP MEASUREMENT`, InfluxDB's
// `/api/v2/delete` without a predicate, Prometheus's `delete_series` of `{__name__=~".+"}`,
// Firestore's `bulkDeleteDocuments` of every collection and Webdis's `GET /FLUSHALL` were plain
// medium writes (the GET an allowed read), a grant for a narrow one covering them. Each language's
// conditions are written as the SQL condition they run, so the SQL reader's rules of which
// conditions every row meets (`IS NOT NULL`, `~ ''`, `>= ''` …) judge them too. Pure and bounded.
import type { RequestInfo } from '../types.ts';
import type { SqlSource } from './adapter.ts';
import { REDIS_SECRET_READ, redisTwin, redisTwinActs } from './sql-redis.ts';
import { mongoCondition } from './sql-prisma.ts';
import { pgGraphqlFilterSql } from './sql-postgrest.ts';
import { emptyMap, lookupTable } from '../../lib/records.ts';
import { formEntries } from '../body.ts';
import { fieldArguments } from '../graphql.ts';
import { Parser } from 'htmlparser2';

class Unreadable extends Error {}

const MAX_CONDITIONS = 2000;
const MAX_DEPTH = 32;
const MAX_TEXT = 256 * 1024;
const MAX_STATEMENTS = 256;

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** PostgreSQL's reserved words: a field spelled as one gets a prefix. */
const reserved = new Set(('all analyse analyze and any array as asc asymmetric authorization binary both case cast check collate collation column ' +
  'concurrently constraint create cross current_catalog current_date current_role current_schema current_time current_timestamp current_user ' +
  'default deferrable desc distinct do else end except false fetch for foreign freeze from full grant group having ilike in initially inner ' +
  'intersect into is isnull join lateral leading left like limit localtime localtimestamp natural not notnull null offset on only or order ' +
  'outer overlaps placing primary references returning right select session_user similar some symmetric system_user table tablesample then ' +
  'to trailing true union unique user using variadic verbose when where window with').split(' '));

/** A field (a dotted path too) as a bare column: a quoted name would be a string to SQLite's reading (sql-prisma.ts mongoColumn). */
export function column(field: string): string {
  const word = field.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 60);
  return /^[A-Za-z_]/.test(word) && !reserved.has(word.toLowerCase()) ? word : `f_${word}`;
}
/** A collection, index, label or graph as a quoted table name. */
const table = (s: string): string => `"${s.slice(0, 200).replaceAll('"', '""')}"`;
/** A value as an SQL literal; objects and lists are unread. */
function literal(v: unknown): string {
  if (v === null) return 'NULL';
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (typeof v === 'string') return `'${v.slice(0, 10_000).replaceAll("'", "''")}'`;
  throw new Unreadable();
}
const where = (cond: string): string => (cond === 'TRUE' ? '' : ` WHERE ${cond}`);
const likeEscape = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

// ---------------------------------------------------------------- Elasticsearch / OpenSearch

/**
 * A field of an Elasticsearch query as the twin's column (twenty-eighth pass): `_index` is the
 * index a document is in, the same for every document of it, so a condition on it chooses whole
 * indices (`{term: {_index: "logs"}}` on `logs/_delete_by_query` is every document, read as a
 * narrow equality before): unread, which fails closed. `_seq_no`, `_primary_term` and `_version`
 * count up from 0 or 1 in every document, as a key does: read as the key `id` (`_seq_no >= 0` is
 * every document, `> 1000` a part). Other fields as themselves.
 */
function esColumn(field: string): string {
  const f = field.replace(/\.keyword$/, '');
  if (f === '_index' || f === '_tier') throw new Unreadable();
  if (f === '_seq_no' || f === '_primary_term' || f === '_version') return 'id';
  return column(field);
}

/** One field's value in ES's two spellings: `{f: v}` and `{f: {value: v}}` (`query` for match). */
function fieldValue(o: unknown, member: string): [string, unknown] {
  if (!isObject(o)) throw new Unreadable();
  const entries = Object.entries(o).filter(([k]) => k !== 'boost' && k !== '_name');
  if (entries.length !== 1) throw new Unreadable();
  const [field, v] = entries[0]!;
  return [field, isObject(v) ? v[member] : v];
}

const esList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/**
 * An Elasticsearch query (the query DSL) as an SQL condition: `match_all` every document, `exists`
 * IS NOT NULL, terms, ranges, prefixes, wildcards and regular expressions as SQL's, `bool` as AND,
 * OR and NOT, a query string's `*` every document. Other queries (scripts, full text a field may
 * only partly match, geometry) are unread: the caller fails closed.
 */
export function esCondition(q: unknown, budget = { n: MAX_CONDITIONS }, depth = 0): string {
  if (!isObject(q) || depth > MAX_DEPTH || --budget.n < 0) throw new Unreadable();
  const kinds = Object.keys(q);
  if (kinds.length !== 1) throw new Unreadable();
  const kind = kinds[0]!;
  const v = q[kind];
  switch (kind) {
    case 'match_all':
      return 'TRUE';
    case 'match_none':
      return 'FALSE';
    case 'term':
    case 'match':
    case 'match_phrase':
    case 'match_bool_prefix': {
      const [f, x] = fieldValue(v, kind === 'term' ? 'value' : 'query');
      // `zero_terms_query: all`: a query the analyzer leaves no term of matches every document.
      const options = isObject(v) ? Object.values(v)[0] : undefined;
      if (isObject(options) && options.zero_terms_query !== undefined && String(options.zero_terms_query).toLowerCase() !== 'none') throw new Unreadable();
      return `${esColumn(f)} = ${literal(x)}`;
    }
    case 'terms': {
      if (!isObject(v)) throw new Unreadable();
      const entries = Object.entries(v).filter(([k]) => k !== 'boost' && k !== '_name');
      if (entries.length !== 1 || !Array.isArray(entries[0]![1])) throw new Unreadable();
      const list = (entries[0]![1] as unknown[]).slice(0, MAX_CONDITIONS).map(literal);
      return list.length ? `${esColumn(entries[0]![0])} IN (${list.join(', ')})` : 'FALSE';
    }
    case 'ids': {
      const values = isObject(v) && Array.isArray(v.values) ? v.values.slice(0, MAX_CONDITIONS).map(literal) : undefined;
      if (!values) throw new Unreadable();
      return values.length ? `es_id IN (${values.join(', ')})` : 'FALSE';
    }
    case 'exists': {
      if (!isObject(v) || typeof v.field !== 'string') throw new Unreadable();
      return `${esColumn(v.field)} IS NOT NULL`;
    }
    case 'range': {
      if (!isObject(v)) throw new Unreadable();
      const entries = Object.entries(v).filter(([k]) => k !== 'boost' && k !== '_name');
      if (entries.length !== 1 || !isObject(entries[0]![1])) throw new Unreadable();
      const col = esColumn(entries[0]![0]);
      const ops: Record<string, string> = { gt: '>', gte: '>=', lt: '<', lte: '<=', from: '>=', to: '<=' };
      const parts: string[] = [];
      for (const [op, x] of Object.entries(entries[0]![1] as Record<string, unknown>)) {
        if (op in ops) {
          if (x !== null) parts.push(`${col} ${ops[op]} ${typeof x === 'string' ? dateMath(x) ?? literal(x) : literal(x)}`);
        } else if (!['format', 'time_zone', 'boost', 'relation', 'include_lower', 'include_upper', '_name'].includes(op)) throw new Unreadable();
      }
      // A range with no bound holds for every document with the field.
      return parts.length ? parts.join(' AND ') : `${col} IS NOT NULL`;
    }
    case 'prefix':
    case 'wildcard':
    case 'regexp': {
      const [f, x] = fieldValue(v, 'value');
      if (typeof x !== 'string') throw new Unreadable();
      if (kind === 'prefix') return `${esColumn(f)} LIKE ${literal(`${likeEscape(x)}%`)}`;
      if (kind === 'wildcard') return `${esColumn(f)} LIKE ${literal(likeEscape(x).replace(/\*/g, '%').replace(/\?/g, '_'))}`;
      return `${esColumn(f)} ~ ${literal(`^(?:${x})$`)}`;
    }
    case 'bool': {
      if (!isObject(v)) throw new Unreadable();
      const all = (k: string): string[] => esList(v[k]).slice(0, MAX_CONDITIONS).map((x) => `(${esCondition(x, budget, depth + 1)})`);
      const known = new Set(['must', 'filter', 'should', 'must_not', 'minimum_should_match', 'boost', '_name', 'adjust_pure_negative']);
      if (Object.keys(v).some((k) => !known.has(k))) throw new Unreadable();
      const must = [...all('must'), ...all('filter')];
      const not = all('must_not').map((c) => `NOT ${c}`);
      const should = all('should');
      const msm = v.minimum_should_match;
      // `should` holds only when nothing else does, or when minimum_should_match asks for one.
      // A minimum of none (`0`, `0%`, a negative share or count) makes every should optional.
      const msmText = String(msm).replace(/\s/g, '');
      const zero = msm !== undefined && (Number(msm) <= 0 || msmText.startsWith('-') || /^0+%?$/.test(msmText));
      const shouldCounts = should.length > 0 && (msm === undefined ? must.length === 0 : !zero);
      const parts = [...must, ...not, ...(shouldCounts ? [`(${should.join(' OR ')})`] : [])];
      return parts.length ? parts.join(' AND ') : 'TRUE';
    }
    case 'constant_score':
      if (!isObject(v)) throw new Unreadable();
      return esCondition(v.filter, budget, depth + 1);
    case 'dis_max': {
      if (!isObject(v) || !Array.isArray(v.queries) || v.queries.length === 0) throw new Unreadable();
      return `(${v.queries.slice(0, MAX_CONDITIONS).map((x) => `(${esCondition(x, budget, depth + 1)})`).join(' OR ')})`;
    }
    case 'boosting':
      if (!isObject(v)) throw new Unreadable();
      return esCondition(v.positive, budget, depth + 1);
    case 'query_string':
    case 'simple_query_string':
      if (!isObject(v) || typeof v.query !== 'string') throw new Unreadable();
      return luceneCondition(v.query);
    default:
      throw new Unreadable();
  }
}

/**
 * A Lucene query string (`?q=`, `query_string`): `*`, `*:*` and blanks every document, `field:*`
 * and `_exists_:field` the documents with the field, one `field:value` term that term. Anything
 * else is unread (fails closed).
 */
export function luceneCondition(s: string): string {
  const q = s.trim();
  if (q === '' || q === '*' || q === '*:*') return 'TRUE';
  const term = /^([A-Za-z0-9_.@-]{1,100}):(\*|[A-Za-z0-9_.@-]{1,200}|"[^"\\]{0,200}")$/.exec(q);
  if (!term) throw new Unreadable();
  const [, f, v] = term;
  if (f === '_exists_') return `${esColumn(v!)} IS NOT NULL`;
  if (v === '*') return `${esColumn(f!)} IS NOT NULL`;
  if (v!.includes('*') || v!.includes('?')) throw new Unreadable();
  return `${esColumn(f!)} = ${literal(v!.startsWith('"') ? v!.slice(1, -1) : v!)}`;
}

const dateUnits: Readonly<Record<string, string>> = lookupTable({ y: 'years', M: 'months', w: 'weeks', d: 'days', h: 'hours', H: 'hours', m: 'minutes', s: 'seconds' });
/** ES date math (`now-30d`, `now-1M/d`, `2024-01-01||+1d`) as SQL's clock arithmetic; undefined for other text. */
function dateMath(v: string): string | undefined {
  const m = /^(now|\d{4}-\d{2}-\d{2}[^|]{0,30}\|\|)((?:[+-]\d{1,9}[yMwdhHms])*)(?:\/[yMwdhHms])?$/.exec(v.trim());
  if (!m) return undefined;
  let out = m[1] === 'now' ? 'now()' : `timestamp ${literal(m[1]!.slice(0, -2))}`;
  for (const [, sign, n, u] of m[2]!.matchAll(/([+-])(\d{1,9})([yMwdhHms])/g)) out += ` ${sign} interval '${n} ${dateUnits[u!]}'`;
  return out;
}

/** Whether an index name reaches many indices: `_all`, `*` patterns, comma lists. */
const manyIndices = (name: string): boolean => name === '_all' || name.includes('*') || name.includes(',');
/** Hosts and ports that say Elasticsearch or OpenSearch. */
function esHost(request: RequestInfo): boolean {
  const h = request.host;
  return request.port === 9200 || request.port === 9243 || /(^|[.-])(es|elastic|elasticsearch|opensearch|search)([.-]|$)/.test(h) || h.endsWith('.es.amazonaws.com') || h.endsWith('.aoss.amazonaws.com') || h.endsWith('.elastic-cloud.com') || h.endsWith('.found.io') || h.endsWith('.bonsai.io');
}

function elasticsearchSql(request: RequestInfo): SqlSource | undefined {
  const segs = request.segments;
  const at = segs.findIndex((s) => /^_(delete|update)_by_query$/i.test(s));
  if (at < 0) {
    // Deleting an index is a DROP: `_all`, a pattern or a list anywhere; one index where the host says Elasticsearch.
    if (request.method === 'DELETE' && segs.length === 1) {
      const name = segs[0]!;
      if (manyIndices(name) || (!name.startsWith('_') && esHost(request))) return { texts: [`DROP TABLE ${table(name)}`], dialect: 'postgresql', written: true };
    }
    return undefined;
  }
  const index = at > 0 ? segs[at - 1]! : '_all';
  const update = /^_update/i.test(segs[at]!);
  const body = request.body;
  let cond: string;
  try {
    if (body.size > 0 && body.json === undefined) return { error: `an Elasticsearch ${segs[at]} whose body is not JSON Airlock reads` };
    const json = body.json;
    const q = request.query.q;
    if (isObject(json) && json.query !== undefined) cond = esCondition(json.query);
    else if (q && q.length === 1) cond = luceneCondition(q[0]!);
    else if (q && q.length > 1) throw new Unreadable();
    // No query: every document (`_update_by_query` documents this; the worse reading for a delete).
    else cond = 'TRUE';
  } catch (e) {
    if (e instanceof Unreadable) return { error: `an Elasticsearch ${segs[at]} whose query Airlock does not read` };
    throw e;
  }
  return { texts: [update ? `UPDATE ${table(index)} SET es_source = es_source${where(cond)}` : `DELETE FROM ${table(index)}${where(cond)}`], dialect: 'postgresql', written: true };
}

// ---------------------------------------------------------------- shared lexing

interface Token {
  kind: 'word' | 'string' | 'iri' | 'var' | 'num' | 'sym' | 'param';
  text: string;
}

// ---------------------------------------------------------------- Cypher (Neo4j)

/** Cypher's tokens: words (backticked names too), strings, numbers, parameters, symbols; comments dropped. Bounded by the text. */
function cypherTokens(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = Math.min(s.length, MAX_TEXT);
  while (i < n) {
    const c = s[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '/' && s[i + 1] === '/') {
      const e = s.indexOf('\n', i);
      i = e < 0 ? n : e + 1;
    } else if (c === '/' && s[i + 1] === '*') {
      const e = s.indexOf('*/', i + 2);
      i = e < 0 ? n : e + 2;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      let text = '';
      while (j < n && s[j] !== c) {
        if (s[j] === '\\' && j + 1 < n) j++;
        text += s[j];
        j++;
      }
      out.push({ kind: 'string', text });
      i = j + 1;
    } else if (c === '`') {
      const e = s.indexOf('`', i + 1);
      out.push({ kind: 'word', text: s.slice(i + 1, e < 0 ? n : e) });
      i = e < 0 ? n : e + 1;
    } else if (c === '$' || (c === '@' && /[A-Za-z_]/.test(s[i + 1] ?? ''))) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_]/.test(s[j]!)) j++;
      out.push({ kind: 'param', text: s.slice(i + 1, j) });
      i = j;
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i;
      while (j < n && /[A-Za-z0-9_]/.test(s[j]!)) j++;
      out.push({ kind: 'word', text: s.slice(i, j) });
      i = j;
    } else if (/[0-9]/.test(c)) {
      let j = i;
      while (j < n && /[0-9.eE]/.test(s[j]!)) j++;
      out.push({ kind: 'num', text: s.slice(i, j) });
      i = j;
    } else {
      const two = s.slice(i, i + 2);
      if (['<>', '<=', '>=', '=~', '+=', '->', '<-', '..', '::', '==', '!=', '&&', '||'].includes(two)) {
        out.push({ kind: 'sym', text: two });
        i += 2;
      } else {
        out.push({ kind: 'sym', text: c });
        i++;
      }
    }
  }
  return out;
}

const cypherClauses = new Set(['MATCH', 'OPTIONAL', 'WHERE', 'WITH', 'RETURN', 'DELETE', 'DETACH', 'SET', 'REMOVE', 'CREATE', 'MERGE', 'UNWIND', 'CALL', 'FOREACH', 'ORDER', 'LIMIT', 'SKIP', 'UNION', 'LOAD', 'USE', 'ON', 'FINISH', 'YIELD']);
/** Procedures that only read (`CALL db.labels()`); any other runs code Airlock does not read. */
const cypherReadProcedures = /^(db\.(labels|relationshiptypes|propertykeys|schema\.[a-z]+|indexes|constraints|info|ping|awaitindex|awaitindexes)|dbms\.(components|info|procedures|functions|listconfig|showcurrentuser|queryjmx|clientconfig)|gds\.[a-z.]*\.(stream|estimate|stats)|apoc\.(meta\.[a-z]+|help|version))$/i;

/** A Cypher WHERE's tokens as an SQL condition (`n.age > 5` → `age > 5`), or undefined when a token has no SQL twin. */
function cypherWhere(tokens: Token[], params: Record<string, unknown>): string | undefined {
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const next = tokens[i + 1];
    const up = t.text.toUpperCase();
    if (t.kind === 'string') out.push(literal(t.text));
    else if (t.kind === 'num') out.push(/^\d+(\.\d+)?([eE][-+]?\d+)?$/.test(t.text) ? t.text : 'NULL');
    else if (t.kind === 'param') {
      const v = params[t.text];
      try {
        out.push(v === undefined ? literal(`airlock_param_${t.text}`) : Array.isArray(v) ? `(${v.slice(0, MAX_CONDITIONS).map(literal).join(', ')})` : literal(v));
      } catch {
        return undefined;
      }
    } else if (t.kind === 'word') {
      if (['AND', 'OR', 'NOT', 'IS', 'NULL', 'TRUE', 'FALSE', 'IN', 'LIKE'].includes(up)) out.push(up);
      else if (up === 'XOR') out.push('<>');
      else if (up === 'STARTS' || up === 'ENDS') {
        if (tokens[i + 1]?.text.toUpperCase() !== 'WITH') return undefined;
        const v = tokens[i + 2];
        if (v?.kind !== 'string') return undefined;
        out.push('LIKE', literal(up === 'STARTS' ? `${likeEscape(v.text)}%` : `%${likeEscape(v.text)}`));
        i += 2;
      } else if (up === 'CONTAINS') {
        const v = tokens[i + 1];
        if (v?.kind !== 'string') return undefined;
        out.push('LIKE', literal(`%${likeEscape(v.text)}%`));
        i += 1;
      } else if (next?.text === '.' && tokens[i + 2]?.kind === 'word') {
        out.push(column(tokens[i + 2]!.text));
        i += 2;
      } else if (next?.text === '(' && tokens[i + 2]?.kind === 'word' && tokens[i + 3]?.text === ')' && /^(id|elementid)$/i.test(t.text)) {
        out.push(t.text.toLowerCase() === 'id' ? 'id' : 'element_id');
        i += 3;
      } else return undefined;
    } else if (['=', '<>', '<', '>', '<=', '>=', '(', ')', ',', '+', '-', '*', '/', '%'].includes(t.text)) out.push(t.text);
    else if (t.text === '==') out.push('=');
    else if (t.text === '!=') out.push('<>');
    else if (t.text === '&&') out.push('AND');
    else if (t.text === '||') out.push('OR');
    else if (t.text === '!') out.push('NOT');
    else if (t.text === '=~') out.push('~');
    else if (t.text === '[') out.push('(');
    else if (t.text === ']') out.push(')');
    else return undefined;
  }
  return out.length ? out.join(' ') : undefined;
}

/**
 * One Cypher statement's twins: a DELETE or SET of the nodes its MATCH reaches (every node when no
 * property map or WHERE narrows it; a WHERE as the SQL condition it is, or every node where it has
 * none), CREATE and MERGE an INSERT, DROP a DROP, users, roles and privileges a GRANT, procedures
 * and LOAD CSV a program run on the server. A read has none.
 */
export function cypherTwins(text: string, params: Record<string, unknown> = emptyMap()): string[] {
  // Past what the tokenizer reads, a clause could hide beyond it: read as what may run anything.
  if (text.length > MAX_TEXT) return [`COPY neo4j FROM PROGRAM 'unread'`];
  const tokens = cypherTokens(text);
  const up = (i: number): string => (tokens[i]?.kind === 'word' ? tokens[i]!.text.toUpperCase() : '');
  const out: string[] = [];
  let label: string | undefined;
  const conds: string[] = [];
  let deletes = false;
  let sets = false;
  let creates = false;
  let clause = '';
  let depth = 0;
  let mapStart = -1;
  let whereStart = -1;
  const closeWhere = (i: number): void => {
    if (whereStart < 0) return;
    const c = cypherWhere(tokens.slice(whereStart, i), params);
    if (c !== undefined) conds.push(`(${c})`);
    whereStart = -1;
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const w = up(i);
    // A clause word at any depth (`CALL { … DETACH DELETE n }`, `FOREACH (x IN l | DELETE x)`), but not a
    // property's or a map key's name (`n.delete`, `{set: 1}`) nor a label or type (`:Delete`).
    if (t.kind === 'word' && cypherClauses.has(w) && tokens[i - 1]?.text !== '.' && tokens[i - 1]?.text !== ':' && tokens[i + 1]?.text !== ':' && mapStart < 0 && !(w === 'WITH' && (up(i - 1) === 'STARTS' || up(i - 1) === 'ENDS'))) {
      closeWhere(i);
      clause = w === 'OPTIONAL' ? 'OPTIONAL' : clause === 'OPTIONAL' && w === 'MATCH' ? 'OPTIONAL' : w;
      if (w === 'WHERE' && clause !== 'OPTIONAL') whereStart = i + 1;
      if (w === 'WHERE') clause = clause === 'OPTIONAL' ? 'OPTIONAL' : 'WHERE';
      if (w === 'DELETE') deletes = true;
      if (w === 'SET' || w === 'REMOVE') {
        // `ON CREATE SET` touches only what the MERGE made.
        if (!(up(i - 1) === 'CREATE' && up(i - 2) === 'ON')) sets = true;
      }
      if (w === 'CREATE' && up(i - 1) !== 'ON') {
        const what = up(i + 1) === 'OR' ? up(i + 3) : up(i + 1);
        if (['USER', 'ROLE', 'DATABASE', 'ALIAS', 'COMPOSITE', 'SERVER'].includes(what)) out.push('GRANT ALL ON SCHEMA neo4j TO neo4j_admin');
        else if (['INDEX', 'CONSTRAINT', 'FULLTEXT', 'TEXT', 'RANGE', 'POINT', 'LOOKUP', 'VECTOR'].includes(what)) out.push('CREATE INDEX neo4j_index ON neo4j (airlock)');
        else creates = true;
      }
      if (w === 'MERGE') creates = true;
      if (w === 'CALL' && tokens[i + 1]?.text !== '{' && tokens[i + 1]?.text !== '(') {
        let name = '';
        for (let j = i + 1; j < tokens.length && (tokens[j]!.kind === 'word' || tokens[j]!.text === '.'); j++) name += tokens[j]!.text;
        if (!cypherReadProcedures.test(name)) out.push(`COPY neo4j FROM PROGRAM ${literal(`call ${name.slice(0, 100)}`)}`);
      }
      if (w === 'LOAD' && up(i + 1) === 'CSV') out.push(`COPY neo4j FROM PROGRAM 'load csv'`);
      continue;
    }
    if (t.kind === 'word' && depth === 0 && i === 0 || (t.kind === 'word' && depth === 0 && (tokens[i - 1]?.text === ';'))) {
      // Administration at the start of a statement.
      if (['DROP'].includes(w)) out.push(up(i + 1) === 'DATABASE' || up(i + 1) === 'COMPOSITE' ? 'DROP SCHEMA neo4j CASCADE' : `DROP TABLE ${table(`neo4j_${up(i + 1).toLowerCase()}`)}`);
      if (['GRANT', 'DENY', 'REVOKE', 'ALTER', 'RENAME'].includes(w)) out.push('GRANT ALL ON SCHEMA neo4j TO neo4j_admin');
      if (['START', 'STOP'].includes(w) && ['DATABASE'].includes(up(i + 1))) out.push('DROP SCHEMA neo4j CASCADE');
      if (w === 'TERMINATE') out.push(`COPY neo4j FROM PROGRAM 'terminate'`);
    }
    if (t.text === '(' || t.text === '[' || t.text === '{') {
      if (t.text === '{' && (clause === 'MATCH' || clause === 'MERGE') && mapStart < 0) mapStart = i + 1;
      depth++;
    } else if (t.text === ')' || t.text === ']' || t.text === '}') {
      depth = Math.max(0, depth - 1);
      if (t.text === '}' && mapStart >= 0) {
        // A property map of the pattern: `{k: v, …}` as `k = v AND …`.
        const map = tokens.slice(mapStart, i);
        for (let j = 0; j + 2 < map.length + 1; j++) {
          if (map[j]?.kind === 'word' && map[j + 1]?.text === ':' && map[j + 2]) {
            const v = map[j + 2]!;
            const value = v.kind === 'string' ? literal(v.text) : v.kind === 'num' ? v.text : v.kind === 'param' ? (params[v.text] !== undefined && !isObject(params[v.text]) && !Array.isArray(params[v.text]) ? literal(params[v.text]) : literal(`airlock_param_${v.text}`)) : v.kind === 'word' && /^(true|false|null)$/i.test(v.text) ? v.text.toUpperCase() : literal('airlock_value');
            conds.push(`${column(map[j]!.text)} = ${value}`);
          }
        }
        mapStart = -1;
      }
    } else if (t.text === ':' && depth > 0 && clause === 'MATCH' && label === undefined && tokens[i + 1]?.kind === 'word') {
      label = tokens[i + 1]!.text;
    }
  }
  closeWhere(tokens.length);
  const name = table(label ?? 'neo4j_nodes');
  const cond = conds.length ? conds.join(' AND ') : 'TRUE';
  if (deletes) out.push(`DELETE FROM ${name}${where(cond)}`);
  if (sets) out.push(`UPDATE ${name} SET neo4j_properties = neo4j_properties${where(cond)}`);
  if (creates && !deletes && !sets) out.push(`INSERT INTO ${name} (neo4j_properties) VALUES (1)`);
  return out;
}

/** Neo4j's HTTP endpoints: `/db/<name>/tx[/commit|/<id>[/commit]]`, `/db/<name>/query/v2`, and 3.x's `/db/data/transaction…`, `/db/data/cypher`. */
function neo4jPath(segs: readonly string[]): boolean {
  const s = segs.map((x) => x.toLowerCase());
  const db = s.indexOf('db');
  if (db < 0) return false;
  const rest = s.slice(db + 2);
  return rest[0] === 'tx' || (rest[0] === 'query' && rest[1] === 'v2') || (s[db + 1] === 'data' && (rest[0] === 'transaction' || rest[0] === 'cypher'));
}

function cypherSql(request: RequestInfo): SqlSource | undefined {
  if (!neo4jPath(request.segments)) return undefined;
  const json = request.body.json;
  if (request.body.size > 0 && json === undefined) return { error: 'a Neo4j request whose body is not JSON Airlock reads' };
  if (!isObject(json)) return undefined;
  const statements: Array<{ text: string; params: Record<string, unknown> }> = [];
  const add = (text: unknown, params: unknown): void => {
    if (typeof text === 'string' && statements.length < MAX_STATEMENTS) statements.push({ text, params: isObject(params) ? params : {} });
  };
  if (Array.isArray(json.statements)) {
    if (json.statements.length > MAX_STATEMENTS) return { error: `more than ${MAX_STATEMENTS} Cypher statements in one request` };
    for (const st of json.statements) if (isObject(st)) add(st.statement, st.parameters ?? st.params);
  }
  add(json.statement, json.parameters);
  add(json.query, json.params);
  const texts = statements.flatMap((st) => cypherTwins(st.text, st.params));
  return texts.length ? { texts, dialect: 'postgresql', written: true } : undefined;
}

// ---------------------------------------------------------------- SPARQL 1.1 Update

/** SPARQL's tokens: IRIs, strings (long ones too), variables, prefixed names and keywords, symbols; comments dropped. */
function sparqlTokens(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = Math.min(s.length, MAX_TEXT);
  while (i < n) {
    const c = s[i]!;
    if (/\s/.test(c)) i++;
    else if (c === '#') {
      const e = s.indexOf('\n', i);
      i = e < 0 ? n : e + 1;
    } else if (c === '<' && /^<[^<>"{}|^`\\\s]*>/.test(s.slice(i, i + 2050))) {
      const e = s.indexOf('>', i);
      out.push({ kind: 'iri', text: s.slice(i + 1, e) });
      i = e + 1;
    } else if (c === "'" || c === '"') {
      const long = s.slice(i, i + 3) === c.repeat(3);
      const end = long ? c.repeat(3) : c;
      let j = i + end.length;
      while (j < n && s.slice(j, j + end.length) !== end) j += s[j] === '\\' ? 2 : 1;
      out.push({ kind: 'string', text: s.slice(i + end.length, j) });
      i = j + end.length;
    } else if (c === '?' || c === '$') {
      let j = i + 1;
      while (j < n && /[\p{L}\p{N}_]/u.test(s[j]!)) j++;
      out.push({ kind: 'var', text: s.slice(i + 1, j) });
      i = j;
    } else if (/[\p{L}\p{N}_:@-]/u.test(c)) {
      let j = i;
      while (j < n && /[\p{L}\p{N}_:.@-]/u.test(s[j]!) && !(s[j] === '.' && !/[\p{L}\p{N}_:-]/u.test(s[j + 1] ?? ''))) j++;
      out.push({ kind: /^[0-9+-]/.test(c) ? 'num' : 'word', text: s.slice(i, j) });
      i = j;
    } else {
      out.push({ kind: 'sym', text: c });
      i++;
    }
  }
  return out;
}

const sparqlOps = new Set(['CLEAR', 'DROP', 'CREATE', 'LOAD', 'ADD', 'MOVE', 'COPY', 'INSERT', 'DELETE', 'WITH']);

/** Whether a text is a SPARQL update: after its PREFIX and BASE declarations, an update operation. */
export function isSparqlUpdate(text: string): boolean {
  const tokens = sparqlTokens(text.slice(0, 4096));
  let i = 0;
  while (i < tokens.length) {
    const w = tokens[i]!.text.toUpperCase();
    if (w === 'PREFIX') i += 3;
    else if (w === 'BASE') i += 2;
    else return tokens[i]!.kind === 'word' && sparqlOps.has(w);
  }
  return false;
}

/**
 * A SPARQL update's twins, operation by operation: CLEAR/DROP of every graph a DROP SCHEMA, of one
 * graph a DROP TABLE, LOAD (the server fetches a URL) a program, COPY/MOVE the emptying of their
 * target, DELETE with a pattern of variables only (`{?s ?p ?o}`) the DELETE of every triple, one
 * naming a term a narrow DELETE, INSERT an INSERT. A pattern whose only narrowing is a FILTER, a
 * federated SERVICE, or text Airlock does not read fails closed.
 */
export function sparqlTwins(text: string): string[] | { error: string } {
  if (text.length > MAX_TEXT) return { error: 'a SPARQL update past the size Airlock reads' };
  const tokens = sparqlTokens(text);
  const out: string[] = [];
  let graph = 'rdf';
  let i = 0;
  const word = (k: number): string => (tokens[k]?.kind === 'word' ? tokens[k]!.text.toUpperCase() : '');
  /** The group starting at `{` of index k: its end, and what narrows it. */
  const group = (k: number): { end: number; constant: boolean; filter: boolean; service: boolean } => {
    let depth = 0;
    let constant = false;
    let filter = false;
    let service = false;
    // The place of the next term in its triple (subject 0, predicate 1, object 2): a constant
    // predicate alone (`?s ex:name ?n`, `?s a ?t`) only asks that the property exist, as IS NOT NULL does.
    let place = 0;
    let graphName = false;
    let values = false;
    const term = (isConstant: boolean): void => {
      if (graphName) {
        graphName = false;
        return;
      }
      if (isConstant && (place !== 1 || values)) constant = true;
      place = Math.min(place + 1, 2);
    };
    let j = k;
    for (; j < tokens.length; j++) {
      const t = tokens[j]!;
      if (t.text === '{') {
        depth++;
        place = 0;
      } else if (t.text === '}') {
        depth--;
        values = false;
        place = 0;
        if (depth === 0) break;
      } else if (t.text === '.') place = 0;
      else if (t.text === ';') place = 1;
      else if (t.text === ',') place = 2;
      else if (t.kind === 'var' || t.text === '[' || t.text === ']' || t.text.startsWith('_:')) {
        if (t.text !== ']') term(false);
      } else if (t.kind === 'iri' || t.kind === 'string' || t.kind === 'num') term(true);
      else if (t.kind === 'word') {
        const w = t.text.toUpperCase();
        if (w === 'FILTER' || w === 'BIND') {
          // Its expression narrows nothing Airlock can weigh: skipped whole (its constants too).
          filter = true;
          if (tokens[j + 1]?.text === '(') {
            let p = 0;
            for (j = j + 1; j < tokens.length; j++) {
              if (tokens[j]!.text === '(') p++;
              else if (tokens[j]!.text === ')' && --p === 0) break;
            }
          }
        } else if (w === 'MINUS' || w === 'OPTIONAL' || w === 'UNION' || w === 'SELECT' || w === 'EXISTS' || w === 'NOT') filter = true;
        else if (w === 'SERVICE') service = true;
        else if (w === 'GRAPH') graphName = true;
        else if (w === 'VALUES') values = true;
        else term(true);
      }
    }
    return { end: j, constant, filter, service };
  };
  const graphName = (k: number): string => (tokens[k]?.kind === 'iri' || tokens[k]?.kind === 'word' ? tokens[k]!.text : 'rdf');
  while (i < tokens.length) {
    const w = word(i);
    if (tokens[i]!.text === ';') {
      i++;
      graph = 'rdf';
      continue;
    }
    if (w === 'PREFIX') {
      i += 3;
      continue;
    }
    if (w === 'BASE') {
      i += 2;
      continue;
    }
    if (w === 'CLEAR' || w === 'DROP') {
      let k = i + 1;
      if (word(k) === 'SILENT') k++;
      const target = word(k);
      if (target === 'GRAPH') out.push(`DROP TABLE ${table(graphName(k + 1))}`), (i = k + 2);
      else if (target === 'ALL' || target === 'NAMED' || target === 'DEFAULT') out.push('DROP SCHEMA rdf CASCADE'), (i = k + 1);
      else return { error: `a SPARQL ${w} Airlock does not read` };
      continue;
    }
    if (w === 'CREATE') {
      out.push(`CREATE TABLE ${table(graphName(i + (word(i + 1) === 'SILENT' ? 3 : 2)))} (s text)`);
      i += word(i + 1) === 'SILENT' ? 4 : 3;
      continue;
    }
    if (w === 'LOAD') {
      let k = i + 1;
      if (word(k) === 'SILENT') k++;
      out.push(`COPY rdf FROM PROGRAM ${literal(`load ${graphName(k).slice(0, 200)}`)}`);
      i = k + 1;
      if (word(i) === 'INTO') i += word(i + 1) === 'GRAPH' ? 3 : 2;
      continue;
    }
    if (w === 'ADD' || w === 'COPY' || w === 'MOVE') {
      // ADD|COPY|MOVE [SILENT] (GRAPH <a> | DEFAULT) TO (GRAPH <b> | DEFAULT)
      let k = i + 1;
      if (word(k) === 'SILENT') k++;
      const from = word(k) === 'GRAPH' ? graphName(++k) : 'rdf';
      k++;
      if (word(k) !== 'TO') return { error: `a SPARQL ${w} Airlock does not read` };
      k++;
      const to = word(k) === 'GRAPH' ? graphName(++k) : 'rdf';
      i = k + 1;
      if (w === 'ADD') out.push(`INSERT INTO ${table(to)} SELECT * FROM ${table(from)}`);
      else out.push(`DELETE FROM ${table(to)}`);
      if (w === 'MOVE') out.push(`DROP TABLE ${table(from)}`);
      continue;
    }
    if (w === 'WITH') {
      graph = graphName(i + 1);
      i += 2;
      continue;
    }
    if (w === 'INSERT' || w === 'DELETE') {
      const data = word(i + 1) === 'DATA';
      const isWhere = w === 'DELETE' && word(i + 1) === 'WHERE';
      let k = i + (data || isWhere ? 2 : 1);
      if (tokens[k]?.text !== '{') return { error: `a SPARQL ${w} Airlock does not read` };
      const first = group(k);
      k = first.end + 1;
      let deletes = w === 'DELETE';
      let pattern = isWhere ? first : undefined;
      if (!data && !isWhere) {
        if (word(k) === 'INSERT' && tokens[k + 1]?.text === '{') k = group(k + 1).end + 1;
        while (word(k) === 'USING') k += word(k + 1) === 'NAMED' ? 3 : 2;
        if (word(k) !== 'WHERE' || tokens[k + 1]?.text !== '{') return { error: `a SPARQL ${w} without the WHERE Airlock reads` };
        pattern = group(k + 1);
        k = pattern.end + 1;
        // A template of the pattern's variables only deletes what the pattern matched.
        deletes ||= false;
      }
      i = k;
      const name = table(graph);
      if (data) {
        out.push(deletes ? `DELETE FROM ${name} WHERE rdf_triple = 1` : `INSERT INTO ${name} (rdf_triple) VALUES (1)`);
        continue;
      }
      if (pattern!.service) out.push(`COPY rdf FROM PROGRAM 'service'`);
      if (!deletes) {
        out.push(`INSERT INTO ${name} (rdf_triple) VALUES (1)`);
        continue;
      }
      if (!pattern!.constant && pattern!.filter) return { error: 'a SPARQL DELETE narrowed only by a FILTER or another form Airlock does not read' };
      out.push(pattern!.constant ? `DELETE FROM ${name} WHERE rdf_pattern = 1` : `DELETE FROM ${name}`);
      continue;
    }
    return { error: `a SPARQL update Airlock does not read (${tokens[i]!.text.slice(0, 20)})` };
  }
  return out;
}

function sparqlSql(request: RequestInfo): SqlSource | undefined {
  const body = request.body;
  const texts: string[] = [];
  if (body.content_type === 'application/sparql-update' && body.size > 0) {
    if (body.text === undefined || body.text_truncated || body.truncated) return { error: 'a SPARQL update not fully visible' };
    texts.push(body.text);
  }
  const form = body.json === undefined ? body.form : undefined;
  for (const v of [...(form?.update ?? []), ...(request.query.update ?? [])]) if (isSparqlUpdate(v)) texts.push(v);
  // Virtuoso runs an update given as `query` on its `/sparql` endpoint, by GET too.
  const last = request.segments[request.segments.length - 1]?.toLowerCase() ?? '';
  if (last.includes('sparql')) for (const v of [...(form?.query ?? []), ...(request.query.query ?? [])]) if (isSparqlUpdate(v)) texts.push(v);
  if (!texts.length) return undefined;
  const twins: string[] = [];
  for (const t of texts.slice(0, MAX_STATEMENTS)) {
    const r = sparqlTwins(t);
    if ('error' in r) return r;
    twins.push(...r);
  }
  return twins.length ? { texts: twins, dialect: 'postgresql', written: true } : undefined;
}

// ---------------------------------------------------------------- InfluxQL, InfluxDB v2, Prometheus

/** An InfluxQL or delete-predicate condition as SQL (`"host" = 'a' AND time < now() - 30d`), or undefined when it holds what has no twin. */
function influxCondition(s: string): string | undefined {
  const out: string[] = [];
  const re = /\s*(?:("(?:[^"\\]|\\.)*")|('(?:[^'\\]|\\.)*')|(\/(?:[^/\\]|\\.)*\/)|(\d+(?:\.\d+)?(?:ns|u|µ|ms|s|m|h|d|w)\b)|(\d+(?:\.\d+)?)|(!=|<>|<=|>=|=~|!~|[=<>()+-])|([A-Za-z_][A-Za-z0-9_.]*)(\(\))?)/y;
  if (s.length > 10_000) return undefined;
  const end = s.trimEnd().length;
  let at = 0;
  while (at < end) {
    re.lastIndex = at;
    const m = re.exec(s);
    if (!m) return undefined;
    at = re.lastIndex;
    const [, dq, sq, regex, duration, num, sym, word, call] = m;
    if (dq !== undefined) out.push(column(dq.slice(1, -1).replace(/\\(.)/g, '$1')));
    else if (sq !== undefined) out.push(literal(sq.slice(1, -1).replace(/\\(.)/g, '$1')));
    else if (regex !== undefined) out.push(literal(`${regex.slice(1, -1)}`));
    else if (duration !== undefined) {
      const unit: Record<string, string> = { ns: 'microseconds', u: 'microseconds', µ: 'microseconds', ms: 'milliseconds', s: 'seconds', m: 'minutes', h: 'hours', d: 'days', w: 'weeks' };
      const [, n, u] = /^([\d.]+)([^\d.]+)$/.exec(duration)!;
      out.push(`interval '${n} ${unit[u!]}'`);
    } else if (num !== undefined) out.push(num);
    else if (sym !== undefined) out.push(sym === '=~' ? '~' : sym === '!~' ? '!~' : sym === '!=' ? '<>' : sym);
    else if (word !== undefined) {
      const up = word.toUpperCase();
      if (call !== undefined) {
        if (up !== 'NOW') return undefined;
        out.push('now()');
      } else if (['AND', 'OR', 'TRUE', 'FALSE'].includes(up)) out.push(up);
      else out.push(column(word));
    }
  }
  return out.length ? influxChoices(out).join(' ') : undefined;
}

/**
 * What an InfluxDB condition's twin must say of its own columns (twenty-ninth pass): `_measurement`
 * names the measurement, the table itself, so a comparison of it chooses whole tables (`_measurement
 * = "cpu"` over all time is every point of `cpu`, read as a narrow equality before): TRUE, the rest
 * of the condition narrowing. `time` is each point's own timestamp, written when it happened, so
 * `time < now()` (`<=`, flipped, moved later by a constant) holds for every point (InfluxQL's `DELETE
 * WHERE time < now()`); a cut-off before now (`now() - 30d`) stays a part.
 */
function influxChoices(out: string[]): string[] {
  const res: string[] = [];
  const ops = new Set(['=', '<>', '~', '!~']);
  for (let i = 0; i < out.length; i++) {
    const [a, op, b] = [out[i], out[i + 1], out[i + 2]];
    if (a === '_measurement' && ops.has(op ?? '') && b !== undefined) {
      res.push('TRUE');
      i += 2;
      continue;
    }
    const later = (k: number): boolean => out[k] !== '-' && (out[k] === undefined || out[k] === '+' || out[k] === ')' || out[k] === 'AND' || out[k] === 'OR');
    if (a === 'time' && (op === '<' || op === '<=') && b === 'now()' && later(i + 3)) {
      res.push('TRUE');
      i += 2;
      if (out[i + 1] === '+' && out[i + 2]?.startsWith('interval')) i += 2;
      continue;
    }
    if (a === 'now()' && (op === '>' || op === '>=') && b === 'time') {
      res.push('TRUE');
      i += 2;
      continue;
    }
    res.push(a!);
  }
  return res;
}

/** InfluxQL statements split on `;` outside quotes. */
function influxStatements(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote = '';
  for (let i = 0; i < s.length && i < MAX_TEXT; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === '\\') cur += c + (s[++i] ?? '');
      else {
        if (c === quote) quote = '';
        cur += c;
      }
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    if (c === ';') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.map((x) => x.trim()).filter(Boolean).slice(0, MAX_STATEMENTS);
}

/** The name after `FROM` (quoted or not), and the text after `WHERE`, of an InfluxQL statement. */
function influxParts(st: string): { from?: string; cond?: string } {
  const from = /\bFROM\s+("(?:[^"\\]|\\.)*"|[A-Za-z0-9_.:-]+|\/(?:[^/\\]|\\.)*\/)/i.exec(st);
  const at = st.search(/\bWHERE\b/i);
  return { from: from ? from[1]!.replace(/^"|"$/g, '') : undefined, cond: at >= 0 ? st.slice(at + 5) : undefined };
}

/**
 * An InfluxQL text's twins (`/query?q=`, InfluxDB 1.x and 3.x's InfluxQL): DROP of a measurement,
 * series, database, retention policy or shard a DROP or DELETE, `DELETE [FROM m] [WHERE …]` the
 * DELETE under its condition, a retention policy altered (older points go) the emptying of the
 * data, users and privileges a GRANT, a subscription (every write sent to its URL) a program, a
 * `SELECT … INTO` an INSERT. Undefined when no statement is InfluxQL's own (SQL's reading stands).
 */
export function influxTwins(text: string): string[] | { error: string } | undefined {
  if (text.length > MAX_TEXT) return { error: 'InfluxQL past the size Airlock reads' };
  const out: string[] = [];
  let own = false;
  let unknown = false;
  for (const st of influxStatements(text)) {
    const words = st.split(/\s+/, 4).map((w) => w.toUpperCase());
    const [a, b] = words;
    const { from, cond } = influxParts(st);
    const measurement = table(from ?? 'influx');
    const c = cond !== undefined ? influxCondition(cond) : 'TRUE';
    if (a === 'DROP' && (b === 'MEASUREMENT')) own = true, out.push(`DROP TABLE ${table(st.split(/\s+/)[2]?.replace(/^"|"$/g, '') ?? 'influx')}`);
    else if (a === 'DROP' && b === 'SERIES') own = true, out.push(`DELETE FROM ${measurement}${c === undefined ? '' : where(c)}`);
    else if (a === 'DROP' && (b === 'DATABASE' || b === 'SHARD' || b === 'RETENTION')) own = true, out.push('DROP SCHEMA influx CASCADE');
    else if (a === 'DROP' && (b === 'CONTINUOUS' || b === 'SUBSCRIPTION' || b === 'USER')) own = true, out.push(`DROP TABLE ${table(`influx_${b.toLowerCase()}`)}`);
    else if (a === 'DELETE' && (b === 'FROM' || b === 'WHERE' || b === undefined)) own = true, out.push(`DELETE FROM ${measurement}${c === undefined ? '' : where(c)}`);
    else if (a === 'ALTER' && b === 'RETENTION') own = true, out.push(`DELETE FROM ${table('influx')}`);
    else if (a === 'GRANT' || a === 'REVOKE' || (a === 'SET' && b === 'PASSWORD') || (a === 'CREATE' && b === 'USER')) own = true, out.push('GRANT ALL ON SCHEMA influx TO influx_user');
    else if (a === 'CREATE' && b === 'SUBSCRIPTION') own = true, out.push(`COPY influx TO PROGRAM 'subscription'`);
    else if (a === 'CREATE' && (b === 'CONTINUOUS' || b === 'RETENTION' || b === 'DATABASE')) own = true, out.push(`INSERT INTO ${table(`influx_${b.toLowerCase()}`)} (x) VALUES (1)`);
    else if (a === 'KILL') own = true, out.push(`COPY influx FROM PROGRAM 'kill'`);
    else if (a === 'SELECT' && /\bINTO\b/i.test(st)) own = true, out.push(`INSERT INTO ${table('influx_into')} (x) VALUES (1)`);
    else if (a === 'SHOW' || a === 'EXPLAIN' || a === 'SELECT') own = true;
    else unknown = true;
  }
  // InfluxQL beside a statement it does not have (`DROP MEASUREMENT m; DROP TABLE users`): read neither way whole.
  if (own && unknown) return { error: 'InfluxQL beside statements it does not have: not read' };
  return own ? out : undefined;
}

function influxSql(request: RequestInfo): SqlSource | undefined {
  const segs = request.segments.map((s) => s.toLowerCase());
  const last = segs[segs.length - 1] ?? '';
  // InfluxDB v2's (and 3.x's v2-compatible) `/api/v2/delete {start, stop, predicate}`.
  if (last === 'delete' && segs[segs.length - 2] === 'v2' && segs[segs.length - 3] === 'api') {
    const o = request.body.json;
    if (!isObject(o)) return request.body.size > 0 ? { error: 'an InfluxDB delete whose body Airlock does not read' } : undefined;
    const bucket = table((request.query.bucket ?? request.query.bucketID ?? ['influx'])[0] ?? 'influx');
    const predicate = typeof o.predicate === 'string' && o.predicate.trim() !== '' ? influxCondition(o.predicate) : 'TRUE';
    if (predicate === undefined) return { error: 'an InfluxDB delete predicate Airlock does not read' };
    const start = Date.parse(String(o.start ?? ''));
    const stop = Date.parse(String(o.stop ?? ''));
    // Points exist from 1677 (int64 nanoseconds) on; a window from before 1970 to after the request holds every point.
    const whole = !(start > Date.parse('1970-01-02T00:00:00Z')) && !(stop < Date.parse(request.time));
    const window = whole ? [] : [`time >= ${literal(String(o.start))}`, `time <= ${literal(String(o.stop))}`];
    const cond = [...window, ...(predicate === 'TRUE' ? [] : [`(${predicate})`])].join(' AND ') || 'TRUE';
    return { texts: [`DELETE FROM ${bucket}${where(cond)}`], dialect: 'postgresql', written: true };
  }
  // A bucket's retention shortened (`PATCH /api/v2/buckets/<id> {retentionRules: [{everySeconds: 1}]}`):
  // every point older goes, as InfluxQL's ALTER RETENTION POLICY (twenty-ninth pass: a medium write).
  const o = request.body.json;
  if (segs[segs.length - 2] === 'buckets' && segs.includes('api') && (request.method === 'PATCH' || request.method === 'PUT') && isObject(o) && Array.isArray(o.retentionRules)) {
    const expires = o.retentionRules.some((r) => isObject(r) && typeof r.everySeconds === 'number' && r.everySeconds > 0);
    return expires ? { texts: [`DELETE FROM ${table(request.segments[segs.length - 1]!)}`], dialect: 'postgresql', written: true } : undefined;
  }
  if (last === 'query' && segs[segs.length - 2] === 'v2' && segs[segs.length - 3] === 'api') {
    const flux = isObject(o) && typeof o.query === 'string' && (o.type === undefined || o.type === 'flux') ? o.query : /vnd\.flux/i.test(request.headers['content-type']?.[0] ?? '') ? request.body.text : undefined;
    if (typeof flux === 'string') return { texts: fluxTwins(flux), dialect: 'postgresql', written: true };
  }
  if (last !== 'query' && last !== 'query_influxql') return undefined;
  const form = request.body.json === undefined ? request.body.form : undefined;
  const qs = [...(request.query.q ?? []), ...(form?.q ?? [])];
  const texts: string[] = [];
  for (const q of qs.slice(0, MAX_STATEMENTS)) {
    const twins = influxTwins(q);
    if (twins && 'error' in twins) return twins;
    texts.push(...(twins ?? []));
  }
  return texts.length ? { texts, dialect: 'postgresql', written: true } : undefined;
}

/** Flux packages that only compute or read this InfluxDB (any other reaches outside it: `http`, `sql`, `csv`, `experimental/mqtt` …). */
const fluxPackages = new Set(['array', 'date', 'dict', 'math', 'regexp', 'strings', 'timezone', 'types', 'json', 'universe', 'contrib/tomhollingworth/events',
  'influxdata/influxdb/schema', 'influxdata/influxdb/v1', 'influxdata/influxdb/monitor', 'experimental/aggregate', 'experimental/table', 'interpolate', 'join']);

/**
 * A Flux script's twins (InfluxDB v2's `/api/v2/query`, JSON `{query}` or an `application/vnd.flux`
 * body; twenty-ninth pass: the text body was a plain medium write, whatever it imported): an import
 * of a package that reaches outside (`http.post`, `sql.to`, `csv.from(url:)`) or a `to()` that names
 * another server's `host` is a program run with the data; `to()` into this server an INSERT; a
 * script without either a read.
 */
function fluxTwins(text: string): string[] {
  if (text.length > MAX_TEXT) return [`COPY influx FROM PROGRAM 'unread'`];
  const tokens = cypherTokens(text);
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === 'word' && t.text === 'import' && tokens[i + 1]?.kind === 'string') {
      if (!fluxPackages.has(tokens[i + 1]!.text)) return [`COPY influx TO PROGRAM ${literal(`flux ${tokens[i + 1]!.text}`)}`];
    } else if (t.kind === 'word' && (t.text === 'to' || t.text === 'wideTo') && tokens[i + 1]?.text === '(' && tokens[i - 1]?.text !== '.') {
      let j = i + 2;
      let depth = 1;
      let host = false;
      for (; j < tokens.length && depth > 0; j++) {
        if (tokens[j]!.text === '(') depth++;
        else if (tokens[j]!.text === ')') depth--;
        else if (depth === 1 && tokens[j]!.kind === 'word' && (tokens[j]!.text === 'host' || tokens[j]!.text === 'url') && tokens[j + 1]?.text === ':') host = true;
      }
      if (host) return [`COPY influx TO PROGRAM 'flux to another host'`];
      out.push(`INSERT INTO ${table('influx_to')} (x) VALUES (1)`);
    }
  }
  return out.length ? out : ['SELECT 1'];
}

/** A Prometheus series selector (`up{job=~".+"}`, `{__name__=~".+"}`) as an SQL condition over the series, or undefined when it does not read. */
export function promSelector(s: string): string | undefined {
  if (s.length > 10_000) return undefined;
  const text = s.trim();
  const name = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(text)?.[0];
  const rest = text.slice(name?.length ?? 0).trimStart();
  if (rest !== '' && !(rest.startsWith('{') && rest.endsWith('}'))) return undefined;
  if (name === undefined && rest === '') return undefined;
  const parts: string[] = [];
  if (name !== undefined) parts.push(`metric_name = ${literal(name)}`);
  const body = rest.slice(1, -1);
  const re = /\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)\s*,?/y;
  let at = 0;
  while (at < body.length && body.slice(at).trim() !== '') {
    re.lastIndex = at;
    const x = re.exec(body);
    if (!x) return undefined;
    at = re.lastIndex;
    const [, label, op, quoted] = x;
    const col = label === '__name__' ? 'metric_name' : column(label!);
    const v = quoted!.slice(1, -1).replace(/\\(.)/g, '$1');
    // A label a series lacks is the empty string to Prometheus.
    const value = `coalesce(${col}, '')`;
    if (op === '=') parts.push(v === '' ? `${col} IS NULL` : `${col} = ${literal(v)}`);
    else if (op === '!=') parts.push(v === '' ? `${col} IS NOT NULL` : `(${col} <> ${literal(v)} OR ${col} IS NULL)`);
    else parts.push(`${op === '!~' ? 'NOT ' : ''}${value} ~ ${literal(`^(?:${v})$`)}`);
  }
  return parts.length ? parts.join(' AND ') : undefined;
}

function prometheusSql(request: RequestInfo): SqlSource | undefined {
  const segs = request.segments.map((s) => s.toLowerCase());
  const n = segs.length;
  if (!(segs[n - 1] === 'delete_series' && segs[n - 2] === 'tsdb' && segs[n - 3] === 'admin')) return undefined;
  const form = request.body.json === undefined ? request.body.form : undefined;
  const matches = [...(request.query['match[]'] ?? []), ...(request.query.match ?? []), ...(form?.['match[]'] ?? []), ...(form?.match ?? [])];
  // No selector: Prometheus refuses; VictoriaMetrics too. Nothing read is the worse reading.
  if (!matches.length) return { texts: ['DELETE FROM prometheus'], dialect: 'postgresql', written: true };
  const texts: string[] = [];
  for (const m of matches.slice(0, MAX_STATEMENTS)) {
    const cond = promSelector(m);
    if (cond === undefined) return { error: 'a Prometheus series selector Airlock does not read' };
    texts.push(`DELETE FROM prometheus WHERE ${cond}`);
  }
  return { texts, dialect: 'postgresql', written: true };
}

// ---------------------------------------------------------------- Firestore, databases by REST, Webdis

function firestoreSql(request: RequestInfo): SqlSource | undefined {
  const segs = request.segments;
  const last = segs[segs.length - 1] ?? '';
  // `POST …/databases/(default):bulkDeleteDocuments {collectionIds: []}`: no ids is every collection.
  if (/:bulkdeletedocuments$/i.test(last) && request.method === 'POST') {
    const o = request.body.json;
    const ids = isObject(o) && Array.isArray(o.collectionIds) ? o.collectionIds.filter((x): x is string => typeof x === 'string') : [];
    return { texts: ids.length ? ids.slice(0, MAX_STATEMENTS).map((c) => `DELETE FROM ${table(c)}`) : ['DROP SCHEMA firestore CASCADE'], dialect: 'postgresql', written: true };
  }
  // Twenty-ninth pass (each a medium write): `:exportDocuments` sends every document to the bucket
  // it names, `:importDocuments` overwrites the documents it brings (an upsert of every one), and a
  // database's delete protection or point-in-time recovery turned off lets a drop through.
  if (/:exportdocuments$/i.test(last) && request.method === 'POST') return { texts: [`COPY firestore TO PROGRAM ${literal(`export ${String(isObject(request.body.json) ? request.body.json.outputUriPrefix ?? '?' : '?').slice(0, 200)}`)}`], dialect: 'postgresql', written: true };
  if (/:importdocuments$/i.test(last) && request.method === 'POST') return { texts: ['INSERT INTO firestore (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET id = excluded.id'], dialect: 'postgresql', written: true };
  const patch = request.body.json;
  if (request.method === 'PATCH' && segs[segs.length - 2]?.toLowerCase() === 'databases' && isObject(patch) && (patch.deleteProtectionState === 'DELETE_PROTECTION_DISABLED' || patch.pointInTimeRecoveryEnablement === 'POINT_IN_TIME_RECOVERY_DISABLED')) {
    return { texts: [`ALTER TABLE ${table(last)} DISABLE TRIGGER ALL`], dialect: 'postgresql', written: true };
  }
  // A DELETE of `…/databases/<name>` (Firestore, Spanner, Cloud SQL's Admin API) drops the database.
  if (request.method === 'DELETE' && segs.length >= 2 && segs[segs.length - 2]!.toLowerCase() === 'databases' && last !== '') {
    return { texts: [`DROP SCHEMA ${column(last)} CASCADE`], dialect: 'postgresql', written: true };
  }
  return undefined;
}

/**
 * Collection names whose last-two-segment DELETE drops a store: BigQuery's datasets and tables,
 * vector and search engines' collections and indexes (Qdrant, Typesense, Chroma, Pinecone,
 * Meilisearch, Algolia), InfluxDB's buckets. Twenty-seventh pass: the database platforms' own
 * (each a medium DELETE): PlanetScale's, Neon's, Supabase's and Xata's `branches` (each a database
 * of its own), MongoDB Atlas', CockroachDB Cloud's and Redis Cloud's `clusters`, Astra's and
 * Cassandra's `keyspaces`, Xata's `dbs`, and the `backups` and `snapshots` a restore would need.
 */
const dropHolders = new Set(['datasets', 'tables', 'collections', 'indexes', 'indices', 'buckets', 'branches', 'clusters', 'keyspaces', 'dbs', 'backups', 'snapshots', 'colls', 'schema']);

/**
 * Stores dropped or emptied by REST (twenty-sixth pass: each a medium DELETE or POST): a DELETE of
 * `…/<holder>/<name>` (dropHolders), InfluxDB 3's `DELETE /api/v3/configure/database|table`,
 * Pinecone's `…/vectors/delete {deleteAll: true}`, Qdrant's `…/points/delete` with a filter of no
 * conditions, Meilisearch's `DELETE …/indexes/<uid>/documents` (every document), Algolia's
 * `POST …/indexes/<name>/clear`.
 */
function restStoreSql(request: RequestInfo): SqlSource | undefined {
  const segs = request.segments;
  const lower = segs.map((x) => x.toLowerCase());
  const n = segs.length;
  const m = request.method;
  const twin = (sql: string): SqlSource => ({ texts: [sql], dialect: 'postgresql', written: true });
  if (m === 'DELETE' && n >= 2 && dropHolders.has(lower[n - 2]!) && segs[n - 1] !== '') return twin(`DROP TABLE ${table(segs[n - 1]!)}`);
  // Astra DB's `POST /v2/databases/<id>/terminate` (twenty-seventh pass): the database deleted.
  if (m === 'POST' && n >= 3 && lower[n - 1] === 'terminate' && lower[n - 3] === 'databases') return twin(`DROP SCHEMA ${table(segs[n - 2]!)} CASCADE`);
  if (m === 'DELETE' && lower[n - 1] === 'documents' && lower[n - 3] === 'indexes') return twin(`DELETE FROM ${table(segs[n - 2]!)}`);
  if (m === 'DELETE' && lower[n - 2] === 'configure' && (lower[n - 1] === 'database' || lower[n - 1] === 'table') && lower[n - 3] === 'v3') return twin(`DROP TABLE ${table((request.query.table ?? request.query.db ?? ['influx'])[0]!)}`);
  const o = request.body.json;
  if (m === 'POST' && lower[n - 1] === 'clear' && lower[n - 3] === 'indexes') return twin(`DELETE FROM ${table(segs[n - 2]!)}`);
  if (m === 'POST' && lower[n - 1] === 'delete' && lower[n - 2] === 'vectors' && isObject(o) && o.deleteAll === true) return twin(`DELETE FROM ${table(String(o.namespace ?? 'pinecone'))}`);
  if (m === 'POST' && lower[n - 1] === 'delete' && lower[n - 2] === 'points' && lower[n - 4] === 'collections' && isObject(o) && isObject(o.filter)) {
    // Twenty-ninth pass: the filter as the SQL condition it is (`must_not: [{has_id: [9]}]` names the one point spared).
    try {
      return twin(`DELETE FROM ${table(segs[n - 3]!)}${where(qdrantFilter(o.filter))}`);
    } catch (e) {
      if (e instanceof Unreadable) return { error: 'a Qdrant filter Airlock does not read' };
      throw e;
    }
  }
  // Twenty-ninth pass: Milvus's REST (`/v2/vectordb/collections/drop`, `databases/drop`, `entities/delete {filter}`).
  if (m === 'POST' && lower[n - 1] === 'drop' && lower.includes('vectordb') && isObject(o)) {
    return lower[n - 2] === 'databases' ? twin(`DROP SCHEMA ${table(String(o.dbName ?? 'milvus'))} CASCADE`) : twin(`DROP ${lower[n - 2] === 'partitions' ? 'TABLE' : lower[n - 2] === 'indexes' ? 'INDEX' : 'TABLE'} ${table(String(o.collectionName ?? o.partitionName ?? o.indexName ?? 'milvus'))}`);
  }
  if (m === 'POST' && lower[n - 1] === 'delete' && lower[n - 2] === 'entities' && lower.includes('vectordb') && isObject(o)) {
    const name = table(String(o.collectionName ?? 'milvus'));
    if (typeof o.filter !== 'string' || o.filter.trim() === '') return Array.isArray(o.ids) || Array.isArray(o.id) ? twin(`DELETE FROM ${name} WHERE id IN (1)`) : twin(`DELETE FROM ${name}`);
    const cond = surrealWhere(cypherTokens(o.filter.slice(0, 10_000)));
    return cond === undefined ? { error: 'a Milvus filter Airlock does not read' } : twin(`DELETE FROM ${name} WHERE ${cond}`);
  }
  // Weaviate's batch delete (`DELETE /v1/batch/objects {match: {class, where}}`): its `where` as SQL's condition.
  if (m === 'DELETE' && lower[n - 1] === 'objects' && lower[n - 2] === 'batch' && isObject(o) && isObject(o.match)) {
    try {
      return twin(`DELETE FROM ${table(String(o.match.class ?? o.match.collection ?? 'weaviate'))}${where(o.match.where === undefined ? 'TRUE' : weaviateWhere(o.match.where))}`);
    } catch (e) {
      if (e instanceof Unreadable) return { error: 'a Weaviate filter Airlock does not read' };
      throw e;
    }
  }
  return undefined;
}

/** Weaviate's `where` filter (`{operator, path, value*}`, `And`/`Or`/`Not` of `operands`) as SQL's condition; unread throws. */
function weaviateWhere(w: unknown, depth = 0): string {
  if (depth > MAX_DEPTH || !isObject(w) || typeof w.operator !== 'string') throw new Unreadable();
  const op = w.operator;
  if (op === 'And' || op === 'Or' || op === 'Not') {
    const inner = (Array.isArray(w.operands) ? w.operands.slice(0, MAX_CONDITIONS) : []).map((x) => `(${weaviateWhere(x, depth + 1)})`);
    if (op === 'Not') return `NOT (${inner.join(' AND ') || 'TRUE'})`;
    return inner.length ? inner.join(op === 'And' ? ' AND ' : ' OR ') : op === 'And' ? 'TRUE' : 'FALSE';
  }
  const path = Array.isArray(w.path) ? w.path.map(String) : typeof w.path === 'string' ? [w.path] : [];
  if (!path.length) throw new Unreadable();
  const col = column(path.join('_'));
  const valueKey = Object.keys(w).find((k) => /^value[A-Z]/.test(k));
  const v = valueKey === undefined ? undefined : w[valueKey];
  const lit = (x: unknown): string => literal(x);
  const comparisons: Readonly<Record<string, string>> = lookupTable({ Equal: '=', NotEqual: '<>', GreaterThan: '>', GreaterThanEqual: '>=', LessThan: '<', LessThanEqual: '<=' });
  if (comparisons[op] && v !== undefined && !Array.isArray(v)) return `${col} ${comparisons[op]} ${lit(v)}`;
  // Like: `*` any run, `?` one character.
  if (op === 'Like' && typeof v === 'string') return `${col} LIKE ${literal(likeEscape(v).replaceAll('*', '%').replaceAll('?', '_'))}`;
  if (op === 'IsNull' && typeof v === 'boolean') return `${col} IS ${v ? '' : 'NOT '}NULL`;
  if ((op === 'ContainsAny' || op === 'ContainsAll') && Array.isArray(v)) return v.length ? `${col} IN (${v.slice(0, MAX_CONDITIONS).map(lit).join(', ')})` : 'FALSE';
  throw new Unreadable();
}

/** A Qdrant filter (`must`, `should`, `must_not`, `min_should`; `match`, `range`, `has_id`, `is_empty`, `is_null`, nested `filter`) as SQL's condition; unread throws. */
function qdrantFilter(f: unknown, depth = 0): string {
  if (depth > MAX_DEPTH || !isObject(f)) throw new Unreadable();
  const parts: string[] = [];
  const list = (v: unknown): unknown[] => (Array.isArray(v) ? v.slice(0, MAX_CONDITIONS) : v === undefined ? [] : [v]);
  const cond = (c: unknown): string => {
    if (!isObject(c)) throw new Unreadable();
    if (c.filter !== undefined || c.must !== undefined || c.should !== undefined || c.must_not !== undefined) return `(${qdrantFilter(isObject(c.filter) ? c.filter : c, depth + 1)})`;
    if (Array.isArray(c.has_id)) return c.has_id.length ? `id IN (${c.has_id.slice(0, MAX_CONDITIONS).map(literal).join(', ')})` : 'FALSE';
    if (isObject(c.is_empty) && typeof c.is_empty.key === 'string') return `${column(c.is_empty.key)} IS NULL`;
    if (isObject(c.is_null) && typeof c.is_null.key === 'string') return `${column(c.is_null.key)} IS NULL`;
    if (typeof c.key !== 'string') throw new Unreadable();
    const col = column(c.key);
    if (isObject(c.match)) {
      if (c.match.value !== undefined) return `${col} = ${literal(c.match.value)}`;
      if (Array.isArray(c.match.any)) return c.match.any.length ? `${col} IN (${c.match.any.slice(0, MAX_CONDITIONS).map(literal).join(', ')})` : 'FALSE';
      if (Array.isArray(c.match.except)) return c.match.except.length ? `${col} NOT IN (${c.match.except.slice(0, MAX_CONDITIONS).map(literal).join(', ')})` : `${col} IS NOT NULL`;
      if (typeof c.match.text === 'string') return `${col} LIKE ${literal(`%${likeEscape(c.match.text)}%`)}`;
      throw new Unreadable();
    }
    if (isObject(c.range)) {
      const ops: Array<[string, string]> = [['gt', '>'], ['gte', '>='], ['lt', '<'], ['lte', '<=']];
      const r = c.range;
      const bounds = ops.filter(([k]) => r[k] !== undefined && r[k] !== null).map(([k, op]) => `${col} ${op} ${literal(r[k])}`);
      return bounds.length ? bounds.join(' AND ') : 'TRUE';
    }
    throw new Unreadable();
  };
  const must = list(f.must).map(cond);
  if (must.length) parts.push(must.join(' AND '));
  const should = list(f.should).map(cond);
  if (should.length) parts.push(`(${should.join(' OR ')})`);
  const not = list(f.must_not).map(cond);
  if (not.length) parts.push(`NOT (${not.join(' OR ')})`);
  if (f.min_should !== undefined) {
    const ms = f.min_should;
    if (!isObject(ms) || !Array.isArray(ms.conditions) || typeof ms.min_count !== 'number') throw new Unreadable();
    // At least `min_count` of them: 0 holds always; otherwise at least one of them.
    if (ms.min_count > 0 && ms.conditions.length) parts.push(`(${ms.conditions.slice(0, MAX_CONDITIONS).map(cond).join(' OR ')})`);
  }
  return parts.length ? parts.join(' AND ') : 'TRUE';
}

/** Holders whose member's `owner` a PATCH or PUT changes (Unity Catalog's securables, Snowflake's REST resources). */
const ownedHolders = new Set(['catalogs', 'schemas', 'tables', 'volumes', 'functions', 'databases', 'views', 'external-locations', 'storage-credentials', 'shares']);
/** Snowflake REST resources whose `…/<name>/grants` POST grants or revokes. */
const granteeHolders = new Set(['roles', 'users', 'database-roles', 'application-roles', 'shares']);

/**
 * The REST APIs the SQL services keep beside their SQL ones, read as the statement each call is
 * (twenty-seventh pass: each was a medium write while its SQL twin was critical):
 * - a DELETE of `…/catalogs/<name>` or `…/schemas/<name>` (Databricks' Unity Catalog, Snowflake's
 *   `/api/v2/databases/<db>/schemas/<s>`): `DROP SCHEMA … CASCADE`;
 * - privileges: Unity Catalog's and Databricks' `PATCH …/permissions/<type>/<name>`, Snowflake's
 *   `POST …/roles|users|database-roles/<name>/grants` (and `grants:revoke`), Google's
 *   `…:setIamPolicy`, a BigQuery dataset's `access` list: `GRANT`; an `owner` changed: `ALTER … OWNER`;
 * - Snowflake's `createMode=orReplace` (CREATE OR REPLACE: the existing object dropped), a table's
 *   `:swap-with` (its rows replaced by another's) and its `PUT` (CREATE OR ALTER TABLE, which drops
 *   the columns the definition leaves out);
 * - a BigQuery table's `expirationTime` (the table deleted at that time) and partition expiry
 *   (`timePartitioning.expirationMs`: every partition older deleted, every one with `"1"`).
 */
function sqlServiceRestSql(request: RequestInfo): SqlSource | undefined {
  const segs = request.segments;
  const lower = segs.map((x) => x.toLowerCase());
  const n = segs.length;
  const m = request.method;
  if (n < 2 || m === 'GET' || m === 'HEAD' || m === 'OPTIONS') return undefined;
  const twin = (sql: string): SqlSource => ({ texts: [sql], dialect: 'postgresql', written: true });
  const last = segs[n - 1]!;
  const o = request.body.json;
  if (m === 'DELETE' && (lower[n - 2] === 'catalogs' || lower[n - 2] === 'schemas') && last !== '') return twin(`DROP SCHEMA ${table(last)} CASCADE`);
  const grant = (name: string): SqlSource => twin(`GRANT ALL ON TABLE ${table(name)} TO PUBLIC`);
  const permissions = lower.lastIndexOf('permissions');
  if (permissions >= 0 && permissions < n - 1 && (m === 'PATCH' || m === 'PUT' || m === 'POST')) return grant(last);
  if (/^grants(:|$)/.test(lower[n - 1]!) && n >= 3 && granteeHolders.has(lower[n - 3]!) && (m === 'POST' || m === 'PUT' || m === 'DELETE')) return grant(segs[n - 2]!);
  if (lower[n - 1]!.endsWith(':setiampolicy') && m === 'POST') return grant(last.slice(0, -':setIamPolicy'.length) || 'resource');
  if (lower[n - 2] === 'datasets' && (m === 'PATCH' || m === 'PUT') && isObject(o) && Array.isArray(o.access)) return grant(last);
  if (ownedHolders.has(lower[n - 2]!) && (m === 'PATCH' || m === 'PUT') && isObject(o) && typeof o.owner === 'string') return twin(`ALTER TABLE ${table(last)} OWNER TO ${column(o.owner)}`);
  const mode = (request.query.createMode ?? request.query.createmode ?? []).map((v) => v.toLowerCase());
  if (m === 'POST' && mode.includes('orreplace')) return twin(`DROP TABLE ${table(isObject(o) && typeof o.name === 'string' ? o.name : last)}`);
  if (m === 'POST' && lower[n - 1]!.endsWith(':swap-with')) return twin(`DROP TABLE ${table(last.slice(0, -':swap-with'.length))}`);
  const apiV2 = lower.indexOf('api') >= 0 && lower[lower.indexOf('api') + 1] === 'v2';
  if (m === 'PUT' && apiV2 && lower[n - 2] === 'tables' && lower[n - 4] === 'schemas' && lower[n - 6] === 'databases') return twin(`ALTER TABLE ${table(last)} DROP COLUMN unnamed`);
  if (lower[n - 2] === 'tables' && lower.includes('datasets') && (m === 'PATCH' || m === 'PUT') && isObject(o)) {
    if (o.expirationTime !== undefined && o.expirationTime !== null) return twin(`DROP TABLE ${table(last)}`);
    const expiry = isObject(o.timePartitioning) ? o.timePartitioning.expirationMs : undefined;
    // Every partition older than the expiry, at once: with `"1"`, every row (a retention the table
    // had kept is no narrower by its length: held as the DELETE of every row it may be).
    if (expiry !== undefined && expiry !== null) return twin(`DELETE FROM ${table(last)}`);
  }
  return undefined;
}

/**
 * CouchDB (its port 5984, 6984 with TLS, or its own `_`-named endpoints), read as the statements
 * its calls are (twenty-seventh pass, left open by the twenty-sixth: each was a medium write): a
 * DELETE of `/<db>` on its port drops the database; `PUT /<db>/_security` replaces who may read and
 * write it (empty lists make it public); `PUT|DELETE /_node/<node>/_config/<section>/<key>` (and
 * 1.x's `/_config/…`) sets server admins, authentication and query servers; a write into `_users`
 * makes or changes an account; `_purge` and `_bulk_docs` with `_deleted` delete the documents they
 * name (narrow, as their SQL twin says: read, so a grant for one delete covers no other).
 */
function couchSql(request: RequestInfo): SqlSource | undefined {
  const segs = request.segments;
  const lower = segs.map((x) => x.toLowerCase());
  const n = segs.length;
  const m = request.method;
  if (n === 0 || m === 'GET' || m === 'HEAD' || m === 'OPTIONS') return undefined;
  const port = request.port === 5984 || request.port === 6984;
  const twin = (...texts: string[]): SqlSource => ({ texts, dialect: 'postgresql', written: true });
  if (port && m === 'DELETE' && n === 1 && !segs[0]!.startsWith('_') && segs[0] !== '') return twin(`DROP TABLE ${table(segs[0]!)}`);
  if (n === 2 && lower[1] === '_security' && (m === 'PUT' || m === 'POST')) return twin(`GRANT ALL ON TABLE ${table(segs[0]!)} TO PUBLIC`);
  const config = lower[0] === '_node' && lower[2] === '_config' ? 3 : lower[0] === '_config' ? 1 : -1;
  if (config > 0 && n > config && (m === 'PUT' || m === 'DELETE' || m === 'POST')) {
    return lower[config] === 'admins' ? twin(`CREATE ROLE ${column(segs[config + 1] ?? 'admin')} SUPERUSER`) : twin(`ALTER SYSTEM SET ${column(`${segs[config]}_${segs[config + 1] ?? ''}`)} = DEFAULT`);
  }
  if (lower[0] === '_users' && n >= 1 && (m === 'PUT' || m === 'POST' || m === 'DELETE')) return twin(`CREATE ROLE ${column(segs[1] ?? 'user')} LOGIN`);
  const o = request.body.json;
  if (m === 'POST' && n === 2 && lower[1] === '_purge' && isObject(o)) {
    const ids = Object.keys(o).slice(0, MAX_STATEMENTS);
    return ids.length ? twin(`DELETE FROM ${table(segs[0]!)} WHERE _id IN (${ids.map(literal).join(', ')})`) : undefined;
  }
  if (m === 'POST' && n === 2 && lower[1] === '_bulk_docs' && isObject(o) && Array.isArray(o.docs)) {
    const deleted = o.docs.slice(0, MAX_STATEMENTS).filter((d) => isObject(d) && d._deleted !== undefined && d._deleted !== false && d._deleted !== null);
    if (deleted.length === 0) return undefined;
    // A deleted document named by no `_id` is refused by CouchDB; one named twice is deleted once.
    const ids = deleted.map((d) => (d as Record<string, unknown>)._id);
    if (!ids.every((id) => typeof id === 'string')) return { error: 'a CouchDB bulk delete of a document it does not name' };
    return twin(`DELETE FROM ${table(segs[0]!)} WHERE _id IN (${ids.map(literal).join(', ')})`);
  }
  return undefined;
}

/** Redis commands Webdis would run from a path that empty a database or act on the server (sql-redis.ts's DROP and COPY twins). */
const webdisWords = new Set(['flushall', 'flushdb', 'swapdb']);
/** Container commands whose writing subcommand in the path (in any case) is Webdis's shape: `/config/set/dir/tmp`, `/script/flush`. */
const webdisWriting: Readonly<Record<string, ReadonlySet<string>>> = lookupTable({
  config: new Set(['set', 'rewrite', 'resetstat']), script: new Set(['flush', 'load', 'kill']), function: new Set(['flush', 'delete', 'load', 'restore']),
  module: new Set(['load', 'loadex', 'unload']), acl: new Set(['setuser', 'deluser', 'load', 'save']),
});
/** A path in Webdis's shape in lowercase: a container and its writing subcommand, `eval|evalsha|fcall/<script>/<numkeys>…`, `replicaof|slaveof/<host>/<port>`. */
function webdisShaped(args: string[]): boolean {
  const [a, b, c] = args.map((x) => x.toLowerCase().replace(webdisSuffix, ''));
  if (a === undefined) return false;
  if (webdisWriting[a]?.has(b ?? '')) return true;
  // A read of the server's credentials in the path (`/config/get/requirepass`): its twin says so (redisTwin).
  if (a === 'config' && b === 'get' && redisTwin(args.map((x) => x.replace(webdisSuffix, ''))) === REDIS_SECRET_READ) return true;
  if ((a === 'eval' || a === 'evalsha' || a === 'fcall' || a === 'eval_ro' || a === 'evalsha_ro' || a === 'fcall_ro') && c !== undefined && /^\d{1,6}$/.test(c)) return true;
  return (a === 'replicaof' || a === 'slaveof') && c !== undefined && /^(\d{1,5}|one)$/.test(c);
}
/** Webdis's format suffixes on a path's last argument. */
const webdisSuffix = /\.(json|raw|msg|txt|html|xml|png|jpg|jpeg|bson)$/i;

/**
 * Webdis (Redis over HTTP: `GET /FLUSHALL`, `GET /CONFIG/SET/dir/tmp`, the command in a POST's
 * body): its path form on its port (7379), and where the path's first word empties a database or
 * is a server command in capitals, as Webdis's own examples write them, on any host.
 */
function webdisSql(request: RequestInfo): SqlSource | undefined {
  let args = request.segments.slice(0, 64);
  const body = request.body;
  // curl's `-d 'FLUSHALL'` is typed as a form: its one field with no value is the text.
  const fields = body.form ? formEntries(body.form) : [];
  const text = body.text ?? (fields.length === 1 && fields[0]![1].every((v) => v === '') ? fields[0]![0] : undefined);
  if (args.length === 0 && request.method === 'POST' && body.json === undefined && text !== undefined && /^[A-Za-z]+(\/|$)/.test(text.trim()) && !body.text_truncated && !body.truncated) {
    args = text.trim().split('/').slice(0, 64).map((a) => {
      try {
        return decodeURIComponent(a);
      } catch {
        return a;
      }
    });
  }
  if (args.length === 0) return undefined;
  const first = args[0]!.replace(webdisSuffix, '');
  if (!(request.port === 7379 || webdisWords.has(first.toLowerCase()) || /^[A-Z]+$/.test(first) || webdisShaped(args))) return undefined;
  const cmd = [first, ...args.slice(1)];
  cmd[cmd.length - 1] = cmd[cmd.length - 1]!.replace(webdisSuffix, '');
  const twin = redisTwin(cmd);
  return twin && redisTwinActs(twin) ? { texts: [twin], dialect: 'postgresql', written: true } : undefined;
}

/** A MongoDB Data API many-action without its `filter` (the server takes none as `{}`): every document. */
function mongoManyWithoutFilter(request: RequestInfo): SqlSource | undefined {
  const segs = request.segments;
  const action = segs[segs.length - 1] ?? '';
  const o = request.body.json;
  if (segs[segs.length - 2]?.toLowerCase() !== 'action' || !isObject(o) || typeof o.collection !== 'string' || o.filter !== undefined) return undefined;
  if (action === 'deleteMany') return { texts: [`DELETE FROM ${table(o.collection)}`], dialect: 'postgresql', written: true };
  if (action === 'updateMany') return { texts: [`UPDATE ${table(o.collection)} SET mongo_data = mongo_data`], dialect: 'postgresql', written: true };
  return undefined;
}

// ---------------------------------------------------------------- Gremlin, AQL, RESTHeart, Neptune's openCypher

/** A step's arguments as tokens, from the `(` at index k: the tokens inside and the index of its `)`. */
function stepArgs(tokens: Token[], k: number): { args: Token[]; end: number } {
  let depth = 0;
  let j = k;
  for (; j < tokens.length; j++) {
    if (tokens[j]!.text === '(') depth++;
    else if (tokens[j]!.text === ')' && --depth === 0) break;
  }
  return { args: tokens.slice(k + 1, j), end: j };
}

const gremlinPredicates: Readonly<Record<string, string>> = lookupTable({ eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' });
/** A token as an SQL literal, or undefined. */
const tokenLiteral = (t: Token | undefined): string | undefined => (t?.kind === 'string' ? literal(t.text) : t?.kind === 'num' && /^\d+(\.\d+)?$/.test(t.text) ? t.text : t?.kind === 'word' && /^(true|false)$/i.test(t.text) ? t.text.toUpperCase() : undefined);

/**
 * A Gremlin traversal's twins (Neptune's and Gremlin Server's `/gremlin`): `drop()` the DELETE of
 * what the traversal reaches, narrowed by `V(id)`, `hasId`, `has(k, v)` and `has(k, eq|gt|…(v))`
 * (`has(k)` is IS NOT NULL, `hasLabel` the table), `property()` an UPDATE, `addV`/`addE` an INSERT;
 * lambdas, `io()` and host calls a program run on the server.
 */
export function gremlinTwins(text: string): string[] {
  if (text.length > MAX_TEXT) return [`COPY gremlin FROM PROGRAM 'unread'`];
  const tokens = cypherTokens(text);
  const out: string[] = [];
  let label = 'gremlin_elements';
  const conds: string[] = [];
  let drops = false;
  let sets = false;
  let adds = false;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.text === '{' || (t.kind === 'word' && /^(io|Lambda|System|Runtime|Class|eval|script|call)$/.test(t.text) && tokens[i + 1]?.text === '(')) out.push(`COPY gremlin FROM PROGRAM ${literal(`gremlin ${t.text.slice(0, 40)}`)}`);
    if (t.kind !== 'word' || tokens[i + 1]?.text !== '(') continue;
    const { args, end } = stepArgs(tokens, i + 1);
    const name = t.text;
    const values = args.filter((a) => a.text !== ',');
    if ((name === 'V' || name === 'E' || name === 'hasId') && values.length > 0) {
      const lits = values.map(tokenLiteral);
      conds.push(lits.every((x) => x !== undefined) ? `id IN (${lits.join(', ')})` : 'id = airlock_gremlin_id');
    } else if (name === 'hasLabel' && values.length === 1 && values[0]!.kind === 'string') label = values[0]!.text;
    else if (name === 'has' && values[0]?.kind === 'string') {
      const col = column(values.length === 3 ? values[1]!.text : values[0]!.text);
      const v = values.length === 3 ? values.slice(2) : values.slice(1);
      if (values.length === 3 && values[0]!.kind === 'string') label = values[0]!.text;
      if (v.length === 0) conds.push(`${col} IS NOT NULL`);
      else if (v.length === 1 && tokenLiteral(v[0]) !== undefined) conds.push(`${col} = ${tokenLiteral(v[0])}`);
      else {
        // `has(k, gt(5))`, `P.neq('x')`, `within(…)`: the predicate's step and its values.
        const p = v.filter((x) => x.text !== '.' && x.text !== 'P' && x.text !== '(' && x.text !== ')');
        const op = p[0]?.text;
        const lits = p.slice(1).map(tokenLiteral);
        if (op && op in gremlinPredicates && lits.length === 1 && lits[0] !== undefined) conds.push(op === 'neq' ? `(${col} <> ${lits[0]} OR ${col} IS NULL)` : `${col} ${gremlinPredicates[op]} ${lits[0]}`);
        else if ((op === 'within' || op === 'without') && lits.every((x) => x !== undefined)) conds.push(`${op === 'without' ? 'NOT ' : ''}${col} IN (${lits.length ? lits.join(', ') : 'NULL'})`);
      }
    } else if (name === 'hasNot' && values[0]?.kind === 'string') conds.push(`${column(values[0].text)} IS NULL`);
    else if (name === 'drop') drops = true;
    else if (name === 'property' || name === 'properties') sets ||= name === 'property';
    else if (name === 'addV' || name === 'addE' || name === 'mergeV' || name === 'mergeE') adds = true;
    i = name === 'has' || name === 'V' || name === 'E' || name === 'hasId' || name === 'hasLabel' || name === 'hasNot' ? end : i;
  }
  const cond = conds.length ? conds.join(' AND ') : 'TRUE';
  if (drops) out.push(`DELETE FROM ${table(label)}${where(cond)}`);
  if (sets && !adds) out.push(`UPDATE ${table(label)} SET gremlin_properties = gremlin_properties${where(cond)}`);
  if (adds) out.push(`INSERT INTO ${table(label)} (gremlin_properties) VALUES (1)`);
  return out;
}

/**
 * A Gremlin traversal sent as bytecode (GraphSON's `{"@type": "g:Bytecode", "@value": {step:
 * [["V"], ["has", "name", "x"], ["drop"]]}}`: what gremlin-python, gremlin-javascript and Java's
 * drivers send to `op: "bytecode"`) written as the script it stands for (`g.V().has('name',
 * 'x').drop()`), for gremlinTwins. Typed numbers as themselves, `g:P` predicates as `P.gte(…)`, a
 * nested traversal as `__.…`, a lambda as `Lambda(…)` (code: unread); another typed value as a
 * name no rule takes for a value. Undefined when it is no bytecode. Bounded in depth and steps.
 */
export function gremlinBytecodeText(b: unknown, depth = 0): string | undefined {
  const v = isObject(b) && b['@type'] === 'g:Bytecode' ? b['@value'] : b;
  if (!isObject(v) || !Array.isArray(v.step) || depth > 8) return undefined;
  const quote = (x: string): string => `'${x.slice(0, 10_000).replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  const arg = (a: unknown, d: number): string => {
    if (typeof a === 'string') return quote(a);
    if (typeof a === 'number' || typeof a === 'boolean') return String(a);
    if (a === null) return 'null';
    if (Array.isArray(a)) return a.slice(0, 1000).map((x) => arg(x, d + 1)).join(', ');
    if (!isObject(a) || d > 8) return 'airlock_unread';
    const type = a['@type'];
    const value = a['@value'];
    if (type === 'g:Bytecode') return `__.${(gremlinBytecodeText(a, depth + 1) ?? 'airlock_unread()').replace(/^g\./, '')}`;
    if (type === 'g:Lambda') return 'Lambda(airlock_unread)';
    if (type === 'g:P' && isObject(value) && typeof value.predicate === 'string') return `P.${value.predicate.replace(/[^A-Za-z]/g, '')}(${arg(value.value, d + 1)})`;
    if (type === 'g:List' || type === 'g:Set') return Array.isArray(value) ? arg(value, d + 1) : 'airlock_unread';
    if (type === 'g:T' && typeof value === 'string') return `T.${value.replace(/[^A-Za-z]/g, '')}`;
    if (typeof type === 'string' && /^g[x]?:(Int32|Int64|Float|Double|BigInteger|BigDecimal|Byte|Int16)$/.test(type) && (typeof value === 'number' || typeof value === 'string')) return String(Number(value));
    return 'airlock_unread';
  };
  const steps = (v.step as unknown[]).slice(0, MAX_STATEMENTS).map((st) => {
    if (!Array.isArray(st) || typeof st[0] !== 'string') return 'airlock_unread()';
    return `${st[0].replace(/[^A-Za-z0-9_]/g, '')}(${st.slice(1).map((a) => arg(a, 0)).join(', ')})`;
  });
  return `g.${steps.join('.')}`;
}

/**
 * Gremlin Server's request message (`{requestId, op, processor, args: {gremlin, bindings}}`), as
 * its WebSocket carries it (twenty-seventh pass, left open by the twenty-sixth: a tunnel's
 * message was judged as a POST of it to `/gremlin`, whose reader took only a top-level `gremlin`):
 * the script of `op: "eval"`, the bytecode of `op: "bytecode"`.
 */
function gremlinRequestTexts(json: unknown): string[] {
  if (!isObject(json) || typeof json.op !== 'string' || !isObject(json.args)) return [];
  const g = json.args.gremlin;
  if (typeof g === 'string') return [g];
  const text = gremlinBytecodeText(g);
  return text === undefined ? (g === undefined ? [] : ['g.V().drop().airlock_unread()']) : [text];
}

function gremlinSql(request: RequestInfo): SqlSource | undefined {
  const last = request.segments[request.segments.length - 1]?.toLowerCase();
  if (last !== 'gremlin') return undefined;
  const json = request.body.json;
  const texts = [...(isObject(json) && typeof json.gremlin === 'string' ? [json.gremlin] : []), ...gremlinRequestTexts(json), ...(request.query.gremlin ?? [])].slice(0, MAX_STATEMENTS);
  const twins = texts.flatMap((x) => gremlinTwins(x));
  return twins.length ? { texts: twins, dialect: 'postgresql', written: true } : undefined;
}

/**
 * ArangoDB's AQL (`POST /_api/cursor {query, bindVars}`): `REMOVE`, `UPDATE`, `REPLACE` of the
 * documents a `FOR … IN coll` reaches, narrowed by its FILTERs read as SQL's condition (a FILTER
 * Airlock cannot write as SQL narrows nothing); `INSERT`/`UPSERT` an INSERT.
 */
export function aqlTwins(text: string, params: Record<string, unknown> = emptyMap()): string[] {
  if (text.length > MAX_TEXT) return [`COPY arango FROM PROGRAM 'unread'`];
  const tokens = cypherTokens(text);
  const up = (i: number): string => (tokens[i]?.kind === 'word' ? tokens[i]!.text.toUpperCase() : '');
  const conds: string[] = [];
  let coll = 'arango';
  let action = '';
  let keyed = false;
  const keywords = new Set(['FOR', 'FILTER', 'LET', 'COLLECT', 'SORT', 'LIMIT', 'RETURN', 'REMOVE', 'UPDATE', 'REPLACE', 'INSERT', 'UPSERT', 'WITH', 'IN', 'INTO', 'OPTIONS', 'SEARCH', 'PRUNE', 'WINDOW']);
  for (let i = 0; i < tokens.length; i++) {
    const w = up(i);
    if (w === 'FOR' && up(i + 2) === 'IN' && tokens[i + 3]?.kind === 'word' && tokens[i + 4]?.text !== '(' && tokens[i + 4]?.text !== '.') coll = tokens[i + 3]!.text;
    if (w === 'FILTER') {
      let j = i + 1;
      while (j < tokens.length && !keywords.has(up(j))) j++;
      const c = cypherWhere(tokens.slice(i + 1, j), params);
      if (c !== undefined) conds.push(`(${c})`);
      i = j - 1;
      continue;
    }
    if ((w === 'REMOVE' || w === 'UPDATE' || w === 'REPLACE') && !action) {
      action = w;
      // `REMOVE "key" IN c`, `REMOVE {_key: …} IN c`: one document.
      keyed = tokens[i + 1]?.kind === 'string' || tokens[i + 1]?.kind === 'param' || tokens[i + 1]?.text === '{';
      let j = i + 1;
      while (j < tokens.length && up(j) !== 'IN' && up(j) !== 'INTO') j++;
      if (tokens[j + 1]?.kind === 'word') coll = tokens[j + 1]!.text;
    }
    if ((w === 'INSERT' || w === 'UPSERT') && !action) action = w;
  }
  if (!action) return [];
  const cond = keyed ? 'arango_key = 1' : conds.length ? conds.join(' AND ') : 'TRUE';
  if (action === 'REMOVE') return [`DELETE FROM ${table(coll)}${where(cond)}`];
  if (action === 'UPDATE' || action === 'REPLACE') return [`UPDATE ${table(coll)} SET arango_document = arango_document${where(cond)}`];
  return [`INSERT INTO ${table(coll)} (arango_document) VALUES (1)`];
}

function arangoSql(request: RequestInfo): SqlSource | undefined {
  const segs = request.segments.map((x) => x.toLowerCase());
  const api = segs.indexOf('_api');
  if (api < 0) return undefined;
  const [what, name, op] = request.segments.slice(api + 1);
  const m = request.method;
  if (what?.toLowerCase() === 'cursor' && m === 'POST') {
    const o = request.body.json;
    if (!isObject(o) || typeof o.query !== 'string') return undefined;
    const twins = aqlTwins(o.query, isObject(o.bindVars) ? o.bindVars : {});
    return twins.length ? { texts: twins, dialect: 'postgresql', written: true } : undefined;
  }
  if (what?.toLowerCase() === 'collection' && name) {
    if (m === 'PUT' && op?.toLowerCase() === 'truncate') return { texts: [`DELETE FROM ${table(name)}`], dialect: 'postgresql', written: true };
    if (m === 'DELETE' && op === undefined) return { texts: [`DROP TABLE ${table(name)}`], dialect: 'postgresql', written: true };
  }
  if (what?.toLowerCase() === 'database' && name && m === 'DELETE') return { texts: ['DROP SCHEMA arango CASCADE'], dialect: 'postgresql', written: true };
  if (what?.toLowerCase() === 'user' && m !== 'GET' && m !== 'HEAD') return { texts: ['GRANT ALL ON SCHEMA arango TO arango_user'], dialect: 'postgresql', written: true };
  return undefined;
}

/**
 * A CQL text (Cassandra's, through Stargate's and Astra's `/v2/cql`) written for the SQL grammars:
 * a KEYSPACE is a schema, a batch (`BEGIN [UNLOGGED|COUNTER] BATCH … APPLY BATCH`) a transaction
 * of its statements, and the clauses only CQL has that change no row's choice (`ALLOW FILTERING`,
 * `USING TTL|TIMESTAMP n`) left out. What the grammars still refuse is unread (fails closed).
 */
export function cqlText(text: string): string {
  return text
    .replace(/\bBEGIN\s+(?:UNLOGGED\s+|COUNTER\s+)?BATCH\b/gi, 'BEGIN;')
    .replace(/\bAPPLY\s+BATCH\b/gi, 'COMMIT')
    .replace(/\bKEYSPACES?\b/gi, 'SCHEMA')
    .replace(/\bALLOW\s+FILTERING\b/gi, ' ')
    .replace(/\bUSING\s+(?:TTL|TIMESTAMP)\s+\d+(?:\s+AND\s+(?:TTL|TIMESTAMP)\s+\d+)?/gi, ' ');
}

/**
 * DataStax Astra DB's and Stargate's Data API (`POST /api/json/v1/<keyspace>/<collection>` of one
 * command; twenty-eighth pass: each was a plain medium POST): `deleteMany` and `updateMany` the
 * DELETE or UPDATE of the collection (or table) under their MongoDB-style `filter` (none or `{}`
 * every document, read as MongoDB's Data API's are: an operator Airlock does not read fails
 * closed), `deleteCollection`/`dropTable` a DROP TABLE, `dropIndex` a DROP INDEX, `dropKeyspace`
 * (and `dropNamespace`, its older name) a DROP SCHEMA. One document's commands and reads have none.
 */
function astraDataApiSql(request: RequestInfo): SqlSource | undefined {
  const segs = request.segments;
  const at = segs.findIndex((s, i) => s.toLowerCase() === 'json' && /^v\d+$/i.test(segs[i + 1] ?? ''));
  const o = request.body.json;
  if (at < 0 || request.method !== 'POST' || !isObject(o)) return undefined;
  const [keyspace, coll] = [segs[at + 2], segs[at + 3]];
  const keys = Object.keys(o);
  if (keys.length !== 1) return keys.some((k) => /^(deleteMany|updateMany|deleteCollection|dropTable|dropKeyspace|dropNamespace|dropIndex)$/.test(k)) ? { error: 'an Astra Data API body of more than one command' } : undefined;
  const cmd = keys[0]!;
  const arg = o[cmd];
  const named = (v: unknown): string | undefined => (isObject(v) && typeof v.name === 'string' ? v.name : undefined);
  if ((cmd === 'deleteMany' || cmd === 'updateMany') && coll !== undefined) {
    let cond: string;
    try {
      cond = mongoCondition(isObject(arg) ? arg.filter : undefined, { n: MAX_CONDITIONS });
    } catch {
      return { error: 'an Astra Data API filter Airlock does not read' };
    }
    const target = table(`${keyspace ?? ''}.${coll}`);
    return { texts: [cmd === 'deleteMany' ? `DELETE FROM ${target}${where(cond)}` : `UPDATE ${target} SET astra_data = astra_data${where(cond)}`], dialect: 'postgresql', written: true };
  }
  if ((cmd === 'deleteCollection' || cmd === 'dropTable') && named(arg)) return { texts: [`DROP TABLE ${table(`${keyspace ?? ''}.${named(arg)!}`)}`], dialect: 'postgresql', written: true };
  if (cmd === 'dropIndex' && named(arg)) return { texts: [`DROP INDEX ${table(named(arg)!)}`], dialect: 'postgresql', written: true };
  if ((cmd === 'dropKeyspace' || cmd === 'dropNamespace') && named(arg)) return { texts: [`DROP SCHEMA ${table(named(arg)!)} CASCADE`], dialect: 'postgresql', written: true };
  return undefined;
}

/**
 * Stargate's GraphQL schema API (`/graphql-schema`, Astra's `/api/graphql-schema`; twenty-eighth
 * pass: a plain medium POST): `dropKeyspace` a DROP SCHEMA, `dropTable` and `dropType` a DROP,
 * `dropIndex` a DROP INDEX, `alterTableDrop` the columns dropped. The document is read by the
 * GraphQL reader's own parse (fieldArguments: aliases, fragments and variables as the server reads them).
 */
function stargateSchemaSql(request: RequestInfo): SqlSource | undefined {
  if (!request.segments.some((s) => s.toLowerCase() === 'graphql-schema')) return undefined;
  const o = request.body.json;
  const query = isObject(o) && typeof o.query === 'string' ? o.query : request.query.query?.[0];
  if (typeof query !== 'string') return undefined;
  const fields = fieldArguments(query, isObject(o) ? o.variables : undefined);
  if (!fields) return undefined;
  const texts: string[] = [];
  for (const { field, args } of fields.slice(0, MAX_STATEMENTS)) {
    const name = (k: string): string => table(String(args[k] ?? '?'));
    if (field === 'dropKeyspace') texts.push(`DROP SCHEMA ${name('name')} CASCADE`);
    else if (field === 'dropTable' || field === 'dropType') texts.push(`DROP TABLE ${name('keyspaceName')}.${name(field === 'dropTable' ? 'tableName' : 'typeName')}`);
    else if (field === 'dropIndex') texts.push(`DROP INDEX ${name('indexName')}`);
    else if (field === 'alterTableDrop') texts.push(`ALTER TABLE ${name('keyspaceName')}.${name('tableName')} DROP COLUMN stargate_column`);
  }
  return texts.length ? { texts, dialect: 'postgresql', written: true } : undefined;
}

/** RESTHeart's bulk writes (`DELETE /db/coll/*?filter={…}`, `PATCH /db/coll/*?filter=…`): the DELETE or UPDATE of the collection under its MongoDB filter. */
function restheartSql(request: RequestInfo): SqlSource | undefined {
  const segs = request.segments;
  if (segs.length < 3 || segs[segs.length - 1] !== '*' || (request.method !== 'DELETE' && request.method !== 'PATCH')) return undefined;
  const coll = segs[segs.length - 2]!;
  const filters = request.query.filter ?? [];
  let cond = 'TRUE';
  try {
    const parts = filters.slice(0, 16).map((f) => mongoCondition(JSON.parse(f), { n: MAX_CONDITIONS }));
    if (parts.length) cond = parts.map((p) => `(${p})`).join(' AND ');
  } catch {
    return { error: 'a RESTHeart bulk filter Airlock does not read' };
  }
  return { texts: [request.method === 'DELETE' ? `DELETE FROM ${table(coll)}${where(cond)}` : `UPDATE ${table(coll)} SET mongo_data = mongo_data${where(cond)}`], dialect: 'postgresql', written: true };
}

/** Amazon Neptune's openCypher endpoint (`POST /openCypher`, `query` as a form field, JSON or URL parameter; `parameters` as JSON text). */
function openCypherSql(request: RequestInfo): SqlSource | undefined {
  if (request.segments[request.segments.length - 1]?.toLowerCase() !== 'opencypher') return undefined;
  const json = isObject(request.body.json) ? request.body.json : undefined;
  const form = request.body.json === undefined ? request.body.form : undefined;
  const texts = [...(typeof json?.query === 'string' ? [json.query] : []), ...(form?.query ?? []), ...(request.query.query ?? [])].slice(0, MAX_STATEMENTS);
  let params: Record<string, unknown> = emptyMap();
  const raw = json?.parameters ?? form?.parameters?.[0] ?? request.query.parameters?.[0];
  try {
    const p = typeof raw === 'string' ? (JSON.parse(raw) as unknown) : raw;
    if (isObject(p)) params = p;
  } catch {
    // Unbound parameters stand for an unknown value.
  }
  const twins = texts.flatMap((x) => cypherTwins(x, params));
  return twins.length ? { texts: twins, dialect: 'postgresql', written: true } : undefined;
}

/**
 * Elasticsearch's and OpenSearch's other ways to drop or open up data: an `_aliases` action
 * `remove_index` (deletes the index), `DELETE /_data_stream/<name>`, and writes to their security
 * APIs (roles, users, role mappings, API keys: who reads what).
 */
function esAdminSql(request: RequestInfo): SqlSource | undefined {
  const segs = request.segments.map((x) => x.toLowerCase());
  const m = request.method;
  if (segs[segs.length - 1] === '_aliases' && (m === 'POST' || m === 'PUT')) {
    const o = request.body.json;
    const actions = isObject(o) && Array.isArray(o.actions) ? o.actions.slice(0, MAX_STATEMENTS) : [];
    const drops = actions.flatMap((a) => (isObject(a) && isObject(a.remove_index) ? esList(a.remove_index.index ?? a.remove_index.indices).map((x) => `DROP TABLE ${table(String(x))}`) : []));
    return drops.length ? { texts: drops, dialect: 'postgresql', written: true } : undefined;
  }
  if (segs[0] === '_data_stream' && m === 'DELETE' && segs[1]) return { texts: [`DROP TABLE ${table(segs[1])}`], dialect: 'postgresql', written: true };
  const security = (segs[0] === '_security' || (segs[0] === '_plugins' && segs[1] === '_security') || segs[0] === '_opendistro') && m !== 'GET' && m !== 'HEAD';
  if (security && !segs.includes('_authenticate') && !segs.includes('_has_privileges')) return { texts: ['GRANT ALL ON SCHEMA elasticsearch TO es_principal'], dialect: 'postgresql', written: true };
  return undefined;
}

/**
 * DynamoDB's JSON protocol (`X-Amz-Target: DynamoDB_20120810.DeleteTable`): a table or backup
 * deleted is a DROP, a table exported to S3 (any bucket the call names) data sent out, a resource
 * policy a GRANT, deletion protection turned off an ALTER that lets the next DROP through. Item
 * writes name their keys (narrow) and PartiQL is read as SQL (namedFieldSql).
 */
function dynamoSql(request: RequestInfo): SqlSource | undefined {
  const target = request.headers['x-amz-target'];
  if (target?.length !== 1) return undefined;
  const m = /^DynamoDB(?:Streams)?_\d{8}\.([A-Za-z]+)$/.exec(target[0]!.trim());
  if (!m) return undefined;
  const o = isObject(request.body.json) ? request.body.json : {};
  const name = table(typeof o.TableName === 'string' ? o.TableName : typeof o.TableArn === 'string' ? o.TableArn : typeof o.ResourceArn === 'string' ? o.ResourceArn : 'dynamodb');
  switch (m[1]) {
    case 'DeleteTable':
    case 'DeleteBackup':
      return { texts: [`DROP TABLE ${name}`], dialect: 'postgresql', written: true };
    case 'ExportTableToPointInTime':
    case 'ExportTableToPointInTimeWithS3':
      return { texts: [`COPY ${name} TO PROGRAM ${literal(`s3 ${String(o.S3Bucket ?? '?').slice(0, 200)}`)}`], dialect: 'postgresql', written: true };
    case 'PutResourcePolicy':
    case 'DeleteResourcePolicy':
      return { texts: [`GRANT ALL ON ${name} TO dynamodb_principal`], dialect: 'postgresql', written: true };
    // Twenty-ninth pass: Time to Live turned on deletes each item whose attribute holds a time
    // passed (`created_at`: every item), and point-in-time recovery turned off drops what a restore
    // needs (each was held high as an unread body). A retention is no narrower by the attribute's
    // name: held as the DELETE of every item it may be, as BigQuery's partition expiry is.
    case 'UpdateTimeToLive':
      return isObject(o.TimeToLiveSpecification) && o.TimeToLiveSpecification.Enabled === true ? { texts: [`DELETE FROM ${name}`], dialect: 'postgresql', written: true } : undefined;
    case 'UpdateContinuousBackups':
      return isObject(o.PointInTimeRecoverySpecification) && o.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled === false ? { texts: [`ALTER TABLE ${name} DISABLE TRIGGER ALL`], dialect: 'postgresql', written: true } : undefined;
    case 'UpdateTable':
      return o.DeletionProtectionEnabled === false ? { texts: [`ALTER TABLE ${name} DISABLE TRIGGER ALL`], dialect: 'postgresql', written: true } : undefined;
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------- Firebase Realtime Database, object stores

/** Hosts of Firebase's Realtime Database (its emulator is marked by `?ns=`). */
const rtdbHost = (request: RequestInfo): boolean => /\.(firebaseio\.com|firebasedatabase\.app)$/.test(request.host) || request.query.ns !== undefined;

/**
 * Firebase's Realtime Database REST API (`<path>.json`): one JSON tree, whose top-level nodes are
 * its tables. `PUT /.json` replaces the whole tree and `DELETE /.json` deletes it, on any host (no
 * other API has that shape); on a Realtime Database host `PUT|DELETE /users.json` replaces or deletes
 * every record of `users`, and a PATCH replaces each child it names (`PATCH /.json {"users": null}`
 * is every user). The method may come by `?x-http-method-override=` (effective_method). A write
 * deeper than a top-level node's child is narrow.
 */
function rtdbSql(request: RequestInfo): SqlSource | undefined {
  const segs = request.segments;
  const n = segs.length;
  if (n === 0 || !segs[n - 1]!.endsWith('.json')) return undefined;
  const m = request.effective_method ?? request.method;
  if (m !== 'PUT' && m !== 'DELETE' && m !== 'PATCH') return undefined;
  const path = [...segs.slice(0, -1), segs[n - 1]!.slice(0, -'.json'.length)].filter((x) => x !== '');
  if (path.length > 0 && !rtdbHost(request)) return undefined;
  const twin = (depth: string[]): string => (depth.length === 0 ? 'DROP SCHEMA rtdb CASCADE' : depth.length === 1 ? `DELETE FROM ${table(depth[0]!)}` : `UPDATE ${table(depth[0]!)} SET rtdb_value = 1 WHERE id = ${literal(depth[1]!)}`);
  if (m !== 'PATCH') return { texts: [twin(path)], dialect: 'postgresql', written: true };
  const o = request.body.json;
  if (!isObject(o)) return path.length < 2 ? { error: 'a Realtime Database PATCH whose children Airlock does not read' } : undefined;
  const texts = Object.keys(o).slice(0, MAX_STATEMENTS).map((k) => twin([...path, ...k.split('/').filter((x) => x !== '')]));
  return texts.length ? { texts, dialect: 'postgresql', written: true } : undefined;
}

interface XmlNode {
  name: string;
  text: string;
  children: XmlNode[];
}

/** An XML document as a tree of local names (htmlparser2 in XML mode: comments, CDATA and entities as a server's parser reads them). */
function xmlTree(text: string): XmlNode {
  const root: XmlNode = { name: '', text: '', children: [] };
  const stack = [root];
  let count = 0;
  const parser = new Parser({
    onopentag(raw) {
      const node: XmlNode = { name: raw.slice(raw.lastIndexOf(':') + 1), text: '', children: [] };
      if (++count > 10_000) throw new Unreadable();
      stack[stack.length - 1]!.children.push(node);
      stack.push(node);
    },
    ontext(t) {
      stack[stack.length - 1]!.text += t;
    },
    onclosetag() {
      if (stack.length > 1) stack.pop();
    },
  }, { xmlMode: true, decodeEntities: true, recognizeCDATA: true });
  parser.write(text.slice(0, MAX_TEXT));
  parser.end();
  return root;
}
const xmlChild = (node: XmlNode | undefined, name: string): XmlNode | undefined => node?.children.find((c) => c.name === name);
const xmlAll = (node: XmlNode | undefined, name: string): XmlNode[] => node?.children.filter((c) => c.name === name) ?? [];

/**
 * An object store's lifecycle rule as its SQL twin: a rule that expires objects (`Expiration`,
 * `NoncurrentVersionExpiration`; Google's `Delete` action) deletes those its filter chooses, every
 * object when the filter names no prefix, tag or size (`<Filter/>`, `<Prefix></Prefix>`, `{age: 0}`).
 */
function lifecycleTwin(bucket: string, prefixes: string[], narrowed: boolean): string {
  const named = prefixes.filter((p) => p !== '');
  if (narrowed && named.length === 0) return `DELETE FROM ${table(bucket)} WHERE object_tag = 'lifecycle'`;
  return `DELETE FROM ${table(bucket)}${named.length ? ` WHERE ${named.map((p) => `object_key LIKE ${literal(`${likeEscape(p)}%`)}`).join(' AND ')}` : ''}`;
}

/**
 * S3-compatible stores (AWS, MinIO, R2, Ceph, Wasabi) and Google Cloud Storage, by the calls that
 * empty a bucket or open it to others (each was a medium write): S3's `PUT ?lifecycle` whose rule
 * expires every object, `PUT ?policy`, `PUT ?acl` (and an `x-amz-acl` of a bucket), `DELETE
 * ?publicAccessBlock` and `PUT ?versioning` suspended (what a restore would need, turned off); GCS's
 * JSON API `PATCH|PUT /storage/v1/b/<bucket>` with a `lifecycle` rule that deletes every object, and
 * its `…/iam` and `acl` writes. A named multi-object delete (`POST ?delete`) names its keys (narrow).
 */
function objectStoreSql(request: RequestInfo): SqlSource | undefined {
  const m = request.effective_method ?? request.method;
  if (m === 'GET' || m === 'HEAD' || m === 'OPTIONS') return undefined;
  const segs = request.segments;
  const q = request.query;
  const twin = (...texts: string[]): SqlSource => ({ texts, dialect: 'postgresql', written: true });
  // The bucket: the path's first segment, or the host's first label (virtual-hosted style).
  const bucket = segs[0] || request.host.split('.')[0]!;
  const bare = (k: string): boolean => q[k] !== undefined && q[k]!.every((v) => v === '');
  const grant = `GRANT ALL ON TABLE ${table(bucket)} TO PUBLIC`;
  if (segs.length <= 1) {
    if (bare('lifecycle') && m === 'PUT') {
      // The XML body's reading as the JSON a binder makes of it (describe/body.ts) holds no text:
      // the body's own reading, which has it, decides.
      if (request.body.text === undefined && request.body.json !== undefined) return undefined;
      try {
        const doc = xmlChild(xmlTree(request.body.text ?? ''), 'LifecycleConfiguration');
        if (!doc) return { error: 'a lifecycle configuration Airlock does not read' };
        const texts: string[] = [];
        for (const rule of xmlAll(doc, 'Rule').slice(0, MAX_STATEMENTS)) {
          if ((xmlChild(rule, 'Status')?.text.trim() ?? '') !== 'Enabled') continue;
          const exp = xmlChild(rule, 'Expiration');
          const expires = (exp && (xmlChild(exp, 'Days') || xmlChild(exp, 'Date'))) || xmlChild(rule, 'NoncurrentVersionExpiration');
          if (!expires) continue;
          const filter = xmlChild(rule, 'Filter');
          const and = xmlChild(filter, 'And');
          const prefixes = [xmlChild(rule, 'Prefix'), xmlChild(filter, 'Prefix'), xmlChild(and, 'Prefix')].filter((x): x is XmlNode => !!x).map((x) => x.text);
          const narrowed = [filter, and].some((f) => f?.children.some((c) => c.name === 'Tag' || c.name === 'ObjectSizeGreaterThan' || c.name === 'ObjectSizeLessThan'));
          texts.push(lifecycleTwin(bucket, prefixes, !!narrowed));
        }
        return texts.length ? twin(...texts) : undefined;
      } catch (e) {
        if (e instanceof Unreadable) return { error: 'a lifecycle configuration Airlock does not read' };
        throw e;
      }
    }
    if ((bare('policy') && m === 'PUT') || (bare('acl') && m === 'PUT') || (bare('publicaccessblock') && m === 'DELETE') || (bare('publicAccessBlock') && m === 'DELETE')) return twin(grant);
    if (segs.length === 1 && m === 'PUT' && request.headers['x-amz-acl']?.some((v) => /public|authenticated/i.test(v))) return twin(grant);
    if (bare('versioning') && m === 'PUT' && /<Status>\s*Suspended\s*</.test(request.body.text ?? '')) return twin(`ALTER TABLE ${table(bucket)} DISABLE TRIGGER ALL`);
  }
  // Azure Storage's lifecycle (`PUT …/storageAccounts/<a>/managementPolicies/default`): a rule whose
  // actions delete base blobs, snapshots or versions, over every blob when no `prefixMatch` narrows it.
  const mp = segs.findIndex((x) => x.toLowerCase() === 'managementpolicies');
  const body = request.body.json;
  if (mp >= 1 && m === 'PUT' && isObject(body) && isObject(body.properties) && isObject(body.properties.policy) && Array.isArray(body.properties.policy.rules)) {
    const account = segs[mp - 1]!;
    const texts: string[] = [];
    for (const r of body.properties.policy.rules.slice(0, MAX_STATEMENTS)) {
      const def = isObject(r) && r.enabled !== false && isObject(r.definition) ? r.definition : undefined;
      const actions = def && isObject(def.actions) ? def.actions : undefined;
      if (!actions || !Object.values(actions).some((a) => isObject(a) && a.delete !== undefined)) continue;
      const filters = isObject(def!.filters) ? def!.filters : {};
      const narrowed = Array.isArray(filters.blobIndexMatch) && filters.blobIndexMatch.length > 0;
      // A prefix starts with a container's name: the container is the table, the rest of the prefix narrows it (`logs` alone is all of `logs`).
      const prefixes = Array.isArray(filters.prefixMatch) ? filters.prefixMatch.slice(0, MAX_STATEMENTS).map(String) : [];
      if (!prefixes.length) texts.push(lifecycleTwin(account, [], narrowed));
      for (const x of prefixes) texts.push(lifecycleTwin(x.split('/')[0]!, [x.split('/').slice(1).join('/')], narrowed));
    }
    if (texts.length) return twin(...texts);
  }
  // Google Cloud Storage's JSON API: `/storage/v1/b/<bucket>[/iam|/acl…]`.
  const lower = segs.map((x) => x.toLowerCase());
  const b = lower.indexOf('b');
  if (lower[0] === 'storage' && b === 2 && segs[3]) {
    const name = segs[3];
    if (lower[4] === 'iam' || lower[4] === 'acl' || lower[4] === 'defaultobjectacl') return twin(`GRANT ALL ON TABLE ${table(name)} TO PUBLIC`);
    const o = request.body.json;
    if (segs.length === 4 && (m === 'PATCH' || m === 'PUT') && isObject(o)) {
      const texts: string[] = [];
      if (Array.isArray(o.acl) || Array.isArray(o.defaultObjectAcl) || isObject(o.iamConfiguration)) texts.push(`GRANT ALL ON TABLE ${table(name)} TO PUBLIC`);
      const rules = isObject(o.lifecycle) && Array.isArray(o.lifecycle.rule) ? o.lifecycle.rule.slice(0, MAX_STATEMENTS) : [];
      for (const r of rules) {
        if (!isObject(r) || !isObject(r.action) || String(r.action.type).toLowerCase() !== 'delete') continue;
        const c = isObject(r.condition) ? r.condition : {};
        const prefixes = Array.isArray(c.matchesPrefix) ? c.matchesPrefix.map(String) : [];
        const narrowed = Object.keys(c).some((k) => ['matchesSuffix', 'matchesStorageClass', 'numNewerVersions', 'isLive', 'daysSinceNoncurrentTime', 'noncurrentTimeBefore'].includes(k));
        // A prefix list any object name starts with (`[""]`) is no narrowing.
        texts.push(prefixes.length && prefixes.every((p) => p !== '') ? `DELETE FROM ${table(name)} WHERE ${prefixes.map((p) => `object_key LIKE ${literal(`${likeEscape(p)}%`)}`).join(' OR ')}` : lifecycleTwin(name, [], narrowed));
      }
      if (texts.length) return twin(...texts);
    }
  }
  return undefined;
}

// ---------------------------------------------------------------- pg_graphql, search engines' filters and keys

/**
 * pg_graphql's collection mutations on a host no module owns (self-hosted PostgreSQL behind
 * `/graphql/v1`, a gateway's `/graphql`; twenty-ninth pass: Supabase's own was read, any other host's
 * `deleteFromUsersCollection(atMost: 1000)` was a plain medium POST): `deleteFrom<T>Collection` and
 * `update<T>Collection` as the DELETE and UPDATE they run under their `filter` (none is every row up
 * to `atMost`, and pg_graphql rolls back past it: a table that small loses every row).
 */
function pgGraphqlSql(request: RequestInfo): SqlSource | undefined {
  if (!request.segments.some((x) => x.toLowerCase() === 'graphql')) return undefined;
  const o = request.body.json;
  const query = isObject(o) && typeof o.query === 'string' ? o.query : undefined;
  if (query === undefined || !/Collection\b/.test(query)) return undefined;
  const fields = fieldArguments(query, isObject(o) ? o.variables : undefined);
  if (!fields) return undefined;
  const texts: string[] = [];
  for (const { field, args } of fields.slice(0, MAX_STATEMENTS)) {
    const m = /^(deleteFrom|update)(.+)Collection$/.exec(field);
    if (!m) continue;
    const cond = pgGraphqlFilterSql(args.filter);
    if (cond === undefined) return { error: 'a pg_graphql filter past what Airlock reads' };
    texts.push(m[1] === 'update' ? `UPDATE ${table(m[2]!)} SET pg_graphql_row = 1${where(cond)}` : `DELETE FROM ${table(m[2]!)}${where(cond)}`);
  }
  return texts.length ? { texts, dialect: 'postgresql', written: true } : undefined;
}

/** A filter value as SQL: numbers as numbers, the rest as text. */
const filterValue = (v: string): string => (/^-?\d+(\.\d+)?$/.test(v) ? v : literal(v));

/**
 * Meilisearch's filter expression (`genre = horror AND year 1990 TO 2000`, `id EXISTS`, `tag IN
 * [a, b]`, `NOT …`, a list of them ANDed, a nested list ORed) as SQL's condition; unread
 * (`_geoRadius`, an operator it has not) throws.
 */
function meiliFilter(f: unknown, depth = 0): string {
  if (depth > MAX_DEPTH) throw new Unreadable();
  if (Array.isArray(f)) {
    const parts = f.slice(0, MAX_CONDITIONS).map((x) => (Array.isArray(x) ? `(${x.map((y) => `(${meiliFilter(y, depth + 1)})`).join(' OR ') || 'FALSE'})` : `(${meiliFilter(x, depth + 1)})`));
    return parts.length ? parts.join(' AND ') : 'TRUE';
  }
  if (typeof f !== 'string' || f.length > 10_000) throw new Unreadable();
  const toks: string[] = [];
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|(!=|>=|<=|[=<>()[\],])|([^\s"'!=<>()[\],]+))/y;
  let at = 0;
  const end = f.trimEnd().length;
  const quoted = new Set<number>();
  while (at < end) {
    re.lastIndex = at;
    const m = re.exec(f);
    if (!m) throw new Unreadable();
    at = re.lastIndex;
    if (m[1] !== undefined || m[2] !== undefined) quoted.add(toks.length);
    toks.push((m[1] ?? m[2] ?? m[3] ?? m[4]!).replace(/\\(.)/g, '$1'));
  }
  let i = 0;
  const up = (k: number): string => (quoted.has(k) ? '' : (toks[k] ?? '').toUpperCase());
  const val = (): string => {
    const t = toks[i++];
    if (t === undefined) throw new Unreadable();
    return quoted.has(i - 1) ? literal(t) : filterValue(t);
  };
  const or = (): string => {
    const parts = [and()];
    while (up(i) === 'OR') i++, parts.push(and());
    return parts.length > 1 ? `(${parts.join(' OR ')})` : parts[0]!;
  };
  const and = (): string => {
    const parts = [not()];
    while (up(i) === 'AND') i++, parts.push(not());
    return parts.join(' AND ');
  };
  const not = (): string => {
    if (up(i) === 'NOT') return i++, `NOT (${not()})`;
    if (toks[i] === '(' && !quoted.has(i)) {
      i++;
      const inner = or();
      if (toks[i++] !== ')') throw new Unreadable();
      return `(${inner})`;
    }
    const name = toks[i++];
    if (name === undefined || (name.startsWith('_geo') && !quoted.has(i - 1))) throw new Unreadable();
    const col = column(name);
    const op = up(i);
    if (['=', '!=', '>', '>=', '<', '<='].includes(toks[i] ?? '') && !quoted.has(i)) {
      const o = toks[i++]!;
      return `${col} ${o === '!=' ? '<>' : o} ${val()}`;
    }
    if (op === 'EXISTS') return i++, `${col} IS NOT NULL`;
    if (op === 'NOT' && up(i + 1) === 'EXISTS') return (i += 2), `${col} IS NULL`;
    if (op === 'IS') {
      const neg = up(i + 1) === 'NOT';
      const what = up(i + (neg ? 2 : 1));
      i += neg ? 3 : 2;
      if (what === 'NULL') return `${col} IS ${neg ? 'NOT ' : ''}NULL`;
      if (what === 'EMPTY') return `${col} ${neg ? '<>' : '='} ''`;
      throw new Unreadable();
    }
    const inList = (negated: boolean): string => {
      if (toks[i++] !== '[') throw new Unreadable();
      const vs: string[] = [];
      while (i < toks.length && toks[i] !== ']') {
        if (toks[i] === ',') i++;
        else vs.push(val());
      }
      i++;
      return vs.length ? `${col} ${negated ? 'NOT IN' : 'IN'} (${vs.join(', ')})` : negated ? 'TRUE' : 'FALSE';
    };
    if (op === 'IN') return i++, inList(false);
    if (op === 'NOT' && up(i + 1) === 'IN') return (i += 2), inList(true);
    if (op === 'CONTAINS') return i++, `${col} LIKE ${literal(`%${likeEscape(toks[i++] ?? '')}%`)}`;
    if (op === 'STARTS' && up(i + 1) === 'WITH') return (i += 2), `${col} LIKE ${literal(`${likeEscape(toks[i++] ?? '')}%`)}`;
    // `attr low TO high`.
    if (toks[i + 1] !== undefined && up(i + 1) === 'TO') {
      const lo = val();
      i++;
      return `${col} BETWEEN ${lo} AND ${val()}`;
    }
    throw new Unreadable();
  };
  const out = or();
  if (i < toks.length) throw new Unreadable();
  return out;
}

/**
 * Typesense's `filter_by` (`num_pages:>100 && author:=x`, `tags:[a,b]`, `year:[1990..2000]`,
 * `name:fo*`, `id:!=x`, `||`, parentheses, backticked values) as SQL's condition; unread throws.
 */
function typesenseFilter(f: string): string {
  if (f.length > 10_000) throw new Unreadable();
  let i = 0;
  const ws = (): void => {
    while (i < f.length && /\s/.test(f[i]!)) i++;
  };
  const value = (): string => {
    ws();
    if (f[i] === '`') {
      const e = f.indexOf('`', i + 1);
      if (e < 0) throw new Unreadable();
      const v = f.slice(i + 1, e);
      i = e + 1;
      return literal(v);
    }
    let j = i;
    while (j < f.length && !/[,\])&|\s]/.test(f[j]!)) j++;
    const v = f.slice(i, j);
    i = j;
    if (v === '') throw new Unreadable();
    return v.endsWith('*') ? `LIKE:${v.slice(0, -1)}` : filterValue(v);
  };
  const atom = (): string => {
    ws();
    if (f[i] === '(') {
      i++;
      const inner = or();
      ws();
      if (f[i++] !== ')') throw new Unreadable();
      return `(${inner})`;
    }
    const colon = f.indexOf(':', i);
    if (colon < 0) throw new Unreadable();
    const col = column(f.slice(i, colon).trim());
    i = colon + 1;
    ws();
    let op = '=';
    for (const o of ['!=', '>=', '<=', '>', '<', '=']) {
      if (f.startsWith(o, i)) {
        op = o;
        i += o.length;
        break;
      }
    }
    const sqlOp = op === '!=' ? '<>' : op;
    const one = (v: string): string => {
      if (v.startsWith('LIKE:')) return `${col} ${op === '!=' ? 'NOT LIKE' : 'LIKE'} ${literal(`${likeEscape(v.slice(5))}%`)}`;
      return `${col} ${sqlOp} ${v}`;
    };
    ws();
    if (f[i] === '[') {
      i++;
      const parts: string[] = [];
      for (let n = 0; n < MAX_CONDITIONS; n++) {
        ws();
        if (f[i] === ']') break;
        const a = value();
        // A range: `[lo..hi]`.
        const range = /^(-?\d+(?:\.\d+)?)\.\.(-?\d+(?:\.\d+)?)$/.exec(a);
        parts.push(range ? `${col} BETWEEN ${range[1]} AND ${range[2]}` : one(a));
        ws();
        if (f[i] === ',') i++;
      }
      if (f[i++] !== ']') throw new Unreadable();
      return parts.length ? `(${parts.join(op === '!=' ? ' AND ' : ' OR ')})` : 'FALSE';
    }
    return one(value());
  };
  const and = (): string => {
    const parts = [atom()];
    for (ws(); f.startsWith('&&', i); ws()) i += 2, parts.push(atom());
    return parts.join(' AND ');
  };
  const or = (): string => {
    const parts = [and()];
    for (ws(); f.startsWith('||', i); ws()) i += 2, parts.push(and());
    return parts.length > 1 ? `(${parts.join(' OR ')})` : parts[0]!;
  };
  const out = or();
  ws();
  if (i < f.length) throw new Unreadable();
  return out;
}

/**
 * Search engines' deletes and updates by filter, and their keys (twenty-ninth pass: each a plain
 * medium write): Meilisearch's `POST /indexes/<uid>/documents/delete {filter}` (`id > 0`, `id
 * EXISTS`: every document), `POST /swap-indexes` (each index's documents replaced by the other's);
 * Typesense's `DELETE|PATCH /collections/<c>/documents?filter_by=…` and `?truncate=true`; an API key
 * made or changed (`POST|PATCH /keys {actions}`: Meilisearch's and Typesense's, `["*"]` every action)
 * a GRANT. The filters are written as SQL's condition, so the SQL reader's rules judge them.
 */
function searchEngineSql(request: RequestInfo): SqlSource | undefined {
  const segs = request.segments;
  const lower = segs.map((x) => x.toLowerCase());
  const n = segs.length;
  const m = request.effective_method ?? request.method;
  const o = request.body.json;
  const twin = (...texts: string[]): SqlSource => ({ texts, dialect: 'postgresql', written: true });
  try {
    if (m === 'POST' && lower[n - 1] === 'delete' && lower[n - 2] === 'documents' && lower[n - 4] === 'indexes' && isObject(o) && o.filter !== undefined) {
      return twin(`DELETE FROM ${table(segs[n - 3]!)}${where(meiliFilter(o.filter))}`);
    }
    if (m === 'POST' && lower[n - 1] === 'swap-indexes' && Array.isArray(o)) {
      const names = o.slice(0, MAX_STATEMENTS).flatMap((x) => (isObject(x) && Array.isArray(x.indexes) ? x.indexes.map(String) : []));
      return names.length ? twin(...names.map((x) => `DROP TABLE ${table(x)}`)) : undefined;
    }
    if ((m === 'DELETE' || m === 'PATCH') && lower[n - 1] === 'documents' && lower[n - 3] === 'collections') {
      const name = table(segs[n - 2]!);
      if (m === 'DELETE' && request.query.truncate?.some((v) => v.toLowerCase() === 'true')) return twin(`DELETE FROM ${name}`);
      const fb = request.query.filter_by;
      if (fb === undefined) return undefined;
      if (fb.length !== 1) throw new Unreadable();
      const cond = typesenseFilter(fb[0]!);
      return twin(m === 'DELETE' ? `DELETE FROM ${name}${where(cond)}` : `UPDATE ${name} SET typesense_document = 1${where(cond)}`);
    }
  } catch (e) {
    if (e instanceof Unreadable) return { error: 'a search engine filter Airlock does not read' };
    throw e;
  }
  if ((m === 'POST' || m === 'PATCH') && (lower[n - 1] === 'keys' || lower[n - 2] === 'keys') && isObject(o) && Array.isArray(o.actions)) return twin('GRANT ALL ON SCHEMA search TO search_key');
  // Typesense's schema change: `PATCH /collections/<c> {fields: [{name, drop: true}]}` drops the field from every document.
  if (m === 'PATCH' && lower[n - 2] === 'collections' && isObject(o) && Array.isArray(o.fields)) {
    const dropped = o.fields.slice(0, MAX_STATEMENTS).filter((x) => isObject(x) && x.drop === true);
    if (dropped.length) return twin(...dropped.map((x) => `ALTER TABLE ${table(segs[n - 1]!)} DROP COLUMN ${column(String((x as Record<string, unknown>).name ?? 'field'))}`));
  }
  return undefined;
}

/**
 * Elasticsearch's and OpenSearch's retention and protections (twenty-ninth pass: each a plain
 * medium write): an ILM policy with a `delete` phase (`PUT _ilm/policy/<p>`; every index it
 * manages deleted once past `min_age`, `0ms` at once), an ISM policy with a `delete` action, a data
 * stream's `_lifecycle {data_retention}`, a snapshot deleted (`DELETE _snapshot/<repo>/<snap>`,
 * what a restore needs), and `action.destructive_requires_name: false` (the guard on `DELETE /*`
 * turned off).
 */
function esRetentionSql(request: RequestInfo): SqlSource | undefined {
  const lower = request.segments.map((x) => x.toLowerCase());
  const n = lower.length;
  const m = request.effective_method ?? request.method;
  if (m === 'GET' || m === 'HEAD') return undefined;
  const o = request.body.json;
  const twin = (...texts: string[]): SqlSource => ({ texts, dialect: 'postgresql', written: true });
  const policy = isObject(o) && isObject(o.policy) ? o.policy : undefined;
  if (lower[0] === '_ilm' && lower[1] === 'policy' && n === 3 && policy && isObject(policy.phases) && isObject(policy.phases.delete)) return twin(`DROP TABLE ${table(`ilm_${request.segments[2]}`)}`);
  const ism = (lower[0] === '_plugins' && lower[1] === '_ism') || lower[0] === '_opendistro';
  if (ism && lower.includes('policies') && policy && Array.isArray(policy.states) && JSON.stringify(policy.states).includes('"delete"')) return twin(`DROP TABLE ${table(`ism_${request.segments[n - 1]}`)}`);
  if (lower[0] === '_data_stream' && lower[2] === '_lifecycle' && isObject(o) && o.data_retention !== undefined && o.data_retention !== null) return twin(`DELETE FROM ${table(request.segments[1]!)}`);
  if (lower[0] === '_snapshot' && n === 3 && m === 'DELETE') return twin(`DROP TABLE ${table(`snapshot_${request.segments[2]}`)}`);
  if (lower[0] === '_cluster' && lower[1] === 'settings' && isObject(o)) {
    const flat = JSON.stringify(o);
    if (/"(action\.)?destructive_requires_name"\s*:\s*(false|"false")/.test(flat) || (/"destructive_requires_name"\s*:\s*(false|"false")/.test(flat))) return twin('ALTER TABLE elasticsearch DISABLE TRIGGER ALL');
  }
  return undefined;
}

// ---------------------------------------------------------------- Couchbase (SQL++), Loki

/**
 * A SQL++ (N1QL) statement written for the SQL grammars: `"…"` strings as '…' literals, `` `…` ``
 * names as "…" names, `IS [NOT] MISSING` and `IS [NOT] VALUED` as the NULL tests they are for a
 * row's choice (`META().id IS NOT MISSING` holds for every document), `META(…).id` as a column.
 */
function sqlppText(text: string): string {
  let out = '';
  const n = Math.min(text.length, MAX_TEXT);
  for (let i = 0; i < n; i++) {
    const c = text[i]!;
    if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      let v = '';
      while (j < n) {
        if (text[j] === '\\' && j + 1 < n) {
          v += text[j + 1];
          j += 2;
        } else if (text[j] === c && text[j + 1] === c) {
          v += c;
          j += 2;
        } else if (text[j] === c) break;
        else v += text[j++];
      }
      out += c === '`' ? `"${v.replaceAll('"', '""')}"` : `'${v.replaceAll("'", "''")}'`;
      i = j;
    } else out += c;
  }
  return out
    .replace(/\bIS\s+NOT\s+MISSING\b|\bIS\s+VALUED\b/gi, 'IS NOT NULL')
    .replace(/\bIS\s+MISSING\b|\bIS\s+NOT\s+VALUED\b/gi, 'IS NULL')
    .replace(/\bMETA\s*\([A-Za-z0-9_" ]{0,130}\)\.([A-Za-z_][A-Za-z0-9_]{0,62})/gi, 'meta_$1')
    .replace(/\bMETA\s*\([A-Za-z0-9_" ]{0,130}\)/gi, 'meta_document');
}

/** A statement's first word in upper case, after blanks and block comments (a plain scan). */
function firstWord(st: string): string {
  let i = 0;
  for (let k = 0; k < 64; k++) {
    while (i < st.length && /\s/.test(st[i]!)) i++;
    if (!st.startsWith('/*', i)) break;
    const e = st.indexOf('*/', i + 2);
    if (e < 0) return '';
    i = e + 2;
  }
  let j = i;
  while (j < st.length && j - i < 32 && /[A-Za-z]/.test(st[j]!)) j++;
  return st.slice(i, j).toUpperCase();
}

/**
 * Couchbase (twenty-ninth pass: each a plain medium write): a SQL++ write POSTed to its query
 * service (`/query/service`, `/analytics/service`; `{statement}`, a form or `?statement=`) is read as
 * SQL (sqlppText), so a condition every document meets (`IS NOT MISSING`), `DROP COLLECTION|BUCKET`,
 * `MERGE … THEN DELETE` and statements no grammar reads fail closed; `USE KEYS` names its documents.
 * A read is left as before. Its cluster API: a bucket's `controller/doFlush` empties it, an RBAC
 * user or group written is a GRANT.
 */
function couchbaseSql(request: RequestInfo): SqlSource | undefined {
  const lower = request.segments.map((x) => x.toLowerCase());
  const n = lower.length;
  const m = request.effective_method ?? request.method;
  const twin = (...texts: string[]): SqlSource => ({ texts, dialect: 'postgresql', written: true });
  if (m === 'POST' && lower[n - 1] === 'doflush' && lower[n - 2] === 'controller' && lower[n - 4] === 'buckets') return twin(`DELETE FROM ${table(request.segments[n - 3]!)}`);
  if (lower[0] === 'settings' && lower[1] === 'rbac' && (lower[2] === 'users' || lower[2] === 'groups') && m !== 'GET' && m !== 'HEAD') return twin('GRANT ALL ON SCHEMA couchbase TO couchbase_user');
  if (!(lower[n - 1] === 'service' && (lower[n - 2] === 'query' || lower[n - 2] === 'analytics'))) return undefined;
  const o = request.body.json;
  const form = o === undefined ? request.body.form : undefined;
  const statements = [...(isObject(o) && typeof o.statement === 'string' ? [o.statement] : []), ...(form?.statement ?? []), ...(request.query.statement ?? [])];
  const texts: string[] = [];
  for (const st of statements.slice(0, MAX_STATEMENTS)) {
    const head = firstWord(st);
    if (['SELECT', 'EXPLAIN', 'ADVISE', 'INFER', 'WITH'].includes(head) && !/\bCURL\s*\(/i.test(st)) continue;
    if (/\bCURL\s*\(/i.test(st)) {
      texts.push(`COPY couchbase TO PROGRAM 'curl'`);
      continue;
    }
    // An INSERT or UPSERT writes the documents its keys name (`(KEY, VALUE) VALUES ("k", {…})`, JSON no grammar reads).
    const target = /^\s*(?:INSERT|UPSERT)\s+INTO\s+([^\s(;]+)/i.exec(st);
    if (target && (head === 'INSERT' || head === 'UPSERT')) {
      texts.push(`INSERT INTO ${table(target[1]!.replace(/[`"]/g, ''))} (couchbase_document) VALUES (1)`);
      continue;
    }
    const keyed = /\bUSE\s+(?:PRIMARY\s+)?KEYS\b/i.exec(st);
    const into = /^\s*(?:DELETE\s+FROM|UPDATE)\s+([^\s;]+)/i.exec(st);
    if (keyed && into) {
      texts.push(head === 'DELETE' ? `DELETE FROM ${table(into[1]!.replace(/[`"]/g, ''))} WHERE meta_id = 'use keys'` : `UPDATE ${table(into[1]!.replace(/[`"]/g, ''))} SET couchbase_document = 1 WHERE meta_id = 'use keys'`);
      continue;
    }
    texts.push(sqlppText(st));
  }
  if (!texts.length) return undefined;
  const args = isObject(o) && Array.isArray(o.args) ? o.args : undefined;
  return { texts, ...(args && texts.length === 1 ? { params: [args] } : {}) };
}

/** A time a Loki or InfluxDB delete names (Unix seconds, nanoseconds or RFC 3339) in milliseconds, NaN when absent. */
function instant(v: string | undefined): number {
  if (v === undefined || v === '') return NaN;
  if (/^\d+(\.\d+)?$/.test(v)) {
    const x = Number(v);
    return x > 1e17 ? x / 1e6 : x > 1e14 ? x / 1e3 : x > 1e11 ? x : x * 1000;
  }
  return Date.parse(v);
}

/**
 * Loki's log deletion (`POST|PUT /loki/api/v1/delete?query=…&start=…&end=…`; twenty-ninth pass: a
 * plain medium write): its stream selector read as Prometheus's (`{job=~".+"}` is every stream),
 * line filters as a narrowing, and a window from before 1970's second day to after the request is
 * all time.
 */
function lokiSql(request: RequestInfo): SqlSource | undefined {
  const lower = request.segments.map((x) => x.toLowerCase());
  const n = lower.length;
  const m = request.effective_method ?? request.method;
  if (!(lower[n - 1] === 'delete' && lower.includes('loki') && (m === 'POST' || m === 'PUT'))) return undefined;
  const form = request.body.json === undefined ? request.body.form : undefined;
  const queries = [...(request.query.query ?? []), ...(form?.query ?? [])];
  if (queries.length !== 1) return { error: 'a Loki delete whose query Airlock does not read' };
  const q = queries[0]!.trim();
  const close = q.indexOf('}');
  const cond = close > 0 ? promSelector(q.slice(0, close + 1)) : undefined;
  if (cond === undefined) return { error: 'a Loki delete whose selector Airlock does not read' };
  const filters: string[] = [];
  const re = /\s*(\|=|!=|\|~|!~)\s*"((?:[^"\\]|\\.)*)"/y;
  let at = close + 1;
  while (at < q.length) {
    re.lastIndex = at;
    const f = re.exec(q);
    if (!f) return { error: 'a Loki delete whose line filter Airlock does not read' };
    at = re.lastIndex;
    const v = f[2]!.replace(/\\(.)/g, '$1');
    filters.push(f[1] === '|=' ? `log_line LIKE ${literal(`%${likeEscape(v)}%`)}` : f[1] === '!=' ? `log_line NOT LIKE ${literal(`%${likeEscape(v)}%`)}` : `log_line ${f[1] === '|~' ? '~' : '!~'} ${literal(v)}`);
  }
  const start = instant(request.query.start?.[0] ?? form?.start?.[0]);
  const end = instant(request.query.end?.[0] ?? form?.end?.[0]);
  const whole = !(start > Date.parse('1970-01-02T00:00:00Z')) && !(end < Date.parse(request.time));
  const window = whole ? [] : ['log_time BETWEEN 1 AND 2'];
  const all = [...window, ...(cond === 'TRUE' ? [] : [`(${cond})`]), ...filters].join(' AND ') || 'TRUE';
  return { texts: [`DELETE FROM loki${where(all)}`], dialect: 'postgresql', written: true };
}

// ---------------------------------------------------------------- SurrealDB (SurrealQL)

/** SurrealQL's tokens: Cypher's, with its other comments (`--`, `#`) and `⟨…⟩` names. Bounded by the text. */
function surrealTokens(s: string): Token[] {
  const n = Math.min(s.length, MAX_TEXT);
  let out = '';
  // Comments and strings at once, so a `#` or `--` in a string stays: `--`/`#` comments become `//` for cypherTokens.
  for (let i = 0; i < n; i++) {
    const c = s[i]!;
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < n && s[j] !== c) j += s[j] === '\\' ? 2 : 1;
      out += s.slice(i, j + 1);
      i = j;
    } else if (c === '#' || (c === '-' && s[i + 1] === '-')) {
      const e = s.indexOf('\n', i);
      out += '\n';
      i = e < 0 ? n : e;
    } else if (c === '\u27e8') {
      const e = s.indexOf('\u27e9', i + 1);
      out += `\`${s.slice(i + 1, e < 0 ? n : e).replaceAll('`', '')}\``;
      i = e < 0 ? n : e;
    } else out += c;
  }
  return cypherTokens(out);
}

/** A SurrealQL WHERE as SQL's condition; undefined where a token has no SQL twin (then it narrows nothing). */
function surrealWhere(tokens: Token[]): string | undefined {
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const up = t.text.toUpperCase();
    if (t.kind === 'string') out.push(literal(t.text));
    else if (t.kind === 'num') out.push(/^\d+(\.\d+)?([eE][-+]?\d+)?$/.test(t.text) ? t.text : 'NULL');
    else if (t.kind === 'word') {
      if (['AND', 'OR', 'NOT', 'IS', 'NULL', 'TRUE', 'FALSE', 'IN', 'LIKE'].includes(up)) out.push(up);
      else if (up === 'NONE') out.push('NULL');
      else if (tokens[i + 1]?.text === '(' || tokens[i + 1]?.text === '::') return undefined;
      else {
        let name = t.text;
        while (tokens[i + 1]?.text === '.' && tokens[i + 2]?.kind === 'word') {
          name += `_${tokens[i + 2]!.text}`;
          i += 2;
        }
        out.push(column(name));
      }
    } else if (['=', '<', '>', '<=', '>=', '(', ')', ',', '+', '-', '*', '/'].includes(t.text)) out.push(t.text);
    else if (t.text === '==') out.push('=');
    else if (t.text === '!=') out.push('<>');
    else if (t.text === '&&') out.push('AND');
    else if (t.text === '||') out.push('OR');
    else if (t.text === '!') out.push('NOT');
    else if (t.text === '[') out.push('(');
    else if (t.text === ']') out.push(')');
    else return undefined;
  }
  return out.length ? out.join(' ') : undefined;
}

/** One SurrealQL target (`user`, `user:tobie`, `user:1..9`, `user:..`) as a table and the condition choosing its records. */
function surrealTarget(tokens: Token[]): { table: string; cond: string } {
  const first = tokens[0];
  if (first?.kind !== 'word') throw new Unreadable();
  if (tokens.length === 1) return { table: first.text, cond: 'TRUE' };
  if (tokens[1]?.text !== ':' && tokens[1]?.text !== '::') throw new Unreadable();
  const id = tokens.slice(2);
  // A number's token may hold the range (`1..5`, `1..`): split it where the range is.
  const dotted = id.findIndex((x) => x.kind === 'num' && x.text.includes('..'));
  if (dotted >= 0) {
    const [lo, hi] = [id[dotted]!.text.slice(0, id[dotted]!.text.indexOf('..')), id[dotted]!.text.slice(id[dotted]!.text.indexOf('..') + 2)];
    id.splice(dotted, 1, ...(lo ? [{ kind: 'num' as const, text: lo }] : []), { kind: 'sym', text: '..' }, ...(hi ? [{ kind: 'num' as const, text: hi }] : []));
  }
  const range = id.findIndex((x) => x.text === '..');
  const value = (ts: Token[]): string => {
    if (ts.length !== 1 || ts[0]!.kind === 'param' || ts[0]!.kind === 'sym') throw new Unreadable();
    return ts[0]!.kind === 'num' && /^\d+$/.test(ts[0]!.text) ? ts[0]!.text : literal(ts[0]!.text);
  };
  if (range < 0) return { table: first.text, cond: `id = ${value(id)}` };
  // A record range: each bound that is given narrows it (`user:..` is every record).
  const bounds = [...(range > 0 ? [`id >= ${value(id.slice(0, range))}`] : []), ...(range < id.length - 1 ? [`id <= ${value(id.slice(range + 1).filter((x) => x.text !== '='))}`] : [])];
  return { table: first.text, cond: bounds.length ? bounds.join(' AND ') : 'TRUE' };
}

const surrealClauseEnds = new Set(['WHERE', 'RETURN', 'TIMEOUT', 'PARALLEL', 'EXPLAIN', 'SET', 'CONTENT', 'MERGE', 'REPLACE', 'PATCH', 'UNSET', 'WITH']);
const surrealWriting = new Set(['DELETE', 'UPDATE', 'UPSERT', 'REMOVE', 'DEFINE', 'ALTER', 'INSERT', 'CREATE', 'RELATE', 'KILL', 'ACCESS', 'REBUILD', 'IMPORT']);

/** The twins of one SurrealQL statement's tokens. */
function surrealStatement(ts: Token[]): string[] {
  const up = (i: number): string => (ts[i]?.kind === 'word' ? ts[i]!.text.toUpperCase() : '');
  const head = up(0);
  // Anything that writes or calls out inside another statement (a subquery, a block, `http::post`) is not read.
  const nested = ts.slice(1).some((x, i) => (x.kind === 'word' && surrealWriting.has(x.text.toUpperCase()) && ts[i]!.text !== '.') || x.text === '{' || x.text === '::');
  if (head === 'DELETE' || head === 'UPDATE' || head === 'UPSERT') {
    let i = 1;
    if (up(i) === 'FROM' && head === 'DELETE') i++;
    if (up(i) === 'ONLY') i++;
    const targets: Token[][] = [[]];
    for (; i < ts.length && !surrealClauseEnds.has(up(i)); i++) {
      if (ts[i]!.text === ',') targets.push([]);
      else targets[targets.length - 1]!.push(ts[i]!);
    }
    const w = ts.findIndex((x, k) => k >= i && x.kind === 'word' && x.text.toUpperCase() === 'WHERE');
    let cond = 'TRUE';
    if (w >= 0) {
      let e = w + 1;
      while (e < ts.length && !['RETURN', 'TIMEOUT', 'PARALLEL', 'EXPLAIN'].includes(up(e))) e++;
      const c = surrealWhere(ts.slice(w + 1, e));
      if (c !== undefined) cond = `(${c})`;
    }
    // A write or an outside call inside the statement (`SET x = (DELETE …)`, `http::post`) is not read.
    const inner = ts.slice(1).some((x) => (x.kind === 'word' && surrealWriting.has(x.text.toUpperCase())) || x.text === '::');
    return [...(inner ? ['COPY surreal FROM PROGRAM \'unread\''] : []), ...targets.map((tk) => {
      const target = surrealTarget(tk);
      const c = target.cond === 'TRUE' ? cond : cond === 'TRUE' ? target.cond : `${target.cond} AND ${cond}`;
      return head === 'DELETE' ? `DELETE FROM ${table(target.table)}${where(c)}` : `UPDATE ${table(target.table)} SET surreal_record = 1${where(c)}`;
    })];
  }
  if (head === 'REMOVE') {
    const kind = up(1);
    let i = 2;
    if (up(i) === 'IF' && up(i + 1) === 'EXISTS') i += 2;
    const name = ts[i]?.text ?? 'surreal';
    const on = ts.findIndex((x, k) => k > i && x.kind === 'word' && x.text.toUpperCase() === 'ON');
    const onTable = on >= 0 ? (up(on + 1) === 'TABLE' ? ts[on + 2]?.text : ts[on + 1]?.text) ?? 'surreal' : 'surreal';
    if (kind === 'TABLE') return [`DROP TABLE ${table(name)}`];
    if (kind === 'NAMESPACE' || kind === 'NS' || kind === 'DATABASE' || kind === 'DB') return [`DROP SCHEMA ${table(name)} CASCADE`];
    if (kind === 'FIELD') return [`ALTER TABLE ${table(onTable)} DROP COLUMN ${column(name)}`];
    if (kind === 'USER' || kind === 'ACCESS' || kind === 'TOKEN' || kind === 'SCOPE') return [`DROP ROLE ${column(name)}`];
    return [`DROP TABLE ${table(`${kind.toLowerCase()}_${name}`)}`];
  }
  if (head === 'DEFINE') {
    const kind = up(1);
    const words = new Set(ts.filter((x) => x.kind === 'word').map((x) => x.text.toUpperCase()));
    if (kind === 'USER' || kind === 'ACCESS' || kind === 'TOKEN' || kind === 'SCOPE' || words.has('PERMISSIONS')) return ['GRANT ALL ON SCHEMA surreal TO surreal_user'];
    if (kind === 'EVENT') return ['CREATE TRIGGER surreal_event AFTER INSERT ON surreal FOR EACH ROW EXECUTE FUNCTION surreal_event()'];
    // OVERWRITE replaces what was there (a table's definition with `DROP` or `AS SELECT` discards its records).
    if (words.has('OVERWRITE') || (kind === 'TABLE' && (words.has('DROP') || words.has('AS')))) return [`DROP TABLE ${table(ts[2]?.text ?? 'surreal')}`];
    return nested ? ['COPY surreal FROM PROGRAM \'unread\''] : [`CREATE TABLE IF NOT EXISTS ${table(`surreal_${kind.toLowerCase()}`)} (id int)`];
  }
  if (nested) return ['COPY surreal FROM PROGRAM \'unread\''];
  if (head === 'CREATE' || head === 'INSERT' || head === 'RELATE') return [`INSERT INTO ${table(ts[head === 'INSERT' ? (up(1) === 'INTO' ? 2 : up(1) === 'IGNORE' ? 3 : 1) : 1]?.text ?? 'surreal')} (surreal_record) VALUES (1)`];
  if (['SELECT', 'INFO', 'SHOW', 'RETURN', 'LET', 'USE', 'BEGIN', 'COMMIT', 'CANCEL', 'OPTION', 'SLEEP', 'LIVE'].includes(head)) return ['SELECT 1'];
  return ['COPY surreal FROM PROGRAM \'unread\''];
}

const surrealHeads = new Set(['SELECT', 'DELETE', 'UPDATE', 'UPSERT', 'CREATE', 'INSERT', 'RELATE', 'REMOVE', 'DEFINE', 'INFO', 'SHOW', 'RETURN', 'LET', 'USE', 'BEGIN', 'COMMIT', 'CANCEL', 'OPTION', 'SLEEP', 'LIVE', 'KILL', 'ALTER', 'REBUILD', 'THROW', 'IF', 'FOR', 'ACCESS']);

/** SurrealQL statements: a text cut at `;` outside strings and comments (the tokens keep them apart). */
function surrealTwins(text: string): string[] {
  if (text.length > MAX_TEXT) return ['COPY surreal FROM PROGRAM \'unread\''];
  const statements: Token[][] = [[]];
  for (const tk of surrealTokens(text)) {
    if (tk.kind === 'sym' && tk.text === ';') statements.push([]);
    else if (statements.length <= MAX_STATEMENTS) statements[statements.length - 1]!.push(tk);
  }
  const heads = statements.filter((x) => x.length);
  // Words that open no SurrealQL statement (`red shoes` as a JSON-RPC query's text) are not SurrealQL.
  if (!heads.some((x) => x[0]!.kind === 'word' && surrealHeads.has(x[0]!.text.toUpperCase()))) return [];
  try {
    return heads.flatMap(surrealStatement);
  } catch (e) {
    if (e instanceof Unreadable) return ['COPY surreal FROM PROGRAM \'unread\''];
    throw e;
  }
}

/**
 * Whether a text holds what only SurrealQL has, read in its tokens (comments dropped): a statement
 * opened by `REMOVE`, `DEFINE`, `UPSERT`, `RELATE`, `INFO`, `USE NS|DB`, a `DELETE` of a table
 * without FROM (at a statement's start or in parentheses), a write to a record id (`user:1`), or
 * its `http::` functions.
 */
function isSurrealQL(text: string): boolean {
  const ts = surrealTokens(text.slice(0, MAX_TEXT));
  const up = (k: number): string => (ts[k]?.kind === 'word' ? ts[k]!.text.toUpperCase() : '');
  for (let k = 0; k < ts.length; k++) {
    const w = up(k);
    if (w === 'HTTP' && ts[k + 1]?.text === '::') return true;
    const opens = k === 0 || ts[k - 1]!.text === ';' || ts[k - 1]!.text === '(';
    if (!opens || !w) continue;
    if (['REMOVE', 'DEFINE', 'UPSERT', 'RELATE', 'INFO'].includes(w)) return true;
    if (w === 'USE' && ['NS', 'NAMESPACE', 'DB', 'DATABASE'].includes(up(k + 1))) return true;
    if (w === 'DELETE' && up(k + 1) !== 'FROM' && ts[k + 1]?.kind === 'word') return true;
    if (w === 'UPDATE' || w === 'DELETE' || w === 'CREATE') {
      let j = k + 1;
      if (up(j) === 'FROM') j++;
      if (up(j) === 'ONLY') j++;
      if (ts[j]?.kind === 'word' && ts[j + 1]?.text === ':') return true;
    }
  }
  return false;
}

/**
 * SurrealDB's HTTP API: a SurrealQL text POSTed to `/sql` (marked by its `surreal-ns`/`surreal-db`
 * headers or by a statement only SurrealQL has), its RPC (`POST /rpc {method: "query"|"delete"|
 * "update"|…, params}`) and its key API (`DELETE /key/<table>` is every record). Each was a medium
 * write: `DELETE user;` deletes every record of `user` and is no SQL a grammar reads, `REMOVE
 * TABLE` drops it, `DEFINE USER … ROLES OWNER` makes an owner.
 */
function surrealSql(request: RequestInfo): SqlSource | undefined {
  const segs = request.segments.map((x) => x.toLowerCase());
  const n = segs.length;
  const m = request.effective_method ?? request.method;
  const twins = (texts: string[]): SqlSource | undefined => (texts.length ? { texts, dialect: 'postgresql', written: true } : undefined);
  const h = request.headers;
  const marked = ['surreal-ns', 'surreal-db', 'ns', 'db', 'surreal-auth-ns'].some((k) => h[k] !== undefined);
  const text = request.body.text;
  if (segs[n - 1] === 'sql' && m === 'POST' && typeof text === 'string' && request.body.json === undefined && (marked || isSurrealQL(text))) return twins(surrealTwins(text));
  const o = request.body.json;
  if (segs[n - 1] === 'rpc' && m === 'POST' && isObject(o) && typeof o.method === 'string' && Array.isArray(o.params)) {
    const method = o.method.toLowerCase();
    const p0 = o.params[0];
    // JSON-RPC's `query` is SQL's too (sql.ts reads it in every grammar): SurrealQL only where a statement says so.
    if ((method === 'query' || method === 'run') && typeof p0 === 'string') return marked || isSurrealQL(p0) ? twins(surrealTwins(p0)) : undefined;
    if (['delete', 'update', 'upsert', 'merge', 'patch', 'insert', 'create', 'relate', 'insert_relation'].includes(method)) {
      // A table or record id (`user`, `user:tobie`): anything else is another JSON-RPC server's call.
      if (typeof p0 !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,63}(:|$)/.test(p0)) return undefined;
      return twins(surrealTwins(`${method === 'delete' ? 'DELETE' : method.startsWith('insert') || method === 'create' || method === 'relate' ? 'CREATE' : 'UPDATE'} ${p0}`));
    }
    return undefined;
  }
  // `/key/<table>` every record, `/key/<table>/<id>` one.
  if (n >= 2 && segs[n - 2] === 'key' && (m === 'DELETE' || m === 'PUT' || m === 'PATCH')) return twins([m === 'DELETE' ? `DELETE FROM ${table(request.segments[n - 1]!)}` : `UPDATE ${table(request.segments[n - 1]!)} SET surreal_record = 1`]);
  return undefined;
}

/**
 * The twins of a request in a query language other than SQL, on a host no module owns; undefined
 * when it carries none (the SQL readers then look at it as before).
 */
export function otherLanguageSql(request: RequestInfo): SqlSource | undefined {
  return elasticsearchSql(request) ?? esAdminSql(request) ?? cypherSql(request) ?? openCypherSql(request) ?? gremlinSql(request) ?? arangoSql(request) ?? restheartSql(request) ?? sparqlSql(request) ?? influxSql(request) ?? prometheusSql(request) ?? firestoreSql(request) ?? dynamoSql(request) ?? sqlServiceRestSql(request) ?? couchSql(request) ?? restStoreSql(request) ?? mongoManyWithoutFilter(request) ?? webdisSql(request) ?? astraDataApiSql(request) ?? stargateSchemaSql(request) ?? surrealSql(request) ?? rtdbSql(request) ?? objectStoreSql(request) ?? pgGraphqlSql(request) ?? searchEngineSql(request) ?? esRetentionSql(request) ?? couchbaseSql(request) ?? lokiSql(request);
}
