// The change feed every replica hears the others through (PostgreSQL LISTEN/NOTIFY): a notice is
// not lost because the database went away the moment after a change committed, and a feed whose
// connection went silent (a NAT or firewall that dropped it: no notice, no error) is noticed and
// replaced, and the stores re-read what they missed. Real PostgreSQL, a TCP relay that can go silent.
import net from 'node:net';
import t from 'tap';
import { PgState } from '../../state/postgres/db.ts';
import { missingPostgres, startPostgres } from '../helpers/pg-redis.ts';
import { until } from '../helpers/until.ts';

const missing = missingPostgres();
if (missing) {
  t.comment(`SKIPPING the change-feed tests: ${missing}`);
  t.pass('skipped: no PostgreSQL binaries');
} else {
  const quiet = { warn: () => undefined };

  t.test('change feed: notices survive a lost connection; a silent feed is replaced', async (t) => {
    const pg = await startPostgres(t);
    const url = await pg.createDatabase('feed');
    // A relay in front of PostgreSQL that can stop passing bytes on the feed's connection while
    // keeping it open, as a middlebox that dropped the flow does.
    const relayed: Array<{ feed: boolean; silent: boolean; sockets: net.Socket[] }> = [];
    const relay = net.createServer((client) => {
      const server = net.connect(pg.port, '127.0.0.1');
      const c = { feed: false, silent: false, sockets: [client, server] };
      relayed.push(c);
      let first = true;
      client.on('data', (d) => {
        if (first) c.feed = d.includes('airlock-listen');
        first = false;
        if (!c.silent) server.write(d);
      });
      server.on('data', (d) => { if (!c.silent) client.write(d); });
      client.on('error', () => server.destroy());
      server.on('error', () => client.destroy());
      client.on('close', () => server.destroy());
      server.on('close', () => client.destroy());
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    t.teardown(() => {
      for (const c of relayed) for (const s of c.sockets) s.destroy();
      relay.close();
    });
    const viaRelay = url.replace(`:${pg.port}/`, `:${(relay.address() as net.AddressInfo).port}/`);

    const a = await PgState.open(url, quiet);
    const b = await PgState.open(viaRelay, { ...quiet, heartbeatMs: 300 });
    t.teardown(async () => { await a.close(); await b.close(); });
    const heard: number[] = [];
    b.listen('airlock_policy', (p) => heard.push(Number(p.n)));
    let resyncs = 0;
    b.onResync(() => { resyncs++; });

    await t.test('a notice the database could not take when the change committed is sent when it can', async (t) => {
      const query = a.pool.query.bind(a.pool);
      let failed = 0;
      a.pool.query = ((text: unknown, params: unknown) => {
        if (failed === 0 && typeof text === 'string' && text.includes('pg_notify')) {
          failed++;
          return Promise.reject(new Error('Connection terminated unexpectedly'));
        }
        return query(text as string, params as unknown[]);
      }) as typeof a.pool.query;
      t.teardown(() => { a.pool.query = query; });
      await t.rejects(a.notify('airlock_policy', { n: 1 }), 'the caller learns the notice did not go');
      await until('the notice sent again', () => heard.includes(1), 10_000);
      t.same(heard, [1], 'the other replica heard it, once');
    });

    await t.test('a feed that went silent is replaced and the stores re-read', async (t) => {
      const feed = relayed.find((c) => c.feed && !c.silent && !c.sockets[0]!.destroyed);
      t.ok(feed, "B's change feed goes through the relay");
      feed!.silent = true;
      await a.notify('airlock_policy', { n: 2 }); // lost: nothing reaches B on that connection
      await until('B to notice its silent feed and re-read', () => resyncs > 0, 15_000);
      await a.notify('airlock_policy', { n: 3 });
      await until('a notice on the new feed', () => heard.includes(3), 10_000);
      t.pass('B hears notices again, after re-reading what it may have missed');
    });
  });
}
