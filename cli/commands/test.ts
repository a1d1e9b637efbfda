// `airlock test`: the one command for CI — the policy folder's Rego unit tests (`opa test`) and
// every traffic test file, with each failure explained and a closing `N passed, N failed` line.
// The suite itself is offline/policy-tests.ts, which the studio runs too (its "Run tests" and publish).
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { missingPolicyHint } from '../../engine/compile.ts';
import { runPolicyTests } from '../../offline/policy-tests.ts';
import { CliError } from '../errors.ts';

export { formatCaseFailure, runRegoTests, type RegoTestOutcome } from '../../offline/policy-tests.ts';

export function register(program: Command): void {
  program
    .command('test')
    .description("run the policy's Rego tests (opa test) and the traffic tests; exit 1 on any failure")
    .argument('[path...]', 'traffic test files or folders (default: fixtures/tests/ when it exists)')
    .option('--policy <dir>', 'policy folder', 'rego')
    .option('--no-rego', 'skip `opa test` on the policy folder')
    .option('-v, --verbose', 'list passing cases too', false)
    .action(async (paths: string[], flags: { policy: string; rego: boolean; verbose: boolean }) => {
      if (!fs.existsSync(flags.policy) || !fs.statSync(flags.policy).isDirectory()) throw new CliError(`policy folder ${flags.policy} does not exist ${missingPolicyHint(flags.policy)}`);
      const say = (s: string): void => void process.stdout.write(`${s}\n`);
      const defaultDir = path.join('fixtures', 'tests');
      const targets = paths.length ? paths : fs.existsSync(defaultDir) ? [defaultDir] : [];
      const report = await runPolicyTests(flags.policy, { rego: flags.rego, traffic: targets, verbose: flags.verbose, onLine: say });
      if (!report.traffic.files.length && !paths.length) say('no traffic test files (looked in fixtures/tests/)');
      say(`${report.passed} passed, ${report.failed} failed`);
      if (report.failed > 0) process.exitCode = 1;
    });
}
