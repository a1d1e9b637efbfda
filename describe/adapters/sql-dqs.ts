// SQLite's double-quoted-string misfeature (https://sqlite.org/quirks.html#dblquote): a name in
// double quotes that matches no column is read as a string. SQLite's default build keeps it on
// (`SQLITE_DQS`), and so do Cloudflare D1 (workerd's SQLite turns on only SQLITE_DBCONFIG_DEFENSIVE)
// and libSQL. Airlock's own SQLite has it off, and makes every name a statement uses a column of
// its scratch tables, so `DELETE FROM users WHERE "active" = 'active'` read there compares a column
// with a string (a narrow delete), while D1, whose `users` has no `active`, compares two equal
// strings and deletes every row. dqsText writes the other reading out.

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';

/** Where the next token after `i` starts: past blanks and comments (SQLite's: `--` to a line feed, `/* … *\/` without nesting). */
function nextToken(sql: string, i: number): number {
  const n = sql.length;
  while (i < n) {
    if (isSpace(sql[i])) i++;
    else if (sql[i] === '-' && sql[i + 1] === '-') {
      const e = sql.indexOf('\n', i);
      i = e < 0 ? n : e + 1;
    } else if (sql[i] === '/' && sql[i + 1] === '*') {
      const e = sql.indexOf('*/', i + 2);
      i = e < 0 ? n : e + 2;
    } else break;
  }
  return i;
}

/** Where a quoted token opened at `i` by `quote` ends (past its closing quote; a doubled quote is part of it). */
function quotedEnd(sql: string, i: number, quote: string): number {
  let j = i + 1;
  for (;;) {
    const e = sql.indexOf(quote, j);
    if (e < 0) return sql.length;
    if (sql[e + 1] === quote) {
      j = e + 2;
      continue;
    }
    return e + 1;
  }
}

/**
 * The text with every double-quoted name that SQLite may read as a string written as that string:
 * `"x"` becomes `'x'` unless it is qualified or qualifies (`"t"."x"`, `t."x"`, `"t".x`) or names a
 * function (`"lower"(x)`), which are never strings. Where a name is expected (`DELETE FROM 'users'`,
 * `SET 'role' = …`) SQLite reads the string as the name, so the statements stay the same. Undefined
 * when the text has no such name. One pass over the text.
 */
export function dqsText(sql: string): string | undefined {
  const out: string[] = [];
  let at = 0;
  let prev = ''; // the last character of the token before
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const start = nextToken(sql, i);
    if (start >= n) break;
    const c = sql[start]!;
    let end: number;
    if (c === "'" || c === '`') end = quotedEnd(sql, start, c);
    else if (c === '[') {
      const e = sql.indexOf(']', start);
      end = e < 0 ? n : e + 1;
    } else if (c === '"') {
      end = quotedEnd(sql, start, '"');
      const after = sql[nextToken(sql, end)];
      const closed = sql[end - 1] === '"' && end - start >= 2;
      if (closed && prev !== '.' && after !== '.' && after !== '(') {
        const value = sql.slice(start + 1, end - 1).replaceAll('""', '"');
        out.push(sql.slice(at, start), `'${value.replaceAll("'", "''")}'`);
        at = end;
      }
    } else end = start + 1;
    prev = sql[end - 1]!;
    i = end;
  }
  if (at === 0) return undefined;
  out.push(sql.slice(at));
  return out.join('');
}
