// Issue 23, class 1 (one agent against the others), eighteenth pass (left open by the
// seventeenth): the studio's live traffic view gets every audit record, as a bounded copy of up
// to 16 KiB. One agent's flood of denied requests, each with 14 KB of headers, pushed a
// neighbour's records out of the 500 recent ones (the traffic page, once reloaded, no longer
// showed them) and sent every studio tab ~16 KiB a request (a slow tab is dropped at 4 MiB
// queued). Must hold, with a real Airlock (proxy + studio), real agent requests and a live
// WebSocket client: the neighbour's record stays in the recent list through the flood; every one
// of the flood's requests is still shown (a row each), but what the flood puts on the feed stays
// within the agent's share; a normal agent's records arrive whole.
import http from 'node:http';
import t from 'tap';
import WebSocket from 'ws';
import { wsProtocols } from '../../studio/auth.ts';
import { LIVE_AGENT_BURST_BYTES, LIVE_AGENT_BYTES_PER_SECOND } from '../../studio/live.ts';
import { startRunning, startUpstream, tempHome } from '../approvals/helpers.ts';

const home = tempHome(t);
const up = await startUpstream(t);
const r = await startRunning(t, home, up);
const flooder = await r.airlock.agents.add('flooder');

interface Rec { id: string; agent?: string; url?: string; description?: unknown; cut?: string }

const feed: Array<{ rec: Rec; bytes: number }> = [];
const ws = new WebSocket(`${r.studio.replace('http', 'ws')}/api/ws`, wsProtocols(r.api.csrf), { headers: { cookie: r.api.cookie, origin: r.studio } });
ws.on('message', (m) => {
  const text = m.toString();
  const msg = JSON.parse(text) as { type: string; data: Rec };
  if (msg.type === 'traffic') feed.push({ rec: msg.data, bytes: text.length });
});
await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
t.teardown(() => ws.terminate());

/** One request through the proxy as `agent` (absolute form, keep-alive); resolves with its status. */
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 8 });
t.teardown(() => keepAlive.destroy());
function send(agent: string, token: string, p: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: r.airlock.proxyAddress.host, port: r.airlock.proxyAddress.port, method: 'PUT', path: `http://api.example:${up.port}${p}`, agent: keepAlive,
      headers: { host: `api.example:${up.port}`, 'content-length': '0', 'proxy-authorization': `Basic ${Buffer.from(`${agent}:${token}`).toString('base64')}`, ...headers },
    }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); });
    req.on('error', reject);
    req.setTimeout(60_000, () => req.destroy(new Error('no answer in 60 s')));
    req.end();
  });
}

const waitFor = async (what: () => boolean, label: string): Promise<void> => {
  for (let i = 0; i < 600 && !what(); i++) await new Promise((res) => setTimeout(res, 50));
  if (!what()) throw new Error(`timed out waiting for ${label}`);
};

t.test("one agent's flood of large denied requests: the neighbour's record stays recent, the flood's share of the feed is bounded", async (t) => {
  t.equal(await send(r.agent, r.token, '/neighbour-before'), 403, "the neighbour's request is decided (denied by this policy)");
  await waitFor(() => feed.some((f) => f.rec.url?.endsWith('/neighbour-before')), "the neighbour's record on the feed");
  const whole = feed.find((f) => f.rec.url?.endsWith('/neighbour-before'))!;
  t.ok(whole.rec.description, "the neighbour's record arrives whole");

  const N = 320; // ~4.7 MiB whole: past the recent list's 4 MiB
  // 14 headers of 1,000 characters (the live copy keeps strings of up to 1,024): records of ~15 KiB.
  const pad = Object.fromEntries(Array.from({ length: 14 }, (_, i) => [`x-pad-${i}`, String(i % 10).repeat(1000)]));
  const started = Date.now();
  let next = 0;
  const statuses: number[] = [];
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < N) {
      const i = next++;
      statuses.push(await send('flooder', flooder.token, `/flood/${i}`, pad));
    }
  }));
  const seconds = (Date.now() - started) / 1000;
  t.equal(statuses.filter((s) => s === 403).length, N, 'every flood request is decided');
  await waitFor(() => feed.filter((f) => f.rec.agent === 'flooder').length >= N, 'every flood record on the feed');

  const flood = feed.filter((f) => f.rec.agent === 'flooder');
  t.equal(flood.length, N, 'every one of the flood requests is shown, a row each');
  const floodBytes = flood.reduce((a, f) => a + f.bytes, 0);
  const share = LIVE_AGENT_BURST_BYTES + (seconds + 2) * LIVE_AGENT_BYTES_PER_SECOND + N * 3 * 1024;
  t.ok(floodBytes <= share, `the flood put ${Math.round(floodBytes / 1024)} KiB on the feed in ${seconds.toFixed(1)} s (its share: ${Math.round(share / 1024)} KiB; ~${Math.round((N * 16) / 1024)} MiB whole)`);
  t.ok(flood.some((f) => f.rec.cut && /share of the live view/.test(f.rec.cut)), 'past its share, its records say they are brief');

  const recent = (await r.api.call('GET', '/api/traffic/recent?limit=500')).body.records as Rec[];
  t.ok(recent.some((x) => x.url?.endsWith('/neighbour-before')), "the neighbour's record is still among the recent ones");
  t.ok(recent.some((x) => x.url?.endsWith(`/flood/${N - 1}`)) && recent.length <= 500, "and the flood's newest (bounded: at most 500)");

  t.equal(await send(r.agent, r.token, '/neighbour-after'), 403, "the neighbour's next request is decided");
  await waitFor(() => feed.some((f) => f.rec.url?.endsWith('/neighbour-after')), "the neighbour's next record on the feed");
  t.ok(feed.find((f) => f.rec.url?.endsWith('/neighbour-after'))!.rec.description, "and it arrives whole: the flood's share is the flooder's");
});
