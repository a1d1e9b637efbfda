// A small pool of evaluation threads with a deadline per evaluation. A policy that runs past its
// budget cannot be interrupted inside the main thread (WASM runs to completion), so evaluations run
// in workers; on a timeout the worker is terminated and replaced, and the request is denied.
// Waiting evaluations are served round-robin by key (the agent): an agent that queues hundreds of
// large requests waits behind its own, never in front of another agent's next one.
import { Worker } from 'node:worker_threads';
import type { CompiledPolicy } from './compile.ts';
import type { EvaluatorLimits } from './evaluator.ts';
import type { RawOutcome } from './interpret.ts';

interface Job {
  input: string;
  nowNs: number;
  resolve: (o: RawOutcome) => void;
}

const workerUrl = new URL('./eval-worker.js', import.meta.url);

class Slot {
  worker!: Worker;
  busy: Job | undefined;
  timer: NodeJS.Timeout | undefined;
  loaded = false;
  ready!: Promise<void>;
  private seq = 0;

  constructor(private readonly pool: WorkerPool) {
    this.start();
  }

  start(): void {
    this.loaded = false;
    const p = this.pool;
    this.worker = new Worker(workerUrl, {
      workerData: { wasm: p.compiled.wasm, data: p.compiled.data, version: p.compiled.version, limits: p.limits },
      resourceLimits: { maxOldGenerationSizeMb: 256 },
    });
    this.ready = new Promise((resolve, reject) => {
      const onMsg = (m: { ready?: boolean; error?: string }): void => {
        if (m.ready === undefined) return;
        this.worker.off('message', onMsg);
        if (m.ready) {
          this.loaded = true;
          resolve();
        }
        else reject(new Error(m.error));
      };
      this.worker.on('message', onMsg);
      this.worker.once('error', reject);
    });
    this.worker.on('message', (m: { id?: number; ok?: boolean; json?: string; error?: string }) => {
      if (m.id === undefined || !this.busy || m.id !== this.seq) return;
      this.finish(m.ok && typeof m.json === 'string' ? { kind: 'result', json: m.json } : { kind: 'error', message: m.error ?? 'unknown error' });
    });
    this.worker.on('error', (err: Error) => {
      // Replace the thread before finishing the job, so the next queued job goes to a live one.
      if (this.loaded && !this.pool.closed) this.restart();
      if (this.busy) this.finish({ kind: 'error', message: `evaluation thread crashed: ${err.message}` });
    });
    // An idle engine nobody closed must not keep the process alive; a loading or busy one must
    // (run() refs, finish() unrefs). Done after the listeners: attaching one refs the port again.
    this.ready.then(() => { if (!this.busy) this.worker.unref(); }, () => this.worker.unref());
  }

  run(job: Job): void {
    this.busy = job;
    this.worker.ref();
    const id = ++this.seq;
    // The deadline starts when the thread is ready: a thread still loading after a restart must
    // not make the next request time out.
    this.ready.then(
      () => {
        if (this.busy !== job || this.seq !== id) return;
        this.timer = setTimeout(() => {
          this.restart();
          this.finish({ kind: 'timeout', budgetMs: this.pool.timeoutMs });
        }, this.pool.timeoutMs);
        this.worker.postMessage({ id, input: job.input, nowNs: job.nowNs });
      },
      (err: Error) => this.finish({ kind: 'error', message: `evaluation thread failed to start: ${err.message}` }),
    );
  }

  private finish(outcome: RawOutcome): void {
    clearTimeout(this.timer);
    const job = this.busy;
    this.busy = undefined;
    this.worker.unref();
    job?.resolve(outcome);
    this.pool.next(this);
  }

  /** Kills the thread (it may be stuck in WASM) and starts a fresh one; jobs posted meanwhile wait in its port. */
  private restart(): void {
    const old = this.worker;
    old.removeAllListeners();
    void old.terminate();
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

  constructor(
    readonly compiled: CompiledPolicy,
    readonly limits: EvaluatorLimits,
    readonly timeoutMs: number,
    size: number,
  ) {
    this.slots = Array.from({ length: size }, () => new Slot(this));
  }

  /** Resolves when every thread has loaded the bundle; rejects with the load error otherwise. */
  async ready(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.ready));
  }

  /** Evaluates `input`; `key` (the agent) is whose turn it waits for when every thread is busy. */
  evaluate(input: string, nowNs: number, key = ''): Promise<RawOutcome> {
    if (this.closed) return Promise.resolve({ kind: 'no-policy', message: 'policy was unloaded' });
    return new Promise((resolve) => {
      const job = { input, nowNs, resolve };
      const idle = this.slots.find((s) => !s.busy);
      if (idle) return idle.run(job);
      const waiting = this.queues.get(key);
      if (waiting) waiting.push(job);
      else this.queues.set(key, [job]);
      this.queued++;
    });
  }

  /** Called by a slot when it becomes free: the next key in turn gets it. */
  next(slot: Slot): void {
    const first = this.queues.entries().next();
    if (first.done) return;
    const [key, waiting] = first.value;
    const job = waiting.shift()!;
    this.queues.delete(key);
    if (waiting.length) this.queues.set(key, waiting);
    this.queued--;
    slot.run(job);
  }

  get inFlight(): number {
    return this.queued + this.slots.filter((s) => s.busy).length;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const waiting of this.queues.values()) for (const job of waiting) job.resolve({ kind: 'no-policy', message: 'policy was unloaded' });
    this.queues.clear();
    this.queued = 0;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
