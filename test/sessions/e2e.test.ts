// Sessions end to end, with real clients (curl, Python requests, Node's fetch machinery) through a
// real Airlock running the default policy, against a real upstream: the trifecta holds a session's
// POST while a fresh session's identical POST passes; a human clearing a label lets it through;
// a served link can be fetched, the same link changed cannot; sessions survive a restart.
import t from 'tap';
import { tempDir } from '../temp-dir.ts';
import { policyCopy, startSessionAirlock, startWeb, studioApi, viaCurl, viaFetch, viaPython } from './helpers.ts';

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
