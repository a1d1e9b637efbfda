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
import { UnscrubbableEncodingError } from './scrubbable.ts';
import type { Scrubber } from './scrubber.ts';

/** The longest cell read as a piece. */
const MAX_PIECE = 8;
/** Row widths read (a column every s-th short cell). */
const STRIDES = 8;
/** A join this long (a secret's part) holds the body back while it may still become a secret. */
const SHORT_HOLD = 8;
/** Text kept back at most while a join may still become a secret. */
const MAX_HELD = 1024 * 1024;
/** A tag longer than this is no tag: its text is read as cells again. */
const MAX_TAG = 512;

/** Marks that end a cell (latin1 codes). */
const MARK = new Uint8Array(256);
for (const c of '|,;:=&"\'{}[]()\t\r\n<>') MARK[c.charCodeAt(0)] = 1;
/** Characters an HTML tag may start with after `<`. */
const TAG_START = /[A-Za-z/!?]/;

export class LabelledPieces {
  /** Text not let out yet (latin1). */
  private held = '';
  /** The cell under way (raw; capped at MAX_PIECE + 2 plus blanks: longer is no piece). */
  private cell = '';
  private cellLong = false;
  /** Inside an HTML tag (how many characters so far), or -1; -2: a `<` seen, what follows decides. */
  private tag = -1;
  /** Short cells so far (their position). */
  private count = 0;
  /** joins[s - 1][o]: the cells at positions ≡ o (mod s) joined, while part of a secret. */
  private readonly joins: string[][] = Array.from({ length: STRIDES }, (_, k) => new Array<string>(k + 1).fill(''));
  /** Joins of SHORT_HOLD or more characters (a secret's part): the body is held while any is. */
  private long = 0;
  /** The scrubber of the text under way. */
  private scrubber: Scrubber | undefined;

  /** Takes scrubbed text (latin1); returns what may go out now. Throws when a secret was joined. */
  take(text: string, final: boolean, scrubber: Scrubber): string {
    this.scrubber = scrubber;
    const folded = scrubber.ownFolded;
    if (!folded.length && !this.held) return text;
    this.held += text;
    this.walk(text, folded);
    if (final) {
      this.endCell(folded);
      const out = this.held;
      this.held = '';
      return out;
    }
    if (this.long) {
      if (this.held.length > MAX_HELD) throw new UnscrubbableEncodingError('a body kept more than 1 MiB back while its short cells, read down a column, spelled part of a secret');
      return '';
    }
    // The cell under way may still be a piece: it waits while a join is long enough that it matters.
    let keep = 0;
    if (this.cell && !this.cellLong && this.cell.trim().length <= MAX_PIECE) {
      let most = 0;
      for (const row of this.joins) for (const j of row) if (j.length > most) most = j.length;
      if (most + this.cell.trim().length >= SHORT_HOLD) keep = Math.min(this.held.length, this.cell.length);
    }
    const out = this.held.slice(0, this.held.length - keep);
    this.held = this.held.slice(this.held.length - keep);
    return out;
  }

  private walk(text: string, folded: string[]): void {
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.tag === -2) {
        // `<` and a letter, `/`, `!` or `?`: a tag; otherwise the `<` was a mark.
        this.tag = TAG_START.test(text[i]!) ? 0 : -1;
        if (this.tag === -1 && c !== 0x3c && MARK[c] === 0) {
          start = i;
          continue;
        }
      }
      if (this.tag >= 0) {
        if (c === 0x3e || ++this.tag > MAX_TAG) {
          this.tag = -1;
          start = i + 1;
        }
        continue;
      }
      if (c < 256 && MARK[c] === 1) {
        this.addCell(text, start, i);
        this.endCell(folded);
        if (c === 0x3c) this.tag = -2;
        start = i + 1;
      }
    }
    if (this.tag === -1 || this.tag === -2) this.addCell(text, start, text.length);
  }

  /** The raw text from..to belongs to the cell under way. */
  private addCell(text: string, from: number, to: number): void {
    if (to <= from || this.cellLong) return;
    let cell = this.cell + text.slice(from, to);
    if (cell.length > 4 * MAX_PIECE) {
      // Blanks around a piece are trimmed (one kept at the end: a blank inside makes no piece).
      const trimmed = cell.trim();
      if (trimmed.length > MAX_PIECE) {
        this.cellLong = true;
        cell = '';
      } else {
        cell = /\s$/.test(cell) && trimmed ? `${trimmed} ` : trimmed;
      }
    }
    this.cell = cell;
  }

  /** The cell under way ended (a mark, the body's end). */
  private endCell(folded: string[]): void {
    const raw = this.cell;
    const long = this.cellLong;
    this.cell = '';
    this.cellLong = false;
    if (long || !raw) return;
    const cell = raw.trim();
    if (!cell || cell.length > MAX_PIECE || /\s/.test(cell)) return;
    const lower = cell.toLowerCase();
    const part = folded.some((f) => f.includes(lower));
    const at = this.count++;
    for (let s = 1; s <= STRIDES; s++) {
      const row = this.joins[s - 1]!;
      const o = at % s;
      const before = row[o]!;
      let join = part ? before + cell : '';
      // The join is kept to what is part of a secret: its start dropped until it is.
      while (join && !folded.some((f) => f.includes(join.toLowerCase()))) join = join.slice(1);
      row[o] = join;
      const was = before.length >= SHORT_HOLD;
      const is = join.length >= SHORT_HOLD;
      if (is) this.check(join);
      this.long += (is ? 1 : 0) - (was ? 1 : 0);
    }
  }

  /** A join of a secret's part: refused when it reads as the secret (whole, cut short, its end). */
  private check(join: string): void {
    if (this.scrubber!.scrubString(join) !== join) {
      throw new UnscrubbableEncodingError('a secret was handed out a piece per labelled row or field (short cells of this body, read down a column, spell it)');
    }
  }
}
