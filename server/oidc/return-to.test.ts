import { expect, test } from '@playwright/test';
import { sameOriginPath, withParam } from './return-to';

const ORIGIN = 'http://app.test';

test('a same-origin path is kept, with its query and fragment', () => {
  expect(sameOriginPath('/orders?id=3#top', ORIGIN)).toBe('/orders?id=3#top');
  expect(sameOriginPath('/', ORIGIN)).toBe('/');
});

test('other origins, protocol-relative and backslash forms, schemes and control characters are refused', () => {
  for (const bad of ['https://evil.test/', '//evil.test/x', '/\\evil.test', 'javascript:alert(1)', 'orders', '/\tx', '', '/a\n//evil.test']) {
    expect(sameOriginPath(bad, ORIGIN), bad).toBeNull();
  }
});

test('a path that only becomes protocol-relative once its dot segments collapse is refused', () => {
  for (const bad of ['/.//evil.test', '/..//evil.test', '/%2e//evil.test', '/%2E%2E//evil.test', '/./\\evil.test', '/a/..//evil.test']) {
    expect(sameOriginPath(bad, ORIGIN), bad).toBeNull();
  }
  expect(sameOriginPath('/a/../b', ORIGIN)).toBe('/b');
});

test('the sign-in marker is added before the fragment and replaces one already there', () => {
  expect(withParam('/a?b=1#c', 'broker_signin', '1')).toBe('/a?b=1&broker_signin=1#c');
  expect(withParam('/a?broker_signin=0', 'broker_signin', '1')).toBe('/a?broker_signin=1');
});
