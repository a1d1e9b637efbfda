// lib/bundle.js: what the evaluation threads and `airlock start` run from. A bundle is rebuilt
// whenever a file it was built from changes (content, not time: an edit that keeps the size and
// the modification time is seen too), a build that fails says where, processes that start at once
// each get a whole bundle, files found beside a module are found from the bundle too, a program
// keeps the bundle it started with, and the evaluation threads run the bundle of the engine's
// current sources.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { bundleDir, ensureBundle, keepBundle } from '../../lib/bundle.js';
import { evalWorkerScript } from '../../engine/eval-worker-script.ts';
import { tempDir } from '../temp-dir.ts';

const repo = path.resolve(import.meta.dirname, '..', '..');

/** A project of three files: main.ts imports dep.ts statically and later.ts dynamically; data.txt sits beside dep.ts. */
function project(t: Parameters<typeof tempDir>[0]): string {
  const root = tempDir(t, 'airlock-bundle-');
  fs.writeFileSync(path.join(root, 'tsconfig.json'), '{ "compilerOptions": { "strict": true } }\n');
  fs.mkdirSync(path.join(root, 'src'));
  fs.writeFileSync(path.join(root, 'src', 'main.ts'), [
    "import { value, beside } from './dep.ts';",
    'export const answer = (): string => `${value}:${beside()}`;',
    "export const later = async (): Promise<string> => (await import('./later.ts')).word;",
    '',
  ].join('\n'));
  fs.writeFileSync(path.join(root, 'src', 'dep.ts'), [
    "import fs from 'node:fs';",
    "export const value: string = 'one';",
    "export const beside = (): string => fs.readFileSync(new URL('./data.txt', import.meta.url), 'utf8').trim();",
    '',
  ].join('\n'));
  fs.writeFileSync(path.join(root, 'src', 'data.txt'), 'found\n');
  fs.writeFileSync(path.join(root, 'src', 'later.ts'), "export const word = 'later';\n");
  return root;
}

async function load(file: string): Promise<{ answer: () => string; later: () => Promise<string> }> {
  return import(`${pathToFileURL(file).href}?${Date.now()}-${Math.random()}`);
}

t.test('built on first use, reused while nothing changed, rebuilt after an edit that keeps size and time', async (t) => {
  const root = project(t);
  const first = ensureBundle({ root, entry: 'src/main.ts', name: 'app' });
  t.equal(first.built, true, 'built on first use');
  t.ok(first.file.startsWith(bundleDir(root)), 'cached under node_modules/.cache/airlock');
  t.equal(fs.statSync(path.dirname(first.file)).mode & 0o777, 0o755, 'readable by every user of the install, like node_modules');
  const m1 = await load(first.file);
  t.equal(m1.answer(), 'one:found', 'runs, and finds the file beside its source module');
  t.equal(await m1.later(), 'later', 'a dynamic import is a chunk loaded on use');

  const again = ensureBundle({ root, entry: 'src/main.ts', name: 'app' });
  t.equal(again.built, false, 'nothing changed: the cached bundle is used');
  t.equal(again.file, first.file);

  // Same length, same modification time: only the content says it changed.
  const dep = path.join(root, 'src', 'dep.ts');
  const { atime, mtime } = fs.statSync(dep);
  fs.writeFileSync(dep, fs.readFileSync(dep, 'utf8').replace("'one'", "'two'"));
  fs.utimesSync(dep, atime, mtime);
  const edited = ensureBundle({ root, entry: 'src/main.ts', name: 'app' });
  t.equal(edited.built, true, 'the edit is seen');
  t.not(edited.file, first.file, 'a new bundle, beside the one a running program may still use');
  t.equal((await load(edited.file)).answer(), 'two:found', 'the new bundle runs the edited source');

  // An edit to a chunk only (a dynamically imported file) is seen as well.
  fs.writeFileSync(path.join(root, 'src', 'later.ts'), "export const word = 'changed';\n");
  const chunkEdited = ensureBundle({ root, entry: 'src/main.ts', name: 'app' });
  t.equal(chunkEdited.built, true);
  t.equal(await (await load(chunkEdited.file)).later(), 'changed');

  // So is a change of compiler settings.
  fs.writeFileSync(path.join(root, 'tsconfig.json'), '{ "compilerOptions": { "strict": false } }\n');
  t.equal(ensureBundle({ root, entry: 'src/main.ts', name: 'app' }).built, true, 'tsconfig.json is part of the key');
});

t.test('a program keeps the bundle it started with: removed meanwhile, it is written back', async (t) => {
  const root = project(t);
  const bundle = ensureBundle({ root, entry: 'src/main.ts', name: 'app' });
  const entry = keepBundle(bundle);
  const before = fs.readdirSync(bundle.dir).map((f) => [f, fs.readFileSync(path.join(bundle.dir, f), 'utf8')]);
  fs.rmSync(bundle.dir, { recursive: true });
  t.equal(entry(), bundle.file);
  t.same(fs.readdirSync(bundle.dir).map((f) => [f, fs.readFileSync(path.join(bundle.dir, f), 'utf8')]), before, 'the same files are back');
  t.equal(fs.statSync(bundle.dir).mode & 0o777, 0o755, 'readable by every user again');
  t.equal((await load(entry())).answer(), 'one:found');
  t.same(fs.readdirSync(bundleDir(root)).filter((f) => f.includes('.tmp-')), [], 'no temporary folder left behind');
});

t.test('a source that does not compile fails the build with its file and line; nothing stale runs', async (t) => {
  const root = project(t);
  ensureBundle({ root, entry: 'src/main.ts', name: 'app' });
  fs.writeFileSync(path.join(root, 'src', 'dep.ts'), "export const value: string = 'one';\nexport const beside = (: string => 'x';\n");
  t.throws(() => ensureBundle({ root, entry: 'src/main.ts', name: 'app' }), /could not bundle src\/main\.ts: .*src\/dep\.ts:2:/s);
  // A removed input is a change too.
  fs.rmSync(path.join(root, 'src', 'dep.ts'));
  t.throws(() => ensureBundle({ root, entry: 'src/main.ts', name: 'app' }), /could not bundle src\/main\.ts: .*dep\.ts/s);
});

t.test('processes building the same bundle at once each get a whole one', async (t) => {
  const root = project(t);
  const script = `import { ensureBundle } from ${JSON.stringify(pathToFileURL(path.join(repo, 'lib', 'bundle.js')).href)};
const b = ensureBundle({ root: ${JSON.stringify(root)}, entry: 'src/main.ts', name: 'app' });
const m = await import(${JSON.stringify('file://')} + b.file);
process.stdout.write(m.answer());`;
  const runs = await Promise.all(Array.from({ length: 4 }, () => new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const c = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d));
    c.stderr.on('data', (d: Buffer) => (err += d));
    c.on('close', (code) => resolve({ code, out, err }));
  })));
  for (const r of runs) t.same({ code: r.code, out: r.out }, { code: 0, out: 'one:found' }, r.err);
  t.same(fs.readdirSync(bundleDir(root)).filter((f) => f.includes('.tmp-')), [], 'no temporary files left behind');
});

t.test("the evaluation threads' bundle is built from the engine's current sources", async (t) => {
  const url = evalWorkerScript()();
  const file = url.pathname;
  t.ok(file.startsWith(bundleDir(repo)), 'the threads start from the cached bundle');
  const manifest = JSON.parse(fs.readFileSync(path.join(bundleDir(repo), 'eval-worker.json'), 'utf8')) as { inputs: string[]; file: string };
  t.ok(manifest.inputs.includes('engine/eval-worker-main.ts') && manifest.inputs.includes('engine/evaluator.ts'), 'the thread entry and the evaluator are inputs');
  t.notOk(manifest.inputs.some((f) => f.startsWith('node_modules')), 'packages are imported, not bundled');
});
