// Rows as CSV for a spreadsheet (replay's export of changed rows): the URLs, rules and reasons in
// them are text an agent chose. Pure: bundled into the browser app and tested in Node.

/**
 * One cell. A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, a tab, CR or NUL first)
 * gets a `'` before it, and so does such a character after a `;`, tab or line break inside it: Excel
 * in a locale whose list separator is `;` (German, French …) splits the line there whatever the
 * commas' quoting says, and `x;=HYPERLINK(…)` became a cell of its own that ran as a formula. A cell
 * holding a separator, quote or line break is quoted (RFC 4180).
 */
export function csvCell(v: string): string {
  let safe = /^[=+\-@\t\r\0]/.test(v) ? `'${v}` : v;
  // A reader splitting on `;` or a tab (or a line break it does not see quoted) starts a cell inside
  // this one, where quoting on `,` does not reach: what would begin it as a formula gets the `'` too.
  safe = safe.replace(/([;\t\r\n][ "]*)(?=[=+\-@\t\r\0])/g, "$1'");
  return /[",;\t\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** A header line and one line per row, CRLF between them (RFC 4180). */
export function csvText(head: string[], rows: Array<Record<string, string>>): string {
  return [head.map(csvCell).join(','), ...rows.map((r) => head.map((k) => csvCell(String(r[k] ?? ''))).join(','))].join('\r\n');
}
