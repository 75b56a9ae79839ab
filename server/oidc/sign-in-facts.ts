// How the provider says the account signed in, as the session keeps it (RFC 9470's
// auth_time, acr, amr). The ID token has verified, but its claims are the
// provider's: an auth_time in the future would pass every maxAge route for as long
// as the family lives, so it is taken no later than now.
import type { SignInFacts } from '../core/token-broker';

/** `claims`: the verified ID token's; `now`: seconds since the epoch. */
export function signInFacts(claims: { auth_time?: unknown; acr?: unknown; amr?: unknown }, now: number): SignInFacts {
  const authTime = typeof claims.auth_time === 'number' && Number.isFinite(claims.auth_time) ? Math.min(claims.auth_time, now) : now;
  return {
    authTime,
    acr: typeof claims.acr === 'string' && claims.acr ? claims.acr : 'oidc',
    amr: Array.isArray(claims.amr) ? claims.amr.filter((m): m is string => typeof m === 'string') : ['oidc'],
  };
}
