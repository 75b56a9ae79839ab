// Instant revocation: once a family ends, by whatever way, authenticate()
// refuses its access tokens (tied by `sid`) at once, on every instance that
// shares the store, with a stable 401 code; a store that cannot answer is a 503.
import { expect, test } from '@playwright/test';
import { exportJWK, generateKeyPair } from 'jose';
import { memoryStore, memoryStoreBacking } from '../store/memory';
import type { RefreshStore } from '../store/types';
import { newDpopKey, signProof } from '../../test-support/dpop-client';
import type { BrokerHttpRequest } from './http';
import { createTokenBroker, type BrokerEvent, type TokenBrokerServerOptions } from './token-broker';

const ORIGIN = 'http://127.0.0.1:8080';
const WORKER = { 'x-token-broker': '1', 'sec-fetch-site': 'same-origin', origin: ORIGIN };
// Instances sharing a store share these, as the README tells deployments to.
const SECRET = Buffer.alloc(32, 7).toString('base64url');

function post(url: string, headers: Record<string, string> = {}, body: unknown = {}): BrokerHttpRequest {
  return { method: 'POST', url, origin: ORIGIN, headers: { ...WORKER, ...headers }, body, ip: '10.0.0.1' };
}

async function broker(options: Partial<TokenBrokerServerOptions> = {}) {
  const events: BrokerEvent[] = [];
  const b = await createTokenBroker({
    verifyCredentials: (c) => (typeof c.username === 'string' ? { sub: c.username } : null),
    store: memoryStore(),
    refreshSecret: SECRET,
    rotationGraceSeconds: 0,
    onEvent: (e) => void events.push(e),
    ...options,
  });
  return { b, events };
}

type Broker = Awaited<ReturnType<typeof broker>>['b'];

async function signIn(b: Broker, username = 'alice') {
  const response = await b.login(post('/auth/login', {}, { username }));
  expect(response.status).toBe(200);
  return { token: (response.body as { access_token: string }).access_token, cookie: response.cookies[0]!.split(';')[0]! };
}

async function api(b: Broker, token: string, scheme = 'Bearer', extra: Record<string, string> = {}) {
  const result = await b.authenticate({ method: 'GET', url: '/api/me', origin: ORIGIN, headers: { authorization: `${scheme} ${token}`, ...extra }, ip: '10.0.0.1' });
  return result.ok ? { status: 200, body: result.claims as unknown, headers: result.headers } : { status: result.response.status, body: result.response.body, headers: result.response.headers };
}

const REVOKED = { status: 401, body: { error: 'token_revoked' } };

test('a logout refuses that session\'s access token at once, and only that session\'s', async () => {
  const { b, events } = await broker();
  const [mine, other] = [await signIn(b), await signIn(b)];
  expect(await api(b, mine.token)).toMatchObject({ status: 200 });
  expect((await b.logout(post('/auth/logout', { cookie: mine.cookie }))).status).toBe(200);
  const refused = await api(b, mine.token);
  expect(refused).toMatchObject(REVOKED);
  expect(refused.headers['www-authenticate']).toBe('Bearer error="invalid_token", error_description="revoked"');
  expect(await api(b, other.token)).toMatchObject({ status: 200, body: { sub: 'alice' } });
  expect(events.filter((e) => e === 'api_unauthorized')).toHaveLength(1);
});

test('the worker\'s own logouts (account_changed, key_replaced) refuse the access token too', async () => {
  const { b } = await broker();
  for (const reason of ['account_changed', 'key_replaced']) {
    const session = await signIn(b);
    expect((await b.logout(post('/auth/logout', { cookie: session.cookie }, { reason }))).status).toBe(200);
    expect(await api(b, session.token)).toMatchObject(REVOKED);
  }
});

test('sign out everywhere refuses every access token of the user, and no one else\'s', async () => {
  const { b } = await broker();
  const alice = [await signIn(b), await signIn(b)];
  const bob = await signIn(b, 'bob');
  expect(await b.revokeUser('alice')).toBe(2);
  for (const s of alice) expect(await api(b, s.token)).toMatchObject(REVOKED);
  expect(await api(b, bob.token)).toMatchObject({ status: 200 });
  // A sign-in after it is a new session, not refused.
  expect(await api(b, (await signIn(b)).token)).toMatchObject({ status: 200 });
});

test('reuse detected in a refresh refuses the family\'s access tokens, the one issued before and the one after the rotation', async () => {
  const { b } = await broker();
  const first = await signIn(b);
  const rotated = await b.refresh(post('/auth/refresh', { cookie: first.cookie }));
  expect(rotated.status).toBe(200);
  const second = (rotated.body as { access_token: string }).access_token;
  expect(await api(b, second)).toMatchObject({ status: 200 });
  // The rotated cookie again, after the grace window (0 s): reuse, the family is revoked.
  expect((await b.refresh(post('/auth/refresh', { cookie: first.cookie }))).status).toBe(401);
  expect(await api(b, first.token)).toMatchObject(REVOKED);
  expect(await api(b, second)).toMatchObject(REVOKED);
});

test('revokeSession(sid), the admin call, ends one session: its access and refresh tokens are refused', async () => {
  const { b } = await broker();
  const [target, kept] = [await signIn(b), await signIn(b)];
  const claims = (await api(b, target.token)).body as { sid: string };
  expect(await b.revokeSession(claims.sid)).toBe(true);
  expect(await b.revokeSession(claims.sid)).toBe(false);
  expect(await b.revokeSession('no-such-session')).toBe(false);
  expect(await api(b, target.token)).toMatchObject(REVOKED);
  expect((await b.refresh(post('/auth/refresh', { cookie: target.cookie }))).status).toBe(401);
  expect(await api(b, kept.token)).toMatchObject({ status: 200 });
});

test('a revocation on one instance is refused at once on another that shares the store', async () => {
  const backing = memoryStoreBacking();
  const key = JSON.stringify(await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey));
  const [{ b: a }, { b: other }] = [await broker({ store: backing.open(), signingKey: key }), await broker({ store: backing.open(), signingKey: key })];
  const session = await signIn(a);
  expect(await api(other, session.token)).toMatchObject({ status: 200 });
  expect((await a.logout(post('/auth/logout', { cookie: session.cookie }))).status).toBe(200);
  expect(await api(other, session.token)).toMatchObject(REVOKED);
});

test('a DPoP-bound token of an ended session is refused with the DPoP challenge and the same code', async () => {
  const { b } = await broker({ dpop: 'required', dpopNonce: false });
  const key = await newDpopKey();
  const response = await b.login(post('/auth/login', { dpop: await signProof(key, { htm: 'POST', htu: `${ORIGIN}/auth/login` }) }, { username: 'alice' }));
  const token = (response.body as { access_token: string }).access_token;
  const proof = async () => ({ dpop: await signProof(key, { htm: 'GET', htu: `${ORIGIN}/api/me`, accessToken: token }) });
  expect(await api(b, token, 'DPoP', await proof())).toMatchObject({ status: 200 });
  await b.revokeUser('alice');
  const refused = await api(b, token, 'DPoP', await proof());
  expect(refused).toMatchObject(REVOKED);
  expect(refused.headers['www-authenticate']).toMatch(/^DPoP error="invalid_token"/);
});

test('revocationCheck: false leaves access tokens valid until they expire', async () => {
  const { b } = await broker({ revocationCheck: false });
  const session = await signIn(b);
  await b.logout(post('/auth/logout', { cookie: session.cookie }));
  expect(await api(b, session.token)).toMatchObject({ status: 200 });
});

test('a store that cannot answer the check fails closed: 503 unavailable, never the route, never a 500', async () => {
  const real = memoryStore();
  let down = false;
  const store: RefreshStore = { ...real, accessRevoked: (id, now) => (down ? Promise.reject(new Error('ECONNREFUSED')) : real.accessRevoked(id, now)) };
  const { b, events } = await broker({ store });
  const session = await signIn(b);
  down = true;
  const refused = await api(b, session.token);
  expect(refused).toMatchObject({ status: 503, body: { error: 'unavailable' } });
  expect(refused.headers['retry-after']).toBe('2');
  expect(events).toContain('backing_unavailable');
  down = false;
  expect(await api(b, session.token)).toMatchObject({ status: 200 });
});

test('with revocationCheck: false a store that cannot answer leaves bearer API routes going on (a token needs only its signature)', async () => {
  const real = memoryStore();
  let down = false;
  const store: RefreshStore = { ...real, accessRevoked: (id, now) => (down ? Promise.reject(new Error('ECONNREFUSED')) : real.accessRevoked(id, now)) };
  const { b } = await broker({ store, revocationCheck: false });
  const session = await signIn(b);
  down = true;
  expect(await api(b, session.token)).toMatchObject({ status: 200 });
});

test('on a step-up route a revoked session\'s token is refused as revoked, not sent to sign in again', async () => {
  const { b } = await broker();
  const session = await signIn(b);
  await b.logout(post('/auth/logout', { cookie: session.cookie }));
  const result = await b.authenticate({ method: 'GET', url: '/api/pay', origin: ORIGIN, headers: { authorization: `Bearer ${session.token}` }, ip: '10.0.0.1' }, { acrValues: ['phr'] });
  expect(result.ok ? 200 : { status: result.response.status, body: result.response.body }).toMatchObject(REVOKED);
});
