// The Web Lock around refreshes and logins, with a bound on the wait. The lock
// only keeps two worker versions from refreshing at once (inside one worker the
// single-flight promise does that); its name is visible to page script, which
// can hold it for ever. So after `waitMs` the operation goes ahead without it:
// a duplicate refresh by another version is what the server's grace window is
// for, while a wedged login, refresh or logout would be a denial of service.
// Pure: the LockManager is passed in; unit-tested in Node.

import { DEV } from './dev';

export interface LockRequester {
  request<R>(name: string, options: { signal: AbortSignal }, fn: () => Promise<R>): Promise<R>;
}

export async function withBoundedLock<R>(locks: LockRequester | undefined, name: string, waitMs: number, fn: () => Promise<R>): Promise<R> {
  if (!locks) return fn();
  let started = false;
  try {
    return await locks.request(name, { signal: AbortSignal.timeout(waitMs) }, () => {
      started = true;
      return fn();
    });
  } catch (err) {
    if (started) throw err;
    if (DEV) console.warn(`[token-broker] the lock ${name} was held for more than ${waitMs} ms (by page script?); going ahead without it`);
    return fn();
  }
}
