// Bounded copies of JSON values an agent shaped (request descriptions with their parsed bodies):
// what the studio's live view and the approvals index keep in memory instead of the whole value.

const MAX_STRING = 1024;
const MAX_ITEMS = 64;
const MAX_DEPTH = 12;

/**
 * A copy of a JSON value that serializes to about `budget` bytes at most: long strings, long
 * lists and wide or deep objects are cut, with a marker saying so. The walk visits only what it
 * keeps, so its cost is bounded by the budget, not by the size of the value.
 */
export function boundedCopy(value: unknown, budget: number, opts: { maxString?: number } = {}): { value: unknown; cut: boolean } {
  const maxString = opts.maxString ?? MAX_STRING;
  let left = budget;
  let cut = false;
  const walk = (v: unknown, depth: number): unknown => {
    if (left <= 0) {
      cut = true;
      return '…';
    }
    if (v === null || typeof v === 'number' || typeof v === 'boolean') {
      left -= 8;
      return v;
    }
    if (typeof v === 'string') {
      const keep = Math.max(0, Math.min(v.length, maxString, left));
      left -= keep + 2;
      if (keep === v.length) return v;
      cut = true;
      return `${v.slice(0, keep)}… (${v.length - keep} more characters)`;
    }
    if (typeof v !== 'object') return undefined;
    if (depth >= MAX_DEPTH) {
      cut = true;
      left -= 3;
      return '…';
    }
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      for (let i = 0; i < v.length; i++) {
        if (i >= MAX_ITEMS || left <= 0) {
          cut = true;
          out.push(`… (${v.length - i} more items)`);
          break;
        }
        out.push(walk(v[i], depth + 1));
      }
      left -= 2;
      return out;
    }
    const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    let n = 0;
    for (const k in v as Record<string, unknown>) {
      if (!Object.hasOwn(v, k)) continue;
      if (n++ >= MAX_ITEMS || left <= 0) {
        cut = true;
        out['…'] = 'more members cut';
        break;
      }
      left -= Math.min(k.length, MAX_STRING) + 4;
      out[k.length > MAX_STRING ? `${k.slice(0, MAX_STRING)}…` : k] = walk((v as Record<string, unknown>)[k], depth + 1);
    }
    return out;
  };
  const copy = walk(value, 0);
  return { value: copy, cut };
}
