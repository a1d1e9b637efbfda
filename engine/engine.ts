// The policy engine: compile a folder, load it, decide requests, hot-reload atomically.
// It knows nothing of sockets or HTTP. Two evaluation modes share one contract:
//  - "isolated" (default, used by the proxy): worker threads with a deadline per evaluation;
//  - "inline": same thread, fastest, for replay and benchmarks; an evaluation that overruns its
//    budget is still denied, it just cannot be cut short.
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { compilePolicy, type CompiledPolicy } from './compile.ts';
import { parseRfc3339Ns } from './builtins.ts';
import { Evaluator, defaultLimits, errorText, type EvaluatorLimits } from './evaluator.ts';
import { grantRefusal } from './grants.ts';
import { interpret, type RawOutcome } from './interpret.ts';
import { prepareDecisionContract } from './decision-contract.ts';
import { ownThreadClock } from './thread-cpu.ts';
import { WorkerPool } from './worker-pool.ts';
import { evalWorkerScript } from './eval-worker-script.ts';
import type { Grant, RequestDescription } from '../describe/types.ts';
import type { EngineDecision, GrantNotes } from './decision.ts';

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
  /**
   * The exact JSON text `input` was parsed from, when the caller holds it (replay reads it from
   * the capture): the policy evaluates it as is, and it is not serialized again.
   */
  inputJson?: string;
}

interface Loaded {
  compiled: CompiledPolicy;
  /**
   * `key`: whose turn a queued evaluation waits for (the agent id). `version`: the policy that
   * gave the outcome, when it may differ from `compiled` (the threads swapped policy meanwhile).
   */
  run: (input: string, nowNs: number, key?: string) => Promise<RawOutcome & { version?: string }> | RawOutcome;
  close: () => Promise<void>;
  inFlight: number;
}

/** This thread's CPU clock for inline evaluations: opened once (one file descriptor per thread). */
let threadClock: ReturnType<typeof ownThreadClock> | null = null;
function inlineClock(): ReturnType<typeof ownThreadClock> {
  if (threadClock === null) threadClock = ownThreadClock();
  return threadClock;
}

export class PolicyEngine {
  private current: Loaded | undefined;
  private readonly mode: 'isolated' | 'inline';
  readonly timeoutMs: number;
  private readonly limits: EvaluatorLimits;
  private readonly threads: number;
  private readonly listeners = new Set<(version: string) => void>();
  /** The evaluation threads (isolated mode): started once, then given each new bundle. */
  private pool: WorkerPool | undefined;
  /** Serializes loads: the last one asked for is the one live. */
  private loading: Promise<unknown> = Promise.resolve();

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
   * Makes a compiled bundle live. The swap is atomic: evaluations already running (or handed to a
   * thread) finish on the old bundle, later ones use the new one, and each decision reports the
   * version that made it. On a load error the old bundle stays live and its version stays reported.
   */
  load(compiled: CompiledPolicy): Promise<void> {
    const run = this.loading.then(() => this.loadNow(compiled));
    this.loading = run.catch(() => undefined);
    return run;
  }

  private async loadNow(compiled: CompiledPolicy): Promise<void> {
    const next = this.mode === 'inline' ? await this.loadInline(compiled) : await this.loadIsolated(compiled);
    // The replaced bundle holds nothing to free: an inline evaluator is garbage once unreferenced,
    // and the threads outlive it (they run the new one).
    this.current = next;
    for (const l of this.listeners) l(compiled.version);
  }

  private async loadInline(compiled: CompiledPolicy): Promise<Loaded> {
    const ev = await Evaluator.load(compiled, this.limits);
    const budget = this.timeoutMs;
    return {
      compiled,
      inFlight: 0,
      close: async () => undefined,
      run: (input, nowNs) => {
        // As in the evaluation threads, the budget is this thread's CPU time (time spent waiting for
        // a core on a busy machine does not count), with a wall-clock ceiling where that is unknown.
        const clock = inlineClock();
        const c0 = clock?.cpuMs();
        const t0 = performance.now();
        let outcome: RawOutcome;
        try {
          outcome = { kind: 'result', json: ev.evaluate(input, nowNs) };
        } catch (err) {
          outcome = { kind: 'error', message: errorText(err) };
        }
        const wallMs = performance.now() - t0;
        const c1 = c0 === undefined ? undefined : clock?.cpuMs();
        const over = c1 === undefined || c0 === undefined ? wallMs > budget : c1 - c0 > budget || wallMs > Math.max(20 * budget, 10_000);
        return over ? { kind: 'timeout', budgetMs: budget } : outcome;
      },
    };
  }

  /**
   * The first bundle starts the threads; each later one is loaded into the running threads
   * (WorkerPool.reload: all swap between two evaluations, or none does and the error is thrown).
   */
  private async loadIsolated(compiled: CompiledPolicy): Promise<Loaded> {
    let pool = this.pool;
    if (pool && !pool.closed) {
      await pool.reload(compiled);
    } else {
      pool = new WorkerPool(compiled, this.limits, this.timeoutMs, this.threads, evalWorkerScript());
      // While the threads start: the first decision must not stall the event loop compiling it.
      prepareDecisionContract();
      try {
        await pool.ready();
      } catch (err) {
        await pool.close();
        throw err;
      }
      this.pool = pool;
    }
    const threads = pool;
    return {
      compiled,
      get inFlight() {
        return threads.inFlight;
      },
      close: () => threads.close(),
      run: (input, nowNs, key) => threads.evaluate(input, nowNs, key),
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

  /**
   * Decides one request. Never throws: every failure is a deny that says why.
   *
   * A request that comes with grants (input.grants) is decided first without them; only when that
   * own decision is an approve a grant may stand in for (engine/grants.ts) is it decided again, with
   * just those grants. So no policy can let a grant widen what a human approved.
   */
  async decide(input: RequestDescription, opts: DecideOptions = {}): Promise<EngineDecision> {
    const grants = input?.grants;
    if (!Array.isArray(grants) || grants.length === 0) return this.decideOnce(input, opts);
    const t0 = performance.now();
    const own = await this.decideOnce({ ...input, grants: [] }, { ...opts, inputJson: undefined });
    let nowMs = Date.now();
    if (opts.replay) {
      const t = Date.parse(input.request?.time);
      if (Number.isFinite(t)) nowMs = t;
    }
    const offered: Grant[] = [];
    const withheld: GrantNotes['withheld'] = [];
    for (const g of grants as Grant[]) {
      let reason: string | undefined;
      try {
        reason = grantRefusal(g, input, own, nowMs);
      } catch (err) {
        reason = `the grant could not be checked: ${errorText(err)}`;
      }
      if (reason === undefined) offered.push(g);
      else withheld.push({ id: typeof g?.id === 'string' ? g.id : '(no id)', reason });
    }
    const notes: GrantNotes = {
      offered: offered.map((g) => g.id),
      withheld,
      own: { action: own.action, ...(own.rule ? { rule: own.rule } : {}), ...(own.approval ? { risk: own.approval.risk } : {}) },
    };
    const decided = offered.length === 0 ? own : await this.decideOnce({ ...input, grants: offered }, { ...opts, inputJson: undefined });
    // Labels say what the answer brings into the agent's context, which no grant changes: the own
    // decision's stay (a policy whose grant rule names none, "any grant → allow", let a granted
    // read of a page bring nothing, and the session never held the trifecta it completed).
    const labels = offered.length === 0 || !own.labels?.length ? decided.labels : [...new Set([...(decided.labels ?? []), ...own.labels])];
    return { ...decided, ...(labels ? { labels } : {}), grants: notes, decision_us: Math.round((performance.now() - t0) * 1000) };
  }

  private async decideOnce(input: RequestDescription, opts: DecideOptions): Promise<EngineDecision> {
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
        json = opts.inputJson ?? JSON.stringify(input);
      } catch (err) {
        outcome = { kind: 'error', message: `request description is not usable: ${errorText(err)}` };
      }
      outcome ??= json === undefined ? { kind: 'error', message: 'request description is empty' } : await loaded.run(json, nowNs, agentKey(input));
    }
    const decision = interpret(outcome!);
    // The version that decided: a decision queued across a reload runs on the new policy.
    const version = (outcome as { version?: string }).version ?? loaded?.compiled.version ?? 'none';
    return {
      ...decision,
      policy_version: version,
      decision_us: Math.round((performance.now() - t0) * 1000),
    };
  }

  async close(): Promise<void> {
    const old = this.current;
    this.current = undefined;
    const pool = this.pool;
    this.pool = undefined;
    if (old) await old.close();
    if (pool && !pool.closed) await pool.close();
  }
}

/** The agent a description is for (the evaluation queue's fairness key). */
function agentKey(input: RequestDescription): string {
  const id = (input as { agent?: { id?: unknown } }).agent?.id;
  return typeof id === 'string' ? id : '';
}

