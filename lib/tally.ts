// Amounts counted per key (an agent's open requests, the bytes of its waiting records): a key at
// zero is forgotten, so the map holds only agents with something counted.

export class Tally {
  private readonly counts = new Map<string, number>();

  of(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  add(key: string, n: number): void {
    this.counts.set(key, this.of(key) + n);
  }

  sub(key: string, n: number): void {
    const left = this.of(key) - n;
    if (left > 0) this.counts.set(key, left);
    else this.counts.delete(key);
  }

  /** Adds `n` now; the returned function (idempotent) takes it back. */
  hold(key: string, n: number): () => void {
    this.add(key, n);
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.sub(key, n);
    };
  }
}
