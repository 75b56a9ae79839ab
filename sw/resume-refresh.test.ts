import { expect, test } from '@playwright/test';
import { shouldRefreshOnResume } from './resume-refresh';

const now = 1_000_000;
const inMargin = { accessToken: 'a', refreshAt: now - 1 };

test.describe('shouldRefreshOnResume', () => {
  test('a token within its margin or expired is refreshed', () => {
    expect(shouldRefreshOnResume(inMargin, false, null, now)).toBe(true);
    expect(shouldRefreshOnResume({ accessToken: 'a', refreshAt: now }, false, null, now)).toBe(true);
  });
  test('a fresh token, or one of unknown expiry, is not', () => {
    expect(shouldRefreshOnResume({ accessToken: 'a', refreshAt: now + 1 }, false, null, now)).toBe(false);
    expect(shouldRefreshOnResume({ accessToken: 'a', refreshAt: null }, false, null, now)).toBe(false);
  });
  test('signed out: nothing', () => {
    expect(shouldRefreshOnResume(null, true, null, now)).toBe(false);
  });
  test('a session with no token in memory is refreshed', () => {
    expect(shouldRefreshOnResume(null, false, null, now)).toBe(true);
  });
  test('at most once per token, however often the page posts resume', () => {
    expect(shouldRefreshOnResume(inMargin, false, 'a', now)).toBe(false);
    expect(shouldRefreshOnResume(inMargin, false, 'older', now)).toBe(true);
    expect(shouldRefreshOnResume(null, false, '', now)).toBe(false);
  });
});
