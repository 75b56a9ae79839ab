// The redirect sign-in through each adapter, over real HTTP, against the test
// provider: both mount the start route and the callback, answer redirects with
// no body, and pass the cookies through; the whole flow driven by hand (the
// provider's interaction completed by its harness), as a browser would follow it.
import { expect, test } from '@playwright/test';
import express from 'express';
import Fastify from 'fastify';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createTokenBroker } from '../core/token-broker';
import { tokenBrokerRouter } from '../express/router';
import { tokenBroker } from '../fastify/plugin';
import { memoryStore } from '../store/memory';
import { startTestOidcProvider, type TestOidcProvider } from '../../test-support/oidc-provider.js';
import { createOidcTokenHandler } from './token-handler';

let provider: TestOidcProvider;
const ports: Record<string, number> = {};

test.beforeAll(async () => {
  // Ports first: the provider must know each app's callback exactly.
  for (const name of ['express', 'fastify']) {
    const probe = Fastify();
    await probe.listen({ port: 0, host: '127.0.0.1' });
    ports[name] = (probe.server.address() as AddressInfo).port;
    await probe.close();
  }
  provider = await startTestOidcProvider({ redirectUris: Object.values(ports).map((p) => `http://127.0.0.1:${p}/auth/oidc/callback`) });
});
test.afterAll(async () => provider.stop());

async function handlerFor(port: number) {
  const broker = await createTokenBroker({ verifyCredentials: () => null, store: memoryStore() });
  const signIn = createOidcTokenHandler(broker, {
    issuer: provider.issuer, clientId: provider.client.clientId, clientSecret: provider.client.clientSecret,
    redirectUri: `http://127.0.0.1:${port}/auth/oidc/callback`, secret: randomBytes(32).toString('base64url'), allowInsecureRequests: true,
  });
  return { broker, signIn };
}

const apps: Record<string, (port: number) => Promise<() => Promise<void>>> = {
  express: async (port) => {
    const { broker, signIn } = await handlerFor(port);
    const app = express();
    app.use(tokenBrokerRouter(broker, { signIn }));
    const server = app.listen(port, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    return () => new Promise((r) => server.close(() => r()));
  },
  fastify: async (port) => {
    const { broker, signIn } = await handlerFor(port);
    const app = Fastify();
    await app.register(tokenBroker, { broker, signIn });
    await app.listen({ port, host: '127.0.0.1' });
    return () => app.close();
  },
};

/** Follows redirects with one cookie jar per host, until the app's own answer after its callback. */
async function follow(start: string, appOrigin: string): Promise<{ landed: URL; appCookies: string[] }> {
  const jars = new Map<string, Map<string, string>>();
  const appCookies: string[] = [];
  let url = new URL(start);
  for (let hop = 0; hop < 15; hop++) {
    const jar = jars.get(url.host) ?? new Map<string, string>();
    jars.set(url.host, jar);
    const response = await fetch(url, { redirect: 'manual', headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } });
    for (const line of response.headers.getSetCookie()) {
      if (url.origin === appOrigin) appCookies.push(line);
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    const location = response.headers.get('location');
    if (!location) throw new Error(`no redirect at ${url.href}: ${response.status}`);
    const next = new URL(location, url);
    if (next.origin === appOrigin && !next.pathname.startsWith('/auth/')) {
      expect(await response.text()).toBe('');
      return { landed: next, appCookies };
    }
    url = next;
  }
  throw new Error('too many redirects');
}

for (const name of Object.keys(apps)) {
  test(`${name}: start, provider, callback: the refresh cookie and the sign-in marker on the way back`, async () => {
    const port = ports[name]!;
    const close = await apps[name]!(port);
    try {
      const origin = `http://127.0.0.1:${port}`;
      const { landed, appCookies } = await follow(`${origin}/auth/oidc/start?returnTo=%2Forders`, origin);
      expect(landed.pathname + landed.search).toBe('/orders?broker_signin=1');
      const roundTrip = appCookies.find((c) => c.startsWith('__Host-broker_oidc=') || c.startsWith('broker_oidc='))!;
      expect(roundTrip).toMatch(/HttpOnly/);
      expect(roundTrip).toMatch(/SameSite=Lax/);
      expect(appCookies.some((c) => /^(__Host-Http-)?broker_rt=[^;]+/.test(c) && /SameSite=Strict/.test(c))).toBe(true);
    } finally {
      await close();
    }
  });
}
