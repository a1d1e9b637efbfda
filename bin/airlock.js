#!/usr/bin/env -S node --max-semi-space-size=8
// The `airlock` command. The sources are TypeScript and there is no build step to forget: every
// command runs from an esbuild bundle of its code (lib/bundle.js: built on first use, rebuilt
// whenever a source it was built from changed), so no process carries a TypeScript loader (tsx's
// runs on a thread of its own, ~33 MiB, and costs most of a second to start). Each command is its
// own chunk of the bundle, loaded only when it runs (cli/command-list.ts). Setup builds the bundle
// (scripts/setup.js); a user who cannot write a stale one's cache runs the sources through tsx.
//
// Node runs with semi-spaces of 8 MiB (the young generation; V8's default grows them to 16 MiB on a
// machine with this much memory): ~10–20 MiB less resident after load, at no CPU cost the benchmark
// can measure (bench/README.md, "Idle memory"). `airlock` and `npm start` run this line;
// `node bin/airlock.js` runs with Node's defaults.
import { fileURLToPath, pathToFileURL } from 'node:url';

// Packages come from Airlock's own folder only, never from a node_modules above it or in the home
// folder, which an agent in `airlock run`'s sandbox can write (lib/module-lookup.js).
const { confineModuleLookup } = await import('../lib/module-lookup.js');
confineModuleLookup(fileURLToPath(new URL('..', import.meta.url)));
const { ensureBundle } = await import('../lib/bundle.js');
let entry;
try {
  entry = pathToFileURL(ensureBundle({ entry: 'cli/main.ts', name: 'airlock-cli' }).file).href;
} catch (err) {
  // A user who may not write this install's cache (another user installed it, a read-only
  // filesystem) and finds no current bundle there runs the sources through tsx instead.
  if (!/\b(EACCES|EPERM|EROFS)\b/.test(err.message)) {
    process.stderr.write(`airlock: ${err.message}\n`);
    process.exit(1);
  }
  // With Airlock's own tsconfig.json, not the current folder's (lib/sources.js).
  const { registerSources } = await import('../lib/sources.js');
  await registerSources(fileURLToPath(new URL('..', import.meta.url)));
  entry = new URL('../cli/main.ts', import.meta.url).href;
}
const { main } = await import(entry);
process.exitCode = await main(process.argv.slice(2));
