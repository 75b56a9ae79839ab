// The reference app's store: the one its settings name, opened on a fresh
// checkout, and swept on the app's interval.
import { expect, test } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { POLICY } from '../server/store/conformance';
import { openSqliteStore } from '../server/store/sqlite';
import { openStore } from './open-store';
import { DEFAULT_SETTINGS } from './settings';
import { startSweeper } from './sweeper';

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
