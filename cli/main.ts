// The `airlock` command. Each command lives in cli/commands/<name>.ts and exports
// `register(program)`; this file discovers them, so adding a command is adding one file.
import fs from 'node:fs';
import { Command, CommanderError } from 'commander';
import { terminalText } from '../lib/text.ts';

const commandsDir = new URL('./commands/', import.meta.url);

/** The version in package.json (one place). */
export function airlockVersion(): string {
  return (JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** A reader that went away (`airlock … | head`) is not an error: stop writing, quietly. */
function isClosedPipe(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'EPIPE';
}

let pipeGuarded = false;
function guardClosedPipes(): void {
  if (pipeGuarded) return;
  pipeGuarded = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err) => {
      if (isClosedPipe(err)) process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
      throw err;
    });
  }
}

/**
 * The command files to load: only `<name>.ts` when the first argument names one (each command
 * pulls in its part of the tree, so loading all of them costs about a second per invocation);
 * every file for help, flags and anything else.
 */
async function loadRegistrations(first?: string): Promise<Array<(program: Command) => void>> {
  const all = fs.readdirSync(commandsDir).filter((f) => f.endsWith('.ts')).sort();
  const own = first && /^[a-z][a-z-]*$/.test(first) ? all.filter((f) => f === `${first}.ts`) : [];
  const files = own.length ? own : all;
  const mods = await Promise.all(files.map((f) => import(new URL(f, commandsDir).href) as Promise<{ register?: (p: Command) => void }>));
  return mods.flatMap((m) => (m.register ? [m.register] : []));
}

/** Errors a command throws for the user: printed as one line, exit code 1 unless given. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

/** `registrations`: the commands to offer, given instead of discovered (a bundle cannot discover files). */
export async function buildProgram(first?: string, registrations?: Array<(program: Command) => void>): Promise<Command> {
  const program = new Command('airlock')
    .description('Policy-as-code security gateway for autonomous AI agents')
    .version(airlockVersion(), '-V, --version', 'print the version')
    .showHelpAfterError()
    .exitOverride();
  for (const register of registrations ?? (await loadRegistrations(first))) register(program);
  return program;
}

export async function main(argv: string[], registrations?: Array<(program: Command) => void>): Promise<number> {
  guardClosedPipes();
  const program = await buildProgram(argv[0], registrations);
  if (argv.length === 0) {
    program.outputHelp();
    return 0;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (isClosedPipe(err)) return typeof process.exitCode === 'number' ? process.exitCode : 0;
    if (err instanceof CliError) {
      if (err.message) process.stderr.write(`airlock: ${terminalText(err.message, true)}\n`);
      return err.exitCode;
    }
    const e = err as Error;
    // Messages may quote a file's or a server's bytes: control characters are shown, never sent to the terminal.
    process.stderr.write(`airlock: ${terminalText(e.message ?? String(err), true)}\n`);
    return 1;
  }
}
