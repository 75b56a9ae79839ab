// Token-handler mode's provider tokens, driven from Node against the test
// provider (JWT access tokens for one API, rotating refresh tokens): the
// refresh endpoint hands out the provider's access token, refreshes it
// upstream once when it is due however many refreshes ask on however many
// instances, ends the session when the provider refuses, keeps it through an
// outage; logout revokes at the provider and names its logout URL.
import { expect, test } from '@playwright/test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import { createTokenBroker, type TokenBrokerServer } from '../core/token-broker';
import type { BrokerHttpRequest, BrokerHttpResponse } from '../core/http';
import { memoryStoreBacking } from '../store/memory';
import type { RefreshStore } from '../store/types';
import { hashToken } from '../tokens/refresh-tokens';
import { startTestOidcProvider, TEST_API_AUDIENCE, type TestOidcProvider } from '../../test-support/oidc-provider.js';
import { createOidcTokenHandler, type OidcOptions, type OidcTokenHandler } from './token-handler';
import { upstreamSeal } from './upstream-seal';

const ORIGIN = 'http://127.0.0.1:9';
const REDIRECT = `${ORIGIN}/auth/oidc/callback`;
const AFTER_LOGOUT = `${ORIGIN}/signed-out`;
const TTL = 600;
let provider: TestOidcProvider;

test.beforeAll(async () => {
  provider = await startTestOidcProvider({ redirectUris: [REDIRECT], postLogoutRedirectUris: [AFTER_LOGOUT], accessTokenTtl: TTL });
});
test.afterAll(async () => provider.stop());

interface Instance { broker: TokenBrokerServer; handler: OidcTokenHandler; store: RefreshStore; events: Array<{ event: string; reason?: unknown }> }

/**
 * Instances sharing one store, refresh secret and upstream key (or `keyOf`'s, per instance), as servers behind
 * a load balancer; the handlers' clock is `clock.offset` ahead.
 */
async function deployment(tokens: 'local' | 'provider', count = 1, extra: Partial<OidcOptions> = {}, keyOf?: (instance: number) => string | string[]) {
  const backing = memoryStoreBacking();
  const refreshSecret = randomBytes(32).toString('base64url');
  const upstreamKey = randomBytes(32).toString('base64url');
  const secret = randomBytes(32).toString('base64url');
  const clock = { offset: 0 };
  const instances: Instance[] = [];
  for (let i = 0; i < count; i++) {
    const store = backing.open();
    const events: Instance['events'] = [];
    const onEvent = (event: string, detail?: Record<string, unknown>) => events.push({ event, ...(detail?.reason ? { reason: detail.reason } : {}) });
    const broker = await createTokenBroker({ verifyCredentials: () => null, store, refreshSecret, cookieSecure: false, onEvent });
    const handler = createOidcTokenHandler(broker, {
      issuer: provider.issuer, clientId: provider.client.clientId, clientSecret: provider.client.clientSecret,
      redirectUri: REDIRECT, secret, allowInsecureRequests: true, tokens, upstreamKey: keyOf?.(i) ?? upstreamKey, postLogoutRedirectUri: AFTER_LOGOUT,
      now: () => Date.now() + clock.offset, ...extra,
    });
    instances.push({ broker, handler, store, events });
  }
  return { instances, clock, seal: upstreamSeal(upstreamKey), close: () => Promise.all(instances.map((i) => i.broker.close())) };
}

const request = (url: string, headers: Record<string, string> = {}, method = 'GET'): BrokerHttpRequest => ({
  method, url, origin: ORIGIN, ip: '127.0.0.1', headers: { ...headers }, body: method === 'POST' ? {} : undefined,
});
const cookiesOf = (response: BrokerHttpResponse) => response.cookies.map((c) => c.split(';')[0]!).filter((c) => !c.endsWith('='));

/** The redirect sign-in, the provider's interaction followed by hand: the refresh cookie (`broker_rt=...`). */
async function signIn(handler: OidcTokenHandler): Promise<string> {
  const started = await handler.start(request('/auth/oidc/start?returnTo=%2F'));
  const roundTrip = cookiesOf(started)[0]!;
  const jar = new Map<string, string>();
  let url = new URL(started.headers.location!);
  for (let hop = 0; !url.href.startsWith(REDIRECT); hop++) {
    if (hop > 10) throw new Error('too many redirects');
    const response = await fetch(url, { redirect: 'manual', headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } });
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(';')[0]!;
      jar.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
    }
    url = new URL(response.headers.get('location')!, url);
  }
  const back = await handler.callback(request(url.pathname + url.search, { cookie: roundTrip }));
  expect(back.headers.location).toBe('/?broker_signin=1');
  return cookiesOf(back).find((c) => c.startsWith('broker_rt='))!;
}

const worker = { 'x-token-broker': '1', 'sec-fetch-site': 'same-origin' };
async function refresh(broker: TokenBrokerServer, cookie: string) {
  const response = await broker.refresh(request('/auth/refresh', { ...worker, cookie }, 'POST'));
  return { response, body: response.body as { access_token?: string; expires_in?: number; error?: string }, cookie: cookiesOf(response).find((c) => c.startsWith('broker_rt=')) ?? cookie };
}

const jwks = () => createRemoteJWKSet(new URL(provider.jwksUri));
/** What an API that trusts the provider does with the token: jose against the provider's JWKS, its issuer, the API's audience. */
const verifyAtApi = (token: string) => jwtVerify(token, jwks(), { issuer: provider.issuer, audience: TEST_API_AUDIENCE });

test("tokens: 'provider': the refresh endpoint hands out the provider's JWT access token, the API verifies it against the provider's JWKS", async () => {
  const d = await deployment('provider');
  try {
    const [{ broker, store }] = d.instances as [Instance];
    const first = await refresh(broker, await signIn(d.instances[0]!.handler));
    expect(first.response.status).toBe(200);
    const { payload } = await verifyAtApi(first.body.access_token!);
    expect(payload.sub).toBe(provider.subject);
    expect(first.body.expires_in).toBeGreaterThan(TTL - 60);
    expect(first.body.expires_in).toBeLessThanOrEqual(TTL);
    // Not due: the same token again, and the provider is not asked.
    const before = provider.counts.refreshGrants;
    const second = await refresh(broker, first.cookie);
    expect(second.body.access_token).toBe(first.body.access_token);
    expect(provider.counts.refreshGrants).toBe(before);
    // The store holds the provider's tokens sealed: neither the access token nor any JSON of it in the clear.
    const familyId = (await store.familyOf!(hashOf(second.cookie)))!;
    const sealed = (await store.upstream!(familyId))!;
    expect(sealed.split('.')).toHaveLength(5);
    expect(sealed).not.toContain(first.body.access_token!.split('.')[1]!);
    expect((await d.seal.open(sealed))?.refreshToken).toBeTruthy();
  } finally {
    await d.close();
  }
});

test('a due provider token is refreshed upstream once for 100 concurrent refreshes over two instances; all get the new token', async () => {
  const d = await deployment('provider', 2);
  try {
    const [a, b] = d.instances as [Instance, Instance];
    const signedIn = await refresh(a.broker, await signIn(a.handler));
    d.clock.offset = (TTL - 30) * 1000;
    const before = provider.counts.refreshGrants;
    const revoked = provider.counts.revocations;
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => refresh((i % 2 ? a : b).broker, signedIn.cookie)));
    expect(provider.counts.refreshGrants - before).toBe(1);
    // No spent refresh token was presented twice (the provider would have ended the grant).
    expect(provider.counts.revocations).toBe(revoked);
    expect(answers.map((x) => x.response.status)).toEqual(answers.map(() => 200));
    const tokens = new Set(answers.map((x) => x.body.access_token));
    expect(tokens.size).toBe(1);
    expect(tokens.has(signedIn.body.access_token)).toBe(false);
    expect((await verifyAtApi([...tokens][0]!)).payload.sub).toBe(provider.subject);
    // The rotated provider refresh token was stored: the next due refresh works (a reused one would be invalid_grant).
    d.clock.offset = 2 * (TTL - 30) * 1000;
    const again = await refresh(b.broker, answers[0]!.cookie);
    expect(again.response.status).toBe(200);
    expect(provider.counts.refreshGrants - before).toBe(2);
  } finally {
    await d.close();
  }
});

test('the provider refusing the refresh token (invalid_grant) ends the session: 401, the family revoked, its record gone', async () => {
  const d = await deployment('provider');
  try {
    const [{ broker, store }] = d.instances as [Instance];
    const signedIn = await refresh(broker, await signIn(d.instances[0]!.handler));
    const familyId = (await store.familyOf!(hashOf(signedIn.cookie)))!;
    // Revoked at the provider behind the broker's back (an admin, the user at the provider's account page).
    const record = (await d.seal.open(await store.upstream!(familyId)))!;
    const config = await oidc.discovery(new URL(provider.issuer), provider.client.clientId, provider.client.clientSecret, undefined, { execute: [oidc.allowInsecureRequests] });
    await oidc.tokenRevocation(config, record.refreshToken!);
    d.clock.offset = TTL * 1000;
    const ended = await refresh(broker, signedIn.cookie);
    expect(ended.response.status).toBe(401);
    expect(ended.body.error).toBe('invalid_grant');
    expect(await store.upstream!(familyId)).toBeNull();
    expect((await refresh(broker, ended.cookie)).response.status).toBe(401);
  } finally {
    await d.close();
  }
});

test('the provider down when its token is due: 503 with Retry-After and the rotated cookie; the session survives and refreshes once it is back', async () => {
  const d = await deployment('provider');
  try {
    const [{ broker }] = d.instances as [Instance];
    const signedIn = await refresh(broker, await signIn(d.instances[0]!.handler));
    d.clock.offset = TTL * 1000;
    await provider.stop();
    let down: Awaited<ReturnType<typeof refresh>>;
    try {
      down = await refresh(broker, signedIn.cookie);
    } finally {
      await provider.start();
    }
    expect(down.response.status).toBe(503);
    expect(down.response.headers['retry-after']).toBeTruthy();
    expect(down.cookie).not.toBe(signedIn.cookie);
    const back = await refresh(broker, down.cookie);
    expect(back.response.status).toBe(200);
    expect(back.body.access_token).not.toBe(signedIn.body.access_token);
  } finally {
    await d.close();
  }
});

test('upstreamKey rotation: an instance listing [new, old] opens the old record and seals it again with the new key; an instance that lists only the old key then ends that session (401 invalid_grant), never hands out a local token', async () => {
  const [oldKey, newKey] = [randomBytes(32).toString('base64url'), randomBytes(32).toString('base64url')];
  const d = await deployment('provider', 2, {}, (i) => (i === 0 ? oldKey : [newKey, oldKey]));
  try {
    const [before, rotated] = d.instances as [Instance, Instance];
    const signedIn = await refresh(before.broker, await signIn(before.handler));
    const familyId = (await before.store.familyOf!(hashOf(signedIn.cookie)))!;
    expect(await upstreamSeal(oldKey).open(await before.store.upstream!(familyId))).not.toBeNull();
    // Due: the rotated instance refreshes upstream and stores the successor under the new key.
    d.clock.offset = TTL * 1000;
    const again = await refresh(rotated.broker, signedIn.cookie);
    expect(again.response.status).toBe(200);
    expect((await verifyAtApi(again.body.access_token!)).payload.sub).toBe(provider.subject);
    const sealed = await before.store.upstream!(familyId);
    expect(await upstreamSeal(newKey).open(sealed)).not.toBeNull();
    expect(await upstreamSeal(oldKey).open(sealed)).toBeNull();
    // The old key's instance can no longer open it: the session ends there, with its reason, rather than
    // getting a local token an API that trusts the provider would refuse.
    const ended = await refresh(before.broker, again.cookie);
    expect({ status: ended.response.status, error: ended.body.error, token: ended.body.access_token }).toEqual({ status: 401, error: 'invalid_grant', token: undefined });
    expect(before.events.filter((e) => e.event === 'refresh_rejected')).toEqual([{ event: 'refresh_rejected', reason: 'upstream_unreadable' }]);
    expect(await before.store.upstream!(familyId)).toBeNull();
    expect((await refresh(rotated.broker, again.cookie)).response.status).toBe(401);
  } finally {
    await d.close();
  }
});

test('a logout while an upstream refresh is in flight: that refresh answers 401 (no provider token after the logout), and no refresh token of the grant is left live at the provider', async () => {
  const d = await deployment('provider');
  const issued: string[] = [];
  const saved = (token: { jti: string }) => issued.push(token.jti);
  provider.onRefreshTokenSaved = saved;
  try {
    const [{ broker }] = d.instances as [Instance];
    const signedIn = await refresh(broker, await signIn(d.instances[0]!.handler));
    d.clock.offset = TTL * 1000;
    let answer!: () => void;
    provider.holdTokenAnswers = new Promise<void>((resolve) => (answer = resolve));
    const before = issued.length;
    const inFlight = refresh(broker, signedIn.cookie);
    // The provider has rotated the refresh token, and its answer is held.
    await expect.poll(() => issued.length, { timeout: 10_000 }).toBe(before + 1);
    const out = await broker.logout(request('/auth/logout', { ...worker, cookie: signedIn.cookie }, 'POST'));
    expect(out.status).toBe(200);
    provider.holdTokenAnswers = null;
    answer();
    const late = await inFlight;
    expect({ status: late.response.status, error: late.body.error, token: late.body.access_token }).toEqual({ status: 401, error: 'invalid_grant', token: undefined });
    const config = await oidc.discovery(new URL(provider.issuer), provider.client.clientId, provider.client.clientSecret, undefined, { execute: [oidc.allowInsecureRequests] });
    for (const token of issued.slice(before - 1)) {
      expect(await oidc.refreshTokenGrant(config, token).catch((e: unknown) => (e as oidc.ResponseBodyError).error)).toBe('invalid_grant');
    }
  } finally {
    provider.holdTokenAnswers = null;
    provider.onRefreshTokenSaved = null;
    await d.close();
  }
});

for (const tokens of ['local', 'provider'] as const) {
  test(`tokens: '${tokens}': logout revokes the provider's refresh token and answers the provider's logout URL (client_id, post_logout_redirect_uri, and no id_token_hint: the URL goes to the page)`, async () => {
    const d = await deployment(tokens);
    try {
      const [{ broker, store }] = d.instances as [Instance];
      const signedIn = await refresh(broker, await signIn(d.instances[0]!.handler));
      if (tokens === 'local') expect((await broker.accessTokens.verify(signedIn.body.access_token!))?.sub).toBe(`${provider.issuer}#${provider.subject}`);
      const familyId = (await store.familyOf!(hashOf(signedIn.cookie)))!;
      const record = (await d.seal.open(await store.upstream!(familyId)))!;
      const revocations = provider.counts.revocations;
      const out = await broker.logout(request('/auth/logout', { ...worker, cookie: signedIn.cookie }, 'POST'));
      expect(out.status).toBe(200);
      const url = new URL((out.body as { logoutUrl: string }).logoutUrl);
      expect(url.origin).toBe(provider.issuer);
      expect(url.searchParams.get('client_id')).toBe(provider.client.clientId);
      expect(url.searchParams.get('id_token_hint')).toBeNull();
      expect(url.href).not.toContain(record.idToken!);
      expect(url.searchParams.get('post_logout_redirect_uri')).toBe(AFTER_LOGOUT);
      expect(provider.counts.revocations).toBe(revocations + 1);
      // Revoked at the provider: the refresh token is refused there.
      const config = await oidc.discovery(new URL(provider.issuer), provider.client.clientId, provider.client.clientSecret, undefined, { execute: [oidc.allowInsecureRequests] });
      expect(await oidc.refreshTokenGrant(config, record.refreshToken!).catch((e: unknown) => (e as oidc.ResponseBodyError).error)).toBe('invalid_grant');
      expect(await store.upstream!(familyId)).toBeNull();
    } finally {
      await d.close();
    }
  });
}

test('logout with the provider down: the local logout completes (200, family revoked), without a provider revocation', async () => {
  const d = await deployment('provider');
  try {
    const [{ broker, store }] = d.instances as [Instance];
    const signedIn = await refresh(broker, await signIn(d.instances[0]!.handler));
    const familyId = (await store.familyOf!(hashOf(signedIn.cookie)))!;
    await provider.stop();
    let out: BrokerHttpResponse;
    try {
      out = await broker.logout(request('/auth/logout', { ...worker, cookie: signedIn.cookie }, 'POST'));
    } finally {
      await provider.start();
    }
    expect(out.status).toBe(200);
    expect(await store.upstream!(familyId)).toBeNull();
    expect((await refresh(broker, signedIn.cookie)).response.status).toBe(401);
  } finally {
    await d.close();
  }
});

for (const par of [true, false]) {
  test(`authorizationParams reach the provider${par ? ' in the pushed request' : ' in the redirect'} (Google's access_type=offline and prompt=consent); the sign-in completes`, async () => {
    const d = await deployment('provider', 1, { par, authorizationParams: { access_type: 'offline', prompt: 'consent' } });
    try {
      const [{ broker, handler }] = d.instances as [Instance];
      provider.lastAuthorization = null;
      const signedIn = await refresh(broker, await signIn(handler));
      expect(signedIn.response.status).toBe(200);
      expect(provider.lastAuthorization).toMatchObject({ access_type: 'offline', prompt: 'consent', state: expect.any(String), nonce: expect.any(String) });
    } finally {
      await d.close();
    }
  });
}

test('authorizationParams cannot set the protocol\'s own parameters, nor anything but strings', async () => {
  const broker = await createTokenBroker({ verifyCredentials: () => null, store: memoryStoreBacking().open() });
  const base = { issuer: provider.issuer, clientId: 'c', clientSecret: 's', redirectUri: REDIRECT, secret: randomBytes(32).toString('base64url') };
  for (const [params, message] of [
    [{ state: 'fixed' }, /state is the handler's own/],
    [{ redirect_uri: 'https://evil.example/cb' }, /redirect_uri/],
    [{ code_challenge_method: 'plain' }, /code_challenge_method/],
    [{ scope: 'openid admin' }, /use the scope option/],
    [{ access_type: 1 }, /access_type: expected a string/],
    [['access_type=offline'], /expected an object/],
  ] as const) {
    expect(() => createOidcTokenHandler(broker, { ...base, authorizationParams: params as unknown as Record<string, string> })).toThrow(message);
  }
  await broker.close();
});

test("tokens: 'provider' without upstreamKey, or a bad key, is refused at start-up", async () => {
  const broker = await createTokenBroker({ verifyCredentials: () => null, store: memoryStoreBacking().open() });
  const base = { issuer: provider.issuer, clientId: 'c', clientSecret: 's', redirectUri: REDIRECT, secret: randomBytes(32).toString('base64url') };
  expect(() => createOidcTokenHandler(broker, { ...base, tokens: 'provider' })).toThrow(/upstreamKey/);
  expect(() => createOidcTokenHandler(broker, { ...base, tokens: 'provider', upstreamKey: 'short' })).toThrow(/32 bytes/);
  await broker.close();
});

function hashOf(cookie: string): string {
  return hashToken(cookie.slice(cookie.indexOf('=') + 1));
}
