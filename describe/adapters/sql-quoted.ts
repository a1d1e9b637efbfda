// A quoted string or identifier read to its close, as the grammars that take backslash escapes in
// strings read it (MySQL, Snowflake): one linear pass, for the rewrite scanners that write such text
// out in standard SQL for PostgreSQL's and SQLite's grammars.

/**
 * The quoted text whose opening `quote` (a character code) is at `start`: a doubled quote is one
 * quote, and with `backslashEscapes` a backslash takes the next character as it is. `end` is the
 * index after the closing quote; undefined when the text is left open.
 */
export function readQuoted(sql: string, start: number, quote: number, backslashEscapes: boolean): { value: string; end: number } | undefined {
  const n = sql.length;
  let j = start + 1;
  let value = '';
  let from = j;
  while (j < n) {
    const d = sql.charCodeAt(j);
    if (d === 0x5c && backslashEscapes) {
      value += sql.slice(from, j) + (j + 1 < n ? sql[j + 1] : '');
      j += 2;
      from = j;
      continue;
    }
    if (d === quote) {
      value += sql.slice(from, j);
      if (j + 1 < n && sql.charCodeAt(j + 1) === quote) {
        value += sql[j];
        j += 2;
        from = j;
        continue;
      }
      return { value, end: j + 1 };
    }
    j++;
  }
  return undefined;
}
