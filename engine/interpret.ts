// Turns whatever the policy produced into a decision that fits the contract, or a deny that says
// why not. Pure: no I/O, no clock. This is where "Airlock fails closed, always" is implemented.
import { checkDecision } from './decision-contract.ts';
import type { Decision, EngineDecision } from './types.ts';

export type RawOutcome =
  | { kind: 'result'; value: unknown }
  | { kind: 'error'; message: string }
  | { kind: 'timeout'; budgetMs: number }
  | { kind: 'no-policy'; message: string };

export const FAIL_CLOSED_RULE = 'airlock.fail_closed';

function deny(reason: string, why: NonNullable<EngineDecision['fail_closed']>): Decision & { fail_closed: EngineDecision['fail_closed'] } {
  return { action: 'deny', reason, rule: `${FAIL_CLOSED_RULE}.${why}`, fail_closed: why };
}

export function interpret(outcome: RawOutcome): Decision & { fail_closed?: EngineDecision['fail_closed'] } {
  switch (outcome.kind) {
    case 'no-policy':
      return deny(`no policy is loaded: ${outcome.message}`, 'no-policy');
    case 'timeout':
      return deny(`policy evaluation exceeded its time budget of ${outcome.budgetMs} ms`, 'timeout');
    case 'error':
      if (/conflict/i.test(outcome.message)) {
        return deny(`policy produced conflicting decisions: ${outcome.message}`, 'conflict');
      }
      return deny(`policy evaluation failed: ${outcome.message}`, 'error');
    case 'result':
      break;
  }
  // opa-wasm returns a result set: [] when undefined, [{result: …}] per solution.
  const rs = outcome.value;
  if (!Array.isArray(rs) || rs.length === 0) return deny('policy returned no decision (data.airlock.decision is undefined)', 'undefined');
  if (rs.length > 1) return deny(`policy returned ${rs.length} conflicting decisions`, 'conflict');
  const first = rs[0] as { result?: unknown } | undefined;
  if (!first || !('result' in first) || first.result === undefined) {
    return deny('policy returned no decision (data.airlock.decision is undefined)', 'undefined');
  }
  const check = checkDecision(first.result);
  if (!check.ok) return deny(`policy decision does not fit the contract: ${check.problems.join('; ')}`, 'invalid');
  return check.decision;
}
