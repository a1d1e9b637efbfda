// The sandbox's life: exit codes and signals pass through, and everything the agent started dies
// with it, also when `airlock run` itself is killed.
import t from 'tap';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
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

t.test('a hidden path that vanishes before bubblewrap mounts over it leaves nothing behind on the host', async (t) => {
  // Nineteenth pass (left open by the eighteenth): `airlock run` lists what to hide, then starts
  // bubblewrap, which makes a missing mount point itself — on the host, since the sandbox's root is
  // the host's: an empty read-only file where a ticket cache, a history or a `--hide` path was
  // removed in between (a temp cleaner, another test's teardown), which the user's tools then could
  // not write. A bubblewrap that removes the file first stands in for that race.
  const dir = fs.mkdtempSync(path.join(world.dir, 'vanish-'));
  const file = path.join(dir, 'gone.txt');
  fs.writeFileSync(file, 'secret\n');
  const real = fs.realpathSync(execFileSync('sh', ['-c', 'command -v bwrap'], { encoding: 'utf8' }).trim());
  const wrapper = path.join(world.dir, 'bwrap-racing');
  fs.writeFileSync(wrapper, `#!/bin/sh\ncase "$*" in *${file}*) rm -f ${file} ;; esac\nexec ${real} "$@"\n`, { mode: 0o755 });
  const r = await runAirlock(['--agent', world.agent, '--home', world.home, '--hide', file, '--', 'sh', '-c', 'echo ran=yes'], { cwd: world.work, env: { ...process.env, AIRLOCK_BWRAP: wrapper } });
  t.match(r.stdout, /ran=yes/, `the agent ran (${r.stderr.slice(-300)})`);
  t.notOk(fs.existsSync(file), 'no file is left where the hidden file was');
  // Its own name only: the other Airlock state folders on the machine are hidden too, and a test
  // running beside this one makes and removes its own (reported, rightly, when replaced meanwhile).
  t.notOk(r.stderr.includes(`${file} was replaced on the host`), 'nor is it reported as replaced by the host');
  // Control: a file the host put there during the run is still named, and left.
  fs.writeFileSync(file, 'old\n');
  const started = path.join(world.work, 'started-vanish');
  const swap = await runAirlock(['--agent', world.agent, '--home', world.home, '--hide', file, '--', 'sh', '-c', `touch ${started}; i=0; while [ ! -e ${started}.done ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done`], {
    cwd: world.work,
    onSpawn: () => void eventually(() => fs.existsSync(started)).then(() => {
      fs.writeFileSync(`${file}.new`, 'new\n');
      fs.renameSync(`${file}.new`, file);
      fs.writeFileSync(`${started}.done`, '');
    }),
  });
  t.match(swap.stderr, /gone\.txt was replaced on the host during the run/, 'a file the host replaced is named');
  t.equal(fs.readFileSync(file, 'utf8'), 'new\n', 'and left as the host wrote it');
});

t.test('where statx is refused, a hidden folder written to during the run is not named as replaced; one replaced still is', async (t) => {
  // Without statx (older kernels, some container sandboxes) libuv falls back to stat and reports the
  // change time as the birth time: every file made in a hidden folder (another Airlock's state
  // folder in use beside the run) read as a new folder in its place, and a cache was set aside. The
  // real kernel refuses statx here through strace's fault injection, for airlock run's own thread.
  const node = path.join(world.dir, 'node-without-statx');
  fs.writeFileSync(node, `#!/bin/sh\nexec strace -qq -o /dev/null -e trace=statx -e inject=statx:error=ENOSYS ${process.execPath} "$@"\n`, { mode: 0o755 });
  const kept = fs.mkdtempSync(path.join(world.dir, 'kept-'));
  const swapped = fs.mkdtempSync(path.join(world.dir, 'swapped-'));
  const started = path.join(world.work, 'started-nostatx');
  const r = await runAirlock(['--agent', world.agent, '--home', world.home, '--hide', kept, '--hide', swapped, '--', 'sh', '-c', `touch ${started}; i=0; while [ ! -e ${started}.done ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; echo ran=yes`], {
    cwd: world.work,
    node,
    onSpawn: () => void eventually(() => fs.existsSync(started)).then(() => {
      // Well past the file system's clock tick, so that the change times move.
      setTimeout(() => {
        fs.writeFileSync(path.join(kept, 'written-meanwhile'), 'x\n');
        fs.renameSync(swapped, `${swapped}.old`);
        fs.mkdirSync(swapped);
        fs.writeFileSync(`${started}.done`, '');
      }, 50);
    }),
  });
  t.match(r.stdout, /ran=yes/, `the agent ran (${r.stderr.slice(-300)})`);
  t.notOk(r.stderr.includes(`${kept} was replaced on the host`), `a folder only written to is not named (${r.stderr.slice(-400)})`);
  t.ok(r.stderr.includes(`${swapped} was replaced on the host`), 'a folder replaced is named');
});
