// The evaluation budget is the policy's own CPU time. On a starved machine an evaluation waits —
// in the queue, in its thread's port, or for a core — far longer than its budget without running;
// none of that waiting may deny a legitimate request. A policy that really runs away is still ended.
//
// Starvation is made exact: the engine's process stops itself (SIGSTOP) right after handing off
// a batch of evaluations, and this test resumes it (SIGCONT) after 4 budgets of wall-clock time.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import readline from 'node:readline';

const header = 'package airlock\n\nimport rego.v1\n\n';
const policy = `${header}default decision := {"action": "allow", "reason": "fast path"}

decision := {"action": "allow", "reason": "slow"} if {
\tinput.request.method == "POST"
\tcount([x | some i in numbers.range(1, 3000); some j in numbers.range(1, 3000); x := i * j]) > 0
}
`;

const rounds = 3;
const inFlight = 8;
const budgetMs = 100;
const stopMs = 4 * budgetMs;

t.test('stopped for 4 budgets with 8 evaluations in flight: every one decided by the policy; a runaway one still ends', async (t) => {
  const dir = t.testdir({
    policy: { 'p.rego': policy },
    'main.mts': `import { PolicyEngine } from ${JSON.stringify(path.resolve('engine/engine.ts'))};
const e = new PolicyEngine({ mode: 'isolated', threads: 1, timeoutMs: ${budgetMs}, limits: { memoryBytes: 1024 * 1024 * 1024 } });
await e.loadFolder(process.argv[2]);
const input = (method) => ({ request: { time: '2026-01-01T00:00:00Z', method }, agent: { id: 'a', labels: {} } });
await e.decide(input('GET'));
const actions = [];
for (let round = 0; round < ${rounds}; round++) {
  // From the check phase: when the process resumes, the event loop's timers run before it reads
  // any answer the thread sent, as they would after a long wait for a core.
  await new Promise((r) => setImmediate(r));
  const pending = Array.from({ length: ${inFlight} }, () => e.decide(input('GET')));
  for (let i = 0; i < 5; i++) await null; // hand-offs made in microtasks are made too
  process.stdout.write('stopping\\n');
  process.kill(process.pid, 'SIGSTOP');
  for (const d of await Promise.all(pending)) actions.push(d.fail_closed ? d.action + ':' + d.fail_closed : d.action);
}
const runaway = await e.decide(input('POST'));
const after = await e.decide(input('GET'));
process.stdout.write(JSON.stringify({ actions, runaway: runaway.fail_closed ?? runaway.action, after: after.action }) + '\\n');
await e.close();
`,
  });
  // env -u: tap's process hooks must not ride along into the child.
  const child = spawn('env', ['-u', 'NODE_OPTIONS', process.execPath, 'bin/run-ts.js', path.join(dir, 'main.mts'), path.join(dir, 'policy')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  t.teardown(() => { clearTimeout(killer); child.kill('SIGKILL'); });
  const stateOf = (pid: number): string => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    } catch {
      return '?';
    }
  };
  let stops = 0;
  let result: { actions: string[]; runaway: string; after: string } | undefined;
  // The node process is env's child: env execs node, so the pid is the same.
  for await (const line of readline.createInterface({ input: child.stdout })) {
    if (line === 'stopping') {
      for (let i = 0; i < 500 && stateOf(child.pid!) !== 'T'; i++) await new Promise((r) => setTimeout(r, 10));
      if (stateOf(child.pid!) === 'T') stops++;
      await new Promise((r) => setTimeout(r, stopMs));
      process.kill(child.pid!, 'SIGCONT');
    } else if (line.startsWith('{')) {
      result = JSON.parse(line);
    }
  }
  t.equal(stops, rounds, 'the engine process was stopped with evaluations in flight, each round');
  t.same(result?.actions, Array.from({ length: rounds * inFlight }, () => 'allow'), 'no evaluation was denied for time it spent not running');
  t.equal(result?.runaway, 'timeout', 'a policy that runs past its budget of CPU time is still ended and denied');
  t.equal(result?.after, 'allow', 'a fresh thread serves the next request');
});
