// Host-side relays to Airlock's proxy socket (<home>/proxy.sock), from a listener `airlock run`
// owns: a host loopback port (--no-sandbox) or the listening socket the sandbox handed over.
// The target is opened by path for every connection, so a relay keeps working when Airlock
// restarts and recreates its socket (a bind-mounted socket file would pin the old one).
import fs from 'node:fs';
import net from 'node:net';

export interface Relay {
  /** Unix socket path, or 127.0.0.1 and the port. */
  readonly listening: { path: string } | { host: string; port: number };
  /** Connections accepted so far. */
  readonly accepted: number;
  close(): Promise<void>;
}

export type RelayListen = { path: string } | { host: '127.0.0.1'; port?: number };

function unavailable(reason: string): string {
  const body = JSON.stringify({
    type: 'airlock-unavailable',
    title: 'Airlock is not running',
    status: 503,
    detail: `airlock run cannot reach Airlock's proxy socket (${reason}); start Airlock again (airlock start) and retry`,
  });
  return `HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}

/** Forwards every connection `server` accepts to the Unix socket. Closing the relay closes both. */
export function relayConnections(server: net.Server, targetSocket: string): { accepted(): number; close(): Promise<void> } {
  const open = new Set<net.Socket>();
  let accepted = 0;
  server.on('connection', (client: net.Socket) => {
    accepted++;
    const upstream = net.connect(targetSocket);
    open.add(client);
    open.add(upstream);
    let connected = false;
    const done = (): void => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    upstream.once('connect', () => {
      connected = true;
    });
    client.on('error', done).on('close', done);
    upstream.on('close', done);
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      // Airlock stopped (or restarts) while the agent runs: say so in HTTP, which every proxy
      // client prints, rather than a bare reset.
      if (!connected && client.writable) {
        upstream.unpipe(client);
        client.end(unavailable(err.code ?? err.message), () => done());
        return;
      }
      done();
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return {
    accepted: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        if (!server.listening) return resolve();
        server.close(() => resolve());
      }),
  };
}

export async function startRelay(listen: RelayListen, targetSocket: string): Promise<Relay> {
  const server = net.createServer();
  const relay = relayConnections(server, targetSocket);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if ('path' in listen) server.listen(listen.path, resolve);
    else server.listen(listen.port ?? 0, listen.host, resolve);
  });
  if ('path' in listen) fs.chmodSync(listen.path, 0o600);
  const addr = server.address();
  const listening = 'path' in listen ? { path: listen.path } : { host: listen.host, port: (addr as net.AddressInfo).port };
  return {
    listening,
    get accepted() {
      return relay.accepted();
    },
    close: relay.close,
  };
}

/** Whether something accepts connections on the Unix socket (Airlock's proxy is running). */
export function socketAccepts(socketPath: string, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    const timer = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.destroy();
      resolve(true);
    });
    s.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}
