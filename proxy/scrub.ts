// Response scrubbing: every secret injected into a request is searched for in the response that
// comes back — headers and body, raw and encoded (base64, base64url, hex, percent-encoding) — and
// replaced by its placeholder, so an upstream that echoes a credential (an error page, a debug
// endpoint, a gist the agent created) never hands the real value to the agent.
//
// The body is scrubbed as a stream. A secret split across chunks is still caught: the scrubber
// holds back only the shortest tail that could still be the start of a secret form, so ordinary
// streaming (SSE, long polls) is not delayed beyond that. Compressed bodies are decompressed,
// scrubbed and passed on uncompressed (Content-Encoding and Content-Length removed).
import { Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { base64Cores } from './placeholders.ts';

export interface ScrubSecret {
  value: string;
  placeholder: string;
}

/** Encoded forms shorter than this are not scrubbed (they would match innocent text). */
const MIN_FORM_LENGTH = 4;

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

function percentAll(bytes: Buffer, upper: boolean): string {
  const hex = upper ? bytes.toString('hex').toUpperCase() : bytes.toString('hex');
  return hex.replace(/(..)/g, '%$1');
}

/** Every spelling of a secret value we scrub, as latin1 strings (one char per byte). */
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
    percentAll(bytes, true),
    percentAll(bytes, false),
    // JSON string escaping of the characters JSON must escape.
    Buffer.from(JSON.stringify(value).slice(1, -1), 'utf8').toString('latin1'),
    // …and with "/" escaped as "\/", as PHP and some Java encoders write it.
    Buffer.from(JSON.stringify(value).slice(1, -1).replace(/\//g, '\\/'), 'utf8').toString('latin1'),
  ];
  return [...new Set(forms)].filter((f) => f.length >= MIN_FORM_LENGTH || f === bytes.toString('latin1'));
}

/** One thing to look for: any of `forms` (latin1 strings), replaced by `replace` or refused. */
export interface MatchRule {
  forms: string[];
  /** Replacement (latin1). */
  replace?: string;
  /** When set, a match is an error with this message, and the content is never passed on. */
  forbid?: string;
}

/** Thrown (or passed to the stream's error) when a forbidden form is found. */
export class ForbiddenContentError extends Error {}

/** A compiled matcher for a set of secrets. Pure; reusable across requests with the same secrets. */
export class Scrubber {
  private readonly re: RegExp;
  private readonly rules = new Map<string, { replace?: string; forbid?: string }>();
  /** Forms by their first character: to find a chunk tail that may start a form. */
  private readonly byFirstChar = new Map<string, string[]>();
  readonly maxLength: number;

  /** Scrubs every form of each secret's value, replacing it with the secret's placeholder. */
  constructor(secrets: ScrubSecret[], extra: MatchRule[] = []) {
    const rules: MatchRule[] = [
      ...secrets.filter((s) => s.value).map((s) => ({ forms: scrubForms(s.value), replace: Buffer.from(s.placeholder, 'utf8').toString('latin1') })),
      ...extra,
    ];
    for (const r of rules) {
      for (const form of r.forms) {
        if (!form || this.rules.has(form)) continue;
        this.rules.set(form, r.forbid !== undefined ? { forbid: r.forbid } : { replace: r.replace ?? '' });
      }
    }
    // Longest first: where two forms start at the same place, the longer one wins.
    const forms = [...this.rules.keys()].sort((a, b) => b.length - a.length);
    this.maxLength = forms[0]?.length ?? 0;
    this.re = forms.length ? new RegExp(forms.map(escapeRe).join('|'), 'g') : /(?!)/g;
    for (const f of forms) {
      const list = this.byFirstChar.get(f[0]!);
      if (list) list.push(f);
      else this.byFirstChar.set(f[0]!, [f]);
    }
  }

  private replacementOf(match: string): string {
    const rule = this.rules.get(match)!;
    if (rule.forbid !== undefined) throw new ForbiddenContentError(rule.forbid);
    return rule.replace!;
  }

  get empty(): boolean {
    return this.rules.size === 0;
  }

  /** Scrubs a complete latin1 string (a header value, or a final chunk). */
  scrubString(text: string): string {
    if (this.empty) return text;
    return text.replace(this.re, (m) => this.replacementOf(m));
  }

  /**
   * Scrubs as much of `text` as is final: returns the output and the tail to prepend to the next
   * chunk. A match starting before the held tail always fits in `text` (see heldFrom), so it is
   * the same match a scan of the whole stream would make.
   */
  scrubPartial(text: string): { out: string; rest: string } {
    if (this.empty) return { out: text, rest: '' };
    const hold = this.heldFrom(text);
    let out = '';
    let last = 0;
    this.re.lastIndex = 0;
    for (let m = this.re.exec(text); m !== null; m = this.re.exec(text)) {
      if (m.index >= hold) break;
      out += text.slice(last, m.index) + this.replacementOf(m[0]);
      last = m.index + m[0].length;
    }
    const cut = Math.max(hold, last);
    return { out: out + text.slice(last, cut), rest: text.slice(cut) };
  }

  /** Whether some form occurs in `text` starting before `at` and ending after it (split at `at`). */
  splitAt(text: string, at: number): boolean {
    for (let p = Math.max(0, at - this.maxLength + 1); p < at; p++) {
      const candidates = this.byFirstChar.get(text[p]!);
      if (candidates && candidates.some((f) => p + f.length > at && text.startsWith(f, p))) return true;
    }
    return false;
  }

  /** Start of the longest suffix of `text` that is a proper prefix of some form (text.length if none). */
  private heldFrom(text: string): number {
    for (let p = Math.max(0, text.length - this.maxLength + 1); p < text.length; p++) {
      const candidates = this.byFirstChar.get(text[p]!);
      if (candidates && candidates.some((f) => f.length > text.length - p && startsAt(text, p, f))) return p;
    }
    return text.length;
  }

}

/** Whether text[p..] (to its end) equals the start of `form`. */
function startsAt(text: string, p: number, form: string): boolean {
  for (let i = 0; p + i < text.length; i++) if (text.charCodeAt(p + i) !== form.charCodeAt(i)) return false;
  return true;
}

/**
 * Scrubs a body chunk by chunk: each chunk's safe part comes out at once, the tail that could be
 * the start of a secret is held back for the next chunk. Shared by both scrubbing streams.
 */
class ChunkScrubber {
  private rest = '';

  constructor(private readonly scrubber: Scrubber) {}

  /** The scrubbed bytes that can leave now (none when all of the chunk is held back). */
  feed(chunk: Buffer): Buffer | undefined {
    const { out, rest } = this.scrubber.scrubPartial(this.rest + chunk.toString('latin1'));
    this.rest = rest;
    return out ? Buffer.from(out, 'latin1') : undefined;
  }

  /** The held-back tail, scrubbed, at the end of the body. */
  end(): Buffer | undefined {
    const tail = this.rest;
    this.rest = '';
    return tail ? Buffer.from(this.scrubber.scrubString(tail), 'latin1') : undefined;
  }
}

/** Pushes what a scrubbing step lets out; returns the step's error instead of throwing it. */
function pushScrubbed(stream: Transform, step: () => Buffer | undefined): Error | undefined {
  try {
    const out = step();
    if (out) stream.push(out);
    return undefined;
  } catch (err) {
    return err as Error;
  }
}

/** A streaming body scrubber: bytes in, bytes out, secrets replaced even across chunk boundaries. */
export class ScrubStream extends Transform {
  private readonly chunks: ChunkScrubber;

  constructor(scrubber: Scrubber) {
    super();
    this.chunks = new ChunkScrubber(scrubber);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    cb(pushScrubbed(this, () => this.chunks.feed(chunk)));
  }

  override _flush(cb: TransformCallback): void {
    cb(pushScrubbed(this, () => this.chunks.end()));
  }
}

/** Raw or zlib-wrapped deflate, decided on the first byte (servers send both as "deflate"). */
class AnyInflate extends Transform {
  private inner: zlib.Inflate | zlib.InflateRaw | undefined;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (!this.inner) {
      // zlib header: CM=8 in the low nibble and a header checksum divisible by 31.
      const zlibWrapped = chunk.length >= 2 && (chunk[0]! & 0x0f) === 8 && ((chunk[0]! << 8) | chunk[1]!) % 31 === 0;
      this.inner = zlibWrapped ? zlib.createInflate() : zlib.createInflateRaw();
      this.inner.on('data', (d: Buffer) => this.push(d));
      this.inner.on('error', (err) => this.destroy(err));
    }
    this.inner.write(chunk, cb);
  }

  override _flush(cb: TransformCallback): void {
    if (!this.inner) return cb();
    this.inner.once('end', () => cb());
    this.inner.end();
  }
}

export class UnscrubbableEncodingError extends Error {}

function decoderFor(coding: string): Transform | undefined {
  switch (coding) {
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip();
    case 'deflate':
      return new AnyInflate();
    case 'br':
      return zlib.createBrotliDecompress();
    case 'identity':
      return undefined;
    default:
      throw new UnscrubbableEncodingError(`cannot scrub a response with content-encoding "${coding}"`);
  }
}

/** Decoders (in order) feeding a scrubber; one Transform so the proxy pipes a single stage. */
class DecodeScrubStream extends Transform {
  private readonly chunks: ChunkScrubber;
  private readonly first: Transform;
  private readonly last: Transform;

  constructor(scrubber: Scrubber, decoders: Transform[]) {
    super();
    this.chunks = new ChunkScrubber(scrubber);
    this.first = decoders[0]!;
    this.last = decoders[decoders.length - 1]!;
    for (let i = 0; i < decoders.length - 1; i++) decoders[i]!.pipe(decoders[i + 1]!);
    for (const d of decoders) d.on('error', (err) => this.destroy(err));
    this.last.on('data', (d: Buffer) => {
      const err = pushScrubbed(this, () => this.chunks.feed(d));
      if (err) this.destroy(err);
    });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.first.write(chunk, (err) => cb(err ?? undefined));
  }

  override _flush(cb: TransformCallback): void {
    this.last.once('end', () => cb(pushScrubbed(this, () => this.chunks.end())));
    this.first.end();
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.first.destroy();
    this.last.destroy();
    cb(err);
  }
}

export interface ScrubbedResponse {
  /** The transform for the response body, or undefined when the response has no body to scrub. */
  transform: Transform | undefined;
}

function headerValues(headers: Array<[string, string]>, name: string): string[] {
  return headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
}

/**
 * Scrubs a response head in place (header values) and returns the body transform. Compressed
 * bodies are decoded and passed on uncompressed; Content-Length is dropped whenever the body is
 * transformed (the length may change). Throws UnscrubbableEncodingError for an encoding that
 * cannot be decoded: the caller must not pass that body through unscrubbed.
 */
export function scrubResponse(scrubber: Scrubber, head: { statusCode: number; statusMessage?: string; headers: Array<[string, string]> }, opts: { method?: string } = {}): ScrubbedResponse {
  if (scrubber.empty) return { transform: undefined };
  for (const h of head.headers) h[1] = scrubber.scrubString(h[1]);
  if (head.statusMessage) head.statusMessage = scrubber.scrubString(head.statusMessage);
  const noBody = opts.method === 'HEAD' || head.statusCode === 204 || head.statusCode === 304 || (head.statusCode >= 100 && head.statusCode < 200);
  if (noBody) return { transform: undefined };
  const codings = headerValues(head.headers, 'content-encoding')
    .flatMap((v) => v.split(','))
    .map((c) => c.trim().toLowerCase())
    .filter(Boolean);
  const decoders = codings.reverse().map(decoderFor).filter((d): d is Transform => d !== undefined);
  // In place: the proxy holds this array.
  for (let i = head.headers.length - 1; i >= 0; i--) {
    const name = head.headers[i]![0].toLowerCase();
    if (name === 'content-length' || name === 'content-encoding' || (decoders.length && name === 'content-md5')) head.headers.splice(i, 1);
  }
  return { transform: decoders.length ? new DecodeScrubStream(scrubber, decoders) : new ScrubStream(scrubber) };
}
