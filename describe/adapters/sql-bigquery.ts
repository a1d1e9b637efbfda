// How BigQuery (GoogleSQL) splits an SQL text where the other grammars Airlock knows do not:
// triple-quoted strings (`'''…'''`, `"""…"""`) end only at three quotes, so
// `SELECT ''' x ' || ''' ; DROP TABLE t ; -- '` is a string, a DROP and a comment to BigQuery (whose
// jobs API runs scripts of several statements) and one SELECT of two strings to PostgreSQL, SQLite
// and MySQL. Also `#` comments, backslash escapes, raw (`r'…'`) and bytes (`b'…'`) prefixes, and
// `` `…` `` identifiers. The text is written out for the other grammars: comments become a blank,
// strings standard '…' literals, identifiers "…". One linear pass, no regular expressions.

const isIdentChar = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c >= 0x80;

/**
 * The text as BigQuery splits it, for PostgreSQL's and SQLite's grammars; the text itself when it
 * holds no triple quote and no carriage return (ZetaSQL's `#` and `--` comments, and one-quote
 * strings, end at `\r` as at `\n`: `SELECT 1 #\r; DROP TABLE t` is a comment to MySQL alone).
 */
export function bigqueryText(sql: string): string {
  if (!sql.includes("'''") && !sql.includes('"""') && !sql.includes('\r')) return sql;
  const out: string[] = [];
  const n = sql.length;
  let i = 0;
  let copied = 0;
  const flush = (): void => {
    if (copied < i) out.push(sql.slice(copied, i));
  };
  const open = (): string => {
    out.push(sql.slice(i)); // left open: rejected
    return out.join('');
  };
  while (i < n) {
    const c = sql.charCodeAt(i);
    const next = i + 1 < n ? sql.charCodeAt(i + 1) : undefined;
    if (c === 0x23 || (c === 0x2d && next === 0x2d)) {
      flush();
      let end = i + 1;
      while (end < n && sql[end] !== '\n' && sql[end] !== '\r') end++;
      out.push(' ');
      i = copied = end;
      continue;
    }
    if (c === 0x2f && next === 0x2a) {
      flush();
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) return open();
      out.push(' ');
      i = copied = end + 2;
      continue;
    }
    if (c === 0x60) {
      flush();
      const end = sql.indexOf('`', i + 1);
      if (end < 0) return open();
      out.push(`"${sql.slice(i + 1, end).replaceAll('"', '""')}"`);
      i = copied = end + 1;
      continue;
    }
    if (isIdentChar(c)) {
      let j = i;
      while (j < n && isIdentChar(sql.charCodeAt(j))) j++;
      const word = j - i <= 2 ? sql.slice(i, j).toLowerCase() : '';
      const q = sql.charCodeAt(j);
      // A string prefix (r, b, rb, br) directly before a quote is part of the string.
      if ((q === 0x27 || q === 0x22) && (word === 'r' || word === 'b' || word === 'rb' || word === 'br')) {
        flush();
        copied = i = j;
        if (!readString(word.includes('r'))) return open();
        continue;
      }
      i = j;
      continue;
    }
    if (c === 0x27 || c === 0x22) {
      flush();
      if (!readString(false)) return open();
      continue;
    }
    i++;
  }
  flush();
  return out.join('');

  /** Reads the string at i (its quote), writes it as a standard literal; false when it is left open. */
  function readString(raw: boolean): boolean {
    const quote = sql[i]!;
    const triple = sql.startsWith(quote.repeat(3), i);
    const close = triple ? quote.repeat(3) : quote;
    let j = i + close.length;
    let value = '';
    let from = j;
    for (;;) {
      if (j >= n) return false;
      const d = sql[j];
      if (d === '\\') {
        value += sql.slice(from, j) + (raw ? sql.slice(j, j + 2) : (sql[j + 1] ?? ''));
        j += 2;
        from = j;
        continue;
      }
      if (d === quote && sql.startsWith(close, j)) {
        value += sql.slice(from, j);
        j += close.length;
        break;
      }
      if (!triple && (d === '\n' || d === '\r')) return false; // a one-quote string ends on its line
      j++;
    }
    out.push(` '${value.replaceAll("'", "''")}'`);
    i = copied = j;
    return true;
  }
}
