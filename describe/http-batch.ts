// HTTP requests carried in a body, which the server runs one by one: a `multipart/mixed` batch of
// `application/http` parts (OData `$batch` in Olingo, ASP.NET OData, SAP Gateway, SharePoint,
// Dynamics, with changesets one level down; Google's batch endpoints). `POST /svc/$batch` holding
// `DELETE /svc/Orders(1)` runs the DELETE. Pure: the calls as sent; proxy/pipeline.ts decides each.
// (engine/grant-scope.ts and the Gmail adapter read the same parts: delimitedParts.)
import { multipartBoundaries } from './multipart.ts';

/** One HTTP request carried in a batch, as its part spells it. */
export interface BatchCall {
  method: string;
  /** The request target as written: an absolute URL, an absolute path, or relative to the batch's URL (OData). */
  target: string;
  headers: Array<[string, string]>;
  /** The call's body (latin1, as the bytes came). */
  body: string;
  /**
   * Its `Content-ID` (the part's header, or the call's own): OData servers put the location of
   * what it created where a later call's URL writes `$<id>` (proxy/second-targets.ts reads them).
   */
  contentId?: string;
}

/** At most this many calls of one batch are read (Google takes 100 a batch; more is refused). */
export const MAX_BATCH_CALLS = 100;

/**
 * The calls of a batch body; `undefined` when no part is an `application/http` call (an upload or
 * a mail that merely mentions the type is no batch); `'unreadable'` when a line declares such a
 * part but the body cannot be read call by call (no single boundary, no close delimiter, a call
 * beside parts that are none, a call without a request line, too many, nesting past a changeset).
 */
export function httpBatchCalls(text: string, contentType: string): BatchCall[] | 'unreadable' | undefined {
  if (!declaresCall.test(text)) return undefined;
  const calls: BatchCall[] = [];
  const others = { n: 0 };
  if (!batchLevel(text, contentType, 0, calls, others)) return 'unreadable';
  if (calls.length === 0) return undefined;
  return others.n ? 'unreadable' : calls;
}

/**
 * A part header declaring an HTTP call (anywhere: the structure is read after). Its name as
 * Microsoft.OData.Core reads it: what comes before the first `:`, blanks trimmed
 * (`Content-Type : application/http` is a call to ASP.NET OData).
 */
const declaresCall = /^[ \t]*content-type[ \t]*:[ \t]*application\/http[ \t]*(;|$)/im;

function batchLevel(text: string, type: string, depth: number, out: BatchCall[], others: { n: number }): boolean {
  // Every boundary a server may take from the type (describe/multipart.ts): one, or it is not read one way.
  const boundaries = multipartBoundaries(type);
  if (boundaries.length !== 1 || depth > 1) return false;
  const parts = delimitedParts(text, boundaries[0]!);
  if (!parts) return false;
  for (const part of parts) {
    const [outer, inner] = splitHead(part.replace(/^[ \t]*\r?\n/, ''));
    const nested = inner === undefined ? null : /^[ \t]*content-type[ \t]*:[ \t]*(multipart\/[^\r\n]*)/im.exec(outer);
    if (nested) {
      if (!batchLevel(inner!, nested[1]!, depth + 1, out, others)) return false;
      continue;
    }
    if (!declaresCall.test(outer)) {
      others.n++;
      continue;
    }
    if (inner === undefined) return false;
    const [head, body] = splitHead(inner.replace(/^(\r?\n)+/, ''));
    const lines = head.split(/\r?\n/);
    const line = /^([A-Za-z-]{1,16})[ \t]+(\S+)(?:[ \t]+HTTP\/\d(?:\.\d)?)?$/.exec(lines[0]!.trim());
    if (!line || out.length >= MAX_BATCH_CALLS) return false;
    const headers: Array<[string, string]> = [];
    for (const l of lines.slice(1)) {
      const colon = l.indexOf(':');
      if (colon <= 0) return false;
      headers.push([l.slice(0, colon).trim(), l.slice(colon + 1).trim()]);
    }
    // The part's Content-ID, else the call's own (ODataLib reads either); two that differ: not one reading.
    const partId = /^[ \t]*content-id[ \t]*:([^\r\n]*)/im.exec(outer)?.[1]?.trim();
    const ownId = headers.find(([k]) => k.toLowerCase() === 'content-id')?.[1];
    if (partId !== undefined && ownId !== undefined && partId !== ownId) return false;
    const contentId = partId ?? ownId;
    out.push({ method: line[1]!.toUpperCase(), target: line[2]!, headers, body: (body ?? '').replace(/\r?\n$/, ''), ...(contentId ? { contentId } : {}) });
  }
  return true;
}

/**
 * The parts between the delimiter lines of `boundary`, up to the first close delimiter, as Python's
 * `email`, Go's mime/multipart and ODataLib read them (RFC 2046 §5.1.1): a delimiter begins a line
 * and is followed by `--` (the close), blanks, and the line's end. A `--b--` inside a call's body
 * (mid-line) had closed the batch here while those servers read on and ran the calls after it
 * (eighteenth pass). A line that begins with the delimiter but goes on (`--b--x`, `--bx`) is none
 * to them and one to a parser matching the prefix: undefined then, as for a batch with no close.
 */
export function delimitedParts(text: string, boundary: string): string[] | undefined {
  const d = `--${boundary}`;
  const parts: string[] = [];
  let partStart = -1;
  for (let i = text.indexOf(d); i >= 0; i = text.indexOf(d, i + d.length)) {
    if (i > 0 && text[i - 1] !== '\n') continue; // mid-line: a part's content
    let j = i + d.length;
    const close = text.startsWith('--', j);
    if (close) j += 2;
    while (text[j] === ' ' || text[j] === '\t') j++;
    const eol = text.startsWith('\r\n', j) ? 2 : text[j] === '\n' ? 1 : j === text.length ? 0 : -1;
    if (eol < 0) return undefined;
    if (partStart >= 0) parts.push(text.slice(partStart, i));
    if (close) return parts;
    partStart = j + eol;
  }
  return undefined;
}

/** A MIME or HTTP head and what follows its blank line (CRLF or bare LF). */
function splitHead(text: string): [string, string | undefined] {
  const m = /\r?\n\r?\n/.exec(text);
  return m ? [text.slice(0, m.index), text.slice(m.index + m[0].length)] : [text.replace(/\r?\n$/, ''), undefined];
}
