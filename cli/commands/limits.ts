// `airlock limits [--reset KEY]`: the rate-limit buckets as they stand. From the running Airlock's
// studio API when it answers; otherwise from the state file (flushed every 5 s while running).
import type { Command } from 'commander';
import { readBuckets, type BucketView } from '../../state/ratelimit.ts';
import { StateFileError } from '../../state/document.ts';
import { CliError } from '../errors.ts';
import { channel, type CommonOpts } from '../studio-client.ts';
import { terminalJson } from '../../lib/text.ts';

function table(buckets: BucketView[]): string {
  if (!buckets.length) return 'no rate-limit buckets in use (every bucket is full)';
  const rows = buckets.map((b) => [b.key, b.unit === 'egress_bytes' ? 'bytes' : 'requests', `${Math.floor(b.available)}/${b.limit}`, `${b.window_s}s`, b.full_in_s > 0 ? `${b.full_in_s}s` : 'full']);
  const head = ['KEY', 'UNIT', 'AVAILABLE', 'WINDOW', 'FULL IN'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

export function register(program: Command): void {
  program
    .command('limits')
    .description('show rate-limit and egress budget buckets (what is left, when they refill)')
    .option('--reset <key>', 'refill every bucket with this key (needs the running studio)')
    .option('--json', 'machine-readable output')
    .option('--home <dir>', 'state folder (default .airlock or AIRLOCK_HOME)')
    .option('--studio <host:port>', 'the running studio (default from config.json, else 127.0.0.1:8081)')
    .action(async (opts: CommonOpts & { reset?: string; json?: boolean }) => {
      const ch = await channel(opts, Boolean(opts.reset));
      if (opts.reset) {
        if (ch.kind !== 'rest') throw new CliError('Airlock is not running: nothing to reset (buckets refill on their own; delete ratelimits.json to start over)');
        await ch.client.call('POST', '/api/limits/reset', { key: opts.reset });
        process.stdout.write(`reset ${opts.reset}\n`);
        return;
      }
      let buckets: BucketView[];
      let note = '';
      if (ch.kind === 'rest') {
        const r = await ch.client.call<{ available: boolean; reason?: string; buckets?: BucketView[] }>('GET', '/api/limits');
        if (!r.available) throw new CliError(r.reason ?? 'the rate limiter is not available in the running Airlock');
        buckets = r.buckets ?? [];
      } else {
        try {
          buckets = await readBuckets(ch.home);
        } catch (err) {
          if (err instanceof StateFileError) throw new CliError(err.message);
          throw err;
        }
        note = '(from the state file: Airlock is not running or its studio is not reachable)';
      }
      if (opts.json) return void process.stdout.write(`${terminalJson(buckets)}\n`);
      process.stdout.write(`${table(buckets)}\n${note ? `${note}\n` : ''}`);
    });
}
