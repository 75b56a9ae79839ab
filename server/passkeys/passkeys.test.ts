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
import type { SecurityEvent, SecurityPolicy } from '../events/types';
import { softwareAssertion, softwareRegistration, type SoftwarePasskey } from '../../test-support/software-passkey';

const ORIGIN = 'http://localhost:8080';
const PASSWORDS: Record<string, string> = { alice: 'wonderland', bob: 'builder' };
const password = (username = 'alice', pw = PASSWORDS[username]) => async () => ({ credentials: { username, password: pw } });

async function setup({ policy }: { policy?: SecurityPolicy } = {}) {
  const clock = { ms: Date.now() };
  const events: SecurityEvent[] = [];
  const broker = await createTokenBroker({
    verifyCredentials: (c) => (PASSWORDS[String(c.username)] === c.password ? { sub: String(c.username) } : null),
    store: memoryStore(),
    dpop: 'off',
    accessTokenTtl: 3600,
    now: () => clock.ms,
    securityEvents: { policy: (e) => (events.push(e), policy?.(e)) },
  });
  const store = memoryPasskeyStore();
  const passkeys = createPasskeys(broker, { store, rpName: 'Test', rpID: 'localhost', origins: [ORIGIN], now: () => clock.ms });
  const req = (url: string, token: string, body: unknown = {}, headers: Record<string, string> = {}): BrokerHttpRequest => ({
    method: 'POST', url, origin: ORIGIN, body, ip: '10.0.0.1',
    headers: { 'x-token-broker': '1', 'sec-fetch-site': 'same-origin', authorization: `Bearer ${token}`, ...headers },
  });
  const signIn = async (username = 'alice') => {
    const login = await broker.login({ method: 'POST', url: '/auth/login', origin: ORIGIN, headers: { 'x-token-broker': '1', 'sec-fetch-site': 'same-origin' }, body: { username, password: PASSWORDS[username] }, ip: '10.0.0.1' });
    return (login.body as { access_token: string }).access_token;
  };
  const token = await signIn();
  const call = (step: string, t: string, response?: unknown) => passkeys.handle(req(`/auth/passkey/${step}`, t, response === undefined ? {} : { response }));
  /** A software passkey's assertion for the session's step-up options. */
  const assert = async (t: string, passkey: SoftwarePasskey) => {
    const { options } = (await call('step-up-options', t)).body as { options: { challenge: string; rpId: string } };
    return softwareAssertion({ options, origin: ORIGIN, passkey });
  };
  /** Registers a software passkey with `proof` (made after the options, as the client does). */
  const register = async (t: string, proof: (t: string) => Promise<unknown>) => {
    const { options } = (await call('register-options', t)).body as { options: { challenge: string; rp: { id: string } } };
    const { response, passkey } = await softwareRegistration({ options, origin: ORIGIN });
    return { res: await call('register', t, { credential: response, proof: await proof(t) }), passkey };
  };
  return { clock, broker, store, passkeys, req, token, signIn, call, assert, register, events };
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
  const late = await passkeys.handle(req('/auth/passkey/register', token, { response: { credential: { ...response, response: { clientDataJSON: 'e30', attestationObject: 'AA' } }, proof: { credentials: { username: 'alice', password: 'wonderland' } } } }));
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

test('the first passkey needs the password again: none, a wrong one, or another account\'s is refused; the right one adds it and raises passkey_added', async () => {
  const { register, token, store, events } = await setup();
  const none = await register(token, async () => ({}));
  expect(none.res.status).toBe(400);
  const missing = await register(token, async () => ({ assertion: undefined, credentials: undefined }));
  expect(missing.res.body).toMatchObject({ error: 'bad_request' });
  for (const proof of [password('alice', 'guess'), password('bob'), password('alice', '')]) {
    const refused = await register(token, proof);
    expect(refused.res.status).toBe(403);
    expect(refused.res.body).toMatchObject({ error: 'invalid_credentials' });
  }
  // A proof of the wrong kind: an account without a passkey has no assertion to give.
  const kind = await register(token, async () => ({ assertion: { id: 'abc', rawId: 'abc', type: 'public-key', response: { clientDataJSON: 'e30', signature: 'AA' } } }));
  expect(kind.res.body).toMatchObject({ error: 'password_required' });
  expect(await store.credentialsOf('alice')).toEqual([]);
  expect(events.filter((e) => e.type.startsWith('passkey'))).toEqual([]);
  const added = await register(token, password());
  expect(added.res.status, JSON.stringify(added.res.body)).toBe(200);
  expect((await store.credentialsOf('alice')).map((c) => c.id)).toEqual([added.passkey.id]);
  expect(events.filter((e) => e.type.startsWith('passkey'))).toEqual([
    { type: 'passkey_added', sub: 'alice', family: expect.any(String), credential: added.passkey.id, device: { jkt: null, ipPrefix: '10.0.0.0/24', userAgent: null } },
  ]);
});

test('wrong passwords in a registration count against the login limits for the account', async () => {
  const { register, token, broker } = await setup();
  const statuses: number[] = [];
  // The sign-in of setup() spent one of the 10 a minute.
  for (let i = 0; i < 10; i++) statuses.push((await register(token, password('alice', `guess${i}`))).res.status);
  expect(statuses.slice(0, 9)).toEqual(Array(9).fill(403));
  expect(statuses[9]).toBe(429);
  // The login form shares the budget.
  const login = await broker.login({ method: 'POST', url: '/auth/login', origin: ORIGIN, headers: { 'x-token-broker': '1', 'sec-fetch-site': 'same-origin' }, body: { username: 'alice', password: 'wonderland' }, ip: '10.0.0.2' });
  expect(login.status).toBe(429);
});

test('with a passkey, another needs an assertion of it: the password, a software key of the script\'s own or another session\'s challenge are refused', async () => {
  const { register, assert, signIn, token, store } = await setup();
  const first = await register(token, password());
  expect(first.res.status).toBe(200);
  const withPassword = await register(token, password());
  expect(withPassword.res.body).toMatchObject({ error: 'passkey_required' });
  // Page script's own key, never registered, answering the step-up challenge.
  const { passkey: own } = await softwareRegistration({ options: { challenge: 'AAAA', rp: { id: 'localhost' } }, origin: ORIGIN });
  const foreign = await register(token, (t) => assert(t, own).then((assertion) => ({ assertion })));
  expect(foreign.res.body).toMatchObject({ error: 'invalid_passkey' });
  // An assertion for another session's challenge.
  const other = await signIn();
  const elsewhere = await register(token, async () => ({ assertion: await assert(other, first.passkey) }));
  expect(elsewhere.res.body).toMatchObject({ error: 'invalid_passkey' });
  expect((await store.credentialsOf('alice')).length).toBe(1);
  const second = await register(token, (t) => assert(t, first.passkey).then((assertion) => ({ assertion })));
  expect(second.res.status, JSON.stringify(second.res.body)).toBe(200);
  expect((await store.credentialsOf('alice')).map((c) => c.id).sort()).toEqual([first.passkey.id, second.passkey.id].sort());
});

test('list names only the account\'s passkeys; remove needs an assertion, takes only its own, and raises passkey_removed', async () => {
  const { register, assert, call, signIn, token, events } = await setup();
  const mine = await register(token, password());
  const bobToken = await signIn('bob');
  const bobs = await register(bobToken, password('bob'));
  expect(bobs.res.status).toBe(200);
  expect((await call('list', token)).body).toEqual({ passkeys: [{ id: mine.passkey.id, createdAt: expect.any(Number), transports: ['internal'] }] });
  mine.passkey.counter += 1;
  // Bob's passkey, with Alice's assertion: not hers to remove.
  expect((await call('remove', token, { id: bobs.passkey.id, proof: { assertion: await assert(token, mine.passkey) } })).body).toMatchObject({ error: 'invalid_passkey' });
  // No proof, a password as proof, a malformed id.
  expect((await call('remove', token, { id: mine.passkey.id })).body).toMatchObject({ error: 'bad_request' });
  expect((await call('remove', token, { id: mine.passkey.id, proof: { credentials: { username: 'alice', password: 'wonderland' } } })).body).toMatchObject({ error: 'bad_request' });
  expect((await call('remove', token, { id: 'a b', proof: { assertion: await assert(token, mine.passkey) } })).body).toMatchObject({ error: 'bad_request' });
  const removed = await call('remove', token, { id: mine.passkey.id, proof: { assertion: await assert(token, mine.passkey) } });
  expect(removed.status, JSON.stringify(removed.body)).toBe(200);
  expect((await call('list', token)).body).toEqual({ passkeys: [] });
  expect((await call('list', bobToken)).body).toMatchObject({ passkeys: [{ id: bobs.passkey.id }] });
  expect(events.filter((e) => e.type === 'passkey_removed')).toEqual([
    { type: 'passkey_removed', sub: 'alice', family: expect.any(String), credential: mine.passkey.id, device: expect.objectContaining({ ipPrefix: '10.0.0.0/24' }) },
  ]);
});

test('a policy answering revoke to passkey_added ends the session and undoes the registration', async () => {
  const { register, token, store, call } = await setup({ policy: (e) => (e.type === 'passkey_added' ? 'revoke' : undefined) });
  const refused = await register(token, password());
  expect(refused.res.status).toBe(401);
  expect(refused.res.body).toMatchObject({ error: 'session_revoked' });
  expect(await store.credentialsOf('alice')).toEqual([]);
  expect((await call('list', token)).body).toMatchObject({ error: 'token_revoked' });
});

test('a cloned authenticator: two assertions with the same counter at once, from two sessions, and only one steps up', async () => {
  const { register, call, signIn, token } = await setup();
  const { passkey } = await register(token, password());
  const [s1, s2] = [await signIn(), await signIn()];
  const options = await Promise.all([s1, s2].map(async (t) => ((await call('step-up-options', t)).body as { options: { challenge: string } }).options));
  // Both signed with counter 1 (the clone and the original, each from the last counter it knew).
  const answers = await Promise.all(options.map((o) => softwareAssertion({ options: o, origin: ORIGIN, passkey })));
  const results = await Promise.all([call('step-up', s1, answers[0]), call('step-up', s2, answers[1])]);
  expect(results.map((r) => r.status).sort()).toEqual([200, 400]);
  expect(results.find((r) => r.status === 400)!.body).toMatchObject({ error: 'invalid_passkey' });
});
