// `airlock totp enroll|status|remove`: the TOTP secret that critical approvals need (step-up).
// The secret is shown once, at enrollment, for the user's authenticator app.
import type { Command } from 'commander';
import { StateFileError } from '../../state/document.ts';
import { existingHome, homeForWriting } from '../state-folder.ts';
import { TotpError, TotpStore } from '../../state/totp.ts';
import { CliError } from '../errors.ts';
import { sharedSecrets, sharedState, sharedStoreUrl } from '../../runtime/cli-stores.ts';
import { PgStepUp } from '../../state/postgres/totp.ts';

function wrap<A extends unknown[]>(fn: (...a: A) => Promise<void>): (...a: A) => Promise<void> {
  return async (...a) => {
    try {
      await fn(...a);
    } catch (err) {
      if (err instanceof TotpError || err instanceof StateFileError) throw new CliError(err.message);
      throw err;
    }
  };
}

/** The enrolment store: the shared one (config.json "store" or AIRLOCK_STORE) or the state folder's. */
async function openStore(home: string): Promise<{ store: Pick<TotpStore, 'enroll' | 'unenroll' | 'enrolled'>; where: string }> {
  const shared = sharedStoreUrl(home);
  if (!shared) {
    const store = new TotpStore(home);
    return { store, where: `${store.file}, mode 0600` };
  }
  const store = await PgStepUp.open(await sharedState(shared), await sharedSecrets(shared, home));
  return { store, where: `the shared store, sealed under the secret store's key` };
}

export function register(program: Command): void {
  const totp = program.command('totp').description('step-up codes (TOTP) for approving critical requests');

  totp
    .command('enroll')
    .description('create the TOTP secret; prints it and an otpauth:// URI for an authenticator app')
    .option('--label <name>', 'account label shown in the authenticator app', 'approver')
    .option('--force', 'replace an existing enrollment')
    .option('--home <dir>', 'state folder (default .airlock or AIRLOCK_HOME)')
    .action(wrap(async (opts: { label: string; force?: boolean; home?: string }) => {
      const { store, where } = await openStore(homeForWriting(opts.home));
      const { secret, uri } = await store.enroll({ label: opts.label, ...(opts.force ? { force: true } : {}) });
      process.stdout.write(
        `TOTP enrolled. Add it to your authenticator app (shown once; stored in ${where}):\n\n` +
          `  secret: ${secret}\n  uri:    ${uri}\n\n` +
          'From now on, approving a critical or step-up request needs a code: airlock approvals approve ID --totp CODE\n',
      );
    }));

  totp
    .command('status')
    .description('whether TOTP step-up is enrolled')
    .option('--home <dir>', 'state folder (default .airlock or AIRLOCK_HOME)')
    .action(wrap(async (opts: { home?: string }) => {
      const { store } = await openStore(existingHome(opts.home));
      process.stdout.write(store.enrolled() ? 'TOTP step-up is enrolled: critical and step-up approvals need a code\n' : 'TOTP step-up is not enrolled: critical approvals need no code (run `airlock totp enroll`)\n');
    }));

  totp
    .command('remove')
    .description('remove the TOTP enrollment (critical approvals then need no code)')
    .option('--home <dir>', 'state folder (default .airlock or AIRLOCK_HOME)')
    .action(wrap(async (opts: { home?: string }) => {
      const removed = await (await openStore(existingHome(opts.home))).store.unenroll();
      process.stdout.write(removed ? 'TOTP enrollment removed\n' : 'TOTP was not enrolled\n');
    }));
}
