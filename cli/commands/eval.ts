import type { Command } from 'commander';
import { PolicyCompileError } from '../../engine/compile.ts';
import { PolicyEngine } from '../../engine/engine.ts';
import { CliError } from '../errors.ts';
import { requestInput } from '../request-input.ts';
import { terminalJson } from '../../lib/text.ts';

export function register(program: Command): void {
  program
    .command('eval')
    .description('print the validated decision for one request description (JSON)')
    .requiredOption('--input <file>', 'a request description (JSON), a request {method, url, headers?, body?} (JSON), or with --case a traffic test file; - for stdin')
    .option('--case <name>', 'the case of the traffic test file given as --input')
    .option('--policy <dir>', 'policy folder', 'rego')
    .option('--agent <id>', 'agent for a raw request', 'agent')
    .option('--replay', 'time builtins see the request time (as replay does); default for --case and raw requests', false)
    .action(async (opts: { input: string; case?: string; policy: string; agent: string; replay: boolean }) => {
      const input = await requestInput({ ...opts, descriptionAsIs: true });
      const id: unknown = input.request.id;
      const raw = opts.case !== undefined || (typeof id === 'string' && id.startsWith('test:'));
      const engine = new PolicyEngine({ mode: 'inline' });
      try {
        try {
          await engine.loadFolder(opts.policy);
        } catch (err) {
          if (err instanceof PolicyCompileError) throw new CliError(err.located().join('\n'));
          throw err;
        }
        const decision = await engine.decide(input, { replay: opts.replay || raw });
        process.stdout.write(`${terminalJson(decision)}\n`);
      } finally {
        await engine.close();
      }
    });
}
