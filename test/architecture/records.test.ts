// Maps keyed by names an agent chooses are built without a prototype (lib/records.ts): a plain
// object literal answers `constructor` or `toString` from Object.prototype, and an assignment to
// `__proto__` replaces its prototype. Found as `webdisWriting[word]?.has` throwing on a form field
// named `constructor`; this keeps the spelling that made it possible out of the server's code.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';

const root = path.resolve(import.meta.dirname, '..', '..');
/** Server-side folders (the browser app builds its own maps from the studio's answers). */
const folders = ['cli', 'runtime', 'studio', 'sandbox', 'proxy', 'offline', 'state', 'engine', 'describe', 'lib'];
const prototyped = [
  { what: 'a constant table written as an object literal (use lookupTable({…}))', re: /^(?:export )?const \w+: (?:Readonly<)?Record<string,[^=]*> = \{/m },
  { what: 'a map started as {} (use emptyMap())', re: /Record<string,[^=;]*> = \{\}/ },
];

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'app' ? [] : sources(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [full] : [];
  });
}

t.test('no name → value map with a prototype in server code', async (t) => {
  const found: string[] = [];
  let read = 0;
  for (const folder of folders) {
    for (const file of sources(path.join(root, folder))) {
      read++;
      const lines = fs.readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, i) => {
        for (const p of prototyped) if (p.re.test(line)) found.push(`${path.relative(root, file)}:${i + 1}: ${p.what}`);
      });
    }
  }
  t.ok(read > 100, `read the server's modules (${read})`);
  t.same(found, [], 'every map keyed by input has no prototype');
});

t.test('the checks catch what they are for', async (t) => {
  t.ok(prototyped[0]!.re.test("const webdisWriting: Record<string, ReadonlySet<string>> = {"), 'a table literal');
  t.ok(prototyped[1]!.re.test('  const out: Record<string, string[]> = {};'), 'an empty literal');
  t.notOk(prototyped.some((p) => p.re.test('const t: Readonly<Record<string, string>> = lookupTable({')), 'a table through lookupTable');
});
