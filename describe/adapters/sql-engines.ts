// The SQL engines (PostgreSQL's parser and SQLite, both WebAssembly) cost tens of MiB once loaded,
// and most deployments never carry SQL, so each loads when SQL first needs it. Describing stays
// synchronous: an engine not loaded yet reports the SQL unparsed (which fails closed) and counts a
// miss; `describeRequestLoaded` sees the miss, awaits the engines and describes again.

let misses = 0;

/** How many times SQL met an engine that was not loaded; a change means "load, then describe again". */
export const sqlEngineMisses = (): number => misses;

export interface EngineLoader<T> {
  /** The engine, once loaded. */
  get(): T | undefined;
  /** Loads it (once; a failed load is tried again by the next call). */
  load(): Promise<void>;
  /** Counts a miss and says why the SQL went unparsed: not loaded yet, or the load failed. */
  missing(): string;
  /**
   * Drops an engine that trapped (a WebAssembly trap or a stack overflow inside it leaves its
   * memory in an unknown state: every later call failed); the next SQL loads a fresh one.
   */
  discard(engine: T): void;
}

export function engineLoader<T>(name: string, open: () => Promise<T>): EngineLoader<T> {
  let engine: T | undefined;
  let loading: Promise<void> | undefined;
  let failure: string | undefined;
  return {
    get: () => engine,
    load() {
      loading ??= open().then(
        (e) => {
          engine = e;
          failure = undefined;
        },
        (err: unknown) => {
          loading = undefined;
          failure = err instanceof Error ? err.message : String(err);
          throw err;
        },
      );
      return loading;
    },
    discard(e) {
      if (engine !== e) return;
      engine = undefined;
      loading = undefined;
    },
    missing() {
      misses++;
      return failure === undefined ? `the ${name} was not loaded yet` : `the ${name} could not be loaded: ${failure}`;
    },
  };
}
