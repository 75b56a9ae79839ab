// The refresh-token store interface. Both implementations (SQLite, Redis) keep
// only SHA-256 hashes of tokens and make each rotation one atomic step.

/** Lifetimes and the grace window, all in milliseconds. */
export interface RotationPolicy {
  idleMs: number;
  absoluteMs: number;
  graceMs: number;
  /**
   * How long a revoked family's access tokens stay listed as revoked: the
   * longest an access token can live plus the clock tolerance. 0 lists nothing
   * (the broker's `revocationCheck: false`).
   */
  accessListMs: number;
}

export interface NewFamily {
  familyId: string;
  userId: string;
  tokenHash: string;
  now: number;
  /** RFC 7638 thumbprint of the DPoP key the family is bound to; absent for a bearer login. */
  jkt?: string | null;
  /** The account's claims at login, which every access token of the family carries. */
  claims?: Record<string, unknown>;
  /**
   * This family's own lifetimes (the lifetime policy's answer at login), in place of the
   * policy's `idleMs` and `absoluteMs`; the store keeps them with the family, so every
   * rotation on every instance applies them.
   */
  lifetimes?: { idleMs: number; absoluteMs: number };
  /**
   * Token-handler mode: the provider's tokens for this family, sealed (encrypted) by
   * token-broker/server/oidc. Opaque to the store; cleared when the family is revoked,
   * deleted with it.
   */
  upstream?: string;
}

export type RotationResult =
  /** The presented token was current: the successor is now current. `jkt` is the family's DPoP key, null when unbound. */
  | { status: 'rotated'; userId: string; familyId: string; jkt: string | null; claims: Record<string, unknown> }
  /** The presented token is the immediate predecessor, within the grace window: the same successor stands. */
  | { status: 'grace'; userId: string; familyId: string; jkt: string | null; claims: Record<string, unknown> }
  /**
   * The presented token is current, the family is bound to a DPoP key and the
   * request proved another key (or none): nothing changed, so a script without
   * the key cannot burn the token; the security policy may end the family.
   */
  | { status: 'wrong_key'; userId: string; familyId: string }
  /**
   * A rotated token of a bound family, presented without its key: nothing changed.
   * Neither reuse nor a foreign key: an old cookie alone (a backup, an old device)
   * cannot end the live session. With the key, a rotated token is `grace` or `reused`.
   */
  | { status: 'stale' }
  /** A rotated token was presented outside the grace window: the family is now revoked. */
  | { status: 'reused'; userId: string; familyId: string }
  | { status: 'unknown' | 'expired' | 'revoked' };

export interface RefreshStore {
  createFamily(family: NewFamily, policy: RotationPolicy): Promise<void>;
  /**
   * Presents `tokenHash` and, when it is current, makes `successorHash` current
   * in its place. The successor is derived from the presented token, so a
   * duplicate within the grace window names the same successor.
   * `jkt` is the thumbprint of the key the request proved possession of (null
   * without a DPoP proof); a family bound to another key is left untouched
   * and answers `wrong_key`, checked in the same atomic step.
   */
  rotate(tokenHash: string, successorHash: string, now: number, policy: RotationPolicy, jkt?: string | null): Promise<RotationResult>;
  /**
   * Revokes the family of a token; resolves the user it belonged to when this
   * call revoked it, null for an unknown token or a family already revoked (a
   * logout sent twice is counted, and reported, once).
   */
  revokeFamilyOf(tokenHash: string, now: number, policy: RotationPolicy): Promise<string | null>;
  /** Revokes a family by its id (the access tokens' `sid`); true when this call revoked it. */
  revokeFamily(familyId: string, now: number, policy: RotationPolicy): Promise<boolean>;
  /**
   * The absolute end of a family that is live at `now`: not revoked, its
   * current token not idle-expired, its absolute lifetime not over. Null for
   * any other family, or an unknown one. Sliding renewal asks this, so an
   * access token never outlives its session.
   */
  liveUntil(familyId: string, now: number): Promise<number | null>;
  /** Revokes every family of a user; resolves how many were live. */
  revokeUser(userId: string, now: number, policy: RotationPolicy): Promise<number>;
  /**
   * Whether the access tokens of a family are revoked at `now`. Every call
   * above that revokes a family (rotate's `reused`, revokeFamilyOf,
   * revokeFamily, revokeUser, each in the same atomic step as the revocation)
   * lists it for `policy.accessListMs`, and every connection to the backing
   * answers true from the moment that call resolved until the entry expires.
   * A store that cannot answer throws (the API request is then answered 503).
   */
  accessRevoked(familyId: string, now: number): Promise<boolean>;
  /**
   * Token-handler mode (token-broker/server/oidc); a store of your own without these
   * cannot hold a provider's tokens, and the OIDC handler refuses it at start-up.
   * The family's id of a token (current or rotated), null for an unknown one.
   */
  familyOf?(tokenHash: string): Promise<string | null>;
  /** The family's sealed upstream record; null when it has none, is unknown or revoked. */
  upstream?(familyId: string): Promise<string | null>;
  /**
   * Takes the family's upstream lease for `holder` until `now + ms`, when no other
   * holder's lease runs at `now`: the one instance that may spend the provider's refresh
   * token now. False when another holds it, or the family is unknown, revoked or has no record.
   */
  leaseUpstream?(familyId: string, holder: string, now: number, ms: number): Promise<boolean>;
  /**
   * Ends `holder`'s lease and, with `sealed`, replaces the record, in one atomic step; true
   * when `holder` still held the lease (its lease ran out and another took it: nothing changes).
   */
  releaseUpstream?(familyId: string, holder: string, sealed?: string): Promise<boolean>;
  /** Deletes families that expired or were revoked before `now`, and expired revocation entries; resolves how many families. */
  sweep(now: number): Promise<number>;
  close(): Promise<void>;
}
