// The benchmark origin, in its own process: HTTP and HTTPS servers answering /1k and /64k.
// Prints {"http":PORT,"https":PORT} once listening. argv: KEY.pem CERT.pem
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';

const bodies: Record<string, Buffer> = { '/1k': Buffer.alloc(1024, 97), '/64k': Buffer.alloc(64 * 1024, 98) };
const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
  const body = bodies[req.url ?? ''] ?? Buffer.from('not found\n');
  res.writeHead(bodies[req.url ?? ''] ? 200 : 404, { 'content-type': 'application/octet-stream', 'content-length': body.length });
  res.end(body);
};
const [keyFile, certFile] = process.argv.slice(2) as [string, string];
const plain = http.createServer({ keepAliveTimeout: 60_000 }, handler);
const secure = https.createServer({ key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile), keepAliveTimeout: 60_000 }, handler);
await Promise.all([plain, secure].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
process.stdout.write(`${JSON.stringify({ http: (plain.address() as net.AddressInfo).port, https: (secure.address() as net.AddressInfo).port })}\n`);
