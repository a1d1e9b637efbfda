// Eighteenth pass (issue 15, class 7: files that run later outside the sandbox). The command-line
// tools a user installs into the home folder — `npm install -g` under a user prefix (npm's docs
// recommend `~/.npm-global` to avoid sudo; `claude` is installed so), pipx's and `uv tool`'s
// environments, pnpm's, bun's and yarn's global folders — are what the user's next `claude`,
// `black`, `ruff` runs outside the sandbox. Only the version managers' folders were kept read-only.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { desktopSettings, homeEntryFiles } from '../../sandbox/entry-files.ts';
import { results, runAirlock, startWorld } from './helpers.ts';
import { tempDir } from '../temp-dir.ts';

const INSTALLS = [
  '.npm-global/lib/node_modules/@anthropic-ai/claude-code/cli.js',
  '.local/lib/node_modules/typescript/bin/tsc',
  '.local/share/pipx/venvs/black/lib/python3.12/site-packages/black/__init__.py',
  '.local/share/uv/tools/ruff/bin/ruff',
  '.local/share/pnpm/global/5/node_modules/vercel/dist/index.js',
  '.bun/install/global/node_modules/prettier/index.js',
  '.config/yarn/global/node_modules/serve/build/main.js',
  // Nineteenth pass: interpreters other managers install into the home folder: conda's base (its
  // `conda` runs at every shell start through `conda init`'s block) and environments, one where
  // CONDA_EXE says, Homebrew's, the IDE's JDKs, .NET's user install, rye's Pythons.
  'miniconda3/bin/conda', '.conda/envs/ml/lib/python3.12/site-packages/numpy/__init__.py', 'opt/mc/bin/conda',
  '.linuxbrew/bin/jq', '.jdks/temurin-21/bin/java', '.dotnet/dotnet', '.rye/py/cpython@3.12.1/bin/python3',
];
const CONDA_EXE = 'opt/mc/bin/conda';

function makeHome(home: string, extra: string[] = []): void {
  for (const rel of [...INSTALLS, ...extra]) {
    fs.mkdirSync(path.dirname(path.join(home, rel)), { recursive: true });
    fs.writeFileSync(path.join(home, rel), '// installed\n', { mode: 0o755 });
  }
}

t.test('global tool installs in the home folder are bound read-only (where they exist)', async (t) => {
  const home = tempDir(t, 'hunt18-sandbox-installs-');
  const work = path.join(home, 'src', 'app');
  fs.mkdirSync(work, { recursive: true });
  // A prefix of the user's own choosing, named in ~/.npmrc or the environment.
  makeHome(home, ['tools/npm/lib/node_modules/x/cli.js', 'envprefix/lib/node_modules/y/cli.js', '.pipx-home/venvs/z/bin/z']);
  fs.writeFileSync(path.join(home, '.npmrc'), `prefix=\${HOME}/tools/npm\n`);
  const bound = homeEntryFiles(home, work, [], { NPM_CONFIG_PREFIX: path.join(home, 'envprefix'), PIPX_HOME: path.join(home, '.pipx-home') });
  for (const rel of ['.npm-global/lib/node_modules', '.local/lib/node_modules', '.local/share/pipx/venvs', '.local/share/uv/tools', '.local/share/pnpm/global', '.bun/install/global', '.config/yarn/global', 'tools/npm/lib/node_modules', 'envprefix/lib/node_modules', '.pipx-home/venvs']) {
    t.ok(bound.includes(path.join(home, rel)), `~/${rel} is read-only`);
  }
  const others = homeEntryFiles(home, work, [], { CONDA_EXE: path.join(home, CONDA_EXE) });
  for (const rel of ['miniconda3', '.conda/envs', 'opt/mc', '.linuxbrew', '.jdks', '.dotnet/dotnet', '.rye/py']) t.ok(others.includes(path.join(home, rel)), `~/${rel} is read-only`);
  t.notOk(homeEntryFiles(home, work, [], { CONDA_EXE: '/opt/conda/bin/conda' }).includes('/opt/conda'), 'not a conda outside the home folder');
  t.notOk(homeEntryFiles(home, work, [], { CONDA_EXE: path.join(home, 'bin', 'conda') }).includes(home), 'nor the home folder itself');
  // Controls: none made when missing; a prefix that holds the working directory is not bound.
  const bare = tempDir(t, 'hunt18-sandbox-installs-bare-');
  t.notOk(homeEntryFiles(bare, path.join(bare, 'w'), [], {}).some((p) => p.includes('node_modules') || p.includes('pipx') || p.includes('conda') || p.includes('.jdks')), 'nothing made where none is installed');
  fs.writeFileSync(path.join(home, '.npmrc'), 'prefix=~/src/app\n');
  fs.mkdirSync(path.join(work, 'lib', 'node_modules'), { recursive: true });
  t.notOk(homeEntryFiles(home, work, [], {}).includes(path.join(work, 'lib', 'node_modules')), 'not a prefix inside the working directory (the project\'s own)');
});

t.test('inside the sandbox the agent cannot change the user\'s globally installed CLIs', async (t) => {
  const world = await startWorld();
  t.teardown(() => world.close());
  const home = path.join(world.dir, 'user');
  makeHome(home);
  const work = path.join(home, 'src', 'app');
  fs.mkdirSync(work, { recursive: true });
  const script = INSTALLS.map((rel, i) => `printf '%s\\n' 'require("child_process").execSync("touch /tmp/x")' >> ~/${rel} 2>/dev/null && echo w_${'abcdefghijklmnopqrstuvwxyz'[i]}=yes || echo w_${'abcdefghijklmnopqrstuvwxyz'[i]}=no`).join('; ');
  const r = await runAirlock(['--agent', world.agent, '--home', world.home, '--', 'sh', '-c', script], { cwd: work, env: { ...process.env, HOME: home, CONDA_EXE: path.join(home, CONDA_EXE) } });
  t.equal(r.code, 0, `the run ends well (${r.stderr.slice(-300)})`);
  const out = results(r.stdout);
  INSTALLS.forEach((rel, i) => {
    t.equal(out[`w_${'abcdefghijklmnopqrstuvwxyz'[i]}`], 'no', `~/${rel} cannot be written`);
    t.equal(fs.readFileSync(path.join(home, rel), 'utf8'), '// installed\n', `~/${rel} is as installed`);
  });
});

// The caches from which host tools run programs and load code without checking them again: the
// browsers Playwright, Puppeteer, Cypress and Selenium start for the user's end-to-end tests, the
// Electron builds and node-gyp's headers native modules compile against, Hugging Face's remote-code
// modules and pickled weights and torch hub's `hubconf.py` (imported by `from_pretrained`,
// `torch.hub.load`), virtualenv's seed wheels (the pip of every new environment), coursier's and
// Ivy's jars. Each gets a private copy as npm's and pip's caches do.
const CACHES: Record<string, string> = {
  playwright: '.cache/ms-playwright/chromium-1140/chrome-linux/chrome',
  puppeteer: '.cache/puppeteer/chrome/linux-131.0.6778.85/chrome-linux64/chrome',
  cypress: '.cache/Cypress/13.6.0/Cypress/Cypress',
  selenium: '.cache/selenium/chromedriver/linux64/131.0.6778.85/chromedriver',
  electron: '.cache/electron/electron-v33.2.1-linux-x64.zip',
  'node-gyp': '.cache/node-gyp/20.18.0/include/node/node.h',
  huggingface: '.cache/huggingface/modules/transformers_modules/org/model/modeling.py',
  torch: '.cache/torch/hub/pytorch_vision_main/hubconf.py',
  virtualenv: '.local/share/virtualenv/wheel/3.12/image/1/CopyPipInstall/pip-24.0-py3-none-any/pip/__init__.py',
  coursier: '.cache/coursier/v1/https/repo1.maven.org/maven2/org/x/x_2.13/1.0/x_2.13-1.0.jar',
  ivy: '.ivy2/cache/org.x/x/jars/x-1.0.jar',
  'julia-packages': '.julia/packages/HTTP/abcd1/src/HTTP.jl',
  'julia-compiled': '.julia/compiled/v1.10/HTTP/xyz_abc.ji',
  'julia-artifacts': '.julia/artifacts/0123abcd/bin/ffmpeg',
  'cabal-store': '.cabal/store/ghc-9.4.8/aeson-2.2.1.0-abc/lib/libHSaeson.a',
  'cabal-packages': '.cabal/packages/hackage.haskell.org/aeson/2.2.1.0/aeson-2.2.1.0.tar.gz',
  bazel: '.cache/bazel/_bazel_root/0123abcd/external/rules_x/defs.bzl',
  // Nineteenth pass: what Python tools editors run load with pickle.load (code, to pickle), and
  // Dart's package sources, compiled in place.
  parso: '.cache/parso/CPython-312/0123abcd/4567ef.pkl',
  jedi: '.cache/jedi/CPython-312/0123abcd/4567ef.pkl',
  pylint: '.cache/pylint/app_1.stats',
  'pylint-old': '.pylint.d/app1.stats',
  black: '.cache/black/24.1.0/cache.0123abcd.pickle',
  pub: '.pub-cache/hosted/pub.dev/http-1.2.0/lib/http.dart',
  'pub-git': '.pub-cache/git/x-0123abcd/lib/x.dart',
  whisper: '.cache/whisper/base.pt',
  clip: '.cache/clip/ViT-B-32.pt',
  nltk: 'nltk_data/tokenizers/punkt/english.pickle',
  sklearn: 'scikit_learn_data/covertype/samples',
  keras: '.keras/models/resnet50_weights_tf_dim_ordering_tf_kernels.h5',
  // Twenty-first pass: Neovim's Lua chunk cache (vim.loader), taken in place of a module whose size
  // and time it records.
  nvim: '.cache/nvim/luac/%2fhome%2fu%2f.config%2fnvim%2flua%2fplugins%2finit.luac',
  // Twenty-eighth pass: the bazel bazelisk runs, the Maven ./mvnw runs, Zig's packages' build.zig,
  // Conan's recipes, Gradle's native library and provisioned JDKs, stack's GHC and snapshots,
  // conda's package cache, rebar3's plugins.
  bazelisk: '.cache/bazelisk/downloads/bazelbuild/bazel-7.4.1-linux-x86_64/bin/bazel',
  'maven-wrapper': '.m2/wrapper/dists/apache-maven-3.9.9-bin/3477a4f1/apache-maven-3.9.9/bin/mvn',
  zig: '.cache/zig/p/1220abcdef/build.zig',
  conan: '.conan2/p/zlib0123abcd/e/conanfile.py',
  'conan-old': '.conan/data/zlib/1.3/_/_/export/conanfile.py',
  'gradle-native': '.gradle/native/0123abcd/linux-amd64/libnative-platform.so',
  'gradle-jdks': '.gradle/jdks/eclipse_adoptium-21-amd64-linux/bin/java',
  'stack-programs': '.stack/programs/x86_64-linux/ghc-9.6.6/bin/ghc',
  'stack-snapshots': '.stack/snapshots/x86_64-linux/abcd/9.6.6/lib/libHSaeson.a',
  'conda-pkgs': '.conda/pkgs/requests-2.32.3-pyhd8ed1ab_0/site-packages/requests/__init__.py',
  rebar3: '.cache/rebar3/plugins/rebar3_hex/ebin/rebar3_hex.beam',
};

t.test('the caches host tools run programs and code from are the agent\'s own inside', async (t) => {
  const { packageCaches } = await import('../../sandbox/package-caches.ts');
  const home = tempDir(t, 'hunt18-sandbox-caches-');
  const work = path.join(home, 'src', 'app');
  fs.mkdirSync(work, { recursive: true });
  for (const rel of Object.values(CACHES)) {
    fs.mkdirSync(path.dirname(path.join(home, rel)), { recursive: true });
    fs.writeFileSync(path.join(home, rel), 'host\n', { mode: 0o755 });
  }
  const names = new Map(packageCaches(home, {}, work).map((c) => [c.name, c.path]));
  for (const [name, rel] of Object.entries(CACHES)) t.ok(names.get(name) && path.join(home, rel).startsWith(names.get(name)!), `${name}: ${names.get(name)}`);
  // Where the environment moves them.
  const moved = { PLAYWRIGHT_BROWSERS_PATH: path.join(home, 'pw'), HF_HOME: path.join(home, 'hf'), TORCH_HOME: path.join(home, 'th') };
  for (const d of Object.values(moved)) fs.mkdirSync(d);
  const found = new Map(packageCaches(home, moved, work).map((c) => [c.name, c.path]));
  t.equal(found.get('playwright'), path.join(fs.realpathSync(home), 'pw'), 'PLAYWRIGHT_BROWSERS_PATH');
  t.equal(found.get('huggingface'), path.join(fs.realpathSync(home), 'hf'), 'HF_HOME');
  t.equal(found.get('torch'), path.join(fs.realpathSync(home), 'th'), 'TORCH_HOME');
  const tools = { PYLINT_HOME: path.join(home, 'pl'), BLACK_CACHE_DIR: path.join(home, 'bl'), PUB_CACHE: path.join(home, 'pc') };
  for (const d of [tools.PYLINT_HOME, tools.BLACK_CACHE_DIR, path.join(tools.PUB_CACHE, 'hosted')]) fs.mkdirSync(d, { recursive: true });
  const byTools = new Map(packageCaches(home, tools, work).map((c) => [c.name, c.path]));
  t.equal(byTools.get('pylint'), path.join(fs.realpathSync(home), 'pl'), 'PYLINT_HOME');
  t.equal(byTools.get('black'), path.join(fs.realpathSync(home), 'bl'), 'BLACK_CACHE_DIR');
  t.equal(byTools.get('pub'), path.join(fs.realpathSync(home), 'pc', 'hosted'), 'PUB_CACHE');
  // Twenty-eighth pass: where their tools' variables move the new ones.
  const homes = { BAZELISK_HOME: path.join(home, 'bz'), MAVEN_USER_HOME: path.join(home, 'mv'), ZIG_GLOBAL_CACHE_DIR: path.join(home, 'zg'), STACK_ROOT: path.join(home, 'st'), CONDA_PKGS_DIRS: `${path.join(home, 'cp')},/opt/conda/pkgs` };
  for (const d of ['bz', 'mv/wrapper', 'zg', 'st/programs', 'cp']) fs.mkdirSync(path.join(home, d), { recursive: true });
  const byHomes = new Map(packageCaches(home, homes, work).map((c) => [c.name, c.path]));
  const real = fs.realpathSync(home);
  t.equal(byHomes.get('bazelisk'), path.join(real, 'bz'), 'BAZELISK_HOME');
  t.equal(byHomes.get('maven-wrapper'), path.join(real, 'mv', 'wrapper'), 'MAVEN_USER_HOME');
  t.equal(byHomes.get('zig'), path.join(real, 'zg'), 'ZIG_GLOBAL_CACHE_DIR');
  t.equal(byHomes.get('stack-programs'), path.join(real, 'st', 'programs'), 'STACK_ROOT');
  t.equal(byHomes.get('conda-pkgs'), path.join(real, 'cp'), 'CONDA_PKGS_DIRS (its first folder)');
  // pylint (and ccache) use the old folder once it exists: never made.
  const bare = tempDir(t, 'hunt19-sandbox-caches-');
  fs.mkdirSync(path.join(bare, '.cache'));
  packageCaches(bare, {}, path.join(bare, 'w'));
  t.notOk(fs.existsSync(path.join(bare, '.pylint.d')), '~/.pylint.d is not made');
  for (const d of ['nltk_data', 'scikit_learn_data', '.keras']) t.notOk(fs.existsSync(path.join(bare, d)), `~/${d} is not made`);
  const data = { NLTK_DATA: `${path.join(home, 'nl')}:/usr/share/nltk_data`, SCIKIT_LEARN_DATA: path.join(home, 'sk'), KERAS_HOME: path.join(home, 'ke') };
  for (const d of ['nl', 'sk', 'ke']) fs.mkdirSync(path.join(home, d));
  const byData = new Map(packageCaches(home, data, work).map((c) => [c.name, c.path]));
  t.equal(byData.get('nltk'), path.join(fs.realpathSync(home), 'nl'), 'NLTK_DATA (its first folder)');
  t.equal(byData.get('sklearn'), path.join(fs.realpathSync(home), 'sk'), 'SCIKIT_LEARN_DATA');
  t.equal(byData.get('keras'), path.join(fs.realpathSync(home), 'ke'), 'KERAS_HOME');
  t.ok(fs.existsSync(path.join(bare, '.cache', 'parso')), 'a missing ~/.cache/parso is made (private), so the agent cannot make the first one');
  // Playwright's `PLAYWRIGHT_BROWSERS_PATH=0` keeps browsers inside node_modules: not a folder here.
  t.notOk(new Map(packageCaches(home, { PLAYWRIGHT_BROWSERS_PATH: '0' }, work).map((c) => [c.name, c.path])).get('playwright')?.endsWith('/0'), 'PLAYWRIGHT_BROWSERS_PATH=0 is no folder');
});

t.test('inside the sandbox the agent writes into those caches and the host\'s stay as they were', async (t) => {
  const world = await startWorld();
  t.teardown(() => world.close());
  const home = path.join(world.dir, 'user');
  const work = path.join(home, 'src', 'app');
  fs.mkdirSync(work, { recursive: true });
  for (const rel of Object.values(CACHES)) {
    fs.mkdirSync(path.dirname(path.join(home, rel)), { recursive: true });
    fs.writeFileSync(path.join(home, rel), 'host\n', { mode: 0o755 });
  }
  const keys = Object.keys(CACHES).map((_, i) => `c_${'abcdefghijklmnopqrstuvwxyz'[i % 26]}${'abc'[Math.floor(i / 26)]}`);
  const script = Object.values(CACHES).map((rel, i) => `mkdir -p "$(dirname ~/${rel})" && printf 'agent\\n' > ~/${rel} && echo ${keys[i]}=$(cat ~/${rel})`).join('; ');
  const r = await runAirlock(['--agent', world.agent, '--home', world.home, '--', 'sh', '-c', script], { cwd: work, env: { ...process.env, HOME: home } });
  t.equal(r.code, 0, `the run ends well (${r.stderr.slice(-300)})`);
  const out = results(r.stdout);
  Object.values(CACHES).forEach((rel, i) => {
    t.equal(out[keys[i]!], 'agent', `inside, the agent works with its own ~/${rel}`);
    t.equal(fs.readFileSync(path.join(home, rel), 'utf8'), 'host\n', `the host's ~/${rel} is as it was`);
  });
});

t.test('mise\'s list of trusted config files is kept read-only, as direnv\'s allow-list is', async (t) => {
  // mise runs the hooks, tasks and `_.source` env of a `mise.toml` only once the user trusted it
  // (`mise trust`, a file per config in its state folder): a trust the agent adds for the
  // `mise.toml` it made runs that file's `[hooks] enter` at the user's next `cd`, unasked.
  const home = tempDir(t, 'hunt18-sandbox-mise-');
  const work = path.join(home, 'src', 'app');
  fs.mkdirSync(work, { recursive: true });
  fs.mkdirSync(path.join(home, '.local', 'state', 'mise'), { recursive: true });
  const bound = homeEntryFiles(home, work, [], {});
  t.ok(bound.includes(path.join(home, '.local/state/mise/trusted-configs')), 'made (empty) where mise keeps its state, and bound read-only');
  const moved = path.join(home, 'mise-state');
  fs.mkdirSync(path.join(moved, 'trusted-configs'), { recursive: true });
  t.ok(homeEntryFiles(home, work, [], { MISE_STATE_DIR: moved }).includes(path.join(moved, 'trusted-configs')), 'and where MISE_STATE_DIR moves it');
  const bare = tempDir(t, 'hunt18-sandbox-mise-none-');
  homeEntryFiles(bare, path.join(bare, 'w'), [], {});
  t.notOk(fs.existsSync(path.join(bare, '.local', 'state', 'mise')), 'nothing made where mise is not used');
});

// Start files of REPLs and tools that run code from the home folder at every start, on no list:
// mongosh's, Erlang's and IEx's, SBCL's, OCaml's, Racket's, Guile's and gnuplot's (`system`), Julia's
// `startup.jl` (every `julia`), pylint's (`init-hook`, which VS Code's extension runs on opening a
// file), Leiningen's user profile (`:injections`), Mix's archives (loaded by every `mix`), yt-dlp's
// (`--exec`), mpv's scripts, bat's and lazygit's (a pager command), aria2's (download hooks).
const START_FILES = [
  '.mongoshrc.js', '.mongorc.js', '.erlang', '.iex.exs', '.sbclrc', '.ocamlinit', '.racketrc', '.guile', '.gnuplot',
  '.julia/config/startup.jl', '.pylintrc', '.config/pylintrc', '.lein/profiles.clj', '.mix/archives/evil-0.1.0/evil-0.1.0/ebin/evil.beam',
  '.config/yt-dlp/config', '.config/mpv/scripts/x.lua', '.config/bat/config', '.config/lazygit/config.yml', '.config/aria2/aria2.conf',
  // Nineteenth pass: dconf's database (GNOME's custom keybindings' commands, its default terminal).
  '.config/dconf/user',
];

t.test('REPLs\' and tools\' start files are kept read-only', async (t) => {
  const world = await startWorld();
  t.teardown(() => world.close());
  const home = path.join(world.dir, 'user');
  for (const rel of START_FILES) {
    fs.mkdirSync(path.dirname(path.join(home, rel)), { recursive: true });
    fs.writeFileSync(path.join(home, rel), '# mine\n');
  }
  const work = path.join(home, 'src', 'app');
  fs.mkdirSync(work, { recursive: true });
  const bound = homeEntryFiles(home, work, [], {});
  for (const rel of START_FILES) t.ok(bound.some((b) => path.join(home, rel) === b || path.join(home, rel).startsWith(`${b}/`)), `~/${rel} is bound read-only`);
  const keys = START_FILES.map((_, i) => `s_${'abcdefghijklmnopqrstuvwxyz'[i]}`);
  const script = START_FILES.map((rel, i) => `printf 'x\\n' >> ~/${rel} 2>/dev/null && echo ${keys[i]}=yes || echo ${keys[i]}=no`).join('; ');
  const r = await runAirlock(['--agent', world.agent, '--home', world.home, '--', 'sh', '-c', script], { cwd: work, env: { ...process.env, HOME: home } });
  const out = results(r.stdout);
  START_FILES.forEach((rel, i) => t.equal(out[keys[i]!], 'no', `~/${rel} cannot be written inside (${r.stderr.slice(-150)})`));
  for (const rel of START_FILES) t.equal(fs.readFileSync(path.join(home, rel), 'utf8'), '# mine\n', `~/${rel} unchanged`);
});

t.test('the remote editors\' servers installed in the home folder are kept read-only', async (t) => {
  // VS Code's Remote-SSH (and Cursor's, Windsurf's) installs its server in the home folder of the
  // machine it connects to and starts it from there at the next connection: the server's Node and
  // JavaScript, and the CLI that launches it. Only its extensions and machine settings were kept.
  const world = await startWorld();
  t.teardown(() => world.close());
  const home = path.join(world.dir, 'user');
  const servers = [
    '.vscode-server/cli/servers/Stable-0123abcd/server/out/server-main.js',
    '.vscode-server/bin/0123abcd/node',
    '.vscode-server/code-0123abcd',
    '.cursor-server/bin/4567ef/out/server-main.js',
    '.windsurf-server/bin/89ab/out/server-main.js',
  ];
  for (const rel of servers) {
    fs.mkdirSync(path.dirname(path.join(home, rel)), { recursive: true });
    fs.writeFileSync(path.join(home, rel), '// server\n', { mode: 0o755 });
  }
  const work = path.join(home, 'src', 'app');
  fs.mkdirSync(work, { recursive: true });
  const keys = servers.map((_, i) => `v_${'abcde'[i]}`);
  const script = servers.map((rel, i) => `printf 'x\\n' >> ~/${rel} 2>/dev/null && echo ${keys[i]}=yes || echo ${keys[i]}=no`).join('; ');
  const r = await runAirlock(['--agent', world.agent, '--home', world.home, '--', 'sh', '-c', script], { cwd: work, env: { ...process.env, HOME: home } });
  const out = results(r.stdout);
  servers.forEach((rel, i) => t.equal(out[keys[i]!], 'no', `~/${rel} cannot be written inside (${r.stderr.slice(-150)})`));
  for (const rel of servers) t.equal(fs.readFileSync(path.join(home, rel), 'utf8'), '// server\n', `~/${rel} unchanged`);
  // Control: the running server's logs change all the time; a run does not name them.
  const { plantedSince } = await import('../../sandbox/entry-files.ts');
  const since = Date.now();
  await new Promise((r) => setTimeout(r, 20));
  fs.mkdirSync(path.join(home, '.vscode-server', 'data', 'logs'), { recursive: true });
  fs.writeFileSync(path.join(home, '.vscode-server', 'data', 'logs', 'remoteagent.log'), 'x\n');
  fs.writeFileSync(path.join(home, '.vscode-server', 'cli', 'servers', 'Stable-0123abcd', 'log.txt'), 'x\n');
  t.notOk(plantedSince(since, home, work, '/usr/bin:/bin', {}).planted.some((f) => f.path.includes('.vscode-server')), 'the server\'s own logs are not named');
});

t.test('dconf\'s database folder is kept read-only (made where dconf is installed), not named after a run', async (t) => {
  // Inside there is no D-Bus, so an agent writes ~/.config/dconf/user itself (a custom keybinding
  // whose `command` is its program), and GNOME obeys it at the next login. The folder is bound, not
  // the file: dconf's service renames a new database over it whenever an app saves a setting.
  const home = tempDir(t, 'hunt19-sandbox-dconf-');
  const work = path.join(home, 'src', 'app');
  fs.mkdirSync(path.join(home, '.config'), { recursive: true });
  fs.mkdirSync(work, { recursive: true });
  t.same(desktopSettings(home, {}, false), [], 'not made where dconf is not installed');
  t.notOk(fs.existsSync(path.join(home, '.config', 'dconf')));
  t.same(desktopSettings(home, {}, true), [path.join(home, '.config', 'dconf')], 'made (empty) where it is');
  t.equal(fs.statSync(path.join(home, '.config', 'dconf')).mode & 0o777, 0o700, 'private, as dconf makes it');
  const moved = path.join(home, 'xdg');
  fs.mkdirSync(moved);
  t.ok(desktopSettings(home, { XDG_CONFIG_HOME: moved }, true).includes(path.join(moved, 'dconf')), 'also where XDG_CONFIG_HOME moves it');
  t.ok(homeEntryFiles(home, work, [], {}).includes(path.join(home, '.config', 'dconf')), 'bound read-only');
  t.notOk(homeEntryFiles(home, work, [path.join(home, '.config', 'dconf')], {}).includes(path.join(home, '.config', 'dconf')), 'unless --writable names it');
  const { plantedSince } = await import('../../sandbox/entry-files.ts');
  const since = Date.now();
  await new Promise((r) => setTimeout(r, 20));
  fs.writeFileSync(path.join(home, '.config', 'dconf', 'user'), 'GVariant\n');
  t.notOk(plantedSince(since, home, work, '/usr/bin:/bin', {}).planted.some((f) => f.path.includes('dconf')), 'a setting saved during the run is not named');
});
