// Passkeys in Redis (ioredis), on the refresh store's connection, for several
// instances. A challenge is taken with GETDEL (Redis 6.2+), atomic across
// instances; it expires by itself besides (PX), so abandoned ones do not pile up. A counter is
// set by a script that compares the stored one first: atomic, where a read and a write from two
// instances would both pass the check.
//   <prefix>pk:c:<credential id>  JSON of the passkey
//   <prefix>pk:u:<user id>        set of credential ids
//   <prefix>pk:ch:<key>           "<expires at ms> <challenge>"
import type { Redis } from 'ioredis';
import type { PasskeyStore, StoredPasskey } from './store';

/** How long Redis keeps a challenge at most, whatever the clocks say: longer than any ceremony. */
const KEEP_MS = 15 * 60_000;

/** KEYS[1] the passkey; ARGV[1] the counter expected, ARGV[2] the passkey's JSON with the new one. */
const SET_COUNTER = `local raw = redis.call('GET', KEYS[1])
if not raw or cjson.decode(raw).counter ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'XX')
return 1`;

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
    async setCounter(id, expected, counter) {
      const c = await read(id);
      if (!c) return false;
      return (await redis.eval(SET_COUNTER, 1, cred(id), String(expected), JSON.stringify({ ...c, counter }))) === 1;
    },
    async removeCredential(id, userId) {
      const c = await read(id);
      if (c?.userId !== userId) return false;
      const [[, removed] = []] = (await redis.multi().del(cred(id)).srem(user(userId), id).exec()) ?? [];
      return removed === 1;
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
