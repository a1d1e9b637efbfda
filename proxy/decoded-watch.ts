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
import { bomOf, MAX_CONTENT_CODINGS, unicodeLabel, zlibWrapped } from '../describe/body.ts';
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
  private readonly stages: Transform[] = [];
  private decoded = 0;
  /** Undecided until four decoded bytes are seen; then the text's encoding, or 'utf-8' (bytes as they are). */
  private encoding: string | undefined;
  private head = Buffer.alloc(0);
  private text: TextDecoder | undefined;
  private utf32Carry = Buffer.alloc(0);
  /** Decoding failed: the server cannot read it either, nothing more is watched. */
  private broken = false;

  constructor(codings: readonly string[], type: string | undefined, private readonly inner: Transform) {
    super();
    if (codings.length > MAX_CONTENT_CODINGS) this.broken = true;
    for (const c of [...codings].reverse()) {
      // (`deflate` is read as zlib or raw by its first bytes, undoContentCoding's zlibWrapped: placed on the first write.)
      this.stages.push(c === 'br' ? zlib.createBrotliDecompress() : c === 'deflate' ? new DeflateStage() : zlib.createGunzip());
    }
    for (const s of this.stages) s.on('error', () => { this.broken = true; });
    // (A multipart body is bytes: its parts say their own charsets.)
    this.encoding = type !== undefined && /^\s*multipart\//i.test(type) ? 'utf-8' : labelledEncoding(type);
    if (this.encoding === 'utf-16' || this.encoding === 'utf-32') this.encoding = undefined; // the first bytes tell which order
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.through(chunk, false).then((stop) => cb(stop, stop ? undefined : chunk), (err: unknown) => cb(err as Error));
  }

  override _flush(cb: TransformCallback): void {
    this.through(Buffer.alloc(0), true).then((stop) => cb(stop), (err: unknown) => cb(err as Error));
  }

  /** `chunk` through the decoders and into the inner watch; the stop it gave, if any. */
  private async through(chunk: Buffer, last: boolean): Promise<StreamStop | undefined> {
    let pieces = [chunk];
    for (const stage of this.stages) {
      if (this.broken) return undefined;
      pieces = await this.stageThrough(stage, pieces, last);
    }
    if (this.broken) return undefined;
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
    const out: Buffer[] = [];
    const onData = (b: Buffer): void => { out.push(b); };
    s.on('data', onData);
    return new Promise<Buffer[]>((resolve) => {
      let settled = false;
      const done = (): void => {
        if (settled) return;
        settled = true;
        s.off('data', onData);
        s.off('error', done);
        resolve(out);
      };
      // (A decoder that fails may never call back: its error settles the piece, `broken` ends the watch.)
      s.once('error', done);
      const input = Buffer.concat(pieces);
      if (this.broken || s.destroyed) done();
      else if (last) {
        s.once('end', done);
        s.end(input);
      } else if (!input.length) done();
      else s.write(input, () => setImmediate(done));
    });
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
    if (this.encoding.startsWith('utf-16')) {
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

/** A `deflate` decoder that is zlib's or raw's by the first two bytes it is given (zlibWrapped). */
class DeflateStage extends Transform {
  private inner: Transform | undefined;
  private head = Buffer.alloc(0);

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (!this.inner) {
      this.head = Buffer.concat([this.head, chunk]);
      if (this.head.length < 2) return cb();
      this.inner = zlibWrapped(this.head) ? zlib.createInflate() : zlib.createInflateRaw();
      this.inner.on('data', (b: Buffer) => this.push(b));
      this.inner.on('error', (err) => this.destroy(err));
      chunk = this.head;
    }
    this.inner.write(chunk, () => cb());
  }

  override _flush(cb: TransformCallback): void {
    const inner = this.inner ?? (this.head.length ? zlib.createInflateRaw() : undefined);
    if (!inner) return cb();
    if (!this.inner) {
      inner.on('data', (b: Buffer) => this.push(b));
      inner.write(this.head);
    }
    inner.once('end', () => cb());
    inner.once('error', (err) => cb(err));
    inner.end();
  }
}
