// What the editor asks of the toolchain: check the draft (with unsaved buffers laid over it),
// format one file with `opa fmt`, and evaluate a request description against the draft with an
// PolicyEngine in an evaluation thread. All of it works on throwaway copies: the draft itself is only written by Save.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { checkPolicy, compilePolicy, PolicyCompileError, policyVersion, type CompiledPolicy, type PolicyProblem } from '../engine/compile.ts';
import { draftEngine } from './draft-engine.ts';
import { requireOpa } from '../engine/toolchain.ts';
import { createTwoFilesPatch } from 'diff';
import { listPolicyFiles } from '../engine/compile.ts';
import type { RequestDescription } from '../describe/types.ts';
import type { EngineDecision } from '../engine/decision.ts';
import { explainDecision, type Explanation } from '../engine/explain.ts';
import { DraftStore, resolveDraftPath, MAX_POLICY_FILE_BYTES, DraftPathError } from './drafts.ts';
import { runPolicyTests } from '../offline/policy-tests.ts';
import type { TestFailure, TestReport } from './versions.ts';
import { privateTempDir } from '../state/home.ts';

const run = promisify(execFile);

export type Overlay = Record<string, string>;

async function withOverlay<T>(draft: DraftStore, files: Overlay | undefined, fn: (dir: string) => Promise<T>): Promise<T> {
  // Next to the draft (<home>/draft): in the state folder, out of every sandboxed agent's reach.
  const dir = privateTempDir(path.dirname(draft.dir), 'overlay-');
  try {
    draft.overlay(files ?? {}, dir);
    return await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function validOverlay(value: unknown): Overlay | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new DraftPathError('files must be an object of path → content');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 50) throw new DraftPathError('too many files');
  for (const [, v] of entries) if (typeof v !== 'string') throw new DraftPathError('file contents must be strings');
  return value as Overlay;
}

export interface CheckResult {
  ok: boolean;
  problems: PolicyProblem[];
}

/** `opa check` of the draft with unsaved buffers: problems at file, line, column. */
export async function checkDraft(draft: DraftStore, files?: Overlay): Promise<CheckResult> {
  return withOverlay(draft, files, async (dir) => {
    const hasRego = fs.readdirSync(dir, { recursive: true }).some((f) => String(f).endsWith('.rego'));
    if (!hasRego) return { ok: false, problems: [{ file: '(policy)', line: 0, column: 0, message: 'the draft has no .rego files' }] };
    const problems = dedupe(await checkPolicy(dir));
    return { ok: problems.length === 0, problems };
  });
}

/** opa repeats some parse errors (e.g. "illegal token" twice at one spot): show each once. */
function dedupe(problems: PolicyProblem[]): PolicyProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.file}:${p.line}:${p.column}:${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Where `airlock test` looks for traffic tests by default: the project's fixtures/tests/. */
export function trafficTestPaths(projectRoot: string): string[] {
  const dir = path.join(projectRoot, 'fixtures', 'tests');
  return fs.existsSync(dir) ? [dir] : [];
}

/**
 * Runs exactly what `airlock test` runs (offline/policy-tests.ts) on a policy folder: its Rego tests
 * and the project's traffic tests, decisions in an evaluation thread. Paths come back relative to
 * the draft (Rego) or to the project (traffic test files), ready to link to.
 */
export async function testPolicyFolder(dir: string, projectRoot: string, compiled?: CompiledPolicy): Promise<TestReport> {
  const report = await runPolicyTests(dir, { traffic: trafficTestPaths(projectRoot), threads: 1, ...(compiled ? { compiled } : {}) });
  const inside = (base: string, file: string): string | undefined => {
    const rel = path.relative(path.resolve(base), path.resolve(file));
    return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : undefined;
  };
  const failures: TestFailure[] = [];
  for (const f of report.rego?.details ?? []) {
    const rel = f.file ? inside(dir, f.file) : undefined;
    failures.push({ kind: 'rego', file: rel ?? f.file, line: f.line, name: f.name, message: f.message, inDraft: rel !== undefined });
  }
  for (const f of report.traffic.failures) {
    const rel = f.file ? inside(projectRoot, f.file) ?? f.file : '';
    const r = f.result;
    failures.push({
      kind: 'traffic', file: rel, line: f.line, name: f.name, inDraft: false,
      message: r ? r.problems.join('; ') || 'failed' : f.text,
      ...(r?.input ? { input: r.input } : {}),
    });
  }
  const output = report.lines.join('\n').split(dir).join('draft').split(`${projectRoot}${path.sep}`).join('');
  return { ok: report.ok, passed: report.passed, failed: report.failed, output, failures };
}

export async function testDraft(draft: DraftStore, projectRoot: string, files?: Overlay): Promise<TestReport> {
  return withOverlay(draft, files, (dir) => testPolicyFolder(dir, projectRoot));
}

export interface FmtResult {
  ok: boolean;
  content?: string;
  problems: PolicyProblem[];
}

/** Formats one Rego file with `opa fmt`; a parse error comes back as problems, the text unchanged. */
export async function formatRego(home: string, rel: string, content: string): Promise<FmtResult> {
  if (Buffer.byteLength(content) > MAX_POLICY_FILE_BYTES) throw new DraftPathError('file is larger than 1 MiB');
  const dir = privateTempDir(home, 'fmt-');
  try {
    const abs = resolveDraftPath(dir, rel);
    if (!abs.endsWith('.rego')) return { ok: true, content, problems: [] };
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, content);
    try {
      const r = await run(requireOpa(), ['fmt', abs], { maxBuffer: 16 * 1024 * 1024, timeout: 20_000 });
      return { ok: true, content: r.stdout, problems: [] };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; code?: unknown };
      if (typeof e.code === 'string') throw err;
      return { ok: false, problems: fmtProblems(`${e.stdout ?? ''}${e.stderr ?? ''}`, abs, rel) };
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `FILE:ROW: message` then the source line and a caret under the column. */
function fmtProblems(out: string, abs: string, rel: string): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const lines = out.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.startsWith(`${abs}:`)) continue;
    const m = /^:(\d+): (.*)$/.exec(line.slice(abs.length));
    if (!m) continue;
    let column = 1;
    const caret = lines[i + 2];
    if (caret !== undefined && /^\t *\^$/.test(caret)) column = caret.length - 1;
    problems.push({ file: rel, line: Number(m[1]), column, message: m[2]! });
  }
  if (problems.length === 0) problems.push({ file: rel, line: 0, column: 0, message: out.replaceAll(abs, rel).trim() || 'opa fmt failed' });
  return problems;
}

/**
 * Evaluates descriptions against the draft. Keeps one engine (an evaluation thread) and recompiles only when the
 * draft's sources (with unsaved buffers) changed.
 */
export class DraftEvaluator {
  private engine = draftEngine();
  private loadedVersion: string | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly draft: DraftStore) {}

  async evaluate(input: RequestDescription, files?: Overlay, opts: { replay?: boolean } = {}): Promise<{ ok: true; decision: EngineDecision } | { ok: false; problems: PolicyProblem[] }> {
    // Serialized: one compile at a time, the engine swap is not shared between callers.
    const job = this.queue.then(() => this.evaluateNow(input, files, opts));
    this.queue = job.catch(() => undefined);
    return job as Promise<{ ok: true; decision: EngineDecision } | { ok: false; problems: PolicyProblem[] }>;
  }

  /** The draft's decision with its explanation (engine/explain.ts): the deciding rule, and why the others did not apply. */
  async explain(input: RequestDescription, files?: Overlay, opts: { replay?: boolean } = {}): Promise<{ ok: true; explanation: Explanation } | { ok: false; problems: PolicyProblem[] }> {
    const job = this.queue.then(() => this.evaluateNow(input, files, opts, true));
    this.queue = job.catch(() => undefined);
    return job as Promise<{ ok: true; explanation: Explanation } | { ok: false; problems: PolicyProblem[] }>;
  }

  private async evaluateNow(input: RequestDescription, files: Overlay | undefined, opts: { replay?: boolean }, explain = false) {
    return withOverlay(this.draft, files, async (dir) => {
      const version = policyVersion(dir);
      if (version !== this.loadedVersion) {
        try {
          await this.engine.load(await compilePolicy(dir));
          this.loadedVersion = version;
        } catch (err) {
          if (err instanceof PolicyCompileError) return { ok: false as const, problems: err.problems };
          throw err;
        }
      }
      const decision = await this.engine.decide(input, opts);
      if (explain) return { ok: true as const, explanation: await explainDecision(dir, input, decision, opts) };
      return { ok: true as const, decision };
    });
  }

  async close(): Promise<void> {
    await this.engine.close();
  }
}

export interface FileDiff {
  path: string;
  status: 'added' | 'removed' | 'changed';
  /** Unified diff (live → draft), capped. */
  patch: string;
}

/** What publishing the draft would change: files added, removed and changed against the live policy. */
export function diffDraft(draftDir: string, liveDir: string | undefined): FileDiff[] {
  return diffFolders(liveDir, draftDir, 'live', 'draft');
}

/** Files added, removed and changed from one policy folder to another, with unified diffs. */
export function diffFolders(beforeDir: string | undefined, afterDir: string | undefined, beforeLabel: string, afterLabel: string): FileDiff[] {
  const read = (dir: string | undefined, rel: string): string | undefined => {
    if (!dir) return undefined;
    try {
      return fs.readFileSync(path.join(dir, rel), 'utf8');
    } catch {
      return undefined;
    }
  };
  const list = (dir: string | undefined): string[] => (dir && fs.existsSync(dir) ? listPolicyFiles(dir).map((f) => f.split(path.sep).join('/')) : []);
  const all = [...new Set([...list(afterDir), ...list(beforeDir)])].sort();
  const out: FileDiff[] = [];
  for (const rel of all) {
    const before = read(beforeDir, rel);
    const after = read(afterDir, rel);
    if (before === after) continue;
    const status = before === undefined ? 'added' : after === undefined ? 'removed' : 'changed';
    let patch = createTwoFilesPatch(`${beforeLabel}/${rel}`, `${afterLabel}/${rel}`, before ?? '', after ?? '', undefined, undefined, { context: 3 });
    if (patch.length > 200_000) patch = `${patch.slice(0, 200_000)}\n… (diff truncated)\n`;
    out.push({ path: rel, status, patch });
  }
  return out;
}
