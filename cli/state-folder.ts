// Which state folder a command works on. One that only reads or changes what is there never
// creates a folder: run from the wrong directory it would show a new, empty one as if the agents
// and secrets were gone. One that adds (an agent, a secret, the CA) creates it, and says so: an
// Airlock running on another folder will not see what it writes.
import fs from 'node:fs';
import { ensureHome, resolveHome } from '../state/home.ts';
import { CliError } from './errors.ts';

/** The state folder, which must exist (unless a shared store, AIRLOCK_STORE, holds the state). */
export function existingHome(flag?: string): string {
  const home = resolveHome(flag);
  if (fs.existsSync(home)) return home;
  if (process.env.AIRLOCK_STORE) return ensureHome(flag);
  throw new CliError(`no state folder at ${home}: run this where Airlock runs (\`airlock start\` creates .airlock there), or pass --home or set AIRLOCK_HOME`);
}

/** The state folder, created (with a note on stderr) when there is none yet. */
export function homeForWriting(flag?: string): string {
  const home = resolveHome(flag);
  if (fs.existsSync(home)) return home;
  ensureHome(flag);
  if (!process.env.AIRLOCK_STORE) {
    process.stderr.write(`airlock: note: created a new state folder ${home}; an Airlock running on another folder does not see it (pass --home or set AIRLOCK_HOME for that one)\n`);
  }
  return home;
}
