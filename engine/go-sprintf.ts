// OPA's `sprintf` as OPA runs it: Go's fmt.Sprintf over the arguments as OPA hands them to it
// (topdown/strings.go): an integer is an int64 (a *big.Int past int64), a number with a fraction a
// float64, a string a string, and every other value (boolean, null, array, object) the string of
// its Rego text, `["a", 1]`. The opa-wasm SDK's own version is sprintf-js (C's printf, JavaScript's
// number text), so `%v` of an array, `%d` of 3.5, `%x` of a string or a missing argument read
// otherwise there, and a policy tested with `opa test` decided otherwise in the proxy.
// What JSON cannot carry from the WebAssembly side is not told apart: 1.0 arrives as the integer 1,
// and a set as an array.

import { trimTrailing } from '../lib/text.ts';

type GoArg = { type: 'int64' | '*big.Int'; n: bigint } | { type: 'float64'; f: number } | { type: 'string'; s: string };

interface Spec {
  /** %#v: Go syntax (a string quoted); %+v (plusV). */
  sharpV?: boolean;
  plusV?: boolean;
  plus: boolean; minus: boolean; sharp: boolean; space: boolean; zero: boolean;
  wid?: number; prec?: number;
}

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

function goArg(v: unknown): GoArg {
  if (typeof v === 'number') {
    // JSON writes 1e21 and past with an exponent, which OPA reads as a float.
    if (!Number.isInteger(v) || Math.abs(v) >= 1e21) return { type: 'float64', f: v };
    const n = BigInt(String(v)); // the digits JSON carried, not the double's exact value
    return { type: n > INT64_MAX || n < INT64_MIN ? '*big.Int' : 'int64', n };
  }
  if (typeof v === 'string') return { type: 'string', s: v };
  return { type: 'string', s: regoText(v) };
}

/** A value as Rego prints it (ast.Value.String()): objects' keys in order, strings Go-quoted. */
export function regoText(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return String(v);
  // The number's JSON text (what OPA was given): an integer in digits up to 1e21, then an exponent.
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return goQuote(v, false);
  if (Array.isArray(v)) return `[${v.map(regoText).join(', ')}]`;
  const keys = Object.keys(v as object).sort(byUtf8);
  return `{${keys.map((k) => `${goQuote(k, false)}: ${regoText((v as Record<string, unknown>)[k])}`).join(', ')}}`;
}

function byUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** strconv.Quote (ascii: QuoteToASCII). */
export function goQuote(s: string, ascii: boolean): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (c < 0x80 ? c >= 0x20 && c < 0x7f : !ascii && printable.test(ch) && !(c >= 0xd800 && c < 0xe000)) out += ch;
    else out += escapeRune(c);
  }
  return `${out}"`;
}

function escapeRune(c: number): string {
  const named: Record<number, string> = { 7: '\\a', 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t', 11: '\\v' };
  if (named[c]) return named[c]!;
  if (c >= 0xd800 && c < 0xe000) return '\\ufffd';
  if (c < 0x20 || c === 0x7f) return `\\x${c.toString(16).padStart(2, '0')}`;
  return c < 0x10000 ? `\\u${c.toString(16).padStart(4, '0')}` : `\\U${c.toString(16).padStart(8, '0')}`;
}

const runeCount = (s: string): number => Array.from(s).length;

function pad(s: string, sp: Spec, zeroOk = true): string {
  if (sp.wid === undefined) return s;
  const n = sp.wid - runeCount(s);
  if (n <= 0) return s;
  if (sp.minus) return s + ' '.repeat(n);
  return (sp.zero && zeroOk ? '0' : ' ').repeat(n) + s;
}

/** Pads a number: zeros go after its sign. */
function padNumber(num: string, sp: Spec, zeroOk: boolean): string {
  if (sp.wid !== undefined && sp.zero && zeroOk && !sp.minus && sp.wid > num.length) {
    const sign = num[0] === '-' || num[0] === '+' || num[0] === ' ' ? num[0] : '';
    return sign + '0'.repeat(sp.wid - num.length) + num.slice(sign.length);
  }
  return pad(num, { ...sp, zero: false });
}

function fmtInteger(n: bigint, verb: string, sp: Spec): string {
  const neg = n < 0n;
  const abs = neg ? -n : n;
  if (verb === 'c') return pad(String.fromCodePoint(validRune(n)), sp);
  if (verb === 'q') return pad(quoteRune(validRune(n), sp.plus), sp);
  if (verb === 'U') {
    // The int64's bits as a uint64, four hex digits at least (more with a precision).
    const u64 = neg ? 2n ** 64n + n : n;
    let u = `U+${u64.toString(16).toUpperCase().padStart(Math.max(sp.prec ?? 4, 4), '0')}`;
    if (sp.sharp && u64 <= 0x10ffffn && printable.test(String.fromCodePoint(validRune(u64)))) u += ` '${String.fromCodePoint(Number(u64))}'`;
    return pad(u, sp, false); // fmtUnicode pads with spaces whatever the flags
  }
  const base = { d: 10, v: 10, b: 2, o: 8, O: 8, x: 16, X: 16 }[verb]!;
  let digits = abs.toString(base);
  if (verb === 'X') digits = digits.toUpperCase();
  if (sp.prec !== undefined) {
    if (sp.prec === 0 && n === 0n) return pad('', { ...sp, zero: false });
    digits = digits.padStart(sp.prec, '0');
  } else if (sp.zero && !sp.minus && sp.wid !== undefined) {
    // Go counts the width for the digits and sign only: "%#08x" of 255 is 0x000000ff.
    const room = sp.wid - (neg || sp.plus || sp.space ? 1 : 0);
    digits = digits.padStart(room, '0');
  }
  const sign = neg ? '-' : sp.plus ? '+' : sp.space ? ' ' : '';
  return pad(sign + prefixOf(verb, sp, digits) + digits, { ...sp, zero: false });
}

/** math/big's Int.Format (a *big.Int formats itself): its own padding, and `+` read for %v too. */
function fmtBigInt(n: bigint, verb: string, sp: Spec): string {
  const base = { b: 2, o: 8, O: 8, d: 10, s: 10, v: 10, x: 16, X: 16 }[verb];
  if (base === undefined) return `%!${verb}(big.Int=${n})`;
  const plus = sp.plus || (verb === 'v' && sp.plusV === true);
  const sharp = sp.sharp || (verb === 'v' && sp.sharpV === true);
  const sign = n < 0n ? '-' : plus ? '+' : sp.space ? ' ' : '';
  let prefix = sharp ? ({ b: '0b', o: '0', x: '0x', X: '0X' } as Record<string, string>)[verb] ?? '' : '';
  if (verb === 'O') prefix = '0o';
  let digits = (n < 0n ? -n : n).toString(base);
  if (verb === 'X') digits = digits.toUpperCase();
  let zeros = 0;
  if (sp.prec !== undefined) {
    if (digits.length < sp.prec) zeros = sp.prec - digits.length;
    else if (digits === '0' && sp.prec === 0) return '';
  }
  const length = sign.length + prefix.length + zeros + digits.length;
  let [left, right] = [0, 0];
  if (sp.wid !== undefined && length < sp.wid) {
    const d = sp.wid - length;
    if (sp.minus) right = d;
    else if (sp.zero && sp.prec === undefined) zeros = d;
    else left = d;
  }
  return ' '.repeat(left) + sign + prefix + '0'.repeat(zeros) + digits + ' '.repeat(right);
}

function prefixOf(verb: string, sp: Spec, digits: string): string {
  if (verb === 'O') return sp.sharp && !digits.startsWith('0') ? '0o0' : '0o';
  if (!sp.sharp) return '';
  if (verb === 'b') return '0b';
  if (verb === 'o') return digits.startsWith('0') ? '' : '0';
  if (verb === 'x') return '0x';
  if (verb === 'X') return '0X';
  return '';
}

function validRune(n: bigint): number {
  return n >= 0n && n <= 0x10ffffn && !(n >= 0xd800n && n < 0xe000n) ? Number(n) : 0xfffd;
}

function quoteRune(r: number, ascii: boolean): string {
  const ch = String.fromCodePoint(r);
  if (ch === "'") return "'\\''";
  if (ch === '"') return `'"'`;
  const q = goQuote(ch, ascii);
  return `'${q.slice(1, -1)}'`;
}

/** A float's exact decimal digits (no trailing zeros) and decimal point: |f| = 0.d × 10^dp. */
interface Decimal { d: string; dp: number }

function exactDecimal(f: number): Decimal {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(f));
  const bits = view.getBigUint64(0);
  const biased = Number(bits >> 52n);
  const frac = bits & ((1n << 52n) - 1n);
  const mant = biased === 0 ? frac : frac | (1n << 52n);
  const exp = (biased === 0 ? 1 : biased) - 1075;
  if (mant === 0n) return { d: '', dp: 0 };
  const digits = exp >= 0 ? (mant << BigInt(exp)).toString() : (mant * 5n ** BigInt(-exp)).toString();
  const dp = exp >= 0 ? digits.length : digits.length + exp;
  return trim({ d: digits, dp });
}

function trim(x: Decimal): Decimal {
  const d = trimTrailing(x.d, '0');
  return d === '' ? { d: '', dp: 0 } : { d, dp: x.dp };
}

/** Go's decimal.Round: to nd digits, a tie to even. */
function round(x: Decimal, nd: number): Decimal {
  if (nd < 0 || nd >= x.d.length) return x;
  const c = x.d[nd]!;
  const up = c === '5' && nd + 1 === x.d.length ? nd > 0 && Number(x.d[nd - 1]) % 2 === 1 : c >= '5';
  if (!up) return trim({ d: x.d.slice(0, nd), dp: x.dp });
  let i = nd - 1;
  while (i >= 0 && x.d[i] === '9') i--;
  if (i < 0) return { d: '1', dp: x.dp + 1 };
  return { d: x.d.slice(0, i) + String(Number(x.d[i]) + 1), dp: x.dp };
}

/** The shortest digits that read back as f (strconv's precision -1). */
function shortest(f: number): Decimal {
  const [m, e] = Math.abs(f).toExponential().split('e');
  return trim({ d: m!.replace('.', ''), dp: Number(e) + 1 });
}

const digitAt = (x: Decimal, i: number): string => x.d[i] ?? '0';

function fmtE(x: Decimal, prec: number, e: string): string {
  let out = x.d === '' ? '0' : x.d[0]!;
  if (prec > 0) out += `.${Array.from({ length: prec }, (_, i) => digitAt(x, i + 1)).join('')}`;
  const exp = x.d === '' ? 0 : x.dp - 1;
  return `${out}${e}${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

function fmtF(x: Decimal, prec: number): string {
  let out = x.dp > 0 ? Array.from({ length: x.dp }, (_, i) => digitAt(x, i)).join('') : '0';
  if (prec > 0) out += `.${Array.from({ length: prec }, (_, i) => (x.dp + i >= 0 ? digitAt(x, x.dp + i) : '0')).join('')}`;
  return out;
}

const MASK64 = (1n << 64n) - 1n;

/** strconv's fmtX: a hexadecimal float (`0x1.8p+00`), the mantissa rounded to prec hex digits. */
function hexFloat(f: number, verb: string, prec: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(f));
  const bits = view.getBigUint64(0);
  const biased = Number(bits >> 52n);
  let mant = bits & ((1n << 52n) - 1n);
  let exp = biased === 0 ? 1 - 1023 : biased - 1023;
  if (biased !== 0) mant |= 1n << 52n;
  if (mant === 0n) exp = 0;
  mant <<= 8n;
  while (mant !== 0n && (mant & (1n << 60n)) === 0n) { mant <<= 1n; exp--; }
  if (prec >= 0 && prec < 15) {
    const shift = BigInt(prec * 4);
    const extra = (mant << shift) & ((1n << 60n) - 1n);
    mant >>= 60n - shift;
    if ((extra | (mant & 1n)) > 1n << 59n) mant++;
    mant <<= 60n - shift;
    if ((mant & (1n << 61n)) !== 0n) { mant >>= 1n; exp++; }
  }
  const hex = verb === 'X' ? '0123456789ABCDEF' : '0123456789abcdef';
  let out = `0${verb}${(mant >> 60n) & 1n}`;
  mant = (mant << 4n) & MASK64;
  if ((prec < 0 && mant !== 0n) || prec > 0) {
    out += '.';
    for (let i = 0; prec < 0 ? mant !== 0n : i < prec; i++) {
      out += hex[Number((mant >> 60n) & 15n)];
      mant = (mant << 4n) & MASK64;
    }
  }
  const e = Math.abs(exp);
  return `${out}${verb === 'X' ? 'P' : 'p'}${exp < 0 ? '-' : '+'}${e < 100 ? pad2(e) : String(e)}`;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** strconv.FormatFloat(f, verb, prec, 64) without the sign. */
function formatFloat(f: number, verb: string, prec: number): string {
  const e = verb === 'E' || verb === 'G' ? 'E' : 'e';
  if (verb === 'x' || verb === 'X') return hexFloat(f, verb, prec);
  if (verb === 'b') {
    // strconv's 'b': the 53-bit mantissa, "p", the binary exponent.
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, Math.abs(f));
    const bits = view.getBigUint64(0);
    const biased = Number(bits >> 52n);
    const frac = bits & ((1n << 52n) - 1n);
    const exp = (biased === 0 ? 1 : biased) - 1075;
    return `${biased === 0 ? frac : frac | (1n << 52n)}p${exp >= 0 ? '+' : '-'}${Math.abs(exp)}`;
  }
  if (verb === 'e' || verb === 'E') return fmtE(prec < 0 ? shortest(f) : round(exactDecimal(f), prec + 1), prec < 0 ? Math.max(shortest(f).d.length - 1, 0) : prec, e);
  if (verb === 'f') {
    const x = prec < 0 ? shortest(f) : round(exactDecimal(f), exactDecimal(f).dp + prec);
    return fmtF(x, prec < 0 ? Math.max(x.d.length - x.dp, 0) : prec);
  }
  // %g
  let x: Decimal;
  let eprec: number;
  let p = prec;
  if (prec < 0) {
    x = shortest(f);
    eprec = 6;
  } else {
    if (p === 0) p = 1;
    x = round(exactDecimal(f), p);
    eprec = p;
    if (eprec > x.d.length && x.d.length >= x.dp) eprec = x.d.length;
  }
  const exp = x.dp - 1;
  if (x.d !== '' && (exp < -4 || exp >= eprec)) {
    if (prec < 0 || p > x.d.length) p = x.d.length;
    return fmtE(x, Math.max(p - 1, 0), e);
  }
  if (prec < 0 || p > x.dp) p = x.d.length;
  return fmtF(x, Math.max(p - x.dp, 0));
}

/** fmt's fmtFloat: the verb's default precision, the sign flags, `#`, then padding. */
function fmtFloat(f: number, verb: string, sp: Spec): string {
  const v = verb === 'v' ? 'g' : verb === 'F' ? 'f' : verb;
  const prec = sp.prec ?? (v === 'e' || v === 'E' || v === 'f' ? 6 : -1);
  let num = (f < 0 ? '-' : '+') + formatFloat(f, v, prec);
  if (sp.sharp && v !== 'b') {
    // Go's own list: %#X keeps no digits, %#x does (fmt/format.go).
    let digits = v === 'g' || v === 'G' || v === 'x' ? (prec === -1 ? 6 : prec) : 0;
    let tail = '';
    const at = num.search(v === 'x' || v === 'X' ? /[pP]/ : /[eE]/);
    if (at >= 0) {
      tail = num.slice(at);
      num = num.slice(0, at);
    }
    let seen = false;
    for (const c of num.slice(1)) {
      if (c === '.') continue;
      if (c !== '0') seen = true;
      if (seen) digits--;
    }
    if (!num.includes('.')) {
      if (num.length === 2 && num[1] === '0') digits--;
      num += '.';
    }
    if (digits > 0) num += '0'.repeat(digits);
    num += tail;
  }
  if (num[0] === '+') num = sp.plus ? num : sp.space ? ` ${num.slice(1)}` : num.slice(1);
  return padNumber(num, sp, true);
}

function fmtString(s: string, verb: string, sp: Spec): string | undefined {
  if (verb === 'v' && sp.sharpV) return pad(goQuote(sp.prec !== undefined ? Array.from(s).slice(0, sp.prec).join('') : s, false), sp);
  if (verb === 's' || verb === 'v') {
    const t = sp.prec !== undefined ? Array.from(s).slice(0, sp.prec).join('') : s;
    return pad(t, sp);
  }
  if (verb === 'q') {
    const t = sp.prec !== undefined ? Array.from(s).slice(0, sp.prec).join('') : s;
    if (sp.sharp && !/[`\x00-\x08\x0a-\x1f\x7f\ufeff]/.test(t)) return pad(`\`${t}\``, sp);
    return pad(goQuote(t, sp.plus), sp);
  }
  if (verb === 'x' || verb === 'X') {
    let bytes = Buffer.from(s);
    if (sp.prec !== undefined) bytes = bytes.subarray(0, sp.prec);
    const parts = Array.from(bytes, (b) => b.toString(16).padStart(2, '0'));
    const pre = sp.sharp ? '0x' : '';
    let out = sp.space ? parts.map((p) => pre + p).join(' ') : (parts.length ? pre : '') + parts.join('');
    if (verb === 'X') out = out.toUpperCase();
    return pad(out, sp);
  }
  return undefined;
}

function fmtArg(a: GoArg, verb: string, sp: Spec): string {
  let out: string | undefined;
  if (a.type === 'string') out = fmtString(a.s, verb, sp);
  else if (a.type === 'float64') out = 'vbgGxXfFeE'.includes(verb) ? fmtFloat(a.f, verb, sp) : undefined;
  else if (a.type === 'int64') out = 'vdboOxXcqU'.includes(verb) ? fmtInteger(a.n, verb, sp) : undefined;
  else return fmtBigInt(a.n, verb, sp);
  // Go's badVerb prints the value with %v and the flags, width and precision given.
  return out ?? `%!${verb}(${a.type}=${fmtArg(a, 'v', { ...sp, sharpV: false })})`;
}

function plainV(a: GoArg): string {
  const none: Spec = { plus: false, minus: false, sharp: false, space: false, zero: false };
  return fmtArg(a, 'v', none);
}

/** fmt.Sprintf(format, args...) for OPA's arguments (JSON values as opa-wasm passes them). */
export function goSprintf(format: string, values: unknown[]): string {
  const args = values.map(goArg);
  let out = '';
  let argNum = 0;
  let reordered = false;
  const chars = Array.from(format);
  const end = chars.length;
  let i = 0;
  /** Go's parsenum: digits (a number past a million is no number, and ends the directive). */
  const parseNum = (): number | undefined => {
    let n: number | undefined;
    while (i < end && /[0-9]/.test(chars[i]!)) {
      if (n !== undefined && n > 1e6) { i = end; return undefined; }
      n = (n ?? 0) * 10 + Number(chars[i++]);
    }
    return n;
  };
  let goodArgNum = true;
  /** Go's argNumber: an explicit `[n]` (one-based) sets the argument used next. */
  const argIndex = (): boolean => {
    if (i >= end || chars[i] !== '[') return false;
    reordered = true;
    let close = -1;
    if (end - i >= 3) for (let j = i + 1; j < end; j++) if (chars[j] === ']') { close = j; break; }
    if (close < 0) { i += 1; goodArgNum = false; return false; }
    const text = chars.slice(i + 1, close).join('');
    i = close + 1;
    if (!/^[0-9]+$/.test(text) || text.length > 7) { goodArgNum = false; return false; }
    const index = Number(text) - 1;
    if (index >= 0 && index < args.length) { argNum = index; return true; }
    goodArgNum = false;
    return true;
  };
  /** Go's intFromArg: an int64 argument within a million, else none; the argument is used up if there is one. */
  const star = (): number | undefined => {
    if (argNum >= args.length) return undefined;
    const a = args[argNum++]!;
    return a.type === 'int64' && a.n <= 1000000n && a.n >= -1000000n ? Number(a.n) : undefined;
  };
  while (i < end) {
    const c = chars[i]!;
    if (c !== '%') {
      out += c;
      i++;
      continue;
    }
    i++;
    goodArgNum = true;
    const sp: Spec = { plus: false, minus: false, sharp: false, space: false, zero: false };
    for (; i < end; i++) {
      const f = chars[i];
      if (f === '+') sp.plus = true;
      else if (f === '-') { sp.minus = true; sp.zero = false; }
      else if (f === '#') sp.sharp = true;
      else if (f === ' ') sp.space = true;
      else if (f === '0') sp.zero = !sp.minus;
      else break;
    }
    let afterIndex = argIndex();
    if (i < end && chars[i] === '*') {
      i++;
      const w = star();
      if (w === undefined) out += '%!(BADWIDTH)';
      else if (w < 0) { sp.minus = true; sp.zero = false; sp.wid = -w; }
      else sp.wid = w;
      afterIndex = false;
    } else {
      sp.wid = parseNum();
      if (afterIndex && sp.wid !== undefined) goodArgNum = false;
    }
    if (i + 1 < end && chars[i] === '.') {
      i++;
      if (afterIndex) goodArgNum = false;
      afterIndex = argIndex();
      if (i < end && chars[i] === '*') {
        i++;
        const p = star();
        // A negative precision is none (BADPREC) too.
        if (p === undefined || p < 0) out += '%!(BADPREC)';
        else sp.prec = p;
        afterIndex = false;
      } else {
        sp.prec = parseNum() ?? 0;
      }
    }
    if (!afterIndex) afterIndex = argIndex();
    if (i >= end) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = chars[i++]!;
    // %v reads `+` and `#` as Go-syntax flags (plusV, sharpV), not as a sign or a prefix.
    if (verb === 'v') {
      sp.sharpV = sp.sharp;
      sp.plusV = sp.plus;
      sp.sharp = false;
      sp.plus = false;
    }
    if (verb === '%') out += '%';
    else if (!goodArgNum) out += `%!${verb}(BADINDEX)`;
    else if (argNum >= args.length) out += `%!${verb}(MISSING)`;
    else out += fmtArg(args[argNum++]!, verb, sp);
  }
  if (!reordered && argNum < args.length) out += `%!(EXTRA ${args.slice(argNum).map((a) => `${a.type}=${plainV(a)}`).join(', ')})`;
  return out;
}
