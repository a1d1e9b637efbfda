// Runs one Evaluator inside a worker thread, so the engine can stop a runaway evaluation by
// terminating the thread. Messages: {id, input, nowNs} in; {id, ok, json|error} out (the result
// set as JSON text: a string crosses threads cheaper than an object, and the main thread's
// decision cache is keyed by it).
import { parentPort, workerData } from 'node:worker_threads';
import { Evaluator, errorText, type EvaluatorLimits } from './evaluator.ts';

interface Init {
  wasm: Uint8Array;
  data: unknown;
  version: string;
  limits: EvaluatorLimits;
}

const init = workerData as Init;
const port = parentPort!;

try {
  const evaluator = await Evaluator.load({ wasm: Buffer.from(init.wasm), data: init.data, version: init.version }, init.limits);
  port.on('message', (msg: { id: number; input: string; nowNs: number }) => {
    try {
      port.postMessage({ id: msg.id, ok: true, json: evaluator.evaluate(msg.input, msg.nowNs) });
    } catch (err) {
      port.postMessage({ id: msg.id, ok: false, error: errorText(err) });
    }
  });
  port.postMessage({ ready: true });
} catch (err) {
  port.postMessage({ ready: false, error: errorText(err) });
}
