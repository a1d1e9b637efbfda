// MongoDB's wire protocol carried by a WebSocket tunnel (a bridge before port 27017), read as the
// server reads it (twenty-first pass, left open by the twentieth: `{dropDatabase: 1}`,
// `{delete: "users", deletes: [{q: {}, limit: 0}]}` are no text SQL, so they went on undecided).
// Messages are `int32 length, requestID, responseTo, opCode` (little-endian) then the body:
// OP_MSG (2013: flag bits, a body document and document sequences the server folds into it),
// OP_QUERY (2004: a command on `<db>.$cmd`, still taken for the handshake and by older servers)
// and OP_COMPRESSED (2012: one of those, compressed). Each command that may write is judged as
// the SQL statement that does the same to a table named for its collection (its twin,
// `{sql, mongo: {command, db}}`), as Redis's are: a drop a DROP, a delete of every matching
// document a DELETE under the filter as MongoDB's Data API's is read, code run on the server
// (`eval`, `$where`, `$function`) or a change to the server (users, parameters, replication) a
// program run on it. Reads go on. What cannot be read is refused.
import zlib from 'node:zlib';
import { mongoCommandSql } from './adapters/sql-prisma.ts';
import type { CarriedStatement, TunnelRead, TunnelSqlReader } from './tunnel-sql.ts';
import { StreamBuffer } from './stream-buffer.ts';

const OP_MSG = 2013;
const OP_QUERY = 2004;
const OP_COMPRESSED = 2012;
/** The server's largest message (maxMessageSizeBytes). */
const MAX_MESSAGE = 48 * 1000 * 1000;
/** BSON nesting the server reads (BSONDepth's default). */
const MAX_DEPTH = 200;
const MAX_FIELDS = 100_000;

class BadBson extends Error {}

/** Whether a stream begins with a MongoDB request header: a length, `responseTo` 0, an opcode a client sends. */
export function startsMongo(data: Buffer): boolean {
  if (data.length < 16) return false;
  const len = data.readInt32LE(0);
  const op = data.readInt32LE(12);
  return len >= 21 && len <= MAX_MESSAGE && data.readInt32LE(8) === 0 && (op === OP_MSG || op === OP_QUERY || op === OP_COMPRESSED);
}

/** Whether the first bytes may be the start of a MongoDB header (the rest not yet come). */
export function mayStartMongo(data: Buffer): boolean {
  if (data.length >= 16) return startsMongo(data);
  if (data.length < 4) return true;
  const len = data.readInt32LE(0);
  return len >= 21 && len <= MAX_MESSAGE && (data.length < 12 || data.readInt32LE(8) === 0);
}

/**
 * One BSON document as a plain value (`{$oid}`, `{$date}`, `{$code}` … for the types JSON lacks);
 * a duplicate field name, a wrong length, an unknown type or a document deeper than the server
 * reads is refused (drivers send none: what the server would make of it is not read here).
 */
export function readBson(b: Buffer, at: number, depth = 0, fields = { n: 0 }): { doc: Record<string, unknown>; end: number } {
  if (depth > MAX_DEPTH || at + 5 > b.length) throw new BadBson();
  const len = b.readInt32LE(at);
  const end = at + len;
  if (len < 5 || end > b.length || b[end - 1] !== 0) throw new BadBson();
  const doc: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  let p = at + 4;
  const cstring = (): string => {
    const z = b.indexOf(0, p);
    if (z < 0 || z >= end) throw new BadBson();
    const s = b.subarray(p, z).toString('utf8');
    p = z + 1;
    return s;
  };
  const string = (): string => {
    const n = b.readInt32LE(p);
    if (n < 1 || p + 4 + n > end || b[p + 4 + n - 1] !== 0) throw new BadBson();
    const s = b.subarray(p + 4, p + 4 + n - 1).toString('utf8');
    p += 4 + n;
    return s;
  };
  while (p < end - 1) {
    if (++fields.n > MAX_FIELDS) throw new BadBson();
    const type = b[p++]!;
    const name = cstring();
    if (Object.prototype.hasOwnProperty.call(doc, name)) throw new BadBson();
    if (p > end - 1) throw new BadBson();
    let v: unknown;
    switch (type) {
      case 0x01: v = b.readDoubleLE(p); p += 8; break;
      case 0x02: case 0x0e: v = string(); break;
      case 0x03: case 0x04: {
        const inner = readBson(b, p, depth + 1, fields);
        v = type === 0x04 ? Object.values(inner.doc) : inner.doc;
        p = inner.end;
        break;
      }
      case 0x05: {
        const n = b.readInt32LE(p);
        if (n < 0 || p + 5 + n > end) throw new BadBson();
        v = { $binary: b.subarray(p + 5, p + 5 + n).toString('base64') };
        p += 5 + n;
        break;
      }
      case 0x0a: v = null; break;
      // Undefined, MaxKey and MinKey as the Extended JSON they are, never NULL: `{$gt: MinKey}` matches every document.
      case 0x06: v = { $undefined: true }; break;
      case 0x7f: v = { $maxKey: 1 }; break;
      case 0xff: v = { $minKey: 1 }; break;
      case 0x07: v = { $oid: b.subarray(p, p + 12).toString('hex') }; p += 12; break;
      case 0x08: v = b[p] !== 0; p += 1; break;
      case 0x09: v = { $date: Number(b.readBigInt64LE(p)) }; p += 8; break;
      case 0x0b: v = { $regex: cstring(), $options: cstring() }; break;
      case 0x0c: string(); v = { $oid: b.subarray(p, p + 12).toString('hex') }; p += 12; break;
      case 0x0d: v = { $code: string() }; break;
      case 0x0f: {
        const whole = b.readInt32LE(p);
        const stop = p + whole;
        p += 4;
        const code = string();
        const scope = readBson(b, p, depth + 1, fields);
        if (scope.end !== stop) throw new BadBson();
        v = { $code: code, $scope: scope.doc };
        p = stop;
        break;
      }
      case 0x10: v = b.readInt32LE(p); p += 4; break;
      case 0x11: v = { $timestamp: String(b.readBigUInt64LE(p)) }; p += 8; break;
      case 0x12: v = Number(b.readBigInt64LE(p)); p += 8; break;
      case 0x13: v = { $numberDecimal: b.subarray(p, p + 16).toString('hex') }; p += 16; break;
      default: throw new BadBson();
    }
    if (p > end - 1) throw new BadBson();
    doc[name] = v;
  }
  if (p !== end - 1) throw new BadBson();
  return { doc, end };
}

/** The command a request carries (its database from `$db` or the OP_QUERY namespace); undefined for a plain query. */
function command(op: number, body: Buffer): { cmd: Record<string, unknown> } | { refused: string } | undefined {
  if (op === OP_MSG) {
    const flags = body.readUInt32LE(0);
    // Bit 0 is a checksum at the end; other required bits (0–15) a server does not know refuse the message.
    if ((flags & 0xfffc) !== 0) return { refused: 'a MongoDB OP_MSG with flag bits Airlock does not read' };
    const stop = body.length - (flags & 1 ? 4 : 0);
    let p = 4;
    let cmd: Record<string, unknown> | undefined;
    const sequences: Array<[string, unknown[]]> = [];
    while (p < stop) {
      const kind = body[p++];
      if (kind === 0) {
        if (cmd) return { refused: 'a MongoDB OP_MSG with two body sections' };
        const r = readBson(body, p);
        cmd = r.doc;
        p = r.end;
      } else if (kind === 1) {
        const size = body.readInt32LE(p);
        const end = p + size;
        if (size < 5 || end > stop) throw new BadBson();
        p += 4;
        const z = body.indexOf(0, p);
        if (z < 0 || z >= end) throw new BadBson();
        const id = body.subarray(p, z).toString('utf8');
        p = z + 1;
        const docs: unknown[] = [];
        while (p < end) {
          const r = readBson(body, p);
          docs.push(r.doc);
          p = r.end;
        }
        if (p !== end) throw new BadBson();
        sequences.push([id, docs]);
      } else return { refused: 'a MongoDB OP_MSG section kind Airlock does not read' };
    }
    if (!cmd || p !== stop) throw new BadBson();
    // The server folds each document sequence into the body under its identifier (a field of the same name is an error).
    for (const [id, docs] of sequences) {
      if (Object.prototype.hasOwnProperty.call(cmd, id)) return { refused: 'a MongoDB document sequence named as a body field' };
      cmd[id] = docs;
    }
    return { cmd };
  }
  // OP_QUERY: flags, namespace, skip, return, the query (and a field selector, not read).
  const z = body.indexOf(0, 4);
  if (z < 0) throw new BadBson();
  const ns = body.subarray(4, z).toString('utf8');
  const q = readBson(body, z + 9).doc;
  if (!ns.endsWith('.$cmd')) return ns.includes('.$') ? { refused: 'a MongoDB legacy query of a special namespace' } : undefined;
  // A command in OP_QUERY may be wrapped (`{$query: {...}, $readPreference}`, `{query: …}`).
  const inner = q.$query ?? q.query;
  const cmd = inner && typeof inner === 'object' && !Array.isArray(inner) && Object.keys(q)[0]?.replace(/^\$/, '') === 'query' ? (inner as Record<string, unknown>) : q;
  return { cmd: { ...cmd, $db: ns.slice(0, -5) } };
}

/**
 * The agent's bytes as a MongoDB server reads them, whatever the message boundaries: each
 * complete request's command, when it may write, is a carried statement.
 */
export class MongoReader extends StreamBuffer implements TunnelSqlReader {
  readonly protocol = 'json';

  constructor(private readonly maxStatement: number) {
    super();
  }

  read(data: Buffer): TunnelRead {
    this.append(data);
    const statements: CarriedStatement[] = [];
    // What this read may inflate in all: as much as one message may hold raw. Each compressed
    // message alone stays under maxStatement, but 950 of 1.2 KB in one WebSocket message each
    // inflated 1.1 MiB of zeros: 1 GB, ~1.4 s of the main thread, every agent waiting.
    const inflate = { left: this.maxStatement };
    for (let n = 0; this.buf.length >= 4; n++) {
      if (n >= 1000) return { statements, refused: 'more than 1000 MongoDB requests in one message' };
      const len = this.buf.readInt32LE(0);
      if (len < 21 || len > MAX_MESSAGE) return { statements, refused: 'a MongoDB message length the server refuses' };
      if (len > this.maxStatement) return { statements, refused: `a MongoDB message of ${len} bytes, longer than Airlock reads` };
      if (this.buf.length < len) break;
      const msg = this.buf.subarray(0, len);
      this.buf = this.buf.subarray(len);
      const got = this.message(msg.readInt32LE(12), msg.subarray(16), 0, inflate);
      if ('refused' in got) return { statements, refused: got.refused };
      statements.push(...got.statements);
    }
    return { statements };
  }

  private message(op: number, body: Buffer, depth: number, inflate: { left: number }): { statements: CarriedStatement[] } | { refused: string } {
    try {
      if (op === OP_COMPRESSED) {
        if (depth > 0 || body.length < 9) return { refused: 'a MongoDB compressed message Airlock does not read' };
        const original = body.readInt32LE(0);
        const size = body.readInt32LE(4);
        const compressor = body[8];
        if (size < 5 || size > this.maxStatement) return { refused: `a MongoDB compressed message of ${size} bytes, longer than Airlock reads` };
        if (compressor === 2 && (inflate.left -= size) < 0) return { refused: `MongoDB compressed messages that inflate to more than Airlock reads of one message (${this.maxStatement} bytes)` };
        // noop and zlib are read; snappy and zstd are not (Node has no decoder for them here).
        const inner = compressor === 0 ? body.subarray(9) : compressor === 2 ? zlib.inflateSync(body.subarray(9), { maxOutputLength: size }) : undefined;
        if (!inner) return { refused: `a MongoDB message compressed with ${compressor === 1 ? 'snappy' : compressor === 3 ? 'zstd' : 'an unknown compressor'}: not read` };
        if (inner.length !== size) return { refused: 'a MongoDB compressed message whose size is not the one it declares' };
        return this.message(original, inner, depth + 1, inflate);
      }
      if (op !== OP_MSG && op !== OP_QUERY) return { refused: `a MongoDB opcode ${op} Airlock does not read (legacy writes)` };
      const got = command(op, body);
      if (got === undefined) return { statements: [] };
      if ('refused' in got) return got;
      const twin = mongoCommandSql(got.cmd);
      if (twin === undefined) return { statements: [] };
      const name = Object.keys(got.cmd)[0] ?? '';
      return { statements: [{ protocol: 'json', message: 'mongodb', body: { sql: twin, mongo: { command: name.slice(0, 64), db: String(got.cmd.$db ?? '').slice(0, 64) } } }] };
    } catch (e) {
      if (e instanceof BadBson || e instanceof RangeError || (e as { code?: string }).code?.startsWith('Z_') || (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return { refused: 'a MongoDB message whose BSON Airlock does not read' };
      throw e;
    }
  }
}
