// `regex.split` in the proxy must split as OPA does (`opa test`, `opa eval`: Go's RE2), not as
// JavaScript does. The oracle is the real `opa` binary: generated patterns (RE2 syntax, syntax
// only one side reads, capture groups, empty matches, Unicode classes and astral characters) and
// texts are split by both, in one `opa eval`, and must agree case by case; a pattern OPA refuses
// (its expression is undefined there) must be refused here too.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { compilePolicy } from '../../engine/compile.ts';
import { Evaluator } from '../../engine/evaluator.ts';
import { regexSplit } from '../../engine/go-regexp.ts';
import { requireOpa } from '../../engine/toolchain.ts';

const seed = process.env.AIRLOCK_FUZZ_SEED ? Number(process.env.AIRLOCK_FUZZ_SEED) : Date.now() % 2 ** 31;
const runs = Number(process.env.AIRLOCK_FUZZ_RUNS) || 400;

// Pieces of RE2 syntax, pieces JavaScript reads otherwise, and pieces only JavaScript reads.
const atoms = ['a', 'b', ',', ' ', '\\.', '.', 'é', '😀', '\\s', '\\S', '\\d', '\\w', '\\W', '\\b', '^', '$', '[ab]', '[^a]', '[,;]',
  '\\pL', '\\p{Z}', '\\PL', '[[:alpha:]]', '[[:space:]]', '\\x{e9}', '\\x{1F600}', '\\x2c', '\\Qa.\\E', '\\z', '\\A', '(?i)a', '(?i:b)', '(?s).',
  '\\u00e9', '(?=a)', '(?!a)', '(?<=a)', '\\1', '\\k<n>', '(?<n>a)', '(?P<n>a)', '\\cA', '[\\b]', '\\v', '\\f'];
const quantifiers = ['', '', '', '*', '+', '?', '{1,2}', '*?', '+?', '{0}', '{2}'];
const piece: fc.Arbitrary<string> = fc.tuple(fc.constantFrom(...atoms), fc.constantFrom(...quantifiers), fc.constantFrom('', '', '(', '(?:'))
  .map(([atom, q, group]) => (group ? `${group}${atom})${q}` : `${atom}${q}`));
const patternArb = fc.array(piece, { minLength: 0, maxLength: 4 }).chain((ps) => fc.constantFrom(ps.join(''), ps.join('|')));
const text = fc.array(fc.constantFrom('a', 'b', 'A', ',', ' ', '\u00a0', '\u3000', '😀', 'é', '\n', '.', '1', '_', 'x', 'ab'), { maxLength: 10 }).map((a) => a.join(''));

t.test('regex.split agrees with OPA\'s own (Go, RE2) on every generated pattern and text', async (t) => {
  const cases = fc.sample(fc.record({ p: patternArb, s: text }), { numRuns: runs, seed });
  // Hand-picked: where the two languages differ most plainly.
  cases.push({ p: '(,)', s: 'a,b,,c' }, { p: 'x*', s: 'axbc😀' }, { p: '', s: 'a😀b' }, { p: '', s: '' }, { p: 'a', s: '' },
    { p: '\\u00AD', s: 'a\u00adb' }, { p: '\\x{00AD}', s: 'a\u00adb' }, { p: '\\s', s: 'a\u00a0b c' }, { p: '(?i)dot', s: 'aDOTb' }, { p: '\\b', s: 'ab cd' });
  const dir = t.testdir({ 'data.json': JSON.stringify({ cases: Object.fromEntries(cases.map((c, i) => [`c${i}`, c])) }) });
  const r = spawnSync(requireOpa(), ['eval', '-f', 'json', '-d', path.join(dir, 'data.json'),
    'x := {k: r | some k; c := data.cases[k]; r := regex.split(c.p, c.s)}'], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 60_000 });
  t.equal(r.status, 0, r.stderr);
  const opa = (JSON.parse(r.stdout) as { result: Array<{ bindings: { x: Record<string, string[]> } }> }).result[0]!.bindings.x;
  const differ: string[] = [];
  cases.forEach((c, i) => {
    let ours: string[] | 'refused';
    try {
      ours = regexSplit(c.p, c.s);
    } catch {
      ours = 'refused';
    }
    const theirs = opa[`c${i}`] ?? 'refused';
    if (JSON.stringify(ours) !== JSON.stringify(theirs)) differ.push(`${JSON.stringify(c)}: opa ${JSON.stringify(theirs)}, airlock ${JSON.stringify(ours)}`);
  });
  t.same(differ.slice(0, 10), [], `every case agrees (${cases.length} cases; AIRLOCK_FUZZ_SEED=${seed} replays them)`);
  t.ok(cases.filter((_, i) => opa[`c${i}`] === undefined).length > 10, 'some generated patterns are ones OPA refuses');
});

t.test('the proxy\'s evaluator calls this regex.split, not the SDK\'s JavaScript one', async (t) => {
  const policy = `package airlock

import rego.v1

decision := {"action": "allow", "reason": json.marshal([
\tregex.split(\`(,)\`, "a,b"),
\tregex.split(\`\\x{00AD}\`, "a\\u00adb"),
\tregex.split(\`[[:space:]]+\`, "a  b"),
])}
`;
  const ev = await Evaluator.load(await compilePolicy(t.testdir({ 'p.rego': policy })));
  const out = JSON.parse(ev.evaluate('{}', 0)) as Array<{ result: { reason: string } }>;
  t.same(JSON.parse(out[0]!.result.reason), [['a', 'b'], ['a', 'b'], ['a', 'b']], 'a group\'s text is not in the result; RE2 escapes and classes are read');
});

t.test('a pattern RE2 refuses fails the evaluation, naming the builtin', async (t) => {
  t.throws(() => regexSplit('(?=a)', 'abc'), /regex\.split: .*invalid or unsupported Perl syntax/);
  t.throws(() => regexSplit('\\u00AD', 'abc'), /regex\.split: .*invalid escape/);
  t.ok(fs.existsSync(requireOpa()), 'the oracle is there');
});
