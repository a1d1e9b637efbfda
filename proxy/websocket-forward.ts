// forward, for WebSocket upgrades that passed enforce: the upstream's answer decides what the agent
// gets. A verified WebSocket 101 opens the message relay (proxy/websocket-relay.ts); any other
// answer but 101 is relayed as a response; any other 101 is a 502. Two audit records: the upgrade
// (as for every request), and when the tunnel ends, what crossed it and how it ended.
import http from 'node:http';
import type net from 'node:net';
import { Transform, pipeline } from 'node:stream';
import { finished } from 'node:stream/promises';
import type tls from 'node:tls';
import type { WebSocket } from 'ws';
import type { AuditRecord } from '../state/audit-log.ts';
import { StreamStop, egressMeterOf, guardStage, responseGuardOf, responseStages, type Enforcer, type Rejection, type RequestContext, type ResponseHead } from './enforcers.ts';
import type { Exchange } from './exchange.ts';
import { watchLasting } from './lasting-request.ts';
import { responseHeaders } from './http-util.ts';
import { equalPart, Tally } from '../lib/tally.ts';
import { nonEmpty, type Pipeline } from './pipeline.ts';
import { refusals, upstreamErrorText, type Refusal } from './refusals.ts';
import type { ConnectionCheck } from './checked-dial.ts';
import { PartialMessages, acceptAgent, dialUpstream, relay, type TunnelEnd } from './websocket-relay.ts';
import { watchCredentials } from './credential-watch.ts';
import { TunnelSql } from './tunnel-sql.ts';
import type { AgentHandshake } from './websocket-handshake.ts';

export interface WebSocketForwardOptions {
  tls: tls.SecureContext;
  /** The handshake answer's budget: a new connection's connect budget plus the first-byte budget. */
  handshakeMs: number;
  enforcers: Enforcer[];
  pipeline: Pipeline;
  /** Checks each new connection once it is up (checked-dial.ts). */
  check?: ConnectionCheck;
  /** Bytes of a request's body read to describe it: the longest statement a tunnel's reader reads. */
  bodyCap: number;
}

/**
 * Tunnels of one agent that may use permessage-deflate at once; past it a new tunnel is relayed
 * uncompressed (not offered to the upstream, declined to the agent: clients fall back by
 * themselves). `ws` inflates and deflates on libuv's threads through one process-wide queue, first
 * come first served, with a message of up to 16 MiB per job: one agent's 100 tunnels each sent
 * three 15 KB frames that inflate to 15 MiB, and every other agent's compressed tunnels waited
 * behind 4.5 GiB of zlib work (a neighbour's echo got no answer in 40 s; the same threads write the
 * audit log). Bounded, an agent has at most four jobs a tunnel of these in that queue.
 */
export const AGENT_DEFLATE_TUNNELS = 8;
/**
 * Compressing tunnels over every agent past which each agent holding some may hold only its equal
 * part of what is left (lib/tally.ts `equalPart`, nothing for a newcomer once none is left): the
 * bound above was per agent alone, so four agents' 32 tunnels put 4 × 512 MiB of zlib work ahead
 * of a neighbour's message, and a thousand agents without end (twenty-first pass). In all at most
 * one and a half of this compress; past it a new tunnel is relayed uncompressed, which works.
 */
export const DEFLATE_CROWD = 16;

export class WebSocketForward {
  /** Upstream WebSocket connections of open tunnels (ended on close()). */
  private readonly open = new Set<WebSocket>();
  /** What open tunnels hold of messages not yet whole, per agent and in all (websocket-relay.ts). */
  private readonly partial = new PartialMessages();
  /** Tunnels offered or using permessage-deflate, per agent. */
  private readonly deflating = new Tally();

  constructor(private readonly opts: WebSocketForwardOptions) {}

  async forward(x: Exchange, req: http.IncomingMessage, socket: net.Socket, head: Buffer, refuse: (r: Refusal) => void): Promise<void> {
    // Compression is reserved before the upstream is dialed (dials run at once) and given back when the tunnel ends.
    let offer = x.offer!;
    const release = offer.deflate ? this.reserveDeflate(x.agent!.id) : undefined;
    if (offer.deflate && !release) offer = { ...offer, deflate: false };
    try {
      await this.tunnel(x, req, socket, head, refuse, offer);
    } finally {
      release?.();
    }
  }

  /** One of the agent's compressing tunnels, or undefined when it has AGENT_DEFLATE_TUNNELS already. */
  private reserveDeflate(agent: string): (() => void) | undefined {
    const n = this.deflating.of(agent);
    if (n >= AGENT_DEFLATE_TUNNELS) return undefined;
    if (this.deflating.total >= DEFLATE_CROWD && n >= equalPart(DEFLATE_CROWD, this.deflating.total, this.deflating.size, n === 0, 0)) return undefined;
    return this.deflating.hold(agent, 1);
  }

  private async tunnel(x: Exchange, req: http.IncomingMessage, socket: net.Socket, head: Buffer, refuse: (r: Refusal) => void, offer: AgentHandshake): Promise<void> {
    const ctx = x.context!;
    const rule = ctx.decision.rule;
    const { outgoing } = ctx;
    if (outgoing.bodyTransforms.length) return refuse({ ...refusals.internal(new Error('an enforcer asked to transform the body of a WebSocket handshake, which has none')), rule });
    const { pipeline: steps } = this.opts;
    const record = x.record;

    const answer = await dialUpstream({
      url: outgoing.url, address: x.dial!.address, port: x.dial!.port, headers: outgoing.headers,
      tls: this.opts.tls, timeoutMs: this.opts.handshakeMs, ...(this.opts.check ? { check: this.opts.check } : {}),
    }, offer);
    if (nonEmpty(ctx.audit)) record.extra = ctx.audit;
    if (answer.kind === 'failed') {
      if (answer.invalid101) record.upstream_status = 101;
      const why = answer.invalid101
        ? `the upstream answered 101 but not a valid WebSocket handshake (${answer.detail}); nothing was relayed`
        : upstreamErrorText(Object.assign(new Error(answer.detail), { code: answer.code }), answer.timedOut);
      if (answer.blocked) return refuse({ ...refusals.destination(answer.detail), rule });
      return refuse({ ...(answer.timedOut ? refusals.timeout(why) : refusals.upstream(why)), rule });
    }
    if (answer.kind === 'response') return this.relayAnswer(x, socket, answer.response, answer.request);

    const upstream = answer.socket;
    const head101 = answer.head;
    const stages = responseStages(this.opts.enforcers, ctx, head101);
    if (head101.statusCode !== 101) {
      upstream.terminate();
      return refuse({ ...refusals.upstream('the upstream\'s 101 answer could not be passed on (refused by an enforcer)'), rule });
    }
    // A 101 has no body: its stages are ended at once, and the agent gets it only when they are done
    // (the labels it brings stored, as before a response's first byte). One that fails refuses it.
    const unsettled = await settle(stages);
    if (unsettled) {
      upstream.terminate();
      return refuse({ ...refusals.stageFailed(unsettled, () => refusals.upstream(`the upstream's 101 answer could not be passed on: ${unsettled.message}`)), rule });
    }
    this.open.add(upstream);
    const agentSide = await acceptAgent(req, socket, head, upstream, head101);
    record.upstream_status = 101;
    if (!agentSide) {
      upstream.terminate();
      this.open.delete(upstream);
      return steps.finish(x, 'client-aborted');
    }
    record.status = 101;
    record.extra = { ...ctx.audit, websocket: { protocol: upstream.protocol || null, compression: upstream.extensions.includes('permessage-deflate') } };
    steps.finish(x, 'forwarded');

    const enforcers = this.opts.enforcers.filter((e) => e.onMessage);
    const meter = egressMeterOf(this.opts.enforcers, ctx);
    // An open WebSocket is one request that lasts: a token revoked, or a live policy that no
    // longer lets it through, ends it.
    const revoked = watchLasting(this.opts.pipeline.lasting, x);
    // The statements it carries to a database are decided one by one (proxy/tunnel-sql.ts).
    const sql = new TunnelSql(x, steps, upstream.protocol, this.opts.bodyCap);
    const ended = await relay(agentSide, upstream, {
      ended: revoked.ended,
      judge: (m) => sql.judge(m),
      judgeHolding: () => sql.holding(),
      observe: (m) => sql.observe(m),
      onMessage: (m) => {
        // Nothing leaves while records cannot be written, as no request does (twenty-second pass:
        // an open tunnel went on relaying while every new request got 503 audit-unavailable), nor
        // while this agent's own records wait past its share (twenty-third pass: a slow disk, its
        // new requests refused, its open tunnel still relaying).
        if (m.to === 'upstream') {
          const unaudited = this.opts.pipeline.auditUnavailable(x.agent!.id);
          if (unaudited) return unaudited;
        }
        for (const e of enforcers) {
          const r = e.onMessage!(ctx, m);
          if (r) return r;
        }
        return undefined;
      },
      ...(meter ? { meter } : {}),
      partial: { messages: this.partial, agent: x.agent!.id },
    });
    revoked.stop();
    sql.close();
    this.open.delete(upstream);
    steps.append(tunnelRecord(x, ctx, ended));
  }

  /** The upstream declined the upgrade: its answer (through the enforcers' onResponse) goes back, then the connection closes. */
  private relayAnswer(x: Exchange, socket: net.Socket, upRes: http.IncomingMessage, upReq: http.ClientRequest): void {
    const ctx = x.context!;
    const record = x.record;
    const head: ResponseHead = { statusCode: upRes.statusCode ?? 502, statusMessage: upRes.statusMessage, headers: responseHeaders(upRes.rawHeaders, new Set(['content-length'])) };
    const stages = responseStages(this.opts.enforcers, ctx, head);
    // A server without WebSocket support answers the handshake as a plain GET: an event stream,
    // say, guarded like any response while it streams.
    const guard = responseGuardOf(this.opts.enforcers, ctx);
    if (guard) stages.push(guardStage(guard));
    record.upstream_status = upRes.statusCode;
    record.status = head.statusCode;
    const reason = head.statusCode === upRes.statusCode ? head.statusMessage ?? '' : http.STATUS_CODES[head.statusCode] ?? '';
    const lines = [`HTTP/1.1 ${head.statusCode} ${reason}`];
    for (const [k, v] of head.headers) if (k.toLowerCase() !== 'content-length') lines.push(`${k}: ${v}`);
    lines.push('connection: close', '', '');
    socket.write(lines.join('\r\n'));
    // Such an answer may stream for as long as a WebSocket would: a revoked token ends it too.
    let revoked: Rejection | undefined;
    const unwatch = watchCredentials(x, (c) => this.opts.pipeline.authenticate(c), (r) => {
      revoked = r;
      upReq.destroy();
      socket.destroy();
    });
    pipeline([upRes, ...stages, socket] as unknown as [NodeJS.ReadableStream, NodeJS.WritableStream], (err) => {
      unwatch();
      upReq.destroy();
      const stop = revoked ?? (err instanceof StreamStop ? err.rejection : undefined);
      if (stop) record.detail = stop.detail;
      else if (err && !ctx.signal.aborted) record.detail = `response stream broke: ${upstreamErrorText(err as NodeJS.ErrnoException, false)}`;
      if (nonEmpty(ctx.audit)) record.extra = ctx.audit;
      this.opts.pipeline.finish(x, stop ? stop.outcome : err ? (ctx.signal.aborted ? 'client-aborted' : 'upstream-error') : 'forwarded');
    });
  }

  /** Ends every open tunnel (Airlock is stopping). */
  close(): void {
    for (const ws of this.open) ws.terminate();
  }
}

/** Ends each stage of a body-less answer; the first error, or undefined once all finished. */
async function settle(stages: Transform[]): Promise<Error | undefined> {
  try {
    await Promise.all(stages.map((s) => {
      s.resume();
      s.end();
      return finished(s);
    }));
    return undefined;
  } catch (err) {
    return err as Error;
  }
}

/** The record written when a WebSocket tunnel ends (same id as its upgrade's): what crossed it, how it ended. */
function tunnelRecord(x: Exchange, ctx: RequestContext, end: TunnelEnd): AuditRecord {
  const opened = x.record;
  const outcome = end.rejection?.outcome ?? (end.error ? 'websocket-protocol-error' : 'websocket-closed');
  return {
    time: new Date().toISOString(), id: opened.id, agent: opened.agent, method: opened.method, url: opened.url, host: opened.host,
    ...(opened.decision ? { decision: opened.decision } : {}), ...(opened.policy_version ? { policy_version: opened.policy_version } : {}),
    outcome, status: 101, upstream_status: 101, total_ms: x.elapsed(),
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
