// A form field that makes the server run other requests, watched in the part of a body past the
// capture cap (the description and the second-target readers see only the first MiB): Facebook's
// Graph API runs the calls of a `batch` field wherever it stands in a form, so `pad=<1 MiB>&batch=
// [{"method":"DELETE","relative_url":…}]` ran calls no one decided. The upload is cut where such a
// field starts (StreamStop: a refusal, and the server never gets a whole request to run).
import { Transform, type TransformCallback } from 'node:stream';
import { dispositionNames } from '../describe/content-disposition.ts';
import { multipartBoundaries } from '../describe/multipart.ts';
import { StreamStop } from './enforcers.ts';
import { refusals } from './refusals.ts';

/** Field names whose value the server runs as requests (proxy/second-targets.ts reads them in the captured part). */
const RUN_FIELDS = new Set(['batch']);

/** The longest part head read (busboy, Node's usual multipart parser, takes up to 80 KiB). */
const MAX_PART_HEAD = 96 * 1024;

/** The watch for a form body, or undefined for a body that is no form. */
export function formTailWatch(rawHeaders: readonly string[]): Transform | undefined {
  let type: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === 'content-type') type ??= rawHeaders[i + 1]!;
  const media = type?.trim().toLowerCase() ?? '';
  if (media.startsWith('application/x-www-form-urlencoded')) return new UrlencodedWatch();
  if (media.startsWith('multipart/form-data')) {
    const boundaries = multipartBoundaries(type!);
    return boundaries.length ? new MultipartWatch(boundaries) : undefined;
  }
  return undefined;
}

function stop(name: string): StreamStop {
  return new StreamStop(refusals.bad(`the form body names a ${JSON.stringify(name)} field past the first part Airlock reads (the capture cap): the server runs its calls, which Airlock cannot decide; send the batch in a smaller body`));
}

/** Names as URLSearchParams reads them (`+` a blank, escapes decoded), between `&` and `=`. */
class UrlencodedWatch extends Transform {
  /** Only looks: the body leaves byte for byte, with the length it declared (proxy/upstream.ts bodyFraming). */
  readonly preservesLength = true;
  private inName = true;
  private name = '';

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let at = 0;
    while (at < chunk.length) {
      if (!this.inName) {
        const amp = chunk.indexOf(0x26, at);
        if (amp < 0) break;
        this.inName = true;
        this.name = '';
        at = amp + 1;
        continue;
      }
      const amp = chunk.indexOf(0x26, at);
      const eq = chunk.indexOf(0x3d, at);
      const end = eq >= 0 && (amp < 0 || eq < amp) ? eq : amp;
      // A name is short; past 64 characters it can no longer be one watched (kept to 64 + escapes).
      if (this.name.length < 256) this.name += chunk.toString('latin1', at, end < 0 ? Math.min(chunk.length, at + 256) : Math.min(end, at + 256));
      if (end < 0) break;
      if (end === eq) {
        const name = formName(this.name);
        if (name !== undefined && RUN_FIELDS.has(name)) return cb(stop(name));
        this.inName = false;
      } else this.name = '';
      at = end + 1;
    }
    cb(null, chunk);
  }
}

function formName(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}

/** Part heads after each delimiter, read as the describe step reads them (dispositionNames). */
class MultipartWatch extends Transform {
  readonly preservesLength = true;
  private carry = '';
  private readonly delimiters: string[];
  private readonly keep: number;

  constructor(boundaries: string[]) {
    super();
    this.delimiters = boundaries.map((b) => `--${b}`);
    this.keep = Math.max(...this.delimiters.map((d) => d.length));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const text = this.carry + chunk.toString('latin1');
    let keepFrom = text.length;
    for (const d of this.delimiters) {
      // The next blank line of each kind, searched again only once passed (one pass over the text).
      let crlf = -2;
      let lf = -2;
      for (let at = text.indexOf(d); at >= 0; ) {
        const headStart = at + d.length;
        // A close delimiter (`--b--`) has no head; a part after it is still looked at (some parsers read on).
        if (text.startsWith('--', headStart)) {
          at = text.indexOf(d, headStart + 2);
          continue;
        }
        if (headStart + 2 > text.length) {
          keepFrom = Math.min(keepFrom, at);
          break;
        }
        if (crlf !== -1 && crlf < headStart) crlf = text.indexOf('\r\n\r\n', headStart);
        if (lf !== -1 && lf < headStart) lf = text.indexOf('\n\n', headStart);
        const blank = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf : lf;
        if (blank < 0) {
          if (text.length - headStart > MAX_PART_HEAD) return cb(new StreamStop(refusals.bad('a part head of the form body is longer than Airlock reads')));
          // The head is not all here yet: kept, from its delimiter, for the next chunk.
          keepFrom = Math.min(keepFrom, at);
          break;
        }
        const head = text.slice(headStart, blank);
        if (!/;\s*filename\*?\s*=/i.test(head)) {
          for (const name of dispositionNames(head)) if (RUN_FIELDS.has(name)) return cb(stop(name));
        }
        at = text.indexOf(d, blank);
      }
    }
    // (And what may be the start of a delimiter the chunk's end cut.)
    this.carry = text.slice(Math.min(keepFrom, Math.max(0, text.length - this.keep + 1)));
    cb(null, chunk);
  }
}
