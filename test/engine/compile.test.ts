// Compile errors come back structured (file, line, column, message), never as stack traces.
import t from 'tap';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { compilePolicy, PolicyCompileError } from '../../engine/compile.ts';

const run = promisify(execFile);
const header = 'package airlock\n\nimport rego.v1\n\n';

async function problemsOf(dir: string) {
  try {
    await compilePolicy(dir);
  } catch (err) {
    if (err instanceof PolicyCompileError) return err.problems;
    throw err;
  }
  throw new Error('expected a compile error');
}

t.test('parse error reports file, line and column', async (t) => {
  const dir = t.testdir({ 'base.rego': `${header}decision := {"action": "allow",\n` });
  const [p] = await problemsOf(dir);
  t.equal(p!.file, 'base.rego');
  t.equal(p!.line, 6);
  t.ok(p!.column >= 1);
  t.match(p!.message, /rego_parse_error/);
});

t.test('type error in a nested file is reported at its location', async (t) => {
  const dir = t.testdir({
    'ok.rego': `${header}decision := {"action": "deny", "reason": "x"}\n`,
    services: { 'bad.rego': `package airlock.services\n\nimport rego.v1\n\nx if {\n\tcount(1, 2, 3) > 0\n}\n` },
  });
  const [p] = await problemsOf(dir);
  t.equal(p!.file, 'services/bad.rego');
  t.equal(p!.line, 6);
  t.equal(p!.column, 2);
  t.match(p!.message, /rego_type_error/);
});

t.test('missing folder and folder without rego are clear errors', async (t) => {
  t.match((await problemsOf('/nonexistent/policy'))[0]!.message, /does not exist/);
  t.match((await problemsOf(t.testdir({ 'notes.txt': 'x' })))[0]!.message, /no \.rego files/);
});

t.test('a good policy compiles to WASM with a stable version hash', async (t) => {
  const files = { 'p.rego': `${header}decision := {"action": "deny", "reason": "x"}\n`, 'p_test.rego': `package airlock_test\n` };
  const a = await compilePolicy(t.testdir(files));
  const b = await compilePolicy(t.testdir(files));
  t.equal(a.wasm.subarray(0, 4).toString('latin1'), '\0asm');
  t.equal(a.version, b.version, 'same sources, same version');
  const c = await compilePolicy(t.testdir({ ...files, 'p.rego': files['p.rego'] + '\n' }));
  t.not(a.version, c.version, 'any source change changes the version');
});

t.test('airlock build prints file:line:col: message and exits 1', async (t) => {
  const dir = t.testdir({ 'base.rego': `${header}decision := {\n` });
  const err = await run(process.execPath, ['bin/airlock.js', 'build', '--policy', dir]).then(
    () => undefined,
    (e: { code: number; stderr: string }) => e,
  );
  t.ok(err, 'build fails');
  t.equal(err!.code, 1);
  t.match(err!.stderr, /^\S*base\.rego:6:\d+: rego_parse_error/m);
  // The file name is one a terminal or editor opens from where the command ran.
  const file = /^(\S*base\.rego):6:/m.exec(err!.stderr)![1]!;
  t.equal(path.resolve(file), path.join(dir, 'base.rego'), `${file} names the file from the current folder`);
  t.notMatch(err!.stderr, /at .*\.ts:\d+/, 'no stack trace');
});

t.test('no opa: the compile step (build, test, start, eval) says what to install, not "opa failed"', async (t) => {
  const env = { ...process.env, AIRLOCK_OPA: path.join(t.testdirName, 'no-opa-here') };
  const dir = t.testdir({ 'p.rego': `${header}decision := {"action": "deny", "reason": "x"}\n` });
  const err = await run(process.execPath, ['bin/airlock.js', 'build', '--policy', dir], { env }).then(() => undefined, (e: { code: number; stderr: string }) => e);
  t.equal(err?.code, 1);
  t.match(err?.stderr, /^airlock: AIRLOCK_OPA is set to \S*no-opa-here, which does not exist\n$/);
  t.notMatch(err?.stderr, /opa failed/);
});

// opa compiles the policy the proxy obeys. Where Airlock's tools folder has none, it is looked up on
// PATH, and an agent in `airlock run`'s sandbox writes what the user can: an opa it put in
// ~/.local/bin (first on PATH in most profiles), in a folder others can write, or behind a relative
// PATH entry would build the agent's policy into the next `airlock start`.
t.test('findOpa passes over an opa on PATH that the user (so a sandboxed agent) could have planted', async (t) => {
  // An install without .tools/bin/opa: the real toolchain module in a copy of the project's layout.
  const root = t.testdir({ engine: {}, lib: {}, planted: {}, 'package.json': JSON.stringify({ type: 'module', airlock: { opaVersion: '1.0.0' } }) });
  fs.copyFileSync('engine/toolchain.ts', path.join(root, 'engine', 'toolchain.ts'));
  fs.copyFileSync('lib/plantable.ts', path.join(root, 'lib', 'plantable.ts'));
  const planted = path.join(root, 'planted');
  fs.writeFileSync(path.join(planted, 'opa'), '#!/bin/sh\necho planted\n', { mode: 0o755 });
  // Writable by others (what makes it plantable whoever runs the suite, root included); a folder
  // of the user's own counts the same for a user other than root (lib/plantable.ts).
  fs.chmodSync(planted, 0o777);
  // One child, one PATH per entry.
  const entries = [planted, 'planted', './planted'];
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
    const out = [];
    for (const entry of ${JSON.stringify(entries)}) {
      process.env.PATH = entry + ':/usr/bin:/bin';
      // A fresh module each time: findOpa keeps what it found.
      const m = await import(${JSON.stringify(pathToFileURL(path.join(root, 'engine', 'toolchain.ts')).href)} + '?' + out.length);
      let error; try { m.requireOpa(); } catch (e) { error = e.message; }
      out.push({ found: m.findOpa() ?? null, error });
    }
    console.log(JSON.stringify(out));`], { env: { ...process.env, AIRLOCK_OPA: '' }, cwd: root });
  const results = JSON.parse(stdout) as Array<{ found: string | null; error?: string }>;
  entries.forEach((entry, i) => {
    const r = results[i]!;
    t.not(r.found && path.resolve(root, r.found), path.join(planted, 'opa'), `${entry} first on PATH: its opa is not used`);
    if (!r.found) t.match(r.error, /passed over: your user can write it.*AIRLOCK_OPA/s, 'the refusal says why and what to do');
  });
});

// `npm install` builds opa with Go when none is found (engine/toolchain.ts). Go's settings file
// (~/.config/go/env, `go env -w`) is the user's to write, so a sandboxed agent's: GOTOOLCHAIN=<v>+path
// there made `go` run a `go<v>` it put on PATH.
t.test("Go runs without its settings file: a GOTOOLCHAIN planted there does not run the agent's go", async (t) => {
  const go = ['/usr/local/go/bin/go', '/usr/bin/go'].find((g) => fs.existsSync(g));
  if (!go) return void t.skip('SKIPPED LOUDLY: no Go installed (/usr/local/go/bin/go, /usr/bin/go); this check needs one', () => undefined);
  // Telemetry off in the planted folder too: Go otherwise starts a detached child that writes
  // counters there after `go env` returns, racing the fixture's removal (ENOTEMPTY in CI).
  const dir = t.testdir({ config: { go: { env: 'GOTOOLCHAIN=go1.99.0+path\n', telemetry: { mode: 'off\n' } } }, bin: {} });
  const mark = path.join(dir, 'planted-go-ran');
  fs.writeFileSync(path.join(dir, 'bin', 'go1.99.0'), `#!/bin/sh\ntouch '${mark}'\necho go1.99.0\n`, { mode: 0o755 });
  const { goVersion } = await import('../../engine/toolchain.ts');
  const saved = { XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME, PATH: process.env.PATH };
  process.env.XDG_CONFIG_HOME = path.join(dir, 'config');
  process.env.PATH = `${path.join(dir, 'bin')}:${saved.PATH}`;
  let version;
  try {
    version = goVersion(go);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  t.notOk(fs.existsSync(mark), "the planted go1.99.0 did not run");
  t.ok(version && version[0] === 1 && version[1] < 99, `the installed Go answered (${version?.join('.')})`);
});
