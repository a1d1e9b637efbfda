// The SQL engines (PostgreSQL's parser, SQLite) are WebAssembly loaded when SQL first arrives, not
// at start (tens of MiB most deployments never use). Their absence must never let SQL pass unread:
//   - before any SQL, a synchronous describe reports SQL unparsed (fail closed) and says why;
//   - through a freshly started Airlock, the very first SQL requests (several at once, both
//     dialects, with real clients) are described parsed, exactly as later ones;
//   - a load that fails leaves SQL unparsed with the load's error, and is tried again.
import { execFile } from 'node:child_process';
import t from 'tap';
import { describeRequest } from '../../describe/describe.ts';
import { engineLoader, sqlEngineMisses } from '../../describe/adapters/sql-engines.ts';
import type { AuditRecord } from '../../state/audit-log.ts';
import { startTestAirlock, startUpstream, viaProxy } from '../attacks/helpers.ts';

const agent = { id: 'a', labels: {} };
const sqlRequest = (url: string, body: object) => ({
  method: 'POST', url, headers: [['host', new URL(url).host], ['content-type', 'application/json']] as Array<[string, string]>,
  body: Buffer.from(JSON.stringify(body)), bodyTruncated: false,
});

t.test('before any SQL arrived, the engines are not loaded and SQL is described unparsed (fails closed)', async (t) => {
  const misses = sqlEngineMisses();
  const d = describeRequest(sqlRequest('https://db.example/v1/sql', { sql: 'DROP TABLE users' }), { agent });
  t.equal(d.sql?.parsed, false);
  t.equal(d.sql?.destructive, true, 'unparsed SQL counts as destructive');
  t.match(d.sql?.error ?? '', /not loaded yet/);
  t.ok(sqlEngineMisses() > misses, 'the miss is counted, so the proxy knows to load and describe again');
});

t.test('the first SQL through a fresh Airlock is read by the engines, in both dialects', async (t) => {
  const up = await startUpstream(t);
  const hosts = ['db.test', 'api.cloudflare.com'];
  const a = await startTestAirlock(t, { resolve: hosts.map((h) => `${h}=127.0.0.1`), allowPrivate: [`127.0.0.1:${up.port}`] });
  const generic = `http://db.test:${up.port}/v1/sql`;
  const d1 = `http://api.cloudflare.com:${up.port}/client/v4/accounts/01a7362d577a6c3019a474fd6f485823/d1/database/6f1c0f62/query`;
  // Several at once, before either engine exists: each waits for the load, none is decided unparsed.
  const sent = [
    viaProxy(a.port, generic, { auth: a.auth, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sql: 'DROP TABLE users' }) }),
    viaProxy(a.port, generic, { auth: a.auth, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sql: 'SELECT 1' }) }),
    viaProxy(a.port, d1, { auth: a.auth, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sql: 'DELETE FROM t WHERE 1 = 1' }) }),
    new Promise<string>((resolve) => execFile('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '20', '-x', a.proxyUrl,
      '-H', 'content-type: application/json', '-d', JSON.stringify({ sql: 'UPDATE t SET a = 1' }), generic], (_e, out) => resolve(out))),
  ];
  const replies = await Promise.all(sent);
  t.same(replies.map((r) => (typeof r === 'string' ? r : String(r.status))), ['200', '200', '200', '200'], 'the allow-all policy forwards every one');
  const sqlOf = (r: AuditRecord) => r.description?.sql;
  const described = a.records.filter((r) => sqlOf(r));
  t.equal(described.length, 4, 'each request has its record with its SQL');
  for (const r of described) t.equal(sqlOf(r)?.parsed, true, `${r.description?.request.host}: parsed (${sqlOf(r)?.error ?? 'no error'})`);
  const kinds = described.map((r) => `${sqlOf(r)?.dialect}:${sqlOf(r)?.statements.map((s) => s.kind).join(',')}:${sqlOf(r)?.destructive}`).sort();
  t.same(kinds, ['sqlite:delete:true', 'unknown:drop_table:true', 'unknown:select:false', 'unknown:update:true'].sort());
});

t.test('a load that fails leaves SQL unparsed with the reason, and the next SQL tries again', async (t) => {
  let tries = 0;
  const loader = engineLoader('test engine', async () => {
    tries++;
    if (tries === 1) throw new Error('wasm missing');
    return 'engine';
  });
  t.equal(loader.get(), undefined);
  t.match(loader.missing(), /test engine was not loaded yet/);
  await t.rejects(loader.load(), /wasm missing/);
  t.match(loader.missing(), /test engine could not be loaded: wasm missing/);
  await loader.load();
  t.equal(loader.get(), 'engine');
  t.equal(tries, 2, 'loaded once more after the failure, then kept');
  await loader.load();
  t.equal(tries, 2);
});
