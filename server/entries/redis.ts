// token-broker/server/redis: refresh families and the DPoP replay cache in Redis (ioredis), for several instances.
export { openRedisStore, redisJtiStore, type RedisRefreshStore, type RedisStoreOptions } from '../store/redis';
export { redisPasskeyStore } from '../passkeys/redis-store';
