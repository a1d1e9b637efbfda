// Whether an XML text declares a DTD a parser may apply: an internal subset (`<!DOCTYPE m [<!ENTITY
// x "…">]>`, whose entities expand to text or markup and whose `<!ATTLIST …>` adds default
// attributes) or an external one (`SYSTEM`/`PUBLIC`, which a parser loading external DTDs reads).
// Python's ElementTree, xmlrpc.server (expat), lxml and REXML expand internal entities by default, so
// `<to>&x;</to>` is another recipient to them than to a reader that leaves `&x;` as it is.

/** What the text declares (for the ambiguity's detail), or undefined for no DTD (`<!DOCTYPE html>` included). */
export function xmlDoctype(text: string, html = false): string | undefined {
  // One DOCTYPE, before the root element; its name and external id end at `>` or at `[`.
  const at = text.search(/<!doctype/i);
  if (at < 0) return undefined;
  let end = at + 9;
  while (end < text.length && text[end] !== '>' && text[end] !== '[') end++;
  if (text[end] === '[') return 'an internal DTD subset (entities, default attributes)';
  // An HTML page's `<!DOCTYPE html PUBLIC …>` names the HTML DTD, which HTML readers never load; a
  // W3C DTD (SVG 1.1, XHTML: what editors write) says what the W3C published, not what an agent chose.
  const head = text.slice(at + 9, end);
  if (!html && /\b(?:system|public)\b/i.test(head) && !/["']https?:\/\/www\.w3\.org\/[^"']*["']\s*$/i.test(head)) return 'an external DTD';
  return undefined;
}
