// Airlock loads packages from its own folder only.
//
// Node's require() looks for a package in every node_modules folder above the requiring file, up to
// the filesystem's root, then in $HOME/.node_modules, $HOME/.node_libraries and NODE_PATH. A package
// missing from Airlock's node_modules (ws tries the optional `bufferutil` and `utf-8-validate` on
// load) is taken from there as soon as one appears, and an agent in `airlock run`'s sandbox writes
// what the user can: ~/.node_modules, or the node_modules of a folder above Airlock's checkout (the
// user's home, a project that holds the checkout: writable under --read-only too when it is the
// working directory). Its code would run in the next `airlock start`, next to the master key.
// bin/airlock.js calls this first, before any package is imported. (An `import` of a package that
// is not installed would walk up the same way; Airlock imports only packages it depends on.)
import fs from 'node:fs';
import Module from 'node:module';
import path from 'node:path';

/**
 * Limits require()'s package lookup to node_modules folders inside `root` (Airlock's folder) or
 * inside the folder its node_modules really is (a symlinked node_modules, a worktree's).
 */
export function confineModuleLookup(root) {
  const real = (p) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return p;
    }
  };
  const dirs = [path.resolve(root), real(root), real(path.join(root, 'node_modules'))];
  // Installed as a package of another project (npm i <git url>), its dependencies sit next to it in
  // that project's node_modules: still looked in (that folder is the project's to keep anyway).
  for (const r of [path.resolve(root), real(root)]) {
    const parent = path.basename(path.dirname(r)).startsWith('@') ? path.dirname(path.dirname(r)) : path.dirname(r);
    if (path.basename(parent) === 'node_modules') dirs.push(parent);
  }
  const inside = (p) => dirs.some((d) => p === d || p.startsWith(`${d}${path.sep}`));
  const lookup = Module._nodeModulePaths;
  Module._nodeModulePaths = function nodeModulePaths(from) {
    return lookup.call(this, from).filter(inside);
  };
  // The global folders come from HOME and NODE_PATH, read once at startup into a list Node keeps to
  // itself: read again without them ($PREFIX/lib/node stays: it is the Node install's own).
  const saved = { HOME: process.env.HOME, NODE_PATH: process.env.NODE_PATH };
  try {
    delete process.env.HOME;
    delete process.env.NODE_PATH;
    Module._initPaths();
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
  }
}
