// Dialing an upstream. The destination was checked before the dial, against the interface list
// as last read (at most a second old); every new connection is checked again once it is up and
// before its first byte leaves (DestinationGuard.connectedRefusal), on what the kernel routed: a
// connection to this machine is refused even when the address became this machine's a moment ago.
// Used by the HTTP(S) forwarder's connection pools and by the WebSocket dialer.
import type stream from 'node:stream';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { DestinationError, type DestinationGuard } from './destination.ts';

export type ConnectionCheck = Pick<DestinationGuard, 'connectedRefusal'>;

/**
 * Destroys the socket on connect when the check refuses it. Registered before anything is written:
 * net.Socket sends what was written while connecting from a 'connect' listener added at that write,
 * which runs after this one.
 */
function checkOnConnect<T extends net.Socket>(socket: T, check: ConnectionCheck | undefined): T {
  if (!check) return socket;
  socket.once('connect', () => {
    const why = check.connectedRefusal(socket.remoteAddress ?? '', socket.localAddress ?? '', socket.remotePort ?? 0);
    if (why) socket.destroy(new DestinationError(`destination ${socket.remoteAddress}:${socket.remotePort} refused once connected: ${why}`, 'blocked'));
  });
  return socket;
}

export function checkedConnect(o: { host: string; port: number }, check: ConnectionCheck | undefined): net.Socket {
  return checkOnConnect(net.connect({ host: o.host, port: o.port }), check);
}

/** tls.connect over a checked TCP connection: no ClientHello leaves before the check. */
export function checkedTlsConnect(o: tls.ConnectionOptions & { host: string; port: number }, check: ConnectionCheck | undefined): tls.TLSSocket {
  if (!check) return tls.connect(o);
  return tls.connect({ ...o, socket: checkedConnect(o, check) });
}

function hostPort(options: http.ClientRequestArgs): { host: string; port: number } {
  return { host: String(options.host ?? options.hostname ?? 'localhost'), port: Number(options.port) };
}

export class CheckedHttpAgent extends http.Agent {
  constructor(opts: http.AgentOptions, private readonly check: ConnectionCheck | undefined) {
    super(opts);
  }

  override createConnection(options: http.ClientRequestArgs): stream.Duplex {
    return checkedConnect(hostPort(options), this.check);
  }
}

export class CheckedHttpsAgent extends https.Agent {
  constructor(opts: https.AgentOptions, private readonly check: ConnectionCheck | undefined) {
    super(opts);
  }

  override createConnection(options: http.ClientRequestArgs, callback?: (err: Error | null, stream: stream.Duplex) => void): stream.Duplex | null | undefined {
    if (!this.check) return super.createConnection(options, callback);
    return super.createConnection({ ...options, socket: checkedConnect(hostPort(options), this.check) } as http.ClientRequestArgs, callback);
  }
}
