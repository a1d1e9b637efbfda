// Reading the real credential back from a service that keeps what it received longer than one
// Airlock process lives, or through another replica. The service (test/attacks/readback-service.ts)
// records every request and shows the record back on /log, in the representation and charset
// asked for, under the name it was sent to or (?all=1) under any name its server answers to.
//   - restart: the credential is injected (Bearer header, Basic pair, query key), Airlock is
//     stopped and started again on the same state folder, and the agent reads the record back on
//     requests that inject nothing — before any new injection there
//   - replicas: two replicas on one PostgreSQL; the credential is injected through A and read back
//     through B at once, and through C, a replica started afterwards
//   - the ledger's bounds: a torn or damaged journal, more places than the bound
// Whatever reaches the agent is read with the suite's brute-force oracle (spelling-oracle.ts).
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import fc from 'fast-check';
import t, { type Test } from 'tap';
import { InjectedHosts } from '../../proxy/injected-hosts.ts';
import { startAirlock, startReplica, type Airlock } from '../../runtime/airlock.ts';
import type { Services } from '../../runtime/services.ts';
import { INJECTED_FILE, InjectionJournal } from '../../state/injected-places.ts';
import type { PgSecretVault } from '../../state/postgres/secrets.ts';
import { SecretStore } from '../../state/secrets/store.ts';
import { missingPostgres, startPostgres } from '../helpers/pg-redis.ts';
import { until } from '../helpers/until.ts';
import { fixtures, startUpstream, tempDir } from './helpers.ts';
import { formats, readbackService, type Service } from './readback-service.ts';
import { reveal } from './spelling-oracle.ts';

process.env.AIRLOCK_MASTER_KEY ??= '3c'.repeat(32);
const numRuns = Number(process.env.AIRLOCK_FUZZ_RUNS_LIVE ?? 24);
const seed = process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {};

const SECRET = 'sk_live_Pers1st/Canary+Key=&<x>%~0123456789';
const hosts = ['svc.example', 'basic.example', 'query.example', 'other.example'];
const policy = path.join(fixtures, 'readback');

/** A service of its own for each test: its log holds only what that test's Airlock sent it. */
async function freshService(t: Test): Promise<{ service: Service; origin: (host: string) => string; network: { resolve: string[]; allowPrivate: string[] } }> {
  const service = readbackService();
  const up = await startUpstream(t, { handler: service.handler });
  return { service, origin: (host) => `http://${host}:${up.port}`, network: { resolve: hosts.map((h) => `${h}=127.0.0.1`), allowPrivate: [`127.0.0.1:${up.port}`] } };
}

interface Got { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

function send(port: number, auth: string, url: string, headers: Array<[string, string]> = []): Promise<Got> {
  return new Promise((resolve, reject) => {
    const raw: string[] = ['Host', new URL(url).host, 'Proxy-Authorization', `Basic ${Buffer.from(auth).toString('base64')}`];
    for (const [k, v] of headers) raw.push(k, v);
    const req = http.request({ host: '127.0.0.1', port, path: url, headers: raw, agent: false, setHost: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.end();
  });
}

const seen = (g: Got): Buffer => Buffer.concat([Buffer.from(Object.entries(g.headers).map(([k, v]) => `${k}: ${String(v)}\n`).join(''), 'latin1'), g.body]);

/** The injecting requests: the service records Authorization (Bearer, Basic) and the URL (query key). */
async function injectAll(origin: (host: string) => string, port: number, auth: string, placeholder: string): Promise<void> {
  for (const [host, headers] of [
    ['svc.example', [['Authorization', `Bearer ${placeholder}`]]],
    ['basic.example', [['Authorization', `Basic ${Buffer.from(`user:${placeholder}`).toString('base64')}`]]],
    ['query.example', []],
  ] as Array<[string, Array<[string, string]>]>) {
    const r = await send(port, auth, `${origin(host)}/api/x${host === 'query.example' ? `?key=${encodeURIComponent(placeholder)}` : ''}`, headers);
    if (r.status !== 200) throw new Error(`control injection to ${host} failed: ${r.status} ${r.body.toString()}`);
  }
}

/** Read-back requests that inject nothing: the record under each name, or under any name (?all=1), in any representation and charset. */
const readBack = fc.record({
  host: fc.constantFrom(...hosts),
  format: fc.constantFrom(...formats),
  charset: fc.constantFrom('utf-8', 'utf-16le', 'iso-8859-1', undefined),
});

async function readsNothing(t: Test, origin: (host: string) => string, port: number, auth: string, label: string, runs = numRuns): Promise<void> {
  let leaked = 0;
  await fc.assert(fc.asyncProperty(readBack, async ({ host, format, charset }) => {
    const url = `${origin(host)}/log?all=1&format=${format}`;
    const r = await send(port, auth, url, charset ? [['Accept-Charset', charset]] : []);
    const found = reveal(seen(r), SECRET);
    if (found) {
      leaked++;
      throw new Error(`${label}: ${url} (${charset ?? 'no charset'}) showed the value back (${found}): ${r.status}`);
    }
  }), { numRuns: runs, ...seed });
  t.equal(leaked, 0, `${label}: no read-back showed the value`);
}

t.test('restart: what a service recorded before Airlock restarted is scrubbed after it, before any new injection', async (t) => {
  const { service, origin, network } = await freshService(t);
  const home = tempDir(t, 'airlock-home-');
  const placeholder = (await (await SecretStore.open(home)).set('api', SECRET)).placeholder;
  const start = (): Promise<Airlock> => startAirlock({ studio: false, unixSocket: false, proxy: '127.0.0.1:0', threads: 1, home, policy, ...network });
  const first = await start();
  let firstOpen = true;
  t.teardown(() => (firstOpen ? first.close() : undefined));
  const { token } = await first.agents.add('attacker');
  const auth = `attacker:${token}`;
  await injectAll(origin, first.proxyAddress.port, auth, placeholder);
  t.ok(service.log('svc.example').some((r) => r.headers.some(([, v]) => v === `Bearer ${SECRET}`)), 'the service recorded the real value');
  await first.close();
  firstOpen = false;

  const again = await start();
  t.teardown(() => again.close());
  await readsNothing(t, origin, again.proxyAddress.port, auth, 'after the restart');
  // The control: injection and legitimate answers still work.
  const echo = await send(again.proxyAddress.port, auth, `${origin('svc.example')}/api/echo`, [['Authorization', `Bearer ${placeholder}`]]);
  t.equal(echo.status, 200);
  t.equal(reveal(seen(echo), SECRET), undefined, 'the echo is scrubbed');
  t.match(echo.body.toString(), placeholder, 'the agent sees its placeholder');
  const journal = fs.readFileSync(path.join(home, INJECTED_FILE), 'utf8');
  t.notOk(journal.includes(SECRET) || journal.includes(Buffer.from(`user:${SECRET}`).toString('base64')) || journal.includes(encodeURIComponent(SECRET)), 'the journal holds no form of the value');
  t.equal(fs.statSync(path.join(home, INJECTED_FILE)).mode & 0o777, 0o600);
});

t.test('the journal: a torn last line is dropped; a damaged line means every secret everywhere; past the bound, everywhere', async (t) => {
  const home = tempDir(t, 'airlock-journal-');
  const file = path.join(home, INJECTED_FILE);
  const source = { generation: 0, valueOf: (n: string) => (n === 'api' ? SECRET : undefined), placeholderOf: () => 'PH', names: () => ['api'] };
  fs.writeFileSync(file, `${JSON.stringify({ place: 'a.example', secret: 'api', form: 'value' })}\n{"place":"b.exa`);
  let j = await InjectionJournal.open(home);
  t.same(j.pairs(), [{ place: 'a.example', secret: 'api', form: 'value' }], 'the torn tail is dropped');
  await j.record([{ place: 'c.example', secret: 'api', form: 'value' }]);
  await j.close();
  t.equal(fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).length, 2, 'the next line starts on a line of its own');
  fs.appendFileSync(file, 'not json\n');
  const warnings: string[] = [];
  j = await InjectionJournal.open(home, { warn: (l) => warnings.push(l) });
  t.match(warnings.join(), /cannot be read/);
  const hosts = new InjectedHosts(source, j);
  t.ok(hosts.has('never.example'), 'a damaged journal: every host is scrubbed');
  t.equal(hosts.scrubberFor('never.example')!.scrubString(`x${SECRET}x`), 'xPHx');
  await j.close();

  const home2 = tempDir(t, 'airlock-journal-');
  j = await InjectionJournal.open(home2);
  const many = new InjectedHosts(source, j);
  await Promise.all(Array.from({ length: 1025 }, (_, i) => many.remember(`h${i}.example`, [{ secret: 'api', value: SECRET, form: 'value' }])));
  await j.close();
  j = await InjectionJournal.open(home2);
  t.ok(j.pairs().some((p) => p.place === '*'), 'past the bound the ledger records everywhere');
  t.ok(new InjectedHosts(source, j).has('unseen.example'), 'and a restart scrubs every host');
  await j.close();
});

if (missingPostgres()) {
  t.comment(`SKIPPING the replica read-back tests: ${missingPostgres()}`);
} else {
  t.test('replicas: injected through A, read back through B at its very next request, and through C started later', async (t) => {
    const master = process.env.AIRLOCK_MASTER_KEY;
    process.env.AIRLOCK_MASTER_KEY = crypto.randomBytes(32).toString('hex');
    t.teardown(() => { process.env.AIRLOCK_MASTER_KEY = master; });
    const [pg, { origin, network }] = await Promise.all([startPostgres(t), freshService(t)]);
    const store = await pg.createDatabase('readback');
    const replica = async (name: string): Promise<Airlock<Services>> => {
      const r = await startReplica({ home: tempDir(t, `al-rb-${name}-`), policy, proxy: '127.0.0.1:0', studio: false, unixSocket: false, store, threads: 1, ...network });
      t.teardown(() => r.close());
      return r;
    };
    const [a, b] = await Promise.all([replica('a'), replica('b')]);
    const placeholder = (await (a.secrets.store as PgSecretVault).set('api', SECRET)).placeholder;
    await until('B to know the secret', async () => { await b.secrets.refresh(); return b.secrets.finder.placeholderOf('api'); });
    const { token } = await a.agents.add('attacker');
    const auth = `attacker:${token}`;
    // Each read-back goes to B right after the injection through A answered: B reads what the
    // table holds before it forwards, whether or not A's notice has arrived. To show that, B does
    // not hear the notices at all (its ledger's subscription to them is cut).
    (b.injections as unknown as { stops: Array<() => void> }).stops[0]!();
    let leaked = 0;
    for (const host of ['svc.example', 'basic.example', 'query.example']) {
      const headers: Array<[string, string]> = host === 'svc.example' ? [['Authorization', `Bearer ${placeholder}`]]
        : host === 'basic.example' ? [['Authorization', `Basic ${Buffer.from(`user:${placeholder}`).toString('base64')}`]] : [];
      const injected = await send(a.proxyAddress.port, auth, `${origin(host)}/api/${host}${host === 'query.example' ? `?key=${encodeURIComponent(placeholder)}` : ''}`, headers);
      t.equal(injected.status, 200, `injected into ${host} through A`);
      for (const via of [host, 'other.example']) {
        const r = await send(b.proxyAddress.port, auth, `${origin(via)}/log?all=1&format=hex`);
        const found = reveal(seen(r), SECRET);
        if (found) {
          leaked++;
          t.comment(`leak: injected ${host}, read through B via ${via}: ${found}`);
        }
      }
    }
    t.equal(leaked, 0, 'B scrubbed every read-back of what A injected, under the name and under another name of the same server');
    await readsNothing(t, origin, b.proxyAddress.port, auth, 'through B', Math.ceil(numRuns / 2));
    const c = await replica('c');
    await readsNothing(t, origin, c.proxyAddress.port, auth, 'through C, started after the injections', Math.ceil(numRuns / 2));
  });
}
