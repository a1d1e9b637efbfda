// The bytes of a byte-stream protocol that a tunnel reader has not read whole yet (Redis's,
// MongoDB's), kept across the tunnel's messages.
import { appendBytes } from '../lib/arrays.ts';

export class StreamBuffer {
  protected buf: Buffer = Buffer.alloc(0);

  /** Bytes kept of what is not yet whole. */
  get holding(): number {
    return this.buf.length;
  }

  /** `data` after what is kept (no copy while nothing is; amortized linear over a message's reads). */
  protected append(data: Buffer): void {
    this.buf = appendBytes(this.buf, data);
  }
}
