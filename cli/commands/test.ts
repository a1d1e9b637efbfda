// `airlock test`: the one command for CI — the policy folder's Rego unit tests (`opa test`) and
// every traffic test file, with each failure explained and a closing `N passed, N failed` line.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { PolicyCompileError, formatProblem } from '../../engine/compile.ts';
import type { PolicyEngine } from '../../engine/engine.ts';
import { openPolicy } from '../../engine/replay.ts';
import { requireOpa } from '../../engine/toolchain.ts';
import { findTrafficTestFiles, runTrafficTests, TrafficTestFormatError, type CaseResult, type Expectation } from '../../engine/traffic-tests.ts';
import { CliError } from '../main.ts';

export interface RegoTestOutcome {
  passed: number;
  failed: number;
  /** One line per failing test (file:row name: why). */
  failures: string[];
}

interface OpaTestResult {
  location?: { file?: string; row?: number };
  package?: string;
  name?: string;
  fail?: boolean;
  error?: { message?: string } | string;
  skip?: boolean;
}

/** Runs `opa test --format=json` on a policy folder. Load errors count as one failure. */
export function runRegoTests(dir: string): Promise<RegoTestOutcome> {
  return new Promise((resolve) => {
    let opa: string;
    try {
      opa = requireOpa();
    } catch (err) {
      resolve({ passed: 0, failed: 1, failures: [(err as Error).message] });
      return;
    }
    execFile(opa, ['test', '--format=json', dir], { maxBuffer: 64 * 1024 * 1024, timeout: 300_000 }, (err, stdout, stderr) => {
      const code: number | string = err ? ((err as { code?: number | string }).code ?? 1) : 0;
      let results: OpaTestResult[] | undefined;
      try {
        const parsed = JSON.parse(stdout) as unknown;
        if (Array.isArray(parsed)) results = parsed as OpaTestResult[];
      } catch {
        /* not JSON: a load or parse error, reported below */
      }
      if (!results || (code !== 0 && code !== 2)) {
        const why = (stderr || stdout || (err as Error | null)?.message || 'opa test failed').trim().split('\n').slice(0, 20).join('\n  ');
        resolve({ passed: 0, failed: 1, failures: [`opa test ${dir}: ${why}`] });
        return;
      }
      const out: RegoTestOutcome = { passed: 0, failed: 0, failures: [] };
      for (const r of results) {
        if (r.skip) continue;
        const failed = r.fail || r.error;
        if (!failed) {
          out.passed++;
          continue;
        }
        out.failed++;
        const where = `${r.location?.file ?? '?'}:${r.location?.row ?? '?'}`;
        const err = typeof r.error === 'string' ? r.error : r.error?.message;
        out.failures.push(`${where} ${r.package ?? ''}.${r.name ?? ''}: ${err ? `error: ${err}` : 'failed'}`);
      }
      resolve(out);
    });
  });
}

function expectationText(e: Expectation): string {
  const parts: string[] = [e.action];
  if (e.approval?.risk) parts.push(`(${e.approval.risk})`);
  if (e.rule) parts.push(`rule ${e.rule}`);
  if (e.credentials) parts.push(`credentials [${e.credentials.join(', ')}]`);
  if (e.rate_limits) parts.push(`rate_limits [${e.rate_limits.join(', ')}]`);
  return parts.join(' ');
}

export function formatCaseFailure(r: CaseResult): string {
  const lines = [`FAIL ${r.file} › ${r.name}`];
  if (r.input) {
    const q = r.input.request;
    const svc = r.input.service ? `  [${r.input.service.name} ${r.input.service.operation}, ${r.input.service.effect}]` : '';
    lines.push(`  request:  ${q.method} ${q.url}${svc}`);
  }
  if (r.expect) lines.push(`  expected: ${expectationText(r.expect)}`);
  if (r.actual) {
    const a = r.actual;
    const extra = [a.approval?.risk ? `(${a.approval.risk})` : '', a.rule ? `rule ${a.rule}` : '(no rule)'].filter(Boolean).join(' ');
    lines.push(`  actual:   ${a.action} ${extra}: ${a.reason}`);
  }
  for (const p of r.problems) lines.push(`  - ${p}`);
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('test')
    .description("run the policy's Rego tests (opa test) and the traffic tests; exit 1 on any failure")
    .argument('[path...]', 'traffic test files or folders (default: fixtures/tests/ when it exists)')
    .option('--policy <dir>', 'policy folder', 'rego')
    .option('--no-rego', 'skip `opa test` on the policy folder')
    .option('-v, --verbose', 'list passing cases too', false)
    .action(async (paths: string[], flags: { policy: string; rego: boolean; verbose: boolean }) => {
      if (!fs.existsSync(flags.policy) || !fs.statSync(flags.policy).isDirectory()) throw new CliError(`policy folder ${flags.policy} does not exist`);
      let passed = 0;
      let failed = 0;
      const say = (s: string): void => void process.stdout.write(`${s}\n`);

      if (flags.rego) {
        const rego = await runRegoTests(flags.policy);
        for (const f of rego.failures) say(`FAIL ${f}`);
        say(`opa test ${flags.policy}: ${rego.passed} passed, ${rego.failed} failed`);
        passed += rego.passed;
        failed += rego.failed;
      }

      const defaultDir = path.join('fixtures', 'tests');
      const targets = paths.length ? paths : fs.existsSync(defaultDir) ? [defaultDir] : [];
      let files: string[] = [];
      try {
        files = findTrafficTestFiles(targets);
      } catch (err) {
        if (!(err instanceof TrafficTestFormatError)) throw err;
        say(`FAIL ${err.message}`);
        failed++;
      }
      if (files.length) {
        let engine: PolicyEngine | undefined;
        try {
          engine = await openPolicy(flags.policy);
        } catch (err) {
          const why = err instanceof PolicyCompileError ? err.problems.map(formatProblem).join('\n  ') : (err as Error).message;
          say(`FAIL policy ${flags.policy} does not compile, so no traffic test can run:\n  ${why}`);
          failed++;
        }
        if (engine) {
          try {
            const summary = await runTrafficTests(engine, files, (r) => {
              if (!r.passed) say(formatCaseFailure(r));
              else if (flags.verbose) say(`ok   ${r.file} › ${r.name}`);
            });
            for (const e of summary.fileErrors) say(`FAIL ${e.error}`);
            say(`traffic tests (${files.length} file${files.length === 1 ? '' : 's'}): ${summary.passed} passed, ${summary.failed} failed`);
            passed += summary.passed;
            failed += summary.failed;
          } finally {
            await engine.close();
          }
        }
      } else if (!paths.length) {
        say('no traffic test files (looked in fixtures/tests/)');
      }

      say(`${passed} passed, ${failed} failed`);
      if (failed > 0) process.exitCode = 1;
    });
}
