// The server's logs, at the most verbose level, never carry a credential.
import { expect, test } from '@playwright/test';
import { buildServer } from './app';
import { BEARER_TEST_SETTINGS } from './test-settings';

const SAME_ORIGIN = { 'x-token-broker': '1', 'sec-fetch-site': 'same-origin' };
const COOKIE = '__Host-Http-broker_rt';

test('login, refresh, API calls, refusals and logout log no token, cookie or password', async () => {
  const lines: string[] = [];
  const server = await buildServer(
    { ...BEARER_TEST_SETTINGS, logLevel: 'trace', renewHeader: 'x-renewed-token', accessTokenTtl: 2 },
    { logStream: { write: (line) => void lines.push(line) } },
  );
  const { app } = server;
  const secrets: string[] = ['wonderland', 'not-the-password'];
  const remember = (res: Awaited<ReturnType<typeof app.inject>>) => {
    const body = res.json() as { access_token?: string };
    if (body.access_token) secrets.push(body.access_token, body.access_token.split('.')[2]!);
    for (const c of res.cookies) if (c.value) secrets.push(c.value);
    const renewed = res.headers['x-renewed-token'];
    if (typeof renewed === 'string') secrets.push(renewed);
    return res;
  };
  const login = (password: string) =>
    app.inject({ method: 'POST', url: '/auth/login', headers: SAME_ORIGIN, payload: { username: 'alice', password } }).then(remember);

  expect((await login('not-the-password')).statusCode).toBe(401);
  const first = await login('wonderland');
  const rt = first.cookies.find((c) => c.name === COOKIE)!.value;
  const refreshed = await app.inject({ method: 'POST', url: '/auth/refresh', headers: SAME_ORIGIN, cookies: { [COOKIE]: rt } }).then(remember);
  const at = (refreshed.json() as { access_token: string }).access_token;
  const authorization = `Bearer ${at}`;
  expect((await app.inject({ url: '/api/me', headers: { authorization } }).then(remember)).statusCode).toBe(200);
  await app.inject({ method: 'POST', url: '/api/echo', headers: { authorization }, payload: { password: 'wonderland' } });
  await app.inject({ url: '/api/me', headers: { authorization: 'Bearer forged.token.value' } });
  // The old refresh token after rotation: a refusal, which is logged with its reason.
  await app.inject({ method: 'POST', url: '/auth/refresh', headers: { ...SAME_ORIGIN }, cookies: { [COOKIE]: `${rt.slice(0, 42)}x` } });
  const current = refreshed.cookies.find((c) => c.name === COOKIE)!.value;
  // The cookie has Path=/: it reaches the API and the static files too, and is no more logged there.
  expect((await app.inject({ url: '/api/me', cookies: { [COOKIE]: current } })).statusCode).toBe(401);
  await app.inject({ url: '/index.html', cookies: { [COOKIE]: current } });
  await app.inject({ method: 'POST', url: '/auth/logout', headers: SAME_ORIGIN, cookies: { [COOKIE]: current } });
  await app.close();

  const log = lines.join('');
  // The capture worked: every request and the refusal are there.
  for (const url of ['/auth/login', '/auth/refresh', '/api/me', '/api/echo', '/index.html', '/auth/logout']) expect(log).toContain(`"url":"${url}"`);
  expect(log).toContain('refresh refused');
  expect(secrets.length).toBeGreaterThanOrEqual(8);
  for (const secret of secrets) expect(log, `a secret in the logs: ${secret.slice(0, 12)}...`).not.toContain(secret);
});
