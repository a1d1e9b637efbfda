// The agent's request body: a prefix up to the capture cap is read before the request is described
// (the policy and a human approving it see those bytes); past the cap the request stays paused and
// the rest streams to the upstream only once the request is allowed.
import type http from 'node:http';
import type { Capture } from './agent-gate.ts';
import { StreamStop } from './enforcers.ts';
import { refusals } from './refusals.ts';

export interface CapturedBody {
  captured: Buffer;
  truncated: boolean;
}

/**
 * Node's parser hands over each chunk of a chunked body on its own (a Buffer, a push, a `data`
 * event), main-thread work of a couple of microseconds whatever its size: a 1 MiB body sent as
 * 1-byte chunks (6 MiB on the wire) was a million of them, and one agent's uploads so made a
 * neighbour's GET take 3–9 s (twenty-second pass; the same bodies in large chunks: ~0.1 s). A body
 * may come in small pieces (a generator yielding lines, a log shipper), not in pieces of a few
 * bytes: past FREE_PIECES, a body whose pieces average under MIN_PIECE_BYTES is refused (400, the
 * connection closed), before it is read further.
 */
export const FREE_PIECES = 4096;
export const MIN_PIECE_BYTES = 16;

const pieceCounts = new WeakMap<http.IncomingMessage, PieceCount>();

/**
 * Counts the pieces the parser pushes into a request's stream. Once too many, the stream takes no
 * more (the parser stops reading the socket after the read at hand) and whoever reads the body is
 * told, or finds `over` set when it starts.
 */
export class PieceCount {
  private pieces = 0;
  private bytes = 0;
  /** Why the body is refused, once it came in too many pieces. */
  over: string | undefined;
  /** Told once when the body is refused while its prefix is read (captureBody). */
  refuse: ((why: string) => void) | undefined;
  /** The rest streams to the upstream (bodyChunks): pieces still pass, and the stream checks `over` at each. */
  streaming = false;

  private constructor() {}

  /** req's count, started on first use (the listener starts it as the request arrives). */
  static of(req: http.IncomingMessage): PieceCount {
    let count = pieceCounts.get(req);
    if (count) return count;
    count = new PieceCount();
    pieceCounts.set(req, count);
    const push = req.push.bind(req);
    const c = count;
    req.push = (chunk: unknown, encoding?: BufferEncoding): boolean => {
      if (chunk === null) return push(null, encoding);
      if (c.over === undefined) c.add((chunk as Buffer).length);
      if (c.over === undefined || c.streaming) return push(chunk, encoding);
      // Refused: the rest is dropped, and false stops the socket after the read at hand.
      c.refuse?.(c.over);
      c.refuse = undefined;
      return false;
    };
    return count;
  }

  private add(n: number): void {
    this.pieces++;
    this.bytes += n;
    if (this.pieces <= FREE_PIECES + this.bytes / MIN_PIECE_BYTES) return;
    this.over = `the body came in more than ${this.pieces - 1} pieces for ${this.bytes} bytes (the chunks of a chunked body); past ${FREE_PIECES} pieces Airlock reads ${MIN_PIECE_BYTES} bytes a piece or more on average: send larger chunks`;
  }

  /** The refusal of a body in too many pieces (the connection closes: the rest is not read). */
  static refusal(why: string): StreamStop {
    return new StreamStop(refusals.closing(refusals.bad(why)));
  }
}

export const noBody: CapturedBody = { captured: Buffer.alloc(0), truncated: false };

/** Reads the body up to the cap. Beyond the cap the request is left paused: the rest streams later. */
export function captureBody(req: http.IncomingMessage, cap: number, capture?: Pick<Capture, 'take' | 'onCut'>): Promise<CapturedBody> {
  const cl = req.headers['content-length'];
  // Not `req.complete`: the parser may have read the whole message while its body still sits unread
  // in the stream buffer (a small POST arriving in one packet).
  if ((cl === undefined && req.headers['transfer-encoding'] === undefined) || cl === '0') {
    return Promise.resolve({ captured: Buffer.alloc(0), truncated: false });
  }
  const pieces = PieceCount.of(req);
  if (pieces.over !== undefined) return Promise.reject(PieceCount.refusal(pieces.over));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      pieces.refuse = undefined;
      if (capture) capture.onCut = undefined;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (c: Buffer): void => {
      // `take` counts the bytes held (the agents' crowd of captured bodies) and throws past the agent's part.
      try {
        capture?.take(c.length);
      } catch (err) {
        req.pause();
        cleanup();
        reject(err as Error);
        return;
      }
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
    pieces.refuse = (why) => {
      req.pause();
      cleanup();
      reject(PieceCount.refusal(why));
    };
    // A neighbour within its fair part needed the room this body holds (proxy/agent-gate.ts `makeRoom`).
    if (capture) {
      capture.onCut = (err) => {
        req.pause();
        cleanup();
        reject(err);
      };
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/**
 * Small pieces of the agent's upload leave together, up to this size. Node's parser hands over each
 * chunk of a chunked body on its own, and the forwarding runs after each before the next is parsed:
 * an upload of 1-byte chunks (6 bytes each on the wire) left as as many chunks of its own, each a
 * write to the upstream with its own framing and a charge to the meter, which held the event loop
 * ~1 s at a time and a neighbour's request 2-4 s. A small piece waits for the rest of the read it
 * came in (one turn of the event loop), and what arrived meanwhile leaves with it.
 */
export const COALESCE_BYTES = 64 * 1024;

/** The whole body as it leaves: the captured prefix, then (when truncated) the rest straight from the agent. */
export async function* bodyChunks(req: http.IncomingMessage, body: CapturedBody): AsyncGenerator<Buffer> {
  if (body.captured.length) yield body.captured;
  if (!body.truncated) return;
  const pieces = PieceCount.of(req);
  pieces.streaming = true;
  // Not destroyed when the upload is cut short: the agent still gets the refusal on this connection.
  for await (const first of req.iterator({ destroyOnReturn: false })) {
    if (pieces.over !== undefined) throw PieceCount.refusal(pieces.over);
    let chunk = first as Buffer;
    if (chunk.length < COALESCE_BYTES) {
      await new Promise((resolve) => setImmediate(resolve));
      const parts = [chunk];
      let size = chunk.length;
      let more: Buffer | null;
      while (size < COALESCE_BYTES && (more = req.read() as Buffer | null) !== null) {
        parts.push(more);
        size += more.length;
      }
      if (parts.length > 1) chunk = Buffer.concat(parts, size);
    }
    yield chunk;
  }
}
