// Containers whose members the packed scan (proxy/packed-scan.ts) reads as if each began a body:
// a tar archive (a `.tar` export or backup: a member that is a zlib stream, a brotli `.br` file or
// data Node cannot decompress, an `.xz` or `.zst`, sits after other bytes, where no magic is looked
// for) and a PNG image (its `zTXt`, compressed `iTXt` and `iCCP` chunks are zlib streams after
// other bytes: a service's screenshot or chart export carrying the record as a text chunk). The
// walk reads each header in turn from the body's first bytes, checks it (a tar header's checksum,
// a PNG chunk's length) and stops at the first that is none, so other data costs nothing.

/** A member's data that the scan reads as a body's first byte; `name` when the container names it. */
export interface MemberStart {
  at: number;
  /** How the member's data is compressed, when the container says so (a PNG chunk): else guessed from its bytes. */
  zlib?: boolean;
  name?: string;
}

/** Bytes the first structure needs: a tar's first header holds `ustar` at 257. */
const CONTAINER_SNIFF = 263;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** A PNG text chunk's header (keyword, flags, language, translated keyword) read at most this far. */
const PNG_TEXT_HEAD = 1024;
/** Structures walked at most per body (a tar of many small files; a PNG of many chunks). */
const MAX_STEPS = 100_000;

/** Which container the body's first bytes begin; -1 while too few are known to tell. */
export function containerOf(head: Buffer): ContainerWalk | -1 | undefined {
  if (head.length >= PNG_SIGNATURE.length && head.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)) return new ContainerWalk('png', PNG_SIGNATURE.length);
  if (head.length < CONTAINER_SNIFF) return PNG_SIGNATURE.subarray(0, head.length).equals(head) || head.length === 0 || mayBeTarName(head) ? -1 : undefined;
  if (head.toString('latin1', 257, 262) === 'ustar') return new ContainerWalk('tar', 0);
  return undefined;
}

/** A tar header's field: its bytes up to the first NUL. */
function cString(h: Buffer, from: number, to: number): string {
  const nul = h.indexOf(0, from);
  return h.toString('latin1', from, nul >= 0 && nul < to ? nul : to);
}

/** Whether bytes may begin a tar header: a printable name, NUL-padded (JSON, markup and blanks first are none). */
function mayBeTarName(b: Buffer): boolean {
  if (/^[\s{["<]/.test(b.toString('latin1', 0, 1))) return false;
  const n = Math.min(b.length, 100);
  let nul = false;
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c === 0) nul = true;
    else if (nul || c < 0x20 || c === 0x7f) return false;
  }
  return true;
}

export class ContainerWalk {
  private steps = 0;
  /** Body offset of the next header; undefined once the walk ended. */
  next: number | undefined;

  constructor(readonly kind: 'tar' | 'png', first: number) {
    this.next = first;
  }

  /** How many bytes from `next` the header there needs (a PNG text chunk's head, a tar block). */
  private need(b: Buffer, i: number): number {
    if (this.kind === 'tar') return 512;
    if (b.length < i + 8) return 8;
    const type = b.toString('latin1', i + 4, i + 8);
    return type === 'zTXt' || type === 'iTXt' || type === 'iCCP' ? 8 + Math.min(b.readUInt32BE(i), PNG_TEXT_HEAD) : 8;
  }

  /**
   * Reads the headers whose bytes are in `bytes` (from body offset `base`); the members found.
   * `waiting`: the next header is not whole yet (its bytes must be kept).
   */
  read(bytes: Buffer, base: number): { starts: MemberStart[]; waiting: boolean } {
    const starts: MemberStart[] = [];
    while (this.next !== undefined) {
      const i = this.next - base;
      if (i < 0 || ++this.steps > MAX_STEPS) {
        // Its bytes were let go (cannot happen while the scan keeps them), or too many: stop.
        this.next = undefined;
        break;
      }
      if (bytes.length < i + this.need(bytes, i)) return { starts, waiting: true };
      this.next = this.kind === 'tar' ? this.tarHeader(bytes, i, base, starts) : this.pngChunk(bytes, i, base, starts);
    }
    return { starts, waiting: false };
  }

  private tarHeader(b: Buffer, i: number, base: number, starts: MemberStart[]): number | undefined {
    const h = b.subarray(i, i + 512);
    if (h.every((x) => x === 0)) return base + i + 512;
    let sum = 0;
    for (let k = 0; k < 512; k++) sum += k >= 148 && k < 156 ? 0x20 : h[k]!;
    if (parseInt(cString(h, 148, 156).trim(), 8) !== sum) return undefined;
    let size: number;
    if (h[124]! & 0x80) {
      // GNU base-256 for sizes past 8 GiB.
      size = 0;
      for (let k = 125; k < 136; k++) size = size * 256 + h[k]!;
    } else {
      size = parseInt(cString(h, 124, 136).trim() || '0', 8);
    }
    if (!Number.isSafeInteger(size) || size < 0) return undefined;
    const prefix = cString(h, 345, 500);
    const name = (prefix ? `${prefix}/` : '') + cString(h, 0, 100);
    if (size > 0) starts.push({ at: base + i + 512, name });
    return base + i + 512 + Math.ceil(size / 512) * 512;
  }

  private pngChunk(b: Buffer, i: number, base: number, starts: MemberStart[]): number | undefined {
    const length = b.readUInt32BE(i);
    const type = b.toString('latin1', i + 4, i + 8);
    if (length > 0x7fffffff || !/^[A-Za-z]{4}$/.test(type)) return undefined;
    if (type === 'IEND') return undefined;
    const data = b.subarray(i + 8, i + 8 + Math.min(length, PNG_TEXT_HEAD));
    // zTXt and iCCP: keyword, NUL, method (0: zlib), the stream. iTXt: keyword, NUL, its
    // compression flag and method, a language tag and a translated keyword (each NUL-ended), the text.
    const k = data.indexOf(0);
    if (k >= 0 && (type === 'zTXt' || type === 'iCCP') && data[k + 1] === 0) starts.push({ at: base + i + 8 + k + 2, zlib: true });
    if (k >= 0 && type === 'iTXt' && data[k + 1] === 1 && data[k + 2] === 0) {
      const lang = data.indexOf(0, k + 3);
      const translated = lang >= 0 ? data.indexOf(0, lang + 1) : -1;
      if (translated >= 0) starts.push({ at: base + i + 8 + translated + 1, zlib: true });
    }
    return base + i + 12 + length;
  }
}
