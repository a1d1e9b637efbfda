// Polls `fn` until it gives a value (not undefined or false), bounded in time: for tests that wait
// on another process (a replica, a database notice) to catch up.
export async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 20_000, everyMs = 25): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
