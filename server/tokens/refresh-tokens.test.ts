// What RefreshTokens adds on top of a store, whose rules (and the shared
// secret's effect across instances) the conformance suite in store/ checks.
import { expect, test } from '@playwright/test';
import { RefreshTokens } from './refresh-tokens';
import { POLICY } from '../store/conformance';
import { openSqliteStore } from '../store/sqlite';
import type { RefreshStore } from '../store/types';

test('the store never sees a token, only hashes', async () => {
  const calls: unknown[] = [];
  const store = openSqliteStore(':memory:');
  const recording = new Proxy(store, {
    get: (target, key: keyof RefreshStore) => (...args: unknown[]) => {
      calls.push(args);
      return (target[key] as (...a: unknown[]) => unknown)(...args);
    },
  });
  const tokens = new RefreshTokens(recording, POLICY);
  const first = (await tokens.issue('alice', 0)).token;
  const second = await tokens.rotate(first, 1);
  if (!second.ok) throw new Error('rotation failed');
  await tokens.revoke(second.token, 2);
  const seen = JSON.stringify(calls);
  expect(calls).toHaveLength(3);
  expect(seen).not.toContain(first);
  expect(seen).not.toContain(second.token);
});
