// The agent's request body: a prefix up to the capture cap is read before the request is described
// (the policy and a human approving it see those bytes); past the cap the request stays paused and
// the rest streams to the upstream only once the request is allowed.
import type http from 'node:http';

export interface CapturedBody {
  captured: Buffer;
  truncated: boolean;
}

export const noBody: CapturedBody = { captured: Buffer.alloc(0), truncated: false };

/** Reads the body up to the cap. Beyond the cap the request is left paused: the rest streams later. */
export function captureBody(req: http.IncomingMessage, cap: number, take?: (n: number) => void): Promise<CapturedBody> {
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
      // `take` counts the bytes held (the agents' crowd of captured bodies) and throws past the agent's part.
      try {
        take?.(c.length);
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
  // Not destroyed when the upload is cut short: the agent still gets the refusal on this connection.
  for await (const first of req.iterator({ destroyOnReturn: false })) {
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
