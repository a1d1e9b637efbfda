// The parts of a MIME multipart body as a MIME-aware server reads them: each part's content
// decoded by its Content-Transfer-Encoding (base64, quoted-printable, uuencode), and a part that
// is itself multipart (also inside a base64 part) opened in turn. The body guard looks for secrets
// in these decoded contents: a declared encoding is one a server undoes for the application (a
// Python `email` parser decodes x-uuencode, and walks nested multiparts under any encoding), so
// it is no layer the agent added on its own. Pure; bounded in depth, part count and output size.
import { parseMediaType } from '../describe/body.ts';
import { looseDelimiter, multipartBoundaries, nextDelimiter, unfoldHead } from '../describe/multipart.ts';
import { unQuotedPrintable } from '../describe/text-decodings.ts';

const MAX_DEPTH = 4;
const MAX_PARTS = 1000;
/** Decoded output kept in all (the body itself is bounded by the capture cap; base64 only shrinks). */
const MAX_OUTPUT = 16 * 1024 * 1024;

/** One part: its content (latin1) with its transfer encoding undone, and its headers (lowercase names, first of each). */
export interface MimePart {
  content: string;
  headers: Record<string, string>;
  /** The part's head as sent (latin1): every header line, repeated ones too. */
  head: string;
}

/** Decoded contents (latin1) of every part of a multipart body, nested parts included; [] when it is not multipart. */
export function multipartContents(body: Buffer, contentType: string): string[] {
  return multipartParts(body, contentType).map((p) => p.content);
}

/** Every part of a multipart body (nested parts included, after the part holding them); [] when it is not multipart. */
export function multipartParts(body: Buffer, contentType: string): MimePart[] {
  const out: MimePart[] = [];
  const budget = { parts: MAX_PARTS, bytes: MAX_OUTPUT };
  walk(body.toString('latin1'), contentType, 0, out, budget);
  return out;
}

function walk(text: string, contentType: string, depth: number, out: MimePart[], budget: { parts: number; bytes: number }): void {
  if (!parseMediaType(contentType).type.startsWith('multipart/') || depth > MAX_DEPTH) return;
  // Every boundary some server takes from the value (a repeated parameter: the first, the last).
  for (const boundary of multipartBoundaries(contentType)) {
    walkParts(text, boundary, false, depth, out, budget);
    // And as RFC 2046 parsers (Spring's, Python's email) read it, delimiters only at a line's start
    // (twenty-second pass, follow-up): `{"x": "--b", "notificationUrl": …}` is one JSON part to them;
    // and only as whole lines: `--bQ: x` is a header line to Go and Werkzeug (twenty-third pass).
    if (looseDelimiter(Buffer.from(text, 'latin1'), `--${boundary}`)) walkParts(text, boundary, true, depth, out, budget);
  }
}

/** `strict`: delimiters only as whole lines, else wherever they stand (parsers differ: describe/multipart.ts reads both). */
function walkParts(text: string, boundary: string, strict: boolean, depth: number, out: MimePart[], budget: { parts: number; bytes: number }): void {
  const delimiter = `--${boundary}`;
  const find = (from: number): number => nextDelimiter(text, delimiter, from, strict);
  let at = find(0);
  while (at !== -1 && budget.parts-- > 0 && budget.bytes > 0) {
    const start = text.indexOf('\n', at);
    if (start === -1) return;
    const next = find(start);
    const raw = text.slice(start + 1, next === -1 ? text.length : next).replace(/\r?\n$/, '');
    at = next;
    const split = /\r?\n\r?\n/.exec(raw);
    const head = split ? unfoldHead(raw.slice(0, split.index)) : '';
    const content = split ? raw.slice(split.index + split[0].length) : raw;
    const headers = parseHeaders(head);
    const decoded = decode(content, (headers['content-transfer-encoding'] ?? '').trim().toLowerCase());
    budget.bytes -= decoded.length;
    out.push({ content: decoded, headers, head });
    const partType = headers['content-type'];
    if (partType) walk(decoded, partType, depth + 1, out, budget);
  }
}

function parseHeaders(head: string): Record<string, string> {
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const line of head.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] ??= line.slice(colon + 1).trim();
  }
  return headers;
}

function decode(content: string, cte: string): string {
  switch (cte) {
    case 'base64':
      return Buffer.from(content, 'base64').toString('latin1');
    case 'quoted-printable':
      return unQuotedPrintable(content);
    case 'x-uuencode': case 'uuencode': case 'x-uue': case 'uue':
      return uudecode(content);
    default:
      return content;
  }
}

/** uudecode (the lines between "begin" and "end", or every line when there is no "begin"). */
function uudecode(text: string): string {
  const lines = text.split(/\r?\n/);
  const begin = lines.findIndex((l) => /^begin\s/.test(l));
  const bytes: number[] = [];
  for (const line of lines.slice(begin + 1)) {
    if (line === 'end' || !line) break;
    const n = (line.charCodeAt(0) - 32) & 63;
    const chars = line.slice(1);
    const sextet = (i: number): number => ((chars.charCodeAt(i) || 32) - 32) & 63;
    for (let i = 0, done = 0; done < n; i += 4) {
      const v = (sextet(i) << 18) | (sextet(i + 1) << 12) | (sextet(i + 2) << 6) | sextet(i + 3);
      for (const shift of [16, 8, 0]) if (done++ < n) bytes.push((v >> shift) & 255);
    }
  }
  return Buffer.from(bytes).toString('latin1');
}
