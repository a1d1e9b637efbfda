// The `opa` binary as the oracle for Airlock's JavaScript builtins: every case of every builtin is
// evaluated by both, in ONE `opa eval`, and must agree; a case OPA makes undefined (the builtin's
// error) must be undefined here (an error is undefined in the proxy: engine/builtins.ts).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { Test } from 'tap';
import { makeBuiltins } from '../../engine/builtins.ts';
import { builtinFuncs } from '../../engine/opa-wasm-builtins.ts';
import { requireOpa } from '../../engine/toolchain.ts';

/** JSON with objects' keys in order: Rego objects have none. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x)
    ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x));
}

/** Asserts, per builtin, that each case (its arguments) gives what `opa eval` gives; `nowNs` is the evaluation's clock. */
export function agreesWithOpa(t: Test, cases: Record<string, unknown[][]>, seed: number, nowNs = 0): void {
  const names = Object.keys(cases);
  const query = `x := {${names.map((n, i) => {
    const args = cases[n]![0]!.map((_, j) => `c[${j}]`).join(', ');
    return `"${n}": {k: r | some k; c := data.cases[${i}][k]; r := ${n}(${args})}`;
  }).join(', ')}}`;
  const dir = t.testdir({ 'data.json': JSON.stringify({ cases: names.map((n) => Object.fromEntries(cases[n]!.map((c, k) => [`c${k}`, c]))) }) });
  const r = spawnSync(requireOpa(), ['eval', '-f', 'json', '-d', path.join(dir, 'data.json'), query], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 60_000 });
  t.equal(r.status, 0, r.stderr);
  const opa = (JSON.parse(r.stdout) as { result: Array<{ bindings: { x: Record<string, Record<string, unknown>> } }> }).result[0]!.bindings.x;
  const custom = makeBuiltins({ nowNs: () => nowNs });
  for (const name of names) {
    // Looked up as opa-wasm does: its own table first, then Airlock's.
    const impl = (builtinFuncs[name] ?? custom[name]) as (...args: unknown[]) => unknown;
    const differ: string[] = [];
    let undefinedThere = 0;
    cases[name]!.forEach((args, k) => {
      // What crosses the WebAssembly boundary is JSON, both ways.
      let got: unknown;
      try {
        got = impl(...(JSON.parse(JSON.stringify(args)) as unknown[]));
      } catch {
        got = 'an evaluation error';
      }
      const mine = got === undefined ? 'undefined' : canonical(got);
      const want = opa[name]![`c${k}`];
      if (want === undefined) undefinedThere++;
      const theirs = want === undefined ? 'undefined' : canonical(want);
      if (mine !== theirs) differ.push(`${name}(${JSON.stringify(args).slice(1, -1)}): opa ${theirs}, airlock ${mine}`);
    });
    // ASCII only: a raw line separator would break the TAP stream.
    for (const d of differ.slice(0, 8)) t.comment(d.replace(/[^\x20-\x7e]/g, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`));
    t.same(differ.slice(0, 8), [], `${name}: every case agrees (${cases[name]!.length} cases, ${undefinedThere} undefined in OPA; AIRLOCK_FUZZ_SEED=${seed} replays them)`);
  }
}
