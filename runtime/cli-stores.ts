// Which stores a one-shot CLI command (`airlock agent`, `airlock secret`, `airlock replay`) works
// on: the shared PostgreSQL store when config.json "store" or AIRLOCK_STORE names one (what the
// running replicas use), else the state folder.
// The PostgreSQL side is imported when a command uses it: loaded with the module, its packages
// (pg, ioredis, graphql through the services) cost every `airlock agent`/`secret` ~0.3 s of CPU.
import type { PgAgents } from '../state/postgres/agents.ts';
import type { PgState } from '../state/postgres/db.ts';
import type { PgSecretVault } from '../state/postgres/secrets.ts';
import { resolveConfig } from './config.ts';

/** The state store URL the settings of this state folder name (config.json "store", AIRLOCK_STORE), if any. */
export function sharedStoreUrl(home: string, flag?: string): string | undefined {
  return resolveConfig(home, flag ? { store: flag } : {}).store;
}

const opened = new Map<string, Promise<PgState>>();

/** One connection pool per command run; it lets the process exit once idle. */
function stateStore(url: string): Promise<PgState> {
  let db = opened.get(url);
  if (!db) {
    db = import('./shared-services.ts').then((m) => m.openStateStore(url, { listen: false }));
    opened.set(url, db);
  }
  return db;
}

export async function sharedAgents(url: string): Promise<PgAgents> {
  const { PgAgents } = await import('../state/postgres/agents.ts');
  return PgAgents.open(await stateStore(url));
}

export async function sharedSecrets(url: string, home: string): Promise<PgSecretVault> {
  const { PgSecretVault } = await import('../state/postgres/secrets.ts');
  return PgSecretVault.open(await stateStore(url), home);
}

export async function sharedState(url: string): Promise<PgState> {
  return stateStore(url);
}
