// The round-trip cookie against login CSRF by cookie tossing: an attacker
// starts a sign-in of its own, signs in at the provider as itself, stops at the
// callback URL, and has a sibling subdomain toss its sealed round trip into the
// victim's browser (`Domain=<parent>`, a longer `Path`, so it is sent first);
// the victim, sent to that callback, would hold the attacker's session.
import { expect, test } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { createTokenBroker, type TokenBrokerServer } from '../core/token-broker';
import type { BrokerHttpRequest } from '../core/http';
import { memoryStore } from '../store/memory';
import { startTestOidcProvider, type TestOidcProvider } from '../../test-support/oidc-provider.js';
import { createOidcTokenHandler } from './token-handler';

const APP = 'https://app.example.test';
const REDIRECT = `${APP}/auth/oidc/callback`;
let provider: TestOidcProvider;

test.beforeAll(async () => {
  provider = await startTestOidcProvider({ redirectUris: [REDIRECT] });
});
test.afterAll(async () => provider.stop());

const get = (url: string, cookie?: string): BrokerHttpRequest => ({ method: 'GET', url, origin: APP, headers: cookie ? { cookie } : {}, ip: '203.0.113.9' });

async function handler(cookieSecure: boolean) {
  const broker = await createTokenBroker({ verifyCredentials: () => null, store: memoryStore() });
  const started: string[] = [];
  // Every session the callback starts, counted.
  const counting: TokenBrokerServer = { ...broker, startSession: async (...args) => { started.push(args[1].sub); return broker.startSession(...args); } };
  const signIn = createOidcTokenHandler(counting, {
    issuer: provider.issuer, clientId: provider.client.clientId, clientSecret: provider.client.clientSecret,
    redirectUri: REDIRECT, secret: randomBytes(32).toString('base64url'), allowInsecureRequests: true, cookieSecure,
  });
  return { signIn, started };
}

/** Follows the provider's redirects (its cookies kept) to the callback URL, which it does not load. */
async function toCallback(authorization: string): Promise<URL> {
  const jar = new Map<string, string>();
  let url = new URL(authorization);
  for (let hop = 0; hop < 10; hop++) {
    if (url.href.startsWith(REDIRECT)) return url;
    const response = await fetch(url, { redirect: 'manual', headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } });
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(';')[0] ?? '';
      const eq = pair.indexOf('=');
      jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    const location = response.headers.get('location');
    if (!location) throw new Error(`no redirect at ${url.href}: ${response.status}`);
    url = new URL(location, url);
  }
  throw new Error('too many redirects');
}

test('Secure: the round-trip cookie is __Host-broker_oidc at Path=/, with no Domain; plain: broker_oidc at the callback', async () => {
  const secure = (await (await handler(true)).signIn.start(get('/auth/oidc/start?returnTo=%2F'))).cookies;
  expect(secure).toHaveLength(1);
  expect(secure[0]).toMatch(/^__Host-broker_oidc=[^;]+;/);
  expect(secure[0]).toMatch(/; Path=\/(;|$)/);
  expect(secure[0]).toMatch(/; Secure(;|$)/);
  expect(secure[0]).not.toMatch(/Domain=/i);
  const plain = (await (await handler(false)).signIn.start(get('/auth/oidc/start?returnTo=%2F'))).cookies;
  expect(plain[0]).toMatch(/^broker_oidc=[^;]+;/);
  expect(plain[0]).toMatch(/; Path=\/auth\/oidc\/callback(;|$)/);
});

for (const secure of [true, false]) {
  test(`${secure ? 'Secure' : 'plain'}: a callback with two round-trip cookies (one tossed in) is state_mismatch, starts no session and clears the cookie`, async () => {
    const { signIn, started } = await handler(secure);
    const name = secure ? '__Host-broker_oidc' : 'broker_oidc';
    const sealed = (response: { cookies: string[] }) => response.cookies[0]!.split(';')[0]!.slice(name.length + 1);
    // The attacker's sign-in, stopped at the callback.
    const attackerStart = await signIn.start(get('/auth/oidc/start?returnTo=%2F'));
    const callback = await toCallback(attackerStart.headers.location!);
    // The victim's own sign-in, started in its browser.
    const victimStart = await signIn.start(get('/auth/oidc/start?returnTo=%2F'));
    const tossed = `${name}=${sealed(attackerStart)}; ${name}=${sealed(victimStart)}`;

    const refused = await signIn.callback(get(callback.pathname + callback.search, tossed));
    expect(new URL(refused.headers.location!, APP).searchParams.get('broker_error')).toBe('state_mismatch');
    expect(started).toEqual([]);
    expect(refused.cookies).toHaveLength(1);
    expect(refused.cookies[0]).toMatch(new RegExp(`^${name}=;.*Path=${secure ? '/' : '/auth/oidc/callback'}(;|$)`));
    expect(refused.cookies[0]).toMatch(/Expires=Thu, 01 Jan 1970/);

    // The same callback with the attacker's cookie alone signs in: the code was good, the duplicate is what was refused.
    const alone = await signIn.callback(get(callback.pathname + callback.search, `${name}=${sealed(attackerStart)}`));
    expect(new URL(alone.headers.location!, APP).searchParams.get('broker_signin')).toBe('1');
    expect(started).toEqual([`${provider.issuer}#${provider.subject}`]);
  });
}
