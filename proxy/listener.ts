// The proxy's listeners, on Node's own http/net/tls. One port serves absolute-form HTTP forwarding
// and CONNECT; CONNECT tunnels are intercepted (proxy/interception.ts) and their requests read by
// an inner HTTP server, so every request — outer, tunneled, each one on a keep-alive connection —
// is driven through the same steps (proxy/pipeline.ts):
//
//   admit → describe → decide → enforce → forward (proxy/upstream.ts, proxy/websocket-forward.ts) → record
//
// This module only drives them: it makes the Exchange, calls the steps in order, wires the
// agent's connection closing to the enforce step's signal, and renders a refusal on the
// connection it came from (proxy/refusals.ts). It knows allow and deny only; every other
// directive is an Enforcer.
import crypto from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import type tls from 'node:tls';
import { AbortFlag } from '../lib/abort-flag.ts';
import type { CertificateAuthority } from './ca.ts';
import type { ConnectionCheck } from './checked-dial.ts';
import { Exchange, loggableTarget, type Tunnel } from './exchange.ts';
import { IdleConnections } from './idle-connections.ts';
import { intercept } from './interception.ts';
import { Pipeline, type PipelineDeps } from './pipeline.ts';
import { formatAuthority } from './http-util.ts';
import { clientError, refusals, refusedRequestLine, sendRejection, writeRaw, type Refusal } from './refusals.ts';
import { captureBody, PieceCount } from './request-body.ts';
import { Upstream } from './upstream.ts';
import { defaultUpstreamTimeouts } from './upstream-timeouts.ts';
import { WebSocketForward } from './websocket-forward.ts';

export interface ProxyDeps extends PipelineDeps {
  ca: CertificateAuthority;
  /** Trust for upstream TLS: system roots plus --upstream-ca. */
  upstreamTls: tls.SecureContext;
  bodyCap: number;
  timeouts: ProxyTimeouts;
  maxHeaderSize: number;
}

export interface ProxyTimeouts {
  /** Time for a client to send a request's headers. */
  headersMs: number;
  /** Time for a whole request (headers + body) to arrive. */
  requestMs: number;
  /** Idle keep-alive connections (client side) are closed after this. */
  keepAliveMs: number;
  /** TLS handshake inside a CONNECT tunnel. */
  handshakeMs: number;
  /** Upstream: a new connection's TCP connect + TLS handshake. */
  upstreamConnectMs: number;
  /** Upstream: from the request fully sent to the response head (long non-streaming model calls). */
  upstreamFirstByteMs: number;
  /** Upstream: no byte either way while uploading or streaming the response. */
  upstreamIdleMs: number;
}

export const defaultTimeouts: ProxyTimeouts = {
  headersMs: 30_000, requestMs: 300_000, keepAliveMs: 30_000, handshakeMs: 15_000,
  upstreamConnectMs: defaultUpstreamTimeouts.connectMs,
  upstreamFirstByteMs: defaultUpstreamTimeouts.firstByteMs,
  upstreamIdleMs: defaultUpstreamTimeouts.idleMs,
};

/** The longest wait for an upstream's answer to a WebSocket handshake, once connected. */
const WEBSOCKET_ANSWER_MS = 30_000;

/**
 * Requests of one connection in the steps at once. An HTTP/1.1 client may pipeline hundreds of
 * requests in one packet, and Node's parser hands every one of them over in the same turn of the
 * event loop: one agent's four writes of 1,000 pipelined GETs (200 KB each) were all admitted,
 * refused or queued in a burst that held the event loop 0.4–0.7 s (a neighbour's GET up to 2 s).
 * Their answers go out in order anyway; the rest wait their turn, unread, and those still waiting
 * when the connection closes are recorded together.
 */
export const PIPELINE_WINDOW = 4;

/** Client connections waiting for a request head that nobody has used yet, at most (proxy/idle-connections.ts). */
export { MAX_IDLE_CONNECTIONS } from './idle-connections.ts';

export class ProxyServer {
  readonly outer: http.Server[] = [];
  private readonly inner: http.Server;
  private readonly tunnels = new WeakMap<net.Socket, Tunnel>();
  private readonly sockets = new Set<net.Socket>();
  /** Each connection's requests in the steps, and those waiting their turn (PIPELINE_WINDOW). */
  private readonly pipelined = new WeakMap<net.Socket, { running: number; waiting: Array<{ req: http.IncomingMessage; start: () => void }> }>();
  /** Connections waiting for a request head, bounded per agent and for those nobody has used yet. */
  private readonly idle = new IdleConnections();
  private readonly pipeline: Pipeline;
  private readonly upstream: Upstream;
  private readonly websockets: WebSocketForward;

  constructor(private readonly deps: ProxyDeps) {
    const t = deps.timeouts;
    this.pipeline = new Pipeline(deps);
    // The real guard also checks each connection once it is up (test doubles may not).
    const check = typeof (deps.guard as Partial<ConnectionCheck>).connectedRefusal === 'function' ? (deps.guard as unknown as ConnectionCheck) : undefined;
    this.upstream = new Upstream({
      tls: deps.upstreamTls, enforcers: deps.enforcers, pipeline: this.pipeline,
      timeouts: { connectMs: t.upstreamConnectMs, firstByteMs: t.upstreamFirstByteMs, idleMs: t.upstreamIdleMs },
      ...(check ? { check } : {}),
    });
    this.websockets = new WebSocketForward({
      tls: deps.upstreamTls, enforcers: deps.enforcers, pipeline: this.pipeline,
      // The handshake answer: a new connection's connect budget plus the first-byte budget, at most
      // WEBSOCKET_ANSWER_MS (a 101 is immediate; the long first-byte default suits model calls).
      handshakeMs: t.upstreamConnectMs + Math.min(t.upstreamFirstByteMs, WEBSOCKET_ANSWER_MS),
      bodyCap: deps.bodyCap,
      ...(check ? { check } : {}),
    });
    // requireHostHeader off: Node's own 400 for a missing Host is not problem+json; the proxy checks
    // Host itself (absolute-form takes the target's authority, tunnels require a matching Host).
    this.inner = this.configure(http.createServer({ maxHeaderSize: deps.maxHeaderSize, requireHostHeader: false }));
    this.inner.on('request', (req, res) => this.inTurn(req, res));
    this.inner.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket as net.Socket, head).catch(() => socket.destroy()));
    this.inner.on('connection', (s: net.Socket) => this.waitForHead(s));
    // A CONNECT inside a tunnel would open a tunnel in the tunnel: refused and recorded (Node would
    // close the connection without a word or a record).
    this.inner.on('connect', (req: http.IncomingMessage, socket: net.Socket) => this.nestedConnect(req, socket));
  }

  private nestedConnect(req: http.IncomingMessage, socket: net.Socket): void {
    this.idle.busy(socket);
    socket.on('error', () => socket.destroy());
    const tunnel = this.tunnels.get(socket);
    const r = refusals.bad('CONNECT inside a CONNECT tunnel is not supported: send the requests themselves through the tunnel, or CONNECT to the proxy');
    const id = crypto.randomUUID();
    writeRaw(socket, r, id);
    this.pipeline.append({
      time: new Date().toISOString(), id, ...(tunnel ? { agent: tunnel.agent.id } : {}), method: 'CONNECT', url: loggableTarget(req.url),
      outcome: r.outcome, status: r.status, detail: r.detail,
    });
  }

  private configure(server: http.Server): http.Server {
    const t = this.deps.timeouts;
    server.headersTimeout = t.headersMs;
    server.requestTimeout = t.requestMs;
    server.keepAliveTimeout = t.keepAliveMs;
    server.on('clientError', (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: net.Socket) => this.unreadable(err, socket));
    // An expectation other than 100-continue: Node would answer a bare 417 itself, unrecorded.
    server.on('checkExpectation', (req: http.IncomingMessage, res: http.ServerResponse) => this.unmetExpectation(req, res));
    return server;
  }

  /**
   * A request Node's parser refused (malformed, smuggling shapes, headers too large, too slow):
   * answered with a problem and recorded, like every request the proxy answers (an agent probing
   * for a desync leaves a trail). Inside a tunnel the record names its agent.
   */
  private unreadable(err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: net.Socket): void {
    const id = crypto.randomUUID();
    const r = clientError(err, socket, id);
    if (!r) return;
    const tunnel = this.tunnels.get(socket);
    const line = refusedRequestLine(err.rawPacket);
    // In a tunnel an origin-form target is a path on the tunnel's host.
    const target = tunnel && line?.url.startsWith('/') ? `${tunnel.scheme}://${formatAuthority(tunnel.target, tunnel.scheme)}${line.url}` : line?.url;
    this.pipeline.append({
      time: new Date().toISOString(), id, ...(tunnel ? { agent: tunnel.agent.id } : {}), method: line?.method ?? '', url: loggableTarget(target),
      outcome: r.outcome, status: r.status, detail: r.detail,
    });
  }

  /** A request whose Expect the proxy cannot meet (RFC 9110 §10.1.1): 417 problem+json, recorded, nothing forwarded. */
  private unmetExpectation(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.busy(req, res);
    res.on('error', () => undefined);
    const tunnel = this.tunnels.get(req.socket);
    const r: Refusal = { status: 417, type: 'expectation-failed', title: 'Expectation failed', detail: 'Airlock meets no expectation but 100-continue (RFC 9110 §10.1.1); the request was not forwarded', outcome: 'rejected' };
    const id = crypto.randomUUID();
    sendRejection(res, r, id, undefined, !req.complete);
    this.pipeline.append({
      time: new Date().toISOString(), id, ...(tunnel ? { agent: tunnel.agent.id } : {}), method: req.method ?? '', url: loggableTarget(req.url),
      outcome: r.outcome, status: r.status, detail: r.detail,
    });
  }

  /** A front listener (TCP or Unix socket) speaking the proxy protocol. */
  createListener(): http.Server {
    const server = this.configure(http.createServer({
      maxHeaderSize: this.deps.maxHeaderSize,
      requireHostHeader: false,
      connectionsCheckingInterval: Math.min(1000, this.deps.timeouts.headersMs),
    } as http.ServerOptions));
    server.on('request', (req, res) => this.inTurn(req, res));
    server.on('connect', (req, socket, head) => {
      // The tunnel counts as waiting (for its handshake and first request) until it is handed over:
      // a client opening thousands of tunnels and sending nothing meets the same bound as plain connections.
      this.waitForHead(socket as net.Socket);
      // Never an unhandled rejection (it would stop the process): an unexpected failure closes the tunnel.
      this.onConnect(req, socket as net.Socket, head).catch(() => (socket as net.Socket).destroy());
    });
    server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket as net.Socket, head).catch(() => socket.destroy()));
    server.on('connection', (s: net.Socket) => this.track(s));
    server.prependListener('clientError', (err: NodeJS.ErrnoException & { rawPacket?: Buffer }) => {
      // A TLS ClientHello (0x16) where a request line belongs: the client was given https:// as the
      // proxy URL. Its user sees only "wrong version number"; the operator's log says what to fix.
      if (err.rawPacket?.[0] === 0x16) {
        this.pipeline.append({
          time: new Date().toISOString(), id: crypto.randomUUID(), outcome: 'rejected',
          detail: 'a client opened TLS to the proxy port: its proxy URL must start with http:// (HTTPS requests go through the plain-HTTP proxy with CONNECT), not https://',
        });
      }
    });
    this.outer.push(server);
    return server;
  }

  private track(s: net.Socket): void {
    this.sockets.add(s);
    s.once('close', () => this.sockets.delete(s));
    this.waitForHead(s);
  }

  /** Counts a connection as waiting for a request head (proxy/idle-connections.ts bounds them). */
  private waitForHead(s: net.Socket): void {
    this.idle.wait(s);
  }

  /** A request head arrived: the connection is busy until its response is done, then waits again. */
  private busy(req: http.IncomingMessage, res?: http.ServerResponse): void {
    const s = req.socket;
    this.idle.busy(s);
    res?.once('finish', () => this.waitForHead(s));
  }

  async close(): Promise<void> {
    this.pipeline.stopping = true;
    const closed = Promise.all(this.outer.map((s) => new Promise<void>((r) => s.close(() => r()))));
    // Tunnels are detached from Node's HTTP bookkeeping: end them ourselves, or close() waits forever.
    for (const s of this.sockets) s.destroy();
    this.websockets.close();
    await closed;
    this.pipeline.flushRecords();
    this.upstream.close();
  }

  private onConnect(req: http.IncomingMessage, socket: net.Socket, head: Buffer): Promise<void> {
    return intercept({
      pipeline: this.pipeline, ca: this.deps.ca, guard: this.deps.guard, handshakeMs: this.deps.timeouts.handshakeMs,
      deliver: (s, tunnel) => {
        this.idle.busy(socket);
        // The tunnel's connection is its agent's: it waits for its requests under that agent's bound.
        this.idle.own(s, tunnel.agent.id);
        this.tunnels.set(s, tunnel);
        this.inner.emit('connection', s);
      },
    }, req, socket, head);
  }

  /** A request, once fewer than PIPELINE_WINDOW of its connection's are in the steps. */
  private inTurn(req: http.IncomingMessage, res: http.ServerResponse): void {
    const socket = req.socket;
    // A chunked body's pieces are counted from the first: the parser reads them while the request waits.
    if (req.headers['transfer-encoding'] !== undefined) PieceCount.of(req);
    let window = this.pipelined.get(socket);
    if (!window) {
      const w = { running: 0, waiting: [] as Array<{ req: http.IncomingMessage; start: () => void }> };
      window = w;
      this.pipelined.set(socket, w);
      socket.once('close', () => this.unreadPipelined(socket, w.waiting.splice(0)));
    }
    const w = window;
    const start = (): void => {
      w.running++;
      res.once('close', () => {
        w.running--;
        w.waiting.shift()?.start();
      });
      this.onRequest(req, res).catch(() => res.destroy());
    };
    if (w.running < PIPELINE_WINDOW) start();
    else w.waiting.push({ req, start });
  }

  /** Pipelined requests whose turn never came (the connection closed first): one record for all of them. */
  private unreadPipelined(socket: net.Socket, unread: Array<{ req: http.IncomingMessage }>): void {
    if (!unread.length) return;
    const tunnel = this.tunnels.get(socket);
    const first = unread[0]!.req;
    this.pipeline.append({
      time: new Date().toISOString(), id: crypto.randomUUID(), ...(tunnel ? { agent: tunnel.agent.id } : {}), method: first.method ?? '', url: loggableTarget(first.url),
      outcome: 'client-aborted',
      detail: `${unread.length} pipelined requests on this connection were neither decided nor forwarded: the connection closed before their turn (at most ${PIPELINE_WINDOW} of a connection's requests are read at once)`,
    });
  }

  /** One HTTP request: the steps, then the upstream; a refusal is answered on this response. */
  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.busy(req, res);
    const x = new Exchange(req, this.tunnels.get(req.socket), false);
    if (!x.tunnel) x.remoteAddress = req.socket.remoteAddress;
    res.once('close', () => x.end());
    const refuse = (r: Refusal): void => {
      sendRejection(res, withRefusalHeaders(x, r), x.id, r.rule, !req.complete);
      this.pipeline.refused(x, r);
    };
    res.on('error', () => undefined);
    // Watched from the start: an agent that goes away while its request waits for a slot or is
    // decided must not be held for the whole hold (its approval shown as waited on, then spent on nobody).
    const gone = new AbortFlag();
    res.once('close', () => { if (!res.writableFinished) gone.abort(); });
    try {
      const opened = await this.pipeline.open(x, (capture) => captureBody(req, this.deps.bodyCap, capture));
      // A connection an agent authenticated on waits for its next request under that agent's bound.
      if (x.agent) this.idle.own(req.socket, x.agent.id);
      if (opened) return refuse(opened);
      const enforced = await this.pipeline.enforce(x, gone);
      if (enforced) return refuse(enforced);
      await this.upstream.forward(x, req, res, refuse);
    } catch (err) {
      // Anything unexpected: the request does not leave, the agent gets a 500 that says so.
      if (!res.headersSent) refuse(refusals.internal(err));
      else res.destroy();
    }
  }

  /**
   * A WebSocket upgrade: decided like any request; when allowed, the upstream's answer decides
   * what the agent gets (proxy/websocket-forward.ts). A refusal is written on the socket.
   */
  private async onUpgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer): Promise<void> {
    this.idle.busy(socket);
    socket.on('error', () => socket.destroy());
    const x = new Exchange(req, this.tunnels.get(socket), true);
    if (!x.tunnel) x.remoteAddress = socket.remoteAddress;
    const gone = new AbortFlag();
    if (socket.destroyed) (x.end(), gone.abort());
    else socket.once('close', () => (x.end(), gone.abort()));
    const refuse = (r: Refusal): void => {
      writeRaw(socket, withRefusalHeaders(x, r), x.id, r.rule);
      this.pipeline.refused(x, r);
    };
    try {
      const opened = await this.pipeline.open(x);
      if (opened) return refuse(opened);
      const enforced = await this.pipeline.enforce(x, gone);
      if (enforced) return refuse(enforced);
      await this.websockets.forward(x, req, socket, head, refuse);
    } catch (err) {
      if (x.record.outcome === 'pending') refuse(refusals.internal(err));
      else socket.destroy();
    }
  }
}

/** A refusal with the headers the enforcers asked every refusal of this request to carry. */
function withRefusalHeaders(x: Exchange, r: Refusal): Refusal {
  const extra = x.context?.refusalHeaders;
  return extra && Object.keys(extra).length ? { ...r, headers: { ...extra, ...(r.headers ?? {}) } } : r;
}
