import { expect, test } from '@playwright/test';
import { cooldownDelay, DEFAULT_RETRY_POLICY, isRejectionStatus, isRetryableStatus, nextRetryDelay, parseRetryAfter } from './retry-policy';

const policy = { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 2000, cooldownBaseMs: 3000, cooldownMaxMs: 30_000, retryAfterMaxMs: 300_000 };

test('Retry-After in seconds or as an HTTP date', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  expect(parseRetryAfter('3', now)).toBe(3000);
  expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
  expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:05 GMT', now)).toBe(0);
  expect(parseRetryAfter('soon', now)).toBeNull();
  expect(parseRetryAfter(null, now)).toBeNull();
});

test('backoff grows, stays within the ceiling and stops after maxAttempts', () => {
  expect(nextRetryDelay(policy, 1, null, () => 0)).toBe(100);
  expect(nextRetryDelay(policy, 1, null, () => 1)).toBe(200);
  expect(nextRetryDelay(policy, 2, null, () => 1)).toBe(400);
  expect(nextRetryDelay(policy, 3, null, () => 1)).toBeNull();
  expect(nextRetryDelay({ ...policy, maxAttempts: 10 }, 9, null, () => 1)).toBe(2000);
});

test('Retry-After is honoured, and a wait beyond the ceiling gives up', () => {
  expect(nextRetryDelay(policy, 1, 1500, () => 0)).toBe(1500);
  expect(nextRetryDelay(policy, 1, 60_000, () => 0)).toBeNull();
});

test('status classes', () => {
  expect([429, 500, 502, 503].every(isRetryableStatus)).toBe(true);
  expect([400, 401, 403, 404].some(isRetryableStatus)).toBe(false);
  expect([400, 401, 403].every(isRejectionStatus)).toBe(true);
  expect(isRejectionStatus(404)).toBe(false);
});

test('the default schedule tries at most 9 times in the first minute of an outage, however the jitter falls', () => {
  // The README's promise: the first refresh tries 3 times within about a second, then one try per cool-down.
  for (const r of [0, 0.5, 1]) {
    const random = () => r;
    let t = 0;
    let attempts = 0;
    for (let a = 1; a !== 0; ) {
      attempts++;
      const d = nextRetryDelay(DEFAULT_RETRY_POLICY, a, null, random);
      if (d === null) break;
      t += d;
      a++;
    }
    for (let failures = 1; ; failures++) {
      t += cooldownDelay(DEFAULT_RETRY_POLICY, failures, null, random);
      if (t >= 60_000) break;
      attempts++;
    }
    expect(attempts, `random() = ${r}`).toBeLessThanOrEqual(9);
  }
  expect(cooldownDelay(DEFAULT_RETRY_POLICY, 1, null, () => 0)).toBe(1500);
  expect(cooldownDelay(DEFAULT_RETRY_POLICY, 20, null, () => 1)).toBe(30_000);
  expect(cooldownDelay(DEFAULT_RETRY_POLICY, 1, 10 * 3600_000, () => 1)).toBe(300_000);
});
