// Rate-limit and egress-byte buckets in Redis, shared exactly by every replica (the RateLimits
// port; embedded: state/ratelimit.ts, whose semantics this keeps: token buckets refilled
// continuously at limit/window, a decision's entries charged all together or not at all, the
// longest wait reported). Client: `ioredis`.
//
// One Lua script charges all the buckets of a decision atomically inside Redis, with Redis's own
// clock (TIME), so replicas with skewed clocks still share one bucket exactly: 100 requests per
// hour are 100 across every replica. A bucket untouched for its window is full, so its key
// expires then; an index (sorted set) lists the buckets for `airlock limits` and the studio.
//
// Egress bytes of a stream leave on a lease (meterEgress): a replica takes bytes from a bucket in
// Redis (checked and debited at once, all or none) ahead of the chunks that spend them, a chunk
// that its lease covers leaves at once, and one it does not waits for the next lease; what a lease
// has left when its stream has gone quiet for a second goes back to the bucket. So a stream of a
// million tiny WebSocket frames is a script per lease, not per frame (which took Redis's time and
// the event loop from every agent), and no replica spends what another has spent: byte budgets
// are exact across replicas, as request counts are (twenty-first pass: each replica metered small
// chunks on its own estimate of the level, so replicas streaming together each sent nearly a
// whole budget). chargeEgress, the port's synchronous meter, still decides on the level as Redis
// last reported it, minus what this replica sent since, and debits Redis in the background
// (the bucket may go below zero, which later charges wait out): one debit in flight at a time,
// the chunks metered meanwhile merged per bucket into the next. A debit Redis does not take (it
// answers an error: out of memory, a read-only replica; or no answer in time) is owed: kept here,
// sent again every 250 ms, and until Redis has taken it every metered chunk and every charge on
// this replica is refused, so bytes that left are never lost to the budget.
//
// Redis losing buckets must not refill them: a FLUSHALL, a restart without persistence, a
// failover to a replica that missed the last writes, a snapshot restored. An epoch hash (no TTL)
// holds an id and a counter every charge raises; each replica remembers the last it saw. A missing
// epoch, another id or a lower counter means buckets were lost or rolled back: the epoch records
// when (`lost_at`), and a bucket not written since counts as emptied then, refilling from there
// (never more than one process would have allowed). Evicting single keys cannot be seen that way,
// so a Redis that may evict (`maxmemory-policy` other than `noeviction` with a `maxmemory`) is
// refused as unavailable, and keys evicted between two checks mark a loss too.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { BucketTable, MAX_BUCKETS_PER_AGENT, RateLimitError, egressDirectives, planCharges, tooManyBuckets, type BucketView, type Charge, type Chargeable, type ChargeResult, type LimitUnit, type Planned } from '../ratelimit.ts';
import type { RateLimitDirective } from '../../engine/decision.ts';
import type { RateLimits } from '../stores.ts';
import { StoreUnavailableError } from '../unavailable.ts';

export const REDIS_STORE = 'Redis (rate limits)';
const PREFIX = 'airlock:{rl}:';
const INDEX = `${PREFIX}index`;
const EPOCH = `${PREFIX}epoch`;
/** Per agent, its live buckets scored by when each refills (the embedded table's MAX_BUCKETS_PER_AGENT). */
const OWNED = `${PREFIX}owned:`;
const EPSILON = 1e-9;

export function isRedisUrl(url: string | undefined): url is string {
  return typeof url === 'string' && /^rediss?:\/\//i.test(url.trim());
}

function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname.length > 1 ? u.pathname : ''}`;
  } catch {
    return 'redis://…';
  }
}

// KEYS: the buckets, then the index, then the epoch, then the paying agent's set of live buckets.
// ARGV: mode ("all" = all or none; "debit" = charge even when short, so the level may go below
// zero), the most buckets the index lists (the least recently charged go first, as in the embedded
// table), the epoch id and counter this replica last saw ("" and 0: none yet), an id for a new
// epoch, "1" when this replica saw keys evicted, the paying agent ("" when none is named) and the
// most live buckets one agent may have (MAX_BUCKETS_PER_AGENT), then limit, window_ms, cost, unit,
// key for each bucket.
// Returns {ok, wait_ms, impossible, epoch_id, epoch_seq, level_1 … level_n} (levels before the
// charge), numbers as text; ok is -1 when the agent is at its bound of buckets and would need a
// new one.
const CHARGE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = #KEYS - 3
local mode = ARGV[1]
local listed = tonumber(ARGV[2])
local ek = KEYS[n + 2]
local ok_set = KEYS[n + 3]
local owner = ARGV[7]
local e = redis.call('HMGET', ek, 'id', 'lost_at', 'seq')
local eid = e[1]
local lost = tonumber(e[2] or '0') or 0
local seq = tonumber(e[3] or '0') or 0
local known = ARGV[3]
if not eid then
  eid = ARGV[5]
  seq = 0
  if known ~= '' then lost = now else lost = 0 end
  redis.call('HSET', ek, 'id', eid, 'lost_at', lost)
elseif (known ~= '' and (eid ~= known or seq < tonumber(ARGV[4]))) or ARGV[6] == '1' then
  lost = now
  redis.call('HSET', ek, 'lost_at', lost)
end
seq = redis.call('HINCRBY', ek, 'seq', 1)
-- One agent's live buckets (keyed by what it chooses: a host), bounded as in the embedded table.
local bounded = false
if owner ~= '' and mode ~= 'debit' then
  redis.call('ZREMRANGEBYSCORE', ok_set, '-inf', now)
  local fresh = 0
  for i = 1, n do
    if redis.call('EXISTS', KEYS[i]) == 0 then fresh = fresh + 1 end
  end
  if fresh > 0 and redis.call('ZCARD', ok_set) + fresh > tonumber(ARGV[8]) then bounded = true end
end
local levels = {}
local since = {}
local short = false
local wait = 0
local impossible = 0
for i = 1, n do
  local base = 8 + (i - 1) * 5
  local limit = tonumber(ARGV[base + 1])
  local win = tonumber(ARGV[base + 2])
  local cost = tonumber(ARGV[base + 3])
  local b = redis.call('HMGET', KEYS[i], 'tokens', 'updated')
  since[i] = tonumber(b[2] or '')
  local level = limit
  if b[1] then
    local elapsed = math.max(0, now - tonumber(b[2]))
    level = math.min(limit, tonumber(b[1]) + elapsed * limit / win)
  end
  if lost > 0 and not (b[2] and tonumber(b[2]) >= lost) then
    -- not written since Redis lost buckets: counted as emptied then
    level = math.min(level, math.max(0, now - lost) * limit / win)
  end
  levels[i] = level
  if level + 1e-9 < cost then
    short = true
    if cost > limit + 1e-9 then
      impossible = 1
      wait = math.max(wait, win)
    else
      wait = math.max(wait, (cost - level) * win / limit)
    end
  end
end
local out = {}
if bounded then
  out[1] = -1
elseif short and mode ~= 'debit' then
  out[1] = 0
else
  out[1] = 1
  for i = 1, n do
    local base = 8 + (i - 1) * 5
    local limit = tonumber(ARGV[base + 1])
    local win = tonumber(ARGV[base + 2])
    local cost = tonumber(ARGV[base + 3])
    local left = levels[i] - cost
    -- a debit may take a bucket below zero; a negative one (a lease given back) never fills it past its limit
    if mode ~= 'debit' then left = math.max(0, left) else left = math.min(limit, math.max(-limit, left)) end
    -- the level is as of now, never earlier than it was: a clock set back (a failover to a Redis
    -- whose clock is behind) must not date it back, or the bucket refills twice once time catches up
    local upd = now
    if since[i] and since[i] > now then upd = since[i] end
    redis.call('HSET', KEYS[i], 'tokens', string.format('%.17g', left), 'updated', upd, 'limit', ARGV[base + 1], 'window_ms', ARGV[base + 2], 'unit', ARGV[base + 4], 'key', ARGV[base + 5])
    local ttl = math.ceil(win * (1 + math.max(0, -left) / limit)) + 1000 + (upd - now)
    redis.call('PEXPIRE', KEYS[i], ttl)
    redis.call('ZADD', KEYS[n + 1], now, KEYS[i])
    if owner ~= '' then
      redis.call('ZADD', ok_set, now + ttl, KEYS[i])
      if redis.call('PTTL', ok_set) < ttl then redis.call('PEXPIRE', ok_set, ttl) end
    end
  end
  redis.call('ZREMRANGEBYRANK', KEYS[n + 1], 0, -(listed + 1))
end
out[2] = string.format('%.17g', wait)
out[3] = impossible
out[4] = eid
out[5] = tostring(seq)
for i = 1, n do out[5 + i] = string.format('%.17g', levels[i]) end
return out
`;


const floor3 = (n: number): number => Math.floor(n * 1000 + EPSILON) / 1000;

type ChargingRedis = Redis & {
  airlockCharge(numKeys: number, ...args: Array<string | number>): Promise<[number, string, number, string, string, ...string[]]>;
  airlockReset(numKeys: number, ...args: Array<string | number>): Promise<number>;
};

// KEYS: the buckets to reset. Each is deleted and marked written now: full, and trusted after a loss.
const RESET = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = 0
for i = 1, #KEYS do
  n = n + redis.call('DEL', KEYS[i])
  redis.call('HSET', KEYS[i], 'updated', now)
  redis.call('PEXPIRE', KEYS[i], ARGV[1])
end
return n
`;

export class RedisRateLimits implements RateLimits {
  private readonly redis: ChargingRedis;
  readonly display: string;
  private down: string | undefined;
  /**
   * The level Redis last reported per byte bucket and when (for the synchronous egress meter).
   * Bounded like the index: a policy may key buckets by host, and hosts are the agent's choice.
   */
  private readonly levels = new Map<string, { level: number; at: number; limit: number; windowMs: number }>();
  /** Buckets listed in Redis's index and byte levels kept here, at most (the least recently charged go). */
  static MAX_KNOWN = BucketTable.MAX_KNOWN;
  /**
   * Buckets not yet refilled that one agent's requests started, at most, over every replica, as in
   * the embedded table: buckets keyed by host grew Redis without bound under a wildcard of hosts,
   * and a Redis out of memory refuses every agent's limited requests.
   */
  static MAX_BUCKETS_PER_AGENT = MAX_BUCKETS_PER_AGENT;
  /**
   * Byte charges sent to Redis and not answered yet, per bucket. An answer reports the level after
   * its own charge only: the charges sent after it are still to come off, or each answer would
   * hand their bytes back to the meter (a stream whose chunks arrive between answers got through
   * several times its budget on one replica).
   */
  private readonly inflight = new Map<string, number>();
  /**
   * Debits of metered chunks not sent yet, merged per bucket (counted in `inflight` already): sent
   * as one when the debit in flight is answered (see the header).
   */
  private readonly queued = new Map<string, Planned>();
  private debiting = false;
  /** Bytes that left but that Redis has not been debited for yet, per bucket (see `owe`). */
  private readonly owed = new Map<string, Planned>();
  private owedError: string | undefined;
  private owedTimer: NodeJS.Timeout | undefined;
  private settling: Promise<void> | undefined;
  static RETRY_MS = 250;
  /** The epoch this replica last saw (see the header); "" before the first answer. */
  private epochId = '';
  private epochSeq = 0;
  /** Why Redis is refused although it answers (it may evict buckets), or undefined. */
  private evicting: string | undefined;
  private evictedKeys: number | undefined;
  private evictionSeen = false;
  private evictionTimer: NodeJS.Timeout | undefined;
  static EVICTION_CHECK_MS = 1000;
  /** How long a reset bucket's mark lives: longer than any window a loss could still cap. */
  static RESET_MARK_MS = 31 * 24 * 3600 * 1000;

  private constructor(url: string, private readonly warn: (line: string) => void) {
    this.display = displayUrl(url);
    this.redis = new Redis(url, {
      // Fail at once while disconnected (the proxy answers 503), reconnect in the background.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 2000,
      connectTimeout: 2000,
      retryStrategy: () => 250,
      lazyConnect: true,
    }) as ChargingRedis;
    this.redis.defineCommand('airlockCharge', { lua: CHARGE });
    this.redis.defineCommand('airlockReset', { lua: RESET });
    this.redis.on('error', (err: Error) => {
      if (this.down === undefined) this.warn(`airlock: ${REDIS_STORE} ${this.display} unreachable (${err.message}); requests with rate limits are refused with 503 until it is back`);
      this.down = err.message;
    });
    this.redis.on('ready', () => {
      if (this.down !== undefined) this.warn(`airlock: ${REDIS_STORE} ${this.display} is reachable again`);
      this.down = undefined;
    });
  }

  static async open(url: string, opts: { warn?: (line: string) => void } = {}): Promise<RedisRateLimits> {
    const r = new RedisRateLimits(url, opts.warn ?? ((line) => process.stderr.write(`${line}\n`)));
    try {
      await r.redis.connect();
      await r.redis.ping();
      await r.checkEviction();
      await r.run('all', []); // learns the epoch (or starts the first one)
    } catch (err) {
      r.redis.disconnect();
      throw new Error(`cannot connect to the rate-limit store ${r.display}: ${(err as Error).message}`);
    }
    if (r.evicting !== undefined) r.warn(`airlock: ${REDIS_STORE} ${r.display} ${r.evicting}; requests with rate limits are refused with 503 until it is changed`);
    r.evictionTimer = setInterval(() => {
      r.checkEviction().catch(() => undefined);
    }, RedisRateLimits.EVICTION_CHECK_MS).unref();
    return r;
  }

  /**
   * A Redis that may evict keys could drop a drained bucket, which would then read as full: refused
   * until it is set to `noeviction` (or has no `maxmemory`). Keys evicted since the last check
   * (the setting changed in between) mark a loss at the next charge.
   */
  private async checkEviction(): Promise<void> {
    const info = await this.redis.info('memory').then(async (m) => `${m}\n${await this.redis.info('stats')}`);
    const field = (name: string): string | undefined => info.split('\n').find((l) => l.startsWith(`${name}:`))?.slice(name.length + 1).trim();
    const policy = field('maxmemory_policy') ?? 'noeviction';
    const maxmemory = Number(field('maxmemory') ?? '0');
    const before = this.evicting;
    this.evicting = policy !== 'noeviction' && maxmemory > 0
      ? `evicts keys under memory pressure (maxmemory-policy ${policy}), which would refill rate-limit buckets: set maxmemory-policy noeviction`
      : undefined;
    if (before === undefined && this.evicting !== undefined && this.evictedKeys !== undefined) this.warn(`airlock: ${REDIS_STORE} ${this.display} ${this.evicting}; requests with rate limits are refused with 503 until it is changed`);
    if (before !== undefined && this.evicting === undefined) this.warn(`airlock: ${REDIS_STORE} ${this.display} no longer evicts keys`);
    const evicted = Number(field('evicted_keys') ?? '0');
    if (this.evictedKeys !== undefined && evicted > this.evictedKeys) this.evictionSeen = true;
    this.evictedKeys = evicted;
  }

  private unavailable(err: unknown): StoreUnavailableError {
    return new StoreUnavailableError(REDIS_STORE, `${this.display}: ${(err as Error).message ?? String(err)}`);
  }

  private plan(directives: RateLimitDirective[] | undefined, description?: Chargeable): Planned[] {
    return planCharges(directives, description).map((p) => ({ ...p, id: `${PREFIX}${p.unit}:${p.key}` }));
  }

  /** `owner`: the agent whose request pays, bounded in the buckets it starts ("" for a stream's debits). */
  private async run(mode: 'all' | 'debit', plan: Planned[], owner = '', counted = false): Promise<ChargeResult> {
    if (this.evicting !== undefined && mode === 'all') throw this.unavailable(new Error(this.evicting));
    const evictionSeen = this.evictionSeen;
    const args: Array<string | number> = [
      ...plan.map((p) => p.id), INDEX, EPOCH, `${OWNED}${owner}`,
      mode, RedisRateLimits.MAX_KNOWN, this.epochId, this.epochSeq, randomUUID(), evictionSeen ? '1' : '0', owner, RedisRateLimits.MAX_BUCKETS_PER_AGENT,
    ];
    for (const p of plan) args.push(p.limit, p.windowMs, p.cost, p.unit, p.key);
    let out: [number, string, number, string, string, ...string[]];
    const bytes = plan.filter((p) => p.unit === 'egress_bytes');
    if (!counted) for (const p of bytes) this.inflight.set(p.id, (this.inflight.get(p.id) ?? 0) + p.cost);
    try {
      out = await this.redis.airlockCharge(plan.length + 3, ...args);
    } catch (err) {
      throw this.unavailable(err);
    } finally {
      for (const p of bytes) {
        const left = (this.inflight.get(p.id) ?? 0) - p.cost;
        if (left > EPSILON) this.inflight.set(p.id, left);
        else this.inflight.delete(p.id);
      }
    }
    const [ok, waitText, impossible, epochId, epochSeq, ...levelText] = out;
    if (evictionSeen) this.evictionSeen = false;
    // Answers may come back out of order: the counter only moves forward within one epoch.
    if (epochId !== this.epochId || Number(epochSeq) > this.epochSeq) {
      this.epochId = epochId;
      this.epochSeq = Number(epochSeq);
    }
    const levels = levelText.map(Number);
    const at = Date.now();
    plan.forEach((p, i) => {
      if (p.unit !== 'egress_bytes') return;
      const after = ok === 1 ? Math.max(mode === 'debit' ? -p.limit : 0, levels[i]! - p.cost) : levels[i]!;
      this.setLevel(p.id, { level: after - (this.inflight.get(p.id) ?? 0), at, limit: p.limit, windowMs: p.windowMs });
    });
    if (ok === -1) {
      return {
        ok: false, retryAfter: Math.max(1, Math.ceil(Math.min(...plan.map((p) => p.windowMs)) / 1000)), impossible: false,
        short: plan.map((p, i) => ({ key: p.key, unit: p.unit, cost: p.cost, limit: p.limit, remaining: floor3(Math.max(0, levels[i]!)) })),
        reason: tooManyBuckets(RedisRateLimits.MAX_BUCKETS_PER_AGENT),
      };
    }
    if (ok === 1) {
      return { ok: true, charged: plan.map((p, i): Charge => ({ key: p.key, unit: p.unit, cost: p.cost, limit: p.limit, remaining: floor3(Math.max(0, levels[i]! - p.cost)) })) };
    }
    const short = plan.flatMap((p, i): Charge[] => (levels[i]! + EPSILON < p.cost ? [{ key: p.key, unit: p.unit, cost: p.cost, limit: p.limit, remaining: floor3(Math.max(0, levels[i]!)) }] : []));
    return { ok: false, retryAfter: Math.max(1, Math.ceil(Number(waitText) / 1000 - EPSILON)), short, impossible: impossible === 1 };
  }

  /** Most recently charged last; the least recently charged bucket goes past the bound. */
  private setLevel(id: string, v: { level: number; at: number; limit: number; windowMs: number }): void {
    this.levels.delete(id);
    this.levels.set(id, v);
    if (this.levels.size > RedisRateLimits.MAX_KNOWN) this.levels.delete(this.levels.keys().next().value!);
  }

  charge(directives: RateLimitDirective[] | undefined, description?: Chargeable): ChargeResult | Promise<ChargeResult> {
    const plan = this.plan(directives, description);
    if (plan.length === 0) return { ok: true, charged: [] };
    // Bytes already gone are debited first: a charge never passes on a level Redis overstates.
    const owner = description?.agent?.id ?? '';
    // Metered bytes still queued go first (one connection: Redis runs them before this charge).
    if (this.queued.size > 0) void this.sendQueued();
    if (this.owed.size > 0) return this.settle().then(() => this.run('all', plan, owner));
    return this.run('all', plan, owner);
  }

  /** Sends the queued debits unless one is in flight; the next goes once Redis answered it. */
  private pumpDebits(): void {
    if (this.debiting || this.queued.size === 0) return;
    this.debiting = true;
    void this.sendQueued().finally(() => {
      this.debiting = false;
      this.pumpDebits();
    });
  }

  /** The queued debits as one (merged per bucket); a debit Redis does not take is owed. */
  private sendQueued(): Promise<void> {
    const plan = [...this.queued.values()];
    this.queued.clear();
    if (plan.length === 0) return Promise.resolve();
    return this.run('debit', plan, '', true).then(() => undefined, (err: unknown) => this.owe(plan, err));
  }

  /** A debit Redis did not take: owed, merged per bucket, sent again until it is taken. */
  private owe(plan: Planned[], err: unknown): void {
    for (const p of plan) {
      const prev = this.owed.get(p.id);
      this.owed.set(p.id, { ...p, cost: (prev?.cost ?? 0) + p.cost });
    }
    this.owedError = (err as Error).message ?? String(err);
    this.owedTimer ??= setTimeout(() => {
      this.owedTimer = undefined;
      this.settle().catch(() => undefined);
    }, RedisRateLimits.RETRY_MS).unref();
  }

  /** Sends what is owed (one attempt at a time); rejects as "unavailable" while Redis refuses it. */
  private settle(): Promise<void> {
    this.settling ??= (async () => {
      try {
        const plan = [...this.owed.values()];
        for (const p of plan) this.owed.delete(p.id);
        // ioredis rejects every command at once while disconnected: no need to wait here.
        await this.run('debit', plan).catch((err: unknown) => {
          this.owe(plan, err);
          throw this.unavailable(err);
        });
        if (this.owed.size === 0) this.owedError = undefined;
      } finally {
        this.settling = undefined;
      }
    })();
    return this.settling;
  }

  /**
   * Bytes of a bucket this replica took from Redis ahead of the chunks that spend them (meterEgress),
   * per bucket, with when a chunk last spent from it. Bounded by the buckets of open streams.
   */
  private readonly leases = new Map<string, { bytes: number; plan: Planned; used: number; timer: NodeJS.Timeout }>();
  /** The most a lease takes beyond its chunk (and at most an eighth of the bucket: other replicas' share). */
  static LEASE_BYTES = 64 * 1024;
  /** A lease its streams have not spent from for this long goes back to its bucket. */
  static LEASE_IDLE_MS = 1000;

  /**
   * A chunk of a stream, on this replica's lease of each of its buckets (see the header): at once
   * when the leases cover it, else once Redis has granted it (and a new lease) or refused it. The
   * level this replica last heard of is never relied on: the twentieth pass had small chunks
   * metered on it, at most a round trip's worth past the budget per replica, and a replica whose
   * view was stale (another replica had drained the bucket) sent up to the whole budget again.
   */
  meterEgress(directives: RateLimitDirective[] | undefined, bytes: number): ChargeResult | Promise<ChargeResult> {
    const egress = egressDirectives(directives);
    if (!egress) return { ok: true, charged: [] };
    if ((this.down ?? this.evicting) !== undefined) return this.chargeEgress(directives, bytes);
    const plan = this.plan(egress, { request: { egress_bytes: bytes } });
    if (plan.every((p) => (this.leases.get(p.id)?.bytes ?? 0) + EPSILON >= p.cost)) {
      const now = Date.now();
      return {
        ok: true,
        charged: plan.map((p): Charge => {
          const lease = this.leases.get(p.id)!;
          lease.bytes -= p.cost;
          lease.used = now;
          return { key: p.key, unit: p.unit, cost: p.cost, limit: p.limit, remaining: floor3(Math.max(0, lease.bytes)) };
        }),
      };
    }
    return this.lease(plan).catch((err: unknown): ChargeResult => ({
      ok: false, retryAfter: 1, impossible: false, reason: (err as Error).message,
      short: plan.map((p) => ({ key: p.key, unit: p.unit, cost: p.cost, limit: p.limit, remaining: 0 })),
    }));
  }

  /** Takes from Redis what the leases do not cover of a chunk, and a lease beyond it when the bucket holds one. */
  private async lease(plan: Planned[]): Promise<ChargeResult> {
    // What the leases hold is spent now (a chunk metered meanwhile cannot spend it too), given back on a refusal.
    const held = plan.map((p) => {
      const lease = this.leases.get(p.id);
      const take = Math.min(p.cost, Math.max(0, lease?.bytes ?? 0));
      if (lease) lease.bytes -= take;
      return take;
    });
    const need = plan.map((p, i) => ({ ...p, cost: p.cost - held[i]! }));
    const extra = need.map((p) => Math.min(RedisRateLimits.LEASE_BYTES, p.limit / 8));
    let granted: number[] = extra;
    let result: ChargeResult;
    try {
      if (this.queued.size > 0) void this.sendQueued();
      if (this.owed.size > 0) await this.settle();
      result = await this.run('all', need.map((p, i) => ({ ...p, cost: p.cost + extra[i]! })));
      // A bucket with less left than a lease beyond the chunk: the chunk alone.
      if (!result.ok && result.reason === undefined && extra.some((e) => e > 0)) {
        granted = extra.map(() => 0);
        result = await this.run('all', need);
      }
    } catch (err) {
      result = { ok: false, retryAfter: 1, impossible: false, reason: (err as Error).message, short: [] };
    }
    if (!result.ok) {
      plan.forEach((p, i) => { if (held[i]) this.leases.get(p.id)!.bytes += held[i]!; });
      // The chunk as the agent sent it (what it cost, what the bucket holds), not the lease asked for.
      const short = result.short.length ? result.short : plan.map((p) => ({ key: p.key, unit: p.unit, cost: p.cost, limit: p.limit, remaining: 0 }));
      return { ...result, short: short.map((c) => ({ ...c, cost: plan.find((p) => p.key === c.key && p.unit === c.unit)?.cost ?? c.cost })) };
    }
    const now = Date.now();
    plan.forEach((p, i) => {
      const lease = this.leases.get(p.id);
      if (lease) {
        lease.bytes += granted[i]!;
        lease.used = now;
      } else if (granted[i]! > 0) {
        const timer = setTimeout(() => this.giveBack(p.id), RedisRateLimits.LEASE_IDLE_MS).unref();
        this.leases.set(p.id, { bytes: granted[i]!, plan: p, used: now, timer });
      }
    });
    return { ok: true, charged: plan.map((p, i) => ({ key: p.key, unit: p.unit, cost: p.cost, limit: p.limit, remaining: floor3(Math.max(0, (result as { charged: Charge[] }).charged[i]?.remaining ?? 0)) })) };
  }

  /** A lease whose streams have gone quiet goes back to its bucket (a credit; lost if Redis does not take it: fail closed). */
  private giveBack(id: string): Promise<void> {
    const lease = this.leases.get(id);
    if (!lease) return Promise.resolve();
    const idle = Date.now() - lease.used;
    if (idle < RedisRateLimits.LEASE_IDLE_MS && !this.closing) {
      lease.timer = setTimeout(() => this.giveBack(id), RedisRateLimits.LEASE_IDLE_MS - idle).unref();
      return Promise.resolve();
    }
    this.leases.delete(id);
    clearTimeout(lease.timer);
    if (lease.bytes <= EPSILON) return Promise.resolve();
    return this.run('debit', [{ ...lease.plan, cost: -lease.bytes }], '', true).then(() => undefined, () => undefined);
  }
  private closing = false;

  chargeEgress(directives: RateLimitDirective[] | undefined, bytes: number): ChargeResult {
    const plan = this.plan(egressDirectives(directives), { request: { egress_bytes: bytes } });
    if (plan.length === 0) return { ok: true, charged: [] };
    const now = Date.now();
    const short: Charge[] = [];
    let wait = 0;
    let impossible = false;
    const failing = this.down ?? this.evicting ?? (this.owed.size > 0 ? this.owedError ?? 'a debit was not taken' : undefined);
    if (failing !== undefined) {
      // Bytes that Redis cannot count do not leave.
      return {
        ok: false, retryAfter: 1, impossible: false, reason: `${REDIS_STORE} is unreachable: ${this.display}: ${failing}`,
        short: plan.map((p) => ({ key: p.key, unit: p.unit, cost: p.cost, limit: p.limit, remaining: 0 })),
      };
    }
    const estimates = plan.map((p) => {
      const known = this.levels.get(p.id);
      const level = known ? Math.min(p.limit, known.level + (Math.max(0, now - known.at) * p.limit) / p.windowMs) : p.limit;
      if (level + EPSILON < p.cost) {
        short.push({ key: p.key, unit: p.unit, cost: p.cost, limit: p.limit, remaining: floor3(Math.max(0, level)) });
        if (p.cost > p.limit + EPSILON) {
          impossible = true;
          wait = Math.max(wait, p.windowMs);
        } else {
          wait = Math.max(wait, ((p.cost - level) * p.windowMs) / p.limit, 1000);
        }
      }
      return level;
    });
    if (short.length) return { ok: false, retryAfter: Math.max(1, Math.ceil(wait / 1000 - EPSILON)), short, impossible };
    plan.forEach((p, i) => this.setLevel(p.id, { level: estimates[i]! - p.cost, at: now, limit: p.limit, windowMs: p.windowMs }));
    // The bytes are leaving: Redis is debited for them (with the chunks metered while a debit is
    // in flight), and its answer corrects the estimate.
    for (const p of plan) {
      const prev = this.queued.get(p.id);
      this.queued.set(p.id, prev ? { ...prev, cost: prev.cost + p.cost } : p);
      this.inflight.set(p.id, (this.inflight.get(p.id) ?? 0) + p.cost);
    }
    this.pumpDebits();
    return { ok: true, charged: plan.map((p, i) => ({ key: p.key, unit: p.unit, cost: p.cost, limit: p.limit, remaining: floor3(Math.max(0, estimates[i]! - p.cost)) })) };
  }

  async snapshot(): Promise<BucketView[]> {
    try {
      const ids = await this.redis.zrevrange(INDEX, 0, 9999);
      const pipe = this.redis.pipeline();
      for (const id of ids) pipe.hgetall(id);
      const rows = (await pipe.exec()) ?? [];
      const t = Number((await this.redis.time())[0]) * 1000;
      const lost = Number((await this.redis.hget(EPOCH, 'lost_at')) ?? 0) || 0;
      const gone: string[] = [];
      const out: BucketView[] = [];
      rows.forEach(([, h], i) => {
        const b = h as Record<string, string> | undefined;
        if (!b || !b.limit) {
          gone.push(ids[i]!);
          return;
        }
        const limit = Number(b.limit);
        const windowMs = Number(b.window_ms);
        let level = Math.min(limit, Number(b.tokens) + (Math.max(0, t - Number(b.updated)) * limit) / windowMs);
        // as the charge reads it: not written since Redis lost buckets, emptied then
        if (lost > 0 && !(Number(b.updated) >= lost)) level = Math.min(level, (Math.max(0, t - lost) * limit) / windowMs);
        out.push({
          key: b.key ?? '', unit: (b.unit as LimitUnit) ?? 'requests', limit, window_s: windowMs / 1000,
          available: floor3(Math.max(0, level)),
          full_in_s: Math.ceil(((limit - level) * windowMs) / limit / 1000 - EPSILON),
          updated: new Date(Number(b.updated)).toISOString(),
        });
      });
      if (gone.length) await this.redis.zrem(INDEX, ...gone);
      return out.sort((a, b) => a.key.localeCompare(b.key) || a.unit.localeCompare(b.unit));
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  async reset(key: string): Promise<number> {
    const ids = (['requests', 'egress_bytes'] as const).map((u) => `${PREFIX}${u}:${key}`);
    try {
      const n = await this.redis.airlockReset(ids.length, ...ids, RedisRateLimits.RESET_MARK_MS);
      await this.redis.zrem(INDEX, ...ids);
      for (const id of ids) {
        this.levels.delete(id);
        clearTimeout(this.leases.get(id)?.timer);
        this.leases.delete(id);
      }
      return n;
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  async close(): Promise<void> {
    if (this.evictionTimer) clearInterval(this.evictionTimer);
    if (this.owedTimer) clearTimeout(this.owedTimer);
    this.owedTimer = undefined;
    this.closing = true;
    await Promise.all([...this.leases.keys()].map((id) => this.giveBack(id)));
    if (this.queued.size > 0) await this.sendQueued();
    if (this.owed.size > 0) await this.settle().catch(() => undefined);
    if (this.owedTimer) clearTimeout(this.owedTimer);
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

export { RateLimitError };
