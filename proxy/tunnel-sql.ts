// The statements an open WebSocket tunnel carries to a database (PostgreSQL's wire protocol, as
// Neon's serverless driver speaks it; libSQL's Hrana), each decided like its HTTP twin. Approving
// the upgrade lets the agent open a connection; it does not let every statement through: each one
// the reader (describe/tunnel-sql.ts) finds is described as the request that would carry it over
// HTTP (`POST /sql {query, params}` to the same host, Hrana's `POST /v2/pipeline {requests}`, a
// GraphQL operation's payload POSTed to the tunnel's URL),
// decided by the same policy with the same SQL judgment, and audited (one record per statement,
// naming the tunnel). The message that completes a statement is relayed only once it is allowed:
// - allow: relayed;
// - approve: held for a human like any request (the approval enforcer; the card shows the twin),
//   the tunnel's traffic from the agent waiting meanwhile; relayed once approved;
// - deny, a refused approval, or a stream that cannot be read: the tunnel is closed (1008) and
//   the statement never reaches the server.
import { isUtf8 } from 'node:buffer';
import crypto from 'node:crypto';
import type { RawRequest } from '../describe/describe.ts';
import { GraphqlWsReader, HranaReader, actingHeader, JsonMessagesReader, MAX_PG_MESSAGE, PgFrontendReader, clientEncodingProblem, startsGraphqlWs, startsHrana, mqttSignsIn, packedSignsIn, saslSignsIn, signsIn, startsJson, startsPostgres, startsWithMessage, type CarriedStatement, type TunnelSqlReader } from '../describe/tunnel-sql.ts';
import type { EngineDecision } from '../engine/decision.ts';
import { riskRank } from '../engine/grants.ts';
import { AbortFlag } from '../lib/abort-flag.ts';
import type { AuditRecord } from '../state/audit-log.ts';
import type { Rejection, RelayedMessage, RequestContext } from './enforcers.ts';
import type { Exchange } from './exchange.ts';
import type { Pipeline } from './pipeline.ts';
import { denial, refusals } from './refusals.ts';
import { MysqlReader, mayStartMysqlResponse, startsMysqlGreeting, startsMysqlResponse } from '../describe/tunnel-mysql.ts';
import { TdsReader, startsTds, startsTdsSession } from '../describe/tunnel-tds.ts';
import { answersAsRedis, inlineRedisRead, RedisReader, RedisStart, redisStatement } from '../describe/tunnel-redis.ts';
import { MongoReader, mayStartMongo, startsMongo } from '../describe/tunnel-mongo.ts';
import { BRIDGED_GREETINGS, InnerSessionScan } from '../describe/tunnel-inner.ts';
import { dnsQueryNames, hostSpelled } from './body-tunnels.ts';

/** Bytes of the agent's stream kept to see whether it starts PostgreSQL's protocol. */
const SNIFF = 8;
const MONGO_SNIFF = 16;

const unreadable = (detail: string): Rejection => ({ status: 403, type: 'policy-denied', title: 'SQL in the tunnel cannot be read', detail: `${detail}; the tunnel was closed`, outcome: 'denied' });

/**
 * A statement that makes the server read later statements in another encoding than the UTF-8 they
 * are read in (`SET NAMES 'SJIS'`, `set_config('client_encoding', …)`, a setting named by an
 * expression, a RESET to a default Airlock did not see): why it is refused.
 */
function encodingChange(statements: ReadonlyArray<{ settings?: string[] }> | undefined): string | undefined {
  for (const st of statements ?? []) {
    for (const s of st.settings ?? []) {
      const eq = s.indexOf('=');
      const cut = eq >= 0 ? eq : s.indexOf(':');
      const name = (cut >= 0 ? s.slice(0, cut) : s).toLowerCase();
      if (name !== 'client_encoding' && name !== '?') continue;
      if (eq < 0) return 'a statement resets client_encoding to a default Airlock did not see';
      const problem = clientEncodingProblem(s.slice(eq + 1));
      if (problem) return problem;
    }
  }
  return undefined;
}

/**
 * A statement text's key in what a tunnel remembers of it: texts of up to a MiB, a thousand of
 * them remembered, would be a GiB a tunnel (a name Parsed again frees its text in the reader, not here).
 */
const digest = (text: string): string => crypto.createHash('sha256').update(text).digest('base64');

/** Where a JSON text starts: the index of its first byte that is not JSON whitespace. */
function jsonStart(b: Buffer): number {
  let i = 0;
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x09 || b[i] === 0x0a || b[i] === 0x0d)) i++;
  return i;
}

/** Whether a message is canonical base64 (the alphabet, padding only at the end, whole quads). */
function canonicalBase64(b: Buffer): boolean {
  if (b.length % 4 !== 0) return false;
  let end = b.length;
  if (end && b[end - 1] === 0x3d) end--;
  if (end && b[end - 1] === 0x3d) end--;
  for (let i = 0; i < end; i++) {
    const c = b[i]!;
    if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f)) return false;
  }
  return true;
}

/** A sign-in cut across messages is read within the stream's first this many messages and bytes (signsInStream). */
const SIGN_IN_MESSAGES = 16;
const SIGN_IN_BYTES = 64 * 1024;

export class TunnelSql {
  /** undefined: not known yet. */
  private reader: TunnelSqlReader | undefined;
  private sniffed: Buffer[] = [];
  /** The first bytes of the stream (messages that are not JSON) have not been seen yet. */
  private sniffing = true;
  /** Reads messages of protocols Airlock has no reader for (also while the stream's start is sniffed). */
  private readonly textReader = new JsonMessagesReader();
  private sniffedBytes = 0;
  private readonly ended = new AbortFlag();
  /**
   * Longest statement read, in its message and as its twin's body: as much of a request as Airlock
   * reads (the body capture), and at least a Query the PostgreSQL reader keeps. A WebSocket message
   * may hold 16 MiB: read whole (JSON parsed, described, evaluated) it held the event loop for
   * seconds, every agent's, where an HTTP body is read to the capture only.
   */
  private readonly maxStatement: number;

  /** websockify's `base64` subprotocol: each text message is the base64 of the bytes it carries. */
  private readonly base64: boolean;

  constructor(private readonly x: Exchange, private readonly pipeline: Pipeline, private readonly subprotocol: string, bodyCap: number) {
    this.maxStatement = Math.max(bodyCap, MAX_PG_MESSAGE + 64);
    if (/^hrana/i.test(subprotocol)) this.reader = new HranaReader(subprotocol.toLowerCase(), this.maxStatement);
    else if (/^graphql-(transport-)?ws$/i.test(subprotocol)) this.reader = new GraphqlWsReader();
    this.base64 = subprotocol.toLowerCase() === 'base64';
    const k8s = /(?:^|\.)(?:channel|portforward)\.k8s\.io$/i.exec(subprotocol);
    this.k8s = k8s ? (/(?:^|\.)base64\./i.test(subprotocol) ? 'base64' : 'binary') : undefined;
  }

  /**
   * Kubernetes' channel subprotocols (`v4.channel.k8s.io`, `portforward.k8s.io`, their `base64.`
   * forms): each message's first byte (or, in base64, character) names a channel, and each channel
   * is a stream of its own — exec's stdin, a port-forward's connection to a pod's port. Read each
   * as a stream (twenty-fourth pass: a SOCKS request or an SSH line behind the channel byte went on).
   */
  private readonly k8s: 'binary' | 'base64' | undefined;
  private readonly channels = new Map<number, InnerSessionScan>();

  /** Bytes the reader keeps of statements not yet whole: they count with the tunnel's unfinished messages. */
  holding(): number {
    return (this.reader?.holding ?? this.sniffedBytes) + (this.earlyMysql?.holding ?? 0) + this.earlyHead.length + (this.redis?.holding ?? this.redisStart.holding) + (this.redisPending?.length ?? 0);
  }

  /** The tunnel ended: a statement held for a human stops waiting. */
  close(): void {
    this.ended.abort();
  }

  /**
   * A message from the upstream, before it reaches the agent: a MySQL server speaks first (its
   * greeting), so a tunnel whose stream is not known yet and whose server greets so is MySQL's.
   */
  observe(m: RelayedMessage): void {
    if (m.kind !== 'text' && m.kind !== 'binary') return;
    // SQL Server's PRELOGIN answer says whether the session will be encrypted whole.
    // A remote browser's paused requests, for the commands that continue them (twenty-fifth pass).
    if (this.reader instanceof JsonMessagesReader) this.reader.observe(m.data);
    if (this.reader instanceof TdsReader) this.reader.observe(this.base64 && m.kind === 'text' && canonicalBase64(m.data) ? Buffer.from(m.data.toString('latin1'), 'base64') : m.data);
    // Twenty-seventh pass: a server that greets before the agent spoke (an SMTP, FTP, POP3, IMAP or
    // Telnet server behind a bridge): the agent's replies (`EHLO`, `MAIL FROM:`) open no session
    // of their own, so the greeting is read, and the agent's next message closes the tunnel.
    if (!this.spoke && this.serverOpened === undefined && this.serverReads++ < 8) {
      let greeting = this.base64 && m.kind === 'text' && canonicalBase64(m.data) ? Buffer.from(m.data.toString('latin1'), 'base64') : m.data;
      // (A line bridge, websocketd, sends each line without its end: read with it, as the server sent it.)
      if (m.kind === 'text' && /^[\x20-\x7e\t]+$/.test(greeting.toString('latin1'))) greeting = Buffer.concat([greeting, Buffer.from('\r\n')]);
      const found = this.serverStart.read(greeting);
      if (found && BRIDGED_GREETINGS.has(found)) this.serverOpened = found;
    }
    if (this.greeted && (this.answered || !this.spoke)) return;
    const data = this.base64 && m.kind === 'text' && canonicalBase64(m.data) ? Buffer.from(m.data.toString('latin1'), 'base64') : m.data;
    // A Redis server answering the agent's first line (twentieth pass): read as Redis from here on,
    // whatever that line was (an inline command Airlock has no arity for went on unread). The first
    // message after the agent spoke: a bridge's banner before it is no answer (twenty-third pass:
    // after one, the answer was never read and the agent's lines stayed unread).
    if (this.spoke && !this.answered) {
      this.answered = true;
      if (this.redis === undefined && (this.reader === undefined || this.reader instanceof JsonMessagesReader) && answersAsRedis(data)) {
        this.redis = new RedisReader(this.maxStatement);
        this.redisPending = this.redisStart.rest();
      }
    }
    if (this.greeted) return;
    this.greeted = true;
    this.earlyMysql = null;
    if (!startsMysqlGreeting(data) || this.reader instanceof MysqlReader) return;
    // A MySQL client waits for the greeting: bytes the agent sent before it were read as another
    // protocol's, and the server reads them as MySQL's. The tunnel is closed at its next message.
    if (this.reader !== undefined || this.sniffedBytes !== 0 || this.spoke) this.lateGreeting = true;
    else {
      this.reader = new MysqlReader();
      this.sniffing = false;
    }
  }

  /** The upstream's first message was seen (observe). */
  private greeted = false;
  /** The upstream's stream before the agent spoke, read for a server's greeting, and what it found (observe). */
  private readonly serverStart = new InnerSessionScan({ answer: true });
  private serverReads = 0;
  private serverOpened: string | undefined;
  /** The agent sent a message before it. */
  private spoke = false;
  /** The upstream sent a message after the agent had spoken. */
  private answered = false;
  /** A MySQL greeting came after the agent had spoken. */
  private lateGreeting = false;
  /** The agent's stream, read for another protocol's session opened inside it (TLS, SSH, HTTP). */
  private readonly inner = new InnerSessionScan();

  /**
   * A message from the agent, before it is relayed: undefined when it completes no statement (it
   * goes on at once), else the decision about the statements it completes (a Rejection closes).
   */
  judge(m: RelayedMessage): Promise<Rejection | undefined> | Rejection | undefined {
    if (m.to !== 'upstream' || (m.kind !== 'text' && m.kind !== 'binary')) return undefined;
    if (this.lateGreeting) return this.refuseUnread('MySQL bytes sent before the server greeted: read as another protocol');
    if (this.serverOpened) return this.refuseUnread(`the server behind the tunnel greeted with ${this.serverOpened}: what the agent answers it is not decided here (send HTTP through the proxy)`);
    this.spoke = true;
    let data = m.data;
    let kind = m.kind;
    if (this.base64 && kind === 'text') {
      // The bridge decodes it (Python's b64decode skips what is not base64): only the canonical form is read.
      if (!canonicalBase64(data)) return this.refuseUnread('a message of the base64 subprotocol that is not canonical base64');
      data = Buffer.from(data.toString('latin1'), 'base64');
      kind = 'binary';
    }
    // A message that signs in (an access token in the protocol's own words: Home Assistant's `auth`,
    // a `phx_join`, Socket.IO's `40{"token": …}`) makes the socket answer as that account: judged
    // first as an authenticated GET of the tunnel's URL, whose labels (labels.authenticated:
    // `private`) are the session's before it leaves; one new to the session makes the tunnel stale
    // and it closes, as a statement's does (twenty-seventh pass: the account's data came in under the
    // upgrade's labels alone, `untrusted`, and the next POST carried it out).
    // (Hrana's `hello` and GraphQL's `connection_init` are read by their own readers: `credentialed`.)
    if (!this.signedIn && this.reader?.credentialed === undefined && (this.signsInMessage(data, kind) || this.signsInStream(data))) {
      this.signedIn = true;
      const signIn: CarriedStatement = { protocol: 'json', message: 'sign-in', body: {}, signIn: true };
      return (async () => (await this.decide(signIn)) ?? this.withDatabaseRead(this.judgeMessage(data, kind)))();
    }
    this.noteInlineRead(data);
    return this.withDatabaseRead(this.judgeMessage(data, kind));
  }

  /**
   * The agent's stream before the server's first answer, read for an inline Redis read (`GET k`,
   * `HGETALL k`, `KEYS *`), its lines joined across messages (at most 4 KiB): the server's first
   * answer is that record, so the tunnel is judged as a database read before the line leaves
   * (twenty-ninth pass: it was judged only at the agent's next message, once that answer had shown
   * the stream to be Redis's, and the record came in under the upgrade's labels).
   */
  private noteInlineRead(data: Buffer): void {
    if (this.inlineRead || this.answered || this.redis !== undefined || this.databaseRead) return;
    if (this.reader !== undefined && !(this.reader instanceof JsonMessagesReader)) return;
    if (this.preAnswer.length >= 4096) return;
    const joined = Buffer.concat([this.preAnswer, data.subarray(0, 4096 - this.preAnswer.length)]);
    let from = 0;
    for (let nl = joined.indexOf(0x0a); nl >= 0; nl = joined.indexOf(0x0a, from)) {
      if (inlineRedisRead(joined.subarray(from, nl))) {
        this.inlineRead = true;
        this.preAnswer = Buffer.alloc(0);
        return;
      }
      from = nl + 1;
    }
    this.preAnswer = joined.subarray(from);
  }

  /** An inline Redis read was seen before the server answered (noteInlineRead). */
  private inlineRead = false;
  /** The agent's unfinished line before the server's first answer (noteInlineRead). */
  private preAnswer: Buffer = Buffer.alloc(0);

  /**
   * A database's answers are its records, whichever command asked for them (twenty-eighth pass): a
   * Redis `GET`/`HGETALL`/`SCAN` or a MongoDB `find`/`aggregate`/`getMore` over a WebSocket bridge
   * only reads, so no statement was decided for it, and the rows came in under the upgrade's labels
   * alone (a plain host's `untrusted`): the next POST carried them out. Once the agent's stream is
   * known to be such a database's (its reader is Redis's or MongoDB's), the tunnel is judged, once,
   * as a sign-in is: an authenticated GET of its URL (a database answers with your records whoever
   * wrote them, as an account does: `labels.authenticated`, `private`, unless `labels.hosts` names
   * the host), before the message that showed it leaves. Its labels keep this tunnel current, as a
   * 101's do (its statements that may write are each decided with them; the reads go on, as they did);
   * other streams of the session are stale. Judged for its labels only: what the policy says of the
   * twin refuses nothing (the reads went on before, and still do), and a deny brings none. (PostgreSQL, MySQL, SQL Server and Hrana read every query as its SQL, a SELECT included.)
   */
  private withDatabaseRead(judged: Promise<Rejection | undefined> | Rejection | undefined): Promise<Rejection | undefined> | Rejection | undefined {
    if (this.databaseRead || this.signedIn) return judged;
    const db = this.redis !== undefined || this.inlineRead ? 'redis' : this.reader instanceof MongoReader ? 'mongodb' : undefined;
    if (db === undefined) return judged;
    const read = (): Promise<Rejection | undefined> => {
      if (this.databaseRead) return Promise.resolve(undefined);
      this.databaseRead = true;
      return this.decide({ protocol: 'json', message: `${db} read`, body: {}, signIn: true, ownRead: true });
    };
    if (judged instanceof Promise) return judged.then((r) => r ?? read());
    return judged ?? read();
  }

  /** A read of the database behind the tunnel was judged (withDatabaseRead). */
  private databaseRead = false;

  private signsInMessage(data: Buffer, kind: 'text' | 'binary'): boolean {
    const text = kind === 'text' || isUtf8(data);
    if (mqttSignsIn(data) || (text && this.signsInHere(data.toString('utf8')))) return true;
    // SASL and packed maps are read in the stream's first messages only (a sign-in comes first): a
    // socket that streams megabytes is not searched at every message.
    if (this.streamStart === undefined) return false;
    return saslSignsIn(data) || (!text && packedSignsIn(data));
  }

  /**
   * A sign-in cut across messages (twenty-eighth pass, left open by the twenty-seventh): MQTT over
   * WebSocket is a byte stream ("a receiver MUST NOT assume that MQTT Control Packets are aligned on
   * WebSocket frame boundaries"), as STOMP is to RabbitMQ's Web-STOMP (stomp.js splits large frames),
   * so a CONNECT whose user name and password come in the second message, or a `passcode:` line cut
   * in two, signed in unread. The stream's start, its first messages joined (at most
   * SIGN_IN_MESSAGES of them, SIGN_IN_BYTES in all), is read as one message is, at each message.
   */
  private signsInStream(data: Buffer): boolean {
    if (this.streamStart === undefined) return false;
    this.streamStart.push(data);
    this.streamStartBytes += data.length;
    if (this.streamStart.length > SIGN_IN_MESSAGES || this.streamStartBytes > SIGN_IN_BYTES) {
      this.streamStart = undefined; // past the start: a sign-in comes first
      return false;
    }
    if (this.streamStart.length < 2) return false; // read alone already
    const joined = Buffer.concat(this.streamStart);
    return mqttSignsIn(joined) || saslSignsIn(joined) || (isUtf8(joined) ? this.signsInHere(joined.toString('utf8')) : packedSignsIn(joined));
  }

  /** The agent's first messages, for a sign-in cut across them (signsInStream); undefined past them. */
  private streamStart: Buffer[] | undefined = [];
  private streamStartBytes = 0;

  /** The agent gave the server a credential in one of the tunnel's messages (`signsIn`): its twins are authenticated. */
  private signedIn = false;

  private signsInHere(text: string): boolean {
    if (this.reader === undefined && this.sniffedBytes === 0 && (startsHrana(text) || startsGraphqlWs(text))) return false;
    return signsIn(text);
  }

  private judgeMessage(data: Buffer, kind: 'text' | 'binary'): Promise<Rejection | undefined> | Rejection | undefined {
    // A session the agent opens inside the tunnel (TLS, SSH, an HTTP request to a bridged server) is never decided here.
    const inner = this.inner.read(data) ?? this.channelRead(data);
    if (inner) return this.refuseUnread(`${inner} inside the tunnel: what it carries is not decided here (send HTTP through the proxy)`);
    // Twenty-seventh pass: a DNS query whole in a message (a resolver behind a UDP or TCP bridge, DNS
    // over a WebSocket) sends its names on to their domains' servers (dnstt's data in the names):
    // each name is decided as a GET of that host, as a DNS-over-HTTPS query is (proxy/body-tunnels.ts).
    const asked = kind === 'binary' ? dnsQueryNames(data) : undefined;
    if (asked) {
      const bad = asked.find((n) => !hostSpelled(n.replace(/\.$/, '').toLowerCase()));
      if (bad !== undefined) return this.refuseUnread(`a DNS query for a name no host is spelled as (${JSON.stringify(bad.slice(0, 80))}): a resolver sends its names on to their own servers`);
      return this.decideAll(asked.map((n): CarriedStatement => ({ protocol: 'dns', message: 'DNS query', body: {}, target: `https://${n.toLowerCase()}/` })));
    }
    const early = this.beforeGreeting(data);
    if (early && !Array.isArray(early)) return early;
    const redis = this.redisCommands(data);
    if (redis && !Array.isArray(redis)) return redis;
    const read = this.judgeBytes(data, kind);
    const more = [...(early ?? []), ...(redis ?? [])];
    if (!more.length) return read;
    // Statements MySQL would run from bytes sent before its greeting, and Redis commands: decided after the reading's own.
    return (async () => (await read) ?? this.decideAll(more))();
  }

  /** A Kubernetes channel's stream, read as a stream of its own (at most 16 channels: more are refused). */
  private channelRead(data: Buffer): string | undefined {
    if (!this.k8s || !data.length) return undefined;
    const channel = this.k8s === 'base64' ? data[0]! - 0x30 : data[0]!;
    const payload = this.k8s === 'base64' ? Buffer.from(data.subarray(1).toString('latin1'), 'base64') : data.subarray(1);
    let scan = this.channels.get(channel);
    if (!scan) {
      if (this.channels.size >= 16) return 'more than 16 Kubernetes channels';
      scan = new InnerSessionScan();
      this.channels.set(channel, scan);
    }
    return scan.read(payload);
  }

  /**
   * A tunnel whose stream begins as a Redis client's (a multibulk request, or an inline command
   * that acts on the server with the arguments Redis checks) is read as Redis too, from then on,
   * beside the tunnel's other reading (nineteenth pass: `FLUSHALL`, `CONFIG SET`, `EVAL` through a
   * bridge went on undecided). Returns the commands that may write, or why the stream cannot be read.
   */
  private redisCommands(data: Buffer): CarriedStatement[] | Rejection | undefined {
    if (this.redis === undefined) {
      // Only a stream no other protocol's reader took (PostgreSQL's, MySQL's and TDS's are read whole).
      if (this.reader !== undefined && !(this.reader instanceof JsonMessagesReader)) return undefined;
      const from = this.redisStart.feed(data, !this.answered);
      const early = this.redisStart.takeEarly().flatMap((args) => redisStatement(args) ?? []);
      if (from === undefined) return early.length ? early : undefined;
      this.redis = new RedisReader(this.maxStatement);
      const read = this.redis.read(from);
      if (read.refused) return this.refuseUnread(read.refused);
      return [...early, ...read.statements];
    } else if (this.redisPending) {
      // The line the agent had begun when the server's answer made the stream Redis's.
      data = Buffer.concat([this.redisPending, data]);
      this.redisPending = undefined;
    }
    const read = this.redis.read(data);
    if (read.refused) return this.refuseUnread(read.refused);
    return read.statements;
  }

  /**
   * Bytes the agent sends before the upstream's first message, also read as a MySQL client's (a
   * MySQL server speaks first, and reads what was sent before its greeting as the handshake
   * response and the commands after it). Started only when the stream begins as a handshake
   * response may (sequence 1, a length of 32 or more): such bytes were read as another protocol's
   * (a PostgreSQL CopyData, a handshake with a filler that is not zeros, one cut across messages)
   * and relayed, and an account that needs no scramble (no password) ran a COM_QUERY behind them.
   * Returns the statements that reading completes, or why it cannot read the bytes.
   */
  private beforeGreeting(data: Buffer): CarriedStatement[] | Rejection | undefined {
    if (this.greeted || this.reader instanceof MysqlReader || this.earlyMysql === null) return undefined;
    if (this.earlyMysql === undefined) {
      this.earlyHead = this.earlyHead.length ? Buffer.concat([this.earlyHead, data]) : data;
      if (this.earlyHead.length < 4) return undefined;
      const head = this.earlyHead;
      this.earlyHead = Buffer.alloc(0);
      // A whole handshake response first makes the tunnel MySQL's (judgeBytes): not read twice.
      if (!mayStartMysqlResponse(head) || (head === data && this.reader === undefined && this.sniffedBytes === 0 && startsMysqlResponse(head))) {
        this.earlyMysql = null;
        return undefined;
      }
      this.earlyMysql = new MysqlReader();
      data = head;
    }
    const read = this.earlyMysql.read(data);
    if (read.refused) return this.refuseUnread(`sent before the server greeted, read as MySQL: ${read.refused}`);
    return read.statements;
  }

  /** The Redis reading of the agent's stream, once it began as a Redis client's. */
  private redis: RedisReader | undefined;
  private readonly redisStart = new RedisStart();
  /** What RedisStart held of a line when the server's answer started the Redis reading. */
  private redisPending: Buffer | undefined;

  /** The MySQL reading of what the agent sends before the upstream speaks (null: the stream does not start as MySQL's would). */
  private earlyMysql: MysqlReader | null | undefined;
  /** The stream's first bytes while fewer than a MySQL packet header. */
  private earlyHead: Buffer = Buffer.alloc(0);

  /** The reading of the agent's bytes by the tunnel's protocol (judge). */
  private judgeBytes(data: Buffer, kind: 'text' | 'binary'): Promise<Rejection | undefined> | Rejection | undefined {
    // A JSON message is parsed whole to be read: one longer than a statement Airlock reads is not.
    const tooLong = data.length > this.maxStatement ? `a message of ${data.length} bytes, longer than Airlock reads of a statement (${this.maxStatement})` : undefined;
    if (tooLong && this.sniffing && this.sniffedBytes === 0 && (data[jsonStart(data)] === 0x7b || data[jsonStart(data)] === 0x5b)) {
      return this.refuseUnread(`${tooLong}: which protocol it opens is not known`);
    }
    // While the stream's start is sniffed: what the message says as text (a bridge reads a binary JSON message as a text one).
    const text = this.sniffing ? data.toString('utf8') : undefined;
    if (this.reader === undefined && this.sniffedBytes === 0 && text !== undefined) {
      if (startsMysqlResponse(data)) {
        this.reader = new MysqlReader();
        this.sniffing = false;
      } else if (kind === 'text' && startsHrana(text)) {
        this.reader = new HranaReader('', this.maxStatement);
        this.sniffing = false;
      } else if (kind === 'text' && startsGraphqlWs(text)) {
        this.reader = new GraphqlWsReader();
        this.sniffing = false;
      } else if (startsJson(text)) {
        // No PostgreSQL stream starts with `{` or `[` (a startup's length leaves its first byte 0),
        // but one may follow a JSON message a bridge reads as its own (`{"connect": "db:5432"}`).
        this.reader = new JsonMessagesReader();
      }
    }
    // The first 8 bytes of what is not JSON say whether the stream is PostgreSQL's; they may come in pieces.
    if (this.sniffing && (this.reader === undefined || this.reader instanceof JsonMessagesReader) && !(text !== undefined && startsJson(text))) {
      const own = data;
      this.sniffed.push(data);
      this.sniffedBytes += data.length;
      // A MongoDB header is told by its first 16 bytes (its `responseTo` and opcode).
      if (this.sniffedBytes < SNIFF || (this.sniffedBytes < MONGO_SNIFF && mayStartMongo(Buffer.concat(this.sniffed)) && !startsPostgres(Buffer.concat(this.sniffed)))) {
        // Too short to tell: read for SQL as any other message is meanwhile.
        const early = this.textReader.read(own, kind === 'binary');
        if (early.refused) return this.refuseUnread(early.refused);
        return early.statements.length ? this.decideAll(early.statements) : undefined;
      }
      data = Buffer.concat(this.sniffed);
      this.sniffed = [];
      this.sniffedBytes = 0;
      this.sniffing = false;
      const first = data.subarray(0, SNIFF);
      if (startsPostgres(first)) {
        // A startup's length leaves its first byte 0: one starting with a message type is a session a bridge opened.
        this.reader = new PgFrontendReader({ sessionOpen: startsWithMessage(first), maxBind: this.maxStatement });
      } else if (startsTds(first) || startsTdsSession(data)) {
        this.reader = new TdsReader({ sessionOpen: !startsTds(first) });
      } else if (startsMongo(data)) {
        this.reader = new MongoReader(this.maxStatement);
      } else {
        // Not PostgreSQL: text messages are read for the SQL they may carry.
        this.reader ??= this.textReader;
        data = own;
      }
    }
    this.reader ??= this.textReader;
    if (tooLong && this.reader.protocol !== 'postgresql') return this.refuseUnread(tooLong);
    const read = this.reader.read(data, kind === 'binary');
    // A message with something unreadable in it never leaves: the statements before it need no decision.
    if (read.refused) return this.refuseUnread(read.refused);
    if (!read.statements.length) return undefined;
    return this.decideAll(read.statements);
  }

  private async decideAll(statements: CarriedStatement[]): Promise<Rejection | undefined> {
    for (const s of statements) {
      const r = await this.decide(s);
      if (r) return r;
    }
    return undefined;
  }

  private refuseUnread(why: string): Rejection {
    const r = unreadable(why);
    this.pipeline.append(this.record(undefined, undefined, r, undefined));
    return r;
  }

  private async decide(s: CarriedStatement): Promise<Rejection | undefined> {
    if (s.target) return this.decideLoad(s, s.target);
    const tunnelUrl = new URL(this.x.url);
    const scheme = tunnelUrl.protocol === 'wss:' ? 'https' : 'http';
    if (s.signIn) {
      const acting = this.actingHeaders();
      return this.decideTwin(s, { method: 'GET', url: `${scheme}://${tunnelUrl.host}${tunnelUrl.pathname}${tunnelUrl.search}`, headers: [['host', tunnelUrl.host], ...acting, ['authorization', 'Bearer (given in the tunnel)']], body: Buffer.alloc(0), bodyTruncated: false });
    }
    const path = s.protocol === 'postgresql' ? '/sql' : s.protocol === 'hrana' ? '/v2/pipeline' : `${tunnelUrl.pathname}${tunnelUrl.search}`;
    const url = `${scheme}://${tunnelUrl.host}${path}`;
    const body = s.raw ?? Buffer.from(JSON.stringify(s.body));
    // Escapes can make the twin longer than its message (a control character is six bytes in JSON).
    if (body.length > this.maxStatement) return this.refuseUnread(`a statement whose HTTP twin is ${body.length} bytes, longer than Airlock reads of a request (${this.maxStatement})`);
    // Whom the statement acts as: the upgrade's own headers that choose it, and the session's (GraphQL's connection_init).
    const acting = this.actingHeaders();
    const headers: Array<[string, string]> = [['host', tunnelUrl.host], ['content-type', 'application/json'], ...acting, ...(s.headers ?? [])];
    // Credentials the tunnel gave in its own messages make its twins authenticated reads (labels.authenticated).
    if (this.reader?.credentialed || this.signedIn) headers.push(['authorization', 'Bearer (given in the tunnel)']);
    return this.decideTwin(s, { method: 'POST', url, headers, body, bodyTruncated: false });
  }

  /** Whom the statement acts as: the upgrade's own headers that choose it. */
  private actingHeaders(): Array<[string, string]> {
    const acting: Array<[string, string]> = [];
    const rawHeaders = this.x.head.rawHeaders ?? [];
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) if (actingHeader(rawHeaders[i]!)) acting.push([rawHeaders[i]!.toLowerCase(), rawHeaders[i + 1]!]);
    return acting;
  }

  /**
   * A URL the remote browser is told to load (a CDP navigation): decided as the agent's own GET of
   * it, with no header of the tunnel's (the browser, not the tunnel, goes there), so an allowed
   * host's page, a followed link and another site are what they would be over HTTP, and the page's
   * labels are the session's before the command leaves.
   */
  private decideLoad(s: CarriedStatement, target: string): Promise<Rejection | undefined> {
    // Code that sends a write there (twenty-first pass): a POST whose body the code makes at run
    // time, so not seen (an empty body marked cut short).
    if (s.writes) return this.decideTwin(s, { method: 'POST', url: target, headers: [['host', new URL(target).host]], body: Buffer.alloc(0), bodyTruncated: true });
    return this.decideTwin(s, { method: 'GET', url: target, headers: [['host', new URL(target).host]], body: Buffer.alloc(0), bodyTruncated: false });
  }

  private async decideTwin(s: CarriedStatement, raw: RawRequest): Promise<Rejection | undefined> {
    const { url, body } = raw;
    let decided;
    try {
      // A MongoDB or Redis command's twin is Airlock's writing, not a text a MySQL server runs.
      const dialect = s.protocol === 'postgresql' ? 'postgresql' : s.message === 'mongodb' || s.message === 'redis' ? 'written' : undefined;
      decided = await this.pipeline.decideCarried(this.x, raw, dialect, !s.signIn && (s.protocol === 'json' || s.protocol === 'mssql'));
    } catch (err) {
      decided = refusals.internal(err);
    }
    // A JSON or text message the HTTP rules find no SQL in is the tunnel's ordinary traffic: not a statement.
    if (decided === undefined) return undefined;
    if ('status' in decided) {
      this.pipeline.append(this.record(s, url, decided, undefined, raw.method));
      // A database read is judged for its labels only (withDatabaseRead): it goes on as it did.
      return s.ownRead ? undefined : decided;
    }
    const { described, decision } = decided;
    const ctx: RequestContext = {
      description: described, decision, audit: {}, signal: this.ended, refusalHeaders: {},
      outgoing: { method: raw.method, url: new URL(url), headers: [...raw.headers], bodyTransforms: [] },
      body: { bytes: body, truncated: false },
      ...(s.ownRead ? { carriedRead: true as const } : {}),
    };
    let refusal: Rejection | undefined;
    const encoding = s.protocol === 'postgresql' ? encodingChange(described.sql?.statements) : undefined;
    // A database read is judged for what it brings only (withDatabaseRead): the reads went on before
    // and still do, whatever the policy says of its twin (a policy that allows the socket need not
    // know the twin); its labels are the session's before the message leaves.
    if (s.ownRead) ctx.audit.labels_only = true;
    else if (encoding) refusal = unreadable(encoding);
    else if (decision.action === 'deny') refusal = denial(decision);
    else if (decision.action === 'approve' && s.message === 'B' && this.approvedParse(s, decision)) {
      // The human approved this statement's text when it was parsed, at this risk or higher: its
      // values made it no riskier, so this execution is not asked about twice.
      ctx.audit.approval = 'approved-at-parse';
    } else if (decision.action === 'approve') {
      const holders = this.pipeline.approvalHolders();
      if (!holders.length) refusal = denial(decision);
      for (const h of holders) {
        if (refusal) break;
        try {
          refusal = (await h.beforeForward!(ctx)) ?? undefined;
        } catch (err) {
          refusal = refusals.internal(err);
        }
      }
    } else if (decision.action !== 'allow') refusal = denial(decision);
    if (!refusal && !s.ownRead) refusal = await this.charge(ctx, s);
    if (!refusal && s.message === 'P' && decision.action === 'approve' && ctx.audit.approval === 'approved') this.noteApproved(s, decision);
    // Its answer comes back over the tunnel: what it brings (the rows a SELECT reads: `private`) is
    // the session's before the statement leaves (twelfth pass: only the upgrade's labels counted).
    if (!refusal) {
      try {
        refusal = await this.pipeline.carried(this.x.context, ctx);
      } catch (err) {
        refusal = refusals.internal(err);
      }
    }
    this.pipeline.append(this.record(s, url, refusal, ctx, raw.method));
    return refusal;
  }

  /**
   * The statement pays its twin's request limits, as the twin would (a 429 closes the tunnel): a
   * tunnel carried any number of statements past a limit of 60 writes an hour. Not the byte
   * budgets the upgrade has too: the frames that carry it pay those as they leave.
   */
  private async charge(ctx: RequestContext, s: CarriedStatement): Promise<Rejection | undefined> {
    // A byte budget the upgrade also has is paid by the frames as they leave; one only the twin
    // has (a policy that budgets SQL bytes, not the socket's) is paid here, by what the twin counts.
    // The upgrade's budgets are those the frames are metered with now: a version that went live
    // since the tunnel opened may have moved a budget off the socket (twentieth pass).
    const upgrade = this.x.context;
    const metered = new Set((upgrade?.meteredLimits ?? upgrade?.decision.rate_limits ?? []).filter((l) => l.unit === 'egress_bytes').map((l) => l.key));
    const limits = ctx.decision.rate_limits?.filter((l) => l.unit !== 'egress_bytes' || !metered.has(l.key));
    if (!limits?.length) return undefined;
    // Parse and the Bind after it are one execution (one POST of the twin): the Parse pays, the
    // first Bind of its text does not; every later Bind runs it again and pays.
    const text = digest(String(s.body.query));
    if (s.message === 'B' && (this.parsedUnbound.get(text) ?? 0) > 0) {
      const n = this.parsedUnbound.get(text)! - 1;
      if (n) this.parsedUnbound.set(text, n);
      else this.parsedUnbound.delete(text);
      return undefined;
    }
    const charged: RequestContext = { ...ctx, decision: { ...ctx.decision, rate_limits: limits } };
    for (const e of this.pipeline.rateLimiters()) {
      try {
        const r = await e.beforeForward!(charged);
        if (r) return r;
      } catch (err) {
        return refusals.internal(err);
      }
    }
    if (s.message === 'P' && this.parsedUnbound.size < 1000) this.parsedUnbound.set(text, (this.parsedUnbound.get(text) ?? 0) + 1);
    return undefined;
  }

  /** Texts a Parse paid for whose Bind has not come yet, by digest (how many of each). */
  private readonly parsedUnbound = new Map<string, number>();

  /** Texts a human approved at Parse in this tunnel, with the risk of each approval not yet used by a Bind (bounded: the oldest forgotten). */
  private readonly approvedTexts = new Map<string, number[]>();

  private noteApproved(s: CarriedStatement, d: EngineDecision): void {
    const key = digest(String(s.body.query));
    if (!this.approvedTexts.has(key) && this.approvedTexts.size >= 1000) this.approvedTexts.delete(this.approvedTexts.keys().next().value!);
    const risks = this.approvedTexts.get(key) ?? [];
    if (risks.length < 16) risks.push(riskRank[d.approval?.risk ?? 'medium']!);
    this.approvedTexts.set(key, risks);
  }

  /**
   * Whether the human approved this Bind's text at its Parse: once. The approval is for that
   * execution; another Bind of it (a named statement run again with other values) is asked about
   * again (twenty-second pass: one approval ran any number of writes).
   */
  private approvedParse(s: CarriedStatement, d: EngineDecision): boolean {
    const key = digest(String(s.body.query));
    const risks = this.approvedTexts.get(key);
    if (!risks || d.approval?.step_up === true || d.approval?.because?.length) return false;
    const at = risks.findIndex((approved) => riskRank[d.approval?.risk ?? 'medium']! <= approved);
    if (at < 0) return false;
    risks.splice(at, 1);
    if (!risks.length) this.approvedTexts.delete(key);
    return true;
  }

  /** One statement's record: its twin's description and decision, what became of it, and the tunnel it came through. */
  private record(s: CarriedStatement | undefined, url: string | undefined, refusal: Rejection | undefined, ctx: RequestContext | undefined, method = 'POST'): AuditRecord {
    const x = this.x;
    const d = ctx?.decision;
    const tunnel = { id: x.id, url: x.record.url, protocol: s?.protocol ?? this.reader?.protocol ?? 'unknown', ...(s ? { message: s.message } : {}) };
    return {
      time: new Date().toISOString(), id: crypto.randomUUID(), agent: x.record.agent, method: url ? method : 'GET', url: url ?? x.record.url, host: x.record.host,
      ...(d ? { decision: { action: d.action, reason: d.reason, ...(d.rule ? { rule: d.rule } : {}), ...(d.fail_closed ? { fail_closed: d.fail_closed } : {}) }, policy_version: d.policy_version, decision_us: d.decision_us } : {}),
      outcome: refusal ? refusal.outcome : 'forwarded',
      ...(refusal ? { status: refusal.status, detail: refusal.logDetail ?? refusal.detail } : {}),
      ...(ctx ? { description: ctx.description } : {}),
      extra: { ...(ctx?.audit ?? {}), tunnel },
    };
  }
}
