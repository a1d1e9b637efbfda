// WebSocket parts for the attack suite: a real `ws` upstream that records what it received
// (messages, pings, protocol errors, close codes, every raw byte), a raw upstream that answers
// the handshake however a test wants (hostile 101s, raw HTTP behind a 101, hand-built frames),
// and a frame encoder/decoder for agents that send bytes no real client would. The decoder and
// the validity oracle are the test's own reading of RFC 6455, independent of the proxy's code.
import crypto from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { HttpProxyAgent } from 'http-proxy-agent';
import { WebSocket, WebSocketServer } from 'ws';
import { MysqlReader } from '../../describe/tunnel-mysql.ts';
import type { CertificateAuthority } from '../../proxy/ca.ts';
import type { Teardown } from './helpers.ts';

export const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
export const acceptFor = (key: string): string => crypto.createHash('sha1').update(key + GUID).digest('base64');
export const newKey = (): string => crypto.randomBytes(16).toString('base64');

// ─── a real `ws` upstream ───────────────────────────────────────────────────────────────────────

/** One connection the upstream accepted: what its `ws` parsed, in order. */
export interface WsConn {
  url: string;
  headers: http.IncomingHttpHeaders;
  messages: Array<{ data: Buffer; binary: boolean }>;
  pings: Buffer[];
  /** Protocol errors `ws` raised on the server side (must stay empty: Airlock only sends valid framing). */
  errors: string[];
  close?: { code: number; reason: string };
  ws: WebSocket;
}

export interface WsUpstream {
  port: number;
  conns: WsConn[];
  /** The connection whose request path is `path` (undefined: none arrived). */
  conn(path: string): WsConn | undefined;
  /** Every raw byte received on any connection (handshakes and frames, masked as they arrive). */
  bytes(): string;
}

export interface WsUpstreamOptions {
  tlsCa?: CertificateAuthority;
  perMessageDeflate?: boolean;
  /** Chooses the subprotocol (default: none). */
  handleProtocols?: (protocols: Set<string>) => string | false;
  /** Extra 101 headers. */
  headers?: (req: http.IncomingMessage) => string[];
  /** Called for each connection after the recording listeners are attached. */
  onConnection?: (ws: WebSocket, req: http.IncomingMessage) => void;
}

export async function startWsUpstream(t: Teardown, opts: WsUpstreamOptions = {}): Promise<WsUpstream> {
  const chunks: Buffer[] = [];
  const conns: WsConn[] = [];
  const up: WsUpstream = { port: 0, conns, conn: (p) => conns.find((c) => c.url === p), bytes: () => Buffer.concat(chunks).toString('latin1') };
  let server: http.Server;
  if (opts.tlsCa) {
    const ca = opts.tlsCa;
    server = https.createServer({
      SNICallback: (name, cb) => void ca.contextFor(name).then((c) => cb(null, c), (e: Error) => cb(e)),
      secureContext: await ca.contextFor('127.0.0.1'),
    } as https.ServerOptions);
    server.on('secureConnection', (s: net.Socket) => s.on('data', (c: Buffer) => chunks.push(c)));
  } else {
    server = http.createServer();
    server.on('connection', (s: net.Socket) => s.on('data', (c: Buffer) => chunks.push(c)));
  }
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const wss = new WebSocketServer({
    server, perMessageDeflate: opts.perMessageDeflate ?? false,
    handleProtocols: opts.handleProtocols ?? (() => false),
  });
  if (opts.headers) wss.on('headers', (lines: string[], req: http.IncomingMessage) => lines.push(...opts.headers!(req)));
  wss.on('connection', (ws, req) => {
    const c: WsConn = { url: req.url ?? '', headers: req.headers, messages: [], pings: [], errors: [], ws };
    conns.push(c);
    ws.on('message', (data: Buffer, binary: boolean) => c.messages.push({ data: Buffer.from(data), binary }));
    ws.on('ping', (d: Buffer) => c.pings.push(Buffer.from(d)));
    ws.on('error', (e: Error & { code?: string }) => c.errors.push(e.code ?? e.message));
    ws.on('close', (code: number, reason: Buffer) => { c.close = { code, reason: reason.toString() }; });
    opts.onConnection?.(ws, req);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  up.port = (server.address() as net.AddressInfo).port;
  t.teardown(() => new Promise<void>((resolve) => {
    for (const c of wss.clients) c.terminate();
    for (const s of sockets) s.destroy();
    wss.close();
    server.close(() => resolve());
  }));
  return up;
}

// ─── a raw upstream that answers the handshake as told ───────────────────────────────────────

export interface RawUpstream {
  port: number;
  /** One entry per connection: the handshake head, every byte after it, whether it was closed. */
  conns: Array<{ head: string; after: Buffer[]; closed: boolean }>;
}

/**
 * `answer` gets the handshake request (head text and its headers) and returns what to write back;
 * the connection then stays open, recording every further byte, until the peer closes it or sends
 * a close frame.
 */
export async function startRawUpstream(t: Teardown, answer: (head: string, headers: Record<string, string>) => Buffer | string): Promise<RawUpstream> {
  const up: RawUpstream = { port: 0, conns: [] };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    const conn = { head: '', after: [] as Buffer[], closed: false };
    up.conns.push(conn);
    let buf = Buffer.alloc(0);
    let answered = false;
    s.on('data', (c: Buffer) => {
      if (answered) {
        conn.after.push(c);
        // As a server does after the closing handshake: a close frame from the client ends the connection.
        if (c[0] === 0x88) s.end();
        return;
      }
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      answered = true;
      conn.head = buf.subarray(0, end).toString('latin1');
      if (buf.length > end + 4) conn.after.push(buf.subarray(end + 4));
      const headers: Record<string, string> = {};
      for (const line of conn.head.split('\r\n').slice(1)) {
        const i = line.indexOf(':');
        headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      s.write(answer(conn.head, headers));
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      conn.closed = true;
      sockets.delete(s);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  up.port = (server.address() as net.AddressInfo).port;
  t.teardown(() => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  }));
  return up;
}

// ─── frames ─────────────────────────────────────────────────────────────────────────────────────

export interface FrameSpec {
  fin: boolean;
  /** RSV1-3 as a 3-bit number. */
  rsv: number;
  opcode: number;
  /** Masking key; undefined = unmasked. */
  mask?: Buffer;
  payload: Buffer;
}

export function encodeFrame(f: FrameSpec): Buffer {
  const len = f.payload.length;
  const head: number[] = [(f.fin ? 0x80 : 0) | ((f.rsv & 7) << 4) | (f.opcode & 0x0f)];
  const m = f.mask ? 0x80 : 0;
  if (len < 126) head.push(m | len);
  else if (len < 65536) head.push(m | 126, len >> 8, len & 0xff);
  else {
    head.push(m | 127, 0, 0, 0, 0);
    head.push((len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff);
  }
  const payload = f.mask ? Buffer.from(f.payload.map((b, i) => b ^ f.mask![i % 4]!)) : f.payload;
  return Buffer.concat([Buffer.from(head), ...(f.mask ? [f.mask] : []), payload]);
}

export interface DecodedFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

/** Decodes complete frames from the start of `buf`; returns them and the unparsed rest. */
export function decodeFrames(buf: Buffer): { frames: DecodedFrame[]; rest: Buffer } {
  const frames: DecodedFrame[] = [];
  let p = 0;
  for (;;) {
    if (buf.length - p < 2) break;
    const b0 = buf[p]!;
    const b1 = buf[p + 1]!;
    let len = b1 & 0x7f;
    let q = p + 2;
    if (len === 126) {
      if (buf.length < q + 2) break;
      len = buf.readUInt16BE(q);
      q += 2;
    } else if (len === 127) {
      if (buf.length < q + 8) break;
      len = Number(buf.readBigUInt64BE(q));
      q += 8;
    }
    const masked = (b1 & 0x80) !== 0;
    const mask = masked ? buf.subarray(q, q + 4) : undefined;
    if (masked) q += 4;
    if (buf.length < q + len) break;
    let payload = Buffer.from(buf.subarray(q, q + len));
    if (mask) payload = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
    frames.push({ fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0x0f, masked, payload });
    p = q + len;
  }
  return { frames, rest: buf.subarray(p) };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
function validUtf8(b: Buffer): boolean {
  try {
    utf8.decode(b);
    return true;
  } catch {
    return false;
  }
}

function validCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && ![1004, 1005, 1006].includes(code)) || (code >= 3000 && code <= 4999);
}

export interface OracleResult {
  /** Data messages completed before the first invalid frame, in order. */
  messages: Array<{ data: Buffer; binary: boolean }>;
  /** Ping payloads before the first invalid frame. */
  pings: Buffer[];
  /** Index of the first invalid frame, or -1 when every frame is valid. */
  invalidAt: number;
  /** Index of a valid close frame (the end of the conversation), or -1. */
  closeAt: number;
}

/**
 * RFC 6455 §5 for a sequence of frames from one side, with no extension negotiated: what a
 * correct receiver accepts, and where it must give up. `masked`: the direction's masking rule
 * (client-to-server frames must be masked, server-to-client frames must not).
 */
export function oracle(frames: FrameSpec[], masked: boolean, maxMessage = 16 * 1024 * 1024): OracleResult {
  const out: OracleResult = { messages: [], pings: [], invalidAt: -1, closeAt: -1 };
  let open: { opcode: number; parts: Buffer[] } | undefined;
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i]!;
    const bad = (): OracleResult => ({ ...out, invalidAt: i });
    if (f.rsv !== 0 || (f.mask !== undefined) !== masked) return bad();
    if ([3, 4, 5, 6, 7, 11, 12, 13, 14, 15].includes(f.opcode)) return bad();
    if (f.opcode >= 8) {
      if (!f.fin || f.payload.length > 125) return bad();
      if (f.opcode === 8) {
        if (f.payload.length === 1) return bad();
        if (f.payload.length >= 2 && (!validCloseCode(f.payload.readUInt16BE(0)) || !validUtf8(f.payload.subarray(2)))) return bad();
        out.closeAt = i;
        return out;
      }
      if (f.opcode === 9) out.pings.push(f.payload);
      continue;
    }
    if (f.opcode === 0 && !open) return bad();
    if (f.opcode !== 0 && open) return bad();
    if (f.opcode !== 0) open = { opcode: f.opcode, parts: [] };
    open!.parts.push(f.payload);
    if (open!.parts.reduce((n, p) => n + p.length, 0) > maxMessage) return bad();
    if (f.fin) {
      const data = Buffer.concat(open!.parts);
      if (open!.opcode === 1 && !validUtf8(data)) return bad();
      out.messages.push({ data, binary: open!.opcode === 2 });
      open = undefined;
    }
  }
  return out;
}

// ─── a raw agent ────────────────────────────────────────────────────────────────────────────────

/** A WebSocket handshake request as bytes (absolute-form target for the forward proxy, or a path in a tunnel). */
export function handshake(target: string, host: string, headers: Record<string, string> = {}, key = newKey()): string {
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n${extra}\r\n`;
}

export interface RawAgent {
  /** The response head (status 0 when the connection closed first). */
  response: Promise<{ status: number; headers: Record<string, string>; head: string }>;
  /** Frames received after a 101 so far. */
  frames(): DecodedFrame[];
  /** Everything received, latin1. */
  text(): string;
  /** Resolves true when the peer closed the connection, false after `ms` without that. */
  closed(ms?: number): Promise<boolean>;
  send(data: Buffer | string): void;
  destroy(): void;
}

/** Sends `request` on `socket` and reads the answer: a response head, then (after a 101) frames. */
export function rawAgent(socket: net.Socket, request: Buffer | string): RawAgent {
  const chunks: Buffer[] = [];
  let isClosed = false;
  const closeWaiters: Array<() => void> = [];
  let resolveHead!: (h: { status: number; headers: Record<string, string>; head: string }) => void;
  const response = new Promise<{ status: number; headers: Record<string, string>; head: string }>((r) => { resolveHead = r; });
  let headEnd = -1;
  let answeredClose = false;
  socket.on('data', (c: Buffer) => {
    chunks.push(c);
    const all = Buffer.concat(chunks);
    if (headEnd < 0) {
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) return;
      headEnd = end + 4;
      const head = all.subarray(0, end).toString('latin1');
      const headers: Record<string, string> = {};
      for (const line of head.split('\r\n').slice(1)) {
        const i = line.indexOf(':');
        headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      resolveHead({ status: Number(head.split(' ')[1]), headers, head });
    }
    // As a client does: a close frame from the server is answered with one (then the server hangs up).
    if (!answeredClose && decodeFrames(all.subarray(headEnd)).frames.some((f) => f.opcode === 8)) {
      answeredClose = true;
      if (!socket.destroyed) socket.write(encodeFrame({ fin: true, rsv: 0, opcode: 8, mask: crypto.randomBytes(4), payload: Buffer.alloc(0) }));
    }
  });
  const onClose = (): void => {
    isClosed = true;
    resolveHead({ status: 0, headers: {}, head: '' });
    for (const w of closeWaiters.splice(0)) w();
  };
  socket.on('close', onClose);
  socket.on('error', () => undefined);
  if (socket.connecting) socket.once('connect', () => socket.write(request));
  else socket.write(request);
  return {
    response,
    frames: () => (headEnd < 0 ? [] : decodeFrames(Buffer.concat(chunks).subarray(headEnd)).frames),
    text: () => Buffer.concat(chunks).toString('latin1'),
    closed: (ms = 3000) => isClosed ? Promise.resolve(true) : new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      closeWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    }),
    send: (data) => { if (!socket.destroyed) socket.write(data); },
    destroy: () => socket.destroy(),
  };
}

/** The close code of the first close frame among `frames` (undefined when there is none). */
export function closeCode(frames: DecodedFrame[]): number | undefined {
  const c = frames.find((f) => f.opcode === 8);
  return c ? (c.payload.length >= 2 ? c.payload.readUInt16BE(0) : 1005) : undefined;
}

/**
 * A client of a database bridge through the proxy: each binary message sent after the bridge's
 * answer to the one before, then a close. How the tunnel ended, and what the bridge got (its
 * messages joined, as `encoding` text).
 */
export function bridgeSession(bridge: WsUpstream, proxyUrl: string, host: string, msgs: Buffer[], encoding: BufferEncoding): Promise<{ code: number; got: string }> {
  return new Promise((resolve, reject) => {
    const before = bridge.conns.length;
    const ws = new WebSocket(`ws://${host}:${bridge.port}/`, [], { agent: new HttpProxyAgent(proxyUrl), perMessageDeflate: false });
    let sent = 0;
    const next = (): void => { if (sent < msgs.length) ws.send(msgs[sent++]!, { binary: true }); else ws.close(1000); };
    ws.on('open', next);
    ws.on('message', next);
    ws.on('close', (code) => resolve({ code, got: Buffer.concat(bridge.conns[before]?.messages.map((m) => m.data) ?? []).toString(encoding) }));
    ws.on('error', reject);
    setTimeout(() => ws.terminate(), 8000).unref();
  });
}

/** What a MySQL reader refuses in `msgs`, in process, and the statements it found before that. */
export function readMysql(msgs: Buffer[]): { refused?: string; sql: string[] } {
  const reader = new MysqlReader();
  const sql: string[] = [];
  for (const m of msgs) {
    const r = reader.read(m);
    sql.push(...r.statements.map((st) => String(st.body.sql)));
    if (r.refused) return { refused: r.refused, sql };
  }
  return { sql };
}
