// The secret store: one lowdb document (<home>/secrets.json, mode 0600) holding every secret
// encrypted with AES-256-GCM under a per-store random data key. The data key is itself wrapped
// (AES-256-GCM) by the master key (see master-key.ts). Each value is authenticated together with
// its name and placeholder, so a value moved to another name, an edited placeholder or a flipped
// bit is a clear error, never a wrong secret.
//
// Metadata (names, placeholders, env var names, hosts) is readable without the master key: the
// placeholders are not secret, and `airlock run` / `secret list` should not need to unlock values.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PLACEHOLDER_PREFIX } from '../../describe/placeholders.ts';
import { StampCheck, openDocument, watchStateFile, type Document } from '../document.ts';
import { stateFile } from '../home.ts';
import { MasterKeyError, createKeyFile, keyFilePath, parseMasterKey, resolveMasterKey, type KeySource, type MasterKey } from './master-key.ts';
import { emptyMap } from '../../lib/records.ts';

export { MasterKeyError } from './master-key.ts';
export { PLACEHOLDER_PREFIX };

export const SECRET_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const HOST = /^(\*\.)?[A-Za-z0-9.-]{1,253}(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;
const MAX_VALUE_BYTES = 64 * 1024;

/** Refuses a name, value, environment variable or host that no store may keep (the same rules everywhere). */
export function checkSecretInput(name: string, value: string, opts: SetOptions = {}): void {
  if (!SECRET_NAME.test(name)) throw new SecretStoreError(`invalid secret name ${JSON.stringify(name)}: use 1-64 letters, digits, '_', '.', '-'`);
  if (value.length === 0) throw new SecretStoreError('refusing to store an empty secret');
  if (Buffer.byteLength(value) > MAX_VALUE_BYTES) throw new SecretStoreError(`secret is larger than ${MAX_VALUE_BYTES} bytes`);
  for (const e of opts.env ?? []) if (!ENV_NAME.test(e)) throw new SecretStoreError(`invalid environment variable name ${JSON.stringify(e)}`);
  for (const h of opts.hosts ?? []) if (!HOST.test(h)) throw new SecretStoreError(`invalid host ${JSON.stringify(h)}: give the host name alone, like api.github.com, *.example.com or api.example.com:8443 (no scheme, path or spaces)`);
}

export class SecretStoreError extends Error {}

/** A secret's record, sealed under `key`: a new value keeps the placeholder, dates and lists it had unless told otherwise. */
export function sealRecord(key: Buffer, name: string, value: string, prev: SecretRecord | undefined, opts: SetOptions): SecretRecord {
  const now = new Date().toISOString();
  const placeholder = prev && !opts.rotatePlaceholder ? prev.placeholder : newPlaceholder(name);
  return {
    placeholder,
    created: prev?.created ?? now,
    updated: now,
    env: opts.env ?? prev?.env ?? [defaultEnvName(name)],
    hosts: opts.hosts ?? prev?.hosts ?? [],
    value: seal(key, Buffer.from(value, 'utf8'), valueAad(name, placeholder)),
  };
}

interface Sealed {
  iv: string;
  tag: string;
  ct: string;
}

export interface SecretRecord {
  placeholder: string;
  created: string;
  updated: string;
  /** Environment variable names `airlock run` exports the placeholder as. */
  env: string[];
  /** Hosts the operator expects this secret to go to (display only; policy decisions bind). */
  hosts: string[];
  value: Sealed;
}

interface StoreData {
  version: number;
  wrap: { source: KeySource; key: Sealed } | null;
  secrets: Record<string, SecretRecord>;
}

export interface SecretInfo {
  name: string;
  placeholder: string;
  created: string;
  updated: string;
  env: string[];
  hosts: string[];
}

export interface SetOptions {
  env?: string[];
  hosts?: string[];
  /** Issue a new placeholder even when the secret exists (agents holding the old one stop working). */
  rotatePlaceholder?: boolean;
}

const WRAP_AAD = Buffer.from('airlock-secret-store:v1:data-key');

function seal(key: Buffer, plaintext: Buffer, aad: Buffer): Sealed {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ct: ct.toString('base64') };
}

/** Throws (without detail) when the ciphertext, tag, IV or AAD were altered or the key is wrong. */
function open(key: Buffer, sealed: Sealed, aad: Buffer): Buffer {
  const iv = Buffer.from(sealed.iv, 'base64');
  const tag = Buffer.from(sealed.tag, 'base64');
  if (iv.length !== 12 || tag.length !== 16) throw new Error('malformed');
  const decipher = crypto.createDecipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(Buffer.from(sealed.ct, 'base64')), decipher.final()]);
}

function valueAad(name: string, placeholder: string): Buffer {
  return Buffer.from(`airlock-secret:v1\0${name}\0${placeholder}`);
}

export function newPlaceholder(name: string): string {
  return `${PLACEHOLDER_PREFIX}${name}-${crypto.randomBytes(16).toString('hex')}`;
}

/** The default environment variable for a secret: `github-token` → `GITHUB_TOKEN`. */
export function defaultEnvName(name: string): string {
  const env = name.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  return /^[0-9]/.test(env) ? `_${env}` : env;
}

function isSealed(v: unknown): v is Sealed {
  const s = v as Sealed;
  return !!s && typeof s === 'object' && typeof s.iv === 'string' && typeof s.tag === 'string' && typeof s.ct === 'string';
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

export class SecretStore {
  private dataKey: Buffer | undefined;
  /**
   * Values already decrypted, by their record and what it sealed: injecting a credential decrypts
   * it on every request otherwise (~16 µs). A record re-read or changed (a new value, a rekey, a new
   * placeholder) is decrypted again; the scrubber holds the same values in memory anyway.
   */
  private readonly revealed = new WeakMap<object, { sealed: unknown; placeholder: string; value: string }>();

  /** The change check, off the event loop (a stalled disk holds a pool thread, not every agent). */
  private readonly look: StampCheck;

  private constructor(readonly home: string, private doc: Document<StoreData>) {
    this.look = new StampCheck(doc.file);
  }

  /** Opens (or prepares) the store; throws StateFileError / SecretStoreError for a corrupt file. */
  static async open(home: string): Promise<SecretStore> {
    const doc = await openDocument<StoreData>(stateFile(home, 'secrets'), { version: 1, wrap: null, secrets: {} }, { mode: 0o600, durable: true });
    const store = new SecretStore(home, doc);
    store.validate();
    return store;
  }

  get file(): string {
    return this.doc.file;
  }

  /** The file's identity as last written: another process's `airlock secret set` changes it. */
  version(): Promise<string> {
    return this.look.now();
  }

  /**
   * Calls `fn` when the file may have changed (a watch on the state folder, where atomic writes
   * rename a new file in); returns the stop function, or undefined without watch support (then
   * only `version` tells).
   */
  watch(fn: () => void): (() => void) | undefined {
    return watchStateFile(this.doc.file, fn);
  }

  private corrupt(detail: string): SecretStoreError {
    return new SecretStoreError(`secret store ${this.doc.file} is corrupt or was tampered with (${detail}); fix or move it aside — Airlock will not overwrite it`);
  }

  /** Shape checks, so a hand-edited file fails here with its name rather than deep in a request. */
  private validate(): void {
    const d = this.doc.data;
    if (d.version !== 1) throw this.corrupt(`unsupported version ${JSON.stringify(d.version)}`);
    if (d.wrap !== null && (typeof d.wrap !== 'object' || !isSealed(d.wrap.key) || !d.wrap.source || typeof d.wrap.source.kind !== 'string')) {
      throw this.corrupt('malformed wrapped key');
    }
    if (!d.secrets || typeof d.secrets !== 'object' || Array.isArray(d.secrets)) throw this.corrupt('"secrets" is not an object');
    for (const [name, rec] of Object.entries(d.secrets)) {
      if (!SECRET_NAME.test(name)) throw this.corrupt(`invalid secret name ${JSON.stringify(name)}`);
      if (!rec || typeof rec !== 'object' || !isSealed(rec.value) || typeof rec.placeholder !== 'string'
        || !rec.placeholder.startsWith(`${PLACEHOLDER_PREFIX}${name}-`) || !isStringArray(rec.env) || !isStringArray(rec.hosts)
        || typeof rec.created !== 'string') {
        throw this.corrupt(`malformed entry for secret "${name}"`);
      }
      if (!d.wrap) throw this.corrupt('secrets present but no wrapped data key');
    }
  }

  /** Re-reads the file (after another process changed it). Drops nothing on failure. */
  async reload(): Promise<void> {
    const fresh = await SecretStore.open(this.home);
    const sameKey = JSON.stringify(fresh.doc.data.wrap) === JSON.stringify(this.doc.data.wrap);
    this.doc = fresh.doc;
    if (!sameKey) this.dataKey = undefined;
  }

  private masterKey(recorded: KeySource | undefined): MasterKey {
    const envSet = !!process.env.AIRLOCK_MASTER_KEY;
    if (recorded?.kind === 'key-file' && envSet) {
      throw new MasterKeyError(`secret store ${this.doc.file} is sealed with the key file ${keyFilePath(this.home)}, but AIRLOCK_MASTER_KEY is set; unset it`);
    }
    if (recorded && recorded.kind !== 'key-file' && !envSet) {
      throw new MasterKeyError(`secret store ${this.doc.file} is sealed with AIRLOCK_MASTER_KEY, which is not set`);
    }
    return resolveMasterKey(this.home, recorded);
  }

  /** Unwraps the data key (creating it for a new store). Call at startup to fail early. */
  async unlock(): Promise<void> {
    if (this.dataKey) return;
    const wrap = this.doc.data.wrap;
    if (!wrap) {
      const master = this.masterKey(undefined);
      const dataKey = crypto.randomBytes(32);
      await this.doc.update((d) => {
        d.wrap = { source: master.source, key: seal(master.key, dataKey, WRAP_AAD) };
      });
      this.dataKey = dataKey;
      return;
    }
    const master = this.masterKey(wrap.source);
    try {
      this.dataKey = open(master.key, wrap.key, WRAP_AAD);
    } catch {
      throw new MasterKeyError(`cannot unlock secret store ${this.doc.file}: wrong master key from ${master.describe}, or the wrapped key was tampered with`);
    }
    if (this.dataKey.length !== 32) throw this.corrupt('data key has the wrong length');
  }

  private unlocked(): Buffer {
    if (!this.dataKey) throw new SecretStoreError('secret store is locked: call unlock() first');
    return this.dataKey;
  }

  has(name: string): boolean {
    return Object.hasOwn(this.doc.data.secrets, name);
  }

  list(): SecretInfo[] {
    return Object.entries(this.doc.data.secrets)
      .map(([name, r]) => ({ name, placeholder: r.placeholder, created: r.created, updated: r.updated ?? r.created, env: [...r.env], hosts: [...r.hosts] }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The placeholder an agent holds instead of the secret, or undefined for an unknown name. */
  placeholderFor(name: string): string | undefined {
    return this.has(name) ? this.doc.data.secrets[name]!.placeholder : undefined;
  }

  /** Decrypts a value. Only the proxy's injection path should call this. */
  reveal(name: string): string {
    if (!this.has(name)) throw new SecretStoreError(`no secret named "${name}"`);
    const rec = this.doc.data.secrets[name]!;
    const key = this.unlocked();
    const known = this.revealed.get(rec);
    if (known && known.sealed === rec.value && known.placeholder === rec.placeholder) return known.value;
    try {
      const value = open(key, rec.value, valueAad(name, rec.placeholder)).toString('utf8');
      this.revealed.set(rec, { sealed: rec.value, placeholder: rec.placeholder, value });
      return value;
    } catch (err) {
      if (err instanceof SecretStoreError) throw err;
      throw this.corrupt(`secret "${name}" does not decrypt`);
    }
  }

  async set(name: string, value: string, opts: SetOptions = {}): Promise<SecretInfo> {
    checkSecretInput(name, value, opts);
    await this.unlock();
    const key = this.unlocked();
    const prev = this.doc.data.secrets[name];
    const record = sealRecord(key, name, value, prev, opts);
    checkEnvFree(name, record.env, this.list());
    await this.doc.update((d) => {
      d.secrets[name] = record;
    });
    return this.list().find((s) => s.name === name)!;
  }

  /**
   * Re-encrypts every value under a new data key wrapped by a new master key: `{ env: text }`
   * (the same formats as AIRLOCK_MASTER_KEY) or `{ keyFile: true }` (a fresh key file replaces
   * the old one). Placeholders are kept. For a key file, the new key is written beside the old
   * one first and renamed over it only after the store is saved, so a crash leaves
   * `<key>.new` rather than a store nobody can open.
   */
  async rekey(to: { env: string } | { keyFile: true }): Promise<{ describe: string }> {
    await this.unlock();
    const oldKey = this.unlocked();
    const plain = Object.entries(this.doc.data.secrets).map(([name, rec]) => {
      try {
        return [name, open(oldKey, rec.value, valueAad(name, rec.placeholder))] as const;
      } catch {
        throw this.corrupt(`secret "${name}" does not decrypt`);
      }
    });
    let master: MasterKey;
    let pending: { from: string; to: string } | undefined;
    if ('env' in to) {
      master = parseMasterKey(to.env, undefined, 'new master key');
    } else {
      const file = keyFilePath(this.home);
      const next = `${file}.new`;
      fs.rmSync(next, { force: true });
      master = createKeyFile(next);
      pending = { from: next, to: file };
      master.describe = `key file ${file}`;
    }
    const dataKey = crypto.randomBytes(32);
    await this.doc.update((d) => {
      d.wrap = { source: master.source, key: seal(master.key, dataKey, WRAP_AAD) };
      for (const [name, value] of plain) {
        const rec = d.secrets[name]!;
        rec.value = seal(dataKey, value, valueAad(name, rec.placeholder));
      }
    });
    if (pending) fs.renameSync(pending.from, pending.to);
    this.dataKey = dataKey;
    return { describe: master.describe };
  }

  async remove(name: string): Promise<boolean> {
    if (!this.has(name)) return false;
    await this.doc.update((d) => {
      delete d.secrets[name];
    });
    return true;
  }
}

/**
 * The environment `airlock run` gives an agent: env var name → placeholder. `overrides` (per agent)
 * replaces a secret's env var names: { github: ['GH_TOKEN'] }.
 */
/** Refuses a record whose variables another secret is already exported as (every store's set). */
export function checkEnvFree(name: string, env: string[], others: SecretInfo[]): void {
  for (const e of env) {
    const other = others.find((s) => s.name !== name && s.env.includes(e));
    if (other) throw new SecretStoreError(envClash(e, other.name, name));
  }
}

/** Two secrets exported as one variable, and what to do about it. */
export function envClash(env: string, a: string, b: string): string {
  return `secrets "${a}" and "${b}" are both exported as ${env}: give one another variable (airlock secret set ${b} --env OTHER_NAME, or airlock run --secret ${b}=OTHER_NAME) or remove one (airlock secret rm ${b})`;
}

export function placeholderEnvironment(secrets: SecretInfo[], overrides: Record<string, string[]> = emptyMap()): Record<string, string> {
  const env: Record<string, string> = emptyMap();
  const owner = new Map<string, string>();
  for (const s of secrets) {
    for (const name of overrides[s.name] ?? s.env) {
      if (!ENV_NAME.test(name)) throw new SecretStoreError(`invalid environment variable name ${JSON.stringify(name)} for secret "${s.name}"`);
      // Two secrets under one variable: the agent would hold one placeholder and not know which.
      const other = owner.get(name);
      if (other !== undefined && other !== s.name) throw new SecretStoreError(envClash(name, other, s.name));
      owner.set(name, s.name);
      env[name] = s.placeholder;
    }
  }
  return env;
}

// The sealing itself, for other backends of the same store (state/postgres/secrets.ts).
export { seal as sealValue, open as openSealed, valueAad, WRAP_AAD, isSealed, type Sealed, type StoreData };
