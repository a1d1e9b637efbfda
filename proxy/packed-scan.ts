// Compressed data inside a body that no Content-Encoding declares: a `.gz` download, a zlib
// stream, the deflated entries of a zip archive (a log export, an `.xlsx`, a workflow's logs).
// The agent unpacks them itself, so a service that shows its record of a credential that way
// hands the value over past every spelling the scrubber matches. For an answer from a host that
// got a secret (the only answers this stage sees), each such stream is inflated on the side and
// its text matched for the secrets; the bytes themselves pass on as they came, held back only
// while the inflated text so far may end in the start of a secret. A match cuts the answer.
//
// What is looked for: a zlib stream at the body's first byte, a gzip member's magic (1f 8b 08)
// anywhere (a `.gz` download, one inside a tar or a multipart part), a zip local file header
// (`PK\3\4`) anywhere, its entry inflated when deflated (an `.xlsx`, a `.docx` too), and a PDF
// stream (`stream` and a line end) whose data is a zlib stream (FlateDecode). Each start gets its own inflater,
// so a stream that is not one (the magic bytes by chance in other data) only costs the few bytes
// zlib reads before refusing it, and one stream cannot hide another by swallowing its bytes.
// Compression Node cannot read (sixteenth pass) is refused instead of passed on unread: an answer
// (or a WebSocket message) that is a zstd, xz, bzip2, 7z or LZ4 file by its first bytes, and a zip
// entry compressed by another method (bzip2, LZMA, zstd, xz, PPMd, deflate64) or encrypted. Such
// data elsewhere in a body is not looked for (their magics are short enough to occur by chance in
// large binary downloads), except at the members of a container walked from the body's first
// bytes (seventeenth pass, proxy/packed-containers.ts): a tar's members and a PNG's compressed text
// chunks are each read as a body's first bytes are. A zlib stream with a preset dictionary is read
// as raw deflate with a stand-in window (zlib refuses it; a reader who has the dictionary does not). So is a uuencoded file anywhere (its
// `begin 644 name` line and a line of data): its lines cut a value every 45 bytes.
//
// brotli has no magic to find it by: an answer whose type is not text (`application/octet-stream`,
// `application/x-brotli`, none: a `.br` export or backup) whose first chunk decodes as brotli
// (other data fails within a few bytes) is also read as a brotli stream from its first byte
// (`brotliAtStart`), and so is one typed as text whose first bytes are no text (a control byte,
// not UTF-8: a `.br` export served as `text/plain`); any other answer passes at once, as before.
// Raw deflate (no header either) is guessed at the same first bytes (seventeenth pass). A guess
// that breaks off is no stream (never a refusal).
import { PassThrough, Transform, type TransformCallback } from 'node:stream';
import { finished } from 'node:stream/promises';
import zlib from 'node:zlib';
import { containerOf, type ContainerWalk, type MemberStart } from './packed-containers.ts';
import { base64Blobs, Base64Run, base64Starts, mayHoldBase64Start, TwiceRun, type Base64Packing } from './packed-base64.ts';
import { pdfStreamData, STREAM, textRunAt, type TextRun } from './packed-pdf.ts';
import { ForbiddenContentError, type Scrubber } from './scrubber.ts';
import { UnscrubbableEncodingError } from './scrubbable.ts';
import { PROBE_START, type HoldProbe } from './secret-probe.ts';

/** How many characters of a possible secret's start (as it spells them: Scrubber.spellsAtEnd) may reach the agent before the rest shows it is none (as over a WebSocket). */
const SHORT_HOLD = 8;
/** Inflaters running at once; past this the answer is refused (a body crafted to exhaust them). */
const MAX_ACTIVE = 8;
/** Inflated bytes of one answer, and the expansion allowed past the first MiB (as for declared codings). */
const MAX_INFLATED = 256 * 1024 * 1024;
const MAX_RATIO = 200;
const RATIO_AFTER = 1024 * 1024;
/** A zip local header longer than this (name and extra field) is not waited for. */
const MAX_ZIP_HEADER = 64 * 1024;
/** How long a long start may stay held before it counts as dropped (as the scrubbing stage's). */
const PROBE_HOLD_MS = 10_000;
/** Compressed layers read inside one another (a `.gz` in a `.tar.gz` is two). */
const NESTED_DEPTH = 3;
/** Bytes kept back at most while inflated text may end in a secret's start. */
const MAX_HELD = 16 * 1024 * 1024;

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b, 0x08]);
/** A tar header block: the body's first one is copied aside to read it. */
const TAR_BLOCK = 512;
const ZIP_LOCAL = Buffer.from('PK\x03\x04', 'latin1');
/** A PDF stream's data follows its keyword and a line end (CR LF, LF, or a lone CR as pdf.js and poppler read it): proxy/packed-pdf.ts. */
const PDF_STREAM = [Buffer.from('stream\r'), Buffer.from('stream\n')];
/** A uuencoded file's header line (`begin 644 name`): GNU `uuencode`, Python's `uu`, shar archives. */
const UU_BEGIN = Buffer.from('begin ');
const MARKERS = [GZIP_MAGIC, ZIP_LOCAL, ...PDF_STREAM, UU_BEGIN];
/** Bytes a marker may straddle back into the chunk before (the longest marker but one). */
const SEAM = 7;

/** Bytes of a stream kept to read again when zlib refuses it (its output of that write is lost). */
const KEEP_FED = 1024 * 1024;
/** Inflated bytes one try of reading such a stream again may give (each try is synchronous). */
const SALVAGE_MAX = 4 * 1024 * 1024;

/** A stream zlib refused inflates past the bound when read again: a bomb. */
class SalvageTooLarge extends Error {}

/**
 * Files whose compression Node 20 has no decoder for, by their magic (a bzip2 stream's block or
 * end marker follows its `BZh` and level; `unreadableFile` checks that).
 */
const UNREADABLE_FILES: Array<[Buffer, string]> = [
  [Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), 'zstd'],
  [Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), 'xz'],
  [Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]), '7z'],
  [Buffer.from([0x04, 0x22, 0x4d, 0x18]), 'LZ4'],
];
const BZIP2_MAGIC = Buffer.from('BZh');
const MAGIC_FIRST_BYTES = new Set([...UNREADABLE_FILES.map(([magic]) => magic[0]!), BZIP2_MAGIC[0]!]);
const BZIP2_BLOCKS = [Buffer.from([0x31, 0x41, 0x59, 0x26, 0x53, 0x59]), Buffer.from([0x17, 0x72, 0x45, 0x38, 0x50, 0x90])];

/**
 * What compression Node cannot read `b` starts with (its name); -1 while `b` is too short to tell
 * (a prefix of such a magic); undefined for anything else.
 */
export function unreadableFile(b: Buffer): string | -1 | undefined {
  // Every response header of a host that got a secret passes here: most start with no magic's first byte.
  if (b.length > 0 && !MAGIC_FIRST_BYTES.has(b[0]!)) return undefined;
  for (const [magic, name] of UNREADABLE_FILES) {
    if (b.length >= magic.length ? b.subarray(0, magic.length).equals(magic) : magic.subarray(0, b.length).equals(b)) return b.length >= magic.length ? name : -1;
  }
  // BZh, a level 1–9, then a block or the end-of-stream marker.
  const head = BZIP2_MAGIC;
  if (!(b.length >= 3 ? b.subarray(0, 3).equals(head) : head.subarray(0, b.length).equals(b))) return undefined;
  if (b.length < 10) return b.length < 4 || (b[3]! >= 0x31 && b[3]! <= 0x39) ? -1 : undefined;
  return b[3]! >= 0x31 && b[3]! <= 0x39 && BZIP2_BLOCKS.some((m) => b.subarray(4, 10).equals(m)) ? 'bzip2' : undefined;
}

/**
 * Whether a uuencoded file begins at `p` (its `begin <mode> <name>` line at a line start, and a
 * first line of data whose length character is uuencode's); -1 while that is not whole yet.
 */
function uuencodedAt(b: Buffer, p: number): boolean | -1 {
  if (p > 0 && b[p - 1] !== 0x0a) return false;
  const eol = b.indexOf(0x0a, p);
  if (eol < 0) return b.length - p > 1024 ? false : -1;
  if (eol - p > 1024 || !/^begin [0-7]{3,4} [^\r\n]+\r?$/.test(b.toString('latin1', p, eol))) return false;
  if (b.length < eol + 2) return -1;
  const length = b[eol + 1]!;
  return length > 0x20 && length <= 0x60;
}

/** Zip methods Node cannot read: deflate64, bzip2, LZMA, IBM TERSE/LZ77, zstd, xz, PPMd, AES. */
const ZIP_UNREADABLE = new Map([[9, 'deflate64'], [12, 'bzip2'], [14, 'LZMA'], [19, 'LZ77'], [93, 'zstd'], [95, 'xz'], [98, 'PPMd'], [99, 'AES-encrypted']]);

/** Why the zip entry whose local header is at `z` cannot be read (its method, or encryption), or undefined. */
function unreadableZipEntry(b: Buffer, z: number): string | undefined {
  const method = b.readUInt16LE(z + 8);
  const named = ZIP_UNREADABLE.get(method);
  if (named) return `a zip entry compressed with ${named}`;
  if ((method === 0 || method === 8) && b.readUInt16LE(z + 6) & 1) return 'an encrypted zip entry';
  return undefined;
}

/** What an inflater reads: zlib-wrapped or raw deflate, a gzip member (from base64 text), or brotli. */
type Packing = 'zlib' | 'raw' | 'gzip' | 'brotli' | 'dict' | 'raw-guess';

/**
 * The window a zlib stream with a preset dictionary is read with in place of the dictionary it
 * names: its references into the dictionary read as zeros, everything else as the reader who has
 * the dictionary reads it (the literals, and references to the text itself).
 */
const STAND_IN_DICTIONARY = Buffer.alloc(32 * 1024);

/** One inflater (raw deflate, zlib-wrapped or brotli) and the matching of what it lets out. */
class Inflation {
  /** The inflated text not yet known to be free of a secret's start (latin1). */
  rest = '';
  ended = false;
  /** zlib refused the data: `fed` is what it got (undefined past KEEP_FED). */
  failed = false;
  fed: Buffer[] | undefined = [];
  private fedBytes = 0;
  private waiting: (() => void) | undefined;
  /** What the inflated text is read as in turn (a body's bytes: a `.gz` in a `.tar.gz`, a zip of `.gz` files), and how much of it went there. */
  nested: PackedScan | undefined;
  nestedFed = 0;

  constructor(readonly stream: Inflater, readonly kind: Packing, onText: (self: Inflation, text: Buffer) => void) {
    stream.on('data', (d: Buffer) => onText(this, d));
    const finish = (): void => {
      this.ended = true;
      this.waiting?.();
    };
    stream.on('error', () => {
      this.failed = true;
      finish();
    });
    stream.on('end', finish);
  }

  /** Stops inflating (the answer is refused): zlib would otherwise inflate the rest of a bomb's write on a pool thread. */
  stop(): void {
    this.ended = true;
    this.stream.destroy();
    this.waiting?.();
  }

  /** Feeds bytes; resolves once zlib has handled them (their output was delivered before). */
  feed(bytes: Buffer): Promise<void> {
    if (this.ended || !bytes.length) return Promise.resolve();
    if (this.fed) {
      this.fedBytes += bytes.length;
      if (this.fedBytes > KEEP_FED) this.fed = undefined;
      else this.fed.push(Buffer.from(bytes));
    }
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.stream.write(bytes, () => resolve());
    });
  }

  /**
   * What a reader gets from a stream zlib refused: Node drops the output of the write that failed,
   * while a reader feeding it in small pieces (Python's decompressobj, a GzipFile read) gets all
   * of it up to the bad byte. The longest prefix that inflates, found by halving; undefined when
   * the stream was too long to keep.
   */
  salvage(most: number): Buffer | undefined {
    if (!this.fed) return undefined;
    const all = Buffer.concat(this.fed);
    // Each try is synchronous, on the main thread: bounded in output (a few hundred bytes of
    // brotli that break off at the end inflated 1 GiB per try, ten tries: the event loop held
    // 35 s for every agent, 2 GiB resident). Past the bound it is a bomb: SalvageTooLarge.
    const opts = { maxOutputLength: Math.max(1, most) };
    const inflate = (n: number): Buffer | undefined => {
      try {
        if (this.kind === 'brotli') return zlib.brotliDecompressSync(all.subarray(0, n), { ...opts, finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH });
        if (this.kind === 'gzip') return zlib.gunzipSync(all.subarray(0, n), { ...opts, finishFlush: zlib.constants.Z_SYNC_FLUSH });
        if (this.kind === 'dict') return zlib.inflateRawSync(all.subarray(0, n), { ...opts, finishFlush: zlib.constants.Z_SYNC_FLUSH, dictionary: STAND_IN_DICTIONARY });
        return (this.kind === 'raw' || this.kind === 'raw-guess' ? zlib.inflateRawSync : zlib.inflateSync)(all.subarray(0, n), { ...opts, finishFlush: zlib.constants.Z_SYNC_FLUSH });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new SalvageTooLarge();
        return undefined;
      }
    };
    return longestInflatingPrefix(inflate, all.length);
  }
}

type Inflater = zlib.Inflate | zlib.InflateRaw | zlib.Gunzip | zlib.BrotliDecompress;

/**
 * A compressed stream written as base64 text (proxy/packed-base64.ts): the run is decoded as it
 * streams and its bytes go to the inflater; a zip's local header is read first (its entry inflated
 * raw when deflated). Ends the inflater when the run ends.
 */
class Base64Feed {
  /** A zip's decoded bytes while its local header is not whole. */
  private zipHead: Buffer | undefined;
  /** The inflater, once known (a zip's after its header). */
  inflation: Inflation | undefined;

  /** `run`: the text's decoder (base64; a PDF stream's ASCII85 or hex: proxy/packed-pdf.ts). */
  constructor(kind: Base64Packing, private readonly make: (kind: Packing) => Inflation, private readonly run: TextRun = new Base64Run()) {
    if (kind === 'zip') this.zipHead = Buffer.alloc(0);
    else this.inflation = make(kind);
  }

  /** Read to its end: the inflater ended (a stream that was none fails within a few bytes), or the run did with none started. */
  get done(): boolean {
    return this.inflation ? this.inflation.ended : this.run.ended || !this.zipHead;
  }

  /** Where the characters not yet decoded begin (body offset): what a reader could decode past what the inflater had. */
  get heldFrom(): number | undefined {
    return this.run.heldFrom;
  }

  /** `offset`: the body offset of `bytes`; `last`: the body ends here, and so does the run. */
  async feed(bytes: Buffer, offset: number, last = false): Promise<void> {
    if (this.run.ended) return;
    let decoded = this.run.feed(bytes, 0, bytes.length, offset);
    if (this.run.ended || last) decoded = Buffer.concat([decoded, this.run.end()]);
    if (this.zipHead) {
      const head = Buffer.concat([this.zipHead, decoded]);
      const end = head.length >= 30 ? 30 + head.readUInt16LE(26) + head.readUInt16LE(28) : Infinity;
      if (head.length < end && (end === Infinity || end - 30 <= MAX_ZIP_HEADER) && !this.run.ended) {
        this.zipHead = head;
        return;
      }
      this.zipHead = undefined;
      // Stored entries are base64 of the text itself: a spelling the scrubber matched.
      if (head.length < end || head.readUInt16LE(8) !== 8) return;
      this.inflation = this.make('raw');
      decoded = head.subarray(end);
    }
    await this.inflation?.feed(decoded);
    if (this.run.ended) this.inflation?.stream.end();
  }
}

/**
 * The stage: passes the body on unchanged, inflating compressed streams inside it on the side.
 * `scrubber` is asked for the current secrets at each piece of inflated text.
 */
export class PackedScan extends Transform {
  /** Bytes kept (not yet passed on, or the last few passed, a magic may begin there), from body offset `bufFrom`. */
  private buf: Buffer = Buffer.alloc(0);
  private bufFrom = 0;
  private releasedTo = 0;
  private received = 0;
  /** Where the search for starts goes on (body offset). */
  private searchFrom = 0;
  /** The last bytes of the chunk before, passed on: a magic may begin there. */
  private tail: Buffer = Buffer.alloc(0);
  private readonly active: Array<{ inflation: Inflation; fedTo: number }> = [];
  /** Compressed streams written as base64 text, being decoded (their inflaters are not in `active`). */
  private readonly runs: Array<{ feed: Base64Feed; fedTo: number }> = [];
  /** Body offsets an inflater was started at (a search may pass a start twice). */
  private readonly startedAt = new Set<number>();
  /** The size of startedAt at which the starts behind the search are dropped next. */
  private pruneAt = 64;
  private inflated = 0;
  /** The budget of the base64 blobs read at once (their broken ones counted over the whole answer). */
  private readonly blobBudget: MessageBudget = { left: 0, broken: 0 };
  private failure: Error | undefined;
  /** A tar archive or PNG image being walked (proxy/packed-containers.ts); -1 while its first bytes are too few to tell. */
  private container: ContainerWalk | -1 | undefined = -1;
  /** The body's first bytes while the container is undecided (and a tar's first header). */
  private head: Buffer = Buffer.alloc(0);
  private sniffing = true;
  /** Members whose first bytes have not all arrived yet. */
  private members: MemberStart[] = [];
  /** The last stored zip entry's data offset taken as a member (a header is searched for again). */
  private storedTo = -1;
  /** Whether the first chunk reads as raw deflate (mayBeDeflate): an inflater is started at the first byte. */
  private deflateAtStart = false;
  /** Whether the first chunk was read for a brotli guess (mayBeBrotli). */
  private brotliDecided = false;
  /** With a probe: the rules of which the inflated text held now ends in a start PROBE_START or more long. */
  private probing: Array<{ label?: string; replace: string }> | undefined;
  private probeTimer: NodeJS.Timeout | undefined;

  /** Chunks `inner` let out, waiting their turn (each is read after the one before). */
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;

  /** `inner`: the stage before this one (the scrubber): its output is what this stage reads and passes on. */
  /** `brotliAtStart`: the answer is no text, so its first byte may begin a brotli stream (read on the side too). */
  /**
   * `probe`: the tripwire on what this stage holds back (proxy/secret-probe.ts): inflated text kept
   * back on a long start of a secret that then proves none, or is dropped, is a guess answered by
   * the hold, as in the scrubbing stage.
   */
  /** `depth`: how many compressed layers this stage reads inside (a nested reading of inflated text is one deeper). */
  constructor(private readonly scrubber: () => Scrubber, private readonly inner: Transform, private brotliAtStart = false, private readonly probe?: HoldProbe, private readonly depth = 0) {
    super();
    inner.on('data', (d: Buffer) => this.enqueue(d));
    inner.on('error', (err) => this.destroy(err));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.inner.write(chunk, (err) => cb(err ?? undefined));
  }

  override _flush(cb: TransformCallback): void {
    const done = (): void => {
      // Nothing compressed was under way (the common case): no promise to wait for.
      if (!this.queued && !this.active.length && !this.runs.length && this.releasedTo === this.received) return cb(this.failure);
      this.queue.then(() => this.finish()).then(() => cb(this.failure), cb);
    };
    if (this.inner.readableEnded) done();
    else this.inner.once('end', done);
    this.inner.end();
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    // Gone while a long start was held (the agent went away rather than wait): a guess all the same.
    const probing = this.probing;
    this.endProbe();
    if (probing && !err) this.probe?.trip(probing, true);
    else if (probing) this.probe?.end();
    this.inner.destroy();
    for (const a of this.active) {
      a.inflation.stream.destroy();
      a.inflation.nested?.destroy();
    }
    for (const r of this.runs) r.feed.inflation?.stream.destroy();
    cb(err);
  }

  /** Reads `chunk` after what came before it; `inner` waits while reading lags (backpressure). */
  private enqueue(chunk: Buffer): void {
    if (this.failure || this.destroyed) return;
    // Nothing waiting: a chunk with nothing compressed in it goes on at once, no promise.
    if (!this.queued && this.look(chunk, true)) return;
    this.queued++;
    this.flow();
    this.queue = this.queue.then(async () => { await this.look(chunk); }).then(() => {
      this.queued--;
      if (this.failure) this.destroy(this.failure);
      else this.flow();
    }, (err: Error) => {
      this.destroy(err);
    });
  }

  /** The agent is not taking what this stage passed on (push said so): `inner` waits. */
  private backedUp = false;

  /** `inner` flows while this stage keeps up and the agent takes what it passed on. */
  private flow(): void {
    if (this.destroyed) return;
    if (this.queued <= 1 && !this.backedUp) this.inner.resume();
    else this.inner.pause();
  }

  /** Passes bytes on; `inner` waits once the agent stops taking them. */
  private pass(bytes: Buffer): void {
    if (!this.push(bytes)) this.backedUp = true;
    this.flow();
  }

  override _read(size: number): void {
    this.backedUp = false;
    this.flow();
    super._read(size);
  }

  /** `plainOnly`: only a chunk that needs no reading is taken (returns true), else nothing is done. */
  private look(chunk: Buffer, plainOnly = false): Promise<void> | boolean {
    if (this.failure || this.destroyed) return true;
    const at = this.received;
    this.sniffContainer(chunk, at);
    const plain = !this.active.length && !this.runs.length && this.releasedTo === at && !this.mayStart(chunk, at);
    if (plainOnly && !plain) return false;
    this.received += chunk.length;
    if (plain) {
      // Nothing compressed under way or begun: the chunk goes on at once (the common case).
      this.releasedTo = this.received;
      this.searchFrom = this.received - SEAM;
      this.tail = chunk.length >= SEAM ? chunk.subarray(chunk.length - SEAM) : Buffer.concat([this.tail, chunk]).subarray(-SEAM);
      this.pass(chunk);
      return true;
    }
    if (this.releasedTo === at) {
      // Coming from the fast path: the passed tail stays readable for a magic that straddles.
      this.buf = Buffer.concat([this.tail, chunk]);
      this.bufFrom = at - this.tail.length;
    } else {
      this.buf = Buffer.concat([this.buf, chunk]);
    }
    return this.step();
  }

  /** At the body's end: every inflater ends, its last text is matched, the rest passes. */
  private async finish(): Promise<void> {
    // A base64 run that ran to the body's end: its last characters decoded, its inflater ended.
    await Promise.all(this.runs.map((r) => r.feed.feed(Buffer.alloc(0), this.received, true)));
    const inflations = [...this.active.map((a) => a.inflation), ...this.runs.flatMap((r) => (r.feed.inflation ? [r.feed.inflation] : []))];
    this.active.length = 0;
    this.runs.length = 0;
    for (const i of inflations) i.stream.end();
    await Promise.all(inflations.map((i) => new Promise<void>((resolve) => (i.ended ? resolve() : i.stream.once('close', () => resolve())))));
    for (const i of inflations) {
      this.settle(i);
      await this.endNested(i);
    }
    // The body ended on a long start that nothing completed: let out, it would answer the guess.
    const probing = this.probing;
    this.endProbe();
    if (probing && !this.failure) this.failure = this.probe?.trip(probing);
    else if (probing) this.probe?.end();
    if (!this.failure) this.release(this.received);
  }

  /** The rules of which an inflater's held text ends in PROBE_START or more characters of a start (undefined: none). */
  private longStarts(): Array<{ label?: string; replace: string }> | undefined {
    if (!this.probe) return undefined;
    const rules = [...this.active.map((a) => a.inflation), ...this.runs.flatMap((r) => (r.feed.inflation ? [r.feed.inflation] : []))]
      .filter((i) => i.rest.length >= PROBE_START)
      .flatMap((i) => this.scrubber().startsAtEnd(i.rest, PROBE_START));
    return rules.length ? rules : undefined;
  }

  /** What is held now: a long start begins (the probe asked), goes on, proved none (trips) or was completed (a refusal: no probe). */
  private watchHolds(): void {
    if (this.failure) {
      if (this.probing) this.probe!.end();
      return this.endProbe();
    }
    const long = this.longStarts();
    if (long) {
      if (!this.probing) {
        const err = this.probe!.begin(long);
        if (err) {
          this.failure ??= err;
          return;
        }
        // Decided one turn after the timer, as scrub.ts's hold: what completes it may be there unread.
        const timer: NodeJS.Timeout = setTimeout(() => setImmediate(() => {
          if (this.probeTimer !== timer) return;
          const held = this.probing;
          this.endProbe();
          const e = held && this.probe!.trip(held);
          if (e) this.destroy(e);
        }), PROBE_HOLD_MS);
        this.probeTimer = timer;
        timer.unref();
      }
      this.probing = long;
      return;
    }
    const held = this.probing;
    if (!held) return;
    this.endProbe();
    this.failure = this.probe!.trip(held);
  }

  private endProbe(): void {
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    this.probing = undefined;
  }

  /**
   * Decides from the body's first bytes whether it is a container whose members are read as
   * bodies. Nothing waits for the decision (an event stream's first short chunk goes on at once):
   * the first bytes are copied aside, and a tar's first header is read from that copy.
   */
  private sniffContainer(chunk: Buffer, at: number): void {
    if (!this.sniffing || at < this.head.length) return;
    this.head = Buffer.concat([this.head, chunk.subarray(0, TAR_BLOCK - this.head.length)]);
    if (this.container === -1) this.container = containerOf(this.head);
    // Decided: no container, a PNG (its chunks are read as they come), or a tar once its first header is whole.
    if (this.container === -1 || (this.container?.kind === 'tar' && this.head.length < TAR_BLOCK)) return;
    if (this.container?.kind === 'tar') this.members.push(...this.container.read(this.head, 0).starts);
    this.sniffing = false;
    this.head = Buffer.alloc(0);
  }

  /** Whether a compressed stream may start in this chunk (or in the last bytes of the one before). */
  private mayStart(chunk: Buffer, at: number): boolean {
    // A container's next header (or a member's first bytes) in this chunk, or the container not decided yet.
    if (this.members.length || (!this.sniffing && this.container && this.container !== -1 && this.container.next !== undefined && this.container.next < at + chunk.length)) return true;
    // A brotli guess only where the first chunk reads as brotli: other data passes at once (no hold).
    // An answer typed as text is guessed at too when its first bytes are no text (seventeenth pass:
    // a `.br` export served as `text/plain` or JSON, which the agent decompresses itself).
    if (at === 0 && !this.brotliDecided && (this.brotliAtStart || binaryStart(chunk))) {
      this.brotliDecided = true;
      this.deflateAtStart = mayBeDeflate(chunk);
      this.brotliAtStart = mayBeBrotli(chunk);
    }
    if (at === 0 && (chunk.length < 2 || isZlib(chunk) || this.brotliAtStart || this.deflateAtStart || unreadableFile(chunk) !== undefined)) return true;
    if (MARKERS.some((m) => chunk.indexOf(m) >= 0) || mayHoldBase64Start(chunk)) return true;
    // A base64 magic cut by the chunk boundary (one of its bytes searched for, in the tail).
    if (this.tail.length && mayHoldBase64Start(Buffer.concat([this.tail, chunk.subarray(0, SEAM)]))) return true;
    // A marker cut by the chunk boundary begins with one of their first bytes in the tail.
    if (this.tail.indexOf(0x1f) < 0 && this.tail.indexOf(0x50) < 0 && this.tail.indexOf(0x73) < 0 && this.tail.indexOf(0x62) < 0) return false;
    const seam = Buffer.concat([this.tail, chunk.subarray(0, SEAM)]);
    return MARKERS.some((m) => seam.indexOf(m) >= 0);
  }

  private async step(): Promise<void> {
    const bytes = this.buf;
    const base = this.bufFrom;
    const waitFor = this.findStarts(bytes, base);
    // Every inflater gets what it has not had yet.
    await Promise.all([...this.active, ...this.runs].map((a) => {
      const from = Math.max(a.fedTo, base) - base;
      a.fedTo = this.received;
      return 'feed' in a ? a.feed.feed(bytes.subarray(from), base + from) : a.inflation.feed(bytes.subarray(from));
    }));
    // Output comes before a write's callback; one more turn for any queued behind it.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const inflations = (): Inflation[] => [...this.active.map((a) => a.inflation), ...this.runs.flatMap((r) => (r.feed.inflation ? [r.feed.inflation] : []))];
    await Promise.all(inflations().map((i) => i.nested?.idle()));
    for (let k = this.active.length - 1; k >= 0; k--) {
      const i = this.active[k]!.inflation;
      if (i.ended) {
        this.settle(i);
        await this.endNested(i);
        this.active.splice(k, 1);
      }
    }
    for (let k = this.runs.length - 1; k >= 0; k--) {
      const f = this.runs[k]!.feed;
      if (!f.done) continue;
      if (f.inflation) {
        this.settle(f.inflation);
        await this.endNested(f.inflation);
      }
      this.runs.splice(k, 1);
    }
    this.watchHolds();
    if (this.failure) return;
    if (this.received - this.releasedTo > MAX_HELD) {
      this.failure = new UnscrubbableEncodingError('a compressed stream inside the answer kept more than 16 MiB back without showing it holds no secret');
      return;
    }
    // A zip header not yet whole waits; so does everything while inflated text ends in a possible start.
    if (inflations().some((i) => this.scrubber().spellsAtEnd(i.rest, SHORT_HOLD) || i.nested?.holds(i.nestedFed))) return;
    // Base64 characters not yet decoded (a partial quad) wait: decoded, they would be bytes the inflater has not had.
    this.release(Math.min(waitFor ?? this.received, ...this.runs.map((r) => r.feed.heldFrom ?? Infinity)));
  }

  /** Starts an inflater at each compressed stream beginning in the kept bytes; returns where a zip header not yet whole starts. */
  private findStarts(bytes: Buffer, base: number): number | undefined {
    let from = Math.max(0, this.searchFrom - base);
    if (base === 0 && from === 0) {
      // A zlib header is two bytes at the body's start: wait for the second.
      if (bytes.length < 2) return 0;
      const unreadable = unreadableFile(bytes);
      if (unreadable === -1) return 0;
      if (unreadable) {
        this.failure = new UnscrubbableEncodingError(`the answer is ${unreadable} data, which Airlock cannot decompress to read for secrets`);
        return 0;
      }
      if (isZlib(bytes)) {
        if (bytes.length < 6) return 0;
        this.startZlib(bytes, 0);
      }
      else if (this.brotliAtStart && bytes.indexOf(GZIP_MAGIC) !== 0 && bytes.indexOf(ZIP_LOCAL) !== 0) this.start(() => zlib.createBrotliDecompress(), 0, 'brotli');
      // Raw deflate has no header either: a `.deflate` export, what `zlib.deflateRawSync` or PHP's gzdeflate writes.
      if (this.deflateAtStart && !isZlib(bytes)) this.start(() => zlib.createInflateRaw(), 0, 'raw-guess', -0.5);
    }
    let incomplete: number | undefined;
    for (let g = bytes.indexOf(GZIP_MAGIC, from); g >= 0; g = bytes.indexOf(GZIP_MAGIC, g + 1)) {
      // The member's deflate data, read raw: Node's gunzip refuses what follows a member (a part's
      // boundary, a tar's padding) and drops the output of that write with it.
      const end = gzipHeaderEnd(bytes, g);
      if (end === -1) {
        incomplete = base + g;
        break;
      }
      if (end !== undefined) this.start(() => zlib.createInflateRaw(), base + end, 'raw');
    }
    for (let z = bytes.indexOf(ZIP_LOCAL, from); z >= 0 && (incomplete === undefined || base + z < incomplete); z = bytes.indexOf(ZIP_LOCAL, z + 1)) {
      const headerEnd = bytes.length >= z + 30 ? z + 30 + bytes.readUInt16LE(z + 26) + bytes.readUInt16LE(z + 28) : Infinity;
      if (bytes.length < headerEnd) {
        if (headerEnd === Infinity || headerEnd - z <= MAX_ZIP_HEADER) incomplete = Math.min(incomplete ?? Infinity, base + z);
        break;
      }
      const unreadable = unreadableZipEntry(bytes, z);
      if (unreadable) {
        this.failure = new UnscrubbableEncodingError(`the answer holds ${unreadable}, which Airlock cannot read for secrets`);
        return base + z;
      }
      if (bytes.readUInt16LE(z + 8) === 8) this.start(() => zlib.createInflateRaw(), base + headerEnd, 'raw');
      // A stored entry's text the scrubber before this stage read; its data is read as a body's
      // first bytes too, as a tar member's (eighteenth pass: a stored `.br`, `.deflate` or `.xz` file).
      else if (bytes.readUInt16LE(z + 8) === 0 && base + headerEnd > this.storedTo) {
        this.storedTo = base + headerEnd;
        this.members.push({ at: base + headerEnd, name: bytes.toString('latin1', z + 30, z + 30 + bytes.readUInt16LE(z + 26)) });
      }
    }
    for (let u = bytes.indexOf(UU_BEGIN, from); u >= 0 && (incomplete === undefined || base + u < incomplete); u = bytes.indexOf(UU_BEGIN, u + 1)) {
      const found = uuencodedAt(bytes, u);
      if (found === -1) {
        incomplete = Math.min(incomplete ?? Infinity, base + u);
        break;
      }
      if (found) {
        this.failure = new UnscrubbableEncodingError('the answer holds a uuencoded file (`begin 644 …`), which Airlock does not decode to read for secrets');
        return base + u;
      }
    }
    // A magic may straddle into the next chunk: search again from its possible start.
    for (const marker of PDF_STREAM) {
      for (let p = bytes.indexOf(marker, from); p >= 0 && (incomplete === undefined || base + p < incomplete); p = bytes.indexOf(marker, p + 1)) {
        const data = pdfStreamData(bytes, p);
        if (data === undefined) continue;
        const run = data === -1 || bytes.length < data + 6 ? -1 : isZlib(bytes.subarray(data)) ? undefined : textRunAt(bytes, data, isZlib);
        if (run === -1) {
          incomplete = Math.min(incomplete ?? Infinity, base + p);
          break;
        }
        // FlateDecode under ASCII85 or hex (ReportLab's default): decoded as it streams, then inflated.
        if (run) {
          if (this.mayStartAt(-1 - (base + data))) this.runs.push({ feed: new Base64Feed('zlib', this.feedMaker(), run), fedTo: base + data });
        } else if (isZlib(bytes.subarray(data))) this.startZlib(bytes.subarray(data), base + data);
      }
    }
    for (const { at, kind, twice } of base64Starts(bytes, from)) {
      if (incomplete !== undefined && base + at >= incomplete) break;
      this.startBase64(kind, base + at, bytes.subarray(at), twice === true);
    }
    const waiting = this.readContainer(bytes, base);
    if (this.failure) return base;
    if (waiting !== undefined) incomplete = Math.min(incomplete ?? Infinity, waiting);
    from = incomplete ?? base + Math.max(0, bytes.length - SEAM);
    this.searchFrom = Math.max(this.searchFrom, from);
    return incomplete;
  }

  /**
   * Walks the container's headers in the kept bytes; each member's data is read as a body's first
   * bytes (a zlib stream, data Node cannot decompress, a `.br` file). Returns where bytes must be
   * kept from: the container not decided, a header or a member's first bytes not whole yet.
   */
  private readContainer(bytes: Buffer, base: number): number | undefined {
    const end = base + bytes.length;
    let keep: number | undefined;
    // A tar's first header is read from the copy of the body's first bytes (sniffContainer).
    if (this.container && this.container !== -1 && !this.sniffing) {
      const { starts, waiting } = this.container.read(bytes, base);
      this.members.push(...starts);
      // Only bytes at hand are kept: a header or member further on brings its chunk here (mayStart).
      keep = waiting && this.container.next! < end ? this.container.next : undefined;
    }
    this.members = this.members.filter((m) => {
      // Ten bytes tell an xz, zstd or bzip2 file; a member that ends sooner is told by what came.
      if (end < m.at + 10) {
        if (m.at < end) keep = Math.min(keep ?? Infinity, m.at);
        return true;
      }
      const data = bytes.subarray(m.at - base);
      const unreadable = m.zlib ? undefined : unreadableFile(data);
      if (typeof unreadable === 'string') this.failure ??= new UnscrubbableEncodingError(`the answer holds ${m.name ? `a member (${m.name}) that is ` : ''}${unreadable} data, which Airlock cannot decompress to read for secrets`);
      else if (isZlib(data)) this.startZlib(data, m.at);
      else if (!m.zlib && /\.br$/i.test(m.name ?? '')) this.start(() => zlib.createBrotliDecompress(), m.at, 'brotli');
      else if (!m.zlib && GZIP_MAGIC.compare(data, 0, 3) !== 0 && mayBeDeflate(data.subarray(0, 4096))) this.start(() => zlib.createInflateRaw(), m.at, 'raw-guess', m.at + 0.5);
      return false;
    });
    return keep;
  }

  /**
   * A zlib stream at body offset `at` (`b`: its first 6 bytes or more). One with a preset
   * dictionary (FDICT) is read as raw deflate past its dictionary id (seventeenth pass: zlib
   * refuses it without the dictionary, a reader who knows it gets the text), with a stand-in
   * dictionary of zeros.
   */
  private startZlib(b: Buffer, at: number): void {
    if (b[1]! & 0x20) this.start(() => zlib.createInflateRaw({ dictionary: STAND_IN_DICTIONARY }), at + 6, 'dict');
    else this.start(() => zlib.createInflate(), at, 'zlib');
  }

  /** `key`: what marks the start as made (another reading of the same bytes, a guess beside a brotli guess, has its own). */
  private start(make: () => Inflater, at: number, kind: Packing, key = at): void {
    if (!this.mayStartAt(key)) return;
    this.active.push({ inflation: this.inflation(make(), kind), fedTo: at });
  }

  /**
   * A base64 run opening with a compressed stream at body offset `at` (`rest`: the kept bytes from
   * there): one that ends in them is decoded and read at once (a page of records, each a gzip blob,
   * must not open an inflater per record); one that goes on is decoded as it streams.
   */
  private startBase64(kind: Base64Packing, at: number, rest: Buffer, twice = false): void {
    // Its own key: a binary start at the same offset is another reading.
    if (this.startedAt.has(-1 - at)) return;
    const run = twice ? new TwiceRun() : new Base64Run();
    const decoded = run.feed(rest);
    if (run.ended) {
      // Read at once, in this turn, only while it inflates to little: within BLOB_AT_ONCE, within
      // what the answer may still inflate to (its ratio to the bytes received, as a stream's), and
      // while no more than MAX_BROKEN_STREAMS of the answer's blobs broke off. One that goes past
      // is read as a stream instead, a piece a turn (twenty-sixth pass: each blob had 16 MiB of its
      // own, inflated and matched in one turn: a JSON answer of base64 gzip bombs of 22 KB held the
      // event loop ~0.5 s per blob, past the answer's inflation ratio).
      const budget = this.blobBudget;
      budget.left = Math.min(BLOB_AT_ONCE, this.inflationLeft());
      try {
        const texts = binaryPackedTexts(Buffer.concat([decoded, run.end()]), budget);
        this.startedAt.add(-1 - at);
        const scrubber = this.scrubber();
        for (const text of texts) {
          this.inflated += text.length;
          if (scrubber.scrubString(text) !== text) this.failure ??= new UnscrubbableEncodingError('a compressed stream inside the answer (written as base64) holds a secret');
        }
        return;
      } catch (err) {
        if (!(err instanceof PastBudget)) {
          this.startedAt.add(-1 - at);
          this.failure ??= err instanceof ForbiddenContentError ? new UnscrubbableEncodingError(err.message) : (err as Error);
          return;
        }
        // Past what is read at once: read as a stream (its inflation counted, its ratio checked, as any stream's).
      }
    }
    if (!this.mayStartAt(-1 - at)) return;
    this.runs.push({ feed: new Base64Feed(kind, this.feedMaker(), twice ? new TwiceRun() : new Base64Run()), fedTo: at });
  }

  /** The inflater a decoded text run's bytes go to. */
  private feedMaker(): (k: Packing) => Inflation {
    return (k) => this.inflation(k === 'gzip' ? zlib.createGunzip() : k === 'raw' ? zlib.createInflateRaw() : zlib.createInflate(), k);
  }

  private inflation(stream: Inflater, kind: Packing): Inflation {
    const i = new Inflation(stream, kind, (self, text) => this.check(self, text, false));
    // Eighteenth pass: what a stream inflates to is read as a body in turn (a `.gz` inside a
    // `.tar.gz`, a zip of `.gz` files, a `.gz` of a `.gz`), to NESTED_DEPTH layers.
    if (this.depth < NESTED_DEPTH) {
      const nested = new PackedScan(this.scrubber, new PassThrough(), false, undefined, this.depth + 1);
      nested.on('error', (err: Error) => { this.failure ??= err; });
      nested.resume();
      i.nested = nested;
    }
    return i;
  }

  /** Whether this stage still holds bytes back, or has some to read: what came before them cannot go on yet. */
  holds(fed: number): boolean {
    return this.releasedTo < fed || this.failure !== undefined;
  }

  /** Resolves once what was written so far has been read (the chunks queued have had their turn). */
  idle(): Promise<void> {
    return this.queue;
  }

  /** An inflater's text goes to its nested reading too (from `from`: salvaged text repeats what went before). */
  private feedNested(i: Inflation, text: Buffer): void {
    if (!i.nested || !text.length || i.nested.destroyed) return;
    i.nestedFed += text.length;
    i.nested.write(text);
  }

  /** Ends an inflater's nested reading and waits for its last text to be read (its failure is this stage's). */
  private async endNested(i: Inflation): Promise<void> {
    const nested = i.nested;
    if (!nested) return;
    i.nested = undefined;
    if (!nested.destroyed) nested.end();
    await finished(nested).catch((err: Error) => { this.failure ??= err; });
  }

  /** Whether a stream may start at `at` (not started there yet, not too many at once: past that the answer is refused). */
  private mayStartAt(at: number): boolean {
    // Refused already: no more starts (twenty-sixth pass: every magic after the refusal was still
    // added, and past 64 each walked them all: 16,000 gzip magics in a 64 KB chunk held the event
    // loop ~0.3 s). The starts behind the search are dropped once they doubled since the last drop.
    if (this.failure || this.startedAt.has(at)) return false;
    if (this.startedAt.size >= this.pruneAt) {
      for (const s of this.startedAt) if ((s < 0 ? -1 - s : s) < this.searchFrom - 4) this.startedAt.delete(s);
      this.pruneAt = Math.max(64, 2 * this.startedAt.size);
    }
    this.startedAt.add(at);
    if (this.active.length + this.runs.length >= MAX_ACTIVE) {
      this.failure ??= new UnscrubbableEncodingError(`the answer holds more than ${MAX_ACTIVE} compressed streams at once, which cannot all be read for secrets`);
      return false;
    }
    return true;
  }

  /** What the answer may still inflate to: MAX_INFLATED, and MAX_RATIO times the bytes received past the first MiB. */
  private inflationLeft(): number {
    return Math.max(0, Math.min(MAX_INFLATED, Math.max(RATIO_AFTER, MAX_RATIO * this.received)) - this.inflated);
  }

  /** An inflater's end: its last text matched, and what zlib refused read again as a reader would. */
  private settle(i: Inflation): void {
    if (!i.failed) return this.check(i, Buffer.alloc(0), true);
    if (this.failure) return;
    let text: Buffer | undefined;
    try {
      // What is left of the answer's inflation budget, and at most SALVAGE_MAX per try.
      text = i.salvage(Math.min(SALVAGE_MAX, MAX_INFLATED - this.inflated, Math.max(RATIO_AFTER, MAX_RATIO * this.received) - this.inflated));
    } catch (err) {
      if (!(err instanceof SalvageTooLarge)) throw err;
      this.failure = new UnscrubbableEncodingError('a compressed stream inside the answer breaks off after expanding past what is read for secrets (a decompression bomb)');
      return;
    }
    // A guessed brotli start that breaks off after a MiB is no brotli stream (binary data that read as one for a while).
    if (!text && (i.kind === 'brotli' || i.kind === 'raw-guess')) return;
    if (!text) {
      this.failure ??= new UnscrubbableEncodingError('a compressed stream inside the answer broke off after more than 1 MiB; what a reader gets from it cannot be read for secrets');
      return;
    }
    // The whole salvaged text: what was matched before is matched again, in one piece (its nested reading gets what it had not).
    i.rest = '';
    this.feedNested(i, text.subarray(i.nestedFed));
    this.check(i, text, true, false);
  }

  /** Matches inflated text (after what its inflater's text held back) for the secrets. */
  private check(i: Inflation, text: Buffer, final: boolean, nested = true): void {
    if (this.failure) return;
    if (nested) this.feedNested(i, text);
    this.inflated += text.length;
    if (this.inflated > MAX_INFLATED || (this.inflated > RATIO_AFTER && this.inflated > MAX_RATIO * this.received)) {
      this.failure = new UnscrubbableEncodingError('a compressed stream inside the answer expands past what is read for secrets (a decompression bomb or a very large archive)');
      i.stop();
      return;
    }
    const all = i.rest + text.toString('latin1');
    i.rest = '';
    if (!all) return;
    try {
      const scrubber = this.scrubber();
      const r = final ? { out: scrubber.scrubString(all), rest: '' } : scrubber.scrubPartial(all);
      if (r.out !== all.slice(0, all.length - r.rest.length)) {
        this.failure = new UnscrubbableEncodingError('a compressed stream inside the answer (no Content-Encoding declares it) holds a secret');
        return;
      }
      i.rest = r.rest;
    } catch (err) {
      this.failure = err instanceof ForbiddenContentError ? new UnscrubbableEncodingError(err.message) : (err as Error);
    }
  }

  /** Passes on the kept bytes before body offset `to`; keeps only what a search or a header still needs. */
  private release(to: number): void {
    if (to > this.releasedTo) {
      const from = this.releasedTo;
      this.releasedTo = to;
      this.pass(this.buf.subarray(from - this.bufFrom, to - this.bufFrom));
    }
    const keep = Math.max(this.bufFrom, Math.min(this.releasedTo, this.searchFrom) - SEAM);
    if (keep > this.bufFrom) {
      this.buf = this.buf.subarray(keep - this.bufFrom);
      this.bufFrom = keep;
    }
    if (this.releasedTo === this.received) this.tail = this.buf.subarray(Math.max(0, this.buf.length - SEAM));
  }
}

/**
 * Whether data may begin a brotli stream: its first bytes decode without a format error (data that
 * is none fails within a few bytes). Output past a MiB counts as brotli (read on the side, bounded).
 */
function mayBeBrotli(chunk: Buffer): boolean {
  if (chunk.indexOf(GZIP_MAGIC) === 0 || chunk.indexOf(ZIP_LOCAL) === 0) return false;
  try {
    zlib.brotliDecompressSync(chunk.subarray(0, 64 * 1024), { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH, maxOutputLength: 1024 * 1024 });
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
  }
}

/**
 * Whether data may begin a raw deflate stream: its first bytes inflate without an error (random
 * data fails within a few bytes: about 1 in 200 random 4 KiB chunks reads through, and is matched
 * like any other text it gives). Output past a MiB counts as deflate (read on the side, bounded).
 */
function mayBeDeflate(chunk: Buffer): boolean {
  if (chunk.indexOf(GZIP_MAGIC) === 0 || chunk.indexOf(ZIP_LOCAL) === 0) return false;
  try {
    // A first chunk of a few bytes may give nothing yet (a stream written piecemeal): guessed at.
    return zlib.inflateRawSync(chunk.subarray(0, 64 * 1024), { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: 1024 * 1024 }).length > 0 || chunk.length < 64;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
  }
}

/** Control bytes no text holds (NUL, C0 but tab, line ends and form feed, DEL). */
const CONTROL = /[\x00-\x08\x0b\x0e-\x1f\x7f]/;
const NON_ASCII = /[\x80-\xff]/;
/**
 * Whether the first bytes of an answer typed as text are no text (a control byte, no UTF-8), or too
 * few to tell. `whole`: the chunk is a whole message, so a few bytes of text are text.
 */
function binaryStart(chunk: Buffer, whole = false): boolean {
  // Too few bytes to tell (a stream written a few bytes at a time): guessed at.
  if (chunk.length < 8 && !whole) return true;
  const head = chunk.subarray(0, 512);
  const text = head.toString('latin1');
  if (CONTROL.test(text)) return true;
  // ASCII is UTF-8: no decoder needed (making one costs more than the rest of a header's reading).
  if (!NON_ASCII.test(text)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
    return false;
  } catch {
    return true;
  }
}

/** Where a zlib stream at `at` is read from: past its dictionary id, raw, when it has a preset dictionary. */
const zlibAt = (b: Buffer, at: number): { at: number; raw: boolean; dict?: boolean } => (b[1]! & 0x20 ? { at: at + 6, raw: true, dict: true } : { at, raw: false });

/** A zlib header: CM=8, a window of at most 32 KiB, a checksum divisible by 31. */
const isZlib = (b: Buffer): boolean => b.length >= 2 && (b[0]! & 0x0f) === 8 && b[0]! >> 4 <= 7 && ((b[0]! << 8) | b[1]!) % 31 === 0;

/**
 * Where a gzip member's deflate data begins (RFC 1952: the fixed header, then the extra field,
 * name, comment and header CRC its flags announce); -1 while the header is not whole yet,
 * undefined when this is no gzip header (reserved flags set).
 */
function gzipHeaderEnd(b: Buffer, at: number): number | undefined {
  if (b.length < at + 10) return -1;
  const flags = b[at + 3]!;
  if (flags & 0xe0) return undefined;
  let i = at + 10;
  if (flags & 4) {
    if (b.length < i + 2) return -1;
    i += 2 + b.readUInt16LE(i);
  }
  for (const bit of [8, 16]) {
    if (!(flags & bit)) continue;
    const nul = b.indexOf(0, i);
    if (nul < 0) return b.length - at > MAX_ZIP_HEADER ? undefined : -1;
    i = nul + 1;
  }
  if (flags & 2) i += 2;
  return b.length < i ? -1 : i;
}

/** Inflated output of one whole message at most, all its streams together (past it the message is refused). */
const MAX_MESSAGE_INFLATED = 16 * 1024 * 1024;
/**
 * Streams of one message that zlib refuses, at most: each costs a synchronous inflate of up to the
 * budget, then the halving's. One per start is never the case of real data (a magic there by chance
 * fails within a few bytes, and costs as little); past this the message is refused.
 */
const MAX_BROKEN_STREAMS = 2;
/** Inflated output of one try of the halving (a broken stream read again as a reader would). */
const MESSAGE_SALVAGE_MAX = 1024 * 1024;

/**
 * Inflated output of a base64 blob an answer's stage reads at once, in one turn (twenty-sixth
 * pass; past it the blob is read as a stream, a piece a turn): a record's small gzip'd document.
 */
const BLOB_AT_ONCE = 1024 * 1024;

/** A message's reading went past its budget (inflated size or broken streams): refused, or read otherwise by a caller that can. */
class PastBudget extends UnscrubbableEncodingError {}

/** What one message's reading may still spend (shared by its base64 blobs). */
export interface MessageBudget {
  left: number;
  broken: number;
}

/**
 * The budget of a whole message of `bytes` (or of a response's headers together): 16 MiB at most,
 * and past the first MiB no more than MAX_RATIO times its size, as an answer's streams (twenty-sixth
 * pass: every message and every header value had 16 MiB of its own, inflated and matched in one
 * turn: a 4 KB header of base64 gzip held the event loop ~0.17 s, a 16 KB WebSocket message ~0.45 s,
 * each one again).
 */
export function messageBudget(bytes: number): MessageBudget {
  return { left: Math.min(MAX_MESSAGE_INFLATED, Math.max(RATIO_AFTER, MAX_RATIO * bytes)), broken: 0 };
}

/**
 * The texts compressed streams inside one whole message inflate to (a WebSocket message, a header
 * value): the same starts as PackedScan, written as bytes or as base64, read at once. `anywhere`:
 * base64 magics after any character too (proxy/packed-base64.ts base64Starts). A stream zlib refuses is read as far as a reader gets (the
 * longest prefix that inflates, within its first MiB). Throws UnscrubbableEncodingError when they
 * inflate past 16 MiB together, or more than two of them break off (sixteenth pass: every start
 * was inflated whole on the main thread, each up to 16 MiB, then halved: a 61 KB message of four
 * broken gzip members of zeros held the event loop 4.4 s, 64 of them a minute).
 */
export function packedTexts(buf: Buffer, anywhere = false, budget: MessageBudget = messageBudget(buf.length)): string[] {
  return [...binaryPackedTexts(buf, budget), ...base64Blobs(buf, anywhere).flatMap((b) => binaryPackedTexts(b, budget))];
}

function binaryPackedTexts(buf: Buffer, budget: MessageBudget, depth = 0): string[] {
  const unreadable = unreadableFile(buf);
  if (typeof unreadable === 'string') throw new UnscrubbableEncodingError(`the message is ${unreadable} data, which Airlock cannot decompress to read for secrets`);
  for (let u = buf.indexOf(UU_BEGIN); u >= 0; u = buf.indexOf(UU_BEGIN, u + 1)) {
    if (uuencodedAt(buf, u) === true) throw new UnscrubbableEncodingError('the message holds a uuencoded file (`begin 644 …`), which Airlock does not decode to read for secrets');
  }
  const starts: Array<{ at: number; raw: boolean; dict?: boolean; src?: Buffer }> = [];
  const out: string[] = [];
  // Eighteenth pass: what is read inside is read as a message in turn (a `.gz` in a `.tar.gz`, a
  // stored zip entry, a tar member that is brotli), to NESTED_DEPTH layers.
  const inner = (data: Buffer): void => {
    if (depth < NESTED_DEPTH) out.push(...binaryPackedTexts(data, budget, depth + 1));
  };
  // A tar's members and a PNG's compressed text chunks, each read as a message of its own would be.
  const container = containerOf(buf);
  for (const m of container && container !== -1 ? container.read(buf, 0).starts.slice(0, 64) : []) {
    const data = buf.subarray(m.at);
    const member = m.zlib ? undefined : unreadableFile(data);
    if (typeof member === 'string') throw new UnscrubbableEncodingError(`the message holds ${m.name ? `a member (${m.name}) that is ` : ''}${member} data, which Airlock cannot decompress to read for secrets`);
    if (isZlib(data)) starts.push(zlibAt(data, m.at));
    else if (!m.zlib) inner(data);
  }
  // A message whose first bytes are no text may be brotli or raw deflate from its first byte (as an
  // answer's: a WebSocket API that sends each message compressed so, OKX's raw deflate).
  // (A whole message: a short header value of text is text, not guessed at; every response header
  // of a host that got a secret passes here, and each failed guess cost an error with its stack.)
  if (!isZlib(buf) && buf.indexOf(GZIP_MAGIC) !== 0 && buf.indexOf(ZIP_LOCAL) !== 0 && binaryStart(buf, true)) {
    for (const guess of [zlib.brotliDecompressSync, zlib.inflateRawSync] as const) {
      let text: Buffer | undefined;
      // Most binary messages are neither: zlib's refusal is the common case, kept cheap.
      const stackLimit = Error.stackTraceLimit;
      Error.stackTraceLimit = 0;
      try {
        text = guess(buf, { finishFlush: guess === zlib.brotliDecompressSync ? zlib.constants.BROTLI_OPERATION_FLUSH : zlib.constants.Z_SYNC_FLUSH, maxOutputLength: Math.max(1, budget.left) });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new PastBudget('a compressed stream inside the message expands past what is read for secrets');
      } finally {
        Error.stackTraceLimit = stackLimit;
      }
      if (!text?.length) continue;
      budget.left -= text.length;
      out.push(text.toString('latin1'));
      inner(text);
    }
  }
  if (!starts.length && !MARKERS.some((m) => buf.indexOf(m) >= 0) && !isZlib(buf)) return out;
  if (isZlib(buf)) starts.push(zlibAt(buf, 0));
  for (let g = buf.indexOf(GZIP_MAGIC); g >= 0; g = buf.indexOf(GZIP_MAGIC, g + 1)) {
    const end = gzipHeaderEnd(buf, g);
    if (end !== undefined && end >= 0) starts.push({ at: end, raw: true });
  }
  for (let z = buf.indexOf(ZIP_LOCAL); z >= 0 && z + 30 <= buf.length; z = buf.indexOf(ZIP_LOCAL, z + 1)) {
    const entry = unreadableZipEntry(buf, z);
    if (entry) throw new UnscrubbableEncodingError(`the message holds ${entry}, which Airlock cannot read for secrets`);
    const data = z + 30 + buf.readUInt16LE(z + 26) + buf.readUInt16LE(z + 28);
    if (buf.readUInt16LE(z + 8) === 8) starts.push({ at: data, raw: true });
    else if (buf.readUInt16LE(z + 8) === 0 && data < buf.length) inner(buf.subarray(data));
  }
  for (const marker of PDF_STREAM) {
    for (let p = buf.indexOf(marker); p >= 0; p = buf.indexOf(marker, p + 1)) {
      const data = pdfStreamData(buf, p);
      if (data === undefined || data === -1) continue;
      if (isZlib(buf.subarray(data))) starts.push(zlibAt(buf.subarray(data), data));
      const run = textRunAt(buf, data, isZlib);
      if (run && run !== -1) {
        // FlateDecode under ASCII85 or hex: the text decoded, then read from its zlib header.
        const decoded = Buffer.concat([run.feed(buf, data), run.end()]);
        starts.push({ ...zlibAt(decoded, 0), src: decoded });
      }
    }
  }
  const tooLarge = (): UnscrubbableEncodingError => new PastBudget('a compressed stream inside the message expands past what is read for secrets');
  for (const { at, raw, dict, src = buf } of starts.slice(0, 64)) {
    const inflate = (n: number, most: number): Buffer | undefined => {
      try {
        return (raw ? zlib.inflateRawSync : zlib.inflateSync)(src.subarray(at, at + n), { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: Math.max(1, most), ...(dict ? { dictionary: STAND_IN_DICTIONARY } : {}) });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge();
        return undefined;
      }
    };
    let text = inflate(src.length - at, budget.left);
    if (!text) {
      if (++budget.broken > MAX_BROKEN_STREAMS) throw new PastBudget(`more than ${MAX_BROKEN_STREAMS} compressed streams inside the message break off, which cannot all be read for secrets`);
      // Refused somewhere: the longest prefix that inflates (what a reader feeding it piece by piece gets).
      text = longestInflatingPrefix((n) => inflate(n, Math.min(budget.left, MESSAGE_SALVAGE_MAX)), Math.min(src.length - at, KEEP_FED));
    }
    budget.left -= text.length;
    if (budget.left < 0) throw tooLarge();
    if (text.length) {
      out.push(text.toString('latin1'));
      inner(text);
    }
  }
  return out;
}

/**
 * What `inflate` gives for the longest prefix (up to `most` bytes) it accepts, found by halving:
 * what a reader feeding a stream zlib refused in small pieces gets up to the bad byte.
 */
function longestInflatingPrefix(inflate: (n: number) => Buffer | undefined, most: number): Buffer {
  let lo = 0;
  let hi = most;
  let best: Buffer = Buffer.alloc(0);
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    const out = inflate(mid);
    if (out) {
      best = out;
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return best;
}
