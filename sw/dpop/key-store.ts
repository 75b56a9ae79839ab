// The DPoP key pair: made at login, kept in IndexedDB (in both persistence
// modes: the refresh family is bound to it, so it must outlive a stopped
// worker) and deleted at logout. A CryptoKey survives structured cloning into
// IndexedDB and stays non-extractable there: page script of the origin can
// read the object and sign with it while it runs, but can never export it.

import type { DpopKey } from './proof';

/** The slice of idb-keyval the store needs; a Map does it in tests. */
export interface KeyValue {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
  del(key: string): Promise<void>;
}

export const DPOP_KEY = 'dpop-key';

interface StoredPair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

/** A new ECDSA P-256 pair whose private half can sign but never be exported. */
export function generateDpopKey(): Promise<DpopKey> {
  // The public half of a generated pair is always extractable: the proof header carries it.
  return crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
}

function isStoredPair(v: unknown): v is StoredPair {
  if (typeof v !== 'object' || v === null) return false;
  const { privateKey, publicKey } = v as Record<string, unknown>;
  return (
    privateKey instanceof CryptoKey && publicKey instanceof CryptoKey && privateKey.type === 'private' && publicKey.type === 'public'
  );
}

export class DpopKeyStore {
  readonly #kv: KeyValue;

  constructor(kv: KeyValue) {
    this.#kv = kv;
  }

  /**
   * The stored key, or null when there is none (or it is not a key pair);
   * false when its private half is extractable. This worker never makes such a
   * key: page script put it there (IndexedDB is shared with the page) and can
   * export it, so it must never sign.
   */
  async load(): Promise<DpopKey | null | false> {
    const stored = await this.#kv.get(DPOP_KEY);
    if (!isStoredPair(stored)) return null;
    return !stored.privateKey.extractable && { privateKey: stored.privateKey, publicKey: stored.publicKey };
  }

  save(key: DpopKey): Promise<void> {
    const pair: StoredPair = { privateKey: key.privateKey, publicKey: key.publicKey };
    return this.#kv.set(DPOP_KEY, pair);
  }

  delete(): Promise<void> {
    return this.#kv.del(DPOP_KEY);
  }
}
