// The `name` parameter of a multipart part's Content-Disposition header, read in one pass. It
// gives the answers of the patterns
//   /content-disposition:[^\r\n]*;\s*name="([^"]*)"/i, else /content-disposition:[^\r\n]*;\s*name=([^\s;]+)/i
// (the first header line that has one, its last `name=` parameter), which backtrack
// quadratically over a part head an agent fills with "content-disposition:" or `;name="`.

const LABEL = 'content-disposition:';
const isSpace = (c: string): boolean => /\s/.test(c);
/** ASCII-only lower case, like a non-Unicode /i pattern compares (and index for index the same text). */
const asciiLower = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** [start, end) of the rest of each line after the first occurrence of the label on it. */
function segments(head: string, lower: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let from = 0;
  for (;;) {
    const at = lower.indexOf(LABEL, from);
    if (at < 0) return out;
    let end = at + LABEL.length;
    while (end < head.length && head[end] !== '\r' && head[end] !== '\n') end++;
    out.push([at + LABEL.length, end]);
    from = end;
  }
}

/**
 * The value of the last `;\s*name=` parameter whose `;` lies in [start, end): quoted or bare. What
 * follows the `;` may run past the line, as `\s*` and `[^"]*` do in the patterns.
 */
function lastName(head: string, lower: string, [start, end]: [number, number], quoted: boolean, lastQuote: number): string | undefined {
  for (let i = head.lastIndexOf(';', end - 1); i >= start; i = i > 0 ? head.lastIndexOf(';', i - 1) : -1) {
    let p = i + 1;
    while (p < head.length && isSpace(head[p]!)) p++;
    if (!lower.startsWith('name=', p)) continue;
    const v = p + 5;
    if (quoted) {
      if (head[v] !== '"' || lastQuote <= v) continue;
      return head.slice(v + 1, head.indexOf('"', v + 1));
    }
    let stop = v;
    while (stop < head.length && head[stop] !== ';' && !isSpace(head[stop]!)) stop++;
    if (stop > v) return head.slice(v, stop);
  }
  return undefined;
}

export function dispositionName(head: string): string | undefined {
  const lower = asciiLower(head);
  const segs = segments(head, lower);
  const lastQuote = head.lastIndexOf('"');
  for (const quoted of [true, false]) {
    for (const s of segs) {
      const name = lastName(head, lower, s, quoted, lastQuote);
      if (name !== undefined) return name;
    }
  }
  return undefined;
}
