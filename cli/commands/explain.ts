// `airlock explain`: which rule decided one request, which rules were considered, and where each
// rule that did not apply stopped (engine/explain.ts; OPA's evaluation trace).
import type { Command } from 'commander';
import { PolicyCompileError } from '../../engine/compile.ts';
import { PolicyEngine } from '../../engine/engine.ts';
import { ExplainError, explainDecision, formatExplanation } from '../../engine/explain.ts';
import { CliError } from '../errors.ts';
import { isObject, requestInput } from '../request-input.ts';
import { terminalJson } from '../../lib/text.ts';

export function register(program: Command): void {
  program
    .command('explain')
    .description('why a policy decides one request as it does: the deciding rule, the rules considered, and where each that did not apply stopped')
    .requiredOption('--input <file>', 'a request description (JSON), a request {method, url, headers?, body?} (JSON), or with --case a traffic test file; - for stdin')
    .option('--case <name>', 'the case of the traffic test file given as --input')
    .option('--policy <dir>', 'policy folder', 'rego')
    .option('--agent <id>', 'agent for a raw request', 'agent')
    .option('--replay', 'time builtins see the request time (as replay and traffic tests do); default for --case and raw requests', false)
    .option('--all', 'also list helper rules, not only decision and verdict rules', false)
    .option('--json', 'print the explanation as JSON', false)
    .action(async (opts: { input: string; case?: string; policy: string; agent: string; replay: boolean; all: boolean; json: boolean }) => {
      const input = await requestInput(opts);
      const replay = opts.replay || opts.case !== undefined || !isObject((input as unknown as Record<string, unknown>).request) || input.request.id?.startsWith('test:') === true;
      const engine = new PolicyEngine({ mode: 'inline' });
      try {
        try {
          await engine.loadFolder(opts.policy);
        } catch (err) {
          if (err instanceof PolicyCompileError) throw new CliError(err.located().join('\n'));
          throw err;
        }
        const decision = await engine.decide(input, { replay });
        const explanation = await explainDecision(opts.policy, input, decision, { replay });
        process.stdout.write(opts.json ? `${terminalJson(explanation)}\n` : formatExplanation(explanation, { all: opts.all }));
      } catch (err) {
        if (err instanceof ExplainError) throw new CliError(err.message);
        throw err;
      } finally {
        await engine.close();
      }
    });
}
