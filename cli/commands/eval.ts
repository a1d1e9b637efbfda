import fs from 'node:fs';
import type { Command } from 'commander';
import { PolicyCompileError } from '../../engine/compile.ts';
import { PolicyEngine } from '../../engine/engine.ts';
import type { RequestDescription } from '../../describe/types.ts';
import { CliError } from '../errors.ts';

export function register(program: Command): void {
  program
    .command('eval')
    .description('print the validated decision for one request description (JSON)')
    .requiredOption('--input <file>', 'request description JSON file, or - for stdin')
    .option('--policy <dir>', 'policy folder', 'rego')
    .option('--replay', 'time builtins see the request time (as replay does)', false)
    .action(async (opts: { input: string; policy: string; replay: boolean }) => {
      let text: string;
      try {
        text = fs.readFileSync(opts.input === '-' ? 0 : opts.input, 'utf8');
      } catch (err) {
        throw new CliError(`cannot read input ${opts.input}: ${(err as Error).message}`);
      }
      let input: RequestDescription;
      try {
        input = JSON.parse(text) as RequestDescription;
      } catch (err) {
        throw new CliError(`input ${opts.input} is not valid JSON: ${(err as Error).message}`);
      }
      if (!input || typeof input !== 'object' || Array.isArray(input)) throw new CliError(`input ${opts.input} must be a JSON object (a request description)`);
      const engine = new PolicyEngine({ mode: 'inline' });
      try {
        await engine.loadFolder(opts.policy);
      } catch (err) {
        if (err instanceof PolicyCompileError) throw new CliError(err.located().join('\n'));
        throw err;
      }
      const decision = await engine.decide(input, { replay: opts.replay });
      process.stdout.write(`${JSON.stringify(decision, null, 2)}\n`);
      await engine.close();
    });
}
