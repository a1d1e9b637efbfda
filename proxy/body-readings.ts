// How a server reads what an agent sends, for the credential guard: the strings of a JSON or form
// body (escapes undone by the parser), the parts of a multipart body (transfer encodings undone,
// nested multiparts opened; proxy/mime-parts.ts), a body's content codings, and the strings of a
// JSON WebSocket message. The guard looks for secrets in these readings with the scrubber's
// spelling matcher, besides the bytes as sent. Pure.
import { formEntries, undoContentCoding } from '../describe/body.ts';
import type { RequestDescription } from '../describe/types.ts';
import type { RequestContext } from './enforcers.ts';
import { firstAndLast } from './charset-readings.ts';
import { multipartContents } from './mime-parts.ts';
import { asLatin1 } from './secret-values.ts';
import { appendAll } from '../lib/arrays.ts';

/** The keys and string values of a parsed JSON document, into `out`. */
function jsonStrings(json: unknown, out: string[]): void {
  // Iterative walk, bounded by the parsed document (itself bounded by the capture cap).
  const stack: unknown[] = [json];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) for (const x of v) stack.push(x);
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) { out.push(k); stack.push(x); }
  }
}

/** The keys and string values of a parsed JSON or form body, joined by NUL (latin1 UTF-8), or undefined. */
export function bodyStrings(body: RequestDescription['request']['body']): string | undefined {
  const out: string[] = [];
  if (body.form) for (const [k, vs] of formEntries(body.form)) {
    out.push(k);
    appendAll(out, vs);
  }
  if (body.json !== undefined) jsonStrings(body.json, out);
  return out.length ? asLatin1(out.join('\0')) : undefined;
}

/**
 * The parts of a multipart body decoded as a MIME parser does (transfer encodings undone, nested
 * multiparts opened; proxy/mime-parts.ts), joined by NUL, or '' for other bodies.
 */
export function multipartText(ctx: Pick<RequestContext, 'body' | 'outgoing'>): string {
  if (!ctx.body || ctx.body.bytes.length === 0) return '';
  // Of repeated Content-Type headers servers keep the first (Node) or the last: both are read.
  const types = firstAndLast(ctx.outgoing.headers.filter(([k]) => k.toLowerCase() === 'content-type').map(([, v]) => v)).filter((v) => /^\s*multipart\//i.test(v));
  if (!types.length) return '';
  let bytes = ctx.body.bytes;
  const codings = contentCodings(ctx.outgoing.headers);
  if (codings.length) {
    try {
      bytes = undoContentCoding(bytes, codings);
    } catch {
      return ''; // refused as unreadable by the body guard
    }
  }
  return types.flatMap((type) => multipartContents(bytes, type)).join('\0');
}

/**
 * The body's bytes as the server reads them once its content codings are undone, or undefined when
 * it has none (or they cannot be undone: the body guard refuses such a body).
 */
export function decodedBody(ctx: Pick<RequestContext, 'body' | 'outgoing'>): Buffer | undefined {
  if (!ctx.body || ctx.body.bytes.length === 0) return undefined;
  const codings = contentCodings(ctx.outgoing.headers);
  if (!codings.length) return undefined;
  try {
    return undoContentCoding(ctx.body.bytes, codings);
  } catch {
    return undefined;
  }
}

/** A WebSocket message (latin1) and, when it is JSON, its strings as the server reads them. */
export function messageText(text: string): string {
  const first = text.trimStart()[0];
  if (first !== '{' && first !== '[' && first !== '"') return text;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(text, 'latin1').toString('utf8'));
  } catch {
    return text;
  }
  const out = [text];
  jsonStrings(json, out);
  return out.length > 1 ? `${text}\0${asLatin1(out.slice(1).join('\0'))}` : text;
}

/** The body's content codings (Content-Encoding, in the order applied), identity left out. */
export function contentCodings(headers: Array<[string, string]>): string[] {
  const out: string[] = [];
  for (const [k, v] of headers) {
    if (k.toLowerCase() !== 'content-encoding') continue;
    for (const c of v.split(',')) {
      const coding = c.trim().toLowerCase();
      if (coding && coding !== 'identity') out.push(coding);
    }
  }
  return out;
}
