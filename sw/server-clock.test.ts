import { expect, test } from '@playwright/test';
import { ServerClock } from './server-clock';

test('follows a server clock hours off, and ignores the Date header\'s rounding', () => {
  const clock = new ServerClock();
  const local = Date.parse('2026-11-24T10:00:00.700Z');
  expect(clock.now(local)).toBe(local);
  clock.observe('Tue, 24 Nov 2026 13:00:00 GMT', local);
  expect(clock.now(local)).toBe(local + 3 * 3600_000 - 700);
  clock.observe('Tue, 24 Nov 2026 10:00:00 GMT', local);
  expect(clock.now(local)).toBe(local);
  clock.observe('not a date', local);
  clock.observe(null, local);
  expect(clock.now(local)).toBe(local);
});
