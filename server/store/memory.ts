// An in-memory refresh store for tests and single-process apps: the same
// behaviour as SQLite and Redis (the conformance suite says so), gone with
// the process. Every method runs to completion without awaiting, so each
// rotation is as atomic as SQLite's transaction.
import type { NewFamily, RefreshStore, RotationPolicy, RotationResult } from './types';

interface Family {
  userId: string;
  absoluteExpiresAt: number;
  idleMs: number;
  revokedAt: number | null;
  currentHash: string;
  jkt: string | null;
  claims: Record<string, unknown>;
  upstream: string | null;
  lease: { holder: string; until: number } | null;
}
interface Token {
  familyId: string;
  expiresAt: number;
  rotatedAt: number | null;
}

/**
 * `open()` of one backing may be called more than once (the conformance
 * suite's "instances"); all of them share its maps, as connections share a database.
 */
export function memoryStoreBacking(): { open(): RefreshStore } {
  const families = new Map<string, Family>();
  const tokens = new Map<string, Token>();
  /** Family id to when its access tokens stop being listed as revoked. */
  const revokedAccess = new Map<string, number>();
  const end = (familyId: string, family: Family, now: number, policy: RotationPolicy) => {
    family.revokedAt = now;
    // The provider's credentials go with the session: nothing left to steal from a revoked family.
    family.upstream = null;
    family.lease = null;
    if (policy.accessListMs > 0) revokedAccess.set(familyId, now + policy.accessListMs);
  };
  const open = (): RefreshStore => ({
    async createFamily(f: NewFamily, policy: RotationPolicy) {
      const { idleMs, absoluteMs } = f.lifetimes ?? policy;
      const absoluteExpiresAt = f.now + absoluteMs;
      families.set(f.familyId, { userId: f.userId, absoluteExpiresAt, idleMs, revokedAt: null, currentHash: f.tokenHash, jkt: f.jkt ?? null, claims: f.claims ?? {}, upstream: f.upstream ?? null, lease: null });
      tokens.set(f.tokenHash, { familyId: f.familyId, expiresAt: Math.min(f.now + idleMs, absoluteExpiresAt), rotatedAt: null });
    },
    // The family's own idle lifetime (fixed at its creation) applies; of the caller's policy, only the grace window.
    async rotate(hash, successor, now, policy, jkt = null): Promise<RotationResult> {
      const token = tokens.get(hash);
      const family = token && families.get(token.familyId);
      if (!token || !family) return { status: 'unknown' };
      if (family.revokedAt !== null) return { status: 'revoked' };
      if (now >= family.absoluteExpiresAt) return { status: 'expired' };
      const ids = { userId: family.userId, familyId: token.familyId };
      const wrongKey = family.jkt !== null && family.jkt !== jkt;
      const bound = { ...ids, jkt: family.jkt, claims: structuredClone(family.claims) };
      if (token.rotatedAt === null) {
        if (now >= token.expiresAt) return { status: 'expired' };
        // The live token without the family's key: the security policy may end the family.
        if (wrongKey) return { status: 'wrong_key', ...ids };
        token.rotatedAt = now;
        tokens.set(successor, { familyId: token.familyId, expiresAt: Math.min(now + family.idleMs, family.absoluteExpiresAt), rotatedAt: null });
        family.currentHash = successor;
        return { status: 'rotated', ...bound };
      }
      // Before the reuse check: an old token alone (a backup, an old device) must not end the owner's login.
      if (wrongKey) return { status: 'stale' };
      if (family.currentHash === successor && policy.graceMs > 0 && now - token.rotatedAt <= policy.graceMs) return { status: 'grace', ...bound };
      end(token.familyId, family, now, policy);
      return { status: 'reused', ...ids };
    },
    async revokeFamilyOf(hash, now, policy) {
      const token = tokens.get(hash);
      const family = token && families.get(token.familyId);
      if (!token || !family || family.revokedAt !== null) return null;
      end(token.familyId, family, now, policy);
      return family.userId;
    },
    async revokeFamily(familyId, now, policy) {
      const family = families.get(familyId);
      if (!family || family.revokedAt !== null) return false;
      end(familyId, family, now, policy);
      return true;
    },
    async revokeUser(userId, now, policy) {
      let n = 0;
      for (const [id, family] of families) {
        if (family.userId === userId && family.revokedAt === null) {
          end(id, family, now, policy);
          n++;
        }
      }
      return n;
    },
    async accessRevoked(familyId, now) {
      const until = revokedAccess.get(familyId);
      return until !== undefined && now < until;
    },
    async liveUntil(familyId, now) {
      const family = families.get(familyId);
      const current = family && tokens.get(family.currentHash);
      if (!family || !current || family.revokedAt !== null || now >= family.absoluteExpiresAt || now >= current.expiresAt) return null;
      return family.absoluteExpiresAt;
    },
    async familyOf(hash) {
      return tokens.get(hash)?.familyId ?? null;
    },
    async upstream(familyId) {
      const family = families.get(familyId);
      return family && family.revokedAt === null ? family.upstream : null;
    },
    async leaseUpstream(familyId, holder, now, ms) {
      const family = families.get(familyId);
      if (!family || family.revokedAt !== null || family.upstream === null) return false;
      if (family.lease && family.lease.holder !== holder && now < family.lease.until) return false;
      family.lease = { holder, until: now + ms };
      return true;
    },
    async releaseUpstream(familyId, holder, sealed) {
      const family = families.get(familyId);
      if (!family || family.lease?.holder !== holder) return false;
      family.lease = null;
      if (sealed !== undefined && family.revokedAt === null) family.upstream = sealed;
      return true;
    },
    async sweep(now) {
      for (const [id, until] of revokedAccess) if (until <= now) revokedAccess.delete(id);
      let n = 0;
      for (const [id, family] of families) {
        const current = tokens.get(family.currentHash);
        if (family.revokedAt === null && now < family.absoluteExpiresAt && current && now < current.expiresAt) continue;
        families.delete(id);
        n++;
        for (const [hash, token] of tokens) if (token.familyId === id) tokens.delete(hash);
      }
      return n;
    },
    async close() {
      // Nothing to release; the maps go with the backing.
    },
  });
  return { open };
}

/** A store of its own, in this process's memory. */
export function memoryStore(): RefreshStore {
  return memoryStoreBacking().open();
}
