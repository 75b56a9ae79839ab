// Redis refresh-token store (ioredis), for several server instances. Every
// operation that reads and then writes is one Lua script, which Redis runs
// without interleaving, so two instances rotating the same token at once
// cannot both see it as current.
//
// Keys, under a configurable prefix:
//   <prefix>t:<token hash>  hash {f: family id, e: idle expiry, r: rotated at}
//   <prefix>f:<family id>   hash {u: user, a: absolute expiry, c: current hash, v: revoked at, k: DPoP key thumbprint, i: idle ms}
//   <prefix>u:<user id>     set of family ids
// Every key of a family expires (PEXPIRE) when the family's absolute lifetime
// ends: rotated tokens must live as long as their family, or a replay of an
// old one would read as unknown instead of revoking the family. So Redis
// deletes families by itself and sweep() has nothing to do; a family that died
// of idleness keeps its keys until its absolute end. Expiry is set relative to
// the caller's clock (PEXPIRE, not PEXPIREAT), so instances' clocks need not
// agree with Redis's.
//
// The scripts touch keys they find inside other keys, so they need one Redis
// (or a primary with replicas), not Redis Cluster.
import { Redis, type Result } from 'ioredis';
import type { JtiStore } from './jti';
import type { NewFamily, RefreshStore, RotationPolicy, RotationResult } from './types';

// Lua 5.1 prints large numbers in exponent form; timestamps must stay integers.
const INT = `local function int(n) return string.format('%d', n) end`;

/** KEYS: family, token, user set. ARGV: family id, user, token hash, now, idle ms, absolute ms, jkt ('' when unbound), claims JSON. */
const CREATE = `${INT}
local now, idle, absolute = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local ends = now + absolute
redis.call('HSET', KEYS[1], 'u', ARGV[2], 'a', int(ends), 'c', ARGV[3], 'cl', ARGV[8], 'i', int(idle))
if ARGV[7] ~= '' then redis.call('HSET', KEYS[1], 'k', ARGV[7]) end
redis.call('PEXPIRE', KEYS[1], int(absolute))
redis.call('HSET', KEYS[2], 'f', ARGV[1], 'e', int(math.min(now + idle, ends)))
redis.call('PEXPIRE', KEYS[2], int(absolute))
redis.call('SADD', KEYS[3], ARGV[1])
-- The user's set lives as long as the longest family in it.
if redis.call('PTTL', KEYS[3]) < absolute then redis.call('PEXPIRE', KEYS[3], int(absolute)) end
`;

/** KEYS: token, successor token. ARGV: prefix, successor hash, now, idle ms, grace ms, presented jkt ('' without proof). */
const ROTATE = `${INT}
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
  redis.call('PEXPIRE', KEYS[2], int(ends - now))
  redis.call('HSET', fkey, 'c', ARGV[2])
  return {'rotated', f[1], t[1], jkt, f[6] or '{}'}
end
-- Before the reuse check: an old token alone (a backup, an old device) must not end the owner's login.
if wrong then return {'stale'} end
if f[3] == ARGV[2] and now - tonumber(t[3]) <= grace then return {'grace', f[1], t[1], jkt, f[6] or '{}'} end
redis.call('HSET', fkey, 'v', int(now))
return {'reused', f[1], t[1]}
`;

/** KEYS: token. ARGV: prefix, now. Resolves the family's user if this call revoked it, or nil. */
const REVOKE_FAMILY = `
local family = redis.call('HGET', KEYS[1], 'f')
if not family then return nil end
local fkey = ARGV[1] .. 'f:' .. family
local user = redis.call('HGET', fkey, 'u')
if user and redis.call('HSETNX', fkey, 'v', ARGV[2]) == 1 then return user end
return nil
`;

/** KEYS: family. ARGV: prefix. Resolves {absolute end, current token's idle end} of an unrevoked family, or nil. */
const FAMILY_ENDS = `
local f = redis.call('HMGET', KEYS[1], 'a', 'c', 'v')
if not f[1] or f[3] then return nil end
local idle = redis.call('HGET', ARGV[1] .. 't:' .. f[2], 'e')
if not idle then return nil end
return {f[1], idle}
`;

/** KEYS: user set. ARGV: prefix, now. Resolves how many live families were revoked. */
const REVOKE_USER = `
local n = 0
for _, family in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local fkey = ARGV[1] .. 'f:' .. family
  if redis.call('EXISTS', fkey) == 0 then
    redis.call('SREM', KEYS[1], family)
  elseif redis.call('HSETNX', fkey, 'v', ARGV[2]) == 1 then
    n = n + 1
  end
end
return n
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    brokerCreate(family: string, token: string, user: string, ...args: (string | number)[]): Result<null, Context>;
    brokerRotate(token: string, successor: string, ...args: (string | number)[]): Result<string[], Context>;
    brokerRevokeFamily(token: string, ...args: (string | number)[]): Result<string | null, Context>;
    brokerRevokeUser(userSet: string, ...args: (string | number)[]): Result<number, Context>;
    brokerFamilyEnds(family: string, prefix: string): Result<[string, string] | null, Context>;
  }
}

export interface RedisStoreOptions {
  url: string;
  /** Prepended to every key; end it with a separator such as ':'. */
  prefix: string;
  /** Connection errors after startup (Redis restarting, network): reported, while ioredis reconnects. */
  onError?: (err: Error) => void;
}

export interface RedisRefreshStore extends RefreshStore {
  /** The connection, for other users of the same Redis (the shared rate limiter). */
  readonly redis: Redis;
}

/** Connects and resolves once Redis answers; rejects if it cannot be reached. */
export async function openRedisStore(options: RedisStoreOptions): Promise<RedisRefreshStore> {
  const { prefix } = options;
  // A request fails after a few reconnection attempts instead of queueing while Redis is away,
  // and after 2 s when Redis hangs with the connection open: the endpoints then answer 503, never wedge.
  const redis = new Redis(options.url, { maxRetriesPerRequest: 2, commandTimeout: 2000, lazyConnect: true });
  redis.on('error', (err: Error) => options.onError?.(err));
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw new Error(`Redis at ${options.url} cannot be reached: ${(err as Error).message}`, { cause: err });
  }
  redis.defineCommand('brokerCreate', { numberOfKeys: 3, lua: CREATE });
  redis.defineCommand('brokerRotate', { numberOfKeys: 2, lua: ROTATE });
  redis.defineCommand('brokerRevokeFamily', { numberOfKeys: 1, lua: REVOKE_FAMILY });
  redis.defineCommand('brokerRevokeUser', { numberOfKeys: 1, lua: REVOKE_USER });
  redis.defineCommand('brokerFamilyEnds', { numberOfKeys: 1, lua: FAMILY_ENDS });

  const tokenKey = (hash: string) => `${prefix}t:${hash}`;
  const userKey = (userId: string) => `${prefix}u:${userId}`;

  return {
    redis,
    async createFamily(f: NewFamily, policy: RotationPolicy) {
      const { idleMs, absoluteMs } = f.lifetimes ?? policy;
      await redis.brokerCreate(`${prefix}f:${f.familyId}`, tokenKey(f.tokenHash), userKey(f.userId),
        f.familyId, f.userId, f.tokenHash, f.now, idleMs, absoluteMs, f.jkt ?? '', JSON.stringify(f.claims ?? {}));
    },
    async rotate(hash, successor, now, policy, jkt = null): Promise<RotationResult> {
      const [status, userId, familyId, bound, claims] = await redis.brokerRotate(tokenKey(hash), tokenKey(successor),
        prefix, successor, now, policy.idleMs, policy.graceMs, jkt ?? '');
      if (status === 'rotated' || status === 'grace') {
        return { status, userId: userId!, familyId: familyId!, jkt: bound || null, claims: JSON.parse(claims ?? '{}') as Record<string, unknown> };
      }
      if (status === 'reused' || status === 'wrong_key') return { status, userId: userId!, familyId: familyId! };
      if (status === 'unknown' || status === 'expired' || status === 'revoked' || status === 'stale') return { status };
      throw new Error(`unexpected rotation status ${String(status)}`);
    },
    async revokeFamilyOf(hash, now) {
      return redis.brokerRevokeFamily(tokenKey(hash), prefix, now);
    },
    async liveUntil(familyId, now) {
      const ends = await redis.brokerFamilyEnds(`${prefix}f:${familyId}`, prefix);
      if (!ends) return null;
      const [absolute, idle] = ends.map(Number) as [number, number];
      return now < absolute && now < idle ? absolute : null;
    },
    async revokeUser(userId, now) {
      return redis.brokerRevokeUser(userKey(userId), prefix, now);
    },
    async sweep() {
      return 0; // keys expire by themselves, see the top of this file
    },
    async close() {
      await redis.quit();
    },
  };
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
