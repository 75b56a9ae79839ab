// A Redis outage under a running server: the token endpoints answer 503 with
// Retry-After (never a 500, never a hang), so do API routes (the revocation
// check fails closed: it cannot say whether a token was revoked on another
// instance meanwhile), and once Redis is back, on the append-only file the README asks for,
// every session is still there.
import { expect, test } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildServer, type BrokerServer } from './app';
import { BEARER_TEST_SETTINGS } from './test-settings';
import { startRedisServer, type TestRedis } from '../test-support/redis-server';

const SAME_ORIGIN = { 'x-token-broker': '1', 'sec-fetch-site': 'same-origin' };

let redis: TestRedis;
let dir: string;
let server: BrokerServer;

test.beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'broker-redis-'));
  redis = await startRedisServer({ persistDir: dir });
  server = await buildServer({
    ...BEARER_TEST_SETTINGS,
    store: 'redis',
    redisUrl: redis.url,
    redisPrefix: `test:${randomUUID()}:`,
    refreshSecret: randomBytes(32).toString('base64url'),
  });
});
test.afterEach(async () => {
  await server.app.close();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function signIn(): Promise<{ name: string; value: string; token: string }> {
  const res = await server.app.inject({ method: 'POST', url: '/auth/login', headers: SAME_ORIGIN, payload: { username: 'alice', password: 'wonderland' } });
  expect(res.statusCode).toBe(200);
  const cookie = res.cookies.find((c) => c.name.endsWith('broker_rt'))!;
  return { name: cookie.name, value: cookie.value, token: res.json<{ access_token: string }>().access_token };
}

function refresh(cookie: { name: string; value: string }) {
  return server.app.inject({ method: 'POST', url: '/auth/refresh', headers: SAME_ORIGIN, cookies: { [cookie.name]: cookie.value } });
}

for (const [outage, stop, start] of [
  ['killed', (r: TestRedis) => r.kill(), (r: TestRedis) => r.restart()],
  ['hanging with its connections open', (r: TestRedis) => Promise.resolve(r.pause()), (r: TestRedis) => Promise.resolve(r.resume())],
] as const) {
  test(`Redis ${outage}: refresh and login answer 503 with Retry-After within 3 s; afterwards the session refreshes as before`, async () => {
    const cookie = await signIn();
    await stop(redis);
    for (const call of [
      () => refresh(cookie),
      () => server.app.inject({ method: 'POST', url: '/auth/login', headers: SAME_ORIGIN, payload: { username: 'alice', password: 'wonderland' } }),
    ]) {
      const started = Date.now();
      const res = await call();
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ error: 'unavailable' });
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      // The cookie is left alone: the session is not the client's to end over an outage.
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    expect(server.stats.backingUnavailable).toBe(2);
    // An API route cannot tell whether the token was revoked meanwhile (on another instance): it fails closed
    // with the same 503, once the revocation cache is known to be incomplete (at once for a lost connection,
    // within 3 s for one that hangs).
    const api = () => server.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${cookie.token}` } });
    await expect.poll(async () => (await api()).statusCode, { timeout: 10_000 }).toBe(503);
    const refused = await api();
    expect({ body: refused.json(), retryAfter: Number(refused.headers['retry-after']) >= 1 }).toEqual({
      body: { error: 'unavailable', message: expect.any(String) },
      retryAfter: true,
    });
    await start(redis);
    await expect.poll(async () => (await refresh(cookie)).statusCode, { timeout: 10_000 }).toBe(200);
    // Back once Redis is: the cache reloaded the list (the token was never revoked, so the route answers).
    await expect.poll(async () => (await api()).statusCode, { timeout: 10_000 }).toBe(200);
  });
}

test('Redis restarted on its append-only file: a session rotated just before the crash refreshes after it', async () => {
  let cookie: { name: string; value: string } = await signIn();
  const rotated = await refresh(cookie);
  expect(rotated.statusCode).toBe(200);
  cookie = rotated.cookies.find((c) => c.name === cookie.name)!;
  await redis.kill();
  await redis.restart();
  await expect.poll(async () => (await refresh(cookie)).statusCode, { timeout: 10_000 }).toBe(200);
});
