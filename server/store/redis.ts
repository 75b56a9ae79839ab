// Redis refresh-token store (ioredis), for several server instances. Every
// operation that reads and then writes is one Lua script, which Redis runs
// without interleaving, so two instances rotating the same token at once
// cannot both see it as current.
//
// Keys, under a configurable prefix:
//   <prefix>t:<token hash>  hash {f: family id, e: idle expiry, r: rotated at}
//   <prefix>f:<family id>   hash {u: user, a: absolute expiry, c: current hash, v: revoked at, k: DPoP key thumbprint, i: idle ms,
//                                 up: the sealed upstream record, lh/lu: its lease's holder and end}
//   <prefix>u:<user id>     set of family ids
//   <prefix>xs              the access-token revocation list: a sorted set of family ids, each scored by
//                           when its entry ends (caller's clock; the access-token lifetime after the
//                           revocation). Each revocation trims the ended entries and PEXPIREs the set for
//                           as long as its newest entry lives, so Redis drops it when no revocation is left.
// and the channel <prefix>revoked, on which each revocation is published ("<family id> <end>").
// A revocation lists the family in the same script that revokes it. Each
// connection keeps the list in memory (loaded from xs, then kept by the channel),
// so the access-token check of an API request asks Redis nothing; see RevocationCache.
// Every key of a family expires (PEXPIRE) when the family's absolute lifetime
// ends: rotated tokens must live as long as their family, or a replay of an
// old one would read as unknown instead of revoking the family. So Redis
// deletes families by itself and sweep() has nothing to do; a family that died
// of idleness keeps its keys until its absolute end. Expiry is set relative to
// the caller's clock (PEXPIRE, not PEXPIREAT), so instances' clocks need not
// agree with Redis's; a successor takes its family key's remaining PTTL, so a
// caller's clock that jumps after the login moves no key's end.
//
// The scripts touch keys they find inside other keys, so they need one Redis
// (or a primary with replicas), not Redis Cluster.
import { Redis, type Result } from 'ioredis';
import type { JtiStore } from './jti';
import type { NewFamily, RefreshStore, RotationPolicy, RotationResult } from './types';

// Lua 5.1 prints large numbers in exponent form; timestamps must stay integers.
const INT = `local function int(n) return string.format('%d', n) end`;

/** Lists a revoked family's access tokens for \`ms\` (nothing when 0) and tells every instance. Needs INT. */
const LIST = `${INT}
local function list(prefix, family, now, ms)
  if ms <= 0 then return end
  local ends = now + ms
  local index = prefix .. 'xs'
  redis.call('ZADD', index, 'GT', int(ends), family)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', int(now))
  if redis.call('PTTL', index) < ms then redis.call('PEXPIRE', index, int(ms)) end
  redis.call('PUBLISH', prefix .. 'revoked', family .. ' ' .. int(ends))
end
`;

/** KEYS: family, token, user set. ARGV: family id, user, token hash, now, idle ms, absolute ms, jkt ('' when unbound), claims JSON, upstream ('' none). */
const CREATE = `${INT}
local now, idle, absolute = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local ends = now + absolute
redis.call('HSET', KEYS[1], 'u', ARGV[2], 'a', int(ends), 'c', ARGV[3], 'cl', ARGV[8], 'i', int(idle))
if ARGV[7] ~= '' then redis.call('HSET', KEYS[1], 'k', ARGV[7]) end
if ARGV[9] ~= '' then redis.call('HSET', KEYS[1], 'up', ARGV[9]) end
redis.call('PEXPIRE', KEYS[1], int(absolute))
redis.call('HSET', KEYS[2], 'f', ARGV[1], 'e', int(math.min(now + idle, ends)))
redis.call('PEXPIRE', KEYS[2], int(absolute))
redis.call('SADD', KEYS[3], ARGV[1])
-- The user's set lives as long as the longest family in it.
if redis.call('PTTL', KEYS[3]) < absolute then redis.call('PEXPIRE', KEYS[3], int(absolute)) end
`;

/**
 * KEYS: token, successor token. ARGV: prefix, successor hash, now, idle ms, grace ms, presented jkt ('' without proof),
 * access list ms, deadline (ms on Redis's clock).
 */
const ROTATE = `${LIST}
-- A rotation run after its caller gave up is refused: ioredis still sends a command that timed out (queued while
-- Redis was away, or in the socket of a Redis that hung), and the refresh it served was answered 503 without the
-- successor, so the browser's retry after the grace window would read as reuse and end a live session.
local clock = redis.call('TIME')
if tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000) > tonumber(ARGV[8]) then return {'late'} end
local now, idle, grace = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local t = redis.call('HMGET', KEYS[1], 'f', 'e', 'r')
if not t[1] then return {'unknown'} end
local fkey = ARGV[1] .. 'f:' .. t[1]
local f = redis.call('HMGET', fkey, 'u', 'a', 'c', 'v', 'k', 'cl', 'i')
-- The family's own idle lifetime; families made before it was kept use the instance's.
if f[7] then idle = tonumber(f[7]) end
if not f[1] then return {'unknown'} end
if f[4] then return {'revoked'} end
local ends = tonumber(f[2])
if now >= ends then return {'expired'} end
local wrong = f[5] and f[5] ~= ARGV[6]
local jkt = f[5] or ''
if not t[3] then
  if now >= tonumber(t[2]) then return {'expired'} end
  -- The live token without the family's key: the security policy may end the family.
  if wrong then return {'wrong_key', f[1], t[1]} end
  redis.call('HSET', KEYS[1], 'r', int(now))
  redis.call('HSET', KEYS[2], 'f', t[1], 'e', int(math.min(now + idle, ends)))
  -- The family's own remaining time, on Redis's clock: ends - now would cut the successor short by however far
  -- the caller's clock ran ahead since the login, and a clock stepped back later would find it gone (unknown).
  local left = redis.call('PTTL', fkey)
  redis.call('PEXPIRE', KEYS[2], left > 0 and left or int(ends - now))
  redis.call('HSET', fkey, 'c', ARGV[2])
  return {'rotated', f[1], t[1], jkt, f[6] or '{}'}
end
-- Before the reuse check: an old token alone (a backup, an old device) must not end the owner's login.
if wrong then return {'stale'} end
if f[3] == ARGV[2] and grace > 0 and now - tonumber(t[3]) <= grace then return {'grace', f[1], t[1], jkt, f[6] or '{}'} end
redis.call('HSET', fkey, 'v', int(now))
redis.call('HDEL', fkey, 'up', 'lh', 'lu')
list(ARGV[1], t[1], now, tonumber(ARGV[7]))
return {'reused', f[1], t[1]}
`;

/** KEYS: token. ARGV: prefix, now, access list ms. Resolves {user, family id} if this call revoked the family, or nil. */
const REVOKE_FAMILY = `${LIST}
local family = redis.call('HGET', KEYS[1], 'f')
if not family then return nil end
local fkey = ARGV[1] .. 'f:' .. family
local user = redis.call('HGET', fkey, 'u')
if user and redis.call('HSETNX', fkey, 'v', ARGV[2]) == 1 then
  redis.call('HDEL', fkey, 'up', 'lh', 'lu')
  list(ARGV[1], family, tonumber(ARGV[2]), tonumber(ARGV[3]))
  return {user, family}
end
return nil
`;

/** KEYS: family. ARGV: prefix, now, access list ms, family id. Resolves 1 if this call revoked it, else 0. */
const REVOKE_FAMILY_ID = `${LIST}
if redis.call('HEXISTS', KEYS[1], 'u') == 0 or redis.call('HSETNX', KEYS[1], 'v', ARGV[2]) == 0 then return 0 end
redis.call('HDEL', KEYS[1], 'up', 'lh', 'lu')
list(ARGV[1], ARGV[4], tonumber(ARGV[2]), tonumber(ARGV[3]))
return 1
`;

/** KEYS: family. ARGV: prefix. Resolves {absolute end, current token's idle end} of an unrevoked family, or nil. */
const FAMILY_ENDS = `
local f = redis.call('HMGET', KEYS[1], 'a', 'c', 'v')
if not f[1] or f[3] then return nil end
local idle = redis.call('HGET', ARGV[1] .. 't:' .. f[2], 'e')
if not idle then return nil end
return {f[1], idle}
`;

/** KEYS: user set. ARGV: prefix, now, access list ms. Resolves the ids of the live families it revoked. */
const REVOKE_USER = `${LIST}
local revoked = {}
for _, family in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local fkey = ARGV[1] .. 'f:' .. family
  if redis.call('EXISTS', fkey) == 0 then
    redis.call('SREM', KEYS[1], family)
  elseif redis.call('HSETNX', fkey, 'v', ARGV[2]) == 1 then
    redis.call('HDEL', fkey, 'up', 'lh', 'lu')
    list(ARGV[1], family, tonumber(ARGV[2]), tonumber(ARGV[3]))
    table.insert(revoked, family)
  end
end
return revoked
`;

/** KEYS: family. ARGV: holder, now, lease end. Resolves 1 if the lease is now the holder's, else 0. */
const LEASE_UPSTREAM = `
local f = redis.call('HMGET', KEYS[1], 'u', 'v', 'up', 'lh', 'lu')
if not f[1] or f[2] or not f[3] then return 0 end
if f[4] and f[4] ~= ARGV[1] and tonumber(ARGV[2]) < tonumber(f[5]) then return 0 end
redis.call('HSET', KEYS[1], 'lh', ARGV[1], 'lu', ARGV[3])
return 1
`;

/** KEYS: family. ARGV: holder, the new sealed record ('' keeps it). Resolves 1 if the holder held the lease, else 0. */
const RELEASE_UPSTREAM = `
if redis.call('HGET', KEYS[1], 'lh') ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'lh', 'lu')
if ARGV[2] ~= '' and not redis.call('HGET', KEYS[1], 'v') then redis.call('HSET', KEYS[1], 'up', ARGV[2]) end
return 1
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    brokerCreate(family: string, token: string, user: string, ...args: (string | number)[]): Result<null, Context>;
    brokerRotate(token: string, successor: string, ...args: (string | number)[]): Result<string[], Context>;
    brokerRevokeFamily(token: string, ...args: (string | number)[]): Result<[string, string] | null, Context>;
    brokerRevokeUser(userSet: string, ...args: (string | number)[]): Result<string[], Context>;
    brokerRevokeFamilyId(family: string, ...args: (string | number)[]): Result<number, Context>;
    brokerFamilyEnds(family: string, prefix: string): Result<[string, string] | null, Context>;
    brokerLeaseUpstream(family: string, ...args: (string | number)[]): Result<number, Context>;
    brokerReleaseUpstream(family: string, ...args: string[]): Result<number, Context>;
  }
}

export interface RedisStoreOptions {
  url: string;
  /** Prepended to every key; end it with a separator such as ':'. */
  prefix: string;
  /** Connection errors after startup (Redis restarting, network): reported, while ioredis reconnects. */
  onError?: (err: Error) => void;
  /**
   * Keep the access-token revocation list in this process's memory, kept
   * current by Redis pub/sub (default true), so the check of an API request
   * costs no round trip. While the subscriber connection is down, or has not
   * answered its once-a-second PING for 3 s, every check asks Redis instead.
   * `false`: every check asks Redis.
   */
  revocationCache?: boolean;
}

export interface RedisRefreshStore extends RefreshStore {
  /** The connection, for other users of the same Redis (the shared rate limiter). */
  readonly redis: Redis;
}

/** How long a command may take before the endpoint answers 503; a rotation Redis gets to later is refused. */
const COMMAND_TIMEOUT_MS = 2000;
/** Before the timeout, so that a rotation Redis runs has its answer back to a caller still waiting for it. */
const LATE_AFTER_MS = COMMAND_TIMEOUT_MS - 500;

/** Connects and resolves once Redis answers; rejects if it cannot be reached. */
export async function openRedisStore(options: RedisStoreOptions): Promise<RedisRefreshStore> {
  const { prefix } = options;
  // A request fails after a few reconnection attempts instead of queueing while Redis is away,
  // and after 2 s when Redis hangs with the connection open: the endpoints then answer 503, never wedge.
  const redis = new Redis(options.url, { maxRetriesPerRequest: 2, commandTimeout: COMMAND_TIMEOUT_MS, lazyConnect: true });
  redis.on('error', (err: Error) => options.onError?.(err));
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw new Error(`Redis at ${options.url} cannot be reached: ${(err as Error).message}`, { cause: err });
  }
  redis.defineCommand('brokerCreate', { numberOfKeys: 3, lua: CREATE });
  redis.defineCommand('brokerRotate', { numberOfKeys: 2, lua: ROTATE });
  // Redis's clock minus ours, measured at each (re)connection: a rotation's deadline is set on Redis's clock.
  let redisAhead = 0;
  const measureClock = async () => {
    const [seconds, micros] = await redis.time();
    redisAhead = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - Date.now();
  };
  await measureClock();
  redis.on('ready', () => void measureClock().catch((err: Error) => options.onError?.(err)));
  redis.defineCommand('brokerRevokeFamily', { numberOfKeys: 1, lua: REVOKE_FAMILY });
  redis.defineCommand('brokerRevokeUser', { numberOfKeys: 1, lua: REVOKE_USER });
  redis.defineCommand('brokerRevokeFamilyId', { numberOfKeys: 1, lua: REVOKE_FAMILY_ID });
  let cache: RevocationCache | null = null;
  if (options.revocationCache ?? true) {
    cache = new RevocationCache(redis, prefix, options.onError);
    try {
      await cache.start();
    } catch (err) {
      cache.stop();
      redis.disconnect();
      throw new Error(`Redis at ${options.url} cannot be reached: ${(err as Error).message}`, { cause: err });
    }
  }
  /** What this connection revoked is in its own cache at once, whenever the message comes. */
  const listed = (familyId: string, now: number, policy: RotationPolicy) => {
    if (policy.accessListMs > 0) cache?.add(familyId, now + policy.accessListMs);
  };
  redis.defineCommand('brokerFamilyEnds', { numberOfKeys: 1, lua: FAMILY_ENDS });
  redis.defineCommand('brokerLeaseUpstream', { numberOfKeys: 1, lua: LEASE_UPSTREAM });
  redis.defineCommand('brokerReleaseUpstream', { numberOfKeys: 1, lua: RELEASE_UPSTREAM });

  const tokenKey = (hash: string) => `${prefix}t:${hash}`;
  const userKey = (userId: string) => `${prefix}u:${userId}`;

  return {
    redis,
    async createFamily(f: NewFamily, policy: RotationPolicy) {
      const { idleMs, absoluteMs } = f.lifetimes ?? policy;
      await redis.brokerCreate(`${prefix}f:${f.familyId}`, tokenKey(f.tokenHash), userKey(f.userId),
        f.familyId, f.userId, f.tokenHash, f.now, idleMs, absoluteMs, f.jkt ?? '', JSON.stringify(f.claims ?? {}), f.upstream ?? '');
    },
    async rotate(hash, successor, now, policy, jkt = null): Promise<RotationResult> {
      const [status, userId, familyId, bound, claims] = await redis.brokerRotate(tokenKey(hash), tokenKey(successor),
        prefix, successor, now, policy.idleMs, policy.graceMs, jkt ?? '', policy.accessListMs, Date.now() + redisAhead + LATE_AFTER_MS);
      if (status === 'late') throw new Error('Redis ran the rotation after its caller had given up; it was refused');
      if (status === 'rotated' || status === 'grace') {
        return { status, userId: userId!, familyId: familyId!, jkt: bound || null, claims: JSON.parse(claims ?? '{}') as Record<string, unknown> };
      }
      if (status === 'reused') listed(familyId!, now, policy);
      if (status === 'reused' || status === 'wrong_key') return { status, userId: userId!, familyId: familyId! };
      if (status === 'unknown' || status === 'expired' || status === 'revoked' || status === 'stale') return { status };
      throw new Error(`unexpected rotation status ${String(status)}`);
    },
    async revokeFamilyOf(hash, now, policy) {
      const revoked = await redis.brokerRevokeFamily(tokenKey(hash), prefix, now, policy.accessListMs);
      if (!revoked) return null;
      listed(revoked[1], now, policy);
      return revoked[0];
    },
    async revokeFamily(familyId, now, policy) {
      const revoked = (await redis.brokerRevokeFamilyId(`${prefix}f:${familyId}`, prefix, now, policy.accessListMs, familyId)) === 1;
      if (revoked) listed(familyId, now, policy);
      return revoked;
    },
    async accessRevoked(familyId, now) {
      const cached = cache?.lookup(familyId, now);
      if (cached !== undefined) return cached;
      const until = await redis.zscore(`${prefix}xs`, familyId);
      return until !== null && now < Number(until);
    },
    async liveUntil(familyId, now) {
      const ends = await redis.brokerFamilyEnds(`${prefix}f:${familyId}`, prefix);
      if (!ends) return null;
      const [absolute, idle] = ends.map(Number) as [number, number];
      return now < absolute && now < idle ? absolute : null;
    },
    async revokeUser(userId, now, policy) {
      const revoked = await redis.brokerRevokeUser(userKey(userId), prefix, now, policy.accessListMs);
      for (const familyId of revoked) listed(familyId, now, policy);
      return revoked.length;
    },
    async familyOf(hash) {
      return redis.hget(tokenKey(hash), 'f');
    },
    async upstream(familyId) {
      const [revoked, sealed] = await redis.hmget(`${prefix}f:${familyId}`, 'v', 'up');
      return revoked === null ? (sealed ?? null) : null;
    },
    async leaseUpstream(familyId, holder, now, ms) {
      return (await redis.brokerLeaseUpstream(`${prefix}f:${familyId}`, holder, now, String(now + ms))) === 1;
    },
    async releaseUpstream(familyId, holder, sealed) {
      return (await redis.brokerReleaseUpstream(`${prefix}f:${familyId}`, holder, sealed ?? '')) === 1;
    },
    async sweep() {
      return 0; // keys expire by themselves, see the top of this file
    },
    async close() {
      cache?.stop();
      await redis.quit();
    },
  };
}

/** Seconds between the subscriber's PINGs, and how long without an answer before the cache is not trusted. */
const PING_MS = 1000;
const STALE_MS = 3000;

/**
 * The revocation list of one Redis store in this process's memory. It answers
 * only while it is known to be complete: subscribed to the channel, loaded
 * from the index after subscribing (so nothing published in between is
 * missed), and its subscriber connection answering PINGs (Redis delivers in
 * order on a connection, so a PONG means every earlier message has arrived).
 * Otherwise `lookup` answers undefined and the store asks Redis.
 */
class RevocationCache {
  private readonly revoked = new Map<string, number>();
  private readonly subscriber: Redis;
  private readonly channel: string;
  private synced = false;
  private generation = 0;
  private lastPong = 0;
  private latestNow = 0;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly onError?: (err: Error) => void,
  ) {
    this.channel = `${prefix}revoked`;
    // No autoResubscribe: its SUBSCRIBE has no catch, so a close during it was an unhandled rejection; resync() subscribes on 'ready'.
    this.subscriber = redis.duplicate({ lazyConnect: true, maxRetriesPerRequest: 2, commandTimeout: COMMAND_TIMEOUT_MS, autoResubscribe: false });
    this.subscriber.on('error', (err: Error) => onError?.(err));
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      const space = message.lastIndexOf(' ');
      this.add(message.slice(0, space), Number(message.slice(space + 1)));
    });
    for (const event of ['close', 'reconnecting', 'end']) {
      this.subscriber.on(event, () => {
        this.generation++; // a resync under way when the connection dropped does not count
        this.synced = false;
      });
    }
    // After a reconnection: subscribe again and reload, since messages sent meanwhile are lost.
    this.subscriber.on('ready', () => {
      if (this.timer) void this.resync().catch((err: Error) => onError?.(err));
    });
  }

  async start(): Promise<void> {
    await this.subscriber.connect();
    await this.resync();
    this.timer = setInterval(() => this.tick(), PING_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.synced = false;
    this.subscriber.disconnect();
  }

  add(familyId: string, until: number): void {
    if (familyId && Number.isFinite(until)) this.revoked.set(familyId, Math.max(until, this.revoked.get(familyId) ?? 0));
  }

  /** true or false when the cache can say; undefined when the store must ask Redis. */
  lookup(familyId: string, now: number): boolean | undefined {
    if (now > this.latestNow) this.latestNow = now;
    if (!this.synced || Date.now() - this.lastPong > STALE_MS) return undefined;
    const until = this.revoked.get(familyId);
    return until !== undefined && now < until;
  }

  private async resync(): Promise<void> {
    const generation = ++this.generation;
    this.synced = false;
    await this.subscriber.subscribe(this.channel);
    const entries = await this.redis.zrange(`${this.prefix}xs`, 0, -1, 'WITHSCORES');
    for (let i = 0; i + 1 < entries.length; i += 2) this.add(entries[i]!, Number(entries[i + 1]));
    if (generation !== this.generation) return;
    this.lastPong = Date.now();
    this.synced = true;
  }

  private tick(): void {
    for (const [id, until] of this.revoked) if (until <= this.latestNow) this.revoked.delete(id);
    this.subscriber.ping().then(
      () => (this.lastPong = Date.now()),
      (err: Error) => this.onError?.(err),
    );
  }
}

/** SET NX PX: one round trip, atomic across instances; Redis expires the entries itself. */
export function redisJtiStore(redis: Redis, prefix: string): JtiStore {
  return {
    async claim(key, expiresAt, now) {
      const ttl = Math.max(1, expiresAt - now);
      return (await redis.set(`${prefix}jti:${key}`, '1', 'PX', ttl, 'NX')) === 'OK';
    },
    async sweep() {
      return 0;
    },
    async close() {
      // The connection belongs to the refresh store, which closes it.
    },
  };
}
