// Turns a token endpoint's JSON body into the worker's token record. The JWT is
// decoded here, once per new token, so the request hot path never decodes.

import { decodeJwt } from 'jose';
import type { ResolvedConfig } from './config';
import { expiresAtFrom, lifetimeFromClaims, refreshAtFrom } from './expiry';

export interface TokenRecord {
  accessToken: string;
  /** 'DPoP' when the server bound the token to the worker's key (token_type DPoP): sent with a proof. */
  tokenType: 'Bearer' | 'DPoP';
  /** Local epoch ms; null when neither expires_in nor the JWT tells. */
  expiresAt: number | null;
  /** Local epoch ms from which a request first waits for a refresh; null when expiry is unknown. */
  refreshAt: number | null;
  /** Only the claims the page may see (`exposeClaims`). */
  claims: Record<string, unknown>;
  /** Whose session this is (the JWT's `sub`); undefined for an opaque token. */
  sub?: string;
  /** The JWT's claims but the time ones, in key order: what a renewed token must share with the one it replaces. */
  binding?: string;
}

function decodeClaims(token: string): Record<string, unknown> | null {
  try {
    return decodeJwt(token);
  } catch {
    // Opaque access tokens are allowed: the worker only needs them as strings.
    return null;
  }
}

function pick(all: Record<string, unknown> | null, names: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!all) return out;
  for (const n of names) if (n in all) out[n] = all[n];
  return out;
}

/** Builds a record from a raw token, with an explicit lifetime when the server gave one. */
export function recordFromToken(
  accessToken: string,
  expiresIn: number | null,
  receivedAt: number,
  config: Pick<ResolvedConfig, 'exposeClaims' | 'refreshBeforeExpiry'>,
  tokenType: TokenRecord['tokenType'] = 'Bearer',
): TokenRecord {
  const claims = decodeClaims(accessToken);
  const lifetime = expiresIn ?? (claims ? lifetimeFromClaims(claims) : null);
  return {
    accessToken,
    tokenType,
    expiresAt: expiresAtFrom(receivedAt, lifetime),
    refreshAt: refreshAtFrom(receivedAt, lifetime, config.refreshBeforeExpiry),
    claims: pick(claims, config.exposeClaims),
    sub: typeof claims?.sub === 'string' ? claims.sub : undefined,
    // Sorted: a backend may write the claims of a renewal in another order.
    binding: claims ? JSON.stringify(Object.entries({ ...claims, exp: 0, iat: 0, nbf: 0, jti: 0 }).sort()) : undefined,
  };
}

/** Parses a login/refresh response body; null when it carries no usable token. */
export function parseTokenResponse(body: unknown, config: ResolvedConfig, receivedAt: number): TokenRecord | null {
  if (typeof body !== 'object' || body === null) return null;
  const fields = body as Record<string, unknown>;
  const name = config.fields.accessToken.find((f) => typeof fields[f] === 'string' && fields[f] !== '');
  if (!name) return null;
  const raw = fields[config.fields.expiresIn];
  const expiresIn = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : null;
  // The server says whether it bound the token (RFC 9449 section 5); a backend that ignored the proof answers Bearer.
  const type = fields.token_type ?? fields.tokenType;
  const tokenType = typeof type === 'string' && type.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';
  return recordFromToken(fields[name] as string, expiresIn !== null && Number.isFinite(expiresIn) ? expiresIn : null, receivedAt, config, tokenType);
}
