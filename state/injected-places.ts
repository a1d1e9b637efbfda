// Where secrets were injected, kept in the state folder (the InjectionLedger port; shared:
// state/postgres/injected-places.ts): one JSON line per new place/secret/form, appended and synced
// before the request that carries the secret leaves, read when Airlock starts. It names places and
// secrets, never values. A service keeps what it received (a request log, a debug page, a webhook
// history) across Airlock's restarts, so what comes back from there is scrubbed after one too.
//
// A torn last line (a crash mid-write) is dropped: its request had not left. Any other line that
// cannot be read stands for "every secret, everywhere" (more scrubbing, never less), with a warning.
import fs from 'node:fs';
import path from 'node:path';
import { StateFileError } from './document.ts';
import type { InjectedPlace, InjectionLedger } from './stores.ts';

export const INJECTED_FILE = 'injected.jsonl';

const keyOf = (p: InjectedPlace): string => `${p.place}\0${p.secret}\0${p.form}`;

/**
 * The pairs a ledger knows, and the writing of new ones (the state folder's journal, PostgreSQL's
 * table): each new pair is written once, a pair already being written is waited for, and a pair
 * counts as known once its write succeeded.
 */
export class KnownPlaces {
  private readonly known = new Map<string, InjectedPlace>();
  private readonly pending = new Map<string, Promise<void>>();

  has(p: InjectedPlace): boolean {
    return this.known.has(keyOf(p));
  }

  add(p: InjectedPlace): void {
    this.known.set(keyOf(p), p);
  }

  all(): InjectedPlace[] {
    return [...this.known.values()];
  }

  /** Writes the pairs not known yet with `write`; settles once every pair asked for is written. */
  record(pairs: readonly InjectedPlace[], write: (fresh: InjectedPlace[]) => Promise<unknown>): Promise<void> | undefined {
    let waits: Promise<void>[] | undefined;
    const fresh: InjectedPlace[] = [];
    const seen = new Set<string>();
    for (const p of pairs) {
      const key = keyOf(p);
      if (this.known.has(key) || seen.has(key)) continue;
      seen.add(key);
      const busy = this.pending.get(key);
      if (busy) (waits ??= []).push(busy);
      else fresh.push(p);
    }
    if (fresh.length) {
      const done = write(fresh).then(() => {
        for (const p of fresh) this.add(p);
      }).finally(() => {
        for (const p of fresh) this.pending.delete(keyOf(p));
      });
      for (const p of fresh) this.pending.set(keyOf(p), done);
      (waits ??= []).push(done);
    }
    return waits && Promise.all(waits).then(() => undefined);
  }
}

function parse(line: string): InjectedPlace | undefined {
  try {
    const v = JSON.parse(line) as Partial<InjectedPlace>;
    if (typeof v?.place === 'string' && typeof v.secret === 'string' && typeof v.form === 'string' && v.place && v.secret && v.form) {
      return { place: v.place, secret: v.secret, form: v.form };
    }
  } catch {
    /* reported by the caller */
  }
  return undefined;
}

export class InjectionJournal implements InjectionLedger {
  private readonly places = new KnownPlaces();
  private chain: Promise<void> = Promise.resolve();
  private readonly queue: Array<{ text: string; resolve: () => void; reject: (err: Error) => void }> = [];
  private handle: fs.promises.FileHandle | undefined;

  private constructor(readonly file: string) {}

  static async open(home: string, opts: { warn?: (line: string) => void } = {}): Promise<InjectionJournal> {
    const j = new InjectionJournal(path.join(home, INJECTED_FILE));
    let text = '';
    try {
      text = await fs.promises.readFile(j.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new StateFileError(j.file, (err as Error).message);
    }
    const lines = text.split('\n');
    const torn = lines.pop(); // after the last newline: empty, or a line a crash cut
    let damaged = 0;
    for (const line of lines) {
      if (!line.trim()) continue;
      const p = parse(line);
      if (p) j.places.add(p);
      else damaged++;
    }
    if (damaged) {
      const all: InjectedPlace = { place: '*', secret: '*', form: 'value' };
      j.places.add(all);
      (opts.warn ?? ((l) => process.stderr.write(`${l}\n`)))(`airlock: ${j.file}: ${damaged} line(s) cannot be read; every secret is scrubbed from every host's answers`);
    }
    try {
      j.handle = await fs.promises.open(j.file, 'a', 0o600);
      // A torn tail is cut so the next line starts on a line of its own.
      if (torn) await j.handle.truncate(Buffer.byteLength(text, 'utf8') - Buffer.byteLength(torn, 'utf8'));
    } catch (err) {
      throw new StateFileError(j.file, (err as Error).message);
    }
    return j;
  }

  pairs(): InjectedPlace[] {
    return this.places.all();
  }

  record(pairs: readonly InjectedPlace[]): Promise<void> | undefined {
    return this.places.record(pairs, (fresh) => this.append(fresh.map((p) => `${JSON.stringify({ place: p.place, secret: p.secret, form: p.form })}\n`).join('')));
  }

  /** Appends lines; what is asked for while a write is under way goes in the next one (one sync for many). */
  private append(text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ text, resolve, reject });
      if (this.queue.length === 1) this.chain = this.chain.then(() => this.drain());
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue.splice(0);
      try {
        const h = this.handle;
        if (!h) throw new Error('closed');
        await h.appendFile(batch.map((b) => b.text).join(''));
        await h.sync();
        for (const b of batch) b.resolve();
      } catch (err) {
        const e = new Error(`cannot write ${this.file}: ${(err as Error).message}`);
        for (const b of batch) b.reject(e);
      }
    }
  }

  /** One process writes the state folder's proxy: nothing is announced from elsewhere. */
  onRecord(): () => void {
    return () => undefined;
  }

  async close(): Promise<void> {
    await this.chain;
    const h = this.handle;
    this.handle = undefined;
    await h?.close();
  }
}
