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
