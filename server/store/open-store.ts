// Opens the refresh store the settings name.
import type { Redis } from 'ioredis';
import type { Settings } from '../settings';
import { openSqliteJtiStore, redisJtiStore, type JtiStore } from './jti';
import { openRedisStore } from './redis';
import { openSqliteStore } from './sqlite';
import type { RefreshStore } from './types';

export interface OpenedStore {
  store: RefreshStore;
  /** The replay cache of DPoP proofs, in the same backing. */
  jti: JtiStore;
  /** Set when the store is Redis: the rate limiter counts there too, so limits hold across instances. */
  redis?: Redis;
}

export async function openStore(settings: Settings, onError?: (err: Error) => void): Promise<OpenedStore> {
  if (settings.store === 'redis') {
    const store = await openRedisStore({ url: settings.redisUrl, prefix: settings.redisPrefix, onError });
    return { store, redis: store.redis, jti: redisJtiStore(store.redis, settings.redisPrefix) };
  }
  return { store: openSqliteStore(settings.databasePath), jti: openSqliteJtiStore(settings.databasePath) };
}
