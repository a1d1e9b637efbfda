// The secret store in PostgreSQL (the SecretVault port; embedded: state/secrets/store.ts, whose
// sealing this uses unchanged). Values are AES-256-GCM under a data key; the data key is stored
// only wrapped by the master key, and the master key is never in the database: every replica
// reads it from AIRLOCK_MASTER_KEY or a key file (AIRLOCK_MASTER_KEY_FILE), so a dump of the
// database alone reveals no secret. A change on one replica reaches the others' proxies through
// NOTIFY airlock_secrets.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { MasterKeyError, keyFilePath, resolveMasterKey, type KeySource } from '../secrets/master-key.ts';
import {
  SecretStoreError, checkEnvFree, checkSecretInput, sealRecord, WRAP_AAD, openSealed, sealValue, valueAad,
  type SecretInfo, type SecretRecord, type SetOptions, type Sealed,
} from '../secrets/store.ts';
import type { SecretVault } from '../stores.ts';
import type { PgState } from './db.ts';

const CHANNEL = 'airlock_secrets';
const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v));

type Wrap = { source: KeySource; key: Sealed } | null;
const wrapId = (w: Wrap): string => (w ? `${w.key.iv}:${w.key.ct}:${w.key.tag}` : '');

export class PgSecretVault implements SecretVault {
  private wrap: Wrap = null;
  private secrets = new Map<string, SecretRecord>();
  private dataKey: Buffer | undefined;
  /** Changes with every change, here or announced by another replica. */
  private stamp = crypto.randomBytes(6).toString('hex');
  private readonly watchers = new Set<() => void>();

  private constructor(private readonly db: PgState, readonly home: string) {}

  static async open(db: PgState, home: string): Promise<PgSecretVault> {
    const v = new PgSecretVault(db, home);
    await v.reload();
    db.listen(CHANNEL, (p) => {
      v.stamp = String(p.version ?? crypto.randomBytes(6).toString('hex'));
      for (const fn of v.watchers) fn();
    });
    db.onResync(() => {
      v.stamp = crypto.randomBytes(6).toString('hex');
      for (const fn of v.watchers) fn();
    });
    return v;
  }

  async reload(): Promise<void> {
    const w = await this.db.query<{ wrap: Wrap }>('SELECT wrap FROM secret_store WHERE id = 1');
    const wrap = w.rows[0]?.wrap ?? null;
    // jsonb does not keep member order: the sealed key's own bytes tell whether it changed.
    if (wrapId(wrap) !== wrapId(this.wrap)) this.dataKey = undefined;
    this.wrap = wrap;
    const r = await this.db.query('SELECT name, placeholder, created, updated, env, hosts, value FROM secrets ORDER BY name');
    this.secrets = new Map(r.rows.map((row) => [row.name as string, {
      placeholder: row.placeholder, created: iso(row.created), updated: iso(row.updated), env: row.env, hosts: row.hosts, value: row.value,
    } satisfies SecretRecord]));
  }

  version(): string {
    return this.stamp;
  }

  watch(fn: () => void): () => void {
    this.watchers.add(fn);
    return () => this.watchers.delete(fn);
  }

  private async changed(): Promise<void> {
    this.stamp = crypto.randomBytes(6).toString('hex');
    await this.db.notify(CHANNEL, { version: this.stamp });
  }

  /**
   * The master key: from the environment, or a key file that already exists. A shared store never
   * creates a key file on one host (the other replicas would not have it).
   */
  private masterKey(recorded: KeySource | undefined) {
    if (!process.env.AIRLOCK_MASTER_KEY && !fs.existsSync(keyFilePath(this.home))) {
      throw new MasterKeyError(`the secret store in ${this.db.display} needs the master key on every replica: set AIRLOCK_MASTER_KEY (32 bytes as hex/base64, or a passphrase) or AIRLOCK_MASTER_KEY_FILE (docs/deploy.md)`);
    }
    return resolveMasterKey(this.home, recorded ?? (process.env.AIRLOCK_MASTER_KEY ? undefined : { kind: 'key-file' }));
  }

  async unlock(): Promise<void> {
    if (this.dataKey) return;
    if (!this.wrap) {
      const master = this.masterKey(undefined);
      const dataKey = crypto.randomBytes(32);
      const wrap = { source: master.source, key: sealValue(master.key, dataKey, WRAP_AAD) };
      const r = await this.db.query('INSERT INTO secret_store (id, wrap) VALUES (1, $1) ON CONFLICT (id) DO NOTHING', [JSON.stringify(wrap)]);
      if (!r.rowCount) {
        // Another replica sealed the store first: use its key.
        await this.reload();
        return this.unlock();
      }
      this.wrap = wrap;
      this.dataKey = dataKey;
      return;
    }
    const master = this.masterKey(this.wrap.source);
    try {
      this.dataKey = openSealed(master.key, this.wrap.key, WRAP_AAD);
    } catch {
      throw new MasterKeyError(`cannot unlock the secret store in ${this.db.display}: wrong master key from ${master.describe}, or the wrapped key was tampered with`);
    }
  }

  private unlocked(): Buffer {
    if (!this.dataKey) throw new SecretStoreError('secret store is locked: call unlock() first');
    return this.dataKey;
  }

  /** Seals a value of another kind (the TOTP secret) under the data key, bound to `label`. */
  async seal(label: string, value: string): Promise<Sealed> {
    await this.unlock();
    return sealValue(this.unlocked(), Buffer.from(value, 'utf8'), Buffer.from(`airlock-sealed:v1\0${label}`));
  }

  async unseal(label: string, sealed: Sealed): Promise<string> {
    await this.unlock();
    return openSealed(this.unlocked(), sealed, Buffer.from(`airlock-sealed:v1\0${label}`)).toString('utf8');
  }

  has(name: string): boolean {
    return this.secrets.has(name);
  }

  list(): SecretInfo[] {
    return [...this.secrets.entries()]
      .map(([name, r]) => ({ name, placeholder: r.placeholder, created: r.created, updated: r.updated ?? r.created, env: [...r.env], hosts: [...r.hosts] }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  placeholderFor(name: string): string | undefined {
    return this.secrets.get(name)?.placeholder;
  }

  reveal(name: string): string {
    const rec = this.secrets.get(name);
    if (!rec) throw new SecretStoreError(`no secret named "${name}"`);
    try {
      return openSealed(this.unlocked(), rec.value, valueAad(name, rec.placeholder)).toString('utf8');
    } catch (err) {
      if (err instanceof SecretStoreError) throw err;
      throw new SecretStoreError(`secret "${name}" in ${this.db.display} does not decrypt (tampered with, or sealed under another key)`);
    }
  }

  async set(name: string, value: string, opts: SetOptions = {}): Promise<SecretInfo> {
    checkSecretInput(name, value, opts);
    await this.unlock();
    await this.reload();
    const prev = this.secrets.get(name);
    const record = sealRecord(this.unlocked(), name, value, prev, opts);
    checkEnvFree(name, record.env, this.list());
    await this.put(name, record);
    return this.list().find((s) => s.name === name)!;
  }

  private async put(name: string, r: SecretRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO secrets (name, placeholder, created, updated, env, hosts, value) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (name) DO UPDATE SET placeholder = $2, updated = $4, env = $5, hosts = $6, value = $7`,
      [name, r.placeholder, r.created, r.updated, JSON.stringify(r.env), JSON.stringify(r.hosts), JSON.stringify(r.value)],
    );
    this.secrets.set(name, r);
    await this.changed();
  }

  async remove(name: string): Promise<boolean> {
    const r = await this.db.query('DELETE FROM secrets WHERE name = $1', [name]);
    this.secrets.delete(name);
    if (r.rowCount) await this.changed();
    return Boolean(r.rowCount);
  }

  /**
   * Takes an embedded store as it is (`airlock migrate-state`): the wrapped data key and the sealed
   * values move unchanged, so the same master key opens them; nothing is decrypted on the way.
   */
  async importSealed(wrap: Wrap, secrets: Record<string, SecretRecord>): Promise<number> {
    await this.reload();
    if (this.wrap && wrap && wrapId(this.wrap) !== wrapId(wrap) && Object.keys(secrets).length) {
      throw new SecretStoreError(`the secret store in ${this.db.display} is already sealed under another data key; move secrets with \`airlock secret set\` instead`);
    }
    if (!this.wrap && wrap) await this.db.query('INSERT INTO secret_store (id, wrap) VALUES (1, $1) ON CONFLICT (id) DO NOTHING', [JSON.stringify(wrap)]);
    let n = 0;
    for (const [name, rec] of Object.entries(secrets)) {
      if (this.secrets.has(name)) continue;
      await this.put(name, { ...rec, updated: rec.updated ?? rec.created });
      n++;
    }
    await this.reload();
    return n;
  }
}
