// The shipped policies must be formatted, strict-clean and pass their own `opa test` suite:
// this is how `npm test` enforces the Rego quality bar on rego/.
import t from 'tap';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { projectRoot, requireOpa } from '../../engine/toolchain.ts';

const run = promisify(execFile);
const regoDir = path.join(projectRoot, 'rego');

async function opa(args: string[]): Promise<{ ok: boolean; out: string }> {
  try {
    const r = await run(requireOpa(), args, { cwd: projectRoot, maxBuffer: 16 * 1024 * 1024, timeout: 60_000 });
    return { ok: true, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return { ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message };
  }
}

t.test('opa fmt: every rego file is formatted', async (t) => {
  const r = await opa(['fmt', '--list', '--fail', regoDir]);
  t.ok(r.ok, `unformatted files (run \`opa fmt -w rego\`):\n${r.out}`);
  t.equal(r.out.trim(), '', 'no file listed');
});

t.test('opa check --strict is clean', async (t) => {
  const r = await opa(['check', '--strict', regoDir]);
  t.ok(r.ok, r.out);
});

t.test('opa test passes and covers every module', async (t) => {
  const r = await opa(['test', '--format', 'json', '--timeout=30s', regoDir]);
  t.ok(r.ok, r.out.slice(0, 20_000));
  const results = JSON.parse(r.out) as Array<{ package: string; name: string; fail?: boolean; error?: unknown; location: { file: string } }>;
  t.ok(results.length >= 50, `ran ${results.length} tests`);
  const failed = results.filter((x) => x.fail || x.error).map((x) => `${x.package}.${x.name}`);
  t.same(failed, [], 'no failing test');
  // Every policy module has a test file beside it.
  const { listPolicyFiles } = await import('../../engine/compile.ts');
  const modules = listPolicyFiles(regoDir).filter((f) => f.endsWith('.rego') && !f.endsWith('_test.rego'));
  const tested = new Set(results.map((x) => path.relative(regoDir, path.resolve(projectRoot, x.location.file))));
  for (const m of modules) t.ok(tested.has(m.replace(/\.rego$/, '_test.rego')), `${m} has tests in ${m.replace(/\.rego$/, '_test.rego')}`);
});
