import { expect, test } from '@playwright/test';
import { expiresAtFrom, isExpired, lifetimeFromClaims, needsRefresh, refreshAtFrom } from './expiry';

test('expiry comes from the lifetime and the local time of receipt', () => {
  expect(expiresAtFrom(1_000_000, 300)).toBe(1_300_000);
  expect(expiresAtFrom(1_000_000, null)).toBeNull();
  expect(expiresAtFrom(1_000_000, -5)).toBeNull();
  expect(expiresAtFrom(1_000_000, Number.NaN)).toBeNull();
});

test('a JWT lifetime is exp - iat, whatever the clocks say', () => {
  // Issued by a server whose clock is three hours ahead: the lifetime is still 300 s.
  const skewed = { iat: 2_000_010_800, exp: 2_000_011_100 };
  expect(lifetimeFromClaims(skewed)).toBe(300);
  expect(lifetimeFromClaims({ exp: 5 })).toBeNull();
  expect(lifetimeFromClaims({ iat: 10, exp: 5 })).toBeNull();
});

test('refresh is due within the margin, never for an unknown expiry', () => {
  const expiresAt = 100_000;
  // Received at 0 with 100 s of life and a 30 s margin: refresh from 70 s on.
  const refreshAt = refreshAtFrom(0, 100, 30);
  expect(refreshAt).toBe(70_000);
  expect(needsRefresh(refreshAt, 69_999)).toBe(false);
  expect(needsRefresh(refreshAt, 70_000)).toBe(true);
  expect(needsRefresh(null, 1e15)).toBe(false);
  expect(isExpired(expiresAt, 99_999)).toBe(false);
  expect(isExpired(expiresAt, 100_000)).toBe(true);
  expect(isExpired(null, 1e15)).toBe(false);
});

test('a margin as long as the lifetime refreshes half-way, not on every request', () => {
  expect(refreshAtFrom(1_000, 6, 30)).toBe(4_000);
  expect(refreshAtFrom(1_000, 60, 30)).toBe(31_000);
  expect(refreshAtFrom(1_000, null, 30)).toBeNull();
  expect(refreshAtFrom(1_000, -1, 30)).toBeNull();
});
