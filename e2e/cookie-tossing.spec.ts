// A page on a sibling subdomain sets a cookie with the refresh cookie's name
// for the parent domain and a longer path, so the browser sends it first.
// Chromium resolves *.localhost to loopback and treats it as secure, so the
// app and the attacker are two subdomains of site.localhost on one server.
import type { Page } from '@playwright/test';
import { expect, login, openApp, test } from './support/fixtures';

// The default cookie over http to a loopback host (local development): no Secure, no prefix.
const COOKIE = 'broker_rt';
const HEADERS = { 'content-type': 'application/json', 'x-token-broker': '1' };

// Bearer tokens: the login CSRF this attack aims at needs a refresh token that works without a key.
test.use({ serverOptions: { dpop: 'optional', dpopNonce: false, workerConfig: { dpop: false } } });

async function tossCookie(attacker: Page, cookie: string): Promise<void> {
  await attacker.evaluate((c) => {
    document.cookie = c;
  }, cookie);
}

test('a sibling subdomain tosses a refresh cookie: the refresh is refused with 400, nothing is rotated, revoked or cleared', async ({
  context,
  page,
  server,
}) => {
  const app = { url: `http://app.site.localhost:${server.port}` };
  // The attacker's own session, which it wants the victim to end up in.
  const bob = await fetch(`${server.url}/auth/login`, { method: 'POST', headers: { ...HEADERS, origin: server.url }, body: JSON.stringify({ username: 'bob', password: 'builder' }) });
  const bobToken = /(?<![\w-])broker_rt=([^;]+)/.exec(bob.headers.get('set-cookie')!)![1]!;

  await openApp(page, app);
  expect((await login(page)).claims).toMatchObject({ sub: 'alice' });
  const ownCookie = async () => (await context.cookies(`${app.url}/auth/refresh`)).find((c) => c.name === COOKIE && c.domain === 'app.site.localhost');
  const aliceCookie = (await ownCookie())!;

  const attacker = await context.newPage();
  await context.route('**/evil', (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>evil</title>' }));
  await attacker.goto(`http://evil.site.localhost:${server.port}/evil`);
  await tossCookie(attacker, `${COOKIE}=${bobToken}; Domain=site.localhost; Path=/auth/refresh`);
  await tossCookie(attacker, 'tossed=1; Domain=site.localhost; Path=/');
  const jar = await context.cookies(`${app.url}/auth/refresh`);
  expect(jar.filter((c) => c.name === COOKIE)).toHaveLength(2);

  const before = { ...server.stats };
  const outcome = await page.evaluate(() =>
    window.tokenBroker.refresh().then(
      (s) => `session of ${String(s.claims.sub)}`,
      (e: { code: string }) => e.code,
    ),
  );
  expect(outcome).not.toBe('session of bob');
  expect(server.stats.refresh).toBe(before.refresh);
  // The browser's own cookie is still there, with the same value: nothing cleared or rotated it.
  expect((await ownCookie())?.value).toBe(aliceCookie.value);
  // No API reflects request cookies to page script.
  const headers = await page.evaluate(() => fetch('/api/headers').then((r) => r.json() as Promise<Record<string, unknown>>));
  expect(headers).not.toHaveProperty('cookie');
  expect(JSON.stringify(headers)).not.toContain('tossed');

  // Neither family was touched: both refresh tokens still rotate.
  for (const token of [aliceCookie.value, bobToken]) {
    const res = await fetch(`${server.url}/auth/refresh`, { method: 'POST', headers: { ...HEADERS, origin: server.url, cookie: `${COOKIE}=${token}` }, body: '{}' });
    expect(res.status).toBe(200);
  }
});
