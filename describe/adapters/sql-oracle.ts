// How Oracle (and ORDS's REST-enabled SQL, which runs a script of statements) reads quoted text
// that no other grammar has: alternative quoting, `q'[…]'`, `Q'{…}'`, `nq'<…>'`, `q'!…!'`. Inside
// one, a `'` is an ordinary character, so `SELECT q'< ' >' ; DROP TABLE t ; -- ' > 'a'` is a string,
// a DROP and a comment to Oracle, and one SELECT of two comparisons to PostgreSQL. The text is
// written out with each such string as a standard '…' literal, for the other grammars to read
// again (sql-dialects.ts). Everything else is copied as it stands; Oracle's strings, "…"
// identifiers and comments (which do not nest) are skipped so a `q'` inside them is not one.
// One linear pass, no regular expressions.
import { lookupTable } from '../../lib/records.ts';

const isIdentChar = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x24 || c === 0x23 || c >= 0x80;

/** The closing delimiter of an alternative-quoting opening one. */
const closing: Readonly<Record<string, string>> = lookupTable({ '[': ']', '{': '}', '<': '>', '(': ')' });

/** The text as Oracle reads it, alternative-quoted strings written as standard literals; the text itself when it holds none. */
export function oracleText(sql: string): string {
  const out: string[] = [];
  const n = sql.length;
  let i = 0;
  let copied = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    const next = i + 1 < n ? sql.charCodeAt(i + 1) : undefined;
    if (c === 0x2d && next === 0x2d) {
      const end = sql.indexOf('\n', i + 2);
      i = end < 0 ? n : end + 1;
      continue;
    }
    if (c === 0x2f && next === 0x2a) {
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) break;
      i = end + 2;
      continue;
    }
    if (c === 0x27 || c === 0x22) {
      // A string or a quoted identifier; a doubled quote is one character of it.
      let j = i + 1;
      for (;;) {
        const end = sql.indexOf(c === 0x27 ? "'" : '"', j);
        if (end < 0) {
          j = n;
          break;
        }
        if (sql.charCodeAt(end + 1) === c) {
          j = end + 2;
          continue;
        }
        j = end + 1;
        break;
      }
      i = j;
      continue;
    }
    if (isIdentChar(c)) {
      let j = i;
      while (j < n && isIdentChar(sql.charCodeAt(j))) j++;
      const word = j - i <= 2 ? sql.slice(i, j).toLowerCase() : '';
      const open = sql[j + 1];
      if ((word === 'q' || word === 'nq') && sql.charCodeAt(j) === 0x27 && open !== undefined && open.trim() !== '') {
        const close = `${closing[open] ?? open}'`;
        const end = sql.indexOf(close, j + 2);
        if (end < 0) break; // left open: Oracle rejects it
        out.push(sql.slice(copied, i), ` '${sql.slice(j + 2, end).replaceAll("'", "''")}'`);
        i = copied = end + 2;
        continue;
      }
      i = j;
      continue;
    }
    i++;
  }
  if (copied === 0) return sql;
  out.push(sql.slice(copied));
  return out.join('');
}
