// The limiter core: exact counts at the boundary, refill with an injected clock, all-or-nothing
// charging across several keys, egress byte budgets, persistence across a restart.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { BucketTable, MAX_BUCKETS_PER_AGENT, RateLimiter, RateLimitError, readBuckets } from '../../state/ratelimit.ts';
import type { RateLimitDirective } from '../../engine/decision.ts';

function clock(start = 1_700_000_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}
const egress = (n: number) => ({ request: { egress_bytes: n } as never });

t.test('exactly `limit` requests pass in a window, the next one is refused', async (t) => {
  const c = clock();
  const table = new BucketTable(c.now);
  const rl: RateLimitDirective[] = [{ key: 'gh:alice', limit: 10, window: '1m' }];
  for (let i = 0; i < 10; i++) t.equal(table.charge(rl).ok, true, `request ${i + 1} passes`);
  const r = table.charge(rl);
  t.equal(r.ok, false, 'request 11 refused');
  if (!r.ok) {
    t.equal(r.retryAfter, 6, 'one token comes back after 60s/10 = 6 s');
    t.same(r.short.map((s) => [s.key, s.remaining]), [['gh:alice', 0]]);
    t.equal(r.impossible, false);
  }
});

t.test('refill over time: one token per window/limit, capped at the limit', async (t) => {
  const c = clock();
  const table = new BucketTable(c.now);
  const rl: RateLimitDirective[] = [{ key: 'k', limit: 10, window: '1m' }];
  for (let i = 0; i < 10; i++) table.charge(rl);
  c.advance(5999);
  const early = table.charge(rl);
  t.equal(early.ok, false, '1 ms before the token is back: refused');
  if (!early.ok) t.equal(early.retryAfter, 1, 'retry after rounds up to a whole second');
  c.advance(1);
  t.equal(table.charge(rl).ok, true, 'exactly at 6 s: one token');
  t.equal(table.charge(rl).ok, false, 'and only one');
  c.advance(3_600_000);
  let passed = 0;
  for (let i = 0; i < 20; i++) if (table.charge(rl).ok) passed++;
  t.equal(passed, 10, 'an idle hour refills to the limit, not beyond');
});

t.test('several keys of one decision are charged all-or-nothing', async (t) => {
  const c = clock();
  const table = new BucketTable(c.now);
  const both: RateLimitDirective[] = [
    { key: 'per-agent', limit: 5, window: '1h' },
    { key: 'global', limit: 3, window: '1m' },
  ];
  for (let i = 0; i < 3; i++) t.equal(table.charge(both).ok, true);
  const r = table.charge(both);
  t.equal(r.ok, false, 'global is empty');
  if (!r.ok) {
    t.same(r.short.map((s) => s.key), ['global']);
    t.equal(r.retryAfter, 20, '60 s / 3');
  }
  const view = Object.fromEntries(table.list().map((b) => [b.key, b.available]));
  t.equal(view['per-agent'], 2, 'the refused request charged nothing to per-agent');
  // Once global refills, per-agent still limits: 2 more, then the hourly bucket stops it.
  c.advance(60_000);
  t.equal(table.charge(both).ok, true);
  t.equal(table.charge(both).ok, true);
  const r2 = table.charge(both);
  t.equal(r2.ok, false);
  if (!r2.ok) {
    t.same(r2.short.map((s) => s.key), ['per-agent']);
    t.equal(r2.retryAfter, 660, '12 min per token, 1 min of it already refilled');
  }
});

t.test('cost and duplicate keys add up; a cost above the capacity is impossible', async (t) => {
  const table = new BucketTable(clock().now);
  t.equal(table.charge([{ key: 'k', limit: 10, window: 60, cost: 4 }, { key: 'k', limit: 10, window: 60, cost: 4 }]).ok, true, '8 of 10');
  t.equal(table.charge([{ key: 'k', limit: 10, window: 60, cost: 3 }]).ok, false, '3 more do not fit');
  t.equal(table.charge([{ key: 'k', limit: 10, window: 60, cost: 2 }]).ok, true, 'exactly 2 do');
  const r = table.charge([{ key: 'big', limit: 10, window: 60, cost: 11 }]);
  t.equal(r.ok, false);
  if (!r.ok) {
    t.equal(r.impossible, true);
    t.equal(r.retryAfter, 60);
  }
  t.equal(table.charge([{ key: 'free', limit: 1, window: 60, cost: 0 }]).ok, true);
  t.throws(() => table.charge([{ key: 'bad', limit: 0, window: 60 }]), /positive limit/);
  try {
    table.charge([{ key: 'bad', limit: 1, window: '0s' }]);
  } catch (err) {
    t.ok(err instanceof RateLimitError);
  }
  t.throws(() => table.charge([{ key: 'bad', limit: 1, window: '0s' }]), /positive limit/);
});

t.test('egress byte budgets charge the request egress bytes', async (t) => {
  const c = clock();
  const table = new BucketTable(c.now);
  const budget: RateLimitDirective[] = [{ key: 'drip', limit: 1000, window: '1h', unit: 'egress_bytes' }];
  t.equal(table.charge(budget, egress(600)).ok, true);
  t.equal(table.charge(budget, egress(400)).ok, true, 'exactly the budget');
  const r = table.charge(budget, egress(1));
  t.equal(r.ok, false, 'one byte more is refused');
  if (!r.ok) t.equal(r.retryAfter, 4, '1 byte of 1000/h comes back in 3.6 s → 4');
  t.equal(table.charge(budget, egress(0)).ok, true, 'a request with no egress costs nothing');
  // The same key counting requests is a different bucket.
  t.equal(table.charge([{ key: 'drip', limit: 1, window: '1h' }]).ok, true);
  const units = table.list().map((b) => `${b.key}/${b.unit}`);
  t.same(units, ['drip/egress_bytes', 'drip/requests']);
});

t.test('list shows refilled levels and time to full; reset refills', async (t) => {
  const c = clock();
  const table = new BucketTable(c.now);
  table.charge([{ key: 'k', limit: 4, window: '1m', cost: 4 }]);
  c.advance(15_000);
  const [b] = table.list();
  t.equal(b!.available, 1);
  t.equal(b!.full_in_s, 45);
  t.equal(b!.window_s, 60);
  t.equal(table.reset('k'), 1);
  t.match(table.list(), [{ key: 'k', available: 4, full_in_s: 0 }], 'a refilled bucket is still listed, full');
  c.advance(60_000);
  table.snapshot(); // drops full buckets from what is stored
  t.match(table.list(), [{ key: 'k', available: 4, limit: 4, window_s: 60, full_in_s: 0 }], 'full buckets stay listed after they stop being stored');
});

t.test('buckets persist across a restart; full buckets are not stored', async (t) => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-rl-'));
  t.teardown(() => fs.rmSync(home, { recursive: true, force: true, maxRetries: 10 }));
  const c = clock();
  const a = await RateLimiter.open(home, { now: c.now, flushMs: 60_000 });
  for (let i = 0; i < 3; i++) a.charge([{ key: 'persist', limit: 3, window: '1h' }]);
  a.charge([{ key: 'refills', limit: 100, window: '1s' }]);
  c.advance(2000);
  await a.close();
  const stored = JSON.parse(fs.readFileSync(path.join(home, 'ratelimits.json'), 'utf8'));
  t.same(Object.keys(stored.buckets), ['persist'], 'the refilled bucket is dropped');
  t.equal(fs.statSync(path.join(home, 'ratelimits.json')).mode & 0o777, 0o600);
  const b = await RateLimiter.open(home, { now: c.now, flushMs: 60_000 });
  t.equal(b.charge([{ key: 'persist', limit: 3, window: '1h' }]).ok, false, 'still empty after the restart');
  t.same((await readBuckets(home, c.now)).map((x) => x.key), ['persist']);
  await b.close();
});

t.test('a corrupt state file is refused, not overwritten', async (t) => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-rl-'));
  t.teardown(() => fs.rmSync(home, { recursive: true, force: true, maxRetries: 10 }));
  fs.writeFileSync(path.join(home, 'ratelimits.json'), '{not json');
  await t.rejects(RateLimiter.open(home), /ratelimits\.json/);
  t.equal(fs.readFileSync(path.join(home, 'ratelimits.json'), 'utf8'), '{not json');
});

t.test('one agent\'s buckets that have not refilled are bounded; another agent\'s are not affected', async (t) => {
  // Policies key buckets by host: an agent allowed a wildcard of hosts (or names that need not
  // even resolve: the charge comes before the lookup) made a bucket per name for an hour, in
  // memory and in every flush, without bound.
  const c = clock();
  const table = new BucketTable(c.now);
  const hostile = { request: { egress_bytes: 100 } as never, agent: { id: 'hostile' } };
  const perHost = (i: number): RateLimitDirective[] => [{ key: `host:h${i}.wild.example:hostile`, limit: 120, window: '1m' }, { key: `egress:h${i}.wild.example`, limit: 64 * 1024 * 1024, window: '1h', unit: 'egress_bytes' }];
  let passed = 0;
  for (let i = 0; i < MAX_BUCKETS_PER_AGENT; i++) if (table.charge(perHost(i), hostile).ok) passed++;
  t.equal(passed, MAX_BUCKETS_PER_AGENT / 2, `requests to ${MAX_BUCKETS_PER_AGENT / 2} hosts pass (two buckets each)`);
  const refused = table.charge(perHost(MAX_BUCKETS_PER_AGENT), hostile);
  t.equal(refused.ok, false, 'the next host\'s request is refused');
  if (!refused.ok) t.match(refused.reason, /already use 10000 rate-limit buckets/, 'saying why');
  t.equal(table.charge(perHost(0), hostile).ok, true, 'a host it already has a bucket for still passes');
  t.equal(table.charge([{ key: 'host:news.example:neighbour', limit: 120, window: '1m' }], { request: { egress_bytes: 0 } as never, agent: { id: 'neighbour' } }).ok, true, 'another agent\'s new bucket is made');
  // Ninth pass: the buckets came back from ratelimits.json at a restart without their owners, so
  // each restart handed an agent at its bound another 10,000.
  const restarted = new BucketTable(c.now, JSON.parse(JSON.stringify(table.snapshot())) as never);
  t.equal(restarted.charge(perHost(MAX_BUCKETS_PER_AGENT + 2), hostile).ok, false, 'after a restart the agent is still at its bound');
  t.equal(restarted.charge([{ key: 'host:other.example:neighbour', limit: 120, window: '1m' }], { request: { egress_bytes: 0 } as never, agent: { id: 'neighbour' } }).ok, true, 'and the neighbour is not');
  c.advance(60 * 60 * 1000 + 1000);
  t.equal(table.charge(perHost(MAX_BUCKETS_PER_AGENT + 1), hostile).ok, true, 'once its buckets refilled, the agent gets new ones');
});

t.test('a clock set back and then put right does not refill a bucket twice', async (t) => {
  // Ninth pass: each charge dated the bucket's level at the clock's time, also when that was earlier
  // than the level's own date: with the clock set back an hour (an NTP step, a snapshot restored)
  // and a charge meanwhile, putting the clock right refilled the bucket for that hour again.
  const c = clock();
  const table = new BucketTable(c.now);
  const rl: RateLimitDirective[] = [{ key: 'send:bot', limit: 10, window: '1h' }];
  for (let i = 0; i < 9; i++) table.charge(rl);
  c.advance(-3_600_000);
  t.equal(table.charge(rl).ok, true, 'the last token, charged while the clock is an hour behind');
  t.equal(table.charge(rl).ok, false, 'then empty');
  c.advance(3_600_000 + 60_000);
  let passed = 0;
  for (let i = 0; i < 10; i++) if (table.charge(rl).ok) passed++;
  t.equal(passed, 0, 'a minute after the clock is right again: no refill (a token takes 6 minutes)');
  const again = new BucketTable(c.now, table.snapshot());
  t.equal(again.charge(rl).ok, false, 'nor after a flush and a restart');
});
