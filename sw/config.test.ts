import { expect, test } from '@playwright/test';
import { ConfigError, DEFAULT_CONFIG, pathMatchesPrefix, resolveConfig } from './config';

const ORIGIN = 'http://127.0.0.1:8080';

function errorOf(input: unknown): ConfigError {
  try {
    resolveConfig(input, ORIGIN);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

test('defaults when nothing is given', () => {
  expect(resolveConfig(undefined, ORIGIN)).toEqual(DEFAULT_CONFIG);
  expect(resolveConfig({}, ORIGIN).apiPrefixes).toEqual(['/api/']);
});

test('unknown keys are named in the error', () => {
  expect(errorOf({ apiPrefix: ['/api/'] }).key).toBe('apiPrefix');
  expect(errorOf({ endpoints: { signin: '/x' } }).key).toBe('endpoints.signin');
  expect(errorOf({ fields: { token: 'x' } }).message).toContain('fields.token');
});

test('cross-origin and non-path prefixes and endpoints are refused', () => {
  expect(errorOf({ apiPrefixes: ['https://evil.example/api/'] }).key).toBe('apiPrefixes[0]');
  expect(errorOf({ apiPrefixes: ['//evil.example/api/'] }).key).toBe('apiPrefixes[0]');
  expect(errorOf({ apiPrefixes: ['api/'] }).key).toBe('apiPrefixes[0]');
  expect(errorOf({ apiPrefixes: ['/'] }).key).toBe('apiPrefixes[0]');
  expect(errorOf({ apiPrefixes: [] }).key).toBe('apiPrefixes');
  expect(errorOf({ endpoints: { refresh: 'http://other:1/auth/refresh' } }).key).toBe('endpoints.refresh');
  expect(errorOf({ endpoints: { login: '/auth/login?x=1' } }).key).toBe('endpoints.login');
});

test('paths are normalised so dot segments cannot hide the real path', () => {
  expect(resolveConfig({ apiPrefixes: ['/v1/../api/'] }, ORIGIN).apiPrefixes).toEqual(['/api/']);
  expect(resolveConfig({ apiPrefixes: ['/a/%2e%2e/api/'] }, ORIGIN).apiPrefixes).toEqual(['/api/']);
});

test('a token endpoint under an API prefix is refused', () => {
  expect(errorOf({ apiPrefixes: ['/auth/'] }).key).toBe('endpoints');
});

test('DPoP is off unless asked for, so bearer-only backends keep working', () => {
  expect(resolveConfig({}, ORIGIN).dpop).toBe(false);
  expect(resolveConfig({ dpop: true }, ORIGIN).dpop).toBe(true);
});

test('value types are checked', () => {
  expect(errorOf({ refreshBeforeExpiry: -1 }).key).toBe('refreshBeforeExpiry');
  expect(errorOf({ refreshBeforeExpiry: '30' }).key).toBe('refreshBeforeExpiry');
  expect(errorOf({ persist: 'localStorage' }).key).toBe('persist');
  expect(errorOf({ exposeClaims: 'sub' }).key).toBe('exposeClaims');
  expect(errorOf({ renewHeader: 'bad header' }).key).toBe('renewHeader');
  expect(errorOf({ takeControl: 'yes' }).key).toBe('takeControl');
  expect(errorOf({ dpop: 'true' }).key).toBe('dpop');
  expect(errorOf([]).key).toBe('config');
});

test('prefix matching respects segment boundaries', () => {
  expect(pathMatchesPrefix('/api/x', '/api/')).toBe(true);
  expect(pathMatchesPrefix('/api', '/api/')).toBe(true);
  expect(pathMatchesPrefix('/apix', '/api/')).toBe(false);
  expect(pathMatchesPrefix('/apix/y', '/api')).toBe(false);
  expect(pathMatchesPrefix('/api%2Fx', '/api/')).toBe(false);
  expect(pathMatchesPrefix('/v2/api/x', '/api/')).toBe(false);
});

test('apiOrigins: off by default; any spelling of an origin resolves to its serialisation', () => {
  expect(resolveConfig({}, ORIGIN).apiOrigins).toEqual([]);
  const one = (origin: string) => resolveConfig({ apiOrigins: [{ origin, prefixes: ['/v1/'] }] }, ORIGIN).apiOrigins[0]!.origin;
  expect(one('https://API.Example.com')).toBe('https://api.example.com');
  expect(one('https://api.example.com:443/')).toBe('https://api.example.com');
  expect(one('https://bücher.example')).toBe('https://xn--bcher-kva.example');
  expect(one('http://localhost:9000')).toBe('http://localhost:9000');
  expect(one('http://127.0.0.1:9000')).toBe('http://127.0.0.1:9000');
  expect(one('http://[::1]:9000')).toBe('http://[::1]:9000');
  expect(resolveConfig({ apiOrigins: [{ origin: 'https://api.example.com', prefixes: ['/v1/../v2/'] }] }, ORIGIN).apiOrigins[0]!.prefixes).toEqual(['/v2/']);
});

test('apiOrigins: only exact https origins (http on loopback), with narrower prefixes on that origin', () => {
  const bad = (origin: unknown, prefixes: unknown = ['/v1/']) => errorOf({ apiOrigins: [{ origin, prefixes }] }).key;
  expect(bad('http://api.example.com')).toBe('apiOrigins[0].origin');
  expect(bad('http://127.0.0.2:9000')).toBe('apiOrigins[0].origin');
  expect(bad('http://localhost.evil.test')).toBe('apiOrigins[0].origin');
  expect(bad('ftp://api.example.com')).toBe('apiOrigins[0].origin');
  expect(bad('api.example.com')).toBe('apiOrigins[0].origin');
  expect(bad('https://*.example.com')).toBe('apiOrigins[0].origin');
  expect(bad('https://user:pw@api.example.com')).toBe('apiOrigins[0].origin');
  expect(bad('https://user@api.example.com')).toBe('apiOrigins[0].origin');
  expect(bad('https://api.example.com/v1/')).toBe('apiOrigins[0].origin');
  expect(bad('https://api.example.com?')).toBe('apiOrigins[0].origin');
  expect(bad('https://api.example.com#')).toBe('apiOrigins[0].origin');
  expect(bad(ORIGIN)).toBe('apiOrigins[0].origin');
  expect(bad(42)).toBe('apiOrigins[0].origin');
  expect(bad('https://api.example.com', [])).toBe('apiOrigins[0].prefixes');
  expect(bad('https://api.example.com', ['/'])).toBe('apiOrigins[0].prefixes[0]');
  expect(bad('https://api.example.com', ['https://evil.example/v1/'])).toBe('apiOrigins[0].prefixes[0]');
  expect(bad('https://api.example.com', ['//evil.example/v1/'])).toBe('apiOrigins[0].prefixes[0]');
  expect(errorOf({ apiOrigins: [{ origin: 'https://api.example.com', prefixes: ['/v1/'], credentials: 'include' }] }).key).toBe('apiOrigins[0].credentials');
  expect(errorOf({ apiOrigins: ['https://api.example.com/v1/'] }).key).toBe('apiOrigins[0]');
  expect(errorOf({ apiOrigins: {} }).key).toBe('apiOrigins');
});
