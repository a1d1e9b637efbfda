// Which grammar reads an SQL text: the service's own dialect when the service is known
// (PostgreSQL for Supabase and Neon, SQLite for Cloudflare D1), every known grammar when it is not
// (a generic `{sql: …}` endpoint). Two grammars that read one text as different statements
// (nested comments, `"` vs `` ` `` vs `[ ]` quoting, `\'` vs `''`, E'' strings, dollar quoting)
// make it ambiguous: the worse reading describes it and the body is marked ambiguous.
import type { AmbiguityReason, SqlInfo, SqlStatement } from '../types.ts';
import { analyzeSql, backslashReading, pgLexedText, pgWithValues, sqlPastTokenBound, type SqlAnalysis } from './sql.ts';
import { analyzeSqlite } from './sql-sqlite.ts';
import { mysqlModes, mysqlText, type MysqlMode } from './sql-mysql.ts';
import { oracleText } from './sql-oracle.ts';
import { snowflakeText } from './sql-snowflake.ts';
import { bigqueryText } from './sql-bigquery.ts';
import { clickhouseText } from './sql-clickhouse.ts';
import { dqsText } from './sql-dqs.ts';
import { lookupTable } from '../../lib/records.ts';

export type SqlDialect = 'postgresql' | 'sqlite' | 'unknown';

export interface DialectAnalysis extends SqlAnalysis {
  ambiguity?: AmbiguityReason;
}

/** Kinds two grammars name differently for one statement. */
const sameKind: Readonly<Record<string, string>> = lookupTable({ create_table_as: 'create_table', select_into: 'create_table' });

function structure(info: SqlInfo): string {
  return info.statements
    .map((s) => `${sameKind[s.kind] ?? s.kind}(${s.tables.map((t) => t.toLowerCase()).sort().join(',')})`)
    .join('; ');
}

function rank(a: SqlAnalysis): number {
  if (!a.info.parsed) return 3;
  if (a.info.destructive) return 2;
  return a.readOnly ? 0 : 1;
}

function labelled(a: SqlAnalysis): SqlAnalysis {
  const out: SqlAnalysis = { info: { ...a.info, dialect: 'unknown' }, readOnly: a.readOnly };
  // Unread for one of Airlock's limits: SQL whose reading is unknown, never "not SQL".
  if (a.limited) out.limited = true;
  return out;
}

/** The statements of both readings, each destructive when either reading says so. */
function mergeFlags(base: SqlStatement[], other: SqlStatement[]): SqlStatement[] {
  return base.map((s, i) => (other[i]?.destructive && !s.destructive ? { ...s, destructive: true } : s));
}

/**
 * PostgreSQL with `standard_conforming_strings = off` (and MySQL-family servers, which escape with
 * a backslash too) against the reading already made: a text that reads as other statements there is
 * ambiguous and described by the worse reading; one that reads alike gets both readings' flags.
 */
function withBackslashReading(texts: string[], base: DialectAnalysis, pg: SqlAnalysis, dialect: 'postgresql' | 'unknown'): DialectAnalysis {
  if (!pg.info.parsed) return base;
  const readings = texts.map(backslashReading);
  if (readings.every((r) => r === undefined)) return base;
  if (readings.some((r) => r === null)) {
    const detail = 'too many backslash-escaped strings to read as PostgreSQL with standard_conforming_strings off';
    return { info: { ...base.info, parsed: false, error: detail, destructive: true }, readOnly: false, ambiguity: base.ambiguity ?? { code: 'sql_dialects_disagree', detail } };
  }
  const off = analyzeSql(readings.map((r, i) => r ?? texts[i]!), dialect);
  if (off.limited) return { info: { ...base.info, parsed: false, error: off.info.error, destructive: true }, readOnly: false, ambiguity: base.ambiguity, limited: true };
  if (!off.info.parsed) return base; // that server rejects the whole text before running any of it
  const a = structure(pg.info);
  const b = structure(off.info);
  if (a === b) {
    const statements = mergeFlags(base.info.statements, off.info.statements);
    return { ...base, info: { ...base.info, statements, destructive: statements.some((st) => st.destructive) }, readOnly: base.readOnly && off.readOnly };
  }
  const worse = rank(off) > rank(base) ? { ...off, info: { ...off.info, dialect: base.info.dialect } } : base;
  return {
    ...worse,
    ambiguity: base.ambiguity ?? {
      code: 'sql_dialects_disagree',
      detail: `PostgreSQL reads ${a || 'no statement'}; with standard_conforming_strings off (backslash escapes) it reads ${b || 'no statement'}`.slice(0, 300),
    },
  };
}

/**
 * The text as a server reading it in a client encoding where a backslash can end a multibyte
 * character (SJIS, BIG5, GBK, UHC, GB18030 in PostgreSQL; the same and cp932 in MySQL): a backslash
 * right after a non-ASCII character may be that character's last byte, so it escapes nothing and
 * `E'Á\'; DROP TABLE t; --'`, one string in UTF-8, is a string, a DROP and a comment there. Each
 * such backslash is written as a plain letter. A session gets there by a setting Airlock holds
 * critical, or unseen (a function that calls set_config, an earlier request on a pooled
 * connection, a role's default): this reading needs none of them. Undefined when the text has none.
 */
function multibyteText(sql: string): string | undefined {
  const parts: string[] = [];
  let at = 0;
  for (let i = sql.indexOf('\\', 1); i > 0; i = sql.indexOf('\\', i + 1)) {
    if (sql.charCodeAt(i - 1) < 0x80) continue;
    parts.push(sql.slice(at, i), 'x');
    at = i + 1;
  }
  if (at === 0) return undefined;
  parts.push(sql.slice(at));
  return parts.join('');
}

/** The multibyte-encoding reading (multibyteText) against the reading already made, as withBackslashReading does for its own. */
function withMultibyteReading(texts: string[], base: DialectAnalysis, dialect: 'postgresql' | 'unknown'): DialectAnalysis {
  if (!base.info.parsed) return base;
  const read = texts.map(multibyteText);
  if (read.every((r) => r === undefined)) return base;
  const other = analyzeSql(read.map((r, i) => r ?? texts[i]!), dialect);
  if (other.limited) return { info: { ...base.info, parsed: false, error: other.info.error, destructive: true }, readOnly: false, ambiguity: base.ambiguity, limited: true };
  if (other.info.parsed && structure(other.info) === structure(base.info)) {
    const statements = mergeFlags(base.info.statements, other.info.statements);
    return { ...base, info: { ...base.info, statements, destructive: statements.some((st) => st.destructive) }, readOnly: base.readOnly && other.readOnly };
  }
  // That server rejects what it cannot read (an unterminated string): the text then runs nowhere there.
  if (!other.info.parsed) return base;
  const worse = rank(other) > rank(base) ? { ...other, info: { ...other.info, dialect: base.info.dialect } } : base;
  const detail = `read as UTF-8: ${structure(base.info) || 'no statement'}; in a client encoding where a backslash can end a character (SJIS, BIG5, GBK): ${structure(other.info) || 'no statement'}`;
  return { ...worse, ambiguity: base.ambiguity ?? { code: 'sql_dialects_disagree', detail: detail.slice(0, 300) } };
}

/**
 * DELETE/UPDATE statements the other grammar reads one by one per analysis, at most (each of
 * SQLite's runs sets up a scratch database: 990 of them took a second); past it PostgreSQL's proof
 * of a plainly narrow WHERE alone decides, and on D1 the rest count as destructive.
 */
const MAX_STATEMENT_READINGS = 16;

/**
 * SQLite's `[name]` and `` `name` `` written as PostgreSQL's "name", for PostgreSQL's side reading
 * of a D1 statement (a misreading only fails to add risk). One linear pass.
 */
function pgNames(text: string): string {
  let out = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c !== '[' && c !== '`') {
      let j = i + 1;
      while (j < n && text[j] !== '[' && text[j] !== '`') j++;
      out += text.slice(i, j);
      i = j;
      continue;
    }
    const close = c === '[' ? ']' : '`';
    let j = i + 1;
    while (j < n && text[j] !== close && text[j] !== '"') j++;
    if (j < n && text[j] === close) {
      out += `"${text.slice(i + 1, j)}"`;
      i = j + 1;
    } else {
      out += text.slice(i, j);
      i = j;
    }
  }
  return out;
}

/**
 * SQLite decides whether a DELETE/UPDATE touches every row by running it against sample rows of
 * text and numbers, which `WHERE id = id + 0` (true for every number) passes. Where PostgreSQL's
 * grammar reads the same statements, its flags are added: a WHERE that names no value the rows are
 * narrowed to is destructive in either reading. It only ever adds risk.
 */
function withWhereReading(lite: SqlAnalysis, texts: string[]): SqlAnalysis {
  if (!lite.info.parsed || !lite.info.statements.some((st) => (st.kind === 'delete' || st.kind === 'update') && !st.destructive)) return lite;
  const pg = analyzeSql(texts, 'sqlite');
  if (pg.limited) return { ...pg, info: { ...pg.info, dialect: 'sqlite' } };
  if (!pg.info.parsed || structure(pg.info) !== structure(lite.info)) {
    // PostgreSQL refuses the whole text (SQLite's own syntax beside it: `; SELECT 1 FROM [t]`):
    // each DELETE/UPDATE is read alone; one it cannot read keeps SQLite's verdict.
    let runs = 0;
    const statements = lite.info.statements.map((st, i) => {
      const source = lite.sources?.[i];
      if ((st.kind !== 'delete' && st.kind !== 'update') || st.destructive || !source) return st;
      if (++runs > MAX_STATEMENT_READINGS) return { ...st, destructive: true }; // not judged: the worst
      const one = analyzeSql([pgNames(source.text)], 'sqlite');
      if (one.limited) return { ...st, destructive: true };
      return one.info.parsed && one.info.statements.length === 1 && one.info.statements[0]!.destructive && structure(one.info) === structure({ ...lite.info, statements: [st] }) ? { ...st, destructive: true } : st;
    });
    if (statements.every((st, i) => st === lite.info.statements[i])) return lite;
    return { ...lite, info: { ...lite.info, statements, destructive: true }, readOnly: false };
  }
  const statements = mergeFlags(lite.info.statements, pg.info.statements);
  return { ...lite, info: { ...lite.info, statements, destructive: statements.some((st) => st.destructive) } };
}

/**
 * D1 (and any SQLite built with its defaults) reads a double-quoted name that matches no column as
 * a string (sql-dqs.ts), where Airlock's scratch database made it a column: `DELETE FROM users WHERE
 * "active" = 'active'` deletes every row there. Each DELETE/UPDATE not yet destructive is read again
 * with such names as strings, and a run that touches every sample row makes it destructive. It only
 * ever adds risk.
 */
function withDqsReading(lite: SqlAnalysis, texts: string[], params?: ReadonlyArray<unknown[] | undefined>): SqlAnalysis {
  const unjudged = (st: SqlStatement): boolean => (st.kind === 'delete' || st.kind === 'update') && !st.destructive;
  if (!lite.info.parsed || !lite.info.statements.some(unjudged) || !texts.some((t) => t.includes('"'))) return lite;
  const read = texts.map(dqsText);
  if (read.every((r) => r === undefined)) return lite;
  const other = analyzeSqlite(read.map((r, i) => r ?? texts[i]!), params);
  if (other.limited) return { ...other, info: { ...other.info, dialect: 'sqlite' } };
  let statements: SqlStatement[];
  if (other.info.parsed && structure(other.info) === structure(lite.info)) statements = mergeFlags(lite.info.statements, other.info.statements);
  else {
    // Read as a whole the text reads otherwise (a string where SQLite takes no name): each statement alone.
    let runs = 0;
    statements = lite.info.statements.map((st, i) => {
      const source = lite.sources?.[i];
      const text = source && unjudged(st) ? dqsText(source.text) : undefined;
      if (text === undefined) return st;
      if (++runs > MAX_STATEMENT_READINGS) return { ...st, destructive: true }; // not judged: the worst
      const one = analyzeSqlite([text], params ? [params[source!.of]] : undefined);
      if (one.limited) return { ...st, destructive: true };
      return one.info.parsed && one.info.statements.length === 1 && one.info.statements[0]!.destructive && structure(one.info) === structure({ ...lite.info, statements: [st] }) ? { ...st, destructive: true } : st;
    });
  }
  if (statements.every((st, i) => st === lite.info.statements[i])) return lite;
  return { ...lite, info: { ...lite.info, statements, destructive: statements.some((st) => st.destructive) }, readOnly: false };
}

/**
 * PostgreSQL's reading judges a WHERE clause by its shape (`id = id`, `<>`, `IS NOT NULL` …), which
 * misses clauses true for every row by their values: `id > 0 OR id <= 0`, `NOT (id = 1 AND id = 2)`,
 * `id = (SELECT id)`, `name LIKE '%' ESCAPE '!'`. Where SQLite reads the same statements, its run of
 * each DELETE/UPDATE against sample rows adds its flags. It only ever adds risk.
 */
function withSampleReading(pg: SqlAnalysis, texts: string[], params?: ReadonlyArray<unknown[] | undefined>, mysql = false, keys = true): SqlAnalysis {
  const unjudged = (st: SqlStatement): boolean => (st.kind === 'delete' || st.kind === 'update') && !st.destructive;
  if (!pg.info.parsed || !pg.info.statements.some(unjudged)) return pg;
  const lite = analyzeSqlite(texts, params, mysql, keys);
  if (lite.limited) return { ...lite, info: { ...lite.info, dialect: pg.info.dialect } };
  if (!lite.info.parsed || structure(pg.info) !== structure(lite.info)) return withStatementSamples(pg, params, unjudged, mysql, keys);
  const statements = mergeFlags(pg.info.statements, lite.info.statements);
  if (statements.every((st, i) => st === pg.info.statements[i])) return pg;
  return { ...pg, info: { ...pg.info, statements, destructive: true }, readOnly: false, privilegeOnly: false };
}

/**
 * SQLite reads the whole text otherwise than PostgreSQL (a statement of PostgreSQL's own syntax
 * beside it: `DELETE FROM users WHERE id > 0 OR id <= 0; SELECT 1::int` was a medium write): each
 * DELETE/UPDATE is run against the sample rows alone. One SQLite cannot read (`::`, `ONLY`, `USING`
 * in it) stands without the run only when PostgreSQL proves its WHERE plainly narrow (`id = $1::uuid`).
 */
function withStatementSamples(pg: SqlAnalysis, params: ReadonlyArray<unknown[] | undefined> | undefined, unjudged: (st: SqlStatement) => boolean, mysql: boolean, keys: boolean): SqlAnalysis {
  let runs = 0;
  const statements = pg.info.statements.map((st, i) => {
    const source = pg.sources?.[i];
    if (!unjudged(st) || !source) return st;
    // Each run sets up a scratch database: past MAX_STATEMENT_READINGS, PostgreSQL's proof alone.
    if (++runs > MAX_STATEMENT_READINGS) return pg.narrow?.[i] ? st : { ...st, destructive: true };
    const one = analyzeSqlite([source.text], params ? [params[source.of]] : undefined, mysql, keys);
    if (one.limited) return { ...st, destructive: true };
    if (one.info.parsed && structure(one.info) === structure({ ...pg.info, statements: [st] })) return one.info.statements[0]?.destructive ? { ...st, destructive: true } : st;
    return pg.narrow?.[i] ? st : { ...st, destructive: true };
  });
  if (statements.every((st, i) => st === pg.info.statements[i])) return pg;
  return { ...pg, info: { ...pg.info, statements, destructive: true }, readOnly: false, privilegeOnly: false };
}

/**
 * PostgreSQL's reading of each DELETE/UPDATE with the request's bound values written in as literals
 * (`pgWithValues`): its shape checks then see the patterns and ranges the values make (`ILIKE $1`
 * with `%`), which SQLite's sample run cannot judge for PostgreSQL's own operators. Flags only add;
 * its proof of a narrow WHERE (provenNarrow) replaces the one made without the values.
 */
function withValuesWritten(pg: SqlAnalysis, texts: string[], params?: ReadonlyArray<unknown[] | undefined>, dialect?: 'unknown'): SqlAnalysis {
  if (!params || !pg.info.parsed || !pg.info.statements.some((st) => (st.kind === 'delete' || st.kind === 'update') && !st.destructive)) return pg;
  const written = texts.map((t, i) => (params[i]?.length ? (pgWithValues(t, params[i]!) ?? t) : t));
  if (written.every((w, i) => w === texts[i])) return pg;
  const w = analyzeSql(written, dialect);
  if (!w.info.parsed || structure(w.info) !== structure(pg.info)) return pg;
  // What PostgreSQL proves narrow, it proves with the values the server runs (`email ^@ $1` with 'adm', not with '').
  const narrow = w.narrow;
  const statements = mergeFlags(pg.info.statements, w.info.statements);
  if (statements.every((st, i) => st === pg.info.statements[i])) return { ...pg, narrow };
  return { ...pg, info: { ...pg.info, statements, destructive: true }, readOnly: false, privilegeOnly: false, narrow };
}

/** Analyzes SQL in a dialect; `unknown` reads it with every known grammar and compares. */
/** `mysql`: the texts are the agent's, which a MySQL-family server may run (false for statements Airlock wrote). */
export function analyzeSqlIn(texts: string[], dialect: SqlDialect, params?: ReadonlyArray<unknown[] | undefined>, mysql = true): DialectAnalysis {
  const tooLong = sqlPastTokenBound(texts);
  if (tooLong) return dialect === 'postgresql' ? tooLong : { info: { ...tooLong.info, dialect: dialect === 'sqlite' ? 'sqlite' : 'unknown' }, readOnly: false, limited: true };
  if (dialect === 'postgresql') {
    // (No run of keys: PostgreSQL's reading judges a key's arithmetic itself, and refuses SQLite's own spellings.)
    const pg = withSampleReading(withValuesWritten(analyzeSql(texts), texts, params), texts, params, false, false);
    return withMultibyteReading(texts, withBackslashReading(texts, pg, pg, 'postgresql'), 'postgresql');
  }
  if (dialect === 'sqlite') return withDqsReading(withWhereReading(analyzeSqlite(texts, params), texts), texts, params);
  const pg = withValuesWritten(analyzeSql(texts, 'unknown'), texts, params, 'unknown');
  // Past a size, statement or lexing-cost limit PostgreSQL's reading is unknown (not refused by
  // such a server), so no other grammar's reading stands for it, and reading again only costs time.
  if (pg.limited) return labelled(pg);
  return withPathTables(withMysqlReadings(texts, withMultibyteReading(texts, withBackslashReading(texts, analyzeUnknown(texts, pg, params, mysql), pg, 'unknown'), 'unknown'), mysql));
}

/**
 * A table named by a path or URL, on an endpoint of unknown dialect (fourteenth pass): DuckDB reads
 * `FROM 'https://…/x.csv'` or `FROM '/home/u/.ssh/id_rsa.csv'` from that place, Spark and Databricks
 * `FROM csv.\`/etc/passwd\`` or `text.\`file:/…\`` from the file; SQLite's and MySQL's readings take
 * each for an odd table name, a read. A server file or another server, as `read_csv()` is: destructive.
 */
function withPathTables(a: DialectAnalysis): DialectAnalysis {
  const pathLike = (t: string): boolean => t.includes('/') || t.includes('\\');
  if (!a.info.statements.some((st) => !st.destructive && st.tables.some(pathLike))) return a;
  const statements = a.info.statements.map((st) => (!st.destructive && st.tables.some(pathLike) ? { ...st, destructive: true } : st));
  return { ...a, info: { ...a.info, statements, destructive: true }, readOnly: false };
}

/** Texts of unknown dialect up to this many characters are read again as MySQL reads them. */
export const MAX_MYSQL_READING_CHARS = 256 * 1024;

const modeName = (m: MysqlMode): string =>
  ([m.ansiQuotes ? 'ANSI_QUOTES' : '', m.noBackslashEscapes ? 'NO_BACKSLASH_ESCAPES' : ''].filter(Boolean).join(',') || 'default sql_mode') + (m.mariadbNesting ? ', MariaDB' : '');

/**
 * The other servers' readings of a text of unknown dialect, each written out for PostgreSQL's and
 * SQLite's grammars: MySQL under each sql_mode that changes how a text is split, Oracle's
 * alternative quoting (`q'[…]'`, sql-oracle.ts), Snowflake's `//` comments (sql-snowflake.ts) and
 * BigQuery's triple-quoted strings (sql-bigquery.ts), ClickHouse's typographic quotes, Unicode
 * blanks and heredocs (sql-clickhouse.ts).
 */
const otherReadings: Array<{ name: string; read: (sql: string) => string }> = [
  ...mysqlModes.map((m) => ({ name: `MySQL (${modeName(m)})`, read: (sql: string) => mysqlText(sql, m) })),
  { name: "Oracle (q'…' strings)", read: oracleText },
  { name: 'Snowflake (// comments)', read: snowflakeText },
  { name: "BigQuery (''' strings)", read: bigqueryText },
  { name: 'ClickHouse (‘…’ strings, Unicode blanks, heredocs)', read: clickhouseText },
];

/**
 * MySQL-family servers against the readings already made, under each sql_mode that changes how a
 * text is split (sql-mysql.ts): MySQL's code is written out for PostgreSQL's and SQLite's grammars
 * and read again. A text that reads as other statements there (`SELECT 1 /*! ; DROP TABLE t *\/`,
 * `SELECT 1 --1; DROP …`, `# '` before a line break, `"\""` strings) is ambiguous and described by the
 * worse reading, an unreadable one counting as the worst; one that reads alike gets both readings' flags.
 */
function withMysqlReadings(texts: string[], base: DialectAnalysis, mysql: boolean): DialectAnalysis {
  let out = base;
  const bytes = texts.reduce((n, t) => n + t.length, 0);
  // Nothing reads worse than unparsed with statements run before the error (or disagreeing).
  if (!out.info.parsed && (out.info.statements.length > 0 || out.ambiguity)) return out;
  const seen = new Set<string>();
  for (const reader of otherReadings) {
    const read = texts.map(reader.read);
    if (read.every((r, i) => r === texts[i])) continue;
    const key = read.join('\u0000');
    if (seen.has(key)) continue;
    seen.add(key);
    // Each reading costs a parse by both grammars: past this size one more is not made, and a text
    // MySQL reads otherwise is not known (fails closed).
    if (bytes > MAX_MYSQL_READING_CHARS) {
      const error = `SQL longer than ${MAX_MYSQL_READING_CHARS} characters that ${reader.name} splits otherwise (comments, quotes or escapes) was not read in every dialect`;
      return { info: { ...out.info, dialect: 'unknown', parsed: false, error, destructive: true }, readOnly: false, ambiguity: out.ambiguity };
    }
    // PostgreSQL's grammar first (SQLite's analysis runs DELETEs against sample rows, the costly part); SQLite's where it fails.
    const pgMy = analyzeSql(read, 'unknown');
    const my = pgMy.info.parsed ? labelled(pgMy) : analyzeUnknown(read, pgMy, undefined, mysql);
    if (my.info.parsed && out.info.parsed && structure(my.info) === structure(out.info)) {
      const statements = mergeFlags(out.info.statements, my.info.statements);
      out = { ...out, info: { ...out.info, statements, destructive: statements.some((st) => st.destructive) }, readOnly: out.readOnly && my.readOnly };
      continue;
    }
    if (!my.info.parsed && !out.info.parsed) continue;
    // Every other grammar rejects the whole text before running any of it: MySQL's is the reading.
    if (my.info.parsed && !out.info.parsed && out.info.statements.length === 0 && !out.ambiguity) {
      out = labelled(my);
      continue;
    }
    const a = out.info.parsed ? structure(out.info) || 'no statement' : 'nothing it can parse';
    const b = my.info.parsed ? structure(my.info) || 'no statement' : `nothing the other grammars parse (${my.info.error ?? ''})`;
    const detail = `the other grammars read ${a}; ${reader.name} reads ${b}`.slice(0, 300);
    const worse = rank(my) > rank(out) ? labelled(my) : out;
    out = { ...worse, ambiguity: out.ambiguity ?? { code: 'sql_dialects_disagree', detail } };
  }
  return out;
}

/**
 * A text PostgreSQL's grammar refuses and SQLite's reads, against the servers that lex as PostgreSQL
 * but accept more (DuckDB's `[…]` lists and `{…}` structs, SQL Server's nested comments and `[…]`
 * names): SQLite reads the text as PostgreSQL's lexer splits it (pgLexedText). Where that split
 * hides other statements from SQLite's own (a nested comment, `--` ended by a carriage return,
 * dollar quotes), the text is ambiguous and described by the worse reading, an unreadable one
 * counting as the worst.
 */
function withPgLexing(texts: string[], lite: SqlAnalysis): DialectAnalysis {
  const lexed = texts.map(pgLexedText);
  if (lexed.some((l) => l === undefined) || lexed.every((l, i) => l === texts[i])) return labelled(lite);
  const other = analyzeSqlite(lexed as string[]);
  const a = structure(lite.info);
  if (other.info.parsed && structure(other.info) === a) {
    const statements = mergeFlags(lite.info.statements, other.info.statements);
    return labelled({ ...lite, info: { ...lite.info, statements, destructive: statements.some((st) => st.destructive) }, readOnly: lite.readOnly && other.readOnly });
  }
  const b = other.info.parsed ? structure(other.info) || 'no statement' : `nothing (${other.info.error ?? ''})`;
  const worse = rank(other) > rank(lite) ? other : lite;
  return {
    ...labelled(worse),
    ambiguity: { code: 'sql_dialects_disagree', detail: `SQLite reads ${a || 'no statement'}; split as PostgreSQL's lexer splits it (DuckDB, SQL Server) it reads ${b}`.slice(0, 300) },
  };
}

/** Reads SQL of an unknown dialect with PostgreSQL's and SQLite's grammars and compares. */
function analyzeUnknown(texts: string[], pg: SqlAnalysis, params?: ReadonlyArray<unknown[] | undefined>, mysql = true): DialectAnalysis {
  // PostgreSQL unread for a limit (cost, size, the request's budget): its reading is unknown, and
  // lexing the text again (pgLexedText) would cost what the limit spared.
  if (pg.limited) return labelled(pg);
  // libSQL (Turso) and other SQLite servers built with their defaults read `"x"` as D1 does.
  // A server of unknown dialect may be MySQL's: its comparisons of text with numbers are run too.
  const lite = withDqsReading(analyzeSqlite(texts, params, mysql), texts, params);
  // PostgreSQL parses a whole multi-statement text before it runs any of it; SQLite runs each
  // statement as it compiles it, so statements before SQLite's error would already have run, also
  // when PostgreSQL refuses the text (`SELECT $1$; DROP TABLE users; $1$`: no other server's
  // reading, a ClickHouse heredoc there, stands for what SQLite ran).
  if (!lite.info.parsed && lite.info.statements.length > 0) {
    const pgRead = pg.info.parsed ? structure(pg.info) || 'no statement' : `nothing (${pg.info.error ?? ''})`;
    const detail = `SQLite runs ${structure(lite.info)} before its error (${lite.info.error}); PostgreSQL reads ${pgRead}`;
    return { ...labelled(lite), ambiguity: { code: 'sql_dialects_disagree', detail: detail.slice(0, 300) } };
  }
  // A text only one grammar accepts is read by that one: a server of the other dialect rejects it.
  if (!pg.info.parsed && !lite.info.parsed) {
    return labelled({ info: { ...pg.info, error: `PostgreSQL: ${pg.info.error}; SQLite: ${lite.info.error}` }, readOnly: false });
  }
  // SQLite unread for a limit of Airlock's (not refused by such a server): its reading is unknown.
  if (lite.limited) return labelled(lite);
  if (!lite.info.parsed) return labelled(withSampleReading(pg, texts, params, mysql));
  if (!pg.info.parsed) return withPgLexing(texts, lite);
  const a = structure(pg.info);
  const b = structure(lite.info);
  if (a === b) {
    const statements = mergeFlags(pg.info.statements, lite.info.statements);
    return {
      info: { dialect: 'unknown', parsed: true, statements, destructive: statements.some((s) => s.destructive) },
      readOnly: pg.readOnly && lite.readOnly,
    };
  }
  const worse = rank(lite) > rank(pg) ? lite : pg;
  return {
    ...labelled(worse),
    ambiguity: {
      code: 'sql_dialects_disagree',
      detail: `PostgreSQL reads ${a || 'no statement'}; SQLite reads ${b || 'no statement'}`.slice(0, 300),
    },
  };
}
