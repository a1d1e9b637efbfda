// The studio's live traffic buffer keeps bounded copies of audit records: a stream of denied
// requests with large JSON bodies must not pile whole descriptions up in the studio's memory.
import t from 'tap';
import { boundedCopy, LIVE_BUFFER_BYTES, LIVE_RECORD_BYTES, LiveBuffer, liveRecord } from '../../studio/live.ts';

function bigRecord(i: number, body: unknown): { id: string; time: string; outcome: string; description: unknown } {
  return {
    id: `r${i}`, time: new Date().toISOString(), outcome: 'denied',
    description: { request: { method: 'POST', host: 'evil.example', path: '/upload', body: { size: 1 << 20, json: body } }, agent: { id: 'hostile' } },
  };
}

t.test('each record is cut to a bounded size, and says so', async (t) => {
  const body = { rows: Array.from({ length: 20_000 }, (_, i) => ({ id: i, note: 'x'.repeat(40) })), blob: 'y'.repeat(2 << 20) };
  const small = liveRecord(bigRecord(1, body));
  const size = JSON.stringify(small).length;
  t.ok(size < LIVE_RECORD_BYTES * 2, `bounded copy (${size} bytes)`);
  t.match(small.cut, /audit log has all of it/);
  t.equal((small.description as { request: { host: string } }).request.host, 'evil.example', 'the small fields stay as they are');
  const plain = liveRecord({ id: 'a', time: 't', outcome: 'forwarded', description: { request: { host: 'h', body: { size: 2 } } } });
  t.equal(plain.cut, undefined, 'a small record is not marked');
});

t.test('the copy visits only what it keeps', async (t) => {
  const huge = new Array(5_000_000).fill(0);
  const { value, cut } = boundedCopy({ huge, deep: JSON.parse('['.repeat(5000) + ']'.repeat(5000)) }, 4096);
  t.ok(cut);
  t.ok(JSON.stringify(value).length < 8192);
});

t.test('the buffer is bounded in bytes and in count', async (t) => {
  const body = { rows: Array.from({ length: 5000 }, (_, i) => ({ id: i, v: 'z'.repeat(100) })) };
  const buf = new LiveBuffer<ReturnType<typeof bigRecord>>(500);
  for (let i = 0; i < 2000; i++) buf.push(bigRecord(i, body));
  t.ok(buf.bytes <= LIVE_BUFFER_BYTES, `${buf.bytes} bytes kept`);
  const kept = buf.records();
  t.ok(kept.length <= 500 && kept.length > 100, `${kept.length} records kept`);
  t.equal(kept[kept.length - 1]!.id, 'r1999', 'the newest last');
  t.ok(JSON.stringify(kept).length <= LIVE_BUFFER_BYTES + kept.length * 64);
});

// Eighteenth pass: one agent's flood pushed a neighbour's records out of the recent list, and put
// every record whole on every studio tab. Over any interleaving of a flooder and a few neighbours
// (record sizes from a few bytes to past the live copy's bound), a neighbour's last records are
// kept while the flooder holds more than it, and what the flooder's records cost on the feed stays
// within its refilling share.
t.test('one agent cannot push a neighbour out of the recent list, nor take more than its share of the feed', async (t) => {
  const { default: fc } = await import('fast-check');
  const { LIVE_AGENT_BURST_BYTES, LIVE_AGENT_BYTES_PER_SECOND } = await import('../../studio/live.ts');
  const seed = process.env.AIRLOCK_FUZZ_SEED === undefined ? undefined : Number(process.env.AIRLOCK_FUZZ_SEED);
  fc.assert(fc.property(
    fc.array(fc.record({ agent: fc.constantFrom('flood', 'flood', 'flood', 'flood', 'n1', 'n2'), pad: fc.nat(30_000), ms: fc.nat(20) }), { minLength: 1, maxLength: 1500 }),
    (steps) => {
      let now = 0;
      const buf = new LiveBuffer<{ id: string; time: string; outcome: string; agent: string; description: unknown }>(200, 512 * 1024, () => now);
      const sent: Record<string, number> = {};
      const last: Record<string, string> = {};
      steps.forEach((s, i) => {
        now += s.ms;
        const out = buf.push({ id: `r${i}`, time: 't', outcome: 'denied', agent: s.agent, description: { request: { path: '/', headers: { x: ['p'.repeat(s.pad)] } } } });
        sent[s.agent] = (sent[s.agent] ?? 0) + Buffer.byteLength(JSON.stringify(out));
        last[s.agent] = `r${i}`;
      });
      const kept = buf.records();
      const count = (a: string): number => kept.filter((r) => r.agent === a).length;
      for (const n of ['n1', 'n2']) {
        if (!last[n] || count('flood') <= count(n)) continue;
        if (!kept.some((r) => r.id === last[n])) return false;
      }
      // Brief records (no description) are at most ~2 KiB each.
      const floods = steps.filter((s) => s.agent === 'flood').length;
      return (sent.flood ?? 0) <= LIVE_AGENT_BURST_BYTES + (now / 1000) * LIVE_AGENT_BYTES_PER_SECOND + floods * 3 * 1024;
    },
  ), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 30), ...(seed === undefined ? {} : { seed }) });
});

t.test('the recent list: a flood keeps the neighbour and loses its own oldest; records loaded at start are not charged', async (t) => {
  const buf = new LiveBuffer<{ id: string; time: string; outcome: string; agent?: string }>(10);
  buf.push({ id: 'n', time: 't', outcome: 'denied', agent: 'neighbour' });
  for (let i = 0; i < 50; i++) buf.push({ id: `f${i}`, time: 't', outcome: 'denied', agent: 'flood' });
  const ids = buf.records().map((r) => r.id);
  t.same(ids, ['n', ...Array.from({ length: 9 }, (_, i) => `f${41 + i}`)], 'the neighbour and the flood\'s newest, oldest first');
  const past = new LiveBuffer<{ id: string; time: string; outcome: string; agent?: string; description?: unknown }>(500);
  for (let i = 0; i < 100; i++) past.push({ id: `p${i}`, time: 't', outcome: 'denied', agent: 'a', description: { x: 'y'.repeat(12_000) } }, false);
  t.ok(past.records().every((r) => r.description), 'loaded at start: all whole');
});
