// `airlock run --agent NAME [--no-sandbox] -- COMMAND ...`: runs an agent with Airlock as its way
// out. Mints a per-run token (revoked when the run ends), points every common client at the proxy
// with the CA trusted, exports secret placeholders, and on Linux confines the command to a network
// namespace whose only route is Airlock (sandbox/). The token travels in the environment
// only, never in process arguments.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { AgentError, AgentStore, agentNameProblem } from '../../state/agents.ts';
import { StateFileError } from '../../state/document.ts';
import { knownHomesFile, rememberedHomes, resolveHome } from '../../state/home.ts';
import { MasterKeyError, SecretStore, SecretStoreError, keyFilePath, listSecrets, placeholderEnvironment } from '../../state/secrets/index.ts';
import { watchDenials } from '../../sandbox/denial-report.ts';
import { refTips, rewrittenRefs } from '../../sandbox/git-review.ts';
import { claudeState, claudeStateChanged, configIncludes, homeEntryFiles, hooksPathIn, loginIdentities, loginsChanged, plantedReport, plantedSince, removeCaches, systemEntryFiles, untrustChanged, untrustDirenv } from '../../sandbox/entry-files.ts';
import { agentLogins, defaultTicketCaches, homeSecretFiles, homeSecretPaths, lexists, linkedElsewhere, systemSecretFiles, tempSecretFiles } from '../../sandbox/home-secrets.ts';
import { gitFoldersIn, nestedRepositories } from '../../sandbox/git-review.ts';
import { javaTrustStore } from '../../sandbox/java-truststore.ts';
import { LaunchError, discardTerminalInput, launchAgent, stdioRefusal, type AgentExit } from '../../sandbox/launch.ts';
import { socketAccepts } from '../../sandbox/relay.ts';
import { RunDefaultsError, forgetRunDefaults, loadRunDefaults, saveRunDefaults, savableKeys, type RunDefaults } from '../../sandbox/run-defaults.ts';
import { plantable, sandboxSupport } from '../../sandbox/support.ts';
import { hostProgram } from '../../lib/plantable.ts';
import { shellWord, terminalText } from '../../lib/text.ts';
import { CliError } from '../errors.ts';
import { projectRoot } from '../../engine/toolchain.ts';
import { lastPolicy, readRuntimeInfo } from '../../runtime/running.ts';
import { stateFile } from '../../state/home.ts';
import { emptyMap } from '../../lib/records.ts';

interface RunOptions {
  agent: string;
  home?: string;
  sandbox: boolean;
  tokenTtl: string;
  secret?: string[];
  secrets: boolean;
  hide?: string[];
  allowUnixSockets?: boolean;
  readOnly?: boolean;
  writable?: string[];
  writableSystem?: boolean;
  saveDefaults?: boolean;
  forgetDefaults?: boolean;
  reportDenials: boolean;
}

/** Where Airlock's proxy listens for local clients (the proxy runtime creates it on start). */
export function proxySocketPath(home: string): string {
  return stateFile(home, 'proxySocket');
}

/** Airlock's CA certificate: caFiles(home).cert of proxy/ca.ts, named here so this command does not load X.509 code. */
export function caCertPath(home: string): string {
  return stateFile(home, 'caCert');
}

function parseTtl(text: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(text.trim());
  if (!m) throw new CliError(`--token-ttl ${JSON.stringify(text)}: use a number with s, m, h or d (e.g. 8h)`);
  const ms = Number(m[1]) * { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[m[2] as 's' | 'm' | 'h' | 'd'];
  if (!(ms > 0)) throw new CliError('--token-ttl must be positive');
  return ms;
}

function collect(value: string, prev: string[] = []): string[] {
  return [...prev, value];
}

/** `--secret NAME` or `--secret NAME=VAR1,VAR2`: which placeholders to export, under which names. */
function parseSecretFlags(flags: string[]): { only: Set<string>; overrides: Record<string, string[]> } {
  const only = new Set<string>();
  const overrides: Record<string, string[]> = emptyMap();
  for (const f of flags) {
    const eq = f.indexOf('=');
    const name = eq < 0 ? f : f.slice(0, eq);
    only.add(name);
    if (eq >= 0) overrides[name] = f.slice(eq + 1).split(',').map((s) => s.trim()).filter(Boolean);
  }
  return { only, overrides };
}

/** The secrets this run may use: none with --no-secrets, the named ones with --secret, else all (undefined). */
export function runSecretSet(opts: Pick<RunOptions, 'secrets' | 'secret'>): string[] | undefined {
  if (!opts.secrets) return [];
  const { only } = parseSecretFlags(opts.secret ?? []);
  return only.size ? [...only].sort() : undefined;
}

async function placeholders(home: string, opts: RunOptions): Promise<Record<string, string>> {
  if (!opts.secrets) return {};
  const { only, overrides } = parseSecretFlags(opts.secret ?? []);
  try {
    let secrets = await listSecrets(home);
    if (only.size > 0) {
      const missing = [...only].filter((n) => !secrets.some((s) => s.name === n));
      if (missing.length) throw new CliError(`no secret named ${missing.join(', ')} (see airlock secret list)`);
      secrets = secrets.filter((s) => only.has(s.name));
    }
    return placeholderEnvironment(secrets, overrides);
  } catch (err) {
    if (err instanceof SecretStoreError || err instanceof MasterKeyError || err instanceof StateFileError) throw new CliError(err.message);
    throw err;
  }
}

/**
 * Every stored secret's real value, so a copy left in the user's environment can be replaced by
 * its placeholder before the agent sees it. Needs the master key, as the proxy does; without it
 * the check is skipped with a warning (the run itself needs no key).
 */
async function realSecretValues(home: string): Promise<Array<{ secret: string; value: string; placeholder: string }>> {
  try {
    const store = await SecretStore.open(home);
    const secrets = store.list();
    if (secrets.length === 0) return [];
    await store.unlock();
    return secrets.map((s) => ({ secret: s.name, value: store.reveal(s.name), placeholder: s.placeholder }));
  } catch (err) {
    process.stderr.write(`airlock: warning: could not check the environment for real secret values: ${(err as Error).message}\n`);
    return [];
  }
}

/** The top folder of the git repository holding `dir` (where the agent commits), when there is one. */
function repositoryTop(dir: string): string[] {
  for (let d = path.resolve(dir), i = 0; i < 64; d = path.dirname(d), i++) {
    if (fs.existsSync(path.join(d, '.git'))) return [d];
    if (path.dirname(d) === d) break;
  }
  return [];
}

/** A path as the user knows it: relative in the working directory, `~/…` in the home folder. */
function shownPath(p: string, userHome: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : tildePath(p, userHome);
}

/** Saved defaults that only mean something inside the sandbox. */
const sandboxOnlyKeys = new Set<string>(['readOnly', 'writable', 'writableSystem', 'hide', 'allowUnixSockets']);

/** A saved default as the flag that gives it: `--secret github_token=GH_TOKEN`, `--read-only`, `--no-secrets`. */
function flagOf(key: string, value: unknown): string {
  const flag = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  if (key === 'secrets') return value ? '' : '--no-secrets';
  if (Array.isArray(value)) return value.map((v) => `${flag} ${v}`).join(' ');
  return typeof value === 'boolean' ? (value ? flag : '') : `${flag} ${String(value)}`;
}

/** The agent's saved defaults under the flags given on this command line; saves them if asked. */
async function withDefaults(home: string, given: RunOptions, cmd: Command): Promise<RunOptions> {
  const fromCli = (k: string): boolean => cmd.getOptionValueSource(k) === 'cli';
  try {
    if (given.forgetDefaults) {
      if (given.saveDefaults) throw new CliError('choose --save-defaults or --forget-defaults, not both');
      const had = await forgetRunDefaults(home, given.agent);
      process.stderr.write(`airlock: ${had ? 'forgot the saved defaults' : 'no saved defaults'} of agent ${given.agent}\n`);
    }
    if (given.saveDefaults) {
      const values: RunDefaults = {};
      for (const k of savableKeys) if (fromCli(k)) (values as Record<string, unknown>)[k] = given[k];
      if (Object.keys(values).length === 0) throw new CliError('--save-defaults: give the flags to remember (e.g. --secret github_token=GH_TOKEN --read-only)');
      const file = await saveRunDefaults(home, given.agent, values);
      process.stderr.write(`airlock: saved defaults for agent ${given.agent} in ${file}: ${Object.keys(values).join(', ')}\n`);
    }
    const saved = await loadRunDefaults(home, given.agent);
    const opts: RunOptions = { ...given };
    const applied: string[] = [];
    const unsandboxed: string[] = [];
    for (const k of savableKeys) {
      if (fromCli(k) || saved[k] === undefined) continue;
      const flag = flagOf(k, saved[k]);
      // A saved confinement flag cannot be negated on the command line: a --no-sandbox run, which
      // has no confinement at all, leaves it out instead of being refused for a flag nobody typed.
      if (!given.sandbox && sandboxOnlyKeys.has(k)) {
        if (flag) unsandboxed.push(flag);
        continue;
      }
      (opts as unknown as Record<string, unknown>)[k] = saved[k];
      if (flag) applied.push(flag);
    }
    // Saved flags change what the agent gets (which placeholders, what it may write): say so, once.
    if ((applied.length || unsandboxed.length) && !given.saveDefaults) {
      const left = unsandboxed.length ? `${applied.length ? '; ' : ''}left out without the sandbox: ${unsandboxed.join(' ')}` : '';
      process.stderr.write(`airlock: agent ${given.agent}'s saved defaults apply: ${applied.join(' ')}${left} (flags on the command line win; saved in ${stateFile(home, 'runDefaults')})\n`);
    }
    return opts;
  } catch (err) {
    if (err instanceof RunDefaultsError || err instanceof StateFileError) throw new CliError(err.message);
    throw err;
  }
}

export function register(program: Command): void {
  program
    .command('run')
    .description('run a command as an agent: all its traffic goes through Airlock (sandboxed on Linux)')
    .requiredOption('--agent <name>', 'the agent the command acts as (see airlock agent add)')
    .option('--home <dir>', 'state folder (default .airlock or AIRLOCK_HOME)')
    .option('--no-sandbox', 'environment variables only, no network namespace: the command can bypass Airlock')
    .option('--token-ttl <duration>', 'lifetime of the per-run token (revoked at exit anyway)', '12h')
    .option('--secret <name[=VAR,...]>', 'export only these secrets\' placeholders, optionally under other variable names (repeatable)', collect)
    .option('--no-secrets', 'export no secret placeholders')
    .option('--hide <path>', 'also hide this file or folder inside the sandbox (repeatable)', collect)
    .option('--allow-unix-sockets', 'let the sandboxed command create Unix sockets (tools such as the tsx CLI need them); host sockets in shared folders then become reachable')
    .option('--read-only', 'the sandboxed command can write only the working directory and the temp folder (plus --writable paths)')
    .option('--writable <path>', 'with --read-only (or run by root): also let the command write here, e.g. ~/.cache (repeatable)', collect)
    .option('--writable-system', 'run by root: let the command write the system\'s folders as root can (/usr, /etc, …; apt install inside), which the host then runs, even during the run')
    .option('--no-report-denials', 'do not print a line here when Airlock refuses one of the agent\'s requests')
    .option('--forget-defaults', 'drop this agent\'s saved defaults (then run with the flags given here)')
    .option('--save-defaults', 'remember the flags given here (--secret, --no-secrets, --hide, --read-only, --writable, --writable-system, --allow-unix-sockets, --token-ttl) as this agent\'s defaults')
    .argument('[command...]', 'the command and its arguments, after -- (or after the first word that is not an option of run)')
    // `airlock run --agent coder sh -c '…'` without `--`: sh's options are sh's, not unknown ones of run.
    .passThroughOptions()
    .action(async (command: string[], given: RunOptions, cmd: Command) => {
      if (!command.length) throw new CliError(`give the command to run after --, e.g. airlock run --agent ${shellWord(given.agent)} -- sh`);
      // A name no agent can have is not "no agent named …, add one with …" (the add would fail too).
      const badName = agentNameProblem(given.agent);
      if (badName) throw new CliError(badName);
      const home = resolveHome(given.home);
      const opts = await withDefaults(home, given, cmd);
      const ttlMs = parseTtl(opts.tokenTtl);
      const socket = proxySocketPath(home);
      if (!(await socketAccepts(socket))) {
        throw new CliError(`Airlock is not running for ${home}: nothing accepts connections on ${socket} (start it with: airlock start${opts.home ? ` --home ${shellWord(opts.home)}` : ''})`);
      }
      const caCert = caCertPath(home);
      if (!fs.existsSync(caCert)) throw new CliError(`Airlock's CA certificate ${caCert} is missing (airlock start creates it)`);

      // Run by root, the system is read-only inside unless asked otherwise: root writes what the host
      // runs while the agent still runs (a job in /etc/cron.d, which cron reads every minute, runs
      // outside every namespace with the host's network; a library rewritten in place changes every
      // host process that maps it, Airlock's own included), not only what it runs later.
      const rootRun = process.getuid?.() === 0;
      if (opts.writableSystem && !rootRun) throw new CliError('--writable-system is for runs by root (any other user cannot write the system\'s folders anyway)');
      if (opts.writableSystem && opts.readOnly) throw new CliError('choose --read-only or --writable-system, not both');
      const systemReadOnly = rootRun && opts.sandbox && !opts.readOnly && !opts.writableSystem;
      if (opts.writable?.length && !opts.readOnly && !systemReadOnly) throw new CliError(rootRun ? '--writable only makes sense without --writable-system' : '--writable only makes sense with --read-only');
      if (opts.readOnly && !opts.sandbox) throw new CliError('--read-only needs the sandbox; it cannot be combined with --no-sandbox');
      let sandbox: { bwrap: string; userNamespace: boolean; nested: boolean; allowUnixSockets?: boolean; readOnly?: { writable: string[] }; systemReadOnly?: { writable: string[] } } | false = false;
      if (opts.sandbox) {
        // Before any work (the probe sandbox, the token): stdio that would lead out is refused anyway.
        const refused = stdioRefusal();
        if (refused) throw new CliError(refused);
        const support = sandboxSupport();
        if (!support.available) {
          throw new CliError(
            `cannot confine the agent to a network sandbox: ${support.reason}. ` +
              'To run it anyway with proxy environment variables only (a program that ignores them bypasses Airlock), add --no-sandbox.',
          );
        }
        sandbox = {
          bwrap: support.bwrap, userNamespace: support.userNamespace, nested: support.nested, allowUnixSockets: !!opts.allowUnixSockets,
          ...(opts.readOnly ? { readOnly: { writable: opts.writable ?? [] } } : {}),
          // A root run's default: the system's folders read-only but for the working directory (and
          // its repository), the temp folders, root's home folder and --writable paths inside them.
          ...(systemReadOnly ? { systemReadOnly: { writable: [os.homedir(), ...repositoryTop(process.cwd()), ...(opts.writable ?? [])] } } : {}),
        };
        if (systemReadOnly) {
          process.stderr.write('airlock: run by root: the system\'s folders (/usr, /etc, /opt, /var, …) are read-only inside but for the working directory, the temp folders and your home folder (--writable-system lets the agent change the system, e.g. for apt install)\n');
        }
        if (!support.nested) {
          process.stderr.write('airlock: warning: this machine refuses a user namespace inside the sandbox, so the agent runs in the sandbox\'s own: it can take over the sandbox\'s bridge and its channel to airlock run (which only relays to the proxy)\n');
        }
        if (opts.allowUnixSockets) {
          process.stderr.write('airlock: warning: --allow-unix-sockets: Unix sockets on the shared filesystem (tmux, ssh-agent, X11, Docker) are reachable from the sandbox; hide them with --hide\n');
        }
      } else {
        process.stderr.write('airlock: warning: --no-sandbox: the agent only gets proxy environment variables; a program that ignores them reaches the network without Airlock\n');
      }

      const env = await placeholders(home, opts);
      const realValues = await realSecretValues(home);
      let agents: AgentStore;
      try {
        agents = await AgentStore.open(home);
      } catch (err) {
        if (err instanceof StateFileError) throw new CliError(err.message);
        throw err;
      }
      if (!agents.get(opts.agent)) throw new CliError(`no agent named ${opts.agent} (add one with: airlock agent add ${opts.agent})`);
      let issued;
      try {
        // The run's set of secrets travels with its token: the proxy injects no other secret for it.
        const secrets = runSecretSet(opts);
        // unixOnly: the token works only through <home>/proxy.sock, where the run relays (state/agents.ts).
        issued = await agents.issueToken(opts.agent, { ttlMs, label: `airlock run ${path.basename(command[0]!)} (pid ${process.pid} on ${os.hostname()})`, unixOnly: true, ...(secrets ? { secrets } : {}) });
      } catch (err) {
        if (err instanceof AgentError) throw new CliError(err.message);
        throw err;
      }

      let trustStore: string | undefined;
      try {
        trustStore = javaTrustStore(home, caCert);
      } catch (err) {
        process.stderr.write(`airlock: warning: ${(err as Error).message}; Java programs will not trust Airlock's CA\n`);
      }
      // Tools often hide Airlock's 403 (pip: "No matching distribution found"): say it here.
      // The lines printed while the agent held the terminal may be gone by the end (twenty-fifth
      // pass): it cleared the screen and the scrollback after them, or kept a title open that
      // swallowed them. Counted, and the last ones said again after the run (see below).
      const shownWhileRunning = { count: 0, last: [] as string[], running: true };
      const denials = opts.reportDenials ? watchDenials(home, opts.agent, (line) => {
        process.stderr.write(`${line}\n`);
        if (!shownWhileRunning.running) return;
        shownWhileRunning.count++;
        shownWhileRunning.last = [...shownWhileRunning.last.slice(-(DENIALS_AGAIN - 1)), line];
      }) : undefined;

      // What the user's shell, git, ssh, npm and editors run later, outside the sandbox: read-only
      // inside where it exists (sandbox/entry-files.ts); whatever such file the run created or changed
      // anyway is named after it. Taken before the run starts: gitControlPaths makes folders.
      const userHome = os.homedir();
      const placed: string[] = [];
      // Run by root, also the system's (cron, ld.so.preload, sudoers, profile, PAM, …; entry-files.ts).
      const system = sandbox ? systemEntryFiles(opts.writable) : { protect: [], made: [] };
      // The project's nested repositories, found by one bounded walk (up to a second on a big
      // tree) for both the read-only binds and the branch tips below (twenty-third pass, follow-up).
      const nested = sandbox ? nestedRepositories(process.cwd(), NESTED_REPOSITORIES) : [];
      const protect = sandbox ? [...protectedPaths(home, process.cwd(), placed, nested), ...homeEntryFiles(userHome, process.cwd(), opts.writable, process.env), ...system.protect] : [];
      // A change time is taken from the kernel's coarse clock, in finer units than Date.now(): what
      // was made just now may read a millisecond or a tick later. The agent starts far later.
      const started = Date.now() + 20;
      // Claude Code's state file changes as it runs: its code-running parts are compared instead.
      const claudeBefore = sandbox ? claudeState(userHome, process.env) : new Map();
      const loginsBefore = sandbox ? loginIdentities(userHome, process.env) : new Map<string, string | undefined>();
      // The branch tips: one moved off its own history (a look-alike of the last commit holding the
      // agent's change) leaves git status, diff and log as they were.
      const refsBefore = sandbox ? refTips(process.cwd(), nested) : undefined;
      // Credential stores and histories: the ones missing now may be made by the agent (named after
      // the run), and one with another hard link is readable under that name (said now).
      const secretPaths = sandbox ? [...homeSecretPaths(userHome, process.env), ...defaultTicketCaches()] : [];
      const secretsMissing = secretPaths.filter((p) => !lexists(p));
      for (const p of linkedElsewhere(secretPaths)) {
        process.stderr.write(`airlock: warning: ${terminalText(tildePath(p, userHome))} has another name (a hard link), which the sandbox hides only where it finds it (the working directory, the home folder, the temp folder); remove that link\n`);
      }
      // Coding agents' own logins (Claude Code's OAuth tokens, Codex's, Gemini CLI's): hidden when
      // the run hands that CLI its key through Airlock, else named here (the agent may be that CLI,
      // which needs its login to work).
      const handed = new Set([...Object.keys(env), ...Object.entries(process.env).filter(([, v]) => v && realValues.some((r) => r.value.length >= 6 && v.includes(r.value))).map(([k]) => k)]);
      const logins = sandbox ? agentLogins(userHome, process.env, handed) : [];
      for (const l of logins.filter((x) => !x.hidden)) {
        process.stderr.write(`airlock: warning: ${terminalText(tildePath(l.path, userHome))} (${l.cli}'s login) is readable by the agent, which could send its tokens out; give ${l.cli} its key through Airlock instead (a secret exported as ${l.vars.join(' or ')}, see docs/sandbox.md) and the file is hidden\n`);
      }
      let exit: AgentExit;
      try {
        exit = await launchAgent({
          command, agent: opts.agent, token: issued.token, proxySocket: socket, caCert, home, placeholders: env, sandbox,
          ...(trustStore ? { javaTrustStore: trustStore } : {}),
          // The state folder is hidden anyway; the master key file may live elsewhere (AIRLOCK_MASTER_KEY_FILE).
          // Every other state folder this user has (another project's master key, secrets, CA key),
          // and the list of them, are hidden too.
          // And the user's command histories and credential stores, which hold secrets' real values;
          // run by root, the system's secrets and every other user's too.
          hide: [keyFilePath(home), ...otherHomes(home, process.cwd()), knownHomesFile(), ...homeSecretFiles(userHome, process.env), ...tempSecretFiles(process.env), ...systemSecretFiles(), ...logins.filter((l) => l.hidden).map((l) => l.path), ...(opts.hide ?? [])],
          protect,
          onPathReplaced: (p, kind, moved) => process.stderr.write(`airlock: ${terminalText(p)} was replaced on the host during the run, which lifts the sandbox's ${kind === 'protected' ? 'read-only bind' : 'hiding'} of it: ${
            kind === 'hidden' ? 'the agent could read what it holds since (rotate a credential it holds)'
              : kind === 'protected' ? 'the agent could change it since; review it before your shell, editor or git reads it'
                : moved ? `the agent could put code there; set aside as ${terminalText(moved)}` : 'the agent could put code there; remove it'}\n`),
          realValues,
          onMasked: (p, secrets, hidden) => process.stderr.write(hidden
            ? `airlock: ${terminalText(shownPath(p, userHome))} holds the real value of secret ${secrets.join(', ')} in a form Airlock cannot replace; it is hidden from the agent\n`
            : `airlock: ${terminalText(shownPath(p, userHome))} holds the real value of secret ${secrets.join(', ')}; the agent reads its placeholder there (the file is read-only during the run)\n`),
          onHistoryUnchecked: () => process.stderr.write('airlock: warning: the git repository here is too big to read whole for real secret values within the bounds; the agent may read a value committed once with git show\n'),
          onCredentials: (envVars) => process.stderr.write(`airlock: your environment variable${envVars.length > 1 ? 's' : ''} ${envVars.slice(0, 20).map((v) => terminalText(v)).join(', ')}${envVars.length > 20 ? ', …' : ''} look${envVars.length > 1 ? '' : 's'} like a credential Airlock does not keep (by name or value); the agent does not get ${envVars.length > 1 ? 'them' : 'it'}: give Airlock a credential the agent should use as a secret (airlock secret set NAME --env VAR) and the agent gets its placeholder\n`),
          onReplaced: (envVar, secret, dropped) => process.stderr.write(dropped
            ? `airlock: your environment variable ${envVar} holds the real value of secret ${secret} in a form Airlock cannot replace; the agent does not get that variable\n`
            : `airlock: your environment variable ${envVar} holds the real value of secret ${secret}; the agent gets its placeholder instead\n`),
        });
      } catch (err) {
        if (err instanceof LaunchError) throw new CliError(err.message);
        throw err;
      } finally {
        shownWhileRunning.running = false;
        if (shownWhileRunning.count) {
          process.stderr.write(`airlock: Airlock refused ${shownWhileRunning.count} of the agent's requests while it ran (said as they happened; the agent's output may have covered that)${shownWhileRunning.count > DENIALS_AGAIN ? `; the last ${DENIALS_AGAIN}` : ''}:\n`);
          for (const line of shownWhileRunning.last) process.stderr.write(`${line}\n`);
        }
        await denials?.stop();
        removePlaced(placed);
        const planted = plantedSince(started, userHome, process.cwd(), process.env.PATH, process.env, undefined, new Set(protect));
        if (sandbox) {
          removeCaches(planted.caches);
          planted.planted.push(...claudeStateChanged(claudeBefore, userHome, process.env), ...loginsChanged(loginsBefore, userHome, process.env), ...rewrittenRefs(refsBefore));
          // mise's trust of a config that changed is taken back (its shell hook runs at your next prompt).
          // So is direnv's permission of an allowed .envrc whose sourced files or PATH folders
          // changed (twenty-eighth pass): direnv asks again only when the .envrc itself changes.
          for (const u of [...untrustChanged(started, userHome, process.env), ...untrustDirenv(started, userHome, process.env)]) {
            const named = planted.planted.find((f) => f.path === u.path);
            if (named) named.why = `${named.why}; ${u.why}`;
            else planted.planted.push(u);
          }
        }
        for (const line of plantedReport(planted, userHome, process.cwd())) process.stderr.write(`${line}\n`);
        for (const p of secretsMissing.filter(lexists)) {
          process.stderr.write(`airlock: ${terminalText(tildePath(p, userHome))} was made during the run (a place a tool keeps credentials or a history): what the tool writes there later, the agent's next run can read through it or a link to it; remove it unless you made it\n`);
        }
        await agents.revokeToken(opts.agent, issued.id).catch((err: Error) => {
          process.stderr.write(`airlock: warning: could not revoke the run's token ${issued.id} (it expires at ${issued.expires}): ${err.message}\n`);
        });
      }

      // What the terminal typed back at the agent's requests and the agent left unread (a title
      // report ending in a newline) would be the shell's next line: thrown away, after the reports
      // above (which give a terminal's answer time to arrive).
      discardTerminalInput();
      if (exit.signal) {
        // Die the way the command died, so callers (shells, CI) see the same signal; but not of one
        // whose default is a core dump. The agent picks its way out (`exit 139` reads as SIGSEGV), and
        // this process's core holds what it decrypted (every secret's real value, to scan the
        // environment; the master key): written as `core` into the working directory the next agent
        // reads, or into /var/crash. Exiting 128+N, a shell's $? is the same.
        process.exitCode = 128 + (os.constants.signals[exit.signal] ?? 0);
        if (coreDumping.has(exit.signal)) return;
        for (const l of process.listeners(exit.signal)) process.off(exit.signal, l as () => void);
        process.kill(process.pid, exit.signal);
        return;
      }
      process.exitCode = exit.code ?? 1;
    });
}

/** How many of the refusals printed while the agent ran are said again after it (the last ones). */
const DENIALS_AGAIN = 3;

/** Signals whose default action dumps core (signal(7)). */
const coreDumping = new Set<NodeJS.Signals>(['SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGSEGV', 'SIGSYS', 'SIGXCPU', 'SIGXFSZ']);

/** The user's other state folders (the list and this one's copy of it), except any that holds the working directory. */
function otherHomes(home: string, cwd: string): string[] {
  const real = (p: string): string => {
    try {
      return fs.realpathSync(p);
    } catch {
      return p;
    }
  };
  const own = real(home);
  const here = real(cwd);
  return rememberedHomes(home).filter((h) => h !== own && !(here === h || here.startsWith(`${h}${path.sep}`)));
}

/** Folders of the checkout that only hold output of its own tests (tap's process records, screenshots). */
const OUTPUT_ONLY = new Set(['.tap', 'test-artifacts']);

/**
 * What stays read-only for a sandboxed agent: the running Airlock's policy folder, and Airlock's
 * own code (every entry of its folder but its tests' output: sources, node_modules with the bundle
 * cache `airlock start` runs from, the opa toolchain). Either, rewritten by an agent, would be
 * obeyed by the next `airlock start` without a human having said yes. A working directory inside
 * Airlock's folder keeps its own entry writable.
 */
export function protectedPaths(home: string, cwd: string, made: string[] = [], nested?: string[]): string[] {
  const policy = readRuntimeInfo(home)?.policy;
  const root = path.resolve(projectRoot);
  const inside = (dir: string, p: string): boolean => p === dir || p.startsWith(`${dir}${path.sep}`);
  const code = fs.readdirSync(root)
    .filter((e) => !OUTPUT_ONLY.has(e))
    .map((e) => path.join(root, e))
    .filter((p) => !inside(p, path.resolve(cwd)) && !inside(path.resolve(home), p));
  return [...new Set([...(policy ? [policy] : []), ...knownPolicies(home, cwd)])].concat(code, nodeInstall(cwd), gitControlPaths(cwd, made, nested), gitHooksPath(cwd));
}

/**
 * The policy folders the user's state folders start with (seventeenth pass): only the running
 * Airlock's was kept, so an agent rewrote another project's `rego/` (or this one's, when the running
 * Airlock loads another), and the next `airlock start` there obeyed it with no human having said
 * yes. Each state folder's last loaded policy (kept by `airlock start`), and where none is recorded
 * the default one beside a `.airlock` folder (`rego`, or its config.json's `policy`); never one
 * holding the working directory (an agent asked to work on a policy edits it there).
 */
export function knownPolicies(home: string, cwd: string): string[] {
  const here = path.resolve(cwd);
  const out: string[] = [];
  for (const h of [home, ...otherHomes(home, cwd)]) {
    const recorded = lastPolicy(h);
    let configured: string | undefined;
    try {
      const doc = JSON.parse(fs.readFileSync(path.join(h, 'config.json'), 'utf8')) as { policy?: unknown };
      if (typeof doc.policy === 'string' && doc.policy) configured = doc.policy;
    } catch {
      /* none */
    }
    const guess = path.basename(h) === '.airlock' ? path.resolve(path.dirname(h), configured ?? 'rego') : undefined;
    for (const p of [recorded, guess]) {
      if (!p || out.includes(p) || here === p || here.startsWith(`${p}${path.sep}`)) continue;
      try {
        if (fs.statSync(p).isDirectory()) out.push(p);
      } catch {
        /* gone */
      }
    }
  }
  return out.slice(0, 256);
}

/**
 * The folder `core.hooksPath` names (the repository's config or the user's global one: husky sets
 * `.husky/_`, which it keeps out of git with a `*` .gitignore; teams use `.githooks`, users a
 * `~/.githooks` for every repository): git runs the hooks there, outside the sandbox, at the user's
 * next commit or checkout, like those in .git/hooks, and an ignored one shows in no diff. Read-only
 * inside, made first (empty) when missing so the agent cannot make it. Read with `git config`,
 * which runs nothing of the repository's; no git, no repository: none. Never the home folder, the
 * root, or a folder holding the working directory.
 */
export function gitHooksPath(cwd: string, homeDir: string = os.homedir()): string[] {
  let named: string;
  let top = '';
  try {
    const git = hostProgram('git');
    // No git to trust (only one in a folder of yours): the configs read as the report reads them.
    if (!('file' in git)) named = hooksPathWithoutGit(cwd, homeDir) ?? '';
    else named = execFileSync(git.file, ['-C', cwd, 'config', '--type=path', '--get', 'core.hooksPath'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return []; // not set, or no git
  }
  if (!named) return [];
  if (!path.isAbsolute(named)) {
    // Relative to the working tree's top, where hooks run: the nearest folder up holding `.git`.
    for (let d = path.resolve(cwd); !top; d = path.dirname(d)) {
      if (fs.existsSync(path.join(d, '.git'))) top = d;
      else if (d === path.dirname(d)) return [];
    }
  }
  const dir = path.resolve(top || '/', named);
  const holds = (p: string, c: string): boolean => p === c || c.startsWith(`${p}${path.sep}`);
  if (dir === path.parse(dir).root || dir === path.resolve(homeDir) || holds(dir, path.resolve(cwd))) return [];
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  } catch {
    /* not ours to make */
  }
  return fs.existsSync(dir) ? [dir] : [];
}

/**
 * `core.hooksPath` without running git (no git this user could not have planted, see hostProgram):
 * the nearest repository's own config, else the user's global ones (the last that sets it), `~/`
 * expanded as git's `--type=path` does.
 */
function hooksPathWithoutGit(cwd: string, homeDir: string): string | undefined {
  let own: string | undefined;
  for (let d = path.resolve(cwd); ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, '.git'))) {
      own = hooksPathIn(path.join(d, '.git', 'config'));
      break;
    }
    if (d === path.dirname(d)) break;
  }
  const global = [path.join(homeDir, '.gitconfig'), path.join(homeDir, '.config', 'git', 'config')].map(hooksPathIn).filter((v): v is string => !!v).at(-1);
  const named = own ?? global;
  return named?.startsWith('~/') ? path.join(homeDir, named.slice(2)) : named;
}

/**
 * What git itself runs, of the repository holding the working directory: its config (core.fsmonitor,
 * core.sshCommand, filter drivers, core.pager and the like name programs, and `git status` runs
 * fsmonitor and clean filters: the user's shell prompt and editor run it on their own, outside the
 * sandbox), its hooks and info/ (attributes naming filters, excludes hiding files from a review), a
 * worktree's `.git` file (it names the folder holding all of these) and each submodule's config and
 * hooks (`git status` recurses into them). None is tracked, so no diff shows a change to them.
 * Kept read-only inside; the agent still commits, branches and fetches (objects, refs, index).
 * A hooks or info folder that is missing (or a worktree config, where git reads one) is made first,
 * so none can be added.
 */
export function gitControlPaths(cwd: string, made: string[] = [], nested: string[] = nestedRepositories(cwd, NESTED_REPOSITORIES)): string[] {
  // Every repository holding the working directory, not only the nearest (eighteenth pass): git run
  // in a folder that is in no inner repository finds the outer one, so a dotfiles repository at
  // `~/.git` or a monorepo's above a nested project is the repository of every such folder, whose
  // config and hooks the user's prompt runs.
  const out: string[] = [];
  // And every repository the project holds (twenty-third pass): a nested repository's config is
  // what `git status` there obeys, and the editor's git (VS Code opens the repositories it finds in
  // the folder) runs it during the run, before any review; submodules' are kept below already.
  for (const dir of nested.slice(0, NESTED_REPOSITORIES)) out.push(...repositoryControlPaths(dir, made));
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    out.push(...repositoryControlPaths(dir, made));
    if (dir === path.dirname(dir) || out.length > 4096) return [...new Set(out)];
  }
}

/** At most this many nested repositories are kept read-only (see gitControlPaths). */
const NESTED_REPOSITORIES = 64;

/** gitControlPaths for the repository whose `.git` is in `dir` (none: []). */
function repositoryControlPaths(dir: string, made: string[]): string[] {
  const found = gitFoldersIn(dir);
  if (found) {
    const { gitDir, common } = found;
    const dotGit = path.join(dir, '.git');
    const isFile = found.dotGitIsFile;
    // A worktree's own config, read when extensions.worktreeConfig is on (`git sparse-checkout`
    // turns it on): made empty when missing then, so none can be added.
    let worktreeConfig = false;
    try {
      worktreeConfig = setsWorktreeConfig(fs.readFileSync(path.join(common, 'config'), 'utf8'));
    } catch {
      /* no config: git makes one */
    }
    // The repository's other linked worktrees (twenty-second pass): each one's git folder here
    // (`worktrees/<name>`) has a `commondir` naming where git takes config and hooks from, and its
    // own `config.worktree`, both read by the next `git status` in that worktree (another folder,
    // which the user's prompt runs it in); written from this one, even under --read-only (they are
    // in this working directory's .git), they made a folder of the agent's that worktree's config.
    const linked: string[] = [];
    try {
      for (const e of fs.readdirSync(path.join(common, 'worktrees'), { withFileTypes: true }).slice(0, 64)) if (e.isDirectory()) linked.push(path.join(common, 'worktrees', e.name));
    } catch {
      /* no linked worktrees */
    }
    for (const d of worktreeConfig ? new Set([gitDir, common, ...linked]) : []) {
      try {
        fs.writeFileSync(path.join(d, 'config.worktree'), '', { flag: 'wx' });
      } catch {
        /* there already, or not ours to make */
      }
    }
    const out = [...(isFile ? [dotGit] : []), ...[gitDir, ...linked].flatMap((d) => [path.join(d, 'config.worktree'), path.join(d, 'commondir')])];
    // A linked worktree's own info folder (twenty-second pass, follow-up): git takes
    // `info/sparse-checkout` from the worktree's git folder, not the common one, and the user's next
    // checkout or `git sparse-checkout reapply` there leaves out (skip-worktree) what its patterns
    // do not name. Made when missing, as the common info is, so none can be added.
    for (const d of new Set([gitDir, ...linked])) {
      if (d === common) continue;
      try {
        fs.mkdirSync(path.join(d, 'info'));
      } catch {
        /* there already, or not ours to make */
      }
      out.push(path.join(d, 'info'));
    }
    const repos = [common];
    const gitDirs = new Set([gitDir]);
    // Submodules' own repositories: modules/<name>[/modules/<name>…], bounded.
    for (let i = 0; i < repos.length && repos.length < 64; i++) {
      try {
        for (const e of fs.readdirSync(path.join(repos[i]!, 'modules'), { withFileTypes: true })) if (e.isDirectory() && repos.length < 64) repos.push(path.join(repos[i]!, 'modules', e.name));
      } catch {
        /* no submodules */
      }
    }
    for (const repo of repos) gitDirs.add(repo);
    // `commondir` in a git folder names the folder git takes config, hooks and info from (a linked
    // worktree's has one): one the agent adds to the repository's .git makes a folder of its own,
    // with its config, the repository's for the next `git status`. One that exists is protected;
    // where there is none, one naming the folder itself (`.`, what git does without it) is put
    // there for the run and protected, and taken away after it (`made`).
    for (const d of gitDirs) {
      const file = path.join(d, 'commondir');
      try {
        fs.writeFileSync(file, '.\n', { flag: 'wx' });
        made.push(file);
      } catch {
        /* there already (protected below), or not ours to make */
      }
      out.push(file);
    }
    for (const repo of repos) {
      for (const d of ['hooks', 'info']) {
        try {
          fs.mkdirSync(path.join(repo, d));
        } catch {
          /* there already, or not ours to make */
        }
      }
      out.push(path.join(repo, 'config'), path.join(repo, 'config.worktree'), path.join(repo, 'hooks'), path.join(repo, 'info'));
    }
    // What those configs include (`git config include.path ../.gitconfig` shares a tracked file of
    // the working tree as config): git obeys it as the config itself, and the user's prompt runs
    // `git status` before any review of the change. Read-only too; a missing one is made empty
    // (git reads an empty one as none) where its folder exists.
    const configs = [...gitDirs].flatMap((d) => [path.join(d, 'config'), path.join(d, 'config.worktree')]);
    for (const inc of configIncludes(configs, os.homedir())) {
      try {
        if (fs.statSync(path.dirname(inc)).isDirectory()) fs.writeFileSync(inc, '', { flag: 'wx', mode: 0o644 });
      } catch {
        /* there already, or not ours to make */
      }
      out.push(inc);
    }
    return out.filter((p) => fs.existsSync(p));
  }
  return [];
}

/**
 * The Node that runs Airlock, when the user could have written it (nvm, fnm, volta and asdf put
 * it under the home folder): an agent that replaced it, or a module of its `lib/`, would run as the
 * next `airlock start`, next to the master key. Its install folder (`<prefix>/bin/node`) stays
 * read-only; a system Node is root's already.
 */
function nodeInstall(cwd: string): string[] {
  let node: string;
  try {
    node = fs.realpathSync(process.execPath);
  } catch {
    return [];
  }
  if (!plantable(node)) return [];
  const prefix = path.basename(path.dirname(node)) === 'bin' ? path.dirname(path.dirname(node)) : path.dirname(node);
  const here = path.resolve(cwd);
  return here === prefix || here.startsWith(`${prefix}${path.sep}`) || prefix === path.parse(prefix).root ? [] : [prefix];
}

/** Takes away the `commondir` files gitControlPaths put in place for the run, if they still say `.`. */
function removePlaced(files: string[]): void {
  for (const f of files) {
    try {
      if (fs.readFileSync(f, 'utf8') === '.\n') fs.unlinkSync(f);
    } catch {
      /* gone already */
    }
  }
}

/** Whether a git config turns on `extensions.worktreeConfig` (`worktreeconfig = true`, any case, as git reads a boolean). */
function setsWorktreeConfig(config: string): boolean {
  return config.split('\n').some((line) => {
    const eq = line.indexOf('=');
    if (eq < 0) return false;
    return line.slice(0, eq).trim().toLowerCase() === 'worktreeconfig' && ['true', 'yes', 'on', '1'].includes(line.slice(eq + 1).trim().toLowerCase());
  });
}

/** `~/…` for a path in the home folder, the path itself otherwise (for the user's terminal). */
function tildePath(p: string, homeDir: string): string {
  const rel = path.relative(homeDir, p);
  return homeDir && rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? `~/${rel}` : p;
}
