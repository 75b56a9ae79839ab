// The SQLite store: the shared conformance suite on a file (so that two
// connections share it, as two processes would), and what only SQLite does.
import { expect, test } from '@playwright/test';
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
