// multipart/form-data fields, read as the servers that take form fields from it read them (Rails,
// PHP, Laravel, Spring): every part between two delimiters, past a close delimiter too (parsers
// differ on what follows it), with a head that ends in a blank line of CRLFs or of bare LFs (PHP
// takes both). Linear in the body; at most MAX_PARTS parts.
import { dispositionName } from './content-disposition.ts';

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

export function multipartFields(body: Buffer, header: string, wanted: (name: string) => boolean): MultipartFields {
  const boundary = multipartBoundary(header);
  if (!boundary) return { fields: [], complete: false };
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
      const name = dispositionName(part.slice(0, split));
      if (name !== undefined && wanted(name)) fields.push([name, part.slice(split + (split === crlf ? 4 : 2)).replace(/\r?\n$/, '')]);
    }
    at = next;
  }
  return { fields, complete: closed };
}
