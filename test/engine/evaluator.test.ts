// The evaluator keeps OPA's heap (and with it the compiled-regex cache) across evaluations. These
// tests prove that reuse never changes an answer and never turns leftovers into a denial.
import t, { type Test } from 'tap';
import { compilePolicy } from '../../engine/compile.ts';
import { Evaluator, HEAP_RESET_BYTES, errorText } from '../../engine/evaluator.ts';

const policy = `package airlock

import rego.v1

# Allocates about input.n * 40 bytes of strings, so tests can choose how heavy an evaluation is.
filler := concat("", [s | some i in numbers.range(1, input.n); s := sprintf("%032d", [i])])

decision := {
\t"action": "allow",
\t"reason": sprintf("%v %v %d", [regex.match(input.pattern, input.value), glob.match(input.glob, ["."], input.value), count(filler)]),
}
`;

async function load(t: Test, memoryBytes: number): Promise<Evaluator> {
  const compiled = await compilePolicy(t.testdir({ 'p.rego': policy }));
  return Evaluator.load(compiled, { memoryBytes });
}

function reasonOf(resultJson: string): string {
  return (JSON.parse(resultJson) as Array<{ result: { reason: string } }>)[0]!.result.reason;
}

const cases = [
  { pattern: '^sk_live_[A-Za-z0-9]{4}$', glob: 'sk_*', value: 'sk_live_ab12', want: 'true true' },
  { pattern: '^sk_live_[A-Za-z0-9]{4}$', glob: 'pk_*', value: 'sk_live_ab1', want: 'false false' },
  { pattern: '^[0-9]+$', glob: '*', value: '12345', want: 'true true' },
  { pattern: '^[0-9]+$', glob: 'a.*', value: 'a.b', want: 'false true' },
  { pattern: 'b+', glob: '*.c', value: 'a.b', want: 'true false' },
];

function run(ev: Evaluator, c: (typeof cases)[number], n: number): string {
  return reasonOf(ev.evaluate(JSON.stringify({ pattern: c.pattern, glob: c.glob, value: c.value, n }), 0));
}

t.test('answers on a reused heap are the right answers, pattern cache or not', async (t) => {
  const ev = await load(t, 128 * 1024 * 1024);
  const wrong: string[] = [];
  for (let i = 0; i < 600; i++) {
    const c = cases[i % cases.length]!;
    const n = 1 + ((i * 7) % 50);
    const got = run(ev, c, n);
    if (got !== `${c.want} ${n * 32}`) wrong.push(`#${i}: ${got}`);
  }
  t.strictSame(wrong, []);
});

t.test('what earlier evaluations left behind never turns into a memory denial', async (t) => {
  const budget = 24 * 1024 * 1024;
  // The heaviest evaluation that fits the budget on a fresh heap (bisected, fresh evaluator per probe).
  let fits = 100;
  let fails = 60_000;
  for (let probe = 0; probe < 12 && fails - fits > 100; probe++) {
    const n = Math.floor((fits + fails) / 2);
    try {
      run(await load(t, budget), cases[0]!, n);
      fits = n;
    } catch {
      fails = n;
    }
  }
  const ev = await load(t, budget);
  for (let i = 0; i < 300; i++) run(ev, cases[i % cases.length]!, 300); // leave garbage behind
  t.equal(run(ev, cases[0]!, fits), `true true ${fits * 32}`, `the heaviest evaluation that fits (n=${fits}) still succeeds`);
  t.ok(ev.linearMemoryBytes <= budget, 'memory stayed within the budget');
  let overBudget: unknown;
  try {
    run(ev, cases[0]!, fails + 1000);
  } catch (err) {
    overBudget = err;
  }
  t.match(errorText(overBudget), /opa_malloc: failed/, 'an evaluation over the budget still fails');
  t.equal(run(ev, cases[2]!, 10), 'true true 320', 'and the next one is served normally');
});

t.test('linear memory stays bounded over many evaluations', async (t) => {
  const ev = await load(t, 128 * 1024 * 1024);
  // Each evaluation leaves ~30 KB on OPA's heap: without resets, 1,000 of them grow it past 25 MiB.
  for (let i = 0; i < 1000; i++) run(ev, cases[i % cases.length]!, 200);
  t.ok(ev.linearMemoryBytes < HEAP_RESET_BYTES + 4 * 1024 * 1024, `linear memory ${ev.linearMemoryBytes} bytes after 1000 evaluations`);
});
