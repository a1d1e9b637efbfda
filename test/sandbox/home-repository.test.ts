// Eighteenth pass (issue 15, class 7: files that run later outside the sandbox). git looks for a
// repository in every folder above the current one, the home folder included: a `~/.git` makes
// every folder under the home folder that is in no repository of its own part of it, and shell
// prompts and editors run `git status` there, which runs its `core.fsmonitor`. The fourteenth pass
// named a `.git` made above the working directory only below the home folder; one in the home
// folder itself (made by the agent, or the user's dotfiles repository) was neither kept nor named.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { results, runAirlock, startWorld } from './helpers.ts';

const world = await startWorld();
t.teardown(() => world.close());
const gitEnv = (home: string): NodeJS.ProcessEnv => ({ ...process.env, HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_CEILING_DIRECTORIES: path.dirname(home) });

t.test('a ~/.git the agent makes is named after the run', async (t) => {
  const home = path.join(world.dir, 'user-a');
  const work = path.join(home, 'src', 'app');
  fs.mkdirSync(work, { recursive: true });
  fs.mkdirSync(path.join(home, 'Downloads'));
  const mark = path.join(world.dir, 'fsmonitor-ran-a');
  // The project is in no repository; the agent makes one in the home folder whose fsmonitor runs.
  const script = `git init -q "$HOME" && git -C "$HOME" config core.fsmonitor "touch ${mark}; false" && echo made=yes`;
  const r = await runAirlock(['--agent', world.agent, '--home', world.home, '--', 'sh', '-c', script], { cwd: work, env: gitEnv(home) });
  t.equal(results(r.stdout).made, 'yes', `the agent could make it (${r.stderr.slice(-300)})`);
  t.match(r.stderr, /~\/\.git/, `the run names ~/.git (${r.stderr.slice(-400)})`);
  // Why: the user's next prompt in any folder of the home folder runs it.
  execFileSync('git', ['status', '--short'], { cwd: path.join(home, 'Downloads'), env: gitEnv(home), stdio: 'ignore' });
  t.ok(fs.existsSync(mark), 'git status in ~/Downloads ran the agent\'s fsmonitor (what the name warns of)');
});

t.test('the control files of an existing ~/.git (a dotfiles repository) are read-only inside', async (t) => {
  const home = path.join(world.dir, 'user-b');
  const work = path.join(home, 'src', 'app');
  fs.mkdirSync(work, { recursive: true });
  execFileSync('git', ['init', '-q', home], { env: gitEnv(home) });
  // The project has a repository of its own: `~/.git` is not the one holding the working directory.
  execFileSync('git', ['init', '-q', work], { env: gitEnv(home) });
  const mark = path.join(world.dir, 'fsmonitor-ran-b');
  const script = [
    `git -C "$HOME" config core.fsmonitor "touch ${mark}; false" 2>/dev/null && echo config=yes || echo config=no`,
    `printf '#!/bin/sh\\ntouch ${mark}\\n' > "$HOME/.git/hooks/post-checkout" 2>/dev/null && echo hook=yes || echo hook=no`,
    `printf '* filter=x\\n' >> "$HOME/.git/info/attributes" 2>/dev/null && echo info=yes || echo info=no`,
    `echo ../elsewhere > "$HOME/.git/commondir" 2>/dev/null && echo commondir=yes || echo commondir=no`,
  ].join('; ');
  const r = await runAirlock(['--agent', world.agent, '--home', world.home, '--', 'sh', '-c', script], { cwd: work, env: gitEnv(home) });
  const out = results(r.stdout);
  for (const k of ['config', 'hook', 'info', 'commondir']) t.equal(out[k], 'no', `${k} cannot be written (${r.stderr.slice(-200)})`);
  fs.mkdirSync(path.join(home, 'notes'));
  execFileSync('git', ['status', '--short'], { cwd: path.join(home, 'notes'), env: gitEnv(home), stdio: 'ignore' });
  t.notOk(fs.existsSync(mark), 'the host\'s git status runs nothing of the agent\'s');
});
