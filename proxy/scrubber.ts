// The matcher behind every scrub: finds each secret in every spelling of proxy/spellings.ts and
// replaces it (or refuses the content), in whole strings or chunk by chunk. Pure; one instance is
// reused for every response that needs the same secrets.
//
// Text with NUL bytes (UTF-16, UTF-32, binary) is also scanned as strided views — every 2nd byte
// and every 4th byte, at each offset — so "s\0k\0…" (UTF-16LE), "\0s\0k…" (BE) and the UTF-32
// forms all read as "sk…"; a match there is replaced by the replacement in the same encoding.
import { encodedRunTail, encodedWordRuns } from './encoded-words.ts';
import { AGAIN_CUE, FULL_SPELLING_MAX, NOTATION_CUE, PrefixAutomaton, SPOKEN_CUE, againSpellingsOf, eitherCase, literalPattern, mayHoldAgain, mayHoldNotation, mayHoldSpoken, maxLength, spokenMarks, notationSpellingsOf, regexSource, runForm, spellingsOf, spokenSpellingsOf, truncatedForm, type Node } from './spellings.ts';
import { base64Cores } from '../describe/placeholders.ts';
import { SampledForms } from './sampled-forms.ts';
import { READING_WIDTH, endsNearUnread, mayEndOpen, mayHoldUnread, rawSpan, readingView, readingWindows, type ReadingView } from './reading-view.ts';

export interface ScrubSecret {
  value: string;
  placeholder: string;
}

/** One thing to look for, replaced by `replace` or refused with `forbid`. */
export interface MatchRule {
  /** A value looked for in every spelling (proxy/spellings.ts). */
  value?: string;
  /** Exact strings (latin1: one character per byte) looked for as written. */
  forms?: string[];
  /** The replacement text, written as UTF-8 (or UTF-16/32 where the match was in such text). */
  replace?: string;
  /** When set, a match is an error with this message, and the content is never passed on. */
  forbid?: string;
  /** Reported by find(). */
  label?: string;
}

/**
 * Printable ASCII (0x20–0x7e) in the EBCDIC code pages Python decodes (IBM 037 = 1140 = 424, 500,
 * 273, 1026, 875), as hex. An answer in EBCDIC without a charset label (a mainframe service, or
 * one transcoding on request) is decoded by requests by itself (`r.text`: charset_normalizer
 * guesses cp037), and no spelling of a secret matches those bytes. Letters and digits are the
 * same bytes in every page; punctuation differs.
 */
const EBCDIC_PAGES = [
  '405a7f7b5b6c507d4d5d5c4e6b604b61f0f1f2f3f4f5f6f7f8f97a5e4c7e6e6f7cc1c2c3c4c5c6c7c8c9d1d2d3d4d5d6d7d8d9e2e3e4e5e6e7e8e9bae0bbb06d79818283848586878889919293949596979899a2a3a4a5a6a7a8a9c04fd0a1',
  '404f7f7b5b6c507d4d5d5c4e6b604b61f0f1f2f3f4f5f6f7f8f97a5e4c7e6e6f7cc1c2c3c4c5c6c7c8c9d1d2d3d4d5d6d7d8d9e2e3e4e5e6e7e8e94ae05a5f6d79818283848586878889919293949596979899a2a3a4a5a6a7a8a9c0bbd0a1',
  '404f7f7b5b6c507d4d5d5c4e6b604b61f0f1f2f3f4f5f6f7f8f97a5e4c7e6e6fb5c1c2c3c4c5c6c7c8c9d1d2d3d4d5d6d7d8d9e2e3e4e5e6e7e8e963ecfc5f6d79818283848586878889919293949596979899a2a3a4a5a6a7a8a943bbdc59',
  '404ffcecad6c507d4d5d5c4e6b604b61f0f1f2f3f4f5f6f7f8f97a5e4c7e6e6faec1c2c3c4c5c6c7c8c9d1d2d3d4d5d6d7d8d9e2e3e4e5e6e7e8e968dcac5f6d8d818283848586878889919293949596979899a2a3a4a5a6a7a8a948bb8ccc',
  '404f7f7b5b6c507d4d5d5c4e6b604b61f0f1f2f3f4f5f6f7f8f97a5e4c7e6e6f7cc1c2c3c4c5c6c7c8c9d1d2d3d4d5d6d7d8d9e2e3e4e5e6e7e8e94ae05a5f6d79818283848586878889919293949596979899a2a3a4a5a6a7a8a9c06ad0a1',
].map((h) => Buffer.from(h, 'hex'));

/** Text in one EBCDIC page (latin1, a char per byte), or undefined when it is not printable ASCII. */
function toEbcdic(text: string, page: Buffer): string | undefined {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return undefined;
    out += String.fromCharCode(page[c - 0x20]!);
  }
  return out;
}

/**
 * Escapes of a code point with five or more leading zeros: HTML and XML read any number
 * (`&#0000000115;` is "s" to a browser and to Python's html.unescape), so do JavaScript and PHP
 * (`\u{0000073}`). The spelling patterns allow four (bounded repetitions keep the regexes small
 * and provably linear); no ordinary text writes more. A scrubber of what comes back refuses them,
 * as the request guard refuses them in what goes out. One small regex (V8 skips through the text
 * with it far faster than four indexOf calls: ~0.5 ms against ~10 ms for 4 MiB of JSON).
 */
const OVERLONG_FORMS = ['&#00000', '&#x00000', '&#X00000', '\\u{00000'];
const OVERLONG = /&#[xX]?00000|\\u\{00000/;
/** The unfinished starts of those forms a chunk may end with, held back until the next. */
const OVERLONG_STARTS = [...new Set(OVERLONG_FORMS.flatMap((f) => Array.from({ length: f.length - 1 }, (_, k) => f.slice(0, k + 1))))];
const OVERLONG_WHY = 'cannot scrub this response: it writes a character as an escape with five or more leading zeros (&#00000…, \\u{00000…}), a spelling of a secret the scrubber does not match';

/** Where `text` ends with the unfinished start of an overlong escape (text.length when it does not). */
function overlongTail(text: string): number {
  const last = text.charCodeAt(text.length - 1);
  // Every start ends with "&", "#", "x", "X", "\\", "u", "{" or "0".
  if (last !== 0x26 && last !== 0x23 && last !== 0x78 && last !== 0x58 && last !== 0x5c && last !== 0x75 && last !== 0x7b && last !== 0x30) return text.length;
  for (let k = 8; k > 0; k--) if (k <= text.length && OVERLONG_STARTS.includes(text.slice(-k))) return text.length - k;
  return text.length;
}

/**
 * The value's canonical spellings (either case, base64 and base64url at each alignment, hex, percent,
 * JSON) written in each EBCDIC page, in a fixed order (an entry for a form a page cannot write is
 * ''): an unlabelled EBCDIC answer showing the record encoded or escaped (the raw value is the
 * literal matcher's, ebcdicPart). Found by sampling (proxy/sampled-forms.ts).
 */
function ebcdicSpellings(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const hex = bytes.toString('hex');
  const json = JSON.stringify(value).slice(1, -1);
  const forms = [value.toLowerCase(), value.toUpperCase(), ...base64Cores(bytes), ...base64Cores(bytes, true), hex, hex.toUpperCase(), encodeURIComponent(value), json, json.replace(/\//g, '\\/')];
  // The value as it is stays the literal matcher's (it writes the placeholder back in the same page).
  return EBCDIC_PAGES.flatMap((page) => forms.map((f) => (f === value ? '' : toEbcdic(f, page) ?? '')));
}

/**
 * The EBCDIC forms of the secrets a scrubber replaces (values of 8 bytes and more), each with its
 * rule and the placeholder written in the same page. One literal matcher for all of them (a regex
 * of literals scans fast; folded into each value's spelling matcher it slowed JSON text ~40%).
 */
interface EbcdicPart {
  matcher: Matcher;
  byForm: Map<string, { rule: number; replace: string }>;
  /** The forms' first bytes. */
  firsts: string[];
}

function ebcdicPart(secrets: Array<{ value: string; replace: string; rule: number }>): EbcdicPart | undefined {
  const byForm = new Map<string, { rule: number; replace: string }>();
  for (const { value, replace, rule } of secrets) {
    if (value.length < 8) continue;
    for (const page of EBCDIC_PAGES) {
      const form = toEbcdic(value, page);
      const written = toEbcdic(replace, page);
      if (form !== undefined && written !== undefined && !byForm.has(form)) byForm.set(form, { rule, replace: written });
    }
  }
  if (!byForm.size) return undefined;
  return { matcher: new Matcher([...byForm.keys()].map(literalPattern)), byForm, firsts: [...new Set([...byForm.keys()].map((f) => f[0]!))] };
}

/** Thrown (or passed to the stream's error) when a forbidden form is found. */
export class ForbiddenContentError extends Error {}

/** Keeps each compiled regex under V8's size limit for optimized matching (~20 KB of source). */
const REGEX_SOURCE_BUDGET = 16_000;

type Encoding = 'utf8' | 'utf16le' | 'utf16be' | 'utf32le' | 'utf32be';

interface Rule {
  replace: string;
  forbid?: string;
  label?: string;
  /** Replacement per document encoding, latin1 (one char per byte). */
  encoded: Map<Encoding, string>;
  /** Characters of a held start past which the tripwire may count it (startsAtEnd): its key's public prefix and 2. */
  probeMin: number;
}

/** Prefixes every key of a kind shares beyond what the general rule below finds (GitHub's `11` after `github_pat_`). */
const KNOWN_PUBLIC_PREFIXES = ['github_pat_11'];

/**
 * How many leading characters of a key are the same for every key of its kind, so an agent knows
 * them without knowing the key: `sk-ant-api03-`, `sk_live_`, `xoxb-`, `github_pat_11`. The part up
 * to the last `_` or `-` among the first 16 characters when only lower-case letters, digits and
 * separators come before it (a random key rarely starts so; if one does, the tripwire only counts
 * from further on, which teaches an agent nothing it did not know). 0 for none.
 */
/** How much of a value's start shown is matched as the value cut short: its public prefix and half the rest. */
function truncatedLeast(value: string): number {
  const prefix = publicPrefixLength(value);
  return prefix + Math.ceil((Buffer.byteLength(value) - prefix) / 2);
}

/**
 * How many bytes in a row of a value past its public prefix are matched anywhere (runForm): half
 * the rest, at least 12 (fewer of a short value's rest would be common text) and at most 24 (of a
 * long token, 24 bytes shown are no less a leak; each start is a window of its own).
 */
function runLeast(value: string, prefix: number): number {
  return Math.max(12, Math.min(24, Math.ceil((Buffer.byteLength(value) - prefix) / 2)));
}

export function publicPrefixLength(value: string): number {
  const known = KNOWN_PUBLIC_PREFIXES.find((p) => value.startsWith(p));
  if (known) return known.length;
  const head = /^[a-z0-9]+(?:[_-][a-z0-9]+)*[_-]/.exec(value.slice(0, 16));
  return head ? head[0].length : 0;
}

interface Span {
  start: number;
  end: number;
  rule: number;
  enc: Encoding;
  /** An EBCDIC form matched: its replacement in the same page. */
  ebcdic?: string;
}

function encodeAs(text: string, enc: Encoding): string {
  if (enc === 'utf8') return Buffer.from(text, 'utf8').toString('latin1');
  const units = Buffer.from(text, 'utf16le');
  if (enc === 'utf16le') return units.toString('latin1');
  if (enc === 'utf16be') return Buffer.from(units).swap16().toString('latin1');
  const cps = [...text].map((c) => c.codePointAt(0)!);
  const out = Buffer.alloc(cps.length * 4);
  cps.forEach((cp, i) => (enc === 'utf32le' ? out.writeUInt32LE(cp, i * 4) : out.writeUInt32BE(cp, i * 4)));
  return out.toString('latin1');
}

/** Every `stride`-th byte of a text from `off`: UTF-16 (2) or UTF-32 (4) text read as 8-bit text. */
interface View {
  text: string;
  stride: number;
  off: number;
}

/**
 * Three ASCII characters in a row as UTF-16 or UTF-32 writes them (a spelling there has many more).
 * Starts with the printable character so the scan skips runs of NULs quickly.
 */
const WIDE_TEXT = /[\t\n\r\x20-\x7e]\0{1,3}[\t\n\r\x20-\x7e]\0{1,3}[\t\n\r\x20-\x7e]/;

/** The text itself, plus its strided views when `wide` (NULs that may be UTF-16/32 text). */
function viewsOf(text: string, wide: boolean): View[] {
  const views: View[] = [{ text, stride: 1, off: 0 }];
  if (!wide) return views;
  const bytes = Buffer.from(text, 'latin1');
  for (const stride of [2, 4]) {
    for (let off = 0; off < stride; off++) {
      const n = Math.ceil((bytes.length - off) / stride);
      const out = Buffer.allocUnsafe(Math.max(0, n));
      for (let k = 0, i = off; k < n; k++, i += stride) out[k] = bytes[i]!;
      views.push({ text: out.toString('latin1'), stride, off });
    }
  }
  return views;
}

const isNul = (text: string, i: number): boolean => i >= 0 && i < text.length && text.charCodeAt(i) === 0;

/** A match found in a strided view, stretched over the NULs of its UTF-16/32 encoding. */
function widen(text: string, start: number, end: number): { start: number; end: number; enc: Encoding } {
  if (!text.slice(start, end).includes('\0') && !isNul(text, start + 1) && !isNul(text, start - 1)) return { start, end, enc: 'utf8' };
  if (isNul(text, start + 1) && isNul(text, start + 2) && isNul(text, start + 3)) return { start, end: end + 3, enc: 'utf32le' };
  if (isNul(text, start + 1)) return { start, end: end + 1, enc: 'utf16le' };
  if (isNul(text, start - 1) && isNul(text, start - 2) && isNul(text, start - 3)) return { start: start - 3, end, enc: 'utf32be' };
  if (isNul(text, start - 1)) return { start: start - 1, end, enc: 'utf16be' };
  return { start, end, enc: 'utf8' };
}

/**
 * Everything compiled for one value's spellings (or one set of exact strings): the regexes that
 * find them and the automaton that tells where one may be under way at the end of a chunk.
 * Compiling costs tens of milliseconds (V8 compiles a large regex twice: bytecode, then native),
 * so each is compiled once per process and shared by every scrubber that looks for that value.
 */
type MayHold = (text: string, from: number) => boolean | number;

class Matcher {
  private builtRegexes: RegExp[] | undefined;
  private readonly sources: string[] = [];
  private caselessRegexes: RegExp[] | undefined;

  /**
   * Twenty-sixth pass: the regexes matching letters in either case, compiled on first use: a
   * key cut short or a run of it (truncatedForm, runForm) as a reader reads it (proxy/reading-view.ts)
   * — small capitals and regional indicators read as one case — matched no window of the key's
   * mixed case. Only the reading view's windows (text around such characters) pay for them.
   */
  caseless(): RegExp[] {
    return (this.caselessRegexes ??= this.regexes.length ? this.sources.map((src) => new RegExp(src, 'gi')) : []);
  }
  private builtPrefixes: PrefixAutomaton | undefined;
  readonly maxLength: number;
  /** When set, the regexes scan only a text this finds something in. */
  readonly gate: RegExp | undefined;
  /**
   * When set, the automaton reads a tail only where this says a start may be (else every tail): from
   * `from` when true, from the place it gives when a number (text.length: nowhere).
   */
  readonly mayHold: MayHold | undefined;
  /** The patterns, until the regexes and the automaton are built (`lazy`: at first use). */
  private patterns: Node[] | undefined;

  /**
   * `lazy` (twenty-eighth pass: the spelt-out spellings): the regexes and the automaton are built when
   * first asked for — behind a gate, by the first text that holds its cue or a tail that may start
   * one — so a scrubber whose answers never hold one (most) does not compile them (~10–20 ms a key).
   */
  constructor(patterns: Node[], gate?: RegExp, mayHold?: MayHold, private readonly caselessStarts = false, lazy = false) {
    this.gate = gate;
    this.mayHold = mayHold;
    this.maxLength = Math.max(...patterns.map(maxLength));
    this.patterns = patterns;
    if (!lazy) this.build();
  }

  get regexes(): RegExp[] {
    if (!this.builtRegexes) this.build();
    return this.builtRegexes!;
  }

  get prefixes(): PrefixAutomaton {
    if (!this.builtPrefixes) this.build();
    return this.builtPrefixes!;
  }

  private build(): void {
    const patterns = this.patterns!;
    this.patterns = undefined;
    // A key cut short or a run of it (caselessStarts) is held at a tail in either case, as caseless() matches it in a reading view.
    this.builtPrefixes = new PrefixAutomaton(this.caselessStarts ? patterns.map(eitherCase) : patterns);
    // As few regexes as stay under V8's size limit for optimized matching.
    const regexes: RegExp[] = [];
    let batch: string[] = [];
    let size = 0;
    const flush = (): void => {
      if (!batch.length) return;
      this.sources.push(batch.join('|'));
      const re = new RegExp(batch.join('|'), 'g');
      // Two runs on a short string: V8 then compiles the regex to native code before the first real scan.
      re.exec('warm up');
      re.lastIndex = 0;
      re.exec('warm up');
      re.lastIndex = 0;
      regexes.push(re);
      batch = [];
      size = 0;
    };
    for (const src of new Set(patterns.map(regexSource))) {
      if (size && size + src.length > REGEX_SOURCE_BUDGET) flush();
      batch.push(`(?:${src})`);
      size += src.length + 5;
    }
    flush();
    this.builtRegexes = regexes;
  }
}

/**
 * Whether a matcher's regexes are to scan `text`: it has no gate, or its gate finds something there.
 * Gates are the same for every secret (the cues of proxy/spellings.ts), so each runs once per text
 * (run per secret, three secrets scrubbed a fifth slower).
 */
function cuesOf(text: string): (matcher: Matcher) => boolean {
  const found = new Map<RegExp, boolean>();
  return (matcher) => {
    const gate = matcher.gate;
    if (!gate) return true;
    let hit = found.get(gate);
    if (hit === undefined) found.set(gate, (hit = gate.test(text)));
    return hit;
  };
}

/** Where a spelling of the matcher's may be under way at the end of `text` (text.length: nowhere). */
function earliestIn(matcher: Matcher, text: string): number {
  const from = Math.max(0, text.length - matcher.maxLength + 1);
  const may = matcher.mayHold ? matcher.mayHold(text, from) : true;
  if (may === false || may === text.length) return text.length;
  return matcher.prefixes.earliestPrefix(text, may === true ? from : Math.max(from, may));
}

const MAX_MATCHERS = 512;
const matchers = new Map<string, Matcher>();

/**
 * The shared matcher of a value's every spelling (`value`) or of exact strings (`forms`); `cut`: of
 * the value cut short only (truncatedForm, runForm); `notation`: of its notation spellings only
 * (notationSpellingsOf: scanned where their cue is); `again`: of its escapes escaped again only (againSpellingsOf);
 * `spoken`: of it spelt out only (spokenSpellingsOf: names, Morse, the NATO alphabet; scanned where their cue is).
 */
function matcherFor(value: string | undefined, forms: string[] | undefined, cut: boolean | 'notation' | 'again' | 'spoken' = false): Matcher | undefined {
  const exact = (forms ?? []).filter(Boolean);
  if (!value && !exact.length) return undefined;
  const key = JSON.stringify([value ?? null, exact, cut]);
  let m = matchers.get(key);
  if (m) {
    // Most recently used last: the first entry is the one to evict.
    matchers.delete(key);
  } else {
    if (cut === 'notation' || cut === 'again' || cut === 'spoken') {
      if (!value || Buffer.byteLength(value) < MIN_NOTATION) return undefined;
      if (cut === 'spoken') {
        const spelt = spokenSpellingsOf(value);
        if (!spelt.length) return undefined;
        const marks = spokenMarks(value);
        m = new Matcher(spelt, SPOKEN_CUE, (text, from) => mayHoldSpoken(text, from, marks), false, true);
      } else {
        m = cut === 'again' ? new Matcher(againSpellingsOf(value), AGAIN_CUE, mayHoldAgain) : new Matcher(notationSpellingsOf(value), NOTATION_CUE, mayHoldNotation);
      }
    } else if (cut) {
      const short = value ? truncatedForm(value, truncatedLeast(value)) : undefined;
      if (!short) return undefined;
      const prefix = publicPrefixLength(value!);
      const run = runForm(value!, prefix, runLeast(value!, prefix));
      m = new Matcher(run ? [short, run] : [short], undefined, undefined, true);
    } else {
      m = new Matcher([...(value ? spellingsOf(value) : []), ...exact.map(literalPattern)]);
    }
    if (matchers.size >= MAX_MATCHERS) matchers.delete(matchers.keys().next().value!);
  }
  matchers.set(key, m);
  return m;
}

/** Compiles a value's matcher ahead of use (so the first response that needs it does not wait). */
export function precompile(value: string): void {
  if (!value) return;
  matcherFor(value, undefined);
  // What comes back is scrubbed of it cut short too (a secret's value).
  matcherFor(value, undefined, true);
  matcherFor(value, undefined, 'notation');
  matcherFor(value, undefined, 'again');
}
/** Values shorter than this are not looked for in notations (two characters of a call or a code are common text). */
const MIN_NOTATION = 4;

/** A set of rules over shared matchers: scrubs (or refuses) every spelling of each. */
export class Scrubber {
  private readonly rules: Rule[] = [];
  private readonly parts: Array<{ matcher: Matcher; rule: number; cut?: true }> = [];
  /** The secrets' EBCDIC forms (an unlabelled EBCDIC answer, which requests decodes by itself). */
  private readonly ebcdic: EbcdicPart | undefined;
  /** The secrets' base85, other base32, reversed and rotated forms, found by sampling (proxy/sampled-forms.ts). */
  private readonly sampled: SampledForms | undefined;
  readonly maxLength: number;
  /** Whether every value looked for is ASCII (then ASCII-compatible charsets spell it the same). */
  readonly asciiOnly: boolean;
  /** The rule refusing overlong escapes (OVERLONG_FORMS): set when scrubbing what comes back (own secrets). */
  private readonly overlong: number | undefined;
  /** This process's own secrets as latin1 (UTF-8 bytes), lower-cased, each also reversed: what a labelled piece may be part of (proxy/labelled-pieces.ts). */
  readonly ownFolded: string[];
  /** The same in their own case, entry for entry (what a join of cells in another case stands for). */
  readonly ownCased: string[];
  /**
   * The placeholders of this process's own secrets matched whole in every spelling (at most
   * FULL_SPELLING_MAX bytes; latin1): labelled pieces held around one refuse the body. A longer
   * secret's placeholder is not among them (twenty-fifth pass): only its ends are matched in every
   * spelling, so its placeholder beside held pieces is a list of its characters whose ends the
   * scrubber replaced (the middle left is no usable credential, proxy/spellings.ts), not rows a run
   * form cut (no run form is made of a long secret).
   */
  readonly ownPlaceholders: string[];

  /** Scrubs every spelling of each secret's value, replacing it with the secret's placeholder. */
  constructor(secrets: ScrubSecret[], extra: MatchRule[] = []) {
    const own = secrets.filter((s) => s.value).map((s): MatchRule => ({ value: s.value, replace: s.placeholder }));
    this.ownCased = own.flatMap((r) => {
      const cased = Buffer.from(r.value!, 'utf8').toString('latin1');
      return [cased, [...cased].reverse().join('')];
    });
    this.ownFolded = this.ownCased.map((c) => c.toLowerCase());
    this.ownPlaceholders = own.filter((r) => Buffer.byteLength(r.value!) <= FULL_SPELLING_MAX).map((r) => Buffer.from(r.replace!, 'utf8').toString('latin1'));
    const all: MatchRule[] = [...own, ...extra];
    // Longest values first: where one secret contains another, the whole of it is replaced.
    const size = (r: MatchRule): number => Math.max(r.value ? Buffer.byteLength(r.value) : 0, ...(r.forms ?? []).map((f) => f.length));
    all.sort((a, b) => size(b) - size(a));
    this.asciiOnly = all.every((r) => !/[^\x00-\x7f]/.test(r.value ?? '') && !(r.forms ?? []).some((f) => /[^\x00-\x7f]/.test(f)));
    const ebcdic: Array<{ value: string; replace: string; rule: number }> = [];
    for (const r of all) {
      const matcher = matcherFor(r.value, r.forms);
      if (!matcher) continue;
      if (own.includes(r)) ebcdic.push({ value: r.value!, replace: r.replace!, rule: this.rules.length });
      this.parts.push({ matcher, rule: this.rules.length });
      // Spellings scanned for where their cue is (notationSpellingsOf, againSpellingsOf).
      for (const kind of ['notation', 'again'] as const) {
        const gated = matcherFor(r.value, undefined, kind);
        if (gated) this.parts.push({ matcher: gated, rule: this.rules.length });
      }
      // Twenty-eighth pass: a secret of this process's own (what comes back) spelt out — by its
      // characters' Unicode names, in Morse code, in the NATO alphabet (spokenSpellingsOf). Not for
      // the audit log's redaction (extra rules): every audit line would pay for its cue.
      const spoken = own.includes(r) ? matcherFor(r.value, undefined, 'spoken') : undefined;
      if (spoken) this.parts.push({ matcher: spoken, rule: this.rules.length });
      // A secret of this process's own (what comes back): also cut short (truncatedForm) or its end
      // without its start (runForm), a part of its own that a held start's tripwire does not take
      // for the key completed, nor count (startsAtEnd: a page showing a key's middle is no probe).
      const short = own.includes(r) ? matcherFor(r.value, undefined, true) : undefined;
      if (short) this.parts.push({ matcher: short, rule: this.rules.length, cut: true });
      // Every spelling is at least as long as what it spells: a start that long in any spelling covers no more of the key.
      const probeMin = r.value ? publicPrefixLength(r.value) + 2 : 0;
      this.rules.push({ replace: r.replace ?? '', ...(r.forbid !== undefined ? { forbid: r.forbid } : {}), ...(r.label ? { label: r.label } : {}), encoded: new Map(), probeMin });
    }
    this.ebcdic = ebcdicPart(ebcdic);
    this.sampled = SampledForms.of(ebcdic, publicPrefixLength, ebcdicSpellings);
    if (own.length) {
      this.overlong = this.rules.length;
      this.rules.push({ replace: '', forbid: OVERLONG_WHY, encoded: new Map(), probeMin: 0 });
    }
    this.maxLength = Math.max(0, ...this.parts.map((p) => p.matcher.maxLength), this.ebcdic?.matcher.maxLength ?? 0, this.sampled?.maxLength ?? 0);
  }

  get empty(): boolean {
    return this.parts.length === 0;
  }

  private replacement(rule: number, enc: Encoding): string {
    const r = this.rules[rule]!;
    if (r.forbid !== undefined) throw new ForbiddenContentError(r.forbid);
    let out = r.encoded.get(enc);
    if (out === undefined) r.encoded.set(enc, (out = encodeAs(r.replace, enc)));
    return out;
  }

  /**
   * Scrubs a complete latin1 string (a header value, or a final chunk). `reading`: also as a reader
   * reads it (proxy/reading-view.ts); a body typed as binary leaves that out where its bytes are no text.
   */
  scrubString(text: string, reading = true): string {
    if (this.empty || !text) return text;
    return this.scan(text, true, reading).out;
  }

  /**
   * Scrubs as much of `text` as is final: returns the output and the tail to prepend to the next
   * chunk. A match starting before the held tail always fits in `text` (see heldFrom), so it is
   * the same match a scan of the whole stream would make.
   */
  scrubPartial(text: string, reading = true): { out: string; rest: string } {
    if (this.empty) return { out: text, rest: '' };
    return this.scan(text, false, reading);
  }

  /** Whether some match occurs in `text` starting before `at` and ending after it (split at `at`). */
  splitAt(text: string, at: number): boolean {
    return this.spans(text, at, true).some((s) => s.start < at && s.end > at);
  }

  /**
   * The rules of which `text` ends with a start of some spelling at least `min` characters long
   * (a hold's tripwire, proxy/secret-probe.ts): their label and replacement. Run only on text
   * already held, so it costs nothing where nothing is held. A rule that `text` ends with a whole
   * spelling of is left out: that is the secret handed back whole (scrubbed), held only because a
   * longer spelling could still follow, not a start that may prove none.
   */
  startsAtEnd(text: string, min: number): Array<{ label?: string; replace: string }> {
    const out: Array<{ label?: string; replace: string }> = [];
    if (text.length < min) return out;
    let whole: Set<number> | undefined;
    for (const rule of this.startedRules(text, min, true)) {
      // The value cut short is no completion here: a longer start of it is still a start (the next piece may prove none).
      whole ??= new Set(this.spans(text, text.length, true, true, false).filter((s) => s.end >= text.length).map((s) => s.rule));
      if (whole.has(rule)) continue;
      const r = this.rules[rule]!;
      if (!out.some((o) => o.replace === r.replace && o.label === r.label)) out.push({ ...(r.label !== undefined ? { label: r.label } : {}), replace: r.replace });
    }
    return out;
  }

  /**
   * Whether `text` ends with a start of some spelling that spells `min` or more of what it spells
   * (gaps left out, in any view: wide, read through fillers or folds, EBCDIC, sampled forms): a
   * WebSocket hold's measure (proxy/credentials.ts). Counted in held bytes, a message ending in
   * one letter of a key and binary bytes a reader may skip (PostgreSQL's `Sync`, `S` 00 00 00 04)
   * was a long start, held until a next message that the protocol never sends before an answer.
   * No public prefix counts less here: a key's shared start (`sk_live_`) is still held.
   */
  spellsAtEnd(text: string, min: number): boolean {
    return text.length >= min && this.startedRules(text, min, false, true).length > 0;
  }

  /**
   * The rules of which `text` ends with a start spelling at least `min` characters (gaps left
   * out; `decided`: and the rule's probeMin), each view's start counted in what it spells. `any`:
   * the first such rule is enough.
   */
  private startedRules(text: string, min: number, decided: boolean, any = false): number[] {
    const found: number[] = [];
    const add = (rule: number): void => {
      if (!found.includes(rule)) found.push(rule);
    };
    // A UTF-16/32 start is held too (heldFrom reads the tail's strided views): counted in those
    // views alike, or it would be an oracle of its own (an echo answering in UTF-16).
    const wide = text.indexOf('\0', Math.max(0, text.length - 8)) >= 0 ? viewsOf(text.slice(Math.max(0, text.length - 4 * this.maxLength)), true).slice(1).map((v) => v.text) : [];
    // A start read through fillers or folds is held too (heldFrom): counted alike.
    const filled = this.readTail(text);
    if (filled) wide.push(filled.view.text);
    for (const { matcher, rule, cut } of this.parts) {
      if (cut) continue; // its starts are the raw form's
      // Counted in what spells the value (gaps left out: heldSpelled), not in held characters: a
      // run of blanks, tabs, line breaks or soft breaks after a key's start spells none of it.
      const need = decided ? Math.max(min, this.rules[rule]!.probeMin) : min;
      const heldIn = (v: string): number => (v.length < need ? 0 : matcher.prefixes.heldSpelled(v, Math.max(0, v.length - matcher.maxLength + 1), !decided));
      if (heldIn(text) >= need || wide.some((v) => heldIn(v) >= need)) {
        add(rule);
        if (any) return found;
      }
    }
    // The EBCDIC forms' starts are held too (heldFrom): counted alike, or they would be an oracle of their own.
    const e = this.ebcdic;
    if (e && e.firsts.some((c) => text.indexOf(c, Math.max(0, text.length - e.matcher.maxLength + 1)) >= 0)) {
      for (const [form, { rule }] of e.byForm) {
        const need = decided ? Math.max(min, this.rules[rule]!.probeMin) : min;
        for (let n = Math.min(form.length - 1, text.length); n >= need; n--) {
          if (!text.endsWith(form.slice(0, n))) continue;
          add(rule);
          if (any) return found;
          break;
        }
      }
    }
    if (this.sampled) for (const v of [text, ...wide]) for (const rule of this.sampled.startsAtEnd(v, min, decided)) add(rule);
    return found;
  }

  /** Labels of the rules that match anywhere in `text` (latin1). */
  find(text: string): Set<string> {
    const found = new Set<string>();
    if (this.empty || !text) return found;
    for (const s of this.spans(text, text.length, true)) found.add(this.rules[s.rule]!.label ?? '');
    return found;
  }

  /**
   * Scrubs `text` as a reader sees it with the `hidden` ranges taken out (sorted, apart): framing
   * a client drops between the pieces of what it shows (an event stream's `data:` names, line
   * ends, comments), so a secret cut by it is matched whole. A match is replaced together with
   * the framing inside it (the framing before a held start goes out: what follows continues its line).
   * `holdAt`: hold from there at the latest. `behind`: what the reader saw just before `text`,
   * already let out (a match beginning there is refused: it cannot be taken back). `boundary`: the
   * text ends with framing (an event's end): a possible start spelling fewer than `shortHold` characters there is
   * let out rather than held a whole event, and returned as the next `behind`.
   */
  scrubHidden(text: string, hidden: ReadonlyArray<readonly [number, number]>, final: boolean, opts: { holdAt?: number; behind?: string; boundary?: boolean; shortHold?: number } = {}): { out: string; rest: string; behind: string } {
    const holdAt = opts.holdAt ?? text.length;
    const behind = opts.behind ?? '';
    if (this.empty) return final ? { out: text, rest: '', behind: '' } : { out: text.slice(0, holdAt), rest: text.slice(holdAt), behind: '' };
    if (!hidden.length && holdAt >= text.length && !behind) return { ...this.scan(text, final), behind: '' };
    const { held, viewLength, spans, raw, tail } = this.inView(text, hidden, final, behind);
    let next = '';
    let hold: number;
    if (final || held >= viewLength) {
      hold = text.length;
    } else if (held < behind.length) {
      // Still the start begun before this text: its data waits (what is out stays out). The
      // framing before that data goes out (twenty-eighth pass): it cannot continue the start, and
      // held it was read again with every chunk — an event ending in `s` followed by keep-alive
      // comments held each comment until the next data, a MiB of them ~3 s of CPU (quadratic).
      hold = raw(behind.length);
      next = behind;
    } else if (opts.boundary && opts.shortHold !== undefined && !this.spellsAtEnd(tail, opts.shortHold)) {
      hold = text.length;
      next = tail;
    } else {
      hold = raw(held);
    }
    hold = Math.min(hold, holdAt);
    for (const s of spans) if (s.start < hold && s.end > text.length) hold = Math.min(hold, s.start);
    return { ...this.replaced(text, spans, hold), behind: next };
  }

  /**
   * Matches (in text coordinates) and the held start and tail (in view coordinates) of `text` read
   * without the hidden ranges, after `behind`; a match beginning in `behind` is refused.
   */
  private inView(text: string, hidden: ReadonlyArray<readonly [number, number]>, final: boolean, behind: string): { held: number; viewLength: number; tail: string; spans: Span[]; raw: (v: number) => number } {
    const parts: string[] = [behind];
    let from = 0;
    /** Per hidden range: where it sits in the view, and how much is hidden up to its end. */
    const at: number[] = [];
    const before: number[] = [];
    let gone = 0;
    for (const [a, b] of hidden) {
      parts.push(text.slice(from, a));
      at.push(behind.length + a - gone);
      gone += b - a;
      before.push(gone);
      from = b;
    }
    parts.push(text.slice(from));
    const view = parts.join('');
    /** Raw position of view position v (after the framing right before it). */
    const raw = (v: number): number => {
      let i = -1;
      for (let k = 0; k < at.length && at[k]! <= v; k++) i = k;
      return v - behind.length + (i < 0 ? 0 : before[i]!);
    };
    const held = final ? view.length : this.heldFrom(view);
    const spans = this.spans(view, view.length, final).map((s) => {
      if (s.start < behind.length) throw new ForbiddenContentError('a secret continues one begun in what was already let out (an event stream cut it across events); the rest was withheld');
      return { ...s, start: raw(s.start), end: s.end > view.length ? text.length + (s.end - view.length) : raw(s.end - 1) + 1 };
    });
    return { held, viewLength: view.length, tail: view.slice(held), spans, raw };
  }

  private scan(text: string, final: boolean, reading = true): { out: string; rest: string } {
    // Asked once here (a tiny event per call adds up), not again by each reading step.
    const asRead = reading && mayHoldUnread(text);
    // A tail cut inside a filler the gate does not see (a CDATA end, a line break in base64) is read too.
    let hold = final ? text.length : this.heldFrom(text, asRead || (reading && mayEndOpen(text)));
    reading = asRead;
    const spans = this.spans(text, hold, final, reading);
    for (const s of spans) if (s.end > text.length) hold = Math.min(hold, s.start); // its NUL tail is not here yet
    return this.replaced(text, spans, hold);
  }

  /** `text` up to `hold` (or the end of a match that began before it) with each match replaced, and the rest. */
  private replaced(text: string, spans: Span[], hold: number): { out: string; rest: string } {
    let out = '';
    let last = 0;
    for (const s of spans) {
      if (s.start >= hold) break;
      const start = Math.max(s.start, last);
      if (s.end <= last) continue;
      out += text.slice(last, start) + (s.ebcdic ?? this.replacement(s.rule, s.enc));
      last = Math.min(s.end, text.length);
    }
    const cut = Math.max(hold, last);
    return { out: out + text.slice(last, cut), rest: text.slice(cut) };
  }

  /** Every match starting before `hold`, in text coordinates, sorted, overlaps merged into the first. */
  private spans(text: string, hold: number, final: boolean, reading = true, withCut = true): Span[] {
    const found: Span[] = [];
    const wide = text.includes('\0') && WIDE_TEXT.test(text);
    for (const view of viewsOf(text, wide)) {
      const { stride, off } = view;
      if (this.overlong !== undefined) {
        // The first is enough: a forbidden match refuses the whole text.
        const m = OVERLONG.exec(view.text);
        if (m && stride * m.index + off < hold) found.push({ start: stride * m.index + off, end: Math.min(text.length, stride * (m.index + m[0].length - 1) + off + 1), rule: this.overlong, enc: 'utf8' });
      }
      if (this.sampled) {
        for (const h of this.sampled.find(view.text, Infinity)) {
          let start = stride * h.start + off;
          if (start >= hold) continue;
          let end = stride * (h.end - 1) + off + 1;
          let enc: Encoding = 'utf8';
          if (stride > 1) ({ start, end, enc } = widen(text, start, end));
          if (final) end = Math.min(end, text.length);
          found.push({ start, end, rule: h.rule, enc });
        }
      }
      const cued = cuesOf(view.text);
      for (const { matcher, rule, cut } of this.parts) {
        if ((cut && !withCut) || !cued(matcher)) continue;
        for (const re of matcher.regexes) {
          re.lastIndex = 0;
          for (let m = re.exec(view.text); m !== null; m = re.exec(view.text)) {
            let start = stride * m.index + off;
            if (start >= hold) break;
            let end = stride * (m.index + m[0].length - 1) + off + 1;
            let enc: Encoding = 'utf8';
            if (stride > 1) ({ start, end, enc } = widen(text, start, end));
            if (final) end = Math.min(end, text.length);
            found.push({ start, end, rule, enc });
          }
        }
      }
    }
    // The text as read (proxy/reading-view.ts: invisible fillers out, styled letters folded), around
    // such characters only: a match they change holds one, and reaches maxLength past its first and last.
    for (const { from, view: filled } of reading ? readingWindows(text, this.maxLength) : []) {
      const push = (a: number, b: number, rule: number): void => {
        const start = from + rawSpan(filled, a)[0];
        if (start < hold) found.push({ start, end: from + rawSpan(filled, b - 1)[1], rule, enc: 'utf8' });
      };
      if (this.sampled) for (const h of this.sampled.find(filled.text, Infinity)) push(h.start, h.end, h.rule);
      const cued = cuesOf(filled.text);
      for (const { matcher, rule, cut } of this.parts) {
        if ((cut && !withCut) || !cued(matcher)) continue;
        for (const re of cut ? matcher.caseless() : matcher.regexes) {
          re.lastIndex = 0;
          for (let m = re.exec(filled.text); m !== null; m = re.exec(filled.text)) {
            // In either case only where reading changed the text (a fold or a filler in the match):
            // raw text as it is was scanned as it is (a key's run lowercased is no run of it).
            if (cut && text.slice(from + rawSpan(filled, m.index)[0], from + rawSpan(filled, m.index + m[0].length - 1)[1]) === m[0]) continue;
            push(m.index, m.index + m[0].length, rule);
          }
        }
      }
    }
    const e = this.ebcdic;
    if (e) {
      for (const re of e.matcher.regexes) {
        re.lastIndex = 0;
        for (let m = re.exec(text); m !== null && m.index < hold; m = re.exec(text)) {
          const hit = e.byForm.get(m[0]);
          if (hit) found.push({ start: m.index, end: m.index + m[0].length, rule: hit.rule, enc: 'utf8', ebcdic: hit.replace });
        }
      }
    }
    // Twenty-ninth pass: MIME encoded-words side by side, as a decoder joins them (proxy/encoded-words.ts):
    // a run whose text holds a key is replaced whole.
    for (const run of encodedWordRuns(text)) {
      if (run.start >= hold) break;
      const inner = this.spans(run.text, run.text.length, true, reading, withCut);
      if (inner.length) found.push({ start: run.start, end: run.end, rule: inner[0]!.rule, enc: 'utf8' });
    }
    found.sort((a, b) => a.start - b.start || b.end - a.end);
    // A forbidden match anywhere wins over a replacement it overlaps.
    const merged: Span[] = [];
    for (const f of found) {
      const prev = merged[merged.length - 1];
      if (prev && f.start < prev.end) {
        prev.end = Math.max(prev.end, f.end);
        if (this.rules[f.rule]!.forbid !== undefined) prev.rule = f.rule;
      } else {
        merged.push({ ...f });
      }
    }
    return merged;
  }

  /**
   * The end of `text` as read (proxy/reading-view.ts), as far back as a start of a spelling read
   * through fillers or folds may reach (with its raw length); undefined when the end holds none.
   * Its last such character is at most maxLength from the end (or the text ends inside one), so
   * only then is the longer stretch read.
   */
  private readTail(text: string): { view: ReadingView; length: number } | undefined {
    if (!endsNearUnread(text, this.maxLength)) return undefined;
    // Read back until the view holds maxLength characters (a start is shorter), or as far as one reaches.
    for (let length = this.maxLength + READING_WIDTH; ; length *= 2) {
      const most = Math.min(length, READING_WIDTH * this.maxLength, text.length);
      const view = readingView(text.slice(text.length - most), true);
      if (!view) return undefined;
      if (view.text.length >= this.maxLength || most === text.length || most === READING_WIDTH * this.maxLength) {
        return view.text.length || view.openFold ? { view, length: most } : undefined;
      }
    }
  }

  /** Start of the earliest suffix of `text` that could still become a match (text.length if none). */
  private heldFrom(text: string, reading = true): number {
    let held = this.overlong !== undefined ? overlongTail(text) : text.length;
    for (const { matcher } of this.parts) held = Math.min(held, earliestIn(matcher, text));
    const e = this.ebcdic;
    if (e) {
      // Only a tail holding a form's first byte (an EBCDIC letter or digit: rare in other text) can start one.
      const from = Math.max(0, text.length - e.matcher.maxLength + 1);
      if (e.firsts.some((c) => text.indexOf(c, from) >= 0)) held = Math.min(held, e.matcher.prefixes.earliestPrefix(text, from));
    }
    if (this.sampled) held = Math.min(held, this.sampled.earliestPrefix(text));
    // A run of MIME encoded-words the next bytes may continue (proxy/encoded-words.ts).
    held = Math.min(held, encodedRunTail(text));
    // A spelling under way read through fillers or folds (or one cut inside such a character).
    const filled = reading ? this.readTail(text) : undefined;
    if (filled) {
      const readFrom = text.length - filled.length;
      const v = filled.view.text;
      let p = v.length;
      for (const { matcher } of this.parts) p = Math.min(p, earliestIn(matcher, v));
      if (this.sampled) p = Math.min(p, this.sampled.earliestPrefix(v));
      if (p < v.length) held = Math.min(held, readFrom + rawSpan(filled.view, p)[0]);
      // The text ends inside a styled letter: it may begin a spelling.
      if (filled.view.openFold) held = Math.min(held, text.length - filled.view.openFold);
    }
    // A UTF-16/32 spelling may be under way at the end: then its last bytes hold a NUL (a wide
    // prefix may be too short yet to look like wide text). Look at the strided views of the tail.
    const tailStart = Math.max(0, text.length - 4 * this.maxLength);
    if (text.indexOf('\0', Math.max(0, text.length - 8)) >= 0) {
      const tail = text.slice(tailStart);
      for (const { text: v, stride, off } of viewsOf(tail, true).slice(1)) {
        let p = v.length;
        for (const { matcher } of this.parts) p = Math.min(p, earliestIn(matcher, v));
        if (this.sampled) p = Math.min(p, this.sampled.earliestPrefix(v));
        if (p === v.length) continue;
        let q = tailStart + stride * p + off;
        // Back over NULs that may belong to the first character (UTF-16/32 big-endian).
        for (let i = 0; i < 3 && isNul(text, q - 1); i++) q--;
        held = Math.min(held, q);
      }
    }
    return held;
  }



}

/**
 * The canonical spellings of a value (raw, base64/base64url cores, hex, percent, JSON): for tests
 * and for callers that need plain strings. The scrubber itself matches every spelling.
 */
export function scrubForms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const hex = bytes.toString('hex');
  const forms = [
    bytes.toString('latin1'),
    ...base64Cores(bytes),
    ...base64Cores(bytes, true),
    hex,
    hex.toUpperCase(),
    encodeURIComponent(value),
    encodeURIComponent(value).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
    encodeURIComponent(value).replace(/%20/g, '+'),
    encodeURI(value),
    hex.toUpperCase().replace(/(..)/g, '%$1'),
    hex.replace(/(..)/g, '%$1'),
    Buffer.from(JSON.stringify(value).slice(1, -1), 'utf8').toString('latin1'),
    Buffer.from(JSON.stringify(value).slice(1, -1).replace(/\//g, '\\/'), 'utf8').toString('latin1'),
  ];
  return [...new Set(forms)].filter((f) => f.length >= 4 || f === bytes.toString('latin1'));
}

