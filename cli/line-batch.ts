// Lines for a stream, written at most every BATCH_MS: under load the per-request log becomes one
// write for many requests instead of a system call for each (or for each turn of the event loop,
// which under load is one or two requests). A line waits at most BATCH_MS — not noticeable on a
// terminal, and the audit log, not this, is the record — and what is pending is written before
// the process exits, or at once when it passes MAX_PENDING characters.
const BATCH_MS = 25;
const MAX_PENDING = 64 * 1024;

export function lineBatcher(out: NodeJS.WritableStream): { write: (line: string) => void; flush: () => void } {
  let pending = '';
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    clearTimeout(timer);
    timer = undefined;
    if (!pending) return;
    const text = pending;
    pending = '';
    out.write(text);
  };
  process.once('exit', flush);
  return {
    write(line) {
      pending += `${line}\n`;
      if (pending.length >= MAX_PENDING) flush();
      else if (!timer) timer = setTimeout(flush, BATCH_MS).unref();
    },
    flush,
  };
}
