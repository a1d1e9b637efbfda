// Small linear-time string helpers for text an agent controls. They stand in for regular
// expressions like /\.+$/ that backtrack quadratically on long runs (test/fuzz/redos.test.ts
// checks every regular expression in the tree with a ReDoS checker).

/** `text` without any trailing run of `char` (a single character): "a.b.." → "a.b". */
export function trimTrailing(text: string, char: string): string {
  let end = text.length;
  while (end > 0 && text[end - 1] === char) end--;
  return end === text.length ? text : text.slice(0, end);
}

const unprintable = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text an agent chose (a URL, a policy's reason quoting the request, a tool name, a body), made
 * safe to print on a terminal or in a log read as lines: C0 and C1 control characters (ESC starts
 * the sequences that move the cursor, erase lines and recolour; CR rewrites a line), DEL, line
 * separators and the bidirectional marks that reorder what is shown become visible escapes
 * (`\x1b`, `\u202e`). With `lines`, line feeds and tabs stay; otherwise they are escaped too, so
 * a one-line entry stays one line and cannot print a forged one.
 */
export function terminalText(text: string, lines = false): string {
  return text.replace(unprintable, (c) => {
    if (lines && (c === '\n' || c === '\t')) return c;
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

const jsonLetters: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/**
 * JSON's string escapes undone in place (`\u0073` → `s`, `\n` → a line break); anything else is
 * left as it is. What a JSON text's strings read as, or what a server that puts text into JSON
 * unescaped hands its reader.
 */
export function jsonUnescaped(s: string): string {
  if (!s.includes('\\')) return s;
  return s.replace(/\\(?:u([0-9a-fA-F]{4})|(["\\/bfnrt]))/g, (_, hex: string | undefined, c: string) => (hex ? String.fromCharCode(parseInt(hex, 16)) : (jsonLetters[c] ?? c)));
}
