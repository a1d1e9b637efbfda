// The policy engine: compile a folder, load it, decide requests, hot-reload atomically.
// It knows nothing of sockets or HTTP. Two evaluation modes share one contract:
//  - "isolated" (default, used by the proxy): worker threads with a deadline per evaluation;
//  - "inline": same thread, fastest, for replay and benchmarks; an evaluation that overruns its
//    budget is still denied, it just cannot be cut short.
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { compilePolicy, RECORD_ENTRYPOINT, type CompiledPolicy } from './compile.ts';
import { parseRfc3339Ns } from './builtins.ts';
import { Evaluator, defaultLimits, errorText, type EvaluatorLimits } from './evaluator.ts';
import { interpret, type RawOutcome } from './interpret.ts';
import { WorkerPool } from './worker-pool.ts';
import type { EngineDecision, RequestDescription } from './types.ts';

export interface EngineOptions {
  mode?: 'isolated' | 'inline';
  /** Time budget of one evaluation. */
  timeoutMs?: number;
  limits?: EvaluatorLimits;
  /** Evaluation threads in isolated mode. */
  threads?: number;
}

export interface DecideOptions {
  /** Replay: time builtins return the captured request's time instead of the clock's. */
  replay?: boolean;
}

/** What decideRecord found in an audit-record line. */
export interface RecordDecision {
  decision: EngineDecision;
  /** The record's own "decision" field, as written (null when it has none). */
  recorded: unknown;
  /** The description's fields replay checks before counting it: request {method, host, time} and agent {id}, each null when not an object. */
  skeleton: { request: unknown; agent: unknown };
}

interface Loaded {
  compiled: CompiledPolicy;
  run: (input: string, nowNs: number) => Promise<RawOutcome> | RawOutcome;
  /** Inline engines: evaluate another entrypoint, synchronously; throws on evaluation errors. */
  runEntrypoint?: (input: string, now: () => number, entrypoint: string) => { value: unknown; ms: number };
  close: () => Promise<void>;
  inFlight: number;
}

export class PolicyEngine {
  private current: Loaded | undefined;
  private readonly mode: 'isolated' | 'inline';
  readonly timeoutMs: number;
  private readonly limits: EvaluatorLimits;
  private readonly threads: number;
  private readonly listeners = new Set<(version: string) => void>();

  constructor(opts: EngineOptions = {}) {
    this.mode = opts.mode ?? 'isolated';
    this.timeoutMs = opts.timeoutMs ?? 250;
    this.limits = opts.limits ?? defaultLimits;
    this.threads = opts.threads ?? Math.max(1, Math.min(2, os.availableParallelism()));
  }

  /** Compiles a policy folder and makes it live. Throws PolicyCompileError; the old policy stays live on failure. */
  async loadFolder(dir: string): Promise<CompiledPolicy> {
    const compiled = await compilePolicy(dir);
    await this.load(compiled);
    return compiled;
  }

  /**
   * Makes a compiled bundle live. The swap is atomic: decisions started before it finish on the old
   * bundle, decisions started after it use the new one. On a load error the old bundle stays.
   */
  async load(compiled: CompiledPolicy): Promise<void> {
    const next = this.mode === 'inline' ? await this.loadInline(compiled) : await this.loadIsolated(compiled);
    const old = this.current;
    this.current = next;
    for (const l of this.listeners) l(compiled.version);
    if (old) void drainAndClose(old);
  }

  private async loadInline(compiled: CompiledPolicy): Promise<Loaded> {
    const ev = await Evaluator.load(compiled, this.limits);
    const budget = this.timeoutMs;
    return {
      compiled,
      inFlight: 0,
      close: async () => undefined,
      run: (input, nowNs) => {
        const t0 = performance.now();
        let outcome: RawOutcome;
        try {
          outcome = { kind: 'result', value: ev.evaluate(input, nowNs) };
        } catch (err) {
          outcome = { kind: 'error', message: errorText(err) };
        }
        return performance.now() - t0 > budget ? { kind: 'timeout', budgetMs: budget } : outcome;
      },
      runEntrypoint: ev.hasEntrypoint(RECORD_ENTRYPOINT)
        ? (input, now, entrypoint) => {
          const t0 = performance.now();
          const value = ev.evaluate(input, now, entrypoint);
          return { value, ms: performance.now() - t0 };
        }
        : undefined,
    };
  }

  private async loadIsolated(compiled: CompiledPolicy): Promise<Loaded> {
    const pool = new WorkerPool(compiled, this.limits, this.timeoutMs, this.threads);
    try {
      await pool.ready();
    } catch (err) {
      await pool.close();
      throw err;
    }
    return {
      compiled,
      get inFlight() {
        return pool.inFlight;
      },
      close: () => pool.close(),
      run: (input, nowNs) => pool.evaluate(input, nowNs),
    };
  }

  get version(): string | undefined {
    return this.current?.compiled.version;
  }

  get policy(): CompiledPolicy | undefined {
    return this.current?.compiled;
  }

  onReload(fn: (version: string) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Decides one request. Never throws: every failure is a deny that says why. */
  async decide(input: RequestDescription, opts: DecideOptions = {}): Promise<EngineDecision> {
    const t0 = performance.now();
    const loaded = this.current;
    let outcome: RawOutcome;
    if (!loaded) {
      outcome = { kind: 'no-policy', message: 'the engine has not loaded a policy' };
    } else {
      let nowNs = Date.now() * 1e6;
      let json: string | undefined;
      try {
        if (opts.replay) nowNs = parseRfc3339Ns(input.request.time);
        json = JSON.stringify(input);
      } catch (err) {
        outcome = { kind: 'error', message: `request description is not usable: ${errorText(err)}` };
      }
      outcome ??= json === undefined ? { kind: 'error', message: 'request description is empty' } : await loaded.run(json, nowNs);
    }
    return finish(outcome!, loaded, t0);
  }

  /**
   * Replay of one audit-record line ({…, "description": {…}}), parsed once, inside WASM, through
   * the entrypoint every bundle carries (engine/replay-record.rego): the same decision decide()
   * gives the parsed description with `replay: true`, without parsing the line in JavaScript or
   * serializing the description again. Undefined when that is not certain: an engine in isolated
   * mode, a line that is not such a record, or an evaluation that failed or ran long (the caller
   * then parses the line and uses decide(), which reports it properly).
   */
  decideRecord(line: string): RecordDecision | undefined {
    const t0 = performance.now();
    const loaded = this.current;
    if (!loaded?.runEntrypoint) return undefined;
    // The captured time, read only if the policy reads the clock (most decisions never do).
    const clock = (): number => parseRfc3339Ns((JSON.parse(line) as { description: RequestDescription }).description.request.time);
    let found: { value: unknown; ms: number };
    try {
      found = loaded.runEntrypoint(line, clock, RECORD_ENTRYPOINT);
    } catch {
      return undefined;
    }
    const record = (found.value as Array<{ result?: { decisions: unknown[]; recorded: unknown; skeleton: RecordDecision['skeleton'] } }>)[0]?.result;
    if (!record || found.ms > this.timeoutMs) return undefined;
    let outcome: RawOutcome = { kind: 'result', value: record.decisions.map((result) => ({ result })) };
    // decide() reads the captured time before evaluating and fails closed when it is unusable.
    const time = (record.skeleton.request as { time?: unknown } | null)?.time;
    try {
      parseRfc3339Ns(time as string);
    } catch (err) {
      outcome = { kind: 'error', message: `request description is not usable: ${errorText(err)}` };
    }
    return { decision: finish(outcome, loaded, t0), recorded: record.recorded, skeleton: record.skeleton };
  }

  async close(): Promise<void> {
    const old = this.current;
    this.current = undefined;
    if (old) await old.close();
  }
}

function finish(outcome: RawOutcome, loaded: Loaded | undefined, t0: number): EngineDecision {
  return {
    ...interpret(outcome),
    policy_version: loaded?.compiled.version ?? 'none',
    decision_us: Math.round((performance.now() - t0) * 1000),
  };
}

/** Waits (bounded) for in-flight evaluations on a replaced bundle, then frees its threads. */
async function drainAndClose(old: Loaded): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (old.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  await old.close();
}
