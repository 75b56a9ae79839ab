// The DPoP replay cache keeps a proof id as long as the proof could pass
// again. With long nonces (DPOP_NONCE_SECONDS 600: a nonce accepted for up to
// 20 minutes) a token-endpoint proof carrying one passes whatever its iat says,
// so its id must outlive the nonce, not a fixed four minutes.
import { expect, test } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { decodeJwt } from 'jose';
import { createTokenBroker, type TokenBrokerServer } from '../core/token-broker';
import type { BrokerHttpRequest } from '../core/http';
import { memoryJtiStore, type JtiStore } from '../store/jti';
import { memoryStore } from '../store/memory';
import { redisJtiStore } from '../store/redis';
import { openSqliteJtiStore } from '../store/sqlite';
import { newDpopKey, signProof } from '../../test-support/dpop-client';
import { startRedisServer } from '../../test-support/redis-server';

const ORIGIN = 'https://app.example.test';
const NONCE_SECONDS = 600;
const secret = randomBytes(32).toString('base64url');

/** A broker on the shared replay cache; its clock `aheadSeconds` on stands for time gone by (both agree on nonces through the secret). */
function broker(jti: JtiStore, aheadSeconds = 0): Promise<TokenBrokerServer> {
  return createTokenBroker({
    verifyCredentials: () => ({ sub: 'alice' }),
    store: memoryStore(),
    jti,
    refreshSecret: secret,
    cookieSecure: true,
    dpop: 'required',
    dpopNonceSeconds: NONCE_SECONDS,
    now: () => Date.now() + aheadSeconds * 1000,
  });
}

function loginRequest(proof: string): BrokerHttpRequest {
  return {
    method: 'POST',
    url: '/auth/login',
    origin: ORIGIN,
    headers: { 'x-token-broker': '1', 'sec-fetch-site': 'same-origin', dpop: proof },
    body: { username: 'alice', password: 'x' },
    ip: '127.0.0.1',
  };
}

async function firstLogin(now: TokenBrokerServer) {
  const key = await newDpopKey();
  const nonce = now.announce()['dpop-nonce']!;
  const proof = await signProof(key, { htm: 'POST', htu: `${ORIGIN}/auth/login`, nonce });
  const first = await now.login(loginRequest(proof));
  expect(first.status).toBe(200);
  return proof;
}

for (const [name, open] of [
  ['memory', () => memoryJtiStore()],
  ['SQLite', () => openSqliteJtiStore(':memory:')],
] as const) {
  test(`${name} replay cache: a login proof replayed 250 s later, while its ${NONCE_SECONDS} s nonce is still accepted, is refused`, async () => {
    const jti = open();
    const now = await broker(jti);
    const later = await broker(jti, 250);
    try {
      const proof = await firstLogin(now);
      const replay = await later.login(loginRequest(proof));
      expect(replay.status).toBe(400);
      expect(replay.body).toMatchObject({ error: 'invalid_dpop_proof', message: expect.stringContaining('jti') });
      // The nonce was still good: a fresh proof with it, made at the same moment, passes.
      const fresh = await signProof(await newDpopKey(), { htm: 'POST', htu: `${ORIGIN}/auth/login`, nonce: decodeJwt(proof).nonce as string });
      expect((await later.login(loginRequest(fresh))).status).toBe(200);
    } finally {
      await jti.close();
    }
  });
}

test(`Redis replay cache: a proof id is kept as long as its ${NONCE_SECONDS} s nonce can be accepted (twice that)`, async () => {
  const server = await startRedisServer();
  const prefix = `test:${randomBytes(6).toString('hex')}:`;
  const client = new Redis(server.url);
  try {
    await firstLogin(await broker(redisJtiStore(client, prefix)));
    const keys = await client.keys(`${prefix}jti:*`);
    expect(keys).toHaveLength(1);
    // Redis expires the entry itself, by its own clock: the TTL it was given is the retention.
    expect(await client.pttl(keys[0]!)).toBeGreaterThan((2 * NONCE_SECONDS - 5) * 1000);
  } finally {
    client.disconnect();
    await server.stop();
  }
});
