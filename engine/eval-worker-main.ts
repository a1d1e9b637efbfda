// Runs one Evaluator inside a worker thread, so the engine can stop a runaway evaluation by
// terminating the thread. Messages come on a MessagePort of their own (`port`), in order:
//   {id, input, nowNs}                      evaluate; answered {id, ok, json|error} (the result set
//                                           as JSON text: a string crosses threads cheaply, and the
//                                           main thread's decision cache is keyed by it)
//   {prepare, wasm, data, version}          instantiate a new policy beside the live one; answered
//                                           {prepared, ok, error?}
//   {commit} / {abort}                      make the prepared policy live / drop it
// Messages run in order, so evaluations posted before a commit finish on the old policy and those
// after it use the new one: every thread of the pool swaps or none does.
//
// The hand-off is built for cost: the thread never returns to its event loop once started. It
// sleeps in Atomics.wait on a counter the main thread bumps after its posts, drains the port with
// receiveMessageOnPort, and after each answer bumps a counter the main thread waits on
// (Atomics.waitAsync). A MessagePort's own wake-ups and event dispatch cost several times more per
// evaluation (bench/README.md, "hand-off"). worker.terminate() still ends the thread, asleep or
// stuck in WASM.
//
// While one evaluation runs, the shared `progress` block says which one and since when (wall
// clock); worker-pool.ts's watchdog samples this thread's CPU clock to judge the budget.
import v8 from 'node:v8';
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { Evaluator, errorText, type EvaluatorLimits } from './evaluator.ts';
import { ownThreadId } from './thread-cpu.ts';

interface Init {
  wasm: Uint8Array;
  data: unknown;
  version: string;
  limits: EvaluatorLimits;
  port: MessagePort;
  /** Int32 [posted, answered]: bumped by the main thread per message, by this thread per answer. */
  signal: SharedArrayBuffer;
  /** Int32 [running id (0: none), tid (0: no thread clock)], then Float64 [wall ms at start]. */
  progress: SharedArrayBuffer;
}

type Message =
  | { id: number; input: string; nowNs: number }
  | { prepare: number; wasm: Uint8Array; data: unknown; version: string }
  | { commit: number }
  | { abort: number };

/** V8's default is 1,800,000 (bytes of code run before a function is optimized). */
const WASM_TIERING_BUDGET = 18_000;

const init = workerData as Init;
const port = init.port;
const signal = new Int32Array(init.signal);
const running = new Int32Array(init.progress, 0, 2);
const startedAt = new Float64Array(init.progress, 8, 1);

function answer(reply: object): void {
  port.postMessage(reply);
  Atomics.add(signal, 1, 1);
  Atomics.notify(signal, 1);
}

// The policy runs on every request: V8 first runs WebAssembly in its baseline compiler (Liftoff,
// about half the speed of TurboFan for a policy) and optimizes a function once it has run about
// 1.8 MB of code. For a policy that is several thousand evaluations, seconds of load after every
// start and reload. A budget a hundred times smaller optimizes it within the first hundred or so.
// The flag is V8's, process-wide, read when a module is compiled: other WebAssembly (the SQL
// parsers) tiers up sooner too, which is only ever the same code earlier.
v8.setFlagsFromString(`--wasm-tiering-budget=${WASM_TIERING_BUDGET}`);

let evaluator: Evaluator;
try {
  Atomics.store(running, 1, ownThreadId() ?? 0);
  evaluator = Evaluator.loadSync({ wasm: Buffer.from(init.wasm), data: init.data, version: init.version }, init.limits);
  answer({ ready: true });
} catch (err) {
  answer({ ready: false, error: errorText(err) });
  throw err;
}

let pending: { seq: number; evaluator: Evaluator } | undefined;

function handle(msg: Message): void {
  if ('prepare' in msg) {
    pending = undefined;
    try {
      pending = { seq: msg.prepare, evaluator: Evaluator.loadSync({ wasm: Buffer.from(msg.wasm), data: msg.data, version: msg.version }, init.limits) };
      answer({ prepared: msg.prepare, ok: true });
    } catch (err) {
      answer({ prepared: msg.prepare, ok: false, error: errorText(err) });
    }
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
  startedAt[0] = Date.now();
  Atomics.store(running, 0, msg.id);
  let reply: { id: number; ok: boolean; json?: string; error?: string };
  try {
    reply = { id: msg.id, ok: true, json: evaluator.evaluate(msg.input, msg.nowNs) };
  } catch (err) {
    reply = { id: msg.id, ok: false, error: errorText(err) };
  }
  Atomics.store(running, 0, 0);
  answer(reply);
}

/** Blocks until the main thread posts again after `seen` (bench/lib/profile.ts counts it as idle by name). */
function sleepUntilPosted(seen: number): void {
  Atomics.wait(signal, 0, seen);
}

for (;;) {
  // Read the counter before draining: a post that lands after the drain changes it, so the wait
  // below returns at once instead of sleeping through it.
  const seen = Atomics.load(signal, 0);
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) handle(m.message as Message);
  sleepUntilPosted(seen);
}
