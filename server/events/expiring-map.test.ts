import { expect, test } from '@playwright/test';
import { DeviceMemory } from './devices';
import { ExpiringMap } from './expiring-map';
import { LoginFailures } from './failures';

/** A Map that counts the entries iterated over. */
class CountingMap<V> extends Map<string, V> {
  visited = 0;
  override [Symbol.iterator](): MapIterator<[string, V]> {
    const inner = super.entries();
    const step = inner.next.bind(inner);
    const next = (): IteratorResult<[string, V]> => {
      const r = step();
      if (!r.done) this.visited++;
      return r;
    };
    return Object.assign(inner, { next });
  }
}

test('a write visits the expired front and one live entry, however many it holds: O(1), not a scan', () => {
  const entries = new CountingMap<{ value: number; until: number }>();
  const map = new ExpiringMap<number>(1_000_000, entries);
  for (let i = 0; i < 50_000; i++) map.set(`user${i}`, i, 60_000 + i, i);
  entries.visited = 0;
  map.set('one more', 1, 200_000, 50_000);
  expect(entries.visited).toBe(1);
  // Eleven expired at the front (deadlines 60,000 to 60,010): those go, and one live entry is read.
  entries.visited = 0;
  map.set('later', 1, 200_000, 60_010);
  expect(entries.visited).toBe(12);
  expect(map.size).toBe(50_002 - 11);
  expect(map.get('user5', 60_010)).toBeUndefined();
  expect(map.get('user20', 60_010)).toBe(20);
});

test('at the cap the least recently written goes first', () => {
  const map = new ExpiringMap<number>(3);
  for (const key of ['a', 'b', 'c']) map.set(key, 1, 1_000, 0);
  map.set('a', 2, 1_000, 1);
  map.set('d', 1, 1_000, 2);
  expect(map.size).toBe(3);
  expect(['a', 'b', 'c', 'd'].map((k) => map.get(k, 3))).toEqual([2, undefined, 1, 1]);
});

test('device memory and login failures are capped: a flood of usernames forgets the oldest, it does not grow', () => {
  const device = { jkt: null, ipPrefix: '198.51.100.0/24', userAgent: 'Chrome' };
  const devices = new DeviceMemory({ by: ['ip_prefix', 'user_agent'], rememberMs: 86_400_000 }, 100);
  devices.login('alice', 'f-alice', device, 0);
  for (let i = 0; i < 100; i++) devices.login(`flood${i}`, `f${i}`, device, 1);
  expect(devices.knows('alice', device, 2)).toBe(false);
  expect(devices.knows('flood99', device, 2)).toBe(true);
  // The family's device is forgotten too: a refresh then reports no change rather than one against nothing.
  expect(devices.refresh('f-alice', { ...device, userAgent: 'Firefox' }, 2)).toEqual([]);

  const failures = new LoginFailures(2, 60_000, 100);
  expect(failures.fail('alice', 0)).toBeNull();
  for (let i = 0; i < 100; i++) failures.fail(`flood${i}`, 1);
  // alice's first failure was forgotten at the cap: this one starts a new run.
  expect(failures.fail('alice', 2)).toBeNull();
  expect(failures.fail('alice', 3)).toBe(2);
});

test('login failures: the window runs from the first failure of a run', () => {
  const failures = new LoginFailures(3, 1_000);
  failures.fail('alice', 0);
  failures.fail('alice', 900);
  expect(failures.fail('alice', 1_000)).toBeNull();
  expect(failures.fail('alice', 1_001)).toBeNull();
  expect(failures.fail('alice', 1_002)).toBe(3);
});
