// An answer in a legacy charset read as its reader decodes it (eighteenth pass). The scrubber
// matches the bytes of an ASCII-compatible charset (Shift_JIS, EUC-JP, GBK, Big5, EUC-KR,
// windows-1252, ISO-8859-*) as it matches UTF-8's: an ASCII secret is the same bytes there. But
// such a charset also spells characters a reader folds into ASCII: full-width letters (`ｓｋ＿…`,
// two bytes each in the CJK charsets: a page in zenkaku), superscript digits, `ª` and `º`, a soft
// hyphen between letters (one byte in windows-1252), which the scrubber's reading view
// (proxy/reading-view.ts) undoes only in UTF-8. So the scrubbed text is decoded here in the
// declared charset, written as UTF-8 and matched again; what shows a secret only so is refused
// (it cannot be replaced in the charset's own bytes), and the scrubbed bytes wait while the
// decoded text ends in what may start one.
import { isUtf8 } from 'node:buffer';
import type { Scrubber } from './scrubber.ts';
import { UnscrubbableEncodingError } from './scrubbable.ts';

/**
 * The charsets a reader guesses for text no label declares (charset_normalizer behind Python
 * requests' `r.text`, Beautiful Soup's UnicodeDammit, a browser's detector) that spell letters a
 * reader folds into ASCII in bytes of their own.
 */
export const GUESSED = ['shift_jis', 'euc-jp', 'gb18030', 'big5', 'euc-kr', 'windows-1252'];

/** Control bytes no text holds (as the scrubbing stage's CONTROL_BYTES). */
const CONTROL = /[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]/;

/** An ISO-2022-JP escape sequence (to ASCII, JIS X 0201 Roman, JIS X 0208): 7-bit text a reader guesses by them. */
const ISO_2022_JP = /\x1b(?:\([BJ]|\$[@B])/;

/**
 * The charsets to read scrubbed text (latin1) with no charset declared in: ISO-2022-JP when it
 * holds that charset's escape sequences (redundant shifts between a key's letters decode to
 * nothing; `ESC $ B` then `#s#k` is full-width `ｓｋ`), the GUESSED ones when it holds bytes past
 * ASCII that are no UTF-8 (a sequence cut by the chunk's end aside); false when it is UTF-8 past
 * ASCII, undefined when it shows neither. Text with a control byte is binary data (which holds one
 * within a few bytes), never guessed at.
 */
export function undeclaredLegacy(text: string): string[] | false | undefined {
  // Native scans first: most text is ASCII without an escape (a JSON answer) and stops here.
  const escape = text.indexOf('\x1b') >= 0;
  const high = NOT_ASCII.test(text);
  if ((!escape && !high) || CONTROL.test(text)) return undefined;
  if (escape && ISO_2022_JP.test(text)) return high ? ['iso-2022-jp', ...GUESSED] : ['iso-2022-jp'];
  if (!high) return undefined;
  const bytes = Buffer.from(text, 'latin1');
  let end = bytes.length;
  // A UTF-8 sequence cut by the chunk's end: its lead and continuation bytes (three at most).
  for (let k = 0; k < 3 && end > 0 && bytes[end - 1]! >= 0x80; k++) {
    end--;
    if (bytes[end]! >= 0xc0) break;
  }
  return isUtf8(bytes.subarray(0, end)) ? false : GUESSED;
}

/** A byte of a multi-byte sequence or of a single-byte charset's upper half. */
const NOT_ASCII = /[\x80-\xff]/;

export class DecodedReading {
  private decoder: TextDecoder;
  /** Decoded text (UTF-8 bytes as latin1) not yet known to be free of a secret's start. */
  private rest = '';
  /** The last byte read was no ASCII: it may lead a sequence the next bytes end. */
  private lead = false;

  /** A charset whose ASCII bytes may mean other characters after an escape (ISO-2022-JP): always decoded. */
  private readonly stateful: boolean;

  /** `label`: a charset TextDecoder knows (checked when the head was, or guessed). */
  constructor(readonly label: string) {
    this.decoder = new TextDecoder(label);
    this.stateful = this.decoder.encoding === 'iso-2022-jp';
  }

  /**
   * Reads scrubbed bytes (latin1) in the charset; throws when the decoded text shows a secret.
   * Returns whether it ends in what may start one (the bytes must wait for what follows).
   */
  read(scrubber: Scrubber, scrubbed: string, final: boolean): boolean {
    // ASCII decodes to itself, which the scrubber read already (it held back any start of a
    // secret's ASCII spelling at its end): nothing new to read, unless a start is held here.
    // (After a non-ASCII byte the decoder may hold a lead byte whose trail is ASCII: Shift_JIS.)
    if (!this.rest && !this.lead && !this.stateful && !NOT_ASCII.test(scrubbed)) {
      if (final) this.decoder.decode();
      return false;
    }
    if (scrubbed) this.lead = scrubbed.charCodeAt(scrubbed.length - 1) >= 0x80;
    const bytes = Buffer.from(scrubbed, 'latin1');
    let text: string;
    try {
      text = this.decoder.decode(bytes, { stream: !final });
    } catch {
      // Node's ICU decoders (euc-jp) can throw on some byte runs even when not fatal: read this
      // piece afresh, and where even that fails, as the bytes it is (the scrubber read those).
      this.decoder = new TextDecoder(this.label);
      try {
        text = this.decoder.decode(bytes);
      } catch {
        this.decoder = new TextDecoder(this.label);
        text = scrubbed;
      }
    }
    const all = this.rest + Buffer.from(text, 'utf8').toString('latin1');
    const r = final ? { out: scrubber.scrubString(all), rest: '' } : scrubber.scrubPartial(all);
    if (r.out !== all.slice(0, all.length - r.rest.length)) {
      throw new UnscrubbableEncodingError(`the answer's text in ${this.label} shows a secret as its reader decodes it (full-width or other letters read as ASCII)`);
    }
    this.rest = r.rest;
    return r.rest.length > 0;
  }
}
