// Review (brief R): the retried logout. A logout the server did not take (503)
// is tried again after the cool-down, and a login since cancels it, because
// the browser's cookie is then the new session's. A login that FAILED set no
// cookie: the cookie is still the old family's, which stays live (for its idle
// lifetime) unless the retry goes. The broker runs in Node with a stub scope
// (no Web Locks), a stub fetch and an in-memory IndexedDB.
import { expect, test } from '@playwright/test';
import { installFakeIndexedDb } from '../test-support/fake-indexeddb';
import { Broker } from './broker';
import { resolveConfig } from './config';
import { recordFromToken } from './token-response';

installFakeIndexedDb();

const ORIGIN = 'https://app.test';

function stubScope(): ServiceWorkerGlobalScope {
  return {
    location: { origin: ORIGIN },
    navigator: {},
    registration: { scope: `${ORIGIN}/` },
    clients: { matchAll: async () => [], claim: async () => undefined },
  } as unknown as ServiceWorkerGlobalScope;
}

test('a login that fails (wrong password) does not cancel a logout waiting for its retry: the old family is still the cookie\'s', async () => {
  test.setTimeout(20_000);
  const logouts: number[] = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async (input: RequestInfo | URL) => {
    const path = String(input);
    if (path === '/auth/logout') {
      logouts.push(Date.now());
      // The backing's blip: the first logout is not taken, the next ones are.
      return logouts.length === 1
        ? new Response('{"error":"unavailable"}', { status: 503, headers: { 'retry-after': '1', 'content-type': 'application/json' } })
        : new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } });
    }
    if (path === '/auth/login') return new Response('{"error":"invalid_credentials"}', { status: 401, headers: { 'content-type': 'application/json' } });
    throw new Error(`unexpected fetch ${path}`);
  }) as typeof fetch;
  try {
    const broker = new Broker(stubScope(), resolveConfig({}, ORIGIN));
    expect(await broker.handle({ type: 'broker:logout' })).toMatchObject({ ok: true });
    expect(logouts).toHaveLength(1);
    // The user mistypes the password while the logout waits: no new session, no new cookie.
    expect(await broker.handle({ type: 'broker:login', credentials: { username: 'alice', password: 'typo' } })).toMatchObject({ ok: false, error: { code: 'invalid_credentials' } });
    // Past the first cool-down (at most 3 s, Retry-After 1 s).
    await new Promise((r) => setTimeout(r, 4_500));
    expect(logouts.length, 'the logout was tried again').toBeGreaterThanOrEqual(2);
  } finally {
    globalThis.fetch = realFetch;
  }
});

// The renewal check (README "Sliding renewal": "a renewal may only extend the lifetime"): every claim but
// exp/iat/nbf/jti must equal the held token's. Nothing compares the time claims themselves.
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = (claims: object) => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;

test('a renewal that shortens the lifetime, or drops exp (expiry unknown: never refreshed ahead), is not taken', async () => {
  const config = resolveConfig({ renewHeader: 'x-renewed-token' }, ORIGIN);
  const iat = Math.floor(Date.now() / 1000);
  for (const forged of [{ sub: 'alice', sid: 's1', iat, exp: iat + 1 }, { sub: 'alice', sid: 's1' }]) {
    const broker = new Broker(stubScope(), config);
    const held = jwt({ sub: 'alice', sid: 's1', iat, exp: iat + 300 });
    await broker.store.save(recordFromToken(held, 300, Date.now(), config));
    await broker.adoptRenewed(jwt(forged), broker.store.current!);
    expect(broker.store.current?.accessToken === held, JSON.stringify(forged)).toBe(true);
  }
});

test('a pending logout that page script planted (a far `until`, a body the worker never writes) is not sent; the worker\'s own kind is', async () => {
  test.setTimeout(20_000);
  const { createStore, set } = await import('idb-keyval');
  // Page script can write the worker's record: a logout "to retry" for ten years.
  await set('session', { token: null, signedOut: true, logout: { body: {}, until: Date.now() + 10 * 365 * 86400_000 } }, createStore('token-broker', 'records'));
  const logouts: number[] = [];
  const realFetch = globalThis.fetch;
  const realNow = Date.now;
  globalThis.fetch = (async () => {
    logouts.push(realNow());
    return new Response('{"error":"unavailable"}', { status: 503, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
  try {
    new Broker(stubScope(), resolveConfig({}, ORIGIN));
    // The worker's own pending logout is never due more than five minutes ahead: this one is not its own.
    await new Promise((r) => setTimeout(r, 4_000));
    expect(logouts).toHaveLength(0);
    // A body the worker never writes is not sent either.
    await set('session', { token: null, signedOut: true, logout: { body: { reason: 'x', extra: 1 }, until: Date.now() + 60_000 } }, createStore('token-broker', 'records'));
    new Broker(stubScope(), resolveConfig({}, ORIGIN));
    await new Promise((r) => setTimeout(r, 1_000));
    expect(logouts).toHaveLength(0);
    // The worker's own kind of record is sent.
    await set('session', { token: null, signedOut: true, logout: { body: { reason: 'account_changed' }, until: Date.now() + 60_000 } }, createStore('token-broker', 'records'));
    new Broker(stubScope(), resolveConfig({}, ORIGIN));
    await expect.poll(() => logouts.length).toBe(1);
  } finally {
    globalThis.fetch = realFetch;
    Date.now = realNow;
  }
});

test('a logout answered after a login made meanwhile (no Web Locks to order them) leaves that login\'s session in place', async () => {
  let answerLogout!: () => void;
  const realFetch = globalThis.fetch;
  const iat = Math.floor(Date.now() / 1000);
  globalThis.fetch = (async (input: RequestInfo | URL) => {
    const path = String(input);
    const json = (body: object) => new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
    if (path === '/auth/logout') return new Promise<Response>((resolve) => (answerLogout = () => resolve(json({ ok: true }))));
    if (path === '/auth/login') return json({ access_token: jwt({ sub: 'alice', iat, exp: iat + 300 }), token_type: 'Bearer', expires_in: 300 });
    throw new Error(`unexpected fetch ${path}`);
  }) as typeof fetch;
  try {
    const broker = new Broker(stubScope(), resolveConfig({}, ORIGIN));
    const out = broker.handle({ type: 'broker:logout' });
    await expect.poll(() => typeof answerLogout).toBe('function');
    // Another tab signs in while the logout is on the wire.
    expect(await broker.handle({ type: 'broker:login', credentials: { username: 'alice', password: 'wonderland' } })).toMatchObject({ ok: true });
    answerLogout();
    await out;
    expect(broker.store.current?.sub).toBe('alice');
    expect(await broker.handle({ type: 'broker:ping' })).toMatchObject({ ok: true, session: { authenticated: true } });
  } finally {
    globalThis.fetch = realFetch;
  }
});
