// `airlock run` options about placeholders: --secret / --no-secrets, and per-agent defaults
// saved with --save-defaults.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { results, runAirlock } from '../sandbox/helpers.ts';
import { startCanaryWorld } from './helpers.ts';

const { world, placeholder, env } = await startCanaryWorld(t);
const base = ['--agent', world.agent, '--home', world.home];

t.test('--secret picks placeholders and their names; --no-secrets exports none', async (t) => {
  const renamed = await runAirlock([...base, '--no-sandbox', '--secret', 'github=MY_GH', '--', 'sh', '-c', 'echo my=$MY_GH; echo gh=$GITHUB_TOKEN'], { cwd: world.work, env });
  t.equal(results(renamed.stdout).my, placeholder);
  t.equal(results(renamed.stdout).gh, '');
  const none = await runAirlock([...base, '--no-sandbox', '--no-secrets', '--', 'sh', '-c', 'echo gh=$GITHUB_TOKEN'], { cwd: world.work, env });
  t.equal(results(none.stdout).gh, '');
  const unknown = await runAirlock([...base, '--no-sandbox', '--secret', 'nope', '--', 'true'], { cwd: world.work, env });
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /no secret named nope/);
});

t.test('per-agent defaults: --save-defaults remembers flags, later flags win, a broken file is named', async (t) => {
  await world.airlock.agents.add('bot2');
  const as2 = ['--agent', 'bot2', '--home', world.home, '--no-sandbox'];
  const show = ['--', 'sh', '-c', 'echo saved=$SAVED_GH; echo gh=$GITHUB_TOKEN'];
  const saving = await runAirlock([...as2, '--save-defaults', '--secret', 'github=SAVED_GH', ...show], { cwd: world.work, env });
  t.match(saving.stderr, /saved defaults for agent bot2 in .*run-defaults\.json: secret/);
  t.equal(results(saving.stdout).saved, placeholder);

  const later = await runAirlock([...as2, ...show], { cwd: world.work, env });
  t.equal(results(later.stdout).saved, placeholder, 'the saved --secret applies to the next run');
  t.equal(results(later.stdout).gh, '', 'and only that secret is exported');
  t.match(later.stderr, /agent bot2's saved defaults apply: --secret github=SAVED_GH \(flags on the command line win; saved in .*run-defaults\.json\)/, 'the run says which saved flags it applies');

  const overridden = await runAirlock([...as2, '--secret', 'github', ...show], { cwd: world.work, env });
  t.equal(results(overridden.stdout).saved, '', 'a flag given on the command line wins');
  t.equal(results(overridden.stdout).gh, placeholder);
  t.notMatch(overridden.stderr, /saved defaults apply/, 'no note when the command line overrides every saved flag');

  // A saved --read-only (no flag negates it) is left out of a --no-sandbox run, not refused for a flag nobody typed.
  await runAirlock(['--agent', 'bot2', '--home', world.home, '--save-defaults', '--read-only', '--', 'true'], { cwd: world.work, env });
  const unconfined = await runAirlock([...as2, ...show], { cwd: world.work, env });
  t.equal(unconfined.code, 0, unconfined.stderr);
  t.equal(results(unconfined.stdout).saved, placeholder, 'the other saved flags still apply');
  t.match(unconfined.stderr, /saved defaults apply: --secret github=SAVED_GH; left out without the sandbox: --read-only \(/);
  t.equal((await runAirlock([...as2, '--read-only', '--', 'true'], { cwd: world.work, env })).code, 1, 'typed with --no-sandbox, it is still refused');
  const forgot = await runAirlock([...as2, '--forget-defaults', ...show], { cwd: world.work, env });
  t.match(forgot.stderr, /forgot the saved defaults of agent bot2/);
  t.notMatch(forgot.stderr, /saved defaults apply/);
  t.equal(results(forgot.stdout).gh, placeholder, '--forget-defaults: every secret again');
  t.match((await runAirlock([...as2, '--forget-defaults', '--', 'true'], { cwd: world.work, env })).stderr, /no saved defaults of agent bot2/);

  const other = await runAirlock([...base, '--no-sandbox', ...show], { cwd: world.work, env });
  t.equal(results(other.stdout).gh, placeholder, 'another agent is unaffected');

  const file = path.join(world.home, 'run-defaults.json');
  fs.writeFileSync(file, JSON.stringify({ version: 1, agents: { bot2: { secret: 'github' } } }));
  const broken = await runAirlock([...as2, ...show], { cwd: world.work, env });
  t.equal(broken.code, 1);
  t.match(broken.stderr, /run-defaults\.json: defaults of agent bot2: "secret" must be a list of strings/);
});
