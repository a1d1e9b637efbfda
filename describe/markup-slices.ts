// Markup fed to htmlparser2 in slices, so that deep nesting costs linear time. htmlparser2 grows its
// stack of open elements at the front (Array#unshift: a copy of the whole stack per open tag) and
// searches it for every closing tag, so 160,000 nested elements (1 MiB) held the event loop for
// seconds, tens of seconds for the readers that also searched their own stack per tag (twenty-ninth
// pass: the XML-RPC readers of engine/grant-scope.ts, the markup of a CDP command). Two ways out,
// by what the reader needs of the nesting (describe/links.ts does the first for links):
//   - `writeForgetting`: nothing; the innermost elements are kept, the outer ones forgotten (their
//     closing tags are then ignored, as stray ones are);
//   - `writeBounded`: the nesting itself (which element a text is in); past a depth the reading
//     stops and the caller says it could not read the document (never reads it otherwise).
import type { Parser } from 'htmlparser2';

/** Characters written at once: between two slices the stack is looked at. */
const SLICE = 4096;
/** Open elements kept by writeForgetting. */
const KEPT_OPEN = 256;
/**
 * Open elements writeBounded reads within: libxml2's own default limit (PHP's XML parsers) is 256;
 * an XML-RPC call or a SOAP envelope is a few levels deep, a generous document a few dozen.
 */
export const MAX_XML_DEPTH = 1024;

/** The text's slices, a surrogate pair never cut. */
function* slices(text: string): Generator<string> {
  for (let i = 0; i < text.length;) {
    let end = Math.min(text.length, i + SLICE);
    const c = text.charCodeAt(end - 1);
    if (end < text.length && c >= 0xd800 && c <= 0xdbff) end++;
    yield text.slice(i, end);
    i = end;
  }
}

/** Writes the whole text and ends the parser, keeping at most KEPT_OPEN open elements (the innermost). */
export function writeForgetting(parser: Parser, text: string): void {
  const state = parser as unknown as { stack?: unknown; foreignContext?: unknown };
  for (const slice of slices(text)) {
    parser.write(slice);
    if (Array.isArray(state.stack) && state.stack.length > KEPT_OPEN) state.stack.length = KEPT_OPEN;
    if (Array.isArray(state.foreignContext) && state.foreignContext.length > KEPT_OPEN) state.foreignContext.length = KEPT_OPEN;
  }
  parser.end();
}

/**
 * Writes the text and ends the parser while `depth()` (the caller's count of open elements, the
 * deepest so far) stays within MAX_XML_DEPTH; false, the rest unread, once it went past.
 */
export function writeBounded(parser: Parser, text: string, depth: () => number): boolean {
  for (const slice of slices(text)) {
    parser.write(slice);
    if (depth() > MAX_XML_DEPTH) return false;
  }
  parser.end();
  return depth() <= MAX_XML_DEPTH;
}
