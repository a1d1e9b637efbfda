// Rego builtins that OPA's WASM target does not compile natively and the opa-wasm SDK does not
// ship in JavaScript (or ships in another language: `regex.split`, regex-split.ts). The time builtins read the evaluation's clock, which is the real time live
// and the captured request's time during replay, so replays are deterministic.
import crypto from 'node:crypto';
import { regexSplit } from './regex-split.ts';

export type BuiltinFn = (...args: any[]) => unknown;

/** Nanoseconds since the epoch as seen by the current evaluation. */
export interface EvalClock {
  nowNs(): number;
}

export const systemClock: EvalClock = { nowNs: () => Date.now() * 1e6 };

const NS_PER_MS = 1e6;

export function parseRfc3339Ns(s: string): number {
  const m = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|z|[+-]\d{2}:\d{2})$/.exec(s);
  if (!m) throw new Error(`time.parse_rfc3339_ns: invalid RFC 3339 time "${s}"`);
  const ms = Date.parse(`${m[1]}T${m[2]}${m[4]!.toUpperCase()}`);
  if (Number.isNaN(ms)) throw new Error(`time.parse_rfc3339_ns: invalid RFC 3339 time "${s}"`);
  const frac = m[3] ? Number((m[3].slice(1) + '000000000').slice(0, 9)) : 0;
  return ms * NS_PER_MS + frac;
}

const durationUnitsNs: Record<string, number> = {
  ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9,
};

/** Go's time.ParseDuration, as OPA's time.parse_duration_ns uses. */
export function parseDurationNs(s: string): number {
  const str = s.trim();
  if (str === '0') return 0;
  const re = /([0-9]+(?:\.[0-9]+)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)/gy;
  let sign = 1;
  let i = 0;
  if (str[0] === '-' || str[0] === '+') {
    sign = str[0] === '-' ? -1 : 1;
    i = 1;
  }
  re.lastIndex = i;
  let total = 0;
  let matched = false;
  for (let m = re.exec(str); m; m = re.exec(str)) {
    total += Number(m[1]) * durationUnitsNs[m[2]!]!;
    matched = true;
    if (re.lastIndex === str.length) return sign * total;
  }
  if (!matched || re.lastIndex !== str.length) throw new Error(`time.parse_duration_ns: invalid duration "${s}"`);
  return sign * total;
}

const byteUnits: Record<string, number> = {
  '': 1, b: 1,
  k: 1e3, kb: 1e3, ki: 1024, kib: 1024,
  m: 1e6, mb: 1e6, mi: 1024 ** 2, mib: 1024 ** 2,
  g: 1e9, gb: 1e9, gi: 1024 ** 3, gib: 1024 ** 3,
  t: 1e12, tb: 1e12, ti: 1024 ** 4, tib: 1024 ** 4,
};

/** A number and a unit ("1.5 KiB"), trimmed first so the pattern has one way to match whitespace. */
const numberWithUnit = /^([0-9]+(?:\.[0-9]+)?|\.[0-9]+)\s*([a-zA-Z]*)$/;

export function parseBytes(s: string): number {
  const m = numberWithUnit.exec(s.trim());
  const unit = m ? byteUnits[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new Error(`units.parse_bytes: could not parse "${s}"`);
  return Math.round(Number(m[1]) * unit);
}

const siUnits: Record<string, number> = {
  '': 1, m: 1e-3, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12,
  ki: 1024, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4,
};

function parseUnits(s: string): number {
  const m = numberWithUnit.exec(s.trim());
  const unit = m ? siUnits[m[2]!] : undefined;
  if (!m || unit === undefined) throw new Error(`units.parse: could not parse "${s}"`);
  return Number(m[1]) * unit;
}

/** Accepts `ns` or `[ns, "Zone/Name"]` like OPA's time.* builtins. */
function zonedParts(arg: number | [number, string]): { y: number; mo: number; d: number; h: number; mi: number; s: number; wd: string } {
  const [ns, tz] = Array.isArray(arg) ? arg : [arg, 'UTC'];
  const date = new Date(Math.floor(ns / NS_PER_MS));
  const zone = !tz || tz === 'Local' ? 'UTC' : tz;
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone, year: 'numeric', month: 'numeric', day: 'numeric',
    hour: 'numeric', minute: 'numeric', second: 'numeric', weekday: 'long', hourCycle: 'h23',
  }).formatToParts(date);
  const get = (t: string): string => parts.find((p) => p.type === t)?.value ?? '0';
  return {
    y: Number(get('year')), mo: Number(get('month')), d: Number(get('day')),
    h: Number(get('hour')), mi: Number(get('minute')), s: Number(get('second')), wd: get('weekday'),
  };
}

const hash = (alg: string) => (s: string): string => crypto.createHash(alg).update(String(s)).digest('hex');
const hmac = (alg: string) => (x: string, key: string): string => crypto.createHmac(alg, String(key)).update(String(x)).digest('hex');

/** The custom builtins, bound to a clock. */
export function makeBuiltins(clock: EvalClock): Record<string, BuiltinFn> {
  return {
    'time.now_ns': () => clock.nowNs(),
    'regex.split': regexSplit,
    'time.parse_rfc3339_ns': (s: string) => parseRfc3339Ns(s),
    'time.parse_duration_ns': (s: string) => parseDurationNs(s),
    'time.date': (arg: number | [number, string]) => {
      const p = zonedParts(arg);
      return [p.y, p.mo, p.d];
    },
    'time.clock': (arg: number | [number, string]) => {
      const p = zonedParts(arg);
      return [p.h, p.mi, p.s];
    },
    'time.weekday': (arg: number | [number, string]) => zonedParts(arg).wd,
    'time.add_date': (ns: number, years: number, months: number, days: number) => {
      const ms = Math.floor(ns / NS_PER_MS);
      const rest = ns - ms * NS_PER_MS;
      const d = new Date(ms);
      d.setUTCFullYear(d.getUTCFullYear() + years, d.getUTCMonth() + months, d.getUTCDate() + days);
      return d.getTime() * NS_PER_MS + rest;
    },
    'time.format': (arg: number | [number, string]) => {
      const ns = Array.isArray(arg) ? arg[0] : arg;
      return new Date(Math.floor(ns / NS_PER_MS)).toISOString();
    },
    'crypto.sha256': hash('sha256'),
    'crypto.sha1': hash('sha1'),
    'crypto.md5': hash('md5'),
    'crypto.hmac.sha256': hmac('sha256'),
    'crypto.hmac.sha512': hmac('sha512'),
    'crypto.hmac.equal': (a: string, b: string) =>
      a.length === b.length && crypto.timingSafeEqual(Buffer.from(a), Buffer.from(b)),
    'units.parse_bytes': (s: string) => parseBytes(s),
    'units.parse': (s: string) => parseUnits(s),
    'urlquery.encode': (s: string) => encodeURIComponent(s).replace(/%20/g, '+'),
    'urlquery.decode': (s: string) => decodeURIComponent(String(s).replace(/\+/g, ' ')),
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
