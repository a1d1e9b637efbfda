// Response scrubbing: every secret injected at a host is searched for in what comes back from it
// — headers and body, in every spelling of proxy/spellings.ts — and replaced by its placeholder,
// so an upstream that echoes a credential (an error page, a debug endpoint, a log of request
// headers) never hands the real value to the agent. The matching itself is proxy/scrubber.ts;
// what cannot be scrubbed (ranges, unreadable charsets) is refused by proxy/scrubbable.ts.
//
// The body is scrubbed as a stream. A secret split across chunks is still caught: the scrubber
// holds back only the shortest tail that could still be the start of a spelling, so ordinary
// streaming (SSE, long polls) is not delayed beyond that. Compressed bodies are decompressed,
// scrubbed and passed on uncompressed (Content-Encoding and Content-Length removed).
//
// The secrets to look for may grow while a body streams (a long poll, server-sent events, a
// download): a credential injected into the same host meanwhile is looked for from the next chunk
// on, since the service may record it and push it down this very stream.
import { Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { ForbiddenContentError, Scrubber } from './scrubber.ts';
import { BodySniffer, UnscrubbableEncodingError, checkHeaderCharsets, checkScrubbable } from './scrubbable.ts';

export { ForbiddenContentError, Scrubber, scrubForms, type MatchRule, type ScrubSecret } from './scrubber.ts';
export { UnscrubbableEncodingError } from './scrubbable.ts';


/** A scrubber, or where to ask for the current one (its secrets may grow while a body streams). */
export type ScrubberSource = Scrubber | (() => Scrubber);

/**
 * Scrubs a body chunk by chunk: each chunk's safe part comes out at once, the tail that could be
 * the start of a secret is held back for the next chunk. Shared by both scrubbing streams.
 */
export class ChunkScrubber {
  private rest = '';
  /** Whether every secret was ASCII when the head was checked (a charset was accepted on that ground). */
  private readonly asciiAtHead: boolean;

  /** `sniff`: looks at the start of the body first and refuses what cannot be scrubbed. */
  constructor(private readonly source: ScrubberSource, private readonly sniff?: BodySniffer) {
    this.asciiAtHead = this.scrubber.asciiOnly;
  }

  /** The scrubber for the next chunk: the current one when the source is live. */
  private get scrubber(): Scrubber {
    if (typeof this.source !== 'function') return this.source;
    const s = this.source();
    // A non-ASCII secret injected meanwhile may be spelled differently in a charset accepted for ASCII ones.
    if (this.asciiAtHead && !s.asciiOnly) throw new UnscrubbableEncodingError('a secret with non-ASCII characters was injected while this response streamed; the rest was withheld');
    return s;
  }

  /** The scrubbed bytes that can leave now (none when all of the chunk is held back). */
  feed(chunk: Buffer): Buffer | undefined {
    let input: Buffer | undefined = chunk;
    if (this.sniff) input = this.sniff.feed(chunk);
    if (!input) return undefined;
    const { out, rest } = this.scrubber.scrubPartial(this.rest + input.toString('latin1'));
    this.rest = rest;
    return out ? Buffer.from(out, 'latin1') : undefined;
  }

  /** The held-back tail, scrubbed, at the end of the body. */
  end(): Buffer | undefined {
    const sniffed = this.sniff?.end();
    const tail = this.rest + (sniffed ? sniffed.toString('latin1') : '');
    this.rest = '';
    return tail ? Buffer.from(this.scrubber.scrubString(tail), 'latin1') : undefined;
  }
}

/** What the scrubber refuses (an overlong escape) is content it cannot scrub. */
function unscrubbable(err: unknown): unknown {
  return err instanceof ForbiddenContentError ? new UnscrubbableEncodingError(err.message) : err;
}

/** Pushes what a scrubbing step lets out; returns the step's error instead of throwing it. */
function pushScrubbed(stream: Transform, step: () => Buffer | undefined): Error | undefined {
  try {
    const out = step();
    if (out) stream.push(out);
    return undefined;
  } catch (err) {
    // A forbidden find stays a ForbiddenContentError: the request guard makes it a refusal; in a
    // response body it is withheld like any stage's error (proxy/upstream.ts).
    return err as Error;
  }
}

/** A whole text (a header value, a WebSocket message) scrubbed; what cannot be is an UnscrubbableEncodingError. */
export function scrubText(scrubber: Scrubber, text: string): string {
  try {
    return scrubber.scrubString(text);
  } catch (err) {
    throw unscrubbable(err);
  }
}

/** A streaming body scrubber: bytes in, bytes out, secrets replaced even across chunk boundaries. */
export class ScrubStream extends Transform {
  private readonly chunks: ChunkScrubber;
  /**
   * The chunks of one burst, scrubbed together once it is over (a microtask later): Node's HTTP
   * parser hands over every chunk of a socket read at once, and an upstream answering in 1-byte
   * chunks made each byte a scrub of its own (~5 µs a byte: 300 KB held the event loop 100 ms a
   * read and cost 1.5 s of CPU). At most one read's worth waits.
   */
  private burst: Buffer[] | undefined;

  constructor(scrubber: ScrubberSource, sniff?: BodySniffer) {
    super();
    this.chunks = new ChunkScrubber(scrubber, sniff);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (!this.burst) {
      this.burst = [];
      queueMicrotask(() => {
        const err = this.scrubBurst();
        if (err) this.destroy(this.streamError(err));
      });
    }
    this.burst.push(chunk);
    cb();
  }

  /** What a scrubbing error is to this stream's reader (a subclass may make it a refusal). */
  protected streamError(err: Error): Error {
    return err;
  }

  private scrubBurst(): Error | undefined {
    const burst = this.burst;
    this.burst = undefined;
    if (!burst || this.destroyed) return undefined;
    return pushScrubbed(this, () => this.chunks.feed(burst.length === 1 ? burst[0]! : Buffer.concat(burst)));
  }

  override _flush(cb: TransformCallback): void {
    const err = this.scrubBurst();
    cb(err ?? pushScrubbed(this, () => this.chunks.end()));
  }
}

/** Raw or zlib-wrapped deflate, decided on the first byte (servers send both as "deflate"). */
/**
 * Runs `then` once `stream` has ended, also when it ended already: a decoder ends at the end of its
 * compressed stream, which may come before its input does (bytes after a deflate or brotli stream
 * are dropped), and a listener added after 'end' would wait forever (the answer hung, unaudited).
 */
function whenEnded(stream: Transform, then: () => void): void {
  if (stream.readableEnded) then();
  else stream.once('end', then);
}

class AnyInflate extends Transform {
  private inner: zlib.Inflate | zlib.InflateRaw | undefined;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (!this.inner) {
      // zlib header: CM=8 in the low nibble and a header checksum divisible by 31.
      const zlibWrapped = chunk.length >= 2 && (chunk[0]! & 0x0f) === 8 && ((chunk[0]! << 8) | chunk[1]!) % 31 === 0;
      this.inner = zlibWrapped ? zlib.createInflate() : zlib.createInflateRaw();
      this.inner.on('data', (d: Buffer) => this.push(d));
      this.inner.on('error', (err) => this.destroy(err));
    }
    this.inner.write(chunk, cb);
  }

  override _flush(cb: TransformCallback): void {
    if (!this.inner) return cb();
    whenEnded(this.inner, () => cb());
    this.inner.end();
  }
}

/** Thrown into the response stream when a decoded body passes the inflate limits: the rest is withheld. */
export class DecompressionLimitError extends Error {}

/**
 * Caps on decoding a compressed response Airlock must scrub. A compressed body can expand ~1000×
 * per gzip layer (a million-fold with `gzip, gzip`), so the decoded size and the expansion ratio
 * are capped; past either the stream is cut and the reason audited (the head is already sent).
 */
export interface InflateLimits {
  /** Decoded bytes of one response body. */
  maxBytes: number;
  /** Decoded bytes per compressed byte, checked once `ratioAfterBytes` have been decoded. */
  maxRatio: number;
  ratioAfterBytes: number;
  /** Stacked content codings (`gzip, gzip` is two); more is refused as unscrubbable. */
  maxCodings: number;
}

export const defaultInflateLimits: InflateLimits = {
  maxBytes: 256 * 1024 * 1024,
  maxRatio: 200,
  ratioAfterBytes: 1024 * 1024,
  maxCodings: 3,
};

type ZstdFactory = () => Transform;
/** zstd decoding exists from Node 22.15/23.8; on older Node a zstd body is unscrubbable (502). */
const createZstd = (zlib as unknown as { createZstdDecompress?: ZstdFactory }).createZstdDecompress;

function decoderFor(coding: string): Transform | undefined {
  switch (coding) {
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip();
    case 'deflate':
      return new AnyInflate();
    case 'br':
      return zlib.createBrotliDecompress();
    case 'zstd':
      if (createZstd) return createZstd();
      throw new UnscrubbableEncodingError('cannot scrub a response with content-encoding "zstd" (this Node.js has no zstd decoder)');
    case 'identity':
      return undefined;
    default:
      throw new UnscrubbableEncodingError(`cannot scrub a response with content-encoding "${coding}"`);
  }
}

const MiB = 1024 * 1024;

/**
 * Decoders (in order) feeding a scrubber; one Transform so the proxy pipes a single stage.
 * Backpressure runs end to end: when the agent reads slowly this stream's buffer fills, the last
 * decoder is paused, zlib stops inflating mid-chunk, and the compressed input stops being
 * accepted, so a body is never inflated faster than the agent takes it.
 */
class DecodeScrubStream extends Transform {
  private readonly chunks: ChunkScrubber;
  private readonly first: Transform;
  private readonly last: Transform;
  private compressed = 0;
  private decoded = 0;

  constructor(scrubber: ScrubberSource, decoders: Transform[], private readonly limits: InflateLimits, sniff?: BodySniffer, onLimit?: (why: string) => void) {
    super();
    this.chunks = new ChunkScrubber(scrubber, sniff);
    this.first = decoders[0]!;
    this.last = decoders[decoders.length - 1]!;
    for (let i = 0; i < decoders.length - 1; i++) decoders[i]!.pipe(decoders[i + 1]!);
    for (const d of decoders) d.on('error', (err) => this.destroy(err));
    this.last.on('data', (d: Buffer) => {
      this.decoded += d.length;
      const over = this.overLimit();
      if (over) {
        onLimit?.(over);
        this.destroy(new DecompressionLimitError(over));
        return;
      }
      const err = pushScrubbed(this, () => this.chunks.feed(d));
      if (err) this.destroy(err);
      else if (this.readableLength >= this.readableHighWaterMark) this.last.pause();
    });
  }

  private overLimit(): string | undefined {
    const l = this.limits;
    if (this.decoded > l.maxBytes) return `the decoded response passed ${Math.round(l.maxBytes / MiB)} MiB (decompression limit); the rest was withheld`;
    if (this.decoded > l.ratioAfterBytes && this.decoded > l.maxRatio * this.compressed) {
      return `the response expands more than ${l.maxRatio}x when decoded (${this.compressed} bytes became over ${this.decoded}: a decompression bomb); the rest was withheld`;
    }
    return undefined;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.compressed += chunk.length;
    this.first.write(chunk, (err) => cb(err ?? undefined));
  }

  override _read(size: number): void {
    this.last.resume();
    super._read(size);
  }

  override _flush(cb: TransformCallback): void {
    whenEnded(this.last, () => cb(pushScrubbed(this, () => this.chunks.end())));
    this.first.end();
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.first.destroy();
    this.last.destroy();
    cb(err);
  }
}

export interface ScrubbedResponse {
  /** The transform for the response body, or undefined when the response has no body to scrub. */
  transform: Transform | undefined;
}

function headerValues(headers: Array<[string, string]>, name: string): string[] {
  return headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
}

/**
 * What a client can join from pieces of a head: the header values in order and in the order of
 * their names (`X-Token-1`, `X-Token-2`), and the cookie values in order and in the order of the
 * cookies' names (chunked cookies, `t.0=…`, `t.1=…`, are read by name: another cookie may be set
 * between them, and a server setting them from a map sends them in any order).
 */
function reassembled(headers: Array<[string, string]>): string[] {
  if (headers.length < 2) return [];
  const cookies = headers.filter(([n]) => n.toLowerCase() === 'set-cookie').map(([, v]): [string, string] => {
    const pair = v.split(';', 1)[0]!;
    const eq = pair.indexOf('=');
    return [pair.slice(0, Math.max(0, eq)).trim(), pair.slice(eq + 1)];
  });
  const byName = [...headers].sort((a, b) => (a[0].toLowerCase() < b[0].toLowerCase() ? -1 : a[0].toLowerCase() > b[0].toLowerCase() ? 1 : 0));
  const cookiesByName = [...cookies].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return [
    headers.map(([, v]) => v).join(''), byName.map(([, v]) => v).join(''),
    ...(cookies.length > 1 ? [cookies.map(([, v]) => v).join(''), cookiesByName.map(([, v]) => v).join('')] : []),
  ];
}

/** Headers that describe the exact bytes of the body, which scrubbing may change. */
const bodyDigests = new Set(['content-length', 'content-md5', 'digest', 'content-digest', 'repr-digest']);

/**
 * Scrubs a response head in place (header names and values) and returns the body transform; a
 * live `source` is asked again for each chunk of the body.
 * Compressed bodies are decoded and passed on uncompressed; length and digest headers are dropped
 * (the body may change). Throws UnscrubbableEncodingError for a response the scrubber cannot read
 * — an encoding it cannot decode, partial content, a charset it does not match — so the caller
 * never passes that body through unscrubbed. The body transform refuses (errors) a body whose
 * first bytes show such an encoding.
 */
export function scrubResponse(
  source: ScrubberSource, head: { statusCode: number; statusMessage?: string; headers: Array<[string, string]> },
  opts: { method?: string; limits?: InflateLimits; onLimit?: (why: string) => void } = {},
): ScrubbedResponse {
  const scrubber = typeof source === 'function' ? source() : source;
  if (scrubber.empty && typeof source !== 'function') return { transform: undefined };
  for (const h of head.headers) {
    h[0] = scrubText(scrubber, h[0]);
    h[1] = scrubText(scrubber, h[1]);
  }
  if (head.statusMessage) head.statusMessage = scrubText(scrubber, head.statusMessage);
  checkHeaderCharsets(head.statusMessage ? [...head.headers, ['', head.statusMessage]] : head.headers, scrubber.asciiOnly);
  for (const text of reassembled(head.headers)) {
    // Each header is scrubbed already: a match here spans two of them.
    if (scrubText(scrubber, text) !== text) throw new UnscrubbableEncodingError('a secret is split across headers of this response (a client that joins them reads it)');
  }
  const noBody = opts.method === 'HEAD' || head.statusCode === 204 || head.statusCode === 304 || (head.statusCode >= 100 && head.statusCode < 200);
  if (noBody) return { transform: undefined };
  const sniff = checkScrubbable(head, scrubber.asciiOnly);
  const codings = headerValues(head.headers, 'content-encoding')
    .flatMap((v) => v.split(','))
    .map((c) => c.trim().toLowerCase())
    .filter(Boolean);
  const limits = opts.limits ?? defaultInflateLimits;
  const layers = codings.filter((c) => c !== 'identity');
  if (layers.length > limits.maxCodings) {
    throw new UnscrubbableEncodingError(`cannot scrub a response with ${layers.length} stacked content codings (${layers.join(', ')}); at most ${limits.maxCodings} are decoded`);
  }
  const decoders = codings.reverse().map(decoderFor).filter((d): d is Transform => d !== undefined);
  // In place: the proxy holds this array.
  for (let i = head.headers.length - 1; i >= 0; i--) {
    const name = head.headers[i]![0].toLowerCase();
    if (bodyDigests.has(name) || name === 'content-encoding') head.headers.splice(i, 1);
  }
  return { transform: decoders.length ? new DecodeScrubStream(source, decoders, limits, sniff, opts.onLimit) : new ScrubStream(source, sniff) };
}
