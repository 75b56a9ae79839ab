// The passkey endpoints in Node, without an authenticator: challenges bound to the
// session and purpose, one-time and short-lived; options shaped for user
// verification; the refusals (CSRF, an old sign-in adding a passkey, bad bodies).
import { expect, test } from '@playwright/test';
import { memoryStore } from '../store/memory';
import type { BrokerHttpRequest } from '../core/http';
import { createTokenBroker } from '../core/token-broker';
import { challengeKey, ChallengeBook } from './challenges';
import { createPasskeys } from './passkeys';
import { isCeremonyResponse, passkeyUserId } from './shape';
import { memoryPasskeyStore } from './store';

const ORIGIN = 'http://localhost:8080';

async function setup() {
  const clock = { ms: Date.now() };
  const broker = await createTokenBroker({ verifyCredentials: (c) => ({ sub: String(c.username) }), store: memoryStore(), dpop: 'off', accessTokenTtl: 3600, now: () => clock.ms });
  const store = memoryPasskeyStore();
  const passkeys = createPasskeys(broker, { store, rpName: 'Test', rpID: 'localhost', origins: [ORIGIN], now: () => clock.ms });
  const req = (url: string, token: string, body: unknown = {}, headers: Record<string, string> = {}): BrokerHttpRequest => ({
    method: 'POST', url, origin: ORIGIN, body, ip: '10.0.0.1',
    headers: { 'x-token-broker': '1', 'sec-fetch-site': 'same-origin', authorization: `Bearer ${token}`, ...headers },
  });
  const login = await broker.login({ method: 'POST', url: '/auth/login', origin: ORIGIN, headers: { 'x-token-broker': '1', 'sec-fetch-site': 'same-origin' }, body: { username: 'alice' }, ip: '10.0.0.1' });
  const token = (login.body as { access_token: string }).access_token;
  return { clock, broker, store, passkeys, req, token };
}

test('challenges: one per session and purpose, taken once, dead after their time', async () => {
  const clock = { ms: 1_000 };
  const book = new ChallengeBook(memoryPasskeyStore(), 120_000, () => clock.ms);
  await book.put(challengeKey('s1', 'step-up'), 'a');
  await book.put(challengeKey('s2', 'step-up'), 'b');
  expect(await book.take(challengeKey('s1', 'register'))).toBeNull();
  expect(await book.take(challengeKey('s1', 'step-up'))).toBe('a');
  expect(await book.take(challengeKey('s1', 'step-up'))).toBeNull();
  clock.ms += 120_000;
  expect(await book.take(challengeKey('s2', 'step-up'))).toBeNull();
});

test('registration options ask for user verification, exclude the passkeys already there and do not show the sub', async () => {
  const { passkeys, req, token, store } = await setup();
  await store.addCredential({ id: 'existing', userId: 'alice', publicKey: 'x', counter: 0, transports: ['internal'], createdAt: 1 });
  const res = await passkeys.handle(req('/auth/passkey/register-options', token));
  expect(res.status).toBe(200);
  const { options } = res.body as { options: Record<string, unknown> & { user: { id: string }; authenticatorSelection: unknown; excludeCredentials: unknown[] } };
  expect(options.authenticatorSelection).toMatchObject({ userVerification: 'required' });
  expect(options.excludeCredentials).toEqual([{ id: 'existing', type: 'public-key', transports: ['internal'] }]);
  expect(options.user.id).toBe(Buffer.from(passkeyUserId('alice')).toString('base64url'));
  expect(options.user.id).not.toContain(Buffer.from('alice').toString('base64url'));
  expect(options.rp).toEqual({ name: 'Test', id: 'localhost' });
});

test('step-up options name only the account\'s passkeys; none registered is a stable invalid_passkey', async () => {
  const { passkeys, req, token, store } = await setup();
  const none = await passkeys.handle(req('/auth/passkey/step-up-options', token));
  expect(none.status).toBe(400);
  expect(none.body).toMatchObject({ error: 'invalid_passkey' });
  await store.addCredential({ id: 'mine', userId: 'alice', publicKey: 'x', counter: 0, transports: [], createdAt: 1 });
  await store.addCredential({ id: 'bobs', userId: 'bob', publicKey: 'x', counter: 0, transports: [], createdAt: 1 });
  const res = await passkeys.handle(req('/auth/passkey/step-up-options', token));
  expect((res.body as { options: { allowCredentials: { id: string }[]; userVerification: string } }).options).toMatchObject({ allowCredentials: [{ id: 'mine' }], userVerification: 'required' });
});

test('an answer without pending options, or after they expired, is invalid_passkey; a bad body is bad_request', async () => {
  const { clock, passkeys, req, token } = await setup();
  const response = { id: 'abc', rawId: 'abc', type: 'public-key', response: { clientDataJSON: 'e30', signature: 'AA', authenticatorData: 'AA' } };
  const none = await passkeys.handle(req('/auth/passkey/step-up', token, { response }));
  expect(none.body).toMatchObject({ error: 'invalid_passkey' });
  await passkeys.handle(req('/auth/passkey/register-options', token));
  clock.ms += 121_000;
  const late = await passkeys.handle(req('/auth/passkey/register', token, { response: { ...response, response: { clientDataJSON: 'e30', attestationObject: 'AA' } } }));
  // Two minutes on, the sign-in is still recent enough to register (10 minutes), the challenge is not.
  expect(late.body).toMatchObject({ error: 'invalid_passkey' });
  for (const body of [{}, { response: 'x' }, { response: { ...response, rawId: 'other' } }, { response: { ...response, type: 'x' } }]) {
    const bad = await passkeys.handle(req('/auth/passkey/step-up', token, body));
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: 'bad_request' });
  }
});

test('CSRF rules as on the cookie endpoints; no token is a 401; an old sign-in may not add a passkey', async () => {
  const { clock, passkeys, req, token } = await setup();
  expect((await passkeys.handle(req('/auth/passkey/step-up-options', token, {}, { 'sec-fetch-site': 'cross-site' }))).status).toBe(403);
  expect((await passkeys.handle(req('/auth/passkey/step-up-options', token, {}, { 'x-token-broker': '' }))).status).toBe(403);
  expect((await passkeys.handle(req('/auth/passkey/step-up-options', 'nope'))).status).toBe(401);
  expect((await passkeys.handle(req('/auth/passkey/other', token))).status).toBe(404);
  clock.ms += 601_000;
  // The token is still valid (an hour), its sign-in older than registerMaxAge (10 minutes).
  const old = await passkeys.handle(req('/auth/passkey/register-options', token));
  expect(old.status).toBe(401);
  expect(old.body).toMatchObject({ error: 'insufficient_user_authentication' });
  // A step-up needs no recent sign-in: that is what it makes.
  expect((await passkeys.handle(req('/auth/passkey/step-up-options', token))).body).toMatchObject({ error: 'invalid_passkey' });
});

test('isCeremonyResponse: only the browser\'s response JSON shapes pass', () => {
  const r = { id: 'abc', rawId: 'abc', type: 'public-key', response: { clientDataJSON: 'e30', signature: 'AA' } };
  expect(isCeremonyResponse(r, 'signature')).toBe(true);
  expect(isCeremonyResponse(r, 'attestationObject')).toBe(false);
  expect(isCeremonyResponse({ ...r, id: 'a b', rawId: 'a b' }, 'signature')).toBe(false);
  expect(isCeremonyResponse(null, 'signature')).toBe(false);
  expect(isCeremonyResponse([r], 'signature')).toBe(false);
});
