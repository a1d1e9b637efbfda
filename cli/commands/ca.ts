import fs from 'node:fs';
import type { Command } from 'commander';
import { homeForWriting } from '../state-folder.ts';
import { CertificateAuthority, caFiles } from '../../proxy/ca.ts';

export function register(program: Command): void {
  const ca = program.command('ca').description('the local CA the proxy uses to read HTTPS');
  ca.command('path')
    .description('print the CA certificate path (created if missing); agents must trust this file')
    .option('--home <dir>', 'state folder')
    .action(async (opts: { home?: string }) => {
      const home = homeForWriting(opts.home);
      const files = caFiles(home);
      if (!fs.existsSync(files.cert)) await CertificateAuthority.open(home);
      process.stdout.write(`${files.cert}\n`);
    });
}
