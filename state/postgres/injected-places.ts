// Where secrets were injected, shared by every replica (the InjectionLedger port; embedded:
// state/injected-places.ts): the `injected_places` table, names and forms only, never a value. A
// new place/secret/form is inserted and announced (NOTIFY airlock_injected, in the same statement)
// before the request that carries the secret leaves, so a replica the agent's next request reaches
// scrubs what the service shows back of it from the moment the notice arrives (milliseconds), and
// a replica that starts later reads the table. The notice is not waited for: every request's
// session entry reads how far the table has moved (state/postgres/sessions.ts INJECTED_SEQ), and a
// replica behind it reads the new rows before it forwards (catchUp), so a read-back through
// another replica is scrubbed at its very next request.
import type { InjectedPlace, InjectionLedger } from '../stores.ts';
import type { PgState } from './db.ts';
import { KnownPlaces } from '../injected-places.ts';

const CHANNEL = 'airlock_injected';
/** NOTIFY payloads are limited to 8000 bytes: past this, the notice says "read the table". */
const MAX_PAYLOAD = 7000;


export class PgInjectionLedger implements InjectionLedger {
  private readonly places = new KnownPlaces();
  private readonly listeners = new Set<(pairs: InjectedPlace[]) => void>();
  private readonly stops: Array<() => void> = [];
  /** The highest seq read from the table, and the highest a session entry reported. */
  private learned = 0;
  private observed = 0;
  private catching: Promise<void> | undefined;

  private constructor(private readonly db: PgState) {}

  static async open(db: PgState): Promise<PgInjectionLedger> {
    const l = new PgInjectionLedger(db);
    // Listening before the first read: a pair announced meanwhile is in one or the other.
    l.stops.push(db.listen(CHANNEL, (p) => {
      if (Array.isArray(p.pairs)) l.learn((p.pairs as unknown[]).flatMap((x) => (Array.isArray(x) && x.length === 3 && x.every((v) => typeof v === 'string' && v) ? [{ place: x[0], secret: x[1], form: x[2] }] : [])));
      else void l.reload().catch((err: Error) => db.warn(`airlock: cannot re-read injected_places: ${err.message}`));
    }));
    l.stops.push(db.onResync(() => l.reload()));
    l.stops.push(db.onMark('injected_places', (seq) => {
      if (seq > l.observed) l.observed = seq;
    }));
    await l.reload();
    return l;
  }

  /** Reads the whole table (at open, after a notice too large to carry the pairs, after the change feed reconnects). */
  async reload(): Promise<void> {
    await this.readFrom(0);
  }

  private async readFrom(after: number): Promise<void> {
    const r = await this.db.query<{ place: string; secret: string; form: string; seq: string }>('SELECT place, secret, form, seq FROM injected_places WHERE seq > $1', [after]);
    for (const row of r.rows) this.learned = Math.max(this.learned, Number(row.seq));
    this.learn(r.rows.map((row) => ({ place: row.place, secret: row.secret, form: row.form })));
  }

  catchUp(): Promise<void> | undefined {
    if (this.observed <= this.learned) return undefined;
    this.catching ??= this.readFrom(this.learned).finally(() => {
      this.catching = undefined;
    });
    return this.catching;
  }

  private learn(pairs: InjectedPlace[]): void {
    const fresh = pairs.filter((p) => !this.places.has(p));
    if (!fresh.length) return;
    for (const p of fresh) this.places.add(p);
    for (const fn of this.listeners) {
      try {
        fn(fresh);
      } catch {
        /* one broken listener must not stop the others */
      }
    }
  }

  pairs(): InjectedPlace[] {
    return this.places.all();
  }

  record(pairs: readonly InjectedPlace[]): Promise<void> | undefined {
    return this.places.record(pairs, (fresh) => {
      let payload = JSON.stringify({ from: this.db.replica, pairs: fresh.map((p) => [p.place, p.secret, p.form]) });
      if (Buffer.byteLength(payload) > MAX_PAYLOAD) payload = JSON.stringify({ from: this.db.replica, reload: true });
      return this.db.query(
        `WITH added AS (
           INSERT INTO injected_places (place, secret, form) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
           ON CONFLICT DO NOTHING RETURNING 1)
         SELECT pg_notify('${CHANNEL}', $4) FROM (SELECT count(*) AS n FROM added) c WHERE c.n > 0`,
        [fresh.map((p) => p.place), fresh.map((p) => p.secret), fresh.map((p) => p.form), payload],
      );
    });
  }

  onRecord(fn: (pairs: InjectedPlace[]) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  async close(): Promise<void> {
    for (const stop of this.stops.splice(0)) stop();
    this.listeners.clear();
  }
}
