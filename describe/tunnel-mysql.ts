// MySQL's client protocol inside a WebSocket tunnel (a bridge such as websockify in front of port
// 3306; sixteenth pass): the agent's bytes are read as the server reads them, packet by packet
// across messages, and each statement a COM_QUERY or COM_STMT_PREPARE carries is judged as the
// same text POSTed as `{sql}` to the tunnel's URL (read in every dialect, MySQL's among them).
// What cannot be read that way closes the tunnel: TLS or compression inside it, a client encoding
// in which a backslash can end a character (SJIS, GBK, BIG5 …), query attributes, another account
// (COM_CHANGE_USER), replication, a prepared write run with values Airlock never sees (binary
// COM_STMT_EXECUTE), and commands it does not know. The tunnel is taken for MySQL by the server's
// greeting (a handshake v10 packet), which the agent cannot forge.
import { sessionHeaders, type CarriedStatement, type TunnelRead, type TunnelSqlReader } from './tunnel-sql.ts';
import { firstWord } from './adapters/sql-clickhouse.ts';
import { analyzeSqlIn } from './adapters/sql-dialects.ts';
import { appendBytes } from '../lib/arrays.ts';
import { startsStatement } from '../lib/text.ts';

/** Longest packet kept to be read (a statement past it is not parsed anyway). */
const MAX_PACKET = 1024 * 1024 + 64 * 1024;
/** Statements one read may complete. */
const MAX_STATEMENTS = 1000;

const CLIENT_COMPRESS = 0x20;
const CLIENT_SSL = 0x800;
const CLIENT_CONNECT_WITH_DB = 0x8;
const CLIENT_SECURE_CONNECTION = 0x8000;
const CLIENT_PLUGIN_AUTH_LENENC = 0x200000;

/** A NUL-ended string of `p` from `at` (to the end when it has no NUL). */
function zstring(p: Buffer, at: number): { text: string; end: number } {
  const nul = p.indexOf(0, at);
  const end = nul < 0 ? p.length : nul;
  return { text: p.toString('utf8', at, end), end: end + 1 };
}

/**
 * The user and the database a handshake response names (after its 32 bytes: the user, NUL-ended;
 * the auth response, length-encoded, one-byte-length or NUL-ended by the capabilities; the database,
 * NUL-ended, when CLIENT_CONNECT_WITH_DB says it is there). No database: the session starts in none.
 */
export function handshakeIdentity(p: Buffer, caps: number): { user: string; database: string } {
  const user = zstring(p, 32);
  let at = user.end;
  if (caps & CLIENT_PLUGIN_AUTH_LENENC) {
    const first = p[at] ?? 0;
    const [len, size] = first < 0xfb ? [first, 1] : first === 0xfc ? [p.readUInt16LE(Math.min(at + 1, p.length - 2)), 3] : first === 0xfd ? [p.readUIntLE(Math.min(at + 1, p.length - 3), 3), 4] : [0, 9];
    at += size + len;
  } else if (caps & CLIENT_SECURE_CONNECTION) at += 1 + (p[at] ?? 0);
  else at = zstring(p, at).end;
  const database = caps & CLIENT_CONNECT_WITH_DB && at < p.length ? zstring(p, at).text : '';
  return { user: user.text, database };
}

/** `SET ROLE …` alone (`DEFAULT`, `NONE`, `ALL [EXCEPT …]`, a list of roles): the roles it names. */
const plainSetRole = /^set\s+role\s([^;]+);?$/i;
/** `USE name` alone (backquoted or not, a `;` after it): the database it names. */
const plainUse = /^\s*use\s+(?:`((?:[^`]|``)+)`|([\w$]+))\s*(?:;\s*)?$/i;
/** A `USE` somewhere in a text: at a statement's start, after a comment, in an executable comment (MySQL runs its `USE`). */
const someUse = (sql: string): boolean => startsStatement(sql, 'use', (at) => sql[at] === '`' || /\s/.test(sql[at] ?? ''));
const CLIENT_ZSTD = 1 << 26;
const CLIENT_QUERY_ATTRIBUTES = 1 << 27;

/**
 * Client character sets (collation ids of the handshake) in which a backslash is never the last
 * byte of a multibyte character: utf8mb4, utf8mb3, latin1, ascii, binary. Any other is refused.
 */
function safeCollation(id: number): boolean {
  return [5, 8, 11, 15, 31, 33, 45, 46, 47, 48, 49, 63, 65, 76, 83, 94, 255].includes(id) || (id >= 192 && id <= 215) || (id >= 224 && id <= 247);
}

/** Commands that run nothing Airlock needs to read (quit, ping, statistics, field list, statement close/reset/long data, set option, reset connection). */
const quietCommands = new Set([0x01, 0x04, 0x09, 0x0e, 0x18, 0x19, 0x1a, 0x1b, 0x1f]);

/**
 * Whether the agent's first bytes are a MySQL handshake response (or SSL request), whole: sequence
 * 1, a length of at least 32, and the 23 zero bytes of its filler. A client sent it before the
 * server's greeting was seen (or the greeting was missed).
 */
export function startsMysqlResponse(b: Buffer): boolean {
  if (b.length < 36 || b[3] !== 1) return false;
  const len = b[0]! | (b[1]! << 8) | (b[2]! << 16);
  if (len < 32 || len > b.length - 4) return false;
  for (let i = 13; i < 36; i++) if (b[i] !== 0) return false;
  return true;
}

/**
 * Whether a stream's first bytes (4 or more) may begin a MySQL handshake response as the server
 * reads it: sequence 1 and a length of at least 32 (the server reads the filler unchecked, and the
 * packet may come in pieces). A PostgreSQL startup has sequence 1 only at a length of 65,536 or
 * more here, past anything a client sends before the server answers.
 */
export function mayStartMysqlResponse(b: Buffer): boolean {
  if (b.length < 4 || b[3] !== 1) return false;
  const len = b[0]! | (b[1]! << 8) | (b[2]! << 16);
  return len >= 32;
}

/** Whether a message from the server opens MySQL's protocol: an initial handshake v10 packet, whole. */
export function startsMysqlGreeting(b: Buffer): boolean {
  if (b.length < 10 || b[3] !== 0 || b[4] !== 0x0a) return false;
  const len = b[0]! | (b[1]! << 8) | (b[2]! << 16);
  if (len < 10 || len > b.length - 4) return false;
  // The server's version: printable ASCII ended by NUL, starting with a digit (`5.7.0`, `8.0.36`, `10.11.6-MariaDB`).
  const end = b.indexOf(0, 5);
  if (end < 6 || end > 5 + 64 || b[5]! < 0x30 || b[5]! > 0x39) return false;
  for (let i = 5; i < end; i++) if (b[i]! < 0x20 || b[i]! > 0x7e) return false;
  return true;
}

const readFirstWords = new Set(['select', 'with', 'show', 'explain', 'describe', 'desc', 'values', 'table']);
const readKinds = new Set(['select', 'show', 'explain', 'values']);

/**
 * Whether a prepared text may be something other than a read, so that running it with values
 * Airlock never sees is refused. The first word alone let `WITH c AS (SELECT 1) DELETE FROM users
 * WHERE name LIKE ?` (MySQL 8 runs DML after a WITH) and `/* /* *\/ DELETE … -- *\/ select`
 * (MySQL's comments do not nest) pass as reads: every reading's statements must be reads too.
 */
export function mayWrite(sql: string): boolean {
  if (!readFirstWords.has(firstWord(sql))) return true;
  const a = analyzeSqlIn([sql], 'unknown');
  // Unread (MySQL's `?` is no parameter to PostgreSQL), destructive, or calling a function not proven read-only: not a read.
  if (!a.info.parsed || a.info.destructive) return true;
  return a.info.statements.some((st) => !readKinds.has(st.kind) || st.destructive || (!a.readOnly && (st.functions?.length ?? 0) > 0));
}

export class MysqlReader implements TunnelSqlReader {
  readonly protocol = 'mysql';
  private buf: Buffer = Buffer.alloc(0);
  private handshaken = false;
  /** A statement prepared in this tunnel begins as something other than a read. */
  private preparedWrite = false;
  /**
   * The session's user and current database (the handshake's, then each `USE` or COM_INIT_DB), as
   * headers of each statement's twin (twenty-fifth pass): a grant given in one database covers no
   * statement in another. A `USE` Airlock cannot follow makes it `?`: no grant covers what follows.
   */
  private user: string | undefined;
  private database: string | undefined;

  /** The roles MySQL 8's `SET ROLE` made active in the session (the account's default ones until then). */
  private role: string | undefined;

  private statement(st: CarriedStatement): CarriedStatement {
    if (this.user === undefined) return st;
    return { ...st, headers: [...sessionHeaders('mysql', { user: this.user, database: this.database ?? '' }), ...(this.role !== undefined ? [['x-mysql-role', this.role] as [string, string]] : [])] };
  }

  /** The database and the roles a text leaves the session in. */
  private follow(sql: string): void {
    const plain = plainUse.exec(sql);
    if (plain) this.database = plain[1] !== undefined ? plain[1].replaceAll('``', '`') : plain[2]!;
    else if (someUse(sql)) this.database = '?';
    if (startsStatement(sql, 'set', (at) => /^\s+role\b/i.test(sql.slice(at, at + 64)))) {
      const role = plainSetRole.exec(sql.trim());
      this.role = role ? role[1]!.trim().toLowerCase() : '?';
    }
  }

  get holding(): number {
    return this.buf.length;
  }

  read(data: Buffer): TunnelRead {
    this.buf = appendBytes(this.buf, data);
    const statements: CarriedStatement[] = [];
    const refused = (why: string): TunnelRead => ({ statements, refused: why });
    while (this.buf.length >= 4) {
      const len = this.buf[0]! | (this.buf[1]! << 8) | (this.buf[2]! << 16);
      if (len === 0xffffff || len > MAX_PACKET) return refused(`a MySQL packet of ${len} bytes or more: longer than Airlock reads`);
      if (this.buf.length < 4 + len) break;
      const seq = this.buf[3]!;
      const p = this.buf.subarray(4, 4 + len);
      this.buf = this.buf.subarray(4 + len);
      if (!this.handshaken) {
        // The client's answer to the greeting: a handshake response (or an SSL request, its first 32 bytes).
        if (seq !== 1 || p.length < 32) return refused('a MySQL client that does not answer the greeting with a handshake response');
        const caps = p.readUInt32LE(0);
        if (caps & CLIENT_SSL) return refused('TLS inside a MySQL tunnel: what it carries cannot be read');
        if (caps & (CLIENT_COMPRESS | CLIENT_ZSTD)) return refused('a compressed MySQL protocol: not read');
        if (caps & CLIENT_QUERY_ATTRIBUTES) return refused('MySQL query attributes: not read');
        if (!safeCollation(p[8]!)) return refused(`the MySQL client character set ${p[8]}: only UTF-8, Latin-1, ASCII and binary are read (in SJIS, GBK or BIG5 a backslash can end a character)`);
        const who = handshakeIdentity(p, caps);
        this.user = who.user;
        this.database = who.database;
        this.handshaken = true;
        continue;
      }
      // A packet of an exchange already started (more authentication, a LOAD DATA LOCAL file the statement asked for).
      if (seq !== 0) continue;
      const cmd = p[0];
      if (cmd === 0x03 || cmd === 0x16) {
        const sql = p.subarray(1).toString('utf8');
        if (cmd === 0x16 && !this.preparedWrite && mayWrite(sql)) this.preparedWrite = true;
        if (statements.length >= MAX_STATEMENTS) return refused(`more than ${MAX_STATEMENTS} MySQL statements in one message`);
        statements.push(this.statement({ protocol: 'mysql', message: cmd === 0x03 ? 'COM_QUERY' : 'COM_STMT_PREPARE', body: { sql } }));
        this.follow(sql);
      } else if (cmd === 0x17) {
        // Values bound in binary, against a statement id the server chose: a prepared write run so is not read.
        if (this.preparedWrite) return refused('a prepared MySQL write run with bound values (COM_STMT_EXECUTE): the values are not read');
      } else if (cmd === 0x02) {
        // COM_INIT_DB: the `USE db` it stands for.
        statements.push(this.statement({ protocol: 'mysql', message: 'COM_INIT_DB', body: { sql: `USE \`${p.subarray(1).toString('utf8').replaceAll('`', '``')}\`` } }));
        this.database = p.subarray(1).toString('utf8');
      } else if (cmd === undefined || !quietCommands.has(cmd)) {
        return refused(`the MySQL command 0x${(cmd ?? 0).toString(16)} (another account, replication, a shutdown, …): not read`);
      }
    }
    if (this.buf.length > MAX_PACKET + 4) return refused('a MySQL packet longer than Airlock reads');
    return { statements };
  }
}
