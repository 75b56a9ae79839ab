import { expect, test } from '@playwright/test';
import { resolveConfig } from './config';
import { classifyRequest } from './request-rules';

const ORIGIN = 'http://127.0.0.1:8080';
const config = resolveConfig({}, ORIGIN);
const kind = (url: string, mode: RequestMode = 'cors') => classifyRequest(url, mode, ORIGIN, config);

test('same-origin API requests get the token', () => {
  expect(kind(`${ORIGIN}/api/me`)).toBe('api');
  expect(kind(`${ORIGIN}/api/me`, 'same-origin')).toBe('api');
  expect(kind(`${ORIGIN}/api/items?x=/auth/refresh`)).toBe('api');
});

test('other origins, navigations, no-cors and other paths do not', () => {
  expect(kind('http://127.0.0.1:9999/api/me')).toBe('pass');
  expect(kind('http://localhost:8080/api/me')).toBe('pass');
  expect(kind('http://127.0.0.1:8080.evil.test/api/me')).toBe('pass');
  expect(kind(`${ORIGIN}/api/me`, 'navigate')).toBe('pass');
  expect(kind(`${ORIGIN}/api/me`, 'no-cors')).toBe('pass');
  expect(kind(`${ORIGIN}/apix`)).toBe('pass');
  expect(kind(`${ORIGIN}/api%2Fme`)).toBe('pass');
  expect(kind(`${ORIGIN}/api/../public/x`)).toBe('pass');
  expect(kind(`${ORIGIN}/api/%2e%2e/public/x`)).toBe('pass');
  expect(kind(`${ORIGIN}/index.html`)).toBe('pass');
  expect(kind('not a url')).toBe('pass');
});

test('token endpoints are reserved for every request but a navigation', () => {
  expect(kind(`${ORIGIN}/auth/login`, 'navigate')).toBe('pass');
  for (const mode of ['cors', 'no-cors', 'same-origin'] as RequestMode[]) {
    expect(kind(`${ORIGIN}/auth/refresh`, mode)).toBe('endpoint');
    expect(kind(`${ORIGIN}/auth/login?x=1`, mode)).toBe('endpoint');
    expect(kind(`${ORIGIN}/x/../auth/logout`, mode)).toBe('endpoint');
  }
  // Spellings a server may route to the same handler.
  for (const path of ['/auth/%72efresh', '/auth//refresh', '/auth/refresh/', '/AUTH/Refresh', '//auth/login']) {
    expect(kind(`${ORIGIN}${path}`), path).toBe('endpoint');
  }
  expect(kind(`${ORIGIN}/auth/refresher`)).toBe('pass');
  expect(kind('http://127.0.0.1:9999/auth/refresh')).toBe('pass');
});
