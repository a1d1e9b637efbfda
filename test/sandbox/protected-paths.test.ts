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
