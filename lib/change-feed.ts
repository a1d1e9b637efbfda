// Change notices a store hands to its subscribers (the studio, the proxy). A subscriber that
// throws is cut off from that one notice only: a broken listener must not break the store.
import { EventEmitter } from 'node:events';

export class ChangeFeed<T> {
  private readonly events = new EventEmitter().setMaxListeners(0);

  /** Calls `fn` for every change; returns the unsubscribe function. */
  subscribe(fn: (change: T) => void): () => void {
    const safe = (change: T): void => {
      try {
        fn(change);
      } catch {
        /* the store goes on */
      }
    };
    this.events.on('change', safe);
    return () => this.events.off('change', safe);
  }

  emit(change: T): void {
    this.events.emit('change', change);
  }
}
