// Request limits of the token endpoints, on rate-limiter-flexible: in memory
// for one process, in Redis or SQLite to share counts between instances or
// keep them across restarts. A consume() is one atomic increment in each
// backing, which is what lets a login reserve its attempt before the password
// is checked.
import { BackingUnavailable } from './backing';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, RateLimiterSQLite, type RateLimiterAbstract } from 'rate-limiter-flexible';

export interface LimitSpec {
  /** Distinguishes the limits sharing one backing (`login-ip`, `login-account`, `refresh-ip`). */
  name: string;
  points: number;
  durationSeconds: number;
}

/** Makes a limiter for each limit of the core. */
export type RateLimitBacking = (spec: LimitSpec) => RateLimiterAbstract;

export const memoryRateLimits = (): RateLimitBacking => (spec) =>
  new RateLimiterMemory({ keyPrefix: spec.name, points: spec.points, duration: spec.durationSeconds });

/** `client` is an ioredis connection; several instances on one Redis share every count. */
export const redisRateLimits =
  (client: unknown, prefix = 'token-broker:'): RateLimitBacking =>
  (spec) =>
    new RateLimiterRedis({ storeClient: client, keyPrefix: `${prefix}rate-limit:${spec.name}`, points: spec.points, duration: spec.durationSeconds });

/** `db` is a better-sqlite3 Database. */
export const sqliteRateLimits =
  (db: unknown): RateLimitBacking =>
  (spec) =>
    new RateLimiterSQLite({
      storeClient: db,
      storeType: 'better-sqlite3',
      tableName: `rate_limit_${spec.name.replace(/[^a-z0-9]/gi, '_')}`,
      points: spec.points,
      duration: spec.durationSeconds,
    });

/** Seconds until the key may try again, or null when this attempt is within the limit. */
export async function consume(limiter: RateLimiterAbstract, key: string): Promise<number | null> {
  try {
    await limiter.consume(key);
    return null;
  } catch (err) {
    // A RateLimiterRes is the "over the limit" answer; anything else is the backing failing.
    if (err instanceof RateLimiterRes) return Math.max(1, Math.ceil(err.msBeforeNext / 1000));
    throw new BackingUnavailable('rate limit backing', err);
  }
}
