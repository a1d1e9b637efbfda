// How ClickHouse splits an SQL text where the other grammars Airlock knows do not (its Lexer.cpp):
//   - ‘…’ is a string and “…” an identifier (typographic quotes, no escapes), while PostgreSQL,
//     SQLite and MySQL read those characters as letters of a name: `SELECT ‘'’ FROM url(…) -- '` is
//     a read of `url()` to ClickHouse and one name cast from a string everywhere else;
//   - Unicode blanks (U+00A0, U+2000–U+200D, U+3000 …) separate words, and U+2212 is a minus;
//   - block comments nest (as PostgreSQL's) while '…', "…" and `…` take backslash escapes (as
//     MySQL's), and `//`, `# ` and `#!` start a comment to the end of the line;
//   - `$tag$…$tag$` is a string whatever the tag holds (any characters up to the next `$`).
// ClickHouse's HTTP interface runs one statement per request, so what matters is a call (`url()`,
// `file()`, `s3()` …) hidden from the other grammars inside one statement. The text is written out
// for PostgreSQL's and SQLite's grammars: comments become a blank, strings standard '…' literals,
// identifiers "…". One linear pass, no regular expressions.
import { readQuoted } from './sql-quoted.ts';

/**
 * Characters heredoc searches may read per text (each reads the rest of it for its tag: `SELECT $1,
 * $2, …` costs one per parameter); past them the text is left unreadable (fails closed).
 */
const MAX_HEREDOC_SCAN = 16 * 1024 * 1024;

/** Texts longer than this are not rewritten (the caller reads no other server's text that long either): unreadable, which fails closed. */
const MAX_CLICKHOUSE_CHARS = 256 * 1024;

/** Unicode blanks ClickHouse skips between tokens (skipWhitespacesUTF8). */
const unicodeBlanks = new Set([0x85, 0xa0, 0x180e, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x200b, 0x200c, 0x200d, 0x2028, 0x2029, 0x202f, 0x205f, 0x2060, 0x3000, 0xfeff]);

const isWordChar = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;

/** Whether ClickHouse may read the text otherwise than PostgreSQL does: a character only its lexer treats apart. */
function mayDiffer(sql: string): boolean {
  for (let i = 0; i < sql.length; i++) {
    const c = sql.charCodeAt(i);
    if (c === 0x5c || c === 0x23 || c === 0x60 || c === 0x24 || c === 0x2018 || c === 0x201c || c === 0x2212 || unicodeBlanks.has(c)) return true;
    if (c === 0x2f && sql.charCodeAt(i + 1) === 0x2f) return true;
  }
  return false;
}

/** The text as ClickHouse splits it, for PostgreSQL's and SQLite's grammars; the text itself when no character can make it differ. */
export function clickhouseText(sql: string): string {
  if (!mayDiffer(sql)) return sql;
  if (sql.length > MAX_CLICKHOUSE_CHARS) return ')';
  const out: string[] = [];
  const n = sql.length;
  let i = 0;
  let copied = 0;
  let scanned = 0;
  const flush = (): void => {
    if (copied < i) out.push(sql.slice(copied, i));
  };
  const open = (): string => {
    out.push(sql.slice(i)); // left open: rejected, as ClickHouse rejects it
    return out.join('');
  };
  const literal = (value: string): string => ` '${value.replaceAll("'", "''")}' `;
  const identifier = (value: string): string => ` "${value.replaceAll('"', '""')}" `;
  while (i < n) {
    const c = sql.charCodeAt(i);
    const next = i + 1 < n ? sql.charCodeAt(i + 1) : undefined;
    // `--`, `//`, `# ` and `#!`: to the line feed (a carriage return does not end them).
    if ((c === 0x2d && next === 0x2d) || (c === 0x2f && next === 0x2f) || (c === 0x23 && (next === 0x20 || next === 0x21))) {
      flush();
      const end = sql.indexOf('\n', i + 2);
      out.push(' ');
      i = copied = end < 0 ? n : end;
      continue;
    }
    if (c === 0x2f && next === 0x2a) {
      flush();
      let depth = 1;
      let j = i + 2;
      while (j + 1 < n && depth > 0) {
        const a = sql.charCodeAt(j);
        const b = sql.charCodeAt(j + 1);
        if (a === 0x2f && b === 0x2a) (depth++, (j += 2));
        else if (a === 0x2a && b === 0x2f) (depth--, (j += 2));
        else j++;
      }
      if (depth > 0) return open();
      out.push(' ');
      i = copied = j;
      continue;
    }
    if (c === 0x27 || c === 0x22 || c === 0x60) {
      flush();
      const quoted = readQuoted(sql, i, c, true);
      if (!quoted) return open();
      out.push(c === 0x27 ? literal(quoted.value) : identifier(quoted.value));
      i = copied = quoted.end;
      continue;
    }
    if (c === 0x2018 || c === 0x201c) {
      flush();
      const end = sql.indexOf(c === 0x2018 ? '\u2019' : '\u201d', i + 1);
      if (end < 0) return open();
      const value = sql.slice(i + 1, end);
      out.push(c === 0x2018 ? literal(value) : identifier(value));
      i = copied = end + 1;
      continue;
    }
    if (c === 0x2212) {
      flush();
      out.push(' - ');
      i = copied = i + 1;
      continue;
    }
    if (unicodeBlanks.has(c)) {
      flush();
      out.push(' ');
      i++;
      while (i < n && unicodeBlanks.has(sql.charCodeAt(i))) i++;
      copied = i;
      continue;
    }
    if (c === 0x24) {
      // A heredoc: `$`, anything up to the next `$`, then the text to the same tag again.
      const close = sql.indexOf('$', i + 1);
      if (close >= 0) {
        scanned += n - close;
        if (scanned > MAX_HEREDOC_SCAN) return ')'; // not read: no grammar parses this, which fails closed
        const tag = sql.slice(i, close + 1);
        const end = sql.indexOf(tag, close + 1);
        if (end >= 0) {
          flush();
          out.push(literal(sql.slice(close + 1, end)));
          i = copied = end + tag.length;
          continue;
        }
      }
      // Otherwise a word that starts with `$` (`$1`): copied as it stands.
      i++;
      while (i < n && (isWordChar(sql.charCodeAt(i)) || sql.charCodeAt(i) === 0x24)) i++;
      continue;
    }
    if (isWordChar(c)) {
      // A word (`$` is one of its letters): no quote or heredoc starts inside it.
      i++;
      while (i < n && (isWordChar(sql.charCodeAt(i)) || sql.charCodeAt(i) === 0x24)) i++;
      continue;
    }
    i++;
  }
  flush();
  return out.join('');
}
