// What the scrubber cannot see through, refused instead of passed on. The scrubber matches a
// secret's spellings in UTF-8 (and ASCII-compatible) text and in UTF-16/32 text; it cannot match
// a secret cut into pieces (a Range answer: 206, multipart/byteranges) or written in a charset
// whose bytes for ASCII are different (UTF-7, EBCDIC, the stateful ISO-2022 family) — and
// declared UTF-16/32 is refused as well, as the charset negotiation Airlock neutralizes should
// never produce it. Each check names what it refused; the caller turns that into a 502 (head) or
// a broken stream (body, once the head is out).

export class UnscrubbableEncodingError extends Error {}

/** Stateless ASCII-compatible charsets (WHATWG names): an ASCII secret is the same bytes in them. */
const asciiTransparent = new Set([
  'ibm866', 'iso-8859-2', 'iso-8859-3', 'iso-8859-4', 'iso-8859-5', 'iso-8859-6', 'iso-8859-7', 'iso-8859-8', 'iso-8859-8-i',
  'iso-8859-10', 'iso-8859-13', 'iso-8859-14', 'iso-8859-15', 'iso-8859-16', 'koi8-r', 'koi8-u', 'macintosh', 'windows-874',
  'windows-1250', 'windows-1251', 'windows-1252', 'windows-1253', 'windows-1254', 'windows-1255', 'windows-1256',
  'windows-1257', 'windows-1258', 'x-mac-cyrillic', 'x-user-defined', 'gbk', 'gb18030', 'big5', 'euc-jp', 'euc-kr', 'shift_jis',
]);

/**
 * Why text in `label` cannot be scrubbed, or undefined when it can. `asciiOnly`: every secret is
 * ASCII. The reason names the label only by its canonical name: a label is read from the body
 * before it is scrubbed (a <meta> whose og:url holds the request URL, `?charset=&key=…`), and the
 * reason reaches the agent in the 502 problem.
 */
export function charsetProblem(label: string, asciiOnly: boolean): string | undefined {
  const name = label.trim().replace(/^["']|["']$/g, '');
  let canonical: string;
  try {
    canonical = new TextDecoder(name).encoding;
  } catch {
    return 'an unknown charset label';
  }
  if (canonical === 'utf-8') return undefined;
  if (asciiOnly && asciiTransparent.has(canonical)) return undefined;
  return `charset ${canonical}, which spells the secret in bytes the scrubber does not match`;
}

/** Charsets of MIME encoded-words (`=?cs?B?…?=`) in a header value. */
const encodedWord = /=\?([^?\s]{1,40})\?[BbQq]\?/g;

/** Charsets of RFC 8187/2231 ext-values (`filename*=cs''…`) in a header value: a scan, not a pattern (one would backtrack on `*=*=*=…`). */
function extValueCharsets(value: string): string[] {
  const out: string[] = [];
  let quote = 0;
  for (let star = value.indexOf('*'); star >= 0; star = value.indexOf('*', star + 1)) {
    let i = star + 1;
    while (value[i] === ' ' || value[i] === '\t') i++;
    if (value[i] !== '=') continue;
    i++;
    while (value[i] === ' ' || value[i] === '\t') i++;
    if (value[i] === '"') i++;
    // The next quote is looked for once per stretch: no quote left, no ext-value left.
    if (quote < i) quote = value.indexOf("'", i);
    if (quote < 0) break;
    if (quote === i || quote - i > 40) continue;
    const label = value.slice(i, quote);
    if (!/[\s;,"*=]/.test(label)) out.push(label);
  }
  return out;
}

/**
 * Refuses a head whose header values declare text in a charset the scrubber cannot read: a client
 * (a browser's download name, Python's email and werkzeug) decodes `filename*=utf-16le''%73%00…`
 * or `=?utf-7?Q?…?=`, whose bytes no spelling of the secret matches.
 */
export function checkHeaderCharsets(headers: Array<[string, string]>, asciiOnly: boolean): void {
  for (const [, value] of headers) {
    if (!value.includes("'") && !value.includes('=?')) continue;
    for (const label of [...[...value.matchAll(encodedWord)].map((m) => m[1]!), ...extValueCharsets(value)]) {
      const problem = charsetProblem(label, asciiOnly);
      if (problem) throw new UnscrubbableEncodingError(`cannot scrub this response: a header declares text in ${problem}`);
    }
  }
}

/** Blanks and quotes cut from both ends (requests' `strip("\"' ")`), without a backtracking pattern. */
function trimQuotes(text: string): string {
  const cut = (c: string | undefined): boolean => c === '"' || c === "'" || (c !== undefined && c.trim() === '');
  let a = 0;
  let b = text.length;
  while (a < b && cut(text[a])) a++;
  while (b > a && cut(text[b - 1])) b--;
  return text.slice(a, b);
}

/**
 * Every charset a client may read from a Content-Type value's parameters. Clients disagree on
 * which one counts: browsers, aiohttp and Python's email package take the first `charset`,
 * requests the last (and strips quotes from the name: `"charset"=`); Python's email package (so
 * urllib's `get_content_charset()` and httpx) also reads RFC 2231 `charset*=utf-8''utf-7` and
 * continuations `charset*0=…; charset*1=…`, and a `charset=` with no media type before it. So
 * every `charset` and `charset*…` parameter counts, its RFC 2231 `cs'lang'` prefix and %XX escapes
 * undone; a continuation's piece alone is an unknown label, refused.
 */
export function charsetParams(contentType: string): string[] {
  const out: string[] = [];
  // The media type's own segment too: Python's email package reads `Content-Type: charset=utf-7`.
  for (const part of contentType.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = trimQuotes(part.slice(0, eq)).toLowerCase();
    if (name !== 'charset' && !name.startsWith('charset*')) continue;
    let value = part.slice(eq + 1).trim();
    if (name !== 'charset') {
      value = value.replace(/^"|"$/g, '');
      const quote = value.indexOf("'");
      const second = quote < 0 ? -1 : value.indexOf("'", quote + 1);
      if (second >= 0) value = value.slice(second + 1);
      value = value.replace(/%([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    }
    out.push(value);
  }
  return out;
}

const mediaTypeOf = (contentType: string): string => contentType.split(';')[0]!.trim().toLowerCase();
const textual = /^(text\/|application\/(json|xml|javascript|ecmascript|x-www-form-urlencoded|x-ndjson|graphql|sql)|.*\+(json|xml)$)/;
const markup = /^(text\/html|application\/xhtml\+xml|text\/xml|application\/xml|image\/svg\+xml|.*\+xml$)/;

interface Head {
  statusCode: number;
  headers: Array<[string, string]>;
}

/**
 * Refuses (throws) a response head whose body cannot be scrubbed: partial content, or a declared
 * charset the scrubber cannot read. Returns how its body must be sniffed before scrubbing.
 */
export function checkScrubbable(head: Head, asciiOnly: boolean): BodySniffer {
  const types = head.headers.filter(([n]) => n.toLowerCase() === 'content-type').map(([, v]) => v);
  if (head.statusCode === 206) throw new UnscrubbableEncodingError('a partial response (206) cannot be scrubbed: a secret may be cut across ranges');
  if (head.headers.some(([n]) => n.toLowerCase() === 'content-range') && head.statusCode !== 416) {
    throw new UnscrubbableEncodingError('a response with Content-Range cannot be scrubbed: a secret may be cut across ranges');
  }
  const labels: string[] = [];
  for (const t of types) {
    if (mediaTypeOf(t) === 'multipart/byteranges') throw new UnscrubbableEncodingError('a multipart/byteranges response cannot be scrubbed: a secret may be cut across ranges');
    for (const cs of charsetParams(t)) {
      const problem = charsetProblem(cs, asciiOnly);
      if (problem) throw new UnscrubbableEncodingError(`cannot scrub this response: its Content-Type declares ${problem}`);
      labels.push(cs);
    }
  }
  const type = types.length ? mediaTypeOf(types[0]!) : '';
  // A multipart or message body carries parts with charsets of their own, which a MIME reader decodes.
  if (/^(multipart|message)\//.test(type)) return new BodySniffer(4, false, asciiOnly, false, true).declaring(labels);
  if (!markup.test(type) && type) return new BodySniffer(4, textual.test(type), asciiOnly, false).declaring(labels);
  // HTML parsers look for <meta charset> further than the 1,024 bytes of the HTML standard's
  // prescan: Beautiful Soup up to 2,048 bytes or 5% of the document, libxml2 (lxml) wherever it
  // meets one in the head, switching to it from there. Held back until that far; past it, a
  // declaration met later cuts the body before the text it would govern.
  const length = Number(head.headers.find(([n]) => n.toLowerCase() === 'content-length')?.[1]);
  const window = Math.min(MARKUP_WINDOW_MAX, Math.max(MARKUP_WINDOW, Number.isFinite(length) ? Math.ceil(length * 0.05) : 0));
  return new BodySniffer(window, markup.test(type), asciiOnly, true).declaring(labels);
}

/** Bytes of markup held back while looking for an in-document charset declaration. */
const MARKUP_WINDOW = 2048;
const MARKUP_WINDOW_MAX = 64 * 1024;
/** Text kept between chunks so a <meta …> tag cut by a chunk boundary is still read whole. */
const META_CARRY = 512;

/** Byte-order marks and signatures of encodings the scrubber cannot read, at the start of a body. */
const signatures: Array<[number[], string]> = [
  [[0x00, 0x00, 0xfe, 0xff], 'a UTF-32BE byte-order mark'],
  [[0xff, 0xfe, 0x00, 0x00], 'a UTF-32LE byte-order mark'],
  [[0xfe, 0xff], 'a UTF-16BE byte-order mark'],
  [[0xff, 0xfe], 'a UTF-16LE byte-order mark'],
  [[0x2b, 0x2f, 0x76], 'a UTF-7 byte-order mark'],
  [[0xdd, 0x73, 0x66, 0x73], 'a UTF-EBCDIC byte-order mark'],
  [[0x0e, 0xfe, 0xff], 'an SCSU signature'],
  [[0xfb, 0xee, 0x28], 'a BOCU-1 signature'],
  [[0x4c, 0x6f, 0xa7, 0x94], 'an EBCDIC XML declaration'],
];

/**
 * Looks at the first bytes of a (decoded) body before any of it is scrubbed and passed on: an
 * encoding signature the scrubber cannot read, UTF-16/32 text in a textual type, or an in-document
 * charset declaration (XML declaration, HTML meta) it cannot read is refused.
 */
export class BodySniffer {
  private buffered: Buffer[] = [];
  private size = 0;
  /** Markup past the window: the end of the text seen so far, for a tag cut across chunks. */
  private carry = '';
  /** The header lines of a multipart or message body, read as the body streams. */
  private readonly mime: MimeHeaderLines;
  done = false;
  /**
   * The charsets other than UTF-8 the text is declared in (the Content-Type's, the document's own
   * once read): canonical names, each read by proxy/decoded-reading.ts. Grows when decided.
   */
  readonly legacy = new Set<string>();

  constructor(private readonly window: number, private readonly textualType: boolean, private readonly asciiOnly: boolean, private readonly markupScan = false, private readonly partScan = false) {
    this.mime = new MimeHeaderLines(asciiOnly);
  }

  /** Adds declared labels (accepted already) to `legacy` when they name a charset other than UTF-8. */
  declaring(labels: string[]): this {
    for (const label of labels) {
      try {
        const name = new TextDecoder(label.trim().replace(/^["']|["']$/g, '')).encoding;
        if (name !== 'utf-8') this.legacy.add(name);
      } catch { /* refused when the head was checked */ }
    }
    return this;
  }

  /** Bytes that may go on to the scrubber now (undefined while still looking). Throws when refused. */
  feed(chunk: Buffer): Buffer | undefined {
    if (this.partScan) this.partDeclaration(chunk.toString('latin1'));
    if (this.done) {
      if (this.markupScan) this.lateDeclaration(chunk.toString('latin1'));
      return chunk;
    }
    this.buffered.push(chunk);
    this.size += chunk.length;
    if (this.size < this.window || this.unfinishedDeclaration()) return undefined;
    return this.decide();
  }

  /**
   * An XML declaration begun but not yet closed at the start of the body (its `encoding` may be
   * in the next chunk: an upstream that flushes `<?xml version="1.0" ` alone): held until its `>`
   * or 1,024 bytes (after a BOM or blanks, which lenient readers such as Beautiful Soup skip). Only
   * bodies that start with `<?` wait.
   */
  private unfinishedDeclaration(): boolean {
    if (this.size >= 1024) return false;
    const start = (this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered)).toString('latin1').replace(/^\xef\xbb\xbf/, '').trimStart();
    if (!'<?xml'.startsWith(start.slice(0, 5)) || !start) return false;
    return !start.includes('>');
  }

  /** A MIME part (or message) header declaring a charset the scrubber cannot read: refused before the part's text passes. */
  private partDeclaration(text: string): void {
    const all = this.carry + text;
    this.carry = all.slice(-META_CARRY);
    for (const m of all.matchAll(partCharset)) {
      for (const label of charsetParams(m[1]!.replace(/\r?\n/g, ''))) {
        const problem = charsetProblem(label, this.asciiOnly);
        if (problem) throw new UnscrubbableEncodingError(`cannot scrub this response: a part of it declares ${problem}`);
      }
    }
    this.mime.feed(text);
  }

  /** A <meta charset> past the window that names a charset the scrubber cannot read: refused before its text passes. */
  private lateDeclaration(text: string): void {
    const all = this.carry + text;
    this.carry = all.slice(-META_CARRY);
    if (!/<meta/i.test(all)) return;
    for (const declared of declaredAll(all, '<meta', metaCharset)) {
      const problem = charsetProblem(declared, this.asciiOnly);
      if (problem) throw new UnscrubbableEncodingError(`cannot scrub this response: the document declares ${problem} further on`);
    }
  }

  /** At the end of the body: whatever was still held, checked. */
  end(): Buffer | undefined {
    if (this.partScan) this.mime.end();
    if (this.done) return undefined;
    return this.decide();
  }

  private decide(): Buffer {
    this.done = true;
    const head = Buffer.concat(this.buffered);
    this.buffered = [];
    for (const [sig, what] of signatures) {
      if (head.length >= sig.length && sig.every((b, i) => head[i] === b)) throw new UnscrubbableEncodingError(`cannot scrub this response: its body starts with ${what}`);
    }
    const start = head.subarray(0, 4);
    if (this.textualType && start.length >= 2 && start.includes(0)) {
      throw new UnscrubbableEncodingError('cannot scrub this response: its text is UTF-16 or UTF-32 (NUL bytes in a textual body)');
    }
    // All that was held (the window, and the rest of the chunk that filled it).
    const text = head.toString('latin1');
    const declared = [...declaredAll(text.slice(0, 1024), '<?xml', /\bencoding\s*=\s*["']([^"']{1,40})["']/i), ...declaredAll(text, '<meta', metaCharset)];
    for (const d of declared) {
      const problem = charsetProblem(d, this.asciiOnly);
      if (problem) throw new UnscrubbableEncodingError(`cannot scrub this response: the document declares ${problem}`);
    }
    this.declaring(declared);
    if (this.markupScan) this.carry = text.slice(-META_CARRY);
    return head;
  }
}

/** Transfer encodings of a MIME part that readers decode into bytes no spelling matches. */
const uuencoded = new Set(['x-uuencode', 'uuencode', 'uue', 'x-uue']);

/** Longest incomplete line kept between chunks (a header line is far shorter). */
const LINE_CARRY = 4096;

/**
 * The header lines of a multipart or message body — a message's own, each part's after its
 * boundary line, an enclosed message's after a part that is `message/*` — checked like the head's:
 * a MIME reader decodes `filename*=utf-16le''%73%00…` (get_filename()) and `=?utf-7?Q?…?=` (a
 * Subject). Part bodies are not read as headers (binary bytes would look like them by chance).
 */
class MimeHeaderLines {
  private line = '';
  /** Inside a header block: the body's start (a message's headers, or a preamble), or after a boundary. */
  private headers = true;
  /** The block being read declares `message/*`: its body starts with headers too. */
  private enclosing = false;
  /** The header line being read (with the lines folded onto it). */
  private pending = '';

  constructor(private readonly asciiOnly: boolean) {}

  feed(text: string): void {
    const lines = (this.line + text).split('\n');
    this.line = lines.pop()!.slice(-LINE_CARRY);
    for (const l of lines) this.read(l.endsWith('\r') ? l.slice(0, -1) : l);
  }

  end(): void {
    if (this.line) this.read(this.line);
    this.header(this.pending);
    this.line = '';
    this.pending = '';
  }

  private read(line: string): void {
    // A folded line continues the header before it: read as one.
    if (this.headers && this.pending && (line[0] === ' ' || line[0] === '\t')) {
      this.pending = `${this.pending} ${line.trim()}`.slice(0, LINE_CARRY);
      return;
    }
    this.header(this.pending);
    this.pending = '';
    if (line.startsWith('--')) {
      this.headers = true;
      this.enclosing = false;
      return;
    }
    if (!this.headers) return;
    if (line === '') {
      this.headers = this.enclosing;
      this.enclosing = false;
      return;
    }
    this.pending = line;
  }

  private header(line: string): void {
    if (!line) return;
    if (/^content-type[ \t]*:[ \t]*message\//i.test(line)) this.enclosing = true;
    // A transfer encoding a MIME reader undoes and no spelling matches (Python's email package
    // decodes the uuencode family in get_payload(decode=True); base64 and quoted-printable are spellings).
    const cte = /^content-transfer-encoding[ \t]*:[ \t]*"?([a-z0-9-]{1,20})/i.exec(line)?.[1]?.toLowerCase();
    if (cte && uuencoded.has(cte)) throw new UnscrubbableEncodingError(`cannot scrub this response: a part of it is in the ${cte} transfer encoding`);
    if (!line.includes("'") && !line.includes('=?')) return;
    try {
      checkHeaderCharsets([['', line]], this.asciiOnly);
    } catch (err) {
      if (!(err instanceof UnscrubbableEncodingError)) throw err;
      throw new UnscrubbableEncodingError(`cannot scrub this response: a part of it has a header that ${err.message.replace(/^.*?a header /, '')}`);
    }
  }
}

/**
 * A part header's Content-Type, folded lines included (Python's email package folds long headers
 * and unfolds them when it reads): its charset parameters are read by charsetParams (bounded).
 */
const partCharset = /content-type[ \t]*:((?:[^\r\n]|\r?\n[ \t]){0,1700})/gi;

/** Characters of a tag searched for its attribute (a <meta> or XML declaration is far shorter). */
const TAG_MAX = 512;
const metaCharset = /\bcharset\s*=\s*["']?([^"'\s/>;]{1,40})/i;

/**
 * Every value `attribute` finds inside a `tag` (`<?xml …>`, `<meta …>`) of the text. Each tag is
 * cut out first and searched alone: one pattern spanning "tag … attribute" backtracks
 * quadratically on text with many unclosed tags.
 */
function declaredAll(text: string, tag: string, attribute: RegExp): string[] {
  const lower = text.toLowerCase();
  const out: string[] = [];
  // Where the next '>' is; -2: not looked for yet (a tag at the very first byte, an XML
  // declaration's only place, must be read too).
  let close = -2;
  for (let at = lower.indexOf(tag); at >= 0;) {
    const next = lower.indexOf(tag, at + tag.length);
    // A tag is read up to its '>', the next such tag or TAG_MAX characters, whichever comes first,
    // and the next '>' is looked for once per stretch: thousands of unclosed tags cost one pass.
    if (close === -2 || (close >= 0 && close < at)) close = lower.indexOf('>', at);
    const end = Math.min(close < 0 ? text.length : close, next < 0 ? text.length : next, at + TAG_MAX);
    const found = attribute.exec(text.slice(at + tag.length, end))?.[1];
    if (found) out.push(found);
    at = next;
  }
  return out;
}

