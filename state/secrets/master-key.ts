// Where the key that wraps the secret store's data key comes from. Two sources, no plaintext mode:
//  - AIRLOCK_MASTER_KEY: 32 bytes as hex (64 chars) or base64/base64url, or a passphrase that is
//    stretched with scrypt (salt and cost parameters stored beside the wrapped key). Prefixes
//    `hex:`, `base64:` and `passphrase:` make the reading explicit.
//  - a key file (AIRLOCK_MASTER_KEY_FILE, default <home>/master.key) holding 32 random bytes,
//    created on first use with mode 0600. A file readable by group or others is refused: a key
//    anyone on the machine can read protects nothing.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { stateFile } from '../home.ts';

export class MasterKeyError extends Error {}

export interface ScryptParams {
  /** base64 salt */
  salt: string;
  N: number;
  r: number;
  p: number;
}

/** How the store's data key is wrapped, as recorded in the store (never the key itself). */
export type KeySource = { kind: 'env-key' } | { kind: 'env-passphrase'; scrypt: ScryptParams } | { kind: 'key-file' };

export interface MasterKey {
  key: Buffer;
  source: KeySource;
  /** Where the key came from, for messages ("AIRLOCK_MASTER_KEY", "key file /x/master.key"). */
  describe: string;
}

const MIN_PASSPHRASE = 12;
export const defaultScrypt = { N: 1 << 15, r: 8, p: 1 };

export function keyFilePath(home: string): string {
  return path.resolve(process.env.AIRLOCK_MASTER_KEY_FILE ?? stateFile(home, 'masterKey'));
}

function parseRawKey(text: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]{42,44}={0,2}$/.test(text)) {
    const buf = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (buf.length === 32) return buf;
  }
  return undefined;
}

export function deriveFromPassphrase(passphrase: string, params: ScryptParams): Buffer {
  return crypto.scryptSync(passphrase.normalize('NFC'), Buffer.from(params.salt, 'base64'), 32, {
    N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 1024 * 1024,
  });
}

/**
 * Reads master key material as AIRLOCK_MASTER_KEY accepts it: 32 bytes as hex or base64, or a
 * passphrase (stretched with scrypt; `recorded` supplies the salt an existing store used).
 */
export function parseMasterKey(raw: string, recorded: KeySource | undefined, label = 'AIRLOCK_MASTER_KEY'): MasterKey {
  let text = raw.trim();
  const prefix = /^(hex|base64|passphrase):/.exec(text)?.[1];
  if (prefix) text = text.slice(prefix.length + 1);
  if (prefix === 'hex' || prefix === 'base64' || (!prefix && parseRawKey(text))) {
    const key = parseRawKey(text);
    if (!key) throw new MasterKeyError(`${label}: expected 32 bytes as ${prefix ?? 'hex or base64'}`);
    return { key, source: { kind: 'env-key' }, describe: label };
  }
  if (text.length < MIN_PASSPHRASE) {
    throw new MasterKeyError(`${label}: a passphrase must be at least ${MIN_PASSPHRASE} characters (or give 32 bytes as hex/base64)`);
  }
  const scrypt = recorded?.kind === 'env-passphrase'
    ? recorded.scrypt
    : { salt: crypto.randomBytes(16).toString('base64'), ...defaultScrypt };
  return { key: deriveFromPassphrase(text, scrypt), source: { kind: 'env-passphrase', scrypt }, describe: `${label} (passphrase)` };
}

/** The master key from the environment, or undefined when AIRLOCK_MASTER_KEY is not set. */
function fromEnvironment(recorded: KeySource | undefined): MasterKey | undefined {
  const raw = process.env.AIRLOCK_MASTER_KEY;
  if (raw === undefined || raw === '') return undefined;
  return parseMasterKey(raw, recorded);
}

function checkKeyFile(file: string): void {
  const st = fs.lstatSync(file);
  if (!st.isFile()) throw new MasterKeyError(`master key file ${file} is not a regular file; refusing to use it`);
  if ((st.mode & 0o077) !== 0) {
    throw new MasterKeyError(
      `master key file ${file} has permissions ${(st.mode & 0o777).toString(8).padStart(3, '0')}; it must be readable only by its owner (chmod 600 ${file})`,
    );
  }
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
    throw new MasterKeyError(`master key file ${file} belongs to another user (uid ${st.uid}); refusing to use it`);
  }
}

/** Writes a fresh random key file (never over an existing file). */
export function createKeyFile(file: string): MasterKey {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const key = crypto.randomBytes(32);
  fs.writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  return { key, source: { kind: 'key-file' }, describe: `key file ${file}` };
}

function fromKeyFile(home: string, create: boolean): MasterKey {
  const file = keyFilePath(home);
  if (!fs.existsSync(file)) {
    if (!create) throw new MasterKeyError(`master key file ${file} is missing; the secret store cannot be unlocked without it (or set AIRLOCK_MASTER_KEY)`);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    // 'wx': never clobber a key file that appeared meanwhile.
    fs.writeFileSync(file, `${crypto.randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  }
  checkKeyFile(file);
  const key = parseRawKey(fs.readFileSync(file, 'utf8').trim());
  if (!key) throw new MasterKeyError(`master key file ${file} does not hold a 32-byte key (base64 or hex)`);
  return { key, source: { kind: 'key-file' }, describe: `key file ${file}` };
}

/**
 * Resolves the master key. `recorded` is the source the existing store was sealed with (undefined
 * for a new store); a missing key file is only created for a new store.
 */
export function resolveMasterKey(home: string, recorded: KeySource | undefined): MasterKey {
  return fromEnvironment(recorded) ?? fromKeyFile(home, recorded === undefined);
}
