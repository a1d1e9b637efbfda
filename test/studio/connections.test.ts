// What connections no logged-in browser uses can make the studio hold (eighteenth pass, left open by
// the seventeenth): the studio reads request heads of up to 1 MiB (a neighbour's cookie bomb must not
// lock the person out) and login bodies of up to 4 MiB, and 256 such connections may wait 30 s each:
// ~256 MiB of heads (measured ~400 MB resident with Node's parser) or 1 GiB of login bodies, held
// by anyone who can reach the port, in the proxy's process. A real studio on a real port; raw sockets.
import t from 'tap';
import net from 'node:net';
import { ANONYMOUS_PENDING_BYTES } from '../../studio/connections.ts';
import { startTestStudio } from './helpers.ts';

const { studio } = await startTestStudio(t);
const port = studio.port;
const host = `127.0.0.1:${port}`;

/** A connection that sends `bytes` of an unfinished head (or of a login body) and waits. */
function hold(kind: 'head' | 'login', bytes: number): Promise<{ socket: net.Socket; closed: () => boolean }> {
  return new Promise((resolve) => {
    let closed = false;
    const socket = net.connect(port, '127.0.0.1', () => {
      if (kind === 'head') {
        socket.write(`GET /api/status HTTP/1.1\r\nHost: ${host}\r\n`);
        for (let sent = 0; sent < bytes; sent += 16_000) socket.write(`X-Pad-${sent}: ${'a'.repeat(16_000)}\r\n`);
      } else {
        socket.write(`POST /api/login HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${4 * 1024 * 1024 - 1}\r\n\r\n{"token": "`);
        socket.write('a'.repeat(bytes));
      }
      resolve({ socket, closed: () => closed });
    });
    socket.on('error', () => undefined);
    socket.on('close', () => (closed = true));
  });
}

t.test('what anonymous connections hold is bounded in bytes; a logged-in browser and a cookie-bombed page load are served', async (t) => {
  const login = await fetch(`http://${host}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: `http://${host}` }, body: JSON.stringify({ token: (await import('node:fs')).readFileSync(studio.tokenFile, 'utf8').trim() }) });
  const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
  const { csrf } = (await login.json()) as { csrf: string };
  const MiB = 1024 * 1024;
  const held = [
    ...(await Promise.all(Array.from({ length: 40 }, () => hold('head', MiB - 64 * 1024)))),
    ...(await Promise.all(Array.from({ length: 24 }, () => hold('login', MiB)))),
  ];
  const deadline = Date.now() + 10_000;
  const open = () => held.filter((h) => !h.closed());
  const openBytes = () => open().reduce((n, h) => n + h.socket.bytesWritten, 0);
  // (The studio closes connections as it reads their bytes: what the kernel still buffers is not read yet.)
  while (Date.now() < deadline && (held.some((h) => !h.closed() && h.socket.writableLength > 0) || openBytes() > ANONYMOUS_PENDING_BYTES + 2 * MiB)) await new Promise((r) => setTimeout(r, 100));
  t.ok(openBytes() <= ANONYMOUS_PENDING_BYTES + 2 * MiB, `the connections left open hold ${(openBytes() / MiB).toFixed(1)} MiB (at most ${ANONYMOUS_PENDING_BYTES / MiB} MiB); ${held.length - open().length} of ${held.length} were closed`);
  // The person's browser, logged in, is served meanwhile; so is a page load under a neighbour's cookie bomb.
  const status = await fetch(`http://${host}/api/status`, { headers: { cookie, 'x-airlock-csrf': csrf } });
  t.equal(status.status, 200, 'the logged-in browser is served');
  const bombed = await fetch(`http://${host}/`, { headers: { cookie: Array.from({ length: 180 }, (_, i) => `c${i}=${'b'.repeat(4000)}`).join('; ') } });
  t.equal(bombed.status, 200, 'a page load carrying 720 KB of cookies is served');
  for (const h of held) h.socket.destroy();
});
