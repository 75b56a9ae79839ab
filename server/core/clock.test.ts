// createTokenBroker({ now }): the one clock the broker reads. A server whose
// clock is wrong is judged by that clock everywhere (tokens, refresh families,
// DPoP windows), and tests and the soak step it without touching Date.
import { expect, test } from '@playwright/test';
import { decodeJwt } from 'jose';
import { memoryStore } from '../store/memory';
import { newDpopKey, signProof } from '../../test-support/dpop-client';
import type { BrokerHttpRequest } from './http';
import { createTokenBroker } from './token-broker';

const ORIGIN = 'http://127.0.0.1:8080';
const HOUR = 3600_000;

function request(url: string, headers: Record<string, string> = {}, body: unknown = {}): BrokerHttpRequest {
  return { method: url.startsWith('/api') ? 'GET' : 'POST', url, origin: ORIGIN, headers: { 'x-token-broker': '1', 'sec-fetch-site': 'same-origin', ...headers }, body, ip: '10.0.0.1' };
}

async function brokerAt(clock: { ms: number }, options: { dpop?: 'off' | 'optional' } = {}) {
  return createTokenBroker({
    verifyCredentials: (c) => (c.username === 'alice' ? { sub: 'alice' } : null),
    store: memoryStore(),
    accessTokenTtl: 60,
    refreshIdleTtl: 600,
    dpop: options.dpop ?? 'off',
    dpopNonce: false,
    now: () => clock.ms,
  });
}

test('access tokens are stamped and judged by the injected clock, not by Date', async () => {
  const clock = { ms: Date.now() + 5 * HOUR };
  const broker = await brokerAt(clock);
  const login = await broker.login(request('/auth/login', {}, { username: 'alice' }));
  expect(login.status).toBe(200);
  const token = (login.body as { access_token: string }).access_token;
  const claims = decodeJwt(token);
  expect(claims.iat).toBe(Math.floor(clock.ms / 1000));
  expect(claims.exp).toBe(Math.floor(clock.ms / 1000) + 60);
  // Valid by the broker's clock although Date says it is not issued yet; expired once that clock passes exp.
  expect((await broker.authenticate(request('/api/me', { authorization: `Bearer ${token}` }))).ok).toBe(true);
  clock.ms += 61_000;
  expect((await broker.authenticate(request('/api/me', { authorization: `Bearer ${token}` }))).ok).toBe(false);
  await broker.close();
});

test('a refresh family goes idle by the injected clock', async () => {
  const clock = { ms: Date.now() };
  const broker = await brokerAt(clock);
  const login = await broker.login(request('/auth/login', {}, { username: 'alice' }));
  const cookie = login.cookies[0]!.split(';')[0]!;
  clock.ms += 601_000;
  const refreshed = await broker.refresh(request('/auth/refresh', { cookie }));
  expect(refreshed.status).toBe(401);
  expect(refreshed.body).toMatchObject({ error: 'invalid_grant' });
  await broker.close();
});

test('DPoP proofs are judged by the injected clock: a proof signed by the real time is out of the window of a broker an hour ahead', async () => {
  const key = await newDpopKey();
  const proof = (url: string) => signProof(key, { htm: 'POST', htu: `${ORIGIN}${url}` });
  const inTime = await brokerAt({ ms: Date.now() }, { dpop: 'optional' });
  expect((await inTime.login(request('/auth/login', { dpop: await proof('/auth/login') }, { username: 'alice' }))).status).toBe(200);
  const ahead = await brokerAt({ ms: Date.now() + HOUR }, { dpop: 'optional' });
  const late = await ahead.login(request('/auth/login', { dpop: await proof('/auth/login') }, { username: 'alice' }));
  // The iat window is judged by the broker's clock: an hour off asks for a nonce instead of signing in.
  expect(late.status).toBe(400);
  expect(late.body).toMatchObject({ error: 'use_dpop_nonce' });
  await inTime.close();
  await ahead.close();
});
