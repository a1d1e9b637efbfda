import type { Command } from 'commander';
import { compilePolicy, PolicyCompileError } from '../../engine/compile.ts';
import { CliError } from '../errors.ts';

export function register(program: Command): void {
  program
    .command('build')
    .description('compile the policy folder to WebAssembly and report errors as file:line:col: message')
    .option('--policy <dir>', 'policy folder', 'rego')
    .action(async (opts: { policy: string }) => {
      try {
        const compiled = await compilePolicy(opts.policy);
        process.stdout.write(`ok: ${compiled.files.length} files, policy version ${compiled.version}, ${compiled.wasm.length} bytes of WASM\n`);
      } catch (err) {
        if (err instanceof PolicyCompileError) {
          for (const line of err.located()) process.stderr.write(`${line}\n`);
          throw new CliError('', 1);
        }
        throw err;
      }
    });
}
