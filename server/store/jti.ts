// The replay cache of DPoP proofs: each proof's jti may be used once while
// the proof could still pass the iat window. Kept in the same backing as the
// refresh families, so that several instances on one Redis share it: the
// SQLite and Redis implementations live with their stores (store/sqlite.ts,
// store/redis.ts), so importing this module needs neither driver.

export interface JtiStore {
  /** Records `key` until `expiresAt`; resolves false when it was already recorded and has not expired. */
  claim(key: string, expiresAt: number, now: number): Promise<boolean>;
  /** Deletes expired entries; resolves how many. */
  sweep(now: number): Promise<number>;
  close(): Promise<void>;
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
