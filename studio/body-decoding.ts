// A held request's body as its server will read it: undone `Content-Encoding` (gzip, deflate, br,
// stacked), so a person approving it reads the content, not compressed bytes. Decoding is bounded
// (DECODED_CAP, a compression bomb is refused, not inflated) and off the main thread (zlib's async
// API). A body that cannot be decoded cannot be shown: approving it needs an explicit choice.
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { MAX_CONTENT_CODINGS } from '../describe/body.ts';
import type { HeldBody } from '../proxy/held-bodies.ts';

/** The most a decoded body may grow to before the studio refuses to show it. */
export const DECODED_CAP = 16 * 1024 * 1024;

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const inflateRaw = promisify(zlib.inflateRaw);
const brotli = promisify(zlib.brotliDecompress);

export type DecodedBody =
  | { ok: true; bytes: Buffer; codings: string[] }
  | { ok: false; error: string; codings: string[] };

/** The codings of a Content-Encoding header, in the order they were applied ("identity" dropped). */
export function codingsOf(header: string | string[] | undefined): string[] {
  const values = Array.isArray(header) ? header : header === undefined ? [] : [header];
  return values.flatMap((v) => v.split(',')).map((c) => c.trim().toLowerCase()).filter((c) => c && c !== 'identity');
}

async function undo(coding: string, bytes: Buffer): Promise<Buffer> {
  const opts = { maxOutputLength: DECODED_CAP };
  switch (coding) {
    case 'gzip':
    case 'x-gzip':
      return gunzip(bytes, opts);
    case 'deflate':
      // "deflate" is zlib-wrapped by the standard; some clients send it raw.
      return inflate(bytes, opts).catch(() => inflateRaw(bytes, opts));
    case 'br':
      return brotli(bytes, opts);
    default:
      throw new Error(`the studio cannot decode content-encoding "${coding}"`);
  }
}

const cache = new WeakMap<HeldBody, Promise<DecodedBody>>();

/** The held body decoded (once per held body; the result lives as long as the hold). */
export function decodeHeldBody(held: HeldBody, contentEncoding: string | string[] | undefined): Promise<DecodedBody> {
  let p = cache.get(held);
  if (!p) {
    p = (async (): Promise<DecodedBody> => {
      const codings = codingsOf(contentEncoding);
      if (!codings.length) return { ok: true, bytes: held.bytes, codings };
      if (held.truncated) return { ok: false, error: 'only the start of this encoded body was captured: it cannot be decoded', codings };
      // As the describe step: each layer costs a pool thread its whole size (stored-block gzip
      // shrinks nothing), and 2,800 layers of a 970 KB body took one 4 s, shared by the audit
      // log's writes and every DNS lookup.
      if (codings.length > MAX_CONTENT_CODINGS) return { ok: false, error: `the body is sent under ${codings.length} stacked content codings; at most ${MAX_CONTENT_CODINGS} are decoded`, codings };
      let bytes = held.bytes;
      try {
        for (const c of [...codings].reverse()) bytes = await undo(c, bytes);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        const why = e.code === 'ERR_BUFFER_TOO_LARGE' || /maxOutputLength|Cannot create a Buffer larger/.test(e.message) ? `it decodes to more than ${DECODED_CAP / 1024 / 1024} MiB` : e.message;
        return { ok: false, error: `the ${codings.join(', ')} body cannot be decoded: ${why}`, codings };
      }
      return { ok: true, bytes, codings };
    })();
    cache.set(held, p);
  }
  return p;
}
