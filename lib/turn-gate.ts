// Runs asynchronous jobs within a few slots: at most `slots` at once, at most `perOwner` of one
// owner (an agent), owners taking turns for the next free slot. A job that waited (or ran) past its
// deadline is rejected; one still waiting is then dropped from the queue. Used where one agent's
// flood of costly work (DNS lookups, certificates for new names) must not queue ahead of everyone.

export class TurnGate {
  private running = 0;
  private readonly perOwnerRunning = new Map<string, number>();
  private readonly waiting = new Map<string, Array<{ start: () => void; cancelled: boolean }>>();

  constructor(private readonly slots: number, private readonly perOwner: number) {}

  run<T>(owner: string, job: () => Promise<T>, timeoutMs: number, late: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry = { cancelled: false, start: (): void => {} };
      const timer = setTimeout(() => {
        entry.cancelled = true;
        reject(late());
      }, timeoutMs);
      timer.unref();
      entry.start = () => {
        this.running++;
        this.perOwnerRunning.set(owner, (this.perOwnerRunning.get(owner) ?? 0) + 1);
        let done: Promise<T>;
        try {
          done = job();
        } catch (err) {
          done = Promise.reject(err);
        }
        done.then(
          (v) => { clearTimeout(timer); resolve(v); },
          (err: unknown) => { clearTimeout(timer); reject(err); },
        ).finally(() => {
          this.running--;
          const n = (this.perOwnerRunning.get(owner) ?? 1) - 1;
          if (n > 0) this.perOwnerRunning.set(owner, n);
          else this.perOwnerRunning.delete(owner);
          this.next();
        });
      };
      const queue = this.waiting.get(owner);
      if (queue) queue.push(entry);
      else this.waiting.set(owner, [entry]);
      this.next();
    });
  }

  private next(): void {
    for (;;) {
      if (this.running >= this.slots) return;
      let started = false;
      for (const [owner, queue] of this.waiting) {
        if ((this.perOwnerRunning.get(owner) ?? 0) >= this.perOwner) continue;
        while (queue.length && queue[0]!.cancelled) queue.shift();
        const entry = queue.shift();
        // The owner goes to the back of the turn order.
        this.waiting.delete(owner);
        if (queue.length) this.waiting.set(owner, queue);
        if (!entry) continue;
        entry.start();
        started = true;
        break;
      }
      if (!started) return;
    }
  }
}

/**
 * Answers computed in an owner's turn of a TurnGate (DNS lookups, certificates for names), shared
 * with every owner once known, for `ttlMs`. One still waiting for its turn or running is shared
 * only with the owner that asked: another owner asking for the same key meanwhile gets its own job,
 * in its own turn. Shared while pending, one agent could queue the name another agent uses behind
 * its own flood (or behind a lookup that never answers), and the other would wait in that agent's
 * queue until it gave up.
 */
export class TurnCache<T> {
  private readonly known = new Map<string, { value: T; until: number }>();
  private readonly pending = new Map<string, Promise<T>>();

  constructor(private readonly gate: TurnGate, private readonly maxKnown: number, private readonly ttlMs = Infinity) {}

  get(key: string, owner: string, job: () => Promise<T>, timeoutMs: number, late: () => Error): Promise<T> {
    const hit = this.known.get(key);
    if (hit && hit.until > Date.now()) return Promise.resolve(hit.value);
    const mine = `${owner}\u0000${key}`;
    const waiting = this.pending.get(mine);
    if (waiting) return waiting;
    const answer = this.gate.run(owner, job, timeoutMs, late);
    this.pending.set(mine, answer);
    answer.then((value) => {
      // The oldest answer goes first (a flood of new names evicts only what is not asked again).
      this.known.delete(key);
      if (this.known.size >= this.maxKnown) this.known.delete(this.known.keys().next().value!);
      this.known.set(key, { value, until: Date.now() + this.ttlMs });
    }, () => {}).finally(() => {
      if (this.pending.get(mine) === answer) this.pending.delete(mine);
    });
    return answer;
  }

  /** The answer known for `key` and still fresh, if any (no job is started). */
  fresh(key: string): T | undefined {
    const hit = this.known.get(key);
    return hit && hit.until > Date.now() ? hit.value : undefined;
  }

  /** Forgets every known answer (pending jobs still settle for their owners). */
  clear(): void {
    this.known.clear();
  }
}
