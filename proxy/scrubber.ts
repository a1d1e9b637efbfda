// The matcher behind every scrub: finds each secret in every spelling of proxy/spellings.ts and
// replaces it (or refuses the content), in whole strings or chunk by chunk. Pure; one instance is
// reused for every response that needs the same secrets.
//
// Text with NUL bytes (UTF-16, UTF-32, binary) is scanned as a view with runs of up to three NULs
// removed, so "s\0k\0…" (UTF-16LE), "\0s\0k…" (BE) and the UTF-32 forms all read as "sk…"; a match
// there is replaced by the replacement in the same encoding.
import { FULL_SPELLING_MAX, firstChars, isPrefixAt, literalPattern, maxLength, regexSource, spellingsOf, type Node } from './spellings.ts';
import { base64Cores } from './placeholders.ts';

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
}

interface Compiled {
  re: RegExp;
  /** Capture group (1-based) → rule index. */
  ruleOf: number[];
}

interface Span {
  start: number;
  end: number;
  rule: number;
  enc: Encoding;
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

/** The text with runs of 1–3 NULs removed and longer runs kept as one NUL; map: view index → text index. */
function compactNuls(text: string): { text: string; map: Int32Array } {
  const n = text.length;
  const codes = Buffer.allocUnsafe(n);
  const map = new Int32Array(n + 1);
  let k = 0;
  for (let i = 0; i < n;) {
    const c = text.charCodeAt(i);
    if (c !== 0) {
      codes[k] = c;
      map[k++] = i++;
      continue;
    }
    let j = i;
    while (j < n && text.charCodeAt(j) === 0) j++;
    if (j - i >= 4) {
      codes[k] = 0;
      map[k++] = i;
    }
    i = j;
  }
  map[k] = n;
  return { text: codes.toString('latin1', 0, k), map };
}

const isNul = (text: string, i: number): boolean => i >= 0 && i < text.length && text.charCodeAt(i) === 0;

/** A match found in the NUL-compacted view, stretched over the NULs of its UTF-16/32 encoding. */
function widen(text: string, start: number, end: number): { start: number; end: number; enc: Encoding } {
  if (!text.slice(start, end).includes('\0') && !isNul(text, start + 1) && !isNul(text, start - 1)) return { start, end, enc: 'utf8' };
  if (isNul(text, start + 1) && isNul(text, start + 2) && isNul(text, start + 3)) return { start, end: end + 3, enc: 'utf32le' };
  if (isNul(text, start + 1)) return { start, end: end + 1, enc: 'utf16le' };
  if (isNul(text, start - 1) && isNul(text, start - 2) && isNul(text, start - 3)) return { start: start - 3, end, enc: 'utf32be' };
  if (isNul(text, start - 1)) return { start: start - 1, end, enc: 'utf16be' };
  return { start, end, enc: 'utf8' };
}

/** A compiled matcher for a set of secrets and rules. */
export class Scrubber {
  private readonly rules: Rule[] = [];
  private readonly compiled: Compiled[] = [];
  /** Patterns by the character code they can start with: to find a chunk tail that may start one. */
  private readonly byFirst: Array<Node[] | undefined> = new Array(256);
  readonly maxLength: number;
  /** Whether every value looked for is ASCII (then ASCII-compatible charsets spell it the same). */
  readonly asciiOnly: boolean;

  /** Scrubs every spelling of each secret's value, replacing it with the secret's placeholder. */
  constructor(secrets: ScrubSecret[], extra: MatchRule[] = []) {
    const all: MatchRule[] = [
      ...secrets.filter((s) => s.value).map((s) => ({ value: s.value, replace: s.placeholder })),
      ...extra,
    ];
    // Longest values first: where one secret contains another, the whole of it is replaced.
    const size = (r: MatchRule): number => Math.max(r.value ? Buffer.byteLength(r.value) : 0, ...(r.forms ?? []).map((f) => f.length));
    all.sort((a, b) => size(b) - size(a));
    // eslint-disable-next-line no-control-regex
    this.asciiOnly = all.every((r) => !/[^\x00-\x7f]/.test(r.value ?? '') && !(r.forms ?? []).some((f) => /[^\x00-\x7f]/.test(f)));
    const sources: Array<{ src: string; rule: number }> = [];
    let longest = 0;
    const seen = new Set<string>();
    for (const r of all) {
      const patterns = [...(r.value ? spellingsOf(r.value) : []), ...(r.forms ?? []).filter(Boolean).map(literalPattern)];
      if (!patterns.length) continue;
      const index = this.rules.length;
      this.rules.push({ replace: r.replace ?? '', ...(r.forbid !== undefined ? { forbid: r.forbid } : {}), ...(r.label ? { label: r.label } : {}), encoded: new Map() });
      for (const p of patterns) {
        const src = regexSource(p);
        if (seen.has(src)) continue;
        seen.add(src);
        sources.push({ src, rule: index });
        longest = Math.max(longest, maxLength(p));
        for (const ch of firstChars(p)) (this.byFirst[ch.charCodeAt(0) & 0xff] ??= []).push(p);
      }
    }
    this.maxLength = longest;
    // Pack patterns into as few regexes as stay under the size budget.
    let batch: typeof sources = [];
    let batchSize = 0;
    const flush = (): void => {
      if (!batch.length) return;
      const re = new RegExp(batch.map((b) => `(${b.src})`).join('|'), 'g');
      // Two runs on a short string: V8 then compiles the regex to native code before the first real scan.
      re.exec('warm up');
      re.lastIndex = 0;
      re.exec('warm up');
      re.lastIndex = 0;
      this.compiled.push({ re, ruleOf: [0, ...batch.map((b) => b.rule)] });
      batch = [];
      batchSize = 0;
    };
    for (const s of sources) {
      if (batchSize && batchSize + s.src.length > REGEX_SOURCE_BUDGET) flush();
      batch.push(s);
      batchSize += s.src.length + 3;
    }
    flush();
  }

  get empty(): boolean {
    return this.compiled.length === 0;
  }

  private replacement(rule: number, enc: Encoding): string {
    const r = this.rules[rule]!;
    if (r.forbid !== undefined) throw new ForbiddenContentError(r.forbid);
    let out = r.encoded.get(enc);
    if (out === undefined) r.encoded.set(enc, (out = encodeAs(r.replace, enc)));
    return out;
  }

  /** Scrubs a complete latin1 string (a header value, or a final chunk). */
  scrubString(text: string): string {
    if (this.empty || !text) return text;
    return this.scan(text, true).out;
  }

  /**
   * Scrubs as much of `text` as is final: returns the output and the tail to prepend to the next
   * chunk. A match starting before the held tail always fits in `text` (see heldFrom), so it is
   * the same match a scan of the whole stream would make.
   */
  scrubPartial(text: string): { out: string; rest: string } {
    if (this.empty) return { out: text, rest: '' };
    return this.scan(text, false);
  }

  /** Labels of the rules that match anywhere in `text` (latin1). */
  find(text: string): Set<string> {
    const found = new Set<string>();
    if (this.empty || !text) return found;
    for (const s of this.spans(text, text.length, true)) found.add(this.rules[s.rule]!.label ?? '');
    return found;
  }

  private scan(text: string, final: boolean): { out: string; rest: string } {
    let hold = final ? text.length : this.heldFrom(text);
    const spans = this.spans(text, hold, final);
    for (const s of spans) if (s.end > text.length) hold = Math.min(hold, s.start); // its NUL tail is not here yet
    let out = '';
    let last = 0;
    for (const s of spans) {
      if (s.start >= hold) break;
      const start = Math.max(s.start, last);
      if (s.end <= last) continue;
      out += text.slice(last, start) + this.replacement(s.rule, s.enc);
      last = Math.min(s.end, text.length);
    }
    const cut = Math.max(hold, last);
    return { out: out + text.slice(last, cut), rest: text.slice(cut) };
  }

  /** Every match starting before `hold`, in text coordinates, sorted, overlaps merged into the first. */
  private spans(text: string, hold: number, final: boolean): Span[] {
    const view = text.includes('\0') ? compactNuls(text) : undefined;
    const s = view ? view.text : text;
    const found: Span[] = [];
    for (const { re, ruleOf } of this.compiled) {
      re.lastIndex = 0;
      for (let m = re.exec(s); m !== null; m = re.exec(s)) {
        let start = view ? view.map[m.index]! : m.index;
        if (start >= hold) break;
        let end = view ? view.map[m.index + m[0].length - 1]! + 1 : m.index + m[0].length;
        let enc: Encoding = 'utf8';
        if (view) ({ start, end, enc } = widen(text, start, end));
        if (final) end = Math.min(end, text.length);
        let g = 1;
        while (m[g] === undefined) g++;
        found.push({ start, end, rule: ruleOf[g]!, enc });
      }
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

  /** Start of the earliest suffix of `text` that could still become a match (text.length if none). */
  private heldFrom(text: string): number {
    const view = text.includes('\0') ? compactNuls(text) : undefined;
    const s = view ? view.text : text;
    for (let p = Math.max(0, s.length - this.maxLength + 1); p < s.length; p++) {
      const candidates = this.byFirst[s.charCodeAt(p) & 0xff];
      if (!candidates || !candidates.some((n) => isPrefixAt(n, s, p))) continue;
      if (!view) return p;
      // Back over NULs that may belong to the first character (UTF-16/32 big-endian).
      let q = view.map[p]!;
      for (let i = 0; i < 3 && isNul(text, q - 1); i++) q--;
      return q;
    }
    return text.length;
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

export { FULL_SPELLING_MAX };
