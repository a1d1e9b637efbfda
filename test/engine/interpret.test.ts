// interpret(): the policy's result text becomes a contract-checked decision or a fail-closed deny,
// and repeated texts come from a bounded cache of frozen decisions.
import t from 'tap';
import { interpret, resultCacheStats, RESULT_CACHE_ENTRIES, RESULT_CACHE_MAX_CHARS } from '../../engine/interpret.ts';

const resultSet = (decision: unknown): string => JSON.stringify([{ result: decision }]);
const approve = {
  action: 'approve', reason: 'writes need a human', rule: 'write', approval: { risk: 'high' },
  credentials: [{ secret: 'gh', in: 'header', name: 'authorization', format: 'Bearer {}' }],
};

t.test('a repeated result text gives the same decision, frozen all the way down', async (t) => {
  const json = resultSet(approve);
  const before = resultCacheStats();
  const first = interpret({ kind: 'result', json });
  const second = interpret({ kind: 'result', json });
  t.same(first, approve);
  t.equal(second, first, 'served from the cache');
  t.equal(resultCacheStats().hits, before.hits + 1);
  t.ok(Object.isFrozen(first) && Object.isFrozen(first.credentials) && Object.isFrozen(first.credentials![0]) && Object.isFrozen(first.approval));
  t.throws(() => { (first.credentials as unknown[]).push({}); }, TypeError, 'a caller cannot change what the next request gets');
  t.throws(() => { (first.approval as { risk: string }).risk = 'low'; }, TypeError);
  t.same(interpret({ kind: 'result', json }), approve);
});

t.test('results that break the contract deny every time, cached or not', async (t) => {
  for (const [json, why, pattern] of [
    [resultSet({ action: 'allow' }), 'invalid', /required property 'reason'/],
    [resultSet({ action: 'allow', reason: 'x', sudo: true }), 'invalid', /unknown field "sudo"/],
    ['[]', 'undefined', /no decision/],
    [JSON.stringify([{ result: { action: 'allow', reason: 'a' } }, { result: { action: 'deny', reason: 'b' } }]), 'conflict', /2 conflicting/],
    ['[{"result": {"action": "allow"', 'invalid', /not valid JSON/],
  ] as const) {
    for (let i = 0; i < 2; i++) {
      const d = interpret({ kind: 'result', json });
      t.equal(d.action, 'deny', `${json.slice(0, 40)} (${i ? 'cached' : 'first'})`);
      t.equal(d.fail_closed, why);
      t.match(d.reason, pattern);
    }
  }
});

t.test('the cache is bounded in entries and in text length', async (t) => {
  for (let i = 0; i < RESULT_CACHE_ENTRIES + 500; i++) interpret({ kind: 'result', json: resultSet({ action: 'allow', reason: `distinct ${i}` }) });
  t.equal(resultCacheStats().entries, RESULT_CACHE_ENTRIES, 'oldest entries were dropped');
  const many = { action: 'allow', reason: 'many limits', rate_limits: Array.from({ length: 16 }, (_, i) => ({ key: `limit-${i}-${'k'.repeat(300)}`, limit: 10, window: '1m' })) };
  const long = resultSet(many);
  t.ok(long.length > RESULT_CACHE_MAX_CHARS);
  const misses = resultCacheStats().misses;
  t.same(interpret({ kind: 'result', json: long }), many);
  t.same(interpret({ kind: 'result', json: long }), many);
  t.equal(resultCacheStats().misses, misses + 2, 'a long result is interpreted each time, never kept');
});

t.test('errors, timeouts and a missing policy are never cached and always deny', async (t) => {
  const entries = resultCacheStats().entries;
  t.match(interpret({ kind: 'error', message: 'boom' }), { action: 'deny', fail_closed: 'error', reason: /boom/ });
  t.match(interpret({ kind: 'error', message: 'eval_conflict_error: functions must not produce multiple outputs' }), { fail_closed: 'conflict' });
  t.match(interpret({ kind: 'timeout', budgetMs: 250 }), { action: 'deny', fail_closed: 'timeout', reason: /250 ms/ });
  t.match(interpret({ kind: 'no-policy', message: 'not loaded' }), { action: 'deny', fail_closed: 'no-policy' });
  t.equal(resultCacheStats().entries, entries);
});
