import { expect, test } from '@playwright/test';
import { cookieCount, cookieValues } from './cookie-tossing';

test('counts every cookie of the name, whatever its value or spacing', () => {
  expect(cookieCount(undefined, 'rt')).toBe(0);
  expect(cookieCount('a=1; b=2', 'rt')).toBe(0);
  expect(cookieCount('rt=x', 'rt')).toBe(1);
  expect(cookieCount('rt=attacker; a=1;rt=victim', 'rt')).toBe(2);
  expect(cookieCount('rt=; rt', 'rt')).toBe(2);
  // Prefixes and look-alike names are other cookies.
  expect(cookieCount('__Secure-rt=x; rtx=y; xrt=z', 'rt')).toBe(0);
});

test('gives every value of the name, so a logout can revoke each family a request names', () => {
  expect(cookieValues(undefined, 'rt')).toEqual([]);
  expect(cookieValues('rt=attacker; a=1;rt=victim', 'rt')).toEqual(['attacker', 'victim']);
  expect(cookieValues('__Secure-rt=x; rtx=y; rt=%41', 'rt')).toEqual(['A']);
});
