import type { Command } from 'commander';
import { AgentError, AgentStore } from '../../state/agents.ts';
import { StateFileError } from '../../state/document.ts';
import { defaultConfig, parseHostPort, resolveConfig } from '../../runtime/config.ts';
import { readRuntimeInfo } from '../../runtime/running.ts';
import { CliError } from '../errors.ts';
import { existingHome, homeForWriting } from '../state-folder.ts';
import type { PgAgents } from '../../state/postgres/agents.ts';
import { sharedAgents, sharedStoreUrl } from '../../runtime/cli-stores.ts';
import { emptyMap } from '../../lib/records.ts';

async function open(home: string | undefined, adding = false): Promise<{ store: AgentStore | PgAgents; home: string }> {
  const dir = adding ? homeForWriting(home) : existingHome(home);
  try {
    const shared = sharedStoreUrl(dir);
    return { store: shared ? await sharedAgents(shared) : await AgentStore.open(dir), home: dir };
  } catch (err) {
    if (err instanceof StateFileError) throw new CliError(err.message);
    throw err;
  }
}

function parseLabels(specs: string[] = []): Record<string, string> {
  const labels: Record<string, string> = emptyMap();
  for (const s of specs) {
    const i = s.indexOf('=');
    if (i <= 0) throw new CliError(`--label ${s}: expected KEY=VALUE`);
    const key = s.slice(0, i);
    // An agent's label has one value: a second one would silently replace the first.
    if (Object.hasOwn(labels, key)) throw new CliError(`--label ${key} is given twice (${key}=${labels[key]} and ${s}): an agent's label has one value`);
    labels[key] = s.slice(i + 1);
  }
  return labels;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function register(program: Command): void {
  const agent = program.command('agent').description('manage the agents allowed to use the proxy');

  agent
    .command('add <name>')
    .description('create an agent; prints its proxy URL (with a new token) once')
    .option('--home <dir>', 'state folder')
    .option('--label <key=value>', 'label policies see as input.agent.labels (repeatable)', collect)
    .option('--proxy <host:port>', 'proxy address to print in the URL (default from config)')
    .action(async (name: string, opts: { home?: string; label?: string[]; proxy?: string }) => {
      const { store, home } = await open(opts.home, true);
      let issued;
      try {
        issued = await store.add(name, { labels: parseLabels(opts.label) });
      } catch (err) {
        // Tokens are shown once: someone who lost theirs needs the way to a new one.
        if (err instanceof AgentError && /already exists/.test(err.message)) {
          throw new CliError(`${err.message}; its token was shown once, when it was added. For a new one: airlock agent rm ${name} && airlock agent add ${name} (airlock run --agent ${name} mints its own token for each run)`);
        }
        if (err instanceof AgentError) throw new CliError(err.message);
        throw err;
      }
      let at: { host: string; port: number };
      try {
        at = parseHostPort(opts.proxy ?? readRuntimeInfo(home)?.proxy ?? resolveConfig(home, {}).proxy ?? defaultConfig.proxy, '--proxy');
      } catch (err) {
        throw new CliError((err as Error).message);
      }
      const host = at.host.includes(':') ? `[${at.host}]` : at.host === '0.0.0.0' ? '127.0.0.1' : at.host;
      process.stdout.write(`http://${encodeURIComponent(name)}:${issued.token}@${host}:${at.port}\n`);
      process.stderr.write(`airlock: agent ${name} created. The URL above holds its token and is shown only once:\n` +
        `airlock: use it as http_proxy and https_proxy (and their uppercase forms: curl reads only the lowercase http_proxy) and trust the CA (airlock ca path); airlock run --agent ${name} sets all of it.\n`);
    });

  agent
    .command('list')
    .description('list agents (never their tokens)')
    .option('--home <dir>', 'state folder')
    .option('--json', 'print JSON', false)
    .action(async (opts: { home?: string; json: boolean }) => {
      const { store } = await open(opts.home);
      const list = store.list();
      if (opts.json) return void process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
      if (list.length === 0) return void process.stdout.write('no agents (create one with: airlock agent add NAME)\n');
      for (const a of list) {
        const now = Date.now();
        const live = a.tokens.filter((t) => !t.expires || Date.parse(t.expires) > now).length;
        const labels = Object.entries(a.labels).map(([k, v]) => `${k}=${v}`).join(',');
        process.stdout.write(`${a.name}\t${live} token${live === 1 ? '' : 's'}\tcreated ${a.created}${labels ? `\t${labels}` : ''}\n`);
      }
    });

  agent
    .command('rm <name>')
    .description('remove an agent and all its tokens')
    .option('--home <dir>', 'state folder')
    .action(async (name: string, opts: { home?: string }) => {
      const { store } = await open(opts.home);
      if (!(await store.remove(name))) throw new CliError(`no agent named ${name}`);
      process.stdout.write(`removed agent ${name}\n`);
    });
}
