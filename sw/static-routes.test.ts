import { expect, test } from '@playwright/test';
import { resolveConfig } from './config';
import { workerPathPatterns } from './static-routes';

test('the worker keeps every API path and the token endpoints; special characters are literal', () => {
  const config = resolveConfig({ apiPrefixes: ['/api/', '/v2(beta)'], endpoints: { refresh: '/session/refresh' } }, 'http://127.0.0.1:1');
  expect(workerPathPatterns(config)).toEqual([
    '/api',
    '/api/*',
    '/v2\\(beta\\)',
    '/v2\\(beta\\)/*',
    '/auth/*',
    '/session/*',
    '/auth/*',
  ]);
});
