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
  // Encoded separators and dots survive URL parsing; a proxy that decodes them routes outside the prefix.
  for (const p of ['/api/..%2Fadmin', '/api/%2e%2e%2fadmin', '/api/..%5cadmin', '/api/x%2E%2E/y']) expect(kind(`${ORIGIN}${p}`)).toBe('pass');
  expect(kind(`${ORIGIN}/index.html`)).toBe('pass');
  expect(kind('not a url')).toBe('pass');
});

test('token endpoints are reserved for every request but a navigation', () => {
  expect(kind(`${ORIGIN}/auth/login`, 'navigate')).toBe('pass');
  for (const mode of ['cors', 'no-cors', 'same-origin'] as RequestMode[]) {
    expect(kind(`${ORIGIN}/auth/refresh`, mode)).toBe('endpoint');
    expect(kind(`${ORIGIN}/auth/login?x=1`, mode)).toBe('endpoint');
    expect(kind(`${ORIGIN}/x/../auth/logout`, mode)).toBe('endpoint');
    // The redirect sign-in's start: only the worker's own POST (or a navigation) may reach it.
    expect(kind(`${ORIGIN}/auth/oidc/start`, mode)).toBe('endpoint');
  }
  expect(kind(`${ORIGIN}/auth/oidc/start`, 'navigate')).toBe('pass');
  // Spellings a server may route to the same handler.
  for (const path of ['/auth/%72efresh', '/auth//refresh', '/auth/refresh/', '/AUTH/Refresh', '//auth/login']) {
    expect(kind(`${ORIGIN}${path}`), path).toBe('endpoint');
  }
  expect(kind(`${ORIGIN}/auth/refresher`)).toBe('pass');
  expect(kind('http://127.0.0.1:9999/auth/refresh')).toBe('pass');
});

test('an API on another origin gets the token in CORS requests under its prefixes, and nowhere else', () => {
  const API = 'https://api.example.com';
  const withApi = resolveConfig({ apiOrigins: [{ origin: 'https://API.example.com:443', prefixes: ['/v1/'] }] }, ORIGIN);
  const k = (url: string, mode: RequestMode = 'cors') => classifyRequest(url, mode, ORIGIN, withApi);
  expect(k(`${API}/v1/me`)).toBe('api');
  expect(k(`${API}:443/v1/me?x=1`)).toBe('api');
  expect(k(`${API}/v1`)).toBe('api');
  // Not CORS: the API's server has no say on who reads the response, or the browser shows it as a page.
  expect(k(`${API}/v1/me`, 'no-cors')).toBe('pass');
  expect(k(`${API}/v1/me`, 'navigate')).toBe('pass');
  expect(k(`${API}/v1/me`, 'same-origin')).toBe('pass');
  // Other paths, origins and spellings.
  expect(k(`${API}/v2/me`)).toBe('pass');
  expect(k(`${API}/v1x`)).toBe('pass');
  expect(k(`${API}/v1/../admin`)).toBe('pass');
  expect(k(`${API}/v1/%2e%2e/admin`)).toBe('pass');
  expect(k(`${API}/v1/..%2Fadmin`)).toBe('pass');
  expect(k(`${API}/v1/..%5Cadmin`)).toBe('pass');
  expect(k('http://api.example.com/v1/me')).toBe('pass');
  expect(k('https://api.example.com:8443/v1/me')).toBe('pass');
  expect(k('https://api.example.com.evil.test/v1/me')).toBe('pass');
  expect(k('https://evil.api.example.com/v1/me')).toBe('pass');
  // Same-origin rules are unchanged: the other origin's prefixes do not apply here.
  expect(k(`${ORIGIN}/v1/me`)).toBe('pass');
  expect(k(`${ORIGIN}/api/me`)).toBe('api');
  // Without apiOrigins, the same URL passes.
  expect(kind(`${API}/v1/me`)).toBe('pass');
});
