// A DPoP client in Node for tests: what an attacker outside the browser, or a
// backend test, can do with a key of its own.
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { accessTokenHash } from '../server/dpop/verifier';

export interface TestDpopKey {
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function newDpopKey(alg: 'ES256' | 'ES384' = 'ES256'): Promise<TestDpopKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  return { privateKey, publicJwk: await exportJWK(publicKey) };
}

export interface ProofOptions {
  htm: string;
  htu: string;
  accessToken?: string;
  nonce?: string;
  /** Seconds since the epoch; now when absent. */
  iat?: number;
  jti?: string;
  typ?: string;
  alg?: string;
  /** Put this in the header instead of the public key (a private JWK, another key). */
  jwk?: JWK;
}

export function signProof(key: TestDpopKey, o: ProofOptions): Promise<string> {
  return new SignJWT({
    htm: o.htm,
    htu: o.htu,
    ...(o.accessToken !== undefined && { ath: accessTokenHash(o.accessToken) }),
    ...(o.nonce !== undefined && { nonce: o.nonce }),
  })
    .setProtectedHeader({ alg: o.alg ?? 'ES256', typ: o.typ ?? 'dpop+jwt', jwk: o.jwk ?? key.publicJwk })
    .setIssuedAt(o.iat ?? Math.floor(Date.now() / 1000))
    .setJti(o.jti ?? randomUUID())
    .sign(key.privateKey);
}
