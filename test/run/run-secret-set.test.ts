// `airlock run --no-secrets` / `--secret NAME` limit the run's secrets at the proxy, not only in
// its environment: the run's token carries the set, and the proxy refuses (403, saying why) a
// request for which the policy would inject any other secret, even when the agent sends no
// placeholder at all (the test policy injects "github" for creds.test whatever the request says).
import crypto from 'node:crypto';
import t from 'tap';
import { SecretStore } from '../../state/secrets/store.ts';
import { runAirlock, startWorld } from '../sandbox/helpers.ts';

const canary = `ghp_canary${crypto.randomBytes(12).toString('hex')}`;
const env = { ...process.env };
delete env.AIRLOCK_MASTER_KEY;
delete env.AIRLOCK_MASTER_KEY_FILE;
delete process.env.AIRLOCK_MASTER_KEY;
delete process.env.AIRLOCK_MASTER_KEY_FILE;
const world = await startWorld({
  before: async (home) => {
    const store = await SecretStore.open(home);
    await store.set('github', canary, { env: ['GITHUB_TOKEN'] });
    await store.set('stripe', `sk_live_${crypto.randomBytes(12).toString('hex')}`, { env: ['STRIPE_KEY'] });
  },
});
t.teardown(() => world.close());
const UPS = world.https.port;

async function run(flags: string[], path: string, sandbox = false): Promise<{ status: string; body: string; stderr: string }> {
  const r = await runAirlock(['--agent', world.agent, '--home', world.home, ...(sandbox ? [] : ['--no-sandbox']), ...flags, '--',
    'curl', '-sS', '-m', '10', '-w', '\\n%{http_code}', `https://creds.test:${UPS}/${path}`], { cwd: world.work, env });
  const lines = r.stdout.trimEnd().split('\n');
  return { status: lines.pop() ?? '', body: lines.join('\n'), stderr: r.stderr };
}

t.test('--no-secrets: the proxy injects nothing for the run', async (t) => {
  world.https.hits.length = 0;
  const r = await run(['--no-secrets'], 'none');
  t.equal(r.status, '403', `refused (${r.stderr.trim()})`);
  t.match(r.body, /secret-not-in-run/);
  t.match(r.body, /--no-secrets/, 'the refusal says why');
  t.same(world.https.hits, [], 'the upstream received nothing');
});

t.test('--secret stripe: another secret the policy would inject is refused', async (t) => {
  world.https.hits.length = 0;
  const r = await run(['--secret', 'stripe'], 'other');
  t.equal(r.status, '403');
  const detail = (JSON.parse(r.body) as { detail: string }).detail;
  t.match(detail, /secret "github", but this agent's run was given only secret "stripe"/);
  t.match(r.body, /--secret github/, 'and how to allow it');
  t.same(world.https.hits, []);
});

t.test('--secret github (and no flag at all): the secret is injected as before', async (t) => {
  world.https.hits.length = 0;
  const given = await run(['--secret', 'github'], 'given');
  t.equal(given.status, '200');
  const all = await run([], 'all');
  t.equal(all.status, '200');
  t.same(world.https.hits.map((h) => [h.url, h.headers.authorization]), [['/given', `Bearer ${canary}`], ['/all', `Bearer ${canary}`]]);
});

t.test('the same inside the sandbox', async (t) => {
  world.https.hits.length = 0;
  const r = await run(['--no-secrets'], 'sandboxed', true);
  t.equal(r.status, '403', `refused (${r.stderr.trim()})`);
  t.same(world.https.hits, []);
});
