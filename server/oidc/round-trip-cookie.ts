// The state, nonce and PKCE verifier of one sign-in, from the start route to the
// callback, in an encrypted cookie of their own: SameSite=Lax (a Strict cookie
// is not sent on the provider's cross-site redirect back), HttpOnly, scoped to
// the callback, ten minutes, cleared by the callback whatever its outcome.
import { EncryptJWT, jwtDecrypt } from 'jose';
import { serialize } from 'cookie';

export interface RoundTrip {
  state: string;
  nonce: string;
  verifier: string;
  returnTo: string;
}

export const ROUND_TRIP_SECONDS = 600;

export function roundTripCookieName(secure: boolean): string {
  return secure ? '__Secure-broker_oidc' : 'broker_oidc';
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
    const { state, nonce, verifier, returnTo } = payload;
    if (typeof state !== 'string' || typeof nonce !== 'string' || typeof verifier !== 'string' || typeof returnTo !== 'string') return null;
    return { state, nonce, verifier, returnTo };
  } catch {
    return null;
  }
}

export function roundTripCookie(value: string, secure: boolean, path: string): string {
  return serialize(roundTripCookieName(secure), value, { httpOnly: true, sameSite: 'lax', secure, path, maxAge: value ? ROUND_TRIP_SECONDS : 0, ...(value ? {} : { expires: new Date(0) }) });
}
