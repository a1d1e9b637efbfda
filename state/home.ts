// The state folder (default `.airlock/`, or --home / AIRLOCK_HOME): created private to the user.
import fs from 'node:fs';
import path from 'node:path';

export function resolveHome(flag?: string): string {
  return path.resolve(flag ?? process.env.AIRLOCK_HOME ?? '.airlock');
}

export function ensureHome(flag?: string): string {
  const home = resolveHome(flag);
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  return home;
}
