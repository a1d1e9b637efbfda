// Shared by the `airlock run` tests: a running Airlock world (test/sandbox/helpers.ts) whose store
// holds a canary GitHub token, and an environment in which the CLI finds the master key only in
// the state folder (as a user's shell would).
import crypto from 'node:crypto';
import { SecretStore } from '../../state/secrets/store.ts';
import { startWorld } from '../sandbox/helpers.ts';

export async function startCanaryWorld(t: { teardown(fn: () => unknown): void }) {
  const canary = `ghp_canary${crypto.randomBytes(12).toString('hex')}`;
  const env = { ...process.env };
  delete env.AIRLOCK_MASTER_KEY;
  delete env.AIRLOCK_MASTER_KEY_FILE;
  delete process.env.AIRLOCK_MASTER_KEY;
  delete process.env.AIRLOCK_MASTER_KEY_FILE;
  let placeholder = '';
  const world = await startWorld({
    before: async (home) => {
      const store = await SecretStore.open(home);
      const info = await store.set('github', canary, { env: ['GITHUB_TOKEN', 'GH_TOKEN'], hosts: ['creds.test'] });
      placeholder = info.placeholder;
    },
  });
  t.teardown(() => world.close());
  return { world, canary, placeholder, env };
}
