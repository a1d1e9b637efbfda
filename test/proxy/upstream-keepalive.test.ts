// A keep-alive connection to the upstream that the server closes just as Airlock sends the next
// request on it (the server's idle timeout firing as the request leaves; busy servers and load
// balancers do it all the time). The request never reached the server's application: a GET is sent
// again on a new connection, as HTTP clients do, once; a POST is not (it may not be safe to repeat),
// and the agent gets a 502 that says why. The upstream here answers the first request of each
// connection with keep-alive and resets the connection when a second one arrives on it.
import net from 'node:net';
import t from 'tap';
import { startTestAirlock, viaProxy } from '../attacks/helpers.ts';
import { curl, startRunning, tempHome, type Upstream as ApprovalsUpstream } from '../approvals/helpers.ts';

interface Upstream { port: number; connections: number; answered: string[] }

async function startResettingUpstream(t: { teardown(fn: () => unknown): void }): Promise<Upstream> {
  const up: Upstream = { port: 0, connections: 0, answered: [] };
  const server = net.createServer((socket) => {
    up.connections++;
    let seen = 0;
    let buffered = '';
    socket.on('error', () => undefined);
    socket.on('data', (d) => {
      buffered += d.toString('latin1');
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffered.slice(0, end);
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      if (buffered.length < end + 4 + length) return;
      buffered = buffered.slice(end + 4 + length);
      if (++seen > 1) {
        socket.resetAndDestroy(); // closed as the request arrived: nothing of it was handled
        return;
      }
      const line = head.slice(0, head.indexOf('\r\n'));
      up.answered.push(line);
      const body = `answered ${line}`;
      socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: keep-alive\r\n\r\n${line.startsWith('HEAD ') ? '' : body}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  up.port = (server.address() as net.AddressInfo).port;
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return up;
}

t.test('a GET on a connection the upstream closed is sent again on a new one; a POST is not', async (t) => {
  const up = await startResettingUpstream(t);
  const a = await startTestAirlock(t, { allowPrivate: [`127.0.0.1:${up.port}`] });
  const url = (p: string): string => `http://127.0.0.1:${up.port}${p}`;

  for (const [i, method] of ['GET', 'HEAD', 'OPTIONS'].entries()) {
    t.equal((await viaProxy(a.port, url(`/first${i}`), { auth: a.auth, method })).status, 200, `${method} /first${i}: answered (sent again if the connection it found was one the upstream reset)`);
    const again = await viaProxy(a.port, url(`/second${i}`), { auth: a.auth, method });
    t.equal(again.status, 200, `${method}: the request the upstream reset on the reused connection went on a new one (${again.body.slice(0, 120)})`);
    t.ok(up.answered.includes(`${method} /second${i} HTTP/1.1`), `${method}: and the upstream answered it`);
  }

  // The pool now holds the connection the last retry opened, which has served its one request.
  const post = await viaProxy(a.port, url('/post-second'), { auth: a.auth, method: 'POST', body: 'y' });
  t.equal(post.status, 502, 'a POST the upstream reset is not sent again');
  t.match(post.body, /reset the connection/);
  t.notOk(up.answered.some((l) => l.startsWith('POST /post-second')), 'and nothing answered it');

  // Eleventh pass (wire): a GET a server runs as a POST or a DELETE (its body on a method-blind
  // route, an override) was sent again like any GET: a second copy of the write.
  for (const [name, opts] of [
    ['body', { headers: { 'content-type': 'application/json', 'content-length': '26' }, body: '{"sql":"DROP TABLE users"}' }],
    ['override', { headers: { 'x-http-method-override': 'DELETE' } }],
  ] as const) {
    t.equal((await viaProxy(a.port, url(`/prime-${name}`), { auth: a.auth })).status, 200, `a read leaves a kept-alive connection (${name})`);
    const get = await viaProxy(a.port, url(`/get-${name}`), { auth: a.auth, method: 'GET', ...opts });
    t.equal(get.status, 502, `a GET with ${name} the upstream reset is not sent again: ${get.status} ${get.body.slice(0, 200)}`);
    t.notOk(up.answered.some((l) => l.startsWith(`GET /get-${name}`)), 'and nothing answered it');
  }

  // A HEAD's connection is closed after it (proxy/upstream.ts leavesUnreadBody), so HEAD /second1
  // found none to reuse; the GET and OPTIONS ones were retries.
  const audit = a.records.filter((r) => r.url?.includes('/second') && r.method !== 'HEAD');
  t.ok(audit.length >= 2 && audit.every((r) => (r.extra as { upstream_retry?: string } | undefined)?.upstream_retry), 'each retry is in its audit record');
});

t.test('a request a human approved goes on a new connection, not on one the upstream may have closed meanwhile', async (t) => {
  const up = await startResettingUpstream(t);
  const r = await startRunning(t, tempHome(t), { port: up.port } as ApprovalsUpstream);
  const url = (p: string): string => `http://api.example:${up.port}${p}`;
  t.equal((await curl(r, 'GET', url('/read'))).status, 200, 'a read leaves a kept-alive connection in the pool');
  const held = curl(r, 'POST', url('/send/approved'), { body: '{"to":"x"}' });
  const [a] = await r.api.pending(1);
  t.equal((await r.api.call('POST', `/api/approvals/${a!.id}/approve`, {})).status, 200);
  const res = await held;
  t.equal(res.status, 200, `the approved POST was answered (${res.body.slice(0, 160)})`);
  t.ok(up.answered.includes('POST /send/approved HTTP/1.1'), 'by the upstream, on a new connection');
});
