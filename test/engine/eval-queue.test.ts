// Evaluations wait their turn by agent: one agent's burst of heavy evaluations (large bodies'
// descriptions) never queues another agent's request behind it, whether the burst waits in the
// engine's queue or would have waited in an evaluation thread's port.
import t from 'tap';
import { PolicyEngine } from '../../engine/engine.ts';
import type { RequestDescription } from '../../describe/types.ts';

const policy = `package airlock

import rego.v1

default decision := {"action": "allow", "reason": "ok"}

decision := {"action": "allow", "reason": "counted"} if {
\tcount([c | some c in split(input.pad, "")]) > 0
}
`;

const input = (agent: string, padBytes: number): RequestDescription => ({ request: { time: '2026-01-01T00:00:00Z', method: 'POST' }, agent: { id: agent, labels: {} }, pad: 'x'.repeat(padBytes) }) as unknown as RequestDescription;

// Heavy: one running, then the turn goes hog, other. Small: up to 4 are handed to the thread at
// once (microseconds each), then the same turn.
for (const [size, what, most] of [[64 * 1024, 'heavy', 2], [512, 'small', 5]] as const) {
  t.test(`one agent's burst of 12 ${what} evaluations: another agent's next one is served after at most ${most} of them`, async (t) => {
    const engine = new PolicyEngine({ mode: 'isolated', threads: 1, timeoutMs: 60_000 });
    t.teardown(() => engine.close());
    await engine.loadFolder(t.testdir({ 'p.rego': policy }));
    const order: string[] = [];
    const burst = Array.from({ length: 12 }, (_, i) => engine.decide(input('hog', size)).then((d) => order.push(`hog${i}:${d.action}`)));
    const other = engine.decide(input('other', 16)).then((d) => order.push(`other:${d.action}`));
    await Promise.all([...burst, other]);
    t.equal(order.length, 13);
    t.ok(order.every((o) => o.endsWith(':allow')), 'every one decided by the policy');
    const at = order.indexOf('other:allow');
    t.ok(at >= 0 && at <= most, `the other agent's evaluation finished at position ${at + 1} of 13 (${order.join(' ')})`);
  });
}
