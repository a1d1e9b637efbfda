// A policy's test suite, the one thing CI and the studio both run: the folder's Rego unit tests
// (`opa test`) and every traffic test file (offline/traffic-tests.ts), each failure with the file and
// line to fix and one line of text, and the closing `N passed, N failed`. `airlock test` prints the
// lines; the studio's "Run tests" and its publish gate show the same report.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import YAML from 'yaml';
import { checkPolicy, compilePolicy, formatProblem, PolicyCompileError, type CompiledPolicy } from '../engine/compile.ts';
import { PolicyEngine } from '../engine/engine.ts';
import { openPolicy, replayBudgetMs } from './replay.ts';
import { requireOpa } from '../engine/toolchain.ts';
import { findTrafficTestFiles, runTrafficTests, TrafficTestFormatError, type CaseResult, type Expectation } from './traffic-tests.ts';

export interface RegoTestFailure {
  file: string;
  line: number;
  name: string;
  message: string;
}

export interface RegoTestOutcome {
  passed: number;
  failed: number;
  /** One line per failing test (file:row name: why). */
  failures: string[];
  /** The same failures, structured (a load error has no test name). */
  details: RegoTestFailure[];
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
      const message = (err as Error).message;
      resolve({ passed: 0, failed: 1, failures: [message], details: [{ file: '', line: 0, name: '', message }] });
      return;
    }
    execFile(opa, ['test', '--format=json', '--timeout=30s', dir], { maxBuffer: 64 * 1024 * 1024, timeout: 300_000 }, (err, stdout, stderr) => {
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
        resolve(loadFailure(dir, why));
        return;
      }
      const out: RegoTestOutcome = { passed: 0, failed: 0, failures: [], details: [] };
      for (const r of results) {
        if (r.skip) continue;
        const failed = r.fail || r.error;
        if (!failed) {
          out.passed++;
          continue;
        }
        out.failed++;
        const where = `${r.location?.file ?? '?'}:${r.location?.row ?? '?'}`;
        const e = typeof r.error === 'string' ? r.error : r.error?.message;
        out.failures.push(`${where} ${r.package ?? ''}.${r.name ?? ''}: ${e ? `error: ${e}` : 'failed'}`);
        out.details.push({ file: r.location?.file ?? '', line: r.location?.row ?? 0, name: `${r.package ?? ''}.${r.name ?? ''}`, message: e ? `error: ${e}` : 'failed' });
      }
      resolve(out);
    });
  });
}

/**
 * `opa test` could not load the folder: its own message gives no column for Rego and no line for a
 * data file, so the folder is checked as `airlock build` checks it and each problem named at
 * file:line:col. Only when that finds nothing is opa's own text shown.
 */
async function loadFailure(dir: string, why: string): Promise<RegoTestOutcome> {
  const problems = await checkPolicy(dir).catch(() => []);
  if (!problems.length) return { passed: 0, failed: 1, failures: [`opa test ${dir}: ${why}`], details: [{ file: '', line: 0, name: '', message: `opa test: ${why}` }] };
  return {
    passed: 0,
    failed: problems.length,
    failures: problems.map((p) => `${formatProblem(p, dir)} (the folder does not load, so no Rego test ran)`),
    details: problems.map((p) => ({ file: p.file, line: p.line, name: '', message: p.message })),
  };
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

/** The line each case of a traffic test file starts on (by case name), read from its YAML/JSON source. */
export function caseLines(file: string): Map<string, number> {
  const out = new Map<string, number>();
  try {
    const text = fs.readFileSync(file, 'utf8');
    const lc = new YAML.LineCounter();
    const doc = YAML.parseDocument(text, { lineCounter: lc });
    const cases = doc.get('cases');
    if (!YAML.isSeq(cases)) return out;
    for (const item of cases.items) {
      if (!YAML.isMap(item) || !item.range) continue;
      const name = item.get('name');
      if (typeof name === 'string' && !out.has(name)) out.set(name, lc.linePos(item.range[0]).line);
    }
  } catch {
    /* no lines: failures still name the file and case */
  }
  return out;
}

export interface TrafficTestFailure {
  file: string;
  line: number;
  name: string;
  text: string;
  result?: CaseResult;
}

export interface PolicyTestReport {
  ok: boolean;
  passed: number;
  failed: number;
  rego?: RegoTestOutcome;
  traffic: { files: string[]; passed: number; failed: number; failures: TrafficTestFailure[] };
  /** What `airlock test` prints, line by line. */
  lines: string[];
}

export interface PolicyTestOptions {
  /** Run `opa test` on the folder (default true). */
  rego?: boolean;
  /** Traffic test files or folders (none: no traffic tests). */
  traffic?: string[];
  /** When given (the studio), decisions run in evaluation threads, never on the caller's thread. */
  threads?: number;
  /** The folder already compiled (publish compiles it first): traffic tests use it instead of compiling again. */
  compiled?: CompiledPolicy;
  /** Each line as it is produced (the CLI prints them). */
  onLine?: (line: string) => void;
  verbose?: boolean;
}

/** Runs a policy folder's whole test suite: Rego tests, then traffic tests. Never throws for a failing policy. */
export async function runPolicyTests(policyDir: string, opts: PolicyTestOptions = {}): Promise<PolicyTestReport> {
  const lines: string[] = [];
  const say = (s: string): void => {
    lines.push(s);
    opts.onLine?.(s);
  };
  const report: PolicyTestReport = { ok: false, passed: 0, failed: 0, traffic: { files: [], passed: 0, failed: 0, failures: [] }, lines };

  if (opts.rego !== false) {
    const rego = await runRegoTests(policyDir);
    for (const f of rego.failures) say(`FAIL ${f}`);
    say(`opa test ${policyDir}: ${rego.passed} passed, ${rego.failed} failed`);
    report.rego = rego;
    report.passed += rego.passed;
    report.failed += rego.failed;
  }

  const targets = opts.traffic ?? [];
  let files: string[] = [];
  try {
    files = findTrafficTestFiles(targets);
  } catch (err) {
    if (!(err instanceof TrafficTestFormatError)) throw err;
    say(`FAIL ${err.message}`);
    report.traffic.failures.push({ file: '', line: 0, name: '', text: err.message });
    report.failed++;
  }
  report.traffic.files = files;
  // Without traffic tests nothing else would compile the folder: a policy that loads for `opa test`
  // but cannot be built (no data.airlock.decision, a WASM-only error) must not pass in CI.
  const loadFailed = report.rego?.details.some((d) => d.name === '') ?? false;
  if (!files.length && !opts.compiled && !loadFailed) {
    try {
      await compilePolicy(policyDir);
    } catch (err) {
      if (!(err instanceof PolicyCompileError)) throw err;
      const why = err.located().join('\n  ');
      say(`FAIL policy ${policyDir} does not compile:\n  ${why}`);
      report.traffic.failures.push({ file: '', line: 0, name: '', text: `the policy does not compile: ${why}` });
      report.failed++;
    }
  }
  if (files.length) {
    let engine: PolicyEngine | undefined;
    try {
      if (opts.compiled) {
        const e = new PolicyEngine(opts.threads ? { mode: 'isolated', threads: opts.threads, timeoutMs: replayBudgetMs } : { mode: 'inline', timeoutMs: replayBudgetMs });
        engine = e;
        await e.load(opts.compiled).catch(async (err: unknown) => {
          engine = undefined;
          await e.close();
          throw err;
        });
      } else engine = await openPolicy(policyDir, opts.threads ? { threads: opts.threads } : {});
    } catch (err) {
      const why = err instanceof PolicyCompileError ? err.located().join('\n  ') : (err as Error).message;
      say(`FAIL policy ${policyDir} does not compile, so no traffic test can run:\n  ${why}`);
      report.traffic.failures.push({ file: '', line: 0, name: '', text: `the policy does not compile: ${why}` });
      report.failed++;
    }
    if (engine) {
      const lineCache = new Map<string, Map<string, number>>();
      const lineOf = (file: string, name: string): number => {
        if (!lineCache.has(file)) lineCache.set(file, caseLines(file));
        return lineCache.get(file)!.get(name) ?? 0;
      };
      try {
        const summary = await runTrafficTests(engine, files, (r) => {
          if (!r.passed) {
            const text = formatCaseFailure(r);
            say(text);
            report.traffic.failures.push({ file: r.file, line: lineOf(r.file, r.name), name: r.name, text, result: r });
          } else if (opts.verbose) say(`ok   ${r.file} › ${r.name}`);
        });
        for (const e of summary.fileErrors) {
          say(`FAIL ${e.error}`);
          report.traffic.failures.push({ file: e.file, line: 0, name: '', text: e.error });
        }
        say(`traffic tests (${files.length} file${files.length === 1 ? '' : 's'}): ${summary.passed} passed, ${summary.failed} failed`);
        report.traffic.passed = summary.passed;
        report.traffic.failed = summary.failed;
        report.passed += summary.passed;
        report.failed += summary.failed;
      } finally {
        await engine.close();
      }
    }
  }
  report.ok = report.failed === 0;
  return report;
}
