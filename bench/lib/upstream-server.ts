// The benchmark's origin server, run as its own process so it never competes with the proxy under
// test for an event loop. HTTP always; HTTPS too when given a key and certificate (the certificate
// names api.github.com, so Airlock can be pinned to it for the default policy's GitHub reads).
// Prints {"http":PORT,"https":PORT?} on stdout once listening.
//   GET  /bytes?n=N    N bytes streamed in 64 KiB chunks (download)
//   POST /sink         reads the whole body, answers with its size (upload)
//   GET  /__stats      {"requests","withCredential"}: how many requests carried the bench's
//                      credential (`Authorization: Bearer SECRET`), so the bench can check that
//                      Airlock really injected it
//   anything else      a 1 KiB JSON answer (the req/s, CPU and latency scenarios)
// Usage: node bin/run-ts.js bench/lib/upstream-server.ts [KEY.pem CERT.pem [SECRET]]
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';

const chunk = Buffer.alloc(64 * 1024, 0x61);
const prefix = '{"bench":"';
const kib = Buffer.from(`${prefix}${'a'.repeat(1024 - prefix.length - 3)}"}\n`);
const [keyFile, certFile, secret] = process.argv.slice(2);
const credential = secret ? `Bearer ${secret}` : undefined;
let requests = 0;
let withCredential = 0;

const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
  requests++;
  if (credential && req.headers.authorization === credential) withCredential++;
  const url = new URL(req.url ?? '/', 'http://upstream');
  if (req.method === 'POST' && url.pathname === '/sink') {
    let n = 0;
    req.on('data', (c: Buffer) => { n += c.length; });
    req.on('end', () => res.end(JSON.stringify({ received: n })));
    return;
  }
  if (url.pathname === '/__stats') {
    res.end(JSON.stringify({ requests, withCredential }));
    return;
  }
  if (url.pathname === '/bytes') {
    let left = Math.max(0, Math.min(Number(url.searchParams.get('n') ?? 0), 8 * 2 ** 30));
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': left });
    const pump = (): void => {
      while (left > 0) {
        const c = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= c.length;
        if (!res.write(c)) return void res.once('drain', pump);
      }
      res.end();
    };
    return pump();
  }
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': kib.length });
  res.end(kib);
};

const servers: Record<string, http.Server> = { http: http.createServer({ keepAliveTimeout: 60_000 }, handler) };
if (keyFile && certFile) servers.https = https.createServer({ key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile), keepAliveTimeout: 60_000 }, handler);
for (const s of Object.values(servers)) s.maxConnections = 10_000;
await Promise.all(Object.values(servers).map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
process.stdout.write(`${JSON.stringify(Object.fromEntries(Object.entries(servers).map(([k, s]) => [k, (s.address() as net.AddressInfo).port])))}\n`);
process.on('SIGTERM', () => process.exit(0));
