// Replay: decide captured traffic again with a policy, optionally against a baseline policy or the
// decisions recorded in the audit log, and report what would change. One implementation for the
// CLI (`airlock replay`) and the studio.
//  - Streaming: sources are read line by line / entry by entry and each request is dropped once
//    decided; only changed rows are kept, capped, with a count of the rest. Memory does not grow
//    with the size of the input.
//  - Deterministic: decisions run with {replay: true}, so time builtins see the captured time.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PolicyEngine } from '../engine/engine.ts';
import { readHar, type HarOptions } from './har.ts';
import { maxLineChars, streamLines } from '../lib/lines.ts';
import { compileFilter, splitAtDescription, type AuditFilter } from '../state/audit-log.ts';
import type { SessionEvent } from '../state/audit-log.ts';
import { perAgentSession, SessionSimulation } from './replay-sessions.ts';
import { loadTrafficTests, prepareCase, prepareCases, type Expectation } from './traffic-tests.ts';
import type { RequestDescription, Risk } from '../describe/types.ts';
import type { Action, ApprovalDirective, CredentialDirective, Decision, EngineDecision, RateLimitDirective } from '../engine/decision.ts';

export type ReplayItem =
  | {
    kind: 'request';
    source: string;
    input: RequestDescription;
    /** The exact JSON text `input` was parsed from, when the source holds it (the policy then evaluates it as is). */
    inputJson?: string;
    recorded?: Decision;
    /** The status the upstream answered live (labels count when it answered at all). */
    status?: number;
    notes?: string[];
  }
  /** A human's change to a session (audit log): applied to the simulated sessions in order. */
  | { kind: 'session'; source: string; event: SessionEvent }
  | { kind: 'skipped'; source: string; reason: string };

export interface SourceOptions extends HarOptions {
  /** The audit log's filter, applied to each request's description (captures need not be audit records). */
  filter?: AuditFilter;
  /** Called with bytes read so far in the current file. */
  onBytes?: (bytes: number) => void;
  signal?: AbortSignal;
}

export type SourceFormat = 'jsonl' | 'har' | 'tests';

export class ReplaySourceError extends Error {}

/** Decides by extension, then by the first bytes: `{"log"` is HAR, a `cases` document is a traffic test file. */
export function detectFormat(file: string): SourceFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.har') return 'har';
  if (ext === '.yaml' || ext === '.yml') return 'tests';
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.log') return 'jsonl';
  let head = '';
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(4096);
      head = buf.subarray(0, fs.readSync(fd, buf, 0, buf.length, 0)).toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    throw new ReplaySourceError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (/^\uFEFF?\s*\{\s*"log"\s*:/.test(head)) return 'har';
  // A JSON document with "cases" is a traffic test file: any .json one, or (other extensions) one
  // that is not laid out as one object per line.
  if (/^\uFEFF?\s*\{/.test(head) && /"cases"\s*:/.test(head) && (ext === '.json' || !/^\uFEFF?\s*\{[^\n]*\}\s*\n/.test(head))) return 'tests';
  return 'jsonl';
}

/** The filter as a test of a request description: its time, agent and host. */
function descriptionFilter(f: AuditFilter | undefined): (input: RequestDescription) => boolean {
  if (!f) return () => true;
  const matches = compileFilter(f);
  return (input) => matches({ time: input.request?.time, agent: input.agent?.id, host: input.request?.host });
}

const isObject = (v: unknown): v is Record<string, any> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Why a value is not a usable request description, or undefined when it is. */
export function descriptionProblem(d: unknown): string | undefined {
  if (!isObject(d) || !isObject(d.request)) return 'no "request" object';
  const r = d.request;
  if (typeof r.method !== 'string' || typeof r.host !== 'string') return 'request has no method or host';
  if (typeof r.time !== 'string' || Number.isNaN(Date.parse(r.time))) return 'request has no captured time (request.time), which replay needs';
  if (!isObject(d.agent) || typeof d.agent.id !== 'string') return 'no agent.id';
  return undefined;
}

/**
 * One JSON Lines record: an audit record ({description, decision, …}), {input, decision}, or a
 * bare request description. Returns the item, or a skip with its reason.
 */
export function parseCaptureLine(line: string, source: string): ReplayItem | undefined {
  const text = line.trim();
  if (!text) return undefined;
  const split = splitAtDescription(text);
  let v: unknown = split?.record;
  if (!split) {
    try {
      v = JSON.parse(text);
    } catch {
      return { kind: 'skipped', source, reason: 'not valid JSON' };
    }
  }
  if (!isObject(v)) return { kind: 'skipped', source, reason: 'not a JSON object' };
  if (isObject(v.session_event) && typeof v.session_event.session === 'string') return { kind: 'session', source, event: v.session_event as unknown as SessionEvent };
  const input = isObject(v.description) ? v.description : isObject(v.input) ? v.input : isObject(v.request) ? v : undefined;
  if (!input) {
    // An authentication challenge (a client's bare first try, answered 407) is not a request the
    // policy ever saw, nor a problem with the file: not listed as skipped.
    if (v.outcome === 'auth-challenge') return undefined;
    const reason = isObject(v.description_omitted)
      ? `audit record whose description was left out (${typeof v.description_omitted.bytes === 'number' ? `${v.description_omitted.bytes} bytes: ` : ''}its agent was past its share of the audit log)`
      : typeof v.outcome === 'string'
      ? `audit record without a description (outcome: ${v.outcome})`
      : 'neither a request description nor an audit record with "description"';
    return { kind: 'skipped', source, reason };
  }
  const problem = descriptionProblem(input);
  if (problem) return { kind: 'skipped', source, reason: problem };
  const item: ReplayItem = { kind: 'request', source, input: input as RequestDescription };
  // The line holds the description's exact text when it is the description, or split off its end.
  if (input === v) item.inputJson = text;
  else if (split && input === v.description) item.inputJson = split.descriptionJson;
  if (input !== v && isObject(v.decision) && typeof v.decision.action === 'string') item.recorded = v.decision as Decision;
  // An audit record's own `status` may be Airlock's refusal: only `upstream_status` says the upstream answered.
  const status = typeof v.upstream_status === 'number' ? v.upstream_status : input !== v.description && typeof v.status === 'number' ? v.status : undefined;
  if (status !== undefined) item.status = status;
  return item;
}

/** Streams a JSON Lines capture (audit log, `capture export`, or one description per line). */
export async function* readCaptureLines(file: string, opts: SourceOptions = {}): AsyncGenerator<ReplayItem> {
  const stream = fs.createReadStream(file, { highWaterMark: 256 * 1024 });
  const name = path.basename(file);
  const matches = descriptionFilter(opts.filter);
  let n = 0;
  let lastReport = 0;
  try {
    for await (const lines of streamLines(stream)) {
      for (const line of lines) {
        n++;
        if (opts.signal?.aborted) return;
        if (opts.onBytes && n - lastReport >= 256) {
          lastReport = n;
          opts.onBytes(stream.bytesRead);
        }
        if (line === null) {
          yield { kind: 'skipped', source: `${name}:${n}`, reason: `line longer than ${maxLineChars} characters` };
          continue;
        }
        const item = parseCaptureLine(line, `${name}:${n}`);
        if (item && (item.kind !== 'request' || matches(item.input))) yield item;
      }
    }
    opts.onBytes?.(stream.bytesRead);
  } catch (err) {
    throw new ReplaySourceError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  } finally {
    stream.destroy();
  }
}

/**
 * Audit lines read from a shared store (PostgreSQL: `airlock replay --store`, the studio of a
 * replica), as replay items, with the same filter a file gets.
 */
export async function* readCaptureText(lines: AsyncIterable<string>, source: string, opts: SourceOptions = {}): AsyncGenerator<ReplayItem> {
  const matches = descriptionFilter(opts.filter);
  let n = 0;
  for await (const line of lines) {
    n++;
    if (opts.signal?.aborted) return;
    const item = parseCaptureLine(line, `${source}:${n}`);
    if (item && (item.kind !== 'request' || matches(item.input))) yield item;
  }
}

/**
 * A case's expectation as a recorded decision: everything it names (risk, step-up, secrets, labels)
 * is compared, so a draft that lowers an expected critical hold to medium is a change against it.
 * Rate limits are expected by key only and are left out (the report compares their sizes).
 */
function expectedDecision(e: Expectation): Decision {
  const approval = e.approval && typeof e.approval === 'object' ? e.approval : undefined;
  return {
    action: e.action,
    reason: 'expected by the traffic test',
    ...(e.rule ? { rule: e.rule } : {}),
    ...(approval && (approval.risk !== undefined || approval.step_up !== undefined) ? { approval: approval as ApprovalDirective } : {}),
    ...(Array.isArray(e.credentials) ? { credentials: e.credentials.map((secret) => ({ secret: String(secret) }) as CredentialDirective) } : {}),
    ...(Array.isArray(e.labels) ? { labels: e.labels.map(String) } : {}),
  };
}

/** A traffic test file's cases as replay items; the expectation stands in as the recorded decision. */
export async function* readTrafficTestItems(file: string, opts: SourceOptions = {}): AsyncGenerator<ReplayItem> {
  const loaded = loadTrafficTests(file);
  const matches = descriptionFilter(opts.filter);
  await prepareCases();
  for (const [i, c] of loaded.cases.entries()) {
    if (opts.signal?.aborted) return;
    const p = prepareCase(loaded, c, i);
    if (!p.ok) {
      yield { kind: 'skipped', source: p.source, reason: p.error };
      continue;
    }
    if (!matches(p.input)) continue;
    yield { kind: 'request', source: `${p.source} ${c.name}`, input: p.input, recorded: expectedDecision(p.expect) };
  }
  opts.onBytes?.(fs.statSync(file).size);
}

/** Streams one source file, whatever its format. */
export async function* readSource(file: string, opts: SourceOptions = {}): AsyncGenerator<ReplayItem> {
  const format = detectFormat(file);
  if (format === 'har') {
    const matches = descriptionFilter(opts.filter);
    for await (const item of readHar(file, opts)) {
      if (item.kind !== 'request' || matches(item.input)) yield item;
    }
  } else if (format === 'tests') {
    yield* readTrafficTestItems(file, opts);
  } else {
    yield* readCaptureLines(file, opts);
  }
}

// ---------------------------------------------------------------------------------------------

export type Counts = Record<Action, number>;

/** The parts of a decision that replay compares and shows. */
export interface DecisionSummary {
  action: Action;
  rule?: string;
  reason: string;
  risk?: Risk;
  credentials?: string[];
  /** Where each secret goes: `github_token in header authorization` (a draft may move it elsewhere). */
  credential_slots?: string[];
  /** Each bucket charged, with its size: `egress:api.github.com:coder: 1048576 egress_bytes per 1h`. */
  rate_limits?: string[];
  /** Labels the decision gives the response. */
  labels?: string[];
  /** The hold's terms besides its risk: step-up, its timeout, held for what the session read (no grant covers it). */
  step_up?: boolean;
  hold_timeout?: string | number;
  session_hold?: boolean;
  /** How the request is forwarded: ambiguous paths as they are, none of the agent's headers. */
  raw_path?: boolean;
  bare_headers?: boolean;
  fail_closed?: EngineDecision['fail_closed'];
}

/**
 * What changed between two decisions. Every field of a decision counts: a draft that only drops a
 * step-up, an egress budget or `bare_headers`, or moves a secret to another header, is a weaker
 * policy and must not replay as "no decision changes".
 */
export type ChangeKind = 'action' | 'rule' | 'risk' | 'credentials' | 'labels' | 'approval' | 'rate_limits' | 'forwarding';

export interface ChangedRow {
  source: string;
  input: RequestDescription;
  before: DecisionSummary;
  after: DecisionSummary;
  changes: ChangeKind[];
  /** What changed besides the action and rule, one line each (changeLines): shown by the CLI and the studio. */
  details: string[];
}

export interface ReplayProgress {
  decided: number;
  skipped: number;
  /** Bytes read across all files so far, and their total size (for a progress bar). */
  bytes: number;
  totalBytes: number;
  file: string;
}

export interface ReplayOptions {
  /** The policy under test ("after"). */
  policy: PolicyEngine;
  /** A second policy to compare with ("before"), e.g. the live policy when `policy` is a draft. */
  baseline?: PolicyEngine;
  /** Compare with the decisions recorded in the capture instead of a baseline policy. */
  againstLog?: boolean;
  /** Changed rows kept in the report (the rest are only counted). Default 1000. */
  maxChanged?: number;
  /** Skipped entries kept with their reason (the rest are only counted). Default 100. */
  maxSkipped?: number;
  onProgress?: (p: ReplayProgress) => void;
  /** Least time between two progress calls. Default 100 ms. */
  progressIntervalMs?: number;
  signal?: AbortSignal;
  /** Decisions in flight at once (default 1). Raise it with isolated-mode engines to use their threads. */
  concurrency?: number;
  /**
   * Sessions: "recorded" (default) replays the sessions the capture names, labels accumulating in
   * order; "per-agent" also puts requests without one (HAR files, older logs) in one session per
   * agent; "none" decides every request on its own, with the session as recorded.
   */
  sessions?: 'recorded' | 'per-agent' | 'none';
}

export interface ReplayReport {
  mode: 'policy' | 'baseline' | 'log';
  policyVersion: string;
  baselineVersion?: string;
  /** Requests decided. */
  decided: number;
  /** Decisions of the policy under test that were fail-closed denies (policy errors, timeouts…), with samples. */
  failClosed: number;
  failClosedSamples: Array<{ source: string; kind: string; reason: string }>;
  /** Decisions that took longer than the live budget: live, the proxy would have denied them (timeout). */
  slow: number;
  slowSamples: Array<{ source: string; ms: number }>;
  /** Entries that could not be replayed, with reasons (first maxSkipped). */
  skipped: number;
  skippedSamples: Array<{ source: string; reason: string }>;
  /** Requests decided with notes (e.g. a HAR body that was not recorded). */
  noted: number;
  notesSamples: Array<{ source: string; notes: string[] }>;
  after: Counts;
  before?: Counts;
  /** against-log: requests whose record had no decision to compare with. */
  unrecorded: number;
  changed: number;
  changedRows: ChangedRow[];
  /** Changed rows counted but not kept (over maxChanged). */
  changedOmitted: number;
  /** "allow → deny": count, over all changed requests whose action changed. */
  transitions: Record<string, number>;
  aborted: boolean;
  elapsedMs: number;
}

/** Time budget of one decision during replay and traffic tests. */
export const replayBudgetMs = 10_000;
/** The proxy's budget (engine default): decisions slower than this would be fail-closed live. */
export const liveBudgetMs = 250;

const zero = (): Counts => ({ allow: 0, deny: 0, approve: 0 });

/** Entries of a list a recorded decision may hold in any shape (a capture is untrusted input). */
function entries<T>(v: unknown): Array<Partial<T>> {
  return Array.isArray(v) ? v.filter((x): x is Partial<T> => !!x && typeof x === 'object') : [];
}

const sorted = (xs: string[]): string[] => [...new Set(xs)].sort();

export function summarize(d: Decision | EngineDecision): DecisionSummary {
  const s: DecisionSummary = { action: d.action, reason: d.reason };
  if (d.rule) s.rule = d.rule;
  if (d.approval?.risk) s.risk = d.approval.risk;
  const creds = entries<CredentialDirective>(d.credentials);
  if (creds.length) {
    s.credentials = sorted(creds.map((c) => String(c.secret)));
    s.credential_slots = sorted(creds.map((c) => `${String(c.secret)} in ${String(c.in)}${c.name !== undefined ? ` ${String(c.name).toLowerCase()}` : ''}${c.format !== undefined ? ` as ${JSON.stringify(c.format)}` : ''}`));
  }
  const limits = entries<RateLimitDirective>(d.rate_limits);
  if (limits.length) s.rate_limits = sorted(limits.map((r) => `${String(r.key)}: ${String(r.limit)} ${r.unit ?? 'requests'} per ${String(r.window)}${r.cost !== undefined ? `, cost ${String(r.cost)}` : ''}`));
  if (d.labels?.length) s.labels = [...new Set(d.labels)].sort();
  if (d.approval?.step_up === true) s.step_up = true;
  if (d.approval?.timeout !== undefined) s.hold_timeout = d.approval.timeout;
  if (Array.isArray(d.approval?.because) && d.approval.because.length) s.session_hold = true;
  if (d.raw_path === true) s.raw_path = true;
  if (d.bare_headers === true) s.bare_headers = true;
  if ('fail_closed' in d && d.fail_closed) s.fail_closed = d.fail_closed;
  return s;
}

/**
 * What differs between two decisions. Reason text alone is not a change (it may carry details).
 * `partial`: the "before" side is a recorded decision that may not carry approval or credentials
 * (the audit log records action, rule and reason); those are compared only when recorded.
 */
export function changesBetween(before: DecisionSummary, after: DecisionSummary, partial?: Decision): ChangeKind[] {
  const out: ChangeKind[] = [];
  const list = (xs: string[] | undefined): string => (xs ?? []).join('\0');
  if (before.action !== after.action) out.push('action');
  if ((before.rule ?? '') !== (after.rule ?? '')) out.push('rule');
  if ((!partial || (!!partial.approval && typeof partial.approval === 'object' && 'risk' in partial.approval)) && (before.risk ?? '') !== (after.risk ?? '')) out.push('risk');
  if ((!partial || partial.credentials) && (list(before.credentials) !== list(after.credentials) || (!partial && list(before.credential_slots) !== list(after.credential_slots)))) out.push('credentials');
  if ((!partial || partial.labels) && list(before.labels) !== list(after.labels)) out.push('labels');
  // A recorded approval's terms are compared only when it was recorded with them.
  const recorded = (k: 'step_up' | 'timeout' | 'because'): boolean => !partial || (!!partial.approval && typeof partial.approval === 'object' && k in partial.approval);
  if ((recorded('step_up') && !!before.step_up !== !!after.step_up) || (recorded('timeout') && String(before.hold_timeout ?? '') !== String(after.hold_timeout ?? '')) || (recorded('because') && !!before.session_hold !== !!after.session_hold)) out.push('approval');
  if ((!partial || partial.rate_limits) && list(before.rate_limits) !== list(after.rate_limits)) out.push('rate_limits');
  if (!partial && (!!before.raw_path !== !!after.raw_path || !!before.bare_headers !== !!after.bare_headers)) out.push('forwarding');
  return out;
}

/**
 * What changed besides the action and rule, one line each (`rate limits: [...] → []`), for the CLI
 * and the studio: a row whose action and rule stay must still say what the draft changes.
 */
export function changeLines(r: Pick<ChangedRow, 'before' | 'after' | 'changes'>): string[] {
  const b = r.before;
  const a = r.after;
  const listed = (xs: string[] | undefined): string => `[${(xs ?? []).join(', ')}]`;
  const terms = (d: DecisionSummary): string => [d.step_up ? 'step-up' : 'no step-up', d.hold_timeout !== undefined ? `timeout ${String(d.hold_timeout)}` : 'default timeout', d.session_hold ? 'held for what the session read (no grant covers it)' : 'no session hold'].join(', ');
  const how = (d: DecisionSummary): string => [d.raw_path ? 'raw_path' : '', d.bare_headers ? 'bare_headers' : ''].filter(Boolean).join(', ') || 'as usual';
  const out: string[] = [];
  if (r.changes.includes('risk')) out.push(`risk: ${b.risk ?? 'none'} → ${a.risk ?? 'none'}`);
  if (r.changes.includes('credentials')) out.push(`credentials: ${listed(b.credential_slots ?? b.credentials)} → ${listed(a.credential_slots ?? a.credentials)}`);
  if (r.changes.includes('labels')) out.push(`labels: ${listed(b.labels)} → ${listed(a.labels)}`);
  if (r.changes.includes('approval')) out.push(`approval: ${terms(b)} → ${terms(a)}`);
  if (r.changes.includes('rate_limits')) out.push(`rate limits: ${listed(b.rate_limits)} → ${listed(a.rate_limits)}`);
  if (r.changes.includes('forwarding')) out.push(`forwarding: ${how(b)} → ${how(a)}`);
  return out;
}

/** Replays items against the policy. Never throws for bad items: they are skipped with a reason. */
export async function replay(items: AsyncIterable<ReplayItem>, opts: ReplayOptions, progressOf?: () => Pick<ReplayProgress, 'bytes' | 'totalBytes' | 'file'>): Promise<ReplayReport> {
  if (opts.baseline && opts.againstLog) throw new ReplaySourceError('choose a baseline policy or the recorded decisions, not both');
  const t0 = performance.now();
  const maxChanged = opts.maxChanged ?? 1000;
  const maxSkipped = opts.maxSkipped ?? 100;
  const interval = opts.progressIntervalMs ?? 100;
  const compare = Boolean(opts.baseline || opts.againstLog);
  const report: ReplayReport = {
    mode: opts.baseline ? 'baseline' : opts.againstLog ? 'log' : 'policy',
    policyVersion: opts.policy.version ?? 'none',
    decided: 0, failClosed: 0, failClosedSamples: [], slow: 0, slowSamples: [], skipped: 0, skippedSamples: [], noted: 0, notesSamples: [],
    after: zero(), unrecorded: 0, changed: 0, changedRows: [], changedOmitted: 0, transitions: {},
    aborted: false, elapsedMs: 0,
  };
  if (opts.baseline) report.baselineVersion = opts.baseline.version ?? 'none';
  if (compare) report.before = zero();
  let lastProgress = performance.now();
  const progress = (): void => {
    const p = progressOf?.() ?? { bytes: 0, totalBytes: 0, file: '' };
    opts.onProgress?.({ decided: report.decided, skipped: report.skipped, ...p });
  };

  type Decided = { item: Extract<ReplayItem, { kind: 'request' }>; after: EngineDecision; before?: EngineDecision };
  const account = ({ item, after: afterDecision, before: baselineDecision }: Decided): void => {
    const after = summarize(afterDecision);
    report.decided++;
    if (afterDecision.decision_us > liveBudgetMs * 1000) {
      report.slow++;
      if (report.slowSamples.length < maxSkipped) report.slowSamples.push({ source: item.source, ms: Math.round(afterDecision.decision_us / 1000) });
    }
    if (afterDecision.fail_closed) {
      report.failClosed++;
      if (report.failClosedSamples.length < maxSkipped) report.failClosedSamples.push({ source: item.source, kind: afterDecision.fail_closed, reason: afterDecision.reason });
    }
    report.after[after.action]++;
    let before: DecisionSummary | undefined;
    if (baselineDecision) before = summarize(baselineDecision);
    else if (opts.againstLog) {
      if (item.recorded && typeof item.recorded.action === 'string' && item.recorded.action in report.after) before = summarize(item.recorded);
      else report.unrecorded++;
    }
    if (before) {
      report.before![before.action]++;
      const changes = changesBetween(before, after, opts.againstLog ? item.recorded : undefined);
      if (changes.length) {
        report.changed++;
        if (before.action !== after.action) {
          const k = `${before.action} → ${after.action}`;
          report.transitions[k] = (report.transitions[k] ?? 0) + 1;
        }
        if (report.changedRows.length < maxChanged) report.changedRows.push({ source: item.source, input: item.input, before, after, changes, details: changeLines({ before, after, changes }) });
        else report.changedOmitted++;
      }
    }
    if (opts.onProgress && (report.decided & 63) === 0 && performance.now() - lastProgress >= interval) {
      lastProgress = performance.now();
      progress();
    }
  };
  // Each policy keeps its own sessions: its decisions say which labels each response brought.
  const sessionMode = opts.sessions ?? 'recorded';
  const sims = sessionMode === 'none' ? undefined : { after: new SessionSimulation(), before: new SessionSimulation() };
  const decideOne = async (item: Decided['item']): Promise<Decided> => {
    const input = sessionMode === 'per-agent' ? perAgentSession(item.input) : item.input;
    if (!sims || !input.session) {
      const how = { replay: true, inputJson: item.inputJson };
      if (!opts.baseline) return { item, after: await opts.policy.decide(item.input, how) };
      const [after, before] = await Promise.all([opts.policy.decide(item.input, how), opts.baseline.decide(item.input, how)]);
      return { item, after, before };
    }
    const how = { replay: true };
    const afterInput = sims.after.prepare(input);
    const after = await opts.policy.decide(afterInput, how);
    sims.after.settle(afterInput, after, item.status);
    if (!opts.baseline) return { item, after };
    const beforeInput = sims.before.prepare(input);
    const before = await opts.baseline.decide(beforeInput, how);
    sims.before.settle(beforeInput, before, item.status);
    return { item, after, before };
  };
  // Up to `concurrency` decisions in flight (useful with isolated engines, whose threads evaluate
  // in parallel); results are accounted in input order, so reports do not depend on timing.
  const concurrency = Math.max(1, opts.concurrency ?? 1);
  const inFlight: Array<Promise<Decided>> = [];

  for await (const item of items) {
    if (opts.signal?.aborted) {
      report.aborted = true;
      break;
    }
    if (item.kind === 'skipped') {
      report.skipped++;
      if (report.skippedSamples.length < maxSkipped) report.skippedSamples.push({ source: item.source, reason: item.reason });
      continue;
    }
    if (item.kind === 'session') {
      // In order: every decision before this event has settled first.
      while (inFlight.length) account(await inFlight.shift()!);
      sims?.after.apply(item.event);
      sims?.before.apply(item.event);
      continue;
    }
    if (item.notes?.length) {
      report.noted++;
      if (report.notesSamples.length < maxSkipped) report.notesSamples.push({ source: item.source, notes: item.notes });
    }
    // A request of a session waits for the ones before it: its labels depend on them.
    const stateful = sims !== undefined && (item.input.session !== undefined || sessionMode === 'per-agent');
    if (concurrency === 1 || stateful) {
      while (inFlight.length) account(await inFlight.shift()!);
      account(await decideOne(item));
    } else {
      inFlight.push(decideOne(item));
      if (inFlight.length >= concurrency) account(await inFlight.shift()!);
    }
  }
  while (inFlight.length) account(await inFlight.shift()!);
  if (opts.onProgress) progress();
  report.elapsedMs = Math.round(performance.now() - t0);
  return report;
}

/** Streams several files (each in its own format) and replays them. */
export async function replayFiles(files: string[], opts: ReplayOptions & Omit<SourceOptions, 'onBytes' | 'signal'>): Promise<ReplayReport> {
  const sizes = files.map((f) => {
    try {
      return fs.statSync(f).size;
    } catch (err) {
      throw new ReplaySourceError(`cannot read ${f}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  });
  const totalBytes = sizes.reduce((a, b) => a + b, 0);
  let done = 0;
  let current = 0;
  let file = '';
  async function* all(): AsyncGenerator<ReplayItem> {
    for (const [i, f] of files.entries()) {
      file = f;
      current = 0;
      yield* readSource(f, { ...opts, onBytes: (n) => (current = n), signal: opts.signal });
      done += sizes[i]!;
      current = 0;
    }
  }
  return replay(all(), opts, () => ({ bytes: Math.min(totalBytes, done + current), totalBytes, file }));
}

/**
 * An engine with the policy folder loaded. Default: inline (same thread, fastest per decision).
 * `threads` > 0: isolated mode with that many evaluation threads (pair with ReplayOptions.concurrency).
 */
export async function openPolicy(dir: string, opts: { threads?: number; timeoutMs?: number } = {}): Promise<PolicyEngine> {
  // Offline, a decision must not depend on how busy the machine is: the live budget (1 s) could
  // turn a CPU stall into a timeout deny. Replay uses a generous budget and reports slow decisions.
  const timeoutMs = opts.timeoutMs ?? replayBudgetMs;
  const engine = opts.threads ? new PolicyEngine({ mode: 'isolated', threads: opts.threads, timeoutMs }) : new PolicyEngine({ mode: 'inline', timeoutMs });
  try {
    await engine.loadFolder(dir);
  } catch (err) {
    await engine.close();
    throw err;
  }
  return engine;
}

/**
 * A time flag (--since/--until): RFC 3339 ("2026-01-05T10:00:00Z"), a date ("2026-01-05", UTC
 * midnight), or an age before `now` ("90s", "30m", "12h", "7d"). Returns epoch milliseconds.
 */
export function parseTimeFlag(value: string, now = Date.now()): number {
  const v = value.trim();
  const rel = /^(\d+(?:\.\d+)?)(s|m|h|d|w)$/.exec(v);
  if (rel) {
    const unit = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 }[rel[2] as 's' | 'm' | 'h' | 'd' | 'w'];
    return now - Number(rel[1]) * unit;
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) {
    const ms = Date.parse(`${v}T00:00:00Z`);
    if (!Number.isNaN(ms)) return ms;
  }
  if (/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})$/.test(v)) {
    const ms = Date.parse(v.replace(' ', 'T'));
    if (!Number.isNaN(ms)) return ms;
  }
  throw new ReplaySourceError(`not a time: ${JSON.stringify(value)} (use RFC 3339 like 2026-01-05T10:00:00Z, a date like 2026-01-05, or an age like 30m, 12h, 7d)`);
}
