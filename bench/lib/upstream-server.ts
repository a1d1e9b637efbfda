// The benchmark's origin server, run as its own process so it never competes with the proxy under
// test for an event loop. Prints {"port":N} on stdout once listening.
//   GET  /hello        12-byte answer (the req/s and latency scenario)
//   GET  /bytes?n=N    N bytes streamed in 64 KiB chunks (download)
//   POST /sink         reads the whole body, answers with its size (upload)
import http from 'node:http';

const chunk = Buffer.alloc(64 * 1024, 0x61);
const hello = Buffer.from('hello world\n');

const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const url = new URL(req.url ?? '/', 'http://upstream');
  if (req.method === 'POST' && url.pathname === '/sink') {
    let n = 0;
    req.on('data', (c: Buffer) => { n += c.length; });
    req.on('end', () => res.end(JSON.stringify({ received: n })));
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
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': hello.length });
  res.end(hello);
});
server.maxConnections = 10_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
