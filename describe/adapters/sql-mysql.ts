// How a MySQL-family server (MySQL, MariaDB, TiDB, PlanetScale, Vitess …) splits an SQL text into
// code, strings, identifiers and comments, written out as a text PostgreSQL's and SQLite's
// grammars read the same way. MySQL differs from both where it matters for hiding statements:
//   - `#` starts a comment to the end of the line (an operator in PostgreSQL);
//   - `--` is a comment only before a blank or a control character (`--1` is minus minus one);
//   - `/*! … */` and `/*M! … */` are code to MySQL and MariaDB, `/*T! … */` and `/*T![feature] … */`
//     to TiDB (a comment everywhere else), and block comments do not nest;
//   - `"…"` is a string, not an identifier (unless sql_mode has ANSI_QUOTES), and strings take
//     backslash escapes (unless NO_BACKSLASH_ESCAPES);
//   - there is no dollar quoting: `$` is a letter of identifiers;
//   - `||` is OR (not concatenation) unless sql_mode has PIPES_AS_CONCAT, `&&` is AND;
//   - `0x25` and `0b00100101` are hexadecimal and bit literals: a string where one is wanted.
// The scan is one linear pass (no regular expressions). The analysis reads every mode's text with
// the other grammars (sql-dialects.ts); this module only lexes.
import { readQuoted } from './sql-quoted.ts';

export interface MysqlMode {
  /** sql_mode ANSI_QUOTES: `"…"` quotes identifiers. */
  ansiQuotes: boolean;
  /** sql_mode NO_BACKSLASH_ESCAPES: a backslash in a string is a plain character. */
  noBackslashEscapes: boolean;
  /**
   * MariaDB's lexer (twenty-ninth pass, checked on MariaDB 10.11): `/*!` or `/*M!` inside an
   * executable comment opens another, whose code runs, and the first `*\/` closes both
   * (`DELETE … WHERE id = 1 /*!50000 AND 1 /*!50000 OR 1 *\/` deletes every row). Read otherwise,
   * the inner one is a plain comment to its `*\/`, as MySQL's reading here keeps it.
   */
  mariadbNesting?: boolean;
}

/** The server settings under which MySQL reads one text differently. */
export const mysqlModes: MysqlMode[] = [
  { ansiQuotes: false, noBackslashEscapes: false },
  { ansiQuotes: true, noBackslashEscapes: false },
  { ansiQuotes: false, noBackslashEscapes: true },
  { ansiQuotes: true, noBackslashEscapes: true },
  // MariaDB's readings: the same as MySQL's (and so not read again) unless an executable comment opens inside one.
  { ansiQuotes: false, noBackslashEscapes: false, mariadbNesting: true },
  { ansiQuotes: true, noBackslashEscapes: false, mariadbNesting: true },
  { ansiQuotes: false, noBackslashEscapes: true, mariadbNesting: true },
  { ansiQuotes: true, noBackslashEscapes: true, mariadbNesting: true },
];

const isIdentChar = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x24 || c >= 0x80;

/** A bit literal's digits as hex, whole bytes from the right (`100101` is 25). */
function bitsAsHex(bits: string): string {
  const padded = bits.padStart(Math.ceil(bits.length / 8) * 8, '0');
  let hex = '';
  for (let k = 0; k < padded.length; k += 8) hex += parseInt(padded.slice(k, k + 8), 2).toString(16).padStart(2, '0');
  return hex;
}

/** MySQL's test after `--`: a blank or control character (or the end of the text) makes a comment. */
const endsDashDash = (c: number | undefined): boolean => c === undefined || c <= 0x20 || c === 0x7f;

/**
 * The text as MySQL reads it in `mode`, rewritten for PostgreSQL's grammar: comments become a
 * blank, versioned comments become their code, strings become standard '…' literals, `` `…` ``
 * (and ANSI `"…"`) identifiers become "…" identifiers, and words holding `$` are quoted (PostgreSQL
 * would read `$$` or `$1` as a quote or a parameter). A string or comment MySQL leaves open is
 * written out open, so the other grammars reject the text as MySQL does.
 */
export function mysqlText(sql: string, mode: MysqlMode): string {
  const out: string[] = [];
  const n = sql.length;
  let i = 0;
  let versioned = false;
  const settings: Array<[string, string]> = [];
  // Text copied as it stands runs from `copied` to `i`; it is flushed before anything rewritten.
  let copied = 0;
  const flush = (): void => {
    if (copied < i) out.push(sql.slice(copied, i));
  };
  const lastIsIdent = (): boolean => {
    const last = i > copied ? sql.charCodeAt(i - 1) : out.length ? out[out.length - 1]!.charCodeAt(out[out.length - 1]!.length - 1) : NaN;
    return isIdentChar(last);
  };
  while (i < n) {
    const c = sql.charCodeAt(i);
    const next = i + 1 < n ? sql.charCodeAt(i + 1) : undefined;
    if (c === 0x23 /* # */ || (c === 0x2d && next === 0x2d && endsDashDash(i + 2 < n ? sql.charCodeAt(i + 2) : undefined))) {
      flush();
      let j = i;
      while (j < n && sql.charCodeAt(j) !== 0x0a) j++;
      out.push(' ');
      i = copied = j;
      continue;
    }
    if (c === 0x2d && next === 0x2d) {
      // `--1` is minus minus one to MySQL: keep PostgreSQL and SQLite from reading a comment.
      flush();
      out.push('- ');
      i += 1;
      copied = i;
      continue;
    }
    if (c === 0x2a && next === 0x2f && versioned) {
      flush();
      out.push(' ');
      versioned = false;
      i = copied = i + 2;
      continue;
    }
    if (c === 0x2f && next === 0x2a) {
      flush();
      let bang = sql.charCodeAt(i + 2) === 0x21 ? i + 3 : sql.startsWith('M!', i + 2) || sql.startsWith('T!', i + 2) ? i + 4 : -1;
      // TiDB's `/*T![feature_id] … */` (sixteenth pass): code where TiDB has the feature.
      if (bang >= 0 && sql[i + 2] === 'T' && sql[bang] === '[') {
        const close = sql.indexOf(']', bang);
        bang = close >= 0 && close - bang <= 64 ? close + 1 : -1;
      }
      // MariaDB: an executable comment inside one is code too (not TiDB's `/*T!`, which MariaDB does not know).
      const nestedCode = versioned && mode.mariadbNesting === true && bang >= 0 && sql[i + 2] !== 'T';
      if (bang >= 0 && (!versioned || nestedCode)) {
        let j = bang;
        while (j < n && j < bang + 6 && sql.charCodeAt(j) >= 0x30 && sql.charCodeAt(j) <= 0x39) j++;
        out.push(' ');
        versioned = true;
        i = copied = j;
        continue;
      }
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) {
        out.push(sql.slice(i)); // left open: rejected
        return out.join('');
      }
      if (sql.charCodeAt(i + 2) === 0x2b /* + */) hintSettings(sql.slice(i + 3, end), settings);
      out.push(' ');
      i = copied = end + 2;
      continue;
    }
    const identQuote = c === 0x60 || (c === 0x22 && mode.ansiQuotes);
    const stringQuote = c === 0x27 || (c === 0x22 && !mode.ansiQuotes);
    if (identQuote || stringQuote) {
      flush();
      const before = lastIsIdent();
      const quoted = readQuoted(sql, i, c, stringQuote && !mode.noBackslashEscapes);
      if (!quoted) {
        out.push(sql.slice(i)); // left open: rejected
        return out.join('');
      }
      const { value, end: j } = quoted;
      // A blank after a word keeps PostgreSQL from reading `E'…'`, `U&'…'` or `B'…'` as its own kinds of string.
      if (before) out.push(' ');
      out.push(stringQuote ? `'${value.replaceAll("'", "''")}'` : `"${value.replaceAll('"', '""')}"`);
      i = copied = j;
      continue;
    }
    if (c === 0x7c && next === 0x7c) {
      // `||` is OR to MySQL and MariaDB (unless sql_mode has PIPES_AS_CONCAT, which the other
      // grammars' reading as concatenation stands for): `WHERE id > 100 || 1` is every row there
      // (twenty-second pass). Read as OR, a constant beside it is every row; read as concatenation
      // beside `&&` (below), the reading of OR already holds what a constant concatenated can widen.
      flush();
      out.push(' OR ');
      i = copied = i + 2;
      continue;
    }
    if (c === 0x26 && next === 0x26) {
      // `&&` is AND to MySQL in every sql_mode: `WHERE id = 5 && status = 1` names rows there, where
      // no other grammar reads it (PostgreSQL's array overlap binds tighter than `=`) and it was held
      // as unread (twenty-second pass, follow-up). PostgreSQL's own reading of the text stands beside it.
      flush();
      out.push(' AND ');
      i = copied = i + 2;
      continue;
    }
    if (isIdentChar(c)) {
      let j = i;
      let dollar = false;
      while (j < n && isIdentChar(sql.charCodeAt(j))) {
        if (sql.charCodeAt(j) === 0x24) dollar = true;
        j++;
      }
      const word = sql.slice(i, j);
      // `INTERVAL 30 DAY` (a bare number and a unit): PostgreSQL's grammar takes only a quoted
      // one, so MySQL's clock arithmetic (`NOW() - INTERVAL 30 DAY`) read as nothing and was held
      // as every row; written as `interval '30 day'` (twenty-second pass, follow-up).
      if (j - i === 8 && word.toLowerCase() === 'interval') {
        const m = /^\s+([+-]?\d{1,12}(?:\.\d{1,6})?)\s+(microsecond|second|minute|hour|day|week|month|quarter|year)\b/i.exec(sql.slice(j, j + 64));
        if (m) {
          flush();
          const quarter = m[2]!.toLowerCase() === 'quarter';
          out.push(`interval '${quarter ? Number(m[1]) * 3 : m[1]} ${quarter ? 'month' : m[2]!.toLowerCase()}'`);
          i = copied = j + m[0].length;
          continue;
        }
      }
      const literal = /^0x[0-9a-fA-F]+$/.test(word) ? word.slice(2) : /^0b[01]+$/.test(word) ? bitsAsHex(word.slice(2)) : undefined;
      if (literal !== undefined) {
        // `0x25` and `0b00100101` are the string '%' where MySQL wants a string (`LIKE 0x25` is
        // every row): written as the X'…' literal SQLite reads as those bytes (twenty-second pass).
        flush();
        out.push(`X'${literal.length % 2 ? '0' : ''}${literal}'`);
        copied = j;
      } else if (dollar) {
        flush();
        out.push(`"${word}"`);
        copied = j;
      }
      i = j;
      continue;
    }
    i++;
  }
  flush();
  // A statement's SET_VAR hints, as the settings they are for its run: a statement of their own after it.
  for (const [name, value] of settings) out.push(`\n; SET "${name}" = '${value}'`);
  return out.join('');
}

/**
 * Settings a hint may turn off for one statement that the analysis holds as a privilege change
 * when SET (sql.ts mysqlPrivilegeSettings): other hinted settings (`sort_buffer_size`,
 * `max_execution_time`) are left out, so they add no statement to the reading.
 */
const hintedChecks = new Set(['foreign_key_checks', 'unique_checks', 'sql_log_bin', 'check_constraint_checks']);

/**
 * The `SET_VAR(name = value)` items of an optimizer hint's text (`/*+ … *\/`): MySQL sets each
 * for the run of the statement it follows, so `DELETE /*+ SET_VAR(foreign_key_checks = OFF) *\/
 * FROM parents WHERE id = 7` deletes with the integrity checks off that `SET foreign_key_checks = 0`
 * turns off (sixteenth pass). Names and values are kept to word characters. One linear pass.
 */
function hintSettings(hint: string, into: Array<[string, string]>): void {
  const lower = hint.toLowerCase();
  for (let at = lower.indexOf('set_var'); at >= 0 && into.length < 32; at = lower.indexOf('set_var', at + 7)) {
    let j = at + 7;
    while (j < hint.length && hint.charCodeAt(j) <= 0x20) j++;
    if (hint[j] !== '(') continue;
    const close = hint.indexOf(')', j);
    const item = hint.slice(j + 1, close < 0 ? hint.length : close);
    const eq = item.indexOf('=');
    const word = (t: string): string => t.replace(/[^A-Za-z0-9_]/g, '');
    const name = word(eq < 0 ? item : item.slice(0, eq)).replace(/^(session|global)(?=[a-z])/i, (m) => (item.includes('.') ? '' : m));
    if (hintedChecks.has(name.toLowerCase())) into.push([name.toLowerCase(), word(eq < 0 ? '' : item.slice(eq + 1)) || '?']);
  }
}
