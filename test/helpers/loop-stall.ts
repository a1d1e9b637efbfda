// How long this process's event loop was held, in the thread's own CPU time. The tests that prove a
// hostile input no longer freezes an in-process Airlock measured it with monitorEventLoopDelay,
// which is wall time: on a loaded machine (a full test run, CI) a 250 ms stretch of work is
// preempted into 800 ms and the bound fails for the machine's load, not for the code. A ticker at
// every turn of the event loop reads the thread's CPU clock (engine/thread-cpu.ts): the most CPU
// spent between two ticks is the longest the loop was held, whatever the load. Where /proc gives
// no thread clock, wall time is measured instead.
import { ownThreadClock } from '../../engine/thread-cpu.ts';

export interface LoopStallWatch {
  /** Stops the ticker; the longest stretch between two turns, in ms of this thread's CPU time (`cpu`) and of wall time. */
  stop(): { cpuMs: number; wallMs: number };
}

/** Starts watching the event loop of the calling thread (bounded: the caller stops it). */
export function watchLoopStalls(): LoopStallWatch {
  const clock = ownThreadClock();
  const cpuNow = (): number => clock?.cpuMs() ?? performance.now();
  let lastCpu = cpuNow();
  let lastWall = performance.now();
  let cpuMs = 0;
  let wallMs = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = (): void => {
    const cpu = cpuNow();
    const wall = performance.now();
    cpuMs = Math.max(cpuMs, cpu - lastCpu);
    wallMs = Math.max(wallMs, wall - lastWall);
    lastCpu = cpu;
    lastWall = wall;
    if (!stopped) timer = setTimeout(tick, 1);
  };
  timer = setTimeout(tick, 1);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      tick();
      return { cpuMs, wallMs };
    },
  };
}
