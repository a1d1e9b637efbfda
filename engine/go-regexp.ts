// OPA's regular-expression builtins that OPA's WASM target leaves to the host, as OPA itself runs
// them (Go's `regexp`: RE2 syntax; `Regexp.Split`, `FindAllString`, `ReplaceAllString` with Go's
// `$name` expansion). The opa-wasm SDK's own `regex.split` is JavaScript's `String.prototype.split(RegExp(p))`, which reads
// another language: `\u00AD` or `(?=…)` work there and not in OPA, `(?i)`, `\x{…}`, `\z` or
// `[[:alpha:]]` the other way round, `\s` takes Unicode spaces, and a capture group's text is put
// into the result. A policy tested with `opa test` then decided otherwise in the proxy. RE2JS is
// the JavaScript port of RE2 (linear time, the same syntax); the splitting loop is Go's.
import { RE2JS } from 're2js';

/** Compiled patterns: a policy splits by a few constants, evaluated on every request. */
const compiled = new Map<string, RE2JS>();
const MAX_COMPILED = 256;

function pattern(source: string, builtin: string): RE2JS {
  let re = compiled.get(source);
  if (re) return re;
  try {
    re = compileGo(source);
  } catch (err) {
    throw new Error(`${builtin}: ${(err as Error).message}`);
  }
  if (compiled.size >= MAX_COMPILED) compiled.clear();
  compiled.set(source, re);
  return re;
}

function compileGo(source: string): RE2JS {
  try {
    return RE2JS.compile(source);
  } catch (err) {
    // Go reads a group name given twice (RE2 refuses it); names mean nothing to a split.
    if (!/duplicate capture group name/.test((err as Error).message)) throw err;
    return RE2JS.compile(unnamed(source));
  }
}

/**
 * The pattern with its groups' names taken out (`(?P<n>` and `(?<n>` become `(`), outside escapes,
 * `\Q…\E` quotes and bracketed classes (whose first `]` is a member).
 */
function unnamed(source: string): string {
  let out = '';
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (source.startsWith('\\Q', i)) {
      const end = source.indexOf('\\E', i + 2);
      const stop = end < 0 ? source.length : end + 2;
      out += source.slice(i, stop);
      i = stop - 1;
    } else if (c === '\\') {
      out += source.slice(i, i + 2);
      i++;
    } else if (c === '[') {
      let j = i + 1;
      if (source[j] === '^') j++;
      if (source[j] === ']') j++;
      while (j < source.length && source[j] !== ']') {
        const posixClass = source.startsWith('[:', j) ? source.indexOf(':]', j + 2) : -1;
        j = source[j] === '\\' ? j + 2 : posixClass >= 0 ? posixClass + 2 : j + 1;
      }
      out += source.slice(i, j + 1);
      i = j;
    } else {
      const named = /^\(\?P?<[A-Za-z0-9_]+>/.exec(source.slice(i, i + 260));
      out += named ? '(' : c;
      if (named) i += named[0].length - 1;
    }
  }
  return out;
}

/** Go's `Regexp.Split(s, -1)` (regexp.go): empty matches right after a match are skipped, and a match at 0 of length 0 starts nothing. */
export function regexSplit(source: string, s: string): string[] {
  if (typeof source !== 'string' || typeof s !== 'string') throw new Error('regex.split: operands must be strings');
  const re = pattern(source, 'regex.split');
  if (source.length > 0 && s.length === 0) return [''];
  // No match at all (most texts a policy splits): the whole text, found by RE2JS's quicker test.
  if (!re.test(s)) return [s];
  const out: string[] = [];
  let beg = 0;
  let end = 0;
  for (const match of goMatches(re, s, -1)) {
    end = match.start;
    if (match.end !== 0) out.push(s.slice(beg, end));
    beg = match.end;
  }
  if (end !== s.length) out.push(s.slice(beg));
  return out;
}

/** Go's `allMatches` (regexp.go): at most `n` matches (all when negative), no empty match right after a match. */
function* goMatches(re: RE2JS, s: string, n: number): Generator<{ start: number; end: number }> {
  const m = re.matcher(s);
  let prevMatchEnd = -1;
  let found = 0;
  // At most one match per position (an empty match moves on by one character): bounded by s.length + 1.
  for (let pos = 0; (n < 0 || found < n) && pos <= s.length && m.find(pos);) {
    const start = m.start();
    const stop = m.end();
    let accept = true;
    if (stop === pos) {
      // An empty match: not one right after the previous match; the search moves on a whole character.
      if (start === prevMatchEnd) accept = false;
      pos += pos < s.length ? (s.codePointAt(pos)! > 0xffff ? 2 : 1) : 1;
    } else {
      pos = stop;
    }
    prevMatchEnd = stop;
    if (!accept) continue;
    found++;
    yield { start, end: stop };
  }
}

function strings(builtin: string, ...args: unknown[]): void {
  if (!args.every((a) => typeof a === 'string')) throw new Error(`${builtin}: operands must be strings`);
}

/** OPA's `regex.find_n(pattern, s, n)`: Go's `FindAllString(s, n)`. */
export function regexFindN(source: string, s: string, n: number): string[] {
  strings('regex.find_n', source, s);
  if (!Number.isInteger(n)) throw new Error('regex.find_n: operand 3 must be an integer');
  const re = pattern(source, 'regex.find_n');
  return [...goMatches(re, s, n)].map((x) => s.slice(x.start, x.end));
}

/** OPA's `regex.replace(s, pattern, value)`: Go's `ReplaceAllString`, `$1`, `${name}` and `$$` expanded as Go's `Expand` does. */
export function regexReplace(s: string, source: string, value: string): string {
  strings('regex.replace', s, source, value);
  const re = pattern(source, 'regex.replace');
  const names = re.namedGroups();
  let out = '';
  let lastMatchEnd = 0;
  const m = re.matcher(s);
  // Go's replaceAll: the search always moves on at least one character, so bounded by s.length + 1.
  for (let searchPos = 0; searchPos <= s.length && m.find(searchPos);) {
    const [start, end] = [m.start(), m.end()];
    out += s.slice(lastMatchEnd, start);
    // No replacement for an empty match right after another match.
    if (end > lastMatchEnd || start === 0) out += expand(value, s, (i) => [m.start(i), m.end(i)], names, re.groupCount());
    lastMatchEnd = end;
    const width = searchPos < s.length ? (s.codePointAt(searchPos)! > 0xffff ? 2 : 1) : 1;
    searchPos = searchPos + width > end ? searchPos + width : end;
  }
  return out + s.slice(lastMatchEnd);
}

const NAME_CHAR = /[\p{L}\p{Nd}_]/u;

/** Go's `Regexp.Expand`: `$$` is `$`; `$name`/`${name}` a group by number or name (none: empty); a malformed one is a plain `$`. */
function expand(template: string, s: string, group: (i: number) => [number, number], names: Record<string, number>, groups: number): string {
  let out = '';
  let rest = template;
  for (let cut = rest.indexOf('$'); cut >= 0; cut = rest.indexOf('$')) {
    out += rest.slice(0, cut);
    rest = rest.slice(cut + 1);
    if (rest.startsWith('$')) {
      out += '$';
      rest = rest.slice(1);
      continue;
    }
    const brace = rest.startsWith('{');
    let i = brace ? 1 : 0;
    for (const ch of rest.slice(i)) {
      if (!NAME_CHAR.test(ch)) break;
      i += ch.length;
    }
    const name = rest.slice(brace ? 1 : 0, i);
    if (name === '' || (brace && rest[i] !== '}')) {
      out += '$';
      continue;
    }
    rest = rest.slice(brace ? i + 1 : i);
    // A number only in ASCII digits, without a leading zero, under 10^8 (Go's extract).
    const num = /^(0|[1-9][0-9]{0,7})$/.test(name) ? Number(name) : -1;
    const index = num >= 0 ? num : names[name] ?? -1;
    if (index < 0 || index > groups) continue;
    const [from, to] = group(index);
    if (from >= 0) out += s.slice(from, to);
  }
  return out + rest;
}
