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
import { lookupTable } from '../../lib/records.ts';

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

const isBlank = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);

/**
 * Words a read of the dialects Airlock reads only lexically begins with (ClickHouse, DuckDB,
 * Snowflake, Spark, MySQL), and words a write begins with. A text that begins otherwise is taken
 * for words, not SQL (`remote (work) jobs`, `red shoes`).
 */
const readStarters = new Set(['select', 'with', 'from', 'show', 'describe', 'desc', 'explain', 'exists', 'values', 'table', 'summarize', 'pivot', 'unpivot']);
const writeStarters = new Set([
  'delete', 'update', 'insert', 'replace', 'upsert', 'merge', 'drop', 'truncate', 'alter', 'create', 'grant', 'revoke', 'rename',
  'attach', 'detach', 'copy', 'load', 'call', 'exec', 'execute', 'kill', 'system', 'optimize', 'vacuum', 'install', 'export',
  'remove', 'undrop', 'handler', 'flush', 'purge', 'shutdown', 'backup', 'restore', 'prepare', 'declare', 'begin', 'pragma', 'use',
  'set', 'do', 'start', 'stop', 'change', 'xa', 'uninstall', 'restart', 'clone', 'binlog', 'import', 'lock', 'unlock', 'unload', 'repair', 'add',
  'bulk', 'dbcc', 'exchange',
]);
/** A write's first words that make a statement whatever follows (`TRUNCATE users SETTINGS …`): no phrase begins so. */
const writeAlone = new Set(['truncate', 'vacuum', 'optimize', 'undrop', 'upsert', 'pragma', 'binlog', 'xa', 'exec', 'execute', 'dbcc']);
/** `EXEC('DROP TABLE users')`, `EXECUTE IMMEDIATE`: SQL text run, called or not. */
const runsText = new Set(['exec', 'execute']);
/** Statements of one word (MySQL's `SHUTDOWN` and `RESTART`): a write when nothing follows. */
const writeWhole = new Set(['shutdown', 'restart']);
/** Words that make a text beginning with a write's word an SQL statement rather than a phrase (`DELETE LOW_PRIORITY FROM users`). */
const statementWords = new Set(['from', 'into', 'table', 'set', 'where', 'values', 'database', 'schema', 'index', 'view', 'column', 'trigger', 'function', 'procedure', 'partition', 'privileges', 'infile', 'data', 'query', 'identified']);
/**
 * Other servers' statements whose first word PostgreSQL's and SQLite's grammars do not know, each
 * with the words that make it a statement rather than a phrase (sixteenth pass): MySQL's `SET
 * GLOBAL general_log_file = '/var/www/x.php'`, `SET PASSWORD FOR …`, MariaDB's `SET STATEMENT
 * foreign_key_checks = 0 FOR DELETE …`, `CHANGE REPLICATION SOURCE TO SOURCE_HOST = 'evil'`,
 * `CLONE INSTANCE FROM …` (another server's data replaces this one's), `START`/`STOP REPLICA`,
 * `UNINSTALL PLUGIN audit_log`, `LOCK TABLES … WRITE`, `IMPORT TABLE FROM '/…'`, `REPAIR TABLE`,
 * `DO sys_exec(…)` (calls alone), Redshift's `UNLOAD ('…') TO 's3://…' IAM_ROLE …`, Spark's `ADD
 * JAR 'http://…'` (code loaded), T-SQL and PL/SQL blocks that run text (`DECLARE @s …; EXEC(@s)`,
 * `BEGIN EXECUTE IMMEDIATE '…'; END;`). These words replace statementWords for that starter.
 */
const starterWords: Readonly<Record<string, ReadonlySet<string>>> = lookupTable({
  set: new Set(['global', 'persist', 'persist_only', 'session', 'statement', 'password', 'names', 'sql_log_bin', 'foreign_key_checks', 'unique_checks', 'character_set_client']),
  start: new Set(['replica', 'slave', 'group_replication']),
  stop: new Set(['replica', 'slave', 'group_replication']),
  change: new Set(['master', 'replication']),
  clone: new Set(['instance']),
  // ClickHouse's `EXCHANGE TABLES a AND b` (each takes the other's rows) and `SYSTEM SHUTDOWN`, `SYSTEM DROP REPLICA` (twentieth pass).
  exchange: new Set(['tables', 'dictionaries']),
  system: new Set([...statementWords, 'shutdown', 'kill', 'drop', 'reload', 'flush', 'sync', 'restart', 'unfreeze', 'restore']),
  uninstall: new Set(['plugin', 'component']),
  install: new Set([...['from', 'into', 'table', 'set', 'where', 'values', 'database', 'schema', 'index', 'view', 'column', 'trigger', 'function', 'procedure', 'partition', 'privileges', 'infile', 'data', 'query'], 'plugin', 'component', 'extension']),
  lock: new Set(['tables', 'instance']),
  unlock: new Set(['tables', 'instance']),
  import: new Set(['table', 'into']),
  repair: new Set(['table']),
  flush: new Set(['privileges', 'tables', 'logs', 'hosts', 'status', 'binary']),
  unload: new Set(['iam_role', 'credentials', 'access_key_id']),
  add: new Set(['jar', 'jars', 'archive', 'archives']),
  do: new Set(),
  bulk: new Set(['insert']),
  purge: new Set([...['from', 'into', 'table', 'set', 'where', 'values', 'database', 'schema', 'index', 'view', 'column', 'trigger', 'function', 'procedure', 'partition', 'privileges', 'infile', 'data', 'query'], 'binary', 'logs', 'master']),
  grant: new Set([...['from', 'into', 'table', 'set', 'where', 'values', 'database', 'schema', 'index', 'view', 'column', 'trigger', 'function', 'procedure', 'partition', 'privileges', 'infile', 'data', 'query'], 'to', 'user', 'role']),
  declare: new Set([...['from', 'into', 'table', 'set', 'where', 'values'], 'exec', 'execute', 'immediate', 'sp_executesql']),
  begin: new Set([...['from', 'into', 'table', 'set', 'where', 'values'], 'exec', 'execute', 'immediate', 'sp_executesql']),
});
/** Read starters a phrase may begin with (`show me …`, `explain …`): a call counts once a word a statement holds came first, or right after them. */
const phraseStarters = new Set(['show', 'describe', 'desc', 'explain', 'exists']);
/** Words that make a read's text a write: `SELECT … INTO OUTFILE '/var/www/x.php'` (MySQL), `SELECT … INTO t`, `WITH x AS (DELETE …)`. */
const writeWords = new Set(['into', 'outfile', 'dumpfile', 'delete', 'update', 'insert', 'merge', 'drop', 'truncate', 'alter']);

/** The first word of a text, lower case, after blanks, comments and opening parentheses ('' when it starts otherwise). */
export function firstWord(sql: string): string {
  return firstWordAt(sql).word;
}

/** firstWord, and where the text after it starts. */
function firstWordAt(sql: string): { word: string; end: number } {
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (isBlank(c) || c === 0x28 || unicodeBlanks.has(c)) i++;
    else if (c === 0x23 || ((c === 0x2d || c === 0x2f) && sql.charCodeAt(i + 1) === c)) {
      while (i < n && sql.charCodeAt(i) !== 0x0a) i++; // `--`, and ClickHouse's `#` and `//` comments
    } else if (c === 0x2f && sql.charCodeAt(i + 1) === 0x2a) {
      // Nested, as ClickHouse and PostgreSQL read them (what a plain reading takes for a first word there runs nowhere).
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql.charCodeAt(i) === 0x2f && sql.charCodeAt(i + 1) === 0x2a) (depth++, (i += 2));
        else if (sql.charCodeAt(i) === 0x2a && sql.charCodeAt(i + 1) === 0x2f) (depth--, (i += 2));
        else i++;
      }
    } else break;
  }
  let j = i;
  while (j < n && isWordChar(sql.charCodeAt(j))) j++;
  return { word: sql.slice(i, j).toLowerCase(), end: j };
}

/**
 * Visits the words of a text as standard SQL lexes it (`--` and nested `/* *\/` comments; '…'
 * strings skipped, "…" and `…` names taken as words, a doubled quote one quote), each with whether a `(` follows it (blanks and
 * comments between: a call) and whether it names a table engine (`ENGINE = Kafka`). Stops when
 * `visit` returns true. One linear pass, no regular expressions.
 */
function visitWords(sql: string, visit: (word: string, called: boolean, engine: boolean) => boolean): void {
  const n = sql.length;
  let i = 0;
  let pending: string | undefined; // the last word, while only blanks and comments follow it
  let pendingEngine = false;
  let engine = false; // after ENGINE (and an optional `=`)
  const settle = (called: boolean): boolean => {
    const w = pending;
    pending = undefined;
    return w !== undefined && visit(w, called, pendingEngine);
  };
  while (i < n) {
    const c = sql.charCodeAt(i);
    const next = i + 1 < n ? sql.charCodeAt(i + 1) : undefined;
    if (isBlank(c)) {
      i++;
    } else if (c === 0x2d && next === 0x2d) {
      while (i < n && sql.charCodeAt(i) !== 0x0a && sql.charCodeAt(i) !== 0x0d) i++;
    } else if (c === 0x2f && next === 0x2a) {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        const a = sql.charCodeAt(i);
        const b = i + 1 < n ? sql.charCodeAt(i + 1) : undefined;
        if (a === 0x2f && b === 0x2a) (depth++, (i += 2));
        else if (a === 0x2a && b === 0x2f) (depth--, (i += 2));
        else i++;
      }
    } else if (c === 0x27 || c === 0x22 || c === 0x60) {
      if (settle(false)) return;
      const quoted = readQuoted(sql, i, c, false);
      if (!quoted) return; // left open: what follows is quoted to every reader
      i = quoted.end;
      // A quoted name is a name (`` `url`('https://…', CSV) `` calls url); a string is not.
      if (c === 0x27) engine = false;
      else {
        pending = quoted.value.toLowerCase();
        pendingEngine = engine;
        engine = false;
      }
    } else if (isWordChar(c) || c === 0x24) {
      if (settle(false)) return;
      let j = i + 1;
      while (j < n && (isWordChar(sql.charCodeAt(j)) || sql.charCodeAt(j) === 0x24)) j++;
      pending = sql.slice(i, j).toLowerCase();
      pendingEngine = engine;
      engine = pending === 'engine';
      i = j;
    } else {
      if (settle(c === 0x28)) return;
      // `ENGINE = name`: the `=` keeps the engine's place.
      if (!(c === 0x3d && engine)) engine = false;
      i++;
    }
  }
  settle(false);
}

/**
 * What makes a text no grammar Airlock has reads SQL that writes or reaches outside the database,
 * as ClickHouse splits it (typographic quotes, heredocs, backslash escapes, `#` and `//` comments)
 * or as standard SQL does; undefined when neither reading finds any. The text must begin as a
 * statement does (readStarters, writeStarters); then
 *   - a call of a function or a table engine for which `reaches` holds: ClickHouse answers an HTTP
 *     GET read-only (`readonly = 2`), which still runs table functions, so `SELECT * FROM
 *     file('/etc/passwd', LineAsString) SETTINGS max_threads = 1` reads a server file (`SETTINGS`, a
 *     lambda, `LIMIT … BY` are syntax PostgreSQL and SQLite refuse);
 *   - a write's first word with a word only statements hold (`DELETE LOW_PRIORITY FROM users`,
 *     MySQL's own syntax);
 *   - a read's first word with a write's word (`SELECT * FROM users INTO OUTFILE '/var/www/x.php'`).
 */
export function unreadSqlEffect(sql: string, reaches: (name: string) => boolean): string | undefined {
  const { word: first, end: firstEnd } = firstWordAt(sql);
  const read = readStarters.has(first);
  const write = writeStarters.has(first);
  if (!read && !write) return undefined;
  const written = clickhouseText(sql);
  for (const text of written === sql || written === ')' ? [sql] : [sql, written]) {
    let found: string | undefined;
    let seen = 0;
    let statementLike = !phraseStarters.has(first);
    const words = starterWords[first] ?? statementWords;
    visitWords(text, (w, called, engine) => {
      if (seen++ === 0) return false; // the first word itself
      if ((called || engine) && reaches(w) && (statementLike || seen === 2)) found = `a call of ${w}()`;
      else if ((!called || runsText.has(w)) && write && (writeAlone.has(first) || words.has(w))) found = `${first.toUpperCase()} … ${w.toUpperCase()}`;
      else if (!called && read && writeWords.has(w)) found = `${first.toUpperCase()} … ${w.toUpperCase()}`;
      if (!called && (w === 'from' || w === 'table' || w === 'select')) statementLike = true;
      return found !== undefined;
    });
    // Nothing but strings after it (`BINLOG 'base64…'`), or nothing at all (`SHUTDOWN`).
    if (found === undefined && seen === 1 && (writeWhole.has(first) || (writeAlone.has(first) && /['"`]/.test(text)))) found = first.toUpperCase();
    if (found !== undefined) return found;
  }
  // A write's first word followed by a quoted name or value, a user@host or an assignment
  // (`ALTER USER 'root'@'localhost' IDENTIFIED BY 'x'`, `DROP USER app@'%'`, `GRANT ALL ON *.* TO
  // 'x'@'%'`): statements write so, phrases do not (sixteenth pass). Not for SET (a user variable,
  // `SET @x = 1`, is harmless) or DO (calls alone).
  if (write && first !== 'set' && first !== 'do' && /['"`@=]/.test(sql.slice(firstEnd))) return `${first.toUpperCase()} … with a quoted name, user@host or assignment`;
  // MySQL's `KILL 12` (another session's connection).
  if (first === 'kill' && /^\d+;?$/.test(sql.slice(firstEnd).trim())) return 'KILL of a connection';
  return undefined;
}
