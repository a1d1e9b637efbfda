// Several replicas: real `airlock start` processes, each with its own state folder, sharing one
// PostgreSQL (--store) and one Redis (--limits), started by this test on loopback. Real agent
// traffic (curl through each proxy), real studios (HTTP login + API, WebSocket for live events).
// Proves: a request held on A shows in B's studio and is released on A by a click on B; rate limits
// are exact across replicas; one audit trail read by `airlock replay --store`; a policy published
// once is live on every replica; PostgreSQL or Redis down → 503 naming it, recovered by itself,
// records spooled and shipped; a replica killed mid-hold leaves the approval resolvable and the
// agent's retry works on another replica.
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import WebSocket from 'ws';
import { wsProtocols } from '../../studio/auth.ts';
import { PgState } from '../../state/postgres/db.ts';
import { PgPolicyVersions } from '../../state/postgres/policy-versions.ts';
import { VersionStore } from '../../studio/versions.ts';
import { compilePolicy } from '../../engine/compile.ts';
import { cli, policyDir, run, startUpstream } from '../approvals/helpers.ts';
import { missingPostgres, missingRedis, startPostgres, startRedis } from '../helpers/pg-redis.ts';
import { tempDir, type Teardown } from '../temp-dir.ts';
import { until } from '../helpers/until.ts';

const missing = missingPostgres() ?? missingRedis();
const masterKey = crypto.randomBytes(32).toString('hex');

interface Replica {
  name: string;
  home: string;
  child: ChildProcess;
  proxy: number;
  studio: string;
  output: () => string;
  api(method: string, url: string, body?: unknown): Promise<{ status: number; body: any }>;
  cookie: string;
  csrf: string;
}

async function startReplica(t: Teardown, name: string, env: NodeJS.ProcessEnv, args: string[]): Promise<Replica> {
  const home = tempDir(t, `al-rep-${name}-`);
  const child = spawn(process.execPath, [cli, 'start', '--home', home, '--proxy', '127.0.0.1:0', '--studio', '127.0.0.1:0', '--policy', policyDir, '--allow-private', '127.0.0.1/32', '-q', ...args], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const info = await until(`replica ${name} to start`, () => {
    if (child.exitCode !== null) throw new Error(`replica ${name} exited: ${out}`);
    try {
      return JSON.parse(fs.readFileSync(path.join(home, 'runtime.json'), 'utf8')) as { proxy: string; studio: string };
    } catch {
      return undefined;
    }
  }, 60_000);
  const studio = `http://${info.studio}`;
  const token = fs.readFileSync(path.join(home, 'studio-token'), 'utf8').trim();
  const login = await fetch(`${studio}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
  const { csrf } = (await login.json()) as { csrf: string };
  const api = async (method: string, url: string, body?: unknown) => {
    const r = await fetch(`${studio}${url}`, {
      method, headers: { cookie, 'x-airlock-csrf': csrf, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : undefined };
  };
  return { name, home, child, proxy: Number(info.proxy.split(':').pop()), studio, output: () => out, api, cookie, csrf };
}

/** curl through a replica's proxy: status, headers and body. */
async function curl(r: Replica, token: string, url: string, extra: string[] = []): Promise<{ status: number; headers: string; body: string }> {
  const { stdout } = await run('curl', ['-sS', '-D', '-', '-x', `http://bot:${token}@127.0.0.1:${r.proxy}`, ...extra, url], { timeout: 60_000 }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
  const at = stdout.lastIndexOf('\r\n\r\n');
  const head = stdout.slice(0, at);
  const status = Number(/HTTP\/[\d.]+ (\d{3})[^\n]*$/m.exec(head.split(/\r\n\r\n/).pop() ?? '')?.[1] ?? 0);
  return { status, headers: head, body: stdout.slice(at + 4) };
}

if (missing) {
  t.comment(`SKIPPING the multi-replica tests: ${missing}`);
  t.pass('skipped: no PostgreSQL/Redis binaries');
} else {
  t.test('replicas sharing PostgreSQL and Redis', async (t) => {
    const [pg, redis, upstream] = await Promise.all([startPostgres(t), startRedis(t), startUpstream(t)]);
    const store = await pg.createDatabase('replicas');
    const env = { AIRLOCK_MASTER_KEY: masterKey, AIRLOCK_STORE: store, AIRLOCK_LIMITS: redis.url };
    const up = `http://127.0.0.1:${upstream.port}`;

    const migrated = await run(process.execPath, [cli, 'migrate', '--store', store], { env: { ...process.env } });
    t.match(migrated.stdout, /001_initial\.sql/, '`airlock migrate` applies the migrations');
    const cliHome = tempDir(t, 'al-rep-cli-');
    const added = await run(process.execPath, [cli, 'agent', 'add', 'bot', '--home', cliHome], { env: { ...process.env, ...env } });
    const token = /bot:([^@]+)@/.exec(added.stdout)?.[1];
    t.ok(token, '`airlock agent add` with AIRLOCK_STORE creates the agent in the shared store');

    const [a, b] = await Promise.all([startReplica(t, 'a', env, []), startReplica(t, 'b', env, [])]);

    await t.test('held on A, shown in B\'s studio (live), approved on B, released on A', async (t) => {
      const ws = new WebSocket(`${b.studio.replace('http', 'ws')}/api/ws`, wsProtocols(b.csrf), { headers: { cookie: b.cookie, origin: b.studio } });
      const shown = new Promise<any>((resolve) => ws.on('message', (m) => {
        const msg = JSON.parse(String(m)) as { type: string; data: any };
        if (msg.type === 'approval' && msg.data?.event === 'created') resolve(msg.data.approval);
      }));
      await new Promise((r) => ws.once('open', r));
      const held = curl(a, token!, `${up}/send/1`, ['-X', 'POST', '-H', 'content-type: application/json', '--data', '{"to":"x"}']);
      const approval = await Promise.race([shown, new Promise<never>((_, reject) => setTimeout(() => reject(new Error("timed out waiting for the approval in B's studio")), 30_000).unref())]);
      t.equal(approval.summary.path, '/send/1', "B's studio got the approval over its WebSocket");
      ws.close();
      await until('B to see it held', async () => (await b.api('GET', `/api/approvals/${approval.id}`)).body?.approval?.held === true);
      const r = await b.api('POST', `/api/approvals/${approval.id}/approve`, {});
      t.equal(r.status, 200, 'approved in B\'s studio');
      const res = await held;
      t.equal(res.status, 200, 'the request held on A was released by the click on B');
      t.ok(upstream.received.some((x) => x.method === 'POST' && x.url === '/send/1'), 'and reached the upstream');
    });

    await t.test('rate limits are exact across replicas', async (t) => {
      const statuses = [];
      for (const r of [a, b, a, b, a]) statuses.push((await curl(r, token!, `${up}/read`)).status);
      t.same(statuses, [200, 200, 200, 429, 429], '3 per hour per agent, whichever replica serves');
      t.equal(upstream.received.filter((x) => x.url === '/read').length, 3);
    });

    await t.test('a policy published once is live on every replica, same version', async (t) => {
      const draft = tempDir(t, 'al-rep-draft-');
      fs.cpSync(policyDir, draft, { recursive: true });
      fs.appendFileSync(path.join(draft, 'airlock.rego'), '\n# published to every replica\n');
      const db = await PgState.open(store, { listen: false });
      t.teardown(() => db.close());
      const publisherHome = tempDir(t, 'al-rep-pub-');
      const versions = VersionStore.over(publisherHome, await PgPolicyVersions.open(db, publisherHome));
      const record = await versions.publish(draft, async () => undefined, async () => ({ ok: true, passed: 0, failed: 0, output: '', failures: [] }), 'e2e');
      t.equal(record.version, (await compilePolicy(draft)).version);
      for (const r of [a, b]) {
        const running = await until(`replica ${r.name} to run ${record.version}`, async () => {
          const v = (await r.api('GET', '/api/policy/versions')).body;
          return v?.running === record.version ? v : undefined;
        });
        t.equal(running.current, record.version, `replica ${r.name} reports the published version`);
        t.ok(running.history.some((h: { version: string }) => h.version === record.version), `and lists it in its history`);
      }
    });

    await t.test('faults: Redis down, PostgreSQL down → 503 naming it; both recover; records spooled and shipped', async (t) => {
      await redis.stop();
      const limited = await curl(a, token!, `${up}/read`);
      t.equal(limited.status, 503);
      t.match(limited.body, /Redis \(rate limits\) is unreachable/);
      t.match(limited.headers, /content-type: application\/problem\+json/i);
      await redis.start();
      // Redis came back without its data: the drained bucket stays drained (lost, not refilled).
      await until('Redis to be used again', async () => (await curl(b, token!, `${up}/read`)).status === 429 || undefined);

      await pg.stop();
      const down = await curl(b, token!, `${up}/read`);
      t.equal(down.status, 503);
      t.match(down.body, /PostgreSQL \(state store\) is unreachable/);
      await until('the spool of B to hold records', () => fs.existsSync(path.join(b.home, 'audit-spool.jsonl')) || undefined);
      await pg.start();
      await until('requests to pass again on A', async () => (await curl(a, token!, `${up}/read`)).status === 429 || undefined, 30_000);
      await until('the spool of B to be shipped', () => !fs.existsSync(path.join(b.home, 'audit-spool.jsonl')) || undefined, 30_000);
    });

    await t.test('one audit trail: `airlock replay --store` reads every replica\'s records', async (t) => {
      const report = await until('records of both replicas', async () => {
        const { stdout } = await run(process.execPath, [cli, 'replay', '--store', store, '--policy', policyDir, '--against-log', '--json'], { env: { ...process.env }, maxBuffer: 16 * 1024 * 1024 });
        const r = JSON.parse(stdout) as { decided: number };
        return r.decided >= 8 ? r : undefined;
      }, 60_000); // each try starts a CLI: on the loaded suite (five files at once) one took seconds, and 20 s ran out once
      t.ok(report.decided >= 8, `${report.decided} decided requests from both replicas`);
      const filtered = await run(process.execPath, [cli, 'replay', '--store', store, '--policy', policyDir, '--against-log', '--json', '--host', '127.0.0.1', '--since', '1h'], { env: { ...process.env }, maxBuffer: 16 * 1024 * 1024 });
      const cliCount = (JSON.parse(filtered.stdout) as { decided: number }).decided;
      const studio = await a.api('POST', '/api/replay', { source: 'audit', compare: 'recorded', host: '127.0.0.1', since: new Date(Date.now() - 3_600_000).toISOString() });
      t.equal(studio.status, 200, "A's studio replays the shared audit log");
      t.equal(studio.body.report.decided, cliCount, 'with the same filters, the same records as `airlock replay --store`');
      const db = await PgState.open(store, { listen: false });
      t.teardown(() => db.close());
      // The spool ships on its own schedule once the store is back: wait for it, boundedly.
      const byOutcome = await until('the spooled 503s to be shipped', async () => {
        const outcomes = (await db.query<{ outcome: string; n: string }>('SELECT outcome, count(*) AS n FROM audit_log GROUP BY outcome')).rows;
        const counts: Record<string, number> = Object.fromEntries(outcomes.map((o) => [o.outcome, Number(o.n)]));
        return (counts['store-unavailable'] ?? 0) >= 2 ? counts : undefined;
      }).catch(() => ({}) as Record<string, number>);
      t.ok((byOutcome['store-unavailable'] ?? 0) >= 2, 'the 503s while a store was down are in the trail too (spooled, then shipped)');
      t.ok((byOutcome['rate-limited'] ?? 0) >= 2);
    });

    await t.test('a replica killed mid-hold: the approval stays resolvable, the retry works on another replica', async (t) => {
      const c = await startReplica(t, 'c', env, []);
      const body = ['-X', 'POST', '-H', 'content-type: application/json', '--data', '{"to":"y"}'];
      const first = await curl(c, token!, `${up}/send/2`, [...body, '-H', 'Prefer: respond-async, wait=0']);
      t.equal(first.status, 202, 'the agent asks to poll and gets the approval id');
      const id = /airlock-approval-id: (\S+)/i.exec(first.headers)?.[1];
      t.ok(id);
      const polling = curl(c, token!, `${up}/send/2`, [...body, '-H', `Airlock-Approval: ${id}`]);
      await until('the poll to be held on C', async () => (await a.api('GET', `/api/approvals/${id}`)).body?.approval?.held === true);
      c.child.kill('SIGKILL');
      await polling; // the connection is cut
      const r = await a.api('POST', `/api/approvals/${id}/approve`, {});
      t.equal(r.status, 200, 'approved in A\'s studio after C died');
      const retry = await curl(b, token!, `${up}/send/2`, [...body, '-H', `Airlock-Approval: ${id}`]);
      t.equal(retry.status, 200, "the agent's retry passes on B");
      t.equal(upstream.received.filter((x) => x.url === '/send/2').length, 1, 'the request left once');
    });
  });
}
