import { expect, test } from '@playwright/test';
import { MAX_CREDENTIALS_BYTES, validateMessage } from './validate-message';

test('well-formed requests pass', () => {
  expect(validateMessage({ type: 'broker:status' })).toEqual({ kind: 'request', request: { type: 'broker:status' } });
  expect(validateMessage({ type: 'broker:login', credentials: { username: 'a', password: 'b' } })).toEqual({
    kind: 'request',
    request: { type: 'broker:login', credentials: { username: 'a', password: 'b' } },
  });
});

test("other libraries' messages are left alone", () => {
  for (const data of [null, undefined, 42, 'broker:status', [], { type: 'SKIP_WAITING' }, { kind: 'broker:login' }, { type: 7 }]) {
    expect(validateMessage(data)).toEqual({ kind: 'foreign' });
  }
});

test('malformed broker messages get bad_request', () => {
  const cases: unknown[] = [
    { type: 'broker:nope' },
    { type: 'broker:login' },
    { type: 'broker:login', credentials: 'alice:pw' },
    { type: 'broker:login', credentials: ['a'] },
    { type: 'broker:login', credentials: new Date() },
    { type: 'broker:status', extra: 1 },
    { type: 'broker:logout', credentials: {} },
    { type: 'broker:login', credentials: { big: 'x'.repeat(MAX_CREDENTIALS_BYTES) } },
    { type: 'broker:login', credentials: { n: 10n } },
  ];
  for (const data of cases) {
    const r = validateMessage(data);
    expect(r.kind, JSON.stringify(data, (_, v: unknown) => (typeof v === 'bigint' ? 'bigint' : v))?.slice(0, 80)).toBe('invalid');
    if (r.kind === 'invalid') expect(r.error.code).toBe('bad_request');
  }
});

test('a cyclic credentials object is refused, not thrown', () => {
  const credentials: Record<string, unknown> = {};
  credentials.self = credentials;
  expect(validateMessage({ type: 'broker:login', credentials }).kind).toBe('invalid');
});
