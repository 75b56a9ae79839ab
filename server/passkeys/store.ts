// Where passkeys and their pending challenges live: a store of its own, beside the
// refresh store, so an app without passkeys changes nothing. One interface, the
// same conformance suite (`passkeyStoreConformance`) for every backend.

/** A registered passkey. `publicKey` is the COSE key, base64url; `counter` the signature counter last seen. */
export interface StoredPasskey {
  id: string;
  userId: string;
  publicKey: string;
  counter: number;
  transports: string[];
  createdAt: number;
}

/** What a challenge is for: a registration or a step-up, of one sign-in session. */
export type ChallengePurpose = 'register' | 'step-up';

export interface PasskeyStore {
  /** Adds a passkey; false (and nothing changed) when its id is registered already. */
  addCredential(credential: StoredPasskey): Promise<boolean>;
  credentialsOf(userId: string): Promise<StoredPasskey[]>;
  credential(id: string): Promise<StoredPasskey | null>;
  /**
   * Records the counter of a verified assertion, compare-and-set: only while the stored counter is still
   * `expected` (the one the assertion was verified against). False when another assertion of the same
   * passkey got there first (a cloned authenticator's replay at once) or the passkey is gone: refuse it.
   */
  setCounter(id: string, expected: number, counter: number): Promise<boolean>;
  /** Removes `userId`'s passkey `id`; false (nothing changed) when it is not one of theirs. */
  removeCredential(id: string, userId: string): Promise<boolean>;
  /** The pending challenge of `key` (a session and a purpose): a new one replaces the old. */
  putChallenge(key: string, challenge: string, expiresAt: number): Promise<void>;
  /**
   * Takes the challenge of `key` and deletes it in the same step, so it is used at most once
   * (two verifications at once: one gets it). Null when there is none or it expired at `now`.
   */
  takeChallenge(key: string, now: number): Promise<string | null>;
  close(): Promise<void>;
}

/** One process only (tests, a single instance): a restart forgets every passkey. */
export function memoryPasskeyStore(): PasskeyStore {
  const credentials = new Map<string, StoredPasskey>();
  const challenges = new Map<string, { challenge: string; expiresAt: number }>();
  return {
    async addCredential(credential) {
      if (credentials.has(credential.id)) return false;
      credentials.set(credential.id, { ...credential, transports: [...credential.transports] });
      return true;
    },
    async credentialsOf(userId) {
      return [...credentials.values()].filter((c) => c.userId === userId).map((c) => ({ ...c }));
    },
    async credential(id) {
      const c = credentials.get(id);
      return c ? { ...c } : null;
    },
    async setCounter(id, expected, counter) {
      const c = credentials.get(id);
      if (!c || c.counter !== expected) return false;
      c.counter = counter;
      return true;
    },
    async removeCredential(id, userId) {
      if (credentials.get(id)?.userId !== userId) return false;
      return credentials.delete(id);
    },
    async putChallenge(key, challenge, expiresAt) {
      challenges.set(key, { challenge, expiresAt });
    },
    async takeChallenge(key, now) {
      const pending = challenges.get(key);
      challenges.delete(key);
      // Expired ones left by abandoned ceremonies go with the next take of any key.
      for (const [k, v] of challenges) if (v.expiresAt <= now) challenges.delete(k);
      return pending && pending.expiresAt > now ? pending.challenge : null;
    },
    async close() {},
  };
}
