import { expect, test } from '@playwright/test';
import { OptionError } from '../core/errors';
import { checkRequirement, meetsRequirement } from './requirement';
import { stepUpRequired } from './challenge';

const NOW = 1_800_000_000;

test('maxAge: a sign-in older than the limit fails, one at the limit passes', () => {
  expect(meetsRequirement({ auth_time: NOW - 300 }, { maxAge: 300 }, NOW)).toBe(true);
  expect(meetsRequirement({ auth_time: NOW - 301 }, { maxAge: 300 }, NOW)).toBe(false);
});

test('maxAge: a token without a usable auth_time fails', () => {
  for (const auth_time of [undefined, '1800000000', NaN, null]) expect(meetsRequirement({ auth_time }, { maxAge: 300 }, NOW)).toBe(false);
});

test('acrValues: the acr must be one of them', () => {
  expect(meetsRequirement({ acr: 'phr' }, { acrValues: ['phr'] }, NOW)).toBe(true);
  expect(meetsRequirement({ acr: 'pwd' }, { acrValues: ['phr'] }, NOW)).toBe(false);
  expect(meetsRequirement({}, { acrValues: ['phr'] }, NOW)).toBe(false);
});

test('both asks must hold', () => {
  const r = { maxAge: 60, acrValues: ['phr'] };
  expect(meetsRequirement({ auth_time: NOW, acr: 'phr' }, r, NOW)).toBe(true);
  expect(meetsRequirement({ auth_time: NOW - 61, acr: 'phr' }, r, NOW)).toBe(false);
  expect(meetsRequirement({ auth_time: NOW, acr: 'pwd' }, r, NOW)).toBe(false);
});

test('a route setting that cannot work is refused when the route is set up', () => {
  expect(() => checkRequirement('stepUp', {})).toThrow(OptionError);
  expect(() => checkRequirement('stepUp', { maxAge: -1 })).toThrow(/maxAge/);
  expect(() => checkRequirement('stepUp', { maxAge: 1.5 })).toThrow(/maxAge/);
  expect(() => checkRequirement('stepUp', { acrValues: [] })).toThrow(/acrValues/);
  expect(() => checkRequirement('stepUp', { acrValues: ['a b'] })).toThrow(/acrValues/);
  expect(() => checkRequirement('stepUp', { acrValues: ['a"'] })).toThrow(/acrValues/);
  expect(checkRequirement('stepUp', { maxAge: 0 })).toEqual({ maxAge: 0 });
});

test('the refusal is a 401 with a stable code and the RFC 9470 challenge', () => {
  const res = stepUpRequired('Bearer', { maxAge: 300, acrValues: ['phr'] });
  expect(res.status).toBe(401);
  expect(res.headers['www-authenticate']).toBe('Bearer error="insufficient_user_authentication", error_description="A more recent or stronger authentication is required", acr_values="phr", max_age="300"');
  expect((res.body as { error: string }).error).toBe('insufficient_user_authentication');
});
