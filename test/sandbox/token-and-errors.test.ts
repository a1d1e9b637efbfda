// `airlock run`'s edges: the per-run token lives only as long as the run and never appears in a
// process's arguments; a machine without namespaces, a stopped Airlock, an unknown agent and a
// working directory inside the state folder each get one clear line.
import t from 'tap';
import fs from 'node:fs';
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
  const r = await runAirlock([...base, 'sh', '-c', `printf %s "$HTTPS_PROXY" > ${out}; i=0; while [ ! -e ${go} ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done`], {
    cwd: world.work,
    onSpawn: () => {
      void (async () => {
        await eventually(() => fs.existsSync(out) && fs.readFileSync(out, 'utf8').length > 0);
        const url = new URL(fs.readFileSync(out, 'utf8'));
        token = decodeURIComponent(url.password);
        seenInArgv = processesWith(token);
        validDuring = (await (await AgentStore.open(world.home)).authenticate(world.agent, token)) !== undefined;
        fs.writeFileSync(go, '');
      })();
    },
  });
  t.equal(r.code, 0);
  t.ok(token.length >= 40, 'the agent got a token in its proxy URL');
  t.same(seenInArgv, [], 'no process has the token in its arguments');
  t.ok(validDuring, 'the token authenticates while the run lasts');
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
  t.teardown(() => fs.rmSync(empty, { recursive: true, force: true }));
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
