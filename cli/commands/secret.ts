// `airlock secret set|list|rm|placeholder`. Values come from stdin or an environment variable,
// never from argv: arguments are visible to every user through the process list and end up in
// shell history.
import type { Command } from 'commander';
import { StateFileError } from '../../state/document.ts';
import { MasterKeyError, SecretStore, SecretStoreError } from '../../state/secrets/index.ts';
import fs from 'node:fs';
import path from 'node:path';
import { listPolicyFiles } from '../../engine/compile.ts';
import { resolveConfig } from '../../runtime/config.ts';
import { CliError } from '../errors.ts';
import { existingHome, homeForWriting } from '../state-folder.ts';
import { sharedSecrets, sharedStoreUrl } from '../../runtime/cli-stores.ts';

/** The operations every secret store offers; `rekey` only the state folder's (a shared store keeps its key outside). */
type Store = Pick<SecretStore, 'set' | 'list' | 'remove' | 'placeholderFor'> & { rekey?: SecretStore['rekey'] };

async function withStore<T>(home: string | undefined, fn: (store: Store) => Promise<T>, adding = false): Promise<T> {
  try {
    const dir = adding ? homeForWriting(home) : existingHome(home);
    const shared = sharedStoreUrl(dir);
    return await fn(shared ? await sharedSecrets(shared, dir) : await SecretStore.open(dir));
  } catch (err) {
    if (err instanceof SecretStoreError || err instanceof MasterKeyError || err instanceof StateFileError) throw new CliError(err.message);
    throw err;
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads a line from the terminal without echoing it. */
function readHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    let value = '';
    const done = (err?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (buf: Buffer): void => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new CliError('cancelled', 130));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

function collect(value: string, prev: string[] = []): string[] {
  return [...prev, ...value.split(',').map((s) => s.trim()).filter(Boolean)];
}

export function register(program: Command): void {
  const secret = program.command('secret').description('manage the encrypted secrets Airlock injects for agents');

  secret
    .command('set')
    .description('store a secret; the value is read from stdin (or --from-env), never from arguments')
    .argument('<name>', 'secret name (letters, digits, _ . -)')
    .argument('[value...]')
    .option('--from-env <VAR>', 'read the value from this environment variable')
    .option('--env <VAR>', 'environment variable(s) `airlock run` exports the placeholder as (repeatable; default NAME uppercased)', collect)
    .option('--host <host>', 'host(s) this secret is meant for, shown by `secret list` (repeatable; policy decisions bind)', collect)
    .option('--rotate-placeholder', 'issue a new placeholder (agents holding the old one stop working)')
    .option('--home <dir>', 'state folder (default .airlock or AIRLOCK_HOME)')
    .action(async (name: string, value: string[], opts: { fromEnv?: string; env?: string[]; host?: string[]; rotatePlaceholder?: boolean; home?: string }) => {
      if (value.length > 0) {
        throw new CliError('never pass a secret value as an argument (process lists and shell history show it); pipe it on stdin or use --from-env VAR');
      }
      let text: string;
      if (opts.fromEnv) {
        const v = process.env[opts.fromEnv];
        if (v === undefined || v === '') throw new CliError(`environment variable ${opts.fromEnv} is not set or empty`);
        text = v;
      } else if (process.stdin.isTTY) {
        text = await readHidden(`value for ${name}: `);
      } else {
        // One trailing newline comes from `echo` or a file's last line, not from the secret.
        text = (await readStdin()).replace(/\r?\n$/, '');
      }
      if (!text) throw new CliError('the secret value is empty (nothing on stdin?)');
      const info = await withStore(opts.home, (store) => store.set(name, text, { env: opts.env, hosts: opts.host, rotatePlaceholder: opts.rotatePlaceholder }), true);
      process.stdout.write(`stored ${info.name}; agents get ${info.env.join(', ') || '(no env var)'}=${info.placeholder}\n`);
      const note = unboundNote(existingHome(opts.home), name);
      if (note) process.stderr.write(`airlock: note: ${note}\n`);
    });

  secret
    .command('list')
    .description('list secrets: name, created, env var names, hosts (never values)')
    .option('--json', 'machine-readable output')
    .option('--home <dir>', 'state folder (default .airlock or AIRLOCK_HOME)')
    .action(async (opts: { json?: boolean; home?: string }) => {
      const secrets = await withStore(opts.home, async (store) => store.list());
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(secrets, null, 2)}\n`);
        return;
      }
      if (secrets.length === 0) {
        process.stdout.write('no secrets (add one with: airlock secret set NAME < value-file)\n');
        return;
      }
      const rows = [['NAME', 'CREATED', 'ENV', 'HOSTS'], ...secrets.map((s) => [s.name, s.created.replace(/\.\d+Z$/, 'Z'), s.env.join(',') || '-', s.hosts.join(',') || '-'])];
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      for (const r of rows) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
    });

  secret
    .command('rm')
    .description('delete a secret')
    .argument('<name>')
    .option('--home <dir>', 'state folder (default .airlock or AIRLOCK_HOME)')
    .action(async (name: string, opts: { home?: string }) => {
      const removed = await withStore(opts.home, (store) => store.remove(name));
      if (!removed) throw new CliError(`no secret named "${name}"`);
      process.stdout.write(`removed ${name}\n`);
    });

  secret
    .command('rekey')
    .description('re-encrypt every secret under a new data key and a new master key (placeholders kept)')
    .option('--new-key-from-env <VAR>', 'the new master key, read from this environment variable (same formats as AIRLOCK_MASTER_KEY)')
    .option('--new-key-file', 'create a fresh key file (replaces <home>/master.key or AIRLOCK_MASTER_KEY_FILE)')
    .option('--home <dir>', 'state folder (default .airlock or AIRLOCK_HOME)')
    .action(async (opts: { newKeyFromEnv?: string; newKeyFile?: boolean; home?: string }) => {
      if (!!opts.newKeyFromEnv === !!opts.newKeyFile) throw new CliError('give exactly one of --new-key-from-env VAR or --new-key-file');
      let to: { env: string } | { keyFile: true } = { keyFile: true };
      if (opts.newKeyFromEnv) {
        const v = process.env[opts.newKeyFromEnv];
        if (!v) throw new CliError(`environment variable ${opts.newKeyFromEnv} is not set or empty`);
        to = { env: v };
      }
      const done = await withStore(opts.home, (store) => {
        if (!store.rekey) throw new CliError('rekey works on a state folder; a shared store (PostgreSQL) is moved to a new key with `airlock migrate-state` into a fresh database');
        return store.rekey(to);
      });
      process.stdout.write(opts.newKeyFromEnv
        ? `rekeyed; from now on set AIRLOCK_MASTER_KEY to the value of ${opts.newKeyFromEnv} (an old key file, if any, can be deleted); restart a running Airlock with it set: until then it injects no credential (503 credential-unavailable)\n`
        : `rekeyed with a new ${done.describe}; unset AIRLOCK_MASTER_KEY if it was set\n`);
    });

  secret
    .command('placeholder')
    .description('print the placeholder agents use instead of the secret')
    .argument('<name>')
    .option('--home <dir>', 'state folder (default .airlock or AIRLOCK_HOME)')
    .action(async (name: string, opts: { home?: string }) => {
      const ph = await withStore(opts.home, async (store) => store.placeholderFor(name));
      if (!ph) throw new CliError(`no secret named "${name}"`);
      process.stdout.write(`${ph}\n`);
    });
}

/**
 * A secret the policy binds nowhere is injected nowhere, and its placeholder is refused: say so when
 * it is stored (a name from an old doc, `github` for `github_token`), with the names the policy
 * binds. Only a hint, from what the sources show: the services' `…secret` settings in
 * config/data.json and `"secret": "NAME"` in the rules; no note when neither names any secret.
 */
function unboundNote(home: string, name: string): string | undefined {
  try {
    const dir = resolveConfig(home, {}).policy;
    const bound = new Set<string>();
    for (const f of listPolicyFiles(dir)) {
      if (f.endsWith('_test.rego')) continue;
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      if (f.endsWith('.rego')) for (const m of text.matchAll(/"secret"\s*:\s*"([^"]+)"/g)) bound.add(m[1]!);
      if (f === path.join('config', 'data.json')) {
        const services = (JSON.parse(text) as { services?: Record<string, Record<string, unknown>> }).services ?? {};
        for (const svc of Object.values(services)) {
          for (const [k, v] of Object.entries(svc ?? {})) if (/secret$/.test(k) && typeof v === 'string') bound.add(v);
        }
      }
    }
    if (bound.size === 0 || bound.has(name)) return undefined;
    return `the policy in ${dir} binds no secret named ${JSON.stringify(name)}: it is injected nowhere and agents' placeholder for it is refused. ` +
      `The names it binds: ${[...bound].sort().join(', ')} (docs/secrets.md)`;
  } catch {
    return undefined; // a hint only: an unreadable config or policy is reported where it matters
  }
}
