// A watch over a body as its server decodes it (eighteenth pass): the watches of proxy/form-tail.ts
// read the bytes that leave, while a server with request decompression (ASP.NET Core, Elasticsearch,
// a gzip middleware) or a JSON reader that follows a byte order mark or a UTF-16 charset (Python's
// `json.loads`, Jackson, .NET) reads them decoded first. A gzip'd `{"pad": "<1.2 MiB>", "batch":
// [...]}` of 1 KB on the wire was too large to decode for the readers (MAX_DECODED_BYTES) and opaque
// to the watch; a UTF-16 one past the capture cap spelled `b\0a\0t\0c\0h\0` to it. Here each chunk
// is passed on only once its decoded bytes went through the inner watch, so a stop comes before the
// server has the whole body.
import { Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { bomOf, DecodeFailure, MAX_CONTENT_CODINGS, undoContentCoding, unicodeLabel, zlibWrapped } from '../describe/body.ts';
import { StreamStop } from './enforcers.ts';
import { refusals } from './refusals.ts';

/** The most decoded bytes watched (a bomb's worth past it is refused: the server would inflate it too). */
export const MAX_WATCHED_DECODED = 64 * 1024 * 1024;

/** The content codings of a request (outermost last), identity left out; undefined when one is not known. */
export function requestCodings(rawHeaders: readonly string[]): string[] | undefined {
  const codings: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() !== 'content-encoding') continue;
    for (const c of rawHeaders[i + 1]!.split(',')) {
      const coding = c.trim().toLowerCase();
      if (!coding || coding === 'identity') continue;
      if (!['gzip', 'x-gzip', 'deflate', 'br'].includes(coding)) return undefined;
      codings.push(coding);
    }
  }
  return codings;
}

/**
 * How many decoded bytes of a coded body the second-target readers read (its captured start,
 * decoded as they decode it: `prefix` when the body goes on past it); 'too large' when it decodes
 * past what they decode (MAX_DECODED_BYTES: they read none of it).
 */
export function readersDecode(captured: Buffer, codings: string[], prefix: boolean): number | 'too large' {
  try {
    return undoContentCoding(captured, codings, prefix, true).length;
  } catch (err) {
    if (err instanceof DecodeFailure) return err.tooLarge ? 'too large' : 0;
    throw err;
  }
}

/** A UTF-16/32 charset label of the Content-Type, as the readers follow one (second-targets.ts serverBodies). */
function labelledEncoding(type: string | undefined): string | undefined {
  const label = type === undefined ? undefined : /;\s*charset\s*=\s*"?([\w-]+)/i.exec(type)?.[1]?.toLowerCase();
  const named = label === undefined ? undefined : unicodeLabel(label);
  return named === 'utf-8' ? undefined : named;
}

/**
 * `inner` fed the body decoded: its content codings undone (stream by stream, outermost first) and
 * then, when its first bytes say so (a byte order mark, the NUL pattern of JSON in UTF-16/32) or a
 * UTF-16/32 charset label does, turned into UTF-8. The bytes that leave are the agent's, unchanged.
 */
export class DecodedWatch extends Transform {
  readonly preservesLength = true;
  private readonly stages: Array<Transform | RawStage> = [];
  private decoded = 0;
  /** Undecided until four decoded bytes are seen; then the text's encoding, or 'utf-8' (bytes as they are). */
  private encoding: string | undefined;
  private head = Buffer.alloc(0);
  private text: TextDecoder | undefined;
  private utf32Carry = Buffer.alloc(0);
  /** Decoding failed: the server cannot read it either, nothing more is watched. */
  private broken = false;

  /** The last chunk, kept back (`holdLast`) until the next one came or the end was watched. */
  private kept: Buffer | undefined;

  /**
   * `legacy`: a charset (TextDecoder's name) to read the decoded bytes in, whatever they look like.
   * `holdLast`: a chunk leaves only when the next one comes or the end was watched, for an inner
   * watch that judges what it holds at the end (a bulk's last line without its newline): a
   * decoder's last bytes may come only at the end, when the chunks holding them had left.
   */
  constructor(codings: readonly string[], type: string | undefined, private readonly inner: Transform, legacy?: string, private readonly holdLast = false) {
    super();
    if (codings.length > MAX_CONTENT_CODINGS) this.broken = true;
    for (const c of [...codings].reverse()) {
      // (`deflate` is read as zlib or raw by its first bytes, undoContentCoding's zlibWrapped.)
      const broke = (): void => { this.broken = true; };
      if (c === 'br') this.stages.push(zlib.createBrotliDecompress({ finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH }).on('error', broke));
      else this.stages.push(new RawStage(c !== 'deflate', broke));
    }
    // (A multipart body is bytes: its parts say their own charsets.)
    this.encoding = type !== undefined && /^\s*multipart\//i.test(type) ? 'utf-8' : labelledEncoding(type);
    if (this.encoding === 'utf-16' || this.encoding === 'utf-32') this.encoding = undefined; // the first bytes tell which order
    if (legacy !== undefined) this.encoding = legacy;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.through(chunk, false).then((stop) => {
      if (stop || !this.holdLast) return cb(stop, stop ? undefined : chunk);
      const before = this.kept;
      this.kept = chunk;
      cb(null, before);
    }, (err: unknown) => cb(err as Error));
  }

  override _flush(cb: TransformCallback): void {
    this.through(Buffer.alloc(0), true).then((stop) => {
      if (!stop && this.kept) this.push(this.kept);
      this.kept = undefined;
      cb(stop);
    }, (err: unknown) => cb(err as Error));
  }

  /** `chunk` through the decoders and into the inner watch; the stop it gave, if any. */
  private async through(chunk: Buffer, last: boolean): Promise<StreamStop | undefined> {
    // (A decoder that failed earlier: nothing after is watched, as a server's decoder reads no more.)
    if (this.broken) return undefined;
    let pieces = [chunk];
    // What a stage gave before it failed goes on through the rest and is watched (nineteenth pass):
    // lenient decoders (Go's compress/gzip, Java's GZIPInputStream, .NET's) hand it to the server
    // before the missing or wrong trailer is an error (describe/body.ts leniently).
    for (const stage of this.stages) pieces = stage instanceof RawStage ? await stage.feed(Buffer.concat(pieces), last) : await this.stageThrough(stage, pieces, last);
    for (const p of pieces) {
      this.decoded += p.length;
      if (this.decoded > MAX_WATCHED_DECODED) return new StreamStop(refusals.bad(`the request body decodes (Content-Encoding) to more than ${MAX_WATCHED_DECODED} bytes, which Airlock does not read for the calls a server runs from it`));
      const stop = await this.watch(this.utf8(p, false));
      if (stop) return stop;
    }
    if (last) {
      const stop = await this.watch(this.utf8(Buffer.alloc(0), true));
      if (stop) return stop;
      const flush = this.inner._flush?.bind(this.inner);
      if (flush) return new Promise((resolve) => flush((err) => resolve(err instanceof StreamStop ? err : undefined)));
    }
    return undefined;
  }

  /** What one decoder gives for `pieces` (ended when `last`). */
  private stageThrough(s: Transform, pieces: Buffer[], last: boolean): Promise<Buffer[]> {
    return decoderThrough(s, Buffer.concat(pieces), last, () => { this.broken = true; });
  }

  /** Decoded bytes as UTF-8 text bytes once the encoding is known (kept back until then). */
  private utf8(b: Buffer, end: boolean): Buffer {
    if (this.encoding === undefined) {
      this.head = Buffer.concat([this.head, b]);
      if (this.head.length < 4 && !end) return Buffer.alloc(0);
      b = this.head;
      this.head = Buffer.alloc(0);
      const bom = bomOf(b);
      const z = [b[0] === 0, b[1] === 0, b[2] === 0, b[3] === 0];
      this.encoding = bom?.encoding
        ?? (!z[0] && z[1] && z[2] && z[3] ? 'utf-32le' : z[0] && z[1] && z[2] && !z[3] ? 'utf-32be' : !z[0] && z[1] ? 'utf-16le' : z[0] && !z[1] ? 'utf-16be' : 'utf-8');
      if (bom) b = b.subarray(bom.length);
    }
    if (this.encoding === 'utf-8') return b;
    if (!this.encoding.startsWith('utf-32')) { // UTF-16, or a legacy charset
      this.text ??= new TextDecoder(this.encoding);
      return Buffer.from(this.text.decode(b, { stream: !end }));
    }
    // UTF-32: four bytes a code point (TextDecoder has no UTF-32).
    const all = Buffer.concat([this.utf32Carry, b]);
    const whole = all.length - (all.length % 4);
    this.utf32Carry = all.subarray(whole);
    let s = '';
    for (let i = 0; i < whole; i += 4) {
      const cp = this.encoding === 'utf-32le' ? all.readUInt32LE(i) : all.readUInt32BE(i);
      s += cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
    }
    return Buffer.from(s);
  }

  private watch(b: Buffer): Promise<StreamStop | undefined> {
    if (!b.length) return Promise.resolve(undefined);
    return new Promise((resolve) => this.inner._transform(b, 'latin1', (err) => resolve(err instanceof StreamStop ? err : undefined)));
  }
}

/**
 * Deflate data read as lenient servers read it (nineteenth pass: describe/body.ts leniently): a
 * raw inflater up to where the data ends, after a zlib or gzip header; a trailer (CRC, Adler-32),
 * its absence or bytes after it are never checked, as Go's, Java's and .NET's decoders hand the
 * data over before they are. zlib's own checks raised their error in the write that held the
 * trailer, and the data of that write was lost: a Graph API `batch` at the end went unwatched.
 * Gzip members follow one another as Go's multistream reader reads them (64 at most).
 */
class RawStage {
  private inflater: (zlib.InflateRaw & { bytesWritten: number }) | undefined;
  private state: 'header' | 'data' | 'trailer' | 'done' = 'header';
  private pending = Buffer.alloc(0);
  private trailerLeft = 0;
  private members = 0;

  constructor(private readonly gzip: boolean, private readonly onError: () => void) {}

  /** What `input` decodes to (and, when `last`, what the data's end gives). */
  async feed(input: Buffer, last: boolean): Promise<Buffer[]> {
    const out: Buffer[] = [];
    let rest = input;
    for (let step = 0; rest.length && step < 400 && this.state !== 'done'; step++) {
      if (this.state === 'trailer') {
        const skip = Math.min(this.trailerLeft, rest.length);
        this.trailerLeft -= skip;
        rest = rest.subarray(skip);
        if (!this.trailerLeft) this.state = 'header';
        continue;
      }
      if (this.state === 'header') {
        this.pending = Buffer.concat([this.pending, rest]);
        rest = Buffer.alloc(0);
        const p = this.pending;
        const start = this.gzip ? gzipHeaderEnd(p) : p.length < 2 ? 'more' : zlibWrapped(p) ? 2 : 0;
        if (start === 'more' && p.length < 64 * 1024) break;
        if (typeof start !== 'number' || ++this.members > 64) {
          // No (further) member: bytes after one are ignored; none at all is no body a server reads either.
          if (!this.members) this.onError();
          this.state = 'done';
          break;
        }
        rest = p.subarray(start);
        this.pending = Buffer.alloc(0);
        this.state = 'data';
        this.inflater = zlib.createInflateRaw({ finishFlush: zlib.constants.Z_SYNC_FLUSH }) as zlib.InflateRaw & { bytesWritten: number };
        this.inflater.on('error', () => undefined);
        continue;
      }
      const inflater = this.inflater!;
      const before = inflater.bytesWritten;
      out.push(...(await this.through(inflater, rest, false)));
      const used = inflater.bytesWritten - before;
      if (used >= rest.length) {
        rest = Buffer.alloc(0);
        continue;
      }
      // The deflate data ended within this piece: what follows is the member's trailer, then the next member.
      rest = rest.subarray(used);
      this.inflater = undefined;
      this.state = this.gzip ? 'trailer' : 'done';
      this.trailerLeft = 8;
    }
    if (last && this.inflater) {
      out.push(...(await this.through(this.inflater, Buffer.alloc(0), true)));
      this.inflater = undefined;
    }
    return out;
  }

  private through(s: zlib.InflateRaw, input: Buffer, end: boolean): Promise<Buffer[]> {
    return decoderThrough(s, input, end, this.onError);
  }
}

/**
 * What a decoder gives for one write of `input` (or, when `end`, for its end after it). Settled by
 * the write's callback, the end, an error (`onError` told) or the stream's close, and at once when
 * it has ended already: a decoder that reached the end of its data with input left over (brotli, a
 * raw inflater, bytes after the stream) ends without waiting for end(), and a wait for its 'end'
 * after that never settled, so the upload hung.
 */
function decoderThrough(s: Transform, input: Buffer, end: boolean, onError: () => void): Promise<Buffer[]> {
  const out: Buffer[] = [];
  const onData = (b: Buffer): void => { out.push(b); };
  s.on('data', onData);
  return new Promise<Buffer[]>((resolve) => {
    let settled = false;
    const failed = (): void => {
      onError();
      done();
    };
    const done = (): void => {
      if (settled) return;
      settled = true;
      s.off('data', onData);
      s.off('close', done);
      s.off('end', done);
      s.off('error', failed);
      resolve(out);
    };
    s.once('error', failed);
    s.once('close', done);
    if (s.destroyed || s.readableEnded) done();
    else if (end) {
      s.once('end', done);
      if (s.writableEnded) setImmediate(done);
      else s.end(input);
    } else if (!input.length) done();
    else s.write(input, () => setImmediate(done));
  });
}

/** Where a gzip member's deflate data starts (RFC 1952 §2.3), 'more' when its header is not all here, 'bad' when it is no header. */
function gzipHeaderEnd(b: Buffer): number | 'more' | 'bad' {
  if (b.length < 10) return b.length >= 1 && b[0] !== 0x1f ? 'bad' : b.length >= 2 && b[1] !== 0x8b ? 'bad' : 'more';
  if (b[0] !== 0x1f || b[1] !== 0x8b || b[2] !== 8) return 'bad';
  const flags = b[3]!;
  let p = 10;
  if (flags & 4) {
    if (b.length < p + 2) return 'more';
    p += 2 + b.readUInt16LE(p);
  }
  for (const bit of [8, 16]) {
    if (!(flags & bit)) continue;
    const nul = b.indexOf(0, p);
    if (nul < 0) return 'more';
    p = nul + 1;
  }
  if (flags & 2) p += 2;
  return p <= b.length ? p : 'more';
}
