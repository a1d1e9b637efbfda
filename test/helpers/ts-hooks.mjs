// Module hooks (run on Node's hooks thread, registered by ts-loader.mjs) that load the project's
// TypeScript files for the test processes: each `.ts` file is transformed by esbuild with the
// project's tsconfig.json, cached by its content, and every other module is left to Node untouched.
// tsx's hooks also resolve and inspect every package file (tap alone is hundreds), which cost each
// test process ~0.5 s of CPU before its first test; this is the part of tsx the tests use.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformSync, version as esbuildVersion } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const tsconfigRaw = fs.readFileSync(path.join(root, 'tsconfig.json'), 'utf8');
const cacheDir = path.join(root, 'node_modules', '.cache', 'airlock-test-ts');
// A change to the options, to esbuild or to this file makes every cached file stale.
const recipe = crypto.createHash('sha256').update(`${esbuildVersion}\0${tsconfigRaw}\0${fs.readFileSync(fileURLToPath(import.meta.url), 'utf8')}`).digest('hex');

function isTypeScript(url) {
  if (!url.startsWith('file:')) return false;
  const p = new URL(url).pathname;
  return p.endsWith('.ts') || p.endsWith('.mts');
}

function transformed(file) {
  const source = fs.readFileSync(file, 'utf8');
  const key = crypto.createHash('sha256').update(`${recipe}\0${file}\0${source}`).digest('hex');
  const cached = path.join(cacheDir, `${key}.js`);
  try {
    return fs.readFileSync(cached, 'utf8');
  } catch {
    /* not cached yet */
  }
  const out = transformSync(source, { loader: 'ts', format: 'esm', target: 'node20', sourcemap: 'inline', sourcefile: file, tsconfigRaw }).code;
  // Written under a temporary name and renamed: test processes starting together never read half a file.
  fs.mkdirSync(cacheDir, { recursive: true });
  const tmp = `${cached}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`;
  fs.writeFileSync(tmp, out);
  fs.renameSync(tmp, cached);
  return out;
}

export async function load(url, context, nextLoad) {
  if (!isTypeScript(url)) return nextLoad(url, context);
  return { format: 'module', source: transformed(fileURLToPath(url)), shortCircuit: true };
}
