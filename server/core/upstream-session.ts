// What the broker asks of a token-handler (token-broker/server/oidc makes one)
// at refresh and logout, described here so the core needs nothing of the OIDC
// library: the provider's access token for a family, and the provider's half
// of a logout.

/** The provider's access token, as the refresh endpoint answers it. */
export interface UpstreamGrant {
  accessToken: string;
  tokenType: string;
  /** Seconds from now. */
  expiresIn: number;
}

/** The refresh finds the provider refused the family's refresh token (`invalid_grant`): the session ends. */
export const UPSTREAM_ENDED = 'ended';
/** The family's provider tokens are kept but no listed key opens them (a key dropped too soon): the session ends. */
export const UPSTREAM_UNREADABLE = 'unreadable';

export interface UpstreamSession {
  /**
   * A refresh that rotated the family's cookie: the provider's access token to answer with
   * (refreshed upstream first when it is due), null for a locally issued one, or
   * `UPSTREAM_ENDED` / `UPSTREAM_UNREADABLE`. A provider that cannot be reached rejects with `BackingUnavailable`.
   */
  grant(familyId: string): Promise<UpstreamGrant | null | typeof UPSTREAM_ENDED | typeof UPSTREAM_UNREADABLE>;
  /**
   * A logout, before the family is revoked here (which clears its record), once no upstream refresh
   * of it is in flight: the page's RP-initiated logout URL, and `finish`, the provider's revocation,
   * called after the local one. The broker's logout completes whatever these do.
   */
  loggingOut(familyId: string): Promise<{ logoutUrl?: string; finish(): Promise<void> }>;
}
