// Watches the event loop while something runs: how many turns a 1 ms timer got and the longest gap
// between two of them (a step that holds the main thread shows as one long gap).
import { performance } from 'node:perf_hooks';

export interface LoopTurns {
  /** Stops watching: the turns counted and the longest gap in ms (up to now). */
  stop(): { turns: number; longest: number };
}

export function watchLoopTurns(): LoopTurns {
  let turns = 0;
  let longest = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    turns++;
  }, 1);
  return {
    stop() {
      longest = Math.max(longest, performance.now() - last);
      clearInterval(ticker);
      return { turns, longest };
    },
  };
}
