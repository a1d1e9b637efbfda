// Amounts counted per key (an agent's open requests, the bytes of its waiting records): a key at
// zero is forgotten, so the map holds only agents with something counted.

export class Tally {
  private readonly counts = new Map<string, number>();
  private sum = 0;

  of(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  /** The amount counted over every key. */
  get total(): number {
    return this.sum;
  }

  /** How many keys have something counted. */
  get size(): number {
    return this.counts.size;
  }

  add(key: string, n: number): void {
    this.counts.set(key, this.of(key) + n);
    this.sum += n;
  }

  sub(key: string, n: number): void {
    const had = this.of(key);
    const left = had - n;
    this.sum -= Math.min(had, n);
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

/**
 * One holder's part of a bound once what is held in all (`total`) has passed it: the room left under
 * one and a half bounds, shared by the holders (and this one, when new), at least `least` (so a
 * newcomer is admitted). A part of the bound itself let each holder arriving later take its share on
 * top of the earlier ones' excess, bound × (1 + 1/2 + … + 1/n) in all (nineteenth pass: descriptors;
 * twentieth: held approvals and the audit trail's waiting records). Admitting only within it keeps
 * the total under one and a half bounds, beside what the `least` parts add.
 */
export function equalPart(bound: number, total: number, holders: number, newcomer: boolean, least = 1): number {
  return Math.max(least, Math.floor((bound * 1.5 - total) / (holders + (newcomer ? 1 : 0))));
}
