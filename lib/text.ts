// Small linear-time string helpers for text an agent controls. They stand in for regular
// expressions like /\.+$/ that backtrack quadratically on long runs (test/fuzz/redos.test.ts
// checks every regular expression in the tree with a ReDoS checker).

/** `text` without any trailing run of `char` (a single character): "a.b.." → "a.b". */
export function trimTrailing(text: string, char: string): string {
  let end = text.length;
  while (end > 0 && text[end - 1] === char) end--;
  return end === text.length ? text : text.slice(0, end);
}
