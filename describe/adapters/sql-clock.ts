// How far a constant moves the clock in a WHERE (`now() + interval '1000 years'`, `CURRENT_DATE +
// 365000`, SQLite's `datetime('now', '+1000 years')`), in seconds, read as PostgreSQL's interval
// input and SQLite's date modifiers read them. A column compared with the clock names the rows the
// data puts on one side of it; moved past every stored timestamp, the same comparison is every row
// (twenty-second pass, follow-up). Text this does not read is undefined: the caller proves nothing.

export const YEAR = 365.25 * 86400;
export const MONTH = YEAR / 12;

/** PostgreSQL's interval units (and their abbreviations, datetktbl/deltatktbl), in seconds. */
const pgUnits: Array<[RegExp, number]> = [
  [/^(millenni(um|a|ums)|mils?)$/, 1000 * YEAR],
  [/^(century|centuries|centurys|cent|c)$/, 100 * YEAR],
  [/^(decades?|decs?)$/, 10 * YEAR],
  [/^(years?|yrs?|y)$/, YEAR],
  [/^(months?|mons?)$/, MONTH],
  [/^(weeks?|w)$/, 7 * 86400],
  [/^(days?|d)$/, 86400],
  [/^(hours?|hrs?|h)$/, 3600],
  [/^(minutes?|mins?|m)$/, 60],
  [/^(seconds?|secs?|s)$/, 1],
  [/^(milliseconds?|msecs?|ms|mseconds?)$/, 0.001],
  [/^(microseconds?|usecs?|us|useconds?)$/, 0.000001],
];

const unitSeconds = (word: string): number | undefined => pgUnits.find(([re]) => re.test(word.toLowerCase()))?.[1];

/** `h:m[:s]` as seconds. */
function timeOfDay(token: string): number | undefined {
  const m = /^([+-]?)(\d+):(\d+)(?::(\d+(?:\.\d*)?))?$/.exec(token);
  if (!m) return undefined;
  const s = Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4] ?? 0);
  return m[1] === '-' ? -s : s;
}

/** ISO 8601's designator form (`P1000Y`, `P1Y2M3DT4H5M6S`, `PT36H`). */
function isoInterval(text: string): number | undefined {
  const m = /^P(?:([\d.]+)Y)?(?:([\d.]+)M)?(?:([\d.]+)W)?(?:([\d.]+)D)?(?:T(?:([\d.]+)H)?(?:([\d.]+)M)?(?:([\d.]+)S)?)?$/i.exec(text);
  if (!m || text.length < 2) return undefined;
  const [y, mo, w, d, h, mi, s] = m.slice(1).map((v) => (v === undefined ? 0 : Number(v)));
  const total = y! * YEAR + mo! * MONTH + w! * 7 * 86400 + d! * 86400 + h! * 3600 + mi! * 60 + s!;
  return Number.isFinite(total) ? total : undefined;
}

/**
 * Seconds of a PostgreSQL interval literal's text: `1000 years`, `@ 1 mil ago`, `1 year -2 days`,
 * `365000 0:00:00`, SQL's `1000-0` (years-months), ISO's `P1000Y`. A bare number is in `bareUnit`
 * seconds (the field a typmod names, `interval '1000' year`; else seconds). Undefined when unread.
 */
export function intervalSeconds(text: string, bareUnit = 1): number | undefined {
  const t = text.trim();
  if (/^P/i.test(t)) return isoInterval(t);
  const tokens = t.replace(/^@\s*/, '').split(/\s+/).filter(Boolean);
  if (tokens.length === 0 || tokens.length > 24) return undefined;
  let ago = false;
  if (tokens[tokens.length - 1]!.toLowerCase() === 'ago') ago = true, tokens.pop();
  let total = 0;
  let bare: number | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    // A number glued to its unit (`1000years`, `-5d`) or followed by it.
    const glued = /^([+-]?\d+(?:\.\d*)?|[+-]?\.\d+)([a-z]+)$/i.exec(tok);
    if (glued) {
      const u = unitSeconds(glued[2]!);
      if (u === undefined) return undefined;
      total += Number(glued[1]) * u;
      continue;
    }
    if (/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(tok)) {
      const next = tokens[i + 1];
      const u = next === undefined ? undefined : unitSeconds(next);
      if (u !== undefined) {
        total += Number(tok) * u;
        i++;
        continue;
      }
      if (bare !== undefined) return undefined;
      bare = Number(tok);
      continue;
    }
    const ym = /^([+-]?)(\d+)-(\d+)$/.exec(tok);
    if (ym) {
      const v = Number(ym[2]) * YEAR + Number(ym[3]) * MONTH;
      total += ym[1] === '-' ? -v : v;
      continue;
    }
    const tod = timeOfDay(tok);
    if (tod !== undefined) {
      // A bare number before a time of day counts days (`365000 0:00:00`).
      if (bare !== undefined) total += bare * 86400, bare = undefined;
      total += tod;
      continue;
    }
    return undefined;
  }
  if (bare !== undefined) total += bare * bareUnit;
  if (!Number.isFinite(total)) return undefined;
  return ago ? -total : total;
}

/**
 * Seconds SQLite's date modifiers move `'now'` by (`'+1000 years'`, `'-30 days'`, `'start of
 * month'`, `'localtime'`); undefined when a modifier is not read. Modifiers that snap or shift
 * the zone move it by less than a month each (counted as a month: only ever larger).
 */
export function sqliteModifierSeconds(modifiers: string[]): number | undefined {
  let total = 0;
  for (const raw of modifiers) {
    const mod = raw.trim().toLowerCase();
    const m = /^([+-]?\d+(?:\.\d*)?|[+-]?\.\d+)\s*(years?|months?|days?|hours?|minutes?|seconds?)$/.exec(mod);
    if (m) {
      const u = unitSeconds(m[2]!.replace(/s$/, '')) ?? unitSeconds(m[2]!);
      if (u === undefined) return undefined;
      total += Number(m[1]) * u;
      continue;
    }
    // `±YYYY-MM-DD[ HH:MM[:SS]]` (SQLite 3.42+): a shift by that many years, months and days.
    const ymd = /^([+-])(\d{1,6})-(\d{1,2})-(\d{1,2})(?:[ t](\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d*)?))?)?$/.exec(mod);
    if (ymd) {
      const v = Number(ymd[2]) * YEAR + Number(ymd[3]) * MONTH + Number(ymd[4]) * 86400 + Number(ymd[5] ?? 0) * 3600 + Number(ymd[6] ?? 0) * 60 + Number(ymd[7] ?? 0);
      total += ymd[1] === '-' ? -v : v;
      continue;
    }
    if (/^(start of (month|year|day)|localtime|utc|subsec|subsecond|weekday [0-6])$/.test(mod)) continue;
    return undefined;
  }
  return Number.isFinite(total) ? total : undefined;
}

/**
 * How far past the clock a comparison may reach and still name rows: past it, every timestamp a
 * table plausibly holds (rows made in an application's lifetime, expiries and schedules a few
 * years out) is on one side. `created_at < now() + interval '20 years'` is every row.
 */
export const CLOCK_REACH_SECONDS = 20 * YEAR;
