// SQLite refresh-token store (better-sqlite3): one file in WAL mode, or
// ':memory:' for tests. better-sqlite3 is synchronous, so each rotation runs in
// one immediate transaction and nothing can interleave with it.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { JtiStore } from './jti';
import type { NewFamily, RefreshStore, RotationPolicy, RotationResult } from './types';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS families (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  absolute_expires_at INTEGER NOT NULL,
  revoked_at INTEGER,
  current_hash TEXT NOT NULL,
  jkt TEXT,
  claims TEXT,
  idle_ms INTEGER,
  upstream TEXT,
  lease_holder TEXT,
  lease_until INTEGER
);
CREATE INDEX IF NOT EXISTS families_user ON families(user_id);
CREATE TABLE IF NOT EXISTS tokens (
  hash TEXT PRIMARY KEY,
  family_id TEXT NOT NULL REFERENCES families(id) ON DELETE CASCADE,
  expires_at INTEGER NOT NULL,
  rotated_at INTEGER
);
CREATE INDEX IF NOT EXISTS tokens_family ON tokens(family_id);
CREATE TABLE IF NOT EXISTS revoked_access (
  family_id TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
`;

interface TokenRow {
  family_id: string;
  expires_at: number;
  rotated_at: number | null;
}
interface FamilyRow {
  user_id: string;
  jkt: string | null;
  claims: string | null;
  idle_ms: number | null;
  absolute_expires_at: number;
  revoked_at: number | null;
  current_hash: string;
}

export function openSqliteStore(path: string): RefreshStore {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  if (path !== ':memory:') db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.exec(SCHEMA);
  // Files made before DPoP binding lack the column; their families stay unbound.
  const columns = db.prepare<[], { name: string }>('PRAGMA table_info(families)').all();
  if (!columns.some((c) => c.name === 'jkt')) db.exec('ALTER TABLE families ADD COLUMN jkt TEXT');
  if (!columns.some((c) => c.name === 'claims')) db.exec('ALTER TABLE families ADD COLUMN claims TEXT');
  // Families made before the lifetime policy have none of their own: the instance's idle lifetime applies.
  if (!columns.some((c) => c.name === 'idle_ms')) db.exec('ALTER TABLE families ADD COLUMN idle_ms INTEGER');
  // Files made before token-handler mode: their families hold no provider tokens.
  for (const [name, type] of [['upstream', 'TEXT'], ['lease_holder', 'TEXT'], ['lease_until', 'INTEGER']] as const) {
    if (!columns.some((c) => c.name === name)) db.exec(`ALTER TABLE families ADD COLUMN ${name} ${type}`);
  }

  const insertFamily = db.prepare(
    'INSERT INTO families (id, user_id, created_at, absolute_expires_at, current_hash, jkt, claims, idle_ms, upstream) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const insertToken = db.prepare('INSERT INTO tokens (hash, family_id, expires_at) VALUES (?, ?, ?)');
  const getToken = db.prepare<[string], TokenRow>('SELECT family_id, expires_at, rotated_at FROM tokens WHERE hash = ?');
  const getFamily = db.prepare<[string], FamilyRow>(
    'SELECT user_id, jkt, claims, idle_ms, absolute_expires_at, revoked_at, current_hash FROM families WHERE id = ?',
  );
  const markRotated = db.prepare('UPDATE tokens SET rotated_at = ? WHERE hash = ?');
  const setCurrent = db.prepare('UPDATE families SET current_hash = ? WHERE id = ?');
  // The provider's credentials go with the session: nothing left to steal from a revoked family.
  const revokeFamily = db.prepare('UPDATE families SET revoked_at = ?, upstream = NULL, lease_holder = NULL WHERE id = ? AND revoked_at IS NULL');
  const revokeUser = db.prepare('UPDATE families SET revoked_at = ?, upstream = NULL, lease_holder = NULL WHERE user_id = ? AND revoked_at IS NULL');
  const getUpstream = db.prepare<[string], string | null>('SELECT upstream FROM families WHERE id = ? AND revoked_at IS NULL').pluck();
  const lease = db.prepare(
    'UPDATE families SET lease_holder = ?, lease_until = ? WHERE id = ? AND revoked_at IS NULL AND upstream IS NOT NULL AND (lease_holder IS NULL OR lease_holder = ? OR lease_until <= ?)',
  );
  const release = db.prepare('UPDATE families SET lease_holder = NULL, upstream = CASE WHEN revoked_at IS NULL THEN coalesce(?, upstream) ELSE upstream END WHERE id = ? AND lease_holder = ?');
  // The access-token revocation list: a family's tokens are refused until expires_at (the sweep deletes the entry after).
  const listAccess = db.prepare('INSERT INTO revoked_access (family_id, expires_at) VALUES (?, ?) ON CONFLICT(family_id) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)');
  const listUserAccess = db.prepare(
    'INSERT INTO revoked_access (family_id, expires_at) SELECT id, ? FROM families WHERE user_id = ? AND revoked_at IS NULL ON CONFLICT(family_id) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)',
  );
  const accessRevoked = db.prepare<[string, number], { one: number }>('SELECT 1 AS one FROM revoked_access WHERE family_id = ? AND expires_at > ?').pluck();
  const sweepAccess = db.prepare('DELETE FROM revoked_access WHERE expires_at <= ?');
  const liveFamily = db.prepare<[string], { absolute_expires_at: number; revoked_at: number | null; expires_at: number }>(
    'SELECT f.absolute_expires_at, f.revoked_at, t.expires_at FROM families f JOIN tokens t ON t.hash = f.current_hash WHERE f.id = ?',
  );
  const sweep = db.prepare('DELETE FROM families WHERE revoked_at IS NOT NULL OR absolute_expires_at <= ?');
  const sweepIdle = db.prepare(
    'DELETE FROM families WHERE id IN (SELECT f.id FROM families f JOIN tokens t ON t.hash = f.current_hash WHERE t.expires_at <= ?)',
  );

  const create = db.transaction((f: NewFamily, policy: RotationPolicy) => {
    const { idleMs, absoluteMs } = f.lifetimes ?? policy;
    const absolute = f.now + absoluteMs;
    insertFamily.run(f.familyId, f.userId, f.now, absolute, f.tokenHash, f.jkt ?? null, JSON.stringify(f.claims ?? {}), idleMs, f.upstream ?? null);
    insertToken.run(f.tokenHash, f.familyId, Math.min(f.now + idleMs, absolute));
  });

  const rotate = db.transaction(
    (hash: string, successor: string, now: number, policy: RotationPolicy, jkt: string | null): RotationResult => {
      const token = getToken.get(hash);
      if (!token) return { status: 'unknown' };
      const family = getFamily.get(token.family_id);
      if (!family) return { status: 'unknown' };
      if (family.revoked_at !== null) return { status: 'revoked' };
      if (now >= family.absolute_expires_at) return { status: 'expired' };
      const ids = { userId: family.user_id, familyId: token.family_id };
      const wrongKey = family.jkt !== null && family.jkt !== jkt;
      const bound = { ...ids, jkt: family.jkt, claims: JSON.parse(family.claims ?? '{}') as Record<string, unknown> };
      if (token.rotated_at === null) {
        if (now >= token.expires_at) return { status: 'expired' };
        // The live token without the family's key: the security policy may end the family.
        if (wrongKey) return { status: 'wrong_key', ...ids };
        markRotated.run(now, hash);
        insertToken.run(successor, token.family_id, Math.min(now + (family.idle_ms ?? policy.idleMs), family.absolute_expires_at));
        setCurrent.run(successor, token.family_id);
        return { status: 'rotated', ...bound };
      }
      // Before the reuse check: an old token alone (a backup, an old device) must not end the owner's login.
      if (wrongKey) return { status: 'stale' };
      if (family.current_hash === successor && policy.graceMs > 0 && now - token.rotated_at <= policy.graceMs) return { status: 'grace', ...bound };
      revokeFamily.run(now, token.family_id);
      if (policy.accessListMs > 0) listAccess.run(token.family_id, now + policy.accessListMs);
      return { status: 'reused', ...ids };
    },
  );

  /** The family's revocation and its listing, in one transaction: true when this call revoked it. */
  const revokeById = db.transaction((familyId: string, now: number, policy: RotationPolicy): boolean => {
    if (revokeFamily.run(now, familyId).changes === 0) return false;
    if (policy.accessListMs > 0) listAccess.run(familyId, now + policy.accessListMs);
    return true;
  });
  const revokeAllOf = db.transaction((userId: string, now: number, policy: RotationPolicy): number => {
    if (policy.accessListMs > 0) listUserAccess.run(now + policy.accessListMs, userId);
    return revokeUser.run(now, userId).changes;
  });

  return {
    async createFamily(family, policy) {
      create.immediate(family, policy);
    },
    async rotate(hash, successor, now, policy, jkt = null) {
      return rotate.immediate(hash, successor, now, policy, jkt);
    },
    async revokeFamilyOf(hash, now, policy) {
      const token = getToken.get(hash);
      if (!token || !revokeById.immediate(token.family_id, now, policy)) return null;
      return getFamily.get(token.family_id)?.user_id ?? null;
    },
    async revokeFamily(familyId, now, policy) {
      return revokeById.immediate(familyId, now, policy);
    },
    async accessRevoked(familyId, now) {
      return accessRevoked.get(familyId, now) !== undefined;
    },
    async liveUntil(familyId, now) {
      const row = liveFamily.get(familyId);
      if (!row || row.revoked_at !== null || now >= row.absolute_expires_at || now >= row.expires_at) return null;
      return row.absolute_expires_at;
    },
    async revokeUser(userId, now, policy) {
      return revokeAllOf.immediate(userId, now, policy);
    },
    async familyOf(hash) {
      return getToken.get(hash)?.family_id ?? null;
    },
    async upstream(familyId) {
      return getUpstream.get(familyId) ?? null;
    },
    async leaseUpstream(familyId, holder, now, ms) {
      return lease.run(holder, now + ms, familyId, holder, now).changes === 1;
    },
    async releaseUpstream(familyId, holder, sealed) {
      return release.run(sealed ?? null, familyId, holder).changes === 1;
    },
    async sweep(now) {
      return db.transaction(() => (sweepAccess.run(now), sweep.run(now).changes + sweepIdle.run(now).changes)).immediate();
    },
    async close() {
      db.close();
    },
  };
}

/** One connection of its own to the same file (WAL allows it); ':memory:' is then a separate, per-process cache. */
export function openSqliteJtiStore(path: string): JtiStore {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  if (path !== ':memory:') db.pragma('journal_mode = WAL');
  // One write per DPoP request: without a sync of the log on every commit it costs a tenth.
  // A crash of the process loses nothing; a power cut may lose the last proof ids, whose
  // proofs a server nonce or the iat window stops soon after anyway.
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE IF NOT EXISTS dpop_jti (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)');
  // An expired entry is taken over in place, so a sweep is housekeeping, not a condition of correctness.
  const claim = db.prepare(
    'INSERT INTO dpop_jti (key, expires_at) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET expires_at = excluded.expires_at WHERE dpop_jti.expires_at <= ?',
  );
  const sweep = db.prepare('DELETE FROM dpop_jti WHERE expires_at <= ?');
  return {
    async claim(key, expiresAt, now) {
      return claim.run(key, expiresAt, now).changes === 1;
    },
    async sweep(now) {
      return sweep.run(now).changes;
    },
    async close() {
      db.close();
    },
  };
}
