// Whether a page coming back (visible, online) should start a refresh now, so
// the app's first request after a wake finds a fresh token instead of waiting
// on one. Pure: the worker passes in what it knows; unit-tested in Node.
//
// Page script can post `broker:resume` as often as it likes, so the answer is
// "yes" at most once per token: the worker remembers which token a resume
// already refreshed for, and a token the refresh did not replace (an outage)
// is left to the requests and their cool-down.

import { needsRefresh } from './expiry';

/** The token held now; null when there is none in memory. */
export type ResumeToken = { accessToken: string; refreshAt: number | null } | null;

/** The key a resume-started refresh is remembered by: the access token, or '' for none. */
export function resumeKey(token: ResumeToken): string {
  return token?.accessToken ?? '';
}

/**
 * Positional, not an options object: the worker script's size is paid on every restart, and property names are not
 * minified. `refreshOnResume` off and a refresh already in flight are the worker's to check before asking.
 * `lastResumeFor`: the key a resume last refreshed for, null if none yet.
 */
export function shouldRefreshOnResume(token: ResumeToken, signedOut: boolean, lastResumeFor: string | null, now: number): boolean {
  if (!token && signedOut) return false;
  if (lastResumeFor === resumeKey(token)) return false;
  // No token in memory but a session (a worker restarted with `persist: 'memory'`): the first request refreshes anyway.
  return token === null || needsRefresh(token.refreshAt, now);
}
