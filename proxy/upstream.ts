// forward, for plain HTTP requests: dial the address the enforce step checked, send the request as
// the enforcers left it (body prefix, then the rest of the upload through the body stages and the
// egress meter), and stream the response back through the enforcers' response stages. One
// HttpForward object holds a forwarding's state; its record is finished exactly once, by the
// first of: the response sent, the agent gone, the upstream failing, a stream stage stopping it.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { Readable, Transform, Writable, pipeline } from 'node:stream';
import tls from 'node:tls';
import { processDescriptorBounds } from '../lib/descriptors.ts';
import { CheckedHttpAgent, CheckedHttpsAgent, type ConnectionCheck } from './checked-dial.ts';
import { CREDENTIAL_RECHECK_MS, watchCredentials } from './credential-watch.ts';
import { DestinationError } from './destination.ts';
import { StreamStop, contained, egressMeterOf, guardStage, refusedBeforeSending, responseGuardOf, responseStages, type EgressMeter, type Enforcer, type Rejection, type RequestContext, type ResponseGuard, type ResponseHead } from './enforcers.ts';
import type { Exchange } from './exchange.ts';
import { flatten, responseHeaders } from './http-util.ts';
import { nonEmpty, type Pipeline } from './pipeline.ts';
import type { AnswerWatch } from './body-tunnels.ts';
import { refusals, upstreamErrorText, type Refusal } from './refusals.ts';
import { watchDecision } from './lasting-request.ts';
import { bodyChunks } from './request-body.ts';
import { timeoutText, watchUpstream, type UpstreamTimeouts } from './upstream-timeouts.ts';

export interface UpstreamOptions {
  /** Trust for upstream TLS: system roots plus --upstream-ca. */
  tls: tls.SecureContext;
  timeouts: UpstreamTimeouts;
  /** The live enforcer list (response stages, egress meters). */
  enforcers: Enforcer[];
  pipeline: Pipeline;
  /** Checks each new connection once it is up (checked-dial.ts). */
  check?: ConnectionCheck;
}

/**
 * Idle keep-alive connections kept for reuse, at most, across every upstream of a pool (HTTP,
 * HTTPS), and for at most IDLE_UPSTREAM_MS each. Node's agent keeps up to maxFreeSockets per origin
 * for as long as the upstream leaves them open: an upstream that never closes an idle connection,
 * reached under many names or ports, grew the pools without bound (a descriptor each).
 */
export const MAX_IDLE_UPSTREAM = 256;
export const IDLE_UPSTREAM_MS = 60_000;

/**
 * Connections whose last answer had a body Node's client does not read: closed, never pooled.
 * Node reads no body after a response to HEAD or a 204/304 and pools the connection at once; a
 * server that sends one anyway (Python's BaseHTTPRequestHandler with the common `do_HEAD = do_GET`,
 * a handler writing a body after a 304) sends it on that connection, and when it arrives after
 * the pool lent the connection to the next request (any agent's, to any name of that address),
 * Node reads it as that request's response: a HEAD whose body holds a whole response gave another
 * agent the answer one agent wrote, and the other agent's own answer to the next request on it.
 */
const unreadBody = new WeakSet<net.Socket>();

/**
 * Whether a response leaves body bytes Node will not read on its connection: every answer to HEAD
 * but one that declares an empty body, and a 204 or 304 that declares a body (a correct one does
 * not: conditional GETs keep their pooled connections).
 */
export function leavesUnreadBody(method: string, status: number, rawHeaders: readonly string[]): boolean {
  const head = method === 'HEAD';
  if (!head && status !== 204 && status !== 304) return false;
  let declared = false;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (name === 'transfer-encoding') return true;
    if (name === 'content-length') {
      if (!/^0+$/.test(rawHeaders[i + 1]!.trim())) return true;
      declared = true;
    }
  }
  return head && !declared;
}

/**
 * A byte on a connection waiting in the pool: the server sent more than the answer it framed (a
 * length counted in characters of a text then written as UTF-8, piece by piece). Node drops such
 * bytes and lends the connection on, and the rest of that surplus is read as the next request's
 * response: the connection is closed instead.
 */
function idleData(this: net.Socket): void {
  this.destroy();
}

/**
 * Past MAX_IDLE_UPSTREAM idle connections in the pool, a finished one is closed instead of kept;
 * one whose answer left a body unread, or that receives a byte while it waits, is closed too.
 * Connections are kept per agent session and host (`poolKey`): a connection one agent's request
 * may have left out of step with its server (a surplus held back past the moment it was lent on:
 * a body a 204 or 304 sends late, which Node cannot see coming), or that a server authenticated
 * for the connection rather than the request (NTLM, IIS's persisted Negotiate), never carries
 * another agent's or session's request, nor one to another host served at the same address (Node
 * names a plain HTTP pool by the address dialed): what a server's late bytes can reach is its
 * own next answer to the same session for the same host.
 */
function boundIdle<A extends http.Agent>(agent: A): A {
  // Node's agent keeps a finished connection when this returns true (typed as returning nothing),
  // and hands a kept one to the next request through reuseSocket; getName names its pools.
  const pool = agent as unknown as { keepSocketAlive(socket: net.Socket): boolean | undefined; reuseSocket(socket: net.Socket, req: http.ClientRequest): void };
  const keep = pool.keepSocketAlive.bind(pool);
  const reuse = pool.reuseSocket.bind(pool);
  const name = agent.getName.bind(agent);
  agent.getName = (options) => `${name(options)}:${(options as { poolKey?: string } | undefined)?.poolKey ?? ''}`;
  pool.keepSocketAlive = (socket) => {
    if (unreadBody.has(socket)) return false;
    let idle = 0;
    for (const name in agent.freeSockets) idle += agent.freeSockets[name]?.length ?? 0;
    if (idle >= Math.min(MAX_IDLE_UPSTREAM, processDescriptorBounds().sixteenth) || keep(socket) === false) return false;
    socket.on('data', idleData);
    return true;
  };
  pool.reuseSocket = (socket, req) => {
    socket.off('data', idleData);
    reuse(socket, req);
  };
  return agent;
}

export class Upstream {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;

  constructor(readonly opts: UpstreamOptions) {
    // `timeout` is an idle connection's life in the pool (a request in flight sets its own budgets).
    const agentOpts = { keepAlive: true, maxSockets: Infinity, maxFreeSockets: 256, scheduling: 'lifo' as const, timeout: IDLE_UPSTREAM_MS };
    this.httpAgent = boundIdle(new CheckedHttpAgent(agentOpts, opts.check));
    this.httpsAgent = boundIdle(new CheckedHttpsAgent(agentOpts, opts.check));
  }

  /** Forwards an exchange that passed enforce; `refuse` renders a refusal while no response head was sent. */
  forward(x: Exchange, req: http.IncomingMessage, res: http.ServerResponse, refuse: (r: Refusal) => void): Promise<void> {
    return new Promise<void>((resolve) => new HttpForward(this, x, req, res, refuse, resolve).start());
  }

  /** `whole`: the body as it leaves, when the stages already ran over a body held whole. */
  requestOptions(x: Exchange, whole?: Buffer): https.RequestOptions & { secureContext?: tls.SecureContext; poolKey: string } {
    const { outgoing } = x.context!;
    const url = outgoing.url;
    const tlsUpstream = url.protocol === 'https:';
    const headers = outgoing.headers.filter(([k]) => { const l = k.toLowerCase(); return l !== 'host' && l !== 'content-length'; });
    headers.push(...bodyFraming(x, whole));
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    const options: https.RequestOptions & { secureContext?: tls.SecureContext; poolKey: string } = {
      host: x.dial!.address,
      port: x.dial!.port,
      method: outgoing.method,
      path: url.pathname + url.search,
      headers: ['Host', url.host, ...flatten(headers)] as unknown as http.OutgoingHttpHeaders,
      setHost: false,
      // The pool of this agent session's connections to this host (boundIdle).
      poolKey: `${x.agent?.id ?? ''}\n${x.token ?? ''}\n${url.host}`,
      // A new connection, closed after the exchange (Node then sends `Connection: close`), for a
      // request that waited or a body an origin could read as a request; a pooled one otherwise.
      agent: outgoing.freshConnection || readableAsRequest(whole ?? x.body.captured)
        ? (tlsUpstream ? new CheckedHttpsAgent({ keepAlive: false }, this.opts.check) : new CheckedHttpAgent({ keepAlive: false }, this.opts.check))
        : tlsUpstream ? this.httpsAgent : this.httpAgent,
    };
    if (tlsUpstream) {
      options.secureContext = this.opts.tls;
      options.rejectUnauthorized = true;
      if (!net.isIP(hostname)) options.servername = hostname;
      // Verify the certificate against the name the policy allowed, not the address we dialed.
      options.checkServerIdentity = (_h, cert) => tls.checkServerIdentity(hostname, cert);
    }
    return options;
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

function watchLastingResponse(f: HttpForward): void {
  f.watchLastingResponse();
}

/** One request on its way to the upstream and its response on the way back. */
class HttpForward {
  private readonly ctx: RequestContext;
  private upReq: http.ClientRequest | undefined;
  /** A body held whole, through the body stages before anything is sent: it leaves with its length. */
  private whole: Buffer | undefined;
  /** A refusal was rendered, or the record finished: later events change nothing. */
  private settled = false;
  /** The upstream's response head arrived. */
  private answered = false;
  /** Sent a second time after a reused connection failed (at most once). */
  private retried = false;
  /** Ends the credential watch, once the exchange is in it (watchCredentials below). */
  private unwatch: (() => void) | undefined;
  /** Puts a response that lasts into the credential watch (respond below). */
  private lastingTimer: NodeJS.Timeout | undefined;
  /** A response on its way through the enforcers' stages. */
  private relay: { upRes: http.IncomingMessage; head: ResponseHead; stages: Transform[]; failed: boolean; corked: boolean; guard: ResponseGuard | undefined } | undefined;

  constructor(
    private readonly upstream: Upstream,
    private readonly x: Exchange,
    private readonly req: http.IncomingMessage,
    private readonly res: http.ServerResponse,
    private readonly refuse: (r: Refusal) => void,
    private readonly resolve: () => void,
  ) {
    this.ctx = x.context!;
  }

  start(): void {
    this.ctx.signal.addEventListener('abort', () => {
      if (this.settled) return;
      this.upReq?.destroy();
      this.done('client-aborted');
    }, { once: true });
    const { body } = this.x;
    // An upload past the capture lasts as long as the agent keeps sending: watched from the start.
    if (body.truncated) this.watchCredentials(performance.now());
    // A transform that throws is the body's error, not the process's (contained).
    const transforms = this.ctx.outgoing.bodyTransforms.map(contained);
    if (!transforms.length || body.truncated) return this.send();
    // A body held whole goes through its stages (the body guard, a substitution) first and then
    // leaves with a Content-Length, as it came: chunked, it reached servers that read only
    // Content-Length (Python's http.server, S3's 411) empty, and they read the chunks as a request.
    wholeThrough(body.captured, transforms).then(async (sent) => {
      if (this.settled) return;
      const meter = egressMeterOf(this.upstream.opts.enforcers, this.ctx);
      const limited = await meter?.(sent.length);
      if (this.settled) return;
      if (limited) return this.stopped(limited);
      this.whole = sent;
      this.send();
    }, (err: NodeJS.ErrnoException) => this.fail(err, false));
  }

  /** One attempt: a request to the upstream on a pooled connection or a new one. */
  private send(): void {
    const options = this.upstream.requestOptions(this.x, this.whole);
    const upReq = (this.x.context!.outgoing.url.protocol === 'https:' ? https : http).request(options);
    this.upReq = upReq;
    // Events of an attempt given up for a retry change nothing.
    const current = (): boolean => this.upReq === upReq;
    watchUpstream(upReq, this.upstream.opts.timeouts, (phase, limit) => {
      if (!current()) return;
      const e = new Error(timeoutText(phase, limit)) as NodeJS.ErrnoException;
      e.code = 'ETIMEDOUT';
      this.fail(e, true);
      upReq.destroy(e);
    });
    upReq.on('error', (err) => current() && this.fail(err, (err as NodeJS.ErrnoException).code === 'ETIMEDOUT'));
    upReq.on('response', (upRes) => (current() ? this.respond(upRes) : upRes.destroy()));
    // A 101 to a request that asked for no upgrade: Node hands over the raw socket (or, with no
    // listener, drops it and says nothing, leaving the request unanswered and unrecorded). Never a
    // tunnel: the socket is closed and the agent gets a 502.
    upReq.on('upgrade', (upRes: http.IncomingMessage, socket: net.Socket) => {
      socket.destroy();
      upRes.destroy();
      if (current()) this.fail(Object.assign(new Error('the upstream answered 101 Switching Protocols to a request that asked for no upgrade; nothing was relayed'), { code: 'EPROTO' }), false);
    });
    // Whatever else ends the upstream request without an answer or an error is an upstream failure too.
    upReq.on('close', () => {
      if (current() && !this.settled && !this.relay && !this.answered) this.fail(Object.assign(new Error('the upstream closed the connection without an answer'), { code: 'ECONNRESET' }), false);
    });
    this.sendBody();
  }

  /**
   * Sent once more on a new connection: a pooled keep-alive connection the upstream closed just as
   * the request went out (its idle timeout) fails before any answer, and the request never reached
   * the server's application. As HTTP clients do (RFC 9110 §9.2.2, Go's net/http), only a request
   * that is safe to repeat: an idempotent method whose whole body Airlock holds, once.
   */
  private retryable(err: NodeJS.ErrnoException): boolean {
    if (this.retried || this.answered || this.relay || this.res.headersSent || !this.upReq?.reusedSocket) return false;
    if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') return false;
    if (this.x.body.truncated || this.ctx.outgoing.bodyTransforms.length) return false;
    // By every method the server may run: a GET whose body or override it runs as a POST or a
    // DELETE (describe/method-override.ts) is not safe to repeat either.
    const described = this.ctx.description.request;
    if (described.method_override && (described.method_override.ambiguous || !REPEATABLE.has(described.effective_method ?? ''))) return false;
    return REPEATABLE.has(this.ctx.outgoing.method.toUpperCase());
  }

  /**
   * A second attempt sends the whole request again: its bytes leave again and are charged to the
   * byte budgets like any (the decision paid for the first attempt, head and body; the upstream
   * may well have read it before resetting). An empty bucket stops it as a limit.
   */
  private async chargeAgain(): Promise<Refusal | undefined> {
    const meter = egressMeterOf(this.upstream.opts.enforcers, this.ctx);
    if (!meter) return undefined;
    // A new meter counts the body the decision paid for as covered: that was the first attempt's.
    await meter(this.ctx.description.request.body.size);
    return meter(this.ctx.description.request.egress_bytes);
  }

  /** Request body: the captured prefix, then (when truncated) the rest straight from the agent. */
  private sendBody(): void {
    const { body } = this.x;
    const upReq = this.upReq!;
    if (this.whole !== undefined) {
      upReq.end(this.whole.length ? this.whole : undefined);
      return;
    }
    const transforms = this.ctx.outgoing.bodyTransforms.map(contained);
    if (!transforms.length && !body.truncated) {
      upReq.end(body.captured.length ? body.captured : undefined);
      return;
    }
    // Bytes past what the description counted are charged to byte budgets as they leave.
    const meter = egressMeterOf(this.upstream.opts.enforcers, this.ctx);
    // Its rest leaves only while records can be written, as a new request would (twenty-second pass),
    // and while the agent's own records are within its share (twenty-third pass).
    const agent = this.x.agent?.id;
    const stages = [...transforms, ...(meter ? [meterStage(meter)] : []), ...(body.truncated ? [guardStage(() => this.upstream.opts.pipeline.auditUnavailable(agent))] : [])];
    const source = Readable.from(bodyChunks(this.req, body));
    // An upload past the capture lasts as long as the agent keeps sending: like a WebSocket, it
    // stops when the live policy no longer lets it through (its token is watched for the whole
    // exchange, above).
    const watch = body.truncated ? watchDecision(this.upstream.opts.pipeline.lasting, this.x) : undefined;
    void watch?.ended.then((r) => {
      if (!this.settled && this.upReq === upReq) this.stopped(r);
    });
    pipeline([source, ...stages, upReq] as unknown as [NodeJS.ReadableStream, NodeJS.WritableStream], (err) => {
      watch?.stop();
      if (err && !this.settled) this.fail(err as NodeJS.ErrnoException, false);
    });
  }

  /**
   * The credentials checked again while the exchange lasts (a stream either way outlives no
   * revocation). Most exchanges end within the first second and never enter the watch: holding
   * every exchange in the watch's long-lived set from its start kept young objects alive through
   * scavenges (GC time doubled: ~30–60 µs a request; bench/README.md, "Ninth round").
   */
  private watchCredentials(lastChecked: number): void {
    if (this.unwatch || this.settled) return;
    this.unwatch = watchCredentials(this.x, (c) => this.upstream.opts.pipeline.authenticate(c), (r) => {
      if (this.settled) return;
      if (this.relay && !this.relay.failed) this.stopRelay(r);
      else this.stopped(r);
    }, lastChecked);
  }

  /** A response still arriving a second after the request did is watched from then on (respond below). */
  watchLastingResponse(): void {
    if (!this.unwatch && !this.settled) this.watchCredentials(this.x.t0);
  }

  private respond(upRes: http.IncomingMessage): void {
    this.answered = true;
    // A timer with the exchange as its argument, not a closure made per request: a closure field
    // or a 'data' listener made the exchange's objects outlive scavenges (~9 KiB promoted to the
    // old space per request, peak RSS under load 145 → 220 MiB; bench/README.md, "Tenth round").
    this.lastingTimer = setTimeout(watchLastingResponse, Math.max(0, CREDENTIAL_RECHECK_MS - (performance.now() - this.x.t0)), this).unref();
    const { res, ctx, x } = this;
    const head: ResponseHead = { statusCode: upRes.statusCode ?? 502, statusMessage: upRes.statusMessage, headers: responseHeaders(upRes.rawHeaders) };
    // The answer read for a tunnel's server side, as the upstream sent it (before any stage rewrites it).
    const watch = ctx.outgoing.method === 'HEAD' ? undefined : this.upstream.opts.pipeline.answerWatch(x, head.headers);
    const stages = responseStages(this.upstream.opts.enforcers, ctx, head);
    if (watch && stages.length) stages.unshift(contained(watchStage(watch)));
    const guard = responseGuardOf(this.upstream.opts.enforcers, ctx);
    if (stages.length) head.headers = head.headers.filter(([k]) => k.toLowerCase() !== 'content-length');
    x.record.upstream_status = upRes.statusCode;
    x.record.status = head.statusCode;
    if (leavesUnreadBody(ctx.outgoing.method, upRes.statusCode ?? 0, upRes.rawHeaders)) unreadBody.add(upRes.socket);
    upRes.on('error', () => undefined);
    if (!stages.length) {
      const err = this.writeHead(upRes, head);
      if (err) {
        upRes.destroy();
        return this.fail(err as NodeJS.ErrnoException, false);
      }
      // Fast path: plain pipe (stream.pipeline allocates an AbortController and a DOMException
      // per call, measurable at proxy request rates).
      upRes.on('close', () => {
        if (upRes.complete || this.settled) return;
        if (ctx.signal.aborted) return this.done('client-aborted');
        x.record.detail = 'response stream broke: the upstream closed the connection mid-body';
        res.destroy();
        this.done('upstream-error');
      });
      res.once('finish', () => this.done('forwarded'));
      res.once('close', () => {
        if (!res.writableFinished) upRes.destroy();
      });
      if (guard || watch) this.guardedPipe(upRes, guard, watch);
      else upRes.pipe(res);
      return;
    }
    this.relayThrough(upRes, head, stages, guard);
  }

  /** The plain pipe, with the enforcers' guard (and the answer's tunnel reading) asked before each chunk leaves. */
  private guardedPipe(upRes: http.IncomingMessage, guard: ResponseGuard | undefined, watch: AnswerWatch | undefined): void {
    const { res } = this;
    upRes.on('data', (chunk: Buffer) => {
      if (this.settled) return;
      let stop: Refusal | undefined;
      try {
        stop = guard?.() ?? watch?.chunk(chunk);
      } catch (err) {
        stop = refusals.internal(err); // a reader's throw ends this answer, never the process
      }
      if (stop) {
        upRes.destroy();
        return this.stopped(stop);
      }
      if (!res.write(chunk)) {
        upRes.pause();
        res.once('drain', () => upRes.resume());
      }
    });
    upRes.once('end', () => {
      try {
        watch?.end();
      } catch {
        // What the watch read is lost with it; the answer already left whole.
      }
      if (!this.settled) res.end();
    });
  }

  /**
   * The response through the enforcers' stages. The head waits for the first byte the stages let
   * out, so a stage that refuses the body at its start (bytes it cannot scrub, a bomb) gets the
   * agent a 502 problem, not a cut connection. Plain pipes with one error handler per stream
   * rather than stream.pipeline (an AbortController, a DOMException and end-of-stream watchers per
   * call, measurable at proxy request rates); the agent's writes are corked for one turn of the
   * event loop so the head, a short body and its end leave in one write.
   */
  private relayThrough(upRes: http.IncomingMessage, head: ResponseHead, stages: Transform[], guard: ResponseGuard | undefined): void {
    const { res } = this;
    this.relay = { upRes, head, stages, failed: false, corked: false, guard };
    upRes.on('error', (err) => this.relayFailed(err));
    upRes.on('close', () => {
      if (!upRes.complete) this.relayFailed(Object.assign(new Error('the upstream closed the connection mid-body'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    });
    let from: NodeJS.ReadableStream = upRes;
    for (const s of stages) {
      s.on('error', (err) => this.relayFailed(err));
      from = from.pipe(s);
    }
    const last = stages[stages.length - 1]!;
    last.on('data', (chunk: Buffer) => this.relayChunk(last, chunk));
    last.once('end', () => {
      if (!this.relay!.failed && this.relayHead()) res.end();
    });
    res.once('finish', () => this.done('forwarded'));
    res.once('close', () => {
      if (!res.writableFinished) this.relayFailed(new Error('the agent closed the connection'));
    });
  }

  private relayChunk(last: Transform, chunk: Buffer): void {
    const relay = this.relay!;
    const { res } = this;
    if (relay.failed) return;
    const stop = relay.guard?.();
    if (stop) return this.stopRelay(stop);
    if (!this.relayHead()) return;
    if (!relay.corked) {
      relay.corked = true;
      res.cork();
      setImmediate(uncorkRelay, this);
    }
    if (!res.write(chunk)) {
      last.pause();
      res.once('drain', () => last.resume());
    }
  }

  uncork(): void {
    this.relay!.corked = false;
    if (!this.res.writableEnded) this.res.uncork(); // end() uncorks fully
  }

  /** The head, once, before the first byte the stages let out (or their end). */
  private relayHead(): boolean {
    const { res } = this;
    if (res.headersSent) return true;
    const err = this.writeHead(this.relay!.upRes, this.relay!.head);
    if (err) this.relayFailed(err);
    return !err;
  }

  /** A guard cut the relayed response: a refusal while the head has not left, a cut stream after. */
  private stopRelay(r: Refusal): void {
    const relay = this.relay!;
    relay.failed = true;
    relay.upRes.destroy();
    for (const s of relay.stages) s.destroy();
    this.stopped(r);
  }

  /** A stream of the relay failed: everything stops; a 502 problem while the head has not left. */
  private relayFailed(err: Error): void {
    const relay = this.relay!;
    if (relay.failed) return;
    relay.failed = true;
    relay.upRes.destroy();
    for (const s of relay.stages) s.destroy();
    const { res, ctx, x } = this;
    if (ctx.signal.aborted) return this.done('client-aborted');
    // A stage's refusal (the answer's tunnel reading) once the head left: the response is cut as a refusal, recorded so.
    if (err instanceof StreamStop && res.headersSent && !this.settled) return this.stopped(err.rejection);
    if (!res.headersSent && !this.settled) return this.withheld(err as NodeJS.ErrnoException);
    x.record.detail = `response stream broke: ${upstreamErrorText(err as NodeJS.ErrnoException, false)}`;
    res.destroy();
    this.done('upstream-error');
  }

  private writeHead(upRes: http.IncomingMessage, head: ResponseHead): Error | undefined {
    try {
      this.res.writeHead(head.statusCode, head.statusCode === upRes.statusCode ? head.statusMessage : undefined, flatten(head.headers) as unknown as http.OutgoingHttpHeaders);
      return undefined;
    } catch (err) {
      return err as Error;
    }
  }

  /** A response stage failed before the head left: the agent gets a 502 problem instead of the response. */
  private withheld(err: NodeJS.ErrnoException): void {
    if (err instanceof StreamStop) return this.stopped(err.rejection);
    const { ctx } = this;
    if (nonEmpty(ctx.audit)) this.x.record.extra = ctx.audit;
    // Socket and zlib errors carry a code; a stage's refusal (unscrubbable, a bomb) does not.
    this.refuseInstead(refusals.stageFailed(err, () => err.code
      ? refusals.upstream(upstreamErrorText(err, false))
      : refusals.unscrubbable(`${err.message}; it was withheld because a credential was injected into ${ctx.description.request.host} or the server at its address`)));
  }

  /** The agent gets a refusal instead of the response (nothing of it has left yet). */
  private refuseInstead(r: Refusal): void {
    this.settled = true;
    this.unwatch?.();
    this.refuse({ ...r, rule: this.ctx.decision.rule });
    this.resolve();
  }

  /** The record, once: the outcome, the enforcers' notes, the status the agent got. */
  private done(outcome: string): void {
    if (this.settled) return;
    this.settled = true;
    this.unwatch?.();
    clearTimeout(this.lastingTimer);
    const record = this.x.record;
    if (record.extra === undefined && nonEmpty(this.ctx.audit)) record.extra = this.ctx.audit;
    if (record.status === undefined) record.status = this.res.statusCode;
    this.upstream.opts.pipeline.finish(this.x, outcome);
    this.resolve();
  }

  private fail(err: NodeJS.ErrnoException, timedOut: boolean): void {
    if (this.settled) return;
    if (err instanceof StreamStop) return this.stopped(err.rejection);
    if (!timedOut && this.retryable(err)) {
      this.retried = true;
      const stale = this.upReq;
      // Nothing of this attempt counts any more (its events are ignored) while the copy is charged.
      this.upReq = undefined;
      stale?.destroy();
      void this.chargeAgain().then((limited) => {
        if (this.settled) return;
        this.ctx.audit.upstream_retry = `a reused connection was reset before any answer; ${limited ? 'not sent again: a byte budget cannot pay for a second copy' : 'sent again on a new one'}`;
        if (limited) return this.stopped(limited);
        this.send();
      });
      return;
    }
    if (!this.res.headersSent) {
      const why = upstreamErrorText(err, timedOut);
      this.upReq?.destroy();
      if (err instanceof DestinationError) return this.refuseInstead(refusals.destination(err.message));
      const r = timedOut ? refusals.timeout(why) : refusals.upstream(why);
      // No connection was ever made (refused, unreachable): nothing of the request left, and what
      // the enforcers spent on it (an approval's single use) is undone before the agent is told.
      if (!timedOut && neverConnected(err)) {
        this.settled = true;
        void refusedBeforeSending(this.upstream.opts.enforcers, this.ctx, r).then(() => {
          this.settled = false;
          this.refuseInstead(r);
        });
        return;
      }
      this.refuseInstead(r);
      return;
    }
    this.x.record.detail = upstreamErrorText(err, timedOut);
    this.res.destroy();
    this.done(timedOut ? 'upstream-timeout' : 'upstream-error');
  }

  /** A stream stage refused to let the rest leave (an empty byte budget): a refusal, not an upstream error. */
  private stopped(r: Refusal): void {
    this.upReq?.destroy();
    if (nonEmpty(this.ctx.audit)) this.x.record.extra = this.ctx.audit;
    if (!this.res.headersSent) return this.refuseInstead(r);
    this.x.record.detail = r.detail;
    this.res.destroy();
    this.done(r.outcome);
  }
}

/** Errors of a connection that was never made: no byte of the request reached anyone. */
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
function neverConnected(err: NodeJS.ErrnoException): boolean {
  return err.code !== undefined && NEVER_CONNECTED.has(err.code) && err.syscall === 'connect';
}

/** A response stage asking `watch` of each chunk before it goes on; a refusal stops the answer there. */
function watchStage(watch: AnswerWatch): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      const stop = watch.chunk(chunk);
      if (stop) cb(new StreamStop(stop));
      else cb(null, chunk);
    },
    flush(cb) {
      watch.end();
      cb();
    },
  });
}

/**
 * The framing header of the body Airlock sends, set from that body, never left to the agent's
 * headers nor to Node's defaults: Node's client sends the body of a GET, HEAD, DELETE or OPTIONS
 * that has no Content-Length (the agent sent it chunked; `Transfer-Encoding` is hop-by-hop and
 * dropped) unframed after the head, and the upstream reads those bytes as a second request nobody
 * decided. A body held whole goes with its length (`whole`: after its stages ran); one streamed
 * through as the agent sends it, with the length the agent declared (its parser read exactly that
 * many bytes) unless a stage may change that length, else chunked.
 */
function bodyFraming(x: Exchange, whole?: Buffer): Array<[string, string]> {
  const { body } = x;
  if (whole !== undefined) return whole.length || x.head.headers['content-length'] !== undefined ? [['Content-Length', String(whole.length)]] : [];
  const streamed = body.truncated || x.context!.outgoing.bodyTransforms.length > 0;
  const declared = x.head.headers['content-length'];
  if (!streamed) {
    if (body.captured.length) return [['Content-Length', String(body.captured.length)]];
    return declared === undefined ? [] : [['Content-Length', '0']];
  }
  // Without leading zeros: a parser reading the number with strtol's base 0 takes "010" as octal.
  // Stages that only look (the body guard with nothing to substitute) keep the length: an upload
  // past the cap still goes with it (S3 answers a chunked PUT 411).
  const lengthKept = x.context!.outgoing.bodyTransforms.every((s) => (s as { preservesLength?: boolean }).preservesLength === true);
  if (lengthKept && declared !== undefined && /^\d+$/.test(declared)) return [['Content-Length', declared.replace(/^0+(?=\d)/, '')]];
  return [['Transfer-Encoding', 'chunked']];
}

/**
 * A body an origin could read as a request of its own: past blank bytes, it starts with a word and
 * a blank (`GET /admin HTTP/1.1`, or HTTP/0.9's `GET /admin`). A server that answers without
 * reading a body it did not want (Python's http.server, a route that ignores the body: "CL.0"
 * desync) reads its next request where that body starts, on the same connection: a request nobody
 * decided. Such a body goes on a connection of its own with `Connection: close`, so the server
 * reads nothing after it (a pooled connection would be pooled again if the server answered
 * keep-alive anyway). The first KiB is looked at; a body still blank or still in its first word
 * there counts as one (a body that is one word only garbles the next request line). Blanks are
 * those of Python's `str.split()` over Latin-1, which http.server splits the request line with:
 * the separators 0x1c–0x1f, NEL and NBSP lead and separate words there as a space does
 * (`GET\x0b/admin\x85HTTP/1.1` runs `GET /admin`).
 */
export function readableAsRequest(body: Buffer): boolean {
  const n = Math.min(body.length, 1024);
  let i = 0;
  while (i < n && blankByte[body[i]!]) i++;
  if (i === n) return n > 0 && n < body.length;
  const c = body[i]! | 0x20;
  if (c < 0x61 || c > 0x7a) return false;
  while (i < n && tokenByte[body[i]!]) i++;
  if (i === n) return n < body.length;
  return blankByte[body[i]!] === 1;
}

/** Bytes a server may take for blanks in a request line: ASCII whitespace, and the rest of Latin-1's Unicode whitespace (Python's str.split()). */
const blankByte = new Uint8Array(256);
for (const b of [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0]) blankByte[b] = 1;

/** RFC 9110 token characters (a method is one). */
const tokenByte = new Uint8Array(256);
for (const ch of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") tokenByte[ch.charCodeAt(0)] = 1;

/** Methods a client may send again after a connection failure (idempotent and without side effects a repeat adds). */
const REPEATABLE = new Set(['GET', 'HEAD', 'OPTIONS']);

function uncorkRelay(f: HttpForward): void {
  f.uncork();
}

/** A body held whole through the body stages: what leaves. A stage's refusal rejects. */
function wholeThrough(body: Buffer, stages: Transform[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const sink = new Writable({ write(chunk: Buffer, _enc, cb) { out.push(chunk); cb(); } });
    pipeline([Readable.from([body]), ...stages, sink] as unknown as [NodeJS.ReadableStream, NodeJS.WritableStream], (err) => (err ? reject(err) : resolve(Buffer.concat(out))));
  });
}

/** A body stage charging the egress meter with each chunk before it leaves; an empty budget stops the upload. */
function meterStage(meter: EgressMeter): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      const done = (limited: Rejection | undefined): void => (limited ? cb(new StreamStop(limited)) : cb(null, chunk));
      const limited = meter(chunk.length);
      // A chunk the limiter asks its store about leaves once it answered (the agent waits meanwhile).
      if (limited instanceof Promise) limited.then(done, (err: Error) => cb(err));
      else done(limited);
    },
  });
}
