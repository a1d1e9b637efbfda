// Runs one Evaluator inside a worker thread, so the engine can stop a runaway evaluation by
// terminating the thread. Messages: {id, input, nowNs} in; {id, ok, json|error} out (the result
// set as JSON text: a string crosses threads cheaper than an object, and the main thread's
// decision cache is keyed by it). Several evaluations may wait in the port; they run in order.
//
// While one runs, the shared `progress` block says which one and this thread's CPU clock when it
// began (worker-pool.ts's watchdog reads it: the budget is this thread's CPU time, not time spent
// queued or waiting for a core).
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

const init = workerData as Init;
const port = parentPort!;
const running = new Int32Array(init.progress, 0, 2);
const startedAt = new Float64Array(init.progress, 8, 2);

try {
  const clock = ownThreadClock();
  Atomics.store(running, 1, clock?.tid ?? 0);
  const evaluator = await Evaluator.load({ wasm: Buffer.from(init.wasm), data: init.data, version: init.version }, init.limits);
  port.on('message', (msg: { id: number; input: string; nowNs: number }) => {
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
