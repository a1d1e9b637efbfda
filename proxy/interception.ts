// CONNECT and TLS interception. A CONNECT is answered 200 only for an authenticated agent and a
// well-formed target that is not Airlock itself; the tunnel's first bytes tell TLS from plain
// HTTP. TLS is terminated with a leaf certificate from the local CA (proxy/ca.ts) for the CONNECT
// target, and the decrypted stream is handed to the inner HTTP server, so each request inside the
// tunnel goes through the pipeline on its own, with the tunnel (agent, credentials, target, SNI)
// attached to its socket.
import crypto from 'node:crypto';
import type http from 'node:http';
import type net from 'node:net';
import tls from 'node:tls';
import type { AgentInfo } from '../describe/types.ts';
import { trimTrailing } from '../lib/text.ts';
import { tokenRefusedHere } from '../state/agents.ts';
import type { CertificateAuthority } from './ca.ts';
import type { DestinationGuard } from './destination.ts';
import type { Rejection } from './enforcers.ts';
import { loggableTarget, type Tunnel } from './exchange.ts';
import { parseAuthority } from './http-util.ts';
import { isOwnAddress, type Pipeline } from './pipeline.ts';
import { credentialsHint, refusals, writeRaw } from './refusals.ts';

export interface InterceptionOptions {
  pipeline: Pipeline;
  ca: CertificateAuthority;
  guard: Pick<DestinationGuard, 'isOwn'>;
  /** Time for the TLS handshake inside a CONNECT tunnel. */
  handshakeMs: number;
  /** Hands an open tunnel's socket (decrypted, or plain HTTP) to the inner HTTP server. */
  deliver(socket: net.Socket, tunnel: Tunnel): void;
}

/** Answers one CONNECT: a refusal (recorded), or a tunnel delivered to the inner server. */
export async function intercept(opts: InterceptionOptions, req: http.IncomingMessage, socket: net.Socket, head: Buffer): Promise<void> {
  socket.on('error', () => socket.destroy());
  const started = new Date();
  const id = crypto.randomUUID();
  const refuse = (r: Rejection, agent?: string): void => {
    writeRaw(socket, r, id);
    opts.pipeline.append({ time: started.toISOString(), id, ...(agent ? { agent } : {}), method: 'CONNECT', url: loggableTarget(req.url), outcome: r.outcome, status: r.status, detail: r.logDetail ?? r.detail });
  };
  const unaudited = opts.pipeline.auditUnavailable();
  if (unaudited) return refuse(unaudited);
  const credential = req.headers['proxy-authorization'];
  // A run's token works through the Unix socket only (state/agents.ts).
  const elsewhere = tokenRefusedHere(credential, socket.remoteAddress);
  if (elsewhere) return refuse(refusals.unauthenticated(elsewhere));
  let agent: AgentInfo | undefined;
  try {
    agent = await opts.pipeline.authenticate(credential);
  } catch (err) {
    return refuse(refusals.internal(err));
  }
  if (!agent) return refuse(refusals.challenge(credential, credentialsHint(credential)));
  const target = /^[^/?#@\s]+:\d{1,5}$/.test(req.url ?? '') ? parseAuthority(req.url!, 'https') : undefined;
  if (!target || target.port === 0 || target.port > 65535) return refuse(refusals.bad('CONNECT needs an authority-form target host:port'), agent.id);
  if (isOwnAddress(opts.guard, target)) return refuse(refusals.self('the proxy does not tunnel to its own listeners'), agent.id);

  socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
  // From here to the first request byte (plain HTTP) or the end of the TLS handshake, by the clock
  // (not an idle timer, which a client dripping its ClientHello a byte at a time would keep alive).
  const handshake = setTimeout(() => socket.destroy(), opts.handshakeMs);
  handshake.unref();
  socket.once('close', () => clearTimeout(handshake));
  const first = head.length ? head : await firstChunk(socket);
  if (!first) return void socket.destroy();
  socket.unshift(first);
  if (first[0] !== 0x16) {
    // Plain HTTP inside the tunnel (some clients tunnel http:// too): same inner server, scheme http.
    clearTimeout(handshake);
    opts.deliver(socket, { agent, credential, target, scheme: 'http' });
    socket.resume();
    return;
  }
  let context: tls.SecureContext;
  try {
    context = await opts.ca.contextFor(target.hostname, agent.id);
  } catch {
    return void socket.destroy();
  }
  const tunnel: Tunnel = { agent, credential, target, scheme: 'https' };
  const tlsSocket = new tls.TLSSocket(socket, {
    isServer: true,
    secureContext: context,
    // HTTP/1.x only, ours first: curl --http1.0 offers only http/1.0 (refused, it failed its
    // handshake); a client offering only h2 is refused (Airlock does not speak HTTP/2).
    ALPNProtocols: ['http/1.1', 'http/1.0'],
    SNICallback: (servername, cb) => {
      tunnel.sni = trimTrailing(servername.toLowerCase(), '.');
      cb(null, context);
    },
  });
  let secured = false;
  tlsSocket.on('error', (err: NodeJS.ErrnoException) => {
    // A client that does not trust Airlock's CA ends the handshake with an alert and shows its
    // user a certificate error; without this record nothing on Airlock's side would say why.
    if (!secured && refusedOurCertificate(err)) {
      opts.pipeline.append({
        time: started.toISOString(), id, agent: agent.id, method: 'CONNECT', url: loggableTarget(req.url), outcome: 'tls-untrusted',
        detail: `the client refused the certificate Airlock made for ${target.hostname} (${err.code}): it does not trust Airlock's CA. Give it the CA file \`airlock ca path\` prints (curl: CURL_CA_BUNDLE, Python requests: REQUESTS_CA_BUNDLE, Node: NODE_EXTRA_CA_CERTS, git: GIT_SSL_CAINFO; \`airlock run\` sets them all, unless the command names another CA itself)`,
      });
    }
    tlsSocket.destroy();
  });
  tlsSocket.once('secure', () => {
    secured = true;
    clearTimeout(handshake);
    opts.deliver(tlsSocket, tunnel);
  });
}

/**
 * TLS alerts a client sends when it rejects the server's certificate: unknown_ca from OpenSSL
 * clients (curl, Python), bad_certificate / certificate_unknown from others. Clients that finish
 * the handshake and check the certificate after it (Node, GnuTLS's git) just close: not reported.
 */
const certificateAlerts = new Set([
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  'ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE',
]);

function refusedOurCertificate(err: NodeJS.ErrnoException): boolean {
  return certificateAlerts.has(err.code ?? '');
}

/** The tunnel's first bytes (a TLS ClientHello starts 0x16), or undefined when it closes first. */
function firstChunk(socket: net.Socket): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const onData = (c: Buffer): void => {
      cleanup();
      socket.pause();
      resolve(c);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(undefined);
    };
    const cleanup = (): void => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
  });
}
