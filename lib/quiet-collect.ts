// Memory given back when the process goes quiet. V8 sizes its heap for the load it last saw and
// collects when allocation needs it: after a busy stretch an idle proxy keeps ~20 MiB of garbage
// and grown spaces until the next request (Chrome sends V8 idle notifications for this; Node sends
// none). So once the event loop has been quiet for 10 s after the heap grew, the heap is
// collected once, in-process, through the inspector protocol (`HeapProfiler.collectGarbage`: no
// flag, no port). A collection runs only on a quiet loop, so no request waits behind it unless it
// arrives in those few milliseconds; under steady load it never runs. Not sooner: a collection
// shrinks the young generation, and load that comes back pays ~10–30 % more CPU a request while
// V8 grows it again (measured with 1.5 s: 5 s bursts 3 s apart went 405 → 465 → 494 µs a request,
// against 378, 335, 351 without it) — an agent's pauses between tool calls are often seconds.
import inspector from 'node:inspector';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';

export interface QuietCollectOptions {
  /** How often the loop is looked at (ms). */
  everyMs?: number;
  /** Quiet for this long (ms) before a collection. */
  quietMs?: number;
  /** The loop counts as quiet in a look when busy less than this share of it. */
  busyShare?: number;
  /** Collected only when the heap grew this much (bytes) since the last collection. */
  minGrowth?: number;
}

export interface QuietCollector {
  /** Collections made so far. */
  readonly collections: number;
  stop(): void;
}

/** Watches the event loop of this thread and collects its heap when quiet after growth (see the header). */
export function collectWhenQuiet(o: QuietCollectOptions = {}): QuietCollector {
  const everyMs = o.everyMs ?? 500;
  const quietMs = o.quietMs ?? 10_000;
  const busyShare = o.busyShare ?? 0.02;
  const minGrowth = o.minGrowth ?? 8 * 1024 * 1024;
  const heapSize = (): number => v8.getHeapStatistics().total_heap_size;
  let settled = heapSize();
  let last = performance.eventLoopUtilization();
  let quietFor = 0;
  let collecting = false;
  let collections = 0;
  let session: inspector.Session | undefined;
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const since = performance.eventLoopUtilization(now, last);
    last = now;
    quietFor = since.utilization < busyShare ? quietFor + everyMs : 0;
    if (collecting || quietFor < quietMs) return;
    if (heapSize() - settled < minGrowth) {
      // Nothing worth collecting: the heap shrank or barely grew since; measure growth from here.
      settled = Math.min(settled, heapSize());
      return;
    }
    collecting = true;
    try {
      // One session for the watcher's life: disconnecting from inside the answer's callback
      // deadlocks (the heap profiler agent still holds its lock there).
      if (!session) {
        session = new inspector.Session();
        session.connect();
      }
      session.post('HeapProfiler.collectGarbage', () => {
        collecting = false;
        collections++;
        settled = heapSize();
        quietFor = 0;
      });
    } catch {
      // No inspector in this Node build: nothing to give back, nothing lost.
      collecting = false;
      clearInterval(timer);
    }
  }, everyMs);
  timer.unref();
  return {
    get collections() {
      return collections;
    },
    stop: () => {
      clearInterval(timer);
      // Not from inside a post's callback (see above): stop() runs from the caller's own turn.
      const s = session;
      session = undefined;
      if (s) setImmediate(() => s.disconnect());
    },
  };
}
