// The sandbox's life: exit codes and signals pass through, and everything the agent started dies
// with it, also when `airlock run` itself is killed.
import t from 'tap';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { eventually, processesWith, runAirlock, startWorld } from './helpers.ts';

const world = await startWorld();
t.teardown(() => world.close());
const base = ['--agent', world.agent, '--home', world.home, '--'];

/** A `sleep` whose argument is unique to this test, so its processes can be found from outside. */
/** airlock run's run folders: in the state folder (which the sandbox hides), `<home>/runs`. */
function runDirs(): string[] {
  const runs = path.join(world.home, 'runs');
  return fs.existsSync(runs) ? fs.readdirSync(runs).filter((d) => d.startsWith('airlock-run-')) : [];
}

function marker(): string {
  return `3${crypto.randomInt(100, 999)}.${crypto.randomInt(100000, 999999)}`;
}


t.test('exit codes pass through', async (t) => {
  const r = await runAirlock([...base, 'sh', '-c', 'exit 42'], { cwd: world.work });
  t.equal(r.code, 42, `the command's exit code (stderr: ${r.stderr.slice(-400)})`);
  const missing = await runAirlock([...base, 'no-such-command-airlock-test'], { cwd: world.work });
  t.equal(missing.code, 127, 'a command that does not exist exits 127');
  const notExecutable = path.join(world.work, 'notes.txt');
  fs.writeFileSync(notExecutable, 'not a program\n');
  const denied = await runAirlock([...base, notExecutable], { cwd: world.work });
  t.equal(denied.code, 126, 'a file that cannot be run exits 126, as in a shell');
  t.match(denied.stderr, `cannot start ${notExecutable}: permission denied (not an executable file)`);
});

t.test('processes the agent leaves behind die when the command exits', async (t) => {
  const m = marker();
  const r = await runAirlock([...base, 'sh', '-c', `sleep ${m} & echo started`], { cwd: world.work });
  t.equal(r.code, 0);
  t.match(r.stdout, /started/);
  t.ok(await eventually(() => processesWith(m).length === 0), 'the background sleep is gone');
});

t.test('SIGTERM to airlock run reaches the command; it and the sandbox go away', async (t) => {
  const trapped = await runAirlock([...base, 'sh', '-c', 'trap "echo got-term; exit 5" TERM; echo ready; i=0; while [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done'], {
    cwd: world.work,
    onSpawn: (child) => child.stdout!.on('data', (c: Buffer) => c.toString().includes('ready') && child.kill('SIGTERM')),
  });
  t.match(trapped.stdout, /got-term/, 'the command received SIGTERM');
  t.equal(trapped.code, 5, 'and its exit code came back');

  const m = marker();
  const killed = await runAirlock([...base, 'sleep', m], {
    cwd: world.work,
    onSpawn: (child) => {
      void eventually(() => processesWith(m, 'sleep').length > 0).then(() => child.kill('SIGTERM'));
    },
  });
  t.equal(killed.signal, 'SIGTERM', 'airlock run dies of the same signal as the command');
  // The bridge's own arguments end with the command, so the marker finds it too.
  t.ok(await eventually(() => processesWith(m).length === 0), 'no process of the run is left, the bridge included');
  t.same(runDirs(), [], 'the run folder is removed');
});

t.test('SIGKILL of airlock run takes the whole sandbox down; the next run sweeps its folder', async (t) => {
  const m = marker();
  const r = await runAirlock([...base, 'sh', '-c', `sleep ${m} & sleep ${m}`], {
    cwd: world.work,
    onSpawn: (child) => {
      void eventually(() => processesWith(m, 'sleep').length >= 2).then(() => child.kill('SIGKILL'));
    },
  });
  t.equal(r.signal, 'SIGKILL');
  t.ok(await eventually(() => processesWith(m).length === 0), 'the command and its children are gone');
  t.equal(runDirs().length, 1, 'a killed run leaves its run folder behind');
  const next = await runAirlock([...base, 'true'], { cwd: world.work });
  t.equal(next.code, 0);
  t.same(runDirs(), [], 'the next run removed it');
});

t.test('SIGKILL of airlock run while the sandbox is still starting leaves nothing behind', async (t) => {
  const m = marker();
  const r = await runAirlock([...base, 'sleep', m], {
    cwd: world.work,
    onSpawn: (child) => {
      void eventually(() => processesWith(m, 'bwrap').length > 0, { tries: 4000, everyMs: 5 }).then(() => child.kill('SIGKILL'));
    },
  });
  t.equal(r.signal, 'SIGKILL');
  t.ok(await eventually(() => processesWith(m).length === 0), 'bubblewrap, the bridge and the command are gone');
});
