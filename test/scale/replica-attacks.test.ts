// Attacks on the promise that N replicas sharing PostgreSQL and Redis behave as one Airlock. Two
// replicas started in this process exactly as `airlock start --store … --limits …` starts them
// (startReplica), one PostgreSQL and one Redis started here on loopback, an upstream that records
// what reaches it, agent traffic over real sockets.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import t from 'tap';
import { startReplica, type Airlock } from '../../runtime/airlock.ts';
import type { Services } from '../../runtime/services.ts';
import { PgState, jsonb } from '../../state/postgres/db.ts';
import { PgPolicyVersions } from '../../state/postgres/policy-versions.ts';
import type { PgStepUp } from '../../state/postgres/totp.ts';
import { TotpStore } from '../../state/totp.ts';
import { VersionStore } from '../../studio/versions.ts';
import { policyDir, startUpstream } from '../approvals/helpers.ts';
import { policyCopy, startWeb } from '../sessions/helpers.ts';
import { freePort, missingPostgres, missingRedis, startPostgres, startRedis } from '../helpers/pg-redis.ts';
import { tempDir } from '../temp-dir.ts';
import { stateFile } from '../../state/home.ts';
import { until } from '../helpers/until.ts';

const missing = missingPostgres() ?? missingRedis();

interface Answer { status: number; headers: http.IncomingHttpHeaders; body: string }

/** One request through a replica's proxy (absolute-form, as curl and every HTTP client send it). */
function send(r: Airlock<Services>, auth: string, method: string, url: string, opts: { headers?: Record<string, string>; body?: string; timeoutMs?: number } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port: r.proxyAddress.port, method, path: url, agent: false,
      headers: { 'proxy-authorization': `Basic ${Buffer.from(auth).toString('base64')}`, ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(opts.headers ?? {}) },
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.setTimeout(opts.timeoutMs ?? 30_000, () => req.destroy(new Error(`no answer within ${opts.timeoutMs ?? 30_000} ms`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

if (missing) {
  t.comment(`SKIPPING the replica attack tests: ${missing}`);
  t.pass('skipped: no PostgreSQL/Redis binaries');
} else {
  t.test('two replicas, one PostgreSQL, one Redis', async (t) => {
    process.env.AIRLOCK_MASTER_KEY = crypto.randomBytes(32).toString('hex');
    t.teardown(() => { delete process.env.AIRLOCK_MASTER_KEY; });
    const [pg, redis, upstream] = await Promise.all([startPostgres(t), startRedis(t), startUpstream(t)]);
    const database = await pg.createDatabase('attacks');
    const up = `http://127.0.0.1:${upstream.port}`;
    const homes = new Map<Airlock<Services>, string>();
    const replica = async (name: string, store = database): Promise<Airlock<Services>> => {
      const home = tempDir(t, `al-atk-${name}-`);
      const r = await startReplica({
        home, policy: policyDir, proxy: '127.0.0.1:0', studio: '127.0.0.1:0', unixSocket: false,
        allowPrivate: ['127.0.0.1/32'], store, limits: redis.url, threads: 1,
      });
      t.teardown(() => r.close());
      homes.set(r, home);
      return r;
    };
    const [a, b] = await Promise.all([replica('a'), replica('b')]);
    /** The studio REST API of a replica, logged in as a person is (session cookie and CSRF token). */
    const studioOf = async (r: Airlock<Services>) => {
      const base = `http://127.0.0.1:${r.studioAddress!.port}`;
      const token = fs.readFileSync(stateFile(homes.get(r)!, 'studioToken'), 'utf8').trim();
      const login = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
      const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
      const { csrf } = (await login.json()) as { csrf: string };
      return async (method: string, url: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
        const res = await fetch(`${base}${url}`, { method, headers: { cookie, 'x-airlock-csrf': csrf, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };
    };
    // For the slow-database cases: statements bounded at 1 s (5 s by default) so they take seconds,
    // and its own name, so only its server processes are stopped.
    const quick = `${database}?application_name=airlock-q&statement_timeout=1000&query_timeout=2000`;
    let q: Airlock<Services> | undefined;

    await t.test('a token revoked through A is refused by B at its very next request', async (t) => {
      let passed = 0;
      for (let i = 0; i < 5; i++) {
        const issued = await a.agents.add(`rev${i}`);
        const auth = `rev${i}:${issued.token}`;
        t.equal((await send(b, auth, 'GET', `${up}/read`)).status, 200, 'B knows the token');
        await a.agents.revokeToken(`rev${i}`, issued.id);
        const after = await send(b, auth, 'GET', `${up}/read`);
        if (after.status !== 407) passed++;
        t.equal(after.status, 407, `attempt ${i}: ${after.body.slice(0, 200)}`);
      }
      t.equal(passed, 0, 'no request with a revoked token passed on the other replica');
    });

    await t.test("one statement confirms the token and enters its session; a change made behind the replicas' views counts at once", async (t) => {
      const issued = await a.agents.add('folded', { labels: { team: 'red' } });
      const auth = `folded:${issued.token}`;
      t.equal((await send(b, auth, 'GET', `${up}/read`)).status, 200, 'B knows the token');
      const db = (b as Airlock<Services> & { db?: PgState }).db!;
      const statements: string[] = [];
      const query = db.query.bind(db);
      db.query = ((text: string, params?: unknown[]) => (statements.push(text), query(text, params))) as typeof db.query;
      try {
        t.equal((await send(b, auth, 'GET', `${up}/read`)).status, 200);
      } finally {
        db.query = query;
      }
      const tokenReads = statements.filter((s) => s.includes('agent_tokens'));
      t.equal(tokenReads.length, 1, `the token is read once per request (${statements.length} statements)`);
      t.match(tokenReads[0], /UPDATE sessions/, "in the session's entry");
      // Changes no replica announces (no NOTIFY): only the table knows them.
      const direct = await PgState.open(database, { listen: false });
      t.teardown(() => direct.close());
      await direct.query(`UPDATE agents SET labels = $1 WHERE name = 'folded'`, [jsonb({ team: 'blue' })]);
      const seenBy = (): Promise<string | undefined> => new Promise((resolve) => {
        const off = b.audit.onRecord((r) => {
          if (r.agent === 'folded') { off(); resolve(r.description?.agent?.labels?.team); }
        });
      });
      const labelled = seenBy();
      t.equal((await send(b, auth, 'GET', `${up}/read`)).status, 200);
      t.equal(await labelled, 'blue', "the policy saw the agent's labels as the table holds them");
      const counted = async (): Promise<number> => Number((await direct.query(`SELECT requests FROM sessions WHERE agent = 'folded' AND ended IS NULL`)).rows[0]?.requests);
      const before = await counted();
      await direct.query(`DELETE FROM agent_tokens WHERE id = $1`, [issued.id]);
      const after = await send(b, auth, 'GET', `${up}/read`);
      t.equal(after.status, 407, `a token deleted without a notice is refused: ${after.body.slice(0, 200)}`);
      t.equal(await counted(), before, 'and counts nothing in its session');
    });

    await t.test('a grant revoked through A no longer lets a request through B at its very next request', async (t) => {
      const issued = await a.agents.add('granted');
      const auth = `granted:${issued.token}`;
      let passed = 0;
      for (let i = 0; i < 3; i++) {
        const first = await send(a, auth, 'POST', `${up}/send/g${i}`, { body: '{"to":"g"}', headers: { prefer: 'respond-async, wait=0' } });
        const { grant } = await a.approvals.approve(String(first.headers['airlock-approval-id']), { by: 'studio', grantMinutes: 5, grantHigh: true });
        await until('B to know the grant', async () => (await send(b, auth, 'POST', `${up}/send/g${i}`, { body: '{"to":"g"}', headers: { prefer: 'respond-async, wait=0' } })).status === 200 || undefined);
        await a.approvals.revokeGrant(grant!.id);
        const after = await send(b, auth, 'POST', `${up}/send/g${i}`, { body: '{"to":"g"}', headers: { prefer: 'respond-async, wait=0' } });
        t.equal(after.status, 202, `attempt ${i}: held again`);
        if (after.status === 200) passed++;
      }
      t.equal(passed, 0, 'no request passed on a revoked grant');
    });

    await t.test('TOTP enrolled through A: B asks for a code at the very next critical approval', async (t) => {
      const issued = await a.agents.add('critical');
      const auth = `critical:${issued.token}`;
      const held = await send(a, auth, 'DELETE', `${up}/critical`, { headers: { prefer: 'respond-async, wait=0' } });
      const id = String(held.headers['airlock-approval-id']);
      await until('B to list it', () => b.approvals.list({ status: 'pending' }).some((x) => x.id === id) || undefined);
      const totp = a.totp as PgStepUp;
      await totp.enroll({ label: 'attack' });
      t.teardown(() => totp.unenroll());
      await t.rejects(b.approvals.approve(id, { by: 'studio' }), { code: 'step-up-required' }, 'no approval of a critical request without a code');
    });

    await t.test('TOTP guesses spread over both replicas share one throttle', async (t) => {
      const issued = await a.agents.add('guesser');
      const auth = `guesser:${issued.token}`;
      const held = await send(a, auth, 'DELETE', `${up}/critical-guess`, { headers: { prefer: 'respond-async, wait=0' } });
      const id = String(held.headers['airlock-approval-id']);
      await until('B to list it', () => b.approvals.list({ status: 'pending' }).some((x) => x.id === id) || undefined);
      const totp = a.totp as PgStepUp;
      const { secret } = await totp.enroll({ label: 'guess', force: true });
      t.teardown(() => totp.unenroll());
      await b.totp?.refresh?.();
      const right = TotpStore.codeFor(secret);
      const wrongs = ['000000', '111111', '222222', '333333', '444444', '555555'].filter((c) => c !== right).slice(0, 5);
      // Sent to both replicas at once: the count is one.
      const tries = await Promise.allSettled(wrongs.map((w, i) => (i % 2 ? b : a).approvals.approve(id, { by: 'studio', totp: w })));
      t.ok(tries.every((r) => r.status === 'rejected'), 'every wrong code refused');
      await t.rejects(b.approvals.approve(id, { by: 'studio', totp: right }), { code: 'totp-locked' }, 'the right code is not even checked on B');
      await t.rejects(a.approvals.approve(id, { by: 'studio', totp: right }), { code: 'totp-locked' }, 'nor on A');
      t.equal(b.approvals.get(id).status, 'pending');
      await b.approvals.deny(id, { by: 'test' });
    });

    await t.test('a database that does not answer at all (its server processes stopped): 503 once the client gives up', async (t) => {
      q = await replica('q', quick);
      const issued = await a.agents.add('hung');
      const auth = `hung:${issued.token}`;
      t.equal((await send(q, auth, 'GET', `${up}/read/hung`)).status, 200);
      const db = await PgState.open(database, { listen: false });
      const dataDir = (await db.query<{ data_directory: string }>('SHOW data_directory')).rows[0]!.data_directory;
      const postmaster = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      const backends = async (): Promise<number[]> => (await db.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = 'airlock-q'`)).rows.map((r) => r.pid);
      // Signals to the server processes of this test's own cluster, by id (one may have exited meanwhile).
      const pids: number[] = [];
      const signal = (sig: NodeJS.Signals): void => { for (const pid of pids) try { process.kill(pid, sig); } catch { /* gone */ } };
      // The server's own processes for this replica, listed once no new one can start: a connection
      // the pool opened after a first listing would otherwise still answer.
      const before = await backends();
      pids.push(postmaster);
      signal('SIGSTOP');
      pids.push(...before, ...(await backends()).filter((p) => !before.includes(p)));
      await db.close();
      signal('SIGSTOP');
      const res = await send(q, auth, 'GET', `${up}/read/hung`, { timeoutMs: 20_000 }).catch((e: Error) => ({ status: 0, headers: {}, body: e.message }))
        .finally(() => signal('SIGCONT'));
      t.equal(res.status, 503, res.body);
      // A query on a stopped connection runs out of time; a new connection is never accepted.
      t.match(res.body, /PostgreSQL \(state store\).*(no answer in time|timeout exceeded when trying to connect|Connection terminated due to connection timeout)/);
      await until('requests to be decided again', async () => [200, 429].includes((await send(q!, auth, 'GET', `${up}/read/hung`)).status) || undefined);
    });

    await t.test('a slow database (a table locked by someone else): requests are refused with 503, not left hanging', async (t) => {
      const issued = await a.agents.add('slow');
      const auth = `slow:${issued.token}`;
      t.equal((await send(q!, auth, 'GET', `${up}/read`)).status, 200);
      const plain = await PgState.open(database, { listen: false });
      t.equal((await plain.query<{ statement_timeout: string }>('SHOW statement_timeout')).rows[0]?.statement_timeout, '5s', 'statements are bounded by default');
      await plain.close();
      const locker = await PgState.open(database, { listen: false });
      const c = await locker.pool.connect();
      t.teardown(async () => { await c.query('ROLLBACK').catch(() => undefined); c.release(); await locker.close(); });
      await c.query('BEGIN');
      await c.query('SET statement_timeout = 0');
      await c.query('LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE');
      const r = await send(q!, auth, 'GET', `${up}/read`, { timeoutMs: 20_000 }).catch((e: Error) => ({ status: 0, headers: {}, body: e.message }));
      t.equal(r.status, 503, r.body);
      t.match(r.body, /PostgreSQL \(state store\)/);
      await c.query('ROLLBACK');
      await until('requests to pass again', async () => (await send(q!, auth, 'GET', `${up}/read`)).status === 200 || undefined);
    });

    await t.test('a database that refuses writes (read-only after a failover to a standby, a full disk): 503 naming PostgreSQL, and back by itself', async (t) => {
      const issued = await a.agents.add('readonly');
      const auth = `readonly:${issued.token}`;
      t.equal((await send(b, auth, 'GET', `${up}/read`)).status, 200);
      const admin = await PgState.open(database, { listen: false });
      t.teardown(async () => {
        await admin.query('ALTER SYSTEM RESET default_transaction_read_only').catch(() => undefined);
        await admin.query('SELECT pg_reload_conf()').catch(() => undefined);
        await admin.close();
      });
      // Every session's default, existing pooled connections included (a reload applies to them).
      await admin.query('ALTER SYSTEM SET default_transaction_read_only = on');
      await admin.query('SELECT pg_reload_conf()');
      await until('the server to refuse writes', async () => (await admin.query<{ default_transaction_read_only: string }>('SHOW default_transaction_read_only')).rows[0]?.default_transaction_read_only === 'on' || undefined);
      // Each of B's pooled sessions applies the reload when it next goes idle (the admin's SHOW may
      // see it first): ask until B's own session refuses, each time under a path of its own.
      let r = await send(b, auth, 'GET', `${up}/read/ro-0`);
      let tries = 1;
      for (; r.status !== 503 && tries < 50; tries++) {
        await new Promise((done) => setTimeout(done, 100));
        r = await send(b, auth, 'GET', `${up}/read/ro-${tries}`);
      }
      t.equal(r.status, 503, r.body);
      t.equal(r.headers['retry-after'], '1');
      t.match(JSON.parse(r.body), { type: 'store-unavailable', store: 'PostgreSQL (state store)', detail: /PostgreSQL \(state store\) is unreachable: .*read-only/ });
      t.notOk(upstream.received.some((x) => x.url === `/read/ro-${tries - 1}`), 'the refused request was not forwarded');
      await admin.query('ALTER SYSTEM RESET default_transaction_read_only');
      await admin.query('SELECT pg_reload_conf()');
      await until('requests to pass again', async () => (await send(b, auth, 'GET', `${up}/read/ro`)).status === 200 || undefined);
      // The refusal's own record waited in B's spool and reaches the shared table by itself.
      await until('the refusal to reach the audit table', async () => (await admin.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_log WHERE agent = 'readonly' AND outcome = 'store-unavailable'")).rows[0]!.n > 0 || undefined);
    });

    await t.test('two publishes in quick succession (the first compiled from sources, the next with its bundle): every replica ends on the last', async (t) => {
      const draft = (note: string): string => {
        const dir = tempDir(t, 'al-atk-draft-');
        fs.cpSync(policyDir, dir, { recursive: true });
        fs.appendFileSync(path.join(dir, 'airlock.rego'), `\n# ${note}\n`);
        return dir;
      };
      const passing = async () => ({ ok: true, passed: 0, failed: 0, output: '', failures: [] });
      // A publisher that stores no bundle (as `airlock migrate-state` leaves versions): replicas compile its sources.
      const db = await PgState.open(database, { listen: false });
      t.teardown(() => db.close());
      const pubHome = tempDir(t, 'al-atk-pub-');
      const publisher = VersionStore.over(pubHome, await PgPolicyVersions.open(db, pubHome));
      const loaded: string[] = [];
      const load = b.engine.load.bind(b.engine);
      b.engine.load = (compiled) => { loaded.push(compiled.version); return load(compiled); };
      const first = await publisher.publish(draft('first'), async () => undefined, passing, 'first');
      await until('B to hear of the first publish', () => b.policyVersions!.current === first.version || undefined);
      // While B compiles the first, A publishes the next from its studio (bundle stored with it).
      const second = await a.policyVersions!.publish(draft('second'), (c) => a.engine.load(c), passing, 'second');
      await until('B to load the first version', () => loaded.includes(first.version) || undefined, 15_000);
      for (const r of [a, b, q!]) {
        await until(`replica ${r === a ? 'A' : r === b ? 'B' : 'Q'} to run the last publish`, () => (r.engine.version === second.version && r.policyVersions!.current === second.version) || undefined, 30_000)
          .catch((e: Error) => { throw new Error(`${e.message}: running ${r.engine.version}, current ${r.policyVersions!.current}, first ${first.version}, second ${second.version}`); });
      }
      t.pass('both replicas run the last published version');

      // A publish the store refuses (here: the table locked past Q's statement bound) leaves no replica on it.
      const locker = await PgState.open(database, { listen: false });
      const c = await locker.pool.connect();
      t.teardown(async () => { await c.query('ROLLBACK').catch(() => undefined); c.release(); await locker.close(); });
      await c.query('BEGIN');
      await c.query('LOCK TABLE policy_current IN ACCESS EXCLUSIVE MODE');
      await t.rejects(q!.policyVersions!.publish(draft('refused'), (compiled) => q!.engine.load(compiled), passing, 'refused'), 'the publish fails');
      await c.query('ROLLBACK');
      await until('Q to run the live version again', () => (q!.engine.version === second.version && q!.policyVersions!.current === second.version) || undefined, 30_000)
        .catch((e: Error) => { throw new Error(`${e.message}: running ${q!.engine.version}`); });
      t.pass('Q decides with the published version, not the refused one');
    });

    await t.test('a publish heard while B cannot read it (a statement past its bound) or cannot load it (a failure for a moment): B gets there by itself', async (t) => {
      const dir = tempDir(t, 'al-atk-draft-');
      fs.cpSync(policyDir, dir, { recursive: true });
      fs.appendFileSync(path.join(dir, 'airlock.rego'), '\n# read late\n');
      const passing = async () => ({ ok: true, passed: 0, failed: 0, output: '', failures: [] });
      const db = (b as Airlock<Services> & { db?: PgState }).db!;
      const query = db.query.bind(db);
      let refused = 0;
      db.query = ((text: string, params?: unknown[]) => {
        if (refused < 2 && text.includes('FROM policy_history')) {
          refused++;
          return Promise.reject(new Error('canceling statement due to statement timeout'));
        }
        return query(text, params);
      }) as typeof db.query;
      const load = b.engine.load.bind(b.engine);
      let loads = 0;
      b.engine.load = (compiled) => (loads++ === 0 ? Promise.reject(new Error('EIO reading the bundle')) : load(compiled));
      t.teardown(() => { db.query = query; b.engine.load = load; });
      const published = await a.policyVersions!.publish(dir, (c) => a.engine.load(c), passing, 'read late');
      await until('B to run the version it could not read or load at first', () => (b.engine.version === published.version && b.policyVersions!.current === published.version) || undefined, 20_000)
        .catch((e: Error) => { throw new Error(`${e.message}: B runs ${b.engine.version}, knows ${b.policyVersions!.current} as live (reads refused: ${refused}, loads: ${loads})`); });
      t.equal(refused, 2, 'its reads were refused twice');
      t.ok(loads >= 2, 'its first load failed');

      // A rollback whose notice has not reached B yet (or is lost): B's very next request is
      // decided with the live version, not with the replaced one.
      const feed = (db as unknown as { handlers: Map<string, Set<unknown>> }).handlers.get('airlock_policy')!;
      const deafened = [...feed];
      feed.clear();
      t.teardown(() => { for (const h of deafened) feed.add(h); });
      const issued = await a.agents.add('rolled');
      const authB = `rolled:${issued.token}`;
      const before = a.policyVersions!.history.find((h) => h.version !== published.version)!.version;
      await a.policyVersions!.rollback(before, (c) => a.engine.load(c));
      const seen: string[] = [];
      const off = b.audit.onRecord((r) => { if (r.policy_version) seen.push(r.policy_version); });
      t.teardown(off);
      t.equal((await send(b, authB, 'GET', `${up}/read`)).status, 200, 'B decides the request');
      t.same(seen, [before], 'with the version rolled back to, heard of through the request itself');
      for (const h of deafened) feed.add(h);
    });

    await t.test('hostile values: a held request whose body holds a character PostgreSQL\'s jsonb refuses (NUL) is held, shown, approved and released', async (t) => {
      const issued = await a.agents.add('hostile');
      const auth = `hostile:${issued.token}`;
      for (const [i, text] of ['{"to":"a\\u0000b"}', '{"to\\u0000":"y"}'].entries()) {
        const first = await send(a, auth, 'POST', `${up}/send/hostile${i}`, { body: text, headers: { prefer: 'respond-async, wait=0' } });
        t.equal(first.status, 202, `held: ${first.body.slice(0, 300)}`);
        const id = String(first.headers['airlock-approval-id'] ?? '');
        await until('B to list it', () => b.approvals.list({ status: 'pending' }).some((x) => x.id === id) || undefined);
        await b.approvals.approve(id, { by: 'studio' });
        const retry = await send(a, auth, 'POST', `${up}/send/hostile${i}`, { body: text, headers: { 'airlock-approval': id } });
        t.equal(retry.status, 200, 'released with the approval');
        t.equal(upstream.received.filter((x) => x.url === `/send/hostile${i}`).at(-1)?.body.toString(), text, 'the body went as sent');
      }
      // The class: any string, as key or value, is stored; NUL and lone surrogates read back as U+FFFD, the rest exactly.
      const db = await PgState.open(database, { listen: false });
      t.teardown(() => db.close());
      const clean = (x: string): string => x.replace(/\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
      const text = fc.string({ unit: fc.oneof(fc.constantFrom('\0', '\\', 'u', '\ud800', '\udfff', '"', '0'), fc.integer({ min: 0x10000, max: 0x10ffff }).map((n) => String.fromCodePoint(n)), fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n))), maxLength: 12 });
      await fc.assert(fc.asyncProperty(text, text, async (k, v) => {
        const back = (await db.query<{ v: unknown }>('SELECT $1::jsonb AS v', [jsonb({ [k]: v, list: [v] })])).rows[0]!.v;
        assert.deepEqual(back, { [clean(k)]: clean(v), list: [clean(v)] });
      }), { numRuns: 200 });
      t.pass('200 key/value pairs of hostile characters stored as jsonb and read back');
    });

    await t.test('damaged rows in the shared tables: a replica still starts, requests are decided, the rows are never usable', async (t) => {
      const db = await PgState.open(database, { listen: false });
      t.teardown(() => db.close());
      const bad = ['null', '"garbage"', '[1,2]', '{"id":"ap_00000000000000a4","agent":"bot","status":"approved","created":"x","retry_until":"y","request_hash":"z"}', '{"id":"ap_00000000000000a5"}'];
      for (const [i, record] of bad.entries()) {
        await db.query(`INSERT INTO approvals (id, agent, status, created, retry_until, record) VALUES ($1, 'bot', $2, now(), now() + interval '1h', $3)`, [`ap_00000000000000a${i + 1}`, i === 3 ? 'approved' : 'pending', record]);
      }
      await db.query(`INSERT INTO grants (id, expires, record) VALUES ('gr_bad1', now() + interval '1h', 'null'), ('gr_bad2', now() + interval '1h', '{"id":"gr_bad2","expires":"2999-01-01T00:00:00Z"}')`);
      // The running replicas hear of them as of any change.
      for (let i = 1; i <= bad.length; i++) await db.notify('airlock_approvals', { type: 'created', id: `ap_00000000000000a${i}` });
      await db.notify('airlock_approvals', { type: 'grant-created', id: 'gr_bad1' });
      const c = await replica('c');
      const issued = await a.agents.add('damaged');
      const auth = `damaged:${issued.token}`;
      for (const r of [a, b, c]) {
        const held = await send(r, auth, 'POST', `${up}/send/damaged`, { body: '{"to":"d"}', headers: { prefer: 'respond-async, wait=0' } });
        t.equal(held.status, 202, `a request is held as usual (${held.body.slice(0, 120)})`);
        t.same(r.approvals.list().filter((x) => String(x.id).startsWith('ap_00000000000000a')).map((x) => x.id), [], 'no damaged row is listed');
        const claim = await send(r, auth, 'POST', `${up}/send/damaged`, { body: '{"to":"d"}', headers: { 'airlock-approval': 'ap_00000000000000a4' } });
        t.not(claim.status, 200, 'a damaged "approved" row lets nothing through');
      }
      t.equal(upstream.received.filter((x) => x.url === '/send/damaged').length, 0);
      await db.query(`DELETE FROM approvals WHERE id LIKE 'ap_00000000000000a%'`);
      await db.query(`DELETE FROM grants WHERE id LIKE 'gr_bad%'`);
    });

    await t.test('the bound on pending approvals (50 per agent) holds for a burst split over both replicas', async (t) => {
      const issued = await a.agents.add('burst');
      const auth = `burst:${issued.token}`;
      const answers = await Promise.all(Array.from({ length: 80 }, (_, i) => send(i % 2 ? a : b, auth, 'POST', `${up}/send/burst${i}`, { body: '{"to":"b"}', headers: { prefer: 'respond-async, wait=0' } })));
      const held = answers.filter((x) => x.status === 202).length;
      t.equal(held, 50, `50 held, the rest refused (${answers.map((x) => x.status).join(' ')})`);
      t.ok(answers.every((x) => x.status === 202 || x.status === 429), 'the rest refused with 429');
      const db = await PgState.open(database, { listen: false });
      t.teardown(() => db.close());
      t.equal(Number((await db.query(`SELECT count(*) AS n FROM approvals WHERE agent = 'burst' AND status = 'pending'`)).rows[0]!.n), 50);
      await db.query(`UPDATE approvals SET status = 'denied', record = record || '{"status":"denied"}' WHERE agent = 'burst'`);
    });

    await t.test('one approval, retries racing on both replicas: exactly one goes', async (t) => {
      const issued = await a.agents.add('racer');
      const auth = `racer:${issued.token}`;
      for (let round = 0; round < 3; round++) {
        const path = `/send/race${round}`;
        const body = JSON.stringify({ to: `r${round}` });
        const first = await send(a, auth, 'POST', `${up}${path}`, { body, headers: { prefer: 'respond-async, wait=0' } });
        t.equal(first.status, 202);
        const id = String(first.headers['airlock-approval-id'] ?? '');
        await until('B to list it', () => b.approvals.list({ status: 'pending' }).some((x) => x.id === id) || undefined);
        await b.approvals.approve(id, { by: 'studio' });
        const answers = await Promise.all([a, b, a, b, b, a].map((r) => send(r, auth, 'POST', `${up}${path}`, { body, headers: { 'airlock-approval': id } })));
        t.equal(answers.filter((x) => x.status === 200).length, 1, `round ${round}: one retry passed (${answers.map((x) => x.status).join(' ')})`);
        t.equal(upstream.received.filter((x) => x.url === path).length, 1, 'and the upstream got it once');
      }
    });

    // Twenty-ninth pass: the approval names the session (one token's life) its request came from;
    // another token of the same agent (another run), through the other replica, cannot take it.
    await t.test('approved on B for a session of A: another session of the same agent retrying through B is refused, the approved session passes once (twenty-ninth pass)', async (t) => {
      const issued = await a.agents.add('twosessions');
      const auth = `twosessions:${issued.token}`;
      const other = await b.agents.issueToken('twosessions', { ttlMs: 600_000, label: 'another run' });
      const otherAuth = `twosessions:${other.token}`;
      const path = '/send/sessions';
      const body = JSON.stringify({ to: 'alice' });
      const first = await send(a, auth, 'POST', `${up}${path}`, { body, headers: { prefer: 'respond-async, wait=0' } });
      t.equal(first.status, 202);
      const id = String(first.headers['airlock-approval-id'] ?? '');
      await until('B to list it', () => b.approvals.list({ status: 'pending' }).some((x) => x.id === id) || undefined);
      await b.approvals.approve(id, { by: 'studio' });
      const stolen = await send(b, otherAuth, 'POST', `${up}${path}`, { body, headers: { 'airlock-approval': id } });
      t.equal(stolen.status, 403, `another session: refused (${stolen.body.slice(0, 200)})`);
      t.match(stolen.body, /another session/);
      t.equal(upstream.received.filter((x) => x.url === path).length, 0, 'nothing reached the upstream');
      const own = await send(b, auth, 'POST', `${up}${path}`, { body, headers: { 'airlock-approval': id } });
      t.equal(own.status, 200, 'the approved session passes');
      t.equal(upstream.received.filter((x) => x.url === path).length, 1, 'once');
    });

    // Twenty-seventh pass: an approval given while Redis was unreachable was spent on a request that
    // never left (the bucket could not be charged: 503), and its identical retry once Redis was back
    // was "already used": the person's yes lost to a moment's outage.
    await t.test('approved on B while Redis is unreachable: the request held on A is 503, nothing leaves, and its identical retry goes once Redis is back (twenty-seventh pass)', async (t) => {
      const issued = await a.agents.add('redisgone');
      const auth = `redisgone:${issued.token}`;
      const body = '{"to":"team@corp.example"}';
      const held = send(a, auth, 'POST', `${up}/metered/outage`, { body });
      const id = await until('the hold on A', () => a.approvals.list({ status: 'pending', agent: 'redisgone' })[0]?.id);
      await until('A to hold it', () => a.approvals.isHeld(id) || undefined);
      await until('B to see the approval', () => b.approvals.list({ status: 'pending', agent: 'redisgone' })[0]?.id);
      // Kept over the outage (the test's Redis has no persistence): a Redis that lost its buckets
      // counts them as emptied, which is not what is tested here.
      const admin = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
      await admin.connect();
      await admin.save();
      admin.disconnect();
      await redis.stop();
      let back = false;
      t.teardown(async () => { if (!back) await redis.start(); });
      await b.approvals.approve(id, { by: 'studio' });
      const res = await held;
      t.equal(res.status, 503, `refused while Redis is away (${res.body.slice(0, 160)})`);
      t.match(res.body, /Redis/);
      t.equal(res.headers['airlock-approval-id'], id, 'naming the approval');
      const arrived = () => upstream.received.filter((x) => x.url === '/metered/outage').length;
      t.equal(arrived(), 0, 'nothing reached the upstream');
      t.equal(a.approvals.get(id).used_at, undefined, 'the approval is not spent on a request that did not leave (written back before the answer)');
      await redis.start();
      back = true;
      const retry = (r: Airlock<Services>) => send(r, auth, 'POST', `${up}/metered/outage`, { body, headers: { 'airlock-approval': id } });
      const passed = await until('the retry to pass once Redis answers', async () => {
        const x = await retry(b);
        return x.status === 503 ? undefined : x;
      });
      t.equal(passed.status, 200, `the identical retry through B goes (${passed.body.slice(0, 160)})`);
      t.equal(arrived(), 1, 'once');
      const twice = await retry(a);
      t.equal(twice.status, 403, 'and the approval is spent then');
      t.match(twice.body, /already used/);
      t.equal(arrived(), 1);
    });

    // The same class at the last step: an upstream that refuses the connection (restarting) when the
    // approval releases the request. Nothing left (no connection was made); the approval was spent.
    await t.test('an upstream refusing the connection when the approval releases the request: 502, and the identical retry goes once it listens (twenty-seventh pass)', async (t) => {
      const issued = await a.agents.add('upgone');
      const auth = `upgone:${issued.token}`;
      const port = await freePort();
      const target = `http://127.0.0.1:${port}/send/upgone`;
      const body = '{"to":"r"}';
      const first = await send(a, auth, 'POST', target, { body, headers: { prefer: 'respond-async, wait=0' } });
      t.equal(first.status, 202);
      const id = String(first.headers['airlock-approval-id'] ?? '');
      await until('B to list it', () => b.approvals.list({ status: 'pending' }).some((x) => x.id === id) || undefined);
      await b.approvals.approve(id, { by: 'studio' });
      const refused = await send(b, auth, 'POST', target, { body, headers: { 'airlock-approval': id } });
      t.equal(refused.status, 502, `the upstream refuses the connection (${refused.body.slice(0, 160)})`);
      t.equal(b.approvals.get(id).used_at, undefined, 'the approval is not spent on a request that reached nobody');
      let got = 0;
      const server = http.createServer((req, res) => { got++; req.resume(); res.end('{}'); });
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
      const ok = await send(a, auth, 'POST', target, { body, headers: { 'airlock-approval': id } });
      t.equal(ok.status, 200, `the identical retry through A goes once the upstream listens (${ok.body.slice(0, 160)})`);
      const again = await send(b, auth, 'POST', target, { body, headers: { 'airlock-approval': id } });
      t.equal(again.status, 403, 'and the approval is spent then');
      t.equal(got, 1, 'the upstream got it once');
    });

    await t.test('a rate limit charged from both replicas at once is exact', async (t) => {
      const issued = await a.agents.add('counter');
      const auth = `counter:${issued.token}`;
      await a.limiter.reset('egress');
      const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => send(i % 2 ? a : b, auth, 'GET', `${up}/read/count${i}`)));
      t.equal(answers.filter((x) => x.status === 200).length, 3, `3 per hour for the agent, both replicas together (${answers.map((x) => x.status).join(' ')})`);
      t.equal(upstream.received.filter((x) => x.url.startsWith('/read/count')).length, 3);
    });

    await t.test('a session gains labels through B: an upload already streaming on A is cut (default policy, its own database)', async (t) => {
      const web = await startWeb(t);
      const labelsStore = await pg.createDatabase('labels');
      const policy = policyCopy(t);
      const hosts = ['news.test', 'db.test', 'hooks.test'];
      const labelled = async (name: string): Promise<Airlock<Services>> => {
        const r = await startReplica({
          home: tempDir(t, `al-atk-${name}-`), policy, proxy: '127.0.0.1:0', studio: '127.0.0.1:0', unixSocket: false, threads: 1, bodyCap: 1024,
          allowPrivate: [`127.0.0.1:${web.port}`], resolve: hosts.map((h) => `${h}=127.0.0.1`), store: labelsStore, limits: redis.url,
        });
        t.teardown(() => r.close());
        return r;
      };
      const [la, lb] = await Promise.all([labelled('la'), labelled('lb')]);
      const { token } = await la.agents.add('bot');
      const upload = http.request({
        host: '127.0.0.1', port: la.proxyAddress.port, method: 'POST', path: `${web.origin('hooks.test')}/upload`, agent: false,
        headers: { 'proxy-authorization': `Basic ${Buffer.from(`bot:${token}`).toString('base64')}`, 'content-type': 'text/plain', 'content-length': 4096 },
      });
      const answer = new Promise<number>((resolve) => {
        upload.on('response', (res) => { res.resume(); resolve(res.statusCode ?? 0); });
        upload.on('error', () => resolve(-1));
      });
      upload.write('a'.repeat(2048)); // past the 1 KiB capture: decided, and streaming
      await until('the upload to be decided and streaming', () => la.sessions.list().some((x) => x.requests > 0) || undefined);
      t.equal((await send(lb, `bot:${token}`, 'GET', `${web.origin('news.test')}/today`)).status, 200);
      t.equal((await send(lb, `bot:${token}`, 'GET', `${web.origin('db.test')}/customers/1`)).status, 200);
      await until('A to hear of the labels', () => { try { return Object.keys(la.sessions.list()[0]?.labels ?? {}).length === 2 || undefined; } catch { return undefined; } });
      upload.end('b'.repeat(2048));
      t.not(await answer, 200, 'the upload decided before the labels is cut');
      t.notOk(web.hits.some((h) => h.url === '/upload' && h.body.includes('b')), 'its rest never reached the upstream');

      // Again while A cannot re-read the session (its statements past their bound): the notice alone cuts the stream.
      const dbA = (la as Airlock<Services> & { db?: PgState }).db!;
      const query = dbA.query.bind(dbA);
      let refusedReads = 0;
      dbA.query = ((text: string, params?: unknown[]) => {
        if (text.includes('WHERE s.id = $1')) {
          refusedReads++;
          return Promise.reject(new Error('canceling statement due to statement timeout'));
        }
        return query(text, params);
      }) as typeof dbA.query;
      t.teardown(() => { dbA.query = query; });
      const again = await la.agents.add('bot2');
      const upload2 = http.request({
        host: '127.0.0.1', port: la.proxyAddress.port, method: 'POST', path: `${web.origin('hooks.test')}/upload`, agent: false,
        headers: { 'proxy-authorization': `Basic ${Buffer.from(`bot2:${again.token}`).toString('base64')}`, 'content-type': 'text/plain', 'content-length': 4096 },
      });
      const answer2 = new Promise<number>((resolve) => {
        upload2.on('response', (res) => { res.resume(); resolve(res.statusCode ?? 0); });
        upload2.on('error', () => resolve(-1));
      });
      upload2.write('c'.repeat(2048));
      await until('the second upload to be decided and streaming', () => la.sessions.list().some((x) => x.agent === 'bot2' && x.requests > 0) || undefined);
      t.equal((await send(lb, `bot2:${again.token}`, 'GET', `${web.origin('news.test')}/today`)).status, 200);
      t.equal((await send(lb, `bot2:${again.token}`, 'GET', `${web.origin('db.test')}/customers/1`)).status, 200);
      await until('A to hear of the labels and fail to re-read the session', () => refusedReads >= 2 || undefined);
      upload2.end('d'.repeat(2048));
      t.not(await answer2, 200, 'the upload decided before the labels is cut though A could not re-read its session');
      t.notOk(web.hits.some((h) => h.url === '/upload' && h.body.includes('d')), 'its rest never reached the upstream');
      dbA.query = query;
    });

    await t.test("held on A, read on B's studio: a text whose preview was cut is not \"shown whole\" however its decoded length reads (fourteenth pass)", async (t) => {
      const issued = await a.agents.add('preview');
      const auth = `preview:${issued.token}`;
      const api = await studioOf(b);
      // 4,096 windows-1252 `é` (the description's preview: 8,192 bytes once in UTF-8) then 4,096
      // bytes no preview holds: the body is 8,192 bytes, as long as the preview reads in UTF-8.
      const hidden = '\nand then: DROP TABLE users; send everything to drop@attacker.example\n';
      const body = Buffer.concat([Buffer.alloc(4096, 0xe9), Buffer.from(hidden.padStart(4096, ' '))]);
      const held = new Promise<Answer>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: a.proxyAddress.port, method: 'POST', path: `${up}/send/preview`, agent: false,
          headers: { 'proxy-authorization': `Basic ${Buffer.from(auth).toString('base64')}`, 'content-type': 'text/plain; charset=windows-1252' } }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' }));
        });
        req.on('error', reject);
        req.end(body);
      });
      const id = await until('B to list the request held on A', () => b.approvals.list({ status: 'pending', agent: 'preview' })[0]?.id);
      const shown = await api('GET', `/api/approvals/${id}`);
      const view = (shown.body.approval as { body_view: { visibility: string; available: boolean } }).body_view;
      t.equal(view.available, false, "B has no bytes of a request held on A: its card shows the record's copy");
      t.not(view.visibility, 'whole', 'a cut preview is not called whole');
      const approved = await api('POST', `/api/approvals/${id}/approve`, {});
      t.equal(approved.status, 403, 'not approved at a click');
      t.equal(approved.body.code, 'body-not-shown');
      t.equal(b.approvals.get(id).status, 'pending');
      await api('POST', `/api/approvals/${id}/deny`, { message: 'unseen' });
      t.equal((await held).status, 403);
      t.equal(upstream.received.filter((x) => x.url === '/send/preview').length, 0, 'nothing reached the upstream');
    });

    await t.test('a token revoked through B while its request is held on A: approved on B, the request does not go', async (t) => {
      const issued = await a.agents.add('heldrev');
      const held = send(a, `heldrev:${issued.token}`, 'POST', `${up}/send/heldrev`, { body: '{"to":"r"}' });
      const id = await until('the hold on A', () => a.approvals.list({ status: 'pending', agent: 'heldrev' })[0]?.id);
      await until('A to hold it', () => a.approvals.isHeld(id) || undefined);
      await b.agents.revokeToken('heldrev', issued.id);
      await until('B to see the approval', () => b.approvals.list({ status: 'pending', agent: 'heldrev' })[0]?.id);
      await b.approvals.approve(id, { by: 'studio' });
      const res = await held;
      t.not(res.status, 200, `refused (${res.status} ${res.body.slice(0, 160)})`);
      t.equal(upstream.received.filter((x) => x.url === '/send/heldrev').length, 0, 'nothing reached the upstream');
    });

    await t.test('a version published through B a moment before the click on B, not yet heard of on A: the request A holds is decided by it (fifteenth pass)', async (t) => {
      const issued = await a.agents.add('raced');
      const held = send(a, `raced:${issued.token}`, 'POST', `${up}/send/raced`, { body: '{"to":"r"}' });
      const id = await until('the hold on A', () => a.approvals.list({ status: 'pending', agent: 'raced' })[0]?.id);
      await until('A to hold it', () => a.approvals.isHeld(id) || undefined);
      await until('B to see the approval', () => b.approvals.list({ status: 'pending', agent: 'raced' })[0]?.id);
      // A's notice of the publish is still on its way (here: never comes), as for the milliseconds a
      // publish through B precedes a person's click on B.
      const feed = ((a as Airlock<Services> & { db?: PgState }).db as unknown as { handlers: Map<string, Set<unknown>> }).handlers.get('airlock_policy')!;
      const deafened = [...feed];
      feed.clear();
      t.teardown(() => { for (const h of deafened) feed.add(h); });
      const dir = tempDir(t, 'al-atk-draft-');
      fs.cpSync(policyDir, dir, { recursive: true });
      const rego = path.join(dir, 'airlock.rego');
      const text = fs.readFileSync(rego, 'utf8');
      assert(text.includes('\tcount(input.grants) == 0\n'));
      fs.writeFileSync(rego, text.replace('\tcount(input.grants) == 0\n', '\tcount(input.grants) == 0\n\tnot startswith(input.request.path, "/send/raced")\n'));
      const passing = async () => ({ ok: true, passed: 0, failed: 0, output: '', failures: [] });
      const before = a.engine.version;
      const published = await b.policyVersions!.publish(dir, (c) => b.engine.load(c), passing, 'deny /send/raced');
      await b.approvals.approve(id, { by: 'studio' });
      const res = await held;
      t.equal(res.status, 403, `refused: the live version denies it (${res.body.slice(0, 200)})`);
      t.match(res.body, /now denies this request/);
      t.equal(upstream.received.filter((x) => x.url === '/send/raced').length, 0, 'nothing reached the upstream');
      t.not(before, published.version);
      for (const h of deafened) feed.add(h);
    });

    await t.test('PostgreSQL restarts while A holds a request: approved on B once it is back, released on A', async (t) => {
      const issued = await a.agents.add('outage');
      const auth = `outage:${issued.token}`;
      const events: string[] = [];
      const off = a.approvals.onChange((e) => { if ('approval' in e && e.approval.agent === 'outage') events.push(e.type); });
      t.teardown(off);
      const held = send(a, auth, 'POST', `${up}/send/outage`, { body: '{"to":"z"}' });
      const id = await until('the hold on A', () => a.approvals.list({ status: 'pending', agent: 'outage' })[0]?.id);
      await until('A to hold it', () => a.approvals.isHeld(id) || undefined);
      // This test's server acknowledges commits before writing them (synchronous_commit=off): write them first.
      const db = await PgState.open(database, { listen: false });
      await db.query('CHECKPOINT');
      await db.close();
      await pg.stop();
      await pg.start();
      let last = '';
      await until('B to approve it once the database is back', async () => (await b.approvals.approve(id, { by: 'studio' }).then(() => true, (e: Error) => { last = e.message; return undefined; })), 30_000)
        .catch((e: Error) => { throw new Error(`${e.message}: ${last}`); });
      const res = await held;
      t.equal(res.status, 200, `the request held on A through the outage went (${res.body.slice(0, 200)})`);
      t.equal(upstream.received.filter((x) => x.url === '/send/outage').length, 1);
    });
  });
}
