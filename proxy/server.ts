// The proxy listener, on Node's own http/net/tls. One port serves absolute-form HTTP forwarding
// and CONNECT; CONNECT tunnels carrying TLS are intercepted with a leaf certificate from the local
// CA and their requests fed to an inner HTTP server, so every request — outer, tunneled, each one
// on a keep-alive connection — goes through the same pipeline:
//
//   authenticate → capture body prefix → describe (+ enforcers' describe) → decide
//     → deny: 403 problem+json
//     → allow/approve: enforcers' beforeForward in order (approve unhandled → deny, fail closed)
//       → destination safety on resolved addresses → dial the checked address → stream both ways
//       → enforcers' onResponse transforms → audit record
//
// The socket code knows allow and deny only; every other directive is an Enforcer.
import crypto from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { Readable, Transform, pipeline } from 'node:stream';
import tls from 'node:tls';
import type { AuditRecord } from '../state/audit-log.ts';
import { trimTrailing } from '../lib/text.ts';
import { parseProxyAuthorization } from '../state/agents.ts';
import type { AgentInfo, RequestDescription } from '../describe/types.ts';
import type { EngineDecision } from '../engine/decision.ts';
import { AgentGate } from './agent-gate.ts';
import type { CertificateAuthority } from './ca.ts';
import { DescribeError, describeRequest, type PlaceholderFinder, type RawRequest } from '../describe/describe.ts';
import { DestinationError, type DestinationGuard } from './destination.ts';
import { StreamStop, type EgressMeter, type Enforcer, type OutgoingRequest, type Rejection, type RequestContext, type ResponseHead } from './enforcers.ts';
import { pathAmbiguity, rawPathOf } from '../describe/path-ambiguity.ts';
import { defaultUpstreamTimeouts, timeoutText, watchUpstream, type UpstreamTimeouts } from './upstream-timeouts.ts';
import {
  endToEnd, flatten, formatAuthority, parseAuthority, problemBody, rejectionBody, sameAuthority, type Authority,
} from './http-util.ts';
import { checkAgentHandshake, isHandshakeProblem } from './websocket-handshake.ts';
import { acceptAgent, dialUpstream, relay, upstreamHeaders, type TunnelEnd } from './websocket-relay.ts';
import type { WebSocket } from 'ws';
import { isStoreUnavailable, type StoreUnavailableError } from '../state/unavailable.ts';

export interface ProxyDeps {
  engine: { decide(input: RequestDescription): Promise<EngineDecision> };
  agents: { authenticate(name: string, token: string): Promise<AgentInfo | undefined> };
  /** `available` false: records cannot be written (disk full), so nothing is forwarded (503). */
  audit: { append(record: AuditRecord): void; readonly available?: boolean; readonly unavailableReason?: string | undefined };
  ca: CertificateAuthority;
  guard: DestinationGuard;
  /** Live list: read on every request, so enforcers added after start apply at once. */
  enforcers: Enforcer[];
  /** Read on every request (the secrets engineer's finder is set once secrets are loaded). */
  placeholders: () => PlaceholderFinder | undefined;
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

interface Tunnel {
  agent: AgentInfo;
  /** The CONNECT credentials, re-checked for every request so a revoked token stops at once. */
  credential: string | undefined;
  target: Authority;
  scheme: 'http' | 'https';
  /** SNI the client sent, normalized; undefined when it sent none. */
  sni?: string;
}

const json = 'application/problem+json';
const authChallenge = 'Basic realm="airlock"';

/** Statuses the agent sees for refusals the proxy makes before or without a policy decision. */
const refusals = {
  unauthenticated: (detail: string): Rejection => ({ status: 407, type: 'proxy-auth-required', title: 'Proxy authentication required', detail, outcome: 'unauthenticated', headers: { 'proxy-authenticate': authChallenge } }),
  /**
   * 407 to a request that offered no credentials at all. That is how HTTP authentication starts
   * (RFC 9110 §11.6.2): clients that negotiate the scheme, like git through libcurl's "anyauth",
   * send their first request bare and retry with credentials. Recorded as `auth-challenge`, which
   * the log and replay leave out; credentials that were offered and refused are `unauthenticated`.
   */
  challenge: (header: string | undefined, detail: string): Rejection => ({
    ...refusals.unauthenticated(detail),
    ...(header === undefined || header.trim() === '' ? { outcome: 'auth-challenge' } : {}),
  }),
  bad: (detail: string): Rejection => ({ status: 400, type: 'bad-request', title: 'Bad request', detail, outcome: 'rejected' }),
  misdirected: (detail: string): Rejection => ({ status: 421, type: 'misdirected-request', title: 'Misdirected request', detail, outcome: 'rejected' }),
  self: (detail: string): Rejection => ({ status: 403, type: 'airlock-itself', title: 'Request aimed at Airlock itself', detail, outcome: 'rejected' }),
  destination: (detail: string): Rejection => ({ status: 403, type: 'destination-blocked', title: 'Destination blocked', detail, outcome: 'destination-blocked' }),
  resolve: (detail: string): Rejection => ({ status: 502, type: 'upstream-unresolvable', title: 'Upstream name does not resolve', detail, outcome: 'upstream-error' }),
  upstream: (detail: string): Rejection => ({ status: 502, type: 'upstream-error', title: 'Upstream error', detail, outcome: 'upstream-error' }),
  timeout: (detail: string): Rejection => ({ status: 504, type: 'upstream-timeout', title: 'Upstream timed out', detail, outcome: 'upstream-timeout' }),
  // No request leaves unaudited: while records cannot be written, nothing is forwarded.
  audit: (detail: string): Rejection => ({ status: 503, type: 'audit-unavailable', title: 'Audit log unavailable', detail: `the audit log cannot be written (${detail}); nothing is forwarded until it can. Retry shortly.`, outcome: 'audit-unavailable', headers: { 'retry-after': '1' } }),
  // A shared store (PostgreSQL, Redis) that cannot be reached: fail closed, say what is down.
  unavailable: (err: StoreUnavailableError): Rejection => ({ status: 503, type: 'store-unavailable', title: 'State store unavailable', detail: `${err.message}; the request was not forwarded. Retry shortly.`, outcome: 'store-unavailable', headers: { 'retry-after': '1' }, extra: { store: err.store } }),
  // Anything unexpected (e.g. an unreadable state file): the request does not leave.
  // The cause (often a state file's path) goes to the audit log and the operator's terminal only:
  // the client may not even have authenticated yet.
  internal: (err: unknown): Rejection => isStoreUnavailable(err) ? refusals.unavailable(err) : ({
    status: 500, type: 'proxy-error', title: 'Internal proxy error',
    detail: 'the request was not forwarded: Airlock hit an internal error; its operator finds the cause in Airlock\'s log under this request id',
    logDetail: `internal error: ${String((err as Error)?.message ?? err).slice(0, 500)}`, outcome: 'error',
  }),
};

function denial(d: EngineDecision): Rejection {
  return { status: 403, type: 'policy-denied', title: 'Denied by policy', detail: d.reason, outcome: 'denied' };
}

export class ProxyServer {
  readonly outer: http.Server[] = [];
  private readonly inner: http.Server;
  private readonly tunnels = new WeakMap<net.Socket, Tunnel>();
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly sockets = new Set<net.Socket>();
  private readonly gate = new AgentGate();
  /** Upstream WebSocket connections of open tunnels (ended on close()). */
  private readonly upstreamSockets = new Set<WebSocket>();

  constructor(private readonly deps: ProxyDeps) {
    // requireHostHeader off: Node's own 400 for a missing Host is not problem+json; the proxy checks
    // Host itself (absolute-form takes the target's authority, tunnels require a matching Host).
    this.inner = this.configure(http.createServer({ maxHeaderSize: deps.maxHeaderSize, requireHostHeader: false }));
    this.inner.on('request', (req, res) => this.onRequest(req, res).catch(() => res.destroy()));
    this.inner.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket as net.Socket, head).catch(() => socket.destroy()));
    const agentOpts = { keepAlive: true, maxSockets: Infinity, maxFreeSockets: 256, scheduling: 'lifo' as const };
    this.httpAgent = new http.Agent(agentOpts);
    this.httpsAgent = new https.Agent(agentOpts);
  }

  private configure(server: http.Server): http.Server {
    const t = this.deps.timeouts;
    server.headersTimeout = t.headersMs;
    server.requestTimeout = t.requestMs;
    server.keepAliveTimeout = t.keepAliveMs;
    server.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => clientError(err, socket));
    return server;
  }

  /** A front listener (TCP or Unix socket) speaking the proxy protocol. */
  createListener(): http.Server {
    const server = this.configure(http.createServer({
      maxHeaderSize: this.deps.maxHeaderSize,
      requireHostHeader: false,
      connectionsCheckingInterval: Math.min(1000, this.deps.timeouts.headersMs),
    } as http.ServerOptions));
    server.on('request', (req, res) => this.onRequest(req, res).catch(() => res.destroy()));
    server.on('connect', (req, socket, head) => {
      // Never an unhandled rejection (it would stop the process): an unexpected failure closes the tunnel.
      this.onConnect(req, socket as net.Socket, head).catch(() => (socket as net.Socket).destroy());
    });
    server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket as net.Socket, head).catch(() => socket.destroy()));
    server.on('connection', (s: net.Socket) => this.track(s));
    this.outer.push(server);
    return server;
  }

  private track(s: net.Socket): void {
    this.sockets.add(s);
    s.once('close', () => this.sockets.delete(s));
  }

  async close(): Promise<void> {
    const closed = Promise.all(this.outer.map((s) => new Promise<void>((r) => s.close(() => r()))));
    // Tunnels are detached from Node's HTTP bookkeeping: end them ourselves, or close() waits forever.
    for (const s of this.sockets) s.destroy();
    for (const ws of this.upstreamSockets) ws.terminate();
    await closed;
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private upstreamTimeouts(): UpstreamTimeouts {
    const t = this.deps.timeouts;
    return { connectMs: t.upstreamConnectMs, firstByteMs: t.upstreamFirstByteMs, idleMs: t.upstreamIdleMs };
  }

  // ─── identity ────────────────────────────────────────────────────────────────────────────────

  private async authenticate(header: string | undefined): Promise<AgentInfo | undefined> {
    const cred = parseProxyAuthorization(header);
    if (!cred) return undefined;
    return this.deps.agents.authenticate(cred.name, cred.token);
  }

  // ─── CONNECT ─────────────────────────────────────────────────────────────────────────────────

  private async onConnect(req: http.IncomingMessage, socket: net.Socket, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const started = new Date();
    const id = crypto.randomUUID();
    const refuse = (r: Rejection, agent?: string): void => {
      writeRaw(socket, r, id);
      this.record({ time: started.toISOString(), id, ...(agent ? { agent } : {}), method: 'CONNECT', url: loggableTarget(req.url), outcome: r.outcome, status: r.status, detail: r.logDetail ?? r.detail });
    };
    const unaudited = this.auditUnavailable();
    if (unaudited) return refuse(unaudited);
    let agent: AgentInfo | undefined;
    try {
      agent = await this.authenticate(req.headers['proxy-authorization']);
    } catch (err) {
      return refuse(refusals.internal(err));
    }
    if (!agent) return refuse(refusals.challenge(req.headers['proxy-authorization'], 'send Proxy-Authorization: Basic agent:token (the proxy URL `airlock agent add` printed)'));
    const target = /^[^/?#@\s]+:\d{1,5}$/.test(req.url ?? '') ? parseAuthority(req.url!, 'https') : undefined;
    if (!target || target.port === 0 || target.port > 65535) return refuse(refusals.bad('CONNECT needs an authority-form target host:port'), agent.id);
    if (net.isIP(target.hostname) && this.deps.guard.isOwn(target.hostname, target.port)) return refuse(refusals.self('the proxy does not tunnel to its own listeners'), agent.id);

    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    socket.setTimeout(this.deps.timeouts.handshakeMs, () => socket.destroy());
    const first = head.length ? head : await firstChunk(socket);
    if (!first) return void socket.destroy();
    socket.unshift(first);
    if (first[0] !== 0x16) {
      // Plain HTTP inside the tunnel (some clients tunnel http:// too): same inner server, scheme http.
      socket.setTimeout(0);
      this.tunnels.set(socket, { agent, credential: req.headers['proxy-authorization'], target, scheme: 'http' });
      this.inner.emit('connection', socket);
      socket.resume();
      return;
    }
    let context: tls.SecureContext;
    try {
      context = await this.deps.ca.contextFor(target.hostname);
    } catch {
      return void socket.destroy();
    }
    const tunnel: Tunnel = { agent, credential: req.headers['proxy-authorization'], target, scheme: 'https' };
    const tlsSocket = new tls.TLSSocket(socket, {
      isServer: true,
      secureContext: context,
      ALPNProtocols: ['http/1.1'],
      SNICallback: (servername, cb) => {
        tunnel.sni = trimTrailing(servername.toLowerCase(), '.');
        cb(null, context);
      },
    });
    tlsSocket.on('error', () => tlsSocket.destroy());
    tlsSocket.once('secure', () => {
      socket.setTimeout(0);
      this.tunnels.set(tlsSocket, tunnel);
      this.inner.emit('connection', tlsSocket);
    });
  }

  // ─── one request ─────────────────────────────────────────────────────────────────────────────

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const t0 = performance.now();
    const time = new Date();
    const id = crypto.randomUUID();
    const record: AuditRecord = { time: time.toISOString(), id, method: req.method ?? '', url: loggableTarget(req.url), outcome: 'pending' };
    const reply = (r: Rejection, rule?: string): void => {
      record.outcome = r.outcome;
      record.status = r.status;
      record.detail = r.logDetail ?? r.detail;
      sendRejection(res, r, id, rule, !req.complete);
      record.total_ms = ms(t0);
      this.record(record);
    };
    res.on('error', () => undefined);

    try {
      const unaudited = this.auditUnavailable();
      if (unaudited) return reply(unaudited);
      const tunnel = this.tunnels.get(req.socket);
      let agent: AgentInfo | undefined;
      let url: string;
      if (tunnel) {
        agent = await this.authenticate(tunnel.credential);
        if (!agent) return reply({ ...refusals.unauthenticated('the credentials of this tunnel are no longer valid'), headers: { connection: 'close' } });
        record.agent = agent.id;
        const target = this.tunnelTarget(req, tunnel);
        if (typeof target !== 'string') return reply(target);
        url = target;
      } else {
        agent = await this.authenticate(req.headers['proxy-authorization']);
        if (!agent) return reply(refusals.challenge(req.headers['proxy-authorization'], 'send Proxy-Authorization: Basic agent:token (the proxy URL `airlock agent add` printed)'));
        record.agent = agent.id;
        const target = this.absoluteTarget(req);
        if (typeof target !== 'string') return reply(target);
        url = target;
      }
      record.url = url;

      // Body prefix, description and decision take one of the agent's few slots (proxy/agent-gate.ts).
      const admitted = agent;
      const { body, raw, decided } = await this.gate.run(agent.id, async () => {
        const body = await captureBody(req, this.deps.bodyCap);
        const raw: RawRequest = { id, time, method: req.method ?? 'GET', url, headers: withHost(req.rawHeaders, url), body: body.captured, bodyTruncated: body.truncated };
        return { body, raw, decided: await this.decide(raw, admitted, record, req.url ?? '') };
      });
      if ('status' in decided) return reply(decided, decided.rule);
      const { described, decision } = decided;

      const ac = new AbortController();
      res.once('close', () => { if (!res.writableFinished) ac.abort(); });
      const outgoing: OutgoingRequest = {
        method: raw.method.toUpperCase(),
        url: new URL(described.request.url),
        headers: endToEnd(req.rawHeaders, dropToUpstream),
        bodyTransforms: [],
      };
      const ctx: RequestContext = { description: described, decision, outgoing, audit: {}, signal: ac.signal, body: { bytes: body.captured, truncated: body.truncated } };
      const ready = await this.enforceAndResolve(ctx, record);
      if ('rejection' in ready) return reply(ready.rejection, decision.rule);
      await this.forward(req, res, body, ctx, ready, record, t0, reply);
    } catch (err) {
      // Anything unexpected: the request does not leave, the agent gets a 500 that says so.
      if (!res.headersSent) reply(refusals.internal(err));
      else res.destroy();
    }
  }

  /** The absolute URL of a tunneled request; Host, CONNECT target and SNI must agree. */
  private tunnelTarget(req: http.IncomingMessage, tunnel: Tunnel): string | Rejection {
    const closeAfter = (r: Rejection): Rejection => ({ ...r, headers: { ...(r.headers ?? {}), connection: 'close' } });
    if (tunnel.sni !== undefined && tunnel.sni !== tunnel.target.hostname) {
      return closeAfter(refusals.misdirected(`TLS SNI ${tunnel.sni} does not match the CONNECT target ${tunnel.target.hostname}`));
    }
    let path = req.url ?? '/';
    if (!path.startsWith('/')) {
      // absolute-form inside a tunnel: allowed only when it names the tunnel's own origin.
      const abs = parseUrl(path);
      if (!abs || abs.protocol !== `${tunnel.scheme}:` || !sameAuthority(authorityOf(abs, tunnel.scheme), tunnel.target)) {
        return closeAfter(refusals.misdirected('request target inside the tunnel names another origin than the CONNECT target'));
      }
      path = abs.pathname + abs.search;
    }
    const hostHeader = req.headers.host;
    const host = hostHeader ? parseAuthority(hostHeader, tunnel.scheme) : undefined;
    if (!host || !sameAuthority(host, tunnel.target)) {
      return closeAfter(refusals.misdirected(`Host ${JSON.stringify(hostHeader ?? '')} does not match the CONNECT target ${formatAuthority(tunnel.target, tunnel.scheme)}`));
    }
    return `${tunnel.scheme}://${formatAuthority(tunnel.target, tunnel.scheme)}${path}`;
  }

  /** The absolute-form target of a request sent to the proxy itself (not tunneled). */
  private absoluteTarget(req: http.IncomingMessage): string | Rejection {
    const target = req.url ?? '';
    if (!/^https?:\/\//i.test(target)) return refusals.bad('this is a proxy: send absolute-form requests (http://host/path) or CONNECT');
    if (req.headers.host === undefined && req.httpVersionMinor >= 1) return refusals.bad('an HTTP/1.1 request must carry a Host header (RFC 9112 §3.2)');
    const url = parseUrl(target);
    if (!url) return refusals.bad('request target is not a valid absolute URL');
    if (url.username || url.password || /^https?:\/\/[^/?#]*@/i.test(target)) return refusals.bad('request target must not contain userinfo (user:pass@); send credentials in headers');
    // RFC 9112 §3.2.2: with an absolute-form target the proxy ignores the received Host and uses
    // the target's authority (the description and the upstream both get that one).
    const authority = authorityOf(url, url.protocol.slice(0, -1));
    if (net.isIP(authority.hostname) && this.deps.guard.isOwn(authority.hostname, authority.port)) return refusals.self('requests to the proxy or studio through the proxy are refused');
    return url.href;
  }

  /**
   * Describe, decide, and note both in the audit record; a refusal (deny, undescribable, or a path
   * that means two things which the policy did not accept) comes back as a Rejection.
   * `target` is the request target exactly as the agent sent it.
   */
  private async decide(raw: RawRequest, agent: AgentInfo, record: AuditRecord, target: string): Promise<{ described: RequestDescription; decision: EngineDecision } | (Rejection & { rule?: string })> {
    const described = await this.describe(raw, agent);
    if ('status' in described) return described;
    record.host = described.request.host;
    const decision = await this.deps.engine.decide(described);
    record.description = described;
    record.decision = decisionSummary(decision);
    record.policy_version = decision.policy_version;
    record.decision_us = decision.decision_us;
    if (decision.action === 'deny') return { ...denial(decision), ...(decision.rule ? { rule: decision.rule } : {}) };
    // The path as sent (shapes the URL parser would erase) and as it will be forwarded (shapes the
    // normalization could create, such as %25%41 becoming %25A).
    const ambiguous = decision.raw_path === true ? undefined : pathAmbiguity(rawPathOf(target)) ?? pathAmbiguity(described.request.path);
    if (ambiguous) {
      return { ...refusals.bad(`the request path can mean two things: it holds ${ambiguous}. Airlock refuses it so the policy and the upstream read the same path (a policy accepts such paths for a host with raw_path: true)`), ...(decision.rule ? { rule: decision.rule } : {}) };
    }
    return { described, decision };
  }

  private async describe(raw: RawRequest, agent: AgentInfo): Promise<RequestDescription | Rejection> {
    let d: RequestDescription;
    try {
      const placeholders = this.deps.placeholders();
      d = describeRequest(raw, placeholders ? { agent, placeholders } : { agent });
    } catch (err) {
      if (err instanceof DescribeError) return refusals.bad(err.message);
      throw err;
    }
    for (const e of this.deps.enforcers) {
      if (!e.describe) continue;
      const p = e.describe(d);
      if (p) await p;
    }
    return d;
  }

  /**
   * The last steps before dialing, the same for plain requests and upgrades: the enforcers (their
   * notes go to the audit record), then destination safety on the resolved address to dial.
   */
  private async enforceAndResolve(ctx: RequestContext, record: AuditRecord): Promise<{ rejection: Rejection } | { address: string; port: number }> {
    const rejected = await this.beforeForward(ctx);
    if (Object.keys(ctx.audit).length) record.extra = ctx.audit;
    if (rejected) return { rejection: rejected };
    // Checked again at the last moment: an approval hold can last minutes, the disk can fill meanwhile.
    const unaudited = this.auditUnavailable();
    if (unaudited) return { rejection: unaudited };
    try {
      return await this.deps.guard.resolveEndpoint(ctx.outgoing.url.hostname.replace(/^\[|\]$/g, ''), ctx.description.request.port);
    } catch (err) {
      const e = err as DestinationError;
      return { rejection: e.kind === 'resolve' ? refusals.resolve(e.message) : refusals.destination(e.message) };
    }
  }

  private async beforeForward(ctx: RequestContext): Promise<Rejection | undefined> {
    const origin = ctx.outgoing.url.origin;
    const r = await this.runBeforeForward(ctx);
    // The destination is what the policy decided on: an enforcer may change path, query and
    // headers, never scheme, host or port.
    if (!r && ctx.outgoing.url.origin !== origin) {
      return { status: 502, type: 'enforcer-error', title: 'Enforcer error', detail: 'an enforcer changed the request destination; refused', outcome: 'error' };
    }
    return r;
  }

  private async runBeforeForward(ctx: RequestContext): Promise<Rejection | undefined> {
    let approvalHandled = false;
    for (const e of this.deps.enforcers) {
      if (e.handlesApproval) approvalHandled = true;
      if (!e.beforeForward) continue;
      const r = await e.beforeForward(ctx);
      if (r) return r;
      if (ctx.signal.aborted) return { status: 499, type: 'client-closed', title: 'Client closed the request', detail: 'the agent went away', outcome: 'client-aborted' };
    }
    if (ctx.decision.action === 'approve' && !approvalHandled) {
      return { status: 403, type: 'approval-unavailable', title: 'Approval required', detail: `${ctx.decision.reason} (approval required, but no approver is configured: denied)`, outcome: 'denied' };
    }
    if (ctx.decision.action !== 'allow' && ctx.decision.action !== 'approve') return denial(ctx.decision);
    return undefined;
  }

  // ─── forwarding ──────────────────────────────────────────────────────────────────────────────

  private forward(
    req: http.IncomingMessage, res: http.ServerResponse, body: CapturedBody, ctx: RequestContext, dial: { address: string; port: number },
    record: AuditRecord, t0: number, reply: (r: Rejection, rule?: string) => void,
  ): Promise<void> {
    const { outgoing } = ctx;
    const url = outgoing.url;
    const tlsUpstream = url.protocol === 'https:';
    const { address, port } = dial;
    const headers = outgoing.headers.filter(([k]) => k.toLowerCase() !== 'host');
    const transforms = outgoing.bodyTransforms;
    if (transforms.length) {
      for (let i = headers.length - 1; i >= 0; i--) if (headers[i]![0].toLowerCase() === 'content-length') headers.splice(i, 1);
    }
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    const options: https.RequestOptions & tls.SecureContextOptions & { secureContext?: tls.SecureContext } = {
      host: address,
      port,
      method: outgoing.method,
      path: url.pathname + url.search,
      headers: ['Host', url.host, ...flatten(headers)] as unknown as http.OutgoingHttpHeaders,
      setHost: false,
      agent: tlsUpstream ? this.httpsAgent : this.httpAgent,
    };
    if (tlsUpstream) {
      options.secureContext = this.deps.upstreamTls;
      options.rejectUnauthorized = true;
      if (!net.isIP(hostname)) options.servername = hostname;
      // Verify the certificate against the name the policy allowed, not the address we dialed.
      options.checkServerIdentity = (_h, cert) => tls.checkServerIdentity(hostname, cert);
    }

    return new Promise<void>((resolve) => {
      let settled = false;
      const done = (outcome: string): void => {
        if (settled) return;
        settled = true;
        record.outcome = outcome;
        record.total_ms = ms(t0);
        if (record.extra === undefined && nonEmpty(ctx.audit)) record.extra = ctx.audit;
        if (record.status === undefined) record.status = res.statusCode;
        this.record(record);
        resolve();
      };
      const upReq = (tlsUpstream ? https : http).request(options);
      const fail = (err: NodeJS.ErrnoException, timedOut: boolean): void => {
        if (settled) return;
        if (err instanceof StreamStop) return stopped(err.rejection);
        if (!res.headersSent) {
          const why = upstreamErrorText(err, timedOut);
          const r = timedOut ? refusals.timeout(why) : refusals.upstream(why);
          settled = true;
          upReq.destroy();
          reply(r, ctx.decision.rule);
          resolve();
          return;
        }
        record.detail = upstreamErrorText(err, timedOut);
        res.destroy();
        done(timedOut ? 'upstream-timeout' : 'upstream-error');
      };
      // A stream stage refused to let the rest leave (an empty byte budget): a refusal, not an upstream error.
      const stopped = (r: Rejection): void => {
        upReq.destroy();
        if (nonEmpty(ctx.audit)) record.extra = ctx.audit;
        if (!res.headersSent) {
          settled = true;
          reply(r, ctx.decision.rule);
          resolve();
          return;
        }
        record.detail = r.detail;
        res.destroy();
        done(r.outcome);
      };
      watchUpstream(upReq, this.upstreamTimeouts(), (phase, limit) => {
        const e = new Error(timeoutText(phase, limit)) as NodeJS.ErrnoException;
        e.code = 'ETIMEDOUT';
        fail(e, true);
        upReq.destroy(e);
      });
      upReq.on('error', (err) => fail(err, (err as NodeJS.ErrnoException).code === 'ETIMEDOUT'));
      ctx.signal.addEventListener('abort', () => {
        if (settled) return;
        upReq.destroy();
        done('client-aborted');
      }, { once: true });

      upReq.on('response', (upRes) => {
        const head: ResponseHead = { statusCode: upRes.statusCode ?? 502, statusMessage: upRes.statusMessage, headers: endToEnd(upRes.rawHeaders) };
        const resTransforms: Transform[] = [];
        for (const e of this.deps.enforcers) {
          if (!e.onResponse) continue;
          const t = e.onResponse(ctx, head);
          if (t) resTransforms.push(t);
        }
        if (resTransforms.length) head.headers = head.headers.filter(([k]) => k.toLowerCase() !== 'content-length');
        record.upstream_status = upRes.statusCode;
        record.status = head.statusCode;
        upRes.on('error', () => undefined);
        try {
          res.writeHead(head.statusCode, head.statusCode === upRes.statusCode ? head.statusMessage : undefined, flatten(head.headers) as unknown as http.OutgoingHttpHeaders);
        } catch (err) {
          upRes.destroy();
          return fail(err as NodeJS.ErrnoException, false);
        }
        if (!resTransforms.length) {
          // Fast path: plain pipe (stream.pipeline allocates an AbortController and a DOMException
          // per call, measurable at proxy request rates).
          upRes.on('close', () => {
            if (upRes.complete || settled) return;
            if (ctx.signal.aborted) return done('client-aborted');
            record.detail = 'response stream broke: the upstream closed the connection mid-body';
            res.destroy();
            done('upstream-error');
          });
          res.once('finish', () => done('forwarded'));
          res.once('close', () => {
            if (!res.writableFinished) upRes.destroy();
          });
          upRes.pipe(res);
          return;
        }
        const streams = [upRes, ...resTransforms, res] as unknown as [NodeJS.ReadableStream, NodeJS.WritableStream];
        pipeline(...streams, (err) => {
          if (err) {
            if (ctx.signal.aborted) return done('client-aborted');
            record.detail = `response stream broke: ${upstreamErrorText(err as NodeJS.ErrnoException, false)}`;
            res.destroy();
            return done('upstream-error');
          }
          done('forwarded');
        });
      });

      // Request body: the captured prefix, then (when truncated) the rest straight from the agent.
      if (!transforms.length && !body.truncated) {
        upReq.end(body.captured.length ? body.captured : undefined);
        return;
      }
      // Bytes past what the description counted are charged to byte budgets as they leave.
      const meter = this.egressMeter(ctx);
      const stages = meter ? [...transforms, meterStage(meter)] : transforms;
      const source = Readable.from(bodyChunks(req, body));
      pipeline([source, ...stages, upReq] as unknown as [NodeJS.ReadableStream, NodeJS.WritableStream], (err) => {
        if (err && !settled) fail(err as NodeJS.ErrnoException, false);
      });
    });
  }

  // ─── WebSocket upgrades ──────────────────────────────────────────────────────────────────────

  /**
   * An upgrade is decided like any request; when allowed, the upstream's answer decides what the
   * agent gets: a verified WebSocket 101 opens the message relay (proxy/websocket-relay.ts), any
   * other answer but 101 is relayed as a response, any other 101 is a 502. Two audit records: the
   * upgrade (as for every request), and when the tunnel ends, what crossed it and how it ended.
   */
  private async onUpgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const t0 = performance.now();
    const time = new Date();
    const id = crypto.randomUUID();
    const record: AuditRecord = { time: time.toISOString(), id, method: req.method ?? '', url: loggableTarget(req.url), outcome: 'pending' };
    const refuse = (r: Rejection, rule?: string): void => {
      writeRaw(socket, r, id, rule);
      record.outcome = r.outcome;
      record.status = r.status;
      record.detail = r.logDetail ?? r.detail;
      record.total_ms = ms(t0);
      this.record(record);
    };
    try {
      const unaudited = this.auditUnavailable();
      if (unaudited) return refuse(unaudited);
      // The agent's socket is not read until the upstream's 101 is verified: `head` and anything
      // after it wait, and are then parsed as WebSocket frames or never used.
      const offer = checkAgentHandshake(req);
      if (isHandshakeProblem(offer)) return refuse({ ...refusals.bad(offer.detail), ...(offer.headers ? { headers: offer.headers } : {}) });
      const tunnel = this.tunnels.get(socket);
      let agent: AgentInfo | undefined;
      let url: string | Rejection;
      if (tunnel) {
        agent = await this.authenticate(tunnel.credential);
        if (!agent) return refuse(refusals.unauthenticated('the credentials of this tunnel are no longer valid'));
        url = this.tunnelTarget(req, tunnel);
      } else {
        agent = await this.authenticate(req.headers['proxy-authorization']);
        if (!agent) return refuse(refusals.challenge(req.headers['proxy-authorization'], 'send Proxy-Authorization: Basic agent:token'));
        url = this.absoluteTarget(req);
      }
      record.agent = agent.id;
      if (typeof url !== 'string') return refuse(url);
      url = url.replace(/^http/, 'ws');
      record.url = url;
      const raw: RawRequest = { id, time, method: req.method ?? 'GET', url, headers: withHost(req.rawHeaders, url), body: Buffer.alloc(0), bodyTruncated: false };
      const admitted = agent;
      const decided = await this.gate.run(agent.id, () => this.decide(raw, admitted, record, req.url ?? ''));
      if ('status' in decided) return refuse(decided, decided.rule);
      const { described, decision } = decided;
      const ac = new AbortController();
      socket.once('close', () => ac.abort());
      const outgoing: OutgoingRequest = { method: 'GET', url: new URL(described.request.url), headers: upstreamHeaders(endToEnd(req.rawHeaders, dropToUpstream)), bodyTransforms: [] };
      const ctx: RequestContext = { description: described, decision, outgoing, audit: {}, signal: ac.signal };
      const ready = await this.enforceAndResolve(ctx, record);
      if ('rejection' in ready) return refuse(ready.rejection, decision.rule);
      if (outgoing.bodyTransforms.length) return refuse(refusals.internal(new Error('an enforcer asked to transform the body of a WebSocket handshake, which has none')), decision.rule);

      const answer = await dialUpstream({
        url: outgoing.url, address: ready.address, port: ready.port, headers: outgoing.headers,
        // The handshake answer: a new connection's connect budget plus the first-byte budget.
        tls: this.deps.upstreamTls, timeoutMs: this.deps.timeouts.upstreamConnectMs + this.deps.timeouts.upstreamFirstByteMs,
      }, offer);
      if (Object.keys(ctx.audit).length) record.extra = ctx.audit;
      if (answer.kind === 'failed') {
        if (answer.invalid101) record.upstream_status = 101;
        const why = answer.invalid101
          ? `the upstream answered 101 but not a valid WebSocket handshake (${answer.detail}); nothing was relayed`
          : upstreamErrorText(Object.assign(new Error(answer.detail), { code: answer.code }), answer.timedOut);
        return refuse(answer.timedOut ? refusals.timeout(why) : refusals.upstream(why), decision.rule);
      }
      if (answer.kind === 'response') return this.relayAnswer(socket, answer.response, answer.request, ctx, record, t0);

      const upstream = answer.socket;
      const head101 = answer.head;
      for (const e of this.deps.enforcers) e.onResponse?.(ctx, head101);
      if (head101.statusCode !== 101) {
        upstream.terminate();
        return refuse(refusals.upstream('the upstream\'s 101 answer could not be passed on (refused by an enforcer)'), decision.rule);
      }
      this.upstreamSockets.add(upstream);
      const agentSide = await acceptAgent(req, socket, head, upstream, head101);
      record.upstream_status = 101;
      if (!agentSide) {
        upstream.terminate();
        this.upstreamSockets.delete(upstream);
        record.outcome = 'client-aborted';
        record.total_ms = ms(t0);
        return this.record(record);
      }
      record.status = 101;
      record.outcome = 'forwarded';
      record.total_ms = ms(t0);
      record.extra = { ...ctx.audit, websocket: { protocol: upstream.protocol || null, compression: upstream.extensions.includes('permessage-deflate') } };
      this.record(record);

      const enforcers = this.deps.enforcers.filter((e) => e.onMessage);
      const meter = this.egressMeter(ctx);
      const ended = await relay(agentSide, upstream, {
        onMessage: (m) => {
          for (const e of enforcers) {
            const r = e.onMessage!(ctx, m);
            if (r) return r;
          }
          return undefined;
        },
        ...(meter ? { meter } : {}),
      });
      this.upstreamSockets.delete(upstream);
      this.record(tunnelRecord(record, ctx, ended, t0));
    } catch (err) {
      if (record.outcome === 'pending') refuse(refusals.internal(err));
      else socket.destroy();
    }
  }

  private auditUnavailable(): Rejection | undefined {
    const audit = this.deps.audit;
    return audit.available === false ? refusals.audit(audit.unavailableReason ?? 'write failed') : undefined;
  }

  /** The upstream declined the upgrade: its answer (through the enforcers' onResponse) goes back, then the connection closes. */
  private relayAnswer(socket: net.Socket, upRes: http.IncomingMessage, upReq: http.ClientRequest, ctx: RequestContext, record: AuditRecord, t0: number): void {
    const head: ResponseHead = { statusCode: upRes.statusCode ?? 502, statusMessage: upRes.statusMessage, headers: endToEnd(upRes.rawHeaders, new Set(['content-length'])) };
    const transforms: Transform[] = [];
    for (const e of this.deps.enforcers) {
      const t = e.onResponse?.(ctx, head);
      if (t) transforms.push(t);
    }
    record.upstream_status = upRes.statusCode;
    record.status = head.statusCode;
    const reason = head.statusCode === upRes.statusCode ? head.statusMessage ?? '' : http.STATUS_CODES[head.statusCode] ?? '';
    const lines = [`HTTP/1.1 ${head.statusCode} ${reason}`];
    for (const [k, v] of head.headers) if (k.toLowerCase() !== 'content-length') lines.push(`${k}: ${v}`);
    lines.push('connection: close', '', '');
    socket.write(lines.join('\r\n'));
    pipeline([upRes, ...transforms, socket] as unknown as [NodeJS.ReadableStream, NodeJS.WritableStream], (err) => {
      upReq.destroy();
      record.outcome = err ? (ctx.signal.aborted ? 'client-aborted' : 'upstream-error') : 'forwarded';
      if (err && !ctx.signal.aborted) record.detail = `response stream broke: ${upstreamErrorText(err as NodeJS.ErrnoException, false)}`;
      if (Object.keys(ctx.audit).length) record.extra = ctx.audit;
      record.total_ms = ms(t0);
      this.record(record);
    });
  }

  /** The enforcers' egress meters for one request, as one (undefined when none meters it). */
  private egressMeter(ctx: RequestContext): EgressMeter | undefined {
    let meters: EgressMeter[] | undefined;
    for (const e of this.deps.enforcers) {
      const m = e.egressMeter?.(ctx);
      if (m) (meters ??= []).push(m);
    }
    if (!meters || meters.length === 1) return meters?.[0];
    const all = meters;
    return (bytes) => {
      for (const m of all) {
        const r = m(bytes);
        if (r) return r;
      }
      return undefined;
    };
  }

  private record(r: AuditRecord): void {
    this.deps.audit.append(r);
  }
}

// ─── helpers ─────────────────────────────────────────────────────────────────────────────────

/** The record written when a WebSocket tunnel ends (same id as its upgrade's): what crossed it, how it ended. */
function tunnelRecord(opened: AuditRecord, ctx: RequestContext, end: TunnelEnd, t0: number): AuditRecord {
  const outcome = end.rejection?.outcome ?? (end.error ? 'websocket-protocol-error' : 'websocket-closed');
  return {
    time: new Date().toISOString(), id: opened.id, agent: opened.agent, method: opened.method, url: opened.url, host: opened.host,
    ...(opened.decision ? { decision: opened.decision } : {}), ...(opened.policy_version ? { policy_version: opened.policy_version } : {}),
    outcome, status: 101, upstream_status: 101, total_ms: ms(t0),
    ...(end.detail ? { detail: end.detail } : {}),
    extra: {
      ...ctx.audit,
      websocket: {
        opened: opened.time, ended_by: end.by,
        ...(end.code !== undefined ? { close_code: end.code } : {}), ...(end.error ? { error: end.error } : {}),
        to_upstream: end.to_upstream, to_agent: end.to_agent,
      },
    },
  };
}

/** A body stage charging the egress meter with each chunk before it leaves; an empty budget stops the upload. */
function meterStage(meter: EgressMeter): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      const limited = meter(chunk.length);
      if (limited) cb(new StreamStop(limited));
      else cb(null, chunk);
    },
  });
}

/** Request headers Airlock never forwards (besides hop-by-hop): expectations are answered by the proxy. */
const dropToUpstream = new Set(['expect', 'host']);

/** The request target as received, for logs: userinfo (user:password@) removed, length bounded. */
function loggableTarget(target: string | undefined): string {
  return (target ?? '')
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1[userinfo]@')
    .replace(/^[^/?#]*@/, '[userinfo]@') // authority-form (CONNECT user:pw@host:port)
    .slice(0, 2048);
}

/** Header pairs with Host set to the target's authority (the one the request really goes to). */
function withHost(rawHeaders: string[], url: string): Array<[string, string]> {
  const host = new URL(url).host;
  const out: Array<[string, string]> = [['host', host]];
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() !== 'host') out.push([rawHeaders[i]!, rawHeaders[i + 1]!]);
  return out;
}

function decisionSummary(d: EngineDecision): NonNullable<AuditRecord['decision']> {
  return { action: d.action, reason: d.reason, ...(d.rule ? { rule: d.rule } : {}), ...(d.fail_closed ? { fail_closed: d.fail_closed } : {}) };
}

/** Whether an object has an own enumerable key (without allocating the key list: this runs per request). */
function nonEmpty(o: object): boolean {
  for (const _ in o) return true;
  return false;
}

function ms(t0: number): number {
  return Math.round((performance.now() - t0) * 1000) / 1000;
}

function parseUrl(s: string): URL | undefined {
  try {
    return new URL(s);
  } catch {
    return undefined;
  }
}

function authorityOf(url: URL, scheme: string): Authority {
  let hostname = trimTrailing(url.hostname, '.');
  if (hostname.startsWith('[')) hostname = hostname.slice(1, -1);
  return { hostname, port: url.port ? Number(url.port) : scheme === 'https' || scheme === 'wss' ? 443 : 80 };
}

function upstreamErrorText(err: NodeJS.ErrnoException, timedOut: boolean): string {
  if (timedOut) return err.message.startsWith('the upstream') ? err.message : 'the upstream did not answer in time';
  const code = err.code ?? '';
  if (code === 'ECONNREFUSED') return 'the upstream refused the connection';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'the upstream reset the connection';
  if (code.startsWith('ERR_TLS') || code.includes('CERT') || code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || code === 'SELF_SIGNED_CERT_IN_CHAIN') return `upstream TLS verification failed (${code})`;
  return `${code || 'error'}: ${err.message}`.slice(0, 300);
}

interface CapturedBody {
  captured: Buffer;
  truncated: boolean;
}

/** Reads the body up to the cap. Beyond the cap the request is left paused: the rest streams later. */
function captureBody(req: http.IncomingMessage, cap: number): Promise<CapturedBody> {
  const cl = req.headers['content-length'];
  // Not `req.complete`: the parser may have read the whole message while its body still sits unread
  // in the stream buffer (a small POST arriving in one packet).
  if ((cl === undefined && req.headers['transfer-encoding'] === undefined) || cl === '0') {
    return Promise.resolve({ captured: Buffer.alloc(0), truncated: false });
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (c: Buffer): void => {
      chunks.push(c);
      size += c.length;
      if (size > cap) {
        req.pause();
        cleanup();
        resolve({ captured: Buffer.concat(chunks), truncated: true });
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve({ captured: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), truncated: false });
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onClose = (): void => {
      if (req.complete) return;
      cleanup();
      reject(new Error('the agent closed the connection while sending the body'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

async function* bodyChunks(req: http.IncomingMessage, body: CapturedBody): AsyncGenerator<Buffer> {
  if (body.captured.length) yield body.captured;
  // Not destroyed when the upload is cut short: the agent still gets the refusal on this connection.
  if (body.truncated) for await (const c of req.iterator({ destroyOnReturn: false })) yield c as Buffer;
}

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

function sendRejection(res: http.ServerResponse, r: Rejection, id: string, rule: string | undefined, close: boolean): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const payload = rejectionBody(r, id, rule);
  const headers: Record<string, string | number> = { 'content-type': json, 'content-length': Buffer.byteLength(payload), ...(r.headers ?? {}) };
  // A request whose body we did not read to the end cannot leave the connection reusable.
  if (close || r.headers?.connection === 'close') headers.connection = 'close';
  res.writeHead(r.status, headers);
  res.end(payload);
  if (headers.connection === 'close') res.once('finish', () => res.socket?.destroySoon?.());
}

/** Writes a problem response straight to a socket (CONNECT and upgrade paths) and closes it. */
function writeRaw(socket: net.Socket, r: Rejection, id: string, rule?: string): void {
  if (!socket.writable) return void socket.destroy();
  const payload = rejectionBody(r, id, rule);
  const extra = Object.entries(r.headers ?? {}).filter(([k]) => k.toLowerCase() !== 'connection').map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.end(`HTTP/1.1 ${r.status} ${http.STATUS_CODES[r.status] ?? 'Error'}\r\ncontent-type: ${json}\r\ncontent-length: ${Buffer.byteLength(payload)}\r\n${extra}connection: close\r\n\r\n${payload}`);
}

function clientError(err: NodeJS.ErrnoException, socket: net.Socket): void {
  const s = socket as net.Socket & { _httpMessage?: { headersSent?: boolean } };
  if (!socket.writable || s._httpMessage?.headersSent) return void socket.destroy();
  let status = 400;
  let title = 'Bad request';
  let detail = `malformed HTTP request (${err.code ?? 'parse error'})`;
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    title = 'Request header fields too large';
    detail = 'the request headers exceed the proxy limit';
  } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    title = 'Request timeout';
    detail = 'the request did not arrive in time';
  } else if (err.code === 'ECONNRESET') {
    return void socket.destroy();
  }
  const payload = problemBody(status, status === 408 ? 'request-timeout' : 'bad-request', title, detail);
  socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: ${json}\r\ncontent-length: ${Buffer.byteLength(payload)}\r\nconnection: close\r\n\r\n${payload}`);
}
