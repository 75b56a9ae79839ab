// The stable codes a redirect sign-in can end with. They reach the app as
// `?broker_error=<code>` on the redirect back; the client's `signInError()`
// reads them. README "Redirect sign-in" lists them; never rename one.
import * as oidc from 'openid-client';
import { BackingUnavailable } from '../core/backing';

export type SignInErrorCode =
  /** The user (or the provider's policy) refused: consent denied, sign-in cancelled. */
  | 'access_denied'
  /** The provider answered the authorization request with another error. */
  | 'provider_error'
  /** The callback did not match a sign-in this browser started: no or an expired round-trip cookie, or another `state`. */
  | 'state_mismatch'
  /** The provider refused the code (already used, expired, or not this client's). */
  | 'code_rejected'
  /** The ID token did not verify: another audience, issuer, nonce, or a bad signature. */
  | 'id_token_invalid'
  /** The provider could not be reached, or answered 5xx. */
  | 'provider_unavailable'
  /** The security policy refused the sign-in. */
  | 'sign_in_refused'
  /** The broker's store is down: nothing was started. */
  | 'unavailable'
  /** The start route was called with a `returnTo` that is not a same-origin path. */
  | 'bad_return_to'
  /** The broker requires DPoP and the sign-in was not started by the worker with its key (a plain navigation to the start route). */
  | 'dpop_required'
  /** Too many sign-ins started or callbacks from this address: try again later. */
  | 'rate_limited';

/**
 * What the worker's POST start answers beside the code: a fixed sentence per code, never the
 * provider's or the network's own text, which reaches the page and may name internal hosts.
 */
export const SIGN_IN_ERROR_MESSAGES: Readonly<Record<SignInErrorCode, string>> = Object.freeze({
  access_denied: 'The sign-in was refused at the provider',
  provider_error: 'The provider answered the sign-in with an error',
  state_mismatch: 'This answers no sign-in this browser started',
  code_rejected: 'The provider refused the sign-in code',
  id_token_invalid: "The provider's answer did not verify",
  provider_unavailable: 'The provider could not be reached; try again later',
  sign_in_refused: 'The sign-in was refused',
  unavailable: 'The sign-in service is unavailable; nothing was started. Try again later',
  bad_return_to: 'returnTo must be a path of this origin',
  dpop_required: 'This sign-in must be started by the worker',
  rate_limited: 'Too many sign-ins from this address; retry after Retry-After seconds',
});

export const SIGN_IN_ERROR_PARAM = 'broker_error';
/** On the redirect back after a sign-in: the page's hint to its worker that a new session may be there (it only makes the worker ask). */
export const SIGN_IN_PARAM = 'broker_signin';

export class SignInError extends Error {
  constructor(
    readonly code: SignInErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** What an error of the protocol library means for the page. */
export function signInErrorOf(err: unknown): SignInError {
  if (err instanceof SignInError) return err;
  if (err instanceof BackingUnavailable) return new SignInError('unavailable', 'The rate limits could not be checked: nothing was started');
  if (err instanceof oidc.AuthorizationResponseError) {
    return new SignInError(err.error === 'access_denied' ? 'access_denied' : 'provider_error', `The provider answered ${err.error}`);
  }
  if (err instanceof oidc.ResponseBodyError) {
    if (err.status >= 500) return new SignInError('provider_unavailable', `The provider answered ${err.status}`);
    return new SignInError('code_rejected', `The provider refused the code: ${err.error}`);
  }
  if (err instanceof oidc.ClientError) {
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof TypeError || /fetch failed|ECONNREFUSED/i.test(String(cause))) return new SignInError('provider_unavailable', 'The provider could not be reached');
    return new SignInError('id_token_invalid', `The provider's answer did not verify: ${err.message}`);
  }
  if (err instanceof TypeError) return new SignInError('provider_unavailable', 'The provider could not be reached');
  return new SignInError('provider_error', err instanceof Error ? err.message : String(err));
}
