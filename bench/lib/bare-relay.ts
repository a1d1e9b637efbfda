// The floor every forward proxy on Node stands on: `http.createServer` + a keep-alive `http.Agent`,
// absolute-form requests only, nothing else (no auth, no policy, no audit, no header hygiene).
// Airlock's distance to this is Airlock's own work; this one's distance to direct is Node's HTTP
// stack doing two hops. Prints {"port":N}.
import http from 'node:http';
import type net from 'node:net';

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '');
  const up = http.request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method: req.method, headers: req.headers, agent }, (upRes) => {
    res.writeHead(upRes.statusCode ?? 502, upRes.headers);
    upRes.pipe(res);
  });
  up.on('error', () => res.destroy());
  req.pipe(up);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: (server.address() as net.AddressInfo).port })}\n`));
process.on('SIGTERM', () => process.exit(0));
