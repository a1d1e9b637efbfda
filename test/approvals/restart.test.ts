// A restart keeps pending approvals (and rate-limit buckets): the held connection is gone, but a
// human can still approve, and the agent's identical retry with Airlock-Approval then passes once.
import t from 'tap';
import type { ApprovalRecord } from '../../state/approvals.ts';
import { curl, startRunning, startUpstream, tempHome } from './helpers.ts';

t.test('restart with a pending approval', async (t) => {
  const home = tempHome(t);
  const up = await startUpstream(t);
  const first = await startRunning(t, home, up);
  const url = (p: string) => `http://api.example:${up.port}${p}`;
  const body = '{"subject":"quarterly numbers"}';

  for (let i = 0; i < 3; i++) t.equal((await curl(first, 'GET', url(`/r/${i}`))).status, 200);
  const held = curl(first, 'POST', url('/send/after-restart'), { body }).then((r) => r.status, () => 'connection closed');
  const [a] = await first.api.pending(1);
  await first.close();
  t.not(await held, 200, 'the held request did not go through when Airlock stopped');
  t.equal(up.received.filter((x) => x.url === '/send/after-restart').length, 0);

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
