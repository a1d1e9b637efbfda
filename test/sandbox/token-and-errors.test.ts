// `airlock run`'s edges: the per-run token lives only as long as the run and never appears in a
// process's arguments; a machine without namespaces, a stopped Airlock, an unknown agent and a
// working directory inside the state folder each get one clear line.
import t from 'tap';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { AgentStore } from '../../state/agents.ts';
import { eventually, processesWith, runAirlock, startWorld } from './helpers.ts';

const world = await startWorld();
t.teardown(() => world.close());
const base = ['--agent', world.agent, '--home', world.home, '--'];

t.test('the per-run token: never in arguments, valid during the run, revoked after it', async (t) => {
  const out = path.join(world.dir, 'proxy-url.txt');
  const go = path.join(world.dir, 'go');
  let seenInArgv: number[] = [];
  let validDuring = false;
  let token = '';
  let leaked: Record<string, number> = {};
  const hitsBefore = world.http.hits.length;
  const r = await runAirlock([...base, 'sh', '-c', `printf %s "$HTTPS_PROXY" > ${out}; i=0; while [ ! -e ${go} ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done`], {
    cwd: world.work,
    onSpawn: () => {
      void (async () => {
        await eventually(() => fs.existsSync(out) && fs.readFileSync(out, 'utf8').length > 0);
        const url = new URL(fs.readFileSync(out, 'utf8'));
        token = decodeURIComponent(url.password);
        seenInArgv = processesWith(token);
        validDuring = (await (await AgentStore.open(world.home)).authenticate(world.agent, token)) !== undefined;
        // Thirteenth pass: the run's token, leaked, worked on Airlock's TCP port (any local user,
        // container or page reaches it). Now only over the Unix socket the run relays to.
        const auth = `Basic ${Buffer.from(`${world.agent}:${token}`).toString('base64')}`;
        const via = (o: http.RequestOptions): Promise<number> => new Promise((resolve) => {
          const req = http.request({ ...o, headers: { ...o.headers, 'proxy-authorization': auth } });
          req.on('response', (res) => (res.resume(), resolve(res.statusCode ?? 0)));
          req.on('connect', (res, sock) => (sock.destroy(), resolve(res.statusCode ?? 0)));
          req.on('error', () => resolve(-1));
          req.end();
        });
        const target = `http://allowed.test:${world.http.port}/leaked-token`;
        leaked = {
          tcp: await via({ host: world.airlock.proxyAddress.host, port: world.airlock.proxyAddress.port, path: target, headers: { host: `allowed.test:${world.http.port}` } }),
          connect: await via({ host: world.airlock.proxyAddress.host, port: world.airlock.proxyAddress.port, method: 'CONNECT', path: `allowed.test:${world.https.port}` }),
          unix: await via({ socketPath: world.airlock.socketPath!, path: `http://allowed.test:${world.http.port}/over-the-socket`, headers: { host: `allowed.test:${world.http.port}` } }),
        };
        fs.writeFileSync(go, '');
      })();
    },
  });
  t.equal(r.code, 0);
  t.ok(token.length >= 40, 'the agent got a token in its proxy URL');
  t.same(seenInArgv, [], 'no process has the token in its arguments');
  t.ok(validDuring, 'the token authenticates while the run lasts');
  t.ok(token.startsWith('unix.'), 'the run\'s token is marked as the Unix socket\'s');
  t.same(leaked, { tcp: 407, connect: 407, unix: 200 }, 'the leaked token is refused on the TCP port (a request, a CONNECT) and works through the Unix socket');
  const hits = world.http.hits.slice(hitsBefore).map((h) => h.url);
  t.notOk(hits.includes('/leaked-token'), 'the request with the leaked token never reached the upstream');
  t.ok(hits.includes('/over-the-socket'), 'control: the one through the socket did');
  const refused = fs.readFileSync(path.join(world.home, 'audit.jsonl'), 'utf8').split('\n').filter((l) => l.includes('works only through Airlock\'s Unix socket'));
  t.equal(refused.length, 2, 'both refusals are audited, saying why');
  t.equal(await (await AgentStore.open(world.home)).authenticate(world.agent, token), undefined, 'the token is revoked after the run');
});

t.test('without namespaces: a plain refusal unless --no-sandbox', async (t) => {
  const env = { ...process.env, AIRLOCK_BWRAP: '/nonexistent/bwrap' };
  const hitsBefore = world.http.hits.length;
  const refused = await runAirlock([...base, 'curl', '-s', `http://allowed.test:${world.http.port}/should-not-run`], { cwd: world.work, env });
  t.equal(refused.code, 1);
  t.match(refused.stderr, /cannot confine the agent to a network sandbox: AIRLOCK_BWRAP=\/nonexistent\/bwrap is not an executable/);
  t.match(refused.stderr, /--no-sandbox/);
  t.notMatch(refused.stderr, /\n\s+at /, 'no stack trace');
  t.equal(world.http.hits.length, hitsBefore, 'the command did not run');

  const allowed = await runAirlock(['--no-sandbox', ...base, 'curl', '-s', `http://allowed.test:${world.http.port}/env-only`], { cwd: world.work, env });
  t.equal(allowed.code, 0);
  t.match(allowed.stderr, /warning: --no-sandbox/);
  t.match(allowed.stdout, /upstream saw GET \/env-only/);
});

t.test('clear errors: Airlock not running, unknown agent, cwd inside the state folder', async (t) => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-test-empty-'));
  t.teardown(() => fs.rmSync(empty, { recursive: true, force: true, maxRetries: 10 }));
  const notRunning = await runAirlock(['--agent', 'bot', '--home', empty, '--', 'true'], { cwd: world.work });
  t.equal(notRunning.code, 1);
  t.match(notRunning.stderr, /Airlock is not running .*start it with: airlock start/);

  const unknown = await runAirlock(['--agent', 'nobody', '--home', world.home, '--', 'true'], { cwd: world.work });
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /no agent named nobody/);

  const inside = await runAirlock([...base, 'true'], { cwd: world.home });
  t.equal(inside.code, 1);
  t.match(inside.stderr, /inside the state folder/);
});
