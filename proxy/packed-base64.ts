// Compressed data written as base64 text: a Flask or Django signed session cookie
// (`session=.eJw…`: base64url of a zlib stream, signed but readable), a gzip payload in a JSON
// field (`"data":"H4sI…"`: CloudWatch Logs and Kinesis records, Helm releases), a data: URL. A
// service that keeps its record of a credential that way hands the value to an agent that decodes
// the base64 and inflates it, past every spelling the scrubber matches (the value is never written
// out) and past proxy/packed-scan.ts, which looks for the compressed stream's bytes, not its base64.
//
// Found by the base64 of the stream's first bytes: `H4sI` (gzip, 1f 8b 08), `eJw`–`eJz`, `eNo`–`eNr`,
// `eAE`–`eAH`, `eF4`–`eF7` (zlib at every compression level: 78 9c, 78 da, 78 01, 78 5e) and `UEsDB`
// (a zip, PK\3\4) — in a streamed body at the start of a run only (after a character that cannot be
// base64; zlib at every level there since the twenty-seventh pass, only as `.eJ` before: see base64Starts).
// Since the twenty-seventh pass also such a run written as base64 again, where a run begins (a Helm
// release in a Kubernetes Secret: base64 of `H4sI…`), read through both layers (TwiceRun). The run may be wrapped (line breaks, JSON's
// `\n`, `\r`) and escaped (`\/`, percent-encoded `+` and `/`).

/** Which decoder a base64 run's bytes open with. */
export type Base64Packing = 'gzip' | 'zlib' | 'zip';

/** Base64 characters of both alphabets (standard and URL-safe). */
const B64 = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_') B64[c.charCodeAt(0)] = 1;
const isB64 = (b: number | undefined): boolean => b !== undefined && B64[b] === 1;

const J = 0x4a;
const N = 0x4e;
const A = 0x41;
const F = 0x46;
const E = 0x65;

/** The base64 of a zlib header at each level (78 9c, 78 da, 78 01, 78 5e): two characters and the third's range. */
const ZLIB_START = /e(?:J[w-z]|N[o-r]|A[E-H]|F[4-7])/g;

/**
 * Where a base64 run opening with a compressed stream begins in `b`, at or after `from` (the
 * magic's first character), and what it opens with. A magic cut by the end of `b` is not found:
 * the caller searches again from a few bytes before the end when more comes.
 *
 * `whole` (a header value, a WebSocket message: read once) looks for every magic; `anywhere`
 * (header values, short) after any character too (a chunked cookie's first piece follows the value
 * before it when a client joins them), else only where a run begins (after a character base64 does
 * not use: inside a long blob a magic met by chance would have it decoded again from there).
 * A streamed body is searched for `H4sI`, `UEsDB` and, since the twenty-seventh pass, every zlib
 * level's start where a run begins (`"eJzT…"` in a JSON field: Python's `b64encode(zlib.compress(…))`,
 * not only a signed payload's `.eJ`): one regex over the chunk's latin1 text, ~1 ms a MiB of text
 * or binary (the gzip and zip searches ~0.1 ms; a call per `J`, `N`, `A`, `F` cost 1–2 ms, and
 * four two-character searches 1.2–6 ms on text full of `typeA`, `lineNo`).
 */
export function base64Starts(b: Buffer, from: number, opts: { whole?: boolean; anywhere?: boolean; first?: boolean } = {}): Array<{ at: number; kind: Base64Packing; twice?: true }> {
  const { whole = false, anywhere = false, first = false } = opts;
  const out: Array<{ at: number; kind: Base64Packing; twice?: true }> = [];
  const boundary = (at: number): boolean => at >= from && (anywhere || !isB64(b[at - 1]));
  for (let i = b.indexOf('H4sI', from, 'latin1'); i >= 0; i = b.indexOf('H4sI', i + 1, 'latin1')) {
    if (boundary(i) && i + 4 < b.length) out.push({ at: i, kind: 'gzip' });
    if (first && out.length) return out;
  }
  if (whole) {
    // zlib: `e`, the second character (searched: rarer than `e`), a third from the level's range.
    for (const [second, lo, hi] of [[J, 0x77, 0x7a], [N, 0x6f, 0x72], [A, 0x45, 0x48], [F, 0x34, 0x37]] as const) {
      for (let i = b.indexOf(second, from + 1); i >= 0; i = b.indexOf(second, i + 1)) {
        const third = b[i + 1];
        if (b[i - 1] === E && third !== undefined && third >= lo && third <= hi && i + 2 < b.length && boundary(i - 1)) out.push({ at: i - 1, kind: 'zlib' });
      }
    }
  } else {
    // Twenty-seventh pass: every level's start where a run begins, not only a signed payload's
    // `.eJ`: `base64.b64encode(zlib.compress(…))` in a JSON field or a line of text (`"eJzT…"`) was
    // never inflated. Two characters searched at once (V8's indexOf skips through text at memchr
    // speed; a search led by one character, or a call per second character, was what cost 1–2 ms
    // a MiB); the third from the level's range, the run's start after a character base64 does not use.
    const text = b.toString('latin1', from);
    ZLIB_START.lastIndex = 0;
    for (let m = ZLIB_START.exec(text); m !== null; m = ZLIB_START.exec(text)) {
      const i = from + m.index;
      if (i + 3 < b.length && boundary(i)) out.push({ at: i, kind: 'zlib' });
      if (first && out.length) return out;
    }
  }
  for (let i = b.indexOf('UEsDB', from, 'latin1'); i >= 0; i = b.indexOf('UEsDB', i + 1, 'latin1')) {
    if (boundary(i) && i + 5 < b.length) out.push({ at: i, kind: 'zip' });
    if (first && out.length) return out;
  }
  // Twenty-seventh pass: such a run written as base64 again where a run begins (a Helm release in a
  // Kubernetes Secret's `data`: base64 of `H4sI…`; a base64 payload put in a base64 envelope):
  // `SDRzS` (gzip), `ZUp3`–`ZUp6`, `ZU5v`–`ZU5y`, `ZUFF`–`ZUFI`, `ZUY0`–`ZUY3` (zlib), `VUVzRE` (a zip).
  for (const [magic, kind] of TWICE_MAGICS) {
    for (let i = b.indexOf(magic, from); i >= 0; i = b.indexOf(magic, i + 1)) {
      const fourth = b[i + 3];
      const ok = kind !== 'zlib' || (fourth !== undefined && TWICE_ZLIB_FOURTH[b[i + 2]!]?.includes(fourth) === true);
      if (ok && boundary(i) && i + 6 < b.length) out.push({ at: i, kind, twice: true });
      if (first && out.length) return out;
    }
  }
  return out.sort((x, y) => x.at - y.at);
}

/** The base64 of each magic above (their first characters a run begins with), and the decoder it opens. */
const TWICE_MAGICS: ReadonlyArray<readonly [Buffer, Base64Packing]> = [[Buffer.from('SDRzS'), 'gzip'], [Buffer.from('ZU'), 'zlib'], [Buffer.from('VUVzRE'), 'zip']];
/** zlib's base64 starts written again: the third character of `ZU?`, and the fourths it may have. */
const TWICE_ZLIB_FOURTH: Readonly<Partial<Record<number, number[]>>> = {
  [0x70]: [...'3456'].map((c) => c.charCodeAt(0)), // ZUp: eJw–eJz
  [0x35]: [...'vwxy'].map((c) => c.charCodeAt(0)), // ZU5: eNo–eNr
  [0x46]: [...'FGHI'].map((c) => c.charCodeAt(0)), // ZUF: eAE–eAH
  [0x59]: [...'0123'].map((c) => c.charCodeAt(0)), // ZUY: eF4–eF7
};

/** Whether a streamed body's `b` holds such a start (a magic cut by its end is found in the next chunk's seam). */
export function mayHoldBase64Start(b: Buffer): boolean {
  return base64Starts(b, 0, { first: true }).length > 0;
}

/**
 * Reads a base64 run as a decoder does, piece by piece: base64 characters are kept, line breaks
 * and JSON's `\n`, `\r`, `\/`, `%2B`, `%2F` pass over, anything else ends the run (padding too). `feed`
 * returns the bytes decoded so far (whole quads); `heldFrom` is where the characters not yet
 * decoded begin (a reader decoding them gets bytes the inflater has not had: they wait).
 */
export class Base64Run {
  private quad = '';
  /** Offsets of the characters in `quad`. */
  private quadAt: number[] = [];
  /** An escape begun (`\\`, `%`, `%2`) at the end of the last piece, and where: it ends in the next. */
  private escape = '';
  private escapeAt = -1;
  ended = false;

  /** The offset of the first character not yet decoded (undefined: none). */
  get heldFrom(): number | undefined {
    if (this.ended) return undefined;
    const at = this.quadAt[0] ?? this.escapeAt;
    return at >= 0 ? at : undefined;
  }

  /** `offset`: the offset of `b[0]` in the whole text. */
  feed(b: Buffer, from = 0, to = b.length, offset = 0): Buffer {
    // Stretches of base64 characters are cut out whole (a character loop only finds their ends).
    const pieces = [this.quad];
    const starts = [-1];
    let i = from;
    while (i < to && !this.ended) {
      if (this.escape) {
        // JSON's `\/`, `\n`, `\r`; percent-encoded `+` and `/` (a cookie or a URL: Express's res.cookie()).
        const e = this.escape + String.fromCharCode(b[i++]!).toUpperCase();
        if (e === '%2' || e === '%3') {
          this.escape = e;
          continue;
        }
        const c = e === '\\/' || e === '%2F' ? '/' : e === '%2B' ? '+' : e === '\\N' || e === '\\R' ? '' : undefined;
        if (c === undefined) this.ended = true;
        else if (c) {
          pieces.push(c);
          starts.push(this.escapeAt);
        }
        this.escape = '';
        this.escapeAt = -1;
        continue;
      }
      let j = i;
      while (j < to && B64[b[j]!] === 1) j++;
      if (j > i) {
        pieces.push(b.toString('latin1', i, j));
        starts.push(offset + i);
      }
      if (j >= to) {
        i = j;
        break;
      }
      const c = b[j]!;
      if (c === 0x5c || c === 0x25) {
        this.escape = c === 0x5c ? '\\' : '%';
        this.escapeAt = offset + j;
      } else if (c !== 0x0a && c !== 0x0d) this.ended = true;
      i = j + 1;
    }
    const chars = pieces.join('');
    const whole = chars.length - (chars.length % 4);
    // Where each character left undecoded is (at most three).
    const at: number[] = [];
    for (let k = pieces.length - 1, left = chars.length - whole; k >= 0 && left > 0; k--) {
      const p = pieces[k]!;
      const n = Math.min(left, p.length);
      const base = k === 0 ? -1 : starts[k]!;
      // A character an escape gave (a piece of its own) is where its escape began.
      for (let m = p.length - 1; m >= p.length - n; m--) at.unshift(k === 0 ? this.quadAt[m]! : base + m);
      left -= n;
    }
    this.quad = chars.slice(whole);
    this.quadAt = at;
    // Node's base64 decoder reads both alphabets.
    return Buffer.from(chars.slice(0, whole), 'base64');
  }

  /** The run's last characters (an unpadded tail of 2 or 3), decoded. */
  end(): Buffer {
    this.ended = true;
    const rest = this.quad;
    this.quad = '';
    this.quadAt = [];
    return rest.length >= 2 ? Buffer.from(rest, 'base64') : Buffer.alloc(0);
  }
}

/** Each base64 run in `b` that opens with a compressed stream, decoded whole (a WebSocket message; a header value: `anywhere`). */
export function base64Blobs(b: Buffer, anywhere = false): Buffer[] {
  const out: Buffer[] = [];
  for (const { at, twice } of base64Starts(b, 0, { whole: true, anywhere }).slice(0, 16)) {
    const run = twice ? new TwiceRun() : new Base64Run();
    out.push(Buffer.concat([run.feed(b, at), run.end()]));
  }
  return out;
}

/**
 * Twenty-seventh pass: a base64 run whose text is a base64 run in turn (base64Starts' `twice`),
 * read as a decoder reads both layers: what the outer run decodes to is fed to an inner one, which
 * ends where that text stops being base64. `heldFrom`: the outer run's undecoded characters, or
 * while the inner run holds characters undecoded, from where the piece that brought them began
 * (which of the outer characters gave them is not kept: holding a little more is safe).
 */
export class TwiceRun {
  private readonly outer = new Base64Run();
  private readonly inner = new Base64Run();
  /** Bytes the outer run gave the inner so far. */
  private given = 0;
  private innerFrom: number | undefined;

  get ended(): boolean {
    return this.outer.ended || this.inner.ended;
  }

  set ended(v: boolean) {
    if (v) this.outer.ended = true;
  }

  get heldFrom(): number | undefined {
    if (this.ended) return undefined;
    const a = this.outer.heldFrom;
    const b = this.innerFrom;
    return a === undefined ? b : b === undefined ? a : Math.min(a, b);
  }

  feed(b: Buffer, from = 0, to = b.length, offset = 0): Buffer {
    let text = this.outer.feed(b, from, to, offset);
    if (this.outer.ended) text = Buffer.concat([text, this.outer.end()]);
    return this.give(text, offset + from);
  }

  end(): Buffer {
    const rest = this.give(this.outer.end(), undefined);
    this.innerFrom = undefined;
    return Buffer.concat([rest, this.inner.end()]);
  }

  private give(text: Buffer, pieceFrom: number | undefined): Buffer {
    const before = this.given;
    const out = this.inner.feed(text, 0, text.length, before);
    this.given += text.length;
    const held = this.inner.heldFrom;
    // Characters held from this piece's text: from the piece's start; from an earlier one: as they were.
    if (held === undefined) this.innerFrom = undefined;
    else if (held >= before && pieceFrom !== undefined) this.innerFrom = pieceFrom;
    return out;
  }
}
