// Redis commands read as the SQL statement that does the same to a table `redis` (their twin),
// wherever they are carried: a WebSocket tunnel before port 6379 (tunnel-redis.ts) and Upstash's
// REST API (twenty-second pass: `POST https://….upstash.io/ ["FLUSHALL"]`, `/flushall`, a
// `/pipeline` of commands were plain POSTs, a grant for one `SET` covering a FLUSHALL). The
// flushes are a DROP, what runs code or reconfigures the server a program run on it, a deletion a
// DELETE of its keys, another write an UPDATE of its key; reads have no twin.
import type { RequestInfo } from '../types.ts';
import type { SqlSource } from './adapter.ts';
import { lookupTable } from '../../lib/records.ts';

/**
 * Redis commands that only read (Upstash's REST API takes `/<command>/<args…>`); every other
 * command, and one not listed, may write.
 */
export const redisReadCommands = new Set([
  'get', 'mget', 'getrange', 'strlen', 'exists', 'ttl', 'pttl', 'type', 'keys', 'scan', 'randomkey', 'dbsize', 'ping', 'echo',
  'hget', 'hmget', 'hgetall', 'hkeys', 'hvals', 'hlen', 'hexists', 'hscan', 'hstrlen', 'hrandfield',
  'llen', 'lrange', 'lindex', 'lpos', 'scard', 'smembers', 'sismember', 'smismember', 'srandmember', 'sscan', 'sdiff', 'sinter', 'sunion',
  'zcard', 'zcount', 'zrange', 'zrangebyscore', 'zrangebylex', 'zrevrange', 'zrevrangebyscore', 'zrank', 'zrevrank', 'zscore', 'zmscore', 'zscan', 'zlexcount',
  'xlen', 'xrange', 'xrevrange', 'xread', 'bitcount', 'bitpos', 'getbit', 'pfcount', 'geopos', 'geodist', 'geohash', 'geosearch', 'json.get', 'json.type', 'json.strlen', 'json.arrlen', 'json.objkeys',
]);

/** Commands that only read, change the connection, or queue and run what was judged when queued. */
const connectionCommands = new Set([
  'auth', 'hello', 'select', 'ping', 'echo', 'quit', 'reset', 'info', 'time', 'lastsave', 'role', 'command', 'readonly', 'readwrite',
  'watch', 'unwatch', 'multi', 'discard', 'exec', 'subscribe', 'psubscribe', 'ssubscribe', 'unsubscribe', 'punsubscribe', 'sunsubscribe',
  'dump', 'touch', 'lcs', 'substr', 'sintercard', 'zrandmember', 'zdiff', 'zinter', 'zunion', 'zintercard', 'xpending', 'geosearch', 'georadius_ro', 'georadiusbymember_ro', 'sort_ro', 'bitfield_ro', 'object', 'memory', 'xinfo', 'latency', 'slowlog', 'pubsub', 'wait', 'waitaof', 'monitor',
]);
/** A container command's subcommands that only read. */
export const readingSubcommands: Readonly<Record<string, Set<string>>> = lookupTable({
  config: new Set(['get', 'help']),
  client: new Set(['id', 'info', 'list', 'getname', 'setname', 'setinfo', 'getredir', 'trackinginfo', 'tracking', 'caching', 'reply', 'help']),
  script: new Set(['exists', 'help']),
  function: new Set(['list', 'stats', 'dump', 'help']),
  acl: new Set(['whoami', 'cat', 'list', 'users', 'getuser', 'log', 'genpass', 'help']),
  cluster: new Set(['info', 'nodes', 'slots', 'shards', 'myid', 'myshardid', 'keyslot', 'countkeysinslot', 'getkeysinslot', 'links', 'help']),
  module: new Set(['list', 'help']),
});
/** Commands that empty a database. */
const flushes = new Set(['flushall', 'flushdb', 'swapdb']);
/**
 * Commands that run code on the server or change what it is (where it writes its file, which
 * server it follows, its users, its modules): `CONFIG SET dir` then `SAVE` writes a file anywhere
 * the server may, `MODULE LOAD` runs a library, `EVAL` a script, `REPLICAOF` takes another
 * server's data.
 */
const serverCommands = new Set([
  'config', 'module', 'eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro', 'function', 'script', 'debug', 'replicaof', 'slaveof',
  'migrate', 'shutdown', 'acl', 'cluster', 'failover', 'sync', 'psync', 'save', 'bgsave', 'bgrewriteaof', 'client', 'restore', 'restore-asking',
]);
/** Commands that delete the keys they name. */
const deletions = new Set(['del', 'unlink', 'getdel', 'hdel', 'srem', 'zrem', 'lrem', 'xdel', 'zremrangebyscore', 'zremrangebyrank', 'zremrangebylex', 'ltrim', 'xtrim', 'json.del', 'json.forget']);

const quote = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/**
 * The twin of a read of the server's credential store (twenty-eighth pass): `CONFIG GET
 * requirepass` hands back the password every client authenticates with, in clear (`masterauth` the
 * one it gives the server it replicates, the TLS keys' passphrases too), and `ACL LIST`/`ACL
 * GETUSER` every user's password hash; each was a read (Webdis's `GET /CONFIG/GET/requirepass`
 * allowed, the same through a tunnel relayed). Read as SQL's twin, PostgreSQL's own store read.
 */
export const REDIS_SECRET_READ = 'SELECT rolpassword FROM pg_authid';
/** Whether a twin acts on the server or its data whole: a flush, a program run on it, its credential store read. */
export const redisTwinActs = (twin: string): boolean => twin.startsWith('DROP ') || twin.startsWith('COPY ') || twin === REDIS_SECRET_READ;

/** The settings CONFIG GET answers with a credential (checked against redis-server 7.0). */
const secretParameters = ['requirepass', 'masterauth', 'tls-key-file-pass', 'tls-client-key-file-pass'];
/** Longest CONFIG GET pattern read; a longer one is taken to match (fails closed). */
const MAX_PATTERN = 512;

/**
 * Whether a Redis glob (`stringmatchlen`, as CONFIG GET matches names: case-insensitive, `*`, `?`,
 * `[…]` with `^` and ranges, `\` escaping) matches `name`. One table over pattern × name (no
 * backtracking); a pattern it cannot read whole (an open `[`, a trailing `\`, too long) matches.
 */
export function redisGlobMatches(pattern: string, name: string): boolean {
  if (pattern.length > MAX_PATTERN) return true;
  const p = pattern.toLowerCase();
  type Item = { star: true } | { test: (c: string) => boolean };
  const items: Item[] = [];
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*') items.push({ star: true });
    else if (c === '?') items.push({ test: () => true });
    else if (c === '\\') {
      if (i + 1 >= p.length) return true;
      const lit = p[++i]!;
      items.push({ test: (x) => x === lit });
    } else if (c === '[') {
      let j = i + 1;
      const not = p[j] === '^';
      if (not) j++;
      const ranges: Array<[string, string]> = [];
      let closed = false;
      for (; j < p.length; j++) {
        if (p[j] === '\\' && j + 1 < p.length) ranges.push([p[j + 1]!, p[++j]!]);
        else if (p[j] === ']') {
          closed = true;
          break;
        } else if (p[j + 1] === '-' && j + 2 < p.length) {
          // As redis-server reads it: `[a-]…]` is the range from `a` to `]`.
          const [a, b] = [p[j]!, p[j + 2]!];
          ranges.push(a <= b ? [a, b] : [b, a]);
          j += 2;
        } else ranges.push([p[j]!, p[j]!]);
      }
      if (!closed) return true;
      i = j;
      items.push({ test: (x) => ranges.some(([a, b]) => x >= a && x <= b) !== not });
    } else items.push({ test: (x) => x === c });
  }
  // can[k]: the first k items match the name's first j letters (j the outer loop's).
  let can = new Array<boolean>(items.length + 1).fill(false);
  can[0] = true;
  for (let k = 0; k < items.length && 'star' in items[k]!; k++) can[k + 1] = true;
  for (const ch of name) {
    const next = new Array<boolean>(items.length + 1).fill(false);
    for (let k = 0; k < items.length; k++) {
      const it = items[k]!;
      next[k + 1] = 'star' in it ? can[k + 1]! || next[k]! : can[k]! && it.test(ch);
    }
    can = next;
  }
  return can[items.length]!;
}

/** Whether a command reads the server's credential store (see REDIS_SECRET_READ). */
function readsRedisSecrets(name: string, sub: string, args: string[]): boolean {
  if (name === 'acl') return sub === 'list' || sub === 'getuser';
  if (name !== 'config' || sub !== 'get') return false;
  // Redis 7 takes several patterns in one CONFIG GET; past 64 of them, taken as matching.
  if (args.length > 66) return true;
  return args.slice(2).some((pattern) => secretParameters.some((s) => redisGlobMatches(pattern, s)));
}

/** The twin of one command, or undefined when it only reads. */
export function redisTwin(args: string[]): string | undefined {
  const name = (args[0] ?? '').toLowerCase();
  const sub = (args[1] ?? '').toLowerCase();
  if (readsRedisSecrets(name, sub, args)) return REDIS_SECRET_READ;
  if (name === '' || redisReadCommands.has(name) || connectionCommands.has(name)) return undefined;
  if (readingSubcommands[name]?.has(sub)) return undefined;
  const key = quote(args[1] ?? '');
  if (flushes.has(name)) return 'DROP SCHEMA redis CASCADE';
  if (serverCommands.has(name)) return `COPY redis FROM PROGRAM ${quote(args.join(' '))}`;
  if (deletions.has(name)) return `DELETE FROM redis WHERE key IN (${args.slice(1, 1 + 64).map(quote).join(', ')})`;
  return `UPDATE redis SET value = ${quote(args.slice(2).join(' '))} WHERE command = ${quote(name)} AND key = ${key}`;
}


/** Hosts that serve Upstash's Redis REST API: Upstash's own and Vercel KV's (Upstash under Vercel's name). */
export const upstashHost = (host: string): boolean => host.endsWith('.upstash.io') || host.endsWith('.kv.vercel-storage.com');

/** Most commands one Upstash request is read for (a pipeline's); past them it is unread. */
const MAX_UPSTASH_COMMANDS = 1000;

/**
 * The twins of an Upstash Redis REST request (a host upstashHost names): `/<command>/<args…>` (a
 * POST's body its last argument), `POST /` of a JSON array `["SET", "k", "v"]`, and `/pipeline` or
 * `/multi-exec` of a list of such arrays (on another host: the body forms only). Undefined for a
 * request that only reads or writes keys.
 */
export function upstashSql(request: RequestInfo, json: unknown, bodyText: string | undefined): SqlSource | undefined {
  const segments = request.segments;
  // Elsewhere (a host no module owns), the same API served by a self-hosted bridge (serverless-redis-http,
  // which @upstash/redis and Vercel KV are pointed at outside Upstash) in its body forms: `POST /`
  // of one command, `/pipeline` and `/multi-exec` of a list (twenty-third pass: `["FLUSHALL"]`
  // there was a plain medium POST). The path form (`/flushall`) is read on Upstash's hosts only.
  if (!upstashHost(request.host) && !(Array.isArray(json) && (segments.length === 0 || (segments.length === 1 && /^(pipeline|multi-exec)$/i.test(segments[0]!))))) return undefined;
  const args = (v: unknown): string[] | undefined => (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') ? v.map(String) : undefined);
  let commands: string[][];
  const first = (segments[0] ?? '').toLowerCase();
  if (segments.length === 0) {
    const one = args(json);
    if (!one) return undefined;
    commands = [one];
  } else if (segments.length === 1 && (first === 'pipeline' || first === 'multi-exec')) {
    if (!Array.isArray(json)) return undefined;
    if (json.length > MAX_UPSTASH_COMMANDS) return { error: `an Upstash pipeline of more than ${MAX_UPSTASH_COMMANDS} commands: not read` };
    const listed = json.map(args);
    if (listed.some((c) => c === undefined)) return { error: 'an Upstash pipeline entry that is no command: not read' };
    commands = listed as string[][];
  } else {
    commands = [[...segments, ...(request.method === 'POST' && bodyText !== undefined && bodyText !== '' ? [bodyText] : [])]];
  }
  const texts = commands.map(redisTwin).filter((t): t is string => t !== undefined);
  // Only a request that empties a database or acts on the server is read as SQL: a write of keys
  // keeps the reading grants have made of it since the twelfth pass (the same command on the same key).
  return texts.some(redisTwinActs) ? { texts } : undefined;
}
