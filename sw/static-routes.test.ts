import { expect, test } from '@playwright/test';
import { resolveConfig } from './config';
import { staticCondition, workerPathPatterns } from './static-routes';

test('the worker keeps every API path and the token endpoints; special characters are literal', () => {
  const config = resolveConfig({ apiPrefixes: ['/api/', '/v2(beta)'], endpoints: { refresh: '/session/refresh' } }, 'http://127.0.0.1:1');
  expect(workerPathPatterns(config)).toEqual([
    '/api',
    '/api/*',
    '/v2\\(beta\\)',
    '/v2\\(beta\\)/*',
    '/auth/passkey',
    '/auth/passkey/*',
    '/auth/*',
    '/session/*',
    '/auth/*',
  ]);
});

test('only GET requests outside the worker patterns may skip the worker: a POST to any spelling of an endpoint reaches it', () => {
  expect(staticCondition(['p1', 'p2'])).toEqual({
    not: { or: [{ not: { requestMethod: 'GET' } }, { urlPattern: 'p1' }, { urlPattern: 'p2' }] },
  });
});

test('the prefixes of APIs on other origins reach the worker too', () => {
  const config = resolveConfig({ apiOrigins: [{ origin: 'https://api.example.com', prefixes: ['/v1/', '/api/'] }] }, 'http://127.0.0.1:1');
  expect(workerPathPatterns(config)).toEqual(['/api', '/api/*', '/v1', '/v1/*', '/auth/passkey', '/auth/passkey/*', '/auth/*', '/auth/*', '/auth/*']);
});
