// Appending an agent-sized list to another. `a.push(...b)` passes every item of b as an argument
// on the stack: past ~100,000 items (a MiB form of `a=&`, a query of `sql=&`) it throws "Maximum
// call stack size exceeded", and the request the agent sent fails as an internal error.

/** Appends every item of `items` to `target` (one push per item: no argument list, any length); returns `target`. */
export function appendAll<T>(target: T[], items: Iterable<T>): T[] {
  for (const item of items) target.push(item);
  return target;
}
