// Compiled policies kept by the content they were compiled from, beside the code bundles in
// node_modules/.cache/airlock/ (lib/bundle.js): `opa check` and `opa build` cost ~0.8 s of CPU per
// compile, paid again by every `airlock start`, every studio version and every test's Airlock for
// the same folder. An entry is found only by a key over every file in the folder (hidden ones too,
// whatever opa reads or skips), the opa binary's identity and how it is run, so a folder that
// changed in any byte, or another opa, compiles afresh. Only successful compiles are kept: a
// policy with problems always reaches opa and gets its file, line and column.
//
// Trust: whoever can write this folder can already change Airlock's code bundles beside it (and
// `airlock run` keeps Airlock's install read-only to the agent), so it holds nothing they could
// not already do. A folder that cannot be written simply goes without.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { bundleDir } from '../lib/bundle.js';

/** A compiled policy as `opa build` gave it. */
export interface CompiledBytes {
  wasm: Buffer;
  dataJson: string;
}

const dir = path.join(bundleDir(), 'policies');
/** Entries kept (~0.8 MiB each for the default policy); the least recently written go first. */
const KEEP = 48;
/** A folder larger than this is compiled every time rather than read whole for its key. */
const MAX_KEYED_BYTES = 32 * 1024 * 1024;
const MAX_KEYED_FILES = 5_000;

/**
 * The key of `policyDir` compiled by `opa` as `how` says; undefined when the folder is too large
 * (or unreadable) to key.
 */
export function compileKey(policyDir: string, opa: string, how: string): string | undefined {
  const h = crypto.createHash('sha256');
  try {
    const bin = fs.statSync(opa);
    h.update(`airlock-policy-1\0${fs.realpathSync(opa)}\0${bin.size}\0${bin.mtimeMs}\0${bin.ino}\0${how}\0`);
  } catch {
    return undefined;
  }
  let files = 0;
  let bytes = 0;
  const walk = (rel: string): boolean => {
    const entries = fs.readdirSync(path.join(policyDir, rel), { withFileTypes: true }).map((e) => e.name).sort();
    for (const name of entries) {
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.statSync(path.join(policyDir, r));
      if (st.isDirectory()) {
        h.update(`d\0${r}\0`);
        if (!walk(r)) return false;
      } else if (st.isFile()) {
        if (++files > MAX_KEYED_FILES || (bytes += st.size) > MAX_KEYED_BYTES) return false;
        h.update(`f\0${r}\0${st.size}\0`).update(fs.readFileSync(path.join(policyDir, r))).update('\0');
      } else {
        h.update(`o\0${r}\0`); // a socket or device: named, never read
      }
    }
    return true;
  };
  try {
    return walk('') ? h.digest('hex') : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An entry: a SHA-256 of the rest (32 bytes), the wasm's length (4 bytes, big-endian), the wasm,
 * then data.json's text. One that does not add up (a disk error, a half-copied cache) is not used.
 */
export function readCompiled(key: string): CompiledBytes | undefined {
  const file = path.join(dir, `${key}.bin`);
  let raw: Buffer;
  try {
    raw = fs.readFileSync(file);
  } catch {
    return undefined;
  }
  if (raw.length < 36 || !crypto.createHash('sha256').update(raw.subarray(32)).digest().equals(raw.subarray(0, 32))) return undefined;
  const n = raw.readUInt32BE(32);
  if (36 + n > raw.length) return undefined;
  try {
    const now = new Date();
    fs.utimesSync(file, now, now); // recently used: pruned last
  } catch {
    /* pruned meanwhile: still read */
  }
  return { wasm: raw.subarray(36, 36 + n), dataJson: raw.subarray(36 + n).toString('utf8') };
}

/** Keeps an entry (written under a temporary name and renamed: readers never see half of one). */
export function writeCompiled(key: string, compiled: CompiledBytes): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
    const length = Buffer.alloc(4);
    length.writeUInt32BE(compiled.wasm.length, 0);
    const body = Buffer.concat([length, compiled.wasm, Buffer.from(compiled.dataJson, 'utf8')]);
    const tmp = path.join(dir, `.${key}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`);
    fs.writeFileSync(tmp, Buffer.concat([crypto.createHash('sha256').update(body).digest(), body]));
    fs.renameSync(tmp, path.join(dir, `${key}.bin`));
    prune();
  } catch {
    /* a cache that cannot be written is only slower */
  }
}

function prune(): void {
  const entries = fs.readdirSync(dir).filter((f) => f.endsWith('.bin') && !f.startsWith('.'));
  if (entries.length <= KEEP) return;
  const byAge = entries.map((f) => ({ f, t: fs.statSync(path.join(dir, f), { throwIfNoEntry: false })?.mtimeMs ?? 0 })).sort((a, b) => a.t - b.t);
  for (const { f } of byAge.slice(0, entries.length - KEEP)) fs.rmSync(path.join(dir, f), { force: true });
}
