// The secret store as the proxy sees it: an index of placeholders for the describe step, an index
// of real values for the guards and the audit log's redaction, and the values to inject. Rebuilt
// when the store changes, wherever it was changed (`airlock secret set` in another process, the
// studio): the store's watch reports a change within milliseconds, and its version is asked again
// at least every `recheckMs` (1 s) in case an event is lost — not on every request. Without a
// watch, the version is asked on every use.
import { performance } from 'node:perf_hooks';
import { SecretStore } from '../state/secrets/store.ts';
import type { SecretVault } from '../state/stores.ts';
import { PlaceholderIndex } from '../describe/placeholders.ts';
import { SecretValueIndex } from './secret-values.ts';
import { precompile } from './scrubber.ts';

export class LiveSecrets {
  private index: PlaceholderIndex;
  private valueIndex: SecretValueIndex;
  private stamp: string;
  private stopWatching: (() => void) | undefined;
  private reloading: Promise<void> | undefined;
  private checking: Promise<void> | undefined;
  /** Set when a reload failed: injections are refused until the file is readable again. */
  private broken: string | undefined;
  /** The watch reported a change not yet looked at. */
  private changed = true;
  private checkedAt = 0;
  /** 0: look on every use (no watch). */
  private recheckMs = 0;
  generation = 0;

  constructor(readonly store: SecretVault, stamp: string) {
    this.index = LiveSecrets.indexOf(store);
    this.valueIndex = LiveSecrets.valuesOf(store);
    this.stamp = stamp;
    this.warmUp();
  }

  /**
   * Compiles the spelling matchers of every value and placeholder in the background, one per turn
   * of the event loop, so the first response or upload that needs one does not wait for it.
   */
  private warmUp(): void {
    const todo = [...this.valueIndex.rules().map((r) => r.value), ...this.store.list().map((s) => s.placeholder)];
    const step = (): void => {
      const next = todo.shift();
      if (next === undefined) return;
      precompile(next);
      setImmediate(step).unref();
    };
    setImmediate(step).unref();
  }

  /** The state folder's secret store, unlocked when it holds secrets and watched for changes (unless `watch: false`). */
  static async open(home: string, opts: { watch?: boolean; recheckMs?: number } = {}): Promise<LiveSecrets> {
    return LiveSecrets.over(await SecretStore.open(home), opts);
  }

  static async over(store: SecretVault, opts: { watch?: boolean; recheckMs?: number } = {}): Promise<LiveSecrets> {
    // With secrets present, an unusable master key is a startup error, not a per-request surprise.
    if (store.list().length) await store.unlock();
    const live = new LiveSecrets(store, await store.version());
    if (opts.watch !== false) {
      live.stopWatching = store.watch(() => {
        live.changed = true;
        void live.refresh().catch(() => undefined);
      });
      if (live.stopWatching) live.recheckMs = opts.recheckMs ?? 1000;
    }
    return live;
  }

  private static indexOf(store: SecretVault): PlaceholderIndex {
    return new PlaceholderIndex(store.list().map((s) => [s.name, s.placeholder]));
  }

  /** The real values, to refuse them where they are not bound and redact them from records. */
  private static valuesOf(store: SecretVault): SecretValueIndex {
    return new SecretValueIndex(store.list().map((s) => [s.name, store.reveal(s.name)]));
  }

  /** Reloads the store when it changed since the last look. */
  async refresh(): Promise<void> {
    // A look under way (the file's stamp is read off the event loop): every use meanwhile waits for it.
    if (this.checking) return this.checking;
    const now = performance.now();
    if (!this.changed && !this.broken && !this.reloading && now - this.checkedAt < this.recheckMs) return;
    this.changed = false;
    this.checkedAt = now;
    const checking = this.check().finally(() => {
      if (this.checking === checking) this.checking = undefined;
    });
    this.checking = checking;
    return checking;
  }

  private async check(): Promise<void> {
    let stamp: string;
    try {
      stamp = await this.store.version();
    } catch (err) {
      // The file's disk does not answer (withinStall): refused until it does, never used unchecked.
      this.broken = (err as Error).message;
      throw err;
    }
    if (stamp === this.stamp && !this.broken) return;
    this.reloading ??= (async () => {
      try {
        await this.store.reload();
        if (this.store.list().length) await this.store.unlock();
        this.index = LiveSecrets.indexOf(this.store);
        this.valueIndex = LiveSecrets.valuesOf(this.store);
        this.broken = undefined;
        this.generation++;
        this.warmUp();
      } catch (err) {
        this.broken = (err as Error).message;
      } finally {
        this.stamp = stamp;
        this.reloading = undefined;
        // A change reported while this reload read the store may not be in what it read: read again.
        void (async () => {
          if ((await this.store.version()) !== stamp) {
            this.changed = true;
            await this.refresh();
          }
        })().catch(() => undefined);
      }
    })();
    await this.reloading;
  }

  get finder(): PlaceholderIndex {
    return this.index;
  }

  get values(): SecretValueIndex {
    return this.valueIndex;
  }

  get error(): string | undefined {
    return this.broken;
  }

  close(): void {
    this.stopWatching?.();
  }
}

/** A PlaceholderFinder that always asks the current index (for the describe step). */
export function liveFinder(live: LiveSecrets): { find(text: string): string[] } {
  return { find: (text) => live.finder.find(text) };
}

