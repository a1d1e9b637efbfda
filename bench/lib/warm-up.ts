// Warming a contestant up until its CPU per request settles. V8 compiles JavaScript and WebAssembly
// while a process runs, on threads of the same process: a freshly started Airlock spends its first
// seconds compiling (~3× its steady cost per request in the first 4 s, bench/README.md "Fourth
// round"), so a short fixed warm-up measures the JIT as much as the proxy, and the more code a
// contestant has, the more. Windows of 3 s until two in a row are within 7 % of each other, at
// least `minS` and at most `maxS` seconds; the windows are returned for the report (the first is
// what a fresh process costs).
import { cpuTimeUs } from './proc.ts';

export interface WarmUp { seconds: number; cpuPerRequestUs: number[] }

export const WARM_WINDOW_S = 3;

/** `run(s)` loads the process for s seconds and resolves with the requests it served. */
export async function warmUntilSteady(pid: number, run: (s: number) => Promise<number>, minS: number, maxS: number): Promise<WarmUp> {
  const windows: number[] = [];
  let elapsed = 0;
  while (elapsed < maxS) {
    const s = Math.min(WARM_WINDOW_S, maxS - elapsed);
    const cpu0 = cpuTimeUs(pid);
    const served = await run(s);
    elapsed += s;
    windows.push(Math.round((cpuTimeUs(pid) - cpu0) / Math.max(1, served)));
    const [a, b] = windows.slice(-2);
    if (elapsed >= minS && windows.length >= 2 && Math.abs(b! - a!) <= 0.07 * a!) break;
  }
  return { seconds: elapsed, cpuPerRequestUs: windows };
}
