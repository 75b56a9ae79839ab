// The security events through createTokenBroker: each event type raised by the request that
// causes it, the policy's revoke acting on the request in progress, a broken hook breaking nothing,
// and no event about a sub from a request that cannot name one.
import { expect, test } from '@playwright/test';
import { memoryStore } from '../store/memory';
import { newDpopKey, signProof } from '../../test-support/dpop-client';
import type { BrokerHttpRequest } from '../core/http';
import { createTokenBroker } from '../core/token-broker';
import type { PolicyAction, SecurityEvent } from './types';

const ORIGIN = 'http://127.0.0.1:8080';

function request(url: string, headers: Record<string, string> = {}, body: unknown = {}, ip = '198.51.100.7'): BrokerHttpRequest {
  return { method: 'POST', url, origin: ORIGIN, headers: { 'x-token-broker': '1', 'sec-fetch-site': 'same-origin', 'user-agent': 'Chrome', ...headers }, body, ip };
}
const cookieOf = (response: { cookies: string[] }) => response.cookies[0]!.split(';')[0]!;

async function broker(policy: (e: SecurityEvent) => PolicyAction | void = () => undefined, dpop: 'off' | 'optional' = 'off') {
  const events: SecurityEvent[] = [];
  const lines: string[] = [];
  const server = await createTokenBroker({
    verifyCredentials: (c) => (c.username === 'alice' && c.password === 'right' ? { sub: 'alice' } : null),
    store: memoryStore(),
    dpop,
    dpopNonce: false,
    rotationGraceSeconds: 0,
    securityEvents: { policy: (e) => (events.push(e), policy(e)), log: (l) => lines.push(l), loginFailureThreshold: 3 },
  });
  return { server, events, lines, types: () => events.map((e) => e.type) };
}
const alice = { username: 'alice', password: 'right' };

test('login: the event names sub, family and device (IP prefix, user agent), and the log line carries no token or cookie', async () => {
  const { server, events, lines } = await broker();
  const login = await server.login(request('/auth/login', {}, alice));
  expect(events).toEqual([{ type: 'login', sub: 'alice', family: expect.any(String), device: { jkt: null, ipPrefix: '198.51.100.0/24', userAgent: 'Chrome' }, newDevice: true }]);
  const token = cookieOf(login).split('=')[1]!;
  expect(lines.join('\n')).not.toContain(token);
  expect(lines.join('\n')).not.toContain((login.body as { access_token: string }).access_token);
  await server.close();
});

test('login failures: one event at the threshold, for the account typed; none before', async () => {
  const { server, events } = await broker();
  for (let i = 0; i < 4; i++) await server.login(request('/auth/login', {}, { username: 'alice', password: 'wrong' }));
  expect(events).toEqual([{ type: 'login_failures', account: 'alice', failures: 3, threshold: 3, device: expect.objectContaining({ ipPrefix: '198.51.100.0/24' }) }]);
  await server.close();
});

test('new device: a login from another network when the account knew a device, and a refresh whose network or browser changed', async () => {
  const { server, events, types } = await broker();
  const login = await server.login(request('/auth/login', {}, alice));
  await server.login(request('/auth/login', {}, alice, '203.0.113.9'));
  expect(types()).toEqual(['login', 'login', 'new_device']);
  events.length = 0;
  const refreshed = await server.refresh(request('/auth/refresh', { cookie: cookieOf(login), 'user-agent': 'Firefox' }));
  expect(refreshed.status).toBe(200);
  expect(events).toEqual([{ type: 'new_device', sub: 'alice', family: expect.any(String), device: expect.objectContaining({ userAgent: 'Firefox' }), changed: ['user_agent'] }]);
  await server.close();
});

test('a policy revoke on new_device ends the family: the refresh answers 401 session_revoked and family_revoked follows', async () => {
  const { server, types } = await broker((e) => (e.type === 'new_device' ? 'revoke' : 'notify'));
  const login = await server.login(request('/auth/login', {}, alice));
  const refreshed = await server.refresh(request('/auth/refresh', { cookie: cookieOf(login) }, {}, '203.0.113.9'));
  expect(refreshed.status).toBe(401);
  expect(refreshed.body).toMatchObject({ error: 'session_revoked' });
  expect(types()).toEqual(['login', 'new_device', 'family_revoked']);
  // Revoked in the store, not just refused once.
  const again = await server.refresh(request('/auth/refresh', { cookie: cookieOf(login) }));
  expect(again.status).toBe(401);
  await server.close();
});

test('reuse: a rotated refresh token presented again raises reuse_detected and family_revoked', async () => {
  const { server, events, types } = await broker();
  const login = await server.login(request('/auth/login', {}, alice));
  const first = await server.refresh(request('/auth/refresh', { cookie: cookieOf(login) }));
  expect(first.status).toBe(200);
  const replay = await server.refresh(request('/auth/refresh', { cookie: cookieOf(login) }));
  expect(replay.status).toBe(401);
  expect(types()).toEqual(['login', 'reuse_detected', 'family_revoked']);
  expect(events[2]).toMatchObject({ sub: 'alice', reason: 'reuse' });
  await server.close();
});

test('foreign key: a refresh of a DPoP-bound family without its key raises foreign_key; revoke then ends the family', async () => {
  const key = await newDpopKey();
  const other = await newDpopKey();
  const proof = (k: typeof key, url: string) => signProof(k, { htm: 'POST', htu: `${ORIGIN}${url}` });
  const { server, types } = await broker((e) => (e.type === 'foreign_key' ? 'revoke' : 'notify'), 'optional');
  const login = await server.login(request('/auth/login', { dpop: await proof(key, '/auth/login') }, alice));
  expect(login.status).toBe(200);
  const foreign = await server.refresh(request('/auth/refresh', { cookie: cookieOf(login), dpop: await proof(other, '/auth/refresh') }));
  expect(foreign.status).toBe(401);
  expect(foreign.body).toMatchObject({ error: 'session_revoked' });
  expect(types()).toEqual(['login', 'foreign_key', 'family_revoked']);
  const owner = await server.refresh(request('/auth/refresh', { cookie: cookieOf(login), dpop: await proof(key, '/auth/refresh') }));
  expect(owner.status).toBe(401);
  await server.close();
});

test('foreign key: an old rotated cookie with a wrong or no key raises nothing and leaves the live family (a revoke on foreign_key included)', async () => {
  const key = await newDpopKey();
  const other = await newDpopKey();
  const proof = (k: typeof key, url: string) => signProof(k, { htm: 'POST', htu: `${ORIGIN}${url}` });
  const { server, types } = await broker((e) => (e.type === 'foreign_key' ? 'revoke' : 'notify'), 'optional');
  const login = await server.login(request('/auth/login', { dpop: await proof(key, '/auth/login') }, alice));
  const rotated = await server.refresh(request('/auth/refresh', { cookie: cookieOf(login), dpop: await proof(key, '/auth/refresh') }));
  expect(rotated.status).toBe(200);
  // The stale cookie (a backup, an old device) in an attacker's hands, with the attacker's key and with none.
  for (const dpop of [await proof(other, '/auth/refresh'), null]) {
    const stale = await server.refresh(request('/auth/refresh', { cookie: cookieOf(login), ...(dpop && { dpop }) }));
    expect(stale.status).toBe(401);
    expect(stale.body).toMatchObject({ error: 'invalid_grant' });
  }
  expect(types()).toEqual(['login']);
  // The owner's live cookie still refreshes with its key.
  const owner = await server.refresh(request('/auth/refresh', { cookie: cookieOf(rotated), dpop: await proof(key, '/auth/refresh') }));
  expect(owner.status).toBe(200);
  await server.close();
});

test('a hook that throws, or a logger that throws, breaks neither login nor refresh; the failure is logged', async () => {
  const { server, lines } = await broker(() => {
    throw new Error('hook broke');
  });
  const login = await server.login(request('/auth/login', {}, alice));
  expect(login.status).toBe(200);
  expect((await server.refresh(request('/auth/refresh', { cookie: cookieOf(login) }, {}, '203.0.113.9'))).status).toBe(200);
  expect(lines.some((l) => JSON.parse(l).event === 'policy_failed')).toBe(true);
  const quiet = await createTokenBroker({ verifyCredentials: () => ({ sub: 'alice' }), store: memoryStore(), securityEvents: { log: () => { throw new Error('disk full'); } } });
  expect((await quiet.login(request('/auth/login', {}, alice))).status).toBe(200);
  await quiet.close();
  await server.close();
});

test('an anonymous request raises no event about a sub: no cookie, a made-up cookie, a logout', async () => {
  const { server, events } = await broker();
  await server.refresh(request('/auth/refresh'));
  await server.refresh(request('/auth/refresh', { cookie: `broker_rt=${'A'.repeat(43)}` }));
  await server.logout(request('/auth/logout', { cookie: `broker_rt=${'A'.repeat(43)}` }, { reason: 'account_changed' }));
  expect(events).toEqual([]);
  await server.close();
});
