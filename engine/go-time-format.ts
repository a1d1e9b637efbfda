// Go's time.Format layouts, as OPA's `time.format([ns, zone, layout])` uses them: the reference
// time's parts ("2006", "Jan", "_2", "15", ".000", "Z07:00", …) replaced by the time's, the rest
// kept. A zone's abbreviation ("MST") is written only for UTC: Go takes it from its own zone
// database, which JavaScript does not carry (another zone's is refused: undefined).

import { trimTrailing } from '../lib/text.ts';
import { lookupTable } from '../lib/records.ts';

export interface WallClock { y: number; mo: number; d: number; h: number; mi: number; s: number; wd: number; frac: number; offset: number }

/** OPA's named layouts (acceptedTimeFormats). */
export const namedLayouts: Readonly<Record<string, string>> = lookupTable({
  ANSIC: 'Mon Jan _2 15:04:05 2006',
  UnixDate: 'Mon Jan _2 15:04:05 MST 2006',
  RubyDate: 'Mon Jan 02 15:04:05 -0700 2006',
  RFC822: '02 Jan 06 15:04 MST',
  RFC822Z: '02 Jan 06 15:04 -0700',
  RFC850: 'Monday, 02-Jan-06 15:04:05 MST',
  RFC1123: 'Mon, 02 Jan 2006 15:04:05 MST',
  RFC1123Z: 'Mon, 02 Jan 2006 15:04:05 -0700',
  RFC3339: '2006-01-02T15:04:05Z07:00',
  RFC3339Nano: '2006-01-02T15:04:05.999999999Z07:00',
});

const months = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const days = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const pad = (n: number, w: number, c = '0'): string => String(n).padStart(w, c);

// Longest first where one is a prefix of another (Go's nextStdChunk decides the same way).
const chunks = ['January', 'Jan', 'Monday', 'Mon', 'MST', '002', '01', '02', '03', '04', '05', '06', '15', '1', '2006', '2', '__2', '_2006', '_2', '3', '4', '5',
  'PM', 'pm', '-070000', '-07:00:00', '-0700', '-07:00', '-07', 'Z070000', 'Z07:00:00', 'Z0700', 'Z07:00', 'Z07'];

function zoneText(offset: number, chunk: string): string {
  if (chunk[0] === 'Z' && offset === 0) return 'Z';
  const a = Math.abs(offset);
  const [hh, mm, ss] = [pad(Math.floor(a / 3600), 2), pad(Math.floor(a / 60) % 60, 2), pad(a % 60, 2)];
  const sign = offset < 0 ? '-' : '+';
  const body = chunk.slice(1);
  if (body === '07') return sign + hh;
  if (body === '0700') return sign + hh + mm;
  if (body === '07:00') return `${sign}${hh}:${mm}`;
  if (body === '070000') return sign + hh + mm + ss;
  return `${sign}${hh}:${mm}:${ss}`;
}

/** `utc`: the zone is UTC itself (not one at offset 0 that Go would call GMT or WET). */
export function goFormat(w: WallClock, layout: string, utc: boolean): string {
  const yday = Math.round((Date.UTC(2000, w.mo - 1, w.d) - Date.UTC(2000, 0, 1)) / 86400000) + 1
    - (w.mo > 2 && !isLeap(w.y) ? 1 : 0);
  let out = '';
  let i = 0;
  while (i < layout.length) {
    const frac = /^[.,](0+|9+)(?![0-9])/.exec(layout.slice(i));
    if (frac) {
      const n = frac[1]!.length;
      const digits = pad(w.frac, 9).slice(0, Math.min(n, 9));
      if (frac[1]![0] === '0') out += layout[i] + digits;
      else {
        const trimmed = trimTrailing(digits, '0');
        if (trimmed) out += layout[i] + trimmed;
      }
      i += frac[0].length;
      continue;
    }
    // "Jan" and "Mon" followed by a lower-case letter are text ("Monday" aside), as in Go.
    const chunk = chunks.find((c) => layout.startsWith(c, i) && !((c === 'Jan' || c === 'Mon') && /^[a-z]/.test(layout.slice(i + 3))));
    if (!chunk) {
      out += layout[i];
      i++;
      continue;
    }
    i += chunk.length;
    switch (chunk) {
      case 'January': out += months[w.mo - 1]; break;
      case 'Jan': out += months[w.mo - 1]!.slice(0, 3); break;
      case 'Monday': out += days[w.wd]; break;
      case 'Mon': out += days[w.wd]!.slice(0, 3); break;
      case 'MST':
        if (!utc) throw new Error('time.format: a zone abbreviation is known only for UTC here');
        out += 'UTC';
        break;
      case '002': out += pad(yday, 3); break;
      case '__2': out += pad(yday, 3, ' '); break;
      case '01': out += pad(w.mo, 2); break;
      case '1': out += w.mo; break;
      case '02': out += pad(w.d, 2); break;
      case '2': out += w.d; break;
      case '_2': out += pad(w.d, 2, ' '); break;
      case '_2006': out += `_${pad(w.y, 4)}`; break;
      case '2006': out += pad(w.y, 4); break;
      case '06': out += pad(w.y % 100, 2); break;
      case '15': out += pad(w.h, 2); break;
      case '03': out += pad(w.h % 12 || 12, 2); break;
      case '3': out += w.h % 12 || 12; break;
      case '04': out += pad(w.mi, 2); break;
      case '4': out += w.mi; break;
      case '05': out += pad(w.s, 2); break;
      case '5': out += w.s; break;
      case 'PM': out += w.h >= 12 ? 'PM' : 'AM'; break;
      case 'pm': out += w.h >= 12 ? 'pm' : 'am'; break;
      default: out += zoneText(w.offset, chunk);
    }
  }
  return out;
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}
