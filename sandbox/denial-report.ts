// Tells the person running `airlock run` when Airlock refused one of the agent's requests, on the
// same terminal. Tools often hide the 403: pip says "No matching distribution found", npm retries
// and says "network error", an agent says nothing. airlock run follows the audit log (the proxy's
// own record of every decision) from the moment the run starts and prints one line per refusal of
// this agent's requests, with the rule and the reason.
import fs from 'node:fs';
import { terminalText } from '../lib/text.ts';
import type { AuditRecord } from '../state/audit-log.ts';
import { stateFile } from '../state/home.ts';

/** Outcomes that are not refusals the user needs to hear about. */
const quiet = new Set(['forwarded', 'auth-challenge', 'client-aborted', 'pending', 'approval-pending']);

/**
 * One line for a refused request, or undefined when the record is not one. Printed on the user's
 * terminal, and every part may hold text the agent or an upstream chose (a policy's reason quotes
 * an MCP tool name decoded from JSON, a detail quotes an upstream's error): control characters and
 * invisible ones are shown as escapes, so none is an escape sequence (an OSC 52 clipboard write, a
 * title, a cursor move) or a forged line.
 */
export function denialLine(r: AuditRecord): string | undefined {
  if (quiet.has(r.outcome)) return undefined;
  const what = `${r.method ?? ''} ${r.url ?? ''}`.trim();
  const rule = r.decision?.rule ? ` (${r.decision.rule})` : '';
  const why = r.detail ?? r.decision?.reason ?? r.outcome;
  return terminalText(`airlock: ${r.outcome} ${r.status ?? ''} ${what}${rule}: ${why}`.replace(/[ \t\r\n]+/g, ' ').trim());
}

export interface DenialWatch {
  /** Reads what arrived since the last look (also called on a timer). */
  poll(): void;
  /** Reads the rest: the proxy records a refusal just after answering it, so wait until the log is still. */
  stop(): Promise<void>;
}

/**
 * Follows <home>/audit.jsonl from its current end; calls `report` with a line for each refusal of
 * `agent`'s requests. Polls (cheap: one stat) so it works on every filesystem and survives the
 * file being created or replaced while the run goes on.
 */
export function watchDenials(home: string, agent: string, report: (line: string) => void, intervalMs = 300): DenialWatch {
  const file = stateFile(home, 'audit');
  let offset = fileSize(file);
  let partial = '';
  const poll = (): void => {
    const size = fileSize(file);
    if (size < offset) {
      offset = 0; // replaced or truncated: read the new file from its start
      partial = '';
    }
    if (size === offset) return;
    let text: string;
    try {
      const fd = fs.openSync(file, 'r');
      try {
        const buf = Buffer.alloc(Math.min(size - offset, 8 * 1024 * 1024));
        const n = fs.readSync(fd, buf, 0, buf.length, offset);
        offset += n;
        text = buf.subarray(0, n).toString('utf8');
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return;
    }
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) {
      // Cheap filter before parsing: the agent's name appears as "agent":"NAME".
      if (!l.includes(`"agent":${JSON.stringify(agent)}`)) continue;
      let r: AuditRecord;
      try {
        r = JSON.parse(l) as AuditRecord;
      } catch {
        continue;
      }
      if (r.agent !== agent) continue;
      const line = denialLine(r);
      if (line) report(line);
    }
  };
  const timer = setInterval(poll, intervalMs);
  timer.unref();
  return {
    poll,
    stop: async () => {
      clearInterval(timer);
      let last = -1;
      for (let i = 0; i < 10; i++) {
        poll();
        if (offset === last) break;
        last = offset;
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}
