// CPU time of one thread, so the evaluation budget counts the policy's own running time and not the
// time its thread spent waiting for a core on a busy machine. Linux keeps it per thread in
// /proc/<pid>/task/<tid>/schedstat (first field: nanoseconds on a CPU). Elsewhere these return
// undefined and the caller falls back to wall-clock time.
import fs from 'node:fs';

const procSelf = '/proc/thread-self';

function firstFieldMs(text: string): number | undefined {
  const ns = Number.parseInt(text, 10);
  return Number.isFinite(ns) ? ns / 1e6 : undefined;
}

/** The calling thread's id, read from /proc/thread-self (a link to "<pid>/task/<tid>"); throws without it. */
function procThreadId(): number {
  const link = fs.readlinkSync(procSelf);
  return Number(link.slice(link.lastIndexOf('/') + 1));
}

/** The calling thread's id (for threadCpuMs in another thread), or undefined without /proc. */
export function ownThreadId(): number | undefined {
  try {
    const tid = procThreadId();
    return Number.isInteger(tid) && tid > 0 && threadCpuMs(tid) !== undefined ? tid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The calling thread's own CPU clock: its id (for threadCpuMs in another thread) and a reader that
 * costs one pread on a file kept open. Undefined when the system does not provide it.
 */
export function ownThreadClock(): { tid: number; cpuMs: () => number | undefined } | undefined {
  try {
    const tid = procThreadId();
    const fd = fs.openSync(`${procSelf}/schedstat`, 'r');
    const buf = Buffer.alloc(96);
    const cpuMs = (): number | undefined => {
      try {
        const n = fs.readSync(fd, buf, 0, buf.length, 0);
        return firstFieldMs(buf.toString('latin1', 0, n));
      } catch {
        return undefined;
      }
    };
    if (!Number.isInteger(tid) || tid <= 0 || cpuMs() === undefined) {
      fs.closeSync(fd);
      return undefined;
    }
    return { tid, cpuMs };
  } catch {
    return undefined;
  }
}

/** CPU time (ms) another thread of this process has run so far, or undefined. */
export function threadCpuMs(tid: number): number | undefined {
  try {
    return firstFieldMs(fs.readFileSync(`/proc/self/task/${tid}/schedstat`, 'latin1'));
  } catch {
    return undefined;
  }
}
