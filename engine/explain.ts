// Why a policy decided what it did, for one request: which rule decided, which rules were
// considered, and for each rule that did not apply the expression that failed.
//
// The decision itself comes from the engine (the same WASM evaluation, grant rule and contract
// checks as live traffic). The reasons come from OPA's own evaluation trace: the policy folder is
// evaluated once more with `opa eval --explain=full` on the input the deciding evaluation saw, and
// the trace is folded into one line per rule: its head, whether its body succeeded, and where it
// stopped. This works for any policy; rules that add to a set (`verdicts contains …`, `deny contains
// …`) and `decision` rules are the ones listed, helpers are kept in the JSON form only.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { terminalText } from '../lib/text.ts';
import { listPolicyFiles } from './compile.ts';
import { requireOpa } from './toolchain.ts';
import type { RequestDescription } from '../describe/types.ts';
import type { EngineDecision } from './decision.ts';

const run = promisify(execFile);

export interface SourceRef {
  file: string;
  line: number;
}

export interface RuleTrace extends SourceRef {
  /** The rule's head as written (first line). */
  head: string;
  /** Its id, when the head names one as its first string (`approve("github.merge", …)`). */
  rule?: string;
  /** True when its body succeeded at least once for this input. */
  applied: boolean;
  /** For a rule that did not apply: the expression where evaluation stopped. */
  failed?: SourceRef & { expression: string };
  /** Whether the rule decides (`decision`, `verdicts`, a set rule) or helps (everything else). */
  kind: 'decision' | 'helper';
  /** A decision rule the evaluation never entered: OPA's rule index (or the module not being asked) ruled it out. */
  skipped?: boolean;
}

export interface Explanation {
  decision: EngineDecision;
  /** The rule id that decided and, when the trace shows it, where it is written. */
  decided_by?: { rule?: string } & Partial<SourceRef>;
  /** Verdicts the policy produced (data.airlock.verdicts), most severe first, when it has them. */
  verdicts?: Array<Record<string, unknown>>;
  /** Rules considered for this request, in evaluation order. */
  rules: RuleTrace[];
  /** What the engine did with grants, when the request came with any. */
  grants?: EngineDecision['grants'];
  notes: string[];
}

export class ExplainError extends Error {}

interface TraceEvent {
  Op: string;
  QueryID: number;
  ParentID: number;
  Node?: unknown;
  Location?: { file?: string; row?: number; col?: number };
}

/** The policy files as opa reports them (relative to the folder), split into lines. */
function readSources(dir: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const rel of listPolicyFiles(dir)) {
    if (!rel.endsWith('.rego')) continue;
    try {
      out.set(rel.split(path.sep).join('/'), fs.readFileSync(path.join(dir, rel), 'utf8').split('\n'));
    } catch {
      /* unreadable: shown without source */
    }
  }
  return out;
}

function lineOf(sources: Map<string, string[]>, file: string, row: number): string {
  return sources.get(file)?.[row - 1] ?? '';
}

const idLike = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)+$/;

/** The contents of the double-quoted strings in `text` (backslash escapes kept as written), in one pass. */
function quotedStrings(text: string): string[] {
  const out: string[] = [];
  for (let i = text.indexOf('"'); i >= 0; i = text.indexOf('"', i + 1)) {
    let j = i + 1;
    while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
    if (j >= text.length) break;
    out.push(text.slice(i + 1, j));
    i = j;
  }
  return out;
}

/** The head of a rule (up to its `if`/`{`, at most 8 lines) and the first id-like string in it. */
function headOf(sources: Map<string, string[]>, file: string, row: number): { head: string; rule?: string } {
  const first = lineOf(sources, file, row).trim();
  let text = '';
  for (let r = row; r < row + 8; r++) {
    const l = lineOf(sources, file, r);
    text += `${l}\n`;
    if (/\bif\b|\{\s*$/.test(l)) break;
  }
  const rule = /"rule"\s*:\s*"([^"\\]{1,200})"/.exec(text)?.[1] ?? quotedStrings(text).find((s) => idLike.test(s));
  return { head: first.length > 160 ? `${first.slice(0, 157)}…` : first, ...(rule ? { rule } : {}) };
}

function isDecisionRule(head: string): boolean {
  return /^(default\s+)?decision\b/.test(head) || /^[A-Za-z_][\w.]*(\[[^\]]*\])?\s+contains\b/.test(head);
}

/** Folds OPA's full trace into one entry per rule body that was entered. */
export function foldTrace(events: TraceEvent[], sources: Map<string, string[]>): RuleTrace[] {
  const bodies = new Map<number, { file: string; line: number }>();
  const exited = new Set<number>();
  const failedAt = new Map<number, { file: string; line: number; col: number }>();
  for (const e of events) {
    const loc = e.Location;
    if (!loc?.file || !loc.row) continue;
    const isBody = !!e.Node && typeof e.Node === 'object' && !Array.isArray(e.Node) && 'body' in (e.Node as object);
    if (e.Op === 'Enter' && isBody) bodies.set(e.QueryID, { file: loc.file, line: loc.row });
    else if (e.Op === 'Exit' && bodies.has(e.QueryID)) exited.add(e.QueryID);
    else if (e.Op === 'Fail' && bodies.has(e.QueryID)) failedAt.set(e.QueryID, { file: loc.file, line: loc.row, col: loc.col ?? 1 });
  }
  const byRule = new Map<string, RuleTrace>();
  for (const [q, b] of bodies) {
    const key = `${b.file}:${b.line}`;
    const applied = exited.has(q);
    let t = byRule.get(key);
    if (!t) {
      const { head, rule } = headOf(sources, b.file, b.line);
      t = { file: b.file, line: b.line, head, ...(rule ? { rule } : {}), applied: false, kind: isDecisionRule(head) ? 'decision' : 'helper' };
      byRule.set(key, t);
    }
    if (applied) {
      t.applied = true;
      delete t.failed;
    } else if (!t.applied && !t.failed) {
      const f = failedAt.get(q);
      if (f) {
        const text = lineOf(sources, f.file, f.line).trim();
        t.failed = { file: f.file, line: f.line, expression: text.length > 160 ? `${text.slice(0, 157)}…` : text };
      }
    }
  }
  // Decision rules never entered: their indexed conditions (or their module) did not match.
  for (const [file, lines] of sources) {
    if (file.endsWith('_test.rego')) continue;
    lines.forEach((l, i) => {
      if (!/^[A-Za-z_]/.test(l) || byRule.has(`${file}:${i + 1}`)) return;
      const { head, rule } = headOf(sources, file, i + 1);
      if (!isDecisionRule(head) || /^default\s/.test(head)) return;
      byRule.set(`${file}:${i + 1}`, { file, line: i + 1, head, ...(rule ? { rule } : {}), applied: false, kind: 'decision', skipped: true });
    });
  }
  return [...byRule.values()];
}

async function opaEval(dir: string, query: string, input: string, explain: boolean): Promise<{ value?: unknown; defined: boolean; explanation?: TraceEvent[] }> {
  // Without indexing every rule body is entered, so each rule that did not apply shows where it stopped.
  const args = ['eval', '--format', 'json', '--stdin-input', '--ignore', '*_test.rego', '-d', '.', ...(explain ? ['--explain', 'full', '--disable-indexing'] : []), query];
  const child = run(requireOpa(), args, { cwd: dir, maxBuffer: 256 * 1024 * 1024, timeout: 60_000 });
  child.child.stdin?.end(input);
  let out: string;
  try {
    out = (await child).stdout;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new ExplainError(`opa eval failed: ${(e.stderr || e.stdout || e.message).trim().split('\n').slice(0, 5).join(' ')}`);
  }
  const parsed = JSON.parse(out) as { result?: Array<{ expressions?: Array<{ value?: unknown }> }>; explanation?: TraceEvent[] };
  const first = parsed.result?.[0]?.expressions?.[0];
  return { defined: first !== undefined, value: first?.value, explanation: parsed.explanation };
}

/**
 * Explains `decision` (the engine's decision for `input`) with the trace of the policy in `dir`.
 * The trace is taken on the input the deciding evaluation saw (grants as the engine offered them).
 */
export async function explainDecision(dir: string, input: RequestDescription, decision: EngineDecision, opts: { replay?: boolean } = {}): Promise<Explanation> {
  const notes: string[] = [];
  const offered = decision.grants ? new Set(decision.grants.offered) : undefined;
  const seen = offered ? { ...input, grants: (input.grants ?? []).filter((g) => offered.has(g.id)) } : input;
  const text = JSON.stringify(seen);
  const [traced, verdicts] = await Promise.all([
    opaEval(dir, 'data.airlock.decision', text, true),
    opaEval(dir, 'data.airlock.verdicts', text, false).catch(() => ({ defined: false, value: undefined })),
  ]);
  const sources = readSources(dir);
  const rules = foldTrace(traced.explanation ?? [], sources);
  if (decision.fail_closed) notes.push(`the engine failed closed (${decision.fail_closed}): ${decision.reason}`);
  const tracedDecision = traced.value as { action?: unknown; rule?: unknown } | undefined;
  if (!traced.defined) notes.push('opa eval found data.airlock.decision undefined for this input');
  else if (!decision.fail_closed && (tracedDecision?.action !== decision.action || (tracedDecision?.rule ?? undefined) !== decision.rule)) {
    notes.push(`the trace was taken at the current time, and there the policy decides ${String(tracedDecision?.action)} ${String(tracedDecision?.rule ?? '')}: time-dependent rules (grant expiry, time windows) may explain the difference${opts.replay ? ' (the engine decided at the request time)' : ''}`);
  }
  if (decision.grants?.withheld.length) notes.push(`${decision.grants.withheld.length} grant(s) held back by the engine (see grants)`);
  const decidedBy = decision.rule ? rules.find((r) => r.applied && r.kind === 'decision' && r.rule === decision.rule) : undefined;
  const out: Explanation = {
    decision,
    ...(decision.rule || decidedBy ? { decided_by: { ...(decision.rule ? { rule: decision.rule } : {}), ...(decidedBy ? { file: decidedBy.file, line: decidedBy.line } : {}) } } : {}),
    rules,
    notes,
  };
  if (verdicts.defined && Array.isArray(verdicts.value)) {
    out.verdicts = (verdicts.value as Array<Record<string, unknown>>).slice().sort((a, b) => Number(b.priority ?? 0) - Number(a.priority ?? 0) || String(a.rule).localeCompare(String(b.rule)));
  }
  if (decision.grants) out.grants = decision.grants;
  return out;
}

/**
 * One rule as a row: its id (or head) in a column of 30, then where it is. A head longer than the
 * column (an unnamed `credentials contains {…} if {`) gets its own line, so the location never
 * runs into it.
 */
function ruleRow(r: RuleTrace): string {
  const name = r.rule ?? withoutIf(r.head);
  const where = `${r.file}:${r.line}`;
  return name.length < 30 ? `  ${name.padEnd(30)} ${where}` : `  ${name}\n  ${''.padEnd(30)} ${where}`;
}

/** The explanation as text for a terminal. */
export function formatExplanation(x: Explanation, opts: { all?: boolean } = {}): string {
  const d = x.decision;
  const lines: string[] = [];
  const risk = d.approval ? ` (${d.approval.risk}${d.approval.step_up ? ', step-up' : ''})` : '';
  lines.push(`decision: ${d.action}${risk}${d.rule ? ` rule ${d.rule}` : ''}`);
  // A reason may quote what the agent sent (a tool name, a path): printed so it cannot move the cursor or reorder text.
  lines.push(`  ${terminalText(String(d.reason))}`);
  if (x.decided_by?.file) lines.push(`decided by: ${x.decided_by.rule ?? '(rule)'} at ${x.decided_by.file}:${x.decided_by.line}`);
  if (x.verdicts?.length) {
    lines.push('', 'verdicts (the most severe wins; ties go to the more specific rule, then the smallest id):');
    for (const v of x.verdicts) {
      const mark = v.rule === d.rule || (d.rule === 'grant.matched' && v === x.verdicts[0]) ? '→' : ' ';
      lines.push(`  ${mark} ${String(v.action).padEnd(7)} ${String(v.risk ?? '').padEnd(8)} ${String(v.rule)}: ${terminalText(String(v.reason ?? ''))}`);
    }
  }
  const shown = x.rules.filter((r) => opts.all || r.kind === 'decision');
  const applied = shown.filter((r) => r.applied);
  const notApplied = shown.filter((r) => !r.applied && !r.skipped);
  const skipped = shown.filter((r) => r.skipped && (opts.all || r.rule !== undefined));
  if (applied.length) {
    lines.push('', 'rules that applied:');
    for (const r of applied) lines.push(ruleRow(r));
  }
  if (notApplied.length) {
    lines.push('', 'rules considered that did not apply, and where each stopped:');
    for (const r of notApplied) {
      lines.push(ruleRow(r));
      if (r.failed) lines.push(`      ${r.failed.file}:${r.failed.line}  ${r.failed.expression}`);
    }
  }
  if (skipped.length) {
    lines.push('', 'rules not evaluated for this request (their first conditions, or their module, do not match it):');
    for (const r of skipped) lines.push(ruleRow(r));
  }
  if (x.grants) {
    lines.push('', `grants: own decision without grants: ${x.grants.own.action}${x.grants.own.risk ? ` (${x.grants.own.risk})` : ''}${x.grants.own.rule ? ` rule ${x.grants.own.rule}` : ''}`);
    for (const id of x.grants.offered) lines.push(`  ${id}: offered to the policy`);
    for (const w of x.grants.withheld) lines.push(`  ${w.id}: held back: ${w.reason}`);
  }
  if (x.notes.length) {
    lines.push('', 'notes:');
    for (const n of x.notes) lines.push(`  - ${n}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A rule head without its trailing ` if` or ` if {` (read from the end: no backtracking on blanks). */
function withoutIf(head: string): string {
  let end = head.trimEnd();
  if (end.endsWith('{')) end = end.slice(0, -1).trimEnd();
  if (!end.endsWith('if')) return head;
  const before = end.slice(0, -2);
  // `if` stands apart from what precedes it (`notif` is a name, not the keyword).
  return before !== before.trimEnd() ? before.trimEnd() : head;
}
