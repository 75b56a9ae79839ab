// The state, nonce and PKCE verifier of one sign-in, from the start route to the
// callback, in an encrypted cookie of their own: SameSite=Lax (a Strict cookie
// is not sent on the provider's cross-site redirect back), HttpOnly, ten
// minutes, cleared by the callback whatever its outcome. `Secure`, it is
// `__Host-broker_oidc` at `Path=/`, as the refresh cookie: a sibling subdomain
// that tossed in its own sealed round trip (from a sign-in it started as the
// attacker) would sign the victim into the attacker's account (login CSRF).
// On plain http it is `broker_oidc`, scoped to the callback.
import { EncryptJWT, jwtDecrypt } from 'jose';
import { serialize } from 'cookie';
import { cookieScope } from '../core/cookie-security';

export interface RoundTrip {
  state: string;
  nonce: string;
  verifier: string;
  returnTo: string;
  /** The thumbprint of the worker's DPoP key that started the sign-in (its POST's proof): the family is bound to it. */
  jkt: string | null;
}

export const ROUND_TRIP_SECONDS = 600;

const NAMES = { secure: '__Host-broker_oidc', plain: 'broker_oidc' } as const;

/** The round-trip cookie's name and path: `callbackPath` only for the plain cookie. */
export function roundTripScope(secure: boolean, callbackPath: string): { name: string; path: string } {
  return cookieScope(secure, NAMES, callbackPath);
}

export async function sealRoundTrip(trip: RoundTrip, key: Uint8Array, now: number): Promise<string> {
  const iat = Math.floor(now / 1000);
  return new EncryptJWT({ ...trip }).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).setIssuedAt(iat).setExpirationTime(iat + ROUND_TRIP_SECONDS).encrypt(key);
}

/** The round trip, or null for a cookie that is missing, forged, tampered with or expired. */
export async function openRoundTrip(sealed: string | undefined, key: Uint8Array, now: number): Promise<RoundTrip | null> {
  if (!sealed) return null;
  try {
    const { payload } = await jwtDecrypt(sealed, key, { currentDate: new Date(now) });
    const { state, nonce, verifier, returnTo, jkt } = payload;
    if (typeof state !== 'string' || typeof nonce !== 'string' || typeof verifier !== 'string' || typeof returnTo !== 'string') return null;
    // A trip sealed before keys were sealed carries none: an unbound one, as it was started.
    if (jkt != null && typeof jkt !== 'string') return null;
    return { state, nonce, verifier, returnTo, jkt: typeof jkt === 'string' ? jkt : null };
  } catch {
    return null;
  }
}

export function roundTripCookie(value: string, secure: boolean, callbackPath: string): string {
  const { name, path } = roundTripScope(secure, callbackPath);
  return serialize(name, value, { httpOnly: true, sameSite: 'lax', secure, path, maxAge: value ? ROUND_TRIP_SECONDS : 0, ...(value ? {} : { expires: new Date(0) }) });
}
