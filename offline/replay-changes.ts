// What a changed replay row changes besides its action and rule, in words: shared by `airlock replay`
// and the studio's replay page (no Node imports: it is bundled into the browser app).
import type { ChangedRow, DecisionSummary } from './replay.ts';

/**
 * What changed besides the action and rule, one line each (`rate limits: [...] → []`), for the CLI
 * and the studio: a row whose action and rule stay must still say what the draft changes.
 */
export function changeLines(r: Pick<ChangedRow, 'before' | 'after' | 'changes'>): string[] {
  const b = r.before;
  const a = r.after;
  const listed = (xs: string[] | undefined): string => `[${(xs ?? []).join(', ')}]`;
  const terms = (d: DecisionSummary): string => [d.step_up ? 'step-up' : 'no step-up', d.hold_timeout !== undefined ? `timeout ${String(d.hold_timeout)}` : 'default timeout', d.session_hold ? 'held for what the session read (no grant)' : 'grantable'].join(', ');
  const how = (d: DecisionSummary): string => [d.raw_path ? 'raw_path' : '', d.bare_headers ? 'bare_headers' : ''].filter(Boolean).join(', ') || 'as usual';
  const out: string[] = [];
  if (r.changes.includes('risk')) out.push(`risk: ${b.risk ?? 'none'} → ${a.risk ?? 'none'}`);
  if (r.changes.includes('credentials')) out.push(`credentials: ${listed(b.credential_slots ?? b.credentials)} → ${listed(a.credential_slots ?? a.credentials)}`);
  if (r.changes.includes('labels')) out.push(`labels: ${listed(b.labels)} → ${listed(a.labels)}`);
  if (r.changes.includes('approval')) out.push(`approval: ${terms(b)} → ${terms(a)}`);
  if (r.changes.includes('rate_limits')) out.push(`rate limits: ${listed(b.rate_limits)} → ${listed(a.rate_limits)}`);
  if (r.changes.includes('forwarding')) out.push(`forwarding: ${how(b)} → ${how(a)}`);
  return out;
}
