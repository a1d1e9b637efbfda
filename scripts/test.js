#!/usr/bin/env node
// `npm test`: every test file (type-check and the Rego checks are tap tests too), a few at a time,
// then a plain `N passed, N failed` line so CI logs read the same whatever the runner prints.
//
// The files run here, not under `tap`'s own runner: that runner loads two module hooks into every
// test process, its coverage recorder (`@tapjs/processinfo`, even with coverage off) and its module
// mocker, and together they cost ~1 s of CPU per file on this 2-core machine, about a sixth of the
// whole suite. Each file is still a tap test run by tap's library, exactly as `npx tap FILE` or
// `node --import=tsx FILE` runs it; a file that asks for `t.mockImport` gets the mocker. `npm test
// -- FILE…` runs only those files; any other argument hands the whole run to `tap` itself.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { transpileTree, transpiledPath } from './test-transpile.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tapBin = path.join(root, 'node_modules', '.bin', 'tap');
const tapConfig = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).tap ?? {};

// tap compiles its plugin set from package.json (a fresh install has the default set); rebuild it
// when it differs, as `tap` itself does, and not otherwise: a rebuild under a running test breaks it.
const { TapConfig } = await import('@tapjs/config');
const { signature: builtPlugins } = await import('@tapjs/test');
if ((await TapConfig.load()).pluginSignature !== builtPlugins) {
  const built = spawnSync(tapBin, ['build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (built.status !== 0) process.exit(built.status ?? 1);
}

const args = process.argv.slice(2);
if (args.some((a) => a.startsWith('-'))) {
  const tap = spawnSync(tapBin, args, { cwd: root, stdio: 'inherit' });
  process.exit(tap.status ?? 1);
}

// The files that take longest start first (longest first is close to the best packing of files
// onto jobs), so the run does not end with one of them alone on a core while the others are idle.
// Each file's seconds in a full run are in scripts/test-times.json (`AIRLOCK_TEST_TIMES=write npm
// test` writes them anew); a file not listed there yet is taken to be slowish, so it starts early.
const timesFile = path.join(root, 'scripts', 'test-times.json');
const UNLISTED_S = 20;
const listedTimes = fs.existsSync(timesFile) ? JSON.parse(fs.readFileSync(timesFile, 'utf8')) : {};

/** Every test file under test/, the slow ones first. */
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
  const cost = (f) => listedTimes[f] ?? UNLISTED_S;
  return all.sort((a, b) => cost(b) - cost(a) || (a < b ? -1 : 1));
}

const files = (args.length ? args : orderedTestFiles()).map((f) => path.relative(root, path.resolve(root, f)));
const mirror = transpileTree(root);
const jobs = Math.max(1, Number(process.env.AIRLOCK_TEST_JOBS) || tapConfig.jobs || 4);
const timeoutS = Number(tapConfig.timeout) || 30;
const nodeArgs = ['--enable-source-maps', ...(tapConfig['node-arg'] ?? [])];
// Files run as the JavaScript scripts/test-transpile.js writes, without the TypeScript hooks: a file
// that asks for t.mockImport keeps them (tap's mocker is a module hook too).
const tsHooks = /ts-loader\.mjs$/;
const plainArgs = nodeArgs.filter((a) => !tsHooks.test(a));
// Each file runs as a process of its own root (tap prints its counts only then), with tap's timeout.
const fileEnv = { ...process.env, TAP_TIMEOUT: String(timeoutS) };
for (const k of ['TAP', 'TAP_CHILD_ID', 'TAP_CHILD_KEY', 'TAP_JOB_ID']) delete fileEnv[k];
const mocker = `--import=${import.meta.resolve('@tapjs/mock/import')}`;

const totals = { pass: 0, fail: 0, skip: 0, todo: 0 };
const failures = [];
const times = [];
const running = new Set();
let next = 0;
let done = 0;

/** Runs one file; resolves when it has ended and its output is printed. */
function runFile(file) {
  return new Promise((resolve) => {
    const source = fs.readFileSync(path.join(root, file), 'utf8');
    const argv = source.includes('mockImport') ? [mocker, ...nodeArgs, path.join(root, file)] : [...plainArgs, transpiledPath(mirror, file)];
    const started = Date.now();
    const child = spawn(process.execPath, argv, {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: fileEnv,
    });
    running.add(child);
    const out = [];
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => out.push(c));
    // The file ends itself at its timeout (tap's own, or what it asked for with t.setTimeout, which
    // it also tells its parent). This is the backstop for a process whose event loop is stuck:
    // SIGALRM is tap's timeout signal (it reports what was still running), then SIGKILL.
    let limitS = timeoutS;
    const arm = () => setTimeout(() => {
      out.push(Buffer.from(`\n# stopped by the runner after ${limitS + 10} s\n`));
      child.kill('SIGALRM');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    }, (limitS + 10) * 1000);
    let killer = arm();
    child.on('message', (m) => {
      if (m && typeof m.setTimeout === 'number') {
        clearTimeout(killer);
        limitS = m.setTimeout / 1000;
        killer = arm();
      }
    });
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      running.delete(child);
      const seconds = (Date.now() - started) / 1000;
      times.push([seconds, file]);
      const text = Buffer.concat(out).toString();
      const counts = /^# \{ (.*) \}\s*$/m.exec(text.split('\n').filter((l) => l.startsWith('# { ')).pop() ?? '');
      const got = Object.fromEntries([...(counts?.[1] ?? '').matchAll(/(\w+): (\d+)/g)].map(([, k, v]) => [k, Number(v)]));
      for (const k of Object.keys(totals)) totals[k] += got[k] ?? 0;
      const ok = code === 0 && !signal && counts !== null && !got.fail;
      // A file that died without its own count of failures is one failure.
      if (!ok && !got.fail) totals.fail += 1;
      done++;
      const body = text.split('\n').map((l) => (l ? `    ${l}` : l)).join('\n');
      process.stdout.write(`# Subtest: ${file}\n${body}\n${ok ? 'ok' : 'not ok'} ${done} - ${file} # time=${seconds.toFixed(1)}s${ok ? '' : ` (exit ${signal ?? code})`}\n\n`);
      noteFailures(file, text, ok);
      resolve();
    });
  });
}

/** The path of subtest names to each failed assertion of a file (innermost only). */
function noteFailures(file, text, ok) {
  const subtests = [file];
  const before = failures.length;
  for (const line of text.split('\n')) {
    const sub = /^( *)# Subtest: (.*)$/.exec(line);
    if (sub) {
      const depth = sub[1].length / 4 + 1;
      subtests.length = depth;
      subtests[depth] = sub[2];
      continue;
    }
    const failed = /^( *)not ok \d+ - (.*)$/.exec(line);
    if (!failed) continue;
    const depth = failed[1].length / 4 + 1;
    const name = failed[2].replace(/ # time=[\d.]+m?s$/, '');
    // A failed subtest repeats its children's failures one level up; only the innermost is news.
    const entry = [...subtests.slice(0, depth), name].join(' > ');
    if (failures.some((f) => f.startsWith(entry))) continue;
    if (failures.length < 50) failures.push(entry.slice(0, 400));
  }
  if (!ok && failures.length === before && failures.length < 50) failures.push(`${file} (the file ended without passing: see its output above)`);
}

function startMore() {
  while (running.size < jobs && next < files.length) {
    runFile(files[next++]).then(() => (done === files.length ? finish() : startMore()));
  }
}

function finish() {
  if (process.env.AIRLOCK_TEST_TIMES === 'write' && !args.length) {
    const lines = times.map(([sec, f]) => `  ${JSON.stringify(f)}: ${Math.round(sec)}`).sort();
    fs.writeFileSync(timesFile, `{\n${lines.join(',\n')}\n}\n`);
  }
  const slowest = times.sort((a, b) => b[0] - a[0]).slice(0, 12);
  process.stdout.write(`1..${files.length}\n# slowest files: ${slowest.map(([s, f]) => `${f} ${s.toFixed(0)} s`).join(', ')}\n`);
  process.stdout.write(`\n${totals.pass} passed, ${totals.fail} failed${totals.skip ? `, ${totals.skip} skipped` : ''}${totals.todo ? `, ${totals.todo} todo` : ''}\n`);
  if (failures.length) process.stdout.write(`\nFailed:\n${failures.map((f) => `  ${f}`).join('\n')}\n`);
  process.exit(totals.fail ? 1 : 0);
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    for (const c of running) c.kill('SIGTERM');
    process.exit(130);
  });
}

process.stdout.write('TAP version 14\n');
if (files.length === 0) finish();
else startMore();
