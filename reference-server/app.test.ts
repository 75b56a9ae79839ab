// The reference server through Fastify's inject: the backend contract and its
// refusals, without a browser.
import { expect, test } from '@playwright/test';
import type { InjectOptions } from 'fastify';
import { buildServer, type BrokerServer } from './app';
import { DEFAULT_SETTINGS } from './settings';
import { BEARER_TEST_SETTINGS } from './test-settings';

const SAME_ORIGIN = { 'x-token-broker': '1', 'sec-fetch-site': 'same-origin' };

let server: BrokerServer;
test.beforeEach(async () => {
  // The bearer contract: DPoP optional (the reference setup requires it; dpop.test.ts covers that).
  server = await buildServer({ ...BEARER_TEST_SETTINGS });
});
test.afterEach(() => server.app.close());

async function login(username = 'alice', password = 'wonderland') {
  return server.app.inject({ method: 'POST', url: '/auth/login', headers: SAME_ORIGIN, payload: { username, password } });
}

function refreshCookie(res: Awaited<ReturnType<typeof login>>) {
  return res.cookies.find((c) => c.name === '__Host-Http-broker_rt');
}

test('login answers the contract: token body and an HttpOnly, Strict, __Host- refresh cookie (Path=/, no Domain)', async () => {
  const res = await login();
  expect(res.statusCode).toBe(200);
  const body = res.json();
  expect(body).toMatchObject({ token_type: 'Bearer', expires_in: BEARER_TEST_SETTINGS.accessTokenTtl });
  expect(typeof body.access_token).toBe('string');
  expect(refreshCookie(res)).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/', secure: true });
  expect(refreshCookie(res)?.domain).toBeUndefined();
  const me = await server.app.inject({ url: '/api/me', headers: { authorization: `Bearer ${body.access_token}` } });
  expect(me.json()).toMatchObject({ sub: 'alice', name: 'Alice Liddell', role: 'reader' });
});

test('bad credentials are a 401 invalid_credentials; malformed bodies a 4xx JSON error', async () => {
  expect((await login('alice', 'nope')).json()).toMatchObject({ error: 'invalid_credentials' });
  expect((await login('nobody', 'nope')).statusCode).toBe(401);
  const bad = await server.app.inject({
    method: 'POST',
    url: '/auth/login',
    headers: { ...SAME_ORIGIN, 'content-type': 'application/json' },
    payload: '{"username":',
  });
  expect(bad.statusCode).toBe(400);
  expect(bad.json()).toMatchObject({ error: 'bad_request' });
});

test('refresh rotates the cookie; the old one replayed later revokes the family', async () => {
  const first = refreshCookie(await login())!.value;
  const refresh = (token: string) =>
    server.app.inject({ method: 'POST', url: '/auth/refresh', headers: SAME_ORIGIN, cookies: { '__Host-Http-broker_rt': token } });
  const r1 = await refresh(first);
  expect(r1.statusCode).toBe(200);
  const second = refreshCookie(r1)!.value;
  expect(second).not.toBe(first);
  // Within the grace window the predecessor gets the same successor, not a revocation.
  expect(refreshCookie(await refresh(first))!.value).toBe(second);
  const r3 = await refresh(second);
  expect(r3.statusCode).toBe(200);
  // `first` is now two generations old: reuse revokes the family, so the current token dies too.
  expect((await refresh(first)).json()).toMatchObject({ error: 'invalid_grant' });
  expect((await refresh(refreshCookie(r3)!.value)).statusCode).toBe(401);
});

test('the cookie endpoints refuse cross-site requests and requests without the worker header', async () => {
  const cookie = refreshCookie(await login())!.value;
  const attempt = (headers: Record<string, string>) =>
    server.app.inject({ method: 'POST', url: '/auth/refresh', headers, cookies: { '__Host-Http-broker_rt': cookie } });
  expect((await attempt({ 'sec-fetch-site': 'same-origin' })).statusCode).toBe(403);
  expect((await attempt({ 'x-token-broker': '1', 'sec-fetch-site': 'cross-site' })).json()).toMatchObject({ error: 'csrf' });
  expect((await attempt({ 'x-token-broker': '1', origin: 'http://evil.example' })).statusCode).toBe(403);
  expect((await attempt(SAME_ORIGIN)).statusCode).toBe(200);
});

test('logout revokes the family and clears the cookie', async () => {
  const cookie = refreshCookie(await login())!.value;
  const out = await server.app.inject({ method: 'POST', url: '/auth/logout', headers: SAME_ORIGIN, cookies: { '__Host-Http-broker_rt': cookie } });
  expect(out.statusCode).toBe(200);
  expect(refreshCookie(out)?.value).toBe('');
  const again = await server.app.inject({ method: 'POST', url: '/auth/refresh', headers: SAME_ORIGIN, cookies: { '__Host-Http-broker_rt': cookie } });
  expect(again.statusCode).toBe(401);
});

test('API routes answer 401 JSON for missing, forged, alg:none and expired tokens', async () => {
  const { access_token: good } = (await login()).json() as { access_token: string };
  const [header, payload] = good.split('.') as [string, string, string];
  const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${payload}.`;
  const forged = `${header}.${payload}.${Buffer.alloc(64, 1).toString('base64url')}`;
  for (const authorization of [undefined, 'Bearer nonsense', `Bearer ${unsigned}`, `Bearer ${forged}`, `Basic ${good}`]) {
    const res = await server.app.inject({ url: '/api/me', headers: authorization ? { authorization } : {} });
    expect(res.statusCode, authorization).toBe(401);
    expect(res.json()).toMatchObject({ error: 'invalid_token' });
    expect(res.headers['www-authenticate']).toContain('invalid_token');
  }
  const expired = await buildServer({ ...server.settings, accessTokenTtl: 1, clockOffsetSeconds: -3600 });
  try {
    // Signed by another server's key and long expired: both reasons to refuse.
    const old = (await expired.app.inject({ method: 'POST', url: '/auth/login', headers: SAME_ORIGIN, payload: { username: 'alice', password: 'wonderland' } })).json() as { access_token: string };
    expect((await server.app.inject({ url: '/api/me', headers: { authorization: `Bearer ${old.access_token}` } })).statusCode).toBe(401);
  } finally {
    await expired.app.close();
  }
});

test('tokens signed by a rotated-out key stay valid until they expire; the JWKS publishes both keys', async () => {
  const { access_token } = (await login()).json() as { access_token: string };
  await server.keys.rotate();
  expect((await server.app.inject({ url: '/.well-known/jwks.json' })).json().keys).toHaveLength(2);
  expect((await server.app.inject({ url: '/api/me', headers: { authorization: `Bearer ${access_token}` } })).statusCode).toBe(200);
});

test('the demo is served with a strict CSP and the worker script is revalidated', async () => {
  const page = await server.app.inject({ url: '/' });
  expect(page.headers['content-security-policy']).toContain("script-src 'self'");
  expect(page.headers['x-content-type-options']).toBe('nosniff');
  // npm test builds public/sw.js before the tests run.
  expect((await server.app.inject({ url: '/sw.js' })).headers['cache-control']).toBe('no-cache');
  const missing = await server.app.inject({ url: '/nope' });
  expect(missing.statusCode).toBe(404);
  expect(missing.json()).toMatchObject({ error: 'not_found' });
});

test('with dpop: true in WORKER_CONFIG the bearer-only sw.js is not served, the DPoP build is, and the refusal says why', async () => {
  const dpop = await buildServer({ ...server.settings, workerConfig: { dpop: true } });
  try {
    const bearer = await dpop.app.inject({ url: '/sw.js' });
    expect(bearer.statusCode).toBe(404);
    expect(bearer.json()).toMatchObject({ error: 'not_found' });
    expect(bearer.json().message).toContain('bearer build');
    const signing = await dpop.app.inject({ url: '/sw-dpop.js' });
    expect(signing.statusCode).toBe(200);
    expect(signing.body.startsWith('self.tokenBrokerConfig??={"dpop":true};')).toBe(true);
  } finally {
    await dpop.app.close();
  }
});

test('cookie attributes: Secure and the __Host-Http- name with Path=/ with COOKIE_SECURE=true; a plain name scoped to /auth without Secure when COOKIE_SECURE=false', async () => {
  const plain = await buildServer({ ...server.settings, cookieSecure: false });
  try {
    const res = await plain.app.inject({ method: 'POST', url: '/auth/login', headers: SAME_ORIGIN, payload: { username: 'alice', password: 'wonderland' } });
    const cookie = res.cookies.find((c) => c.name === 'broker_rt');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/auth' });
    expect(cookie?.secure).toBeFalsy();
  } finally {
    await plain.app.close();
  }
  expect(refreshCookie(await login())?.secure).toBe(true);
});

test('the default cookie works in every engine: no Secure when the browser is on http to a loopback host (Safari refuses it there), Secure with the __Host- prefix anywhere else', async () => {
  const auto = await buildServer({ ...server.settings, cookieSecure: 'auto' });
  try {
    // The browser's Origin says where it is; the worker's POSTs always carry one.
    const loginAt = (host: string, origin = `http://${host}`) =>
      auto.app.inject({ method: 'POST', url: '/auth/login', headers: { ...SAME_ORIGIN, host, origin }, payload: { username: 'alice', password: 'wonderland' } });
    for (const host of ['localhost:8080', '127.0.0.1:8080', 'app.localhost', '[::1]:8080']) {
      const res = await loginAt(host);
      expect(res.cookies.map((c) => [c.name, !!c.secure, c.path]), host).toEqual([['broker_rt', false, '/auth']]);
      // The refresh reads the cookie by the same name.
      const cookie = res.cookies[0]!;
      const refreshed = await auto.app.inject({
        method: 'POST',
        url: '/auth/refresh',
        headers: { ...SAME_ORIGIN, host, origin: `http://${host}` },
        cookies: { broker_rt: cookie.value },
      });
      expect(refreshed.statusCode, host).toBe(200);
    }
    // A production host seen over http (a TLS proxy in front), a loopback Host behind a proxy that
    // rewrote it for a browser on https, and a request without Origin (no browser) get Secure.
    for (const [host, origin] of [
      ['app.example', undefined],
      ['10.0.0.5', undefined],
      ['localhost.example', undefined],
      ['127.0.0.1:3000', 'https://app.example'],
      ['localhost:8080', ''],
    ] as const) {
      const res = origin === '' ? await auto.app.inject({ method: 'POST', url: '/auth/login', headers: { ...SAME_ORIGIN, host }, payload: { username: 'alice', password: 'wonderland' } }) : await loginAt(host, origin);
      expect(res.cookies.map((c) => [c.name, !!c.secure, c.path]), host).toEqual([['__Host-Http-broker_rt', true, '/']]);
    }
    expect(DEFAULT_SETTINGS.cookieSecure).toBe('auto');
  } finally {
    await auto.app.close();
  }
});

test('malformed input is a 4xx JSON error, never a 500', async () => {
  const cases = [
    { method: 'POST', url: '/auth/login', headers: { ...SAME_ORIGIN, 'content-type': 'application/json' }, payload: 'x'.repeat(200_000) },
    { method: 'POST', url: '/auth/login', headers: { ...SAME_ORIGIN, 'content-type': 'text/plain' }, payload: 'alice' },
    { method: 'POST', url: '/auth/login', headers: SAME_ORIGIN, payload: { username: 'alice', password: 'x', admin: true } },
    { method: 'POST', url: '/auth/login', headers: SAME_ORIGIN, payload: { username: ['alice'], password: 'wonderland' } },
    { method: 'POST', url: '/auth/login', headers: { ...SAME_ORIGIN, 'content-type': 'application/json' }, payload: 'null' },
    { method: 'POST', url: '/auth/refresh', headers: SAME_ORIGIN, cookies: { '__Host-Http-broker_rt': '%%%' } },
    { method: 'POST', url: '/auth/refresh', headers: { ...SAME_ORIGIN, cookie: '__Host-Http-broker_rt=' + 'a'.repeat(5000) } },
    { method: 'GET', url: '/api/me', headers: { authorization: 'Bearer ' + 'a'.repeat(10_000) } },
    { method: 'GET', url: '/api/me', headers: { authorization: 'Bearer a.b.c' } },
    { method: 'GET', url: '/api/redirect?to=javascript:alert(1)' },
    { method: 'GET', url: '/%E0%A4%A' },
  ] as const;
  for (const c of cases) {
    const res = await server.app.inject(c as InjectOptions);
    expect(res.statusCode, `${c.method} ${c.url}`).toBeGreaterThanOrEqual(400);
    expect(res.statusCode, `${c.method} ${c.url}`).toBeLessThan(500);
    expect(typeof res.json().error, `${c.method} ${c.url}`).toBe('string');
  }
});

test('a token endpoint answers only to its exact spelling: encoded and doubled paths are 404, and change nothing', async () => {
  const good = await login();
  const cookie = refreshCookie(good)!;
  for (const url of ['/%61uth/login', '/auth/%6Cogin', '/%61uth/logout', '/auth/logou%74', '/%61uth/refresh']) {
    const res = await server.app.inject({
      method: 'POST',
      url,
      headers: { ...SAME_ORIGIN, cookie: `${cookie.name}=${cookie.value}` },
      payload: { username: 'alice', password: 'wonderland' },
    });
    expect(res.statusCode, url).toBe(404);
    expect(res.json(), url).toMatchObject({ error: 'not_found' });
    expect(res.cookies, url).toEqual([]);
  }
  expect(server.stats).toMatchObject({ login: 1, refresh: 0, logoutRevoked: 0 });
});

test('a logout that says the worker saw another account revokes the family and is its own event; other reasons are plain logouts, never a 500', async () => {
  const logout = async (payload: unknown) => {
    const cookie = refreshCookie(await login('bob', 'builder'))!;
    const headers = { ...SAME_ORIGIN, cookie: `${cookie.name}=${cookie.value}`, 'content-type': 'application/json' };
    const res = await server.app.inject({ method: 'POST', url: '/auth/logout', headers, payload: JSON.stringify(payload) });
    expect(res.statusCode, JSON.stringify(payload)).toBe(200);
    const again = await server.app.inject({ method: 'POST', url: '/auth/refresh', headers, payload: '{}' });
    expect(again.statusCode, 'the family is revoked').toBe(401);
  };
  await logout({ reason: 'account_changed' });
  expect(server.stats).toMatchObject({ accountChanged: 1, logoutRevoked: 0 });
  await logout({ reason: 'key_replaced' });
  expect(server.stats).toMatchObject({ keyReplaced: 1, logoutRevoked: 0 });
  for (const odd of [{ reason: 'nope' }, { reason: ['account_changed'] }, { reason: { toString: 1 } }, ['account_changed'], 'account_changed', null, {}]) await logout(odd);
  expect(server.stats).toMatchObject({ accountChanged: 1, keyReplaced: 1, logoutRevoked: 7 });
});

test('a logout whose request carries a tossed refresh cookie beside the own one revokes both families', async () => {
  const [alice, bob] = [refreshCookie(await login())!, refreshCookie(await login('bob', 'builder'))!];
  const headers = { ...SAME_ORIGIN, cookie: `${bob.name}=${bob.value}; ${alice.name}=${alice.value}` };
  expect((await server.app.inject({ method: 'POST', url: '/auth/logout', headers, payload: {} })).statusCode).toBe(200);
  for (const c of [alice, bob]) {
    const again = await server.app.inject({ method: 'POST', url: '/auth/refresh', headers: { ...SAME_ORIGIN, cookie: `${c.name}=${c.value}` }, payload: {} });
    expect(again.statusCode).toBe(401);
  }
  expect(server.stats.logoutRevoked).toBe(1);
});

test('the old __Secure-broker_rt cookie is never read (a sibling subdomain can set it); refresh and logout clear a leftover one for this host', async () => {
  const token = refreshCookie(await login())!.value;
  const legacyOnly = await server.app.inject({ method: 'POST', url: '/auth/refresh', headers: SAME_ORIGIN, cookies: { '__Secure-broker_rt': token } });
  expect(legacyOnly.statusCode).toBe(401);
  expect(legacyOnly.cookies.map((c) => [c.name, c.value, c.path])).toEqual([
    ['__Host-Http-broker_rt', '', '/'],
    ['__Secure-broker_rt', '', '/auth'],
  ]);
  // It was not even presented: the token it carried is still good under its real name.
  const refreshed = await server.app.inject({ method: 'POST', url: '/auth/refresh', headers: SAME_ORIGIN, cookies: { '__Host-Http-broker_rt': token, '__Secure-broker_rt': 'old' } });
  expect(refreshed.statusCode).toBe(200);
  expect(refreshed.cookies.find((c) => c.name === '__Secure-broker_rt')).toMatchObject({ value: '', secure: true, path: '/auth' });
});
