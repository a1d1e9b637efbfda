// What the evaluation threads start from: engine/eval-worker-main.ts and the engine files it
// imports, bundled into one JavaScript module (lib/bundle.js), so a thread loads no TypeScript
// loader. Built on first use in a process, rebuilt whenever a source it was built from changed.
//
// A process keeps the bundle it started with: a thread started later (the replacement of one the
// watchdog ended) runs the same code, written back first if another process pruned it meanwhile.
import { pathToFileURL } from 'node:url';
import { ensureBundle, keepBundle } from '../lib/bundle.js';

let script: (() => string) | undefined;

/** A function giving the URL to start an evaluation thread from. Throws when the bundle cannot be built. */
export function evalWorkerScript(): () => URL {
  if (!script) {
    try {
      script = keepBundle(ensureBundle({ entry: 'engine/eval-worker-main.ts', name: 'eval-worker' }));
    } catch (err) {
      throw new Error(`evaluation thread code: ${(err as Error).message}`);
    }
  }
  const file = script;
  return () => pathToFileURL(file());
}
