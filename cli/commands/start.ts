import type { Command } from 'commander';
import { PolicyCompileError } from '../../engine/compile.ts';
import { collectWhenQuiet } from '../../lib/quiet-collect.ts';
import { StateFileError } from '../../state/document.ts';
import { startReplica, type AirlockOptions } from '../../runtime/airlock.ts';
import { CliError, policyFailure } from '../errors.ts';
import { lineBatcher } from '../line-batch.ts';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

interface StartFlags {
  home?: string;
  policy?: string;
  proxy?: string;
  studio?: string | false;
  allowPrivate?: string[];
  upstreamCa?: string[];
  resolve?: string[];
  bodyCap?: string;
  upstreamConnectTimeout?: string;
  upstreamFirstByteTimeout?: string;
  upstreamIdleTimeout?: string;
  quiet?: boolean;
  store?: string;
  limits?: string;
}

export function register(program: Command): void {
  program
    .command('start')
    .description('run the proxy (and the studio) in the foreground; one log line per decision')
    .option('--home <dir>', 'state folder (default .airlock, or $AIRLOCK_HOME)')
    .option('--policy <dir>', 'policy folder (default rego)')
    .option('--proxy <host:port>', 'proxy listen address (default 127.0.0.1:8080)')
    .option('--studio <host:port>', 'studio listen address (default 127.0.0.1:8081)')
    .option('--no-studio', 'do not start the studio')
    .option('--allow-private <cidr[:port]>', 'let the proxy dial this private/loopback range (repeatable)', collect)
    .option('--upstream-ca <file>', 'extra CA bundle trusted for upstream TLS (repeatable)', collect)
    .option('--resolve <host[:port]=addr[:port]>', 'pin a host name (and port) to an address (and port), like curl --resolve / --connect-to (repeatable)', collect)
    .option('--body-cap <bytes>', 'request body bytes captured for the description (default 1048576)')
    .option('--upstream-connect-timeout <duration>', 'connect + TLS handshake budget for a new upstream connection (default 10s)')
    .option('--upstream-first-byte-timeout <duration>', 'wait for the upstream\'s response after the request was sent (default 10m: long model calls)')
    .option('--upstream-idle-timeout <duration>', 'longest silence while uploading or streaming the response (default 10m)')
    .option('--store <url>', 'shared state in PostgreSQL, for N replicas: postgres://… (or "store" in config.json, or $AIRLOCK_STORE; docs/deploy.md)')
    .option('--limits <url>', 'rate-limit buckets shared exactly by every replica, in Redis: redis://… (or "limits" in config.json, or $AIRLOCK_LIMITS)')
    .option('-q, --quiet', 'no per-request log lines', false)
    .action(async (flags: StartFlags) => {
      const opts: AirlockOptions = {};
      if (flags.home) opts.home = flags.home;
      if (flags.policy) opts.policy = flags.policy;
      if (flags.proxy) opts.proxy = flags.proxy;
      if (flags.studio === false) opts.studio = false;
      else if (typeof flags.studio === 'string') opts.studio = flags.studio;
      if (flags.allowPrivate) opts.allowPrivate = flags.allowPrivate;
      if (flags.upstreamCa) opts.upstreamCa = flags.upstreamCa;
      if (flags.resolve) opts.resolve = flags.resolve;
      if (flags.store) opts.store = flags.store;
      if (flags.limits) opts.limits = flags.limits;
      if (flags.bodyCap !== undefined) {
        const n = Number(flags.bodyCap);
        if (!Number.isInteger(n) || n < 0) throw new CliError(`--body-cap ${flags.bodyCap}: expected a number of bytes`);
        opts.bodyCap = n;
      }
      const timeouts = { connect: flags.upstreamConnectTimeout, firstByte: flags.upstreamFirstByteTimeout, idle: flags.upstreamIdleTimeout };
      if (Object.values(timeouts).some((v) => v !== undefined)) {
        opts.upstreamTimeouts = Object.fromEntries(Object.entries(timeouts).filter(([, v]) => v !== undefined));
      }
      // One write per turn of the event loop for however many requests it decided.
      const lines = lineBatcher(process.stdout);
      if (!flags.quiet) opts.log = lines.write;

      let airlock;
      try {
        airlock = await startReplica(opts);
      } catch (err) {
        if (err instanceof PolicyCompileError) throw policyFailure(err, 'policy');
        if (err instanceof StateFileError) throw new CliError(err.message);
        throw new CliError((err as Error).message);
      }
      // An idle proxy gives back what a busy stretch grew its heap by (lib/quiet-collect.ts).
      const quiet = collectWhenQuiet();
      const { host, port } = airlock.proxyAddress;
      const shown = host.includes(':') ? `[${host}]` : host;
      process.stdout.write(`airlock: proxy on http://${shown}:${port} (policy ${airlock.config.policy}, version ${airlock.engine.version?.slice(0, 12) ?? '?'})\n`);
      if (airlock.socketPath) process.stdout.write(`airlock: also on unix socket ${airlock.socketPath}\n`);
      if (airlock.config.store) {
        // Loaded only here: without a shared store the PostgreSQL client is never loaded.
        const { displayDbUrl } = await import('../../state/postgres/db.ts');
        process.stdout.write(`airlock: shared state in ${displayDbUrl(airlock.config.store)}${airlock.config.limits ? `, rate limits in Redis` : ''}\n`);
      }
      process.stdout.write(`airlock: CA certificate ${airlock.ca.files.cert} (trust it in agents: airlock ca path)\n`);
      if (airlock.agents.list().length === 0) process.stdout.write('airlock: no agents yet — create one with: airlock agent add NAME\n');

      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: string): void => {
          if (stopping) {
            process.stderr.write('airlock: forced exit\n');
            process.exit(1);
          }
          stopping = true;
          lines.flush();
          process.stdout.write(`airlock: ${signal}, shutting down\n`);
          void airlock.close().then(resolve, resolve);
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
      quiet.stop();
      lines.flush();
      process.stdout.write('airlock: stopped\n');
    });
}
