// The page's view of the session: claims and expiry, never a token.

import { SIGNED_OUT, type Session } from './protocol';
import type { TokenRecord } from './token-response';

export function sessionOf(record: TokenRecord | null): Session {
  if (!record) return SIGNED_OUT;
  return { authenticated: true, claims: { ...record.claims }, expiresAt: record.expiresAt };
}
