// lib/quiet-collect.ts: a heap grown by a busy stretch is collected once the loop goes quiet, and
// never while the loop stays busy.
import t from 'tap';
import v8 from 'node:v8';
import { collectWhenQuiet } from '../../lib/quiet-collect.ts';

const heap = (): number => v8.getHeapStatistics().total_heap_size;
const MiB = 1024 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Garbage that grows the heap: kept alive while the stretch lasts, dropped after. */
function busyStretch(): void {
  let keep: unknown[] = [];
  for (let i = 0; i < 12; i++) keep.push(Array.from({ length: 50_000 }, (_, j) => ({ j, s: `v${j}` })));
  keep = [];
  void keep;
}

t.test('a heap grown by a busy stretch is given back once the loop is quiet', async (t) => {
  const quiet = collectWhenQuiet({ everyMs: 50, quietMs: 150, minGrowth: 4 * MiB });
  t.teardown(() => quiet.stop());
  busyStretch();
  const grown = heap();
  // Bounded: at most 40 looks of 50 ms.
  for (let i = 0; i < 40 && quiet.collections === 0; i++) await sleep(50);
  t.equal(quiet.collections, 1, 'collected once');
  t.ok(heap() < grown - 4 * MiB, `the heap shrank (${(grown / MiB).toFixed(1)} → ${(heap() / MiB).toFixed(1)} MiB)`);
  // Quiet on, nothing grew: no second collection.
  for (let i = 0; i < 8; i++) await sleep(50);
  t.equal(quiet.collections, 1, 'not again while nothing grew');
});

t.test('a loop that stays busy is never collected by it', async (t) => {
  const quiet = collectWhenQuiet({ everyMs: 50, quietMs: 150, minGrowth: 1 });
  t.teardown(() => quiet.stop());
  busyStretch();
  // Busy in every look: 30 ms of work out of each 50 ms (well over the 2 % share), for 20 looks.
  for (let i = 0; i < 20; i++) {
    const until = performance.now() + 30;
    while (performance.now() < until) busyStretch.length;
    await sleep(20);
  }
  t.equal(quiet.collections, 0, 'no collection while the loop is busy');
});
