// The `airlock` command: the program, its commands (cli/command-list.ts) and how errors reach the user.
import fs from 'node:fs';
import { Command, CommanderError } from 'commander';
import { terminalText } from '../lib/text.ts';
import { commands, type Registration } from './command-list.ts';
import { CliError } from './errors.ts';

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

/** The commands to load: only the one the first argument names, or every one for help, flags and anything else. */
async function loadRegistrations(first?: string): Promise<Registration[]> {
  const own = first !== undefined && Object.hasOwn(commands, first) ? [commands[first]!] : Object.values(commands);
  return (await Promise.all(own.map((load) => load()))).map((m) => m.register);
}

export async function buildProgram(first?: string): Promise<Command> {
  const program = new Command('airlock')
    .description('Policy-as-code security gateway for autonomous AI agents')
    .version(airlockVersion(), '-V, --version', 'print the version')
    // One line of hint, not the whole help: the error stays on screen instead of scrolling away above it.
    .showHelpAfterError('(add --help to the command for its usage)')
    // Lets `airlock run` hand everything after the command's name to the command (passThroughOptions).
    .enablePositionalOptions()
    .exitOverride();
  for (const register of await loadRegistrations(first)) register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  guardClosedPipes();
  // `airlock version` is what people type after `docker version`; commander would suggest "sessions".
  if (argv.length === 1 && argv[0] === 'version') argv = ['--version'];
  // The version alone needs no command loaded (each loads its part of Airlock: ~1 s of CPU in all).
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    process.stdout.write(`${airlockVersion()}\n`);
    return 0;
  }
  const program = await buildProgram(argv[0]);
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
