import { expect, test } from '@playwright/test';
import { readStepUpChallenge } from './read-challenge';
import { stepUpChallenge } from '../../server/step-up/challenge';

test('reads back what the server writes', () => {
  expect(readStepUpChallenge(stepUpChallenge('Bearer', { maxAge: 300 }))).toEqual({ maxAge: 300 });
  expect(readStepUpChallenge(stepUpChallenge('DPoP', { acrValues: ['phr', 'pwd'], maxAge: 0 }))).toEqual({ maxAge: 0, acrValues: ['phr', 'pwd'] });
});

test('other challenges are not a step-up: the worker may refresh on them', () => {
  expect(readStepUpChallenge(null)).toBeNull();
  expect(readStepUpChallenge('Bearer error="invalid_token"')).toBeNull();
  expect(readStepUpChallenge('Bearer error="invalid_token", DPoP algs="ES256"')).toBeNull();
  expect(readStepUpChallenge('Bearer realm="insufficient_user_authentication"')).toBeNull();
});

test('a malformed max_age is dropped, the challenge still counts (no refresh)', () => {
  expect(readStepUpChallenge('Bearer error="insufficient_user_authentication", max_age="-1"')).toEqual({});
  expect(readStepUpChallenge('Bearer error=insufficient_user_authentication, max_age=60')).toEqual({ maxAge: 60 });
});
