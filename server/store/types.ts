// The refresh-token store interface. Both implementations (SQLite, Redis) keep
// only SHA-256 hashes of tokens and make each rotation one atomic step.

/** Lifetimes and the grace window, all in milliseconds. */
export interface RotationPolicy {
  idleMs: number;
  absoluteMs: number;
  graceMs: number;
}

export interface NewFamily {
  familyId: string;
  userId: string;
  tokenHash: string;
  now: number;
}

export type RotationResult =
  /** The presented token was current: the successor is now current. */
  | { status: 'rotated'; userId: string; familyId: string }
  /** The presented token is the immediate predecessor, within the grace window: the same successor stands. */
  | { status: 'grace'; userId: string; familyId: string }
  /** A rotated token was presented outside the grace window: the family is now revoked. */
  | { status: 'reused'; userId: string; familyId: string }
  | { status: 'unknown' | 'expired' | 'revoked' };

export interface RefreshStore {
  createFamily(family: NewFamily, policy: RotationPolicy): Promise<void>;
  /**
   * Presents `tokenHash` and, when it is current, makes `successorHash` current
   * in its place. The successor is derived from the presented token, so a
   * duplicate within the grace window names the same successor.
   */
  rotate(tokenHash: string, successorHash: string, now: number, policy: RotationPolicy): Promise<RotationResult>;
  /** Revokes the family of a token; resolves the user it belonged to, if any. */
  revokeFamilyOf(tokenHash: string, now: number): Promise<string | null>;
  /** Revokes every family of a user; resolves how many were live. */
  revokeUser(userId: string, now: number): Promise<number>;
  /** Deletes families that expired or were revoked before `now`; resolves how many. */
  sweep(now: number): Promise<number>;
  close(): Promise<void>;
}
