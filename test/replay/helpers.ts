// Shared by the replay CLI tests: the `airlock` command as a real subprocess, a small policy, and
// an audit log written by the proxy's own AuditLog.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { AuditLog } from '../../state/audit-log.ts';
import type { RequestDescription } from '../../describe/types.ts';
import { describeRequest } from '../../describe/describe.ts';

export const root = path.resolve(import.meta.dirname, '..', '..');

export function airlock(args: string[], env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'airlock.js'), ...args], {
    cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export const strict = `package airlock

import rego.v1

default decision := {"action": "deny", "reason": "not allowed", "rule": "default"}

decision := {"action": "allow", "reason": "reads are fine", "rule": "read"} if input.request.method == "GET"

decision := {"action": "approve", "reason": "deleting needs a human", "rule": "delete", "approval": {"risk": "critical"}} if input.request.method == "DELETE"
`;

function desc(method: string, url: string, time: string, agent: string): RequestDescription {
  return describeRequest(
    { id: `${agent}-${time}`, time: new Date(time), method, url, headers: [['Authorization', 'Bearer ghp_secretvalue123']], body: Buffer.alloc(0), bodyTruncated: false },
    { agent: { id: agent, labels: {} } },
  );
}

/** Four described requests (two agents, two days) and one record without a description. */
export async function writeAudit(home: string): Promise<void> {
  const log = new AuditLog(home);
  const rows: Array<[string, string, string, string]> = [
    ['GET', 'https://api.github.com/repos/acme/widgets', '2026-01-05T09:00:00Z', 'coder'],
    ['DELETE', 'https://api.github.com/repos/acme/widgets', '2026-01-05T10:00:00Z', 'coder'],
    ['POST', 'https://api.stripe.com/v1/refunds', '2026-01-05T11:00:00Z', 'billing'],
    ['GET', 'https://api.stripe.com/v1/customers', '2026-01-06T09:00:00Z', 'billing'],
  ];
  for (const [m, u, time, agent] of rows) {
    const d = desc(m, u, time, agent);
    log.append({ time, id: d.request.id, agent, method: m, url: d.request.url, host: d.request.host, outcome: 'forwarded', decision: { action: 'allow', reason: 'anything goes', rule: 'open' }, policy_version: 'v0', description: d });
  }
  log.append({ time: '2026-01-05T10:30:00Z', id: 'x', outcome: 'unauthenticated', status: 407 });
  await log.close();
}
