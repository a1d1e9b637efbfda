// SQL Server's TDS inside a WebSocket tunnel (a bridge such as websockify before port 1433;
// eighteenth pass: a SQL batch's UTF-16 text, NULs between its letters, was no SQL to the text
// reader, so `DROP TABLE users` from tedious went on undecided). The agent's bytes are read as the
// server reads them ([MS-TDS] 2.2.3): packets of an 8-byte header (type, status, big-endian length),
// a message ending at the packet whose status has EOM. Each SQL batch, and the statement of each
// RPC that runs text (`sp_executesql`, `sp_prepare`, `sp_prepexec`, cursors), is judged as the same
// text POSTed as `{sql}` to the tunnel's URL, unless the T-SQL reading below proves it a read.
// What cannot be read closes the tunnel: TLS for the whole session (only a login encrypted on its
// own, both sides saying ENCRYPT_OFF, is skipped), a value bound to a statement that may write
// (RPC values are typed binary), a prepared statement run by handle once one may write, a
// procedure called by name or by an RPC id that is not read, other message types.
import type { CarriedStatement, TunnelRead, TunnelSqlReader } from './tunnel-sql.ts';
import { appendBytes } from '../lib/arrays.ts';

/** Longest message kept to be read (SQL past 1 MiB is not parsed anyway). */
const MAX_MESSAGE = 2 * 1024 * 1024 + 64 * 1024;
/** Statements one read may complete. */
const MAX_STATEMENTS = 1000;
/** Raw TLS bytes of a login encrypted on its own (a LOGIN7 is at most a packet of 32 KiB). */
const MAX_LOGIN_TLS = 64 * 1024;

const PRELOGIN = 0x12;
const ENCRYPT_OFF = 0x00;

/** Message types a client sends that carry no SQL: attention, bulk load rows (their INSERT BULK was a batch), a transaction manager request, federated and SSPI authentication, LOGIN7. */
const quiet = new Set([0x06, 0x07, 0x0e, 0x08, 0x11, 0x10]);
/** Every message type a client sends: SQL batch, RPC, PRELOGIN and the quiet ones. */
const clientTypes = new Set([0x01, 0x03, PRELOGIN, ...quiet]);

/**
 * Whether the agent's first 8 bytes begin TDS: a PRELOGIN packet (type 0x12, status 0 or EOM, a
 * length of 8 to 32,768 bytes, window 0), as every TDS 7 client sends first.
 */
export function startsTds(first: Buffer): boolean {
  if (first.length < 8 || first[0] !== PRELOGIN || (first[1]! & ~0x01) !== 0 || first[7] !== 0) return false;
  const len = first.readUInt16BE(2);
  return len > 8 && len <= 32768;
}

/**
 * Whether the agent's first bytes are a SQL batch or an RPC of a session a bridge logged in
 * itself (as a PostgreSQL bridge may open the session): the packet whole in them, end of message
 * (a reset flag allowed), SPID and window 0, and ALL_HEADERS that end inside it.
 */
export function startsTdsSession(b: Buffer): boolean {
  if (b.length < 12 || (b[0] !== 0x01 && b[0] !== 0x03) || (b[1]! & ~0x19) !== 0 || !(b[1]! & 0x01) || b.readUInt16BE(4) !== 0 || b[7] !== 0) return false;
  const len = b.readUInt16BE(2);
  if (len < 12 || len > b.length) return false;
  const headers = b.readUInt32LE(8);
  return headers >= 4 && headers <= len - 8;
}

/** The ENCRYPTION option of a PRELOGIN payload (option tokens: type, offset, length; 0xFF ends them), or undefined. */
function preloginEncryption(p: Buffer): number | undefined {
  for (let at = 0; at + 5 <= p.length && p[at] !== 0xff; at += 5) {
    if (p[at] !== 0x01) continue;
    const off = p.readUInt16BE(at + 1);
    return p.readUInt16BE(at + 3) >= 1 && off < p.length ? p[off] : undefined;
  }
  return undefined;
}

/**
 * Session settings a driver sends at connect (tedious, JDBC, ODBC, SqlClient) that only shape how
 * later statements behave and answer: `SET ansi_nulls ON`, `SET TEXTSIZE …`, isolation levels.
 */
const harmlessSettings = new Set([
  'ansi_nulls', 'ansi_null_dflt_on', 'ansi_null_dflt_off', 'ansi_padding', 'ansi_warnings', 'ansi_defaults', 'arithabort', 'arithignore',
  'concat_null_yields_null', 'datefirst', 'dateformat', 'implicit_transactions', 'language', 'numeric_roundabort', 'quoted_identifier',
  'textsize', 'transaction', 'xact_abort', 'nocount', 'lock_timeout', 'deadlock_priority', 'cursor_close_on_commit', 'fmtonly', 'noexec',
  'parseonly', 'query_governor_cost_limit', 'showplan_xml', 'showplan_text', 'showplan_all', 'statistics', 'forceplan', 'rowcount',
]);

/** Words that make a T-SQL text no plain read (writes, calls, other servers, files, dynamic SQL, SELECT … INTO). */
const tsqlWrites = new Set([
  'insert', 'update', 'delete', 'merge', 'drop', 'truncate', 'alter', 'create', 'grant', 'revoke', 'deny', 'exec', 'execute', 'into',
  'backup', 'restore', 'dbcc', 'bulk', 'openrowset', 'opendatasource', 'openquery', 'reconfigure', 'shutdown', 'kill', 'waitfor',
  'use', 'begin', 'commit', 'rollback', 'save', 'declare', 'enable', 'disable', 'receive', 'send', 'move', 'get', 'writetext', 'updatetext',
  'readtext', 'checkpoint', 'setuser', 'revert', 'goto', 'throw', 'raiserror', 'cursor', 'open', 'fetch', 'close', 'deallocate',
]);

/**
 * The words of a T-SQL text outside its strings and comments, lower case, as SQL Server splits
 * it: `'…'` (and `N'…'`) with `''` inside and no backslash escapes, `[…]` with `]]`, `"…"`, `--`
 * to a line end, `/* … *\/` nested. undefined when a string, name or comment is left open.
 */
function tsqlWords(sql: string): { words: Array<{ word: string; quoted: boolean }>; qualifiedCall: boolean } | undefined {
  const out: Array<{ word: string; quoted: boolean }> = [];
  // The last three tokens outside strings and comments (`w` a name, `.`, or another character):
  // a `(` after `w . w` calls a schema-qualified name (`dbo.f(…)`, `[dbo].[f] (…)`).
  const last: string[] = [];
  let qualifiedCall = false;
  const token = (k: string): void => {
    if (k === '(' && last.join('') === 'w.w') qualifiedCall = true;
    last.push(k);
    if (last.length > 3) last.shift();
  };
  const n = sql.length;
  let i = 0;
  const closing = (q: string): boolean => {
    const start = i + 1;
    for (i = start; i < n; i++) {
      if (sql[i] === q) {
        if (sql[i + 1] === q) {
          i++;
          continue;
        }
        i++;
        return true;
      }
    }
    return false;
  };
  while (i < n) {
    const c = sql[i]!;
    if (c === "'") {
      if (!closing("'")) return undefined;
      token("'");
    } else if (c === '"' || c === '[') {
      const start = i + 1;
      if (!closing(c === '[' ? ']' : '"')) return undefined;
      out.push({ word: sql.slice(start, i - 1).toLowerCase(), quoted: true });
      token('w');
    } else if (c === '-' && sql[i + 1] === '-') {
      while (i < n && sql[i] !== '\n') i++;
    } else if (c === '/' && sql[i + 1] === '*') {
      let depth = 0;
      while (i < n) {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
          if (depth === 0) break;
        } else i++;
      }
      if (depth !== 0) return undefined;
    } else if (/[\p{L}_@#]/u.test(c)) {
      const start = i;
      while (i < n && /[\p{L}\p{N}_@#$]/u.test(sql[i]!)) i++;
      out.push({ word: sql.slice(start, i).toLowerCase(), quoted: false });
      token('w');
    } else {
      // Blanks separate nothing in a name chain (`dbo . f (`); any other character is a token.
      if (!/\s/.test(c)) token(c === '.' || c === '(' ? c : '?');
      i++;
    }
  }
  return { words: out, qualifiedCall };
}

/**
 * Whether a T-SQL text is plainly a read: it begins with SELECT or WITH (or only sets session
 * options), and holds no word of a write, a call (`EXEC`, `sp_…`, `xp_…`), another server or
 * file, `INTO`, or a setting not known harmless, anywhere outside its strings and comments. A
 * read (nor a call of a schema-qualified name: a user function) is judged as a console's text is (`{query}`: read when a grammar reads it); anything else
 * as `{sql}`, where text no grammar reads is unread SQL, held.
 */
export function tsqlPlainRead(sql: string): boolean {
  const read = tsqlWords(sql);
  // A call of a schema-qualified name: T-SQL's user functions are called so, and may run extended procedures.
  if (!read || read.words.length === 0 || read.qualifiedCall) return false;
  const { words } = read;
  const first = words[0]!;
  if (first.quoted || (first.word !== 'select' && first.word !== 'with' && first.word !== 'set')) return false;
  for (let k = 0; k < words.length; k++) {
    const { word, quoted } = words[k]!;
    if (quoted) {
      if (/^(sp|xp)_/.test(word)) return false;
      continue;
    }
    if (tsqlWrites.has(word) || /^(sp|xp)_/.test(word) || word.includes('.sp_') || word.includes('.xp_')) return false;
    if (word === 'set') {
      const next = words[k + 1];
      // A variable (`SET @x = 1`) or a session option known to be harmless; anything else (IDENTITY_INSERT, CONTEXT_INFO) is not a read.
      if (!next || next.quoted || !(next.word.startsWith('@') || harmlessSettings.has(next.word))) return false;
    }
  }
  return true;
}

/** sp_ procedures an RPC names by id ([MS-TDS] 2.2.6.6) that run a statement text: where that text is among the parameters, and how many parameters run it without values. */
const textProcs = new Map<number, { name: string; at: number; plain: number; prepares: boolean }>([
  [10, { name: 'sp_executesql', at: 0, plain: 2, prepares: false }],
  [11, { name: 'sp_prepare', at: 2, plain: 4, prepares: true }],
  [13, { name: 'sp_prepexec', at: 2, plain: 3, prepares: true }],
  [2, { name: 'sp_cursoropen', at: 1, plain: 6, prepares: false }],
  [3, { name: 'sp_cursorprepare', at: 2, plain: 6, prepares: true }],
  [5, { name: 'sp_cursorprepexec', at: 3, plain: 8, prepares: true }],
]);
/** Ids that run a prepared statement by its handle. */
const byHandle = new Set([12, 4]);
/** Ids that fetch, close, set options of a cursor, or free a handle: nothing runs. */
const runsNone = new Set([6, 7, 8, 9, 15]);

/** Reads a parameter's value past its TYPE_INFO; returns the text of a Unicode string type, or where the value ends. */
function readParam(m: Buffer, at: number): { end: number; text?: string } {
  const nameLen = m[at]!;
  at += 1 + nameLen * 2 + 1; // name (B_VARCHAR, UTF-16), status flags
  const type = m[at++];
  if (type === undefined) throw new Error('a TDS RPC parameter cut short');
  const fixed: Record<number, number> = { 0x1f: 0, 0x30: 1, 0x32: 1, 0x34: 2, 0x38: 4, 0x7f: 8, 0x3b: 4, 0x3e: 8, 0x3a: 4, 0x3d: 8, 0x3c: 8, 0x7a: 4 };
  if (type in fixed) return { end: at + fixed[type]! };
  // BYTELEN types: INTN, BITN, FLTN, MONEYN, DATETIMN, GUID; then one length byte before the value.
  if ([0x26, 0x68, 0x6d, 0x6e, 0x6f, 0x24].includes(type)) return { end: at + 1 + 1 + m[at + 1]! };
  if (type === 0x6a || type === 0x6c) return { end: at + 3 + 1 + m[at + 3]! }; // DECIMALN, NUMERICN: length, precision, scale
  if (type === 0x28) return { end: at + 1 + m[at]! }; // DATEN
  if (type === 0x29 || type === 0x2a || type === 0x2b) return { end: at + 1 + 1 + m[at + 1]! }; // TIMEN, DATETIME2N, DATETIMEOFFSETN: scale
  // USHORTLEN types: BIGVARBINARY, BIGBINARY (no collation), BIGVARCHAR, BIGCHAR, NVARCHAR, NCHAR (a collation).
  if ([0xa5, 0xad, 0xa7, 0xaf, 0xe7, 0xef].includes(type)) {
    const max = m.readUInt16LE(at);
    at += 2 + ([0xa7, 0xaf, 0xe7, 0xef].includes(type) ? 5 : 0);
    let value: Buffer;
    if (max === 0xffff) {
      // PLP: an 8-byte length (or unknown), then chunks of a 4-byte length, ended by an empty one.
      const total = m.readBigUInt64LE(at);
      at += 8;
      const parts: Buffer[] = [];
      if (total !== 0xffffffffffffffffn) {
        for (let guard = 0; guard < 100_000; guard++) {
          const len = m.readUInt32LE(at);
          at += 4;
          if (len === 0) break;
          if (at + len > m.length) throw new Error('a TDS RPC value cut short');
          parts.push(m.subarray(at, at + len));
          at += len;
        }
      }
      value = Buffer.concat(parts);
    } else {
      const len = m.readUInt16LE(at);
      at += 2;
      if (len === 0xffff) value = Buffer.alloc(0);
      else {
        if (at + len > m.length) throw new Error('a TDS RPC value cut short');
        value = m.subarray(at, at + len);
        at += len;
      }
    }
    return type === 0xe7 || type === 0xef ? { end: at, text: value.toString('utf16le') } : { end: at };
  }
  throw new Error(`a TDS RPC parameter of type 0x${type.toString(16)}, which Airlock does not read`);
}

export class TdsReader implements TunnelSqlReader {
  readonly protocol = 'mssql';
  private buf: Buffer = Buffer.alloc(0);
  private message: Buffer[] = [];
  private messageBytes = 0;
  private prelogged = false;
  private clientEncryption: number | undefined;
  private serverEncryption: number | undefined;
  /** The login is being encrypted on its own: raw TLS records until the first plain packet. */
  private loginTls = false;
  private loginTlsBytes = 0;
  private plainAfterLogin = false;
  /** A statement prepared in this tunnel may write: running a handle with values is refused. */
  private preparedWrite = false;
  /** ALL_HEADERS lead batches and RPCs: TDS 7.2 and later (read from LOGIN7 when it is plain). */
  private allHeaders = true;

  /** `sessionOpen`: a bridge logged in itself; the stream starts at the session's first request. */
  constructor(opts: { sessionOpen?: boolean } = {}) {
    if (opts.sessionOpen) this.prelogged = true;
  }

  get holding(): number {
    return this.buf.length + this.messageBytes;
  }

  /** The server's messages: its PRELOGIN answer says whether the whole session will be encrypted. */
  observe(data: Buffer): void {
    if (this.serverEncryption !== undefined || data.length < 8 || data[0] !== 0x04) return;
    this.serverEncryption = preloginEncryption(data.subarray(8, data.readUInt16BE(2))) ?? -1;
  }

  read(data: Buffer): TunnelRead {
    this.buf = appendBytes(this.buf, data);
    const statements: CarriedStatement[] = [];
    try {
      this.drain(statements);
    } catch (err) {
      return { statements, refused: (err as Error).message };
    }
    return { statements };
  }

  private drain(out: CarriedStatement[]): void {
    while (this.buf.length >= 5) {
      const b0 = this.buf[0]!;
      // A TLS record of a login encrypted on its own (ENCRYPT_OFF on both sides), sent raw after the handshake.
      if (this.loginTls && !this.plainAfterLogin && b0 >= 0x14 && b0 <= 0x17 && this.buf[1] === 0x03) {
        const len = 5 + this.buf.readUInt16BE(3);
        if (this.buf.length < len) return;
        this.loginTlsBytes += len;
        if (this.loginTlsBytes > MAX_LOGIN_TLS) throw new Error('more TLS in a TDS tunnel than a login encrypted on its own sends: what it carries cannot be read');
        this.buf = this.buf.subarray(len);
        continue;
      }
      if (this.buf.length < 8) return;
      const type = b0;
      const status = this.buf[1]!;
      const len = this.buf.readUInt16BE(2);
      if (len < 8) throw new Error('a TDS packet shorter than its header');
      // Known at its header (a TLS record after the login is no TDS packet: not waited for).
      if (!clientTypes.has(type)) throw new Error(`the TDS message type 0x${type.toString(16)}: not read`);
      if (this.buf.length < len) {
        if (this.messageBytes + this.buf.length > MAX_MESSAGE) throw new Error('a TDS message longer than Airlock reads');
        return;
      }
      const payload = this.buf.subarray(8, len);
      this.buf = this.buf.subarray(len);
      if (this.loginTls && type !== PRELOGIN) this.plainAfterLogin = true;
      if (type === PRELOGIN && this.prelogged) {
        // The TLS handshake, carried in PRELOGIN packets: only a login encrypted on its own is read around.
        if (this.clientEncryption !== ENCRYPT_OFF || this.serverEncryption !== ENCRYPT_OFF || this.plainAfterLogin) throw new Error('TLS inside a TDS tunnel for the whole session: what it carries cannot be read (connect with encryption off, or not through a bridge)');
        this.loginTls = true;
        continue;
      }
      this.message.push(payload);
      this.messageBytes += payload.length;
      if (this.messageBytes > MAX_MESSAGE) throw new Error('a TDS message longer than Airlock reads');
      if (!(status & 0x01)) continue;
      const m = Buffer.concat(this.message);
      this.message = [];
      this.messageBytes = 0;
      // The client asked the server to ignore this message.
      if (status & 0x02) continue;
      if (out.length >= MAX_STATEMENTS) throw new Error(`more than ${MAX_STATEMENTS} TDS statements in one message`);
      this.messageOf(type, m, out);
    }
  }

  private messageOf(type: number, m: Buffer, out: CarriedStatement[]): void {
    if (!this.prelogged) {
      if (type !== PRELOGIN) throw new Error('a TDS stream that does not start with PRELOGIN');
      this.prelogged = true;
      this.clientEncryption = preloginEncryption(m);
      if (this.clientEncryption !== ENCRYPT_OFF && this.clientEncryption !== 0x02) throw new Error('TLS inside a TDS tunnel (the client asks for encryption): what it carries cannot be read');
      return;
    }
    if (type === 0x10) {
      // LOGIN7's TDSVersion (little-endian at byte 4): before 7.2 no ALL_HEADERS lead a batch.
      if (m.length >= 8) this.allHeaders = m.readUInt32LE(4) >= 0x72090002;
      return;
    }
    if (quiet.has(type)) return;
    if (type === 0x01) {
      const text = this.afterHeaders(m).toString('utf16le');
      out.push(this.statement('SQL batch', text));
      return;
    }
    if (type === 0x03) return this.rpc(m, out);
    throw new Error(`the TDS message type 0x${type.toString(16)}: not read`);
  }

  /** A statement as its twin: `{query}` for a plain read (read when a grammar reads it), `{sql}` otherwise. */
  private statement(message: string, text: string): CarriedStatement {
    return { protocol: 'mssql', message, body: tsqlPlainRead(text) ? { query: text } : { sql: text } };
  }

  private afterHeaders(m: Buffer): Buffer {
    if (!this.allHeaders) return m;
    if (m.length < 4) throw new Error('a TDS message without its headers');
    const total = m.readUInt32LE(0);
    if (total < 4 || total > m.length) throw new Error('a TDS message whose headers run past it');
    return m.subarray(total);
  }

  /** RPC requests, one after another (a batch flag 0xFF or 0x80, or 0xFE for NoExec, between them). */
  private rpc(whole: Buffer, out: CarriedStatement[]): void {
    const m = this.afterHeaders(whole);
    let at = 0;
    for (let calls = 0; at < m.length; calls++) {
      if (calls >= MAX_STATEMENTS) throw new Error(`more than ${MAX_STATEMENTS} TDS RPC calls in one message`);
      const nameLen = m.readUInt16LE(at);
      at += 2;
      if (nameLen !== 0xffff) throw new Error(`a TDS RPC of the procedure ${JSON.stringify(m.toString('utf16le', at, at + Math.min(nameLen, 40) * 2))} by name: what it runs is not read`);
      const id = m.readUInt16LE(at);
      at += 2 + 2; // the id, option flags
      const params: Array<{ text?: string }> = [];
      while (at < m.length && m[at] !== 0xff && m[at] !== 0xfe && m[at] !== 0x80) {
        const p = readParam(m, at);
        if (p.end > m.length) throw new Error('a TDS RPC parameter cut short');
        params.push({ text: p.text });
        at = p.end;
      }
      if (at < m.length) at++; // the flag between calls
      const proc = textProcs.get(id);
      if (proc) {
        const text = params[proc.at]?.text;
        if (text === undefined) throw new Error(`${proc.name} without its statement as Unicode text`);
        const st = this.statement(`RPC ${proc.name}`, text);
        // Values are bound in binary to names the text declares: a statement that may write does not run with them unread.
        if (!('query' in st.body) && params.length > proc.plain) throw new Error(`${proc.name} of a statement that may write, with values bound: the values are not read`);
        if (proc.prepares && !('query' in st.body)) this.preparedWrite = true;
        out.push(st);
      } else if (byHandle.has(id)) {
        if (this.preparedWrite) throw new Error('a prepared TDS statement that may write, run by its handle (sp_execute): the values are not read');
      } else if (!runsNone.has(id)) {
        throw new Error(`the TDS RPC procedure id ${id}: not read`);
      }
    }
  }
}
