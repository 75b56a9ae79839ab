// The passkey stores: the conformance suite on memory, SQLite (a file two connections share) and Redis.
import { test } from '@playwright/test';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startRedisServer, type TestRedis } from '../../test-support/redis-server';
import { passkeyStoreConformance } from './conformance';
import { redisPasskeyStore } from './redis-store';
import { sqlitePasskeyStore } from './sqlite-store';
import { memoryPasskeyStore } from './store';

for (const c of passkeyStoreConformance(async () => {
  // One map behind two handles: as two instances over one backend.
  const shared = memoryPasskeyStore();
  return { open: async () => ({ ...shared, close: async () => {} }), dispose: async () => shared.close() };
})) test(`memory passkey store: ${c.name}`, c.run);

for (const c of passkeyStoreConformance(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'broker-passkeys-'));
  return { open: async () => sqlitePasskeyStore(join(dir, 'passkeys.sqlite')), dispose: async () => rmSync(dir, { recursive: true, force: true }) };
})) test(`sqlite passkey store: ${c.name}`, c.run);

test.describe('redis', () => {
  let redis: TestRedis;
  test.beforeAll(async () => {
    redis = await startRedisServer();
  });
  test.afterAll(async () => {
    await redis?.stop();
  });
  for (const c of passkeyStoreConformance(async () => {
    const prefix = `test:${randomUUID()}:`;
    const clients: Redis[] = [];
    return {
      open: async () => {
        const client = new Redis(redis.url);
        clients.push(client);
        return redisPasskeyStore(client, prefix);
      },
      dispose: async () => void (await Promise.all(clients.map((c) => c.quit()))),
    };
  })) test(`redis passkey store: ${c.name}`, c.run);
});
