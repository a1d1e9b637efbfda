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

/** The twin of one command, or undefined when it only reads. */
export function redisTwin(args: string[]): string | undefined {
  const name = (args[0] ?? '').toLowerCase();
  const sub = (args[1] ?? '').toLowerCase();
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
  return texts.some((t) => t.startsWith('DROP ') || t.startsWith('COPY ')) ? { texts } : undefined;
}
