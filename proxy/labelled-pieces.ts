// A secret read back a few characters per labelled row in one body: a table whose rows carry a
// row number and one piece (`| 0 | s |`, `0,s` CSV, `<tr><td>0</td><td>s</td></tr>`), a JSON
// document whose fields of different names each hold a piece (`{"a":"s","b":"k"}`, `[{"i":0,
// "c":"s"},…]`), a repeated form field (`a=s&a=k`), YAML (`k0: s`). The labels stand between the
// pieces, so no spelling of the scrubber matches, and a spelling that allows words between a key's
// characters costs every body 3–6× (the twenty-third pass tried it).
//
// Here the body is read as cells: the text between structural marks (`| , ; : = & " '`, tabs,
// brackets, line ends, HTML tags), blanks around it trimmed. A short cell (1–8 characters, no blank
// inside) is a position; a reader of a column takes every s-th position (a table of s columns, an
// object of s/2 fields), so for each stride 1–8 and each offset the cells at those positions are
// joined — but only while the join is part of one of the secrets (either case, or reversed): a cell
// that is not breaks it. That keeps the cost to a per-character walk and a substring test per short
// cell; the scrubber is asked only when a join holds 8 or more characters of a secret, which no
// ordinary body does. Such a body is held back while it may go on (as JsonPieces holds a joined
// field), and refused when a join reads as a secret.
//
// Twenty-fifth pass: a table wider than the strides (a CSV export of 12 columns, a Markdown table
// of 10) passed. Each cell also has a column — the marks before it on its line — and the cells of a
// column are joined down the lines whatever the width (one join a cell), a long piece held while
// the next line may go on with it; an HTML row (`<tr`) begins a row as a line does (a table on one
// line). An array of JSON objects of 9 or more fields on one line is still read by stride only.
import { UnscrubbableEncodingError } from './scrubbable.ts';
import type { Scrubber } from './scrubber.ts';

/** The longest cell read as a piece (8 before the twenty-fourth pass: a key in rows of 9–11 passed). */
const MAX_PIECE = 11;
/** Row widths read (a column every s-th short cell). */
const STRIDES = 8;
/** The cells remembered (a power of two, at least STRIDES). */
const RING = 8;
/**
 * Columns of a line read apart (twenty-fifth pass): a cell's column is the marks before it on its
 * line, and the cells of one column are joined down the lines, whatever the table's width (a CSV
 * export or a Markdown table of 9 or more columns passed every stride). One join a cell: cheap.
 */
const MAX_COLUMNS = 64;
/** A join this long (a secret's part) holds the body back while it may still become a secret. */
const SHORT_HOLD = 8;
/** Text kept back at most while a join may still become a secret. */
const MAX_HELD = 1024 * 1024;
/** A tag longer than this is no tag: its text is read as cells again. */
const MAX_TAG = 512;


/** What each latin1 code is to a cell: 0 a character, 1 a mark that ends it, 2 a blank, 3 `<`. */
const KIND = new Uint8Array(256);
for (const c of '|,;:=&"\'{}[]()\t\r\n>') KIND[c.charCodeAt(0)] = 1;
for (const c of ' \f\v\xa0') KIND[c.charCodeAt(0)] = 2;
KIND[0x3c] = 3;
/** Characters an HTML tag may start with after `<`: a letter, `/`, `!`, `?`. */
const TAG_START = new Uint8Array(256);
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ/!?') TAG_START[c.charCodeAt(0)] = 1;

const NO_CHARS = new Uint8Array(256);
const NO_PAIRS = new Uint8Array(256 * 256);
/** Each scrubber's tables, made once: made per answer they cost more than scrubbing a KiB (64 KiB zeroed each time). */
const tables = new WeakMap<Scrubber, { chars: Uint8Array; pairs: Uint8Array }>();

/** Which latin1 codes the scrubber's secrets hold (either case), and which pairs stand side by side in them. */
function tablesOf(scrubber: Scrubber): { chars: Uint8Array; pairs: Uint8Array } {
  let t = tables.get(scrubber);
  if (t) return t;
  t = { chars: new Uint8Array(256), pairs: new Uint8Array(256 * 256) };
  for (const f of scrubber.ownFolded) {
    for (let i = 0; i < f.length; i++) {
      const c = f[i]!;
      t.chars[c.charCodeAt(0) & 0xff] = 1;
      const up = c.toUpperCase();
      if (up.length === 1) t.chars[up.charCodeAt(0) & 0xff] = 1;
      if (i) t.pairs[(f.charCodeAt(i - 1) & 0xff) * 256 + (f.charCodeAt(i) & 0xff)] = 1;
    }
  }
  tables.set(scrubber, t);
  return t;
}

export class LabelledPieces {
  /** Text not let out yet (latin1). */
  private held = '';
  /** The cell under way when the last text ended (from its first character that is no blank), read again with the next. */
  private pending = '';
  /** The cell under way is no piece (too long, a blank inside): skipped to the next mark. */
  private skip = false;
  /** In a line's first cell: a blank after it ends it (`0 s`, `1. s`, `k0 s`: a label, a blank, a piece). */
  private head = true;
  /** Inside an HTML tag (how many characters so far), or -1; -2: a `<` seen, what follows decides. */
  private tag = -1;
  /** Short cells so far (their position). */
  private count = 0;
  /** The last RING cells that are part of a secret ('' where not), and their last characters lower-cased (0: none). */
  private readonly ring: string[] = new Array<string>(RING).fill('');
  private readonly ringLast = new Uint8Array(RING);
  /** joins[s - 1][o]: the cells at positions ≡ o (mod s) joined, while part of a secret, where two or more are ('' otherwise). */
  private readonly joins: string[][] = Array.from({ length: STRIDES }, (_, k) => new Array<string>(k + 1).fill(''));
  /** Joins that are not empty, and of SHORT_HOLD or more characters (a secret's part: the body is held while any is). */
  private open = 0;
  private long = 0;
  /** Cells in the ring of SHORT_HOLD or more characters of a secret (a piece of 9–11 alone): the body is held while any is. */
  private longCells = 0;
  /** Text is held back because a join or cell was a secret's part. */
  private holding = false;
  /** columns[c]: the cells of column c joined down the lines while part of a secret (a single cell too); '' where not. */
  private readonly columns: string[] = new Array<string>(MAX_COLUMNS).fill('');
  /** The column under way at the end of the text read (cellsOf's state). */
  private col = 0;
  /** The text ended inside a tag whose name began with `t` (a `<tr` cut after its `t`: cellsOf's state). */
  private row = false;

  /**
   * Held text let out: refused when the scrubber replaced a secret inside it (twenty-fourth pass:
   * rows of 9–11 characters whose later pieces a run form replaced along with the labels between
   * them, which broke the column's join; its first pieces would go out beside the placeholder).
   */
  private heldForPiece(out: string): void {
    if (!this.holding) return;
    this.holding = false;
    if (this.scrubber!.ownPlaceholders.some((p) => out.includes(p))) throw new UnscrubbableEncodingError('a secret was handed out a piece per labelled row or field (short cells of this body, read down a column, spell it)');
  }
  /** The scrubber of the text under way, and which latin1 codes its secrets hold (either case). */
  private scrubber: Scrubber | undefined;
  private folded: string[] = [];
  private chars: Uint8Array = NO_CHARS;
  /** Which two characters (lower-cased latin1 codes, first × 256 + second) stand side by side in a secret: a join grows only across such a pair. */
  private pairs: Uint8Array = NO_PAIRS;

  /** Takes scrubbed text (latin1); returns what may go out now. Throws when a secret was joined. */
  take(text: string, final: boolean, scrubber: Scrubber): string {
    if (scrubber !== this.scrubber) this.use(scrubber);
    if (!this.folded.length && !this.held) return text;
    this.held += text;
    this.walk(text, final);
    if (final) {
      const out = this.held;
      this.held = '';
      this.heldForPiece(out);
      return out;
    }
    if (this.long || this.longCells) {
      if (this.held.length > MAX_HELD) throw new UnscrubbableEncodingError('a body kept more than 1 MiB back while its short cells, read down a column, spelled part of a secret');
      this.holding = true;
      return '';
    }
    if (this.holding) this.heldForPiece(this.held);
    // The cell under way may still be a piece: it waits while a join is long enough that it matters.
    let keep = 0;
    if (this.pending) {
      let most = 0;
      for (const j of this.ring) if (j.length > most) most = j.length;
      if (this.open) for (const row of this.joins) for (const j of row) if (j.length > most) most = j.length;
      if (this.colOpen) for (const j of this.columns) if (j.length > most) most = j.length;
      if (most + this.pending.trim().length >= SHORT_HOLD) keep = Math.min(this.held.length, this.pending.length);
    }
    const out = this.held.slice(0, this.held.length - keep);
    this.held = this.held.slice(this.held.length - keep);
    return out;
  }

  private use(scrubber: Scrubber): void {
    this.scrubber = scrubber;
    this.folded = scrubber.ownFolded;
    ({ chars: this.chars, pairs: this.pairs } = tablesOf(scrubber));
  }

  /** Reads the text's cells (the one under way at its end kept for the next, unless final). */
  private walk(input: string, final: boolean): void {
    const text = this.pending ? this.pending + input : input;
    this.pending = '';
    const found = cellsOf(Buffer.from(text, 'latin1'), this.chars, this.pairs, { tag: this.tag, skip: this.skip, head: this.head, col: this.col, row: this.row });
    const spans = found.spans;
    for (let k = 0; k < found.count; k += 4) this.cell(text, spans[k]!, spans[k + 1]!, spans[k + 2] === 1, spans[k + 3]!);
    const { first, last, skip, tag } = found;
    this.head = found.head;
    // The cell under way is read again with the next text, from its column.
    this.col = found.col;
    this.row = found.row;
    if (final) {
      if (!skip && first >= 0 && tag === -1) this.cell(text, first, last + 1, found.within, found.col);
      this.skip = false;
      this.tag = -1;
    } else {
      this.skip = skip;
      this.tag = tag;
      if (!skip && first >= 0 && tag === -1) this.pending = text.slice(first);
    }
  }

  /** A short cell ended: its position's joins go on with it if it is part of a secret, or break. */
  private cell(text: string, from: number, to: number, within: boolean, col: number): void {
    const at = this.count++;
    let cell = '';
    if (within) {
      cell = text.slice(from, to);
      if (to - from > 1) {
        const lower = cell.toLowerCase();
        if (!this.folded.some((f) => f.includes(lower))) cell = '';
      }
    }
    const slot = at & (RING - 1);
    this.longCells += (cell.length >= SHORT_HOLD ? 1 : 0) - (this.ring[slot]!.length >= SHORT_HOLD ? 1 : 0);
    if (col < MAX_COLUMNS && (cell || this.columns[col])) this.column(col, cell);
    if (!cell) {
      this.ring[slot] = '';
      this.ringLast[slot] = 0;
      if (this.open) for (let s = 1; s <= STRIDES; s++) this.extend(s, at, '', 0);
      return;
    }
    const head = lowerCode(cell.charCodeAt(0));
    for (let s = 1; s <= STRIDES && s <= at; s++) {
      // Across a pair of characters no secret has side by side nothing of the join before goes on: the cheap, common case.
      if (this.open || this.pairs[this.ringLast[(at - s) & (RING - 1)]! * 256 + head]) this.extend(s, at, cell, head);
    }
    if (cell.length >= SHORT_HOLD) this.check(cell);
    this.ring[slot] = cell;
    this.ringLast[slot] = lowerCode(cell.charCodeAt(cell.length - 1));
  }

  /** The join of stride s ending at position `at` (of two or more cells: a single one is the ring's). */
  private extend(s: number, at: number, cell: string, head: number): void {
    const row = this.joins[s - 1]!;
    const o = at % s;
    const stored = row[o]!;
    const before = stored || (at >= s ? this.ring[(at - s) & (RING - 1)]! : '');
    let join = cell;
    if (cell && before && this.pairs[lowerCode(before.charCodeAt(before.length - 1)) * 256 + head]) {
      join = before + cell;
      // The join is kept to what is part of a secret: its start dropped until it is.
      while (join.length > cell.length && !this.folded.some((f) => f.includes(join.toLowerCase()))) join = join.slice(1);
    }
    const multi = join.length > cell.length ? join : '';
    row[o] = multi;
    this.open += (multi ? 1 : 0) - (stored ? 1 : 0);
    const was = stored.length >= SHORT_HOLD;
    const is = multi.length >= SHORT_HOLD;
    if (is) this.check(multi);
    this.long += (is ? 1 : 0) - (was ? 1 : 0);
  }

  /** Column `col`'s join down the lines goes on with `cell` (part of a secret) or breaks (''). */
  private column(col: number, cell: string): void {
    const stored = this.columns[col]!;
    let join = cell;
    if (cell && stored && this.pairs[lowerCode(stored.charCodeAt(stored.length - 1)) * 256 + lowerCode(cell.charCodeAt(0))]) {
      join = stored + cell;
      while (join.length > cell.length && !this.folded.some((f) => f.includes(join.toLowerCase()))) join = join.slice(1);
    }
    this.columns[col] = join;
    // A long join holds the body back, a single long cell too: the ring forgets it after 8 cells,
    // fewer than a wide table's row (its first piece of 9-11 went out before the next row showed it).
    const was = stored.length >= SHORT_HOLD;
    const is = join.length >= SHORT_HOLD;
    if (is && join.length > cell.length) this.check(join);
    this.long += (is ? 1 : 0) - (was ? 1 : 0);
    this.colOpen += (join.length > cell.length ? 1 : 0) - (this.multi[col] ? 1 : 0);
    this.multi[col] = join.length > cell.length ? 1 : 0;
  }
  /** Per column: whether its join holds two or more cells. */
  private readonly multi = new Uint8Array(MAX_COLUMNS);
  /** Columns whose join holds two or more cells. */
  private colOpen = 0;

  /**
   * A join of a secret's part: refused when it reads as the secret (whole, cut short, its end), also
   * when its cells are in another case (a table that upper-cases them: twenty-eighth pass, a key's
   * end in capitals passed where its start was not joined), read as the secret's own case.
   */
  private check(join: string): void {
    const scrubber = this.scrubber!;
    let reads = scrubber.scrubString(join) !== join;
    const lower = join.toLowerCase();
    for (let i = 0; !reads && i < this.folded.length; i++) {
      const at = this.folded[i]!.indexOf(lower);
      const cased = at < 0 ? join : scrubber.ownCased[i]!.slice(at, at + join.length);
      reads = cased !== join && scrubber.scrubString(cased) !== cased;
    }
    if (reads) throw new UnscrubbableEncodingError('a secret was handed out a piece per labelled row or field (short cells of this body, read down a column, spell it)');
  }
}

/** A latin1 code lower-cased. */
function lowerCode(c: number): number {
  return LOWER[c & 0xff]!;
}

/** Latin1 codes lower-cased as toLowerCase does (ASCII letters, À–Þ but ×). */
const LOWER = Uint8Array.from({ length: 256 }, (_, c) => ((c >= 0x41 && c <= 0x5a) || (c >= 0xc0 && c <= 0xde && c !== 0xd7) ? c + 0x20 : c));

/** Where cellsOf writes the short cells it found (from, to, all in a secret: 1), grown as needed. */
let SPANS = new Int32Array(4 * 4096);

/**
 * The short cells of `bytes` (latin1) as spans, and the state at its end: the cell under way
 * (`first`..`last`, -1: none), whether it is skipped, whether the text ends in a tag, its column. A loop of its
 * own, touching no object: the cells are taken after it (called from a method, it was deoptimized
 * on every call).
 */
function cellsOf(bytes: Uint8Array, chars: Uint8Array, pairs: Uint8Array, at: { tag: number; skip: boolean; head: boolean; col: number; row: boolean }): { spans: Int32Array; count: number; first: number; last: number; within: boolean; skip: boolean; tag: number; head: boolean; col: number; row: boolean } {
  if (SPANS.length < bytes.length * 2 + 4) SPANS = new Int32Array(bytes.length * 2 + 4);
  const spans = SPANS;
  let count = 0;
  let tag = at.tag;
  let skip = at.skip;
  let head = at.head;
  /** The cell's column: the marks before it on its line. */
  let col = at.col;
  /** Inside a tag: its name began with `t` (a `<tr` may follow; carried across texts: a chunk may end after the `t`). */
  let row = at.row;
  /** The cell's first and last characters that are no blank (-1: none yet), a blank between them, all of them in a secret. */
  let first = -1;
  let last = -1;
  let gap = false;
  let inner = false;
  let within = true;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (tag !== -1) {
      // `<` and a letter, `/`, `!` or `?`: a tag; otherwise the `<` was a mark.
      if (tag === -2) tag = TAG_START[c] ? 0 : -1;
      if (tag >= 0) {
        // `<tr`: an HTML table's row begins (its columns counted from here, as from a line's start).
        if (tag === 0) row = (c | 0x20) === 0x74;
        else if (tag === 1 && row && (c | 0x20) === 0x72) col = 0;
        if (c === 0x3e || ++tag > MAX_TAG) tag = -1;
        continue;
      }
    }
    const kind = KIND[c]!;
    if (kind === 0) {
      if (skip) continue;
      if (first < 0) first = i;
      else if (gap) inner = true;
      gap = false;
      // Each character in a secret, and each two side by side in it (either case): a cheap test that most cells fail.
      if (chars[c] === 0 || (last >= 0 && pairs[LOWER[bytes[last]!]! * 256 + LOWER[c]!] === 0)) within = false;
      last = i;
      if (inner || last - first >= MAX_PIECE) skip = true;
    } else if (kind === 2 && !(head && first >= 0)) {
      gap = first >= 0;
    } else {
      // A mark, or the blank after a line's first word: the cell ends.
      head = c === 0x0a;
      if (!skip && first >= 0) {
        spans[count] = first;
        spans[count + 1] = last + 1;
        spans[count + 2] = within ? 1 : 0;
        spans[count + 3] = col;
        count += 4;
      }
      // A line begins a row. (A JSON object `{` as a row too made arrays of short-valued objects ~25% slower to scrub.)
      col = c === 0x0a ? 0 : col + 1;
      if (kind === 3) tag = -2;
      first = last = -1;
      gap = inner = skip = false;
      within = true;
    }
  }
  return { spans, count, first, last, within, skip, tag, head, col, row };
}
