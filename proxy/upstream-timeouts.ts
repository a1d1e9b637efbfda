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

/** Arms the phase budgets on one upstream request; `onTimeout` is called at most once. 0 = no limit. */
export function watchUpstream(req: http.ClientRequest, t: UpstreamTimeouts, onTimeout: (phase: TimeoutPhase, ms: number) => void): void {
  let timer: NodeJS.Timeout | undefined;
  let phase: TimeoutPhase = 'idle';
  let connected = false;
  let sent = false;
  let answered = false;
  let fired = false;
  const fire = (p: TimeoutPhase, ms: number): void => {
    if (fired) return;
    fired = true;
    stopTimer();
    onTimeout(p, ms);
  };
  const stopTimer = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
  const startTimer = (p: TimeoutPhase, ms: number): void => {
    stopTimer();
    phase = p;
    if (ms > 0) timer = setTimeout(() => fire(p, ms), ms);
  };
  // Idle phases use the socket's own inactivity timer (refreshed by Node on every read and write).
  const idle = (): void => {
    phase = 'idle';
    req.setTimeout(t.idleMs);
  };
  const awaitFirstByte = (): void => {
    req.setTimeout(0);
    startTimer('first-byte', t.firstByteMs);
  };
  req.on('timeout', () => fire(phase, phase === 'idle' ? t.idleMs : phase === 'connect' ? t.connectMs : t.firstByteMs));
  req.once('socket', (socket) => {
    const onConnected = (): void => {
      connected = true;
      stopTimer();
      if (answered) return;
      if (sent) awaitFirstByte();
      else idle();
    };
    if (socket.connecting) {
      startTimer('connect', t.connectMs);
      socket.once(socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect', onConnected);
    } else {
      onConnected();
    }
  });
  req.once('finish', () => {
    sent = true;
    if (connected && !answered) awaitFirstByte();
  });
  req.once('response', () => {
    answered = true;
    stopTimer();
    idle();
  });
  // A WebSocket upgrade: the relayed connection has no timeouts of its own.
  req.once('upgrade', () => {
    answered = true;
    stopTimer();
  });
  req.once('close', stopTimer);
}
