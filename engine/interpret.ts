// Turns whatever the policy produced into a decision that fits the contract, or a deny that says
// why not. Pure: no I/O, no clock. This is where "Airlock fails closed, always" is implemented.
import { checkDecision } from './decision-contract.ts';
import type { Decision, EngineDecision } from './decision.ts';

export type RawOutcome =
  /** The result set as the evaluator dumped it (JSON text). */
  | { kind: 'result'; json: string }
  | { kind: 'error'; message: string }
  /** `wallMs`: the evaluation never got its budget's worth of CPU within that much wall-clock time. */
  | { kind: 'timeout'; budgetMs: number; wallMs?: number }
  | { kind: 'no-policy'; message: string };

export type Interpreted = Decision & { fail_closed?: EngineDecision['fail_closed'] };

export const FAIL_CLOSED_RULE = 'airlock.fail_closed';

function deny(reason: string, why: NonNullable<EngineDecision['fail_closed']>): Interpreted {
  return { action: 'deny', reason, rule: `${FAIL_CLOSED_RULE}.${why}`, fail_closed: why };
}

export function interpret(outcome: RawOutcome): Interpreted {
  switch (outcome.kind) {
    case 'no-policy':
      return deny(`no policy is loaded: ${outcome.message}`, 'no-policy');
    case 'timeout':
      if (outcome.wallMs !== undefined) return deny(`policy evaluation did not finish within ${outcome.wallMs} ms of wall-clock time (the machine gave it no CPU time)`, 'timeout');
      return deny(`policy evaluation exceeded its time budget of ${outcome.budgetMs} ms`, 'timeout');
    case 'error':
      if (/conflict/i.test(outcome.message)) {
        return deny(`policy produced conflicting decisions: ${outcome.message}`, 'conflict');
      }
      return deny(`policy evaluation failed: ${outcome.message}`, 'error');
    case 'result':
      return interpretResult(outcome.json);
  }
}

/**
 * Interpreted results by their text. A policy returns few distinct results (one per rule, service
 * and agent, give or take a reason), so parsing and contract-checking each text once takes most of
 * the per-request cost out of interpreting. Text to decision is a pure function, so one cache
 * serves every bundle. Bounded: first in, first out, short texts only. Entries are deep-frozen
 * because every request with the same result shares them.
 */
const interpretedByText = new Map<string, Interpreted>();
export const RESULT_CACHE_ENTRIES = 4096;
export const RESULT_CACHE_MAX_CHARS = 4096;
const cacheCounts = { hits: 0, misses: 0 };

/** How the cache is doing (benchmarks report its hit rate). */
export function resultCacheStats(): { entries: number; hits: number; misses: number } {
  return { entries: interpretedByText.size, ...cacheCounts };
}

function interpretResult(json: string): Interpreted {
  const cached = interpretedByText.get(json);
  if (cached) {
    cacheCounts.hits++;
    return cached;
  }
  cacheCounts.misses++;
  const decision = deepFreeze(parseResult(json));
  if (json.length <= RESULT_CACHE_MAX_CHARS) {
    if (interpretedByText.size >= RESULT_CACHE_ENTRIES) interpretedByText.delete(interpretedByText.keys().next().value!);
    interpretedByText.set(json, decision);
  }
  return decision;
}

function parseResult(json: string): Interpreted {
  // The result set: [] when undefined, [{result: …}] per solution.
  let rs: unknown;
  try {
    rs = JSON.parse(json);
  } catch {
    return deny('policy result is not valid JSON', 'invalid');
  }
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

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
