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

/** Why text in `label` cannot be scrubbed, or undefined when it can. `asciiOnly`: every secret is ASCII. */
export function charsetProblem(label: string, asciiOnly: boolean): string | undefined {
  const name = label.trim().replace(/^["']|["']$/g, '');
  let canonical: string;
  try {
    canonical = new TextDecoder(name).encoding;
  } catch {
    return `charset "${name.slice(0, 40)}" is unknown`;
  }
  if (canonical === 'utf-8') return undefined;
  if (asciiOnly && asciiTransparent.has(canonical)) return undefined;
  return `charset "${name.slice(0, 40)}" (${canonical}) spells the secret in bytes the scrubber does not match`;
}

/** The charset parameter of a Content-Type value, if any. */
export function charsetParam(contentType: string): string | undefined {
  for (const part of contentType.split(';').slice(1)) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim().toLowerCase() === 'charset') return part.slice(eq + 1).trim();
  }
  return undefined;
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
  for (const t of types) {
    if (mediaTypeOf(t) === 'multipart/byteranges') throw new UnscrubbableEncodingError('a multipart/byteranges response cannot be scrubbed: a secret may be cut across ranges');
    const cs = charsetParam(t);
    if (cs !== undefined) {
      const problem = charsetProblem(cs, asciiOnly);
      if (problem) throw new UnscrubbableEncodingError(`cannot scrub this response: its ${problem}`);
    }
  }
  const type = types.length ? mediaTypeOf(types[0]!) : '';
  return new BodySniffer(markup.test(type) || !type ? 1024 : 4, textual.test(type) || markup.test(type), asciiOnly);
}

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
  done = false;

  constructor(private readonly window: number, private readonly textualType: boolean, private readonly asciiOnly: boolean) {}

  /** Bytes that may go on to the scrubber now (undefined while still looking). Throws when refused. */
  feed(chunk: Buffer): Buffer | undefined {
    if (this.done) return chunk;
    this.buffered.push(chunk);
    this.size += chunk.length;
    if (this.size < this.window) return undefined;
    return this.decide();
  }

  /** At the end of the body: whatever was still held, checked. */
  end(): Buffer | undefined {
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
    const text = head.subarray(0, 1024).toString('latin1');
    const declared = declaredIn(text, '<?xml', /\bencoding\s*=\s*["']([^"']{1,40})["']/i)
      ?? declaredIn(text, '<meta', /\bcharset\s*=\s*["']?([^"'\s/>;]{1,40})/i);
    if (declared) {
      const problem = charsetProblem(declared, this.asciiOnly);
      if (problem) throw new UnscrubbableEncodingError(`cannot scrub this response: the document declares ${problem}`);
    }
    return head;
  }
}

/**
 * The first value `attribute` finds inside a `tag` (`<?xml …>`, `<meta …>`) of the text. Each tag is
 * cut out first and searched alone: one pattern spanning "tag … attribute" backtracks
 * quadratically on text with many unclosed tags.
 */
function declaredIn(text: string, tag: string, attribute: RegExp): string | undefined {
  const lower = text.toLowerCase();
  for (let at = lower.indexOf(tag); at >= 0; at = lower.indexOf(tag, at + tag.length)) {
    const close = lower.indexOf('>', at);
    const found = attribute.exec(text.slice(at + tag.length, close < 0 ? text.length : close))?.[1];
    if (found) return found;
  }
  return undefined;
}

