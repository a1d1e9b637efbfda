// The floor of HTTPS interception on Node, to hold Airlock's against: CONNECT, TLS terminated from
// the client with one certificate (no per-host minting), the request relayed over a keep-alive
// `https.Agent` that dials the upstream over TLS (certificate checked against the given CA), and
// nothing else. The same shape as Airlock's interception (outer listener for CONNECT, an inner
// `http.Server` fed the TLS socket), minus everything Airlock does per request. Prints {"port":N}.
// Usage: node bin/run-ts.js bench/lib/bare-tls-relay.ts KEY.pem CERT.pem UPSTREAM_CA.pem [PINS_JSON]
//   PINS_JSON: {"api.github.com:443":"127.0.0.1:8443"} — where to dial instead (like --resolve)
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import tls from 'node:tls';

const [keyFile, certFile, caFile, pinsJson] = process.argv.slice(2) as [string, string, string, string | undefined];
const secureContext = tls.createSecureContext({ key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile) });
const pins = new Map(Object.entries(JSON.parse(pinsJson ?? '{}') as Record<string, string>));
const agent = new https.Agent({ keepAlive: true, maxSockets: Infinity, ca: fs.readFileSync(caFile) });
const targets = new WeakMap<net.Socket, { host: string; port: number; dialHost: string; dialPort: number }>();

const inner = http.createServer((req, res) => {
  const t = targets.get(req.socket);
  if (!t) return void res.destroy();
  const up = https.request({ host: t.dialHost, port: t.dialPort, servername: t.host, path: req.url, method: req.method, headers: req.headers, agent }, (upRes) => {
    res.writeHead(upRes.statusCode ?? 502, upRes.headers);
    upRes.pipe(res);
  });
  up.on('error', () => res.destroy());
  req.pipe(up);
});
inner.keepAliveTimeout = 60_000;

const outer = http.createServer((_req, res) => { res.writeHead(405).end('CONNECT only\n'); });
outer.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
  const m = /^([^:]+):(\d+)$/.exec(req.url ?? '');
  if (!m) return void socket.destroy();
  const [dialHost, dialPort] = (pins.get(req.url!) ?? req.url!).split(':') as [string, string];
  socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
  if (head.length) socket.unshift(head);
  const tlsSocket = new tls.TLSSocket(socket, { isServer: true, secureContext });
  tlsSocket.on('error', () => tlsSocket.destroy());
  targets.set(tlsSocket, { host: m[1]!, port: Number(m[2]), dialHost, dialPort: Number(dialPort) });
  inner.emit('connection', tlsSocket);
});
outer.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: (outer.address() as net.AddressInfo).port })}\n`));
process.on('SIGTERM', () => process.exit(0));
