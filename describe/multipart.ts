// multipart/form-data fields, read as the servers that take form fields from it read them (Rails,
// PHP, Laravel, Spring): every part between two delimiters, past a close delimiter too (parsers
// differ on what follows it), with a head that ends in a blank line of CRLFs or of bare LFs (PHP
// takes both). Linear in the body; at most MAX_PARTS parts.
import { dispositionNames, extendedParamValues } from './content-disposition.ts';
import { appendAll } from '../lib/arrays.ts';

/** At most this many parts are looked at; past it the body counts as not seen whole. */
export const MAX_PARTS = 1000;

export interface MultipartFields {
  /** [name, value] of every part with a form-data name, values as latin1 text (bytes kept). */
  fields: Array<[string, string]>;
  /** False when the body has no close delimiter or too many parts: what was not read may hold more. */
  complete: boolean;
}

/** The boundary of a multipart Content-Type header value, or undefined. */
export function multipartBoundary(header: string): string | undefined {
  const m = /;\s*boundary=(?:"([^"]{1,200})"|([^\s;]{1,200}))/i.exec(header);
  return m?.[1] ?? m?.[2];
}

/** At most this many boundaries of one header are read. */
const MAX_BOUNDARIES = 4;

/**
 * Every boundary a server may take from a Content-Type value: PHP and most parsers the first
 * `boundary` parameter, Rack the last text `boundary=` anywhere in the value (its pattern is
 * `multipart/.*boundary="?([^";,]+)`, so `xboundary=` counts there). Distinct values, in order.
 */
export function multipartBoundaries(header: string): string[] {
  const out: string[] = [];
  const add = (b: string): void => {
    if (b && !out.includes(b) && out.length < MAX_BOUNDARIES) out.push(b);
  };
  const first = multipartBoundary(header);
  if (first) add(first);
  // RFC 2231 `boundary*=utf-8''b` (or `boundary*0=`, `boundary*1=` pieces): Werkzeug (Flask) takes
  // it over a plain `boundary=`, and reads the parts under it.
  for (const b of extendedParamValues(header.split(';').slice(1), 'boundary')) add(b.trim().replace(/^"|"$/g, '').slice(0, 200));
  const lower = header.toLowerCase();
  // The last occurrence first (Rack's reading), so a cap reached by repeated parameters never drops it.
  const last = lower.lastIndexOf('boundary=');
  if (last >= 0) for (const b of boundaryValuesAt(header, last)) add(b);
  for (let at = lower.indexOf('boundary='); at >= 0 && out.length < MAX_BOUNDARIES; at = lower.indexOf('boundary=', at + 1)) {
    for (const b of boundaryValuesAt(header, at)) add(b);
  }
  return out;
}

/** The value of a `boundary=` at `at`: as most parsers end it (at a blank), and as Rack does (at `"`, `;` or `,`). */
function boundaryValuesAt(header: string, at: number): string[] {
  let v = at + 'boundary='.length;
  const quoted = header[v] === '"';
  if (quoted) v++;
  const out: string[] = [];
  for (const stop of quoted ? ['"'] : ['";,\t\r\n ', '";,']) {
    let end = v;
    while (end < header.length && end - v < 200 && !stop.includes(header[end]!)) end++;
    out.push(header.slice(v, end));
  }
  return out;
}

/**
 * The wanted fields of a multipart body, read under every boundary its Content-Type may give
 * (multipartBoundaries): the fields of each reading, complete only when every reading is.
 */
export function multipartFields(body: Buffer, header: string, wanted: (name: string, file: boolean) => boolean): MultipartFields {
  const boundaries = multipartBoundaries(header);
  if (boundaries.length === 0) return { fields: [], complete: false };
  const fields: Array<[string, string]> = [];
  let complete = true;
  for (const boundary of boundaries) {
    const one = fieldsUnder(body, boundary, wanted);
    appendAll(fields, one.fields);
    complete &&= one.complete;
  }
  return { fields, complete };
}

/** A part head naming a file (`filename=`, `filename*=`): servers hand it over as an upload, not a form field. */
const fileHead = /;\s*filename\*?\s*=/i;

function fieldsUnder(body: Buffer, boundary: string, wanted: (name: string, file: boolean) => boolean): MultipartFields {
  const text = body.toString('latin1');
  const delimiter = `--${boundary}`;
  const fields: Array<[string, string]> = [];
  let closed = false;
  let at = text.indexOf(delimiter);
  let parts = 0;
  while (at >= 0) {
    const start = at + delimiter.length;
    if (text.startsWith('--', start)) closed = true;
    const next = text.indexOf(delimiter, start);
    if (next < 0) break;
    if (++parts > MAX_PARTS) return { fields, complete: false };
    const part = text.slice(start, next);
    const crlf = part.indexOf('\r\n\r\n');
    const lf = part.indexOf('\n\n');
    const split = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf : lf;
    if (split >= 0) {
      // Under every name a parser may read the part by (RFC 2231 `name*`, the first or last `name=`).
      const head = part.slice(0, split);
      const file = fileHead.test(head);
      for (const name of dispositionNames(head)) {
        if (wanted(name, file)) fields.push([name, part.slice(split + (split === crlf ? 4 : 2)).replace(/\r?\n$/, '')]);
      }
    }
    at = next;
  }
  return { fields, complete: closed };
}
