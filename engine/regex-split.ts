// OPA's `regex.split` as OPA itself runs it (Go's `regexp`: RE2 syntax, `Regexp.Split(s, -1)`).
// The opa-wasm SDK's own version is JavaScript's `String.prototype.split(RegExp(p))`, which reads
// another language: `\u00AD` or `(?=…)` work there and not in OPA, `(?i)`, `\x{…}`, `\z` or
// `[[:alpha:]]` the other way round, `\s` takes Unicode spaces, and a capture group's text is put
// into the result. A policy tested with `opa test` then decided otherwise in the proxy. RE2JS is
// the JavaScript port of RE2 (linear time, the same syntax); the splitting loop is Go's.
import { RE2JS } from 're2js';

/** Compiled patterns: a policy splits by a few constants, evaluated on every request. */
const compiled = new Map<string, RE2JS>();
const MAX_COMPILED = 256;

function pattern(source: string): RE2JS {
  let re = compiled.get(source);
  if (re) return re;
  try {
    re = compileGo(source);
  } catch (err) {
    throw new Error(`regex.split: ${(err as Error).message}`);
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
  const re = pattern(source);
  if (source.length > 0 && s.length === 0) return [''];
  // No match at all (most texts a policy splits): the whole text, found by RE2JS's quicker test.
  if (!re.test(s)) return [s];
  const m = re.matcher(s);
  const out: string[] = [];
  let beg = 0;
  let end = 0;
  let prevMatchEnd = -1;
  // At most one match per position (an empty match moves on by one character): bounded by s.length + 1.
  for (let pos = 0; pos <= s.length && m.find(pos);) {
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
    end = start;
    if (stop !== 0) out.push(s.slice(beg, end));
    beg = stop;
  }
  if (end !== s.length) out.push(s.slice(beg));
  return out;
}
