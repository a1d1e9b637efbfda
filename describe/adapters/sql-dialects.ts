// Which grammar reads an SQL text: the service's own dialect when the service is known
// (PostgreSQL for Supabase and Neon, SQLite for Cloudflare D1), every known grammar when it is not
// (a generic `{sql: …}` endpoint). Two grammars that read one text as different statements
// (nested comments, `"` vs `` ` `` vs `[ ]` quoting, `\'` vs `''`, E'' strings, dollar quoting)
// make it ambiguous: the worse reading describes it and the body is marked ambiguous.
import type { AmbiguityReason, SqlInfo, SqlStatement } from '../types.ts';
import { analyzeSql, type SqlAnalysis } from './sql.ts';
import { analyzeSqlite } from './sql-sqlite.ts';

export type SqlDialect = 'postgresql' | 'sqlite' | 'unknown';

export interface DialectAnalysis extends SqlAnalysis {
  ambiguity?: AmbiguityReason;
}

/** Kinds two grammars name differently for one statement. */
const sameKind: Record<string, string> = { create_table_as: 'create_table', select_into: 'create_table' };

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
  return { info: { ...a.info, dialect: 'unknown' }, readOnly: a.readOnly };
}

/** The statements of both readings, each destructive when either reading says so. */
function mergeFlags(base: SqlStatement[], other: SqlStatement[]): SqlStatement[] {
  return base.map((s, i) => (other[i]?.destructive && !s.destructive ? { ...s, destructive: true } : s));
}

/** Analyzes SQL in a dialect; `unknown` reads it with every known grammar and compares. */
export function analyzeSqlIn(texts: string[], dialect: SqlDialect): DialectAnalysis {
  if (dialect === 'postgresql') return analyzeSql(texts);
  if (dialect === 'sqlite') return analyzeSqlite(texts);
  const pg = analyzeSql(texts);
  const lite = analyzeSqlite(texts);
  // A text only one grammar accepts is read by that one: a server of the other dialect rejects it.
  if (!pg.info.parsed && !lite.info.parsed) {
    return labelled({ info: { ...pg.info, error: `PostgreSQL: ${pg.info.error}; SQLite: ${lite.info.error}` }, readOnly: false });
  }
  // PostgreSQL parses a whole multi-statement text before it runs any of it; SQLite runs each
  // statement as it compiles it, so statements before SQLite's error would already have run.
  if (!lite.info.parsed && lite.info.statements.length > 0) {
    const detail = `SQLite runs ${structure(lite.info)} before its error (${lite.info.error}); PostgreSQL reads ${structure(pg.info) || 'no statement'}`;
    return { ...labelled(lite), ambiguity: { code: 'sql_dialects_disagree', detail: detail.slice(0, 300) } };
  }
  if (!lite.info.parsed) return labelled(pg);
  if (!pg.info.parsed) return labelled(lite);
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
