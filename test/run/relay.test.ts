// The host-side relay: bytes both ways to Airlock's socket, and a clear 503 when Airlock is gone.
import t from 'tap';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startRelay } from '../../sandbox/relay.ts';

const run = promisify(execFile);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-test-relay-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10 }));
const sock = path.join(dir, 'proxy.sock');

t.test('forwards to the socket while it answers, then explains when it does not', async (t) => {
  const standIn = http.createServer((req, res) => res.end(`stand-in saw ${req.method} ${req.url}\n`));
  await new Promise<void>((r) => standIn.listen(sock, r));
  const relay = await startRelay({ host: '127.0.0.1' }, sock);
  t.teardown(() => relay.close());
  const port = (relay.listening as { port: number }).port;
  const proxy = `http://127.0.0.1:${port}`;

  const ok = await run('curl', ['-sS', '-m', '10', '-x', proxy, 'http://example.test/one']);
  t.equal(ok.stdout, 'stand-in saw GET http://example.test/one\n');

  standIn.closeAllConnections();
  await new Promise((r) => standIn.close(r));
  const plain = await run('curl', ['-sS', '-m', '10', '-x', proxy, '-w', '\n%{http_code}', 'http://example.test/two']);
  t.match(plain.stdout, /"title":"Airlock is not running"/);
  t.match(plain.stdout, /\n503$/);
  const tunnel = await run('curl', ['-sS', '-m', '10', '-x', proxy, 'https://example.test/three']).catch((err: { stderr: string }) => err);
  t.match(tunnel.stderr, /CONNECT tunnel failed, response 503/, 'a CONNECT gets the 503 too');
  t.equal(relay.accepted, 3);
});
