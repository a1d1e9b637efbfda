// Name → value maps read with names an agent chose. A plain `{}` answers `constructor`,
// `toString` and `__proto__` from Object.prototype, and assigning `__proto__` replaces its
// prototype; a map with no prototype holds only what was put in it.

/** An empty name → value map with no prototype: "__proto__" is just another name. */
export function emptyMap<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** A constant table (written in the code, looked up with input) with no prototype, frozen. */
export function lookupTable<T>(entries: Record<string, T>): Readonly<Record<string, T>> {
  return Object.freeze(Object.assign(emptyMap<T>(), entries));
}

/**
 * `Object.entries` of a parsed JSON object read by several readers of one request, listed once
 * when it is large (twenty-seventh pass). An object of thousands of keys is a dictionary V8 sorts
 * at every listing (~50–100 ms for 80,000 keys on a loaded box), and a JSON body of 80,000 keys
 * was listed four to six times by the describe step (duplicate and case-folded keys, the code
 * loads, `_method`, GraphQL's fields, SQL's fields, Stripe's). For values parsed from input and
 * never changed after (a change after the first listing would not be seen).
 */
export function entriesOnce(o: object): ReadonlyArray<readonly [string, unknown]> {
  const kept = listedOnce.get(o);
  if (kept) return kept;
  const entries = Object.entries(o);
  if (entries.length >= LISTED_ONCE_FROM) listedOnce.set(o, entries);
  return entries;
}

/** Keys from which an object's listing is kept (smaller ones are listed fast: V8 keeps them in order). */
const LISTED_ONCE_FROM = 1024;
const listedOnce = new WeakMap<object, ReadonlyArray<readonly [string, unknown]>>();
