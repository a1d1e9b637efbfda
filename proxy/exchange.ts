// One request as it passes the pipeline (proxy/pipeline.ts): what arrived and on which tunnel, the
// agent it came from, the description the policy saw and its decision, what the enforcers made of
// it, and its audit record. The steps read and fill this one object; the socket code that drives
// them (proxy/listener.ts) keeps no request state of its own.
import crypto from 'node:crypto';
import type http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { AgentInfo, RequestDescription } from '../describe/types.ts';
import type { EngineDecision } from '../engine/decision.ts';
import type { AuditRecord } from '../state/audit-log.ts';
import type { RequestContext } from './enforcers.ts';
import type { Authority } from './http-util.ts';
import { noBody, type CapturedBody } from './request-body.ts';
import type { AgentHandshake } from './websocket-handshake.ts';

/** The parts of an incoming request the steps read (an http.IncomingMessage has them all). */
export type RequestHead = Pick<http.IncomingMessage, 'method' | 'url' | 'headers' | 'rawHeaders' | 'httpVersion' | 'httpVersionMinor'>;

/** A CONNECT tunnel whose requests are read by the inner server (proxy/interception.ts). */
export interface Tunnel {
  agent: AgentInfo;
  /** The CONNECT credentials, re-checked for every request so a revoked token stops at once. */
  credential: string | undefined;
  target: Authority;
  scheme: 'http' | 'https';
  /** SNI the client sent, normalized; undefined when it sent none. */
  sni?: string;
}

export class Exchange {
  readonly id = crypto.randomUUID();
  readonly time = new Date();
  readonly t0 = performance.now();
  readonly record: AuditRecord;
  /** Set by admit. */
  agent: AgentInfo | undefined;
  /** The id of the token the agent authenticated with (a session is one token's life), set by admit. */
  token: string | undefined;
  /**
   * Set by admit when a shared directory answered from its view: the token's confirmation against
   * its table, which describe runs (or has the session's entry run) before anything is decided.
   */
  confirm?: (() => Promise<AgentInfo | undefined>) | undefined;
  /** The absolute target (ws:/wss: for an upgrade), set by admit. */
  url = '';
  /** The WebSocket offer of an upgrade, checked by admit. */
  offer: AgentHandshake | undefined;
  /** The body prefix read in the agent's slot (none for an upgrade). */
  body: CapturedBody = noBody;
  /** Set by describe. */
  described: RequestDescription | undefined;
  /** Set by decide. */
  decision: EngineDecision | undefined;
  /** What the enforcers saw and changed, set by enforce. */
  context: RequestContext | undefined;
  /** The checked address to dial, set by enforce. */
  dial: { address: string; port: number } | undefined;
  /** The audit record is written: whatever happens later, it is not written again. */
  recorded = false;
  /**
   * The peer's address when the request came over TCP (undefined over the Unix socket, and for a
   * request inside a tunnel, whose credential was checked at its CONNECT): set by the listener.
   */
  remoteAddress: string | undefined;
  /** What the description of a large body weighs in memory (proxy/agent-gate.ts descriptionWeight), set by describe. */
  weight: number | undefined;
  /** Set by admit (and enforce): end the exchange's counts among its agent's open ones (proxy/agent-gate.ts). */
  private leaves: Array<() => void> = [];
  private ended = false;

  constructor(readonly head: RequestHead, readonly tunnel: Tunnel | undefined, readonly upgrade: boolean) {
    this.record = { time: this.time.toISOString(), id: this.id, method: head.method ?? '', url: loggableTarget(head.url), outcome: 'pending' };
  }

  /** Counted among the agent's open exchanges (or their descriptions) until end(); called by admit. */
  entered(leave: () => void): void {
    if (this.ended) leave();
    else this.leaves.push(leave);
  }

  /** The response is sent or the connection gone (the socket code calls this once it is). */
  end(): void {
    this.ended = true;
    for (const leave of this.leaves.splice(0)) leave();
  }

  /** Milliseconds since the request arrived, to the microsecond. */
  elapsed(): number {
    return Math.round((performance.now() - this.t0) * 1000) / 1000;
  }
}

/** The request target as received, for logs: userinfo (user:password@) removed, length bounded. */
export function loggableTarget(target: string | undefined): string {
  return (target ?? '')
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1[userinfo]@')
    .replace(/^[^/?#]*@/, '[userinfo]@') // authority-form (CONNECT user:pw@host:port)
    .slice(0, 2048);
}
