// Text as a line-oriented SQL console reads it (psql or the sqlite3 shell behind `websocketd`): the
// console joins what it is given until a semicolon outside quotes, comments and parentheses ends a
// statement, and a backslash outside quotes starts one of its own commands (`\! cmd` runs a shell,
// `\gexec` runs each cell of a query's result as SQL, `\i file`, `\o |cmd`, `\copy`, `\set x …` then
// `:x` …), as a line starting with `.` does in the sqlite3 shell (`.shell cmd`). Lexing follows psql's: '' and "" quotes, E'' backslash escapes, $tag$ quotes, `--` to the
// end of the line, nested /* */ comments. One pass.

/**
 * The sqlite3 shell's dot-commands that only show the schema or change the display (`.shell`,
 * `.system`, `.import`, `.output |cmd`, `.load`, `.read`, `.once` run programs or touch files).
 */
const sqliteShowing = /^(tables|schema|indexes|indices|headers|header|mode|help|quit|exit|databases|width|show|timer|fullschema|nullvalue|separator|changes|echo|print|stats|eqp|explain)$/i;

/** Console commands that only show the catalog or change the display: they run no SQL of the agent's and touch no file or program. */
const showing = /^(d[a-zA-Z+]*|l\+?|list|x|timing|conninfo|q|quit|\?|h|help|encoding|pset|a|t|H|f|C|T|z|sf\+?|sv\+?)$/;

/**
 * The mysql client's named commands that run a program or a file, write a file, change how later
 * text is split or read, or reach another server (sixteenth pass: `websocketd mysql`): `system
 * curl …` runs a shell, `source /tmp/x.sql` a script, `pager`/`tee`/`edit` a program or a file,
 * `connect db evil.example` the same credentials elsewhere, `charset sjis` the encoding in which a
 * backslash ends a character, `delimiter //` the end of a statement. The client takes one at the
 * start of a line while no statement is pending, its name in any letter case, a `;` in the line
 * or not (checked with MariaDB's client 10.11). The others (`status`, `warnings`, `go`, `use` …)
 * run nothing Airlock does not read.
 */
const mysqlCommands = new Set(['system', 'source', 'pager', 'tee', 'edit', 'connect', 'charset', 'delimiter']);

/** Whether a text may hold one of the mysql client's named commands (mysqlCommands) at a line start: a linear test. */
export const mysqlCommandLine = /(?:^|\n)[ \t]*(?:system|source|pager|tee|edit|connect|charset|delimiter)(?=[ \t\r\n]|$)/i;

/**
 * Other consoles' own commands at a line start (seventeenth pass: `websocketd sqlcmd`, `sqlplus`,
 * SQLcl, snowsql, Firebird's isql, db2): sqlcmd reads `!! cmd` (a shell), `:r file`, `:!! cmd`,
 * `:connect`, `:out`, `:setvar` (a `$(x)` later lines are rewritten with) and `GO 100` (the batch
 * run a hundred times) at the start of any line, a statement pending or not, inside a string too
 * (its lines are read before T-SQL is).
 */
const anyLineCommand = /(?:^|\n)[ \t]*(?:!!|:!!|:(?:r|out|error|connect|setvar|on|ed|perftrace|exit|xml|reset)(?![A-Za-z0-9_])|go[ \t]+\d)/i;

/**
 * Commands a console reads at a line start while no statement is pending: a shell (`HOST cmd`,
 * `HO`, `! cmd`, `$ cmd`, Firebird's `SHELL`, snowsql's `!system`, db2's `!`), a script (`@file`,
 * `@@file`, `START /path`, `GET /path` then `/`, Firebird's `INPUT 'f'`, SQLcl's `SCRIPT`), a
 * file written (`SPOOL`, `SAVE /path`, `STORE SET /path`, `OUTPUT 'f'`), text later lines are
 * rewritten with (`DEFINE x = …`, `ACCEPT x`, `COLUMN c NEW_VALUE x`, SQLcl's `ALIAS`), the buffer
 * run again (`/`, `RUN`, `R`, SQLcl's `REPEAT`), another server or account (`CONN`, `COPY FROM`,
 * `PASSWORD`, SQLcl's `SSHTUNNEL`), or the instance (`STARTUP`, `RECOVER`). A word commands share
 * with chat (`start`, `get`, `save`, `input`) counts only with a path or quoted file after it.
 */
const shellWords = new Set(['host', 'ho', 'spool', 'spo', 'shell', 'script', 'sshtunnel', 'alias', 'conn']);
const fileWords = new Set(['start', 'sta', 'get', 'save', 'store', 'input', 'output']);
const acceptOptions = ['char', 'num', 'date', 'binary_', 'format', 'def', 'prompt', 'nopr', 'hide'];
const startupOptions = new Set(['force', 'restrict', 'pfile', 'quiet', 'mount', 'open', 'nomount', 'upgrade']);
const recoverOptions = new Set(['database', 'tablespace', 'datafile', 'standby', 'automatic', 'managed', 'until']);

function idleLineCommand(line: string): boolean {
  const t = line.trimStart();
  const c = t[0];
  if (c === '!') return t[1] !== '=';
  if (c === '@') return t.length > 1 && t[1] !== ' ' && t[1] !== '\t' && t[1] !== '\r';
  if (c === '$') return t[1] === ' ' || t[1] === '\t';
  const words = t.toLowerCase().split(/[ \t\r]+/).filter((w) => w !== '');
  const [w0 = '', w1, w2] = words;
  if (words.length === 1 && (w0 === '/' || w0 === 'run' || w0 === 'r')) return true;
  const word = /^[a-z]+/.exec(w0)?.[0] ?? '';
  if (!word || /[a-z0-9_$#]/.test(w0[word.length] ?? '')) return false;
  if (shellWords.has(word)) return true;
  if (word === 'repeat') return /^\d/.test(w1 ?? '');
  if (word === 'acc' || word === 'accept') return w1 !== undefined && /^[a-z_][\w$#]*$/.test(w1) && (w2 === undefined || acceptOptions.some((o) => w2.startsWith(o)));
  if (word === 'passw' || word === 'password') return words.length <= 2;
  if (word === 'startup') return w1 === undefined || startupOptions.has(w1);
  if (word === 'recover') return w1 === undefined || recoverOptions.has(w1);
  if (word === 'def' || word === 'define') return /^def(?:ine)?[ \t]+[a-z_][\w$#]*[ \t]*=/i.test(t);
  if (word === 'col' || word === 'column') return w1 !== undefined && (t.toLowerCase().includes('new_v') || t.toLowerCase().includes('old_v'));
  if (word === 'copy') return w1 === 'from' || w1 === 'to';
  if (fileWords.has(word)) return words.length >= 2 && /[/\\~'"]/.test(t.slice(word.length));
  return false;
}

/** First words of the commands anyLineCommand and idleLineCommand read (otherConsoleLine). */
const otherCommandWords = new Set(['host', 'ho', 'spool', 'spo', 'shell', 'script', 'sshtunnel', 'alias', 'repeat', 'passw', 'password', 'startup', 'recover', 'conn', 'run', 'r', 'accept', 'acc', 'def', 'define', 'col', 'column', 'copy', 'start', 'sta', 'get', 'save', 'store', 'input', 'output', 'go']);

/**
 * Whether a text may hold one of those commands (anyLineCommand, idleLineCommand) at a line start:
 * a cheap test before the console's reading. One pass over the line starts.
 */
export function otherConsoleLine(text: string): boolean {
  for (let at = 0; at < text.length; ) {
    let i = at;
    while (text[i] === ' ' || text[i] === '\t') i++;
    const c = text[i];
    if (c === '!' || c === '@' || c === ':' || c === '$' || c === '/') return true;
    let j = i;
    while (j < text.length && j - i < 12 && /[A-Za-z]/.test(text[j]!)) j++;
    if (j > i && !/[A-Za-z0-9_]/.test(text[j] ?? '') && otherCommandWords.has(text.slice(i, j).toLowerCase())) return true;
    const next = text.indexOf('\n', i);
    if (next < 0) break;
    at = next + 1;
  }
  return false;
}

/** At most this many statement ends are reported (ConsoleRead.ends): past it the rest read as one. */
const MAX_ENDS = 1000;

export interface ConsoleRead {
  /** The text after the last statement the console would have sent: what it still holds. */
  tail: string;
  /** The first console command that runs something Airlock does not read, if any (`\gexec`, `\!`). */
  command?: string;
  /** Where each statement the console sends ends (just past its `;`), in order. */
  ends: number[];
}

export function consoleRead(text: string): ConsoleRead {
  const n = text.length;
  let i = 0;
  let depth = 0;
  let end = 0; // where the text after the last sent statement starts
  let command: string | undefined;
  const ends: number[] = [];
  const anyLine = anyLineCommand.exec(text);
  if (anyLine) command = anyLine[0].trim().slice(0, 20);
  // Nothing but blanks and comments since the last statement ended (its commands' place).
  let blank = true;
  while (i < n) {
    const c = text[i]!;
    if ((i === 0 || text[i - 1] === '\n') && command === undefined && blank) {
      const lineEnd = text.indexOf('\n', i);
      // A line while no statement is pending: the mysql client reads its named commands there, SQL*Plus and others theirs.
      const line = text.slice(i, Math.min(lineEnd < 0 ? n : lineEnd, i + 400));
      const name = /^[ \t]*([A-Za-z]+)(?=[ \t\r]|$)/.exec(line.slice(0, 40))?.[1]?.toLowerCase();
      if (name !== undefined && mysqlCommands.has(name)) command = name;
      else if (idleLineCommand(line)) command = line.trim().slice(0, 20);
    }
    if (c === '-' && text[i + 1] === '-') {
      const e = text.indexOf('\n', i);
      i = e < 0 ? n : e + 1;
    } else if (c === '/' && text[i + 1] === '*') {
      let nest = 1;
      i += 2;
      while (i < n && nest > 0) {
        if (text[i] === '/' && text[i + 1] === '*') nest++, i += 2;
        else if (text[i] === '*' && text[i + 1] === '/') nest--, i += 2;
        else i++;
      }
    } else if (c === "'" || c === '"') {
      blank = false;
      const escapes = c === "'" && (text[i - 1] === 'E' || text[i - 1] === 'e') && !/[A-Za-z0-9_$]/.test(text[i - 2] ?? '');
      i++;
      while (i < n) {
        if (escapes && text[i] === '\\') i += 2;
        else if (text[i] === c) {
          if (text[i + 1] === c) i += 2;
          else break;
        } else i++;
      }
      i++;
    } else if (c === '$' && !/[A-Za-z0-9_$]/.test(text[i - 1] ?? '')) {
      blank = false;
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i, i + 66));
      if (!m) {
        i++;
        continue;
      }
      const close = text.indexOf(m[0], i + m[0].length);
      i = close < 0 ? n : close + m[0].length;
    } else if (c === '.' && /(^|\n)[ \t]*$/.test(text.slice(Math.max(0, i - 64), i)) && /[A-Za-z]/.test(text[i + 1] ?? '')) {
      // A line the sqlite3 shell (`websocketd sqlite3 app.db`) reads as one of its dot-commands.
      const name = /^[A-Za-z]+/.exec(text.slice(i + 1, i + 40))?.[0] ?? '';
      if (!sqliteShowing.test(name)) command ??= `.${name}`;
      const e = text.indexOf('\n', i);
      i = e < 0 ? n : e + 1;
    } else if (c === '\\') {
      const name = /^[A-Za-z!?+]+/.exec(text.slice(i + 1, i + 40))?.[0] ?? '';
      if (!showing.test(name)) command ??= `\\${name || text[i + 1] || ''}`;
      // The rest of the line is the command's arguments.
      const e = text.indexOf('\n', i);
      i = e < 0 ? n : e + 1;
    } else {
      if (c === '(') depth++;
      else if (c === ')') depth = Math.max(0, depth - 1);
      else if (c === ';' && depth === 0) {
        end = i + 1;
        if (ends.length < MAX_ENDS) ends.push(end);
      }
      if (c === ';' && depth === 0) blank = true;
      else if (c !== ' ' && c !== '\t' && c !== '\n' && c !== '\r') blank = false;
      i++;
    }
  }
  return command === undefined ? { tail: text.slice(end), ends } : { tail: text.slice(end), command, ends };
}
