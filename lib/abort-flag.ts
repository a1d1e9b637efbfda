// "The agent went away" for one request. An AbortController costs more to make than most of a
// request's own work (an EventTarget, its listeners), and almost every request ends without
// anybody aborting it, so the per-request path uses this flag instead. AbortSignal has the same
// shape, so callers may pass either.

/** What a holder of the flag may do: look at it, and be called (once) when it is raised. */
export interface AbortLike {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export class AbortFlag implements AbortLike {
  aborted = false;
  private listeners: Set<() => void> | undefined;

  /** Like AbortSignal: a listener added after the abort is never called. */
  addEventListener(_type: 'abort', listener: () => void): void {
    if (!this.aborted) (this.listeners ??= new Set()).add(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    this.listeners?.delete(listener);
  }

  /** How many listeners wait for the flag now (a stop waits for the requests they hold to be answered). */
  get waiting(): number {
    return this.listeners?.size ?? 0;
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const listeners = this.listeners;
    this.listeners = undefined;
    for (const l of listeners ?? []) l();
  }
}
