// Redis commands carried by a WebSocket tunnel (a bridge before port 6379: websockify, a Redis
// console over WebSocket), read as the server reads its input (networking.c's
// processInputBuffer): a multibulk request `*N\r\n$len\r\narg\r\n…` (RESP2 and RESP3 clients
// send requests so), or an inline command (a line of words, quoted as sdssplitargs reads them).
// Nineteenth pass (left open by the eighteenth): `FLUSHALL`, `CONFIG SET dir`, `EVAL`, `MODULE
// LOAD` are no SQL, so they went on undecided. Each command that may write is judged as the SQL
// statement that does the same to a table `redis` (its twin, `{sql, redis: [args]}`): the
// flushes a DROP, what runs code or reconfigures the server a program run on it, a deletion a
// DELETE of its keys, another write an UPDATE of its key; reads go on.
import { readingSubcommands, redisTwin } from './adapters/sql-redis.ts';
import type { CarriedStatement, TunnelRead, TunnelSqlReader } from './tunnel-sql.ts';
import { StreamBuffer } from './stream-buffer.ts';
import { lookupTable } from '../lib/records.ts';

/** Longest inline command Redis reads (PROTO_INLINE_MAX_SIZE), and most arguments Airlock reads in one. */
const MAX_INLINE = 64 * 1024;
const MAX_ARGS = 10_000;

/** English-named writes judged alone per tunnel before the upstream speaks; past them the tunnel is read as Redis. */
const MAX_EARLY_LINES = 64;

/** Whether a message begins a Redis request: a multibulk header (`*N\r\n$`), as a Redis client sends first. */
export function startsRedis(data: Buffer): boolean {
  return /^\*[1-9][0-9]{0,5}\r\n(\$|$)/.test(data.subarray(0, 12).toString('latin1'));
}

/**
 * Whether a message begins with an inline command that empties a database or acts on the server,
 * with the arguments Redis checks it has (it runs nothing whose arity is wrong): a tunnel's first
 * `FLUSHALL\r\n` or `CONFIG SET dir /tmp\r\n`, while chat that begins with such a word (`save
 * the file`) is no command Redis runs.
 */
export function startsRedisInline(data: Buffer): boolean {
  const nl = data.indexOf(0x0a);
  if (nl < 0 || nl > MAX_INLINE) return false;
  const args = splitArgs(data.subarray(0, nl).toString('latin1'));
  if (!args?.length) return false;
  const [name = '', sub = ''] = args.map((a) => a.toLowerCase());
  const n = args.length;
  const int = (i: number): boolean => /^-?\d+$/.test(args[i] ?? '');
  switch (name) {
    case 'flushall': case 'flushdb': return n === 1 || (n === 2 && (sub === 'async' || sub === 'sync'));
    case 'save': case 'bgrewriteaof': case 'sync': return n === 1;
    case 'bgsave': return n === 1 || (n === 2 && sub === 'schedule');
    case 'swapdb': return n === 3 && int(1) && int(2);
    case 'eval': case 'evalsha': case 'eval_ro': case 'evalsha_ro': case 'fcall': case 'fcall_ro': return n >= 3 && int(2);
    case 'replicaof': case 'slaveof': return n === 3 && (int(2) || (sub === 'no' && args[2]!.toLowerCase() === 'one'));
    case 'shutdown': return args.slice(1).every((a) => ['nosave', 'save', 'now', 'force', 'abort'].includes(a.toLowerCase()));
    case 'migrate': return n >= 6 && int(2) && int(4) && int(5);
    case 'psync': return n >= 3;
    case 'failover': return args.slice(1).every((a) => /^(to|force|abort|timeout|\d+|[\w.:-]+)$/i.test(a));
    case 'config': return ['set', 'resetstat', 'rewrite'].includes(sub) && (sub !== 'set' || (n >= 4 && n % 2 === 0));
    case 'module': return ['load', 'loadex', 'unload'].includes(sub) && n >= 3;
    case 'script': return ['load', 'flush', 'kill'].includes(sub);
    case 'function': return ['load', 'delete', 'flush', 'restore', 'kill'].includes(sub);
    case 'acl': return ['setuser', 'deluser', 'load', 'save', 'dryrun'].includes(sub);
    case 'client': return ['kill', 'pause', 'unblock', 'no-evict', 'no-touch'].includes(sub) && n >= 3;
    case 'debug': return n >= 2 && /^(set-active-expire|sleep|segfault|reload|restart|crash-and-recover|object|populate|jmap|quicklist-packed-threshold|change-repl-id|protocol|digest|loadaof|htstats|log|set-[\w-]+|script)$/i.test(sub);
    case 'cluster': return !readingSubcommands.cluster!.has(sub) && /^(reset|failover|forget|meet|replicate|setslot|addslots|addslotsrange|delslots|delslotsrange|flushslots|bumpepoch|set-config-epoch|saveconfig)$/.test(sub);
    default: return inlineWrite(args, data[nl - 1] === 0x0d);
  }
}

/**
 * Writes Redis runs from an inline line, by their arity (Redis's command table: the exact count,
 * or at least `min`, of arguments with the name; `even`/`odd` where pairs follow): a tunnel's
 * first `DEL sessions:admin\r\n` or `SET k v\r\n` (twentieth pass, left open by the nineteenth: a
 * session of inline narrow writes was never read as Redis). Names that are English words (`set`,
 * `append`, `publish`) start a command only on the CRLF line end every client and `redis-cli`,
 * telnet and `nc -C` send, so chat (`set the table\n`) is not taken for one.
 */
const inlineWrites: Readonly<Record<string, { n?: number; min?: number; pairs?: 'even' | 'odd'; word?: true }>> = lookupTable({
  set: { min: 3, word: true }, setnx: { n: 3 }, setex: { n: 4 }, psetex: { n: 4 }, getset: { n: 3 }, getdel: { n: 2 }, getex: { min: 2 },
  mset: { min: 3, pairs: 'odd' }, msetnx: { min: 3, pairs: 'odd' }, append: { n: 3, word: true }, setrange: { n: 4 }, setbit: { n: 4 },
  incr: { n: 2 }, decr: { n: 2 }, incrby: { n: 3 }, decrby: { n: 3 }, incrbyfloat: { n: 3 },
  del: { min: 2 }, unlink: { min: 2 }, expire: { min: 3, word: true }, pexpire: { min: 3 }, expireat: { min: 3 }, pexpireat: { min: 3 }, persist: { n: 2, word: true },
  rename: { n: 3, word: true }, renamenx: { n: 3 }, copy: { min: 3, word: true }, move: { n: 3, word: true },
  hset: { min: 4, pairs: 'even' }, hmset: { min: 4, pairs: 'even' }, hsetnx: { n: 4 }, hdel: { min: 3 }, hincrby: { n: 4 }, hincrbyfloat: { n: 4 },
  lpush: { min: 3 }, rpush: { min: 3 }, lpushx: { min: 3 }, rpushx: { min: 3 }, lpop: { min: 2 }, rpop: { min: 2 }, lset: { n: 4 }, lrem: { n: 4 }, ltrim: { n: 4 },
  linsert: { n: 5 }, lmove: { n: 5 }, rpoplpush: { n: 3 }, sadd: { min: 3 }, srem: { min: 3 }, spop: { min: 2 }, smove: { n: 4 },
  sinterstore: { min: 3 }, sunionstore: { min: 3 }, sdiffstore: { min: 3 }, zadd: { min: 4 }, zrem: { min: 3 }, zincrby: { n: 4 },
  zremrangebyscore: { n: 4 }, zremrangebyrank: { n: 4 }, zremrangebylex: { n: 4 }, zpopmin: { min: 2 }, zpopmax: { min: 2 },
  xadd: { min: 5 }, xdel: { min: 3 }, xtrim: { min: 4 }, xgroup: { min: 2 }, pfadd: { min: 2 }, pfmerge: { min: 2 }, geoadd: { min: 5 },
  bitop: { min: 4 }, publish: { n: 3, word: true }, 'json.set': { min: 4 }, 'json.del': { min: 2 }, restore: { min: 4, word: true }, sort: { min: 2, word: true },
});

function inlineWrite(args: string[], crlf: boolean): boolean {
  const w = inlineWrites[args[0]!.toLowerCase()];
  if (!w || (w.word && !crlf)) return false;
  const n = args.length;
  if (w.n !== undefined ? n !== w.n : n < w.min!) return false;
  return w.pairs === undefined || (w.pairs === 'even') === (n % 2 === 0);
}

/**
 * Reads Redis runs from an inline line, by their arity (as `inlineWrites`): a bridge's first
 * `GET customer:1\r\n` answers with the record before the server's answer shows the stream is
 * Redis's (twenty-ninth pass, left open by the twenty-eighth: that first answer came in under the
 * upgrade's labels). English words (`get`, `keys`, `type`, `info` …) count only on a CRLF line end.
 */
const inlineReads: Readonly<Record<string, { n?: number; min?: number; word?: true }>> = lookupTable({
  get: { n: 2, word: true }, mget: { min: 2 }, getrange: { n: 4 }, substr: { n: 4 }, strlen: { n: 2 }, getbit: { n: 3 }, bitcount: { min: 2 }, lcs: { min: 3 },
  exists: { min: 2, word: true }, type: { n: 2, word: true }, ttl: { n: 2 }, pttl: { n: 2 }, keys: { n: 2, word: true }, scan: { min: 2, word: true },
  randomkey: { n: 1 }, dbsize: { n: 1 }, dump: { n: 2, word: true }, sort_ro: { min: 2 }, info: { min: 1, word: true },
  hget: { n: 3 }, hmget: { min: 3 }, hgetall: { n: 2 }, hkeys: { n: 2 }, hvals: { n: 2 }, hlen: { n: 2 }, hexists: { n: 3 }, hstrlen: { n: 3 }, hscan: { min: 3 }, hrandfield: { min: 2 },
  lrange: { n: 4 }, lindex: { n: 3 }, llen: { n: 2 }, lpos: { min: 3 },
  smembers: { n: 2 }, sismember: { n: 3 }, smismember: { min: 3 }, scard: { n: 2 }, srandmember: { min: 2 }, sscan: { min: 3 }, sinter: { min: 2 }, sunion: { min: 2 }, sdiff: { min: 2 },
  zrange: { min: 4 }, zrangebyscore: { min: 4 }, zrangebylex: { min: 4 }, zrevrange: { min: 4 }, zrevrangebyscore: { min: 4 }, zscore: { n: 3 }, zmscore: { min: 3 }, zcard: { n: 2 }, zscan: { min: 3 }, zrank: { min: 3 }, zrandmember: { min: 2 },
  xrange: { min: 4 }, xrevrange: { min: 4 }, xread: { min: 4 }, xlen: { n: 2 }, xinfo: { min: 2 },
  pfcount: { min: 2 }, geopos: { min: 2 }, geosearch: { min: 4 }, 'json.get': { min: 2 }, 'json.mget': { min: 3 }, 'ft.search': { min: 3 },
});

/**
 * Whether a line of the agent's stream, before the server answered, is an inline read Redis runs
 * (`inlineReads`): the stream's records reach the agent in the server's first answer.
 */
export function inlineRedisRead(line: Buffer): boolean {
  if (line.length > MAX_INLINE) return false;
  const crlf = line.length > 0 && line[line.length - 1] === 0x0d;
  const args = splitArgs((crlf ? line.subarray(0, -1) : line).toString('latin1'));
  if (!args?.length) return false;
  const r = inlineReads[args[0]!.toLowerCase()];
  if (!r || (r.word && !crlf)) return false;
  return r.n !== undefined ? args.length === r.n : args.length >= r.min!;
}

/**
 * Whether an upstream's first message is a Redis server's answer (`+OK`, `-ERR …`, `:1`, `$5`, `*2`,
 * RESP3's `_`, `%1`, `#t`): the stream is Redis's from the agent's next message on, whatever its
 * first was (an inline command of a name Airlock has no arity for).
 */
export function answersAsRedis(data: Buffer): boolean {
  return /^(\+(OK|PONG|QUEUED)|-(ERR|WRONGTYPE|NOAUTH|NOPERM|NOSCRIPT|READONLY|BUSY|LOADING|MOVED|ASK|CROSSSLOT|EXECABORT|OOM|MISCONF)\b[^\r\n]*|[:$*%~>|]-?\d{1,10}|_|#[tf]|,[-+]?(\d+(\.\d+)?|inf|nan))\r\n/.test(data.subarray(0, 256).toString('latin1'));
}

/**
 * An inline command's arguments as sdssplitargs reads them; undefined for unbalanced quotes (Redis
 * answers an error and runs nothing). Blanks before a word are C's `isspace`, but only a space, tab,
 * CR, LF or NUL ends one, and a quote inside a word opens a quoted run of the same word:
 * `FLUSH"ALL"` is FLUSHALL and `D'EL' k` is DEL (twenty-second pass).
 */
function splitArgs(line: string): string[] | undefined {
  const out: string[] = [];
  const space = (c: string | undefined): boolean => c !== undefined && /[ \n\r\t\v\f]/.test(c);
  const ends = (c: string): boolean => c === ' ' || c === '\n' || c === '\r' || c === '\t' || c === '\0';
  let i = 0;
  while (out.length <= MAX_ARGS) {
    while (i < line.length && (space(line[i]) || line[i] === '\0')) i++;
    if (i >= line.length) return out;
    let cur = '';
    let q = '';
    for (;;) {
      if (i >= line.length) {
        if (q) return undefined;
        break;
      }
      const c = line[i]!;
      if (q === '"' && c === '\\' && line[i + 1] === 'x' && /^[0-9a-fA-F]{2}$/.test(line.slice(i + 2, i + 4))) {
        cur += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
        i += 4;
      } else if (q === '"' && c === '\\' && i + 1 < line.length) {
        const e = line[i + 1]!;
        cur += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e === 'b' ? '\b' : e === 'a' ? '\x07' : e;
        i += 2;
      } else if (q === "'" && c === '\\' && line[i + 1] === "'") {
        cur += "'";
        i += 2;
      } else if (q && c === q) {
        // A closing quote must be followed by a blank or the end (else the line is an error).
        if (i + 1 < line.length && !space(line[i + 1])) return undefined;
        i++;
        break;
      } else if (!q && ends(c)) {
        break;
      } else if (!q && (c === '"' || c === "'")) {
        q = c;
        i++;
      } else {
        cur += c;
        i++;
      }
    }
    out.push(cur);
  }
  return out;
}

/** A Redis command that may write, as the statement its twin is; undefined for a read. */
export function redisStatement(args: string[]): CarriedStatement | undefined {
  const twin = redisTwin(args);
  return twin ? { protocol: 'json', message: 'redis', body: { sql: twin, redis: args.slice(0, 64) } } : undefined;
}

/**
 * The agent's bytes as Redis reads them, whatever the message boundaries: each whole command that
 * may write is a carried statement; what Redis would refuse as a protocol error (it closes the
 * connection) or what is longer than Airlock reads is refused.
 */
export class RedisReader extends StreamBuffer implements TunnelSqlReader {
  readonly protocol = 'json';

  constructor(private readonly maxStatement: number) {
    super();
  }

  read(data: Buffer): TunnelRead {
    this.append(data);
    const statements: CarriedStatement[] = [];
    for (let n = 0; this.buf.length > 0; n++) {
      if (n >= 1000) return { statements, refused: 'more than 1000 Redis commands in one message' };
      const got = this.buf[0] === 0x2a ? this.multibulk() : this.inline();
      if (got === undefined) break;
      if ('refused' in got) return { statements, refused: got.refused };
      const twin = redisStatement(got.args);
      if (twin) statements.push(twin);
    }
    if (this.buf.length > this.maxStatement) return { statements, refused: `a Redis command longer than Airlock reads (${this.maxStatement} bytes)` };
    return { statements };
  }

  /**
   * A command begun in an earlier read: its count, where its next argument starts in `buf` and the
   * arguments read. Kept so that each read goes on from there (twenty-fifth pass): read again from
   * its start each time, a command of 8,000 arguments of 100 bytes sent 64 bytes at a time cost
   * 30 s of the main thread (every argument decoded again per read).
   */
  private begun: { count: number; pos: number; args: string[] } | undefined;
  /** How far `buf` was searched for an inline command's `\n`. */
  private searched = 0;

  /** `*N\r\n` then N `$len\r\n<bytes>\r\n`: the arguments, undefined while incomplete. */
  private multibulk(): { args: string[] } | { refused: string } | undefined {
    const b = this.buf;
    let begun = this.begun;
    if (begun === undefined) {
      const at = b.indexOf('\r\n');
      if (at < 0) return b.length > 32 ? { refused: 'a Redis multibulk header Redis refuses' } : undefined;
      const count = Number(b.subarray(1, at).toString('latin1'));
      if (!/^-?\d{1,10}$/.test(b.subarray(1, at).toString('latin1')) || count > MAX_ARGS) return { refused: 'a Redis multibulk count Airlock does not read' };
      begun = this.begun = { count, pos: at + 2, args: [] };
    }
    while (begun.args.length < begun.count) {
      const pos = begun.pos;
      if (pos >= b.length) return undefined;
      if (b[pos] !== 0x24) return { refused: `a Redis multibulk argument not starting with $` };
      const at = b.indexOf('\r\n', pos);
      if (at < 0) return b.length - pos > 32 ? { refused: 'a Redis bulk length Redis refuses' } : undefined;
      const lenText = b.subarray(pos + 1, at).toString('latin1');
      if (!/^\d{1,10}$/.test(lenText)) return { refused: 'a Redis bulk length Airlock does not read' };
      const len = Number(lenText);
      if (len > this.maxStatement) return { refused: `a Redis argument of ${len} bytes, longer than Airlock reads` };
      if (at + 2 + len + 2 > b.length) return undefined;
      begun.args.push(b.subarray(at + 2, at + 2 + len).toString('utf8'));
      begun.pos = at + 2 + len + 2;
    }
    this.begun = undefined;
    this.buf = b.subarray(begun.pos);
    return { args: begun.args };
  }

  /** A line up to `\n` (a `\r` before it dropped): its words; undefined while incomplete. */
  private inline(): { args: string[] } | { refused: string } | undefined {
    const nl = this.buf.indexOf(0x0a, this.searched);
    if (nl < 0) {
      this.searched = this.buf.length;
      return this.buf.length > MAX_INLINE ? { refused: 'an inline Redis command longer than Redis reads' } : undefined;
    }
    this.searched = 0;
    const line = this.buf.subarray(0, nl).toString('latin1');
    this.buf = this.buf.subarray(nl + 1);
    const args = splitArgs(line);
    // Unbalanced quotes: Redis answers a protocol error and closes, having run nothing.
    if (args === undefined) return { refused: 'an inline Redis command with unbalanced quotes' };
    return { args: args.map((a) => Buffer.from(a, 'latin1').toString('utf8')) };
  }
}

/**
 * Where a Redis request starts in a tunnel's stream, at any line start (Redis reads a request at
 * the start of its input and after each command; inline commands are lines): a tunnel's first
 * bytes may come one at a time (`*` then `1\r\n…`), and a read (`PING\r\n`) may come before the
 * command that acts. Past MAX_INLINE bytes without a line end Redis would have closed: not watched.
 */
export class RedisStart {
  private chunks: Buffer[] = [];
  private size = 0;
  private done = false;

  get holding(): number {
    return this.size;
  }

  /**
   * English-named writes (`set k v`, `append k v`, `expire k 0`) on a bare LF line, each line's
   * arguments, seen while the upstream had not spoken (feed's `early`): Redis runs them, but chat may
   * begin so too, so each is judged alone without making the stream Redis's (twenty-third pass:
   * a session's first `set session:admin root\n` went on before the server's answer made the
   * stream Redis's). Taken by `takeEarly`.
   */
  private early: string[][] = [];

  takeEarly(): string[][] {
    const out = this.early;
    this.early = [];
    return out;
  }

  /** The stream from where a Redis request starts, once one does (then never again). `early`: the upstream has not spoken yet. */
  feed(data: Buffer, early = false): Buffer | undefined {
    if (this.done || data.length === 0) return undefined;
    this.chunks.push(data);
    this.size += data.length;
    // A `*N\r\n` header is told within its first bytes, an inline command at its line end.
    if (this.size > 16 && !data.includes(0x0a)) return this.size > MAX_INLINE ? this.stop() : undefined;
    const buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    let from = 0;
    for (;;) {
      const rest = buf.subarray(from);
      if (startsRedis(rest) || startsRedisInline(rest)) {
        this.stop();
        return rest;
      }
      const nl = rest.indexOf(0x0a);
      if (nl < 0) break;
      if (early) {
        const args = splitArgs(rest.subarray(0, nl).toString('latin1'));
        if (args?.length && inlineWrite(args, true)) {
          // Past the bound the stream is read as Redis from this line on.
          if (this.early.length >= MAX_EARLY_LINES) {
            this.stop();
            return rest;
          }
          this.early.push(args.map((a) => Buffer.from(a, 'latin1').toString('utf8')));
        }
      }
      from += nl + 1;
    }
    const tail = buf.subarray(from);
    this.chunks = tail.length ? [tail] : [];
    this.size = tail.length;
    return this.size > MAX_INLINE ? this.stop() : undefined;
  }

  /** What is held of a line not yet ended (from a line start), and no more watching. */
  rest(): Buffer | undefined {
    const held = this.chunks.length ? Buffer.concat(this.chunks) : undefined;
    this.stop();
    return held;
  }

  private stop(): undefined {
    this.done = true;
    this.chunks = [];
    this.size = 0;
    return undefined;
  }
}
