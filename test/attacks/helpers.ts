// The attack harness: a whole Airlock started in-process exactly as `airlock start` does
// (startAirlock), local upstreams that record every byte they receive (so each attack can assert
// the target got nothing it should not), a test CA for HTTPS upstreams, a test resolver for DNS
// rebinding, and raw-socket / raw-TLS clients for request shapes no well-behaved client sends.
// Everything listens on loopback; nothing here ever dials a non-loopback address.
import { execFile, spawn } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { startAirlock, type Airlock, type AirlockOptions } from '../../runtime/airlock.ts';
import { CertificateAuthority } from '../../proxy/ca.ts';
import type { AuditRecord } from '../../state/audit-log.ts';
import { SecretStore } from '../../state/secrets/store.ts';
import { tempDir, type Teardown } from '../temp-dir.ts';

export { tempDir, type Teardown };

export const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

// ─── upstreams ─────────────────────────────────────────────────────────────────────────────────

export interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
  servername?: string;
}

export interface Upstream {
  host: string;
  port: number;
  /** Complete requests the upstream's HTTP parser saw. */
  received: Received[];
  /** Every byte that arrived on any connection (after TLS), so half-parsed smuggling shows up too. */
  bytes(): string;
  connections: number;
  close(): Promise<void>;
}

export type UpstreamHandler = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void;

const echo: UpstreamHandler = (req, res, body) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: body.toString('utf8') }));
};

export interface UpstreamOptions {
  /** Listen address (127.0.0.1 unless a test needs a second loopback address such as 127.0.0.2). */
  host?: string;
  /** Port to listen on (0 = any). */
  port?: number;
  /** Serve HTTPS with certificates minted by this CA. */
  tlsCa?: CertificateAuthority;
  /** With tlsCa: always present a certificate for this name, whatever SNI asked (an impostor). */
  certFor?: string;
  handler?: UpstreamHandler;
}

export async function startUpstream(t: Teardown, opts: UpstreamOptions = {}): Promise<Upstream> {
  const host = opts.host ?? '127.0.0.1';
  const received: Received[] = [];
  const chunks: Buffer[] = [];
  const handler = opts.handler ?? echo;
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const body: Buffer[] = [];
    req.on('data', (c: Buffer) => body.push(c));
    req.on('end', () => {
      const b = Buffer.concat(body);
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders, body: b, servername: (req.socket as tls.TLSSocket).servername || undefined });
      handler(req, res, b);
    });
  };
  let server: http.Server;
  if (opts.tlsCa) {
    const ca = opts.tlsCa;
    const fallback = await ca.contextFor(opts.certFor ?? host);
    server = https.createServer({
      SNICallback: (name, cb) => void ca.contextFor(opts.certFor ?? name).then((c) => cb(null, c), (e: Error) => cb(e)),
      secureContext: fallback,
    } as https.ServerOptions, onRequest);
    server.on('secureConnection', (s: tls.TLSSocket) => s.on('data', (c: Buffer) => chunks.push(c)));
  } else {
    server = http.createServer(onRequest);
    server.on('connection', (s: net.Socket) => s.on('data', (c: Buffer) => chunks.push(c)));
  }
  const sockets = new Set<net.Socket>();
  let connections = 0;
  server.on('connection', (s: net.Socket) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const up: Upstream = {
    host,
    port: (server.address() as net.AddressInfo).port,
    received,
    bytes: () => Buffer.concat(chunks).toString('latin1'),
    get connections() {
      return connections;
    },
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
  t.teardown(() => up.close());
  return up;
}

/** A CA for HTTPS upstreams (not Airlock's CA): the proxy trusts it through upstreamCa. */
export async function upstreamCa(t: Teardown): Promise<CertificateAuthority> {
  return CertificateAuthority.open(tempDir(t, 'airlock-upstream-ca-'));
}

// ─── Airlock ───────────────────────────────────────────────────────────────────────────────────

export interface TestAirlock {
  airlock: Airlock;
  port: number;
  /** The agent's Proxy-Authorization header value. */
  auth: string;
  agent: string;
  token: string;
  /** Airlock's CA certificate (PEM), which clients trust for intercepted HTTPS. */
  caPem: string;
  caFile: string;
  /** Every audit record written since start. */
  records: AuditRecord[];
  /** http://agent:token@127.0.0.1:port */
  proxyUrl: string;
  /** Placeholder of each secret from `secrets`: what the agent holds instead of the value. */
  placeholders: Record<string, string>;
}

export interface TestAirlockOptions extends AirlockOptions {
  /** A folder under test/attacks/fixtures, or an absolute path. */
  policy?: string;
  /** Secrets stored (encrypted, as `airlock secret set` does) before Airlock starts: name → value. */
  secrets?: Record<string, string>;
}

export async function startTestAirlock(t: Teardown, opts: TestAirlockOptions = {}): Promise<TestAirlock> {
  const home = tempDir(t, 'airlock-home-');
  const placeholders: Record<string, string> = {};
  if (opts.secrets) {
    const store = await SecretStore.open(home);
    for (const [name, value] of Object.entries(opts.secrets)) placeholders[name] = (await store.set(name, value)).placeholder;
  }
  const policy = opts.policy && path.isAbsolute(opts.policy) ? opts.policy : path.join(fixtures, opts.policy ?? 'allow-all');
  const { secrets: _secrets, ...airlockOpts } = opts;
  const airlock = await startAirlock({ studio: false, unixSocket: false, proxy: '127.0.0.1:0', threads: 1, ...airlockOpts, home, policy });
  // Bounded: a close that hangs means a connection the proxy cannot let go of — a failure, not a wait.
  t.teardown(async () => {
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<'hung'>((r) => { timer = setTimeout(() => r('hung'), 10_000); });
    const result = await Promise.race([airlock.close().then(() => 'closed' as const), hung]);
    clearTimeout(timer);
    if (result === 'hung') throw new Error('airlock.close() did not finish within 10 s: a connection is stuck open');
  });
  const records: AuditRecord[] = [];
  const off = airlock.audit.onRecord((r) => records.push(r));
  t.teardown(() => off());
  const agent = 'attacker';
  const { token } = await airlock.agents.add(agent, { labels: { team: 'red' } });
  const caFile = path.join(home, 'ca.pem');
  return {
    airlock,
    port: airlock.proxyAddress.port,
    auth: `Basic ${Buffer.from(`${agent}:${token}`).toString('base64')}`,
    agent,
    token,
    caPem: airlock.ca.certPem,
    caFile,
    records,
    proxyUrl: airlock.proxyUrl(agent, token),
    placeholders,
  };
}

// ─── clients ───────────────────────────────────────────────────────────────────────────────────

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A forward-proxy request in absolute-form with Node's http client (what most SDKs send). */
export function viaProxy(port: number, url: string, opts: { auth?: string; method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.auth) headers['proxy-authorization'] = opts.auth;
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'host')) headers.host = new URL(url).host;
    const req = http.request({ host: '127.0.0.1', port, method: opts.method ?? 'GET', path: url, headers, agent: false, setHost: false });
    req.setTimeout(10_000, () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.end(opts.body);
  });
}

/** CONNECT through the proxy, then TLS to `servername` trusting `ca`; resolves with the TLS socket. */
export async function tlsTunnel(port: number, target: string, opts: { auth?: string; servername?: string | false; ca: string; timeoutMs?: number; alpn?: string[] }): Promise<tls.TLSSocket> {
  const socket = net.connect(port, '127.0.0.1');
  const head = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('no CONNECT reply')), opts.timeoutMs ?? 5000);
    socket.on('error', reject);
    socket.once('connect', () => socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${opts.auth ? `Proxy-Authorization: ${opts.auth}\r\n` : ''}\r\n`));
    const onData = (c: Buffer): void => {
      buf += c.toString('latin1');
      if (buf.includes('\r\n\r\n')) {
        clearTimeout(timer);
        socket.off('data', onData);
        resolve(buf);
      }
    };
    socket.on('data', onData);
  });
  if (!/^HTTP\/1\.1 200/.test(head)) {
    socket.destroy();
    throw Object.assign(new Error(`CONNECT refused: ${head.split('\r\n')[0]}`), { reply: head });
  }
  const servername = opts.servername === false ? undefined : (opts.servername ?? target.replace(/:\d+$/, '').replace(/^\[|\]$/g, ''));
  return new Promise((resolve, reject) => {
    const s = tls.connect({ socket, ca: opts.ca, ...(servername && !net.isIP(servername) ? { servername } : {}), ALPNProtocols: opts.alpn ?? ['http/1.1'], checkServerIdentity: () => undefined });
    s.once('secureConnect', () => resolve(s));
    s.once('error', reject);
  });
}

export interface RawReply {
  /** Everything the peer sent, latin1. */
  text: string;
  /** True when the peer closed the connection (rather than our idle timer ending the read). */
  closed: boolean;
}

export interface ExchangeOptions {
  /** Stop reading after this long without a byte (default 700 ms, or 5 s when `responses` is set). */
  idleMs?: number;
  /** Hard bound on the whole exchange. */
  maxMs?: number;
  /** Pause between the parts of `data` (so each lands in its own packet). */
  gapMs?: number;
  /** Stop as soon as this many complete responses arrived (a CONNECT 200 preamble not counted). */
  responses?: number;
}

/**
 * Writes bytes on a socket and reads until the peer closes it, `responses` complete responses
 * arrived, or it is idle for `idleMs` (bounded by `maxMs`). Plain TCP or a TLS socket from tlsTunnel.
 */
export function exchange(socket: net.Socket, data: string | Buffer | Array<string | Buffer>, opts: ExchangeOptions = {}): Promise<RawReply> {
  const idleMs = opts.idleMs ?? (opts.responses ? 5000 : 700);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let idle: NodeJS.Timeout | undefined;
    let finished = false;
    const finish = (closed: boolean): void => {
      if (finished) return;
      finished = true;
      clearTimeout(idle);
      clearTimeout(hard);
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed });
    };
    const arm = (): void => {
      clearTimeout(idle);
      idle = setTimeout(() => finish(false), idleMs);
    };
    const hard = setTimeout(() => finish(false), opts.maxMs ?? 8000);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      arm();
      if (opts.responses) {
        const text = Buffer.concat(chunks).toString('latin1').replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, '');
        if (parseResponses(text).length >= opts.responses) finish(false);
      }
    });
    socket.on('close', () => finish(true));
    socket.on('end', () => finish(true));
    socket.on('error', () => finish(true));
    const parts = Array.isArray(data) ? data : [data];
    const write = async (): Promise<void> => {
      for (const p of parts) {
        if (finished || socket.destroyed) return;
        socket.write(p);
        if (opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
      arm();
    };
    if (socket.connecting) socket.once('connect', () => void write());
    else void write();
  });
}

/** Opens a TCP connection to the proxy, sends raw bytes, reads the answer. */
export function rawToProxy(port: number, data: string | Buffer | Array<string | Buffer>, opts?: ExchangeOptions): Promise<RawReply> {
  return exchange(net.connect(port, '127.0.0.1'), data, opts);
}

export interface ParsedResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Splits a byte stream of HTTP/1.1 responses (content-length framed, as the proxy writes them). */
export function parseResponses(text: string): ParsedResponse[] {
  const out: ParsedResponse[] = [];
  let rest = text;
  while (rest.startsWith('HTTP/1.')) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const lines = rest.slice(0, end).split('\r\n');
    const status = Number(lines[0]!.split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    const len = Number(headers['content-length'] ?? 0);
    if (rest.length < end + 4 + len) break; // body not complete yet
    out.push({ status, headers, body: rest.slice(end + 4, end + 4 + len) });
    rest = rest.slice(end + 4 + len);
  }
  return out;
}

/** True when the response is a well-formed RFC 9457 problem: the right type and a JSON body with status. */
export function isProblem(r: { status: number; headers: Record<string, unknown>; body: string }): boolean {
  if (!String(r.headers['content-type'] ?? '').startsWith('application/problem+json')) return false;
  try {
    const p = JSON.parse(r.body) as { type?: unknown; title?: unknown; status?: unknown; detail?: unknown };
    return typeof p.type === 'string' && typeof p.title === 'string' && p.status === r.status && typeof p.detail === 'string';
  } catch {
    return false;
  }
}

/** Runs curl (a real client) through the proxy; resolves with status and body, never rejects on HTTP errors. */
export function curl(args: string[], timeoutMs = 15_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', String(Math.ceil(timeoutMs / 1000)), ...args], { timeout: timeoutMs + 2000, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Waits (bounded) until `check` holds: for asynchronous effects such as audit records being written. */
export async function eventually(check: () => boolean, maxMs = 3000): Promise<boolean> {
  const deadline = Date.now() + maxMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

/** Starts fixtures/clients/socket-holder.mjs in a child process (its descriptors are not the proxy's): `opened` once all its connections are open, `result` once it has held them its time. */
export function hold(args: string[]): { opened: Promise<void>; result: Promise<{ open: number; failed: number; closed: number; statuses: Record<string, number> }>; stop: () => void } {
  const child = spawn(process.execPath, [path.join(fixtures, 'clients', 'socket-holder.mjs'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let markOpen!: () => void;
  const opened = new Promise<void>((resolve) => (markOpen = resolve));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('\n')) markOpen();
  });
  const result = new Promise<{ open: number; failed: number; closed: number; statuses: Record<string, number> }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', () => {
      markOpen();
      const lines = out.trim().split('\n');
      resolve(JSON.parse(lines[lines.length - 1]!) as never);
    });
  });
  return { opened, result, stop: () => child.kill() };
}
