// The sandbox's life: exit codes and signals pass through, and everything the agent started dies
// with it, also when `airlock run` itself is killed.
import t from 'tap';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { eventually, processesWith, runAirlock, startWorld } from './helpers.ts';

const world = await startWorld();
t.teardown(() => world.close());
const base = ['--agent', world.agent, '--home', world.home, '--'];

/** A `sleep` whose argument is unique to this test, so its processes can be found from outside. */
function marker(): string {
  return `3${crypto.randomInt(100, 999)}.${crypto.randomInt(100000, 999999)}`;
}

function runDirs(): string[] {
  return fs.readdirSync(os.tmpdir()).filter((d) => d.startsWith('airlock-run-') && !d.startsWith('airlock-run-test-'));
}

t.test('exit codes pass through', async (t) => {
  const r = await runAirlock([...base, 'sh', '-c', 'exit 42'], { cwd: world.work });
  t.equal(r.code, 42);
  const missing = await runAirlock([...base, 'no-such-command-airlock-test'], { cwd: world.work });
  t.equal(missing.code, 127, 'a command that does not exist exits 127');
});

t.test('processes the agent leaves behind die when the command exits', async (t) => {
  const m = marker();
  const r = await runAirlock([...base, 'sh', '-c', `sleep ${m} & echo started`], { cwd: world.work });
  t.equal(r.code, 0);
  t.match(r.stdout, /started/);
  t.ok(await eventually(() => processesWith(m).length === 0), 'the background sleep is gone');
});

t.test('SIGTERM to airlock run reaches the command; it and the sandbox go away', async (t) => {
  const before = runDirs();
  const trapped = await runAirlock([...base, 'sh', '-c', 'trap "echo got-term; exit 5" TERM; echo ready; i=0; while [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done'], {
    cwd: world.work,
    onSpawn: (child) => child.stdout!.on('data', (c: Buffer) => c.toString().includes('ready') && child.kill('SIGTERM')),
  });
  t.match(trapped.stdout, /got-term/, 'the command received SIGTERM');
  t.equal(trapped.code, 5, 'and its exit code came back');

  const m = marker();
  const killed = await runAirlock([...base, 'sleep', m], {
    cwd: world.work,
    onSpawn: (child) => {
      void eventually(() => processesWith(m).length > 0).then(() => child.kill('SIGTERM'));
    },
  });
  t.equal(killed.signal, 'SIGTERM', 'airlock run dies of the same signal as the command');
  t.ok(await eventually(() => processesWith(m).length === 0), 'no process of the run is left');
  t.ok(await eventually(() => processesWith('inside.mjs').length === 0), 'the bridge is gone');
  t.same(runDirs().filter((d) => !before.includes(d)), [], 'the run folder is removed');
});

t.test('SIGKILL of airlock run takes the whole sandbox down', async (t) => {
  const m = marker();
  const r = await runAirlock([...base, 'sh', '-c', `sleep ${m} & sleep ${m}`], {
    cwd: world.work,
    onSpawn: (child) => {
      void eventually(() => processesWith(m).length >= 2).then(() => child.kill('SIGKILL'));
    },
  });
  t.equal(r.signal, 'SIGKILL');
  t.ok(await eventually(() => processesWith(m).length === 0), 'the command and its children are gone');
});
