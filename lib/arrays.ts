// Appending an agent-sized list to another. `a.push(...b)` passes every item of b as an argument
// on the stack: past ~100,000 items (a MiB form of `a=&`, a query of `sql=&`) it throws "Maximum
// call stack size exceeded", and the request the agent sent fails as an internal error.

/** Appends every item of `items` to `target` (one push per item: no argument list, any length); returns `target`. */
export function appendAll<T>(target: T[], items: Iterable<T>): T[] {
  for (const item of items) target.push(item);
  return target;
}

/** The stores `appendBytes` made, and how far each is written (its spare room starts there). */
const grown = new WeakMap<ArrayBufferLike, { end: number }>();

/**
 * `kept` followed by `data`, for a reader that keeps a protocol's unfinished message across reads
 * (`buf = appendBytes(buf, data)`, then `buf = buf.subarray(n)` as it consumes). A copy of what is
 * kept per read (`Buffer.concat([buf, data])`) is quadratic in the reads of one message: a MiB sent
 * 16 bytes at a time copied ~32 GiB (4.5 s of the main thread). Here the store it returns has
 * twice the room needed, and the next call writes into that room when `kept` still ends where the
 * store was written to: each byte is copied a bounded number of times. Bytes before the end are
 * never written again, so every view handed out (a message, a statement) keeps its bytes.
 */
export function appendBytes(kept: Buffer, data: Buffer): Buffer {
  if (kept.length === 0) return data;
  if (data.length === 0) return kept;
  const at = kept.byteOffset + kept.length;
  const own = grown.get(kept.buffer);
  if (own !== undefined && own.end === at && at + data.length <= kept.buffer.byteLength) {
    data.copy(Buffer.from(kept.buffer, at, data.length));
    own.end = at + data.length;
    return Buffer.from(kept.buffer, kept.byteOffset, kept.length + data.length);
  }
  const need = kept.length + data.length;
  const store = Buffer.allocUnsafeSlow(Math.max(2 * need, 4096));
  kept.copy(store, 0);
  data.copy(store, kept.length);
  grown.set(store.buffer, { end: need });
  return store.subarray(0, need);
}
