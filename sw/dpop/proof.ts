// A DPoP proof (RFC 9449) for one request, signed by panva's `dpop`: the
// header with the public JWK, htm, htu, a fresh jti, iat by this device's
// clock (the server learns how far off that clock is at sign-in and judges
// later proofs by it), the server's nonce, and ath on API requests.
// No worker globals: unit-tested in Node, whose WebCrypto is the browser's API.

import { generateProof } from 'dpop';

/** The pair that signs proofs: the private half is non-extractable, the public half goes in every proof. */
export type DpopKey = CryptoKeyPair;

/** The htu claim: the request URL without query and fragment (RFC 9449 section 4.2). */
export function htuOf(url: string): string {
  const u = new URL(url);
  u.search = '';
  u.hash = '';
  return u.href;
}

export interface ProofRequest {
  method: string;
  url: string;
  /** On API requests; absent on token requests, which carry no access token. */
  accessToken?: string;
  nonce?: string | null;
}

export function signProof(key: DpopKey, req: ProofRequest): Promise<string> {
  return generateProof(key, htuOf(req.url), req.method.toUpperCase(), req.nonce ?? undefined, req.accessToken);
}
