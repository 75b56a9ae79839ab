// The replay cache of DPoP proofs: each proof's jti may be used once while
// the proof could still pass the iat window. Kept in the same backing as the
// refresh families, so that several instances on one Redis share it.
import Database from 'better-sqlite3';
import type { Redis } from 'ioredis';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export interface JtiStore {
  /** Records `key` until `expiresAt`; resolves false when it was already recorded and has not expired. */
  claim(key: string, expiresAt: number, now: number): Promise<boolean>;
  /** Deletes expired entries; resolves how many. */
  sweep(now: number): Promise<number>;
  close(): Promise<void>;
}

/** One connection of its own to the same file (WAL allows it); ':memory:' is then a separate, per-process cache. */
export function openSqliteJtiStore(path: string): JtiStore {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  if (path !== ':memory:') db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE IF NOT EXISTS dpop_jti (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)');
  // An expired entry is taken over in place, so a sweep is housekeeping, not a condition of correctness.
  const claim = db.prepare(
    'INSERT INTO dpop_jti (key, expires_at) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET expires_at = excluded.expires_at WHERE dpop_jti.expires_at <= ?',
  );
  const sweep = db.prepare('DELETE FROM dpop_jti WHERE expires_at <= ?');
  return {
    async claim(key, expiresAt, now) {
      return claim.run(key, expiresAt, now).changes === 1;
    },
    async sweep(now) {
      return sweep.run(now).changes;
    },
    async close() {
      db.close();
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

/** For servers given a store by a test: per process, which is all a single instance needs. */
export function memoryJtiStore(): JtiStore {
  const seen = new Map<string, number>();
  return {
    async claim(key, expiresAt, now) {
      const until = seen.get(key);
      if (until !== undefined && until > now) return false;
      seen.set(key, expiresAt);
      return true;
    },
    async sweep(now) {
      let n = 0;
      for (const [key, until] of seen) if (until <= now && seen.delete(key)) n++;
      return n;
    },
    async close() {},
  };
}
