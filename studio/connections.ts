// The studio's connections, bounded. The studio runs in the proxy's process and shares its file
// descriptors: fastify waits for a request body without a time bound (its `requestTimeout` is 0),
// and nothing bounded how many connections may wait, so anyone who can reach the studio's port (an
// agent run without the sandbox, any local process) held thousands of `POST /api/login` bodies
// dripped a byte at a time, each a descriptor for good, until no agent's connection to the proxy,
// no upstream dial and no audit write could get one.
//
// A connection a logged-in browser has used (its request carried the session and its token, or it
// is that browser's live feed) is trusted and left alone. The others (new connections, the login
// page and its assets, requests without a session) are at most MAX_ANONYMOUS_CONNECTIONS: past it
// the longest-open one is closed, whatever it is doing. A browser opens a handful; the bound only
// ever bites a flood, and the flooder's own oldest connections go first.
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { processDescriptorBounds } from '../lib/descriptors.ts';

export const MAX_ANONYMOUS_CONNECTIONS = 256;
/**
 * The largest request head the studio reads (Node's default is 16 KiB). Cookies are not isolated by
 * port: a page on another port of this host can set five 4 KB cookies with `Path=/api` (a "cookie
 * bomb"), after which every API request and the live feed got `431` and the person was kept out until
 * they cleared the browser's cookies. Browsers keep at most ~180 cookies of 4 KB per host (~740 KB).
 * Bodies may be 4 MiB already, so this changes no bound on what a connection can make the studio hold.
 */
export const STUDIO_HEADER_BYTES = 1024 * 1024;
/** A request (head and body) must have arrived within this; the studio's largest body is 4 MiB on loopback. */
export const STUDIO_REQUEST_MS = 30_000;

export interface ConnectionBound {
  /** A logged-in browser used this connection: it no longer counts, and is never closed for the bound. */
  trust(socket: Socket | undefined): void;
}

/**
 * The bytes connections no logged-in browser uses may have sent the studio and still be waiting on
 * (a request's head not yet ended, or its body: only a login reads one without a session). Heads of
 * up to 1 MiB and login bodies of up to 4 MiB on 256 connections, each for 30 s, were ~256 MiB to
 * 1 GiB held by anyone who can reach the port, in the proxy's process. Past this (measured every
 * PENDING_CHECK_MS) the connection waiting on the most is closed. A browser's page load under a
 * neighbour's cookie bomb (~740 KB a request, a handful at once) stays well within it.
 */
export const ANONYMOUS_PENDING_BYTES = 32 * 1024 * 1024;

/** How often what anonymous connections hold is measured (Node's parser reads natively: no event per chunk). */
const PENDING_CHECK_MS = 100;

export function boundConnections(server: Server, cap = Math.min(MAX_ANONYMOUS_CONNECTIONS, processDescriptorBounds().sixteenth), pendingCap = ANONYMOUS_PENDING_BYTES): ConnectionBound {
  // Insertion order is opening order: the first is the longest-open. The value: the socket's
  // bytesRead when its last request's head ended (what it sent since, the parser or a login's body holds).
  const anonymous = new Map<Socket, number>();
  const measure = (): void => {
    let pending = 0;
    for (const [s, mark] of anonymous) pending += s.bytesRead - mark;
    while (pending > pendingCap && anonymous.size) {
      let most: Socket | undefined;
      let mostBytes = -1;
      for (const [s, mark] of anonymous) {
        if (s.bytesRead - mark > mostBytes) [most, mostBytes] = [s, s.bytesRead - mark];
      }
      anonymous.delete(most!);
      most!.destroy();
      pending -= mostBytes;
    }
  };
  const timer = setInterval(measure, PENDING_CHECK_MS);
  timer.unref();
  server.once('close', () => clearInterval(timer));
  server.on('connection', (s: Socket) => {
    anonymous.set(s, 0);
    s.once('close', () => anonymous.delete(s));
    while (anonymous.size > cap) {
      const oldest = anonymous.keys().next().value as Socket;
      anonymous.delete(oldest);
      oldest.destroy();
    }
  });
  // A head ended: the parser holds it no more (a login's body is counted from here).
  server.on('request', (req: IncomingMessage) => {
    if (anonymous.has(req.socket)) anonymous.set(req.socket, req.socket.bytesRead);
  });
  return { trust: (s) => void (s && anonymous.delete(s)) };
}
