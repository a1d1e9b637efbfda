// A PDF stream's data as PDF readers find it (eighteenth pass). proxy/packed-scan.ts inflates a
// `FlateDecode` stream after its `stream` keyword; readers also take a lone CR as the keyword's
// line end (pdf.js, poppler), and a stream may be written as ASCII85 or hex text over the
// compressed bytes (`/Filter [/ASCII85Decode /FlateDecode]`: ReportLab's default output): no
// magic shows in that text, so the service's PDF export of a record handed the key to an agent
// that reads the PDF. The runs here decode such text piece by piece, as the base64 runs of
// proxy/packed-base64.ts do, for the inflater behind them.

/** Where a stream's data begins after the `stream` keyword at `p`: -1 while its line end is not whole; undefined: no keyword's line end. */
export function pdfStreamData(b: Buffer, p: number): number | -1 | undefined {
  const at = p + STREAM.length;
  if (b.length <= at) return -1;
  if (b[at] === 0x0a) return at + 1;
  if (b[at] !== 0x0d) return undefined;
  if (b.length <= at + 1) return -1;
  return b[at + 1] === 0x0a ? at + 2 : at + 1;
}

/** The keyword before a stream's data (searched for; its line end read by pdfStreamData). */
export const STREAM = Buffer.from('stream');

/** A text run decoded as it streams: `feed` returns the bytes decoded so far, `heldFrom` where the characters not yet decoded begin. */
export interface TextRun {
  ended: boolean;
  readonly heldFrom: number | undefined;
  feed(b: Buffer, from?: number, to?: number, offset?: number): Buffer;
  end(): Buffer;
}

const WHITE = new Set([0x20, 0x0a, 0x0d, 0x09, 0x0c, 0x00]);

/** ASCII85 (`/ASCII85Decode`): groups of five of `!`–`u`, `z` for four zero bytes, white space skipped, `~>` ends it. */
export class Ascii85Run implements TextRun {
  private group: number[] = [];
  private groupAt = -1;
  ended = false;

  get heldFrom(): number | undefined {
    return this.ended || !this.group.length ? undefined : this.groupAt;
  }

  feed(b: Buffer, from = 0, to = b.length, offset = 0): Buffer {
    const out: number[] = [];
    for (let i = from; i < to && !this.ended; i++) {
      const c = b[i]!;
      if (WHITE.has(c)) continue;
      if (c === 0x7e) {
        this.ended = true;
        break;
      }
      if (c === 0x7a && !this.group.length) {
        out.push(0, 0, 0, 0);
        continue;
      }
      if (c < 0x21 || c > 0x75) {
        this.ended = true;
        break;
      }
      if (!this.group.length) this.groupAt = offset + i;
      this.group.push(c - 33);
      if (this.group.length === 5) out.push(...this.take(5));
    }
    return Buffer.from(out);
  }

  end(): Buffer {
    this.ended = true;
    const n = this.group.length;
    return n > 1 ? Buffer.from(this.take(n)) : Buffer.alloc(0);
  }

  /** The bytes of a group of `n` digits (a short last group padded with `u`, as decoders do). */
  private take(n: number): number[] {
    let v = 0;
    for (let k = 0; k < 5; k++) v = v * 85 + (this.group[k] ?? 84);
    this.group = [];
    return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff].slice(0, n - 1);
  }
}

/** Hex (`/ASCIIHexDecode`): pairs of hex digits, white space skipped, `>` ends it (an odd last digit reads as followed by 0). */
export class HexRun implements TextRun {
  private half = -1;
  private halfAt = -1;
  ended = false;

  get heldFrom(): number | undefined {
    return this.ended || this.half < 0 ? undefined : this.halfAt;
  }

  feed(b: Buffer, from = 0, to = b.length, offset = 0): Buffer {
    const out: number[] = [];
    for (let i = from; i < to && !this.ended; i++) {
      const c = b[i]!;
      if (WHITE.has(c)) continue;
      const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66 ? (c | 0x20) - 0x57 : -1;
      if (d < 0) {
        this.ended = true;
        break;
      }
      if (this.half < 0) {
        this.half = d;
        this.halfAt = offset + i;
      } else {
        out.push((this.half << 4) | d);
        this.half = -1;
      }
    }
    return Buffer.from(out);
  }

  end(): Buffer {
    this.ended = true;
    const last = this.half;
    this.half = -1;
    return last >= 0 ? Buffer.from([last << 4]) : Buffer.alloc(0);
  }
}

/**
 * Which text run a stream's data at `at` opens with when its first decoded bytes satisfy `opens`
 * (a zlib header), with a fresh run; -1 while too few characters are at hand to tell.
 */
export function textRunAt(b: Buffer, at: number, opens: (first: Buffer) => boolean): TextRun | -1 | undefined {
  for (const make of [() => new Ascii85Run(), () => new HexRun()]) {
    const probe = make();
    const first = probe.feed(b.subarray(at, at + 64));
    if (first.length >= 2 ? opens(first) : !probe.ended && b.length - at < 64) return first.length >= 2 ? make() : -1;
  }
  return undefined;
}
