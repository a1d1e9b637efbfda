// Lines for a stream, written once per turn of the event loop: under load the per-request log
// becomes one write for many requests instead of a system call for each. Nothing is held longer
// than the current turn, and what is pending is written before the process exits.
export function lineBatcher(out: NodeJS.WritableStream): { write: (line: string) => void; flush: () => void } {
  let pending = '';
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (!pending) return;
    const text = pending;
    pending = '';
    out.write(text);
  };
  process.once('exit', flush);
  return {
    write(line) {
      pending += `${line}\n`;
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}
