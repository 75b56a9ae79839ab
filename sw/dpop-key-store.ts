// The DPoP key pair: made at login, kept in IndexedDB (in both persistence
// modes: the refresh family is bound to it, so it must outlive a stopped
// worker) and deleted at logout. A CryptoKey survives structured cloning into
// IndexedDB and stays non-extractable there: page script of the origin can
// read the object and sign with it while it runs, but can never export it.

import { exportJWK } from 'jose';
import type { DpopKey } from './dpop-proof';

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
export async function generateDpopKey(): Promise<DpopKey> {
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  return withJwk(pair);
}

async function withJwk(pair: StoredPair): Promise<DpopKey> {
  const { kty, crv, x, y } = await exportJWK(pair.publicKey);
  // Only the public members: nothing else belongs in a proof header.
  return { privateKey: pair.privateKey, publicKey: pair.publicKey, publicJwk: { kty, crv, x, y } };
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

  /** The stored key, or null when there is none (or it is not a key pair). */
  async load(): Promise<DpopKey | null> {
    const stored = await this.#kv.get(DPOP_KEY);
    return isStoredPair(stored) ? withJwk(stored) : null;
  }

  save(key: DpopKey): Promise<void> {
    const pair: StoredPair = { privateKey: key.privateKey, publicKey: key.publicKey };
    return this.#kv.set(DPOP_KEY, pair);
  }

  delete(): Promise<void> {
    return this.#kv.del(DPOP_KEY);
  }
}
