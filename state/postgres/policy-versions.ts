// Published policy versions in PostgreSQL: the sources of every version, the history of publishes
// and rollbacks, and which one is live, shared by every replica. It is the document the studio's
// VersionStore (studio/versions.ts) keeps its history in — the same shape as policy-versions.json
// — so publishing and rolling back work as with one state folder; each replica also keeps every
// version's files in its own <home>/policies/<version>/ (written from the table), where the
// studio and the engine read them. A publish on one replica is announced with NOTIFY
// airlock_policy; every replica then loads the new live version (runtime/services.ts).
import fs from 'node:fs';
import path from 'node:path';
import { listPolicyFiles } from '../../engine/compile.ts';
import type { Document } from '../document.ts';
import { stateFile } from '../home.ts';
import type { PgState } from './db.ts';
import { emptyMap } from '../../lib/records.ts';

const CHANNEL = 'airlock_policy';

/** A history entry as studio/versions.ts writes it (only `version` is read here). */
export type VersionEntry = { version: string } & Record<string, unknown>;

export interface VersionsData {
  current: string | null;
  history: VersionEntry[];
}

export class PgPolicyVersions implements Document<VersionsData> {
  readonly file: string;
  private state: VersionsData = { current: null, history: [] };
  private readonly listeners = new Set<(current: string | null) => void>();
  /** Publishes and re-reads, one at a time: an older read never lands after a newer write or read. */
  private chain: Promise<void> = Promise.resolve();
  /** The compiled bundle of a version when this replica has it (the engine's, right after a publish). */
  artifact: ((version: string) => { wasm: Buffer; data: unknown } | undefined) | undefined;

  private constructor(private readonly db: PgState, private readonly home: string) {
    this.file = `${db.display} (policy_history)`;
  }

  static async open(db: PgState, home: string): Promise<PgPolicyVersions> {
    const v = new PgPolicyVersions(db, home);
    await v.load();
    db.listen(CHANNEL, () => void v.reloadAndTell().catch(() => undefined));
    db.onResync(() => v.reloadAndTell());
    return v;
  }

  get data(): VersionsData {
    return this.state;
  }

  /** Calls `fn` with the live version whenever it changed (through another replica, or a publish here). */
  onChange(fn: (current: string | null) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The local folder of a version (written from the table). */
  dirOf(version: string): string {
    if (!/^[a-f0-9]{8,64}$/.test(version)) throw new Error(`not a policy version: ${version}`);
    return path.join(stateFile(this.home, 'policies'), version);
  }

  private async load(): Promise<void> {
    const h = await this.db.query<{ record: VersionEntry }>('SELECT record FROM policy_history ORDER BY seq');
    const c = await this.db.query<{ version: string }>('SELECT version FROM policy_current WHERE id = 1');
    const history = h.rows.map((r) => r.record);
    for (const version of new Set(history.map((e) => e.version))) await this.materialize(version);
    this.state = { current: c.rows[0]?.version ?? null, history };
  }

  /** Reads the history and the live version again (a request read a live version this replica has not heard of). */
  refresh(): Promise<void> {
    return this.reloadAndTell();
  }

  private reloadAndTell(): Promise<void> {
    const run = this.chain.then(async () => {
      const before = this.state.current;
      await this.load();
      if (this.state.current !== before) for (const fn of this.listeners) fn(this.state.current);
    });
    // A notice is the only word of a publish elsewhere: a read that failed (a statement past its
    // bound, a connection lost) is tried again until it succeeds, or this replica would go on
    // deciding with the version it had until the next publish.
    this.chain = run.then(() => { this.retryMs = 0; }, () => this.retryLater());
    return run;
  }

  private retryMs = 0;
  private retryTimer: NodeJS.Timeout | undefined;

  private retryLater(): void {
    if (this.retryTimer) return;
    this.retryMs = Math.min(5000, Math.max(250, this.retryMs * 2));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.reloadAndTell().catch(() => undefined);
    }, this.retryMs);
    this.retryTimer.unref();
  }

  /** Writes a version's files into <home>/policies/<version>/ unless they are there. */
  private async materialize(version: string): Promise<void> {
    const dest = this.dirOf(version);
    if (fs.existsSync(dest)) return;
    const r = await this.db.query<{ files: Record<string, string> }>('SELECT files FROM policy_sources WHERE version = $1', [version]);
    const files = r.rows[0]?.files;
    if (!files) return;
    const tmp = `${dest}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    for (const [rel, content] of Object.entries(files)) {
      const file = path.resolve(tmp, rel);
      if (!file.startsWith(`${tmp}${path.sep}`)) continue; // a stored path never leaves the folder
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      fs.writeFileSync(file, content, { mode: 0o600 });
    }
    fs.renameSync(tmp, dest);
  }

  /** The bundle the publishing replica compiled for a version, if it stored one. */
  async bundle(version: string): Promise<{ wasm: Buffer; data: unknown } | undefined> {
    const r = await this.db.query<{ wasm: Buffer | null; data: unknown }>('SELECT wasm, data FROM policy_sources WHERE version = $1', [version]);
    const row = r.rows[0];
    return row?.wasm ? { wasm: row.wasm, data: row.data } : undefined;
  }

  private sources(version: string): Record<string, string> {
    const dir = this.dirOf(version);
    const out: Record<string, string> = emptyMap();
    for (const rel of listPolicyFiles(dir)) out[rel.split(path.sep).join('/')] = fs.readFileSync(path.join(dir, rel), 'utf8');
    return out;
  }

  /**
   * Applies a change the way the file document does, then stores what is new (the sources of new
   * versions from their local folder, new history entries, the live version) in one transaction
   * and tells the other replicas.
   */
  update(fn: (data: VersionsData) => void): Promise<void> {
    const run = this.chain.then(async () => {
      const next = structuredClone(this.state);
      fn(next);
      const added = next.history.slice(this.state.history.length);
      const stored = this.db.transaction(async (c) => {
        for (const e of added) {
          const bundle = this.artifact?.(e.version);
          await c.query(
            `INSERT INTO policy_sources (version, files, wasm, data) VALUES ($1, $2, $3, $4)
             ON CONFLICT (version) DO UPDATE SET wasm = COALESCE(policy_sources.wasm, EXCLUDED.wasm), data = COALESCE(policy_sources.data, EXCLUDED.data)`,
            [e.version, JSON.stringify(this.sources(e.version)), bundle?.wasm ?? null, bundle ? JSON.stringify(bundle.data ?? null) : null],
          );
          await c.query('INSERT INTO policy_history (version, record) VALUES ($1, $2)', [e.version, JSON.stringify(e)]);
        }
        if (next.current && next.current !== this.state.current) {
          await c.query('INSERT INTO policy_current (id, version) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET version = $1', [next.current]);
        }
      });
      // A publish activates its version before storing it: when the store refuses, the engine is
      // brought back to the live version (the listeners compare what runs with what is live).
      await stored.catch((err: unknown) => {
        for (const fn of this.listeners) fn(this.state.current);
        throw err;
      });
      const before = this.state.current;
      this.state = next;
      // Here too: a load of an older version may have finished after this publish activated its own.
      if (next.current !== before) for (const fn of this.listeners) fn(next.current);
      // Committed: a notice the database cannot take now is sent again by PgState until it goes.
      await this.db.notify(CHANNEL, { current: next.current }).catch(() => undefined);
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  write(): Promise<void> {
    return this.update(() => undefined);
  }
}
