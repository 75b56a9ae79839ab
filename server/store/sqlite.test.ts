// The SQLite store: the shared conformance suite on a file (so that two
// connections share it, as two processes would), and what only SQLite does.
import { expect, test } from '@playwright/test';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { POLICY, storeConformance } from './conformance';
import { openSqliteStore } from './sqlite';

for (const c of storeConformance(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'broker-sqlite-'));
  return {
    open: async () => openSqliteStore(join(dir, 'broker.sqlite')),
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
})) test(`sqlite store conformance: ${c.name}`, c.run);

test('a sweep deletes revoked, idle and absolutely expired families, and only those', async () => {
  const store = openSqliteStore(':memory:');
  const family = (id: string, now: number) => store.createFamily({ familyId: id, userId: 'alice', tokenHash: `h-${id}`, now }, POLICY);
  await family('live', 100_000);
  await family('revoked', 100_000);
  await family('idle', 0);
  await family('old', -POLICY.absoluteMs);
  await store.revokeFamilyOf('h-revoked', 100_001, POLICY);
  expect(await store.sweep(POLICY.idleMs + 1)).toBe(3);
  expect(await store.sweep(POLICY.idleMs + 1)).toBe(0);
  expect(await store.rotate('h-live', 'h-next', 100_002, POLICY)).toMatchObject({ status: 'rotated' });
  expect(await store.rotate('h-idle', 'h-x', 100_002, POLICY)).toEqual({ status: 'unknown' });
  await store.close();
});

test('a file made before token-handler mode gains the upstream columns; its families keep working and hold no record', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'broker-sqlite-'));
  const path = join(dir, 'old.sqlite');
  const old = new Database(path);
  // The families table as it was before the upstream record (and its lease) were kept.
  old.exec(`CREATE TABLE families (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, created_at INTEGER NOT NULL, absolute_expires_at INTEGER NOT NULL,
    revoked_at INTEGER, current_hash TEXT NOT NULL, jkt TEXT, claims TEXT, idle_ms INTEGER);
    CREATE TABLE tokens (hash TEXT PRIMARY KEY, family_id TEXT NOT NULL REFERENCES families(id) ON DELETE CASCADE, expires_at INTEGER NOT NULL, rotated_at INTEGER);
    INSERT INTO families VALUES ('before', 'alice', 0, ${POLICY.absoluteMs}, NULL, 'h-before', NULL, '{}', ${POLICY.idleMs});
    INSERT INTO tokens VALUES ('h-before', 'before', ${POLICY.idleMs}, NULL);`);
  old.close();
  const store = openSqliteStore(path);
  expect(await store.upstream!('before')).toBeNull();
  expect(await store.rotate('h-before', 'h-next', 1_000, POLICY)).toMatchObject({ status: 'rotated' });
  await store.createFamily({ familyId: 'after', userId: 'alice', tokenHash: 'h-after', now: 0, upstream: 'sealed' }, POLICY);
  expect(await store.upstream!('after')).toBe('sealed');
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});
