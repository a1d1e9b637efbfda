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
