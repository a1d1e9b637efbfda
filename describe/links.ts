// Finds the links in a response body as it streams to the agent, for link provenance
// (docs/policies.md, "Link provenance"): absolute http(s) URLs in plain text, in JSON string values
// (escapes undone by @streamparser/json's tokenizer), and in HTML — `href`, `src` and the other URL
// attributes resolved against the page's URL (or its first <base href>), `srcset` candidates, and
// URLs in text and attribute values (entities decoded by htmlparser2). Each URL is normalized
// exactly as the request description normalizes a request's URL (`normalizeLink`), so a link is
// "seen" precisely when the request an agent would send for it is the one described.
//
// Linear and bounded: every byte is looked at a constant number of times; at most `maxChars` characters
// of the (decoded) body are read, at most `maxLinks` links kept, URLs longer than `urlChars` dropped.
// Only textual media types are read; anything else is passed through unread.
import { domainToUnicode } from 'node:url';
import { Tokenizer } from '@streamparser/json';
import { Parser } from 'htmlparser2';
import { jsonUnescaped } from '../lib/text.ts';
import { parseTarget } from './describe.ts';

export type LinkFormat = 'html' | 'xml' | 'json' | 'text';

export interface LinkScanLimits {
  /** Characters of decoded body read per response. */
  maxChars: number;
  /** Links kept per response. */
  maxLinks: number;
  /** Longer URLs are ignored. */
  urlChars: number;
}

export const LINK_SCAN_LIMITS: LinkScanLimits = { maxChars: 1024 * 1024, maxLinks: 1000, urlChars: 2048 };

/** How to read a body of this media type for links, or undefined when it is not read. */
export function linkFormat(contentType: string): LinkFormat | undefined {
  const t = contentType.split(';', 1)[0]!.trim().toLowerCase();
  if (t === 'text/html' || t === 'application/xhtml+xml') return 'html';
  if (t === 'application/json' || t.endsWith('+json') || t === 'text/json' || t === 'application/x-ndjson' || t === 'application/jsonl') return 'json';
  // XML (feeds, sitemaps, SVG) is parsed as XML: its entities decoded (`&amp;` in a feed's link is
  // `&`, and an echo escaped so is still the agent's), its `href`/`src` attributes resolved.
  if (t === 'application/xml' || t === 'text/xml' || t.endsWith('+xml')) return 'xml';
  if (t.startsWith('text/') || t === 'application/javascript' || t === 'application/x-javascript') return 'text';
  return undefined;
}

/**
 * The provenance key of a link: the URL as the request description would write it (userinfo,
 * fragment and a trailing dot of the host removed, default port dropped, IDN as punycode, path
 * dot-segments resolved and unreserved escapes decoded), or undefined when it is not a followable
 * http(s) URL. Relative links are resolved against `base`.
 */
export function normalizeLink(raw: string, base?: URL): string | undefined {
  let url: URL;
  try {
    url = base ? new URL(raw, base) : new URL(raw);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  try {
    return parseTarget(url.href).href;
  } catch {
    return undefined;
  }
}

// Characters that end a URL in running text: whitespace, controls, and those RFC 3986 never allows
// unescaped and text uses around links (quotes, angle brackets, backtick, braces, pipe, caret,
// backslash). One character class under one quantifier: linear.
const urlInText = /https?:\/\/[^\s"'<>`{}|\\^\u0000-\u001f\u007f]+/gi;
/** The first character that ends a URL in running text (what urlInText's run excludes). */
const urlEnd = /[\s"'<>`{}|\\^\u0000-\u001f\u007f]/;
// Punctuation that usually closes the sentence around a link rather than belonging to it.
const trailingPunctuation = /[.,;:!?)\]*]$/;
/** Text carried from one chunk to the next: at most a URL's length plus a scheme. */
const CARRY = 8;

/** The URL attributes of HTML whose values are links (resolved against the page). */
const urlAttributes = new Set(['href', 'src', 'action', 'formaction', 'poster', 'cite', 'data', 'background', 'longdesc', 'data-src', 'data-href', 'content']);

/** Distinct spellings kept per link; a link written more ways than this is treated as an echo. */
const MAX_SPELLINGS = 8;
/** Stands for the spellings not kept: the echo check counts it as an echo (fails closed). */
export const TOO_MANY_SPELLINGS = '\u0000';

/**
 * An absolute link as the answer wrote it, as a skeleton, its scheme left out; '' for a relative
 * one (its host is the page's or the base's, which the answer chose).
 */
function writtenSkeleton(raw: string): string {
  const m = /^\s*(?:[a-z][a-z0-9+.-]*:|[/\\]{2})/i.exec(raw);
  return m ? skeleton(raw.slice(m[0].length)) : '';
}

/** Open elements of a page the scan keeps (innermost first), and the slice it reads between checks. */
const MAX_OPEN_ELEMENTS = 256;
const MARKUP_SLICE = 4096;
/** A query value that may be an absolute URL (`=https://`, `=http%3A%2F%2F`): one class, no nesting, linear. */
const carriesUrl = /=https?(?::|%3a)/i;
/** Links read out of one link's query values, at most. */
const NESTED_PER_LINK = 4;
/** Link spellings normalized per answer, at most, for each link it may keep. */
const NORMALIZED_PER_LINK = 4;

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

export class LinkScanner {
  private readonly links = new Set<string>();
  /**
   * Per link, the skeletons of the spellings it was found in (as the answer wrote it, escapes and
   * entities undone, before normalization rewrote it): for the echo check (`echoedBy`).
   */
  private readonly written = new Map<string, string[]>();
  private chars = 0;
  private done = false;
  private carry = '';
  /**
   * Inside a URL too long to keep that the last chunk ended in: the next chunk's text up to the
   * URL's end is its rest, not a URL of its own (read whole, the body has no link there).
   */
  private skipping = false;
  private html: Parser | undefined;
  private json: Tokenizer | undefined;
  /**
   * A JSON body read as plain text so far: while it holds no backslash, its string values are
   * exactly the text between its quotes, and the quote ends a URL in text, so the text scan finds
   * the very links the tokenizer would, at a fraction of the cost. The first backslash (an escape)
   * starts the tokenizer over everything read.
   */
  private jsonAsText = false;
  /** What a JSON body has been so far (at most maxChars): tokenized on the first escape, read again as text if it is not JSON. */
  private jsonText = '';
  private base: URL;
  private baseSet = false;
  /** The skeleton of the page's <base href> as written, when it is absolute ('' otherwise). */
  private baseWritten = '';
  /** Link spellings already added under the current base (a text URL is keyed apart), and how many were normalized. */
  private readonly spellingsMet = new Set<string>();
  private normalized = 0;

  constructor(private readonly format: LinkFormat, pageUrl: string, private readonly limits: LinkScanLimits = LINK_SCAN_LIMITS) {
    this.base = new URL(pageUrl);
    if (format === 'html' || format === 'xml') {
      this.html = new Parser({
        onopentag: (name, attribs) => this.onTag(name, attribs),
        // Text between tags streams like plain text; a URL never spans a tag.
        ontext: (text) => this.scanText(text, true),
        onclosetag: () => this.endText(),
      }, { decodeEntities: true, lowerCaseAttributeNames: true, lowerCaseTags: true, xmlMode: format === 'xml' });
    } else if (format === 'json') {
      this.jsonAsText = true;
    }
  }

  /** From the first escape on, a JSON body goes through the tokenizer, from its start. */
  private startTokenizer(): void {
    this.jsonAsText = false;
    this.links.clear();
    this.written.clear();
    this.spellingsMet.clear();
    this.normalized = 0;
    this.carry = '';
    const json = new Tokenizer({ separator: '' });
    json.onToken = ({ value }) => {
      if (typeof value === 'string') this.scanText(value, false);
    };
    // Not JSON after all: everything is read again as text (the same links whatever the chunks).
    json.onError = () => this.notJson();
    this.json = json;
    try {
      json.write(this.jsonText);
    } catch {
      this.notJson();
    }
  }

  /** Feeds the next decoded text of the body; beyond the byte budget it is ignored. */
  write(text: string): void {
    if (this.done) return;
    const room = this.limits.maxChars - this.chars;
    if (text.length > room) {
      text = text.slice(0, Math.max(0, room));
      this.done = true;
    }
    this.chars += text.length;
    if (!text) return;
    if (this.html) this.writeMarkup(this.html, text);
    else if (this.jsonAsText) {
      this.jsonText += text;
      if (text.includes('\\')) this.startTokenizer();
      else this.scanText(text, true);
    } else if (this.json) {
      this.jsonText += text;
      try {
        this.json.write(text);
      } catch {
        this.notJson();
      }
    } else this.scanText(text, true);
  }

  /**
   * HTML or XML, in slices, keeping at most MAX_OPEN_ELEMENTS open elements. htmlparser2 grows its
   * stack of open elements at the front (a copy of the whole stack per open tag) and searches it
   * for every closing tag: 1 MiB of nested `<a>` or `<div>` held the event loop for seconds per
   * 64 KiB. Links need no nesting: the innermost elements are kept, the outer ones forgotten (their
   * closing tags are then ignored, as stray ones are).
   */
  private writeMarkup(html: Parser, text: string): void {
    const state = html as unknown as { stack?: unknown; foreignContext?: unknown };
    for (let i = 0; i < text.length;) {
      let end = Math.min(text.length, i + MARKUP_SLICE);
      if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end++; // a pair stays whole
      html.write(text.slice(i, end));
      i = end;
      if (Array.isArray(state.stack) && state.stack.length > MAX_OPEN_ELEMENTS) state.stack.length = MAX_OPEN_ELEMENTS;
      if (Array.isArray(state.foreignContext) && state.foreignContext.length > MAX_OPEN_ELEMENTS) state.foreignContext.length = MAX_OPEN_ELEMENTS;
    }
  }

  /** Whether more input would be read. */
  get full(): boolean {
    return this.done || this.links.size >= this.limits.maxLinks;
  }

  /** Ends the body; returns the links found, normalized, in order of appearance. */
  end(): string[] {
    this.html?.end();
    this.jsonText = '';
    this.endText();
    return [...this.links];
  }

  private notJson(): void {
    if (!this.json) return;
    this.json = undefined;
    const all = this.jsonText;
    this.jsonText = '';
    this.scanText(all, true);
  }

  private add(raw: string, base?: URL, nested = false): void {
    if (raw.length > this.limits.urlChars) return;
    // A spelling met again (under the same base) adds nothing new: not normalized again. Past
    // NORMALIZED_PER_LINK × maxLinks normalizations the scan ends (a MiB of links that all normalize
    // to one URL cost the event loop a second per answer); the links found so far are kept.
    const key = base ? raw : `\u0000${raw}`;
    if (this.spellingsMet.has(key)) return;
    if (this.normalized >= NORMALIZED_PER_LINK * this.limits.maxLinks) {
      this.done = true;
      return;
    }
    this.normalized++;
    this.spellingsMet.add(key);
    const url = normalizeLink(raw, base);
    if (!url || url.length > this.limits.urlChars) return;
    if (!this.links.has(url)) {
      if (this.links.size >= this.limits.maxLinks) return;
      this.links.add(url);
    }
    if (!nested) this.addCarried(url);
    // Entities left in a link (a page or feed that escaped the text twice, as Atom's HTML content
    // is): what it reads as once they are undone is a spelling too, so an echo escaped twice is
    // still the agent's.
    const unescaped = raw.includes('&') ? entitiesDecoded(raw) : raw;
    if (raw === url && unescaped === raw) return; // written as normalized: the link's own skeleton is this spelling's
    // A relative link under the page's <base href> is spelled by that base too: it chose the host
    // (and the path), and a page that reflects its query may have reflected the base.
    this.spelled(url, writtenSkeleton(raw) || (base && base === this.base ? this.baseWritten : ''));
    if (unescaped !== raw) this.spelled(url, writtenSkeleton(unescaped));
  }

  /**
   * The absolute links a link carries as query values: a search engine's click-through URL serves
   * its target (DuckDuckGo's HTML results link `//duckduckgo.com/l/?uddg=https%3A%2F%2F…`, Google's
   * `/url?q=…`), which agents read out of it and ask for directly (eleventh pass: the target of every
   * result of the default source html.duckduckgo.com was unseen). The same answer serves them, so
   * the same echo check judges them. One level, at most NESTED_PER_LINK per link.
   */
  private addCarried(url: string): void {
    const q = url.indexOf('?');
    if (q < 0 || !carriesUrl.test(url.slice(q))) return;
    let n = 0;
    for (const [, v] of new URLSearchParams(url.slice(q + 1))) {
      if (!/^https?:\/\//i.test(v)) continue;
      this.add(v, undefined, true);
      if (++n >= NESTED_PER_LINK) return;
    }
  }

  private spelled(url: string, k: string): void {
    const spellings = this.written.get(url);
    if (!spellings) this.written.set(url, [k]);
    else if (spellings.length <= MAX_SPELLINGS && !spellings.includes(k)) spellings.push(spellings.length < MAX_SPELLINGS ? k : TOO_MANY_SPELLINGS);
  }

  /** The skeletons of the spellings a link was found in (`TOO_MANY_SPELLINGS` last when it had more than were kept). */
  spellingsOf(link: string): readonly string[] {
    return this.written.get(link) ?? [];
  }

  /** A URL found in text, and the same without trailing sentence punctuation when it has some. */
  private addFound(raw: string): void {
    this.add(raw);
    let trimmed = raw;
    for (let i = 0; i < 8 && trailingPunctuation.test(trimmed); i++) trimmed = trimmed.slice(0, -1);
    if (trimmed !== raw && trimmed.length > 8) this.add(trimmed);
  }

  /**
   * Absolute URLs in running text. `streaming`: the text may go on in the next chunk, so a URL that
   * touches the end is carried over (bounded) rather than cut.
   */
  private scanText(text: string, streaming: boolean): void {
    if (streaming && this.skipping) {
      const end = text.search(urlEnd);
      if (end < 0) return; // still inside it
      this.skipping = false;
      text = text.slice(end);
    }
    const s = streaming ? this.carry + text : text;
    if (streaming) this.carry = '';
    urlInText.lastIndex = 0;
    let m: RegExpExecArray | null;
    let carryFrom = streaming ? Math.max(0, s.length - CARRY) : s.length;
    while ((m = urlInText.exec(s)) !== null) {
      if (streaming && m.index + m[0].length === s.length) {
        carryFrom = m.index;
        break;
      }
      this.addFound(m[0]);
    }
    if (streaming) {
      const tail = s.slice(carryFrom);
      // A URL longer than any kept one is not carried: it would be dropped anyway, and so is its
      // rest in the next chunk (a URL written inside it is part of it, as when read whole).
      this.carry = tail.length <= this.limits.urlChars + CARRY ? tail : '';
      if (!this.carry && carryFrom < s.length && /^https?:\/\//i.test(tail)) this.skipping = true;
    }
  }

  /** The text run ended (end of body, or a tag): a URL carried over ends here. */
  private endText(): void {
    this.skipping = false;
    if (!this.carry) return;
    const rest = this.carry;
    this.carry = '';
    this.scanText(rest, false);
  }

  private onTag(name: string, attribs: Record<string, string>): void {
    this.endText();
    if (name === 'base' && !this.baseSet && attribs.href !== undefined) {
      this.baseSet = true;
      try {
        this.base = new URL(attribs.href, this.base);
        for (const k of this.spellingsMet) if (!k.startsWith('\u0000')) this.spellingsMet.delete(k); // relative ones resolve anew
        this.baseWritten = writtenSkeleton(attribs.href);
      } catch {
        /* an unusable base: links stay relative to the page */
      }
    }
    for (const [attr, value] of Object.entries(attribs)) {
      if (!value) continue;
      if (attr === 'srcset' || attr === 'imagesrcset') {
        for (const candidate of value.split(',')) {
          const u = candidate.trim().split(/\s/, 1)[0];
          if (u) this.add(u, this.base);
        }
      } else if (urlAttributes.has(attr) && !(name === 'meta' && attr === 'content' && !/^https?:/i.test(value.trim()))) {
        this.add(value.trim(), this.base);
      }
      if (value.length > 8) this.scanText(value, false);
    }
  }
}

// ─── Links the agent wrote itself ─────────────────────────────────────────────────────────────
//
// A response may echo what the request carried: a search API repeats the query, a page shows its
// own URL, an API returns the headers or body it was sent. A URL the agent put into its own
// request and got back is no link a source served: following it would let the agent write data
// into a URL after all. So a response's links are compared with the request that fetched it, by
// their "skeleton": letters and digits only, lower-case, percent-escapes undone (three layers),
// hosts in Unicode. A link is not recorded when the skeleton of any part of the request contains
//   - the link's own skeleton (without its scheme), or
//   - the skeleton of a spelling the answer wrote it in: normalization rewrites letters and digits
//     (a default port dropped, dot-segments resolved, an IPv4 address in decimal, hex or octal
//     made dotted, IPv6 zeros compressed, host letters IDNA maps to others, ẞ → ss), so an echo
//     written as the agent spelled it no longer looks like its normalized form.
// The request's parts are read as the answer's format would decode them when a server places them
// in it unescaped (HTML entities, JSON escapes, punycode labels shown in Unicode), and every
// absolute URL in them is also taken normalized (a server that canonicalizes what it echoes).
// Transformations a server could apply on the way back (case, escapes, HTML entities and JSON
// escapes — those the scanner undoes —, punctuation, punycode) cannot make the echo look like
// another link.

/** Undoes %XX escapes (as UTF-8; invalid sequences become U+FFFD), up to `layers` times. */
function percentDecoded(s: string, layers = 3): string {
  // Each layer on the text's UTF-8 bytes (a lone surrogate is U+FFFD's, as String.fromCodePoint
  // gave it), read back as UTF-8 before the next: a byte array built in JavaScript cost ~0.5 s a MiB.
  for (let i = 0; i < layers && s.includes('%'); i++) {
    const b = Buffer.from(s);
    const decoded = percentDecodedBytes(b, 1);
    if (decoded === b) break;
    s = decoded.toString('utf8');
  }
  return s;
}

/**
 * Letters and digits of a text, case-folded, compatibility-normalized, after its escapes are undone.
 * Folded through upper case (lower, upper, lower) so that a server that upper-cases what it echoes
 * (`ß` → `SS`, `ᾀ` → `ἈΙ`) or lower-cases it (`ẞ` → `ß`) leaves the same letters. (A server that
 * folds accents or numerals away is met on the request's side: `requestSkeletons`.)
 */
export function skeleton(text: string): string {
  // Printable ASCII with no escape (most of what requests and links hold): NFKC and every case
  // fold leave it as it is but for its letters' case, and its letters and digits are [a-z0-9].
  if (plainAscii.test(text)) return text.toLowerCase().replace(notAsciiAlnum, '');
  return percentDecoded(text).normalize('NFKC').toLowerCase().toUpperCase().toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');
}
const plainAscii = /^[\x20-\x24\x26-\x7e]*$/;
const notAsciiAlnum = /[^a-z0-9]+/g;

/**
 * A decimal digit of any script as its ASCII digit (`٣`, `३`, `๓` → `3`), as a server that
 * normalizes numerals writes it back. Unicode encodes each script's digits 0 to 9 in one
 * contiguous run, so a digit's value is its distance from the run's start.
 */
function asciiDigit(d: string): string {
  const cp = d.codePointAt(0)!;
  let back = 0;
  while (back < 40 && /\p{Nd}/u.test(String.fromCodePoint(cp - back - 1))) back++;
  return String(back % 10);
}

/** A normalized link's skeleton without its scheme: Unicode host, port, path and query. */
export function linkSkeleton(link: string | URL): string {
  const u = typeof link === 'string' ? new URL(link) : link;
  // A host with no punycode label is its own Unicode form (the parser has lower-cased it).
  const host = u.hostname.includes('xn--') ? domainToUnicode(u.hostname) : u.hostname;
  return skeleton(`${host} ${u.port} ${u.pathname}${u.search}`);
}


/** HTML character references decoded as htmlparser2 decodes them in a page's text. */
function entitiesDecoded(s: string): string {
  const steps = entitiesDecodedSteps(s);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** Characters of a text given to the entity decoder per step. */
const ENTITY_SLICE = 64 * 1024;

/**
 * entitiesDecoded a slice at a time (the parser carries an entity cut between two slices). A `<`
 * goes in as a space, not as `&lt;`: both end a URL and neither is a letter, which is all the
 * readings of the text look at, and a MiB of `<` as `&lt;` cost ~1 s of text callbacks.
 */
function* entitiesDecodedSteps(s: string): Generator<void, string> {
  const out: string[] = [];
  const p = new Parser({ ontext: (text) => { out.push(text); } }, { decodeEntities: true });
  const text = s.replaceAll('<', ' '); // text only: no tag can start
  for (let i = 0; i < text.length; i += ENTITY_SLICE) {
    if (i) yield;
    p.write(text.slice(i, i + ENTITY_SLICE));
  }
  p.end();
  return out.join('');
}

/** Punycode labels (xn--…) in Unicode, as a page that shows hosts readably writes them. */
function punycodeShown(s: string): string {
  return s.replace(/xn--[a-z0-9-]+/gi, (label) => domainToUnicode(label) || label);
}

/**
 * An absolute http(s) URL in a request's text, as lenient as the URL parser: any run of slashes or
 * backslashes after the scheme (`http:/host`, `https:\\host` are URLs to it).
 */
const urlInRequest = /https?:[^\s"'<>`{}|^\u0000-\u001f\u007f]+/gi;
/**
 * A scheme-relative URL in a request's text (`//evil.example/x`, not the `//` after a scheme): a
 * page resolves it against its own scheme (an `href` the agent left open, a reflected `<base>`).
 */
const schemeRelativeInRequest = /(?:^|[^:/\\])([/\\]{2}[^\s"'<>`{}|^\u0000-\u001f\u007f]+)/g;
/**
 * A URL the agent wrote without a scheme (`evil.example:443/a/../x?d=…`): a server that takes it
 * for a link (a link preview, an archive's lookup, a search that autolinks) writes it back whole
 * and canonical, `https://evil.example/x?d=…`, whose letters the request does not hold in that
 * order. A run of host characters starting a name, then a port or not, then a path or query; the
 * host must hold a dot (checked where it is used). Anchored on the character before it, so each
 * run is tried once.
 */
const schemelessInRequest = /(?:^|[^\p{L}\p{N}_.:/\\[-])((?:[\p{L}\p{N}_][\p{L}\p{N}_.-]*|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?[/?][^\s"'<>`{}|^\u0000-\u001f\u007f]*)/gu;

/**
 * Whether a scheme-less run names a host as URL parsers read one: a name with a dot (not a lone
 * word such as `curl/8.5` or `application/json`), an IPv6 literal, or an IPv4 address written as
 * one number of 8 or more digits or in hex (`3405803783`, `0xcb007107`; not a year in `2024/05`).
 */
function schemelessHost(host: string): boolean {
  if (host.startsWith('[')) return host.endsWith(']');
  if (host.includes('.')) return !host.startsWith('.');
  return /^(?:\d{8,10}|0x[0-9a-f]{1,8})$/i.test(host);
}

/** JSON or form strings of a request read one by one for the echo check, at most. */
const MAX_WALKED_STRINGS = 20_000;

/** Characters of a request's texts beyond ASCII read in their folded forms for the echo check, at most. */
const MAX_FOLDED_CHARS = 128 * 1024;

/** How many absolute URLs of a request are normalized for the echo check (each costs a URL parse). */
const MAX_REQUEST_URLS = 2000;

/** %XX escapes undone on bytes, up to `layers` times (what a server that reads bytes does, before any charset). */
function percentDecodedBytes(b: Buffer, layers = 3): Buffer {
  for (let i = 0; i < layers && b.includes(0x25); i++) {
    const out = Buffer.allocUnsafe(b.length);
    let n = 0;
    let changed = false;
    const hex = (c: number): number => (c >= 0x30 && c <= 0x39 ? c - 0x30 : (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66 ? (c | 0x20) - 0x57 : -1);
    for (let j = 0; j < b.length; j++) {
      const hi = b[j] === 0x25 && j + 2 < b.length ? hex(b[j + 1]!) : -1;
      const lo = hi >= 0 ? hex(b[j + 2]!) : -1;
      if (lo >= 0) {
        out[n++] = hi * 16 + lo;
        j += 2;
        changed = true;
      } else out[n++] = b[j]!;
    }
    if (!changed) break;
    b = out.subarray(0, n);
  }
  return b;
}

/** Bytes whose reading may differ between ASCII-compatible charsets: any above ASCII, or ESC (ISO-2022 switches). */
const charsetSensitive = (b: Buffer): boolean => b.some((c) => c >= 0x80 || c === 0x1b);

/**
 * The request's bytes read in the charsets a server may read them in, beyond the UTF-8 of the
 * other views: UTF-8 for header values (kept as Latin-1 characters), Windows-1252 (servers that
 * read requests as Latin-1, such as servlet containers' old default), and the answer's own charset
 * (a server that echoes the bytes it received into a page of that charset). Without them, bytes
 * that UTF-8 reads as U+FFFD become letters in the answer (`%E9` is `é` in Latin-1), an escape
 * sequence of ISO-2022-JP hides its letter (`ESC ( B`), or a Shift_JIS lead byte swallows one
 * (`0x81 A` is `、`): the echoed link's letters were then nowhere in the request.
 * UTF-16 answers are read at both byte alignments, and from any bytes (`!\x60` is U+2160, `Ⅰ`).
 */
function* byteReadings(raw: readonly Buffer[], answerCharset: string | undefined, known: Set<string>): Generator<void, string[]> {
  const charsets = new Set(['utf-8', 'windows-1252']);
  const answerEncoding = answerCharset === undefined ? undefined : encodingNamed(answerCharset);
  if (answerEncoding) charsets.add(answerEncoding);
  const wide = [...charsets].filter((c) => c.startsWith('utf-16'));
  const out: string[] = [];
  const push = (s: string): void => {
    if (s && !known.has(s)) {
      known.add(s);
      out.push(s);
    }
  };
  for (const r of raw) {
    yield;
    const b = percentDecodedBytes(r);
    for (const c of wide) {
      push(new TextDecoder(c).decode(b));
      push(new TextDecoder(c).decode(b.subarray(1)));
    }
    if (!charsetSensitive(b)) continue;
    for (const c of charsets) if (!c.startsWith('utf-16')) push(new TextDecoder(c).decode(b));
  }
  return out;
}

/** The encoding a charset label names for TextDecoder (undefined: none it reads), remembered for the labels met (a decoder costs microseconds to make). */
function encodingNamed(label: string): string | undefined {
  let known = encodingsNamed.get(label);
  if (known === undefined) {
    try {
      known = new TextDecoder(label).encoding;
    } catch {
      known = ''; // a charset no TextDecoder reads: the answer is not read for links either
    }
    if (encodingsNamed.size >= 256) encodingsNamed.clear();
    encodingsNamed.set(label, known);
  }
  return known || undefined;
}
const encodingsNamed = new Map<string, string>();

/**
 * What a request carried, as skeletons: its path and query, every header value, its body (parsed
 * JSON strings and form fields, text, the raw bytes as UTF-8, and `decoded`: what a server reads
 * beyond them, such as multipart parts with their transfer encodings undone) — each also as HTML entities,
 * JSON escapes and punycode would be decoded, and with the absolute URLs in them normalized.
 * Undefined when the body was not seen whole or could not be decoded: then what it carried is
 * unknown, and no link of the answer may be recorded (fails closed).
 */
/**
 * What a request carried, as skeletons; `urls`: per host (with its port), the skeletons of the
 * absolute URLs to it in the request, which a link to that host must not begin with; `embedded`:
 * those of them with a path or query, which no link may contain; `hosts`: the hosts of those
 * without, which no link may name (see echoedBy). Each is looked for in every link of the answer,
 * so they are bounded (64 each); a request with more (`tooManyUrls`) gets no link recorded.
 */
export type RequestSkeletons = string[] & { urls?: ReadonlyMap<string, readonly string[]>; embedded?: readonly string[]; hosts?: readonly string[]; tooManyUrls?: boolean };

export interface RequestParts { pathAndQuery: string; headers: Iterable<[string, string]>; body?: { bytes: Buffer; truncated: boolean }; decoded?: readonly (string | Buffer)[]; answerCharset?: string; summary: { truncated: boolean; decode_error?: string; json?: unknown; form?: Record<string, string[]>; text?: string; text_truncated?: boolean; charset?: string } }

export function requestSkeletons(parts: RequestParts): RequestSkeletons | undefined {
  const steps = requestSkeletonSteps(parts);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * requestSkeletons in steps, on the proxy's event loop: each step costs at most a pass over one
 * text of the request (a few tens of ms for a MiB), so the caller can hand the loop back between
 * steps and stop past a budget. Reading a MiB body in every view took the loop up to ~2 s in one go.
 */
export function* requestSkeletonSteps(parts: RequestParts): Generator<void, RequestSkeletons | undefined> {
  const { summary } = parts;
  if (summary.truncated || parts.body?.truncated || summary.decode_error !== undefined) return undefined;
  const texts: string[] = [parts.pathAndQuery];
  /** The same parts as the bytes the server receives, for the readings other than UTF-8 (`byteReadings`). */
  const raw: Buffer[] = [Buffer.from(parts.pathAndQuery)];
  let coded = false;
  // Every header the upstream receives but Host (the destination itself, already decided on).
  // Header values hold their bytes as Latin-1 characters (as Node reads them).
  for (const [name, value] of parts.headers) {
    const n = name.toLowerCase();
    if (n === 'content-encoding' && value.trim().toLowerCase() !== 'identity') coded = true;
    if (n !== 'host') {
      texts.push(`${name} ${value}`);
      raw.push(Buffer.from(`${name} ${value}`, 'latin1'));
      // Basic credentials (RFC 7617) are base64 the server undoes: a page that greets its user shows them.
      const basic = /^\s*basic\s+([A-Za-z0-9+/_-]+=*)\s*$/i.exec(value);
      if (basic) {
        const credentials = Buffer.from(basic[1]!, 'base64');
        texts.push(credentials.toString('utf8'));
        raw.push(credentials);
      }
    }
  }
  // The raw bytes are the text only when uncompressed UTF-8. Otherwise what was parsed must be the
  // whole body: a text shown only in part, or a body nothing was read from, is unknown.
  const rawIsText = !coded && (summary.charset === undefined || /^utf-?8$/i.test(summary.charset));
  const parsedWhole = summary.json !== undefined || summary.form !== undefined || (summary.text !== undefined && !summary.text_truncated);
  if (!rawIsText && parts.body?.bytes.length && !parsedWhole) return undefined;
  // Each string costs a skeleton and a URL search, on the proxy's event loop: a body of more is read
  // from its text alone (below), which holds every string's letters in order.
  let walkCut = false;
  const walk = (v: unknown, depth: number): void => {
    if (depth > 64 || texts.length > MAX_WALKED_STRINGS) {
      walkCut = true;
      return;
    }
    if (typeof v === 'string') { texts.push(v); if (v.includes('%')) raw.push(Buffer.from(v)); }
    else if (Array.isArray(v)) for (const x of v) walk(x, depth + 1);
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) { texts.push(k); walk(x, depth + 1); }
  };
  if (summary.json !== undefined) walk(summary.json, 0);
  if (summary.form) walk(summary.form, 0);
  yield;
  if (summary.text) texts.push(summary.text);
  if (parts.body?.bytes.length) {
    texts.push(parts.body.bytes.toString('utf8'));
    if (!coded) raw.push(parts.body.bytes);
  }
  for (const d of parts.decoded ?? []) {
    if (typeof d === 'string') texts.push(d);
    else {
      texts.push(d.toString('utf8'));
      raw.push(d);
    }
  }
  // Strings left unwalked are unknown unless the body's own text (raw, or decoded) was read.
  if (walkCut && !(rawIsText && parts.body?.bytes.length) && !parts.decoded?.length) return undefined;
  yield;
  texts.push(...yield* byteReadings(raw, parts.answerCharset, new Set(texts)));
  const out: RequestSkeletons = [];
  const carried = new Map<string, string[]>();
  const embedded = new Set<string>();
  const hosts = new Set<string>();
  let tooManyUrls = false;
  let urls = 0;
  const unicodeViews: string[] = [];
  for (const text of texts) {
    const plain = percentDecoded(text);
    const views = [plain];
    if (plain.includes('&')) views.push(yield* entitiesDecodedSteps(plain));
    if (plain.includes('\\')) views.push(jsonUnescaped(plain));
    if (/xn--/i.test(plain)) views.push(punycodeShown(plain));
    for (const view of views) {
      yield;
      const k = skeleton(view);
      if (k) out.push(k);
      if (k && /[^\x00-\x7f]/.test(view)) unicodeViews.push(view); // read folded too, below
      urlInRequest.lastIndex = 0;
      let m: RegExpExecArray | null;
      const found: string[] = [];
      while (urls < MAX_REQUEST_URLS && (m = urlInRequest.exec(view)) !== null) {
        urls++;
        found.push(m[0]);
      }
      // Both searches below need a slash, backslash or question mark: most header values have none.
      const pathLike = /[/\\?]/.test(view);
      schemeRelativeInRequest.lastIndex = 0;
      while (pathLike && urls < MAX_REQUEST_URLS && (m = schemeRelativeInRequest.exec(view)) !== null) {
        // A host with a dot: `a//b` in a path, a `//comment` are no URLs.
        if (!/^[/\\]{2}[^/\\?#]*\./.test(m[1]!)) continue;
        urls++;
        found.push(`https:${m[1]!}`);
      }
      schemelessInRequest.lastIndex = 0;
      while (pathLike && urls < MAX_REQUEST_URLS && (m = schemelessInRequest.exec(view)) !== null) {
        const host = m[1]!.startsWith('[') ? m[1]!.slice(0, m[1]!.indexOf(']') + 1) : /^[^:/?]*/.exec(m[1]!)![0];
        if (!schemelessHost(host)) continue;
        urls++;
        // As a server writes it back: under either scheme (a default port dropped by the one it names).
        found.push(`https://${m[1]!}`, `http://${m[1]!}`);
      }
      for (let url of found) {
        yield;
        // As the scanner takes a URL in text: whole, and without the punctuation that may close a sentence.
        for (let i = 0; i <= 8; i++) {
          const link = normalizeLink(url);
          if (link) {
            const k = linkSkeleton(link);
            out.push(k);
            const host = new URL(link).host;
            const list = carried.get(host) ?? [];
            if (k && !list.includes(k)) {
              if (list.length < 64) carried.set(host, [...list, k]);
              else tooManyUrls = true;
            }
            const e = pageSkeleton(link);
            if (e) {
              if (embedded.size < 64) embedded.add(e);
              else if (!embedded.has(e)) tooManyUrls = true;
            } else {
              const h = new URL(link).hostname;
              for (const name of [h, domainToUnicode(h) || h]) {
                if (hosts.size < 64) hosts.add(name);
                else if (!hosts.has(name)) tooManyUrls = true;
              }
            }
          }
          if (!trailingPunctuation.test(url)) break;
          url = url.slice(0, -1);
        }
      }
    }
  }
  // Texts with letters or digits beyond ASCII, read as a server may have folded them before echoing
  // (search engines fold queries): accents dropped (`é` → `e`, and `ῳ` → `ω`, whose mark would
  // case-fold to a letter), numerals of any script as ASCII digits (`٣` → `3`), and what is not
  // ASCII dropped, decomposed first or not, as a server that "slugifies" does (`encode('ascii',
  // 'ignore')`: `SEC中RET`, `SECéRET` → `SECRET`). Each reading is taken of all of them at once (a
  // link matching within one text matches within the whole; matching across two is only more
  // cautious). They cost a few passes over the text, on the event loop: past a bound (far beyond a
  // search query) the answer records no link at all (fails closed), as past the URL bounds.
  const unicodeChars = unicodeViews.reduce((n, v) => n + v.length, 0);
  if (unicodeChars > MAX_FOLDED_CHARS) tooManyUrls = true;
  else if (unicodeViews.length) {
    yield;
    const all = percentDecoded(unicodeViews.join('\n'));
    const decomposed = all.normalize('NFKD');
    const ascii = (t: string): string => t.replace(/[^\x00-\x7f]+/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '');
    const digits = (k: string): string => k.replace(/(?![0-9])\p{Nd}/gu, asciiDigit);
    out.push(digits(skeleton(decomposed.replace(/\p{M}/gu, ''))), digits(skeleton(all)), ascii(decomposed), ascii(all));
  }
  const result: RequestSkeletons = out.filter(Boolean);
  result.urls = carried;
  result.embedded = [...embedded];
  result.hosts = [...hosts];
  if (tooManyUrls || urls >= MAX_REQUEST_URLS) result.tooManyUrls = true;
  return result;
}

/**
 * The skeleton of the URL a request fetched, or '' when its path and query say nothing (a bare
 * root). A link of the answer that contains it was built from the page's own URL — a share,
 * archive, translate or sign-in button on another host — and the agent chose that URL.
 */
export function pageSkeleton(url: string): string {
  try {
    const u = new URL(url);
    return skeleton(`${u.pathname}${u.search}`) ? linkSkeleton(u) : '';
  } catch {
    return '';
  }
}

/**
 * Whether `text` names one of the request's bare hosts, as namesHost does for each, in one pass
 * over the text: a host so named ends a run of name characters and dots and starts that run or
 * follows one of its dots, so each such end of each run is looked up in a set. (A host of other
 * characters, an IPv6 literal, is searched for as before.) Searching the text for each of 64 hosts
 * cost 64 searches of up to 2 KiB per link, a thousand links per answer.
 */
function namesAnyHost(text: string, request: RequestSkeletons): boolean {
  let hosts = hostSets.get(request);
  if (!hosts) {
    const plain = new Set<string>();
    const other: string[] = [];
    for (const h of request.hosts ?? []) (hostName.test(h) ? plain.add(h) : other.push(h));
    hostSets.set(request, (hosts = { plain, other }));
  }
  for (const h of hosts.other) if (namesHost(text, h)) return true;
  if (!hosts.plain.size) return false;
  // Astral characters end a run: namesHost reads text by UTF-16 code units, whose surrogates are no letters.
  for (const run of text.split(/[^\p{L}\p{N}_.-]|[\u{10000}-\u{10FFFF}]/u)) {
    if (!run) continue;
    if (hosts.plain.has(run)) return true;
    for (let i = run.indexOf('.'); i >= 0; i = run.indexOf('.', i + 1)) if (hosts.plain.has(run.slice(i + 1))) return true;
  }
  return false;
}

/** A host of BMP letters, digits, `_`, `-` and dots only: the runs namesAnyHost reads can hold it. */
const hostName = /^[\p{L}\p{N}_.-]+$/u;
const hostSets = new WeakMap<RequestSkeletons, { plain: Set<string>; other: string[] }>();

/** Whether `text` names `host`: as a whole host name or its end (`www.<host>`), not inside a longer label or name. */
function namesHost(text: string, host: string): boolean {
  const inName = (c: string | undefined): boolean => c !== undefined && /[\p{L}\p{N}_-]/u.test(c);
  for (let i = text.indexOf(host); i >= 0; i = text.indexOf(host, i + 1)) {
    const after = text[i + host.length];
    if (!inName(text[i - 1]) && !inName(after) && after !== '.') return true;
  }
  return false;
}

/**
 * Whether a link was carried by the request (see requestSkeletons): an echo, not a served link.
 * `spellings`: the skeletons of how the answer wrote it (LinkScanner.spellingsOf); `page`: the
 * request's own URL (pageSkeleton), which a link must not embed; nor may a link begin with an
 * absolute URL the request carried to the same host (`request.urls`): an echo runs on into the
 * answer's own text when nothing ends it there — a pagination link `/s?q=<the URL>&page=2` read
 * as text, a JSON `next` value, an attribute left open — so the link found is the agent's URL and
 * more. Nor may a link embed an absolute URL with a path or query the request carried (as the
 * page's own): a share, archive or translate link carrying it, a host the answer prefixed
 * (`www.`); nor name the host of one without (its data is in the host: `https://<data>.evil/`).
 * (A `<base href>` the page reflected is a spelling of the links resolved against it.)
 */
export function echoedBy(link: string, request: RequestSkeletons, spellings: readonly string[] = [], page = ''): boolean {
  let own: string;
  try {
    own = linkSkeleton(link);
  } catch {
    return true;
  }
  // A link of no letters or digits (a host of symbols, `https://、/`): nothing tells it from an echo.
  // Nor does anything when the request carried more URLs than are compared (fails closed).
  if (!own || request.tooManyUrls) return true;
  for (const u of request.urls?.get(new URL(link).host) ?? []) if (own.startsWith(u)) return true;
  if (request.hosts?.length && namesAnyHost((link.includes('%') ? percentDecoded(link) : link).toLowerCase(), request)) return true;
  const carried = carriedTextOf(request);
  for (const k of [own, ...spellings]) {
    if (k === TOO_MANY_SPELLINGS) return true;
    if (!k) continue;
    if (page && k.includes(page)) return true;
    if (carried.includes(k)) return true;
    for (const e of request.embedded ?? []) if (k.includes(e)) return true;
  }
  return false;
}

/**
 * The skeletons a request carried as one text, with a filter of its 8-letter pieces: whether it
 * contains a link's skeleton is then answered in the link's length for nearly every link (one of
 * its pieces is nowhere in the request), where a search of every skeleton cost the request's
 * length per link. A request of 100,000 JSON strings answered by 1,000 links held the proxy's
 * event loop for seconds; the search is now made only for the rare link whose every piece the
 * request holds.
 */
class CarriedText {
  private readonly text: string;
  private readonly seen: Uint32Array;
  /** The filter's size in bits, less one (a power of two): 16 bits per piece, so at most 1 in 16 is set. */
  private readonly mask: number;

  constructor(skeletons: readonly string[]) {
    this.text = skeletons.join(' '); // a skeleton holds letters and digits only: no piece spans two
    const t = this.text;
    // Sized to the text: a filter of the largest size for every answer with a link (most requests
    // carry a few hundred letters) cost a zeroed MiB per response, ~50 µs and the proxy's RSS.
    let bits = MIN_FILTER_BITS;
    while (bits < GRAM_FILTER_BITS && bits < t.length * 16) bits *= 2;
    this.seen = new Uint32Array(bits / 32);
    this.mask = bits - 1;
    for (let i = 0; i + GRAM <= t.length; i++) this.mark(gramHash(t, i) & this.mask);
  }

  includes(k: string): boolean {
    if (k.length >= GRAM) {
      for (let i = 0; i + GRAM <= k.length; i++) if (!this.marked(gramHash(k, i) & this.mask)) return false;
    }
    return this.text.includes(k);
  }

  private mark(h: number): void {
    const w = h >>> 5;
    this.seen[w] = this.seen[w]! | (1 << (h & 31));
  }

  private marked(h: number): boolean {
    return (this.seen[h >>> 5]! & (1 << (h & 31))) !== 0;
  }
}

const GRAM = 8;
/** At most 2^23 bits (1 MiB): a request of 4 million letters sets at most half; a link of 40 letters passes by chance once in 10^10. */
const GRAM_FILTER_BITS = 1 << 23;
/** At least 2^12 bits (512 bytes). */
const MIN_FILTER_BITS = 1 << 12;

/** FNV-1a of the 8 code units at `i`, cut to the filter's size. */
function gramHash(s: string, i: number): number {
  let h = 0x811c9dc5;
  for (let j = i; j < i + GRAM; j++) h = Math.imul(h ^ s.charCodeAt(j), 0x01000193);
  return (h >>> 0) & (GRAM_FILTER_BITS - 1);
}

const carriedTexts = new WeakMap<RequestSkeletons, CarriedText>();

function carriedTextOf(request: RequestSkeletons): CarriedText {
  let c = carriedTexts.get(request);
  if (!c) carriedTexts.set(request, (c = new CarriedText(request)));
  return c;
}

/** Request values this long count wherever they are in a redirect's target; shorter ones between word boundaries. */
const CARRIED_VALUE_MIN_INSIDE = 6;
/** A body link's query value equal to a request value counts from this length (`?page=1`, `hl=en` are everywhere). */
const CARRIED_VALUE_MIN_BODY = 3;
/**
 * Request values compared with a redirect's target, at most (each is searched for in it; a request
 * carrying more has its redirects to other hosts unrecorded). A body link's query values are looked
 * up in the set, so there every value of the captured request counts (a JSON body of 100,000
 * strings answered by a page of links keeps its links).
 */
const CARRIED_VALUES_MAX = 512;
const CARRIED_VALUES_LOOKED_UP_MAX = 1 << 20;

/** The host without a leading `www.`: a link between the two names of one site is no other host. */
const siteName = (host: string): string => host.replace(/^www\./, '');

const wordChar = /[\p{L}\p{N}_]/u;

/** Whether `v` occurs in `text` with no letter, digit or `_` right before or after it. */
function occursAsWord(text: string, v: string): boolean {
  for (let at = text.indexOf(v); at !== -1; at = text.indexOf(v, at + 1)) {
    if ((at === 0 || !wordChar.test(text[at - 1]!)) && (at + v.length === text.length || !wordChar.test(text[at + v.length]!))) return true;
  }
  return false;
}

/**
 * The values a request sent, as a server reads them into what it builds: its query parameters'
 * and form fields' values and its JSON body's strings to four levels down (`values`), and the parameters' names
 * (`names`), decoded and case-folded. `tooMany`: more than are compared (fails closed).
 */
export interface RequestValues {
  host: string;
  values: Set<string>;
  names: Set<string>;
  tooMany: boolean;
}

export function requestValues(request: { host: string; query?: Record<string, string[]> | undefined; form?: Record<string, string[]> | undefined; json?: unknown }, lookedUp = false): RequestValues {
  const out: RequestValues = { host: siteName((request.host ?? '').toLowerCase()), values: new Set(), names: new Set(), tooMany: false };
  const max = lookedUp ? CARRIED_VALUES_LOOKED_UP_MAX : CARRIED_VALUES_MAX;
  const add = (s: string, to: Set<string>): void => {
    if (out.values.size + out.names.size >= max) {
      out.tooMany = true;
      return;
    }
    const v = s.trim().toLowerCase();
    if (v) to.add(v);
  };
  for (const fields of [request.query ?? {}, request.form ?? {}]) {
    for (const [k, vs] of Object.entries(fields)) {
      add(k, out.names);
      for (const v of vs) add(v, out.values);
    }
  }
  // JSON strings to four levels down (a JSON-RPC call's `params`, GraphQL `variables`), bounded.
  const walk = (x: unknown, depth: number): void => {
    if (out.tooMany) return;
    if (typeof x === 'string') add(x, out.values);
    else if (depth < 4 && x && typeof x === 'object') for (const v of Object.values(x as Record<string, unknown>)) walk(v, depth + 1);
  };
  walk(request.json, 0);
  return out;
}

/** The link as a URL when it leads to another host than the request's and the request sent values; else undefined. */
function elsewhere(link: string, sent: RequestValues): URL | undefined | true {
  if (!sent.values.size && !sent.names.size) return undefined;
  let target: URL;
  try {
    target = new URL(link);
  } catch {
    return true;
  }
  if (siteName(target.hostname.toLowerCase()) === sent.host) return undefined;
  return sent.tooMany ? true : target;
}

/**
 * Whether a redirect's target, on another host than the request's, carries a value the request
 * sent (`requestValues`), found in the target's host, decoded path and query as a word of its own
 * (`state=<v>`, `/cb/<v>`, `ctx=v1.<v>.sig`, `<v>.saas.example`), or anywhere when 6 characters or more; a parameter's
 * name, as a word. A server that builds its redirect from a stored target and a request field
 * (OAuth's authorize endpoint sends its errors to the redirect URI the client registered, with the
 * request's `state`: `/authorize?client_id=<attacker's app>&state=<data>` answers
 * `Location: https://attacker.example/cb?error=…&state=<data>`) serves a link with the agent's data
 * in it, whose whole the request never carried, so `echoedBy` does not see it.
 */
export function redirectCarriesRequestValue(link: string, sent: RequestValues): boolean {
  const target = elsewhere(link, sent);
  if (target === undefined || target === true) return target === true;
  let path = target.pathname;
  try {
    path = decodeURIComponent(path);
  } catch {
    // an escape that is not UTF-8: compared as written
  }
  // Its host too: a router that sends `?tenant=<data>` to `https://<data>.saas.example/`.
  let host = target.hostname;
  try {
    host = domainToUnicode(host) || host;
  } catch {
    // kept as punycode
  }
  const whole = `${host}/${path}?${[...target.searchParams].map(([k, v]) => `${k}=${v}`).join('&')}`.toLowerCase();
  for (const v of sent.values) if (v.length >= CARRIED_VALUE_MIN_INSIDE ? whole.includes(v) : occursAsWord(whole, v)) return true;
  for (const k of sent.names) if (occursAsWord(whole, k)) return true;
  return false;
}

/**
 * Whether a link in an answer's body, to another host than the request's, has a query value equal
 * to a value the request sent (3 characters or more): the page built it from the request (an OAuth
 * error page's "back to the application" link with the request's `state`, a "search elsewhere"
 * link with the query). Path segments are not compared there: a search for `requests` rightly
 * serves `https://pypi.org/project/requests/`.
 */
export function bodyLinkCarriesRequestValue(link: string, sent: RequestValues): boolean {
  const target = elsewhere(link, sent);
  if (target === undefined || target === true) return target === true;
  for (const [, v] of target.searchParams) {
    const x = v.trim().toLowerCase();
    if (x.length >= CARRIED_VALUE_MIN_BODY && sent.values.has(x)) return true;
  }
  return false;
}
