// Whether a page coming back (visible, online) should start a refresh now, so
// the app's first request after a wake finds a fresh token instead of waiting
// on one. Pure: the worker passes in what it knows; unit-tested in Node.
//
// Page script can post `broker:resume` as often as it likes, so the answer is
// "yes" at most once per token: the worker remembers which token a resume
// already refreshed for, and a token the refresh did not replace (an outage)
// is left to the requests and their cool-down.

import { needsRefresh } from './expiry';

export interface ResumeState {
  /** `refreshOnResume` in the config. */
  enabled: boolean;
  /** The token held now; null when there is none in memory. */
  token: { accessToken: string; refreshAt: number | null } | null;
  /** Signed out: there is nothing to refresh. */
  signedOut: boolean;
  /** A refresh is already on the wire: the waiters join it. */
  inflight: boolean;
  /** The token (access token, or '' for none) a resume last refreshed for; null if none yet. */
  lastResumeFor: string | null;
  now: number;
}

/** The key a resume-started refresh is remembered by. */
export function resumeKey(token: ResumeState['token']): string {
  return token?.accessToken ?? '';
}

export function shouldRefreshOnResume(s: ResumeState): boolean {
  if (!s.enabled || s.inflight) return false;
  if (!s.token && s.signedOut) return false;
  if (s.lastResumeFor === resumeKey(s.token)) return false;
  // No token in memory but a session (a worker restarted with `persist: 'memory'`): the first request refreshes anyway.
  return s.token === null || needsRefresh(s.token.refreshAt, s.now);
}
