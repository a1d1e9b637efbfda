// The editor's Rego tokenizer: keywords, strings (with escapes and multi-line raw strings),
// comments, numbers, operators, brackets, rule heads and built-in namespaces; and the pure helpers
// of the app shared with it (base.ts: a card's time of day, dated when not today).
import t from 'tap';
import fc from 'fast-check';
import { StringStream } from '@codemirror/language';
import { regoParser, type RegoState } from '../../studio/app/rego-language.ts';

/** Tokenizes source text line by line: [text, style] pairs without whitespace. */
function tokens(src: string): Array<[string, string | null]> {
  const state: RegoState = regoParser.startState!(4);
  const out: Array<[string, string | null]> = [];
  for (const line of src.split('\n')) {
    const stream = new StringStream(line, 4, 4);
    while (!stream.eol()) {
      const style = regoParser.token(stream, state);
      const text = stream.current();
      if (text.trim()) out.push([text, style]);
      stream.start = stream.pos;
    }
  }
  return out;
}

t.test('a rule with keywords, strings, operators and a comment', async (t) => {
  const got = tokens('package airlock\n\nimport rego.v1\n\ndecision := {"action": "allow"} if { # ok\n\tsome x in input.list\n\tx >= 10\n}');
  t.same(got.slice(0, 7), [
    ['package', 'keyword'], ['airlock', 'variableName'],
    ['import', 'keyword'], ['rego', 'builtin'], ['.', 'punctuation'], ['v1', 'variableName'],
    ['decision', 'def'],
  ]);
  t.same(tokens('decision := {"a": 1} if {')[1], [':=', 'operator']);
  t.same(tokens('x := {"action": "allow"}').filter(([, s]) => s === 'string').map(([v]) => v), ['"action"', '"allow"']);
  t.ok(got.some(([v, s]) => v === '# ok' && s === 'comment'));
  t.ok(got.some(([v, s]) => v === 'some' && s === 'keyword'));
  t.ok(got.some(([v, s]) => v === 'in' && s === 'keyword'));
  t.ok(got.some(([v, s]) => v === 'input' && s === 'builtin'), 'input is a built-in namespace inside a body');
  t.ok(got.some(([v, s]) => v === '>=' && s === 'operator'));
  t.ok(got.some(([v, s]) => v === '10' && s === 'number'));
  t.same(got.filter(([, s]) => s === 'bracket').map(([v]) => v), ['{', '}', '{', '}']);
});

t.test('strings keep escaped quotes; raw strings may span lines', async (t) => {
  t.same(tokens('x := "a \\"quoted\\" b"'), [['x', 'def'], [':=', 'operator'], ['"a \\"quoted\\" b"', 'string']]);
  const raw = tokens('re := `^a\n# not a comment\nb$` # after');
  t.same(raw, [['re', 'def'], [':=', 'operator'], ['`^a', 'string'], ['# not a comment', 'string'], ['b$`', 'string'], ['# after', 'comment']]);
});

t.test('numbers, atoms and a rule head only at depth 0', async (t) => {
  t.same(tokens('n := -1.5e3').at(-1), ['-1.5e3', 'number']);
  t.same(tokens('ok := true')[2], ['true', 'atom']);
  const nested = tokens('x := [\ny\n]');
  t.same(nested[3], ['y', 'variableName'], 'an identifier at column 0 inside brackets is not a rule head');
});

t.test('card times: the time of day today, the date too on another day (eleventh pass)', async (t) => {
  const { dayTime } = await import('../../studio/app/base.ts');
  const now = new Date(2026, 11, 6, 15, 0, 0);
  t.notMatch(dayTime(new Date(2026, 11, 6, 14, 2, 11).toISOString(), now), /2026/, 'today: the time alone');
  t.match(dayTime(new Date(2026, 11, 5, 14, 2, 11).toISOString(), now), /2026|12\/5|5\.12|05/, 'yesterday: with its date');
  t.match(dayTime(new Date(2026, 11, 5, 14, 2, 11).toISOString(), now), /14:02:11/);
});

t.test("replay's CSV export: no cell a spreadsheet splits out of another starts a formula, in any locale's separator (sixteenth pass)", async (t) => {
  // A URL the agent chose, `…?a;=HYPERLINK(A9)`, was one unquoted cell to
  // a comma reader and two to Excel or LibreOffice in a locale that splits on `;` (German, French …):
  // the second began with `=` and ran as a formula when the person opened the export.
  const { csvCell, csvText } = await import('../../studio/app/csv.ts');
  /** The cells of one CSV line as a spreadsheet splits it on `sep` (RFC 4180 quoting). */
  const cells = (line: string, sep: string): string[] => {
    const out: string[] = [];
    let cur = '';
    let quoted = false;
    for (let i = 0; i < line.length; i++) {
      const c = line[i]!;
      if (quoted) {
        if (c === '"' && line[i + 1] === '"') (cur += '"'), i++;
        else if (c === '"') quoted = false;
        else cur += c;
      } else if (c === '"' && cur === '') quoted = true;
      else if (c === sep) out.push(cur), (cur = '');
      else cur += c;
    }
    out.push(cur);
    return out;
  };
  const formula = /^[=+\-@\t\r\0]/;
  const url = 'https://api.example/x?a;=HYPERLINK(A9)&b=1;@SUM(A1:A9)';
  for (const sep of [',', ';', '\t']) t.notOk(cells(csvText(['url'], [{ url }]).split('\r\n')[1]!, sep).some((c) => formula.test(c)), `split on ${JSON.stringify(sep)}`);
  t.equal(csvCell('=1+1'), "'=1+1");
  t.equal(csvCell('plain'), 'plain');
  fc.assert(fc.property(fc.array(fc.stringMatching(/^[a-z=+@;,\t"\- ]{0,12}$/), { minLength: 1, maxLength: 4 }), (values) => {
    const row = Object.fromEntries(values.map((v, i) => [`c${i}`, v]));
    const line = csvText(Object.keys(row), [row]).split('\r\n')[1]!;
    return [',', ';', '\t'].every((sep) => !cells(line, sep).some((c) => formula.test(c))) && cells(line, ',').length === values.length;
  }), { numRuns: 200 });
});
