// The tree's TypeScript as JavaScript for the test processes of `npm test` (scripts/test.js).
// Loading TypeScript through module hooks (test/helpers/ts-hooks.mjs) puts every module a process
// imports — tap's hundreds too — through the hooks' own thread, one round trip each to resolve and
// to load: ~0.5 s of CPU per test file before its first test, a tenth of the suite. Here each .ts
// file is transformed by esbuild once (again only when it changed) into a mirror of the tree under
// node_modules/.cache (one per tree), and the files run from there with no hooks at all:
//  - `import.meta.url`, `.dirname` and `.filename` are the original file's (esbuild `define`), so
//    every path a module finds from its own place (fixtures, rego/, bin/) is the tree's;
//  - a relative import of a .ts file names its mirror; any other relative import (a .js, .mjs or
//    .json file of the tree) names the original file by its absolute URL;
//  - inline source maps point at the .ts sources (the runner passes --enable-source-maps).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { transformSync, version as esbuildVersion } from 'esbuild';

/** Folders never transpiled: packages, tool downloads, state, build outputs. */
const SKIP = new Set(['node_modules', '.git', '.tools', '.airlock', 'dist', 'results']);
/** A relative module specifier in esbuild's output: `from "…"`, `import "…"`, `import("…")`. */
const RELATIVE_SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)"(\.{1,2}\/[^"\n]*)"/g;

function typeScriptFiles(root, dir = '', out = []) {
  for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (!SKIP.has(e.name) && !e.name.startsWith('.')) typeScriptFiles(root, rel, out);
    } else if (e.isFile() && /\.m?ts$/.test(e.name) && !e.name.endsWith('.d.ts')) {
      out.push(rel);
    }
  }
  return out;
}

const mirrorName = (rel) => rel.replace(/\.m?ts$/, '.mjs');

/** `code` with its relative specifiers aimed at the mirror (.ts) or at the tree (anything else). */
function rewriteSpecifiers(code, file) {
  return code.replace(RELATIVE_SPECIFIER, (whole, lead, spec) => {
    if (/\.m?ts$/.test(spec)) return `${lead}"${mirrorName(spec)}"`;
    return `${lead}"${pathToFileURL(path.resolve(path.dirname(file), spec)).href}"`;
  });
}

/**
 * Brings the mirror of `root`'s TypeScript up to date; returns its folder. A file is transformed
 * again when its text, this script, esbuild or tsconfig.json changed (a manifest of content keys).
 */
export function transpileTree(root) {
  // One mirror per tree: worktrees of this checkout share its node_modules (a link).
  const mirror = path.join(root, 'node_modules', '.cache', 'airlock-test-js', crypto.createHash('sha256').update(root).digest('hex').slice(0, 12));
  const manifestFile = path.join(mirror, 'manifest.json');
  const tsconfigRaw = fs.readFileSync(path.join(root, 'tsconfig.json'), 'utf8');
  const recipe = crypto.createHash('sha256').update(`${esbuildVersion}\0${tsconfigRaw}\0${fs.readFileSync(new URL(import.meta.url), 'utf8')}\0${root}`).digest('hex');
  let manifest = {};
  try {
    manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
  } catch {
    /* first run, or a torn manifest: every file is transformed */
  }
  const next = {};
  for (const rel of typeScriptFiles(root)) {
    const file = path.join(root, rel);
    const source = fs.readFileSync(file, 'utf8');
    const key = crypto.createHash('sha256').update(`${recipe}\0${rel}\0${source}`).digest('hex');
    const out = path.join(mirror, mirrorName(rel));
    next[rel] = key;
    if (manifest[rel] === key && fs.existsSync(out)) continue;
    const meta = { 'import.meta.url': JSON.stringify(pathToFileURL(file).href), 'import.meta.dirname': JSON.stringify(path.dirname(file)), 'import.meta.filename': JSON.stringify(file) };
    const { code } = transformSync(source, { loader: 'ts', format: 'esm', target: 'node20', sourcemap: 'inline', sourcefile: file, tsconfigRaw, define: meta });
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, rewriteSpecifiers(code, file));
  }
  fs.mkdirSync(mirror, { recursive: true });
  fs.writeFileSync(manifestFile, JSON.stringify(next));
  return mirror;
}

/** The mirror file a test file runs as. */
export function transpiledPath(mirror, rel) {
  return path.join(mirror, mirrorName(rel));
}
