// The PostgreSQL and Redis stores behind the ports, two "replicas" (two connections each with its
// own change feed) in one process: what one changes the other sees, what must happen once happens
// once, and a dump of the database holds no secret. Real PostgreSQL and Redis, started here.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import t from 'tap';
import { TotpStore } from '../../state/totp.ts';
import { mintToken } from '../../state/agents.ts';
import { PgAgents } from '../../state/postgres/agents.ts';
import { PgApprovals } from '../../state/postgres/approvals.ts';
import { PgAuditTrail } from '../../state/postgres/audit.ts';
import { PgState, migrate, migrationFiles } from '../../state/postgres/db.ts';
import { PgSecretVault } from '../../state/postgres/secrets.ts';
import { PgSessions } from '../../state/postgres/sessions.ts';
import { AUDIT_UNAVAILABLE, type AuditRecord } from '../../state/audit-log.ts';
import { clearLabelAudited, resetAudited, type SessionChange } from '../../state/sessions.ts';
import { PgStepUp } from '../../state/postgres/totp.ts';
import { Redis } from 'ioredis';
import { RedisRateLimits } from '../../state/redis/limits.ts';
import type { RequestDescription } from '../../describe/types.ts';
import type { EngineDecision } from '../../engine/decision.ts';
import { missingPostgres, missingRedis, startPostgres, startRedis } from '../helpers/pg-redis.ts';
import { tempDir } from '../temp-dir.ts';
import { until } from '../helpers/until.ts';
import { StoreUnavailableError } from '../../state/unavailable.ts';
import { watchLoopTurns } from '../helpers/loop-turns.ts';

const missing = missingPostgres() ?? missingRedis();
if (missing) {
  t.comment(`SKIPPING the PostgreSQL/Redis store tests: ${missing}`);
  t.pass('skipped: no PostgreSQL/Redis binaries');
} else {
  const quiet = { warn: () => undefined };

  function description(agent = 'bot', path = '/x'): RequestDescription {
    return {
      agent: { id: agent, labels: {} },
      request: { method: 'POST', url: `https://api.example${path}`, scheme: 'https', host: 'api.example', port: 443, path, query: {}, headers: {}, time: new Date().toISOString(), body: { size: 0, sha256: 'e3b0', truncated: false }, egress_bytes: 10 },
    } as unknown as RequestDescription;
  }
  /** A promise, or a failure after 20 s (a missed notification must fail the test, not hang it). */
  const within = <T>(p: Promise<T>, what: string): Promise<T> => Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), 20_000).unref())]);
  const decision = { action: 'approve', reason: 'needs a human', approval: { risk: 'medium', timeout: '30s' } } as unknown as EngineDecision;

  t.test('two replicas on one PostgreSQL', async (t) => {
    const pg = await startPostgres(t);
    const url = await pg.createDatabase('stores');
    const home = tempDir(t);
    const a = await PgState.open(url, quiet);
    const b = await PgState.open(url, quiet);
    t.teardown(async () => { await a.close(); await b.close(); });
    t.same(await migrate(a), migrationFiles().map((f) => f.name), 'migrations applied once');
    t.same(await migrate(b), [], 'and not again');

    await t.test('agents: a token minted on A authenticates on B; revoked on A, refused on B', async (t) => {
      const agentsA = await PgAgents.open(a);
      const agentsB = await PgAgents.open(b);
      const issued = await agentsA.add('bot', { labels: { team: 'x' } });
      t.same((await agentsB.authenticate('bot', issued.token))?.labels, { team: 'x' });
      t.equal(await agentsB.authenticate('bot', 'wrong'), undefined);
      await agentsA.revokeToken('bot', issued.id);
      // The notice is asynchronous; authenticate re-reads on a miss, so a revoked token never passes.
      for (let i = 0; i < 50 && agentsB.list()[0]?.tokens.length; i++) await new Promise((r) => setTimeout(r, 20));
      t.equal(await agentsB.authenticate('bot', issued.token), undefined);
    });

    await t.test('a flood of wrong tokens takes at most two connections of the pool; a token minted on the other replica still passes', async (t) => {
      // Anyone who can reach the proxy chooses the name and token of a miss, and each miss re-read
      // its name: a statement each, queued in the pool ahead of every agent's own.
      const agentsA = await PgAgents.open(a);
      const agentsB = await PgAgents.open(b);
      const victim = await agentsA.add('pool-victim');
      let running = 0;
      let most = 0;
      let victimRereads = 0;
      const query = a.query.bind(a);
      a.query = (async (text: string, params?: unknown[]) => {
        const name = String(params?.[0]);
        const miss = /LEFT JOIN agent_tokens/.test(text) && (name === 'pool-victim' || name.startsWith('nobody-'));
        if (!miss) return query(text, params);
        if (name === 'pool-victim') victimRereads++;
        most = Math.max(most, ++running);
        try { return await query(text, params); } finally { running--; }
      }) as typeof a.query;
      t.teardown(() => { a.query = query; });
      const flood = Promise.all(Array.from({ length: 300 }, (_, i) => agentsA.identify(i % 2 ? 'pool-victim' : `nobody-${i}`, `wrong-${i}`)));
      const late = await agentsB.add('pool-late');
      t.ok(await agentsA.identify('pool-victim', victim.token), "the victim's token passes during the flood");
      t.ok(await agentsA.identify('pool-late', late.token), 'a token minted on B a moment ago passes on A (its miss re-read the name)');
      t.same((await flood).filter(Boolean), [], 'every wrong token refused');
      t.ok(most <= 2, `at most two re-reads for misses at once (${most})`);
      t.ok(victimRereads <= 10, `misses of one name share their re-read (${victimRereads} for 150)`);
    });

    await t.test('a pool whose connections are all busy refuses the request waiting for one, not every agent: the database is not marked down', async (t) => {
      const small = await PgState.open(url, { ...quiet, max: 2, acquireMs: 100 });
      t.teardown(() => small.close());
      const sleeping = [small.query('SELECT pg_sleep(0.3)'), small.query('SELECT pg_sleep(0.3)')];
      await t.rejects(small.query('SELECT 1'), { message: /every connection of the pool is busy/ }, '503 for the statement that waited');
      t.ok(small.available, 'the database is still available: other requests are not refused at once');
      t.doesNotThrow(() => small.ensureAvailable());
      await Promise.all(sleeping);
      t.equal((await small.query('SELECT 1 AS one')).rows[0]?.one, 1);
    });

    await t.test('agents moved by migrate-state: a token PostgreSQL refuses leaves nothing half moved; the next run moves the agent whole', async (t) => {
      const agents = await PgAgents.open(a);
      const good = mintToken({});
      const agent = { name: 'moved', labels: { team: 'm' }, created: new Date().toISOString(), tokens: [good.stored, { ...mintToken({}).stored, expires: '-271821-04-20T00:00:00.000Z' }] };
      await t.rejects(agents.importAgent(agent), { message: /agent moved, token/ }, 'the damaged token is named');
      t.ok(await agents.importAgent({ ...agent, tokens: [good.stored] }), 'the run after the file is mended moves the agent');
      t.same((await agents.authenticate('moved', good.public.token))?.labels, { team: 'm' }, 'with its token');
    });

    await t.test("clock skew: token and grant expiry are judged by the database's clock, not a replica's", async (t) => {
      const realNow = Date.now;
      t.teardown(() => { Date.now = realNow; });
      const agentsA = await PgAgents.open(a);
      const agentsB = await PgAgents.open(b);
      // Minted on a replica whose clock runs an hour ahead: the TTL still counts from the database's now.
      Date.now = () => realNow() + 3_600_000;
      const issued = await agentsA.add('skewed', { ttlMs: 60_000 });
      Date.now = realNow;
      t.ok(Date.parse(issued.expires!) < realNow() + 120_000, `a 60 s token expires within minutes, not an hour late (${issued.expires})`);
      t.ok(await agentsB.authenticate('skewed', issued.token), 'B takes it while it lives');
      // It expires (the database's clock says so); B's clock lags five minutes behind.
      await a.query(`UPDATE agent_tokens SET expires = now() - interval '1 second' WHERE id = $1`, [issued.id]);
      Date.now = () => realNow() - 300_000;
      t.equal(await agentsB.authenticate('skewed', issued.token), undefined, 'an expired token is refused by a replica whose clock lags');
      Date.now = realNow;

      const qa = await PgApprovals.open(a, { sweepMs: 0, now: () => Date.now() + 3_600_000 });
      const qb = await PgApprovals.open(b, { sweepMs: 0, now: () => Date.now() - 300_000 });
      t.teardown(async () => { await qa.close(); await qb.close(); });
      const rec = await qa.create(description('skewed', '/grant'), decision, 'hs');
      const { grant } = await qa.approve(rec.id, { by: 'studio', grantMinutes: 1 });
      t.ok(grant && Date.parse(grant.expires) < realNow() + 120_000, `a one-minute grant given on a replica an hour ahead lasts a minute (${grant?.expires})`);
      await until('B hears of the grant', () => qb.grants(true).some((g) => g.id === grant!.id), 10_000);
      t.equal((await qb.matchingGrants(description('skewed', '/grant'))).length, 1, 'B applies it while it lives');
      await a.query(`UPDATE grants SET expires = now() - interval '1 second' WHERE id = $1`, [grant!.id]);
      t.same(await qb.matchingGrants(description('skewed', '/grant')), [], 'an expired grant is not applied by a replica whose clock lags');

      // Fifteenth pass: the window also starts by the database's clock: created on A (an hour ahead),
      // a 24 h window is not 25 h, in the record and in the table alike.
      const made = await qa.create(description('skewed', '/window'), decision, 'hw');
      t.ok(Date.parse(made.retry_until) < realNow() + 24 * 3_600_000 + 120_000, `the retry window is 24 h from the database's now, not from A's (${made.retry_until})`);
      const stored = (await a.query<{ until: Date; rec: string }>(`SELECT retry_until AS until, record->>'retry_until' AS rec FROM approvals WHERE id = $1`, [made.id])).rows[0]!;
      t.equal(stored.until.getTime(), Date.parse(made.retry_until), 'the table holds the same window');
      t.equal(stored.rec, made.retry_until, 'and so does the record');
      // Fourteenth pass: an approval's retry window by the database's clock too. Past it (B lags):
      // B neither approves it nor lets an approved, unused one be used by the agent's retry.
      const open = await qa.create(description('skewed', '/late'), decision, 'hl');
      const done = await qa.create(description('skewed', '/late'), decision, 'hl');
      await qa.approve(done.id, { by: 'studio' });
      await a.query(`UPDATE approvals SET retry_until = now() - interval '1 second' WHERE id = ANY($1::text[])`, [[open.id, done.id]]);
      await until('B to know both', () => (qb.list().filter((x) => x.id === open.id || x.id === done.id).length === 2 && qb.get(done.id).status === 'approved') || undefined, 10_000);
      await t.rejects(qb.approve(open.id, { by: 'studio' }), { code: 'not-pending' }, 'not approved past its window by a replica whose clock lags');
      t.equal(qb.get(open.id).status, 'expired', 'it expires there and then');
      t.match(await qb.claimRetry(done.id, description('skewed', '/late'), 'hl'), { kind: 'refused', reason: /approved but not used by .* it expired/ }, 'an approved one is not used past its window');
      t.equal((await a.query(`SELECT used_at FROM approvals WHERE id = $1`, [done.id])).rows[0]?.used_at, null, 'nor spent');
    });

    await t.test("approvals: one agent's burst of held requests waits for its turn on the replica, not in the pool: a neighbour's statements still pass", async (t) => {
      // Each create held a connection while it waited for the lock every replica takes; 500 at
      // once (an agent may keep 512 requests open) filled the pool, and a neighbour's token check
      // waited behind the whole burst: past the pool's wait (2 s), a 503.
      const own = await PgState.open(url, { ...quiet, max: 3 });
      t.teardown(async () => { await own.query(`DELETE FROM approvals WHERE agent = 'burst'`); await own.close(); });
      const agents = await PgAgents.open(own);
      const neighbour = await agents.add('burst-neighbour');
      const q = await PgApprovals.open(own, { sweepMs: 0, maxPendingPerAgent: 20 });
      t.teardown(() => q.close());
      let running = 0;
      let most = 0;
      const transaction = own.transaction.bind(own);
      own.transaction = (async (fn) => {
        most = Math.max(most, ++running);
        try { return await transaction(fn); } finally { running--; }
      }) as typeof own.transaction;
      const burst = Promise.allSettled(Array.from({ length: 100 }, (_, i) => q.create(description('burst', `/b${i}`), decision, `b${i}`)));
      const checks: string[] = [];
      for (let i = 0; i < 5; i++) {
        checks.push(await agents.identify('burst-neighbour', neighbour.token).then((who) => (who ? 'ok' : 'refused'), (err: Error) => err.message));
        await new Promise((r) => setImmediate(r));
      }
      const outcomes = (await burst).map((r) => (r.status === 'fulfilled' ? 'created' : (r.reason as Error).message));
      t.same(checks, ['ok', 'ok', 'ok', 'ok', 'ok'], "the neighbour's token checks pass during the burst");
      t.equal(outcomes.filter((o) => o === 'created').length, 20, 'the agent gets its 20 pending approvals');
      t.same([...new Set(outcomes.filter((o) => o !== 'created'))], ['too many pending approvals for agent burst; resolve some first'], 'the rest are refused by the bound, none for a busy database');
      t.equal(most, 1, 'one creation at a time holds a connection (the burst waits on the replica, not in the pool)');
    });

    await t.test('approvals: a creation refused past its bound while its insert runs leaves no pending approval nobody waits on', async (t) => {
      // Sixteenth pass (left open by the fifteenth): the request got its 503 after 10 s, while the
      // insert, waiting for the lock another replica held, went on and committed: a pending card
      // the person could approve for nothing, counted against the agent's bound.
      const within = PgApprovals.CREATE_WITHIN_MS;
      PgApprovals.CREATE_WITHIN_MS = 150;
      t.teardown(() => { PgApprovals.CREATE_WITHIN_MS = within; });
      const q = await PgApprovals.open(a, { sweepMs: 0 });
      t.teardown(() => q.close());
      const other = await PgState.open(url, { ...quiet, max: 1 });
      t.teardown(() => other.close());
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      let locked!: () => void;
      const isLocked = new Promise<void>((r) => (locked = r));
      // Another replica creating an approval holds the lock every creation takes, past the bound.
      const holder = other.transaction(async (c) => {
        await c.query('SELECT pg_advisory_xact_lock(8675309002)');
        locked();
        await released;
      });
      await isLocked;
      const create = q.create(description('late', '/late'), decision, 'late-1');
      await t.rejects(create, { message: /took too long/ }, 'the request waiting for the lock is refused at the bound');
      release();
      await holder;
      // The insert had its lock once the holder committed: wait for it to have run.
      for (let i = 0; i < 200 && (q as unknown as { creating: { running: number } }).creating.running > 0; i++) await new Promise((r) => setTimeout(r, 10));
      const rows = Number((await a.query(`SELECT count(*) AS n FROM approvals WHERE agent = 'late'`)).rows[0]?.n);
      t.equal(rows, 0, 'no approval of the refused request is left in the table');
      t.equal(q.list({ status: 'pending' }).filter((x) => x.agent === 'late').length, 0, 'nor in the replica\'s view');
      PgApprovals.CREATE_WITHIN_MS = within;
      const ok = await q.create(description('late', '/late'), decision, 'late-2');
      t.equal(ok.status, 'pending', 'the next creation of the agent works');
      await a.query(`DELETE FROM approvals WHERE agent = 'late'`);
    });

    await t.test('approvals: held on A, approved on B, released on A; used once', async (t) => {
      const qa = await PgApprovals.open(a, { sweepMs: 0 });
      const qb = await PgApprovals.open(b, { sweepMs: 0 });
      t.teardown(async () => { await qa.close(); await qb.close(); });
      const seen = new Promise<string>((resolve) => qb.onChange((e) => { if (e.type === 'created' && 'approval' in e) resolve(e.approval.id); }));
      const rec = await qa.create(description(), decision, 'h1');
      t.equal(await within(seen, 'the created notice'), rec.id, 'B hears of the new approval');
      const waiting = qa.wait(rec.id, { timeoutMs: 10_000 });
      for (let i = 0; i < 50 && !qb.isHeld(rec.id); i++) await new Promise((r) => setTimeout(r, 20));
      t.ok(qb.isHeld(rec.id), 'B sees it is held elsewhere');
      await qb.approve(rec.id, { by: 'studio' });
      t.equal(await within(waiting, 'the release on A'), 'approved', 'the request held on A goes');
      t.equal(rec.resolution?.by, 'studio', 'A reads who approved');
      const retry = await qb.claimRetry(rec.id, description(), 'h1');
      t.equal(retry.kind, 'refused', 'a retry cannot use it again');
      await t.rejects(qa.approve(rec.id, { by: 'cli' }), { code: 'not-pending' });

      // Approved on B while A cannot read the approval at the moment its notice arrives (a
      // statement past its bound): A reads it again and releases its request.
      const seen2 = new Promise<string>((resolve) => qb.onChange((e) => { if (e.type === 'created' && 'approval' in e && e.approval.id !== rec.id) resolve(e.approval.id); }));
      const rec2 = await qa.create(description('bot', '/y'), decision, 'h2');
      await within(seen2, 'the second created notice');
      const waiting2 = qa.wait(rec2.id, { timeoutMs: 15_000 });
      const query = a.query.bind(a);
      // Every read of it refused for a moment (each replica's view of approvals reads it on the notice).
      let refused = 0;
      let refusing = true;
      a.query = ((text: string, params?: unknown[]) => {
        if (refusing && text.startsWith('SELECT id, record, held_by, held_until FROM approvals WHERE id') && params?.[0] === rec2.id) {
          refused++;
          return Promise.reject(new StoreUnavailableError('PostgreSQL (state store)', 'no answer in time'));
        }
        return query(text, params);
      }) as typeof a.query;
      t.teardown(() => { a.query = query; });
      await qb.approve(rec2.id, { by: 'studio' });
      await until("A's read of the notice to fail", () => refused > 0, 10_000);
      setTimeout(() => { refusing = false; }, 400);
      t.equal(await within(waiting2, 'the release on A after a failed read'), 'approved', 'the request held on A goes');
      a.query = query;
    });

    await t.test('approvals: two replicas resolving at once, one wins; a replica gone mid-hold, the retry works on the other', async (t) => {
      const qa = await PgApprovals.open(a, { sweepMs: 0 });
      const qb = await PgApprovals.open(b, { sweepMs: 0 });
      t.teardown(async () => { await qa.close(); await qb.close(); });
      const rec = await qa.create(description('bot', '/race'), decision, 'h2');
      await qb.fullDescription(rec.id).catch(() => undefined);
      const results = await Promise.allSettled([qa.approve(rec.id, { by: 'a' }), qb.deny(rec.id, { by: 'b' })]);
      t.equal(results.filter((r) => r.status === 'fulfilled').length, 1, 'exactly one resolution');

      const orphan = await qa.create(description('bot', '/orphan'), decision, 'h3');
      void qa.wait(orphan.id, { timeoutMs: 60_000 });
      await qa.close(); // the replica holding it goes away
      await qb.approve(orphan.id, { by: 'studio' });
      const claim = await qb.claimRetry(orphan.id, description('bot', '/orphan'), 'h3');
      t.equal(claim.kind, 'approved', "the agent's retry is let through on B");
      t.equal((await qb.claimRetry(orphan.id, description('bot', '/orphan'), 'h3')).kind, 'refused', 'once');
    });

    await t.test('approvals: a held request woken twice claims once; a claim the database fails is tried again, never called "used"', async (t) => {
      // A's own connection, so the faults below touch nothing else.
      const own = await PgState.open(url, quiet);
      t.teardown(() => own.close());
      const query = own.query.bind(own);
      let fault: 'slow' | 'down' | undefined;
      let claims = 0;
      own.query = (async (text: string, params?: unknown[]) => {
        if (!/SET used_at/.test(text)) return query(text, params);
        claims++;
        const which = fault;
        fault = undefined;
        if (which === 'down') throw new StoreUnavailableError('PostgreSQL', 'test: connection lost');
        const r = await query(text, params);
        if (which === 'slow') await new Promise((r2) => setTimeout(r2, 300));
        return r;
      }) as typeof own.query;
      const qa = await PgApprovals.open(own, { sweepMs: 0 });
      const qb = await PgApprovals.open(b, { sweepMs: 0 });
      t.teardown(async () => { await qa.close(); await qb.close(); });

      for (const [i, which] of (['slow', 'down'] as const).entries()) {
        const rec = await qa.create(description('bot', `/twice${i}`), decision, `ht${i}`);
        const waiting = qa.wait(rec.id, { timeoutMs: 10_000 });
        for (let k = 0; k < 50 && !qb.isHeld(rec.id); k++) await new Promise((r) => setTimeout(r, 20));
        fault = which;
        claims = 0;
        await qb.approve(rec.id, { by: 'studio' });
        // A re-read on A (as after a reconnect) wakes the held request a second time.
        await t.rejects(qa.deny(rec.id, { by: 'x' }), { code: 'not-pending' });
        t.equal(await within(waiting, 'the release on A'), 'approved', `${which} claim: the request held on A goes`);
        t.ok(claims >= 1 && claims <= (which === 'down' ? 3 : 1), `${which} claim: ${claims} claim(s) sent`);
        t.equal((await qb.claimRetry(rec.id, description('bot', `/twice${i}`), `ht${i}`)).kind, 'refused', `${which} claim: and it is used`);
      }

      // Other requests' claims on the same replica never share a claim in flight: exactly one goes.
      for (const which of ['slow', 'down'] as const) {
        const rec = await qa.create(description('bot', `/race-${which}`), decision, `hr-${which}`);
        const waiting = qa.wait(rec.id, { timeoutMs: 10_000 });
        for (let k = 0; k < 50 && !qb.isHeld(rec.id); k++) await new Promise((r) => setTimeout(r, 20));
        fault = which;
        await qb.approve(rec.id, { by: 'studio' });
        const retries = await Promise.all(Array.from({ length: 3 }, () => qa.claimRetry(rec.id, description('bot', `/race-${which}`), `hr-${which}`)));
        const outcomes = [await within(waiting, 'the held request'), ...retries.map((r) => r.kind)];
        t.equal(outcomes.filter((o) => o === 'approved').length, 1, `${which} claim: one of a held request and three retries goes (${outcomes.join(' ')})`);
      }
    });

    await t.test('approvals: a claim held up by a row lock until the hold timed out is given back; the agent\'s retry goes, once', async (t) => {
      const own = await PgState.open(url, quiet);
      const locker = await PgState.open(url, { ...quiet, listen: false });
      const c = await locker.pool.connect();
      t.teardown(async () => { await c.query('ROLLBACK').catch(() => undefined); c.release(); await locker.close(); await own.close(); });
      const lock = async (id: string): Promise<void> => {
        await c.query('BEGIN');
        await c.query('SELECT 1 FROM approvals WHERE id = $1 FOR UPDATE', [id]);
      };
      // Someone else's transaction holds the approval's row while A claims it for its held request.
      const query = own.query.bind(own);
      let lockBefore: string | undefined;
      let locked = false;
      own.query = (async (text: string, params?: unknown[]) => {
        if (lockBefore !== undefined && /SET used_at/.test(text) && params?.[0] === lockBefore) {
          lockBefore = undefined;
          await lock(params[0] as string);
          locked = true;
        }
        return query(text, params);
      }) as typeof own.query;
      const qa = await PgApprovals.open(own, { sweepMs: 0 });
      const qb = await PgApprovals.open(b, { sweepMs: 0 });
      t.teardown(async () => { await qa.close(); await qb.close(); });
      const retried = async (path: string, hash: string): Promise<string> => {
        let kind = '';
        for (let i = 0; i < 40 && kind !== 'approved'; i++) {
          kind = (await qb.claimRetry(rec(path), description('bot', path), hash)).kind;
          if (kind !== 'approved') await new Promise((r) => setTimeout(r, 50));
        }
        return kind;
      };
      const ids = new Map<string, string>();
      const rec = (path: string): string => ids.get(path)!;

      // Approved on B; A's claim waits on the lock past the hold's end.
      const one = await qa.create(description('bot', '/locked-claim'), decision, 'hl1');
      ids.set('/locked-claim', one.id);
      const waiting = qa.wait(one.id, { timeoutMs: 1000 });
      for (let k = 0; k < 50 && !qb.isHeld(one.id); k++) await new Promise((r) => setTimeout(r, 20));
      lockBefore = one.id;
      await qb.approve(one.id, { by: 'studio' });
      t.equal(await within(waiting, 'the hold to end'), 'timeout', 'the hold ends while the claim waits');
      t.ok(locked, 'the claim was in flight when it ended');
      await c.query('ROLLBACK');
      t.equal(await retried('/locked-claim', 'hl1'), 'approved', "the agent's retry goes (the approval was not used)");
      t.equal((await qb.claimRetry(one.id, description('bot', '/locked-claim'), 'hl1')).kind, 'refused', 'once');

      // Approved on A, where it is held: the approval's update waits on the lock past the hold's end.
      const two = await qa.create(description('bot', '/locked-approve'), decision, 'hl2');
      ids.set('/locked-approve', two.id);
      const waiting2 = qa.wait(two.id, { timeoutMs: 600 });
      await lock(two.id);
      const approving = qa.approve(two.id, { by: 'studio' });
      t.equal(await within(waiting2, 'the hold to end'), 'timeout', 'the hold ends while the approval waits');
      await c.query('ROLLBACK');
      await approving;
      t.equal(await retried('/locked-approve', 'hl2'), 'approved', "the agent's retry goes (the approval was not used)");
      t.equal((await qb.claimRetry(two.id, description('bot', '/locked-approve'), 'hl2')).kind, 'refused', 'once');
    });

    await t.test('approvals: denied on B while A reads it for the agent\'s retry: A\'s older read never brings it back to pending', async (t) => {
      const own = await PgState.open(url, quiet);
      t.teardown(() => own.close());
      const query = own.query.bind(own);
      let stale: string | undefined;
      let qa: PgApprovals | undefined;
      own.query = (async (text: string, params?: unknown[]) => {
        if (stale === undefined || params?.[0] !== stale || !text.startsWith('SELECT id, record, held_by, held_until FROM approvals WHERE id')) return query(text, params);
        const id = stale;
        stale = undefined;
        const r = await query(text, params);
        // The answer arrives after A has heard of the denial and read it.
        await until("A to hear of the denial", () => qa!.get(id).status === 'denied' || undefined, 10_000);
        return r;
      }) as typeof own.query;
      qa = await PgApprovals.open(own, { sweepMs: 0 });
      const qb = await PgApprovals.open(b, { sweepMs: 0 });
      t.teardown(async () => { await qa!.close(); await qb.close(); });
      const rec = await qa.create(description('bot', '/retry-deny'), decision, 'hd');
      stale = rec.id;
      const retry = qa.claimRetry(rec.id, description('bot', '/retry-deny'), 'hd');
      await new Promise((r) => setTimeout(r, 50));
      await qb.deny(rec.id, { by: 'studio' });
      await retry;
      t.equal(qa.get(rec.id).status, 'denied', "A's view keeps the denial");
      t.equal(await within(qa.wait(rec.id, { timeoutMs: 5_000 }), 'the held retry'), 'denied', 'the retry held again on A is denied at once');
    });

    await t.test('secrets: sealed under a key that is not in the database; B sees A\'s change', async (t) => {
      process.env.AIRLOCK_MASTER_KEY = 'a passphrase of enough length';
      t.teardown(() => { delete process.env.AIRLOCK_MASTER_KEY; });
      const va = await PgSecretVault.open(a, home);
      const vb = await PgSecretVault.open(b, home);
      const changed = new Promise<void>((resolve) => vb.watch(resolve));
      await va.set('github', 'ghp_TheRealValue1234567890');
      await within(changed, 'the secrets notice');
      await vb.reload();
      await vb.unlock();
      t.equal(vb.reveal('github'), 'ghp_TheRealValue1234567890');
      const dump = spawnSync('/usr/lib/postgresql/15/bin/pg_dump', ['-d', url], { encoding: 'utf8' });
      t.equal(dump.status, 0, dump.stderr);
      t.notOk(dump.stdout.includes('ghp_TheRealValue'), 'a dump holds no secret value');
      t.notOk(dump.stdout.includes('passphrase of enough'), 'nor the master key');

      const totpA = await PgStepUp.open(a, va);
      const totpB = await PgStepUp.open(b, vb);
      const { secret } = await totpA.enroll();
      t.notOk(spawnSync('/usr/lib/postgresql/15/bin/pg_dump', ['-d', url], { encoding: 'utf8' }).stdout.includes(secret), 'nor the TOTP secret');
      const code = TotpStore.codeFor(secret);
      const both = await Promise.all([totpA.verify(code), totpB.verify(code)]);
      t.same(both.filter(Boolean).length, 1, 'a TOTP code is accepted on one replica only');
    });

    await t.test("sessions: one agent's link-rich answers at once write in their session's turn, together: a neighbour's statements still pass", async (t) => {
      // Each answer writes its links before it ends; 300 answers of 200 links at once filled the
      // pool for 4 s and a neighbour's token check waited 2 s, then 503.
      const own = await PgState.open(url, { ...quiet, max: 3 });
      const sessions = await PgSessions.open(own, { flushMs: 0 });
      t.teardown(async () => { await sessions.close(); await own.close(); });
      const agents = await PgAgents.open(own);
      const neighbour = await agents.add('links-neighbour');
      const sid = (await sessions.enter('links-bot', 'links-tok', new Date().toISOString())).session.id;
      let inserts = 0;
      let running = 0;
      let most = 0;
      const query = own.query.bind(own);
      own.query = (async (text: string, params?: unknown[]) => {
        if (!/session_links/.test(text) || /^SELECT/.test(text)) return query(text, params);
        if (/INSERT INTO session_links/.test(text)) inserts++;
        most = Math.max(most, ++running);
        try { return await query(text, params); } finally { running--; }
      }) as typeof own.query;
      const answers = Promise.allSettled(Array.from({ length: 60 }, (_, i) => sessions.addLinks(sid, { request_id: `r${i}`, host: 'pages.example' },
        Array.from({ length: 40 }, (_, j) => `https://l${j}.example/${i}/${'p'.repeat(80)}`))));
      const checks: string[] = [];
      for (let i = 0; i < 5; i++) {
        checks.push(await agents.identify('links-neighbour', neighbour.token).then((who) => (who ? 'ok' : 'refused'), (err: Error) => err.message));
        await new Promise((r) => setImmediate(r));
      }
      const outcomes = (await answers).map((r) => (r.status === 'fulfilled' ? 'written' : (r.reason as Error).message));
      t.same(checks, ['ok', 'ok', 'ok', 'ok', 'ok'], "the neighbour's token checks pass while the answers are written");
      t.same([...new Set(outcomes)], ['written'], 'every answer\'s links are written');
      t.ok(inserts <= 4, `answers waiting for the session's turn are written together (${inserts} statements for 60 answers)`);
      t.equal(most, 1, "one of the session's link statements at a time holds a connection");
      const provenance = (await own.query('SELECT request_id FROM session_links WHERE session = $1 AND url = $2', [sid, `https://l0.example/59/${'p'.repeat(80)}`])).rows[0];
      t.equal(provenance?.request_id, 'r59', 'each link keeps the answer it came in');
    });

    await t.test('sessions (twenty-ninth pass): the sweep keeps the newest holder of each wrote: label past the ended bound', async (t) => {
      const sw = await PgSessions.open(a, { flushMs: 0, limits: { endedSessionsKept: 0 } });
      t.teardown(() => sw.close());
      const now = (): string => new Date().toISOString();
      const writer = await sw.enter('sweeper', 'w-run1', now());
      await sw.addLabels(writer.session.id, ['wrote:paste.example'], { request_id: 'r1', host: 'paste.example', time: now() });
      await sw.reset(writer.session.id, 'run-ended');
      const other = await sw.enter('sweeper', 'w-run2', now());
      await sw.reset(other.session.id, 'run-ended');
      await sw.sweep();
      const left = (await sw.list({ agent: 'sweeper' })).map((x) => x.id);
      t.ok(left.includes(writer.session.id), 'the holder of wrote:paste.example stays');
      t.notOk(left.includes(other.session.id), 'an ended session holding none goes');
    });

    await t.test('sessions: labels, clears, resets and link provenance are shared by the replicas', async (t) => {
      const limits = { linksPerSession: 3 };
      const sa = await PgSessions.open(a, { flushMs: 0, limits });
      const sb = await PgSessions.open(b, { flushMs: 0, limits });
      t.teardown(async () => { await sa.close(); await sb.close(); });
      const audited: AuditRecord[] = [];
      const audit = { append: (r: AuditRecord) => void audited.push(r) };
      const now = (): string => new Date().toISOString();

      // The token's first requests reach both replicas at once: one session.
      const [ea, eb] = await Promise.all([sa.enter('bot', 'tok1', now()), sb.enter('bot', 'tok1', now())]);
      t.equal(ea.session.id, eb.session.id, 'one session per token, whichever replica starts it');
      const id = ea.session.id;
      t.same([ea.session.requests, eb.session.requests].sort(), [0, 1], 'each request counted once');

      t.same(await sa.addLabels(id, ['untrusted', 'untrusted'], { request_id: 'r1', host: 'issues.example', time: now() }), ['untrusted'], 'a label added through A');
      const onB = await sb.enter('bot', 'tok1', now());
      t.same(onB.session.labels.untrusted && { request_id: onB.session.labels.untrusted.request_id, host: onB.session.labels.untrusted.host }, { request_id: 'r1', host: 'issues.example' }, 'counts in the very next decision on B, with its first arrival');
      t.same(await sb.addLabels(id, ['untrusted', 'private'], { request_id: 'r2', host: 'db.example', time: now() }), ['private'], 'B adds only what is new to the session');
      const heard = new Promise<SessionChange>((resolve) => sa.onChange((c) => { if (c.type === 'cleared') resolve(c); }));

      await clearLabelAudited(sb, audit, id.slice(0, 8), 'untrusted', 'studio', 'read by a human');
      t.same(Object.keys((await sa.enter('bot', 'tok1', now())).session.labels), ['private'], 'a label cleared on B no longer counts on A');
      t.equal((await within(heard, 'the clear notice on A')).type, 'cleared', "A's studio hears of the clear");
      t.equal(audited[0]?.outcome, 'session-label-cleared', 'the clear is audited');
      await t.rejects(sb.clearLabel(id, 'untrusted', 'cli'), { code: 'bad-request' }, 'clearing a label the session does not hold is refused');
      for (let i = 0; i < 50 && sa.get(id).labels.untrusted; i++) await new Promise((r) => setTimeout(r, 20));
      t.same(Object.keys(sa.get(id).labels), ['private'], "A's view (studio, CLI) follows");

      // Link provenance: served through A, followed through B; a changed link is not.
      await sa.addLinks(id, { request_id: 'r3', host: 'search.example' }, ['https://news.example/a', 'https://news.example/b']);
      const follow = await sb.enter('bot', 'tok1', now(), { url: 'https://news.example/a', host: 'news.example' });
      t.same(follow.seen, { request_id: 'r3', host: 'search.example' }, 'B sees where the link was served');
      const changed = await sb.enter('bot', 'tok1', now(), { url: 'https://news.example/a?x=1', host: 'news.example' });
      t.equal(changed.seen, undefined, 'a changed link was not seen');
      t.equal(changed.hostSeen, true, 'but links to its host were');
      t.equal((await sb.enter('bot', 'tok1', now(), { url: 'https://other.example/', host: 'other.example' })).hostSeen, false);
      await sa.addLinks(id, { request_id: 'r4', host: 'search.example' }, ['https://news.example/c', 'https://news.example/d']);
      t.equal((await sb.enter('bot', 'tok1', now(), { url: 'https://news.example/a', host: 'news.example' })).seen, undefined, 'past the per-session bound the oldest link is forgotten');
      t.ok((await sb.enter('bot', 'tok1', now(), { url: 'https://news.example/d', host: 'news.example' })).seen, 'the newest is kept');

      sa.addEgress(id, 100);
      sa.noteRequest(id, { id: 'r5', time: now(), method: 'GET', url: 'https://news.example/d', host: 'news.example', outcome: 'forwarded' });
      await sa.flush();
      t.equal((await sb.enter('bot', 'tok1', now())).session.egress_bytes, 100, 'egress counted on A is seen on B');
      await sb.refresh();
      const rec = sb.get(id);
      t.equal(rec.links, 3, 'links remembered, bounded');
      t.same(rec.timeline.map((e) => e.id), ['r5'], 'the timeline is shared');
      t.same(rec.events.map((e) => e.kind), ['added', 'added', 'cleared'], 'label events in order');

      await resetAudited(sa, audit, id, 'cli');
      t.equal(audited[1]?.outcome, 'session-reset', 'the reset is audited');
      const fresh = await sb.enter('bot', 'tok1', now());
      t.not(fresh.session.id, id, "after a reset on A, the token's next request on B starts a new session");
      t.same(fresh.session.labels, {}, 'with no labels');
      await t.rejects(sb.reset(id, 'cli'), { code: 'not-live' });
      await t.rejects(sb.reset('s_', 'cli'), { code: 'bad-request' }, 'a too-short id is refused');
    });

    await t.test("audit: a slow database: one agent's waiting records refuse that agent, not the others; memory bounded", async (t) => {
      // Seventeenth pass: with a database that answers slowly (not down: nothing is spooled), the
      // lines waiting in memory had no bound, and one agent's small records (allowed requests,
      // each recorded whole) past the database's pace grew them as fast as it sent.
      const own = await PgState.open(url, quiet);
      t.teardown(() => own.close());
      const query = own.query.bind(own);
      let release: () => void = () => undefined;
      const stalled = new Promise<void>((r) => { release = r; });
      own.query = (async (text: string, params?: unknown[]) => {
        if (/INSERT INTO audit_log/.test(text)) await stalled;
        return query(text, params);
      }) as typeof own.query;
      const trail = new PgAuditTrail(own, tempDir(t), { ...quiet, batchBytes: 32 * 1024, maxPendingBytes: 400_000, batchMs: 1 });
      t.teardown(() => { release(); return trail.close(); });
      const small = (id: string, agent: string): void => trail.append({ time: new Date().toISOString(), id, agent, host: 'api.example', outcome: 'forwarded', detail: 'x'.repeat(900) });
      let n = 0;
      for (; n < 200 && !trail.overShare('hog'); n++) small(`hog-${n}`, 'hog');
      t.ok(trail.overShare('hog'), `after ${n} small records the hog is past its share`);
      t.equal(trail.overShare('neighbour'), undefined, 'the neighbour is not');
      t.equal(trail.available, true, 'the trail is available to everyone else');
      t.equal(trail.behindFor('hog'), true, "the hog's large descriptions are left out");
      t.equal(trail.behindFor('neighbour'), false, "the neighbour's are not");
      for (let i = 0; i < 300; i++) trail.append({ time: new Date().toISOString(), id: `hog-refused-${i}`, agent: 'hog', outcome: AUDIT_UNAVAILABLE, status: 503 });
      // Eighteenth pass: eight agents admitted as the proxy admits them (under their share) no
      // longer fill the bound together: past half of it they split it, and a neighbour is served.
      for (let i = 0; i < 60; i++) for (let a = 0; a < 8; a++) if (trail.available && !trail.overShare(`many-${a}`)) small(`many-${a}-${i}`, `many-${a}`);
      t.equal(trail.available, true, 'eight agents flooding at once: still available');
      t.ok(trail.overShare('many-0'), 'each of them refused by itself');
      t.equal(trail.overShare('neighbour'), undefined, 'a neighbour is admitted');
      // Records appended past every share (as if admitted earlier) still meet the bound for everyone.
      for (let a = 0; a < 8 && trail.available; a++) for (let i = 0; i < 60; i++) small(`late-${a}-${i}`, `many-${a}`);
      t.equal(trail.available, false, 'past the bound itself: unavailable for everyone');
      t.match(trail.unavailableReason, /not taking audit records/);
      release();
      await trail.flush();
      t.equal(trail.available, true, 'written: available again');
      t.equal(trail.overShare('hog'), undefined, 'and the hog is served again');
      const rows = (await query(`SELECT id, line FROM audit_log WHERE agent = 'hog'`)).rows as Array<{ id: string; line: string }>;
      t.equal(rows.filter((r) => /^hog-\d+$/.test(r.id)).length, n, "every one of the hog's records reached the table");
      t.match(rows.find((r) => r.id.startsWith('audit-gap-'))?.line, /300 further requests of agent hog were refused/, 'its refusals counted in one record');
    });

    await t.test('audit: batches bounded in bytes: large records within an agent\'s share never make a statement the database cannot finish in time', async (t) => {
      // A record may be ~2 MB (a description with its parsed 1 MiB body); 16 of them in one INSERT
      // took longer than the statement bound on a loaded box (64 anywhere): the batch failed, went to
      // the spool, and failed the same way at every ship, so nothing this replica recorded reached
      // the table again. Here a statement of more than 1 MiB of lines fails as the timeout does.
      const own = await PgState.open(url, quiet);
      t.teardown(() => own.close());
      const query = own.query.bind(own);
      let refused = 0;
      own.query = ((text: string, params?: unknown[]) => {
        const lines = /INSERT INTO audit_log/.test(text) ? (params?.[6] as string[]) : [];
        if (lines.reduce((n, l) => n + l.length, 0) > 1024 * 1024) {
          refused++;
          return Promise.reject(new StoreUnavailableError('PostgreSQL (state store)', 'no answer in time (canceling statement due to statement timeout)'));
        }
        return query(text, params);
      }) as typeof own.query;
      const trail = new PgAuditTrail(own, tempDir(t), { ...quiet, batchBytes: 256 * 1024, retryMs: 50 });
      t.teardown(() => trail.close());
      const big = 'x'.repeat(100 * 1024);
      t.equal(trail.behind, false, 'nothing waiting: not behind');
      for (let i = 0; i < 20; i++) trail.append({ time: new Date().toISOString(), id: `big-${i}`, agent: 'big', host: 'api.example', outcome: 'denied', detail: big });
      // Sixteenth pass: nothing bounded this queue; with a slow database one agent's large records
      // grew it as fast as the agent sent them. Past a batch's bytes waiting, large descriptions are
      // left out (proxy/audit-budget.ts).
      t.equal(trail.behind, true, '2 MB waiting for a database that takes 256 KiB a statement: behind');
      await trail.flush();
      t.equal(trail.behind, false, 'written: no longer behind');
      await until('the records to reach the table', async () => Number((await query(`SELECT count(*) AS n FROM audit_log WHERE agent = 'big'`)).rows[0]?.n) === 20 || undefined, 5000)
        .catch(() => undefined);
      t.equal(Number((await query(`SELECT count(*) AS n FROM audit_log WHERE agent = 'big'`)).rows[0]?.n), 20, 'every record reached the table');
      t.equal(refused, 0, 'in statements the database finishes');
    });

    await t.test('audit: batched rows, read back with the file\'s filters; spooled while the database is down, shipped after', async (t) => {
      const trail = new PgAuditTrail(a, home, quiet);
      const base = Date.parse('2026-01-01T00:00:00Z');
      for (let i = 0; i < 1200; i++) {
        trail.append({ time: new Date(base + i * 1000).toISOString(), id: `r${i}`, agent: i % 2 ? 'odd' : 'even', host: 'api.example', outcome: 'forwarded' });
      }
      await trail.flush();
      const odd = [];
      for await (const r of trail.read({ agent: 'odd', since: new Date(base + 100_000), until: new Date(base + 200_000) })) odd.push(r.id);
      t.equal(odd.length, 50, 'agent and time filters as for the file');
      t.equal(odd[0], 'r101');
      // Records that share an id (a WebSocket tunnel's end record carries its upgrade's id) are
      // each kept, as in the file; the same row shipped twice (a spool sent again) is kept once.
      const opened = { time: new Date(base).toISOString(), id: 'ws-1', agent: 'ws', host: 'api.example', outcome: 'websocket-open', status: 101 };
      const ended = { ...opened, time: new Date(base + 5000).toISOString(), outcome: 'rate-limited', detail: 'egress budget ran out' };
      trail.append(opened);
      trail.append(ended);
      await trail.flush();
      const again = { replica: a.replica, id: 'ws-1', time: ended.time, agent: 'ws', host: 'api.example', outcome: ended.outcome, line: JSON.stringify(ended) };
      await (trail as unknown as { insert(rows: unknown[]): Promise<unknown> }).insert([again]);
      const ws = [];
      for await (const r of trail.read({ agent: 'ws' })) ws.push(r.outcome);
      t.same(ws, ['websocket-open', 'rate-limited'], "a tunnel's end record is kept beside its upgrade's, once");
      // A column PostgreSQL's text cannot hold (NUL) refuses no batch: the row is stored, the line as written.
      trail.append({ time: new Date(base).toISOString(), id: 'nul-1', agent: 'nul', host: 'a\u0000b.example', outcome: 'forwarded' });
      trail.append({ time: new Date(base + 1).toISOString(), id: 'nul-2', agent: 'nul', outcome: 'forwarded' });
      await trail.flush();
      const nul = [];
      for await (const r of trail.read({ agent: 'nul' })) nul.push(r);
      t.same(nul.map((r) => [r.id, r.host]), [['nul-1', 'a\u0000b.example'], ['nul-2', undefined]], 'both records reach the table, the line as written');
      const byHost = [];
      for await (const r of trail.read({ host: 'a\u0000b.example' })) byHost.push(r.id);
      t.same(byHost, ['nul-1'], 'and a filter naming it finds it, as in the file');

      await pg.stop();
      // A replica killed (or a disk that filled) in the middle of writing a spooled line left it
      // torn: the next record spooled must not be glued to the fragment and lost with it.
      const crashed = { time: new Date().toISOString(), id: 'before-crash', outcome: 'forwarded' };
      fs.writeFileSync(trail.spoolFile, `${JSON.stringify({ replica: 'gone-1', id: crashed.id, time: crashed.time, agent: null, host: null, outcome: crashed.outcome, line: JSON.stringify(crashed) })}\nnull\n{"replica":"gone-1","id":"no-time","outcome":"forwarded","line":"{}"}\n{"replica":"gone-1","id":"torn","ti`);
      const down = new PgAuditTrail(a, home, { ...quiet, retryMs: 100 });
      down.append({ time: new Date().toISOString(), id: 'while-down', outcome: 'forwarded' });
      await down.flush();
      t.ok(down.spooledBytes > 0, 'the record is in the local spool');
      t.ok(down.available, 'and the trail still takes records');
      // Twenty-first pass: with the database away, every batch waiting was spooled (written and
      // fsynced) in one turn of the main thread, and each later batch held it for its fsync.
      const heavy = new PgAuditTrail(a, tempDir(t), { ...quiet, retryMs: 60_000, batchBytes: 1024 * 1024 });
      const wide = 'y'.repeat(400 * 1024);
      for (let i = 0; i < 48; i++) heavy.append({ time: new Date().toISOString(), id: `heavy-${i}`, agent: `heavy-${i % 12}`, host: 'api.example', outcome: 'denied', detail: wide });
      const loop = watchLoopTurns();
      const spoolStarted = performance.now();
      await heavy.flush();
      const spoolTook = performance.now() - spoolStarted;
      const { turns, longest } = loop.stop();
      t.ok(heavy.spooledBytes > 48 * 400 * 1024, `the records are in the spool (${heavy.spooledBytes} bytes)`);
      t.ok(turns >= 6, `spooling them took turns (${turns} of the ticker's in ${Math.round(spoolTook)} ms)`);
      t.ok(longest < Math.max(150, spoolTook / 3), `no turn held the loop for long (${Math.round(longest)} ms of ${Math.round(spoolTook)} ms)`);
      await heavy.close();
      await t.rejects(a.query('SELECT 1'), { message: /PostgreSQL \(state store\) is unreachable/ }, 'queries fail as "unavailable"');
      // A spool with a bound: past it, requests are refused (as on a full disk); their refusals are
      // counted past a few in memory; all of it reaches the database once it is back.
      const bounded = new PgAuditTrail(a, tempDir(t), { ...quiet, retryMs: 100, batchMs: 1, maxSpoolBytes: 4096, maxPendingRefusals: 5 });
      for (let i = 0; i < 20; i++) bounded.append({ time: new Date().toISOString(), id: `bounded-${i}`, agent: 'bot', host: 'api.example', url: `https://api.example/${'x'.repeat(200)}`, outcome: 'forwarded' });
      await bounded.flush();
      t.notOk(bounded.available, 'a spool at its bound takes nothing more: requests are refused');
      t.match(bounded.unavailableReason, /bound of 4096 bytes/, 'saying why');
      t.ok(bounded.spooledBytes <= 4096, `the spool stays within its bound (${bounded.spooledBytes})`);
      for (let i = 0; i < 50; i++) bounded.append({ time: new Date().toISOString(), id: `refused-${i}`, agent: 'bot', outcome: AUDIT_UNAVAILABLE, status: 503 });
      await pg.start();
      for (let i = 0; i < 100 && down.spooledBytes > 0; i++) await new Promise((r) => setTimeout(r, 100));
      t.equal(down.spooledBytes, 0, 'the spool was shipped once the database came back');
      const found = [];
      for await (const r of down.read({})) if (r.id === 'while-down') found.push(r);
      t.equal(found.length, 1, 'exactly once');
      const shipped = [];
      for await (const line of down.lines({})) shipped.push((JSON.parse(line) as { id: string }).id);
      t.ok(shipped.includes('before-crash'), 'the whole lines spooled before the crash are shipped');
      t.notOk(shipped.includes('torn'), 'the torn fragment is not');
      // Rows edited by hand into the table: replay skips what is not a record, as it does in the file.
      await a.query(`INSERT INTO audit_log (replica, id, time, outcome, line) VALUES ('hand', '1', now(), 'forwarded', 'null'), ('hand', '2', now(), 'forwarded', '[1]')`);
      const filtered = [];
      for await (const r of down.read({ since: new Date(Date.now() - 60_000) })) filtered.push(r);
      t.ok(filtered.length > 0 && filtered.every((r) => r && typeof r === 'object' && !Array.isArray(r)), 'a filtered read passes over lines that are not records');
      await until('the bounded spool shipped and records flowing again', () => bounded.available && bounded.spooledBytes === 0, 20_000);
      await bounded.flush();
      const ids = new Set<string>();
      let gap = '';
      for await (const r of bounded.read({})) {
        ids.add(r.id);
        if (r.id.startsWith('audit-gap-')) gap = String(r.detail);
      }
      t.ok(Array.from({ length: 20 }, (_, i) => `bounded-${i}`).every((id) => ids.has(id)), 'every record taken before the bound was reached is in the database');
      t.ok(Array.from({ length: 5 }, (_, i) => `refused-${i}`).every((id) => ids.has(id)), 'the first refusals one by one');
      t.match(gap, /^45 further requests were refused/, 'the rest counted in one record');
      await bounded.close();
      await down.close();
      await trail.close();
    });
  });

  t.test('Redis limits: exact across replicas, all or none, down → unavailable', async (t) => {
    const redis = await startRedis(t);
    const a = await RedisRateLimits.open(redis.url, quiet);
    const b = await RedisRateLimits.open(redis.url, quiet);
    t.teardown(async () => { await a.close(); await b.close(); });
    const limit = [{ key: 'k1', limit: 25, window: '1h' }];
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).charge(limit as never)));
    t.equal(results.filter((r) => r.ok).length, 25, '25 of 60 concurrent charges on two replicas pass');
    const both = [{ key: 'k2', limit: 5, window: '1h' }, { key: 'k1', limit: 25, window: '1h' }];
    const r = await a.charge(both as never);
    t.equal(r.ok, false, 'a decision with one short bucket is refused');
    t.equal((await b.snapshot()).find((v) => v.key === 'k2'), undefined, 'and charges none');
    t.equal(await a.reset('k1'), 1);
    t.equal((await b.charge(limit as never)).ok, true, 'reset on A refills for B');
    const bytes = [{ key: 'eg', limit: 1000, window: '1h', unit: 'egress_bytes' }];
    t.equal(a.chargeEgress(bytes as never, 600).ok, true, 'a streamed chunk is metered at once');
    t.equal(a.chargeEgress(bytes as never, 600).ok, false, 'past the level the meter knows, the stream is cut');
    let seen: number | undefined;
    for (let i = 0; i < 50 && seen !== 400; i++) {
      seen = (await b.snapshot()).find((v) => v.key === 'eg')?.available;
      if (seen !== 400) await new Promise((r) => setTimeout(r, 20));
    }
    t.equal(seen, 400, 'B sees the bytes A sent (the debit reached Redis)');
    t.equal((await b.charge(bytes as never, { request: { egress_bytes: 500 } })).ok, false, "and B's next charge is refused");

    // Twentieth pass: a replica metered a stream's chunks on its own estimate, corrected only by
    // answers to its own charges (a bucket it never charged counted as full): a tunnel opened on B,
    // the budget drained through A, and one message as large as the budget still left through B.
    // A chunk now leaves on bytes taken from Redis before it (a lease, twenty-first pass).
    const big = [{ key: 'big', limit: 1_000_000, window: '1000h', unit: 'egress_bytes' }];
    t.equal((await b.charge(big as never, { request: { egress_bytes: 10 } })).ok, true, 'B opens a stream: it knows the level then');
    t.equal((await a.meterEgress(big as never, 600_000)).ok, true, 'A sends a large message');
    t.equal((await b.meterEgress(big as never, 600_000)).ok, false, 'B cannot send another on its stale estimate: Redis holds 399,990');
    t.equal((await b.meterEgress(big as never, 300_000)).ok, true, 'one that fits what Redis holds passes');
    const small = b.meterEgress(big as never, 1000);
    t.ok((small instanceof Promise ? await small : small).ok, 'a small chunk that fits what Redis holds passes (A holds a lease of 64 KiB: B asked Redis)');
    const never = [{ key: 'drained-elsewhere', limit: 1_000_000, window: '1000h', unit: 'egress_bytes' }];
    t.equal((await a.charge(never as never, { request: { egress_bytes: 990_000 } })).ok, true, 'A drains a bucket B never charged');
    t.equal((await b.meterEgress(never as never, 900_000)).ok, false, 'B does not count it as full');

    // Twenty-first pass: chunks of at most 64 KiB were metered on the replica's estimate, so
    // replicas streaming at once each sent nearly a whole budget: each had heard the level when its
    // stream opened, and a read's worth of chunks (a burst, before any answer) passed on it. Now a
    // chunk leaves on bytes leased from Redis ahead of it: exact across replicas.
    const c = await RedisRateLimits.open(redis.url, quiet);
    t.teardown(() => c.close());
    const idle = RedisRateLimits.LEASE_IDLE_MS;
    RedisRateLimits.LEASE_IDLE_MS = 300;
    t.teardown(() => { RedisRateLimits.LEASE_IDLE_MS = idle; });
    const shared = [{ key: 'shared', limit: 300_000, window: '100000h', unit: 'egress_bytes' }]; // no refill to speak of
    for (const r of [a, b, c]) t.equal((await r.charge(shared as never, { request: { egress_bytes: 10 } })).ok, true, 'a stream opens: its replica hears the level');
    let sent = 0;
    for (let round = 0; round < 4; round++) {
      for (const r of [a, b, c]) {
        // One read's worth of 60 KB chunks, each sent once the meter said yes (waiting when it asks Redis).
        for (let i = 0; i < 6; i++) {
          const m = r.meterEgress(shared as never, 60_000);
          if (!(m instanceof Promise ? await m : m).ok) break;
          sent += 60_000;
        }
      }
    }
    t.ok(sent <= 300_000 - 30, `three replicas streamed ${sent} bytes of a 300,000-byte budget`);
    t.ok(sent >= 240_000, 'the budget is still usable');
    const tiny = [{ key: 'tiny-frames', limit: 1e6, window: '100000h', unit: 'egress_bytes' }];
    let synchronous = 0;
    for (let i = 0; i < 1000; i++) {
      const m = c.meterEgress(tiny as never, 10);
      if (m instanceof Promise) await m;
      else synchronous++;
    }
    t.ok(synchronous >= 990, `tiny chunks leave at once on a lease (${synchronous} of 1000 without asking Redis)`);
    // What a lease has left goes back once its stream is quiet: every byte not sent is the bucket's again.
    let back: number | undefined;
    for (let i = 0; i < 100 && back !== 1e6 - 10_000; i++) {
      await new Promise((res) => setTimeout(res, 50));
      back = Math.round((await a.snapshot()).find((v) => v.key === 'tiny-frames')?.available ?? 0);
    }
    t.equal(back, 1e6 - 10_000, 'the unspent lease went back to the bucket');

    // Sixteenth pass: every metered chunk was a Lua script in Redis of its own: one agent's tunnels
    // of tiny WebSocket frames (each metered) ran one per frame, taking Redis's time and the event
    // loop from every agent on every replica (a neighbour's GET p50 12 → 33 ms, max 0.4 s). The
    // chunks metered while a debit is in flight go together in the next one; none is lost.
    const admin0 = new Redis(redis.url);
    t.teardown(() => admin0.disconnect());
    const scripts = async (): Promise<number> => Number(/cmdstat_evalsha:calls=(\d+)/.exec(await admin0.info('commandstats'))?.[1] ?? 0);
    const frames = [{ key: 'frames', limit: 1e6, window: '100000h', unit: 'egress_bytes' }]; // no refill to speak of
    const before = await scripts();
    let metered = 0;
    for (let burst = 0; burst < 40; burst++) {
      for (let i = 0; i < 100; i++) if (a.chargeEgress(frames as never, 2).ok) metered += 2;
      await new Promise((res) => setImmediate(res));
    }
    t.equal(metered, 8000, 'every tiny chunk is metered at once');
    let left: number | undefined;
    for (let i = 0; i < 100 && left !== 1e6 - 8000; i++) {
      left = Math.round((await b.snapshot()).find((v) => v.key === 'frames')?.available ?? 0);
      if (left !== 1e6 - 8000) await new Promise((res) => setTimeout(res, 20));
    }
    t.equal(left, 1e6 - 8000, 'Redis took every byte (B sees them all)');
    const used = (await scripts()) - before;
    t.ok(used < 400, `4,000 chunks took ${used} scripts in Redis (one each before)`);

    // Redis's answers arriving one at a time, a stream's chunks arriving between them (a Redis a
    // few milliseconds away): each answer reports the level after its own debit only, so the
    // debits sent after it must still count, or one replica alone sends several budgets.
    const relay = net.createServer((c) => {
      const up = net.connect(redis.port, '127.0.0.1');
      c.pipe(up);
      let queue = Promise.resolve();
      up.on('data', (data: Buffer) => {
        // one top-level reply per write, 3 ms apart (the script's replies are arrays: `*N`)
        for (const reply of data.toString('latin1').split(/(?=^\*\d+\r\n)/m)) {
          queue = queue.then(() => new Promise((res) => setTimeout(() => { if (!c.destroyed) c.write(Buffer.from(reply, 'latin1')); res(); }, 3)));
        }
      });
      up.on('close', () => { queue = queue.then(() => { c.destroy(); }); });
      c.on('error', () => up.destroy());
      c.on('close', () => up.destroy());
    }).listen(0, '127.0.0.1');
    await new Promise((res) => relay.once('listening', res));
    const far = await RedisRateLimits.open(`redis://127.0.0.1:${(relay.address() as net.AddressInfo).port}`, quiet);
    const budget = [{ key: 'far', limit: 1000, window: '1h', unit: 'egress_bytes' }];
    let streamed = 0;
    for (let i = 0; i < 60; i++) {
      if (far.chargeEgress(budget as never, 100).ok) streamed += 100;
      await new Promise((res) => setTimeout(res, 1));
    }
    t.ok(streamed <= 1000, `one replica streams at most its budget while answers trickle in (${streamed} of 1000 bytes)`);
    await far.close();
    relay.close();

    // Buckets keyed by what the agent chooses (the default policy keys by host): the index in
    // Redis and the byte levels a replica keeps stay bounded, the least recently charged going first.
    const max = RedisRateLimits.MAX_KNOWN;
    RedisRateLimits.MAX_KNOWN = 50;
    t.teardown(() => { RedisRateLimits.MAX_KNOWN = max; });
    await Promise.all(Array.from({ length: 200 }, (_, i) => a.charge([{ key: `host:h${i}.example:bot`, limit: 10, window: '1h' }, { key: `egress:h${i}.example:bot`, limit: 1e6, window: '1h', unit: 'egress_bytes' }] as never, { request: { egress_bytes: 10 } })));
    t.ok((await b.snapshot()).length <= 50, 'the index lists at most the bound');
    t.ok((a as unknown as { levels: Map<string, unknown> }).levels.size <= 50, 'the byte levels kept in memory too');
    t.ok((await b.snapshot()).some((v) => v.key === 'egress:h199.example:bot'), 'the newest are kept');
    RedisRateLimits.MAX_KNOWN = max;

    // Ninth pass: an agent visiting new hosts (buckets keyed by host) made buckets in Redis without
    // bound, each living for its window (an hour for a byte budget), while the embedded table stops
    // one agent at its bound: one agent could fill Redis, and with `maxmemory` every replica then
    // refuses every agent's limited requests. Redis keeps the same bound per agent.
    const bound = RedisRateLimits.MAX_BUCKETS_PER_AGENT;
    RedisRateLimits.MAX_BUCKETS_PER_AGENT = 20;
    t.teardown(() => { RedisRateLimits.MAX_BUCKETS_PER_AGENT = bound; });
    const perHost = (i: number): never => [{ key: `host:n${i}.example:hog`, limit: 10, window: '1h' }, { key: `egress:n${i}.example:hog`, limit: 1e6, window: '1h', unit: 'egress_bytes' }] as never;
    const hog = { agent: { id: 'hog' }, request: { egress_bytes: 10 } };
    let passed = 0;
    for (let i = 0; i < 15; i++) if ((await (i % 2 ? a : b).charge(perHost(i), hog)).ok) passed++;
    t.equal(passed, 10, 'an agent gets new buckets up to the bound, over both replicas (two per host)');
    const refused = await a.charge(perHost(99), hog);
    t.match(refused, { ok: false, reason: /already use 20 rate-limit buckets/ }, 'past it a request needing another is refused, saying why');
    t.equal((await b.charge(perHost(3), hog)).ok, true, 'its buckets that exist still charge');
    t.equal((await a.charge(perHost(99), { agent: { id: 'neighbour' }, request: { egress_bytes: 10 } })).ok, true, 'another agent is not affected');
    RedisRateLimits.MAX_BUCKETS_PER_AGENT = bound;

    // Ninth pass: a bucket dated ahead of Redis's clock (written before a failover to a Redis whose
    // clock is behind) had each charge date it back to now, so once the clock caught up it refilled
    // for that time again.
    const admin = new Redis(redis.url);
    t.teardown(() => admin.disconnect());
    const [sec, usec] = await admin.time();
    await admin.hset('airlock:{rl}:requests:skew', 'tokens', '2', 'updated', String(Number(sec) * 1000 + Math.floor(Number(usec) / 1000) + 1000), 'limit', '10', 'window_ms', '1000');
    const skew = [{ key: 'skew', limit: 10, window: '1s' }];
    t.equal((await a.charge(skew as never)).ok, true, 'a charge on the bucket dated ahead');
    await new Promise((res) => setTimeout(res, 300)); // 3 tokens' worth of refill, had it been dated now
    let afterSkew = 0;
    for (let i = 0; i < 4; i++) if ((await b.charge(skew as never)).ok) afterSkew++;
    t.equal(afterSkew, 1, 'no refill before its date: only the token it had left');

    await redis.stop();
    await t.rejects(async () => { await a.charge(limit as never); }, { message: /Redis \(rate limits\) is unreachable/ }, 'a charge fails as "unavailable" while Redis is down');
    await redis.start();
    // Redis came back empty (no persistence): its buckets were lost, not refilled.
    const short = [{ key: 'k3', limit: 25, window: '200ms' }];
    let ok = false;
    for (let i = 0; i < 100 && !ok; i++) {
      ok = await Promise.resolve(a.charge(short as never)).then((x) => x.ok, () => false);
      if (!ok) await new Promise((res) => setTimeout(res, 100));
    }
    t.ok(ok, 'charges work again once Redis is back (a bucket refills from the loss on)');
    t.equal((await b.charge(limit as never)).ok, false, 'a bucket Redis lost counts as emptied when it was lost, not as full');
  });

  t.test('Redis answering errors (a read-only replica, out of memory, scripts flushed): bytes that left are never lost to the budget', async (t) => {
    const redis = await startRedis(t);
    const every = RedisRateLimits.EVICTION_CHECK_MS;
    RedisRateLimits.EVICTION_CHECK_MS = 100;
    const a = await RedisRateLimits.open(redis.url, quiet);
    const b = await RedisRateLimits.open(redis.url, quiet);
    RedisRateLimits.EVICTION_CHECK_MS = every;
    const admin = new Redis(redis.url);
    // Both replicas stream into one byte budget while Redis answers every write with an error.
    t.teardown(async () => { await a.close(); await b.close(); admin.disconnect(); });
    const bytes = [{ key: 'eg', limit: 1000, window: '1h', unit: 'egress_bytes' }];
    // both replicas know the bucket (the decision paid for its description)
    t.equal((await a.charge(bytes as never, { request: { egress_bytes: 10 } })).ok, true);
    t.equal((await b.charge(bytes as never, { request: { egress_bytes: 10 } })).ok, true);
    for (const [name, on, off] of [
      ['READONLY', ['REPLICAOF', '127.0.0.1', '1'], ['REPLICAOF', 'NO', 'ONE']],
      ['OOM', ['CONFIG', 'SET', 'maxmemory', '1'], ['CONFIG', 'SET', 'maxmemory', '0']],
    ] as const) {
      await admin.call(...(on as unknown as [string, ...string[]]));
      let sent = 0;
      for (let i = 0; i < 20; i++) {
        for (const r of [a, b]) {
          if (r.chargeEgress(bytes as never, 100).ok) sent += 100;
          // Until Redis has answered the replica's debit (a fixed pause lost to a busy machine, which
          // let a second chunk go on the estimate before the refusal was known: the known bound).
          for (let w = 0; w < 1000 && (r as unknown as { debiting: boolean }).debiting; w++) await new Promise((res) => setTimeout(res, 2));
        }
      }
      const c = await Promise.resolve(a.charge([{ key: 'rq', limit: 5, window: '1h' }] as never)).then((x) => x.ok, (e: Error) => e.message);
      t.match(c, /Redis \(rate limits\) is unreachable/, `${name}: a request charge fails closed`);
      t.ok(sent <= 200, `${name}: once a debit is refused, no replica meters another chunk (${sent} bytes: one chunk each before its debit failed)`);
      await admin.call(...(off as unknown as [string, ...string[]]));
      let snap: { available: number } | undefined;
      for (let i = 0; i < 40; i++) {
        snap = (await b.snapshot()).find((v) => v.key === 'eg');
        if (snap && snap.available <= 990 - sent) break;
        await new Promise((res) => setTimeout(res, 50));
      }
      t.ok(snap && snap.available <= 990 - sent, `${name}: bytes sent are debited once Redis takes writes again (${snap?.available})`);
      t.equal(a.chargeEgress(bytes as never, 100).ok, true, `${name}: and streams are metered again by themselves`);
      await a.reset('eg');
      await a.charge(bytes as never, { request: { egress_bytes: 10 } });
      await b.charge(bytes as never, { request: { egress_bytes: 10 } });
    }
    // Buckets lost or rolled back inside Redis (FLUSHALL, a failover to a replica that missed
    // the last writes, an old snapshot restored) must not read as full again.
    const rq = [{ key: 'lost', limit: 4, window: '1h' }];
    const drain = async (): Promise<number> => {
      const rs = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).charge(rq as never)));
      return rs.filter((r) => r.ok).length;
    };
    t.equal(await drain(), 4, 'the bucket is drained across both replicas');
    await admin.call('FLUSHALL');
    t.equal(await drain(), 0, 'FLUSHALL: nothing passes on the drained bucket');
    t.equal((await a.charge([{ key: 'new-after-flush', limit: 4, window: '1h' }] as never)).ok, false, 'FLUSHALL: nor on a bucket Redis cannot tell from a lost one');
    t.equal(a.chargeEgress(bytes as never, 100).ok, true, 'FLUSHALL: a byte level this replica knows still meters (its debit is checked by Redis)');
    await a.reset('lost');
    t.equal((await b.charge(rq as never)).ok, true, 'a reset bucket is full again after a loss');
    await drain();
    // a rollback: the bucket and the epoch's counter as an older snapshot had them
    await admin.hset('airlock:{rl}:requests:lost', 'tokens', '4', 'updated', String(Date.now() - 60_000));
    await admin.hset('airlock:{rl}:epoch', 'seq', '1');
    t.equal(await drain(), 0, 'rolled back: nothing passes on the bucket restored full');
    t.ok(((await a.snapshot()).find((v) => v.key === 'lost')?.available ?? 0) < 1, 'and the listing shows it empty, as the charge reads it');
    // a Redis that evicts keys under memory pressure could drop a drained bucket
    await admin.call('CONFIG', 'SET', 'maxmemory', '1gb');
    await admin.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      let c: unknown;
      for (let i = 0; i < 30; i++) {
        c = await Promise.resolve(a.charge([{ key: 'rq3', limit: 5, window: '1h' }] as never)).then((x) => x.ok, (e: Error) => e.message);
        if (typeof c === 'string') break;
        await new Promise((res) => setTimeout(res, 50));
      }
      t.match(c, /Redis \(rate limits\) is unreachable.*maxmemory-policy allkeys-lru/, 'an evicting Redis is refused as unavailable, naming the setting');
      t.equal(a.chargeEgress(bytes as never, 1).ok, false, 'and streams are not metered on it');
    } finally {
      await admin.call('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
      await admin.call('CONFIG', 'SET', 'maxmemory', '0');
    }
    // SCRIPT FLUSH: EVALSHA gets NOSCRIPT
    await admin.call('SCRIPT', 'FLUSH');
    let after: unknown;
    for (let i = 0; i < 20 && after !== true; i++) {
      after = await Promise.resolve(a.charge([{ key: 'rq2', limit: 5, window: '20ms' }] as never)).then((x) => x.ok, (e: Error) => e.message);
      if (after !== true) await new Promise((res) => setTimeout(res, 50));
    }
    t.equal(after, true, 'NOSCRIPT: the script is loaded again (and noeviction is taken again by itself)');
  });
}

