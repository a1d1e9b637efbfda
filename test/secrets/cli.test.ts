// `airlock secret`: the value comes from stdin or --from-env, never argv; output never shows it.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { SecretStore } from '../../state/secrets/index.ts';

const run = promisify(execFile);
/** The stderr of a command that must fail. */
async function stderrOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return String((err as { stderr?: string }).stderr);
  }
  throw new Error('command succeeded but should have failed');
}
const CANARY = 'canary-Zq7-SECRET-3f9a1c';
const cli = path.resolve('bin/airlock.js');

t.test('CLI: value from stdin or --from-env, never argv; list never shows values', async (t) => {
  const home = t.testdir();
  const env = { ...process.env, AIRLOCK_HOME: home, AIRLOCK_MASTER_KEY: undefined, CANARY_VAR: CANARY } as NodeJS.ProcessEnv;
  delete env.AIRLOCK_MASTER_KEY;
  const setViaStdin = (name: string, input: string, args: string[] = []): Promise<{ stdout: string; stderr: string }> =>
    new Promise((resolve, reject) => {
      const child = execFile('node', [cli, 'secret', 'set', name, ...args], { env }, (err, stdout, stderr) => (err ? reject(Object.assign(err, { stderr })) : resolve({ stdout, stderr })));
      child.stdin!.end(input);
    });
  const out = await setViaStdin('github', `${CANARY}\n`, ['--env', 'GITHUB_TOKEN', '--host', 'api.github.com']);
  t.match(out.stdout, /stored github; agents get GITHUB_TOKEN=airlock-ph-github-/);
  t.notOk(out.stdout.includes(CANARY));
  // A name the policy (here the default one, rego/) binds nowhere is stored, with a note that says so.
  t.match(out.stderr, /^airlock: note: the policy in rego binds no secret named "github": it is injected nowhere .*The names it binds: .*\bgithub_token\b/);
  // github_token's variable would be GITHUB_TOKEN, which "github" is exported as: refused, saying what to do.
  const clash = await setViaStdin('github_token', 'x').then(() => '', (e: { stderr: string }) => e.stderr);
  t.equal(clash, 'airlock: secrets "github" and "github_token" are both exported as GITHUB_TOKEN: give one another variable (airlock secret set github_token --env OTHER_NAME, or airlock run --secret github_token=OTHER_NAME) or remove one (airlock secret rm github_token)\n');
  t.match(await setViaStdin('h', 'x', ['--host', 'https://api.github.com/']).then(() => '', (e: { stderr: string }) => e.stderr), /invalid host "https:\/\/api\.github\.com\/": give the host name alone, like api\.github\.com/);
  t.equal((await setViaStdin('github_token', 'x', ['--env', 'GH_TOKEN'])).stderr, '', 'a bound name: no note');
  await run('node', [cli, 'secret', 'set', 'fromenv', '--from-env', 'CANARY_VAR'], { env });
  const s = await SecretStore.open(home);
  await s.unlock();
  t.equal(s.reveal('github'), CANARY, 'trailing newline from stdin stripped');
  t.equal(s.reveal('fromenv'), CANARY);

  // Read-only commands run side by side (each CLI start is slow on a loaded machine).
  const [list, json, ph, argvErr, noneErr] = await Promise.all([
    run('node', [cli, 'secret', 'list'], { env }),
    run('node', [cli, 'secret', 'list', '--json'], { env }),
    run('node', [cli, 'secret', 'placeholder', 'github'], { env }),
    stderrOf(run('node', [cli, 'secret', 'set', 'x', 'value-in-argv'], { env })),
    stderrOf(run('node', [cli, 'secret', 'placeholder', 'nope'], { env })),
  ]);
  t.match(list.stdout, /github\s+\S+\s+GITHUB_TOKEN\s+api\.github\.com/);
  t.notOk(list.stdout.includes(CANARY));
  t.notOk(json.stdout.includes(CANARY));
  t.equal(JSON.parse(json.stdout).length, 3);
  t.equal(ph.stdout.trim(), s.placeholderFor('github'));
  t.match(argvErr, /never pass a secret value as an argument/);
  t.match(noneErr, /no secret named "nope"/);
  await run('node', [cli, 'secret', 'rm', 'github'], { env });
  t.match(await stderrOf(run('node', [cli, 'secret', 'rm', 'github'], { env })), /no secret named/);
});
