// A backing that fails (an app's own store, a replay cache, a rate limiter)
// makes the core answer 503 unavailable with Retry-After, reported once to
// onEvent; a bug elsewhere still surfaces as an error, not as a 503.
import { expect, test } from '@playwright/test';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { memoryStore } from '../store/memory';
import type { JtiStore } from '../store/jti';
import type { RefreshStore } from '../store/types';
import { newDpopKey, signProof } from '../../test-support/dpop-client';
import { guardBacking } from './backing';
import type { BrokerHttpRequest } from './http';
import { createTokenBroker, type BrokerEvent, type TokenBrokerServerOptions } from './token-broker';

const ORIGIN = 'http://127.0.0.1:8080';
const WORKER = { 'x-token-broker': '1', 'sec-fetch-site': 'same-origin', origin: ORIGIN };

function post(url: string, headers: Record<string, string> = {}, body: unknown = {}): BrokerHttpRequest {
  return { method: 'POST', url, origin: ORIGIN, headers: { ...WORKER, ...headers }, body, ip: '10.0.0.1' };
}

async function broker(options: Partial<TokenBrokerServerOptions>) {
  const events: BrokerEvent[] = [];
  const b = await createTokenBroker({
    verifyCredentials: (c) => (c.username === 'alice' ? { sub: 'alice' } : null),
    store: memoryStore(),
    dpop: 'optional',
    dpopNonce: false,
    onEvent: (e) => void events.push(e),
    ...options,
  });
  return { b, events };
}

/** A store that works until `down` is set, then every call rejects as a lost connection would. */
function flakyStore(): { store: RefreshStore; down: { value: boolean } } {
  const real = memoryStore();
  const down = { value: false };
  const store = new Proxy(real, {
    get(t, key) {
      const v = Reflect.get(t, key, t) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => (down.value ? Promise.reject(new Error('ECONNREFUSED')) : (v as (...a: unknown[]) => unknown).apply(t, args));
    },
  });
  return { store, down };
}

test('the refresh store down: login, refresh and logout answer 503 with Retry-After; nothing is cleared; it works again after', async () => {
  const { store, down } = flakyStore();
  const { b, events } = await broker({ store });
  const signedIn = await b.login(post('/auth/login', {}, { username: 'alice' }));
  expect(signedIn.status).toBe(200);
  const cookie = signedIn.cookies[0]!.split(';')[0]!;
  down.value = true;
  for (const response of [await b.login(post('/auth/login', {}, { username: 'alice' })), await b.refresh(post('/auth/refresh', { cookie })), await b.logout(post('/auth/logout', { cookie }))]) {
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ error: 'unavailable' });
    expect(response.headers['retry-after']).toBe('2');
    expect(response.cookies).toEqual([]);
  }
  expect(events.filter((e) => e === 'backing_unavailable')).toHaveLength(3);
  down.value = false;
  expect((await b.refresh(post('/auth/refresh', { cookie }))).status).toBe(200);
});

test('the replay cache down: a token endpoint proof and an API request with a DPoP proof answer 503, not 401 or 500', async () => {
  let down = false;
  const seen = new Set<string>();
  const jti: JtiStore = {
    claim: async (k) => {
      if (down) throw new Error('timeout');
      return !seen.has(k) && !!seen.add(k);
    },
    sweep: async () => 0,
    close: async () => undefined,
  };
  const { b } = await broker({ jti });
  const key = await newDpopKey();
  const signedIn = await b.login(post('/auth/login', { dpop: await signProof(key, { htm: 'POST', htu: `${ORIGIN}/auth/login` }) }, { username: 'alice' }));
  expect(signedIn.status).toBe(200);
  const token = (signedIn.body as { access_token: string }).access_token;
  down = true;
  const api = await b.authenticate({
    method: 'GET',
    url: '/api/me',
    origin: ORIGIN,
    headers: { authorization: `DPoP ${token}`, dpop: await signProof(key, { htm: 'GET', htu: `${ORIGIN}/api/me`, accessToken: token }) },
    ip: '10.0.0.1',
  });
  expect(api.ok).toBe(false);
  if (!api.ok) expect(api.response.status).toBe(503);
  const again = await b.login(post('/auth/login', { dpop: await signProof(key, { htm: 'POST', htu: `${ORIGIN}/auth/login` }) }, { username: 'alice' }));
  expect(again.status).toBe(503);
});

test('the rate-limit backing down: 503', async () => {
  const broken = new RateLimiterMemory({ points: 1, duration: 60 });
  broken.consume = () => Promise.reject(new Error('READONLY'));
  const { b } = await broker({ rateLimits: () => broken });
  expect((await b.login(post('/auth/login', {}, { username: 'alice' }))).status).toBe(503);
});

test('guardBacking names the backing, keeps values and synchronous results, and wraps synchronous throws', async () => {
  const target = {
    size: 3,
    sync: () => 7,
    boom: (): number => {
      throw new Error('sync');
    },
    async later() {
      throw new Error('async');
    },
  };
  const guarded = guardBacking('test backing', target);
  expect(guarded.size).toBe(3);
  expect(guarded.sync()).toBe(7);
  expect(() => guarded.boom()).toThrow('The test backing failed: sync');
  await expect(guarded.later()).rejects.toThrow('The test backing failed: async');
});

test('a failure that is not a backing is not turned into a 503', async () => {
  const { b } = await broker({
    verifyCredentials: () => {
      throw new Error('bug in the app');
    },
  });
  await expect(b.login(post('/auth/login', {}, { username: 'alice' }))).rejects.toThrow('bug in the app');
});
