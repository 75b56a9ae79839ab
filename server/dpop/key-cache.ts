// The public keys of DPoP proofs, imported once per key: a client signs every
// request with the same key, and importing its JWK (with the thumbprint) costs
// more than verifying the signature. jose's EmbeddedJWK does the import and
// its checks; this only remembers the result for the same header.
import { calculateJwkThumbprint, EmbeddedJWK, type FlattenedJWSInput, type JWK, type JWSHeaderParameters } from 'jose';

export interface ProofKey {
  key: Awaited<ReturnType<typeof EmbeddedJWK>>;
  /** The JWK SHA-256 thumbprint (RFC 7638) the token is bound to. */
  jkt: string;
}

export class ProofKeyCache {
  readonly #entries = new Map<string, Promise<ProofKey>>();
  readonly #max: number;

  constructor(max = 1024) {
    this.#max = max;
  }

  /** The key of the proof's `jwk` header, as jose's EmbeddedJWK imports it. */
  resolve(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<ProofKey> {
    // Everything EmbeddedJWK reads: the algorithm and the JWK as sent.
    const id = `${String(header.alg)} ${JSON.stringify(header.jwk)}`;
    let entry = this.#entries.get(id);
    if (entry) {
      // Most recently used last, so the least recently used goes first when the cache is full.
      this.#entries.delete(id);
      this.#entries.set(id, entry);
      return entry;
    }
    entry = this.#import(header, token);
    this.#entries.set(id, entry);
    // A header that does not import is not remembered.
    entry.catch(() => this.#entries.delete(id));
    if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value!);
    return entry;
  }

  async #import(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<ProofKey> {
    const key = await EmbeddedJWK(header, token);
    return { key, jkt: await calculateJwkThumbprint(header.jwk as JWK, 'sha256') };
  }
}
