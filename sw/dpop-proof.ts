// The pure parts of a DPoP proof (RFC 9449): the URL it names, the hash of
// the access token, the claims, and the signature. No worker globals: unit-
// tested in Node, whose WebCrypto is the browser's API.

import { base64url, SignJWT, type JWK } from 'jose';

/** What signs proofs: the private key stays non-extractable; the public JWK is exported once per key. */
export interface DpopKey {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

/** The htu claim: the request URL without query and fragment (RFC 9449 section 4.2). */
export function htuOf(url: string): string {
  const u = new URL(url);
  u.search = '';
  u.hash = '';
  return u.href;
}

/** The ath claim: base64url(SHA-256(access token)). */
export async function accessTokenHash(token: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token));
  return base64url.encode(new Uint8Array(digest));
}

export interface ProofRequest {
  method: string;
  url: string;
  /** On API requests; absent on token requests, which carry no access token. */
  ath?: string;
  nonce?: string | null;
}

export function proofClaims(req: ProofRequest): Record<string, string> {
  return {
    htm: req.method.toUpperCase(),
    htu: htuOf(req.url),
    ...(req.ath !== undefined && { ath: req.ath }),
    ...(req.nonce && { nonce: req.nonce }),
  };
}

/** Signs a proof; iat is whole seconds of the local clock, which the server checks (or replaces with its nonce). */
export function signProof(key: DpopKey, req: ProofRequest, now = Date.now()): Promise<string> {
  return new SignJWT(proofClaims(req))
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.publicJwk })
    .setIssuedAt(Math.floor(now / 1000))
    .setJti(crypto.randomUUID())
    .sign(key.privateKey);
}

/**
 * ath per token, computed once: a token serves many requests, so the hot path
 * pays only the signature. Holds the last few tokens, because requests with
 * the previous token can still be in flight after a refresh.
 */
export class AthCache {
  readonly #entries = new Map<string, Promise<string>>();

  readonly #size: number;

  constructor(size = 4) {
    this.#size = size;
  }

  get(token: string): Promise<string> {
    let ath = this.#entries.get(token);
    if (!ath) {
      ath = accessTokenHash(token);
      this.#entries.set(token, ath);
      for (const old of this.#entries.keys()) {
        if (this.#entries.size <= this.#size) break;
        this.#entries.delete(old);
      }
    }
    return ath;
  }
}
