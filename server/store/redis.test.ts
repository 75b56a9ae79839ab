// The Redis store: the shared conformance suite against a redis-server of its
// own (each test under its own key prefix), and what only Redis does: keys
// that expire by themselves.
import { expect, test } from '@playwright/test';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { startRedisServer, type TestRedis } from '../../test-support/redis-server';
import { POLICY, storeConformance } from './conformance';
import { openRedisStore } from './redis';

let redis: TestRedis;
test.beforeAll(async () => {
  redis = await startRedisServer();
});
test.afterAll(async () => {
  await redis?.stop();
});

for (const c of storeConformance(async () => {
  const prefix = `test:${randomUUID()}:`;
  return {
    open: () => openRedisStore({ url: redis.url, prefix }),
    dispose: async () => {},
  };
})) test(`redis store conformance: ${c.name}`, c.run);

// Without the per-process revocation cache every check asks Redis: the same answers.
for (const c of storeConformance(async () => {
  const prefix = `test:${randomUUID()}:`;
  return { open: () => openRedisStore({ url: redis.url, prefix, revocationCache: false }), dispose: async () => {} };
}).filter((c) => /revo/.test(c.name))) test(`redis store conformance, no revocation cache: ${c.name}`, c.run);

async function keysUnder(prefix: string): Promise<Map<string, number>> {
  const client = new Redis(redis.url);
  try {
    const keys = await client.keys(`${prefix}*`);
    return new Map(await Promise.all(keys.map(async (k) => [k, await client.pttl(k)] as const)));
  } finally {
    client.disconnect();
  }
}

test('every key expires no later than its family, whatever happened to it', async () => {
  const prefix = `test:${randomUUID()}:`;
  const store = await openRedisStore({ url: redis.url, prefix });
  const now = Date.now();
  await store.createFamily({ familyId: 'f1', userId: 'alice', tokenHash: 'h1', now }, POLICY);
  await store.createFamily({ familyId: 'f2', userId: 'alice', tokenHash: 'h2', now }, POLICY);
  await store.rotate('h1', 'h1b', now + 1, POLICY);
  await store.rotate('h1', 'h1b', now + 2, POLICY);
  await store.revokeFamilyOf('h2', now + 3, POLICY);
  await store.revokeUser('alice', now + 4, POLICY);
  const keys = await keysUnder(prefix);
  // Two families, three tokens, one user set, the access-token revocation list.
  expect(keys.size).toBe(7);
  for (const [key, ttl] of keys) {
    expect(ttl, key).toBeGreaterThan(0);
    expect(ttl, key).toBeLessThanOrEqual(POLICY.absoluteMs);
  }
  await store.close();
});

test('a family past its absolute lifetime is gone from Redis without any sweep', async () => {
  const prefix = `test:${randomUUID()}:`;
  const store = await openRedisStore({ url: redis.url, prefix });
  const policy = { ...POLICY, absoluteMs: 300 };
  const now = Date.now();
  await store.createFamily({ familyId: 'f', userId: 'alice', tokenHash: 'h', now }, policy);
  expect(await store.rotate('h', 'h2', now + 10, policy)).toMatchObject({ status: 'rotated' });
  expect((await keysUnder(prefix)).size).toBe(4);
  await expect.poll(async () => (await keysUnder(prefix)).size, { timeout: 3_000 }).toBe(0);
  expect(await store.rotate('h2', 'h3', now + 20, policy)).toEqual({ status: 'unknown' });
  await store.close();
});

test('a token rotated while the server clock ran ahead lives as long as its family: the clock stepped back finds it', async () => {
  const prefix = `test:${randomUUID()}:`;
  const store = await openRedisStore({ url: redis.url, prefix });
  const policy = { ...POLICY, idleMs: 60_000, absoluteMs: 60_000 };
  const now = Date.now();
  await store.createFamily({ familyId: 'f', userId: 'alice', tokenHash: 'h', now }, policy);
  // Rotated 59.5 s ahead of real time (a clock step), then the clock is set right again.
  expect(await store.rotate('h', 'h2', now + 59_500, policy)).toMatchObject({ status: 'rotated' });
  await new Promise((r) => setTimeout(r, 1_000));
  expect(await store.rotate('h2', 'h3', Date.now(), policy)).toMatchObject({ status: 'rotated' });
  const ttl = (await keysUnder(prefix)).get(`${prefix}t:h3`)!;
  expect(ttl).toBeGreaterThan(50_000);
  await store.close();
});

test('stores under different prefixes do not see each other', async () => {
  const [a, b] = await Promise.all([
    openRedisStore({ url: redis.url, prefix: `test:${randomUUID()}:` }),
    openRedisStore({ url: redis.url, prefix: `test:${randomUUID()}:` }),
  ]);
  await a.createFamily({ familyId: 'f', userId: 'alice', tokenHash: 'h', now: 0 }, POLICY);
  expect(await b.rotate('h', 'h2', 1, POLICY)).toEqual({ status: 'unknown' });
  expect(await b.revokeUser('alice', 1, POLICY)).toBe(0);
  expect(await a.rotate('h', 'h2', 1, POLICY)).toMatchObject({ status: 'rotated' });
  await Promise.all([a.close(), b.close()]);
});

test('an unreachable Redis is a clear error at startup, not a hang', async () => {
  const started = Date.now();
  await expect(openRedisStore({ url: 'redis://127.0.0.1:1', prefix: 'x:' })).rejects.toThrow(/Redis at redis:\/\/127\.0\.0\.1:1 cannot be reached/);
  expect(Date.now() - started).toBeLessThan(10_000);
});

test('a revocation cache whose subscriber connection was cut reloads the list: a revocation made meanwhile is refused', async () => {
  const prefix = `test:${randomUUID()}:`;
  const [a, b] = [await openRedisStore({ url: redis.url, prefix }), await openRedisStore({ url: redis.url, prefix })];
  await a.createFamily({ familyId: 'f', userId: 'alice', tokenHash: 'h', now: 0 }, POLICY);
  expect(await b.accessRevoked('f', 1)).toBe(false);
  const admin = new Redis(redis.url);
  try {
    // Every subscriber connection drops: a message published now reaches no one.
    await admin.client('KILL', 'TYPE', 'pubsub');
    expect(await a.revokeFamilyOf('h', 2, POLICY)).toBe('alice');
    expect(await b.accessRevoked('f', 3)).toBe(true);
    // And once reconnected, still (from the reloaded list, or Redis).
    await expect.poll(async () => (await admin.pubsub('NUMSUB', `${prefix}revoked`))[1], { timeout: 5_000 }).toBe(2);
    expect(await b.accessRevoked('f', 4)).toBe(true);
  } finally {
    admin.disconnect();
    await Promise.all([a.close(), b.close()]);
  }
});

test('a rotation that timed out while Redis hung is not applied when Redis resumes: the retry after the grace window rotates', async () => {
  const own = await startRedisServer();
  const store = await openRedisStore({ url: own.url, prefix: 'x:', onError: () => undefined });
  try {
    await store.createFamily({ familyId: 'f', userId: 'alice', tokenHash: 'h', now: 0 }, POLICY);
    own.pause();
    // The refresh is answered 503 (the store failed) and the browser keeps its token.
    await expect(store.rotate('h', 'h2', 1_000, POLICY)).rejects.toThrow(/timed out/);
    own.resume();
    await expect.poll(() => store.redis.ping(), { timeout: 5_000 }).toBe('PONG');
    // Without the deadline Redis ran it on resuming, and this retry (past the grace window) read as reuse.
    expect(await store.rotate('h', 'h2', 1_000 + POLICY.graceMs + 1, POLICY)).toMatchObject({ status: 'rotated' });
  } finally {
    own.resume();
    await store.close().catch(() => undefined);
    await own.stop();
  }
});

test('a Redis that went away: the revocation check fails (the API answers 503) instead of trusting the cache', async () => {
  const own = await startRedisServer();
  const store = await openRedisStore({ url: own.url, prefix: 'x:', onError: () => undefined });
  try {
    await store.createFamily({ familyId: 'f', userId: 'alice', tokenHash: 'h', now: 0 }, POLICY);
    expect(await store.accessRevoked('f', 1)).toBe(false);
    await own.stop();
    await expect.poll(() => store.accessRevoked('f', 2).then(() => 'answered', () => 'failed'), { timeout: 10_000 }).toBe('failed');
  } finally {
    store.redis.disconnect();
    await store.close().catch(() => undefined);
    await own.stop();
  }
});
