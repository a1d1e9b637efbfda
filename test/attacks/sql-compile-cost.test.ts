// SQLite compiles each reference to a common table expression as its own copy of the CTE's query,
// and each reference inside that copy again. The SQL of a request of unknown dialect (`{"sql": …}`
// to any host) and Cloudflare D1's is compiled by SQLite on the proxy's event loop: 17 CTEs that
// each name the next twice (a 1 KB body, 131,072 copies) held every agent and the studio for
// seconds (7 s on a loaded box), a chain of 2,000 CTEs (60 KB) for longer (17 s); 8,000 nested
// subqueries overflowed the stack inside SQLite and left it failing every later call, for every
// agent, until a restart. Now the copies a statement makes are counted from its tokens before
// SQLite sees it (`cteExpansion`: past 128, or a per-request sum of squares, unparsed), nesting
// past 256 parentheses is unparsed, and an instance that traps is replaced. An in-process Airlock,
// so the event loop measured is the proxy's; the host is one the policy refuses, so each request
// is answered once it has been described.
import http from 'node:http';
import t from 'tap';
import { loadAdapters } from '../../describe/adapters/index.ts';
import { analyzeSqlIn } from '../../describe/adapters/sql-dialects.ts';
import { cteExpansion, MAX_TOTAL_PROGRESS_CALLS, sampleRunSteps } from '../../describe/adapters/sql-sqlite.ts';
import { describeRequest, type RawRequest } from '../../describe/describe.ts';
import type { RequestDescription } from '../../describe/types.ts';
import { tempDir } from '../temp-dir.ts';
import { underBoundOnRetry } from '../timing.ts';
import { listenWeb, policyCopy, postViaNode, startSessionAirlock, testConfig, viaCurl } from '../sessions/helpers.ts';
import { watchLoopStalls } from '../helpers/loop-stall.ts';

const doubling = (n: number): string => `WITH ${Array.from({ length: n }, (_, i) => `c${i}(x) AS (SELECT x FROM c${i + 1} UNION ALL SELECT x FROM c${i + 1})`).join(', ')}, c${n}(x) AS (VALUES (1)) SELECT * FROM c0`;
const nested = (n: number, pad = ''): string => `SELECT 1${pad}, (SELECT * FROM ${'(SELECT * FROM '.repeat(n)}t${') AS x'.repeat(n)})`;
/** DELETEs whose WHERE runs a recursive CTE: SQLite's sample run of each goes to its own step bound (~20 ms). */
const recursiveDeletes = (n: number, table = 't'): string => `DELETE FROM ${table} WHERE id IN (WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c LIMIT 100000000) SELECT n FROM c);\n`.repeat(n);
/** A JSON-RPC batch of n `execute_sql` calls, each of 8 such DELETEs: each call's SQL is analyzed on its own. */
const toolCalls = (n: number, k: number, light = false): string => JSON.stringify(Array.from({ length: n }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'execute_sql', arguments: { query: light ? `DELETE FROM t${k}_${i} WHERE id IN (SELECT n FROM c WHERE n > 0 LIMIT 100000000);\n`.repeat(8) : recursiveDeletes(8, `t${k}_${i}`) } } })));
const chain = (n: number): string => `WITH ${Array.from({ length: n }, (_, i) => `c${i} AS (SELECT * FROM c${i + 1})`).join(', ')} SELECT * FROM c0`;

t.test('CTEs that expand without bound do not stall the event loop', async (t) => {
  let port = 0;
  const server = http.createServer((req, res) => { req.resume(); req.on('end', () => res.end('ok')); });
  const web = await listenWeb(t, server);
  port = web.port;
  await loadAdapters(); // the engines load when SQL first arrives: not part of what is measured
  const airlock = await startSessionAirlock(t, tempDir(t, 'al-cte-cost-'), policyCopy(t, testConfig), web);
  const hostile = airlock.proxyUrl('bot', (await airlock.agents.add('bot')).token);
  const neighbour = airlock.proxyUrl('other', (await airlock.agents.add('other')).token);

  const cases = [
    ['17 CTEs each naming the next twice', doubling(17)],
    // SQLite recursed per level until the thread's stack overflowed inside it: every later SQL failed.
    // Eighth pass: a name SQLite reserves, which the scratch database refuses to create, was taken
    // for a trap: the engine was dropped, and every agent's next SQL waited for a new one (or was
    // unparsed, held critical, when it came again first).
    ['a table name SQLite reserves (sqlite_stat9)', 'SELECT * FROM sqlite_stat9 WHERE id = 1'],
    ['a DuckDB reader of SQLite files (sqlite_scan)', "SELECT * FROM sqlite_scan('/data/x.db', 'users')"],
    ['8,000 nested subqueries', nested(8000)], ['8,000 nested subqueries after 120,000 tokens', nested(8000, ` IN (${'1,'.repeat(60_000)}1)`)],
  ] as const;
  for (const [name, sql] of cases) {
    const stallMs = await underBoundOnRetry(async () => {
      const stalls = watchLoopStalls();
      const answered = await postViaNode(hostile, `${web.origin('evil.test')}/sql`, JSON.stringify({ sql }));
      const other = await viaCurl(neighbour, 'GET', `${web.origin('news.test')}/`);
      const stall = stalls.stop();
      t.equal(answered.status, 403, `${name}: refused (host not allowed)`);
      t.equal(other.status, 200, `${name}: the neighbour is answered`);
      return stall.cpuMs;
    }, name.includes('nested') ? Infinity : 1000);
    // The nested ones cost well under a second before too: what they broke was the engine.
    if (!name.includes('nested')) t.ok(stallMs < 1000, `${name}: the event loop was held at most ${Math.round(stallMs)} ms of CPU at once (it was seconds)`);
    const after = analyzeSqlIn(['SELECT a FROM t WHERE b = 1'], 'sqlite');
    t.ok(after.info.parsed, `${name}: SQLite still reads the next request's SQL ${after.info.error ?? ''}`);
  }
});

t.test('ordinary CTEs are still read; expanding ones are unparsed', async (t) => {
  await loadAdapters();
  const ordinary = [
    'WITH recent AS (SELECT id FROM orders WHERE day > 1), big AS (SELECT id FROM recent WHERE id > 9) SELECT * FROM recent JOIN big USING (id) JOIN recent AS r2 USING (id)',
    'WITH RECURSIVE n(i) AS (VALUES (1) UNION ALL SELECT i + 1 FROM n WHERE i < 10) SELECT i FROM n',
    chain(40),
  ];
  for (const sql of ordinary) {
    const a = analyzeSqlIn([sql], 'sqlite');
    t.ok(a.info.parsed && a.readOnly, `read: ${sql.slice(0, 60)}`);
  }
  for (const sql of [doubling(8), chain(200)]) {
    const a = analyzeSqlIn([sql], 'sqlite');
    t.notOk(a.info.parsed, `unparsed: ${sql.slice(0, 60)}`);
    t.ok(a.info.destructive, 'and read as the worst');
  }
  // Sample runs share one budget per analysis: past it a costly run is taken to touch every row,
  // and an ordinary DELETE (fewer steps than one progress callback) is still judged by its run.
  const costly = analyzeSqlIn([`${recursiveDeletes(60)}DELETE FROM t WHERE id = 1`], 'sqlite');
  t.ok(costly.info.parsed, 'many costly DELETEs are read');
  t.ok(costly.info.statements.slice(0, 60).every((st) => st.destructive), 'each costly one is read as the worst');
  t.notOk(costly.info.statements[60]!.destructive, 'an ordinary DELETE after the budget is spent is still a narrow write');
  // … and so do all the analyses of one request: each tool call's SQL of a JSON-RPC batch is
  // analyzed on its own (and read two ways), so 32 calls of 8 such DELETEs cost several times the
  // same batch of ordinary DELETEs (8 calls held a loaded box 4 s). Compared in SQLite's own steps
  // (progress callbacks), not in milliseconds a shared box makes noisy: each statement past the
  // budget is cut at its first callback.
  const post = (path: string, body: string): RawRequest => ({ method: 'POST', url: `https://evil.test/${path}`, headers: [['content-type', 'application/json']], body: Buffer.from(body), bodyTruncated: false, time: new Date() });
  const stepped = (request: RawRequest): { steps: number; description: RequestDescription } => {
    const before = sampleRunSteps();
    const description = describeRequest(request, { agent: { id: 'bot', labels: {} } });
    return { steps: sampleRunSteps() - before, description };
  };
  // 500 such DELETEs (61 KB, within every other limit) held the main thread 10 s: each statement's
  // run stopped at its own bound (200 callbacks), nothing bounded them together.
  const costly200 = stepped(post('sql', JSON.stringify({ sql: recursiveDeletes(200, 'r1') })));
  t.ok(costly200.steps <= MAX_TOTAL_PROGRESS_CALLS + 3 * 200, `200 costly DELETEs took ${costly200.steps} steps together (one request's budget is ${MAX_TOTAL_PROGRESS_CALLS}; each alone may take 200)`);
  const heavy = stepped(post('mcp', toolCalls(32, 1, false)));
  t.ok(heavy.steps <= MAX_TOTAL_PROGRESS_CALLS + 3 * 32 * 8 * 2, `32 tool calls of 8 costly DELETEs took ${heavy.steps} steps together`);
  t.ok(heavy.description.mcp?.batch?.every((c) => c.sql?.destructive), 'each call\'s costly SQL is read as the worst');
  // Many statements each under the bound share one budget per request.
  const many = analyzeSqlIn([Array.from({ length: 20 }, () => chain(60)).join(';\n')], 'sqlite');
  t.notOk(many.info.parsed, 'twenty chains of 60 share the request\'s budget');
  t.equal(cteExpansion([]), 0);
});
