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
import { SIGN_IN_ERROR_MESSAGES } from './errors';
import { recordFromTokens } from './provider-tokens';
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
async function deployment(
  tokens: 'local' | 'provider',
  count = 1,
  extra: Partial<OidcOptions> = {},
  keyOf?: (instance: number) => string | string[],
  wrap?: (store: RefreshStore, instance: number) => RefreshStore,
) {
  const backing = memoryStoreBacking();
  const refreshSecret = randomBytes(32).toString('base64url');
  const upstreamKey = randomBytes(32).toString('base64url');
  const secret = randomBytes(32).toString('base64url');
  const clock = { offset: 0 };
  const instances: Instance[] = [];
  for (let i = 0; i < count; i++) {
    const store = wrap ? wrap(backing.open(), i) : backing.open();
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

const providerConfig = () => oidc.discovery(new URL(provider.issuer), provider.client.clientId, provider.client.clientSecret, undefined, { execute: [oidc.allowInsecureRequests] });
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
    const config = await providerConfig();
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

/** `store` with `method` running `before` first, once it is set (then cleared): a step of another request forced into a window. */
function interpose(store: RefreshStore, method: keyof RefreshStore, hook: { before: (() => Promise<void>) | null }): RefreshStore {
  return new Proxy(store, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (key !== method || typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const before = hook.before;
        hook.before = null;
        if (before) await before();
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

test('a logout on one instance between a refresh\'s rotation on another and its read of the provider tokens: that refresh answers 401, never a local token for the ended family', async () => {
  const hook: { before: (() => Promise<void>) | null } = { before: null };
  const d = await deployment('provider', 2, {}, undefined, (store, i) => (i === 1 ? interpose(store, 'upstream', hook) : store));
  try {
    const [a, b] = d.instances as [Instance, Instance];
    const signedIn = await refresh(a.broker, await signIn(a.handler));
    hook.before = async () => {
      expect((await a.broker.logout(request('/auth/logout', { ...worker, cookie: signedIn.cookie }, 'POST'))).status).toBe(200);
    };
    const late = await refresh(b.broker, signedIn.cookie);
    expect(hook.before).toBeNull();
    expect({ status: late.response.status, error: late.body.error, token: late.body.access_token }).toEqual({ status: 401, error: 'invalid_grant', token: undefined });
    expect(b.events.filter((e) => e.event === 'refresh_rejected')).toEqual([{ event: 'refresh_rejected', reason: 'revoked' }]);
  } finally {
    await d.close();
  }
});

test('a logout while another instance\'s upstream refresh is in flight waits for it, then revokes at the provider the successor that refresh got, not the token it spent', async () => {
  const hook: { before: (() => Promise<void>) | null } = { before: null };
  // The logout's instance is slow to revoke locally: the in-flight refresh stores and reads its successor meanwhile.
  const d = await deployment('provider', 2, {}, undefined, (store, i) => (i === 0 ? interpose(store, 'revokeFamilyOf', hook) : store));
  const issued: string[] = [];
  provider.onRefreshTokenSaved = (token) => issued.push(token.jti);
  try {
    const [a, b] = d.instances as [Instance, Instance];
    const signedIn = await refresh(a.broker, await signIn(a.handler));
    d.clock.offset = TTL * 1000;
    let answer!: () => void;
    provider.holdTokenAnswers = new Promise<void>((resolve) => (answer = resolve));
    const before = issued.length;
    const inFlight = refresh(b.broker, signedIn.cookie);
    // The provider has rotated the refresh token, and its answer is held.
    await expect.poll(() => issued.length, { timeout: 10_000 }).toBe(before + 1);
    const successor = issued.at(-1)!;
    let refreshed!: Awaited<ReturnType<typeof refresh>>;
    hook.before = async () => {
      refreshed = await inFlight;
    };
    const revokedBefore = provider.revokedTokens.length;
    const loggingOut = a.broker.logout(request('/auth/logout', { ...worker, cookie: signedIn.cookie }, 'POST'));
    provider.holdTokenAnswers = null;
    answer();
    const out = await loggingOut;
    expect(out.status).toBe(200);
    // The refresh finished before the logout's local revocation: it got the provider's new token, as any refresh before a logout does.
    expect(refreshed.response.status).toBe(200);
    expect(provider.revokedTokens.slice(revokedBefore)).toEqual([successor]);
    const config = await providerConfig();
    expect(await oidc.refreshTokenGrant(config, successor).catch((e: unknown) => (e as oidc.ResponseBodyError).error)).toBe('invalid_grant');
    expect((await refresh(b.broker, refreshed.cookie)).response.status).toBe(401);
  } finally {
    provider.holdTokenAnswers = null;
    provider.onRefreshTokenSaved = null;
    await d.close();
  }
});

test('a logout while this instance\'s upstream refresh is in flight: the refresh ends first, and the logout revokes its successor; no refresh token of the grant stays live', async () => {
  const d = await deployment('provider');
  const issued: string[] = [];
  provider.onRefreshTokenSaved = (token) => issued.push(token.jti);
  try {
    const [{ broker }] = d.instances as [Instance];
    const signedIn = await refresh(broker, await signIn(d.instances[0]!.handler));
    d.clock.offset = TTL * 1000;
    let answer!: () => void;
    provider.holdTokenAnswers = new Promise<void>((resolve) => (answer = resolve));
    const before = issued.length;
    const inFlight = refresh(broker, signedIn.cookie);
    await expect.poll(() => issued.length, { timeout: 10_000 }).toBe(before + 1);
    const revokedBefore = provider.revokedTokens.length;
    const loggingOut = broker.logout(request('/auth/logout', { ...worker, cookie: signedIn.cookie }, 'POST'));
    provider.holdTokenAnswers = null;
    answer();
    expect((await loggingOut).status).toBe(200);
    await inFlight;
    expect(provider.revokedTokens.slice(revokedBefore)).toEqual([issued.at(-1)]);
    const config = await providerConfig();
    for (const token of issued.slice(before - 1)) {
      expect(await oidc.refreshTokenGrant(config, token).catch((e: unknown) => (e as oidc.ResponseBodyError).error)).toBe('invalid_grant');
    }
  } finally {
    provider.holdTokenAnswers = null;
    provider.onRefreshTokenSaved = null;
    await d.close();
  }
});

/** `store` whose `method` fails (rejects) while `failing.left` is above 0, one failure per call. */
function failingStore(store: RefreshStore, method: keyof RefreshStore, failing: { left: number; calls?: number }): RefreshStore {
  return new Proxy(store, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (key !== method || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        failing.calls = (failing.calls ?? 0) + 1;
        if (failing.left > 0) {
          failing.left--;
          return Promise.reject(new Error('connection lost'));
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

test('the store failing as the provider\'s new tokens are written: tried again, then the successor is revoked at the provider (nothing holds it), 503 saying the session is kept; the next refresh ends the session, never a second spend that is not refused', async () => {
  const failing = { left: 0 };
  const issued: string[] = [];
  provider.onRefreshTokenSaved = (token) => issued.push(token.jti);
  const d = await deployment('provider', 1, {}, undefined, (store) => failingStore(store, 'releaseUpstream', failing));
  try {
    const [{ broker }] = d.instances as [Instance];
    const signedIn = await refresh(broker, await signIn(d.instances[0]!.handler));
    d.clock.offset = TTL * 1000;
    const revokedBefore = provider.revokedTokens.length;
    failing.left = 3;
    const down = await refresh(broker, signedIn.cookie);
    expect(down.response.status).toBe(503);
    expect(down.response.headers['retry-after']).toBeTruthy();
    expect((down.response.body as { message: string }).message).toMatch(/the session is kept/);
    expect(down.cookie).not.toBe(signedIn.cookie);
    expect(provider.revokedTokens.slice(revokedBefore)).toEqual([issued.at(-1)]);
    const ended = await refresh(broker, down.cookie);
    expect({ status: ended.response.status, error: ended.body.error }).toEqual({ status: 401, error: 'invalid_grant' });
  } finally {
    provider.onRefreshTokenSaved = null;
    await d.close();
  }
});

test('two failures of that write, then success: the refresh answers 200 with the new token, one upstream grant', async () => {
  const failing = { left: 0 };
  const d = await deployment('provider', 1, {}, undefined, (store) => failingStore(store, 'releaseUpstream', failing));
  try {
    const [{ broker }] = d.instances as [Instance];
    const signedIn = await refresh(broker, await signIn(d.instances[0]!.handler));
    d.clock.offset = TTL * 1000;
    const grants = provider.counts.refreshGrants;
    failing.left = 2;
    const back = await refresh(broker, signedIn.cookie);
    expect(back.response.status).toBe(200);
    expect(provider.counts.refreshGrants - grants).toBe(1);
    d.clock.offset = 2 * TTL * 1000;
    expect((await refresh(broker, back.cookie)).response.status).toBe(200);
  } finally {
    await d.close();
  }
});

test('the store failing as a refresh with no provider record asks whether the family is live: 503 with the rotated cookie, the session kept', async () => {
  const failing = { left: 0 };
  const d = await deployment('local', 1, {}, undefined, (store) => failingStore(store, 'liveUntil', failing));
  try {
    const [{ broker }] = d.instances as [Instance];
    const signedIn = await refresh(broker, await signIn(d.instances[0]!.handler));
    failing.left = 1;
    const down = await refresh(broker, signedIn.cookie);
    expect(down.response.status).toBe(503);
    expect(down.cookie).not.toBe(signedIn.cookie);
    expect((await refresh(broker, down.cookie)).response.status).toBe(200);
  } finally {
    await d.close();
  }
});

test('a logout naming one family many times (a forged Cookie header) takes its lease once and reads each cookie once: it cannot hold itself, or the store, for a lease per copy', async () => {
  const leases: { left: number; calls?: number } = { left: 0 };
  const d = await deployment('provider', 1, {}, undefined, (store) => failingStore(store, 'leaseUpstream', leases));
  try {
    const [{ broker, handler }] = d.instances as [Instance];
    const signedIn = await refresh(broker, await signIn(handler));
    leases.calls = 0;
    const out = await broker.logout(request('/auth/logout', { ...worker, cookie: Array.from({ length: 50 }, () => signedIn.cookie).join('; ') }, 'POST'));
    expect(out.status).toBe(200);
    expect(leases.calls).toBe(1);
    expect((await refresh(broker, signedIn.cookie)).response.status).toBe(401);
  } finally {
    await d.close();
  }
});

test('a logout presenting two refresh cookies (one tossed in by a sibling subdomain) revokes both families at the provider', async () => {
  const d = await deployment('provider');
  try {
    const [{ broker, handler, store }] = d.instances as [Instance];
    const mine = await signIn(handler);
    const planted = await signIn(handler);
    const records = await Promise.all([mine, planted].map(async (c) => (await d.seal.open(await store.upstream!((await store.familyOf!(hashOf(c)))!)))!.refreshToken));
    const revokedBefore = provider.revokedTokens.length;
    const out = await broker.logout(request('/auth/logout', { ...worker, cookie: `${planted}; ${mine}` }, 'POST'));
    expect(out.status).toBe(200);
    expect(provider.revokedTokens.slice(revokedBefore).sort()).toEqual([...records].sort());
  } finally {
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
      expect(provider.revokedTokens.at(-1)).toBe(record.refreshToken);
      // Revoked at the provider: the refresh token is refused there.
      const config = await providerConfig();
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

test('authorizationParams are copied when the handler is made: a parameter added to the options object later never reaches the provider unchecked', async () => {
  const params: Record<string, string> = { access_type: 'offline' };
  const d = await deployment('provider', 1, { par: false, authorizationParams: params });
  try {
    const [{ broker, handler }] = d.instances as [Instance];
    params.state = 'fixed-by-someone-else';
    params.prompt = 'none';
    provider.lastAuthorization = null;
    expect((await refresh(broker, await signIn(handler))).response.status).toBe(200);
    expect(provider.lastAuthorization).toMatchObject({ access_type: 'offline' });
    expect(provider.lastAuthorization!.state).not.toBe('fixed-by-someone-else');
    expect(provider.lastAuthorization!.prompt).toBeUndefined();
  } finally {
    await d.close();
  }
});

test('authorizationParams cannot set the protocol\'s own parameters, nor anything but strings', async () => {
  const broker = await createTokenBroker({ verifyCredentials: () => null, store: memoryStoreBacking().open() });
  const base = { issuer: provider.issuer, clientId: 'c', clientSecret: 's', redirectUri: REDIRECT, secret: randomBytes(32).toString('base64url') };
  for (const [params, message] of [
    [{ state: 'fixed' }, /state is the handler's own/],
    [{ redirect_uri: 'https://evil.example/cb' }, /redirect_uri/],
    [{ code_challenge_method: 'plain' }, /code_challenge_method/],
    [{ scope: 'openid admin' }, /use the scope option/],
    [{ STATE: 'fixed' }, /STATE is the handler's own/],
    [{ Redirect_Uri: 'https://evil.example/cb' }, /Redirect_Uri is the handler's own/],
    [{ client_secret: 'guess' }, /client_secret/],
    [{ client_assertion: 'x.y.z' }, /client_assertion/],
    [{ client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' }, /client_assertion_type/],
    [{ access_type: 1 }, /access_type: expected a string/],
    [['access_type=offline'], /expected an object/],
  ] as const) {
    expect(() => createOidcTokenHandler(broker, { ...base, authorizationParams: params as unknown as Record<string, string> })).toThrow(message);
  }
  for (const margin of [-1, 1.5, 7200, Number.NaN]) {
    expect(() => createOidcTokenHandler(broker, { ...base, refreshMarginSeconds: margin })).toThrow(/refreshMarginSeconds/);
  }
  await broker.close();
});

test("the worker's POST start with the provider down: 502 provider_unavailable with the code's fixed sentence, not the network's own text (which names internal hosts)", async () => {
  const d = await deployment('provider');
  try {
    const [{ handler }] = d.instances as [Instance];
    await provider.stop();
    let answer: BrokerHttpResponse;
    try {
      answer = await handler.start({ ...request('/auth/oidc/start', { ...worker, origin: ORIGIN }, 'POST'), body: { returnTo: '/' } });
    } finally {
      await provider.start();
    }
    expect(answer.status).toBe(502);
    expect(answer.body).toEqual({ error: 'provider_unavailable', message: SIGN_IN_ERROR_MESSAGES.provider_unavailable, location: '/?broker_error=provider_unavailable' });
    expect(JSON.stringify(answer.body)).not.toContain('127.0.0.1');
  } finally {
    await d.close();
  }
});

test("a provider's lifetime for its token: expires_in; else the JWT's exp; else a fixed 300 s, never due at once", () => {
  const now = 1_700_000_000_000;
  const jwt = (exp: number) => `e30.${Buffer.from(JSON.stringify({ exp })).toString('base64url')}.c2ln`;
  const tokens = (extra: Partial<oidc.TokenEndpointResponse>) => ({ access_token: 'opaque', token_type: 'bearer', ...extra }) as oidc.TokenEndpointResponse;
  expect(recordFromTokens(tokens({ expires_in: 120 }), now).expiresAt).toBe(now + 120_000);
  expect(recordFromTokens(tokens({ access_token: jwt(now / 1000 + 900) }), now).expiresAt).toBe(now + 900_000);
  expect(recordFromTokens(tokens({}), now).expiresAt).toBe(now + 300_000);
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
