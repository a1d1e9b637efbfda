// What the evaluation threads start from: engine/eval-worker-main.ts and the engine files it
// imports, bundled into one JavaScript module (lib/bundle.js), so a thread loads no TypeScript
// loader. Built on first use in a process, rebuilt whenever a source it was built from changed.
//
// A process keeps the text of the bundle it started with: a thread started later (the
// replacement of one the watchdog ended) starts from the same code, and if the file has been
// pruned meanwhile it is written back first.
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ensureBundle } from '../lib/bundle.js';

let script: { file: string; code: Buffer } | undefined;

/** A function giving the URL to start an evaluation thread from. Throws when the bundle cannot be built. */
export function evalWorkerScript(): () => URL {
  if (!script) {
    let built;
    try {
      built = ensureBundle({ entry: 'engine/eval-worker-main.ts', name: 'eval-worker' });
    } catch (err) {
      throw new Error(`evaluation thread code: ${(err as Error).message}`);
    }
    script = { file: built.file, code: fs.readFileSync(built.file) };
  }
  const { file, code } = script;
  const url = pathToFileURL(file);
  return () => {
    if (!fs.existsSync(file)) {
      const tmp = `${file}.tmp-${process.pid}`;
      fs.writeFileSync(tmp, code);
      fs.renameSync(tmp, file);
    }
    return url;
  };
}
