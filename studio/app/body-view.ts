// Showing a request body to a person who must decide on it: every character visible (control and
// invisible format characters — bidi overrides, zero-width spaces — are shown as ⟨U+XXXX⟩, so text
// cannot hide or reorder itself), binary as a hex dump, and always how much of it is on screen.
import { html, nothing, type TemplateResult } from 'lit';

/**
 * Characters that render as nothing or move other text: shown as their code point instead. Every
 * control but tab, line feed and the carriage return of a CRLF (a lone CR is drawn as nothing, no
 * width and no line break, while PostgreSQL, Python's splitlines and CSV readers end a line
 * there: `acct_12\r34` read `acct_1234`, `-- note\rDROP …` one comment), every format character (bidi controls, zero-width ones, the tag
 * characters U+E0000–E007F that carry whole hidden sentences, "ASCII smuggling"), every default
 * ignorable code point (variation selectors, Hangul fillers, U+034F …), the line and paragraph
 * separators, the Braille blank (a glyph of nothing), and combining marks piled past MARKS_KEPT.
 */
const hidden = /(?![\t\n]|\r\n)[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\u2800]|\p{Mn}{5,}/gu;

/**
 * Combining marks kept on one character: no script needs more (Hebrew with points and cantillation,
 * Tibetan stacks). Past them a pile of marks ("Zalgo" text) is drawn above and below its line,
 * over the lines around it (the SQL line, the risk badge): those are shown as code points too.
 */
const MARKS_KEPT = 4;

const single = /(?![\t\n\r])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\u2800]/u;

/** One character of those (tab and line ends aside) that text must show as a marker: the editor marks them too. */
export const INVISIBLE_CHAR = single;

/** A match as drawn: text kept as it is (strings) and code points shown as markers (`{cp}`), in order. */
function split(match: string): Array<string | { cp: string }> {
  const chars = [...match];
  return chars.map((c, i) => (chars.length > 1 && i < MARKS_KEPT && !single.test(c) ? c : { cp: c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0') }));
}

/**
 * Scripts whose letters pass for Latin ones (Unicode's confusables: Cyrillic а е о р с у х ѕ і ј,
 * Greek ο ν ρ, Armenian օ ս, Cherokee Ꭺ Ꮃ …). One of them inside a word, host or address that also
 * holds Latin letters (`boss@cоrp.com`, `аpi.stripe.com` in a body, `dеlete_repo`) reads as the
 * Latin word while it names something else: such letters are highlighted where they stand.
 */
const LOOKALIKE_SCRIPTS = ['Cyrillic', 'Greek', 'Armenian', 'Cherokee', 'Coptic', 'Lisu'] as const;
const lookalike = /[\p{Script=Cyrillic}\p{Script=Greek}\p{Script=Armenian}\p{Script=Cherokee}\p{Script=Coptic}\p{Script=Lisu}]/u;
const latinLetter = /\p{Script=Latin}/u;
/** A word, host name, address or identifier: letters, marks, digits and . _ @ - between them. */
const wordLike = /[\p{L}\p{M}\p{N}._@-]+/gu;
const scriptOf: Array<readonly [(typeof LOOKALIKE_SCRIPTS)[number], RegExp]> = [
  ['Cyrillic', /\p{Script=Cyrillic}/u], ['Greek', /\p{Script=Greek}/u], ['Armenian', /\p{Script=Armenian}/u],
  ['Cherokee', /\p{Script=Cherokee}/u], ['Coptic', /\p{Script=Coptic}/u], ['Lisu', /\p{Script=Lisu}/u],
];

/**
 * Letters that pass for ASCII ones without leaving the Latin script (or in no script at all), so the
 * mixed-script rule above never sees them: small capitals (`ᴄorp.com`), the dotless ı and ȷ, the
 * script ɑ and ɡ, the click ǀ that reads as an l; what NFKC folds to ASCII (fullwidth ｃ,
 * mathematical 𝖼 and 𝟣 — Python's `int()` reads `𝟣𝟤𝟥` as 123 —, the Kelvin sign, Roman numeral ⅼ,
 * long ſ, the ligature ﬁ); an ASCII letter under a dot or line below (`cọrp.com`), a mark easy
 * to take for a speck; and a decimal digit of another script beside ASCII ones or in an amount
 * (`5٠٠٠٠`). Marked wherever they stand, with the ASCII they pass for.
 */
const ASCII_LOOKALIKES: Record<string, string> = {
  '\u0131': 'i', '\u0237': 'j', '\u01C0': 'l', '\u0251': 'a', '\u0261': 'g', '\u0269': 'i', '\u0262': 'G', '\u026A': 'I', '\u0274': 'N', '\u0280': 'R',
  '\u028F': 'Y', '\u0299': 'B', '\u029C': 'H', '\u029F': 'L', '\u1D00': 'A', '\u1D04': 'C', '\u1D05': 'D', '\u1D07': 'E', '\u1D0A': 'J', '\u1D0B': 'K',
  '\u1D0D': 'M', '\u1D0F': 'O', '\u1D18': 'P', '\u1D1B': 'T', '\u1D1C': 'U', '\u1D20': 'V', '\u1D21': 'W', '\u1D22': 'Z', '\uA730': 'F', '\uA731': 'S',
};
/** Where such characters live (one scan finds whether a text holds any). */
const asciiAlikeCandidate = /[\u0131\u0237\u01C0\u017F\u0251\u0261\u0262\u0269\u026A\u0274\u0280\u028F\u0299\u029C\u029F\u0323\u0324\u0331\u1D00-\u1D22\u1E00-\u1EFF\u2100-\u218F\uA730\uA731\uFB00-\uFB06\uFF10-\uFF5A]|[\u{1D400}-\u{1D7FF}]|(?![0-9])\p{Nd}/u;
const otherDigit = /^(?![0-9])\p{Nd}$/u;
/** A word in which a digit of another script counts: beside ASCII letters or digits, or with no letter at all (an amount). */
const digitsCount = (w: string): boolean => /[A-Za-z0-9]/.test(w) || !/\p{L}/u.test(w);

/**
 * The value of a decimal digit of another script: Python's `int()` (Django's and DRF's integer
 * fields) reads `5٠٠٠٠` — Arabic-Indic zeros, drawn as dots — as 50000. Digits come in runs of ten.
 */
function digitValue(c: string): number {
  let cp = c.codePointAt(0)!;
  let n = 0;
  while (n < 60 && otherDigit.test(String.fromCodePoint(cp - 1))) {
    cp--;
    n++;
  }
  return n % 10;
}
const belowMark = /^[\u0323\u0324\u0331]$/;
const asciiWord = /^[A-Za-z0-9]+$/;
const asciiLetter = /^[A-Za-z]$/;

/** The ASCII `c` passes for (after `prev`), or undefined. */
function passesFor(c: string, prev: string, digits: boolean): string | undefined {
  if (c.length === 1 && c.charCodeAt(0) < 0x80) return undefined;
  if (!asciiAlikeCandidate.test(c)) return undefined;
  if (otherDigit.test(c) && c.normalize('NFKC') === c) return digits ? String(digitValue(c)) : undefined;
  const table = ASCII_LOOKALIKES[c];
  if (table) return table;
  if (belowMark.test(c)) return asciiLetter.test(prev) ? prev : undefined; // a mark sent apart from its letter
  const folded = c.normalize('NFKC');
  if (folded !== c && asciiWord.test(folded)) return folded;
  const parts = c.normalize('NFD');
  return parts.length === 2 && asciiLetter.test(parts[0]!) && belowMark.test(parts[1]!) ? parts[0] : undefined;
}

/** Look-alike letters in `text`, in order: [index, letter, what the marker's title says]. */
function confusables(text: string): Array<[number, string, string]> {
  const found: Array<[number, string, string]> = [];
  const mixed = lookalike.test(text);
  const ascii = asciiAlikeCandidate.test(text);
  if (!mixed && !ascii) return found; // one scan each: almost all text holds none
  for (const m of text.matchAll(wordLike)) {
    const w = m[0];
    const mixedWord = mixed && latinLetter.test(w) && lookalike.test(w);
    if (!mixedWord && !(ascii && asciiAlikeCandidate.test(w))) continue;
    let at = m.index ?? 0;
    let prev = '';
    const digits = digitsCount(w);
    for (const c of w) {
      const cp = c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      const script = mixedWord && lookalike.test(c) ? scriptOf.find(([, re]) => re.test(c))?.[0] : undefined;
      const like = script ? undefined : passesFor(c, prev, digits);
      if (script) found.push([at, c, `${script} letter U+${cp} among Latin letters: it looks like a Latin one but is another character`]);
      else if (like !== undefined) found.push([at, c, `U+${cp} passes for "${like}" but is another character`]);
      at += c.length;
      prev = c;
    }
  }
  return found;
}

/** Plain text (no hidden characters in it) with look-alike letters among Latin ones highlighted. */
function pushMarked(out: Array<string | TemplateResult>, text: string): void {
  let last = 0;
  for (const [i, c, title] of confusables(text)) {
    if (i > last) out.push(text.slice(last, i));
    out.push(html`<span class="ctl confusable" title="${title}">${c}</span>`);
    last = i + c.length;
  }
  if (last < text.length) out.push(last ? text.slice(last) : text);
}

/** Text with every hidden character replaced by a visible marker, and look-alike letters highlighted. */
export function visibleText(text: string): Array<string | TemplateResult> {
  const out: Array<string | TemplateResult> = [];
  let last = 0;
  for (const m of text.matchAll(hidden)) {
    const i = m.index ?? 0;
    if (i > last) pushMarked(out, text.slice(last, i));
    for (const part of split(m[0])) {
      out.push(typeof part === 'string' ? part : html`<span class="ctl" title="invisible character U+${part.cp}">⟨U+${part.cp}⟩</span>`);
    }
    last = i + m[0].length;
  }
  if (last < text.length) pushMarked(out, text.slice(last));
  return out;
}

/**
 * The same for text that is not a body (a summary line, a reason quoting the request, a tool or
 * table name, a toast): as a template to draw, or as a plain string with ⟨U+XXXX⟩ markers.
 */
export function visibleLine(text: unknown): Array<string | TemplateResult> {
  return visibleText(text === undefined || text === null ? '' : String(text));
}

export function visibleString(text: unknown): string {
  return (text === undefined || text === null ? '' : String(text)).replace(hidden, (m) => split(m).map((p) => (typeof p === 'string' ? p : `⟨U+${p.cp}⟩`)).join(''));
}

export function countHidden(text: string): number {
  let n = 0;
  for (const m of text.matchAll(hidden)) n += split(m[0]).filter((p) => typeof p !== 'string').length;
  return n;
}

/** Classic hex dump: offset, 16 bytes in hex, the printable ASCII. */
export function hexDump(bytes: Uint8Array, limit = bytes.length): string {
  const lines: string[] = [];
  const end = Math.min(limit, bytes.length);
  for (let off = 0; off < end; off += 16) {
    const row = bytes.subarray(off, Math.min(off + 16, end));
    let hex = '';
    let ascii = '';
    for (let i = 0; i < 16; i++) {
      hex += i < row.length ? row[i]!.toString(16).padStart(2, '0') : '  ';
      hex += i === 7 ? '  ' : ' ';
      if (i < row.length) ascii += row[i]! >= 0x20 && row[i]! < 0x7f ? String.fromCharCode(row[i]!) : '.';
    }
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hex} |${ascii}|`);
  }
  return lines.join('\n');
}

export function bytesText(n: number): string {
  if (n < 1024) return `${n} byte${n === 1 ? '' : 's'}`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(1)} GiB`;
}

export function base64Bytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export interface BlockOptions {
  cls?: string;
  /** Shown at full height instead of in a scrolling box. */
  expanded?: boolean;
  /** Which box this is (data-box), when a view tracks each box's reading. */
  box?: string;
  onScroll?: (e: Event) => void;
}

/** A pre block of text with hidden characters made visible, and a note when there were any. */
export function textBlock(text: string, o: BlockOptions = {}): TemplateResult {
  const n = countHidden(text);
  const alike = confusables(text).length;
  return html`${n
      ? html`<p class="warn-text small" role="note">This body holds ${n} invisible or control character${n === 1 ? '' : 's'}, shown as ⟨U+…⟩.</p>`
      : nothing}${alike
      ? html`<p class="warn-text small" role="note" data-testid="confusable-note">This body holds ${alike} look-alike letter${alike === 1 ? '' : 's'} (of another script inside Latin words, a Cyrillic о for an o, or passing for ASCII, a small capital ᴄ for a c), highlighted.</p>`
      : nothing}<pre class="mono small body-text ${o.cls ?? ''} ${o.expanded ? 'expanded' : ''}" tabindex="0" data-box=${o.box ?? 'body'} @scroll=${o.onScroll}>${visibleText(text)}</pre>`;
}

export function lineCount(text: string): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < text.length - 1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
