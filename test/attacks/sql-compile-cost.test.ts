// SQLite compiles each reference to a common table expression as its own copy of the CTE's query,
// and each reference inside that copy again. The SQL of a request of unknown dialect (`{"sql": …}`
// to any host) and Cloudflare D1's is compiled by SQLite on the proxy's event loop: 17 CTEs that
// each name the next twice (a 1 KB body, 131,072 copies) held every agent and the studio for tens
// of seconds, and a chain of 2,000 CTEs (60 KB) for over a minute. Now the copies a statement
// makes are counted from its tokens before SQLite sees it (`cteExpansion`): past 128, or past a
// per-request sum of squares, the SQL is unparsed (held at the highest risk). An in-process Airlock,
// so the event loop measured is the proxy's; the host is one the policy refuses, so each request
// is answered once it has been described.
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import t from 'tap';
import { loadAdapters } from '../../describe/adapters/index.ts';
import { analyzeSqlIn } from '../../describe/adapters/sql-dialects.ts';
import { cteExpansion } from '../../describe/adapters/sql-sqlite.ts';
import { tempDir } from '../temp-dir.ts';
import { policyCopy, startSessionAirlock, testConfig, viaCurl } from '../sessions/helpers.ts';

const doubling = (n: number): string => `WITH ${Array.from({ length: n }, (_, i) => `c${i}(x) AS (SELECT x FROM c${i + 1} UNION ALL SELECT x FROM c${i + 1})`).join(', ')}, c${n}(x) AS (VALUES (1)) SELECT * FROM c0`;
const chain = (n: number): string => `WITH ${Array.from({ length: n }, (_, i) => `c${i} AS (SELECT * FROM c${i + 1})`).join(', ')} SELECT * FROM c0`;

t.test('CTEs that expand without bound do not stall the event loop', async (t) => {
  let port = 0;
  const server = http.createServer((req, res) => { req.resume(); req.on('end', () => res.end('ok')); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
  t.teardown(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  const web = { port, hits: [], origin: (h: string) => `http://${h}:${port}` };
  const airlock = await startSessionAirlock(t, tempDir(t, 'al-cte-cost-'), policyCopy(t, testConfig), web);
  const hostile = airlock.proxyUrl('bot', (await airlock.agents.add('bot')).token);
  const neighbour = airlock.proxyUrl('other', (await airlock.agents.add('other')).token);

  for (const [name, sql] of [['17 CTEs each naming the next twice', doubling(17)], ['a chain of 2,000 CTEs', chain(2000)]] as const) {
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const answered = await viaCurl(hostile, 'POST', `${web.origin('evil.test')}/sql`, JSON.stringify({ sql }), { 'content-type': 'application/json' });
    const other = await viaCurl(neighbour, 'GET', `${web.origin('news.test')}/`);
    delay.disable();
    t.equal(answered.status, 403, `${name}: refused (host not allowed)`);
    t.equal(other.status, 200, `${name}: the neighbour is answered`);
    const stallMs = delay.max / 1e6;
    t.ok(stallMs < 1000, `${name}: the longest stall of the event loop was ${Math.round(stallMs)} ms (it was tens of seconds)`);
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
  // Many statements each under the bound share one budget per request.
  const many = analyzeSqlIn([Array.from({ length: 20 }, () => chain(60)).join(';\n')], 'sqlite');
  t.notOk(many.info.parsed, 'twenty chains of 60 share the request\'s budget');
  t.equal(cteExpansion([]), 0);
});
