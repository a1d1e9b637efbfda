import http from 'node:http';
import net from 'node:net';
import { boundConnections } from './studio/connections.ts';
const srv = http.createServer({ maxHeaderSize: 1024 * 1024 }, (q, r) => r.end('ok'));
boundConnections(srv, 256, 4 * 1024 * 1024);
let n = 0;
srv.on('connection', (s) => s.on('close', () => n++));
srv.listen(0, '127.0.0.1', async () => {
  const port = (srv.address() as net.AddressInfo).port;
  for (let i = 0; i < 10; i++) {
    const c = net.connect(port, '127.0.0.1', () => { c.write('GET / HTTP/1.1\r\nHost: x\r\n'); for (let k = 0; k < 50; k++) c.write(`X-${k}: ${'a'.repeat(16000)}\r\n`); });
    c.on('error', () => undefined);
  }
  setTimeout(() => { console.log('closed by server', n); process.exit(0); }, 1500);
});
