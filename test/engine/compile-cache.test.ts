// Compiled policies are kept by content (engine/compile-cache.ts): a folder compiled before is not
// given to opa again, and any change anywhere in it, another opa binary or a damaged entry means
// opa compiles afresh. Counted with a wrapper around the real opa binary (AIRLOCK_OPA).
import t from 'tap';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleDir } from '../../lib/bundle.js';
import { compilePolicy, PolicyCompileError } from '../../engine/compile.ts';
import { Evaluator } from '../../engine/evaluator.ts';
import { toolsBin } from '../../engine/toolchain.ts';

const header = 'package airlock\n\nimport rego.v1\n\n';
const realOpa = process.env.AIRLOCK_OPA ?? path.join(toolsBin, 'opa');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-compile-cache-'));
t.teardown(() => fs.rmSync(scratch, { recursive: true, force: true }));
const log = path.join(scratch, 'calls');
const wrapper = path.join(scratch, 'opa');

/**
 * This process's opa: a wrapper around the real one that counts its runs, with a random nonce so
 * that its identity (and so every key) is new in each run. Rewritten, it is another binary.
 */
function newOpa(): void {
  fs.writeFileSync(wrapper, `#!/bin/sh\n# ${crypto.randomBytes(8).toString('hex')}\necho "$1" >> ${JSON.stringify(log)}\nexec ${JSON.stringify(realOpa)} "$@"\n`, { mode: 0o755 });
}
newOpa();
// Set before anything asks for opa (the toolchain keeps the first answer).
process.env.AIRLOCK_OPA = wrapper;
const calls = (kind = 'build'): number => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter((l) => l === kind).length : 0);

async function reason(dir: string): Promise<string> {
  const e = await Evaluator.load(await compilePolicy(dir));
  return (JSON.parse(e.evaluate('{}', 1.7e18)) as [{ result?: { reason: string } }])[0]?.result?.reason ?? '(no decision)';
}

const policy = (why: string): { 'p.rego': string; config: { 'data.json': string } } => ({
  'p.rego': `${header}decision := {"action": "deny", "reason": concat(" ", [data.config.why, "${why}"])}\n`,
  config: { 'data.json': JSON.stringify({ why: 'because' }) },
});

t.test('a folder compiled before is not compiled again; a copy of it elsewhere is the same folder', async (t) => {
  const before = calls();
  const files = policy(crypto.randomUUID());
  const a = t.testdir(files);
  const first = await reason(a);
  t.equal(calls(), before + 1);
  t.equal(await reason(a), first);
  const b = path.join(path.dirname(a), `${path.basename(a)}-copy`);
  fs.cpSync(a, b, { recursive: true });
  t.teardown(() => fs.rmSync(b, { recursive: true, force: true }));
  t.equal(await reason(b), first);
  t.equal(calls(), before + 1, 'no further opa build');
});

t.test('any change in the folder compiles afresh, and the decision is the new policy\'s', async (t) => {
  const tag = crypto.randomUUID();
  const dir = t.testdir(policy(tag));
  t.match(await reason(dir), `because ${tag}`);
  let builds = calls();
  const changes: [string, () => void, string | undefined][] = [
    ['one byte of the rego', () => fs.writeFileSync(path.join(dir, 'p.rego'), fs.readFileSync(path.join(dir, 'p.rego'), 'utf8').replace(tag, `${tag}!`)), `because ${tag}!`],
    ['a data file in a subfolder', () => fs.writeFileSync(path.join(dir, 'config', 'data.json'), JSON.stringify({ why: 'since' })), `since ${tag}!`],
    ['a hidden file added', () => fs.writeFileSync(path.join(dir, '.notes'), 'x'), undefined],
    ['a folder renamed (its data now under data.settings)', () => fs.renameSync(path.join(dir, 'config'), path.join(dir, 'settings')), '(no decision)'],
  ];
  for (const [what, change, expected] of changes) {
    change();
    const got = await reason(dir);
    if (expected) t.equal(got, expected, what);
    t.equal(calls(), builds + 1, `${what}: compiled again`);
    builds = calls();
  }
});

t.test('another opa binary compiles afresh; a damaged entry is not used', async (t) => {
  const dir = t.testdir(policy(crypto.randomUUID()));
  const expected = await reason(dir);
  const builds = calls();
  newOpa();
  t.equal(await reason(dir), expected);
  t.equal(calls(), builds + 1, 'the replaced binary compiled it again');
  // Damage every entry written in the last minute: each is passed over.
  const cache = path.join(bundleDir(), 'policies');
  const recent = fs.readdirSync(cache).filter((f) => f.endsWith('.bin') && Date.now() - fs.statSync(path.join(cache, f)).mtimeMs < 60_000);
  t.ok(recent.length >= 1);
  for (const f of recent) {
    const raw = fs.readFileSync(path.join(cache, f));
    raw[raw.length - 1] = raw[raw.length - 1]! ^ 0x01;
    fs.writeFileSync(path.join(cache, f), raw);
  }
  t.equal(await reason(dir), expected);
  t.equal(calls(), builds + 2, 'compiled again rather than reading the damaged entry');
});

t.test('a policy with a problem is never kept: each compile reports its place', async (t) => {
  const [checks, builds] = [calls('check'), calls()];
  const dir = t.testdir({ 'p.rego': `${header}decision := {"action": "deny",\n` });
  for (let i = 0; i < 2; i++) {
    const err = await compilePolicy(dir).then(() => undefined, (e: unknown) => e);
    t.ok(err instanceof PolicyCompileError);
    t.match((err as PolicyCompileError).problems[0], { file: 'p.rego', line: 6 });
  }
  t.equal(calls('check'), checks + 2, 'opa checked it both times');
  t.equal(calls(), builds, 'nothing was built or kept');
});
