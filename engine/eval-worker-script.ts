// What the evaluation threads start from: engine/eval-worker-main.ts and the engine files it
// imports, bundled into one JavaScript module (lib/bundle.js), so a thread loads no TypeScript
// loader. Built on first use in a process, rebuilt whenever a source it was built from changed.
//
// A process keeps the text of the bundle it started with: a thread started later (the
// replacement of one the watchdog ended) starts from the same code, and if its files have been
// pruned meanwhile they are written back first.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureBundle } from '../lib/bundle.js';

let script: { file: string; dir: string; files: Map<string, Buffer> } | undefined;

/** A function giving the URL to start an evaluation thread from. Throws when the bundle cannot be built. */
export function evalWorkerScript(): () => URL {
  if (!script) {
    let built;
    try {
      built = ensureBundle({ entry: 'engine/eval-worker-main.ts', name: 'eval-worker' });
    } catch (err) {
      throw new Error(`evaluation thread code: ${(err as Error).message}`);
    }
    const files = new Map(fs.readdirSync(built.dir).map((f) => [f, fs.readFileSync(path.join(built.dir, f))] as const));
    script = { file: built.file, dir: built.dir, files };
  }
  const { file, dir, files } = script;
  const url = pathToFileURL(file);
  return () => {
    if (!fs.existsSync(file)) {
      const tmp = fs.mkdtempSync(path.join(path.dirname(dir), 'eval-worker.tmp-'));
      for (const [f, content] of files) fs.writeFileSync(path.join(tmp, f), content);
      try {
        fs.renameSync(tmp, dir);
      } catch (err) {
        fs.rmSync(tmp, { recursive: true, force: true });
        if (!fs.existsSync(file)) throw err;
      }
    }
    return url;
  };
}
