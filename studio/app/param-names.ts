// A query's or form's parameters under the names servers register them by, for the approval card,
// the studio's body reading and `airlock approvals show` (pure: bundled into the browser app and
// imported by the CLI). `?mail_to=boss@corp.example&mail.to=drop@attacker.example` reads as two
// parameters on the card, while PHP reads `mail.to` as `mail_to` and uses the last; `?to=…&TO=…`
// reads as two while ASP.NET reads one name with both values.

type Pairs = ReadonlyArray<readonly [string, string]>;

/**
 * A parameter name as PHP registers it (describe/body.ts phpName, copied for the page, which
 * imports nothing of the server; a test holds the two to one answer): leading blanks
 * dropped, the name read up to a NUL byte, `.` and blanks before the first `[` turned into `_`,
 * `a[…]` an array under `a` (a `[` with no `]` is turned into `_` too).
 */
export function phpName(raw: string): string {
  const nul = raw.indexOf('\0');
  let name = nul >= 0 ? raw.slice(0, nul) : raw;
  let start = 0;
  while (name[start] === ' ') start++;
  name = name.slice(start);
  const open = name.indexOf('[');
  const base = (open < 0 ? name : name.slice(0, open)).replace(/[ .]/g, '_');
  if (open < 0) return base;
  // A `[` with no `]` is no array: PHP 8 turns it, and blanks, dots and `[` after it, into `_`.
  return name.indexOf(']', open) > 0 ? base : `${base}_${name.slice(open + 1).replace(/[ .[]/g, '_')}`;
}

/** The `[…]` after a name PHP reads as an array (`to[]`, `to[x]`), or '' for a plain name. */
function arraySuffix(raw: string): string {
  const name = raw.replace(/^ +/, '');
  const open = name.indexOf('[');
  const nul = name.indexOf('\0');
  if (open < 0 || (nul >= 0 && nul < open) || name.indexOf(']', open) < 0) return '';
  return name.slice(open, nul >= 0 ? nul : undefined);
}

/**
 * The parameters as PHP uses them, when some name is registered under another than sent (a blank
 * before it, `.` or a blank in it, a NUL, a `[` left open, or an array under the name of another
 * parameter): each name once, with the value PHP keeps (the last; an array's members after the
 * last plain value). Undefined when every name reads as sent, plain `a[]` arrays included.
 */
export function phpReading(pairs: Pairs): Array<[string, string]> | undefined {
  const renamed = pairs.some(([k]) => phpName(k) + arraySuffix(k) !== k);
  const bases = new Map<string, string>();
  let collide = false;
  for (const [k] of pairs) {
    const n = phpName(k);
    const seen = bases.get(n);
    if (seen !== undefined && (arraySuffix(seen) === '') !== (arraySuffix(k) === '')) collide = true;
    bases.set(n, k);
  }
  if (!renamed && !collide) return undefined;
  const kept = new Map<string, Array<[string, string]>>();
  for (const [k, v] of pairs) {
    const n = phpName(k);
    const suffix = arraySuffix(k);
    const list = kept.get(n);
    // A plain value replaces what the name held; an array member replaces a plain value, else adds.
    if (!suffix || !list || list.every(([shown]) => shown === n)) kept.set(n, [[`${n}${suffix}`, v]]);
    else list.push([`${n}${suffix}`, v]);
  }
  return [...kept.values()].flat();
}

/**
 * The parameters as ASP.NET reads them (its query and form collections and model binding compare
 * names without letter case; classic ASP.NET joins a repeated name's values with commas), when two
 * names differ in letter case only. Undefined otherwise.
 */
export function aspNetReading(pairs: Pairs): Array<[string, string]> | undefined {
  const byFolded = new Map<string, { name: string; spellings: Set<string>; values: string[] }>();
  for (const [k, v] of pairs) {
    const f = k.toLowerCase();
    const e = byFolded.get(f) ?? { name: k, spellings: new Set<string>(), values: [] };
    e.spellings.add(k);
    e.values.push(v);
    byFolded.set(f, e);
  }
  if (![...byFolded.values()].some((e) => e.spellings.size > 1)) return undefined;
  return [...byFolded.values()].map((e) => [e.name, e.values.join(',')]);
}

/**
 * A parameter name as Rack 2 (Rails, Sinatra) registers a plain one: brackets before it and after
 * it dropped (`[to]`, `]to`, `to]` are `to`), or undefined for a name it reads otherwise (an array
 * `to[]`, a hash `user[email]`: what follows the first name is not brackets alone).
 */
export function rackName(raw: string): string | undefined {
  let start = 0;
  while (raw[start] === '[' || raw[start] === ']') start++;
  let end = start;
  while (end < raw.length && raw[end] !== '[' && raw[end] !== ']') end++;
  let after = end;
  while (raw[after] === ']') after++;
  return end > start && after === raw.length ? raw.slice(start, end) : undefined;
}

/**
 * The parameters as Rack 2 uses them, when some plain name is registered under another than sent
 * (`[to]` is `to`): each such name once, with the last value (Rack keeps the last). Undefined when
 * every name reads as sent.
 */
export function rackReading(pairs: Pairs): Array<[string, string]> | undefined {
  if (!pairs.some(([k]) => { const n = rackName(k); return n !== undefined && n !== k; })) return undefined;
  const kept = new Map<string, string>();
  for (const [k, v] of pairs) {
    const n = rackName(k);
    if (n === undefined) continue;
    kept.delete(n);
    kept.set(n, v);
  }
  return [...kept.entries()];
}

/** The note said with each reading: what the server does with the names. */
export const PHP_HOW = 'as PHP reads it (a blank before a name dropped, "." and blanks in it read as "_", the last of a repeated name used)';
export const RACK_HOW = 'as Rack 2 (Rails, Sinatra) reads it (brackets around a name dropped, the last of a repeated name used)';
export const ASPNET_HOW = 'as ASP.NET reads it (names in any letter case are one name, its values joined by commas)';
