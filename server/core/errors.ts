// Every error leaves the server as JSON `{error, message}` with a 4xx/5xx
// status and a stable code; malformed input is a 4xx, never a 500.

export type ServerErrorCode =
  | 'bad_request'
  | 'invalid_credentials'
  | 'invalid_grant'
  /** 401 on refresh: the security policy (`securityEvents.policy` answering 'revoke') ended the sign-in. */
  | 'session_revoked'
  /** 403 on login: the security policy refused this sign-in (its family was revoked as it was made). */
  | 'sign_in_refused'
  | 'invalid_token'
  /** API routes: a valid access token whose sign-in session has ended (logout, sign out everywhere, reuse, an admin call). */
  | 'token_revoked'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  /** RFC 9470: the token is good but its sign-in is too old or too weak for this route. */
  | 'insufficient_user_authentication'
  /** A passkey registration or assertion that did not verify: tampered, for another or a used challenge, unknown passkey, no user verification. */
  | 'invalid_passkey'
  /** Adding or removing a passkey of an account that has one, without an assertion of one of them. */
  | 'passkey_required'
  /** Adding the first passkey of an account without its password given again. */
  | 'password_required'
  | 'csrf'
  | 'duplicate_cookie'
  | 'not_found'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  /** A backing (store, replay cache, rate limits) is down: retry after Retry-After; nothing was changed. */
  | 'unavailable'
  | 'server_error';

export interface ErrorBody {
  error: ServerErrorCode;
  message: string;
}

export function codeForStatus(status: number): ServerErrorCode {
  if (status === 404) return 'not_found';
  if (status === 413) return 'payload_too_large';
  if (status === 415) return 'unsupported_media_type';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'server_error';
  return 'bad_request';
}

/** A setting of the core (or of an app built on it) that cannot work; `option` names it. */
export class OptionError extends Error {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`${option}: ${message}`);
  }
}
