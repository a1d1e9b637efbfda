// A file that stands for a stalled disk (a hung network file system, a failing drive retrying): a
// write to it does not fail, it just does not come back.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir, type Teardown } from '../temp-dir.ts';

/**
 * A file in a fresh folder that stands for a stalled disk: a FIFO held open for reading and never
 * read (the writer can open it; nothing it writes past the pipe's 64 KiB goes anywhere). `full`:
 * the pipe filled first, so that every write stalls from the first byte.
 */
export function stalledFile(t: Teardown, prefix: string, name: string, opts: { full?: boolean } = {}): { dir: string; fifo: string } {
  const dir = tempDir(t, prefix);
  const fifo = path.join(dir, name);
  execFileSync('mkfifo', ['-m', '600', fifo]);
  const keepOpen = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  t.teardown(() => fs.closeSync(keepOpen));
  if (opts.full) {
    const filler = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    try {
      for (let i = 0; i < 64; i++) fs.writeSync(filler, Buffer.alloc(4096, 0x0a));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    } finally {
      fs.closeSync(filler);
    }
  }
  return { dir, fifo };
}
