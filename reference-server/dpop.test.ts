// DPoP on the reference server, through Fastify's inject: binding at login,
// proofs on API and refresh requests, and every way a proof is refused.
import { expect, test } from '@playwright/test';
import type { InjectOptions } from 'fastify';
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair } from 'jose';
import { buildServer, type BrokerServer, type ServerParts } from './app';
import { memoryStore } from '../server/store/memory';
import { openSqliteJtiStore } from '../server/store/sqlite';
import type { Settings } from './settings';
import { BEARER_TEST_SETTINGS } from './test-settings';
import { newDpopKey, signProof, type ProofOptions, type TestDpopKey } from '../test-support/dpop-client';

const SAME_ORIGIN = { 'x-token-broker': '1', 'sec-fetch-site': 'same-origin' };
// inject() sends Host: localhost:80, so this is the URL the server sees.
const ORIGIN = 'http://localhost';

const servers: BrokerServer[] = [];
async function server(overrides: Partial<Settings> = {}, parts: ServerParts = {}): Promise<BrokerServer> {
  // From DPOP=optional without nonces; each test turns on what it checks.
  const s = await buildServer({ ...BEARER_TEST_SETTINGS, ...overrides }, parts);
  servers.push(s);
  return s;
}
test.afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.app.close()));
});

function proofFor(key: TestDpopKey, method: string, path: string, extra: Partial<ProofOptions> = {}) {
  return signProof(key, { htm: method, htu: `${ORIGIN}${path}`, ...extra });
}

async function login(s: BrokerServer, proof?: string) {
  return s.app.inject({
    method: 'POST',
    url: '/auth/login',
    headers: { ...SAME_ORIGIN, ...(proof && { dpop: proof }) },
    payload: { username: 'alice', password: 'wonderland' },
  });
}

async function boundLogin(s: BrokerServer, key: TestDpopKey) {
  const res = await login(s, await proofFor(key, 'POST', '/auth/login'));
  expect(res.statusCode).toBe(200);
  const cookie = res.cookies.find((c) => c.name === '__Host-Http-broker_rt')!;
  return { token: res.json().access_token as string, body: res.json(), cookie: `${cookie.name}=${cookie.value}` };
}

function api(s: BrokerServer, token: string, proof?: string, scheme = 'DPoP', extra: Partial<InjectOptions> = {}) {
  return s.app.inject({ url: '/api/me', headers: { authorization: `${scheme} ${token}`, ...(proof && { dpop: proof }) }, ...extra });
}

/** An API refusal with the DPoP challenge that names the error. */
async function refused(res: Awaited<ReturnType<typeof api>>, error: string) {
  expect(res.statusCode).toBe(401);
  expect(res.json()).toMatchObject({ error });
  expect(res.headers['www-authenticate']).toBe(`DPoP error="${error}", algs="ES256"`);
}

function refresh(s: BrokerServer, cookie: string, proof?: string) {
  return s.app.inject({ method: 'POST', url: '/auth/refresh', headers: { ...SAME_ORIGIN, cookie, ...(proof && { dpop: proof }) } });
}

test('a login with a proof binds the token to the key; the API takes it with a proof of that key', async () => {
  const s = await server();
  const key = await newDpopKey();
  const { token, body } = await boundLogin(s, key);
  expect(body.token_type).toBe('DPoP');
  expect(decodeJwt(token).cnf).toEqual({ jkt: await calculateJwkThumbprint(key.publicJwk) });
  const me = await api(s, token, await proofFor(key, 'GET', '/api/me', { accessToken: token }));
  expect(me.statusCode).toBe(200);
  expect(me.json()).toMatchObject({ sub: 'alice' });
});

test('a login without a proof still gets a bearer token that works as before (DPOP=optional)', async () => {
  const s = await server();
  const res = await login(s);
  expect(res.json().token_type).toBe('Bearer');
  expect(decodeJwt(res.json().access_token).cnf).toBeUndefined();
  expect((await api(s, res.json().access_token, undefined, 'Bearer')).statusCode).toBe(200);
});

test.describe('an API request with a bound token is refused', () => {
  let s: BrokerServer;
  let key: TestDpopKey;
  let token: string;
  test.beforeEach(async () => {
    s = await server();
    key = await newDpopKey();
    ({ token } = await boundLogin(s, key));
  });
  test('as a bearer token', async () => {
    await refused(await api(s, token, undefined, 'Bearer'), 'invalid_token');
  });
  test('as a bearer token even with a valid proof alongside', async () => {
    await refused(await api(s, token, await proofFor(key, 'GET', '/api/me', { accessToken: token }), 'Bearer'), 'invalid_token');
  });
  test('without a proof', async () => {
    await refused(await api(s, token), 'invalid_dpop_proof');
  });
  test('with a proof from another key', async () => {
    const other = await newDpopKey();
    await refused(await api(s, token, await proofFor(other, 'GET', '/api/me', { accessToken: token })), 'invalid_dpop_proof');
  });
  test('with a replayed proof (same jti)', async () => {
    const proof = await proofFor(key, 'GET', '/api/me', { accessToken: token });
    expect((await api(s, token, proof)).statusCode).toBe(200);
    await refused(await api(s, token, proof), 'invalid_dpop_proof');
  });
  test('with a proof for another method or URL', async () => {
    await refused(await api(s, token, await proofFor(key, 'POST', '/api/me', { accessToken: token })), 'invalid_dpop_proof');
    await refused(await api(s, token, await proofFor(key, 'GET', '/api/time', { accessToken: token })), 'invalid_dpop_proof');
    await refused(await api(s, token, await signProof(key, { htm: 'GET', htu: 'http://evil.example/api/me', accessToken: token })), 'invalid_dpop_proof');
  });
  test('but the query and fragment are not part of htu', async () => {
    const res = await api(s, token, await proofFor(key, 'GET', '/api/me?x=1#y', { accessToken: token }), 'DPoP', { url: '/api/me?x=2' });
    expect(res.statusCode).toBe(200);
  });
  test('with a proof that names another access token (ath) or none', async () => {
    await refused(await api(s, token, await proofFor(key, 'GET', '/api/me', { accessToken: 'another' })), 'invalid_dpop_proof');
    await refused(await api(s, token, await proofFor(key, 'GET', '/api/me')), 'invalid_dpop_proof');
  });
  test('with a proof of the wrong typ, an algorithm other than ES256, or a private key in the header', async () => {
    await refused(await api(s, token, await proofFor(key, 'GET', '/api/me', { accessToken: token, typ: 'JWT' })), 'invalid_dpop_proof');
    const es384 = await newDpopKey('ES384');
    await refused(await api(s, token, await proofFor(es384, 'GET', '/api/me', { accessToken: token, alg: 'ES384' })), 'invalid_dpop_proof');
    const extractable = await generateKeyPair('ES256', { extractable: true });
    const withPrivate = { privateKey: extractable.privateKey, publicJwk: await exportJWK(extractable.privateKey) };
    await refused(await api(s, token, await proofFor(withPrivate, 'GET', '/api/me', { accessToken: token })), 'invalid_dpop_proof');
  });
  test('with a proof that is not a JWT, or is signed by a key other than the one in its header', async () => {
    await refused(await api(s, token, 'not.a.jwt'), 'invalid_dpop_proof');
    const other = await newDpopKey();
    await refused(await api(s, token, await proofFor(other, 'GET', '/api/me', { accessToken: token, jwk: key.publicJwk })), 'invalid_dpop_proof');
  });
  test('with a proof whose iat is outside the window: a challenge, and a nonce does not excuse the iat', async () => {
    const nowSeconds = Math.floor(Date.now() / 1000);
    const old = await api(s, token, await proofFor(key, 'GET', '/api/me', { accessToken: token, iat: nowSeconds - 300 }));
    await refused(old, 'use_dpop_nonce');
    const nonce = old.headers['dpop-nonce'] as string;
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Signed in advance (or by a clock 5 minutes off): refused even with a valid nonce.
    for (const iat of [nowSeconds - 300, nowSeconds + 300]) {
      await refused(await api(s, token, await proofFor(key, 'GET', '/api/me', { accessToken: token, iat, nonce })), 'use_dpop_nonce');
    }
    const again = await api(s, token, await proofFor(key, 'GET', '/api/me', { accessToken: token, nonce }));
    expect(again.statusCode).toBe(200);
    await refused(await api(s, token, await proofFor(key, 'GET', '/api/me', { accessToken: token, nonce: 'made-up' })), 'use_dpop_nonce');
  });
});

test.describe('a client whose clock is off', () => {
  const clientNow = (offset: number) => Math.floor(Date.now() / 1000) + offset;

  for (const offset of [-3 * 3600, 3 * 3600]) {
    test(`by ${offset / 3600} h signs in with the nonce, and its API proofs are judged by its own clock`, async () => {
      const s = await server({ dpopNonce: true });
      const key = await newDpopKey();
      const first = await login(s, await proofFor(key, 'POST', '/auth/login', { iat: clientNow(offset) }));
      expect(first.statusCode).toBe(400);
      expect(first.json()).toMatchObject({ error: 'use_dpop_nonce' });
      const nonce = first.headers['dpop-nonce'] as string;
      const res = await login(s, await proofFor(key, 'POST', '/auth/login', { iat: clientNow(offset), nonce }));
      expect(res.statusCode).toBe(200);
      const token = res.json().access_token as string;
      expect(Math.abs((decodeJwt(token).dpop_skew as number) - offset)).toBeLessThanOrEqual(2);

      const apiProof = (iat: number) => proofFor(key, 'GET', '/api/me', { accessToken: token, iat, nonce });
      expect((await api(s, token, await apiProof(clientNow(offset)))).statusCode).toBe(200);
      // Stamped by the server's clock, or in advance by the client's: outside the window.
      await refused(await api(s, token, await apiProof(clientNow(0))), 'use_dpop_nonce');
      await refused(await api(s, token, await apiProof(clientNow(offset + 300))), 'use_dpop_nonce');

      // A refresh learns the clock again.
      const cookie = res.cookies.find((c) => c.name === '__Host-Http-broker_rt')!;
      const refreshed = await refresh(s, `${cookie.name}=${cookie.value}`, await proofFor(key, 'POST', '/auth/refresh', { iat: clientNow(offset), nonce }));
      expect(refreshed.statusCode).toBe(200);
      expect(Math.abs((decodeJwt(refreshed.json().access_token).dpop_skew as number) - offset)).toBeLessThanOrEqual(2);
    });
  }

  test('by the server clock error CLOCK_OFFSET_SECONDS: the same, seen from the server', async () => {
    const s = await server({ clockOffsetSeconds: 3600 });
    const key = await newDpopKey();
    const first = await login(s, await proofFor(key, 'POST', '/auth/login'));
    expect(first.json()).toMatchObject({ error: 'use_dpop_nonce' });
    const nonce = first.headers['dpop-nonce'] as string;
    const res = await login(s, await proofFor(key, 'POST', '/auth/login', { nonce }));
    expect(res.statusCode).toBe(200);
    const token = res.json().access_token as string;
    expect(Math.abs((decodeJwt(token).dpop_skew as number) + 3600)).toBeLessThanOrEqual(2);
    expect((await api(s, token, await proofFor(key, 'GET', '/api/me', { accessToken: token }))).statusCode).toBe(200);
  });

  test('by more than a day cannot sign in, nonce or not; nor without a nonce by more than the window', async () => {
    const s = await server();
    const key = await newDpopKey();
    const first = await login(s, await proofFor(key, 'POST', '/auth/login', { iat: clientNow(-120) }));
    expect(first.json()).toMatchObject({ error: 'use_dpop_nonce' });
    const nonce = first.headers['dpop-nonce'] as string;
    for (const offset of [-86_500, 86_500]) {
      const res = await login(s, await proofFor(key, 'POST', '/auth/login', { iat: clientNow(offset), nonce }));
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ error: 'use_dpop_nonce' });
    }
    expect((await login(s, await proofFor(key, 'POST', '/auth/login', { iat: clientNow(-120), nonce }))).statusCode).toBe(200);
  });
});

test.describe("a family's DPoP binding is fixed at its creation", () => {
  function cookieOf(res: Awaited<ReturnType<typeof login>>) {
    const cookie = res.cookies.find((c) => c.name === '__Host-Http-broker_rt')!;
    return `${cookie.name}=${cookie.value}`;
  }

  test('a bearer login refreshed with a proof gets a Bearer token, never one bound to that key; it still refreshes without one', async () => {
    const s = await server();
    const res = await login(s);
    const key = await newDpopKey();
    const withProof = await refresh(s, cookieOf(res), await proofFor(key, 'POST', '/auth/refresh'));
    expect(withProof.statusCode).toBe(200);
    expect(withProof.json().token_type).toBe('Bearer');
    const token = withProof.json().access_token as string;
    expect(decodeJwt(token).cnf).toBeUndefined();
    // It is what it says: a bearer token, which a proof of that key does not turn into a DPoP one.
    expect((await api(s, token, undefined, 'Bearer')).statusCode).toBe(200);
    await refused(await api(s, token, await proofFor(key, 'GET', '/api/me', { accessToken: token })), 'invalid_token');
    const bare = await refresh(s, cookieOf(withProof));
    expect(bare.statusCode).toBe(200);
    expect(bare.json().token_type).toBe('Bearer');
  });

  test('DPOP=required: a bearer login (made while DPoP was optional) cannot be refreshed at all: 401 invalid_grant, cookie cleared, the family ended', async () => {
    const store = memoryStore();
    const before = await server({}, { store });
    const res = await login(before);
    expect(res.json().token_type).toBe('Bearer');
    const after = await server({ dpop: 'required' }, { store });
    const key = await newDpopKey();
    const refusal = await refresh(after, cookieOf(res), await proofFor(key, 'POST', '/auth/refresh'));
    expect(refusal.statusCode).toBe(401);
    expect(refusal.json()).toMatchObject({ error: 'invalid_grant' });
    expect(refusal.cookies).toEqual([expect.objectContaining({ name: '__Host-Http-broker_rt', value: '' })]);
    expect(after.stats).toMatchObject({ refresh: 0, refreshRejected: 1 });
    // Nothing of it lives on: not even where DPoP is optional again.
    expect((await refresh(before, cookieOf(res))).statusCode).toBe(401);
  });

  test('a bound login is never refreshed without a proof of its key: 400, nothing rotated', async () => {
    const s = await server();
    const key = await newDpopKey();
    const { cookie } = await boundLogin(s, key);
    for (const proof of [undefined, await proofFor(await newDpopKey(), 'POST', '/auth/refresh')]) {
      const res = await refresh(s, cookie, proof);
      expect(res.statusCode).toBe(400);
      expect(res.cookies).toEqual([]);
    }
    expect(s.stats.refresh).toBe(0);
    // The same token still rotates, with its key: nothing was rotated or revoked by the refusals.
    const ok = await refresh(s, cookie, await proofFor(key, 'POST', '/auth/refresh'));
    expect(ok.statusCode).toBe(200);
    expect(ok.json().token_type).toBe('DPoP');
  });
});

test.describe('refresh of a bound login', () => {
  test('needs a proof of the same key; a refusal for the proof leaves the token and the cookie usable', async () => {
    const s = await server();
    const key = await newDpopKey();
    const { cookie } = await boundLogin(s, key);
    const bare = await refresh(s, cookie);
    expect(bare.statusCode).toBe(400);
    expect(bare.json()).toMatchObject({ error: 'invalid_dpop_proof' });
    expect(bare.cookies).toHaveLength(0);
    const other = await refresh(s, cookie, await proofFor(await newDpopKey(), 'POST', '/auth/refresh'));
    expect(other.statusCode).toBe(400);
    expect(other.json()).toMatchObject({ error: 'invalid_dpop_proof' });
    const wrongUrl = await refresh(s, cookie, await proofFor(key, 'POST', '/auth/login'));
    expect(wrongUrl.statusCode).toBe(400);
    expect(s.stats.refresh).toBe(0);

    const ok = await refresh(s, cookie, await proofFor(key, 'POST', '/auth/refresh'));
    expect(ok.statusCode).toBe(200);
    expect(ok.json().token_type).toBe('DPoP');
    expect(decodeJwt(ok.json().access_token).cnf).toEqual({ jkt: await calculateJwkThumbprint(key.publicJwk) });
  });

  test('a replayed refresh proof is refused', async () => {
    const s = await server();
    const key = await newDpopKey();
    const { cookie } = await boundLogin(s, key);
    const proof = await proofFor(key, 'POST', '/auth/refresh');
    const first = await refresh(s, cookie, proof);
    expect(first.statusCode).toBe(200);
    const next = first.cookies.find((c) => c.name === '__Host-Http-broker_rt')!;
    const replay = await refresh(s, `${next.name}=${next.value}`, proof);
    expect(replay.statusCode).toBe(400);
    expect(replay.json()).toMatchObject({ error: 'invalid_dpop_proof', message: expect.stringContaining('jti') });
  });

  test('a proof carrying ath is refused at the token endpoints', async () => {
    const s = await server();
    const key = await newDpopKey();
    const res = await login(s, await proofFor(key, 'POST', '/auth/login', { accessToken: 'x' }));
    expect(res.statusCode).toBe(400);
  });
});

test('DPOP=required: a login without a proof and a bearer token are refused', async () => {
  const s = await server({ dpop: 'required' });
  const res = await login(s);
  expect(res.statusCode).toBe(400);
  expect(res.json()).toMatchObject({ error: 'invalid_dpop_proof' });
  const key = await newDpopKey();
  const { token } = await boundLogin(s, key);
  expect((await api(s, token, await proofFor(key, 'GET', '/api/me', { accessToken: token }))).statusCode).toBe(200);
});

test('a request without a usable token is challenged with every scheme the server takes, in well-formed auth-params', async () => {
  const expected = {
    off: 'Bearer error="invalid_token"',
    optional: 'Bearer error="invalid_token", DPoP algs="ES256"',
    required: 'DPoP error="invalid_token", algs="ES256"',
  } as const;
  for (const [mode, challenge] of Object.entries(expected)) {
    const s = await server({ dpop: mode as Settings['dpop'] });
    for (const headers of [{}, { authorization: 'Bearer nonsense' }]) {
      const res = await s.app.inject({ url: '/api/me', headers });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate'], mode).toBe(challenge);
    }
  }
});

test('DPOP_NONCE=true: every proof needs the current nonce, which every response hands out', async () => {
  const s = await server({ dpopNonce: true });
  const key = await newDpopKey();
  const first = await login(s, await proofFor(key, 'POST', '/auth/login'));
  expect(first.statusCode).toBe(400);
  expect(first.json()).toMatchObject({ error: 'use_dpop_nonce' });
  const nonce = first.headers['dpop-nonce'] as string;
  const ok = await login(s, await proofFor(key, 'POST', '/auth/login', { nonce }));
  expect(ok.statusCode).toBe(200);
  // The same nonce, or its successor when a nonce slot ended between the two requests.
  const current = ok.headers['dpop-nonce'] as string;
  expect(current).toMatch(/^[\w-]{16,}$/);
  const token = ok.json().access_token as string;
  const bare = await api(s, token, await proofFor(key, 'GET', '/api/me', { accessToken: token }));
  expect(bare.statusCode).toBe(401);
  expect(bare.headers['www-authenticate']).toBe('DPoP error="use_dpop_nonce", algs="ES256"');
  expect((await api(s, token, await proofFor(key, 'GET', '/api/me', { accessToken: token, nonce: current }))).statusCode).toBe(200);
});

test('DPOP=off: proofs are ignored at login, and the DPoP scheme is refused', async () => {
  const s = await server({ dpop: 'off' });
  const key = await newDpopKey();
  const res = await login(s, await proofFor(key, 'POST', '/auth/login'));
  expect(res.json().token_type).toBe('Bearer');
  const token = res.json().access_token as string;
  expect((await api(s, token, undefined, 'Bearer')).statusCode).toBe(200);
  expect((await api(s, token, await proofFor(key, 'GET', '/api/me', { accessToken: token }))).statusCode).toBe(401);
});

test('the SQLite replay cache refuses a jti until it expires, then takes it over', async () => {
  const jti = openSqliteJtiStore(':memory:');
  try {
    expect(await jti.claim('k.1', 1_000, 0)).toBe(true);
    expect(await jti.claim('k.1', 1_500, 500)).toBe(false);
    expect(await jti.claim('k.2', 1_000, 500)).toBe(true);
    expect(await jti.claim('k.1', 3_000, 1_000)).toBe(true);
    expect(await jti.sweep(2_000)).toBe(1);
  } finally {
    await jti.close();
  }
});
