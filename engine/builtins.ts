// Rego builtins that OPA's WASM target does not compile natively, written as OPA's Go writes them
// (the opa-wasm SDK's JavaScript `regex.split`, `sprintf` and YAML reading read other languages:
// go-regexp.ts, go-sprintf.ts, go-yaml.ts; the rest: go-text.ts, go-semver.ts, go-net.ts, go-jwt.ts);
// test/engine/builtins-parity.test.ts holds each to the `opa` binary's answers. The time builtins read the evaluation's clock, which is the real time
// live and the captured request's time during replay, so replays are deterministic.
import crypto from 'node:crypto';
import { goSprintf } from './go-sprintf.ts';
import { goFormat, namedLayouts } from './go-time-format.ts';
import { goUtf8 } from './go-utf8.ts';
import { yamlIsValid, yamlUnmarshal } from './go-yaml.ts';
import { regexFindN, regexReplace, regexSplit } from './go-regexp.ts';
import { semverCompare, semverIsValid } from './go-semver.ts';
import { base64UrlEncodeNoPad, globQuoteMeta, hexDecode, hexEncode, indexOfN, stringsCount, stringsSplitN } from './go-text.ts';
import { cidrIsValid } from './go-net.ts';
import { jwtDecode, jwtDecodeVerify, jwtVerify, jwtVerifyHs } from './go-jwt.ts';
import { trimTrailing } from '../lib/text.ts';
import { emptyMap, lookupTable } from '../lib/records.ts';

export type BuiltinFn = (...args: any[]) => unknown;

/** Nanoseconds since the epoch as seen by the current evaluation. */
export interface EvalClock {
  nowNs(): number;
}

export const systemClock: EvalClock = { nowNs: () => Date.now() * 1e6 };

const NS_PER_MS = 1e6;

/** Go's time.Parse(time.RFC3339, s) as OPA calls it: fields in range, `T` and `Z` upper case, within int64 nanoseconds. */
export function parseRfc3339Ns(s: string): number {
  const bad = (): never => { throw new Error(`time.parse_rfc3339_ns: invalid RFC 3339 time "${s}"`); };
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|([+-])(\d{2}):(\d{2}))$/.exec(typeof s === 'string' ? s : '') ?? bad();
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const day = new Date(0);
  day.setUTCFullYear(y, mo, 0);
  if (mo < 1 || mo > 12 || d < 1 || d > day.getUTCDate() || h > 23 || mi > 59 || sec > 59) bad();
  // Go's layout parser (after its strict RFC 3339 path fails) takes an offset up to 24:60.
  if (m[9] && (Number(m[10]) > 24 || Number(m[11]) > 60)) bad();
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);
  t.setUTCHours(h, mi, sec, 0);
  const offset = m[9] ? (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 3600 + Number(m[11]) * 60) : 0;
  const frac = BigInt(((m[7] ?? '') + '000000000').slice(0, 9));
  const ns = (BigInt(t.getTime()) / 1000n - BigInt(offset)) * 1000000000n + frac;
  if (ns >= TWO63 || ns < -TWO63) bad();
  return Number(ns);
}

// The parsers below are Go's (time.ParseDuration, OPA's parse_bytes.go and parse_units.go) step
// by step, so a string OPA refuses is refused here (no trimming, no spaces) and one it reads is read
// to the same number: integers in BigInt, the fraction scaled as Go scales it.
const durationUnitsNs: Readonly<Record<string, bigint>> = lookupTable({
  ns: 1n, us: 1000n, '\u00b5s': 1000n, '\u03bcs': 1000n, ms: 1000000n, s: 1000000000n, m: 60000000000n, h: 3600000000000n,
});
const TWO63 = 2n ** 63n;

/** Go's time.ParseDuration. */
function goParseDuration(orig: string): bigint {
  const bad = (): never => { throw new Error(`time: invalid duration "${orig}"`); };
  let s = orig;
  let neg = false;
  if (s[0] === '-' || s[0] === '+') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') bad();
  let d = 0n;
  while (s !== '') {
    if (!/^[0-9.]/.test(s)) bad();
    const int = /^[0-9]*/.exec(s)![0];
    let v = 0n;
    for (const c of int) {
      v = v * 10n + BigInt(c);
      if (v > TWO63) bad();
    }
    s = s.slice(int.length);
    let f = 0n;
    let scale = 1;
    let post = false;
    if (s[0] === '.') {
      const frac = /^[0-9]*/.exec(s.slice(1))![0];
      post = frac.length > 0;
      let overflow = false;
      for (const c of frac) {
        if (overflow) continue;
        if (f > (TWO63 - 1n) / 10n) { overflow = true; continue; }
        const y = f * 10n + BigInt(c);
        if (y > TWO63) { overflow = true; continue; }
        f = y;
        scale *= 10;
      }
      s = s.slice(1 + frac.length);
    }
    if (int === '' && !post) bad();
    const u = /^[^0-9.]*/.exec(s)![0];
    if (u === '') bad();
    s = s.slice(u.length);
    const unit = durationUnitsNs[u] ?? bad();
    if (v > TWO63 / unit) bad();
    v *= unit;
    if (f > 0n) {
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > TWO63) bad();
    }
    d += v;
    if (d > TWO63) bad();
  }
  if (neg) return -d;
  if (d > TWO63 - 1n) bad();
  return d;
}

const extendedUnitHours: Readonly<Record<string, number>> = lookupTable({ d: 24, w: 7 * 24, y: 365 * 24 });

/** OPA's time.parse_duration_ns: Go's, and days, weeks and years rewritten into hours first. */
export function parseDurationNs(s: string): number {
  if (typeof s !== 'string' || s === '') throw new Error(`time: invalid duration "${s}"`);
  if (!/[dwy]/.test(s)) return Number(goParseDuration(s));
  const m = /^([-+]?)((?:[0-9.]+(?:ms|us|\u00b5s|ns|[a-z]))+)$/.exec(s);
  if (!m) throw new Error(`time: invalid duration "${s}"`);
  // The text is number-unit pairs (the pattern above): read one pair at a time (a global replace
  // restarts at every digit of a run that has no unit after it: quadratic).
  let rewritten = m[1]!;
  const body = m[2]!;
  for (let i = 0; i < body.length;) {
    let j = i;
    while (j < body.length && (body[j] === '.' || (body[j]! >= '0' && body[j]! <= '9'))) j++;
    const digits = body.slice(i, j);
    const unit = /^(?:ms|us|\u00b5s|ns|[a-z])/.exec(body.slice(j, j + 3))![0];
    i = j + unit.length;
    const hours = extendedUnitHours[unit];
    if (hours === undefined) {
      rewritten += digits + unit;
      continue;
    }
    if (!/^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/.test(digits)) throw new Error(`time: invalid duration "${s}"`);
    rewritten += `${fixedText(Number(digits) * hours)}h`;
  }
  try {
    return Number(goParseDuration(rewritten));
  } catch {
    throw new Error(`time: invalid duration "${s}"`);
  }
}

/** strconv.FormatFloat(x, 'f', -1, 64): the shortest digits, never an exponent. */
function fixedText(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const [mant, e] = x.toExponential().split('e');
  const digits = mant!.replace('.', '');
  const exp = Number(e);
  if (exp >= digits.length - 1) return digits + '0'.repeat(exp - digits.length + 1);
  if (exp >= 0) return `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  return `0.${'0'.repeat(-exp - 1)}${digits}`;
}

/** OPA's extractNumAndUnit: the number is the run of digits, dots, signs and exponents. */
function numAndUnit(s: string, builtin: string): [string, string] {
  if (s.includes(' ')) throw new Error(`${builtin}: spaces not allowed in resource strings`);
  let cut = -1;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (!/[0-9.eE+-]/.test(c)) { cut = i; break; }
    if (c === 'e' || c === 'E') {
      if (i === s.length - 1 || !/[0-9+-]/.test(s[i + 1]!)) { cut = i; break; }
      if (s[i + 1] === '+' || s[i + 1] === '-') i++;
      const exp = /^[0-9]*/.exec(s.slice(i + 1))![0];
      if (exp.length > 6) throw new Error(`${builtin}: exponent too large`);
    }
  }
  const [num, unit] = cut === -1 ? [s, ''] : [s.slice(0, cut), s.slice(cut)];
  if (num === '') throw new Error(`${builtin}: no amount provided`);
  return [num, unit];
}

/** A decimal number as Go's big.Rat/big.Float read it: an exact fraction p/q. */
function decimalFraction(num: string, builtin: string): [bigint, bigint] {
  const m = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$/.exec(num);
  if (!m || (m[2] === '' && !m[3])) throw new Error(`${builtin}: could not parse amount to a number`);
  const frac = m[3] ?? '';
  let p = BigInt((m[2] || '0') + frac) * (m[1] === '-' ? -1n : 1n);
  let q = 10n ** BigInt(frac.length);
  const exp = Number(m[4] ?? 0);
  // Past any number a policy means (and JSON carries), not worth a megabit power of ten.
  if (Math.abs(exp) > 1000) throw new Error(`${builtin}: exponent too large`);
  if (exp >= 0) p *= 10n ** BigInt(exp);
  else q *= 10n ** BigInt(-exp);
  return [p, q];
}

const absBig = (x: bigint): bigint => (x < 0n ? -x : x);

/** p/q rounded to a 64-bit mantissa (big.Float's precision when SetString sets it), half to even: [mantissa, exponent]. */
function toFloat64Bits(p: bigint, q: bigint): [bigint, number] {
  if (p === 0n) return [0n, 0];
  const sign = p < 0n ? -1n : 1n;
  const a = absBig(p);
  let e = a.toString(2).length - q.toString(2).length - 64;
  let num = e >= 0 ? a : a << BigInt(-e);
  let den = e >= 0 ? q << BigInt(e) : q;
  while (num / den >= 1n << 64n) { den <<= 1n; e++; }
  while (num / den < 1n << 63n) { num <<= 1n; e--; }
  let mant = num / den;
  const rem = (num % den) * 2n;
  if (rem > den || (rem === den && (mant & 1n) === 1n)) mant++;
  if (mant === 1n << 64n) { mant >>= 1n; e++; }
  return [sign * mant, e];
}

const byteUnits: Readonly<Record<string, bigint>> = lookupTable({
  '': 1n, kb: 1000n, k: 1000n, kib: 1024n, ki: 1024n, mb: 1000n ** 2n, m: 1000n ** 2n, mib: 1024n ** 2n, mi: 1024n ** 2n,
  gb: 1000n ** 3n, g: 1000n ** 3n, gib: 1024n ** 3n, gi: 1024n ** 3n, tb: 1000n ** 4n, t: 1000n ** 4n, tib: 1024n ** 4n, ti: 1024n ** 4n,
  pb: 1000n ** 5n, p: 1000n ** 5n, pib: 1024n ** 5n, pi: 1024n ** 5n, eb: 1000n ** 6n, e: 1000n ** 6n, eib: 1024n ** 6n, ei: 1024n ** 6n,
});

/** OPA's units.parse_bytes: big.Float (64-bit mantissa) times the unit, truncated to an integer. */
export function parseBytes(s: string): number {
  const [num, unit] = numAndUnit(String(s).toLowerCase().replaceAll('"', ''), 'units.parse_bytes');
  const m = byteUnits[unit];
  if (m === undefined) throw new Error(`units.parse_bytes: byte unit ${unit} not recognized`);
  const [p, q] = decimalFraction(num, 'units.parse_bytes');
  const [mant, e] = toFloat64Bits(p, q);
  const [prod, pe] = toFloat64Bits(mant * m, 1n);
  const exp = e + pe;
  const total = exp >= 0 ? prod << BigInt(exp) : prod / (1n << BigInt(-exp));
  return Number(total);
}

/** OPA's units.parse: exact fractions (big.Rat); an integer exactly, else ten decimals. */
function parseUnits(s: string): number {
  let [num, unit] = numAndUnit(String(s).replaceAll('"', ''), 'units.parse');
  if (unit.length > 1) unit = unit[0] + unit.slice(1).toLowerCase();
  const k = 1000n;
  const units: Record<string, [bigint, bigint]> = {
    m: [1n, 1000n], '': [1n, 1n], k: [k, 1n], K: [k, 1n], ki: [1024n, 1n], Ki: [1024n, 1n], M: [k ** 2n, 1n], mi: [1024n ** 2n, 1n], Mi: [1024n ** 2n, 1n],
    g: [k ** 3n, 1n], G: [k ** 3n, 1n], gi: [1024n ** 3n, 1n], Gi: [1024n ** 3n, 1n], t: [k ** 4n, 1n], T: [k ** 4n, 1n], ti: [1024n ** 4n, 1n], Ti: [1024n ** 4n, 1n],
    p: [k ** 5n, 1n], P: [k ** 5n, 1n], pi: [1024n ** 5n, 1n], Pi: [1024n ** 5n, 1n], e: [k ** 6n, 1n], E: [k ** 6n, 1n], ei: [1024n ** 6n, 1n], Ei: [1024n ** 6n, 1n],
  };
  const u = units[unit];
  if (!u) throw new Error(`units.parse: unit ${unit} not recognized`);
  const [p0, q0] = decimalFraction(num, 'units.parse');
  const p = p0 * u[0];
  const q = q0 * u[1];
  if (p % q === 0n) return Number(p / q);
  // big.Rat.FloatString(10): ten decimals, the last rounded half away from zero.
  const scaled = absBig(p) * 10n ** 10n;
  let digits = scaled / q;
  if ((scaled % q) * 2n >= q) digits++;
  const text = digits.toString().padStart(11, '0');
  return Number(`${p < 0n ? '-' : ''}${text.slice(0, -10)}.${text.slice(-10)}`);
}

/** OPA's tzTime: `ns` or `[ns, zone, layout?]`; ns an exact int64 ("timestamp too big" otherwise). */
function zonedTime(arg: unknown): { ns: bigint; zone: string; layout: string } {
  const [n, tz = '', layout = ''] = Array.isArray(arg) ? arg : [arg];
  if (typeof n !== 'number' || typeof tz !== 'string' || typeof layout !== 'string' || (Array.isArray(arg) && arg.length === 0)) {
    throw new Error('operand 1 must be either number (ns) or [number (ns), string (tz)]');
  }
  if (!Number.isInteger(n) || Math.abs(n) >= 2 ** 63) throw new Error('timestamp too big');
  // "Local" is the machine's zone in OPA; the proxy's machines and OPA's containers read UTC.
  // The digits JSON carried (OPA reads those exactly), not the double's binary value.
  return { ns: BigInt(String(n)), zone: tz === '' || tz === 'Local' ? 'UTC' : tz, layout };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall clock in a zone (Go's time.In), and the zone's offset from UTC in seconds then. */
function wallClock(ns: bigint, zone: string): { y: number; mo: number; d: number; h: number; mi: number; s: number; wd: number; frac: number; offset: number } {
  let sec = ns / 1000000000n;
  let frac = Number(ns % 1000000000n);
  if (frac < 0) { sec -= 1n; frac += 1e9; }
  const ms = Number(sec) * 1000;
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, year: 'numeric', month: 'numeric', day: 'numeric', era: 'short',
      hour: 'numeric', minute: 'numeric', second: 'numeric', hourCycle: 'h23',
    });
    if (formatters.size > 64) formatters.clear();
    formatters.set(zone, f);
  }
  const parts = f.formatToParts(new Date(ms));
  const get = (t: string): number => Number(parts.find((p) => p.type === t)?.value ?? 0);
  const era = parts.find((p) => p.type === 'era')?.value;
  const y = era === 'BC' || era === 'B' ? 1 - get('year') : get('year');
  const [mo, d, h, mi, s] = [get('month'), get('day'), get('hour'), get('minute'), get('second')];
  // The wall clock read as if it were UTC (setUTCFullYear: Date.UTC reads years 0-99 as 19xx).
  const wallDate = new Date(0);
  wallDate.setUTCFullYear(y, mo - 1, d);
  wallDate.setUTCHours(h, mi, s, 0);
  const offset = Math.round((wallDate.getTime() - ms) / 1000);
  return { y, mo, d, h, mi, s, wd: wallDate.getUTCDay(), frac, offset };
}

const weekdays = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const two = (n: number): string => String(n).padStart(2, '0');

/** Go's time.Format with RFC3339Nano: fraction without trailing zeros, "Z" or the zone's offset. */
function rfc3339Nano(ns: bigint, zone: string): string {
  const w = wallClock(ns, zone);
  const frac = w.frac ? `.${trimTrailing(String(w.frac).padStart(9, '0'), '0')}` : '';
  const off = Math.abs(w.offset);
  const zoneText = w.offset === 0 ? 'Z' : `${w.offset < 0 ? '-' : '+'}${two(Math.floor(off / 3600))}:${two(Math.floor(off / 60) % 60)}`;
  const year = w.y >= 0 ? String(w.y).padStart(4, '0') : `-${String(-w.y).padStart(4, '0')}`;
  return `${year}-${two(w.mo)}-${two(w.d)}T${two(w.h)}:${two(w.mi)}:${two(w.s)}${frac}${zoneText}`;
}

/** Go's url.QueryEscape: every byte but letters, digits and `-_.~` escaped, a space as `+`. */
function queryEscape(s: string): string {
  if (typeof s !== 'string') throw new Error('urlquery.encode: operand 1 must be string');
  let out = '';
  for (const b of Buffer.from(s)) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9_.~-]/.test(c) ? c : c === ' ' ? '+' : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Go's url.QueryUnescape: `%` must start two hex digits; the bytes as Go's JSON writes them (goUtf8). */
function queryUnescape(s: string): string {
  if (typeof s !== 'string') throw new Error('urlquery.decode: operand 1 must be string');
  const src = Buffer.from(s);
  const out: number[] = [];
  for (let i = 0; i < src.length; i++) {
    const b = src[i]!;
    if (b === 0x25) {
      const hex = src.subarray(i + 1, i + 3).toString('latin1');
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw new Error(`invalid URL escape "${src.subarray(i, i + 3).toString('latin1')}"`);
      out.push(parseInt(hex, 16));
      i += 2;
    } else out.push(b === 0x2b ? 0x20 : b);
  }
  return goUtf8(Uint8Array.from(out));
}

/** Go's url.Values.Encode of OPA's object: keys in byte order, each value (a string, or strings) as `k=v`. */
function encodeObject(o: unknown): string {
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw new Error('urlquery.encode_object: operand 1 must be object');
  const keys = Object.keys(o).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const parts: string[] = [];
  for (const k of keys) {
    const v = (o as Record<string, unknown>)[k];
    const values = typeof v === 'string' ? [v] : Array.isArray(v) ? v : undefined;
    if (!values || !values.every((x) => typeof x === 'string')) throw new Error('urlquery.encode_object: values must be strings, arrays or sets of strings');
    for (const x of values as string[]) parts.push(`${queryEscape(k)}=${queryEscape(x)}`);
  }
  return parts.join('&');
}

/** Go's url.ParseQuery: `&`-separated, a `;` or a bad escape anywhere is an error, repeated keys collected. */
function decodeObject(s: string): Record<string, string[]> {
  if (typeof s !== 'string') throw new Error('urlquery.decode_object: operand 1 must be string');
  const out: Record<string, string[]> = emptyMap();
  for (const pair of s.split('&')) {
    if (pair.includes(';')) throw new Error('invalid semicolon separator in query');
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const [k, v] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
    const key = queryUnescape(k);
    (out[key] ??= []).push(queryUnescape(v));
  }
  return out;
}

/** OPA's `time.diff` (icza/gox's algorithm): years to seconds between two times, in the first one's zone. */
function timeDiff(a: unknown, b: unknown): number[] {
  const t1 = zonedTime(a);
  const t2 = zonedTime(b);
  // The second time's zone is read too (an unknown zone is an error), though not used.
  wallClock(t2.ns, t2.zone);
  const [early, late] = t1.ns > t2.ns ? [t2.ns, t1.ns] : [t1.ns, t2.ns];
  const x = wallClock(early, t1.zone);
  const y = wallClock(late, t1.zone);
  let [year, month, day, hour, min, sec] = [y.y - x.y, y.mo - x.mo, y.d - x.d, y.h - x.h, y.mi - x.mi, y.s - x.s];
  if (sec < 0) { sec += 60; min--; }
  if (min < 0) { min += 60; hour--; }
  if (hour < 0) { hour += 24; day--; }
  if (day < 0) {
    // The days of the earlier time's month.
    const d = new Date(0);
    d.setUTCFullYear(x.y, x.mo, 0);
    day += d.getUTCDate();
    month--;
  }
  if (month < 0) { month += 12; year--; }
  return [year, month, day, hour, min, sec];
}

/** OPA's `numbers.range_step`: from `a` to `b` inclusive by a positive whole step, counting down when `a` > `b`. */
function rangeStep(a: unknown, b: unknown, step: unknown): number[] {
  if (![a, b, step].every(Number.isInteger)) throw new Error('numbers.range_step: operands must be integers');
  const [from, to, by] = [a, b, step] as [number, number, number];
  if (by <= 0) throw new Error('numbers.range_step: step must be a positive number above zero');
  const out: number[] = [];
  if (from <= to) for (let i = from; i <= to; i += by) out.push(i);
  else for (let i = from; i >= to; i -= by) out.push(i);
  return out;
}

/**
 * A builtin's error makes its expression undefined, as OPA does (`opa eval`, `opa test`, and the
 * builtins compiled into WebAssembly): a policy decides here as it was tested. An uncaught throw
 * would fail the whole evaluation (a deny) where OPA goes on, see docs/policies.md.
 */
function undefinedOnError(fn: BuiltinFn): BuiltinFn {
  return (...args) => {
    try {
      return fn(...args);
    } catch {
      return undefined;
    }
  };
}

const hash = (alg: string) => (s: string): string => crypto.createHash(alg).update(String(s)).digest('hex');
const hmac = (alg: string) => (x: string, key: string): string => crypto.createHmac(alg, String(key)).update(String(x)).digest('hex');

/** The custom builtins, bound to a clock. */
export function makeBuiltins(clock: EvalClock): Record<string, BuiltinFn> {
  return Object.fromEntries(Object.entries(goBuiltins(clock)).map(([name, fn]) => [name, undefinedOnError(fn)]));
}

/** The builtins as OPA's Go implements them; each throws where OPA's returns an error. */
export function goBuiltins(clock: EvalClock): Record<string, BuiltinFn> {
  return {
    'time.now_ns': () => clock.nowNs(),
    'regex.split': regexSplit,
    'yaml.unmarshal': yamlUnmarshal,
    'yaml.is_valid': yamlIsValid,
    sprintf: (format: unknown, values: unknown) => {
      if (typeof format !== 'string' || !Array.isArray(values)) throw new Error('sprintf: operands must be a string and an array');
      return goSprintf(format, values);
    },
    'time.parse_rfc3339_ns': (s: string) => parseRfc3339Ns(s),
    'time.parse_duration_ns': (s: string) => parseDurationNs(s),
    'time.date': (arg: unknown) => {
      const t = zonedTime(arg);
      const w = wallClock(t.ns, t.zone);
      return [w.y, w.mo, w.d];
    },
    'time.clock': (arg: unknown) => {
      const t = zonedTime(arg);
      const w = wallClock(t.ns, t.zone);
      return [w.h, w.mi, w.s];
    },
    'time.weekday': (arg: unknown) => {
      const t = zonedTime(arg);
      return weekdays[wallClock(t.ns, t.zone).wd];
    },
    'time.add_date': (ns: number, years: number, months: number, days: number) => {
      const t = zonedTime(ns);
      if (![years, months, days].every(Number.isInteger)) throw new Error('time.add_date: operands must be integers');
      let sec = t.ns / 1000000000n;
      let rest = t.ns % 1000000000n;
      if (rest < 0n) { sec -= 1n; rest += 1000000000n; }
      const d = new Date(Number(sec) * 1000);
      d.setUTCFullYear(d.getUTCFullYear() + years, d.getUTCMonth() + months, d.getUTCDate() + days);
      // OPA's toSafeUnixNano: the result must fit int64 nanoseconds (1678 to 2262).
      const out = BigInt(d.getTime()) * 1000000n + rest;
      if (Number.isNaN(d.getTime()) || out >= TWO63 || out < -TWO63) throw new Error('time outside of valid range');
      return Number(out);
    },
    'time.format': (arg: unknown) => {
      const t = zonedTime(arg);
      if (t.layout === '') return rfc3339Nano(t.ns, t.zone);
      return goFormat(wallClock(t.ns, t.zone), namedLayouts[t.layout] ?? t.layout, t.zone === 'UTC');
    },
    'crypto.sha256': hash('sha256'),
    'crypto.sha1': hash('sha1'),
    'crypto.md5': hash('md5'),
    'crypto.hmac.md5': hmac('md5'),
    'crypto.hmac.sha1': hmac('sha1'),
    'crypto.hmac.sha256': hmac('sha256'),
    'crypto.hmac.sha512': hmac('sha512'),
    'crypto.hmac.equal': (a: string, b: string) => {
      const [x, y] = [Buffer.from(String(a)), Buffer.from(String(b))];
      return x.length === y.length && crypto.timingSafeEqual(x, y);
    },
    'time.diff': timeDiff,
    'numbers.range_step': rangeStep,
    'urlquery.encode_object': encodeObject,
    'urlquery.decode_object': decodeObject,
    'regex.find_n': regexFindN,
    'regex.replace': regexReplace,
    'strings.count': stringsCount,
    'strings.split_n': stringsSplitN,
    indexof_n: indexOfN,
    'hex.encode': hexEncode,
    'hex.decode': hexDecode,
    'base64url.encode_no_pad': base64UrlEncodeNoPad,
    'glob.quote_meta': globQuoteMeta,
    'semver.is_valid': semverIsValid,
    'semver.compare': semverCompare,
    'net.cidr_is_valid': cidrIsValid,
    'io.jwt.decode': jwtDecode,
    'io.jwt.decode_verify': jwtDecodeVerify(() => clock.nowNs()),
    ...Object.fromEntries(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'].map((alg) => [`io.jwt.verify_${alg.toLowerCase()}`, jwtVerify(alg)])),
    'io.jwt.verify_eddsa': jwtVerify('EdDSA'),
    'io.jwt.verify_hs256': jwtVerifyHs('HS256'),
    'io.jwt.verify_hs384': jwtVerifyHs('HS384'),
    'io.jwt.verify_hs512': jwtVerifyHs('HS512'),
    // print() and trace() write to OPA's own output (opa eval, opa test); the proxy has no reader
    // for them per request, so they are true and say nothing (docs/policies.md).
    'internal.print': () => true,
    trace: () => true,
    'units.parse_bytes': (s: string) => parseBytes(s),
    'units.parse': (s: string) => parseUnits(s),
    'urlquery.encode': (s: string) => queryEscape(s),
    'urlquery.decode': (s: string) => queryUnescape(s),
    'strings.any_prefix_match': (s: string | string[], p: string | string[]) => {
      const ss = Array.isArray(s) ? s : [s];
      const ps = Array.isArray(p) ? p : [p];
      return ss.some((x) => ps.some((y) => x.startsWith(y)));
    },
    'strings.any_suffix_match': (s: string | string[], p: string | string[]) => {
      const ss = Array.isArray(s) ? s : [s];
      const ps = Array.isArray(p) ? p : [p];
      return ss.some((x) => ps.some((y) => x.endsWith(y)));
    },
  };
}
