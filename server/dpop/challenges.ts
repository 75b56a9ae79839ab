// RFC 9449's answers: the WWW-Authenticate challenges of the API, the 400s of
// the token endpoints, and the DPoP-Nonce header that rides along.
import type { ProofError } from './verifier';
import { errorResponse, type BrokerHttpResponse } from '../core/http';

export type DpopMode = 'off' | 'optional' | 'required';

function dpopChallenge(error?: ProofError | 'invalid_token'): string {
  return error ? `DPoP error="${error}", algs="ES256"` : 'DPoP algs="ES256"';
}

/** API routes, a request without a usable token: every scheme the server takes, the error on the one it names first. */
export function missingTokenChallenge(mode: DpopMode): string {
  if (mode === 'off') return 'Bearer error="invalid_token"';
  if (mode === 'required') return dpopChallenge('invalid_token');
  return `Bearer error="invalid_token", ${dpopChallenge()}`;
}

/** API routes: 401 with a DPoP challenge naming the error; `nonce` goes with a use_dpop_nonce error. */
export function dpopUnauthorized(error: ProofError | 'invalid_token', message: string, nonce: () => string): BrokerHttpResponse {
  const headers: Record<string, string> = { 'www-authenticate': dpopChallenge(error) };
  if (error === 'use_dpop_nonce') headers['dpop-nonce'] = nonce();
  return errorResponse(401, error, message, headers);
}

/** Token endpoints: RFC 9449's 400 for a refused proof. */
export function dpopBadRequest(error: ProofError, message: string, nonce: () => string): BrokerHttpResponse {
  return errorResponse(400, error, message, error === 'use_dpop_nonce' ? { 'dpop-nonce': nonce() } : {});
}
