#!/usr/bin/env node
// Runs after `npm install`: makes sure the opa toolchain is there, the studio is built, and so are
// the bundles `airlock start` and the evaluation threads run from (lib/bundle.js; they are rebuilt
// on use whenever a source changed, so this only saves the first start the time).
import { register } from 'tsx/esm/api';
import fs from 'node:fs';

register();
const { ensureOpa, ToolchainError } = await import('../engine/toolchain.ts');
try {
  const opa = ensureOpa();
  console.log(`airlock: opa ready at ${opa}`);
} catch (err) {
  if (err instanceof ToolchainError) {
    console.error(`\nairlock setup: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
const studioBuild = new URL('../studio/build.ts', import.meta.url);
if (fs.existsSync(studioBuild)) {
  const { buildStudio } = await import(studioBuild.href);
  await buildStudio();
}

const { ensureBundle } = await import('../lib/bundle.js');
for (const [entry, name] of [['cli/main.ts', 'airlock-cli'], ['engine/eval-worker-main.ts', 'eval-worker']]) {
  try {
    ensureBundle({ entry, name });
  } catch (err) {
    console.error(`\nairlock setup: ${err.message}\n`);
    process.exit(1);
  }
}
console.log('airlock: bundles of the `airlock` commands and the evaluation threads ready');
