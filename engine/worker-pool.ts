// A small pool of evaluation threads with a budget per evaluation. A policy that runs past its
// budget cannot be interrupted inside the main thread (WASM runs to completion), so evaluations run
// in workers; on a timeout the worker is terminated and replaced, and the request is denied.
//
// The budget is the evaluation's own CPU time (thread-cpu.ts), not wall-clock time: time spent
// queued here, in the thread's port behind another evaluation, or waiting for a core on a busy
// machine never counts, so CPU starvation cannot deny a legitimate request. A watchdog timer per
// busy thread looks at what the thread runs (a shared block it writes) and how long it has run.
// An evaluation that has not finished after `wallCeilingMs` of wall-clock time is denied too, so
// no request waits without bound on a machine that never gives the thread a core.
//
// A thread holds up to `depth` small evaluations at once (one running, the rest waiting in its
// port): hand-offs made in the same turn of the event loop share one wake-up of the thread. A large
// input (a big body's description) is only given to an idle thread and nothing is queued behind
// it, so no evaluation waits in a port behind another agent's heavy one. Waiting evaluations are
// served round-robin by key (the agent): an agent that queues hundreds of large requests waits
// behind its own, never in front of another agent's next one.
//
// A new policy is loaded into the threads that run (reload()): starting a thread costs far more
// than instantiating a policy, so a reload costs the instantiation only. Every thread prepares the
// new policy beside the live one; only when all have it does each commit it, between two
// evaluations, so the pool swaps as one or not at all. A thread started later (a timeout's
// replacement) loads the policy current then.
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { CompiledPolicy } from './compile.ts';
import type { EvaluatorLimits } from './evaluator.ts';
import type { RawOutcome } from './interpret.ts';
import { threadCpuMs } from './thread-cpu.ts';

/** What a thread answers (eval-worker-main.ts). */
interface Answer {
  id?: number;
  ok?: boolean;
  json?: string;
  error?: string;
  prepared?: number;
  ready?: boolean;
}

/** An evaluation's outcome and the policy version that gave it. */
export type PoolOutcome = RawOutcome & { version: string };

interface Job {
  input: string;
  nowNs: number;
  resolve: (o: PoolOutcome) => void;
  /** The version of the policy the thread runs the job on (set when posted). */
  version?: string;
  /** Set when the job is given to a thread. */
  id?: number;
  posted?: boolean;
  /** Wall-clock ms since which the job is the next its thread runs (its ceiling counts from here). */
  since?: number;
}

/** Evaluations one thread holds at once: enough to batch hand-offs, few enough that the fair queue decides the order. */
export const depth = 4;
/** Inputs up to this size (characters) may wait in a busy thread's port: evaluations of microseconds. */
const smallInput = 16 * 1024;

/**
 * Waking a sleeping thread is a futex wake made under V8's one lock for all Atomics waits: the
 * woken thread then waits for that lock too, so each wake costs two, and on a VM each is an
 * interrupt to the other core (~40 µs of the main thread per wake in the allow-all profile, more
 * than a small evaluation). Hand-offs made while the event loop handles one poll phase's sockets
 * share one wake, made when the phase ends; a thread still running drains its port without one.
 */
function wake(slot: Slot): void {
  slot.wakeNow();
}

class Slot {
  worker!: Worker;
  /** Jobs given to the thread, in the order it runs them; the first is running (or about to). */
  readonly sent: Job[] = [];
  loaded = false;
  ready!: Promise<void>;
  /** The version the thread runs evaluations posted now on (its start bundle, then each commit). */
  version!: string;
  private timer: NodeJS.Timeout | undefined;
  /** The thread's end of the hand-off (eval-worker-main.ts): its port and the two counters. */
  private port!: MessagePort;
  private signal!: Int32Array;
  /** Answers counted so far: the counter value the next wait is for. */
  private answered = 0;
  private running!: Int32Array;
  private startedAt!: Float64Array;
  /** The watchdog's first reading of the thread's CPU clock during the evaluation `id`. */
  private sample: { id: number; cpuMs: number } | undefined;
  private seq = 0;
  /** A wake of the thread is scheduled for the end of this turn's poll phase. */
  private waking = false;

  constructor(private readonly pool: WorkerPool) {
    this.start();
  }

  start(): void {
    this.loaded = false;
    const p = this.pool;
    this.version = p.compiled.version;
    const progress = new SharedArrayBuffer(16);
    this.running = new Int32Array(progress, 0, 2);
    this.startedAt = new Float64Array(progress, 8, 1);
    this.sample = undefined;
    const signal = new SharedArrayBuffer(8);
    this.signal = new Int32Array(signal);
    this.answered = 0;
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(p.script(), {
      workerData: { wasm: p.compiled.wasm, data: p.compiled.data, version: p.compiled.version, limits: p.limits, port: port2, signal, progress },
      transferList: [port2],
      // A young generation of 3 MiB (1 MiB semi-spaces): an evaluation's garbage is a few strings
      // that die at once, so a larger one only holds ~8 MiB more per thread, at no gain in CPU.
      resourceLimits: { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 3 },
    });
    let ready!: (m: { ready: boolean; error?: string }) => void;
    this.ready = new Promise((resolve, reject) => {
      ready = (m) => (m.ready ? ((this.loaded = true), resolve()) : reject(new Error(m.error)));
      this.worker.once('error', reject);
    });
    this.listen(this.worker, ready);
    this.worker.on('error', (err: Error) => {
      // The thread runs its jobs in order: the first one crashed it. Replace the thread before
      // answering, so the rest (re-sent once the new thread is ready) and the next go to a live one.
      const culprit = this.loaded ? this.sent.shift() : undefined;
      if (this.loaded && !this.pool.closed) this.restart();
      if (culprit) {
        culprit.resolve({ kind: 'error', message: `evaluation thread crashed: ${err.message}`, version: culprit.version ?? this.version });
        this.finished();
      }
    });
    // An idle engine nobody closed must not keep the process alive; a loading or busy one must
    // (run() refs, finished() unrefs). Done after the listeners: attaching one refs the port again.
    this.ready.then(
      () => {
        for (const job of this.sent) this.post(job);
        if (!this.sent.length) this.worker.unref();
      },
      (err: Error) => {
        this.worker.unref();
        this.failAll(`evaluation thread failed to start: ${err.message}`);
      },
    );
  }

  /**
   * Waits (without blocking) for the thread's next answers and handles them in order; one wait is
   * outstanding per thread. A replaced thread's wait is woken by restart() and ends here.
   */
  private listen(worker: Worker, ready: (m: { ready: boolean; error?: string }) => void): void {
    const wait = Atomics.waitAsync(this.signal, 1, this.answered);
    const drain = (): void => {
      if (worker !== this.worker) return;
      this.answered = Atomics.load(this.signal, 1);
      for (let r = receiveMessageOnPort(this.port); r !== undefined; r = receiveMessageOnPort(this.port)) {
        const m = r.message as Answer;
        if (m.ready !== undefined) ready(m as { ready: boolean; error?: string });
        else this.onAnswer(m);
        if (worker !== this.worker) return;
      }
      this.listen(worker, ready);
    };
    if (wait.async) void wait.value.then(drain);
    else drain();
  }

  private onAnswer(m: Answer): void {
    if (m.prepared !== undefined) return this.onPrepared(m.prepared, m.ok === true, m.error);
    const head = this.sent[0];
    if (m.id === undefined || !head || m.id !== head.id) return;
    this.sent.shift();
    const version = head.version ?? this.version;
    head.resolve(m.ok && typeof m.json === 'string' ? { kind: 'result', json: m.json, version } : { kind: 'error', message: m.error ?? 'unknown error', version });
    this.finished();
  }

  /** Hands a message to the thread: posted on its port now, its counter bumped (to wake it) at the end of the poll phase. */
  private send(message: object, transfer?: Transferable[]): void {
    this.port.postMessage(message, transfer as never);
    if (this.waking) return;
    this.waking = true;
    setImmediate(wake, this);
  }

  /** Bumps the thread's counter once for every post since the last wake (see wake()). */
  wakeNow(): void {
    this.waking = false;
    Atomics.add(this.signal, 0, 1);
    Atomics.notify(this.signal, 0);
  }

  /** Whether the thread can take `job` now: when idle, or when it and everything held are small. */
  takes(job: Job): boolean {
    if (this.sent.length === 0) return true;
    return this.sent.length < depth && this.loaded && job.input.length <= smallInput && this.sent.every((j) => j.input.length <= smallInput);
  }

  run(job: Job): void {
    this.seq = this.seq >= 0x7ffffffe ? 1 : this.seq + 1;
    job.id = this.seq;
    job.posted = false;
    this.sent.push(job);
    if (this.sent.length === 1) {
      this.worker.ref();
      this.arm(this.pool.checkEveryMs);
    }
    if (this.loaded) this.post(job);
    else this.ready.catch(() => this.failAll('evaluation thread failed to start'));
  }

  private post(job: Job): void {
    if (job.posted) return;
    job.posted = true;
    if (job === this.sent[0]) job.since = Date.now();
    job.version = this.version;
    this.send({ id: job.id, input: job.input, nowNs: job.nowNs });
  }

  /** After the head job was answered: the next one's ceiling starts now; an idle thread lets go. */
  private finished(): void {
    const next = this.sent[0];
    if (next) {
      if (next.posted) next.since = Date.now();
      if (!this.timer) this.arm(this.pool.checkEveryMs);
    } else {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.worker.unref();
    }
    this.pool.next(this);
  }

  private arm(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.check(), Math.max(2, Math.ceil(ms)));
  }

  /**
   * The watchdog, every `checkEveryMs` while the thread holds work: how much CPU the running
   * evaluation has used. The thread does not read its clock per evaluation (a /proc read costs more
   * than a small evaluation); the watchdog reads it when it first sees an evaluation running and
   * counts from there. What ran before that reading is not counted, so an evaluation is ended
   * after between its budget and its budget plus one check interval of its own CPU time. Over the
   * budget (or past the wall-clock ceiling) it is ended.
   */
  private check(): void {
    this.timer = undefined;
    const head = this.sent[0];
    if (!head) return;
    const budget = this.pool.timeoutMs;
    const now = Date.now();
    let used = 0;
    if (this.loaded && head.posted && Atomics.load(this.running, 0) === head.id) {
      const tid = Atomics.load(this.running, 1);
      const cpuNow = tid ? threadCpuMs(tid) : undefined;
      if (cpuNow === undefined) used = now - this.startedAt[0]!; // no thread clock: wall-clock time since it began
      else if (this.sample?.id === head.id) used = cpuNow - this.sample.cpuMs;
      else this.sample = { id: head.id, cpuMs: cpuNow };
    }
    const version = head.version ?? this.version;
    if (used >= budget) return this.end(head, { kind: 'timeout', budgetMs: budget, version });
    if (head.since !== undefined && now - head.since >= this.pool.wallCeilingMs) {
      return this.end(head, { kind: 'timeout', budgetMs: budget, wallMs: this.pool.wallCeilingMs, version });
    }
    this.arm(Math.min(this.pool.checkEveryMs, budget - used));
  }

  /** Ends the head job: kills the thread (it may be stuck in WASM) and starts a fresh one for the rest. */
  private end(head: Job, outcome: PoolOutcome): void {
    this.sent.shift();
    if (!this.pool.closed) this.restart();
    head.resolve(outcome);
    this.finished();
  }

  private failAll(message: string): void {
    for (const job of this.sent.splice(0)) job.resolve({ kind: 'error', message, version: job.version ?? this.version });
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Answers every job this thread holds as unloaded (the pool is closing). */
  drop(): void {
    this.preparing?.reject(new Error('the evaluation pool is closed'));
    this.preparing = undefined;
    for (const job of this.sent.splice(0)) job.resolve({ kind: 'no-policy', message: 'policy was unloaded', version: this.version });
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The prepare under way: settled by the thread's answer, or when the thread is replaced. */
  private preparing: { seq: number; worker: Worker; resolve: (w: Worker) => void; reject: (e: Error) => void } | undefined;

  private onPrepared(seq: number, ok: boolean, error?: string): void {
    const p = this.preparing;
    if (!p || p.seq !== seq) return;
    this.preparing = undefined;
    if (ok) p.resolve(p.worker);
    else p.reject(new Error(error ?? 'unknown error'));
  }

  /**
   * Has the thread instantiate `compiled` beside its live policy. Resolves with the thread asked;
   * rejects when it cannot load it. A thread replaced meanwhile (a timeout) counts as prepared: the
   * commit starts its replacement on the new policy.
   */
  prepare(seq: number, compiled: CompiledPolicy): Promise<Worker> {
    const worker = this.worker;
    return new Promise((resolve, reject) => {
      this.preparing = { seq, worker, resolve, reject };
      this.send({ prepare: seq, wasm: compiled.wasm, data: compiled.data, version: compiled.version });
    });
  }

  /** Makes the prepared policy live for evaluations posted from now on (`prepared`: the thread that prepared it). */
  commit(seq: number, prepared: Worker): void {
    if (this.worker !== prepared) return this.restart();
    this.send({ commit: seq });
    this.version = this.pool.compiled.version;
  }

  abort(seq: number): void {
    this.preparing = undefined;
    this.send({ abort: seq });
  }

  /** Starts a new thread on the pool's current policy (one still starting on an older one). */
  replace(): void {
    this.restart();
  }

  /** Replaces the thread; jobs it held are sent again, in order, once the new one is ready. */
  private restart(): void {
    const old = this.worker;
    const preparing = this.preparing;
    this.preparing = undefined;
    preparing?.resolve(old);
    old.removeAllListeners();
    void old.terminate();
    // Ends the old thread's outstanding wait (listen() sees the thread was replaced).
    Atomics.notify(this.signal, 1);
    this.port.close();
    for (const job of this.sent) job.posted = false;
    this.start();
    this.ready.catch(() => undefined);
  }
}

export class WorkerPool {
  private readonly slots: Slot[];
  /** Waiting jobs per key; the Map's order is the rotation (a served key moves to the back). */
  private readonly queues = new Map<string, Job[]>();
  private queued = 0;
  closed = false;
  /** Wall-clock ceiling of one evaluation from when it is next to run (a machine starved for minutes). */
  readonly wallCeilingMs: number;
  /** How often the watchdog looks at a busy thread (its CPU clock is read then, not per evaluation). */
  readonly checkEveryMs: number;

  /** Serializes reloads; the sequence numbers a thread's prepare and commit. */
  private reloading: Promise<unknown> = Promise.resolve();
  private reloads = 0;

  constructor(
    public compiled: CompiledPolicy,
    readonly limits: EvaluatorLimits,
    readonly timeoutMs: number,
    size: number,
    /** The URL a thread starts from (eval-worker-script.ts). */
    readonly script: () => URL,
  ) {
    this.wallCeilingMs = Math.max(20 * timeoutMs, 10_000);
    this.checkEveryMs = Math.max(2, timeoutMs / 4);
    this.slots = Array.from({ length: size }, () => new Slot(this));
  }

  /** Resolves when every thread has loaded the bundle; rejects with the load error otherwise. */
  async ready(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.ready));
  }

  /**
   * Loads `compiled` into every thread and makes it live in all at once: evaluations already handed
   * to a thread finish on the old policy, later ones use the new one. If any thread cannot load it
   * (or does not answer within `timeoutMs`), none switches and the error is thrown.
   */
  reload(compiled: CompiledPolicy, timeoutMs = 30_000): Promise<void> {
    const run = this.reloading.then(() => this.reloadNow(compiled, timeoutMs));
    this.reloading = run.catch(() => undefined);
    return run;
  }

  private async reloadNow(compiled: CompiledPolicy, timeoutMs: number): Promise<void> {
    if (this.closed) throw new Error('the evaluation pool is closed');
    const seq = ++this.reloads;
    // A thread still starting loads the new policy from scratch instead (rare: after a timeout).
    const live = this.slots.filter((s) => s.loaded);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the evaluation threads did not load the policy within ${timeoutMs} ms`)), timeoutMs);
    });
    let prepared: Worker[];
    try {
      prepared = await Promise.race([Promise.all(live.map((s) => s.prepare(seq, compiled))), deadline]);
    } catch (err) {
      for (const s of live) s.abort(seq);
      throw err;
    } finally {
      clearTimeout(timer);
    }
    if (this.closed) throw new Error('the evaluation pool is closed');
    this.compiled = compiled;
    live.forEach((s, i) => s.commit(seq, prepared[i]!));
    for (const s of this.slots) if (!live.includes(s)) s.replace();
  }

  /** Evaluates `input`; `key` (the agent) is whose turn it waits for when every thread is full. */
  evaluate(input: string, nowNs: number, key = ''): Promise<PoolOutcome> {
    if (this.closed) return Promise.resolve({ kind: 'no-policy', message: 'policy was unloaded', version: this.compiled.version });
    return new Promise((resolve) => {
      const job: Job = { input, nowNs, resolve };
      let slot: Slot | undefined;
      for (const s of this.slots) if (s.takes(job) && (!slot || s.sent.length < slot.sent.length)) slot = s;
      // Nothing overtakes a waiting job: with a queue, the new job queues too.
      if (slot && this.queued === 0) return slot.run(job);
      const waiting = this.queues.get(key);
      if (waiting) waiting.push(job);
      else this.queues.set(key, [job]);
      this.queued++;
    });
  }

  /** Called by a slot when it can take more: the next keys in turn get it. */
  next(slot: Slot): void {
    while (!this.closed) {
      const first = this.queues.entries().next();
      if (first.done) return;
      const [key, waiting] = first.value;
      // The next in turn, or nobody: a job never overtakes the one whose turn it is.
      if (!slot.takes(waiting[0]!)) return;
      const job = waiting.shift()!;
      this.queues.delete(key);
      if (waiting.length) this.queues.set(key, waiting);
      this.queued--;
      slot.run(job);
    }
  }

  get inFlight(): number {
    let n = this.queued;
    for (const s of this.slots) n += s.sent.length;
    return n;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const waiting of this.queues.values()) for (const job of waiting) job.resolve({ kind: 'no-policy', message: 'policy was unloaded', version: this.compiled.version });
    this.queues.clear();
    this.queued = 0;
    for (const s of this.slots) s.drop();
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
