// An Elasticsearch/OpenSearch `_bulk` body past the capture cap, watched as it leaves. The readers
// (proxy/second-targets.ts otherIndices) decide the indices the captured lines name; a bulk is often
// larger than the cap, and its later action lines act wherever their `_index` says: a bulk to
// /logs of 2 MiB whose last line was `{"delete": {"_index": "users", "_id": "1"}}` deleted in an
// index the policy never saw (seventeenth pass). Each action line past the captured part must name
// no index, or one already decided (the path's, or one a captured line named); else the upload is
// cut there (StreamStop: a refusal, and the server never gets a whole request to run).
import { Transform, type TransformCallback } from 'node:stream';
import { DecodedWatch, readersDecode, requestCodings } from './decoded-watch.ts';
import { StreamStop } from './enforcers.ts';
import { refusals } from './refusals.ts';
import { bulkAction, bulkPathIndex } from './second-targets.ts';

/** The longest action line read (an action's metadata is a few hundred bytes). */
const MAX_ACTION_LINE = 64 * 1024;

/**
 * The watch for a `_bulk` body the readers did not read whole (`body.captured`: its first bytes,
 * which they read), or undefined for another request. A compressed bulk (Beats and Logstash gzip
 * theirs) is watched as Elasticsearch decodes it (DecodedWatch), past the capture cap or when it
 * decodes past what the readers decode; it was refused whole (twenty-first pass, left open by the
 * nineteenth: a routine gzip'd bulk of a few MiB was a 400).
 */
export function bulkTailWatch(rawHeaders: readonly string[], url: string, body: { captured: Buffer; truncated: boolean }): Transform | undefined {
  if (!url.includes('_bulk') && !url.includes('%')) return undefined;
  const own = bulkPathIndex(url);
  if (own === undefined) return undefined;
  const codings = requestCodings(rawHeaders);
  if (!codings?.length) return body.truncated ? new BulkWatch(own, body.captured.length, codings === undefined, false) : undefined;
  // The decoded bytes the readers read (none when it decodes past what they decode).
  const read = readersDecode(body.captured, codings, body.truncated);
  if (!body.truncated && read !== 'too large') return undefined;
  let type: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === 'content-type') type ??= rawHeaders[i + 1]!;
  // (Its last chunk kept back until the end is judged: a last line without its newline is judged there.)
  return new DecodedWatch(codings, type, new BulkWatch(own, read === 'too large' ? 0 : read, false, true), undefined, true);
}

function cut(why: string): StreamStop {
  return new StreamStop(refusals.bad(`the _bulk body ${why} past the first part Airlock reads (the capture cap): Airlock decided the indices named before it; send such lines in a bulk of their own`));
}

class BulkWatch extends Transform {
  /** Only looks: the body leaves byte for byte, with the length it declared (proxy/upstream.ts bodyFraming). */
  readonly preservesLength = true;
  private readonly decided = new Set<string>();
  /** Bytes seen before the current chunk. */
  private seen = 0;
  /** The next non-blank line is an action (else a document). */
  private action = true;
  /** The action line read so far (latin1 of its bytes); undefined while skipping a document. */
  private line: string | undefined = '';
  /** The bytes of that line not yet let through. */
  private held: Buffer[] = [];

  /**
   * `coded`: a coding no decoder here knows (the readers refused it already: cut past the capture).
   * `inner`: fed decoded bytes by a DecodedWatch, which passes the agent's bytes on: it only judges.
   */
  constructor(own: string | null, private readonly capturedLength: number, private readonly coded: boolean, private readonly inner: boolean) {
    super();
    if (own !== null) this.decided.add(own);
  }

  override push(chunk: Buffer | null): boolean {
    return this.inner || super.push(chunk);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    // A coding no decoder here knows: nothing past the captured start is read.
    if (this.coded) {
      if (this.seen + chunk.length > this.capturedLength) return cb(cut('is compressed (Content-Encoding) and goes on'));
      this.seen += chunk.length;
      return cb(null, chunk);
    }
    // An action line leaves only once it is whole and judged (a last line without its newline too).
    let at = 0;
    let from = 0;
    while (at < chunk.length) {
      const nl = chunk.indexOf(0x0a, at);
      const end = nl < 0 ? chunk.length : nl;
      if (this.line !== undefined) {
        if (this.line.length + end - at > MAX_ACTION_LINE) return cb(cut(`has an action line longer than ${MAX_ACTION_LINE} bytes`));
        this.line += chunk.toString('latin1', at, end);
      }
      if (nl < 0) break;
      const holding = this.line !== undefined;
      const refused = this.lineEnds(this.seen + nl + 1 <= this.capturedLength);
      if (refused) return cb(refused);
      if (holding && this.held.length) {
        this.push(Buffer.concat([...this.held, chunk.subarray(from, nl + 1)]));
        this.held = [];
        from = nl + 1;
      }
      at = nl + 1;
    }
    this.seen += chunk.length;
    if (this.line !== undefined) {
      // Within an action line: what came of it is held; what came before leaves.
      const lineStart = chunk.length - (chunk.length - at);
      if (lineStart > from) this.push(chunk.subarray(from, lineStart));
      this.held.push(chunk.subarray(lineStart));
    } else if (chunk.length > from) this.push(chunk.subarray(from));
    cb();
  }

  /** A last line without its newline (Elasticsearch refuses such a bulk, but a server that reads it on would run it). */
  override _flush(cb: TransformCallback): void {
    if (!this.coded && this.line !== undefined && this.line !== '') {
      const refused = this.lineEnds(this.seen <= this.capturedLength);
      if (refused) return cb(refused);
    }
    if (this.held.length) this.push(Buffer.concat(this.held));
    this.held = [];
    cb();
  }

  /** A line ended (`inCapture`: within the bytes the readers read): the refusal when it acts elsewhere. */
  private lineEnds(inCapture: boolean): StreamStop | undefined {
    const text = this.line;
    if (!this.action) {
      // A document line: the next non-blank line is an action.
      this.action = true;
      this.line = '';
      return undefined;
    }
    const action = text === undefined ? 'blank' : bulkAction(Buffer.from(text, 'latin1').toString('utf8'));
    if (action === 'blank') {
      this.line = '';
      return undefined;
    }
    // Every verb but `delete` is followed by its document (or partial document) line: skipped, not kept.
    this.action = action?.verb === 'delete';
    this.line = this.action ? '' : undefined;
    const index = action?.index;
    if (inCapture) {
      if (typeof index === 'string') this.decided.add(index);
      return undefined;
    }
    if (action === undefined) return cut('has an action line Airlock cannot read as the server does');
    if (index === undefined || (typeof index === 'string' && this.decided.has(index))) return undefined;
    return cut(`names index ${JSON.stringify(String(index).slice(0, 80))}, which no line before the capture cap named,`);
  }
}
