// Harness of the proxy tests: a whole Airlock in-process (startAirlock on port 0, the test policy
// of fixtures/policy), local HTTP and HTTPS upstreams with a self-signed CA made by openssl, an
// agent with a token, and a raw-socket client for the protocol-level cases.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { startAirlock, type Airlock, type AirlockOptions } from '../../runtime/airlock.ts';
import { tempDir, type Teardown } from '../temp-dir.ts';
import { upstreamCert } from '../upstream-cert.ts';

export { tempDir, upstreamCert, type Teardown };

export const policyDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'policy');

export interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void;

/** The default upstream: echoes what it received as JSON. Paths starting /big/N answer N bytes. */
export const echo: Handler = (req, res, body) => {
  const big = /^\/big\/(\d+)/.exec(req.url ?? '');
  if (big) {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': big[1] });
    return void res.end(Buffer.alloc(Number(big[1]), 97));
  }
  if (req.url?.startsWith('/redirect')) {
    res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
    return void res.end();
  }
  res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'yes', connection: 'x-private', 'x-private': 'hop' });
  res.end(JSON.stringify({ method: req.method, url: req.url, host: req.headers.host, headers: req.headers, bodyLength: body.length }));
};

export interface Upstream {
  port: number;
  seen: Seen[];
  server: http.Server;
}

async function serve(t: Teardown, server: http.Server, seen: Seen[], handler: Handler): Promise<Upstream> {
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders, body });
      handler(req, res, body);
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  }));
  return { port: (server.address() as net.AddressInfo).port, seen, server };
}

export function httpUpstream(t: Teardown, handler: Handler = echo): Promise<Upstream> {
  return serve(t, http.createServer(), [], handler);
}

export function httpsUpstream(t: Teardown, cert: { key: string; cert: string }, handler: Handler = echo): Promise<Upstream> {
  return serve(t, https.createServer({ key: cert.key, cert: cert.cert }), [], handler);
}

export interface Running {
  airlock: Airlock;
  home: string;
  agent: string;
  token: string;
  /** http://agent:token@127.0.0.1:port */
  proxyUrl: string;
  proxyPort: number;
  caFile: string;
  upstreamCertFile: string;
  upstreamCert: { key: string; cert: string };
  /** Basic credentials for Proxy-Authorization. */
  auth: string;
}

export async function startProxy(t: Teardown, opts: AirlockOptions = {}): Promise<Running> {
  const home = tempDir(t);
  const cert = upstreamCert(home);
  const airlock = await startAirlock({
    home, policy: policyDir, proxy: '127.0.0.1:0', studio: false, allowPrivate: ['127.0.0.1'], upstreamCa: [cert.certFile],
    resolve: ['api.github.com=127.0.0.1'], threads: 1, ...opts,
  });
  t.teardown(() => airlock.close());
  const issued = await airlock.agents.add('agent-1', { labels: { team: 'test' } });
  return {
    airlock, home, agent: 'agent-1', token: issued.token,
    proxyUrl: airlock.proxyUrl('agent-1', issued.token),
    proxyPort: airlock.proxyAddress.port,
    caFile: airlock.ca.files.cert,
    upstreamCertFile: cert.certFile,
    upstreamCert: cert,
    auth: `Basic ${Buffer.from(`agent-1:${issued.token}`).toString('base64')}`,
  };
}

/** Sends raw bytes to the proxy and collects everything it answers until it closes (or the time limit). */
export function rawExchange(port: number, data: string | Buffer, opts: { waitMs?: number; socket?: net.Socket } = {}): Promise<string> {
  return new Promise((resolve) => {
    const s = opts.socket ?? net.connect(port, '127.0.0.1');
    let out = '';
    const timer = setTimeout(() => finish(), opts.waitMs ?? 3000);
    const finish = (): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(out);
    };
    s.on('data', (d) => {
      out += d.toString('latin1');
      if (responseComplete(out)) finish();
    });
    s.on('close', finish);
    s.on('error', finish);
    s.write(data);
  });
}

/** True once `text` holds one whole response (content-length or chunked body complete). */
function responseComplete(text: string): boolean {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const head = text.slice(0, end);
  if (/^HTTP\/1\.1 101/.test(head)) return false;
  const cl = /\r\ncontent-length: *(\d+)/i.exec(head);
  if (cl) return text.length >= end + 4 + Number(cl[1]);
  if (/\r\ntransfer-encoding: *chunked/i.test(head)) return text.endsWith('0\r\n\r\n');
  return false;
}

/** Opens a CONNECT tunnel and returns the raw socket after "200 Connection Established". */
export function connectTunnel(port: number, target: string, auth: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    const onData = (d: Buffer): void => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      s.off('data', onData);
      if (!/^HTTP\/1\.1 200/.test(buf)) {
        s.destroy();
        return reject(new Error(`CONNECT refused: ${buf.split('\r\n')[0]}`));
      }
      resolve(s);
    };
    s.on('data', onData);
    s.on('error', reject);
    s.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\nProxy-Authorization: ${auth}\r\n\r\n`);
  });
}

/** TLS over a tunnel, trusting Airlock's CA. */
export function tlsOver(socket: net.Socket, ca: string, servername?: string): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ socket, ca: fs.readFileSync(ca, 'utf8'), ...(servername !== undefined ? { servername } : {}), ALPNProtocols: ['http/1.1'], checkServerIdentity: () => undefined });
    s.once('secureConnect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Reads one HTTP response (head + content-length body) from a socket. */
export function readResponse(s: net.Socket, timeoutMs = 5000): Promise<{ status: number; head: string; body: string; closed: boolean }> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    let closed = false;
    const timer = setTimeout(() => done(), timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      s.off('data', onData);
      s.off('close', onClose);
      const text = buf.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const head = end >= 0 ? text.slice(0, end) : text;
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({ status, head, body: end >= 0 ? text.slice(end + 4) : '', closed });
    };
    const check = (): void => {
      const text = buf.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      if (responseComplete(text)) done();
    };
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      check();
    };
    const onClose = (): void => {
      closed = true;
      done();
    };
    s.on('data', onData);
    s.on('close', onClose);
  });
}

export async function auditRecords(airlock: Airlock): Promise<Array<Record<string, unknown>>> {
  await airlock.audit.flush();
  const file = airlock.audit.file;
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}
