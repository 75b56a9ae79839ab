import { expect, test } from '@playwright/test';
import { shouldRefreshOnResume, type ResumeState } from './resume-refresh';

const now = 1_000_000;
const base: ResumeState = { enabled: true, token: { accessToken: 'a', refreshAt: now - 1 }, signedOut: false, inflight: false, lastResumeFor: null, now };

test.describe('shouldRefreshOnResume', () => {
  test('a token within its margin or expired is refreshed', () => {
    expect(shouldRefreshOnResume(base)).toBe(true);
    expect(shouldRefreshOnResume({ ...base, token: { accessToken: 'a', refreshAt: now } })).toBe(true);
  });
  test('a fresh token, or one of unknown expiry, is not', () => {
    expect(shouldRefreshOnResume({ ...base, token: { accessToken: 'a', refreshAt: now + 1 } })).toBe(false);
    expect(shouldRefreshOnResume({ ...base, token: { accessToken: 'a', refreshAt: null } })).toBe(false);
  });
  test('signed out: nothing', () => {
    expect(shouldRefreshOnResume({ ...base, token: null, signedOut: true })).toBe(false);
  });
  test('a session with no token in memory is refreshed', () => {
    expect(shouldRefreshOnResume({ ...base, token: null })).toBe(true);
  });
  test('not while a refresh is in flight, nor when switched off', () => {
    expect(shouldRefreshOnResume({ ...base, inflight: true })).toBe(false);
    expect(shouldRefreshOnResume({ ...base, enabled: false })).toBe(false);
  });
  test('at most once per token, however often the page posts resume', () => {
    expect(shouldRefreshOnResume({ ...base, lastResumeFor: 'a' })).toBe(false);
    expect(shouldRefreshOnResume({ ...base, lastResumeFor: 'older' })).toBe(true);
    expect(shouldRefreshOnResume({ ...base, token: null, lastResumeFor: '' })).toBe(false);
  });
});
