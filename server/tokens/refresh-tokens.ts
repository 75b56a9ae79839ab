// Refresh tokens: opaque random strings handed out in a cookie, stored only as
// hashes. A successor is derived from its predecessor with a server secret, so
// a duplicate request within the grace window can be given the very same
// successor without the server ever storing a token in the clear.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { NewFamily, RefreshStore, RotationPolicy, RotationResult } from '../store/types';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

export type RefreshOutcome =
  /** `jkt`: the DPoP key the family is bound to, null for a bearer family. */
  | { ok: true; userId: string; familyId: string; token: string; jkt: string | null; claims: Record<string, unknown> }
  /** `userId`, `familyId`: the family a `wrong_key` or `reused` token belongs to (its events name it). */
  | { ok: false; reason: Exclude<RotationResult['status'], 'rotated' | 'grace'> | 'malformed'; userId?: string; familyId?: string };

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export class RefreshTokens {
  constructor(
    private readonly store: RefreshStore,
    private readonly policy: RotationPolicy,
    private readonly secret: Buffer = randomBytes(32),
    /** The broker's clock, ms since the epoch: the time of the calls that are not given one. */
    private readonly clock: () => number = Date.now,
  ) {}

  private successorOf(token: string): string {
    return createHmac('sha256', this.secret).update(token).digest('base64url');
  }

  /**
   * Starts a family for a new login, bound to a DPoP key when `jkt` is given; resolves the first token and the family.
   * `lifetimes`: the family's own idle and absolute lifetimes (ms), in place of the policy's.
   */
  async issue(
    userId: string,
    now = this.clock(),
    jkt: string | null = null,
    claims: Record<string, unknown> = {},
    lifetimes?: NewFamily['lifetimes'],
    /** Token-handler mode: the provider's tokens, sealed, kept with the family from its first moment. */
    upstream?: string,
  ): Promise<{ token: string; familyId: string }> {
    const token = randomBytes(32).toString('base64url');
    const familyId = crypto.randomUUID();
    await this.store.createFamily(
      { familyId, userId, tokenHash: hashToken(token), now, jkt, claims, ...(lifetimes ? { lifetimes } : {}), ...(upstream !== undefined ? { upstream } : {}) },
      this.policy,
    );
    return { token, familyId };
  }

  /** `jkt`: thumbprint of the key whose DPoP proof came with the request, null without one. */
  async rotate(token: string, now = this.clock(), jkt: string | null = null): Promise<RefreshOutcome> {
    if (!TOKEN_SHAPE.test(token)) return { ok: false, reason: 'malformed' };
    const successor = this.successorOf(token);
    const result = await this.store.rotate(hashToken(token), hashToken(successor), now, this.policy, jkt);
    if (result.status === 'rotated' || result.status === 'grace') {
      return { ok: true, userId: result.userId, familyId: result.familyId, token: successor, jkt: result.jkt, claims: result.claims };
    }
    if (result.status === 'wrong_key' || result.status === 'reused') return { ok: false, reason: result.status, userId: result.userId, familyId: result.familyId };
    return { ok: false, reason: result.status };
  }

  revoke(token: string, now = this.clock()): Promise<string | null> {
    if (!TOKEN_SHAPE.test(token)) return Promise.resolve(null);
    return this.store.revokeFamilyOf(hashToken(token), now, this.policy);
  }

  /** Revokes the family whose id access tokens carry as `sid`; true when this call revoked it. */
  revokeFamily(familyId: string, now = this.clock()): Promise<boolean> {
    return this.store.revokeFamily(familyId, now, this.policy);
  }

  /** Whether the access tokens of this family are revoked (its family ended, by any way, within the list's lifetime). */
  accessRevoked(familyId: string, now = this.clock()): Promise<boolean> {
    return this.store.accessRevoked(familyId, now);
  }

  /** Until when the family may hand out access tokens: its absolute end; null once revoked, idle or past that end. */
  liveUntil(familyId: string, now = this.clock()): Promise<number | null> {
    return this.store.liveUntil(familyId, now);
  }

  revokeUser(userId: string, now = this.clock()): Promise<number> {
    return this.store.revokeUser(userId, now, this.policy);
  }

  /** The store's upstream records (token-handler mode), or null when the store keeps none. */
  upstreamRecords(): UpstreamRecords | null {
    const s = this.store;
    if (!s.familyOf || !s.upstream || !s.leaseUpstream || !s.releaseUpstream) return null;
    return {
      familyOf: (token) => (TOKEN_SHAPE.test(token) ? s.familyOf!(hashToken(token)) : Promise.resolve(null)),
      read: (familyId) => s.upstream!(familyId),
      lease: (familyId, holder, ms) => s.leaseUpstream!(familyId, holder, this.clock(), ms),
      release: (familyId, holder, sealed) => s.releaseUpstream!(familyId, holder, sealed),
    };
  }
}

/** A family's sealed upstream record (token-handler mode), over the store; see `RefreshStore.upstream`. */
export interface UpstreamRecords {
  /** The family of a refresh token (as the cookie carries it), null for an unknown one. */
  familyOf(token: string): Promise<string | null>;
  read(familyId: string): Promise<string | null>;
  lease(familyId: string, holder: string, ms: number): Promise<boolean>;
  release(familyId: string, holder: string, sealed?: string): Promise<boolean>;
}
