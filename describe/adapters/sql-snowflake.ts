// How Snowflake reads an SQL text where no other grammar Airlock knows does: `//` starts a comment
// to the end of the line (an operator to PostgreSQL), so `SELECT 1 // '⏎; DROP TABLE t; -- '` is a
// SELECT, a comment and a DROP to Snowflake and one SELECT of an operator and a string to
// PostgreSQL. Snowflake's statements API runs several statements when the request asks it to
// (`MULTI_STATEMENT_COUNT`), and the agent writes the request. The text is written out for the
// other grammars: comments become a blank, '…' strings (which take backslash escapes) and $$…$$
// strings become standard literals, "…" identifiers stay. One linear pass, no regular expressions.
import { readQuoted } from './sql-quoted.ts';

/** The text as Snowflake splits it, for PostgreSQL's and SQLite's grammars; the text itself when it holds no `//`. */
export function snowflakeText(sql: string): string {
  if (!sql.includes('//')) return sql;
  const out: string[] = [];
  const n = sql.length;
  let i = 0;
  let copied = 0;
  const flush = (): void => {
    if (copied < i) out.push(sql.slice(copied, i));
  };
  while (i < n) {
    const c = sql.charCodeAt(i);
    const next = i + 1 < n ? sql.charCodeAt(i + 1) : undefined;
    if ((c === 0x2d && next === 0x2d) || (c === 0x2f && next === 0x2f)) {
      flush();
      const end = sql.indexOf('\n', i + 2);
      out.push(' ');
      i = copied = end < 0 ? n : end;
      continue;
    }
    if (c === 0x2f && next === 0x2a) {
      flush();
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) {
        out.push(sql.slice(i)); // left open: rejected
        return out.join('');
      }
      out.push(' ');
      i = copied = end + 2;
      continue;
    }
    if (c === 0x24 && next === 0x24) {
      flush();
      const end = sql.indexOf('$$', i + 2);
      if (end < 0) {
        out.push(sql.slice(i));
        return out.join('');
      }
      out.push(` '${sql.slice(i + 2, end).replaceAll("'", "''")}'`);
      i = copied = end + 2;
      continue;
    }
    if (c === 0x22) {
      let j = i + 1;
      for (;;) {
        const end = sql.indexOf('"', j);
        if (end < 0) return sql; // left open: rejected, as the text is
        if (sql.charCodeAt(end + 1) === 0x22) j = end + 2;
        else {
          j = end + 1;
          break;
        }
      }
      i = j;
      continue;
    }
    if (c === 0x27) {
      flush();
      const quoted = readQuoted(sql, i, 0x27, true);
      if (!quoted) {
        out.push(sql.slice(i));
        return out.join('');
      }
      out.push(` '${quoted.value.replaceAll("'", "''")}'`);
      i = copied = quoted.end;
      continue;
    }
    i++;
  }
  flush();
  return out.join('');
}
