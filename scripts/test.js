#!/usr/bin/env node
// `npm test`: every test in one tap run (type-check and the Rego checks are tap tests too), then a
// plain `N passed, N failed` line so CI logs read the same whatever the runner prints.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tapBin = path.join(root, 'node_modules', '.bin', 'tap');

// tap compiles its plugin set from package.json; build it first so the run uses our loader (tsx).
const built = spawnSync(tapBin, ['build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
if (built.status !== 0) process.exit(built.status ?? 1);

const child = spawn(tapBin, process.argv.slice(2), { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
let summary;
let tail = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  tail = (tail + chunk.toString()).slice(-4096);
});
child.on('close', (code, signal) => {
  const m = /# \{ total: (\d+)(?:, pass: (\d+))?(?:, fail: (\d+))?(?:, skip: (\d+))?(?:, todo: (\d+))?/.exec(tail);
  if (m) {
    const [, , pass = '0', fail = '0', skip] = m;
    summary = `${pass} passed, ${fail} failed${skip ? `, ${skip} skipped` : ''}`;
    process.stdout.write(`\n${summary}\n`);
  }
  process.exit(signal ? 1 : (code ?? 1));
});
