// Lines of a byte stream, for JSON Lines files that may be large (the audit log, captures): in
// batches as chunks arrive, never holding more than one line that is too long to use.
import { StringDecoder } from 'node:string_decoder';

export const maxLineChars = 32 * 1024 * 1024;

/**
 * The lines of a stream (LF or CRLF endings), in batches as chunks arrive: cheaper per line than
 * readline's iterator, which matters at 100,000 lines. A line longer than maxChars is never held
 * whole: it comes out as `null` and its text is dropped as it streams by.
 */
export async function* streamLines(stream: AsyncIterable<Buffer>, maxChars = maxLineChars): AsyncGenerator<Array<string | null>> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let overlong = false;
  for await (const chunk of stream) {
    const text = decoder.write(chunk);
    if (!text.includes('\n')) {
      if (!overlong) rest += text;
      if (rest.length > maxChars) [overlong, rest] = [true, ''];
      continue;
    }
    const lines: Array<string | null> = text.split('\n');
    const first = lines[0] as string;
    lines[0] = overlong || rest.length + first.length > maxChars ? null : rest + first;
    rest = lines.pop() as string;
    for (let i = 1; i < lines.length; i++) if ((lines[i] as string).length > maxChars) lines[i] = null;
    overlong = rest.length > maxChars;
    if (overlong) rest = '';
    yield lines;
  }
  rest += decoder.end();
  if (overlong) yield [null];
  else if (rest) yield [rest];
}
