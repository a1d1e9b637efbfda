// `airlock start`'s per-decision log lines are batched into few writes; none may be lost,
// reordered or held long.
import t from 'tap';
import { Writable } from 'node:stream';
import { lineBatcher } from '../../cli/line-batch.ts';

function sink(): { out: Writable; writes: string[] } {
  const writes: string[] = [];
  const out = new Writable({ write(chunk, _enc, cb) { writes.push(String(chunk)); cb(); } });
  return { out, writes };
}

t.test('lines of a burst leave together, in order, soon', async (t) => {
  const { out, writes } = sink();
  const lines = lineBatcher(out);
  for (let i = 0; i < 100; i++) lines.write(`line ${i}`);
  t.same(writes, [], 'nothing written synchronously');
  await new Promise((r) => setTimeout(r, 200));
  t.equal(writes.length, 1, 'one write for the burst');
  t.same(writes.join('').split('\n').slice(0, -1), Array.from({ length: 100 }, (_, i) => `line ${i}`));
});

t.test('a large backlog is written at once; flush writes what waits', async (t) => {
  const { out, writes } = sink();
  const lines = lineBatcher(out);
  const long = 'x'.repeat(1000);
  for (let i = 0; i < 70; i++) lines.write(long);
  t.equal(writes.length, 1, 'written when 64 KiB are pending, without waiting');
  lines.write('last');
  lines.flush();
  t.equal(writes.length, 2);
  t.equal(writes.join('').split('\n').filter(Boolean).length, 71, 'every line once');
  await new Promise((r) => setTimeout(r, 100));
  t.equal(writes.length, 2, 'no empty write after a flush');
});
