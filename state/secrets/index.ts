// The secret store's public face for the rest of Airlock (proxy, `airlock run`, studio).
import { SecretStore, placeholderEnvironment, type SecretInfo } from './store.ts';
import { emptyMap } from '../../lib/records.ts';

export * from './store.ts';
export { MasterKeyError, keyFilePath, type KeySource } from './master-key.ts';

/** Opens the store in a state folder (read-only use needs no master key). */
export function openSecretStore(home: string): Promise<SecretStore> {
  return SecretStore.open(home);
}

/** The placeholder of one secret, or undefined when there is no such secret. */
export async function placeholderFor(home: string, name: string): Promise<string | undefined> {
  return (await SecretStore.open(home)).placeholderFor(name);
}

/** Every secret's name, placeholder and env var names (never a value; no master key needed). */
export async function listSecrets(home: string): Promise<SecretInfo[]> {
  return (await SecretStore.open(home)).list();
}

/** env var name → placeholder for an agent's environment; `overrides` maps secret → env names. */
export async function secretEnvironment(home: string, overrides: Record<string, string[]> = emptyMap()): Promise<Record<string, string>> {
  return placeholderEnvironment(await listSecrets(home), overrides);
}
