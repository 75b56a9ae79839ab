// The broker's half of RFC 9470: tokens carry the sign-in's auth_time/acr/amr, a
// refresh keeps them (so refreshing never satisfies a max_age), and a route with a
// requirement refuses an old sign-in with the challenge, whatever store is behind it.
import { expect, test } from '@playwright/test';
import { decodeJwt } from 'jose';
import { memoryStore } from '../store/memory';
import type { BrokerHttpRequest } from '../core/http';
import { createTokenBroker, type TokenBrokerServerOptions } from '../core/token-broker';
import { newDpopKey, signProof } from '../../test-support/dpop-client';

const ORIGIN = 'http://127.0.0.1:8080';

function request(url: string, headers: Record<string, string> = {}, body: unknown = {}): BrokerHttpRequest {
  return { method: url.startsWith('/api') ? 'GET' : 'POST', url, origin: ORIGIN, headers: { 'x-token-broker': '1', 'sec-fetch-site': 'same-origin', ...headers }, body, ip: '10.0.0.1' };
}

async function setup(overrides: Partial<TokenBrokerServerOptions> = {}) {
  const clock = { ms: Date.now() };
  const broker = await createTokenBroker({
    // An account claiming its own acr/auth_time must not be able to pass for a fresh or strong sign-in.
    verifyCredentials: (c) => (c.username === 'alice' ? { sub: 'alice', claims: { acr: 'phr', auth_time: 9_999_999_999, role: 'admin' } } : null),
    store: memoryStore(),
    accessTokenTtl: 60,
    refreshIdleTtl: 3600,
    dpop: 'off',
    dpopNonce: false,
    now: () => clock.ms,
    ...overrides,
  });
  return { clock, broker };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

test('a login stamps auth_time, acr and amr; a refresh keeps the sign-in\'s, so an old sign-in stays old', async () => {
  const { clock, broker } = await setup();
  const login = await broker.login(request('/auth/login', {}, { username: 'alice' }));
  const signedInAt = Math.floor(clock.ms / 1000);
  const first = decodeJwt((login.body as { access_token: string }).access_token);
  expect(first).toMatchObject({ auth_time: signedInAt, acr: 'pwd', amr: ['pwd'], role: 'admin' });

  clock.ms += 600_000;
  const refreshed = await broker.refresh(request('/auth/refresh', { cookie: login.cookies[0]!.split(';')[0]! }));
  expect(refreshed.status).toBe(200);
  const token = (refreshed.body as { access_token: string }).access_token;
  expect(decodeJwt(token)).toMatchObject({ auth_time: signedInAt, acr: 'pwd' });

  const refused = await broker.authenticate(request('/api/transfer', bearer(token)), { maxAge: 300 });
  expect(refused.ok).toBe(false);
  if (refused.ok) return;
  expect(refused.response.status).toBe(401);
  expect(refused.response.body).toMatchObject({ error: 'insufficient_user_authentication' });
  expect(refused.response.headers['www-authenticate']).toContain('Bearer error="insufficient_user_authentication"');
  expect(refused.response.headers['www-authenticate']).toContain('max_age="300"');
  // The same token still passes a route without the requirement: step-up is per route.
  expect((await broker.authenticate(request('/api/me', bearer(token)))).ok).toBe(true);

  const again = await broker.login(request('/auth/login', {}, { username: 'alice' }));
  const fresh = (again.body as { access_token: string }).access_token;
  expect((await broker.authenticate(request('/api/transfer', bearer(fresh)), { maxAge: 300 })).ok).toBe(true);
  await broker.close();
});

test('acrValues: a password sign-in does not pass a route that asks for a passkey', async () => {
  const { broker } = await setup();
  const login = await broker.login(request('/auth/login', {}, { username: 'alice' }));
  const token = (login.body as { access_token: string }).access_token;
  const refused = await broker.authenticate(request('/api/transfer', bearer(token)), { acrValues: ['phr'] });
  expect(refused.ok).toBe(false);
  if (!refused.ok) expect(refused.response.headers['www-authenticate']).toContain('acr_values="phr"');
  expect((await broker.authenticate(request('/api/transfer', bearer(token)), { acrValues: ['pwd', 'phr'] })).ok).toBe(true);
  await broker.close();
});

test('DPoP: a proof checked by the plain guard is a replay to a step-up guard after it, so a route uses one guard', async () => {
  // The README's stated limitation: stacking requireAccessToken(broker) and requireAccessToken(broker, { maxAge })
  // on one route checks the single-use proof twice, and the second check refuses it.
  const { clock, broker } = await setup({ dpop: 'required' });
  const key = await newDpopKey();
  const iat = () => Math.floor(clock.ms / 1000);
  const login = await broker.login(request('/auth/login', { dpop: await signProof(key, { htm: 'POST', htu: `${ORIGIN}/auth/login`, iat: iat() }) }, { username: 'alice' }));
  const token = (login.body as { access_token: string }).access_token;
  const dpop = (proof: string) => ({ authorization: `DPoP ${token}`, dpop: proof });
  const proof = await signProof(key, { htm: 'GET', htu: `${ORIGIN}/api/transfer`, accessToken: token, iat: iat() });
  expect((await broker.authenticate(request('/api/transfer', dpop(proof)))).ok).toBe(true);
  const second = await broker.authenticate(request('/api/transfer', dpop(proof)), { maxAge: 300 });
  expect(second.ok).toBe(false);
  if (!second.ok) expect(second.response.body).toMatchObject({ error: 'invalid_dpop_proof' });
  // One guard with the requirement, one fresh proof: passes.
  const fresh = await signProof(key, { htm: 'GET', htu: `${ORIGIN}/api/transfer`, accessToken: token, iat: iat() });
  expect((await broker.authenticate(request('/api/transfer', dpop(fresh)), { maxAge: 300 })).ok).toBe(true);
  await broker.close();
});
