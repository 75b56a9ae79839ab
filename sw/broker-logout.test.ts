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

/** A stub of the token endpoints whose answers the test gives, in the order it chooses; `log` is the order the worker saw. */
function heldEndpoints() {
  const log: string[] = [];
  const waiting = new Map<string, () => void>();
  const iat = Math.floor(Date.now() / 1000);
  const json = (body: object) => new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
  const fetchStub = (async (input: RequestInfo | URL) => {
    const path = String(input);
    log.push(path);
    const body = path === '/auth/login' ? { access_token: jwt({ sub: 'alice', iat, exp: iat + 300 }), token_type: 'Bearer', expires_in: 300 } : { ok: true };
    return new Promise<Response>((resolve) =>
      waiting.set(path, () => {
        log.push(`${path} answered`);
        resolve(json(body));
      }),
    );
  }) as typeof fetch;
  const answer = (path: string) => {
    waiting.get(path)!();
    waiting.delete(path);
  };
  return { log, fetchStub, answer, asked: (path: string) => waiting.has(path) };
}

type HeldEndpoints = ReturnType<typeof heldEndpoints>;

/** Runs `body` with a broker whose token endpoints answer only when the test says. */
async function withHeldEndpoints(body: (endpoints: HeldEndpoints, broker: Broker) => Promise<void>): Promise<void> {
  const endpoints = heldEndpoints();
  const realFetch = globalThis.fetch;
  globalThis.fetch = endpoints.fetchStub;
  try {
    const broker = new Broker(stubScope(), resolveConfig({}, ORIGIN));
    await broker.store.ready();
    await body(endpoints, broker);
  } finally {
    globalThis.fetch = realFetch;
  }
}

// No Web Locks here (as in a browser without them, or past the lock's bounded wait): the worker's own queue orders them.
test.describe('logins and logouts in the order asked', () => {
  // An earlier test's record (a logout to retry) would be sent first, and these stubs answer only when told.
  test.beforeEach(async () => {
    const { createStore, del } = await import('idb-keyval');
    await del('session', createStore('token-broker', 'records'));
  });

test('a login asked for while a logout is on the wire waits for its answer (which clears the refresh cookie), and its session is kept', async () => {
  await withHeldEndpoints(async (endpoints, broker) => {
    const out = broker.handle({ type: 'broker:logout' });
    await expect.poll(() => endpoints.asked('/auth/logout')).toBe(true);
    // Signed out here at once, before the server answers.
    expect(broker.store.current).toBeNull();
    const signingIn = broker.handle({ type: 'broker:login', credentials: { username: 'alice', password: 'wonderland' } });
    await new Promise((r) => setTimeout(r, 300));
    expect(endpoints.log, 'no login on the wire before the logout is answered').toEqual(['/auth/logout']);
    endpoints.answer('/auth/logout');
    expect(await out).toMatchObject({ ok: true, session: { authenticated: false } });
    await expect.poll(() => endpoints.asked('/auth/login')).toBe(true);
    endpoints.answer('/auth/login');
    expect(await signingIn).toMatchObject({ ok: true, session: { authenticated: true } });
    expect(endpoints.log).toEqual(['/auth/logout', '/auth/logout answered', '/auth/login', '/auth/login answered']);
    expect(broker.store.current?.sub).toBe('alice');
  });
});

test('a logout asked for while a login is on the wire comes after it and ends that session: the last thing the user asked for wins', async () => {
  await withHeldEndpoints(async (endpoints, broker) => {
    const signingIn = broker.handle({ type: 'broker:login', credentials: { username: 'alice', password: 'wonderland' } });
    await expect.poll(() => endpoints.asked('/auth/login')).toBe(true);
    const out = broker.handle({ type: 'broker:logout' });
    await new Promise((r) => setTimeout(r, 300));
    expect(endpoints.log, 'no logout on the wire before the login is answered').toEqual(['/auth/login']);
    endpoints.answer('/auth/login');
    expect(await signingIn).toMatchObject({ ok: true });
    // The logout carries the cookie the login set: the server revokes the new session.
    await expect.poll(() => endpoints.asked('/auth/logout')).toBe(true);
    expect(broker.store.current).toBeNull();
    endpoints.answer('/auth/logout');
    expect(await out).toMatchObject({ ok: true, session: { authenticated: false } });
    expect(endpoints.log).toEqual(['/auth/login', '/auth/login answered', '/auth/logout', '/auth/logout answered']);
    expect(await broker.handle({ type: 'broker:ping' })).toMatchObject({ ok: true, session: { authenticated: false } });
  });
});
});
