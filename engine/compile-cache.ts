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
//
// Every look is asynchronous (twenty-third pass, follow-up): policies compile while Airlock runs (a
// reload, the studio's versions and drafts), and a key read synchronously (up to 32 MiB of files),
// an entry read or written so, held the event loop, every agent and the studio, for as long as the
// disk took; a stalled one froze them for good.
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
export async function compileKey(policyDir: string, opa: string, how: string): Promise<string | undefined> {
  const h = crypto.createHash('sha256');
  try {
    const bin = await fs.promises.stat(opa);
    h.update(`airlock-policy-1\0${await fs.promises.realpath(opa)}\0${bin.size}\0${bin.mtimeMs}\0${bin.ino}\0${how}\0`);
  } catch {
    return undefined;
  }
  let files = 0;
  let bytes = 0;
  const walk = async (rel: string): Promise<boolean> => {
    const entries = (await fs.promises.readdir(path.join(policyDir, rel), { withFileTypes: true })).map((e) => e.name).sort();
    for (const name of entries) {
      const r = rel ? `${rel}/${name}` : name;
      const st = await fs.promises.stat(path.join(policyDir, r));
      if (st.isDirectory()) {
        h.update(`d\0${r}\0`);
        if (!(await walk(r))) return false;
      } else if (st.isFile()) {
        if (++files > MAX_KEYED_FILES || (bytes += st.size) > MAX_KEYED_BYTES) return false;
        h.update(`f\0${r}\0${st.size}\0`).update(await fs.promises.readFile(path.join(policyDir, r))).update('\0');
      } else {
        h.update(`o\0${r}\0`); // a socket or device: named, never read
      }
    }
    return true;
  };
  try {
    return (await walk('')) ? h.digest('hex') : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An entry: a SHA-256 of the rest (32 bytes), the wasm's length (4 bytes, big-endian), the wasm,
 * then data.json's text. One that does not add up (a disk error, a half-copied cache) is not used.
 */
export async function readCompiled(key: string): Promise<CompiledBytes | undefined> {
  const file = path.join(dir, `${key}.bin`);
  let raw: Buffer;
  try {
    raw = await fs.promises.readFile(file);
  } catch {
    return undefined;
  }
  if (raw.length < 36 || !crypto.createHash('sha256').update(raw.subarray(32)).digest().equals(raw.subarray(0, 32))) return undefined;
  const n = raw.readUInt32BE(32);
  if (36 + n > raw.length) return undefined;
  try {
    const now = new Date();
    await fs.promises.utimes(file, now, now); // recently used: pruned last
  } catch {
    /* pruned meanwhile: still read */
  }
  return { wasm: raw.subarray(36, 36 + n), dataJson: raw.subarray(36 + n).toString('utf8') };
}

/** Keeps an entry (written under a temporary name and renamed: readers never see half of one). */
export async function writeCompiled(key: string, compiled: CompiledBytes): Promise<void> {
  try {
    await fs.promises.mkdir(dir, { recursive: true });
    const length = Buffer.alloc(4);
    length.writeUInt32BE(compiled.wasm.length, 0);
    const body = Buffer.concat([length, compiled.wasm, Buffer.from(compiled.dataJson, 'utf8')]);
    const tmp = path.join(dir, `.${key}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`);
    await fs.promises.writeFile(tmp, Buffer.concat([crypto.createHash('sha256').update(body).digest(), body]));
    await fs.promises.rename(tmp, path.join(dir, `${key}.bin`));
    await prune();
  } catch {
    /* a cache that cannot be written is only slower */
  }
}

async function prune(): Promise<void> {
  const entries = (await fs.promises.readdir(dir)).filter((f) => f.endsWith('.bin') && !f.startsWith('.'));
  if (entries.length <= KEEP) return;
  const aged = await Promise.all(entries.map(async (f) => ({ f, t: (await fs.promises.stat(path.join(dir, f)).catch(() => undefined))?.mtimeMs ?? 0 })));
  for (const { f } of aged.sort((a, b) => a.t - b.t).slice(0, entries.length - KEEP)) await fs.promises.rm(path.join(dir, f), { force: true });
}
