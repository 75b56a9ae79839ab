// The lifetime policy through createTokenBroker: a family's lifetimes come from the hook at login
// (known device 7 days, new device 2 hours), the defaults stay without a hook, and a broken hook breaks no login.
import { expect, test } from '@playwright/test';
import { memoryStore } from '../store/memory';
import type { BrokerHttpRequest } from '../core/http';
import { createTokenBroker } from '../core/token-broker';
import type { LifetimeLogin, LifetimePolicy } from './lifetime-policy';

const ORIGIN = 'http://127.0.0.1:8080';
const hour = 3_600_000;
const day = 24 * hour;

function request(url: string, headers: Record<string, string> = {}, body: unknown = {}): BrokerHttpRequest {
  return { method: 'POST', url, origin: ORIGIN, headers: { 'x-token-broker': '1', 'sec-fetch-site': 'same-origin', 'user-agent': 'Chrome', ...headers }, body, ip: '198.51.100.7' };
}
const cookieOf = (response: { cookies: string[] }) => response.cookies[0]!.split(';')[0]!;
const alice = { username: 'alice', password: 'right' };

async function broker(lifetimePolicy?: LifetimePolicy) {
  let now = 0;
  const seen: LifetimeLogin[] = [];
  const lines: string[] = [];
  const server = await createTokenBroker({
    verifyCredentials: (c) => (c.username === 'alice' && c.password === 'right' ? { sub: 'alice' } : null),
    store: memoryStore(),
    dpop: 'off',
    now: () => now,
    securityEvents: { log: (l) => lines.push(l) },
    ...(lifetimePolicy ? { lifetimePolicy: (l: LifetimeLogin) => (seen.push(l), lifetimePolicy(l)) } : {}),
  });
  let cookie = '';
  const login = async () => {
    const r = await server.login(request('/auth/login', {}, alice));
    expect(r.status).toBe(200);
    cookie = cookieOf(r);
  };
  /** Refreshes at `at` ms; the status, keeping the new cookie. */
  const refreshAt = async (at: number) => {
    now = at;
    const r = await server.refresh(request('/auth/refresh', { cookie }));
    if (r.status === 200) cookie = cookieOf(r);
    return r.status;
  };
  return { server, seen, lines, login, refreshAt, setNow: (t: number) => (now = t) };
}

const designs: LifetimePolicy = ({ knownDevice }) => (knownDevice ? { idleTtl: 7 * 86400 } : { idleTtl: 2 * 3600, absoluteTtl: 2 * 3600 });

test('a new device gets 2 hours: its family ends at 2 hours however it is used', async () => {
  const b = await broker(designs);
  await b.login();
  expect(b.seen).toEqual([expect.objectContaining({ sub: 'alice', knownDevice: false, device: expect.objectContaining({ ipPrefix: '198.51.100.0/24', userAgent: 'Chrome' }) })]);
  expect(await b.refreshAt(hour)).toBe(200);
  expect(await b.refreshAt(2 * hour)).toBe(401);
  await b.server.close();
});

test('a known device gets 7 days idle: alive past 2 hours, ended after 7 idle days (not the default 14)', async () => {
  const b = await broker(designs);
  await b.login();
  b.setNow(hour);
  await b.login();
  expect(b.seen.map((l) => l.knownDevice)).toEqual([false, true]);
  expect(await b.refreshAt(hour + 3 * hour)).toBe(200);
  expect(await b.refreshAt(4 * hour + 6 * day)).toBe(200);
  expect(await b.refreshAt(4 * hour + 13 * day)).toBe(401);
  await b.server.close();
});

test('without a hook the defaults stand: 14 days idle', async () => {
  const b = await broker();
  await b.login();
  expect(await b.refreshAt(3 * hour)).toBe(200);
  expect(await b.refreshAt(3 * hour + 13 * day)).toBe(200);
  expect(await b.refreshAt(3 * hour + 27 * day + 1)).toBe(401);
  await b.server.close();
});

test('a hook that throws breaks no login: the defaults apply and a hook_failed line is logged', async () => {
  const b = await broker(() => {
    throw new Error('hook broke');
  });
  await b.login();
  expect(await b.refreshAt(3 * hour)).toBe(200);
  expect(await b.refreshAt(3 * hour + 13 * day)).toBe(200);
  expect(b.lines.map((l) => JSON.parse(l))).toContainEqual(expect.objectContaining({ event: 'hook_failed', hook: 'lifetimePolicy', message: 'hook broke' }));
  await b.server.close();
});
