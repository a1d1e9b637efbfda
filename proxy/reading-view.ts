// A text as a person, a browser's copy or an agent's NFKC normalization reads it (sixteenth pass):
// without the characters nobody sees and with styled letters read as plain ones. A service that
// shows its record of a key with those between or instead of its characters hands the key over past
// every spelling of proxy/spellings.ts:
//   fillers  `<wbr>` and soft hyphens (`&shy;`, U+00AD) a viewer puts into a long token so it can
//            break; zero-width characters (U+200B–200F, U+2060–2064, U+FEFF) a service marks what it
//            shows with; as UTF-8, HTML references or JSON escapes. Taken out. So is markup a
//            browser shows nothing of (seventeenth pass): a short tag (`<span>`, `</b>`, `<i
//            class=x>`: up to 16 characters; up to 80 between short pieces of a token since the
//            twenty-second pass: `<span style="color:#ff0000">` around each character), a short
//            comment (`<!-- -->`), a CDATA start or end.
//            A line break between lines of base64 (16 base64 characters before it, one after:
//            base64 of a value's UTF-16 bytes wrapped at 76 columns, seventeenth pass) too.
//            So are terminal colour sequences (`ESC [31m`; `\u001b[` in a recording's JSON,
//            `\x1b[` in a repr: a CI log coloured a piece at a time, lolcat; nineteenth pass);
//            any CSI sequence — 24-bit colour, erase, cursor moves — and a man page's overstrike,
//            `_\bs`, `s\bs`: twentieth pass).
//   folds    mathematical letters and digits (𝐬𝐤, U+1D400–1D7FF), letter-like symbols that fill
//            their gaps (ℎ, ℂ), circled and squared letters and digits (ⓢ, ①, 🄰), superscript and
//            subscript digits: each reads as one ASCII letter or digit under NFKC. Read as that.
//            Also written as escapes: JSON's `\uff53`, references, percent-encoding (eighteenth
//            pass), CSS's `\ff53 `, `\u{ff53}` and Python's `\U0000ff53` (nineteenth pass);
//            modifier and subscript letters (ˢᵏ, ᴬ, ₛ; twentieth pass). Greek and Cyrillic letters
//            drawn as Latin ones (ѕ, і, Η) beside ASCII ones, though NFKC keeps them (twentieth pass).
// The scrubber (proxy/scrubber.ts) also scans this view, around such characters only: text without
// them pays one scan for them and nothing else.
import { lookupTable } from '../lib/records.ts';

// Fillers first (UTF-8, HTML references, JSON escapes, <wbr>, markup with a token's characters or
// other markup on both sides: most of a page's is between words and is left out at once), then the UTF-8 (as latin1) of the
// code points FOLD_RANGES holds (which of them fold is the table's). Written out twice, as literals,
// so the ReDoS check reads them (test/fuzz/redos.test.ts).
const ANY = /\xe2\x80[\x8b-\x8f]|\xe2\x81[\xa0-\xa4]|\xef\xbb\xbf|\xc2\xad|&(?:shy;?|(?:ZeroWidthSpace|zwn?j|NoBreak|lrm|rlm);|#0{0,4}(?:173|820[3-7]|8288|65279);?|#[xX]0{0,4}(?:[aA][dD]|200[b-fB-F]|2060|[fF][eE][fF][fF]);?)|<[wW][bB][rR]\s{0,4}\/?>|(?<![^0-9A-Za-z#$%&()+,\-./:=?@_~\\>])(?:<\/?[A-Za-z][^<>]{0,78}>|<!--[^<>]{0,9}-->|<!\[CDATA\[|\]\]>)(?![^0-9A-Za-z#$%&()+,\-./:=?@_~\\<])|\\u(?:00[aA][dD]|200[b-fB-F]|2060|[fF][eE][fF][fF])|\xf0\x9d[\x90-\x9f][\x80-\xbf]|\xf0\x9f(?:\x84[\xb0-\xbf]|\x85[\x80-\x89])|\xe2(?:\x81[\xb0\xb4-\xb9]|\x82[\x80-\x89]|\x84[\x82-\xa1\xa3-\xb9]|\x91[\xa0-\xa8]|\x92[\xb6-\xbf]|\x93[\x80-\xaa])|\xc2[\xb2\xb3\xb9]|\\u(?:[fF][fF](?:0[1-9a-fA-F]|[1-5][0-9a-fA-F])|00[bB][239]|20[78][0-9]|21[0-3][0-9a-fA-F]|24(?:6[0-8]|[b-eB-E][0-9a-fA-F])|[dD]835\\u[dD][c-fC-F][0-9a-fA-F]{2}|[dD]83[cC]\\u[dD][dD][34][0-9a-fA-F])|&#(?:[xX]0{0,4}(?:[fF][fF][0-5][0-9a-fA-F]|1[dD][4-7][0-9a-fA-F]{2}|1[fF]1[34][0-9a-fA-F]|[bB][239]|20[78][0-9]|21[0-3][0-9a-fA-F]|24[6-9a-eA-E][0-9a-fA-F])|0{0,4}(?:65[23][0-9]{2}|119[89][0-9]{2}|120[0-8][0-9]{2}|127[23][0-9]{2}|17[89]|185|83[0-2][0-9]|8[45][0-9]{2}|9[34][0-9]{2}));|%(?:[eE][fF]%[bB][b-dB-D]|[eE]2%(?:8[0-9a-fA-F]|9[1-3])|[fF]0%9[dDfF]%[89][0-9a-fA-F]|[cC]2)%[89a-bA-B][0-9a-fA-F]/;
const EACH = /\xe2\x80[\x8b-\x8f]|\xe2\x81[\xa0-\xa4]|\xef\xbb\xbf|\xc2\xad|&(?:shy;?|(?:ZeroWidthSpace|zwn?j|NoBreak|lrm|rlm);|#0{0,4}(?:173|820[3-7]|8288|65279);?|#[xX]0{0,4}(?:[aA][dD]|200[b-fB-F]|2060|[fF][eE][fF][fF]);?)|<[wW][bB][rR]\s{0,4}\/?>|(?<![^0-9A-Za-z#$%&()+,\-./:=?@_~\\>])(?:<\/?[A-Za-z][^<>]{0,78}>|<!--[^<>]{0,9}-->|<!\[CDATA\[|\]\]>)(?![^0-9A-Za-z#$%&()+,\-./:=?@_~\\<])|\\u(?:00[aA][dD]|200[b-fB-F]|2060|[fF][eE][fF][fF])|\xf0\x9d[\x90-\x9f][\x80-\xbf]|\xf0\x9f(?:\x84[\xb0-\xbf]|\x85[\x80-\x89])|\xe2(?:\x81[\xb0\xb4-\xb9]|\x82[\x80-\x89]|\x84[\x82-\xa1\xa3-\xb9]|\x91[\xa0-\xa8]|\x92[\xb6-\xbf]|\x93[\x80-\xaa])|\xc2[\xb2\xb3\xb9]|\\u(?:[fF][fF](?:0[1-9a-fA-F]|[1-5][0-9a-fA-F])|00[bB][239]|20[78][0-9]|21[0-3][0-9a-fA-F]|24(?:6[0-8]|[b-eB-E][0-9a-fA-F])|[dD]835\\u[dD][c-fC-F][0-9a-fA-F]{2}|[dD]83[cC]\\u[dD][dD][34][0-9a-fA-F])|&#(?:[xX]0{0,4}(?:[fF][fF][0-5][0-9a-fA-F]|1[dD][4-7][0-9a-fA-F]{2}|1[fF]1[34][0-9a-fA-F]|[bB][239]|20[78][0-9]|21[0-3][0-9a-fA-F]|24[6-9a-eA-E][0-9a-fA-F])|0{0,4}(?:65[23][0-9]{2}|119[89][0-9]{2}|120[0-8][0-9]{2}|127[23][0-9]{2}|17[89]|185|83[0-2][0-9]|8[45][0-9]{2}|9[34][0-9]{2}));|%(?:[eE][fF]%[bB][b-dB-D]|[eE]2%(?:8[0-9a-fA-F]|9[1-3])|[fF]0%9[dDfF]%[89][0-9a-fA-F]|[cC]2)%[89a-bA-B][0-9a-fA-F]/g;
/**
 * Nineteenth pass: CSS, `\u{…}` and `\U` escapes of a fold: patterns of their own, so each stays
 * quick to prove linear.
 */
const ESCAPE_ANY = /\\u\{0{0,4}(?:[fF][fF](?:0[1-9a-fA-F]|[1-5][0-9a-fA-F])|1[dD][4-7][0-9a-fA-F]{2}|24[b-eB-E][0-9a-fA-F])\}|\\U000(?:0[fF][fF](?:0[1-9a-fA-F]|[1-5][0-9a-fA-F])|024[b-eB-E][0-9a-fA-F]|1[dD][4-7][0-9a-fA-F]{2})|\\(?:00(?:[fF][fF](?:0[1-9a-fA-F]|[1-5][0-9a-fA-F])|24[b-eB-E][0-9a-fA-F])|01[dD][4-7][0-9a-fA-F]{2})(?:\r\n|[ \t\n])?|\\(?:0?(?:[fF][fF](?:0[1-9a-fA-F]|[1-5][0-9a-fA-F])|24[b-eB-E][0-9a-fA-F])|1[dD][4-7][0-9a-fA-F]{2})(?:\r\n|[ \t\n]|(?![0-9a-fA-F]))/;
const ESCAPE_EACH = /\\u\{0{0,4}(?:[fF][fF](?:0[1-9a-fA-F]|[1-5][0-9a-fA-F])|1[dD][4-7][0-9a-fA-F]{2}|24[b-eB-E][0-9a-fA-F])\}|\\U000(?:0[fF][fF](?:0[1-9a-fA-F]|[1-5][0-9a-fA-F])|024[b-eB-E][0-9a-fA-F]|1[dD][4-7][0-9a-fA-F]{2})|\\(?:00(?:[fF][fF](?:0[1-9a-fA-F]|[1-5][0-9a-fA-F])|24[b-eB-E][0-9a-fA-F])|01[dD][4-7][0-9a-fA-F]{2})(?:\r\n|[ \t\n])?|\\(?:0?(?:[fF][fF](?:0[1-9a-fA-F]|[1-5][0-9a-fA-F])|24[b-eB-E][0-9a-fA-F])|1[dD][4-7][0-9a-fA-F]{2})(?:\r\n|[ \t\n]|(?![0-9a-fA-F]))/g;
/**
 * Terminal sequences (nineteenth pass: colour; twentieth: any CSI sequence — 24-bit colour, erase,
 * cursor moves — and a man page's overstrike, `_\bs`, `s\bs`), raw or written `\u001b[`, `\x1b[`
 * (the backspace as JSON writes it, `\b`, `\u0008`: a recording of a man page).
 */
const TERMINAL_ANY = /(?:\x1b|\\u001[bB]|\\x1[bB])\[[0-9;:?]{0,20}[@-~]|[ -~](?:\x08|\\b|\\u0008)/;
const TERMINAL_EACH = /(?:\x1b|\\u001[bB]|\\x1[bB])\[[0-9;:?]{0,20}[@-~]|[ -~](?:\x08|\\b|\\u0008)/g;
/**
 * Twenty-first pass: a terminal's other sequences between a key's characters — a hyperlink around
 * each (OSC 8, `ESC]8;;url ESC\`, a link-per-character renderer), a window title, DCS, APC, PM and
 * SOS strings (ended by BEL or ST), and the short escapes (`ESC(B`, `ESC7`, `ESC=`). A terminal
 * shows the key and `strip-ansi` gives it. Raw, or as a recording's JSON (`\u001b]`, `\u0007`,
 * `\u001b\\`) or a repr (`\x1b]`, `\x07`, `\a`) writes them; a pattern pair of their own.
 */
const STRING_ANY = /(?:\x1b|\\u001[bB]|\\x1[bB])(?:[\]PX^_][^\x07\x1b\\]{0,128}(?:\x07|\x1b\\|\\(?:u0007|x07|a|u001[bB]\\\\|x1[bB]\\\\))|[ -/]{0,2}[0-OQ-WYZ`-~])/;
const STRING_EACH = /(?:\x1b|\\u001[bB]|\\x1[bB])(?:[\]PX^_][^\x07\x1b\\]{0,128}(?:\x07|\x1b\\|\\(?:u0007|x07|a|u001[bB]\\\\|x1[bB]\\\\))|[ -/]{0,2}[0-OQ-WYZ`-~])/g;
/** Such a string or escape not yet ended at the end of a text (its BEL or ST still to come, cut inside an escaped one). */
const UNFINISHED_STRING = /(?:\x1b|\\u001[bB]|\\x1[bB])(?:[\]PX^_][^\x07\x1b\\]{0,128}(?:\x1b|\\[0-9a-fA-Fux]{0,5}\\?)?|[ -/]{1,2})$/;
/**
 * Twentieth pass: Greek and Cyrillic letters drawn as Latin ones (`ѕk_lіvе`: a person, a screenshot
 * or an agent reads the key). A key keeps digits and marks no such letter draws, so a run of them
 * (up to 8) beside an ASCII letter, digit or `_` is read, that character with it; CONFUSABLES says
 * which fold. Found from its edge (an ASCII character beside a two-byte one) and walked in code:
 * Greek or Cyrillic text, whose runs are beside blanks, is read as it was (read at every letter, a
 * Russian page scrubbed 16× slower; a regex for the runs, 4× slower).
 */
const CONFUSABLE_ANY = /[0-9A-Za-z_][\xce-\xd4]|[\x80-\xbf][0-9A-Za-z_]/;
const CONFUSABLE_EDGE = /[0-9A-Za-z_][\xce-\xd4]|[\x80-\xbf][0-9A-Za-z_]/g;
const CONFUSABLE_RUN = 8;
const isLead = (text: string, i: number): boolean => i >= 0 && text.charCodeAt(i) >= 0xce && text.charCodeAt(i) <= 0xd4;
const isTrail = (text: string, i: number): boolean => i < text.length && text.charCodeAt(i) >= 0x80 && text.charCodeAt(i) <= 0xbf;

/** The runs of two-byte Greek or Cyrillic characters beside an ASCII letter, digit or `_`, each with that character, added to `out`. */
function confusableRuns(text: string, out: Array<{ index: number; 0: string }>): void {
  let last = 0;
  CONFUSABLE_EDGE.lastIndex = 0;
  for (let m = CONFUSABLE_EDGE.exec(text); m !== null; m = CONFUSABLE_EDGE.exec(text)) {
    // Edges overlap (`bСdЕ`: the `d` ends one and starts the next): look again from the second character.
    CONFUSABLE_EDGE.lastIndex = m.index + 1;
    let a = m.index + 1;
    let b = a;
    if (isLead(text, a)) {
      // An ASCII character, then the run.
      a = m.index;
      for (let k = 0; k < CONFUSABLE_RUN && isLead(text, b) && isTrail(text, b + 1); k++) b += 2;
    } else {
      // The run, then an ASCII character.
      for (let k = 0; k < CONFUSABLE_RUN && isTrail(text, a - 1) && isLead(text, a - 2); k++) a -= 2;
      b = m.index + 2;
    }
    // Runs that share their ASCII character (`Үz` and `zΑ`): the second starts past it.
    if (a < last) a = last;
    if (b - a < 2) continue;
    out.push({ index: a, 0: text.slice(a, b) });
    last = b;
  }
}

/** The cut UTF-8 of a modifier letter ending `text` (MODIFIER_ANY; `\xe2` ones are UNFINISHED's). */
function modifierTail(text: string): string | undefined {
  const n = text.length;
  const last = text.charCodeAt(n - 1);
  if (last === 0xc7 || last === 0xc9 || last === 0xca || last === 0xcb || last === 0xe1 || last === 0xea) return text.slice(n - 1);
  const lead = text.charCodeAt(n - 2);
  return (lead === 0xe1 && last >= 0xb4 && last <= 0xb6) || (lead === 0xea && last === 0x9c) ? text.slice(n - 2) : undefined;
}

/**
 * A run of up to 8 two-byte Greek or Cyrillic characters (or a cut one) ending `text` after an
 * ASCII character or from its start: the start of a key whose next (ASCII) character is still to come.
 */
function confusableTail(text: string): string | undefined {
  let a = text.length;
  if (isLead(text, a - 1)) a--;
  for (let k = 0; k < CONFUSABLE_RUN && isTrail(text, a - 1) && isLead(text, a - 2); k++) a -= 2;
  return a < text.length && (a === 0 || text.charCodeAt(a - 1) < 0x80) ? text.slice(a) : undefined;
}
/**
 * Twenty-first pass: a hex dump's line ends (`xxd`, `hexdump -C`, `od -A x -t x1z`): a line's hex,
 * two spaces, its bytes as text (`|…|`, `>…<` or bare), a line break and the next line's offset.
 * A reader (`xxd -r`, anyone reading the hex) joins the lines' hex, which spells the value with
 * separators; the text column and offset are what it skips. Twenty-second pass: also the offsets
 * of character, decimal, octal and word dumps (`od -c`, `od -t u1`, `od -b`, `hexdump`), whose
 * head has up to four blanks (kept: they part the values) and then a value or a character. The next line's head is found by a
 * pattern (a line break, 6–8 hex digits, `: ` or blanks, a hex byte), the text column walked back
 * in code: as a pattern it overlaps the blanks before it (not provably linear).
 */
const DUMP_HEAD = /\r?\n[0-9a-fA-F]{6,8}:?(?= {1,4}[0-9a-fA-F]{2}| {2,4}[!-~])/g;
const DUMP_HEAD_ANY = /\n[0-9a-fA-F]{6,8}(?::? {1,4}[0-9a-fA-F]{2}| {2,4}[!-~])/;
/** The next line's head begun at a text's end (dumpTail): a line break, an offset, blanks, a byte's first digit. */
const DUMP_HEAD_BEGUN = /^\n[0-9a-fA-F]{0,8}(?::? {1,4}[0-9a-fA-F]?|:)?$/;
const isHexDigit = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
const binaryDigits = (text: string, a: number, b: number): boolean => {
  for (let i = a; i < b; i++) if (text.charCodeAt(i) !== 0x30 && text.charCodeAt(i) !== 0x31) return false;
  return true;
};
/** Whether the 8 characters from `q` are binary digits (`xxd -b`'s byte; follow-up to the twenty-second pass). */
const binaryAt = (text: string, q: number): boolean => q >= 0 && q + 8 <= text.length && binaryDigits(text, q, q + 8);
/** Whether a group of 2 or 4 hex digits, or 8 binary ones, after a blank (or the text's start) ends at `p` (a dump's last byte or word; not a line's offset). */
function hexGroupBefore(text: string, p: number): boolean {
  if (binaryAt(text, p - 8) && (p === 8 || text.charCodeAt(p - 9) === 0x20)) return true;
  let q = p;
  while (q > p - 5 && q > 0 && isHexDigit(text.charCodeAt(q - 1))) q--;
  // At the text's start any part of one: a held rest begins where the key's hex does, inside a word.
  return q === 0 ? p - q <= 4 && p > 0 : (p - q === 2 || p - q === 4) && text.charCodeAt(q - 1) === 0x20;
}
/** Where a dump line's text column (with the two spaces before it) begins, the line ending at `nl`; -1 when it is no dump line. */
function dumpColumn(text: string, nl: number): number {
  for (let p = Math.max(1, nl - 20); p + 2 <= nl; p++) {
    if (text.charCodeAt(p) !== 0x20 || text.charCodeAt(p + 1) !== 0x20 || !hexGroupBefore(text, p)) continue;
    let ok = true;
    for (let i = p + 2; i < nl && ok; i++) ok = text.charCodeAt(i) >= 0x20 && text.charCodeAt(i) < 0x7f;
    if (ok && columnFits(text, p, nl)) return p;
  }
  return -1;
}
/**
 * Whether a text column from `p` to `nl` shows its line's bytes (`.` for one not printable), as
 * xxd, `hexdump -C` and `od -t x1z` write it (twenty-second pass: `od -t u1`'s right-aligned decimals,
 * `…  58  32  66`, read as hex and a column `32  66`, lost what they spelled). A line begun before
 * the text (a held rest) is taken as it is; a column cut at the text's end, as far as it goes.
 */
function columnFits(text: string, p: number, nl: number): boolean {
  let q = p;
  while (q > 0 && q > p - 160 && text.charCodeAt(q - 1) !== 0x0a) q--;
  if (q > 0 && text.charCodeAt(q - 1) !== 0x0a) return true;
  const line = q;
  while (q < p && isHexDigit(text.charCodeAt(q))) q++; // the offset
  const first = text.charCodeAt(p + 2);
  let c = p + 2 + (first === 0x7c || first === 0x3e ? 1 : 0); // `|…|`, `>…<`
  const end = nl - (nl < text.length && c > p + 2 ? 1 : 0);
  // The text's first line, without an offset: a held rest begun inside the line's hex. Its bytes
  // are the column's last ones (read from the end; its first word may be cut).
  // Follow-up: a held rest's first binary digits (`xxd -b`, whose offsets end in `:`) look like an
  // offset without one (od's seven digits, hexdump's eight): read as such when not as an offset.
  if (line === 0 && (q < 6 || q > 8 || (text.charCodeAt(q) !== 0x3a && text.charCodeAt(q) !== 0x20) || (text.charCodeAt(q) === 0x20 && binaryDigits(text, 0, q) && !lineFits(text, q, p, c, end, nl)))) return nl === text.length || columnEndFits(text, p, c, end);
  return lineFits(text, q, p, c, end, nl);
}
/** Whether the bytes of a dump line after its offset (from `q` to `p`) are its text column [c, end). */
function lineFits(text: string, q: number, p: number, c: number, end: number, nl: number): boolean {
  if (text.charCodeAt(q) === 0x3a) q++;
  for (; q < p; q++) {
    if (text.charCodeAt(q) === 0x20) continue;
    let b: number;
    if (binaryAt(text, q) && (q + 8 === p || text.charCodeAt(q + 8) === 0x20)) {
      b = parseInt(text.slice(q, q + 8), 2);
      q += 7;
    } else {
      if (!isHexDigit(text.charCodeAt(q)) || !isHexDigit(text.charCodeAt(q + 1))) return false;
      b = parseInt(text.slice(q, q + 2), 16);
      q++;
    }
    if (c >= end) return nl === text.length; // shown all there is: cut at the text's end
    if (text.charCodeAt(c++) !== (b >= 0x20 && b < 0x7f ? b : 0x2e)) return false;
  }
  // Cut at the text's end, the closing `|` or `<` may be the last character.
  return c === end || (nl === text.length && c === end - 1 && (text.charCodeAt(c) === 0x7c || text.charCodeAt(c) === 0x3c));
}
/**
 * Whether the hex words before `p` are the last bytes of the column [c, end): at least one, the
 * text's first word read by its whole bytes from its end (it may be cut).
 */
function columnEndFits(text: string, p: number, c: number, end: number): boolean {
  let k = end;
  for (let i = p; i > 0; ) {
    while (i > 0 && text.charCodeAt(i - 1) === 0x20) i--;
    if (i === 0) break;
    if (text.charCodeAt(i - 1) === 0x3a) return k < end; // the line's offset, cut
    const b = i;
    while (i > 0 && isHexDigit(text.charCodeAt(i - 1))) i--;
    const atStart = i === 0;
    if (b === i || (!atStart && ((b - i) % 2 || text.charCodeAt(i - 1) !== 0x20))) return false;
    // A binary byte (`xxd -b`), or its last digits at the text's start (cut: no whole byte to compare).
    if ((b - i === 8 && binaryAt(text, i)) || (atStart && b - i < 8 && binaryDigits(text, i, b))) {
      if (b - i === 8) {
        const byte = parseInt(text.slice(i, b), 2);
        if (--k < c) return atStart;
        if (text.charCodeAt(k) !== (byte >= 0x20 && byte < 0x7f ? byte : 0x2e)) return false;
      }
      continue;
    }
    for (let j = b - 2; j >= i; j -= 2) {
      const byte = parseInt(text.slice(j, j + 2), 16);
      // The whole column read and a word left at the text's start: the line's offset, cut.
      if (--k < c) return atStart;
      if (text.charCodeAt(k) !== (byte >= 0x20 && byte < 0x7f ? byte : 0x2e)) return false;
    }
    if (atStart) break;
  }
  return k < end;
}
/** Whether a line of a character dump ends at `i` (`od -c`, `hexdump -c`: each byte in four columns, `   s`, `  \n`, `  sp`). */
function charDumpEnd(text: string, i: number): boolean {
  const printable = (k: number): boolean => text.charCodeAt(k) > 0x20 && text.charCodeAt(k) < 0x7f;
  // At the text's start the field's blanks may be in what went before (a held rest begins with the key).
  const blanks = (k: number): boolean => k < 0 || (text.charCodeAt(k) === 0x20 && (k === 0 || text.charCodeAt(k - 1) === 0x20));
  return printable(i - 1) && (blanks(i - 2) || (printable(i - 2) && blanks(i - 3)));
}
/** The line ends of a hex dump in `text` (its text column, line break and the next offset), added to `out`. */
function dumpBreaks(text: string, out: Array<{ index: number; 0: string }>): void {
  if (text.indexOf('\n0') < 0) return;
  DUMP_HEAD.lastIndex = 0;
  for (let m = DUMP_HEAD.exec(text); m !== null; m = DUMP_HEAD.exec(text)) {
    // A dump without a text column (`od -t x1`, `od -t u1`, `od -c`): the line break and offset
    // alone. The blanks after the offset stay: they part the line's first value from the last one's.
    const column = dumpColumn(text, m.index);
    const from = column >= 0 ? column : isHexDigit(text.charCodeAt(m.index - 1)) || charDumpEnd(text, m.index) ? m.index : -1;
    if (from >= 0) out.push({ index: from, 0: text.slice(from, m.index + m[0].length) });
  }
}
/**
 * A hex dump's line end cut at the end of `text`: hex, two spaces, then at most a text column, a
 * line break and the next line's head begun — its offset, blanks and the first digit of its first
 * byte (twenty-second pass: a cut after that digit held nothing, and the line's text column, a run
 * of the key, was replaced and let the hex before it out).
 */
function dumpTail(text: string): string | undefined {
  const nl = text.lastIndexOf('\n', text.length - 1);
  const lineEnd = nl >= 0 && text.length - nl <= 14 && DUMP_HEAD_BEGUN.test(text.slice(nl)) ? (text.charCodeAt(nl - 1) === 0x0d ? nl - 1 : nl) : text.length;
  const column = dumpColumn(text, lineEnd);
  const from = column >= 0 ? column : lineEnd < text.length && (isHexDigit(text.charCodeAt(lineEnd - 1)) || charDumpEnd(text, lineEnd)) ? lineEnd : -1;
  return from >= 0 ? text.slice(from) : undefined;
}
const isDump = (m: string): boolean => (m.charCodeAt(0) === 0x20 || m.charCodeAt(0) === 0x0d || m.charCodeAt(0) === 0x0a) && m.includes('\n');

/** Greek and Cyrillic letters no reader tells from a Latin one, by that Latin letter. */
const CONFUSABLES: Readonly<Record<string, string>> = lookupTable({
  a: 'а', c: 'с', d: 'ԁ', e: 'е', h: 'һ', i: 'і', j: 'ј', l: 'ӏ', o: 'оο', p: 'р', q: 'ԛ', s: 'ѕ', v: 'ν', w: 'ԝ', x: 'х', y: 'у',
  A: 'АΑ', B: 'ВΒ', C: 'С', E: 'ЕΕ', H: 'НΗ', I: 'ІΙ', J: 'Ј', K: 'КΚ', M: 'МΜ', N: 'Ν', O: 'ОΟ', P: 'РΡ', Q: 'Ԛ', S: 'Ѕ', T: 'ТΤ', W: 'Ԝ', X: 'ХΧ', Y: 'ҮΥ', Z: 'Ζ',
});
/**
 * Twentieth pass: modifier and subscript letters NFKC reads as plain ones (ˢᵏ, ʰ, ᴬ, ₛ: a
 * "superscript text" generator), apart from the nineteenth pass's folds so each pattern stays quick
 * to prove linear; which of them fold is the table's.
 */
/**
 * Twenty-sixth pass: small capitals (ꜱᴋ_ʟɪᴠᴇ: a "small caps" text generator; NFKC keeps them, a
 * person and an agent read the letters), read among the modifier letters; both also as JSON
 * escapes (`\u1d0b`, `\u02e2`: Python's `json.dumps` writes every non-ASCII letter so).
 */
const SMALL_CAPS: Readonly<Record<string, string>> = lookupTable({
  a: 'ᴀ', b: 'ʙ', c: 'ᴄ', d: 'ᴅ', e: 'ᴇ', f: 'ꜰ', g: 'ɢ', h: 'ʜ', i: 'ɪ', j: 'ᴊ', k: 'ᴋ', l: 'ʟ', m: 'ᴍ', n: 'ɴ', o: 'ᴏ', p: 'ᴘ', q: 'ǫ', r: 'ʀ', s: 'ꜱ', t: 'ᴛ', u: 'ᴜ', v: 'ᴠ', w: 'ᴡ', y: 'ʏ', z: 'ᴢ',
});
const MODIFIER_ANY = /\xc7\xab|\xc9[\xa2\xaa\xb4]|\xca[\x80\x8f\x99\x9c\x9f\xb0-\xbf]|\xcb[\x80-\xa3]|\xe1(?:\xb4[\x80\x84\x85\x87\x8a\x8b\x8d\x8f\x98\x9b\x9c\xa0-\xa2\xac-\xbf]|\xb5[\x80-\xa5]|\xb6[\x9c-\xbb])|\xe2(?:\x81[\xb1\xbf]|\x82[\x90-\x9c])|\xea\x9c[\xb0\xb1]|\\u(?:01[eE][bB]|02(?:6[2aA]|74|8[0fF]|9[9cCfF]|[bBcCdD][0-9a-fA-F]|[eE][0-3])|1[dD](?:[01][0-9a-fA-F]|2[0-9a-fA-F]|[3-5][0-9a-fA-F]|6[0-5]|9[c-fC-F]|[aA][0-9a-fA-F]|[bB][0-9a-bA-B])|207[fF]|209[0-9a-cA-C]|[aA]73[01])/;
const MODIFIER_EACH = /\xc7\xab|\xc9[\xa2\xaa\xb4]|\xca[\x80\x8f\x99\x9c\x9f\xb0-\xbf]|\xcb[\x80-\xa3]|\xe1(?:\xb4[\x80\x84\x85\x87\x8a\x8b\x8d\x8f\x98\x9b\x9c\xa0-\xa2\xac-\xbf]|\xb5[\x80-\xa5]|\xb6[\x9c-\xbb])|\xe2(?:\x81[\xb1\xbf]|\x82[\x90-\x9c])|\xea\x9c[\xb0\xb1]|\\u(?:01[eE][bB]|02(?:6[2aA]|74|8[0fF]|9[9cCfF]|[bBcCdD][0-9a-fA-F]|[eE][0-3])|1[dD](?:[01][0-9a-fA-F]|2[0-9a-fA-F]|[3-5][0-9a-fA-F]|6[0-5]|9[c-fC-F]|[aA][0-9a-fA-F]|[bB][0-9a-bA-B])|207[fF]|209[0-9a-cA-C]|[aA]73[01])/g;
/**
 * Twenty-fourth pass: alphabets that carry each ASCII character at an offset, which a reader undoes
 * by subtracting it: Unicode tag characters (U+E0020–E007E, "ASCII smuggling": invisible on a page,
 * read by a language model as the text they spell), Braille patterns as a byte's bits (U+2800 + the
 * byte: hexyl's braille table, a binary shown as dots), and negative circled and squared capitals
 * (🅐, 🅰: a "fancy text" generator; NFKC keeps them), regional indicator symbols (🇸🇰: an
 * "emojify" or "big letters" bot of a chat, a zero-width space between them so no two make a flag;
 * twenty-fifth pass; also as numeric references), and the decimal digits of other scripts
 * (Persian `۵۱`, Arabic-Indic, Devanagari, Bengali, Thai …: a page localized by `Accept-Language`
 * that writes every digit so; Python's `int()` and a person read them). Raw, or as JSON escapes
 * (`\u2873`, `\udb40\udc73`: Python's `json.dumps`); a pattern pair of their own; OFFSET_ALPHABETS
 * says which fold; digits are found beside a key's characters only (digitRuns).
 */
const ALPHABET_ANY = /\xf3\xa0(?:\x80[\xa0-\xbf]|\x81[\x80-\xbe])|\xe2\xa0[\xa0-\xbf]|\xe2\xa1[\x80-\xbe]|\xe2(?:\x91[\xb4-\xbc]|\x92[\x88-\x90\x9c-\xb5]|\x93[\xb5-\xbd\xbf]|\x9d[\xb6-\xbe]|\x9e[\x80-\x88\x8a-\x92])|\xf0\x9f(?:\x84[\x80-\x8a\x90-\xa9]|\x85[\x90-\xa9\xb0-\xbf]|\x86[\x80-\x89])|\\u(?:28[2-7][0-9a-fA-F]|24(?:7[4-9a-cA-C]|8[89a-fA-F]|9[0c-fC-F]|[aA][0-9a-fA-F]|[bB][0-5]|[fF][5-9a-dA-DfF])|27(?:7[6-9a-eA-E]|8[0-8a-fA-F]|9[0-2])|[dD][bB]40\\u[dD][cC][2-7][0-9a-fA-F]|[dD]83[cC]\\u[dD][dD](?:0[0-9aA]|1[0-9a-fA-F]|2[0-9]|[5-8][0-9a-fA-F]))|&#(?:[xX]0{0,4}1[fF]1[eE][6-9a-fA-F]|[xX]0{0,4}1[fF]1[fF][0-9a-fA-F]|0{0,4}1274(?:6[2-9]|7[0-9]|8[0-7]));/;
/**
 * Regional indicators (raw or JSON-escaped; their references are ALPHABET_EACH's) are read in runs
 * found from an edge (indicatorRuns): one beside an ASCII letter, digit or mark a key may hold (not
 * a blank, quote, comma, bracket or parenthesis: JSON's, CSV's and prose's flags), a zero-width
 * space between them allowed, or eight in a row.
 * A key's letters written so sit beside its digits and marks; flags (two, between blanks or other
 * emoji) are read as they were: an emoji-rich text with flags, read at each, was scrubbed ~6× slower.
 */
const INDICATOR_EDGE = /[!#-&*+\-./0-9:;<=>?@A-Z\\^_a-z|~](?:\xf0\x9f\x87[\xa6-\xbf]|\\u[dD]83[cC]\\u[dD][dD][eEfF][0-9a-fA-F])|(?:\xf0\x9f\x87[\xa6-\xbf]|\\u[dD]83[cC]\\u[dD][dD][eEfF][0-9a-fA-F])[!#-&*+\-./0-9:;<=>?@A-Z\\^_a-z|~]|[!#-&*+\-./0-9:;<=>?@A-Z\\^_a-z|~](?:\xe2\x80\x8b|\\u200[bB])(?:\xf0\x9f\x87[\xa6-\xbf]|\\u[dD]83[cC]\\u[dD][dD][eEfF][0-9a-fA-F])|(?:\xf0\x9f\x87[\xa6-\xbf]|\\u[dD]83[cC]\\u[dD][dD][eEfF][0-9a-fA-F])(?:\xe2\x80\x8b|\\u200[bB])[!#-&*+\-./0-9:;<=>?@A-Z\\^_a-z|~]|(?:\xf0\x9f\x87[\xa6-\xbf]){8}|(?:\\u[dD]83[cC]\\u[dD][dD][eEfF][0-9a-fA-F]){8}/g;
/** A regional indicator at an index (raw or a JSON escape), or a zero-width space (raw or escaped) between two. */
const INDICATOR_AT = /\xf0\x9f\x87[\xa6-\xbf]|\\u[dD]83[cC]\\u[dD][dD](?:[eE][6-9a-fA-F]|[fF][0-9a-fA-F])/y;
const ZWSP_AT = /\xe2\x80\x8b|\\u200[bB]/y;
/** The most indicators of a run walked from its edge. */
const INDICATOR_RUN = 64;
/** The regional indicator ending at `end` (its length), or 0. */
function indicatorEndingAt(text: string, end: number): number {
  for (const n of [4, 12]) {
    if (end - n < 0) continue;
    INDICATOR_AT.lastIndex = end - n;
    const m = INDICATOR_AT.exec(text);
    if (m && m[0].length === n) return n;
  }
  return 0;
}
/** The zero-width space ending at `end` (its length), or 0. */
function zwspEndingAt(text: string, end: number): number {
  for (const n of [3, 6]) {
    if (end - n < 0) continue;
    ZWSP_AT.lastIndex = end - n;
    const m = ZWSP_AT.exec(text);
    if (m && m[0].length === n) return n;
  }
  return 0;
}
/** The runs of regional indicators (zero-width spaces between them allowed: EACH reads those) with an edge, each indicator a match, added to `out`. */
function indicatorRuns(text: string, out: Array<{ index: number; 0: string }>): void {
  let last = 0;
  INDICATOR_EDGE.lastIndex = 0;
  for (let m = INDICATOR_EDGE.exec(text); m !== null; m = INDICATOR_EDGE.exec(text)) {
    INDICATOR_EDGE.lastIndex = m.index + 1;
    // The edge begins with the indicator, or with the mark before it (or before a zero-width space).
    INDICATOR_AT.lastIndex = m.index;
    let a = INDICATOR_AT.test(text) ? m.index : m.index + 1;
    for (let k = 0; k < INDICATOR_RUN; k++) {
      let n = indicatorEndingAt(text, a);
      if (!n) {
        // A zero-width space between two indicators (a generator's, so no two make a flag).
        const z = zwspEndingAt(text, a);
        const i = z ? indicatorEndingAt(text, a - z) : 0;
        n = i ? z + i : 0;
      }
      if (!n) break;
      a -= n;
    }
    a = Math.max(a, last);
    let b = a;
    for (let k = 0; k < INDICATOR_RUN; k++) {
      INDICATOR_AT.lastIndex = b;
      const d = INDICATOR_AT.exec(text);
      if (!d) {
        ZWSP_AT.lastIndex = b;
        const z = ZWSP_AT.exec(text);
        if (!z) break;
        INDICATOR_AT.lastIndex = b + z[0].length;
        if (!INDICATOR_AT.test(text)) break;
        b += z[0].length;
        continue;
      }
      out.push({ index: b, 0: d[0] });
      b += d[0].length;
    }
    last = Math.max(last, b);
    if (INDICATOR_EDGE.lastIndex < b) INDICATOR_EDGE.lastIndex = b;
  }
}
/** A regional indicator or a zero-width space cut short at the end of a text (UTF-8 or JSON escape begun). */
const CUT_INDICATOR = /(?:\xf0(?:\x9f\x87?)?|\xe2\x80?|\\(?:u[0-9a-fA-F]{0,3})?|\\u[dD]83[cC]\\?(?:u[0-9a-fA-F]{0,3})?)$/;
/**
 * Regional indicators (zero-width spaces between them allowed) ending a text, with one cut short
 * after them: no ASCII character beside them makes an edge yet (indicatorRuns), and the key's
 * letters may go on in the next chunk. Held as an unfinished fold.
 */
function indicatorTail(text: string): string | undefined {
  const cut = CUT_INDICATOR.exec(text.slice(-12));
  let a = text.length - (cut ? cut[0].length : 0);
  let n = 0;
  for (let k = 0; k < INDICATOR_RUN; k++) {
    let step = indicatorEndingAt(text, a);
    if (step) n++;
    else {
      const z = zwspEndingAt(text, a);
      step = z && indicatorEndingAt(text, a - z) ? z : 0;
    }
    if (!step) break;
    a -= step;
  }
  return n ? text.slice(a) : undefined;
}
const INDICATOR_ANY = /[!#-&*+\-./0-9:;<=>?@A-Z\\^_a-z|~](?:\xf0\x9f\x87[\xa6-\xbf]|\\u[dD]83[cC]\\u[dD][dD][eEfF][0-9a-fA-F])|(?:\xf0\x9f\x87[\xa6-\xbf]|\\u[dD]83[cC]\\u[dD][dD][eEfF][0-9a-fA-F])[!#-&*+\-./0-9:;<=>?@A-Z\\^_a-z|~]|[!#-&*+\-./0-9:;<=>?@A-Z\\^_a-z|~](?:\xe2\x80\x8b|\\u200[bB])(?:\xf0\x9f\x87[\xa6-\xbf]|\\u[dD]83[cC]\\u[dD][dD][eEfF][0-9a-fA-F])|(?:\xf0\x9f\x87[\xa6-\xbf]|\\u[dD]83[cC]\\u[dD][dD][eEfF][0-9a-fA-F])(?:\xe2\x80\x8b|\\u200[bB])[!#-&*+\-./0-9:;<=>?@A-Z\\^_a-z|~]|(?:\xf0\x9f\x87[\xa6-\xbf]){8}|(?:\\u[dD]83[cC]\\u[dD][dD][eEfF][0-9a-fA-F]){8}/;
const ALPHABET_EACH = /\xf3\xa0(?:\x80[\xa0-\xbf]|\x81[\x80-\xbe])|\xe2\xa0[\xa0-\xbf]|\xe2\xa1[\x80-\xbe]|\xe2(?:\x91[\xb4-\xbc]|\x92[\x88-\x90\x9c-\xb5]|\x93[\xb5-\xbd\xbf]|\x9d[\xb6-\xbe]|\x9e[\x80-\x88\x8a-\x92])|\xf0\x9f(?:\x84[\x80-\x8a\x90-\xa9]|\x85[\x90-\xa9\xb0-\xbf]|\x86[\x80-\x89])|\\u(?:28[2-7][0-9a-fA-F]|24(?:7[4-9a-cA-C]|8[89a-fA-F]|9[0c-fC-F]|[aA][0-9a-fA-F]|[bB][0-5]|[fF][5-9a-dA-DfF])|27(?:7[6-9a-eA-E]|8[0-8a-fA-F]|9[0-2])|[dD][bB]40\\u[dD][cC][2-7][0-9a-fA-F]|[dD]83[cC]\\u[dD][dD](?:0[0-9aA]|1[0-9a-fA-F]|2[0-9]|[5-8][0-9a-fA-F]))|&#(?:[xX]0{0,4}1[fF]1[eE][6-9a-fA-F]|[xX]0{0,4}1[fF]1[fF][0-9a-fA-F]|0{0,4}1274(?:6[2-9]|7[0-9]|8[0-7]));/g;
/** [first code point, last, the ASCII code the first reads as] of each offset alphabet. */
const OFFSET_ALPHABETS: Array<[number, number, number]> = [
  [0xe0021, 0xe007e, 0x21], [0x2821, 0x287e, 0x21], [0x1f150, 0x1f169, 0x41], [0x1f170, 0x1f189, 0x41], [0x1f1e6, 0x1f1ff, 0x41],
  // Twenty-sixth pass: the rest of the Enclosed Alphanumerics a "fancy text" generator writes a key
  // in (NFKC reads them as `(s)`, `5.`, `5,`, or keeps them; a person and an agent read the letter):
  // parenthesized letters (⒮, 🄢) and digits (⑸), digits with a full stop (⒌) or a comma (🄆),
  // double-circled digits (⓹), the dingbats' circled digits (❺, ➄, ➎) and negative circled zero (⓿).
  [0x249c, 0x24b5, 0x61], [0x1f110, 0x1f129, 0x41], [0x2474, 0x247c, 0x31], [0x2488, 0x2490, 0x31], [0x1f100, 0x1f100, 0x30], [0x1f101, 0x1f10a, 0x30],
  [0x24f5, 0x24fd, 0x31], [0x24ff, 0x24ff, 0x30], [0x2776, 0x277e, 0x31], [0x2780, 0x2788, 0x31], [0x278a, 0x2792, 0x31],
  ...[0x660, 0x6f0, 0x966, 0x9e6, 0xa66, 0xae6, 0xb66, 0xbe6, 0xc66, 0xce6, 0xd66, 0xe50, 0xed0, 0x1040, 0x17e0].map((zero): [number, number, number] => [zero, zero + 9, 0x30]),
];
/** ALPHABET_EACH at an index (written out again, so the ReDoS check reads it). */
const ALPHABET_AT = /\xf3\xa0(?:\x80[\xa0-\xbf]|\x81[\x80-\xbe])|\xe2\xa0[\xa0-\xbf]|\xe2\xa1[\x80-\xbe]|\xe2(?:\x91[\xb4-\xbc]|\x92[\x88-\x90\x9c-\xb5]|\x93[\xb5-\xbd\xbf]|\x9d[\xb6-\xbe]|\x9e[\x80-\x88\x8a-\x92])|\xf0\x9f(?:\x84[\x80-\x8a\x90-\xa9]|\x85[\x90-\xa9\xb0-\xbf]|\x86[\x80-\x89])|\\u(?:28[2-7][0-9a-fA-F]|24(?:7[4-9a-cA-C]|8[89a-fA-F]|9[0c-fC-F]|[aA][0-9a-fA-F]|[bB][0-5]|[fF][5-9a-dA-DfF])|27(?:7[6-9a-eA-E]|8[0-8a-fA-F]|9[0-2])|[dD][bB]40\\u[dD][cC][2-7][0-9a-fA-F]|[dD]83[cC]\\u[dD][dD](?:0[0-9aA]|1[0-9a-fA-F]|2[0-9]|[5-8][0-9a-fA-F]))|&#(?:[xX]0{0,4}1[fF]1[eE][6-9a-fA-F]|[xX]0{0,4}1[fF]1[fF][0-9a-fA-F]|0{0,4}1274(?:6[2-9]|7[0-9]|8[0-7]));/y;
/** A run of offset-alphabet characters this long is read wherever it is (a key written whole so); a shorter one only beside a key's characters. */
const ALPHABET_RUN = 8;
/**
 * Whether unread item `k` is an offset alphabet's character in a run of fewer than ALPHABET_RUN
 * fillers and folds with no ASCII letter, digit or `_` on either side: a spinner's `⠋` before a
 * blank, a flag's tag characters, a word of Braille (read at every one, a CI log of spinners
 * scrubbed 2× slower). A key written so is a long run, or its characters sit beside ASCII ones.
 */
function alphabetAlone(text: string, unread: Unread, k: number): boolean {
  ALPHABET_AT.lastIndex = unread.start[k]!;
  if (!ALPHABET_AT.test(text)) return false;
  let n = 1;
  let a = k;
  for (; a > 0 && n < ALPHABET_RUN && unread.end[a - 1] === unread.start[a]; a--) n++;
  let b = k;
  for (; b + 1 < unread.start.length && n < ALPHABET_RUN && unread.start[b + 1] === unread.end[b]; b++) n++;
  return n < ALPHABET_RUN && !isWordChar(text, unread.start[a]! - 1) && !isWordChar(text, unread.end[b]!);
}
/** A digit of another script at an index: raw or as a JSON escape. */
const LOCAL_DIGIT = /\xd9[\xa0-\xa9]|\xdb[\xb0-\xb9]|\xe0[\xa5\xa7\xa9\xab\xad\xaf\xb1\xb3\xb5][\xa6-\xaf]|\xe0[\xb9\xbb][\x90-\x99]|\xe1(?:\x81[\x80-\x89]|\x9f[\xa0-\xa9])|\\u(?:06(?:6|[fF])[0-9]|0[9a-dA-D][6eE][6-9a-fA-F]|0[eE][59dD][0-9]|104[0-9]|17[eE][0-9])/y;
/**
 * Such a digit beside an ASCII letter, digit or `_`: where a key's digits written so are found from
 * (its digits sit beside its letters); a localized page's numbers, between blanks, marks or its
 * script's letters, are read as they were. Found from that edge and walked in code, as confusable
 * runs are: every digit a match, a Persian or Hindi page scrubbed ~8× slower. Twenty-fifth pass: also
 * three such digits, one ASCII mark and three more (`۱۲۳۴-۵۶۷۸`: a key of digits and marks only, a PIN
 * or an account number grouped, has no ASCII character beside its digits). A page's dates, times and
 * prices (`۱۴۰۲/۰۵/۱۲`, `۱۲:۳۰`, `۱۲.۵۰۰`) have two digits or fewer beside a mark and are read as
 * they were (every date read, a Persian page with dates scrubbed ~15× slower); a phone number
 * grouped by threes is read. The walk goes on across a single mark.
 */
const DIGIT_EDGE_ANY = /[0-9A-Za-z_](?:\xd9[\xa0-\xa9]|\xdb[\xb0-\xb9]|\xe0[\xa5\xa7\xa9\xab\xad\xaf\xb1\xb3\xb5][\xa6-\xaf]|\xe0[\xb9\xbb][\x90-\x99]|\xe1(?:\x81[\x80-\x89]|\x9f[\xa0-\xa9])|\\u(?:06(?:6|[fF])[0-9]|0[9a-dA-D][6eE][6-9a-fA-F]|0[eE][59dD][0-9]|104[0-9]|17[eE][0-9]))|(?:\xd9[\xa0-\xa9]|\xdb[\xb0-\xb9]|\xe0[\xa5\xa7\xa9\xab\xad\xaf\xb1\xb3\xb5][\xa6-\xaf]|\xe0[\xb9\xbb][\x90-\x99]|\xe1(?:\x81[\x80-\x89]|\x9f[\xa0-\xa9])|\\u(?:06(?:6|[fF])[0-9]|0[9a-dA-D][6eE][6-9a-fA-F]|0[eE][59dD][0-9]|104[0-9]|17[eE][0-9]))[0-9A-Za-z_]|(?:\xd9[\xa0-\xa9]|\xdb[\xb0-\xb9]|\xe0[\xa5\xa7\xa9\xab\xad\xaf\xb1\xb3\xb5][\xa6-\xaf]|\xe0[\xb9\xbb][\x90-\x99]|\xe1(?:\x81[\x80-\x89]|\x9f[\xa0-\xa9])|\\u(?:06(?:6|[fF])[0-9]|0[9a-dA-D][6eE][6-9a-fA-F]|0[eE][59dD][0-9]|104[0-9]|17[eE][0-9])){3}[\-./:,|](?:\xd9[\xa0-\xa9]|\xdb[\xb0-\xb9]|\xe0[\xa5\xa7\xa9\xab\xad\xaf\xb1\xb3\xb5][\xa6-\xaf]|\xe0[\xb9\xbb][\x90-\x99]|\xe1(?:\x81[\x80-\x89]|\x9f[\xa0-\xa9])|\\u(?:06(?:6|[fF])[0-9]|0[9a-dA-D][6eE][6-9a-fA-F]|0[eE][59dD][0-9]|104[0-9]|17[eE][0-9])){3}/;
const DIGIT_EDGE = /[0-9A-Za-z_](?:\xd9[\xa0-\xa9]|\xdb[\xb0-\xb9]|\xe0[\xa5\xa7\xa9\xab\xad\xaf\xb1\xb3\xb5][\xa6-\xaf]|\xe0[\xb9\xbb][\x90-\x99]|\xe1(?:\x81[\x80-\x89]|\x9f[\xa0-\xa9])|\\u(?:06(?:6|[fF])[0-9]|0[9a-dA-D][6eE][6-9a-fA-F]|0[eE][59dD][0-9]|104[0-9]|17[eE][0-9]))|(?:\xd9[\xa0-\xa9]|\xdb[\xb0-\xb9]|\xe0[\xa5\xa7\xa9\xab\xad\xaf\xb1\xb3\xb5][\xa6-\xaf]|\xe0[\xb9\xbb][\x90-\x99]|\xe1(?:\x81[\x80-\x89]|\x9f[\xa0-\xa9])|\\u(?:06(?:6|[fF])[0-9]|0[9a-dA-D][6eE][6-9a-fA-F]|0[eE][59dD][0-9]|104[0-9]|17[eE][0-9]))[0-9A-Za-z_]|(?:\xd9[\xa0-\xa9]|\xdb[\xb0-\xb9]|\xe0[\xa5\xa7\xa9\xab\xad\xaf\xb1\xb3\xb5][\xa6-\xaf]|\xe0[\xb9\xbb][\x90-\x99]|\xe1(?:\x81[\x80-\x89]|\x9f[\xa0-\xa9])|\\u(?:06(?:6|[fF])[0-9]|0[9a-dA-D][6eE][6-9a-fA-F]|0[eE][59dD][0-9]|104[0-9]|17[eE][0-9])){3}[\-./:,|](?:\xd9[\xa0-\xa9]|\xdb[\xb0-\xb9]|\xe0[\xa5\xa7\xa9\xab\xad\xaf\xb1\xb3\xb5][\xa6-\xaf]|\xe0[\xb9\xbb][\x90-\x99]|\xe1(?:\x81[\x80-\x89]|\x9f[\xa0-\xa9])|\\u(?:06(?:6|[fF])[0-9]|0[9a-dA-D][6eE][6-9a-fA-F]|0[eE][59dD][0-9]|104[0-9]|17[eE][0-9])){3}/g;
/** The marks a key's digit groups may stand between (DIGIT_EDGE's third kind). */
const GROUP_MARK = '-./:,|';
/** The most digits of a run walked from its edge. */
const DIGIT_RUN = 32;
const isWordChar = (text: string, i: number): boolean => {
  const c = text.charCodeAt(i);
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
};
/** The length of the digit (LOCAL_DIGIT) ending at `end`, or 0. */
function digitEndingAt(text: string, end: number): number {
  for (const n of [2, 3, 6]) {
    if (end - n < 0) continue;
    LOCAL_DIGIT.lastIndex = end - n;
    const m = LOCAL_DIGIT.exec(text);
    if (m && m[0].length === n) return n;
  }
  return 0;
}
/** The runs of digits of another script with an ASCII letter, digit or `_` beside them, each digit a match, added to `out`. */
function digitRuns(text: string, out: Array<{ index: number; 0: string }>): void {
  let last = 0;
  DIGIT_EDGE.lastIndex = 0;
  for (let m = DIGIT_EDGE.exec(text); m !== null; m = DIGIT_EDGE.exec(text)) {
    // Edges overlap (`a۱b`): look again from the second character.
    DIGIT_EDGE.lastIndex = m.index + 1;
    let a = isWordChar(text, m.index) ? m.index + 1 : m.index;
    for (let k = 0, n = digitEndingAt(text, a); k < DIGIT_RUN && n > 0; k++, n = digitEndingAt(text, a)) a -= n;
    a = Math.max(a, last);
    let b = a;
    for (let k = 0; k < DIGIT_RUN; k++) {
      LOCAL_DIGIT.lastIndex = b;
      let d = LOCAL_DIGIT.exec(text);
      // One ASCII mark between two digits: the next group of a key grouped so (the edge's third kind).
      if (!d && k > 0 && GROUP_MARK.includes(text[b]!)) {
        LOCAL_DIGIT.lastIndex = b + 1;
        d = LOCAL_DIGIT.exec(text);
        if (d) b++;
      }
      if (!d) break;
      out.push({ index: b, 0: d[0] });
      b += d[0].length;
    }
    last = Math.max(last, b);
    if (DIGIT_EDGE.lastIndex < b) DIGIT_EDGE.lastIndex = b;
  }
}
/** A digit of another script cut short at the end of a text (its UTF-8 or its JSON escape begun). */
const CUT_DIGIT = /(?:[\xd9\xdb]|\xe0[\xa5-\xbb]?|\xe1[\x81\x9f]?|\\(?:u[0-9a-fA-F]{0,3})?)$/;
/**
 * Twenty-fifth pass: digits of another script (and single ASCII marks between them) ending a text,
 * with a digit cut short after them: a key of digits only may go on in the next chunk, and no ASCII
 * character beside them makes an edge yet (digitRuns). Held as an unfinished fold.
 */
function digitTail(text: string): string | undefined {
  const cut = CUT_DIGIT.exec(text.slice(-6));
  let a = text.length - (cut ? cut[0].length : 0);
  let digits = 0;
  if (GROUP_MARK.includes(text[a - 1] ?? '') && digitEndingAt(text, a - 1) > 0) a--;
  for (let n = digitEndingAt(text, a); n > 0 && digits < DIGIT_RUN; n = digitEndingAt(text, a)) {
    a -= n;
    digits++;
    if (GROUP_MARK.includes(text[a - 1] ?? '') && digitEndingAt(text, a - 1) > 0) a--;
  }
  return digits ? text.slice(a) : undefined;
}
/** A tag character's JSON escape cut after its high surrogate (`\udb40`, `\udb40\udc7`): UNFINISHED knows only the styled letters' pairs. */
const TAG_ESCAPE_TAIL = /\\u[dD][bB]40(?:\\(?:u(?:[dD](?:[cC][0-7]?)?)?)?)?$/;
/** The cut UTF-8 (or cut tag escape) of an offset alphabet's character ending `text` (ALPHABET_ANY; a lone `\xe2` or `\xf0` is UNFINISHED's). */
function alphabetTail(text: string): string | undefined {
  const escape = TAG_ESCAPE_TAIL.exec(text.slice(-11));
  if (escape) return escape[0];
  for (let n = 3; n >= 1; n--) {
    const end = text.slice(-n);
    if (end.length === n && /^(?:\xf3(?:\xa0[\x80\x81]?)?|\xe2[\xa0\xa1\x91-\x93\x9d\x9e]|\xf0\x9f[\x84-\x87]?|[\xd9\xdb]|\xe0[\xa5-\xbb]?|\xe1[\x81\x9f])$/.test(end)) return end;
  }
  return undefined;
}
const FOLD_RANGES: Array<[number, number]> = [
  [0x2b0, 0x2e3], [0x1d2c, 0x1d65], [0x1d9c, 0x1dbb], [0x207f, 0x207f], [0x2090, 0x209c],
  [0xb2, 0xb3], [0xb9, 0xb9], [0x2070, 0x2079], [0x2080, 0x2089], [0x2102, 0x2139], [0x2460, 0x2468], [0x24b6, 0x24ea], [0x1d400, 0x1d7ff], [0x1f130, 0x1f149],
];
/** The UTF-8 (latin1) fillers; every other filler starts with `&`, `<` or a backslash. */
const UTF8_FILLERS = new Set(['\xe2\x80\x8b', '\xe2\x80\x8c', '\xe2\x80\x8d', '\xe2\x80\x8e', '\xe2\x80\x8f', '\xe2\x81\xa0', '\xe2\x81\xa1', '\xe2\x81\xa2', '\xe2\x81\xa3', '\xe2\x81\xa4', '\xef\xbb\xbf', '\xc2\xad']);
/**
 * The unfinished start of a filler or a fold at the end of a text (a chunk cut inside one). Only a
 * start some filler can still become (twenty-second pass): a reference's (`&#12`, `&sh`, `&Zero`,
 * `&zwn`, `&NoBr`, `&lr`, `&rl`), `<wbr`, and after a token character or `>` (as ANY reads them) a
 * tag's (`<`, `</`, then a letter and at most 78 more), a short comment's (`<!--` and at most 9),
 * CDATA's (`<![CDA`). Any `&` and 14 letters or digits, any `<` and 79 characters but `<>` were
 * held: a WebSocket message ending in a key's public prefix then `< more` or `<5 x` (a chat's
 * arrow, a comparison) was kept back until the tunnel closed.
 */
const UNFINISHED = /(?:\xe2[\x80-\x93]?|\xef\xbb?|\xc2|\xf0(?:\x9d[\x90-\x9f]?|\x9f[\x84\x85]?)?|&(?:#[xX]?[0-9a-fA-F]{0,10}|s(?:hy?)?|Z(?:e(?:r(?:o(?:W(?:i(?:d(?:t(?:h(?:S(?:p(?:a(?:ce?)?)?)?)?)?)?)?)?)?)?)?)?|z(?:wn?j?)?|N(?:o(?:B(?:r(?:e(?:ak?)?)?)?)?)?|l(?:rm?)?|r(?:lm?)?)?|<(?:[wW](?:[bB](?:[rR]\s{0,4}\/?)?)?)?|(?<![^0-9A-Za-z#$%&()+,\-./:=?@_~\\>])<(?:[A-Za-z][^<>]{0,78}|\/(?:[A-Za-z][^<>]{0,77})?|!(?:-(?:-[^<>]{0,9}-{0,2})?|\[(?:C(?:D(?:A(?:T(?:A)?)?)?)?)?)?)|\]\]?|\\(?:u[0-9a-fA-F]{0,3})?|\\u[dD]83[5cC]\\?(?:u[0-9a-fA-F]{0,3})?|(?:%[0-9a-fA-F]{2}){0,3}%[0-9a-fA-F]?|(?:%[0-9a-fA-F]{2}){1,3})$/;
/** The unfinished UTF-8, escape or numeric reference of a fold at the end of a text: it may begin a spelling on its own. */
const UNFINISHED_FOLD = /(?:\xe2[\x81-\x93]?|\xc2|\xf0(?:\x9d[\x90-\x9f]?|\x9f[\x84\x85]?)?|&(?:#[xX]?[0-9a-fA-F]{0,9})?|\\(?:u[0-9a-fA-F]{0,3})?|\\u[dD]83[5cC]\\?(?:u[0-9a-fA-F]{0,3})?|(?:%[0-9a-fA-F]{2}){0,3}%[0-9a-fA-F]?|(?:%[0-9a-fA-F]{2}){1,3})$/;
/**
 * The unfinished start of a CSS, `\u{…}` or `\U` escape of a fold, or of a colour sequence (nineteenth
 * pass), at the end of a text: patterns of their own (one alternation with UNFINISHED is not provably
 * linear); `unfinished` takes the earlier match.
 */
const UNFINISHED_ESCAPE = /(?:\\(?:u\{[0-9a-fA-F]{0,9}|U[0-9a-fA-F]{0,7}|[0-9a-fA-F]{1,6}\r?|u001[bB]\[?[0-9;:?]{0,20}|x1[bB]?\[?[0-9;:?]{0,20})|\x1b\[?[0-9;:?]{0,20})$/;
const UNFINISHED_ESCAPE_FOLD = /\\(?:u\{[0-9a-fA-F]{0,9}|U[0-9a-fA-F]{0,7}|[0-9a-fA-F]{1,6}\r?)$/;

/** The earliest unfinished filler (or, `fold`, fold) at the end of `text`, if any. */
function unfinished(text: string, fold = false): string | undefined {
  const a = (fold ? UNFINISHED_FOLD : UNFINISHED).exec(text);
  const b = (fold ? UNFINISHED_ESCAPE_FOLD : UNFINISHED_ESCAPE).exec(text);
  const c = fold ? null : UNFINISHED_STRING.exec(text);
  const ab = a && (!b || a.index <= b.index) ? a : b;
  const found = (c && (!ab || c.index < ab.index) ? c : ab)?.[0];
  const first = confusableTail(text) ?? modifierTail(text) ?? alphabetTail(text) ?? (fold ? undefined : dumpTail(text));
  // Digits of another script before a cut character (`\xe1` may begin a modifier letter or a Khmer digit): the longer.
  const digits = digitTail(text);
  const indicators = indicatorTail(text);
  let run = digits !== undefined && (first === undefined || digits.length > first.length) ? digits : first;
  if (indicators !== undefined && (run === undefined || indicators.length > run.length)) run = indicators;
  return run !== undefined && (found === undefined || run.length > found.length) ? run : found;
}

/** Raw characters of the longest filler (`\\u001b]`, 128 characters and `\\u001b\\\\`: a hyperlink's OSC as JSON writes it) and one: a view of a tail reads this many per character. */
export const READING_WIDTH = 144;

let folds: Map<string, string> | undefined;

/** UTF-8 (latin1) of each code point in FOLD_RANGES that NFKC reads as one ASCII letter or digit → that character. */
function foldTable(): Map<string, string> {
  if (folds) return folds;
  folds = new Map();
  for (const [a, b] of FOLD_RANGES) {
    for (let cp = a; cp <= b; cp++) {
      const plain = String.fromCodePoint(cp).normalize('NFKC');
      if (/^[A-Za-z0-9]$/.test(plain)) folds.set(Buffer.from(String.fromCodePoint(cp), 'utf8').toString('latin1'), plain);
    }
  }
  for (const [plain, looks] of Object.entries(CONFUSABLES)) for (const c of looks) folds.set(Buffer.from(c, 'utf8').toString('latin1'), plain);
  for (const [plain, look] of Object.entries(SMALL_CAPS)) folds.set(Buffer.from(look, 'utf8').toString('latin1'), plain);
  for (const [a, b, to] of OFFSET_ALPHABETS) for (let cp = a; cp <= b; cp++) folds.set(Buffer.from(String.fromCodePoint(cp), 'utf8').toString('latin1'), String.fromCharCode(to + cp - a));
  return folds;
}

/** Code points of the fillers a numeric reference or an escape may name. */
const FILLER_POINTS = new Set([0xad, 0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0xfeff]);

/**
 * What a numeric reference (`&#xff53;`, `&#65363;`) or a JSON/JavaScript escape (`\uff53`, a
 * surrogate pair `\ud835\udc2c`) reads as: '' for a filler, the ASCII character of a full-width
 * one (U+FF01–FF5E: Python's `json.dumps` writes a page's zenkaku so) or of a fold; undefined for
 * any other code point (kept as it is).
 */
function escapedAs(escape: string, table: Map<string, string>): string | undefined {
  let cp: number;
  if (escape.charCodeAt(0) === 0x5c) {
    const kind = escape[1];
    if (kind === 'u' && escape[2] === '{') cp = parseInt(escape.slice(3, -1), 16);
    else if (kind === 'U') cp = parseInt(escape.slice(2, 10), 16);
    else if (kind !== 'u') cp = parseInt(escape.slice(1).trimEnd(), 16); // CSS: `\ff53 `, `\01d42c`
    else {
      cp = parseInt(escape.slice(2, 6), 16);
      if (escape.length > 6) cp = 0x10000 + ((cp - 0xd800) << 10) + (parseInt(escape.slice(8, 12), 16) - 0xdc00);
    }
  } else {
    const hex = escape[2] === 'x' || escape[2] === 'X';
    cp = parseInt(escape.slice(hex ? 3 : 2).replace(';', ''), hex ? 16 : 10);
  }
  if (FILLER_POINTS.has(cp)) return '';
  if (cp >= 0xff01 && cp <= 0xff5e) return String.fromCharCode(cp - 0xfee0);
  return cp > 0x10ffff ? undefined : table.get(Buffer.from(String.fromCodePoint(cp), 'utf8').toString('latin1'));
}

/** What the percent-encoded UTF-8 of a filler, full-width letter or fold (`%EF%BD%93`: a URL's query) reads as, as escapedAs. */
function percentAs(escaped: string, table: Map<string, string>): string | undefined {
  const bytes = escaped.replace(/%/g, '');
  const utf8 = Buffer.from(bytes, 'hex').toString('latin1');
  if (UTF8_FILLERS.has(utf8)) return '';
  const cp = Buffer.from(utf8, 'latin1').toString('utf8').codePointAt(0)!;
  if (cp >= 0xff01 && cp <= 0xff5e) return String.fromCharCode(cp - 0xfee0);
  return table.get(utf8);
}

/** A text as read, and where each of its characters was. */
export interface ReadingView {
  text: string;
  /** Per stretch: its start in the view and in the text, and the text characters per view character (1, or a fold's bytes). */
  at: number[];
  from: number[];
  width: number[];
  /** Characters at the end of the text left out as the unfinished start of a fold (it may begin a spelling: held). */
  openFold: number;
}

/** The fillers and folds of `text` (flat: start, end, and what each reads as: '' or the letter). */
interface Unread {
  start: number[];
  end: number[];
  as: string[];
}

/** The matches of EACH, ESCAPE_EACH, TERMINAL_EACH, STRING_EACH, MODIFIER_EACH and ALPHABET_EACH in `text`, and the confusable runs, by where they start. */
function matchesIn(text: string): RegExpExecArray[] {
  const all: RegExpExecArray[] = [];
  for (const re of [EACH, ESCAPE_EACH, TERMINAL_EACH, STRING_EACH, MODIFIER_EACH, ALPHABET_EACH]) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) all.push(m);
  }
  confusableRuns(text, all as unknown as Array<{ index: number; 0: string }>);
  digitRuns(text, all as unknown as Array<{ index: number; 0: string }>);
  indicatorRuns(text, all as unknown as Array<{ index: number; 0: string }>);
  dumpBreaks(text, all as unknown as Array<{ index: number; 0: string }>);
  return all.sort((a, b) => a.index - b.index);
}

/** Whether a match is a run of Greek or Cyrillic letters beside an ASCII character (confusableRuns). */
const isConfusableRun = (m: string): boolean => (m.charCodeAt(0) >= 0xce && m.charCodeAt(0) <= 0xd4) || (/^[0-9A-Za-z_][\xce-\xd4]/.test(m) && m.charCodeAt(m.length - 1) !== 0x08);
/** What such a run reads as: its ASCII character and each letter's Latin look-alike; undefined when one has none. */
function confusableAs(m: string, table: Map<string, string>): string | undefined {
  let out = '';
  for (let i = 0; i < m.length; ) {
    if (m.charCodeAt(i) < 0x80) {
      out += m[i++];
      continue;
    }
    const plain = table.get(m.slice(i, i + 2));
    if (plain === undefined) return undefined;
    out += plain;
    i += 2;
  }
  return out;
}
/** A terminal's control sequence (raw, or as a recording's JSON or a repr writes it) or an overstruck character. */
const isTerminal = (m: string): boolean => m.charCodeAt(m.length - 1) === 0x08 || m.endsWith('\\b') || m.endsWith('\\u0008') || m.charCodeAt(0) === 0x1b || (m.charCodeAt(0) === 0x5c && (m[1] === 'x' || m.startsWith('\\u001')));

function unreadIn(text: string): Unread {
  const table = foldTable();
  const found: Unread = { start: [], end: [], as: [] };
  // Line breaks inside base64 (found by code: a lookbehind would cost the pattern its ReDoS proof), merged in order.
  const breaks = wrapBreaks(text);
  let b = 0;
  const breaksBefore = (at: number): void => {
    for (; b < breaks.length && breaks[b]![0] < at; b++) {
      found.start.push(breaks[b]![0]);
      found.end.push(breaks[b]![1]);
      found.as.push('');
    }
  };
  for (const m of matchesIn(text)) {
    const c = m[0].charCodeAt(0);
    // A numeric reference or a `\u` escape: a filler's, or a letter that folds (eighteenth pass).
    const as = isTerminal(m[0]) || isDump(m[0]) ? '' : isConfusableRun(m[0]) ? confusableAs(m[0], table) : (c === 0x26 && m[0].charCodeAt(1) === 0x23) || c === 0x5c ? escapedAs(m[0], table) : c === 0x25 ? percentAs(m[0], table) : c === 0x26 || c === 0x3c || c === 0x5d || UTF8_FILLERS.has(m[0]) ? '' : table.get(m[0]);
    if (as === undefined) continue; // a code point in the ranges that folds to no letter or digit: kept as it is
    breaksBefore(m.index);
    found.start.push(m.index);
    found.end.push(m.index + m[0].length);
    found.as.push(as);
  }
  breaksBefore(Infinity);
  return found;
}

/** The view of text[from, to) given its fillers and folds (`unread`, those from index `k` on); `open`: characters left out at the end. */
function viewOf(text: string, from: number, to: number, unread: Unread, k: number, open = 0): ReadingView {
  const parts: string[] = [];
  const view: ReadingView = { text: '', at: [], from: [], width: [], openFold: 0 };
  let size = 0;
  let last = from;
  const stop = to - open;
  const keep = (a: number, b: number, as?: string): void => {
    if (b <= a || as === '') return;
    view.at.push(size);
    view.from.push(a - from);
    view.width.push(as === undefined ? 1 : b - a);
    const piece = as ?? text.slice(a, b);
    parts.push(piece);
    size += piece.length;
  };
  for (; k < unread.start.length && unread.end[k]! <= stop; k++) {
    const a = unread.start[k]!;
    if (a < last) continue;
    keep(last, a);
    keep(a, unread.end[k]!, unread.as[k]!);
    last = unread.end[k]!;
  }
  keep(last, stop);
  view.text = parts.join('');
  return view;
}

/**
 * Whether `text` may hold a filler or a fold: a character past ASCII (its UTF-8 is longer), or the
 * start of a reference, a tag or an escape. Native scans (~10 GB/s): an ASCII JSON answer without
 * escapes skips the regex pass, a tenth of a scrub.
 */
export function mayHoldUnread(text: string): boolean {
  return text.indexOf('&') >= 0 || text.indexOf('<') >= 0 || text.indexOf('\\') >= 0 || text.indexOf('\x1b') >= 0 || text.indexOf('\x08') >= 0 || (text.indexOf('\n0') >= 0 && DUMP_HEAD_ANY.test(text)) || Buffer.byteLength(text, 'utf8') !== text.length || wrappedBase64(text) || (text.indexOf('%') >= 0 && PERCENT_UNREAD.test(text));
}
/** A percent-encoded lead of a filler, a full-width letter or a fold (eighteenth pass). */
const PERCENT_UNREAD = /%(?:[eE][fF]%[bB][b-dB-D]|[eE]2%(?:8[0-9a-fA-F]|9[1-3])|[fF]0%9[dDfF]|[cC]2%[aAbB])/;

/**
 * Whether `text` may end inside a filler the gate of mayHoldUnread does not see: a CDATA end
 * begun (`]`, `]]`: a chunk cut there), a line break after base64 whose next line is not here yet,
 * a percent-encoded sequence begun.
 */
export function mayEndOpen(text: string): boolean {
  return text.endsWith(']') || openBreak(text) > 0 || (text.length > 0 && text.lastIndexOf('%') >= text.length - 12) || endsInDumpLine(text);
}
/**
 * Whether `text` may end inside a hex dump's line end (dumpTail; twenty-second pass): a line break
 * in its last 14 characters or two blanks after hex in its last 20. Found by the scrubber's gate
 * too: a chunk cut at a line's end (`…3435  HxYzAbCdEf012345\n`) held nothing of the hex before it.
 */
function endsInDumpLine(text: string): boolean {
  const n = text.length;
  return (text.indexOf('\n', n - 14) >= 0 || text.indexOf('  ', n - 20) >= 0) && dumpTail(text.slice(-READING_WIDTH)) !== undefined;
}

/** The line breaks (`\n` or `\r\n`) of `text` with 16 base64 characters before and one after: [start, end) each. */
function wrapBreaks(text: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let n = text.indexOf('\n', 16); n >= 0; n = text.indexOf('\n', n + 1)) {
    if (!BASE64_CHAR[text.charCodeAt(n + 1)]) continue;
    const start = text.charCodeAt(n - 1) === 0x0d ? n - 1 : n;
    if (base64Before(text, start)) out.push([start, n + 1]);
  }
  return out;
}

/** Whether the 16 characters before `at` are base64 characters. */
function base64Before(text: string, at: number): boolean {
  if (at < 16) return false;
  for (let i = at - 16; i < at; i++) if (!BASE64_CHAR[text.charCodeAt(i)]) return false;
  return true;
}

/** How many characters at the end of `text` are a line break after 16 base64 characters whose next line is not here yet (0: none). */
function openBreak(text: string): number {
  const n = text.endsWith('\r\n') ? 2 : text.endsWith('\n') || text.endsWith('\r') ? 1 : 0;
  return n && base64Before(text, text.length - n) ? n : 0;
}

/**
 * Whether a line of `text` ends in 16 base64 characters and the next begins with one. Only the first
 * 32 line breaks of a text (a chunk) are looked at: a wrapped blob is most of the chunks it is in,
 * and looking at every line break cost multi-line JSON ~12% of its scrub.
 */
function wrappedBase64(text: string): boolean {
  for (let n = text.indexOf('\n', 16), k = 0; n >= 0 && k < 32; n = text.indexOf('\n', n + 1), k++) {
    if (!BASE64_CHAR[text.charCodeAt(n + 1)]) continue;
    let i = n - 1;
    if (text.charCodeAt(i) === 0x0d) i--;
    let run = 0;
    while (run < 16 && i >= 0 && BASE64_CHAR[text.charCodeAt(i)]) {
      run++;
      i--;
    }
    if (run === 16) return true;
  }
  return false;
}
const BASE64_CHAR: boolean[] = Array.from({ length: 128 }, (_, c) => /[A-Za-z0-9+/=]/.test(String.fromCharCode(c)));

/** `text` as read (undefined when it has nothing to take out or fold); `tail`: an unfinished one at the end goes too. */
export function readingView(text: string, tail = false): ReadingView | undefined {
  const openAtEnd = tail ? openBreak(text) : 0;
  const endsOpen = tail && (openAtEnd > 0 || unfinished(text.slice(-READING_WIDTH)) !== undefined);
  if (!ANY.test(text) && !ESCAPE_ANY.test(text) && !TERMINAL_ANY.test(text) && !STRING_ANY.test(text) && !DUMP_HEAD_ANY.test(text) && !MODIFIER_ANY.test(text) && !ALPHABET_ANY.test(text) && !INDICATOR_ANY.test(text) && !DIGIT_EDGE_ANY.test(text) && !CONFUSABLE_ANY.test(text) && !endsOpen && !wrapBreaks(text).length) return undefined;
  const unread = unreadIn(text);
  const lastEnd = unread.end.length ? unread.end[unread.end.length - 1]! : 0;
  // The longest of what may be open: a dump's line end (its 16-character text column and line
  // break also look like wrapped base64, whose break would otherwise hide it), a line break after
  // base64, or a filler begun after the last one read.
  const dump = endsOpen ? dumpTail(text.slice(-READING_WIDTH)) : undefined;
  let open = endsOpen ? unfinished(text.slice(Math.max(lastEnd, text.length - READING_WIDTH))) : undefined;
  if (openAtEnd > (open?.length ?? 0)) open = text.slice(-openAtEnd);
  // Regional indicators with zero-width spaces between them ending the text: the spaces are read
  // (unread items), so the run is not after the last of them; held whole all the same.
  const indicators = endsOpen ? indicatorTail(text.slice(-READING_WIDTH)) : undefined;
  if (indicators && indicators.length > (open?.length ?? 0)) open = indicators;
  if (dump && dump.length > (open?.length ?? 0)) open = dump;
  const view = viewOf(text, 0, text.length, unread, 0, open ? open.length : 0);
  if (open) view.openFold = unfinished(open, true)?.length ?? 0;
  return view;
}

/** Where the character at view position `v` is in the text: [start, end). */
export function rawSpan(view: ReadingView, v: number): [number, number] {
  let lo = 0;
  let hi = view.at.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (view.at[mid]! <= v) lo = mid;
    else hi = mid - 1;
  }
  const w = view.width[lo]!;
  const start = view.from[lo]! + (w === 1 ? v - view.at[lo]! : 0);
  return [start, start + w];
}

/**
 * Whether the character at `i` may stand beside a filler or fold inside a spelling: printable
 * ASCII, a blank, a punctuation mark's or arrow's last byte, a UTF-8 lead byte of one (a Greek or Cyrillic one too), a terminal string's
 * start or BEL end (twenty-second pass: a link around each character, `ESC]8;;url BEL`, abuts the
 * next one by those alone), or none.
 */
function besideText(text: string, i: number): boolean {
  if (i < 0 || i >= text.length) return true;
  const c = text.charCodeAt(i);
  // Twenty-sixth pass: the last byte of a punctuation mark or an arrow (U+2000–206F, U+2190–21FF:
  // `…` before a key's end a view cut, `→`, a dash, a quote) too, and the lead bytes of small
  // capitals (ǫ, ɢ, ꜱ): a run of a key in folds after `…` opened no window.
  // (A text that begins inside a character, cut by a chunk, is read as beside text there.)
  if (c >= 0x80 && c <= 0xbf && i < 2) return true;
  if (c >= 0x80 && c <= 0xbf && text.charCodeAt(i - 2) === 0xe2) {
    const mid = text.charCodeAt(i - 1);
    if (mid === 0x80 || mid === 0x81 || mid === 0x86 || mid === 0x87) return true;
  }
  return (c >= 0x20 && c < 0x7f) || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x1b || c === 0x07 || c === 0xe2 || c === 0xef || c === 0xc2 || c === 0xf0 || c === 0xf3 || c === 0xd9 || c === 0xdb || c === 0xe0 || c === 0xca || c === 0xcb || c === 0xe1 || c === 0xc7 || c === 0xc9 || c === 0xea || (c >= 0xce && c <= 0xd4);
}

/** Whether the filler at `i` is markup (a tag, a comment, a CDATA start or end). */
const isMarkup = (text: string, i: number): boolean => text.charCodeAt(i) === 0x3c || text.charCodeAt(i) === 0x5d;

/** A character a spelling of a secret is made of (letters, digits and the marks of its encodings), or `edge` (a tag's beside it). */
function tokenChar(text: string, i: number, edge = -1): boolean {
  // Past the text (a chunk's end): what comes may go on with the token.
  if (i < 0 || i >= text.length) return true;
  const c = text.charCodeAt(i);
  return c === edge || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x23 && c <= 0x2f && c !== 0x27 && c !== 0x2a) || c === 0x3a || c === 0x3d || c === 0x3f || c === 0x40 || c === 0x5f || c === 0x7e || c === 0x5c;
}

/** The longest tag the seventeenth pass read past (`<` and 14 characters and `>`); a longer one is read around short pieces only. */
const SHORT_TAG = 16;
/** Whether the run of fillers that abut one another around unread item `k` holds a tag longer than SHORT_TAG. */
const longTagIn = (k: number, chains: Chains): boolean => chains.long[chains.last[k]!] === 1;
/** Whether the token characters right before `a` and right after `b` are at most 4 each (a character or a few in each tag). */
function shortPiecesBeside(text: string, a: number, b: number): boolean {
  let n = 0;
  for (let i = a - 1; i >= 0 && n <= 4 && tokenChar(text, i); i--) n++;
  if (n > 4) return false;
  n = 0;
  for (let i = b; i < text.length && n <= 4 && tokenChar(text, i); i++) n++;
  return n <= 4;
}
/**
 * The runs of fillers and folds that abut one another: per unread item, the first and last item of
 * its run, and per run's last item whether the run holds a tag longer than SHORT_TAG. Found in one
 * pass each way (twenty-eighth pass): each item walked its whole run, so `items<b></b><b></b>…`
 * (a run of 9,000 tags after a word, 64 KiB of an answer from a host that got a secret) held the
 * event loop 2.7 s in one scan, 128 KiB 14 s.
 */
interface Chains {
  first: Int32Array;
  last: Int32Array;
  long: Uint8Array;
}
function chainsOf(unread: Unread): Chains {
  const n = unread.start.length;
  const first = new Int32Array(n);
  const last = new Int32Array(n);
  const long = new Uint8Array(n);
  let anyLong = 0;
  for (let k = 0; k < n; k++) {
    const joined = k > 0 && unread.end[k - 1] === unread.start[k];
    first[k] = joined ? first[k - 1]! : k;
    anyLong = (joined ? anyLong : 0) | (unread.end[k]! - unread.start[k]! > SHORT_TAG ? 1 : 0);
    long[k] = anyLong;
  }
  for (let k = n - 1; k >= 0; k--) last[k] = k < n - 1 && unread.start[k + 1] === unread.end[k] ? last[k + 1]! : k;
  return { first, last, long };
}
/** Where the run of fillers and folds that abut one another around unread item `k` starts and ends. */
const chainStart = (unread: Unread, k: number, chains: Chains): number => unread.start[chains.first[k]!]!;
const chainEnd = (unread: Unread, k: number, chains: Chains): number => unread.end[chains.last[k]!]!;

/**
 * The stretches of `text` a match read through fillers or folds may lie in, each with its view
 * (`from`: where it starts in `text`): those characters less than `reach` apart chained, and
 * `reach` on either side (a match's other characters are at most `reach`). One amid binary bytes
 * (a soft hyphen's two bytes occur every 64 KiB of random data) starts none: inside a spelling
 * such a character has text, or another one, on both sides. One pass over the text.
 */
export function readingWindows(text: string, reach: number): Array<{ from: number; view: ReadingView }> {
  if (!mayHoldUnread(text)) return [];
  const unread = unreadIn(text);
  const windows: Array<[number, number, number]> = [];
  let chains: Chains | undefined;
  for (let k = 0; k < unread.start.length; k++) {
    const s0 = unread.start[k]!;
    const e0 = unread.end[k]!;
    if (!besideText(text, s0 - 1) || !besideText(text, e0)) continue;
    if (alphabetAlone(text, unread, k)) continue;
    // Markup opens a window only inside a token (characters of a spelling on both sides, past any
    // markup beside it): ordinary pages put it between words and tags, and reading every page
    // through it cost a scrub pass over it all (3.5× slower HTML).
    if (isMarkup(text, s0)) {
      chains ??= chainsOf(unread);
      const a0 = chainStart(unread, k, chains);
      const b0 = chainEnd(unread, k, chains);
      if (!(tokenChar(text, a0 - 1) && tokenChar(text, b0))) continue;
      // Twenty-second pass: long tags (a `<span style="color:#ff0000">` around each character) only
      // between short pieces of a token: a page's long tags between words and numbers opened windows
      // over most of it (1.5–1.9× slower HTML). A key in pieces of 12 or more is matched by its runs.
      if (longTagIn(k, chains) && !shortPiecesBeside(text, a0, b0)) continue;
    }
    const a = Math.max(0, s0 - reach);
    const b = Math.min(text.length, e0 + reach);
    const last = windows[windows.length - 1];
    if (last && a <= last[1]) last[1] = b;
    else windows.push([a, b, k]);
  }
  return windows.map(([a, b, k]) => {
    // The first filler or fold inside the window (one before the chaining one may lie in it too).
    while (k > 0 && unread.start[k - 1]! >= a) k--;
    return { from: a, view: viewOf(text, a, b, unread, k) };
  });
}

/** Whether the end of `text` may be inside (or right after) a filler or fold: its last `near` characters hold one, or it ends in an unfinished one. */
export function endsNearUnread(text: string, near: number): boolean {
  const end = text.slice(Math.max(0, text.length - near - READING_WIDTH));
  if (!mayHoldUnread(end) && !mayEndOpen(end)) return false;
  return ANY.test(end) || ESCAPE_ANY.test(end) || TERMINAL_ANY.test(end) || STRING_ANY.test(end) || DUMP_HEAD_ANY.test(end) || MODIFIER_ANY.test(end) || ALPHABET_ANY.test(end) || INDICATOR_ANY.test(end) || DIGIT_EDGE_ANY.test(end) || CONFUSABLE_ANY.test(end) || unfinished(end.slice(-READING_WIDTH)) !== undefined || openBreak(end) > 0 || wrapBreaks(end).length > 0;
}
