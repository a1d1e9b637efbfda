// `airlock explain`: which rule decided one request, which rules were considered, and where each
// rule that did not apply stopped (engine/explain.ts; OPA's evaluation trace).
import fs from 'node:fs';
import type { Command } from 'commander';
import { PolicyCompileError } from '../../engine/compile.ts';
import { PolicyEngine } from '../../engine/engine.ts';
import { ExplainError, explainDecision, formatExplanation } from '../../engine/explain.ts';
import { loadTrafficTests, parseTrafficTests, prepareCase, prepareCases, TrafficTestFormatError, type TrafficTestFile } from '../../offline/traffic-tests.ts';
import type { RequestDescription } from '../../describe/types.ts';
import { CliError } from '../errors.ts';

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** A request description as is; a raw request ({method, url, headers, body, agent, time, grants}) described like live traffic. */
async function inputFrom(opts: { input: string; case?: string; agent: string }): Promise<RequestDescription> {
  let file: TrafficTestFile;
  if (opts.case !== undefined) {
    try {
      file = loadTrafficTests(opts.input);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
  } else {
    let text: string;
    try {
      text = fs.readFileSync(opts.input === '-' ? 0 : opts.input, 'utf8');
    } catch (err) {
      throw new CliError(`cannot read input ${opts.input}: ${(err as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new CliError(`input ${opts.input} is not valid JSON: ${(err as Error).message}`);
    }
    if (!isObject(json)) throw new CliError(`input ${opts.input} must be a JSON object: a request description, or a request {method, url, headers?, body?}`);
    if (isObject(json.request) && typeof (json.request as Record<string, unknown>).host === 'string') return json as unknown as RequestDescription;
    if (typeof json.method !== 'string' || typeof json.url !== 'string') {
      throw new CliError(`input ${opts.input} is neither a request description (request.host) nor a request (method and url)`);
    }
    try {
      file = parseTrafficTests(JSON.stringify({ agent: opts.agent, cases: [{ name: 'request', request: json, expect: { action: 'deny' } }] }), `${opts.input === '-' ? 'stdin' : opts.input}.json`);
    } catch (err) {
      throw new CliError(err instanceof TrafficTestFormatError ? err.message : String(err));
    }
  }
  const index = opts.case === undefined ? 0 : file.cases.findIndex((c) => c.name === opts.case);
  if (index < 0) throw new CliError(`${opts.input} has no case named ${JSON.stringify(opts.case)} (cases: ${file.cases.map((c) => c.name).slice(0, 10).join('; ')})`);
  await prepareCases();
  const prepared = prepareCase(file, file.cases[index]!, index);
  if (!prepared.ok) throw new CliError(prepared.error);
  return prepared.input;
}

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
      const input = await inputFrom(opts);
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
        process.stdout.write(opts.json ? `${JSON.stringify(explanation, null, 2)}\n` : formatExplanation(explanation, { all: opts.all }));
      } catch (err) {
        if (err instanceof ExplainError) throw new CliError(err.message);
        throw err;
      } finally {
        await engine.close();
      }
    });
}
