// The studio's other traffic sources and restart behaviour: replay of an uploaded HAR and of the
// audit log (filtered), captured requests for the evaluate picker, the live feed following an
// audit file written by another process, and a published version staying live after a restart.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { PolicyEngine } from '../../engine/engine.ts';
import { buildStudioApp, startStudio } from '../../studio/server.ts';
import { ensureAdminToken } from '../../studio/auth.ts';
import { TOKEN, basePolicy, description, loginSession, makeProject } from './helpers.ts';

const project = makeProject();
t.teardown(project.cleanup);
const repoFixtures = path.resolve('fixtures', 'traffic');

function auditLine(agent: string, method: string, url: string, time: string, action: string): string {
  const d = description(method, url, time) as { agent: { id: string } };
  d.agent.id = agent;
  return JSON.stringify({ time, id: `id-${time}`, agent, method, url, host: new URL(url).hostname, decision: { action, reason: 'recorded', rule: action }, outcome: 'forwarded', status: 200, description: d });
}

const app = await buildStudioApp({ home: project.home, projectRoot: project.root, token: TOKEN });
t.teardown(() => app.close());
const s = await loginSession(app);

t.test('status says when no proxy runs in this process', async (t) => {
  const st = (await s.call({ method: 'GET', url: '/api/status' })).json();
  t.equal(st.proxy.running, false);
  t.equal(st.policy.running, null);
  t.match(st.policy.live, /rego$/, 'the live policy falls back to the project policy folder');
  const approvals = (await s.call({ method: 'GET', url: '/api/approvals' })).json();
  t.equal(approvals.available, false, 'approvals say they are not available');
});

t.test('replay an uploaded HAR file against the draft', async (t) => {
  const har = fs.readFileSync(path.join(repoFixtures, 'agent-session.har'), 'utf8');
  const r = await s.call({ method: 'POST', url: '/api/replay', payload: { source: 'har', har } });
  t.equal(r.statusCode, 200, r.body.slice(0, 300));
  const rep = r.json().report;
  const entries = (JSON.parse(har) as { log: { entries: unknown[] } }).log.entries.length;
  t.equal(rep.decided + rep.skipped, entries, 'every HAR entry is decided or skipped with a reason');
  t.ok(rep.decided > 0);
  t.equal(rep.changed, 0, 'draft and live are the same policy: nothing changes');
  const empty = await s.call({ method: 'POST', url: '/api/replay', payload: { source: 'har', har: '' } });
  t.equal(empty.statusCode, 400);
  const junk = await s.call({ method: 'POST', url: '/api/replay', payload: { source: 'nope' } });
  t.equal(junk.statusCode, 400);
});

t.test('the audit log: live feed from the file, captures for the picker, filtered replay', async (t) => {
  const noLog = await s.call({ method: 'POST', url: '/api/replay', payload: { source: 'audit' } });
  t.equal(noLog.statusCode, 400);
  t.match(noLog.json().error, /no traffic has been captured/);

  const lines = [
    auditLine('bot', 'GET', 'https://api.github.com/repos/a/b', '2026-01-05T09:00:00Z', 'allow'),
    auditLine('bot', 'POST', 'https://api.github.com/repos/a/b/issues', '2026-01-05T10:00:00Z', 'deny'),
    auditLine('ops', 'POST', 'https://api.stripe.com/v1/refunds', '2026-01-05T11:00:00Z', 'deny'),
  ];
  fs.appendFileSync(path.join(project.home, 'audit.jsonl'), lines.join('\n') + '\n');
  // Another process appends: the tail picks it up (fs.watch, or its 1 s poll).
  let recent: Array<{ id: string }> = [];
  for (let i = 0; i < 100 && recent.length < 3; i++) {
    await new Promise((r) => setTimeout(r, 50));
    recent = (await s.call({ method: 'GET', url: '/api/traffic/recent' })).json().records;
  }
  t.equal(recent.length, 3, 'the live feed followed the audit file');

  const caps = (await s.call({ method: 'GET', url: '/api/captures?agent=bot' })).json().records as Array<{ id: string; agent: string }>;
  t.same(caps.map((c) => c.id), ['id-2026-01-05T10:00:00Z', 'id-2026-01-05T09:00:00Z'], 'newest first, filtered by agent');
  const all = (await s.call({ method: 'GET', url: '/api/captures?limit=2' })).json().records as Array<{ id: string }>;
  t.same(all.map((c) => c.id), ['id-2026-01-05T11:00:00Z', 'id-2026-01-05T10:00:00Z'], 'unfiltered: the newest, from the end of the log');

  await s.call({ method: 'PUT', url: '/api/policy/file', payload: { path: 'airlock.rego', content: basePolicy.replace('input.request.method == "GET"', 'input.request.method in {"GET", "POST"}') } });
  const r = await s.call({ method: 'POST', url: '/api/replay', payload: { source: 'audit', host: 'api.github.com', since: '2026-01-05T08:00:00Z', until: '2026-01-05T12:00:00Z' } });
  t.equal(r.statusCode, 200, r.body.slice(0, 300));
  const rep = r.json().report;
  t.equal(rep.decided, 2, 'only api.github.com');
  t.equal(rep.changed, 1);
  t.match(rep.changedRows[0], { input: { request: { method: 'POST', host: 'api.github.com' } }, before: { action: 'deny' }, after: { action: 'allow' } });
  const vsLog = await s.call({ method: 'POST', url: '/api/replay', payload: { source: 'audit', compare: 'recorded', host: 'api.github.com' } });
  t.equal(vsLog.statusCode, 200);
  t.equal(vsLog.json().compare, 'recorded');
  t.equal(vsLog.json().report.mode, 'log', 'compared with the decisions recorded in the audit log');
  t.equal(vsLog.json().report.transitions['deny → allow'], 1);
  const badTime = await s.call({ method: 'POST', url: '/api/replay', payload: { source: 'audit', since: 'yesterday-ish' } });
  t.equal(badTime.statusCode, 400);
});

t.test('a version published in the studio is live again after a restart', async (t) => {
  const v = await s.call({ method: 'POST', url: '/api/policy/publish', payload: { note: 'POST too' } });
  t.equal(v.statusCode, 200, v.body);
  const published = v.json().record.version as string;

  // A restart: a fresh engine loaded from the policy folder, then the studio starts.
  const engine = new PolicyEngine({ mode: 'inline' });
  t.teardown(() => engine.close());
  await engine.loadFolder(project.policy);
  t.not(engine.version, published);
  ensureAdminToken(project.home); // the token exists from the first start
  const lines: string[] = [];
  const studio = await startStudio({ home: project.home, policyDir: project.policy, engine }, { port: 0, log: (l) => lines.push(l), terminal: true, projectRoot: project.root });
  t.teardown(() => studio.close());
  t.equal(engine.version, published, 'the published version was loaded');
  t.match(lines.join('\n'), /studio-published version/);
  t.match(lines.join('\n'), /token in .*studio-token/, 'the login URL is not printed again');
  t.notMatch(lines.join('\n'), TOKEN);
  const res = await fetch(`${studio.url}api/status`);
  t.equal(res.status, 401, 'the real listener needs login too');
  const page = await fetch(studio.url);
  t.equal(page.status, 200);
  t.match(await page.text(), /<airlock-studio>/);
  t.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
});

t.test('an extra origin (reverse proxy) is accepted for Host and Origin; others still are not', async (t) => {
  const proxied = await buildStudioApp({ home: project.home, projectRoot: project.root, token: TOKEN, allowedOrigins: ['https://airlock.example'] });
  t.teardown(() => proxied.close());
  const login = await proxied.inject({ method: 'POST', url: '/api/login', headers: { host: 'airlock.example', origin: 'https://airlock.example' }, payload: { token: TOKEN } });
  t.equal(login.statusCode, 200);
  t.match(String(login.headers['set-cookie']), /; Secure/, 'HTTPS origin: the cookie is Secure');
  const other = await proxied.inject({ method: 'POST', url: '/api/login', headers: { host: 'airlock.example', origin: 'https://evil.example' }, payload: { token: TOKEN } });
  t.equal(other.statusCode, 403);
  const otherHost = await proxied.inject({ method: 'GET', url: '/', headers: { host: 'evil.example' } });
  t.equal(otherHost.statusCode, 421);
});

t.test('captures for the picker are bounded in bytes, not only in count', async (t) => {
  // Each record carries its request's parsed body (up to the 1 MiB capture cap): 500 of an agent's
  // largest requests were gigabytes of heap in the process that also runs the proxy.
  const big = 'x'.repeat(1024 * 1024);
  const lines: string[] = [];
  for (let i = 0; i < 24; i++) {
    const time = `2026-01-06T10:${String(i).padStart(2, '0')}:00Z`;
    const line = JSON.parse(auditLine('big', 'POST', 'https://api.github.com/repos/a/b/issues', time, 'deny')) as { description: { request: { body: Record<string, unknown> } } };
    line.description.request.body.json = { text: big };
    lines.push(JSON.stringify(line));
  }
  fs.appendFileSync(path.join(project.home, 'audit.jsonl'), lines.join('\n') + '\n');
  const r = await s.call({ method: 'GET', url: '/api/captures?agent=big&limit=500' });
  t.equal(r.statusCode, 200);
  const records = r.json().records as Array<{ id: string }>;
  t.ok(records.length >= 10 && records.length <= 16, `${records.length} of 24 records of 1 MiB each: within 16 MiB`);
  t.ok(r.body.length <= 16 * 1024 * 1024 + 2 * 1024 * 1024, `the answer is ${Math.round(r.body.length / 1024 / 1024)} MiB`);
  t.equal(records[0]!.id, 'id-2026-01-06T10:23:00Z', 'the newest first');
});
