// The embedded session store: a session per token, labels kept from their first arrival and
// written before the call returns, a journal replayed on open (a torn last line cut off, damage
// refused), compaction to a snapshot, and the documented bounds.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { JournalSessionStore } from '../../state/sessions.ts';
import { tempDir } from '../temp-dir.ts';
import { watchLoopTurns } from '../helpers/loop-turns.ts';

const at = (n: number): string => new Date(Date.UTC(2026, 0, 5, 10, 0, n)).toISOString();

t.test('sessions per token; labels, counters and links survive reopening', async (t) => {
  const home = tempDir(t);
  let store = JournalSessionStore.open(home, { flushMs: 0 });
  const first = await store.enter('bot', 'tok1', at(1), { url: 'https://a.example/x', host: 'a.example' });
  t.same(first.session.labels, {});
  t.equal(first.session.requests, 0);
  t.equal(first.hostSeen, false);
  const other = await store.enter('bot', 'tok2', at(2));
  t.not(other.session.id, first.session.id, 'another token is another session');
  const id = first.session.id;
  t.same(await store.addLabels(id, ['untrusted'], { request_id: 'r1', host: 'news.example', time: at(3) }), ['untrusted']);
  t.same(await store.addLabels(id, ['untrusted', 'private'], { request_id: 'r2', host: 'db.example', time: at(4) }), ['private'], 'a label arrives once; the first arrival stays');
  store.addLinks(id, { request_id: 'r1', host: 'news.example' }, ['https://a.example/x', 'https://a.example/y']);
  store.addEgress(id, 100);
  const again = await store.enter('bot', 'tok1', at(5), { url: 'https://a.example/x', host: 'a.example' });
  t.same(again.seen, { request_id: 'r1', host: 'news.example' });
  t.equal(again.session.requests, 1);
  t.equal((await store.enter('bot', 'tok1', at(6), { url: 'https://a.example/z', host: 'a.example' })).hostSeen, true);
  await store.close();

  store = JournalSessionStore.open(home, { flushMs: 0 });
  const back = await store.enter('bot', 'tok1', at(7), { url: 'https://a.example/y', host: 'a.example' });
  t.equal(back.session.id, id, 'the token keeps its session across a restart');
  t.same(back.session.labels.untrusted, { request_id: 'r1', host: 'news.example', time: at(3) });
  t.ok(back.session.labels.private);
  t.equal(back.session.requests, 3);
  t.equal(back.session.egress_bytes, 100);
  t.ok(back.seen, 'links survive too');

  await store.clearLabel(id, 'untrusted', 'cli', 'read it myself');
  await t.rejects(store.clearLabel(id, 'untrusted', 'cli'), { name: 'SessionError', code: 'bad-request' });
  await store.reset(id, 'studio');
  const next = await store.enter('bot', 'tok1', at(8));
  t.not(next.session.id, id, 'after a reset the token starts a new session');
  t.same(next.session.labels, {});
  t.throws(() => store.get('s_'), /too short/);
  await store.close();

  // Labels are on disk before addLabels returns: a crash right after loses none.
  store = JournalSessionStore.open(home, { flushMs: 0 });
  t.same(Object.keys(store.get(id).labels), ['private'], 'the clear survives');
  t.equal(store.get(id).ended?.by, 'studio');
  await store.close();
});

t.test('twenty-ninth pass: ended sessions dropped past the bound keep the newest holder of each wrote: label, across a restart', async (t) => {
  // A run that stored a link on a paste host (`wrote:paste.example`), then more ended runs than the
  // bound keeps: the compaction dropped the oldest, its `wrote:` label with it, and after a restart
  // every session was decided without it (the paste's links were followable again).
  const home = tempDir(t);
  let store = JournalSessionStore.open(home, { flushMs: 0, limits: { endedSessionsKept: 1 } });
  const writer = await store.enter('bot', 'run1', at(1));
  await store.addLabels(writer.session.id, ['wrote:paste.example', 'untrusted'], { request_id: 'r1', host: 'paste.example', time: at(1) });
  await store.reset(writer.session.id, 'run-ended');
  for (let n = 2; n <= 4; n++) {
    const other = await store.enter('bot', `run${n}`, at(n));
    await store.addLabels(other.session.id, ['untrusted'], { request_id: `r${n}`, host: 'news.example', time: at(n) });
    await store.reset(other.session.id, 'run-ended');
  }
  await store.compact();
  await store.close();
  store = JournalSessionStore.open(home, { flushMs: 0, limits: { endedSessionsKept: 1 } });
  const kept = store.list().filter((x) => x.labels['wrote:paste.example']);
  t.equal(kept.length, 1, 'the wrote: label is still held after the compaction and a restart');
  t.ok(store.list().length <= 2, 'the others beyond the bound are dropped (the newest ended one and the holder stay)');
  await store.close();
});

t.test('a torn last line is cut off; damage elsewhere refuses to open', async (t) => {
  const home = tempDir(t);
  const store = JournalSessionStore.open(home, { flushMs: 0 });
  const { session } = await store.enter('bot', 'tok', at(1));
  await store.addLabels(session.id, ['private'], { request_id: 'r', host: 'h', time: at(2) });
  await store.close();
  const file = path.join(home, 'sessions.jsonl');
  fs.appendFileSync(file, '{"e":"label","id":"');
  const reopened = JournalSessionStore.open(home, { flushMs: 0 });
  t.ok(reopened.get(session.id).labels.private);
  await reopened.close();
  t.ok(fs.readFileSync(file, 'utf8').endsWith('\n'), 'the torn tail was removed');
  fs.writeFileSync(file, `garbage\n${fs.readFileSync(file, 'utf8')}`);
  t.throws(() => JournalSessionStore.open(home, { flushMs: 0 }), /sessions\.jsonl is unreadable/);
});

t.test('bounds: links per session (oldest first), all links, compaction keeps the state', async (t) => {
  const home = tempDir(t);
  const store = JournalSessionStore.open(home, { flushMs: 0, compactBytes: 4096, limits: { linksPerSession: 5, linkBytesTotal: 2000 } });
  const a = (await store.enter('bot', 'a', at(1))).session.id;
  const b = (await store.enter('bot', 'b', at(2))).session.id;
  store.addLinks(a, { request_id: 'r', host: 'h' }, Array.from({ length: 8 }, (_, i) => `https://x.example/${i}`));
  t.equal(store.get(a).links, 5);
  t.notOk(store.seen(a, 'https://x.example/0'), 'the oldest links went first');
  t.ok(store.seen(a, 'https://x.example/7'));
  await store.enter('bot', 'b', at(9));
  store.addLinks(b, { request_id: 'r', host: 'h' }, Array.from({ length: 5 }, (_, i) => `https://y.example/${'p'.repeat(300)}${i}`));
  t.equal(store.get(a).links, 0, 'over the total, the least recently active session forgets its links');
  await store.addLabels(a, ['untrusted'], { request_id: 'r', host: 'h', time: at(10) });
  for (let i = 0; i < 200; i++) store.noteRequest(b, { id: `q${i}`, time: at(11), method: 'GET', url: 'https://y.example/', host: 'y.example', outcome: 'forwarded' });
  store.flush();
  await store.compact();
  const size = fs.statSync(path.join(home, 'sessions.jsonl')).size;
  t.ok(size < 64 * 1024, `the journal was compacted (${size} bytes)`);
  await store.close();
  const back = JournalSessionStore.open(home, { flushMs: 0 });
  t.ok(back.get(a).labels.untrusted, 'labels survive compaction');
  t.equal(back.get(b).links, 5);
  t.equal(back.get(b).timeline.length, 200);
  await back.close();
});

t.test('twenty-first pass: compacting many sessions at their link bounds takes turns; what is written meanwhile is kept', async (t) => {
  // Done in one go, compacting 10 sessions holding 1 MiB of links each held the event loop ~0.6 s
  // (64 sessions: 3 s), and one agent whose answers carry new links grows the journal to the next
  // compaction as often as it likes.
  const home = tempDir(t);
  const store = JournalSessionStore.open(home, { flushMs: 0, compactBytes: 1e12 });
  const ids: string[] = [];
  for (let a = 0; a < 10; a++) {
    const id = (await store.enter(`agent${a}`, `tok${a}`, at(1))).session.id;
    ids.push(id);
    for (let r = 0; r < 25; r++) {
      store.addLinks(id, { request_id: `r${a}-${r}`, host: 'h.example' }, Array.from({ length: 200 }, (_, i) => `https://h.example/${a}/${r}/${i}/${'x'.repeat(170)}`));
    }
  }
  await store.addLabels(ids[0]!, ['untrusted'], { request_id: 'r', host: 'h.example', time: at(2) });
  store.flush();
  const loop = watchLoopTurns();
  const started = performance.now();
  const compacting = store.compact();
  // Meanwhile: a label, new links and a session of a newcomer are written to the journal.
  await new Promise((r) => setTimeout(r, 5));
  await store.addLabels(ids[1]!, ['private'], { request_id: 'r2', host: 'db.example', time: at(3) });
  store.addLinks(ids[2]!, { request_id: 'late', host: 'h.example' }, ['https://h.example/late']);
  const late = (await store.enter('newcomer', 'tok-late', at(4))).session.id;
  store.flush();
  await compacting;
  const took = performance.now() - started;
  const { turns, longest } = loop.stop();
  t.ok(turns >= 5, `the compaction took turns (${turns} of the ticker's in ${Math.round(took)} ms)`);
  t.ok(longest < Math.max(250, took / 3), `no turn held the loop for long (${Math.round(longest)} ms of ${Math.round(took)} ms)`);
  await store.close();
  const size = fs.statSync(path.join(home, 'sessions.jsonl')).size;
  const back = JournalSessionStore.open(home, { flushMs: 0 });
  t.ok(back.get(ids[0]!).labels.untrusted, 'a label from before the compaction survives');
  t.ok(back.get(ids[1]!).labels.private, 'a label written while it ran survives');
  t.ok(back.seen(ids[2]!, 'https://h.example/late'), 'a link written while it ran survives');
  t.ok(back.seen(ids[3]!, `https://h.example/3/24/199/${'x'.repeat(170)}`), 'the links of before survive');
  t.equal(back.get(late).agent, 'newcomer', 'a session opened while it ran survives');
  t.ok(size < 20 * 1024 * 1024, `the journal is the snapshot (${size} bytes)`);
  await back.close();
});
