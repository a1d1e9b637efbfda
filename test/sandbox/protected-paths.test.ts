// `airlock run` keeps read-only, for a sandboxed agent, what a later `airlock start` would obey:
// the running Airlock's policy folder (from its runtime.json) and Airlock's own folder. The
// sandbox side (bind mounts) is checked by confinement.test.ts.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { protectedPaths } from '../../cli/commands/run.ts';
import { projectRoot } from '../../engine/toolchain.ts';
import { writeRuntimeInfo } from '../../runtime/running.ts';
import { tempDir } from '../temp-dir.ts';

const root = path.resolve(projectRoot);

t.test('the running policy folder and every code entry of Airlock\'s folder', async (t) => {
  const home = tempDir(t);
  const policy = path.join(tempDir(t), 'my-policy');
  fs.mkdirSync(policy);
  const remove = writeRuntimeInfo(home, { proxy: { host: '127.0.0.1', port: 1 } }, policy);
  t.teardown(remove);
  const work = tempDir(t);
  const p = protectedPaths(home, work);
  t.ok(p.includes(policy), 'the policy folder the running Airlock loaded');
  for (const e of ['bin', 'engine', 'proxy', 'node_modules', 'package.json', 'rego']) {
    if (fs.existsSync(path.join(root, e))) t.ok(p.includes(path.join(root, e)), `${e} of Airlock's folder`);
  }
  t.notOk(p.includes(path.join(root, '.tap')), 'not the test runner\'s output folder');
  t.notOk(p.some((x) => x === work || work.startsWith(`${x}${path.sep}`)), 'not the working directory');
});

t.test('a working directory inside Airlock\'s folder keeps its own entry writable', async (t) => {
  const home = tempDir(t);
  // The checkout's git folders get a `commondir` for the run (see gitControlPaths): taken away here.
  const made: string[] = [];
  t.teardown(() => {
    for (const f of made) fs.rmSync(f, { force: true });
  });
  const p = protectedPaths(home, path.join(root, 'test', 'sandbox'), made);
  t.notOk(p.includes(path.join(root, 'test')), 'the entry holding the working directory');
  t.ok(p.includes(path.join(root, 'bin')), 'the others stay protected');
  t.notOk(p.some((x) => x.startsWith(home)), 'no policy when no Airlock runs on the folder');
});

t.test('seventeenth pass: the policy folder every state folder of the user starts with, running or not', async (t) => {
  const { knownPolicies } = await import('../../cli/commands/run.ts');
  const state = tempDir(t);
  const saved = process.env.XDG_STATE_HOME;
  process.env.XDG_STATE_HOME = state;
  t.teardown(() => {
    if (saved === undefined) delete process.env.XDG_STATE_HOME;
    else process.env.XDG_STATE_HOME = saved;
  });
  const home = tempDir(t);
  // Another project, Airlock's default layout: `.airlock` beside `rego`, stopped.
  const other = tempDir(t);
  fs.mkdirSync(path.join(other, '.airlock'));
  fs.writeFileSync(path.join(other, '.airlock', 'agents.json'), '{}');
  fs.mkdirSync(path.join(other, 'rego'));
  // A third, started with `--policy` elsewhere, now stopped: its last policy was recorded.
  const third = tempDir(t);
  const thirdPolicy = path.join(tempDir(t), 'team-policy');
  fs.mkdirSync(thirdPolicy);
  writeRuntimeInfo(third, { proxy: { host: '127.0.0.1', port: 1 } }, thirdPolicy)();
  fs.mkdirSync(path.join(state, 'airlock'), { recursive: true });
  fs.writeFileSync(path.join(state, 'airlock', 'state-folders'), `${path.join(other, '.airlock')}\n${third}\n`);
  const work = tempDir(t);
  const p = protectedPaths(home, work);
  t.ok(p.includes(path.join(other, 'rego')), 'another project\'s rego beside its .airlock');
  t.ok(p.includes(thirdPolicy), 'the policy a stopped Airlock last loaded');
  t.notOk(knownPolicies(home, path.join(other, 'rego', 'sub')).includes(path.join(other, 'rego')), 'never one holding the working directory');
});
