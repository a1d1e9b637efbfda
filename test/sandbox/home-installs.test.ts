// Eighteenth pass (issue 15, class 7: files that run later outside the sandbox). The command-line
// tools a user installs into the home folder — `npm install -g` under a user prefix (npm's docs
// recommend `~/.npm-global` to avoid sudo; `claude` is installed so), pipx's and `uv tool`'s
// environments, pnpm's, bun's and yarn's global folders — are what the user's next `claude`,
// `black`, `ruff` runs outside the sandbox. Only the version managers' folders were kept read-only.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { homeEntryFiles } from '../../sandbox/entry-files.ts';
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
];

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
  // Controls: none made when missing; a prefix that holds the working directory is not bound.
  const bare = tempDir(t, 'hunt18-sandbox-installs-bare-');
  t.notOk(homeEntryFiles(bare, path.join(bare, 'w'), [], {}).some((p) => p.includes('node_modules') || p.includes('pipx')), 'nothing made where none is installed');
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
  const script = INSTALLS.map((rel, i) => `printf '%s\\n' 'require("child_process").execSync("touch /tmp/x")' >> ~/${rel} 2>/dev/null && echo w_${'abcdefghij'[i]}=yes || echo w_${'abcdefghij'[i]}=no`).join('; ');
  const r = await runAirlock(['--agent', world.agent, '--home', world.home, '--', 'sh', '-c', script], { cwd: work, env: { ...process.env, HOME: home } });
  t.equal(r.code, 0, `the run ends well (${r.stderr.slice(-300)})`);
  const out = results(r.stdout);
  INSTALLS.forEach((rel, i) => {
    t.equal(out[`w_${'abcdefghij'[i]}`], 'no', `~/${rel} cannot be written`);
    t.equal(fs.readFileSync(path.join(home, rel), 'utf8'), '// installed\n', `~/${rel} is as installed`);
  });
});
