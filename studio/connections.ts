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
// the longest-open one is closed. A browser opens a handful; the bound only ever bites a flood, and
// the flooder's own oldest connections go first. One that is being answered (its request arrived
// whole, its answer not written yet) is passed over for ANSWERING_MS: a flood that keeps opening
// connections made a person's login the longest-open one within ~256 new connections and closed it
// while the studio answered, whereas a dripped request never arrives whole.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export const MAX_ANONYMOUS_CONNECTIONS = 256;
/** A request (head and body) must have arrived within this; the studio's largest body is 4 MiB on loopback. */
export const STUDIO_REQUEST_MS = 30_000;
/** How long a request that arrived whole is passed over by the bound while it is answered. */
export const ANSWERING_MS = 5_000;

export interface ConnectionBound {
  /** A logged-in browser used this connection: it no longer counts, and is never closed for the bound. */
  trust(socket: Socket | undefined): void;
}

export function boundConnections(server: Server, cap = MAX_ANONYMOUS_CONNECTIONS, now: () => number = Date.now): ConnectionBound {
  // Insertion order is opening order: the first is the longest-open.
  const anonymous = new Set<Socket>();
  // The request each connection is on, and since when.
  const current = new Map<Socket, { req: IncomingMessage; res: ServerResponse; since: number }>();
  const answering = (s: Socket, t: number): boolean => {
    const c = current.get(s);
    return !!c && c.req.complete && !c.res.writableFinished && t - c.since < ANSWERING_MS;
  };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const s = req.socket;
    const c = { req, res, since: now() };
    current.set(s, c);
    res.once('close', () => { if (current.get(s) === c) current.delete(s); });
  });
  server.on('connection', (s: Socket) => {
    anonymous.add(s);
    s.once('close', () => { anonymous.delete(s); current.delete(s); });
    if (anonymous.size <= cap) return;
    const t = now();
    // The longest-open not being answered; when every one is, the longest-open (a bound either way).
    let victim: Socket | undefined;
    for (const o of anonymous) {
      if (o !== s && !answering(o, t)) { victim = o; break; }
    }
    victim ??= anonymous.values().next().value as Socket;
    anonymous.delete(victim);
    victim.destroy();
  });
  return { trust: (s) => void (s && anonymous.delete(s)) };
}
