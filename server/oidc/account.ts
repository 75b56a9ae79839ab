// The session's account for a sign-in at a provider, when the app gives no
// `account()`. A provider's `sub` is unique only at that provider: taken alone
// it can equal a password account's id, or another provider's `sub`, and the
// sign-in would then be that account's session (its refreshes, its revokeUser,
// its devices). Prefixed with the issuer it names one account of one provider:
// an issuer has no fragment (OpenID Connect Discovery), so the first `#` ends it
// and no two (issuer, sub) pairs give the same id.
import type { Account } from '../core/token-broker';

export function defaultAccount(claims: { iss: string; sub: string }): Account {
  return { sub: `${claims.iss}#${claims.sub}`, claims: {} };
}
