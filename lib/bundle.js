// A TypeScript entry point and the project files it imports, bundled by esbuild into ES modules
// cached in node_modules/.cache/airlock/, so a thread or process started from them loads no
// TypeScript loader (tsx costs every thread that loads it 15–30 MiB and its start-up time). There
// is still no build step to forget: a bundle is built on first use and again whenever a file it
// was built from changed. The cache key is the content of every such file (and of tsconfig.json,
// the installed-packages lock, this file, and the project's location), never a modification
// time: a stale bundle does not run.
//
// Packages stay outside the bundle (imported from node_modules as the sources import them, which
// is why the bundles live inside node_modules). A dynamic `import()` of a project file becomes a
// chunk of its own, loaded when that code runs, so what a program does not use (the studio under
// --no-studio, the PostgreSQL and Redis clients without shared stores) is not loaded either.
// `import.meta.url`, `.dirname` and `.filename` are replaced in each file by its own source
// location, so code that finds files beside itself works the same bundled.
//
// The build runs in a child process (this file, run as a script): esbuild's plugin API (needed to
// hash exactly what it bundles) is asynchronous and leaves a service process running, and neither
// should burden the program that asked. Files are written under a temporary name and renamed into
// place, so processes starting at the same time never read half a bundle.
//
// Plain JavaScript so that bin/airlock.js can use it before any TypeScript loader is there.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** This file's own content is part of every key: a change to how bundles are made rebuilds them. */
const recipe = crypto.createHash('sha256').update(fs.readFileSync(fileURLToPath(import.meta.url))).digest('hex');
const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The folder the bundles of the project at `root` are cached in. */
export function bundleDir(root = projectRoot) {
  return path.join(root, 'node_modules', '.cache', 'airlock');
}

/**
 * The bundle of `entry` (a path relative to `root`), built now if missing or stale: `file` is the
 * module to import, in `dir` with the chunks it loads.
 * @param {{ entry: string, name: string, root?: string }} opts
 * @returns {{ file: string, dir: string, key: string, built: boolean }}
 */
export function ensureBundle(opts) {
  const root = path.resolve(opts.root ?? projectRoot);
  const dir = bundleDir(root);
  const manifestFile = path.join(dir, `${opts.name}.json`);
  const manifest = readManifest(manifestFile);
  if (manifest && manifest.entry === opts.entry && fs.existsSync(path.join(dir, manifest.file))) {
    const key = keyOf(root, manifest.inputs);
    if (key === manifest.key) return { file: path.join(dir, manifest.file), dir: path.dirname(path.join(dir, manifest.file)), key, built: false };
  }
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), JSON.stringify({ root, entry: opts.entry, name: opts.name })], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0) {
    const why = (r.stderr || r.error?.message || `exit ${r.status ?? r.signal}`).trim();
    throw new Error(`could not bundle ${opts.entry}: ${why}`);
  }
  const out = /** @type {{ file: string, key: string }} */ (JSON.parse(r.stdout));
  return { file: path.join(dir, out.file), dir: path.dirname(path.join(dir, out.file)), key: out.key, built: true };
}

/**
 * Keeps the files of `bundle` in memory and returns a function giving its entry file, written back
 * first if it has been removed meanwhile (pruned by another process): for a program that starts
 * threads from a bundle long after it started, so a later thread runs the same code as the first.
 * @param {{ file: string, dir: string }} bundle
 * @returns {() => string}
 */
export function keepBundle(bundle) {
  const files = new Map(fs.readdirSync(bundle.dir).map((f) => [f, fs.readFileSync(path.join(bundle.dir, f))]));
  return () => {
    if (fs.existsSync(bundle.file)) return bundle.file;
    const tmp = fs.mkdtempSync(`${bundle.dir.replace(/-[0-9a-f]{16}$/, '')}.tmp-`);
    try {
      for (const [f, content] of files) fs.writeFileSync(path.join(tmp, f), content);
      fs.chmodSync(tmp, 0o755);
      fs.renameSync(tmp, bundle.dir);
    } catch (err) {
      if (!fs.existsSync(bundle.file)) throw err;
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    return bundle.file;
  };
}

/** @returns {{ entry: string, key: string, file: string, inputs: string[] } | undefined} */
function readManifest(file) {
  try {
    const m = JSON.parse(fs.readFileSync(file, 'utf8'));
    return typeof m?.key === 'string' && typeof m.file === 'string' && Array.isArray(m.inputs) ? m : undefined;
  } catch {
    return undefined; // missing or unreadable: rebuild
  }
}

/** Files outside the inputs whose content changes what esbuild makes of them. */
const context = ['tsconfig.json', 'package.json', path.join('node_modules', '.package-lock.json')];

/**
 * The cache key: this file (the recipe), the project's location (it is written into the bundle), and the
 * content of each input and context file. `read(rel)` gives a file's content (undefined: missing);
 * an input that is gone makes the key differ from any built one.
 * @param {string} root
 * @param {string[]} inputs
 * @param {(rel: string) => Buffer | string | undefined} [read]
 */
function keyOf(root, inputs, read = (rel) => readIfThere(path.join(root, rel))) {
  const h = crypto.createHash('sha256');
  h.update(`${recipe}\0${root}\0`);
  for (const rel of [...context, ...[...inputs].sort()]) {
    const content = read(rel);
    h.update(`${rel}\0${content === undefined ? 'missing' : crypto.createHash('sha256').update(content).digest('hex')}\0`);
  }
  return h.digest('hex');
}

function readIfThere(file) {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    if (/** @type {NodeJS.ErrnoException} */ (err).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Writes `content` to `file` under a temporary name, then renames it into place. */
function writeAtomic(file, content) {
  const tmp = `${file}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  try {
    fs.writeFileSync(tmp, content);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

const loaders = { '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.js': 'js', '.mjs': 'js', '.cjs': 'js', '.json': 'json' };

/** The child: builds, writes bundle then manifest, prints {file, key}. */
async function build({ root, entry, name }) {
  const { build: esbuild } = await import('esbuild');
  /** @type {Map<string, Buffer>} what esbuild was given, by path relative to root */
  const seen = new Map();
  const plugin = {
    name: 'airlock-sources',
    setup(b) {
      b.onLoad({ filter: /.*/, namespace: 'file' }, (args) => {
        const loader = loaders[path.extname(args.path)];
        if (!loader) throw new Error(`${args.path}: no loader for this kind of file`);
        const raw = fs.readFileSync(args.path);
        seen.set(path.relative(root, args.path), raw);
        const here = pathToFileURL(args.path);
        const contents = raw.toString('utf8')
          .replace(/\bimport\.meta\.url\b/g, JSON.stringify(here.href))
          .replace(/\bimport\.meta\.dirname\b/g, JSON.stringify(path.dirname(args.path)))
          .replace(/\bimport\.meta\.filename\b/g, JSON.stringify(args.path));
        return { contents, loader };
      });
    },
  };
  const dir = bundleDir(root);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(dir, `${name}.tmp-`));
  try {
    const result = await esbuild({
      entryPoints: { main: path.join(root, entry) },
      absWorkingDir: root,
      tsconfig: path.join(root, 'tsconfig.json'),
      bundle: true,
      splitting: true,
      packages: 'external',
      platform: 'node',
      format: 'esm',
      target: 'node20',
      // Beside each file, read only by profilers and --enable-source-maps: positions in the sources.
      sourcemap: 'linked',
      sourcesContent: false,
      outdir: tmp,
      outExtension: { '.js': '.mjs' },
      chunkNames: 'chunk-[hash]',
      logLevel: 'silent',
      plugins: [plugin],
    });
    if (result.errors.length) throw result;
    // mkdtemp makes the folder private; a bundle is read by every user who runs this install, like node_modules.
    fs.chmodSync(tmp, 0o755);
    const key = keyOf(root, [...seen.keys()], (rel) => seen.get(rel) ?? readIfThere(path.join(root, rel)));
    // The folder is named by the key, so one that exists holds this very bundle: keep it.
    const final = `${name}-${key.slice(0, 16)}`;
    try {
      fs.renameSync(tmp, path.join(dir, final));
    } catch (err) {
      if (!fs.existsSync(path.join(dir, final, 'main.mjs'))) throw err;
    }
    const file = path.join(final, 'main.mjs');
    writeAtomic(path.join(dir, `${name}.json`), `${JSON.stringify({ entry, key, file, inputs: [...seen.keys()].sort(), built: new Date().toISOString() }, null, 1)}\n`);
    prune(dir, name, final);
    return { file, key };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Removes this name's older bundles once they are a day old: a process still running from one
 * has long since read what it needs (a program that starts threads from a bundle keeps its files
 * to write them back, see engine/eval-worker-script.ts).
 */
function prune(dir, name, keep) {
  const dayAgo = Date.now() - 24 * 3600_000;
  for (const f of fs.readdirSync(dir)) {
    // Bundles (name-<key>) and the leftovers of builds that were killed (name.tmp-…).
    const ours = f.startsWith(`${name}.tmp-`) || (f.startsWith(`${name}-`) && /^[0-9a-f]{16}$/.test(f.slice(name.length + 1)));
    if (f === keep || !ours) continue;
    try {
      if (fs.statSync(path.join(dir, f)).mtimeMs < dayAgo) fs.rmSync(path.join(dir, f), { recursive: true, force: true });
    } catch { /* another process pruned it */ }
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.stdout.write(`${JSON.stringify(await build(JSON.parse(process.argv[2] ?? '{}')))}\n`);
  } catch (err) {
    const e = /** @type {{ errors?: Array<{ text: string, location?: { file: string, line: number, column: number } }>, message?: string }} */ (err);
    const lines = e.errors?.length
      ? e.errors.map((x) => (x.location ? `${x.location.file}:${x.location.line}:${x.location.column}: ${x.text}` : x.text))
      : [e.message ?? String(err)];
    process.stderr.write(`${lines.join('\n')}\n`);
    process.exitCode = 1;
  }
}
