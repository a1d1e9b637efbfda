// A restart keeps pending approvals (and rate-limit buckets): the held connection is gone, but a
// human can still approve, and the agent's identical retry with Airlock-Approval then passes once.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import type { ApprovalRecord } from '../../state/approvals.ts';
import { curl, startRunning, startUpstream, tempHome } from './helpers.ts';

t.test('restart with a pending approval', async (t) => {
  const home = tempHome(t);
  const up = await startUpstream(t);
  const first = await startRunning(t, home, up);
  const url = (p: string) => `http://api.example:${up.port}${p}`;
  const body = '{"subject":"quarterly numbers"}';

  // Two reads now, a third cut by the stop: the bucket of three is spent either way.
  for (let i = 0; i < 2; i++) t.equal((await curl(first, 'GET', url(`/r/${i}`))).status, 200);
  const held = curl(first, 'POST', url('/send/after-restart'), { body });
  // A request on its way upstream when Airlock stops (the upstream is slow to answer).
  const inFlight = curl(first, 'GET', url('/slow/at-stop')).catch(() => 'connection closed');
  const [a] = await first.api.pending(1);
  for (let i = 0; i < 200 && !up.received.some((x) => x.url === '/slow/at-stop'); i++) await new Promise((r) => setTimeout(r, 25));
  await first.close();
  const stopped = await held;
  t.equal(stopped.status, 503, 'the held request is answered when Airlock stops, not dropped');
  t.match(stopped.json(), { type: /airlock-stopping$/, approval_id: a!.id, retry_header: 'Airlock-Approval' });
  t.equal(stopped.headers['airlock-approval-id'], a!.id);
  t.equal(up.received.filter((x) => x.url === '/send/after-restart').length, 0);
  await inFlight;
  const records = fs.readFileSync(path.join(home, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { url: string; outcome: string });
  t.equal(records.find((r) => r.url.endsWith('/send/after-restart'))?.outcome, 'approval-interrupted', 'recorded as interrupted by the stop');
  t.equal(records.find((r) => r.url.endsWith('/slow/at-stop'))?.outcome, 'airlock-stopped', 'a request cut by the stop is not recorded as the agent leaving');

  const second = await startRunning(t, home, up, first.token);
  const list = await second.api.call('GET', '/api/approvals?status=pending');
  const found = (list.body.approvals as Array<ApprovalRecord & { held: boolean }>).find((x) => x.id === a!.id);
  t.ok(found, 'the pending approval survived the restart');
  t.equal(found?.held, false, 'nothing is held on it any more');
  t.equal(found?.summary.path, '/send/after-restart');

  t.equal((await curl(second, 'GET', url('/r/3'))).status, 429, 'the rate-limit bucket survived the restart too');

  const ok = await second.api.call('POST', `/api/approvals/${a!.id}/approve`, {});
  t.equal(ok.status, 200);
  t.notOk((ok.body.approval as ApprovalRecord).used_at, 'not used yet: no request was waiting');
  const retry = await curl(second, 'POST', url('/send/after-restart'), { body, headers: { 'Airlock-Approval': a!.id } });
  t.equal(retry.status, 200, 'the retry after the restart passes');
  t.equal(up.received.filter((x) => x.url === '/send/after-restart').length, 1, 'and arrives once');
  const again = await curl(second, 'POST', url('/send/after-restart'), { body, headers: { 'Airlock-Approval': a!.id } });
  t.equal(again.status, 403, 'single use across restarts');
  await second.close();
});
