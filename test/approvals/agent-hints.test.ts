// What a held request tells the agent: the approval id and where a human approves it in every
// answer, an immediate 202 for agents that prefer to poll (Prefer: respond-async, RFC 7240) and
// the retry that follows, and an immediate 403 approval-unavailable when no one can approve
// (`airlock start --no-studio`, a real process).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { AgentStore } from '../../state/agents.ts';
import { cli, curl, policyDir, run, startRunning, startUpstream, tempHome } from './helpers.ts';

const home = tempHome(t);
const up = await startUpstream(t);
const r = await startRunning(t, home, up);
const url = (p: string) => `http://api.example:${up.port}${p}`;
const arrived = (p: string) => up.received.filter((x) => x.url === p);

t.test('approved while held: the upstream answer carries Airlock-Approval-Id', async (t) => {
  const reply = curl(r, 'POST', url('/send/held'), { body: '{}' });
  const [a] = await r.api.pending(1);
  await r.api.call('POST', `/api/approvals/${a!.id}/approve`, {});
  const res = await reply;
  t.equal(res.status, 200);
  t.equal(res.headers['airlock-approval-id'], a!.id);
});

t.test('approved, then refused by Airlock (a blocked destination): the refusal still names the approval', async (t) => {
  // other.example is pinned to 127.0.0.1, whose port 1 is not opened: destination safety refuses after the approval.
  const reply = curl(r, 'POST', 'http://other.example:1/send/blocked', { body: '{}' });
  const [a] = await r.api.pending(1);
  await r.api.call('POST', `/api/approvals/${a!.id}/approve`, {});
  const res = await reply;
  t.equal(res.status, 403);
  t.match(res.json(), { type: 'https://airlock.dev/problems/destination-blocked' });
  t.equal(res.headers['airlock-approval-id'], a!.id);
});

t.test('denied: the 403 names the approval in a header and the body', async (t) => {
  const reply = curl(r, 'POST', url('/send/denied'), { body: '{}' });
  const [a] = await r.api.pending(1);
  await r.api.call('POST', `/api/approvals/${a!.id}/deny`, { message: 'not now' });
  const res = await reply;
  t.equal(res.status, 403);
  t.equal(res.headers['airlock-approval-id'], a!.id);
  t.match(res.json(), { type: 'https://airlock.dev/problems/approval-denied', approval_id: a!.id, message: 'not now' });
});

t.test('nobody answered in time: the 403 says where and how to approve, and how to retry', async (t) => {
  const res = await curl(r, 'POST', url('/quick/timeout'), { body: '{}' });
  t.equal(res.status, 403);
  const body = res.json();
  t.match(body, { type: 'https://airlock.dev/problems/approval-timeout', retry_header: 'Airlock-Approval', approve_at: `${r.studio}/#/approvals` });
  t.equal(res.headers['airlock-approval-id'], body.approval_id);
  t.equal(body.approve_cli, `airlock approvals approve ${String(body.approval_id)}`);
  t.match(String(body.detail), new RegExp(`in the studio \\(${r.studio.replace(/[.]/g, '\\.')}/#/approvals\\)`));
});

t.test('Prefer: respond-async: 202 at once, 202 on retries while pending, then the retry goes through once', async (t) => {
  const headers = { prefer: 'respond-async', 'x-keep': '1' };
  const first = await curl(r, 'POST', url('/send/poll'), { body: '{"n":1}', headers });
  t.equal(first.status, 202, 'answered at once, not held');
  const id = first.headers['airlock-approval-id'] as string;
  t.match(id, /^ap_/);
  t.equal(first.headers['retry-after'], '10');
  t.equal(first.headers['preference-applied'], 'respond-async');
  t.match(first.json(), { type: 'https://airlock.dev/problems/approval-pending', approval_id: id, retry_header: 'Airlock-Approval', approve_at: `${r.studio}/#/approvals` });
  t.equal(arrived('/send/poll').length, 0);

  const again = await curl(r, 'POST', url('/send/poll'), { body: '{"n":1}', headers: { ...headers, 'airlock-approval': id } });
  t.equal(again.status, 202, 'still pending: 202 again');
  t.equal(again.headers['airlock-approval-id'], id, 'the same approval');

  const listed = await r.api.call('GET', '/api/approvals?status=pending');
  t.ok((listed.body.approvals as Array<{ id: string }>).some((a) => a.id === id), 'the human sees it in the studio');
  await r.api.call('POST', `/api/approvals/${id}/approve`, {});
  // Prefer: respond-async is Airlock's own and never goes upstream, so it is not part of what was
  // approved: the final retry may drop it.
  const done = await curl(r, 'POST', url('/send/poll'), { body: '{"n":1}', headers: { 'x-keep': '1', 'airlock-approval': id } });
  t.equal(done.status, 200);
  t.equal(done.headers['airlock-approval-id'], id);
  const got = arrived('/send/poll');
  t.equal(got.length, 1, 'arrived once');
  t.notOk(got[0]!.headers.prefer, 'the preference Airlock answered does not go upstream');
  t.notOk(got[0]!.headers['airlock-approval'], 'nor the retry header');
  t.equal(got[0]!.headers['x-keep'], '1', 'other headers do');
  const reuse = await curl(r, 'POST', url('/send/poll'), { body: '{"n":1}', headers: { ...headers, 'airlock-approval': id } });
  t.equal(reuse.status, 403, 'single use');
});

t.test('Prefer: respond-async, wait=N: held up to N seconds, then 202', async (t) => {
  const reply = curl(r, 'POST', url('/send/wait'), { body: '{}', headers: { prefer: 'respond-async, wait=20' } });
  const [a] = await r.api.pending(1);
  await r.api.call('POST', `/api/approvals/${a!.id}/approve`, {});
  t.equal((await reply).status, 200, 'approved within the wait: the answer itself');
  const short = await curl(r, 'POST', url('/send/wait-short'), { body: '{}', headers: { prefer: 'respond-async; x=1, wait=1' } });
  t.equal(short.status, 202, 'not decided within the wait: 202');
});

t.test('--no-studio: nobody can approve, so the agent gets approval-unavailable at once', async (t) => {
  const solo = tempHome(t);
  const { token } = await (await AgentStore.open(solo)).add('bot');
  const child = spawn(process.execPath, [cli, 'start', '--home', solo, '--policy', policyDir, '--proxy', '127.0.0.1:0', '--no-studio', '--allow-private', `127.0.0.1:${up.port}`, '--resolve', 'api.example=127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start line: ${out}`)), 30_000);
    child.stdout.on('data', () => {
      const m = /proxy on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
  });
  const res = await run('curl', ['-sS', '--max-time', '15', '-x', `http://bot:${token}@127.0.0.1:${port}`, '-X', 'POST', '--data', '{}', '-w', '\n%{http_code}', url('/send/solo')]);
  const [body, code] = res.stdout.split('\n');
  t.equal(code, '403', 'answered at once (the hold would last 20 s)');
  t.match(JSON.parse(body!), { type: 'https://airlock.dev/problems/approval-unavailable', detail: /no approver is running/ });
  t.equal(arrived('/send/solo').length, 0);
  const folder = path.join(solo, 'approvals'); // one file per approval (engine/approvals.ts)
  const queued = fs.existsSync(folder) ? fs.readdirSync(folder).filter((f) => f.endsWith('.json') && !f.endsWith('.request.json')).length : 0;
  t.equal(queued, 0, 'no approval is queued that nobody could resolve');
  child.kill('SIGTERM');
  await new Promise((res2) => child.once('exit', res2));
  t.match(out, /POST \S+\/send\/solo → approve \(send\) denied 403/);
});
