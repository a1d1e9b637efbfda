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
