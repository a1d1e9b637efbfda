// The layers of the tree, as the README's Layout table names them, checked against the code: every
// import of every module is read by the TypeScript compiler itself (`SourceFile.imports`: static,
// type-only, re-exports and `import()` with a literal), so a lower layer importing a higher one, a
// module importing test or bench code, a folder missing from the table, or the README's layering
// sentence saying other than the table fails here.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { API } from 'typescript/unstable/sync';

const root = path.resolve(import.meta.dirname, '..', '..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');

/** The Layout table: `folder/` → floor (undefined for folders outside the layers: tests, bench, …). */
function layoutTable(): Map<string, number | undefined> {
  const section = readme.slice(readme.indexOf('\n## Layout'), readme.indexOf('\n## ', readme.indexOf('\n## Layout') + 1));
  const floors = new Map<string, number | undefined>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 4 || !cells[1]!.startsWith('`')) continue;
    const floor = /^\d+$/.test(cells[2]!) ? Number(cells[2]) : undefined;
    for (const m of cells[1]!.matchAll(/`([a-z-]+)\/`/g)) floors.set(m[1]!, floor);
  }
  return floors;
}

const floors = layoutTable();
const layered = [...floors].filter(([, f]) => f !== undefined).map(([d]) => d);

/** Top-level folders holding code (not dependencies, build output or tool state). */
function codeFolders(): string[] {
  const hasCode = (dir: string): boolean => fs.readdirSync(dir, { withFileTypes: true }).some((e) =>
    e.isDirectory() ? !['node_modules', 'dist'].includes(e.name) && hasCode(path.join(dir, e.name)) : /\.(ts|mts|js|mjs|cjs)$/.test(e.name));
  return fs.readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules' && hasCode(path.join(root, e.name)))
    .map((e) => e.name);
}

/** Every module of the project with the project files it imports, as the compiler reads them. */
function importGraph(): Map<string, string[]> {
  const api = new API({ cwd: root });
  try {
    const project = api.updateSnapshot({ openProjects: [path.join(root, 'tsconfig.json')] }).getProjects()[0]!;
    const graph = new Map<string, string[]>();
    for (const name of project.program.getSourceFileNames()) {
      const rel = path.relative(root, name);
      if (rel.startsWith('..') || rel.split(path.sep).includes('node_modules')) continue;
      const source = project.program.getSourceFile(name)!;
      const targets: string[] = [];
      for (const spec of source.imports) {
        const text = (spec as unknown as { text: string }).text;
        if (text.startsWith('.')) targets.push(path.relative(root, path.resolve(path.dirname(name), text)));
      }
      graph.set(rel, targets);
    }
    return graph;
  } finally {
    api.close();
  }
}

const graph = importGraph();
const folderOf = (file: string): string => file.split(path.sep)[0]!;

t.test('the README layout table names every folder of code, and only folders that exist', async (t) => {
  const folders = codeFolders();
  for (const f of folders) t.ok(floors.has(f), `${f}/ is in the README's Layout table`);
  for (const f of floors.keys()) t.ok(fs.existsSync(path.join(root, f)), `${f}/ (README Layout) exists`);
  t.ok(layered.length >= 8, `the table gives floors to the layers (${layered.join(', ')})`);
});

t.test("the README's layering sentence says what the table says", async (t) => {
  const sentence = /Layers, from the bottom: ([^\n]*(?:\n[^\n]+)*?)\./.exec(readme)?.[1];
  t.ok(sentence, 'README states the layers ("Layers, from the bottom: …")');
  if (!sentence) return;
  const [chain, beside = ''] = sentence.split(/;| with /);
  const order = [...chain!.matchAll(/`([a-z-]+)\/`/g)].map((m) => m[1]!);
  for (let i = 1; i < order.length; i++) {
    t.ok(floors.get(order[i - 1]!)! < floors.get(order[i]!)!, `${order[i - 1]}/ is below ${order[i]}/`);
  }
  for (const m of beside.matchAll(/`([a-z-]+)\/` beside `([a-z-]+)\/`/g)) {
    t.equal(floors.get(m[1]!), floors.get(m[2]!), `${m[1]}/ is on the floor of ${m[2]}/`);
  }
  t.same(new Set([...order, ...[...beside.matchAll(/`([a-z-]+)\/`/g)].map((m) => m[1]!)]), new Set(layered), 'the sentence names every layer');
});

t.test('every import goes to the same layer or one below', async (t) => {
  const upward: string[] = [];
  let checked = 0;
  for (const [file, targets] of graph) {
    const own = floors.get(folderOf(file));
    if (own === undefined) continue;
    for (const target of targets) {
      const to = folderOf(target);
      checked++;
      if (to === folderOf(file)) continue;
      const floor = floors.get(to);
      if (floor === undefined || floor >= own) upward.push(`${file} -> ${target}`);
    }
  }
  t.ok(checked > 300, `${checked} imports checked`);
  t.same(upward, [], 'no import to a higher layer, a sibling layer, or test/bench code');
});

t.test('the browser app imports nothing of the server but the API wire types', async (t) => {
  const bad: string[] = [];
  for (const [file, targets] of graph) {
    if (!file.startsWith(`studio${path.sep}app${path.sep}`)) continue;
    for (const target of targets) {
      if (!target.startsWith(`studio${path.sep}app${path.sep}`) && target !== path.join('studio', 'api', 'wire.ts')) bad.push(`${file} -> ${target}`);
    }
  }
  t.same(bad, []);
});

t.test('the app and the server share the wire types by type-only imports: nothing of the server is bundled', async (t) => {
  const wire = fs.readFileSync(path.join(root, 'studio', 'api', 'wire.ts'), 'utf8');
  const statements = wire.split('\n').filter((l) => /^(import|export)\b/.test(l));
  t.same(statements.filter((l) => !/^(import type|export type|export interface)\b/.test(l)), [], 'studio/api/wire.ts declares and imports types only');
  const untyped: string[] = [];
  let typed = 0;
  for (const file of graph.keys()) {
    if (!file.startsWith(`studio${path.sep}app${path.sep}`)) continue;
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    for (const m of text.matchAll(/^import\b[^;]*?from '(\.\.\/api\/wire\.ts)';/gms)) {
      if (/^import type\b/.test(m[0])) typed++;
      else untyped.push(`${file}: ${m[0].split('\n')[0]}`);
    }
  }
  t.same(untyped, [], 'every import of the wire types in studio/app/ is `import type`');
  t.ok(typed >= 8, `${typed} app modules read the wire types`);
});

t.test('no two modules import each other, directly or around a circle', async (t) => {
  // Tarjan's strongly connected components over the module graph.
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const circle: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        circle.push(w);
      } while (w !== v);
      if (circle.length > 1) circles.push(circle.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  t.same(circles, []);
});
