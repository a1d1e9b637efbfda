#!/usr/bin/env node
// `npm test`: every test in one tap run (type-check and the Rego checks are tap tests too), then a
// plain `N passed, N failed` line so CI logs read the same whatever the runner prints.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tapBin = path.join(root, 'node_modules', '.bin', 'tap');

// tap compiles its plugin set from package.json; build it first so the run uses our loader (tsx).
const built = spawnSync(tapBin, ['build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
if (built.status !== 0) process.exit(built.status ?? 1);

// The files that take longest start first, so the run does not end with one of them alone on a
// core while the others are idle (tap runs files in the order given, `jobs` at once).
const slowFirst = [
  'test/studio/e2e.test.ts', 'test/studio/inbox-churn-e2e.test.ts', 'test/proxy/cli-errors.test.ts',
  'test/attacks/hostile-neighbour.test.ts', 'test/scale/replica-attacks.test.ts', 'test/typecheck.test.ts',
  'test/attacks/connections.test.ts', 'test/scale/replicas.test.ts', 'test/studio/api-publish.test.ts',
  'test/fuzz/redos.test.ts', 'test/attacks/session-labels.test.ts', 'test/secrets/e2e.test.ts',
  'test/replay/replay-cli.test.ts', 'test/secrets/cli.test.ts', 'test/attacks/sandbox-escape.test.ts',
];

/** Every test file under test/, the slow ones first (a name no longer there is skipped). */
function orderedTestFiles() {
  const all = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith('.test.ts')) all.push(rel);
    }
  };
  walk('test');
  all.sort();
  const present = new Set(all);
  const first = slowFirst.filter((f) => present.has(f));
  return [...first, ...all.filter((f) => !first.includes(f))];
}

const args = process.argv.slice(2);
const child = spawn(tapBin, args.length ? args : orderedTestFiles(), { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
let summary;
let tail = '';
// Failures are named again at the end: a CI log is often shown only in part, and a `not ok` deep in
// 100,000 lines is otherwise lost. The path of indented `# Subtest:` names leads to each one.
const failures = [];
const subtests = [];
let pending = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  tail = (tail + chunk.toString()).slice(-4096);
  pending += chunk.toString();
  const lines = pending.split('\n');
  pending = lines.pop() ?? '';
  for (const line of lines) noteLine(line);
});

/** Keeps the open subtests' names by depth and records each failed assertion under them. */
function noteLine(line) {
  const sub = /^( *)# Subtest: (.*)$/.exec(line);
  if (sub) {
    const depth = sub[1].length / 4;
    subtests.length = depth;
    subtests[depth] = sub[2];
    return;
  }
  const failed = /^( *)not ok \d+ - (.*)$/.exec(line);
  if (!failed) return;
  const depth = failed[1].length / 4;
  const name = failed[2].replace(/ # time=[\d.]+m?s$/, '');
  // A failed subtest repeats its children's failures one level up; only the innermost is news.
  const entry = [...subtests.slice(0, depth), name].join(' > ');
  if (failures.some((f) => f.startsWith(entry))) return;
  failures.push(entry.slice(0, 400));
  if (failures.length > 50) failures.length = 50;
}
child.on('close', (code, signal) => {
  const m = /# \{ total: (\d+)(?:, pass: (\d+))?(?:, fail: (\d+))?(?:, skip: (\d+))?(?:, todo: (\d+))?/.exec(tail);
  if (m) {
    const [, , pass = '0', fail = '0', skip] = m;
    summary = `${pass} passed, ${fail} failed${skip ? `, ${skip} skipped` : ''}`;
    process.stdout.write(`\n${summary}\n`);
  }
  if (failures.length) process.stdout.write(`\nFailed:\n${failures.map((f) => `  ${f}`).join('\n')}\n`);
  process.exit(signal ? 1 : (code ?? 1));
});
