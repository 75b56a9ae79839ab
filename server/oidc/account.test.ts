import { expect, test } from '@playwright/test';
import { defaultAccount } from './account';

test("the default account is the issuer and the provider's sub: it cannot equal a plain account id or another provider's", () => {
  expect(defaultAccount({ iss: 'https://id.example', sub: 'alice' })).toEqual({ sub: 'https://id.example#alice', claims: {} });
  // The same sub at two providers, and a password account of that name: three accounts.
  const ids = new Set([defaultAccount({ iss: 'https://id.example', sub: 'alice' }).sub, defaultAccount({ iss: 'https://other.example', sub: 'alice' }).sub, 'alice']);
  expect(ids.size).toBe(3);
});
