// Timings taken on a shared machine (CI runs two test files at once on two cores, each starting
// servers, browsers and proxies): a moment of someone else's load can put one reading over any
// bound. A reading over its bound is taken once more and the better one kept; a real regression
// is over the bound both times.

/** `measure()`'s result, or when that is not under `bound`, the smaller of it and a second try. */
export async function underBoundOnRetry(measure: () => Promise<number>, bound: number): Promise<number> {
  const first = await measure();
  if (first < bound) return first;
  return Math.min(first, await measure());
}
