// The scrubbing of streamed bodies (answers from hosts that got a secret, uploads through the body
// guard), in turns. Each burst of a stream was scrubbed a microtask after its read, so every
// stream with data in one poll of the event loop was scrubbed before anything else ran: one agent's
// 100 downloads at once (an agent may keep 512 open) put ~100 chunks of scrubbing (a few ms each)
// ahead of every step of every other agent's request (a neighbour's GET p50 6 ms → ~1 s).
//
// A burst is still scrubbed a microtask after its read while little scrubbing ran in this turn of
// the event loop (SLICE_MS) and nothing waits; past that, bursts wait here, each agent's in its own
// queue, and run agents taking turns, at most SLICE_MS per turn of the event loop, after its I/O
// (a neighbour's request steps in between). A stream's bursts stay in order: one waiting means every
// later one waits too, and each agent's queue is first in, first out.

/** Main-thread time scrubbing may take in one turn of the event loop before the rest waits for the next. */
const SLICE_MS = 4;

type Job = () => void;

const queues = new Map<string, Job[]>();
let scheduled = false;
/** Scrubbing run at once (a microtask after its read) in this turn of the event loop, in ms. */
let spent = 0;
let resetting = false;

/** Runs `job` soon, in `owner`'s turn when scrubbing is behind (owner: the agent; '' when unknown: at once). */
export function inTurn(owner: string, job: Job): void {
  if (owner === '') return queueMicrotask(job);
  if (queues.size === 0 && spent < SLICE_MS) {
    queueMicrotask(() => timed(job));
    return;
  }
  const q = queues.get(owner);
  if (q) q.push(job);
  else queues.set(owner, [job]);
  if (!scheduled) {
    scheduled = true;
    setImmediate(runTurns);
  }
}

function run(job: Job): void {
  try {
    job();
  } catch {
    /* a job reports its own failures (it destroys its stream) */
  }
}

function timed(job: Job): void {
  const t = performance.now();
  run(job);
  spent += performance.now() - t;
  if (!resetting) {
    resetting = true;
    setImmediate(resetSpent);
  }
}

function resetSpent(): void {
  spent = 0;
  resetting = false;
}

function runTurns(): void {
  const until = performance.now() + SLICE_MS;
  while (queues.size) {
    // The first owner in turn runs one job and goes to the back.
    const [owner, q] = queues.entries().next().value as [string, Job[]];
    queues.delete(owner);
    const job = q.shift()!;
    if (q.length) queues.set(owner, q);
    run(job);
    if (performance.now() >= until) break;
  }
  if (queues.size) setImmediate(runTurns);
  else scheduled = false;
}
