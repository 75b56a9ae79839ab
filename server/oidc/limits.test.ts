// The sign-in routes' per-address limits through each adapter, over real HTTP, on
// the broker's rate-limit backings: a navigation over the limit lands back on the
// app with `broker_error=rate_limited` (a 429 page would strand the user on JSON),
// the worker's POST gets 429 with Retry-After and that same redirect in its body,
// and a callback over the limit is refused before its cookie is read or the
// provider called. And the worker's POST itself through each adapter, with a proof.
import { expect, test } from '@playwright/test';
import Database from 'better-sqlite3';
import express from 'express';
import Fastify from 'fastify';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createTokenBroker } from '../core/token-broker';
import { memoryRateLimits, sqliteRateLimits, type RateLimitBacking } from '../core/rate-limits';
import { tokenBrokerRouter } from '../express/router';
import { tokenBroker } from '../fastify/plugin';
import { memoryStore } from '../store/memory';
import { WORKER_REQUEST_HEADER } from '../../sw/protocol';
import { newDpopKey, signProof } from '../../test-support/dpop-client.js';
import { startTestOidcProvider, type TestOidcProvider } from '../../test-support/oidc-provider.js';
import { createOidcTokenHandler } from './token-handler';

let provider: TestOidcProvider;
const ports: Record<string, number> = {};

test.beforeAll(async () => {
  for (const name of ['express', 'fastify']) {
    const probe = Fastify();
    await probe.listen({ port: 0, host: '127.0.0.1' });
    ports[name] = (probe.server.address() as AddressInfo).port;
    await probe.close();
  }
  provider = await startTestOidcProvider({ redirectUris: Object.values(ports).map((p) => `http://127.0.0.1:${p}/auth/oidc/callback`) });
});
test.afterAll(async () => provider.stop());

async function handlerFor(port: number, rateLimits: RateLimitBacking, dpop: 'off' | 'required') {
  const broker = await createTokenBroker({ verifyCredentials: () => null, store: memoryStore(), rateLimits, dpop, dpopNonce: false });
  const signIn = createOidcTokenHandler(broker, {
    issuer: provider.issuer, clientId: provider.client.clientId, clientSecret: provider.client.clientSecret,
    redirectUri: `http://127.0.0.1:${port}/auth/oidc/callback`, secret: randomBytes(32).toString('base64url'), allowInsecureRequests: true,
    rateLimits, limits: { perIp: 2 },
  });
  return { broker, signIn };
}

type Serve = (port: number, rateLimits: RateLimitBacking, dpop: 'off' | 'required') => Promise<() => Promise<void>>;
const apps: Record<string, Serve> = {
  express: async (port, rateLimits, dpop) => {
    const { broker, signIn } = await handlerFor(port, rateLimits, dpop);
    const app = express();
    app.use(tokenBrokerRouter(broker, { signIn }));
    const server = app.listen(port, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    return () => new Promise((r) => server.close(() => r()));
  },
  fastify: async (port, rateLimits, dpop) => {
    const { broker, signIn } = await handlerFor(port, rateLimits, dpop);
    const app = Fastify();
    await app.register(tokenBroker, { broker, signIn });
    await app.listen({ port, host: '127.0.0.1' });
    return () => app.close();
  },
};

const workerPost = (url: string, body: unknown, dpop?: string) =>
  fetch(url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/json', [WORKER_REQUEST_HEADER]: '1', ...(dpop ? { dpop } : {}) }, body: JSON.stringify(body) });

for (const name of Object.keys(apps)) {
  test(`${name}: the start route over its limit: rate_limited on the redirect, 429 with Retry-After to the worker; the callback over its limit: rate_limited (SQLite counts)`, async () => {
    const port = ports[name]!;
    const db = new Database(':memory:');
    const close = await apps[name]!(port, sqliteRateLimits(db), 'off');
    try {
      const origin = `http://127.0.0.1:${port}`;
      // Another site's images of the start route and the callback (no round-trip cookie: SameSite=Lax) spend nothing.
      for (let i = 0; i < 5; i++) {
        const image = await fetch(`${origin}/auth/oidc/start?returnTo=%2F`, { redirect: 'manual', headers: { 'sec-fetch-mode': 'no-cors', 'sec-fetch-site': 'cross-site' } });
        expect(image.status).toBe(400);
        const callbackImage = await fetch(`${origin}/auth/oidc/callback?code=x&state=y`, { redirect: 'manual', headers: { 'sec-fetch-mode': 'no-cors', 'sec-fetch-site': 'cross-site' } });
        expect(callbackImage.status).toBe(400);
        const cookieless = await fetch(`${origin}/auth/oidc/callback?code=x&state=y`, { redirect: 'manual', headers: { 'sec-fetch-mode': 'navigate' } });
        expect(cookieless.headers.get('location')).toBe('/?broker_error=state_mismatch');
      }
      for (let i = 0; i < 2; i++) {
        const started = await fetch(`${origin}/auth/oidc/start?returnTo=%2F`, { redirect: 'manual', headers: { 'sec-fetch-mode': 'navigate' } });
        expect(started.status).toBe(303);
        expect(new URL(started.headers.get('location')!).origin).toBe(provider.issuer);
      }
      const limited = await fetch(`${origin}/auth/oidc/start?returnTo=%2F`, { redirect: 'manual' });
      expect(limited.status).toBe(303);
      expect(limited.headers.get('location')).toBe('/?broker_error=rate_limited');
      expect(limited.headers.getSetCookie()).toEqual([]);
      const fromWorker = await workerPost(`${origin}/auth/oidc/start`, { returnTo: '/' });
      expect(fromWorker.status).toBe(429);
      expect(Number(fromWorker.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await fromWorker.json()).toMatchObject({ error: 'rate_limited', location: '/?broker_error=rate_limited' });

      // Callbacks that carry a round-trip cookie (a forged one here) are counted.
      const withTrip = { cookie: 'broker_oidc=forged' };
      for (let i = 0; i < 2; i++) {
        const answered = await fetch(`${origin}/auth/oidc/callback?code=x&state=y`, { redirect: 'manual', headers: withTrip });
        expect(answered.headers.get('location')).toBe('/?broker_error=state_mismatch');
      }
      const callback = await fetch(`${origin}/auth/oidc/callback?code=x&state=y`, { redirect: 'manual', headers: withTrip });
      expect(callback.status).toBe(303);
      expect(callback.headers.get('location')).toBe('/?broker_error=rate_limited');
      // The counts are the backing's: the limiter's tables are there.
      expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name LIKE 'rate_limit_oidc%'").get()).toEqual({ n: 2 });
    } finally {
      await close();
      db.close();
    }
  });

  test(`${name}: dpop required: the worker's POST with a proof gets the provider's location and the round-trip cookie; without a proof, or from another site, nothing starts`, async () => {
    const port = ports[name]!;
    const close = await apps[name]!(port, memoryRateLimits(), 'required');
    try {
      const origin = `http://127.0.0.1:${port}`;
      const url = `${origin}/auth/oidc/start`;
      const key = await newDpopKey();
      const started = await workerPost(url, { returnTo: '/orders' }, await signProof(key, { htm: 'POST', htu: url }));
      expect(started.status).toBe(200);
      expect(new URL(((await started.json()) as { location: string }).location).origin).toBe(provider.issuer);
      expect(started.headers.getSetCookie().some((c) => c.startsWith('broker_oidc=') && /HttpOnly/.test(c))).toBe(true);

      const unproven = await workerPost(url, { returnTo: '/' });
      expect(unproven.status).toBe(400);
      expect(unproven.headers.getSetCookie()).toEqual([]);
      const crossSite = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'sec-fetch-site': 'cross-site', dpop: await signProof(key, { htm: 'POST', htu: url }) }, body: '{}' });
      expect(crossSite.status).toBe(403);
      expect(crossSite.headers.getSetCookie()).toEqual([]);
      const navigation = await fetch(`${url}?returnTo=%2F`, { redirect: 'manual' });
      expect(navigation.headers.get('location')).toBe('/?broker_error=dpop_required');
      expect(navigation.headers.getSetCookie()).toEqual([]);
    } finally {
      await close();
    }
  });
}
