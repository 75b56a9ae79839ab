// The lifetime policy's pure part: the hook's answer within the configured ceiling, and every way a hook can fail.
import { expect, test } from '@playwright/test';
import { decideLifetimes, type LifetimeLogin } from './lifetime-policy';

const hour = 3_600_000;
const ceiling = { idleMs: 14 * 24 * hour, absoluteMs: 30 * 24 * hour };
const login = (knownDevice: boolean): LifetimeLogin => ({ sub: 'alice', knownDevice, device: { jkt: 'k', ipPrefix: '198.51.100.0/24', userAgent: 'Chrome' } });
const designs = ({ knownDevice }: LifetimeLogin) => (knownDevice ? { idleTtl: 7 * 86400, absoluteTtl: 7 * 86400 } : { idleTtl: 2 * 3600, absoluteTtl: 2 * 3600 });

test("the designs' example: a known device gets 7 days, a new one 2 hours", () => {
  const failures: unknown[] = [];
  expect(decideLifetimes(designs, login(true), ceiling, (e) => failures.push(e))).toEqual({ idleMs: 7 * 24 * hour, absoluteMs: 7 * 24 * hour });
  expect(decideLifetimes(designs, login(false), ceiling, (e) => failures.push(e))).toEqual({ idleMs: 2 * hour, absoluteMs: 2 * hour });
  expect(failures).toEqual([]);
});

test('a field left out, or no answer, keeps the configured lifetime; more than configured is cut to it', () => {
  const none = () => undefined;
  expect(decideLifetimes(none, login(true), ceiling, () => undefined)).toEqual(ceiling);
  expect(decideLifetimes(() => ({ idleTtl: 3600 }), login(true), ceiling, () => undefined)).toEqual({ idleMs: hour, absoluteMs: ceiling.absoluteMs });
  expect(decideLifetimes(() => ({ idleTtl: 365 * 86400, absoluteTtl: 365 * 86400 }), login(true), ceiling, () => undefined)).toEqual(ceiling);
  // Idle past the absolute end is cut to it.
  expect(decideLifetimes(() => ({ absoluteTtl: 3600 }), login(true), ceiling, () => undefined)).toEqual({ idleMs: hour, absoluteMs: hour });
});

test('a hook that throws, returns a promise or answers nonsense leaves the configured lifetimes, and says so', async () => {
  const failures: string[] = [];
  const onFailure = (e: unknown) => failures.push((e as Error).message);
  expect(decideLifetimes(() => { throw new Error('hook broke'); }, login(true), ceiling, onFailure)).toEqual(ceiling);
  expect(decideLifetimes((() => Promise.reject(new Error('late'))) as never, login(true), ceiling, onFailure)).toEqual(ceiling);
  expect(decideLifetimes(() => ({ idleTtl: -1, absoluteTtl: Number.NaN }), login(true), ceiling, onFailure)).toEqual(ceiling);
  expect(decideLifetimes(() => ({ idleTtl: '7d' as never }), login(true), ceiling, onFailure)).toEqual(ceiling);
  expect(decideLifetimes((() => 'long') as never, login(true), ceiling, onFailure)).toEqual(ceiling);
  await new Promise((r) => setTimeout(r, 0));
  expect(failures).toEqual([
    'hook broke',
    'the lifetime policy returned a promise; it must answer synchronously',
    "the lifetime policy's absoluteTtl must be a positive number of seconds, not NaN",
    "the lifetime policy's idleTtl must be a positive number of seconds, not -1",
    "the lifetime policy's idleTtl must be a positive number of seconds, not 7d",
    'late',
  ]);
});
