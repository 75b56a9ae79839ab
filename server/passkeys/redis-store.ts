// Passkeys in Redis (ioredis), on the refresh store's connection, for several
// instances. A challenge is taken with GETDEL (Redis 6.2+), atomic across
// instances; it expires by itself besides (PX), so abandoned ones do not pile up.
//   <prefix>pk:c:<credential id>  JSON of the passkey
//   <prefix>pk:u:<user id>        set of credential ids
//   <prefix>pk:ch:<key>           "<expires at ms> <challenge>"
import type { Redis } from 'ioredis';
import type { PasskeyStore, StoredPasskey } from './store';

/** How long Redis keeps a challenge at most, whatever the clocks say: longer than any ceremony. */
const KEEP_MS = 15 * 60_000;

export function redisPasskeyStore(redis: Redis, prefix: string): PasskeyStore {
  const cred = (id: string) => `${prefix}pk:c:${id}`;
  const user = (id: string) => `${prefix}pk:u:${id}`;
  const read = async (id: string): Promise<StoredPasskey | null> => {
    const raw = await redis.get(cred(id));
    return raw ? (JSON.parse(raw) as StoredPasskey) : null;
  };
  return {
    async addCredential(c) {
      if ((await redis.set(cred(c.id), JSON.stringify(c), 'NX')) !== 'OK') return false;
      await redis.sadd(user(c.userId), c.id);
      return true;
    },
    async credentialsOf(userId) {
      const ids = (await redis.smembers(user(userId))).sort();
      const all = await Promise.all(ids.map(read));
      return all.filter((c): c is StoredPasskey => c !== null).sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
    },
    credential: read,
    async setCounter(id, counter) {
      const c = await read(id);
      if (c) await redis.set(cred(id), JSON.stringify({ ...c, counter }), 'XX');
    },
    async putChallenge(key, challenge, expiresAt) {
      await redis.set(`${prefix}pk:ch:${key}`, `${expiresAt} ${challenge}`, 'PX', KEEP_MS);
    },
    async takeChallenge(key, now) {
      const raw = await redis.getdel(`${prefix}pk:ch:${key}`);
      if (!raw) return null;
      const space = raw.indexOf(' ');
      return Number(raw.slice(0, space)) > now ? raw.slice(space + 1) : null;
    },
    async close() {
      // The connection belongs to the refresh store, which closes it.
    },
  };
}
