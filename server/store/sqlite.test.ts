// The SQLite store: the shared conformance suite on a file (so that two
// connections share it, as two processes would), and what only SQLite does.
import { expect, test } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SETTINGS } from '../../reference-server/settings';
import { startSweeper } from '../../reference-server/sweeper';
import { POLICY, storeConformance } from './conformance';
import { openStore } from '../../reference-server/open-store';
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
  await store.revokeFamilyOf('h-revoked', 100_001);
  expect(await store.sweep(POLICY.idleMs + 1)).toBe(3);
  expect(await store.sweep(POLICY.idleMs + 1)).toBe(0);
  expect(await store.rotate('h-live', 'h-next', 100_002, POLICY)).toMatchObject({ status: 'rotated' });
  expect(await store.rotate('h-idle', 'h-x', 100_002, POLICY)).toEqual({ status: 'unknown' });
  await store.close();
});

test('the sweeper sweeps on its interval until stopped', async () => {
  const store = openSqliteStore(':memory:');
  await store.createFamily({ familyId: 'old', userId: 'alice', tokenHash: 'h-old', now: Date.now() - POLICY.absoluteMs - 1 }, POLICY);
  const swept: number[] = [];
  const sweep = store.sweep.bind(store);
  store.sweep = async (now) => {
    const n = await sweep(now);
    swept.push(n);
    return n;
  };
  const stop = startSweeper(store, 20, (err) => {
    throw err;
  });
  await expect.poll(() => swept.length).toBeGreaterThanOrEqual(2);
  stop();
  const count = swept.length;
  await new Promise((r) => setTimeout(r, 80));
  expect(swept.length).toBe(count);
  expect(swept[0]).toBe(1);
  await store.close();
});

test('the reference settings open on a fresh checkout: the database directory does not exist yet', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'broker-fresh-'));
  try {
    const opened = await openStore({ ...DEFAULT_SETTINGS, databasePath: join(dir, 'data', 'broker.sqlite') });
    expect(await opened.jti.claim('k', Date.now() + 1000, Date.now())).toBe(true);
    await opened.store.close();
    await opened.jti.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
