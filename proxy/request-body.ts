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
export function captureBody(req: http.IncomingMessage, cap: number): Promise<CapturedBody> {
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

/** The whole body as it leaves: the captured prefix, then (when truncated) the rest straight from the agent. */
export async function* bodyChunks(req: http.IncomingMessage, body: CapturedBody): AsyncGenerator<Buffer> {
  if (body.captured.length) yield body.captured;
  // Not destroyed when the upload is cut short: the agent still gets the refusal on this connection.
  if (body.truncated) for await (const c of req.iterator({ destroyOnReturn: false })) yield c as Buffer;
}
