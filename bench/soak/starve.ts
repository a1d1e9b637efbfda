// CPU starvation: other work on the box while Airlock serves legitimate requests at a fixed rate.
// One busy-loop process per core (same priority as everything else) takes the cores, so requests
// and their policy evaluations wait for a turn. The evaluation budget (250 ms) is meant to stop a
// runaway policy, not to punish a request for waiting in a queue: every audit record with
// decision.fail_closed = "timeout" here is a legitimate request denied for the machine being busy.
import os from 'node:os';
import { auditCounts, type AuditCounts } from '../lib/airlock.ts';
import { runRate, type LoadResult, type Target } from '../lib/loadgen.ts';
import { start, type Proc } from '../lib/proc.ts';

export interface StarvationResult {
  burners: number;
  rps: number;
  seconds: number;
  load: LoadResult;
  audit: AuditCounts;
  /** Legitimate requests denied because their evaluation overran its budget. */
  timeoutDenials: number;
  loadavgAfter: number[];
}

/** Starts `n` processes that each spin one core until stopped. */
export function startBurners(n = os.cpus().length): Proc[] {
  return Array.from({ length: n }, (_, i) => start(`burner ${i + 1}`, process.execPath, ['-e', 'for (;;) {}']));
}

/** Open-loop load at `rps` through Airlock while `burners` busy loops run; counts fail-closed denials from its audit log. */
export async function starvation(target: Target, airlockHome: string, opts: { seconds: number; rps: number; burners?: number; connections?: number; onSample?: (elapsedMs: number) => void }): Promise<StarvationResult> {
  const burners = startBurners(opts.burners);
  const since = new Date();
  let load: LoadResult;
  try {
    load = await runRate(target, {
      rps: opts.rps, durationMs: opts.seconds * 1000, connections: opts.connections ?? 16,
      ...(opts.onSample ? { onSample: opts.onSample, sampleEveryMs: 10_000 } : {}),
    });
  } finally {
    await Promise.all(burners.map((b) => b.stop()));
  }
  const loadavgAfter = os.loadavg().map((x) => Math.round(x * 100) / 100);
  // The audit log is appended through a write stream: give it a moment to reach the file.
  await new Promise((r) => setTimeout(r, 1000));
  const audit = await auditCounts(airlockHome, since);
  return { burners: burners.length, rps: opts.rps, seconds: opts.seconds, load, audit, timeoutDenials: audit.failClosed.timeout ?? 0, loadavgAfter };
}
