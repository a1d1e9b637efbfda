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
