import { expect, test } from '@playwright/test';
import { withBoundedLock, type LockRequester } from './bounded-lock';

/** A lock manager whose lock someone else holds for ever. */
const wedged: LockRequester = {
  request: (_name, { signal }) =>
    new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true })),
};
const free: LockRequester = { request: (_name, _options, fn) => fn() };

test('a lock held for ever delays the operation by the bound, then it runs without the lock', async () => {
  const start = Date.now();
  expect(await withBoundedLock(wedged, 'l', 100, async () => 'done')).toBe('done');
  expect(Date.now() - start).toBeGreaterThanOrEqual(95);
  expect(Date.now() - start).toBeLessThan(1_000);
});

test('a free lock runs the operation under it; its own failure is not retried without the lock', async () => {
  expect(await withBoundedLock(free, 'l', 100, async () => 1)).toBe(1);
  let runs = 0;
  const failing = withBoundedLock(free, 'l', 100, async () => {
    runs++;
    throw new Error('boom');
  });
  await expect(failing).rejects.toThrow('boom');
  expect(runs).toBe(1);
});

test('without Web Locks the operation simply runs', async () => {
  expect(await withBoundedLock(undefined, 'l', 100, async () => 'x')).toBe('x');
});
