// Data files (.json/.yaml) are checked as OPA loads them, with file:line:col: the JSON locator agrees
// with JSON.parse on validity over generated and mutated documents, and points where it breaks.
import t from 'tap';
import fc from 'fast-check';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkPolicy } from '../../engine/compile.ts';
import { dataFileProblems, lineCol, locateJsonError } from '../../engine/data-files.ts';

t.test('the locator agrees with JSON.parse on what is JSON', async (t) => {
  const valid = (s: string): boolean => {
    try {
      JSON.parse(s);
      return true;
    } catch {
      return false;
    }
  };
  const doc = fc.jsonValue({ maxDepth: 4 }).chain((v) => fc.constantFrom(0, 2, '\t').map((indent) => JSON.stringify(v, null, indent)));
  fc.assert(fc.property(doc, (s) => locateJsonError(s) === undefined), { numRuns: 300 });
  // Mutations: delete, insert or replace one character anywhere.
  const mutated = fc.tuple(doc, fc.nat(), fc.constantFrom('del', 'ins', 'rep'), fc.constantFrom(...'{}[],:"\'\\ \n0-.etfnu\u0001\ufeffx'.split(''))).map(([s, at, op, ch]) => {
    const i = s.length ? at % (s.length + (op === 'ins' ? 1 : 0)) : 0;
    if (op === 'del') return s.slice(0, i) + s.slice(i + 1);
    if (op === 'ins') return s.slice(0, i) + ch + s.slice(i);
    return s.slice(0, i) + ch + s.slice(i + 1);
  });
  fc.assert(
    fc.property(mutated, (s) => {
      const found = locateJsonError(s);
      return valid(s) ? found === undefined : found !== undefined && found.offset >= 0 && found.offset <= s.length;
    }),
    { numRuns: 2000 },
  );
  t.equal(locateJsonError(`${'['.repeat(100_000)}${']'.repeat(100_000)}`), undefined, 'deep nesting needs no stack');
});

t.test('problems name file, line and column', async (t) => {
  t.same(dataFileProblems('config/data.json', '{\n  "agents": {\n    "bot": ["github",]\n  }\n}\n'), [
    { file: 'config/data.json', line: 3, column: 21, message: 'invalid JSON: a trailing comma is not allowed in JSON' },
  ]);
  t.match(dataFileProblems('data.json', '{"a": 1'), [{ line: 1, column: 8, message: /expected "," or "}", found the end of the file/ }]);
  t.match(dataFileProblems('data.json', "{'a': 1}"), [{ line: 1, column: 2, message: /quoted/ }]);
  t.match(dataFileProblems('data.json', ''), [{ line: 1, column: 1, message: /empty/ }]);
  t.match(dataFileProblems('data.json', '\ufeff{}'), [{ line: 1, column: 1, message: /U\+FEFF/ }], 'a byte order mark: OPA refuses it too');
  t.match(dataFileProblems('x.yaml', 'a: [1\nb: 2\n'), [{ file: 'x.yaml', line: 2, column: 1, message: /invalid YAML/ }]);
  t.same(dataFileProblems('x.yml', 'a: 1\nb: [2]\n'), []);
  t.same(lineCol('ab\ncd', 4), { line: 2, column: 2 });
  // Columns count code points, as OPA counts its own: an emoji before the error is one column (twelfth pass).
  t.same(lineCol('a\n"\u{1F389}": ]', 8), { line: 2, column: 6 });
  t.match(dataFileProblems('data.json', '{"\u{1F389}": ]}'), [{ line: 1, column: 7 }]);
  t.match(dataFileProblems('x.yaml', 'a: "\u{1F389}" ]\n'), [{ line: 1, column: 8, message: /^invalid YAML: Unexpected flow-seq-end token in YAML stream: "\]"$/ }]);
});

t.test('checkPolicy reports a broken data file that `opa check` does not look at', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-data-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10 }));
  fs.writeFileSync(path.join(dir, 'a.rego'), 'package airlock\n\nimport rego.v1\n\ndecision := {"action": "allow", "reason": "x"}\n');
  fs.mkdirSync(path.join(dir, 'config'));
  fs.writeFileSync(path.join(dir, 'config', 'data.json'), '{\n  "a": 1,\n  "b": [1,\n}\n');
  const problems = await checkPolicy(dir);
  t.match(problems, [{ file: 'config/data.json', line: 3, column: 11, message: /trailing comma/ }]);
});
