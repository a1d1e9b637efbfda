// The default policy labels a service read by its operation globs (config labels.services). It
// matches them through a fast path (rego/sessions.rego, operation_listed) when no pattern uses a
// glob feature but "*": a literal pattern compared as text, a "*" pattern only tried on operations
// that begin with its text up to the first "*". Property: for any pattern lists and operations,
// the labels are the ones glob.match gives pattern by pattern — which is what the policy does for
// a list holding any other glob feature, so adding "{x}" (matches only "x", never generated)
// to every list gives the reference, computed by the same WebAssembly.
import t from 'tap';
import fc from 'fast-check';
import path from 'node:path';
import { PolicyEngine } from '../../engine/engine.ts';
import { projectRoot } from '../../engine/toolchain.ts';
import { loadAdapters } from '../../describe/adapters/index.ts';
import { describeRequest } from '../../describe/describe.ts';
import { mergeData } from '../../offline/traffic-tests.ts';

await loadAdapters();
const engine = new PolicyEngine({ mode: 'inline', timeoutMs: 10_000 });
t.teardown(() => engine.close());
const shipped = await engine.loadFolder(path.join(projectRoot, 'rego'));

/** A GitHub read the default policy allows, its operation replaced by `op`. */
function read(op: string) {
  const d = describeRequest({ method: 'GET', url: 'https://api.github.com/repos/acme/app', headers: [], body: Buffer.alloc(0), bodyTruncated: false }, { agent: { id: 'agent-7', labels: {} } });
  d.service = { ...d.service!, operation: op };
  return d;
}

/** The labels each operation gets with `lists` as GitHub's label patterns (label "l<i>" for list i). */
async function labelsOf(lists: string[][], ops: string[]): Promise<string[][]> {
  const services = { github: Object.fromEntries(lists.map((l, i) => [`l${i}`, l])) };
  await engine.load({ ...shipped, data: mergeData(shipped.data, { config: { labels: { services } } }) });
  const out: string[][] = [];
  for (const op of ops) {
    const d = await engine.decide(read(op));
    if (d.action !== 'allow') throw new Error(`a GitHub read was not allowed: ${d.reason}`);
    out.push([...(d.labels ?? [])].sort());
  }
  return out;
}

const segment = fc.stringMatching(/^[ab\]},!]{0,3}$/);
const op = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join('.'));
// Mostly what configurations hold (literal segments, "*" and "**"), sometimes the other features.
const patternPart = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('a', 'b', 'ab', '.', '*', '**', 'a*', '*b') },
  { weight: 1, arbitrary: fc.constantFrom('?', '[ab]', '[!a]', '{a,b}', '\\*', '\\a', ']', '}', ',', '!') },
);
const pattern = fc.array(patternPart, { minLength: 1, maxLength: 5 }).map((p) => p.join(''));

t.test('operation globs label exactly as glob.match pattern by pattern', async (t) => {
  let compared = 0;
  await fc.assert(fc.asyncProperty(
    fc.array(fc.array(pattern, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 30 }),
    fc.array(op, { minLength: 1, maxLength: 12 }),
    async (lists, ops) => {
      const fast = await labelsOf(lists, ops);
      const reference = await labelsOf(lists.map((l) => [...l, '{x}']), ops);
      compared += ops.length;
      t.same(fast, reference);
      return JSON.stringify(fast) === JSON.stringify(reference);
    },
  ), { numRuns: 40 });
  t.ok(compared > 0);
});

t.test('the shipped patterns still label what they name', async (t) => {
  await engine.load(shipped);
  const labels = async (operation: string) => (await engine.decide(read(operation))).labels ?? [];
  t.same(await labels('repos.get'), ['untrusted'], 'a literal pattern');
  t.same(await labels('issues.list_for_repo'), ['untrusted'], 'issues.*');
  t.same(await labels('repos.download_tarball'), ['private', 'untrusted'], 'repos.download_*, in both lists');
  t.same(await labels('actions.list_workflow_runs'), ['private', 'untrusted'], 'actions.*');
  t.same(await labels('issues.comments.list'), [], '"*" does not cross a "."');
  t.same(await labels('users.get_authenticated'), [], 'a read no pattern names');
});

t.test('a pattern list with a mistake still labels by its other patterns', async (t) => {
  const lists = [['zz.*', 5], ['zz.*', null, 'yy.*'], { a: 'zz.*' }] as unknown as string[][];
  t.same(await labelsOf(lists, ['zz.get', 'yy.get', 'xx.get']), [['l0', 'l1', 'l2'], ['l1'], []]);
});
