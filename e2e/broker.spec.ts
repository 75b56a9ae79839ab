// The whole path in real Chromium: login, token injection, tabs in step,
// refresh coalescing, restart of a stopped worker.
import { apiFetch, captureIssuedTokens, expect, login, openApp, status, stopWorkers, test } from './support/fixtures';

test('login, then API calls carry the token while the page never holds one', async ({ page, server }) => {
  await openApp(page, server);
  expect((await status(page)).authenticated).toBe(false);
  const session = await login(page);
  expect(session).toMatchObject({ authenticated: true, claims: { sub: 'alice' } });
  expect(session.expiresAt).toBeGreaterThan(Date.now());
  const me = await apiFetch(page, '/api/me');
  expect(me.status).toBe(200);
  expect(me.body).toMatchObject({ sub: 'alice' });
});

test('a POST with a JSON body reaches the API intact', async ({ page, server }) => {
  await openApp(page, server);
  await login(page);
  const res = await apiFetch(page, '/api/echo', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ hello: 'world', n: 3 }),
  });
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ sub: 'alice', body: { hello: 'world', n: 3 } });
});

test('bad credentials give invalid_credentials and no session', async ({ page, server }) => {
  await openApp(page, server);
  const err = await page.evaluate(() =>
    window.tokenBroker.login({ username: 'alice', password: 'nope' }).then(
      () => null,
      (e: { code: string }) => e.code,
    ),
  );
  expect(err).toBe('invalid_credentials');
  expect((await status(page)).authenticated).toBe(false);
  expect((await apiFetch(page, '/api/me')).status).toBe(401);
});

test('the token is not readable from page script', async ({ context, page, server }) => {
  const issued = await captureIssuedTokens(context);
  await page.addInitScript(() => {
    const seen: unknown[] = [];
    (window as unknown as { __seen: unknown[] }).__seen = seen;
    navigator.serviceWorker?.addEventListener('message', (e) => seen.push(e.data));
    window.addEventListener('message', (e) => seen.push(e.data));
  });
  await openApp(page, server);
  const replies = [await login(page), await page.evaluate(() => window.tokenBroker.refresh()), await status(page)];
  const api = [await apiFetch(page, '/api/me'), await apiFetch(page, '/api/headers')];
  expect(issued.length).toBe(2);

  const pageView = await page.evaluate(() => ({
    cookie: document.cookie,
    local: JSON.stringify({ ...localStorage }),
    session: JSON.stringify({ ...sessionStorage }),
    seen: JSON.stringify((window as unknown as { __seen: unknown[] }).__seen),
  }));
  const everything = JSON.stringify({ pageView, replies, api });
  expect(pageView.seen).toContain('broker:session');
  for (const token of issued) {
    expect(everything).not.toContain(token);
    // A JWT's signature alone would be enough to recognise a leak of it.
    expect(everything).not.toContain(token.split('.')[2]);
  }
  expect(pageView.cookie).not.toContain('broker_rt');
  expect(api[1]!.body).toMatchObject({ authorized: true, sub: 'alice' });
});

test.describe('with the demo CSP bypassed, so the page may fetch another origin', () => {
  test.use({ bypassCSP: true });

  test('the token never goes to another origin or outside the API prefixes', async ({ page, server }) => {
    const { startServer } = await import('../reference-server/app');
    const other = await startServer({ databasePath: ':memory:', publicDir: 'public' });
    try {
      await openApp(page, server);
      await login(page);
      for (const path of ['/public/ping', '/apix/ping', '/ping-auth']) {
        const res = await apiFetch(page, path);
        expect(res.status, path).toBe(200);
        expect(res.body, path).toEqual({ authorization: false });
      }
      const cross = await apiFetch(page, `${other.url}/cors/ping-auth`);
      expect(cross.status).toBe(200);
      expect(cross.body).toEqual({ authorization: false });
      expect((await apiFetch(page, '/api/me')).status).toBe(200);
    } finally {
      await other.close();
    }
  });
});

test('logout in one tab reaches the other, and the server revokes the refresh token', async ({ context, page, server }) => {
  await openApp(page, server);
  await login(page);
  const second = await context.newPage();
  await openApp(second, server);
  expect((await status(second)).authenticated).toBe(true);
  const events = second.evaluate(
    () => new Promise<string>((resolve) => window.tokenBroker.onSessionChange((e) => resolve(e.reason))),
  );
  const cookie = (await context.cookies()).find((c) => c.name.endsWith('broker_rt'));
  expect(cookie?.httpOnly).toBe(true);
  expect(cookie?.sameSite).toBe('Strict');

  await page.evaluate(() => window.tokenBroker.logout());
  expect(await events).toBe('logout');
  expect((await status(second)).authenticated).toBe(false);
  expect((await apiFetch(second, '/api/me')).status).toBe(401);

  // The logout presented the cookie, and the server revoked its family.
  expect(server.stats.logoutRevoked).toBe(1);
});

test.describe('with a short access token lifetime', () => {
  test.use({ serverOptions: { accessTokenTtl: 4, workerConfig: { refreshBeforeExpiry: 1 } } });

  test('requests after expiry cause exactly one refresh', async ({ page, server }) => {
    await openApp(page, server);
    await login(page);
    expect(server.stats.refresh).toBe(0);
    await page.waitForTimeout(3_200);
    for (let i = 0; i < 5; i++) expect((await apiFetch(page, '/api/me')).status).toBe(200);
    expect(server.stats.refresh).toBe(1);
    expect(server.stats.apiUnauthorized).toBe(0);
  });

  test('100 concurrent requests from 3 tabs with an expired token cause exactly one refresh', async ({ context, page, server }) => {
    await openApp(page, server);
    await login(page);
    const tabs = [page, await context.newPage(), await context.newPage()];
    for (const tab of tabs.slice(1)) await openApp(tab, server);
    await page.waitForTimeout(4_200);
    const counts = [34, 33, 33];
    const results = await Promise.all(
      tabs.map((tab, i) =>
        tab.evaluate(async (n) => {
          const all = await Promise.all(Array.from({ length: n }, () => fetch('/api/me').then((r) => r.status)));
          return all;
        }, counts[i]!),
      ),
    );
    expect(results.flat()).toHaveLength(100);
    expect(results.flat().every((s) => s === 200)).toBe(true);
    expect(server.stats.refresh).toBe(1);
  });
});

test.describe('opt-in persist indexeddb', () => {
  test.use({ serverOptions: { workerConfig: { persist: 'indexeddb' } } });

test('after the browser stops the worker, the next request succeeds without a refresh (persist indexeddb)', async ({ context, page, server }) => {
  await openApp(page, server);
  await login(page);
  expect((await apiFetch(page, '/api/me')).status).toBe(200);
  await stopWorkers(context, page);
  const res = await apiFetch(page, '/api/me');
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ sub: 'alice' });
  expect(server.stats.refresh).toBe(0);
  expect((await status(page)).authenticated).toBe(true);
});
});
