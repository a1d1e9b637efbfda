// Eighteenth pass: SQL inside tunnels read in the protocol the agent really speaks (issue 15's
// tunnels, issue 23 class 2), in process: each reader (describe/tunnel-sql.ts, tunnel-mysql.ts)
// is given the bytes a real client sends and must find every statement the server would run, or
// refuse what it cannot read; the same reader is what the proxy runs per tunnel (tunnels.test.ts
// drives it live).
import fc from 'fast-check';
import t from 'tap';
import { loadAdapters } from '../../describe/adapters/index.ts';
import { MysqlReader } from '../../describe/tunnel-mysql.ts';

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

/** What a reader refuses, and the statements it found before that. */
function readMysql(msgs: Buffer[]): { refused?: string; sql: string[] } {
  const reader = new MysqlReader();
  const sql: string[] = [];
  for (const m of msgs) {
    const r = reader.read(m);
    sql.push(...r.statements.map((st) => String(st.body.sql)));
    if (r.refused) return { refused: r.refused, sql };
  }
  return { sql };
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
