// Opens the refresh store the settings name.
import Database from 'better-sqlite3';
import { redisRateLimits, sqliteRateLimits, type JtiStore, type RateLimitBacking, type RefreshStore } from '../server/entries/index';
import type { Settings } from './settings';
import { openRedisStore, redisJtiStore } from '../server/entries/redis';
import { openSqliteJtiStore, openSqliteStore } from '../server/entries/sqlite';

export interface OpenedStore {
  store: RefreshStore;
  /** The replay cache of DPoP proofs, in the same backing. */
  jti: JtiStore;
  /** Where the login and refresh limits count: the same backing, so instances on one Redis share them. */
  rateLimits: RateLimitBacking;
}

export async function openStore(settings: Settings, onError?: (err: Error) => void): Promise<OpenedStore> {
  if (settings.store === 'redis') {
    const store = await openRedisStore({ url: settings.redisUrl, prefix: settings.redisPrefix, onError });
    return { store, jti: redisJtiStore(store.redis, settings.redisPrefix), rateLimits: redisRateLimits(store.redis, settings.redisPrefix) };
  }
  // The store first: it makes the database's directory, which a fresh checkout does not have.
  const store = openSqliteStore(settings.databasePath);
  // A connection of its own for the counts (WAL lets it share the file); ':memory:' is then per process.
  const counts = new Database(settings.databasePath);
  return { store, jti: openSqliteJtiStore(settings.databasePath), rateLimits: sqliteRateLimits(counts) };
}
