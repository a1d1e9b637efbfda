// `airlock migrate`: applies the shared store's versioned migrations (`airlock start` applies
// them too), e.g. from a deploy job before the replicas start.
import type { Command } from 'commander';
import { sharedStoreUrl } from '../../runtime/cli-stores.ts';
import { openStateStore } from '../../runtime/shared-services.ts';
import { resolveHome } from '../../state/home.ts';
import { displayDbUrl, isPostgresUrl } from '../../state/postgres/db.ts';
import { CliError } from '../errors.ts';

function storeUrl(flag: string | undefined, home: string | undefined): string {
  const url = flag ?? sharedStoreUrl(resolveHome(home));
  if (!url) throw new CliError('no state store: give --store postgres://… (or "store" in config.json, or AIRLOCK_STORE)');
  if (!isPostgresUrl(url)) throw new CliError('--store must be a postgres:// URL');
  return url;
}

export function register(program: Command): void {
  program
    .command('migrate')
    .description('apply the shared state store\'s migrations (airlock start applies them too)')
    .option('--store <url>', 'postgres://… (default: "store" in config.json, or $AIRLOCK_STORE)')
    .option('--home <dir>', 'state folder whose config.json names the store')
    .action(async (opts: { store?: string; home?: string }) => {
      const url = storeUrl(opts.store, opts.home);
      const lines: string[] = [];
      const db = await openStateStore(url, { listen: false, log: (l) => lines.push(l) }).catch((err: Error) => {
        throw new CliError(err.message);
      });
      await db.close();
      process.stdout.write(lines.length ? `${lines.join('\n')}\n` : `airlock: state store ${displayDbUrl(url)} is up to date\n`);
    });
}
