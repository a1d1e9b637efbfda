// Bypass attacks: getting traffic through Airlock without a decision, or reaching Airlock's own
// control plane (the studio, the approval API, the proxy itself) through the proxy.
import t from 'tap';
import net from 'node:net';
import {
  curl, eventually, exchange, isProblem, parseResponses, rawToProxy, startTestAirlock, startUpstream, viaProxy,
} from './helpers.ts';

// Two Airlocks for the whole file (startup compiles the policy and mints a CA: seconds each).
// `open`: a policy that allows everything and an operator who opened all of loopback, so only
// Airlock's own guards stand between the agent and the target. `strict`: deny by default.
const open = await startTestAirlock(t, { studio: '127.0.0.1:0', allowPrivate: ['127.0.0.0/8', '0.0.0.0/8', '::1/128'] });
const strict = await startTestAirlock(t, { policy: 'strict', resolve: ['allowed.example=127.0.0.1'], allowPrivate: ['127.0.0.1'] });
const since = (a: typeof open, mark: number) => a.records.slice(mark);

t.test('no proxy credentials: 407 problem, upstream untouched (plain forward, curl, CONNECT)', async (t) => {
  const up = await startUpstream(t);
  const a = open;
  const url = `http://127.0.0.1:${up.port}/secret-data`;

  const none = await viaProxy(a.port, url);
  t.equal(none.status, 407);
  t.ok(isProblem(none), 'problem+json');
  t.match(String(none.headers['proxy-authenticate']), /^Basic/);

  const wrong = await viaProxy(a.port, url, { auth: `Basic ${Buffer.from(`${a.agent}:not-the-token`).toString('base64')}` });
  t.equal(wrong.status, 407, 'wrong token');
  const unknown = await viaProxy(a.port, url, { auth: `Basic ${Buffer.from(`nobody:${a.token}`).toString('base64')}` });
  t.equal(unknown.status, 407, 'real token under another agent name');
  const bearer = await viaProxy(a.port, url, { auth: `Bearer ${a.token}` });
  t.equal(bearer.status, 407, 'token in another scheme');
  const inUrl = await viaProxy(a.port, `http://${a.agent}:${a.token}@127.0.0.1:${up.port}/`);
  t.equal(inUrl.status, 407, 'credentials in the target URL are not proxy credentials');

  const c = await curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', `http://127.0.0.1:${a.port}`, url]);
  t.equal(c.stdout, '407', 'curl without credentials');

  const connect = await rawToProxy(a.port, `CONNECT 127.0.0.1:${up.port} HTTP/1.1\r\nHost: 127.0.0.1:${up.port}\r\n\r\nGET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  const [first] = parseResponses(connect.text);
  t.equal(first?.status, 407, 'CONNECT without credentials');
  t.ok(first && isProblem(first));
  t.equal(parseResponses(connect.text).length, 1, 'bytes after a refused CONNECT are not served');

  t.equal(up.connections, 0, 'the upstream was never dialed');
  t.same(up.received, []);
});

t.test('the studio and its approval API are unreachable through the proxy, even with all loopback opened', async (t) => {
  const a = open;
  const mark = a.records.length;
  const studio = a.airlock.studioAddress;
  t.ok(studio, 'the studio is running');
  const port = studio!.port;
  const targets = [
    `http://127.0.0.1:${port}/api/approvals`,
    `http://localhost:${port}/api/approvals`,
    `http://127.1:${port}/`,
    `http://2130706433:${port}/api/session`,
    `http://[::ffff:127.0.0.1]:${port}/api/approvals`,
    `http://0.0.0.0:${port}/`,
  ];
  for (const url of targets) {
    const r = await viaProxy(a.port, url, { auth: a.auth, method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"decision":"approve"}' });
    t.equal(r.status, 403, `${url} refused`);
    t.ok(isProblem(r), `${url}: problem+json`);
  }
  // Through a tunnel too: CONNECT to the studio port, then a request inside.
  const inside = await rawToProxy(a.port, `CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nProxy-Authorization: ${a.auth}\r\n\r\n`);
  t.match(inside.text, /^HTTP\/1\.1 403/, 'CONNECT to the studio refused');
  const named = await rawToProxy(a.port, [
    `CONNECT localhost:${port} HTTP/1.1\r\nHost: localhost:${port}\r\nProxy-Authorization: ${a.auth}\r\n\r\n`,
    `POST /api/approvals/x/approve HTTP/1.1\r\nHost: localhost:${port}\r\nContent-Length: 0\r\n\r\n`,
  ], { gapMs: 100, responses: 1 });
  const statuses = parseResponses(named.text.replace(/^HTTP\/1\.1 200[^\r]*\r\n\r\n/, '')).map((r) => r.status);
  t.ok(statuses.length > 0 && statuses.every((s) => s === 403), `request tunneled to localhost:studio refused (${statuses})`);
  await eventually(() => since(a, mark).length >= targets.length + 2);
  t.notOk(since(a, mark).some((r) => r.outcome === 'forwarded'), 'nothing was forwarded');
});

t.test('CONNECT to the proxy\'s own port (every spelling) is refused; no request loops', async (t) => {
  // The operator opened all of loopback and 0.0.0.0/8: Airlock's own listener must stay closed anyway.
  const a = open;
  const mark = a.records.length;
  for (const target of [`127.0.0.1:${a.port}`, `127.1:${a.port}`, `2130706433:${a.port}`, `0x7f.0.0.1:${a.port}`, `[::ffff:127.0.0.1]:${a.port}`, `0.0.0.0:${a.port}`, `0:${a.port}`, `localhost:${a.port}`, `[::1]:${a.port}`]) {
    const r = await rawToProxy(a.port, [
      `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\nProxy-Authorization: ${a.auth}\r\n\r\n`,
      `GET / HTTP/1.1\r\nHost: ${target}\r\n\r\n`,
    ], { gapMs: 100, responses: 1 });
    // Either the CONNECT itself is refused, or it is accepted and every request inside is refused.
    const all = parseResponses(r.text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, ''));
    t.ok(all.length > 0 && all.every((x) => x.status === 403 && isProblem(x)), `CONNECT ${target}: refused with 403 problem+json (${all.map((x) => x.status)})`);
  }
  for (const url of [`http://localhost:${a.port}/`, `http://0.0.0.0:${a.port}/`, `http://127.0.0.1:${a.port}/`, `http://[::1]:${a.port}/`]) {
    const loop = await viaProxy(a.port, url, { auth: a.auth });
    t.equal(loop.status, 403, `absolute-form request to the proxy itself: ${url}`);
    t.ok(isProblem(loop));
  }
  await eventually(() => since(a, mark).length >= 13);
  t.notOk(since(a, mark).some((r) => r.outcome === 'forwarded'), 'nothing was forwarded');
});

t.test('CONNECT to a non-HTTP service: no opaque tunnel, the service is never dialed', async (t) => {
  // An "SSH server" on a loopback port the operator opened: destination safety alone would pass it.
  let dialed = 0;
  const ssh = net.createServer((s) => {
    dialed++;
    s.end('SSH-2.0-OpenSSH_9.2\r\n');
  });
  await new Promise<void>((r) => ssh.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => ssh.close(() => r())));
  const port = (ssh.address() as net.AddressInfo).port;
  const a = strict;
  const r = await rawToProxy(a.port, [
    `CONNECT allowed.example:${port} HTTP/1.1\r\nHost: allowed.example:${port}\r\nProxy-Authorization: ${a.auth}\r\n\r\n`,
    'SSH-2.0-OpenSSH_9.6 attacker\r\n',
    Buffer.from([0, 0, 1, 0x2c, 0x0a, 0x14, 1, 2, 3, 4]),
  ], { gapMs: 100, responses: 1 });
  const after = r.text.replace(/^HTTP\/1\.1 200[^\r]*\r\n\r\n/, '');
  t.ok(after === '' || /^HTTP\/1\.1 4\d\d/.test(after), `non-HTTP bytes in a tunnel get a 4xx or nothing (${JSON.stringify(after.slice(0, 40))})`);
  t.equal(dialed, 0, 'the service behind the CONNECT target was never dialed');

  // Ports the policy does not allow: a tunnel to a denied destination forwards nothing.
  const up = await startUpstream(t);
  const tunnel = await rawToProxy(a.port, [
    `CONNECT internal.example:${up.port} HTTP/1.1\r\nHost: internal.example:${up.port}\r\nProxy-Authorization: ${a.auth}\r\n\r\n`,
    `GET / HTTP/1.1\r\nHost: internal.example:${up.port}\r\n\r\n`,
  ], { gapMs: 100, responses: 1 });
  const inner = parseResponses(tunnel.text.replace(/^HTTP\/1\.1 200[^\r]*\r\n\r\n/, ''));
  t.equal(inner[0]?.status ?? 0, 403, 'request inside a tunnel to a host the policy denies');
  t.equal(up.connections, 0);
});

t.test('an intercepted HTTPS tunnel is decided request by request (keep-alive cannot ride an earlier allow)', async (t) => {
  const up = await startUpstream(t);
  const a = strict;
  // Plain HTTP inside a CONNECT tunnel: allowed request, then a denied one on the same connection.
  const sock = net.connect(a.port, '127.0.0.1');
  const r = await exchange(sock, [
    `CONNECT allowed.example:${up.port} HTTP/1.1\r\nHost: allowed.example:${up.port}\r\nProxy-Authorization: ${a.auth}\r\n\r\n`,
    `GET /ok HTTP/1.1\r\nHost: allowed.example:${up.port}\r\n\r\n`,
    `GET /deny/admin HTTP/1.1\r\nHost: allowed.example:${up.port}\r\n\r\n`,
  ], { gapMs: 150, responses: 2 });
  const inner = parseResponses(r.text.replace(/^HTTP\/1\.1 200[^\r]*\r\n\r\n/, ''));
  t.same(inner.map((x) => x.status), [200, 403], 'first allowed, second denied');
  t.same(up.received.map((x) => x.url), ['/ok'], 'only the allowed request reached the upstream');
});
