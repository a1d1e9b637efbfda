// Sessions end to end, with real clients (curl, Python requests, Node's fetch machinery) through a
// real Airlock running the default policy, against a real upstream: the trifecta holds a session's
// POST while a fresh session's identical POST passes; a human clearing a label lets it through;
// a served link can be fetched, the same link changed cannot; sessions survive a restart.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { tempDir } from '../temp-dir.ts';
import { stalledFile } from '../helpers/stalled-file.ts';
import { policyCopy, startSessionAirlock, startWeb, studioApi, testConfig, viaCurl, viaFetch, viaPython } from './helpers.ts';

t.test('the trifecta per session, a human clearing a label, browsing by provenance, and a restart', async (t) => {
  const web = await startWeb(t);
  const policy = policyCopy(t);
  const home = tempDir(t, 'al-sess-');
  let airlock = await startSessionAirlock(t, home, policy, web);
  const a = await airlock.agents.add('bot');
  const b = await airlock.agents.issueToken('bot', { label: 'second run' });
  let proxyA = airlock.proxyUrl('bot', a.token);
  let proxyB = airlock.proxyUrl('bot', b.token);
  const post = JSON.stringify({ rows: 'customer table' });

  // Session A reads an untrusted page (curl) and a private record (Python requests).
  const page = await viaCurl(proxyA, 'GET', `${web.origin('news.test')}/today`);
  t.equal(page.status, 200, 'the page is read');
  const record = await viaPython(proxyA, 'GET', `${web.origin('db.test')}/customers/1`);
  t.equal(record.status, 200, 'the record is read');

  // Its POST (Node fetch) is held; the agent asked to poll, so it hears 202 at once.
  const held = await viaFetch(airlock, 'bot', a.token, 'POST', `${web.origin('hooks.test')}/send`, post, { prefer: 'respond-async' });
  t.equal(held.status, 202, 'session A\'s POST is held for a human');
  const problem = JSON.parse(held.body) as { detail: string; approval_id: string };
  t.match(problem.detail, /untrusted content \(request [0-9a-f-]+ to news\.test\) and private data \(request [0-9a-f-]+ to db\.test\)/, 'the reason names both requests');
  t.notOk(web.hits.some((h) => h.host === 'hooks.test'), 'nothing reached the webhook');

  const api = await studioApi(airlock, home);
  const approval = (await api('GET', `/api/approvals/${problem.approval_id}`)).body.approval;
  t.equal(approval.rule, 'session.trifecta');
  t.equal(approval.risk, 'high');
  t.equal(approval.because.length, 2, 'the approval names the two earlier requests');
  const grant = await api('POST', `/api/approvals/${problem.approval_id}/approve`, { grant_minutes: 10, grant_high: true });
  t.equal(grant.status, 400, 'no grant for a hold the session\'s history caused');
  t.match(grant.body.error, /one at a time/);
  await api('POST', `/api/approvals/${problem.approval_id}/deny`, { message: 'no' });

  // A fresh session (the same agent's second token) sends the identical POST: not held.
  const fresh = await viaCurl(proxyB, 'POST', `${web.origin('hooks.test')}/send`, post);
  t.equal(fresh.status, 200, 'a fresh session\'s identical POST goes through');
  t.equal(web.hits.filter((h) => h.host === 'hooks.test').length, 1);

  // The sessions as the studio shows them.
  const list = (await api('GET', '/api/sessions')).body.sessions as Array<{ id: string; token: string; labels: Record<string, unknown> }>;
  const sa = list.find((s) => s.token === a.id)!;
  t.same(Object.keys(sa.labels).sort(), ['private', 'untrusted'], 'session A holds both labels');
  t.same(Object.keys(list.find((s) => s.token === b.id)!.labels), [], 'session B holds none');

  // A human clears "untrusted" (audited); the POST then goes through.
  const cleared = await api('POST', `/api/sessions/${sa.id}/clear`, { label: 'untrusted', reason: 'read the page myself' });
  t.equal(cleared.status, 200);
  const after = await viaPython(proxyA, 'POST', `${web.origin('hooks.test')}/send`, post);
  t.equal(after.status, 200, 'with the label cleared the POST passes');

  // Browsing: session B follows the link the page served; the same link changed is refused.
  await viaCurl(proxyB, 'GET', `${web.origin('news.test')}/today`);
  const link = `${web.origin('blog.test')}/post?id=4`;
  const followed = await viaCurl(proxyB, 'GET', link);
  t.equal(followed.status, 200, 'a served link can be fetched');
  t.match(followed.body, /ok blog\.test GET \/post\?id=4/);
  const changed = await viaFetch(airlock, 'bot', b.token, 'GET', `${link}&leak=4242`);
  t.equal(changed.status, 403, 'the same link with an added query parameter cannot');
  t.match(JSON.parse(changed.body).detail, /not in any response this session received/);
  const segment = await viaPython(proxyB, 'GET', `${web.origin('blog.test')}/post/4242?id=4`);
  t.equal(segment.status, 403, 'nor with an added path segment');
  t.equal(web.hits.filter((h) => h.host === 'blog.test').length, 1, 'only the served link reached the blog');
  // Links in a JSON answer (escaped slashes) count too — in a third session, which has seen none.
  const c = await airlock.agents.issueToken('bot');
  const proxyC = airlock.proxyUrl('bot', c.token);
  t.equal((await viaCurl(proxyC, 'GET', link)).status, 403, 'a session that was never served the link cannot fetch it');
  await viaCurl(proxyC, 'GET', `${web.origin('search.test')}/?q=x`);
  t.equal((await viaCurl(proxyC, 'GET', link)).status, 200, 'once a search answer served it, it can');
  // Compressed bodies in other charsets are read as the agent's client reads them (gzip + UTF-16LE,
  // brotli + Latin-1); the link's non-ASCII query is percent-encoded as a client sends it.
  for (const [path, target] of [['/gz', 'from-gz'], ['/br', 'from-br']] as const) {
    const served = `${web.origin('blog.test')}/${target}?q=caf%C3%A9`;
    t.equal((await viaCurl(proxyC, 'GET', served)).status, 403, `${target}: not served yet`);
    t.equal((await viaCurl(proxyC, 'GET', `${web.origin('packed.test')}${path}`)).status, 200);
    t.equal((await viaCurl(proxyC, 'GET', served)).status, 200, `${target}: a link in a ${path.slice(1)} body can be followed`);
    t.equal((await viaCurl(proxyC, 'GET', `${served}x`)).status, 403, `${target}: changed, it cannot`);
  }
  // Session A holds private: the search answer completes its trifecta, and following is held.
  await viaCurl(proxyA, 'GET', `${web.origin('search.test')}/?q=x`);
  t.equal((await viaCurl(proxyA, 'GET', link, undefined, { prefer: 'respond-async' })).status, 202, 'in the trifecta even a served link is held');
  await api('POST', `/api/sessions/${sa.id}/clear`, { label: 'untrusted' });

  // The audit log has the clear, and session ids on requests.
  const show = (await api('GET', `/api/sessions/${sa.id}`)).body.session as { events: Array<{ kind: string; label?: string }>; timeline: unknown[] };
  t.ok(show.events.some((e) => e.kind === 'cleared' && e.label === 'untrusted'), 'the timeline has the clear');
  t.ok(show.timeline.length >= 4, 'and the session\'s requests');

  // A restart keeps sessions: A reads the page again, and holds both labels again after it.
  await airlock.close();
  airlock = await startSessionAirlock(t, home, policy, web);
  proxyA = airlock.proxyUrl('bot', a.token);
  proxyB = airlock.proxyUrl('bot', b.token);
  const restarted = (await (await studioApi(airlock, home))('GET', `/api/sessions/${sa.id}`)).body.session as { labels: Record<string, unknown> };
  t.same(Object.keys(restarted.labels), ['private'], 'after the restart session A still holds private (and not the cleared label)');
  await viaCurl(proxyA, 'GET', `${web.origin('news.test')}/today`);
  const heldAgain = await viaCurl(proxyA, 'POST', `${web.origin('hooks.test')}/send`, post, { prefer: 'respond-async' });
  t.equal(heldAgain.status, 202, 'after the restart the session\'s POST is held again');
  const freshAfter = await viaCurl(proxyB, 'GET', link);
  t.equal(freshAfter.status, 200, 'seen links survive the restart too');
});

// Twenty-second pass (follow-up): the session journal was written with writeSync on the proxy's
// main thread, so a disk that stalls (a hung network file system, a device retrying) froze every
// agent's requests behind one agent's label. Must hold: while the journal's disk takes nothing, a
// neighbour is served at once; the answer that brings a label is held (never passed on before its
// label is kept) and is passed on once the disk takes the line; nothing is lost or reordered. The
// stall is real: sessions.jsonl is a FIFO whose pipe the test fills and nobody reads until it says so.
t.test('a stalled session journal freezes no neighbour; the answer that brings a label waits for it', async (t) => {
  const web = await startWeb(t);
  // notes.test brings no label: the neighbour's answers have nothing to keep before they are passed on.
  const policy = policyCopy(t, { config: { ...testConfig.config, labels: { hosts: { ...testConfig.config.labels.hosts, 'notes.test': [] } } } });
  // The pipe filled with empty lines: every write of the journal stalls from the first.
  const { dir: home, fifo } = stalledFile(t, 'al-sess-stall-', 'sessions.jsonl', { full: true });
  const airlock = await startSessionAirlock(t, home, policy, web, { studio: false });
  const reader = await airlock.agents.add('reader');
  const neighbour = await airlock.agents.add('neighbour');
  const read = viaFetch(airlock, 'reader', reader.token, 'GET', `${web.origin('news.test')}/today`);
  await new Promise((r) => setTimeout(r, 200));
  for (let i = 0; i < 3; i++) {
    const began = performance.now();
    const r = await viaFetch(airlock, 'neighbour', neighbour.token, 'GET', `${web.origin('notes.test')}/n${i}`);
    const took = performance.now() - began;
    t.equal(r.status, 200, `the neighbour's request ${i} is served while the journal's disk stalls`);
    t.ok(took < 2000, `within the bound (${Math.round(took)} ms)`);
  }
  let settled = false;
  void read.finally(() => (settled = true));
  await new Promise((r) => setTimeout(r, 50));
  t.notOk(settled, "the answer that brought a label is held while its label is not kept");
  const out = path.join(home, 'read.jsonl');
  const cat = spawn('sh', ['-c', 'exec cat "$0" > "$1"', fifo, out], { stdio: 'ignore' });
  const drained = new Promise((r) => cat.once('close', r)); // it ends once the journal is closed
  const page = await read;
  // Within the bound (5 s) the disk came back: the page is passed on; past it, an error without the page.
  if (page.status === 200) t.pass('the disk came back: the page is passed on');
  else t.notMatch(page.body, /Ignore previous instructions/, `past the bound: ${page.status}, the page not passed on`);
  await airlock.close();
  await drained;
  const lines = fs.readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { e: string; agent?: string; label?: string });
  t.same(lines.filter((l) => l.e === 'open').map((l) => l.agent).sort(), ['neighbour', 'reader'], 'both sessions were written once the disk came back');
  t.ok(lines.some((l) => l.e === 'label' && l.label === 'untrusted'), "and the reader's label, enforced from memory meanwhile");
});

// Twenty-third pass: an answer whose label the journal did not keep within its bound was refused as
// the body stage's failure, a 502 `response-unscrubbable` saying a credential was injected, where the
// store being unavailable is a 503 the agent retries. The stall is real (a FIFO nobody reads); only
// the bound is shortened. Must hold: 503 problem+json `store-unavailable`, the page not passed on.
t.test('an answer whose label is not kept within the bound is a 503 store-unavailable, not a 502', async (t) => {
  const web = await startWeb(t);
  const { dir: home, fifo } = stalledFile(t, 'al-sess-durable-', 'sessions.jsonl', { full: true });
  const airlock = await startSessionAirlock(t, home, policyCopy(t), web, { studio: false });
  (airlock.sessions as unknown as { opts: { durableMs: number } }).opts.durableMs = 300;
  const reader = await airlock.agents.add('reader');
  const page = await viaFetch(airlock, 'reader', reader.token, 'GET', `${web.origin('news.test')}/today`);
  t.equal(page.status, 503, `the store is unavailable: 503 (${page.status} ${page.body.slice(0, 300)})`);
  t.match(page.headers['content-type'], /problem\+json/);
  t.equal(JSON.parse(page.body).type?.split('/').pop(), 'store-unavailable');
  t.notMatch(page.body, /Ignore previous instructions/, 'the page is not passed on');
  // Drained so the journal can close.
  const cat = spawn('sh', ['-c', 'exec cat "$0" > /dev/null', fifo], { stdio: 'ignore' });
  const drained = new Promise((r) => cat.once('close', r));
  await airlock.close();
  await drained;
});
