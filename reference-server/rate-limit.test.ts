// Login is limited per IP and per account, through app.inject with chosen
// client addresses.
import { expect, test } from '@playwright/test';
import { buildServer, type BrokerServer } from './app';
import { BEARER_TEST_SETTINGS } from './test-settings';

const SAME_ORIGIN = { 'x-token-broker': '1', 'sec-fetch-site': 'same-origin' };

let server: BrokerServer;
test.afterEach(() => server.app.close());

function login(remoteAddress: string, username: string, password = 'wrong') {
  return server.app.inject({ method: 'POST', url: '/auth/login', headers: SAME_ORIGIN, remoteAddress, payload: { username, password } });
}

test('failed logins to one account from many addresses are limited; other accounts are not', async () => {
  server = await buildServer({ ...BEARER_TEST_SETTINGS, loginAccountRateLimit: 3, authRateLimit: 100 });
  for (let i = 1; i <= 3; i++) expect((await login(`10.0.0.${i}`, 'alice')).statusCode).toBe(401);
  const limited = await login('10.0.0.4', 'alice', 'wonderland');
  expect(limited.statusCode).toBe(429);
  expect(limited.json()).toMatchObject({ error: 'rate_limited' });
  expect(limited.headers['retry-after']).toBeDefined();
  expect((await login('10.0.0.4', 'bob', 'builder')).statusCode).toBe(200);
});

test('every attempt counts, a successful one too', async () => {
  server = await buildServer({ ...BEARER_TEST_SETTINGS, loginAccountRateLimit: 3, authRateLimit: 100 });
  expect((await login('10.0.3.1', 'alice', 'wonderland')).statusCode).toBe(200);
  expect((await login('10.0.3.1', 'alice')).statusCode).toBe(401);
  expect((await login('10.0.3.1', 'alice', 'wonderland')).statusCode).toBe(200);
  expect((await login('10.0.3.1', 'alice', 'wonderland')).statusCode).toBe(429);
  expect(server.stats.passwordChecks).toBe(3);
});

test('300 concurrent guesses at one account: the attempts are reserved before hashing, so only the limit is ever checked', async () => {
  server = await buildServer({ ...BEARER_TEST_SETTINGS, loginAccountRateLimit: 10, authRateLimit: 10_000 });
  // The right password hidden late in the burst.
  const burst = Array.from({ length: 300 }, (_, i) => login(`10.1.${i >> 8}.${i & 255}`, 'alice', i === 150 ? 'wonderland' : 'wrong'));
  const statuses = (await Promise.all(burst)).map((r) => r.statusCode);
  expect(server.stats.passwordChecks).toBe(10);
  expect(statuses.filter((s) => s === 401)).toHaveLength(10);
  expect(statuses.filter((s) => s === 429)).toHaveLength(290);
  expect(statuses[150]).toBe(429);
  expect(server.stats.login).toBe(0);
});

test('one address trying many accounts is limited by the per-IP limit', async () => {
  server = await buildServer({ ...BEARER_TEST_SETTINGS, loginAccountRateLimit: 100, authRateLimit: 3 });
  for (const user of ['u1', 'u2', 'u3']) expect((await login('10.0.1.1', user)).statusCode).toBe(401);
  expect((await login('10.0.1.1', 'u4')).statusCode).toBe(429);
  expect((await login('10.0.1.2', 'bob', 'builder')).statusCode).toBe(200);
});

test('requests refused as cross-site do not use up an account\'s attempts', async () => {
  server = await buildServer({ ...BEARER_TEST_SETTINGS, loginAccountRateLimit: 2, authRateLimit: 100 });
  for (let i = 0; i < 5; i++) {
    const res = await server.app.inject({
      method: 'POST',
      url: '/auth/login',
      headers: { 'x-token-broker': '1', 'sec-fetch-site': 'cross-site' },
      payload: { username: 'alice', password: 'x' },
    });
    expect(res.statusCode).toBe(403);
  }
  expect((await login('10.0.2.1', 'alice', 'wonderland')).statusCode).toBe(200);
});
