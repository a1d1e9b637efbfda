// SQL for SQLite services (Cloudflare D1), read by SQLite itself: the official SQLite build
// compiled to WebAssembly (@sqlite.org/sqlite-wasm), loaded by the first SQL that needs it. SQLite's own
// tokenizer splits the statements (`sqlite3_prepare_v2` and its tail), its own parser and name
// resolution compile each one, and its authorizer callback reports every action the statement
// would take (read, insert, update, delete, drop, attach, pragma, function …) with the tables —
// the engine's truth, not patterns over text.
//
// A proxy does not know the database's schema, and SQLite resolves names while it compiles, so
// each request gets a fresh in-memory database in which missing tables, columns, indexes, views,
// triggers and attached schemas are created as the engine asks for them (bounded attempts). Unknown
// functions are not invented: SQL calling a function SQLite does not have would fail on the server
// too, and is reported unparsed (which fails closed).
//
// Whether a DELETE or UPDATE touches every row is decided by running it, inside a savepoint that is
// rolled back, against sample rows of varied types (other tables hold disjoint values) with a step
// budget: a WHERE that matches every sample row (`1=1`, `id = id`, `x OR 1`, none at all) is
// destructive. Only DELETE/UPDATE statements whose functions are all deterministic built-ins run.
import type { SqlStatement } from '../types.ts';
import { engineLoader } from './sql-engines.ts';
import { ftsCommandInsert } from './sql-fts.ts';
import { tokens, type Token } from './sqlite-tokens.ts';
import type { SqlAnalysis } from './sql.ts';
import { chargeSqlReading, keyName, MAX_SQL_BYTES, MAX_SQL_STATEMENTS, numberLikeName, readBudgetError } from './sql.ts';

const MAX_TEXT_CHARS = 1000;
/** Schema objects created on demand, per request: past this the SQL is reported unparsed. */
const MAX_SYNTH_ATTEMPTS = 64;
/** Names a synthesized table gets as columns up front (more are added one by one as SQLite asks). */
const MAX_NAMES = 48;
/** Bytes compiled per request, over all attempts (bounds the work a hostile statement can cause). */
const MAX_COMPILED_BYTES = 8 * MAX_SQL_BYTES;
/**
 * Copies of common table expressions SQLite makes compiling one statement, at most. SQLite compiles
 * each reference to a CTE as its own copy of the CTE's query (and each reference inside it, again):
 * 15 CTEs that each name the next twice are 32,768 copies, a 900-byte statement that held the main
 * thread for seconds (20 ran out of memory); a chain of 2,000 took over a minute.
 */
export const MAX_CTE_EXPANSION = 128;
/**
 * Parentheses a statement may nest. SQLite recurses per level on the thread's stack: 8,000 nested
 * subqueries (170 KB) overflowed it inside SQLite, after seconds, and left the engine unusable.
 */
export const MAX_NESTING = 256;
/** The sum of each compile's CTE copies squared, per request (a chain's cost grows with its square). */
const MAX_CTE_COST = MAX_CTE_EXPANSION ** 2;
const SAMPLE_ROWS = 6;
/** Sample value of row i, column j: varied types, different in every column; other tables' values never equal the target's. */
function sampleValue(i: number, j: number, other: boolean, json = false): string {
  const o = other ? 300_000 : 0;
  switch (i % SAMPLE_ROWS) {
    case 0: return String(j + 1 + o);
    case 1: return String(-(j + 7 + o));
    case 2: return String(j + 2.5 + o);
    // As JSON (an object, an array) for a WHERE that reads its column as JSON (sampleRun).
    case 3: return json ? `'{"${other ? 'b' : 'a'}${j}": ${j}}'` : `'${other ? 'b' : 'a'}${j}'`;
    case 4: return json ? `'["${other ? 'Yy' : 'Zz'}${j}"]'` : `'${other ? 'Yy' : 'Zz'}${j}'`;
    default: return String(1_000_000 * (other ? 2 : 1) + j);
  }
}
/**
 * Whether a statement may compare something with a number or a truth value, as MySQL would compare a
 * text column numerically: a numeric literal, arithmetic, TRUE/FALSE, NOT/`!`/XOR, a call or
 * subquery (`LENGTH('')` is 0), a user variable (`@z`), or a bound number. Others (`name < 'm'`)
 * are compared as text there and need no second run.
 */
function numericWords(toks: Token[], params: unknown[] | undefined): boolean {
  return (
    toks.some((tk) => (tk.type === 'word' || tk.type === 'punct') && (/^[0-9]/.test(tk.value) || /^[!+*/%&|^~@-]$/.test(tk.value) || /^(?:true|false|not|xor|div|mod)$/i.test(tk.value))) ||
    toks.some((tk) => tk.type === '(') ||
    (params ?? []).some((v) => typeof v === 'number' || typeof v === 'boolean')
  );
}

/** Which values a sample run's rows hold: the varied samples, MySQL's numeric reading of text (0) in columns that may hold text, or keys. */
type SampleValues = 'mixed' | 'mysqlText' | 'keys';
/**
 * What a key column (`id`, `user_id`: keyName) holds in the `keys` run: serial, identity,
 * AUTO_INCREMENT keys and rowids count from 1, so no negative, fractional or text value, up to
 * int8's largest (a bound below it names rows, as pastEveryInteger reads it).
 */
const KEY_SAMPLES = ['1', '2', '3', '7', '1000', '9223372036854775807'];
/** Row i's key in column j: the samples turned by the column, so two key columns are equal in no row and neither is always the larger. */
const keySample = (i: number, j: number): string => String(BigInt(KEY_SAMPLES[(i + j) % SAMPLE_ROWS]!) - BigInt(Math.floor(j / SAMPLE_ROWS)));

/** A parameter's value in the second sample run: truthy, and equal to no sample value. */
const UNSAMPLED_VALUE = 7_777_777;
/** VM steps the breadth test may take (progress callbacks every 1000 steps). */
const PROGRESS_CALLS = 200;
/**
 * VM steps all the breadth tests of one request may take together (progress callbacks), over every
 * analysis of it (each reading of a text of unknown dialect, each SQL-carrying tool call of a
 * JSON-RPC batch: withSampleBudget). Each statement's own bound is ~20 ms of the main thread: 500
 * DELETEs whose WHERE runs a recursive CTE to that bound (18,000 tokens, within every other limit)
 * held it 10 s, 8 tool calls of 8 such DELETEs (9 KB) 4 s. An ordinary DELETE against six sample
 * rows takes fewer steps than one callback, so only such statements spend this; once it is spent a
 * statement's run is cut at its first callback and taken to touch every row.
 */
export const MAX_TOTAL_PROGRESS_CALLS = 500;

/** Progress callbacks of every sample run in this process: what tests compare (steps, not timings). */
let progressCallsSeen = 0;
export const sampleRunSteps = (): number => progressCallsSeen;

/** The budget the analyses inside withSampleBudget share; outside it each analysis has its own. */
let sharedBudget: { calls: number } | undefined;

/** Runs `fn` (one request's description) with one sample-run budget for every SQLite analysis in it. */
export function withSampleBudget<T>(fn: () => T): T {
  if (sharedBudget) return fn();
  sharedBudget = { calls: 0 };
  try {
    return fn();
  } finally {
    sharedBudget = undefined;
  }
}

// Authorizer action codes (sqlite3.h).
const A = {
  CREATE_INDEX: 1, CREATE_TABLE: 2, CREATE_TEMP_INDEX: 3, CREATE_TEMP_TABLE: 4, CREATE_TEMP_TRIGGER: 5,
  CREATE_TEMP_VIEW: 6, CREATE_TRIGGER: 7, CREATE_VIEW: 8, DELETE: 9, DROP_INDEX: 10, DROP_TABLE: 11,
  DROP_TEMP_INDEX: 12, DROP_TEMP_TABLE: 13, DROP_TEMP_TRIGGER: 14, DROP_TEMP_VIEW: 15, DROP_TRIGGER: 16,
  DROP_VIEW: 17, INSERT: 18, PRAGMA: 19, READ: 20, SELECT: 21, TRANSACTION: 22, UPDATE: 23, ATTACH: 24,
  DETACH: 25, ALTER_TABLE: 26, REINDEX: 27, ANALYZE: 28, CREATE_VTABLE: 29, DROP_VTABLE: 30, FUNCTION: 31,
  SAVEPOINT: 32, RECURSIVE: 33,
} as const;
const dropActions = new Set<number>([A.DROP_INDEX, A.DROP_TABLE, A.DROP_TEMP_INDEX, A.DROP_TEMP_TABLE, A.DROP_TEMP_TRIGGER, A.DROP_TEMP_VIEW, A.DROP_TRIGGER, A.DROP_VIEW, A.DROP_VTABLE]);
const ddlActions = new Set<number>([...dropActions, A.CREATE_INDEX, A.CREATE_TABLE, A.CREATE_TEMP_INDEX, A.CREATE_TEMP_TABLE, A.CREATE_TEMP_TRIGGER, A.CREATE_TEMP_VIEW, A.CREATE_TRIGGER, A.CREATE_VIEW, A.ALTER_TABLE, A.CREATE_VTABLE]);
const writeActions = new Set<number>([...ddlActions, A.INSERT, A.UPDATE, A.DELETE, A.ATTACH, A.DETACH, A.REINDEX, A.ANALYZE]);
const internalTables = new Set(['sqlite_master', 'sqlite_temp_master', 'sqlite_schema', 'sqlite_temp_schema']);

/** Built-ins that do something beyond computing a value. */
const destructiveFunctions = new Set(['load_extension', 'fts3_tokenizer', 'writefile', 'edit']);
/** Built-ins whose result depends on more than their arguments: a WHERE using them cannot be judged by a sample run. */
const nondeterministic = new Set(['random', 'randomblob', 'changes', 'total_changes', 'last_insert_rowid', 'sqlite_offset']);
/** Pragmas that only report (with or without an argument naming a table or index). */
const readOnlyPragmas = new Set([
  'table_info', 'table_xinfo', 'table_list', 'index_list', 'index_info', 'index_xinfo', 'foreign_key_list',
  'foreign_key_check', 'collation_list', 'database_list', 'function_list', 'module_list', 'pragma_list',
  'compile_options', 'integrity_check', 'quick_check', 'data_version', 'freelist_count', 'page_count',
]);
/** Pragmas that report without an argument and change a setting with one. */
const settingPragmas = new Set(['schema_version', 'user_version', 'application_id', 'encoding', 'foreign_keys', 'page_size', 'cache_size', 'journal_mode', 'synchronous']);

interface Capi {
  sqlite3_set_authorizer(db: number, cb: number, p: number): number;
  sqlite3_keyword_check(word: string, n: number): number;
  sqlite3_prepare_v2(db: number, sql: number, n: number, ppStmt: number, pzTail: number): number;
  sqlite3_finalize(stmt: number): number;
  sqlite3_step(stmt: number): number;
  sqlite3_reset(stmt: number): number;
  sqlite3_bind_parameter_count(stmt: number): number;
  sqlite3_bind_int(stmt: number, i: number, v: number): number;
  sqlite3_bind_double(stmt: number, i: number, v: number): number;
  sqlite3_bind_text(stmt: number, i: number, v: number, n: number, destructor: number): number;
  sqlite3_bind_blob(stmt: number, i: number, v: number, n: number, destructor: number): number;
  SQLITE_WASM_DEALLOC: number;
  sqlite3_bind_null(stmt: number, i: number): number;
  sqlite3_bind_parameter_name(stmt: number, i: number): string | null;
  sqlite3_clear_bindings(stmt: number): number;
  sqlite3_errmsg(db: number): string;
  sqlite3_stmt_readonly(stmt: number): number;
  sqlite3_stmt_isexplain(stmt: number): number;
  sqlite3_changes(db: number): number;
  sqlite3_get_autocommit(db: number): number;
  sqlite3_db_config(db: number, op: number, a: number, b: number): number;
  sqlite3_limit(db: number, id: number, value: number): number;
  sqlite3_progress_handler(db: number, n: number, cb: number, p: number): void;
  SQLITE_DBCONFIG_DQS_DML: number;
  SQLITE_DBCONFIG_DQS_DDL: number;
  SQLITE_DBCONFIG_DEFENSIVE: number;
  SQLITE_LIMIT_SQL_LENGTH: number;
  SQLITE_LIMIT_LENGTH: number;
  SQLITE_ROW: number;
  SQLITE_DONE: number;
  SQLITE_ERROR: number;
}
interface Wasm {
  installFunction(sig: string, fn: (...args: number[]) => number): number;
  cstrToJs(p: number): string;
  allocCString(s: string, withLength: true): [number, number];
  allocFromTypedArray(a: Uint8Array): number;
  dealloc(p: number): void;
  peekPtr(p: number): number;
  pstack: { pointer: number; restore(p: number): void; allocPtr(): number };
}
interface Db {
  pointer: number;
  exec(sql: string): unknown;
  close(): void;
}
interface Sqlite3 {
  capi: Capi;
  wasm: Wasm;
  oo1: { DB: new (name: string) => Db };
}

/** The scratch database being analyzed (analysis is synchronous: one at a time). */
let current: Scratch | undefined;
/** The authorizer's answer that leaves an action out of the compiled statement without an error. */
const SQLITE_IGNORE = 2;
/** The authorizer and progress callbacks, installed in the WASM function table once. */
let authorizerPtr = 0;
let progressPtr = 0;

/** SQLite itself, instantiated by the first SQL that needs it (sql-engines.ts), not at import. */
const sqlite = engineLoader<Sqlite3>('SQLite engine', async () => {
  const init = (await import('@sqlite.org/sqlite-wasm')).default as unknown as (o: object) => Promise<Sqlite3>;
  const s = await init({ print: () => undefined, printErr: () => undefined });
  const text = (p: number): string | null => (p ? s.wasm.cstrToJs(p) : null);
  authorizerPtr = s.wasm.installFunction('iiiiiii', (_p, code, a, b, dbName) => {
    if (!current?.recording) return 0;
    current.actions.push({ code, a: text(a), b: text(b), db: text(dbName) });
    // SQLITE_IGNORE for the agent's PRAGMA: SQLite acts on many while compiling them, and some act
    // on the whole engine, not the scratch database (seventeenth pass: one `PRAGMA hard_heap_limit
    // = 1`, a D1 query or a GET's `?sql=`, left every later SQL of every agent unread, held
    // critical, until a restart). Recorded above, then compiled to nothing.
    return code === A.PRAGMA ? SQLITE_IGNORE : 0;
  });
  progressPtr = s.wasm.installFunction('ii', () => (++progressCallsSeen, current && (++current.progressCalls > PROGRESS_CALLS || ++current.budget.calls > MAX_TOTAL_PROGRESS_CALLS) ? 1 : 0));
  return s;
});

/** Instantiates SQLite's WASM module once; analyzeSqlite reports SQL unparsed until it has. */
export const loadSqliteEngine = (): Promise<void> => sqlite.load();

interface Action {
  code: number;
  a: string | null;
  b: string | null;
  db: string | null;
}

class Unparsed extends Error {}

function quoteId(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function topLevelWords(toks: Token[]): string[] {
  return toks.filter((t) => t.type === 'word' && t.depth === 0).map((t) => t.value.toUpperCase());
}

/** Bare words that are never made columns: a column of that name would change what they mean (TRUE is a column when one exists). */
const notColumns = new Set(['true', 'false', 'rowid', 'oid', '_rowid_']);

/** Names a statement may use as columns: every quoted identifier and bare non-keyword word (the first MAX_NAMES). */
function nameCandidates(toks: Token[], isKeyword: (w: string) => boolean): string[] {
  const names = new Set<string>();
  for (const t of toks) {
    if (t.type !== 'word' && t.type !== 'ident') continue;
    if (t.type === 'word' && (notColumns.has(t.value.toLowerCase()) || isKeyword(t.value))) continue;
    if (t.value && t.value.length <= 128) names.add(t.value);
    if (names.size >= MAX_NAMES) break;
  }
  return [...names];
}

/** The column lists of `ON CONFLICT (…)` targets. */
/**
 * How many CTE queries SQLite compiles for a statement, bounded: each reference to a CTE counts
 * the CTE's own references again. Names are compared without their scope (a nested WITH's name
 * counts wherever it appears), which can only overcount. Returns `limit + 1` past `limit`. Linear.
 */
export function cteExpansion(toks: Token[], limit = MAX_CTE_EXPANSION): number {
  const key = (t: Token): string | undefined => (t.type === 'word' || t.type === 'ident' ? t.value.toLowerCase() : undefined);
  // Definitions: NAME [( columns )] AS [NOT] [MATERIALIZED] ( body ).
  const bodies = new Map<string, Array<[number, number]>>();
  const definitionAt = new Set<number>();
  for (let i = 0; i < toks.length; i++) {
    const name = key(toks[i]!);
    if (name === undefined) continue;
    let j = i + 1;
    if (toks[j]?.type === '(') {
      const d = toks[j]!.depth;
      j++;
      while (j < toks.length && !(toks[j]!.type === ')' && toks[j]!.depth === d)) j++;
      j++;
    }
    if (toks[j]?.type !== 'word' || toks[j]!.value.toLowerCase() !== 'as') continue;
    j++;
    if (toks[j]?.type === 'word' && toks[j]!.value.toLowerCase() === 'not') j++;
    if (toks[j]?.type === 'word' && toks[j]!.value.toLowerCase() === 'materialized') j++;
    if (toks[j]?.type !== '(') continue;
    const d = toks[j]!.depth;
    let e = j + 1;
    while (e < toks.length && !(toks[e]!.type === ')' && toks[e]!.depth === d)) e++;
    definitionAt.add(i);
    const list = bodies.get(name) ?? [];
    list.push([j + 1, e]);
    bodies.set(name, list);
  }
  if (!bodies.size) return 0;
  // Each name's references, by position; a name defined twice (in two scopes) counts both bodies.
  const refsIn = (from: number, to: number): string[] => {
    const out: string[] = [];
    for (let k = from; k < to; k++) {
      const name = key(toks[k]!);
      if (name !== undefined && !definitionAt.has(k) && bodies.has(name)) out.push(name);
    }
    return out;
  };
  const refs = new Map<string, string[]>();
  for (const [name, spans] of bodies) refs.set(name, spans.flatMap(([a, b]) => refsIn(a, b)));
  // Copies per name, memoized; a name met again while it is being counted is a recursive CTE (one copy).
  const copies = new Map<string, number>();
  const counting = new Set<string>();
  const count = (name: string): number => {
    const known = copies.get(name);
    if (known !== undefined) return known;
    if (counting.has(name)) return 1;
    counting.add(name);
    let n = 1;
    for (const r of refs.get(name)!) {
      n += count(r);
      if (n > limit) break;
    }
    counting.delete(name);
    n = Math.min(n, limit + 1);
    copies.set(name, n);
    return n;
  };
  // The statement's own references: those in no CTE's body.
  const inBody = new Int32Array(toks.length + 1);
  for (const spans of bodies.values()) for (const [a, b] of spans) { inBody[a]! += 1; inBody[b]! -= 1; }
  let total = 0;
  let depth = 0;
  for (let k = 0; k < toks.length; k++) {
    depth += inBody[k]!;
    const name = key(toks[k]!);
    if (depth > 0 || name === undefined || definitionAt.has(k) || !bodies.has(name)) continue;
    total += count(name);
    if (total > limit) return limit + 1;
  }
  return total;
}

function conflictTargets(toks: Token[]): string[][] {
  const out: string[][] = [];
  for (let k = 0; k + 2 < toks.length; k++) {
    if (toks[k]!.type !== 'word' || toks[k]!.value.toUpperCase() !== 'ON') continue;
    if (toks[k + 1]!.type !== 'word' || toks[k + 1]!.value.toUpperCase() !== 'CONFLICT' || toks[k + 2]!.type !== '(') continue;
    const depth = toks[k + 2]!.depth;
    const cols: string[] = [];
    let expectName = true;
    for (let j = k + 3; j < toks.length && !(toks[j]!.type === ')' && toks[j]!.depth === depth); j++) {
      const t = toks[j]!;
      if (t.type === 'punct' && t.value === ',') expectName = true;
      else if (expectName && (t.type === 'word' || t.type === 'ident')) {
        cols.push(t.value);
        expectName = false;
      }
    }
    if (cols.length) out.push(cols);
  }
  return out;
}

const mainVerbs = new Set(['SELECT', 'VALUES', 'INSERT', 'REPLACE', 'UPDATE', 'DELETE']);

/** The statement's verb and the words after it (after a WITH clause's CTEs). */
function verbOf(words: string[]): { verb: string; rest: string[] } {
  let k = 0;
  if (words[0] === 'EXPLAIN') k = words[1] === 'QUERY' ? 3 : 1;
  if (words[k] === 'WITH') {
    const at = words.findIndex((w, j) => j > k && mainVerbs.has(w));
    if (at > 0) k = at;
  }
  return { verb: words[k] ?? '', rest: words.slice(k + 1) };
}

interface Synth {
  schema: string;
  name: string;
  columns: Set<string>;
  /** Its column count was set by an INSERT without a column list. */
  sized?: boolean;
}

/** One request's scratch database: a fresh schema grown on demand. */
class Scratch {
  readonly db: Db;
  readonly tables: Synth[] = [];
  readonly schemas = new Set(['main', 'temp']);
  actions: Action[] = [];
  recording = false;
  attempts = 0;
  progressCalls = 0;
  /** Progress callbacks of every sample run of this analysis, or of the request (MAX_TOTAL_PROGRESS_CALLS). */
  readonly budget = sharedBudget ?? { calls: 0 };
  /** Columns already tried per (column, table) so a retry always makes progress. */
  private readonly tried = new Set<string>();
  /** Names the statement being compiled uses: new tables get them all as columns. */
  names: string[] = [];
  conflicts: string[][] = [];
  /** The statement being compiled holds a parenthesis with more than a type's size in it (a definition with an expression, when it adds a column). */
  parenthesized = false;
  /** The values the request binds to the text being analyzed (D1's and Neon's `params`), if any. */
  params: unknown[] | undefined;
  /** The text may run on a MySQL-family server, which compares a text column with a number as a number (mysqlNumberRun). */
  mysqlNumbers = false;
  /** Keys are run too (the `keys` run): not for a PostgreSQL service, which refuses SQLite's own spellings (and a number as a condition). */
  keyRun = true;
  /** The statement being judged compares something with a number or a truth value (numericWords). */
  numeric = false;
  private readonly uniques = new Set<string>();

  constructor(private readonly s: Sqlite3) {
    const { capi } = s;
    this.db = new s.oo1.DB(':memory:');
    const p = this.db.pointer;
    // "x" is always an identifier (never the string-literal fallback), as in strict SQLite builds.
    capi.sqlite3_db_config(p, capi.SQLITE_DBCONFIG_DQS_DML, 0, 0);
    capi.sqlite3_db_config(p, capi.SQLITE_DBCONFIG_DQS_DDL, 0, 0);
    capi.sqlite3_db_config(p, capi.SQLITE_DBCONFIG_DEFENSIVE, 1, 0);
    capi.sqlite3_limit(p, capi.SQLITE_LIMIT_SQL_LENGTH, MAX_SQL_BYTES + 16);
    capi.sqlite3_limit(p, capi.SQLITE_LIMIT_LENGTH, 1_000_000);
    capi.sqlite3_set_authorizer(p, authorizerPtr, 0);
  }

  close(): void {
    this.db.close();
  }

  private run(sql: string): void {
    const was = this.recording;
    this.recording = false;
    try {
      this.db.exec(sql);
    } finally {
      this.recording = was;
    }
  }

  private table(schema: string, name: string): Synth | undefined {
    return this.tables.find((t) => t.schema === schema && t.name.toLowerCase() === name.toLowerCase());
  }

  private addTable(schema: string, name: string): Synth {
    if (!this.schemas.has(schema)) {
      this.run(`ATTACH ':memory:' AS ${quoteId(schema)}`);
      this.schemas.add(schema);
    }
    // Every name the statement uses is a column, so a name in a subquery resolves to the table of
    // that subquery, as it would in a real schema (an ambiguous name is later kept in one table only).
    const columns = this.names.filter((c) => c.toLowerCase() !== 'airlock_synthetic_' && c.toLowerCase() !== 'rowid');
    const seen = new Set<string>();
    const unique = columns.filter((c) => !seen.has(c.toLowerCase()) && seen.add(c.toLowerCase()));
    this.run(`CREATE TABLE ${quoteId(schema)}.${quoteId(name)} (${['airlock_synthetic_', ...unique].map(quoteId).join(', ')})`);
    const t = { schema, name, columns: new Set<string>(unique) };
    this.tables.push(t);
    return t;
  }

  private addColumn(t: Synth, column: string): void {
    this.tried.add(`${column}\u0000${t.schema}.${t.name}`);
    this.run(`ALTER TABLE ${quoteId(t.schema)}.${quoteId(t.name)} ADD COLUMN ${quoteId(column)}`);
    t.columns.add(column);
  }

  /** Creates what an error says is missing; false when the error is not about a missing object. */
  synthesize(message: string): boolean {
    if (++this.attempts > MAX_SYNTH_ATTEMPTS) throw new Unparsed('SQL names too many unknown objects to analyze');
    let m: RegExpExecArray | [string, string, string] | null;
    if ((m = /^no such table: (.+)$/.exec(message))) {
      const full = m[1]!;
      const dot = full.indexOf('.');
      const [schema, name] = dot > 0 && !this.table('main', full) ? [full.slice(0, dot), full.slice(dot + 1)] : ['main', full];
      if (this.table(schema, name)) {
        if (this.table('main', full)) return false;
        this.addTable('main', full); // a table whose own name holds a dot
      } else this.addTable(schema, name);
      return true;
    }
    if ((m = missingColumn(message))) {
      const t = this.tables.find((x) => x.name.toLowerCase() === m![1]!.toLowerCase() || `${x.schema}.${x.name}`.toLowerCase() === m![1]!.toLowerCase());
      if (!t || t.columns.has(m[2]!)) return false;
      this.addColumn(t, m[2]!);
      return true;
    }
    if ((m = /^no such column: (.+)$/.exec(message))) {
      let ref = m[1]!;
      if (ref.length >= 2 && ref.startsWith('"') && ref.endsWith('"')) ref = ref.slice(1, -1).replace(/""/g, '"');
      const parts = ref.split('.');
      const column = parts.pop()!;
      const qualifier = parts.pop();
      // A qualifier naming one of our tables gets the column; an alias (unknown here) tries each table in turn.
      const named = qualifier ? this.tables.filter((t) => t.name.toLowerCase() === qualifier.toLowerCase()) : [];
      const candidates = [...named, ...this.tables].filter((t) => !this.tried.has(`${column}\u0000${t.schema}.${t.name}`));
      if (!candidates.length) return false;
      this.addColumn(candidates[0]!, column);
      return true;
    }
    if ((m = /^table (.+) has (\d+) columns but (\d+) values were supplied$/.exec(message))) {
      // INSERT without a column list: the table has as many columns as the values given.
      const t = this.tables.find((x) => x.name.toLowerCase() === m![1]!.toLowerCase() || `${x.schema}.${x.name}`.toLowerCase() === m![1]!.toLowerCase());
      const want = Number(m[3]);
      if (!t || t.sized || want < 1 || want > 2000) return false;
      t.sized = true;
      const cols = [...t.columns];
      for (const c of cols.slice(Math.max(0, want - 1))) {
        this.run(`ALTER TABLE ${quoteId(t.schema)}.${quoteId(t.name)} DROP COLUMN ${quoteId(c)}`);
        t.columns.delete(c);
      }
      for (let k = cols.length + 1; k < want; k++) this.addColumn(t, `airlock_extra_${k}`);
      return true;
    }
    if ((m = /^ambiguous column name: (.+)$/.exec(message))) {
      // Two of our tables have the column; keep it in the first only.
      const column = m[1]!.split('.').pop()!;
      const holders = this.tables.filter((t) => [...t.columns].some((c) => c.toLowerCase() === column.toLowerCase()));
      if (holders.length < 2) return false;
      for (const t of holders.slice(1)) {
        const actual = [...t.columns].find((c) => c.toLowerCase() === column.toLowerCase())!;
        this.run(`ALTER TABLE ${quoteId(t.schema)}.${quoteId(t.name)} DROP COLUMN ${quoteId(actual)}`);
        t.columns.delete(actual);
        this.tried.add(`${actual}\u0000${t.schema}.${t.name}`);
      }
      return true;
    }
    if ((m = /^duplicate column name: (.+)$/.exec(message))) {
      // `ALTER TABLE users ADD COLUMN nickname text` (or a RENAME COLUMN to it): the table was
      // synthesized with every name the statement holds, the new one among them (fifteenth pass:
      // held critical as unparsed). The column leaves the synthesized tables that have it, once.
      // A definition holding an expression (`AS (…)`, `CHECK (…)`, `DEFAULT (…)`) stays unread: a
      // generated column runs its function on every later read, which ALTER's compile does not check.
      if (this.parenthesized) return false;
      const column = m[1]!;
      const holders = this.tables.filter((t) => !this.tried.has(`${column}\u0001${t.schema}.${t.name}`) && [...t.columns].some((c) => c.toLowerCase() === column.toLowerCase()));
      if (holders.length === 0) return false;
      for (const t of holders) {
        const actual = [...t.columns].find((c) => c.toLowerCase() === column.toLowerCase())!;
        this.tried.add(`${column}\u0001${t.schema}.${t.name}`);
        try {
          this.run(`ALTER TABLE ${quoteId(t.schema)}.${quoteId(t.name)} DROP COLUMN ${quoteId(actual)}`);
        } catch {
          return false; // indexed or otherwise needed: the statement stays unread (fails closed)
        }
        t.columns.delete(actual);
      }
      return true;
    }
    if (message === 'ON CONFLICT clause does not match any PRIMARY KEY or UNIQUE constraint') {
      // An upsert needs a unique index on its conflict target: give every table one per target.
      let made = false;
      for (const cols of this.conflicts) {
        for (const t of this.tables) {
          const key = `${t.schema}.${t.name}(${cols.join(',')})`;
          if (this.uniques.has(key) || !cols.every((c) => [...t.columns].some((x) => x.toLowerCase() === c.toLowerCase()))) continue;
          this.uniques.add(key);
          this.run(`CREATE UNIQUE INDEX ${quoteId(t.schema)}.${quoteId(`airlock_unique_${this.uniques.size}`)} ON ${quoteId(t.name)} (${cols.map(quoteId).join(', ')})`);
          made = true;
        }
      }
      return made;
    }
    if ((m = /^no such (index|view|trigger): (.+)$/.exec(message))) {
      const [, what, full] = m;
      const dot = full!.indexOf('.');
      const [schema, name] = dot > 0 && this.schemas.has(full!.slice(0, dot)) ? [full!.slice(0, dot), full!.slice(dot + 1)] : ['main', full!];
      const base = this.tables.find((t) => t.schema === schema) ?? this.addTable(schema, `airlock_base_${this.attempts}`);
      const q = `${quoteId(schema)}.${quoteId(name!)}`;
      const on = quoteId(base.name);
      if (what === 'index') this.run(`CREATE INDEX ${q} ON ${on} (airlock_synthetic_)`);
      else if (what === 'view') this.run(`CREATE VIEW ${q} AS SELECT 1`);
      else this.run(`CREATE TRIGGER ${q} AFTER INSERT ON ${on} BEGIN SELECT 1; END`);
      return true;
    }
    return false;
  }

  /**
   * Runs a prepared DELETE/UPDATE against sample rows inside a savepoint that is rolled back:
   * true when it changed every sample row of its target (or could not be judged). A statement
   * with parameters (`?`, `?1`, `:x`, `@x`, `$x`: D1's `params`) runs with them unbound (NULL) and
   * again with each bound to a value no sample holds: `id != ?` or `NOT IN (?, ?)` touch every row
   * for almost any value the request binds, as PostgreSQL's reading says of `<>` and `$1` alone.
   */
  touchesEveryRow(stmt: number, target: Synth | undefined): boolean {
    if (!target) return true;
    if (this.touchesEverySample(stmt, target, 'mixed')) return true;
    // MySQL compares a text column with a number as numbers, reading text that starts with no digit
    // as 0: `email = 0`, `email < 1`, `NOT email`, `email IS FALSE` hold for every such row
    // (twenty-third pass). Where the server may be MySQL, the statement runs again with every column
    // whose name says nothing of numbers holding what MySQL reads there, 0.
    if (this.mysqlNumbers && this.numeric && this.touchesEverySample(stmt, target, 'mysqlText')) return true;
    // A key holds no negative, fractional or text value, which the varied samples are: `id % 2 == 0
    // OR id % 2 == 1`, `(id > 0) == 1`, `id IS id + 0` hold for every key (twenty-fifth pass: SQLite's
    // own spellings, which PostgreSQL's reading refuses, stood narrow on D1). Run again with keys in
    // the target's key columns.
    return this.keyRun && [...target.columns].some(keyName) && this.touchesEverySample(stmt, target, 'keys');
  }

  private touchesEverySample(stmt: number, target: Synth, values: SampleValues): boolean {
    const { capi } = this.s;
    capi.sqlite3_reset(stmt);
    capi.sqlite3_clear_bindings(stmt);
    this.values = values;
    try {
      return this.touchesWith(stmt, target);
    } finally {
      this.values = 'mixed';
    }
  }

  private values: SampleValues = 'mixed';

  private touchesWith(stmt: number, target: Synth): boolean {
    if (this.sampleRun(stmt, target)) return true;
    const { capi } = this.s;
    const params = capi.sqlite3_bind_parameter_count(stmt);
    if (params === 0) return false;
    // MySQL's user variables (`@z`) hold what an earlier statement of the session set, 0 among
    // them; a name the request binds (BigQuery's and SQL Server's `@name` parameters) is its value.
    if (this.values === 'mysqlText') {
      capi.sqlite3_reset(stmt);
      let user = false;
      for (let i = 1; i <= params; i++) {
        const name = capi.sqlite3_bind_parameter_name(stmt, i);
        const given = this.params ? boundTo(this.params, name, i) : undefined;
        if (given !== undefined) this.bind(stmt, i, given);
        else if (name?.startsWith('@')) (capi.sqlite3_bind_int(stmt, i, 0), (user = true));
      }
      if (user && this.sampleRun(stmt, target)) return true;
      capi.sqlite3_reset(stmt);
      capi.sqlite3_clear_bindings(stmt);
    }
    capi.sqlite3_reset(stmt);
    for (let i = 1; i <= params; i++) capi.sqlite3_bind_int(stmt, i, UNSAMPLED_VALUE);
    try {
      if (this.sampleRun(stmt, target)) return true;
      // The values the request itself binds: `email LIKE ?` with `["%"]`, `id > ?` with `[-1e18]`
      // touch every row as their literal twins do.
      if (!this.params) return false;
      const runWith = (values: unknown[]): boolean => {
        capi.sqlite3_reset(stmt);
        capi.sqlite3_clear_bindings(stmt);
        for (let i = 1; i <= params; i++) this.bind(stmt, i, boundTo(values, capi.sqlite3_bind_parameter_name(stmt, i), i));
        return this.sampleRun(stmt, target);
      };
      if (runWith(this.params)) return true;
      // Values sent as text that the server reads as numbers: PostgreSQL's wire protocol and Neon's
      // driver send every value as text (`id > $1` with "-1000000000000"), and SQLite converts text
      // compared with a numeric column. The text's reading and the number's: the worse stands.
      const numeric = asNumbers(this.params);
      return numeric !== undefined && runWith(numeric);
    } finally {
      capi.sqlite3_reset(stmt);
      capi.sqlite3_clear_bindings(stmt);
    }
  }

  /** Binds a JSON value as the server would take it: numbers, text, booleans as 0/1, null; others as their JSON text. */
  private bind(stmt: number, i: number, v: unknown): void {
    const { capi } = this.s;
    if (v === null || v === undefined) capi.sqlite3_bind_null(stmt, i);
    else if (typeof v === 'number') Number.isInteger(v) && Math.abs(v) < 2 ** 31 ? capi.sqlite3_bind_int(stmt, i, v) : capi.sqlite3_bind_double(stmt, i, v);
    else if (typeof v === 'boolean') capi.sqlite3_bind_int(stmt, i, v ? 1 : 0);
    else if (v instanceof Uint8Array) {
      // A blob (Hrana's `{type: "blob", base64}`): SQLite compares and matches it as a blob (twentieth pass).
      const bytes = v.subarray(0, 10_000);
      capi.sqlite3_bind_blob(stmt, i, this.s.wasm.allocFromTypedArray(bytes.length ? bytes : new Uint8Array(1)), bytes.length, capi.SQLITE_WASM_DEALLOC);
    } else {
      // A pointer the binding frees (the wrapper's own string path is broken in this build).
      const [p, n] = this.s.wasm.allocCString((typeof v === 'string' ? v : JSON.stringify(v)).slice(0, 10_000), true);
      capi.sqlite3_bind_text(stmt, i, p, n, capi.SQLITE_WASM_DEALLOC);
    }
  }

  private sampleRun(stmt: number, target: Synth, json = false): boolean {
    const { capi } = this.s;
    const rows = (other: boolean, t: Synth): string => {
      const cols = ['airlock_synthetic_', ...t.columns];
      const tuples = [];
      const zero = (c: string): boolean => this.values === 'mysqlText' && !other && !numberLikeName(c);
      const key = (c: string): boolean => this.values === 'keys' && !other && keyName(c);
      for (let i = 0; i < SAMPLE_ROWS; i++) tuples.push(`(${cols.map((c, j) => (zero(c) ? '0' : key(c) ? keySample(i, j) : sampleValue(i, j, other, json))).join(', ')})`);
      return `INSERT INTO ${quoteId(t.schema)}.${quoteId(t.name)} (${cols.map(quoteId).join(', ')}) VALUES ${tuples.join(', ')}`;
    };
    this.run('SAVEPOINT airlock_sample');
    this.progressCalls = 0;
    let notJson = false;
    try {
      for (const t of this.tables) this.run(rows(t !== target, t));
      capi.sqlite3_progress_handler(this.db.pointer, 1000, progressPtr, 0);
      let rc: number;
      let steps = 0;
      do rc = capi.sqlite3_step(stmt);
      while (rc === capi.SQLITE_ROW && ++steps < 10_000);
      // A WHERE reading a column as JSON (`data->>'id' = '5'`, `json_extract(data, '$.id') = 5`)
      // fails on the text samples, as the server fails on a row that is not JSON: run again with
      // text samples that are (twenty-second pass, follow-up: every such DELETE was held as every row).
      if (rc === capi.SQLITE_ERROR && !json && /malformed JSON|JSON path/i.test(capi.sqlite3_errmsg(this.db.pointer))) notJson = true;
      else if (rc !== capi.SQLITE_DONE) return true; // interrupted or failed: cannot tell, so assume the worst
      else return capi.sqlite3_changes(this.db.pointer) >= SAMPLE_ROWS;
    } finally {
      capi.sqlite3_progress_handler(this.db.pointer, 0, 0, 0);
      // An interrupted write rolls back the whole transaction, savepoint included.
      if (!capi.sqlite3_get_autocommit(this.db.pointer)) {
        this.run('ROLLBACK TO airlock_sample');
        this.run('RELEASE airlock_sample');
      }
    }
    capi.sqlite3_reset(stmt);
    return notJson ? this.sampleRun(stmt, target, true) : true;
  }

  synthFor(schema: string | null, name: string | null): Synth | undefined {
    return name ? this.table(schema ?? 'main', name) : undefined;
  }
}

/**
 * The request's values with each text that PostgreSQL's numeric input (or SQLite's affinity) reads
 * as a number replaced by that number; undefined when there is none. PostgreSQL 16 also reads
 * `0x`, `0o`, `0b` integers and `_` between digits; float input `Infinity`/`inf`, `NaN`.
 */
export function asNumbers(values: unknown[]): unknown[] | undefined {
  let changed = false;
  const out = values.map((v) => {
    const inner = isNamed(v) ? v.value : v;
    if (typeof inner !== 'string' || inner.length > 400) return v;
    const n = numberInText(inner);
    if (n === undefined) return v;
    changed = true;
    return isNamed(v) ? { ...v, value: n } : n;
  });
  return changed ? out : undefined;
}

function numberInText(text: string): number | undefined {
  const s = text.trim().replace(/(?<=[0-9a-fA-F])_(?=[0-9a-fA-F])/g, '');
  const m = /^([+-]?)(?:0([xob])([0-9a-f]+)|((?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)|(inf|infinity|nan))$/i.exec(s);
  if (!m) return undefined;
  const sign = m[1] === '-' ? -1 : 1;
  if (m[2]) {
    const radix = { x: 16, o: 8, b: 2 }[m[2].toLowerCase() as 'x' | 'o' | 'b'];
    const n = parseInt(m[3]!, radix);
    return Number.isNaN(n) ? undefined : sign * n;
  }
  if (m[5]) return /^nan$/i.test(m[5]) ? Number.NaN : sign * Infinity;
  return sign * Number(m[4]);
}

/** Which of the request's values a parameter takes: `$N` (PostgreSQL's, Neon) the Nth, any other (`?`, `?N`, `:x`) by its index. */
/**
 * The value bound to parameter i: by name when the request names its values (`:id` ← `{name:
 * "id", value}`, sql-body.ts boundValues), else by position (`$2` the second, `?` the i-th).
 */
function boundTo(params: unknown[], name: string | null, i: number): unknown {
  const bare = name?.replace(/^[:@$?]/, '');
  if (bare) {
    const byName = namedValues(params);
    if (byName.has(bare)) return byName.get(bare);
  }
  const v = params[paramIndex(name, i)];
  return isNamed(v) ? v.value : v;
}

const isNamed = (v: unknown): v is { named: string; value: unknown } => !!v && typeof v === 'object' && typeof (v as { named?: unknown }).named === 'string';

/** Each request's named values by name, built once (a statement may have thousands of parameters). */
const byNameCache = new WeakMap<unknown[], Map<string, unknown>>();
function namedValues(params: unknown[]): Map<string, unknown> {
  let m = byNameCache.get(params);
  if (!m) {
    m = new Map();
    for (const p of params) if (isNamed(p) && !m.has(p.named)) m.set(p.named, p.value);
    byNameCache.set(params, m);
  }
  return m;
}

function paramIndex(name: string | null, i: number): number {
  const m = name ? /^\$(\d+)$/.exec(name) : null;
  return m ? Number(m[1]) - 1 : i - 1;
}

function tableName(schema: string | null, name: string): string {
  return schema && schema !== 'main' && schema !== 'temp' ? `${schema}.${name}` : name;
}

function kindOf(verb: string, rest: string[], actions: Action[], explain: boolean): string {
  if (explain) return 'explain';
  const first = (codes: number[]): Action | undefined => actions.find((x) => codes.includes(x.code));
  switch (verb) {
    case 'SELECT': case 'VALUES': return 'select';
    case 'INSERT': case 'REPLACE': return 'insert';
    case 'UPDATE': return 'update';
    case 'DELETE': return 'delete';
    case 'BEGIN': case 'COMMIT': case 'END': case 'ROLLBACK': case 'SAVEPOINT': case 'RELEASE': return 'transaction';
    case 'CREATE': {
      const c = first([A.CREATE_TABLE, A.CREATE_TEMP_TABLE, A.CREATE_INDEX, A.CREATE_TEMP_INDEX, A.CREATE_VIEW, A.CREATE_TEMP_VIEW, A.CREATE_TRIGGER, A.CREATE_TEMP_TRIGGER, A.CREATE_VTABLE]);
      if (!c) return `create_${(rest.find((w) => ['TABLE', 'INDEX', 'VIEW', 'TRIGGER'].includes(w)) ?? 'object').toLowerCase()}`;
      if (c.code === A.CREATE_VTABLE) return 'create_virtual_table';
      if (c.code === A.CREATE_TABLE || c.code === A.CREATE_TEMP_TABLE) return 'create_table';
      if (c.code === A.CREATE_INDEX || c.code === A.CREATE_TEMP_INDEX) return 'create_index';
      if (c.code === A.CREATE_VIEW || c.code === A.CREATE_TEMP_VIEW) return 'create_view';
      return 'create_trigger';
    }
    case 'DROP': {
      const w = rest.find((x) => ['TABLE', 'INDEX', 'VIEW', 'TRIGGER'].includes(x));
      return `drop_${(w ?? 'object').toLowerCase()}`;
    }
    case 'ALTER': return 'alter_table';
    default: return verb.toLowerCase() || 'unknown';
  }
}

interface StatementResult {
  statement: SqlStatement;
  readOnly: boolean;
}

function analyzeStatement(scratch: Scratch, s: Sqlite3, stmt: number, text: string): StatementResult {
  const { capi } = s;
  const actions = scratch.actions;
  const ddl = actions.some((x) => ddlActions.has(x.code));
  const { verb, rest } = verbOf(topLevelWords(tokens(text)));
  const explain = capi.sqlite3_stmt_isexplain(stmt) !== 0;
  const kind = kindOf(verb, rest, actions, explain);
  const tables: string[] = [];
  const addTable = (schema: string | null, name: string | null): void => {
    if (!name) return;
    if (ddl && internalTables.has(name.toLowerCase())) return; // the schema's own bookkeeping
    const t = tableName(schema, name);
    if (!tables.includes(t)) tables.push(t);
  };
  let destructive = false;
  let writes = false;
  const functions: string[] = [];
  for (const x of actions) {
    if (writeActions.has(x.code)) writes = true;
    if (dropActions.has(x.code)) destructive = true;
    switch (x.code) {
      case A.READ: case A.INSERT: case A.UPDATE: case A.DELETE: case A.DROP_TABLE: case A.DROP_TEMP_TABLE:
      case A.CREATE_TABLE: case A.CREATE_TEMP_TABLE:
        addTable(x.db, x.a);
        break;
      case A.DROP_VIEW: case A.DROP_TEMP_VIEW: case A.DROP_INDEX: case A.DROP_TEMP_INDEX: case A.CREATE_INDEX:
      case A.CREATE_TEMP_INDEX: case A.DROP_TRIGGER: case A.DROP_TEMP_TRIGGER:
        addTable(x.db, x.b);
        break;
      case A.ALTER_TABLE:
        addTable(x.a, x.b);
        break;
      case A.CREATE_TRIGGER: case A.CREATE_TEMP_TRIGGER:
        destructive = true; // code that runs on later writes, by anyone
        addTable(x.db, x.b);
        break;
      case A.ATTACH: case A.DETACH:
        destructive = true; // attaches or detaches database files on the server
        break;
      case A.PRAGMA: {
        const name = (x.a ?? '').toLowerCase();
        const readOnly = readOnlyPragmas.has(name) || (settingPragmas.has(name) && x.b === null);
        if (!readOnly) {
          destructive = true; // changes how the engine enforces or stores data (foreign_keys, writable_schema …)
          writes = true;
        }
        break;
      }
      case A.FUNCTION: {
        const name = (x.b ?? '').toLowerCase();
        functions.push(name);
        if (destructiveFunctions.has(name)) destructive = true;
        break;
      }
      default:
    }
  }
  if (!explain) {
    // REPLACE INTO, INSERT OR REPLACE and UPDATE OR REPLACE delete the rows they conflict with;
    // an upsert (ON CONFLICT DO UPDATE) rewrites existing rows.
    if (verb === 'REPLACE' || ((verb === 'INSERT' || verb === 'UPDATE') && rest[0] === 'OR' && rest[1] === 'REPLACE')) destructive = true;
    if (verb === 'INSERT' && actions.some((x) => x.code === A.UPDATE)) destructive = true;
    // A full-text table's command column: `INSERT INTO ft(ft) VALUES('delete-all')` empties its index.
    if (verb === 'INSERT' && ftsCommandInsert(text, functions, scratch.params)) destructive = true;
    if (verb === 'ALTER' && rest.includes('DROP')) destructive = true;
    // A table or column renamed: what every later statement names becomes another (fourteenth pass; see sql.ts dataObjectTypes).
    if (verb === 'ALTER' && rest.includes('RENAME')) destructive = true;
    // By its words, not by what the scratch schema holds: `DROP … IF EXISTS` of an object the
    // scratch copy lacks compiles to nothing there, and drops it on the server.
    if (verb === 'DROP') destructive = true;
    if (verb === 'VACUUM' && rest.includes('INTO')) destructive = true; // writes a copy of the database to a server file
    if (verb === 'DELETE' || verb === 'UPDATE') {
      const code = verb === 'DELETE' ? A.DELETE : A.UPDATE;
      const target = actions.find((x) => x.code === code);
      const judgeable = functions.every((f) => !nondeterministic.has(f));
      if (!judgeable || scratch.touchesEveryRow(stmt, target ? scratch.synthFor(target.db, target.a) : undefined)) destructive = true;
    }
  }
  const engineReadOnly = capi.sqlite3_stmt_readonly(stmt) !== 0;
  const statement: SqlStatement = { kind, tables, destructive };
  const trimmed = text.trim();
  statement.text = trimmed.length > MAX_TEXT_CHARS ? `${trimmed.slice(0, MAX_TEXT_CHARS)}…` : trimmed;
  const readOnly = explain || (engineReadOnly && !writes && !destructive && verb !== 'ATTACH' && verb !== 'DETACH');
  return { statement, readOnly };
}

/**
 * Unparsed for a reason of Airlock's (a cost limit, the engine missing or trapped), not SQLite's:
 * a real SQLite would read the text, so no other grammar's reading may stand for it.
 */
function limited(error: string, statements: SqlStatement[]): SqlAnalysis {
  return { ...unparsed(error, statements), limited: true };
}

function unparsed(error: string, statements: SqlStatement[]): SqlAnalysis {
  return { info: { dialect: 'sqlite', parsed: false, error, statements, destructive: true }, readOnly: false };
}

/**
 * Parses SQL texts the way SQLite does, into `input.sql` (dialect "sqlite"). `params`: the values
 * the request binds to each text (D1's `params`), used when judging which rows a DELETE/UPDATE touches.
 */
/** `mysql`: the text may run on a MySQL-family server (an endpoint of unknown dialect), so text columns are also judged as MySQL compares them with numbers. */
export function analyzeSqlite(texts: string[], params?: ReadonlyArray<unknown[] | undefined>, mysql = false, keys = true): SqlAnalysis {
  const s = sqlite.get();
  if (!s) return limited(sqlite.missing(), []);
  if (!chargeSqlReading(texts)) return limited(readBudgetError, []);
  const { capi, wasm } = s;
  const statements: SqlStatement[] = [];
  const sources: Array<{ text: string; of: number }> = [];
  let readOnly = true;
  let total = 0;
  for (const sql of texts) {
    total += Buffer.byteLength(sql);
    if (total > MAX_SQL_BYTES) return limited(`SQL longer than ${MAX_SQL_BYTES} bytes was not parsed`, statements);
    if (sql.includes('\u0000')) return unparsed('SQL contains a NUL character', statements);
  }
  let scratch: Scratch;
  try {
    scratch = new Scratch(s);
  } catch (err) {
    return limited(`SQLite analysis failed: ${(err as Error).message}`, statements);
  }
  current = scratch;
  scratch.mysqlNumbers = mysql;
  scratch.keyRun = keys;
  let compiled = 0;
  let cteCost = 0;
  let prepared = 0;
  try {
    for (const [index, sql] of texts.entries()) {
      scratch.params = params?.[index];
      const bytes = Buffer.from(sql);
      const [pSql, n] = wasm.allocCString(sql, true);
      const stack = wasm.pstack.pointer;
      try {
        const ppStmt = wasm.pstack.allocPtr();
        const pzTail = wasm.pstack.allocPtr();
        let pos = pSql;
        const end = pSql + n;
        let namesFor = -1;
        let estimate = 0;
        let copies = 0;
        // Byte offsets (SQLite's) to string offsets, advancing with the statements: linear overall.
        let cursorByte = 0;
        let cursorChar = 0;
        while (pos < end) {
          if (namesFor !== pos) {
            // The names up to the next `;` (SQLite has not told us where this statement ends yet).
            cursorChar += bytes.toString('utf8', cursorByte, pos - pSql).length;
            cursorByte = pos - pSql;
            const toks = tokens(sql, cursorChar, true);
            scratch.names = nameCandidates(toks, (w) => capi.sqlite3_keyword_check(w, w.length) !== 0);
            scratch.conflicts = conflictTargets(toks);
            scratch.numeric = numericWords(toks, scratch.params);
            // A type's size (`VARCHAR(255)`, `DECIMAL(10, 2)`) holds only digits and commas.
            scratch.parenthesized = toks.some((tk) => tk.depth >= 1 && tk.type !== '(' && tk.type !== ')' && !(tk.type === 'punct' && /^[0-9,.+-]$/.test(tk.value)));
            if ((toks.maxDepth ?? 0) > MAX_NESTING) return limited(`SQL nested more than ${MAX_NESTING} parentheses deep was not analyzed`, statements);
            copies = cteExpansion(toks);
            if (copies > MAX_CTE_EXPANSION) return limited(`SQL whose common table expressions expand to more than ${MAX_CTE_EXPANSION} queries was not analyzed`, statements);
            namesFor = pos;
            estimate = (toks.end ?? sql.length) - cursorChar + 1;
          }
          scratch.actions = [];
          scratch.recording = true;
          // SQLite compiles one statement per call: charge its (estimated) length, every attempt.
          compiled += estimate;
          cteCost += copies * copies;
          if (compiled > MAX_COMPILED_BYTES || cteCost > MAX_CTE_COST) return limited('SQL too costly to analyze', statements);
          // -1: read to the NUL terminator (the text has no other NUL). A length that stops short of
          // the terminator makes SQLite copy the whole rest of the text on every statement: quadratic.
          const rc = capi.sqlite3_prepare_v2(scratch.db.pointer, pos, -1, ppStmt, pzTail);
          scratch.recording = false;
          const stmt = wasm.peekPtr(ppStmt);
          if (rc !== 0) {
            const message = capi.sqlite3_errmsg(scratch.db.pointer);
            if (stmt) capi.sqlite3_finalize(stmt);
            if (scratch.synthesize(message)) continue;
            return unparsed(message, statements);
          }
          const tail = wasm.peekPtr(pzTail);
          if (++prepared > MAX_SQL_STATEMENTS) {
            if (stmt) capi.sqlite3_finalize(stmt);
            return limited(`more than ${MAX_SQL_STATEMENTS} SQL statements in one request were not analyzed`, statements);
          }
          if (!stmt) {
            if (tail <= pos) break;
            pos = tail;
            continue;
          }
          try {
            const text = bytes.subarray(pos - pSql, tail - pSql).toString('utf8');
            const r = analyzeStatement(scratch, s, stmt, text);
            statements.push(r.statement);
            sources.push({ text, of: index });
            if (!r.readOnly) readOnly = false;
          } finally {
            capi.sqlite3_finalize(stmt);
          }
          pos = tail;
        }
      } finally {
        wasm.pstack.restore(stack);
        wasm.dealloc(pSql);
      }
    }
  } catch (err) {
    // A trap inside SQLite (out of bounds, its stack overflowed) leaves the instance unusable: it is
    // not used again (each later call failed, for every agent). SQLite refusing what the scratch
    // database was asked to do (a table it reserves, `sqlite_x`, synthesized for the statement) is
    // an error with a result code, not a trap: dropping the instance for it made every agent's
    // next SQL wait for a new one, at the cost of one request.
    if (!(err instanceof Unparsed) && typeof (err as { resultCode?: unknown }).resultCode !== 'number') sqlite.discard(s);
    return limited(err instanceof Unparsed ? err.message : `SQLite analysis failed: ${(err as Error).message}`, statements);
  } finally {
    current = undefined;
    try {
      scratch.close();
    } catch {
      sqlite.discard(s); // closing a trapped instance traps again
    }
  }
  return { info: { dialect: 'sqlite', parsed: true, statements, destructive: statements.some((x) => x.destructive) }, readOnly, sources };
}

/**
 * [, table, column] of SQLite's "table T has no column named C" (what /^table (.+) has no column
 * named (.+)$/ gives: the last separator that leaves a column name), in one pass; that pattern
 * backtracks quadratically over names an agent fills with the separator.
 */
export function missingColumn(message: string): [string, string, string] | null {
  const prefix = 'table ';
  const sep = ' has no column named ';
  if (!message.startsWith(prefix) || /[\n\r\u2028\u2029]/.test(message)) return null;
  let at = message.lastIndexOf(sep);
  if (at >= 0 && at + sep.length >= message.length) at = message.lastIndexOf(sep, at - 1);
  if (at <= prefix.length) return null;
  return [message, message.slice(prefix.length, at), message.slice(at + sep.length)];
}
