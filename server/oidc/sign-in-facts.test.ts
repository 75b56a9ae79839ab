import { expect, test } from '@playwright/test';
import { signInFacts } from './sign-in-facts';

const now = 1_800_000_000;

test("the provider's auth_time is kept, but never later than now: a future one would pass every maxAge route", () => {
  expect(signInFacts({ auth_time: now - 60 }, now).authTime).toBe(now - 60);
  expect(signInFacts({ auth_time: now + 86_400 }, now).authTime).toBe(now);
  expect(signInFacts({ auth_time: Number.POSITIVE_INFINITY }, now).authTime).toBe(now);
  expect(signInFacts({ auth_time: '1' }, now).authTime).toBe(now);
  expect(signInFacts({}, now).authTime).toBe(now);
});

test("acr and amr are the provider's when they are strings, 'oidc' otherwise", () => {
  expect(signInFacts({ acr: 'urn:mace:incommon:iap:silver', amr: ['pwd', 'mfa', 3] }, now)).toMatchObject({ acr: 'urn:mace:incommon:iap:silver', amr: ['pwd', 'mfa'] });
  expect(signInFacts({ acr: '', amr: 'pwd' }, now)).toMatchObject({ acr: 'oidc', amr: ['oidc'] });
});
