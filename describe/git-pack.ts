// Whether a git push's ref updates are fast-forwards, read from the pack it sends.
//
// A force push and a fast-forward send the same command line (`<old-oid> <new-oid> <ref>`): the
// client sends the server's tip as the old id either way. What differs is the history: a
// fast-forward's new commit descends from the old one. The pack carries the commits the server does
// not have, so a walk from the new id through the parents of the pack's commits that reaches the
// old id proves the update a fast-forward. Anything else — the new commit already on the server (a
// branch reset to an older commit sends an empty pack), history rewritten onto another base, a pack
// cut by the capture, a commit stored as a delta against an object outside the pack, an object that
// does not inflate — proves nothing, and the update may rewrite the branch's history.
// (gitformat-pack: "PACK", version, count, then objects: a type-and-size header, for deltas their
// base, and zlib data.)
import crypto from 'node:crypto';
import zlib from 'node:zlib';

const OBJ_COMMIT = 1;
const OBJ_OFS_DELTA = 6;
const OBJ_REF_DELTA = 7;
/**
 * Objects read (each inflate costs ~0.1 ms of the main thread: a push of more new commits gets no
 * proof, so no grant), bytes inflated and delta bytes kept at most; past any of them nothing is proven.
 */
const MAX_OBJECTS = 256;
const MAX_INFLATED = 16 * 1024 * 1024;
const MAX_KEPT = 4 * 1024 * 1024;
/**
 * Bytes the deltas rebuild, in all (each is at most MAX_KEPT). A delta of 64 one-byte copies
 * rebuilds 4 MiB: 255 such deltas over one commit were 1 GB copied and hashed from a 6 KB push,
 * ~1.8 s of the main thread (twenty-fourth pass).
 */
const MAX_REBUILT = 16 * 1024 * 1024;
/** Commits walked from one new id at most. */
const MAX_WALK = 100_000;

interface PackObject {
  type: number;
  /** Inflated data: kept for commits and deltas (a delta may rebuild a commit). */
  data?: Buffer;
  /** For deltas: the base's offset (OFS) or id (REF). */
  baseOffset?: number;
  baseId?: string;
}

/** Where the pack starts: after the pkt-lines of commands, certificate and push options (each list ends in a flush). */
function packStart(body: Buffer): number | undefined {
  let i = 0;
  while (i + 4 <= body.length) {
    if (body.toString('latin1', i, i + 4) === 'PACK') return i;
    const head = body.toString('latin1', i, i + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(head)) return undefined;
    const len = parseInt(head, 16);
    if (len === 0) i += 4;
    else if (len < 4) return undefined;
    else i += len;
  }
  return undefined;
}

/** The pack's commits by id, with their parents; undefined when the pack cannot be read whole within the bounds. */
export function packCommits(body: Buffer, idLength: 40 | 64): Map<string, string[]> | undefined {
  const start = packStart(body);
  if (start === undefined || start + 12 > body.length) return undefined;
  const version = body.readUInt32BE(start + 4);
  const count = body.readUInt32BE(start + 8);
  if (version !== 2 && version !== 3) return undefined;
  const objects = new Map<number, PackObject>();
  let pos = start + 12;
  let inflated = 0;
  let kept = 0;
  for (let n = 0; n < count; n++) {
    const at = pos;
    if (pos >= body.length) return undefined;
    let c = body[pos++]!;
    const type = (c >> 4) & 7;
    // git writes a pack's commits (and tags) before its trees and blobs (pack-objects'
    // compute_write_order): the commits are read, the files are not. A commit placed after them
    // is not seen, which proves nothing (no grant), never more.
    if (type === 2 || type === 3) break;
    if (n >= MAX_OBJECTS) return undefined;
    let size = c & 15;
    let scale = 16;
    while (c & 0x80) {
      if (pos >= body.length || scale > 2 ** 49) return undefined;
      c = body[pos++]!;
      size += (c & 0x7f) * scale;
      scale *= 128;
    }
    const o: PackObject = { type };
    if (type === OBJ_OFS_DELTA) {
      if (pos >= body.length) return undefined;
      c = body[pos++]!;
      let off = c & 127;
      while (c & 0x80) {
        if (pos >= body.length || off > 2 ** 40) return undefined;
        c = body[pos++]!;
        off = (off + 1) * 128 + (c & 127);
      }
      o.baseOffset = at - off;
    } else if (type === OBJ_REF_DELTA) {
      const bytes = idLength / 2;
      if (pos + bytes > body.length) return undefined;
      o.baseId = body.toString('hex', pos, pos + bytes);
      pos += bytes;
    } else if (type < 1 || type > 4) {
      return undefined;
    }
    inflated += size;
    if (inflated > MAX_INFLATED) return undefined;
    let data: Buffer;
    let used: number;
    try {
      const r = zlib.inflateSync(body.subarray(pos), { info: true, maxOutputLength: Math.max(1, size) }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
      data = r.buffer;
      used = r.engine.bytesWritten;
    } catch {
      return undefined;
    }
    if (data.length !== size || used <= 0) return undefined;
    pos += used;
    if (type === OBJ_COMMIT || type === OBJ_OFS_DELTA || type === OBJ_REF_DELTA) {
      kept += data.length;
      if (kept > MAX_KEPT) return undefined;
      o.data = data;
    }
    objects.set(at, o);
  }
  const hash = idLength === 64 ? 'sha256' : 'sha1';
  const commits = new Map<string, string[]>();
  const ids = new Map<string, number>();
  const idOf = (type: number, data: Buffer): string => crypto.createHash(hash).update(`${typeName[type]} ${data.length}\0`).update(data).digest('hex');
  // Whole commits first, then deltas (a REF_DELTA names its base by id, which may be a rebuilt object).
  for (const [at, o] of objects) {
    if (o.type === OBJ_COMMIT && o.data) {
      const id = idOf(OBJ_COMMIT, o.data);
      ids.set(id, at);
      commits.set(id, parents(o.data));
    }
  }
  const resolved = new Map<number, { type: number; data: Buffer } | null>();
  const rebuild = { left: MAX_REBUILT };
  const resolve = (at: number, depth: number): { type: number; data: Buffer } | null => {
    if (resolved.has(at)) return resolved.get(at)!;
    const o = objects.get(at);
    let out: { type: number; data: Buffer } | null = null;
    if (o && depth < 64) {
      if (o.type !== OBJ_OFS_DELTA && o.type !== OBJ_REF_DELTA) out = o.data ? { type: o.type, data: o.data } : { type: o.type, data: Buffer.alloc(0) };
      else {
        const baseAt = o.baseOffset ?? (o.baseId !== undefined ? ids.get(o.baseId) : undefined);
        const base = baseAt === undefined ? null : resolve(baseAt, depth + 1);
        // Only a delta over a commit rebuilds a commit; the others need no data.
        const data = base && base.type === OBJ_COMMIT && o.data ? applyDelta(base.data, o.data, rebuild) : undefined;
        out = base ? { type: base.type, data: data ?? Buffer.alloc(0) } : null;
        if (base?.type === OBJ_COMMIT && data === undefined) out = null;
      }
    }
    resolved.set(at, out);
    return out;
  };
  for (let round = 0; round < 2; round++) {
    for (const [at, o] of objects) {
      if (o.type !== OBJ_OFS_DELTA && o.type !== OBJ_REF_DELTA) continue;
      if (resolved.get(at)) continue;
      resolved.delete(at);
      const r = resolve(at, 0);
      // Past the bound nothing is proven, as past the others.
      if (rebuild.left < 0) return undefined;
      if (r?.type === OBJ_COMMIT) {
        const id = idOf(OBJ_COMMIT, r.data);
        ids.set(id, at);
        commits.set(id, parents(r.data));
      }
    }
  }
  return commits;
}

const typeName: Record<number, string> = { 1: 'commit', 2: 'tree', 3: 'blob', 4: 'tag' };

/** A commit's parent ids (its header lines up to the first blank line). */
function parents(data: Buffer): string[] {
  const head = data.toString('latin1', 0, Math.min(data.length, 1 << 20));
  const end = head.indexOf('\n\n');
  const out: string[] = [];
  for (const line of (end < 0 ? head : head.slice(0, end)).split('\n')) {
    if (line.startsWith('parent ')) out.push(line.slice(7).trim().toLowerCase());
  }
  return out;
}

/** A git delta applied to its base (gitformat-pack "Deltified representation"); undefined when it does not apply. */
function applyDelta(base: Buffer, delta: Buffer, rebuild: { left: number }): Buffer | undefined {
  let i = 0;
  const varint = (): number => {
    let v = 0;
    let scale = 1;
    let c: number;
    do {
      if (i >= delta.length) return -1;
      c = delta[i++]!;
      v += (c & 0x7f) * scale;
      scale *= 128;
    } while (c & 0x80);
    return v;
  };
  if (varint() !== base.length) return undefined;
  const size = varint();
  if (size < 0 || size > MAX_KEPT) return undefined;
  // Counted before it is built: a delta that then fails to apply cost as much.
  if ((rebuild.left -= size) < 0) return undefined;
  const out = Buffer.alloc(size);
  let o = 0;
  while (i < delta.length) {
    const op = delta[i++]!;
    if (op & 0x80) {
      let off = 0;
      let len = 0;
      for (let b = 0; b < 4; b++) if (op & (1 << b)) off += (delta[i++] ?? 0) * 2 ** (8 * b);
      for (let b = 0; b < 3; b++) if (op & (0x10 << b)) len += (delta[i++] ?? 0) * 2 ** (8 * b);
      if (len === 0) len = 0x10000;
      if (off + len > base.length || o + len > size) return undefined;
      base.copy(out, o, off, off + len);
      o += len;
    } else if (op > 0) {
      if (i + op > delta.length || o + op > size) return undefined;
      delta.copy(out, o, i, i + op);
      i += op;
      o += op;
    } else {
      return undefined;
    }
  }
  return o === size ? out : undefined;
}

/**
 * The refs among `updates` that the pack proves fast-forwards: the new commit is in the pack and
 * a walk through the parents of the pack's commits reaches the old one. Creations and deletions
 * are not updates of history and are left out.
 */
export function fastForwards(commits: Map<string, string[]> | undefined, updates: ReadonlyArray<{ from: string; to: string; ref: string }>): Set<string> {
  const out = new Set<string>();
  if (!commits) return out;
  for (const u of updates) {
    if (/^0+$/.test(u.from) || /^0+$/.test(u.to)) continue;
    if (u.from === u.to) {
      out.add(u.ref);
      continue;
    }
    const seen = new Set<string>();
    const stack = [u.to];
    while (stack.length && seen.size < MAX_WALK) {
      const id = stack.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      const ps = commits.get(id);
      if (!ps) continue;
      if (ps.includes(u.from)) {
        out.add(u.ref);
        break;
      }
      for (const p of ps) stack.push(p);
    }
  }
  return out;
}
