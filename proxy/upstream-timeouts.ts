// The three ways an upstream can keep a request waiting, each with its own budget:
//
//   connect     TCP connect (+ TLS handshake) of a new connection: short, a dead host shows fast
//   first-byte  from the request fully sent to the response head: long, a non-streaming model call
//               (a long completion, a reasoning model) answers only when it is done
//   idle        no byte either way while the request body uploads or the response streams
//
// A reused keep-alive connection skips the connect phase. Defaults suit LLM APIs (the official
// OpenAI and Anthropic SDKs wait 10 minutes); `airlock start` flags and config.json change them.
import type http from 'node:http';
import type net from 'node:net';
import tls from 'node:tls';

export interface UpstreamTimeouts {
  connectMs: number;
  firstByteMs: number;
  idleMs: number;
}

export type TimeoutPhase = 'connect' | 'first-byte' | 'idle';

export const defaultUpstreamTimeouts: UpstreamTimeouts = { connectMs: 10_000, firstByteMs: 600_000, idleMs: 600_000 };

/** What the agent is told when a phase ran out (problem `detail`). */
export function timeoutText(phase: TimeoutPhase, ms: number): string {
  const s = Math.round(ms / 1000);
  switch (phase) {
    case 'connect':
      return `the upstream did not accept a connection within ${s} s (upstream connect timeout)`;
    case 'first-byte':
      return `the upstream sent no response within ${s} s of the request (upstream first-byte timeout; raise upstreamTimeouts.firstByte for slower APIs)`;
    default:
      return `the upstream connection was idle for ${s} s (upstream idle timeout)`;
  }
}

/**
 * One request's watch. Its listeners are module functions reading the watch from the request (no
 * closures or `once` wrappers per request: this runs for every request the proxy forwards).
 */
class Watch {
  timer: NodeJS.Timeout | undefined;
  phase: TimeoutPhase = 'idle';
  connected = false;
  sent = false;
  answered = false;
  fired = false;

  constructor(
    readonly req: http.ClientRequest,
    readonly t: UpstreamTimeouts,
    readonly onTimeout: (phase: TimeoutPhase, ms: number) => void,
  ) {}

  fire(p: TimeoutPhase, ms: number): void {
    if (this.fired) return;
    this.fired = true;
    this.stopTimer();
    this.onTimeout(p, ms);
  }

  stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  startTimer(p: TimeoutPhase, ms: number): void {
    this.stopTimer();
    this.phase = p;
    if (ms > 0) this.timer = setTimeout(phaseRanOut, ms, this, p, ms);
  }

  /** Idle phases use the socket's own inactivity timer (refreshed by Node on every read and write). */
  idle(): void {
    this.phase = 'idle';
    this.req.setTimeout(this.t.idleMs);
  }

  awaitFirstByte(): void {
    this.req.setTimeout(0);
    this.startTimer('first-byte', this.t.firstByteMs);
  }

  connectedNow(): void {
    this.connected = true;
    this.stopTimer();
    if (this.answered) return;
    if (this.sent) this.awaitFirstByte();
    else this.idle();
  }
}

/** Where a request (and a socket still connecting for it) keeps its watch. */
const kWatch = Symbol('airlock.upstreamWatch');
type Watched = { [kWatch]?: Watch };
const watchOf = (o: http.ClientRequest | net.Socket): Watch | undefined => (o as Watched)[kWatch];

function phaseRanOut(w: Watch, p: TimeoutPhase, ms: number): void {
  w.fire(p, ms);
}

function onTimeout(this: http.ClientRequest): void {
  const w = watchOf(this)!;
  w.fire(w.phase, w.phase === 'idle' ? w.t.idleMs : w.phase === 'connect' ? w.t.connectMs : w.t.firstByteMs);
}

function onSocket(this: http.ClientRequest, socket: net.Socket): void {
  const w = watchOf(this)!;
  if (!socket.connecting) return w.connectedNow();
  w.startTimer('connect', w.t.connectMs);
  (socket as Watched)[kWatch] = w;
  socket.once(socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect', onSocketConnected);
}

function onSocketConnected(this: net.Socket): void {
  const w = watchOf(this);
  (this as Watched)[kWatch] = undefined;
  w?.connectedNow();
}

function onFinish(this: http.ClientRequest): void {
  const w = watchOf(this)!;
  w.sent = true;
  if (w.connected && !w.answered) w.awaitFirstByte();
}

function onResponse(this: http.ClientRequest): void {
  const w = watchOf(this)!;
  w.answered = true;
  w.stopTimer();
  w.idle();
}

/** A WebSocket upgrade: the relayed connection has no timeouts of its own. */
function onUpgrade(this: http.ClientRequest): void {
  const w = watchOf(this)!;
  w.answered = true;
  w.stopTimer();
}

function onClose(this: http.ClientRequest): void {
  watchOf(this)?.stopTimer();
}

/** Arms the phase budgets on one upstream request; `onTimeout` is called at most once. 0 = no limit. */
export function watchUpstream(req: http.ClientRequest, t: UpstreamTimeouts, timedOut: (phase: TimeoutPhase, ms: number) => void): void {
  (req as Watched)[kWatch] = new Watch(req, t, timedOut);
  // Each of these fires at most once per request ('socket', 'finish', 'response', 'upgrade', 'close').
  req.on('timeout', onTimeout);
  req.on('socket', onSocket);
  req.on('finish', onFinish);
  req.on('response', onResponse);
  req.on('upgrade', onUpgrade);
  req.on('close', onClose);
}
