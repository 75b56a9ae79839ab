// The lifetime policy: at login, the app's hook decides how long this family may live, idle and
// at most (e.g. a known device 7 days, a new one 2 hours). The configured refresh lifetimes are the
// ceiling: a hook can shorten a sign-in, never make one outlive what the broker was set up for
// (the cookie's Max-Age and the device memory are sized by them). A hook that throws, returns a
// promise or answers nonsense leaves the configured lifetimes: it never fails a login.
import type { DeviceFacts } from '../events/types';

/** What the hook is told about the sign-in. */
export interface LifetimeLogin {
  sub: string;
  /** Whether this sub signed in from this device (DPoP key, and per `deviceBy` its network and browser) before. */
  knownDevice: boolean;
  device: DeviceFacts;
}

/** Seconds; a field left out keeps the configured lifetime. */
export interface LifetimeAnswer {
  idleTtl?: number;
  absoluteTtl?: number;
}

export type LifetimePolicy = (login: LifetimeLogin) => LifetimeAnswer | void;

/** Milliseconds, as the store keeps them. */
export interface FamilyLifetimes {
  idleMs: number;
  absoluteMs: number;
}

/** The family's lifetimes: the hook's answer within the ceiling, or the ceiling itself. */
export function decideLifetimes(policy: LifetimePolicy, login: LifetimeLogin, ceiling: FamilyLifetimes, onFailure: (err: unknown) => void): FamilyLifetimes {
  let answer: unknown;
  try {
    answer = policy(login);
  } catch (err) {
    onFailure(err);
    return ceiling;
  }
  if (answer instanceof Promise) {
    answer.catch(onFailure);
    onFailure(new Error('the lifetime policy returned a promise; it must answer synchronously'));
    return ceiling;
  }
  if (typeof answer !== 'object' || answer === null) return ceiling;
  const { idleTtl, absoluteTtl } = answer as LifetimeAnswer;
  const pick = (seconds: unknown, max: number, name: string): number => {
    if (seconds === undefined) return max;
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) {
      onFailure(new Error(`the lifetime policy's ${name} must be a positive number of seconds, not ${String(seconds)}`));
      return max;
    }
    return Math.min(Math.round(seconds * 1000), max);
  };
  const absoluteMs = pick(absoluteTtl, ceiling.absoluteMs, 'absoluteTtl');
  // An idle lifetime past the absolute end means nothing: the family ends there anyway.
  return { idleMs: Math.min(pick(idleTtl, ceiling.idleMs, 'idleTtl'), absoluteMs), absoluteMs };
}
