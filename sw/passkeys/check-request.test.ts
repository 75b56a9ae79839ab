import { expect, test } from '@playwright/test';
import { checkPasskeyRequest, MAX_RESPONSE_BYTES } from './check-request';

test('a known step; a response object exactly on the steps that answer, of bounded size', () => {
  expect(checkPasskeyRequest('step-up-options', undefined)).toEqual({ step: 'step-up-options' });
  expect(checkPasskeyRequest('step-up', { id: 'x' })).toEqual({ step: 'step-up', response: { id: 'x' } });
  expect(checkPasskeyRequest('list', undefined)).toEqual({ step: 'list' });
  expect(checkPasskeyRequest('remove', { id: 'x' })).toEqual({ step: 'remove', response: { id: 'x' } });
  for (const [step, response] of [
    ['nope', undefined],
    [undefined, undefined],
    ['step-up', undefined],
    ['step-up', 'x'],
    ['step-up', [1]],
    ['register', { big: 'x'.repeat(MAX_RESPONSE_BYTES) }],
    ['step-up-options', { id: 'x' }],
    ['list', { id: 'x' }],
    ['remove', undefined],
  ] as const) {
    expect(checkPasskeyRequest(step, response), `${String(step)} ${JSON.stringify(response)?.slice(0, 20)}`).toMatchObject({ code: 'bad_request' });
  }
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  expect(checkPasskeyRequest('register', cyclic)).toMatchObject({ code: 'bad_request' });
});
