// Servers on STORE=redis: the store and the rate limits live in the shared
// Redis, under the configured prefix.
import { expect, test } from '@playwright/test';
import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { buildServer, type BrokerServer } from './app';
import type { Settings } from './settings';
import { BEARER_TEST_SETTINGS } from './test-settings';
import { startRedisServer, type TestRedis } from '../test-support/redis-server';

const SAME_ORIGIN = { 'x-token-broker': '1', 'sec-fetch-site': 'same-origin' };

let redis: TestRedis;
test.beforeAll(async () => {
  redis = await startRedisServer();
});
test.afterAll(async () => {
  await redis?.stop();
});

const servers: BrokerServer[] = [];
test.afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.app.close()));
});

async function instances(n: number, overrides: Partial<Settings> = {}): Promise<BrokerServer[]> {
  const shared: Settings = {
    ...BEARER_TEST_SETTINGS,
    store: 'redis',
    redisUrl: redis.url,
    redisPrefix: `test:${randomUUID()}:`,
    refreshSecret: randomBytes(32).toString('base64url'),
    logLevel: 'silent',
    ...overrides,
  };
  for (let i = 0; i < n; i++) servers.push(await buildServer(shared));
  return servers.slice(-n);
}

function login(server: BrokerServer, username: string, password: string) {
  return server.app.inject({ method: 'POST', url: '/auth/login', headers: SAME_ORIGIN, remoteAddress: '10.9.0.1', payload: { username, password } });
}

test('login and refresh work on STORE=redis, keeping its keys, rate-limit counters included, under REDIS_PREFIX', async () => {
  const [server] = (await instances(1)) as [BrokerServer];
  const res = await login(server, 'alice', 'wonderland');
  expect(res.statusCode).toBe(200);
  const cookie = res.cookies.find((c) => c.name === '__Host-Http-broker_rt')!.value;
  const refreshed = await server.app.inject({ method: 'POST', url: '/auth/refresh', headers: SAME_ORIGIN, cookies: { '__Host-Http-broker_rt': cookie } });
  expect(refreshed.statusCode).toBe(200);
  const client = new Redis(redis.url);
  try {
    const keys = await client.keys('*');
    const ours = keys.filter((k) => k.startsWith(server.settings.redisPrefix));
    // A family, two tokens, the user's set and the per-IP counters of both routes at least.
    expect(ours.length).toBeGreaterThanOrEqual(5);
    expect(ours.some((k) => k.startsWith(`${server.settings.redisPrefix}rate-limit:`))).toBe(true);
  } finally {
    client.disconnect();
  }
});

test('300 concurrent guesses spread over two instances on one Redis: only the limit is checked', async () => {
  const [a, b] = (await instances(2, { loginAccountRateLimit: 10, authRateLimit: 10_000 })) as [BrokerServer, BrokerServer];
  const burst = Array.from({ length: 300 }, (_, i) => login(i % 2 ? a : b, 'alice', i === 150 ? 'wonderland' : 'wrong'));
  const statuses = (await Promise.all(burst)).map((r) => r.statusCode);
  expect(a.stats.passwordChecks + b.stats.passwordChecks).toBe(10);
  expect(statuses.filter((s) => s === 429)).toHaveLength(290);
  expect(a.stats.login + b.stats.login).toBe(0);
});

test('instances on one Redis share the per-account limit on failed logins', async () => {
  const [a, b] = (await instances(2, { loginAccountRateLimit: 2 })) as [BrokerServer, BrokerServer];
  expect((await login(a, 'alice', 'wrong')).statusCode).toBe(401);
  expect((await login(b, 'alice', 'wrong')).statusCode).toBe(401);
  expect((await login(a, 'alice', 'wonderland')).statusCode).toBe(429);
  expect((await login(b, 'alice', 'wonderland')).statusCode).toBe(429);
});
