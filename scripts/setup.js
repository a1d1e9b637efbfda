#!/usr/bin/env node
// Runs after `npm install`: makes sure the opa toolchain is there and the studio is built.
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
