// `airlock run` with real clients: the environment it builds, and curl, a Node script (undici's
// EnvHttpProxyAgent reads the proxy variables) and a Python requests script going through Airlock,
// with and without the sandbox. The agent holds a placeholder; the upstream gets the real secret
// where the policy binds it; the agent never reads the real value back; a placeholder sent to a
// host with no binding is refused and that host receives nothing.
import t, { type Test } from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { airlockBin, results, runAirlock, type RunResult } from '../sandbox/helpers.ts';
import { startCanaryWorld } from './helpers.ts';

const { world, canary, placeholder, env } = await startCanaryWorld(t);
const undici = createRequire(import.meta.url).resolve('undici');
const base = ['--agent', world.agent, '--home', world.home];
const UPS = world.https.port;
const OTHER = world.other.port;

function neverSeesCanary(t: Test, r: RunResult): void {
  t.notOk(r.stdout.includes(canary) || r.stderr.includes(canary), 'the agent-side output never holds the real secret');
}

t.test('the environment: proxy for every client, CA trusted, placeholders, Airlock\'s own secrets removed', async (t) => {
  const masterEnv = await runAirlock([...base, '--no-sandbox', '--', 'sh', '-c', 'echo key=${AIRLOCK_MASTER_KEY:-unset}'], {
    cwd: world.work,
    // A wrong key: the real-value check warns and the run goes on; the key never reaches the agent.
    env: { ...env, AIRLOCK_MASTER_KEY: 'not-for-agents-0123456789' },
  });
  t.equal(results(masterEnv.stdout).key, 'unset', 'AIRLOCK_MASTER_KEY is not passed to the agent');
  t.match(masterEnv.stderr, /could not check the environment for real secret values/);
  t.notMatch(masterEnv.stderr, /not-for-agents/, 'the key is not echoed');

  // A copy outside the state folder, which the sandbox hides.
  const caCopy = path.join(world.dir, 'ca-copy.pem');
  fs.copyFileSync(path.join(world.home, 'ca.pem'), caCopy);
  // Thirteenth pass: the token Airlock keeps is often in the project and the home folder too; the
  // sandboxed run below reads them.
  const dir = fs.mkdtempSync(path.join(world.dir, 'dotenv-'));
  const basic = Buffer.from(`x-access-token:${canary}`).toString('base64');
  const files: Record<string, string> = {
    '.env': `GITHUB_TOKEN=${canary}\nDEBUG=1\n`,
    'config/.env.production': `AUTH="Basic ${basic}"\n`,
    'infra/prod.tfvars': `token = "${encodeURIComponent(canary)}"\n`,
    'notes.env.txt': `not a dotenv: ${canary}\n`,
    // Seventeenth pass: editors' leftovers of such files hold the same text (a backup, Emacs's
    // auto-save, vim's swap of secrets.json).
    '.env~': `GITHUB_TOKEN=${canary}\n`,
    '#.env#': `GITHUB_TOKEN=${canary}\n`,
    '.secrets.json.swp': `b0VIM 9.0\0\0\0\0{"token": "${canary}"}\n`,
  };

  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), text);
  }
  // And the home folder: a token exported in ~/.zshrc, and in a file ~/.bashrc sources.
  const home = fs.mkdtempSync(path.join(world.dir, 'home-'));
  fs.mkdirSync(path.join(home, '.config'), { recursive: true });
  // ~/.zshrc a symlink into a dotfiles repository (stow), as many keep it.
  fs.mkdirSync(path.join(home, 'dotfiles'));
  fs.writeFileSync(path.join(home, 'dotfiles', 'zshrc'), `export GITHUB_TOKEN=${canary}\n`);
  fs.symlinkSync(path.join(home, 'dotfiles', 'zshrc'), path.join(home, '.zshrc'));
  fs.writeFileSync(path.join(home, '.bashrc'), '[ -f ~/.config/tokens.sh ] && . ~/.config/tokens.sh\n');
  fs.writeFileSync(path.join(home, '.config', 'tokens.sh'), `export GH_TOKEN='${canary}'\n`);
  // Seventeenth pass: an editor's backup of an rc file beside it.
  fs.writeFileSync(path.join(home, '.bashrc.bak'), `export GITHUB_TOKEN=${canary}\n`);
  // A .env.local that links to a file kept outside the project.
  fs.writeFileSync(path.join(home, 'shared.env'), `GH_TOKEN=${canary}\n`);
  fs.symlinkSync(path.join(home, 'shared.env'), path.join(dir, '.env.local'));
  // An earlier agent's symlink into a hidden credential store (gh's hosts.yml holds this token and
  // another host's): the store stays hidden, not replaced by a copy showing the other token.
  fs.mkdirSync(path.join(home, '.config', 'gh'), { recursive: true });
  fs.writeFileSync(path.join(home, '.config', 'gh', 'hosts.yml'), `github.com:\n  oauth_token: ${canary}\nghe.example:\n  oauth_token: gho_OtherHostCanary42\n`);
  fs.mkdirSync(path.join(dir, 'ops'));
  fs.symlinkSync(path.join(home, '.config', 'gh', 'hosts.yml'), path.join(dir, 'ops', '.env'));
  // A config holding this secret and another credential: hidden whole (a copy would show the other).
  fs.writeFileSync(path.join(home, '.npmrc'), `//npm.pkg.github.com/:_authToken=${canary}\n//npm.other.example/:_authToken=npm_OtherCanary0123\n`);
  // Sixteenth pass: coding agents' own logins. Codex's is hidden because the run hands Codex its
  // key through Airlock (OPENAI_API_KEY below holds a stored secret's value: the agent gets its
  // placeholder); Claude Code's stays readable (the agent may be Claude Code, which needs it) and
  // is named before the run.
  for (const [f, text] of [['.claude/.credentials.json', '{"claudeAiOauth":{"refreshToken":"sk-ant-ort01-ClaudeLoginCanary"}}'], ['.codex/auth.json', '{"tokens":{"refresh_token":"CodexLoginCanary"}}']]) {
    fs.mkdirSync(path.dirname(path.join(home, f!)), { recursive: true });
    fs.writeFileSync(path.join(home, f!), text!, { mode: 0o600 });
  }
  // Seventeenth pass: the repository's own config holding the token, as a clone with it in the URL
  // and CI checkouts (actions/checkout's extraheader) leave it.
  execFileSync('git', ['init', '-q', dir]);
  execFileSync('git', ['-C', dir, 'config', 'remote.origin.url', `https://x-access-token:${canary}@github.com/o/r.git`]);
  execFileSync('git', ['-C', dir, 'config', 'http.https://github.com/.extraheader', `AUTHORIZATION: basic ${basic}`]);
  // Seventeenth pass: other names of files holding the value (hard links an earlier run left before
  // the user put the token there): in the project and deep in the home folder.
  fs.linkSync(path.join(dir, '.env'), path.join(dir, 'notes.txt'));
  fs.mkdirSync(path.join(home, 'deep', 'a'), { recursive: true });
  fs.linkSync(path.join(dir, 'config', '.env.production'), path.join(home, 'deep', 'a', 'copy.txt'));
  // And the project under a second path (a bind mount: a dev container's view of it), run by root.
  const alias = fs.mkdtempSync(path.join(world.dir, 'alias-'));
  let aliased = false;
  if (process.getuid?.() === 0) {
    try {
      execFileSync('mount', ['--bind', dir, alias], { stdio: 'pipe' });
      aliased = true;
      t.teardown(() => {
        try {
          execFileSync('umount', [alias], { stdio: 'pipe' });
        } catch {
          /* left for the machine's clean-up */
        }
      });
    } catch {
      t.comment('no bind mount here: the alias case is not tried');
    }
  }
  const readFiles = '; echo "rcbackup=$(cat ~/.bashrc.bak)"; echo "gitremote=$(git remote get-url origin)"; echo "githeader=$(git config --get http.https://github.com/.extraheader)"; echo "leftovers=$(cat .env~ \\#.env\\# .secrets.json.swp 2>&1 | tr -d \'\\n\\000\')"; echo "viaalias=$(tr -d \'\\n\' < ' + alias + '/.env 2>/dev/null)"; echo "hardlink=$(tr -d \'\\n\' < notes.txt)"; echo "hardhome=$(cat ~/deep/a/copy.txt)"; echo "claude=$(cat ~/.claude/.credentials.json 2>&1)"; echo "codex=$(cat ~/.codex/auth.json 2>&1)"; echo "dotenv=$(tr -d \'\\n\' < .env)"; echo "prod=$(cat config/.env.production)"; echo "tfvars=$(cat infra/prod.tfvars)"; echo "zshrc=$(cat ~/.zshrc)"; echo "linked=$(cat .env.local)"; echo "ghlink=$(cat ops/.env 2>&1 | tr -d \'\\n\')"; echo "sourced=$(cat ~/.config/tokens.sh)"; echo "npmrc=$(cat ~/.npmrc 2>&1 | tr -d \'\\n\')"; printf x >> .env 2>/dev/null && echo wrote=yes; true';
  for (const sandbox of [false, true]) {
    const r = await runAirlock([...base, ...(sandbox ? [] : ['--no-sandbox']), '--', 'sh', '-c', `env; echo ca_matches=$(cmp -s "$SSL_CERT_FILE" "$CA" && echo yes)${sandbox ? readFiles : ''}`], {
      cwd: sandbox ? dir : world.work,
      env: {
        ...env, ...(sandbox ? { HOME: home } : {}), NO_PROXY: 'localhost,127.0.0.1', no_proxy: '*', AIRLOCK_MASTER_KEY_FILE: path.join(world.home, 'master.key'), LEFTOVER: `x-${canary}-y`, CA: caCopy,
        // The same value encoded: a Basic pair, a URL's userinfo, hex.
        LEFTOVER_BASIC: `Basic ${Buffer.from(`x-access-token:${canary}`).toString('base64')}`,
        LEFTOVER_URL: `https://u:${encodeURIComponent(canary)}@git.example/r.git`,
        LEFTOVER_HEX: Buffer.from(canary).toString('hex'),
        OPENAI_API_KEY: canary,
      },
    });
    t.equal(r.code, 0, `sandbox=${sandbox}: ran`);
    const vars = new Map(r.stdout.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const));
    const url = new URL(vars.get('HTTP_PROXY') ?? 'x:');
    t.equal(url.username, world.agent, 'the proxy URL names the agent');
    t.equal(url.hostname, '127.0.0.1');
    if (sandbox) t.equal(url.port, '3128', 'inside the sandbox the bridge listens on 3128');
    for (const k of ['HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy']) t.equal(vars.get(k), vars.get('HTTP_PROXY'), `${k} set`);
    t.notOk(vars.has('NO_PROXY') || vars.has('no_proxy'), 'NO_PROXY cleared');
    const ca = vars.get('SSL_CERT_FILE');
    for (const k of ['NODE_EXTRA_CA_CERTS', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'GIT_SSL_CAINFO']) t.equal(vars.get(k), ca, `${k} is the CA`);
    t.equal(results(r.stdout).ca_matches, 'yes', 'the CA file the agent sees is Airlock\'s CA certificate');
    t.equal(vars.get('NODE_USE_ENV_PROXY'), '1');
    t.equal(vars.get('GITHUB_TOKEN'), placeholder, 'placeholder under the secret\'s env name');
    t.equal(vars.get('GH_TOKEN'), placeholder, 'and under its second env name');
    t.notOk(vars.has('AIRLOCK_MASTER_KEY_FILE'), 'AIRLOCK_MASTER_KEY_FILE is not passed to the agent');
    t.equal(vars.get('LEFTOVER'), `x-${placeholder}-y`, 'a real secret value left in the environment is replaced by its placeholder');
    t.match(r.stderr, /environment variable LEFTOVER holds the real value of secret github/, 'and the user is told (names only)');
    t.equal(Buffer.from((vars.get('LEFTOVER_BASIC') ?? '').replace(/^Basic /, ''), 'base64').toString(), `x-access-token:${placeholder}`, 'inside a Basic pair: decoded, replaced, encoded again');
    t.equal(vars.get('LEFTOVER_URL'), `https://u:${placeholder}@git.example/r.git`, 'in a URL');
    t.equal(Buffer.from(vars.get('LEFTOVER_HEX') ?? '', 'hex').toString(), placeholder, 'in hex');
    for (const f of [Buffer.from(canary).toString('hex'), Buffer.from(canary).toString('base64').slice(4, 24)]) t.notOk(r.stdout.includes(f), 'no encoded form of the value reaches the agent');
    if (sandbox) {
      const out = results(r.stdout);
      t.equal(out.dotenv, `GITHUB_TOKEN=${placeholder}DEBUG=1`, '.env: the placeholder in place of the value, the rest as it was');
      t.equal(out.prod, `AUTH="Basic ${Buffer.from(`x-access-token:${placeholder}`).toString('base64')}"`, 'a Basic pair: decoded, replaced, encoded again');
      t.ok(out.tfvars?.includes(placeholder) && !out.tfvars.includes(canary), 'a Terraform variables file: no real value');
      t.equal(out.zshrc, `export GITHUB_TOKEN=${placeholder}`, '~/.zshrc (a symlink into a dotfiles folder): the placeholder');
      t.equal(out.linked, `GH_TOKEN=${placeholder}`, 'a .env.local linking outside the project: the placeholder');
      t.notMatch(out.ghlink ?? '', /OtherHostCanary|oauth_token/, `a planted link into a hidden store reads nothing (${out.ghlink})`);
      t.equal(out.sourced, `export GH_TOKEN='${placeholder}'`, 'a file ~/.bashrc sources: the placeholder');
      t.match(r.stderr, /airlock: ~\/dotfiles\/zshrc holds the real value of secret github/, 'named with its home path (where the link leads)');
      t.notMatch(out.npmrc ?? '', /OtherCanary|_authToken/, `a config with another credential besides stays hidden (${out.npmrc})`);
      t.equal(out.hardlink, `GITHUB_TOKEN=${placeholder}DEBUG=1`, 'another name (a hard link) of .env in the project: the placeholder too');
      t.equal(out.hardhome, out.prod, 'and one in the home folder');
      t.equal(out.rcbackup, `export GITHUB_TOKEN=${placeholder}`, 'an editor\'s backup of an rc file: the placeholder');
      t.equal(out.gitremote, `https://x-access-token:${placeholder}@github.com/o/r.git`, 'the repository\'s remote URL: the placeholder (seventeenth pass)');
      t.equal(out.githeader, `AUTHORIZATION: basic ${Buffer.from(`x-access-token:${placeholder}`).toString('base64')}`, 'and its extraheader (a CI checkout\'s): the placeholder, encoded again');
      t.equal(out.leftovers, `GITHUB_TOKEN=${placeholder}GITHUB_TOKEN=${placeholder}b0VIM 9.0{"token": "${placeholder}"}`, 'editors\' leftovers (.env~, #.env#, a vim swap): the placeholder (seventeenth pass)');
      if (aliased) t.equal(out.viaalias, `GITHUB_TOKEN=${placeholder}DEBUG=1`, '.env through a bind mount of the project elsewhere: the placeholder');
      t.notOk(r.stdout.includes(canary), 'the agent read no real value from these files');
      t.notOk(out.wrote, 'the rewritten file is read-only during the run');
      t.equal(fs.readFileSync(path.join(dir, '.env'), 'utf8'), files['.env'], 'the host\'s file is untouched');
      t.match(r.stderr, /airlock: \.env holds the real value of secret github; the agent reads its placeholder there/, 'the user is told');
      t.notMatch(r.stderr, /notes\.env\.txt/, 'a file not named like one is not read (documented)');
      t.notMatch(out.codex ?? '', /CodexLoginCanary/, `Codex's login is hidden: the run hands Codex its key through Airlock (${out.codex})`);
      t.match(out.claude ?? '', /ClaudeLoginCanary/, 'Claude Code\'s login stays readable: nothing gives Claude Code its key through Airlock');
      t.match(r.stderr, /warning: ~\/\.claude\/\.credentials\.json \(Claude Code's login\) is readable by the agent.*ANTHROPIC_API_KEY/, 'and the user is told how to hide it');
      t.notMatch(r.stderr, /auth\.json/, 'the hidden one is not named');
    }
    neverSeesCanary(t, r);
  }
  // A name nowhere airlock run looks (the same filesystem, outside the project, the home folder and
  // the temp folder): the run is refused, the agent never starts.
  const far = fs.mkdtempSync(path.join('/var/tmp', 'airlock-link-'));
  t.teardown(() => fs.rmSync(far, { recursive: true, force: true }));
  try {
    fs.linkSync(path.join(dir, '.env'), path.join(far, 'env'));
  } catch {
    t.comment('skipped: /var/tmp is on another filesystem than the temp folder here');
    return;
  }
  const refused = await runAirlock([...base, '--', 'sh', '-c', 'echo started=yes'], { cwd: dir, env: { ...env, HOME: home } });
  t.not(refused.code, 0, 'refused');
  t.match(refused.stderr, /\.env holds the real value of secret github and has 1 more name \(hard link\)/, `the user is told which file and why (${refused.stderr.slice(-300)})`);
  t.notOk(results(refused.stdout).started, 'the agent never started');
});

t.test('eighteenth pass: a real value in the repository\'s history (a .env committed once) is no way around the copy', async (t) => {
  // The sandbox shows a copy of `.env` with the placeholder, but git keeps every version it was
  // given: `git show HEAD~1:.env`, `git log -p`, a stash, a blob staged and unstaged read the value
  // out of the object store (loose or packed) inside.
  const dir = fs.mkdtempSync(path.join(world.dir, 'history-'));
  const git = (...args: string[]): string => execFileSync('git', ['-C', dir, '-c', 'user.name=u', '-c', 'user.email=u@example.com', ...args], { encoding: 'utf8' });
  git('init', '-q');
  fs.writeFileSync(path.join(dir, 'app.js'), 'console.log(1)\n');
  fs.writeFileSync(path.join(dir, '.env'), `GITHUB_TOKEN=${canary}\n`);
  git('add', '.');
  git('commit', '-qm', 'first');
  git('rm', '-q', '--cached', '.env');
  fs.writeFileSync(path.join(dir, '.gitignore'), '.env\n');
  git('add', '.gitignore');
  git('commit', '-qm', 'keep .env out');
  git('gc', '-q');
  const read = 'echo "shown=$(git show HEAD~1:.env 2>&1 | tr -d \'\\n\')"; echo started=yes';
  const r = await runAirlock([...base, '--', 'sh', '-c', read], { cwd: dir, env });
  t.notOk(r.stdout.includes(canary), 'the agent does not read the value out of the history');
  t.not(r.code, 0, 'the run is refused');
  t.notOk(results(r.stdout).started, 'the agent never started');
  t.match(r.stderr, /history .*holds the real value of secret github/, `the user is told which secret and why (${r.stderr.slice(-400)})`);
  // Control: the same repository once the history no longer holds it runs as before.
  const clean = fs.mkdtempSync(path.join(world.dir, 'history-clean-'));
  execFileSync('git', ['-C', clean, 'init', '-q']);
  fs.writeFileSync(path.join(clean, '.env'), `GITHUB_TOKEN=${canary}\n`);
  fs.writeFileSync(path.join(clean, 'app.js'), 'console.log(1)\n');
  execFileSync('git', ['-C', clean, '-c', 'user.name=u', '-c', 'user.email=u@example.com', 'add', 'app.js']);
  execFileSync('git', ['-C', clean, '-c', 'user.name=u', '-c', 'user.email=u@example.com', 'commit', '-qm', 'only code']);
  const ok = await runAirlock([...base, '--', 'sh', '-c', 'echo "dotenv=$(tr -d \'\\n\' < .env)"; echo started=yes'], { cwd: clean, env });
  t.equal(ok.code, 0, `a repository whose history holds no value runs (${ok.stderr.slice(-300)})`);
  t.equal(results(ok.stdout).dotenv, `GITHUB_TOKEN=${placeholder}`, 'and its .env is read with the placeholder');
});

t.test('eighteenth pass: another project\'s .env in the home folder holding the value reads with the placeholder', async (t) => {
  // The same token sits in every project's .env that uses the service; only the working directory's
  // was looked at, while the agent reads the whole home folder.
  const home = fs.mkdtempSync(path.join(world.dir, 'projects-home-'));
  const work = path.join(home, 'src', 'app');
  fs.mkdirSync(work, { recursive: true });
  const files: Record<string, string> = {
    'src/api/.env': `GITHUB_TOKEN=${canary}\n`,
    'work/client/deploy/.env.production': `TOKEN=${canary}\n`,
    'old/secrets.json': `{"gh": "${canary}"}\n`,
  };
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(home, f)), { recursive: true });
    fs.writeFileSync(path.join(home, f), text);
  }
  // And another project cloned with the token in its URL: `git remote -v` there shows it.
  execFileSync('git', ['init', '-q', path.join(home, 'src', 'cli')]);
  execFileSync('git', ['-C', path.join(home, 'src', 'cli'), 'config', 'remote.origin.url', `https://x-access-token:${canary}@github.com/o/cli.git`]);
  files['src/cli/.git/config'] = fs.readFileSync(path.join(home, 'src', 'cli', '.git', 'config'), 'utf8');
  const script = Object.keys(files).map((f, i) => `echo "f_${'abcd'[i]}=$(tr -d '\\n' < "$HOME/${f}")"`).join('; ');
  const r = await runAirlock([...base, '--', 'sh', '-c', script], { cwd: work, env: { ...env, HOME: home } });
  t.equal(r.code, 0, `the run ends well (${r.stderr.slice(-300)})`);
  neverSeesCanary(t, r);
  const out = results(r.stdout);
  t.equal(out.f_a, `GITHUB_TOKEN=${placeholder}`, 'a sibling project\'s .env: the placeholder');
  t.equal(out.f_b, `TOKEN=${placeholder}`, 'a .env.production four folders down: the placeholder');
  t.equal(out.f_c, `{"gh": "${placeholder}"}`, 'a secrets.json: the placeholder');
  t.match(out.f_d, `x-access-token:${placeholder}@github.com`, 'another clone\'s remote URL: the placeholder');
  for (const [f, text] of Object.entries(files)) t.equal(fs.readFileSync(path.join(home, f), 'utf8'), text, `~/${f} is unchanged on the host`);
});

t.test('without the sandbox the variables are only a suggestion (why the sandbox exists)', async (t) => {
  const before = world.http.hits.length;
  const r = await runAirlock([...base, '--no-sandbox', '--', 'curl', '-sS', '--noproxy', '*', `http://127.0.0.1:${world.http.port}/bypassed`], { cwd: world.work, env });
  t.equal(r.code, 0);
  t.match(r.stdout, /upstream saw GET \/bypassed/, 'curl --noproxy reaches the upstream directly');
  t.equal(world.http.hits.length, before + 1);
});

/**
 * The agent chooses how it ends, and airlock run used to die the same way: `exit 139` (read as
 * SIGSEGV, as a user namespace reports a death by signal), or a real SIGSEGV, SIGABRT, SIGQUIT (also
 * Ctrl-\\ forwarded to it), made airlock run raise that signal on itself, and its core dump (with a
 * core limit, as developers set) held what it had decrypted to scan the environment: every secret's
 * real value. core_pattern's default writes it as `core` into the working directory, the next agent's.
 */
t.test("the agent's way out does not make airlock run dump core (its memory holds the real secrets)", async (t) => {
  const cwd = fs.mkdtempSync(path.join(world.dir, 'cores-'));
  const launcher = 'import os, resource, sys\nsoft, hard = resource.getrlimit(resource.RLIMIT_CORE)\nresource.setrlimit(resource.RLIMIT_CORE, (hard, hard))\nos.execvp(sys.argv[1], sys.argv[1:])';
  const r = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    const child = spawn('python3', ['-c', launcher, process.execPath, airlockBin, 'run', ...base, '--', 'sh', '-c', 'exit 139'], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
  t.equal(r.code, 139, `a shell sees the same status (stderr: ${r.stderr.trim().slice(0, 200)})`);
  t.equal(r.signal, null, 'airlock run exited instead of raising SIGSEGV on itself');
  const cores = fs.readdirSync(cwd).filter((f) => f.startsWith('core'));
  t.same(cores, [], 'no core file in the working directory');
  for (const f of cores) t.notOk(fs.readFileSync(path.join(cwd, f)).includes(canary), `${f} does not hold the real secret`);
});

const clients = `
r() { printf '%s=%s\\n' "$1" "$2"; }
r curl_bound "$(curl -sS -m 10 -H "Authorization: Bearer $GITHUB_TOKEN" https://creds.test:${UPS}/curl)"
r curl_unbound "$(curl -sS -m 10 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $GITHUB_TOKEN" https://other.test:${OTHER}/curl)"
r node "$(node --input-type=module -e "
const { EnvHttpProxyAgent, fetch } = await import('${undici}');
const dispatcher = new EnvHttpProxyAgent();
const headers = { authorization: 'Bearer ' + process.env.GITHUB_TOKEN };
const a = await fetch('https://creds.test:${UPS}/node', { dispatcher, headers });
const b = await fetch('https://other.test:${OTHER}/node', { dispatcher, headers });
console.log(b.status + ' ' + (await a.text()).trim());
")"
r python "$(python3 -c "
import os, requests
h = {'Authorization': 'Bearer ' + os.environ['GITHUB_TOKEN']}
a = requests.get('https://creds.test:${UPS}/python', headers=h, timeout=10)
b = requests.get('https://other.test:${OTHER}/python', headers=h, timeout=10)
print(b.status_code, a.text.strip())
")"
`;

for (const sandbox of [false, true]) {
  t.test(`curl, Node and Python ${sandbox ? 'in the sandbox' : 'with --no-sandbox'}: real secret upstream, placeholder for the agent`, async (t) => {
    const script = path.join(world.dir, `clients-${sandbox}.sh`);
    fs.writeFileSync(script, clients);
    world.https.hits.length = 0;
    world.other.hits.length = 0;
    const r = await runAirlock([...base, ...(sandbox ? [] : ['--no-sandbox']), '--', 'sh', script], { cwd: world.work, env });
    t.equal(r.code, 0, `ran (stderr: ${r.stderr.trim()})`);
    const out = results(r.stdout);
    const echoed = (p: string): string => `upstream saw GET /${p} authorization=Bearer ${placeholder}`;
    t.equal(out.curl_bound, echoed('curl'), 'curl: the echoed credential comes back as the placeholder');
    t.equal(out.curl_unbound, '403', 'curl: the placeholder to an unbound host is refused');
    t.equal(out.node, `403 ${echoed('node')}`, 'Node: same');
    t.equal(out.python, `403 ${echoed('python')}`, 'Python requests: same');
    t.same(world.https.hits.map((h) => [h.url, h.headers.authorization]), [
      ['/curl', `Bearer ${canary}`], ['/node', `Bearer ${canary}`], ['/python', `Bearer ${canary}`],
    ], 'the bound upstream received the real secret from each client');
    t.same(world.other.hits, [], 'the unbound host received nothing');
    neverSeesCanary(t, r);
  });
}
