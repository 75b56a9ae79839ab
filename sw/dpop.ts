// The worker's DPoP signer: the current key (loaded once per worker start),
// the server's latest nonce and the ath cache, behind one call that gives the
// headers of a request. Glue between the pure dpop-* modules and IndexedDB.

import { del, get, set, type UseStore } from 'idb-keyval';
import { DpopKeyStore, generateDpopKey } from './dpop-key-store';
import { NonceBook } from './dpop-nonce';
import { AthCache, signProof, type DpopKey } from './dpop-proof';

/** Makes the DPoP signer of a worker; passed to `installTokenBroker` to turn DPoP support on. */
export type DpopSupport = (db: UseStore) => DpopSigner;

/**
 * DPoP support for `installTokenBroker(self, config, { dpop: dpopSupport })`.
 * It lives apart from the worker module because signing brings in most of
 * jose: a bearer-only worker does not pay for it (about 5 KB gzip).
 */
export const dpopSupport: DpopSupport = (db) => new DpopSigner(db);

export class DpopSigner {
  readonly nonces = new NonceBook();
  private readonly ath = new AthCache();
  private readonly keys: DpopKeyStore;
  private key: Promise<DpopKey | null> | null = null;

  constructor(db: UseStore) {
    this.keys = new DpopKeyStore({ get: (k) => get(k, db), set: (k, v) => set(k, v, db), del: (k) => del(k, db) });
  }

  /** The key in use; read from IndexedDB once per worker start. */
  current(): Promise<DpopKey | null> {
    this.key ??= this.keys.load().catch((err: unknown) => {
      console.warn('[token-broker] could not read the DPoP key', err);
      return null;
    });
    return this.key;
  }

  /** Re-reads the stored key: another worker version may have signed in with a new one. */
  reload(): Promise<DpopKey | null> {
    this.key = null;
    return this.current();
  }

  /** The key for a refresh: the stored one, or a new one when there is none (a login made before DPoP was on). */
  async ensure(): Promise<DpopKey> {
    const key = await this.current();
    if (key) return key;
    const fresh = await generateDpopKey();
    await this.adopt(fresh);
    return fresh;
  }

  /** A new key for a login; it replaces the stored one only once the login succeeded (`adopt`). */
  create(): Promise<DpopKey> {
    return generateDpopKey();
  }

  async adopt(key: DpopKey): Promise<void> {
    this.key = Promise.resolve(key);
    await this.keys.save(key);
  }

  /** Logout or a refused session: the key is bound to a login that is over. */
  async drop(): Promise<void> {
    this.key = Promise.resolve(null);
    try {
      await this.keys.delete();
    } catch (err) {
      console.warn('[token-broker] could not delete the DPoP key', err);
    }
  }

  /** The DPoP header for a request; with `accessToken`, an API request that names it in ath. */
  async proof(key: DpopKey, method: string, url: string, accessToken?: string): Promise<string> {
    const ath = accessToken === undefined ? undefined : await this.ath.get(accessToken);
    return signProof(key, { method, url, ath, nonce: this.nonces.get(url) });
  }
}
