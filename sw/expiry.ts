// Expiry maths. The worker trusts only durations from the server (`expires_in`,
// or exp - iat of the JWT) and its own clock at receipt: comparing the server's
// absolute `exp` with a skewed local clock is what causes refresh loops.

/** Local epoch ms at which a token received at `receivedAt` expires; null when unknown. */
export function expiresAtFrom(receivedAt: number, expiresIn: number | null): number | null {
  if (expiresIn === null || !Number.isFinite(expiresIn) || expiresIn < 0) return null;
  return receivedAt + expiresIn * 1000;
}

/** Lifetime in seconds from a JWT's own iat/exp (both on the server's clock), or null. */
export function lifetimeFromClaims(claims: { iat?: unknown; exp?: unknown }): number | null {
  const { iat, exp } = claims;
  if (typeof iat !== 'number' || typeof exp !== 'number' || exp < iat) return null;
  return exp - iat;
}

/**
 * Local epoch ms from which requests wait for a refresh first: `marginSeconds`
 * before expiry, but never earlier than half-way through the token's life, so a
 * margin as long as the lifetime does not refresh on every request.
 */
export function refreshAtFrom(receivedAt: number, lifetimeSeconds: number | null, marginSeconds: number): number | null {
  if (lifetimeSeconds === null || !Number.isFinite(lifetimeSeconds) || lifetimeSeconds < 0) return null;
  return receivedAt + Math.max(lifetimeSeconds - marginSeconds, lifetimeSeconds / 2) * 1000;
}

/** True when a request at `now` should wait for a refresh first. Unknown expiry never does. */
export function needsRefresh(refreshAt: number | null, now: number): boolean {
  return refreshAt !== null && now >= refreshAt;
}

/** True once the token can no longer be used at all. */
export function isExpired(expiresAt: number | null, now: number): boolean {
  return expiresAt !== null && now >= expiresAt;
}
