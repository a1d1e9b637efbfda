// Upstream timeouts by phase, against real sockets: a handshake that never completes (connect), a
// server that takes its time to answer (first byte: longer than the idle budget, still served), one
// that never answers (first byte), and one that stops mid-body (idle). Budgets are set small here;
// the tests assert outcomes, never durations.
import http from 'node:http';
import net from 'node:net';
import t from 'tap';
import { auditRecords, rawExchange, startProxy } from './helpers.ts';

const sockets = new Set<net.Socket>();
async function listen(onSocket: (s: net.Socket) => void): Promise<number> {
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    onSocket(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return (server.address() as net.AddressInfo).port;
}

// Accepts TCP and reads, never answers: a TLS handshake to it never completes; an HTTP request never gets a head.
const silent = await listen((s) => s.resume());
// Answers after 1.2 s of thinking (longer than the idle budget below).
const slow = await listen((s) => s.once('data', () => setTimeout(() => s.end('HTTP/1.1 200 OK\r\ncontent-length: 8\r\nconnection: close\r\n\r\nthought.'), 1200)));
// Sends the head and part of the body, then goes quiet.
const stalls = await listen((s) => s.once('data', () => s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial')));

const px = await startProxy(t, {
  timeouts: { upstreamConnectMs: 400, upstreamFirstByteMs: 3000, upstreamIdleMs: 400 },
  resolve: ['tls.test=127.0.0.1'],
});
const get = (url: string): string => `GET ${url} HTTP/1.1\r\nHost: ${new URL(url).host}\r\nProxy-Authorization: ${px.auth}\r\nConnection: close\r\n\r\n`;
const status = (raw: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]);

t.test('connect: a TLS handshake that never completes is a 504 that names the connect phase', async (t) => {
  const r = await rawExchange(px.proxyPort, get(`http://127.0.0.1:${silent}/x`).replace('http://127.0.0.1', 'https://tls.test'), { waitMs: 8000 });
  t.equal(status(r), 504);
  t.match(r, /upstream-timeout.*upstream connect timeout/s);
});

t.test('first byte: a slow answer within the first-byte budget is served, though longer than the idle budget', async (t) => {
  const r = await rawExchange(px.proxyPort, get(`http://127.0.0.1:${slow}/think`), { waitMs: 8000 });
  t.equal(status(r), 200);
  t.match(r, /thought\.$/);
});

t.test('first byte: no answer at all is a 504 that names the first-byte phase and how to raise it', async (t) => {
  const short = await startProxy(t, { timeouts: { upstreamFirstByteMs: 300 } });
  const r = await rawExchange(short.proxyPort, get(`http://127.0.0.1:${silent}/never`).replace(px.auth, short.auth), { waitMs: 8000 });
  t.equal(status(r), 504);
  t.match(r, /first-byte timeout; raise upstreamTimeouts\.firstByte/);
});

t.test('idle: a response that stops mid-body is cut and recorded as an idle timeout', async (t) => {
  const r = await rawExchange(px.proxyPort, get(`http://127.0.0.1:${stalls}/stall`), { waitMs: 8000 });
  t.equal(status(r), 200, 'the head had already been relayed');
  t.match(r, /partial$/);
  const rec = (await auditRecords(px.airlock)).find((x) => String(x.url).endsWith('/stall'));
  t.equal(rec?.outcome, 'upstream-timeout');
  t.match(String(rec?.detail), /idle for 0 s \(upstream idle timeout\)|upstream idle timeout/);
});

t.test('keep-alive: a reused upstream connection is not charged a connect phase', async (t) => {
  const up = http.createServer((req, res) => res.end(`ok ${req.url}`));
  up.keepAliveTimeout = 5000;
  await new Promise<void>((r) => up.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    up.closeAllConnections();
    up.close();
  });
  const port = (up.address() as net.AddressInfo).port;
  for (const p of ['/a', '/b', '/c']) {
    const r = await rawExchange(px.proxyPort, get(`http://127.0.0.1:${port}${p}`), { waitMs: 5000 });
    t.equal(status(r), 200, p);
  }
});
