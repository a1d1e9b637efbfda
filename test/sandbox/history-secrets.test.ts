// Eighteenth pass (issue 15, class 7: real secrets read from disk inside the sandbox). The sandbox
// shows a copy of `.env` with placeholders, but the repository's object store keeps every version
// git was given. `historySecrets` finds the value in each place git keeps one (the e2e refusal is
// in test/run/run-clients.test.ts); a repository that never held it is not flagged.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { historySecrets } from '../../sandbox/work-secrets.ts';
import { tempDir } from '../temp-dir.ts';

const value = 'ghp_HistoryCanary0123456789abcdefABCD';
const values = [{ secret: 'github', value, placeholder: 'airlock_ph_github_0123456789' }];

function repo(t: Parameters<typeof tempDir>[0]): { dir: string; git: (...args: string[]) => string } {
  const dir = tempDir(t, 'hunt18-sandbox-history-');
  const git = (...args: string[]): string => execFileSync('git', ['-C', dir, '-c', 'user.name=u', '-c', 'user.email=u@example.com', ...args], { encoding: 'utf8' });
  git('init', '-q');
  fs.writeFileSync(path.join(dir, 'app.js'), 'console.log(1)\n');
  git('add', 'app.js');
  git('commit', '-qm', 'code');
  return { dir, git };
}

t.test('each place git keeps a version of a file holds the value', async (t) => {
  const cases: Record<string, (dir: string, git: (...a: string[]) => string) => void> = {
    'committed, removed since, packed': (dir, git) => {
      fs.writeFileSync(path.join(dir, '.env'), `GITHUB_TOKEN=${value}\n`);
      git('add', '.env');
      git('commit', '-qm', 'env');
      git('rm', '-q', '.env');
      git('commit', '-qm', 'no env');
      git('gc', '-q');
    },
    'in a commit only the reflog reaches (amended away)': (dir, git) => {
      fs.writeFileSync(path.join(dir, 'secrets.json'), `{"token": "${value}"}\n`);
      fs.appendFileSync(path.join(dir, 'app.js'), 'console.log(2)\n');
      git('add', 'secrets.json', 'app.js');
      git('commit', '-qm', 'oops');
      git('rm', '-q', '--cached', 'secrets.json');
      git('commit', '-q', '--amend', '-m', 'fixed');
      fs.rmSync(path.join(dir, 'secrets.json'));
    },
    'staged and unstaged (a loose blob no commit reaches)': (dir, git) => {
      fs.writeFileSync(path.join(dir, 'config.js'), `export const token = "${value}";\n`);
      git('add', 'config.js');
      git('reset', '-q', 'config.js');
      fs.rmSync(path.join(dir, 'config.js'));
    },
    'stashed': (dir, git) => {
      fs.writeFileSync(path.join(dir, '.env'), `GITHUB_TOKEN=${value}\n`);
      git('stash', '-q', '-u');
    },
    'a Basic pair in a committed .env.production': (dir, git) => {
      fs.writeFileSync(path.join(dir, '.env.production'), `AUTH="Basic ${Buffer.from(`x-access-token:${value}`).toString('base64')}"\n`);
      git('add', '.env.production');
      git('commit', '-qm', 'prod');
      git('rm', '-q', '.env.production');
      git('commit', '-qm', 'gone');
      git('gc', '-q');
    },
  };
  for (const [name, make] of Object.entries(cases)) {
    const { dir, git } = repo(t);
    make(dir, git);
    t.same(historySecrets(dir, values), { secrets: ['github'], complete: true }, name);
    // From a folder below the top, and from a linked worktree, the same store is read.
    fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
    t.same(historySecrets(path.join(dir, 'src'), values).secrets, ['github'], `${name}: from a subfolder`);
  }
  const { dir, git } = repo(t);
  fs.writeFileSync(path.join(dir, '.env'), `GITHUB_TOKEN=${value}\n`);
  git('add', '.env');
  git('commit', '-qm', 'env');
  const wt = path.join(tempDir(t, 'hunt18-sandbox-history-wt-'), 'wt');
  git('worktree', 'add', '-q', wt);
  t.same(historySecrets(wt, values).secrets, ['github'], 'a linked worktree reads the main repository\'s objects');
});

t.test('controls: a history without the value, no repository, no values', async (t) => {
  const { dir, git } = repo(t);
  // The value only in an untracked, ignored .env: the copy covers it; git holds nothing.
  fs.writeFileSync(path.join(dir, '.gitignore'), '.env\n');
  fs.writeFileSync(path.join(dir, '.env'), `GITHUB_TOKEN=${value}\n`);
  git('add', '.gitignore');
  git('commit', '-qm', 'ignore');
  fs.writeFileSync(path.join(dir, '.env.example'), 'GITHUB_TOKEN=\n');
  git('add', '.env.example');
  git('commit', '-qm', 'example');
  t.same(historySecrets(dir, values), { secrets: [], complete: true }, 'an ignored .env and an empty example are not in the history');
  t.same(historySecrets(tempDir(t, 'hunt18-sandbox-history-none-'), values), { secrets: [], complete: true }, 'no repository');
  t.same(historySecrets(dir, []), { secrets: [], complete: true }, 'no values to look for');
});
