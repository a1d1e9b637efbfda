// The WebSocket relay behind an allowed upgrade. Airlock terminates WebSocket on both sides with
// `ws`: a client to the upstream, a server to the agent, and relays *messages* between them.
//
// Why termination and not a byte pipe or a pass-through of frames: `ws`'s client checks the
// upstream's 101 (Upgrade: websocket, Sec-WebSocket-Accept for the key it sent, a subprotocol and
// extensions that were offered) and its Receiver, in both roles, closes the connection on
// anything that is not valid framing: a wrong masking direction, reserved bits or opcodes,
// control frames over 125 bytes or fragmented, invalid UTF-8 in text and close frames, bad close
// codes, messages over the size cap. Passing frames through untouched (Receiver + Sender on the
// raw sockets) would not work anyway once a message is scrubbed or permessage-deflate is in use:
// rewriting a payload means re-encoding it, and compression contexts are per connection. So each
// hop negotiates its own permessage-deflate (offered to the upstream only when the agent offered
// it, accepted from the agent only when the upstream accepted it); subprotocols are end to end
// (the agent's offer goes to the upstream, the upstream's choice comes back to the agent).
//
// Nothing the agent sends after its upgrade request is read before the upstream's 101 has been
// verified: the agent's socket stays paused and its early bytes are handed to `ws`'s server only
// then, where they must parse as masked client frames. The upstream never receives a byte the
// agent chose except inside a frame Airlock built and masked with its own random key.
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { WebSocket, WebSocketServer } from 'ws';
import { checkedConnect, checkedTlsConnect, type ConnectionCheck } from './checked-dial.ts';
import { DestinationError } from './destination.ts';
import type { EgressMeter, Rejection, RelayedMessage, ResponseHead } from './enforcers.ts';
import { endToEnd } from './http-util.ts';
import type { AgentHandshake } from './websocket-handshake.ts';

/** Largest message (after reassembly and decompression) either side may send: beyond it, close 1009. */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/**
 * Bytes a tunnel holds, over all of one agent's tunnels and over everyone's: messages not yet whole
 * (frames read, fragments kept, both directions), and messages whole but not yet sent (being
 * compressed, queued behind that, or in the socket's write buffer). `ws` reassembles a message
 * before it is relayed (it must be checked whole), up to MAX_MESSAGE_BYTES per side: 20 tunnels
 * each sent 15 MiB of a message never finished held 320 MiB; and a whole message waits in memory
 * for as long as its receiver does not read (or the compressor is busy): 15 MiB messages, or 15 KB
 * permessage-deflate frames that inflate to them, sent to an agent that reads nothing held 15 MiB a
 * tunnel for good, and one agent may keep hundreds of tunnels open. Past a budget the tunnel whose
 * bytes crossed it is closed (1009; cut when what it holds cannot leave).
 */
export const AGENT_PARTIAL_BYTES = 64 * 1024 * 1024;
export const TOTAL_PARTIAL_BYTES = 512 * 1024 * 1024;

/** What the tunnels of every agent hold of unfinished messages (one per proxy). */
export class PartialMessages {
  private total = 0;
  private readonly perAgent = new Map<string, number>();
  /** Each open tunnel's cut (closes it 1009) and what it holds, per agent. */
  private readonly tunnels = new Map<string, Set<{ held: () => number; cut: () => void }>>();

  constructor(readonly agentBudget = AGENT_PARTIAL_BYTES, readonly totalBudget = TOTAL_PARTIAL_BYTES) {}

  /** A tunnel of `agent` that may be cut to make room for another agent; the returned function forgets it. */
  register(agent: string, tunnel: { held: () => number; cut: () => void }): () => void {
    let own = this.tunnels.get(agent);
    if (!own) this.tunnels.set(agent, (own = new Set()));
    own.add(tunnel);
    return () => {
      own.delete(tunnel);
      if (!own.size && this.tunnels.get(agent) === own) this.tunnels.delete(agent);
    };
  }

  /**
   * Records that one tunnel of `agent` now holds `now` bytes instead of `before`; false past a
   * budget. Past the budget of all, an agent within its equal part (among the agents holding
   * some) is not refused: the tunnels of the agents past theirs are cut, largest first, instead.
   * Refusing the one that crossed let eight agents at their budget (8 × 64 MiB) close every other
   * agent's tunnel at its next message (eighteenth pass). What is held stays under twice the total.
   */
  change(agent: string, before: number, now: number): boolean {
    const mine = (this.perAgent.get(agent) ?? 0) + now - before;
    this.total += now - before;
    if (mine > 0) this.perAgent.set(agent, mine);
    else this.perAgent.delete(agent);
    if (now <= before || this.total <= this.totalBudget) return now <= before || mine <= this.agentBudget;
    const fair = this.totalBudget / Math.max(1, this.perAgent.size);
    if (mine > this.agentBudget || mine > fair) return false;
    this.makeRoom(fair);
    return true;
  }

  /**
   * A tunnel of `agent` being cut holds `bytes`: no longer its agent's (another of its tunnels was
   * cut too, for bytes already on their way out, when the sockets took their time to close), still
   * everyone's until `left` says it has closed.
   */
  leaving(agent: string, bytes: number): void {
    const mine = (this.perAgent.get(agent) ?? 0) - bytes;
    if (mine > 0) this.perAgent.set(agent, mine);
    else this.perAgent.delete(agent);
  }

  /** A cut tunnel that held `bytes` has closed. */
  left(bytes: number): void {
    this.total -= bytes;
  }

  /** Cuts the largest tunnels of the agents holding more than `fair` until they hold no more (their bytes go when they close). */
  private makeRoom(fair: number): void {
    for (const [other, bytes] of this.perAgent) {
      if (bytes <= fair) continue;
      const own = [...(this.tunnels.get(other) ?? [])].sort((a, b) => b.held() - a.held());
      let left = bytes;
      for (const tunnel of own) {
        if (left <= fair) break;
        left -= tunnel.held();
        tunnel.cut();
      }
    }
  }
}

/**
 * Bytes a `ws` side holds of a message not yet whole: frame bytes read but not parsed, and the
 * fragments kept (decompressed). Read from its receiver's state (ws 8), 0 where it has none.
 */
function partialBytes(ws: WebSocket): number {
  const r = (ws as unknown as { _receiver?: { _bufferedBytes?: unknown; _messageLength?: unknown } })._receiver;
  if (!r) return 0;
  const buffered = typeof r._bufferedBytes === 'number' ? r._bufferedBytes : 0;
  const kept = typeof r._messageLength === 'number' ? r._messageLength : 0;
  return buffered + kept;
}

/**
 * How long a message kept back as a possible start of a secret waits for the next message; then
 * the tunnel is closed (the message is never relayed). At most so many messages are kept back.
 */
const HOLD_MS = 1000;
/** How many times a hold that saw frames arrive meanwhile waits HOLD_MS again (proxy's own stalls). */
const HOLD_RENEWALS = 4;
const MAX_HELD_MESSAGES = 1024;
/** What one side of a tunnel may keep back (past it: closed, as if no message had come): 100 tunnels × 16 MiB messages would be 1.6 GB. */
const MAX_HELD_BYTES = 1024 * 1024;
/** How long a closing handshake may take before the connection is cut. */
const CLOSE_TIMEOUT_MS = 5000;
/** Backpressure: stop reading a side while the other side has this much unsent. */
const HIGH_WATER = 1024 * 1024;

export interface UpstreamTarget {
  /** ws: or wss: URL as it leaves (after enforcers); its host is the name the policy allowed. */
  url: URL;
  /** The checked address to dial (destination safety ran on it). */
  address: string;
  port: number;
  /** End-to-end headers to send (no hop-by-hop, no Sec-WebSocket-*: `ws` writes its own). */
  headers: Array<[string, string]>;
  /** Trust for upstream TLS (wss:). */
  tls: tls.SecureContext;
  timeoutMs: number;
  /** Checks the connection once it is up, before the handshake leaves (checked-dial.ts). */
  check?: ConnectionCheck;
}

export type UpstreamAnswer =
  | { kind: 'open'; socket: WebSocket; head: ResponseHead }
  /** Any answer but 101: relayed to the agent as it is. */
  | { kind: 'response'; response: http.IncomingMessage; request: http.ClientRequest }
  /** No usable answer: `invalid101` when the upstream answered 101 without a valid WebSocket handshake. */
  | { kind: 'failed'; detail: string; code?: string; timedOut: boolean; invalid101: boolean; blocked?: boolean };

const ownHandshakeHeaders = new Set(['sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol', 'sec-websocket-accept', 'host']);

/** Request headers for the upstream: the agent's end-to-end ones, minus what `ws` sets itself. */
export function upstreamHeaders(pairs: Array<[string, string]>): Array<[string, string]> {
  return pairs.filter(([k]) => !ownHandshakeHeaders.has(k.toLowerCase()));
}

/** Opens the upstream WebSocket on the checked address and waits for a verified 101 (or another answer). */
export function dialUpstream(target: UpstreamTarget, offer: AgentHandshake): Promise<UpstreamAnswer> {
  return new Promise((resolve) => {
    let settled = false;
    let saw101 = false;
    const settle = (a: UpstreamAnswer): void => {
      if (settled) return;
      settled = true;
      resolve(a);
    };
    const secure = target.url.protocol === 'wss:';
    const hostname = target.url.hostname.replace(/^\[|\]$/g, '');
    const headers: Record<string, string | string[]> = { Host: target.url.host };
    for (const [k, v] of upstreamHeaders(target.headers)) {
      const prev = headers[k];
      headers[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    let ws: WebSocket;
    try {
      ws = new WebSocket(target.url, offer.protocols, {
        headers,
        perMessageDeflate: offer.deflate ? {} : false,
        maxPayload: MAX_MESSAGE_BYTES,
        handshakeTimeout: target.timeoutMs,
        autoPong: false,
        // One message per turn of the event loop: by default `ws` emits every message of a read at
        // once, and a read of empty frames from either side (200,000 in 1.2 MB) held the loop for
        // every agent ~1 s at a time. Deferred, other agents' work runs between two messages.
        allowSynchronousEvents: false,
        followRedirects: false,
        closeTimeout: CLOSE_TIMEOUT_MS,
        // Dial exactly the address destination safety checked; verify TLS for the allowed name.
        createConnection: () => secure
          ? checkedTlsConnect({
              host: target.address, port: target.port, secureContext: target.tls, ALPNProtocols: ['http/1.1'],
              ...(net.isIP(hostname) ? {} : { servername: hostname }),
              checkServerIdentity: (_h, cert) => tls.checkServerIdentity(hostname, cert),
            }, target.check)
          : checkedConnect({ host: target.address, port: target.port }, target.check),
      } as WebSocket.ClientOptions & { closeTimeout: number });
    } catch (err) {
      return settle({ kind: 'failed', detail: (err as Error).message, timedOut: false, invalid101: false });
    }
    let upgradeHead: ResponseHead | undefined;
    ws.on('upgrade', (res) => {
      saw101 = true;
      upgradeHead = { statusCode: 101, statusMessage: res.statusMessage, headers: endToEnd(res.rawHeaders).filter(([k]) => !ownHandshakeHeaders.has(k.toLowerCase())) };
    });
    ws.on('unexpected-response', (request, response) => {
      if (response.statusCode === 101) {
        // A 101 without "Upgrade: websocket" + "Connection: upgrade": not a WebSocket, not relayed.
        request.destroy();
        response.destroy();
        return settle({ kind: 'failed', detail: 'the upstream answered 101 without a WebSocket handshake (Upgrade/Connection missing)', timedOut: false, invalid101: true });
      }
      settle({ kind: 'response', response, request });
    });
    ws.once('open', () => {
      ws.pause(); // nothing is read from the upstream until the agent's side is open too
      settle({ kind: 'open', socket: ws, head: upgradeHead! });
    });
    ws.on('error', (err: NodeJS.ErrnoException) => {
      if (settled) return;
      ws.terminate();
      const timedOut = /handshake has timed out/.test(err.message);
      settle({ kind: 'failed', detail: err.message, ...(err.code ? { code: err.code } : {}), timedOut, invalid101: saw101, ...(err instanceof DestinationError ? { blocked: true } : {}) });
    });
  });
}

/**
 * Answers the agent's handshake with `ws`'s server once the upstream is open: the upstream's
 * subprotocol, permessage-deflate only if the upstream accepted it, and the upstream's other
 * 101 headers (already through the enforcers' onResponse, i.e. scrubbed). Resolves undefined
 * when the agent went away meanwhile.
 */
export function acceptAgent(req: http.IncomingMessage, socket: net.Socket, head: Buffer, upstream: WebSocket, extra: ResponseHead): Promise<WebSocket | undefined> {
  const server = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: upstream.extensions.includes('permessage-deflate') ? {} : false,
    maxPayload: MAX_MESSAGE_BYTES,
    autoPong: false,
    allowSynchronousEvents: false, // one message per turn of the event loop, as in dialUpstream
    handleProtocols: () => upstream.protocol || false,
    closeTimeout: CLOSE_TIMEOUT_MS,
  } as WebSocket.ServerOptions & { closeTimeout: number });
  server.once('headers', (lines: string[]) => {
    for (const [k, v] of extra.headers) lines.push(`${k}: ${v}`);
  });
  if (socket.destroyed) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const gone = (): void => resolve(undefined);
    socket.once('close', gone);
    server.handleUpgrade(req, socket, head, (ws) => {
      socket.off('close', gone);
      resolve(ws);
    });
  });
}

export interface DirectionStats {
  /** Messages and control frames relayed. */
  messages: number;
  /** Their payload bytes (uncompressed). */
  payload_bytes: number;
}

export interface TunnelEnd {
  /** Who ended it: a side closing or breaking the protocol, or Airlock (an enforcer, shutdown). */
  by: 'agent' | 'upstream' | 'airlock';
  /** The close code the ending side sent (1005: none; 1006: the connection dropped without one). */
  code?: number;
  /** `ws`'s error code for a protocol violation (WS_ERR_…). */
  error?: string;
  detail?: string;
  /** The enforcer refusal that closed it (rate limit, secret value). */
  rejection?: Rejection;
  to_upstream: DirectionStats;
  to_agent: DirectionStats;
}

export interface RelayHooks {
  /** The enforcers' per-message hook, in order; a Rejection closes the tunnel. */
  onMessage(message: RelayedMessage): Rejection | undefined;
  /** Charged with every frame to the upstream (its size on the wire, uncompressed). */
  meter?: EgressMeter;
  /** The budget of unfinished messages the tunnel's bytes count against, and whose they are. */
  partial?: { messages: PartialMessages; agent: string };
  /** Settles with a refusal when the tunnel must end from outside its messages (the agent's credentials were revoked). */
  ended?: Promise<Rejection>;
  /**
   * Asked about each message to the upstream right before it leaves (the statements it completes:
   * proxy/tunnel-sql.ts). Undefined lets it go at once; a promise makes it, and every message of
   * the agent after it, wait in order for the answer; a Rejection closes the tunnel.
   */
  judge?(message: RelayedMessage): Promise<Rejection | undefined> | Rejection | undefined;
  /** Bytes `judge` keeps of what is not yet whole: weighed with the tunnel's unfinished messages. */
  judgeHolding?(): number;
  /** Shown each message to the agent before it leaves (which protocol the server speaks: MySQL's greeting). */
  observe?(message: RelayedMessage): void;
}

/** Messages (or bytes) of the agent waiting behind one being judged before the agent's socket is no longer read. */
const MAX_JUDGE_QUEUE = 64;
const MAX_JUDGE_BYTES = 1024 * 1024;

/** How long the agent's close waits for the messages before it to be judged (a policy decision, not a human's). */
const CLOSE_AFTER_JUDGED_MS = 2000;

/** Bytes one frame with this payload takes on the wire to the upstream (header + mask + payload). */
export function frameBytes(payload: number): number {
  return 2 + (payload > 65535 ? 8 : payload > 125 ? 2 : 0) + 4 + payload;
}

/** Close codes that may be sent in a close frame (RFC 6455 §7.4; 1004–1006 and 1015 are reserved). */
function sendable(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

/**
 * A hook's answer, or a refusal when the hook threw (twenty-seventh pass). The hooks read what
 * either side sends (the scrubber's readers, a tunnel's protocol reader) inside `ws`'s 'message'
 * listener: a reader that threw on a hostile message threw out of the socket's read, an uncaught
 * exception that stopped the whole process, every agent's requests and the studio with it. A
 * message that cannot be read is refused instead: the tunnel is closed and its end recorded.
 */
function unreadMessage(err: unknown): Rejection {
  return { status: 500, type: 'proxy-error', title: 'Internal proxy error', detail: `a message could not be read: ${(err as Error)?.message ?? String(err)}`.slice(0, 300), outcome: 'error' };
}

/** Relays messages both ways until both sides are closed; resolves with how the tunnel ended. */
export function relay(agent: WebSocket, upstream: WebSocket, hooks: RelayHooks): Promise<TunnelEnd> {
  const stats = { to_upstream: { messages: 0, payload_bytes: 0 }, to_agent: { messages: 0, payload_bytes: 0 } };
  let end: Omit<TunnelEnd, 'to_upstream' | 'to_agent'> | undefined;
  // The readers' hooks, called from the sockets' listeners, never throw out of them (unreadMessage).
  const onMessage = (message: RelayedMessage): Rejection | undefined => {
    try {
      return hooks.onMessage(message);
    } catch (err) {
      return unreadMessage(err);
    }
  };
  const observe = (message: RelayedMessage): Rejection | undefined => {
    try {
      hooks.observe?.(message);
      return undefined;
    } catch (err) {
      return unreadMessage(err);
    }
  };
  let open = 2;
  return new Promise((resolve) => {
    const closed = (): void => {
      if (--open > 0) return;
      forget?.();
      if (budget && held) budget.messages.change(budget.agent, held, 0);
      if (budget && leaving) budget.messages.left(leaving);
      held = 0;
      leaving = 0;
      if (again) clearTimeout(again);
      resolve({ ...(end ?? { by: 'airlock', detail: 'both connections dropped' }), ...stats });
    };

    /** Closes a side now, or cuts it when it is not open. */
    const shut = (ws: WebSocket, code: number, reason: string): void => {
      if (ws.readyState === WebSocket.OPEN) ws.close(code, reason.slice(0, 120));
      else if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
    };

    const stop = (rejection: Rejection): void => {
      if (end) return;
      end = { by: 'airlock', rejection, detail: rejection.detail };
      shut(agent, 1008, rejection.outcome === 'rate-limited' ? 'egress budget exhausted' : rejection.title);
      shut(upstream, 1001, 'closed by the proxy');
    };

    // After each read of either side, and each message sent or flushed: what the tunnel holds of
    // unfinished messages and of messages not yet sent, against the budgets.
    let held = 0;
    let leaving = 0;
    const budget = hooks.partial;
    const weigh = (): void => {
      if (!budget) return;
      const now = end ? 0 : partialBytes(agent) + partialBytes(upstream) + agent.bufferedAmount + upstream.bufferedAmount + (hooks.judgeHolding?.() ?? 0);
      if (now === held) return;
      const fits = budget.messages.change(budget.agent, held, now);
      held = now;
      if (fits || end) return;
      overBudget('messages not yet whole or not yet sent held more than their budget (one agent\'s tunnels, or every tunnel): closed');
    };
    const overBudget = (detail: string): void => {
      if (end) return;
      end = { by: 'airlock', detail };
      if (budget && held) budget.messages.leaving(budget.agent, held);
      leaving = held;
      held = 0;
      // A close frame queued behind what the side does not read would keep it all for the close timeout.
      for (const [ws, code, reason] of [[agent, 1009, 'messages over budget'], [upstream, 1001, 'closed by the proxy']] as const) {
        if (ws.bufferedAmount > HIGH_WATER) ws.terminate();
        else shut(ws, code, reason);
      }
    };
    const forget = budget?.messages.register(budget.agent, {
      held: () => held,
      cut: () => overBudget('every tunnel\'s unfinished messages were past their budget and this agent\'s past its equal part: closed to make room for another agent\'s'),
    });
    // Compressed frames are inflated after the read (on zlib's threads): weighed again shortly
    // after, for as long as what the tunnel holds keeps changing.
    let again: NodeJS.Timeout | undefined;
    const weighLater = (): void => {
      if (again || end) return;
      again = setTimeout(() => {
        again = undefined;
        const before = held;
        weigh();
        if (held !== before) weighLater();
      }, 25);
    };
    if (budget) {
      for (const ws of [agent, upstream]) {
        const raw = (ws as unknown as { _socket?: net.Socket })._socket;
        raw?.on('data', () => {
          weigh();
          weighLater();
        });
      }
    }

    const side = (from: WebSocket, to: WebSocket, dir: 'upstream' | 'agent'): void => {
      const name = dir === 'upstream' ? 'agent' : 'upstream';
      const counts = dir === 'upstream' ? stats.to_upstream : stats.to_agent;
      let paused = false;
      const drained = (): void => {
        weigh();
        if (paused && !judgeQueue.length && !metering && to.bufferedAmount < HIGH_WATER / 2) {
          paused = false;
          from.resume();
        }
      };
      // Messages an enforcer kept back (their end may start a secret the next one completes), in order.
      const held: RelayedMessage[] = [];
      let heldBytes = 0;
      let holdTimer: NodeJS.Timeout | undefined;
      /** Frames read from `from` so far: a hold that saw one arrive while it waited is not yet over. */
      let arrivals = 0;
      const dropHeld = (): void => {
        held.length = 0;
        heldBytes = 0;
        if (holdTimer) clearTimeout(holdTimer);
        holdTimer = undefined;
      };
      /**
       * Waits HOLD_MS for what continues the held messages. Timers run before sockets are read in
       * an event-loop turn, so after a stall of Airlock's own (a busy machine) the continuation may
       * already be waiting unread: the hold ends one turn later, and only if nothing arrived from
       * `from` meanwhile (a message arriving, or still being metered or judged, gets another
       * HOLD_MS, at most HOLD_RENEWALS times). Refusing it then would revoke a token for a stall.
       */
      const awaitContinuation = (renewals = 0): void => {
        const seen = arrivals;
        const timer: NodeJS.Timeout = setTimeout(() => setImmediate(() => {
          if (holdTimer !== timer || !held.length) return;
          const moving = arrivals !== seen || partialBytes(from) > 0 || metering !== undefined;
          if (moving && renewals < HOLD_RENEWALS) awaitContinuation(renewals + 1);
          else refuseHeld();
        }), HOLD_MS);
        holdTimer = timer;
      };
      /** Refuses what is held (nothing showed it is not a secret's start): the tunnel is closed. */
      const refuseHeld = (): void => {
        const last = held[held.length - 1];
        const why = last?.probe?.() ?? last?.hold;
        dropHeld();
        if (why) stop(why);
      };
      const pass = (kind: RelayedMessage['kind'], data: Buffer): void => {
        if (end || to.readyState !== WebSocket.OPEN) return;
        if (metering) {
          metering.push([kind, data]);
          return;
        }
        const message: RelayedMessage = { to: dir, kind, data };
        const refused = onMessage(message);
        if (refused) {
          dropHeld();
          return stop(refused);
        }
        if (dir === 'upstream' && hooks.meter) {
          const limited = hooks.meter(frameBytes(message.data.length));
          if (limited instanceof Promise) return meteredLater(message, limited);
          if (limited) return stop(limited);
        }
        metered(message);
      };
      /**
       * A message whose bytes the meter asks its store about (a large one, budgets shared by
       * replicas): it and every message after it wait, in order, with the agent's side paused.
       */
      const meteredLater = (message: RelayedMessage, answer: Promise<Rejection | undefined>): void => {
        const behind: Array<[RelayedMessage['kind'], Buffer]> = (metering = []);
        if (!paused) {
          paused = true;
          from.pause();
        }
        // Ended: the agent's side reads again, or its answer to the close frame is never read.
        const ended = (r: Rejection): void => {
          stop(r);
          paused = false;
          from.resume();
          // An agent's close that waited behind the message goes now (the tunnel's end is recorded).
          if (!judgeQueue.length) afterJudged();
        };
        void answer.then((limited) => {
          metering = undefined;
          if (limited) return ended(limited);
          metered(message);
          for (const [kind, data] of behind) pass(kind, data);
          if (metering) return;
          if (!judgeQueue.length) afterJudged();
          drained();
        }, (err: Error) => {
          metering = undefined;
          ended({ status: 500, type: 'proxy-error', title: 'Internal proxy error', detail: `a message could not be metered: ${err.message}`.slice(0, 300), outcome: 'error' });
        });
      };
      /** What follows the meter: held with what may continue it, or delivered. */
      const metered = (message: RelayedMessage): void => {
        if (end || to.readyState !== WebSocket.OPEN) return;
        if (message.hold) {
          held.push(message);
          heldBytes += message.data.length;
          if (held.length > MAX_HELD_MESSAGES || heldBytes > MAX_HELD_BYTES) return refuseHeld();
          if (!holdTimer) awaitContinuation();
          return;
        }
        // This message did not continue what was held: all of it goes first, in order.
        const before = held.splice(0);
        dropHeld();
        for (const m of before) deliver(m);
        deliver(message);
      };
      // Messages waiting, in order, behind one whose bytes are being metered (meteredLater).
      let metering: Array<[RelayedMessage['kind'], Buffer]> | undefined;
      // Messages to the upstream waiting, in order, behind one being judged (hooks.judge).
      const judgeQueue: RelayedMessage[] = [];
      let judgeBytes = 0;
      // The agent's close frame, when it came while messages before it were still being judged:
      // it goes after them, as the agent sent it (it cut the statement a bridge was about to run).
      let closeWaiting: { run: () => void; timer: NodeJS.Timeout } | undefined;
      const afterJudged = (): void => {
        const waiting = closeWaiting;
        closeWaiting = undefined;
        if (waiting) clearTimeout(waiting.timer);
        waiting?.run();
      };
      const judgeNext = async (): Promise<void> => {
        while (judgeQueue.length && !end) {
          const m = judgeQueue[0]!;
          judgeBytes -= m.data.length;
          let refused: Rejection | undefined;
          try {
            const r = hooks.judge!(m);
            refused = r instanceof Promise ? await r : r;
          } catch (err) {
            refused = { status: 500, type: 'proxy-error', title: 'Internal proxy error', detail: `a message could not be judged: ${(err as Error).message}`.slice(0, 300), outcome: 'error' };
          }
          if (refused) {
            judgeQueue.length = 0;
            stop(refused);
            return afterJudged();
          }
          judgeQueue.shift();
          send(m);
        }
        judgeQueue.length = 0;
        judgeBytes = 0;
        afterJudged();
        if (paused && !end && !metering && to.bufferedAmount < HIGH_WATER / 2) {
          paused = false;
          from.resume();
        }
      };
      const deliver = (m: RelayedMessage): void => {
        if (end || to.readyState !== WebSocket.OPEN) return;
        const unread = dir !== 'upstream' ? observe(m) : undefined;
        if (unread) return stop(unread);
        if (!hooks.judge || dir !== 'upstream') return send(m);
        if (judgeQueue.length) {
          judgeQueue.push(m);
          judgeBytes += m.data.length;
          if (!paused && (judgeQueue.length > MAX_JUDGE_QUEUE || judgeBytes > MAX_JUDGE_BYTES)) {
            paused = true;
            from.pause();
          }
          return;
        }
        let r: ReturnType<NonNullable<RelayHooks['judge']>>;
        try {
          r = hooks.judge(m);
        } catch (err) {
          return stop({ status: 500, type: 'proxy-error', title: 'Internal proxy error', detail: `a message could not be judged: ${(err as Error).message}`.slice(0, 300), outcome: 'error' });
        }
        if (r === undefined) return send(m);
        if (!(r instanceof Promise)) return stop(r);
        // The first of a queue: judged again by judgeNext is wrong, so it waits on this answer.
        judgeQueue.push(m);
        void r.then((refused) => {
          if (refused) {
            judgeQueue.length = 0;
            stop(refused);
            return afterJudged();
          }
          judgeQueue.shift();
          send(m);
          void judgeNext();
        }, (err: Error) => {
          judgeQueue.length = 0;
          stop({ status: 500, type: 'proxy-error', title: 'Internal proxy error', detail: `a message could not be judged: ${err.message}`.slice(0, 300), outcome: 'error' });
          afterJudged();
        });
      };
      const send = ({ kind, data }: RelayedMessage): void => {
        if (end || to.readyState !== WebSocket.OPEN) return;
        counts.messages++;
        counts.payload_bytes += data.length;
        if (kind === 'text' || kind === 'binary') to.send(data, { binary: kind === 'binary' }, drained);
        else if (kind === 'ping') to.ping(data.subarray(0, 125), undefined, drained);
        else to.pong(data.subarray(0, 125), undefined, drained);
        if (!paused && to.bufferedAmount > HIGH_WATER) {
          paused = true;
          from.pause();
        }
      };
      from.on('message', (data: Buffer, isBinary: boolean) => {
        arrivals++;
        weigh();
        pass(isBinary ? 'binary' : 'text', data);
        weigh();
      });
      from.on('ping', (data: Buffer) => { arrivals++; pass('ping', data); });
      from.on('pong', (data: Buffer) => { arrivals++; pass('pong', data); });
      // The end of `from` (its close, or a frame that broke the protocol) waits for the messages
      // before it still being judged: they were valid and sent first. It waits for the judging, not
      // for a human: a statement held for approval when its agent has left is dropped (the
      // tunnel's end withdraws the hold), as a held request is.
      const afterJudging = (run: () => void): void => {
        if ((!judgeQueue.length && !metering) || end) return run();
        const before = closeWaiting;
        if (before) clearTimeout(before.timer);
        closeWaiting = { run: () => { before?.run(); run(); }, timer: setTimeout(afterJudged, CLOSE_AFTER_JUDGED_MS) };
      };
      from.on('error', (err: Error & { code?: string }) => {
        // `ws` closes `from` itself (1002/1007/1009); the other side is told why it ends.
        afterJudging(() => {
          if (end) return;
          end = { by: name, error: err.code ?? 'error', detail: err.message.slice(0, 200) };
          shut(to, dir === 'upstream' ? 1001 : 1014, dir === 'upstream' ? 'the agent broke the WebSocket protocol' : 'the upstream broke the WebSocket protocol');
        });
      });
      from.on('close', (code: number, reason: Buffer) => afterJudging(() => onClose(code, reason)));
      const onClose = (code: number, reason: Buffer): void => {
        // A close reason that completes what was held is refused by onMessage below; otherwise what
        // was held stays a secret's start that nothing ended: never relayed.
        if (!end && held.length) {
          const message: RelayedMessage = { to: dir, kind: 'close', data: reason };
          const refused = onMessage(message);
          if (refused) dropHeld();
          if (refused) stop(refused);
          else refuseHeld();
        } else if (held.length) {
          // Ended otherwise (the other side closed, Airlock stopped it) while a probe's start was held: it trips all the same.
          held[held.length - 1]!.probe?.();
        }
        if (!end) {
          end = { by: name, code };
          if (code === 1006) to.terminate();
          else {
            const message: RelayedMessage = { to: dir, kind: 'close', data: reason };
            const charged = onMessage(message)
              ?? (dir === 'upstream' && hooks.meter && sendable(code) ? hooks.meter(frameBytes(2 + Buffer.byteLength(message.data))) : undefined);
            // A close frame is small enough to be metered at once; one that is not leaves without
            // the agent's code and reason (the tunnel ends now, not after the store answered).
            const refused = charged instanceof Promise ? undefined : charged;
            if (charged instanceof Promise) {
              void charged.catch(() => undefined);
              shut(to, 1001, 'closed by the proxy');
            } else if (refused) {
              end = { by: 'airlock', rejection: refused, detail: refused.detail };
              shut(to, dir === 'upstream' ? 1001 : 1008, dir === 'upstream' ? 'closed by the proxy' : refused.title);
            } else if (sendable(code)) {
              shut(to, code, Buffer.byteLength(message.data) <= 123 ? message.data.toString('utf8') : '');
            } else {
              if (to.readyState === WebSocket.OPEN) to.close();
              else to.terminate();
            }
          }
        } else if (to.readyState === WebSocket.OPEN) {
          to.close(1001, 'closed by the proxy');
        }
        dropHeld();
        closed();
      };
    };
    side(agent, upstream, 'upstream');
    side(upstream, agent, 'agent');
    hooks.ended?.then(stop, () => undefined);
    upstream.resume();
  });
}
