// The agent's half of a WebSocket opening handshake (RFC 6455 §4.1), checked before anything is
// decided or dialed: an upgrade that is not a well-formed WebSocket request never reaches an
// upstream, so "Upgrade" cannot be used to open some other kind of tunnel. The header grammars
// (subprotocol tokens, extension offers) are parsed with `ws`'s own parsers, the same code that
// later answers the agent, so nothing accepted here is refused there.
import type http from 'node:http';
import * as wsModule from 'ws';

/** `ws` exports its header parsers at run time; @types/ws does not declare them. */
const { extension, subprotocol, PerMessageDeflate } = wsModule as unknown as {
  extension: { parse(header: string): Record<string, Array<Record<string, Array<string | true>>>> };
  subprotocol: { parse(header: string): Set<string> };
  PerMessageDeflate: new (options: { isServer: boolean }) => { accept(offers: Array<Record<string, Array<string | true>>>): unknown };
};

export interface AgentHandshake {
  /** Subprotocols the agent offered, in its order (forwarded to the upstream as offered). */
  protocols: string[];
  /** The agent offered permessage-deflate, so Airlock offers it to the upstream too. */
  deflate: boolean;
}

export interface HandshakeProblem {
  detail: string;
  /** Extra response headers (Sec-WebSocket-Version for a version Airlock does not speak). */
  headers?: Record<string, string>;
}

/** base64 of exactly 16 bytes (RFC 6455 §4.1: the nonce). */
const KEY = /^[+/0-9A-Za-z]{22}==$/;

function count(raw: string[], name: string): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) n++;
  return n;
}

function tokens(value: string | undefined): string[] {
  return (value ?? '').split(',').map((t) => t.trim().toLowerCase()).filter(Boolean);
}

/** The offer, or why this upgrade request is not a WebSocket handshake Airlock will relay. */
export function checkAgentHandshake(req: Pick<http.IncomingMessage, 'method' | 'httpVersion' | 'headers' | 'rawHeaders'>): AgentHandshake | HandshakeProblem {
  const h = req.headers;
  if (req.method !== 'GET') return { detail: `a WebSocket handshake is a GET request, not ${String(req.method).slice(0, 20)}` };
  if (req.httpVersion !== '1.1') return { detail: 'a WebSocket handshake needs HTTP/1.1' };
  if (count(req.rawHeaders, 'upgrade') !== 1 || tokens(h.upgrade).join(',') !== 'websocket') {
    return { detail: `Upgrade: ${String(h.upgrade ?? '').slice(0, 40)} is not supported through Airlock: only "Upgrade: websocket" (h2c is never forwarded)` };
  }
  if (!tokens(h.connection).includes('upgrade')) return { detail: 'a WebSocket handshake needs "Connection: Upgrade"' };
  if (count(req.rawHeaders, 'sec-websocket-version') !== 1 || h['sec-websocket-version']!.trim() !== '13') {
    return { detail: 'Sec-WebSocket-Version must be 13', headers: { 'sec-websocket-version': '13' } };
  }
  const key = h['sec-websocket-key'];
  if (count(req.rawHeaders, 'sec-websocket-key') !== 1 || key === undefined || !KEY.test(key.trim())) {
    return { detail: 'Sec-WebSocket-Key must be one base64-encoded 16-byte nonce' };
  }
  if (h['transfer-encoding'] !== undefined || (h['content-length'] !== undefined && h['content-length'].trim() !== '0')) {
    return { detail: 'a WebSocket handshake carries no body' };
  }
  let protocols: string[] = [];
  if (h['sec-websocket-protocol'] !== undefined) {
    try {
      protocols = [...subprotocol.parse(h['sec-websocket-protocol'])];
    } catch {
      return { detail: 'Sec-WebSocket-Protocol must be a list of distinct tokens' };
    }
  }
  let deflate = false;
  if (h['sec-websocket-extensions'] !== undefined) {
    try {
      const offers = extension.parse(h['sec-websocket-extensions']);
      const pmd = offers['permessage-deflate'];
      // The same acceptance the agent-side server runs: an offer it would refuse is refused now.
      if (pmd) new PerMessageDeflate({ isServer: true }).accept(pmd);
      deflate = !!pmd;
    } catch {
      return { detail: 'Sec-WebSocket-Extensions is malformed or offers unacceptable permessage-deflate parameters' };
    }
  }
  return { protocols, deflate };
}

export function isHandshakeProblem(v: AgentHandshake | HandshakeProblem): v is HandshakeProblem {
  return 'detail' in v;
}
