#!/usr/bin/env node
// Runs a TypeScript entry point with tsx's ESM loader: the sources are the program, no build step.
import { register } from 'tsx/esm/api';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

// Airlock's own tsconfig.json, not the current folder's (see lib/sources.js).
register({ tsconfig: path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'tsconfig.json') });
const [entry, ...rest] = process.argv.slice(2);
if (!entry) {
  console.error('usage: run-ts.js FILE.ts [ARGS...]');
  process.exit(2);
}
process.argv = [process.argv[0], entry, ...rest];
await import(pathToFileURL(path.resolve(entry)).href);
