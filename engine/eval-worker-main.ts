// Runs one Evaluator inside a worker thread, so the engine can stop a runaway evaluation by
// terminating the thread. Messages: {id, input, nowNs} in; {id, ok, json|error} out (the result
// set as JSON text: a string crosses threads cheaper than an object, and the main thread's
// decision cache is keyed by it). Several evaluations may wait in the port; they run in order.
//
// While one runs, the shared `progress` block says which one and this thread's CPU clock when it
// began (worker-pool.ts's watchdog reads it: the budget is this thread's CPU time, not time spent
// queued or waiting for a core).
//
// A new policy is loaded into the running thread in two steps, so every thread of the pool swaps
// or none does: {prepare, wasm, data, version} instantiates it beside the live one and answers
// {prepared, ok, error?}; {commit} makes it live, {abort} drops it. Messages run in order, so the
// evaluations posted before a commit finish on the old policy and those after it use the new one.
import { parentPort, workerData } from 'node:worker_threads';
import { Evaluator, errorText, type EvaluatorLimits } from './evaluator.ts';
import { ownThreadClock } from './thread-cpu.ts';

interface Init {
  wasm: Uint8Array;
  data: unknown;
  version: string;
  limits: EvaluatorLimits;
  /** Int32 [running id (0: none), tid (0: no thread clock)], then Float64 [CPU ms at start, wall ms at start]. */
  progress: SharedArrayBuffer;
}

type Message =
  | { id: number; input: string; nowNs: number }
  | { prepare: number; wasm: Uint8Array; data: unknown; version: string }
  | { commit: number }
  | { abort: number };

const init = workerData as Init;
const port = parentPort!;
const running = new Int32Array(init.progress, 0, 2);
const startedAt = new Float64Array(init.progress, 8, 2);

try {
  const clock = ownThreadClock();
  Atomics.store(running, 1, clock?.tid ?? 0);
  let evaluator = await Evaluator.load({ wasm: Buffer.from(init.wasm), data: init.data, version: init.version }, init.limits);
  let pending: { seq: number; evaluator: Evaluator } | undefined;
  // The latest prepare asked for: a load that finishes after a newer one was asked is dropped.
  let latest = 0;
  port.on('message', (msg: Message) => {
    if ('prepare' in msg) {
      pending = undefined;
      latest = msg.prepare;
      Evaluator.load({ wasm: Buffer.from(msg.wasm), data: msg.data, version: msg.version }, init.limits).then(
        (ev) => {
          if (msg.prepare !== latest) return;
          pending = { seq: msg.prepare, evaluator: ev };
          port.postMessage({ prepared: msg.prepare, ok: true });
        },
        (err: unknown) => port.postMessage({ prepared: msg.prepare, ok: false, error: errorText(err) }),
      );
      return;
    }
    if ('commit' in msg) {
      if (pending?.seq === msg.commit) evaluator = pending.evaluator;
      pending = undefined;
      return;
    }
    if ('abort' in msg) {
      if (pending?.seq === msg.abort) pending = undefined;
      return;
    }
    startedAt[0] = clock?.cpuMs() ?? Number.NaN;
    startedAt[1] = Date.now();
    Atomics.store(running, 0, msg.id);
    let reply: { id: number; ok: boolean; json?: string; error?: string };
    try {
      reply = { id: msg.id, ok: true, json: evaluator.evaluate(msg.input, msg.nowNs) };
    } catch (err) {
      reply = { id: msg.id, ok: false, error: errorText(err) };
    }
    Atomics.store(running, 0, 0);
    port.postMessage(reply);
  });
  port.postMessage({ ready: true });
} catch (err) {
  port.postMessage({ ready: false, error: errorText(err) });
}
