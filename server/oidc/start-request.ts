// What a sign-in's start route is asked: where to land, and by which key. Two ways
// in. A navigation (`GET ?returnTo=`) carries no proof: its family is unbound,
// which a broker with `dpop: 'required'` refuses here rather than at the first
// refresh. The worker's POST (`{ returnTo }`, with the worker header and a DPoP
// proof) names its key: the callback binds the family to it, so only that key
// refreshes it. The POST gets the token endpoints' CSRF check, so a cross-site
// page cannot start a sign-in in this browser bound to a key of its choosing.
import type { TokenBrokerServer } from '../core/token-broker';
import { csrfViolation } from '../core/csrf';
import { errorResponse, rawPath, type BrokerHttpRequest, type BrokerHttpResponse } from '../core/http';
import { SignInError } from './errors';

export type StartRequest =
  | { kind: 'start'; returnTo: string; jkt: string | null }
  /** The navigation's refusal, for the redirect back. */
  | { kind: 'refused'; error: SignInError }
  /** The worker's POST refused before anything started: answered as a token endpoint answers (the nonce challenge included). */
  | { kind: 'answer'; response: BrokerHttpResponse };

export async function readStartRequest(broker: Pick<TokenBrokerServer, 'proofKey'>, request: BrokerHttpRequest, appOrigin: string, startPath: string): Promise<StartRequest> {
  if (request.method !== 'POST') {
    const returnTo = new URL(request.url, appOrigin).searchParams.get('returnTo') ?? '/';
    const key = await broker.proofKey(request);
    if (!key.ok) return { kind: 'refused', error: new SignInError('dpop_required', 'DPoP is required: start the sign-in with broker.signIn() under a worker with DPoP') };
    return { kind: 'start', returnTo, jkt: key.jkt };
  }
  // Routers decode paths: only the exact spelling is the route, as for the token endpoints.
  if (rawPath(request) !== startPath) return { kind: 'answer', response: errorResponse(404, 'not_found', `No route for POST ${rawPath(request)}`) };
  const violation = csrfViolation(request);
  if (violation) return { kind: 'answer', response: errorResponse(403, 'csrf', `Refused: ${violation}`) };
  const body = request.body as { returnTo?: unknown } | null | undefined;
  const returnTo = typeof body === 'object' && body !== null ? (body.returnTo ?? '/') : '/';
  if (typeof returnTo !== 'string') return { kind: 'refused', error: new SignInError('bad_return_to', 'returnTo must be a path of this origin') };
  const key = await broker.proofKey(request);
  if (!key.ok) return { kind: 'answer', response: key.response };
  return { kind: 'start', returnTo, jkt: key.jkt };
}
